// SPDX-License-Identifier: GPL-2.0-only

//! Ownership hand-overs of streaming mappings between CPU and device
//! (`dma_sync_*()`), and whether a device needs them at all.

use super::args::{
    Dir,
    Range,
    SgRange, //
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
    Dma, //
};
use kernel::bindings::{
    device,
    dma_data_direction,
    scatterlist, //
};
use kernel::ffi::c_int;
use kernel::prelude::*;

/// `__dma_sync_single_for_cpu()`.
///
/// # Safety
///
/// `dev` must be NULL or a live device; the arguments must describe (part
/// of) one of its mappings.
#[export]
pub unsafe extern "C" fn __dma_sync_single_for_cpu(
    dev: *mut device,
    addr: Dma,
    size: usize,
    dir: dma_data_direction,
) {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_sync_single_for_cpu") }) else {
        return;
    };
    let Some(dir) = Dir::check(d, "dma_sync_single_for_cpu", dir) else {
        return;
    };
    // SAFETY: By this function's contract the range is (part of) one of the
    // device's mappings, made in this direction.
    let range = unsafe { Range::new(addr, size, dir) };
    match Backend::streaming(d) {
        Backend::Direct => direct::sync_for_cpu(d, range),
        Backend::Other(o) => o.sync_single_for_cpu(range),
    }
    trace::dma_sync_single_for_cpu(d, range);
    debug::debug_dma_sync_single_for_cpu(d, range);
}

/// `__dma_sync_single_for_device()`.
///
/// # Safety
///
/// As [`__dma_sync_single_for_cpu`].
#[export]
pub unsafe extern "C" fn __dma_sync_single_for_device(
    dev: *mut device,
    addr: Dma,
    size: usize,
    dir: dma_data_direction,
) {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_sync_single_for_device") }) else {
        return;
    };
    let Some(dir) = Dir::check(d, "dma_sync_single_for_device", dir) else {
        return;
    };
    // SAFETY: By this function's contract the range is (part of) one of the
    // device's mappings, made in this direction.
    let range = unsafe { Range::new(addr, size, dir) };
    match Backend::streaming(d) {
        Backend::Direct => direct::sync_for_device(d, range),
        Backend::Other(o) => o.sync_single_for_device(range),
    }
    trace::dma_sync_single_for_device(d, range);
    debug::debug_dma_sync_single_for_device(d, range);
}

/// `__dma_sync_sg_for_cpu()`.
///
/// # Safety
///
/// `dev` must be NULL or a live device, and `sg` a scatterlist of at least
/// `nelems` entries that it mapped.
#[export]
pub unsafe extern "C" fn __dma_sync_sg_for_cpu(
    dev: *mut device,
    sg: *mut scatterlist,
    nelems: c_int,
    dir: dma_data_direction,
) {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_sync_sg_for_cpu") }) else {
        return;
    };
    let Some(dir) = Dir::check(d, "dma_sync_sg_for_cpu", dir) else {
        return;
    };
    // SAFETY: By this function's contract `sg` is a scatterlist of `nelems`
    // entries that the device mapped in this direction.
    let sg = unsafe { SgRange::new(sg, nelems, dir) };
    match Backend::streaming(d) {
        Backend::Direct => direct::sync_sg_for_cpu(d, sg),
        Backend::Other(o) => o.sync_sg_for_cpu(sg),
    }
    trace::dma_sync_sg_for_cpu(d, sg);
    debug::debug_dma_sync_sg_for_cpu(d, sg);
}

/// `__dma_sync_sg_for_device()`.
///
/// # Safety
///
/// As [`__dma_sync_sg_for_cpu`].
#[export]
pub unsafe extern "C" fn __dma_sync_sg_for_device(
    dev: *mut device,
    sg: *mut scatterlist,
    nelems: c_int,
    dir: dma_data_direction,
) {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_sync_sg_for_device") }) else {
        return;
    };
    let Some(dir) = Dir::check(d, "dma_sync_sg_for_device", dir) else {
        return;
    };
    // SAFETY: By this function's contract `sg` is a scatterlist of `nelems`
    // entries that the device mapped in this direction.
    let sg = unsafe { SgRange::new(sg, nelems, dir) };
    match Backend::streaming(d) {
        Backend::Direct => direct::sync_sg_for_device(d, sg),
        Backend::Other(o) => o.sync_sg_for_device(sg),
    }
    trace::dma_sync_sg_for_device(d, sg);
    debug::debug_dma_sync_sg_for_device(d, sg);
}

/// `__dma_need_sync()`: whether syncing `dma_addr` does anything.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn __dma_need_sync(dev: *mut device, dma_addr: Dma) -> bool {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_need_sync") }) else {
        return true;
    };
    match Backend::streaming(d) {
        Backend::Direct => direct::need_sync(d, dma_addr),
        Backend::Other(_) => true,
    }
}

/// `dma_need_unmap()`: whether the device's mappings must be unmapped.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_need_unmap(dev: *mut device) -> bool {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_need_unmap") }) else {
        return true;
    };
    !Backend::streaming(d).is_direct() || !d.skip_sync() || cfg!(CONFIG_DMA_API_DEBUG)
}

/// Decides whether the device's syncs can be skipped, after its mask
/// changed (`dma_setup_need_sync()`).
pub(crate) fn setup_need_sync(d: Dev<'_>) {
    if !cfg!(CONFIG_DMA_NEED_SYNC) {
        return;
    }
    let ops = match Backend::streaming(d) {
        Backend::Direct => None,
        Backend::Other(o) => o.ops(),
    };
    match ops {
        // dma-direct and the IOMMU layer sync only for non-coherent devices.
        None => d.set_skip_sync(d.is_coherent()),
        Some(ops) => d.set_skip_sync(
            ops.sync_single_for_device.is_none()
                && ops.sync_single_for_cpu.is_none()
                && ops.sync_sg_for_device.is_none()
                && ops.sync_sg_for_cpu.is_none(),
        ),
    }
}
