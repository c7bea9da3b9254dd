// SPDX-License-Identifier: GPL-2.0-only

//! dma-debug in Rust: the tracker behind every DMA API call, in place of
//! `kernel/dma/debug.c` (`CONFIG_DMA_RUST_DEBUG`).
//!
//! Every mapping and allocation gets a record, kept in a hash of 16384
//! buckets by DMA address, each with its own irq-safe lock. A free, unmap or
//! sync looks its record up and reports every way it disagrees with it
//! ([`entry::unmap_faults`], [`entry::sync_faults`]), in the format C's
//! dma-debug uses: a warning `DMA-API: <driver> <device>: <message>`, once
//! per boot unless `all_errors` is set (or `num_errors` more times).
//!
//! Records come from a preallocated pool (`dma_debug_entries=`, 65536 by
//! default) that grows a page at a time when it runs out. Mappings the device
//! may write are also chained by cacheline, to count overlapping mappings;
//! the chain link lives in the record, so tracking never allocates.
//!
//! Beyond C: a report about a mapping names, besides its stack, the first
//! caller outside the DMA API that made it (`mapped at <symbol+off>`).
//!
//! The debugfs files under `dma-api/`, the boot parameters `dma_debug=`,
//! `dma_debug_entries=` and `dma_debug_driver=`, and the bus notifier that
//! reports mappings still pending when a driver unbinds, behave as C's.

use core::cell::UnsafeCell;
use core::fmt;
use core::ptr;
use kernel::bindings::{self, device, scatterlist};
use kernel::ffi::{c_char, c_int, c_uint, c_ulong, c_void};
use kernel::prelude::*;
use kernel::str::BStr;
// The counters and flags are read on every DMA API call and written
// without a lock, as C's are; core's relaxed atomics compile to plain moves
// here, where the kernel's `Atomic` calls a C helper without LTO.
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::Relaxed};

#[path = "dma_debug/entry.rs"]
mod entry;

// Shared with the mapping core, which uses all of them.
#[allow(dead_code)]
#[path = "common/mem.rs"]
mod mem;

#[allow(dead_code)]
#[path = "common/sg.rs"]
mod sg;

use entry::{Kind, MapErr, Record, SyncFault, UnmapFault, HASH_SIZE};

const __LOG_PREFIX: &[u8] = b"DMA-API\0";

type Dma = bindings::dma_addr_t;
type Phys = bindings::phys_addr_t;

const DMA_MAPPING_ERROR: Dma = !0;
const PAGE_SHIFT: u32 = bindings::PAGE_SHIFT;
const PAGE_SIZE: usize = bindings::PAGE_SIZE;
const ATTR_MMIO: u64 = bindings::DMA_ATTR_MMIO as u64;

// `entry` uses only `core` and spells out the kernel's constants it needs; tie them to
// `bindings`.
const _: () = {
    use bindings as b;
    assert!(entry::DMA_BIDIRECTIONAL as i64 == b::dma_data_direction_DMA_BIDIRECTIONAL as i64);
    assert!(entry::DMA_TO_DEVICE as i64 == b::dma_data_direction_DMA_TO_DEVICE as i64);
    assert!(entry::DMA_FROM_DEVICE as i64 == b::dma_data_direction_DMA_FROM_DEVICE as i64);
    let unmap_valid = b::DMA_ATTR_NO_KERNEL_MAPPING
        | b::DMA_ATTR_FORCE_CONTIGUOUS
        | b::DMA_ATTR_MMIO
        | b::DMA_ATTR_REQUIRE_COHERENT
        | b::DMA_ATTR_PRIVILEGED
        | b::DMA_ATTR_CC_SHARED;
    assert!(entry::ATTRS_UNMAP_VALID == unmap_valid as u64);
    let cache_clean = b::DMA_ATTR_DEBUGGING_IGNORE_CACHELINES | b::DMA_ATTR_REQUIRE_COHERENT;
    assert!(entry::ATTRS_CACHE_CLEAN == cache_clean as u64);
};
const NAME_LEN: usize = 64;
const STACK_DEPTH: usize = 3;
const DEFAULT_ENTRIES: u32 = 1 << 16;

// ---- state shown in dma-api/ ----

/// Set when dma-debug is switched off: at boot, or after running out of
/// memory.
static DISABLED: AtomicBool = AtomicBool::new(false);
/// Set once the pool exists; hooks do nothing before.
static READY: AtomicBool = AtomicBool::new(false);
static ERROR_COUNT: AtomicU32 = AtomicU32::new(0);
static SHOW_ALL_ERRORS: AtomicU32 = AtomicU32::new(0);
static SHOW_NUM_ERRORS: AtomicU32 = AtomicU32::new(1);
static NUM_FREE_ENTRIES: AtomicU32 = AtomicU32::new(0);
static MIN_FREE_ENTRIES: AtomicU32 = AtomicU32::new(0);
static NR_TOTAL_ENTRIES: AtomicU32 = AtomicU32::new(0);
static NR_PREALLOC_ENTRIES: AtomicU32 = AtomicU32::new(DEFAULT_ENTRIES);

#[inline(always)]
fn disabled() -> bool {
    DISABLED.load(Relaxed) || !READY.load(Relaxed)
}

// ---- locks ----

/// A kernel spinlock taken with interrupts off, for state the DMA API
/// reaches from hard interrupt context.
struct IrqLock(UnsafeCell<bindings::spinlock_t>);

// SAFETY: The spinlock serialises every access to what it guards.
unsafe impl Sync for IrqLock {}

impl IrqLock {
    const fn new() -> Self {
        // SAFETY: A zeroed spinlock is what `init` expects to initialise.
        IrqLock(UnsafeCell::new(unsafe { core::mem::zeroed() }))
    }

    /// Initialises the lock; before any `lock`.
    fn init(&self, name: &'static CStr, key: *mut bindings::lock_class_key) {
        // SAFETY: Called once at init, before the lock is used; the name and
        // key live for ever.
        unsafe { bindings::__spin_lock_init(self.0.get(), name.as_char_ptr(), key) };
    }

    #[inline(always)]
    fn lock(&self) -> IrqGuard<'_> {
        // SAFETY: The lock was initialised; the raw lock is the first member
        // of `spinlock_t` without PREEMPT_RT, which the option excludes.
        let flags = unsafe { bindings::_raw_spin_lock_irqsave(self.0.get().cast()) };
        IrqGuard { lock: self, flags }
    }
}

/// Holds an [`IrqLock`]; releases it and restores interrupts when dropped.
struct IrqGuard<'a> {
    lock: &'a IrqLock,
    flags: c_ulong,
}

impl Drop for IrqGuard<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: This guard holds the lock, taken with these flags.
        unsafe { bindings::_raw_spin_unlock_irqrestore(self.lock.0.get().cast(), self.flags) };
    }
}

/// A lockdep class for a group of locks.
struct LockClass(UnsafeCell<bindings::lock_class_key>);

// SAFETY: Lockdep owns the key's contents; Rust only passes its address.
unsafe impl Sync for LockClass {}

impl LockClass {
    const fn new() -> Self {
        // SAFETY: A zeroed static key is how C declares one.
        LockClass(UnsafeCell::new(unsafe { core::mem::zeroed() }))
    }

    fn get(&self) -> *mut bindings::lock_class_key {
        self.0.get()
    }
}

// ---- records ----

/// A record with its links: in a hash bucket (`next`, `prev`) or on the
/// free list (`next`), and on a cacheline chain (`cl_next`). 128 bytes on
/// 64-bit kernels, as C's entry, so a page holds as many; cacheline
/// aligned, so that records on different CPUs do not share lines.
#[repr(C, align(64))]
struct Node {
    next: *mut Node,
    prev: *mut Node,
    cl_next: *mut Node,
    rec: Record,
    stack_len: u32,
    stack: [c_ulong; STACK_DEPTH],
}

impl Node {
    fn cacheline(&self) -> u64 {
        entry::cacheline(self.rec.paddr, PAGE_SHIFT, bindings::L1_CACHE_SHIFT)
    }
}

const _: () = assert!(cfg!(not(CONFIG_64BIT)) || core::mem::size_of::<Node>() == 128);

const NODES_PER_PAGE: usize = PAGE_SIZE / core::mem::size_of::<Node>();

/// Where a mapping was made: the stack saved when its record was taken.
#[derive(Clone, Copy)]
struct Origin {
    len: u32,
    stack: [c_ulong; STACK_DEPTH],
}

impl Origin {
    /// The stack of the DMA API call being tracked, from the caller of the
    /// hook function this is inlined into: the mapping core's entry point,
    /// then the driver. Three frames, where C keeps five: unwinding costs
    /// hundreds of instructions a frame, and the report names the
    /// driver's call site itself.
    #[inline(always)]
    fn here() -> Self {
        let mut o = Origin {
            len: 0,
            stack: [0; STACK_DEPTH],
        };
        if cfg!(CONFIG_STACKTRACE) {
            // SAFETY: `stack` has room for `STACK_DEPTH` entries. The two
            // frames skipped are the unwinder's entry and the hook's.
            o.len = unsafe {
                bindings::stack_trace_save(o.stack.as_mut_ptr(), STACK_DEPTH as c_uint, 2)
            };
        }
        o
    }

    fn of(node: &Node) -> Self {
        Origin {
            len: node.stack_len,
            stack: node.stack,
        }
    }
}

/// The free records and their counters.
struct FreeList {
    lock: IrqLock,
    head: UnsafeCell<*mut Node>,
}

// SAFETY: `head` is only touched under `lock`.
unsafe impl Sync for FreeList {}

static FREE: FreeList = FreeList {
    lock: IrqLock::new(),
    head: UnsafeCell::new(ptr::null_mut()),
};
static FREE_CLASS: LockClass = LockClass::new();

/// A zeroed page of records, or NULL.
fn new_page(gfp: bindings::gfp_t) -> *mut Node {
    // SAFETY: A plain page allocation.
    unsafe { bindings::get_zeroed_page_noprof(gfp) as *mut Node }
}

/// Allocates a page of records with `GFP_ATOMIC` and adds it to the free
/// list; the caller holds the free list's lock.
fn grow_pool() -> bool {
    let page = new_page(bindings::GFP_ATOMIC);
    if page.is_null() {
        return false;
    }
    add_page(page);
    true
}

/// Adds a zeroed page of records to the free list; the caller holds the
/// free list's lock.
fn add_page(page: *mut Node) {
    for i in 0..NODES_PER_PAGE {
        // SAFETY: The page holds `NODES_PER_PAGE` zeroed records, which are
        // valid `Node`s (null links, default record); the caller serialises
        // the free list.
        unsafe {
            let n = page.add(i);
            (*n).next = *FREE.head.get();
            *FREE.head.get() = n;
        }
    }
    NUM_FREE_ENTRIES.fetch_add(NODES_PER_PAGE as u32, Relaxed);
    NR_TOTAL_ENTRIES.fetch_add(NODES_PER_PAGE as u32, Relaxed);
}

/// Takes a free record, growing the pool when it is empty, with the current
/// stack saved. `None` when memory ran out (dma-debug then switches off).
fn alloc_node(origin: &Origin) -> Option<*mut Node> {
    let mut grown = None;
    let node = {
        let _g = FREE.lock.lock();
        // SAFETY: Under the free list's lock.
        if unsafe { (*FREE.head.get()).is_null() } {
            if !grow_pool() {
                DISABLED.store(true, Relaxed);
                drop(_g);
                pr_err!("debugging out of memory - disabling\n");
                return None;
            }
            grown = Some(NR_TOTAL_ENTRIES.load(Relaxed));
        }
        let free = NUM_FREE_ENTRIES.load(Relaxed) - 1;
        NUM_FREE_ENTRIES.store(free, Relaxed);
        if free < MIN_FREE_ENTRIES.load(Relaxed) {
            MIN_FREE_ENTRIES.store(free, Relaxed);
        }
        // SAFETY: Under the lock; the list is not empty.
        unsafe {
            let n = *FREE.head.get();
            *FREE.head.get() = (*n).next;
            n
        }
    };
    if let Some(total) = grown {
        let prealloc = NR_PREALLOC_ENTRIES.load(Relaxed).max(1);
        if (total % prealloc) < NODES_PER_PAGE as u32 {
            pr_info!(
                "dma_debug_entry pool grown to {} ({}00%)\n",
                total,
                total / prealloc
            );
        }
    }
    // SAFETY: The record is ours now; writing a fresh `Node` over it.
    unsafe {
        node.write(Node {
            next: ptr::null_mut(),
            prev: ptr::null_mut(),
            cl_next: ptr::null_mut(),
            rec: Record::default(),
            stack_len: origin.len,
            stack: origin.stack,
        });
    }
    Some(node)
}

/// Returns a record to the free list, after taking it off its cacheline.
fn free_node(node: *mut Node) {
    cacheline_remove(node);
    let _g = FREE.lock.lock();
    // SAFETY: The record is off every list; under the free list's lock.
    unsafe {
        (*node).next = *FREE.head.get();
        *FREE.head.get() = node;
    }
    NUM_FREE_ENTRIES.fetch_add(1, Relaxed);
}

// ---- the hash of live records ----

struct Bucket {
    lock: IrqLock,
    head: UnsafeCell<*mut Node>,
    tail: UnsafeCell<*mut Node>,
}

// SAFETY: `head` and `tail` are only touched under `lock`.
unsafe impl Sync for Bucket {}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY_BUCKET: Bucket = Bucket {
    lock: IrqLock::new(),
    head: UnsafeCell::new(ptr::null_mut()),
    tail: UnsafeCell::new(ptr::null_mut()),
};

static BUCKETS: [Bucket; HASH_SIZE] = [EMPTY_BUCKET; HASH_SIZE];
static BUCKET_CLASS: LockClass = LockClass::new();

/// A locked bucket.
struct Locked<'a> {
    bucket: &'a Bucket,
    _guard: IrqGuard<'a>,
}

fn lock_bucket(idx: usize) -> Locked<'static> {
    let bucket = &BUCKETS[idx];
    Locked {
        bucket,
        _guard: bucket.lock.lock(),
    }
}

impl Locked<'_> {
    /// The records in the bucket, with their addresses, oldest first.
    fn iter(&self) -> impl Iterator<Item = (*mut Node, &Record)> + '_ {
        // SAFETY: Under the bucket's lock.
        let mut cur = unsafe { *self.bucket.head.get() };
        core::iter::from_fn(move || {
            if cur.is_null() {
                return None;
            }
            let n = cur;
            // SAFETY: Records on the list are live while the lock is held.
            unsafe {
                cur = (*n).next;
                Some((n, &(*n).rec))
            }
        })
    }

    fn push(&self, node: *mut Node) {
        // SAFETY: Under the bucket's lock; `node` is on no list.
        unsafe {
            let tail = *self.bucket.tail.get();
            (*node).prev = tail;
            (*node).next = ptr::null_mut();
            if tail.is_null() {
                *self.bucket.head.get() = node;
            } else {
                (*tail).next = node;
            }
            *self.bucket.tail.get() = node;
        }
    }

    fn remove(&self, node: *mut Node) {
        // SAFETY: Under the bucket's lock; `node` is on this bucket's list.
        unsafe {
            let (prev, next) = ((*node).prev, (*node).next);
            if prev.is_null() {
                *self.bucket.head.get() = next;
            } else {
                (*prev).next = next;
            }
            if next.is_null() {
                *self.bucket.tail.get() = prev;
            } else {
                (*next).prev = prev;
            }
        }
    }
}

// ---- cachelines ----

const CL_BUCKETS: usize = 4096;

struct Cachelines {
    lock: IrqLock,
    heads: UnsafeCell<[*mut Node; CL_BUCKETS]>,
}

// SAFETY: `heads` and the chains are only touched under `lock`.
unsafe impl Sync for Cachelines {}

static CACHELINES: Cachelines = Cachelines {
    lock: IrqLock::new(),
    heads: UnsafeCell::new([ptr::null_mut(); CL_BUCKETS]),
};
static CL_CLASS: LockClass = LockClass::new();

fn cl_bucket(cln: u64) -> usize {
    (cln as usize) & (CL_BUCKETS - 1)
}

/// Chains a record on its cacheline; returns how many other live mappings
/// share the line and whether the first of them was mapped "cache clean".
fn cacheline_insert(node: *mut Node) -> (u32, bool) {
    // SAFETY: The record is ours and live.
    let (cln, attrs) = unsafe { ((*node).cacheline(), (*node).rec.attrs) };
    let _g = CACHELINES.lock.lock();
    // SAFETY: Under the cacheline lock.
    let head = unsafe { &mut (*CACHELINES.heads.get())[cl_bucket(cln)] };
    let mut others = 0;
    let mut first_clean = None;
    let mut cur = *head;
    while !cur.is_null() {
        // SAFETY: Chained records are live under the lock.
        unsafe {
            if (*cur).cacheline() == cln {
                others += 1;
                first_clean.get_or_insert((*cur).rec.attrs & entry::ATTRS_CACHE_CLEAN != 0);
            }
            cur = (*cur).cl_next;
        }
    }
    // SAFETY: Under the lock; `node` is on no chain.
    unsafe { (*node).cl_next = *head };
    *head = node;
    if others > entry::MAX_OVERLAP && attrs & entry::ATTRS_CACHE_CLEAN == 0 {
        static WARNED: AtomicBool = AtomicBool::new(false);
        if !WARNED.swap(true, Relaxed) {
            pr_warn!(
                "exceeded {} overlapping mappings of cacheline {:#x}\n",
                entry::MAX_OVERLAP,
                cln
            );
            kernel::warn_on!(true);
        }
    }
    (others, first_clean.unwrap_or(false))
}

fn cacheline_remove(node: *mut Node) {
    // SAFETY: The record is ours.
    if !entry::tracks_cacheline(unsafe { (*node).rec.dir }) {
        return;
    }
    // SAFETY: The record is ours.
    let cln = unsafe { (*node).cacheline() };
    let _g = CACHELINES.lock.lock();
    // SAFETY: Under the lock; the record is on its bucket's chain, whose
    // records are live.
    unsafe {
        let mut link: *mut *mut Node = &mut (*CACHELINES.heads.get())[cl_bucket(cln)];
        while !(*link).is_null() {
            if *link == node {
                *link = (*node).cl_next;
                return;
            }
            link = &raw mut (**link).cl_next;
        }
    }
}

// ---- reports ----

static DRIVER_LOCK: IrqLock = IrqLock::new();
static DRIVER_CLASS: LockClass = LockClass::new();

struct DriverFilter {
    name: UnsafeCell<[u8; NAME_LEN]>,
    current: AtomicUsize,
}

// SAFETY: The name is written under `DRIVER_LOCK`; its first byte is read
// without it, as a hint, like C does.
unsafe impl Sync for DriverFilter {}

static FILTER: DriverFilter = DriverFilter {
    name: UnsafeCell::new([0; NAME_LEN]),
    current: AtomicUsize::new(0),
};

fn filter_active() -> bool {
    // SAFETY: A racy read of one byte, only a hint.
    unsafe { ptr::read_volatile(FILTER.name.get().cast::<u8>()) != 0 }
}

/// Whether errors of `dev` are shown under the driver filter.
fn driver_filter(dev: *mut device) -> bool {
    if !filter_active() {
        return true;
    }
    if dev.is_null() {
        return false;
    }
    // SAFETY: The device is live for the call that reports.
    let drv = unsafe { (*dev).driver };
    let current = FILTER.current.load(Relaxed);
    if current != 0 {
        return drv as usize == current;
    }
    if drv.is_null() {
        return false;
    }
    let _g = DRIVER_LOCK.lock();
    // SAFETY: A bound driver's name is a static string; the filter name is
    // NUL-terminated and stable under the lock.
    let matches = unsafe {
        let name = (*drv).name;
        !name.is_null() && CStr::from_char_ptr(name).to_bytes() == filter_name()
    };
    if matches {
        FILTER.current.store(drv as usize, Relaxed);
    }
    matches
}

/// The filter's name, without its NUL. Call under `DRIVER_LOCK`.
fn filter_name() -> &'static [u8] {
    // SAFETY: The caller holds the lock, so nobody writes the name.
    let name = unsafe { &*FILTER.name.get() };
    let len = name.iter().position(|&c| c == 0).unwrap_or(NAME_LEN);
    &name[..len]
}

/// Prints the first frame of `origin` outside the DMA API itself.
fn print_caller(dev: *mut device, origin: &Origin) {
    let mut buf = [0u8; 256];
    for &addr in &origin.stack[..(origin.len as usize).min(STACK_DEPTH)] {
        // SAFETY: `buf` holds any symbol name (KSYM_SYMBOL_LEN is smaller).
        unsafe { bindings::sprint_symbol_no_offset(buf.as_mut_ptr().cast(), addr) };
        let end = buf.iter().position(|&c| c == 0).unwrap_or(0);
        let sym = &buf[..end];
        // The C entry points, and the Rust core's own (mangled) functions.
        let internal = [&b"dma_"[..], b"__dma_", b"debug_dma_", b"iommu_dma_"]
            .iter()
            .any(|p| sym.starts_with(p))
            || [&b"dma_mapping"[..], b"dma_debug"]
                .iter()
                .any(|n| sym.windows(n.len()).any(|w| w == *n));
        if !internal {
            let (drv, name) = dev_names(dev);
            // SAFETY: Valid C strings and a code address for `%pS`.
            unsafe {
                bindings::_printk(
                    c"\x014DMA-API: %s %s: mapped at %pS\n".as_char_ptr(),
                    drv,
                    name,
                    addr as *const c_void,
                )
            };
            return;
        }
    }
}

fn dev_names(dev: *mut device) -> (*const c_char, *const c_char) {
    if dev.is_null() {
        return (c"NULL".as_char_ptr(), c"NULL".as_char_ptr());
    }
    // SAFETY: The device is live for the reporting call.
    unsafe { (bindings::dev_driver_string(dev), bindings::dev_name(dev)) }
}

/// Counts an error and, within the limits `all_errors` and `num_errors`
/// set and the driver filter, reports it with a warning, the stack of the
/// mapping it concerns and that mapping's caller.
fn report(dev: *mut device, origin: Option<&Origin>, msg: fmt::Arguments<'_>) {
    ERROR_COUNT.fetch_add(1, Relaxed);
    let all = SHOW_ALL_ERRORS.load(Relaxed) != 0;
    let left = SHOW_NUM_ERRORS.load(Relaxed);
    if driver_filter(dev) && (all || left > 0) {
        let (drv, name) = dev_names(dev);
        // SAFETY: Valid C strings, and `%pA` takes `fmt::Arguments`.
        unsafe {
            bindings::__warn_printk(
                c"DMA-API: %s %s: %pA".as_char_ptr(),
                drv,
                name,
                ptr::from_ref(&msg).cast::<c_void>(),
            )
        };
        kernel::warn_on!(true);
        if let Some(o) = origin {
            if cfg!(CONFIG_STACKTRACE) {
                pr_warn!("Mapped at:\n");
                // SAFETY: `len` entries of the saved stack are valid.
                unsafe { bindings::stack_trace_print(o.stack.as_ptr(), o.len, 0) };
                print_caller(dev, o);
            }
        }
    }
    if !all && left > 0 {
        SHOW_NUM_ERRORS.store(left - 1, Relaxed);
    }
}

// ---- adding and checking records ----

/// Files a new record: into its hash bucket, and onto its cacheline if the
/// device may write the memory, reporting an unsafe overlap.
fn add(node: *mut Node) {
    // SAFETY: The record is ours.
    let rec = unsafe { (*node).rec };
    lock_bucket(entry::bucket_of(rec.dev_addr)).push(node);
    if !entry::tracks_cacheline(rec.dir) {
        return;
    }
    let (others, first_clean) = cacheline_insert(node);
    if others == 0 {
        return;
    }
    // SAFETY: Pure queries of the architecture and the device.
    let unsafe_overlaps =
        unsafe { bindings::dma_get_cache_alignment() } as u32 >= bindings::L1_CACHE_BYTES;
    if entry::overlap_reported(others, rec.attrs, first_clean, unsafe_overlaps) {
        report(
            rec.dev as *mut device,
            None,
            format_args!("cacheline tracking EEXIST, overlapping mappings aren't supported\n"),
        );
    }
}

/// Takes a record and fills it with `rec`, made at `origin`.
fn track(rec: Record, origin: &Origin) -> Option<*mut Node> {
    let node = alloc_node(origin)?;
    // SAFETY: The record is ours.
    unsafe { (*node).rec = rec };
    Some(node)
}

/// Checks a free or unmap against its record and forgets the record.
fn check_unmap(r: &Record) {
    let dev = r.dev as *mut device;
    let found = {
        let bucket = lock_bucket(entry::bucket_of(r.dev_addr));
        let hit = entry::best_fit(r, bucket.iter(), entry::exact_match);
        if let Some(node) = hit {
            bucket.remove(node);
        }
        hit
    };
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
    // SAFETY: Off the hash, the record is ours alone until it is freed.
    let e = unsafe { &(*node).rec };
    let mut faults = [UnmapFault::Size; 7];
    let n = entry::unmap_faults(r, e, &mut faults);
    if n == 0 {
        free_node(node);
        return;
    }
    // SAFETY: As above.
    report_unmap(r, e, &unsafe { Origin::of(&*node) }, &faults[..n]);
    free_node(node);
}

/// Reports what is wrong with a free or unmap, out of the checking path.
#[cold]
#[inline(never)]
fn report_unmap(r: &Record, e: &Record, origin: &Origin, faults: &[UnmapFault]) {
    let dev = r.dev as *mut device;
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
fn check_sync(r: &Record, to_cpu: bool) {
    let start = entry::bucket_of(r.dev_addr);
    let mut faults = [SyncFault::OutOfRange; 5];
    let mut found = None;
    for i in 0..entry::contain_search_len(r.dev_addr) {
        let bucket = lock_bucket((start + HASH_SIZE - i) % HASH_SIZE);
        if let Some(node) = entry::best_fit(r, bucket.iter(), entry::containing_match) {
            // SAFETY: Live under the bucket's lock.
            let e = unsafe { &(*node).rec };
            let n = entry::sync_faults(r, e, to_cpu, &mut faults);
            // Copied out only to be reported, after the lock.
            // SAFETY: As above.
            found = Some((n, (n > 0).then(|| unsafe { (*e, Origin::of(&*node)) })));
            break;
        }
    }
    let Some((n, faulty)) = found else {
        report_sync_unknown(r);
        return;
    };
    let Some((e, origin)) = faulty else {
        return;
    };
    report_sync(r, &e, &origin, &faults[..n]);
}

/// Reports a sync of memory no mapping holds.
#[cold]
#[inline(never)]
fn report_sync_unknown(r: &Record) {
    report(
        r.dev as *mut device,
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
fn report_sync(r: &Record, e: &Record, origin: &Origin, faults: &[SyncFault]) {
    let dev = r.dev as *mut device;
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
fn mapped_entries(r: &Record) -> i32 {
    let bucket = lock_bucket(entry::bucket_of(r.dev_addr));
    match entry::best_fit(r, bucket.iter(), entry::exact_match) {
        // SAFETY: Live under the bucket's lock.
        Some(node) => unsafe { (*node).rec.sg_mapped_ents },
        None => 0,
    }
}

// ---- checks on the memory being mapped ----

/// Reports memory on the current task's stack.
fn check_for_stack(dev: *mut device, phys: Phys) {
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

/// Reports memory in the kernel's text or read-only data.
fn check_for_illegal_area(dev: *mut device, addr: usize, len: usize) {
    let end = addr.saturating_add(len);
    // Only the addresses of the linker's section symbols are taken.
    let sections = {
        [
            (
                ptr::addr_of!(bindings::_stext) as usize,
                ptr::addr_of!(bindings::_etext) as usize,
            ),
            (
                ptr::addr_of!(bindings::__start_rodata) as usize,
                ptr::addr_of!(bindings::__end_rodata) as usize,
            ),
        ]
    };
    if sections.iter().any(|&(s, e)| addr < e && s < end) {
        report(
            dev,
            None,
            format_args!(
                "device driver maps memory from kernel text or rodata [addr={:p}] [len={}]\n",
                addr as *const c_void, len
            ),
        );
    }
}

/// The linear-map address of `phys`, for the area check (no highmem on
/// 64-bit kernels).
fn linear(phys: Phys) -> usize {
    // SAFETY: Pure address arithmetic.
    unsafe { bindings::dma_rs_phys_to_virt(phys) as usize }
}

/// Reports an sg entry that breaks the device's segment limits.
fn check_sg_segment(dev: *mut device, s: *mut scatterlist) {
    // SAFETY: The device is live; `s` is a mapped entry.
    let (max_seg, boundary, len, start, dma_len) = unsafe {
        (
            bindings::dma_get_max_seg_size(dev),
            bindings::dma_get_seg_boundary(dev) as u64,
            sg::length(s),
            sg::dma_address(s),
            sg::dma_len(s),
        )
    };
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

/// The physical address of a kernel address, linear or vmalloc.
fn virt_to_phys(virt: *mut c_void) -> Phys {
    // SAFETY: The caller checked that `virt` is a valid kernel address.
    unsafe {
        let page = if bindings::is_vmalloc_addr(virt) {
            bindings::vmalloc_to_page(virt)
        } else {
            bindings::dma_rs_virt_to_page(virt)
        };
        mem::page_to_phys(page).wrapping_add((virt as usize % PAGE_SIZE) as Phys)
    }
}

fn valid_kernel_addr(virt: *const c_void) -> bool {
    // SAFETY: Address tests only.
    unsafe { bindings::is_vmalloc_addr(virt) || bindings::__virt_addr_valid(virt as c_ulong) }
}

// ---- the hooks of kernel/dma/debug.h ----

/// The checks of [`debug_dma_map_single`], out of line so that the hook
/// costs a test while dma-debug is off.
#[inline(never)]
fn check_single(dev: *mut device, addr: *const c_void, len: c_ulong) {
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
fn map_phys_tracked(
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
fn mark_checked(dev: *mut device, dma_addr: Dma) {
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
fn unmap_phys_checked(dev: *mut device, dma_addr: Dma, size: usize, dir: c_int, attrs: c_ulong) {
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
unsafe fn sg_ref(
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
unsafe fn map_sg_hook(
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
unsafe fn unmap_sg_hook(
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
unsafe fn alloc_coherent_hook(
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
unsafe fn free_coherent_hook(
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
fn sync_single(dev: *mut device, dma: Dma, size: usize, dir: c_int, to_cpu: bool) {
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
unsafe fn sync_sg(
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

fn pages_ref(
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
unsafe fn alloc_pages_hook(
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
unsafe fn free_pages_hook(
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
                #[allow(unused_unsafe)]
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

// ---- dumps, pending mappings at unbind ----

/// Calls `f` on every live record, bucket by bucket, with the bucket's
/// index, under each bucket's lock in turn.
fn for_each_record(mut f: impl FnMut(usize, &Record)) {
    for idx in 0..HASH_SIZE {
        let bucket = lock_bucket(idx);
        for (_, rec) in bucket.iter() {
            f(idx, rec);
        }
    }
}

/// `debug_dma_dump_mappings()`: logs the live mappings of `dev` (of all
/// devices if NULL).
///
/// # Safety
///
/// `dev` must be NULL or a live device.
#[export]
pub unsafe extern "C" fn debug_dma_dump_mappings(dev: *mut device) {
    for_each_record(|idx, e| {
        if dev.is_null() || dev as usize == e.dev {
            dump_line(idx, e, |drv, name, line| {
                // SAFETY: Valid C strings; `%pA` takes `fmt::Arguments`.
                unsafe { bindings::_printk(c"\x016%s %s: %pA".as_char_ptr(), drv, name, line) };
            });
        }
    });
}

/// Describes a live record as `dump` and `debug_dma_dump_mappings()` show
/// it: hands `emit` the device's driver and name, and the rest of the line
/// as a `fmt::Arguments` for `%pA`.
fn dump_line(
    idx: usize,
    e: &Record,
    emit: impl FnOnce(*const c_char, *const c_char, *const c_void),
) {
    let (drv, name) = dev_names(e.dev as *mut device);
    let cln = entry::cacheline(e.paddr, PAGE_SHIFT, bindings::L1_CACHE_SHIFT);
    let line = format_args!(
        "{} idx {} P=0x{:016x} D={:x} L={:x} cln=0x{:016x} {} {} attrs=0x{:x}\n",
        e.kind.name(),
        idx,
        e.paddr,
        e.dev_addr,
        e.size,
        cln,
        entry::dir_name(e.dir),
        e.map_err.name(),
        e.attrs
    );
    emit(drv, name, ptr::from_ref(&line).cast());
}

/// The `dump` debugfs file: one line per live mapping.
///
/// # Safety
///
/// `seq` must be the seq_file being shown.
#[export]
pub unsafe extern "C" fn dma_debug_rs_dump_show(
    seq: *mut bindings::seq_file,
    _v: *mut c_void,
) -> c_int {
    for_each_record(|idx, e| {
        dump_line(idx, e, |drv, name, line| {
            // SAFETY: Valid C strings; `%pA` takes `fmt::Arguments`.
            unsafe { bindings::seq_printf(seq, c"%s %s %pA".as_char_ptr(), drv, name, line) };
        });
    });
    0
}

/// Bus notifier: reports a driver that unbinds with mappings pending.
///
/// # Safety
///
/// Called by the bus with a live device as `data`.
unsafe extern "C" fn device_change(
    _nb: *mut bindings::notifier_block,
    action: c_ulong,
    data: *mut c_void,
) -> c_int {
    if disabled() || action != bindings::bus_notifier_event_BUS_NOTIFY_UNBOUND_DRIVER as c_ulong {
        return 0;
    }
    let dev = data.cast::<device>();
    let mut count = 0;
    let mut last = Record::default();
    for_each_record(|_, e| {
        if e.dev == dev as usize {
            count += 1;
            last = *e;
        }
    });
    if count > 0 {
        report(dev, None, format_args!(
            "device driver has pending DMA allocations while released from device [count={}]\nOne of leaked entries details: [device address=0x{:016x}] [size={} bytes] [mapped with {}] [mapped as {}]\n",
            count, last.dev_addr, last.size, entry::dir_name(last.dir), last.kind.name()));
    }
    0
}

/// `dma_debug_add_bus()`: watches a bus for drivers unbinding with mappings
/// pending.
///
/// # Safety
///
/// `bus` must be a registered bus type.
#[export]
pub unsafe extern "C" fn dma_debug_add_bus(bus: *const bindings::bus_type) {
    if disabled() {
        return;
    }
    let size = core::mem::size_of::<bindings::notifier_block>();
    // SAFETY: A fresh zeroed allocation, kept for ever as the bus holds it.
    let nb = unsafe {
        bindings::krealloc_node_align(
            ptr::null(),
            size,
            8,
            bindings::GFP_KERNEL | bindings::__GFP_ZERO,
            bindings::NUMA_NO_NODE,
        )
    }
    .cast::<bindings::notifier_block>();
    if nb.is_null() {
        pr_err!("dma_debug_add_bus: out of memory\n");
        return;
    }
    // SAFETY: `nb` is ours and zeroed; the bus keeps it.
    unsafe {
        (*nb).notifier_call = Some(device_change);
        bindings::bus_register_notifier(bus, nb);
    }
}

// ---- initialisation, boot parameters, debugfs ----

/// Sets up the hash and preallocates the records (`core_initcall`).
#[export]
pub extern "C" fn dma_debug_rs_init() -> c_int {
    if DISABLED.load(Relaxed) {
        return 0;
    }
    for b in &BUCKETS {
        b.lock.init(c"dma_debug_bucket", BUCKET_CLASS.get());
    }
    FREE.lock.init(c"dma_debug_free", FREE_CLASS.get());
    CACHELINES
        .lock
        .init(c"dma_debug_cachelines", CL_CLASS.get());
    DRIVER_LOCK.init(c"dma_debug_driver", DRIVER_CLASS.get());

    let want = NR_PREALLOC_ENTRIES.load(Relaxed);
    let pages = (want as usize).div_ceil(NODES_PER_PAGE);
    for _ in 0..pages {
        // Allocated without the lock: a sleeping allocation may reclaim.
        let page = new_page(bindings::GFP_KERNEL);
        if page.is_null() {
            break;
        }
        let _g = FREE.lock.lock();
        add_page(page);
    }
    let total = NR_TOTAL_ENTRIES.load(Relaxed);
    if total >= want {
        pr_info!("preallocated {} debug entries\n", total);
    } else if total > 0 {
        pr_warn!(
            "{} debug entries requested but only {} allocated\n",
            want,
            total
        );
    } else {
        pr_err!("debugging out of memory error - disabled\n");
        DISABLED.store(true, Relaxed);
        return 0;
    }
    MIN_FREE_ENTRIES.store(NUM_FREE_ENTRIES.load(Relaxed), Relaxed);
    READY.store(true, Relaxed);
    pr_info!("debugging enabled by kernel config\n");
    0
}

/// `dma_debug=off`.
#[export]
pub extern "C" fn dma_debug_rs_set_off() {
    pr_info!("debugging disabled on kernel command line\n");
    DISABLED.store(true, Relaxed);
}

/// `dma_debug_entries=N`; 0 keeps the default.
#[export]
pub extern "C" fn dma_debug_rs_set_entries(nr_entries: u32) {
    let n = if nr_entries == 0 {
        DEFAULT_ENTRIES
    } else {
        nr_entries
    };
    NR_PREALLOC_ENTRIES.store(n, Relaxed);
}

/// `dma_debug_driver=NAME`.
///
/// # Safety
///
/// `name` must be NULL or a NUL-terminated string.
#[export]
pub unsafe extern "C" fn dma_debug_rs_set_driver(name: *const c_char) {
    if name.is_null() {
        return;
    }
    // SAFETY: A NUL-terminated boot parameter; at boot, nobody else reads
    // the filter yet.
    let bytes = unsafe { CStr::from_char_ptr(name) }.to_bytes();
    let len = bytes.len().min(NAME_LEN - 1);
    // SAFETY: As above.
    let buf = unsafe { &mut *FILTER.name.get() };
    buf[..len].copy_from_slice(&bytes[..len]);
    buf[len] = 0;
    if len > 0 {
        pr_info!(
            "enable driver filter for driver [{}]\n",
            BStr::from_bytes(&buf[..len])
        );
    }
}

/// Reads `driver_filter`: the name and a newline, or nothing.
///
/// # Safety
///
/// The arguments are those of a debugfs read.
#[export]
pub unsafe extern "C" fn dma_debug_rs_filter_read(
    _file: *mut bindings::file,
    user_buf: *mut c_char,
    count: usize,
    ppos: *mut bindings::loff_t,
) -> isize {
    let mut buf = [0u8; NAME_LEN + 1];
    let len = {
        let _g = DRIVER_LOCK.lock();
        let name = filter_name();
        if name.is_empty() {
            return 0;
        }
        buf[..name.len()].copy_from_slice(name);
        buf[name.len()] = b'\n';
        name.len() + 1
    };
    // SAFETY: The caller's user buffer and position; `buf` holds `len` bytes.
    unsafe {
        bindings::simple_read_from_buffer(user_buf.cast(), count, ppos, buf.as_ptr().cast(), len)
    }
}

/// Writes `driver_filter`: the first word names the driver whose errors
/// alone are shown; anything not starting with a letter or digit switches
/// the filter off.
///
/// # Safety
///
/// The arguments are those of a debugfs write.
#[export]
pub unsafe extern "C" fn dma_debug_rs_filter_write(
    _file: *mut bindings::file,
    user_buf: *const c_char,
    count: usize,
    _ppos: *mut bindings::loff_t,
) -> isize {
    let mut input = [0u8; NAME_LEN];
    let len = count.min(NAME_LEN - 1);
    // SAFETY: `input` has room for `len` bytes.
    if unsafe {
        bindings::copy_from_user(input.as_mut_ptr().cast(), user_buf.cast(), len as c_ulong)
    } != 0
    {
        return -(bindings::EFAULT as isize);
    }
    let _g = DRIVER_LOCK.lock();
    // SAFETY: Under the lock, the only writer.
    let name = unsafe { &mut *FILTER.name.get() };
    match entry::parse_filter(&input[..len], name) {
        None => {
            if name[0] != 0 {
                pr_info!("switching off dma-debug driver filter\n");
            }
            name[0] = 0;
        }
        Some(n) => pr_info!(
            "enable driver filter for driver [{}]\n",
            BStr::from_bytes(&name[..n])
        ),
    }
    FILTER.current.store(0, Relaxed);
    count as isize
}

/// Creates `dma-api/` in debugfs (`core_initcall_sync`).
#[export]
pub extern "C" fn dma_debug_rs_fs_init() -> c_int {
    // SAFETY: debugfs copes with any parent, including an error pointer;
    // the counters and fops are statics that live for ever.
    unsafe {
        let dir = bindings::debugfs_create_dir(c"dma-api".as_char_ptr(), ptr::null_mut());
        bindings::debugfs_create_bool(c"disabled".as_char_ptr(), 0o444, dir, DISABLED.as_ptr());
        for (name, mode, v) in [
            (c"error_count", 0o444, &ERROR_COUNT),
            (c"all_errors", 0o644, &SHOW_ALL_ERRORS),
            (c"num_errors", 0o644, &SHOW_NUM_ERRORS),
            (c"num_free_entries", 0o444, &NUM_FREE_ENTRIES),
            (c"min_free_entries", 0o444, &MIN_FREE_ENTRIES),
            (c"nr_total_entries", 0o444, &NR_TOTAL_ENTRIES),
        ] {
            bindings::debugfs_create_u32(name.as_char_ptr(), mode, dir, v.as_ptr());
        }
        bindings::debugfs_create_file_full(
            c"driver_filter".as_char_ptr(),
            0o644,
            dir,
            ptr::null_mut(),
            ptr::null(),
            &raw const bindings::dma_debug_rs_filter_fops,
        );
        bindings::debugfs_create_file_full(
            c"dump".as_char_ptr(),
            0o444,
            dir,
            ptr::null_mut(),
            ptr::null(),
            &raw const bindings::dma_debug_rs_dump_fops,
        );
    }
    0
}
