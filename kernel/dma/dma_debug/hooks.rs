// SPDX-License-Identifier: GPL-2.0-only

//! The hooks of `kernel/dma/debug.h`, which the mapping core (C or Rust)
//! calls on every DMA API call.

use super::checks::{
    add,
    check_for_illegal_area,
    check_for_stack,
    check_sg_segment,
    check_sync,
    check_unmap,
    linear,
    mapped_entries,
    track,
    valid_kernel_addr,
    virt_to_phys, //
};
use super::entry::{
    Kind,
    MapErr,
    Record, //
};
use super::hash::lock_bucket;
use super::records::Origin;
use super::report::report;
use super::{
    disabled,
    entry,
    ATTR_MMIO,
    DMA_MAPPING_ERROR,
    PAGE_SHIFT, //
};
use kernel::bindings::{
    self,
    device,
    scatterlist, //
};
use kernel::dma::rust_core::{
    mem,
    sg,
    Dma,
    Phys, //
};
use kernel::ffi::{
    c_int,
    c_ulong,
    c_void, //
};
use kernel::prelude::*;

/// The checks of [`debug_dma_map_single`], out of line so that the hook
/// costs a test while dma-debug is off.
#[inline(never)]
pub(super) fn check_single(dev: *mut device, addr: *const c_void, len: c_ulong) {
    // SAFETY: Address tests only.
    if !unsafe { bindings::__virt_addr_valid(addr as c_ulong) } {
        report(
            dev,
            None,
            format_args!(
                "device driver maps memory from invalid area [addr={:p}] [len={}]\n",
                addr, len
            ),
        );
    }
    // SAFETY: Address test only.
    if unsafe { bindings::is_vmalloc_addr(addr) } {
        report(
            dev,
            None,
            format_args!(
                "device driver maps memory from vmalloc area [addr={:p}] [len={}]\n",
                addr, len
            ),
        );
    }
}

/// The work of [`debug_dma_map_phys`], out of line.
#[inline(never)]
pub(super) fn map_phys_tracked(
    dev: *mut device,
    phys: Phys,
    size: usize,
    direction: c_int,
    dma_addr: Dma,
    attrs: c_ulong,
) {
    if dma_addr == DMA_MAPPING_ERROR {
        return;
    }
    let attrs = attrs as u64;
    let origin = Origin::here();
    let Some(node) = track(
        Record {
            dev: dev as usize,
            dev_addr: dma_addr,
            size: size as u64,
            kind: Kind::Phy,
            dir: direction,
            paddr: phys,
            map_err: MapErr::NotChecked,
            attrs,
            ..Default::default()
        },
        &origin,
    ) else {
        return;
    };
    if attrs & ATTR_MMIO != 0 {
        // SAFETY: A lookup of the page frame only.
        if unsafe { bindings::dma_rs_pfn_is_ram((phys >> PAGE_SHIFT) as c_ulong) } {
            // SAFETY: The record is ours.
            let origin = unsafe { Origin::of(&*node) };
            report(
                dev,
                Some(&origin),
                format_args!("dma_map_resource called for RAM address 0x{:x}\n", phys),
            );
        }
    } else {
        check_for_stack(dev, phys);
        check_for_illegal_area(dev, linear(phys), size);
    }
    add(node);
}

/// Marks the first unchecked mapping of `dma_addr` as checked.
#[inline(never)]
pub(super) fn mark_checked(dev: *mut device, dma_addr: Dma) {
    let r = Record {
        dev: dev as usize,
        dev_addr: dma_addr,
        ..Default::default()
    };
    let bucket = lock_bucket(entry::bucket_of(dma_addr));
    for (node, e) in bucket.iter() {
        if entry::exact_match(&r, e) && e.map_err == MapErr::NotChecked {
            // SAFETY: Live and ours to change under the bucket's lock.
            unsafe { (*node).rec.map_err = MapErr::Checked };
            break;
        }
    }
}

/// The work of [`debug_dma_unmap_phys`], out of line.
#[inline(never)]
pub(super) fn unmap_phys_checked(
    dev: *mut device,
    dma_addr: Dma,
    size: usize,
    dir: c_int,
    attrs: c_ulong,
) {
    check_unmap(&Record {
        dev: dev as usize,
        dev_addr: dma_addr,
        size: size as u64,
        kind: Kind::Phy,
        dir,
        attrs: attrs as u64,
        ..Default::default()
    });
}

/// The reference for entry `s` of an sg list of `nents`.
///
/// # Safety
///
/// `s` must be a valid, mapped entry.
pub(super) unsafe fn sg_ref(
    dev: *mut device,
    s: *mut scatterlist,
    nents: c_int,
    dir: c_int,
    attrs: u64,
) -> Record {
    // SAFETY: The caller passes a valid entry.
    unsafe {
        Record {
            dev: dev as usize,
            dev_addr: sg::dma_address(s),
            size: u64::from(sg::dma_len(s)),
            kind: Kind::Sg,
            dir,
            sg_call_ents: nents,
            paddr: sg::phys(s),
            attrs,
            ..Default::default()
        }
    }
}

/// The work of [`debug_dma_map_sg`], out of line so that the hook costs a test while
/// dma-debug is off.
///
/// # Safety
///
/// As the hook's.
#[inline(never)]
pub(super) unsafe fn map_sg_hook(
    dev: *mut device,
    sg: *mut scatterlist,
    nents: c_int,
    mapped_ents: c_int,
    direction: c_int,
    attrs: c_ulong,
) {
    // SAFETY: The caller passes a valid list.
    for s in unsafe { sg::entries(sg, nents) } {
        // SAFETY: A valid entry.
        let (phys, len) = unsafe { (sg::phys(s), sg::length(s)) };
        check_for_stack(dev, phys);
        check_for_illegal_area(dev, linear(phys), len as usize);
    }
    // One stack for the whole list (C unwinds once per entry).
    let origin = Origin::here();
    // SAFETY: The caller passes a valid list.
    for s in unsafe { sg::entries(sg, mapped_ents) } {
        // SAFETY: A valid, mapped entry.
        let mut rec = unsafe { sg_ref(dev, s, nents, direction, attrs as u64) };
        rec.sg_mapped_ents = mapped_ents;
        let Some(node) = track(rec, &origin) else {
            return;
        };
        check_sg_segment(dev, s);
        add(node);
    }
}

/// The work of [`debug_dma_unmap_sg`], out of line so that the hook costs a test while
/// dma-debug is off.
///
/// # Safety
///
/// As the hook's.
#[inline(never)]
pub(super) unsafe fn unmap_sg_hook(
    dev: *mut device,
    sglist: *mut scatterlist,
    nelems: c_int,
    dir: c_int,
    attrs: c_ulong,
) {
    let mut mapped = 0;
    // SAFETY: The caller passes a valid list.
    for (i, s) in (0..).zip(unsafe { sg::entries(sglist, nelems) }) {
        // SAFETY: A valid entry.
        let r = unsafe { sg_ref(dev, s, nelems, dir, attrs as u64) };
        if mapped != 0 && i >= mapped {
            break;
        }
        if i == 0 {
            mapped = mapped_entries(&r);
        }
        check_unmap(&r);
    }
}

/// The work of [`debug_dma_alloc_coherent`], out of line so that the hook costs a test while
/// dma-debug is off.
///
/// # Safety
///
/// As the hook's.
#[inline(never)]
pub(super) unsafe fn alloc_coherent_hook(
    dev: *mut device,
    size: usize,
    dma_addr: Dma,
    virt: *mut c_void,
    attrs: c_ulong,
) {
    if virt.is_null() || !valid_kernel_addr(virt) {
        return;
    }
    let origin = Origin::here();
    if let Some(node) = track(
        Record {
            dev: dev as usize,
            dev_addr: dma_addr,
            size: size as u64,
            kind: Kind::Coherent,
            dir: entry::DMA_BIDIRECTIONAL,
            paddr: virt_to_phys(virt),
            attrs: attrs as u64,
            ..Default::default()
        },
        &origin,
    ) {
        add(node);
    }
}

/// The work of [`debug_dma_free_coherent`], out of line so that the hook costs a test while
/// dma-debug is off.
///
/// # Safety
///
/// As the hook's.
#[inline(never)]
pub(super) unsafe fn free_coherent_hook(
    dev: *mut device,
    size: usize,
    virt: *mut c_void,
    dma_addr: Dma,
    attrs: c_ulong,
) {
    if !valid_kernel_addr(virt) {
        return;
    }
    check_unmap(&Record {
        dev: dev as usize,
        dev_addr: dma_addr,
        size: size as u64,
        kind: Kind::Coherent,
        dir: entry::DMA_BIDIRECTIONAL,
        paddr: virt_to_phys(virt),
        attrs: attrs as u64,
        ..Default::default()
    });
}

/// Checks a sync of a single mapping, out of line so that the hook costs a
/// test while dma-debug is off.
#[inline(never)]
pub(super) fn sync_single(dev: *mut device, dma: Dma, size: usize, dir: c_int, to_cpu: bool) {
    let r = Record {
        dev: dev as usize,
        dev_addr: dma,
        size: size as u64,
        kind: Kind::Single,
        dir,
        ..Default::default()
    };
    check_sync(&r, to_cpu);
}

/// Checks a sync of each mapped entry of an sg list.
///
/// # Safety
///
/// `sg` must be a valid scatterlist of `nelems` entries.
#[inline(never)]
pub(super) unsafe fn sync_sg(
    dev: *mut device,
    sg: *mut scatterlist,
    nelems: c_int,
    direction: c_int,
    to_cpu: bool,
) {
    let mut mapped = 0;
    // SAFETY: The caller passes a valid list.
    for (i, s) in (0..).zip(unsafe { sg::entries(sg, nelems) }) {
        // SAFETY: A valid entry.
        let r = unsafe { sg_ref(dev, s, nelems, direction, 0) };
        if i == 0 {
            mapped = mapped_entries(&r);
        }
        if i >= mapped {
            break;
        }
        check_sync(&r, to_cpu);
    }
}

pub(super) fn pages_ref(
    dev: *mut device,
    page: *mut bindings::page,
    size: usize,
    dir: c_int,
    dma: Dma,
) -> Record {
    Record {
        dev: dev as usize,
        dev_addr: dma,
        size: size as u64,
        kind: Kind::Noncoherent,
        dir,
        paddr: mem::page_to_phys(page),
        ..Default::default()
    }
}

/// The work of [`debug_dma_alloc_pages`], out of line so that the hook costs a test while
/// dma-debug is off.
///
/// # Safety
///
/// As the hook's.
#[inline(never)]
pub(super) unsafe fn alloc_pages_hook(
    dev: *mut device,
    page: *mut bindings::page,
    size: usize,
    direction: c_int,
    dma_addr: Dma,
) {
    let origin = Origin::here();
    if let Some(node) = track(pages_ref(dev, page, size, direction, dma_addr), &origin) {
        add(node);
    }
}

/// The work of [`debug_dma_free_pages`], out of line so that the hook costs a test while
/// dma-debug is off.
///
/// # Safety
///
/// As the hook's.
#[inline(never)]
pub(super) unsafe fn free_pages_hook(
    dev: *mut device,
    page: *mut bindings::page,
    size: usize,
    direction: c_int,
    dma_addr: Dma,
) {
    check_unmap(&pages_ref(dev, page, size, direction, dma_addr));
}

/// Defines each exported hook of `kernel/dma/debug.h` as a test of
/// whether dma-debug is on and a call of its work, which is out of line: a
/// hook then costs a test and a return while dma-debug is off. The work
/// gets the hook's arguments, then any listed after its name.
macro_rules! gated_hooks {
    ($($(#[$attr:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) => $work:ident($($extra:expr),*);)*) => {$(
        $(#[$attr])*
        ///
        /// # Safety
        ///
        /// The arguments are those of the DMA API call that reports them,
        /// with the device live (or NULL where the API allows it).
        #[export]
        pub unsafe extern "C" fn $name($($arg: $ty),*) {
            if !disabled() {
                #[allow(unused_unsafe, reason = "some of the work functions are safe")]
                // SAFETY: The caller's arguments, as the work expects them.
                unsafe { $work($($arg,)* $($extra),*) }
            }
        }
    )*};
}

gated_hooks! {
    /// `debug_dma_map_single()`: checks a kernel address before it is mapped.
    fn debug_dma_map_single(dev: *mut device, addr: *const c_void, len: c_ulong) => check_single();
    /// `debug_dma_map_phys()`: tracks a single mapping.
    fn debug_dma_map_phys(dev: *mut device, phys: Phys, size: usize, direction: c_int, dma_addr: Dma, attrs: c_ulong) => map_phys_tracked();
    /// `debug_dma_mapping_error()`: records that the driver checked a mapping.
    fn debug_dma_mapping_error(dev: *mut device, dma_addr: Dma) => mark_checked();
    /// `debug_dma_unmap_phys()`.
    fn debug_dma_unmap_phys(dev: *mut device, dma_addr: Dma, size: usize, direction: c_int, attrs: c_ulong) => unmap_phys_checked();
    /// `debug_dma_map_sg()`: tracks each mapped entry of an sg list.
    fn debug_dma_map_sg(dev: *mut device, sg: *mut scatterlist, nents: c_int, mapped_ents: c_int, direction: c_int, attrs: c_ulong) => map_sg_hook();
    /// `debug_dma_unmap_sg()`.
    fn debug_dma_unmap_sg(dev: *mut device, sglist: *mut scatterlist, nelems: c_int, dir: c_int, attrs: c_ulong) => unmap_sg_hook();
    /// `debug_dma_alloc_coherent()`: tracks a coherent allocation.
    fn debug_dma_alloc_coherent(dev: *mut device, size: usize, dma_addr: Dma, virt: *mut c_void, attrs: c_ulong) => alloc_coherent_hook();
    /// `debug_dma_free_coherent()`.
    fn debug_dma_free_coherent(dev: *mut device, size: usize, virt: *mut c_void, dma_addr: Dma, attrs: c_ulong) => free_coherent_hook();
    /// `debug_dma_sync_single_for_cpu()`.
    fn debug_dma_sync_single_for_cpu(dev: *mut device, dma_handle: Dma, size: usize, direction: c_int) => sync_single(true);
    /// `debug_dma_sync_single_for_device()`.
    fn debug_dma_sync_single_for_device(dev: *mut device, dma_handle: Dma, size: usize, direction: c_int) => sync_single(false);
    /// `debug_dma_sync_sg_for_cpu()`.
    fn debug_dma_sync_sg_for_cpu(dev: *mut device, sg: *mut scatterlist, nelems: c_int, direction: c_int) => sync_sg(true);
    /// `debug_dma_sync_sg_for_device()`.
    fn debug_dma_sync_sg_for_device(dev: *mut device, sg: *mut scatterlist, nelems: c_int, direction: c_int) => sync_sg(false);
    /// `debug_dma_alloc_pages()`.
    fn debug_dma_alloc_pages(dev: *mut device, page: *mut bindings::page, size: usize, direction: c_int, dma_addr: Dma) => alloc_pages_hook();
    /// `debug_dma_free_pages()`.
    fn debug_dma_free_pages(dev: *mut device, page: *mut bindings::page, size: usize, direction: c_int, dma_addr: Dma) => free_pages_hook();
}
