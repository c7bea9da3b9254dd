// SPDX-License-Identifier: GPL-2.0-only

//! A device's DMA masks and limits: setting the masks, the mask needed to
//! reach all memory, and the largest mappings.

use super::backend::{
    device_of,
    Backend, //
};
use super::dev::Dev;
use super::sync::setup_need_sync;
use super::{
    direct,
    mask, //
};
use kernel::bindings::{
    self,
    device, //
};
use kernel::ffi::{
    c_int,
    c_ulong, //
};
use kernel::prelude::*;

/// Whether the device's backend can serve `mask` (`dma_supported()`).
fn supported(d: Dev<'_>, mask: u64) -> bool {
    let ops = d.ops();
    if d.uses_iommu() {
        kernel::warn_on!(ops.is_some());
        return ops.is_none();
    }
    match ops {
        Some(ops) => match ops.dma_supported {
            // SAFETY: The device's own operation, called with the live device.
            Some(f) => (unsafe { f(d.raw(), mask) }) != 0,
            None => true,
        },
        None => direct::supported(d, mask),
    }
}

/// The mask that reaches all of memory (`dma_get_required_mask()`).
fn required_mask(d: Dev<'_>) -> u64 {
    match Backend::coherent(d) {
        Backend::Direct => direct::required_mask(d),
        Backend::Other(o) => o.required_mask(),
    }
}

/// `dma_get_required_mask()`: the mask that reaches all of memory.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_get_required_mask(dev: *mut device) -> u64 {
    // SAFETY: The caller passes a live device or NULL.
    match unsafe { device_of(dev, "dma_get_required_mask") } {
        Some(d) => required_mask(d),
        None => mask::bit_mask(32),
    }
}

/// `dma_pci_p2pdma_supported()`: whether PCI peer-to-peer DMA can work.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_pci_p2pdma_supported(dev: *mut device) -> bool {
    // SAFETY: The caller passes a live device or NULL.
    unsafe { device_of(dev, "dma_pci_p2pdma_supported") }.is_some_and(|d| d.ops().is_none())
}

/// Sets the streaming mask, if the device can use it.
fn set_mask(d: Dev<'_>, mask: u64) -> Result {
    if !d.has_dma_mask() || !supported(d, mask) {
        return Err(EIO);
    }
    d.store_dma_mask(mask)?;
    setup_need_sync(d);
    Ok(())
}

/// `dma_set_mask()`: sets the streaming mask, if the device can use it;
/// `-EIO` if not.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_set_mask(dev: *mut device, mask: u64) -> c_int {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_set_mask") }) else {
        return EIO.to_errno();
    };
    match set_mask(d, mask) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `dma_set_coherent_mask()`: sets the coherent mask, if the device can use
/// it; `-EIO` if not.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_set_coherent_mask(dev: *mut device, mask: u64) -> c_int {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_set_coherent_mask") }) else {
        return EIO.to_errno();
    };
    if !supported(d, mask) {
        return EIO.to_errno();
    }
    d.store_coherent_mask(mask);
    0
}

/// Whether the device cannot reach all of memory directly.
pub(crate) fn addressing_limited(d: Dev<'_>) -> bool {
    if mask::min_not_zero(d.dma_mask(), d.bus_limit()) < required_mask(d) {
        return true;
    }
    if d.ops().is_some() || d.uses_iommu() {
        return false;
    }
    !direct::all_ram_mapped(d)
}

/// `dma_addressing_limited()`.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_addressing_limited(dev: *mut device) -> bool {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_addressing_limited") }) else {
        return false;
    };
    if !addressing_limited(d) {
        return false;
    }
    dev_dbg!(d.as_ref(), "device is DMA addressing limited\n");
    true
}

/// The largest single mapping.
fn max_mapping_size(d: Dev<'_>) -> usize {
    match Backend::streaming(d) {
        Backend::Direct => direct::max_mapping_size(d),
        Backend::Other(o) => o.max_mapping_size(),
    }
}

/// `dma_max_mapping_size()`: the largest single mapping.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_max_mapping_size(dev: *mut device) -> usize {
    // SAFETY: The caller passes a live device or NULL.
    unsafe { device_of(dev, "dma_max_mapping_size") }.map_or(0, max_mapping_size)
}

/// `dma_opt_mapping_size()`: the largest mapping that stays fast.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_opt_mapping_size(dev: *mut device) -> usize {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_opt_mapping_size") }) else {
        return 0;
    };
    let opt = if d.uses_iommu() {
        // SAFETY: A query without arguments, for a device the IOMMU layer
        // handles.
        unsafe { bindings::iommu_dma_opt_mapping_size() }
    } else {
        match d.ops().and_then(|ops| ops.opt_mapping_size) {
            // SAFETY: The device's own operation, which takes no argument.
            Some(f) => unsafe { f() },
            None => usize::MAX,
        }
    };
    max_mapping_size(d).min(opt)
}

/// `dma_get_merge_boundary()`: the boundary the IOMMU can merge segments
/// at, 0 if it cannot.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_get_merge_boundary(dev: *mut device) -> c_ulong {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_get_merge_boundary") }) else {
        return 0;
    };
    if d.uses_iommu() {
        // SAFETY: The IOMMU layer handles the device, which is live.
        return unsafe { bindings::iommu_dma_get_merge_boundary(dev) };
    }
    match d.ops().and_then(|ops| ops.get_merge_boundary) {
        // SAFETY: The device's own operation, called with the live device.
        Some(f) => unsafe { f(dev) },
        None => 0,
    }
}
