// SPDX-License-Identifier: GPL-2.0-only

//! swiotlb's slot allocator: which slots of a pool's area a bounce buffer
//! gets, the arithmetic of the alignment rules, and the bookkeeping that
//! lets an unmap free exactly what the map took.
//!
//! Pure logic over arrays the caller owns (it uses only `core`): the kernel
//! keeps them in its pools, one [`Area`] per area lock, and the host tests
//! (`tools/testing/dma`) in vectors, against a flat model.
//!
//! Beyond C, the search is bounded: C scans slot by slot from the area's
//! next-fit index and, in a fragmented area, may walk all of it under the
//! lock. Here each segment of [`SEGSIZE`] slots has a summary, its longest
//! free run, and free slots are a bitmap: a segment that cannot hold the
//! request costs one byte compare, and a segment that can is searched a
//! word at a time. An allocation costs at most one summary read per
//! segment plus the candidate starts of one segment, however fragmented
//! the area is.

/// log2 of a slot's size.
pub(crate) const SHIFT: u32 = 11;
/// A slot's size in bytes (`IO_TLB_SIZE`).
pub(crate) const SLOT_SIZE: u64 = 1 << SHIFT;
/// Slots in a segment, the longest run one mapping may take
/// (`IO_TLB_SEGSIZE`).
pub(crate) const SEGSIZE: usize = 128;
/// The original address of a free slot (`INVALID_PHYS_ADDR`).
pub(crate) const INVALID: u64 = u64::MAX;

use core::sync::atomic::{
    AtomicI64,
    AtomicU16,
    AtomicU64,
    AtomicUsize,
    Ordering::Relaxed, //
};

const WORDS_PER_SEG: usize = SEGSIZE / 64;

/// What a pool records about each slot.
///
/// The fields are atomics because a sync reads the record of a live
/// mapping without the area's lock, while another CPU maps or unmaps other
/// slots of the area under it; only the slot's own mapping writes it, at
/// its map and its unmap.
///
/// Each data slot of a mapping records where its part of the data is and
/// how much of the mapping is left from there; the first data slot (the
/// head) also records the allocation's shape, so that an unmap frees
/// exactly it, and only from the address the map returned. Nothing is read
/// back from the device, whose `min_align_mask` may change meanwhile.
#[derive(Debug)]
pub(crate) struct Slot {
    /// The original address of the data at `offset` in this slot, or
    /// [`INVALID`] (a free or a padding slot).
    orig_addr: AtomicU64,
    /// Bytes of the mapping from that address on; negative on a last slot
    /// that the data ends in before `offset`.
    left: AtomicI64,
    /// The data's offset in each of its slots.
    offset: AtomicU16,
    /// On the head: 1 plus the padding slots before it; 0 elsewhere.
    head: AtomicU16,
    /// On the head: the slots of the allocation, padding included.
    nslots: AtomicU16,
}

impl Slot {
    /// A free slot.
    pub(crate) const fn new() -> Self {
        Slot {
            orig_addr: AtomicU64::new(INVALID),
            left: AtomicI64::new(0),
            offset: AtomicU16::new(0),
            head: AtomicU16::new(0),
            nslots: AtomicU16::new(0),
        }
    }

    /// The original address the slot bounces, or [`INVALID`].
    pub(crate) fn orig_addr(&self) -> u64 {
        self.orig_addr.load(Relaxed)
    }

    /// Whether the slot is the first data slot of a mapping.
    pub(crate) fn is_head(&self) -> bool {
        self.head.load(Relaxed) != 0
    }

    /// Whether the record is that of a free slot (for the host tests).
    #[cfg(test)]
    pub(crate) fn is_clear(&self) -> bool {
        self.orig_addr() == INVALID
            && self.left.load(Relaxed) == 0
            && self.offset.load(Relaxed) == 0
            && !self.is_head()
            && self.nslots.load(Relaxed) == 0
    }

    fn clear(&self) {
        self.orig_addr.store(INVALID, Relaxed);
        self.left.store(0, Relaxed);
        self.offset.store(0, Relaxed);
        self.head.store(0, Relaxed);
        self.nslots.store(0, Relaxed);
    }
}

impl Default for Slot {
    fn default() -> Self {
        Self::new()
    }
}

/// What a bounce copies for an access of `size` bytes at a bounce address
/// in a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    /// The original address the access starts at.
    pub(crate) orig: u64,
    /// Bytes to copy.
    pub(crate) size: u64,
    /// The access ran past the mapping's end and was cut to it, or started
    /// outside the mapping and copies nothing.
    pub(crate) clamped: bool,
}

impl Span {
    /// The span of an access at bounce address `tlb_addr`, which lies in
    /// `slot`, or `None` when the slot bounces nothing (a padding or free
    /// slot).
    ///
    /// The access may start in the first bytes of a later slot, before the
    /// data's offset in it: the distance from that slot's data is then
    /// negative, as in C, and the bytes left grow by it. Before the data's
    /// offset in the head, it starts outside the mapping.
    pub(crate) fn new(slot: &Slot, tlb_addr: u64, size: u64) -> Option<Self> {
        let orig = slot.orig_addr();
        if orig == INVALID {
            return None;
        }
        let delta = (tlb_addr & (SLOT_SIZE - 1)) as i64 - i64::from(slot.offset.load(Relaxed));
        if delta < 0 && slot.is_head() {
            return Some(Span {
                orig,
                size: 0,
                clamped: size > 0,
            });
        }
        let left = slot.left.load(Relaxed).saturating_sub(delta).max(0) as u64;
        Some(Span {
            orig: orig.wrapping_add(delta as u64),
            size: size.min(left),
            clamped: size > left,
        })
    }
}

/// Where an area's next search starts and how many of its slots are in use:
/// what the area's lock guards besides the arrays.
#[derive(Debug, Default)]
pub(crate) struct Cursor {
    /// C's next-fit index, a slot index in the area.
    next: usize,
    /// Slots in use.
    used: usize,
}

impl Cursor {
    /// The cursor of an empty area.
    pub(crate) const fn new() -> Self {
        Cursor { next: 0, used: 0 }
    }
}

/// A device's constraints on its bounce buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Constraints {
    /// `dma_get_min_align_mask()`: low bits of the original address that
    /// the bounce address keeps.
    pub(crate) min_align_mask: u64,
    /// The alignment the caller asks of the allocation (dma-iommu passes
    /// its IOVA granule; streaming mappings pass 0).
    pub(crate) alloc_align_mask: u64,
    /// `dma_get_seg_boundary()`: no buffer may cross a multiple of
    /// `boundary_mask + 1` in DMA address space.
    pub(crate) boundary_mask: u64,
    /// `PAGE_SIZE`.
    pub(crate) page_size: u64,
}

/// Where a mapping lies in its allocation, as `swiotlb_tbl_map_single()`
/// lays it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Bytes to allocate, padding included.
    pub(crate) size: u64,
    /// Whole padding slots before the data's first slot.
    pub(crate) pad_slots: usize,
    /// Offset of the data in its first slot.
    pub(crate) offset: u64,
}

impl Layout {
    /// The layout of a mapping of `mapping_size` bytes at `orig_addr`.
    ///
    /// The data keeps the bits of `orig_addr` under the device's
    /// `min_align_mask`, up to the allocation's alignment: offsets of a
    /// slot or more become padding slots.
    /// `None` when the sizes overflow, which no mapping can have.
    pub(crate) fn new(orig_addr: u64, mapping_size: u64, c: &Constraints) -> Option<Self> {
        let offset = orig_addr & c.min_align_mask & (c.alloc_align_mask | (SLOT_SIZE - 1));
        let size = align_up(
            mapping_size.checked_add(offset)?,
            c.alloc_align_mask.wrapping_add(1),
        )?;
        Some(Layout {
            size,
            pad_slots: (offset >> SHIFT) as usize,
            offset: offset & (SLOT_SIZE - 1),
        })
    }

    /// Slots the allocation takes.
    pub(crate) fn nslots(&self) -> usize {
        nr_slots(self.size)
    }
}

/// Slots that `bytes` bytes take.
pub(crate) fn nr_slots(bytes: u64) -> usize {
    bytes.div_ceil(SLOT_SIZE) as usize
}

fn align_up(v: u64, align: u64) -> Option<u64> {
    // `align` is a power of two (a mask plus one), or 0 for a mask of all
    // ones, which no size reaches.
    if align == 0 {
        return Some(v);
    }
    Some(v.checked_add(align - 1)? & !(align - 1))
}

/// The masks the search checks a candidate's DMA address against.
#[derive(Clone, Copy, Debug)]
struct Search {
    /// Bits of the first slot's address that must be zero.
    alloc_align_mask: u64,
    /// Bits that must equal those of the original address (when it is not
    /// 0).
    iotlb_align_mask: u64,
    /// Slots in a boundary unit.
    max_slots: u64,
    /// Candidate starts: every slot, or only the aligned ones.
    stride: usize,
}

impl Search {
    fn new(size: u64, c: &Constraints) -> Self {
        let mut alloc_align_mask = c.alloc_align_mask;
        let mut iotlb_align_mask = c.min_align_mask;
        // Unaligned requests of a page or more are page aligned, as they
        // have always been.
        if alloc_align_mask == 0 && iotlb_align_mask == 0 && size >= c.page_size {
            alloc_align_mask = c.page_size - 1;
        }
        alloc_align_mask |= SLOT_SIZE - 1;
        iotlb_align_mask &= !alloc_align_mask;
        Search {
            alloc_align_mask,
            iotlb_align_mask,
            max_slots: (c.boundary_mask >> SHIFT) + 1,
            stride: max_slots_of(alloc_align_mask.max(iotlb_align_mask)),
        }
    }
}

/// Slots in a unit of `mask + 1` bytes, at least one.
fn max_slots_of(mask: u64) -> usize {
    ((mask >> SHIFT) + 1).min(SEGSIZE as u64) as usize
}

/// One area of a pool: its slots, which one lock guards.
///
/// # Invariants
///
/// - `slots`, `free` and `longest` describe the same `nslabs` slots, a
///   whole number of segments: `free` has a bit per slot (set: free) and
///   `longest` the longest run of free slots of each segment.
/// - A slot is free exactly when it belongs to no allocation and was not
///   reserved ([`Area::reserve_tail`]); a free slot's record is clear
///   ([`Slot::is_clear`]).
/// - `cur.used` counts the slots that are not free, and `cur.next` is a
///   slot index of the area.
pub(crate) struct Area<'a> {
    slots: &'a [Slot],
    free: &'a mut [u64],
    longest: &'a mut [u8],
    /// The DMA address of the area's first slot (unencrypted, as the
    /// device sees it).
    dma_start: u64,
    cur: &'a mut Cursor,
}

/// Why an area was not made.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AreaError {
    /// The area is not a whole number of segments, or the arrays' lengths
    /// disagree.
    Size,
}

impl<'a> Area<'a> {
    /// Sizes of the arrays for `nslabs` slots: records, bitmap words and
    /// summaries.
    pub(crate) const fn array_sizes(nslabs: usize) -> (usize, usize, usize) {
        (nslabs, nslabs / 64, nslabs / SEGSIZE)
    }

    /// An area of free slots over the caller's arrays, whose DMA addresses
    /// start at `dma_start`.
    pub(crate) fn new(
        slots: &'a [Slot],
        free: &'a mut [u64],
        longest: &'a mut [u8],
        dma_start: u64,
        cur: &'a mut Cursor,
    ) -> Result<Self, AreaError> {
        Self::check_sizes(slots, free, longest)?;
        slots.iter().for_each(Slot::clear);
        free.fill(u64::MAX);
        longest.fill(SEGSIZE as u8);
        *cur = Cursor::new();
        // INVARIANT: All slots free, each segment one run, none counted.
        Ok(Area {
            slots,
            free,
            longest,
            dma_start,
            cur,
        })
    }

    /// The area over arrays and a cursor that [`Area::new`] set up before,
    /// and only areas have changed since.
    pub(crate) fn attach(
        slots: &'a [Slot],
        free: &'a mut [u64],
        longest: &'a mut [u8],
        dma_start: u64,
        cur: &'a mut Cursor,
    ) -> Result<Self, AreaError> {
        Self::check_sizes(slots, free, longest)?;
        if cur.next >= slots.len() || cur.used > slots.len() {
            return Err(AreaError::Size);
        }
        // INVARIANT: What an area left, by the caller's guarantee.
        Ok(Area {
            slots,
            free,
            longest,
            dma_start,
            cur,
        })
    }

    fn check_sizes(slots: &[Slot], free: &[u64], longest: &[u8]) -> Result<(), AreaError> {
        let n = slots.len();
        if n == 0
            || !n.is_multiple_of(SEGSIZE)
            || Self::array_sizes(n) != (n, free.len(), longest.len())
        {
            return Err(AreaError::Size);
        }
        Ok(())
    }

    /// Takes slots `from..` out of use for good, for a pool whose memory
    /// ends inside its last segment (a transient pool sized to one
    /// mapping). They count as used; no unmap frees them, as they hold no
    /// mapping.
    pub(crate) fn reserve_tail(&mut self, from: usize) {
        let n = self.nslabs();
        let mut start = from;
        while start < n {
            let end = (start / SEGSIZE + 1) * SEGSIZE;
            self.mark(start, end - start, false);
            start = end;
        }
        // INVARIANT: The reserved slots are not free and are counted.
        self.cur.used += n.saturating_sub(from);
    }

    /// Slots in the area.
    pub(crate) fn nslabs(&self) -> usize {
        self.slots.len()
    }

    /// Slots in use.
    pub(crate) fn used(&self) -> usize {
        self.cur.used
    }

    /// A slot's record (for the host tests).
    #[cfg(test)]
    pub(crate) fn slot(&self, index: usize) -> &Slot {
        &self.slots[index]
    }

    /// Whether slot `index` is free.
    pub(crate) fn is_free(&self, index: usize) -> bool {
        self.free[index / 64] & (1 << (index % 64)) != 0
    }

    /// The longest run of free slots in the area.
    pub(crate) fn longest_free_run(&self) -> usize {
        self.longest.iter().copied().max().unwrap_or(0) as usize
    }

    /// The DMA address of slot `index`.
    fn slot_dma(&self, index: usize) -> u64 {
        self.dma_start.wrapping_add((index as u64) << SHIFT)
    }

    /// Whether slots `start..start + n`, within one segment, are all free.
    fn run_free(&self, start: usize, n: usize) -> bool {
        let seg_word = (start / SEGSIZE) * WORDS_PER_SEG;
        let bit = start % SEGSIZE;
        let seg = u128::from(self.free[seg_word]) | (u128::from(self.free[seg_word + 1]) << 64);
        let mask = if n == SEGSIZE {
            u128::MAX
        } else {
            ((1u128 << n) - 1) << bit
        };
        seg & mask == mask
    }

    /// Whether slots `start..start + n`, within one segment, are all in use.
    fn run_used(&self, start: usize, n: usize) -> bool {
        (start..start + n).all(|i| !self.is_free(i))
    }

    /// Recomputes segment `seg`'s longest free run.
    fn summarise(&mut self, seg: usize) {
        let w = seg * WORDS_PER_SEG;
        let mut bits = u128::from(self.free[w]) | (u128::from(self.free[w + 1]) << 64);
        let mut longest = 0;
        while bits != 0 {
            let tz = bits.trailing_zeros();
            let run = (bits >> tz).trailing_ones();
            longest = longest.max(run);
            if tz + run >= 128 {
                break;
            }
            bits &= !(((1u128 << run) - 1) << tz);
        }
        self.longest[seg] = longest as u8;
    }

    /// Marks `start..start + n` (one segment) free or used.
    fn mark(&mut self, start: usize, n: usize, free: bool) {
        for i in start..start + n {
            let (w, b) = (i / 64, 1u64 << (i % 64));
            if free {
                self.free[w] |= b;
            } else {
                self.free[w] &= !b;
            }
        }
        self.summarise(start / SEGSIZE);
    }

    /// Whether `n` slots from `start` fit the search's rules.
    fn fits(&self, start: usize, n: usize, orig_addr: u64, s: &Search) -> bool {
        let addr = self.slot_dma(start);
        if addr & s.alloc_align_mask != 0 {
            return false;
        }
        if orig_addr != 0 && addr & s.iotlb_align_mask != orig_addr & s.iotlb_align_mask {
            return false;
        }
        // The device's segment boundary, in slots from the boundary unit's
        // start (`iommu_is_span_boundary()`).
        let unit = s.max_slots;
        let pos = u128::from((addr >> SHIFT) & (unit.wrapping_sub(1)));
        if unit != 0 && pos + n as u128 > u128::from(unit) {
            return false;
        }
        start % SEGSIZE + n <= SEGSIZE && self.run_free(start, n)
    }

    /// Finds and takes the slots of a mapping of `mapping_size` bytes at
    /// `orig_addr`, and records it. Returns the index of the data's first
    /// slot (after any padding slots) and the data's offset in it, or
    /// `None` when the area has no room for it.
    pub(crate) fn map(
        &mut self,
        orig_addr: u64,
        mapping_size: u64,
        c: &Constraints,
    ) -> Option<(usize, u64)> {
        let layout = Layout::new(orig_addr, mapping_size, c)?;
        let nslots = layout.nslots();
        if nslots == 0 || nslots > SEGSIZE || nslots > self.nslabs() - self.cur.used {
            return None;
        }
        let s = Search::new(layout.size, c);
        let start = self.search(orig_addr, nslots, &s)?;
        self.mark(start, nslots, false);
        let first = start + layout.pad_slots;
        for (i, slot) in self.slots[first..start + nslots].iter().enumerate() {
            let i = i as u64;
            slot.orig_addr
                .store(orig_addr.wrapping_add(i << SHIFT), Relaxed);
            slot.left
                .store(mapping_size.wrapping_sub(i << SHIFT) as i64, Relaxed);
            slot.offset.store(layout.offset as u16, Relaxed);
        }
        let head = &self.slots[first];
        head.head.store(layout.pad_slots as u16 + 1, Relaxed);
        head.nslots.store(nslots as u16, Relaxed);
        // INVARIANT: The slots taken are marked used and recorded, and
        // counted.
        self.cur.used += nslots;
        self.cur.next = if start + nslots >= self.nslabs() {
            0
        } else {
            start + nslots
        };
        Some((first, layout.offset))
    }

    /// The first fitting start, searching segments from the next-fit
    /// index's on, and wrapping.
    fn search(&self, orig_addr: u64, nslots: usize, s: &Search) -> Option<usize> {
        let nsegs = self.nslabs() / SEGSIZE;
        let next = self.cur.next;
        let first_seg = next / SEGSIZE;
        for k in 0..=nsegs {
            let seg = (first_seg + k) % nsegs;
            if (self.longest[seg] as usize) < nslots {
                continue;
            }
            // In the next-fit segment, start at the next-fit index on the
            // first pass, and finish its earlier slots on the last.
            let base = seg * SEGSIZE;
            let (lo, hi) = match k {
                0 => (next - base, SEGSIZE),
                k if k == nsegs => (0, next - base),
                _ => (0, SEGSIZE),
            };
            let mut i = lo;
            while i < hi {
                if self.fits(base + i, nslots, orig_addr, s) {
                    return Some(base + i);
                }
                // Only starts whose address has the required alignment
                // can fit; from an aligned one, step by the alignment.
                let addr = self.slot_dma(base + i);
                i += if addr & s.alloc_align_mask == 0
                    && (orig_addr == 0
                        || addr & s.iotlb_align_mask == orig_addr & s.iotlb_align_mask)
                {
                    s.stride
                } else {
                    1
                };
            }
        }
        None
    }

    /// Frees the allocation whose data starts `offset` bytes into slot
    /// `index` (what [`Area::map`] returned), padding slots included.
    /// Returns how many slots it freed; 0, and nothing freed, unless
    /// `index` and `offset` are where a live mapping's data starts.
    pub(crate) fn unmap(&mut self, index: usize, offset: u64) -> usize {
        let Some(slot) = self.slots.get(index) else {
            return 0;
        };
        if self.is_free(index) || !slot.is_head() || u64::from(slot.offset.load(Relaxed)) != offset
        {
            return 0;
        }
        let pad = usize::from(slot.head.load(Relaxed)) - 1;
        let nslots = usize::from(slot.nslots.load(Relaxed));
        let Some(start) = index.checked_sub(pad) else {
            return 0;
        };
        if nslots <= pad
            || start % SEGSIZE + nslots > SEGSIZE
            || !self.run_used(start, nslots)
            || self.cur.used < nslots
        {
            return 0;
        }
        self.slots[start..start + nslots]
            .iter()
            .for_each(Slot::clear);
        self.mark(start, nslots, true);
        // INVARIANT: The allocation's slots are free again, and uncounted.
        self.cur.used -= nslots;
        nslots
    }
}

/// The pool's counters of slots in use, across its areas, which each CPU
/// updates without a lock.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    used: AtomicUsize,
    hiwater: AtomicUsize,
}

impl Counters {
    /// No slot used yet.
    pub(crate) const fn new() -> Self {
        Counters {
            used: AtomicUsize::new(0),
            hiwater: AtomicUsize::new(0),
        }
    }

    /// Slots in use (`io_tlb_used`).
    pub(crate) fn used(&self) -> usize {
        self.used.load(Relaxed)
    }

    /// The most ever in use since the last reset (`io_tlb_used_hiwater`).
    pub(crate) fn hiwater(&self) -> usize {
        self.hiwater.load(Relaxed)
    }

    /// Counts `n` slots taken.
    pub(crate) fn take(&self, n: usize) {
        let used = self.used.fetch_add(n, Relaxed).wrapping_add(n);
        self.hiwater.fetch_max(used, Relaxed);
    }

    /// Counts `n` slots given back.
    pub(crate) fn give(&self, n: usize) {
        self.used.fetch_sub(n, Relaxed);
    }

    /// Resets the high-water mark to 0, as writing 0 to
    /// `io_tlb_used_hiwater` does: the next map sets it again.
    pub(crate) fn reset_hiwater(&self) {
        self.hiwater.store(0, Relaxed);
    }
}
