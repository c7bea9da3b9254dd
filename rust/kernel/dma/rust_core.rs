// SPDX-License-Identifier: GPL-2.0

//! Code shared by the crates of the Rust DMA core (`kernel/dma/`): the
//! mapping core (`CONFIG_DMA_RUST_MAPPING`), dma-debug
//! (`CONFIG_DMA_RUST_DEBUG`), dma_pool (`CONFIG_DMA_RUST_POOL`) and swiotlb
//! (`CONFIG_DMA_RUST_SWIOTLB`).
//!
//! Each of those crates is selected by its own option, so what two of them
//! need lives here, compiled once. Drivers have no use for it: they use
//! [`kernel::dma`](super) and its safe submodules.

pub mod arch;
// The lock calls the out-of-line irqsave spinlock functions and treats a
// `spinlock_t` as the raw lock it starts with: what the options of its
// users require (SMP, no PREEMPT_RT, no inlined spinlocks).
#[cfg(any(CONFIG_DMA_RUST_POOL, CONFIG_DMA_RUST_DEBUG, CONFIG_DMA_RUST_SWIOTLB))]
pub mod lock;
pub mod mem;
pub mod sg;

#[cfg(any(CONFIG_DMA_RUST_POOL, CONFIG_DMA_RUST_DEBUG, CONFIG_DMA_RUST_SWIOTLB))]
pub use lock::{
    IrqSpinGuard,
    IrqSpinLock, //
};

/// Whether the tracepoint `$tp` (a C static, `bindings::__tracepoint_*`)
/// is enabled: a static branch as in C, patched with `CONFIG_JUMP_LABEL`,
/// else one inline load of its key's count (the kernel's helper for that
/// is a call). Only with `CONFIG_TRACEPOINTS`.
#[doc(hidden)]
#[macro_export]
macro_rules! __dma_rs_tracepoint_enabled {
    ($tp:path) => {{
        #[cfg(CONFIG_JUMP_LABEL)]
        // SAFETY: `$tp` is a tracepoint, whose `key` is a static key.
        let on = unsafe {
            $crate::jump_label::static_branch_unlikely!($tp, $crate::bindings::tracepoint, key)
        };
        #[cfg(not(CONFIG_JUMP_LABEL))]
        // SAFETY: `$tp` is a static; its key's counter is read once, as
        // `static_key_count()` does.
        let on = unsafe { core::ptr::read_volatile(&raw const $tp.key.key.enabled.counter) } > 0;
        on
    }};
}
pub use crate::__dma_rs_tracepoint_enabled as tracepoint_enabled;

/// A bus address as the DMA core hands it to a device (`dma_addr_t`).
pub type Dma = crate::bindings::dma_addr_t;

/// A CPU physical address (`phys_addr_t`).
pub type Phys = crate::bindings::phys_addr_t;
