// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exports of the Rust dma_pool (kernel/dma/dmapool/dmapool.rs), the same as those of
 * mm/dmapool.c, so that modules link against either.
 */

#include <linux/dmapool.h>
#include <linux/export.h>

EXPORT_SYMBOL(dma_pool_create_node);
EXPORT_SYMBOL(dma_pool_destroy);
EXPORT_SYMBOL(dma_pool_alloc);
EXPORT_SYMBOL(dma_pool_free);
EXPORT_SYMBOL(dmam_pool_create);
EXPORT_SYMBOL(dmam_pool_destroy);
