// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the Rust mapping core (CONFIG_DMA_RUST_MAPPING) does beyond C: a
 * call without a device, or with an invalid DMA direction, is reported and
 * refused, and a free with an invalid direction is reported and still
 * frees what it can. The C core crashes on these (a NULL dereference,
 * BUG()), so this suite is built only with the Rust core.
 */

#include <linux/dma-mapping.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "dma_api_kunit.h"

/* Not one of the three directions data can move in, nor DMA_NONE. */
#define BAD_DIR ((enum dma_data_direction)7)

static void rust_mapping_bad_direction_refused(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct scatterlist sg;
	u8 *buf;
	u64 mark;
	dma_addr_t dma;

	buf = kunit_kzalloc(test, 64, GFP_KERNEL | GFP_DMA);
	KUNIT_ASSERT_NOT_NULL(test, buf);

	mark = dma_kunit_log_mark();
	dma = dma_map_single(dev, buf, 64, BAD_DIR);
	KUNIT_EXPECT_EQ(test, dma, DMA_MAPPING_ERROR);
	KUNIT_EXPECT_TRUE(test, dma_mapping_error(dev, dma));
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark, "dma_map_phys: invalid DMA direction 7",
						  NULL));

	sg_init_one(&sg, buf, 64);
	mark = dma_kunit_log_mark();
	KUNIT_EXPECT_EQ(test, dma_map_sg(dev, &sg, 1, BAD_DIR), 0);
	KUNIT_EXPECT_EQ(test, dma_map_sgtable(dev, &(struct sg_table){ .sgl = &sg,
				.orig_nents = 1 }, BAD_DIR, 0), -EINVAL);
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark, "dma_map_sg: invalid DMA direction 7",
						  NULL));

	/* A valid mapping still works, and its unmap with a bad direction is refused. */
	dma = dma_map_single(dev, buf, 64, DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	mark = dma_kunit_log_mark();
	dma_unmap_single(dev, dma, 64, BAD_DIR);
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark, "dma_unmap_phys: invalid DMA direction 7",
						  NULL));
	dma_unmap_single(dev, dma, 64, DMA_TO_DEVICE);
}

static void rust_mapping_no_device_refused(struct kunit *test)
{
	dma_addr_t dma = 0;
	u64 mark;

	mark = dma_kunit_log_mark();
	KUNIT_EXPECT_EQ(test, dma_map_phys(NULL, 0x1000, 64, DMA_TO_DEVICE, 0),
			DMA_MAPPING_ERROR);
	KUNIT_EXPECT_NULL(test, dma_alloc_coherent(NULL, PAGE_SIZE, &dma, GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, dma_set_mask(NULL, DMA_BIT_MASK(32)), -EIO);
	KUNIT_EXPECT_EQ(test, dma_max_mapping_size(NULL), 0);
	dma_unmap_phys(NULL, 0x1000, 64, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark, "dma_map_phys: called without a device",
						  NULL));
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark, "dma_alloc_attrs: called without a device",
						  NULL));
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark, "dma_unmap_phys: called without a device",
						  NULL));
}

/*
 * Whether dma-api/dump lists a record at @dma of @len bytes: 1 or 0, or -1
 * without dma-debug (dma_debug=off).
 */
static int dump_lists(struct kunit *test, dma_addr_t dma, size_t len)
{
	const size_t size = SZ_1M;
	char needle[48];
	char *dump;
	int ret;

	dump = vmalloc(size);
	KUNIT_ASSERT_NOT_NULL(test, dump);
	snprintf(needle, sizeof(needle), " D=%llx L=%zx ", (u64)dma, len);
	ret = dma_kunit_debugfs_read("dump", dump, size);
	if (ret >= 0) {
		char dis[8] = "";

		dma_kunit_debugfs_read("disabled", dis, sizeof(dis));
		ret = (dis[0] == 'Y' || dis[0] == '1') ? -1 : strstr(dump, needle) != NULL;
	}
	vfree(dump);
	return ret;
}

/*
 * A free with an invalid direction is reported, and what the backend frees
 * without a direction (dma-direct, the IOMMU layer's non-contiguous memory)
 * is freed: dma-debug forgets its record, and a new allocation works.
 * Behind the IOMMU, dma_free_pages() would unmap in no direction: the
 * pages are kept, and a free with the right direction still frees them.
 */
static void rust_mapping_free_bad_direction(struct kunit *test)
{
	struct device *dev = test_dev(test);
	bool iommu = dma_kunit_setup(dev) == DMA_SETUP_IOMMU;
	struct sg_table *sgt;
	struct page *page;
	dma_addr_t dma;
	size_t len;
	int tracked;
	u64 mark;

	page = dma_alloc_pages(dev, PAGE_SIZE, &dma, DMA_TO_DEVICE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	tracked = dump_lists(test, dma, PAGE_SIZE);
	KUNIT_EXPECT_NE(test, tracked, 0);
	mark = dma_kunit_log_mark();
	dma_free_pages(dev, PAGE_SIZE, page, dma, BAD_DIR);
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark, "dma_free_pages: invalid DMA direction 7",
						  NULL));
	if (iommu) {
		if (tracked > 0)
			KUNIT_EXPECT_EQ(test, dump_lists(test, dma, PAGE_SIZE), 1);
		dma_free_pages(dev, PAGE_SIZE, page, dma, DMA_TO_DEVICE);
	}
	if (tracked > 0)
		KUNIT_EXPECT_EQ(test, dump_lists(test, dma, PAGE_SIZE), 0);

	sgt = dma_alloc_noncontiguous(dev, PAGE_SIZE, DMA_FROM_DEVICE, GFP_KERNEL, 0);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	dma = sg_dma_address(sgt->sgl);
	len = sg_dma_len(sgt->sgl);
	tracked = dump_lists(test, dma, len);
	KUNIT_EXPECT_NE(test, tracked, 0);
	mark = dma_kunit_log_mark();
	dma_free_noncontiguous(dev, PAGE_SIZE, sgt, BAD_DIR);
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark,
						  "dma_free_noncontiguous: invalid DMA direction 7",
						  NULL));
	if (tracked > 0)
		KUNIT_EXPECT_EQ(test, dump_lists(test, dma, len), 0);

	/* Nothing was left half freed: the same allocations work again. */
	page = dma_alloc_pages(dev, PAGE_SIZE, &dma, DMA_TO_DEVICE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	dma_free_pages(dev, PAGE_SIZE, page, dma, DMA_TO_DEVICE);
}

static struct kunit_case dma_rust_mapping_cases[] = {
	KUNIT_CASE(rust_mapping_bad_direction_refused),
	KUNIT_CASE(rust_mapping_free_bad_direction),
	KUNIT_CASE(rust_mapping_no_device_refused),
	{}
};

static struct kunit_suite dma_rust_mapping_suite = {
	.name = "dma_rust_mapping",
	.init = dma_kunit_edu_init,
	.exit = dma_kunit_edu_exit,
	.test_cases = dma_rust_mapping_cases,
};

kunit_test_suites(&dma_rust_mapping_suite);
