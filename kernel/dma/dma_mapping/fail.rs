// SPDX-License-Identifier: GPL-2.0-only

//! DMA fault injection (`CONFIG_FAIL_DMA_MAPPING`, `kernel/dma/fail_dma.c`):
//! whether a map or an allocation is to fail on purpose. Without the
//! option every answer is `false` at compile time.

use super::args::SgBuf;
use super::dev::Dev;
use kernel::bindings::gfp_t;
use kernel::ffi::c_ulong;

/// Whether this streaming map of `size` bytes fails (`fail_dma_map`);
/// silently with `DMA_ATTR_NO_WARN`.
#[inline(always)]
pub(crate) fn map(d: Dev<'_>, size: usize, attrs: c_ulong) -> bool {
    #[cfg(CONFIG_FAIL_DMA_MAPPING)]
    // SAFETY: A live device (`Dev`); the check only reads it.
    return unsafe { kernel::bindings::fail_dma_map_should(d.raw(), size, attrs) };
    #[cfg(not(CONFIG_FAIL_DMA_MAPPING))]
    {
        let _ = (d, size, attrs);
        false
    }
}

/// Whether this scatterlist map fails (`fail_dma_map`, sized by the
/// entries' lengths).
#[inline(always)]
pub(crate) fn map_sg(d: Dev<'_>, sg: SgBuf<'_>, attrs: c_ulong) -> bool {
    #[cfg(CONFIG_FAIL_DMA_MAPPING)]
    // SAFETY: A live device (`Dev`) and a valid list of `nents` entries
    // (`SgBuf`), which the check only reads.
    return unsafe {
        kernel::bindings::fail_dma_map_sg_should(d.raw(), sg.list().raw(), sg.list().nents(), attrs)
    };
    #[cfg(not(CONFIG_FAIL_DMA_MAPPING))]
    {
        let _ = (d, sg, attrs);
        false
    }
}

/// Whether this allocation of `size` bytes fails (`fail_dma_alloc`);
/// silently with `__GFP_NOWARN`.
#[inline(always)]
pub(crate) fn alloc(d: Dev<'_>, size: usize, gfp: gfp_t) -> bool {
    #[cfg(CONFIG_FAIL_DMA_MAPPING)]
    // SAFETY: A live device (`Dev`); the check only reads it.
    return unsafe { kernel::bindings::fail_dma_alloc_should(d.raw(), size, gfp) };
    #[cfg(not(CONFIG_FAIL_DMA_MAPPING))]
    {
        let _ = (d, size, gfp);
        false
    }
}
