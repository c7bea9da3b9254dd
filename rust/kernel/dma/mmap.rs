// SPDX-License-Identifier: GPL-2.0

//! Mapping DMA buffers into user space.
//!
//! [`map_into_vma`] maps a [`Coherent`] buffer (through `dma_mmap_attrs()`), a [`NonCoherent`]
//! allocation (`dma_mmap_pages()`) or a [`NonContiguous`] one (`dma_mmap_noncontiguous()`) into
//! a VMA that is being set up, typically from a
//! [`MiscDevice::mmap`](crate::miscdevice::MiscDevice::mmap) handler. The VMA keeps a reference
//! to the buffer, which is freed only after the last user mapping of it is gone, even if the
//! driver dropped its own references long before.
//!
//! C header: [`include/linux/dma-mapping.h`](srctree/include/linux/dma-mapping.h)
//!
//! # Examples
//!
//! ```
//! use kernel::dma::{mmap, Coherent};
//! use kernel::mm::virt::VmaNew;
//! use kernel::prelude::*;
//! use kernel::sync::Arc;
//!
//! fn mmap_handler(buf: &Arc<Coherent<[u8]>>, vma: &VmaNew) -> Result {
//!     mmap::map_into_vma(buf, vma)
//! }
//! ```

use super::{
    noncoherent::{NonCoherent, NonContiguous},
    owner::Direction,
    Coherent,
};
use crate::{
    bindings,
    error::to_result,
    mm::virt::VmaNew,
    prelude::*,
    ptr::KnownSize,
    sync::Arc,
    transmute::{AsBytes, FromBytes},
};
use core::{marker::PhantomData, mem::ManuallyDrop};

mod private {
    pub trait Sealed {}
}

/// DMA buffers that can be mapped into user space.
pub trait Mmap: private::Sealed + Send + Sync + 'static {
    /// Maps the buffer into `vma`, returning a negative errno on failure.
    ///
    /// # Safety
    ///
    /// `vma` must be a VMA being set up by an mmap handler.
    #[doc(hidden)]
    unsafe fn mmap_raw(&self, vma: *mut bindings::vm_area_struct) -> c_int;
}

impl<T: KnownSize + AsBytes + FromBytes + Send + Sync + ?Sized + 'static> private::Sealed
    for Coherent<T>
{
}

impl<T: KnownSize + AsBytes + FromBytes + Send + Sync + ?Sized + 'static> Mmap for Coherent<T> {
    unsafe fn mmap_raw(&self, vma: *mut bindings::vm_area_struct) -> c_int {
        // SAFETY: By the type invariant of `Coherent` these are the values of a live
        // allocation of `dev`; `vma` is a VMA being set up, as the caller guarantees.
        unsafe {
            bindings::dma_mmap_attrs(
                self.dev.as_raw(),
                vma,
                self.cpu_addr.as_ptr().cast(),
                self.dma_handle,
                self.size(),
                self.dma_attrs.as_raw(),
            )
        }
    }
}

impl<D: Direction> private::Sealed for NonCoherent<D> {}
impl<D: Direction> Mmap for NonCoherent<D> {
    unsafe fn mmap_raw(&self, vma: *mut bindings::vm_area_struct) -> c_int {
        // SAFETY: Same requirement.
        unsafe { NonCoherent::mmap_raw(self, vma) }
    }
}

impl<D: Direction> private::Sealed for NonContiguous<D> {}
impl<D: Direction> Mmap for NonContiguous<D> {
    unsafe fn mmap_raw(&self, vma: *mut bindings::vm_area_struct) -> c_int {
        // SAFETY: Same requirement.
        unsafe { NonContiguous::mmap_raw(self, vma) }
    }
}

/// The VMA operations that hold a buffer reference per VMA.
struct VmOps<M>(PhantomData<M>);

impl<M: Mmap> VmOps<M> {
    const OPS: bindings::vm_operations_struct = bindings::vm_operations_struct {
        open: Some(Self::open),
        close: Some(Self::close),
        ..pin_init::zeroed()
    };

    /// A VMA was copied (fork) or split: the copy takes its own reference.
    ///
    /// # Safety
    ///
    /// `vma` is a VMA set up by [`map_into_vma`] for an `M`.
    unsafe extern "C" fn open(vma: *mut bindings::vm_area_struct) {
        // SAFETY: `vm_private_data` holds a reference from `Arc::into_raw`, which stays
        // owned by the original VMA.
        let buf =
            ManuallyDrop::new(unsafe { Arc::<M>::from_raw((*vma).vm_private_data.cast::<M>()) });
        core::mem::forget(Arc::clone(&buf));
    }

    /// A VMA is gone: drop its reference.
    ///
    /// # Safety
    ///
    /// `vma` is a VMA set up by [`map_into_vma`] for an `M`, or copied from one.
    unsafe extern "C" fn close(vma: *mut bindings::vm_area_struct) {
        // SAFETY: `vm_private_data` holds the VMA's own reference.
        drop(unsafe { Arc::<M>::from_raw((*vma).vm_private_data.cast::<M>()) });
    }
}

/// Maps `buf` into `vma`, from its start, and ties the buffer's life to the VMA.
///
/// Returns the error of the C API, for example `ENXIO` when the VMA is larger than the buffer.
pub fn map_into_vma<M: Mmap>(buf: &Arc<M>, vma: &VmaNew) -> Result {
    // The mapping must never grow past the buffer.
    vma.set_dontexpand();
    let raw = vma.as_ptr();
    // SAFETY: `raw` is the VMA the caller's mmap handler is setting up.
    to_result(unsafe { buf.mmap_raw(raw) })?;
    let data = Arc::into_raw(buf.clone());
    // SAFETY: `raw` is the VMA being set up, which the caller's mmap handler owns; nothing else
    // uses its `vm_ops` and `vm_private_data`.
    unsafe {
        (*raw).vm_private_data = data.cast_mut().cast();
        (*raw).vm_ops = &VmOps::<M>::OPS;
    }
    Ok(())
}
