// SPDX-License-Identifier: GPL-2.0

//! Host tests of the pure modules of the Rust DMA core.
//!
//! Each module under `kernel/dma/` that uses only `core` is compiled here by
//! `#[path]` and tested with `cargo test`, apart from the kernel. A module
//! is named after its component and file: `mapping_mask` is
//! `kernel/dma/dma_mapping/mask.rs`.

#[path = "../../../../kernel/dma/dma_mapping/mask.rs"]
pub mod mapping_mask;

#[cfg(test)]
mod mask_tests;
