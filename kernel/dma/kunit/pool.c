// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conformance suite, Part Ib of dma-api.rst: dma_pool.
 */

#include <linux/device.h>
#include <linux/dmapool.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "dma_api_kunit.h"

struct pool_params {
	size_t size, align, boundary;
};

static const struct pool_params pool_params[] = {
	{ 16, 16, 0 },
	{ 64, 64, 0 },
	{ 68, 32, 0 },
	{ 100, 8, 4096 },
	{ 30, 2, 512 },
	{ 256, 256, 1024 },
	{ 1024, 1024, 0 },
	{ 1500, 64, 2048 },
	{ 4096, 4096, 0 },
	{ 8192, 64, 0 },
};

static void pool_params_desc(const struct pool_params *p, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "size=%zu align=%zu boundary=%zu",
		 p->size, p->align, p->boundary);
}

KUNIT_ARRAY_PARAM(pool, pool_params, pool_params_desc);

#define POOL_BLOCKS	300

struct block {
	dma_addr_t dma;
	void *cpu;
};

static int block_cmp(const void *a, const void *b)
{
	const struct block *x = a, *y = b;

	return x->dma < y->dma ? -1 : x->dma > y->dma;
}

/*
 * Many blocks of one pool: each honours the alignment, never crosses the
 * boundary, lies within the coherent mask, keeps CPU and DMA offsets
 * within its page in step, and no two live blocks overlap.
 */
static void pool_blocks_honour_constraints(struct kunit *test)
{
	const struct pool_params *p = test->param_value;
	struct device *dev = test_dev(test);
	struct dma_pool *pool;
	struct block *b;
	int i, n = 0;

	b = kunit_kcalloc(test, POOL_BLOCKS, sizeof(*b), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b);
	pool = dma_pool_create("kunit", dev, p->size, p->align, p->boundary);
	KUNIT_ASSERT_NOT_NULL(test, pool);

	for (n = 0; n < POOL_BLOCKS; n++) {
		b[n].cpu = dma_pool_alloc(pool, GFP_KERNEL, &b[n].dma);
		if (!b[n].cpu)
			break;
	}
	KUNIT_EXPECT_EQ(test, n, POOL_BLOCKS);

	for (i = 0; i < n; i++) {
		dma_addr_t d = b[i].dma;

		KUNIT_EXPECT_EQ_MSG(test, d & (p->align - 1), 0, "%pad", &d);
		KUNIT_EXPECT_EQ(test, (uintptr_t)b[i].cpu & (p->align - 1), 0);
		if (p->boundary)
			KUNIT_EXPECT_EQ_MSG(test, d & ~(p->boundary - 1),
					    (d + p->size - 1) & ~(p->boundary - 1),
					    "%pad crosses a %zu boundary", &d,
					    p->boundary);
		KUNIT_EXPECT_LE(test, d + p->size - 1, dev->coherent_dma_mask);
		KUNIT_EXPECT_EQ(test, d & ~PAGE_MASK,
				(uintptr_t)b[i].cpu & ~PAGE_MASK);
		/* The block is writable to its last byte. */
		memset(b[i].cpu, i, p->size);
	}
	sort(b, n, sizeof(*b), block_cmp, NULL);
	for (i = 1; i < n; i++)
		KUNIT_EXPECT_LE_MSG(test, b[i - 1].dma + p->size, b[i].dma,
				    "blocks %d and %d overlap", i - 1, i);

	for (i = 0; i < n; i++)
		dma_pool_free(pool, b[i].cpu, b[i].dma);
	dma_pool_destroy(pool);
}

/* dma_pool_zalloc() returns zeroed blocks, even where freed blocks held data. */
static void pool_zalloc_zeroes(struct kunit *test)
{
	struct device *dev = test_dev(test);
	const size_t size = 200;
	struct block b[16];
	struct dma_pool *pool;
	int i;

	pool = dma_pool_create("kunit-zero", dev, size, 8, 0);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	for (i = 0; i < ARRAY_SIZE(b); i++) {
		b[i].cpu = dma_pool_alloc(pool, GFP_KERNEL, &b[i].dma);
		KUNIT_ASSERT_NOT_NULL(test, b[i].cpu);
		memset(b[i].cpu, 0xa5, size);
	}
	for (i = 0; i < ARRAY_SIZE(b); i++)
		dma_pool_free(pool, b[i].cpu, b[i].dma);
	for (i = 0; i < ARRAY_SIZE(b); i++) {
		b[i].cpu = dma_pool_zalloc(pool, GFP_KERNEL, &b[i].dma);
		KUNIT_ASSERT_NOT_NULL(test, b[i].cpu);
		KUNIT_EXPECT_TRUE(test, mem_is_zero(b[i].cpu, size));
	}
	for (i = 0; i < ARRAY_SIZE(b); i++)
		dma_pool_free(pool, b[i].cpu, b[i].dma);
	dma_pool_destroy(pool);
}

/* A freed block is the next one handed out: pools reuse their blocks. */
static void pool_free_then_alloc_reuses(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct dma_pool *pool;
	struct block a, b, c;

	pool = dma_pool_create("kunit-reuse", dev, 64, 64, 0);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	a.cpu = dma_pool_alloc(pool, GFP_KERNEL, &a.dma);
	b.cpu = dma_pool_alloc(pool, GFP_KERNEL, &b.dma);
	KUNIT_ASSERT_NOT_NULL(test, a.cpu);
	KUNIT_ASSERT_NOT_NULL(test, b.cpu);
	dma_pool_free(pool, a.cpu, a.dma);
	c.cpu = dma_pool_alloc(pool, GFP_KERNEL, &c.dma);
	KUNIT_EXPECT_PTR_EQ(test, c.cpu, a.cpu);
	KUNIT_EXPECT_EQ(test, c.dma, a.dma);
	dma_pool_free(pool, b.cpu, b.dma);
	dma_pool_free(pool, c.cpu, c.dma);
	dma_pool_destroy(pool);
}

/* The pool's blocks are real DMA memory: edu reads one and writes another. */
static void pool_device_reads_and_writes(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct edu *edu = test_edu(test);
	const size_t size = 1024;
	struct dma_pool *pool;
	struct block a, b;

	pool = dma_pool_create("kunit-dev", dev, size, 32, 0);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	a.cpu = dma_pool_alloc(pool, GFP_KERNEL, &a.dma);
	b.cpu = dma_pool_zalloc(pool, GFP_KERNEL, &b.dma);
	if (a.cpu && b.cpu) {
		memset(a.cpu, 0x3c, size);
		KUNIT_EXPECT_EQ(test, edu_dma(edu, a.dma, 0, size, false), 0);
		KUNIT_EXPECT_EQ(test, edu_dma(edu, b.dma, 0, size, true), 0);
		KUNIT_EXPECT_MEMEQ(test, b.cpu, a.cpu, size);
	}
	KUNIT_EXPECT_NOT_NULL(test, a.cpu);
	KUNIT_EXPECT_NOT_NULL(test, b.cpu);
	if (a.cpu)
		dma_pool_free(pool, a.cpu, a.dma);
	if (b.cpu)
		dma_pool_free(pool, b.cpu, b.dma);
	dma_pool_destroy(pool);
}

/* Parameters dma_pool_create() must refuse. */
static void pool_create_rejects_bad_params(struct kunit *test)
{
	struct device *dev = test_dev(test);

	/* Alignment not a power of two. */
	KUNIT_EXPECT_NULL(test, dma_pool_create("kunit-bad", dev, 64, 3, 0));
	KUNIT_EXPECT_NULL(test, dma_pool_create("kunit-bad", dev, 64, 48, 0));
	/* Empty or absurd blocks. */
	KUNIT_EXPECT_NULL(test, dma_pool_create("kunit-bad", dev, 0, 8, 0));
	KUNIT_EXPECT_NULL(test, dma_pool_create("kunit-bad", dev,
						 (size_t)INT_MAX + 1, 8, 0));
	/* Boundary below the block size, or not a power of two. */
	KUNIT_EXPECT_NULL(test, dma_pool_create("kunit-bad", dev, 256, 8, 128));
	KUNIT_EXPECT_NULL(test, dma_pool_create("kunit-bad", dev, 64, 8, 1000));
	/* No device. */
	KUNIT_EXPECT_NULL(test, dma_pool_create("kunit-bad", NULL, 64, 8, 0));
	/* dma_pool_destroy(NULL) is a no-op. */
	dma_pool_destroy(NULL);
}

/*
 * Destroying a pool with a block still out is reported in the kernel log,
 * naming the pool, and does not free the block under its user.
 */
static void pool_destroy_busy_is_reported(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct dma_pool *pool;
	dma_addr_t dma;
	u64 mark;
	u8 *blk;

	pool = dma_pool_create("kunit-busy", dev, 128, 8, 0);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	blk = dma_pool_alloc(pool, GFP_KERNEL, &dma);
	KUNIT_ASSERT_NOT_NULL(test, blk);
	mark = dma_kunit_log_mark();
	dma_pool_destroy(pool);
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(mark, "dma_pool_destroy",
						  "kunit-busy busy"));
	/* The leaked block is still memory we may touch. */
	memset(blk, 0, 128);
}

/* The line of pool @name in a device's "pools" file: in use, blocks, size, chunks. */
static int pools_line(const char *text, const char *name, size_t *v)
{
	const char *line = text;
	char found[32];
	unsigned int size;

	while (line && *line) {
		if (sscanf(line, "%31s %zu %zu %u %zu", found, &v[0], &v[1],
			   &size, &v[3]) == 5 && !strcmp(found, name)) {
			v[2] = size;
			return 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -ENOENT;
}

/*
 * The device's "pools" sysfs file lists each pool with its blocks in use,
 * its blocks, block size and chunks, and goes away with the last pool.
 */
static void pool_sysfs_lists_pools(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct dma_pool *a, *b;
	struct block blk[3];
	char path[96], *text;
	size_t v[4];
	int i;

	text = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, text);
	snprintf(path, sizeof(path), "bus/pci/devices/%s/pools", dev_name(dev));
	/* No pool on the device yet, so no file. */
	KUNIT_ASSERT_EQ(test, dma_kunit_sysfs_read(path, text, PAGE_SIZE),
			-ENOENT);

	a = dma_pool_create("kunit-sysfs-a", dev, 64, 8, 0);
	KUNIT_ASSERT_NOT_NULL(test, a);
	b = dma_pool_create("kunit-sysfs-b", dev, 1000, 8, 0);
	KUNIT_ASSERT_NOT_NULL(test, b);
	for (i = 0; i < ARRAY_SIZE(blk); i++) {
		blk[i].cpu = dma_pool_alloc(a, GFP_KERNEL, &blk[i].dma);
		KUNIT_ASSERT_NOT_NULL(test, blk[i].cpu);
	}

	KUNIT_ASSERT_GT(test, dma_kunit_sysfs_read(path, text, PAGE_SIZE), 0);
	KUNIT_EXPECT_TRUE(test, str_has_prefix(text, "poolinfo - 0.1\n"));
	KUNIT_ASSERT_EQ_MSG(test, pools_line(text, "kunit-sysfs-a", v), 0,
			    "%s", text);
	/* 3 of the 64 blocks of one page in use. */
	KUNIT_EXPECT_EQ(test, v[0], 3);
	KUNIT_EXPECT_EQ(test, v[1], PAGE_SIZE / 64);
	KUNIT_EXPECT_EQ(test, v[2], 64);
	KUNIT_EXPECT_EQ(test, v[3], 1);
	KUNIT_ASSERT_EQ_MSG(test, pools_line(text, "kunit-sysfs-b", v), 0,
			    "%s", text);
	/* Rounded up to the alignment; nothing allocated yet. */
	KUNIT_EXPECT_EQ(test, v[0], 0);
	KUNIT_EXPECT_EQ(test, v[1], 0);
	KUNIT_EXPECT_EQ(test, v[2], 1000);
	KUNIT_EXPECT_EQ(test, v[3], 0);

	for (i = 0; i < ARRAY_SIZE(blk); i++)
		dma_pool_free(a, blk[i].cpu, blk[i].dma);
	dma_pool_destroy(a);
	KUNIT_ASSERT_GT(test, dma_kunit_sysfs_read(path, text, PAGE_SIZE), 0);
	KUNIT_EXPECT_NE(test, pools_line(text, "kunit-sysfs-a", v), 0);
	KUNIT_EXPECT_EQ(test, pools_line(text, "kunit-sysfs-b", v), 0);
	dma_pool_destroy(b);
	KUNIT_EXPECT_EQ(test, dma_kunit_sysfs_read(path, text, PAGE_SIZE),
			-ENOENT);
}

/*
 * dmam_pool_create(): the pool and its pages go when the devres group is
 * released; dma-debug sees the pool's coherent page come and go.
 */
static void pool_managed_destroyed_with_devres(struct kunit *test)
{
	struct device *dev = test_dev(test);
	long before, during, after;
	struct dma_pool *pool;
	dma_addr_t dma;
	void *group, *blk;

	group = devres_open_group(dev, NULL, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, group);
	before = dma_kunit_counter(test, "num_free_entries");
	pool = dmam_pool_create("kunit-managed", dev, 512, 16, 0);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	blk = dma_pool_alloc(pool, GFP_KERNEL, &dma);
	KUNIT_EXPECT_NOT_NULL(test, blk);
	if (blk)
		dma_pool_free(pool, blk, dma);
	during = dma_kunit_counter(test, "num_free_entries");
	devres_release_group(dev, group);
	after = dma_kunit_counter(test, "num_free_entries");

	KUNIT_EXPECT_LT(test, during, before);
	KUNIT_EXPECT_EQ(test, after, before);
}

/* dma_pool_alloc(GFP_ATOMIC) and dma_pool_free() with interrupts off. */
static void pool_alloc_free_atomic(struct kunit *test)
{
	struct device *dev = test_dev(test);
	static DEFINE_SPINLOCK(lock);
	struct dma_pool *pool;
	unsigned long flags;
	struct block b[64];
	int i, got = 0;

	pool = dma_pool_create("kunit-atomic", dev, 48, 16, 0);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	spin_lock_irqsave(&lock, flags);
	for (i = 0; i < ARRAY_SIZE(b); i++) {
		b[i].cpu = dma_pool_zalloc(pool, GFP_ATOMIC, &b[i].dma);
		got += !!b[i].cpu;
	}
	for (i = 0; i < ARRAY_SIZE(b); i++)
		if (b[i].cpu && mem_is_zero(b[i].cpu, 48))
			memset(b[i].cpu, i, 48);
	for (i = 0; i < ARRAY_SIZE(b); i++)
		if (b[i].cpu && !memchr_inv(b[i].cpu, i, 48))
			dma_pool_free(pool, b[i].cpu, b[i].dma);
		else if (b[i].cpu)
			got = -1;
	spin_unlock_irqrestore(&lock, flags);
	KUNIT_EXPECT_EQ(test, got, (int)ARRAY_SIZE(b));
	dma_pool_destroy(pool);
}

static struct kunit_case dma_api_pool_cases[] = {
	KUNIT_CASE_PARAM(pool_blocks_honour_constraints, pool_gen_params),
	KUNIT_CASE(pool_zalloc_zeroes),
	KUNIT_CASE(pool_free_then_alloc_reuses),
	KUNIT_CASE_SLOW(pool_device_reads_and_writes),
	KUNIT_CASE(pool_create_rejects_bad_params),
	KUNIT_CASE(pool_destroy_busy_is_reported),
	KUNIT_CASE(pool_sysfs_lists_pools),
	KUNIT_CASE(pool_managed_destroyed_with_devres),
	KUNIT_CASE(pool_alloc_free_atomic),
	{}
};

static struct kunit_suite dma_api_pool_suite = {
	.name = "dma_api_pool",
	.init = dma_kunit_edu_init,
	.exit = dma_kunit_edu_exit,
	.test_cases = dma_api_pool_cases,
};

kunit_test_suites(&dma_api_pool_suite);
