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

// The counters and flags are read on every DMA API call and written
// without a lock, as C's are; core's relaxed atomics compile to plain moves
// here, where the kernel's `Atomic` calls a C helper without LTO.
use core::sync::atomic::{
    AtomicBool,
    AtomicU32,
    Ordering::Relaxed, //
};
use kernel::bindings;
use kernel::dma::rust_core::Dma;

mod entry;
mod param;

pub mod cacheline;
pub mod checks;
pub mod debugfs;
pub mod hash;
pub mod hooks;
pub mod records;
pub mod report;

const __LOG_PREFIX: &[u8] = b"DMA-API\0";

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
