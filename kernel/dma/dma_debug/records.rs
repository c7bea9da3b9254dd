// SPDX-License-Identifier: GPL-2.0-only

//! The records of live mappings: their memory, a page of them at a time,
//! and the free list.

use super::cacheline::cacheline_remove;
use super::entry::Record;
use super::{
    entry,
    DISABLED,
    MIN_FREE_ENTRIES,
    NR_PREALLOC_ENTRIES,
    NR_TOTAL_ENTRIES,
    NUM_FREE_ENTRIES,
    PAGE_SHIFT,
    PAGE_SIZE,
    STACK_DEPTH, //
};
use core::ptr;
use core::sync::atomic::Ordering::Relaxed;
use kernel::bindings;
use kernel::dma::rust_core::IrqSpinLock;
use kernel::ffi::{
    c_uint,
    c_ulong, //
};
use kernel::prelude::*;

/// A record with its links: in a hash bucket (`next`, `prev`) or on the
/// free list (`next`), and on a cacheline chain (`cl_next`). 128 bytes on
/// 64-bit kernels, as C's entry, so a page holds as many; cacheline
/// aligned, so that records on different CPUs do not share lines.
#[repr(C, align(64))]
pub(super) struct Node {
    pub(super) next: *mut Node,
    pub(super) prev: *mut Node,
    pub(super) cl_next: *mut Node,
    pub(super) rec: Record,
    pub(super) stack_len: u32,
    pub(super) stack: [c_ulong; STACK_DEPTH],
}

impl Node {
    pub(super) fn cacheline(&self) -> u64 {
        entry::cacheline(self.rec.paddr, PAGE_SHIFT, bindings::L1_CACHE_SHIFT)
    }
}

const _: () = assert!(cfg!(not(CONFIG_64BIT)) || core::mem::size_of::<Node>() == 128);

pub(super) const NODES_PER_PAGE: usize = PAGE_SIZE / core::mem::size_of::<Node>();

/// Where a mapping was made: the stack saved when its record was taken.
#[derive(Clone, Copy)]
pub(super) struct Origin {
    pub(super) len: u32,
    pub(super) stack: [c_ulong; STACK_DEPTH],
}

impl Origin {
    /// The stack of the DMA API call being tracked, from the caller of the
    /// hook function this is inlined into: the mapping core's entry point,
    /// then the driver. Three frames, where C keeps five: unwinding costs
    /// hundreds of instructions a frame, and the report names the
    /// driver's call site itself.
    #[inline(always)]
    pub(super) fn here() -> Self {
        let mut o = Origin {
            len: 0,
            stack: [0; STACK_DEPTH],
        };
        if cfg!(CONFIG_STACKTRACE) {
            // SAFETY: `stack` has room for `STACK_DEPTH` entries. The two
            // frames skipped are the unwinder's entry and the hook's.
            o.len = unsafe {
                bindings::stack_trace_save(o.stack.as_mut_ptr(), STACK_DEPTH as c_uint, 2)
            };
        }
        o
    }

    pub(super) fn of(node: &Node) -> Self {
        Origin {
            len: node.stack_len,
            stack: node.stack,
        }
    }
}

/// The head of the free records' list, linked through `next`.
///
/// # Invariants
///
/// The list is NULL-terminated and holds valid records that are on no
/// other list (no bucket, no cacheline chain); they are reached only under
/// [`FREE`]'s lock.
pub(super) struct FreeList(pub(super) *mut Node);

// SAFETY: The records on the list belong to the list, which moves with its
// head.
unsafe impl Send for FreeList {}

pub(super) static FREE: IrqSpinLock<FreeList> = IrqSpinLock::new(FreeList(ptr::null_mut()));

/// A zeroed page of records, or NULL.
pub(super) fn new_page(gfp: bindings::gfp_t) -> *mut Node {
    // SAFETY: A plain page allocation.
    unsafe { bindings::get_zeroed_page_noprof(gfp) as *mut Node }
}

/// Allocates a page of records with `GFP_ATOMIC` and adds it to the free
/// list.
pub(super) fn grow_pool(free: &mut FreeList) -> bool {
    let page = new_page(bindings::GFP_ATOMIC);
    if page.is_null() {
        return false;
    }
    add_page(free, page);
    true
}

/// Adds a zeroed page of records, which nothing else uses, to the free
/// list.
pub(super) fn add_page(free: &mut FreeList, page: *mut Node) {
    for i in 0..NODES_PER_PAGE {
        // SAFETY: The page holds `NODES_PER_PAGE` zeroed records, which are
        // valid `Node`s (null links, default record).
        unsafe {
            let n = page.add(i);
            (*n).next = free.0;
            free.0 = n;
        }
    }
    NUM_FREE_ENTRIES.fetch_add(NODES_PER_PAGE as u32, Relaxed);
    NR_TOTAL_ENTRIES.fetch_add(NODES_PER_PAGE as u32, Relaxed);
}

/// Takes a free record, growing the pool when it is empty, with the current
/// stack saved. `None` when memory ran out (dma-debug then switches off).
pub(super) fn alloc_node(origin: &Origin) -> Option<*mut Node> {
    let mut grown = None;
    let node = {
        let mut list = FREE.lock();
        if list.0.is_null() {
            if !grow_pool(&mut list) {
                DISABLED.store(true, Relaxed);
                drop(list);
                pr_err!("debugging out of memory - disabling\n");
                return None;
            }
            grown = Some(NR_TOTAL_ENTRIES.load(Relaxed));
        }
        let free = NUM_FREE_ENTRIES.load(Relaxed) - 1;
        NUM_FREE_ENTRIES.store(free, Relaxed);
        if free < MIN_FREE_ENTRIES.load(Relaxed) {
            MIN_FREE_ENTRIES.store(free, Relaxed);
        }
        let n = list.0;
        // SAFETY: The list is not empty; its records are valid.
        list.0 = unsafe { (*n).next };
        n
    };
    if let Some(total) = grown {
        let prealloc = NR_PREALLOC_ENTRIES.load(Relaxed).max(1);
        if (total % prealloc) < NODES_PER_PAGE as u32 {
            pr_info!(
                "dma_debug_entry pool grown to {} ({}00%)\n",
                total,
                total / prealloc
            );
        }
    }
    // SAFETY: The record is ours now; writing a fresh `Node` over it.
    unsafe {
        node.write(Node {
            next: ptr::null_mut(),
            prev: ptr::null_mut(),
            cl_next: ptr::null_mut(),
            rec: Record::default(),
            stack_len: origin.len,
            stack: origin.stack,
        });
    }
    Some(node)
}

/// Returns a record to the free list, after taking it off its cacheline.
pub(super) fn free_node(node: *mut Node) {
    cacheline_remove(node);
    let mut free = FREE.lock();
    // SAFETY: The record is off every list, so the free list may take it.
    unsafe { (*node).next = free.0 };
    free.0 = node;
    NUM_FREE_ENTRIES.fetch_add(1, Relaxed);
}
