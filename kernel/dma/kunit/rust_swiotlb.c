// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the Rust swiotlb (CONFIG_DMA_RUST_SWIOTLB) does beyond C, under
 * swiotlb=force: an unmap from an address that is not where a mapping's
 * data starts frees nothing; a sync that starts past its mapping's end
 * copies nothing; a sync in an invalid direction is reported and ignored;
 * debugfs swiotlb/devices and "swiotlb buffer is full" name the devices
 * holding slots.
 * The C swiotlb frees a wrong number of slots, copies past the buffer, or
 * BUG()s on these, so this suite is built only with the Rust swiotlb.
 */

#include <linux/dma-direct.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>

#include "dma_api_kunit.h"

#define SLOT IO_TLB_SIZE

/*
 * A mapping of three slots whose data starts 0x3c into its first: unmaps
 * from its second slot, or from another offset in its first, free nothing
 * and are reported; the right unmap then frees all three.
 */
static void rust_swiotlb_unmap_not_a_start(struct kunit *test)
{
	struct device *dev = dma_kunit_bounce_dev(test);
	const size_t len = 3 * SLOT - 0x3c;
	phys_addr_t orig, tlb;
	long base;
	u64 mark;
	u8 *buf;

	buf = kunit_kmalloc(test, 4 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	orig = virt_to_phys(PTR_ALIGN(buf, PAGE_SIZE)) + 0x3c;
	base = dma_kunit_tlb_used(test);
	dma_set_min_align_mask(dev, 0xfff);
	tlb = swiotlb_tbl_map_single(dev, orig, len, 0, DMA_TO_DEVICE, 0);
	KUNIT_ASSERT_NE(test, tlb, (phys_addr_t)DMA_MAPPING_ERROR);
	KUNIT_EXPECT_EQ(test, dma_kunit_tlb_used(test), base + 3);

	mark = dma_kunit_log_mark();
	swiotlb_tbl_unmap_single(dev, tlb + SLOT, len - SLOT, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, dma_kunit_tlb_used(test), base + 3);
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark, "not a bounce buffer's start", NULL));
	swiotlb_tbl_unmap_single(dev, tlb + 0x10, len - 0x10, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, dma_kunit_tlb_used(test), base + 3);

	swiotlb_tbl_unmap_single(dev, tlb, len, DMA_TO_DEVICE, 0);
	dma_set_min_align_mask(dev, 0);
	KUNIT_EXPECT_EQ(test, dma_kunit_tlb_used(test), base);
}

/*
 * A 100-byte mapping followed in memory by guard bytes: a sync for the CPU
 * that starts 200 bytes in copies nothing and is reported; one that starts
 * in the mapping and runs past its end stops at the end.
 */
static void rust_swiotlb_sync_past_end(struct kunit *test)
{
	struct device *dev = dma_kunit_bounce_dev(test);
	const size_t len = 100, guard = 400;
	dma_addr_t dma;
	u8 *buf, *slots;
	u64 mark;

	buf = kunit_kmalloc(test, len + guard, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, 0xaa, len + guard);
	dma = dma_map_single(dev, buf, len, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	slots = phys_to_virt(dma_to_phys(dev, dma));
	/* The device writes its bytes and beyond, within the slot. */
	memset(slots, 0x77, SLOT);

	mark = dma_kunit_log_mark();
	swiotlb_sync_single_for_cpu(dev, dma_to_phys(dev, dma) + 200, 50,
				    DMA_FROM_DEVICE);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0xaa, len + guard));
	swiotlb_sync_single_for_cpu(dev, dma_to_phys(dev, dma) + 50, 300,
				    DMA_FROM_DEVICE);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0xaa, 50));
	KUNIT_EXPECT_NULL(test, memchr_inv(buf + 50, 0x77, len - 50));
	KUNIT_EXPECT_NULL(test, memchr_inv(buf + len, 0xaa, guard));
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark, "Buffer overflow detected", NULL) ||
				dma_kunit_log_has(0, "Buffer overflow detected", NULL));

	dma_unmap_single_attrs(dev, dma, len, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC);
}

/* A sync in a direction that is none of the three: reported, no copy. */
static void rust_swiotlb_sync_bad_direction(struct kunit *test)
{
	struct device *dev = dma_kunit_bounce_dev(test);
	struct io_tlb_pool *pool;
	phys_addr_t tlb;
	dma_addr_t dma;
	u8 *buf;
	u64 mark;

	buf = kunit_kmalloc(test, 64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, 0xaa, 64);
	dma = dma_map_single(dev, buf, 64, DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	tlb = dma_to_phys(dev, dma);
	pool = swiotlb_find_pool(dev, tlb);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	memset(buf, 0x11, 64);

	mark = dma_kunit_log_mark();
	__swiotlb_sync_single_for_device(dev, tlb, 64, DMA_NONE, pool);
	KUNIT_EXPECT_NULL(test, memchr_inv(phys_to_virt(tlb), 0xaa, 64));
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark, "sync in invalid direction", NULL));
	dma_unmap_single(dev, dma, 64, DMA_TO_DEVICE);
}

/* The slots swiotlb/devices says @dev holds (0 when it is not listed). */
static long holder_slots(struct kunit *test, struct device *dev)
{
	const size_t size = 4096;
	char *text = kunit_kzalloc(test, size, GFP_KERNEL), *line, *p;
	size_t len = strlen(dev_name(dev));
	long slots = 0;

	KUNIT_ASSERT_NOT_NULL(test, text);
	KUNIT_ASSERT_GE(test, dma_kunit_debugfs_read_in("swiotlb", "devices", text, size), 0);
	p = text;
	while ((line = strsep(&p, "\n")))
		if (!strncmp(line, dev_name(dev), len) && line[len] == ' ')
			KUNIT_EXPECT_EQ(test, kstrtol(line + len + 1, 10, &slots), 0);
	return slots;
}

/*
 * swiotlb/devices counts edu's slots while it holds them; when the pool is
 * full, the report names the devices holding the most, edu among them. A
 * pool set that grows (SWIOTLB_DYNAMIC) is not full: edu's slots in
 * transient pools count too.
 */
static void rust_swiotlb_holders(struct kunit *test)
{
	struct device *dev = dma_kunit_bounce_dev(test);
	size_t size = swiotlb_max_mapping_size(dev);
	long segs, n;
	dma_addr_t *dmas, dma;
	struct page *page;
	void *buf;
	u64 mark;

	segs = dma_kunit_counter_in(test, "swiotlb", "io_tlb_nslabs") / IO_TLB_SEGSIZE;
	page = alloc_pages(GFP_KERNEL, get_order(size));
	dmas = kunit_kcalloc(test, segs + 1, sizeof(*dmas), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_ASSERT_NOT_NULL(test, dmas);
	buf = page_address(page);

	KUNIT_EXPECT_EQ(test, holder_slots(test, dev), 0);
	dma = dma_map_single(dev, buf, 3 * SLOT, DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	KUNIT_EXPECT_EQ(test, holder_slots(test, dev), 3);
	dma_unmap_single(dev, dma, 3 * SLOT, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, holder_slots(test, dev), 0);

	for (n = 0; n <= segs; n++) {
		dmas[n] = dma_map_single_attrs(dev, buf, size, DMA_TO_DEVICE,
					       DMA_ATTR_NO_WARN);
		if (dma_mapping_error(dev, dmas[n]))
			break;
	}
	KUNIT_EXPECT_EQ(test, holder_slots(test, dev), n * IO_TLB_SEGSIZE);
	if (IS_ENABLED(CONFIG_SWIOTLB_DYNAMIC)) {
		KUNIT_EXPECT_EQ(test, n, segs + 1);
		goto unmap;
	}
	mark = dma_kunit_log_mark();
	dma = dma_map_single(dev, buf, size, DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, dma_mapping_error(dev, dma));
	if (!dma_mapping_error(dev, dma))
		dma_unmap_single(dev, dma, size, DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark, "swiotlb slots held by", dev_name(dev)));
unmap:
	while (n > 0)
		dma_unmap_single(dev, dmas[--n], size, DMA_TO_DEVICE);
	__free_pages(page, get_order(size));
	KUNIT_EXPECT_EQ(test, holder_slots(test, dev), 0);
}

static struct kunit_case dma_rust_swiotlb_cases[] = {
	KUNIT_CASE(rust_swiotlb_holders),
	KUNIT_CASE(rust_swiotlb_unmap_not_a_start),
	KUNIT_CASE(rust_swiotlb_sync_past_end),
	KUNIT_CASE(rust_swiotlb_sync_bad_direction),
	{}
};

static struct kunit_suite dma_rust_swiotlb_suite = {
	.name = "dma_rust_swiotlb",
	.init = dma_kunit_edu_init,
	.exit = dma_kunit_swiotlb_exit,
	.test_cases = dma_rust_swiotlb_cases,
};

kunit_test_suites(&dma_rust_swiotlb_suite);
