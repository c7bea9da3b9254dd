// SPDX-License-Identifier: GPL-2.0

//! Non-coherent DMA allocations: memory the CPU and the device take turns to own.
//!
//! - [`NonCoherent`] wraps `dma_alloc_pages()`, the allocator behind `dma_alloc_noncoherent()`:
//!   physically contiguous pages with one DMA address.
//! - [`NonContiguous`] wraps `dma_alloc_noncontiguous()`: pages the device sees contiguously
//!   (through an IOMMU, or because they are), mapped for the CPU with
//!   `dma_vmap_noncontiguous()`.
//!
//! Both start owned by the CPU, as [`CpuOwned`]; they move to the device and back like a
//! streaming [`Mapping`](super::streaming::Mapping), and are freed when dropped. Like a mapping,
//! an allocation borrows the bound device (`&'a Device<Bound>`), so it is freed before the
//! binding ends, through the backend that allocated it; to share one with user space, hand it to
//! [`mmap::Shared`](super::mmap::Shared), which frees it at unbind.
//!
//! C header: [`include/linux/dma-mapping.h`](srctree/include/linux/dma-mapping.h)
//!
//! # Examples
//!
//! ```
//! use kernel::device::{Bound, Device};
//! use kernel::dma::{noncoherent::NonCoherent, Bidirectional};
//! use kernel::prelude::*;
//!
//! fn ring(dev: &Device<Bound>) -> Result {
//!     let mut cpu = NonCoherent::<Bidirectional>::alloc(dev, 8192, GFP_KERNEL)?;
//!     cpu.fill(0xa5);
//!     let dev_owned = cpu.sync_for_device();
//!     let _addr = dev_owned.dma_handle(); // The device works on the buffer.
//!     let cpu = dev_owned.sync_for_cpu();
//!     assert_eq!(cpu[100], 0xa5);
//!     Ok(())
//! }
//! ```
//!
//! An allocation does not outlive the device's binding; here the faux device is unregistered,
//! hence unbound, at the end of the inner block:
//!
//! ```compile_fail,E0597
//! use kernel::dma::{noncoherent::NonCoherent, Bidirectional};
//! use kernel::{faux, prelude::*};
//!
//! fn outlive() -> Result {
//!     let kept;
//!     {
//!         let reg = faux::Registration::new(c"rust-dma-doc", None)?;
//!         // SAFETY: A faux device is bound while its registration lives.
//!         let dev = unsafe { reg.as_ref().as_bound() };
//!         kept = NonCoherent::<Bidirectional>::alloc(dev, 4096, GFP_KERNEL)?;
//!     }
//!     drop(kept);
//!     Ok(())
//! }
//! ```

use super::{
    owner::{CpuOwned, Direction, Region},
    streaming::{sync_single, DmaRange},
    DmaAddress,
};
use crate::{
    alloc::Flags,
    bindings,
    device::{Bound, Device},
    prelude::*,
    scatterlist::SGTable,
};
use core::{marker::PhantomData, ptr::NonNull};

/// Flags the driver may not choose: the DMA API picks the zone from the device's mask, and
/// `dma_alloc_pages()` warns about these rather than failing cleanly.
const REFUSED_FLAGS: bindings::gfp_t =
    bindings::__GFP_DMA | bindings::__GFP_DMA32 | bindings::__GFP_HIGHMEM | bindings::__GFP_COMP;

/// Checks an allocation's size and flags: `EINVAL` for a zero size, one the vmap range
/// functions cannot take (2 GiB and more), or a zone or compound flag.
fn check_request(size: usize, flags: Flags) -> Result {
    if size == 0 || c_int::try_from(size).is_err() || flags.as_raw() & REFUSED_FLAGS != 0 {
        return Err(EINVAL);
    }
    Ok(())
}

/// Zeroes `size` bytes at `cpu`: not every backend hands out zeroed pages (the IOMMU path does
/// not), and the CPU view is a `&[u8]`.
///
/// # Safety
///
/// `cpu` must be valid for writes of `size` bytes that nothing else accesses.
unsafe fn zero(cpu: NonNull<u8>, size: usize) {
    // SAFETY: Guaranteed by the caller.
    unsafe { core::ptr::write_bytes(cpu.as_ptr(), 0, size) };
}

/// Pages from `dma_alloc_pages()` for direction `D`, freed with `dma_free_pages()`.
///
/// # Invariants
///
/// `page` starts `size` bytes allocated by `dma_alloc_pages()` for `dev` and `D`, mapped for the
/// CPU at `cpu` and for the device at `dma`.
pub struct NonCoherent<'a, D: Direction> {
    dev: &'a Device<Bound>,
    page: NonNull<bindings::page>,
    cpu: NonNull<u8>,
    dma: DmaAddress,
    size: usize,
    _dir: PhantomData<D>,
}

// SAFETY: The allocation is plain memory and a device reference; the DMA API may be called on it
// from any thread.
unsafe impl<D: Direction> Send for NonCoherent<'_, D> {}
// SAFETY: `&NonCoherent` gives no access to the memory (only `CpuOwned` does).
unsafe impl<D: Direction> Sync for NonCoherent<'_, D> {}

impl<'a, D: Direction> NonCoherent<'a, D> {
    /// Allocates `size` bytes (rounded up to whole pages by the DMA API) for `dev`, zeroed.
    ///
    /// Returns `EINVAL` for a zero size, a size of 2 GiB or more, or a zone flag in `flags`
    /// (`GFP_DMA` and the like: the DMA API chooses the zone), and `ENOMEM` when no memory the
    /// device can reach is free.
    pub fn alloc(dev: &'a Device<Bound>, size: usize, flags: Flags) -> Result<CpuOwned<Self>> {
        check_request(size, flags)?;
        let mut dma = 0;
        // SAFETY: `dev` is a bound device.
        let page = unsafe {
            bindings::dma_alloc_pages(
                dev.as_raw(),
                size,
                &mut dma,
                D::DIRECTION.into(),
                flags.as_raw(),
            )
        };
        let page = NonNull::new(page).ok_or(ENOMEM)?;
        // SAFETY: `dma_alloc_pages()` returns lowmem pages, which have a kernel address.
        let cpu = NonNull::new(unsafe { bindings::page_address(page.as_ptr()) }.cast::<u8>());
        // `page_address()` of a lowmem page is never NULL; if it were, the pages go back.
        let Some(cpu) = cpu else {
            // SAFETY: These are the values of the allocation just made, used nowhere else.
            unsafe {
                bindings::dma_free_pages(
                    dev.as_raw(),
                    size,
                    page.as_ptr(),
                    dma,
                    D::DIRECTION.into(),
                )
            };
            return Err(ENOMEM);
        };
        // SAFETY: `cpu` maps the `size` bytes just allocated, which nothing else uses yet.
        unsafe { zero(cpu, size) };
        let this = Self {
            dev,
            page,
            cpu,
            dma,
            size,
            _dir: PhantomData,
        };
        // SAFETY: A new allocation belongs to the CPU.
        Ok(unsafe { CpuOwned::new(this) })
    }

    /// The device the pages were allocated for.
    pub(crate) fn device(&self) -> *mut bindings::device {
        self.dev.as_raw()
    }

    /// Maps the pages into `vma`.
    ///
    /// # Safety
    ///
    /// `vma` must be a VMA being set up by an mmap handler.
    pub(crate) unsafe fn mmap_raw(&self, vma: *mut bindings::vm_area_struct) -> c_int {
        // SAFETY: By the type invariant the pages are an allocation of `dev`; `vma` is a VMA
        // being set up, as the caller guarantees.
        unsafe { bindings::dma_mmap_pages(self.dev.as_raw(), vma, self.size, self.page.as_ptr()) }
    }
}

impl<D: Direction> Region for NonCoherent<'_, D> {
    type Dir = D;
    type Target = [u8];

    fn dma_handle(&self) -> DmaAddress {
        self.dma
    }

    fn size(&self) -> usize {
        self.size
    }

    unsafe fn sync(&self, to_device: bool) {
        let range = DmaRange {
            addr: self.dma,
            len: self.size,
        };
        // SAFETY: By the type invariant `dma` maps `size` bytes of `dev` for `D`.
        unsafe { sync_single(self.dev, range, D::DIRECTION, to_device) };
    }

    unsafe fn cpu(&self) -> &[u8] {
        // SAFETY: `cpu` maps `size` bytes; the caller guarantees that the CPU owns them.
        unsafe { core::slice::from_raw_parts(self.cpu.as_ptr(), self.size) }
    }

    unsafe fn cpu_mut(&mut self) -> &mut [u8] {
        // SAFETY: As above, exclusively through `&mut self`.
        unsafe { core::slice::from_raw_parts_mut(self.cpu.as_ptr(), self.size) }
    }
}

impl<D: Direction> Drop for NonCoherent<'_, D> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant these are the values of the allocation.
        unsafe {
            bindings::dma_free_pages(
                self.dev.as_raw(),
                self.size,
                self.page.as_ptr(),
                self.dma,
                D::DIRECTION.into(),
            )
        };
    }
}

/// Memory from `dma_alloc_noncontiguous()` for direction `D`, with a CPU mapping from
/// `dma_vmap_noncontiguous()`.
///
/// # Invariants
///
/// `sgt` is an allocation of `size` bytes by `dma_alloc_noncontiguous()` for `dev` and `D`,
/// mapped for the CPU at `cpu`.
pub struct NonContiguous<'a, D: Direction> {
    dev: &'a Device<Bound>,
    sgt: NonNull<bindings::sg_table>,
    cpu: NonNull<u8>,
    size: usize,
    _dir: PhantomData<D>,
}

// SAFETY: As for `NonCoherent`.
unsafe impl<D: Direction> Send for NonContiguous<'_, D> {}
// SAFETY: As for `NonCoherent`.
unsafe impl<D: Direction> Sync for NonContiguous<'_, D> {}

impl<'a, D: Direction> NonContiguous<'a, D> {
    /// Allocates `size` bytes for `dev` that the device sees at contiguous DMA addresses,
    /// zeroed.
    ///
    /// Returns `EINVAL` as [`NonCoherent::alloc`] does, and `ENOMEM` when the allocation or the
    /// CPU mapping fails.
    pub fn alloc(dev: &'a Device<Bound>, size: usize, flags: Flags) -> Result<CpuOwned<Self>> {
        check_request(size, flags)?;
        let dir = D::DIRECTION.into();
        // SAFETY: `dev` is a bound device.
        let sgt = unsafe {
            bindings::dma_alloc_noncontiguous(dev.as_raw(), size, dir, flags.as_raw(), 0)
        };
        let sgt = NonNull::new(sgt).ok_or(ENOMEM)?;
        // SAFETY: `sgt` is the allocation just made.
        let cpu = unsafe { bindings::dma_vmap_noncontiguous(dev.as_raw(), size, sgt.as_ptr()) };
        let Some(cpu) = NonNull::new(cpu.cast::<u8>()) else {
            // SAFETY: `sgt` is the allocation just made, and nothing else refers to it.
            unsafe { bindings::dma_free_noncontiguous(dev.as_raw(), size, sgt.as_ptr(), dir) };
            return Err(ENOMEM);
        };
        // SAFETY: `cpu` maps the `size` bytes just allocated, which nothing else uses yet.
        unsafe { zero(cpu, size) };
        let this = Self {
            dev,
            sgt,
            cpu,
            size,
            _dir: PhantomData,
        };
        // SAFETY: A new allocation belongs to the CPU.
        Ok(unsafe { CpuOwned::new(this) })
    }

    /// The device's view: the scatterlist's DMA segments.
    pub fn sg_table(&self) -> &SGTable {
        // SAFETY: By the type invariant `sgt` is a valid, DMA-mapped table that lives as long as
        // `self`.
        unsafe { SGTable::from_raw(self.sgt.as_ptr()) }
    }

    /// The device the memory was allocated for.
    pub(crate) fn device(&self) -> *mut bindings::device {
        self.dev.as_raw()
    }

    /// Maps the allocation into `vma`.
    ///
    /// # Safety
    ///
    /// `vma` must be a VMA being set up by an mmap handler.
    pub(crate) unsafe fn mmap_raw(&self, vma: *mut bindings::vm_area_struct) -> c_int {
        // SAFETY: By the type invariant `sgt` is an allocation of `dev`; `vma` is a VMA being set
        // up, as the caller guarantees.
        unsafe {
            bindings::dma_mmap_noncontiguous(self.dev.as_raw(), vma, self.size, self.sgt.as_ptr())
        }
    }
}

impl<D: Direction> Region for NonContiguous<'_, D> {
    type Dir = D;
    type Target = [u8];

    fn dma_handle(&self) -> DmaAddress {
        self.sg_table()
            .iter()
            .next()
            .map_or(0, |sg| sg.dma_address())
    }

    fn size(&self) -> usize {
        self.size
    }

    unsafe fn sync(&self, to_device: bool) {
        let (dev, sgt, dir) = (self.dev.as_raw(), self.sgt.as_ptr(), D::DIRECTION.into());
        // `alloc` refused sizes that do not fit.
        let (cpu, len) = (self.cpu.as_ptr().cast(), self.size as c_int);
        // SAFETY: By the type invariant `sgt` is mapped for `dev` and `cpu` maps it for the CPU.
        unsafe {
            if to_device {
                bindings::flush_kernel_vmap_range(cpu, len);
                bindings::dma_sync_sgtable_for_device(dev, sgt, dir);
            } else {
                bindings::dma_sync_sgtable_for_cpu(dev, sgt, dir);
                bindings::invalidate_kernel_vmap_range(cpu, len);
            }
        }
    }

    unsafe fn cpu(&self) -> &[u8] {
        // SAFETY: `cpu` maps `size` bytes; the caller guarantees that the CPU owns them.
        unsafe { core::slice::from_raw_parts(self.cpu.as_ptr(), self.size) }
    }

    unsafe fn cpu_mut(&mut self) -> &mut [u8] {
        // SAFETY: As above, exclusively through `&mut self`.
        unsafe { core::slice::from_raw_parts_mut(self.cpu.as_ptr(), self.size) }
    }
}

impl<D: Direction> Drop for NonContiguous<'_, D> {
    fn drop(&mut self) {
        let dev = self.dev.as_raw();
        // SAFETY: By the type invariant these are the values of the allocation and its mapping.
        unsafe {
            bindings::dma_vunmap_noncontiguous(dev, self.cpu.as_ptr().cast());
            bindings::dma_free_noncontiguous(
                dev,
                self.size,
                self.sgt.as_ptr(),
                D::DIRECTION.into(),
            );
        }
    }
}
