// SPDX-License-Identifier: GPL-2.0-only

//! Single streaming mappings: `dma_map_phys()` and its page and resource
//! forms, and their unmaps.

use super::args::{
    Buf,
    Dir,
    Mapping, //
};
use super::backend::{
    device_of,
    no_dma_mask,
    Backend, //
};
use super::hooks::{
    self,
    debug,
    trace, //
};
use super::{
    direct,
    fail,
    mem,
    Dma,
    Phys,
    ATTR_CC_SHARED,
    ATTR_MMIO,
    ATTR_REQUIRE_COHERENT,
    DMA_MAPPING_ERROR, //
};
use kernel::bindings::{
    self,
    device,
    dma_data_direction,
    page, //
};
use kernel::ffi::c_ulong;
use kernel::prelude::*;

/// `dma_map_phys()`: maps `size` bytes at physical address `phys`.
///
/// # Safety
///
/// `dev` must be NULL or a live device; the memory must stay valid until it
/// is unmapped.
#[export]
pub unsafe extern "C" fn dma_map_phys(
    dev: *mut device,
    phys: Phys,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> Dma {
    // SAFETY: By this function's contract the device is NULL or live, and
    // the caller keeps the memory (or MMIO space, with `DMA_ATTR_MMIO`),
    // and the device, until it unmaps it.
    let (d, buf) = unsafe { (device_of(dev, "dma_map_phys"), Buf::new(phys, size, attrs)) };
    let Some(d) = d else {
        return DMA_MAPPING_ERROR;
    };
    let Some(dir) = Dir::check(d, "dma_map_phys", dir) else {
        return DMA_MAPPING_ERROR;
    };
    if !d.has_dma_mask() {
        no_dma_mask(d, "dma_map_phys");
        return DMA_MAPPING_ERROR;
    }
    if !d.is_coherent() && attrs & ATTR_REQUIRE_COHERENT != 0 {
        return DMA_MAPPING_ERROR;
    }
    let dma = match Backend::streaming(d) {
        Backend::Other(_) if attrs & ATTR_CC_SHARED != 0 => return DMA_MAPPING_ERROR,
        _ if fail::map(d, buf.size(), attrs) => DMA_MAPPING_ERROR,
        Backend::Direct => direct::map_phys(d, buf, dir),
        Backend::Other(o) => o.map_phys(buf, dir),
    };
    hooks::kmsan_dma(buf, dir);
    trace::dma_map_phys(d, buf, dma, dir);
    debug::debug_dma_map_phys(d, buf, dir, dma);
    dma
}

/// `dma_map_page_attrs()`: maps part of a page.
///
/// # Safety
///
/// As [`dma_map_phys`]; `page` must be a valid page.
#[export]
pub unsafe extern "C" fn dma_map_page_attrs(
    dev: *mut device,
    page: *mut page,
    offset: usize,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> Dma {
    if attrs & ATTR_MMIO != 0 {
        return DMA_MAPPING_ERROR;
    }
    if cfg!(CONFIG_DMA_API_DEBUG)
        && cfg!(CONFIG_ZONE_DEVICE)
        // SAFETY: The caller passes a valid page.
        && unsafe { bindings::dma_rs_page_is_zone_device(page) }
    {
        kernel::warn_on!(true);
        return DMA_MAPPING_ERROR;
    }
    let phys = mem::page_to_phys(page).wrapping_add(offset as Phys);
    // SAFETY: The memory of a valid page, which the caller keeps until it
    // is unmapped.
    unsafe { dma_map_phys(dev, phys, size, dir, attrs) }
}

/// `dma_unmap_phys()`: removes a mapping of [`dma_map_phys`].
///
/// # Safety
///
/// `dev` must be NULL or a live device; the arguments must describe one of
/// its mappings.
#[export]
pub unsafe extern "C" fn dma_unmap_phys(
    dev: *mut device,
    addr: Dma,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_unmap_phys") }) else {
        return;
    };
    let Some(dir) = Dir::check(d, "dma_unmap_phys", dir) else {
        return;
    };
    // SAFETY: By this function's contract the range is one of the device's
    // mappings, made in this direction, which the caller gives up.
    let map = unsafe { Mapping::new(addr, size, dir, attrs) };
    let backend = Backend::streaming(d);
    if !backend.is_direct() && attrs & ATTR_CC_SHARED != 0 {
        return;
    }
    // Reported before the address is released, as for scatterlists: once an
    // IOMMU frees the IOVA, another mapping may get it, and dma-debug would
    // briefly see two mappings at one address (C reports afterwards).
    trace::dma_unmap_phys(d, &map);
    debug::debug_dma_unmap_phys(d, &map);
    match backend {
        Backend::Direct => direct::unmap_phys(d, map),
        Backend::Other(o) => o.unmap_phys(map),
    }
}

/// `dma_unmap_page_attrs()`.
///
/// # Safety
///
/// As [`dma_unmap_phys`].
#[export]
pub unsafe extern "C" fn dma_unmap_page_attrs(
    dev: *mut device,
    addr: Dma,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) {
    if attrs & ATTR_MMIO != 0 {
        return;
    }
    // SAFETY: The same contract.
    unsafe { dma_unmap_phys(dev, addr, size, dir, attrs) }
}

/// `dma_map_resource()`: maps MMIO space of another device.
///
/// # Safety
///
/// As [`dma_map_phys`].
#[export]
pub unsafe extern "C" fn dma_map_resource(
    dev: *mut device,
    phys_addr: Phys,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> Dma {
    // SAFETY: The same contract.
    unsafe { dma_map_phys(dev, phys_addr, size, dir, attrs | ATTR_MMIO) }
}

/// `dma_unmap_resource()`.
///
/// # Safety
///
/// As [`dma_unmap_phys`].
#[export]
pub unsafe extern "C" fn dma_unmap_resource(
    dev: *mut device,
    addr: Dma,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) {
    // SAFETY: The same contract.
    unsafe { dma_unmap_phys(dev, addr, size, dir, attrs | ATTR_MMIO) }
}
