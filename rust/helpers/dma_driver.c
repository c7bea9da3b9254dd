// SPDX-License-Identifier: GPL-2.0

/*
 * Helpers for the safe DMA API of Rust drivers (rust/kernel/dma/): the
 * static inline functions of the driver-facing DMA headers that the
 * wrappers call.
 */

#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/dmapool.h>
#include <linux/highmem.h>
#include <linux/io.h>

__rust_helper int rust_helper_dma_mapping_error(struct device *dev,
						dma_addr_t dma_addr)
{
	return dma_mapping_error(dev, dma_addr);
}

__rust_helper void rust_helper_dma_sync_single_for_cpu(struct device *dev,
						       dma_addr_t addr,
						       size_t size,
						       enum dma_data_direction dir)
{
	dma_sync_single_for_cpu(dev, addr, size, dir);
}

__rust_helper void rust_helper_dma_sync_single_for_device(struct device *dev,
							  dma_addr_t addr,
							  size_t size,
							  enum dma_data_direction dir)
{
	dma_sync_single_for_device(dev, addr, size, dir);
}

__rust_helper void rust_helper_dma_sync_sgtable_for_cpu(struct device *dev,
							struct sg_table *sgt,
							enum dma_data_direction dir)
{
	dma_sync_sgtable_for_cpu(dev, sgt, dir);
}

__rust_helper void rust_helper_dma_sync_sgtable_for_device(struct device *dev,
							   struct sg_table *sgt,
							   enum dma_data_direction dir)
{
	dma_sync_sgtable_for_device(dev, sgt, dir);
}

__rust_helper struct dma_pool *rust_helper_dma_pool_create(const char *name,
							   struct device *dev,
							   size_t size,
							   size_t align,
							   size_t boundary)
{
	return dma_pool_create(name, dev, size, align, boundary);
}

__rust_helper phys_addr_t rust_helper_virt_to_phys(void *addr)
{
	return virt_to_phys(addr);
}

__rust_helper void rust_helper_flush_kernel_vmap_range(void *addr, int size)
{
	flush_kernel_vmap_range(addr, size);
}

__rust_helper void rust_helper_invalidate_kernel_vmap_range(void *addr,
							    int size)
{
	invalidate_kernel_vmap_range(addr, size);
}

__rust_helper size_t rust_helper_dma_iova_size(struct dma_iova_state *state)
{
	return dma_iova_size(state);
}

__rust_helper void rust_helper_dma_set_seg_boundary(struct device *dev,
						    unsigned long mask)
{
	dma_set_seg_boundary(dev, mask);
}

__rust_helper void rust_helper_dma_set_min_align_mask(struct device *dev,
						      unsigned int min_align_mask)
{
	dma_set_min_align_mask(dev, min_align_mask);
}

__rust_helper bool rust_helper_dma_need_sync(struct device *dev,
					     dma_addr_t dma_addr)
{
	return dma_need_sync(dev, dma_addr);
}

/*
 * Whether what dma_alloc_coherent() returns for @dev is zeroed on every path:
 * dma-direct and dma-iommu zero it; an allocator of a dma_map_ops may not.
 */
__rust_helper bool rust_helper_dma_rs_coherent_zeroed(struct device *dev)
{
	return !get_dma_ops(dev);
}
