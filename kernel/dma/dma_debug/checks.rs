// SPDX-License-Identifier: GPL-2.0-only

//! Adding records and checking calls against them, and the checks of the
//! memory a driver maps (stacks, kernel text).

use super::cacheline::cacheline_insert;
use super::entry::{
    Record,
    SyncFault,
    UnmapFault, //
    HASH_SIZE,
};
use super::hash::lock_bucket;
use super::records::{
    alloc_node,
    free_node,
    Fresh,
    Origin, //
};
use super::report::{
    report,
    DevRef, //
};
use super::{
    entry,
    DMA_MAPPING_ERROR,
    PAGE_SHIFT,
    PAGE_SIZE, //
};
use core::ptr;
use core::sync::atomic::{
    AtomicU64,
    Ordering::Relaxed, //
};
use kernel::bindings;
use kernel::dma::rust_core::{
    mem,
    sg,
    Phys, //
};
use kernel::ffi::{
    c_ulong,
    c_void, //
};

/// Files a new record: into its hash bucket, and onto its cacheline if the
/// device may write the memory, reporting an unsafe overlap.
///
/// It joins its cacheline first: once in the hash, an unmap on another CPU
/// may take it and free it.
pub(super) fn add(dev: DevRef, node: Fresh) {
    let rec = node.body().rec;
    let (node, others, first_clean) = cacheline_insert(node);
    lock_bucket(entry::bucket_of(rec.dev_addr)).push(node);
    if others == 0 {
        return;
    }
    // Overlaps are unsafe where the DMA alignment is a cacheline, unless
    // the mappings that could share one (small kmalloc buffers) bounce.
    // SAFETY: Pure queries of the architecture and of the live device.
    let unsafe_overlaps = unsafe {
        bindings::dma_get_cache_alignment() as u32 >= bindings::L1_CACHE_BYTES
            && !(cfg!(CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC)
                && bindings::dma_rs_is_swiotlb_active(dev.raw()))
    };
    if entry::overlap_reported(others, rec.attrs, first_clean, unsafe_overlaps) {
        report(
            dev,
            None,
            format_args!("cacheline tracking EEXIST, overlapping mappings aren't supported\n"),
        );
    }
}

/// Takes a record and fills it with `rec`, made at `origin`.
pub(super) fn track(rec: Record, origin: &Origin) -> Option<Fresh> {
    alloc_node(rec, origin)
}

/// Checks a free or unmap against its record and forgets the record.
pub(super) fn check_unmap(dev: DevRef, r: &Record) {
    let found = lock_bucket(entry::bucket_of(r.dev_addr)).take(r, entry::exact_match);
    let Some(node) = found else {
        if r.dev_addr == DMA_MAPPING_ERROR {
            report(
                dev,
                None,
                format_args!("device driver tries to free an invalid DMA memory address\n"),
            );
        } else {
            report(
                dev,
                None,
                format_args!(
                    "device driver tries to free DMA memory it has not allocated [device address=0x{:016x}] [size={} bytes]\n",
                    r.dev_addr, r.size
                ),
            );
        }
        return;
    };
    let e = &node.body().rec;
    let mut faults = [UnmapFault::Size; 7];
    let n = entry::unmap_faults(r, e, &mut faults);
    if n > 0 {
        report_unmap(dev, r, e, &node.body().origin(), &faults[..n]);
    }
    free_node(node);
}

/// Reports what is wrong with a free or unmap, out of the checking path.
#[cold]
#[inline(never)]
pub(super) fn report_unmap(
    dev: DevRef,
    r: &Record,
    e: &Record,
    origin: &Origin,
    faults: &[UnmapFault],
) {
    for f in faults {
        let o = Some(origin);
        match f {
            UnmapFault::Size => report(dev, o, format_args!(
                "device driver frees DMA memory with different size [device address=0x{:016x}] [map size={} bytes] [unmap size={} bytes]\n",
                r.dev_addr, e.size, r.size)),
            UnmapFault::Function => report(dev, o, format_args!(
                "device driver frees DMA memory with wrong function [device address=0x{:016x}] [size={} bytes] [mapped as {}] [unmapped as {}]\n",
                r.dev_addr, r.size, e.kind.name(), r.kind.name())),
            UnmapFault::CpuAddress => report(dev, o, format_args!(
                "device driver frees DMA memory with different CPU address [device address=0x{:016x}] [size={} bytes] [cpu alloc address=0x{:x}] [cpu free address=0x{:x}]\n",
                r.dev_addr, r.size, e.paddr, r.paddr)),
            UnmapFault::SgCount => report(dev, o, format_args!(
                "device driver frees DMA sg list with different entry count [map count={}] [unmap count={}]\n",
                e.sg_call_ents, r.sg_call_ents)),
            UnmapFault::Direction => report(dev, o, format_args!(
                "device driver frees DMA memory with different direction [device address=0x{:016x}] [size={} bytes] [mapped with {}] [unmapped with {}]\n",
                r.dev_addr, r.size, entry::dir_name(e.dir), entry::dir_name(r.dir))),
            UnmapFault::NotChecked => report(dev, o, format_args!(
                "device driver failed to check map error[device address=0x{:016x}] [size={} bytes] [mapped as {}]\n",
                r.dev_addr, r.size, e.kind.name())),
            UnmapFault::Attrs => report(dev, o, format_args!(
                "device driver frees DMA memory with different attributes [device address=0x{:016x}] [size={} bytes] [mapped with 0x{:x}] [unmapped with 0x{:x}]\n",
                r.dev_addr, r.size, e.attrs, r.attrs)),
        }
    }
}

/// Checks a sync against the record that contains it.
pub(super) fn check_sync(dev: DevRef, r: &Record, to_cpu: bool) {
    let start = entry::bucket_of(r.dev_addr);
    let mut faults = [SyncFault::OutOfRange; 5];
    let mut found = None;
    for i in 0..entry::contain_search_len(r.dev_addr) {
        let bucket = lock_bucket((start + HASH_SIZE - i) % HASH_SIZE);
        let bodies = bucket.iter().map(|b| (b, &b.rec));
        if let Some(body) = entry::best_fit(r, bodies, entry::containing_match) {
            let n = entry::sync_faults(r, &body.rec, to_cpu, &mut faults);
            // Copied out only to be reported, after the lock.
            found = Some((n, (n > 0).then(|| (body.rec, body.origin()))));
            break;
        }
    }
    let Some((n, faulty)) = found else {
        report_sync_unknown(dev, r);
        return;
    };
    let Some((e, origin)) = faulty else {
        return;
    };
    report_sync(dev, r, &e, &origin, &faults[..n]);
}

/// Reports a sync of memory no mapping holds.
#[cold]
#[inline(never)]
pub(super) fn report_sync_unknown(dev: DevRef, r: &Record) {
    report(
        dev,
        None,
        format_args!(
            "device driver tries to sync DMA memory it has not allocated [device address=0x{:016x}] [size={} bytes]\n",
            r.dev_addr, r.size
        ),
    );
}

/// Reports what is wrong with a sync, out of the checking path.
#[cold]
#[inline(never)]
pub(super) fn report_sync(
    dev: DevRef,
    r: &Record,
    e: &Record,
    origin: &Origin,
    faults: &[SyncFault],
) {
    let (md, sd) = (entry::dir_name(e.dir), entry::dir_name(r.dir));
    for f in faults {
        let o = Some(origin);
        match f {
            SyncFault::OutOfRange => report(dev, o, format_args!(
                "device driver syncs DMA memory outside allocated range [device address=0x{:016x}] [allocation size={} bytes] [sync offset+size={}]\n",
                e.dev_addr, e.size, r.size)),
            SyncFault::Direction => report(dev, o, format_args!(
                "device driver syncs DMA memory with different direction [device address=0x{:016x}] [size={} bytes] [mapped with {}] [synced with {}]\n",
                r.dev_addr, e.size, md, sd)),
            SyncFault::ReadOnlyForCpu => report(dev, o, format_args!(
                "device driver syncs device read-only DMA memory for cpu [device address=0x{:016x}] [size={} bytes] [mapped with {}] [synced with {}]\n",
                r.dev_addr, e.size, md, sd)),
            SyncFault::WriteOnlyForDevice => report(dev, o, format_args!(
                "device driver syncs device write-only DMA memory to device [device address=0x{:016x}] [size={} bytes] [mapped with {}] [synced with {}]\n",
                r.dev_addr, e.size, md, sd)),
            SyncFault::SgCount => report(dev, o, format_args!(
                "device driver syncs DMA sg list with different entry count [map count={}] [sync count={}]\n",
                e.sg_call_ents, r.sg_call_ents)),
        }
    }
}

/// The number of entries the sg mapping whose first entry is `r` mapped,
/// 0 if it is unknown.
pub(super) fn mapped_entries(r: &Record) -> i32 {
    let bucket = lock_bucket(entry::bucket_of(r.dev_addr));
    let bodies = bucket.iter().map(|b| (b, &b.rec));
    entry::best_fit(r, bodies, entry::exact_match).map_or(0, |b| b.rec.sg_mapped_ents)
}

/// Reports memory on the current task's stack.
pub(super) fn check_for_stack(dev: DevRef, phys: Phys) {
    // SAFETY: `current` is valid in process and interrupt context alike.
    let area = unsafe { bindings::task_stack_vm_area(bindings::get_current()) };
    if area.is_null() {
        // SAFETY: A linear-map address of `phys`; only compared.
        let addr = unsafe { bindings::dma_rs_phys_to_virt(phys) };
        // SAFETY: Compares an address with the current stack's bounds.
        if unsafe { bindings::object_is_on_stack(addr) } != 0 {
            report(
                dev,
                None,
                format_args!("device driver maps memory from stack [addr={:p}]\n", addr),
            );
        }
        return;
    }
    // SAFETY: The current task's stack area lives while it runs.
    let (pages, nr, stack) = unsafe {
        (
            (*area).pages,
            (*area).nr_pages,
            (*bindings::get_current()).stack,
        )
    };
    for i in 0..nr {
        // SAFETY: The area has `nr` pages.
        let page = unsafe { *pages.add(i) };
        if mem::page_to_phys(page) >> PAGE_SHIFT == phys >> PAGE_SHIFT {
            let addr =
                (stack as usize + i * PAGE_SIZE + (phys as usize % PAGE_SIZE)) as *const c_void;
            report(
                dev,
                None,
                format_args!(
                    "device driver maps memory from stack [probable addr={:p}]\n",
                    addr
                ),
            );
            return;
        }
    }
}

/// The physical ranges of the kernel's text and read-only data, as
/// `[start, end)` pairs; empty until [`init_illegal_areas`] runs.
static ILLEGAL_AREAS: [(AtomicU64, AtomicU64); 2] = [
    (AtomicU64::new(0), AtomicU64::new(0)),
    (AtomicU64::new(0), AtomicU64::new(0)),
];

/// Finds where the kernel's text and read-only data sit in physical
/// memory. The image does not move once the kernel runs, so this is done
/// once, before the first mapping is checked.
pub(super) fn init_illegal_areas() {
    // Only the addresses of the linker's section symbols are taken.
    let sections = [
        (
            ptr::addr_of!(bindings::_stext),
            ptr::addr_of!(bindings::_etext),
        ),
        (
            ptr::addr_of!(bindings::__start_rodata),
            ptr::addr_of!(bindings::__end_rodata),
        ),
    ];
    for ((start, end), (s, e)) in ILLEGAL_AREAS.iter().zip(sections) {
        // SAFETY: `s` and `e` are symbols of the kernel image, which is
        // what `__pa_symbol()` translates.
        let (s, e) = unsafe {
            (
                bindings::dma_rs_pa_symbol(s.cast()),
                bindings::dma_rs_pa_symbol(e.cast()),
            )
        };
        start.store(s, Relaxed);
        end.store(e, Relaxed);
    }
}

/// Reports memory in the kernel's text or read-only data.
///
/// The test is on physical addresses, so it sees the image through any of
/// its aliases. C compares the linear-map address of the memory with the
/// image's own addresses, and misses it where the image is mapped apart
/// from the linear map (x86-64, arm64).
pub(super) fn check_for_illegal_area(dev: DevRef, phys: Phys, len: usize) {
    let end = phys.saturating_add(len as u64);
    let hit = ILLEGAL_AREAS
        .iter()
        .any(|(s, e)| phys < e.load(Relaxed) && s.load(Relaxed) < end);
    // The zero page is read-only data (on x86-64 and arm64), and the kernel
    // itself maps it to write zeroes to devices.
    let zero_page = || {
        let pfn = phys >> PAGE_SHIFT;
        // SAFETY: A comparison of page frame numbers.
        (end - 1) >> PAGE_SHIFT == pfn && unsafe { bindings::dma_rs_is_zero_pfn(pfn as c_ulong) }
    };
    if hit && !zero_page() {
        report(
            dev,
            None,
            format_args!(
                "device driver maps memory from kernel text or rodata [addr={:p}] [len={}]\n",
                linear(phys) as *const c_void,
                len
            ),
        );
    }
}

/// The linear-map address of `phys`, for the report (no highmem on 64-bit
/// kernels).
fn linear(phys: Phys) -> usize {
    // SAFETY: Pure address arithmetic.
    unsafe { bindings::dma_rs_phys_to_virt(phys) as usize }
}

/// Reports an sg entry that breaks the device's segment limits.
pub(super) fn check_sg_segment(dev: DevRef, s: &sg::Entry) {
    // SAFETY: A live device (`DevRef`); the helpers read its DMA parameters.
    let (max_seg, boundary) = unsafe {
        (
            bindings::dma_get_max_seg_size(dev.raw()),
            bindings::dma_get_seg_boundary(dev.raw()) as u64,
        )
    };
    let (len, start, dma_len) = (s.length(), s.dma_address(), s.dma_len());
    if len > max_seg {
        report(
            dev,
            None,
            format_args!(
                "mapping sg segment longer than device claims to support [len={}] [max={}]\n",
                len, max_seg
            ),
        );
    }
    let end = start.wrapping_add(u64::from(dma_len)).wrapping_sub(1);
    if (start ^ end) & !boundary != 0 {
        report(dev, None, format_args!(
            "mapping sg segment across boundary [start=0x{:016x}] [end=0x{:016x}] [boundary=0x{:016x}]\n",
            start, end, boundary));
    }
}

/// The physical address of a kernel address, linear or vmalloc; `None`
/// for any other address.
pub(super) fn kernel_phys(virt: *mut c_void) -> Option<Phys> {
    // SAFETY: Address tests, then the page of a vmalloc address (looked up
    // in the page tables, NULL if unmapped) or of a valid linear one
    // (arithmetic).
    let page = unsafe {
        if bindings::is_vmalloc_addr(virt) {
            bindings::vmalloc_to_page(virt)
        } else if bindings::dma_rs_virt_addr_valid(virt) {
            bindings::dma_rs_virt_to_page(virt)
        } else {
            return None;
        }
    };
    if page.is_null() {
        return None;
    }
    Some(mem::page_to_phys(page).wrapping_add((virt as usize % PAGE_SIZE) as Phys))
}
