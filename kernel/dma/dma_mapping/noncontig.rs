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
use super::args::{
    Dir,
    Pages,
    SgBuf,
    SgMapping,
    Table, //
};
use super::backend::{
    device_of,
    Backend, //
};
use super::dev::Dev;
use super::hooks::{
    debug,
    trace, //
};
use super::{
    fail,
    sg,
    ATTR_ALLOC_SINGLE_PAGES,
    ENXIO,
    GFP_COMP, //
};
use core::ptr::{
    self,
    NonNull, //
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
fn alloc_single_sgt(d: Dev<'_>, size: usize, dir: Dir, gfp: gfp_t) -> *mut sg_table {
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
        let Some(mem) = alloc_pages_quiet(d, size, dir, gfp) else {
            bindings::sg_free_table(sgt);
            drop(KBox::from_raw(sgt));
            return core::ptr::null_mut();
        };
        let len = mem.aligned_size() as c_uint;
        let dma = mem.dma();
        bindings::sg_set_page(sgl, mem.into_raw(), len, 0);
        if let Some(entry) = sg::List::new(sgl, 1).first() {
            entry.set_dma(dma, len);
        }
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
        return ptr::null_mut();
    };
    let Some(checked) = Dir::check(d, "dma_alloc_noncontiguous", dir) else {
        trace::dma_alloc_sgt_err(d, ptr::null_mut(), 0, size, dir, gfp, attrs);
        return ptr::null_mut();
    };
    if attrs & !ATTR_ALLOC_SINGLE_PAGES != 0 || gfp & GFP_COMP != 0 {
        kernel::warn_on!(true);
        return ptr::null_mut();
    }
    let sgt = if fail::alloc(d, size, gfp) {
        ptr::null_mut()
    } else if d.uses_iommu() {
        // SAFETY: The IOMMU layer handles the device, which is live.
        unsafe { bindings::iommu_dma_alloc_noncontiguous(dev, size, dir, gfp, attrs) }
    } else {
        alloc_single_sgt(d, size, checked, gfp)
    };
    let Some(table) = NonNull::new(sgt) else {
        trace::dma_alloc_sgt_err(d, ptr::null_mut(), 0, size, dir, gfp, attrs);
        return ptr::null_mut();
    };
    // SAFETY: The table just made, ours until we return it; its pages stay
    // valid, with the device, until it is freed, and its list is mapped
    // into one segment.
    let (table, mapped) = unsafe {
        let t = table.as_ptr();
        (*t).nents = 1;
        let sg = SgBuf::new((*t).sgl, (*t).orig_nents as c_int);
        (Table::new(table), sg.mapped(1))
    };
    trace::dma_alloc_sgt(d, table, size, dir, gfp, attrs);
    if let Some(mapped) = mapped {
        debug::debug_dma_map_sg(d, mapped, checked, attrs);
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
    let Some(table) = NonNull::new(sgt) else {
        return;
    };
    // With an invalid direction the IOMMU layer and dma-direct, which have
    // no use for it, still free the memory, and dma-debug forgets it
    // (reporting a direction other than the allocation's); a device's
    // operations would unmap in no direction (C stops the kernel), so the
    // memory is kept instead.
    let Some(checked) = Dir::check(d, "dma_free_noncontiguous", dir).or_else(|| {
        (d.uses_iommu() || Backend::coherent(d).is_direct()).then_some(Dir::BIDIRECTIONAL)
    }) else {
        return;
    };
    // SAFETY: The caller passes a live table of the device, made by the
    // IOMMU layer when it handles the device, else by `alloc_single_sgt()`,
    // which got it from `KBox::into_raw()` with one entry of pages from
    // `alloc_pages_quiet()`. The caller gives it back: its list is mapped,
    // in this direction, and nothing uses it any more.
    unsafe {
        trace::dma_free_sgt(d, Table::new(table), size, dir);
        let sgl = (*sgt).sgl;
        {
            let sg = SgMapping::new(sgl, (*sgt).orig_nents as c_int, checked, 0);
            debug::debug_dma_unmap_sg(d, &sg);
        }
        if d.uses_iommu() {
            bindings::iommu_dma_free_noncontiguous(dev, size, sgt, dir);
            return;
        }
        if let Some(page) = NonNull::new(bindings::sg_page(sgl)) {
            free_pages_quiet(d, Pages::new(page, (*sgl).dma_address, size, checked));
        }
        bindings::sg_free_table(sgt);
        drop(KBox::from_raw(sgt));
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
    // layer made if it handles the device; otherwise dma-direct made it, and
    // its first entry is a page of the memory map, as `page_virt` requires.
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
