// SPDX-License-Identifier: GPL-2.0-only

//! A pool of bounce slots: C's `struct io_tlb_pool`, whose `areas` and
//! `slots` point to the bookkeeping kept here.
//!
//! The bookkeeping of a pool of `nslabs` slots in `nareas` areas is two
//! allocations, made by the C glue at the sizes [`areas_size`] and
//! [`slots_size`] give:
//! - at `areas`, one [`AreaLock`] per area;
//! - at `slots`, a [`Slot`] per slot, then the free bitmap (a bit per
//!   slot), then the longest free run of each segment.
//!
//! An area is a whole number of segments, and its parts of the bitmap and
//! the summaries are touched only under its lock. A pool of one area may
//! have memory for fewer slots than its bookkeeping (a transient pool sized
//! to one mapping): the slots past `end` are reserved for good. Slot records are atomics:
//! a sync reads a live mapping's records without the lock.

use super::slots::{
    Area,
    Constraints,
    Cursor,
    Slot,
    SEGSIZE,
    SHIFT, //
};
use core::ffi::c_void;
use core::marker::PhantomData;
use core::mem::size_of;
use core::ptr::{
    self,
    NonNull, //
};
use core::slice;
use kernel::bindings;
use kernel::dma::rust_core::{
    Dma,
    IrqSpinLock,
    Phys, //
};

/// An area's lock, around where its next search starts and its count.
pub(crate) type AreaLock = IrqSpinLock<Cursor>;

/// Bytes of the area locks of a pool of `nareas` areas.
pub(crate) fn areas_size(nareas: usize) -> usize {
    nareas * size_of::<AreaLock>()
}

/// Bytes of the slot records, bitmap and summaries of `nslabs` slots (whole
/// segments of them).
pub(crate) fn slots_size(nslabs: usize) -> usize {
    let (s, w, l) = Area::array_sizes(nslabs.next_multiple_of(SEGSIZE));
    s * size_of::<Slot>() + w * size_of::<u64>() + l
}

/// A pool that [`init`] set up.
///
/// # Invariants
///
/// `raw` points to a pool set up by [`init`], valid for `'a`: `nareas`
/// areas of `area_nslabs` slots, each a whole number of segments, whose
/// first `nslabs` (not 0) have memory from `start` to `end`, mapped at
/// `vaddr`; the others are reserved. `areas` points to `nareas` initialised
/// [`AreaLock`]s and `slots` to the records, bitmap and summaries laid out
/// as the module says, for all the areas' slots. These fields do not change
/// while the pool is in use; C writes the others: the list links (`node`,
/// `rcu`) at any time, and `transient` once, by the mapping's CPU, before
/// the pool's first address is handed out.
#[derive(Clone, Copy)]
pub(crate) struct Pool<'a> {
    raw: NonNull<bindings::io_tlb_pool>,
    _life: PhantomData<&'a bindings::io_tlb_pool>,
}

/// A field of `pool` that does not change while it is in use, read in
/// place: no reference to the C struct, whose list links other CPUs
/// write.
macro_rules! fixed {
    ($pool:expr, $field:ident) => {{
        let p: NonNull<bindings::io_tlb_pool> = $pool.raw;
        // SAFETY: A valid pool whose `$field` does not change while it is
        // in use (type invariant).
        unsafe { (*p.as_ptr()).$field }
    }};
}

impl<'a> Pool<'a> {
    /// The default pool of a pool set; `None` for no set, or a set without
    /// slots.
    ///
    /// # Safety
    ///
    /// `mem` is NULL or a pool set alive for `'a`, whose default pool is
    /// all zeros or was set up by [`init`], and does not change for `'a`.
    pub(crate) unsafe fn of_mem(mem: *mut bindings::io_tlb_mem) -> Option<Self> {
        if mem.is_null() {
            return None;
        }
        // SAFETY: A live set, by the caller's guarantee; only the default
        // pool is borrowed, which does not change, while other CPUs may
        // write the set's other fields.
        let raw = unsafe { ptr::addr_of_mut!((*mem).defpool) };
        // SAFETY: As above.
        unsafe { Pool::from_raw(raw) }
    }

    /// A pool given back by C; `None` for NULL or a pool without slots.
    ///
    /// # Safety
    ///
    /// `pool` is NULL, or a pool that is all zeros or set up by [`init`],
    /// valid and in use for `'a`.
    pub(crate) unsafe fn from_raw(pool: *mut bindings::io_tlb_pool) -> Option<Self> {
        // INVARIANT: A valid pool (the caller's guarantee), set up by `init`
        // if it has slots: `init` writes `nslabs` last.
        let p = Pool {
            raw: NonNull::new(pool)?,
            _life: PhantomData,
        };
        (p.nslabs() != 0).then_some(p)
    }

    /// Slots in the pool's bookkeeping: those of its areas, which may
    /// include reserved ones past its memory (the C field `nslabs` counts
    /// the slots with memory, and is written last at set-up: it says that
    /// the pool is ready).
    fn nslots(self) -> usize {
        self.area_nslabs() * self.nareas()
    }

    /// Slots with memory.
    pub(crate) fn nslabs(self) -> usize {
        fixed!(self, nslabs)
    }

    /// The pool's areas.
    pub(crate) fn nareas(self) -> usize {
        fixed!(self, nareas) as usize
    }

    /// The C pool, for the C calls that take it.
    pub(crate) fn raw(self) -> *mut bindings::io_tlb_pool {
        self.raw.as_ptr()
    }

    /// Whether the pool was made for one mapping, and goes with it.
    pub(crate) fn is_transient(self) -> bool {
        #[cfg(CONFIG_SWIOTLB_DYNAMIC)]
        return fixed!(self, transient);
        #[cfg(not(CONFIG_SWIOTLB_DYNAMIC))]
        false
    }

    fn area_nslabs(self) -> usize {
        fixed!(self, area_nslabs) as usize
    }

    /// The physical address of the first slot.
    pub(crate) fn start(self) -> Phys {
        fixed!(self, start)
    }

    /// Whether pool address `tlb` lies in the pool's memory.
    pub(crate) fn contains(self, tlb: Phys) -> bool {
        (self.start()..fixed!(self, end)).contains(&tlb)
    }

    /// The slot records.
    fn slots(self) -> &'a [Slot] {
        let slots = fixed!(self, slots).cast::<Slot>();
        // SAFETY: A record per slot of the areas at `slots`, set up and
        // alive while the pool is (type invariant); they are atomics, shared
        // by all CPUs.
        unsafe { slice::from_raw_parts(slots, self.nslots()) }
    }

    /// The area locks.
    fn areas(self) -> &'a [AreaLock] {
        let areas = fixed!(self, areas).cast::<AreaLock>();
        // SAFETY: `nareas` initialised locks at `areas` (type invariant).
        unsafe { slice::from_raw_parts(areas, self.nareas()) }
    }

    /// The index of the slot holding pool address `tlb`, if the pool has it.
    fn index_of(self, tlb: Phys) -> Option<usize> {
        let off = tlb.checked_sub(self.start())?;
        (tlb < fixed!(self, end)).then_some(usize::try_from(off >> SHIFT).ok()?)
    }

    /// The record of the slot holding pool address `tlb`.
    pub(crate) fn slot_of(self, tlb: Phys) -> Option<&'a Slot> {
        self.slots().get(self.index_of(tlb)?)
    }

    /// The kernel address of pool address `tlb`, which the pool holds.
    pub(crate) fn vaddr_of(self, tlb: Phys) -> *mut u8 {
        let off = tlb.wrapping_sub(self.start()) as usize;
        fixed!(self, vaddr).cast::<u8>().wrapping_add(off)
    }

    /// Runs `f` on area `i` under its lock. A fresh area is set up first;
    /// any other is attached as its lock holder left it.
    fn with_area<R>(
        self,
        i: usize,
        dma_base: Dma,
        fresh: bool,
        f: impl FnOnce(&mut Area<'_>) -> R,
    ) -> Option<R> {
        let n = self.area_nslabs();
        let mut cur = self.areas().get(i)?.lock();
        let (s, w, l) = Area::array_sizes(n);
        let nslabs = self.nslots();
        let records = fixed!(self, slots).cast::<Slot>();
        // SAFETY: The bitmap follows the records and the summaries follow the
        // bitmap, in the bookkeeping allocation (type invariant). Area `i`'s
        // words and summaries are touched only by the holder of its lock,
        // taken above, so these are the only references to them.
        let (free, longest) = unsafe {
            let words = records.add(nslabs).cast::<u64>();
            let sums = words.add(nslabs / 64).cast::<u8>();
            (
                slice::from_raw_parts_mut(words.add(i * w), w),
                slice::from_raw_parts_mut(sums.add(i * l), l),
            )
        };
        let slots = self.slots().get(i * s..(i + 1) * s)?;
        let dma_start = dma_base.wrapping_add(((i * n) as u64) << SHIFT);
        let mut area = if fresh {
            Area::new(slots, free, longest, dma_start, &mut cur)
        } else {
            Area::attach(slots, free, longest, dma_start, &mut cur)
        }
        .ok()?;
        Some(f(&mut area))
    }

    /// Takes slots for `size` bytes at `orig`, searching the areas from
    /// `cpu`'s on. Returns the pool address of the data and the slots taken.
    /// (A growing set searches its pools area by area instead.)
    #[cfg(not(CONFIG_SWIOTLB_DYNAMIC))]
    pub(crate) fn map(
        self,
        cpu: usize,
        dma_base: Dma,
        orig: Phys,
        size: usize,
        c: &Constraints,
    ) -> Option<(Phys, usize)> {
        (0..self.nareas()).find_map(|k| self.map_in(cpu + k, dma_base, orig, size, c))
    }

    /// As [`Pool::map`], in area `i` (modulo the areas) only.
    pub(crate) fn map_in(
        self,
        i: usize,
        dma_base: Dma,
        orig: Phys,
        size: usize,
        c: &Constraints,
    ) -> Option<(Phys, usize)> {
        let i = i & (self.nareas() - 1);
        let (index, offset, taken) = self.with_area(i, dma_base, false, |a| {
            let before = a.used();
            let (index, offset) = a.map(orig, size as u64, c)?;
            Some((index, offset, a.used() - before))
        })??;
        let slot = (i * self.area_nslabs() + index) as u64;
        Some((self.start() + (slot << SHIFT) + offset, taken))
    }

    /// Frees the slots of the mapping whose data is at pool address `tlb`.
    /// Returns how many it freed: 0 when `tlb` is not where a mapping's
    /// data starts.
    pub(crate) fn unmap(self, tlb: Phys) -> usize {
        let Some(index) = self.index_of(tlb) else {
            return 0;
        };
        let n = self.area_nslabs();
        let offset = tlb & ((1 << SHIFT) - 1);
        self.with_area(index / n, 0, false, |a| a.unmap(index % n, offset))
            .unwrap_or(0)
    }

    /// The longest run of free slots in any area, for reports.
    pub(crate) fn longest_free_run(self) -> usize {
        (0..self.nareas())
            .filter_map(|i| self.with_area(i, 0, false, |a| a.longest_free_run()))
            .max()
            .unwrap_or(0)
    }
}

/// Sets up a pool of `nslabs` slots at `start` (mapped at `vaddr`) in
/// `nareas` areas, over the bookkeeping allocations at `(*pool).areas` and
/// `(*pool).slots`, and clears its memory. Returns the pool, or `None`
/// when the shape is not one a pool can have: areas of whole segments, or
/// one area of fewer slots, whose bookkeeping is a whole segment.
///
/// # Safety
///
/// `pool` is a pool nobody uses yet; its `areas` and `slots` point to
/// allocations of [`areas_size`]`(nareas)` and [`slots_size`]`(nslabs)`
/// bytes, suitably aligned, and `vaddr` to `nslabs` slots of memory at
/// `start`, all of which stay while the pool is in use.
pub(crate) unsafe fn init<'a>(
    pool: *mut bindings::io_tlb_pool,
    start: Phys,
    vaddr: *mut c_void,
    nslabs: usize,
    late_alloc: bool,
    nareas: usize,
) -> Option<Pool<'a>> {
    if nslabs == 0
        || !nareas.is_power_of_two()
        || (nareas > 1 && !nslabs.is_multiple_of(nareas * SEGSIZE))
    {
        return None;
    }
    let nslots = nslabs.next_multiple_of(SEGSIZE);
    let bytes = nslabs << SHIFT;
    // SAFETY: The pool and its allocations are ours to set up (the caller's
    // guarantee), at the sizes written here.
    unsafe {
        ptr::write_bytes(vaddr.cast::<u8>(), 0, bytes);
        let areas = (*pool).areas.cast::<AreaLock>();
        for i in 0..nareas {
            areas.add(i).write(IrqSpinLock::new(Cursor::new()));
            (*areas.add(i)).init(c"swiotlb_area", kernel::static_lock_class!());
        }
        let slots = (*pool).slots.cast::<Slot>();
        for i in 0..nslots {
            slots.add(i).write(Slot::new());
        }
        (*pool).start = start;
        (*pool).end = start + bytes as u64;
        (*pool).vaddr = vaddr;
        (*pool).late_alloc = late_alloc;
        (*pool).nareas = nareas as u32;
        (*pool).area_nslabs = (nslots / nareas) as u32;
    }
    // INVARIANT: Set up above but for `nslabs`, which `with_area` does not
    // read; nobody else uses the pool yet.
    let p = Pool {
        raw: NonNull::new(pool)?,
        _life: PhantomData,
    };
    for i in 0..nareas {
        p.with_area(i, 0, true, |a| {
            a.reserve_tail(nslabs - i * (nslots / nareas))
        })?;
    }
    // Published last: a pool with slots is a pool that is set up.
    core::sync::atomic::fence(core::sync::atomic::Ordering::Release);
    // SAFETY: As above; `p` is not used after this write.
    unsafe { (*pool).nslabs = nslabs };
    // SAFETY: Set up, and the caller's for `'a`.
    unsafe { Pool::from_raw(pool) }
}
