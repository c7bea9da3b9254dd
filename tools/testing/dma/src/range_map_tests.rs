// SPDX-License-Identifier: GPL-2.0

//! Tests of `kernel/dma/dma_mapping/range_map.rs`: translation through a
//! device's range map, capability checks, zone choice and page arithmetic.

use crate::mapping_range_map::*;
use crate::rng::{seeds, Rng};

const PAGE_SHIFT: u32 = 12;

/// Two regions as a bus with an offset window and a hole would have them.
fn two_regions() -> [Region; 2] {
    [
        Region {
            cpu_start: 0x1000_0000,
            dma_start: 0x8000_0000,
            size: 0x1000_0000,
        },
        Region {
            cpu_start: 0x4000_0000,
            dma_start: 0x0,
            size: 0x0100_0000,
        },
    ]
}

#[test]
fn translation_inside_regions() {
    let map = two_regions();
    assert_eq!(phys_to_dma(&map, 0x1000_0000), 0x8000_0000);
    assert_eq!(phys_to_dma(&map, 0x1fff_ffff), 0x8fff_ffff);
    assert_eq!(phys_to_dma(&map, 0x4000_1234), 0x1234);
    assert_eq!(dma_to_phys(&map, 0x8000_0010), 0x1000_0010);
    assert_eq!(dma_to_phys(&map, 0x00ff_ffff), 0x40ff_ffff);
}

#[test]
fn translation_outside_regions_fails() {
    let map = two_regions();
    // Just below, between and just past the regions.
    for phys in [0x0fff_ffff, 0x2000_0000, 0x3fff_ffff, 0x4100_0000, u64::MAX] {
        assert_eq!(phys_to_dma(&map, phys), MAPPING_ERROR, "phys {phys:#x}");
    }
    for dma in [0x0100_0000, 0x7fff_ffff, 0x9000_0000] {
        assert_eq!(dma_to_phys(&map, dma), NO_PHYS, "dma {dma:#x}");
    }
    // A failed translation is never capable, whatever the mask.
    assert!(!capable(phys_to_dma(&map, 0x2000_0000), 1, u64::MAX, 0));
    assert_eq!(phys_to_dma(&[], 0x1234), MAPPING_ERROR);
}

#[test]
fn translation_round_trips() {
    let map = two_regions();
    for (seed, _seed) in seeds([7]) {
        let mut rng = Rng::new(seed);
        for _ in 0..10_000 {
            let r = map[rng.below(map.len())];
            let phys = r.cpu_start + rng.next() % r.size;
            let dma = phys_to_dma(&map, phys);
            assert_ne!(dma, MAPPING_ERROR);
            assert_eq!(dma_to_phys(&map, dma), phys);
        }
    }
}

#[test]
fn capable_honours_mask_bus_limit_and_wrap() {
    let m28 = (1u64 << 28) - 1;
    assert!(capable(0, 1, m28, 0));
    assert!(capable(m28, 1, m28, 0));
    assert!(!capable(m28, 2, m28, 0));
    assert!(capable(0x0fff_f000, 0x1000, m28, 0));
    assert!(!capable(0x0fff_f000, 0x1001, m28, 0));
    // The bus limit applies when it is lower; zero means none.
    assert!(!capable(0x0100_0000, 1, m28, 0x00ff_ffff));
    assert!(capable(0x0100_0000, 1, m28, u64::MAX));
    // The failed-mapping address is never capable.
    assert!(!capable(MAPPING_ERROR, 1, u64::MAX, 0));
    assert!(capable(0xffff_f000, 0x1000, u32::MAX as u64, 0));
    assert!(!capable(0xffff_f000, 0x1001, u32::MAX as u64, 0));
    // A range that wraps is refused, though its end is below the limit.
    assert!(!capable(u64::MAX - 1, 4, u64::MAX, 0));
}

#[test]
fn capable_agrees_with_a_wide_model() {
    for (seed, _seed) in seeds([11]) {
        let mut rng = Rng::new(seed);
        for _ in 0..100_000 {
            let mask = u64::MAX >> rng.below(64);
            let bus = if rng.below(2) == 0 {
                0
            } else {
                u64::MAX >> rng.below(64)
            };
            let dma = rng.next() >> rng.below(64);
            let size = 1 + (rng.next() >> (32 + rng.below(32)));
            let limit = match (mask, bus) {
                (m, 0) => m,
                (m, b) => m.min(b),
            };
            let end = dma as u128 + size as u128 - 1;
            let model = dma != MAPPING_ERROR && end <= limit as u128;
            assert_eq!(
                capable(dma, size, mask, bus),
                model,
                "{dma:#x}+{size:#x} mask {mask:#x} bus {bus:#x}"
            );
        }
    }
}

#[test]
fn zones_follow_the_coherent_limit() {
    let zone_dma = (1u64 << 24) - 1;
    assert_eq!(optimal_zone(zone_dma, zone_dma), Zone::Dma);
    assert_eq!(optimal_zone((1 << 28) - 1, zone_dma), Zone::Dma32);
    assert_eq!(optimal_zone(u32::MAX as u64, zone_dma), Zone::Dma32);
    assert_eq!(optimal_zone(u64::MAX, zone_dma), Zone::Normal);

    // Retries go down one zone at a time, then stop.
    assert_eq!(
        fallback_zone(Zone::Normal, u64::MAX - 1, true, true),
        Some(Zone::Dma32)
    );
    assert_eq!(
        fallback_zone(Zone::Dma32, u64::MAX - 1, true, true),
        Some(Zone::Dma)
    );
    assert_eq!(fallback_zone(Zone::Dma, u64::MAX - 1, true, true), None);
    // A full 64-bit limit skips ZONE_DMA32, as C does.
    assert_eq!(
        fallback_zone(Zone::Normal, u64::MAX, true, true),
        Some(Zone::Dma)
    );
    // Kernels without the zones.
    assert_eq!(
        fallback_zone(Zone::Normal, 1 << 40, false, true),
        Some(Zone::Dma)
    );
    assert_eq!(fallback_zone(Zone::Normal, 1 << 40, false, false), None);
}

#[test]
fn order_and_alignment() {
    assert_eq!(order_of(0, PAGE_SHIFT), 0);
    assert_eq!(order_of(1, PAGE_SHIFT), 0);
    assert_eq!(order_of(4096, PAGE_SHIFT), 0);
    assert_eq!(order_of(4097, PAGE_SHIFT), 1);
    assert_eq!(order_of(8192, PAGE_SHIFT), 1);
    assert_eq!(order_of(65536, PAGE_SHIFT), 4);
    assert_eq!(order_of(65537, PAGE_SHIFT), 5);
    for size in 1..(1u64 << 20) {
        if size % 977 != 0 {
            continue;
        }
        let o = order_of(size, PAGE_SHIFT);
        assert!(size <= 4096 << o);
        assert!(o == 0 || size > 4096 << (o - 1));
    }
    assert_eq!(page_align(0, PAGE_SHIFT), 0);
    assert_eq!(page_align(1, PAGE_SHIFT), 4096);
    assert_eq!(page_align(4096, PAGE_SHIFT), 4096);
    assert_eq!(page_align(u64::MAX, PAGE_SHIFT), !4095);
}

#[test]
fn mmap_window_must_fit() {
    assert!(mmap_fits(0, 4, 4));
    assert!(mmap_fits(3, 1, 4));
    assert!(!mmap_fits(3, 2, 4));
    assert!(!mmap_fits(4, 1, 4));
    assert!(!mmap_fits(0, 5, 4));
    // No overflow with huge offsets.
    assert!(!mmap_fits(u64::MAX, 1, 4));
    assert!(!mmap_fits(1, u64::MAX, 4));
}

#[test]
fn ram_coverage_by_pages() {
    let map = two_regions();
    let first = 0x1000_0000 >> PAGE_SHIFT;
    let pages = 0x1000_0000 >> PAGE_SHIFT;
    assert!(pfns_covered(&map, first, first + pages, PAGE_SHIFT));
    assert!(!pfns_covered(&map, first, first + pages + 1, PAGE_SHIFT));
    assert!(!pfns_covered(&map, first - 1, first + 1, PAGE_SHIFT));
    assert!(pfns_covered(&map, 5, 5, PAGE_SHIFT));
    assert!(!pfns_covered(&[], 0, 1, PAGE_SHIFT));
}

#[test]
fn map_sg_errors() {
    for e in [-5, -12, -22, -121] {
        assert!(map_sg_error_is_valid(e));
    }
    for e in [0, 1, -1, -6, -95, i32::MIN] {
        assert!(!map_sg_error_is_valid(e));
    }
}
