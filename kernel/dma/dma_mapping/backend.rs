// SPDX-License-Identifier: GPL-2.0-only

//! Who carries out a device's DMA operations, and the checks every entry
//! point makes before it picks one.
//!
//! dma-direct is Rust ([`super::direct`]). The other two implementations,
//! the IOMMU DMA layer and a device's legacy `dma_map_ops`, are C; an
//! [`Other`] holds the device together with the one that handles it, and
//! has a method per operation (written once, by [`other_ops!`]), so that
//! the reasons such a call is sound are written in one place.

use super::args::{
    Allocation,
    Buf,
    Coherent,
    Dir,
    Mapping,
    Pages,
    Range,
    SgBuf,
    SgMapping,
    SgRange,
    Vma, //
};
use super::dev::Dev;
use super::{
    direct,
    mask, //
};
use kernel::bindings::{
    self,
    device,
    gfp_t,
    page,
    sg_table, //
};
use kernel::dma::rust_core::Dma;
use kernel::ffi::{
    c_int,
    c_ulong,
    c_void, //
};
use kernel::prelude::*;

/// The implementation of a device's DMA operations.
#[derive(Clone, Copy)]
pub(crate) enum Backend<'a> {
    /// dma-direct, with swiotlb.
    Direct,
    /// The IOMMU DMA layer or the device's `dma_map_ops`.
    Other(Other<'a>),
}

/// A device with the C implementation of its DMA operations: the IOMMU DMA
/// layer or the device's `dma_map_ops`.
///
/// # Invariants
///
/// - `Kind::Iommu(dev)`: the IOMMU DMA layer handles `dev`, whose
///   `DEV_FLAG_DMA_IOMMU` is set.
/// - `Kind::Ops(dev, ops)`: `ops` is `dev`'s own operations table
///   (`get_dma_ops(dev)`).
///
/// Only [`Backend::streaming`] and [`Backend::coherent`] make one: the kind
/// is private to this module.
#[derive(Clone, Copy)]
pub(crate) struct Other<'a>(Kind<'a>);

#[derive(Clone, Copy)]
enum Kind<'a> {
    /// The IOMMU DMA layer (`iommu_dma_*()`).
    Iommu(Dev<'a>),
    /// The device's legacy operations.
    Ops(Dev<'a>, &'a bindings::dma_map_ops),
}

impl<'a> Backend<'a> {
    /// The backend for a device whose relevant mask is `mask` (C's
    /// `dma_go_direct()`): the IOMMU layer if it handles the device, else
    /// dma-direct unless the device has operations that it does not
    /// bypass.
    #[inline(always)]
    fn choose(dev: Dev<'a>, mask: impl FnOnce() -> u64) -> Self {
        if dev.uses_iommu() {
            // INVARIANT: The IOMMU layer handles a device with the flag set.
            return Backend::Other(Other(Kind::Iommu(dev)));
        }
        match dev.ops() {
            None => Backend::Direct,
            Some(ops) => {
                if dev.ops_bypass()
                    && mask::min_not_zero(mask(), dev.bus_limit()) >= direct::required_mask(dev)
                {
                    Backend::Direct
                } else {
                    // INVARIANT: `ops` was read from the device.
                    Backend::Other(Other(Kind::Ops(dev, ops)))
                }
            }
        }
    }

    /// The backend for streaming mappings (`dma_map_direct()`).
    #[inline(always)]
    pub(crate) fn streaming(dev: Dev<'a>) -> Self {
        Self::choose(dev, || dev.dma_mask())
    }

    /// The backend for allocations (`dma_alloc_direct()`).
    #[inline(always)]
    pub(crate) fn coherent(dev: Dev<'a>) -> Self {
        Self::choose(dev, || dev.coherent_mask())
    }

    /// Whether dma-direct serves the device.
    #[inline(always)]
    pub(crate) fn is_direct(self) -> bool {
        matches!(self, Backend::Direct)
    }
}

/// Defines the methods of [`Other`]: for each operation, the IOMMU
/// layer's function and the `dma_map_ops` field that implement it, the C
/// form of the arguments (`$cargs`), and what the call gives when the
/// device's table lacks the operation. The methods are safe: their
/// arguments are typed by [`super::args`], which vouches for them. The
/// `$cargs` expand inside the call's `unsafe` block, so they must be plain
/// accessor calls, as they are in the one invocation below.
macro_rules! other_ops {
    ($(
        $(#[$attr:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?
            = $iommu:ident | $op:ident($($cargs:expr),* $(,)?) else $missing:expr;
    )*) => {
        impl Other<'_> {$(
            $(#[$attr])*
            #[inline(always)]
            pub(crate) fn $name(self, $($arg: $ty),*) $(-> $ret)? {
                match self.0 {
                    // SAFETY: By the type invariant the IOMMU layer handles
                    // the device, which is live (`Dev`); the arguments are
                    // valid as their types say.
                    Kind::Iommu(d) => unsafe { bindings::$iommu(d.raw(), $($cargs),*) },
                    Kind::Ops(d, ops) => match ops.$op {
                        // SAFETY: By the type invariant `ops` is the
                        // device's own table, whose functions take that
                        // device; it is live (`Dev`), and the arguments are
                        // valid as their types say.
                        Some(f) => unsafe { f(d.raw(), $($cargs),*) },
                        None => $missing,
                    },
                }
            }
        )*}
    };
}

other_ops! {
    /// Maps a buffer.
    fn map_phys(buf: Buf, dir: Dir) -> Dma
        = iommu_dma_map_phys | map_phys(buf.phys(), buf.size(), dir.raw(), buf.attrs())
        else super::DMA_MAPPING_ERROR;
    /// Removes a mapping.
    fn unmap_phys(map: Mapping)
        = iommu_dma_unmap_phys | unmap_phys(map.dma(), map.size(), map.dir().raw(), map.attrs())
        else ();
    /// Maps a scatterlist: the number of DMA segments or a negative errno.
    fn map_sg(sg: SgBuf<'_>, dir: Dir, attrs: c_ulong) -> c_int
        = iommu_dma_map_sg | map_sg(sg.list().raw(), sg.list().nents(), dir.raw(), attrs)
        else -super::EIO;
    /// Unmaps a scatterlist.
    fn unmap_sg(sg: SgMapping<'_>)
        = iommu_dma_unmap_sg | unmap_sg(sg.list().raw(), sg.list().nents(), sg.dir().raw(),
            sg.attrs()) else ();
    /// Syncs a single mapping for the CPU.
    fn sync_single_for_cpu(range: Range)
        = iommu_dma_sync_single_for_cpu
        | sync_single_for_cpu(range.dma(), range.size(), range.dir().raw()) else ();
    /// Syncs a single mapping for the device.
    fn sync_single_for_device(range: Range)
        = iommu_dma_sync_single_for_device
        | sync_single_for_device(range.dma(), range.size(), range.dir().raw()) else ();
    /// Syncs a scatterlist for the CPU.
    fn sync_sg_for_cpu(sg: SgRange<'_>)
        = iommu_dma_sync_sg_for_cpu | sync_sg_for_cpu(sg.list().raw(), sg.list().nents(),
            sg.dir().raw()) else ();
    /// Syncs a scatterlist for the device.
    fn sync_sg_for_device(sg: SgRange<'_>)
        = iommu_dma_sync_sg_for_device | sync_sg_for_device(sg.list().raw(), sg.list().nents(),
            sg.dir().raw()) else ();
    /// Allocates coherent memory; NULL when the table has no allocator.
    fn alloc(size: usize, handle: &mut Dma, gfp: gfp_t, attrs: c_ulong) -> *mut c_void
        = iommu_dma_alloc | alloc(size, handle, gfp, attrs) else core::ptr::null_mut();
    /// Frees coherent memory.
    fn free(mem: Coherent)
        = iommu_dma_free | free(mem.size(), mem.virt(), mem.dma(), mem.attrs()) else ();
    /// Allocates pages for streaming DMA.
    fn alloc_pages(size: usize, handle: &mut Dma, dir: Dir, gfp: gfp_t) -> *mut page
        = dma_common_alloc_pages | alloc_pages_op(size, handle, dir.raw(), gfp)
        else core::ptr::null_mut();
    /// Frees pages of [`Other::alloc_pages`].
    fn free_pages(mem: Pages)
        = dma_common_free_pages | free_pages(mem.aligned_size(), mem.page(), mem.dma(),
            mem.dir().raw()) else ();
    /// Describes a coherent allocation as a table: 0 or a negative errno.
    fn get_sgtable(sgt: &mut sg_table, mem: Allocation, attrs: c_ulong) -> c_int
        = iommu_dma_get_sgtable | get_sgtable(sgt, mem.virt(), mem.dma(), mem.size(), attrs)
        else -super::ENXIO;
    /// Maps a coherent allocation into a user VMA: 0 or a negative errno.
    fn mmap(vma: &mut Vma<'_>, mem: Allocation, attrs: c_ulong) -> c_int
        = iommu_dma_mmap | mmap(vma.raw(), mem.virt(), mem.dma(), mem.size(), attrs)
        else -super::ENXIO;
    /// The largest single mapping.
    fn max_mapping_size() -> usize
        = iommu_dma_max_mapping_size | max_mapping_size() else usize::MAX;
}

impl<'a> Other<'a> {
    /// Whether the device's allocations can be mapped to user space.
    pub(crate) fn can_mmap(self) -> bool {
        match self.0 {
            Kind::Iommu(_) => true,
            Kind::Ops(_, ops) => ops.mmap.is_some(),
        }
    }

    /// The device's operations table, or `None` for the IOMMU layer.
    pub(crate) fn ops(self) -> Option<&'a bindings::dma_map_ops> {
        match self.0 {
            Kind::Iommu(_) => None,
            Kind::Ops(_, ops) => Some(ops),
        }
    }

    /// The mask that reaches all of memory: 32 bits unless the device's
    /// operations know better.
    pub(crate) fn required_mask(self) -> u64 {
        match self.0 {
            Kind::Ops(d, ops) => match ops.get_required_mask {
                // SAFETY: By the type invariant `ops` is the device's own
                // table; the operation takes only the device, which is live.
                Some(f) => unsafe { f(d.raw()) },
                None => mask::bit_mask(32),
            },
            Kind::Iommu(_) => mask::bit_mask(32),
        }
    }
}

/// Reports a call without a device and gives `None`; C would crash.
#[cold]
fn no_device<'a>(func: &str) -> Option<Dev<'a>> {
    pr_err!("{}: called without a device\n", func);
    kernel::warn_on!(true);
    None
}

/// The device of a call, or a report when it is NULL.
///
/// # Safety
///
/// `dev` must be NULL or point to a `struct device` that stays alive for
/// `'a`, as the device of a DMA API call does for the call.
#[inline(always)]
pub(crate) unsafe fn device_of<'a>(dev: *mut device, func: &str) -> Option<Dev<'a>> {
    if dev.is_null() {
        return no_device(func);
    }
    // SAFETY: The caller keeps the device alive for `'a`.
    Some(unsafe { Dev::new(dev) })
}

/// Reports a device without a streaming mask, once, as C's
/// `WARN_ON_ONCE(!dev->dma_mask)`.
#[cold]
pub(crate) fn no_dma_mask(dev: Dev<'_>, func: &str) {
    use kernel::sync::atomic::{
        Atomic,
        Relaxed, //
    };
    static REPORTED: Atomic<bool> = Atomic::new(false);
    if !REPORTED.xchg(true, Relaxed) {
        dev_warn!(dev.as_ref(), "{}: device has no DMA mask\n", func);
        kernel::warn_on!(true);
    }
}
