// SPDX-License-Identifier: GPL-2.0-only

//! Scatterlist mappings: `dma_map_sg_attrs()`, `dma_map_sgtable()` and
//! their unmap.

use super::args::{
    Dir,
    SgBuf,
    SgMapping, //
};
use super::backend::{
    device_of,
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
    fail,
    range_map,
    ATTR_REQUIRE_COHERENT, //
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
/// least `nents` entries whose memory stays valid, with the device, until
/// it is unmapped.
unsafe fn map_sg(
    dev: *mut device,
    sg: *mut scatterlist,
    nents: c_int,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> Result<c_int> {
    // SAFETY: The function's contract.
    let (d, sg) = unsafe { (device_of(dev, "dma_map_sg"), SgBuf::new(sg, nents)) };
    let d = d.ok_or(EINVAL)?;
    let dir = Dir::check(d, "dma_map_sg", dir).ok_or(EINVAL)?;
    if !d.is_coherent() && attrs & ATTR_REQUIRE_COHERENT != 0 {
        return Err(Error::from_errno(-super::EOPNOTSUPP));
    }
    if !d.has_dma_mask() {
        no_dma_mask(d, "dma_map_sg");
        return Ok(0);
    }
    let ents = match Backend::streaming(d) {
        _ if fail::map_sg(d, sg, attrs) => ENOMEM.to_errno(),
        Backend::Direct => direct::map_sg(d, sg, dir, attrs).unwrap_or_else(|e| e.to_errno()),
        Backend::Other(o) => o.map_sg(sg, dir, attrs),
    };
    if ents > 0 {
        // SAFETY: The backend mapped the list into `ents` segments.
        if let Some(mapped) = unsafe { sg.mapped(ents) } {
            hooks::kmsan_dma_sg(mapped, dir);
            trace::dma_map_sg(d, mapped, dir, attrs);
            debug::debug_dma_map_sg(d, mapped, dir, attrs);
            return Ok(ents);
        }
    } else if range_map::map_sg_error_is_valid(ents) {
        return Err(Error::from_errno(ents));
    }
    // No segments, more segments than entries, or an errno a backend may
    // not return.
    kernel::warn_on!(true);
    trace::dma_map_sg_err(d, sg, ents, dir, attrs);
    Err(EIO)
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
    ret.map_or(0, |ents| ents as c_uint)
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
        return EINVAL.to_errno();
    };
    // SAFETY: The table's list has `orig_nents` entries.
    match unsafe { map_sg(dev, sgt.sgl, sgt.orig_nents as c_int, dir, attrs) } {
        Ok(nents) => {
            sgt.nents = nents as c_uint;
            0
        }
        Err(e) => e.to_errno(),
    }
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
    let Some(dir) = Dir::check(d, "dma_unmap_sg", dir) else {
        return;
    };
    // SAFETY: By this function's contract `sg` is a scatterlist of `nents`
    // entries that the device mapped in this direction, which the caller
    // gives up.
    let sg = unsafe { SgMapping::new(sg, nents, dir, attrs) };
    trace::dma_unmap_sg(d, &sg);
    debug::debug_dma_unmap_sg(d, &sg);
    match Backend::streaming(d) {
        Backend::Direct => direct::unmap_sg(d, sg),
        Backend::Other(o) => o.unmap_sg(sg),
    }
}
