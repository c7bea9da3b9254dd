// SPDX-License-Identifier: GPL-2.0-only

//! Which live mappings share a cacheline: chains of records by cacheline,
//! for the overlap checks of mappings the CPU may write.

use super::entry;
use super::records::{
    cacheline_of,
    Fresh,
    Node,
    Taken, //
};
use core::ptr;
use core::sync::atomic::AtomicBool;
use core::sync::atomic::Ordering::Relaxed;
use kernel::dma::rust_core::IrqSpinLock;
use kernel::prelude::*;
use kernel::static_lock_class;

pub(super) const CL_BUCKETS: usize = 4096;

/// The heads of the cacheline chains, linked through `cl_next`.
///
/// # Invariants
///
/// Each chain is NULL-terminated and holds only valid records of mappings
/// the device may write (in the hash, or about to join it, or just taken
/// off it to be freed), each on the chain of its cacheline's bucket and on
/// no other; they are reached only under [`CACHELINES`]'s lock.
pub(super) struct Cachelines([*mut Node; CL_BUCKETS]);

// SAFETY: The chained records are live mappings' records, reached only
// through the chains, which move with their heads.
unsafe impl Send for Cachelines {}

static CACHELINES: IrqSpinLock<Cachelines> =
    IrqSpinLock::new(Cachelines([ptr::null_mut(); CL_BUCKETS]));

/// Initialises the chains' lock.
///
/// # Safety
///
/// Called once, before any other use of the chains.
pub(super) unsafe fn init_lock() {
    // SAFETY: The caller's guarantee: nobody uses the lock yet.
    unsafe { CACHELINES.init(c"dma_debug_cachelines", static_lock_class!()) };
}

pub(super) fn cl_bucket(cln: u64) -> usize {
    (cln as usize) & (CL_BUCKETS - 1)
}

/// Chains a fresh record on its cacheline if the device may write its
/// memory (only those are chained, and [`cacheline_remove`] unchains only
/// those); returns the record, to file in the hash, how many other live
/// mappings share the line, and whether the first of them was mapped
/// "cache clean".
pub(super) fn cacheline_insert(node: Fresh) -> (Taken, u32, bool) {
    if !entry::tracks_cacheline(node.body().rec.dir) {
        return (node.into_taken(), 0, false);
    }
    let (cln, attrs) = (node.body().cacheline(), node.body().rec.attrs);
    let mut chains = CACHELINES.lock();
    let head = &mut chains.0[cl_bucket(cln)];
    let mut others = 0;
    let mut first_clean = None;
    let mut cur = *head;
    while !cur.is_null() {
        // SAFETY: Chained records are live under the lock. Two fields are
        // read in place, neither of which changes once a record is
        // chained (only its `map_err` does, under its bucket's lock).
        unsafe {
            let (paddr, attrs) = ((*cur).body.rec.paddr, (*cur).body.rec.attrs);
            if cacheline_of(paddr) == cln {
                others += 1;
                first_clean.get_or_insert(attrs & entry::ATTRS_CACHE_CLEAN != 0);
            }
            cur = (*cur).cl_next;
        }
    }
    // INVARIANT: A live record joins the chain of its cacheline's bucket.
    // SAFETY: Under the lock, which `cl_next` belongs to; `node` is valid
    // and, fresh, on no chain yet (`Fresh`).
    unsafe { (*node.as_ptr()).cl_next = *head };
    *head = node.as_ptr();
    if others > entry::MAX_OVERLAP && attrs & entry::ATTRS_CACHE_CLEAN == 0 {
        static WARNED: AtomicBool = AtomicBool::new(false);
        if !WARNED.swap(true, Relaxed) {
            pr_warn!(
                "exceeded {} overlapping mappings of cacheline {:#x}\n",
                entry::MAX_OVERLAP,
                cln
            );
            kernel::warn_on!(true);
        }
    }
    (node.into_taken(), others, first_clean.unwrap_or(false))
}

/// Takes a record off its cacheline's chain, if it is on one.
pub(super) fn cacheline_remove(node: &Taken) {
    if !entry::tracks_cacheline(node.body().rec.dir) {
        return;
    }
    let cln = node.body().cacheline();
    let node = node.as_ptr();
    let mut chains = CACHELINES.lock();
    let mut link: *mut *mut Node = &mut chains.0[cl_bucket(cln)];
    // SAFETY: The record is on its bucket's chain, whose records are live
    // and reached only under the lock.
    unsafe {
        while !(*link).is_null() {
            if *link == node {
                *link = (*node).cl_next;
                return;
            }
            link = &raw mut (**link).cl_next;
        }
    }
}
