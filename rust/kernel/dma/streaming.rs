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
    attrs,
    owner::{CpuOwned, DeviceOwned, Direction, Region},
    Attrs, DataDirection, DmaAddress,
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
/// - [`MapSource::size`] is the size of [`MapSource::target`] in bytes.
/// - If [`MapSource::CONTIGUOUS`] is true, [`MapSource::chunks`] reports exactly one range.
/// - The memory is ordinary kernel memory that the DMA API may map, and [`MapSource::VMAPPED`]
///   is true if the CPU reaches it through a vmap alias.
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
    fn chunks(&self, f: impl FnMut(bindings::phys_addr_t, usize) -> Result) -> Result;

    /// Whether the CPU reaches the memory through a vmap alias of its pages (vmalloc memory)
    /// rather than through the linear map. Where caches alias, such an alias is flushed before
    /// the device reads the pages and invalidated before the CPU reads what the device wrote.
    const VMAPPED: bool = false;

    /// Whether the memory is always one physically contiguous range (kmalloc memory), which
    /// maps without a list of ranges.
    const CONTIGUOUS: bool = false;
}

/// Reports one kmalloc'ed (hence physically contiguous) range.
#[inline]
fn linear_chunk(
    ptr: *const u8,
    size: usize,
    mut f: impl FnMut(bindings::phys_addr_t, usize) -> Result,
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
    mut f: impl FnMut(bindings::phys_addr_t, usize) -> Result,
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

    #[inline]
    fn size(&self) -> usize {
        core::mem::size_of::<T>()
    }

    #[inline]
    fn chunks(&self, f: impl FnMut(bindings::phys_addr_t, usize) -> Result) -> Result {
        linear_chunk(core::ptr::from_ref::<T>(self).cast(), self.size(), f)
    }

    const CONTIGUOUS: bool = true;
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

            #[inline]
            fn size(&self) -> usize {
                core::mem::size_of_val::<[T]>(self)
            }

            #[inline]
            fn chunks(&self, f: impl FnMut(bindings::phys_addr_t, usize) -> Result) -> Result {
                $chunks(<[T]>::as_ptr(self).cast(), self.size(), f)
            }

            const VMAPPED: bool = $vmapped;
            const CONTIGUOUS: bool = !$vmapped;
        }
    };
}

mod private {
    pub trait Sealed {}
}

/// Vectors: sources whose start is known without borrowing their contents, which the device
/// may be writing.
pub trait VecSource: MapSource + private::Sealed {
    /// The address of the first byte.
    fn start(&self) -> *const u8;
}

/// Implements [`VecSource`] for a vector type.
macro_rules! vec_source {
    ($owner:ty) => {
        impl<T: AsBytes + FromBytes + Send + 'static> private::Sealed for $owner {}

        impl<T: AsBytes + FromBytes + Send + 'static> VecSource for $owner {
            #[inline]
            fn start(&self) -> *const u8 {
                self.as_ptr().cast()
            }
        }
    };
}

vec_source!(KVec<T>);
vec_source!(VVec<T>);

// One kmalloc allocation each, physically contiguous (hence `CONTIGUOUS`).
slice_source!(KBox<[T]>, linear_chunk, false);
slice_source!(KVec<T>, linear_chunk, false);
// One vmalloc area: its pages are reported one by one, merged where they are adjacent.
slice_source!(VVec<T>, vmalloc_chunks, true);

/// Checks that `buf` can be mapped and writes its vmap alias back, if it has one, so that the
/// device sees what the CPU wrote through it.
///
/// Returns `EINVAL` for an empty buffer, or a vmapped one that the vmap range calls cannot take
/// (2 GiB and more).
#[inline]
pub(crate) fn prepare<B: MapSource>(buf: &B) -> Result {
    let size = buf.size();
    if size == 0 || (B::VMAPPED && c_int::try_from(size).is_err()) {
        return Err(EINVAL);
    }
    vmap_range(buf, true);
    Ok(())
}

/// Writes back (`flush`) or drops (`!flush`) the cache lines of `buf`'s vmap alias, if it has
/// one. The CPU owns `buf`, and [`prepare`] accepted its size.
#[inline]
fn vmap_range<B: MapSource>(buf: &B, flush: bool) {
    if !B::VMAPPED {
        return;
    }
    let (ptr, len) = (
        core::ptr::from_ref(buf.target())
            .cast::<u8>()
            .cast_mut()
            .cast(),
        buf.size() as c_int,
    );
    // SAFETY: `ptr` maps `len` bytes of a live vmalloc area.
    unsafe {
        if flush {
            bindings::flush_kernel_vmap_range(ptr, len)
        } else {
            bindings::invalidate_kernel_vmap_range(ptr, len)
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

/// The device side of a mapping: where the device sees the buffer.
///
/// A value of this type is plain data; [`Mapping`] unmaps it.
pub(crate) enum Dma {
    /// One `dma_map_phys()` range: a buffer of one physically contiguous chunk, which needs no
    /// allocation.
    One([DmaRange; 1]),
    /// One `dma_map_phys()` range per chunk; none yet while a mapping is being made.
    Many(KVec<DmaRange>),
    /// One IOVA range linked with `dma_iova_link()`: the range, and the `__size` word of its
    /// `dma_iova_state`, whose address is the range's.
    #[cfg(CONFIG_IOMMU_DMA)]
    Iova([DmaRange; 1], u64),
}

/// Maps `phys..phys + len` for `dev` in direction `dir`.
///
/// # Safety
///
/// `phys..phys + len` must be memory the caller owns and keeps until it unmaps the range.
#[inline]
unsafe fn map_phys(
    dev: &Device<Bound>,
    phys: bindings::phys_addr_t,
    len: usize,
    dir: DataDirection,
    attrs: Attrs,
) -> Result<DmaRange> {
    // SAFETY: `dev` is a bound device; the caller owns the memory.
    let addr =
        unsafe { bindings::dma_map_phys(dev.as_raw(), phys, len, dir.into(), attrs.as_raw()) };
    // dma-debug records that the driver checked the address.
    #[cfg(CONFIG_DMA_API_DEBUG)]
    // SAFETY: `dev` is valid.
    let failed = unsafe { bindings::dma_mapping_error(dev.as_raw(), addr) } != 0;
    #[cfg(not(CONFIG_DMA_API_DEBUG))]
    let failed = addr == DmaAddress::MAX;
    if failed {
        return Err(ENOMEM);
    }
    Ok(DmaRange { addr, len })
}

impl Dma {
    /// Maps each chunk of `src` with `dma_map_phys()`.
    ///
    /// Allocates only for a source of more than one chunk, and then with `GFP_ATOMIC`: mapping
    /// never sleeps, as `dma_map_phys()` does not. On failure, unmaps what it mapped.
    #[inline]
    pub(crate) fn map<B: MapSource>(
        dev: &Device<Bound>,
        src: &B,
        dir: DataDirection,
        attrs: Attrs,
    ) -> Result<Self> {
        if !B::CONTIGUOUS {
            return Self::map_chunks(dev, src, dir, attrs);
        }
        let mut one = None;
        src.chunks(|phys, len| match one.replace((phys, len)) {
            // A contiguous source reports one chunk.
            Some(_) => Err(EINVAL),
            None => Ok(()),
        })?;
        let (phys, len) = one.ok_or(EINVAL)?;
        // SAFETY: `src` owns the memory, and the caller keeps `src` until it unmaps.
        Ok(Self::One([unsafe {
            map_phys(dev, phys, len, dir, attrs)?
        }]))
    }

    /// [`Dma::map`] for a source that may have several chunks.
    fn map_chunks<B: MapSource>(
        dev: &Device<Bound>,
        src: &B,
        dir: DataDirection,
        attrs: Attrs,
    ) -> Result<Self> {
        let mut dma = Self::Many(KVec::new());
        let res = src.chunks(|phys, len| {
            // SAFETY: `src` owns the chunk, and the caller keeps `src` until it unmaps.
            let r = unsafe { map_phys(dev, phys, len, dir, attrs)? };
            dma.push(r).inspect_err(|_| {
                // SAFETY: `r` was just mapped, and is recorded nowhere.
                unsafe { unmap_range(dev, r, dir, attrs::DMA_ATTR_SKIP_CPU_SYNC) };
            })
        });
        match res {
            Ok(()) if !dma.pieces().is_empty() => Ok(dma),
            res => {
                // SAFETY: `dma` holds what was mapped here, which nothing else knows of; the CPU
                // still owns the buffer.
                unsafe { dma.unmap(dev, dir, attrs::DMA_ATTR_SKIP_CPU_SYNC) };
                res.and(Err(EINVAL))
            }
        }
    }

    /// Records one more mapped range. Allocates (atomically) only from the second range on.
    fn push(&mut self, r: DmaRange) -> Result {
        match self {
            Self::Many(v) if v.is_empty() => *self = Self::One([r]),
            Self::One([first]) => {
                let mut v = KVec::with_capacity(2, GFP_ATOMIC)?;
                v.push(*first, GFP_ATOMIC)?;
                v.push(r, GFP_ATOMIC)?;
                *self = Self::Many(v);
            }
            Self::Many(v) => v.push(r, GFP_ATOMIC)?,
            #[cfg(CONFIG_IOMMU_DMA)]
            Self::Iova(..) => return Err(EINVAL),
        }
        Ok(())
    }

    /// The ranges the device sees, in order.
    #[inline]
    pub(crate) fn ranges(&self) -> &[DmaRange] {
        match self {
            Self::One(r) => r,
            Self::Many(v) => v,
            #[cfg(CONFIG_IOMMU_DMA)]
            Self::Iova(r, _) => r,
        }
    }

    /// The `dma_map_phys()` ranges, which syncs hand over: none for an IOVA range, which is
    /// synced once, when it is linked.
    #[inline]
    fn pieces(&self) -> &[DmaRange] {
        match self {
            Self::One(r) => r,
            Self::Many(v) => v,
            #[cfg(CONFIG_IOMMU_DMA)]
            Self::Iova(..) => &[],
        }
    }

    /// The number of bytes mapped.
    fn size(&self) -> usize {
        self.ranges().iter().map(|r| r.len).sum()
    }

    /// Unmaps every range. `attrs` may ask to skip the CPU sync.
    ///
    /// # Safety
    ///
    /// `self` must describe live mappings of `dev` for `dir`, which are not used again.
    #[inline]
    unsafe fn unmap(&self, dev: &Device<Bound>, dir: DataDirection, attrs: Attrs) {
        match self {
            // SAFETY: The caller guarantees that `r` is a live mapping of `dev`.
            Self::One([r]) => unsafe { unmap_range(dev, *r, dir, attrs) },
            #[cfg(CONFIG_IOMMU_DMA)]
            Self::Iova([r], size) => {
                let mut state = bindings::dma_iova_state {
                    addr: r.addr,
                    __size: *size,
                };
                // SAFETY: The caller guarantees that `state` is linked over its whole size.
                unsafe {
                    bindings::dma_iova_destroy(
                        dev.as_raw(),
                        &mut state,
                        r.len,
                        dir.into(),
                        attrs.as_raw(),
                    )
                };
            }
            _ => {
                for r in self.pieces() {
                    // SAFETY: The caller guarantees that `r` is a live mapping of `dev`.
                    unsafe { unmap_range(dev, *r, dir, attrs) };
                }
            }
        }
    }
}

/// Unmaps one `dma_map_phys()` range.
///
/// # Safety
///
/// `r` must be a live mapping of `dev` for `dir`, not used again.
#[inline]
unsafe fn unmap_range(dev: &Device<Bound>, r: DmaRange, dir: DataDirection, attrs: Attrs) {
    // SAFETY: Guaranteed by the caller.
    unsafe { bindings::dma_unmap_phys(dev.as_raw(), r.addr, r.len, dir.into(), attrs.as_raw()) };
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

/// A streaming mapping of `B` for transfers in direction `D`, for a device bound for `'a`.
///
/// Use it as [`DeviceOwned<Mapping<B, D>>`] or [`CpuOwned<Mapping<B, D>>`]. It borrows the bound
/// device, so it cannot outlive the driver's binding: a driver keeps it in its
/// `Data<'bound>`, which is dropped at unbind. Dropping it unmaps the buffer, then frees it.
///
/// # Invariants
///
/// - `dma` maps `buf` for `dev` in direction `D`, until the mapping is dropped or
///   `Mapping::into_buf` unmaps it;
/// - `buf` is dropped only after `dma` is unmapped.
pub struct Mapping<'a, B: MapSource, D: Direction> {
    dev: &'a Device<Bound>,
    dma: Dma,
    buf: ManuallyDrop<B>,
    _dir: PhantomData<D>,
}

/// The attributes a driver may ask for on a streaming mapping: hints that do not change what
/// memory the device reaches or who owns it.
const MAP_ATTRS: Attrs = Attrs(bindings::DMA_ATTR_WEAK_ORDERING | bindings::DMA_ATTR_NO_WARN);

impl<'a, B: MapSource, D: Direction> Mapping<'a, B, D> {
    /// Maps `buf` for the device and hands it to the device.
    ///
    /// Never sleeps, so it can be called in atomic context. Returns `EINVAL` for an empty
    /// buffer and `ENOMEM` if the DMA API cannot map it (for example, a device with a small DMA
    /// mask and no bounce buffers in reach).
    #[inline]
    pub fn new(dev: &'a Device<Bound>, buf: B) -> Result<DeviceOwned<Self>> {
        Self::new_with_attrs(dev, buf, Attrs(0))
    }

    /// As [`Mapping::new`], with mapping attributes: [`DMA_ATTR_WEAK_ORDERING`] and
    /// [`DMA_ATTR_NO_WARN`] are accepted, others are refused with `EINVAL`.
    /// (`DMA_ATTR_SKIP_CPU_SYNC` is what [`Mapping::new_cpu_owned`] and
    /// [`CpuOwned::unmap`](CpuOwned::unmap) use.)
    ///
    /// [`DMA_ATTR_WEAK_ORDERING`]: attrs::DMA_ATTR_WEAK_ORDERING
    /// [`DMA_ATTR_NO_WARN`]: attrs::DMA_ATTR_NO_WARN
    #[inline]
    pub fn new_with_attrs(
        dev: &'a Device<Bound>,
        buf: B,
        attrs: Attrs,
    ) -> Result<DeviceOwned<Self>> {
        if !MAP_ATTRS.contains(attrs) {
            return Err(EINVAL);
        }
        prepare(&buf)?;
        let dma = Dma::map(dev, &buf, D::DIRECTION, attrs)?;
        // SAFETY: `dma_map_phys()` hands the memory to the device.
        Ok(unsafe { DeviceOwned::new(Self::from_dma(dev, buf, dma)) })
    }

    /// Maps `buf` for the device without handing it over (`DMA_ATTR_SKIP_CPU_SYNC`): the CPU
    /// keeps it, to fill it before [`CpuOwned::sync_for_device`]. This is how a driver maps
    /// buffers ahead of time, for example a receive ring at open.
    #[inline]
    pub fn new_cpu_owned(dev: &'a Device<Bound>, buf: B) -> Result<CpuOwned<Self>> {
        prepare(&buf)?;
        let dma = Dma::map(dev, &buf, D::DIRECTION, attrs::DMA_ATTR_SKIP_CPU_SYNC)?;
        // SAFETY: Without the CPU sync, the mapping leaves the memory to the CPU.
        Ok(unsafe { CpuOwned::new(Self::from_dma(dev, buf, dma)) })
    }

    /// Pairs `buf` with `dma`, which maps it for `dev` in direction `D`.
    #[inline]
    pub(crate) fn from_dma(dev: &'a Device<Bound>, buf: B, dma: Dma) -> Self {
        // INVARIANT: `dma` maps `buf`; `buf` is dropped by `Drop` or `into_buf` only, after
        // they unmap.
        Self {
            dev,
            dma,
            buf: ManuallyDrop::new(buf),
            _dir: PhantomData,
        }
    }

    /// Unmaps the buffer and hands it back to the CPU, unless `attrs` skips the CPU sync
    /// because the CPU owns it already.
    ///
    /// # Safety
    ///
    /// Called once, by `Drop` or `into_buf`.
    #[inline]
    unsafe fn unmap_dma(&self, attrs: Attrs) {
        // SAFETY: By the type invariant `dma` maps `buf` for `dev`; the caller unmaps once.
        unsafe { self.dma.unmap(self.dev, D::DIRECTION, attrs) };
        if !attrs.contains(attrs::DMA_ATTR_SKIP_CPU_SYNC) {
            vmap_range(&*self.buf, false);
        }
    }

    /// Unmaps the buffer and returns it. `attrs` may skip the CPU sync.
    #[inline]
    pub(crate) fn into_buf(self, attrs: Attrs) -> B {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so this is the only unmap.
        unsafe { this.unmap_dma(attrs) };
        // SAFETY: `this` is never dropped, so each owning field is moved out exactly once, the
        // buffer after the unmap.
        let (dma, buf) = unsafe {
            (
                core::ptr::read(&this.dma),
                ManuallyDrop::take(&mut this.buf),
            )
        };
        drop(dma);
        buf
    }

    /// The mapped ranges, in order: one per physically contiguous chunk of the buffer.
    #[inline]
    pub fn ranges(&self) -> &[DmaRange] {
        self.dma.ranges()
    }

    /// Whether the buffer is mapped through one IOVA range.
    pub(crate) fn is_iova(&self) -> bool {
        match self.dma {
            #[cfg(CONFIG_IOMMU_DMA)]
            Dma::Iova(..) => true,
            _ => false,
        }
    }

    /// Hands `len` bytes from `offset` to the device (`to_device`) or to the CPU; the vmap
    /// alias, if any, is handled whole.
    ///
    /// # Safety
    ///
    /// As for [`Region::sync`]; `offset + len` is at most the size.
    unsafe fn sync_part(&self, offset: usize, len: usize, to_device: bool) {
        if to_device {
            vmap_range(&*self.buf, true);
        }
        let mut start = 0;
        for r in self.dma.pieces() {
            let lo = offset.max(start);
            let hi = (offset + len).min(start + r.len);
            if lo < hi {
                let part = DmaRange {
                    addr: r.addr + (lo - start) as DmaAddress,
                    len: hi - lo,
                };
                // SAFETY: `part` lies in `r`, a live mapping of `dev` for `D`.
                unsafe { sync_single(self.dev, part, D::DIRECTION, to_device) };
            }
            start += r.len;
        }
        if !to_device {
            vmap_range(&*self.buf, false);
        }
    }
}

/// Syncs each of `ranges`, out of line: the common mapping has one range, which
/// [`Region::sync`] syncs itself.
///
/// # Safety
///
/// Each of `ranges` must be a live single mapping of `dev` in direction `dir`.
#[inline(never)]
unsafe fn sync_pieces(dev: &Device, ranges: &[DmaRange], dir: DataDirection, to_device: bool) {
    for r in ranges {
        // SAFETY: Guaranteed by the caller.
        unsafe { sync_single(dev, *r, dir, to_device) };
    }
}

impl<B: MapSource, D: Direction> Drop for Mapping<'_, B, D> {
    fn drop(&mut self) {
        // SAFETY: This is the only unmap: `into_buf` never drops. Unmapping first, with the CPU
        // sync, copies a bounce slot back while the buffer is still there.
        unsafe { self.unmap_dma(Attrs(0)) };
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
        self.dma.size()
    }

    #[inline]
    unsafe fn sync(&self, to_device: bool) {
        if to_device {
            vmap_range(&*self.buf, true);
        }
        match &self.dma {
            // SAFETY: By the type invariant `r` is a live mapping of `dev` for `D`.
            Dma::One([r]) => unsafe { sync_single(self.dev, *r, D::DIRECTION, to_device) },
            // SAFETY: As above.
            dma => unsafe { sync_pieces(self.dev, dma.pieces(), D::DIRECTION, to_device) },
        }
        if !to_device {
            vmap_range(&*self.buf, false);
        }
    }

    #[inline]
    unsafe fn cpu(&self) -> &B::Target {
        self.buf.target()
    }

    #[inline]
    unsafe fn cpu_mut(&mut self) -> &mut B::Target {
        self.buf.target_mut()
    }
}

impl<B: MapSource, D: Direction> CpuOwned<Mapping<'_, B, D>> {
    /// Unmaps the buffer and returns it, with what the CPU wrote into it since it took it.
    ///
    /// The CPU owns the buffer already, so the unmap skips the CPU sync
    /// (`DMA_ATTR_SKIP_CPU_SYNC`): under swiotlb, the bounce slot is not copied back over what
    /// the CPU wrote.
    #[inline]
    pub fn unmap(self) -> B {
        self.into_inner().into_buf(attrs::DMA_ATTR_SKIP_CPU_SYNC)
    }
}

impl<'a, B: MapSource, D: Direction> DeviceOwned<Mapping<'a, B, D>> {
    /// Unmaps the buffer and returns it. Unmapping hands it to the CPU.
    ///
    /// The device must be done with the buffer.
    #[inline]
    pub fn unmap(self) -> B {
        self.into_inner().into_buf(Attrs(0))
    }

    /// Gives `len` bytes from `offset` to the CPU, lets `f` read them, then hands them back to
    /// the device (`dma_sync_single_range_for_cpu()` and `..._for_device()`), as a driver does
    /// when the device filled only part of a buffer it keeps mapped.
    ///
    /// `f` sees only the part, so nothing the device may still be writing is borrowed. The device
    /// must be done with the part. Returns `EINVAL`, and syncs nothing, if the part does not lie
    /// in the buffer.
    pub fn read_part<R>(
        &mut self,
        offset: usize,
        len: usize,
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R>
    where
        B: VecSource,
    {
        let m = self.region();
        match offset.checked_add(len) {
            Some(end) if end <= m.size() => {}
            _ => return Err(EINVAL),
        }
        // SAFETY: The part lies in the mapping; this hands it to the CPU, and `&mut self` keeps
        // other hand-overs out until it goes back.
        unsafe { m.sync_part(offset, len, false) };
        // SAFETY: The part lies in the buffer, which the mapping keeps alive, and the CPU owns it
        // until the sync below; the slice covers nothing else.
        let part = unsafe { core::slice::from_raw_parts(m.buf.start().add(offset), len) };
        let r = f(part);
        // SAFETY: As above; the part goes back to the device.
        unsafe { m.sync_part(offset, len, true) };
        Ok(r)
    }
}
