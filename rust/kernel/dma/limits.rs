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

use super::DmaMask;
use crate::{
    bindings,
    device::{Bound, Core, Device},
    error::to_result,
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

/// Sets the streaming and coherent DMA masks of a device that is being probed.
///
/// This is [`dma::Device::dma_set_mask_and_coherent`](super::Device::dma_set_mask_and_coherent)
/// for the probe callback, where it is safe: the device lock is held, the driver has made no
/// DMA objects visible to other threads yet, and a mask is one aligned word, read by the DMA core
/// without locks everywhere. A mapping made at the same moment on another thread could only be
/// given an address for the old mask, which is what the device's registers decide to do with it,
/// not a matter of the CPU's memory safety.
///
/// Returns `EIO` if the platform cannot support the mask, as `dma_set_mask_and_coherent()`
/// does.
pub fn set_mask_and_coherent(dev: &Device<Core<'_>>, mask: DmaMask) -> Result {
    // SAFETY: `dev` is a valid device in its probe or remove callback.
    to_result(unsafe { bindings::dma_set_mask_and_coherent(dev.as_raw(), mask.value()) })
}
