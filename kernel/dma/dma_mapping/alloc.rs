// SPDX-License-Identifier: GPL-2.0-only

//! Coherent allocations (`dma_alloc_attrs()`, and the managed
//! `dmam_alloc_attrs()`), pages for streaming DMA (`dma_alloc_pages()`),
//! and the mapping of both into user space.

use super::args::{
    Allocation,
    Coherent,
    Dir,
    Pages,
    Vma, //
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
    direct,
    fail,
    mem,
    range_map,
    Dma,
    BIDIRECTIONAL,
    GFP_COMP,
    GFP_ZONES, //
};
use core::ptr::{
    self,
    NonNull, //
};
use kernel::bindings::{
    self,
    device,
    dma_data_direction,
    gfp_t,
    page,
    pgprot_t,
    sg_table,
    vm_area_struct, //
};
use kernel::error::to_result;
use kernel::ffi::{
    c_int,
    c_ulong,
    c_void, //
};
use kernel::prelude::*;

/// What a managed allocation's devres records.
#[repr(C)]
struct Devres {
    size: usize,
    vaddr: *mut c_void,
    dma: Dma,
    attrs: c_ulong,
}

/// devres release of a managed allocation: frees it.
///
/// # Safety
///
/// `res` must be a record filled in by [`dmam_alloc_attrs`] for `dev`.
unsafe extern "C" fn dmam_release(dev: *mut device, res: *mut c_void) {
    // SAFETY: devres passes the record `dmam_alloc_attrs` filled in.
    let this = unsafe { &*res.cast::<Devres>() };
    // SAFETY: The record describes a live allocation of `dev`, which devres
    // releases while the device is alive.
    unsafe { dma_free_attrs(dev, this.size, this.vaddr, this.dma, this.attrs) };
}

/// devres match: whether record `res` is the allocation `data` describes.
///
/// # Safety
///
/// `res` and `data` must be allocation records.
unsafe extern "C" fn dmam_match(_dev: *mut device, res: *mut c_void, data: *mut c_void) -> c_int {
    // SAFETY: devres passes one of our records and the one to match.
    let (this, other) = unsafe { (&*res.cast::<Devres>(), &*data.cast::<Devres>()) };
    if this.vaddr != other.vaddr {
        return 0;
    }
    kernel::warn_on!(this.size != other.size || this.dma != other.dma);
    1
}

/// `dmam_free_coherent()`: frees a managed coherent allocation early.
///
/// # Safety
///
/// `dev` must be a live device and the arguments must describe one of its
/// allocations of `dmam_alloc_attrs()`.
#[export]
pub unsafe extern "C" fn dmam_free_coherent(
    dev: *mut device,
    size: usize,
    vaddr: *mut c_void,
    dma_handle: Dma,
) {
    let mut key = Devres {
        size,
        vaddr,
        dma: dma_handle,
        attrs: 0,
    };
    // SAFETY: The device is live; the callbacks are those the record was
    // added with, and `key` outlives the call.
    let ret = unsafe {
        bindings::devres_destroy(
            dev,
            Some(dmam_release),
            Some(dmam_match),
            (&raw mut key).cast(),
        )
    };
    kernel::warn_on!(ret != 0);
    // SAFETY: The caller passes a live allocation, no longer managed.
    unsafe { dma_free_attrs(dev, size, vaddr, dma_handle, 0) };
}

/// `dmam_alloc_attrs()`: a coherent allocation freed when the driver
/// unbinds.
///
/// # Safety
///
/// `dev` must be a live device and `dma_handle` writable.
#[export]
pub unsafe extern "C" fn dmam_alloc_attrs(
    dev: *mut device,
    size: usize,
    dma_handle: *mut Dma,
    gfp: gfp_t,
    attrs: c_ulong,
) -> *mut c_void {
    // SAFETY: A plain allocation of a record with our release callback.
    let dr =
        unsafe { bindings::devres_alloc(Some(dmam_release), core::mem::size_of::<Devres>(), gfp) }
            .cast::<Devres>();
    if dr.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: The same contract.
    let vaddr = unsafe { dma_alloc_attrs(dev, size, dma_handle, gfp, attrs) };
    // SAFETY: `dr` is our record, never added on failure; on success the
    // allocation wrote the handle and the record joins the device's list.
    unsafe {
        if vaddr.is_null() {
            bindings::devres_free(dr.cast());
            return vaddr;
        }
        dr.write(Devres {
            size,
            vaddr,
            dma: *dma_handle,
            attrs,
        });
        bindings::devres_add(dev, dr.cast());
    }
    vaddr
}

/// `dma_get_sgtable_attrs()`: describes a coherent allocation as a table.
///
/// # Safety
///
/// `dev` must be NULL or a live device, the arguments must describe one of
/// its coherent allocations, and `sgt` must be writable.
#[export]
pub unsafe extern "C" fn dma_get_sgtable_attrs(
    dev: *mut device,
    sgt: *mut sg_table,
    cpu_addr: *mut c_void,
    dma_addr: Dma,
    size: usize,
    attrs: c_ulong,
) -> c_int {
    // SAFETY: By this function's contract the device is NULL or live, the
    // allocation live, and the table NULL or writable.
    let (d, mem, sgt) = unsafe {
        (
            device_of(dev, "dma_get_sgtable"),
            Allocation::new(cpu_addr, dma_addr, size),
            sgt.as_mut(),
        )
    };
    let (Some(d), Some(sgt)) = (d, sgt) else {
        return EINVAL.to_errno();
    };
    let ret = match Backend::coherent(d) {
        Backend::Direct => direct::get_sgtable(d, sgt, mem),
        Backend::Other(o) => to_result(o.get_sgtable(sgt, mem, attrs)),
    };
    ret.map_or_else(|e| e.to_errno(), |()| 0)
}

/// `dma_pgprot()`: the page protection of a DMA allocation's mappings:
/// `prot` for a coherent device, uncached or write-combining for one that
/// does not snoop the caches.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_pgprot(dev: *mut device, prot: pgprot_t, attrs: c_ulong) -> pgprot_t {
    // SAFETY: The caller passes a live device or NULL.
    match unsafe { device_of(dev, "dma_pgprot") } {
        Some(d) => super::arch::pgprot(d, prot, attrs),
        None => prot,
    }
}

/// `dma_can_mmap()`: whether the device's allocations can be mapped to
/// user space.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_can_mmap(dev: *mut device) -> bool {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_can_mmap") }) else {
        return false;
    };
    match Backend::coherent(d) {
        Backend::Direct => direct::can_mmap(d),
        Backend::Other(o) => o.can_mmap(),
    }
}

/// `dma_mmap_attrs()`: maps a coherent allocation into a user VMA.
///
/// # Safety
///
/// `dev` must be NULL or a live device; the arguments must describe one of
/// its coherent allocations and a VMA being set up by its mmap handler.
#[export]
pub unsafe extern "C" fn dma_mmap_attrs(
    dev: *mut device,
    vma: *mut vm_area_struct,
    cpu_addr: *mut c_void,
    dma_addr: Dma,
    size: usize,
    attrs: c_ulong,
) -> c_int {
    // SAFETY: By this function's contract the device is NULL or live, the
    // allocation live, and the VMA NULL or being set up by the caller.
    let (d, mem, vma) = unsafe {
        (
            device_of(dev, "dma_mmap_attrs"),
            Allocation::new(cpu_addr, dma_addr, size),
            NonNull::new(vma).map(|vma| Vma::new(vma)),
        )
    };
    let (Some(d), Some(mut vma)) = (d, vma) else {
        return ENXIO.to_errno();
    };
    let ret = match Backend::coherent(d) {
        Backend::Direct => direct::mmap(d, &mut vma, mem, attrs),
        Backend::Other(o) => to_result(o.mmap(&mut vma, mem, attrs)),
    };
    ret.map_or_else(|e| e.to_errno(), |()| 0)
}

/// Takes memory from the device's declared coherent region, if it has one
/// (`dma_alloc_from_dev_coherent()`): its address, the handle written.
fn dev_coherent_alloc(d: Dev<'_>, size: usize, handle: &mut Dma) -> Option<*mut c_void> {
    if !cfg!(CONFIG_DMA_DECLARE_COHERENT) {
        return None;
    }
    let mut cpu_addr = core::ptr::null_mut();
    // SAFETY: The device is live (`Dev`); the handle and the address are
    // writable.
    let taken = unsafe {
        bindings::dma_rs_alloc_from_dev_coherent(d.raw(), size as isize, handle, &mut cpu_addr)
    };
    (taken != 0).then_some(cpu_addr)
}

/// `dma_alloc_attrs()`: coherent memory, zeroed.
///
/// # Safety
///
/// `dev` must be NULL or a live device; `dma_handle` must be writable.
#[export]
pub unsafe extern "C" fn dma_alloc_attrs(
    dev: *mut device,
    size: usize,
    dma_handle: *mut Dma,
    flag: gfp_t,
    attrs: c_ulong,
) -> *mut c_void {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_alloc_attrs") }) else {
        return core::ptr::null_mut();
    };
    kernel::warn_on!(d.coherent_mask() == 0);
    if flag & GFP_COMP != 0 {
        kernel::warn_on!(true);
        return core::ptr::null_mut();
    }
    if fail::alloc(d, size, flag) {
        trace::dma_alloc(d, ptr::null_mut(), 0, size, BIDIRECTIONAL, flag, attrs);
        return ptr::null_mut();
    }
    // SAFETY: The caller passes a writable handle.
    let handle = unsafe { &mut *dma_handle };
    if let Some(cpu_addr) = dev_coherent_alloc(d, size, handle) {
        trace::dma_alloc(d, cpu_addr, *handle, size, BIDIRECTIONAL, flag, attrs);
        return cpu_addr;
    }
    let flag = flag & !GFP_ZONES;
    let cpu_addr = match Backend::coherent(d) {
        Backend::Direct => direct::alloc(d, size, handle, flag, attrs),
        Backend::Other(o) => o.alloc(size, handle, flag, attrs),
    };
    let Some(cpu_addr) = NonNull::new(cpu_addr) else {
        trace::dma_alloc(d, ptr::null_mut(), 0, size, BIDIRECTIONAL, flag, attrs);
        return ptr::null_mut();
    };
    // SAFETY: The allocation the backend just made, ours until we return it.
    let mem = unsafe { Coherent::new(cpu_addr, *handle, size, attrs) };
    trace::dma_alloc(d, mem.virt(), mem.dma(), size, BIDIRECTIONAL, flag, attrs);
    debug::debug_dma_alloc_coherent(d, &mem);
    mem.into_raw()
}

/// `dma_free_attrs()`: frees coherent memory.
///
/// # Safety
///
/// `dev` must be NULL or a live device, and the arguments must describe one
/// of its allocations of [`dma_alloc_attrs`].
#[export]
pub unsafe extern "C" fn dma_free_attrs(
    dev: *mut device,
    size: usize,
    cpu_addr: *mut c_void,
    dma_handle: Dma,
    attrs: c_ulong,
) {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_free_attrs") }) else {
        return;
    };
    let order = range_map::order_of(size as u64, bindings::PAGE_SHIFT) as c_int;
    if cfg!(CONFIG_DMA_DECLARE_COHERENT)
        // SAFETY: The device is live; the helper frees the memory only if it
        // lies in the device's declared region.
        && unsafe { bindings::dma_rs_release_from_dev_coherent(dev, order, cpu_addr) } != 0
    {
        return;
    }
    // SAFETY: Reads the CPU's interrupt state.
    kernel::warn_on!(unsafe { bindings::dma_rs_irqs_disabled() });
    trace::dma_free(d, cpu_addr, dma_handle, size, BIDIRECTIONAL, attrs);
    let Some(cpu_addr) = NonNull::new(cpu_addr) else {
        return;
    };
    // SAFETY: By this function's contract, one of the device's allocations,
    // which the caller no longer uses, given back.
    let mem = unsafe { Coherent::new(cpu_addr, dma_handle, size, attrs) };
    debug::debug_dma_free_coherent(d, &mem);
    match Backend::coherent(d) {
        Backend::Direct => direct::free(d, mem),
        Backend::Other(o) => o.free(mem),
    }
}

/// Allocates pages for DMA without the reports.
pub(crate) fn alloc_pages_quiet(d: Dev<'_>, size: usize, dir: Dir, gfp: gfp_t) -> Option<Pages> {
    if d.coherent_mask() == 0 || gfp & (GFP_ZONES | GFP_COMP) != 0 {
        kernel::warn_on!(true);
        return None;
    }
    let aligned = range_map::page_align(size as u64, bindings::PAGE_SHIFT) as usize;
    let mut dma = 0;
    let page = match Backend::coherent(d) {
        Backend::Direct => direct::alloc_pages(d, aligned, &mut dma, gfp),
        Backend::Other(o) => o.alloc_pages(aligned, &mut dma, dir, gfp),
    };
    // SAFETY: The allocation the backend just made, in this direction,
    // ours.
    Some(unsafe { Pages::new(NonNull::new(page)?, dma, size, dir) })
}

/// Frees pages of [`alloc_pages_quiet`] without the reports.
pub(crate) fn free_pages_quiet(d: Dev<'_>, mem: Pages) {
    match Backend::coherent(d) {
        Backend::Direct => direct::free_pages(d, mem),
        Backend::Other(o) => o.free_pages(mem),
    }
}

/// The kernel address of a page of DMA memory, for the reports.
///
/// # Safety
///
/// `page` must be NULL or point to a `struct page` of the memory map.
pub(crate) unsafe fn page_virt(page: *mut page) -> *mut c_void {
    if page.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: A page of the memory map, as the caller guarantees.
    unsafe { mem::page_address(page) }
}

/// `dma_alloc_pages()`: pages for streaming DMA, mapped.
///
/// # Safety
///
/// `dev` must be NULL or a live device; `dma_handle` must be writable.
#[export]
pub unsafe extern "C" fn dma_alloc_pages(
    dev: *mut device,
    size: usize,
    dma_handle: *mut Dma,
    dir: dma_data_direction,
    gfp: gfp_t,
) -> *mut page {
    // SAFETY: By this function's contract the device is NULL or live, and
    // the handle writable.
    let (d, handle) = unsafe { (device_of(dev, "dma_alloc_pages"), &mut *dma_handle) };
    let Some(d) = d else {
        return ptr::null_mut();
    };
    let Some(mem) = Dir::check(d, "dma_alloc_pages", dir)
        .filter(|_| !fail::alloc(d, size, gfp))
        .and_then(|dir| alloc_pages_quiet(d, size, dir, gfp))
    else {
        trace::dma_alloc_pages(d, ptr::null_mut(), 0, size, dir, gfp, 0);
        return ptr::null_mut();
    };
    *handle = mem.dma();
    // SAFETY: `mem` holds pages of the memory map.
    let vaddr = unsafe { page_virt(mem.page()) };
    trace::dma_alloc_pages(d, vaddr, mem.dma(), size, dir, gfp, 0);
    debug::debug_dma_alloc_pages(d, &mem);
    mem.into_raw()
}

/// `dma_free_pages()`.
///
/// # Safety
///
/// `dev` must be NULL or a live device, and the arguments must describe one
/// of its allocations of [`dma_alloc_pages`], which nothing uses any more.
#[export]
pub unsafe extern "C" fn dma_free_pages(
    dev: *mut device,
    size: usize,
    page: *mut page,
    dma_handle: Dma,
    dir: dma_data_direction,
) {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_free_pages") }) else {
        return;
    };
    // SAFETY: The caller passes the first page of an allocation, or NULL.
    let vaddr = unsafe { page_virt(page) };
    trace::dma_free_pages(d, vaddr, dma_handle, size, dir, 0);
    let Some(page) = NonNull::new(page) else {
        return;
    };
    // With an invalid direction dma-direct, which has no use for it, still
    // frees the pages, and dma-debug forgets them (reporting a direction
    // other than the allocation's); the IOMMU layer or the operations
    // would unmap in no direction (C stops the kernel), so the pages are
    // kept instead.
    let Some(dir) = Dir::check(d, "dma_free_pages", dir).or_else(|| {
        Backend::coherent(d)
            .is_direct()
            .then_some(Dir::BIDIRECTIONAL)
    }) else {
        return;
    };
    // SAFETY: By this function's contract, one of the device's page
    // allocations, made in this direction (or, if the caller passed none,
    // one of dma-direct, which has no use for it), which the caller no
    // longer uses, given back.
    let mem = unsafe { Pages::new(page, dma_handle, size, dir) };
    debug::debug_dma_free_pages(d, &mem);
    free_pages_quiet(d, mem);
}

/// `dma_mmap_pages()`: maps pages of [`dma_alloc_pages`] into a user VMA.
///
/// # Safety
///
/// `vma` must be a VMA being set up by its mmap handler and `page` the
/// first of `size` bytes of pages.
#[export]
pub unsafe extern "C" fn dma_mmap_pages(
    _dev: *mut device,
    vma: *mut vm_area_struct,
    size: usize,
    page: *mut page,
) -> c_int {
    let Some(vma) = NonNull::new(vma) else {
        return ENXIO.to_errno();
    };
    // SAFETY: By this function's contract a VMA being set up.
    let mut vma = unsafe { Vma::new(vma) };
    if !vma.fits(size) {
        return ENXIO.to_errno();
    }
    let pfn = (mem::page_to_phys(page) >> bindings::PAGE_SHIFT) as c_ulong;
    // SAFETY: By this function's contract `page` is the first of `size`
    // bytes of pages allocated for DMA, which the VMA fits.
    match unsafe { vma.remap(pfn) } {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
