/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The safe Rust DMA API's operations for the benchmark, defined in
 * rust/kernel/dma/bench.rs. The device must stay bound, with its lock held,
 * while a state lives.
 */
#ifndef _KERNEL_DMA_BENCH_RUST_DMA_BENCH_H
#define _KERNEL_DMA_BENCH_RUST_DMA_BENCH_H

#include <linux/types.h>

struct device;
struct rust_dma_bench;

struct rust_dma_bench *rust_dma_bench_new(struct device *dev);
void rust_dma_bench_free(struct rust_dma_bench *state);
int rust_dma_bench_map(struct rust_dma_bench *state);
int rust_dma_bench_sync(struct rust_dma_bench *state);
int rust_dma_bench_sync_moved(struct rust_dma_bench *state);
int rust_dma_bench_pool(struct rust_dma_bench *state, bool zeroed);
int rust_dma_bench_ring(struct rust_dma_bench *state);

#endif
