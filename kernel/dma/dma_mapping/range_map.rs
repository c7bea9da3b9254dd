// SPDX-License-Identifier: GPL-2.0

//! Address translation and the arithmetic of dma-direct.
//!
//! Pure logic that uses only `core`: it is built into the kernel and also
//! compiled and tested on the host (`tools/testing/dma`).
//!
//! A device whose bus sees memory at other addresses than the CPU does has a
//! range map: a list of regions, each a CPU start, a DMA start and a size.
//! The kernel ends that list with a region of size zero; here a map is the
//! slice of the regions before it.

use super::mask::range_is_capable;

/// The all-ones DMA address that marks a failed mapping (`DMA_MAPPING_ERROR`).
pub(crate) const MAPPING_ERROR: u64 = u64::MAX;

/// The physical address that marks a DMA address outside every region.
pub(crate) const NO_PHYS: u64 = u64::MAX;

/// One region of a device's range map (`struct bus_dma_region`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Region {
    /// First CPU physical address of the region.
    pub(crate) cpu_start: u64,
    /// The DMA address the device uses for `cpu_start`.
    pub(crate) dma_start: u64,
    /// Length in bytes; zero ends a map.
    pub(crate) size: u64,
}

/// The DMA address of the CPU physical address `phys`, or
/// [`MAPPING_ERROR`] when no region holds it, so that a capability check
/// fails.
pub(crate) fn phys_to_dma(map: &[Region], phys: u64) -> u64 {
    for r in map {
        let offset = phys.wrapping_sub(r.cpu_start);
        if phys >= r.cpu_start && offset < r.size {
            return r.dma_start.wrapping_add(offset);
        }
    }
    MAPPING_ERROR
}

/// The CPU physical address of the DMA address `dma`, or [`NO_PHYS`] when
/// no region holds it.
pub(crate) fn dma_to_phys(map: &[Region], dma: u64) -> u64 {
    for r in map {
        let offset = dma.wrapping_sub(r.dma_start);
        if dma >= r.dma_start && offset < r.size {
            return r.cpu_start.wrapping_add(offset);
        }
    }
    NO_PHYS
}

/// The region that holds page frame `pfn`, by whole pages, as dma-direct
/// looks regions up when it checks that all RAM is mapped.
pub(crate) fn find_region_by_pfn(map: &[Region], pfn: u64, page_shift: u32) -> Option<&Region> {
    map.iter().find(|r| {
        let start = r.cpu_start >> page_shift;
        let pages = r.size >> page_shift;
        pages != 0 && pfn >= start && pfn - start < pages
    })
}

/// Whether every page frame in `start_pfn..end_pfn` lies in some region of
/// `map` (compared by whole pages).
pub(crate) fn pfns_covered(
    map: &[Region],
    mut start_pfn: u64,
    end_pfn: u64,
    page_shift: u32,
) -> bool {
    while start_pfn < end_pfn {
        match find_region_by_pfn(map, start_pfn, page_shift) {
            Some(r) => start_pfn = (r.cpu_start >> page_shift) + (r.size >> page_shift),
            None => return false,
        }
    }
    true
}

/// Whether a device can reach `size` bytes at DMA address `dma`, given its
/// mask and bus limit (`dma_capable()` and `dma_coherent_ok()` on a 64-bit
/// `dma_addr_t`).
///
/// The failed-mapping address is never capable, and neither is a range
/// that wraps past the end of the address space (C lets such a range
/// through).
pub(crate) fn capable(dma: u64, size: u64, mask: u64, bus_limit: u64) -> bool {
    dma != MAPPING_ERROR && range_is_capable(dma, size, mask, bus_limit)
}

/// The memory zone that page allocations for a coherent limit start from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Zone {
    /// `ZONE_DMA` (`GFP_DMA`).
    Dma,
    /// `ZONE_DMA32` (`GFP_DMA32`).
    Dma32,
    /// Any zone.
    Normal,
}

/// The zone to try first for memory below the physical limit `phys_limit`,
/// with `ZONE_DMA` ending at `zone_dma_limit`.
pub(crate) fn optimal_zone(phys_limit: u64, zone_dma_limit: u64) -> Zone {
    if phys_limit <= zone_dma_limit {
        Zone::Dma
    } else if phys_limit <= u64::from(u32::MAX) {
        Zone::Dma32
    } else {
        Zone::Normal
    }
}

/// The zone to retry in after memory from `current` was out of reach, or
/// `None` when there is no lower zone to try. `has_dma32` and `has_dma` say
/// which zones the kernel has.
pub(crate) fn fallback_zone(
    current: Zone,
    phys_limit: u64,
    has_dma32: bool,
    has_dma: bool,
) -> Option<Zone> {
    if has_dma32 && phys_limit < u64::MAX && current == Zone::Normal {
        Some(Zone::Dma32)
    } else if has_dma && current != Zone::Dma {
        Some(Zone::Dma)
    } else {
        None
    }
}

/// The page order of an allocation of `size` bytes (`get_order()`): the
/// smallest `order` with `size <= PAGE_SIZE << order`; 0 for sizes up to a
/// page, including 0.
pub(crate) fn order_of(size: u64, page_shift: u32) -> u32 {
    if size <= 1 << page_shift {
        return 0;
    }
    let pages = (size - 1) >> page_shift;
    64 - pages.leading_zeros()
}

/// `size` rounded up to whole pages, saturating at the largest page-aligned
/// value.
pub(crate) fn page_align(size: u64, page_shift: u32) -> u64 {
    let mask = (1u64 << page_shift) - 1;
    match size.checked_add(mask) {
        Some(s) => s & !mask,
        None => !mask,
    }
}

/// Whether a user mapping of `vma_pages` pages at page offset `pgoff` fits
/// in a buffer of `buffer_pages` pages, as every DMA mmap checks.
pub(crate) fn mmap_fits(pgoff: u64, vma_pages: u64, buffer_pages: u64) -> bool {
    pgoff < buffer_pages && vma_pages <= buffer_pages - pgoff
}

/// Whether `err` is one of the errors `map_sg` may return: `-EINVAL`,
/// `-ENOMEM`, `-EIO` and `-EREMOTEIO`. Anything else is a backend's bug.
pub(crate) fn map_sg_error_is_valid(err: i32) -> bool {
    [ERRNO_EINVAL, ERRNO_ENOMEM, ERRNO_EIO, ERRNO_EREMOTEIO]
        .iter()
        .any(|&e| err == -e)
}

/// The errnos `map_sg` may return. This module uses only `core`, so they are
/// spelled out here; the kernel build checks them against `bindings`.
pub(crate) const ERRNO_EIO: i32 = 5;
/// See [`ERRNO_EIO`].
pub(crate) const ERRNO_ENOMEM: i32 = 12;
/// See [`ERRNO_EIO`].
pub(crate) const ERRNO_EINVAL: i32 = 22;
/// See [`ERRNO_EIO`].
pub(crate) const ERRNO_EREMOTEIO: i32 = 121;
