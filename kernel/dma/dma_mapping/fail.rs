// SPDX-License-Identifier: GPL-2.0-only

//! DMA fault injection (`CONFIG_FAIL_DMA_MAPPING`, `kernel/dma/fail_dma.c`):
//! whether a map or an allocation is to fail on purpose. Without the
//! option both answers are `false` at compile time.

use super::dev::Dev;

/// Whether this streaming map of `size` bytes fails (`fail_dma_map`).
#[inline(always)]
pub(crate) fn map(d: Dev<'_>, size: usize) -> bool {
    #[cfg(CONFIG_FAIL_DMA_MAPPING)]
    // SAFETY: A live device (`Dev`); the check only reads it.
    return unsafe { kernel::bindings::fail_dma_map_should(d.raw(), size) };
    #[cfg(not(CONFIG_FAIL_DMA_MAPPING))]
    {
        let _ = (d, size);
        false
    }
}

/// Whether this allocation of `size` bytes fails (`fail_dma_alloc`).
#[inline(always)]
pub(crate) fn alloc(d: Dev<'_>, size: usize) -> bool {
    #[cfg(CONFIG_FAIL_DMA_MAPPING)]
    // SAFETY: A live device (`Dev`); the check only reads it.
    return unsafe { kernel::bindings::fail_dma_alloc_should(d.raw(), size) };
    #[cfg(not(CONFIG_FAIL_DMA_MAPPING))]
    {
        let _ = (d, size);
        false
    }
}
