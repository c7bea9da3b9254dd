/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shared helpers of the DMA-mapping API conformance suite.
 *
 * The suite is black-box: it drives <linux/dma-mapping.h> and
 * <linux/dmapool.h> and observes only what a driver or an administrator can
 * observe: bytes a device moved, return values, the kernel log, and the
 * debugfs files under dma-api/.
 */
#ifndef _DMA_API_KUNIT_H
#define _DMA_API_KUNIT_H

#include <kunit/test.h>
#include <linux/dma-mapping.h>
#include <linux/pci.h>

/*
 * QEMU's edu device: a DMA engine with a 28-bit mask and a 4 KiB buffer. On
 * arm64's virt machine, whose RAM starts at 1 GiB, the QEMU setups raise
 * the mask edu decodes (dma_setups.py) and the tests claim 32 bits.
 */
#ifdef CONFIG_ARM64
#define EDU_DMA_BITS		32
#else
#define EDU_DMA_BITS		28
#endif
/* One byte short of edu's buffer: QEMU 7.2 aborts on a transfer to its end. */
#define EDU_MAX_XFER		4095

struct edu {
	struct pci_dev *pdev;
	void __iomem *mmio;
	u64 saved_mask;
	u64 saved_coherent_mask;
};

/* The QEMU setup a test runs in, as far as a driver can tell. */
enum dma_setup {
	DMA_SETUP_PLAIN,	/* dma-direct */
	DMA_SETUP_SWIOTLB,	/* swiotlb=force */
	DMA_SETUP_IOMMU,	/* the device is behind a translating IOMMU */
};

/*
 * Suite init for tests that need edu: finds it, enables bus mastering, sets
 * its 28-bit masks and stores it in test->priv; skips the test without it.
 */
int dma_kunit_edu_init(struct kunit *test);
/*
 * The same for an edu embedded in a suite's own context, which must start
 * with the struct edu: test->priv points to both.
 */
void dma_kunit_edu_setup(struct kunit *test, struct edu *edu);
/* Suite exit matching dma_kunit_edu_init(): restores the masks. */
void dma_kunit_edu_exit(struct kunit *test);

static inline struct edu *test_edu(struct kunit *test)
{
	return test->priv;
}

static inline struct device *test_dev(struct kunit *test)
{
	return &test_edu(test)->pdev->dev;
}

/*
 * One transfer of edu's DMA engine between the DMA address @addr and offset
 * @off of edu's buffer; waits for it. Returns 0, -EINVAL or -ETIMEDOUT.
 */
int edu_dma(struct edu *edu, dma_addr_t addr, u32 off, u32 len, bool to_ram);

/*
 * edu fetches @len bytes at @from into its buffer and stores them at @to;
 * the test fails if either transfer does.
 */
void edu_copy(struct kunit *test, dma_addr_t from, dma_addr_t to, size_t len);

enum dma_setup dma_kunit_setup(struct device *dev);
void dma_kunit_set_small_mask(struct kunit *test, struct device *dev, int bits);
struct page *dma_kunit_page_above(struct kunit *test, u64 limit);
const char *dma_kunit_setup_name(enum dma_setup setup);

/* A point in the kernel log; dma_kunit_log_has() looks after it. */
u64 dma_kunit_log_mark(void);
bool dma_kunit_log_has(u64 mark, const char *needle, const char *needle2);

/*
 * The dma-api/ debugfs files, read and written as an administrator would.
 * dma_kunit_debugfs_read() returns the file's text in @buf (NUL-terminated)
 * or a negative errno; dma_kunit_counter() parses a numeric file.
 */
int dma_kunit_debugfs_read(const char *name, char *buf, size_t size);
int dma_kunit_debugfs_write(const char *name, const char *text);
long dma_kunit_counter(struct kunit *test, const char *name);
/* The same for the files of another debugfs directory, such as swiotlb/. */
int dma_kunit_debugfs_read_in(const char *dir, const char *name, char *buf,
			      size_t size);
int dma_kunit_debugfs_write_in(const char *dir, const char *name,
			       const char *text);
long dma_kunit_counter_in(struct kunit *test, const char *dir,
			  const char *name);

/*
 * The swiotlb suites: edu, skipping the test unless every mapping bounces
 * (the swiotlb setup); the slots in use (debugfs swiotlb/io_tlb_used); and
 * the suite exit, which also clears edu's min_align_mask.
 */
struct device *dma_kunit_bounce_dev(struct kunit *test);
long dma_kunit_tlb_used(struct kunit *test);
void dma_kunit_swiotlb_exit(struct kunit *test);

/* A sysfs file by its path under /sys, like dma_kunit_debugfs_read(). */
int dma_kunit_sysfs_read(const char *path, char *buf, size_t size);

/*
 * The recorder of arch_sync_dma_for_{device,cpu}() calls of
 * noncoherent_arch.c, for the safe Rust API's tests (rust/kernel/dma/
 * tests.rs), where the architecture has the hooks: begin registers the
 * probes and records the calling task's calls; end stops and returns how
 * many calls were recorded (UINT_MAX if some were lost); bytes says how
 * many bytes the recorded calls of one hook (0: for_device, 1: for_cpu) in
 * direction @dir cover within @len bytes at @dma of @dev.
 */
int dma_kunit_rec_begin(void);
unsigned int dma_kunit_rec_end(void);
size_t dma_kunit_rec_bytes(struct device *dev, int hook, dma_addr_t dma,
			   size_t len, int dir);
bool dma_kunit_dev_coherent(struct device *dev);

/* The counters of the soak engine (soak.c). */
struct dma_soak_stats {
	atomic64_t ops;			/* rounds done, all threads */
	atomic64_t bytes;		/* bytes checked */
	atomic64_t map_failures;	/* maps that failed: allowed */
	atomic64_t alloc_failures;	/* allocations that failed: allowed */
	atomic64_t corrupt;		/* checks that failed: never allowed */
};

/*
 * Runs the soak engine on @dev: @threads workers and a pool torture thread,
 * @rounds rounds each, or until the jiffies @deadline when @rounds is 0,
 * or until *@stop. Returns when all have ended: 0, or a negative errno if
 * the engine could not start (some threads may have run).
 */
int dma_soak_run(struct device *dev, unsigned int threads, unsigned long rounds,
		 unsigned long deadline, const bool *stop,
		 struct dma_soak_stats *st);

#endif /* _DMA_API_KUNIT_H */
