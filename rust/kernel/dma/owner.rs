// SPDX-License-Identifier: GPL-2.0

//! Who owns a streaming or non-coherent DMA buffer: the CPU or the device.
//!
//! Memory that is not coherent with the device belongs to one side at a time. The DMA API hands
//! it over with `dma_sync_*_for_device()` and `dma_sync_*_for_cpu()`. Here the hand-over is a
//! move between two types:
//!
//! - [`CpuOwned<M>`] gives access to the buffer's contents, read-only or read-write depending on
//!   the [`Direction`] of `M`;
//! - [`DeviceOwned<M>`] gives only the DMA address, so reading the buffer after handing it to
//!   the device does not compile.
//!
//! The types cover the hand-overs, not the device: a `sync_for_cpu()` or `unmap()` is the
//! driver's statement that the device is done with the buffer, and a DMA address copied out
//! before a hand-over must not be given to the device after it.
//!
//! [`CpuOwned::sync_for_device`] consumes the CPU view and returns the device-owned handle;
//! [`DeviceOwned::sync_for_cpu`] gives the CPU view back.
//!
//! C header: [`include/linux/dma-mapping.h`](srctree/include/linux/dma-mapping.h)
//!
//! # Examples
//!
//! Reading a buffer the device owns does not compile:
//!
//! ```compile_fail,E0608
//! use kernel::dma::{owner::DeviceOwned, streaming::Mapping, FromDevice};
//! use kernel::prelude::*;
//!
//! fn peek(m: &DeviceOwned<Mapping<'_, KVec<u8>, FromDevice>>) -> u8 {
//!     m[0]
//! }
//! ```
//!
//! Neither does writing a buffer the device only writes:
//!
//! ```compile_fail,E0594
//! use kernel::dma::{owner::CpuOwned, streaming::Mapping, FromDevice};
//! use kernel::prelude::*;
//!
//! fn poke(m: &mut CpuOwned<Mapping<'_, KVec<u8>, FromDevice>>) {
//!     m[0] = 1;
//! }
//! ```
//!
//! Once the CPU owns it again, it reads:
//!
//! ```
//! use kernel::dma::{owner::DeviceOwned, streaming::Mapping, FromDevice};
//! use kernel::prelude::*;
//!
//! fn first(m: DeviceOwned<Mapping<'_, KVec<u8>, FromDevice>>) -> u8 {
//!     let cpu = m.sync_for_cpu();
//!     cpu[0]
//! }
//! ```

use super::{DataDirection, DmaAddress};
use core::ops::{Deref, DerefMut};

mod private {
    pub trait Sealed {}
}

/// The direction of a transfer, as a type: [`ToDevice`], [`FromDevice`] or [`Bidirectional`].
pub trait Direction: private::Sealed + Send + Sync + 'static {
    /// The direction passed to the C API.
    const DIRECTION: DataDirection;
}

/// Directions in which the CPU may write the buffer while it owns it.
///
/// [`FromDevice`] is not one: the device overwrites the buffer, and a bounce buffer does not
/// carry CPU writes to the device in that direction.
pub trait CpuWritable: Direction {}

/// The device reads the buffer (`DMA_TO_DEVICE`).
pub struct ToDevice;
/// The device writes the buffer (`DMA_FROM_DEVICE`).
pub struct FromDevice;
/// The device reads and writes the buffer (`DMA_BIDIRECTIONAL`).
pub struct Bidirectional;

impl private::Sealed for ToDevice {}
impl private::Sealed for FromDevice {}
impl private::Sealed for Bidirectional {}

impl Direction for ToDevice {
    const DIRECTION: DataDirection = DataDirection::ToDevice;
}
impl Direction for FromDevice {
    const DIRECTION: DataDirection = DataDirection::FromDevice;
}
impl Direction for Bidirectional {
    const DIRECTION: DataDirection = DataDirection::Bidirectional;
}
impl CpuWritable for ToDevice {}
impl CpuWritable for Bidirectional {}

/// A DMA buffer whose ownership moves between the CPU and the device.
///
/// Implemented by [`Mapping`](super::streaming::Mapping),
/// [`NonCoherent`](super::noncoherent::NonCoherent) and
/// [`NonContiguous`](super::noncoherent::NonContiguous). Drivers use them through
/// [`CpuOwned`] and [`DeviceOwned`].
pub trait Region: Send {
    /// The direction of the transfers.
    type Dir: Direction;
    /// What the CPU sees while it owns the buffer.
    type Target: ?Sized;

    /// The DMA address of the start of the buffer.
    fn dma_handle(&self) -> DmaAddress;

    /// The size of the buffer in bytes.
    fn size(&self) -> usize;

    /// Hands the buffer to the device (`to_device`) or to the CPU.
    ///
    /// # Safety
    ///
    /// Called only by [`CpuOwned`] and [`DeviceOwned`] on a hand-over.
    #[doc(hidden)]
    unsafe fn sync(&self, to_device: bool);

    /// The CPU view of the buffer.
    ///
    /// # Safety
    ///
    /// The CPU must own the buffer for as long as the reference lives.
    #[doc(hidden)]
    unsafe fn cpu(&self) -> &Self::Target;

    /// The CPU view of the buffer, writable.
    ///
    /// # Safety
    ///
    /// The CPU must own the buffer for as long as the reference lives.
    #[doc(hidden)]
    unsafe fn cpu_mut(&mut self) -> &mut Self::Target;
}

/// A DMA buffer the CPU owns: its contents can be read, and written if the direction allows.
///
/// # Invariants
///
/// The device does not own the buffer: either it was never handed to the device, or it was
/// synced back for the CPU.
#[repr(transparent)]
pub struct CpuOwned<M: Region>(M);

/// A DMA buffer the device owns: only its DMA address is available.
///
/// # Invariants
///
/// The buffer was handed to the device and not synced back for the CPU, except while
/// [`DeviceOwned::with_cpu`] lends it to the CPU through `&mut CpuOwned`.
#[repr(transparent)]
pub struct DeviceOwned<M: Region>(M);

impl<M: Region> CpuOwned<M> {
    /// Wraps a buffer the CPU owns.
    ///
    /// # Safety
    ///
    /// The device must not own `region`.
    pub(crate) unsafe fn new(region: M) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self(region)
    }

    /// Hands the buffer to the device (`dma_sync_*_for_device()`).
    #[inline]
    pub fn sync_for_device(self) -> DeviceOwned<M> {
        // SAFETY: This is a hand-over.
        unsafe { self.0.sync(true) };
        // INVARIANT: the buffer was just handed to the device.
        DeviceOwned(self.0)
    }

    /// The buffer's DMA address.
    #[inline]
    pub fn dma_handle(&self) -> DmaAddress {
        self.0.dma_handle()
    }

    /// The buffer itself, for its metadata.
    pub fn region(&self) -> &M {
        &self.0
    }

    /// Gives up the ownership tracking and returns the buffer, for example to share it with
    /// user space through [`mmap`](super::mmap).
    #[inline]
    pub fn into_inner(self) -> M {
        self.0
    }
}

impl<M: Region> DeviceOwned<M> {
    /// Wraps a buffer the device owns.
    ///
    /// # Safety
    ///
    /// The buffer must have been handed to the device.
    pub(crate) unsafe fn new(region: M) -> Self {
        // INVARIANT: guaranteed by the caller.
        Self(region)
    }

    /// Gives the buffer back to the CPU (`dma_sync_*_for_cpu()`).
    ///
    /// The device must be done with the buffer.
    #[inline]
    pub fn sync_for_cpu(self) -> CpuOwned<M> {
        // SAFETY: This is a hand-over.
        unsafe { self.0.sync(false) };
        // INVARIANT: the buffer was just handed to the CPU.
        CpuOwned(self.0)
    }

    /// Gives the buffer to the CPU for the time of `f`, then back to the device: a
    /// `sync_for_cpu()`, `f`, and a `sync_for_device()`, in place.
    ///
    /// This is what a driver does with a buffer it keeps mapped, such as a receive buffer it
    /// reads and recycles. It moves nothing, where the by-value hand-overs move the mapping
    /// twice. The device must be done with the buffer.
    #[inline]
    pub fn with_cpu<R>(&mut self, f: impl FnOnce(&mut CpuOwned<M>) -> R) -> R {
        // SAFETY: This is a hand-over.
        unsafe { self.0.sync(false) };
        // SAFETY: `CpuOwned<M>` and `DeviceOwned<M>` are both `repr(transparent)` over `M`,
        // and the CPU owns the whole buffer until the sync below. Whatever `f` leaves in `*self`
        // (it may swap in another `CpuOwned<M>`) is CPU-owned, and the sync hands it to the
        // device.
        let r = f(unsafe { &mut *core::ptr::from_mut(self).cast::<CpuOwned<M>>() });
        // SAFETY: This is a hand-over.
        unsafe { self.0.sync(true) };
        // INVARIANT: the buffer was just handed back to the device.
        r
    }

    /// The buffer's DMA address, to program into the device.
    #[inline]
    pub fn dma_handle(&self) -> DmaAddress {
        self.0.dma_handle()
    }

    /// The buffer itself, for its metadata.
    pub fn region(&self) -> &M {
        &self.0
    }

    /// Returns the buffer without giving it back to the CPU.
    #[inline]
    pub(crate) fn into_inner(self) -> M {
        self.0
    }
}

impl<M: Region> Deref for CpuOwned<M> {
    type Target = M::Target;

    fn deref(&self) -> &M::Target {
        // SAFETY: By the type invariant, the CPU owns the buffer while `self` is borrowed.
        unsafe { self.0.cpu() }
    }
}

impl<M: Region> DerefMut for CpuOwned<M>
where
    M::Dir: CpuWritable,
{
    fn deref_mut(&mut self) -> &mut M::Target {
        // SAFETY: By the type invariant, the CPU owns the buffer while `self` is borrowed.
        unsafe { self.0.cpu_mut() }
    }
}
