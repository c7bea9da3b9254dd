// SPDX-License-Identifier: GPL-2.0

/*
 * Helpers for the Rust dma-debug (kernel/dma/dma_debug/dma_debug.rs): the inline
 * functions of the memory and DMA headers its checks call.
 */

#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/sched/task_stack.h>

__rust_helper struct vm_struct *rust_helper_task_stack_vm_area(const struct task_struct *t)
{
	return task_stack_vm_area(t);
}

__rust_helper int rust_helper_object_is_on_stack(const void *obj)
{
	return object_is_on_stack(obj);
}

__rust_helper bool rust_helper_dma_rs_pfn_is_ram(unsigned long pfn)
{
	return pfn_valid(pfn) && !PageReserved(pfn_to_page(pfn));
}

__rust_helper void *rust_helper_dma_rs_phys_to_virt(phys_addr_t phys)
{
	return phys_to_virt(phys);
}

__rust_helper int rust_helper_dma_get_cache_alignment(void)
{
	return dma_get_cache_alignment();
}

__rust_helper unsigned int rust_helper_dma_get_max_seg_size(struct device *dev)
{
	return dma_get_max_seg_size(dev);
}

__rust_helper unsigned long rust_helper_dma_get_seg_boundary(struct device *dev)
{
	return dma_get_seg_boundary(dev);
}

/* virt_addr_valid(): a function on x86-64, a macro on arm64. */
__rust_helper bool rust_helper_dma_rs_virt_addr_valid(const void *addr)
{
	return virt_addr_valid(addr);
}

__rust_helper struct page *rust_helper_dma_rs_virt_to_page(const void *addr)
{
	return virt_to_page(addr);
}

/* The physical address of a symbol of the kernel image (__pa_symbol()). */
__rust_helper phys_addr_t rust_helper_dma_rs_pa_symbol(const void *sym)
{
	return __pa_symbol(sym);
}

__rust_helper unsigned long rust_helper_dma_rs_totalram_pages(void)
{
	return totalram_pages();
}

__rust_helper bool rust_helper_dma_rs_is_zero_pfn(unsigned long pfn)
{
	return is_zero_pfn(pfn);
}
