// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conformance suite, Part Ic of dma-api.rst: DMA addressing capabilities.
 */

#include <linux/dma-map-ops.h>
#include <linux/memblock.h>

#include "dma_api_kunit.h"

/*
 * Masks every path accepts: 64, 32 and, on x86, edu's own 28 bits. Where
 * no RAM lies below a mask (arm64's virt: RAM starts at 1 GiB), dma-direct
 * refuses it with -EIO and the old mask stays; an IOMMU takes any.
 */
static void mask_set_accepts_reachable(struct kunit *test)
{
	static const int bits[] = { 64, 40, 32, 30, 28 };
	struct device *dev = test_dev(test);
	bool iommu = dma_kunit_setup(dev) == DMA_SETUP_IOMMU;
	int i;

	for (i = 0; i < ARRAY_SIZE(bits); i++) {
		u64 m = DMA_BIT_MASK(bits[i]);

		if (!iommu && PFN_PHYS(min_low_pfn) > m) {
			u64 old = dma_get_mask(dev);

			KUNIT_EXPECT_EQ_MSG(test, dma_set_mask(dev, m), -EIO,
					    "%d bits", bits[i]);
			KUNIT_EXPECT_EQ(test, dma_get_mask(dev), old);
			continue;
		}

		KUNIT_EXPECT_EQ_MSG(test, dma_set_mask(dev, m), 0, "%d bits", bits[i]);
		KUNIT_EXPECT_EQ(test, dma_get_mask(dev), m);
		KUNIT_EXPECT_EQ(test, dma_set_coherent_mask(dev, m), 0);
		KUNIT_EXPECT_EQ(test, dev->coherent_dma_mask, m);
	}
}

/*
 * A mask too small for the platform's lowest zone is refused by dma-direct,
 * and the old mask stays. Behind an IOMMU any mask works: the IOVA
 * allocator honours it.
 */
static void mask_set_rejects_unreachable(struct kunit *test)
{
	struct device *dev = test_dev(test);
	bool iommu = dma_kunit_setup(dev) == DMA_SETUP_IOMMU;
	u64 old = dma_get_mask(dev), old_coherent = dev->coherent_dma_mask;
	int ret;

	ret = dma_set_mask(dev, DMA_BIT_MASK(12));
	if (iommu) {
		KUNIT_EXPECT_EQ(test, ret, 0);
		KUNIT_EXPECT_EQ(test, dma_get_mask(dev), DMA_BIT_MASK(12));
	} else {
		KUNIT_EXPECT_EQ(test, ret, -EIO);
		KUNIT_EXPECT_EQ(test, dma_get_mask(dev), old);
	}
	ret = dma_set_coherent_mask(dev, DMA_BIT_MASK(12));
	if (iommu) {
		KUNIT_EXPECT_EQ(test, ret, 0);
	} else {
		KUNIT_EXPECT_EQ(test, ret, -EIO);
		KUNIT_EXPECT_EQ(test, dev->coherent_dma_mask, old_coherent);
	}
}

/* dma_set_mask_and_coherent() sets both masks, or fails and sets neither. */
static void mask_set_mask_and_coherent(struct kunit *test)
{
	struct device *dev = test_dev(test);
	bool iommu = dma_kunit_setup(dev) == DMA_SETUP_IOMMU;

	KUNIT_EXPECT_EQ(test, dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32)), 0);
	KUNIT_EXPECT_EQ(test, dma_get_mask(dev), DMA_BIT_MASK(32));
	KUNIT_EXPECT_EQ(test, dev->coherent_dma_mask, DMA_BIT_MASK(32));
	if (!iommu) {
		KUNIT_EXPECT_EQ(test, dma_set_mask_and_coherent(dev, DMA_BIT_MASK(12)),
				-EIO);
		KUNIT_EXPECT_EQ(test, dma_get_mask(dev), DMA_BIT_MASK(32));
		KUNIT_EXPECT_EQ(test, dev->coherent_dma_mask, DMA_BIT_MASK(32));
	}
}

/*
 * dma_get_required_mask(): an all-ones mask; for dma-direct it covers the
 * last byte of RAM.
 */
static void mask_required_covers_memory(struct kunit *test)
{
	struct device *dev = test_dev(test);
	u64 req = dma_get_required_mask(dev);
	u64 last = ((u64)max_pfn << PAGE_SHIFT) - 1;

	KUNIT_EXPECT_NE(test, req, 0);
	KUNIT_EXPECT_EQ_MSG(test, req & (req + 1), 0, "%#llx", req);
	if (dma_kunit_setup(dev) != DMA_SETUP_IOMMU) {
		KUNIT_EXPECT_GE(test, req, last);
		KUNIT_EXPECT_LT(test, req >> 1, last);
	}
}

/*
 * dma_addressing_limited(): never with a 64-bit mask; always when the mask
 * is below the required mask.
 */
static void mask_addressing_limited(struct kunit *test)
{
	struct device *dev = test_dev(test);

	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)), 0);
	KUNIT_EXPECT_FALSE(test, dma_addressing_limited(dev));
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev,
				DMA_BIT_MASK(EDU_DMA_BITS)), 0);
	if (dma_get_required_mask(dev) > DMA_BIT_MASK(EDU_DMA_BITS))
		KUNIT_EXPECT_TRUE(test, dma_addressing_limited(dev));
}

/*
 * dma_max_mapping_size() and dma_opt_mapping_size(): a mapping of the
 * largest size (capped at 512 KiB here) works, and opt <= max.
 */
static void mask_mapping_size_limits(struct kunit *test)
{
	struct device *dev = test_dev(test);
	size_t max = dma_max_mapping_size(dev);
	size_t opt = dma_opt_mapping_size(dev);
	size_t size = min_t(size_t, max, SZ_512K);
	struct page *pages;
	dma_addr_t dma;

	KUNIT_EXPECT_GE(test, max, PAGE_SIZE);
	KUNIT_EXPECT_GE(test, opt, PAGE_SIZE);
	KUNIT_EXPECT_LE(test, opt, max);
	if (dma_kunit_setup(dev) == DMA_SETUP_SWIOTLB)
		KUNIT_EXPECT_LT(test, max, SIZE_MAX);

	pages = alloc_pages(GFP_KERNEL | GFP_DMA, get_order(size));
	KUNIT_ASSERT_NOT_NULL(test, pages);
	dma = dma_map_page(dev, pages, 0, size, DMA_TO_DEVICE);
	KUNIT_EXPECT_FALSE_MSG(test, dma_mapping_error(dev, dma),
			       "mapping %zu bytes (max %zu)", size, max);
	if (!dma_mapping_error(dev, dma))
		dma_unmap_page(dev, dma, size, DMA_TO_DEVICE);
	__free_pages(pages, get_order(size));
}

/* dma_get_merge_boundary(): none for dma-direct; the IOMMU page mask else. */
static void mask_merge_boundary(struct kunit *test)
{
	struct device *dev = test_dev(test);
	unsigned long b = dma_get_merge_boundary(dev);

	if (dma_kunit_setup(dev) == DMA_SETUP_IOMMU) {
		KUNIT_EXPECT_NE(test, b, 0);
		KUNIT_EXPECT_EQ_MSG(test, b & (b + 1), 0, "%#lx", b);
	} else {
		KUNIT_EXPECT_EQ(test, b, 0);
	}
}

static struct kunit_case dma_api_mask_cases[] = {
	KUNIT_CASE(mask_set_accepts_reachable),
	KUNIT_CASE(mask_set_rejects_unreachable),
	KUNIT_CASE(mask_set_mask_and_coherent),
	KUNIT_CASE(mask_required_covers_memory),
	KUNIT_CASE(mask_addressing_limited),
	KUNIT_CASE(mask_mapping_size_limits),
	KUNIT_CASE(mask_merge_boundary),
	{}
};

static struct kunit_suite dma_api_mask_suite = {
	.name = "dma_api_mask",
	.init = dma_kunit_edu_init,
	.exit = dma_kunit_edu_exit,
	.test_cases = dma_api_mask_cases,
};

kunit_test_suites(&dma_api_mask_suite);
