// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conformance suite, Part Id of dma-api.rst: scatterlist mappings.
 *
 * Chunks come from ZONE_DMA (see streaming.c). edu moves the bytes of each
 * mapped DMA segment, so a mapping that misses or misplaces a byte fails.
 */

#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#include "dma_api_kunit.h"

/* Chunk sizes of the device tests: 3500 bytes in all, within edu's buffer. */
static const unsigned int chunk_len[] = { 700, 1000, 300, 1500 };
#define CHUNKS		ARRAY_SIZE(chunk_len)
#define CHUNK_TOTAL	3500

/* An sg_table over kmalloc'ed chunks, and the chunks. */
struct sg_fixture {
	struct sg_table sgt;
	u8 *chunk[64];
	unsigned int n;
	size_t total;
};

static void sg_fixture_init(struct kunit *test, struct sg_fixture *f,
			    unsigned int n, const unsigned int *len)
{
	struct scatterlist *sg;
	unsigned int i;

	KUNIT_ASSERT_LE(test, n, ARRAY_SIZE(f->chunk));
	KUNIT_ASSERT_EQ(test, sg_alloc_table(&f->sgt, n, GFP_KERNEL), 0);
	f->n = n;
	f->total = 0;
	for_each_sgtable_sg(&f->sgt, sg, i) {
		f->chunk[i] = kunit_kmalloc(test, len[i], GFP_KERNEL | GFP_DMA);
		KUNIT_ASSERT_NOT_NULL(test, f->chunk[i]);
		get_random_bytes(f->chunk[i], len[i]);
		sg_set_buf(sg, f->chunk[i], len[i]);
		f->total += len[i];
	}
}

static void sg_fixture_free(struct sg_fixture *f)
{
	sg_free_table(&f->sgt);
}

/* The chunks, concatenated, equal @expect. */
static void expect_chunks(struct kunit *test, struct sg_fixture *f,
			  const u8 *expect)
{
	struct scatterlist *sg;
	size_t off = 0;
	unsigned int i;

	for_each_sgtable_sg(&f->sgt, sg, i) {
		KUNIT_EXPECT_MEMEQ_MSG(test, f->chunk[i], expect + off,
				       sg->length, "chunk %u", i);
		off += sg->length;
	}
}

/*
 * Move every mapped segment through edu's buffer: to the device, segment i
 * lands at its running offset; from the device, the running offset lands
 * in segment i. Returns the bytes the segments cover.
 */
static size_t edu_sg(struct kunit *test, struct scatterlist *sgl, int count,
		     bool to_ram)
{
	struct edu *edu = test_edu(test);
	struct scatterlist *sg;
	size_t off = 0;
	int i;

	for_each_sg(sgl, sg, count, i) {
		KUNIT_EXPECT_EQ(test, edu_dma(edu, sg_dma_address(sg), off,
					      sg_dma_len(sg), to_ram), 0);
		off += sg_dma_len(sg);
	}
	return off;
}

/* dma_map_sg() returns 1..nents segments that cover every byte once. */
static void sg_map_count_and_coverage(struct kunit *test)
{
	static const unsigned int counts[] = { 1, 16, 64 };
	struct device *dev = test_dev(test);
	unsigned int len[64];
	int c, i;

	for (c = 0; c < ARRAY_SIZE(counts); c++) {
		struct sg_fixture f;
		struct scatterlist *sg;
		size_t covered = 0;
		int mapped;

		for (i = 0; i < counts[c]; i++)
			len[i] = 64 + 97 * i % 2000;
		sg_fixture_init(test, &f, counts[c], len);
		mapped = dma_map_sg(dev, f.sgt.sgl, f.n, DMA_TO_DEVICE);
		KUNIT_EXPECT_GE(test, mapped, 1);
		KUNIT_EXPECT_LE(test, mapped, f.n);
		for_each_sg(f.sgt.sgl, sg, mapped, i) {
			KUNIT_EXPECT_NE(test, sg_dma_address(sg), DMA_MAPPING_ERROR);
			KUNIT_EXPECT_LE(test, sg_dma_address(sg) + sg_dma_len(sg) - 1,
					dma_get_mask(dev));
			covered += sg_dma_len(sg);
		}
		KUNIT_EXPECT_EQ_MSG(test, covered, f.total, "%u entries",
				    counts[c]);
		if (mapped > 0)
			dma_unmap_sg(dev, f.sgt.sgl, f.n, DMA_TO_DEVICE);
		sg_fixture_free(&f);
	}
}

/* The device reads a mapped scatterlist: every byte arrives in order. */
static void sg_device_reads(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct sg_fixture f;
	dma_addr_t out_dma;
	int mapped;
	u8 *out;

	out = dma_alloc_coherent(dev, PAGE_SIZE, &out_dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, out);
	sg_fixture_init(test, &f, CHUNKS, chunk_len);
	mapped = dma_map_sg(dev, f.sgt.sgl, f.n, DMA_TO_DEVICE);
	KUNIT_EXPECT_GT(test, mapped, 0);
	if (mapped > 0) {
		KUNIT_EXPECT_EQ(test, edu_sg(test, f.sgt.sgl, mapped, false),
				CHUNK_TOTAL);
		KUNIT_EXPECT_EQ(test, edu_dma(test_edu(test), out_dma, 0,
					      CHUNK_TOTAL, true), 0);
		dma_unmap_sg(dev, f.sgt.sgl, f.n, DMA_TO_DEVICE);
		expect_chunks(test, &f, out);
	}
	sg_fixture_free(&f);
	dma_free_coherent(dev, PAGE_SIZE, out, out_dma);
}

/* The device writes a mapped scatterlist; after unmap the CPU sees it all. */
static void sg_device_writes(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct sg_fixture f;
	dma_addr_t in_dma;
	int mapped;
	u8 *in;

	in = dma_alloc_coherent(dev, PAGE_SIZE, &in_dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, in);
	get_random_bytes(in, PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, edu_dma(test_edu(test), in_dma, 0, CHUNK_TOTAL,
				      false), 0);
	sg_fixture_init(test, &f, CHUNKS, chunk_len);
	mapped = dma_map_sg(dev, f.sgt.sgl, f.n, DMA_FROM_DEVICE);
	KUNIT_EXPECT_GT(test, mapped, 0);
	if (mapped > 0) {
		KUNIT_EXPECT_EQ(test, edu_sg(test, f.sgt.sgl, mapped, true),
				CHUNK_TOTAL);
		dma_unmap_sg(dev, f.sgt.sgl, f.n, DMA_FROM_DEVICE);
		expect_chunks(test, &f, in);
	}
	sg_fixture_free(&f);
	dma_free_coherent(dev, PAGE_SIZE, in, in_dma);
}

/*
 * Merged segments respect the device's max_seg_size and seg_boundary: map
 * 32 physically contiguous pages (the most mergeable list there is) under
 * an 8 KiB segment limit and a 16 KiB boundary.
 */
static void sg_merge_respects_limits(struct kunit *test)
{
	struct device *dev = test_dev(test);
	unsigned int old_max = dma_get_max_seg_size(dev);
	unsigned long old_boundary = dma_get_seg_boundary(dev);
	const unsigned long boundary = SZ_16K - 1;
	const unsigned int max_seg = SZ_8K, n = 32;
	struct scatterlist *sg;
	struct sg_table sgt;
	struct page *pages;
	size_t covered = 0;
	int i, mapped;

	pages = alloc_pages(GFP_KERNEL | GFP_DMA, get_order(n * PAGE_SIZE));
	KUNIT_ASSERT_NOT_NULL(test, pages);
	KUNIT_ASSERT_EQ(test, sg_alloc_table(&sgt, n, GFP_KERNEL), 0);
	for_each_sgtable_sg(&sgt, sg, i)
		sg_set_page(sg, pages + i, PAGE_SIZE, 0);
	dma_set_max_seg_size(dev, max_seg);
	dma_set_seg_boundary(dev, boundary);

	mapped = dma_map_sg(dev, sgt.sgl, n, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_GT(test, mapped, 0);
	for_each_sg(sgt.sgl, sg, mapped, i) {
		dma_addr_t a = sg_dma_address(sg);
		unsigned int len = sg_dma_len(sg);

		KUNIT_EXPECT_LE(test, len, max_seg);
		KUNIT_EXPECT_EQ_MSG(test, a & ~boundary, (a + len - 1) & ~boundary,
				    "segment %d %pad+%u crosses the boundary",
				    i, &a, len);
		covered += len;
	}
	KUNIT_EXPECT_EQ(test, covered, n * PAGE_SIZE);
	if (mapped > 0)
		dma_unmap_sg(dev, sgt.sgl, n, DMA_BIDIRECTIONAL);

	dma_set_max_seg_size(dev, old_max);
	dma_set_seg_boundary(dev, old_boundary);
	sg_free_table(&sgt);
	__free_pages(pages, get_order(n * PAGE_SIZE));
}

/* dma_map_sgtable() sets nents, returns 0, and the device sees the data. */
static void sg_map_sgtable(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct sg_fixture f;
	dma_addr_t out_dma;
	u8 *out;

	out = dma_alloc_coherent(dev, PAGE_SIZE, &out_dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, out);
	sg_fixture_init(test, &f, CHUNKS, chunk_len);
	KUNIT_ASSERT_EQ(test, dma_map_sgtable(dev, &f.sgt, DMA_TO_DEVICE, 0), 0);
	KUNIT_EXPECT_GE(test, f.sgt.nents, 1);
	KUNIT_EXPECT_LE(test, f.sgt.nents, f.sgt.orig_nents);
	KUNIT_EXPECT_EQ(test, edu_sg(test, f.sgt.sgl, f.sgt.nents, false),
			CHUNK_TOTAL);
	KUNIT_EXPECT_EQ(test, edu_dma(test_edu(test), out_dma, 0, CHUNK_TOTAL,
				      true), 0);
	dma_unmap_sgtable(dev, &f.sgt, DMA_TO_DEVICE, 0);
	expect_chunks(test, &f, out);
	sg_fixture_free(&f);
	dma_free_coherent(dev, PAGE_SIZE, out, out_dma);
}

/*
 * dma_sync_sg_for_cpu()/_for_device() and the sgtable forms hand a
 * bidirectional scatterlist back and forth within one mapping.
 */
static void sg_sync_both_ways(struct kunit *test)
{
	struct device *dev = test_dev(test);
	dma_addr_t far_dma;
	struct sg_fixture f;
	u8 *far;
	int round;

	far = dma_alloc_coherent(dev, PAGE_SIZE, &far_dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, far);
	sg_fixture_init(test, &f, CHUNKS, chunk_len);
	KUNIT_ASSERT_EQ(test, dma_map_sgtable(dev, &f.sgt, DMA_BIDIRECTIONAL, 0),
			0);
	for (round = 0; round < 2; round++) {
		struct scatterlist *sg;
		unsigned int i;

		/* The device writes; the CPU takes ownership and reads. */
		get_random_bytes(far, PAGE_SIZE);
		KUNIT_EXPECT_EQ(test, edu_dma(test_edu(test), far_dma, 0,
					      CHUNK_TOTAL, false), 0);
		edu_sg(test, f.sgt.sgl, f.sgt.nents, true);
		if (round)
			dma_sync_sgtable_for_cpu(dev, &f.sgt, DMA_BIDIRECTIONAL);
		else
			dma_sync_sg_for_cpu(dev, f.sgt.sgl, f.sgt.orig_nents,
					    DMA_BIDIRECTIONAL);
		expect_chunks(test, &f, far);

		/* The CPU writes; the device takes ownership and reads. */
		for_each_sgtable_sg(&f.sgt, sg, i)
			memset(f.chunk[i], 0x11 * (i + 1) + round, sg->length);
		if (round)
			dma_sync_sgtable_for_device(dev, &f.sgt, DMA_BIDIRECTIONAL);
		else
			dma_sync_sg_for_device(dev, f.sgt.sgl, f.sgt.orig_nents,
					       DMA_BIDIRECTIONAL);
		edu_sg(test, f.sgt.sgl, f.sgt.nents, false);
		KUNIT_EXPECT_EQ(test, edu_dma(test_edu(test), far_dma, 0,
					      CHUNK_TOTAL, true), 0);
		expect_chunks(test, &f, far);
	}
	dma_unmap_sgtable(dev, &f.sgt, DMA_BIDIRECTIONAL, 0);
	sg_fixture_free(&f);
	dma_free_coherent(dev, PAGE_SIZE, far, far_dma);
}

/*
 * A scatterlist the device cannot reach (24-bit mask, pages above 16 MiB):
 * dma-direct refuses it whole, dma_map_sg() with 0 and dma_map_sgtable()
 * with an error; an IOMMU remaps it below 16 MiB.
 */
static void sg_unreachable_refused(struct kunit *test)
{
	struct device *dev = test_dev(test);
	bool iommu = dma_kunit_setup(dev) == DMA_SETUP_IOMMU;
	struct page *pages[2];
	struct scatterlist *sg;
	struct sg_table sgt;
	int i, ret;

	dma_kunit_set_small_mask(test, dev, 24);
	for (i = 0; i < 2; i++)
		pages[i] = dma_kunit_page_above(test, DMA_BIT_MASK(24));
	KUNIT_ASSERT_EQ(test, sg_alloc_table(&sgt, 2, GFP_KERNEL), 0);
	for_each_sgtable_sg(&sgt, sg, i)
		sg_set_page(sg, pages[i], PAGE_SIZE, 0);
	ret = dma_map_sg(dev, sgt.sgl, 2, DMA_TO_DEVICE);
	if (iommu) {
		KUNIT_EXPECT_GT(test, ret, 0);
		for_each_sg(sgt.sgl, sg, ret, i)
			KUNIT_EXPECT_LE(test, sg_dma_address(sg) + sg_dma_len(sg) - 1,
					DMA_BIT_MASK(24));
		if (ret > 0)
			dma_unmap_sg(dev, sgt.sgl, 2, DMA_TO_DEVICE);
	} else {
		KUNIT_EXPECT_EQ(test, ret, 0);
		ret = dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
		KUNIT_EXPECT_LT(test, ret, 0);
		if (!ret)
			dma_unmap_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
	}
	sg_free_table(&sgt);
}

static struct kunit_case dma_api_sg_cases[] = {
	KUNIT_CASE(sg_map_count_and_coverage),
	KUNIT_CASE_SLOW(sg_device_reads),
	KUNIT_CASE_SLOW(sg_device_writes),
	KUNIT_CASE(sg_merge_respects_limits),
	KUNIT_CASE_SLOW(sg_map_sgtable),
	KUNIT_CASE_SLOW(sg_sync_both_ways),
	KUNIT_CASE(sg_unreachable_refused),
	{}
};

static struct kunit_suite dma_api_sg_suite = {
	.name = "dma_api_sg",
	.init = dma_kunit_edu_init,
	.exit = dma_kunit_edu_exit,
	.test_cases = dma_api_sg_cases,
};

kunit_test_suites(&dma_api_sg_suite);
