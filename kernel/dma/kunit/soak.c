// SPDX-License-Identifier: GPL-2.0-only
/*
 * The DMA soak engine. Worker kthreads map, sync and unmap single buffers
 * and scatterlists in every direction, some with interrupts off, allocate
 * coherent memory and share a dma_pool, while one more kthread tortures
 * the pool. Every byte is checked at each ownership handover from both
 * sides: the CPU's, and the device's, which is the memory the DMA address
 * reaches (through the IOMMU's page table, or dma-direct's translation,
 * which under swiotlb is a bounce slot). A check that fails counts as
 * corruption; a map or an allocation that fails counts as a failure, which
 * is allowed, as a driver must allow it.
 *
 * dma_api_concurrency runs the engine for a fixed number of rounds on edu.
 * `make soak` runs it for minutes through debugfs, on QEMU's pci-testdev
 * (1b36:0005), once its own driver has let it go (scripts/guest/dma-soak.sh
 * unbinds the rust_dma sample):
 *
 *   dma_soak/run     write <seconds>: bind the "dma_soak" PCI driver to
 *                    pci-testdev and start the engine on it (EBUSY until
 *                    the last run's result was read, ENODEV without the
 *                    device, EINVAL for 0 or more than a day)
 *   dma_soak/result  read: wait for the end, unbind the driver (dma-debug
 *                    then checks it left nothing mapped) and print the
 *                    counters, one "name value" per line
 *
 * An unbind through sysfs stops the engine first. The fault attributes of
 * FAIL_DMA_MAPPING reach the engine's calls through their "driver" file:
 * "dma_soak".
 */

#include <linux/debugfs.h>
#include <linux/dma-direct.h>
#include <linux/dmapool.h>
#include <linux/iommu.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sizes.h>

#include "dma_api_kunit.h"

#define SOAK_BUF		SZ_64K
#define SOAK_SG			4
#define SOAK_SG_ORDER		2	/* SOAK_SG pages */
/* The bytes of each entry's page it may use: all the checks fit a buffer. */
#define SOAK_SG_SPAN		min_t(size_t, PAGE_SIZE, SOAK_BUF / SOAK_SG)
#define SOAK_POOL_BLOCK		200
#define SOAK_POOL_ALIGN		64
#define SOAK_POOL_BOUNDARY	SZ_4K
#define SOAK_POOL_HELD		128
#define SOAK_MAX_SECS		86400

struct soak_ctx {
	struct device *dev;
	struct dma_pool *pool;
	unsigned long rounds;	/* per thread; 0: until the deadline */
	unsigned long deadline;	/* jiffies */
	const bool *stop;
	struct dma_soak_stats *st;
	atomic_t running;
	struct completion done;
};

struct soak_worker {
	struct soak_ctx *ctx;
	int id;
	u8 *buf;		/* the CPU's buffer */
	u8 *view;		/* a copy of what the device sees */
	struct page *pages;	/* SOAK_SG pages for scatterlists */
};

/* The byte at stream position @i of the pattern @seed. */
static u8 pat(u32 seed, size_t i)
{
	return seed ^ (i * 167) ^ (i >> 8) ^ (i >> 16);
}

static void fill(u8 *p, size_t len, u32 seed, size_t at)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(seed, at + i);
}

static bool holds(const u8 *p, size_t len, u32 seed, size_t at)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pat(seed, at + i))
			return false;
	return true;
}

/*
 * Copies @len bytes between @cpu and the memory the device reaches at
 * @dma, a page at a time, as the device would read (@to_cpu) or write
 * them. False if an address translates to no memory.
 */
static bool dev_copy(struct device *dev, dma_addr_t dma, u8 *cpu, size_t len,
		     bool to_cpu)
{
	struct iommu_domain *dom = iommu_get_domain_for_dev(dev);

	while (len) {
		size_t n = min_t(size_t, len, PAGE_SIZE - offset_in_page(dma));
		phys_addr_t phys = dom ? iommu_iova_to_phys(dom, dma) :
					 dma_to_phys(dev, dma);
		u8 *mem;

		if (!phys || !pfn_valid(PHYS_PFN(phys)))
			return false;
		mem = phys_to_virt(phys);
		if (to_cpu)
			memcpy(cpu, mem, n);
		else
			memcpy(mem, cpu, n);
		cpu += n;
		dma += n;
		len -= n;
	}
	return true;
}

/* Whether the device sees pattern @seed from position @at at @dma. */
static bool dev_holds(struct soak_worker *w, dma_addr_t dma, size_t len,
		      u32 seed, size_t at)
{
	return dev_copy(w->ctx->dev, dma, w->view, len, true) &&
	       holds(w->view, len, seed, at);
}

/* The device writes pattern @seed from position @at at @dma. */
static bool dev_fill(struct soak_worker *w, dma_addr_t dma, size_t len,
		     u32 seed, size_t at)
{
	fill(w->view, len, seed, at);
	return dev_copy(w->ctx->dev, dma, w->view, len, false);
}

static void expect(struct soak_worker *w, bool ok, const char *what)
{
	if (ok)
		return;
	atomic64_inc(&w->ctx->st->corrupt);
	pr_err_ratelimited("dma_soak: worker %d: %s\n", w->id, what);
}

static enum dma_data_direction random_dir(void)
{
	static const enum dma_data_direction dirs[] = {
		DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE,
	};

	return dirs[get_random_u32_below(ARRAY_SIZE(dirs))];
}

/*
 * One single mapping at a random offset and length: the device sees what
 * the CPU wrote, the CPU sees what the device wrote (first through a
 * partial sync), and each side's last bytes survive the unmap.
 */
static void round_single(struct soak_worker *w)
{
	struct device *dev = w->ctx->dev;
	size_t off = get_random_u32_below(256);
	size_t len = 1 + get_random_u32_below(SOAK_BUF - off);
	enum dma_data_direction dir = random_dir();
	u32 a = get_random_u32(), b = a + 1, c = a + 2, last = a;
	bool irqs_off = !get_random_u32_below(8);
	unsigned long flags = 0;
	u8 *p = w->buf + off;
	dma_addr_t dma;

	fill(p, len, a, 0);
	if (irqs_off)
		local_irq_save(flags);
	dma = dma_map_single(dev, p, len, dir);
	if (dma_mapping_error(dev, dma)) {
		if (irqs_off)
			local_irq_restore(flags);
		atomic64_inc(&w->ctx->st->map_failures);
		return;
	}
	if (dir != DMA_FROM_DEVICE)
		expect(w, dev_holds(w, dma, len, a, 0), "single: device does not see the CPU's bytes");
	if (dir != DMA_TO_DEVICE) {
		size_t po = get_random_u32_below(len), pl = 1 + get_random_u32_below(len - po);

		expect(w, dev_fill(w, dma, len, b, 0), "single: no memory at the DMA address");
		dma_sync_single_for_cpu(dev, dma + po, pl, dir);
		expect(w, holds(p + po, pl, b, po), "single: partial sync lost the device's bytes");
		dma_sync_single_for_cpu(dev, dma, len, dir);
		expect(w, holds(p, len, b, 0), "single: CPU does not see the device's bytes");
		last = b;
		if (dir == DMA_BIDIRECTIONAL) {
			fill(p, len, c, 0);
			dma_sync_single_for_device(dev, dma, len, dir);
			expect(w, dev_holds(w, dma, len, c, 0),
			       "single: device does not see the CPU's bytes after a sync");
			last = c;
		}
	}
	dma_unmap_single(dev, dma, len, dir);
	if (irqs_off)
		local_irq_restore(flags);
	expect(w, holds(p, len, last, 0), "single: bytes changed at unmap");
	atomic64_add(len, &w->ctx->st->bytes);
}

/*
 * A scatterlist of up to SOAK_SG entries, one page each, at random offsets
 * and lengths; the pattern runs on across entries, so that merged DMA
 * segments (under an IOMMU) are checked as one stream.
 */
static void round_sg(struct soak_worker *w)
{
	struct device *dev = w->ctx->dev;
	struct scatterlist sgl[SOAK_SG], *sg;
	int n = 1 + get_random_u32_below(SOAK_SG), mapped, i;
	enum dma_data_direction dir = random_dir();
	u32 a = get_random_u32(), b = a + 1;
	size_t at = 0;

	sg_init_table(sgl, n);
	for_each_sg(sgl, sg, n, i) {
		unsigned int off = get_random_u32_below(SOAK_SG_SPAN / 2);
		unsigned int len = 1 + get_random_u32_below(SOAK_SG_SPAN - off);

		sg_set_page(sg, w->pages + i, len, off);
		fill(sg_virt(sg), len, a, at);
		at += len;
	}
	mapped = dma_map_sg(dev, sgl, n, dir);
	if (!mapped) {
		atomic64_inc(&w->ctx->st->map_failures);
		return;
	}
	at = 0;
	for_each_sg(sgl, sg, mapped, i) {
		if (dir != DMA_FROM_DEVICE)
			expect(w, dev_holds(w, sg_dma_address(sg), sg_dma_len(sg), a, at),
			       "sg: device does not see the CPU's bytes");
		if (dir != DMA_TO_DEVICE)
			expect(w, dev_fill(w, sg_dma_address(sg), sg_dma_len(sg), b, at),
			       "sg: no memory at the DMA address");
		at += sg_dma_len(sg);
	}
	dma_sync_sg_for_cpu(dev, sgl, n, dir);
	at = 0;
	for_each_sg(sgl, sg, n, i) {
		expect(w, holds(sg_virt(sg), sg->length, dir == DMA_TO_DEVICE ? a : b, at),
		       "sg: CPU does not see the device's bytes");
		at += sg->length;
	}
	dma_unmap_sg(dev, sgl, n, dir);
	atomic64_add(at, &w->ctx->st->bytes);
}

/* A coherent buffer: zeroed, and each side sees the other's writes. */
static void round_coherent(struct soak_worker *w)
{
	struct device *dev = w->ctx->dev;
	size_t len = 1 + get_random_u32_below(SZ_16K);
	u32 a = get_random_u32();
	dma_addr_t dma;
	u8 *p;

	p = dma_alloc_coherent(dev, len, &dma, GFP_KERNEL | __GFP_NOWARN);
	if (!p) {
		atomic64_inc(&w->ctx->st->alloc_failures);
		return;
	}
	expect(w, mem_is_zero(p, len), "coherent: buffer not zeroed");
	fill(p, len, a, 0);
	expect(w, dev_holds(w, dma, len, a, 0), "coherent: device does not see the CPU's bytes");
	expect(w, dev_fill(w, dma, len, a + 1, 0), "coherent: no memory at the DMA address");
	expect(w, holds(p, len, a + 1, 0), "coherent: CPU does not see the device's bytes");
	dma_free_coherent(dev, len, p, dma);
	atomic64_add(len, &w->ctx->st->bytes);
}

/* A block of the shared pool, aligned, within its boundary, and kept. */
static bool pool_block_ok(dma_addr_t dma)
{
	return IS_ALIGNED(dma, SOAK_POOL_ALIGN) &&
	       dma / SOAK_POOL_BOUNDARY == (dma + SOAK_POOL_BLOCK - 1) / SOAK_POOL_BOUNDARY;
}

static void round_pool(struct soak_worker *w)
{
	dma_addr_t dma;
	u32 a = get_random_u32();
	u8 *p = dma_pool_zalloc(w->ctx->pool, GFP_KERNEL | __GFP_NOWARN, &dma);

	if (!p) {
		atomic64_inc(&w->ctx->st->alloc_failures);
		return;
	}
	expect(w, pool_block_ok(dma), "pool: block misaligned or across its boundary");
	expect(w, mem_is_zero(p, SOAK_POOL_BLOCK), "pool: zalloc block not zeroed");
	fill(p, SOAK_POOL_BLOCK, a, 0);
	cond_resched();
	expect(w, dev_holds(w, dma, SOAK_POOL_BLOCK, a, 0),
	       "pool: device does not see the block's bytes");
	dma_pool_free(w->ctx->pool, p, dma);
	atomic64_add(SOAK_POOL_BLOCK, &w->ctx->st->bytes);
}

static bool soak_more(struct soak_ctx *c, unsigned long round)
{
	if (READ_ONCE(*c->stop))
		return false;
	if (c->rounds)
		return round < c->rounds;
	return time_before(jiffies, c->deadline);
}

static void soak_thread_done(struct soak_ctx *c)
{
	if (atomic_dec_and_test(&c->running))
		complete(&c->done);
}

static int soak_worker_fn(void *data)
{
	struct soak_worker *w = data;
	struct soak_ctx *c = w->ctx;
	unsigned long round;

	for (round = 0; soak_more(c, round); round++) {
		u32 op = get_random_u32_below(16);

		if (op < 8)
			round_single(w);
		else if (op < 12)
			round_sg(w);
		else if (op < 15)
			round_pool(w);
		else
			round_coherent(w);
		atomic64_inc(&c->st->ops);
		cond_resched();
	}
	soak_thread_done(c);
	return 0;
}

/*
 * The pool torture: up to SOAK_POOL_HELD blocks held at once, allocated
 * (zeroed or not, sleeping or atomic) and freed in random order, each
 * checked for its alignment, boundary and content when it is freed.
 */
static int soak_pool_fn(void *data)
{
	struct soak_worker *w = data;
	struct soak_ctx *c = w->ctx;
	struct {
		u8 *cpu;
		dma_addr_t dma;
		u32 seed;
	} *held = kcalloc(SOAK_POOL_HELD, sizeof(*held), GFP_KERNEL);
	unsigned long round;
	int i;

	if (!held) {
		atomic64_inc(&c->st->alloc_failures);
		goto out;
	}
	for (round = 0; soak_more(c, round); round++) {
		i = get_random_u32_below(SOAK_POOL_HELD);
		if (held[i].cpu) {
			expect(w, holds(held[i].cpu, SOAK_POOL_BLOCK, held[i].seed, 0),
			       "pool torture: block changed while held");
			dma_pool_free(c->pool, held[i].cpu, held[i].dma);
			held[i].cpu = NULL;
		} else {
			bool zero = get_random_u32_below(2);
			gfp_t gfp = (get_random_u32_below(4) ? GFP_KERNEL : GFP_ATOMIC) | __GFP_NOWARN;

			held[i].cpu = zero ? dma_pool_zalloc(c->pool, gfp, &held[i].dma) :
					     dma_pool_alloc(c->pool, gfp, &held[i].dma);
			if (held[i].cpu) {
				expect(w, pool_block_ok(held[i].dma),
				       "pool torture: block misaligned or across its boundary");
				if (zero)
					expect(w, mem_is_zero(held[i].cpu, SOAK_POOL_BLOCK),
					       "pool torture: zalloc block not zeroed");
				held[i].seed = get_random_u32();
				fill(held[i].cpu, SOAK_POOL_BLOCK, held[i].seed, 0);
				atomic64_add(SOAK_POOL_BLOCK, &c->st->bytes);
			} else {
				atomic64_inc(&c->st->alloc_failures);
			}
		}
		atomic64_inc(&c->st->ops);
		cond_resched();
	}
	for (i = 0; i < SOAK_POOL_HELD; i++)
		if (held[i].cpu)
			dma_pool_free(c->pool, held[i].cpu, held[i].dma);
	kfree(held);
out:
	soak_thread_done(c);
	return 0;
}

static void soak_worker_free(struct soak_worker *w)
{
	kfree(w->buf);
	kfree(w->view);
	if (w->pages)
		__free_pages(w->pages, SOAK_SG_ORDER);
}

int dma_soak_run(struct device *dev, unsigned int threads, unsigned long rounds,
		 unsigned long deadline, const bool *stop,
		 struct dma_soak_stats *st)
{
	struct soak_ctx c = {
		.dev = dev, .rounds = rounds, .deadline = deadline,
		.stop = stop, .st = st,
	};
	struct soak_worker *w;
	unsigned int i, started = 0;
	int ret = 0;

	w = kcalloc(threads + 1, sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	c.pool = dma_pool_create("dma_soak", dev, SOAK_POOL_BLOCK, SOAK_POOL_ALIGN,
				 SOAK_POOL_BOUNDARY);
	if (!c.pool) {
		ret = -ENOMEM;
		goto free;
	}
	for (i = 0; i <= threads; i++) {
		w[i] = (struct soak_worker){ .ctx = &c, .id = i };
		w[i].buf = kmalloc(SOAK_BUF, GFP_KERNEL);
		w[i].view = kmalloc(SOAK_BUF, GFP_KERNEL);
		w[i].pages = alloc_pages(GFP_KERNEL, SOAK_SG_ORDER);
		if (!w[i].buf || !w[i].view || !w[i].pages) {
			ret = -ENOMEM;
			goto free;
		}
	}
	init_completion(&c.done);
	/* One count for this function, so that no thread completes early. */
	atomic_set(&c.running, 1);
	for (i = 0; i <= threads; i++) {
		struct task_struct *t;

		atomic_inc(&c.running);
		t = kthread_run(i < threads ? soak_worker_fn : soak_pool_fn, &w[i],
				"dma_soak/%u", i);
		if (IS_ERR(t)) {
			atomic_dec(&c.running);
			ret = PTR_ERR(t);
			break;
		}
		started++;
	}
	soak_thread_done(&c);
	wait_for_completion(&c.done);
	if (ret)
		pr_err("dma_soak: started %u of %u threads (%d)\n", started, threads + 1, ret);
free:
	for (i = 0; i <= threads; i++)
		soak_worker_free(&w[i]);
	dma_pool_destroy(c.pool);
	kfree(w);
	return ret;
}

/* The debugfs interface and the PCI driver of `make soak`. */

#define SOAK_VENDOR	0x1b36
#define SOAK_DEVICE	0x0005
#define SOAK_THREADS	4

static struct {
	struct mutex lock;		/* run and result */
	struct pci_dev *pdev;		/* bound by the driver */
	bool registered, started, stop;
	unsigned long secs;
	int ret;
	struct completion done;
	struct dma_soak_stats st;
} soak = {
	.lock = __MUTEX_INITIALIZER(soak.lock),
	.done = COMPLETION_INITIALIZER(soak.done),
};

static int soak_main(void *data)
{
	struct pci_dev *pdev = data;

	soak.ret = dma_soak_run(&pdev->dev, SOAK_THREADS, 0,
				jiffies + soak.secs * HZ, &soak.stop, &soak.st);
	/* For all: the result reader and the driver's remove both wait. */
	complete_all(&soak.done);
	return 0;
}

static int soak_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	int ret = pcim_enable_device(pdev);

	if (ret)
		return ret;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	pci_set_master(pdev);
	soak.pdev = pdev;
	return 0;
}

static void soak_remove(struct pci_dev *pdev)
{
	/* The engine uses the device: stop it, and wait for it. */
	WRITE_ONCE(soak.stop, true);
	if (soak.started)
		wait_for_completion(&soak.done);
	pci_clear_master(pdev);
	soak.pdev = NULL;
}

static const struct pci_device_id soak_ids[] = {
	{ PCI_DEVICE(SOAK_VENDOR, SOAK_DEVICE) },
	{}
};

static struct pci_driver soak_driver = {
	.name = "dma_soak",
	.id_table = soak_ids,
	.probe = soak_probe,
	.remove = soak_remove,
};

static void soak_unregister(void)
{
	if (soak.registered)
		pci_unregister_driver(&soak_driver);
	soak.registered = false;
}

static ssize_t soak_run_write(struct file *file, const char __user *ubuf,
			      size_t count, loff_t *ppos)
{
	struct task_struct *t;
	unsigned long secs;
	int ret;

	ret = kstrtoul_from_user(ubuf, count, 0, &secs);
	if (ret)
		return ret;
	if (!secs || secs > SOAK_MAX_SECS)
		return -EINVAL;
	mutex_lock(&soak.lock);
	if (soak.started) {
		ret = -EBUSY;
		goto unlock;
	}
	if (!soak.registered) {
		ret = pci_register_driver(&soak_driver);
		if (ret)
			goto unlock;
		soak.registered = true;
	}
	if (!soak.pdev) {
		soak_unregister();
		ret = -ENODEV;
		goto unlock;
	}
	memset(&soak.st, 0, sizeof(soak.st));
	soak.secs = secs;
	soak.stop = false;
	reinit_completion(&soak.done);
	soak.started = true;
	t = kthread_run(soak_main, soak.pdev, "dma_soak");
	if (IS_ERR(t)) {
		soak.started = false;
		soak_unregister();
		ret = PTR_ERR(t);
	}
unlock:
	mutex_unlock(&soak.lock);
	return ret ? ret : count;
}

static int soak_result_show(struct seq_file *m, void *v)
{
	int ret;

	mutex_lock(&soak.lock);
	if (!soak.started) {
		ret = -ENODATA;
		goto unlock;
	}
	ret = wait_for_completion_interruptible(&soak.done);
	if (ret)
		goto unlock;
	soak_unregister();
	soak.started = false;
	seq_printf(m, "status %d\n", soak.ret);
	seq_printf(m, "ops %lld\n", atomic64_read(&soak.st.ops));
	seq_printf(m, "bytes_checked %lld\n", atomic64_read(&soak.st.bytes));
	seq_printf(m, "map_failures %lld\n", atomic64_read(&soak.st.map_failures));
	seq_printf(m, "alloc_failures %lld\n", atomic64_read(&soak.st.alloc_failures));
	seq_printf(m, "corrupt %lld\n", atomic64_read(&soak.st.corrupt));
unlock:
	mutex_unlock(&soak.lock);
	return ret;
}
DEFINE_SHOW_ATTRIBUTE(soak_result);

static const struct file_operations soak_run_fops = {
	.owner = THIS_MODULE,
	.write = soak_run_write,
};

static int __init dma_soak_init(void)
{
	struct dentry *dir = debugfs_create_dir("dma_soak", NULL);

	debugfs_create_file("run", 0200, dir, NULL, &soak_run_fops);
	debugfs_create_file("result", 0400, dir, NULL, &soak_result_fops);
	return 0;
}
late_initcall(dma_soak_init);
