// SPDX-License-Identifier: GPL-2.0-only
/*
 * C glue of the Rust swiotlb (kernel/dma/swiotlb/swiotlb.rs): what Rust cannot
 * declare itself or must not run after boot. The default pool set, the
 * swiotlb= boot parameter, the early (memblock) and late set-up of the
 * default pool and its tear-down, the trace event (which Rust fires) and
 * the debugfs files
 * (devices, beyond C, lists the devices holding slots). With
 * SWIOTLB_DYNAMIC, also the allocation of more pools (the growth worker and
 * transient pools), their RCU lists and their freeing.
 * How big a pool is, how many areas it has, how its slots are kept, and
 * when a pool is added or freed are decided in Rust.
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
#include <linux/rculist.h>
#include <linux/set_memory.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>

#define CREATE_TRACE_POINTS
#define CREATE_RUST_TRACE_POINTS
#include <trace/events/swiotlb.h>

#include "swiotlb_rs.h"

/* The smallest pool worth having when memory is short: 1 MiB. */
#define IO_TLB_MIN_SLABS ((1 << 20) >> IO_TLB_SHIFT)
#define SLABS_PER_PAGE (1 << (PAGE_SHIFT - IO_TLB_SHIFT))

#ifdef CONFIG_SWIOTLB_DYNAMIC
static void swiotlb_dyn_alloc(struct work_struct *work);

struct io_tlb_mem io_tlb_default_mem = {
	.lock = __SPIN_LOCK_UNLOCKED(io_tlb_default_mem.lock),
	.pools = LIST_HEAD_INIT(io_tlb_default_mem.pools),
	.dyn_alloc = __WORK_INITIALIZER(io_tlb_default_mem.dyn_alloc,
					swiotlb_dyn_alloc),
};
#else
struct io_tlb_mem io_tlb_default_mem;
#endif

/*
 * A pool with slots joins the default set; a pool made to grow it only
 * while the set may grow. Returns whether it joined.
 */
static bool add_default_pool(struct io_tlb_pool *pool, bool growing)
{
#ifdef CONFIG_SWIOTLB_DYNAMIC
	struct io_tlb_mem *mem = &io_tlb_default_mem;
	bool add;

	spin_lock(&mem->lock);
	add = !growing || READ_ONCE(mem->can_grow);
	if (add) {
		list_add_rcu(&pool->node, &mem->pools);
		mem->nslabs += pool->nslabs;
	}
	spin_unlock(&mem->lock);
	return add;
#else
	io_tlb_default_mem.nslabs = pool->nslabs;
	return true;
#endif
}

void swiotlb_dev_init(struct device *dev)
{
	dev->dma_io_tlb_mem = &io_tlb_default_mem;
#ifdef CONFIG_SWIOTLB_DYNAMIC
	INIT_LIST_HEAD(&dev->dma_io_tlb_pools);
	spin_lock_init(&dev->dma_io_tlb_lock);
	dev->dma_uses_io_tlb = false;
#endif
}

static int __init setup_io_tlb_npages(char *str)
{
	swiotlb_rs_parse(str);
	return 0;
}
early_param("swiotlb", setup_io_tlb_npages);

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
#ifdef CONFIG_SWIOTLB_DYNAMIC
	/* More pools only where the architecture need not remap them. */
	io_tlb_default_mem.can_grow = !remap;
	io_tlb_default_mem.phys_limit = flags & SWIOTLB_ANY ?
		virt_to_phys(high_memory - 1) : ARCH_LOW_ADDRESS_LIMIT;
#endif

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
	add_default_pool(pool, false);
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
#ifdef CONFIG_SWIOTLB_DYNAMIC
	io_tlb_default_mem.can_grow = !remap;
	if (IS_ENABLED(CONFIG_ZONE_DMA) && (gfp_mask & __GFP_DMA))
		io_tlb_default_mem.phys_limit = zone_dma_limit;
	else if (IS_ENABLED(CONFIG_ZONE_DMA32) && (gfp_mask & __GFP_DMA32))
		io_tlb_default_mem.phys_limit = max(DMA_BIT_MASK(32),
						    zone_dma_limit);
	else
		io_tlb_default_mem.phys_limit = virt_to_phys(high_memory - 1);
#endif

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
	add_default_pool(pool, false);
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
#ifdef CONFIG_SWIOTLB_DYNAMIC
	/* No pool is added after, and this one leaves the list before it is
	 * cleared.
	 */
	WRITE_ONCE(io_tlb_default_mem.can_grow, false);
	cancel_work_sync(&io_tlb_default_mem.dyn_alloc);
	spin_lock(&io_tlb_default_mem.lock);
	list_del_rcu(&pool->node);
	io_tlb_default_mem.nslabs -= pool->nslabs;
	spin_unlock(&io_tlb_default_mem.lock);
	synchronize_rcu();
#else
	io_tlb_default_mem.nslabs = 0;
#endif
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
}

void __init swiotlb_update_mem_attributes(void)
{
	struct io_tlb_pool *pool = &io_tlb_default_mem.defpool;

	if (!pool->nslabs || pool->late_alloc)
		return;
	set_memory_decrypted((unsigned long)pool->vaddr,
			     PAGE_ALIGN(pool->nslabs << IO_TLB_SHIFT) >> PAGE_SHIFT);
}

#ifdef CONFIG_SWIOTLB_DYNAMIC
/*
 * Pages for @bytes of slots below @phys_limit, decrypted; NULL when there
 * are none, ERR_PTR(-EAGAIN) when the allocator gave pages above the limit.
 */
static struct page *swiotlb_rs_alloc_pages(gfp_t gfp, size_t bytes,
					   u64 phys_limit)
{
	unsigned int order = get_order(bytes);
	struct page *page = alloc_pages(gfp, order);
	void *vaddr;

	if (!page)
		return NULL;
	if (page_to_phys(page) + bytes - 1 > phys_limit) {
		__free_pages(page, order);
		return ERR_PTR(-EAGAIN);
	}
	vaddr = page_address(page);
	if (!set_memory_decrypted((unsigned long)vaddr, PFN_UP(bytes)))
		return page;
	/* Pages whose encryption cannot be restored are leaked. */
	if (!set_memory_encrypted((unsigned long)vaddr, PFN_UP(bytes)))
		__free_pages(page, order);
	return NULL;
}

/*
 * The memory of a new pool's slots, or NULL; *@vaddr gets its kernel
 * address, which is not in the linear map when it comes from the atomic
 * pools of an architecture that remaps them.
 */
static struct page *swiotlb_rs_alloc_tlb(struct device *dev, size_t bytes,
					 u64 phys_limit, gfp_t gfp,
					 void **vaddr)
{
	struct page *page;

	*vaddr = NULL;
	/* Decrypting may sleep: an atomic request of such a device takes
	 * memory of the atomic pools, which is decrypted already.
	 */
	if (!gfpflags_allow_blocking(gfp) && dev && force_dma_unencrypted(dev)) {
		if (!IS_ENABLED(CONFIG_DMA_COHERENT_POOL))
			return NULL;
		return dma_alloc_from_pool(dev, bytes, vaddr, gfp,
					   dma_coherent_ok);
	}

	gfp &= ~GFP_ZONEMASK;
	if (phys_limit <= zone_dma_limit)
		gfp |= __GFP_DMA;
	else if (phys_limit <= DMA_BIT_MASK(32))
		gfp |= __GFP_DMA32;
	/* Lower zones until the pages are below the limit. */
	while (IS_ERR(page = swiotlb_rs_alloc_pages(gfp, bytes, phys_limit))) {
		if (IS_ENABLED(CONFIG_ZONE_DMA32) &&
		    phys_limit < DMA_BIT_MASK(64) &&
		    !(gfp & (__GFP_DMA32 | __GFP_DMA)))
			gfp |= __GFP_DMA32;
		else if (IS_ENABLED(CONFIG_ZONE_DMA) && !(gfp & __GFP_DMA))
			gfp = (gfp & ~__GFP_DMA32) | __GFP_DMA;
		else
			return NULL;
	}
	if (page)
		*vaddr = page_address(page);
	return page;
}

static void swiotlb_rs_free_tlb(void *vaddr, size_t bytes)
{
	if (IS_ENABLED(CONFIG_DMA_COHERENT_POOL) &&
	    dma_free_from_pool(NULL, vaddr, bytes))
		return;
	if (!set_memory_encrypted((unsigned long)vaddr, PFN_UP(bytes)))
		__free_pages(virt_to_page(vaddr), get_order(bytes));
}

struct io_tlb_pool *swiotlb_rs_alloc_pool(struct device *dev,
					  unsigned long minslabs,
					  unsigned long nslabs,
					  unsigned int nareas, u64 phys_limit,
					  gfp_t gfp)
{
	struct io_tlb_pool *pool;
	unsigned long max = SLABS_PER_PAGE << MAX_PAGE_ORDER;
	struct page *page;
	void *tlb;

	nslabs = min(nslabs, max);
	minslabs = min(minslabs, nslabs);
	nareas = swiotlb_rs_nareas(nareas, nslabs);
	pool = kzalloc(sizeof(*pool) + swiotlb_rs_areas_size(nareas), gfp);
	if (!pool)
		return NULL;
	pool->areas = (void *)(pool + 1);

	while (!(page = swiotlb_rs_alloc_tlb(dev, nslabs << IO_TLB_SHIFT,
					     phys_limit, gfp, &tlb))) {
		if (nslabs <= minslabs)
			goto error_tlb;
		nslabs = max(ALIGN(nslabs >> 1, IO_TLB_SEGSIZE), minslabs);
		nareas = swiotlb_rs_nareas(nareas, nslabs);
	}
	pool->slots = (void *)__get_free_pages(gfp,
			get_order(swiotlb_rs_slots_size(nslabs)));
	if (!pool->slots)
		goto error_slots;
	if (swiotlb_rs_pool_init(pool, page_to_phys(page), tlb, nslabs, true,
				 nareas))
		return pool;

	free_pages((unsigned long)pool->slots,
		   get_order(swiotlb_rs_slots_size(nslabs)));
error_slots:
	swiotlb_rs_free_tlb(tlb, nslabs << IO_TLB_SHIFT);
error_tlb:
	kfree(pool);
	return NULL;
}

void swiotlb_rs_free_pool(struct io_tlb_pool *pool)
{
	free_pages((unsigned long)pool->slots,
		   get_order(swiotlb_rs_slots_size(pool->nslabs)));
	swiotlb_rs_free_tlb(pool->vaddr, pool->end - pool->start);
	kfree(pool);
}

static void swiotlb_rs_free_pool_rcu(struct rcu_head *rcu)
{
	swiotlb_rs_free_pool(container_of(rcu, struct io_tlb_pool, rcu));
}

void swiotlb_rs_add_transient(struct device *dev, struct io_tlb_pool *pool)
{
	unsigned long flags;

	pool->transient = true;
	spin_lock_irqsave(&dev->dma_io_tlb_lock, flags);
	list_add_rcu(&pool->node, &dev->dma_io_tlb_pools);
	spin_unlock_irqrestore(&dev->dma_io_tlb_lock, flags);
}

void swiotlb_rs_del_transient(struct device *dev, struct io_tlb_pool *pool)
{
	unsigned long flags;

	spin_lock_irqsave(&dev->dma_io_tlb_lock, flags);
	list_del_rcu(&pool->node);
	spin_unlock_irqrestore(&dev->dma_io_tlb_lock, flags);
	call_rcu(&pool->rcu, swiotlb_rs_free_pool_rcu);
}

void swiotlb_rs_grow(void)
{
	schedule_work(&io_tlb_default_mem.dyn_alloc);
}

/*
 * The growth worker: one more pool of the default size, or less, unless
 * growth stopped meanwhile (swiotlb_exit(), default_swiotlb_base()).
 */
static void swiotlb_dyn_alloc(struct work_struct *work)
{
	struct swiotlb_rs_params p;
	struct io_tlb_pool *pool;

	swiotlb_rs_params(&p, 0);
	pool = swiotlb_rs_alloc_pool(NULL, IO_TLB_MIN_SLABS, p.nslabs,
				     p.nareas, io_tlb_default_mem.phys_limit,
				     GFP_KERNEL);
	if (!pool) {
		pr_warn_ratelimited("Failed to allocate new pool");
		return;
	}
	if (!add_default_pool(pool, true))
		swiotlb_rs_free_pool(pool);
}
#endif /* CONFIG_SWIOTLB_DYNAMIC */

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

#ifdef CONFIG_SWIOTLB_DYNAMIC
static int io_tlb_transient_get(void *data, u64 *val)
{
	*val = swiotlb_rs_transient();
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(fops_io_tlb_transient, io_tlb_transient_get, NULL,
			 "%llu\n");
#endif

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
#ifdef CONFIG_SWIOTLB_DYNAMIC
	debugfs_create_file("io_tlb_transient_nslabs", 0400, mem->debugfs,
			    NULL, &fops_io_tlb_transient);
#endif
	return 0;
}
late_initcall(swiotlb_create_default_debugfs);
#endif /* CONFIG_DEBUG_FS */
