// SPDX-License-Identifier: GPL-2.0-only

//! The DMA view of a `struct device`: its masks, flags, range map, swiotlb
//! pool and address translation.
//!
//! The fast paths read the fields C's inline helpers read, so that a map or
//! a sync makes no call for them. Whether the device snoops the CPU caches
//! is a constant on x86-64 and the device's flag on arm64 (see
//! `rust_core::arch` and `Kconfig.rust`).

use super::range_map::{
    self,
    Region,
    MAPPING_ERROR, //
};
use core::marker::PhantomData;
use core::ptr::{
    self,
    NonNull, //
};
use core::sync::atomic::{
    AtomicU64,
    Ordering::Relaxed, //
};
use kernel::bindings;
use kernel::dma::rust_core::{
    Dma,
    Phys, //
};
use kernel::prelude::*;

// A region of the kernel's range map has the layout of `Region`, field by field.
const _: () = {
    use core::mem::{
        offset_of,
        size_of, //
    };
    type C = bindings::bus_dma_region;
    assert!(size_of::<C>() == size_of::<Region>());
    assert!(offset_of!(C, cpu_start) == offset_of!(Region, cpu_start));
    assert!(offset_of!(C, dma_start) == offset_of!(Region, dma_start));
    assert!(offset_of!(C, size) == offset_of!(Region, size));
};

/// A device as the DMA core sees it, for the length of one DMA API call.
///
/// # Invariants
///
/// The pointer refers to a `struct device` that stays alive for `'a`. The
/// C API's contract gives this for the device of a call, for the call: the
/// caller holds a reference to its device while it calls the DMA API.
#[derive(Clone, Copy)]
pub(crate) struct Dev<'a>(NonNull<bindings::device>, PhantomData<&'a bindings::device>);

impl<'a> Dev<'a> {
    /// Wraps a C device pointer.
    ///
    /// # Safety
    ///
    /// `dev` must be non-NULL and point to a `struct device` that stays
    /// alive for `'a`.
    #[inline(always)]
    pub(crate) unsafe fn new(dev: *mut bindings::device) -> Self {
        // INVARIANT: The caller keeps the device alive for `'a`.
        // SAFETY: A pointer to a device is not NULL.
        Dev(unsafe { NonNull::new_unchecked(dev) }, PhantomData)
    }

    /// The C pointer, for the C functions that take the device.
    #[inline(always)]
    pub(crate) fn raw(self) -> *mut bindings::device {
        self.0.as_ptr()
    }

    /// Whether the device's flag number `bit` is set (`dev_<flag>()`).
    #[inline(always)]
    fn flag(self, bit: u32) -> bool {
        // SAFETY: By the type invariant the device is live; the flags word is read
        // once, as `test_bit()` does, and writers change it atomically.
        let word = unsafe { ptr::read_volatile(ptr::addr_of!((*self.raw()).flags[0])) };
        word & (1 << bit) != 0
    }

    /// Whether the IOMMU DMA layer handles the device (`use_dma_iommu()`).
    #[inline(always)]
    pub(crate) fn uses_iommu(self) -> bool {
        cfg!(CONFIG_IOMMU_DMA) && self.flag(bindings::struct_device_flags_DEV_FLAG_DMA_IOMMU)
    }

    /// Whether the device's dma_map_ops are bypassed for direct mapping.
    #[inline(always)]
    pub(crate) fn ops_bypass(self) -> bool {
        cfg!(CONFIG_DMA_OPS_BYPASS)
            && self.flag(bindings::struct_device_flags_DEV_FLAG_DMA_OPS_BYPASS)
    }

    /// Whether sync operations can be skipped (`dev_dma_skip_sync()`).
    #[inline(always)]
    pub(crate) fn skip_sync(self) -> bool {
        cfg!(CONFIG_DMA_NEED_SYNC)
            && self.flag(bindings::struct_device_flags_DEV_FLAG_DMA_SKIP_SYNC)
    }

    /// Sets or clears the skip-sync flag.
    pub(crate) fn set_skip_sync(self, skip: bool) {
        if cfg!(CONFIG_DMA_NEED_SYNC) {
            // SAFETY: By the type invariant the device is live; the helper changes the bit
            // atomically.
            unsafe { bindings::dev_assign_dma_skip_sync(self.raw(), skip) };
        }
    }

    /// Whether the device snoops the CPU caches (`dev_is_dma_coherent()`):
    /// always where the architecture has no cache maintenance for DMA
    /// (x86-64), and as firmware described the device elsewhere (arm64).
    #[inline(always)]
    pub(crate) fn is_coherent(self) -> bool {
        // SAFETY: By the type invariant the device is live.
        unsafe { kernel::dma::rust_core::arch::dev_is_coherent(self.raw()) }
    }

    /// The device's legacy DMA operations, if it has any (`get_dma_ops()`).
    #[inline(always)]
    pub(crate) fn ops(self) -> Option<&'a bindings::dma_map_ops> {
        if !cfg!(CONFIG_ARCH_HAS_DMA_OPS) {
            return None;
        }
        // SAFETY: By the type invariant the device is live; its operations
        // table, if any, lives at least as long as it.
        unsafe { bindings::get_dma_ops(self.raw()).as_ref() }
    }

    /// Whether the device has a streaming mask at all.
    #[inline(always)]
    pub(crate) fn has_dma_mask(self) -> bool {
        // SAFETY: By the type invariant the device is live.
        !unsafe { (*self.raw()).dma_mask }.is_null()
    }

    /// The streaming DMA mask, or 0 when the device has none.
    #[inline(always)]
    pub(crate) fn dma_mask(self) -> u64 {
        // SAFETY: By the type invariant the device is live; its mask pointer
        // is NULL or points to its aligned mask, which lives as long as the
        // device. The mask is read as one word, as `dma_set_mask()` on
        // another CPU writes it.
        unsafe {
            let slot = (*self.raw()).dma_mask;
            if slot.is_null() {
                return 0;
            }
            AtomicU64::from_ptr(slot).load(Relaxed)
        }
    }

    /// Stores a new streaming mask; `EIO` when the device has no mask to
    /// store it in.
    pub(crate) fn store_dma_mask(self, mask: u64) -> Result {
        // SAFETY: By the type invariant the device is live.
        let slot = unsafe { (*self.raw()).dma_mask };
        if slot.is_null() {
            return Err(EIO);
        }
        // SAFETY: A device's mask pointer, once set, points to its aligned
        // mask, which lives as long as the device; it is written as one
        // word, as the fast paths read it.
        unsafe { AtomicU64::from_ptr(slot).store(mask, Relaxed) };
        Ok(())
    }

    /// The coherent DMA mask.
    #[inline(always)]
    pub(crate) fn coherent_mask(self) -> u64 {
        // SAFETY: By the type invariant the device is live; the mask is
        // read as one word, as `dma_set_coherent_mask()` writes it.
        unsafe { AtomicU64::from_ptr(ptr::addr_of_mut!((*self.raw()).coherent_dma_mask)) }
            .load(Relaxed)
    }

    /// Stores a new coherent mask.
    pub(crate) fn store_coherent_mask(self, mask: u64) {
        // SAFETY: By the type invariant the device is live; the mask is
        // written as one word, as the other paths read it.
        unsafe { AtomicU64::from_ptr(ptr::addr_of_mut!((*self.raw()).coherent_dma_mask)) }
            .store(mask, Relaxed);
    }

    /// The limit the bus puts on DMA addresses, 0 for none.
    #[inline(always)]
    pub(crate) fn bus_limit(self) -> u64 {
        // SAFETY: By the type invariant the device is live.
        unsafe { (*self.raw()).bus_dma_limit }
    }

    /// The device's range map, empty when bus and CPU addresses agree.
    #[inline(always)]
    pub(crate) fn range_map(self) -> &'a [Region] {
        // SAFETY: By the type invariant the device is live; its range map, if any, is an array
        // ended by a region of size 0, set up before drivers bind and not
        // changed while the device has mappings.
        unsafe {
            let map = (*self.raw()).dma_range_map.cast::<Region>();
            if map.is_null() {
                return &[];
            }
            let mut n = 0;
            while (*map.add(n)).size != 0 {
                n += 1;
            }
            core::slice::from_raw_parts(map, n)
        }
    }

    /// Whether the device has a range map.
    #[inline(always)]
    fn has_range_map(self) -> bool {
        // SAFETY: By the type invariant the device is live.
        !unsafe { (*self.raw()).dma_range_map }.is_null()
    }

    /// The bus address of `phys` before memory encryption is applied.
    #[inline(always)]
    fn bus_addr(self, phys: Phys) -> Dma {
        if self.has_range_map() {
            range_map::phys_to_dma(self.range_map(), phys)
        } else {
            phys
        }
    }

    /// The DMA address of `phys` in encrypted memory (`phys_to_dma()`).
    #[inline(always)]
    pub(crate) fn phys_to_dma(self, phys: Phys) -> Dma {
        encrypted(self.bus_addr(phys))
    }

    /// The DMA address of `phys` in unencrypted memory
    /// (`phys_to_dma_unencrypted()`).
    #[inline(always)]
    pub(crate) fn phys_to_dma_unencrypted(self, phys: Phys) -> Dma {
        unencrypted(self.bus_addr(phys))
    }

    /// The DMA address dma-direct gives `phys`: unencrypted when the
    /// device must see decrypted memory.
    #[inline(always)]
    pub(crate) fn phys_to_dma_direct(self, phys: Phys) -> Dma {
        if self.force_unencrypted() {
            self.phys_to_dma_unencrypted(phys)
        } else {
            self.phys_to_dma(phys)
        }
    }

    /// The CPU physical address of a DMA address (`dma_to_phys()`).
    #[inline(always)]
    pub(crate) fn dma_to_phys(self, dma: Dma) -> Phys {
        let dma = canonical(dma);
        if self.has_range_map() {
            range_map::dma_to_phys(self.range_map(), dma)
        } else {
            dma
        }
    }

    /// Whether the device can reach `size` bytes at `dma` with its
    /// streaming mask (`dma_capable()`; `dma_addr_t` is 64-bit).
    #[inline(always)]
    pub(crate) fn capable(self, dma: Dma, size: usize) -> bool {
        range_map::capable(dma, size as u64, self.dma_mask(), self.bus_limit())
    }

    /// Whether `size` bytes at `phys` are within the coherent mask
    /// (`dma_coherent_ok()`).
    pub(crate) fn coherent_ok(self, phys: Phys, size: usize) -> bool {
        range_map::capable(
            self.phys_to_dma_direct(phys),
            size as u64,
            self.coherent_mask(),
            self.bus_limit(),
        )
    }

    /// Whether the device's memory must be shared decrypted with it
    /// (`force_dma_unencrypted()`).
    #[inline(always)]
    pub(crate) fn force_unencrypted(self) -> bool {
        // SAFETY: By the type invariant the device is live.
        cfg!(CONFIG_ARCH_HAS_FORCE_DMA_UNENCRYPTED)
            && unsafe { bindings::dma_rs_force_unencrypted(self.raw()) }
    }

    /// The device's swiotlb pool set, if any.
    #[inline(always)]
    ///
    /// A raw pointer: swiotlb changes some of the pool set's fields (its
    /// counters, its dynamic pools) while it is in use, so no reference to
    /// it is made; the fields read here are set before the device's first
    /// mapping and kept.
    fn io_tlb_mem(self) -> Option<NonNull<bindings::io_tlb_mem>> {
        if !cfg!(CONFIG_SWIOTLB) {
            return None;
        }
        // SAFETY: By the type invariant the device is live.
        NonNull::new(unsafe { (*self.raw()).dma_io_tlb_mem })
    }

    /// Whether every streaming mapping must bounce (`swiotlb=force` or a
    /// restricted pool): `is_swiotlb_force_bounce()`.
    #[inline(always)]
    pub(crate) fn swiotlb_force_bounce(self) -> bool {
        // SAFETY: A device's swiotlb memory lives as long as the device;
        // `force_bounce` is set before its first mapping.
        self.io_tlb_mem()
            .is_some_and(|mem| unsafe { ptr::addr_of!((*mem.as_ptr()).force_bounce).read() })
    }

    /// Whether the device has a usable swiotlb (`is_swiotlb_active()`).
    pub(crate) fn swiotlb_active(self) -> bool {
        // SAFETY: By the type invariant the device is live.
        cfg!(CONFIG_SWIOTLB) && unsafe { bindings::dma_rs_is_swiotlb_active(self.raw()) }
    }

    /// Whether coherent allocations come from a restricted swiotlb pool.
    pub(crate) fn swiotlb_for_alloc(self) -> bool {
        // SAFETY: By the type invariant the device is live.
        cfg!(CONFIG_DMA_RESTRICTED_POOL) && unsafe { bindings::is_swiotlb_for_alloc(self.raw()) }
    }

    /// The swiotlb pool that holds `phys`, or NULL when `phys` is not a
    /// bounce buffer (`swiotlb_find_pool()`).
    #[inline(always)]
    pub(crate) fn swiotlb_pool(self, phys: Phys) -> *mut bindings::io_tlb_pool {
        let Some(mem) = self.io_tlb_mem() else {
            return ptr::null_mut();
        };
        if cfg!(CONFIG_SWIOTLB_DYNAMIC) {
            // SAFETY: By the type invariant the device is live; the helper orders its reads as
            // the dynamic pools require.
            return unsafe { bindings::swiotlb_find_pool(self.raw(), phys) };
        }
        // SAFETY: A device's swiotlb memory lives as long as the device; the
        // default pool's bounds are set before its first mapping.
        unsafe {
            let pool = ptr::addr_of_mut!((*mem.as_ptr()).defpool);
            let (start, end) = ((*pool).start, (*pool).end);
            if phys >= start && phys < end {
                pool
            } else {
                ptr::null_mut()
            }
        }
    }

    /// The device, for the reports (`dev_err!()` and the like).
    pub(crate) fn as_ref(self) -> &'a kernel::device::Device {
        // SAFETY: By the type invariant the device is alive for `'a`.
        unsafe { kernel::device::Device::from_raw(self.raw()) }
    }
}

/// Whether `dma_addr_encrypted()` and its two siblings can be other than
/// the identity: on architectures that encrypt memory, except x86 without
/// AMD's memory encryption.
const ENCRYPTS: bool =
    cfg!(CONFIG_ARCH_HAS_MEM_ENCRYPT) && (cfg!(CONFIG_AMD_MEM_ENCRYPT) || !cfg!(CONFIG_X86));

/// `dma_addr_encrypted()`: the identity unless the architecture encrypts
/// memory.
#[inline(always)]
fn encrypted(addr: Dma) -> Dma {
    if ENCRYPTS {
        // SAFETY: A pure function of its argument.
        unsafe { bindings::dma_rs_addr_encrypted(addr) }
    } else {
        addr
    }
}

/// `dma_addr_unencrypted()`.
#[inline(always)]
fn unencrypted(addr: Dma) -> Dma {
    if ENCRYPTS {
        // SAFETY: A pure function of its argument.
        unsafe { bindings::dma_rs_addr_unencrypted(addr) }
    } else {
        addr
    }
}

/// `dma_addr_canonical()`.
#[inline(always)]
fn canonical(addr: Dma) -> Dma {
    if ENCRYPTS {
        // SAFETY: A pure function of its argument.
        unsafe { bindings::dma_rs_addr_canonical(addr) }
    } else {
        addr
    }
}

/// The failed-mapping address.
pub(crate) const DMA_MAPPING_ERROR: Dma = MAPPING_ERROR;
