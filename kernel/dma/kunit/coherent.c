// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conformance suite, Part Ia of dma-api.rst: coherent memory.
 */

#include <linux/device.h>
#include <linux/random.h>

#include "dma_api_kunit.h"

static const size_t coherent_sizes[] = { 1, 100, PAGE_SIZE, 3 * PAGE_SIZE + 5,
					 64 * 1024 };

static void check_coherent(struct kunit *test, struct device *dev, void *cpu,
			   dma_addr_t handle, size_t size)
{
	KUNIT_EXPECT_TRUE_MSG(test, mem_is_zero(cpu, size),
			      "size %zu not zeroed", size);
	KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(cpu));
	KUNIT_EXPECT_EQ(test, handle & ~PAGE_MASK, 0);
	KUNIT_EXPECT_LE_MSG(test, handle + size - 1, dev->coherent_dma_mask,
			    "size %zu at %pad", size, &handle);
}

/*
 * dma_alloc_coherent(), or dma_alloc_attrs() with no attributes, at many
 * sizes: zeroed, page-aligned, within the coherent mask.
 */
static void alloc_sizes(struct kunit *test, bool attrs_api)
{
	struct device *dev = test_dev(test);
	int i;

	for (i = 0; i < ARRAY_SIZE(coherent_sizes); i++) {
		size_t size = coherent_sizes[i];
		dma_addr_t handle;
		void *cpu;

		if (attrs_api)
			cpu = dma_alloc_attrs(dev, size, &handle, GFP_KERNEL, 0);
		else
			cpu = dma_alloc_coherent(dev, size, &handle, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL_MSG(test, cpu, "size %zu", size);
		check_coherent(test, dev, cpu, handle, size);
		if (attrs_api)
			dma_free_attrs(dev, size, cpu, handle, 0);
		else
			dma_free_coherent(dev, size, cpu, handle);
	}
}

static void coherent_alloc_zeroed_aligned_in_mask(struct kunit *test)
{
	alloc_sizes(test, false);
}

static void coherent_alloc_attrs(struct kunit *test)
{
	alloc_sizes(test, true);
}

/* Two live allocations never share a byte, in CPU or DMA space. */
static void coherent_allocations_disjoint(struct kunit *test)
{
	struct device *dev = test_dev(test);
	const size_t size = 2 * PAGE_SIZE;
	dma_addr_t h[8];
	void *cpu[8];
	int i, j;

	for (i = 0; i < ARRAY_SIZE(cpu); i++) {
		cpu[i] = dma_alloc_coherent(dev, size, &h[i], GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, cpu[i]);
	}
	for (i = 0; i < ARRAY_SIZE(cpu); i++)
		for (j = i + 1; j < ARRAY_SIZE(cpu); j++) {
			KUNIT_EXPECT_TRUE(test, h[i] + size <= h[j] ||
					  h[j] + size <= h[i]);
			KUNIT_EXPECT_TRUE(test, cpu[i] + size <= cpu[j] ||
					  cpu[j] + size <= cpu[i]);
		}
	for (i = 0; i < ARRAY_SIZE(cpu); i++)
		dma_free_coherent(dev, size, cpu[i], h[i]);
}

/*
 * The device reads and writes coherent memory: edu copies a random pattern
 * from one buffer into its own memory and back into a second buffer.
 */
static void coherent_device_reads_and_writes(struct kunit *test)
{
	struct device *dev = test_dev(test);
	const size_t len = 3000;
	dma_addr_t src_dma, dst_dma;
	u8 *src, *dst;

	src = dma_alloc_coherent(dev, PAGE_SIZE, &src_dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, src);
	dst = dma_alloc_coherent(dev, PAGE_SIZE, &dst_dma, GFP_KERNEL);
	if (!dst)
		dma_free_coherent(dev, PAGE_SIZE, src, src_dma);
	KUNIT_ASSERT_NOT_NULL(test, dst);

	memset(dst, 0x5a, PAGE_SIZE);
	get_random_bytes(src, len);
	edu_copy(test, src_dma, dst_dma, len);
	KUNIT_EXPECT_MEMEQ(test, dst, src, len);
	/* Bytes past the transfer are untouched. */
	KUNIT_EXPECT_TRUE(test, dst[len] == 0x5a && dst[PAGE_SIZE - 1] == 0x5a);

	dma_free_coherent(dev, PAGE_SIZE, dst, dst_dma);
	dma_free_coherent(dev, PAGE_SIZE, src, src_dma);
}

/*
 * DMA_ATTR_NO_KERNEL_MAPPING: the CPU gets an opaque cookie, the device a
 * usable buffer. edu moves a pattern into that buffer and out again.
 */
static void coherent_no_kernel_mapping(struct kunit *test)
{
	struct device *dev = test_dev(test);
	const unsigned long attrs = DMA_ATTR_NO_KERNEL_MAPPING;
	const size_t len = 2048;
	dma_addr_t a_dma, b_dma, nkm_dma;
	u8 *a, *b;
	void *nkm;

	a = dma_alloc_coherent(dev, PAGE_SIZE, &a_dma, GFP_KERNEL);
	b = dma_alloc_coherent(dev, PAGE_SIZE, &b_dma, GFP_KERNEL);
	nkm = dma_alloc_attrs(dev, 4 * PAGE_SIZE, &nkm_dma, GFP_KERNEL, attrs);
	if (!a || !b || !nkm)
		goto out;
	KUNIT_EXPECT_EQ(test, nkm_dma & ~PAGE_MASK, 0);
	KUNIT_EXPECT_LE(test, nkm_dma + 4 * PAGE_SIZE - 1,
			dev->coherent_dma_mask);

	/* a -> edu -> nkm, clear edu with b's zeroes, then nkm -> edu -> b. */
	get_random_bytes(a, len);
	edu_copy(test, a_dma, nkm_dma, len);
	KUNIT_ASSERT_EQ(test, edu_dma(test_edu(test), b_dma, 0, len, false), 0);
	edu_copy(test, nkm_dma, b_dma, len);
	KUNIT_EXPECT_MEMEQ(test, b, a, len);
out:
	KUNIT_EXPECT_NOT_NULL(test, a);
	KUNIT_EXPECT_NOT_NULL(test, b);
	KUNIT_EXPECT_NOT_NULL(test, nkm);
	if (nkm)
		dma_free_attrs(dev, 4 * PAGE_SIZE, nkm, nkm_dma, attrs);
	if (b)
		dma_free_coherent(dev, PAGE_SIZE, b, b_dma);
	if (a)
		dma_free_coherent(dev, PAGE_SIZE, a, a_dma);
}

/*
 * dmam_alloc_coherent(): the allocation lives until its devres group is
 * released. dma-debug tracks it, so dma-api/num_free_entries drops while it
 * lives and comes back after.
 */
static void coherent_managed_freed_with_devres(struct kunit *test)
{
	struct device *dev = test_dev(test);
	long before, during, after;
	dma_addr_t handle;
	void *group, *cpu;

	group = devres_open_group(dev, NULL, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, group);
	before = dma_kunit_counter(test, "num_free_entries");
	cpu = dmam_alloc_coherent(dev, 3 * PAGE_SIZE, &handle, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, cpu);
	if (cpu)
		check_coherent(test, dev, cpu, handle, 3 * PAGE_SIZE);
	during = dma_kunit_counter(test, "num_free_entries");
	devres_release_group(dev, group);
	after = dma_kunit_counter(test, "num_free_entries");

	KUNIT_EXPECT_EQ(test, during, before - 1);
	KUNIT_EXPECT_EQ(test, after, before);
}

/* Sizes no allocator can satisfy give NULL, cleanly, and no dma-debug error. */
static void coherent_impossible_size_returns_null(struct kunit *test)
{
	static const size_t sizes[] = { (size_t)1 << 40, (size_t)1 << 50 };
	struct device *dev = test_dev(test);
	long errors = dma_kunit_counter(test, "error_count");
	int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		dma_addr_t handle = 0;
		void *cpu;

		cpu = dma_alloc_coherent(dev, sizes[i], &handle,
					 GFP_KERNEL | __GFP_NOWARN);
		KUNIT_EXPECT_NULL_MSG(test, cpu, "size %zu", sizes[i]);
		if (cpu)
			dma_free_coherent(dev, sizes[i], cpu, handle);
	}
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"), errors);
}

/*
 * dmam_free_coherent(): a managed allocation freed early is gone at once,
 * and releasing its devres group later frees nothing twice.
 */
static void coherent_managed_freed_early(struct kunit *test)
{
	struct device *dev = test_dev(test);
	long before, errors;
	dma_addr_t handle;
	void *group, *cpu;

	group = devres_open_group(dev, NULL, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, group);
	before = dma_kunit_counter(test, "num_free_entries");
	errors = dma_kunit_counter(test, "error_count");
	cpu = dmam_alloc_coherent(dev, PAGE_SIZE, &handle, GFP_KERNEL);
	KUNIT_EXPECT_NOT_NULL(test, cpu);
	if (cpu)
		dmam_free_coherent(dev, PAGE_SIZE, cpu, handle);
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "num_free_entries"), before);
	devres_release_group(dev, group);
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "num_free_entries"), before);
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"), errors);
}

/* GFP_ATOMIC allocations work with interrupts off and a spinlock held. */
static void coherent_alloc_atomic(struct kunit *test)
{
	struct device *dev = test_dev(test);
	static DEFINE_SPINLOCK(lock);
	dma_addr_t handle[4];
	unsigned long flags;
	void *cpu[4];
	int i;

	spin_lock_irqsave(&lock, flags);
	for (i = 0; i < ARRAY_SIZE(cpu); i++)
		cpu[i] = dma_alloc_coherent(dev, PAGE_SIZE << i, &handle[i],
					    GFP_ATOMIC);
	spin_unlock_irqrestore(&lock, flags);

	for (i = 0; i < ARRAY_SIZE(cpu); i++) {
		KUNIT_EXPECT_NOT_NULL_MSG(test, cpu[i], "order %d", i);
		if (!cpu[i])
			continue;
		check_coherent(test, dev, cpu[i], handle[i], PAGE_SIZE << i);
		dma_free_coherent(dev, PAGE_SIZE << i, cpu[i], handle[i]);
	}
}

static struct kunit_case dma_api_coherent_cases[] = {
	KUNIT_CASE(coherent_alloc_zeroed_aligned_in_mask),
	KUNIT_CASE(coherent_alloc_attrs),
	KUNIT_CASE(coherent_allocations_disjoint),
	KUNIT_CASE_SLOW(coherent_device_reads_and_writes),
	KUNIT_CASE_SLOW(coherent_no_kernel_mapping),
	KUNIT_CASE(coherent_managed_freed_with_devres),
	KUNIT_CASE(coherent_managed_freed_early),
	KUNIT_CASE(coherent_alloc_atomic),
	KUNIT_CASE(coherent_impossible_size_returns_null),
	{}
};

static struct kunit_suite dma_api_coherent_suite = {
	.name = "dma_api_coherent",
	.init = dma_kunit_edu_init,
	.exit = dma_kunit_edu_exit,
	.test_cases = dma_api_coherent_cases,
};

kunit_test_suites(&dma_api_coherent_suite);
