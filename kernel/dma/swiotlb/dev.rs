// SPDX-License-Identifier: GPL-2.0-only

//! The device of a swiotlb call: what swiotlb reads of it.

use super::pool::Pool;
use core::marker::PhantomData;
#[cfg(CONFIG_SWIOTLB_DYNAMIC)]
use core::ptr;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::dma::rust_core::{
    Dma,
    Phys, //
};

/// A device, for the length of one swiotlb call.
///
/// # Invariants
///
/// The pointer refers to a `struct device` that stays alive for `'a`: the
/// callers of swiotlb (dma-direct, dma-iommu, xen) hold their device while
/// they map, sync or unmap for it.
#[derive(Clone, Copy)]
pub(crate) struct Dev<'a>(NonNull<bindings::device>, PhantomData<&'a bindings::device>);

impl<'a> Dev<'a> {
    /// Wraps a C device pointer; `None` for NULL.
    ///
    /// # Safety
    ///
    /// `dev` must be NULL or point to a `struct device` that stays alive for
    /// `'a`.
    pub(crate) unsafe fn new(dev: *mut bindings::device) -> Option<Self> {
        // INVARIANT: Alive for `'a`, by the caller's guarantee.
        Some(Dev(NonNull::new(dev)?, PhantomData))
    }

    /// The C pointer.
    pub(crate) fn raw(self) -> *mut bindings::device {
        self.0.as_ptr()
    }

    /// The device, for the reports.
    pub(crate) fn as_ref(self) -> &'a kernel::device::Device {
        // SAFETY: Alive for `'a` (type invariant).
        unsafe { kernel::device::Device::from_raw(self.raw()) }
    }

    /// The pool set the device bounces through, if any. It lives as long
    /// as the device.
    pub(crate) fn mem(self) -> Option<*mut bindings::io_tlb_mem> {
        // SAFETY: The device is alive (type invariant); its pool set is
        // assigned before its driver binds, and is NULL or a set that lives
        // as long as the device.
        let mem = unsafe { (*self.raw()).dma_io_tlb_mem };
        (!mem.is_null()).then_some(mem)
    }

    /// The default pool of the device's set, if it has one with slots.
    pub(crate) fn pool(self) -> Option<Pool<'a>> {
        // SAFETY: A set that lives as long as the device (`mem()`), whose
        // default pool is set up before the set is given to any device,
        // and does not change while it is in use.
        unsafe { Pool::of_mem(self.mem()?) }
    }

    /// Records that the device has bounced, so that its addresses are
    /// looked up in its pools (`dma_uses_io_tlb`), ordered before the
    /// caller hands the address on, as C's `smp_mb()`.
    #[cfg(CONFIG_SWIOTLB_DYNAMIC)]
    pub(crate) fn set_uses_io_tlb(self) {
        // SAFETY: The device is alive (type invariant); the flag is only
        // ever set, as one byte, and read with `READ_ONCE()`.
        unsafe { ptr::write_volatile(ptr::addr_of_mut!((*self.raw()).dma_uses_io_tlb), true) };
        kernel::sync::barrier::smp_mb();
    }

    /// Whether the device snoops the CPU caches (`dev_is_dma_coherent()`).
    pub(crate) fn is_coherent(self) -> bool {
        // SAFETY: The device is alive (type invariant).
        unsafe { kernel::dma::rust_core::arch::dev_is_coherent(self.raw()) }
    }

    /// Low address bits a bounce buffer must keep (`dma_get_min_align_mask()`).
    pub(crate) fn min_align_mask(self) -> u64 {
        // SAFETY: The device is alive (type invariant).
        u64::from(unsafe { bindings::dma_get_min_align_mask(self.raw()) })
    }

    /// The device's segment boundary mask (`dma_get_seg_boundary()`).
    pub(crate) fn seg_boundary(self) -> u64 {
        // SAFETY: The device is alive (type invariant).
        unsafe { bindings::dma_get_seg_boundary(self.raw()) as u64 }
    }

    /// The device's address of bounce memory (`phys_to_dma_unencrypted()`).
    pub(crate) fn phys_to_dma_unencrypted(self, phys: Phys) -> Dma {
        // SAFETY: The device is alive (type invariant).
        unsafe { bindings::phys_to_dma_unencrypted(self.raw(), phys) }
    }

    /// Whether the device reaches `size` bytes at `dma` (`dma_capable()`).
    pub(crate) fn capable(self, dma: Dma, size: usize) -> bool {
        // SAFETY: The device is alive (type invariant).
        unsafe { bindings::dma_capable(self.raw(), dma, size, true) }
    }

    /// Syncs may no longer be skipped: a bounce buffer needs every one.
    pub(crate) fn reset_need_sync(self) {
        // SAFETY: The device is alive (type invariant); the helper changes
        // the flag atomically.
        unsafe { bindings::dma_reset_need_sync(self.raw()) }
    }

    /// The streaming mask and bus limit, for a report.
    pub(crate) fn limits(self) -> (u64, u64) {
        // SAFETY: The device is alive (type invariant); its mask pointer is
        // NULL or points to its mask.
        unsafe {
            let d = self.raw();
            let mask = (*d).dma_mask;
            let mask = if mask.is_null() { 0 } else { mask.read() };
            (mask, (*d).bus_dma_limit)
        }
    }
}
