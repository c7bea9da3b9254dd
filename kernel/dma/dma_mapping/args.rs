// SPDX-License-Identifier: GPL-2.0-only

//! The arguments of a DMA call, checked and typed once, at its entry
//! point.
//!
//! A C caller promises things about its arguments that the code cannot
//! check: that a physical range is memory it may lend to the device, that
//! a DMA address is one of the device's mappings, made in a direction,
//! that a scatterlist is valid, that an allocation is given back whole.
//! Each entry point turns its raw arguments into these types in an
//! `unsafe` block that cites its contract; from there on the backends and
//! the hooks take the types and are safe to call.
//!
//! - What may happen once (an unmap, a free) takes a type that is not
//!   `Copy` and is consumed: [`Mapping`], [`SgMapping`], [`Coherent`],
//!   [`Pages`]. What may happen again (a map of the same memory, a sync)
//!   takes a `Copy` one: [`Buf`], [`SgBuf`], [`Range`], [`SgRange`].
//! - What a mapping was made with (its direction, its attributes) travels
//!   with it, so that an unmap or a sync cannot be given another.
//! - None of them is `Send`: a value describes memory for the length of
//!   the call that made it, and cannot be kept in a static for later.

use super::dev::Dev;
use super::range_map;
use super::{
    sg,
    Dma,
    Phys,
    ATTR_MMIO, //
};
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::bindings::{
    self,
    dma_data_direction,
    scatterlist,
    sg_table,
    vm_area_struct, //
};
use kernel::ffi::{
    c_int,
    c_ulong,
    c_void, //
};
use kernel::prelude::*;

/// Makes a type neither `Send` nor `Sync`: its values live in one call.
type ThisCall = PhantomData<*mut ()>;

/// A direction data can move in (`valid_dma_direction()`).
///
/// # Invariants
///
/// `DMA_BIDIRECTIONAL`, `DMA_TO_DEVICE` or `DMA_FROM_DEVICE` (0, 1 or 2):
/// the C tracker indexes a table with it.
#[derive(Clone, Copy)]
pub(crate) struct Dir(dma_data_direction);

impl Dir {
    /// Both ways, as coherent memory is.
    pub(crate) const BIDIRECTIONAL: Dir = Dir(bindings::dma_data_direction_DMA_BIDIRECTIONAL);

    /// The direction of a call, or a report and `None` when it is not one
    /// (C stops the kernel with `BUG()`).
    #[inline(always)]
    pub(crate) fn check(dev: Dev<'_>, func: &str, dir: dma_data_direction) -> Option<Self> {
        if (0..=2).contains(&dir) {
            // INVARIANT: Checked.
            return Some(Dir(dir));
        }
        bad_direction(dev, func, dir);
        None
    }

    /// The direction as the C functions take it.
    #[inline(always)]
    pub(crate) fn raw(self) -> dma_data_direction {
        self.0
    }

    /// The direction as the dma-debug hooks take it.
    #[inline(always)]
    pub(crate) fn debug(self) -> c_int {
        self.0 as c_int
    }
}

/// Reports an invalid direction.
#[cold]
fn bad_direction(dev: Dev<'_>, func: &str, dir: dma_data_direction) {
    dev_err!(dev.as_ref(), "{}: invalid DMA direction {}\n", func, dir);
    kernel::warn_on!(true);
}

/// Memory a driver lends its device for a streaming mapping, with the
/// attributes of the map call.
///
/// # Invariants
///
/// The `size` bytes at `phys` are memory that stays valid until the
/// mapping made of it is removed, or MMIO space when `attrs` has
/// `DMA_ATTR_MMIO`; the device outlives the mapping.
#[derive(Clone, Copy)]
pub(crate) struct Buf {
    phys: Phys,
    size: usize,
    attrs: c_ulong,
    _call: ThisCall,
}

impl Buf {
    /// The range a map call was given.
    ///
    /// # Safety
    ///
    /// The range must meet the type invariant, as the caller of a map
    /// promises.
    #[inline(always)]
    pub(crate) unsafe fn new(phys: Phys, size: usize, attrs: c_ulong) -> Self {
        // INVARIANT: The caller's guarantee.
        Buf {
            phys,
            size,
            attrs,
            _call: PhantomData,
        }
    }

    /// Where the memory starts.
    #[inline(always)]
    pub(crate) fn phys(self) -> Phys {
        self.phys
    }

    /// How long it is.
    #[inline(always)]
    pub(crate) fn size(self) -> usize {
        self.size
    }

    /// The attributes of the map call.
    #[inline(always)]
    pub(crate) fn attrs(self) -> c_ulong {
        self.attrs
    }

    /// Whether the range is MMIO space rather than memory.
    #[inline(always)]
    pub(crate) fn is_mmio(self) -> bool {
        self.attrs & ATTR_MMIO != 0
    }
}

/// A streaming mapping of a device, whole, given back to be removed.
///
/// # Invariants
///
/// The `size` bytes at `dma` are a mapping that the device's backend made
/// in direction `dir`, with `attrs` as the map call had them (bar the ones
/// an unmap may add), and that has not been removed; the holder is the one
/// to remove it.
pub(crate) struct Mapping {
    dma: Dma,
    size: usize,
    dir: Dir,
    attrs: c_ulong,
    _call: ThisCall,
}

impl Mapping {
    /// The mapping an unmap call was given.
    ///
    /// # Safety
    ///
    /// The arguments must meet the type invariant, as the caller of an
    /// unmap promises, and nothing else may remove the mapping.
    #[inline(always)]
    pub(crate) unsafe fn new(dma: Dma, size: usize, dir: Dir, attrs: c_ulong) -> Self {
        // INVARIANT: The caller's guarantee.
        Mapping {
            dma,
            size,
            dir,
            attrs,
            _call: PhantomData,
        }
    }

    /// Where the mapping starts.
    #[inline(always)]
    pub(crate) fn dma(&self) -> Dma {
        self.dma
    }

    /// How long it is.
    #[inline(always)]
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The direction it was made in.
    #[inline(always)]
    pub(crate) fn dir(&self) -> Dir {
        self.dir
    }

    /// The attributes of the unmap call.
    #[inline(always)]
    pub(crate) fn attrs(&self) -> c_ulong {
        self.attrs
    }
}

/// Part of a live streaming mapping of a device, to sync.
///
/// # Invariants
///
/// The `size` bytes at `dma` lie in one mapping that the device's backend
/// made in direction `dir` and that has not been removed.
#[derive(Clone, Copy)]
pub(crate) struct Range {
    dma: Dma,
    size: usize,
    dir: Dir,
    _call: ThisCall,
}

impl Range {
    /// The range a sync call was given.
    ///
    /// # Safety
    ///
    /// The arguments must meet the type invariant, as the caller of a sync
    /// promises.
    #[inline(always)]
    pub(crate) unsafe fn new(dma: Dma, size: usize, dir: Dir) -> Self {
        // INVARIANT: The caller's guarantee.
        Range {
            dma,
            size,
            dir,
            _call: PhantomData,
        }
    }

    /// Where the range starts.
    #[inline(always)]
    pub(crate) fn dma(self) -> Dma {
        self.dma
    }

    /// How long it is.
    #[inline(always)]
    pub(crate) fn size(self) -> usize {
        self.size
    }

    /// The direction of the mapping.
    #[inline(always)]
    pub(crate) fn dir(self) -> Dir {
        self.dir
    }
}

/// A scatterlist a driver lends its device for a mapping.
///
/// # Invariants
///
/// The list is the caller's for `'a` (a [`sg::List`]), and the memory of
/// each entry meets the invariant of [`Buf`].
#[derive(Clone, Copy)]
pub(crate) struct SgBuf<'a>(sg::List<'a>);

impl<'a> SgBuf<'a> {
    /// The scatterlist a map call was given.
    ///
    /// # Safety
    ///
    /// `sgl` must be a valid scatterlist of at least `nents` entries,
    /// changed by no one else for `'a`, whose memory the caller keeps, with
    /// the device, until it unmaps the list.
    #[inline(always)]
    pub(crate) unsafe fn new(sgl: *mut scatterlist, nents: c_int) -> Self {
        // INVARIANT: The caller's guarantee.
        // SAFETY: The caller's guarantee covers the list's.
        SgBuf(unsafe { sg::List::new(sgl, nents) })
    }

    /// The list.
    #[inline(always)]
    pub(crate) fn list(self) -> sg::List<'a> {
        self.0
    }

    /// Each entry with its memory.
    #[inline(always)]
    pub(crate) fn bufs(self, attrs: c_ulong) -> impl Iterator<Item = (&'a sg::Entry, Buf)> + 'a {
        self.0.entries().map(move |e| {
            // INVARIANT: The memory of an entry of the list (type invariant).
            let buf = Buf {
                phys: e.phys(),
                size: e.length() as usize,
                attrs,
                _call: PhantomData,
            };
            (e, buf)
        })
    }

    /// The list once the device's backend has mapped it into `ents` DMA
    /// segments.
    ///
    /// # Safety
    ///
    /// The backend must have mapped the list, filling in the DMA fields of
    /// its first `ents` entries, and not unmapped it.
    #[inline(always)]
    pub(crate) unsafe fn mapped(self, ents: c_int) -> Option<SgMapped<'a>> {
        if ents <= 0 || ents > self.0.nents() {
            return None;
        }
        // INVARIANT: The caller's guarantee, within the list's length.
        Some(SgMapped { list: self.0, ents })
    }
}

/// A scatterlist that the device's backend has just mapped.
///
/// # Invariants
///
/// The list is the caller's for `'a` (a [`sg::List`]); the backend mapped
/// it into `ents` DMA segments, `0 < ents <= nents`, whose DMA fields the
/// first `ents` entries hold.
#[derive(Clone, Copy)]
pub(crate) struct SgMapped<'a> {
    list: sg::List<'a>,
    ents: c_int,
}

impl<'a> SgMapped<'a> {
    /// The list.
    #[inline(always)]
    pub(crate) fn list(self) -> sg::List<'a> {
        self.list
    }

    /// The number of DMA segments.
    #[inline(always)]
    pub(crate) fn ents(self) -> c_int {
        self.ents
    }
}

/// A scatterlist that a device's backend mapped, given back to be
/// unmapped.
///
/// The walks of [`SgMapping::into_mappings`] and [`SgRange::ranges`]
/// describe dma-direct's layout, a mapping per entry; the IOMMU layer and
/// `dma_map_ops` take the list whole.
///
/// # Invariants
///
/// The list is the caller's for `'a` (a [`sg::List`]); its DMA fields
/// describe mappings of the device's backend, made in direction `dir`,
/// that have not been removed; the holder is the one to remove them.
pub(crate) struct SgMapping<'a> {
    list: sg::List<'a>,
    dir: Dir,
    attrs: c_ulong,
}

impl<'a> SgMapping<'a> {
    /// The scatterlist an unmap call was given.
    ///
    /// # Safety
    ///
    /// `sgl` must be a valid scatterlist of at least `nents` entries that a
    /// map of the device filled in, in direction `dir`, and that has not
    /// been unmapped, changed by no one else for `'a`; nothing else may
    /// unmap it.
    #[inline(always)]
    pub(crate) unsafe fn new(
        sgl: *mut scatterlist,
        nents: c_int,
        dir: Dir,
        attrs: c_ulong,
    ) -> Self {
        // INVARIANT: The caller's guarantee.
        SgMapping {
            // SAFETY: The caller's guarantee covers the list's.
            list: unsafe { sg::List::new(sgl, nents) },
            dir,
            attrs,
        }
    }

    /// The list.
    #[inline(always)]
    pub(crate) fn list(&self) -> sg::List<'a> {
        self.list
    }

    /// The direction it was mapped in.
    #[inline(always)]
    pub(crate) fn dir(&self) -> Dir {
        self.dir
    }

    /// The attributes of the unmap call.
    #[inline(always)]
    pub(crate) fn attrs(&self) -> c_ulong {
        self.attrs
    }

    /// Each entry, with its mapping (`sg_dma_address()`, `sg_dma_len()`)
    /// to remove, or `None` for an entry that holds a PCI bus address.
    #[inline(always)]
    pub(crate) fn into_mappings(
        self,
    ) -> impl Iterator<Item = (&'a sg::Entry, Option<Mapping>)> + 'a {
        let (dir, attrs) = (self.dir, self.attrs);
        self.list.entries().map(move |e| {
            // INVARIANT: An entry's mapping, which the list's holder (now
            // the iterator's) removes (type invariant).
            let map = (!e.is_bus_address()).then(|| Mapping {
                dma: e.dma_address(),
                size: e.dma_len() as usize,
                dir,
                attrs,
                _call: PhantomData,
            });
            (e, map)
        })
    }
}

/// A scatterlist that a device's backend mapped, to sync.
///
/// # Invariants
///
/// The list is the caller's for `'a` (a [`sg::List`]); its DMA fields
/// describe mappings of the device's backend, made in direction `dir`,
/// that have not been removed.
#[derive(Clone, Copy)]
pub(crate) struct SgRange<'a> {
    list: sg::List<'a>,
    dir: Dir,
}

impl<'a> SgRange<'a> {
    /// The scatterlist a sync call was given.
    ///
    /// # Safety
    ///
    /// `sgl` must be a valid scatterlist of at least `nents` entries that a
    /// map of the device filled in, in direction `dir`, and that has not
    /// been unmapped, changed by no one else for `'a`.
    #[inline(always)]
    pub(crate) unsafe fn new(sgl: *mut scatterlist, nents: c_int, dir: Dir) -> Self {
        // INVARIANT: The caller's guarantee.
        SgRange {
            // SAFETY: The caller's guarantee covers the list's.
            list: unsafe { sg::List::new(sgl, nents) },
            dir,
        }
    }

    /// The list.
    #[inline(always)]
    pub(crate) fn list(self) -> sg::List<'a> {
        self.list
    }

    /// The direction it was mapped in.
    #[inline(always)]
    pub(crate) fn dir(self) -> Dir {
        self.dir
    }

    /// Each entry's mapping as dma-direct syncs it: its DMA address and
    /// the entry's length (dma-direct maps each entry whole).
    #[inline(always)]
    pub(crate) fn ranges(self) -> impl Iterator<Item = Range> + 'a {
        let dir = self.dir;
        self.list.entries().map(move |e| {
            // INVARIANT: An entry's mapping, of the entry's length, in the
            // list's direction (type invariant).
            Range {
                dma: e.dma_address(),
                size: e.length() as usize,
                dir,
                _call: PhantomData,
            }
        })
    }
}

/// A coherent allocation of a device (`dma_alloc_attrs()`).
///
/// # Invariants
///
/// `virt`, `dma` and `size` are what the device's backend gave for an
/// allocation made with `attrs`, which has not been freed; the holder owns
/// it: nothing else frees it, and when the holder frees it, neither the
/// device nor the CPU uses it any more.
pub(crate) struct Coherent {
    virt: NonNull<c_void>,
    dma: Dma,
    size: usize,
    attrs: c_ulong,
}

impl Coherent {
    /// An allocation just made, or given back by a free call.
    ///
    /// # Safety
    ///
    /// The arguments must meet the type invariant: a fresh allocation of
    /// the device's backend, or one that a free call hands back (whose
    /// caller no longer uses it).
    #[inline(always)]
    pub(crate) unsafe fn new(virt: NonNull<c_void>, dma: Dma, size: usize, attrs: c_ulong) -> Self {
        // INVARIANT: The caller's guarantee.
        Coherent {
            virt,
            dma,
            size,
            attrs,
        }
    }

    /// Hands a fresh allocation to the caller of `dma_alloc_attrs()`.
    #[inline(always)]
    pub(crate) fn into_raw(self) -> *mut c_void {
        self.virt.as_ptr()
    }

    /// The CPU address (or the cookie of `DMA_ATTR_NO_KERNEL_MAPPING`).
    #[inline(always)]
    pub(crate) fn virt(&self) -> *mut c_void {
        self.virt.as_ptr()
    }

    /// The DMA address.
    #[inline(always)]
    pub(crate) fn dma(&self) -> Dma {
        self.dma
    }

    /// The size asked for.
    #[inline(always)]
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The attributes it was made with.
    #[inline(always)]
    pub(crate) fn attrs(&self) -> c_ulong {
        self.attrs
    }
}

/// Pages allocated for a device's streaming DMA (`dma_alloc_pages()`).
///
/// # Invariants
///
/// `page`, `dma` and `size` are what the device's backend gave for an
/// allocation in direction `dir` (any direction, for dma-direct, which
/// does not use it), which has not been freed; the holder owns it, as for
/// [`Coherent`].
pub(crate) struct Pages {
    page: NonNull<bindings::page>,
    dma: Dma,
    size: usize,
    dir: Dir,
}

impl Pages {
    /// An allocation just made, or given back by a free call.
    ///
    /// # Safety
    ///
    /// As for [`Coherent::new`].
    #[inline(always)]
    pub(crate) unsafe fn new(
        page: NonNull<bindings::page>,
        dma: Dma,
        size: usize,
        dir: Dir,
    ) -> Self {
        // INVARIANT: The caller's guarantee.
        Pages {
            page,
            dma,
            size,
            dir,
        }
    }

    /// Hands a fresh allocation to the caller.
    #[inline(always)]
    pub(crate) fn into_raw(self) -> *mut bindings::page {
        self.page.as_ptr()
    }

    /// The first page.
    #[inline(always)]
    pub(crate) fn page(&self) -> *mut bindings::page {
        self.page.as_ptr()
    }

    /// The DMA address.
    #[inline(always)]
    pub(crate) fn dma(&self) -> Dma {
        self.dma
    }

    /// The size asked for.
    #[inline(always)]
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The direction it was allocated for.
    #[inline(always)]
    pub(crate) fn dir(&self) -> Dir {
        self.dir
    }

    /// The size in whole pages, as the allocators take it.
    #[inline(always)]
    pub(crate) fn aligned_size(&self) -> usize {
        range_map::page_align(self.size as u64, bindings::PAGE_SHIFT) as usize
    }
}

/// A live coherent allocation of a device, to describe or to map to user
/// space; its holder does not own it.
///
/// # Invariants
///
/// `virt`, `dma` and `size` are what the device's backend gave for an
/// allocation that has not been freed, and is not freed while the value
/// is used.
#[derive(Clone, Copy)]
pub(crate) struct Allocation {
    virt: *mut c_void,
    dma: Dma,
    size: usize,
}

impl Allocation {
    /// The allocation a `dma_get_sgtable()` or `dma_mmap_attrs()` call was
    /// given.
    ///
    /// # Safety
    ///
    /// The arguments must meet the type invariant, as those calls' callers
    /// promise.
    #[inline(always)]
    pub(crate) unsafe fn new(virt: *mut c_void, dma: Dma, size: usize) -> Self {
        // INVARIANT: The caller's guarantee.
        Allocation { virt, dma, size }
    }

    /// The CPU address (or the cookie of `DMA_ATTR_NO_KERNEL_MAPPING`).
    #[inline(always)]
    pub(crate) fn virt(self) -> *mut c_void {
        self.virt
    }

    /// The DMA address.
    #[inline(always)]
    pub(crate) fn dma(self) -> Dma {
        self.dma
    }

    /// The size asked for.
    #[inline(always)]
    pub(crate) fn size(self) -> usize {
        self.size
    }
}

/// A user VMA that an mmap handler is setting up.
///
/// # Invariants
///
/// The pointer is to a valid VMA that the caller's mmap handler is setting
/// up, with the mmap lock held, and that no one else changes for `'a`.
pub(crate) struct Vma<'a>(NonNull<vm_area_struct>, PhantomData<&'a mut vm_area_struct>);

impl Vma<'_> {
    /// The VMA an mmap call was given.
    ///
    /// # Safety
    ///
    /// `vma` must meet the type invariant, as the callers of the DMA API's
    /// mmap functions promise.
    #[inline(always)]
    pub(crate) unsafe fn new(vma: NonNull<vm_area_struct>) -> Self {
        // INVARIANT: The caller's guarantee.
        Vma(vma, PhantomData)
    }

    /// The C pointer, for the C implementations of mmap.
    #[inline(always)]
    pub(crate) fn raw(&mut self) -> *mut vm_area_struct {
        self.0.as_ptr()
    }

    /// The VMA's first address, its length in pages and its page offset.
    fn range(&self) -> (c_ulong, c_ulong, c_ulong) {
        // SAFETY: A valid VMA that no one else changes (type invariant).
        unsafe {
            let vma = self.0.as_ptr();
            let range = (*vma).__bindgen_anon_1.__bindgen_anon_1;
            let pages = (range.vm_end - range.vm_start) >> bindings::PAGE_SHIFT;
            (range.vm_start, pages, (*vma).vm_pgoff)
        }
    }

    /// Whether the VMA, from its page offset on, fits a buffer of `size`
    /// bytes.
    pub(crate) fn fits(&self, size: usize) -> bool {
        let (_, pages, pgoff) = self.range();
        let buf_pages =
            range_map::page_align(size as u64, bindings::PAGE_SHIFT) >> bindings::PAGE_SHIFT;
        range_map::mmap_fits(pgoff as u64, pages as u64, buf_pages)
    }

    /// Makes the VMA's pages decrypted, for a device that shares memory
    /// decrypted.
    pub(crate) fn set_decrypted(&mut self) {
        // SAFETY: A pure function of its argument.
        self.protect(|prot| unsafe { bindings::dma_rs_pgprot_decrypted(prot) });
    }

    /// Changes the protection the VMA's pages will be mapped with.
    pub(crate) fn protect(&mut self, f: impl FnOnce(bindings::pgprot_t) -> bindings::pgprot_t) {
        // SAFETY: A valid VMA, being set up by the caller (type invariant).
        unsafe {
            let vma = self.0.as_ptr();
            (*vma).vm_page_prot = f((*vma).vm_page_prot);
        }
    }

    /// Maps the pages from `pfn` on, from the VMA's page offset on, into
    /// the whole VMA.
    ///
    /// # Safety
    ///
    /// The pages must be memory the caller may give user space for as long
    /// as the VMA exists, at least as many as the VMA covers past its page
    /// offset ([`Vma::fits`]).
    pub(crate) unsafe fn remap(&mut self, pfn: c_ulong) -> Result {
        let (start, pages, pgoff) = self.range();
        let len = pages << bindings::PAGE_SHIFT;
        let vma = self.0.as_ptr();
        // SAFETY: A valid VMA being set up (type invariant); the caller
        // vouches for the pages.
        kernel::error::to_result(unsafe {
            bindings::remap_pfn_range(vma, start, pfn + pgoff, len, (*vma).vm_page_prot)
        })
    }
}

/// A scatterlist table that the caller holds for the call.
///
/// # Invariants
///
/// The pointer is to a valid `sg_table` whose list has `orig_nents` valid
/// entries, and which no one else changes for `'a`.
#[derive(Clone, Copy)]
pub(crate) struct Table<'a>(NonNull<sg_table>, PhantomData<&'a sg_table>);

impl Table<'_> {
    /// Wraps a table.
    ///
    /// # Safety
    ///
    /// `sgt` must meet the type invariant.
    #[inline(always)]
    pub(crate) unsafe fn new(sgt: NonNull<sg_table>) -> Self {
        // INVARIANT: The caller's guarantee.
        Table(sgt, PhantomData)
    }

    /// The C pointer, for the trace events that read the table.
    #[inline(always)]
    pub(crate) fn raw(self) -> *mut sg_table {
        self.0.as_ptr()
    }
}
