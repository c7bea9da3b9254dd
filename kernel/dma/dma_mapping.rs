// SPDX-License-Identifier: GPL-2.0-only

//! The DMA-mapping core in Rust: the entry points of
//! `<linux/dma-mapping.h>` and dma-direct, in place of
//! `kernel/dma/mapping.c` and `kernel/dma/direct.c`
//! (`CONFIG_DMA_RUST_MAPPING`).
//!
//! Every entry point picks a [`Backend`] for the device, exactly as
//! upstream does, and reports to the tracepoints and to dma-debug:
//!
//! - [`Backend::Direct`]: dma-direct ([`direct`]), with swiotlb bounce
//!   buffers for what the device cannot reach;
//! - [`Backend::Iommu`]: the IOMMU DMA layer (`iommu_dma_*()`, in C);
//! - [`Backend::Ops`]: a legacy `struct dma_map_ops` of the architecture or
//!   bus.
//!
//! Misuse that C answers with `BUG()` or a NULL dereference (a NULL device,
//! an invalid direction) is reported and refused instead.
//!
//! The exports are made by `dma_mapping_glue.c`, as `mapping.c` made them.

use kernel::bindings::{
    self, device, dma_data_direction, gfp_t, page, pgprot_t, scatterlist, sg_table, vm_area_struct,
};
use kernel::ffi::{c_int, c_uint, c_ulong, c_void};
use kernel::prelude::*;

#[path = "dma_mapping/mask.rs"]
mod mask;

#[path = "dma_mapping/range_map.rs"]
mod range_map;

#[path = "dma_mapping/dev.rs"]
mod dev;

#[path = "common/mem.rs"]
mod mem;

#[path = "common/sg.rs"]
mod sg;

#[path = "dma_mapping/hooks.rs"]
mod hooks;

#[path = "dma_mapping/direct.rs"]
mod direct;

use dev::{Dev, Dma, Phys, DMA_MAPPING_ERROR};
use hooks::{debug, trace};

const __LOG_PREFIX: &[u8] = b"dma-mapping\0";

const ATTR_MMIO: c_ulong = bindings::DMA_ATTR_MMIO as c_ulong;
const ATTR_CC_SHARED: c_ulong = bindings::DMA_ATTR_CC_SHARED as c_ulong;
const ATTR_REQUIRE_COHERENT: c_ulong = bindings::DMA_ATTR_REQUIRE_COHERENT as c_ulong;
const ATTR_ALLOC_SINGLE_PAGES: c_ulong = bindings::DMA_ATTR_ALLOC_SINGLE_PAGES as c_ulong;
const GFP_ZONES: gfp_t = bindings::__GFP_DMA | bindings::__GFP_DMA32 | bindings::__GFP_HIGHMEM;
const GFP_COMP: gfp_t = bindings::__GFP_COMP;
const BIDIRECTIONAL: dma_data_direction = bindings::dma_data_direction_DMA_BIDIRECTIONAL;
const EINVAL: c_int = bindings::EINVAL as c_int;
const EIO: c_int = bindings::EIO as c_int;

// The pure modules spell out the kernel's constants they need; tie them to `bindings`.
const _: () = {
    assert!(range_map::ERRNO_EIO == bindings::EIO as i32);
    assert!(range_map::ERRNO_ENOMEM == bindings::ENOMEM as i32);
    assert!(range_map::ERRNO_EINVAL == bindings::EINVAL as i32);
    assert!(range_map::ERRNO_EREMOTEIO == bindings::EREMOTEIO as i32);
};
const ENXIO: c_int = bindings::ENXIO as c_int;
const EOPNOTSUPP: c_int = bindings::EOPNOTSUPP as c_int;

/// Who carries out a device's DMA operations.
#[derive(Clone, Copy)]
enum Backend {
    /// dma-direct, with swiotlb.
    Direct,
    /// The IOMMU DMA layer.
    Iommu,
    /// The device's `dma_map_ops`.
    Ops(&'static bindings::dma_map_ops),
}

impl Backend {
    /// The backend for a device whose relevant mask is `mask` (C's
    /// `dma_go_direct()`): the IOMMU layer if it handles the device, else
    /// dma-direct unless the device has operations that it does not
    /// bypass.
    #[inline(always)]
    fn choose(dev: Dev, mask: impl FnOnce() -> u64) -> Self {
        if dev.uses_iommu() {
            return Backend::Iommu;
        }
        match dev.ops() {
            None => Backend::Direct,
            Some(ops) => {
                if dev.ops_bypass()
                    && mask::min_not_zero(mask(), dev.bus_limit()) >= direct::required_mask(dev)
                {
                    Backend::Direct
                } else {
                    Backend::Ops(ops)
                }
            }
        }
    }

    /// The backend for streaming mappings (`dma_map_direct()`).
    #[inline(always)]
    fn streaming(dev: Dev) -> Self {
        Self::choose(dev, || dev.dma_mask())
    }

    /// The backend for allocations (`dma_alloc_direct()`).
    #[inline(always)]
    fn coherent(dev: Dev) -> Self {
        Self::choose(dev, || dev.coherent_mask())
    }
}

/// Reports a call without a device and gives `None`; C would crash.
#[cold]
fn no_device(func: &str) -> Option<Dev> {
    pr_err!("{}: called without a device\n", func);
    kernel::warn_on!(true);
    None
}

/// The device of a call, or a report when it is NULL.
#[inline(always)]
fn device_of(dev: *mut device, func: &str) -> Option<Dev> {
    if dev.is_null() {
        return no_device(func);
    }
    // SAFETY: Every DMA API call is made with a live device.
    Some(unsafe { Dev::new(dev) })
}

/// Reports an invalid direction; C stops the kernel with `BUG()`.
#[cold]
fn bad_direction(dev: Dev, func: &str, dir: dma_data_direction) -> bool {
    dev_err!(dev.as_ref(), "{}: invalid DMA direction {}\n", func, dir);
    kernel::warn_on!(true);
    false
}

/// Whether `dir` is a direction data can move in (`valid_dma_direction()`).
#[inline(always)]
fn direction_ok(dev: Dev, func: &str, dir: dma_data_direction) -> bool {
    if (0..=2).contains(&dir) {
        return true;
    }
    bad_direction(dev, func, dir)
}

/// Reports a device without a streaming mask, once, as C's
/// `WARN_ON_ONCE(!dev->dma_mask)`.
#[cold]
fn no_dma_mask(dev: Dev, func: &str) {
    use kernel::sync::atomic::{Atomic, Relaxed};
    static REPORTED: Atomic<bool> = Atomic::new(false);
    if !REPORTED.xchg(true, Relaxed) {
        dev_warn!(dev.as_ref(), "{}: device has no DMA mask\n", func);
        kernel::warn_on!(true);
    }
}

// ---- managed coherent memory ----

/// What a managed allocation's devres records.
#[repr(C)]
struct Devres {
    size: usize,
    vaddr: *mut c_void,
    dma: Dma,
    attrs: c_ulong,
}

/// devres release of a managed allocation: frees it.
///
/// # Safety
///
/// `res` must be a record filled in by [`dmam_alloc_attrs`] for `dev`.
unsafe extern "C" fn dmam_release(dev: *mut device, res: *mut c_void) {
    // SAFETY: devres passes the record `dmam_alloc_attrs` filled in.
    let this = unsafe { &*res.cast::<Devres>() };
    // SAFETY: The record describes a live allocation of `dev`.
    unsafe { dma_free_attrs(dev, this.size, this.vaddr, this.dma, this.attrs) };
}

/// devres match: whether record `res` is the allocation `data` describes.
///
/// # Safety
///
/// `res` and `data` must be allocation records.
unsafe extern "C" fn dmam_match(_dev: *mut device, res: *mut c_void, data: *mut c_void) -> c_int {
    // SAFETY: devres passes one of our records and the one to match.
    let (this, other) = unsafe { (&*res.cast::<Devres>(), &*data.cast::<Devres>()) };
    if this.vaddr != other.vaddr {
        return 0;
    }
    kernel::warn_on!(this.size != other.size || this.dma != other.dma);
    1
}

/// `dmam_free_coherent()`: frees a managed coherent allocation early.
///
/// # Safety
///
/// The arguments must describe an allocation of `dmam_alloc_attrs()`.
#[export]
pub unsafe extern "C" fn dmam_free_coherent(
    dev: *mut device,
    size: usize,
    vaddr: *mut c_void,
    dma_handle: Dma,
) {
    let mut key = Devres {
        size,
        vaddr,
        dma: dma_handle,
        attrs: 0,
    };
    // SAFETY: The callbacks match the ones the record was added with.
    let ret = unsafe {
        bindings::devres_destroy(
            dev,
            Some(dmam_release),
            Some(dmam_match),
            (&raw mut key).cast(),
        )
    };
    kernel::warn_on!(ret != 0);
    // SAFETY: The caller passes a live allocation.
    unsafe { dma_free_attrs(dev, size, vaddr, dma_handle, 0) };
}

/// `dmam_alloc_attrs()`: a coherent allocation freed when the driver
/// unbinds.
///
/// # Safety
///
/// `dev` must be a live device and `dma_handle` writable.
#[export]
pub unsafe extern "C" fn dmam_alloc_attrs(
    dev: *mut device,
    size: usize,
    dma_handle: *mut Dma,
    gfp: gfp_t,
    attrs: c_ulong,
) -> *mut c_void {
    // SAFETY: A plain allocation with our release callback.
    let dr =
        unsafe { bindings::devres_alloc(Some(dmam_release), core::mem::size_of::<Devres>(), gfp) }
            .cast::<Devres>();
    if dr.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: The caller's arguments are passed on.
    let vaddr = unsafe { dma_alloc_attrs(dev, size, dma_handle, gfp, attrs) };
    if vaddr.is_null() {
        // SAFETY: `dr` was never added.
        unsafe { bindings::devres_free(dr.cast()) };
        return vaddr;
    }
    // SAFETY: `dr` is our record; the handle was written by the allocation.
    unsafe {
        dr.write(Devres {
            size,
            vaddr,
            dma: *dma_handle,
            attrs,
        });
        bindings::devres_add(dev, dr.cast());
    }
    vaddr
}

// ---- streaming mappings ----

/// `dma_map_phys()`: maps `size` bytes at physical address `phys`.
///
/// # Safety
///
/// `dev` must be NULL or a live device; the memory must stay valid until it
/// is unmapped.
#[export]
pub unsafe extern "C" fn dma_map_phys(
    dev: *mut device,
    phys: Phys,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> Dma {
    let Some(d) = device_of(dev, "dma_map_phys") else {
        return DMA_MAPPING_ERROR;
    };
    if !direction_ok(d, "dma_map_phys", dir) {
        return DMA_MAPPING_ERROR;
    }
    if !d.has_dma_mask() {
        no_dma_mask(d, "dma_map_phys");
        return DMA_MAPPING_ERROR;
    }
    if !d.is_coherent() && attrs & ATTR_REQUIRE_COHERENT != 0 {
        return DMA_MAPPING_ERROR;
    }
    let dma = match Backend::streaming(d) {
        Backend::Direct => direct::map_phys(d, phys, size, dir, attrs),
        _ if attrs & ATTR_CC_SHARED != 0 => return DMA_MAPPING_ERROR,
        // SAFETY: The IOMMU layer handles the device.
        Backend::Iommu => unsafe { bindings::iommu_dma_map_phys(dev, phys, size, dir, attrs) },
        Backend::Ops(ops) => match ops.map_phys {
            // SAFETY: The device's own operation, with the caller's arguments.
            Some(f) => unsafe { f(dev, phys, size, dir, attrs) },
            None => DMA_MAPPING_ERROR,
        },
    };
    if attrs & ATTR_MMIO == 0 {
        hooks::kmsan_dma(phys, size, dir);
    }
    // SAFETY: The arguments of this call.
    unsafe {
        trace::dma_map_phys(dev, phys, dma, size, dir, attrs);
        debug::debug_dma_map_phys(dev, phys, size, dir, dma, attrs);
    }
    dma
}

/// `dma_map_page_attrs()`: maps part of a page.
///
/// # Safety
///
/// As [`dma_map_phys`]; `page` must be a valid page.
#[export]
pub unsafe extern "C" fn dma_map_page_attrs(
    dev: *mut device,
    page: *mut page,
    offset: usize,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> Dma {
    if attrs & ATTR_MMIO != 0 {
        return DMA_MAPPING_ERROR;
    }
    if cfg!(CONFIG_DMA_API_DEBUG)
        && cfg!(CONFIG_ZONE_DEVICE)
        // SAFETY: The caller passes a valid page.
        && unsafe { bindings::dma_rs_page_is_zone_device(page) }
    {
        kernel::warn_on!(true);
        return DMA_MAPPING_ERROR;
    }
    let phys = mem::page_to_phys(page).wrapping_add(offset as Phys);
    // SAFETY: The caller's arguments.
    unsafe { dma_map_phys(dev, phys, size, dir, attrs) }
}

/// `dma_unmap_phys()`: removes a mapping of [`dma_map_phys`].
///
/// # Safety
///
/// The arguments must describe a live mapping of the device.
#[export]
pub unsafe extern "C" fn dma_unmap_phys(
    dev: *mut device,
    addr: Dma,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) {
    let Some(d) = device_of(dev, "dma_unmap_phys") else {
        return;
    };
    if !direction_ok(d, "dma_unmap_phys", dir) {
        return;
    }
    let backend = Backend::streaming(d);
    if !matches!(backend, Backend::Direct) && attrs & ATTR_CC_SHARED != 0 {
        return;
    }
    // Reported before the address is released, as for scatterlists: once an
    // IOMMU frees the IOVA, another mapping may get it, and dma-debug would
    // briefly see two mappings at one address (C reports afterwards).
    // SAFETY: The arguments of this call.
    unsafe {
        trace::dma_unmap_phys(dev, addr, size, dir, attrs);
        debug::debug_dma_unmap_phys(dev, addr, size, dir, attrs);
    }
    match backend {
        Backend::Direct => direct::unmap_phys(d, addr, size, dir, attrs),
        // SAFETY: The IOMMU layer handles the device.
        Backend::Iommu => unsafe { bindings::iommu_dma_unmap_phys(dev, addr, size, dir, attrs) },
        Backend::Ops(ops) => {
            if let Some(f) = ops.unmap_phys {
                // SAFETY: The device's own operation, with the caller's arguments.
                unsafe { f(dev, addr, size, dir, attrs) };
            }
        }
    }
}

/// `dma_unmap_page_attrs()`.
///
/// # Safety
///
/// As [`dma_unmap_phys`].
#[export]
pub unsafe extern "C" fn dma_unmap_page_attrs(
    dev: *mut device,
    addr: Dma,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) {
    if attrs & ATTR_MMIO != 0 {
        return;
    }
    // SAFETY: The caller's arguments.
    unsafe { dma_unmap_phys(dev, addr, size, dir, attrs) }
}

/// `dma_map_resource()`: maps MMIO space of another device.
///
/// # Safety
///
/// As [`dma_map_phys`].
#[export]
pub unsafe extern "C" fn dma_map_resource(
    dev: *mut device,
    phys_addr: Phys,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> Dma {
    // SAFETY: The caller's arguments.
    unsafe { dma_map_phys(dev, phys_addr, size, dir, attrs | ATTR_MMIO) }
}

/// `dma_unmap_resource()`.
///
/// # Safety
///
/// As [`dma_unmap_phys`].
#[export]
pub unsafe extern "C" fn dma_unmap_resource(
    dev: *mut device,
    addr: Dma,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) {
    // SAFETY: The caller's arguments.
    unsafe { dma_unmap_phys(dev, addr, size, dir, attrs | ATTR_MMIO) }
}

// ---- scatterlists ----

/// Maps a scatterlist; the number of DMA segments or a negative errno.
///
/// # Safety
///
/// `sg` must be a valid scatterlist of at least `nents` entries.
unsafe fn map_sg(
    dev: *mut device,
    sg: *mut scatterlist,
    nents: c_int,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> c_int {
    let Some(d) = device_of(dev, "dma_map_sg") else {
        return -EINVAL;
    };
    if !direction_ok(d, "dma_map_sg", dir) {
        return -EINVAL;
    }
    if !d.is_coherent() && attrs & ATTR_REQUIRE_COHERENT != 0 {
        return -EOPNOTSUPP;
    }
    if !d.has_dma_mask() {
        no_dma_mask(d, "dma_map_sg");
        return 0;
    }
    let ents = match Backend::streaming(d) {
        // SAFETY: The caller passes a valid scatterlist.
        Backend::Direct => unsafe { direct::map_sg(d, sg, nents, dir, attrs) },
        // SAFETY: The IOMMU layer handles the device.
        Backend::Iommu => unsafe { bindings::iommu_dma_map_sg(dev, sg, nents, dir, attrs) },
        Backend::Ops(ops) => match ops.map_sg {
            // SAFETY: The device's own operation, with the caller's arguments.
            Some(f) => unsafe { f(dev, sg, nents, dir, attrs) },
            None => -EIO,
        },
    };
    if ents > 0 {
        // SAFETY: The arguments of this call, mapped.
        unsafe {
            hooks::kmsan_dma_sg(sg, nents, dir);
            trace::dma_map_sg(dev, sg, nents, ents, dir, attrs);
            debug::debug_dma_map_sg(dev, sg, nents, ents, dir, attrs);
        }
    } else if !range_map::map_sg_error_is_valid(ents) {
        kernel::warn_on!(true);
        // SAFETY: The arguments of this call.
        unsafe { trace::dma_map_sg_err(dev, sg, nents, ents, dir, attrs) };
        return -EIO;
    }
    ents
}

/// `dma_map_sg_attrs()`: the number of DMA segments, 0 on failure.
///
/// # Safety
///
/// `sg` must be a valid scatterlist of at least `nents` entries.
#[export]
pub unsafe extern "C" fn dma_map_sg_attrs(
    dev: *mut device,
    sg: *mut scatterlist,
    nents: c_int,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> c_uint {
    // SAFETY: The caller's arguments.
    let ret = unsafe { map_sg(dev, sg, nents, dir, attrs) };
    ret.max(0) as c_uint
}

/// `dma_map_sgtable()`: 0 or a negative errno.
///
/// # Safety
///
/// `sgt` must be a valid table.
#[export]
pub unsafe extern "C" fn dma_map_sgtable(
    dev: *mut device,
    sgt: *mut sg_table,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> c_int {
    if sgt.is_null() {
        return -EINVAL;
    }
    // SAFETY: The caller passes a valid table.
    let nents = unsafe { map_sg(dev, (*sgt).sgl, (*sgt).orig_nents as c_int, dir, attrs) };
    if nents < 0 {
        return nents;
    }
    // SAFETY: As above.
    unsafe { (*sgt).nents = nents as c_uint };
    0
}

/// `dma_unmap_sg_attrs()`.
///
/// # Safety
///
/// `sg` and `nents` must be those a successful map was given.
#[export]
pub unsafe extern "C" fn dma_unmap_sg_attrs(
    dev: *mut device,
    sg: *mut scatterlist,
    nents: c_int,
    dir: dma_data_direction,
    attrs: c_ulong,
) {
    let Some(d) = device_of(dev, "dma_unmap_sg") else {
        return;
    };
    if !direction_ok(d, "dma_unmap_sg", dir) {
        return;
    }
    // SAFETY: The arguments of this call.
    unsafe {
        trace::dma_unmap_sg(dev, sg, nents, dir, attrs);
        debug::debug_dma_unmap_sg(dev, sg, nents, dir, attrs);
    }
    match Backend::streaming(d) {
        // SAFETY: The caller passes a mapped scatterlist.
        Backend::Direct => unsafe { direct::unmap_sg(d, sg, nents, dir, attrs) },
        // SAFETY: The IOMMU layer handles the device.
        Backend::Iommu => unsafe { bindings::iommu_dma_unmap_sg(dev, sg, nents, dir, attrs) },
        Backend::Ops(ops) => {
            if let Some(f) = ops.unmap_sg {
                // SAFETY: The device's own operation, with the caller's arguments.
                unsafe { f(dev, sg, nents, dir, attrs) };
            }
        }
    }
}

// ---- syncs ----

/// `__dma_sync_single_for_cpu()`.
///
/// # Safety
///
/// The arguments must describe (part of) a live mapping.
#[export]
pub unsafe extern "C" fn __dma_sync_single_for_cpu(
    dev: *mut device,
    addr: Dma,
    size: usize,
    dir: dma_data_direction,
) {
    let Some(d) = device_of(dev, "dma_sync_single_for_cpu") else {
        return;
    };
    if !direction_ok(d, "dma_sync_single_for_cpu", dir) {
        return;
    }
    match Backend::streaming(d) {
        Backend::Direct => direct::sync_for_cpu(d, addr, size, dir),
        // SAFETY: The IOMMU layer handles the device.
        Backend::Iommu => unsafe { bindings::iommu_dma_sync_single_for_cpu(dev, addr, size, dir) },
        Backend::Ops(ops) => {
            if let Some(f) = ops.sync_single_for_cpu {
                // SAFETY: The device's own operation, with the caller's arguments.
                unsafe { f(dev, addr, size, dir) };
            }
        }
    }
    // SAFETY: The arguments of this call.
    unsafe {
        trace::dma_sync_single_for_cpu(dev, addr, size, dir);
        debug::debug_dma_sync_single_for_cpu(dev, addr, size, dir);
    }
}

/// `__dma_sync_single_for_device()`.
///
/// # Safety
///
/// The arguments must describe (part of) a live mapping.
#[export]
pub unsafe extern "C" fn __dma_sync_single_for_device(
    dev: *mut device,
    addr: Dma,
    size: usize,
    dir: dma_data_direction,
) {
    let Some(d) = device_of(dev, "dma_sync_single_for_device") else {
        return;
    };
    if !direction_ok(d, "dma_sync_single_for_device", dir) {
        return;
    }
    match Backend::streaming(d) {
        Backend::Direct => direct::sync_for_device(d, addr, size, dir),
        // SAFETY: The IOMMU layer handles the device.
        Backend::Iommu => unsafe {
            bindings::iommu_dma_sync_single_for_device(dev, addr, size, dir)
        },
        Backend::Ops(ops) => {
            if let Some(f) = ops.sync_single_for_device {
                // SAFETY: The device's own operation, with the caller's arguments.
                unsafe { f(dev, addr, size, dir) };
            }
        }
    }
    // SAFETY: The arguments of this call.
    unsafe {
        trace::dma_sync_single_for_device(dev, addr, size, dir);
        debug::debug_dma_sync_single_for_device(dev, addr, size, dir);
    }
}

/// `__dma_sync_sg_for_cpu()`.
///
/// # Safety
///
/// `sg` must be a mapped scatterlist of at least `nelems` entries.
#[export]
pub unsafe extern "C" fn __dma_sync_sg_for_cpu(
    dev: *mut device,
    sg: *mut scatterlist,
    nelems: c_int,
    dir: dma_data_direction,
) {
    let Some(d) = device_of(dev, "dma_sync_sg_for_cpu") else {
        return;
    };
    if !direction_ok(d, "dma_sync_sg_for_cpu", dir) {
        return;
    }
    match Backend::streaming(d) {
        // SAFETY: The caller passes a mapped scatterlist.
        Backend::Direct => unsafe { direct::sync_sg_for_cpu(d, sg, nelems, dir) },
        // SAFETY: The IOMMU layer handles the device.
        Backend::Iommu => unsafe { bindings::iommu_dma_sync_sg_for_cpu(dev, sg, nelems, dir) },
        Backend::Ops(ops) => {
            if let Some(f) = ops.sync_sg_for_cpu {
                // SAFETY: The device's own operation, with the caller's arguments.
                unsafe { f(dev, sg, nelems, dir) };
            }
        }
    }
    // SAFETY: The arguments of this call.
    unsafe {
        trace::dma_sync_sg_for_cpu(dev, sg, nelems, dir);
        debug::debug_dma_sync_sg_for_cpu(dev, sg, nelems, dir);
    }
}

/// `__dma_sync_sg_for_device()`.
///
/// # Safety
///
/// `sg` must be a mapped scatterlist of at least `nelems` entries.
#[export]
pub unsafe extern "C" fn __dma_sync_sg_for_device(
    dev: *mut device,
    sg: *mut scatterlist,
    nelems: c_int,
    dir: dma_data_direction,
) {
    let Some(d) = device_of(dev, "dma_sync_sg_for_device") else {
        return;
    };
    if !direction_ok(d, "dma_sync_sg_for_device", dir) {
        return;
    }
    match Backend::streaming(d) {
        // SAFETY: The caller passes a mapped scatterlist.
        Backend::Direct => unsafe { direct::sync_sg_for_device(d, sg, nelems, dir) },
        // SAFETY: The IOMMU layer handles the device.
        Backend::Iommu => unsafe { bindings::iommu_dma_sync_sg_for_device(dev, sg, nelems, dir) },
        Backend::Ops(ops) => {
            if let Some(f) = ops.sync_sg_for_device {
                // SAFETY: The device's own operation, with the caller's arguments.
                unsafe { f(dev, sg, nelems, dir) };
            }
        }
    }
    // SAFETY: The arguments of this call.
    unsafe {
        trace::dma_sync_sg_for_device(dev, sg, nelems, dir);
        debug::debug_dma_sync_sg_for_device(dev, sg, nelems, dir);
    }
}

/// `__dma_need_sync()`: whether syncing `dma_addr` does anything.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn __dma_need_sync(dev: *mut device, dma_addr: Dma) -> bool {
    let Some(d) = device_of(dev, "dma_need_sync") else {
        return true;
    };
    match Backend::streaming(d) {
        Backend::Direct => direct::need_sync(d, dma_addr),
        _ => true,
    }
}

/// `dma_need_unmap()`: whether the device's mappings must be unmapped.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_need_unmap(dev: *mut device) -> bool {
    let Some(d) = device_of(dev, "dma_need_unmap") else {
        return true;
    };
    !matches!(Backend::streaming(d), Backend::Direct)
        || !d.skip_sync()
        || cfg!(CONFIG_DMA_API_DEBUG)
}

/// Decides whether the device's syncs can be skipped, after its mask
/// changed (`dma_setup_need_sync()`).
fn setup_need_sync(d: Dev) {
    if !cfg!(CONFIG_DMA_NEED_SYNC) {
        return;
    }
    match Backend::streaming(d) {
        Backend::Direct | Backend::Iommu => d.set_skip_sync(d.is_coherent()),
        Backend::Ops(ops) => d.set_skip_sync(
            ops.sync_single_for_device.is_none()
                && ops.sync_single_for_cpu.is_none()
                && ops.sync_sg_for_device.is_none()
                && ops.sync_sg_for_cpu.is_none(),
        ),
    }
}

// ---- coherent and page allocations, and their mmap ----

/// `dma_get_sgtable_attrs()`: describes a coherent allocation as a table.
///
/// # Safety
///
/// The arguments must describe a live coherent allocation; `sgt` must be
/// writable.
#[export]
pub unsafe extern "C" fn dma_get_sgtable_attrs(
    dev: *mut device,
    sgt: *mut sg_table,
    cpu_addr: *mut c_void,
    dma_addr: Dma,
    size: usize,
    attrs: c_ulong,
) -> c_int {
    let Some(d) = device_of(dev, "dma_get_sgtable") else {
        return -EINVAL;
    };
    match Backend::coherent(d) {
        // SAFETY: The caller passes a writable table.
        Backend::Direct => unsafe { direct::get_sgtable(d, sgt, dma_addr, size) },
        // SAFETY: The IOMMU layer handles the device.
        Backend::Iommu => unsafe {
            bindings::iommu_dma_get_sgtable(dev, sgt, cpu_addr, dma_addr, size, attrs)
        },
        Backend::Ops(ops) => match ops.get_sgtable {
            // SAFETY: The device's own operation, with the caller's arguments.
            Some(f) => unsafe { f(dev, sgt, cpu_addr, dma_addr, size, attrs) },
            None => -ENXIO,
        },
    }
}

/// `dma_pgprot()`: the page protection of a DMA allocation's mappings;
/// unchanged, as the supported architectures are coherent.
///
/// # Safety
///
/// `dev` must be a live device.
#[export]
pub unsafe extern "C" fn dma_pgprot(
    _dev: *mut device,
    prot: pgprot_t,
    _attrs: c_ulong,
) -> pgprot_t {
    prot
}

/// `dma_can_mmap()`: whether the device's allocations can be mapped to
/// user space.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_can_mmap(dev: *mut device) -> bool {
    let Some(d) = device_of(dev, "dma_can_mmap") else {
        return false;
    };
    match Backend::coherent(d) {
        Backend::Direct => direct::can_mmap(d),
        Backend::Iommu => true,
        Backend::Ops(ops) => ops.mmap.is_some(),
    }
}

/// `dma_mmap_attrs()`: maps a coherent allocation into a user VMA.
///
/// # Safety
///
/// The arguments must describe a live coherent allocation and a VMA being
/// set up by its mmap handler.
#[export]
pub unsafe extern "C" fn dma_mmap_attrs(
    dev: *mut device,
    vma: *mut vm_area_struct,
    cpu_addr: *mut c_void,
    dma_addr: Dma,
    size: usize,
    attrs: c_ulong,
) -> c_int {
    let Some(d) = device_of(dev, "dma_mmap_attrs") else {
        return -ENXIO;
    };
    match Backend::coherent(d) {
        // SAFETY: The caller passes a valid VMA and allocation.
        Backend::Direct => unsafe { direct::mmap(d, vma, cpu_addr, dma_addr, size) },
        // SAFETY: The IOMMU layer handles the device.
        Backend::Iommu => unsafe {
            bindings::iommu_dma_mmap(dev, vma, cpu_addr, dma_addr, size, attrs)
        },
        Backend::Ops(ops) => match ops.mmap {
            // SAFETY: The device's own operation, with the caller's arguments.
            Some(f) => unsafe { f(dev, vma, cpu_addr, dma_addr, size, attrs) },
            None => -ENXIO,
        },
    }
}

/// `dma_get_required_mask()`: the mask that reaches all of memory.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_get_required_mask(dev: *mut device) -> u64 {
    let Some(d) = device_of(dev, "dma_get_required_mask") else {
        return mask::bit_mask(32);
    };
    match Backend::coherent(d) {
        Backend::Direct => direct::required_mask(d),
        Backend::Iommu => mask::bit_mask(32),
        Backend::Ops(ops) => match ops.get_required_mask {
            // SAFETY: The device's own operation.
            Some(f) => unsafe { f(dev) },
            None => mask::bit_mask(32),
        },
    }
}

/// Takes memory from the device's declared coherent region, if it has one
/// (`dma_alloc_from_dev_coherent()`).
fn dev_coherent_alloc(
    dev: *mut device,
    size: usize,
    dma_handle: *mut Dma,
    cpu_addr: &mut *mut c_void,
) -> bool {
    // SAFETY: The device is live; the handle is writable.
    cfg!(CONFIG_DMA_DECLARE_COHERENT)
        && unsafe {
            bindings::dma_rs_alloc_from_dev_coherent(dev, size as isize, dma_handle, cpu_addr)
        } != 0
}

/// `dma_alloc_attrs()`: coherent memory, zeroed.
///
/// # Safety
///
/// `dev` must be NULL or a live device; `dma_handle` must be writable.
#[export]
pub unsafe extern "C" fn dma_alloc_attrs(
    dev: *mut device,
    size: usize,
    dma_handle: *mut Dma,
    flag: gfp_t,
    attrs: c_ulong,
) -> *mut c_void {
    let Some(d) = device_of(dev, "dma_alloc_attrs") else {
        return core::ptr::null_mut();
    };
    kernel::warn_on!(d.coherent_mask() == 0);
    if flag & GFP_COMP != 0 {
        kernel::warn_on!(true);
        return core::ptr::null_mut();
    }
    let mut cpu_addr = core::ptr::null_mut();
    if dev_coherent_alloc(dev, size, dma_handle, &mut cpu_addr) {
        // SAFETY: The arguments of this call; the handle was written.
        unsafe { trace::dma_alloc(dev, cpu_addr, *dma_handle, size, BIDIRECTIONAL, flag, attrs) };
        return cpu_addr;
    }
    let flag = flag & !GFP_ZONES;
    // SAFETY: The handle is writable.
    let handle = unsafe { &mut *dma_handle };
    cpu_addr = match Backend::coherent(d) {
        Backend::Direct => direct::alloc(d, size, handle, flag, attrs),
        // SAFETY: The IOMMU layer handles the device.
        Backend::Iommu => unsafe { bindings::iommu_dma_alloc(dev, size, dma_handle, flag, attrs) },
        Backend::Ops(ops) => match ops.alloc {
            // SAFETY: The device's own operation, with the caller's arguments.
            Some(f) => unsafe { f(dev, size, dma_handle, flag, attrs) },
            None => {
                // SAFETY: The arguments of this call.
                unsafe {
                    trace::dma_alloc(
                        dev,
                        core::ptr::null_mut(),
                        0,
                        size,
                        BIDIRECTIONAL,
                        flag,
                        attrs,
                    )
                };
                return core::ptr::null_mut();
            }
        },
    };
    // SAFETY: The arguments of this call; the handle was written if the
    // allocation succeeded.
    unsafe {
        trace::dma_alloc(dev, cpu_addr, *dma_handle, size, BIDIRECTIONAL, flag, attrs);
        debug::debug_dma_alloc_coherent(dev, size, *dma_handle, cpu_addr, attrs);
    }
    cpu_addr
}

/// `dma_free_attrs()`: frees coherent memory.
///
/// # Safety
///
/// The arguments must describe a live allocation of [`dma_alloc_attrs`].
#[export]
pub unsafe extern "C" fn dma_free_attrs(
    dev: *mut device,
    size: usize,
    cpu_addr: *mut c_void,
    dma_handle: Dma,
    attrs: c_ulong,
) {
    let Some(d) = device_of(dev, "dma_free_attrs") else {
        return;
    };
    let order = range_map::order_of(size as u64, bindings::PAGE_SHIFT) as c_int;
    if cfg!(CONFIG_DMA_DECLARE_COHERENT)
        // SAFETY: The device is live; the memory is checked against its
        // declared region.
        && unsafe { bindings::dma_rs_release_from_dev_coherent(dev, order, cpu_addr) } != 0
    {
        return;
    }
    // SAFETY: Reads the CPU's interrupt state.
    kernel::warn_on!(unsafe { bindings::dma_rs_irqs_disabled() });
    // SAFETY: The arguments of this call.
    unsafe { trace::dma_free(dev, cpu_addr, dma_handle, size, BIDIRECTIONAL, attrs) };
    if cpu_addr.is_null() {
        return;
    }
    // SAFETY: The arguments of this call.
    unsafe { debug::debug_dma_free_coherent(dev, size, cpu_addr, dma_handle, attrs) };
    match Backend::coherent(d) {
        Backend::Direct => direct::free(d, size, cpu_addr, dma_handle, attrs),
        // SAFETY: The IOMMU layer handles the device.
        Backend::Iommu => unsafe {
            bindings::iommu_dma_free(dev, size, cpu_addr, dma_handle, attrs)
        },
        Backend::Ops(ops) => {
            if let Some(f) = ops.free {
                // SAFETY: The device's own operation, with the caller's arguments.
                unsafe { f(dev, size, cpu_addr, dma_handle, attrs) };
            }
        }
    }
}

/// Allocates pages for DMA without the reports.
fn alloc_pages_raw(
    d: Dev,
    size: usize,
    dma_handle: *mut Dma,
    dir: dma_data_direction,
    gfp: gfp_t,
) -> *mut page {
    let dev = d.raw();
    if d.coherent_mask() == 0 || gfp & (GFP_ZONES | GFP_COMP) != 0 {
        kernel::warn_on!(true);
        return core::ptr::null_mut();
    }
    let size = range_map::page_align(size as u64, bindings::PAGE_SHIFT) as usize;
    match Backend::coherent(d) {
        // SAFETY: The handle is writable.
        Backend::Direct => direct::alloc_pages(d, size, unsafe { &mut *dma_handle }, gfp),
        // SAFETY: The IOMMU layer handles the device.
        Backend::Iommu => unsafe {
            bindings::dma_common_alloc_pages(dev, size, dma_handle, dir, gfp)
        },
        Backend::Ops(ops) => match ops.alloc_pages_op {
            // SAFETY: The device's own operation, with the caller's arguments.
            Some(f) => unsafe { f(dev, size, dma_handle, dir, gfp) },
            None => core::ptr::null_mut(),
        },
    }
}

/// Frees pages of [`alloc_pages_raw`] without the reports.
fn free_pages_raw(d: Dev, size: usize, page: *mut page, dma: Dma, dir: dma_data_direction) {
    let dev = d.raw();
    let size = range_map::page_align(size as u64, bindings::PAGE_SHIFT) as usize;
    match Backend::coherent(d) {
        Backend::Direct => direct::free_pages(d, size, page),
        // SAFETY: The IOMMU layer handles the device and made the allocation.
        Backend::Iommu => unsafe { bindings::dma_common_free_pages(dev, size, page, dma, dir) },
        Backend::Ops(ops) => {
            if let Some(f) = ops.free_pages {
                // SAFETY: The device's own operation, with its allocation.
                unsafe { f(dev, size, page, dma, dir) };
            }
        }
    }
}

/// The kernel address of a page of DMA memory, for the reports.
fn page_virt(page: *mut page) -> *mut c_void {
    if page.is_null() {
        return core::ptr::null_mut();
    }
    mem::page_address(page)
}

/// `dma_alloc_pages()`: pages for streaming DMA, mapped.
///
/// # Safety
///
/// `dev` must be NULL or a live device; `dma_handle` must be writable.
#[export]
pub unsafe extern "C" fn dma_alloc_pages(
    dev: *mut device,
    size: usize,
    dma_handle: *mut Dma,
    dir: dma_data_direction,
    gfp: gfp_t,
) -> *mut page {
    let Some(d) = device_of(dev, "dma_alloc_pages") else {
        return core::ptr::null_mut();
    };
    let page = alloc_pages_raw(d, size, dma_handle, dir, gfp);
    // SAFETY: The arguments of this call; the handle is written on success.
    unsafe {
        if page.is_null() {
            trace::dma_alloc_pages(dev, core::ptr::null_mut(), 0, size, dir, gfp, 0);
        } else {
            trace::dma_alloc_pages(dev, page_virt(page), *dma_handle, size, dir, gfp, 0);
            debug::debug_dma_alloc_pages(dev, page, size, dir, *dma_handle);
        }
    }
    page
}

/// `dma_free_pages()`.
///
/// # Safety
///
/// The arguments must describe a live allocation of [`dma_alloc_pages`].
#[export]
pub unsafe extern "C" fn dma_free_pages(
    dev: *mut device,
    size: usize,
    page: *mut page,
    dma_handle: Dma,
    dir: dma_data_direction,
) {
    let Some(d) = device_of(dev, "dma_free_pages") else {
        return;
    };
    // SAFETY: The arguments of this call.
    unsafe {
        trace::dma_free_pages(dev, page_virt(page), dma_handle, size, dir, 0);
        debug::debug_dma_free_pages(dev, page, size, dir, dma_handle);
    }
    free_pages_raw(d, size, page, dma_handle, dir);
}

/// `dma_mmap_pages()`: maps pages of [`dma_alloc_pages`] into a user VMA.
///
/// # Safety
///
/// `vma` must be a VMA being set up by its mmap handler and `page` the
/// first of `size` bytes of pages.
#[export]
pub unsafe extern "C" fn dma_mmap_pages(
    _dev: *mut device,
    vma: *mut vm_area_struct,
    size: usize,
    page: *mut page,
) -> c_int {
    // SAFETY: The caller passes a valid VMA.
    if !unsafe { direct::vma_fits(vma, size) } {
        return -ENXIO;
    }
    let pfn = (mem::page_to_phys(page) >> bindings::PAGE_SHIFT) as c_ulong;
    // SAFETY: The VMA is valid and fits the pages.
    unsafe { direct::remap(vma, pfn) }
}

/// A one-entry table around one page allocation (the non-IOMMU
/// `dma_alloc_noncontiguous()`).
fn alloc_single_sgt(d: Dev, size: usize, dir: dma_data_direction, gfp: gfp_t) -> *mut sg_table {
    let bytes = core::mem::size_of::<sg_table>();
    // SAFETY: A fresh allocation.
    let sgt = unsafe {
        bindings::krealloc_node_align(core::ptr::null(), bytes, 8, gfp, bindings::NUMA_NO_NODE)
    }
    .cast::<sg_table>();
    if sgt.is_null() {
        return sgt;
    }
    // SAFETY: `sgt` is ours; `sg_alloc_table` initialises it.
    unsafe {
        if bindings::sg_alloc_table(sgt, 1, gfp) != 0 {
            bindings::kfree(sgt.cast());
            return core::ptr::null_mut();
        }
        let sgl = (*sgt).sgl;
        let page = alloc_pages_raw(d, size, &raw mut (*sgl).dma_address, dir, gfp);
        if page.is_null() {
            bindings::sg_free_table(sgt);
            bindings::kfree(sgt.cast());
            return core::ptr::null_mut();
        }
        let len = range_map::page_align(size as u64, bindings::PAGE_SHIFT) as c_uint;
        bindings::sg_set_page(sgl, page, len, 0);
        sg::set_dma(sgl, (*sgl).dma_address, len);
    }
    sgt
}

/// `dma_alloc_noncontiguous()`: memory that need only look contiguous to
/// the device, as a mapped table.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_alloc_noncontiguous(
    dev: *mut device,
    size: usize,
    dir: dma_data_direction,
    gfp: gfp_t,
    attrs: c_ulong,
) -> *mut sg_table {
    let Some(d) = device_of(dev, "dma_alloc_noncontiguous") else {
        return core::ptr::null_mut();
    };
    if attrs & !ATTR_ALLOC_SINGLE_PAGES != 0 || gfp & GFP_COMP != 0 {
        kernel::warn_on!(true);
        return core::ptr::null_mut();
    }
    let sgt = if d.uses_iommu() {
        // SAFETY: The IOMMU layer handles the device.
        unsafe { bindings::iommu_dma_alloc_noncontiguous(dev, size, dir, gfp, attrs) }
    } else {
        alloc_single_sgt(d, size, dir, gfp)
    };
    // SAFETY: The arguments of this call; `sgt` is a mapped table if not NULL.
    unsafe {
        if sgt.is_null() {
            trace::dma_alloc_sgt_err(dev, core::ptr::null_mut(), 0, size, dir, gfp, attrs);
        } else {
            (*sgt).nents = 1;
            trace::dma_alloc_sgt(dev, sgt, size, dir, gfp, attrs);
            debug::debug_dma_map_sg(dev, (*sgt).sgl, (*sgt).orig_nents as c_int, 1, dir, attrs);
        }
    }
    sgt
}

/// `dma_free_noncontiguous()`.
///
/// # Safety
///
/// The arguments must describe a live allocation of
/// [`dma_alloc_noncontiguous`].
#[export]
pub unsafe extern "C" fn dma_free_noncontiguous(
    dev: *mut device,
    size: usize,
    sgt: *mut sg_table,
    dir: dma_data_direction,
) {
    let Some(d) = device_of(dev, "dma_free_noncontiguous") else {
        return;
    };
    // SAFETY: The caller passes a live table of the device.
    unsafe {
        trace::dma_free_sgt(dev, sgt, size, dir);
        debug::debug_dma_unmap_sg(dev, (*sgt).sgl, (*sgt).orig_nents as c_int, dir, 0);
        if d.uses_iommu() {
            bindings::iommu_dma_free_noncontiguous(dev, size, sgt, dir);
        } else {
            let sgl = (*sgt).sgl;
            free_pages_raw(d, size, bindings::sg_page(sgl), (*sgl).dma_address, dir);
            bindings::sg_free_table(sgt);
            bindings::kfree(sgt.cast());
        }
    }
}

/// `dma_vmap_noncontiguous()`: a kernel mapping of the allocation.
///
/// # Safety
///
/// The arguments must describe a live allocation of
/// [`dma_alloc_noncontiguous`].
#[export]
pub unsafe extern "C" fn dma_vmap_noncontiguous(
    dev: *mut device,
    size: usize,
    sgt: *mut sg_table,
) -> *mut c_void {
    let Some(d) = device_of(dev, "dma_vmap_noncontiguous") else {
        return core::ptr::null_mut();
    };
    // SAFETY: The caller passes a live table of the device.
    unsafe {
        if d.uses_iommu() {
            return bindings::iommu_dma_vmap_noncontiguous(dev, size, sgt);
        }
        page_virt(bindings::sg_page((*sgt).sgl))
    }
}

/// `dma_vunmap_noncontiguous()`.
///
/// # Safety
///
/// `vaddr` must come from [`dma_vmap_noncontiguous`] for the device.
#[export]
pub unsafe extern "C" fn dma_vunmap_noncontiguous(dev: *mut device, vaddr: *mut c_void) {
    let Some(d) = device_of(dev, "dma_vunmap_noncontiguous") else {
        return;
    };
    if d.uses_iommu() {
        // SAFETY: The IOMMU layer made the mapping with `vmap()`.
        unsafe { bindings::vunmap(vaddr) };
    }
}

/// `dma_mmap_noncontiguous()`.
///
/// # Safety
///
/// The arguments must describe a live allocation of
/// [`dma_alloc_noncontiguous`] and a VMA being set up by its mmap handler.
#[export]
pub unsafe extern "C" fn dma_mmap_noncontiguous(
    dev: *mut device,
    vma: *mut vm_area_struct,
    size: usize,
    sgt: *mut sg_table,
) -> c_int {
    let Some(d) = device_of(dev, "dma_mmap_noncontiguous") else {
        return -ENXIO;
    };
    // SAFETY: The caller passes a live table and a valid VMA.
    unsafe {
        if d.uses_iommu() {
            return bindings::iommu_dma_mmap_noncontiguous(dev, vma, size, sgt);
        }
        dma_mmap_pages(dev, vma, size, bindings::sg_page((*sgt).sgl))
    }
}

// ---- masks and limits ----

/// Whether the device's backend can serve `mask` (`dma_supported()`).
fn supported(d: Dev, mask: u64) -> bool {
    let ops = d.ops();
    if d.uses_iommu() {
        kernel::warn_on!(ops.is_some());
        return ops.is_none();
    }
    match ops {
        Some(ops) => match ops.dma_supported {
            // SAFETY: The device's own operation.
            Some(f) => (unsafe { f(d.raw(), mask) }) != 0,
            None => true,
        },
        None => direct::supported(d, mask),
    }
}

/// `dma_pci_p2pdma_supported()`: whether PCI peer-to-peer DMA can work.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_pci_p2pdma_supported(dev: *mut device) -> bool {
    device_of(dev, "dma_pci_p2pdma_supported").is_some_and(|d| d.ops().is_none())
}

/// `dma_set_mask()`: sets the streaming mask, if the device can use it.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_set_mask(dev: *mut device, mask: u64) -> c_int {
    let Some(d) = device_of(dev, "dma_set_mask") else {
        return -EIO;
    };
    if !d.has_dma_mask() || !supported(d, mask) {
        return -EIO;
    }
    d.store_dma_mask(mask);
    setup_need_sync(d);
    0
}

/// `dma_set_coherent_mask()`: sets the coherent mask, if the device can use
/// it.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_set_coherent_mask(dev: *mut device, mask: u64) -> c_int {
    let Some(d) = device_of(dev, "dma_set_coherent_mask") else {
        return -EIO;
    };
    if !supported(d, mask) {
        return -EIO;
    }
    d.store_coherent_mask(mask);
    0
}

/// Whether the device cannot reach all of memory directly.
fn addressing_limited(d: Dev) -> bool {
    // SAFETY: The device is live.
    if mask::min_not_zero(d.dma_mask(), d.bus_limit()) < unsafe { dma_get_required_mask(d.raw()) } {
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
    let Some(d) = device_of(dev, "dma_addressing_limited") else {
        return false;
    };
    if !addressing_limited(d) {
        return false;
    }
    dev_dbg!(d.as_ref(), "device is DMA addressing limited\n");
    true
}

/// `dma_max_mapping_size()`: the largest single mapping.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_max_mapping_size(dev: *mut device) -> usize {
    let Some(d) = device_of(dev, "dma_max_mapping_size") else {
        return 0;
    };
    match Backend::streaming(d) {
        Backend::Direct => direct::max_mapping_size(d),
        // SAFETY: The IOMMU layer handles the device.
        Backend::Iommu => unsafe { bindings::iommu_dma_max_mapping_size(dev) },
        Backend::Ops(ops) => match ops.max_mapping_size {
            // SAFETY: The device's own operation.
            Some(f) => unsafe { f(dev) },
            None => usize::MAX,
        },
    }
}

/// `dma_opt_mapping_size()`: the largest mapping that stays fast.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_opt_mapping_size(dev: *mut device) -> usize {
    let Some(d) = device_of(dev, "dma_opt_mapping_size") else {
        return 0;
    };
    let opt = if d.uses_iommu() {
        // SAFETY: The IOMMU layer handles the device.
        unsafe { bindings::iommu_dma_opt_mapping_size() }
    } else {
        match d.ops().and_then(|ops| ops.opt_mapping_size) {
            // SAFETY: The device's own operation.
            Some(f) => unsafe { f() },
            None => usize::MAX,
        }
    };
    // SAFETY: The caller's device.
    unsafe { dma_max_mapping_size(dev) }.min(opt)
}

/// `dma_get_merge_boundary()`: the boundary the IOMMU can merge segments
/// at, 0 if it cannot.
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn dma_get_merge_boundary(dev: *mut device) -> c_ulong {
    let Some(d) = device_of(dev, "dma_get_merge_boundary") else {
        return 0;
    };
    if d.uses_iommu() {
        // SAFETY: The IOMMU layer handles the device.
        return unsafe { bindings::iommu_dma_get_merge_boundary(dev) };
    }
    match d.ops().and_then(|ops| ops.get_merge_boundary) {
        // SAFETY: The device's own operation.
        Some(f) => unsafe { f(dev) },
        None => 0,
    }
}
