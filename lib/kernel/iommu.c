/* SPDX-License-Identifier: MIT */
/*
 * The IOMMU core (KERNEL_SPEC §2.6, §2.9): devices and domains over a driver
 * ops table, iommu_map/unmap with the page-size loop and the gather, and the
 * default-domain-type rules.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <iommusim/iommu.h>

#include "kernel/iommu_int.h"
#include "base/mem_int.h"
#include "base/util_int.h"

/* §2.1: flush-queue sizes and timeouts dma-iommu picks (v6.7). */
#define IOVA_DEFAULT_FQ_SIZE 256
#define IOVA_DEFAULT_FQ_TIMEOUT 10
#define IOVA_SINGLE_FQ_SIZE 32768
#define IOVA_SINGLE_FQ_TIMEOUT 1000

/* A copy of @name, or "dev<n>" when it is NULL. */
static char *
dup_name(const char *name, unsigned long n)
{
	char buf[32];

	if (!name) {
		snprintf(buf, sizeof(buf), "dev%lu", n);
		name = buf;
	}
	return ims_strdup(name);
}

const char *
iommusim_domain_type_name(enum iommusim_domain_type type)
{
	switch (type) {
	case IOMMUSIM_DOMAIN_NONE:
		return "none";
	case IOMMUSIM_DOMAIN_BLOCKED:
		return "blocked";
	case IOMMUSIM_DOMAIN_IDENTITY:
		return "identity";
	case IOMMUSIM_DOMAIN_UNMANAGED:
		return "unmanaged";
	case IOMMUSIM_DOMAIN_DMA:
		return "DMA";
	case IOMMUSIM_DOMAIN_DMA_FQ:
		return "DMA-FQ";
	}
	return "unknown";
}

static bool
is_paging(enum iommusim_domain_type type)
{
	return type == IOMMUSIM_DOMAIN_DMA || type == IOMMUSIM_DOMAIN_DMA_FQ ||
	       type == IOMMUSIM_DOMAIN_UNMANAGED;
}

/* ---- gather (include/linux/iommu.h helpers) ----------------------------- */

void
iommusim_iotlb_gather_init(struct iommusim_iotlb_gather *g)
{
	g->start = UINT64_MAX;
	g->last = 0;
	g->pgsize = 0;
	g->queued = false;
}

void
iommusim_iotlb_gather_add_range(struct iommusim_iotlb_gather *g, uint64_t iova, uint64_t size)
{
	uint64_t last = iova + size - 1;

	if (g->start > iova)
		g->start = iova;
	if (g->last < last)
		g->last = last;
}

bool
iommusim_iotlb_gather_is_disjoint(const struct iommusim_iotlb_gather *g, uint64_t iova,
				  uint64_t size)
{
	uint64_t start = iova, last = iova + size - 1;

	/* Adjacent ranges are not disjoint: they still make one range. */
	return g->last != 0 && (last + 1 < g->start || start > g->last + 1);
}

/* ---- IOMMU instances and devices ---------------------------------------- */

int
iommusim_iommu_create(const struct iommusim_iommu_ops *ops, void *drv,
		      const struct iommusim_iommu_policy *policy, struct iommusim_iommu **out)
{
	struct iommusim_iommu *iommu;

	if (!ops || !out || !ops->probe_device || !ops->capable || !ops->domain_alloc_paging ||
	    !ops->domain_free || !ops->attach_dev || !ops->map_pages || !ops->unmap_pages ||
	    !ops->iova_to_phys || !IMS_RESERVED_ZERO(ops, reserved0) ||
	    (policy && !IMS_RESERVED_ZERO(policy, reserved0)))
		return -EINVAL;
	iommu = ims_zalloc(sizeof(*iommu));
	if (!iommu)
		return -ENOMEM;
	iommu->ops = ops;
	iommu->drv = drv;
	if (policy)
		iommu->policy = *policy;
	/* §2.6: iommu_dma_strict starts from Kconfig; iommu.strict= overrides;
	 * s390_iommu=strict calls iommu_set_dma_strict(). */
	iommu->dma_strict = iommu->policy.kconfig_strict;
	if (iommu->policy.strict_set)
		iommu->dma_strict = iommu->policy.strict;
	if (iommu->policy.s390_strict)
		iommu->dma_strict = true;
	pthread_mutex_init(&iommu->lock, NULL);
	*out = iommu;
	return 0;
}

void
iommusim_iommu_destroy(struct iommusim_iommu *iommu)
{
	if (!iommu)
		return;
	ims_assert(atomic_load(&iommu->ndevices) == 0);
	pthread_mutex_destroy(&iommu->lock);
	ims_free(iommu);
}

void *
iommusim_iommu_drvdata(const struct iommusim_iommu *iommu)
{
	return iommu ? iommu->drv : NULL;
}

bool
iommusim_iommu_dma_strict(const struct iommusim_iommu *iommu)
{
	return iommu && iommu->dma_strict;
}

int
iommusim_device_create(struct iommusim_iommu *iommu, const struct iommusim_device_cfg *cfg,
		       struct iommusim_device **out)
{
	static atomic_ulong next_id;
	struct iommusim_device *dev;
	int ret;

	if (!iommu || !cfg || !out || !IMS_RESERVED_ZERO(cfg, reserved0))
		return -EINVAL;
	dev = ims_zalloc(sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->name = dup_name(cfg->name, atomic_fetch_add(&next_id, 1));
	if (!dev->name) {
		ims_free(dev);
		return -ENOMEM;
	}
	dev->iommu = iommu;
	dev->is_pci = cfg->is_pci;
	dev->untrusted = cfg->untrusted;
	dev->dma_mask = cfg->dma_mask ? cfg->dma_mask : UINT64_MAX;
	dev->coherent_dma_mask = cfg->coherent_dma_mask ? cfg->coherent_dma_mask : UINT64_MAX;
	dev->bus_dma_limit = cfg->bus_dma_limit;
	/* pci_device_add() defaults: 4 GiB segment boundary, 64 KiB segments. */
	dev->seg_boundary_mask = cfg->seg_boundary_mask ? cfg->seg_boundary_mask : 0xffffffffu;
	dev->max_seg_size = cfg->max_seg_size ? cfg->max_seg_size : 65536;
	dev->drvdata = cfg->drvdata;
	/* §2.6: PCI devices try 32-bit IOVAs first unless iommu.forcedac. */
	dev->pci_32bit_workaround = dev->is_pci && !iommu->policy.forcedac;
	ret = iommu->ops->probe_device(iommu->drv, dev);
	if (ret) {
		ims_free(dev->name);
		ims_free(dev);
		return ret;
	}
	atomic_fetch_add(&iommu->ndevices, 1);
	*out = dev;
	return 0;
}

void
iommusim_device_destroy(struct iommusim_device *dev, const struct iommusim_ctx *ctx)
{
	struct iommusim_iommu *iommu;

	if (!dev)
		return;
	iommu = dev->iommu;
	if (dev->domain)
		/* Release: a failed detach leaves nothing more to undo. */
		IMS_IGNORE(iommusim_iommu_detach_device(dev->domain, dev, ctx));
	if (iommu->ops->release_device)
		iommu->ops->release_device(iommu->drv, dev);
	atomic_fetch_sub(&iommu->ndevices, 1);
	ims_free(dev->name);
	ims_free(dev);
}

int
iommusim_device_info_get(const struct iommusim_device *dev, struct iommusim_device_info *out)
{
	if (!dev || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->name = dev->name;
	out->is_pci = dev->is_pci;
	out->untrusted = dev->untrusted;
	out->shadow_on_flush = dev->shadow_on_flush;
	out->pci_32bit_workaround = dev->pci_32bit_workaround;
	out->dma_mask = dev->dma_mask;
	out->coherent_dma_mask = dev->coherent_dma_mask;
	out->bus_dma_limit = dev->bus_dma_limit;
	out->seg_boundary_mask = dev->seg_boundary_mask;
	out->max_seg_size = dev->max_seg_size;
	out->domain = dev->domain;
	return 0;
}

void *
iommusim_device_drvdata(const struct iommusim_device *dev)
{
	return dev ? dev->drvdata : NULL;
}

struct iommusim_iommu *
iommusim_device_iommu(const struct iommusim_device *dev)
{
	return dev ? dev->iommu : NULL;
}

void
iommusim_device_set_iommu_priv(struct iommusim_device *dev, void *priv)
{
	if (dev)
		dev->iommu_priv = priv;
}

void *
iommusim_device_iommu_priv(const struct iommusim_device *dev)
{
	return dev ? dev->iommu_priv : NULL;
}

void
iommusim_device_set_shadow_on_flush(struct iommusim_device *dev, bool on)
{
	if (dev)
		dev->shadow_on_flush = on;
}

void
iommusim_device_set_pci_32bit_workaround(struct iommusim_device *dev, bool on)
{
	if (dev)
		dev->pci_32bit_workaround = on;
}

void
iommusim_device_set_dma_masks(struct iommusim_device *dev, uint64_t dma_mask,
			      uint64_t coherent_dma_mask)
{
	if (!dev)
		return;
	dev->dma_mask = dma_mask;
	dev->coherent_dma_mask = coherent_dma_mask;
}

bool
iommusim_device_capable(struct iommusim_device *dev, enum iommusim_iommu_cap cap)
{
	return dev && dev->iommu->ops->capable(dev->iommu->drv, dev, cap);
}

int
iommusim_device_resv_regions(struct iommusim_device *dev, struct iommusim_resv_region *regions,
			     size_t max, size_t *n)
{
	if (!dev || !n || (max && !regions))
		return -EINVAL;
	*n = 0;
	if (!dev->iommu->ops->get_resv_regions)
		return 0;
	return dev->iommu->ops->get_resv_regions(dev->iommu->drv, dev, regions, max, n);
}

/* ---- default domain type (§2.6) ----------------------------------------- */

int
iommusim_iommu_decide_domain_type(struct iommusim_device *dev, struct iommusim_domain_decision *out)
{
	const struct iommusim_iommu *iommu;

	if (!dev || !out)
		return -EINVAL;
	iommu = dev->iommu;
	memset(out, 0, sizeof(*out));
	/* iommu_subsys_init(): passthrough, else lazy unless strict. */
	if (iommu->policy.passthrough)
		out->global_default = IOMMUSIM_DOMAIN_IDENTITY;
	else
		out->global_default =
			iommu->dma_strict ? IOMMUSIM_DOMAIN_DMA : IOMMUSIM_DOMAIN_DMA_FQ;
	if (iommu->ops->def_domain_type)
		out->driver_type = iommu->ops->def_domain_type(iommu->drv, dev);
	/* iommu_get_default_domain_type(): the driver's requirement wins; an
	 * untrusted PCI device is strict, and a driver demanding anything
	 * else for it makes probing fail. */
	out->requested = out->driver_type ? out->driver_type : out->global_default;
	if (dev->is_pci && dev->untrusted) {
		if (out->driver_type && out->driver_type != IOMMUSIM_DOMAIN_DMA)
			return -EINVAL;
		out->requested = IOMMUSIM_DOMAIN_DMA;
	}
	/* iommu_dma_init_domain(): no deferred flush, no flush queue. */
	out->effective = out->requested;
	if (out->requested == IOMMUSIM_DOMAIN_DMA_FQ &&
	    !iommusim_device_capable(dev, IOMMUSIM_CAP_DEFERRED_FLUSH)) {
		out->effective = IOMMUSIM_DOMAIN_DMA;
		out->downgraded_no_deferred_flush = true;
	}
	/* §2.5 iommu_dma_init_options(): from the first device. */
	if (out->effective == IOMMUSIM_DOMAIN_DMA_FQ) {
		out->fq.single_queue = dev->shadow_on_flush;
		out->fq.size = dev->shadow_on_flush ? IOVA_SINGLE_FQ_SIZE : IOVA_DEFAULT_FQ_SIZE;
		out->fq.timeout_ms =
			dev->shadow_on_flush ? IOVA_SINGLE_FQ_TIMEOUT : IOVA_DEFAULT_FQ_TIMEOUT;
	}
	return 0;
}

/* ---- domains ------------------------------------------------------------ */

int
iommusim_domain_alloc(struct iommusim_device *dev, enum iommusim_domain_type type,
		      struct iommusim_domain **out)
{
	struct iommusim_domain *dom;
	int ret;

	if (!dev || !out || (!is_paging(type) && type != IOMMUSIM_DOMAIN_IDENTITY))
		return -EINVAL;
	/* __iommu_domain_alloc(): identity only from a driver that has one. */
	if (type == IOMMUSIM_DOMAIN_IDENTITY && !dev->iommu->ops->domain_alloc_identity)
		return -EOPNOTSUPP;
	dom = ims_zalloc(sizeof(*dom));
	if (!dom)
		return -ENOMEM;
	dom->iommu = dev->iommu;
	dom->type = type;
	if (type == IOMMUSIM_DOMAIN_IDENTITY)
		ret = dev->iommu->ops->domain_alloc_identity(dev->iommu->drv, dev, dom, &dom->priv);
	else
		ret = dev->iommu->ops->domain_alloc_paging(dev->iommu->drv, dev, dom, &dom->priv);
	if (ret) {
		ims_free(dom);
		return ret;
	}
	*out = dom;
	return 0;
}

int
iommusim_iommu_alloc_default_domain(struct iommusim_device *dev,
				    struct iommusim_domain_decision *dd,
				    struct iommusim_domain **out)
{
	enum iommusim_domain_type type;
	int ret;

	if (!dev || !dd || !out)
		return -EINVAL;
	ret = iommusim_iommu_decide_domain_type(dev, dd);
	if (ret)
		return ret;
	/* iommu_group_alloc_default_domain(): a type the driver or the
	 * untrusted rule asked for is allocated or fails; the global default
	 * falls back to DMA. The domain is made of the requested type (DMA-FQ
	 * too): the DEFERRED_FLUSH gate is dma-iommu's, at init. */
	type = dd->requested;
	ret = iommusim_domain_alloc(dev, type, out);
	if (!ret || dd->driver_type || (dev->is_pci && dev->untrusted) ||
	    type == IOMMUSIM_DOMAIN_DMA)
		return ret;
	ret = iommusim_domain_alloc(dev, IOMMUSIM_DOMAIN_DMA, out);
	if (ret)
		return ret;
	dd->fell_back_to_dma = true;
	dd->effective = IOMMUSIM_DOMAIN_DMA;
	dd->downgraded_no_deferred_flush = false;
	memset(&dd->fq, 0, sizeof(dd->fq));
	return 0;
}

void
iommusim_domain_free(struct iommusim_domain *dom)
{
	if (!dom)
		return;
	ims_assert(atomic_load(&dom->ndevices) == 0);
	dom->iommu->ops->domain_free(dom->priv);
	ims_free(dom);
}

void
iommusim_domain_set_geometry(struct iommusim_domain *dom,
			     const struct iommusim_domain_geometry *geo)
{
	if (dom && geo)
		dom->geometry = *geo;
}

void
iommusim_domain_set_pgsize_bitmap(struct iommusim_domain *dom, uint64_t pgsize_bitmap)
{
	if (dom)
		dom->pgsize_bitmap = pgsize_bitmap;
}

int
iommusim_domain_info_get(const struct iommusim_domain *dom, struct iommusim_domain_info *out)
{
	if (!dom || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->type = dom->type;
	out->geometry = dom->geometry;
	out->pgsize_bitmap = dom->pgsize_bitmap;
	out->ndevices = atomic_load(&dom->ndevices);
	return 0;
}

void *
iommusim_domain_priv(const struct iommusim_domain *dom)
{
	return dom ? dom->priv : NULL;
}

int
iommusim_domain_set_type(struct iommusim_domain *dom, enum iommusim_domain_type type)
{
	if (!dom || (type != IOMMUSIM_DOMAIN_DMA && type != IOMMUSIM_DOMAIN_DMA_FQ) ||
	    (dom->type != IOMMUSIM_DOMAIN_DMA && dom->type != IOMMUSIM_DOMAIN_DMA_FQ))
		return -EINVAL;
	dom->type = type;
	return 0;
}

int
iommusim_iommu_attach_device(struct iommusim_domain *dom, struct iommusim_device *dev,
			     const struct iommusim_ctx *ctx)
{
	struct iommusim_domain *old;
	int ret;

	if (!dom || !dev || dom->iommu != dev->iommu)
		return -EINVAL;
	pthread_mutex_lock(&dev->iommu->lock);
	old = dev->domain;
	if (old == dom) {
		pthread_mutex_unlock(&dev->iommu->lock);
		return 0;
	}
	/* The driver moves the device from its previous domain itself. If the
	 * new domain refuses it, the core attaches it to the old one again, as
	 * the kernel's group attach does on its error path; that revert "must
	 * succeed" (the kernel only warns), so the old domain stays on record. */
	ret = dev->iommu->ops->attach_dev(dom->priv, dev, ctx);
	if (!ret) {
		if (old)
			atomic_fetch_sub(&old->ndevices, 1);
		atomic_fetch_add(&dom->ndevices, 1);
		dev->domain = dom;
	} else if (old) {
		(void)dev->iommu->ops->attach_dev(old->priv, dev, ctx);
	}
	pthread_mutex_unlock(&dev->iommu->lock);
	return ret;
}

int
iommusim_iommu_detach_device(struct iommusim_domain *dom, struct iommusim_device *dev,
			     const struct iommusim_ctx *ctx)
{
	if (!dom || !dev)
		return -EINVAL;
	pthread_mutex_lock(&dev->iommu->lock);
	if (dev->domain != dom) {
		pthread_mutex_unlock(&dev->iommu->lock);
		return -EINVAL;
	}
	if (dev->iommu->ops->detach_dev)
		dev->iommu->ops->detach_dev(dom->priv, dev, ctx);
	atomic_fetch_sub(&dom->ndevices, 1);
	dev->domain = NULL;
	pthread_mutex_unlock(&dev->iommu->lock);
	return 0;
}

/* ---- map and unmap (§2.9) ----------------------------------------------- */

/*
 * iommu_pgsize(): the largest supported page size that fits both the size
 * and the common alignment of iova and paddr, and how many pages of it to
 * map before a larger supported size could take over (when iova and paddr
 * share the larger size's offset and enough size remains).
 */
static uint64_t
pick_pgsize(const struct iommusim_domain *dom, uint64_t iova, uint64_t paddr, uint64_t size,
	    uint64_t *count)
{
	uint64_t merged = iova | paddr, sizes, pgsize, next, offset;
	unsigned idx;

	sizes = dom->pgsize_bitmap & (UINT64_MAX >> (63 - (ims_fls64(size) - 1)));
	if (merged)
		sizes &= UINT64_MAX >> (63 - (unsigned)__builtin_ctzll(merged));
	ims_assert(sizes);
	idx = ims_fls64(sizes) - 1;
	pgsize = UINT64_C(1) << idx;
	sizes = dom->pgsize_bitmap & ~(UINT64_MAX >> (63 - idx));
	if (sizes) {
		next = UINT64_C(1) << __builtin_ctzll(sizes);
		if (!((iova ^ paddr) & (next - 1))) {
			offset = next - (merged & (next - 1));
			if (offset + next <= size)
				size = offset;
		}
	}
	*count = size >> idx;
	return pgsize;
}

static uint64_t
min_pgsize(const struct iommusim_domain *dom)
{
	return dom->pgsize_bitmap ? UINT64_C(1) << __builtin_ctzll(dom->pgsize_bitmap) : 0;
}

/* __iommu_unmap(): returns the bytes unmapped. */
static uint64_t
unmap_range(struct iommusim_domain *dom, uint64_t iova, uint64_t size,
	    struct iommusim_iotlb_gather *gather, const struct iommusim_ctx *ctx)
{
	uint64_t unmapped = 0;

	while (unmapped < size) {
		uint64_t count, pgsize, done;

		pgsize = pick_pgsize(dom, iova, iova, size - unmapped, &count);
		done = dom->iommu->ops->unmap_pages(dom->priv, iova, pgsize, count, gather, ctx);
		if (!done)
			break;
		iova += done;
		unmapped += done;
	}
	return unmapped;
}

IMS_NODISCARD static int
check_unmap_args(const struct iommusim_domain *dom, uint64_t iova, uint64_t size)
{
	uint64_t min = dom ? min_pgsize(dom) : 0;

	if (!dom || !size || !min || !is_paging(dom->type) || ((iova | size) & (min - 1)))
		return -EINVAL;
	return 0;
}

int
iommusim_iommu_unmap_fast(struct iommusim_domain *dom, uint64_t iova, uint64_t size,
			  struct iommusim_iotlb_gather *gather, const struct iommusim_ctx *ctx,
			  uint64_t *unmapped_out)
{
	uint64_t unmapped;
	int ret = check_unmap_args(dom, iova, size);

	if (unmapped_out)
		*unmapped_out = 0;
	if (ret || !gather)
		return -EINVAL;
	unmapped = unmap_range(dom, iova, size, gather, ctx);
	if (unmapped_out)
		*unmapped_out = unmapped;
	return 0;
}

void
iommusim_iommu_iotlb_sync(struct iommusim_domain *dom, struct iommusim_iotlb_gather *gather,
			  const struct iommusim_ctx *ctx)
{
	if (!dom || !gather)
		return;
	/* An identity domain has no IOTLB to invalidate (its ops have none). */
	if (dom->iommu->ops->iotlb_sync && is_paging(dom->type))
		dom->iommu->ops->iotlb_sync(dom->priv, gather, ctx);
	iommusim_iotlb_gather_init(gather);
}

int
iommusim_iommu_unmap(struct iommusim_domain *dom, uint64_t iova, uint64_t size,
		     const struct iommusim_ctx *ctx, uint64_t *unmapped_out)
{
	struct iommusim_iotlb_gather gather;
	int ret;

	iommusim_iotlb_gather_init(&gather);
	ret = iommusim_iommu_unmap_fast(dom, iova, size, &gather, ctx, unmapped_out);
	if (!ret)
		iommusim_iommu_iotlb_sync(dom, &gather, ctx);
	return ret;
}

/* __iommu_map(): map in page-size chunks; undo everything on failure. */
IMS_NODISCARD static int
map_range(struct iommusim_domain *dom, uint64_t iova, uint64_t paddr, uint64_t size, unsigned prot,
	  const struct iommusim_ctx *ctx)
{
	uint64_t orig_iova = iova, orig_size = size, min = min_pgsize(dom);
	int ret = 0;

	if (!min || !is_paging(dom->type) || !size || ((iova | paddr | size) & (min - 1)))
		return -EINVAL;
	while (size) {
		uint64_t count, mapped = 0, pgsize;

		pgsize = pick_pgsize(dom, iova, paddr, size, &count);
		ret = dom->iommu->ops->map_pages(dom->priv, iova, paddr, pgsize, count, prot,
						 &mapped, ctx);
		/* Pages mapped before an error still count, so they get undone. */
		size -= mapped;
		if (ret)
			break;
		iova += mapped;
		paddr += mapped;
	}
	if (ret && orig_size - size)
		/* Undoing a failed map: its error is the one returned. */
		IMS_IGNORE(iommusim_iommu_unmap(dom, orig_iova, orig_size - size, ctx, NULL));
	return ret;
}

int
iommusim_iommu_map(struct iommusim_domain *dom, uint64_t iova, uint64_t paddr, uint64_t size,
		   unsigned prot, const struct iommusim_ctx *ctx)
{
	int ret;

	if (!dom)
		return -EINVAL;
	ret = map_range(dom, iova, paddr, size, prot, ctx);
	if (ret)
		return ret;
	/* v6.7: iotlb_sync_map can fail; the new mapping is then taken back. */
	if (dom->iommu->ops->iotlb_sync_map) {
		ret = dom->iommu->ops->iotlb_sync_map(dom->priv, iova, size, ctx);
		if (ret)
			/* Undoing a failed map: its error is the one returned. */
			IMS_IGNORE(iommusim_iommu_unmap(dom, iova, size, ctx, NULL));
	}
	return ret;
}

int
iommusim_iommu_map_sg(struct iommusim_domain *dom, uint64_t iova,
		      const struct iommusim_sg_entry *sg, size_t nents, unsigned prot,
		      const struct iommusim_ctx *ctx, uint64_t *mapped_out)
{
	uint64_t mapped = 0, start = 0, len = 0;
	size_t i;
	int ret = 0;

	if (!dom || (nents && !sg) || !mapped_out)
		return -EINVAL;
	/* Physically contiguous entries are mapped as one chunk. */
	for (i = 0; i <= nents; i++) {
		if (len && (i == nents || sg[i].paddr != start + len)) {
			ret = map_range(dom, iova + mapped, start, len, prot, ctx);
			if (ret)
				goto undo;
			mapped += len;
			len = 0;
		}
		if (i == nents)
			break;
		if (len) {
			len += sg[i].len;
		} else {
			start = sg[i].paddr;
			len = sg[i].len;
		}
	}
	if (!mapped)
		return -EINVAL;
	if (dom->iommu->ops->iotlb_sync_map) {
		ret = dom->iommu->ops->iotlb_sync_map(dom->priv, iova, mapped, ctx);
		if (ret)
			goto undo;
	}
	*mapped_out = mapped;
	return 0;
undo:
	if (mapped)
		/* Undoing a failed map: its error is the one returned. */
		IMS_IGNORE(iommusim_iommu_unmap(dom, iova, mapped, ctx, NULL));
	return ret;
}

void
iommusim_iommu_gather_add_page(struct iommusim_domain *dom, struct iommusim_iotlb_gather *gather,
			       uint64_t iova, uint64_t size, const struct iommusim_ctx *ctx)
{
	if (!dom || !gather)
		return;
	/* A page of another size, or one that would make the range sparse,
	 * is flushed separately (iommu_iotlb_gather_add_page). */
	if ((gather->pgsize && gather->pgsize != size) ||
	    iommusim_iotlb_gather_is_disjoint(gather, iova, size))
		iommusim_iommu_iotlb_sync(dom, gather, ctx);
	gather->pgsize = size;
	iommusim_iotlb_gather_add_range(gather, iova, size);
}

void
iommusim_iommu_flush_iotlb_all(struct iommusim_domain *dom, const struct iommusim_ctx *ctx)
{
	if (dom && dom->iommu->ops->flush_iotlb_all && is_paging(dom->type))
		dom->iommu->ops->flush_iotlb_all(dom->priv, ctx);
}

uint64_t
iommusim_iommu_iova_to_phys(struct iommusim_domain *dom, uint64_t iova)
{
	if (!dom)
		return 0;
	if (dom->type == IOMMUSIM_DOMAIN_IDENTITY)
		return iova;
	if (!is_paging(dom->type))
		return 0;
	return dom->iommu->ops->iova_to_phys(dom->priv, iova);
}
