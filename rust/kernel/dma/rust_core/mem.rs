// SPDX-License-Identifier: GPL-2.0

//! Page, physical and linear addresses, as `page_to_phys()`,
//! `pfn_to_page()` and `page_address()` compute them.
//!
//! With a virtual memory map, `page_to_phys()` is done inline on x86-64 and
//! arm64, on the DMA fast paths; elsewhere, and for the others, the C
//! helpers do it.

use super::Phys;
use crate::bindings;
use crate::ffi::{
    c_ulong,
    c_void, //
};

#[cfg(all(any(CONFIG_X86_64, CONFIG_ARM64), CONFIG_SPARSEMEM_VMEMMAP))]
const PAGE_SIZE_OF_STRUCT: usize = core::mem::size_of::<bindings::page>();

/// The physical address of a page (`page_to_phys()`).
///
/// It computes the address from the pointer's value and reads nothing through it: on x86-64
/// and arm64 with their virtual memory maps inline, elsewhere through the C helper (the Rust
/// mapping core runs on those two only). So any pointer is accepted; the result means
/// something only for a page of the memory map.
#[inline(always)]
#[cfg_attr(
    not(all(any(CONFIG_X86_64, CONFIG_ARM64), CONFIG_SPARSEMEM_VMEMMAP)),
    expect(
        clippy::not_unsafe_ptr_arg_deref,
        reason = "the helper does arithmetic on the pointer, it does not read through it"
    )
)]
pub fn page_to_phys(page: *mut bindings::page) -> Phys {
    #[cfg(all(CONFIG_X86_64, CONFIG_SPARSEMEM_VMEMMAP))]
    {
        // SAFETY: `vmemmap_base` is set at boot; every `struct page` lies
        // in the array that starts there.
        let base = unsafe { bindings::vmemmap_base };
        let pfn = (page as usize).wrapping_sub(base) / PAGE_SIZE_OF_STRUCT;
        (pfn as Phys) << bindings::PAGE_SHIFT
    }
    #[cfg(all(CONFIG_ARM64, CONFIG_SPARSEMEM_VMEMMAP))]
    {
        // arm64's `vmemmap` is `VMEMMAP_START` moved back by the first
        // page frame of RAM, `memstart_addr >> PAGE_SHIFT`.
        // SAFETY: `memstart_addr` is set early at boot, read-only after.
        // Shifted as the signed value it is, as C does (it is negative with
        // 52-bit virtual addresses on 48-bit hardware).
        let first_pfn = (unsafe { bindings::memstart_addr } >> bindings::PAGE_SHIFT) as u64;
        // SAFETY: A constant of the C helpers.
        let start = unsafe { bindings::dma_rs_vmemmap_start };
        let index = (page as usize).wrapping_sub(start) / PAGE_SIZE_OF_STRUCT;
        (index as Phys).wrapping_add(first_pfn) << bindings::PAGE_SHIFT
    }
    #[cfg(not(all(any(CONFIG_X86_64, CONFIG_ARM64), CONFIG_SPARSEMEM_VMEMMAP)))]
    // SAFETY: `page_to_phys()` is arithmetic on the pointer's value.
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
///
/// # Safety
///
/// `page` must point to a `struct page` of the memory map: under tag-based KASAN arm64 reads
/// the page's tag through it.
#[inline(always)]
pub unsafe fn page_address(page: *mut bindings::page) -> *mut c_void {
    #[cfg(all(CONFIG_X86_64, CONFIG_SPARSEMEM_VMEMMAP))]
    {
        // SAFETY: `page_offset_base` is set at boot.
        let offset = unsafe { bindings::page_offset_base };
        (page_to_phys(page) as usize).wrapping_add(offset) as *mut c_void
    }
    #[cfg(not(all(CONFIG_X86_64, CONFIG_SPARSEMEM_VMEMMAP)))]
    // SAFETY: `page` is a page of the memory map, as the caller guarantees; 64-bit kernels
    // map all of it.
    unsafe {
        bindings::page_address(page)
    }
}
