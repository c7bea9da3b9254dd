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
    kernel_phys, //
    mapped_entries,
    track,
};
use super::entry::{
    Kind,
    MapErr,
    Record, //
};
use super::hash::lock_bucket;
use super::records::Origin;
use super::report::{
    report,
    DevRef, //
};
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
pub(super) fn check_single(dev: DevRef, addr: *const c_void, len: c_ulong) {
    // SAFETY: Address tests only.
    if !unsafe { bindings::dma_rs_virt_addr_valid(addr) } {
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
    dev: DevRef,
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
            dev: dev.addr(),
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
            report(
                dev,
                Some(&node.body().origin()),
                format_args!("dma_map_resource called for RAM address 0x{:x}\n", phys),
            );
        }
    } else {
        check_for_stack(dev, phys);
        check_for_illegal_area(dev, phys, size);
    }
    add(dev, node);
}

/// Marks the first unchecked mapping of `dma_addr` as checked.
#[inline(never)]
pub(super) fn mark_checked(dev: DevRef, dma_addr: Dma) {
    let r = Record {
        dev: dev.addr(),
        dev_addr: dma_addr,
        ..Default::default()
    };
    lock_bucket(entry::bucket_of(dma_addr)).mark_checked(&r);
}

/// The work of [`debug_dma_unmap_phys`], out of line.
#[inline(never)]
pub(super) fn unmap_phys_checked(
    dev: DevRef,
    dma_addr: Dma,
    size: usize,
    dir: c_int,
    attrs: c_ulong,
) {
    check_unmap(
        dev,
        &Record {
            dev: dev.addr(),
            dev_addr: dma_addr,
            size: size as u64,
            kind: Kind::Phy,
            dir,
            attrs: attrs as u64,
            ..Default::default()
        },
    );
}

/// The reference for entry `s` of an sg list of `nents`.
pub(super) fn sg_ref(dev: DevRef, s: &sg::Entry, nents: c_int, dir: c_int, attrs: u64) -> Record {
    Record {
        dev: dev.addr(),
        dev_addr: s.dma_address(),
        size: u64::from(s.dma_len()),
        kind: Kind::Sg,
        dir,
        sg_call_ents: nents,
        paddr: s.phys(),
        attrs,
        ..Default::default()
    }
}

/// The work of [`debug_dma_map_sg`], out of line so that the hook costs a test while
/// dma-debug is off.
///
/// # Safety
///
/// As the hook's: `sg` a valid scatterlist of `nents` entries, the first
/// `mapped_ents` of them mapped.
#[inline(never)]
pub(super) unsafe fn map_sg_hook(
    dev: DevRef,
    sg: *mut scatterlist,
    nents: c_int,
    mapped_ents: c_int,
    direction: c_int,
    attrs: c_ulong,
) {
    // SAFETY: The caller passes a valid list, which is its own for the call.
    let list = unsafe { sg::List::new(sg, nents) };
    for s in list.entries() {
        let phys = s.phys();
        check_for_stack(dev, phys);
        check_for_illegal_area(dev, phys, s.length() as usize);
    }
    // One stack for the whole list (C unwinds once per entry).
    let origin = Origin::here();
    for s in list.entries().take(mapped_ents.max(0) as usize) {
        let mut rec = sg_ref(dev, s, nents, direction, attrs as u64);
        rec.sg_mapped_ents = mapped_ents;
        let Some(node) = track(rec, &origin) else {
            return;
        };
        check_sg_segment(dev, s);
        add(dev, node);
    }
}

/// The work of [`debug_dma_unmap_sg`], out of line so that the hook costs a test while
/// dma-debug is off.
///
/// # Safety
///
/// As the hook's: `sglist` a valid scatterlist of `nelems` entries.
#[inline(never)]
pub(super) unsafe fn unmap_sg_hook(
    dev: DevRef,
    sglist: *mut scatterlist,
    nelems: c_int,
    dir: c_int,
    attrs: c_ulong,
) {
    let mut mapped = 0;
    // SAFETY: The caller passes a valid list, which is its own for the call.
    let list = unsafe { sg::List::new(sglist, nelems) };
    for (i, s) in (0..).zip(list.entries()) {
        let r = sg_ref(dev, s, nelems, dir, attrs as u64);
        if mapped != 0 && i >= mapped {
            break;
        }
        if i == 0 {
            mapped = mapped_entries(&r);
        }
        check_unmap(dev, &r);
    }
}

/// The record of a coherent allocation, or the reference a free of one
/// describes.
fn coherent_ref(dev: DevRef, size: usize, dma: Dma, paddr: Phys, attrs: c_ulong) -> Record {
    Record {
        dev: dev.addr(),
        dev_addr: dma,
        size: size as u64,
        kind: Kind::Coherent,
        dir: entry::DMA_BIDIRECTIONAL,
        paddr,
        attrs: attrs as u64,
        ..Default::default()
    }
}

/// The work of [`debug_dma_alloc_coherent`], out of line so that the hook costs a test while
/// dma-debug is off.
#[inline(never)]
pub(super) fn alloc_coherent_hook(
    dev: DevRef,
    size: usize,
    dma_addr: Dma,
    virt: *mut c_void,
    attrs: c_ulong,
) {
    let Some(paddr) = kernel_phys(virt) else {
        return;
    };
    let origin = Origin::here();
    if let Some(node) = track(coherent_ref(dev, size, dma_addr, paddr, attrs), &origin) {
        add(dev, node);
    }
}

/// The work of [`debug_dma_free_coherent`], out of line so that the hook costs a test while
/// dma-debug is off.
#[inline(never)]
pub(super) fn free_coherent_hook(
    dev: DevRef,
    size: usize,
    virt: *mut c_void,
    dma_addr: Dma,
    attrs: c_ulong,
) {
    let Some(paddr) = kernel_phys(virt) else {
        return;
    };
    check_unmap(dev, &coherent_ref(dev, size, dma_addr, paddr, attrs));
}

/// Checks a sync of a single mapping, out of line so that the hook costs a
/// test while dma-debug is off.
#[inline(never)]
pub(super) fn sync_single(dev: DevRef, dma: Dma, size: usize, dir: c_int, to_cpu: bool) {
    let r = Record {
        dev: dev.addr(),
        dev_addr: dma,
        size: size as u64,
        kind: Kind::Single,
        dir,
        ..Default::default()
    };
    check_sync(dev, &r, to_cpu);
}

/// Checks a sync of each mapped entry of an sg list.
///
/// # Safety
///
/// `sg` must be a valid scatterlist of `nelems` entries.
#[inline(never)]
pub(super) unsafe fn sync_sg(
    dev: DevRef,
    sg: *mut scatterlist,
    nelems: c_int,
    direction: c_int,
    to_cpu: bool,
) {
    let mut mapped = 0;
    // SAFETY: The caller passes a valid list, which is its own for the call.
    let list = unsafe { sg::List::new(sg, nelems) };
    for (i, s) in (0..).zip(list.entries()) {
        let r = sg_ref(dev, s, nelems, direction, 0);
        if i == 0 {
            mapped = mapped_entries(&r);
        }
        if i >= mapped {
            break;
        }
        check_sync(dev, &r, to_cpu);
    }
}

pub(super) fn pages_ref(
    dev: DevRef,
    page: *mut bindings::page,
    size: usize,
    dir: c_int,
    dma: Dma,
) -> Record {
    Record {
        dev: dev.addr(),
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
#[inline(never)]
pub(super) fn alloc_pages_hook(
    dev: DevRef,
    page: *mut bindings::page,
    size: usize,
    direction: c_int,
    dma_addr: Dma,
) {
    let origin = Origin::here();
    if let Some(node) = track(pages_ref(dev, page, size, direction, dma_addr), &origin) {
        add(dev, node);
    }
}

/// The work of [`debug_dma_free_pages`], out of line so that the hook costs a test while
/// dma-debug is off.
#[inline(never)]
pub(super) fn free_pages_hook(
    dev: DevRef,
    page: *mut bindings::page,
    size: usize,
    direction: c_int,
    dma_addr: Dma,
) {
    check_unmap(dev, &pages_ref(dev, page, size, direction, dma_addr));
}

/// Defines each exported hook of `kernel/dma/debug.h` as a test of
/// whether dma-debug is on and a call of its work, which is out of line: a
/// hook then costs a test and a return while dma-debug is off. The work
/// gets the hook's arguments, then any listed after its name.
macro_rules! gated_hooks {
    ($($(#[$attr:meta])* fn $name:ident(dev: *mut device, $($arg:ident: $ty:ty),* $(,)?) => $work:ident($($extra:expr),*);)*) => {$(
        $(#[$attr])*
        ///
        /// # Safety
        ///
        /// The arguments are those of the DMA API call that reports them,
        /// with the device live (or NULL where the API allows it).
        #[export]
        pub unsafe extern "C" fn $name(dev: *mut device, $($arg: $ty),*) {
            if !disabled() {
                // SAFETY: The caller's arguments, as the work expects them;
                // the device is NULL or live for the call.
                unsafe { $work(DevRef::new(dev), $($arg,)* $($extra),*) }
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
