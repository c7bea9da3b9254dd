// SPDX-License-Identifier: GPL-2.0

//! DMA mask and address-limit arithmetic.
//!
//! Pure logic that uses only `core`: it is built into the kernel and also
//! compiled and tested on the host (`tools/testing/dma`).

/// The mask of the lowest `bits` address bits, as `DMA_BIT_MASK(bits)`.
///
/// `bits` of 64 or more gives the full 64-bit mask; `0` gives `0`.
pub(crate) const fn bit_mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// The smaller of two limits where `0` means "no limit", as `min_not_zero()`.
pub(crate) const fn min_not_zero(a: u64, b: u64) -> u64 {
    match (a, b) {
        (0, b) => b,
        (a, 0) => a,
        (a, b) if a < b => a,
        (_, b) => b,
    }
}

/// The smallest all-ones mask that covers the DMA address `max_dma`.
///
/// This is the mask a device needs to reach every byte of memory when the
/// highest DMA address of RAM is `max_dma`, as `dma_get_required_mask()`
/// reports it.
pub(crate) const fn required_mask(max_dma: u64) -> u64 {
    match u64::MAX.checked_shr(max_dma.leading_zeros()) {
        Some(mask) => mask,
        None => 0,
    }
}

/// Whether a device whose DMA mask is `mask` and whose bus limit is
/// `bus_limit` (`0`: none) can reach `size` bytes at DMA address `addr`.
///
/// Unlike a plain `addr + size - 1 <= limit` test, a range that wraps past
/// the end of the address space is never reachable. An empty range is
/// reachable when its start is.
pub(crate) const fn range_is_capable(addr: u64, size: u64, mask: u64, bus_limit: u64) -> bool {
    let limit = min_not_zero(mask, bus_limit);
    if size == 0 {
        return addr <= limit;
    }
    match addr.checked_add(size - 1) {
        Some(end) => end <= limit,
        None => false,
    }
}
