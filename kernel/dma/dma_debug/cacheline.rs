// SPDX-License-Identifier: GPL-2.0-only

//! Which live mappings share a cacheline: chains of records by cacheline,
//! for the overlap checks of mappings the CPU may write.

use super::entry;
use super::records::Node;
use core::ptr;
use core::sync::atomic::AtomicBool;
use core::sync::atomic::Ordering::Relaxed;
use kernel::dma::rust_core::IrqSpinLock;
use kernel::prelude::*;

pub(super) const CL_BUCKETS: usize = 4096;

/// The heads of the cacheline chains, linked through `cl_next`.
///
/// # Invariants
///
/// Each chain is NULL-terminated and holds only live records (in the hash)
/// of mappings the device may write, each on the chain of its cacheline's
/// bucket and on no other; they are reached only under [`CACHELINES`]'s
/// lock.
pub(super) struct Cachelines(pub(super) [*mut Node; CL_BUCKETS]);

// SAFETY: The chained records are live mappings' records, reached only
// through the chains, which move with their heads.
unsafe impl Send for Cachelines {}

pub(super) static CACHELINES: IrqSpinLock<Cachelines> =
    IrqSpinLock::new(Cachelines([ptr::null_mut(); CL_BUCKETS]));

pub(super) fn cl_bucket(cln: u64) -> usize {
    (cln as usize) & (CL_BUCKETS - 1)
}

/// Chains a record on its cacheline; returns how many other live mappings
/// share the line and whether the first of them was mapped "cache clean".
pub(super) fn cacheline_insert(node: *mut Node) -> (u32, bool) {
    // SAFETY: The record is ours and live.
    let (cln, attrs) = unsafe { ((*node).cacheline(), (*node).rec.attrs) };
    let mut chains = CACHELINES.lock();
    let head = &mut chains.0[cl_bucket(cln)];
    let mut others = 0;
    let mut first_clean = None;
    let mut cur = *head;
    while !cur.is_null() {
        // SAFETY: Chained records are live under the lock.
        unsafe {
            if (*cur).cacheline() == cln {
                others += 1;
                first_clean.get_or_insert((*cur).rec.attrs & entry::ATTRS_CACHE_CLEAN != 0);
            }
            cur = (*cur).cl_next;
        }
    }
    // SAFETY: Under the lock; `node` is on no chain.
    unsafe { (*node).cl_next = *head };
    *head = node;
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
    (others, first_clean.unwrap_or(false))
}

pub(super) fn cacheline_remove(node: *mut Node) {
    // SAFETY: The record is ours.
    if !entry::tracks_cacheline(unsafe { (*node).rec.dir }) {
        return;
    }
    // SAFETY: The record is ours.
    let cln = unsafe { (*node).cacheline() };
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
