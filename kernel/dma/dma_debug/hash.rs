// SPDX-License-Identifier: GPL-2.0-only

//! The hash of live records, by DMA address, one lock per bucket.

use super::entry::{
    Record, //
    HASH_SIZE,
};
use super::records::Node;
use core::ptr;
use kernel::dma::rust_core::{
    IrqSpinGuard,
    IrqSpinLock, //
};

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
    pub(super) head: *mut Node,
    pub(super) tail: *mut Node,
}

// SAFETY: The records on the chain belong to it and move with it.
unsafe impl Send for Chain {}

pub(super) static BUCKETS: [IrqSpinLock<Chain>; HASH_SIZE] = [const {
    IrqSpinLock::new(Chain {
        head: ptr::null_mut(),
        tail: ptr::null_mut(),
    })
}; HASH_SIZE];

/// A locked bucket.
pub(super) struct Locked<'a>(IrqSpinGuard<'a, Chain>);

pub(super) fn lock_bucket(idx: usize) -> Locked<'static> {
    Locked(BUCKETS[idx].lock())
}

impl Locked<'_> {
    /// The records in the bucket, with their addresses, oldest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = (*mut Node, &Record)> + '_ {
        let mut cur = self.0.head;
        core::iter::from_fn(move || {
            if cur.is_null() {
                return None;
            }
            let n = cur;
            // SAFETY: Records on the list are live while the lock is held.
            unsafe {
                cur = (*n).next;
                Some((n, &(*n).rec))
            }
        })
    }

    pub(super) fn push(&mut self, node: *mut Node) {
        let chain = &mut *self.0;
        let tail = chain.tail;
        // SAFETY: `node` is a valid record on no list, and the chain's
        // records are valid.
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

    pub(super) fn remove(&mut self, node: *mut Node) {
        let chain = &mut *self.0;
        // SAFETY: `node` is on this chain, whose records are valid and
        // reached only under the bucket's lock, which the guard holds.
        unsafe {
            let (prev, next) = ((*node).prev, (*node).next);
            match prev.as_mut() {
                None => chain.head = next,
                Some(prev) => prev.next = next,
            }
            match next.as_mut() {
                None => chain.tail = prev,
                Some(next) => next.prev = prev,
            }
        }
    }
}
