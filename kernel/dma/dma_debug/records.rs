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
use core::ptr::{
    self,
    NonNull, //
};
use core::sync::atomic::Ordering::Relaxed;
use kernel::bindings;
use kernel::dma::rust_core::IrqSpinLock;
use kernel::ffi::{
    c_uint,
    c_ulong, //
};
use kernel::prelude::*;
use kernel::static_lock_class;

/// A record with its links: in a hash bucket (`next`, `prev`) or on the
/// free list (`next`), and on a cacheline chain (`cl_next`). 128 bytes on
/// 64-bit kernels, as C's entry, so a page holds as many; cacheline
/// aligned, so that records on different CPUs do not share lines.
///
/// The links are reached through raw pointers, under the lock of the list
/// they make (the cacheline chains have their own lock). The [`Body`] is
/// filled in by the holder of a fresh [`Taken`] record, before any list
/// has it; from then on it is read by reference under its bucket's lock or
/// by the holder, and only `rec.map_err` changes, in place, under the
/// bucket's lock. The cacheline chains read `rec.paddr` and `rec.attrs` in
/// place.
#[repr(C, align(64))]
pub(super) struct Node {
    pub(super) next: *mut Node,
    pub(super) prev: *mut Node,
    pub(super) cl_next: *mut Node,
    pub(super) body: Body,
}

/// What a record says: the mapping, and where it was made.
#[repr(C)]
pub(super) struct Body {
    pub(super) rec: Record,
    pub(super) stack_len: u32,
    pub(super) stack: [c_ulong; STACK_DEPTH],
}

/// The cacheline that physical address `paddr` lies in.
pub(super) fn cacheline_of(paddr: u64) -> u64 {
    entry::cacheline(paddr, PAGE_SHIFT, bindings::L1_CACHE_SHIFT)
}

impl Body {
    /// The cacheline the mapping starts in.
    pub(super) fn cacheline(&self) -> u64 {
        cacheline_of(self.rec.paddr)
    }

    /// Where the mapping was made.
    pub(super) fn origin(&self) -> Origin {
        Origin {
            len: self.stack_len,
            stack: self.stack,
        }
    }
}

const _: () = assert!(cfg!(not(CONFIG_64BIT)) || core::mem::size_of::<Node>() == 128);

/// A record that its holder alone has: fresh from the free list (see
/// [`Fresh`]), or taken off its hash bucket.
///
/// # Invariants
///
/// The pointer is to a valid record that is in no hash bucket and not on
/// the free list, so its [`Body`] and its hash links are the holder's
/// alone. It may be on a cacheline chain: `cl_next` belongs to the chains.
pub(super) struct Taken(NonNull<Node>);

impl Taken {
    /// Takes the record at `node`.
    ///
    /// # Safety
    ///
    /// `node` must be a valid record that the caller has just taken off its
    /// bucket or the free list, and that no one else holds.
    pub(super) unsafe fn from_raw(node: NonNull<Node>) -> Self {
        // INVARIANT: The caller's guarantee.
        Taken(node)
    }

    /// Gives the record up, to a list that takes it.
    pub(super) fn into_raw(self) -> *mut Node {
        self.0.as_ptr()
    }

    /// The record, for the links of the list that will take it.
    pub(super) fn as_ptr(&self) -> *mut Node {
        self.0.as_ptr()
    }

    /// What the record says.
    pub(super) fn body(&self) -> &Body {
        // SAFETY: By the type invariant the body is the holder's alone.
        unsafe { &(*self.0.as_ptr()).body }
    }

    /// Fills in a fresh record, which no list, not even a cacheline
    /// chain, has seen.
    fn fill(&mut self, body: Body) {
        // SAFETY: By the type invariant the body is the holder's alone, and
        // a fresh record is on no cacheline chain, whose walks read it.
        unsafe { (*self.0.as_ptr()).body = body };
    }
}

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
}

/// The head of the free records' list, linked through `next`.
///
/// # Invariants
///
/// The list is NULL-terminated and holds valid records that are on no
/// other list (no bucket, no cacheline chain); they are reached only under
/// [`FREE`]'s lock.
pub(super) struct FreeList(*mut Node);

// SAFETY: The records on the list belong to the list, which moves with its
// head.
unsafe impl Send for FreeList {}

static FREE: IrqSpinLock<FreeList> = IrqSpinLock::new(FreeList(ptr::null_mut()));

/// Initialises the free list's lock.
///
/// # Safety
///
/// Called once, before any other use of the records.
pub(super) unsafe fn init_lock() {
    // SAFETY: The caller's guarantee: nobody uses the lock yet.
    unsafe { FREE.init(c"dma_debug_free", static_lock_class!()) };
}

/// A zeroed page of records that nothing else uses.
///
/// # Invariants
///
/// The pointer is to a page of `NODES_PER_PAGE` zeroed records, valid
/// `Node`s (null links, a default record), that are on no list.
pub(super) struct Page(NonNull<Node>);

/// A zeroed page of records, if the page allocator has one.
pub(super) fn new_page(gfp: bindings::gfp_t) -> Option<Page> {
    // SAFETY: A plain page allocation.
    let page = unsafe { bindings::get_zeroed_page_noprof(gfp) } as *mut Node;
    // INVARIANT: A fresh zeroed page, `NODES_PER_PAGE` records long.
    NonNull::new(page).map(Page)
}

/// Allocates a page of records with `GFP_ATOMIC` and adds it to the free
/// list.
fn grow_pool(free: &mut FreeList) -> bool {
    let Some(page) = new_page(bindings::GFP_ATOMIC) else {
        return false;
    };
    add_page_locked(free, page);
    true
}

/// Adds a page of records to the free list, which takes them for good.
pub(super) fn add_page(page: Page) {
    add_page_locked(&mut FREE.lock(), page);
}

/// [`add_page`], with the free list's lock held.
fn add_page_locked(free: &mut FreeList, page: Page) {
    for i in 0..NODES_PER_PAGE {
        // INVARIANT: The free list takes valid records on no other list.
        // SAFETY: The page holds `NODES_PER_PAGE` valid records, on no list
        // (type invariant).
        unsafe {
            let n = page.0.as_ptr().add(i);
            (*n).next = free.0;
            free.0 = n;
        }
    }
    NUM_FREE_ENTRIES.fetch_add(NODES_PER_PAGE as u32, Relaxed);
    NR_TOTAL_ENTRIES.fetch_add(NODES_PER_PAGE as u32, Relaxed);
}

/// A record fresh from the free list, filled in: on no list at all, not
/// even a cacheline chain. Only a fresh record joins a cacheline chain, so
/// that it joins one once.
pub(super) struct Fresh(Taken);

impl Fresh {
    /// What the record says.
    pub(super) fn body(&self) -> &Body {
        self.0.body()
    }

    /// The record, for the links of the chain it joins.
    pub(super) fn as_ptr(&self) -> *mut Node {
        self.0.as_ptr()
    }

    /// The record, to file in the hash.
    pub(super) fn into_taken(self) -> Taken {
        self.0
    }
}

/// Takes a free record, growing the pool when it is empty, and fills it
/// with `rec`, made at `origin`. `None` when memory ran out (dma-debug then
/// switches off).
pub(super) fn alloc_node(rec: Record, origin: &Origin) -> Option<Fresh> {
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
        // SAFETY: The list is not empty (it was, or it was grown just now),
        // and its records are valid (type invariant); the first one leaves
        // it, and is then ours.
        unsafe {
            list.0 = (*n).next;
            Taken::from_raw(NonNull::new_unchecked(n))
        }
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
    let mut node = node;
    node.fill(Body {
        rec,
        stack_len: origin.len,
        stack: origin.stack,
    });
    Some(Fresh(node))
}

/// Returns a record to the free list, after taking it off its cacheline.
pub(super) fn free_node(node: Taken) {
    cacheline_remove(&node);
    let mut free = FREE.lock();
    let node = node.into_raw();
    // INVARIANT: The free list takes a valid record on no other list.
    // SAFETY: The record was ours, and is now off every list.
    unsafe { (*node).next = free.0 };
    free.0 = node;
    NUM_FREE_ENTRIES.fetch_add(1, Relaxed);
}
