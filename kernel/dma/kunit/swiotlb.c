// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conformance suite: swiotlb's bounce buffers, through real mappings of
 * edu (28-bit mask) under swiotlb=force. The tests look at the bounce
 * slots themselves, which only the kernel can: a mapping's DMA address
 * keeps the low bits of its buffer that the device's min_align_mask
 * names, the slots hold the buffer's bytes, partial syncs copy exactly
 * their range, an exhausted pool refuses and recovers (or grows), the
 * counters under swiotlb/ in debugfs follow, and each bounce fires
 * swiotlb_bounced. They run on the C and the Rust swiotlb alike, and only
 * in the swiotlb setup.
 */

#include <linux/delay.h>
#include <linux/dma-direct.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/tracepoint.h>
#include <trace/events/swiotlb.h>

#include "dma_api_kunit.h"

#define SLOT		IO_TLB_SIZE
#define THREADS		4
#define ROUNDS		300

/* The CPU's view of the bounce slot behind a mapping. */
static u8 *slot_of(struct device *dev, dma_addr_t dma)
{
	return phys_to_virt(dma_to_phys(dev, dma));
}

static void fill(u8 *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = seed + i * 7 + (i >> 8);
}

/*
 * One bounce through swiotlb_tbl_map_single(): whether the bounce address
 * keeps the buffer's bits under the device's min_align_mask, the
 * allocation holding it is aligned as asked (a page for unaligned requests
 * of a page or more), and the slots hold the buffer's bytes.
 */
static bool bounce_keeps_layout(struct kunit *test, struct device *dev,
				struct page *page, u64 mm, u64 am, size_t off,
				size_t size)
{
	phys_addr_t orig = page_to_phys(page) + off, tlb;
	u64 kept = orig & mm & (am | (SLOT - 1));
	u8 *buf = page_address(page);
	bool ok;

	fill(buf + off, size, mm + am + off + size);
	tlb = swiotlb_tbl_map_single(dev, orig, size, am, DMA_TO_DEVICE, 0);
	if (tlb == (phys_addr_t)DMA_MAPPING_ERROR) {
		kunit_err(test, "min_align %llx align %llx off %zx size %zu: no slots\n",
			  mm, am, off, size);
		return false;
	}
	ok = (tlb & mm) == (orig & mm) && !((tlb - kept) & am) &&
	     !(!am && !mm && size >= PAGE_SIZE && (tlb & ~PAGE_MASK)) &&
	     !memcmp(phys_to_virt(tlb), buf + off, size);
	if (!ok)
		kunit_err(test, "min_align %llx align %llx off %zx size %zu: bounce at %pa for %pa\n",
			  mm, am, off, size, &tlb, &orig);
	swiotlb_tbl_unmap_single(dev, tlb, size, DMA_TO_DEVICE, 0);
	return ok;
}

/*
 * Over a grid of min_align_mask, alloc_align_mask, offset and size, every
 * bounce keeps its layout (bounce_keeps_layout()), and the unmaps give
 * every slot back, padding slots included.
 */
static void swiotlb_offsets_and_alignment(struct kunit *test)
{
	static const unsigned int min_masks[] = { 0, 0x7ff, 0xfff, 0x3fff };
	static const unsigned int align_masks[] = { 0, 0x7ff, 0xfff };
	static const size_t offsets[] = { 0, 1, 0x3c, 0x800, 0x801, 0xfff, 0x1a00 };
	static const size_t sizes[] = { 1, 100, 2048, 4096, 10000 };
	struct device *dev = dma_kunit_bounce_dev(test);
	unsigned int i, n = ARRAY_SIZE(min_masks) * ARRAY_SIZE(align_masks) *
			    ARRAY_SIZE(offsets) * ARRAY_SIZE(sizes);
	unsigned int bad = 0;
	struct page *page;
	long base;

	page = alloc_pages(GFP_KERNEL, 3);
	KUNIT_ASSERT_NOT_NULL(test, page);
	base = dma_kunit_tlb_used(test);
	for (i = 0; i < n; i++) {
		unsigned int s = i % ARRAY_SIZE(sizes);
		unsigned int o = i / ARRAY_SIZE(sizes) % ARRAY_SIZE(offsets);
		unsigned int a = i / ARRAY_SIZE(sizes) / ARRAY_SIZE(offsets) %
				 ARRAY_SIZE(align_masks);
		unsigned int m = i / ARRAY_SIZE(sizes) / ARRAY_SIZE(offsets) /
				 ARRAY_SIZE(align_masks);

		dma_set_min_align_mask(dev, min_masks[m]);
		if (!bounce_keeps_layout(test, dev, page, min_masks[m],
					 align_masks[a], offsets[o], sizes[s]))
			bad++;
	}
	dma_set_min_align_mask(dev, 0);
	__free_pages(page, 3);
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, dma_kunit_tlb_used(test), base);
}

/* Sets the @len bytes at @p to @v outside the range @o..@o + @n. */
static void scribble_outside(u8 *p, size_t len, size_t o, size_t n, u8 v)
{
	memset(p, v, o);
	memset(p + o + n, v, len - o - n);
}

/*
 * Partial syncs of a mapping whose data starts 0x3c bytes into its first
 * slot (min_align_mask 0xfff), in both directions, at ranges that start
 * in a slot, cross a slot boundary, start in a later slot before the
 * data's offset in it (a negative distance from that slot's data), and end
 * at the mapping's end. Before each sync the source side is scribbled
 * outside the range: the sync must copy its range and nothing else, and
 * nothing past the buffer.
 */
static void swiotlb_partial_syncs(struct kunit *test)
{
	static const struct { size_t off, len; } ranges[] = {
		{ 0, 1 }, { 5, 100 }, { SLOT - 0x3c - 8, 16 },
		{ SLOT - 0x3c, 30 }, { SLOT - 0x3c + 0x10, 0x40 },
		{ 2 * SLOT, SLOT }, { 3 * SLOT + 100 - 7, 7 },
	};
	const size_t len = 3 * SLOT + 100, guard = 64;
	struct device *dev = dma_kunit_bounce_dev(test);
	u8 *buf, *cpu, *shadow, *slots;
	dma_addr_t dma;
	unsigned int i;

	buf = kunit_kmalloc(test, 4 * PAGE_SIZE, GFP_KERNEL);
	shadow = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, shadow);
	cpu = PTR_ALIGN(buf, PAGE_SIZE) + 0x3c;
	KUNIT_ASSERT_LE(test, (size_t)(cpu - buf) + len + guard, 4 * PAGE_SIZE);
	memset(cpu, 0xaa, len);
	memset(cpu + len, 0xee, guard);
	memset(shadow, 0xaa, len);

	/* The mask holds for the mapping's life: syncs and unmap use it. */
	dma_set_min_align_mask(dev, 0xfff);
	dma = dma_map_single(dev, cpu, len, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	KUNIT_EXPECT_EQ(test, dma & 0xfff, 0x3c);
	slots = slot_of(dev, dma);
	KUNIT_EXPECT_EQ(test, memcmp(slots, shadow, len), 0);

	for (i = 0; i < ARRAY_SIZE(ranges); i++) {
		size_t o = ranges[i].off, n = ranges[i].len;

		/* The device writes the range, and scribbles elsewhere. */
		memset(slots + o, 0x10 + i, n);
		scribble_outside(slots, len, o, n, 0x55);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(cpu + o, shadow + o, n), 0,
				    "range %u copied before its sync", i);
		dma_sync_single_range_for_cpu(dev, dma, o, n, DMA_FROM_DEVICE);
		memset(shadow + o, 0x10 + i, n);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(cpu, shadow, len), 0,
				    "for_cpu at %zu+%zu", o, n);
		memcpy(slots, shadow, len);

		/* The CPU writes the range back, and scribbles elsewhere. */
		memset(cpu + o, 0x80 + i, n);
		scribble_outside(cpu, len, o, n, 0x66);
		dma_sync_single_range_for_device(dev, dma, o, n, DMA_TO_DEVICE);
		memset(shadow + o, 0x80 + i, n);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(slots, shadow, len), 0,
				    "for_device at %zu+%zu", o, n);
		memcpy(cpu, shadow, len);
	}
	dma_unmap_single(dev, dma, len, DMA_BIDIRECTIONAL);
	dma_set_min_align_mask(dev, 0);
	KUNIT_EXPECT_EQ(test, memcmp(cpu, shadow, len), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(cpu + len, 0xee, guard));
}

/* What the probe of swiotlb_bounced saw of the test's device. */
struct bounced {
	struct device *dev;
	unsigned int calls;
	dma_addr_t dev_addr;
	size_t size;
};

static void bounced_probe(void *data, struct device *dev, dma_addr_t dev_addr,
			  size_t size)
{
	struct bounced *b = data;

	if (dev != b->dev)
		return;
	b->calls++;
	b->dev_addr = dev_addr;
	b->size = size;
}

/*
 * Each bouncing map fires swiotlb_bounced once, with the device's address
 * of the original buffer (not of the slots) and the size; the unmap fires
 * nothing.
 */
static void swiotlb_bounced_event(struct kunit *test)
{
	struct device *dev = dma_kunit_bounce_dev(test);
	struct bounced b = { .dev = dev };
	size_t len = 3000;
	dma_addr_t dma;
	void *buf;

	buf = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, register_trace_swiotlb_bounced(bounced_probe, &b), 0);
	dma = dma_map_single(dev, buf, len, DMA_TO_DEVICE);
	if (!dma_mapping_error(dev, dma))
		dma_unmap_single(dev, dma, len, DMA_TO_DEVICE);
	unregister_trace_swiotlb_bounced(bounced_probe, &b);
	tracepoint_synchronize_unregister();

	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	KUNIT_EXPECT_EQ(test, b.calls, 1);
	KUNIT_EXPECT_EQ(test, b.dev_addr, phys_to_dma(dev, virt_to_phys(buf)));
	KUNIT_EXPECT_EQ(test, b.size, len);
}

/*
 * With SWIOTLB_DYNAMIC the pool set grows instead of filling up: mappings of
 * the longest size for more slots than the default pool has all succeed,
 * through transient pools or pools the growth worker added, with the
 * buffer's bytes in their slots; the unmaps give every slot back, and the
 * transient pools go with their mappings. The growth worker the first
 * overflow queued adds a pool, which the next mapping uses instead of a
 * transient pool. A mapping longer than a segment still fails at once,
 * without a transient pool.
 */
static void swiotlb_growth(struct kunit *test, struct device *dev,
			   void *buf, size_t size, dma_addr_t *dmas, long segs)
{
	long base = dma_kunit_tlb_used(test), n;
	long transient = dma_kunit_counter_in(test, "swiotlb",
					      "io_tlb_transient_nslabs");
	long nslabs = dma_kunit_counter_in(test, "swiotlb", "io_tlb_nslabs");
	phys_addr_t tlb;
	long now;
	int i;

	for (n = 0; n <= segs; n++) {
		dmas[n] = dma_map_single(dev, buf, size, DMA_TO_DEVICE);
		if (dma_mapping_error(dev, dmas[n]))
			break;
		if (memchr_inv(slot_of(dev, dmas[n]), 0x5a, size)) {
			KUNIT_FAIL(test, "mapping %ld: the slots lack the buffer's bytes", n);
			n++;
			break;
		}
	}
	KUNIT_EXPECT_EQ(test, n, segs + 1);
	KUNIT_EXPECT_EQ(test, dma_kunit_tlb_used(test), base + n * IO_TLB_SEGSIZE);
	KUNIT_EXPECT_GT(test,
			dma_kunit_counter_in(test, "swiotlb", "io_tlb_transient_nslabs") - transient +
			dma_kunit_counter_in(test, "swiotlb", "io_tlb_nslabs") - nslabs, 0);

	for (i = 0; i < 50; i++) {
		if (dma_kunit_counter_in(test, "swiotlb", "io_tlb_nslabs") > nslabs)
			break;
		msleep(100);
	}
	KUNIT_EXPECT_GT(test, dma_kunit_counter_in(test, "swiotlb", "io_tlb_nslabs"), nslabs);
	if (n == segs + 1) {
		now = dma_kunit_counter_in(test, "swiotlb", "io_tlb_transient_nslabs");
		dmas[n] = dma_map_single(dev, buf, size, DMA_TO_DEVICE);
		KUNIT_EXPECT_FALSE(test, dma_mapping_error(dev, dmas[n]));
		if (!dma_mapping_error(dev, dmas[n]))
			n++;
		KUNIT_EXPECT_EQ(test, dma_kunit_counter_in(test, "swiotlb",
							   "io_tlb_transient_nslabs"), now);
	}
	while (n > 0)
		dma_unmap_single(dev, dmas[--n], size, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, dma_kunit_tlb_used(test), base);
	KUNIT_EXPECT_EQ(test, dma_kunit_counter_in(test, "swiotlb", "io_tlb_transient_nslabs"),
			transient);

	tlb = swiotlb_tbl_map_single(dev, virt_to_phys(buf), size + 1, 0,
				     DMA_TO_DEVICE, DMA_ATTR_NO_WARN);
	KUNIT_EXPECT_EQ(test, tlb, (phys_addr_t)DMA_MAPPING_ERROR);
	if (tlb != (phys_addr_t)DMA_MAPPING_ERROR)
		swiotlb_tbl_unmap_single(dev, tlb, size + 1, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, dma_kunit_counter_in(test, "swiotlb", "io_tlb_transient_nslabs"),
			transient);
}

/*
 * Mappings of the longest size take whole segments until the pool is full;
 * the next is refused with DMA_MAPPING_ERROR and "swiotlb buffer is full";
 * one unmap makes room for one map again, and unmapping all of them gives
 * every slot back. A pool set that grows is tested by swiotlb_growth().
 */
static void swiotlb_exhaustion_recovers(struct kunit *test)
{
	struct device *dev = dma_kunit_bounce_dev(test);
	size_t size = swiotlb_max_mapping_size(dev);
	long nslabs, base, segs, n;
	dma_addr_t *dmas, extra;
	struct page *page;
	u64 mark;
	void *buf;

	KUNIT_ASSERT_EQ(test, size, (size_t)SLOT * IO_TLB_SEGSIZE);
	nslabs = dma_kunit_counter_in(test, "swiotlb", "io_tlb_nslabs");
	segs = nslabs / IO_TLB_SEGSIZE;
	page = alloc_pages(GFP_KERNEL, get_order(size));
	dmas = kunit_kcalloc(test, segs + 2, sizeof(*dmas), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_NOT_NULL(test, dmas);
	buf = page_address(page);
	memset(buf, 0x5a, size);

	if (IS_ENABLED(CONFIG_SWIOTLB_DYNAMIC)) {
		swiotlb_growth(test, dev, buf, size, dmas, segs);
		__free_pages(page, get_order(size));
		return;
	}
	base = dma_kunit_tlb_used(test);
	for (n = 0; n <= segs; n++) {
		dmas[n] = dma_map_single_attrs(dev, buf, size, DMA_TO_DEVICE,
					       DMA_ATTR_NO_WARN);
		if (dma_mapping_error(dev, dmas[n]))
			break;
	}
	/* A slot in use elsewhere spoils at most its own segment. */
	KUNIT_EXPECT_LT(test, n, segs + 1);
	KUNIT_EXPECT_GE(test, n, segs - base);
	KUNIT_EXPECT_EQ(test, dma_kunit_tlb_used(test), base + n * IO_TLB_SEGSIZE);
	KUNIT_EXPECT_GE(test, dma_kunit_counter_in(test, "swiotlb", "io_tlb_used_hiwater"),
			base + n * IO_TLB_SEGSIZE);

	mark = dma_kunit_log_mark();
	extra = dma_map_single(dev, buf, size, DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, dma_mapping_error(dev, extra));
	if (!dma_mapping_error(dev, extra))
		dma_unmap_single(dev, extra, size, DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark, "swiotlb buffer is full", NULL));

	if (n > 0) {
		dma_unmap_single(dev, dmas[--n], size, DMA_TO_DEVICE);
		dmas[n] = dma_map_single(dev, buf, size, DMA_TO_DEVICE);
		KUNIT_EXPECT_FALSE(test, dma_mapping_error(dev, dmas[n]));
		if (!dma_mapping_error(dev, dmas[n]))
			KUNIT_EXPECT_NULL(test, memchr_inv(slot_of(dev, dmas[n]), 0x5a, size));
		else
			n--;
		n++;
	}
	while (n > 0)
		dma_unmap_single(dev, dmas[--n], size, DMA_TO_DEVICE);
	__free_pages(page, get_order(size));
	KUNIT_EXPECT_EQ(test, dma_kunit_tlb_used(test), base);
}

/*
 * debugfs swiotlb/: io_tlb_used counts a mapping's slots while it lives,
 * the high-water mark covers the most ever in use, writing 0 resets the
 * mark, and any other value is refused with EINVAL.
 */
static void swiotlb_debugfs_counters(struct kunit *test)
{
	struct device *dev = dma_kunit_bounce_dev(test);
	long base, hiwater;
	dma_addr_t a, b;
	void *buf;

	KUNIT_EXPECT_GT(test, dma_kunit_counter_in(test, "swiotlb", "io_tlb_nslabs"), 0);
	buf = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	base = dma_kunit_tlb_used(test);
	/* 3000 bytes at a page-aligned buffer: two slots each. */
	a = dma_map_single(dev, buf, 3000, DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, a));
	KUNIT_EXPECT_EQ(test, dma_kunit_tlb_used(test), base + 2);
	b = dma_map_single(dev, buf, 3000, DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, b));
	KUNIT_EXPECT_EQ(test, dma_kunit_tlb_used(test), base + 4);
	dma_unmap_single(dev, b, 3000, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, dma_kunit_tlb_used(test), base + 2);
	hiwater = dma_kunit_counter_in(test, "swiotlb", "io_tlb_used_hiwater");
	KUNIT_EXPECT_GE(test, hiwater, base + 4);

	KUNIT_EXPECT_EQ(test, dma_kunit_debugfs_write_in("swiotlb", "io_tlb_used_hiwater", "5"),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, dma_kunit_counter_in(test, "swiotlb", "io_tlb_used_hiwater"),
			hiwater);
	KUNIT_EXPECT_EQ(test, dma_kunit_debugfs_write_in("swiotlb", "io_tlb_used_hiwater", "0"), 0);
	KUNIT_EXPECT_LT(test, dma_kunit_counter_in(test, "swiotlb", "io_tlb_used_hiwater"),
			hiwater);

	dma_unmap_single(dev, a, 3000, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, dma_kunit_tlb_used(test), base);
}

struct bouncer {
	struct device *dev;
	struct completion done;
	atomic_t *bad;
	int id;
};

/* Map, check the slots, write them as the device would, unmap, check. */
static int bouncer_fn(void *data)
{
	struct bouncer *b = data;
	u8 *buf = kmalloc(4 * PAGE_SIZE, GFP_KERNEL);
	int i;

	for (i = 0; buf && i < ROUNDS; i++) {
		size_t off = get_random_u32_below(64);
		size_t len = 1 + get_random_u32_below(3 * SLOT);
		dma_addr_t dma;
		u8 *slots;

		fill(buf + off, len, b->id * 31 + i);
		dma = dma_map_single(b->dev, buf + off, len, DMA_BIDIRECTIONAL);
		if (dma_mapping_error(b->dev, dma)) {
			atomic_inc(b->bad);
			continue;
		}
		slots = slot_of(b->dev, dma);
		if (memcmp(slots, buf + off, len))
			atomic_inc(b->bad);
		fill(slots, len, ~(b->id * 31 + i));
		cond_resched();
		dma_unmap_single(b->dev, dma, len, DMA_BIDIRECTIONAL);
		fill(buf + 4 * PAGE_SIZE - len, len, ~(b->id * 31 + i));
		if (memcmp(buf + off, buf + 4 * PAGE_SIZE - len, len))
			atomic_inc(b->bad);
	}
	if (!buf)
		atomic_inc(b->bad);
	kfree(buf);
	complete(&b->done);
	return 0;
}

/*
 * Four kthreads map and unmap at once, across the pool's areas: every
 * bounce holds its own buffer's bytes and brings the device's back, so no
 * slot is ever given to two live mappings, and all slots come back.
 */
static void swiotlb_concurrent_maps(struct kunit *test)
{
	struct device *dev = dma_kunit_bounce_dev(test);
	struct bouncer b[THREADS];
	atomic_t bad = ATOMIC_INIT(0);
	long base = dma_kunit_tlb_used(test);
	int i;

	for (i = 0; i < THREADS; i++) {
		struct task_struct *t;

		b[i] = (struct bouncer){ .dev = dev, .bad = &bad, .id = i };
		init_completion(&b[i].done);
		t = kthread_run(bouncer_fn, &b[i], "swiotlb-kunit/%d", i);
		if (IS_ERR(t)) {
			atomic_inc(&bad);
			complete(&b[i].done);
		}
	}
	for (i = 0; i < THREADS; i++)
		wait_for_completion(&b[i].done);
	KUNIT_EXPECT_EQ(test, atomic_read(&bad), 0);
	KUNIT_EXPECT_EQ(test, dma_kunit_tlb_used(test), base);
}

/*
 * The boot with swiotlb=2048,4,force: a pool of 2048 slots in 4 areas.
 * Skipped in the other boots.
 */
static void swiotlb_boot_parameter(struct kunit *test)
{
	dma_kunit_bounce_dev(test);
	if (!strstr(saved_command_line, "swiotlb=2048,4,force"))
		kunit_skip(test, "needs the boot parameter swiotlb=2048,4,force");
	KUNIT_EXPECT_EQ(test, dma_kunit_counter_in(test, "swiotlb", "io_tlb_nslabs"), 2048);
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(0, "software IO TLB: area num 4", NULL));
}

static struct kunit_case dma_swiotlb_cases[] = {
	/* First: a pool set that grows is the boot's size until it is full. */
	KUNIT_CASE(swiotlb_boot_parameter),
	KUNIT_CASE(swiotlb_offsets_and_alignment),
	KUNIT_CASE(swiotlb_partial_syncs),
	KUNIT_CASE(swiotlb_bounced_event),
	KUNIT_CASE(swiotlb_exhaustion_recovers),
	KUNIT_CASE(swiotlb_debugfs_counters),
	KUNIT_CASE_SLOW(swiotlb_concurrent_maps),
	{}
};

static struct kunit_suite dma_swiotlb_suite = {
	.name = "dma_swiotlb",
	.init = dma_kunit_edu_init,
	.exit = dma_kunit_swiotlb_exit,
	.test_cases = dma_swiotlb_cases,
};

kunit_test_suites(&dma_swiotlb_suite);
