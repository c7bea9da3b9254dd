// SPDX-License-Identifier: GPL-2.0-only

//! The DMA-mapping core in Rust: the entry points of
//! `<linux/dma-mapping.h>` and dma-direct, in place of
//! `kernel/dma/mapping.c` and `kernel/dma/direct.c`
//! (`CONFIG_DMA_RUST_MAPPING`).
//!
//! Every entry point turns its device pointer into a [`dev::Dev`], the one
//! place where the device is taken to be alive for the call, picks a
//! [`backend::Backend`] for it exactly as upstream does, and reports to the
//! tracepoints and to dma-debug ([`hooks`]):
//!
//! - dma-direct ([`direct`]), with swiotlb bounce buffers for what the
//!   device cannot reach;
//! - the IOMMU DMA layer (`iommu_dma_*()`, in C), or a legacy
//!   `struct dma_map_ops` of the architecture or bus: a
//!   [`backend::Other`], with a method per operation.
//!
//! The entry points are grouped by what they do: [`map`] (single
//! mappings), [`scatterlist`], [`sync`], [`alloc`] (coherent memory,
//! pages, mmap), [`noncontig`] (non-contiguous allocations) and [`limits`]
//! (masks and sizes).
//!
//! Misuse that C answers with `BUG()` or a NULL dereference (a NULL device,
//! an invalid direction) is reported and refused instead.
//!
//! The exports are made by `dma_mapping_glue.c`, as `mapping.c` made them.

use kernel::bindings::{
    self,
    dma_data_direction,
    gfp_t, //
};
use kernel::ffi::{
    c_int,
    c_ulong, //
};

mod arch;
mod args;
mod backend;
mod dev;
pub mod direct;
mod fail;
mod hooks;
mod mask;
mod range_map;

pub mod alloc;
pub mod limits;
pub mod map;
pub mod noncontig;
pub mod scatterlist;
pub mod sync;

use dev::DMA_MAPPING_ERROR;
use kernel::dma::rust_core::{
    mem,
    sg,
    Dma,
    Phys, //
};

const __LOG_PREFIX: &[u8] = b"dma-mapping\0";

const ATTR_MMIO: c_ulong = bindings::DMA_ATTR_MMIO as c_ulong;
const ATTR_CC_SHARED: c_ulong = bindings::DMA_ATTR_CC_SHARED as c_ulong;
const ATTR_REQUIRE_COHERENT: c_ulong = bindings::DMA_ATTR_REQUIRE_COHERENT as c_ulong;
const ATTR_ALLOC_SINGLE_PAGES: c_ulong = bindings::DMA_ATTR_ALLOC_SINGLE_PAGES as c_ulong;
const GFP_ZONES: gfp_t = bindings::__GFP_DMA | bindings::__GFP_DMA32 | bindings::__GFP_HIGHMEM;
const GFP_COMP: gfp_t = bindings::__GFP_COMP;
const BIDIRECTIONAL: dma_data_direction = bindings::dma_data_direction_DMA_BIDIRECTIONAL;
const EIO: c_int = bindings::EIO as c_int;
const ENXIO: c_int = bindings::ENXIO as c_int;
const EOPNOTSUPP: c_int = bindings::EOPNOTSUPP as c_int;

// The pure modules spell out the kernel's constants they need; tie them to `bindings`.
const _: () = {
    assert!(range_map::ERRNO_EIO == bindings::EIO as i32);
    assert!(range_map::ERRNO_ENOMEM == bindings::ENOMEM as i32);
    assert!(range_map::ERRNO_EINVAL == bindings::EINVAL as i32);
    assert!(range_map::ERRNO_EREMOTEIO == bindings::EREMOTEIO as i32);
};
