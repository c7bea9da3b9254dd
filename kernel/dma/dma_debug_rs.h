/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Entry points of the Rust dma-debug (kernel/dma/dma_debug/dma_debug.rs) for its C
 * glue (kernel/dma/dma_debug_glue.c): initialisation, the boot parameters
 * and the debugfs files that need file operations.
 */
#ifndef _KERNEL_DMA_DMA_DEBUG_RS_H
#define _KERNEL_DMA_DMA_DEBUG_RS_H

#include <linux/fs.h>
#include <linux/seq_file.h>
#include <linux/types.h>

int dma_debug_rs_init(void);
int dma_debug_rs_fs_init(void);
void dma_debug_rs_param_debug(const char *s);
void dma_debug_rs_param_entries(const char *s);
void dma_debug_rs_param_driver(const char *s);
ssize_t dma_debug_rs_filter_read(struct file *file, char __user *user_buf,
				 size_t count, loff_t *ppos);
ssize_t dma_debug_rs_filter_write(struct file *file,
				  const char __user *user_buf, size_t count,
				  loff_t *ppos);
int dma_debug_rs_dump_show(struct seq_file *seq, void *v);

extern const struct file_operations dma_debug_rs_filter_fops;
extern const struct file_operations dma_debug_rs_dump_fops;

#endif /* _KERNEL_DMA_DMA_DEBUG_RS_H */
