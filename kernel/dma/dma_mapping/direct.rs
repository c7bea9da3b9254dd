// SPDX-License-Identifier: GPL-2.0-only

//! dma-direct: DMA to memory the device reaches at (a translation of) its
//! physical address, with swiotlb bounce buffers for what it cannot reach.
//!
//! The role of `kernel/dma/direct.c` and `direct.h`. The supported
//! architectures are cache-coherent for DMA (see `dev.rs`), so mapping and
//! syncing move bytes only through swiotlb and never maintain caches.

use super::dev::{
    Dev,
    DMA_MAPPING_ERROR, //
};
use super::range_map::{
    self,
    Zone, //
};
use super::sg;
use super::{
    Dma,
    Phys, //
};
use core::ptr;
use kernel::bindings::{
    self,
    dma_data_direction,
    gfp_t,
    page,
    scatterlist, //
};
use kernel::ffi::{
    c_int,
    c_ulong,
    c_void, //
};
use kernel::prelude::*;

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

/// Maps `size` bytes at `phys` for the device (`dma_direct_map_phys()`).
#[inline(always)]
pub(crate) fn map_phys(
    dev: Dev<'_>,
    phys: Phys,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> Dma {
    if dev.swiotlb_force_bounce() {
        if attrs & ATTR_CC_SHARED == 0 {
            if attrs & (ATTR_MMIO | ATTR_REQUIRE_COHERENT) != 0 {
                return DMA_MAPPING_ERROR;
            }
            return swiotlb_map(dev, phys, size, dir, attrs);
        }
    } else if attrs & ATTR_CC_SHARED != 0 {
        return DMA_MAPPING_ERROR;
    }

    let dma = if attrs & ATTR_MMIO != 0 {
        phys
    } else if attrs & ATTR_CC_SHARED != 0 {
        dev.phys_to_dma_unencrypted(phys)
    } else {
        let dma = dev.phys_to_dma(phys);
        if !dev.capable(dma, size) {
            if attrs & ATTR_REQUIRE_COHERENT == 0 && dev.swiotlb_active() {
                return swiotlb_map(dev, phys, size, dir, attrs);
            }
            report_overflow(dev, dma, size);
            return DMA_MAPPING_ERROR;
        }
        return dma;
    };
    if !dev.capable(dma, size) {
        report_overflow(dev, dma, size);
        return DMA_MAPPING_ERROR;
    }
    dma
}

/// Bounces a mapping through swiotlb.
#[inline(never)]
fn swiotlb_map(
    dev: Dev<'_>,
    phys: Phys,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> Dma {
    #[cfg(CONFIG_SWIOTLB)]
    // SAFETY: The device is live; swiotlb checks the rest.
    return unsafe { bindings::swiotlb_map(dev.raw(), phys, size, dir, attrs) };
    #[cfg(not(CONFIG_SWIOTLB))]
    {
        let _ = (dev, phys, size, dir, attrs);
        DMA_MAPPING_ERROR
    }
}

/// Unmaps a mapping made by [`map_phys`] (`dma_direct_unmap_phys()`),
/// copying a bounce buffer back first unless `DMA_ATTR_SKIP_CPU_SYNC`.
#[inline(always)]
pub(crate) fn unmap_phys(
    dev: Dev<'_>,
    dma: Dma,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) {
    if attrs & (ATTR_MMIO | ATTR_REQUIRE_COHERENT) != 0 {
        return;
    }
    let phys = dev.dma_to_phys(dma);
    let pool = dev.swiotlb_pool(phys);
    if pool.is_null() {
        return;
    }
    #[cfg(CONFIG_SWIOTLB)]
    // SAFETY: `phys` lies in `pool`, a bounce buffer of the device.
    unsafe {
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
pub(crate) fn sync_for_device(dev: Dev<'_>, dma: Dma, size: usize, dir: dma_data_direction) {
    let phys = dev.dma_to_phys(dma);
    let pool = dev.swiotlb_pool(phys);
    if !pool.is_null() {
        #[cfg(CONFIG_SWIOTLB)]
        // SAFETY: `phys` lies in `pool`, a bounce buffer of the device.
        unsafe {
            bindings::__swiotlb_sync_single_for_device(dev.raw(), phys, size, dir, pool)
        };
    }
}

/// Hands a mapping back to the CPU (`dma_direct_sync_single_for_cpu()`).
#[inline(always)]
pub(crate) fn sync_for_cpu(dev: Dev<'_>, dma: Dma, size: usize, dir: dma_data_direction) {
    let phys = dev.dma_to_phys(dma);
    let pool = dev.swiotlb_pool(phys);
    if !pool.is_null() {
        #[cfg(CONFIG_SWIOTLB)]
        // SAFETY: `phys` lies in `pool`, a bounce buffer of the device.
        unsafe {
            bindings::__swiotlb_sync_single_for_cpu(dev.raw(), phys, size, dir, pool)
        };
    }
}

/// Maps each of the first `nents` entries of `sgl`; on failure unmaps
/// what it mapped and returns a negative errno (`dma_direct_map_sg()`).
///
/// # Safety
///
/// `sgl` must be a valid scatterlist of at least `nents` entries that the
/// caller may write.
pub(crate) unsafe fn map_sg(
    dev: Dev<'_>,
    sgl: *mut scatterlist,
    nents: c_int,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> c_int {
    #[cfg(CONFIG_PCI_P2PDMA)]
    // SAFETY: The state is plain data, valid when zeroed, as C starts it.
    let mut p2p: bindings::pci_p2pdma_map_state = unsafe { core::mem::zeroed() };
    // SAFETY: The caller passes a valid scatterlist of `nents` entries.
    for (mapped, entry) in (0..).zip(unsafe { sg::entries(sgl, nents) }) {
        #[cfg(CONFIG_PCI_P2PDMA)]
        // SAFETY: `entry` is a valid entry with a page.
        match unsafe { bindings::pci_p2pdma_state(&mut p2p, dev.raw(), bindings::sg_page(entry)) } {
            bindings::pci_p2pdma_map_type_PCI_P2PDMA_MAP_NONE
            | bindings::pci_p2pdma_map_type_PCI_P2PDMA_MAP_THRU_HOST_BRIDGE => {}
            bindings::pci_p2pdma_map_type_PCI_P2PDMA_MAP_BUS_ADDR => {
                // SAFETY: `entry` is a valid, writable entry; the provider
                // was set by `pci_p2pdma_state()`.
                unsafe {
                    let bus = bindings::pci_p2pdma_bus_addr_map(p2p.mem, sg::phys(entry));
                    sg::set_dma(entry, bus, sg::length(entry));
                    bindings::sg_dma_mark_bus_address(entry);
                }
                continue;
            }
            _ => {
                // SAFETY: The first `mapped` entries are mapped.
                unsafe { unmap_sg(dev, sgl, mapped, dir, attrs | ATTR_SKIP_CPU_SYNC) };
                return -(bindings::EREMOTEIO as c_int);
            }
        }
        // SAFETY: `entry` is a valid entry with a page, writable.
        unsafe {
            let len = sg::length(entry);
            let dma = map_phys(dev, sg::phys(entry), len as usize, dir, attrs);
            if dma == DMA_MAPPING_ERROR {
                (*entry).dma_address = dma;
                unmap_sg(dev, sgl, mapped, dir, attrs | ATTR_SKIP_CPU_SYNC);
                return -(bindings::EIO as c_int);
            }
            sg::set_dma(entry, dma, len);
        }
    }
    nents
}

/// Unmaps the first `nents` entries of a scatterlist mapped by [`map_sg`]
/// (`dma_direct_unmap_sg()`).
///
/// # Safety
///
/// `sgl` must be a valid scatterlist of at least `nents` entries, mapped
/// for the device, that the caller may write.
pub(crate) unsafe fn unmap_sg(
    dev: Dev<'_>,
    sgl: *mut scatterlist,
    nents: c_int,
    dir: dma_data_direction,
    attrs: c_ulong,
) {
    // SAFETY: The caller passes a valid scatterlist of `nents` entries.
    for entry in unsafe { sg::entries(sgl, nents) } {
        // SAFETY: `entry` is a valid, writable entry.
        unsafe {
            if sg::is_bus_address(entry) {
                bindings::sg_dma_unmark_bus_address(entry);
            } else {
                unmap_phys(
                    dev,
                    sg::dma_address(entry),
                    sg::dma_len(entry) as usize,
                    dir,
                    attrs,
                );
            }
        }
    }
}

/// Syncs every entry for the device (`dma_direct_sync_sg_for_device()`).
///
/// # Safety
///
/// `sgl` must be a valid scatterlist of at least `nents` mapped entries.
pub(crate) unsafe fn sync_sg_for_device(
    dev: Dev<'_>,
    sgl: *mut scatterlist,
    nents: c_int,
    dir: dma_data_direction,
) {
    // SAFETY: The caller passes a valid scatterlist of `nents` entries.
    for entry in unsafe { sg::entries(sgl, nents) } {
        // SAFETY: `entry` is a valid entry.
        unsafe { sync_for_device(dev, sg::dma_address(entry), sg::length(entry) as usize, dir) };
    }
}

/// Syncs every entry for the CPU (`dma_direct_sync_sg_for_cpu()`).
///
/// # Safety
///
/// `sgl` must be a valid scatterlist of at least `nents` mapped entries.
pub(crate) unsafe fn sync_sg_for_cpu(
    dev: Dev<'_>,
    sgl: *mut scatterlist,
    nents: c_int,
    dir: dma_data_direction,
) {
    // SAFETY: The caller passes a valid scatterlist of `nents` entries.
    for entry in unsafe { sg::entries(sgl, nents) } {
        // SAFETY: `entry` is a valid entry.
        unsafe { sync_for_cpu(dev, sg::dma_address(entry), sg::length(entry) as usize, dir) };
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

/// Frees pages dma-direct allocated: to the restricted swiotlb pool they
/// came from, or to CMA or the page allocator.
fn free_pages_raw(dev: Dev<'_>, page: *mut page, size: usize) {
    if cfg!(CONFIG_DMA_RESTRICTED_POOL)
        // SAFETY: The device is live; the pages came from `alloc_pages_raw`.
        && unsafe { bindings::dma_rs_swiotlb_free(dev.raw(), page, size) }
    {
        return;
    }
    free_contiguous(dev, page, size);
}

/// Gives pages back to CMA or to the page allocator
/// (`dma_free_contiguous()`).
fn free_contiguous(dev: Dev<'_>, page: *mut page, size: usize) {
    if cfg!(CONFIG_DMA_CMA) {
        // SAFETY: The pages came from `alloc_contiguous` or the page
        // allocator, as CMA's free expects.
        unsafe { bindings::dma_rs_free_contiguous(dev.raw(), page, size) };
    } else {
        // SAFETY: Without CMA the pages came from the page allocator with
        // this order.
        unsafe { bindings::__free_pages(page, order(size)) };
    }
}

/// Pages from the device's CMA area (`dma_alloc_contiguous()`); NULL
/// without CMA.
fn alloc_contiguous(dev: Dev<'_>, size: usize, gfp: gfp_t) -> *mut page {
    if !cfg!(CONFIG_DMA_CMA) {
        return ptr::null_mut();
    }
    // SAFETY: The device is live.
    unsafe { bindings::dma_rs_alloc_contiguous(dev.raw(), size, gfp) }
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
fn alloc_pages_raw(dev: Dev<'_>, size: usize, gfp: gfp_t) -> *mut page {
    if dev.swiotlb_for_alloc() {
        // SAFETY: The device is live.
        let page = unsafe { bindings::dma_rs_swiotlb_alloc(dev.raw(), size) };
        if !page.is_null() && !dev.coherent_ok(page_to_phys(page), size) {
            // SAFETY: The page came from the device's restricted pool.
            unsafe { bindings::dma_rs_swiotlb_free(dev.raw(), page, size) };
            return ptr::null_mut();
        }
        return page;
    }

    let (mut zone, phys_limit) = optimal_zone(dev);
    let gfp = gfp & !(GFP_DMA | GFP_DMA32);
    let page = alloc_contiguous(dev, size, gfp | zone_gfp(zone));
    if !page.is_null() {
        if dev.coherent_ok(page_to_phys(page), size) {
            return page;
        }
        free_contiguous(dev, page, size);
    }

    let node = dev_node(dev);
    loop {
        // SAFETY: Valid node and flags.
        let page = unsafe { bindings::alloc_pages_node(node, gfp | zone_gfp(zone), order(size)) };
        if page.is_null() {
            return page;
        }
        if dev.coherent_ok(page_to_phys(page), size) {
            return page;
        }
        // SAFETY: The page came from `alloc_pages_node()` with this order.
        unsafe { bindings::__free_pages(page, order(size)) };
        match range_map::fallback_zone(
            zone,
            phys_limit,
            cfg!(CONFIG_ZONE_DMA32),
            cfg!(CONFIG_ZONE_DMA),
        ) {
            Some(lower) => zone = lower,
            None => return ptr::null_mut(),
        }
    }
}

/// Shares the pages at `vaddr` decrypted with a device that needs it;
/// `false` when that failed (the pages must then be leaked).
fn set_decrypted(dev: Dev<'_>, vaddr: *mut c_void, size: usize) -> bool {
    if !dev.force_unencrypted() {
        return true;
    }
    // SAFETY: `vaddr` is the kernel mapping of `size` bytes we own.
    unsafe {
        bindings::set_memory_decrypted(vaddr as c_ulong, (page_align(size) >> PAGE_SHIFT) as c_int)
            == 0
    }
}

/// Encrypts pages again before they are freed; `false` when that failed,
/// and the pages must be leaked rather than reused.
fn set_encrypted(dev: Dev<'_>, vaddr: *mut c_void, size: usize) -> bool {
    if !dev.force_unencrypted() {
        return true;
    }
    // SAFETY: `vaddr` is the kernel mapping of `size` bytes we own.
    let ret = unsafe {
        bindings::set_memory_encrypted(vaddr as c_ulong, (page_align(size) >> PAGE_SHIFT) as c_int)
    };
    if ret != 0 {
        pr_warn!("leaking DMA memory that can't be re-encrypted\n");
        return false;
    }
    true
}

/// Whether an allocation that may not sleep must come from an atomic pool,
/// because making its pages decrypted may sleep.
fn must_use_pool(dev: Dev<'_>, gfp: gfp_t) -> bool {
    dev.force_unencrypted() && gfp & GFP_DIRECT_RECLAIM == 0 && !dev.swiotlb_for_alloc()
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
        return page;
    }
    #[cfg(not(CONFIG_DMA_COHERENT_POOL))]
    {
        kernel::warn_on!(true);
        ptr::null_mut()
    }
}

/// Gives memory back to the atomic pool it came from; `false` if it did
/// not come from one.
#[allow(
    unused_variables,
    reason = "without CONFIG_DMA_COHERENT_POOL the arguments are unused"
)]
fn free_to_pool(dev: Dev<'_>, vaddr: *mut c_void, size: usize) -> bool {
    #[cfg(CONFIG_DMA_COHERENT_POOL)]
    // SAFETY: The pool checks whether `vaddr` is one of its own.
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
        let page = alloc_pages_raw(dev, size, gfp & !GFP_ZERO);
        if page.is_null() {
            return ptr::null_mut();
        }
        *dma = dev.phys_to_dma_direct(page_to_phys(page));
        return page.cast();
    }

    if must_use_pool(dev, gfp) {
        let mut ret = ptr::null_mut();
        let page = alloc_from_pool(dev, size, dma, &mut ret, gfp);
        return if page.is_null() { ptr::null_mut() } else { ret };
    }

    let page = alloc_pages_raw(dev, size, gfp & !GFP_ZERO);
    if page.is_null() {
        return ptr::null_mut();
    }
    let vaddr = page_address(page);
    if !set_decrypted(dev, vaddr, size) {
        return ptr::null_mut();
    }
    // SAFETY: `vaddr` maps the `size` bytes just allocated.
    unsafe { ptr::write_bytes(vaddr.cast::<u8>(), 0, size) };
    *dma = dev.phys_to_dma_direct(page_to_phys(page));
    vaddr
}

/// The page behind a DMA address of dma-direct.
fn dma_to_page(dev: Dev<'_>, dma: Dma) -> *mut page {
    pfn_to_page((dev.dma_to_phys(dma) >> PAGE_SHIFT) as c_ulong)
}

/// Frees a coherent allocation (`dma_direct_free()`).
pub(crate) fn free(dev: Dev<'_>, size: usize, cpu_addr: *mut c_void, dma: Dma, attrs: c_ulong) {
    if attrs & ATTR_NO_KERNEL_MAPPING != 0 && !dev.force_unencrypted() && !dev.swiotlb_for_alloc() {
        // `cpu_addr` is the page cookie `alloc` returned.
        free_contiguous(dev, cpu_addr.cast(), size);
        return;
    }
    if free_to_pool(dev, cpu_addr, page_align(size)) {
        return;
    }
    // SAFETY: Any address may be tested.
    if unsafe { bindings::is_vmalloc_addr(cpu_addr) } {
        // SAFETY: A vmalloc-space allocation of ours is a remapping.
        unsafe { bindings::vunmap(cpu_addr) };
    } else if !set_encrypted(dev, cpu_addr, size) {
        return;
    }
    free_pages_raw(dev, dma_to_page(dev, dma), size);
}

/// Allocates pages for streaming use (`dma_direct_alloc_pages()`).
pub(crate) fn alloc_pages(dev: Dev<'_>, size: usize, dma: &mut Dma, gfp: gfp_t) -> *mut page {
    if must_use_pool(dev, gfp) {
        let mut vaddr = ptr::null_mut();
        return alloc_from_pool(dev, size, dma, &mut vaddr, gfp);
    }
    let page = alloc_pages_raw(dev, size, gfp);
    if page.is_null() {
        return page;
    }
    let vaddr = page_address(page);
    if !set_decrypted(dev, vaddr, size) {
        return ptr::null_mut();
    }
    // SAFETY: `vaddr` maps the `size` bytes just allocated.
    unsafe { ptr::write_bytes(vaddr.cast::<u8>(), 0, size) };
    *dma = dev.phys_to_dma_direct(page_to_phys(page));
    page
}

/// Frees pages from [`alloc_pages`] (`dma_direct_free_pages()`).
pub(crate) fn free_pages(dev: Dev<'_>, size: usize, page: *mut page) {
    let vaddr = page_address(page);
    if free_to_pool(dev, vaddr, size) || !set_encrypted(dev, vaddr, size) {
        return;
    }
    free_pages_raw(dev, page, size);
}

/// Describes a coherent allocation as a one-entry table
/// (`dma_direct_get_sgtable()`).
///
/// # Safety
///
/// `sgt` must be a writable, unused table.
pub(crate) unsafe fn get_sgtable(
    dev: Dev<'_>,
    sgt: *mut bindings::sg_table,
    dma: Dma,
    size: usize,
) -> c_int {
    let page = dma_to_page(dev, dma);
    // SAFETY: The caller passes a writable table.
    let ret = unsafe { bindings::sg_alloc_table(sgt, 1, bindings::GFP_KERNEL) };
    if ret == 0 {
        // SAFETY: The table has one entry now.
        unsafe { bindings::sg_set_page((*sgt).sgl, page, page_align(size) as u32, 0) };
    }
    ret
}

/// Whether dma-direct can map its allocations to user space.
pub(crate) fn can_mmap(dev: Dev<'_>) -> bool {
    dev.is_coherent() || cfg!(CONFIG_DMA_NONCOHERENT_MMAP)
}

/// Whether a user mapping of `vma` fits a buffer of `size` bytes.
///
/// # Safety
///
/// `vma` must be a valid VMA.
pub(crate) unsafe fn vma_fits(vma: *mut bindings::vm_area_struct, size: usize) -> bool {
    // SAFETY: The caller passes a valid VMA.
    let (start, end, pgoff) = unsafe {
        let range = (*vma).__bindgen_anon_1.__bindgen_anon_1;
        (range.vm_start, range.vm_end, (*vma).vm_pgoff)
    };
    let pages = ((end - start) >> PAGE_SHIFT) as u64;
    range_map::mmap_fits(pgoff as u64, pages, (page_align(size) >> PAGE_SHIFT) as u64)
}

/// Maps `pfn` and the pages after it, from the VMA's page offset on, into
/// the whole VMA.
///
/// # Safety
///
/// `vma` must be a valid VMA being set up by its mmap handler, and the
/// caller must have checked that it fits the buffer.
pub(crate) unsafe fn remap(vma: *mut bindings::vm_area_struct, pfn: c_ulong) -> c_int {
    // SAFETY: The caller passes a valid VMA.
    unsafe {
        let range = (*vma).__bindgen_anon_1.__bindgen_anon_1;
        bindings::remap_pfn_range(
            vma,
            range.vm_start,
            pfn + (*vma).vm_pgoff,
            range.vm_end - range.vm_start,
            (*vma).vm_page_prot,
        )
    }
}

/// Maps a coherent allocation to user space (`dma_direct_mmap()`).
///
/// # Safety
///
/// `vma` must be a valid VMA being set up by its mmap handler.
pub(crate) unsafe fn mmap(
    dev: Dev<'_>,
    vma: *mut bindings::vm_area_struct,
    cpu_addr: *mut c_void,
    dma: Dma,
    size: usize,
) -> c_int {
    if dev.force_unencrypted() {
        // SAFETY: The caller passes a valid VMA.
        unsafe { (*vma).vm_page_prot = bindings::dma_rs_pgprot_decrypted((*vma).vm_page_prot) };
    }
    let mut ret = -(bindings::ENXIO as c_int);
    // SAFETY: The device is live, the VMA valid.
    if unsafe { bindings::dma_rs_mmap_from_dev_coherent(dev.raw(), vma, cpu_addr, size, &mut ret) }
        != 0
    {
        return ret;
    }
    // SAFETY: The caller passes a valid VMA.
    if !unsafe { vma_fits(vma, size) } {
        return -(bindings::ENXIO as c_int);
    }
    let pfn = (dev.dma_to_phys(dma) >> PAGE_SHIFT) as c_ulong;
    // SAFETY: The VMA is valid and fits the allocation.
    unsafe { remap(vma, pfn) }
}

/// The exported functions of `direct.c` that IOMMU drivers and
/// architecture code call. C links to them by name, so `pub` is what makes
/// them reachable.
pub mod exports;
