// SPDX-License-Identifier: GPL-2.0-only

//! dma-direct: DMA to memory the device reaches at (a translation of) its
//! physical address, with swiotlb bounce buffers for what it cannot reach.
//!
//! The role of `kernel/dma/direct.c` and `direct.h`. For a device that does
//! not snoop the CPU caches, each hand-over of a buffer also maintains the
//! caches, and coherent allocations get an uncached alias ([`super::arch`]).

use super::arch;
use super::args::{
    Allocation,
    Buf,
    Coherent,
    Dir,
    Mapping,
    Pages,
    Range,
    SgBuf,
    SgMapping,
    SgRange,
    Vma, //
};
use super::dev::{
    Dev,
    DMA_MAPPING_ERROR, //
};
use super::range_map::{
    self,
    Zone, //
};
use super::{
    Dma,
    Phys, //
};
use core::ptr::{
    self,
    NonNull, //
};
use kernel::bindings::{
    self,
    gfp_t,
    page, //
};
use kernel::error::to_result;
use kernel::ffi::{
    c_int,
    c_uint,
    c_ulong,
    c_void, //
};
use kernel::prelude::*;

pub mod exports;

const PAGE_SHIFT: u32 = bindings::PAGE_SHIFT;

use super::{
    ATTR_CC_SHARED,
    ATTR_MMIO,
    ATTR_REQUIRE_COHERENT, //
};
const ATTR_SKIP_CPU_SYNC: c_ulong = bindings::DMA_ATTR_SKIP_CPU_SYNC as c_ulong;
const ATTR_NO_KERNEL_MAPPING: c_ulong = bindings::DMA_ATTR_NO_KERNEL_MAPPING as c_ulong;
const ATTR_NO_WARN: c_ulong = bindings::DMA_ATTR_NO_WARN as c_ulong;

/// Reports, once per boot, a mapping the device cannot reach and that
/// swiotlb cannot bounce, as dma-direct's "overflow" warning.
#[cold]
fn report_overflow(dev: Dev<'_>, dma: Dma, size: usize) {
    use kernel::sync::atomic::{
        Atomic,
        Relaxed, //
    };
    static REPORTED: Atomic<bool> = Atomic::new(false);
    if REPORTED.xchg(true, Relaxed) {
        return;
    }
    dev_warn!(
        dev.as_ref(),
        "DMA addr {:#x}+{} overflow (mask {:x}, bus limit {:x}).\n",
        dma,
        size,
        dev.dma_mask(),
        dev.bus_limit()
    );
    kernel::warn_on!(true);
}

/// Maps a buffer for the device (`dma_direct_map_phys()`).
#[inline(always)]
pub(crate) fn map_phys(dev: Dev<'_>, buf: Buf, dir: Dir) -> Dma {
    map_one(dev, buf, dir, true)
}

/// [`map_phys`]; with `flush` false the cache maintenance for a
/// non-coherent device may still be running at return, for a caller that
/// maps more and waits once ([`arch::flush`]).
#[inline(always)]
fn map_one(dev: Dev<'_>, buf: Buf, dir: Dir, flush: bool) -> Dma {
    let attrs = buf.attrs();
    if dev.swiotlb_force_bounce() {
        if attrs & ATTR_CC_SHARED == 0 {
            if attrs & (ATTR_MMIO | ATTR_REQUIRE_COHERENT) != 0 {
                return DMA_MAPPING_ERROR;
            }
            return swiotlb_map(dev, buf, dir);
        }
    } else if attrs & ATTR_CC_SHARED != 0 {
        return DMA_MAPPING_ERROR;
    }

    let (phys, size) = (buf.phys(), buf.size());
    let dma = if buf.is_mmio() {
        phys
    } else if attrs & ATTR_CC_SHARED != 0 {
        dev.phys_to_dma_unencrypted(phys)
    } else {
        let dma = dev.phys_to_dma(phys);
        if !dev.capable(dma, size) || arch::kmalloc_needs_bounce(dev, size, dir) {
            if attrs & ATTR_REQUIRE_COHERENT == 0 && dev.swiotlb_active() {
                return swiotlb_map(dev, buf, dir);
            }
            report_overflow(dev, dma, size);
            return DMA_MAPPING_ERROR;
        }
        to_device(dev, buf, dir, flush);
        return dma;
    };
    if !dev.capable(dma, size) {
        report_overflow(dev, dma, size);
        return DMA_MAPPING_ERROR;
    }
    to_device(dev, buf, dir, flush);
    dma
}

/// Hands a buffer just mapped without bouncing to a non-coherent device:
/// its cache lines are written back, unless `DMA_ATTR_SKIP_CPU_SYNC` or
/// it is MMIO.
#[inline(always)]
fn to_device(dev: Dev<'_>, buf: Buf, dir: Dir, flush: bool) {
    if dev.is_coherent() || buf.attrs() & ATTR_SKIP_CPU_SYNC != 0 || buf.is_mmio() {
        return;
    }
    // SAFETY: Not MMIO, the buffer is memory, valid while it is mapped
    // (`Buf`).
    unsafe { arch::for_device(buf.phys(), buf.size(), dir.raw()) };
    if flush {
        arch::flush();
    }
}

/// Hands `size` bytes at `phys`, a mapping's memory or its bounce slots,
/// back to the CPU from a non-coherent device.
///
/// # Safety
///
/// The range must be memory in the kernel's linear map.
#[inline(always)]
unsafe fn to_cpu(dev: Dev<'_>, phys: Phys, size: usize, dir: Dir, flush: bool) {
    if dev.is_coherent() {
        return;
    }
    // SAFETY: The caller's guarantee.
    unsafe { arch::for_cpu(phys, size, dir.raw()) };
    if flush {
        arch::flush();
    }
    arch::for_cpu_all();
}

/// Bounces a mapping of memory through swiotlb.
#[inline(always)]
fn swiotlb_map(dev: Dev<'_>, buf: Buf, dir: Dir) -> Dma {
    if buf.is_mmio() {
        return DMA_MAPPING_ERROR;
    }
    // SAFETY: The buffer is memory that stays valid, with the device, until
    // the mapping is removed (`Buf`).
    unsafe { swiotlb_map_raw(dev, buf.phys(), buf.size(), dir, buf.attrs()) }
}

/// [`swiotlb_map`], out of line and with the buffer in registers (a `Buf`
/// would go through the stack, on the fast path of every map).
///
/// # Safety
///
/// The `size` bytes at `phys` must be memory that stays valid, with the
/// device, until the mapping is removed.
#[inline(never)]
unsafe fn swiotlb_map_raw(dev: Dev<'_>, phys: Phys, size: usize, dir: Dir, attrs: c_ulong) -> Dma {
    #[cfg(CONFIG_SWIOTLB)]
    // SAFETY: The device is live; swiotlb may copy from the memory now and
    // to it when the mapping is removed (the caller's guarantee).
    return unsafe { bindings::swiotlb_map(dev.raw(), phys, size, dir.raw(), attrs) };
    #[cfg(not(CONFIG_SWIOTLB))]
    {
        let _ = (dev, phys, size, dir, attrs);
        DMA_MAPPING_ERROR
    }
}

/// The swiotlb pool that holds the mapping at `dma`, and the address it
/// bounces, or `None` when that mapping does not bounce.
#[inline(always)]
fn bounced(dev: Dev<'_>, dma: Dma) -> Option<(Phys, *mut bindings::io_tlb_pool)> {
    let phys = dev.dma_to_phys(dma);
    let pool = dev.swiotlb_pool(phys);
    (!pool.is_null()).then_some((phys, pool))
}

/// Unmaps a mapping made by [`map_phys`] (`dma_direct_unmap_phys()`),
/// handing it back to the CPU first unless `DMA_ATTR_SKIP_CPU_SYNC`: the
/// caches of a non-coherent device's memory, and the copy back from a
/// bounce buffer.
#[inline(always)]
pub(crate) fn unmap_phys(dev: Dev<'_>, map: Mapping) {
    unmap_one(dev, map, true)
}

/// [`unmap_phys`], with `flush` as in [`map_one`].
#[inline(always)]
fn unmap_one(dev: Dev<'_>, map: Mapping, flush: bool) {
    let attrs = map.attrs();
    if attrs & (ATTR_MMIO | ATTR_REQUIRE_COHERENT) != 0 {
        return;
    }
    if !dev.is_coherent() && attrs & ATTR_SKIP_CPU_SYNC == 0 {
        let phys = dev.dma_to_phys(map.dma());
        // SAFETY: Not MMIO, the mapping is of memory, or of bounce slots,
        // still valid until it is removed here (`Mapping`).
        unsafe { to_cpu(dev, phys, map.size(), map.dir(), flush) };
    }
    let Some((phys, pool)) = bounced(dev, map.dma()) else {
        return;
    };
    #[cfg(CONFIG_SWIOTLB)]
    // SAFETY: `phys` lies in `pool`, a bounce buffer of the device that
    // holds the mapping, which was made in this direction and which the
    // holder gives up (`Mapping`): swiotlb copies it back to the buffer it
    // was made of, which is still valid, and frees its slots.
    unsafe {
        let (size, dir) = (map.size(), map.dir().raw());
        if attrs & ATTR_SKIP_CPU_SYNC == 0 {
            bindings::__swiotlb_sync_single_for_cpu(dev.raw(), phys, size, dir, pool);
        }
        bindings::__swiotlb_tbl_unmap_single(
            dev.raw(),
            phys,
            size,
            dir,
            attrs | ATTR_SKIP_CPU_SYNC,
            pool,
        );
    }
}

/// Hands a mapping to the device (`dma_direct_sync_single_for_device()`).
#[inline(always)]
pub(crate) fn sync_for_device(dev: Dev<'_>, range: Range) {
    sync_one_for_device(dev, range, true)
}

/// [`sync_for_device`], with `flush` as in [`map_one`].
#[inline(always)]
fn sync_one_for_device(dev: Dev<'_>, range: Range, flush: bool) {
    let bounce = bounced(dev, range.dma());
    if let Some((phys, pool)) = bounce {
        #[cfg(CONFIG_SWIOTLB)]
        // SAFETY: `phys` lies in `pool`, a bounce buffer of the device that
        // holds the mapping, made in this direction, whose buffer is still
        // valid (`Range`).
        unsafe {
            let (size, dir) = (range.size(), range.dir().raw());
            bindings::__swiotlb_sync_single_for_device(dev.raw(), phys, size, dir, pool)
        };
    }
    if !dev.is_coherent() {
        let phys = bounce.map_or_else(|| dev.dma_to_phys(range.dma()), |(phys, _)| phys);
        // SAFETY: The range lies in a live mapping of memory, or in its
        // bounce slots (`Range`).
        unsafe { arch::for_device(phys, range.size(), range.dir().raw()) };
        if flush {
            arch::flush();
        }
    }
}

/// Hands a mapping back to the CPU (`dma_direct_sync_single_for_cpu()`).
#[inline(always)]
pub(crate) fn sync_for_cpu(dev: Dev<'_>, range: Range) {
    sync_one_for_cpu(dev, range, false)
}

/// [`sync_for_cpu`]; with `batch`, one entry of a list, whose caller waits
/// for the maintenance and completes it once ([`sync_sg_for_cpu`]).
#[inline(always)]
fn sync_one_for_cpu(dev: Dev<'_>, range: Range, batch: bool) {
    if !dev.is_coherent() {
        let phys = dev.dma_to_phys(range.dma());
        // SAFETY: As in `sync_one_for_device()`.
        unsafe {
            if batch {
                arch::for_cpu(phys, range.size(), range.dir().raw());
            } else {
                to_cpu(dev, phys, range.size(), range.dir(), true);
            }
        }
    }
    if let Some((phys, pool)) = bounced(dev, range.dma()) {
        #[cfg(CONFIG_SWIOTLB)]
        // SAFETY: As in `sync_one_for_device()`.
        unsafe {
            let (size, dir) = (range.size(), range.dir().raw());
            bindings::__swiotlb_sync_single_for_cpu(dev.raw(), phys, size, dir, pool)
        };
    }
}

/// Maps each entry of a scatterlist (`dma_direct_map_sg()`): the number of
/// DMA segments, one per entry; on failure, unmaps what it mapped.
#[inline(always)]
pub(crate) fn map_sg(dev: Dev<'_>, sg: SgBuf<'_>, dir: Dir, attrs: c_ulong) -> Result<c_int> {
    #[cfg(CONFIG_PCI_P2PDMA)]
    // SAFETY: The state is plain data, valid when zeroed, as C starts it.
    let mut p2p: bindings::pci_p2pdma_map_state = unsafe { core::mem::zeroed() };
    for (mapped, (entry, buf)) in (0..).zip(sg.bufs(attrs)) {
        #[cfg(CONFIG_PCI_P2PDMA)]
        // SAFETY: The device is live; the entry's page is valid (`SgBuf`).
        match unsafe { bindings::pci_p2pdma_state(&mut p2p, dev.raw(), entry.page()) } {
            bindings::pci_p2pdma_map_type_PCI_P2PDMA_MAP_NONE
            | bindings::pci_p2pdma_map_type_PCI_P2PDMA_MAP_THRU_HOST_BRIDGE => {}
            bindings::pci_p2pdma_map_type_PCI_P2PDMA_MAP_BUS_ADDR => {
                // SAFETY: `pci_p2pdma_state()` set the provider. The entry
                // is being mapped: nothing relies on its DMA fields yet.
                unsafe {
                    let bus = bindings::pci_p2pdma_bus_addr_map(p2p.mem, buf.phys());
                    entry.set_dma(bus, entry.length());
                    entry.set_bus_address(true);
                }
                continue;
            }
            _ => {
                undo_map_sg(dev, sg, mapped, dir, attrs);
                return Err(Error::from_errno(-(bindings::EREMOTEIO as c_int)));
            }
        }
        let dma = map_one(dev, buf, dir, false);
        if dma == DMA_MAPPING_ERROR {
            // SAFETY: The entry is being mapped: nothing relies on its DMA
            // fields yet.
            unsafe { entry.set_dma(dma, entry.dma_len()) };
            undo_map_sg(dev, sg, mapped, dir, attrs);
            return Err(EIO);
        }
        // SAFETY: The entry is being mapped: nothing relies on its DMA
        // fields yet.
        unsafe { entry.set_dma(dma, buf.size() as c_uint) };
    }
    if !dev.is_coherent() {
        arch::flush();
    }
    Ok(sg.list().nents())
}

/// Unmaps the first `mapped` entries of a list that [`map_sg`] failed to
/// map whole.
#[cold]
#[inline(never)]
fn undo_map_sg(dev: Dev<'_>, sg: SgBuf<'_>, mapped: c_int, dir: Dir, attrs: c_ulong) {
    // SAFETY: The first `mapped` entries were mapped just now, in this
    // direction, and are ours to unmap.
    let done = unsafe { SgMapping::new(sg.list().raw(), mapped, dir, attrs | ATTR_SKIP_CPU_SYNC) };
    unmap_sg(dev, done);
}

/// Unmaps a scatterlist mapped by [`map_sg`] (`dma_direct_unmap_sg()`).
#[inline(always)]
pub(crate) fn unmap_sg(dev: Dev<'_>, sg: SgMapping<'_>) {
    for (entry, map) in sg.into_mappings() {
        match map {
            Some(map) => unmap_one(dev, map, false),
            // SAFETY: The entry is being unmapped, by the holder of its
            // list's mapping.
            None => unsafe { entry.set_bus_address(false) },
        }
    }
    if !dev.is_coherent() {
        arch::flush();
    }
}

/// Syncs every entry for the device (`dma_direct_sync_sg_for_device()`).
pub(crate) fn sync_sg_for_device(dev: Dev<'_>, sg: SgRange<'_>) {
    for range in sg.ranges() {
        sync_one_for_device(dev, range, false);
    }
    if !dev.is_coherent() {
        arch::flush();
    }
}

/// Syncs every entry for the CPU (`dma_direct_sync_sg_for_cpu()`).
pub(crate) fn sync_sg_for_cpu(dev: Dev<'_>, sg: SgRange<'_>) {
    for range in sg.ranges() {
        sync_one_for_cpu(dev, range, true);
    }
    if !dev.is_coherent() {
        arch::flush();
        arch::for_cpu_all();
    }
}

/// Whether a sync of `dma` does anything (`dma_direct_need_sync()`).
pub(crate) fn need_sync(dev: Dev<'_>, dma: Dma) -> bool {
    !dev.is_coherent() || !dev.swiotlb_pool(dev.dma_to_phys(dma)).is_null()
}

/// The largest mapping dma-direct can make: swiotlb's slot limit when
/// mappings may bounce.
pub(crate) fn max_mapping_size(dev: Dev<'_>) -> usize {
    if dev.swiotlb_active()
        && (super::limits::addressing_limited(dev) || dev.swiotlb_force_bounce())
    {
        // SAFETY: The device is live.
        return unsafe { bindings::dma_rs_swiotlb_max_mapping_size(dev.raw()) };
    }
    usize::MAX
}

/// The physical address just below the top of RAM.
fn last_ram_byte() -> Phys {
    // SAFETY: `max_pfn` is set at boot, before any device exists.
    let max_pfn = unsafe { bindings::max_pfn } as u64;
    (max_pfn << PAGE_SHIFT).wrapping_sub(1)
}

/// The mask that reaches all of RAM (`dma_direct_get_required_mask()`).
pub(crate) fn required_mask(dev: Dev<'_>) -> u64 {
    super::mask::required_mask(dev.phys_to_dma_direct(last_ram_byte()))
}

/// Whether dma-direct can serve a device with `mask` (`dma_direct_supported()`).
pub(crate) fn supported(dev: Dev<'_>, mask: u64) -> bool {
    if mask >= u64::from(u32::MAX) {
        return true;
    }
    let mut min_mask = last_ram_byte();
    if cfg!(CONFIG_ZONE_DMA) {
        // SAFETY: Set by the architecture at boot.
        min_mask = min_mask.min(unsafe { bindings::zone_dma_limit });
    }
    mask >= dev.phys_to_dma_unencrypted(min_mask)
}

/// `walk_system_ram_range()` callback: 1 when some page of the range is
/// outside the device's range map.
///
/// # Safety
///
/// `data` must be a live device.
unsafe extern "C" fn ram_range_unmapped(
    start_pfn: c_ulong,
    nr_pages: c_ulong,
    data: *mut c_void,
) -> c_int {
    // SAFETY: `data` is the live device `all_ram_mapped` passed.
    let dev = unsafe { Dev::new(data.cast()) };
    let start = start_pfn as u64;
    let covered =
        range_map::pfns_covered(dev.range_map(), start, start + nr_pages as u64, PAGE_SHIFT);
    c_int::from(!covered)
}

/// Whether the device's range map covers all of RAM
/// (`dma_direct_all_ram_mapped()`).
pub(crate) fn all_ram_mapped(dev: Dev<'_>) -> bool {
    if dev.range_map().is_empty() {
        return true;
    }
    // SAFETY: The callback only reads the device passed as its data.
    unsafe {
        bindings::walk_system_ram_range(
            0,
            (c_ulong::MAX >> PAGE_SHIFT) + 1,
            dev.raw().cast(),
            Some(ram_range_unmapped),
        ) == 0
    }
}

// ---- allocation ----

const GFP_ZERO: gfp_t = bindings::__GFP_ZERO;
const GFP_NOWARN: gfp_t = bindings::__GFP_NOWARN;
const GFP_DMA: gfp_t = bindings::__GFP_DMA;
const GFP_DMA32: gfp_t = bindings::__GFP_DMA32;
const GFP_DIRECT_RECLAIM: gfp_t = bindings::__GFP_DIRECT_RECLAIM;

fn zone_gfp(zone: Zone) -> gfp_t {
    match zone {
        Zone::Dma => GFP_DMA,
        Zone::Dma32 => GFP_DMA32,
        Zone::Normal => 0,
    }
}

/// The zone to try first for the device's coherent limit, and the
/// physical address of that limit.
fn optimal_zone(dev: Dev<'_>) -> (Zone, Phys) {
    let dma_limit = super::mask::min_not_zero(dev.coherent_mask(), dev.bus_limit());
    let phys_limit = dev.dma_to_phys(dma_limit);
    // SAFETY: Set by the architecture at boot.
    let zone_dma = unsafe { bindings::zone_dma_limit };
    (range_map::optimal_zone(phys_limit, zone_dma), phys_limit)
}

use super::mem::{
    page_address,
    page_to_phys,
    pfn_to_page, //
};

fn order(size: usize) -> u32 {
    range_map::order_of(size as u64, PAGE_SHIFT)
}

fn page_align(size: usize) -> usize {
    range_map::page_align(size as u64, PAGE_SHIFT) as usize
}

/// Pages that dma-direct allocated for a device.
///
/// # Invariants
///
/// `page` is the first of `size` bytes (rounded up to whole pages) of
/// memory that [`alloc_pages_raw`] got for the device: from its restricted swiotlb
/// pool, from CMA, or from the page allocator (order `order(size)`). The
/// holder owns them: nothing else frees them.
struct RawPages {
    page: NonNull<page>,
    size: usize,
}

impl RawPages {
    /// Takes pages that meet the type invariant.
    ///
    /// # Safety
    ///
    /// The pages must meet the type invariant.
    unsafe fn new(page: NonNull<page>, size: usize) -> Self {
        // INVARIANT: The caller's guarantee.
        RawPages { page, size }
    }

    fn page(&self) -> *mut page {
        self.page.as_ptr()
    }

    fn phys(&self) -> Phys {
        page_to_phys(self.page())
    }

    /// The pages' kernel mapping (64-bit kernels have no highmem).
    fn vaddr(&self) -> *mut c_void {
        // SAFETY: By the type invariant `page` is a page of the memory map.
        unsafe { page_address(self.page()) }
    }

    /// Zeroes the pages.
    fn zero(&self) {
        // SAFETY: The linear mapping of `size` bytes the holder owns.
        unsafe { ptr::write_bytes(self.vaddr().cast::<u8>(), 0, self.size) };
    }

    /// Gives the pages up, to a caller that frees them through the DMA API.
    fn into_raw(self) -> *mut page {
        self.page()
    }
}

/// Frees pages dma-direct allocated: to the restricted swiotlb pool they
/// came from, or to CMA or the page allocator.
fn free_pages_raw(dev: Dev<'_>, pages: RawPages) {
    if cfg!(CONFIG_DMA_RESTRICTED_POOL)
        // SAFETY: The device is live; the pool frees the pages if they are
        // its own, which are then the holder's (`RawPages`).
        && unsafe { bindings::dma_rs_swiotlb_free(dev.raw(), pages.page(), pages.size) }
    {
        return;
    }
    free_contiguous(dev, pages);
}

/// Gives pages back to CMA or to the page allocator
/// (`dma_free_contiguous()`).
fn free_contiguous(dev: Dev<'_>, pages: RawPages) {
    if cfg!(CONFIG_DMA_CMA) {
        // SAFETY: Pages of CMA or of the page allocator (`RawPages`), as
        // CMA's free expects, given up by their holder.
        unsafe { bindings::dma_rs_free_contiguous(dev.raw(), pages.page(), pages.size) };
    } else {
        // SAFETY: Without CMA the pages came from the page allocator with
        // this order (`RawPages`), and their holder gives them up.
        unsafe { bindings::__free_pages(pages.page(), order(pages.size)) };
    }
}

/// Pages from the device's CMA area (`dma_alloc_contiguous()`); `None`
/// without CMA.
fn alloc_contiguous(dev: Dev<'_>, size: usize, gfp: gfp_t) -> Option<RawPages> {
    if !cfg!(CONFIG_DMA_CMA) {
        return None;
    }
    // SAFETY: The device is live. Pages that CMA gives are ours.
    unsafe {
        let page = bindings::dma_rs_alloc_contiguous(dev.raw(), size, gfp);
        Some(RawPages::new(NonNull::new(page)?, size))
    }
}

/// The device's NUMA node (`dev_to_node()`).
fn dev_node(dev: Dev<'_>) -> c_int {
    #[cfg(CONFIG_NUMA)]
    // SAFETY: The device is live.
    return unsafe { (*dev.raw()).numa_node };
    #[cfg(not(CONFIG_NUMA))]
    {
        let _ = dev;
        bindings::NUMA_NO_NODE
    }
}

/// Allocates `size` bytes (whole pages) of physically contiguous memory
/// the device reaches with its coherent mask, retrying in lower zones.
fn alloc_pages_raw(dev: Dev<'_>, size: usize, gfp: gfp_t) -> Option<RawPages> {
    if dev.swiotlb_for_alloc() {
        // SAFETY: The device is live. Pages of its restricted pool are ours.
        let pages = unsafe {
            let page = bindings::dma_rs_swiotlb_alloc(dev.raw(), size);
            RawPages::new(NonNull::new(page)?, size)
        };
        if !dev.coherent_ok(pages.phys(), size) {
            free_pages_raw(dev, pages);
            return None;
        }
        return Some(pages);
    }

    let (mut zone, phys_limit) = optimal_zone(dev);
    let gfp = gfp & !(GFP_DMA | GFP_DMA32);
    if let Some(pages) = alloc_contiguous(dev, size, gfp | zone_gfp(zone)) {
        if dev.coherent_ok(pages.phys(), size) {
            return Some(pages);
        }
        free_contiguous(dev, pages);
    }

    let node = dev_node(dev);
    loop {
        // SAFETY: Valid node and flags. Pages the allocator gives are ours.
        let pages = unsafe {
            let page = bindings::alloc_pages_node(node, gfp | zone_gfp(zone), order(size));
            RawPages::new(NonNull::new(page)?, size)
        };
        if dev.coherent_ok(pages.phys(), size) {
            return Some(pages);
        }
        free_contiguous(dev, pages);
        zone = range_map::fallback_zone(
            zone,
            phys_limit,
            cfg!(CONFIG_ZONE_DMA32),
            cfg!(CONFIG_ZONE_DMA),
        )?;
    }
}

/// Shares the pages decrypted with a device that needs it; `false` when
/// that failed (the pages must then be leaked).
fn set_decrypted(dev: Dev<'_>, pages: &RawPages) -> bool {
    if !dev.force_unencrypted() {
        return true;
    }
    let npages = (page_align(pages.size) >> PAGE_SHIFT) as c_int;
    // SAFETY: The kernel mapping of pages the holder owns.
    unsafe { bindings::set_memory_decrypted(pages.vaddr() as c_ulong, npages) == 0 }
}

/// Encrypts pages again before they are freed; `false` when that failed,
/// and the pages must be leaked rather than reused.
fn set_encrypted(dev: Dev<'_>, pages: &RawPages) -> bool {
    if !dev.force_unencrypted() {
        return true;
    }
    let npages = (page_align(pages.size) >> PAGE_SHIFT) as c_int;
    // SAFETY: The kernel mapping of pages the holder owns.
    if unsafe { bindings::set_memory_encrypted(pages.vaddr() as c_ulong, npages) } != 0 {
        pr_warn!("leaking DMA memory that can't be re-encrypted\n");
        return false;
    }
    true
}

/// Whether an allocation may not sleep, and so must come from an atomic
/// pool if preparing its pages would (`dma_direct_use_pool()`).
fn may_not_sleep(dev: Dev<'_>, gfp: gfp_t) -> bool {
    gfp & GFP_DIRECT_RECLAIM == 0 && !dev.swiotlb_for_alloc()
}

/// Whether an allocation that may not sleep must come from an atomic pool,
/// because making its pages decrypted may sleep.
fn must_use_pool(dev: Dev<'_>, gfp: gfp_t) -> bool {
    dev.force_unencrypted() && may_not_sleep(dev, gfp)
}

/// Takes memory from the atomic pools.
#[allow(
    unused_variables,
    reason = "without CONFIG_DMA_COHERENT_POOL the arguments are unused"
)]
fn alloc_from_pool(
    dev: Dev<'_>,
    size: usize,
    dma: &mut Dma,
    cpu_addr: &mut *mut c_void,
    gfp: gfp_t,
) -> *mut page {
    #[cfg(CONFIG_DMA_COHERENT_POOL)]
    {
        let (zone, _) = optimal_zone(dev);
        // SAFETY: The device is live; `dma_coherent_ok` is the check the
        // pool expects.
        let page = unsafe {
            bindings::dma_alloc_from_pool(
                dev.raw(),
                size,
                cpu_addr,
                gfp | zone_gfp(zone),
                Some(exports::dma_coherent_ok),
            )
        };
        if !page.is_null() {
            *dma = dev.phys_to_dma_direct(page_to_phys(page));
        }
        page
    }
    #[cfg(not(CONFIG_DMA_COHERENT_POOL))]
    {
        kernel::warn_on!(true);
        ptr::null_mut()
    }
}

/// Gives memory back to the atomic pool it came from; `false` if it did
/// not come from one.
///
/// # Safety
///
/// `vaddr` must be the start of an allocation of `size` bytes that the
/// caller owns and gives up if it is the pool's.
#[allow(
    unused_variables,
    reason = "without CONFIG_DMA_COHERENT_POOL the arguments are unused"
)]
unsafe fn free_to_pool(dev: Dev<'_>, vaddr: *mut c_void, size: usize) -> bool {
    #[cfg(CONFIG_DMA_COHERENT_POOL)]
    // SAFETY: The pool frees `vaddr` only if it is one of its own, which
    // the caller gives up.
    return unsafe { bindings::dma_free_from_pool(dev.raw(), vaddr, size) };
    #[cfg(not(CONFIG_DMA_COHERENT_POOL))]
    false
}

/// Coherent allocation (`dma_direct_alloc()`).
pub(crate) fn alloc(
    dev: Dev<'_>,
    size: usize,
    dma: &mut Dma,
    gfp: gfp_t,
    attrs: c_ulong,
) -> *mut c_void {
    let size = page_align(size);
    let mut gfp = gfp;
    if attrs & ATTR_NO_WARN != 0 {
        gfp |= GFP_NOWARN;
    }

    if attrs & ATTR_NO_KERNEL_MAPPING != 0 && !dev.force_unencrypted() && !dev.swiotlb_for_alloc() {
        // The page itself is the cookie the caller gets back.
        let Some(pages) = alloc_pages_raw(dev, size, gfp & !GFP_ZERO) else {
            return ptr::null_mut();
        };
        if !dev.is_coherent() {
            // SAFETY: Pages we own, in the linear map.
            unsafe { arch::prep_coherent(pages.page(), size) };
        }
        *dma = dev.phys_to_dma_direct(pages.phys());
        return pages.into_raw().cast();
    }

    // A device that does not snoop the caches gets an uncached alias,
    // which may sleep to make, as may decrypting.
    let remap = !dev.is_coherent();
    if (remap || dev.force_unencrypted()) && may_not_sleep(dev, gfp) {
        let mut ret = ptr::null_mut();
        let page = alloc_from_pool(dev, size, dma, &mut ret, gfp);
        return if page.is_null() { ptr::null_mut() } else { ret };
    }

    let Some(pages) = alloc_pages_raw(dev, size, gfp & !GFP_ZERO) else {
        return ptr::null_mut();
    };
    if remap {
        return alloc_remapped(dev, pages, dma, attrs);
    }
    if !set_decrypted(dev, &pages) {
        return ptr::null_mut();
    }
    pages.zero();
    *dma = dev.phys_to_dma_direct(pages.phys());
    pages.vaddr()
}

/// The uncached alias of new pages for a non-coherent device, zeroed;
/// frees the pages if it cannot be made.
fn alloc_remapped(dev: Dev<'_>, pages: RawPages, dma: &mut Dma, attrs: c_ulong) -> *mut c_void {
    #[cfg(CONFIG_DMA_DIRECT_REMAP)]
    {
        let size = pages.size;
        // SAFETY: Pure functions of their arguments.
        let mut prot = arch::pgprot(dev, unsafe { bindings::dma_rs_pgprot_kernel() }, attrs);
        if dev.force_unencrypted() {
            // SAFETY: As above.
            prot = unsafe { bindings::dma_rs_pgprot_decrypted(prot) };
        }
        // SAFETY: Pages we own, in the linear map; they stay allocated
        // until `free()` has unmapped their alias.
        let vaddr = unsafe {
            arch::prep_coherent(pages.page(), size);
            arch::remap(pages.page(), size, prot)
        };
        if vaddr.is_null() {
            free_pages_raw(dev, pages);
            return ptr::null_mut();
        }
        // SAFETY: The alias maps the `size` bytes of our pages.
        unsafe { ptr::write_bytes(vaddr.cast::<u8>(), 0, size) };
        *dma = dev.phys_to_dma_direct(pages.phys());
        vaddr
    }
    #[cfg(not(CONFIG_DMA_DIRECT_REMAP))]
    {
        // Kconfig: an architecture with non-coherent devices remaps.
        let _ = (dma, attrs);
        free_pages_raw(dev, pages);
        ptr::null_mut()
    }
}

/// The page behind a DMA address of dma-direct.
fn dma_to_page(dev: Dev<'_>, dma: Dma) -> *mut page {
    pfn_to_page((dev.dma_to_phys(dma) >> PAGE_SHIFT) as c_ulong)
}

/// Frees a coherent allocation (`dma_direct_free()`).
pub(crate) fn free(dev: Dev<'_>, mem: Coherent) {
    let (size, virt) = (mem.size(), mem.virt());
    if mem.attrs() & ATTR_NO_KERNEL_MAPPING != 0
        && !dev.force_unencrypted()
        && !dev.swiotlb_for_alloc()
    {
        // SAFETY: The address of such an allocation is the cookie `alloc()`
        // made of the pages `alloc_pages_raw()` gave, which the holder of
        // the allocation gives up (`Coherent`).
        let pages = unsafe { RawPages::new(NonNull::new_unchecked(virt.cast()), size) };
        free_contiguous(dev, pages);
        return;
    }
    // SAFETY: The allocation's start, which its holder gives up
    // (`Coherent`).
    if unsafe { free_to_pool(dev, virt, page_align(size)) } {
        return;
    }
    // SAFETY: Not from the atomic pool, the allocation is pages that
    // `alloc_pages_raw()` gave, at its DMA address, which the holder gives
    // up (`Coherent`).
    let pages = unsafe { RawPages::new(NonNull::new_unchecked(dma_to_page(dev, mem.dma())), size) };
    // SAFETY: Any address may be tested.
    if unsafe { bindings::is_vmalloc_addr(virt) } {
        // SAFETY: A vmalloc-space allocation of ours is a remapping, which
        // its holder gives up.
        unsafe { bindings::vunmap(virt) };
    } else if !set_encrypted(dev, &pages) {
        return;
    }
    free_pages_raw(dev, pages);
}

/// Allocates pages for streaming use (`dma_direct_alloc_pages()`).
pub(crate) fn alloc_pages(dev: Dev<'_>, size: usize, dma: &mut Dma, gfp: gfp_t) -> *mut page {
    if must_use_pool(dev, gfp) {
        let mut vaddr = ptr::null_mut();
        return alloc_from_pool(dev, size, dma, &mut vaddr, gfp);
    }
    let Some(pages) = alloc_pages_raw(dev, size, gfp) else {
        return ptr::null_mut();
    };
    if !set_decrypted(dev, &pages) {
        return ptr::null_mut();
    }
    pages.zero();
    *dma = dev.phys_to_dma_direct(pages.phys());
    pages.into_raw()
}

/// Frees pages from [`alloc_pages`] (`dma_direct_free_pages()`).
pub(crate) fn free_pages(dev: Dev<'_>, mem: Pages) {
    let size = mem.aligned_size();
    // SAFETY: The allocation's start, which its holder gives up (`Pages`); `Pages` holds
    // pages of the memory map.
    if unsafe { free_to_pool(dev, page_address(mem.page()), size) } {
        return;
    }
    // SAFETY: Not from the atomic pool, the allocation is pages that
    // `alloc_pages_raw()` gave, which the holder gives up (`Pages`).
    let pages = unsafe { RawPages::new(NonNull::new_unchecked(mem.page()), size) };
    if set_encrypted(dev, &pages) {
        free_pages_raw(dev, pages);
    }
}

/// Describes a coherent allocation as a one-entry table
/// (`dma_direct_get_sgtable()`).
pub(crate) fn get_sgtable(dev: Dev<'_>, sgt: &mut bindings::sg_table, mem: Allocation) -> Result {
    let page = dma_to_page(dev, mem.dma());
    // SAFETY: A writable table, which gets one entry.
    to_result(unsafe { bindings::sg_alloc_table(sgt, 1, bindings::GFP_KERNEL) })?;
    // SAFETY: The table has one entry now; the pages are a live allocation
    // of the device (`Allocation`).
    unsafe { bindings::sg_set_page(sgt.sgl, page, page_align(mem.size()) as u32, 0) };
    Ok(())
}

/// Whether dma-direct can map its allocations to user space.
pub(crate) fn can_mmap(dev: Dev<'_>) -> bool {
    dev.is_coherent() || cfg!(CONFIG_DMA_NONCOHERENT_MMAP)
}

/// Maps a coherent allocation to user space (`dma_direct_mmap()`):
/// uncached, or write-combining if `attrs` ask, for a non-coherent device.
pub(crate) fn mmap(dev: Dev<'_>, vma: &mut Vma<'_>, mem: Allocation, attrs: c_ulong) -> Result {
    vma.protect(|prot| arch::pgprot(dev, prot, attrs));
    if dev.force_unencrypted() {
        vma.set_decrypted();
    }
    let mut ret = 0;
    // SAFETY: The device is live, the VMA being set up (`Vma`), and the
    // allocation live (`Allocation`): the helper maps it if it lies in the
    // device's declared coherent region.
    if unsafe {
        bindings::dma_rs_mmap_from_dev_coherent(
            dev.raw(),
            vma.raw(),
            mem.virt(),
            mem.size(),
            &mut ret,
        )
    } != 0
    {
        return to_result(ret);
    }
    if !vma.fits(mem.size()) {
        return Err(ENXIO);
    }
    let pfn = (dev.dma_to_phys(mem.dma()) >> PAGE_SHIFT) as c_ulong;
    // SAFETY: The pages of a live allocation of the device (`Allocation`),
    // which the VMA fits.
    unsafe { vma.remap(pfn) }
}
