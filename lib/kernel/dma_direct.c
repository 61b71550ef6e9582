/* SPDX-License-Identifier: MIT */
/*
 * dma-direct for identity domains (KERNEL_SPEC §2.6; kernel/dma/direct.c):
 * DMA address = physical address, checked against the device's reach.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include <iommusim/dma_direct.h>

#include "base/mem_int.h"
#include "base/util_int.h"
#include "kernel/iommu_int.h"

struct iommusim_dma_direct {
	struct iommusim_device *dev;
	_Atomic uint64_t map_pages, unmap_pages, map_sgs, unmap_sgs;
	_Atomic uint64_t map_errors, bytes_mapped;
};

static void
ctr_add(_Atomic uint64_t *c, uint64_t n)
{
	ims_stat_add(c, n); /* no locked instruction in solo mode (base/util_int.h) */
}

/* dma_capable(): the whole buffer below min(mask, bus limit). */
static bool
reachable(const struct iommusim_dma_direct *d, uint64_t phys, uint64_t size)
{
	uint64_t limit, last;

	/* The device's masks read in place (the core's struct, this layer's). */
	if (!d->dev)
		return false;
	limit = d->dev->dma_mask;
	if (d->dev->bus_dma_limit && d->dev->bus_dma_limit < limit)
		limit = d->dev->bus_dma_limit;
	if (!size || __builtin_add_overflow(phys, size - 1, &last))
		return false;
	return last <= limit;
}

IMS_NODISCARD static int
op_map_page(void *priv, uint64_t phys, uint64_t size, enum iommusim_dma_dir dir,
	    unsigned long attrs, const struct iommusim_ctx *ctx, uint64_t *dma_out)
{
	struct iommusim_dma_direct *d = priv;

	(void)dir;
	(void)attrs;
	(void)ctx;
	if (!dma_out)
		return -EINVAL;
	/* dma_direct_map_page(): without swiotlb an unreachable buffer is
	 * DMA_MAPPING_ERROR ("DMA addr ... overflow"). */
	if (!reachable(d, phys, size)) {
		ctr_add(&d->map_errors, 1);
		return -EIO;
	}
	*dma_out = phys;
	ctr_add(&d->map_pages, 1);
	ctr_add(&d->bytes_mapped, size);
	return 0;
}

IMS_NODISCARD static int
op_unmap_page(void *priv, uint64_t dma, uint64_t size, enum iommusim_dma_dir dir,
	      unsigned long attrs, const struct iommusim_ctx *ctx)
{
	struct iommusim_dma_direct *d = priv;

	(void)dma;
	(void)size;
	(void)dir;
	(void)attrs;
	(void)ctx;
	ctr_add(&d->unmap_pages, 1);
	return 0;
}

IMS_NODISCARD static int
op_map_sg(void *priv, struct iommusim_dma_sg *sg, size_t nents, enum iommusim_dma_dir dir,
	  unsigned long attrs, const struct iommusim_ctx *ctx, size_t *nsegs_out)
{
	struct iommusim_dma_direct *d = priv;
	uint64_t bytes = 0;
	size_t i;

	(void)dir;
	(void)attrs;
	(void)ctx;
	if (!sg || !nents || !nsegs_out)
		return -EINVAL;
	/* dma_direct_map_sg(): each element on its own; one that cannot be
	 * reached fails the whole list. */
	for (i = 0; i < nents; i++) {
		if (!reachable(d, sg[i].phys, sg[i].length)) {
			ctr_add(&d->map_errors, 1);
			return -EIO;
		}
	}
	for (i = 0; i < nents; i++) {
		sg[i].dma_address = sg[i].phys;
		sg[i].dma_length = sg[i].length;
		bytes += sg[i].length;
	}
	*nsegs_out = nents;
	ctr_add(&d->map_sgs, 1);
	ctr_add(&d->bytes_mapped, bytes);
	return 0;
}

IMS_NODISCARD static int
op_unmap_sg(void *priv, struct iommusim_dma_sg *sg, size_t nents, enum iommusim_dma_dir dir,
	    unsigned long attrs, const struct iommusim_ctx *ctx)
{
	struct iommusim_dma_direct *d = priv;

	(void)dir;
	(void)attrs;
	(void)ctx;
	if (!sg || !nents)
		return -EINVAL;
	ctr_add(&d->unmap_sgs, 1);
	return 0;
}

IMS_NODISCARD static int
op_stats_get(void *priv, struct iommusim_dma_stats *out)
{
	const struct iommusim_dma_direct *d = priv;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->map_pages = atomic_load_explicit(&d->map_pages, memory_order_relaxed);
	out->unmap_pages = atomic_load_explicit(&d->unmap_pages, memory_order_relaxed);
	out->map_sgs = atomic_load_explicit(&d->map_sgs, memory_order_relaxed);
	out->unmap_sgs = atomic_load_explicit(&d->unmap_sgs, memory_order_relaxed);
	out->map_errors = atomic_load_explicit(&d->map_errors, memory_order_relaxed);
	out->bytes_mapped = atomic_load_explicit(&d->bytes_mapped, memory_order_relaxed);
	return 0; /* no IOVA space: iova_pages_live stays 0 */
}

static const struct iommusim_dma_ops dma_direct_ops = {
	.map_page = op_map_page,
	.unmap_page = op_unmap_page,
	.map_sg = op_map_sg,
	.unmap_sg = op_unmap_sg,
	.stats_get = op_stats_get,
	.name = "dma-direct",
};

int
iommusim_dma_direct_create(struct iommusim_device *dev, struct iommusim_dma_direct **out,
			   struct iommusim_dma *dma_out)
{
	struct iommusim_dma_direct *d;

	if (!dev || !out || !dma_out)
		return -EINVAL;
	d = ims_zalloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->dev = dev;
	*out = d;
	dma_out->ops = &dma_direct_ops;
	dma_out->priv = d;
	return 0;
}

void
iommusim_dma_direct_destroy(struct iommusim_dma_direct *d)
{
	ims_free(d);
}
