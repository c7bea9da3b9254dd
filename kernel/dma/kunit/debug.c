// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conformance suite, Part III: dma-debug.
 *
 * Each test provokes one misuse the tracker knows and asserts that it is
 * counted (dma-api/error_count grows by exactly one) and reported in the
 * kernel log as "DMA-API: <driver> <device>: <message>", then leaves the
 * kernel as it found it. Every misuse is chosen so that the mapping layer
 * underneath stays consistent, whichever implementation runs.
 */

#include <linux/mm.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include <linux/swiotlb.h>

#include "dma_api_kunit.h"

struct debug_ctx {
	struct edu edu;		/* first: test_edu() reads test->priv */
	char all_errors[8];
	char prefix[96];	/* "DMA-API: <driver> <device>: " */
};

static int debug_init(struct kunit *test)
{
	struct debug_ctx *ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, ctx);
	dma_kunit_edu_setup(test, &ctx->edu);
	/* No test here moves data: let every buffer be reachable directly. */
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(test_dev(test),
							DMA_BIT_MASK(64)), 0);
	if (dma_kunit_debugfs_read("all_errors", ctx->all_errors,
				   sizeof(ctx->all_errors)) < 0)
		kunit_skip(test, "no dma-api/ in debugfs (dma_debug=off?)");
	/* Report every error, not only the first of the boot. */
	KUNIT_ASSERT_EQ(test, dma_kunit_debugfs_write("all_errors", "1"), 0);
	snprintf(ctx->prefix, sizeof(ctx->prefix), "DMA-API: %s %s: ",
		 dev_driver_string(test_dev(test)), dev_name(test_dev(test)));
	return 0;
}

static void debug_exit(struct kunit *test)
{
	struct debug_ctx *ctx = test->priv;

	if (!ctx)
		return;
	if (ctx->all_errors[0])
		dma_kunit_debugfs_write("all_errors", strim(ctx->all_errors));
	dma_kunit_edu_exit(test);
}

/* A misuse in progress: the error count and log position before it. */
struct misuse {
	long errors;
	u64 mark;
};

static struct misuse misuse_begin(struct kunit *test)
{
	return (struct misuse){
		.errors = dma_kunit_counter(test, "error_count"),
		.mark = dma_kunit_log_mark(),
	};
}

/* Exactly @n errors counted, reported with @message for our device. */
static void expect_reported_n(struct kunit *test, struct misuse m, long n,
			      const char *message)
{
	struct debug_ctx *ctx = test->priv;

	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"),
			m.errors + n);
	KUNIT_EXPECT_TRUE_MSG(test, dma_kunit_log_has(m.mark, ctx->prefix,
						      message),
			      "no \"%s%s\" in the log", ctx->prefix, message);
}

static void expect_reported(struct kunit *test, struct misuse m,
			    const char *message)
{
	expect_reported_n(test, m, 1, message);
}

static void *dma_kbuf(struct kunit *test, size_t size)
{
	void *buf = kunit_kzalloc(test, size, GFP_KERNEL | GFP_DMA);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	return buf;
}

static dma_addr_t map_checked(struct kunit *test, void *buf, size_t size,
			      enum dma_data_direction dir)
{
	dma_addr_t dma = dma_map_single(test_dev(test), buf, size, dir);

	KUNIT_ASSERT_FALSE(test, dma_mapping_error(test_dev(test), dma));
	return dma;
}

/*
 * Unmapping an address that was never mapped. Behind an IOMMU the unmap
 * reaches the IOVA allocator before dma-debug sees it, and freeing a
 * never-allocated IOVA would corrupt it, so that setup is skipped.
 */
static void debug_free_never_mapped(struct kunit *test)
{
	void *buf = dma_kbuf(test, PAGE_SIZE);
	struct misuse m;

	if (dma_kunit_setup(test_dev(test)) == DMA_SETUP_IOMMU)
		kunit_skip(test, "would corrupt the IOMMU's IOVA allocator");
	m = misuse_begin(test);
	dma_unmap_single(test_dev(test), virt_to_phys(buf), 512, DMA_TO_DEVICE);
	expect_reported(test, m, "tries to free DMA memory it has not allocated");
}

/* Unmapping with another size than was mapped. */
static void debug_free_wrong_size(struct kunit *test)
{
	void *buf = dma_kbuf(test, 2048);
	dma_addr_t dma = map_checked(test, buf, 2048, DMA_TO_DEVICE);
	struct misuse m = misuse_begin(test);

	dma_unmap_single(test_dev(test), dma, 1024, DMA_TO_DEVICE);
	expect_reported(test, m, "frees DMA memory with different size");
}

/*
 * Freeing with the wrong function: dma_alloc_pages() memory released with
 * dma_unmap_page() (then its pages with __free_pages(), which is what
 * dma_free_pages() would have done after the unmap).
 */
static void debug_free_wrong_function(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct misuse m;
	struct page *page;
	dma_addr_t dma;

	page = dma_alloc_pages(dev, PAGE_SIZE, &dma, DMA_TO_DEVICE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	m = misuse_begin(test);
	dma_unmap_page(dev, dma, PAGE_SIZE, DMA_TO_DEVICE);
	expect_reported(test, m, "frees DMA memory with wrong function");
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(m.mark, "[mapped as noncoherent]",
						  "[unmapped as phy]"));
	__free_page(page);
}

/* Unmapping with another direction than was mapped. */
static void debug_free_wrong_direction(struct kunit *test)
{
	void *buf = dma_kbuf(test, 1024);
	dma_addr_t dma = map_checked(test, buf, 1024, DMA_TO_DEVICE);
	struct misuse m = misuse_begin(test);

	dma_unmap_single(test_dev(test), dma, 1024, DMA_FROM_DEVICE);
	expect_reported(test, m, "frees DMA memory with different direction");
}

/*
 * Unmapping a scatterlist with another entry count than was mapped: a
 * two-entry list unmapped as one. dma-debug checks each unmapped entry, so
 * one entry gives one report. The entry left out, if the mapping kept a
 * segment for it, is then unmapped alone: a second, expected report.
 */
static void debug_free_wrong_sg_count(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct scatterlist sgl[2];
	struct misuse m;
	int i, mapped;

	sg_init_table(sgl, ARRAY_SIZE(sgl));
	for (i = 0; i < ARRAY_SIZE(sgl); i++)
		sg_set_buf(&sgl[i], dma_kbuf(test, PAGE_SIZE), PAGE_SIZE);
	mapped = dma_map_sg(dev, sgl, ARRAY_SIZE(sgl), DMA_TO_DEVICE);
	KUNIT_ASSERT_GT(test, mapped, 0);
	m = misuse_begin(test);
	dma_unmap_sg(dev, sgl, 1, DMA_TO_DEVICE);
	expect_reported(test, m, "frees DMA sg list with different entry count");
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(m.mark, "[map count=2]",
						  "[unmap count=1]"));
	if (mapped == ARRAY_SIZE(sgl)) {
		m = misuse_begin(test);
		dma_unmap_sg(dev, &sgl[1], 1, DMA_TO_DEVICE);
		expect_reported(test, m, "different entry count");
	}
}

/* Unmapping without ever having called dma_mapping_error(). */
static void debug_missing_mapping_error_check(struct kunit *test)
{
	struct device *dev = test_dev(test);
	void *buf = dma_kbuf(test, 1024);
	struct misuse m;
	dma_addr_t dma;

	dma = dma_map_single(dev, buf, 1024, DMA_TO_DEVICE);
	m = misuse_begin(test);
	dma_unmap_single(dev, dma, 1024, DMA_TO_DEVICE);
	expect_reported(test, m, "failed to check map error");
}

/* Syncing memory that is not mapped. */
static void debug_sync_unmapped(struct kunit *test)
{
	void *buf = dma_kbuf(test, PAGE_SIZE);
	struct misuse m = misuse_begin(test);

	dma_sync_single_for_cpu(test_dev(test), virt_to_phys(buf), 256,
				DMA_FROM_DEVICE);
	expect_reported(test, m, "tries to sync DMA memory it has not allocated");
}

/*
 * Syncing past the end of a mapping. dma-debug looks the sync up as a range
 * inside a mapping; one that runs past the end matches no mapping, so the
 * C tracker reports it as a sync of memory never allocated. Either report
 * names the sync; exactly one error is counted.
 */
static void debug_sync_out_of_range(struct kunit *test)
{
	struct debug_ctx *ctx = test->priv;
	void *buf = dma_kbuf(test, PAGE_SIZE);
	dma_addr_t dma = map_checked(test, buf, 1024, DMA_BIDIRECTIONAL);
	struct misuse m = misuse_begin(test);

	dma_sync_single_for_cpu(test_dev(test), dma, 2048, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"),
			m.errors + 1);
	KUNIT_EXPECT_TRUE(test,
		dma_kunit_log_has(m.mark, ctx->prefix,
				  "syncs DMA memory outside allocated range") ||
		dma_kunit_log_has(m.mark, ctx->prefix,
				  "tries to sync DMA memory it has not allocated"));
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(m.mark, ctx->prefix, "2048"));
	dma_unmap_single(test_dev(test), dma, 1024, DMA_BIDIRECTIONAL);
}

/* Syncing with another direction than was mapped. */
static void debug_sync_wrong_direction(struct kunit *test)
{
	void *buf = dma_kbuf(test, 1024);
	dma_addr_t dma = map_checked(test, buf, 1024, DMA_TO_DEVICE);
	struct misuse m = misuse_begin(test);

	dma_sync_single_for_device(test_dev(test), dma, 1024, DMA_FROM_DEVICE);
	expect_reported(test, m, "syncs DMA memory with different direction");
	dma_unmap_single(test_dev(test), dma, 1024, DMA_TO_DEVICE);
}

/*
 * Taking a device-read-only (DMA_TO_DEVICE) mapping for the CPU as if the
 * device had written it (DMA_FROM_DEVICE): two reports, the direction
 * mismatch and the read-only sync. The same mapping synced for the CPU
 * with its own direction is legal and reports nothing.
 */
static void debug_sync_read_only_for_cpu(struct kunit *test)
{
	void *buf = dma_kbuf(test, 1024);
	dma_addr_t dma = map_checked(test, buf, 1024, DMA_TO_DEVICE);
	struct misuse m = misuse_begin(test);

	dma_sync_single_for_cpu(test_dev(test), dma, 1024, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"), m.errors);
	m = misuse_begin(test);
	dma_sync_single_for_cpu(test_dev(test), dma, 1024, DMA_FROM_DEVICE);
	expect_reported_n(test, m, 2, "syncs device read-only DMA memory for cpu");
	dma_unmap_single(test_dev(test), dma, 1024, DMA_TO_DEVICE);
}

/*
 * Two live mappings sharing a cacheline. dma-debug reports the overlap
 * only where DMA is not cache-coherent (the DMA cache alignment reaches a
 * cacheline); on coherent machines such as x86 it is legal and must not
 * be reported.
 */
static void debug_overlapping_cachelines(struct kunit *test)
{
	struct device *dev = test_dev(test);
	u8 *buf = dma_kbuf(test, 256);
	dma_addr_t a, b;
	struct misuse m;

	a = map_checked(test, buf, 32, DMA_FROM_DEVICE);
	m = misuse_begin(test);
	b = dma_map_single(dev, buf + 16, 32, DMA_FROM_DEVICE);
	KUNIT_EXPECT_FALSE(test, dma_mapping_error(dev, b));
	/*
	 * Unsafe only where the DMA alignment is a cacheline (not x86), and
	 * not where small kmalloc buffers bounce anyway (arm64 with swiotlb).
	 */
	if (dma_get_cache_alignment() >= L1_CACHE_BYTES &&
	    !(IS_ENABLED(CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC) &&
	      is_swiotlb_active(dev)))
		expect_reported(test, m, "overlapping mappings aren't supported");
	else
		KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"),
				m.errors);
	if (!dma_mapping_error(dev, b))
		dma_unmap_single(dev, b, 32, DMA_FROM_DEVICE);
	dma_unmap_single(dev, a, 32, DMA_FROM_DEVICE);
}

/* Mapping memory on the stack. */
static void debug_map_stack(struct kunit *test)
{
	struct device *dev = test_dev(test);
	u8 stackbuf[64] __aligned(64);
	struct misuse m = misuse_begin(test);
	struct page *page;
	dma_addr_t dma;

	memset(stackbuf, 0x42, sizeof(stackbuf));
	page = is_vmalloc_addr(stackbuf) ? vmalloc_to_page(stackbuf) :
					   virt_to_page(stackbuf);
	dma = dma_map_page(dev, page, offset_in_page(stackbuf), sizeof(stackbuf),
			   DMA_TO_DEVICE);
	expect_reported(test, m, "maps memory from stack");
	if (!dma_mapping_error(dev, dma))
		dma_unmap_page(dev, dma, sizeof(stackbuf), DMA_TO_DEVICE);
}

/*
 * Mapping the kernel's text and read-only data through their linear-map
 * aliases, which is how a driver meets such memory when it is handed a
 * page. C's dma-debug compares the linear address with the image's own
 * addresses, so where the image is mapped apart from the linear map
 * (x86-64, arm64) it never reports this. The Rust tracker compares
 * physical addresses and reports it through either alias. The zero page,
 * read-only data too, is mapped by the kernel itself to write zeroes
 * (blkdev_issue_zeroout()), and is reported by neither.
 */
static const u8 debug_rodata[64] __aligned(64) = { 0x5a };

static void debug_map_kernel_image(struct kunit *test)
{
	struct device *dev = test_dev(test);
	const struct {
		const void *image, *alias;
		bool allowed;
	} maps[] = {
		{ debug_rodata, lm_alias(debug_rodata), false },
		{ (const void *)debug_map_stack, lm_alias(debug_map_stack), false },
		{ NULL, page_address(ZERO_PAGE(0)), true },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(maps); i++) {
		const void *alias = maps[i].alias;
		size_t size = min_t(size_t, 64, PAGE_SIZE - offset_in_page(alias));
		bool c_sees = alias == maps[i].image;
		struct misuse m = misuse_begin(test);
		dma_addr_t dma;

		dma = dma_map_page(dev, virt_to_page(alias), offset_in_page(alias),
				   size, DMA_TO_DEVICE);
		if (!maps[i].allowed && (IS_ENABLED(CONFIG_DMA_RUST_DEBUG) || c_sees))
			expect_reported(test, m, "maps memory from kernel text or rodata");
		else
			KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"),
					m.errors);
		if (!dma_mapping_error(dev, dma))
			dma_unmap_page(dev, dma, size, DMA_TO_DEVICE);
	}
}

/*
 * Unmapping DMA_MAPPING_ERROR itself. Skipped behind an IOMMU for the
 * reason debug_free_never_mapped() gives.
 */
static void debug_free_invalid_address(struct kunit *test)
{
	struct misuse m;

	if (dma_kunit_setup(test_dev(test)) == DMA_SETUP_IOMMU)
		kunit_skip(test, "would corrupt the IOMMU's IOVA allocator");
	m = misuse_begin(test);
	dma_unmap_single(test_dev(test), DMA_MAPPING_ERROR, 64, DMA_TO_DEVICE);
	expect_reported(test, m, "tries to free an invalid DMA memory address");
}

/*
 * Freeing coherent memory with another CPU address than was returned.
 * Behind an IOMMU the free releases pages by CPU address, so a wrong one
 * would free a stranger's page: skipped there.
 */
static void debug_free_wrong_cpu_address(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct misuse m;
	dma_addr_t dma;
	u8 *cpu;

	if (dma_kunit_setup(dev) == DMA_SETUP_IOMMU)
		kunit_skip(test, "the IOMMU path frees pages by CPU address");
	cpu = dma_alloc_coherent(dev, PAGE_SIZE, &dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cpu);
	m = misuse_begin(test);
	dma_free_coherent(dev, PAGE_SIZE, cpu + 64, dma);
	expect_reported(test, m, "frees DMA memory with different CPU address");
}

/* Unmapping with other attributes than were mapped (DMA_ATTR_PRIVILEGED). */
static void debug_free_wrong_attrs(struct kunit *test)
{
	struct device *dev = test_dev(test);
	void *buf = dma_kbuf(test, 512);
	struct misuse m;
	dma_addr_t dma;

	dma = dma_map_single_attrs(dev, buf, 512, DMA_TO_DEVICE,
				   DMA_ATTR_PRIVILEGED);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	m = misuse_begin(test);
	dma_unmap_single(dev, dma, 512, DMA_TO_DEVICE);
	expect_reported(test, m, "frees DMA memory with different attributes");
}

/*
 * Handing a device-write-only (DMA_FROM_DEVICE) mapping to the device as
 * if the CPU had written it (DMA_TO_DEVICE): two reports, the direction
 * mismatch and the write-only sync.
 */
static void debug_sync_write_only_for_device(struct kunit *test)
{
	void *buf = dma_kbuf(test, 1024);
	dma_addr_t dma = map_checked(test, buf, 1024, DMA_FROM_DEVICE);
	struct misuse m = misuse_begin(test);

	dma_sync_single_for_device(test_dev(test), dma, 1024, DMA_TO_DEVICE);
	expect_reported_n(test, m, 2, "syncs device write-only DMA memory to device");
	dma_unmap_single(test_dev(test), dma, 1024, DMA_FROM_DEVICE);
}

/*
 * Syncing a scatterlist with another entry count than was mapped. (The
 * tracker checks syncs of one-direction mappings only: a bidirectional
 * mapping may be synced either way.)
 */
static void debug_sync_sg_wrong_count(struct kunit *test)
{
	struct device *dev = test_dev(test);
	struct scatterlist sgl[2];
	struct misuse m;
	int i, mapped;

	sg_init_table(sgl, ARRAY_SIZE(sgl));
	for (i = 0; i < ARRAY_SIZE(sgl); i++)
		sg_set_buf(&sgl[i], dma_kbuf(test, 512), 512);
	mapped = dma_map_sg(dev, sgl, ARRAY_SIZE(sgl), DMA_TO_DEVICE);
	KUNIT_ASSERT_GT(test, mapped, 0);
	m = misuse_begin(test);
	dma_sync_sg_for_device(dev, sgl, 1, DMA_TO_DEVICE);
	expect_reported(test, m, "syncs DMA sg list with different entry count");
	dma_unmap_sg(dev, sgl, ARRAY_SIZE(sgl), DMA_TO_DEVICE);
}

/*
 * dma_map_resource() is for MMIO; given RAM, the mapping is reported. With
 * swiotlb=force the mapping itself is refused (MMIO cannot bounce), and a
 * refused mapping is not tracked.
 */
static void debug_map_resource_ram(struct kunit *test)
{
	struct device *dev = test_dev(test);
	void *buf = dma_kbuf(test, PAGE_SIZE);
	struct misuse m = misuse_begin(test);
	dma_addr_t dma;

	dma = dma_map_resource(dev, virt_to_phys(buf), PAGE_SIZE,
			       DMA_BIDIRECTIONAL, 0);
	if (dma_mapping_error(dev, dma)) {
		KUNIT_EXPECT_EQ(test, dma_kunit_setup(dev), DMA_SETUP_SWIOTLB);
		KUNIT_EXPECT_EQ(test, dma_kunit_counter(test, "error_count"),
				m.errors);
		return;
	}
	expect_reported(test, m, "dma_map_resource called for RAM address");
	dma_unmap_resource(dev, dma, PAGE_SIZE, DMA_BIDIRECTIONAL, 0);
}

static struct kunit_case dma_api_debug_cases[] = {
	KUNIT_CASE(debug_free_never_mapped),
	KUNIT_CASE(debug_free_wrong_size),
	KUNIT_CASE(debug_free_wrong_function),
	KUNIT_CASE(debug_free_wrong_direction),
	KUNIT_CASE(debug_free_wrong_sg_count),
	KUNIT_CASE(debug_missing_mapping_error_check),
	KUNIT_CASE(debug_sync_unmapped),
	KUNIT_CASE(debug_sync_out_of_range),
	KUNIT_CASE(debug_sync_wrong_direction),
	KUNIT_CASE(debug_sync_read_only_for_cpu),
	KUNIT_CASE(debug_overlapping_cachelines),
	KUNIT_CASE(debug_map_stack),
	KUNIT_CASE(debug_map_kernel_image),
	KUNIT_CASE(debug_free_invalid_address),
	KUNIT_CASE(debug_free_wrong_cpu_address),
	KUNIT_CASE(debug_free_wrong_attrs),
	KUNIT_CASE(debug_sync_write_only_for_device),
	KUNIT_CASE(debug_sync_sg_wrong_count),
	KUNIT_CASE(debug_map_resource_ram),
	{}
};

static struct kunit_suite dma_api_debug_suite = {
	.name = "dma_api_debug",
	.init = debug_init,
	.exit = debug_exit,
	.test_cases = dma_api_debug_cases,
};

#if IS_ENABLED(CONFIG_DMA_RUST_DEBUG)
/*
 * Beyond C: the Rust dma-debug names, in each report about a mapping, the
 * first caller outside the DMA API that made it. Here that is this test
 * function, which maps by dma_map_single() itself and is never inlined
 * (KUnit calls it through a pointer). For an sg list, the stack is taken
 * once for the whole list.
 */
static void rust_debug_report_names_caller(struct kunit *test)
{
	struct device *dev = test_dev(test);
	void *buf = dma_kbuf(test, 2048);
	struct scatterlist sgl[2];
	char needle[64];
	struct misuse m;
	dma_addr_t dma;
	int n;

	snprintf(needle, sizeof(needle), "mapped at %s+", __func__);
	dma = dma_map_single(dev, buf, 2048, DMA_TO_DEVICE);
	KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, dma));
	m = misuse_begin(test);
	dma_unmap_single(dev, dma, 1024, DMA_TO_DEVICE);
	expect_reported(test, m, "frees DMA memory with different size");
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(m.mark, needle, NULL));

	sg_init_table(sgl, 2);
	sg_set_buf(&sgl[0], buf, 512);
	sg_set_buf(&sgl[1], buf + 1024, 512);
	n = dma_map_sg(dev, sgl, 2, DMA_TO_DEVICE);
	KUNIT_ASSERT_GT(test, n, 0);
	m = misuse_begin(test);
	dma_unmap_sg(dev, sgl, 1, DMA_TO_DEVICE);
	KUNIT_EXPECT_TRUE(test, dma_kunit_log_has(m.mark, needle, NULL));
	/* The entry left is unmapped as debug_free_wrong_sg_count() does. */
	if (n == 2) {
		m = misuse_begin(test);
		dma_unmap_sg(dev, &sgl[1], 1, DMA_TO_DEVICE);
		expect_reported(test, m, "different entry count");
	}
}

static struct kunit_case dma_rust_debug_cases[] = {
	KUNIT_CASE(rust_debug_report_names_caller),
	{}
};

static struct kunit_suite dma_rust_debug_suite = {
	.name = "dma_rust_debug",
	.init = debug_init,
	.exit = debug_exit,
	.test_cases = dma_rust_debug_cases,
};

kunit_test_suites(&dma_api_debug_suite, &dma_rust_debug_suite);
#else
kunit_test_suites(&dma_api_debug_suite);
#endif
