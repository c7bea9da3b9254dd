/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Entry points of the Rust swiotlb (kernel/dma/swiotlb/swiotlb.rs) for its C
 * glue (kernel/dma/swiotlb_glue.c): the boot parameter, the sizes and set-up
 * of a pool's bookkeeping, and the debugfs counters.
 */
#ifndef _KERNEL_DMA_SWIOTLB_RS_H
#define _KERNEL_DMA_SWIOTLB_RS_H

#include <linux/seq_file.h>
#include <linux/swiotlb.h>
#include <linux/types.h>

/* The default pool set, which every device uses unless it has its own. */
extern struct io_tlb_mem io_tlb_default_mem;

/* What the swiotlb= boot parameter and the architecture asked for. */
struct swiotlb_rs_params {
	unsigned long nslabs;
	unsigned int nareas;
	bool force_bounce;
	bool force_disable;
};

void swiotlb_rs_parse(const char *str);
void swiotlb_rs_params(struct swiotlb_rs_params *params, unsigned int ncpus);
void swiotlb_rs_set_nslabs(unsigned long nslabs);
unsigned int swiotlb_rs_nareas(unsigned int nareas, unsigned long nslabs);
size_t swiotlb_rs_areas_size(unsigned int nareas);
size_t swiotlb_rs_slots_size(unsigned long nslabs);
bool swiotlb_rs_pool_init(struct io_tlb_pool *pool, phys_addr_t start,
			  void *vaddr, unsigned long nslabs, bool late_alloc,
			  unsigned int nareas);
unsigned long swiotlb_rs_used(void);
unsigned long swiotlb_rs_hiwater(void);
void swiotlb_rs_reset_hiwater(void);
int swiotlb_rs_devices_show(struct seq_file *seq, void *v);

#ifdef CONFIG_SWIOTLB_DYNAMIC
/* Slots of the transient pools in use (debugfs io_tlb_transient_nslabs). */
unsigned long swiotlb_rs_transient(void);
struct io_tlb_pool *swiotlb_rs_alloc_pool(struct device *dev,
					  unsigned long minslabs,
					  unsigned long nslabs,
					  unsigned int nareas, u64 phys_limit,
					  gfp_t gfp);
void swiotlb_rs_free_pool(struct io_tlb_pool *pool);
void swiotlb_rs_add_transient(struct device *dev, struct io_tlb_pool *pool);
void swiotlb_rs_del_transient(struct device *dev, struct io_tlb_pool *pool);
void swiotlb_rs_grow(void);
#endif

#endif /* _KERNEL_DMA_SWIOTLB_RS_H */
