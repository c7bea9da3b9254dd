// SPDX-License-Identifier: GPL-2.0-only

//! Scatterlist mappings: `dma_map_sg_attrs()`, `dma_map_sgtable()` and
//! their unmap.

use super::backend::{
    device_of,
    direction_ok,
    no_dma_mask,
    Backend, //
};
use super::hooks::{
    self,
    debug,
    trace, //
};
use super::{
    direct,
    range_map,
    ATTR_REQUIRE_COHERENT,
    EINVAL,
    EIO,
    EOPNOTSUPP, //
};
use kernel::bindings::{
    device,
    dma_data_direction,
    scatterlist,
    sg_table, //
};
use kernel::ffi::{
    c_int,
    c_uint,
    c_ulong, //
};
use kernel::prelude::*;

/// Maps a scatterlist; the number of DMA segments or a negative errno.
///
/// # Safety
///
/// `dev` must be NULL or a live device, and `sg` a valid scatterlist of at
/// least `nents` entries whose memory stays valid until it is unmapped.
unsafe fn map_sg(
    dev: *mut device,
    sg: *mut scatterlist,
    nents: c_int,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> c_int {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_map_sg") }) else {
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
    // SAFETY: `sg` is a valid scatterlist of `nents` entries, by this
    // function's contract.
    let ents = unsafe {
        match Backend::streaming(d) {
            Backend::Direct => direct::map_sg(d, sg, nents, dir, attrs),
            Backend::Other(o) => o.map_sg(sg, nents, dir, attrs),
        }
    };
    if ents > 0 {
        // SAFETY: `sg` is valid, and now mapped.
        unsafe {
            hooks::kmsan_dma_sg(sg, nents, dir);
            trace::dma_map_sg(d, sg, nents, ents, dir, attrs);
            debug::debug_dma_map_sg(d, sg, nents, ents, dir, attrs);
        }
    } else if !range_map::map_sg_error_is_valid(ents) {
        kernel::warn_on!(true);
        // SAFETY: `sg` is valid.
        unsafe { trace::dma_map_sg_err(d, sg, nents, ents, dir, attrs) };
        return -EIO;
    }
    ents
}

/// `dma_map_sg_attrs()`: the number of DMA segments, 0 on failure.
///
/// # Safety
///
/// As the internal `map_sg()`: `dev` NULL or live, `sg` a valid scatterlist
/// of at least `nents` entries.
#[export]
pub unsafe extern "C" fn dma_map_sg_attrs(
    dev: *mut device,
    sg: *mut scatterlist,
    nents: c_int,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> c_uint {
    // SAFETY: The same contract.
    let ret = unsafe { map_sg(dev, sg, nents, dir, attrs) };
    ret.max(0) as c_uint
}

/// `dma_map_sgtable()`: 0 or a negative errno.
///
/// # Safety
///
/// `dev` must be NULL or a live device and `sgt` NULL or a valid table
/// whose memory stays valid until it is unmapped.
#[export]
pub unsafe extern "C" fn dma_map_sgtable(
    dev: *mut device,
    sgt: *mut sg_table,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> c_int {
    // SAFETY: A valid table, if not NULL, which nothing else changes while
    // it is mapped.
    let Some(sgt) = (unsafe { sgt.as_mut() }) else {
        return -EINVAL;
    };
    // SAFETY: The table's list has `orig_nents` entries.
    let nents = unsafe { map_sg(dev, sgt.sgl, sgt.orig_nents as c_int, dir, attrs) };
    if nents < 0 {
        return nents;
    }
    sgt.nents = nents as c_uint;
    0
}

/// `dma_unmap_sg_attrs()`.
///
/// # Safety
///
/// `dev` must be NULL or a live device; `sg` and `nents` must be those a
/// successful map of it was given.
#[export]
pub unsafe extern "C" fn dma_unmap_sg_attrs(
    dev: *mut device,
    sg: *mut scatterlist,
    nents: c_int,
    dir: dma_data_direction,
    attrs: c_ulong,
) {
    // SAFETY: The caller passes a live device or NULL.
    let Some(d) = (unsafe { device_of(dev, "dma_unmap_sg") }) else {
        return;
    };
    if !direction_ok(d, "dma_unmap_sg", dir) {
        return;
    }
    // SAFETY: `sg` is a scatterlist this backend mapped, of `nents` entries,
    // by this function's contract.
    unsafe {
        trace::dma_unmap_sg(d, sg, nents, dir, attrs);
        debug::debug_dma_unmap_sg(d, sg, nents, dir, attrs);
        match Backend::streaming(d) {
            Backend::Direct => direct::unmap_sg(d, sg, nents, dir, attrs),
            Backend::Other(o) => o.unmap_sg(sg, nents, dir, attrs),
        }
    }
}
