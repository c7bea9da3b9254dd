// SPDX-License-Identifier: GPL-2.0-only

//! Growing pool sets (`CONFIG_SWIOTLB_DYNAMIC`).
//!
//! A set's pools are on an RCU list, its default pool first added, the
//! newest first. A mapping searches them area by area, as C does: the
//! current CPU's area of every pool, then the next area of every pool, and
//! so on. When none has room and the set may grow:
//! - the growth worker is asked for one more pool of the default size, for
//!   the mappings to come;
//! - this mapping gets a transient pool of its own, allocated without
//!   sleeping, just big enough for it and below the device's limits. It is
//!   on the device's list of pools, and is freed after an RCU grace period
//!   when the mapping is removed.
//!
//! A mapping longer than a segment fails at once: no pool could hold it.
//! Pools of the set are never freed (but by `swiotlb_exit()` at boot, before
//! any device maps), so a mapping's pool lives at least as long as the
//! mapping.
//!
//! The glue (`kernel/dma/swiotlb_glue.c`) allocates and frees the pools and
//! adds them to and removes them from the lists, under the lists' locks;
//! the lists are walked here, under the RCU read lock, and what is searched
//! and when a pool is made or freed is decided here.

use super::dev::Dev;
use super::pool::Pool;
use super::slots::{
    Constraints,
    Layout,
    SEGSIZE, //
};
use core::marker::PhantomData;
use core::ptr;
use core::sync::atomic::{
    AtomicUsize,
    Ordering::Relaxed, //
};
use kernel::bindings::{
    self,
    device,
    io_tlb_pool,
    list_head, //
};
use kernel::dma::rust_core::Phys;
use kernel::ffi::c_ulong;
use kernel::macros::export;
use kernel::sync::rcu;

/// Slots of the transient pools in use.
static TRANSIENT: AtomicUsize = AtomicUsize::new(0);

/// `io_tlb_transient_nslabs` of the default pool set.
#[export]
pub extern "C" fn swiotlb_rs_transient() -> c_ulong {
    TRANSIENT.load(Relaxed) as c_ulong
}

/// The pools on an RCU list of pools, while the read lock `'g` is held.
///
/// # Invariants
///
/// `head` is a pool set's list or a device's list of transient pools, or
/// NULL once the walk ended; `pos` is NULL or a pool on the list.
struct Pools<'g> {
    head: *mut list_head,
    pos: *mut io_tlb_pool,
    _guard: PhantomData<&'g rcu::Guard>,
}

impl<'g> Pools<'g> {
    /// The pools of the list at `head`.
    ///
    /// # Safety
    ///
    /// `head` is the list of pools of a live pool set or device.
    unsafe fn new(_guard: &'g rcu::Guard, head: *mut list_head) -> Self {
        // INVARIANT: The caller's list; no pool yet.
        Pools {
            head,
            pos: ptr::null_mut(),
            _guard: PhantomData,
        }
    }
}

impl<'g> Iterator for Pools<'g> {
    type Item = Pool<'g>;

    fn next(&mut self) -> Option<Pool<'g>> {
        while !self.head.is_null() {
            let from = if self.pos.is_null() {
                self.head
            } else {
                // SAFETY: A pool on the list (type invariant).
                unsafe { ptr::addr_of_mut!((*self.pos).node) }
            };
            // SAFETY: A node of the list, which stays while the RCU read
            // lock (`'g`) is held; its link is read once, as
            // `rcu_dereference()` does, since writers change it in place.
            let next = unsafe { ptr::read_volatile(ptr::addr_of!((*from).next)) };
            if next == self.head {
                // INVARIANT: The walk ended.
                self.head = ptr::null_mut();
                return None;
            }
            // INVARIANT: Every node of the list but its head is a pool's.
            self.pos = next
                .wrapping_byte_sub(core::mem::offset_of!(io_tlb_pool, node))
                .cast();
            // SAFETY: A pool is set up before it joins a list, and is
            // freed, after leaving it, only after a grace period: it stays
            // while the read lock is held.
            if let Some(pool) = unsafe { Pool::from_raw(self.pos) } {
                return Some(pool);
            }
        }
        None
    }
}

impl core::iter::FusedIterator for Pools<'_> {}

/// Searches the pools of `d`'s set for `size` bytes at `orig`, from area
/// `cpu` on, and grows the set when they are full. Returns the pool, the
/// pool address of the data and the slots taken.
pub(crate) fn find_slots<'a>(
    d: Dev<'a>,
    cpu: usize,
    orig: Phys,
    size: usize,
    c: &Constraints,
) -> Option<(Pool<'a>, Phys, usize)> {
    let nslots = Layout::new(orig, size as u64, c)?.nslots();
    if nslots > SEGSIZE {
        return None;
    }
    let mem = d.mem()?;
    let found =
        search(d, mem, cpu, orig, size, c).or_else(|| transient(d, mem, nslots, orig, size, c));
    let (pool, tlb, taken) = found?;
    d.set_uses_io_tlb();
    // SAFETY: The pool now holds the mapping: a set's pool is never freed,
    // and a transient pool only when the mapping is removed, which its
    // holder cannot do while `d`'s call runs.
    let pool = unsafe { Pool::from_raw(pool) }?;
    Some((pool, tlb, taken))
}

/// The area-by-area search of the set's pools.
fn search(
    d: Dev<'_>,
    mem: *mut bindings::io_tlb_mem,
    cpu: usize,
    orig: Phys,
    size: usize,
    c: &Constraints,
) -> Option<(*mut io_tlb_pool, Phys, usize)> {
    let guard = rcu::read_lock();
    // Area `k` from the CPU's of every pool that has one, for k = 0, 1, ...
    // until no pool has so many areas.
    for k in 0.. {
        let mut any = false;
        // SAFETY: The set of a live device lives as long as it.
        let pools = unsafe { Pools::new(&guard, ptr::addr_of_mut!((*mem).pools)) };
        for p in pools.filter(|p| k < p.nareas()) {
            any = true;
            let dma_base = d.phys_to_dma_unencrypted(p.start());
            if let Some((tlb, taken)) = p.map_in(cpu + k, dma_base, orig, size, c) {
                return Some((p.raw(), tlb, taken));
            }
        }
        if !any {
            break;
        }
    }
    None
}

/// A transient pool of `nslots` slots, for this mapping alone, when the set
/// may grow; the growth worker is asked for more room too.
fn transient(
    d: Dev<'_>,
    mem: *mut bindings::io_tlb_mem,
    nslots: usize,
    orig: Phys,
    size: usize,
    c: &Constraints,
) -> Option<(*mut io_tlb_pool, Phys, usize)> {
    // SAFETY: A live set; the flag is written at boot, and cleared by
    // `default_swiotlb_base()`, a racy reader of it as in C.
    if !unsafe { ptr::read_volatile(ptr::addr_of!((*mem).can_grow)) } {
        return None;
    }
    // SAFETY: Queues the default set's worker; any context.
    unsafe { bindings::swiotlb_rs_grow() };
    let (mask, bus_limit) = d.limits();
    let limit = match (mask, bus_limit) {
        (0, l) | (l, 0) => l,
        (m, l) => m.min(l),
    };
    let gfp = bindings::GFP_NOWAIT;
    // SAFETY: A live device; an allocation that does not sleep.
    let raw = unsafe { bindings::swiotlb_rs_alloc_pool(d.raw(), nslots, nslots, 1, limit, gfp) };
    // SAFETY: NULL or a pool just set up, which nobody else knows yet.
    let pool = unsafe { Pool::from_raw(raw) }?;
    let Some((tlb, taken)) = pool.map_in(0, d.phys_to_dma_unencrypted(pool.start()), orig, size, c)
    else {
        // SAFETY: Ours, unused, on no list.
        unsafe { bindings::swiotlb_rs_free_pool(raw) };
        return None;
    };
    TRANSIENT.fetch_add(pool.nslabs(), Relaxed);
    // SAFETY: A live device; the pool is ours and joins its list.
    unsafe { bindings::swiotlb_rs_add_transient(d.raw(), raw) };
    Some((raw, tlb, taken))
}

/// The slots of `d`'s pool set, all its pools but the transient ones
/// (`io_tlb_nslabs`), and the longest run of free ones in any of them.
pub(crate) fn set_room(d: Dev<'_>, _pool: Pool<'_>) -> (usize, usize) {
    let Some(mem) = d.mem() else {
        return (0, 0);
    };
    let guard = rcu::read_lock();
    // SAFETY: The set of a live device lives as long as it.
    let pools = unsafe { Pools::new(&guard, ptr::addr_of_mut!((*mem).pools)) };
    pools.fold((0, 0), |(total, longest), p| {
        (total + p.nslabs(), longest.max(p.longest_free_run()))
    })
}

/// Frees `pool`, a transient pool of `d`, after a grace period.
///
/// # Safety
///
/// The pool's mapping is gone, and the caller does not use the pool
/// afterwards.
pub(crate) unsafe fn free_transient(d: Dev<'_>, pool: Pool<'_>) {
    TRANSIENT.fetch_sub(pool.nslabs(), Relaxed);
    // SAFETY: A live device and one of its transient pools, which nothing
    // uses any more (the caller's guarantee).
    unsafe { bindings::swiotlb_rs_del_transient(d.raw(), pool.raw()) };
}

/// `__swiotlb_find_pool()`: the pool of `dev` holding `paddr`, in its
/// set or among its transient pools; NULL for none.
///
/// # Safety
///
/// `dev` is a live device that has bounced (`dma_uses_io_tlb`).
#[export]
pub unsafe extern "C" fn __swiotlb_find_pool(dev: *mut device, paddr: Phys) -> *mut io_tlb_pool {
    // SAFETY: A live device (the caller's guarantee).
    let Some(d) = (unsafe { Dev::new(dev) }) else {
        return ptr::null_mut();
    };
    let Some(mem) = d.mem() else {
        return ptr::null_mut();
    };
    let guard = rcu::read_lock();
    // SAFETY: The lists of a live set and of a live device.
    let (set, own) = unsafe {
        (
            Pools::new(&guard, ptr::addr_of_mut!((*mem).pools)),
            Pools::new(&guard, ptr::addr_of_mut!((*dev).dma_io_tlb_pools)),
        )
    };
    set.chain(own)
        .find(|p| p.contains(paddr))
        .map_or(ptr::null_mut(), Pool::raw)
}
