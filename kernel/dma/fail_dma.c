// SPDX-License-Identifier: GPL-2.0-only
/*
 * DMA fault injection (CONFIG_FAIL_DMA_MAPPING): makes the DMA API fail on
 * purpose, so that drivers' error paths run. Three fault attributes of the
 * kernel's fault-injection framework, each with its boot parameter and its
 * debugfs directory:
 *
 *   fail_dma_map	streaming single and scatterlist maps
 *   fail_dma_alloc	coherent, non-coherent and non-contiguous allocations
 *   fail_dma_pool	dma_pool allocations
 *
 * Besides the framework's own files (probability, interval, times, space,
 * verbose, task-filter, the stack filters), each directory has "driver":
 * when not empty, only devices bound to the driver of that name fail.
 * The Rust DMA core asks before it maps or allocates; a failure returns
 * what a real one does (DMA_MAPPING_ERROR, 0 entries, NULL).
 */

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/fault-inject.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "fail_dma.h"

#define DRIVER_LEN 64

struct fail_dma {
	struct fault_attr attr;
	/* Only devices bound to this driver fail; all when empty. */
	char driver[DRIVER_LEN];
};

static struct fail_dma fail_dma_map = { .attr = FAULT_ATTR_INITIALIZER };
static struct fail_dma fail_dma_alloc = { .attr = FAULT_ATTR_INITIALIZER };
static struct fail_dma fail_dma_pool = { .attr = FAULT_ATTR_INITIALIZER };

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

static bool fail_dma_should(struct fail_dma *f, struct device *dev,
			    size_t size)
{
	/*
	 * The cheap test first: nothing is asked of most kernels. A task's
	 * fail-nth counter applies whatever the probability.
	 */
	if (!READ_ONCE(f->attr.probability) &&
	    !(in_task() && READ_ONCE(current->fail_nth)))
		return false;
	if (READ_ONCE(f->driver[0]) &&
	    (!dev || strncmp(dev_driver_string(dev), f->driver, DRIVER_LEN)))
		return false;
	return should_fail(&f->attr, size);
}

bool fail_dma_map_should(struct device *dev, size_t size)
{
	return fail_dma_should(&fail_dma_map, dev, size);
}

bool fail_dma_alloc_should(struct device *dev, size_t size)
{
	return fail_dma_should(&fail_dma_alloc, dev, size);
}

bool fail_dma_pool_should(struct device *dev, size_t size)
{
	return fail_dma_should(&fail_dma_pool, dev, size);
}

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
static ssize_t driver_read(struct file *file, char __user *ubuf, size_t count,
			   loff_t *ppos)
{
	struct fail_dma *f = file->private_data;
	char buf[DRIVER_LEN + 1];
	int len = scnprintf(buf, sizeof(buf), "%.*s\n", DRIVER_LEN - 1, f->driver);

	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static ssize_t driver_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct fail_dma *f = file->private_data;
	char buf[DRIVER_LEN] = {};

	if (count >= DRIVER_LEN)
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	strscpy(f->driver, strim(buf), DRIVER_LEN);
	return count;
}

static const struct file_operations driver_fops = {
	.open = simple_open,
	.read = driver_read,
	.write = driver_write,
	.llseek = default_llseek,
};

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
	return 0;
}
late_initcall(fail_dma_debugfs_init);
#endif /* CONFIG_FAULT_INJECTION_DEBUG_FS */
