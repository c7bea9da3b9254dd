// SPDX-License-Identifier: GPL-2.0-only
/*
 * C glue of the Rust dma-debug (kernel/dma/dma_debug/dma_debug.rs): what Rust cannot
 * declare itself. The boot parameters dma_debug=, dma_debug_entries= and
 * dma_debug_driver=, the initcalls, the file operations of the
 * driver_filter and dump files, and the exports of debug.c.
 */

#include <linux/dma-mapping.h>
#include <linux/export.h>
#include <linux/init.h>

#include "debug.h"
#include "dma_debug_rs.h"

static int __init dma_debug_cmdline(char *str)
{
	dma_debug_rs_param_debug(str);
	return 1;
}
__setup("dma_debug=", dma_debug_cmdline);

static int __init dma_debug_entries_cmdline(char *str)
{
	dma_debug_rs_param_entries(str);
	return 1;
}
__setup("dma_debug_entries=", dma_debug_entries_cmdline);

static int __init dma_debug_driver_cmdline(char *str)
{
	dma_debug_rs_param_driver(str);
	return 1;
}
__setup("dma_debug_driver=", dma_debug_driver_cmdline);

static int __init dma_debug_init(void)
{
	return dma_debug_rs_init();
}
core_initcall(dma_debug_init);

static int __init dma_debug_fs_init(void)
{
	return dma_debug_rs_fs_init();
}
core_initcall_sync(dma_debug_fs_init);

const struct file_operations dma_debug_rs_filter_fops = {
	.read = dma_debug_rs_filter_read,
	.write = dma_debug_rs_filter_write,
	.llseek = default_llseek,
};

static int dma_debug_dump_open(struct inode *inode, struct file *file)
{
	return single_open(file, dma_debug_rs_dump_show, inode->i_private);
}

const struct file_operations dma_debug_rs_dump_fops = {
	.open = dma_debug_dump_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

EXPORT_SYMBOL(debug_dma_map_single);
EXPORT_SYMBOL(debug_dma_mapping_error);
