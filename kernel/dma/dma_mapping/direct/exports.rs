// SPDX-License-Identifier: GPL-2.0-only

//! The exported functions of `direct.c` that IOMMU drivers and
//! architecture code call. C links to them by name, so `pub` is what makes
//! them reachable.

use super::super::args::{
    Coherent,
    Dir,
    Pages, //
};
use super::super::dev::Dev;
use super::{
    alloc,
    alloc_pages,
    free,
    free_pages,
    required_mask,
    supported,
    Dma,
    Phys, //
};
use core::ptr::NonNull;
use kernel::bindings::{
    self,
    device,
    dma_data_direction,
    gfp_t,
    page, //
};
use kernel::prelude::*;

/// `dma_coherent_ok()`: whether `size` bytes at `phys` are within the
/// device's coherent limit; the atomic pools' check.
///
/// # Safety
///
/// `dev` must be a live device.
#[export]
pub unsafe extern "C" fn dma_coherent_ok(dev: *mut device, phys: Phys, size: usize) -> bool {
    // SAFETY: The caller passes a live device.
    unsafe { Dev::new(dev) }.coherent_ok(phys, size)
}

/// `dma_direct_get_required_mask()`.
///
/// # Safety
///
/// `dev` must be a live device.
#[export]
pub unsafe extern "C" fn dma_direct_get_required_mask(dev: *mut device) -> u64 {
    // SAFETY: The caller passes a live device.
    required_mask(unsafe { Dev::new(dev) })
}

/// `dma_direct_supported()`.
///
/// # Safety
///
/// `dev` must be a live device.
#[export]
pub unsafe extern "C" fn dma_direct_supported(dev: *mut device, mask: u64) -> c_int {
    // SAFETY: The caller passes a live device.
    c_int::from(supported(unsafe { Dev::new(dev) }, mask))
}

/// `dma_direct_alloc()`.
///
/// # Safety
///
/// `dev` must be a live device and `dma_handle` writable.
#[export]
pub unsafe extern "C" fn dma_direct_alloc(
    dev: *mut device,
    size: usize,
    dma_handle: *mut Dma,
    gfp: gfp_t,
    attrs: c_ulong,
) -> *mut c_void {
    // SAFETY: The caller passes a live device and a writable handle.
    unsafe { alloc(Dev::new(dev), size, &mut *dma_handle, gfp, attrs) }
}

/// `dma_direct_free()`.
///
/// # Safety
///
/// The arguments must describe an allocation of `dma_direct_alloc()`.
#[export]
pub unsafe extern "C" fn dma_direct_free(
    dev: *mut device,
    size: usize,
    cpu_addr: *mut c_void,
    dma_addr: Dma,
    attrs: c_ulong,
) {
    let Some(cpu_addr) = NonNull::new(cpu_addr) else {
        return;
    };
    // SAFETY: The caller passes a live device and gives back one of its
    // allocations.
    unsafe {
        free(
            Dev::new(dev),
            Coherent::new(cpu_addr, dma_addr, size, attrs),
        )
    }
}

/// `dma_direct_alloc_pages()`.
///
/// # Safety
///
/// `dev` must be a live device and `dma_handle` writable.
#[export]
pub unsafe extern "C" fn dma_direct_alloc_pages(
    dev: *mut device,
    size: usize,
    dma_handle: *mut Dma,
    _dir: dma_data_direction,
    gfp: gfp_t,
) -> *mut page {
    // SAFETY: The caller passes a live device and a writable handle.
    unsafe { alloc_pages(Dev::new(dev), size, &mut *dma_handle, gfp) }
}

/// `dma_direct_free_pages()`.
///
/// # Safety
///
/// The arguments must describe an allocation of
/// `dma_direct_alloc_pages()`.
#[export]
pub unsafe extern "C" fn dma_direct_free_pages(
    dev: *mut device,
    size: usize,
    page: *mut page,
    dma_addr: Dma,
    _dir: dma_data_direction,
) {
    let Some(page) = NonNull::new(page) else {
        return;
    };
    // SAFETY: The caller passes a live device and gives back one of its
    // allocations (of dma-direct, which has no use for its direction).
    unsafe {
        free_pages(
            Dev::new(dev),
            Pages::new(page, dma_addr, size, Dir::BIDIRECTIONAL),
        )
    }
}

/// `dma_direct_set_offset()`: gives a device a range map with one
/// region at a constant offset. Refused if it has a map already.
///
/// # Safety
///
/// `dev` must be a live device with no mappings yet.
#[export]
pub unsafe extern "C" fn dma_direct_set_offset(
    dev: *mut device,
    cpu_start: Phys,
    dma_start: Dma,
    size: u64,
) -> c_int {
    // SAFETY: The caller passes a live device.
    let d = unsafe { Dev::new(dev) };
    if !d.range_map().is_empty() {
        dev_err!(d.as_ref(), "attempt to add DMA range to existing map\n");
        return -(bindings::EINVAL as c_int);
    }
    if cpu_start == dma_start {
        return 0;
    }
    let region = |cpu_start, dma_start, size| bindings::bus_dma_region {
        cpu_start,
        dma_start,
        size,
    };
    // A region of size 0 ends the map. The map is kmalloc'ed: the
    // device's owner frees it with `kfree()`.
    let map = [region(cpu_start, dma_start, size), region(0, 0, 0)];
    let Ok(map) = KBox::new(map, GFP_KERNEL) else {
        return -(bindings::ENOMEM as c_int);
    };
    // SAFETY: The device is live and gets its first range map, which it
    // keeps.
    unsafe { (*dev).dma_range_map = KBox::into_raw(map).cast() };
    0
}
