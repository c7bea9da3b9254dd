// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conformance suite for the DMA-mapping API.
 *
 * A black-box test of the C ABI in <linux/dma-mapping.h>, following
 * Documentation/core-api/dma-api.rst part by part. It judges whichever
 * implementation is built, the C one or the Rust one, and must give both
 * the same verdicts.
 *
 * Tests that need a device use QEMU's "edu" PCI device (1234:11e8). Its DMA
 * engine copies between RAM and a 4 KiB buffer inside the device, so a test
 * can check the bytes a device really read and wrote. Without edu, those
 * tests are skipped with a reason.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/pci.h>
#include <linux/random.h>

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_REG_ID		0x00
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_CMD_RUN		BIT(0)
#define EDU_CMD_TO_RAM		BIT(1)
#define EDU_BUF_ADDR		0x40000
/*
 * QEMU 7.2 aborts the VM when a transfer ends exactly at the end of edu's
 * 4 KiB buffer, so stay one byte short of it.
 */
#define EDU_MAX_XFER		4095
#define EDU_DMA_BITS		28

struct edu {
	struct pci_dev *pdev;
	void __iomem *mmio;
};

/* Find edu, enable it as a bus master and give it its 28-bit mask. */
static int edu_get(struct kunit *test, struct edu *edu)
{
	int ret;

	edu->pdev = pci_get_device(EDU_VENDOR, EDU_DEVICE, NULL);
	if (!edu->pdev)
		return -ENODEV;
	ret = pci_enable_device(edu->pdev);
	if (ret)
		goto put;
	pci_set_master(edu->pdev);
	edu->mmio = pci_iomap(edu->pdev, 0, 0);
	if (!edu->mmio) {
		ret = -ENOMEM;
		goto disable;
	}
	ret = dma_set_mask_and_coherent(&edu->pdev->dev,
					DMA_BIT_MASK(EDU_DMA_BITS));
	if (ret)
		goto unmap;
	KUNIT_EXPECT_EQ(test, ioread32(edu->mmio + EDU_REG_ID) >> 16, 0x0100);
	return 0;
unmap:
	pci_iounmap(edu->pdev, edu->mmio);
disable:
	pci_clear_master(edu->pdev);
	pci_disable_device(edu->pdev);
put:
	pci_dev_put(edu->pdev);
	return ret;
}

static void edu_put(struct edu *edu)
{
	pci_iounmap(edu->pdev, edu->mmio);
	pci_clear_master(edu->pdev);
	pci_disable_device(edu->pdev);
	pci_dev_put(edu->pdev);
}

/*
 * Run one transfer of edu's DMA engine between @addr and offset @off of its
 * internal buffer, and wait for it to finish.
 */
static int edu_dma(struct edu *edu, dma_addr_t addr, u32 off, u32 len,
		   bool to_ram)
{
	u64 buf = EDU_BUF_ADDR + off;
	int i;

	if (off + len > EDU_MAX_XFER)
		return -EINVAL;
	writeq(to_ram ? buf : addr, edu->mmio + EDU_REG_DMA_SRC);
	writeq(to_ram ? addr : buf, edu->mmio + EDU_REG_DMA_DST);
	writeq(len, edu->mmio + EDU_REG_DMA_COUNT);
	writeq(EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0),
	       edu->mmio + EDU_REG_DMA_CMD);
	/* edu finishes a transfer about 100 ms of guest time later. */
	for (i = 0; i < 250; i++) {
		if (!(readq(edu->mmio + EDU_REG_DMA_CMD) & EDU_CMD_RUN))
			return 0;
		msleep(20);
	}
	return -ETIMEDOUT;
}

static int dma_api_init(struct kunit *test)
{
	struct edu *edu = kunit_kzalloc(test, sizeof(*edu), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, edu);
	if (edu_get(test, edu))
		kunit_skip(test, "no QEMU edu device (-device edu)");
	test->priv = edu;
	return 0;
}

static void dma_api_exit(struct kunit *test)
{
	struct edu *edu = test->priv;

	if (edu)
		edu_put(edu);
}

static struct device *edu_dev(struct kunit *test)
{
	return &((struct edu *)test->priv)->pdev->dev;
}

/* Part Ia: coherent memory is zeroed, page-aligned and within the mask. */
static void coherent_alloc_zeroed_aligned_in_mask(struct kunit *test)
{
	static const size_t sizes[] = { 1, 100, PAGE_SIZE, 3 * PAGE_SIZE + 5,
					64 * 1024 };
	struct device *dev = edu_dev(test);
	int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t size = sizes[i];
		dma_addr_t handle;
		u8 *cpu;

		cpu = dma_alloc_coherent(dev, size, &handle, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL_MSG(test, cpu, "size %zu", size);
		KUNIT_EXPECT_TRUE_MSG(test, mem_is_zero(cpu, size),
				      "size %zu not zeroed", size);
		KUNIT_EXPECT_TRUE(test, PAGE_ALIGNED(cpu));
		KUNIT_EXPECT_EQ(test, handle & ~PAGE_MASK, 0);
		KUNIT_EXPECT_LE_MSG(test, handle + size - 1,
				    dev->coherent_dma_mask,
				    "size %zu at %pad", size, &handle);
		dma_free_coherent(dev, size, cpu, handle);
	}
}

/*
 * Part Ia: the device reads and writes coherent memory. edu copies a random
 * pattern from one buffer into its own memory and back into a second
 * buffer; the second buffer must then hold the pattern.
 */
static void coherent_device_reads_and_writes(struct kunit *test)
{
	struct edu *edu = test->priv;
	struct device *dev = edu_dev(test);
	const size_t len = 3000;
	dma_addr_t src_dma, dst_dma;
	u8 *src, *dst;

	src = dma_alloc_coherent(dev, PAGE_SIZE, &src_dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, src);
	dst = dma_alloc_coherent(dev, PAGE_SIZE, &dst_dma, GFP_KERNEL);
	if (!dst)
		dma_free_coherent(dev, PAGE_SIZE, src, src_dma);
	KUNIT_ASSERT_NOT_NULL(test, dst);

	get_random_bytes(src, len);
	memset(dst, 0x5a, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, edu_dma(edu, src_dma, 0, len, false), 0);
	KUNIT_EXPECT_EQ(test, edu_dma(edu, dst_dma, 0, len, true), 0);
	KUNIT_EXPECT_MEMEQ(test, dst, src, len);
	/* Bytes past the transfer are untouched. */
	KUNIT_EXPECT_TRUE(test, dst[len] == 0x5a && dst[PAGE_SIZE - 1] == 0x5a);

	dma_free_coherent(dev, PAGE_SIZE, dst, dst_dma);
	dma_free_coherent(dev, PAGE_SIZE, src, src_dma);
}

static struct kunit_case dma_api_coherent_cases[] = {
	KUNIT_CASE(coherent_alloc_zeroed_aligned_in_mask),
	KUNIT_CASE_SLOW(coherent_device_reads_and_writes),
	{}
};

static struct kunit_suite dma_api_coherent_suite = {
	.name = "dma_api_coherent",
	.init = dma_api_init,
	.exit = dma_api_exit,
	.test_cases = dma_api_coherent_cases,
};

kunit_test_suites(&dma_api_coherent_suite);

MODULE_DESCRIPTION("Conformance suite for the DMA-mapping API");
MODULE_LICENSE("GPL");
