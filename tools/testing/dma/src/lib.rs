// SPDX-License-Identifier: GPL-2.0

//! Host tests of the pure modules of the Rust DMA core.
//!
//! Each module under `kernel/dma/` that uses only `core` is compiled here by
//! `#[path]` and tested with `cargo test`, apart from the kernel. A module
//! is named after its component and file: `mapping_mask` is
//! `kernel/dma/dma_mapping/mask.rs`, `dmapool_blocks` is
//! `kernel/dma/dmapool/blocks.rs`.

#[allow(dead_code)]
#[path = "../../../../kernel/dma/dma_mapping/mask.rs"]
mod mapping_mask;

// `range_map.rs` reaches the mask module as `super::mask`, as in the kernel.
use mapping_mask as mask;

#[allow(dead_code)]
#[path = "../../../../kernel/dma/dma_mapping/range_map.rs"]
mod mapping_range_map;

// The kernel's modules are crate-private there; here only the tests use them.
#[allow(dead_code)]
#[path = "../../../../kernel/dma/dmapool/blocks.rs"]
mod dmapool_blocks;

#[allow(dead_code)]
#[path = "../../../../kernel/dma/dma_debug/entry.rs"]
mod debug_entry;

#[allow(dead_code)]
#[path = "../../../../kernel/dma/dma_debug/param.rs"]
mod debug_param;

#[allow(dead_code)]
#[path = "../../../../kernel/dma/swiotlb/slots.rs"]
mod swiotlb_slots;

// `param.rs` reaches the slot constants as `super::slots`, as in the kernel.
use swiotlb_slots as slots;

#[allow(dead_code)]
#[path = "../../../../kernel/dma/swiotlb/param.rs"]
mod swiotlb_param;

#[allow(dead_code)]
#[path = "../../../../kernel/dma/swiotlb/holders.rs"]
mod swiotlb_holders;

#[cfg(test)]
mod rng;

#[cfg(test)]
mod mask_tests;

#[cfg(test)]
mod dmapool_tests;

#[cfg(test)]
mod range_map_tests;

#[cfg(test)]
mod debug_tests;

#[cfg(test)]
mod swiotlb_tests;
