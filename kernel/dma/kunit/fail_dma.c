// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA fault injection (CONFIG_FAIL_DMA_MAPPING): each fault attribute,
 * set through its debugfs files as an administrator would, fails the calls
 * it covers with the return of a real failure, counts them down in its
 * "times" file, and respects its driver and task filters. The next call
 * after the last injected failure succeeds. Every attribute is armed with
 * the task filter on and only the test's task marked, so that the other
 * devices of the machine never fail. fail_dma_nth, which has no task
 * filter, is armed only with the driver filters set to edu's driver.
 */

#include <linux/dma-mapping.h>
#include <linux/dmapool.h>
#include <linux/sched.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "dma_api_kunit.h"

static const char * const attrs[] = {
	"fail_dma_map", "fail_dma_alloc", "fail_dma_pool", "fail_dma_iova",
};

static void fail_set(struct kunit *test, const char *attr, const char *file,
		     const char *val)
{
	KUNIT_ASSERT_EQ_MSG(test, dma_kunit_debugfs_write_in(attr, file, val), 0,
			    "writing %s to %s/%s", val, attr, file);
}

/*
 * @attr fails every call of its kind made by this task, @times times: the
 * filters first, the probability last.
 */
static void fail_arm(struct kunit *test, const char *attr, const char *times)
{
	fail_set(test, attr, "interval", "1");
	fail_set(test, attr, "verbose", "1");
	fail_set(test, attr, "times", times);
	fail_set(test, attr, "task-filter", "Y");
	current->make_it_fail = 1;
	fail_set(test, attr, "probability", "100");
}

static bool map_fails(struct device *dev, void *buf)
{
	dma_addr_t dma = dma_map_single(dev, buf, 64, DMA_TO_DEVICE);

	if (dma_mapping_error(dev, dma))
		return true;
	dma_unmap_single(dev, dma, 64, DMA_TO_DEVICE);
	return false;
}

/*
 * fail_dma_map with times=2: a single map and a scatterlist map fail as
 * real failures do, "times" counts down to 0, and the next map succeeds.
 */
static void fail_dma_map_fires_and_counts(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct scatterlist sg;
	void *buf;
	int n;

	buf = kunit_kzalloc(test, 64, GFP_KERNEL | GFP_DMA);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	fail_arm(test, "fail_dma_map", "2");
	KUNIT_EXPECT_TRUE(test, map_fails(dev, buf));
	sg_init_one(&sg, buf, 64);
	n = dma_map_sg(dev, &sg, 1, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, n, 0);
	if (n)
		dma_unmap_sg(dev, &sg, 1, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, dma_kunit_counter_in(test, "fail_dma_map", "times"), 0);
	KUNIT_EXPECT_FALSE(test, map_fails(dev, buf));
}

/*
 * fail_dma_alloc: a coherent, a page and a non-contiguous allocation each
 * fail once, returning NULL, and succeed after.
 */
static void fail_dma_alloc_fires(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct sg_table *sgt;
	struct page *page;
	dma_addr_t dma;
	void *cpu;

	int i;

	/* Each kind fails once, then succeeds: the second round frees. */
	for (i = 0; i < 2; i++) {
		if (!i)
			fail_arm(test, "fail_dma_alloc", "1");
		cpu = dma_alloc_coherent(dev, PAGE_SIZE, &dma, GFP_KERNEL);
		KUNIT_EXPECT_EQ_MSG(test, !cpu, !i, "coherent, round %d", i);
		if (cpu)
			dma_free_coherent(dev, PAGE_SIZE, cpu, dma);
	}
	for (i = 0; i < 2; i++) {
		if (!i)
			fail_arm(test, "fail_dma_alloc", "1");
		page = dma_alloc_pages(dev, PAGE_SIZE, &dma, DMA_TO_DEVICE, GFP_KERNEL);
		KUNIT_EXPECT_EQ_MSG(test, !page, !i, "pages, round %d", i);
		if (page)
			dma_free_pages(dev, PAGE_SIZE, page, dma, DMA_TO_DEVICE);
	}
	for (i = 0; i < 2; i++) {
		if (!i)
			fail_arm(test, "fail_dma_alloc", "1");
		sgt = dma_alloc_noncontiguous(dev, PAGE_SIZE, DMA_TO_DEVICE, GFP_KERNEL, 0);
		KUNIT_EXPECT_EQ_MSG(test, !sgt, !i, "noncontiguous, round %d", i);
		if (sgt)
			dma_free_noncontiguous(dev, PAGE_SIZE, sgt, DMA_TO_DEVICE);
	}
}

/* fail_dma_pool: one allocation from a pool fails, the next succeeds. */
static void fail_dma_pool_fires(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct dma_pool *pool;
	dma_addr_t dma;
	void *p;
	int i;

	if (!IS_ENABLED(CONFIG_DMA_RUST_POOL))
		kunit_skip(test, "fail_dma_pool needs the Rust dma_pool");
	pool = dma_pool_create("kunit-fail", dev, 64, 8, 0);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	fail_arm(test, "fail_dma_pool", "1");
	for (i = 0; i < 2; i++) {
		p = dma_pool_alloc(pool, GFP_KERNEL, &dma);
		KUNIT_EXPECT_EQ_MSG(test, !p, !i, "round %d", i);
		if (p)
			dma_pool_free(pool, p, dma);
	}
	dma_pool_destroy(pool);
}

/*
 * fail_dma_iova, behind an IOMMU: armed for one failure each time,
 * dma_iova_try_alloc() fails (false, the state unused) and "times" counts
 * down to 0, then succeeds; dma_iova_link() fails with -ENOMEM, then
 * links.
 */
static void fail_dma_iova_fires(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct dma_iova_state state;
	struct page *page;
	int ret;

	if (dma_kunit_setup(dev) != DMA_SETUP_IOMMU)
		kunit_skip(test, "needs an IOMMU (iommu setup)");
	page = alloc_page(GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	fail_arm(test, "fail_dma_iova", "1");
	KUNIT_EXPECT_FALSE(test, dma_iova_try_alloc(dev, &state, page_to_phys(page), PAGE_SIZE));
	KUNIT_EXPECT_FALSE(test, dma_use_iova(&state));
	KUNIT_EXPECT_EQ(test, dma_kunit_counter_in(test, "fail_dma_iova", "times"), 0);
	if (!dma_iova_try_alloc(dev, &state, page_to_phys(page), PAGE_SIZE)) {
		__free_page(page);
		KUNIT_FAIL(test, "dma_iova_try_alloc() failed with the attribute spent");
		return;
	}
	fail_arm(test, "fail_dma_iova", "1");
	KUNIT_EXPECT_EQ(test, dma_iova_link(dev, &state, page_to_phys(page), 0, PAGE_SIZE,
					    DMA_TO_DEVICE, 0), -ENOMEM);
	KUNIT_EXPECT_EQ(test, dma_kunit_counter_in(test, "fail_dma_iova", "times"), 0);
	ret = dma_iova_link(dev, &state, page_to_phys(page), 0, PAGE_SIZE, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (!ret) {
		KUNIT_EXPECT_EQ(test, dma_iova_sync(dev, &state, 0, PAGE_SIZE), 0);
		dma_iova_destroy(dev, &state, PAGE_SIZE, DMA_TO_DEVICE, 0);
	} else {
		dma_iova_free(dev, &state);
	}
	__free_page(page);
}

/*
 * The "driver" filter: with another driver's name nothing fails and
 * "times" is not used up; with the name of the driver edu is bound to (the
 * rust_dma_edu sample) the map fails; a bus name matches nothing.
 */
static void fail_dma_driver_filter(struct kunit *test)
{
	struct device *dev = test_dev(test);
	void *buf;

	if (!dev->driver)
		kunit_skip(test, "edu is bound to no driver");
	buf = kunit_kzalloc(test, 64, GFP_KERNEL | GFP_DMA);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	fail_set(test, "fail_dma_map", "driver", "kunit-nonesuch");
	fail_arm(test, "fail_dma_map", "1");
	KUNIT_EXPECT_FALSE(test, map_fails(dev, buf));
	fail_set(test, "fail_dma_map", "driver", "pci");
	KUNIT_EXPECT_FALSE(test, map_fails(dev, buf));
	KUNIT_EXPECT_EQ(test, dma_kunit_counter_in(test, "fail_dma_map", "times"), 1);
	fail_set(test, "fail_dma_map", "driver", dev->driver->name);
	KUNIT_EXPECT_TRUE(test, map_fails(dev, buf));
	KUNIT_EXPECT_EQ(test, dma_kunit_counter_in(test, "fail_dma_map", "times"), 0);
}

/* The framework's task filter: only tasks marked make-it-fail fail. */
static void fail_dma_task_filter(struct kunit *test)
{
	struct device *dev = test_dev(test);
	void *buf;

	buf = kunit_kzalloc(test, 64, GFP_KERNEL | GFP_DMA);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	fail_arm(test, "fail_dma_map", "1");
	current->make_it_fail = 0;
	KUNIT_EXPECT_FALSE(test, map_fails(dev, buf));
	current->make_it_fail = 1;
	KUNIT_EXPECT_TRUE(test, map_fails(dev, buf));
	current->make_it_fail = 0;
}

/*
 * fail_dma_nth: the Nth call within the attributes' driver filters fails,
 * counted over all four (here a map, then a coherent allocation), with
 * no task marked; the file then reads 0, the log names the call, and the
 * calls after it succeed. A device outside the filter is not counted.
 */
static void fail_dma_nth_counts_calls(struct kunit *test)
{
	struct device *dev = test_dev(test);
	dma_addr_t dma;
	void *buf, *cpu;
	unsigned int i;
	u64 mark;

	if (!dev->driver)
		kunit_skip(test, "edu is bound to no driver");
	buf = kunit_kzalloc(test, 64, GFP_KERNEL | GFP_DMA);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	for (i = 0; i < ARRAY_SIZE(attrs); i++)
		fail_set(test, attrs[i], "driver", "kunit-nonesuch");
	fail_set(test, ".", "fail_dma_nth", "1");
	KUNIT_EXPECT_FALSE(test, map_fails(dev, buf));
	KUNIT_EXPECT_EQ(test, dma_kunit_counter_in(test, ".", "fail_dma_nth"), 1);

	for (i = 0; i < ARRAY_SIZE(attrs); i++)
		fail_set(test, attrs[i], "driver", dev->driver->name);
	fail_set(test, ".", "fail_dma_nth", "2");
	mark = dma_kunit_log_mark();
	KUNIT_EXPECT_FALSE(test, map_fails(dev, buf));
	KUNIT_EXPECT_EQ(test, dma_kunit_counter_in(test, ".", "fail_dma_nth"), 1);
	cpu = dma_alloc_coherent(dev, PAGE_SIZE, &dma, GFP_KERNEL);
	KUNIT_EXPECT_NULL(test, cpu);
	if (cpu)
		dma_free_coherent(dev, PAGE_SIZE, cpu, dma);
	KUNIT_EXPECT_EQ(test, dma_kunit_counter_in(test, ".", "fail_dma_nth"), 0);
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark, "fail_dma: failing call 2: allocation",
						  dev_name(dev)));
	KUNIT_EXPECT_FALSE(test, map_fails(dev, buf));
}

static void dma_fail_exit(struct kunit *test)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(attrs); i++) {
		dma_kunit_debugfs_write_in(attrs[i], "probability", "0");
		dma_kunit_debugfs_write_in(attrs[i], "task-filter", "N");
		dma_kunit_debugfs_write_in(attrs[i], "times", "1");
		dma_kunit_debugfs_write_in(attrs[i], "driver", "");
	}
	dma_kunit_debugfs_write_in(".", "fail_dma_nth", "0");
	current->make_it_fail = 0;
	dma_kunit_edu_exit(test);
}

static struct kunit_case dma_rust_fail_cases[] = {
	KUNIT_CASE(fail_dma_map_fires_and_counts),
	KUNIT_CASE(fail_dma_alloc_fires),
	KUNIT_CASE(fail_dma_pool_fires),
	KUNIT_CASE(fail_dma_iova_fires),
	KUNIT_CASE(fail_dma_driver_filter),
	KUNIT_CASE(fail_dma_task_filter),
	KUNIT_CASE(fail_dma_nth_counts_calls),
	{}
};

static struct kunit_suite dma_rust_fail_suite = {
	.name = "dma_rust_fail",
	.init = dma_kunit_edu_init,
	.exit = dma_fail_exit,
	.test_cases = dma_rust_fail_cases,
};

kunit_test_suites(&dma_rust_fail_suite);
