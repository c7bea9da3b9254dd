// SPDX-License-Identifier: GPL-2.0

//! DMA mappings through one contiguous IOVA range, where the IOMMU allows it.
//!
//! [`IovaMapping::new`] asks the IOMMU for a range with `dma_iova_try_alloc()`, links every
//! physically contiguous chunk of the buffer into it with `dma_iova_link()` and syncs the IOTLB
//! with `dma_iova_sync()`. The device then sees the whole buffer at one address, even a
//! [`VVec`] spread over many pages. Without an IOMMU (or with one that cannot), it maps the
//! buffer like [`Mapping`] does instead, one range per chunk.
//!
//! Every error path frees what it took. Like a [`Mapping`], an [`IovaMapping`] borrows the bound
//! device and is destroyed when dropped, before the buffer is freed.
//!
//! C header: [`include/linux/dma-mapping.h`](srctree/include/linux/dma-mapping.h)
//!
//! # Examples
//!
//! ```
//! use kernel::device::{Bound, Device};
//! use kernel::dma::{iova::IovaMapping, FromDevice};
//! use kernel::prelude::*;
//!
//! fn receive(dev: &Device<Bound>) -> Result<VVec<u8>> {
//!     let buf = VVec::from_elem(0u8, 3 * kernel::page::PAGE_SIZE, GFP_KERNEL)?;
//!     let mapped = IovaMapping::<_, FromDevice>::new(dev, buf)?;
//!     for _r in mapped.ranges() {
//!         // Program the device with `_r.addr` and `_r.len`.
//!     }
//!     Ok(mapped.unmap())
//! }
//! ```

use super::{
    owner::Direction,
    streaming::{prepare, Dma, DmaRange, MapSource, Mapping},
    Attrs, DataDirection, DmaAddress,
};
use crate::{
    bindings,
    device::{Bound, Device},
    error::to_result,
    prelude::*,
};

/// Without `CONFIG_IOMMU_DMA` there is no IOVA range to link into.
#[cfg(not(CONFIG_IOMMU_DMA))]
fn link<B: MapSource>(_: &Device<Bound>, _: &B, _: DataDirection) -> Result<Option<Dma>> {
    Ok(None)
}

/// Links all of `src` into a new IOVA range of `dev`. `Ok(None)` when `dev` cannot use one, or
/// cannot link every chunk of `src` into one.
#[cfg(CONFIG_IOMMU_DMA)]
fn link<B: MapSource>(dev: &Device<Bound>, src: &B, dir: DataDirection) -> Result<Option<Dma>> {
    let size = src.size();
    let mut first = None;
    src.chunks(|phys, _| {
        first.get_or_insert(phys);
        Ok(())
    })?;
    let phys = first.ok_or(EINVAL)?;
    // SAFETY: An all-zero state is the unused state the C API expects.
    let mut state: bindings::dma_iova_state = unsafe { core::mem::zeroed() };
    // SAFETY: `dev` is a bound device and `state` is unused.
    if !unsafe { bindings::dma_iova_try_alloc(dev.as_raw(), &mut state, phys, size) } {
        return Ok(None);
    }
    let mut linked = 0;
    let res = src
        .chunks(|phys, len| {
            // SAFETY: `state` holds an IOVA range of `size` bytes, of which `linked` are linked;
            // `phys..phys + len` is memory the caller owns.
            to_result(unsafe {
                bindings::dma_iova_link(dev.as_raw(), &mut state, phys, linked, len, dir.into(), 0)
            })?;
            linked += len;
            Ok(())
        })
        .and_then(|()| {
            // SAFETY: `linked` bytes from offset 0 are linked.
            to_result(unsafe { bindings::dma_iova_sync(dev.as_raw(), &mut state, 0, linked) })
        });
    if res.is_err() {
        // The IOMMU may refuse a chunk it cannot link (one that does not start on its page
        // boundary, say), where mapping each chunk on its own still works: undo, and let the
        // caller map the pieces. The CPU still owns the memory, so skip the CPU sync.
        // SAFETY: `state` is allocated, with `linked` bytes linked from offset 0.
        unsafe {
            if linked == 0 {
                bindings::dma_iova_free(dev.as_raw(), &mut state)
            } else {
                bindings::dma_iova_destroy(
                    dev.as_raw(),
                    &mut state,
                    linked,
                    dir.into(),
                    super::attrs::DMA_ATTR_SKIP_CPU_SYNC.as_raw(),
                )
            }
        }
        return Ok(None);
    }
    // SAFETY: `state` points to a valid state; the helper only reads it.
    let len = unsafe { bindings::dma_iova_size(&mut state) };
    let range = DmaRange {
        addr: state.addr,
        len,
    };
    Ok(Some(Dma::Iova([range], state.__size)))
}

/// A mapping of `B` for direction `D` through one IOVA range, or through streaming mappings
/// where no IOVA range is available.
///
/// The device owns the buffer until [`IovaMapping::unmap`] returns it.
pub struct IovaMapping<'a, B: MapSource, D: Direction> {
    inner: Mapping<'a, B, D>,
}

impl<'a, B: MapSource, D: Direction> IovaMapping<'a, B, D> {
    /// Maps `buf` for `dev`, through one IOVA range if the device's IOMMU offers one.
    ///
    /// Returns `EINVAL` for an empty buffer, and the error of the C API when mapping fails.
    /// Where the IOMMU cannot link the buffer into one range, it maps the pieces.
    pub fn new(dev: &'a Device<Bound>, buf: B) -> Result<Self> {
        prepare(&buf)?;
        let dma = match link(dev, &buf, D::DIRECTION)? {
            Some(dma) => dma,
            None => Dma::map(dev, &buf, D::DIRECTION, Attrs(0))?,
        };
        Ok(Self {
            inner: Mapping::from_dma(dev, buf, dma),
        })
    }

    /// Whether the buffer is mapped through one IOVA range.
    pub fn uses_iova(&self) -> bool {
        self.inner.is_iova()
    }

    /// The DMA address of the start of the buffer.
    pub fn dma_handle(&self) -> DmaAddress {
        super::owner::Region::dma_handle(&self.inner)
    }

    /// The mapped ranges, in order: one through an IOVA range, one per physically contiguous
    /// chunk otherwise.
    pub fn ranges(&self) -> &[DmaRange] {
        self.inner.ranges()
    }

    /// Unmaps the buffer and returns it to the CPU.
    pub fn unmap(self) -> B {
        self.inner.into_buf(Attrs(0))
    }
}
