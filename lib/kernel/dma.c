/* SPDX-License-Identifier: MIT */
/* Dispatch of the generic DMA API to its implementation. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <iommusim/dma.h>

int
iommusim_dma_map_page(const struct iommusim_dma *dma, uint64_t phys, uint64_t size,
		      enum iommusim_dma_dir dir, unsigned long attrs,
		      const struct iommusim_ctx *ctx, uint64_t *dma_out)
{
	if (!dma || !dma->ops || !dma_out)
		return -EINVAL;
	return dma->ops->map_page(dma->priv, phys, size, dir, attrs, ctx, dma_out);
}

int
iommusim_dma_unmap_page(const struct iommusim_dma *dma, uint64_t dma_addr, uint64_t size,
			enum iommusim_dma_dir dir, unsigned long attrs,
			const struct iommusim_ctx *ctx)
{
	if (!dma || !dma->ops)
		return -EINVAL;
	return dma->ops->unmap_page(dma->priv, dma_addr, size, dir, attrs, ctx);
}

int
iommusim_dma_map_sg(const struct iommusim_dma *dma, struct iommusim_dma_sg *sg, size_t nents,
		    enum iommusim_dma_dir dir, unsigned long attrs, const struct iommusim_ctx *ctx,
		    size_t *nsegs_out)
{
	if (!dma || !dma->ops || !nsegs_out)
		return -EINVAL;
	return dma->ops->map_sg(dma->priv, sg, nents, dir, attrs, ctx, nsegs_out);
}

int
iommusim_dma_unmap_sg(const struct iommusim_dma *dma, struct iommusim_dma_sg *sg, size_t nents,
		      enum iommusim_dma_dir dir, unsigned long attrs,
		      const struct iommusim_ctx *ctx)
{
	if (!dma || !dma->ops)
		return -EINVAL;
	return dma->ops->unmap_sg(dma->priv, sg, nents, dir, attrs, ctx);
}

int
iommusim_dma_stats_get(const struct iommusim_dma *dma, struct iommusim_dma_stats *out)
{
	if (!dma || !dma->ops || !out)
		return -EINVAL;
	/* Whatever the ops fill, the room to grow reads zero (docs/abi.md). */
	memset(out, 0, sizeof(*out));
	return dma->ops->stats_get(dma->priv, out);
}
