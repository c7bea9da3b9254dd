// SPDX-License-Identifier: GPL-2.0-only

//! The hash of live records, by DMA address, one lock per bucket.

use super::entry::{
    self,
    MapErr,
    Record, //
    HASH_SIZE,
};
use super::records::{
    Body,
    Node,
    Taken, //
};
use core::ptr::{
    self,
    NonNull, //
};
use kernel::dma::rust_core::{
    IrqSpinGuard,
    IrqSpinLock, //
};
use kernel::static_lock_class;

/// A bucket's records, a list linked through `next` and `prev`, oldest
/// first.
///
/// # Invariants
///
/// `head` and `tail` are both NULL or the first and last of a well-formed
/// doubly linked list of valid records, each of which is on this chain
/// alone and whose DMA address hashes to this bucket. The records are
/// reached only under the bucket's lock.
pub(super) struct Chain {
    head: *mut Node,
    tail: *mut Node,
}

// SAFETY: The records on the chain belong to it and move with it.
unsafe impl Send for Chain {}

static BUCKETS: [IrqSpinLock<Chain>; HASH_SIZE] = [const {
    IrqSpinLock::new(Chain {
        head: ptr::null_mut(),
        tail: ptr::null_mut(),
    })
}; HASH_SIZE];

/// A locked bucket.
pub(super) struct Locked<'a>(IrqSpinGuard<'a, Chain>);

/// Initialises the buckets' locks.
///
/// # Safety
///
/// Called once, before any other use of the hash.
pub(super) unsafe fn init_locks() {
    for b in &BUCKETS {
        // SAFETY: The caller's guarantee: nobody uses the lock yet.
        unsafe { b.init(c"dma_debug_bucket", static_lock_class!()) };
    }
}

/// Locks bucket `idx`.
pub(super) fn lock_bucket(idx: usize) -> Locked<'static> {
    Locked(BUCKETS[idx].lock())
}

impl Locked<'_> {
    /// The records in the bucket, oldest first, as raw pointers.
    fn nodes(&self) -> impl Iterator<Item = *mut Node> + '_ {
        let mut cur = self.0.head;
        core::iter::from_fn(move || {
            let n = NonNull::new(cur)?.as_ptr();
            // SAFETY: By the chain's invariant its records are valid, and
            // reached under the bucket's lock, which the guard holds.
            cur = unsafe { (*n).next };
            Some(n)
        })
    }

    /// What the records in the bucket say, oldest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Body> + '_ {
        // SAFETY: A record of the chain; its body changes only under the
        // bucket's lock, which the guard holds for `'_`.
        self.nodes().map(|n| unsafe { &(*n).body })
    }

    /// Marks the oldest unchecked record that `r` matches exactly as
    /// checked with `dma_mapping_error()`.
    pub(super) fn mark_checked(&mut self, r: &Record) {
        for n in self.nodes() {
            // SAFETY: As in `iter()`.
            let e = unsafe { &(*n).body.rec };
            if entry::exact_match(r, e) && e.map_err == MapErr::NotChecked {
                // SAFETY: The record is valid; its `map_err` changes only
                // under the bucket's lock, which the guard holds, and is
                // read nowhere else.
                unsafe { (*n).body.rec.map_err = MapErr::Checked };
                return;
            }
        }
    }

    /// Files a record at the end of the chain, which takes it. The caller
    /// has locked the bucket of the record's DMA address: a record in
    /// another bucket is never found, and is leaked.
    pub(super) fn push(&mut self, node: Taken) {
        let chain = &mut *self.0;
        let tail = chain.tail;
        let node = node.into_raw();
        // INVARIANT: A record that no bucket and no free list held joins the
        // chain's end.
        // SAFETY: The record was ours, and the chain's records are valid
        // under the lock the guard holds.
        unsafe {
            (*node).prev = tail;
            (*node).next = ptr::null_mut();
            if !tail.is_null() {
                (*tail).next = node;
            }
        }
        if tail.is_null() {
            chain.head = node;
        }
        chain.tail = node;
    }

    /// Takes off the chain the record that best fits `r` (see
    /// [`entry::best_fit`]).
    pub(super) fn take(
        &mut self,
        r: &Record,
        matches: impl Fn(&Record, &Record) -> bool,
    ) -> Option<Taken> {
        // SAFETY: As in `iter()`.
        let candidates = self.nodes().map(|n| (n, unsafe { &(*n).body.rec }));
        let node = entry::best_fit(r, candidates, matches)?;
        let chain = &mut *self.0;
        // INVARIANT: The record leaves the chain, whose links stay well
        // formed.
        // SAFETY: `node` is on this chain, whose records are valid and
        // whose hash links are reached only under the bucket's lock, which
        // the guard holds; they are written in place, with no reference to
        // a neighbour, whose other fields the cacheline chains use. Off the
        // chain, the record is on no list but perhaps a cacheline chain:
        // ours.
        unsafe {
            let (prev, next) = ((*node).prev, (*node).next);
            if prev.is_null() {
                chain.head = next;
            } else {
                (*prev).next = next;
            }
            if next.is_null() {
                chain.tail = prev;
            } else {
                (*next).prev = prev;
            }
            Some(Taken::from_raw(NonNull::new_unchecked(node)))
        }
    }
}
