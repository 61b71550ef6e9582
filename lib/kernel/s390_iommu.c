/* SPDX-License-Identifier: MIT */
/*
 * The s390 IOMMU driver, v6.7 (KERNEL_SPEC §3): paging domains over the zPCI
 * translation tables, RPCIT-based invalidation, the sync_map -ENOMEM
 * recovery, ISM's lack of deferred flush, and the debugfs counters.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <urcu/rculist.h>

#include <iommusim/iommu.h>
#include <iommusim/s390_iommu.h>
#include <iommusim/zpci.h>
#include <iommusim/zpci_table.h>

#include "kernel/iommu_int.h"
#include "kernel/s390_iommu_int.h"
#include "base/mem_int.h"
#include "base/rcu_int.h"
#include "base/util_int.h"

#define S390_PAGE_SIZE UINT64_C(4096)
/* s390_iommu_init(): the default aperture factor. */
#define DEFAULT_APERTURE_FACTOR 1
#define DEFAULT_MEMORY (UINT64_C(16) << 30)

struct iommusim_s390_iommu {
	struct iommusim_iommu *iommu;
	uint64_t aperture; /* s390_iommu_aperture */
};

/* zpci_iommu_ctrs, plus what the simulation wants besides. */
struct s390_ctrs {
	_Atomic uint64_t mapped_pages;
	_Atomic uint64_t unmapped_pages;
	_Atomic uint64_t global_rpcits;
	_Atomic uint64_t sync_map_rpcits;
	_Atomic uint64_t sync_rpcits;
	_Atomic uint64_t enomem_recoveries;
	_Atomic uint64_t enomem_recovery_failures;
	_Atomic uint64_t sync_map_errors;
	_Atomic uint64_t map_failures;
	_Atomic uint64_t unmap_failures;
};

/* struct s390_domain (§3.1). */
struct s390_domain {
	struct iommusim_domain *dom;
	struct iommusim_zpci_table *table; /* NULL for the identity domain */
	struct ims_spinlock list_lock; /* writers of devices */
	struct cds_list_head devices; /* RCU list of struct s390_dev */
	struct s390_ctrs ctrs;
};

/* The driver's per-device state (what the kernel keeps in struct zpci_dev);
 * `node` first, so a list position is the device. */
struct s390_dev {
	struct cds_list_head node; /* in the domain's RCU list */
	struct iommusim_zpci_fn *fn;
	struct iommusim_device *dev;
	struct s390_domain *domain; /* attached domain, or NULL */
	uint64_t start_dma, end_dma;
	bool tlb_refresh;
	bool is_ism;
};

/* The attached devices of @sd, under ims_rcu_read_lock() (liburcu's own
 * list macro casts const away in its container_of). */
#define for_each_sdev_rcu(sdev, sd)                                                      \
	for (struct cds_list_head *pos_ = rcu_dereference((sd)->devices.next);           \
	     pos_ != &(sd)->devices && ((sdev) = (struct s390_dev *)(void *)pos_, true); \
	     pos_ = rcu_dereference(pos_->next))

/* ---- device probe and capabilities (§3.2, §3.3) ------------------------- */

IMS_NODISCARD static int
s390_probe_device(void *drv, struct iommusim_device *dev)
{
	struct iommusim_s390_iommu *s = drv;
	struct iommusim_zpci_fn *fn = iommusim_device_drvdata(dev);
	struct iommusim_device_info di;
	struct iommusim_zpci_fn_info fi;
	uint64_t start, end;
	struct s390_dev *sdev;
	int ret;

	if (iommusim_device_info_get(dev, &di) || !di.is_pci || !fn ||
	    iommusim_zpci_fn_info_get(fn, &fi))
		return -ENODEV;
	/* zpci_init_iommu(): the DMA window from CLP and the aperture. */
	ret = iommusim_zpci_dma_window(fi.start_dma, fi.end_dma, s->aperture, &start, &end);
	if (ret)
		return -EINVAL;
	/* s390_iommu_probe_device(): window sanity, end clamped below 4 TiB. */
	if (start > end || start > IOMMUSIM_ZPCI_TABLE_SIZE_RT - 1)
		return -EINVAL;
	if (end > IOMMUSIM_ZPCI_TABLE_SIZE_RT - 1)
		end = IOMMUSIM_ZPCI_TABLE_SIZE_RT - 1;
	ret = iommusim_zpci_fn_set_dma_window(fn, start, end);
	if (ret)
		return ret;
	sdev = ims_zalloc(sizeof(*sdev));
	if (!sdev)
		return -ENOMEM;
	CDS_INIT_LIST_HEAD(&sdev->node);
	sdev->fn = fn;
	sdev->dev = dev;
	sdev->start_dma = start;
	sdev->end_dma = end;
	sdev->tlb_refresh = fi.tlb_refresh;
	sdev->is_ism = fi.is_ism;
	/* Shadowing hypervisors make flushes expensive: one big queue. */
	if (fi.tlb_refresh)
		iommusim_device_set_shadow_on_flush(dev, true);
	iommusim_device_set_iommu_priv(dev, sdev);
	return 0;
}

static void
s390_release_device(void *drv, struct iommusim_device *dev)
{
	struct s390_dev *sdev = iommusim_device_iommu_priv(dev);

	iommusim_device_set_iommu_priv(dev, NULL);
	ims_free(sdev);
}

static bool
s390_capable(void *drv, struct iommusim_device *dev, enum iommusim_iommu_cap cap)
{
	struct s390_dev *sdev = iommusim_device_iommu_priv(dev);

	switch (cap) {
	case IOMMUSIM_CAP_CACHE_COHERENCY:
		return true;
	case IOMMUSIM_CAP_DEFERRED_FLUSH:
		/* §3.2, §8: ISM inspects every flushed range; it must be strict. */
		return sdev && !sdev->is_ism;
	default:
		return false;
	}
}

IMS_NODISCARD static int
s390_get_resv_regions(void *drv, struct iommusim_device *dev, struct iommusim_resv_region *r,
		      size_t max, size_t *n)
{
	struct s390_dev *sdev = iommusim_device_iommu_priv(dev);
	size_t i = 0;

	*n = 0;
	if (!sdev)
		return -ENODEV;
	/* §3.3: everything outside [start_dma, end_dma] is reserved. */
	if (sdev->start_dma) {
		if (i == max)
			return -ENOSPC;
		r[i++] =
			(struct iommusim_resv_region){ 0, sdev->start_dma, IOMMUSIM_RESV_RESERVED };
	}
	if (sdev->end_dma < IOMMUSIM_ZPCI_TABLE_SIZE_RT - 1) {
		if (i == max)
			return -ENOSPC;
		r[i++] = (struct iommusim_resv_region){ sdev->end_dma + 1,
							IOMMUSIM_ZPCI_TABLE_SIZE_RT - 1 -
								sdev->end_dma,
							IOMMUSIM_RESV_RESERVED };
	}
	*n = i;
	return 0;
}

/* ---- domains (§3.3) ----------------------------------------------------- */

IMS_NODISCARD static int
s390_domain_alloc_paging(void *drv, struct iommusim_device *dev, struct iommusim_domain *dom,
			 void **priv)
{
	const struct iommusim_domain_geometry geo = {
		.aperture_start = 0,
		.aperture_last = IOMMUSIM_ZPCI_TABLE_SIZE_RT - 1,
		.force_aperture = true,
	};
	struct s390_domain *sd = ims_zalloc(sizeof(*sd));
	int ret;

	if (!sd)
		return -ENOMEM;
	ret = iommusim_zpci_table_create(&sd->table);
	if (ret) {
		ims_free(sd);
		return ret;
	}
	sd->dom = dom;
	ims_spin_init(&sd->list_lock);
	CDS_INIT_LIST_HEAD(&sd->devices);
	iommusim_domain_set_geometry(dom, &geo);
	iommusim_domain_set_pgsize_bitmap(dom, S390_PAGE_SIZE);
	*priv = sd;
	return 0;
}

/* The identity domain of later kernels (s390-iommu.c: s390_identity_domain,
 * offered through s390_iommu_rtr_ops when the function reports relaxed
 * translation, zdev->rtr_avail): no tables; attach registers a direct IOAT.
 * One per device here, where the kernel shares one static domain. */
IMS_NODISCARD static int
s390_domain_alloc_identity(void *drv, struct iommusim_device *dev, struct iommusim_domain *dom,
			   void **priv)
{
	struct s390_dev *sdev = iommusim_device_iommu_priv(dev);
	struct iommusim_zpci_fn_info fi;
	struct s390_domain *sd;

	(void)drv;
	if (!sdev || iommusim_zpci_fn_info_get(sdev->fn, &fi))
		return -EINVAL;
	if (!fi.rtr_avail)
		return -EOPNOTSUPP;
	sd = ims_zalloc(sizeof(*sd));
	if (!sd)
		return -ENOMEM;
	sd->dom = dom;
	ims_spin_init(&sd->list_lock);
	CDS_INIT_LIST_HEAD(&sd->devices);
	*priv = sd;
	return 0;
}

static void
s390_domain_free(void *priv)
{
	struct s390_domain *sd = priv;

	/* The tables go after a grace period (the kernel frees by call_rcu). */
	iommusim_zpci_table_destroy(sd->table);
	ims_free(sd);
}

static void
detach_locked(struct s390_dev *sdev, const struct iommusim_ctx *ctx)
{
	struct s390_domain *sd = sdev->domain;
	unsigned cc;
	uint8_t status;

	ims_spin_lock(&sd->list_lock);
	cds_list_del_rcu(&sdev->node);
	ims_spin_unlock(&sd->list_lock);
	/* Readers walking the list may still see the node: let them finish. */
	ims_rcu_synchronize();
	CDS_INIT_LIST_HEAD(&sdev->node);
	/* A function in error deregisters nothing more; as the kernel. */
	IMS_IGNORE(iommusim_zpci_unregister_ioat(sdev->fn, ctx, &cc, &status));
	sdev->domain = NULL;
}

IMS_NODISCARD static int
s390_attach_dev(void *priv, struct iommusim_device *dev, const struct iommusim_ctx *ctx)
{
	struct s390_domain *sd = priv;
	struct s390_dev *sdev = iommusim_device_iommu_priv(dev);
	struct iommusim_domain_info di;
	unsigned cc;
	uint8_t status;
	int ret;

	if (!sdev || iommusim_domain_info_get(sd->dom, &di))
		return -EINVAL;
	/* §3.3: the domain's aperture must cover the device's window (a
	 * paging domain; the identity domain has none). */
	if (sd->table && (di.geometry.aperture_start > sdev->end_dma ||
			  di.geometry.aperture_last < sdev->start_dma))
		return -EINVAL;
	if (sdev->domain)
		detach_locked(sdev, ctx);
	/* Identity: a direct IOAT over the window (origin 0, iota 0). */
	ret = iommusim_zpci_register_ioat(sdev->fn, sdev->start_dma, sdev->end_dma,
					  sd->table ? iommusim_zpci_table_origin(sd->table) : 0,
					  ctx, &cc, &status);
	if (ret)
		return ret;
	if (cc && status != IOMMUSIM_ZPCI_ST_FUNC_NOT_AVAIL)
		return -EIO;
	sdev->domain = sd;
	ims_spin_lock(&sd->list_lock);
	cds_list_add_rcu(&sdev->node, &sd->devices);
	ims_spin_unlock(&sd->list_lock);
	return 0;
}

static void
s390_detach_dev(void *priv, struct iommusim_device *dev, const struct iommusim_ctx *ctx)
{
	struct s390_dev *sdev = iommusim_device_iommu_priv(dev);

	if (sdev && sdev->domain == priv)
		detach_locked(sdev, ctx);
}

/* ---- map and unmap (§3.5) ----------------------------------------------- */

static bool
outside_aperture(const struct s390_domain *sd, uint64_t iova, uint64_t size)
{
	/* The core's geometry read in place: every map and unmap asks. */
	const struct iommusim_domain_geometry *g;

	if (!sd->dom)
		return true;
	g = &sd->dom->geometry;
	return iova < g->aperture_start || iova + size - 1 < iova ||
	       iova + size - 1 > g->aperture_last;
}

IMS_NODISCARD static int
s390_map_pages(void *priv, uint64_t iova, uint64_t paddr, uint64_t pgsize, uint64_t pgcount,
	       unsigned prot, uint64_t *mapped, const struct iommusim_ctx *ctx)
{
	struct s390_domain *sd = priv;
	uint64_t size = pgcount * S390_PAGE_SIZE, flags = IOMMUSIM_ZPCI_PTE_VALID, i;
	int ret = 0;

	if (pgsize != S390_PAGE_SIZE || !pgcount)
		return -EINVAL;
	if (outside_aperture(sd, iova, size) || ((iova | paddr) & (S390_PAGE_SIZE - 1)))
		return -EINVAL;
	/* No write permission: read-only for the device (TO_DEVICE). */
	if (!(prot & IOMMUSIM_PROT_WRITE))
		flags |= IOMMUSIM_ZPCI_TABLE_PROTECTED;
	for (i = 0; i < pgcount; i++) {
		ret = iommusim_zpci_table_update(sd->table, iova + i * S390_PAGE_SIZE,
						 paddr + i * S390_PAGE_SIZE, flags, NULL);
		if (ret)
			break;
	}
	if (ret) {
		/* Undo the pages written (tables allocated on the way stay). */
		while (i-- > 0)
			if (iommusim_zpci_table_update(sd->table, iova + i * S390_PAGE_SIZE, 0,
						       IOMMUSIM_ZPCI_PTE_INVALID, NULL))
				break;
		ims_stat_add(&sd->ctrs.map_failures, 1);
		return -ENOMEM;
	}
	*mapped = size;
	ims_stat_add(&sd->ctrs.mapped_pages, pgcount);
	return 0;
}

static uint64_t
s390_unmap_pages(void *priv, uint64_t iova, uint64_t pgsize, uint64_t pgcount,
		 struct iommusim_iotlb_gather *gather, const struct iommusim_ctx *ctx)
{
	struct s390_domain *sd = priv;
	uint64_t size = pgcount * S390_PAGE_SIZE, i;

	if (pgsize != S390_PAGE_SIZE || !pgcount || outside_aperture(sd, iova, size))
		return 0;
	for (i = 0; i < pgcount; i++) {
		/* The walk allocates here too; a failure stops with the pages
		 * before it already invalid, and nothing is gathered. */
		if (iommusim_zpci_table_update(sd->table, iova + i * S390_PAGE_SIZE, 0,
					       IOMMUSIM_ZPCI_PTE_INVALID, NULL)) {
			ims_stat_add(&sd->ctrs.unmap_failures, 1);
			return 0;
		}
	}
	iommusim_iotlb_gather_add_range(gather, iova, size);
	ims_stat_add(&sd->ctrs.unmapped_pages, pgcount);
	return size;
}

/* ---- flushes (§3.6) ----------------------------------------------------- */

/* zpci_refresh_all(): RPCIT over the function's whole DMA window. */
IMS_NODISCARD static int
refresh_all(struct s390_dev *sdev, enum iommusim_rpcit_reason reason, uint64_t map_iova,
	    uint64_t map_len, const struct iommusim_ctx *ctx)
{
	return iommusim_zpci_refresh_trans(sdev->fn, sdev->start_dma,
					   sdev->end_dma - sdev->start_dma + 1, reason, map_iova,
					   map_len, ctx);
}

static void
s390_flush_iotlb_all(void *priv, const struct iommusim_ctx *ctx)
{
	struct s390_domain *sd = priv;
	struct s390_dev *sdev;

	ims_rcu_read_lock();
	for_each_sdev_rcu(sdev, sd) {
		ims_stat_add(&sd->ctrs.global_rpcits, 1);
		/* flush_iotlb_all returns nothing: the kernel drops the error
		 * too (§3.6); the RPCIT's counters keep it. */
		IMS_IGNORE(refresh_all(sdev, IOMMUSIM_RPCIT_GLOBAL_FLUSH, 0, 0, ctx));
	}
	ims_rcu_read_unlock();
}

static void
s390_iotlb_sync(void *priv, struct iommusim_iotlb_gather *gather, const struct iommusim_ctx *ctx)
{
	struct s390_domain *sd = priv;
	struct s390_dev *sdev;
	uint64_t size;

	/* Never added to: nothing to flush. */
	if (!gather->last)
		return;
	size = gather->last - gather->start + 1;
	ims_rcu_read_lock();
	for_each_sdev_rcu(sdev, sd) {
		ims_stat_add(&sd->ctrs.sync_rpcits, 1);
		/* iotlb_sync is void: the kernel drops this result too. */
		IMS_IGNORE(iommusim_zpci_refresh_trans(sdev->fn, gather->start, size,
						       IOMMUSIM_RPCIT_SYNC, 0, 0, ctx));
	}
	ims_rcu_read_unlock();
}

IMS_NODISCARD static int
s390_iotlb_sync_map(void *priv, uint64_t iova, uint64_t size, const struct iommusim_ctx *ctx)
{
	struct s390_domain *sd = priv;
	struct s390_dev *sdev;
	int ret = 0;

	ims_rcu_read_lock();
	for_each_sdev_rcu(sdev, sd) {
		/* Without tlb_refresh new entries need no announcement. */
		if (!sdev->tlb_refresh)
			continue;
		ims_stat_add(&sd->ctrs.sync_map_rpcits, 1);
		ret = iommusim_zpci_refresh_trans(sdev->fn, iova, size, IOMMUSIM_RPCIT_SYNC_MAP,
						  iova, size, ctx);
		if (ret == -ENOMEM) {
			/* Out of resources: a global refresh lets the hypervisor
			 * drop stale entries; it covers the new range too. */
			ims_stat_add(&sd->ctrs.enomem_recoveries, 1);
			ret = refresh_all(sdev, IOMMUSIM_RPCIT_ENOMEM_RECOVERY, iova, size, ctx);
			if (ret) {
				ims_stat_add(&sd->ctrs.enomem_recovery_failures, 1);
				break;
			}
		}
		/* Another error does not stop the loop: the next device's
		 * result overwrites it, as in the kernel. */
	}
	ims_rcu_read_unlock();
	if (ret)
		ims_stat_add(&sd->ctrs.sync_map_errors, 1);
	return ret;
}

static uint64_t
s390_iova_to_phys(void *priv, uint64_t iova)
{
	struct s390_domain *sd = priv;

	if (outside_aperture(sd, iova, 1))
		return 0;
	return iommusim_zpci_table_iova_to_phys(sd->table, iova);
}

const struct iommusim_iommu_ops iommusim_s390_iommu_ops = {
	.probe_device = s390_probe_device,
	.release_device = s390_release_device,
	.capable = s390_capable,
	.get_resv_regions = s390_get_resv_regions,
	.domain_alloc_paging = s390_domain_alloc_paging,
	.domain_free = s390_domain_free,
	.attach_dev = s390_attach_dev,
	.detach_dev = s390_detach_dev,
	.map_pages = s390_map_pages,
	.unmap_pages = s390_unmap_pages,
	.flush_iotlb_all = s390_flush_iotlb_all,
	.iotlb_sync_map = s390_iotlb_sync_map,
	.iotlb_sync = s390_iotlb_sync,
	.iova_to_phys = s390_iova_to_phys,
	.domain_alloc_identity = s390_domain_alloc_identity,
};

/* ---- driver instance and counters --------------------------------------- */

int
iommusim_s390_iommu_create(const struct iommusim_s390_iommu_cfg *cfg,
			   const struct iommusim_iommu_policy *policy,
			   struct iommusim_s390_iommu **out, struct iommusim_iommu **iommu_out)
{
	struct iommusim_iommu_policy pol = { 0 };
	struct iommusim_s390_iommu *s;
	uint64_t memory;
	uint32_t factor;
	int ret;

	if (!cfg || !out || !iommu_out || !IMS_RESERVED_ZERO(cfg, reserved0) ||
	    (policy && !IMS_RESERVED_ZERO(policy, reserved0)))
		return -EINVAL;
	s = ims_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	memory = cfg->memory_bytes ? cfg->memory_bytes : DEFAULT_MEMORY;
	factor = cfg->aperture_factor_set ? cfg->aperture_factor : DEFAULT_APERTURE_FACTOR;
	s->aperture = iommusim_s390_iommu_aperture(memory, factor);
	if (policy)
		pol = *policy;
	/* s390_iommu_init(): no 32-bit-first IOVA attempts on s390. */
	pol.forcedac = true;
	ret = iommusim_iommu_create(&iommusim_s390_iommu_ops, s, &pol, &s->iommu);
	if (ret) {
		ims_free(s);
		return ret;
	}
	*out = s;
	*iommu_out = s->iommu;
	return 0;
}

void
iommusim_s390_iommu_destroy(struct iommusim_s390_iommu *s)
{
	if (!s)
		return;
	iommusim_iommu_destroy(s->iommu);
	ims_free(s);
}

uint64_t
iommusim_s390_iommu_aperture_get(const struct iommusim_s390_iommu *s)
{
	return s ? s->aperture : 0;
}

static struct s390_domain *
to_s390(const struct iommusim_domain *dom)
{
	if (!dom || dom->iommu->ops != &iommusim_s390_iommu_ops)
		return NULL;
	return dom->priv;
}

int
iommusim_s390_domain_counters(const struct iommusim_domain *dom, struct iommusim_s390_counters *out,
			      struct iommusim_s390_events *events)
{
	struct s390_domain *sd = to_s390(dom);

	if (!sd || (!out && !events))
		return -EINVAL;
	if (out) {
		memset(out, 0, sizeof(*out));
		out->mapped_pages = atomic_load(&sd->ctrs.mapped_pages);
		out->unmapped_pages = atomic_load(&sd->ctrs.unmapped_pages);
		out->global_rpcits = atomic_load(&sd->ctrs.global_rpcits);
		out->sync_map_rpcits = atomic_load(&sd->ctrs.sync_map_rpcits);
		out->sync_rpcits = atomic_load(&sd->ctrs.sync_rpcits);
	}
	if (events) {
		memset(events, 0, sizeof(*events));
		events->enomem_recoveries = atomic_load(&sd->ctrs.enomem_recoveries);
		events->enomem_recovery_failures = atomic_load(&sd->ctrs.enomem_recovery_failures);
		events->sync_map_errors = atomic_load(&sd->ctrs.sync_map_errors);
		events->map_failures = atomic_load(&sd->ctrs.map_failures);
		events->unmap_failures = atomic_load(&sd->ctrs.unmap_failures);
	}
	return 0;
}

void
ims_s390_domain_pages(const struct iommusim_domain *dom, uint64_t *mapped, uint64_t *unmapped)
{
	const struct s390_domain *sd = to_s390(dom);

	*mapped = sd ? atomic_load_explicit(&sd->ctrs.mapped_pages, memory_order_relaxed) : 0;
	*unmapped = sd ? atomic_load_explicit(&sd->ctrs.unmapped_pages, memory_order_relaxed) : 0;
}

int
iommusim_s390_domain_counters_reset(struct iommusim_domain *dom)
{
	struct s390_domain *sd = to_s390(dom);

	if (!sd)
		return -EINVAL;
	/* zpci_fmb_enable_device() zeroes the five software counters. */
	atomic_store(&sd->ctrs.mapped_pages, 0);
	atomic_store(&sd->ctrs.unmapped_pages, 0);
	atomic_store(&sd->ctrs.global_rpcits, 0);
	atomic_store(&sd->ctrs.sync_map_rpcits, 0);
	atomic_store(&sd->ctrs.sync_rpcits, 0);
	return 0;
}

int
iommusim_s390_counters_print(FILE *f, const struct iommusim_s390_counters *c)
{
	const struct {
		const char *name;
		uint64_t value;
	} lines[] = {
		{ "Mapped pages", c ? c->mapped_pages : 0 },
		{ "Unmapped pages", c ? c->unmapped_pages : 0 },
		{ "Global RPCITs", c ? c->global_rpcits : 0 },
		{ "Sync Map RPCITs", c ? c->sync_map_rpcits : 0 },
		{ "Sync RPCITs", c ? c->sync_rpcits : 0 },
	};
	size_t i;

	if (!f || !c)
		return -EINVAL;
	/* arch/s390/pci/pci_debug.c: "%26s:\t%llu\n" per counter. */
	for (i = 0; i < IMS_ARRAY_SIZE(lines); i++)
		if (fprintf(f, "%26s:\t%llu\n", lines[i].name, (unsigned long long)lines[i].value) <
		    0)
			return -EIO;
	return 0;
}

struct iommusim_zpci_table *
iommusim_s390_domain_table(const struct iommusim_domain *dom)
{
	struct s390_domain *sd = to_s390(dom);

	return sd ? sd->table : NULL;
}
