// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conformance suite: the cache maintenance that the DMA API asks of the
 * architecture for a device that does not snoop the CPU caches.
 *
 * The device is a platform device that no firmware describes, so on arm64
 * it is not DMA-coherent and has the platform bus's 32-bit masks. QEMU's
 * TCG models no caches: skipped maintenance corrupts nothing there, so the
 * tests watch the hooks themselves instead. Kprobes on
 * arch_sync_dma_for_device(), arch_sync_dma_for_cpu(),
 * arch_dma_prep_coherent() and dma_alloc_from_pool() record each call the
 * test's own task makes while recording is armed, and every case checks
 * which hooks ran, over which physical range, in which direction. The
 * last cases check dma-debug's cacheline tracking for such a device.
 */

#include <linux/cache.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/swiotlb.h>
#include <linux/vmalloc.h>

#include "dma_api_kunit.h"

#define BUF_SIZE	4096
#define REC_MAX		16

enum hook {
	HOOK_FOR_DEVICE,
	HOOK_FOR_CPU,
	HOOK_PREP_COHERENT,
	HOOK_FROM_POOL,
	NR_HOOKS,
	HOOK_ANY = NR_HOOKS,	/* count_calls_over(): any range hook */
};

static const char * const hook_names[NR_HOOKS] = {
	[HOOK_FOR_DEVICE]	= "arch_sync_dma_for_device",
	[HOOK_FOR_CPU]		= "arch_sync_dma_for_cpu",
	[HOOK_PREP_COHERENT]	= "arch_dma_prep_coherent",
	[HOOK_FROM_POOL]	= "dma_alloc_from_pool",
};

/*
 * One recorded call: the range a sync or prep hook covers (prep: the
 * physical address of its first page) and a sync's direction (-1 for the
 * others); for the pool, its device and size.
 */
struct hook_call {
	enum hook hook;
	int dir;
	phys_addr_t paddr;
	size_t size;
	const struct device *dev;
};

#define RANGE_CALL(h, p, s, d) \
	((struct hook_call){ .hook = (h), .paddr = (p), .size = (s), .dir = (d) })

static struct kprobe probes[NR_HOOKS];
static struct kprobe *probe_list[NR_HOOKS];
static bool probes_registered;

static DEFINE_RAW_SPINLOCK(rec_lock);
static struct task_struct *rec_task;
static struct hook_call rec_calls[REC_MAX];
static unsigned int rec_n, rec_lost;

static struct platform_device *nc_pdev;
static char nc_skip[96];

static const enum dma_data_direction dirs[] = {
	DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL,
};

/*
 * The pre-handler of every probe, run with interrupts off. The machine's
 * other devices may map and sync at any time, on any CPU, and an interrupt
 * may do so on the test's CPU, so only calls made by the armed task itself,
 * in task context, are kept. The arguments are read at function entry.
 */
static int hook_pre(struct kprobe *p, struct pt_regs *regs)
{
	unsigned long arg0 = regs_get_kernel_argument(regs, 0);
	struct hook_call c = {
		.hook = p - probes,
		.size = regs_get_kernel_argument(regs, 1),
		.dir = -1,
	};
	unsigned long flags;

	if (READ_ONCE(rec_task) != current || !in_task())
		return 0;
	switch (c.hook) {
	case HOOK_FOR_DEVICE:
	case HOOK_FOR_CPU:
		c.paddr = arg0;
		c.dir = regs_get_kernel_argument(regs, 2);
		break;
	case HOOK_PREP_COHERENT:
		c.paddr = page_to_phys((struct page *)arg0);
		break;
	default:
		c.dev = (const struct device *)arg0;
		break;
	}
	raw_spin_lock_irqsave(&rec_lock, flags);
	if (rec_n < REC_MAX)
		rec_calls[rec_n++] = c;
	else
		rec_lost++;
	raw_spin_unlock_irqrestore(&rec_lock, flags);
	return 0;
}

/* Forgets what was recorded and records the calling task's hook calls. */
static void rec_start(void)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&rec_lock, flags);
	rec_n = 0;
	rec_lost = 0;
	WRITE_ONCE(rec_task, current);
	raw_spin_unlock_irqrestore(&rec_lock, flags);
}

static void rec_stop(void)
{
	WRITE_ONCE(rec_task, NULL);
}

/*
 * Runs @call with recording armed around it, and only it. Only the armed
 * task adds to the record, so once it has stopped recording, it reads the
 * record without the lock.
 */
#define RECORDED(call) do { rec_start(); call; rec_stop(); } while (0)

static bool call_eq(const struct hook_call *a, const struct hook_call *b)
{
	return a->hook == b->hook && a->dir == b->dir && a->paddr == b->paddr &&
	       a->size == b->size && a->dev == b->dev;
}

/*
 * The recording holds exactly the @n calls of @want, in any order (the
 * cache maintenance of separate ranges may come in any order).
 */
static void expect_calls(struct kunit *test, const char *what,
			 const struct hook_call *want, unsigned int n)
{
	const struct hook_call *got = rec_calls;
	unsigned int ngot = rec_n, i, j;
	bool used[REC_MAX] = {};
	bool ok = !rec_lost && ngot == n;

	KUNIT_EXPECT_EQ_MSG(test, rec_lost, 0, "%s: more hook calls than recorded", what);
	KUNIT_EXPECT_EQ_MSG(test, ngot, n, "%s: number of hook calls", what);
	for (i = 0; i < n; i++) {
		for (j = 0; j < ngot; j++)
			if (!used[j] && call_eq(&got[j], &want[i]))
				break;
		if (j < ngot) {
			used[j] = true;
			continue;
		}
		ok = false;
		KUNIT_FAIL(test, "%s: no %s(%pa, %zu, %d)", what,
			   hook_names[want[i].hook], &want[i].paddr, want[i].size,
			   want[i].dir);
	}
	if (ok)
		return;
	for (j = 0; j < ngot; j++)
		kunit_info(test, "%s: call %u: %s(%pa, %zu, %d) dev %s\n", what, j,
			   hook_names[got[j].hook], &got[j].paddr, got[j].size,
			   got[j].dir, got[j].dev ? dev_name(got[j].dev) : "-");
}

static void expect_one(struct kunit *test, const char *what, enum hook hook,
		       phys_addr_t paddr, size_t size, int dir)
{
	struct hook_call want = RANGE_CALL(hook, paddr, size, dir);

	expect_calls(test, what, &want, 1);
}

static void expect_none(struct kunit *test, const char *what)
{
	expect_calls(test, what, NULL, 0);
}

/* Recorded calls of @hook (HOOK_ANY: any) whose range meets @lo..@lo+@len. */
static unsigned int count_calls_over(enum hook hook, phys_addr_t lo, size_t len)
{
	const struct hook_call *c;
	unsigned int n = 0;

	for (c = rec_calls; c < rec_calls + rec_n; c++)
		if ((hook == HOOK_ANY || c->hook == hook) &&
		    c->hook != HOOK_FROM_POOL &&
		    c->paddr < lo + len && lo < c->paddr + c->size)
			n++;
	return n;
}

/*
 * The recorder for the safe Rust API's tests. The probes are registered
 * for one recording at a time, when the C suite does not hold them.
 */
static bool probes_for_rust;

static int register_hook_probes(void)
{
	int i;

	/* Set afresh: a kprobe once registered keeps its resolved address. */
	for (i = 0; i < NR_HOOKS; i++) {
		probes[i] = (struct kprobe){
			.symbol_name = hook_names[i],
			.pre_handler = hook_pre,
		};
		probe_list[i] = &probes[i];
	}
	return register_kprobes(probe_list, NR_HOOKS);
}

int dma_kunit_rec_begin(void)
{
	int ret;

	if (!probes_registered) {
		ret = register_hook_probes();
		if (ret)
			return ret;
		probes_registered = true;
		probes_for_rust = true;
	}
	rec_start();
	return 0;
}

unsigned int dma_kunit_rec_end(void)
{
	rec_stop();
	if (probes_for_rust) {
		unregister_kprobes(probe_list, NR_HOOKS);
		probes_registered = false;
		probes_for_rust = false;
	}
	return rec_lost ? UINT_MAX : rec_n;
}

size_t dma_kunit_rec_bytes(struct device *dev, int hook, dma_addr_t dma,
			   size_t len, int dir)
{
	phys_addr_t lo = dma_to_phys(dev, dma);
	const struct hook_call *c;
	size_t bytes = 0;

	for (c = rec_calls; c < rec_calls + rec_n; c++)
		if (c->hook == hook && c->dir == dir && c->paddr >= lo &&
		    c->paddr + c->size <= lo + len)
			bytes += c->size;
	return bytes;
}

bool dma_kunit_dev_coherent(struct device *dev)
{
	return dev_is_dma_coherent(dev);
}

static struct device *nc_dev(struct kunit *test)
{
	return test->priv;
}

static bool forced_bounce(struct device *dev)
{
	return dma_kunit_setup(dev) == DMA_SETUP_SWIOTLB;
}

/*
 * The physical address the device reaches through @dma, a streaming
 * mapping of @phys: @phys itself, or a bounce slot where every mapping
 * bounces (swiotlb=force). The cache maintenance is due there.
 */
static phys_addr_t reached(struct kunit *test, dma_addr_t dma, phys_addr_t phys)
{
	struct device *dev = nc_dev(test);
	phys_addr_t at = dma_to_phys(dev, dma);

	if (forced_bounce(dev))
		KUNIT_EXPECT_NOT_NULL_MSG(test, swiotlb_find_pool(dev, at),
					  "%pa is no bounce slot", &at);
	else
		KUNIT_EXPECT_EQ_MSG(test, dma, phys_to_dma(dev, phys),
				    "the mapping of %pa moved", &phys);
	return at;
}

/*
 * Maps and unmaps a page-sized kmalloc() buffer in each direction with
 * @attrs: without DMA_ATTR_SKIP_CPU_SYNC the map hands it to the device
 * (one for_device over it) and the unmap hands it back (one for_cpu over
 * it, in every direction: arm64 does nothing for DMA_TO_DEVICE, but is
 * asked); with it, neither maintains anything.
 */
static void map_unmap(struct kunit *test, unsigned long attrs)
{
	bool sync = !(attrs & DMA_ATTR_SKIP_CPU_SYNC);
	struct device *dev = nc_dev(test);
	u8 *buf = kunit_kmalloc(test, BUF_SIZE, GFP_KERNEL);
	phys_addr_t at;
	dma_addr_t dma;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		RECORDED(dma = dma_map_single_attrs(dev, buf, BUF_SIZE, dirs[i],
						    attrs));
		KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
		at = reached(test, dma, virt_to_phys(buf));
		if (sync)
			expect_one(test, "map", HOOK_FOR_DEVICE, at, BUF_SIZE, dirs[i]);
		else
			expect_none(test, "map");

		RECORDED(dma_unmap_single_attrs(dev, dma, BUF_SIZE, dirs[i], attrs));
		if (sync)
			expect_one(test, "unmap", HOOK_FOR_CPU, at, BUF_SIZE, dirs[i]);
		else
			expect_none(test, "unmap");
	}
}

static void nc_map_single(struct kunit *test)
{
	map_unmap(test, 0);
}

static void nc_skip_cpu_sync(struct kunit *test)
{
	map_unmap(test, DMA_ATTR_SKIP_CPU_SYNC);
}

/*
 * Syncs @len bytes at @dma for the CPU, then for the device: one for_cpu,
 * then one for_device, each over @len bytes at @at.
 */
static void expect_syncs(struct kunit *test, dma_addr_t dma, phys_addr_t at,
			 size_t len, enum dma_data_direction dir)
{
	struct device *dev = nc_dev(test);

	RECORDED(dma_sync_single_for_cpu(dev, dma, len, dir));
	expect_one(test, "sync_for_cpu", HOOK_FOR_CPU, at, len, dir);
	RECORDED(dma_sync_single_for_device(dev, dma, len, dir));
	expect_one(test, "sync_for_device", HOOK_FOR_DEVICE, at, len, dir);
}

/* A sync of part of a mapping maintains exactly that part. */
static void nc_partial_syncs(struct kunit *test)
{
	const size_t off = 128, len = 256;
	struct device *dev = nc_dev(test);
	u8 *buf = kunit_kmalloc(test, BUF_SIZE, GFP_KERNEL);
	phys_addr_t at;
	dma_addr_t dma;
	int i;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		dma = dma_map_single(dev, buf, BUF_SIZE, dirs[i]);
		KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
		at = reached(test, dma, virt_to_phys(buf));
		expect_syncs(test, dma + off, at + off, len, dirs[i]);
		dma_unmap_single(dev, dma, BUF_SIZE, dirs[i]);
	}
}

#define SG_MAX		4

/*
 * The calls a table's sync makes: one @hook per entry, over the memory the
 * device reaches through it, into @want[SG_MAX]. Returns their number.
 */
static unsigned int sg_calls(struct kunit *test, struct sg_table *sgt,
			     enum hook hook, enum dma_data_direction dir,
			     struct hook_call *want)
{
	struct device *dev = nc_dev(test);
	struct scatterlist *sg;
	int i;

	KUNIT_EXPECT_LE(test, sgt->orig_nents, SG_MAX);
	if (sgt->orig_nents > SG_MAX)
		return 0;
	for_each_sgtable_sg(sgt, sg, i)
		want[i] = RANGE_CALL(hook, dma_to_phys(dev, sg_dma_address(sg)),
				     sg->length, dir);
	return sgt->orig_nents;
}

/*
 * A table of three entries in separate pages, with their own offsets and
 * lengths: its map, sync for the CPU, sync for the device and unmap
 * maintain each entry once.
 */
static void nc_sgtable(struct kunit *test)
{
	static const struct { size_t off, len; } ents[] = {
		{ 0, PAGE_SIZE }, { 256, 1024 }, { 1536, 512 },
	};
	const enum dma_data_direction dir = DMA_FROM_DEVICE;
	struct device *dev = nc_dev(test);
	struct hook_call want[SG_MAX];
	u8 *pages[ARRAY_SIZE(ents)];
	struct scatterlist *sg;
	struct sg_table *sgt;
	unsigned int n;
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(ents); i++) {
		pages[i] = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
	}
	sgt = kunit_kzalloc(test, sizeof(*sgt), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	KUNIT_ASSERT_EQ(test, sg_alloc_table(sgt, ARRAY_SIZE(ents), GFP_KERNEL), 0);
	for_each_sgtable_sg(sgt, sg, i)
		sg_set_buf(sg, pages[i] + ents[i].off, ents[i].len);

	RECORDED(ret = dma_map_sgtable(dev, sgt, dir, 0));
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (ret)
		goto free;
	KUNIT_EXPECT_EQ(test, sgt->nents, ARRAY_SIZE(ents));
	for_each_sgtable_sg(sgt, sg, i)
		reached(test, sg_dma_address(sg), sg_phys(sg));
	n = sg_calls(test, sgt, HOOK_FOR_DEVICE, dir, want);
	expect_calls(test, "map_sgtable", want, n);

	RECORDED(dma_sync_sgtable_for_cpu(dev, sgt, dir));
	n = sg_calls(test, sgt, HOOK_FOR_CPU, dir, want);
	expect_calls(test, "sync_sgtable_for_cpu", want, n);

	RECORDED(dma_sync_sgtable_for_device(dev, sgt, dir));
	n = sg_calls(test, sgt, HOOK_FOR_DEVICE, dir, want);
	expect_calls(test, "sync_sgtable_for_device", want, n);

	n = sg_calls(test, sgt, HOOK_FOR_CPU, dir, want);
	RECORDED(dma_unmap_sgtable(dev, sgt, dir, 0));
	expect_calls(test, "unmap_sgtable", want, n);
free:
	sg_free_table(sgt);
}

/*
 * dma_alloc_coherent() that may sleep: the pages' cached alias is cleaned
 * once (arch_dma_prep_coherent()) and the CPU gets an uncached remap of
 * them in vmalloc space, zeroed. dma_pgprot() names that protection.
 */
static void nc_coherent_remap(struct kunit *test)
{
	const size_t size = 2 * PAGE_SIZE + 100;
	struct device *dev = nc_dev(test);
	dma_addr_t dma;
	u8 *cpu;

	RECORDED(cpu = dma_alloc_coherent(dev, size, &dma, GFP_KERNEL));
	KUNIT_ASSERT_NOT_NULL(test, cpu);
	expect_one(test, "alloc_coherent", HOOK_PREP_COHERENT,
		   dma_to_phys(dev, dma), PAGE_ALIGN(size), -1);
	KUNIT_EXPECT_TRUE(test, is_vmalloc_addr(cpu));
	if (is_vmalloc_addr(cpu))
		KUNIT_EXPECT_EQ(test, page_to_phys(vmalloc_to_page(cpu)),
				dma_to_phys(dev, dma));
	KUNIT_EXPECT_TRUE(test, mem_is_zero(cpu, size));

	/* On arm64 both are Normal non-cacheable memory; neither is cached. */
	KUNIT_EXPECT_NE(test, pgprot_val(dma_pgprot(dev, PAGE_KERNEL, 0)),
			pgprot_val(PAGE_KERNEL));
	KUNIT_EXPECT_EQ(test, pgprot_val(dma_pgprot(dev, PAGE_KERNEL, 0)),
			pgprot_val(pgprot_dmacoherent(PAGE_KERNEL)));
	KUNIT_EXPECT_EQ(test,
			pgprot_val(dma_pgprot(dev, PAGE_KERNEL,
					      DMA_ATTR_WRITE_COMBINE)),
			pgprot_val(pgprot_writecombine(PAGE_KERNEL)));

	RECORDED(dma_free_coherent(dev, size, cpu, dma));
	expect_none(test, "free_coherent");
}

static DEFINE_SPINLOCK(nc_atomic_lock);

/*
 * dma_alloc_coherent() that must not sleep cannot remap: it takes memory
 * of the atomic pool, cleaned and remapped when the pool grew, so no
 * arch_dma_prep_coherent() runs for it.
 */
static void nc_coherent_atomic(struct kunit *test)
{
	struct device *dev = nc_dev(test);
	struct hook_call want = {
		.hook = HOOK_FROM_POOL, .dir = -1, .size = PAGE_SIZE, .dev = dev,
	};
	unsigned long flags;
	dma_addr_t dma;
	u8 *cpu;

	spin_lock_irqsave(&nc_atomic_lock, flags);
	RECORDED(cpu = dma_alloc_coherent(dev, PAGE_SIZE, &dma, GFP_ATOMIC));
	spin_unlock_irqrestore(&nc_atomic_lock, flags);
	KUNIT_ASSERT_NOT_NULL(test, cpu);
	expect_calls(test, "atomic alloc_coherent", &want, 1);
	KUNIT_EXPECT_EQ(test, count_calls_over(HOOK_PREP_COHERENT,
					       dma_to_phys(dev, dma), PAGE_SIZE), 0);
	KUNIT_EXPECT_TRUE(test, is_vmalloc_addr(cpu));
	KUNIT_EXPECT_TRUE(test, mem_is_zero(cpu, PAGE_SIZE));

	RECORDED(dma_free_coherent(dev, PAGE_SIZE, cpu, dma));
	expect_none(test, "free to the pool");
}

/*
 * dma_alloc_noncoherent() and dma_alloc_pages(): cacheable memory in the
 * linear map, with no maintenance at allocation or free; the driver's
 * syncs maintain exactly the range they name.
 */
static void nc_noncoherent_pages(struct kunit *test)
{
	const size_t size = 5000, off = 256, len = 1024;
	const enum dma_data_direction bidi = DMA_BIDIRECTIONAL;
	struct device *dev = nc_dev(test);
	struct page *page;
	phys_addr_t phys;
	dma_addr_t dma;
	u8 *cpu;

	RECORDED(cpu = dma_alloc_noncoherent(dev, size, &dma, bidi, GFP_KERNEL));
	KUNIT_ASSERT_NOT_NULL(test, cpu);
	expect_none(test, "alloc_noncoherent");
	KUNIT_EXPECT_TRUE(test, virt_addr_valid(cpu));
	KUNIT_EXPECT_FALSE(test, is_vmalloc_addr(cpu));
	phys = dma_to_phys(dev, dma);
	if (virt_addr_valid(cpu))
		KUNIT_EXPECT_EQ(test, virt_to_phys(cpu), phys);
	KUNIT_EXPECT_TRUE(test, mem_is_zero(cpu, size));
	expect_syncs(test, dma, phys, size, bidi);
	RECORDED(dma_free_noncoherent(dev, size, cpu, dma, bidi));
	expect_none(test, "free_noncoherent");

	RECORDED(page = dma_alloc_pages(dev, 2 * PAGE_SIZE, &dma, DMA_FROM_DEVICE,
					GFP_KERNEL));
	KUNIT_ASSERT_NOT_NULL(test, page);
	expect_none(test, "alloc_pages");
	phys = dma_to_phys(dev, dma);
	KUNIT_EXPECT_EQ(test, page_to_phys(page), phys);
	KUNIT_EXPECT_FALSE(test, is_vmalloc_addr(page_address(page)));
	expect_syncs(test, dma + off, phys + off, len, DMA_FROM_DEVICE);
	RECORDED(dma_free_pages(dev, 2 * PAGE_SIZE, page, dma, DMA_FROM_DEVICE));
	expect_none(test, "free_pages");
}

/*
 * dma_alloc_noncontiguous() without an IOMMU: one segment of pages, no
 * maintenance at allocation or free. dma-direct's dma_vmap_noncontiguous()
 * maps nothing: it returns the pages' linear-map address. The table's syncs
 * maintain each segment once. (flush_kernel_vmap_range() and
 * invalidate_kernel_vmap_range() are empty on arm64, and no vmap alias
 * exists here anyway, so they are not called.)
 */
static void nc_noncontiguous(struct kunit *test)
{
	const size_t size = 3 * PAGE_SIZE;
	struct device *dev = nc_dev(test);
	struct hook_call want[SG_MAX];
	struct scatterlist *sg;
	struct sg_table *sgt;
	size_t total = 0;
	unsigned int n;
	void *vaddr;
	int i;

	RECORDED(sgt = dma_alloc_noncontiguous(dev, size, DMA_BIDIRECTIONAL,
					       GFP_KERNEL, 0));
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	expect_none(test, "alloc_noncontiguous");
	KUNIT_EXPECT_EQ(test, sgt->nents, 1);
	for_each_sgtable_sg(sgt, sg, i)
		total += sg->length;
	KUNIT_EXPECT_EQ(test, total, size);

	vaddr = dma_vmap_noncontiguous(dev, size, sgt);
	KUNIT_EXPECT_PTR_EQ(test, vaddr, page_address(sg_page(sgt->sgl)));
	KUNIT_EXPECT_FALSE(test, is_vmalloc_addr(vaddr));
	if (vaddr && !is_vmalloc_addr(vaddr))
		KUNIT_EXPECT_TRUE(test, mem_is_zero(vaddr, size));

	RECORDED(dma_sync_sgtable_for_device(dev, sgt, DMA_BIDIRECTIONAL));
	n = sg_calls(test, sgt, HOOK_FOR_DEVICE, DMA_BIDIRECTIONAL, want);
	expect_calls(test, "sync_sgtable_for_device", want, n);
	KUNIT_EXPECT_EQ(test, count_calls_over(HOOK_FOR_DEVICE,
					       page_to_phys(sg_page(sgt->sgl)),
					       size), n);

	RECORDED(dma_sync_sgtable_for_cpu(dev, sgt, DMA_BIDIRECTIONAL));
	n = sg_calls(test, sgt, HOOK_FOR_CPU, DMA_BIDIRECTIONAL, want);
	expect_calls(test, "sync_sgtable_for_cpu", want, n);

	if (vaddr)
		dma_vunmap_noncontiguous(dev, vaddr);
	RECORDED(dma_free_noncontiguous(dev, size, sgt, DMA_BIDIRECTIONAL));
	expect_none(test, "free_noncontiguous");
}

/*
 * A kmalloc() buffer too small to own its cachelines, mapped for the
 * device to write, bounces through swiotlb (dma_kmalloc_needs_bounce()):
 * the maintenance is of the bounce slot, never of the buffer, and what the
 * "device" writes into the slot reaches the buffer at unmap. Mapped for
 * the device to read only, it is mapped in place (unless every mapping
 * bounces).
 */
static void nc_kmalloc_bounce(struct kunit *test)
{
	static const u8 pattern[8] = { 0x5a, 0xc3, 0x01, 0xfe, 0x77, 0x88, 0x10, 0xef };
	struct device *dev = nc_dev(test);
	u8 *buf = kunit_kmalloc(test, sizeof(pattern), GFP_KERNEL);
	phys_addr_t phys, at;
	bool bounced;
	dma_addr_t dma;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	if (!is_swiotlb_active(dev))
		kunit_skip(test, "no swiotlb: small kmalloc buffers cannot bounce");
	KUNIT_ASSERT_GT(test, dma_get_cache_alignment(), 1);
	phys = virt_to_phys(buf);

	memset(buf, 0xaa, sizeof(pattern));
	RECORDED(dma = dma_map_single(dev, buf, sizeof(pattern), DMA_FROM_DEVICE));
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	at = dma_to_phys(dev, dma);
	bounced = !!swiotlb_find_pool(dev, at);
	KUNIT_EXPECT_TRUE_MSG(test, bounced, "DMA_FROM_DEVICE mapping at %pa", &at);
	expect_one(test, "map", HOOK_FOR_DEVICE, at, sizeof(pattern),
		   DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, count_calls_over(HOOK_ANY, phys, sizeof(pattern)), 0);
	if (bounced)
		memcpy(phys_to_virt(at), pattern, sizeof(pattern));
	RECORDED(dma_unmap_single(dev, dma, sizeof(pattern), DMA_FROM_DEVICE));
	expect_one(test, "unmap", HOOK_FOR_CPU, at, sizeof(pattern),
		   DMA_FROM_DEVICE);
	KUNIT_EXPECT_EQ(test, count_calls_over(HOOK_ANY, phys, sizeof(pattern)), 0);
	if (bounced)
		KUNIT_EXPECT_MEMEQ(test, buf, pattern, sizeof(pattern));

	RECORDED(dma = dma_map_single(dev, buf, sizeof(pattern), DMA_TO_DEVICE));
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	at = reached(test, dma, phys);
	expect_one(test, "map", HOOK_FOR_DEVICE, at, sizeof(pattern),
		   DMA_TO_DEVICE);
	RECORDED(dma_unmap_single(dev, dma, sizeof(pattern), DMA_TO_DEVICE));
	expect_one(test, "unmap", HOOK_FOR_CPU, at, sizeof(pattern),
		   DMA_TO_DEVICE);
}

#ifdef CONFIG_DMA_API_DEBUG
/* dma-debug counts up to this many extra mappings of one cacheline. */
#define OVERLAP_MAX	7

static char nc_all_errors[8];

/* Every dma-debug error reported, until the test's exit restores it. */
static void debug_setup(struct kunit *test)
{
	if (dma_kunit_debugfs_read("all_errors", nc_all_errors,
				   sizeof(nc_all_errors)) < 0) {
		nc_all_errors[0] = '\0';
		kunit_skip(test, "no dma-api/ in debugfs (dma_debug=off?)");
	}
	KUNIT_ASSERT_EQ(test, dma_kunit_debugfs_write("all_errors", "1"), 0);
	/* What makes overlapping mappings of a cacheline unsafe at all. */
	KUNIT_ASSERT_GT(test, dma_get_cache_alignment(), 1);
	kunit_info(test, "DMA cache alignment %d, L1 cacheline %d, swiotlb %s\n",
		   dma_get_cache_alignment(), L1_CACHE_BYTES,
		   is_swiotlb_active(nc_dev(test)) ? "active" : "inactive");
}

/*
 * Whether dma-debug reports two live device-writable mappings of one
 * cacheline: where the DMA alignment spans a cacheline, unless small
 * kmalloc buffers bounce (an active swiotlb with
 * DMA_BOUNCE_UNALIGNED_KMALLOC), which keeps such buffers apart. arm64
 * always sets up swiotlb for that bouncing, so there it is not reported.
 */
static bool overlap_reported(struct device *dev)
{
	return dma_get_cache_alignment() >= L1_CACHE_BYTES &&
	       !(IS_ENABLED(CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC) &&
		 is_swiotlb_active(dev));
}

/*
 * Two 32-byte buffers in one cacheline, both mapped DMA_FROM_DEVICE: an
 * overlap report exactly where overlap_reported() says; with
 * DMA_ATTR_DEBUGGING_IGNORE_CACHELINES on both, never.
 */
static void nc_debug_overlap_pair(struct kunit *test)
{
	static const char msg[] =
		"cacheline tracking EEXIST, overlapping mappings aren't supported";
	struct device *dev = nc_dev(test);
	u8 *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	int round;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	debug_setup(test);
	for (round = 0; round < 2; round++) {
		unsigned long attrs = round ? DMA_ATTR_DEBUGGING_IGNORE_CACHELINES : 0;
		bool expect = !attrs && overlap_reported(dev);
		long errors = dma_kunit_counter(test, "error_count");
		u64 mark = dma_kunit_log_mark();
		dma_addr_t a, b;
		bool b_ok;

		a = dma_map_single_attrs(dev, buf, 32, DMA_FROM_DEVICE, attrs);
		KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, a));
		b = dma_map_single_attrs(dev, buf + 32, 32, DMA_FROM_DEVICE, attrs);
		b_ok = !dma_mapping_error(dev, b);
		if (b_ok)
			dma_unmap_single_attrs(dev, b, 32, DMA_FROM_DEVICE, attrs);
		dma_unmap_single_attrs(dev, a, 32, DMA_FROM_DEVICE, attrs);

		KUNIT_EXPECT_TRUE(test, b_ok);
		KUNIT_EXPECT_EQ_MSG(test, dma_kunit_counter(test, "error_count"),
				    errors + expect, "attrs %#lx", attrs);
		KUNIT_EXPECT_EQ_MSG(test, dma_kunit_log_has(mark, dev_name(dev), msg),
				    expect, "attrs %#lx: \"%s\" in the log", attrs, msg);
	}
}

/*
 * One mapping of a cacheline and OVERLAP_MAX + 1 more: dma-debug warns
 * that its count is exceeded, unless the new mappings carry
 * DMA_ATTR_DEBUGGING_IGNORE_CACHELINES. The warning is given once per
 * boot, so the kernel's one-time warnings are re-armed first.
 */
static void nc_debug_overlap_limit(struct kunit *test)
{
	struct device *dev = nc_dev(test);
	u8 *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	dma_addr_t dma[OVERLAP_MAX + 2];
	char needle[64];
	int round;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	debug_setup(test);
	if (dma_kunit_debugfs_write_in(".", "clear_warn_once", "1"))
		kunit_skip(test, "cannot re-arm one-time warnings (clear_warn_once)");
	snprintf(needle, sizeof(needle),
		 "exceeded %d overlapping mappings of cacheline", OVERLAP_MAX);
	for (round = 0; round < 2; round++) {
		unsigned long attrs = round ? 0 : DMA_ATTR_DEBUGGING_IGNORE_CACHELINES;
		u64 mark = dma_kunit_log_mark();
		size_t n;
		bool found;

		for (n = 0; n < ARRAY_SIZE(dma); n++) {
			dma[n] = dma_map_single_attrs(dev, buf + 4 * n, 4,
						      DMA_FROM_DEVICE, attrs);
			if (dma_mapping_error(dev, dma[n]))
				break;
		}
		KUNIT_EXPECT_EQ(test, n, ARRAY_SIZE(dma));
		found = dma_kunit_log_has(mark, needle, NULL);
		while (n--)
			dma_unmap_single_attrs(dev, dma[n], 4, DMA_FROM_DEVICE, attrs);
		KUNIT_EXPECT_EQ_MSG(test, found, !attrs,
				    "attrs %#lx: \"%s\" in the log", attrs, needle);
	}
}
#endif /* CONFIG_DMA_API_DEBUG */

/*
 * The device and the probes are the suite's; a test skips, saying why,
 * when either is missing or the device turned out coherent.
 */
static int nc_suite_init(struct kunit_suite *suite)
{
	struct device *dev;
	int ret;

	nc_skip[0] = '\0';
	nc_pdev = platform_device_alloc("dma-nc-arch-kunit", PLATFORM_DEVID_NONE);
	if (!nc_pdev)
		return -ENOMEM;
	ret = platform_device_add(nc_pdev);
	if (ret) {
		platform_device_put(nc_pdev);
		nc_pdev = NULL;
		return ret;
	}
	dev = &nc_pdev->dev;
	if (dev_is_dma_coherent(dev)) {
		strscpy(nc_skip, "the platform device is DMA-coherent: no cache maintenance");
		return 0;
	}
	if (dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32))) {
		strscpy(nc_skip, "a 32-bit DMA mask is refused");
		return 0;
	}
	ret = register_hook_probes();
	if (ret) {
		snprintf(nc_skip, sizeof(nc_skip),
			 "cannot probe the DMA hooks (%d; CONFIG_KPROBES?)", ret);
		return 0;
	}
	probes_registered = true;
	return 0;
}

static void nc_suite_exit(struct kunit_suite *suite)
{
	if (probes_registered)
		unregister_kprobes(probe_list, NR_HOOKS);
	probes_registered = false;
	platform_device_unregister(nc_pdev);
	nc_pdev = NULL;
}

static int nc_init(struct kunit *test)
{
	if (nc_skip[0])
		kunit_skip(test, "%s", nc_skip);
	test->priv = &nc_pdev->dev;
	return 0;
}

static void nc_exit(struct kunit *test)
{
	rec_stop();
#ifdef CONFIG_DMA_API_DEBUG
	if (nc_all_errors[0])
		dma_kunit_debugfs_write("all_errors", strim(nc_all_errors));
	nc_all_errors[0] = '\0';
#endif
}

static struct kunit_case dma_api_noncoherent_arch_cases[] = {
	KUNIT_CASE(nc_map_single),
	KUNIT_CASE(nc_skip_cpu_sync),
	KUNIT_CASE(nc_partial_syncs),
	KUNIT_CASE(nc_sgtable),
	KUNIT_CASE(nc_coherent_remap),
	KUNIT_CASE(nc_coherent_atomic),
	KUNIT_CASE(nc_noncoherent_pages),
	KUNIT_CASE(nc_noncontiguous),
	KUNIT_CASE(nc_kmalloc_bounce),
#ifdef CONFIG_DMA_API_DEBUG
	KUNIT_CASE(nc_debug_overlap_pair),
	KUNIT_CASE(nc_debug_overlap_limit),
#endif
	{}
};

static struct kunit_suite dma_api_noncoherent_arch_suite = {
	.name = "dma_api_noncoherent_arch",
	.suite_init = nc_suite_init,
	.suite_exit = nc_suite_exit,
	.init = nc_init,
	.exit = nc_exit,
	.test_cases = dma_api_noncoherent_arch_cases,
};

kunit_test_suites(&dma_api_noncoherent_arch_suite);
