// SPDX-License-Identifier: GPL-2.0

//! Walking a C scatterlist, chained or not, as `for_each_sg()` does.

use super::mem::page_to_phys;
use super::{
    Dma,
    Phys, //
};
use crate::bindings::{
    self,
    scatterlist, //
};
use crate::ffi::{
    c_int,
    c_uint,
    c_ulong, //
};

const CHAIN: c_ulong = bindings::SG_CHAIN as c_ulong;
const END: c_ulong = bindings::SG_END as c_ulong;

/// The entries of a scatterlist, at most `nents` of them.
///
/// # Invariants
///
/// While `left` is positive, `next` is NULL or a valid entry of the list
/// [`entries()`] was given, followed by at least `left - 1` more unless it
/// is the last one.
pub struct Entries {
    next: *mut scatterlist,
    left: c_int,
}

/// Iterates over the first `nents` entries of `sgl`.
///
/// # Safety
///
/// `sgl` must be a valid scatterlist of at least `nents` entries, not
/// changed by anyone else while the iterator runs.
pub unsafe fn entries(sgl: *mut scatterlist, nents: c_int) -> Entries {
    // INVARIANT: The caller passes a valid list of at least `nents` entries.
    Entries {
        next: sgl,
        left: nents,
    }
}

impl Iterator for Entries {
    type Item = *mut scatterlist;

    #[inline]
    fn next(&mut self) -> Option<*mut scatterlist> {
        if self.left <= 0 || self.next.is_null() {
            return None;
        }
        let sg = self.next;
        self.left -= 1;
        // SAFETY: By the type invariant `sg` is a valid entry; the entry
        // after an entry that is not the last one is valid, and a chain
        // entry's link points to the next array.
        unsafe {
            let link = (*sg).page_link;
            self.next = if link & END != 0 {
                core::ptr::null_mut()
            } else {
                let mut n = sg.add(1);
                let nlink = (*n).page_link;
                if nlink & CHAIN != 0 {
                    n = (nlink & !(CHAIN | END)) as *mut scatterlist;
                }
                n
            };
        }
        Some(sg)
    }
}

/// The physical address of an entry's data (`sg_phys()`).
///
/// # Safety
///
/// `sg` must be a valid entry that has a page.
#[inline]
pub unsafe fn phys(sg: *mut scatterlist) -> Phys {
    // SAFETY: The caller passes a valid entry; its link holds its page.
    let (link, offset) = unsafe { ((*sg).page_link, (*sg).offset) };
    let page = (link & !(CHAIN | END)) as *mut bindings::page;
    page_to_phys(page).wrapping_add(Phys::from(offset))
}

/// The entry's length in bytes.
///
/// # Safety
///
/// `sg` must be a valid entry.
#[inline(always)]
pub unsafe fn length(sg: *mut scatterlist) -> c_uint {
    // SAFETY: The caller passes a valid entry.
    unsafe { (*sg).length }
}

/// The entry's DMA address (`sg_dma_address()`).
///
/// # Safety
///
/// `sg` must be a valid entry.
#[inline(always)]
pub unsafe fn dma_address(sg: *mut scatterlist) -> Dma {
    // SAFETY: The caller passes a valid entry.
    unsafe { (*sg).dma_address }
}

/// The length of the entry's DMA mapping (`sg_dma_len()`).
///
/// # Safety
///
/// `sg` must be a valid entry.
#[inline(always)]
pub unsafe fn dma_len(sg: *mut scatterlist) -> c_uint {
    // SAFETY: The caller passes a valid entry.
    #[cfg(CONFIG_NEED_SG_DMA_LENGTH)]
    let len = unsafe { (*sg).dma_length };
    // SAFETY: The caller passes a valid entry.
    #[cfg(not(CONFIG_NEED_SG_DMA_LENGTH))]
    let len = unsafe { (*sg).length };
    len
}

/// Records the entry's mapping: its DMA address and length.
///
/// # Safety
///
/// `sg` must be a valid entry that the caller may write.
#[inline(always)]
pub unsafe fn set_dma(sg: *mut scatterlist, dma: Dma, len: c_uint) {
    // SAFETY: The caller passes a writable entry.
    unsafe {
        (*sg).dma_address = dma;
        #[cfg(CONFIG_NEED_SG_DMA_LENGTH)]
        {
            (*sg).dma_length = len;
        }
        #[cfg(not(CONFIG_NEED_SG_DMA_LENGTH))]
        {
            (*sg).length = len;
        }
    }
}

/// Whether the entry holds a PCI bus address rather than a mapping
/// (`sg_dma_is_bus_address()`).
///
/// # Safety
///
/// `sg` must be a valid entry.
#[inline(always)]
pub unsafe fn is_bus_address(sg: *mut scatterlist) -> bool {
    // SAFETY: The caller passes a valid entry.
    #[cfg(CONFIG_NEED_SG_DMA_FLAGS)]
    let bus = unsafe { (*sg).dma_flags } & bindings::SG_DMA_BUS_ADDRESS != 0;
    #[cfg(not(CONFIG_NEED_SG_DMA_FLAGS))]
    let bus = false;
    bus
}
