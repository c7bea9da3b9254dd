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
//! the summaries are touched only under its lock. Slot records are atomics:
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
use core::mem::size_of;
use core::ptr;
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

/// Bytes of the slot records, bitmap and summaries of `nslabs` slots.
pub(crate) fn slots_size(nslabs: usize) -> usize {
    let (s, w, l) = Area::array_sizes(nslabs);
    s * size_of::<Slot>() + w * size_of::<u64>() + l
}

/// A pool that [`init`] set up.
///
/// # Invariants
///
/// `raw` was set up by [`init`] and does not change while the pool is in
/// use: `nslabs` slots (not 0) from `start`, mapped at `vaddr`, in `nareas`
/// areas of `area_nslabs` slots, each a whole number of segments; `areas`
/// points to `nareas` initialised [`AreaLock`]s and `slots` to the records,
/// bitmap and summaries laid out as the module says, for `nslabs` slots.
#[derive(Clone, Copy)]
pub(crate) struct Pool<'a> {
    raw: &'a bindings::io_tlb_pool,
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
        let raw = unsafe { &*ptr::addr_of!((*mem).defpool) };
        // INVARIANT: A pool with slots was set up by `init` (the caller's
        // guarantee).
        (raw.nslabs != 0).then_some(Pool { raw })
    }

    /// A pool given back by C.
    ///
    /// # Safety
    ///
    /// `pool` is NULL or a pool set up by [`init`] that is in use for `'a`.
    pub(crate) unsafe fn from_raw(pool: *mut bindings::io_tlb_pool) -> Option<Self> {
        // SAFETY: By the caller's guarantee; it does not change while in use.
        let raw = unsafe { pool.as_ref() }?;
        // INVARIANT: Set up by `init` (the caller's guarantee).
        (raw.nslabs != 0).then_some(Pool { raw })
    }

    /// Slots in the pool: those of its areas (the C field `nslabs`, equal
    /// to it, is written last at set-up and only says that the pool is
    /// ready).
    pub(crate) fn nslabs(self) -> usize {
        self.area_nslabs() * self.raw.nareas as usize
    }

    fn area_nslabs(self) -> usize {
        self.raw.area_nslabs as usize
    }

    /// The physical address of the first slot.
    pub(crate) fn start(self) -> Phys {
        self.raw.start
    }

    /// The slot records.
    fn slots(self) -> &'a [Slot] {
        // SAFETY: `nslabs` records at `slots`, set up and alive while the
        // pool is (type invariant); they are atomics, shared by all CPUs.
        unsafe { slice::from_raw_parts(self.raw.slots.cast::<Slot>(), self.nslabs()) }
    }

    /// The area locks.
    fn areas(self) -> &'a [AreaLock] {
        // SAFETY: `nareas` initialised locks at `areas` (type invariant).
        unsafe {
            slice::from_raw_parts(self.raw.areas.cast::<AreaLock>(), self.raw.nareas as usize)
        }
    }

    /// The index of the slot holding pool address `tlb`, if the pool has it.
    fn index_of(self, tlb: Phys) -> Option<usize> {
        let off = tlb.checked_sub(self.start())?;
        let index = usize::try_from(off >> SHIFT).ok()?;
        (index < self.nslabs()).then_some(index)
    }

    /// The record of the slot holding pool address `tlb`.
    pub(crate) fn slot_of(self, tlb: Phys) -> Option<&'a Slot> {
        self.slots().get(self.index_of(tlb)?)
    }

    /// The kernel address of pool address `tlb`, which the pool holds.
    pub(crate) fn vaddr_of(self, tlb: Phys) -> *mut u8 {
        let off = tlb.wrapping_sub(self.start()) as usize;
        self.raw.vaddr.cast::<u8>().wrapping_add(off)
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
        let nslabs = self.nslabs();
        // SAFETY: The bitmap follows the records and the summaries follow the
        // bitmap, in the bookkeeping allocation (type invariant). Area `i`'s
        // words and summaries are touched only by the holder of its lock,
        // taken above, so these are the only references to them.
        let (free, longest) = unsafe {
            let words = self.raw.slots.cast::<Slot>().add(nslabs).cast::<u64>();
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
    pub(crate) fn map(
        self,
        cpu: usize,
        dma_base: Dma,
        orig: Phys,
        size: usize,
        c: &Constraints,
    ) -> Option<(Phys, usize)> {
        let nareas = self.areas().len();
        let first = cpu & (nareas - 1);
        (0..nareas).find_map(|k| {
            let i = (first + k) % nareas;
            let (index, offset, taken) = self.with_area(i, dma_base, false, |a| {
                let before = a.used();
                let (index, offset) = a.map(orig, size as u64, c)?;
                Some((index, offset, a.used() - before))
            })??;
            let slot = (i * self.area_nslabs() + index) as u64;
            Some((self.start() + (slot << SHIFT) + offset, taken))
        })
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
        (0..self.areas().len())
            .filter_map(|i| self.with_area(i, 0, false, |a| a.longest_free_run()))
            .max()
            .unwrap_or(0)
    }
}

/// Sets up a pool of `nslabs` slots at `start` (mapped at `vaddr`) in
/// `nareas` areas, over the bookkeeping allocations at `(*pool).areas` and
/// `(*pool).slots`, and clears its memory. Returns the pool, or `None`
/// when the shape is not one a pool can have.
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
    if nslabs == 0 || !nareas.is_power_of_two() || !nslabs.is_multiple_of(nareas * SEGSIZE) {
        return None;
    }
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
        for i in 0..nslabs {
            slots.add(i).write(Slot::new());
        }
        (*pool).start = start;
        (*pool).end = start + bytes as u64;
        (*pool).vaddr = vaddr;
        (*pool).late_alloc = late_alloc;
        (*pool).nareas = nareas as u32;
        (*pool).area_nslabs = (nslabs / nareas) as u32;
    }
    // SAFETY: The caller's pool, which nobody else uses yet.
    let raw = unsafe { &*pool };
    // INVARIANT: Set up above but for `nslabs`, which `with_area` does not
    // read; nobody else uses the pool yet.
    let p = Pool { raw };
    for i in 0..nareas {
        p.with_area(i, 0, true, |_| ())?;
    }
    // Published last: a pool with slots is a pool that is set up.
    core::sync::atomic::fence(core::sync::atomic::Ordering::Release);
    // SAFETY: As above; `p` is not used after this write.
    unsafe { (*pool).nslabs = nslabs };
    // SAFETY: Set up, and the caller's for `'a`.
    unsafe { Pool::from_raw(pool) }
}
