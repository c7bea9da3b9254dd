// SPDX-License-Identifier: GPL-2.0-only

//! The architecture's side of dma-direct for devices that do not snoop the
//! CPU caches: the cache maintenance of [`kernel::dma::rust_core::arch`],
//! and here the uncached remapping of coherent allocations, their page
//! protection, and the bouncing of small kmalloc buffers.
//!
//! On an architecture without cache maintenance for DMA (x86-64), every
//! device is coherent ([`super::dev::Dev::is_coherent`]), and the callers'
//! `is_coherent()` tests remove every call at compile time.

use super::args::Dir;
use super::dev::Dev;
use kernel::bindings::{
    self,
    pgprot_t, //
};
use kernel::ffi::c_ulong;

pub(crate) use kernel::dma::rust_core::arch::{
    flush,
    for_cpu,
    for_cpu_all,
    for_device,
    prep_coherent, //
};

/// Whether a streaming mapping of `size` bytes must bounce because it may
/// be a kmalloc buffer that shares cache lines with others
/// (`dma_kmalloc_needs_bounce()`). Never for a coherent device.
#[inline(always)]
pub(crate) fn kmalloc_needs_bounce(dev: Dev<'_>, size: usize, dir: Dir) -> bool {
    if !cfg!(CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC) || dev.is_coherent() {
        return false;
    }
    // SAFETY: By `Dev`'s invariant the device is live; the helper reads
    // the cache alignment and the kmalloc size classes.
    unsafe { bindings::dma_kmalloc_needs_bounce(dev.raw(), size, dir.raw()) }
}

/// The page protection of a mapping of a coherent allocation
/// (`dma_pgprot()`): `prot` itself for a coherent device, otherwise
/// uncached, or write-combining when `DMA_ATTR_WRITE_COMBINE` asks and the
/// architecture has it.
#[inline]
pub(crate) fn pgprot(dev: Dev<'_>, prot: pgprot_t, attrs: c_ulong) -> pgprot_t {
    if dev.is_coherent() {
        return prot;
    }
    // SAFETY: A pure function of its arguments.
    unsafe { bindings::dma_rs_pgprot_noncoherent(prot, attrs) }
}

/// Maps `size` bytes of pages at `page` into vmalloc space with `prot`
/// (`dma_common_contiguous_remap()`): the uncached alias of a coherent
/// allocation for a non-coherent device. NULL on failure.
///
/// # Safety
///
/// `page` must start `size` bytes of allocated pages, which stay allocated
/// until the alias is unmapped with `vunmap()`.
#[cfg(CONFIG_DMA_DIRECT_REMAP)]
pub(crate) unsafe fn remap(
    page: *mut bindings::page,
    size: usize,
    prot: pgprot_t,
) -> *mut kernel::ffi::c_void {
    // SAFETY: The caller's guarantee; the caller's address only labels the
    // vmalloc area.
    unsafe { bindings::dma_common_contiguous_remap(page, size, prot, (remap as *const ()).cast()) }
}
