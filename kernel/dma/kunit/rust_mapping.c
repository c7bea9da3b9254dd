// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the Rust mapping core (CONFIG_DMA_RUST_MAPPING) does beyond C: a
 * call without a device, or with an invalid DMA direction, is reported and
 * refused. The C core crashes on both (a NULL dereference, BUG()), so this
 * suite is built only with the Rust core.
 */

#include <linux/dma-mapping.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

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

static struct kunit_case dma_rust_mapping_cases[] = {
	KUNIT_CASE(rust_mapping_bad_direction_refused),
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
