// SPDX-License-Identifier: GPL-2.0-only

//! What every DMA operation reports besides doing its work: the `dma`
//! tracepoints, the dma-debug tracker (whichever implementation, C or
//! Rust, is built) and KMSAN.
//!
//! Each hook compiles to nothing when its option is off. A disabled
//! tracepoint costs its static branch, as in C. The hooks take the call's
//! [`Dev`]. The trace events that pass only values (they record them) are
//! safe; the dma-debug hooks are not: the C tracker indexes tables with the
//! direction, and both trackers keep the device in their records.

use super::dev::Dev;
use kernel::bindings::{
    dma_data_direction,
    page,
    scatterlist,
    sg_table, //
};
use kernel::dma::rust_core::{
    Dma,
    Phys, //
};
use kernel::ffi::{
    c_int,
    c_ulong,
    c_void, //
};

/// Defines one hook wrapper: safe when it passes only the device and
/// values (`safe`), `unsafe` when it passes pointers to memory the C side
/// reads (a scatterlist, a table, a page).
macro_rules! hook_fn {
    (safe, $(#[$attr:meta])* fn $name:ident($dev:ident, $($arg:ident: $ty:ty),*) $body:block) => {
        $(#[$attr])*
        #[inline(always)]
        pub(crate) fn $name($dev: Dev<'_>, $($arg: $ty),*) $body
    };
    (unsafe, $(#[$attr:meta])* fn $name:ident($dev:ident, $($arg:ident: $ty:ty),*) $body:block) => {
        $(#[$attr])*
        ///
        /// # Safety
        ///
        /// The arguments must be those of the DMA API call that reports
        /// them, checked as its entry point checks them (a valid
        /// direction), and valid as that call's contract requires: the
        /// memory a pointer describes, and, for dma-debug, which keeps the
        /// device in its records and reads them later, a real mapping of a
        /// device that outlives it.
        #[inline(always)]
        pub(crate) unsafe fn $name($dev: Dev<'_>, $($arg: $ty),*) $body
    };
}

/// Defines the wrappers of `dma` trace events. Each fires its event when
/// it is enabled; a disabled event costs a static branch, as in C (a
/// patched jump with `CONFIG_JUMP_LABEL`, else one load and one test).
macro_rules! dma_traces {
    ($(
        $(#[$attr:meta])*
        $kind:ident fn $name:ident($dev:ident: Dev, $($arg:ident: $ty:ty),* $(,)?);
    )*) => {$(
        hook_fn! { $kind, $(#[$attr])* fn $name($dev, $($arg: $ty),*) {
            #[cfg(CONFIG_TRACEPOINTS)]
            kernel::macros::paste! {
                if enabled!(kernel::bindings::[<__tracepoint_ $name>]) {
                    // SAFETY: The device is live (`Dev`); the values are
                    // only recorded, and the caller of an `unsafe` wrapper
                    // vouches for its pointers.
                    unsafe { kernel::bindings::[<rust_do_trace_ $name>]($dev.raw(), $($arg),*) };
                }
            }
            #[cfg(not(CONFIG_TRACEPOINTS))]
            {
                let _ = $dev;
                $(let _ = $arg;)*
            }
        }}
    )*};
}

/// Whether the tracepoint `$tp`, a static defined in C, is enabled.
#[cfg(all(CONFIG_TRACEPOINTS, CONFIG_JUMP_LABEL))]
macro_rules! enabled {
    ($tp:path) => {
        // SAFETY: `$tp` is a tracepoint, whose `key` is a static key.
        unsafe {
            kernel::jump_label::static_branch_unlikely!($tp, kernel::bindings::tracepoint, key)
        }
    };
}

/// Whether the tracepoint `$tp`, a static defined in C, is enabled: its
/// key's count, read once and inline (the kernel's helper for this is a
/// call without jump labels).
#[cfg(all(CONFIG_TRACEPOINTS, not(CONFIG_JUMP_LABEL)))]
macro_rules! enabled {
    ($tp:path) => {
        // SAFETY: `$tp` is a static; its key's counter is read once, as
        // `static_key_count()` does.
        unsafe { core::ptr::read_volatile(&raw const $tp.key.key.enabled.counter) } > 0
    };
}

/// The `dma` trace events, defined in C by `dma_mapping_glue.c`.
pub(crate) mod trace {
    use super::*;
    use kernel::bindings::gfp_t;

    dma_traces! {
        /// A single mapping was made.
        safe fn dma_map_phys(dev: Dev, phys: Phys, dma: Dma, size: usize,
            dir: dma_data_direction, attrs: c_ulong);
        /// A single mapping was removed.
        safe fn dma_unmap_phys(dev: Dev, dma: Dma, size: usize, dir: dma_data_direction,
            attrs: c_ulong);
        /// A scatterlist was mapped.
        unsafe fn dma_map_sg(dev: Dev, sg: *mut scatterlist, nents: c_int, ents: c_int,
            dir: dma_data_direction, attrs: c_ulong);
        /// A scatterlist failed to map.
        unsafe fn dma_map_sg_err(dev: Dev, sg: *mut scatterlist, nents: c_int, err: c_int,
            dir: dma_data_direction, attrs: c_ulong);
        /// A scatterlist was unmapped.
        unsafe fn dma_unmap_sg(dev: Dev, sg: *mut scatterlist, nents: c_int,
            dir: dma_data_direction, attrs: c_ulong);
        /// A single mapping was synced for the CPU.
        safe fn dma_sync_single_for_cpu(dev: Dev, dma: Dma, size: usize,
            dir: dma_data_direction);
        /// A single mapping was synced for the device.
        safe fn dma_sync_single_for_device(dev: Dev, dma: Dma, size: usize,
            dir: dma_data_direction);
        /// A scatterlist was synced for the CPU.
        unsafe fn dma_sync_sg_for_cpu(dev: Dev, sg: *mut scatterlist, nents: c_int,
            dir: dma_data_direction);
        /// A scatterlist was synced for the device.
        unsafe fn dma_sync_sg_for_device(dev: Dev, sg: *mut scatterlist, nents: c_int,
            dir: dma_data_direction);
        /// A coherent allocation was made (or failed: NULL); the event
        /// records the address only.
        safe fn dma_alloc(dev: Dev, virt: *mut c_void, dma: Dma, size: usize,
            dir: dma_data_direction, gfp: gfp_t, attrs: c_ulong);
        /// Pages were allocated for DMA (or failed: NULL); the event
        /// records the address only.
        safe fn dma_alloc_pages(dev: Dev, virt: *mut c_void, dma: Dma, size: usize,
            dir: dma_data_direction, gfp: gfp_t, attrs: c_ulong);
        /// A non-contiguous allocation failed.
        safe fn dma_alloc_sgt_err(dev: Dev, virt: *mut c_void, dma: Dma, size: usize,
            dir: dma_data_direction, gfp: gfp_t, attrs: c_ulong);
        /// A non-contiguous allocation was made.
        unsafe fn dma_alloc_sgt(dev: Dev, sgt: *mut sg_table, size: usize,
            dir: dma_data_direction, gfp: gfp_t, attrs: c_ulong);
        /// A coherent allocation is freed; the event records the address
        /// only.
        safe fn dma_free(dev: Dev, virt: *mut c_void, dma: Dma, size: usize,
            dir: dma_data_direction, attrs: c_ulong);
        /// Pages allocated for DMA are freed; the event records the address
        /// only.
        safe fn dma_free_pages(dev: Dev, virt: *mut c_void, dma: Dma, size: usize,
            dir: dma_data_direction, attrs: c_ulong);
        /// A non-contiguous allocation is freed.
        unsafe fn dma_free_sgt(dev: Dev, sgt: *mut sg_table, size: usize,
            dir: dma_data_direction);
    }
}

/// Defines the wrappers of the dma-debug hooks of `kernel/dma/debug.h`,
/// which call them with `CONFIG_DMA_API_DEBUG` and do nothing otherwise.
macro_rules! debug_hooks {
    ($(
        $(#[$attr:meta])*
        $kind:ident fn $name:ident($dev:ident: Dev, $($arg:ident: $ty:ty),* $(,)?);
    )*) => {$(
        hook_fn! { $kind, $(#[$attr])* fn $name($dev, $($arg: $ty),*) {
            #[cfg(CONFIG_DMA_API_DEBUG)]
            // SAFETY: The device is live (`Dev`); the tracker records and
            // looks up the values, and the caller of an `unsafe` wrapper
            // vouches for its pointers.
            unsafe {
                kernel::bindings::$name($dev.raw(), $($arg),*)
            };
            #[cfg(not(CONFIG_DMA_API_DEBUG))]
            {
                let _ = $dev;
                $(let _ = $arg;)*
            }
        }}
    )*};
}

/// The dma-debug hooks.
pub(crate) mod debug {
    use super::*;

    debug_hooks! {
        /// Reports a single mapping.
        unsafe fn debug_dma_map_phys(dev: Dev, phys: Phys, size: usize, dir: c_int, dma: Dma,
            attrs: c_ulong);
        /// Reports the removal of a single mapping.
        unsafe fn debug_dma_unmap_phys(dev: Dev, dma: Dma, size: usize, dir: c_int,
            attrs: c_ulong);
        /// Reports a scatterlist mapping.
        unsafe fn debug_dma_map_sg(dev: Dev, sg: *mut scatterlist, nents: c_int,
            mapped: c_int, dir: c_int, attrs: c_ulong);
        /// Reports the removal of a scatterlist mapping.
        unsafe fn debug_dma_unmap_sg(dev: Dev, sg: *mut scatterlist, nents: c_int, dir: c_int,
            attrs: c_ulong);
        /// Reports a coherent allocation.
        unsafe fn debug_dma_alloc_coherent(dev: Dev, size: usize, dma: Dma, virt: *mut c_void,
            attrs: c_ulong);
        /// Reports the free of a coherent allocation.
        unsafe fn debug_dma_free_coherent(dev: Dev, size: usize, virt: *mut c_void, dma: Dma,
            attrs: c_ulong);
        /// Reports a sync of a single mapping for the CPU.
        unsafe fn debug_dma_sync_single_for_cpu(dev: Dev, dma: Dma, size: usize, dir: c_int);
        /// Reports a sync of a single mapping for the device.
        unsafe fn debug_dma_sync_single_for_device(dev: Dev, dma: Dma, size: usize, dir: c_int);
        /// Reports a sync of a scatterlist for the CPU.
        unsafe fn debug_dma_sync_sg_for_cpu(dev: Dev, sg: *mut scatterlist, nents: c_int,
            dir: c_int);
        /// Reports a sync of a scatterlist for the device.
        unsafe fn debug_dma_sync_sg_for_device(dev: Dev, sg: *mut scatterlist, nents: c_int,
            dir: c_int);
        /// Reports a page allocation for DMA.
        unsafe fn debug_dma_alloc_pages(dev: Dev, page: *mut page, size: usize, dir: c_int,
            dma: Dma);
        /// Reports the free of a page allocation for DMA.
        unsafe fn debug_dma_free_pages(dev: Dev, page: *mut page, size: usize, dir: c_int,
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
