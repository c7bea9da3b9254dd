// SPDX-License-Identifier: GPL-2.0

//! What a device can map: mapping sizes, the required mask, addressing limits.
//!
//! C header: [`include/linux/dma-mapping.h`](srctree/include/linux/dma-mapping.h)
//!
//! # Examples
//!
//! ```
//! use kernel::device::{Bound, Device};
//! use kernel::dma::limits;
//!
//! fn chunk_size(dev: &Device<Bound>) -> usize {
//!     limits::opt_mapping_size(dev).min(limits::max_mapping_size(dev)).min(1 << 20)
//! }
//! ```

use crate::{
    bindings,
    device::{Bound, Core, Device},
    prelude::*,
};

/// The largest mapping the device can get, in bytes (`dma_max_mapping_size()`).
///
/// Bounce buffering limits it to the size of one bounce slot run.
pub fn max_mapping_size(dev: &Device<Bound>) -> usize {
    // SAFETY: `dev` is a valid device.
    unsafe { bindings::dma_max_mapping_size(dev.as_raw()) }
}

/// The largest mapping that costs no more per byte than smaller ones, in bytes
/// (`dma_opt_mapping_size()`).
pub fn opt_mapping_size(dev: &Device<Bound>) -> usize {
    // SAFETY: `dev` is a valid device.
    unsafe { bindings::dma_opt_mapping_size(dev.as_raw()) }
}

/// The smallest mask that reaches all of memory for this device (`dma_get_required_mask()`).
pub fn required_mask(dev: &Device<Bound>) -> u64 {
    // SAFETY: `dev` is a valid device.
    unsafe { bindings::dma_get_required_mask(dev.as_raw()) }
}

/// Whether the device's mask keeps it from reaching some memory directly, so that mappings may
/// bounce or fail (`dma_addressing_limited()`).
pub fn addressing_limited(dev: &Device<Bound>) -> bool {
    // SAFETY: `dev` is a valid device.
    unsafe { bindings::dma_addressing_limited(dev.as_raw()) }
}

/// Sets the largest distance between two addresses of one DMA segment that the device cannot
/// cross: segments do not span a multiple of `mask + 1` (`dma_set_seg_boundary()`).
///
/// The masks themselves are set with [`dma::Device`](super::Device)'s methods.
///
/// # Safety
///
/// As for [`dma::Device::dma_set_mask`](super::Device::dma_set_mask): no DMA allocation or
/// mapping for `dev` may run concurrently, since they read the parameter without locks.
pub unsafe fn set_seg_boundary(dev: &Device<Core<'_>>, mask: c_ulong) {
    // SAFETY: `dev` is a valid device; the caller rules out concurrent DMA calls.
    unsafe { bindings::dma_set_seg_boundary(dev.as_raw(), mask) }
}

/// Sets the address bits that a bounce buffer must keep from the original buffer
/// (`dma_set_min_align_mask()`), for devices that derive offsets from the low address bits.
///
/// # Safety
///
/// As for [`set_seg_boundary`].
pub unsafe fn set_min_align_mask(dev: &Device<Core<'_>>, mask: u32) {
    // SAFETY: `dev` is a valid device; the caller rules out concurrent DMA calls.
    unsafe { bindings::dma_set_min_align_mask(dev.as_raw(), mask) }
}

/// Whether syncing the mapping at `addr` does anything (`dma_need_sync()`): `false` for a
/// coherent device whose mapping does not bounce. A driver that batches work per sync may skip
/// it then; the ownership hand-overs of [`owner`](super::owner) stay correct either way.
pub fn need_sync(dev: &Device<Bound>, addr: super::DmaAddress) -> bool {
    // SAFETY: `dev` is a valid device; `addr` is only looked up, never dereferenced.
    unsafe { bindings::dma_need_sync(dev.as_raw(), addr) }
}

/// Whether unmapping does anything for the device (`dma_need_unmap()`): `false` where a
/// mapping holds no resource and needs no sync, so that a driver need not keep the address.
pub fn need_unmap(dev: &Device<Bound>) -> bool {
    // SAFETY: `dev` is a valid device.
    unsafe { bindings::dma_need_unmap(dev.as_raw()) }
}
