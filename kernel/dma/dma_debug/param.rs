// SPDX-License-Identifier: GPL-2.0-only

//! The boot parameters `dma_debug=`, `dma_debug_entries=` and
//! `dma_debug_driver=`: what each value means, and what is wrong with the
//! ones that mean nothing.
//!
//! Pure logic (only `core`), host-tested in `tools/testing/dma`. The kernel
//! side prints each [`Bad`] value with its reason and keeps the default.

/// Why a value of a parameter was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bad {
    /// Not a number, or a number followed by other characters.
    NotANumber,
    /// A number that is not a positive count.
    NotPositive,
    /// More entries than a 32-bit count holds.
    TooLarge,
    /// `dma_debug=` with a value other than `off`.
    UnknownSwitch,
    /// A driver name with characters no driver name has (spaces, control
    /// characters).
    NotAName,
    /// A driver name longer than the filter holds.
    NameTooLong,
}

impl Bad {
    /// The reason, for the message.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Bad::NotANumber => "not a number",
            Bad::NotPositive => "not a positive count",
            Bad::TooLarge => "too large",
            Bad::UnknownSwitch => "only \"off\" is understood",
            Bad::NotAName => "not a driver name",
            Bad::NameTooLong => "longer than a driver name may be here",
        }
    }
}

/// `dma_debug=`: `Ok` for `off` (any value starting so, as C takes it),
/// which switches dma-debug off.
pub(crate) fn parse_switch(s: &[u8]) -> Result<(), Bad> {
    if s.starts_with(b"off") {
        Ok(())
    } else {
        Err(Bad::UnknownSwitch)
    }
}

/// `dma_debug_entries=N`: the number of records to preallocate.
///
/// `N` is decimal, hexadecimal after `0x` or octal after `0`, as C's
/// `get_option()` reads it, and must be the whole value. Unlike C, a value
/// that overflows is refused instead of wrapping to some other count.
pub(crate) fn parse_entries(s: &[u8]) -> Result<u32, Bad> {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let (radix, digits) = match digits {
        [b'0', b'x' | b'X', rest @ ..] => (16, rest),
        [b'0', rest @ ..] if !rest.is_empty() => (8, rest),
        _ => (10, digits),
    };
    if digits.is_empty() {
        return Err(Bad::NotANumber);
    }
    let mut n: u64 = 0;
    let mut overflow = false;
    for &c in digits {
        let d = (c as char).to_digit(radix).ok_or(Bad::NotANumber)?;
        match n
            .checked_mul(u64::from(radix))
            .and_then(|n| n.checked_add(u64::from(d)))
        {
            Some(v) => n = v,
            None => overflow = true,
        }
    }
    if neg || n == 0 {
        return Err(Bad::NotPositive);
    }
    if overflow {
        return Err(Bad::TooLarge);
    }
    u32::try_from(n).map_err(|_| Bad::TooLarge)
}

/// `dma_debug_driver=NAME`: the length of the name to filter on, 0 for no
/// filter. The name must fit `max` bytes (the filter's buffer less its NUL)
/// and be printable ASCII without spaces.
pub(crate) fn parse_driver(s: &[u8], max: usize) -> Result<usize, Bad> {
    if !s.iter().all(u8::is_ascii_graphic) {
        return Err(Bad::NotAName);
    }
    if s.len() > max {
        return Err(Bad::NameTooLong);
    }
    Ok(s.len())
}

/// The number of records to preallocate when `want` were asked for, given
/// the memory the kernel manages: a request above `floor` (the default)
/// gets at most a sixteenth of it. C tries to allocate whatever was asked,
/// and a mistyped count can leave the system without memory.
pub(crate) fn prealloc_cap(want: u32, floor: u32, record_size: usize, ram_bytes: u64) -> u32 {
    let cap = ram_bytes / 16 / record_size.max(1) as u64;
    want.min(u32::try_from(cap).unwrap_or(u32::MAX).max(floor))
}
