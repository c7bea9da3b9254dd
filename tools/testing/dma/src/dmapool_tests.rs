// SPDX-License-Identifier: GPL-2.0

//! Tests of `kernel/dma/dmapool/blocks.rs`: the C allocator's parameter
//! rules, and properties of the block layout and the free list over random
//! parameters and random alloc/free sequences.

use crate::dmapool_blocks::*;
use crate::rng::{seeds, Rng};
use std::collections::HashSet;

const PAGE: usize = 4096;

fn geo(size: usize, align: usize, boundary: usize) -> Result<Geometry, GeometryError> {
    Geometry::new::<u64>(size, align, boundary, PAGE)
}

#[test]
fn geometry_follows_the_c_rules() {
    assert_eq!(geo(0, 8, 0), Err(GeometryError::Size));
    assert_eq!(geo(i32::MAX as usize + 1, 8, 0), Err(GeometryError::Size));
    assert_eq!(geo(64, 3, 0), Err(GeometryError::Align));
    assert_eq!(geo(64, 48, 0), Err(GeometryError::Align));
    assert_eq!(geo(256, 8, 128), Err(GeometryError::Boundary));
    assert_eq!(geo(64, 8, 1000), Err(GeometryError::Boundary));
    // Below the free-list header, a block is the header's size.
    assert_eq!(geo(1, 0, 0).unwrap().size, 16);
    // Rounded up to the alignment; a chunk is at least a page.
    let g = geo(68, 32, 4096).unwrap();
    assert_eq!((g.size, g.allocation, g.boundary), (96, 4096, 4096));
    // A boundary above the chunk is the chunk.
    assert_eq!(geo(64, 64, 1 << 20).unwrap().boundary, PAGE);
    // A block above a page makes its own chunk.
    let g = geo(5000, 8, 0).unwrap();
    assert_eq!((g.size, g.allocation, g.boundary), (5000, 5000, 5000));
}

#[test]
fn chunk_holds_as_many_blocks_as_c_carves() {
    // Counts printed by mm/dmapool_test.c's layouts: 4096 / size blocks.
    for (size, n) in [(16, 256), (64, 64), (256, 16), (1024, 4), (4096, 1)] {
        assert_eq!(geo(size, size, 0).unwrap().offsets().count(), n);
    }
    // 96-byte blocks with a 1 KiB boundary: 10 per KiB.
    assert_eq!(geo(68, 32, 1024).unwrap().offsets().count(), 40);
}

/// An independent model of the layout: blocks packed from the start of each
/// boundary segment.
fn model_offsets(g: &Geometry) -> Vec<usize> {
    let mut v = Vec::new();
    let mut seg = 0;
    while seg < g.allocation {
        let end = (seg + g.boundary).min(g.allocation);
        let mut off = seg;
        while off + g.size <= end {
            v.push(off);
            off += g.size;
        }
        seg += g.boundary;
    }
    v
}

#[test]
fn random_layouts_honour_alignment_boundary_and_never_overlap() {
    for (seed, _seed) in seeds([0x5eed_d0a1]) {
        let mut rng = Rng::new(seed);
        let mut checked = 0;
        for _ in 0..20000 {
            let size = 1 + rng.below(9000);
            let align = if rng.below(4) == 0 {
                0
            } else {
                1 << rng.below(13)
            };
            let boundary = match rng.below(3) {
                0 => 0,
                _ => 1 << rng.below(16),
            };
            let Ok(g) = geo(size, align, boundary) else {
                continue;
            };
            checked += 1;
            let offs: Vec<usize> = g.offsets().collect();
            assert!(!offs.is_empty(), "{g:?}: an empty chunk");
            assert_eq!(offs, model_offsets(&g), "{g:?}");
            let align = align.max(1);
            for w in offs.windows(2) {
                assert!(w[0] + g.size <= w[1], "{g:?}: blocks overlap");
            }
            for &o in &offs {
                assert_eq!(o % align, 0, "{g:?}: misaligned block at {o}");
                assert!(o + g.size <= g.allocation, "{g:?}: block beyond the chunk");
                assert_eq!(
                    o / g.boundary,
                    (o + g.size - 1) / g.boundary,
                    "{g:?}: block at {o} crosses a boundary"
                );
                assert!(g.size >= size);
            }
        }
        assert!(checked > 5000, "only {checked} valid layouts drawn");
    }
}

/// A fake pool: chunks in host memory, the free list under test, and a model
/// of which blocks are out.
struct FakePool {
    geo: Geometry,
    chunks: Vec<(Vec<u8>, u64)>,
    free: FreeList<u64>,
    out: HashSet<usize>,
    all: HashSet<usize>,
}

impl FakePool {
    fn new(geo: Geometry) -> Self {
        Self {
            geo,
            chunks: Vec::new(),
            free: FreeList::new(),
            out: HashSet::new(),
            all: HashSet::new(),
        }
    }

    fn alloc(&mut self) -> (usize, u64) {
        let block = self.free.pop();
        if block.is_none() {
            let mut mem = vec![POISON_FREED; self.geo.allocation];
            let dma = 0x1000_0000 + (self.chunks.len() as u64) * 0x10_0000;
            // SAFETY: `mem` is `allocation` bytes and lives in `self.chunks`
            // (a Vec's heap buffer does not move when the Vec does).
            let n = unsafe { self.free.push_chunk(mem.as_mut_ptr(), dma, &self.geo) };
            assert_eq!(n, self.geo.offsets().count());
            for o in self.geo.offsets() {
                assert!(self.all.insert(mem.as_ptr() as usize + o));
            }
            self.chunks.push((mem, dma));
        }
        let (p, dma) = block
            .or_else(|| self.free.pop())
            .expect("a fresh chunk has blocks");
        let p = p as usize;
        assert!(self.out.insert(p), "block {p:#x} handed out twice");
        // The DMA address is the chunk's plus the block's offset.
        let (mem, base) = self
            .chunks
            .iter()
            .find(|(m, _)| p >= m.as_ptr() as usize && p < m.as_ptr() as usize + m.len())
            .expect("a block inside a chunk");
        assert_eq!(dma, base + (p - mem.as_ptr() as usize) as u64);
        (p, dma)
    }

    fn free(&mut self, p: usize, dma: u64) {
        assert!(self.out.remove(&p));
        assert!(!self.free.contains(p as *const u8));
        // SAFETY: `p` is a block of one of our chunks and not on the list.
        unsafe { self.free.push(p as *mut u8, dma) };
        assert!(self.free.contains(p as *const u8));
    }
}

#[test]
fn random_alloc_free_sequences_keep_the_free_list_whole() {
    for (seed, _seed) in seeds([0xd0a_b10c]) {
        let mut rng = Rng::new(seed);
        for round in 0..200 {
            let size: usize =
                [16, 24, 64, 68, 100, 256, 1024, 3000, 4096, 6000, 17, 33][round % 12];
            let boundary = if round % 3 == 0 {
                0
            } else {
                1024.max(size.next_power_of_two())
            };
            // Alignment 1 with odd sizes puts headers at unaligned addresses.
            let align = if (round / 12) % 2 == 1 { 1 } else { 8 };
            let mut pool = FakePool::new(geo(size, align, boundary).unwrap());
            let mut held: Vec<(usize, u64)> = Vec::new();
            for _ in 0..2000 {
                if held.is_empty() || rng.below(100) < 55 {
                    held.push(pool.alloc());
                } else {
                    let i = rng.below(held.len());
                    let (p, dma) = held.swap_remove(i);
                    pool.free(p, dma);
                    // LIFO: the block freed last is the next one out.
                    if rng.below(4) == 0 {
                        let (q, qdma) = pool.alloc();
                        assert_eq!((q, qdma), (p, dma));
                        held.push((q, qdma));
                    }
                }
            }
            // Every block is either held or on the list, exactly once.
            let mut seen: HashSet<usize> = held.iter().map(|&(p, _)| p).collect();
            while let Some((p, _)) = pool.free.pop() {
                assert!(
                    seen.insert(p as usize),
                    "block {p:p} both free and held, or free twice"
                );
            }
            assert_eq!(seen, pool.all, "blocks lost from the free list");
        }
    }
}

#[test]
fn poison_damage_finds_writes_after_free() {
    let mut block = vec![POISON_FREED; 64];
    // The header bytes are the list's own.
    block[..16].fill(0);
    assert_eq!(poison_damage::<u64>(&block), None);
    block[40] = 0;
    assert_eq!(poison_damage::<u64>(&block), Some(40));
}
