// SPDX-License-Identifier: GPL-2.0

//! Page, physical and linear addresses, as `page_to_phys()`,
//! `pfn_to_page()` and `page_address()` compute them.
//!
//! On x86-64 with its virtual memory map the arithmetic is done inline, on
//! the DMA fast paths; elsewhere the C helpers do it.

use super::Phys;
use crate::bindings;
use crate::ffi::{
    c_ulong,
    c_void, //
};

#[cfg(all(CONFIG_X86_64, CONFIG_SPARSEMEM_VMEMMAP))]
const PAGE_SIZE_OF_STRUCT: usize = core::mem::size_of::<bindings::page>();

/// The physical address of a page (`page_to_phys()`).
#[inline(always)]
pub fn page_to_phys(page: *mut bindings::page) -> Phys {
    #[cfg(all(CONFIG_X86_64, CONFIG_SPARSEMEM_VMEMMAP))]
    {
        // SAFETY: `vmemmap_base` is set at boot; every `struct page` lies
        // in the array that starts there.
        let base = unsafe { bindings::vmemmap_base };
        let pfn = (page as usize).wrapping_sub(base) / PAGE_SIZE_OF_STRUCT;
        (pfn as Phys) << bindings::PAGE_SHIFT
    }
    #[cfg(not(all(CONFIG_X86_64, CONFIG_SPARSEMEM_VMEMMAP)))]
    // SAFETY: `page` is a valid page.
    unsafe {
        bindings::page_to_phys(page)
    }
}

/// The page of a page frame number (`pfn_to_page()`).
#[inline(always)]
pub fn pfn_to_page(pfn: c_ulong) -> *mut bindings::page {
    #[cfg(all(CONFIG_X86_64, CONFIG_SPARSEMEM_VMEMMAP))]
    {
        // SAFETY: `vmemmap_base` is set at boot.
        let base = unsafe { bindings::vmemmap_base };
        base.wrapping_add(pfn.wrapping_mul(PAGE_SIZE_OF_STRUCT)) as *mut bindings::page
    }
    #[cfg(not(all(CONFIG_X86_64, CONFIG_SPARSEMEM_VMEMMAP)))]
    // SAFETY: Address arithmetic only.
    unsafe {
        bindings::pfn_to_page(pfn)
    }
}

/// The kernel's linear-map address of a page (`page_address()`; 64-bit
/// kernels have no highmem).
#[inline(always)]
pub fn page_address(page: *mut bindings::page) -> *mut c_void {
    #[cfg(all(CONFIG_X86_64, CONFIG_SPARSEMEM_VMEMMAP))]
    {
        // SAFETY: `page_offset_base` is set at boot.
        let offset = unsafe { bindings::page_offset_base };
        (page_to_phys(page) as usize).wrapping_add(offset) as *mut c_void
    }
    #[cfg(not(all(CONFIG_X86_64, CONFIG_SPARSEMEM_VMEMMAP)))]
    // SAFETY: A lowmem page.
    unsafe {
        bindings::page_address(page)
    }
}
