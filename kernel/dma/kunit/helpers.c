// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers of the DMA-mapping API conformance suite: QEMU's edu device, the
 * QEMU setup, the kernel log, the dma-api/ debugfs files and sysfs.
 */

#include <linux/delay.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/io.h>
#include <linux/iommu.h>
#include <linux/kmsg_dump.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/mount.h>
#include <linux/sizes.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <linux/memblock.h>
#include <linux/swiotlb.h>

#include "dma_api_kunit.h"

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

static int edu_get(struct edu *edu)
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
	if ((ioread32(edu->mmio + EDU_REG_ID) >> 16) != 0x0100) {
		ret = -ENODEV;
		goto unmap;
	}
	edu->saved_mask = dma_get_mask(&edu->pdev->dev);
	edu->saved_coherent_mask = edu->pdev->dev.coherent_dma_mask;
	ret = dma_set_mask_and_coherent(&edu->pdev->dev,
					DMA_BIT_MASK(EDU_DMA_BITS));
	if (ret)
		goto unmap;
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

void dma_kunit_edu_setup(struct kunit *test, struct edu *edu)
{
	if (edu_get(edu))
		kunit_skip(test, "no QEMU edu device (-device edu)");
	test->priv = edu;
}

int dma_kunit_edu_init(struct kunit *test)
{
	struct edu *edu = kunit_kzalloc(test, sizeof(*edu), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, edu);
	dma_kunit_edu_setup(test, edu);
	return 0;
}

void dma_kunit_edu_exit(struct kunit *test)
{
	struct edu *edu = test->priv;

	if (!edu)
		return;
	dma_set_mask(&edu->pdev->dev, edu->saved_mask);
	dma_set_coherent_mask(&edu->pdev->dev, edu->saved_coherent_mask);
	pci_iounmap(edu->pdev, edu->mmio);
	pci_clear_master(edu->pdev);
	pci_disable_device(edu->pdev);
	pci_dev_put(edu->pdev);
}

struct device *dma_kunit_bounce_dev(struct kunit *test)
{
	struct device *dev = test_dev(test);

	if (dma_kunit_setup(dev) != DMA_SETUP_SWIOTLB)
		kunit_skip(test, "needs swiotlb=force (swiotlb setup)");
	return dev;
}

long dma_kunit_tlb_used(struct kunit *test)
{
	return dma_kunit_counter_in(test, "swiotlb", "io_tlb_used");
}

void dma_kunit_swiotlb_exit(struct kunit *test)
{
	if (test->priv)
		dma_set_min_align_mask(test_dev(test), 0);
	dma_kunit_edu_exit(test);
}

int edu_dma(struct edu *edu, dma_addr_t addr, u32 off, u32 len, bool to_ram)
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

void edu_copy(struct kunit *test, dma_addr_t from, dma_addr_t to, size_t len)
{
	struct edu *edu = test_edu(test);

	KUNIT_ASSERT_EQ(test, edu_dma(edu, from, 0, len, false), 0);
	KUNIT_ASSERT_EQ(test, edu_dma(edu, to, 0, len, true), 0);
}

enum dma_setup dma_kunit_setup(struct device *dev)
{
	if (device_iommu_mapped(dev) &&
	    iommu_get_domain_for_dev(dev)->type & __IOMMU_DOMAIN_PAGING)
		return DMA_SETUP_IOMMU;
	if (is_swiotlb_force_bounce(dev))
		return DMA_SETUP_SWIOTLB;
	return DMA_SETUP_PLAIN;
}

/*
 * Sets a streaming mask of @bits, smaller than some of RAM, for the tests of
 * memory a device cannot reach. Where dma-direct refuses the mask because
 * no RAM at all lies below it (arm64's virt: RAM starts at 1 GiB), there is
 * no such test to make, and the test is skipped.
 */
void dma_kunit_set_small_mask(struct kunit *test, struct device *dev, int bits)
{
	int ret = dma_set_mask(dev, DMA_BIT_MASK(bits));

	if (ret == -EIO && dma_kunit_setup(dev) != DMA_SETUP_IOMMU &&
	    PFN_PHYS(min_low_pfn) > DMA_BIT_MASK(bits))
		kunit_skip(test, "no RAM below %d bits: dma-direct refuses the mask", bits);
	KUNIT_ASSERT_EQ(test, ret, 0);
}

static void dma_kunit_free_page(void *page)
{
	__free_page(page);
}

/*
 * A page above @limit, freed when the test ends, even if an assertion
 * stops it. GFP_DMA32 falls back to ZONE_DMA, below 16 MiB, while
 * ZONE_DMA32 is under its watermark (it happened in the 256 MiB swiotlb
 * setup), so low pages are set aside until a high one comes, at most as
 * many as ZONE_DMA holds, and given back after; the test is skipped if
 * none comes.
 */
struct page *dma_kunit_page_above(struct kunit *test, u64 limit)
{
	struct page *page = NULL, *p, *tmp;
	LIST_HEAD(low);
	int n;

	for (n = 0; n < SZ_16M / PAGE_SIZE; n++) {
		page = alloc_page(GFP_KERNEL | GFP_DMA32);
		if (!page || page_to_phys(page) > limit)
			break;
		list_add(&page->lru, &low);
		page = NULL;
	}
	list_for_each_entry_safe(p, tmp, &low, lru) {
		list_del(&p->lru);
		__free_page(p);
	}
	if (!page)
		kunit_skip(test, "no free page above %#llx", limit);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, dma_kunit_free_page, page), 0);
	return page;
}

const char *dma_kunit_setup_name(enum dma_setup setup)
{
	static const char * const names[] = {
		[DMA_SETUP_PLAIN] = "plain",
		[DMA_SETUP_SWIOTLB] = "swiotlb",
		[DMA_SETUP_IOMMU] = "iommu",
	};

	return names[setup];
}

u64 dma_kunit_log_mark(void)
{
	struct kmsg_dump_iter iter;

	kmsg_dump_rewind(&iter);
	return iter.next_seq;
}

bool dma_kunit_log_has(u64 mark, const char *needle, const char *needle2)
{
	struct kmsg_dump_iter iter;
	static char line[1024];
	static DEFINE_MUTEX(line_lock);
	bool found = false;
	size_t len;

	kmsg_dump_rewind(&iter);
	if (iter.cur_seq < mark)
		iter.cur_seq = mark;
	mutex_lock(&line_lock);
	while (!found &&
	       kmsg_dump_get_line(&iter, false, line, sizeof(line) - 1, &len)) {
		line[len] = '\0';
		found = strstr(line, needle) &&
			(!needle2 || strstr(line, needle2));
	}
	mutex_unlock(&line_lock);
	return found;
}

/*
 * A private mount of a pseudo file system, as an administrator's
 * /sys/kernel/debug or /sys: the test kernel's init mounts neither.
 */
static struct vfsmount *private_mount(const char *fstype)
{
	static struct vfsmount *mnts[2];
	static const char * const types[2] = { "debugfs", "sysfs" };
	static DEFINE_MUTEX(mnt_lock);
	struct file_system_type *type;
	struct vfsmount *mnt = NULL;
	int i;

	mutex_lock(&mnt_lock);
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		if (strcmp(types[i], fstype))
			continue;
		if (!mnts[i]) {
			type = get_fs_type(fstype);
			if (type) {
				struct vfsmount *m = vfs_kern_mount(type, 0,
								    fstype,
								    NULL);
				if (!IS_ERR(m))
					mnts[i] = m;
			}
		}
		mnt = mnts[i];
	}
	mutex_unlock(&mnt_lock);
	return mnt;
}

static struct file *pseudo_open(const char *fstype, const char *path,
				int flags)
{
	struct vfsmount *mnt = private_mount(fstype);

	if (!mnt)
		return ERR_PTR(-ENODEV);
	return file_open_root_mnt(mnt, path, flags, 0);
}

static struct file *debugfs_open(const char *dir, const char *name, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return pseudo_open("debugfs", path, flags);
}

/*
 * debugfs attribute files implement only ->read and ->write, which take
 * user buffers, so go through a user buffer in the test's own mm, as an
 * administrator's process would.
 */
static unsigned long user_buf(size_t size)
{
	if (kunit_attach_mm())
		return -ENOMEM;
	return vm_mmap(NULL, 0, size, PROT_READ | PROT_WRITE,
		       MAP_ANONYMOUS | MAP_PRIVATE, 0);
}

/* Reads all of @f into @buf, NUL-terminated, and puts @f. */
static int file_read_all(struct file *f, char *buf, size_t size)
{
	unsigned long ubuf;
	ssize_t n = 0, total = 0;
	loff_t pos = 0;

	if (IS_ERR(f))
		return PTR_ERR(f);
	ubuf = user_buf(size);
	if (IS_ERR_VALUE(ubuf)) {
		fput(f);
		return ubuf;
	}
	while (total < size - 1) {
		n = vfs_read(f, (char __user *)ubuf + total, size - 1 - total,
			     &pos);
		if (n <= 0)
			break;
		total += n;
	}
	fput(f);
	if (copy_from_user(buf, (char __user *)ubuf, total))
		n = -EFAULT;
	vm_munmap(ubuf, size);
	buf[total] = '\0';
	return n < 0 ? n : total;
}

int dma_kunit_debugfs_read_in(const char *dir, const char *name, char *buf,
			      size_t size)
{
	return file_read_all(debugfs_open(dir, name, O_RDONLY), buf, size);
}

int dma_kunit_debugfs_read(const char *name, char *buf, size_t size)
{
	return dma_kunit_debugfs_read_in("dma-api", name, buf, size);
}

int dma_kunit_sysfs_read(const char *path, char *buf, size_t size)
{
	return file_read_all(pseudo_open("sysfs", path, O_RDONLY), buf, size);
}

int dma_kunit_debugfs_write(const char *name, const char *text)
{
	return dma_kunit_debugfs_write_in("dma-api", name, text);
}

int dma_kunit_debugfs_write_in(const char *dir, const char *name,
			       const char *text)
{
	struct file *f = debugfs_open(dir, name, O_WRONLY);
	size_t len = strlen(text);
	unsigned long ubuf;
	loff_t pos = 0;
	ssize_t n;

	if (IS_ERR(f))
		return PTR_ERR(f);
	ubuf = user_buf(len + 1);
	if (IS_ERR_VALUE(ubuf)) {
		fput(f);
		return ubuf;
	}
	n = copy_to_user((char __user *)ubuf, text, len) ? -EFAULT :
	    vfs_write(f, (const char __user *)ubuf, len, &pos);
	fput(f);
	vm_munmap(ubuf, len + 1);
	return n < 0 ? n : 0;
}

long dma_kunit_counter_in(struct kunit *test, const char *dir,
			  const char *name)
{
	char buf[32];
	long val = -1;
	int ret;

	ret = dma_kunit_debugfs_read_in(dir, name, buf, sizeof(buf));
	KUNIT_ASSERT_GE_MSG(test, ret, 0, "reading %s/%s", dir, name);
	KUNIT_ASSERT_EQ_MSG(test, kstrtol(strim(buf), 0, &val), 0,
			    "%s/%s holds \"%s\"", dir, name, buf);
	return val;
}

long dma_kunit_counter(struct kunit *test, const char *name)
{
	return dma_kunit_counter_in(test, "dma-api", name);
}
