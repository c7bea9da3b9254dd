// SPDX-License-Identifier: GPL-2.0-only
/*
 * C glue of the Rust DMA-mapping core (kernel/dma/dma_mapping/dma_mapping.rs): the
 * exports of its entry points, the same as those of kernel/dma/mapping.c,
 * so that modules link against either; the dma tracepoints, with the entry
 * points Rust calls them through; and dma-direct's ZONE_DMA limit and the
 * default coherence of devices, which architectures set at boot.
 */

#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/export.h>
#include <linux/scatterlist.h>

#define CREATE_TRACE_POINTS
#define CREATE_RUST_TRACE_POINTS
#include <trace/events/dma.h>

u64 zone_dma_limit __ro_after_init = DMA_BIT_MASK(24);

#if defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE) || \
	defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU) || \
	defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU_ALL)
/* Whether a device that firmware does not describe snoops the CPU caches. */
bool dma_default_coherent = IS_ENABLED(CONFIG_ARCH_DMA_DEFAULT_COHERENT);
#endif

EXPORT_SYMBOL(dmam_free_coherent);
EXPORT_SYMBOL(dmam_alloc_attrs);
EXPORT_SYMBOL_GPL(dma_map_phys);
EXPORT_SYMBOL(dma_map_page_attrs);
EXPORT_SYMBOL_GPL(dma_unmap_phys);
EXPORT_SYMBOL(dma_unmap_page_attrs);
EXPORT_SYMBOL(dma_map_sg_attrs);
EXPORT_SYMBOL_GPL(dma_map_sgtable);
EXPORT_SYMBOL(dma_unmap_sg_attrs);
EXPORT_SYMBOL(dma_map_resource);
EXPORT_SYMBOL(dma_unmap_resource);
#ifdef CONFIG_DMA_NEED_SYNC
EXPORT_SYMBOL(__dma_sync_single_for_cpu);
EXPORT_SYMBOL(__dma_sync_single_for_device);
EXPORT_SYMBOL(__dma_sync_sg_for_cpu);
EXPORT_SYMBOL(__dma_sync_sg_for_device);
EXPORT_SYMBOL_GPL(__dma_need_sync);
EXPORT_SYMBOL_GPL(dma_need_unmap);
#endif
EXPORT_SYMBOL(dma_get_sgtable_attrs);
EXPORT_SYMBOL_GPL(dma_can_mmap);
EXPORT_SYMBOL(dma_mmap_attrs);
EXPORT_SYMBOL_GPL(dma_get_required_mask);
EXPORT_SYMBOL(dma_alloc_attrs);
EXPORT_SYMBOL(dma_free_attrs);
EXPORT_SYMBOL_GPL(dma_alloc_pages);
EXPORT_SYMBOL_GPL(dma_free_pages);
EXPORT_SYMBOL_GPL(dma_mmap_pages);
EXPORT_SYMBOL_GPL(dma_alloc_noncontiguous);
EXPORT_SYMBOL_GPL(dma_free_noncontiguous);
EXPORT_SYMBOL_GPL(dma_vmap_noncontiguous);
EXPORT_SYMBOL_GPL(dma_vunmap_noncontiguous);
EXPORT_SYMBOL_GPL(dma_mmap_noncontiguous);
EXPORT_SYMBOL_GPL(dma_pci_p2pdma_supported);
EXPORT_SYMBOL(dma_set_mask);
EXPORT_SYMBOL(dma_set_coherent_mask);
EXPORT_SYMBOL_GPL(dma_addressing_limited);
EXPORT_SYMBOL_GPL(dma_max_mapping_size);
EXPORT_SYMBOL_GPL(dma_opt_mapping_size);
EXPORT_SYMBOL_GPL(dma_get_merge_boundary);
