// SPDX-License-Identifier: GPL-2.0

/*
 * Helpers for the Rust DMA-mapping core (kernel/dma/dma_mapping/dma_mapping.rs)
 * and the Rust swiotlb (kernel/dma/swiotlb/swiotlb.rs): the static inline
 * functions and macros of the DMA headers they call outside their fast
 * paths. The mapping core's fast paths read the device's fields directly.
 *
 * A helper named rust_helper_dma_rs_<name> wraps a <name> that is a real
 * function under some configurations and an inline stub under others, so
 * that it never clashes with the function's own binding.
 */

#include <linux/cc_platform.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/kmsan.h>
#include <linux/mm.h>
#include <linux/pci-p2pdma.h>
#include <linux/scatterlist.h>
#include <linux/swiotlb.h>

#ifdef CONFIG_ARM64
/*
 * The start of arm64's memory map, which bindgen cannot evaluate: with it
 * the Rust core computes page_to_phys() inline, without a call.
 */
const unsigned long dma_rs_vmemmap_start = VMEMMAP_START;
#endif

__rust_helper const struct dma_map_ops *rust_helper_get_dma_ops(struct device *dev)
{
	return get_dma_ops(dev);
}

__rust_helper void rust_helper_dev_assign_dma_skip_sync(struct device *dev,
							bool value)
{
	dev_assign_dma_skip_sync(dev, value);
}

__rust_helper struct io_tlb_pool *rust_helper_swiotlb_find_pool(struct device *dev,
								phys_addr_t paddr)
{
	return swiotlb_find_pool(dev, paddr);
}

__rust_helper bool rust_helper_is_swiotlb_for_alloc(struct device *dev)
{
	return is_swiotlb_for_alloc(dev);
}

__rust_helper struct page *rust_helper_dma_rs_swiotlb_alloc(struct device *dev,
							    size_t size)
{
	return swiotlb_alloc(dev, size);
}

__rust_helper bool rust_helper_dma_rs_swiotlb_free(struct device *dev,
						   struct page *page, size_t size)
{
	return swiotlb_free(dev, page, size);
}

__rust_helper bool rust_helper_dma_rs_is_swiotlb_active(struct device *dev)
{
	return is_swiotlb_active(dev);
}

__rust_helper size_t rust_helper_dma_rs_swiotlb_max_mapping_size(struct device *dev)
{
	return swiotlb_max_mapping_size(dev);
}

__rust_helper struct page *rust_helper_dma_rs_alloc_contiguous(struct device *dev,
							       size_t size,
							       gfp_t gfp)
{
	return dma_alloc_contiguous(dev, size, gfp);
}

__rust_helper void rust_helper_dma_rs_free_contiguous(struct device *dev,
						      struct page *page,
						      size_t size)
{
	dma_free_contiguous(dev, page, size);
}

__rust_helper int rust_helper_dma_rs_alloc_from_dev_coherent(struct device *dev,
							     ssize_t size,
							     dma_addr_t *dma_handle,
							     void **ret)
{
	return dma_alloc_from_dev_coherent(dev, size, dma_handle, ret);
}

__rust_helper int rust_helper_dma_rs_release_from_dev_coherent(struct device *dev,
							       int order,
							       void *vaddr)
{
	return dma_release_from_dev_coherent(dev, order, vaddr);
}

__rust_helper int rust_helper_dma_rs_mmap_from_dev_coherent(struct device *dev,
							    struct vm_area_struct *vma,
							    void *vaddr,
							    size_t size, int *ret)
{
	return dma_mmap_from_dev_coherent(dev, vma, vaddr, size, ret);
}

__rust_helper bool rust_helper_dma_rs_force_unencrypted(struct device *dev)
{
	return force_dma_unencrypted(dev);
}

__rust_helper dma_addr_t rust_helper_dma_rs_addr_encrypted(dma_addr_t addr)
{
	return dma_addr_encrypted(addr);
}

__rust_helper dma_addr_t rust_helper_dma_rs_addr_unencrypted(dma_addr_t addr)
{
	return dma_addr_unencrypted(addr);
}

__rust_helper dma_addr_t rust_helper_dma_rs_addr_canonical(dma_addr_t addr)
{
	return dma_addr_canonical(addr);
}

__rust_helper void rust_helper_dma_rs_kmsan_handle_dma(phys_addr_t phys,
						       size_t size,
						       enum dma_data_direction dir)
{
	kmsan_handle_dma(phys, size, dir);
}

__rust_helper void rust_helper_dma_rs_kmsan_handle_dma_sg(struct scatterlist *sg,
							  int nents,
							  enum dma_data_direction dir)
{
	kmsan_handle_dma_sg(sg, nents, dir);
}

__rust_helper enum pci_p2pdma_map_type
rust_helper_pci_p2pdma_state(struct pci_p2pdma_map_state *state,
			     struct device *dev, struct page *page)
{
	return pci_p2pdma_state(state, dev, page);
}

__rust_helper dma_addr_t rust_helper_pci_p2pdma_bus_addr_map(struct p2pdma_provider *provider,
							     phys_addr_t paddr)
{
	return pci_p2pdma_bus_addr_map(provider, paddr);
}

__rust_helper void rust_helper_sg_dma_mark_bus_address(struct scatterlist *sg)
{
	sg_dma_mark_bus_address(sg);
}

__rust_helper void rust_helper_sg_dma_unmark_bus_address(struct scatterlist *sg)
{
	sg_dma_unmark_bus_address(sg);
}

__rust_helper void rust_helper_sg_set_page(struct scatterlist *sg,
					   struct page *page, unsigned int len,
					   unsigned int offset)
{
	sg_set_page(sg, page, len, offset);
}

__rust_helper struct page *rust_helper_sg_page(struct scatterlist *sg)
{
	return sg_page(sg);
}

__rust_helper phys_addr_t rust_helper_page_to_phys(struct page *page)
{
	return page_to_phys(page);
}

__rust_helper struct page *rust_helper_pfn_to_page(unsigned long pfn)
{
	return pfn_to_page(pfn);
}

__rust_helper void *rust_helper_page_address(struct page *page)
{
	return page_address(page);
}

__rust_helper bool rust_helper_dma_rs_page_is_zone_device(struct page *page)
{
	return is_zone_device_page(page);
}

__rust_helper struct page *rust_helper_alloc_pages_node(int nid, gfp_t gfp,
							unsigned int order)
{
	return alloc_pages_node(nid, gfp, order);
}

__rust_helper pgprot_t rust_helper_dma_rs_pgprot_decrypted(pgprot_t prot)
{
	return pgprot_decrypted(prot);
}

__rust_helper pgprot_t rust_helper_dma_rs_pgprot_kernel(void)
{
	return PAGE_KERNEL;
}

__rust_helper bool rust_helper_dma_rs_irqs_disabled(void)
{
	return irqs_disabled();
}

__rust_helper void *rust_helper_devres_alloc(dr_release_t release, size_t size,
					     gfp_t gfp)
{
	return devres_alloc(release, size, gfp);
}

__rust_helper unsigned int rust_helper_dma_get_min_align_mask(struct device *dev)
{
	return dma_get_min_align_mask(dev);
}

__rust_helper dma_addr_t rust_helper_phys_to_dma_unencrypted(struct device *dev,
							     phys_addr_t paddr)
{
	return phys_to_dma_unencrypted(dev, paddr);
}

__rust_helper bool rust_helper_dma_capable(struct device *dev, dma_addr_t addr,
					   size_t size, bool is_ram)
{
	return dma_capable(dev, addr, size, is_ram);
}

__rust_helper void rust_helper_dma_reset_need_sync(struct device *dev)
{
	dma_reset_need_sync(dev);
}

/*
 * The architecture's cache maintenance of dma-direct for non-coherent
 * devices (kernel/dma/dma_mapping/arch.rs): real functions or inline stubs,
 * as the architecture selects.
 */
__rust_helper void rust_helper_dma_rs_arch_sync_for_device(phys_addr_t paddr,
							   size_t size,
							   enum dma_data_direction dir)
{
	arch_sync_dma_for_device(paddr, size, dir);
}

__rust_helper void rust_helper_dma_rs_arch_sync_for_cpu(phys_addr_t paddr,
							size_t size,
							enum dma_data_direction dir)
{
	arch_sync_dma_for_cpu(paddr, size, dir);
}

__rust_helper void rust_helper_dma_rs_arch_sync_flush(void)
{
	arch_sync_dma_flush();
}

__rust_helper void rust_helper_dma_rs_arch_sync_for_cpu_all(void)
{
	arch_sync_dma_for_cpu_all();
}

__rust_helper void rust_helper_dma_rs_arch_prep_coherent(struct page *page,
							 size_t size)
{
	arch_dma_prep_coherent(page, size);
}

__rust_helper bool rust_helper_dma_kmalloc_needs_bounce(struct device *dev,
							size_t size,
							enum dma_data_direction dir)
{
	return dma_kmalloc_needs_bounce(dev, size, dir);
}

/* dma_pgprot() for a device that does not snoop the CPU caches. */
__rust_helper pgprot_t rust_helper_dma_rs_pgprot_noncoherent(pgprot_t prot,
							     unsigned long attrs)
{
#ifdef CONFIG_ARCH_HAS_DMA_WRITE_COMBINE
	if (attrs & DMA_ATTR_WRITE_COMBINE)
		return pgprot_writecombine(prot);
#endif
	return pgprot_dmacoherent(prot);
}

/* Whether the platform encrypts memory (a function or a stub). */
__rust_helper bool rust_helper_dma_rs_cc_mem_encrypt(void)
{
	return cc_platform_has(CC_ATTR_MEM_ENCRYPT);
}
