/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * DMA fault injection (CONFIG_FAIL_DMA_MAPPING, kernel/dma/fail_dma.c): the
 * checks the Rust DMA core makes before it maps or allocates.
 */
#ifndef _KERNEL_DMA_FAIL_DMA_H
#define _KERNEL_DMA_FAIL_DMA_H

#include <linux/device.h>
#include <linux/types.h>

/* Whether this streaming single or scatterlist map of @size bytes fails. */
bool fail_dma_map_should(struct device *dev, size_t size);
/* Whether this coherent, non-coherent or non-contiguous allocation fails. */
bool fail_dma_alloc_should(struct device *dev, size_t size);
/* Whether this dma_pool allocation of a @size-byte block fails. */
bool fail_dma_pool_should(struct device *dev, size_t size);

#endif /* _KERNEL_DMA_FAIL_DMA_H */
