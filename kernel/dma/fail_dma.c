// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA fault injection (CONFIG_FAIL_DMA_MAPPING): makes the DMA API fail on
 * purpose, so that drivers' error paths run. Four fault attributes of the
 * kernel's fault-injection framework, each with its boot parameter and its
 * debugfs directory:
 *
 *   fail_dma_map	streaming single and scatterlist maps
 *   fail_dma_alloc	coherent, non-coherent and non-contiguous allocations
 *   fail_dma_pool	dma_pool allocations
 *   fail_dma_iova	IOVA space allocations and links (dma-iommu)
 *
 * Besides the framework's own files (probability, interval, times, space,
 * verbose, task-filter, the stack filters), each directory has "driver":
 * when not empty, only devices bound to the driver of that name fail. A
 * failure is silent where a real one would be (DMA_ATTR_NO_WARN,
 * __GFP_NOWARN).
 *
 * One more file, fail_dma_nth at the root of debugfs, fails the Nth call
 * after N is written to it, counted over the four attributes and within
 * their driver filters, in any context: unlike the framework's per-task
 * fail-nth, it reaches the calls a driver makes from a workqueue or an
 * interrupt. It reads the calls still to go, 0 once the failure came, and
 * logs "fail_dma: failing call N: <kind> of <size> bytes for <device>".
 * The Rust DMA core asks before it maps or allocates; a failure returns
 * what a real one does (DMA_MAPPING_ERROR, 0 entries, NULL).
 */

#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/fail_dma.h>
#include <linux/fault-inject.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#define DRIVER_LEN 64

struct fail_dma {
	struct fault_attr attr;
	/* What it fails, for the log. */
	const char *kind;
	/* Only devices bound to this driver fail; all when empty. */
	char driver[DRIVER_LEN];
};

static struct fail_dma fail_dma_map = {
	.attr = FAULT_ATTR_INITIALIZER, .kind = "map",
};
static struct fail_dma fail_dma_alloc = {
	.attr = FAULT_ATTR_INITIALIZER, .kind = "allocation",
};
static struct fail_dma fail_dma_pool = {
	.attr = FAULT_ATTR_INITIALIZER, .kind = "pool allocation",
};
static struct fail_dma fail_dma_iova = {
	.attr = FAULT_ATTR_INITIALIZER, .kind = "IOVA",
};

/* The calls to go before the one fail_dma_nth fails; 0 when disarmed. */
static atomic_t fail_dma_nth = ATOMIC_INIT(0);
/* The N last written to fail_dma_nth, for the log. */
static unsigned int fail_dma_nth_armed;

static int __init setup_fail_dma_map(char *str)
{
	return setup_fault_attr(&fail_dma_map.attr, str);
}
__setup("fail_dma_map=", setup_fail_dma_map);

static int __init setup_fail_dma_alloc(char *str)
{
	return setup_fault_attr(&fail_dma_alloc.attr, str);
}
__setup("fail_dma_alloc=", setup_fail_dma_alloc);

static int __init setup_fail_dma_pool(char *str)
{
	return setup_fault_attr(&fail_dma_pool.attr, str);
}
__setup("fail_dma_pool=", setup_fail_dma_pool);

static int __init setup_fail_dma_iova(char *str)
{
	return setup_fault_attr(&fail_dma_iova.attr, str);
}
__setup("fail_dma_iova=", setup_fail_dma_iova);

/* Guards the driver names, written through debugfs, read by the checks. */
static DEFINE_SPINLOCK(fail_dma_driver_lock);

/* Whether @dev is bound to the driver @f is limited to, if any. */
static bool fail_dma_driver_ok(struct fail_dma *f, struct device *dev)
{
	const struct device_driver *drv;
	unsigned long flags;
	bool ok;

	if (!READ_ONCE(f->driver[0]))
		return true;
	drv = dev ? READ_ONCE(dev->driver) : NULL;
	if (!drv)
		return false;
	spin_lock_irqsave(&fail_dma_driver_lock, flags);
	ok = !strcmp(drv->name, f->driver);
	spin_unlock_irqrestore(&fail_dma_driver_lock, flags);
	return ok;
}

/*
 * The cheap test first: nothing is asked of most kernels. A task's
 * fail-nth counter applies whatever the probability.
 */
static bool fail_dma_armed(struct fail_dma *f)
{
	return READ_ONCE(f->attr.probability) || atomic_read(&fail_dma_nth) ||
	       (in_task() && READ_ONCE(current->fail_nth));
}

static bool fail_dma_should(struct fail_dma *f, struct device *dev,
			    size_t size, bool nowarn)
{
	int left;

	if (!fail_dma_armed(f) || !fail_dma_driver_ok(f, dev))
		return false;
	left = atomic_dec_if_positive(&fail_dma_nth);
	if (!left) {
		pr_info("fail_dma: failing call %u: %s of %zu bytes for %s\n",
			READ_ONCE(fail_dma_nth_armed), f->kind, size,
			dev ? dev_name(dev) : "no device");
		return true;
	}
	if (left > 0)
		return false;
	return should_fail_ex(&f->attr, size, nowarn ? FAULT_NOWARN : 0);
}

bool fail_dma_map_should(struct device *dev, size_t size, unsigned long attrs)
{
	return fail_dma_should(&fail_dma_map, dev, size,
			       attrs & DMA_ATTR_NO_WARN);
}

bool fail_dma_map_sg_should(struct device *dev, struct scatterlist *sgl,
			    int nents, unsigned long attrs)
{
	struct scatterlist *sg;
	size_t size = 0;
	int i;

	if (!fail_dma_armed(&fail_dma_map))
		return false;
	for_each_sg(sgl, sg, nents, i)
		size += sg->length;
	return fail_dma_map_should(dev, size, attrs);
}

bool fail_dma_alloc_should(struct device *dev, size_t size, gfp_t gfp)
{
	return fail_dma_should(&fail_dma_alloc, dev, size, gfp & __GFP_NOWARN);
}

bool fail_dma_pool_should(struct device *dev, size_t size, gfp_t gfp)
{
	return fail_dma_should(&fail_dma_pool, dev, size, gfp & __GFP_NOWARN);
}

/* Called by dma-iommu, whose callers fall back or fail on their own. */
bool fail_dma_iova_should(struct device *dev, size_t size)
{
	return fail_dma_should(&fail_dma_iova, dev, size, false);
}

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
static ssize_t driver_read(struct file *file, char __user *ubuf, size_t count,
			   loff_t *ppos)
{
	struct fail_dma *f = file->private_data;
	char buf[DRIVER_LEN + 1];
	unsigned long flags;
	int len;

	spin_lock_irqsave(&fail_dma_driver_lock, flags);
	len = scnprintf(buf, sizeof(buf), "%s\n", f->driver);
	spin_unlock_irqrestore(&fail_dma_driver_lock, flags);
	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static ssize_t driver_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct fail_dma *f = file->private_data;
	char buf[DRIVER_LEN + 1] = {};
	unsigned long flags;
	char *name;

	if (count > DRIVER_LEN)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	name = strim(buf);
	if (strlen(name) >= DRIVER_LEN)
		return -EINVAL;
	spin_lock_irqsave(&fail_dma_driver_lock, flags);
	strscpy(f->driver, name, DRIVER_LEN);
	spin_unlock_irqrestore(&fail_dma_driver_lock, flags);
	return count;
}

static const struct file_operations driver_fops = {
	.open = simple_open,
	.read = driver_read,
	.write = driver_write,
	.llseek = default_llseek,
};

static int fail_dma_nth_get(void *data, u64 *val)
{
	*val = atomic_read(&fail_dma_nth);
	return 0;
}

static int fail_dma_nth_set(void *data, u64 val)
{
	if (val > INT_MAX)
		return -EINVAL;
	WRITE_ONCE(fail_dma_nth_armed, val);
	atomic_set(&fail_dma_nth, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(fail_dma_nth_fops, fail_dma_nth_get, fail_dma_nth_set,
			 "%llu\n");

static void __init fail_dma_debugfs(const char *name, struct fail_dma *f)
{
	struct dentry *dir = fault_create_debugfs_attr(name, NULL, &f->attr);

	if (!IS_ERR(dir))
		debugfs_create_file("driver", 0600, dir, f, &driver_fops);
}

static int __init fail_dma_debugfs_init(void)
{
	fail_dma_debugfs("fail_dma_map", &fail_dma_map);
	fail_dma_debugfs("fail_dma_alloc", &fail_dma_alloc);
	fail_dma_debugfs("fail_dma_pool", &fail_dma_pool);
	fail_dma_debugfs("fail_dma_iova", &fail_dma_iova);
	debugfs_create_file_unsafe("fail_dma_nth", 0600, NULL, NULL,
				   &fail_dma_nth_fops);
	return 0;
}
late_initcall(fail_dma_debugfs_init);
#endif /* CONFIG_FAULT_INJECTION_DEBUG_FS */
