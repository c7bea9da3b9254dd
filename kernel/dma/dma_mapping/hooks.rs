// SPDX-License-Identifier: GPL-2.0-only

//! What every DMA operation reports besides doing its work: the `dma`
//! tracepoints, the dma-debug tracker (whichever implementation, C or
//! Rust, is built) and KMSAN.
//!
//! Each hook compiles to nothing when its option is off. A tracepoint costs
//! one test of its static key while it is disabled.

use super::dev::{Dma, Phys};
use kernel::bindings::{device, dma_data_direction, page, scatterlist, sg_table};
use kernel::ffi::{c_int, c_ulong, c_void};

/// Defines a wrapper for a `dma` trace event that fires it when the event
/// is enabled. The static key is read inline, whether or not the kernel
/// patches jump labels, so a disabled event costs one load and one test,
/// as in C.
macro_rules! dma_traces {
    ($($(#[$attr:meta])* $vis:vis unsafe fn $name:ident($($arg:ident: $ty:ty),* $(,)?);)*) => {$(
        $(#[$attr])*
        ///
        /// # Safety
        ///
        /// The arguments are those of the DMA API call that fires it.
        #[inline(always)]
        $vis unsafe fn $name($($arg: $ty),*) {
            #[cfg(CONFIG_TRACEPOINTS)]
            kernel::macros::paste! {
                // SAFETY: The tracepoint is a static defined by
                // `dma_mapping_glue.c`; its key's counter is read once.
                let on = unsafe {
                    core::ptr::read_volatile(
                        &raw const kernel::bindings::[<__tracepoint_ $name>].key.key.enabled.counter,
                    )
                } > 0;
                if on {
                    // SAFETY: The caller passes the event's arguments.
                    unsafe { kernel::bindings::[<rust_do_trace_ $name>]($($arg),*) };
                }
            }
            #[cfg(not(CONFIG_TRACEPOINTS))]
            {
                $(let _ = $arg;)*
            }
        }
    )*};
}

/// The `dma` trace events, defined in C by `dma_mapping_glue.c`.
pub(crate) mod trace {
    use super::*;
    use kernel::bindings::gfp_t;

    dma_traces! {
        /// A single mapping was made.
        pub(crate) unsafe fn dma_map_phys(dev: *mut device, phys: Phys, dma: Dma, size: usize,
            dir: dma_data_direction, attrs: c_ulong);
        /// A single mapping was removed.
        pub(crate) unsafe fn dma_unmap_phys(dev: *mut device, dma: Dma, size: usize,
            dir: dma_data_direction, attrs: c_ulong);
        /// A scatterlist was mapped.
        pub(crate) unsafe fn dma_map_sg(dev: *mut device, sg: *mut scatterlist, nents: c_int,
            ents: c_int, dir: dma_data_direction, attrs: c_ulong);
        /// A scatterlist failed to map.
        pub(crate) unsafe fn dma_map_sg_err(dev: *mut device, sg: *mut scatterlist, nents: c_int,
            err: c_int, dir: dma_data_direction, attrs: c_ulong);
        /// A scatterlist was unmapped.
        pub(crate) unsafe fn dma_unmap_sg(dev: *mut device, sg: *mut scatterlist, nents: c_int,
            dir: dma_data_direction, attrs: c_ulong);
        /// A single mapping was synced for the CPU.
        pub(crate) unsafe fn dma_sync_single_for_cpu(dev: *mut device, dma: Dma, size: usize,
            dir: dma_data_direction);
        /// A single mapping was synced for the device.
        pub(crate) unsafe fn dma_sync_single_for_device(dev: *mut device, dma: Dma, size: usize,
            dir: dma_data_direction);
        /// A scatterlist was synced for the CPU.
        pub(crate) unsafe fn dma_sync_sg_for_cpu(dev: *mut device, sg: *mut scatterlist,
            nents: c_int, dir: dma_data_direction);
        /// A scatterlist was synced for the device.
        pub(crate) unsafe fn dma_sync_sg_for_device(dev: *mut device, sg: *mut scatterlist,
            nents: c_int, dir: dma_data_direction);
        /// A coherent allocation was made (or failed: NULL).
        pub(crate) unsafe fn dma_alloc(dev: *mut device, virt: *mut c_void, dma: Dma, size: usize,
            dir: dma_data_direction, gfp: gfp_t, attrs: c_ulong);
        /// Pages were allocated for DMA (or failed: NULL).
        pub(crate) unsafe fn dma_alloc_pages(dev: *mut device, virt: *mut c_void, dma: Dma,
            size: usize, dir: dma_data_direction, gfp: gfp_t, attrs: c_ulong);
        /// A non-contiguous allocation failed.
        pub(crate) unsafe fn dma_alloc_sgt_err(dev: *mut device, virt: *mut c_void, dma: Dma,
            size: usize, dir: dma_data_direction, gfp: gfp_t, attrs: c_ulong);
        /// A non-contiguous allocation was made.
        pub(crate) unsafe fn dma_alloc_sgt(dev: *mut device, sgt: *mut sg_table, size: usize,
            dir: dma_data_direction, gfp: gfp_t, attrs: c_ulong);
        /// A coherent allocation is freed.
        pub(crate) unsafe fn dma_free(dev: *mut device, virt: *mut c_void, dma: Dma, size: usize,
            dir: dma_data_direction, attrs: c_ulong);
        /// Pages allocated for DMA are freed.
        pub(crate) unsafe fn dma_free_pages(dev: *mut device, virt: *mut c_void, dma: Dma,
            size: usize, dir: dma_data_direction, attrs: c_ulong);
        /// A non-contiguous allocation is freed.
        pub(crate) unsafe fn dma_free_sgt(dev: *mut device, sgt: *mut sg_table, size: usize,
            dir: dma_data_direction);
    }
}

/// Defines a wrapper for a dma-debug hook of `kernel/dma/debug.h` that calls
/// it when `CONFIG_DMA_API_DEBUG` is on and does nothing otherwise.
macro_rules! debug_hooks {
    ($($(#[$attr:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?);)*) => {$(
        $(#[$attr])*
        ///
        /// # Safety
        ///
        /// The arguments are those the DMA API call that reports them got,
        /// with the device live.
        #[inline(always)]
        pub(crate) unsafe fn $name($($arg: $ty),*) {
            #[cfg(CONFIG_DMA_API_DEBUG)]
            // SAFETY: The caller passes what the hook expects.
            unsafe {
                kernel::bindings::$name($($arg),*)
            };
            #[cfg(not(CONFIG_DMA_API_DEBUG))]
            {
                $(let _ = $arg;)*
            }
        }
    )*};
}

/// The dma-debug hooks.
pub(crate) mod debug {
    use super::*;

    debug_hooks! {
        /// Reports a single mapping.
        fn debug_dma_map_phys(dev: *mut device, phys: Phys, size: usize, dir: c_int, dma: Dma,
            attrs: c_ulong);
        /// Reports the removal of a single mapping.
        fn debug_dma_unmap_phys(dev: *mut device, dma: Dma, size: usize, dir: c_int,
            attrs: c_ulong);
        /// Reports a scatterlist mapping.
        fn debug_dma_map_sg(dev: *mut device, sg: *mut scatterlist, nents: c_int,
            mapped: c_int, dir: c_int, attrs: c_ulong);
        /// Reports the removal of a scatterlist mapping.
        fn debug_dma_unmap_sg(dev: *mut device, sg: *mut scatterlist, nents: c_int, dir: c_int,
            attrs: c_ulong);
        /// Reports a coherent allocation.
        fn debug_dma_alloc_coherent(dev: *mut device, size: usize, dma: Dma, virt: *mut c_void,
            attrs: c_ulong);
        /// Reports the free of a coherent allocation.
        fn debug_dma_free_coherent(dev: *mut device, size: usize, virt: *mut c_void, dma: Dma,
            attrs: c_ulong);
        /// Reports a sync of a single mapping for the CPU.
        fn debug_dma_sync_single_for_cpu(dev: *mut device, dma: Dma, size: usize, dir: c_int);
        /// Reports a sync of a single mapping for the device.
        fn debug_dma_sync_single_for_device(dev: *mut device, dma: Dma, size: usize, dir: c_int);
        /// Reports a sync of a scatterlist for the CPU.
        fn debug_dma_sync_sg_for_cpu(dev: *mut device, sg: *mut scatterlist, nents: c_int,
            dir: c_int);
        /// Reports a sync of a scatterlist for the device.
        fn debug_dma_sync_sg_for_device(dev: *mut device, sg: *mut scatterlist, nents: c_int,
            dir: c_int);
        /// Reports a page allocation for DMA.
        fn debug_dma_alloc_pages(dev: *mut device, page: *mut page, size: usize, dir: c_int,
            dma: Dma);
        /// Reports the free of a page allocation for DMA.
        fn debug_dma_free_pages(dev: *mut device, page: *mut page, size: usize, dir: c_int,
            dma: Dma);
    }
}

/// Tells KMSAN that a device may read or write `size` bytes at `phys`.
#[inline(always)]
pub(crate) fn kmsan_dma(phys: Phys, size: usize, dir: dma_data_direction) {
    if cfg!(CONFIG_KMSAN) {
        // SAFETY: KMSAN only updates its shadow of the range.
        unsafe { kernel::bindings::dma_rs_kmsan_handle_dma(phys, size, dir) };
    }
}

/// Tells KMSAN about every entry of a mapped scatterlist.
///
/// # Safety
///
/// `sg` must be a scatterlist of at least `nents` entries.
#[inline(always)]
pub(crate) unsafe fn kmsan_dma_sg(sg: *mut scatterlist, nents: c_int, dir: dma_data_direction) {
    if cfg!(CONFIG_KMSAN) {
        // SAFETY: The caller passes a valid scatterlist.
        unsafe { kernel::bindings::dma_rs_kmsan_handle_dma_sg(sg, nents, dir) };
    }
}
