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

/// A bus address as the DMA core hands it to a device (`dma_addr_t`).
pub type Dma = crate::bindings::dma_addr_t;

/// A CPU physical address (`phys_addr_t`).
pub type Phys = crate::bindings::phys_addr_t;
