// SPDX-License-Identifier: GPL-2.0

//! Tests of `kernel/dma/dma_debug/entry.rs`: a tracker built the way the
//! kernel's is (hash buckets, best-fit lookup, containing search across
//! buckets, the verdict functions) must reach the same verdicts as a flat
//! model of the DMA API's rules, on random sequences of maps, syncs and
//! unmaps, right and wrong.

use crate::debug_entry::*;
use crate::rng::{seeds, Rng};

/// What the tracker or the model says about one call.
#[derive(Debug, PartialEq, Eq, Clone)]
enum Verdict {
    Ok,
    NotMapped,
    InvalidAddress,
    Unmap(Vec<UnmapFault>),
    Sync(Vec<SyncFault>),
}

/// The tracker as the kernel builds it, over the pure module.
struct Tracker {
    buckets: Vec<Vec<Record>>,
}

impl Tracker {
    fn new() -> Self {
        Tracker {
            buckets: vec![Vec::new(); HASH_SIZE],
        }
    }

    fn map(&mut self, r: Record) {
        self.buckets[bucket_of(r.dev_addr)].push(r);
    }

    fn unmap(&mut self, r: &Record) -> Verdict {
        let b = &mut self.buckets[bucket_of(r.dev_addr)];
        let Some(i) = best_fit(r, b.iter().enumerate(), exact_match) else {
            return if r.dev_addr == u64::MAX {
                Verdict::InvalidAddress
            } else {
                Verdict::NotMapped
            };
        };
        let e = b.remove(i);
        let mut out = [UnmapFault::Size; 7];
        let n = unmap_faults(r, &e, &mut out);
        if n == 0 {
            Verdict::Ok
        } else {
            Verdict::Unmap(out[..n].to_vec())
        }
    }

    fn sync(&self, r: &Record, to_cpu: bool) -> Verdict {
        let start = bucket_of(r.dev_addr);
        for i in 0..contain_search_len(r.dev_addr) {
            let b = &self.buckets[(start + HASH_SIZE - i) % HASH_SIZE];
            if let Some(j) = best_fit(r, b.iter().enumerate(), containing_match) {
                let mut out = [SyncFault::OutOfRange; 5];
                let n = sync_faults(r, &b[j], to_cpu, &mut out);
                return if n == 0 {
                    Verdict::Ok
                } else {
                    Verdict::Sync(out[..n].to_vec())
                };
            }
        }
        Verdict::NotMapped
    }

    fn live(&self) -> usize {
        self.buckets.iter().map(Vec::len).sum()
    }
}

/// The DMA API's rules over a flat list, written plainly.
struct Model {
    live: Vec<Record>,
}

impl Model {
    fn unmap(&mut self, r: &Record) -> Verdict {
        let same: Vec<usize> = (0..self.live.len())
            .filter(|&i| self.live[i].dev == r.dev && self.live[i].dev_addr == r.dev_addr)
            .collect();
        let perfect = same.iter().copied().find(|&i| {
            let e = &self.live[i];
            e.size == r.size
                && e.kind == r.kind
                && e.dir == r.dir
                && e.sg_call_ents == r.sg_call_ents
        });
        let pick = perfect.or(if same.len() == 1 { Some(same[0]) } else { None });
        let Some(i) = pick else {
            return if r.dev_addr == u64::MAX {
                Verdict::InvalidAddress
            } else {
                Verdict::NotMapped
            };
        };
        let e = self.live.remove(i);
        let mut f = Vec::new();
        if e.size != r.size {
            f.push(UnmapFault::Size);
        }
        if e.kind != r.kind {
            f.push(UnmapFault::Function);
        } else if (e.kind == Kind::Coherent || e.kind == Kind::Noncoherent) && e.paddr != r.paddr {
            f.push(UnmapFault::CpuAddress);
        }
        if r.kind == Kind::Sg && r.sg_call_ents != 0 && r.sg_call_ents != e.sg_call_ents {
            f.push(UnmapFault::SgCount);
        }
        if e.dir != r.dir {
            f.push(UnmapFault::Direction);
        }
        if e.map_err == MapErr::NotChecked {
            f.push(UnmapFault::NotChecked);
        }
        if (e.attrs ^ r.attrs) & ATTRS_UNMAP_VALID != 0 {
            f.push(UnmapFault::Attrs);
        }
        if f.is_empty() {
            Verdict::Ok
        } else {
            Verdict::Unmap(f)
        }
    }

    /// Mappings of one device overlap in these sequences only as repeated
    /// mappings of the same address, no longer than the first; so the
    /// mappings that hold a sync's whole range share their address, and the
    /// one it means is chosen as for an unmap.
    fn sync(&self, r: &Record, to_cpu: bool) -> Verdict {
        let holding: Vec<&Record> = self
            .live
            .iter()
            .filter(|e| {
                e.dev == r.dev
                    && e.dev_addr <= r.dev_addr
                    && r.dev_addr + r.size <= e.dev_addr + e.size
            })
            .collect();
        let perfect = holding.iter().copied().find(|e| {
            e.size == r.size
                && e.kind == r.kind
                && e.dir == r.dir
                && e.sg_call_ents == r.sg_call_ents
        });
        let Some(e) = perfect.or(if holding.len() == 1 {
            Some(holding[0])
        } else {
            None
        }) else {
            return Verdict::NotMapped;
        };
        let mut f = Vec::new();
        if e.dir != DMA_BIDIRECTIONAL {
            if r.dir != e.dir {
                f.push(SyncFault::Direction);
            }
            // The CPU may read only what the device wrote, and hand to the
            // device only what it reads.
            if to_cpu && e.dir == DMA_TO_DEVICE && r.dir != DMA_TO_DEVICE {
                f.push(SyncFault::ReadOnlyForCpu);
            }
            if !to_cpu && e.dir == DMA_FROM_DEVICE && r.dir != DMA_FROM_DEVICE {
                f.push(SyncFault::WriteOnlyForDevice);
            }
            if r.kind == Kind::Sg && r.sg_call_ents != 0 && r.sg_call_ents != e.sg_call_ents {
                f.push(SyncFault::SgCount);
            }
        }
        if f.is_empty() {
            Verdict::Ok
        } else {
            Verdict::Sync(f)
        }
    }
}

fn random_kind(rng: &mut Rng) -> Kind {
    [Kind::Phy, Kind::Sg, Kind::Coherent, Kind::Noncoherent][rng.below(4)]
}

/// A fresh mapping that overlaps no live one of its device.
fn fresh(rng: &mut Rng, live: &[Record]) -> Record {
    loop {
        let dev = 1 + rng.below(3);
        let size = 1 + (rng.next() % (64 * 1024));
        // Addresses cluster so that buckets are shared and searches cross them.
        let dev_addr = (rng.next() % (1 << 26)) & !0xf;
        let overlaps = live.iter().any(|e| {
            e.dev == dev && e.dev_addr < dev_addr + size && dev_addr < e.dev_addr + e.size
        });
        if !overlaps {
            let kind = random_kind(rng);
            return Record {
                dev,
                dev_addr,
                size,
                kind,
                dir: rng.below(3) as i32,
                sg_call_ents: if kind == Kind::Sg {
                    1 + rng.below(4) as i32
                } else {
                    0
                },
                paddr: rng.next() & 0xffff_ffff_f000,
                map_err: if kind == Kind::Phy && rng.below(4) == 0 {
                    MapErr::NotChecked
                } else {
                    MapErr::NotApplicable
                },
                attrs: if rng.below(8) == 0 { 1 << 10 } else { 0 },
                ..Default::default()
            };
        }
    }
}

/// Spoils one field of a correct reference, sometimes.
fn spoil(rng: &mut Rng, mut r: Record) -> Record {
    match rng.below(8) {
        0 => r.size += 1 + rng.next() % 4096,
        1 => r.dir = (r.dir + 1 + rng.below(2) as i32) % 3,
        2 => r.kind = random_kind(rng),
        3 => r.paddr ^= 0x1000,
        4 => r.attrs ^= 1 << 4,
        5 if r.kind == Kind::Sg => r.sg_call_ents += 1,
        _ => {}
    }
    r
}

#[test]
fn tracker_agrees_with_model() {
    for (seed, _seed) in seeds((1..=40u64).map(|s| s * 7919)) {
        let mut rng = Rng::new(seed);
        let mut t = Tracker::new();
        let mut m = Model { live: Vec::new() };
        let mut verdicts = [0usize; 5];
        for step in 0..3000 {
            let op = rng.below(10);
            let (a, b) = if op == 3 && !m.live.is_empty() {
                // The same address mapped again (drivers do), no longer
                // than the first time, perhaps in another direction.
                let e = m.live[rng.below(m.live.len())];
                let r = Record {
                    size: 1 + rng.next() % e.size,
                    dir: rng.below(3) as i32,
                    ..e
                };
                t.map(r);
                m.live.push(r);
                (Verdict::Ok, Verdict::Ok)
            } else if op < 4 || m.live.is_empty() {
                let r = fresh(&mut rng, &m.live);
                t.map(r);
                m.live.push(r);
                (Verdict::Ok, Verdict::Ok)
            } else if op < 7 {
                let e = m.live[rng.below(m.live.len())];
                let mut r = spoil(
                    &mut rng,
                    Record {
                        map_err: MapErr::NotApplicable,
                        ..e
                    },
                );
                r.sg_mapped_ents = 0;
                (t.unmap(&r), m.unmap(&r))
            } else if op == 7 {
                // Never mapped, or the failed-mapping address.
                let mut r = fresh(&mut rng, &m.live);
                if rng.below(3) == 0 {
                    r.dev_addr = u64::MAX;
                }
                (t.unmap(&r), m.unmap(&r))
            } else {
                let e = m.live[rng.below(m.live.len())];
                let off = rng.next() % e.size;
                let mut r = Record {
                    dev: e.dev,
                    dev_addr: e.dev_addr + off,
                    size: 1 + rng.next() % (e.size - off),
                    kind: if e.kind == Kind::Sg {
                        Kind::Sg
                    } else {
                        Kind::Single
                    },
                    dir: e.dir,
                    sg_call_ents: if e.kind == Kind::Sg {
                        e.sg_call_ents
                    } else {
                        0
                    },
                    ..Default::default()
                };
                match rng.below(4) {
                    0 => r.dir = (r.dir + 1) % 3,
                    1 => r.size += e.size, // past the end: matches nothing
                    2 => r.dev = e.dev % 3 + 1, // another device's address
                    _ => {}
                }
                let to_cpu = rng.below(2) == 0;
                (t.sync(&r, to_cpu), m.sync(&r, to_cpu))
            };
            assert_eq!(a, b, "seed {seed} step {step}");
            let k = match a {
                Verdict::Ok => 0,
                Verdict::NotMapped => 1,
                Verdict::InvalidAddress => 2,
                Verdict::Unmap(_) => 3,
                Verdict::Sync(_) => 4,
            };
            verdicts[k] += 1;
            assert_eq!(t.live(), m.live.len());
        }
        // Every kind of verdict came up, so the comparison covered them.
        assert!(verdicts.iter().all(|&n| n > 0), "seed {seed}: {verdicts:?}");
    }
}

#[test]
fn best_fit_prefers_perfect_and_refuses_ambiguity() {
    let base = Record {
        dev: 1,
        dev_addr: 0x1000,
        size: 64,
        kind: Kind::Phy,
        dir: 1,
        ..Default::default()
    };
    let other_size = Record { size: 128, ..base };
    let other_dir = Record { dir: 2, ..base };
    // A perfect fit wins over earlier partial ones.
    let list = [other_size, base, other_dir];
    assert_eq!(
        best_fit(&base, list.iter().enumerate(), exact_match),
        Some(1)
    );
    // A single partial match is taken.
    let r = Record { size: 32, ..base };
    assert_eq!(
        best_fit(&r, [other_size].iter().enumerate(), exact_match),
        Some(0)
    );
    // Two partial matches are ambiguous.
    assert_eq!(
        best_fit(&r, [other_size, other_dir].iter().enumerate(), exact_match),
        None
    );
    // Another device's mapping never matches.
    let foreign = Record { dev: 2, ..base };
    assert_eq!(
        best_fit(&base, [foreign].iter().enumerate(), exact_match),
        None
    );
}

#[test]
fn containing_match_needs_the_whole_range() {
    let e = Record {
        dev: 1,
        dev_addr: 0x1000,
        size: 0x1000,
        ..Default::default()
    };
    let inside = Record {
        dev: 1,
        dev_addr: 0x1800,
        size: 0x800,
        ..Default::default()
    };
    let past = Record {
        dev: 1,
        dev_addr: 0x1800,
        size: 0x801,
        ..Default::default()
    };
    let below = Record {
        dev: 1,
        dev_addr: 0xfff,
        size: 1,
        ..Default::default()
    };
    assert!(containing_match(&inside, &e));
    assert!(!containing_match(&past, &e));
    assert!(!containing_match(&below, &e));
    // No overflow at the top of the address space.
    let top = Record {
        dev: 1,
        dev_addr: u64::MAX - 1,
        size: u64::MAX,
        ..Default::default()
    };
    assert!(!containing_match(&top, &e));
}

#[test]
fn sync_directions() {
    let to_dev = Record {
        dir: DMA_TO_DEVICE,
        size: 64,
        ..Default::default()
    };
    let from_dev = Record {
        dir: DMA_FROM_DEVICE,
        size: 64,
        ..Default::default()
    };
    let mut out = [SyncFault::OutOfRange; 5];
    // Syncing a to-device mapping for the CPU with from-device: wrong
    // direction and a read-only sync, as C reports both.
    let n = sync_faults(&from_dev, &to_dev, true, &mut out);
    assert_eq!(
        &out[..n],
        &[SyncFault::Direction, SyncFault::ReadOnlyForCpu]
    );
    let n = sync_faults(&to_dev, &from_dev, false, &mut out);
    assert_eq!(
        &out[..n],
        &[SyncFault::Direction, SyncFault::WriteOnlyForDevice]
    );
    // Matching directions are fine either way.
    assert_eq!(sync_faults(&to_dev, &to_dev, false, &mut out), 0);
    assert_eq!(sync_faults(&from_dev, &from_dev, true, &mut out), 0);
    // Bidirectional mappings accept any direction.
    let bidi = Record {
        dir: DMA_BIDIRECTIONAL,
        size: 64,
        ..Default::default()
    };
    assert_eq!(sync_faults(&from_dev, &bidi, true, &mut out), 0);
}

#[test]
fn buckets_and_search() {
    assert_eq!(bucket_of(0), 0);
    assert_eq!(bucket_of(0x1fff), 0);
    assert_eq!(bucket_of(0x2000), 1);
    assert_eq!(bucket_of((HASH_SIZE as u64) << HASH_SHIFT), 0);
    assert_eq!(contain_search_len(0), 1);
    assert_eq!(contain_search_len(0x2000), 2);
    assert_eq!(contain_search_len(u64::MAX), HASH_SIZE);
}

#[test]
fn cachelines_and_overlaps() {
    // 64-byte lines in 4 KiB pages: 64 lines a page.
    assert_eq!(cacheline(0, 12, 6), 0);
    assert_eq!(cacheline(63, 12, 6), 0);
    assert_eq!(cacheline(64, 12, 6), 1);
    assert_eq!(cacheline(4096, 12, 6), 64);
    assert_eq!(cacheline(4096 + 130, 12, 6), 66);
    assert!(!tracks_cacheline(DMA_TO_DEVICE));
    assert!(tracks_cacheline(DMA_FROM_DEVICE));
    assert!(tracks_cacheline(DMA_BIDIRECTIONAL));
    assert!(!overlap_reported(0, 0, false, true));
    assert!(overlap_reported(1, 0, false, true));
    // Not where the architecture's alignment makes overlaps safe (x86).
    assert!(!overlap_reported(1, 0, false, false));
    // Not with DMA_ATTR_SKIP_CPU_SYNC, nor when both sides are cache clean.
    assert!(!overlap_reported(1, 1 << 5, false, true));
    assert!(!overlap_reported(1, ATTRS_CACHE_CLEAN, true, true));
    assert!(overlap_reported(1, ATTRS_CACHE_CLEAN, false, true));
}

#[test]
fn driver_filter_text() {
    let mut out = [0u8; 64];
    assert_eq!(parse_filter(b"nvme\n", &mut out), Some(4));
    assert_eq!(&out[..5], b"nvme\0");
    assert_eq!(parse_filter(b"e1000e extra", &mut out), Some(6));
    assert_eq!(parse_filter(b"\n", &mut out), None);
    assert_eq!(parse_filter(b" nvme", &mut out), None);
    assert_eq!(parse_filter(b"", &mut out), None);
    // Truncated to the buffer, always NUL-terminated.
    let long = [b'a'; 100];
    assert_eq!(parse_filter(&long, &mut out), Some(63));
    assert_eq!(out[63], 0);
    assert_eq!(dir_name(1), "DMA_TO_DEVICE");
    assert_eq!(dir_name(9), "DMA_INVALID");
    assert_eq!(Kind::Sg.name(), "scatter-gather");
}

/// The boot parameters against every shape of value they may meet.
mod param {
    use crate::debug_param::{
        parse_driver,
        parse_entries,
        parse_switch,
        prealloc_cap,
        Bad, //
    };

    #[test]
    fn entries_take_c_number_forms() {
        for (s, n) in [
            ("1", 1),
            ("1024", 1024),
            ("0x400", 1024),
            ("0X10", 16),
            ("010", 8),
            ("4294967295", u32::MAX),
        ] {
            assert_eq!(parse_entries(s.as_bytes()), Ok(n), "{s}");
        }
    }

    #[test]
    fn entries_refuse_hostile_values() {
        let huge = "9".repeat(200);
        for (s, bad) in [
            ("", Bad::NotANumber),
            ("banana", Bad::NotANumber),
            ("12abc", Bad::NotANumber),
            ("1,2", Bad::NotANumber),
            ("0x", Bad::NotANumber),
            ("0x-1", Bad::NotANumber),
            ("08", Bad::NotANumber),
            ("-", Bad::NotANumber),
            (" 5", Bad::NotANumber),
            ("0", Bad::NotPositive),
            ("00", Bad::NotPositive),
            ("-5", Bad::NotPositive),
            ("-0x10", Bad::NotPositive),
            ("4294967296", Bad::TooLarge),
            ("99999999999999999999", Bad::TooLarge),
            (huge.as_str(), Bad::TooLarge),
            ("0xffffffffffffffffff", Bad::TooLarge),
        ] {
            assert_eq!(parse_entries(s.as_bytes()), Err(bad), "{s:?}");
        }
        // Bytes that are not ASCII at all.
        assert_eq!(parse_entries(&[0xff, 0x31]), Err(Bad::NotANumber));
        assert_eq!(parse_entries(&[0x31, 0]), Err(Bad::NotANumber));
    }

    #[test]
    fn switch_is_off_or_refused() {
        assert_eq!(parse_switch(b"off"), Ok(()));
        // C compares three characters only; so does this.
        assert_eq!(parse_switch(b"offline"), Ok(()));
        for s in ["", "on", "OFF", "of", "banana", " off"] {
            assert_eq!(parse_switch(s.as_bytes()), Err(Bad::UnknownSwitch), "{s:?}");
        }
    }

    #[test]
    fn driver_names_fit_or_are_refused() {
        assert_eq!(parse_driver(b"", 63), Ok(0));
        assert_eq!(parse_driver(b"e1000e", 63), Ok(6));
        assert_eq!(parse_driver(b"rust_dma_edu", 63), Ok(12));
        let max = "d".repeat(63);
        assert_eq!(parse_driver(max.as_bytes(), 63), Ok(63));
        let long = "d".repeat(64);
        assert_eq!(parse_driver(long.as_bytes(), 63), Err(Bad::NameTooLong));
        let very_long = "x".repeat(200);
        assert_eq!(
            parse_driver(very_long.as_bytes(), 63),
            Err(Bad::NameTooLong)
        );
        for s in [
            &b"a b"[..],
            b"a\tb",
            b"\x01",
            b"nvme\n",
            b"\xc3\xa9",
            b"a\0b",
        ] {
            assert_eq!(parse_driver(s, 63), Err(Bad::NotAName), "{s:?}");
        }
    }

    #[test]
    fn preallocation_is_capped_by_memory_above_the_default() {
        let gib = 1u64 << 30;
        // 1 GiB, 128-byte records: a sixteenth is 524288 records.
        assert_eq!(prealloc_cap(1024, 65536, 128, gib), 1024);
        assert_eq!(prealloc_cap(u32::MAX, 65536, 128, gib), 524288);
        // Never below the default, however small the machine.
        assert_eq!(prealloc_cap(65536, 65536, 128, 16 << 20), 65536);
        assert_eq!(prealloc_cap(u32::MAX, 65536, 128, 16 << 20), 65536);
        // No memory figure at all, or a huge one.
        assert_eq!(prealloc_cap(100, 65536, 128, 0), 100);
        assert_eq!(prealloc_cap(u32::MAX, 65536, 1, u64::MAX), u32::MAX);
        // A record size of 0 does not divide by zero.
        assert_eq!(prealloc_cap(7, 0, 0, 1 << 20), 7);
    }
}
