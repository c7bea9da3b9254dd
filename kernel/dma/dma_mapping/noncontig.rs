// SPDX-License-Identifier: GPL-2.0-only

//! Non-contiguous allocations (`dma_alloc_noncontiguous()`): memory that
//! need only look contiguous to the device, handed out as a mapped table.
//! The IOMMU layer builds them from scattered pages; everywhere else they
//! are one page allocation in a one-entry table.

use super::alloc::{
    alloc_pages_quiet,
    dma_mmap_pages,
    free_pages_quiet,
    page_virt, //
};
use super::backend::device_of;
use super::dev::Dev;
use super::hooks::{
    debug,
    trace, //
};
use super::{
    range_map,
    sg,
    ATTR_ALLOC_SINGLE_PAGES,
    ENXIO,
    GFP_COMP, //
};
use kernel::alloc::{
    Flags,
    KBox, //
};
use kernel::bindings::{
    self,
    device,
    dma_data_direction,
    gfp_t,
    sg_table,
    vm_area_struct, //
};
use kernel::ffi::{
    c_int,
    c_uint,
    c_ulong,
    c_void, //
};
use kernel::prelude::*;

/// A one-entry table around one page allocation (the non-IOMMU
/// `dma_alloc_noncontiguous()`).
fn alloc_single_sgt(d: Dev<'_>, size: usize, dir: dma_data_direction, gfp: gfp_t) -> *mut sg_table {
    // SAFETY: An all-zero `sg_table` is an empty one.
    let empty = unsafe { core::mem::zeroed::<sg_table>() };
    let Ok(table) = KBox::new(empty, Flags::from_gfp(gfp)) else {
        return core::ptr::null_mut();
    };
    let sgt = KBox::into_raw(table);
    // SAFETY: `sgt` is ours, from `KBox::into_raw()`; `sg_alloc_table()`
    // gives it one entry, which the page allocation fills in. On failure
    // each step undoes the ones before it.
    unsafe {
        if bindings::sg_alloc_table(sgt, 1, gfp) != 0 {
            drop(KBox::from_raw(sgt));
            return core::ptr::null_mut();
        }
        let sgl = (*sgt).sgl;
        let page = alloc_pages_quiet(d, size, &mut (*sgl).dma_address, dir, gfp);
        if page.is_null() {
            bindings::sg_free_table(sgt);
            drop(KBox::from_raw(sgt));
            return core::ptr::null_mut();
        }
        let len = range_map::page_align(size as u64, bindings::PAGE_SHIFT) as c_uint;
        bindings::sg_set_page(sgl, page, len, 0);
        sg::set_dma(sgl, (*sgl).dma_address, len);
    }
    sgt
}

/// `dma_alloc_noncontiguous()`: memory that need only look contiguous to
/// the device, as a mapped table.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_alloc_noncontiguous(
    dev: *mut device,
    size: usize,
    dir: dma_data_direction,
    gfp: gfp_t,
    attrs: c_ulong,
) -> *mut sg_table {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_alloc_noncontiguous") }) else {
        return core::ptr::null_mut();
    };
    if attrs & !ATTR_ALLOC_SINGLE_PAGES != 0 || gfp & GFP_COMP != 0 {
        kernel::warn_on!(true);
        return core::ptr::null_mut();
    }
    let sgt = if d.uses_iommu() {
        // SAFETY: The IOMMU layer handles the device, which is live.
        unsafe { bindings::iommu_dma_alloc_noncontiguous(dev, size, dir, gfp, attrs) }
    } else {
        alloc_single_sgt(d, size, dir, gfp)
    };
    // SAFETY: `sgt` is NULL or the mapped table just made, which is ours
    // until we return it.
    match unsafe { sgt.as_mut() } {
        None => trace::dma_alloc_sgt_err(d, core::ptr::null_mut(), 0, size, dir, gfp, attrs),
        Some(table) => {
            table.nents = 1;
            let ents = table.orig_nents as c_int;
            // SAFETY: A valid table, mapped.
            unsafe {
                trace::dma_alloc_sgt(d, sgt, size, dir, gfp, attrs);
                debug::debug_dma_map_sg(d, table.sgl, ents, 1, dir, attrs);
            }
        }
    }
    sgt
}

/// `dma_free_noncontiguous()`.
///
/// # Safety
///
/// `dev` must be NULL or a live device, and the arguments must describe one
/// of its allocations of [`dma_alloc_noncontiguous`], which nothing uses
/// any more.
#[export]
pub unsafe extern "C" fn dma_free_noncontiguous(
    dev: *mut device,
    size: usize,
    sgt: *mut sg_table,
    dir: dma_data_direction,
) {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_free_noncontiguous") }) else {
        return;
    };
    // SAFETY: The caller passes a live table of the device, made by the
    // IOMMU layer when it handles the device, else by `alloc_single_sgt()`,
    // which got it from `KBox::into_raw()`.
    unsafe {
        let sgl = (*sgt).sgl;
        trace::dma_free_sgt(d, sgt, size, dir);
        debug::debug_dma_unmap_sg(d, sgl, (*sgt).orig_nents as c_int, dir, 0);
        if d.uses_iommu() {
            bindings::iommu_dma_free_noncontiguous(dev, size, sgt, dir);
        } else {
            free_pages_quiet(d, size, bindings::sg_page(sgl), (*sgl).dma_address, dir);
            bindings::sg_free_table(sgt);
            drop(KBox::from_raw(sgt));
        }
    }
}

/// `dma_vmap_noncontiguous()`: a kernel mapping of the allocation.
///
/// # Safety
///
/// `dev` must be NULL or a live device, and the arguments must describe one
/// of its allocations of [`dma_alloc_noncontiguous`].
#[export]
pub unsafe extern "C" fn dma_vmap_noncontiguous(
    dev: *mut device,
    size: usize,
    sgt: *mut sg_table,
) -> *mut c_void {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_vmap_noncontiguous") }) else {
        return core::ptr::null_mut();
    };
    // SAFETY: The caller passes a live table of the device, which the IOMMU
    // layer made if it handles the device.
    unsafe {
        if d.uses_iommu() {
            return bindings::iommu_dma_vmap_noncontiguous(dev, size, sgt);
        }
        page_virt(bindings::sg_page((*sgt).sgl))
    }
}

/// `dma_vunmap_noncontiguous()`.
///
/// # Safety
///
/// `dev` must be NULL or a live device and `vaddr` come from
/// [`dma_vmap_noncontiguous`] for it.
#[export]
pub unsafe extern "C" fn dma_vunmap_noncontiguous(dev: *mut device, vaddr: *mut c_void) {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_vunmap_noncontiguous") }) else {
        return;
    };
    if d.uses_iommu() {
        // SAFETY: The IOMMU layer made the mapping with `vmap()`.
        unsafe { bindings::vunmap(vaddr) };
    }
}

/// `dma_mmap_noncontiguous()`.
///
/// # Safety
///
/// `dev` must be NULL or a live device; the arguments must describe one of
/// its allocations of [`dma_alloc_noncontiguous`] and a VMA being set up by
/// its mmap handler.
#[export]
pub unsafe extern "C" fn dma_mmap_noncontiguous(
    dev: *mut device,
    vma: *mut vm_area_struct,
    size: usize,
    sgt: *mut sg_table,
) -> c_int {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_mmap_noncontiguous") }) else {
        return -ENXIO;
    };
    // SAFETY: The caller passes a live table and a VMA being set up; the
    // IOMMU layer made the table if it handles the device, else it is one
    // page allocation.
    unsafe {
        if d.uses_iommu() {
            return bindings::iommu_dma_mmap_noncontiguous(dev, vma, size, sgt);
        }
        dma_mmap_pages(dev, vma, size, bindings::sg_page((*sgt).sgl))
    }
}
