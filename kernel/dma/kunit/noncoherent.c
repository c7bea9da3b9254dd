// SPDX-License-Identifier: GPL-2.0-only
/*
 * Conformance suite, Part II of dma-api.rst: non-coherent and
 * non-contiguous allocations, dma_get_sgtable() and mmap of DMA buffers to
 * user space.
 *
 * The mmap tests map a buffer into a KUnit-owned user address space through
 * a file whose ->mmap calls dma_mmap_coherent() or dma_mmap_pages(), then
 * write and read it through the user mapping.
 */

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/random.h>
#include <linux/uaccess.h>

#include "dma_api_kunit.h"

#define XFER	3000

/* edu copies @len random bytes into @to through its buffer. */
static void device_fill(struct kunit *test, dma_addr_t to, u8 *expect,
			size_t len)
{
	struct device *dev = test_dev(test);
	dma_addr_t src_dma;
	u8 *src;

	src = dma_alloc_coherent(dev, PAGE_SIZE, &src_dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, src);
	get_random_bytes(src, len);
	memcpy(expect, src, len);
	edu_copy(test, src_dma, to, len);
	dma_free_coherent(dev, PAGE_SIZE, src, src_dma);
}

/* edu copies @len bytes from @from into @got through its buffer. */
static void device_fetch(struct kunit *test, dma_addr_t from, u8 *got,
			 size_t len)
{
	struct device *dev = test_dev(test);
	dma_addr_t dst_dma;
	u8 *dst;

	dst = dma_alloc_coherent(dev, PAGE_SIZE, &dst_dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dst);
	edu_copy(test, from, dst_dma, len);
	memcpy(got, dst, len);
	dma_free_coherent(dev, PAGE_SIZE, dst, dst_dma);
}

/*
 * Non-coherent memory at @cpu/@dma: the device writes and the CPU reads
 * after dma_sync_single_for_cpu(); the CPU writes and the device reads
 * after dma_sync_single_for_device().
 */
static void noncoherent_roundtrip(struct kunit *test, u8 *cpu, dma_addr_t dma,
				  enum dma_data_direction dir)
{
	struct device *dev = test_dev(test);
	u8 *expect = kunit_kmalloc(test, XFER, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, expect);
	device_fill(test, dma, expect, XFER);
	dma_sync_single_for_cpu(dev, dma, XFER, dir);
	KUNIT_EXPECT_MEMEQ(test, cpu, expect, XFER);

	get_random_bytes(cpu, XFER);
	dma_sync_single_for_device(dev, dma, XFER, dir);
	device_fetch(test, dma, expect, XFER);
	KUNIT_EXPECT_MEMEQ(test, expect, cpu, XFER);
}

/* dma_alloc_pages(): pages the device reaches, handed over by syncs. */
static void noncoherent_alloc_pages(struct kunit *test)
{
	struct device *dev = test_dev(test);
	const size_t size = 2 * PAGE_SIZE;
	struct page *page;
	dma_addr_t dma;

	page = dma_alloc_pages(dev, size, &dma, DMA_BIDIRECTIONAL, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, page);
	KUNIT_EXPECT_LE(test, dma + size - 1, dev->coherent_dma_mask);
	noncoherent_roundtrip(test, page_address(page), dma, DMA_BIDIRECTIONAL);
	dma_free_pages(dev, size, page, dma, DMA_BIDIRECTIONAL);
}

/* dma_alloc_noncoherent(): the same, through a kernel address. */
static void noncoherent_alloc_noncoherent(struct kunit *test)
{
	struct device *dev = test_dev(test);
	const size_t size = 5000;
	dma_addr_t dma;
	void *cpu;

	cpu = dma_alloc_noncoherent(dev, size, &dma, DMA_BIDIRECTIONAL,
				    GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cpu);
	KUNIT_EXPECT_LE(test, dma + size - 1, dev->coherent_dma_mask);
	noncoherent_roundtrip(test, cpu, dma, DMA_BIDIRECTIONAL);
	dma_free_noncoherent(dev, size, cpu, dma, DMA_BIDIRECTIONAL);
}

/*
 * dma_alloc_noncontiguous() with dma_vmap_noncontiguous(): the CPU's
 * contiguous view and the device's mapped segments are the same bytes.
 */
static void noncoherent_noncontiguous_vmap(struct kunit *test)
{
	struct device *dev = test_dev(test);
	const size_t size = 4 * PAGE_SIZE;
	struct scatterlist *sg;
	struct sg_table *sgt;
	size_t off = 0;
	u8 *vaddr, *got;
	int i;

	got = kunit_kmalloc(test, XFER, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, got);
	sgt = dma_alloc_noncontiguous(dev, size, DMA_BIDIRECTIONAL, GFP_KERNEL, 0);
	KUNIT_ASSERT_NOT_NULL(test, sgt);
	vaddr = dma_vmap_noncontiguous(dev, size, sgt);
	KUNIT_EXPECT_NOT_NULL(test, vaddr);
	if (!vaddr)
		goto free;

	get_random_bytes(vaddr, size);
	flush_kernel_vmap_range(vaddr, size);
	dma_sync_sgtable_for_device(dev, sgt, DMA_BIDIRECTIONAL);
	/* Each mapped segment, fetched by the device, is that stretch of vaddr. */
	for_each_sgtable_dma_sg(sgt, sg, i) {
		size_t len = min_t(size_t, sg_dma_len(sg), XFER);

		device_fetch(test, sg_dma_address(sg), got, len);
		KUNIT_EXPECT_MEMEQ_MSG(test, got, vaddr + off, len, "segment %d", i);
		off += sg_dma_len(sg);
	}
	KUNIT_EXPECT_EQ(test, off, size);

	/* The device writes the first segment; the CPU sees it through vaddr. */
	device_fill(test, sg_dma_address(sgt->sgl), got, XFER);
	dma_sync_sgtable_for_cpu(dev, sgt, DMA_BIDIRECTIONAL);
	invalidate_kernel_vmap_range(vaddr, size);
	KUNIT_EXPECT_MEMEQ(test, vaddr, got,
			   min_t(size_t, XFER, sg_dma_len(sgt->sgl)));
	dma_vunmap_noncontiguous(dev, vaddr);
free:
	dma_free_noncontiguous(dev, size, sgt, DMA_BIDIRECTIONAL);
}

/* dma_get_sgtable(): the table describes exactly the coherent buffer's pages. */
static void noncoherent_get_sgtable(struct kunit *test)
{
	struct device *dev = test_dev(test);
	const size_t size = 3 * PAGE_SIZE;
	struct sg_page_iter piter;
	struct sg_table sgt;
	size_t off = 0;
	dma_addr_t dma;
	u8 *cpu;

	cpu = dma_alloc_coherent(dev, size, &dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, cpu);
	get_random_bytes(cpu, size);
	KUNIT_EXPECT_EQ(test, dma_get_sgtable(dev, &sgt, cpu, dma, size), 0);
	for_each_sgtable_page(&sgt, &piter, 0) {
		void *p = kmap_local_page(sg_page_iter_page(&piter));

		KUNIT_EXPECT_MEMEQ_MSG(test, p, cpu + off, PAGE_SIZE,
				       "page at %zu", off);
		kunmap_local(p);
		off += PAGE_SIZE;
	}
	KUNIT_EXPECT_EQ(test, off, size);
	sg_free_table(&sgt);
	dma_free_coherent(dev, size, cpu, dma);
}

/* What the test file's ->mmap maps: a coherent buffer or pages. */
struct mmap_target {
	struct device *dev;
	void *cpu;
	struct page *page;
	dma_addr_t dma;
	size_t size;
};

static int target_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct mmap_target *t = file->private_data;

	if (t->page)
		return dma_mmap_pages(t->dev, vma, t->size, t->page);
	return dma_mmap_coherent(t->dev, vma, t->cpu, t->dma, t->size);
}

static const struct file_operations target_fops = {
	.owner = THIS_MODULE,
	.mmap = target_mmap,
};

/* Map @t into the test's user address space; 0 or an errno on failure. */
static unsigned long user_map(struct kunit *test, struct mmap_target *t,
			      size_t len)
{
	struct file *file;
	unsigned long addr;

	file = anon_inode_getfile("dma-kunit", &target_fops, t, O_RDWR);
	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	addr = kunit_vm_mmap(test, file, 0, len, PROT_READ | PROT_WRITE,
			     MAP_SHARED, 0);
	fput(file);
	return addr;
}

/*
 * User space, the CPU and the device share one buffer: user writes reach
 * the device, device writes reach user space.
 */
static void user_view(struct kunit *test, struct mmap_target *t, u8 *kview)
{
	u8 *data = kunit_kmalloc(test, XFER, GFP_KERNEL);
	u8 *got = kunit_kzalloc(test, XFER, GFP_KERNEL);
	unsigned long addr;

	KUNIT_ASSERT_NOT_NULL(test, data);
	KUNIT_ASSERT_NOT_NULL(test, got);
	addr = user_map(test, t, t->size);
	KUNIT_ASSERT_FALSE_MSG(test, !addr || IS_ERR_VALUE(addr),
			       "mmap of the DMA buffer failed: %ld", (long)addr);

	/* User space writes; the kernel view and the device see it. */
	get_random_bytes(data, XFER);
	KUNIT_EXPECT_EQ(test, copy_to_user((void __user *)addr, data, XFER), 0);
	KUNIT_EXPECT_MEMEQ(test, kview, data, XFER);
	if (t->page)
		dma_sync_single_for_device(t->dev, t->dma, XFER,
					   DMA_BIDIRECTIONAL);
	device_fetch(test, t->dma, got, XFER);
	KUNIT_EXPECT_MEMEQ(test, got, data, XFER);

	/* The device writes; user space sees it. */
	device_fill(test, t->dma, data, XFER);
	if (t->page)
		dma_sync_single_for_cpu(t->dev, t->dma, XFER, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, copy_from_user(got, (void __user *)addr, XFER), 0);
	KUNIT_EXPECT_MEMEQ(test, got, data, XFER);
	vm_munmap(addr, t->size);
}

/* dma_mmap_coherent(): a coherent buffer in user space. */
static void mmap_coherent(struct kunit *test)
{
	struct mmap_target t = { .dev = test_dev(test), .size = 2 * PAGE_SIZE };

	KUNIT_EXPECT_TRUE(test, dma_can_mmap(t.dev));
	t.cpu = dma_alloc_coherent(t.dev, t.size, &t.dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t.cpu);
	user_view(test, &t, t.cpu);
	dma_free_coherent(t.dev, t.size, t.cpu, t.dma);
}

/* dma_mmap_pages(): dma_alloc_pages() memory in user space. */
static void mmap_pages(struct kunit *test)
{
	struct mmap_target t = { .dev = test_dev(test), .size = 2 * PAGE_SIZE };

	t.page = dma_alloc_pages(t.dev, t.size, &t.dma, DMA_BIDIRECTIONAL,
				 GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t.page);
	user_view(test, &t, page_address(t.page));
	dma_free_pages(t.dev, t.size, t.page, t.dma, DMA_BIDIRECTIONAL);
}

/* A user mapping larger than the buffer is refused; nothing is mapped. */
static void mmap_rejects_oversized(struct kunit *test)
{
	struct mmap_target t = { .dev = test_dev(test), .size = PAGE_SIZE };
	unsigned long addr;

	t.cpu = dma_alloc_coherent(t.dev, t.size, &t.dma, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t.cpu);
	addr = user_map(test, &t, 4 * PAGE_SIZE);
	KUNIT_EXPECT_TRUE_MSG(test, !addr || IS_ERR_VALUE(addr), "mapped at %#lx",
			      addr);
	if (addr && !IS_ERR_VALUE(addr))
		vm_munmap(addr, 4 * PAGE_SIZE);
	dma_free_coherent(t.dev, t.size, t.cpu, t.dma);
}

static struct kunit_case dma_api_noncoherent_cases[] = {
	KUNIT_CASE_SLOW(noncoherent_alloc_pages),
	KUNIT_CASE_SLOW(noncoherent_alloc_noncoherent),
	KUNIT_CASE_SLOW(noncoherent_noncontiguous_vmap),
	KUNIT_CASE(noncoherent_get_sgtable),
	KUNIT_CASE_SLOW(mmap_coherent),
	KUNIT_CASE_SLOW(mmap_pages),
	KUNIT_CASE(mmap_rejects_oversized),
	{}
};

static struct kunit_suite dma_api_noncoherent_suite = {
	.name = "dma_api_noncoherent",
	.init = dma_kunit_edu_init,
	.exit = dma_kunit_edu_exit,
	.test_cases = dma_api_noncoherent_cases,
};

kunit_test_suites(&dma_api_noncoherent_suite);
