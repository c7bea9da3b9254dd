// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conformance suite, Part Ie of dma-api.rst: IOVA-based DMA mappings.
 *
 * Behind an IOMMU, physically scattered pages are linked into one IOVA
 * range and edu transfers across the joins, which only a correct contiguous
 * mapping passes. Without an IOMMU, dma_iova_try_alloc() fails and the
 * documented fallback, the streaming API, is used.
 */

#include <linux/random.h>

#include "dma_api_kunit.h"

#define NPAGES	3

struct iova_fixture {
	struct page *page[NPAGES];
	struct dma_iova_state state;
};

static void iova_fixture_init(struct kunit *test, struct iova_fixture *f)
{
	int i;

	memset(&f->state, 0, sizeof(f->state));
	for (i = 0; i < NPAGES; i++) {
		f->page[i] = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, f->page[i]);
		get_random_bytes(page_address(f->page[i]), PAGE_SIZE);
	}
}

static void iova_fixture_free(struct iova_fixture *f)
{
	int i;

	for (i = 0; i < NPAGES; i++)
		if (f->page[i])
			__free_page(f->page[i]);
}

static void require_iommu(struct kunit *test)
{
	if (dma_kunit_setup(test_dev(test)) != DMA_SETUP_IOMMU)
		kunit_skip(test, "needs an IOMMU (iommu setup)");
}

/* dma_iova_try_alloc() succeeds exactly when an IOMMU translates. */
static void iova_try_alloc_per_setup(struct kunit *test)
{
	struct device *dev = test_dev(test);
	bool iommu = dma_kunit_setup(dev) == DMA_SETUP_IOMMU;
	struct iova_fixture f;
	bool ok;

	iova_fixture_init(test, &f);
	ok = dma_iova_try_alloc(dev, &f.state, page_to_phys(f.page[0]),
				NPAGES * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, ok, iommu);
	KUNIT_EXPECT_EQ(test, dma_use_iova(&f.state), iommu);
	if (ok) {
		KUNIT_EXPECT_GE(test, dma_iova_size(&f.state), NPAGES * PAGE_SIZE);
		KUNIT_EXPECT_LE(test, f.state.addr + NPAGES * PAGE_SIZE - 1,
				dma_get_mask(dev));
		dma_iova_free(dev, &f.state);
	}
	iova_fixture_free(&f);
}

/* Link scattered pages, sync, and let edu cross the joins both ways. */
static void iova_link_sync_device_roundtrip(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct edu *edu = test_edu(test);
	struct iova_fixture f;
	dma_addr_t far_dma;
	u8 *far;
	int i;

	require_iommu(test);
	iova_fixture_init(test, &f);
	far = dma_alloc_coherent(dev, PAGE_SIZE, &far_dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, far);
	KUNIT_ASSERT_TRUE(test, dma_iova_try_alloc(dev, &f.state,
			  page_to_phys(f.page[0]), NPAGES * PAGE_SIZE));
	for (i = 0; i < NPAGES; i++)
		KUNIT_ASSERT_EQ(test, dma_iova_link(dev, &f.state,
				page_to_phys(f.page[i]), i * PAGE_SIZE, PAGE_SIZE,
				DMA_BIDIRECTIONAL, 0), 0);
	KUNIT_ASSERT_EQ(test, dma_iova_sync(dev, &f.state, 0, NPAGES * PAGE_SIZE),
			0);

	/* Read 3000 bytes across the join of pages 0 and 1. */
	KUNIT_EXPECT_EQ(test, edu_dma(edu, f.state.addr + PAGE_SIZE - 1000, 0,
				      3000, false), 0);
	KUNIT_EXPECT_EQ(test, edu_dma(edu, far_dma, 0, 3000, true), 0);
	KUNIT_EXPECT_MEMEQ(test, far, page_address(f.page[0]) + PAGE_SIZE - 1000,
			   1000);
	KUNIT_EXPECT_MEMEQ(test, far + 1000, page_address(f.page[1]), 2000);

	/* Write 2000 bytes across the join of pages 1 and 2. */
	get_random_bytes(far, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, edu_dma(edu, far_dma, 0, 2000, false), 0);
	KUNIT_EXPECT_EQ(test, edu_dma(edu, f.state.addr + 2 * PAGE_SIZE - 500,
				      0, 2000, true), 0);
	dma_iova_destroy(dev, &f.state, NPAGES * PAGE_SIZE, DMA_BIDIRECTIONAL, 0);
	KUNIT_EXPECT_MEMEQ(test, page_address(f.page[1]) + PAGE_SIZE - 500, far,
			   500);
	KUNIT_EXPECT_MEMEQ(test, page_address(f.page[2]), far + 500, 1500);

	dma_free_coherent(dev, PAGE_SIZE, far, far_dma);
	iova_fixture_free(&f);
}

/*
 * dma_iova_unlink() then dma_iova_free(): ranges can be unlinked one by
 * one and linked again, with no dma-debug error.
 */
static void iova_unlink_relink_free(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct iova_fixture f;
	long errors;
	int i;

	require_iommu(test);
	iova_fixture_init(test, &f);
	errors = dma_kunit_counter(test, "error_count");
	KUNIT_ASSERT_TRUE(test, dma_iova_try_alloc(dev, &f.state,
			  page_to_phys(f.page[0]), NPAGES * PAGE_SIZE));
	for (i = 0; i < NPAGES; i++)
		KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &f.state,
				page_to_phys(f.page[i]), i * PAGE_SIZE, PAGE_SIZE,
				DMA_TO_DEVICE, 0), 0);
	dma_iova_unlink(dev, &f.state, PAGE_SIZE, PAGE_SIZE, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &f.state, page_to_phys(f.page[2]),
					    PAGE_SIZE, PAGE_SIZE, DMA_TO_DEVICE, 0),
			0);
	KUNIT_EXPECT_EQ(test, dma_iova_sync(dev, &f.state, 0, NPAGES * PAGE_SIZE),
			0);
	for (i = 0; i < NPAGES; i++)
		dma_iova_unlink(dev, &f.state, i * PAGE_SIZE, PAGE_SIZE,
				DMA_TO_DEVICE, 0);
	dma_iova_free(dev, &f.state);
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"), errors);
	iova_fixture_free(&f);
}

/*
 * Without an IOMMU, try_alloc() fails and the driver falls back to the
 * streaming API, which then moves the same bytes.
 */
static void iova_fallback_streaming(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct edu *edu = test_edu(test);
	struct iova_fixture f;
	dma_addr_t dma, far_dma;
	struct page *low;
	u8 *far;

	if (dma_kunit_setup(dev) == DMA_SETUP_IOMMU)
		kunit_skip(test, "the fallback applies without an IOMMU");
	iova_fixture_init(test, &f);
	KUNIT_EXPECT_FALSE(test, dma_iova_try_alloc(dev, &f.state,
			   page_to_phys(f.page[0]), PAGE_SIZE));
	KUNIT_EXPECT_FALSE(test, dma_use_iova(&f.state));
	iova_fixture_free(&f);

	low = alloc_page(GFP_KERNEL | GFP_DMA);
	KUNIT_ASSERT_NOT_NULL(test, low);
	get_random_bytes(page_address(low), PAGE_SIZE);
	far = dma_alloc_coherent(dev, PAGE_SIZE, &far_dma, GFP_KERNEL);
	if (!far)
		__free_page(low);
	KUNIT_ASSERT_NOT_NULL(test, far);
	dma = dma_map_page(dev, low, 0, PAGE_SIZE, DMA_TO_DEVICE);
	KUNIT_EXPECT_FALSE(test, dma_mapping_error(dev, dma));
	if (!dma_mapping_error(dev, dma)) {
		KUNIT_EXPECT_EQ(test, edu_dma(edu, dma, 0, 3000, false), 0);
		KUNIT_EXPECT_EQ(test, edu_dma(edu, far_dma, 0, 3000, true), 0);
		dma_unmap_page(dev, dma, PAGE_SIZE, DMA_TO_DEVICE);
		KUNIT_EXPECT_MEMEQ(test, far, page_address(low), 3000);
	}
	dma_free_coherent(dev, PAGE_SIZE, far, far_dma);
	__free_page(low);
}

static struct kunit_case dma_api_iova_cases[] = {
	KUNIT_CASE(iova_try_alloc_per_setup),
	KUNIT_CASE_SLOW(iova_link_sync_device_roundtrip),
	KUNIT_CASE(iova_unlink_relink_free),
	KUNIT_CASE_SLOW(iova_fallback_streaming),
	{}
};

static struct kunit_suite dma_api_iova_suite = {
	.name = "dma_api_iova",
	.init = dma_kunit_edu_init,
	.exit = dma_kunit_edu_exit,
	.test_cases = dma_api_iova_cases,
};

kunit_test_suites(&dma_api_iova_suite);
