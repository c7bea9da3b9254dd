// SPDX-License-Identifier: GPL-2.0-only

//! swiotlb in Rust: bounce buffers for devices that cannot reach the memory
//! they are given, in place of `kernel/dma/swiotlb.c`
//! (`CONFIG_DMA_RUST_SWIOTLB`).
//!
//! A mapping that must bounce takes a run of 2 KiB slots in the default
//! pool ([`pool`]), chosen by the slot allocator ([`slots`]) under the lock
//! of one of the pool's areas, starting at the current CPU's area. Data is
//! copied into the slots at map time whatever the direction, so a device
//! never sees stale kernel memory, and back at unmap and at each sync.
//!
//! Beyond C:
//! - the slot search is bounded whatever the fragmentation (see
//!   [`slots`]);
//! - a sync or an unmap past the end of its mapping is cut to the mapping,
//!   even when it starts past the end, and reported; a sync in a direction
//!   the mapping cannot have is reported instead of crashing; an unmap of an
//!   address that is no mapping's start frees nothing and is reported;
//! - "swiotlb buffer is full" also gives the longest free run.
//!
//! The boot parameter is parsed in [`param`]; the C glue
//! (`kernel/dma/swiotlb_glue.c`) allocates the pool at boot and makes the
//! debugfs files under `swiotlb/`. With `SWIOTLB_DYNAMIC` the set of pools
//! grows ([`dynamic`]). Restricted pools (`DMA_RESTRICTED_POOL`) are not in
//! Rust yet: with them, the C swiotlb is built (see `Kconfig.rust`).

use core::sync::atomic::{
    AtomicBool,
    AtomicU32,
    AtomicUsize,
    Ordering::Relaxed, //
};
use kernel::bindings::{
    self,
    device,
    dma_data_direction,
    io_tlb_pool, //
};
use kernel::dma::rust_core::{
    arch,
    Dma,
    Phys, //
};
use kernel::ffi::{
    c_char,
    c_int,
    c_uint,
    c_ulong,
    c_void, //
};
use kernel::prelude::*;

#[cfg(CONFIG_SWIOTLB_DYNAMIC)]
use core::ptr;

mod dev;
#[cfg(CONFIG_SWIOTLB_DYNAMIC)]
pub mod dynamic;
mod holders;
mod param;
mod pool;
mod slots;

use dev::Dev;
use holders::Holders;
use param::Params;
use pool::Pool;
use slots::{
    Constraints,
    Counters,
    Span,
    SEGSIZE,
    SLOT_SIZE, //
};

const __LOG_PREFIX: &[u8] = b"software IO TLB\0";

// The pure modules spell out the kernel's constants; tie them to `bindings`.
const _: () = {
    assert!(slots::SHIFT == bindings::IO_TLB_SHIFT);
    assert!(SEGSIZE == bindings::IO_TLB_SEGSIZE as usize);
};

const MAPPING_ERROR: Phys = !0;
const ATTR_SKIP_CPU_SYNC: c_ulong = bindings::DMA_ATTR_SKIP_CPU_SYNC as c_ulong;
const ATTR_NO_WARN: c_ulong = bindings::DMA_ATTR_NO_WARN as c_ulong;
const TO_DEVICE: dma_data_direction = bindings::dma_data_direction_DMA_TO_DEVICE;
const FROM_DEVICE: dma_data_direction = bindings::dma_data_direction_DMA_FROM_DEVICE;
const BIDIRECTIONAL: dma_data_direction = bindings::dma_data_direction_DMA_BIDIRECTIONAL;

// ---- the default pool's parameters ----

// Written by the boot parameter and the architecture's early set-up, on one
// CPU, before any mapping; read afterwards.
static NSLABS: AtomicUsize = AtomicUsize::new(param::DEFAULT_NSLABS);
static NAREAS: AtomicU32 = AtomicU32::new(0);
static FORCE_BOUNCE: AtomicBool = AtomicBool::new(false);
static FORCE_DISABLE: AtomicBool = AtomicBool::new(false);

fn params() -> Params {
    Params {
        nslabs: NSLABS.load(Relaxed),
        nareas: NAREAS.load(Relaxed),
        force_bounce: FORCE_BOUNCE.load(Relaxed),
        force_disable: FORCE_DISABLE.load(Relaxed),
    }
}

fn store_params(p: &Params) {
    NSLABS.store(p.nslabs, Relaxed);
    NAREAS.store(p.nareas, Relaxed);
    FORCE_BOUNCE.store(p.force_bounce, Relaxed);
    FORCE_DISABLE.store(p.force_disable, Relaxed);
}

/// Slots in use in the default pool set, and their high-water mark.
static COUNTERS: Counters = Counters::new();

/// The devices holding slots of the default pool set.
static HOLDERS: Holders = Holders::new();

/// The boot parameter `swiotlb=`, from the C glue.
///
/// # Safety
///
/// `s` is NULL or a NUL-terminated string.
#[export]
pub unsafe extern "C" fn swiotlb_rs_parse(s: *const c_char) {
    if s.is_null() {
        return;
    }
    // SAFETY: A NUL-terminated string (the caller's guarantee).
    let s = unsafe { CStr::from_char_ptr(s) }.to_bytes();
    let mut p = params();
    let r = p.parse(s);
    if let Some(n) = r.nareas {
        pr_info!("area num {}.\n", n);
    }
    if r.rounded {
        pr_info!(
            "SWIOTLB bounce buffer size roundup to {}MB\n",
            p.bytes() >> 20
        );
    }
    if let Some(at) = r.ignored_at {
        let rest = core::str::from_utf8(&s[at..]).unwrap_or("?");
        pr_warn!(
            "swiotlb=: ignoring \"{}\"; expected [nslabs][,nareas][,force|noforce]\n",
            rest
        );
    }
    store_params(&p);
}

/// The default pool's parameters, for the C glue's set-up. With `ncpus`
/// not 0, the number of areas, when nobody chose it, becomes one per
/// possible CPU (from then on).
///
/// # Safety
///
/// `out` is valid for writes.
#[export]
pub unsafe extern "C" fn swiotlb_rs_params(out: *mut bindings::swiotlb_rs_params, ncpus: c_uint) {
    let mut p = params();
    if p.nareas == 0 && ncpus != 0 {
        let rounded = p.set_nareas(ncpus);
        pr_info!("area num {}.\n", p.nareas);
        if rounded {
            pr_info!(
                "SWIOTLB bounce buffer size roundup to {}MB\n",
                p.bytes() >> 20
            );
        }
        store_params(&p);
    }
    let c = bindings::swiotlb_rs_params {
        nslabs: p.nslabs,
        nareas: p.nareas,
        force_bounce: p.force_bounce,
        force_disable: p.force_disable,
    };
    // SAFETY: Valid for writes (the caller's guarantee).
    unsafe { out.write(c) };
}

/// Records the size the default pool got, when memory was short.
#[export]
pub extern "C" fn swiotlb_rs_set_nslabs(nslabs: c_ulong) {
    NSLABS.store(nslabs, Relaxed);
}

/// The areas a pool of `nslabs` slots gets when `nareas` are asked for.
#[export]
pub extern "C" fn swiotlb_rs_nareas(nareas: c_uint, nslabs: c_ulong) -> c_uint {
    param::areas_for(nareas, nslabs)
}

/// Bytes of a pool's area locks.
#[export]
pub extern "C" fn swiotlb_rs_areas_size(nareas: c_uint) -> usize {
    pool::areas_size(nareas as usize)
}

/// Bytes of a pool's slot records, bitmap and summaries.
#[export]
pub extern "C" fn swiotlb_rs_slots_size(nslabs: c_ulong) -> usize {
    pool::slots_size(nslabs)
}

/// Sets up a pool; see [`pool::init`]. Returns whether it did: a shape no
/// pool can have leaves it without slots, and is reported.
///
/// # Safety
///
/// As [`pool::init`].
#[export]
pub unsafe extern "C" fn swiotlb_rs_pool_init(
    pool: *mut io_tlb_pool,
    start: Phys,
    vaddr: *mut c_void,
    nslabs: c_ulong,
    late_alloc: bool,
    nareas: c_uint,
) -> bool {
    // SAFETY: The caller's guarantees are `init`'s.
    let p = unsafe { pool::init(pool, start, vaddr, nslabs, late_alloc, nareas as usize) };
    if p.is_none() {
        pr_err!("cannot set up {} slots in {} areas\n", nslabs, nareas);
    }
    p.is_some()
}

/// `io_tlb_used` of the default pool set.
#[export]
pub extern "C" fn swiotlb_rs_used() -> c_ulong {
    COUNTERS.used()
}

/// `io_tlb_used_hiwater` of the default pool set.
#[export]
pub extern "C" fn swiotlb_rs_hiwater() -> c_ulong {
    COUNTERS.hiwater()
}

/// Resets `io_tlb_used_hiwater`.
#[export]
pub extern "C" fn swiotlb_rs_reset_hiwater() {
    COUNTERS.reset_hiwater();
}

/// The debugfs file `swiotlb/devices`: a line per device holding slots,
/// its name and how many it holds.
///
/// # Safety
///
/// `seq` is the seq_file being shown.
#[export]
pub unsafe extern "C" fn swiotlb_rs_devices_show(
    seq: *mut bindings::seq_file,
    _v: *mut c_void,
) -> c_int {
    HOLDERS.for_each(|name, slots| {
        // SAFETY: The seq_file being shown; `%.*s` reads `name.len()` bytes
        // of `name`, and `%lu` takes a `c_ulong`.
        unsafe {
            bindings::seq_printf(
                seq,
                c"%.*s %lu\n".as_char_ptr(),
                name.len() as c_int,
                name.as_ptr(),
                slots as c_ulong,
            )
        };
    });
    0
}

// ---- the C ABI of <linux/swiotlb.h> ----

/// The default pool set (only its address is taken here).
fn default_mem() -> *mut bindings::io_tlb_mem {
    &raw mut bindings::io_tlb_default_mem
}

/// The default pool, once it has slots.
fn default_pool() -> Option<Pool<'static>> {
    // SAFETY: The default set is a static; its pool is zeros until the
    // glue's boot-time set-up, before any device uses it.
    unsafe { Pool::of_mem(default_mem()) }
}

/// `swiotlb_size_or_default()`: the default pool's size in bytes.
#[export]
pub extern "C" fn swiotlb_size_or_default() -> c_ulong {
    params().bytes() as c_ulong
}

/// `swiotlb_adjust_size()`: the architecture asks for a bigger default
/// pool, which applies unless `swiotlb=` gave a size.
#[export]
pub extern "C" fn swiotlb_adjust_size(size: c_ulong) {
    let mut p = params();
    if let Some(bytes) = p.adjust_size(size as u64) {
        store_params(&p);
        pr_info!("SWIOTLB bounce buffer size adjusted to {}MB\n", bytes >> 20);
    }
}

/// `swiotlb_print_info()`: where the default pool is.
#[export]
pub extern "C" fn swiotlb_print_info() {
    match default_pool() {
        Some(p) => pr_info!(
            "mapped [mem {:#018x}-{:#018x}] ({}MB)\n",
            p.start(),
            p.start() + ((p.nslabs() as u64) << slots::SHIFT),
            (p.nslabs() << slots::SHIFT) >> 20
        ),
        None => pr_warn!("No low mem\n"),
    }
}

/// `is_swiotlb_allocated()`: whether the default pool has slots.
#[export]
pub extern "C" fn is_swiotlb_allocated() -> bool {
    default_pool().is_some()
}

/// `is_swiotlb_active()`: whether the device has a pool with slots.
///
/// # Safety
///
/// `dev` is a live device.
#[export]
pub unsafe extern "C" fn is_swiotlb_active(dev: *mut device) -> bool {
    // SAFETY: A live device (the caller's guarantee).
    unsafe { Dev::new(dev) }.and_then(|d| d.pool()).is_some()
}

/// `default_swiotlb_base()`: the lowest address of the default pool. A
/// caller relies on the pool set staying within the base and the limit:
/// from now on, it does not grow.
#[export]
pub extern "C" fn default_swiotlb_base() -> Phys {
    #[cfg(CONFIG_SWIOTLB_DYNAMIC)]
    // SAFETY: A racy write of the flag, as C's; readers only decide
    // whether to grow.
    unsafe {
        ptr::write_volatile(ptr::addr_of_mut!((*default_mem()).can_grow), false)
    };
    default_pool().map_or(0, |p| p.start())
}

/// `default_swiotlb_limit()`: the highest address of the default pool (all
/// ones without one, as C's `end - 1` of an empty pool), or, while the set
/// may grow, the highest address a new pool may have.
#[export]
pub extern "C" fn default_swiotlb_limit() -> Phys {
    #[cfg(CONFIG_SWIOTLB_DYNAMIC)]
    // SAFETY: The default set is a static; its limit is written at boot.
    unsafe {
        let mem = default_mem();
        if ptr::read_volatile(ptr::addr_of!((*mem).can_grow)) {
            return (*mem).phys_limit;
        }
    }
    default_pool().map_or(Phys::MAX, |p| {
        p.start() + ((p.nslabs() as u64) << slots::SHIFT) - 1
    })
}

/// `swiotlb_max_mapping_size()`: the longest mapping a bounce can take,
/// a segment less what keeping the device's low address bits may cost.
///
/// # Safety
///
/// `dev` is a live device.
#[export]
pub unsafe extern "C" fn swiotlb_max_mapping_size(dev: *mut device) -> usize {
    // SAFETY: A live device (the caller's guarantee).
    let mask = unsafe { Dev::new(dev) }.map_or(0, |d| d.min_align_mask());
    let min_align = mask.div_ceil(SLOT_SIZE) * SLOT_SIZE;
    (SLOT_SIZE * SEGSIZE as u64).saturating_sub(min_align) as usize
}

/// Prints a warning once per `$flag`, with the device, and a backtrace.
macro_rules! dev_warn_once {
    ($flag:ident, $d:expr, $($arg:tt)*) => {{
        static $flag: AtomicBool = AtomicBool::new(false);
        if !$flag.swap(true, Relaxed) {
            dev_warn!($d.as_ref(), $($arg)*);
            kernel::warn_on!(true);
        }
    }};
}

/// A rate limit for one message, as `dev_warn_ratelimited()` keeps one per
/// call site: at most 10 messages in 5 seconds.
struct RateLimit {
    start: AtomicUsize,
    count: AtomicU32,
}

impl RateLimit {
    const fn new() -> Self {
        RateLimit {
            start: AtomicUsize::new(0),
            count: AtomicU32::new(0),
        }
    }

    /// Whether the message may be printed now. Racing CPUs may print one
    /// more or one fewer; nothing else depends on it.
    fn allow(&self) -> bool {
        // SAFETY: A read of the tick counter, which only its owner writes.
        let now = unsafe { core::ptr::read_volatile(&raw const bindings::jiffies) };
        let start = self.start.load(Relaxed);
        if start == 0 || now.wrapping_sub(start) > kernel::time::msecs_to_jiffies(5000) {
            self.start.store(now, Relaxed);
            self.count.store(0, Relaxed);
        }
        self.count.fetch_add(1, Relaxed) < 10
    }
}

static NO_POOL_WARNINGS: RateLimit = RateLimit::new();
static FULL_WARNINGS: RateLimit = RateLimit::new();

/// Copies between a mapping's slots and its original memory: `size` bytes
/// at pool address `tlb`, to the slots when `to_device`.
fn bounce(d: Dev<'_>, pool: Pool<'_>, tlb: Phys, size: usize, to_device: bool) {
    let Some(span) = pool
        .slot_of(tlb)
        .and_then(|slot| Span::new(slot, tlb, size as u64))
    else {
        return;
    };
    if span.clamped {
        dev_warn_once!(
            OVERFLOW,
            d,
            "Buffer overflow detected. Allocation size: {}. Mapping size: {}.\n",
            span.size,
            size
        );
    }
    let len = span.size as usize;
    if len == 0 {
        return;
    }
    if !to_device && !d.is_coherent() {
        // The device's writes to the slots are complete before the copy.
        arch::flush();
    }
    let slots = pool.vaddr_of(tlb);
    // SAFETY: The original memory is a direct-mapped buffer the caller
    // lent for the mapping (no highmem where this option builds), and the
    // span is cut to the mapping, both in the buffer and in its slots.
    unsafe {
        let orig = bindings::dma_rs_phys_to_virt(span.orig).cast::<u8>();
        if to_device {
            core::ptr::copy_nonoverlapping(orig, slots, len);
        } else {
            core::ptr::copy_nonoverlapping(slots, orig, len);
        }
    }
}

/// Takes slots of the default pool for `size` bytes at `orig`, from area
/// `cpu` on: the pool, the pool address of the data and the slots taken.
#[cfg(not(CONFIG_SWIOTLB_DYNAMIC))]
fn find_slots<'a>(
    d: Dev<'a>,
    cpu: usize,
    orig: Phys,
    size: usize,
    c: &Constraints,
) -> Option<(Pool<'a>, Phys, usize)> {
    let pool = d.pool()?;
    let (tlb, taken) = pool.map(cpu, d.phys_to_dma_unencrypted(pool.start()), orig, size, c)?;
    Some((pool, tlb, taken))
}

/// The slots of `d`'s pool set, its default `pool` alone, and the longest
/// run of free ones.
#[cfg(not(CONFIG_SWIOTLB_DYNAMIC))]
fn set_room(_d: Dev<'_>, pool: Pool<'_>) -> (usize, usize) {
    (pool.nslabs(), pool.longest_free_run())
}

#[cfg(CONFIG_SWIOTLB_DYNAMIC)]
use dynamic::{
    find_slots,
    set_room, //
};

/// `swiotlb_tbl_map_single()`: takes slots for `mapping_size` bytes at
/// `orig_addr`, aligned to `alloc_align_mask`, and copies the data in.
/// Returns the pool address of the data, or `DMA_MAPPING_ERROR`.
///
/// # Safety
///
/// `dev` is a live device; the memory at `orig_addr` stays lent until the
/// mapping is removed.
#[export]
pub unsafe extern "C" fn swiotlb_tbl_map_single(
    dev: *mut device,
    orig_addr: Phys,
    mapping_size: usize,
    alloc_align_mask: c_uint,
    _dir: dma_data_direction,
    attrs: c_ulong,
) -> Phys {
    // SAFETY: A live device (the caller's guarantee).
    let Some(d) = (unsafe { Dev::new(dev) }) else {
        return MAPPING_ERROR;
    };
    map_single(d, orig_addr, mapping_size, alloc_align_mask, attrs).map_or(MAPPING_ERROR, |m| m.1)
}

/// [`swiotlb_tbl_map_single`] for a device: the pool and the pool address
/// of the data.
fn map_single(
    d: Dev<'_>,
    orig_addr: Phys,
    mapping_size: usize,
    alloc_align_mask: c_uint,
    attrs: c_ulong,
) -> Option<(Pool<'_>, Phys)> {
    // SAFETY: A query of the platform's features.
    if unsafe { bindings::dma_rs_cc_mem_encrypt() } {
        static ENCRYPTED: AtomicBool = AtomicBool::new(false);
        if !ENCRYPTED.swap(true, Relaxed) {
            pr_warn!("Memory encryption is active and system is using DMA bounce buffers\n");
        }
    }
    let Some(pool) = d.pool() else {
        if NO_POOL_WARNINGS.allow() {
            dev_warn!(
                d.as_ref(),
                "Can not allocate SWIOTLB buffer earlier and can't now provide you with the DMA bounce buffer"
            );
        }
        return None;
    };
    let page_mask = bindings::PAGE_SIZE as u64 - 1;
    if u64::from(alloc_align_mask) > page_mask {
        dev_warn_once!(
            BIG_ALIGN,
            d,
            "Alloc alignment may prevent fulfilling requests with max mapping_size\n"
        );
    }
    let c = Constraints {
        min_align_mask: d.min_align_mask(),
        alloc_align_mask: alloc_align_mask.into(),
        boundary_mask: d.seg_boundary(),
        page_size: bindings::PAGE_SIZE as u64,
    };
    // SAFETY: Reads the current CPU's number; any answer is fine.
    let cpu = unsafe { bindings::raw_smp_processor_id() } as usize;
    let Some((found, tlb, taken)) = find_slots(d, cpu, orig_addr, mapping_size, &c) else {
        if attrs & ATTR_NO_WARN == 0 && FULL_WARNINGS.allow() {
            let size = slots::Layout::new(orig_addr, mapping_size as u64, &c).map_or(0, |l| l.size);
            let (total, longest) = set_room(d, pool);
            dev_warn!(
                d.as_ref(),
                "swiotlb buffer is full (sz: {} bytes), total {} (slots), used {} (slots), longest free run {} (slots)\n",
                size,
                total,
                COUNTERS.used(),
                longest
            );
            for (name, slots) in HOLDERS.top::<3>().iter().filter(|l| l.1 != 0) {
                let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
                let name = core::str::from_utf8(&name[..len]).unwrap_or("?");
                dev_warn!(d.as_ref(), "swiotlb slots held by {}: {}\n", name, slots);
            }
        }
        return None;
    };
    COUNTERS.take(taken);
    HOLDERS.take(d.raw() as usize, taken, || d.as_ref().name().to_bytes());
    d.reset_need_sync();
    // Always to the device, whatever the direction: the device must not
    // see what the slots held before, and what it does not write must
    // come back unchanged.
    bounce(d, found, tlb, mapping_size, true);
    Some((found, tlb))
}

/// Frees a mapping's slots, and says so when the address is no mapping's;
/// a transient pool goes with its mapping. An address that is not the
/// mapping's start frees nothing, not even a transient pool: C frees the
/// pool, under the mapping that still uses it.
///
/// # Safety
///
/// The caller does not use `pool` afterwards: a transient pool is freed.
unsafe fn release(d: Dev<'_>, pool: Pool<'_>, tlb: Phys) {
    let freed = pool.unmap(tlb);
    if freed == 0 {
        dev_warn_once!(
            BAD_UNMAP,
            d,
            "swiotlb: unmap of {:#x}, which is not a bounce buffer's start\n",
            tlb
        );
        return;
    }
    COUNTERS.give(freed);
    if !HOLDERS.give(d.raw() as usize, freed) {
        dev_warn_once!(
            OTHER_DEVICE,
            d,
            "swiotlb: {} slots given back through a device that did not map them\n",
            freed
        );
    }
    #[cfg(CONFIG_SWIOTLB_DYNAMIC)]
    if pool.is_transient() {
        // SAFETY: The mapping, the pool's only one, is gone, and the pool
        // is not used after (the caller's guarantee).
        unsafe { dynamic::free_transient(d, pool) };
    }
}

/// `__swiotlb_tbl_unmap_single()`: copies the data back if the device may
/// have written it, and frees the slots.
///
/// # Safety
///
/// `dev` is a live device and `pool` the pool holding its mapping at
/// `tlb_addr`, which the caller gives up.
#[export]
pub unsafe extern "C" fn __swiotlb_tbl_unmap_single(
    dev: *mut device,
    tlb_addr: Phys,
    mapping_size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
    pool: *mut io_tlb_pool,
) {
    // SAFETY: A live device, and its pool (the caller's guarantee).
    let (Some(d), Some(pool)) = (unsafe { (Dev::new(dev), Pool::from_raw(pool)) }) else {
        return;
    };
    if attrs & ATTR_SKIP_CPU_SYNC == 0 && (dir == FROM_DEVICE || dir == BIDIRECTIONAL) {
        bounce(d, pool, tlb_addr, mapping_size, false);
    }
    // SAFETY: The last use of the pool.
    unsafe { release(d, pool, tlb_addr) };
}

/// Reports a sync whose direction the mapping cannot have (C's `BUG_ON`).
fn bad_sync_dir(d: Dev<'_>, dir: dma_data_direction) {
    dev_warn_once!(BAD_DIR, d, "swiotlb: sync in invalid direction {}\n", dir);
}

/// A sync of `size` bytes at `tlb_addr`: to the device's slots when
/// `to_device`, else back to the CPU, if the mapping's direction moves data
/// that way.
///
/// # Safety
///
/// `dev` is a live device and `pool` the pool holding its mapping at
/// `tlb_addr`.
unsafe fn sync(
    dev: *mut device,
    tlb_addr: Phys,
    size: usize,
    dir: dma_data_direction,
    pool: *mut io_tlb_pool,
    to_device: bool,
) {
    // SAFETY: A live device, and its pool (the caller's guarantee).
    let (Some(d), Some(pool)) = (unsafe { (Dev::new(dev), Pool::from_raw(pool)) }) else {
        return;
    };
    let (copies, skips) = if to_device {
        (TO_DEVICE, FROM_DEVICE)
    } else {
        (FROM_DEVICE, TO_DEVICE)
    };
    match dir {
        BIDIRECTIONAL => bounce(d, pool, tlb_addr, size, to_device),
        _ if dir == copies => bounce(d, pool, tlb_addr, size, to_device),
        _ if dir == skips => {}
        _ => bad_sync_dir(d, dir),
    }
}

/// `__swiotlb_sync_single_for_device()`: copies what the CPU wrote to the
/// slots.
///
/// # Safety
///
/// `dev` is a live device and `pool` the pool holding its mapping at
/// `tlb_addr`.
#[export]
pub unsafe extern "C" fn __swiotlb_sync_single_for_device(
    dev: *mut device,
    tlb_addr: Phys,
    size: usize,
    dir: dma_data_direction,
    pool: *mut io_tlb_pool,
) {
    // SAFETY: The caller's guarantees are `sync`'s.
    unsafe { sync(dev, tlb_addr, size, dir, pool, true) }
}

/// `__swiotlb_sync_single_for_cpu()`: copies what the device wrote back.
///
/// # Safety
///
/// As [`__swiotlb_sync_single_for_device`].
#[export]
pub unsafe extern "C" fn __swiotlb_sync_single_for_cpu(
    dev: *mut device,
    tlb_addr: Phys,
    size: usize,
    dir: dma_data_direction,
    pool: *mut io_tlb_pool,
) {
    // SAFETY: The caller's guarantees are `sync`'s.
    unsafe { sync(dev, tlb_addr, size, dir, pool, false) }
}

/// Fires the `swiotlb_bounced` event, with the address the device would
/// have seen; a disabled event costs its static branch.
#[inline(always)]
fn trace_bounced(d: Dev<'_>, paddr: Phys, size: usize) {
    #[cfg(CONFIG_TRACEPOINTS)]
    if kernel::dma::rust_core::tracepoint_enabled!(bindings::__tracepoint_swiotlb_bounced) {
        // SAFETY: A pure function of its argument.
        let dma = unsafe { bindings::dma_rs_addr_encrypted(d.phys_to_dma_unencrypted(paddr)) };
        // SAFETY: A live device; the event only records.
        unsafe { bindings::rust_do_trace_swiotlb_bounced(d.raw(), dma, size) };
    }
    #[cfg(not(CONFIG_TRACEPOINTS))]
    let _ = (d, paddr, size);
}

/// `swiotlb_map()`: bounces `size` bytes at `paddr` for dma-direct and
/// returns the device's address of the bounce buffer.
///
/// # Safety
///
/// As [`swiotlb_tbl_map_single`].
#[export]
pub unsafe extern "C" fn swiotlb_map(
    dev: *mut device,
    paddr: Phys,
    size: usize,
    dir: dma_data_direction,
    attrs: c_ulong,
) -> Dma {
    // SAFETY: A live device (the caller's guarantee).
    let Some(d) = (unsafe { Dev::new(dev) }) else {
        return MAPPING_ERROR;
    };
    trace_bounced(d, paddr, size);
    let Some((pool, tlb)) = map_single(d, paddr, size, 0, attrs) else {
        return MAPPING_ERROR;
    };
    let dma = d.phys_to_dma_unencrypted(tlb);
    if !d.capable(dma, size) {
        // SAFETY: The last use of the pool.
        unsafe { release(d, pool, tlb) };
        let (mask, limit) = d.limits();
        dev_warn_once!(
            UNREACHABLE,
            d,
            "swiotlb addr {:#x}+{} overflow (mask {:x}, bus limit {:x}).\n",
            dma,
            size,
            mask,
            limit
        );
        return MAPPING_ERROR;
    }
    if !d.is_coherent() && attrs & ATTR_SKIP_CPU_SYNC == 0 {
        // SAFETY: The slots just filled, in the pool's linear mapping.
        unsafe { arch::for_device(tlb, size, dir) };
        arch::flush();
    }
    dma
}
