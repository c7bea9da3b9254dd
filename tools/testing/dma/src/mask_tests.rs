// SPDX-License-Identifier: GPL-2.0

//! Tests of `kernel/dma/dma_mapping/mask.rs`.

use crate::mapping_mask::*;

#[test]
fn bit_mask_matches_genmask() {
    assert_eq!(bit_mask(0), 0);
    assert_eq!(bit_mask(24), 0x00ff_ffff);
    assert_eq!(bit_mask(28), 0x0fff_ffff);
    assert_eq!(bit_mask(32), 0xffff_ffff);
    assert_eq!(bit_mask(64), u64::MAX);
    assert_eq!(bit_mask(65), u64::MAX);
    for bits in 1..64 {
        // GENMASK_ULL(bits - 1, 0): every bit below `bits` set, none above.
        let m = bit_mask(bits);
        assert_eq!(m.count_ones(), bits);
        assert_eq!(m.leading_zeros(), 64 - bits);
    }
}

#[test]
fn min_not_zero_ignores_zero() {
    assert_eq!(min_not_zero(0, 0), 0);
    assert_eq!(min_not_zero(0, 5), 5);
    assert_eq!(min_not_zero(5, 0), 5);
    assert_eq!(min_not_zero(3, 5), 3);
    assert_eq!(min_not_zero(5, 3), 3);
}

#[test]
fn required_mask_covers_max_and_is_smallest() {
    assert_eq!(required_mask(0), 0);
    assert_eq!(required_mask(1), 1);
    assert_eq!(required_mask(0x3fff_ffff), 0x3fff_ffff);
    assert_eq!(required_mask(0x4000_0000), 0x7fff_ffff);
    assert_eq!(required_mask(u64::MAX), u64::MAX);
    // 1 GiB of RAM at 0: the last byte is 0x3fff_ffff, a 30-bit mask.
    assert_eq!(required_mask((1 << 30) - 1), bit_mask(30));
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..10_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let max = x >> (x % 64);
        let m = required_mask(max);
        assert!(max <= m, "{max:#x} not under {m:#x}");
        assert_eq!(m & m.wrapping_add(1), 0, "{m:#x} is not all ones");
        assert!(
            m == 0 || max > m >> 1,
            "{m:#x} is not the smallest for {max:#x}"
        );
    }
}

#[test]
fn range_is_capable_checks_the_last_byte() {
    let m28 = bit_mask(28);
    assert!(range_is_capable(0, 1, m28, 0));
    assert!(range_is_capable(m28, 1, m28, 0));
    assert!(!range_is_capable(m28, 2, m28, 0));
    assert!(range_is_capable(m28 - 4095, 4096, m28, 0));
    assert!(!range_is_capable(m28 - 4094, 4096, m28, 0));
    // The bus limit narrows the mask; zero means no bus limit.
    assert!(!range_is_capable(0x1000_0000, 1, bit_mask(32), m28));
    assert!(range_is_capable(0x1000_0000, 1, bit_mask(32), 0));
    // Empty ranges: reachable where their start is.
    assert!(range_is_capable(m28, 0, m28, 0));
    assert!(!range_is_capable(m28 + 1, 0, m28, 0));
}

#[test]
fn range_is_capable_rejects_wrapping_ranges() {
    // addr + size - 1 wraps to a small value; that range is not reachable.
    assert!(!range_is_capable(u64::MAX - 10, 100, u64::MAX, 0));
    assert!(!range_is_capable(u64::MAX, 2, u64::MAX, 0));
    assert!(range_is_capable(u64::MAX, 1, u64::MAX, 0));
    assert!(range_is_capable(0, u64::MAX, u64::MAX, 0));
}
