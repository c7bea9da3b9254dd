// SPDX-License-Identifier: GPL-2.0-only
/*
 * C glue of the Rust swiotlb (kernel/dma/swiotlb/swiotlb.rs): what Rust cannot
 * declare itself or must not run after boot. The default pool set, the
 * swiotlb= boot parameter, the early (memblock) and late set-up of the
 * default pool and its tear-down, the trace event and the debugfs files
 * (devices, beyond C, lists the devices holding slots).
 * How big the pool is, how many areas it has and how its slots are kept
 * are decided in Rust.
 */

#define pr_fmt(fmt) "software IO TLB: " fmt

#include <linux/cache.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/memblock.h>
#include <linux/mm.h>
#include <linux/set_memory.h>
#include <linux/swiotlb.h>

#define CREATE_TRACE_POINTS
#include <trace/events/swiotlb.h>

#include "swiotlb_rs.h"

/* The smallest pool worth having when memory is short: 1 MiB. */
#define IO_TLB_MIN_SLABS ((1 << 20) >> IO_TLB_SHIFT)
#define SLABS_PER_PAGE (1 << (PAGE_SHIFT - IO_TLB_SHIFT))

struct io_tlb_mem io_tlb_default_mem;

static int __init setup_io_tlb_npages(char *str)
{
	swiotlb_rs_parse(str);
	return 0;
}
early_param("swiotlb", setup_io_tlb_npages);

void swiotlb_rs_trace_bounced(struct device *dev, phys_addr_t paddr,
			      size_t size)
{
	if (trace_swiotlb_bounced_enabled())
		trace_swiotlb_bounced(dev, phys_to_dma(dev, paddr), size);
}

static void __init *swiotlb_memblock_alloc(unsigned long nslabs,
					   unsigned int flags,
					   int (*remap)(void *tlb, unsigned long nslabs))
{
	size_t bytes = PAGE_ALIGN(nslabs << IO_TLB_SHIFT);
	void *tlb;

	/* Low memory unless a guest with encrypted memory may use any. */
	if (flags & SWIOTLB_ANY)
		tlb = memblock_alloc(bytes, PAGE_SIZE);
	else
		tlb = memblock_alloc_low(bytes, PAGE_SIZE);
	if (!tlb) {
		pr_warn("%s: Failed to allocate %zu bytes tlb structure\n",
			__func__, bytes);
		return NULL;
	}
	if (remap && remap(tlb, nslabs) < 0) {
		memblock_free(tlb, bytes);
		pr_warn("%s: Failed to remap %zu bytes\n", __func__, bytes);
		return NULL;
	}
	return tlb;
}

void __init swiotlb_init_remap(bool addressing_limit, unsigned int flags,
			       int (*remap)(void *tlb, unsigned long nslabs))
{
	struct io_tlb_pool *pool = &io_tlb_default_mem.defpool;
	struct swiotlb_rs_params p;
	unsigned long nslabs;
	unsigned int nareas;
	size_t slots_size;
	void *tlb;

	/* The flags first: the default areas apply only to a pool made. */
	swiotlb_rs_params(&p, 0);
	if (!addressing_limit && !p.force_bounce)
		return;
	if (p.force_disable)
		return;
	swiotlb_rs_params(&p, num_possible_cpus());
	io_tlb_default_mem.force_bounce = p.force_bounce || (flags & SWIOTLB_FORCE);

	nslabs = p.nslabs;
	nareas = swiotlb_rs_nareas(p.nareas, nslabs);
	while ((tlb = swiotlb_memblock_alloc(nslabs, flags, remap)) == NULL) {
		if (nslabs <= IO_TLB_MIN_SLABS)
			return;
		nslabs = ALIGN(nslabs >> 1, IO_TLB_SEGSIZE);
		nareas = swiotlb_rs_nareas(nareas, nslabs);
	}
	if (nslabs != p.nslabs) {
		pr_info("SWIOTLB bounce buffer size adjusted %lu -> %lu slabs",
			p.nslabs, nslabs);
		swiotlb_rs_set_nslabs(nslabs);
	}

	slots_size = PAGE_ALIGN(swiotlb_rs_slots_size(nslabs));
	pool->slots = memblock_alloc(slots_size, PAGE_SIZE);
	if (!pool->slots) {
		pr_warn("%s: Failed to allocate %zu bytes align=0x%lx\n",
			__func__, slots_size, PAGE_SIZE);
		return;
	}
	pool->areas = memblock_alloc(swiotlb_rs_areas_size(nareas),
				     SMP_CACHE_BYTES);
	if (!pool->areas) {
		pr_warn("%s: Failed to allocate mem->areas.\n", __func__);
		return;
	}

	if (!swiotlb_rs_pool_init(pool, __pa(tlb), tlb, nslabs, false, nareas))
		return;
	io_tlb_default_mem.nslabs = nslabs;
	if (flags & SWIOTLB_VERBOSE)
		swiotlb_print_info();
}

void __init swiotlb_init(bool addressing_limit, unsigned int flags)
{
	swiotlb_init_remap(addressing_limit, flags, NULL);
}

int swiotlb_init_late(size_t size, gfp_t gfp_mask,
		      int (*remap)(void *tlb, unsigned long nslabs))
{
	struct io_tlb_pool *pool = &io_tlb_default_mem.defpool;
	unsigned long nslabs = ALIGN(size >> IO_TLB_SHIFT, IO_TLB_SEGSIZE);
	struct swiotlb_rs_params p;
	unsigned int order, nareas;
	unsigned char *vstart = NULL;
	bool retried = false;
	int rc = 0;

	if (io_tlb_default_mem.nslabs)
		return 0;
	swiotlb_rs_params(&p, 0);
	if (p.force_disable)
		return 0;
	swiotlb_rs_params(&p, num_possible_cpus());
	io_tlb_default_mem.force_bounce = p.force_bounce;

retry:
	order = get_order(nslabs << IO_TLB_SHIFT);
	nslabs = SLABS_PER_PAGE << order;
	while ((SLABS_PER_PAGE << order) > IO_TLB_MIN_SLABS) {
		vstart = (void *)__get_free_pages(gfp_mask | __GFP_NOWARN, order);
		if (vstart)
			break;
		order--;
		nslabs = SLABS_PER_PAGE << order;
		retried = true;
	}
	if (!vstart)
		return -ENOMEM;
	if (remap)
		rc = remap(vstart, nslabs);
	if (rc) {
		free_pages((unsigned long)vstart, order);
		nslabs = ALIGN(nslabs >> 1, IO_TLB_SEGSIZE);
		if (nslabs < IO_TLB_MIN_SLABS)
			return rc;
		retried = true;
		goto retry;
	}
	if (retried)
		pr_warn("only able to allocate %ld MB\n",
			(PAGE_SIZE << order) >> 20);

	nareas = swiotlb_rs_nareas(p.nareas, nslabs);
	pool->areas = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO,
			get_order(swiotlb_rs_areas_size(nareas)));
	if (!pool->areas)
		goto error_area;
	pool->slots = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO,
			get_order(swiotlb_rs_slots_size(nslabs)));
	if (!pool->slots)
		goto error_slots;

	set_memory_decrypted((unsigned long)vstart,
			     (nslabs << IO_TLB_SHIFT) >> PAGE_SHIFT);
	if (!swiotlb_rs_pool_init(pool, virt_to_phys(vstart), vstart, nslabs,
				  true, nareas)) {
		set_memory_encrypted((unsigned long)vstart,
				     (nslabs << IO_TLB_SHIFT) >> PAGE_SHIFT);
		free_pages((unsigned long)pool->slots,
			   get_order(swiotlb_rs_slots_size(nslabs)));
		goto error_slots;
	}
	io_tlb_default_mem.nslabs = nslabs;
	swiotlb_print_info();
	return 0;

error_slots:
	free_pages((unsigned long)pool->areas,
		   get_order(swiotlb_rs_areas_size(nareas)));
error_area:
	free_pages((unsigned long)vstart, order);
	return -ENOMEM;
}

void __init swiotlb_exit(void)
{
	struct io_tlb_pool *pool = &io_tlb_default_mem.defpool;
	size_t tbl_size, slots_size, areas_size;
	unsigned long tbl_vaddr;
	struct swiotlb_rs_params p;

	swiotlb_rs_params(&p, 0);
	if (p.force_bounce || !pool->nslabs)
		return;

	pr_info("tearing down default memory pool\n");
	tbl_vaddr = (unsigned long)phys_to_virt(pool->start);
	tbl_size = PAGE_ALIGN(pool->end - pool->start);
	slots_size = PAGE_ALIGN(swiotlb_rs_slots_size(pool->nslabs));
	areas_size = swiotlb_rs_areas_size(pool->nareas);

	set_memory_encrypted(tbl_vaddr, tbl_size >> PAGE_SHIFT);
	if (pool->late_alloc) {
		free_pages((unsigned long)pool->areas, get_order(areas_size));
		free_pages(tbl_vaddr, get_order(tbl_size));
		free_pages((unsigned long)pool->slots, get_order(slots_size));
	} else {
		memblock_free(pool->areas, areas_size);
		memblock_phys_free(pool->start, tbl_size);
		memblock_free(pool->slots, slots_size);
	}
	memset(pool, 0, sizeof(*pool));
	io_tlb_default_mem.nslabs = 0;
}

void __init swiotlb_update_mem_attributes(void)
{
	struct io_tlb_pool *pool = &io_tlb_default_mem.defpool;

	if (!pool->nslabs || pool->late_alloc)
		return;
	set_memory_decrypted((unsigned long)pool->vaddr,
			     PAGE_ALIGN(pool->nslabs << IO_TLB_SHIFT) >> PAGE_SHIFT);
}

#ifdef CONFIG_DEBUG_FS
static int io_tlb_used_get(void *data, u64 *val)
{
	*val = swiotlb_rs_used();
	return 0;
}

static int io_tlb_hiwater_get(void *data, u64 *val)
{
	*val = swiotlb_rs_hiwater();
	return 0;
}

static int io_tlb_hiwater_set(void *data, u64 val)
{
	/* Only a reset to zero is allowed. */
	if (val != 0)
		return -EINVAL;
	swiotlb_rs_reset_hiwater();
	return 0;
}

static int swiotlb_devices_show(struct seq_file *seq, void *v)
{
	return swiotlb_rs_devices_show(seq, v);
}
DEFINE_SHOW_ATTRIBUTE(swiotlb_devices);

DEFINE_DEBUGFS_ATTRIBUTE(fops_io_tlb_used, io_tlb_used_get, NULL, "%llu\n");
DEFINE_DEBUGFS_ATTRIBUTE(fops_io_tlb_hiwater, io_tlb_hiwater_get,
			 io_tlb_hiwater_set, "%llu\n");

static int __init swiotlb_create_default_debugfs(void)
{
	struct io_tlb_mem *mem = &io_tlb_default_mem;

	mem->debugfs = debugfs_create_dir("swiotlb", NULL);
	if (!mem->nslabs)
		return 0;
	debugfs_create_ulong("io_tlb_nslabs", 0400, mem->debugfs, &mem->nslabs);
	debugfs_create_file("io_tlb_used", 0400, mem->debugfs, mem,
			    &fops_io_tlb_used);
	debugfs_create_file("io_tlb_used_hiwater", 0600, mem->debugfs, mem,
			    &fops_io_tlb_hiwater);
	debugfs_create_file("devices", 0400, mem->debugfs, NULL,
			    &swiotlb_devices_fops);
	return 0;
}
late_initcall(swiotlb_create_default_debugfs);
#endif /* CONFIG_DEBUG_FS */
