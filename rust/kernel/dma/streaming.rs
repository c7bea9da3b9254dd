// SPDX-License-Identifier: GPL-2.0

//! Streaming DMA mappings of memory the driver already owns.
//!
//! [`Mapping::new`] maps a buffer ([`KBox`], [`KVec`] or [`VVec`]) for one
//! [`Direction`] and returns it owned by the device. [`DeviceOwned::sync_for_cpu`] and
//! [`CpuOwned::sync_for_device`](super::owner::CpuOwned::sync_for_device) hand it back and forth;
//! `unmap()` returns the buffer.
//!
//! A mapping borrows the bound device (`&'a Device<Bound>`), as [`pci::Bar`](crate::pci::Bar)
//! does: it cannot outlive the driver's binding, so unbind needs no revocation. A driver keeps
//! its mappings in its `Data<'bound>`, which is dropped at unbind. Dropping a mapping unmaps the
//! buffer first (which copies bounce buffers back and invalidates caches) and frees it after.
//! Mapping allocates nothing for a buffer of one chunk and never sleeps, so it works in atomic
//! context as `dma_map_single()` does; so do syncs and `unmap()`. Dropping a mapping also drops
//! its buffer, and a `VVec`'s `vfree()` may sleep outside interrupt context.
//!
//! A mapping of several chunks (a `VVec`) has several ranges: program the device from
//! [`Mapping::ranges`], not from the first address and the size.
//!
//! C header: [`include/linux/dma-mapping.h`](srctree/include/linux/dma-mapping.h)
//!
//! # Examples
//!
//! ```
//! use kernel::device::{Bound, Device};
//! use kernel::dma::{streaming::Mapping, ToDevice};
//! use kernel::prelude::*;
//!
//! fn send(dev: &Device<Bound>) -> Result {
//!     let mut data = KVec::new();
//!     data.extend_from_slice(&[1u8, 2, 3, 4], GFP_KERNEL)?;
//!     let mapped = Mapping::<_, ToDevice>::new(dev, data)?;
//!     let _addr = mapped.dma_handle(); // Program the device with it.
//!     let data = mapped.unmap();
//!     assert_eq!(data[0], 1);
//!     Ok(())
//! }
//! ```
//!
//! A mapping does not outlive the device's binding; here the faux device is unregistered, hence
//! unbound, at the end of the inner block:
//!
//! ```compile_fail,E0597
//! use kernel::dma::{streaming::Mapping, ToDevice};
//! use kernel::{faux, prelude::*};
//!
//! fn outlive(data: KVec<u8>) -> Result {
//!     let kept;
//!     {
//!         let reg = faux::Registration::new(c"rust-dma-doc", None)?;
//!         // SAFETY: A faux device is bound while its registration lives.
//!         let dev = unsafe { reg.as_ref().as_bound() };
//!         kept = Mapping::<_, ToDevice>::new(dev, data)?;
//!     }
//!     drop(kept.unmap());
//!     Ok(())
//! }
//! ```

use super::{
    owner::{CpuOwned, DeviceOwned, Direction, Region},
    DataDirection, DmaAddress,
};
use crate::{
    bindings,
    device::{Bound, Device},
    page::PAGE_SIZE,
    prelude::*,
    transmute::{AsBytes, FromBytes},
};
use core::{marker::PhantomData, mem::ManuallyDrop};

/// Memory that can be the CPU side of a streaming mapping.
///
/// # Safety
///
/// - [`MapSource::chunks`] reports physical ranges that together hold exactly the bytes of
///   [`MapSource::target`], in order, and stay valid and unmoved while `self` is not moved out
///   of (a [`Mapping`] never gives `&mut Self` out).
/// - The memory is ordinary kernel memory that the DMA API may map.
pub unsafe trait MapSource: Send + 'static {
    /// What the CPU sees: `T` for a `KBox<T>`, `[T]` for a vector.
    type Target: ?Sized;

    /// The CPU view.
    fn target(&self) -> &Self::Target;

    /// The CPU view, writable.
    fn target_mut(&mut self) -> &mut Self::Target;

    /// The size in bytes.
    fn size(&self) -> usize;

    /// Calls `f` with each physically contiguous range: physical address and length.
    fn chunks(&self, f: &mut dyn FnMut(bindings::phys_addr_t, usize) -> Result) -> Result;

    /// Whether the CPU reaches the memory through a vmap alias of its pages (vmalloc memory)
    /// rather than through the linear map. Where caches alias, such an alias is flushed before
    /// the device reads the pages and invalidated before the CPU reads what the device wrote.
    const VMAPPED: bool = false;
}

/// Reports one kmalloc'ed (hence physically contiguous) range.
fn linear_chunk(
    ptr: *const u8,
    size: usize,
    f: &mut dyn FnMut(bindings::phys_addr_t, usize) -> Result,
) -> Result {
    // SAFETY: `ptr` points into the kernel's linear map (kmalloc memory or a lowmem page).
    f(
        unsafe { bindings::virt_to_phys(ptr.cast_mut().cast()) },
        size,
    )
}

/// Reports the pages of a vmalloc'ed range, merging physically adjacent ones.
fn vmalloc_chunks(
    ptr: *const u8,
    size: usize,
    f: &mut dyn FnMut(bindings::phys_addr_t, usize) -> Result,
) -> Result {
    let mut pending: Option<(bindings::phys_addr_t, usize)> = None;
    let mut done = 0;
    while done < size {
        let addr = ptr.wrapping_add(done);
        let in_page = (addr as usize) % PAGE_SIZE;
        let len = (PAGE_SIZE - in_page).min(size - done);
        // SAFETY: `addr` lies in a live vmalloc area.
        let page = unsafe { bindings::vmalloc_to_page(addr.cast()) };
        if page.is_null() {
            return Err(EINVAL);
        }
        // SAFETY: `page` is a valid page of the area.
        let phys = unsafe { bindings::page_to_phys(page) } + in_page as bindings::phys_addr_t;
        pending = match pending {
            Some((start, n)) if start + n as bindings::phys_addr_t == phys => {
                Some((start, n + len))
            }
            Some((start, n)) => {
                f(start, n)?;
                Some((phys, len))
            }
            None => Some((phys, len)),
        };
        done += len;
    }
    match pending {
        Some((start, n)) => f(start, n),
        None => Ok(()),
    }
}

// SAFETY: A `KBox` is one kmalloc allocation, which does not move while the box is not moved out
// of.
unsafe impl<T: AsBytes + FromBytes + Send + 'static> MapSource for KBox<T> {
    type Target = T;

    fn target(&self) -> &T {
        self
    }

    fn target_mut(&mut self) -> &mut T {
        self
    }

    fn size(&self) -> usize {
        core::mem::size_of::<T>()
    }

    fn chunks(&self, f: &mut dyn FnMut(bindings::phys_addr_t, usize) -> Result) -> Result {
        linear_chunk(core::ptr::from_ref::<T>(self).cast(), self.size(), f)
    }
}

/// Implements [`MapSource`] for an owner of a `[T]` whose memory `$chunks` reports, through a
/// vmap alias if `$vmapped`.
macro_rules! slice_source {
    ($owner:ty, $chunks:ident, $vmapped:expr) => {
        // SAFETY: `$chunks` reports exactly the memory of the slice, which the owner keeps in
        // place: a mapping never gives out `&mut` to the owner, so it cannot grow or move it.
        unsafe impl<T: AsBytes + FromBytes + Send + 'static> MapSource for $owner {
            type Target = [T];

            fn target(&self) -> &[T] {
                self
            }

            fn target_mut(&mut self) -> &mut [T] {
                self
            }

            fn size(&self) -> usize {
                core::mem::size_of_val::<[T]>(self)
            }

            fn chunks(&self, f: &mut dyn FnMut(bindings::phys_addr_t, usize) -> Result) -> Result {
                $chunks(<[T]>::as_ptr(self).cast(), self.size(), f)
            }

            const VMAPPED: bool = $vmapped;
        }
    };
}

// One kmalloc allocation each, physically contiguous.
slice_source!(KBox<[T]>, linear_chunk, false);
slice_source!(KVec<T>, linear_chunk, false);
// One vmalloc area: its pages are reported one by one.
slice_source!(VVec<T>, vmalloc_chunks, true);

/// The CPU side of a mapping, taken while the CPU still owns the buffer: its size, and the
/// address of its vmap alias if it has one.
#[derive(Clone, Copy)]
pub(crate) struct CpuSide {
    size: usize,
    /// The vmap alias's address, 0 for memory in the linear map.
    alias: usize,
}

impl CpuSide {
    /// Reads what the mapping needs of `buf` and writes back its vmap alias, if any, so that
    /// the device sees what the CPU wrote through it.
    ///
    /// Returns `EINVAL` for an empty buffer, or a vmapped one that the vmap range calls cannot
    /// take (2 GiB and more).
    pub(crate) fn of<B: MapSource>(buf: &B) -> Result<Self> {
        let size = buf.size();
        if size == 0 || (B::VMAPPED && c_int::try_from(size).is_err()) {
            return Err(EINVAL);
        }
        let alias = if B::VMAPPED {
            core::ptr::from_ref(buf.target()).cast::<u8>() as usize
        } else {
            0
        };
        let this = Self { size, alias };
        this.flush();
        Ok(this)
    }

    /// Writes the vmap alias back, before the device reads the pages.
    #[inline]
    fn flush(self) {
        if self.alias != 0 {
            // SAFETY: `alias` maps `size` bytes of a live vmalloc area; `of` checked the size.
            unsafe {
                bindings::flush_kernel_vmap_range(self.alias as *mut c_void, self.size as c_int)
            };
        }
    }

    /// Drops stale lines of the vmap alias, before the CPU reads what the device wrote.
    #[inline]
    fn invalidate(self) {
        if self.alias != 0 {
            // SAFETY: As for `flush`.
            unsafe {
                bindings::invalidate_kernel_vmap_range(
                    self.alias as *mut c_void,
                    self.size as c_int,
                )
            };
        }
    }
}

/// One mapped range: DMA address and length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DmaRange {
    /// The DMA address of the range.
    pub addr: DmaAddress,
    /// Its length in bytes.
    pub len: usize,
}

/// The ranges of a mapping made of pieces. Most buffers are one chunk, which needs no
/// allocation.
pub(crate) enum Ranges {
    Empty,
    One([DmaRange; 1]),
    Many(KVec<DmaRange>),
}

impl Ranges {
    /// Makes room for one more range, so that [`Ranges::push`] cannot fail.
    fn reserve(&mut self) -> Result {
        match self {
            Self::Empty => {}
            Self::One([r]) => {
                let mut v = KVec::with_capacity(2, GFP_ATOMIC)?;
                v.push(*r, GFP_ATOMIC)?;
                *self = Self::Many(v);
            }
            Self::Many(v) => v.reserve(1, GFP_ATOMIC)?,
        }
        Ok(())
    }

    /// Appends `r`. After [`Ranges::reserve`] this does not allocate and cannot fail.
    fn push(&mut self, r: DmaRange) -> Result {
        match self {
            Self::Empty => *self = Self::One([r]),
            Self::One(_) => return Err(EINVAL),
            Self::Many(v) => v.push(r, GFP_NOWAIT)?,
        }
        Ok(())
    }

    fn as_slice(&self) -> &[DmaRange] {
        match self {
            Self::Empty => &[],
            Self::One(r) => r,
            Self::Many(v) => v,
        }
    }
}

/// How the DMA side of a mapping was made.
pub(crate) enum Kind {
    /// One `dma_map_phys()` per physically contiguous chunk; `Ranges::Empty` once unmapped.
    Pieces(Ranges),
    /// One IOVA range linked with `dma_iova_link()`.
    #[cfg(CONFIG_IOMMU_DMA)]
    Iova(bindings::dma_iova_state, [DmaRange; 1]),
}

/// The DMA side of a mapping of a device bound for `'a`. Dropping it unmaps.
///
/// # Invariants
///
/// `kind` describes live mappings of `dev` in direction `dir`.
pub(crate) struct Handle<'a> {
    dev: &'a Device<Bound>,
    dir: DataDirection,
    kind: Kind,
}

impl<'a> Handle<'a> {
    /// Maps each chunk of `src` with `dma_map_phys()`.
    ///
    /// Allocates only for a source of more than one chunk, and then with `GFP_ATOMIC`: mapping
    /// never sleeps, as `dma_map_phys()` does not.
    pub(crate) fn map_pieces<B: MapSource>(
        dev: &'a Device<Bound>,
        src: &B,
        dir: DataDirection,
    ) -> Result<Self> {
        // Dropping `handle` on an error path unmaps what was mapped so far.
        let mut handle = Self {
            dev,
            dir,
            kind: Kind::Pieces(Ranges::Empty),
        };
        src.chunks(&mut |phys, len| {
            let Kind::Pieces(ranges) = &mut handle.kind else {
                return Err(EINVAL);
            };
            ranges.reserve()?;
            // SAFETY: `dev` is a bound device; `phys..phys + len` is memory the caller owns.
            let addr = unsafe { bindings::dma_map_phys(dev.as_raw(), phys, len, dir.into(), 0) };
            // SAFETY: `dev` is valid.
            if unsafe { bindings::dma_mapping_error(dev.as_raw(), addr) } != 0 {
                return Err(ENOMEM);
            }
            ranges.push(DmaRange { addr, len }).inspect_err(|_| {
                // SAFETY: `addr` was just mapped, and is recorded nowhere.
                unsafe { bindings::dma_unmap_phys(dev.as_raw(), addr, len, dir.into(), 0) };
            })
        })?;
        Ok(handle)
    }

    /// Wraps an IOVA range of `dev` linked in direction `dir`.
    ///
    /// # Safety
    ///
    /// `state` must be a linked and synced IOVA state of `dev` for `dir`.
    #[cfg(CONFIG_IOMMU_DMA)]
    pub(crate) unsafe fn from_iova(
        dev: &'a Device<Bound>,
        dir: DataDirection,
        state: bindings::dma_iova_state,
    ) -> Self {
        let range = DmaRange {
            addr: state.addr,
            len: super::iova::state_size(&state),
        };
        Self {
            dev,
            dir,
            kind: Kind::Iova(state, [range]),
        }
    }

    /// The mapped ranges: one for an IOVA mapping.
    pub(crate) fn ranges(&self) -> &[DmaRange] {
        match &self.kind {
            Kind::Pieces(ranges) => ranges.as_slice(),
            #[cfg(CONFIG_IOMMU_DMA)]
            Kind::Iova(_, range) => range,
        }
    }

    /// Syncs a mapping made of pieces. (An IOVA mapping is synced once, when it is linked.)
    fn sync(&self, to_device: bool) {
        let Kind::Pieces(ranges) = &self.kind else {
            return;
        };
        for r in ranges.as_slice() {
            // SAFETY: By the type invariant `r` is a live mapping of `dev` in `self.dir`.
            unsafe { sync_single(self.dev, *r, self.dir, to_device) };
        }
    }

    /// Unmaps everything; the handle then maps nothing, so that a second call does nothing.
    ///
    /// Unmapping hands the memory back to the CPU: bounce buffers are copied back and caches
    /// invalidated, so the memory must still be there.
    fn unmap(&mut self) {
        let dev = self.dev.as_raw();
        // INVARIANT: the handle maps nothing once `kind` is empty.
        match core::mem::replace(&mut self.kind, Kind::Pieces(Ranges::Empty)) {
            Kind::Pieces(ranges) => {
                for r in ranges.as_slice() {
                    // SAFETY: By the type invariant `r` was a live mapping of `dev`.
                    unsafe { bindings::dma_unmap_phys(dev, r.addr, r.len, self.dir.into(), 0) };
                }
            }
            #[cfg(CONFIG_IOMMU_DMA)]
            Kind::Iova(mut state, [range]) => {
                // SAFETY: By the type invariant `state` was linked over its whole size.
                unsafe {
                    bindings::dma_iova_destroy(dev, &mut state, range.len, self.dir.into(), 0)
                };
            }
        }
    }
}

/// Hands `range` to the device (`to_device`) or to the CPU with `dma_sync_single_for_*()`.
///
/// # Safety
///
/// `range` must be a live single mapping of `dev` in direction `dir`.
#[inline]
pub(crate) unsafe fn sync_single(
    dev: &Device,
    range: DmaRange,
    dir: DataDirection,
    to_device: bool,
) {
    let (dev, dir) = (dev.as_raw(), dir.into());
    // SAFETY: Guaranteed by the caller.
    unsafe {
        if to_device {
            bindings::dma_sync_single_for_device(dev, range.addr, range.len, dir)
        } else {
            bindings::dma_sync_single_for_cpu(dev, range.addr, range.len, dir)
        }
    }
}

impl Drop for Handle<'_> {
    fn drop(&mut self) {
        self.unmap();
    }
}

/// A streaming mapping of `B` for transfers in direction `D`, for a device bound for `'a`.
///
/// Use it as [`DeviceOwned<Mapping<B, D>>`] or [`CpuOwned<Mapping<B, D>>`]. It borrows the bound
/// device, so it cannot outlive the driver's binding: a driver keeps it in its
/// `Data<'bound>`, which is dropped at unbind. Dropping it unmaps the buffer, then frees it.
///
/// # Invariants
///
/// - `handle` maps `buf` for `D`, until `handle` is unmapped;
/// - `buf` is dropped only after `handle` is unmapped;
/// - `cpu` describes `buf`.
pub struct Mapping<'a, B: MapSource, D: Direction> {
    handle: Handle<'a>,
    buf: ManuallyDrop<B>,
    cpu: CpuSide,
    _dir: PhantomData<D>,
}

impl<'a, B: MapSource, D: Direction> Mapping<'a, B, D> {
    /// Maps `buf` for the device and hands it to the device.
    ///
    /// Never sleeps, so it can be called in atomic context. Returns `EINVAL` for an empty
    /// buffer and `ENOMEM` if the DMA API cannot map it (for example, a device with a small DMA
    /// mask and no bounce buffers in reach).
    pub fn new(dev: &'a Device<Bound>, buf: B) -> Result<DeviceOwned<Self>> {
        let cpu = CpuSide::of(&buf)?;
        let handle = Handle::map_pieces(dev, &buf, D::DIRECTION)?;
        // SAFETY: `dma_map_phys()` hands the memory to the device.
        Ok(unsafe { DeviceOwned::new(Self::from_handle(buf, cpu, handle)) })
    }

    /// Pairs `buf`, described by `cpu`, with the `handle` that maps it.
    pub(crate) fn from_handle(buf: B, cpu: CpuSide, handle: Handle<'a>) -> Self {
        // INVARIANT: `handle` maps `buf`, which `cpu` describes; `buf` is dropped by `Drop` or
        // `into_buf` only.
        Self {
            handle,
            buf: ManuallyDrop::new(buf),
            cpu,
            _dir: PhantomData,
        }
    }

    /// Unmaps the buffer and hands it back to the CPU.
    fn unmap(&mut self) {
        self.handle.unmap();
        self.cpu.invalidate();
    }

    /// Unmaps the buffer and returns it.
    pub(crate) fn into_buf(self) -> B {
        let mut this = ManuallyDrop::new(self);
        this.unmap();
        // SAFETY: `this` is never dropped, so each field is moved out exactly once, and the
        // buffer only after it was unmapped.
        let (handle, buf) = unsafe {
            (
                core::ptr::read(&this.handle),
                ManuallyDrop::take(&mut this.buf),
            )
        };
        drop(handle);
        buf
    }

    /// The mapped ranges, in order: one per physically contiguous chunk of the buffer.
    pub fn ranges(&self) -> &[DmaRange] {
        self.handle.ranges()
    }
}

impl<B: MapSource, D: Direction> Drop for Mapping<'_, B, D> {
    fn drop(&mut self) {
        // Unmap first: swiotlb copies the bounce slot back into the buffer, so it must still
        // be there.
        self.unmap();
        // SAFETY: By the type invariant `buf` is dropped here only, after the unmap.
        unsafe { ManuallyDrop::drop(&mut self.buf) };
    }
}

impl<B: MapSource, D: Direction> Region for Mapping<'_, B, D> {
    type Dir = D;
    type Target = B::Target;

    #[inline]
    fn dma_handle(&self) -> DmaAddress {
        self.ranges().first().map_or(0, |r| r.addr)
    }

    fn size(&self) -> usize {
        self.cpu.size
    }

    #[inline]
    unsafe fn sync(&self, to_device: bool) {
        if to_device {
            self.cpu.flush();
        }
        self.handle.sync(to_device);
        if !to_device {
            self.cpu.invalidate();
        }
    }

    unsafe fn cpu(&self) -> &B::Target {
        self.buf.target()
    }

    unsafe fn cpu_mut(&mut self) -> &mut B::Target {
        self.buf.target_mut()
    }
}

impl<B: MapSource, D: Direction> CpuOwned<Mapping<'_, B, D>> {
    /// Unmaps the buffer and returns it.
    pub fn unmap(self) -> B {
        self.into_inner().into_buf()
    }
}

impl<B: MapSource, D: Direction> DeviceOwned<Mapping<'_, B, D>> {
    /// Unmaps the buffer and returns it. Unmapping hands it to the CPU.
    ///
    /// The device must be done with the buffer.
    pub fn unmap(self) -> B {
        self.into_inner().into_buf()
    }
}
