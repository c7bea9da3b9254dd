// SPDX-License-Identifier: GPL-2.0-only

//! The size and shape of the default pool: the `swiotlb=` boot parameter,
//! the architecture's adjustment, and how many areas a pool gets.
//!
//! Pure logic (only `core`), host-tested in `tools/testing/dma`.

use super::slots::{
    SEGSIZE,
    SHIFT,
    SLOT_SIZE, //
};

/// Slots of the default pool when nobody asks otherwise: 64 MiB.
pub(crate) const DEFAULT_NSLABS: usize = (64 << 20) >> SHIFT;

/// What the boot parameter and the architecture asked of the default pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Params {
    /// Slots, a whole number of segments.
    pub(crate) nslabs: usize,
    /// Areas (one lock each), a power of two; 0 until someone chooses.
    pub(crate) nareas: u32,
    /// `swiotlb=force`: every streaming mapping bounces.
    pub(crate) force_bounce: bool,
    /// `swiotlb=noforce`: no pool at all.
    pub(crate) force_disable: bool,
}

/// What parsing the boot parameter found, for the messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    /// The number of areas it set, after rounding.
    pub(crate) nareas: Option<u32>,
    /// The pool's size was rounded up to fit the areas.
    pub(crate) rounded: bool,
    /// Part of the value was not understood and ignored (its offset).
    pub(crate) ignored_at: Option<usize>,
}

impl Params {
    /// The defaults.
    pub(crate) const fn new() -> Self {
        Params {
            nslabs: DEFAULT_NSLABS,
            nareas: 0,
            force_bounce: false,
            force_disable: false,
        }
    }

    /// Applies `swiotlb=[nslabs][,nareas][,force|noforce]`.
    ///
    /// `nslabs` is rounded up to a segment and `nareas` to a power of two;
    /// numbers take C's prefixes (`0x`, `0`). What is not understood is
    /// ignored, and reported in [`Parsed::ignored_at`]; a count of 0 slots
    /// is not understood.
    pub(crate) fn parse(&mut self, s: &[u8]) -> Parsed {
        let mut out = Parsed::default();
        let mut pos = 0;
        if let Some((n, len)) = number(s) {
            match align_up(n, SEGSIZE as u64) {
                Some(n) if n > 0 && n <= usize::MAX as u64 >> SHIFT => self.nslabs = n as usize,
                _ => out.ignored_at = Some(0),
            }
            pos = len;
        }
        if s.get(pos) == Some(&b',') {
            pos += 1;
        }
        if let Some((n, len)) = number(&s[pos..]) {
            match u32::try_from(n) {
                Ok(n) if n <= 1 << 16 => {
                    out.rounded = self.set_nareas(n);
                    out.nareas = Some(self.nareas);
                }
                _ => out.ignored_at = out.ignored_at.or(Some(pos)),
            }
            pos += len;
        }
        if s.get(pos) == Some(&b',') {
            pos += 1;
        }
        match &s[pos..] {
            b"force" => self.force_bounce = true,
            b"noforce" => self.force_disable = true,
            b"" => {}
            _ => out.ignored_at = out.ignored_at.or(Some(pos)),
        }
        out
    }

    /// Sets the number of areas (0 counts as 1, others round up to a power
    /// of two), and grows the pool to hold a segment per area. Returns
    /// whether the pool's size was rounded.
    pub(crate) fn set_nareas(&mut self, nareas: u32) -> bool {
        self.nareas = nareas.max(1).next_power_of_two();
        self.round_up_nslabs()
    }

    /// With several areas, the pool is a power of two of slots, at least a
    /// segment per area, so that every area is a whole number of segments.
    fn round_up_nslabs(&mut self) -> bool {
        if self.nareas == 0 {
            return false;
        }
        let min = SEGSIZE * self.nareas as usize;
        if self.nslabs >= min && self.nslabs.is_power_of_two() {
            return false;
        }
        self.nslabs = self.nslabs.max(min).next_power_of_two();
        true
    }

    /// `swiotlb_adjust_size()`: the architecture asks for `size` bytes,
    /// which counts only while the boot parameter left the default size.
    /// Returns the new size in bytes, or `None` when it did not apply.
    pub(crate) fn adjust_size(&mut self, size: u64) -> Option<u64> {
        if self.nslabs != DEFAULT_NSLABS {
            return None;
        }
        let slots = align_up(size, SLOT_SIZE)? >> SHIFT;
        self.nslabs = align_up(slots, SEGSIZE as u64)? as usize;
        self.round_up_nslabs();
        Some((self.nslabs as u64) << SHIFT)
    }

    /// The size of the default pool in bytes (`swiotlb_size_or_default()`).
    pub(crate) fn bytes(&self) -> u64 {
        (self.nslabs as u64) << SHIFT
    }
}

impl Default for Params {
    fn default() -> Self {
        Self::new()
    }
}

/// The areas a pool of `nslabs` slots gets when `nareas` are asked for: at
/// most `nareas`, a power of two, and few enough that each area is a whole
/// number of segments (C's areas may split a segment; these never do).
pub(crate) fn areas_for(nareas: u32, nslabs: usize) -> u32 {
    let mut n = nareas.max(1).next_power_of_two();
    while n > 1 && !nslabs.is_multiple_of(n as usize * SEGSIZE) {
        n /= 2;
    }
    n
}

fn align_up(v: u64, a: u64) -> Option<u64> {
    Some(v.checked_add(a - 1)? & !(a - 1))
}

/// A number at the start of `s` in C's notation (`simple_strtoul` with base
/// 0), and the bytes it took; `None` unless `s` starts with a digit.
fn number(s: &[u8]) -> Option<(u64, usize)> {
    if !s.first()?.is_ascii_digit() {
        return None;
    }
    let (base, skip) = match s {
        [b'0', b'x' | b'X', d, ..] if d.is_ascii_hexdigit() => (16, 2),
        [b'0', ..] => (8, 0),
        _ => (10, 0),
    };
    let mut v: u64 = 0;
    let mut i = skip;
    while let Some(d) = s.get(i).and_then(|c| (*c as char).to_digit(base)) {
        v = v
            .saturating_mul(u64::from(base))
            .saturating_add(u64::from(d));
        i += 1;
    }
    Some((v, i))
}
