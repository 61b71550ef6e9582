/* SPDX-License-Identifier: MIT */
/*
 * dma-iommu (KERNEL_SPEC §2.5-§2.9): domain set-up, IOVA allocation with the
 * DMA limit and the 32-bit-first attempt, map/unmap of pages and
 * scatterlists, strict and lazy (flush-queue) unmapping.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include <iommusim/dma.h>
#include <iommusim/dma_iommu.h>
#include <iommusim/iommu.h>
#include <iommusim/iova.h>
#include <iommusim/jiffies.h>

#include "base/ctx_int.h"
#include "kernel/flush_queue_int.h"
#include "kernel/iommu_int.h"
#include "base/mem_int.h"
#include "base/util_int.h"

#define DMA_BIT_MASK_32 UINT64_C(0xffffffff)

struct ims_dma_ctrs {
	_Atomic uint64_t map_pages, unmap_pages, map_sgs, unmap_sgs, map_errors, bytes_mapped;
	_Atomic uint64_t iova_pages_live;
	_Atomic uint64_t strict_syncs, alloc_32bit_tries, alloc_32bit_fallbacks;
	_Atomic uint64_t iommu_map_failures, unmap_short, lazy_reuse_violations;
};

/* What one simulated CPU's calls did to the IOVA allocator; each CPU adds
 * only to its own, so no lock is needed. */
struct ims_dma_cpu {
	struct iommusim_iova_trace iova;
} __attribute__((aligned(64)));

struct iommusim_dma_iommu {
	struct iommusim_domain *dom;
	struct iommusim_device *dev; /* the first device */
	struct iommusim_iova_domain *iovad;
	struct ims_fq *fq; /* NULL: strict (the kernel's fq_domain == NULL) */
	enum iommusim_domain_type type;
	bool downgraded;
	enum iommusim_downgrade downgrade;
	bool single_queue;
	uint32_t fq_size, fq_timeout_ms;
	unsigned hz;
	unsigned shift;
	uint64_t granule;
	uint64_t start_pfn;
	struct iommusim_domain_geometry geo;
	unsigned ncpus;
	bool check_lazy_reuse;
	struct ims_dma_cpu *cpus;
	struct ims_dma_ctrs ctrs;
};

static const struct iommusim_dma_ops dma_iommu_ops;

static inline uint64_t
iova_offset(const struct iommusim_dma_iommu *d, uint64_t a)
{
	return a & (d->granule - 1);
}

static inline uint64_t
iova_align(const struct iommusim_dma_iommu *d, uint64_t size)
{
	return (size + d->granule - 1) & ~(d->granule - 1);
}

static struct iommusim_iova_trace *
cpu_trace(struct iommusim_dma_iommu *d, const struct iommusim_ctx *ctx)
{
	return &d->cpus[ims_ctx_cpu(ctx)].iova;
}

/* ---- the flush queue's callbacks ---------------------------------------- */

static void
fq_flush_all(void *priv, const struct iommusim_ctx *ctx)
{
	struct iommusim_dma_iommu *d = priv;

	iommusim_iommu_flush_iotlb_all(d->dom, ctx);
}

static void
fq_free_iova(void *priv, uint64_t pfn, uint64_t pages, const struct iommusim_ctx *ctx)
{
	struct iommusim_dma_iommu *d = priv;

	/* The IOVA's flush has finished: now it may be handed out again.
	 * free_iova_fast is void in the kernel; ours fails only on misuse. */
	IMS_IGNORE(
		iommusim_iova_free_fast(d->iovad, ims_ctx_cpu(ctx), pfn, pages, cpu_trace(d, ctx)));
	ims_solo_fetch_sub(&d->ctrs.iova_pages_live, pages);
}

static const struct ims_fq_ops fq_ops = {
	.flush_iotlb_all = fq_flush_all,
	.free_iova = fq_free_iova,
};

/* ---- set-up (§2.5, §2.7) ------------------------------------------------ */

/* iova_reserve_iommu_regions(): every reserved region but SW_MSI. */
IMS_NODISCARD static int
reserve_regions(struct iommusim_dma_iommu *d)
{
	struct iommusim_resv_region r[IOMMUSIM_MAX_RESV_REGIONS];
	size_t n, i;
	int ret;

	ret = iommusim_device_resv_regions(d->dev, r, IMS_ARRAY_SIZE(r), &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		uint64_t lo, hi;

		if (r[i].type == IOMMUSIM_RESV_SW_MSI || !r[i].length)
			continue;
		lo = r[i].start >> d->shift;
		hi = (r[i].start + r[i].length - 1) >> d->shift;
		ret = iommusim_iova_reserve(d->iovad, lo, hi, NULL, NULL);
		if (ret)
			return ret;
	}
	return 0;
}

IMS_NODISCARD static int
setup_fq(struct iommusim_dma_iommu *d, const struct iommusim_dma_iommu_cfg *cfg)
{
	struct ims_fq_cfg fcfg = {
		.single = d->single_queue,
		.size = d->fq_size,
		.timeout_ms = d->fq_timeout_ms,
		.hz = d->hz,
		.timeline = cfg->timeline,
		.ncpus = d->ncpus,
		.ops = &fq_ops,
		.priv = d,
		.timer = cfg->fq_timer,
		.timer_priv = cfg->fq_timer_priv,
	};

	if (cfg->fq_alloc_fails)
		return -ENOMEM;
	return ims_fq_create(&fcfg, &d->fq);
}

int
iommusim_dma_iommu_create(struct iommusim_domain *dom, struct iommusim_device *dev,
			  const struct iommusim_dma_iommu_cfg *cfg, struct iommusim_dma_iommu **out,
			  struct iommusim_dma *dma_out)
{
	const struct iommusim_dma_iommu_cfg defaults = { 0 };
	struct iommusim_iova_rcache_cfg rcfg;
	struct iommusim_iova_cfg icfg;
	struct iommusim_domain_info di;
	struct iommusim_device_info devi;
	struct iommusim_dma_iommu *d;
	int ret;

	if (!cfg)
		cfg = &defaults;
	if (!dom || !dev || !out || !IMS_RESERVED_ZERO(cfg, reserved0) ||
	    iommusim_domain_info_get(dom, &di) || iommusim_device_info_get(dev, &devi) ||
	    (di.type != IOMMUSIM_DOMAIN_DMA && di.type != IOMMUSIM_DOMAIN_DMA_FQ) ||
	    !di.pgsize_bitmap || cfg->ncpus > IOMMUSIM_IOVA_MAX_CPUS ||
	    cfg->fq_type > IOMMUSIM_FQ_SINGLE || cfg->hz > IOMMUSIM_HZ_MAX ||
	    (cfg->fq_size && (!ims_is_pow2(cfg->fq_size) || cfg->fq_size < 2 ||
			      cfg->fq_size > IOMMUSIM_FQ_MAX_SIZE)))
		return -EINVAL;
	d = ims_zalloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->dom = dom;
	d->dev = dev;
	d->geo = di.geometry;
	d->ncpus = cfg->ncpus ? cfg->ncpus : 1;
	/* Debug builds check the safety invariant on every map. */
	d->check_lazy_reuse = cfg->check_lazy_reuse || IMS_DEBUG_CHECKS;
	d->cpus = ims_aligned_zalloc(d->ncpus * sizeof(*d->cpus), IMS_CACHELINE);
	if (!d->cpus) {
		ret = -ENOMEM;
		goto err;
	}
	/* §2.7 step 2: the granule is the smallest page size. */
	d->shift = (unsigned)__builtin_ctzll(di.pgsize_bitmap);
	d->granule = UINT64_C(1) << d->shift;
	/* §2.7 step 3: never pfn 0, and inside a forced aperture. The kernel
	 * sets up with base 0 and limit U64_MAX (iommu_setup_dma_ops). */
	d->start_pfn = 1;
	if (di.geometry.force_aperture)
		d->start_pfn = IMS_MAX(d->start_pfn, di.geometry.aperture_start >> d->shift);
	icfg = (struct iommusim_iova_cfg){ .granule = d->granule, .start_pfn = d->start_pfn };
	/* The IOVA granule may exceed a CPU page on other architectures; the
	 * allocator accepts up to 4 KiB, like the s390 and x86 kernels. */
	ret = iommusim_iova_domain_create(&icfg, &d->iovad);
	if (ret)
		goto err;
	rcfg = (struct iommusim_iova_rcache_cfg){
		.ncpus = d->ncpus,
		.depot = cfg->iova_depot,
		.timer = cfg->iova_timer,
		.timer_priv = cfg->iova_timer_priv,
		.flags = cfg->iova_rcache_flags,
	};
	ret = iommusim_iova_rcaches_init(d->iovad, &rcfg);
	if (ret)
		goto err;
	/* §2.5: the options come from the first device; the cfg overrides. */
	d->single_queue = cfg->fq_type == IOMMUSIM_FQ_AUTO ? devi.shadow_on_flush :
							     cfg->fq_type == IOMMUSIM_FQ_SINGLE;
	d->fq_size = cfg->fq_size    ? cfg->fq_size :
		     d->single_queue ? IOMMUSIM_IOVA_SINGLE_FQ_SIZE :
				       IOMMUSIM_IOVA_DEFAULT_FQ_SIZE;
	d->hz = cfg->hz;
	d->fq_timeout_ms = cfg->fq_timeout_ms ? cfg->fq_timeout_ms :
			   d->single_queue    ? IOMMUSIM_IOVA_SINGLE_FQ_TIMEOUT_MS :
						IOMMUSIM_IOVA_DEFAULT_FQ_TIMEOUT_MS;
	/* §2.6: a DMA-FQ domain without deferred flush, or whose queue cannot
	 * be set up, silently becomes a strict DMA domain. */
	d->type = di.type;
	if (d->type == IOMMUSIM_DOMAIN_DMA_FQ) {
		if (!cfg->skip_deferred_flush_check &&
		    !iommusim_device_capable(dev, IOMMUSIM_CAP_DEFERRED_FLUSH))
			d->downgrade = IOMMUSIM_DOWNGRADE_NO_DEFERRED_FLUSH;
		else if (setup_fq(d, cfg))
			d->downgrade = IOMMUSIM_DOWNGRADE_FQ_ALLOC;
	}
	if (d->downgrade) {
		d->type = IOMMUSIM_DOMAIN_DMA;
		d->downgraded = true;
		/* Cannot fail: set_type refuses only NULL and non-DMA domains,
		 * and this one was checked to be DMA-FQ above. */
		IMS_IGNORE(iommusim_domain_set_type(dom, IOMMUSIM_DOMAIN_DMA));
	}
	ret = reserve_regions(d);
	if (ret)
		goto err;
	*out = d;
	if (dma_out) {
		dma_out->ops = &dma_iommu_ops;
		dma_out->priv = d;
	}
	return 0;
err:
	iommusim_dma_iommu_destroy(d);
	return ret;
}

void
iommusim_dma_iommu_destroy(struct iommusim_dma_iommu *d)
{
	if (!d)
		return;
	ims_fq_destroy(d->fq);
	iommusim_iova_domain_destroy(d->iovad);
	ims_free(d->cpus);
	ims_free(d);
}

void
iommusim_dma_iommu_fq_timeout(struct iommusim_dma_iommu *d, const struct iommusim_ctx *ctx)
{
	if (d && d->fq && ims_ctx_cpu(ctx) < d->ncpus)
		ims_fq_timeout(d->fq, ctx);
}

/* ---- IOVA allocation (§2.8) ---------------------------------------------- */

/* iommu_dma_alloc_iova(): @size in bytes, granule aligned; 0 on failure. */
static uint64_t
alloc_iova(struct iommusim_dma_iommu *d, uint64_t size, uint64_t dma_limit,
	   const struct iommusim_ctx *ctx)
{
	/* The device's fields read in place (the IOMMU core's struct, this
	 * layer's): a map is too frequent for a copy of its whole info. */
	const struct iommusim_device *dev = d->dev;
	struct iommusim_iova_trace *tr = cpu_trace(d, ctx);
	uint64_t len = size >> d->shift, pfn;
	unsigned cpu = ims_ctx_cpu(ctx);

	if (dev->bus_dma_limit && (!dma_limit || dev->bus_dma_limit < dma_limit))
		dma_limit = dev->bus_dma_limit;
	if (d->geo.force_aperture)
		dma_limit = IMS_MIN(dma_limit, d->geo.aperture_last);
	/* PCI devices try below 4 GiB first, until that fails once. */
	if (dma_limit > DMA_BIT_MASK_32 && dev->pci_32bit_workaround) {
		ims_stat_add(&d->ctrs.alloc_32bit_tries, 1);
		if (!iommusim_iova_alloc_fast(d->iovad, cpu, len, DMA_BIT_MASK_32 >> d->shift,
					      false, &pfn, tr))
			return pfn << d->shift;
		/* "Using %d-bit DMA addresses": for good, for this device. */
		iommusim_device_set_pci_32bit_workaround(d->dev, false);
		ims_stat_add(&d->ctrs.alloc_32bit_fallbacks, 1);
	}
	if (iommusim_iova_alloc_fast(d->iovad, cpu, len, dma_limit >> d->shift, true, &pfn, tr))
		return 0;
	return pfn << d->shift;
}

/* iommu_dma_free_iova(): to the flush queue when the unmap was queued. */
static void
free_iova(struct iommusim_dma_iommu *d, uint64_t iova, uint64_t size, bool queued,
	  const struct iommusim_ctx *ctx)
{
	uint64_t pfn = iova >> d->shift, pages = size >> d->shift;

	if (queued) {
		ims_fq_queue_iova(d->fq, pfn, pages, ctx);
		return;
	}
	/* free_iova_fast is void in the kernel; ours fails only on misuse. */
	IMS_IGNORE(
		iommusim_iova_free_fast(d->iovad, ims_ctx_cpu(ctx), pfn, pages, cpu_trace(d, ctx)));
	ims_solo_fetch_sub(&d->ctrs.iova_pages_live, pages);
}

/* The safety invariant: an IOVA waiting for its flush is never handed out. */
static void
check_reuse(struct iommusim_dma_iommu *d, uint64_t iova, uint64_t size)
{
	uint64_t pfn;

	if (!d->check_lazy_reuse || !d->fq)
		return;
	for (pfn = iova >> d->shift; pfn < (iova + size) >> d->shift; pfn++) {
		if (ims_fq_holds(d->fq, pfn)) {
			ims_stat_add(&d->ctrs.lazy_reuse_violations, 1);
			ims_assert(!IMS_DEBUG_CHECKS);
			return;
		}
	}
}

/* ---- map and unmap (§2.9) ------------------------------------------------ */

/* dma_info_to_prot(): s390 and x86 are DMA-coherent. */
static unsigned
dir_to_prot(enum iommusim_dma_dir dir, unsigned long attrs)
{
	unsigned prot = IOMMUSIM_PROT_CACHE;

	if (attrs & IOMMUSIM_DMA_ATTR_PRIVILEGED)
		prot |= IOMMUSIM_PROT_PRIV;
	switch (dir) {
	case IOMMUSIM_DMA_BIDIRECTIONAL:
		return prot | IOMMUSIM_PROT_READ | IOMMUSIM_PROT_WRITE;
	case IOMMUSIM_DMA_TO_DEVICE:
		return prot | IOMMUSIM_PROT_READ;
	case IOMMUSIM_DMA_FROM_DEVICE:
		return prot | IOMMUSIM_PROT_WRITE;
	default:
		return 0;
	}
}

static bool
bad_call(const struct iommusim_dma_iommu *d, enum iommusim_dma_dir dir,
	 const struct iommusim_ctx *ctx)
{
	/* The kernel BUGs on DMA_NONE and unknown directions
	 * (valid_dma_direction); here they are refused. */
	return !d || dir >= IOMMUSIM_DMA_NONE || ims_ctx_cpu(ctx) >= d->ncpus;
}

/* __iommu_dma_map(). */
IMS_NODISCARD static int
dma_map(struct iommusim_dma_iommu *d, uint64_t phys, uint64_t size, unsigned prot,
	uint64_t dma_mask, const struct iommusim_ctx *ctx, uint64_t *dma_out)
{
	uint64_t off = iova_offset(d, phys), iova;

	size = iova_align(d, size + off);
	iova = alloc_iova(d, size, dma_mask, ctx);
	if (!iova) {
		ims_stat_add(&d->ctrs.map_errors, 1);
		return -ENOMEM;
	}
	ims_stat_add(&d->ctrs.iova_pages_live, size >> d->shift);
	check_reuse(d, iova, size);
	if (iommusim_iommu_map(d->dom, iova, phys - off, size, prot, ctx)) {
		/* Never queued: nothing was visible to the device. */
		free_iova(d, iova, size, false, ctx);
		ims_stat_add(&d->ctrs.iommu_map_failures, 1);
		ims_stat_add(&d->ctrs.map_errors, 1);
		return -EIO;
	}
	*dma_out = iova + off;
	return 0;
}

/* __iommu_dma_unmap(). */
static void
dma_unmap(struct iommusim_dma_iommu *d, uint64_t dma, uint64_t size, const struct iommusim_ctx *ctx)
{
	struct iommusim_iotlb_gather gather;
	uint64_t off = iova_offset(d, dma), unmapped = 0;

	dma -= off;
	size = iova_align(d, size + off);
	iommusim_iotlb_gather_init(&gather);
	gather.queued = d->fq != NULL;
	/* As __iommu_dma_unmap: a short unmap shows in the counters. */
	IMS_IGNORE(iommusim_iommu_unmap_fast(d->dom, dma, size, &gather, ctx, &unmapped));
	/* The kernel warns and carries on. */
	if (unmapped != size)
		ims_stat_add(&d->ctrs.unmap_short, 1);
	if (!gather.queued) {
		iommusim_iommu_iotlb_sync(d->dom, &gather, ctx);
		ims_stat_add(&d->ctrs.strict_syncs, 1);
	}
	free_iova(d, dma, size, gather.queued, ctx);
}

IMS_NODISCARD static int
op_map_page(void *priv, uint64_t phys, uint64_t size, enum iommusim_dma_dir dir,
	    unsigned long attrs, const struct iommusim_ctx *ctx, uint64_t *dma_out)
{
	struct iommusim_dma_iommu *d = priv;
	int ret;

	if (bad_call(d, dir, ctx) || !size || !dma_out)
		return -EINVAL;
	ret = dma_map(d, phys, size, dir_to_prot(dir, attrs), d->dev->dma_mask, ctx, dma_out);
	if (!ret) {
		ims_stat_add(&d->ctrs.map_pages, 1);
		ims_stat_add(&d->ctrs.bytes_mapped, size);
	}
	return ret;
}

IMS_NODISCARD static int
op_unmap_page(void *priv, uint64_t dma, uint64_t size, enum iommusim_dma_dir dir,
	      unsigned long attrs, const struct iommusim_ctx *ctx)
{
	struct iommusim_dma_iommu *d = priv;

	if (bad_call(d, dir, ctx) || !size)
		return -EINVAL;
	dma_unmap(d, dma, size, ctx);
	ims_stat_add(&d->ctrs.unmap_pages, 1);
	return 0;
}

/*
 * iommu_dma_map_sg(): one IOVA range for the whole list. Each element is
 * widened to whole granules (its offset kept for the DMA address); an
 * element that would straddle the device's segment boundary gets the
 * previous one padded so that it starts on the boundary (the single IOVA
 * allocation is aligned, so lengths alone decide). One iommu_map_sg, then
 * the DMA segments are written, merging elements that are contiguous in
 * IOVA space while the result fits max_seg_size and the boundary.
 */
IMS_NODISCARD static int
op_map_sg(void *priv, struct iommusim_dma_sg *sg, size_t nents, enum iommusim_dma_dir dir,
	  unsigned long attrs, const struct iommusim_ctx *ctx, size_t *nsegs_out)
{
	struct iommusim_dma_iommu *d = priv;
	struct iommusim_sg_entry *ents = NULL;
	uint64_t iova_len = 0, iova, mapped = 0, mask, pos;
	size_t i, nsegs = 0, seg = 0;
	int ret;

	if (bad_call(d, dir, ctx) || !sg || !nents || !nsegs_out)
		return -EINVAL;
	mask = d->dev->seg_boundary_mask;
	ents = ims_zalloc(nents * sizeof(*ents));
	if (!ents) {
		ims_stat_add(&d->ctrs.map_errors, 1);
		return -ENOMEM;
	}
	for (i = 0; i < nents; i++) {
		uint64_t off = iova_offset(d, sg[i].phys);
		uint64_t len = iova_align(d, sg[i].length + off);
		uint64_t pad = (mask - iova_len + 1) & mask;

		if (!sg[i].length) {
			ret = -EINVAL;
			goto out;
		}
		if (i && pad && pad < len - 1) {
			ents[i - 1].len += pad;
			iova_len += pad;
		}
		ents[i].paddr = sg[i].phys - off;
		ents[i].len = len;
		iova_len += len;
	}
	iova = alloc_iova(d, iova_len, d->dev->dma_mask, ctx);
	if (!iova) {
		ret = -ENOMEM;
		ims_stat_add(&d->ctrs.map_errors, 1);
		goto out;
	}
	ims_stat_add(&d->ctrs.iova_pages_live, iova_len >> d->shift);
	check_reuse(d, iova, iova_len);
	ret = iommusim_iommu_map_sg(d->dom, iova, ents, nents, dir_to_prot(dir, attrs), ctx,
				    &mapped);
	if (ret || mapped < iova_len) {
		if (!ret)
			/* Undoing a failed map: its error is the one returned. */
			IMS_IGNORE(iommusim_iommu_unmap(d->dom, iova, mapped, ctx, NULL));
		free_iova(d, iova, iova_len, false, ctx);
		ims_stat_add(&d->ctrs.iommu_map_failures, 1);
		ims_stat_add(&d->ctrs.map_errors, 1);
		ret = -EIO;
		goto out;
	}
	/* __finalise_sg(): write the DMA segments. */
	for (i = 0, pos = iova; i < nents; pos += ents[i].len, i++) {
		uint64_t addr = pos + iova_offset(d, sg[i].phys);
		struct iommusim_dma_sg *cur = &sg[seg];

		sg[i].dma_length = 0;
		if (nsegs && cur->dma_address + cur->dma_length == addr &&
		    cur->dma_length + (uint64_t)sg[i].length <= d->dev->max_seg_size &&
		    ((cur->dma_address ^ (addr + sg[i].length - 1)) & ~mask) == 0) {
			cur->dma_length += sg[i].length;
			continue;
		}
		seg = nsegs++;
		sg[seg].dma_address = addr;
		sg[seg].dma_length = sg[i].length;
	}
	ims_stat_add(&d->ctrs.map_sgs, 1);
	for (i = 0; i < nents; i++)
		ims_stat_add(&d->ctrs.bytes_mapped, sg[i].length);
	*nsegs_out = nsegs;
	ret = 0;
out:
	ims_free(ents);
	return ret;
}

/* iommu_dma_unmap_sg(): one unmap from the first DMA segment to the end of
 * the last (the range map_sg allocated). */
IMS_NODISCARD static int
op_unmap_sg(void *priv, struct iommusim_dma_sg *sg, size_t nents, enum iommusim_dma_dir dir,
	    unsigned long attrs, const struct iommusim_ctx *ctx)
{
	struct iommusim_dma_iommu *d = priv;
	uint64_t start, end = 0;
	size_t i;

	if (bad_call(d, dir, ctx) || !sg || !nents || !sg[0].dma_length)
		return -EINVAL;
	start = sg[0].dma_address;
	for (i = 0; i < nents && sg[i].dma_length; i++)
		end = sg[i].dma_address + sg[i].dma_length;
	dma_unmap(d, start, end - start, ctx);
	ims_stat_add(&d->ctrs.unmap_sgs, 1);
	return 0;
}

static void
dma_stats(const struct iommusim_dma_iommu *d, struct iommusim_dma_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->map_pages = atomic_load(&d->ctrs.map_pages);
	out->unmap_pages = atomic_load(&d->ctrs.unmap_pages);
	out->map_sgs = atomic_load(&d->ctrs.map_sgs);
	out->unmap_sgs = atomic_load(&d->ctrs.unmap_sgs);
	out->map_errors = atomic_load(&d->ctrs.map_errors);
	out->bytes_mapped = atomic_load(&d->ctrs.bytes_mapped);
	out->iova_pages_live = atomic_load(&d->ctrs.iova_pages_live);
}

IMS_NODISCARD static int
op_stats_get(void *priv, struct iommusim_dma_stats *out)
{
	if (!priv || !out)
		return -EINVAL;
	dma_stats(priv, out);
	return 0;
}

static const struct iommusim_dma_ops dma_iommu_ops = {
	.map_page = op_map_page,
	.unmap_page = op_unmap_page,
	.map_sg = op_map_sg,
	.unmap_sg = op_unmap_sg,
	.stats_get = op_stats_get,
	.name = "dma-iommu",
};

/* ---- introspection ------------------------------------------------------- */

int
iommusim_dma_iommu_info_get(const struct iommusim_dma_iommu *d, struct iommusim_dma_iommu_info *out)
{
	if (!d || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->type = d->type;
	out->downgraded = d->downgraded;
	out->downgrade = d->downgrade;
	out->single_queue = d->single_queue;
	out->fq_size = d->fq_size;
	out->fq_timeout_ms = d->fq_timeout_ms;
	out->granule = d->granule;
	out->start_pfn = d->start_pfn;
	out->dma_limit = d->geo.force_aperture ? d->geo.aperture_last : UINT64_MAX;
	out->ncpus = d->ncpus;
	return 0;
}

_Static_assert(sizeof(struct iommusim_iova_trace) % sizeof(uint64_t) == 0,
	       "struct iommusim_iova_trace holds only uint64_t counters");

static void
trace_add(struct iommusim_iova_trace *dst, const struct iommusim_iova_trace *src)
{
	const uint64_t *s = (const uint64_t *)(const void *)src;
	uint64_t *t = (uint64_t *)(void *)dst;
	size_t i;

	/* Every field of the trace is a uint64_t counter. */
	for (i = 0; i < sizeof(*src) / sizeof(uint64_t); i++)
		t[i] += s[i];
}

int
iommusim_dma_iommu_stats_get(const struct iommusim_dma_iommu *d,
			     struct iommusim_dma_iommu_stats *out)
{
	unsigned cpu;

	if (!d || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	dma_stats(d, &out->dma);
	if (d->fq)
		ims_fq_stats(d->fq, &out->fq);
	for (cpu = 0; cpu < d->ncpus; cpu++)
		trace_add(&out->iova, &d->cpus[cpu].iova);
	out->strict_syncs = atomic_load(&d->ctrs.strict_syncs);
	out->alloc_32bit_tries = atomic_load(&d->ctrs.alloc_32bit_tries);
	out->alloc_32bit_fallbacks = atomic_load(&d->ctrs.alloc_32bit_fallbacks);
	out->iommu_map_failures = atomic_load(&d->ctrs.iommu_map_failures);
	out->unmap_short = atomic_load(&d->ctrs.unmap_short);
	out->lazy_reuse_violations = atomic_load(&d->ctrs.lazy_reuse_violations);
	return 0;
}

const struct iommusim_hist *
iommusim_dma_iommu_exposure(const struct iommusim_dma_iommu *d)
{
	return d && d->fq ? ims_fq_exposure(d->fq) : NULL;
}

const struct iommusim_iova_trace *
iommusim_dma_iommu_cpu_trace(const struct iommusim_dma_iommu *d, unsigned cpu)
{
	return d && cpu < d->ncpus ? &d->cpus[cpu].iova : NULL;
}

struct iommusim_iova_domain *
iommusim_dma_iommu_iovad(const struct iommusim_dma_iommu *d)
{
	return d ? d->iovad : NULL;
}

const char *
iommusim_downgrade_reason(enum iommusim_downgrade d)
{
	switch (d) {
	case IOMMUSIM_DOWNGRADE_NONE:
		return "";
	case IOMMUSIM_DOWNGRADE_NO_DEFERRED_FLUSH:
		return "no deferred flush";
	case IOMMUSIM_DOWNGRADE_FQ_ALLOC:
		return "the flush queue could not be allocated";
	}
	return NULL;
}
