// SPDX-License-Identifier: GPL-2.0-only

//! What every DMA operation reports besides doing its work: the `dma`
//! tracepoints, the dma-debug tracker (whichever implementation, C or
//! Rust, is built) and KMSAN.
//!
//! Each hook compiles to nothing when its option is off. A disabled
//! tracepoint costs its static branch, as in C. The hooks take the call's
//! [`Dev`] and its arguments as [`super::args`] types them, so they are
//! safe to call: the C tracker indexes tables with a [`Dir`], and both
//! trackers keep the device in records of a [`Buf`], a [`Mapping`] or an
//! allocation, which the device outlives.

use super::args::{
    Buf,
    Coherent,
    Dir,
    Mapping,
    Pages,
    Range,
    SgBuf,
    SgMapped,
    SgMapping,
    SgRange,
    Table, //
};
use super::dev::Dev;
use super::Dma;
use kernel::bindings::dma_data_direction;
use kernel::ffi::{
    c_int,
    c_ulong,
    c_void, //
};

/// Defines one hook wrapper, safe to call: its arguments are values, or
/// typed by [`super::args`] (a [`Buf`], a [`Mapping`], an [`SgMapped`],
/// ...), which vouches for them. The C arguments of the hooks below expand
/// inside an `unsafe` block, so they must be plain accessor calls.
macro_rules! hook_fn {
    ($(#[$attr:meta])* fn $name:ident($dev:ident, $($arg:ident: $ty:ty),*) $body:block) => {
        $(#[$attr])*
        #[inline(always)]
        pub(crate) fn $name($dev: Dev<'_>, $($arg: $ty),*) $body
    };
}

/// Defines the wrappers of `dma` trace events. Each fires its event when
/// it is enabled; a disabled event costs a static branch, as in C (a
/// patched jump with `CONFIG_JUMP_LABEL`, else one load and one test).
macro_rules! dma_traces {
    ($(
        $(#[$attr:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) => ($($cargs:expr),* $(,)?);
    )*) => {$(
        hook_fn! { $(#[$attr])* fn $name(dev, $($arg: $ty),*) {
            #[cfg(CONFIG_TRACEPOINTS)]
            kernel::macros::paste! {
                if kernel::dma::rust_core::tracepoint_enabled!(kernel::bindings::[<__tracepoint_ $name>]) {
                    // SAFETY: The device is live (`Dev`); the event records
                    // values, and reads a scatterlist or table that the
                    // caller holds for the call (`sg::List`, `Table`).
                    unsafe { kernel::bindings::[<rust_do_trace_ $name>](dev.raw(), $($cargs),*) };
                }
            }
            #[cfg(not(CONFIG_TRACEPOINTS))]
            {
                let _ = dev;
                $(let _ = $arg;)*
            }
        }}
    )*};
}

/// The `dma` trace events, defined in C by `dma_mapping_glue.c`.
pub(crate) mod trace {
    use super::*;
    use kernel::bindings::gfp_t;

    dma_traces! {
        /// A single mapping was made.
        fn dma_map_phys(buf: Buf, dma: Dma, dir: Dir)
            => (buf.phys(), dma, buf.size(), dir.raw(), buf.attrs());
        /// A single mapping was removed.
        fn dma_unmap_phys(map: &Mapping)
            => (map.dma(), map.size(), map.dir().raw(), map.attrs());
        /// A scatterlist was mapped.
        fn dma_map_sg(sg: SgMapped<'_>, dir: Dir, attrs: c_ulong)
            => (sg.list().raw(), sg.list().nents(), sg.ents(), dir.raw(), attrs);
        /// A scatterlist failed to map.
        fn dma_map_sg_err(sg: SgBuf<'_>, err: c_int, dir: Dir, attrs: c_ulong)
            => (sg.list().raw(), sg.list().nents(), err, dir.raw(), attrs);
        /// A scatterlist was unmapped.
        fn dma_unmap_sg(sg: &SgMapping<'_>)
            => (sg.list().raw(), sg.list().nents(), sg.dir().raw(), sg.attrs());
        /// A single mapping was synced for the CPU.
        fn dma_sync_single_for_cpu(range: Range)
            => (range.dma(), range.size(), range.dir().raw());
        /// A single mapping was synced for the device.
        fn dma_sync_single_for_device(range: Range)
            => (range.dma(), range.size(), range.dir().raw());
        /// A scatterlist was synced for the CPU.
        fn dma_sync_sg_for_cpu(sg: SgRange<'_>)
            => (sg.list().raw(), sg.list().nents(), sg.dir().raw());
        /// A scatterlist was synced for the device.
        fn dma_sync_sg_for_device(sg: SgRange<'_>)
            => (sg.list().raw(), sg.list().nents(), sg.dir().raw());
        /// A coherent allocation was made (or failed: NULL); the event
        /// records the address only.
        fn dma_alloc(virt: *mut c_void, dma: Dma, size: usize, dir: dma_data_direction,
            gfp: gfp_t, attrs: c_ulong) => (virt, dma, size, dir, gfp, attrs);
        /// Pages were allocated for DMA (or failed: NULL); the event
        /// records the address only.
        fn dma_alloc_pages(virt: *mut c_void, dma: Dma, size: usize, dir: dma_data_direction,
            gfp: gfp_t, attrs: c_ulong) => (virt, dma, size, dir, gfp, attrs);
        /// A non-contiguous allocation failed.
        fn dma_alloc_sgt_err(virt: *mut c_void, dma: Dma, size: usize,
            dir: dma_data_direction, gfp: gfp_t, attrs: c_ulong)
            => (virt, dma, size, dir, gfp, attrs);
        /// A non-contiguous allocation was made.
        fn dma_alloc_sgt(sgt: Table<'_>, size: usize, dir: dma_data_direction, gfp: gfp_t,
            attrs: c_ulong) => (sgt.raw(), size, dir, gfp, attrs);
        /// A coherent allocation is freed; the event records the address
        /// only.
        fn dma_free(virt: *mut c_void, dma: Dma, size: usize, dir: dma_data_direction,
            attrs: c_ulong) => (virt, dma, size, dir, attrs);
        /// Pages allocated for DMA are freed; the event records the address
        /// only.
        fn dma_free_pages(virt: *mut c_void, dma: Dma, size: usize, dir: dma_data_direction,
            attrs: c_ulong) => (virt, dma, size, dir, attrs);
        /// A non-contiguous allocation is freed.
        fn dma_free_sgt(sgt: Table<'_>, size: usize, dir: dma_data_direction)
            => (sgt.raw(), size, dir);
    }
}

/// Defines the wrappers of the dma-debug hooks of `kernel/dma/debug.h`,
/// which call them with `CONFIG_DMA_API_DEBUG` and do nothing otherwise.
macro_rules! debug_hooks {
    ($(
        $(#[$attr:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) => ($($cargs:expr),* $(,)?);
    )*) => {$(
        hook_fn! { $(#[$attr])* fn $name(dev, $($arg: $ty),*) {
            #[cfg(CONFIG_DMA_API_DEBUG)]
            // SAFETY: The device is live (`Dev`); the direction is checked
            // (`Dir`); the tracker records and looks up the values, walks
            // the call's scatterlist (`SgBuf`, `SgMapping`, `SgRange`), and
            // keeps the device in records of memory it outlives (`Buf`,
            // `Mapping`, `Coherent`, `Pages`).
            unsafe {
                kernel::bindings::$name(dev.raw(), $($cargs),*)
            };
            #[cfg(not(CONFIG_DMA_API_DEBUG))]
            {
                let _ = dev;
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
        fn debug_dma_map_phys(buf: Buf, dir: Dir, dma: Dma)
            => (buf.phys(), buf.size(), dir.debug(), dma, buf.attrs());
        /// Reports the removal of a single mapping.
        fn debug_dma_unmap_phys(map: &Mapping)
            => (map.dma(), map.size(), map.dir().debug(), map.attrs());
        /// Reports a scatterlist mapping.
        fn debug_dma_map_sg(sg: SgMapped<'_>, dir: Dir, attrs: c_ulong)
            => (sg.list().raw(), sg.list().nents(), sg.ents(), dir.debug(), attrs);
        /// Reports the removal of a scatterlist mapping.
        fn debug_dma_unmap_sg(sg: &SgMapping<'_>)
            => (sg.list().raw(), sg.list().nents(), sg.dir().debug(), sg.attrs());
        /// Reports a coherent allocation.
        fn debug_dma_alloc_coherent(mem: &Coherent)
            => (mem.size(), mem.dma(), mem.virt(), mem.attrs());
        /// Reports the free of a coherent allocation.
        fn debug_dma_free_coherent(mem: &Coherent)
            => (mem.size(), mem.virt(), mem.dma(), mem.attrs());
        /// Reports a sync of a single mapping for the CPU.
        fn debug_dma_sync_single_for_cpu(range: Range)
            => (range.dma(), range.size(), range.dir().debug());
        /// Reports a sync of a single mapping for the device.
        fn debug_dma_sync_single_for_device(range: Range)
            => (range.dma(), range.size(), range.dir().debug());
        /// Reports a sync of a scatterlist for the CPU.
        fn debug_dma_sync_sg_for_cpu(sg: SgRange<'_>)
            => (sg.list().raw(), sg.list().nents(), sg.dir().debug());
        /// Reports a sync of a scatterlist for the device.
        fn debug_dma_sync_sg_for_device(sg: SgRange<'_>)
            => (sg.list().raw(), sg.list().nents(), sg.dir().debug());
        /// Reports a page allocation for DMA.
        fn debug_dma_alloc_pages(mem: &Pages)
            => (mem.page(), mem.size(), mem.dir().debug(), mem.dma());
        /// Reports the free of a page allocation for DMA.
        fn debug_dma_free_pages(mem: &Pages)
            => (mem.page(), mem.size(), mem.dir().debug(), mem.dma());
    }
}

/// Tells KMSAN that a device may read or write `size` bytes at `phys`.
#[inline(always)]
pub(crate) fn kmsan_dma(buf: Buf, dir: Dir) {
    if cfg!(CONFIG_KMSAN) && !buf.is_mmio() {
        // SAFETY: KMSAN only updates its shadow of the range.
        unsafe { kernel::bindings::dma_rs_kmsan_handle_dma(buf.phys(), buf.size(), dir.raw()) };
    }
}

/// Tells KMSAN about every entry of a mapped scatterlist.
#[inline(always)]
pub(crate) fn kmsan_dma_sg(sg: SgMapped<'_>, dir: Dir) {
    if cfg!(CONFIG_KMSAN) {
        let list = sg.list();
        // SAFETY: A scatterlist the caller holds for the call, of `nents`
        // entries (`SgMapped`).
        unsafe {
            kernel::bindings::dma_rs_kmsan_handle_dma_sg(list.raw(), list.nents(), dir.raw())
        };
    }
}
