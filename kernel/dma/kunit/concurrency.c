// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conformance suite: concurrent use. The soak engine (soak.c) runs for a
 * fixed number of rounds: several kthreads map, sync and unmap at once,
 * allocate coherent memory and share one dma_pool, checking their data
 * from the CPU's and the device's side at every ownership handover. Under
 * swiotlb=force a bounce slot shared by two live mappings corrupts one of
 * them, and the check catches it. The kernel runs with lockdep; `make
 * check` fails on any splat.
 */

#include "dma_api_kunit.h"

#define THREADS		4
#define ROUNDS		200

static void concurrent_map_sync_unmap(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct dma_soak_stats st = {};
	bool stop = false;
	long errors;
	u64 mark;

	/* The engine checks the device's side itself: any buffer will do. */
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)), 0);
	errors = dma_kunit_counter(test, "error_count");
	mark = dma_kunit_log_mark();
	KUNIT_ASSERT_EQ(test, dma_soak_run(dev, THREADS, ROUNDS, 0, &stop, &st), 0);

	KUNIT_EXPECT_EQ(test, atomic64_read(&st.corrupt), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&st.map_failures), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&st.alloc_failures), 0);
	/* The workers and the pool torture thread, ROUNDS each. */
	KUNIT_EXPECT_EQ(test, atomic64_read(&st.ops), (THREADS + 1) * ROUNDS);
	KUNIT_EXPECT_GT(test, atomic64_read(&st.bytes), 0);
	/*
	 * Upstream's mapping core reports an unmap to dma-debug after the
	 * IOMMU has released the address. Another thread may map the same
	 * IOVA in between and sync it while dma-debug holds both mappings,
	 * which it then cannot tell apart: a false "sync DMA memory it has
	 * not allocated" (rust-dma-core.rst). The Rust core reports first.
	 */
	if (!IS_ENABLED(CONFIG_DMA_RUST_MAPPING) && dma_kunit_setup(dev) == DMA_SETUP_IOMMU)
		KUNIT_EXPECT_FALSE(test, dma_kunit_log_has(mark, "DMA-API", "free"));
	else
		KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"), errors);
}

static struct kunit_case dma_api_concurrency_cases[] = {
	KUNIT_CASE_SLOW(concurrent_map_sync_unmap),
	{}
};

static struct kunit_suite dma_api_concurrency_suite = {
	.name = "dma_api_concurrency",
	.init = dma_kunit_edu_init,
	.exit = dma_kunit_edu_exit,
	.test_cases = dma_api_concurrency_cases,
};

kunit_test_suites(&dma_api_concurrency_suite);
