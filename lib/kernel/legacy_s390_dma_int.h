/* SPDX-License-Identifier: MIT */
/* The pre-6.7 s390 DMA API's internals shared with its tests: the bitmap allocator and checks. */
#ifndef IMS_LEGACY_S390_DMA_INT_H
#define IMS_LEGACY_S390_DMA_INT_H

#include <stddef.h>
#include <stdint.h>

#include <iommusim/ctx.h>
#include <iommusim/legacy_s390_dma.h>
#include <iommusim/zpci_table.h>

#include "base/util_int.h"

/* The Mapped and Unmapped pages counters (§6), without the whole counters
 * structure: the run reads them after every map and unmap. */
void ims_legacy_dma_pages(const struct iommusim_legacy_dma *l, uint64_t *mapped,
			  uint64_t *unmapped);

/* The function's translation table (owned by @l). */
struct iommusim_zpci_table *ims_legacy_dma_table(const struct iommusim_legacy_dma *l);

/*
 * dma_alloc_address() (§6.2): @npages pages from the bitmap, next-fit from
 * next_bit, wrapping once (with the global RPCIT in lazy mode).
 * @return 0 and *addr_out; -ENOSPC when nothing fits; the global RPCIT's
 *         error (-ENOMEM, -EIO) when it failed
 */
IMS_NODISCARD int ims_legacy_dma_alloc_address(struct iommusim_legacy_dma *l, uint64_t npages,
					       const struct iommusim_ctx *ctx, uint64_t *addr_out);

/* dma_free_address() (§6.2): strict clears the bits, lazy marks them in the lazy bitmap. */
void ims_legacy_dma_free_address(struct iommusim_legacy_dma *l, uint64_t addr, uint64_t npages);

/* Whether page @index of the window is set in the IOMMU (lazy) bitmap. */
bool ims_legacy_dma_page_used(const struct iommusim_legacy_dma *l, uint64_t index);
bool ims_legacy_dma_page_lazy(const struct iommusim_legacy_dma *l, uint64_t index);

/*
 * Check the invariants: used/lazy counters equal the bitmaps' popcounts, the
 * lazy bitmap is a subset of the IOMMU bitmap, no bit at or beyond the last
 * page. @return 0, or -EPROTO with a reason in @why.
 */
IMS_NODISCARD int ims_legacy_dma_check(const struct iommusim_legacy_dma *l, char *why, size_t len);

#endif /* IMS_LEGACY_S390_DMA_INT_H */
