/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * DMA fault injection (CONFIG_FAIL_DMA_MAPPING, kernel/dma/fail_dma.c): the
 * checks the Rust DMA core makes before it maps or allocates, and that
 * dma-iommu makes before it allocates or links IOVA space.
 */
#ifndef _LINUX_FAIL_DMA_H
#define _LINUX_FAIL_DMA_H

#include <linux/device.h>
#include <linux/gfp_types.h>
#include <linux/types.h>

struct scatterlist;

#ifdef CONFIG_FAIL_DMA_MAPPING
/*
 * Whether this streaming map of @size bytes fails; silently with
 * DMA_ATTR_NO_WARN in @attrs, as a real failure is.
 */
bool fail_dma_map_should(struct device *dev, size_t size, unsigned long attrs);
/* The same for a scatterlist map of @nents entries, sized by their lengths. */
bool fail_dma_map_sg_should(struct device *dev, struct scatterlist *sg,
			    int nents, unsigned long attrs);
/*
 * Whether this coherent, page or non-contiguous allocation fails; silently
 * with __GFP_NOWARN in @gfp.
 */
bool fail_dma_alloc_should(struct device *dev, size_t size, gfp_t gfp);
/* Whether this dma_pool allocation of a @size-byte block fails. */
bool fail_dma_pool_should(struct device *dev, size_t size, gfp_t gfp);
/*
 * Whether this IOVA space allocation (dma_iova_try_alloc()) or link
 * (dma_iova_link()) of @size bytes fails.
 */
bool fail_dma_iova_should(struct device *dev, size_t size);
#else
static inline bool fail_dma_iova_should(struct device *dev, size_t size)
{
	return false;
}
#endif /* CONFIG_FAIL_DMA_MAPPING */

#endif /* _LINUX_FAIL_DMA_H */
