// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conformance suite: concurrent use. Several kthreads map, sync and unmap
 * at once, allocate coherent memory and share one dma_pool, checking their
 * data at every ownership handover. Under swiotlb=force a bounce slot
 * shared by two live mappings corrupts one of them, and the check catches
 * it. The kernel runs with lockdep; `make check` fails on any splat.
 */

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/dmapool.h>
#include <linux/kthread.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "dma_api_kunit.h"

#define THREADS		4
#define ROUNDS		200

struct worker {
	struct device *dev;
	struct dma_pool *pool;
	struct completion done;
	atomic_t *bad;
	atomic_t *ops;
	int id;
};

static bool filled(const u8 *buf, size_t len, u8 val)
{
	return !memchr_inv(buf, val, len);
}

/* One round of streaming use: A through the map, B back through the unmap. */
static bool stream_round(struct worker *w, u8 *buf, size_t len, u8 a, u8 b)
{
	dma_addr_t dma;
	bool ok;

	memset(buf, a, len);
	dma = dma_map_single(w->dev, buf, len, DMA_BIDIRECTIONAL);
	if (dma_mapping_error(w->dev, dma))
		return false;
	dma_sync_single_for_cpu(w->dev, dma, len, DMA_BIDIRECTIONAL);
	ok = filled(buf, len, a);
	memset(buf, b, len);
	dma_sync_single_for_device(w->dev, dma, len, DMA_BIDIRECTIONAL);
	dma_unmap_single(w->dev, dma, len, DMA_BIDIRECTIONAL);
	return ok && filled(buf, len, b);
}

static int worker_fn(void *data)
{
	struct worker *w = data;
	u8 *buf = kmalloc(4096, GFP_KERNEL | GFP_DMA);
	int i;

	for (i = 0; buf && i < ROUNDS; i++) {
		size_t len = 64 + get_random_u32_below(4096 - 64);
		u8 a = w->id * 16 + (i & 7), b = ~a;
		dma_addr_t dma;
		void *p;

		if (!stream_round(w, buf, len, a, b))
			atomic_inc(w->bad);
		p = dma_pool_alloc(w->pool, GFP_KERNEL, &dma);
		if (p) {
			memset(p, a, 96);
			cond_resched();
			if (!filled(p, 96, a))
				atomic_inc(w->bad);
			dma_pool_free(w->pool, p, dma);
		} else {
			atomic_inc(w->bad);
		}
		if (!(i % 16)) {
			p = dma_alloc_coherent(w->dev, PAGE_SIZE, &dma, GFP_KERNEL);
			if (p && mem_is_zero(p, PAGE_SIZE))
				dma_free_coherent(w->dev, PAGE_SIZE, p, dma);
			else
				atomic_inc(w->bad);
		}
		atomic_inc(w->ops);
	}
	if (!buf)
		atomic_inc(w->bad);
	kfree(buf);
	complete(&w->done);
	return 0;
}

static void concurrent_map_sync_unmap(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct worker w[THREADS];
	atomic_t bad = ATOMIC_INIT(0), ops = ATOMIC_INIT(0);
	struct dma_pool *pool;
	long errors;
	u64 mark;
	int i;

	/* No device transfer here: any buffer may be reached directly. */
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64)), 0);
	pool = dma_pool_create("kunit-concurrent", dev, 96, 32, 0);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	errors = dma_kunit_counter(test, "error_count");
	mark = dma_kunit_log_mark();
	for (i = 0; i < THREADS; i++) {
		struct task_struct *t;

		w[i] = (struct worker){ .dev = dev, .pool = pool, .bad = &bad,
					.ops = &ops, .id = i };
		init_completion(&w[i].done);
		t = kthread_run(worker_fn, &w[i], "dma-kunit/%d", i);
		if (IS_ERR(t)) {
			atomic_inc(&bad);
			complete(&w[i].done);
		}
	}
	for (i = 0; i < THREADS; i++)
		wait_for_completion(&w[i].done);
	dma_pool_destroy(pool);

	KUNIT_EXPECT_EQ(test, atomic_read(&bad), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ops), THREADS * ROUNDS);
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
