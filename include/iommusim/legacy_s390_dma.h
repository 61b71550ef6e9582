/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The s390 DMA API before v6.7 (KERNEL_SPEC §6, arch/s390/pci/pci_dma.c as of
 * v6.2-v6.6): per function a bitmap IOVA allocator searched next-fit upwards
 * (the last page never handed out, no natural alignment, the 4 GiB segment
 * boundary), a lazy bitmap of freed addresses that become reusable only after
 * one global RPCIT per wrap-around, strict mode, the map-time purge only with
 * tlb_refresh and its -ENOMEM recovery, map_sg chunk merging, and the
 * counters of that era. It is the baseline the seeds compare dma-iommu with.
 *
 * Thread-safety: map, unmap and the sg variants may run concurrently from
 * any threads: the allocator state is under one spinlock per function, as
 * pci_dma.c's iommu_bitmap_lock; the counters are atomics. Create and
 * destroy with no DMA in flight.
 */
#ifndef IOMMUSIM_LEGACY_S390_DMA_H
#define IOMMUSIM_LEGACY_S390_DMA_H

#include <stdbool.h>
#include <stdint.h>

#include <iommusim/common.h>
#include <iommusim/ctx.h>
#include <iommusim/dma.h>
#include <iommusim/zpci.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Module parameters and machine facts of pci_dma.c. */
struct iommusim_legacy_dma_cfg {
	bool strict; /**< s390_iommu=strict (default lazy) */
	uint64_t aperture; /**< s390_iommu_aperture; 0 = 16 GiB (memory size) */
	uint32_t
		seg_boundary_pages; /**< segment boundary in pages; 0 = 2^20 (4 GiB, the PCI default) */
	uint32_t max_seg_size; /**< map_sg chunk limit in bytes; 0 = 65536 (the PCI default) */
	/** Room to grow (docs/abi.md): zero, or the call fails with -EINVAL. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/** The pre-6.7 debugfs counters, plus what the simulation wants. */
struct iommusim_legacy_dma_counters {
	uint64_t allocated_pages; /**< "Allocated pages" (coherent allocations) */
	uint64_t mapped_pages; /**< "Mapped pages" */
	uint64_t unmapped_pages; /**< "Unmapped pages" */
	uint64_t global_rpcits; /**< global RPCITs (wrap-around and -ENOMEM recovery) */
	uint64_t wraps; /**< searches that wrapped around */
	uint64_t map_rpcits; /**< ranged RPCITs on map (tlb_refresh) */
	uint64_t unmap_rpcits; /**< ranged RPCITs on unmap (strict) */
	uint64_t enomem_recoveries; /**< -ENOMEM purges recovered by a global RPCIT */
	uint64_t leaked_pages; /**< pages not freed because the unmap purge failed */
	uint64_t lazy_pages; /**< pages waiting in the lazy bitmap now */
	uint64_t used_pages; /**< pages set in the IOMMU bitmap now */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/** One function's DMA state (zdev's iommu_bitmap etc.). Opaque. */
struct iommusim_legacy_dma;

/**
 * zpci_dma_init_device() (§6.1): a root table, the window trimmed to the
 * aperture, the bitmaps, and the IOTA registered (failure -> -EIO).
 * @param dma_out the generic DMA handle of this instance
 * @return 0; -EINVAL; -ENOMEM; -EIO
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_legacy_dma_create(struct iommusim_zpci_fn *fn, const struct iommusim_legacy_dma_cfg *cfg,
			   const struct iommusim_ctx *ctx, struct iommusim_legacy_dma **out,
			   struct iommusim_dma *dma_out);

/** zpci_dma_exit_device(): deregister, free tables and bitmaps. NULL is a no-op. */
IOMMUSIM_API void iommusim_legacy_dma_destroy(struct iommusim_legacy_dma *l,
					      const struct iommusim_ctx *ctx);

/**
 * dma_alloc_coherent / dma_free_coherent (§6.4): a page-aligned
 * bidirectional mapping of @p phys counted in allocated_pages.
 * @return as map_page
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_legacy_dma_alloc_coherent(struct iommusim_legacy_dma *l, uint64_t phys, uint64_t size,
				   const struct iommusim_ctx *ctx, uint64_t *dma_out);
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_legacy_dma_free_coherent(struct iommusim_legacy_dma *l, uint64_t dma, uint64_t size,
				  const struct iommusim_ctx *ctx);

/** @return 0; -EINVAL on NULL */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_legacy_dma_counters_get(const struct iommusim_legacy_dma *l,
				 struct iommusim_legacy_dma_counters *out);

/** The window in force: [start_dma, end_dma], iommu_pages and next_bit. */
struct iommusim_legacy_dma_info {
	uint64_t start_dma, end_dma;
	uint64_t iommu_pages;
	uint64_t next_bit;
	bool strict;
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/** @return 0; -EINVAL on NULL */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_legacy_dma_info_get(const struct iommusim_legacy_dma *l,
			     struct iommusim_legacy_dma_info *out);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_LEGACY_S390_DMA_H */
