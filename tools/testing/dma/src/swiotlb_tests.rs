// SPDX-License-Identifier: GPL-2.0

//! Tests of swiotlb's slot allocator (`kernel/dma/swiotlb/slots.rs`): unit
//! tests of its rules, and a property test against a flat model.

use crate::rng::{seeds, Rng};
use crate::swiotlb_slots::{
    nr_slots,
    Area,
    Constraints,
    Counters,
    Cursor,
    Layout,
    Slot,
    Span,
    SEGSIZE,
    SHIFT,
    SLOT_SIZE, //
};

const PAGE: u64 = 4096;

/// An area's arrays, owned.
struct Arrays {
    slots: Vec<Slot>,
    free: Vec<u64>,
    longest: Vec<u8>,
    cur: Cursor,
}

fn slots(n: usize) -> Vec<Slot> {
    (0..n).map(|_| Slot::new()).collect()
}

impl Arrays {
    fn new(nslabs: usize) -> Self {
        let (s, f, l) = Area::array_sizes(nslabs);
        Arrays {
            slots: slots(s),
            free: vec![0; f],
            longest: vec![0; l],
            cur: Cursor::new(),
        }
    }

    fn area(&mut self, dma_start: u64) -> Area<'_> {
        Area::new(
            &self.slots,
            &mut self.free,
            &mut self.longest,
            dma_start,
            &mut self.cur,
        )
        .unwrap()
    }
}

fn plain() -> Constraints {
    Constraints {
        min_align_mask: 0,
        alloc_align_mask: 0,
        boundary_mask: u64::MAX,
        page_size: PAGE,
    }
}

#[test]
fn area_size_rules() {
    let (s, mut f, mut l, mut c) = (slots(100), vec![0; 2], vec![0; 1], Cursor::new());
    assert!(Area::new(&s, &mut f, &mut l, 0, &mut c).is_err());
    let mut a = Arrays::new(256);
    let area = a.area(0);
    assert_eq!(area.nslabs(), 256);
    assert_eq!(area.longest_free_run(), SEGSIZE);
}

#[test]
fn layout_keeps_min_align_bits() {
    // NVMe's 4 KiB min_align_mask on a streaming map: the bits below a
    // slot are an offset into the first slot; bit 11 is kept by the choice
    // of slot, not by padding.
    let c = Constraints {
        min_align_mask: 0xfff,
        ..plain()
    };
    let l = Layout::new(0x1_0000_1a00, 100, &c).unwrap();
    assert_eq!((l.pad_slots, l.offset, l.size), (0, 0x200, 100 + 0x200));
    // dma-iommu's 4 KiB granule as alloc_align_mask: the allocation is a
    // granule, and the data sits behind one padding slot.
    let c = Constraints {
        min_align_mask: 0xfff,
        alloc_align_mask: 0xfff,
        ..plain()
    };
    let l = Layout::new(0x1_0000_1a00, 100, &c).unwrap();
    assert_eq!((l.pad_slots, l.offset, l.size), (1, 0x200, 0x1000));
    // Without a min_align_mask nothing is kept.
    let l = Layout::new(0x1_0000_1a00, 100, &plain()).unwrap();
    assert_eq!((l.pad_slots, l.offset, l.size), (0, 0, 100));
    // An alloc_align_mask rounds the size up and bounds the kept bits.
    let c = Constraints {
        min_align_mask: 0xfff,
        alloc_align_mask: 0x7ff,
        ..plain()
    };
    let l = Layout::new(0x1a00, 100, &c).unwrap();
    assert_eq!((l.pad_slots, l.offset, l.size), (0, 0x200, 0x800));
}

#[test]
fn map_keeps_offset_and_unmap_frees_padding() {
    let mut a = Arrays::new(256);
    let mut area = a.area(0x8000_0000);
    let c = Constraints {
        min_align_mask: 0xfff,
        ..plain()
    };
    let orig = 0x1234_5a10;
    let (first, off) = area.map(orig, 3000, &c).unwrap();
    let dma = 0x8000_0000 + ((first as u64) << SHIFT) + off;
    assert_eq!(dma & 0xfff, orig & 0xfff);
    // The bits below a slot are an offset into the first slot.
    let taken = nr_slots(3000 + (orig & (SLOT_SIZE - 1)));
    assert_eq!(area.used(), taken);
    assert_eq!(area.slot(first).orig_addr(), orig);
    assert_eq!(area.unmap(first, off), taken);
    assert_eq!(area.used(), 0);
    assert!((0..256).all(|i| area.is_free(i) && area.slot(i).is_clear()));
    assert_eq!(area.longest_free_run(), SEGSIZE);
}

#[test]
fn page_sized_maps_are_page_aligned() {
    let mut a = Arrays::new(256);
    let mut area = a.area(0);
    // Take one slot so that the next free one is not page aligned.
    let (one, _) = area.map(0x100, 100, &plain()).unwrap();
    assert_eq!(one, 0);
    let (first, off) = area.map(0x3000, PAGE, &plain()).unwrap();
    assert_eq!(((first as u64) << SHIFT) % PAGE, 0);
    assert_eq!(off, 0);
    // Below a page any slot will do; next fit goes on after the last one.
    let (next, _) = area.map(0x200, 100, &plain()).unwrap();
    assert_eq!(next, first + 2);
}

#[test]
fn boundary_is_never_crossed() {
    let mut a = Arrays::new(128);
    let mut area = a.area(0);
    let c = Constraints {
        boundary_mask: 0x3fff, // 16 KiB: 8 slots
        ..plain()
    };
    let (x, _) = area.map(0, 3 * SLOT_SIZE, &c).unwrap();
    assert_eq!(x, 0);
    // Five more slots would cross the 8-slot boundary from slot 3.
    let (y, _) = area.map(0, 6 * SLOT_SIZE, &c).unwrap();
    assert_eq!(y, 8);
}

#[test]
fn full_area_fails_and_recovers() {
    let mut a = Arrays::new(256);
    let mut area = a.area(0);
    let mut maps = vec![];
    while let Some(m) = area.map(0, 1000, &plain()) {
        maps.push(m);
        assert!(maps.len() <= 256, "more slots handed out than the area has");
    }
    assert_eq!(maps.len(), 256);
    assert_eq!(area.longest_free_run(), 0);
    let (i, o) = maps.swap_remove(77);
    assert_eq!(area.unmap(i, o), 1);
    assert!(area.map(0, 2 * SLOT_SIZE, &plain()).is_none());
    assert!(area.map(0, 1000, &plain()).is_some());
    assert!(area.map(0, 1000, &plain()).is_none());
    for (i, o) in maps {
        assert_eq!(area.unmap(i, o), 1);
    }
    assert!(area.map(0, SEGSIZE as u64 * SLOT_SIZE, &plain()).is_some());
}

#[test]
fn reserved_tail_is_never_handed_out() {
    // A transient pool of 5 slots: one segment of bookkeeping, 123 slots
    // past its memory.
    let mut a = Arrays::new(128);
    let mut area = a.area(0);
    area.reserve_tail(5);
    assert_eq!((area.used(), area.longest_free_run()), (123, 5));
    assert!(area.map(0, 6 * SLOT_SIZE, &plain()).is_none());
    let (i, o) = area.map(0, 5 * SLOT_SIZE, &plain()).unwrap();
    assert_eq!((i, area.used(), area.longest_free_run()), (0, 128, 0));
    assert!(area.map(0, 100, &plain()).is_none());
    assert_eq!(area.unmap(5, 0), 0, "a reserved slot is no mapping's start");
    assert_eq!(area.unmap(i, o), 5);
    let mut maps = vec![];
    while let Some((i, _)) = area.map(0, 100, &plain()) {
        assert!(i < 5, "slot {i} is past the pool's memory");
        maps.push(i);
    }
    assert_eq!(maps.len(), 5);
}

#[test]
fn bogus_unmaps_free_nothing() {
    let mut a = Arrays::new(128);
    let mut area = a.area(0);
    assert_eq!(area.unmap(5, 0), 0);
    assert_eq!(area.unmap(500, 0), 0);
    let (i, o) = area.map(0x40, 100, &plain()).unwrap();
    assert_eq!(area.unmap(i, o), 1);
    assert_eq!(area.unmap(i, o), 0, "a double unmap frees nothing");
    // A mapping of three slots whose data starts 0x3c into its slot.
    let c = Constraints {
        min_align_mask: 0xfff,
        ..plain()
    };
    let (i, o) = area.map(0x3c, 3 * SLOT_SIZE, &c).unwrap();
    assert_eq!((o, area.used()), (0x3c, 4));
    assert_eq!(
        area.unmap(i + 1, o),
        0,
        "a later data slot is no mapping's start"
    );
    assert_eq!(
        area.unmap(i, o + 0x10),
        0,
        "nor is another offset in its slot"
    );
    assert_eq!(area.unmap(i, 0), 0);
    assert_eq!(area.used(), 4);
    assert_eq!(area.unmap(i, o), 4);
    assert_eq!(area.used(), 0);
}

#[test]
fn huge_sizes_fail() {
    let mut a = Arrays::new(128);
    let mut area = a.area(0);
    let c = Constraints {
        min_align_mask: 0xfff,
        alloc_align_mask: 0xfff,
        ..plain()
    };
    assert!(Layout::new(0xfff, u64::MAX, &c).is_none());
    assert!(area.map(0xfff, u64::MAX, &c).is_none());
    assert!(area.map(0, u64::MAX - 10, &plain()).is_none());
}

#[test]
fn counters_track_hiwater() {
    let c = Counters::new();
    c.take(5);
    c.take(3);
    c.give(6);
    assert_eq!((c.used(), c.hiwater()), (2, 8));
    c.reset_hiwater();
    assert_eq!(c.hiwater(), 0);
    c.take(1);
    assert_eq!((c.used(), c.hiwater()), (3, 3));
}

/// One live mapping in the model.
struct Live {
    orig: u64,
    size: u64,
    first: usize,
    off: u64,

    /// The slots the model says it holds.
    slots: std::ops::Range<usize>,
}

/// Random maps and unmaps against a flat model: a bool per slot.
fn run_model(seed: u64, ops: usize) {
    let mut rng = Rng::new(seed);
    let nslabs = SEGSIZE * (1 + rng.below(4));
    let dma_start = 0x4000_0000 + ((rng.below(64) as u64) << SHIFT);
    let mut a = Arrays::new(nslabs);
    let mut area = a.area(dma_start);
    let mut used = vec![false; nslabs];
    let mut live: Vec<Live> = vec![];
    let counters = Counters::new();
    let mut max_used = 0;
    for op in 0..ops {
        if live.is_empty() || rng.below(3) != 0 {
            let c = Constraints {
                min_align_mask: [0, 0xfff, 0x7ff, 0x3][rng.below(4)],
                alloc_align_mask: [0, 0, 0xfff, 0x7ff, 0x3fff][rng.below(5)],
                boundary_mask: [u64::MAX, 0xffff, 0x3fff][rng.below(3)],
                page_size: PAGE,
            };
            let orig = rng.next() & 0xffff_ffff;
            let scale = [64, 4096, 20000, 100_000][rng.below(4)];
            let size = 1 + rng.below(scale) as u64;
            let layout = Layout::new(orig, size, &c).unwrap();
            let got = area.map(orig, size, &c);
            let Some((first, off)) = got else {
                // A failure is right only if the model has no room either.
                assert!(
                    !model_fits(&used, dma_start, orig, &layout, &c),
                    "seed {seed} op {op}: map failed with room"
                );
                continue;
            };
            let start = first - layout.pad_slots;
            let n = layout.nslots();
            let dma = dma_start + ((first as u64) << SHIFT) + off;
            let first_dma = dma_start + ((start as u64) << SHIFT);
            // The offset rule: the data keeps the min_align bits.
            assert_eq!(
                dma & c.min_align_mask,
                orig & c.min_align_mask,
                "seed {seed} op {op}"
            );
            // The allocation's alignment, and a page for unaligned big ones.
            assert_eq!(first_dma & c.alloc_align_mask, 0, "seed {seed} op {op}");
            if c.alloc_align_mask == 0 && c.min_align_mask == 0 && layout.size >= PAGE {
                assert_eq!(first_dma % PAGE, 0, "seed {seed} op {op}");
            }
            // Within a segment and the device's boundary.
            assert!(start % SEGSIZE + n <= SEGSIZE);
            let last_dma = first_dma + (n as u64) * SLOT_SIZE - 1;
            if let Some(unit) = c.boundary_mask.checked_add(1) {
                assert_eq!(
                    first_dma / unit,
                    last_dma / unit,
                    "seed {seed} op {op}: crosses the boundary"
                );
            }
            // Never handed out twice.
            for (s, u) in used.iter_mut().enumerate().skip(start).take(n) {
                assert!(!*u, "seed {seed} op {op}: slot {s} handed out twice");
                *u = true;
            }
            counters.take(n);
            max_used = max_used.max(counters.used());
            live.push(Live {
                orig,
                size,
                first,
                off,
                slots: start..start + n,
            });
        } else if rng.below(2) == 0 {
            // A partial sync anywhere in a live mapping, perhaps too long.
            // It starts inside the mapping: one that starts at its end
            // lies in the next slot when the end is on a slot boundary,
            // and a slot cannot tell that from a sync of its own mapping
            // (nor can C's).
            let m = &live[rng.below(live.len())];
            let k = rng.below(m.size as usize) as u64;
            let len = rng.below(m.size as usize + 64) as u64;
            let at = m.off + k;
            let tlb = ((m.first as u64) << SHIFT) + at;
            let slot = area.slot(m.first + (at >> SHIFT) as usize);
            let sp = Span::new(slot, tlb, len).unwrap();
            let left = m.size - k;
            assert_eq!(sp.orig, m.orig + k, "seed {seed} op {op}");
            assert_eq!(sp.size, len.min(left), "seed {seed} op {op}");
            assert_eq!(sp.clamped, len > left, "seed {seed} op {op}");
        } else {
            let m = live.swap_remove(rng.below(live.len()));
            assert_eq!(area.slot(m.first).orig_addr(), m.orig);
            // Unmaps from anywhere but the data's start free nothing.
            if m.slots.contains(&(m.first + 1)) {
                assert_eq!(area.unmap(m.first + 1, m.off), 0, "seed {seed} op {op}");
            }
            assert_eq!(
                area.unmap(m.first, (m.off + 1) % SLOT_SIZE),
                0,
                "seed {seed} op {op}"
            );
            let freed = area.unmap(m.first, m.off);
            // Every slot is freed, padding slots included.
            assert_eq!(freed, m.slots.len(), "seed {seed} op {op}: size {}", m.size);
            for s in m.slots {
                used[s] = false;
            }
            counters.give(freed);
        }
        // The area agrees with the model, slot by slot, and counts right.
        for (s, &u) in used.iter().enumerate() {
            assert_eq!(area.is_free(s), !u, "seed {seed} op {op}: slot {s}");
        }
        assert_eq!(area.used(), used.iter().filter(|&&u| u).count());
        assert_eq!(counters.used(), area.used());
        assert_eq!(counters.hiwater(), max_used);
    }
}

/// Whether the model has room for a layout under the constraints: any
/// start that a correct allocator could have chosen.
fn model_fits(used: &[bool], dma_start: u64, orig: u64, l: &Layout, c: &Constraints) -> bool {
    let n = l.nslots();
    if n == 0 || n > SEGSIZE {
        return false;
    }
    let mut align = c.alloc_align_mask;
    let mut keep = c.min_align_mask;
    if align == 0 && keep == 0 && l.size >= PAGE {
        align = PAGE - 1;
    }
    align |= SLOT_SIZE - 1;
    keep &= !align;
    let unit = c.boundary_mask.wrapping_add(1);
    (0..used.len()).any(|s| {
        let addr = dma_start + ((s as u64) << SHIFT);
        addr & align == 0
            && (orig == 0 || addr & keep == orig & keep)
            && s % SEGSIZE + n <= SEGSIZE
            && (unit == 0 || addr / unit == (addr + (n as u64) * SLOT_SIZE - 1) / unit)
            && used[s..s + n].iter().all(|&u| !u)
    })
}

#[test]
fn property_random_maps_and_unmaps() {
    for (seed, _seed) in seeds(1..=300) {
        run_model(seed, 400);
    }
}

#[test]
fn area_state_survives_reattach() {
    let mut a = Arrays::new(256);
    let (i, o) = a.area(0).map(0x40, 5000, &plain()).unwrap();
    let Arrays {
        slots,
        free,
        longest,
        cur,
    } = &mut a;
    {
        let mut area = Area::attach(slots, free, longest, 0, cur).unwrap();
        assert_eq!(area.used(), 3);
        assert_eq!(area.unmap(i, o), 3);
    }
    // Arrays of the wrong sizes, or a cursor outside the area, are refused.
    assert!(Area::attach(&slots[..128], free, longest, 0, &mut Cursor::new()).is_err());
    let mut a2 = Arrays::new(128);
    let _ = a2.area(0).map(0, 127 * SLOT_SIZE, &plain()).unwrap();
    assert!(Area::attach(slots, free, longest, 0, &mut a2.cur).is_ok());
}

#[test]
fn spans_keep_offsets_and_clamp() {
    let mut a = Arrays::new(128);
    let mut area = a.area(0);
    let c = Constraints {
        min_align_mask: 0xfff,
        ..plain()
    };
    // 2040 bytes whose data starts 0x3c into its first slot: 52 bytes of
    // them lie in the second slot.
    let orig = 0x10_003c;
    let (first, off) = area.map(orig, 2040, &c).unwrap();
    assert_eq!(off, 0x3c);
    let tlb = ((first as u64) << SHIFT) + off;
    let s0 = area.slot(first);
    // The whole mapping, from its start.
    let sp = Span::new(s0, tlb, 2040).unwrap();
    assert_eq!((sp.orig, sp.size, sp.clamped), (orig, 2040, false));
    // One byte too many is cut, and said so.
    let sp = Span::new(s0, tlb, 2041).unwrap();
    assert_eq!((sp.size, sp.clamped), (2040, true));
    // A sync from the start of the second slot: before the data's offset
    // in it, so the distance is negative; 52 bytes are left.
    let s1 = area.slot(first + 1);
    let at = (first as u64 + 1) << SHIFT;
    let sp = Span::new(s1, at, 52).unwrap();
    assert_eq!(
        (sp.orig, sp.size, sp.clamped),
        (orig + 2048 - 0x3c, 52, false)
    );
    let sp = Span::new(s1, at, 53).unwrap();
    assert_eq!((sp.size, sp.clamped), (52, true));
    // Past the end: nothing is copied.
    let sp = Span::new(s1, at + 60, 8).unwrap();
    assert_eq!((sp.size, sp.clamped), (0, true));
    // Before the data in its first slot: outside the mapping, nothing.
    let sp = Span::new(s0, tlb - 4, 8).unwrap();
    assert_eq!((sp.size, sp.clamped), (0, true));
    // A free slot bounces nothing.
    assert!(Span::new(area.slot(first + 5), 0, 8).is_none());
}

mod param {
    use crate::swiotlb_param::{
        areas_for,
        Params,
        Parsed,
        DEFAULT_NSLABS, //
    };

    fn parse(s: &str) -> (Params, Parsed) {
        let mut p = Params::new();
        let r = p.parse(s.as_bytes());
        (p, r)
    }

    #[test]
    fn boot_parameter_forms() {
        // A size alone, rounded up to a segment.
        let (p, r) = parse("1000");
        assert_eq!((p.nslabs, p.nareas, r), (1024, 0, Parsed::default()));
        // Size, areas and force, as the boot line has it.
        let (p, r) = parse("2048,4,force");
        assert_eq!((p.nslabs, p.nareas, p.force_bounce), (2048, 4, true));
        assert_eq!((r.nareas, r.rounded, r.ignored_at), (Some(4), false, None));
        // Areas round up to a power of two, and the pool grows to a
        // power of two with a segment per area.
        let (p, r) = parse("1000,3");
        assert_eq!((p.nslabs, p.nareas, r.rounded), (1024, 4, false));
        let (p, r) = parse("384,4");
        assert_eq!((p.nslabs, p.nareas, r.rounded), (512, 4, true));
        let (p, _) = parse("128,8");
        assert_eq!(p.nslabs, 1024);
        // Only the flag, only the areas, C's number prefixes.
        let (p, _) = parse("noforce");
        assert!(p.force_disable && !p.force_bounce && p.nslabs == DEFAULT_NSLABS);
        let (p, _) = parse(",2");
        assert_eq!((p.nslabs, p.nareas), (DEFAULT_NSLABS, 2));
        let (p, _) = parse("0x100,0");
        assert_eq!((p.nslabs, p.nareas), (256, 1));
    }

    #[test]
    fn bad_values_keep_the_defaults() {
        for (s, at) in [
            ("bogus", 0),
            ("0", 0),
            ("512,force,x", 4),
            ("512,2,forced", 6),
        ] {
            let (p, r) = parse(s);
            assert_eq!(r.ignored_at, Some(at), "{s}");
            assert!(!p.force_bounce && !p.force_disable, "{s}");
        }
        let (p, _) = parse("0");
        assert_eq!(p.nslabs, DEFAULT_NSLABS);
        let (p, _) = parse("99999999999999999999999");
        assert_eq!(p.nslabs, DEFAULT_NSLABS);
    }

    #[test]
    fn architecture_adjusts_only_the_default() {
        let mut p = Params::new();
        assert_eq!(p.adjust_size(200 << 20), Some(200 << 20));
        assert_eq!(p.nslabs, (200 << 20) >> 11);
        let (mut p, _) = parse("4096");
        assert_eq!(p.adjust_size(200 << 20), None);
        assert_eq!(p.nslabs, 4096);
        // With areas set, the adjusted size is a power of two.
        let mut p = Params::new();
        p.set_nareas(4);
        assert_eq!(p.adjust_size(100 << 20), Some(128 << 20));
    }

    #[test]
    fn areas_are_whole_segments() {
        assert_eq!(areas_for(4, 32768), 4);
        assert_eq!(areas_for(3, 32768), 4);
        assert_eq!(areas_for(0, 32768), 1);
        // 3 segments split into no more than one area each way.
        assert_eq!(areas_for(2, 384), 1);
        assert_eq!(areas_for(8, 512), 4);
        for n in [1u32, 2, 4, 8, 64] {
            for segs in 1..70usize {
                let a = areas_for(n, segs * 128) as usize;
                assert!(a.is_power_of_two() && a <= n as usize);
                assert_eq!((segs * 128) % (a * 128), 0);
            }
        }
    }
}

mod holders {
    use crate::swiotlb_holders::{
        Holders,
        ENTRIES, //
    };
    use std::sync::Arc;

    fn lines(h: &Holders) -> Vec<(String, usize)> {
        let mut v = vec![];
        h.for_each(|name, slots| v.push((String::from_utf8(name.to_vec()).unwrap(), slots)));
        v.sort();
        v
    }

    #[test]
    fn counts_per_device() {
        let h = Holders::new();
        h.take(0x1000, 3, || b"0000:00:01.0");
        h.take(0x2000, 128, || b"nvme0");
        h.take(0x1000, 2, || panic!("the name is taken only from 0"));
        assert_eq!(
            lines(&h),
            [("0000:00:01.0".into(), 5), ("nvme0".into(), 128)]
        );
        assert!(h.give(0x1000, 5));
        assert!(!h.give(0x1000, 1), "more than the device holds");
        assert!(!h.give(0x3000, 1), "a device that holds nothing");
        assert_eq!(lines(&h), [("nvme0".into(), 128)]);
        let top = h.top::<2>();
        assert_eq!(top[0].1, 128);
        assert_eq!(&top[0].0[..5], b"nvme0");
        assert_eq!(top[1].1, 0);
        // A long name is cut, and a new holder of an old entry renames it.
        h.take(0x1000, 1, || b"a-very-long-device-name-of-forty-bytes!!");
        let l = lines(&h);
        assert!(l
            .iter()
            .any(|(n, s)| n == "a-very-long-device-name-of-fort" && *s == 1));
    }

    #[test]
    fn full_table_counts_others() {
        let h = Holders::new();
        for d in 1..=ENTRIES + 3 {
            h.take(d << 8, 1, || b"dev");
        }
        let l = lines(&h);
        assert_eq!(l.iter().map(|(_, s)| s).sum::<usize>(), ENTRIES + 3);
        assert!(l.contains(&("others".into(), 3)));
        for d in 1..=ENTRIES + 3 {
            assert!(h.give(d << 8, 1));
        }
        assert!(lines(&h).is_empty());
    }

    #[test]
    fn concurrent_takes_and_gives_balance() {
        let h = Arc::new(Holders::new());
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let h = Arc::clone(&h);
                std::thread::spawn(move || {
                    for i in 0..20_000usize {
                        let key = ((i * 7 + t) % 80 + 1) << 6;
                        h.take(key, 1 + i % 3, || b"d");
                        assert!(h.give(key, 1 + i % 3));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(lines(&h).is_empty());
    }
}
