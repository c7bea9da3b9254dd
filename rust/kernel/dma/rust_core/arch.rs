// SPDX-License-Identifier: GPL-2.0

//! The architecture's cache maintenance for devices that do not snoop the
//! CPU caches, as dma-direct and swiotlb call it at each hand-over of a
//! buffer between the CPU and such a device.
//!
//! On an architecture without it (x86-64), [`NONCOHERENT`] is false: every
//! device is coherent, and callers that test coherence first call nothing
//! here. On arm64 the functions are the architecture's, through helpers
//! where they are inline.

use super::Phys;
use crate::bindings::{
    self,
    dma_data_direction,
    page, //
};

/// Whether the architecture has devices that do not snoop the CPU caches
/// (it maintains the caches for DMA).
pub const NONCOHERENT: bool = cfg!(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE)
    || cfg!(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU)
    || cfg!(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU_ALL);

/// Whether `dev` snoops the CPU caches (`dev_is_dma_coherent()`): always
/// without [`NONCOHERENT`], as firmware described it otherwise.
///
/// # Safety
///
/// `dev` must be a live device.
#[inline(always)]
pub unsafe fn dev_is_coherent(dev: *mut bindings::device) -> bool {
    if !NONCOHERENT {
        return true;
    }
    // SAFETY: A live device (the caller's guarantee); the flags word is read
    // once, as `test_bit()` does, and writers change it atomically.
    let word = unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*dev).flags[0])) };
    word & (1 << bindings::struct_device_flags_DEV_FLAG_DMA_COHERENT) != 0
}

/// Hands `size` bytes at `phys` to a non-coherent device
/// (`arch_sync_dma_for_device()`): writes dirty cache lines back. The
/// maintenance may complete only at the next [`flush`].
///
/// # Safety
///
/// The range must be memory in the kernel's linear map.
#[inline]
pub unsafe fn for_device(phys: Phys, size: usize, dir: dma_data_direction) {
    // SAFETY: The caller's guarantee.
    unsafe { bindings::dma_rs_arch_sync_for_device(phys, size, dir) }
}

/// Hands `size` bytes at `phys` back to the CPU from a non-coherent device
/// (`arch_sync_dma_for_cpu()`): drops the cache lines the CPU may have
/// fetched meanwhile. The maintenance may complete only at the next
/// [`flush`]; [`for_cpu_all`] follows.
///
/// # Safety
///
/// The range must be memory in the kernel's linear map.
#[inline]
pub unsafe fn for_cpu(phys: Phys, size: usize, dir: dma_data_direction) {
    // SAFETY: The caller's guarantee.
    unsafe { bindings::dma_rs_arch_sync_for_cpu(phys, size, dir) }
}

/// Waits for the maintenance started by [`for_device`] and [`for_cpu`]
/// (`arch_sync_dma_flush()`).
#[inline]
pub fn flush() {
    // SAFETY: A barrier; no memory is named.
    unsafe { bindings::dma_rs_arch_sync_flush() }
}

/// The architecture's maintenance after each hand-over to the CPU
/// (`arch_sync_dma_for_cpu_all()`).
#[inline]
pub fn for_cpu_all() {
    // SAFETY: Whole-cache maintenance; no memory is named.
    unsafe { bindings::dma_rs_arch_sync_for_cpu_all() }
}

/// Writes back (and, as the architecture needs, drops) the cache lines over
/// new pages of a coherent allocation before an uncached alias of them is used
/// (`arch_dma_prep_coherent()`).
///
/// # Safety
///
/// `page` must start `size` bytes of allocated pages in the linear map.
#[inline]
pub unsafe fn prep_coherent(page: *mut page, size: usize) {
    // SAFETY: The caller's guarantee.
    unsafe { bindings::dma_rs_arch_prep_coherent(page, size) }
}
