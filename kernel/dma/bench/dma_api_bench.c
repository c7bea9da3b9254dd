// SPDX-License-Identifier: GPL-2.0-only
/*
 * Batched-loop benchmark of the DMA-mapping API.
 *
 * Reading /sys/kernel/debug/dma_api_bench/results runs every benchmark on
 * QEMU's pci-testdev (1b36:0005), which sits behind the IOMMU when there is
 * one, and returns one line per operation:
 *
 *	<name> ops=<n> ns_per_op=<x.yyy>
 *
 * Each operation (a map and its unmap, an alloc and its free, ...) runs in
 * batches of BENCH_BATCH; the figure is the fastest of BENCH_REPS batches,
 * divided by the batch size. Under QEMU with -icount shift=0 a guest
 * nanosecond is one instruction, so the figures are instruction counts and
 * are repeatable. dma_map_benchmark reports in 100 ns units, which is too
 * coarse for dma-direct; these loops resolve a thousandth of a nanosecond.
 *
 * Where the architecture maintains caches for DMA (arm64), rows named nc_*
 * run the same operations on a platform device that no firmware describes,
 * which is not DMA-coherent: there every map, unmap and sync pays for the
 * cache maintenance, and a coherent allocation for its uncached remap.
 *
 * The benchmark measures whichever implementation is built, C or Rust.
 */

#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/dmapool.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/ktime.h>
#include <linux/mutex.h>
#include <linux/dma-map-ops.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>

#include "rust_dma_bench.h"

#define BENCH_VENDOR	0x1b36
#define BENCH_DEVICE	0x0005
#define BENCH_BATCH	256
#define BENCH_REPS	12
#define BENCH_BUF_SIZE	SZ_64K
#define BENCH_MAX_SG	128
#define BENCH_SG_ORDER	8	/* 2 * BENCH_MAX_SG pages */
#define BENCH_COHERENT	64	/* buffers held at once */
#define BENCH_OUT_SIZE	SZ_8K
#define BENCH_RING	256	/* slots of a receive ring */
#define BENCH_SLOT	2048	/* bytes per slot */

struct bench_ctx {
	struct device *dev;
	void *buf;
	struct sg_table sgt;
	struct page *sg_pages;
	struct dma_pool *pool;
	size_t size;
	int nents;
	dma_addr_t addr;
	enum dma_data_direction dir;
	gfp_t pool_gfp;
	void **slot;
	dma_addr_t *slot_addr;
#ifdef CONFIG_RUST
	struct rust_dma_bench *rust;
#endif
};

/* One operation of a benchmark; returns 0 or a negative errno. */
typedef int (*bench_op_t)(struct bench_ctx *ctx);

static int op_map_single(struct bench_ctx *ctx)
{
	dma_addr_t addr = dma_map_single(ctx->dev, ctx->buf, ctx->size,
					 ctx->dir);

	if (dma_mapping_error(ctx->dev, addr))
		return -ENOMEM;
	dma_unmap_single(ctx->dev, addr, ctx->size, ctx->dir);
	return 0;
}

static int op_map_sg(struct bench_ctx *ctx)
{
	int mapped = dma_map_sg(ctx->dev, ctx->sgt.sgl, ctx->nents, ctx->dir);

	if (!mapped)
		return -ENOMEM;
	dma_unmap_sg(ctx->dev, ctx->sgt.sgl, ctx->nents, ctx->dir);
	return 0;
}

static int op_sync(struct bench_ctx *ctx)
{
	dma_sync_single_for_cpu(ctx->dev, ctx->addr, ctx->size, ctx->dir);
	dma_sync_single_for_device(ctx->dev, ctx->addr, ctx->size, ctx->dir);
	return 0;
}

static int op_bounce(struct bench_ctx *ctx)
{
	dma_sync_single_for_device(ctx->dev, ctx->addr, ctx->size, ctx->dir);
	return 0;
}

/*
 * What a NIC driver does with its receive ring, in atomic context: map
 * every slot for the device, then sync each for the CPU and unmap it. One
 * call covers BENCH_RING slots.
 */
static DEFINE_SPINLOCK(ring_lock);

static int op_ring(struct bench_ctx *ctx)
{
	unsigned long flags;
	int i, n, ret = 0;

	spin_lock_irqsave(&ring_lock, flags);
	for (n = 0; n < BENCH_RING; n++) {
		ctx->slot_addr[n] = dma_map_single(ctx->dev, ctx->slot[n],
						   BENCH_SLOT, DMA_FROM_DEVICE);
		if (dma_mapping_error(ctx->dev, ctx->slot_addr[n])) {
			ret = -ENOMEM;
			break;
		}
	}
	for (i = 0; i < n; i++) {
		dma_sync_single_for_cpu(ctx->dev, ctx->slot_addr[i], BENCH_SLOT,
					DMA_FROM_DEVICE);
		dma_unmap_single(ctx->dev, ctx->slot_addr[i], BENCH_SLOT,
				 DMA_FROM_DEVICE);
	}
	spin_unlock_irqrestore(&ring_lock, flags);
	return ret;
}

/*
 * BENCH_COHERENT allocations, then their frees: the cost of one pair is an
 * average over several places in the page allocator, so that it depends
 * less on where the allocator's free pages lie after boot.
 */
static int op_coherent(struct bench_ctx *ctx)
{
	dma_addr_t addr[BENCH_COHERENT];
	void *cpu[BENCH_COHERENT];
	int i, n, ret = 0;

	for (n = 0; n < BENCH_COHERENT; n++) {
		cpu[n] = dma_alloc_coherent(ctx->dev, ctx->size, &addr[n],
					    GFP_KERNEL);
		if (!cpu[n]) {
			ret = -ENOMEM;
			break;
		}
	}
	for (i = 0; i < n; i++)
		dma_free_coherent(ctx->dev, ctx->size, cpu[i], addr[i]);
	return ret;
}

/*
 * One block alloc and free; with __GFP_ZERO in pool_gfp this is
 * dma_pool_zalloc(), what the safe Rust API's Pool::alloc() does.
 */
static int op_pool(struct bench_ctx *ctx)
{
	dma_addr_t addr;
	void *cpu = dma_pool_alloc(ctx->pool, ctx->pool_gfp, &addr);

	if (!cpu)
		return -ENOMEM;
	dma_pool_free(ctx->pool, cpu, addr);
	return 0;
}

/*
 * Fastest batch of @op, in thousandths of a nanosecond per operation. One
 * call of @op performs @per_call operations, so a batch is BENCH_BATCH /
 * @per_call calls.
 */
static int bench_run(struct bench_ctx *ctx, bench_op_t op, int per_call,
		     u64 *best_mns)
{
	int rep, i, ret, calls = BENCH_BATCH / per_call;
	u64 best = U64_MAX;

	/* One untimed batch warms caches, pools and IOVA caches. */
	for (i = 0; i < calls; i++) {
		ret = op(ctx);
		if (ret)
			return ret;
	}
	for (rep = 0; rep < BENCH_REPS; rep++) {
		u64 start = ktime_get_ns();

		for (i = 0; i < calls; i++) {
			ret = op(ctx);
			if (ret)
				return ret;
		}
		best = min(best, ktime_get_ns() - start);
		cond_resched();
	}
	*best_mns = div_u64(best * 1000, calls * per_call);
	return 0;
}

struct bench_out {
	char *text;
	size_t len;
	int failed;
};

static void bench_fail(struct bench_out *out, const char *name, int err)
{
	out->failed++;
	out->len += scnprintf(out->text + out->len, BENCH_OUT_SIZE - out->len,
			      "%s error=%d\n", name, err);
}

static void bench_report(struct bench_out *out, struct bench_ctx *ctx,
			 const char *name, bench_op_t op, int per_call)
{
	u64 mns;
	int ret = bench_run(ctx, op, per_call, &mns);

	if (ret) {
		bench_fail(out, name, ret);
		return;
	}
	out->len += scnprintf(out->text + out->len, BENCH_OUT_SIZE - out->len,
			      "%s ops=%d ns_per_op=%llu.%03llu\n", name,
			      BENCH_BATCH * BENCH_REPS,
			      div_u64(mns, 1000),
			      mns % 1000);
}

/* Times @op on one mapping of @size bytes, held for the whole benchmark. */
static void bench_on_mapping(struct bench_out *out, struct bench_ctx *ctx,
			     const char *name, size_t size,
			     enum dma_data_direction dir, bench_op_t op)
{
	ctx->dir = dir;
	ctx->size = size;
	ctx->addr = dma_map_single(ctx->dev, ctx->buf, size, dir);
	if (dma_mapping_error(ctx->dev, ctx->addr)) {
		bench_fail(out, name, -ENOMEM);
		return;
	}
	bench_report(out, ctx, name, op, 1);
	dma_unmap_single(ctx->dev, ctx->addr, size, dir);
}

static void bench_ring(struct bench_out *out, struct bench_ctx *ctx)
{
	int i;

	ctx->slot = kcalloc(BENCH_RING, sizeof(*ctx->slot), GFP_KERNEL);
	ctx->slot_addr = kcalloc(BENCH_RING, sizeof(*ctx->slot_addr), GFP_KERNEL);
	for (i = 0; ctx->slot && ctx->slot_addr && i < BENCH_RING; i++) {
		ctx->slot[i] = kmalloc(BENCH_SLOT, GFP_KERNEL);
		if (!ctx->slot[i])
			break;
	}
	if (i == BENCH_RING)
		bench_report(out, ctx, "ring_256", op_ring, BENCH_RING);
	else
		bench_fail(out, "ring_256", -ENOMEM);
	while (ctx->slot && i--)
		kfree(ctx->slot[i]);
	kfree(ctx->slot);
	kfree(ctx->slot_addr);
}

static void bench_streaming(struct bench_out *out, struct bench_ctx *ctx)
{
	static const size_t sizes[] = { SZ_4K, SZ_64K };
	char name[32];
	int i;

	ctx->dir = DMA_TO_DEVICE;
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ctx->size = sizes[i];
		snprintf(name, sizeof(name), "map_single_%zuk", sizes[i] >> 10);
		bench_report(out, ctx, name, op_map_single, 1);
	}
	bench_on_mapping(out, ctx, "sync_4k", SZ_4K, DMA_BIDIRECTIONAL, op_sync);
	/* A streaming sync copies the whole buffer when it bounces. */
	bench_on_mapping(out, ctx, "bounce_64k", SZ_64K, DMA_TO_DEVICE,
			 op_bounce);
	bench_ring(out, ctx);
}

/*
 * swiotlb with a pool 90% full and fragmented: the pool is filled with
 * 2 KiB mappings, then every tenth is unmapped (single free slots, too
 * small for a page-aligned 4 KiB bounce), and one pair of slots that a
 * 4 KiB bounce fits is freed near the pool's end. Each map+unmap of 4 KiB
 * then has to find that pair, from wherever the previous search stopped.
 */
static void bench_swiotlb_frag(struct bench_out *out, struct bench_ctx *ctx)
{
	const char *name = "swiotlb_frag_4k";
	const size_t max = SZ_64M / IO_TLB_SIZE * 2;
	dma_addr_t *dma;
	long n, i, pair = -1;

	if (!is_swiotlb_force_bounce(ctx->dev))
		return;
	/*
	 * A pool set that may grow (SWIOTLB_DYNAMIC) would never fill: asking
	 * for the default pool's base stops its growth, for the rest of the
	 * boot, in both swiotlb implementations.
	 */
	default_swiotlb_base();
	dma = kvmalloc_array(max, sizeof(*dma), GFP_KERNEL);
	if (!dma) {
		bench_fail(out, name, -ENOMEM);
		return;
	}
	for (n = 0; n < max; n++) {
		dma[n] = dma_map_single_attrs(ctx->dev, ctx->buf, IO_TLB_SIZE,
					      DMA_TO_DEVICE, DMA_ATTR_NO_WARN);
		if (dma_mapping_error(ctx->dev, dma[n]))
			break;
	}
	for (i = n - 2; i >= 0 && pair < 0; i--)
		if (i % 10 < 4 && !(dma[i] & (PAGE_SIZE - 1)) &&
		    dma[i + 1] == dma[i] + IO_TLB_SIZE)
			pair = i;
	for (i = 0; i < n; i++) {
		if (i % 10 == 5 || (pair >= 0 && (i == pair || i == pair + 1))) {
			dma_unmap_single(ctx->dev, dma[i], IO_TLB_SIZE, DMA_TO_DEVICE);
			dma[i] = DMA_MAPPING_ERROR;
		}
	}
	ctx->size = SZ_4K;
	ctx->dir = DMA_TO_DEVICE;
	if (pair < 0)
		bench_fail(out, name, -ENOSPC);
	else
		bench_report(out, ctx, name, op_map_single, 1);
	for (i = 0; i < n; i++)
		if (dma[i] != DMA_MAPPING_ERROR)
			dma_unmap_single(ctx->dev, dma[i], IO_TLB_SIZE, DMA_TO_DEVICE);
	kvfree(dma);
}

/*
 * The entries are every other page of one order-8 block: never physically
 * contiguous, so an IOMMU cannot merge them, whatever the page allocator's
 * state at boot. Free pages between them would make the cost vary.
 */
static int bench_sg_alloc(struct bench_ctx *ctx)
{
	struct scatterlist *sg;
	int i;

	ctx->sg_pages = alloc_pages(GFP_KERNEL, BENCH_SG_ORDER);
	if (!ctx->sg_pages)
		return -ENOMEM;
	if (sg_alloc_table(&ctx->sgt, BENCH_MAX_SG, GFP_KERNEL)) {
		__free_pages(ctx->sg_pages, BENCH_SG_ORDER);
		ctx->sg_pages = NULL;
		return -ENOMEM;
	}
	for_each_sg(ctx->sgt.sgl, sg, BENCH_MAX_SG, i)
		sg_set_page(sg, ctx->sg_pages + 2 * i, PAGE_SIZE, 0);
	return 0;
}

static void bench_sg_free(struct bench_ctx *ctx)
{
	if (!ctx->sg_pages)
		return;
	sg_free_table(&ctx->sgt);
	__free_pages(ctx->sg_pages, BENCH_SG_ORDER);
	ctx->sg_pages = NULL;
}

/* A map and unmap of the first @nents entries, as "<prefix>map_sg_<nents>". */
static void bench_sg_row(struct bench_out *out, struct bench_ctx *ctx,
			 const char *prefix, int nents,
			 enum dma_data_direction dir)
{
	char name[32];

	snprintf(name, sizeof(name), "%smap_sg_%d", prefix, nents);
	if (!ctx->sg_pages) {
		bench_fail(out, name, -ENOMEM);
		return;
	}
	/* dma_map_sg() walks only the first nents entries. */
	ctx->nents = nents;
	ctx->dir = dir;
	bench_report(out, ctx, name, op_map_sg, 1);
}

static void bench_sg(struct bench_out *out, struct bench_ctx *ctx)
{
	static const int nents[] = { 1, 16, 128 };
	int i;

	for (i = 0; i < ARRAY_SIZE(nents); i++)
		bench_sg_row(out, ctx, "", nents[i], DMA_TO_DEVICE);
}

static void bench_alloc(struct bench_out *out, struct bench_ctx *ctx)
{
	static const size_t coherent[] = { SZ_4K, SZ_64K };
	static const size_t pool[] = { 16, 64, 256, 1024, 4096 };
	char name[32];
	int i;

	for (i = 0; i < ARRAY_SIZE(coherent); i++) {
		ctx->size = coherent[i];
		snprintf(name, sizeof(name), "coherent_%zuk", coherent[i] >> 10);
		bench_report(out, ctx, name, op_coherent,
			     BENCH_COHERENT);
	}
	for (i = 0; i < ARRAY_SIZE(pool); i++) {
		ctx->pool = dma_pool_create("dma_api_bench", ctx->dev, pool[i],
					    pool[i], 0);
		if (!ctx->pool) {
			out->failed++;
			continue;
		}
		snprintf(name, sizeof(name), "pool_%zu", pool[i]);
		ctx->pool_gfp = GFP_KERNEL;
		bench_report(out, ctx, name, op_pool, 1);
		if (pool[i] == 64) {
			ctx->pool_gfp = GFP_KERNEL | __GFP_ZERO;
			bench_report(out, ctx, "pool_zalloc_64", op_pool, 1);
		}
		dma_pool_destroy(ctx->pool);
	}
}

/*
 * The cost of cache maintenance: a streaming map of a buffer the device
 * writes (cleaned at map, invalidated at unmap), a sync pair, an sg list and
 * a coherent allocation (prepared and remapped uncached), on a device that
 * is not DMA-coherent. Only where the architecture has the hooks.
 */
static void bench_noncoherent(struct bench_out *out, struct bench_ctx *ctx)
{
	struct device *coherent_dev = ctx->dev;
	struct platform_device *pdev;
	int ret;

	if (!IS_ENABLED(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE))
		return;
	pdev = platform_device_register_simple("dma-api-bench-nc",
					       PLATFORM_DEVID_NONE, NULL, 0);
	if (IS_ERR(pdev)) {
		bench_fail(out, "nc", PTR_ERR(pdev));
		return;
	}
	ret = dev_is_dma_coherent(&pdev->dev) ? -EINVAL :
		dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32));
	if (ret) {
		bench_fail(out, "nc", ret);
		goto out;
	}
	ctx->dev = &pdev->dev;
	ctx->size = SZ_4K;
	ctx->dir = DMA_FROM_DEVICE;
	bench_report(out, ctx, "nc_map_single_4k", op_map_single, 1);
	bench_on_mapping(out, ctx, "nc_sync_4k", SZ_4K, DMA_BIDIRECTIONAL,
			 op_sync);
	bench_sg_row(out, ctx, "nc_", 16, DMA_FROM_DEVICE);
	bench_report(out, ctx, "nc_coherent_4k", op_coherent, BENCH_COHERENT);
	ctx->dev = coherent_dev;
out:
	platform_device_unregister(pdev);
}

#ifdef CONFIG_RUST
static int op_rust_map(struct bench_ctx *ctx)
{
	return rust_dma_bench_map(ctx->rust);
}

static int op_rust_sync(struct bench_ctx *ctx)
{
	return rust_dma_bench_sync(ctx->rust);
}

static int op_rust_sync_moved(struct bench_ctx *ctx)
{
	return rust_dma_bench_sync_moved(ctx->rust);
}

static int op_rust_pool(struct bench_ctx *ctx)
{
	return rust_dma_bench_pool(ctx->rust, false);
}

static int op_rust_pool_zeroed(struct bench_ctx *ctx)
{
	return rust_dma_bench_pool(ctx->rust, true);
}

static int op_rust_ring(struct bench_ctx *ctx)
{
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&ring_lock, flags);
	ret = rust_dma_bench_ring(ctx->rust);
	spin_unlock_irqrestore(&ring_lock, flags);
	return ret;
}

/*
 * The same operations as map_single_4k, sync_4k (in place and by value),
 * pool_64, pool_zalloc_64 and ring_256, through the safe Rust API. It needs
 * a bound device (pci-testdev is bound by the rust_dma sample), which the
 * device lock keeps bound.
 */
static void bench_rust_api(struct bench_out *out, struct bench_ctx *ctx)
{
	device_lock(ctx->dev);
	if (!ctx->dev->driver) {
		bench_fail(out, "rustapi", -ENODEV);
		goto unlock;
	}
	ctx->rust = rust_dma_bench_new(ctx->dev);
	if (!ctx->rust) {
		bench_fail(out, "rustapi", -ENOMEM);
		goto unlock;
	}
	bench_report(out, ctx, "rustapi_map_single_4k", op_rust_map, 1);
	bench_report(out, ctx, "rustapi_sync_4k", op_rust_sync, 1);
	bench_report(out, ctx, "rustapi_sync_moved_4k", op_rust_sync_moved, 1);
	bench_report(out, ctx, "rustapi_pool_64", op_rust_pool, 1);
	bench_report(out, ctx, "rustapi_pool_zalloc_64", op_rust_pool_zeroed, 1);
	bench_report(out, ctx, "rustapi_ring_256", op_rust_ring, BENCH_RING);
	rust_dma_bench_free(ctx->rust);
unlock:
	device_unlock(ctx->dev);
}
#else
static void bench_rust_api(struct bench_out *out, struct bench_ctx *ctx)
{
}
#endif

static DEFINE_MUTEX(bench_lock);

static int bench_open(struct inode *inode, struct file *file)
{
	struct bench_out *out;
	struct bench_ctx ctx = {};
	struct pci_dev *pdev;
	u64 saved_mask, saved_coherent;
	int ret = -ENOMEM;

	pdev = pci_get_device(BENCH_VENDOR, BENCH_DEVICE, NULL);
	if (!pdev)
		return -ENODEV;
	out = kzalloc_obj(*out);
	if (!out)
		goto put;
	out->text = kzalloc(BENCH_OUT_SIZE, GFP_KERNEL);
	ctx.buf = kmalloc(BENCH_BUF_SIZE, GFP_KERNEL);
	if (!out->text || !ctx.buf)
		goto free;

	mutex_lock(&bench_lock);
	ctx.dev = &pdev->dev;
	saved_mask = dma_get_mask(ctx.dev);
	saved_coherent = ctx.dev->coherent_dma_mask;
	ret = dma_set_mask_and_coherent(ctx.dev, DMA_BIT_MASK(64));
	if (!ret) {
		bench_sg_alloc(&ctx);
		bench_streaming(out, &ctx);
		bench_swiotlb_frag(out, &ctx);
		bench_sg(out, &ctx);
		bench_alloc(out, &ctx);
		bench_rust_api(out, &ctx);
		bench_noncoherent(out, &ctx);
		bench_sg_free(&ctx);
		out->len += scnprintf(out->text + out->len,
				      BENCH_OUT_SIZE - out->len,
				      "failed=%d\n", out->failed);
		dma_set_mask(ctx.dev, saved_mask);
		dma_set_coherent_mask(ctx.dev, saved_coherent);
	}
	mutex_unlock(&bench_lock);
	if (ret)
		goto free;
	kfree(ctx.buf);
	pci_dev_put(pdev);
	file->private_data = out;
	return 0;
free:
	kfree(ctx.buf);
	if (out)
		kfree(out->text);
	kfree(out);
put:
	pci_dev_put(pdev);
	return ret;
}

static ssize_t bench_read(struct file *file, char __user *ubuf, size_t count,
			  loff_t *ppos)
{
	struct bench_out *out = file->private_data;

	return simple_read_from_buffer(ubuf, count, ppos, out->text, out->len);
}

static int bench_release(struct inode *inode, struct file *file)
{
	struct bench_out *out = file->private_data;

	kfree(out->text);
	kfree(out);
	return 0;
}

static const struct file_operations bench_fops = {
	.owner = THIS_MODULE,
	.open = bench_open,
	.read = bench_read,
	.release = bench_release,
	.llseek = default_llseek,
};

static int __init dma_api_bench_init(void)
{
	struct dentry *dir = debugfs_create_dir("dma_api_bench", NULL);

	debugfs_create_file("results", 0400, dir, NULL, &bench_fops);
	return 0;
}
late_initcall(dma_api_bench_init);
