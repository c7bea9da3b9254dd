// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conformance suite, Part Id of dma-api.rst: streaming DMA mappings of
 * single buffers, pages, physical addresses and resources, and their syncs.
 *
 * Buffers come from ZONE_DMA, so that edu's 28-bit mask reaches them in
 * every setup: directly in "plain", through the bounce pool in "swiotlb",
 * and through the IOMMU in "iommu". The device then proves every mapping by
 * moving bytes; under swiotlb=force only correct bounce copies pass.
 */

#include <linux/random.h>
#include <linux/slab.h>

#include "dma_api_kunit.h"

#define XFER	3000

/* A coherent buffer used as edu's far end, with random contents. */
struct far {
	u8 *cpu;
	dma_addr_t dma;
};

static void far_alloc(struct kunit *test, struct far *f)
{
	f->cpu = dma_alloc_coherent(test_dev(test), PAGE_SIZE, &f->dma,
				    GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f->cpu);
	get_random_bytes(f->cpu, PAGE_SIZE);
}

static void far_free(struct kunit *test, struct far *f)
{
	dma_free_coherent(test_dev(test), PAGE_SIZE, f->cpu, f->dma);
}

static u8 *dma_buf(struct kunit *test, size_t len)
{
	u8 *buf = kunit_kmalloc(test, len, GFP_KERNEL | GFP_DMA);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	return buf;
}

/* dma_map_single(DMA_TO_DEVICE): the device reads what the CPU wrote. */
static void stream_single_to_device(struct kunit *test)
{
	struct device *dev = test_dev(test);
	u8 *buf = dma_buf(test, XFER);
	struct far out;
	dma_addr_t dma;

	far_alloc(test, &out);
	get_random_bytes(buf, XFER);
	dma = dma_map_single(dev, buf, XFER, DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	edu_copy(test, dma, out.dma, XFER);
	dma_unmap_single(dev, dma, XFER, DMA_TO_DEVICE);
	KUNIT_EXPECT_MEMEQ(test, out.cpu, buf, XFER);
	far_free(test, &out);
}

/* dma_map_single(DMA_FROM_DEVICE): after unmap the CPU sees the device's data. */
static void stream_single_from_device(struct kunit *test)
{
	struct device *dev = test_dev(test);
	u8 *buf = dma_buf(test, XFER);
	struct far in;
	dma_addr_t dma;

	far_alloc(test, &in);
	memset(buf, 0, XFER);
	dma = dma_map_single(dev, buf, XFER, DMA_FROM_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	edu_copy(test, in.dma, dma, XFER);
	dma_unmap_single(dev, dma, XFER, DMA_FROM_DEVICE);
	KUNIT_EXPECT_MEMEQ(test, buf, in.cpu, XFER);
	far_free(test, &in);
}

/*
 * dma_map_single(DMA_BIDIRECTIONAL): the device reads the first half and
 * writes it into the second half of the same mapping.
 */
static void stream_single_bidirectional(struct kunit *test)
{
	struct device *dev = test_dev(test);
	const size_t half = 1500;
	u8 *buf = dma_buf(test, 2 * half);
	struct edu *edu = test_edu(test);
	dma_addr_t dma;

	get_random_bytes(buf, half);
	memset(buf + half, 0, half);
	dma = dma_map_single(dev, buf, 2 * half, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	KUNIT_ASSERT_EQ(test, edu_dma(edu, dma, 0, half, false), 0);
	KUNIT_ASSERT_EQ(test, edu_dma(edu, dma + half, 0, half, true), 0);
	dma_unmap_single(dev, dma, 2 * half, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_MEMEQ(test, buf + half, buf, half);
}

/* dma_map_page() at an offset, to and from the device. */
static void stream_page_both_ways(struct kunit *test)
{
	struct device *dev = test_dev(test);
	const size_t off = 256, len = 2048;
	struct page *src, *dst;
	dma_addr_t s, d;

	src = alloc_page(GFP_KERNEL | GFP_DMA);
	dst = alloc_page(GFP_KERNEL | GFP_DMA | __GFP_ZERO);
	if (!src || !dst)
		goto out;
	get_random_bytes(page_address(src), PAGE_SIZE);
	s = dma_map_page(dev, src, off, len, DMA_TO_DEVICE);
	d = dma_map_page(dev, dst, off, len, DMA_FROM_DEVICE);
	KUNIT_EXPECT_FALSE(test, dma_mapping_error(dev, s));
	KUNIT_EXPECT_FALSE(test, dma_mapping_error(dev, d));
	if (!dma_mapping_error(dev, s) && !dma_mapping_error(dev, d))
		edu_copy(test, s, d, len);
	if (!dma_mapping_error(dev, s))
		dma_unmap_page(dev, s, len, DMA_TO_DEVICE);
	if (!dma_mapping_error(dev, d))
		dma_unmap_page(dev, d, len, DMA_FROM_DEVICE);
	KUNIT_EXPECT_MEMEQ(test, page_address(dst) + off,
			   page_address(src) + off, len);
	/* Bytes outside the mapping are untouched. */
	KUNIT_EXPECT_TRUE(test, mem_is_zero(page_address(dst), off));
out:
	KUNIT_EXPECT_NOT_NULL(test, src);
	KUNIT_EXPECT_NOT_NULL(test, dst);
	if (src)
		__free_page(src);
	if (dst)
		__free_page(dst);
}

/* dma_map_phys() and dma_unmap_phys(), to and from the device. */
static void stream_phys_both_ways(struct kunit *test)
{
	struct device *dev = test_dev(test);
	u8 *src = dma_buf(test, XFER), *dst = dma_buf(test, XFER);
	dma_addr_t s, d;

	get_random_bytes(src, XFER);
	memset(dst, 0, XFER);
	s = dma_map_phys(dev, virt_to_phys(src), XFER, DMA_TO_DEVICE, 0);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, s));
	d = dma_map_phys(dev, virt_to_phys(dst), XFER, DMA_FROM_DEVICE, 0);
	if (dma_mapping_error(dev, d))
		dma_unmap_phys(dev, s, XFER, DMA_TO_DEVICE, 0);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, d));
	edu_copy(test, s, d, XFER);
	dma_unmap_phys(dev, s, XFER, DMA_TO_DEVICE, 0);
	dma_unmap_phys(dev, d, XFER, DMA_FROM_DEVICE, 0);
	KUNIT_EXPECT_MEMEQ(test, dst, src, XFER);
}

/*
 * The ownership protocol: the device writes, dma_sync_single_for_cpu()
 * shows the CPU its data; the CPU writes, dma_sync_single_for_device()
 * shows the device the CPU's data. All within one mapping.
 */
static void stream_sync_both_ways(struct kunit *test)
{
	struct device *dev = test_dev(test);
	u8 *buf = dma_buf(test, XFER);
	struct far in, out;
	dma_addr_t dma;

	far_alloc(test, &in);
	far_alloc(test, &out);
	memset(buf, 0, XFER);
	dma = dma_map_single(dev, buf, XFER, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));

	edu_copy(test, in.dma, dma, XFER);
	dma_sync_single_for_cpu(dev, dma, XFER, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_MEMEQ(test, buf, in.cpu, XFER);

	get_random_bytes(buf, XFER);
	dma_sync_single_for_device(dev, dma, XFER, DMA_BIDIRECTIONAL);
	edu_copy(test, dma, out.dma, XFER);
	KUNIT_EXPECT_MEMEQ(test, out.cpu, buf, XFER);

	dma_unmap_single(dev, dma, XFER, DMA_BIDIRECTIONAL);
	far_free(test, &out);
	far_free(test, &in);
}

/*
 * Syncs of a sub-range move exactly that range's ownership, whether the
 * range is given as an address inside the mapping or, with the _range
 * variants, as the mapping plus an offset.
 */
static void sync_partial(struct kunit *test, bool range_api)
{
	struct device *dev = test_dev(test);
	const size_t off = 1000, len = 1500;
	u8 *buf = dma_buf(test, XFER);
	struct far in, out;
	dma_addr_t dma;

	far_alloc(test, &in);
	far_alloc(test, &out);
	memset(buf, 0, XFER);
	dma = dma_map_single(dev, buf, XFER, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));

	edu_copy(test, in.dma, dma, XFER);
	if (range_api)
		dma_sync_single_range_for_cpu(dev, dma, off, len,
					      DMA_BIDIRECTIONAL);
	else
		dma_sync_single_for_cpu(dev, dma + off, len, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_MEMEQ(test, buf + off, in.cpu + off, len);

	memset(buf + off, 0xc3, len);
	if (range_api)
		dma_sync_single_range_for_device(dev, dma, off, len,
						 DMA_BIDIRECTIONAL);
	else
		dma_sync_single_for_device(dev, dma + off, len,
					   DMA_BIDIRECTIONAL);
	edu_copy(test, dma, out.dma, XFER);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(out.cpu + off, 0xc3, len));

	dma_unmap_single(dev, dma, XFER, DMA_BIDIRECTIONAL);
	far_free(test, &out);
	far_free(test, &in);
}

static void stream_sync_partial_range(struct kunit *test)
{
	sync_partial(test, false);
}

/* dma_sync_single_range_for_cpu()/_for_device(). */
static void stream_sync_range_variants(struct kunit *test)
{
	sync_partial(test, true);
}

/*
 * DMA_ATTR_SKIP_CPU_SYNC: map and unmap leave ownership to explicit syncs,
 * which then move the data.
 */
static void stream_skip_cpu_sync(struct kunit *test)
{
	const unsigned long skip = DMA_ATTR_SKIP_CPU_SYNC;
	struct device *dev = test_dev(test);
	u8 *buf = dma_buf(test, XFER);
	struct far in, out;
	dma_addr_t dma;

	far_alloc(test, &in);
	far_alloc(test, &out);
	get_random_bytes(buf, XFER);
	dma = dma_map_single_attrs(dev, buf, XFER, DMA_BIDIRECTIONAL, skip);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	dma_sync_single_for_device(dev, dma, XFER, DMA_BIDIRECTIONAL);
	edu_copy(test, dma, out.dma, XFER);
	KUNIT_EXPECT_MEMEQ(test, out.cpu, buf, XFER);

	edu_copy(test, in.dma, dma, XFER);
	dma_sync_single_for_cpu(dev, dma, XFER, DMA_BIDIRECTIONAL);
	dma_unmap_single_attrs(dev, dma, XFER, DMA_BIDIRECTIONAL, skip);
	KUNIT_EXPECT_MEMEQ(test, buf, in.cpu, XFER);
	far_free(test, &out);
	far_free(test, &in);
}

/*
 * dma_need_sync(): a bounced mapping needs syncs, and so, conservatively,
 * does any mapping made through something other than dma-direct (checked
 * whenever dma-debug watches); a direct mapping on a coherent x86 machine
 * needs none. dma_need_unmap(): needed whenever a mapping holds resources,
 * and always with dma-debug watching.
 */
static void stream_need_sync_and_unmap(struct kunit *test)
{
	struct device *dev = test_dev(test);
	enum dma_setup setup = dma_kunit_setup(dev);
	u8 *buf = dma_buf(test, XFER);
	dma_addr_t dma;

	dma = dma_map_single(dev, buf, XFER, DMA_BIDIRECTIONAL);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	KUNIT_EXPECT_EQ_MSG(test, dma_need_sync(dev, dma),
			    setup == DMA_SETUP_SWIOTLB ||
			    (setup == DMA_SETUP_IOMMU &&
			     IS_ENABLED(CONFIG_DMA_API_DEBUG)),
			    "setup %s", dma_kunit_setup_name(setup));
	dma_unmap_single(dev, dma, XFER, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, dma_need_unmap(dev),
			IS_ENABLED(CONFIG_DMA_API_DEBUG) ||
			setup != DMA_SETUP_PLAIN);
}

/*
 * A buffer the device cannot reach: with a 24-bit mask, a page above
 * 16 MiB. dma-direct (bouncing or not) must refuse it with
 * DMA_MAPPING_ERROR; an IOMMU remaps it below 16 MiB.
 */
static void stream_unreachable_buffer(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct page *page;
	dma_addr_t dma;

	dma_kunit_set_small_mask(test, dev, 24);
	page = dma_kunit_page_above(test, DMA_BIT_MASK(24));
	dma = dma_map_page(dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
	if (dma_kunit_setup(dev) == DMA_SETUP_IOMMU) {
		KUNIT_EXPECT_FALSE(test, dma_mapping_error(dev, dma));
		KUNIT_EXPECT_LE(test, dma + PAGE_SIZE - 1, DMA_BIT_MASK(24));
		if (!dma_mapping_error(dev, dma))
			dma_unmap_page(dev, dma, PAGE_SIZE, DMA_TO_DEVICE);
	} else {
		KUNIT_EXPECT_EQ(test, dma, DMA_MAPPING_ERROR);
		KUNIT_EXPECT_EQ(test, dma_mapping_error(dev, dma), -ENOMEM);
	}
}

/*
 * dma_map_resource(): MMIO for peer access. dma-direct maps it 1:1; MMIO
 * cannot be bounced, so with swiotlb=force the mapping is refused.
 */
static void stream_map_resource(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct pci_dev *pdev = test_edu(test)->pdev;
	phys_addr_t bar = pci_resource_start(pdev, 0);
	dma_addr_t dma;

	/* The BAR lies high in the PCI hole: peers need a wide mask. */
	KUNIT_ASSERT_EQ(test, dma_set_mask(dev, DMA_BIT_MASK(64)), 0);
	dma = dma_map_resource(dev, bar, PAGE_SIZE, DMA_BIDIRECTIONAL, 0);
	if (dma_kunit_setup(dev) == DMA_SETUP_SWIOTLB) {
		KUNIT_EXPECT_EQ(test, dma_mapping_error(dev, dma), -ENOMEM);
		return;
	}
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	if (dma_kunit_setup(dev) != DMA_SETUP_IOMMU)
		KUNIT_EXPECT_EQ(test, dma, (dma_addr_t)bar);
	dma_unmap_resource(dev, dma, PAGE_SIZE, DMA_BIDIRECTIONAL, 0);
}

/*
 * Map, sync and unmap with interrupts off and a spinlock held, as drivers
 * do in their interrupt handlers; the data survives the round trip.
 */
static void stream_map_in_atomic_context(struct kunit *test)
{
	struct device *dev = test_dev(test);
	static DEFINE_SPINLOCK(lock);
	u8 *buf = dma_buf(test, XFER);
	unsigned long flags;
	bool ok = true;
	dma_addr_t dma;
	int i;

	for (i = 0; i < 32; i++) {
		memset(buf, i, XFER);
		spin_lock_irqsave(&lock, flags);
		dma = dma_map_single(dev, buf, XFER, DMA_BIDIRECTIONAL);
		if (!dma_mapping_error(dev, dma)) {
			dma_sync_single_for_cpu(dev, dma, XFER, DMA_BIDIRECTIONAL);
			ok &= !memchr_inv(buf, i, XFER);
			memset(buf, ~i, XFER);
			dma_sync_single_for_device(dev, dma, XFER,
						   DMA_BIDIRECTIONAL);
			dma_unmap_single(dev, dma, XFER, DMA_BIDIRECTIONAL);
		} else {
			ok = false;
		}
		spin_unlock_irqrestore(&lock, flags);
		ok &= !memchr_inv(buf, (u8)~i, XFER);
	}
	KUNIT_EXPECT_TRUE(test, ok);
}

static struct kunit_case dma_api_streaming_cases[] = {
	KUNIT_CASE_SLOW(stream_single_to_device),
	KUNIT_CASE_SLOW(stream_single_from_device),
	KUNIT_CASE_SLOW(stream_single_bidirectional),
	KUNIT_CASE_SLOW(stream_page_both_ways),
	KUNIT_CASE_SLOW(stream_phys_both_ways),
	KUNIT_CASE_SLOW(stream_sync_both_ways),
	KUNIT_CASE_SLOW(stream_sync_partial_range),
	KUNIT_CASE_SLOW(stream_skip_cpu_sync),
	KUNIT_CASE(stream_need_sync_and_unmap),
	KUNIT_CASE(stream_unreachable_buffer),
	KUNIT_CASE(stream_map_resource),
	KUNIT_CASE_SLOW(stream_sync_range_variants),
	KUNIT_CASE(stream_map_in_atomic_context),
	{}
};

static struct kunit_suite dma_api_streaming_suite = {
	.name = "dma_api_streaming",
	.init = dma_kunit_edu_init,
	.exit = dma_kunit_edu_exit,
	.test_cases = dma_api_streaming_cases,
};

kunit_test_suites(&dma_api_streaming_suite);
