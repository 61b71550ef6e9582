/* SPDX-License-Identifier: MIT */
/*
 * Tests of the IOMMU core (lib/iommu.c) against KERNEL_SPEC.md §2.5, §2.6 and
 * §2.9, through a mock driver: every callback records its call in one ordered
 * log and can be told to fail, and the domain's page sizes are configurable
 * (4K|2M|1G by default) so that the iommu_pgsize() loop is exercised.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/iommu.h>

#include "base/mem_int.h"

#define SZ_4K UINT64_C(0x1000)
#define SZ_8K UINT64_C(0x2000)
#define SZ_2M UINT64_C(0x200000)
#define SZ_4M UINT64_C(0x400000)
#define SZ_1G UINT64_C(0x40000000)
#define MOCK_XLATE_OFFSET UINT64_C(0x7000000000)
#define MOCK_APERTURE_LAST ((UINT64_C(1) << 48) - 1)
#define MOCK_MAX_EV 256

/* ------------------------------------------------------------------------ */
/* The mock driver */

enum ev_kind {
	EV_PROBE = 1,
	EV_RELEASE,
	EV_CAPABLE,
	EV_RESV,
	EV_DOM_ALLOC,
	EV_DOM_FREE,
	EV_ATTACH,
	EV_DETACH,
	EV_MAP,
	EV_UNMAP,
	EV_FLUSH_ALL,
	EV_SYNC_MAP,
	EV_SYNC,
	EV_XLATE,
};

/* One recorded callback; fields not used by a kind stay 0. */
struct mock_ev {
	enum ev_kind kind;
	void *dev; /* struct iommusim_device * */
	void *priv; /* the mock domain */
	uint64_t iova, paddr, pgsize, pgcount, size;
	unsigned prot;
	struct iommusim_iotlb_gather g; /* iotlb_sync: the gather as passed */
};

struct mock {
	/* behaviour */
	uint64_t pgsize_bitmap;
	int probe_ret;
	bool probe_shadow;
	bool cap_deferred;
	enum iommusim_domain_type def_type;
	int alloc_ret;
	int attach_ret;
	unsigned map_fail_call; /* 1-based map_pages call that fails (0: none) */
	int map_fail_ret;
	uint64_t map_fail_mapped; /* bytes the failing call reports as mapped */
	uint64_t map_max_pages; /* map at most this many pages per call (0: all) */
	unsigned unmap_zero_call; /* 1-based unmap_pages call that unmaps nothing */
	int sync_map_ret;
	int identity_ret; /* what mock_ops_identity's identity allocation returns */
	/* record */
	struct mock_ev ev[MOCK_MAX_EV];
	unsigned nev, nmap, nunmap, ndoms;
};

static struct mock M;

/* The mock's per-domain data. */
struct mock_dom {
	struct iommusim_domain *dom;
};

static void
mock_reset(void)
{
	memset(&M, 0, sizeof(M));
	M.pgsize_bitmap = SZ_4K | SZ_2M | SZ_1G;
	M.cap_deferred = true;
}

static void
mock_clear_log(void)
{
	M.nev = 0;
	M.nmap = 0;
	M.nunmap = 0;
}

static struct mock_ev *
mock_log(enum ev_kind kind)
{
	struct mock_ev *e;

	assert_true(M.nev < MOCK_MAX_EV);
	e = &M.ev[M.nev++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

static int
mock_probe(void *drv, struct iommusim_device *dev)
{
	mock_log(EV_PROBE)->dev = dev;
	if (M.probe_ret)
		return M.probe_ret;
	if (M.probe_shadow)
		iommusim_device_set_shadow_on_flush(dev, true);
	return 0;
}

static void
mock_release(void *drv, struct iommusim_device *dev)
{
	mock_log(EV_RELEASE)->dev = dev;
}

static bool
mock_capable(void *drv, struct iommusim_device *dev, enum iommusim_iommu_cap cap)
{
	struct mock_ev *e = mock_log(EV_CAPABLE);

	e->dev = dev;
	e->size = cap;
	return cap == IOMMUSIM_CAP_DEFERRED_FLUSH ? M.cap_deferred : false;
}

static enum iommusim_domain_type
mock_def_domain_type(void *drv, struct iommusim_device *dev)
{
	return M.def_type;
}

static int
mock_resv(void *drv, struct iommusim_device *dev, struct iommusim_resv_region *r, size_t max,
	  size_t *n)
{
	mock_log(EV_RESV)->dev = dev;
	if (max < 1)
		return -ENOSPC;
	r[0] = (struct iommusim_resv_region){ 0xfee00000, 0x100000, IOMMUSIM_RESV_MSI };
	*n = 1;
	return 0;
}

static int
mock_domain_alloc(void *drv, struct iommusim_device *dev, struct iommusim_domain *dom, void **priv)
{
	const struct iommusim_domain_geometry geo = { 0, MOCK_APERTURE_LAST, true };
	struct mock_dom *md;
	struct mock_ev *e = mock_log(EV_DOM_ALLOC);

	e->dev = dev;
	if (M.alloc_ret)
		return M.alloc_ret;
	md = calloc(1, sizeof(*md));
	if (!md)
		return -ENOMEM;
	md->dom = dom;
	iommusim_domain_set_geometry(dom, &geo);
	iommusim_domain_set_pgsize_bitmap(dom, M.pgsize_bitmap);
	*priv = md;
	e->priv = md;
	M.ndoms++;
	return 0;
}

static void
mock_domain_free(void *priv)
{
	mock_log(EV_DOM_FREE)->priv = priv;
	M.ndoms--;
	free(priv);
}

static int
mock_attach(void *priv, struct iommusim_device *dev, const struct iommusim_ctx *ctx)
{
	struct mock_ev *e = mock_log(EV_ATTACH);

	e->priv = priv;
	e->dev = dev;
	return M.attach_ret;
}

static void
mock_detach(void *priv, struct iommusim_device *dev, const struct iommusim_ctx *ctx)
{
	struct mock_ev *e = mock_log(EV_DETACH);

	e->priv = priv;
	e->dev = dev;
}

static int
mock_map_pages(void *priv, uint64_t iova, uint64_t paddr, uint64_t pgsize, uint64_t pgcount,
	       unsigned prot, uint64_t *mapped, const struct iommusim_ctx *ctx)
{
	struct mock_ev *e = mock_log(EV_MAP);
	uint64_t n = pgcount;

	e->priv = priv;
	e->iova = iova;
	e->paddr = paddr;
	e->pgsize = pgsize;
	e->pgcount = pgcount;
	e->prot = prot;
	if (++M.nmap == M.map_fail_call) {
		*mapped = M.map_fail_mapped;
		return M.map_fail_ret;
	}
	if (M.map_max_pages && n > M.map_max_pages)
		n = M.map_max_pages;
	*mapped = n * pgsize;
	return 0;
}

static uint64_t
mock_unmap_pages(void *priv, uint64_t iova, uint64_t pgsize, uint64_t pgcount,
		 struct iommusim_iotlb_gather *gather, const struct iommusim_ctx *ctx)
{
	struct mock_ev *e = mock_log(EV_UNMAP);

	e->priv = priv;
	e->iova = iova;
	e->pgsize = pgsize;
	e->pgcount = pgcount;
	if (++M.nunmap == M.unmap_zero_call)
		return 0;
	iommusim_iotlb_gather_add_range(gather, iova, pgsize * pgcount);
	return pgsize * pgcount;
}

static void
mock_flush_all(void *priv, const struct iommusim_ctx *ctx)
{
	mock_log(EV_FLUSH_ALL)->priv = priv;
}

static int
mock_sync_map(void *priv, uint64_t iova, uint64_t size, const struct iommusim_ctx *ctx)
{
	struct mock_ev *e = mock_log(EV_SYNC_MAP);

	e->priv = priv;
	e->iova = iova;
	e->size = size;
	return M.sync_map_ret;
}

static void
mock_sync(void *priv, struct iommusim_iotlb_gather *gather, const struct iommusim_ctx *ctx)
{
	struct mock_ev *e = mock_log(EV_SYNC);

	e->priv = priv;
	e->g = *gather;
}

static uint64_t
mock_iova_to_phys(void *priv, uint64_t iova)
{
	struct mock_ev *e = mock_log(EV_XLATE);

	e->priv = priv;
	e->iova = iova;
	return iova + MOCK_XLATE_OFFSET;
}

static const struct iommusim_iommu_ops mock_ops = {
	.probe_device = mock_probe,
	.release_device = mock_release,
	.capable = mock_capable,
	.def_domain_type = mock_def_domain_type,
	.get_resv_regions = mock_resv,
	.domain_alloc_paging = mock_domain_alloc,
	.domain_free = mock_domain_free,
	.attach_dev = mock_attach,
	.detach_dev = mock_detach,
	.map_pages = mock_map_pages,
	.unmap_pages = mock_unmap_pages,
	.flush_iotlb_all = mock_flush_all,
	.iotlb_sync_map = mock_sync_map,
	.iotlb_sync = mock_sync,
	.iova_to_phys = mock_iova_to_phys,
};

/* An identity domain: a mock_dom without geometry, or M.identity_ret. */
static int
mock_domain_alloc_identity(void *drv, struct iommusim_device *dev, struct iommusim_domain *dom,
			   void **priv)
{
	struct mock_dom *md;

	(void)drv;
	(void)dev;
	if (M.identity_ret)
		return M.identity_ret;
	md = calloc(1, sizeof(*md));
	if (!md)
		return -ENOMEM;
	md->dom = dom;
	*priv = md;
	M.ndoms++;
	return 0;
}

/* Only the callbacks iommusim_iommu_create() requires. */
static const struct iommusim_iommu_ops mock_ops_minimal = {
	.probe_device = mock_probe,
	.capable = mock_capable,
	.domain_alloc_paging = mock_domain_alloc,
	.domain_free = mock_domain_free,
	.attach_dev = mock_attach,
	.map_pages = mock_map_pages,
	.unmap_pages = mock_unmap_pages,
	.iova_to_phys = mock_iova_to_phys,
};

/* ------------------------------------------------------------------------ */
/* Log helpers */

static unsigned
count_ev(enum ev_kind kind)
{
	unsigned i, n = 0;

	for (i = 0; i < M.nev; i++)
		n += M.ev[i].kind == kind;
	return n;
}

/* The @i-th (0-based) event of @kind. */
static const struct mock_ev *
nth_ev(enum ev_kind kind, unsigned i)
{
	unsigned k, left = i;

	for (k = 0; k < M.nev; k++)
		if (M.ev[k].kind == kind && left-- == 0)
			return &M.ev[k];
	fail_msg("no event %u of kind %d (log has %u events)", i, kind, M.nev);
	return NULL;
}

/* The log is exactly @kinds, in order. */
static void
expect_log(const enum ev_kind *kinds, unsigned n)
{
	unsigned i;

	if (M.nev != n) {
		for (i = 0; i < M.nev; i++)
			print_message("# event %u: kind %d iova %#llx\n", i, M.ev[i].kind,
				      (unsigned long long)M.ev[i].iova);
	}
	assert_int_equal(M.nev, n);
	for (i = 0; i < n; i++)
		assert_int_equal(M.ev[i].kind, kinds[i]);
}

#define EXPECT_LOG(...)                                                             \
	do {                                                                        \
		const enum ev_kind kinds_[] = { __VA_ARGS__ };                      \
		expect_log(kinds_, (unsigned)(sizeof(kinds_) / sizeof(kinds_[0]))); \
	} while (0)

static void
expect_map(unsigned i, uint64_t iova, uint64_t paddr, uint64_t pgsize, uint64_t pgcount)
{
	const struct mock_ev *e = nth_ev(EV_MAP, i);

	assert_int_equal(e->iova, iova);
	assert_int_equal(e->paddr, paddr);
	assert_int_equal(e->pgsize, pgsize);
	assert_int_equal(e->pgcount, pgcount);
}

static void
expect_unmap(unsigned i, uint64_t iova, uint64_t pgsize, uint64_t pgcount)
{
	const struct mock_ev *e = nth_ev(EV_UNMAP, i);

	assert_int_equal(e->iova, iova);
	assert_int_equal(e->pgsize, pgsize);
	assert_int_equal(e->pgcount, pgcount);
}

static void
expect_sync(unsigned i, uint64_t start, uint64_t last)
{
	const struct mock_ev *e = nth_ev(EV_SYNC, i);

	assert_int_equal(e->g.start, start);
	assert_int_equal(e->g.last, last);
}

/* No iotlb_sync was asked to invalidate anything (an empty gather is allowed). */
static void
expect_no_invalidation(void)
{
	unsigned i;

	assert_int_equal(count_ev(EV_UNMAP), 0);
	for (i = 0; i < count_ev(EV_SYNC); i++)
		assert_int_equal(nth_ev(EV_SYNC, i)->g.last, 0);
	assert_int_equal(count_ev(EV_FLUSH_ALL), 0);
}

/* ------------------------------------------------------------------------ */
/* Fixture: one mock IOMMU, one PCI device, one DMA domain (nothing attached) */

struct fix {
	struct iommusim_iommu *iommu;
	struct iommusim_device *dev;
	struct iommusim_domain *dom;
	struct mock_dom *md;
};

static struct iommusim_iommu *
new_iommu(const struct iommusim_iommu_ops *ops, const struct iommusim_iommu_policy *pol)
{
	struct iommusim_iommu *iommu = NULL;

	assert_int_equal(iommusim_iommu_create(ops, &M, pol, &iommu), 0);
	assert_non_null(iommu);
	return iommu;
}

static struct iommusim_device *
new_dev(struct iommusim_iommu *iommu, const char *name, bool is_pci)
{
	const struct iommusim_device_cfg cfg = { .name = name, .is_pci = is_pci };
	struct iommusim_device *dev = NULL;

	assert_int_equal(iommusim_device_create(iommu, &cfg, &dev), 0);
	assert_non_null(dev);
	return dev;
}

static struct iommusim_domain *
new_dom(struct iommusim_device *dev, enum iommusim_domain_type type)
{
	struct iommusim_domain *dom = NULL;

	assert_int_equal(iommusim_domain_alloc(dev, type, &dom), 0);
	assert_non_null(dom);
	return dom;
}

static int
setup_with_ops(void **state, const struct iommusim_iommu_ops *ops)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	mock_reset();
	f->iommu = new_iommu(ops, NULL);
	f->dev = new_dev(f->iommu, "mockdev", true);
	f->dom = new_dom(f->dev, IOMMUSIM_DOMAIN_DMA);
	f->md = iommusim_domain_priv(f->dom);
	assert_non_null(f->md);
	mock_clear_log();
	*state = f;
	return 0;
}

static int
setup_mock(void **state)
{
	return setup_with_ops(state, &mock_ops);
}

static int
setup_mock_minimal(void **state)
{
	return setup_with_ops(state, &mock_ops_minimal);
}

static int
teardown_mock(void **state)
{
	struct fix *f = *state;

	ims_mem_fault_inject(0, 0);
	iommusim_device_destroy(f->dev, NULL);
	iommusim_domain_free(f->dom);
	iommusim_iommu_destroy(f->iommu);
	assert_int_equal(M.ndoms, 0);
	free(f);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* IOMMU registration and devices */

static void
test_iommu_create_rejects_missing_ops(void **state)
{
	/* every mandatory callback, removed one at a time */
	static const size_t offs[] = {
		offsetof(struct iommusim_iommu_ops, probe_device),
		offsetof(struct iommusim_iommu_ops, capable),
		offsetof(struct iommusim_iommu_ops, domain_alloc_paging),
		offsetof(struct iommusim_iommu_ops, domain_free),
		offsetof(struct iommusim_iommu_ops, attach_dev),
		offsetof(struct iommusim_iommu_ops, map_pages),
		offsetof(struct iommusim_iommu_ops, unmap_pages),
		offsetof(struct iommusim_iommu_ops, iova_to_phys),
	};
	struct iommusim_iommu *iommu = NULL;
	size_t i;

	(void)state;
	mock_reset();
	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		struct iommusim_iommu_ops ops = mock_ops;

		memset((char *)&ops + offs[i], 0, sizeof(void (*)(void)));
		iommu = NULL;
		assert_int_equal(iommusim_iommu_create(&ops, &M, NULL, &iommu), -EINVAL);
		assert_null(iommu);
	}
	assert_int_equal(iommusim_iommu_create(NULL, &M, NULL, &iommu), -EINVAL);
	assert_int_equal(iommusim_iommu_create(&mock_ops, &M, NULL, NULL), -EINVAL);
	/* the optional ones may all be missing */
	assert_int_equal(iommusim_iommu_create(&mock_ops_minimal, &M, NULL, &iommu), 0);
	assert_ptr_equal(iommusim_iommu_drvdata(iommu), &M);
	iommusim_iommu_destroy(iommu);
	iommusim_iommu_destroy(NULL);
}

static void
test_iommu_create_enomem(void **state)
{
	struct iommusim_iommu *iommu = NULL;

	(void)state;
	mock_reset();
	ims_mem_fault_inject(1, 1);
	assert_int_equal(iommusim_iommu_create(&mock_ops, &M, NULL, &iommu), -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_null(iommu);
}

static void
test_iommu_device_create_defaults(void **state)
{
	struct fix *f = *state;
	struct iommusim_device *d1, *d2;
	struct iommusim_device_info i1, i2;
	unsigned n1, n2;
	char c;

	d1 = new_dev(f->iommu, NULL, true);
	d2 = new_dev(f->iommu, NULL, false);
	assert_int_equal(iommusim_device_info_get(d1, &i1), 0);
	assert_int_equal(iommusim_device_info_get(d2, &i2), 0);
	/* "dev<N>", distinct */
	assert_int_equal(sscanf(i1.name, "dev%u%c", &n1, &c), 1);
	assert_int_equal(sscanf(i2.name, "dev%u%c", &n2, &c), 1);
	assert_int_not_equal(n1, n2);
	assert_true(i1.is_pci);
	assert_false(i2.is_pci);
	assert_false(i1.untrusted);
	assert_false(i1.shadow_on_flush);
	assert_int_equal(i1.dma_mask, UINT64_MAX);
	assert_int_equal(i1.coherent_dma_mask, UINT64_MAX);
	assert_int_equal(i1.bus_dma_limit, 0);
	assert_int_equal(i1.seg_boundary_mask, UINT64_C(0xffffffff));
	assert_int_equal(i1.max_seg_size, 65536);
	assert_null(i1.domain);
	assert_null(iommusim_device_drvdata(d1));
	assert_ptr_equal(iommusim_device_iommu(d1), f->iommu);
	/* the probe saw the device */
	assert_int_equal(count_ev(EV_PROBE), 2);
	assert_ptr_equal(nth_ev(EV_PROBE, 0)->dev, d1);
	assert_ptr_equal(nth_ev(EV_PROBE, 1)->dev, d2);
	iommusim_device_destroy(d1, NULL);
	iommusim_device_destroy(d2, NULL);
	iommusim_device_destroy(NULL, NULL);
}

static void
test_iommu_device_create_keeps_cfg(void **state)
{
	struct fix *f = *state;
	char name[] = "eth0";
	int drvdata;
	const struct iommusim_device_cfg cfg = {
		.name = name,
		.is_pci = true,
		.untrusted = true,
		.dma_mask = UINT64_C(0xffffffffff),
		.coherent_dma_mask = UINT64_C(0xffffffff),
		.bus_dma_limit = UINT64_C(0x3fffffffff),
		.seg_boundary_mask = UINT64_C(0xfffff),
		.max_seg_size = 1u << 20,
		.drvdata = &drvdata,
	};
	struct iommusim_device *dev = NULL;
	struct iommusim_device_info info;

	assert_int_equal(iommusim_device_create(f->iommu, &cfg, &dev), 0);
	name[0] = 'X'; /* the name was copied */
	assert_int_equal(iommusim_device_info_get(dev, &info), 0);
	assert_string_equal(info.name, "eth0");
	assert_true(info.untrusted);
	assert_int_equal(info.dma_mask, UINT64_C(0xffffffffff));
	assert_int_equal(info.coherent_dma_mask, UINT64_C(0xffffffff));
	assert_int_equal(info.bus_dma_limit, UINT64_C(0x3fffffffff));
	assert_int_equal(info.seg_boundary_mask, UINT64_C(0xfffff));
	assert_int_equal(info.max_seg_size, 1u << 20);
	assert_ptr_equal(iommusim_device_drvdata(dev), &drvdata);
	/* setters */
	iommusim_device_set_dma_masks(dev, UINT64_C(0xfff), UINT64_C(0xffff));
	iommusim_device_set_pci_32bit_workaround(dev, false);
	iommusim_device_set_shadow_on_flush(dev, true);
	iommusim_device_set_iommu_priv(dev, &drvdata);
	assert_int_equal(iommusim_device_info_get(dev, &info), 0);
	assert_int_equal(info.dma_mask, UINT64_C(0xfff));
	assert_int_equal(info.coherent_dma_mask, UINT64_C(0xffff));
	assert_false(info.pci_32bit_workaround);
	assert_true(info.shadow_on_flush);
	assert_ptr_equal(iommusim_device_iommu_priv(dev), &drvdata);
	assert_int_equal(iommusim_device_info_get(NULL, &info), -EINVAL);
	assert_int_equal(iommusim_device_info_get(dev, NULL), -EINVAL);
	iommusim_device_destroy(dev, NULL);
}

static void
test_iommu_device_create_rejects_null(void **state)
{
	struct fix *f = *state;
	const struct iommusim_device_cfg cfg = { .is_pci = true };
	struct iommusim_device *dev = NULL;

	assert_int_equal(iommusim_device_create(NULL, &cfg, &dev), -EINVAL);
	assert_int_equal(iommusim_device_create(f->iommu, NULL, &dev), -EINVAL);
	assert_int_equal(iommusim_device_create(f->iommu, &cfg, NULL), -EINVAL);
	assert_null(dev);
	assert_int_equal(count_ev(EV_PROBE), 0);
}

static void
test_iommu_device_probe_failure_propagates(void **state)
{
	struct iommusim_iommu *iommu;
	const struct iommusim_device_cfg cfg = { .name = "nope", .is_pci = true };
	struct iommusim_device *dev = NULL;

	(void)state;
	mock_reset();
	iommu = new_iommu(&mock_ops, NULL);
	M.probe_ret = -ENODEV;
	assert_int_equal(iommusim_device_create(iommu, &cfg, &dev), -ENODEV);
	assert_null(dev);
	M.probe_ret = -EBUSY;
	assert_int_equal(iommusim_device_create(iommu, &cfg, &dev), -EBUSY);
	assert_null(dev);
	EXPECT_LOG(EV_PROBE, EV_PROBE);
	/* nothing was released, and the IOMMU has no device left over (its
	 * destroy insists); ASan's leak check covers the device's memory */
	iommusim_iommu_destroy(iommu);
}

static void
test_iommu_device_create_enomem(void **state)
{
	struct iommusim_iommu *iommu;
	const struct iommusim_device_cfg cfg = { .name = "oom", .is_pci = true };
	struct iommusim_device *dev = NULL;
	uint64_t nth;

	(void)state;
	mock_reset();
	iommu = new_iommu(&mock_ops, NULL);
	/* the device, then its name */
	for (nth = 1; nth <= 2; nth++) {
		ims_mem_fault_inject(nth, 1);
		assert_int_equal(iommusim_device_create(iommu, &cfg, &dev), -ENOMEM);
		ims_mem_fault_inject(0, 0);
		assert_null(dev);
	}
	assert_int_equal(count_ev(EV_PROBE), 0);
	iommusim_iommu_destroy(iommu);
}

static void
test_iommu_device_pci_32bit_workaround(void **state)
{
	/* §2.6: pci_32bit_workaround = is_pci && !iommu.forcedac */
	static const struct {
		bool forcedac, is_pci, expect;
	} rows[] = {
		{ false, true, true },
		{ false, false, false },
		{ true, true, false },
		{ true, false, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct iommusim_iommu_policy pol = { .forcedac = rows[i].forcedac };
		struct iommusim_iommu *iommu;
		struct iommusim_device *dev;
		struct iommusim_device_info info;

		mock_reset();
		iommu = new_iommu(&mock_ops, &pol);
		dev = new_dev(iommu, NULL, rows[i].is_pci);
		assert_int_equal(iommusim_device_info_get(dev, &info), 0);
		if (info.pci_32bit_workaround != rows[i].expect)
			fail_msg("row %zu: forcedac %d is_pci %d: pci_32bit_workaround %d", i,
				 rows[i].forcedac, rows[i].is_pci, info.pci_32bit_workaround);
		iommusim_device_destroy(dev, NULL);
		iommusim_iommu_destroy(iommu);
	}
}

static void
test_iommu_device_destroy_calls_release(void **state)
{
	struct fix *f = *state;
	struct iommusim_device *dev = new_dev(f->iommu, "gone", true);
	struct iommusim_domain_info di;

	assert_int_equal(iommusim_iommu_attach_device(f->dom, dev, NULL), 0);
	mock_clear_log();
	iommusim_device_destroy(dev, NULL);
	/* detached from its domain first, then released */
	EXPECT_LOG(EV_DETACH, EV_RELEASE);
	assert_ptr_equal(nth_ev(EV_DETACH, 0)->dev, dev);
	assert_ptr_equal(nth_ev(EV_DETACH, 0)->priv, f->md);
	assert_ptr_equal(nth_ev(EV_RELEASE, 0)->dev, dev);
	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	assert_int_equal(di.ndevices, 0);
}

static void
test_iommu_device_capable_and_resv_forward(void **state)
{
	struct fix *f = *state;
	struct iommusim_resv_region r[4];
	size_t n = 99;

	M.cap_deferred = true;
	assert_true(iommusim_device_capable(f->dev, IOMMUSIM_CAP_DEFERRED_FLUSH));
	M.cap_deferred = false;
	assert_false(iommusim_device_capable(f->dev, IOMMUSIM_CAP_DEFERRED_FLUSH));
	assert_false(iommusim_device_capable(NULL, IOMMUSIM_CAP_DEFERRED_FLUSH));
	assert_int_equal(count_ev(EV_CAPABLE), 2);
	assert_ptr_equal(nth_ev(EV_CAPABLE, 0)->dev, f->dev);
	assert_int_equal(nth_ev(EV_CAPABLE, 0)->size, IOMMUSIM_CAP_DEFERRED_FLUSH);

	assert_int_equal(iommusim_device_resv_regions(f->dev, r, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].start, 0xfee00000);
	assert_int_equal(r[0].length, 0x100000);
	assert_int_equal(r[0].type, IOMMUSIM_RESV_MSI);
	assert_int_equal(iommusim_device_resv_regions(f->dev, r, 0, &n), -ENOSPC);
	assert_int_equal(iommusim_device_resv_regions(NULL, r, 4, &n), -EINVAL);
	assert_int_equal(iommusim_device_resv_regions(f->dev, r, 4, NULL), -EINVAL);
}

static void
test_iommu_device_resv_without_callback(void **state)
{
	struct fix *f = *state;
	struct iommusim_resv_region r[2];
	size_t n = 99;

	assert_int_equal(iommusim_device_resv_regions(f->dev, r, 2, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(count_ev(EV_RESV), 0);
}

/* ------------------------------------------------------------------------ */
/* Attach and detach */

static void
test_iommu_attach_detach_bookkeeping(void **state)
{
	struct fix *f = *state;
	struct iommusim_device *dev2 = new_dev(f->iommu, "second", true);
	struct iommusim_domain_info di;
	struct iommusim_device_info info;

	mock_clear_log();
	assert_int_equal(iommusim_iommu_attach_device(f->dom, f->dev, NULL), 0);
	assert_int_equal(iommusim_iommu_attach_device(f->dom, dev2, NULL), 0);
	EXPECT_LOG(EV_ATTACH, EV_ATTACH);
	assert_ptr_equal(nth_ev(EV_ATTACH, 0)->priv, f->md);
	assert_ptr_equal(nth_ev(EV_ATTACH, 0)->dev, f->dev);
	assert_ptr_equal(nth_ev(EV_ATTACH, 1)->dev, dev2);
	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	assert_int_equal(di.ndevices, 2);
	assert_int_equal(iommusim_device_info_get(f->dev, &info), 0);
	assert_ptr_equal(info.domain, f->dom);

	/* attaching again to the same domain changes nothing */
	assert_int_equal(iommusim_iommu_attach_device(f->dom, f->dev, NULL), 0);
	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	assert_int_equal(di.ndevices, 2);

	mock_clear_log();
	assert_int_equal(iommusim_iommu_detach_device(f->dom, f->dev, NULL), 0);
	EXPECT_LOG(EV_DETACH);
	assert_ptr_equal(nth_ev(EV_DETACH, 0)->priv, f->md);
	assert_ptr_equal(nth_ev(EV_DETACH, 0)->dev, f->dev);
	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	assert_int_equal(di.ndevices, 1);
	assert_int_equal(iommusim_device_info_get(f->dev, &info), 0);
	assert_null(info.domain);
	assert_int_equal(iommusim_iommu_detach_device(f->dom, dev2, NULL), 0);
	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	assert_int_equal(di.ndevices, 0);
	iommusim_device_destroy(dev2, NULL);
}

static void
test_iommu_attach_moves_between_domains(void **state)
{
	struct fix *f = *state;
	struct iommusim_domain *dom2 = new_dom(f->dev, IOMMUSIM_DOMAIN_DMA_FQ);
	struct iommusim_domain_info d1, d2;
	struct iommusim_device_info info;

	assert_int_equal(iommusim_iommu_attach_device(f->dom, f->dev, NULL), 0);
	mock_clear_log();
	assert_int_equal(iommusim_iommu_attach_device(dom2, f->dev, NULL), 0);
	/* the driver's attach moves the device; the core issues no detach */
	EXPECT_LOG(EV_ATTACH);
	assert_ptr_equal(nth_ev(EV_ATTACH, 0)->priv, iommusim_domain_priv(dom2));
	assert_int_equal(iommusim_domain_info_get(f->dom, &d1), 0);
	assert_int_equal(iommusim_domain_info_get(dom2, &d2), 0);
	assert_int_equal(d1.ndevices, 0);
	assert_int_equal(d2.ndevices, 1);
	assert_int_equal(iommusim_device_info_get(f->dev, &info), 0);
	assert_ptr_equal(info.domain, dom2);
	/* no longer on the first domain */
	assert_int_equal(iommusim_iommu_detach_device(f->dom, f->dev, NULL), -EINVAL);
	assert_int_equal(iommusim_iommu_detach_device(dom2, f->dev, NULL), 0);
	iommusim_domain_free(dom2);
}

static void
test_iommu_attach_driver_error_changes_nothing(void **state)
{
	struct fix *f = *state;
	struct iommusim_domain *dom2 = new_dom(f->dev, IOMMUSIM_DOMAIN_DMA);
	struct iommusim_domain_info di;
	struct iommusim_device_info info;

	M.attach_ret = -EBUSY;
	assert_int_equal(iommusim_iommu_attach_device(f->dom, f->dev, NULL), -EBUSY);
	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	assert_int_equal(di.ndevices, 0);
	assert_int_equal(iommusim_device_info_get(f->dev, &info), 0);
	assert_null(info.domain);
	M.attach_ret = 0;
	assert_int_equal(iommusim_iommu_attach_device(f->dom, f->dev, NULL), 0);
	M.attach_ret = -EIO;
	M.nev = 0;
	assert_int_equal(iommusim_iommu_attach_device(dom2, f->dev, NULL), -EIO);
	/* the refused attach, then the revert to the old domain */
	assert_int_equal(M.nev, 2);
	assert_int_equal(M.ev[0].kind, EV_ATTACH);
	assert_ptr_equal(M.ev[0].priv, iommusim_domain_priv(dom2));
	assert_int_equal(M.ev[1].kind, EV_ATTACH);
	assert_ptr_equal(M.ev[1].priv, iommusim_domain_priv(f->dom));
	assert_int_equal(iommusim_domain_info_get(dom2, &di), 0);
	assert_int_equal(di.ndevices, 0);
	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	assert_int_equal(di.ndevices, 1);
	M.attach_ret = 0;
	assert_int_equal(iommusim_iommu_detach_device(f->dom, f->dev, NULL), 0);
	iommusim_domain_free(dom2);
}

static void
test_iommu_attach_other_iommu_einval(void **state)
{
	struct fix *f = *state;
	struct iommusim_iommu *other = new_iommu(&mock_ops, NULL);
	struct iommusim_device *odev = new_dev(other, "other", true);
	struct iommusim_domain_info di;
	struct iommusim_device_info info;

	mock_clear_log();
	assert_int_equal(iommusim_iommu_attach_device(f->dom, odev, NULL), -EINVAL);
	assert_int_equal(count_ev(EV_ATTACH), 0);
	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	assert_int_equal(di.ndevices, 0);
	assert_int_equal(iommusim_device_info_get(odev, &info), 0);
	assert_null(info.domain);
	assert_int_equal(iommusim_iommu_attach_device(NULL, f->dev, NULL), -EINVAL);
	assert_int_equal(iommusim_iommu_attach_device(f->dom, NULL, NULL), -EINVAL);
	iommusim_device_destroy(odev, NULL);
	iommusim_iommu_destroy(other);
}

static void
test_iommu_detach_not_attached_einval(void **state)
{
	struct fix *f = *state;
	struct iommusim_domain *dom2 = new_dom(f->dev, IOMMUSIM_DOMAIN_DMA);
	struct iommusim_device_info info;

	mock_clear_log();
	assert_int_equal(iommusim_iommu_detach_device(f->dom, f->dev, NULL), -EINVAL);
	assert_int_equal(iommusim_iommu_attach_device(dom2, f->dev, NULL), 0);
	assert_int_equal(iommusim_iommu_detach_device(f->dom, f->dev, NULL), -EINVAL);
	assert_int_equal(count_ev(EV_DETACH), 0);
	assert_int_equal(iommusim_device_info_get(f->dev, &info), 0);
	assert_ptr_equal(info.domain, dom2);
	assert_int_equal(iommusim_iommu_detach_device(NULL, f->dev, NULL), -EINVAL);
	assert_int_equal(iommusim_iommu_detach_device(dom2, NULL, NULL), -EINVAL);
	assert_int_equal(iommusim_iommu_detach_device(dom2, f->dev, NULL), 0);
	iommusim_domain_free(dom2);
}

static void
test_iommu_attach_detach_without_detach_callback(void **state)
{
	struct fix *f = *state;
	struct iommusim_domain_info di;

	assert_int_equal(iommusim_iommu_attach_device(f->dom, f->dev, NULL), 0);
	assert_int_equal(iommusim_iommu_detach_device(f->dom, f->dev, NULL), 0);
	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	assert_int_equal(di.ndevices, 0);
	EXPECT_LOG(EV_ATTACH);
}

/* ------------------------------------------------------------------------ */
/* Domains */

static void
test_iommu_domain_alloc_types(void **state)
{
	struct fix *f = *state;
	static const enum iommusim_domain_type ok[] = {
		IOMMUSIM_DOMAIN_DMA,
		IOMMUSIM_DOMAIN_DMA_FQ,
		IOMMUSIM_DOMAIN_UNMANAGED,
	};
	static const enum iommusim_domain_type bad[] = {
		IOMMUSIM_DOMAIN_NONE,
		IOMMUSIM_DOMAIN_BLOCKED,
	};
	struct iommusim_domain *dom;
	struct iommusim_domain_info di;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		dom = new_dom(f->dev, ok[i]);
		assert_int_equal(iommusim_domain_info_get(dom, &di), 0);
		assert_int_equal(di.type, ok[i]);
		assert_int_equal(di.pgsize_bitmap, SZ_4K | SZ_2M | SZ_1G);
		assert_int_equal(di.geometry.aperture_start, 0);
		assert_int_equal(di.geometry.aperture_last, MOCK_APERTURE_LAST);
		assert_true(di.geometry.force_aperture);
		assert_int_equal(di.ndevices, 0);
		iommusim_domain_free(dom);
	}
	mock_clear_log();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		dom = NULL;
		assert_int_equal(iommusim_domain_alloc(f->dev, bad[i], &dom), -EINVAL);
		assert_null(dom);
	}
	/* The mock driver has no identity domain (no domain_alloc_identity). */
	dom = NULL;
	assert_int_equal(iommusim_domain_alloc(f->dev, IOMMUSIM_DOMAIN_IDENTITY, &dom),
			 -EOPNOTSUPP);
	assert_null(dom);
	assert_int_equal(iommusim_domain_alloc(NULL, IOMMUSIM_DOMAIN_DMA, &dom), -EINVAL);
	assert_int_equal(iommusim_domain_alloc(f->dev, IOMMUSIM_DOMAIN_DMA, NULL), -EINVAL);
	assert_int_equal(count_ev(EV_DOM_ALLOC), 0);
	/* the driver's error */
	M.alloc_ret = -ENOSPC;
	dom = NULL;
	assert_int_equal(iommusim_domain_alloc(f->dev, IOMMUSIM_DOMAIN_DMA, &dom), -ENOSPC);
	assert_null(dom);
	assert_int_equal(count_ev(EV_DOM_ALLOC), 1);
	assert_int_equal(count_ev(EV_DOM_FREE), 0);
	M.alloc_ret = 0;
	assert_int_equal(iommusim_domain_info_get(NULL, &di), -EINVAL);
	assert_int_equal(iommusim_domain_info_get(f->dom, NULL), -EINVAL);
	assert_null(iommusim_domain_priv(NULL));
	iommusim_domain_free(NULL);
}

static void
test_iommu_domain_set_type_rules(void **state)
{
	struct fix *f = *state;
	struct iommusim_domain *um = new_dom(f->dev, IOMMUSIM_DOMAIN_UNMANAGED);
	struct iommusim_domain_info di;

	assert_int_equal(iommusim_domain_set_type(f->dom, IOMMUSIM_DOMAIN_DMA_FQ), 0);
	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	assert_int_equal(di.type, IOMMUSIM_DOMAIN_DMA_FQ);
	assert_int_equal(iommusim_domain_set_type(f->dom, IOMMUSIM_DOMAIN_DMA), 0);
	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	assert_int_equal(di.type, IOMMUSIM_DOMAIN_DMA);
	/* only DMA <-> DMA-FQ */
	assert_int_equal(iommusim_domain_set_type(f->dom, IOMMUSIM_DOMAIN_IDENTITY), -EINVAL);
	assert_int_equal(iommusim_domain_set_type(f->dom, IOMMUSIM_DOMAIN_UNMANAGED), -EINVAL);
	assert_int_equal(iommusim_domain_set_type(f->dom, IOMMUSIM_DOMAIN_BLOCKED), -EINVAL);
	assert_int_equal(iommusim_domain_set_type(f->dom, IOMMUSIM_DOMAIN_NONE), -EINVAL);
	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	assert_int_equal(di.type, IOMMUSIM_DOMAIN_DMA);
	assert_int_equal(iommusim_domain_set_type(um, IOMMUSIM_DOMAIN_DMA), -EINVAL);
	assert_int_equal(iommusim_domain_set_type(um, IOMMUSIM_DOMAIN_DMA_FQ), -EINVAL);
	assert_int_equal(iommusim_domain_info_get(um, &di), 0);
	assert_int_equal(di.type, IOMMUSIM_DOMAIN_UNMANAGED);
	assert_int_equal(iommusim_domain_set_type(NULL, IOMMUSIM_DOMAIN_DMA), -EINVAL);
	/* the sysfs switch does not consult the capability (§2.6) */
	M.cap_deferred = false;
	mock_clear_log();
	assert_int_equal(iommusim_domain_set_type(f->dom, IOMMUSIM_DOMAIN_DMA_FQ), 0);
	assert_int_equal(count_ev(EV_CAPABLE), 0);
	iommusim_domain_free(um);
}

static void
test_iommu_domain_type_names(void **state)
{
	(void)state;
	/* sysfs spellings (iommu_group_show_type) */
	assert_string_equal(iommusim_domain_type_name(IOMMUSIM_DOMAIN_DMA), "DMA");
	assert_string_equal(iommusim_domain_type_name(IOMMUSIM_DOMAIN_DMA_FQ), "DMA-FQ");
	assert_string_equal(iommusim_domain_type_name(IOMMUSIM_DOMAIN_IDENTITY), "identity");
	assert_string_equal(iommusim_domain_type_name(IOMMUSIM_DOMAIN_BLOCKED), "blocked");
	assert_string_equal(iommusim_domain_type_name(IOMMUSIM_DOMAIN_UNMANAGED), "unmanaged");
	assert_non_null(iommusim_domain_type_name(IOMMUSIM_DOMAIN_NONE));
	assert_non_null(iommusim_domain_type_name((enum iommusim_domain_type)99));
}

/* ------------------------------------------------------------------------ */
/* iommu_map */

static void
test_iommu_map_rejects_misaligned(void **state)
{
	struct fix *f = *state;
	const unsigned rw = IOMMUSIM_PROT_READ | IOMMUSIM_PROT_WRITE;

	assert_int_equal(iommusim_iommu_map(f->dom, 0x1800, 0x2000, SZ_4K, rw, NULL), -EINVAL);
	assert_int_equal(iommusim_iommu_map(f->dom, 0x2000, 0x1001, SZ_4K, rw, NULL), -EINVAL);
	assert_int_equal(iommusim_iommu_map(f->dom, 0x2000, 0x1000, 0x1800, rw, NULL), -EINVAL);
	assert_int_equal(iommusim_iommu_map(f->dom, 0x2000, 0x1000, 0, rw, NULL), -EINVAL);
	assert_int_equal(iommusim_iommu_map(NULL, 0x2000, 0x1000, SZ_4K, rw, NULL), -EINVAL);
	/* nothing reached the driver */
	assert_int_equal(M.nev, 0);
}

static void
test_iommu_map_min_pgsize_is_smallest_bit(void **state)
{
	struct iommusim_iommu *iommu;
	struct iommusim_device *dev;
	struct iommusim_domain *dom;

	(void)state;
	mock_reset();
	M.pgsize_bitmap = SZ_8K | SZ_2M; /* smallest page 8 KiB */
	iommu = new_iommu(&mock_ops, NULL);
	dev = new_dev(iommu, NULL, true);
	dom = new_dom(dev, IOMMUSIM_DOMAIN_DMA);
	mock_clear_log();
	assert_int_equal(iommusim_iommu_map(dom, 0x1000, 0x2000, SZ_8K, 0, NULL), -EINVAL);
	assert_int_equal(iommusim_iommu_map(dom, 0x2000, 0x3000, SZ_8K, 0, NULL), -EINVAL);
	assert_int_equal(iommusim_iommu_map(dom, 0x2000, 0x4000, SZ_4K, 0, NULL), -EINVAL);
	assert_int_equal(M.nev, 0);
	assert_int_equal(iommusim_iommu_map(dom, 0x2000, 0x4000, 3 * SZ_8K, 0, NULL), 0);
	expect_map(0, 0x2000, 0x4000, SZ_8K, 3);
	iommusim_domain_free(dom);
	iommusim_device_destroy(dev, NULL);
	iommusim_iommu_destroy(iommu);
}

static void
test_iommu_map_aligned_2m_uses_2m_pages(void **state)
{
	struct fix *f = *state;
	const unsigned prot = IOMMUSIM_PROT_READ | IOMMUSIM_PROT_WRITE | IOMMUSIM_PROT_CACHE;

	assert_int_equal(iommusim_iommu_map(f->dom, SZ_2M, 3 * SZ_2M, SZ_4M, prot, NULL), 0);
	/* iommu_pgsize(): two 2M pages, in one call */
	EXPECT_LOG(EV_MAP, EV_SYNC_MAP);
	expect_map(0, SZ_2M, 3 * SZ_2M, SZ_2M, 2);
	assert_int_equal(nth_ev(EV_MAP, 0)->prot, prot);
	assert_ptr_equal(nth_ev(EV_MAP, 0)->priv, f->md);
}

static void
test_iommu_map_partial_progress_continues(void **state)
{
	struct fix *f = *state;

	/* a driver may map fewer pages than asked; the loop goes on from there */
	M.map_max_pages = 1;
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_2M, 3 * SZ_2M, SZ_4M, 0, NULL), 0);
	EXPECT_LOG(EV_MAP, EV_MAP, EV_SYNC_MAP);
	expect_map(0, SZ_2M, 3 * SZ_2M, SZ_2M, 2);
	expect_map(1, SZ_4M, 4 * SZ_2M, SZ_2M, 1);
	assert_int_equal(nth_ev(EV_SYNC_MAP, 0)->iova, SZ_2M);
	assert_int_equal(nth_ev(EV_SYNC_MAP, 0)->size, SZ_4M);
}

static void
test_iommu_map_offset_4k_then_2m_then_4k(void **state)
{
	struct fix *f = *state;
	const uint64_t iova = SZ_2M - SZ_8K, paddr = 0x40000000 + SZ_2M - SZ_8K;
	const uint64_t size = SZ_8K + SZ_4M + 3 * SZ_4K;

	/* same offset inside 2M: 4K pages up to the boundary, 2M pages, 4K tail */
	assert_int_equal(iommusim_iommu_map(f->dom, iova, paddr, size, 0, NULL), 0);
	EXPECT_LOG(EV_MAP, EV_MAP, EV_MAP, EV_SYNC_MAP);
	expect_map(0, iova, paddr, SZ_4K, 2);
	expect_map(1, SZ_2M, paddr + SZ_8K, SZ_2M, 2);
	expect_map(2, 3 * SZ_2M, paddr + SZ_8K + SZ_4M, SZ_4K, 3);
	assert_int_equal(nth_ev(EV_SYNC_MAP, 0)->iova, iova);
	assert_int_equal(nth_ev(EV_SYNC_MAP, 0)->size, size);
}

static void
test_iommu_map_small_range_below_boundary_only_4k(void **state)
{
	struct fix *f = *state;
	const uint64_t iova = SZ_2M - SZ_8K;

	/* the next 2M boundary is near, but no whole 2M page fits after it */
	assert_int_equal(iommusim_iommu_map(f->dom, iova, iova, SZ_8K + SZ_2M - SZ_4K, 0, NULL), 0);
	EXPECT_LOG(EV_MAP, EV_SYNC_MAP);
	expect_map(0, iova, iova, SZ_4K, (SZ_8K + SZ_2M - SZ_4K) / SZ_4K);
}

static void
test_iommu_map_different_offsets_only_4k(void **state)
{
	struct fix *f = *state;

	/* iova 2M aligned, paddr only 4K aligned: never a 2M page */
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_2M, 0x80201000, SZ_4M, 0, NULL), 0);
	EXPECT_LOG(EV_MAP, EV_SYNC_MAP);
	expect_map(0, SZ_2M, 0x80201000, SZ_4K, SZ_4M / SZ_4K);
	mock_clear_log();
	/* both 4K-offset but differently inside 2M */
	assert_int_equal(iommusim_iommu_map(f->dom, 0x1000, 0x3000, SZ_4M, 0, NULL), 0);
	EXPECT_LOG(EV_MAP, EV_SYNC_MAP);
	expect_map(0, 0x1000, 0x3000, SZ_4K, SZ_4M / SZ_4K);
}

static void
test_iommu_map_1g_then_2m(void **state)
{
	struct fix *f = *state;

	assert_int_equal(iommusim_iommu_map(f->dom, SZ_1G, 2 * SZ_1G, SZ_1G + SZ_2M, 0, NULL), 0);
	EXPECT_LOG(EV_MAP, EV_MAP, EV_SYNC_MAP);
	expect_map(0, SZ_1G, 2 * SZ_1G, SZ_1G, 1);
	expect_map(1, 2 * SZ_1G, 3 * SZ_1G, SZ_2M, 1);
}

static void
test_iommu_map_sync_map_once_over_range(void **state)
{
	struct fix *f = *state;
	const uint64_t iova = SZ_2M - SZ_8K, size = SZ_8K + SZ_4M;

	assert_int_equal(iommusim_iommu_map(f->dom, iova, iova, size, IOMMUSIM_PROT_READ, NULL), 0);
	assert_int_equal(count_ev(EV_SYNC_MAP), 1);
	assert_int_equal(nth_ev(EV_SYNC_MAP, 0)->iova, iova);
	assert_int_equal(nth_ev(EV_SYNC_MAP, 0)->size, size);
	assert_ptr_equal(nth_ev(EV_SYNC_MAP, 0)->priv, f->md);
	/* sync_map comes last, and success syncs nothing else */
	assert_int_equal(M.ev[M.nev - 1].kind, EV_SYNC_MAP);
	assert_int_equal(count_ev(EV_SYNC), 0);
	assert_int_equal(count_ev(EV_UNMAP), 0);
}

static void
test_iommu_map_failure_unmaps_what_was_mapped(void **state)
{
	struct fix *f = *state;
	const uint64_t iova = SZ_2M - SZ_8K, paddr = 0x40000000 + SZ_2M - SZ_8K;

	/* the 4K chunk succeeds, the 2M chunk fails */
	M.map_fail_call = 2;
	M.map_fail_ret = -ENOSPC;
	assert_int_equal(iommusim_iommu_map(f->dom, iova, paddr, SZ_8K + SZ_4M, 0, NULL), -ENOSPC);
	/* iommu_unmap of exactly the 8K mapped, ending with one iotlb_sync; no sync_map */
	EXPECT_LOG(EV_MAP, EV_MAP, EV_UNMAP, EV_SYNC);
	expect_map(0, iova, paddr, SZ_4K, 2);
	expect_map(1, SZ_2M, paddr + SZ_8K, SZ_2M, 2);
	expect_unmap(0, iova, SZ_4K, 2);
	expect_sync(0, iova, SZ_2M - 1);
	assert_false(nth_ev(EV_SYNC, 0)->g.queued);
}

static void
test_iommu_map_failure_counts_partial_mapped(void **state)
{
	struct fix *f = *state;
	const uint64_t iova = SZ_2M - SZ_8K;

	/* the failing call reports one of its two 2M pages as mapped: undone too */
	M.map_fail_call = 2;
	M.map_fail_ret = -ENOMEM;
	M.map_fail_mapped = SZ_2M;
	assert_int_equal(iommusim_iommu_map(f->dom, iova, iova, SZ_8K + SZ_4M, 0, NULL), -ENOMEM);
	EXPECT_LOG(EV_MAP, EV_MAP, EV_UNMAP, EV_UNMAP, EV_SYNC);
	expect_unmap(0, iova, SZ_4K, 2);
	expect_unmap(1, SZ_2M, SZ_2M, 1);
	expect_sync(0, iova, 2 * SZ_2M - 1);
}

static void
test_iommu_map_first_call_failure_unmaps_nothing(void **state)
{
	struct fix *f = *state;

	M.map_fail_call = 1;
	M.map_fail_ret = -EFAULT;
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_2M, SZ_2M, SZ_4M, 0, NULL), -EFAULT);
	assert_int_equal(count_ev(EV_MAP), 1);
	assert_int_equal(count_ev(EV_SYNC_MAP), 0);
	/* the kernel's iommu_unmap(.., 0) may sync an empty gather, nothing more */
	expect_no_invalidation();
}

static void
test_iommu_map_sync_map_error_unmaps_all(void **state)
{
	struct fix *f = *state;
	const uint64_t iova = SZ_2M - SZ_8K, size = SZ_8K + SZ_4M;

	M.sync_map_ret = -EIO;
	assert_int_equal(iommusim_iommu_map(f->dom, iova, iova, size, 0, NULL), -EIO);
	/* v6.7: the whole range is unmapped (iommu_unmap: one sync) */
	EXPECT_LOG(EV_MAP, EV_MAP, EV_SYNC_MAP, EV_UNMAP, EV_UNMAP, EV_SYNC);
	expect_unmap(0, iova, SZ_4K, 2);
	expect_unmap(1, SZ_2M, SZ_2M, 2);
	expect_sync(0, iova, iova + size - 1);
	mock_clear_log();
	M.sync_map_ret = -ENOMEM;
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_2M, SZ_2M, SZ_2M, 0, NULL), -ENOMEM);
	EXPECT_LOG(EV_MAP, EV_SYNC_MAP, EV_UNMAP, EV_SYNC);
	expect_sync(0, SZ_2M, 2 * SZ_2M - 1);
}

static void
test_iommu_map_without_sync_map_op(void **state)
{
	struct fix *f = *state;

	assert_int_equal(iommusim_iommu_map(f->dom, SZ_2M, SZ_2M, SZ_4M, 0, NULL), 0);
	EXPECT_LOG(EV_MAP);
	expect_map(0, SZ_2M, SZ_2M, SZ_2M, 2);
	/* and a failure still undoes, without an iotlb_sync callback */
	mock_clear_log();
	M.map_fail_call = 2;
	M.map_fail_ret = -ENOSPC;
	assert_int_equal(
		iommusim_iommu_map(f->dom, SZ_2M - SZ_4K, SZ_2M - SZ_4K, SZ_4K + SZ_2M, 0, NULL),
		-ENOSPC);
	EXPECT_LOG(EV_MAP, EV_MAP, EV_UNMAP);
	expect_unmap(0, SZ_2M - SZ_4K, SZ_4K, 1);
}

/* ------------------------------------------------------------------------ */
/* iommu_map_sg */

static void
test_iommu_map_sg_merges_contiguous(void **state)
{
	struct fix *f = *state;
	const struct iommusim_sg_entry sg[] = {
		{ 0x40000000, SZ_8K },
		{ 0x40002000, SZ_4K }, /* continues the first */
		{ 0x50000000, SZ_4K },
	};
	uint64_t mapped = 0;

	assert_int_equal(
		iommusim_iommu_map_sg(f->dom, 0x100000, sg, 3, IOMMUSIM_PROT_READ, NULL, &mapped),
		0);
	assert_int_equal(mapped, 4 * SZ_4K);
	EXPECT_LOG(EV_MAP, EV_MAP, EV_SYNC_MAP);
	expect_map(0, 0x100000, 0x40000000, SZ_4K, 3);
	expect_map(1, 0x103000, 0x50000000, SZ_4K, 1);
	assert_int_equal(nth_ev(EV_MAP, 1)->prot, IOMMUSIM_PROT_READ);
	assert_int_equal(nth_ev(EV_SYNC_MAP, 0)->iova, 0x100000);
	assert_int_equal(nth_ev(EV_SYNC_MAP, 0)->size, 4 * SZ_4K);
}

static void
test_iommu_map_sg_merged_chunk_uses_large_pages(void **state)
{
	struct fix *f = *state;
	const struct iommusim_sg_entry sg[] = {
		{ 0x80200000, SZ_2M / 2 },
		{ 0x80300000, SZ_2M / 2 },
	};
	uint64_t mapped = 0;

	assert_int_equal(iommusim_iommu_map_sg(f->dom, SZ_4M, sg, 2, 0, NULL, &mapped), 0);
	assert_int_equal(mapped, SZ_2M);
	EXPECT_LOG(EV_MAP, EV_SYNC_MAP);
	expect_map(0, SZ_4M, 0x80200000, SZ_2M, 1);
}

static void
test_iommu_map_sg_second_chunk_failure_unmaps_first(void **state)
{
	struct fix *f = *state;
	const struct iommusim_sg_entry sg[] = {
		{ 0x40000000, SZ_8K },
		{ 0x40002000, SZ_4K },
		{ 0x50000000, SZ_4K },
	};
	uint64_t mapped = 0;

	M.map_fail_call = 2;
	M.map_fail_ret = -ENOSPC;
	assert_int_equal(iommusim_iommu_map_sg(f->dom, 0x100000, sg, 3, 0, NULL, &mapped), -ENOSPC);
	EXPECT_LOG(EV_MAP, EV_MAP, EV_UNMAP, EV_SYNC);
	expect_unmap(0, 0x100000, SZ_4K, 3);
	expect_sync(0, 0x100000, 0x102fff);
}

static void
test_iommu_map_sg_sync_map_failure_unmaps_all(void **state)
{
	struct fix *f = *state;
	const struct iommusim_sg_entry sg[] = {
		{ 0x40000000, SZ_8K },
		{ 0x40002000, SZ_4K },
		{ 0x50000000, SZ_4K },
	};
	uint64_t mapped = 0;

	M.sync_map_ret = -ENOMEM;
	assert_int_equal(iommusim_iommu_map_sg(f->dom, 0x100000, sg, 3, 0, NULL, &mapped), -ENOMEM);
	EXPECT_LOG(EV_MAP, EV_MAP, EV_SYNC_MAP, EV_UNMAP, EV_SYNC);
	expect_unmap(0, 0x100000, SZ_4K, 4);
	expect_sync(0, 0x100000, 0x103fff);
}

static void
test_iommu_map_sg_rejects_bad_args(void **state)
{
	struct fix *f = *state;
	const struct iommusim_sg_entry bad[] = { { 0x40000800, SZ_4K } };
	const struct iommusim_sg_entry sg[] = { { 0x40000000, SZ_4K } };
	uint64_t mapped = 0;

	assert_int_equal(iommusim_iommu_map_sg(f->dom, 0x100000, bad, 1, 0, NULL, &mapped),
			 -EINVAL);
	assert_int_equal(iommusim_iommu_map_sg(NULL, 0x100000, sg, 1, 0, NULL, &mapped), -EINVAL);
	assert_int_equal(iommusim_iommu_map_sg(f->dom, 0x100000, NULL, 1, 0, NULL, &mapped),
			 -EINVAL);
	assert_int_equal(iommusim_iommu_map_sg(f->dom, 0x100000, sg, 1, 0, NULL, NULL), -EINVAL);
	assert_int_equal(count_ev(EV_MAP), 0);
	assert_int_equal(count_ev(EV_SYNC_MAP), 0);
}

/* ------------------------------------------------------------------------ */
/* unmap */

static void
test_iommu_unmap_fast_never_syncs(void **state)
{
	struct fix *f = *state;
	struct iommusim_iotlb_gather g;
	uint64_t unmapped = 0;

	iommusim_iotlb_gather_init(&g);
	assert_int_equal(iommusim_iommu_unmap_fast(f->dom, SZ_2M, SZ_4M, &g, NULL, &unmapped), 0);
	assert_int_equal(unmapped, SZ_4M);
	EXPECT_LOG(EV_UNMAP);
	expect_unmap(0, SZ_2M, SZ_2M, 2);
	/* the driver widened the caller's gather; nobody flushed it */
	assert_int_equal(g.start, SZ_2M);
	assert_int_equal(g.last, 3 * SZ_2M - 1);
	/* a second call accumulates into the same gather */
	assert_int_equal(iommusim_iommu_unmap_fast(f->dom, 0x1000, SZ_4K, &g, NULL, &unmapped), 0);
	assert_int_equal(unmapped, SZ_4K);
	assert_int_equal(g.start, 0x1000);
	assert_int_equal(g.last, 3 * SZ_2M - 1);
	assert_int_equal(count_ev(EV_SYNC), 0);
	assert_int_equal(count_ev(EV_FLUSH_ALL), 0);
}

static void
test_iommu_unmap_page_size_loop(void **state)
{
	struct fix *f = *state;
	const uint64_t iova = SZ_2M - SZ_8K;
	uint64_t unmapped = 0;

	assert_int_equal(iommusim_iommu_unmap(f->dom, iova, SZ_8K + SZ_4M + SZ_4K, NULL, &unmapped),
			 0);
	assert_int_equal(unmapped, SZ_8K + SZ_4M + SZ_4K);
	EXPECT_LOG(EV_UNMAP, EV_UNMAP, EV_UNMAP, EV_SYNC);
	expect_unmap(0, iova, SZ_4K, 2);
	expect_unmap(1, SZ_2M, SZ_2M, 2);
	expect_unmap(2, 3 * SZ_2M, SZ_4K, 1);
	expect_sync(0, iova, 3 * SZ_2M + SZ_4K - 1);
}

static void
test_iommu_unmap_stops_at_zero(void **state)
{
	struct fix *f = *state;
	struct iommusim_iotlb_gather g;
	const uint64_t iova = SZ_2M - SZ_8K, size = SZ_8K + SZ_4M + SZ_4K;
	uint64_t unmapped = 0;

	/* three chunks; the second unmaps nothing: the third is never tried */
	M.unmap_zero_call = 2;
	iommusim_iotlb_gather_init(&g);
	assert_int_equal(iommusim_iommu_unmap_fast(f->dom, iova, size, &g, NULL, &unmapped), 0);
	assert_int_equal(unmapped, SZ_8K);
	EXPECT_LOG(EV_UNMAP, EV_UNMAP);
	assert_int_equal(g.start, iova);
	assert_int_equal(g.last, SZ_2M - 1);

	mock_clear_log();
	assert_int_equal(iommusim_iommu_unmap(f->dom, iova, size, NULL, &unmapped), 0);
	assert_int_equal(unmapped, SZ_8K);
	EXPECT_LOG(EV_UNMAP, EV_UNMAP, EV_SYNC);
	expect_sync(0, iova, SZ_2M - 1);

	/* nothing at all unmapped: 0 bytes */
	mock_clear_log();
	M.unmap_zero_call = 1;
	assert_int_equal(iommusim_iommu_unmap_fast(f->dom, iova, size, &g, NULL, &unmapped), 0);
	assert_int_equal(unmapped, 0);
	EXPECT_LOG(EV_UNMAP);
}

static void
test_iommu_unmap_syncs_once_and_resets(void **state)
{
	struct fix *f = *state;
	struct iommusim_iotlb_gather g;
	uint64_t unmapped = 0;

	assert_int_equal(iommusim_iommu_unmap(f->dom, SZ_2M, SZ_4M, NULL, &unmapped), 0);
	assert_int_equal(unmapped, SZ_4M);
	EXPECT_LOG(EV_UNMAP, EV_SYNC);
	expect_sync(0, SZ_2M, 3 * SZ_2M - 1);
	assert_false(nth_ev(EV_SYNC, 0)->g.queued);
	assert_ptr_equal(nth_ev(EV_SYNC, 0)->priv, f->md);
	/* a NULL unmapped_out is fine */
	mock_clear_log();
	assert_int_equal(iommusim_iommu_unmap(f->dom, SZ_2M, SZ_4K, NULL, NULL), 0);
	EXPECT_LOG(EV_UNMAP, EV_SYNC);

	/* iommu_iotlb_sync(): the driver sees the gather, then it is reset */
	mock_clear_log();
	iommusim_iotlb_gather_init(&g);
	assert_int_equal(iommusim_iommu_unmap_fast(f->dom, SZ_1G, SZ_4K, &g, NULL, &unmapped), 0);
	g.pgsize = SZ_4K;
	g.queued = true;
	iommusim_iommu_iotlb_sync(f->dom, &g, NULL);
	EXPECT_LOG(EV_UNMAP, EV_SYNC);
	expect_sync(0, SZ_1G, SZ_1G + SZ_4K - 1);
	assert_int_equal(nth_ev(EV_SYNC, 0)->g.pgsize, SZ_4K);
	assert_true(nth_ev(EV_SYNC, 0)->g.queued);
	assert_int_equal(g.start, UINT64_MAX);
	assert_int_equal(g.last, 0);
	assert_int_equal(g.pgsize, 0);
	assert_false(g.queued);
}

static void
test_iommu_unmap_misaligned_einval(void **state)
{
	struct fix *f = *state;
	struct iommusim_iotlb_gather g;
	uint64_t unmapped = 123;

	iommusim_iotlb_gather_init(&g);
	assert_int_equal(iommusim_iommu_unmap_fast(f->dom, 0x1800, SZ_4K, &g, NULL, &unmapped),
			 -EINVAL);
	assert_int_equal(unmapped, 0);
	assert_int_equal(iommusim_iommu_unmap_fast(f->dom, 0x1000, 0x1800, &g, NULL, &unmapped),
			 -EINVAL);
	assert_int_equal(iommusim_iommu_unmap_fast(f->dom, 0x1000, 0, &g, NULL, &unmapped),
			 -EINVAL);
	assert_int_equal(iommusim_iommu_unmap_fast(f->dom, 0x1000, SZ_4K, NULL, NULL, &unmapped),
			 -EINVAL);
	assert_int_equal(iommusim_iommu_unmap_fast(NULL, 0x1000, SZ_4K, &g, NULL, &unmapped),
			 -EINVAL);
	unmapped = 123;
	assert_int_equal(iommusim_iommu_unmap(f->dom, 0x1000, 0x1800, NULL, &unmapped), -EINVAL);
	assert_int_equal(unmapped, 0);
	assert_int_equal(g.last, 0);
	expect_no_invalidation();
}

/* ------------------------------------------------------------------------ */
/* Gather helpers */

static void
test_iommu_gather_init_values(void **state)
{
	struct iommusim_iotlb_gather g;

	(void)state;
	memset(&g, 0x5a, sizeof(g));
	g.queued = true;
	iommusim_iotlb_gather_init(&g);
	assert_int_equal(g.start, UINT64_MAX);
	assert_int_equal(g.last, 0);
	assert_int_equal(g.pgsize, 0);
	assert_false(g.queued);
}

static void
test_iommu_gather_add_range_widens(void **state)
{
	struct iommusim_iotlb_gather g;

	(void)state;
	iommusim_iotlb_gather_init(&g);
	iommusim_iotlb_gather_add_range(&g, 0x5000, 0x1000);
	assert_int_equal(g.start, 0x5000);
	assert_int_equal(g.last, 0x5fff);
	/* upwards, across a gap: no disjointness check */
	iommusim_iotlb_gather_add_range(&g, 0x8000, 0x1000);
	assert_int_equal(g.start, 0x5000);
	assert_int_equal(g.last, 0x8fff);
	/* downwards */
	iommusim_iotlb_gather_add_range(&g, 0x1000, 0x100);
	assert_int_equal(g.start, 0x1000);
	assert_int_equal(g.last, 0x8fff);
	/* inside: unchanged */
	iommusim_iotlb_gather_add_range(&g, 0x6000, 0x10);
	assert_int_equal(g.start, 0x1000);
	assert_int_equal(g.last, 0x8fff);
	/* both directions at once */
	iommusim_iotlb_gather_add_range(&g, 0x800, 0x10000);
	assert_int_equal(g.start, 0x800);
	assert_int_equal(g.last, 0x107ff);
	/* pgsize and queued are not touched */
	assert_int_equal(g.pgsize, 0);
	assert_false(g.queued);
}

static void
test_iommu_gather_is_disjoint(void **state)
{
	struct iommusim_iotlb_gather g;

	(void)state;
	iommusim_iotlb_gather_init(&g);
	/* an empty gather is never disjoint */
	assert_false(iommusim_iotlb_gather_is_disjoint(&g, 0x100000, 0x1000));
	assert_false(iommusim_iotlb_gather_is_disjoint(&g, 0, 0x1000));
	iommusim_iotlb_gather_add_range(&g, 0x2000, 0x1000); /* [0x2000, 0x2fff] */
	/* adjacent above and below */
	assert_false(iommusim_iotlb_gather_is_disjoint(&g, 0x3000, 0x1000));
	assert_false(iommusim_iotlb_gather_is_disjoint(&g, 0x1000, 0x1000));
	/* overlapping, containing, contained */
	assert_false(iommusim_iotlb_gather_is_disjoint(&g, 0x2800, 0x1000));
	assert_false(iommusim_iotlb_gather_is_disjoint(&g, 0x1800, 0x1000));
	assert_false(iommusim_iotlb_gather_is_disjoint(&g, 0x1000, 0x4000));
	assert_false(iommusim_iotlb_gather_is_disjoint(&g, 0x2100, 0x10));
	/* a gap of one byte above and below */
	assert_true(iommusim_iotlb_gather_is_disjoint(&g, 0x3001, 0x10));
	assert_true(iommusim_iotlb_gather_is_disjoint(&g, 0x1000, 0xfff));
	/* far away */
	assert_true(iommusim_iotlb_gather_is_disjoint(&g, 0x100000, 0x1000));
	assert_true(iommusim_iotlb_gather_is_disjoint(&g, 0, 0x1000));
}

static void
test_iommu_gather_add_page_syncs_on_size_change(void **state)
{
	struct fix *f = *state;
	struct iommusim_iotlb_gather g;

	iommusim_iotlb_gather_init(&g);
	iommusim_iommu_gather_add_page(f->dom, &g, SZ_2M - SZ_8K, SZ_4K, NULL);
	iommusim_iommu_gather_add_page(f->dom, &g, SZ_2M - SZ_4K, SZ_4K, NULL);
	assert_int_equal(M.nev, 0);
	assert_int_equal(g.pgsize, SZ_4K);
	assert_int_equal(g.start, SZ_2M - SZ_8K);
	assert_int_equal(g.last, SZ_2M - 1);
	/* a 2M page right after: adjacent, so only the size differs */
	assert_false(iommusim_iotlb_gather_is_disjoint(&g, SZ_2M, SZ_2M));
	iommusim_iommu_gather_add_page(f->dom, &g, SZ_2M, SZ_2M, NULL);
	EXPECT_LOG(EV_SYNC);
	expect_sync(0, SZ_2M - SZ_8K, SZ_2M - 1);
	assert_int_equal(nth_ev(EV_SYNC, 0)->g.pgsize, SZ_4K);
	assert_int_equal(g.pgsize, SZ_2M);
	assert_int_equal(g.start, SZ_2M);
	assert_int_equal(g.last, SZ_4M - 1);
	/* same size, adjacent: no sync */
	iommusim_iommu_gather_add_page(f->dom, &g, SZ_4M, SZ_2M, NULL);
	assert_int_equal(M.nev, 1);
	assert_int_equal(g.last, 3 * SZ_2M - 1);
	/* a 4K page overlapping the 2M range: the size again */
	iommusim_iommu_gather_add_page(f->dom, &g, SZ_4M, SZ_4K, NULL);
	EXPECT_LOG(EV_SYNC, EV_SYNC);
	expect_sync(1, SZ_2M, 3 * SZ_2M - 1);
	assert_int_equal(nth_ev(EV_SYNC, 1)->g.pgsize, SZ_2M);
	assert_int_equal(g.start, SZ_4M);
	assert_int_equal(g.last, SZ_4M + SZ_4K - 1);
	iommusim_iommu_iotlb_sync(f->dom, &g, NULL);
	expect_sync(2, SZ_4M, SZ_4M + SZ_4K - 1);
	assert_int_equal(g.last, 0);
}

static void
test_iommu_gather_add_page_syncs_on_disjoint(void **state)
{
	struct fix *f = *state;
	struct iommusim_iotlb_gather g;

	iommusim_iotlb_gather_init(&g);
	iommusim_iommu_gather_add_page(f->dom, &g, 0x1000, SZ_4K, NULL);
	/* a gap of one page: sync the old range first */
	iommusim_iommu_gather_add_page(f->dom, &g, 0x3000, SZ_4K, NULL);
	EXPECT_LOG(EV_SYNC);
	expect_sync(0, 0x1000, 0x1fff);
	assert_int_equal(g.start, 0x3000);
	assert_int_equal(g.last, 0x3fff);
	/* adjacent below and overlapping: no sync */
	iommusim_iommu_gather_add_page(f->dom, &g, 0x2000, SZ_4K, NULL);
	iommusim_iommu_gather_add_page(f->dom, &g, 0x3000, SZ_4K, NULL);
	assert_int_equal(M.nev, 1);
	assert_int_equal(g.start, 0x2000);
	assert_int_equal(g.last, 0x3fff);
	/* below with a gap */
	iommusim_iommu_gather_add_page(f->dom, &g, 0x0, SZ_4K, NULL);
	EXPECT_LOG(EV_SYNC, EV_SYNC);
	expect_sync(1, 0x2000, 0x3fff);
	assert_int_equal(g.start, 0);
	assert_int_equal(g.last, 0xfff);
}

/* ------------------------------------------------------------------------ */
/* flush_iotlb_all, iova_to_phys, optional callbacks */

static void
test_iommu_flush_iotlb_all_forwards(void **state)
{
	struct fix *f = *state;

	iommusim_iommu_flush_iotlb_all(f->dom, NULL);
	iommusim_iommu_flush_iotlb_all(f->dom, NULL);
	EXPECT_LOG(EV_FLUSH_ALL, EV_FLUSH_ALL);
	assert_ptr_equal(nth_ev(EV_FLUSH_ALL, 0)->priv, f->md);
	iommusim_iommu_flush_iotlb_all(NULL, NULL);
	assert_int_equal(M.nev, 2);
}

static void
test_iommu_iova_to_phys_forwards(void **state)
{
	struct fix *f = *state;
	struct iommusim_domain *um = new_dom(f->dev, IOMMUSIM_DOMAIN_UNMANAGED);

	mock_clear_log();
	assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, 0x12345678),
			 0x12345678 + MOCK_XLATE_OFFSET);
	assert_int_equal(iommusim_iommu_iova_to_phys(um, 0x1000), 0x1000 + MOCK_XLATE_OFFSET);
	EXPECT_LOG(EV_XLATE, EV_XLATE);
	assert_ptr_equal(nth_ev(EV_XLATE, 0)->priv, f->md);
	assert_int_equal(nth_ev(EV_XLATE, 0)->iova, 0x12345678);
	assert_int_equal(iommusim_iommu_iova_to_phys(NULL, 0x1000), 0);
	/* (an identity domain cannot be created through the API: not tested) */
	iommusim_domain_free(um);
}

static void
test_iommu_minimal_ops_paths(void **state)
{
	struct fix *f = *state;
	struct iommusim_iotlb_gather g;
	struct iommusim_domain_decision d;
	uint64_t unmapped = 0;

	/* no iotlb_sync_map, iotlb_sync, flush_iotlb_all, detach, release */
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_2M, SZ_2M, SZ_2M, 0, NULL), 0);
	assert_int_equal(iommusim_iommu_unmap(f->dom, SZ_2M, SZ_2M, NULL, &unmapped), 0);
	assert_int_equal(unmapped, SZ_2M);
	iommusim_iotlb_gather_init(&g);
	iommusim_iotlb_gather_add_range(&g, 0x1000, 0x1000);
	iommusim_iommu_iotlb_sync(f->dom, &g, NULL);
	assert_int_equal(g.last, 0); /* still reset */
	iommusim_iommu_flush_iotlb_all(f->dom, NULL);
	EXPECT_LOG(EV_MAP, EV_UNMAP);
	/* no def_domain_type: the driver has no preference */
	assert_int_equal(iommusim_iommu_decide_domain_type(f->dev, &d), 0);
	assert_int_equal(d.driver_type, IOMMUSIM_DOMAIN_NONE);
	assert_int_equal(d.effective, IOMMUSIM_DOMAIN_DMA_FQ);
}

/* ------------------------------------------------------------------------ */
/* Default domain type (§2.5, §2.6) */

enum {
	T_NONE = IOMMUSIM_DOMAIN_NONE,
	T_ID = IOMMUSIM_DOMAIN_IDENTITY,
	T_DMA = IOMMUSIM_DOMAIN_DMA,
	T_FQ = IOMMUSIM_DOMAIN_DMA_FQ
};

struct decide_row {
	const char *what;
	/* policy */
	bool kconfig_strict, strict_set, strict, s390_strict, passthrough;
	/* device and driver */
	bool is_pci, untrusted, shadow, no_cap;
	int def_type;
	/* expected */
	int ret;
	bool dma_strict;
	int global, driver, requested, effective;
	bool downgraded;
};

/* Fields left out are false / NONE / 0. pci: a PCI device; driver: its def_domain_type. */
static const struct decide_row decide_rows[] = {
	{ .what = "lazy default",
	  .is_pci = true,
	  .global = T_FQ,
	  .requested = T_FQ,
	  .effective = T_FQ },
	{ .what = "lazy, shadow_on_flush",
	  .is_pci = true,
	  .shadow = true,
	  .global = T_FQ,
	  .requested = T_FQ,
	  .effective = T_FQ },
	{ .what = "lazy, not PCI", .global = T_FQ, .requested = T_FQ, .effective = T_FQ },
	{ .what = "kconfig strict",
	  .kconfig_strict = true,
	  .is_pci = true,
	  .dma_strict = true,
	  .global = T_DMA,
	  .requested = T_DMA,
	  .effective = T_DMA },
	{ .what = "kconfig strict, iommu.strict=0",
	  .kconfig_strict = true,
	  .strict_set = true,
	  .is_pci = true,
	  .global = T_FQ,
	  .requested = T_FQ,
	  .effective = T_FQ },
	{ .what = "kconfig strict, iommu.strict=1",
	  .kconfig_strict = true,
	  .strict_set = true,
	  .strict = true,
	  .is_pci = true,
	  .dma_strict = true,
	  .global = T_DMA,
	  .requested = T_DMA,
	  .effective = T_DMA },
	{ .what = "lazy, iommu.strict=1",
	  .strict_set = true,
	  .strict = true,
	  .is_pci = true,
	  .dma_strict = true,
	  .global = T_DMA,
	  .requested = T_DMA,
	  .effective = T_DMA },
	{ .what = "lazy, iommu.strict=0",
	  .strict_set = true,
	  .is_pci = true,
	  .global = T_FQ,
	  .requested = T_FQ,
	  .effective = T_FQ },
	{ .what = "s390_iommu=strict",
	  .s390_strict = true,
	  .is_pci = true,
	  .dma_strict = true,
	  .global = T_DMA,
	  .requested = T_DMA,
	  .effective = T_DMA },
	{ .what = "s390_iommu=strict beats iommu.strict=0",
	  .strict_set = true,
	  .s390_strict = true,
	  .is_pci = true,
	  .dma_strict = true,
	  .global = T_DMA,
	  .requested = T_DMA,
	  .effective = T_DMA },
	{ .what = "passthrough",
	  .passthrough = true,
	  .is_pci = true,
	  .global = T_ID,
	  .requested = T_ID,
	  .effective = T_ID },
	{ .what = "passthrough, iommu.strict=1",
	  .strict_set = true,
	  .strict = true,
	  .passthrough = true,
	  .is_pci = true,
	  .dma_strict = true,
	  .global = T_ID,
	  .requested = T_ID,
	  .effective = T_ID },
	{ .what = "passthrough, no deferred flush",
	  .passthrough = true,
	  .is_pci = true,
	  .no_cap = true,
	  .global = T_ID,
	  .requested = T_ID,
	  .effective = T_ID },
	{ .what = "untrusted PCI, lazy",
	  .is_pci = true,
	  .untrusted = true,
	  .global = T_FQ,
	  .requested = T_DMA,
	  .effective = T_DMA },
	{ .what = "untrusted PCI, passthrough",
	  .passthrough = true,
	  .is_pci = true,
	  .untrusted = true,
	  .global = T_ID,
	  .requested = T_DMA,
	  .effective = T_DMA },
	{ .what = "untrusted, not PCI",
	  .untrusted = true,
	  .global = T_FQ,
	  .requested = T_FQ,
	  .effective = T_FQ },
	{ .what = "driver wants DMA",
	  .is_pci = true,
	  .def_type = T_DMA,
	  .global = T_FQ,
	  .driver = T_DMA,
	  .requested = T_DMA,
	  .effective = T_DMA },
	{ .what = "driver wants identity",
	  .is_pci = true,
	  .def_type = T_ID,
	  .global = T_FQ,
	  .driver = T_ID,
	  .requested = T_ID,
	  .effective = T_ID },
	{ .what = "driver wants identity, strict",
	  .kconfig_strict = true,
	  .is_pci = true,
	  .def_type = T_ID,
	  .dma_strict = true,
	  .global = T_DMA,
	  .driver = T_ID,
	  .requested = T_ID,
	  .effective = T_ID },
	{ .what = "driver identity, untrusted",
	  .is_pci = true,
	  .untrusted = true,
	  .def_type = T_ID,
	  .ret = -EINVAL },
	{ .what = "driver DMA-FQ, untrusted",
	  .is_pci = true,
	  .untrusted = true,
	  .def_type = T_FQ,
	  .ret = -EINVAL },
	{ .what = "driver DMA, untrusted",
	  .is_pci = true,
	  .untrusted = true,
	  .def_type = T_DMA,
	  .global = T_FQ,
	  .driver = T_DMA,
	  .requested = T_DMA,
	  .effective = T_DMA },
	{ .what = "driver identity, untrusted non-PCI",
	  .untrusted = true,
	  .def_type = T_ID,
	  .global = T_FQ,
	  .driver = T_ID,
	  .requested = T_ID,
	  .effective = T_ID },
	{ .what = "no deferred flush, lazy",
	  .is_pci = true,
	  .no_cap = true,
	  .global = T_FQ,
	  .requested = T_FQ,
	  .effective = T_DMA,
	  .downgraded = true },
	{ .what = "no deferred flush, shadow",
	  .is_pci = true,
	  .shadow = true,
	  .no_cap = true,
	  .global = T_FQ,
	  .requested = T_FQ,
	  .effective = T_DMA,
	  .downgraded = true },
	{ .what = "no deferred flush, strict",
	  .strict_set = true,
	  .strict = true,
	  .is_pci = true,
	  .no_cap = true,
	  .dma_strict = true,
	  .global = T_DMA,
	  .requested = T_DMA,
	  .effective = T_DMA },
	{ .what = "no deferred flush, driver DMA",
	  .is_pci = true,
	  .no_cap = true,
	  .def_type = T_DMA,
	  .global = T_FQ,
	  .driver = T_DMA,
	  .requested = T_DMA,
	  .effective = T_DMA },
	{ .what = "no deferred flush, untrusted",
	  .is_pci = true,
	  .untrusted = true,
	  .no_cap = true,
	  .global = T_FQ,
	  .requested = T_DMA,
	  .effective = T_DMA },
};

static void
check_decide_row(size_t i, const struct decide_row *r)
{
	const struct iommusim_iommu_policy pol = {
		.kconfig_strict = r->kconfig_strict,
		.strict_set = r->strict_set,
		.strict = r->strict,
		.s390_strict = r->s390_strict,
		.passthrough = r->passthrough,
	};
	const struct iommusim_device_cfg cfg = { .is_pci = r->is_pci, .untrusted = r->untrusted };
	struct iommusim_iommu *iommu;
	struct iommusim_device *dev = NULL;
	struct iommusim_domain_decision d;
	int ret;

	mock_reset();
	M.probe_shadow = r->shadow;
	M.cap_deferred = !r->no_cap;
	M.def_type = (enum iommusim_domain_type)r->def_type;
	iommu = new_iommu(&mock_ops, &pol);
	assert_int_equal(iommusim_device_create(iommu, &cfg, &dev), 0);
	memset(&d, 0, sizeof(d));
	ret = iommusim_iommu_decide_domain_type(dev, &d);
	if (ret != r->ret || (!ret && d.effective != (enum iommusim_domain_type)r->effective))
		print_message(
			"# row %zu (%s): ret %d global %s driver %s requested %s effective %s%s\n",
			i, r->what, ret, iommusim_domain_type_name(d.global_default),
			iommusim_domain_type_name(d.driver_type),
			iommusim_domain_type_name(d.requested),
			iommusim_domain_type_name(d.effective),
			d.downgraded_no_deferred_flush ? " (downgraded)" : "");
	assert_int_equal(iommusim_iommu_dma_strict(iommu), r->dma_strict);
	assert_int_equal(ret, r->ret);
	if (!ret) {
		assert_int_equal(d.global_default, r->global);
		assert_int_equal(d.driver_type, r->driver);
		assert_int_equal(d.requested, r->requested);
		assert_int_equal(d.effective, r->effective);
		assert_int_equal(d.downgraded_no_deferred_flush, r->downgraded);
		if (d.effective == IOMMUSIM_DOMAIN_DMA_FQ) {
			/* §2.5: from shadow_on_flush of this (first) device */
			assert_int_equal(d.fq.single_queue, r->shadow);
			assert_int_equal(d.fq.size, r->shadow ? 32768 : 256);
			assert_int_equal(d.fq.timeout_ms, r->shadow ? 1000 : 10);
		}
	}
	iommusim_device_destroy(dev, NULL);
	iommusim_iommu_destroy(iommu);
}

static void
test_iommu_decide_domain_type_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(decide_rows) / sizeof(decide_rows[0]); i++)
		check_decide_row(i, &decide_rows[i]);
}

/* §2.6 iommu_group_alloc_default_domain(): the global default is allocated;
 * when it is identity and the driver has none, DMA (strict) instead, said in
 * the decision; a driver's own demand is never replaced. */
static void
test_iommu_default_domain_falls_back_to_dma_without_identity(void **state)
{
	const struct iommusim_iommu_policy pt = { .passthrough = true };
	const struct iommusim_device_cfg cfg = { .is_pci = true };
	struct iommusim_iommu_ops with_identity = mock_ops;
	struct iommusim_domain_decision d;
	struct iommusim_domain_info di;
	struct iommusim_iommu *iommu;
	struct iommusim_device *dev = NULL;
	struct iommusim_domain *dom = NULL;

	(void)state;
	with_identity.domain_alloc_identity = mock_domain_alloc_identity;
	/* No identity domain: DMA, not DMA-FQ, with the fallback noted. */
	mock_reset();
	M.cap_deferred = true;
	iommu = new_iommu(&mock_ops, &pt);
	assert_int_equal(iommusim_device_create(iommu, &cfg, &dev), 0);
	assert_int_equal(iommusim_iommu_alloc_default_domain(dev, &d, &dom), 0);
	assert_int_equal(d.requested, IOMMUSIM_DOMAIN_IDENTITY);
	assert_true(d.fell_back_to_dma);
	assert_int_equal(d.effective, IOMMUSIM_DOMAIN_DMA);
	assert_int_equal(iommusim_domain_info_get(dom, &di), 0);
	assert_int_equal(di.type, IOMMUSIM_DOMAIN_DMA);
	iommusim_domain_free(dom);
	iommusim_device_destroy(dev, NULL);
	iommusim_iommu_destroy(iommu);
	/* With one: identity; map refuses it, iova_to_phys is the identity, and
	 * a flush reaches no driver callback. */
	mock_reset();
	iommu = new_iommu(&with_identity, &pt);
	assert_int_equal(iommusim_device_create(iommu, &cfg, &dev), 0);
	assert_int_equal(iommusim_iommu_alloc_default_domain(dev, &d, &dom), 0);
	assert_false(d.fell_back_to_dma);
	assert_int_equal(d.effective, IOMMUSIM_DOMAIN_IDENTITY);
	assert_int_equal(iommusim_domain_info_get(dom, &di), 0);
	assert_int_equal(di.type, IOMMUSIM_DOMAIN_IDENTITY);
	assert_int_equal(iommusim_iommu_attach_device(dom, dev, NULL), 0);
	assert_int_equal(count_ev(EV_ATTACH), 1);
	assert_int_not_equal(
		iommusim_iommu_map(dom, 0x10000, 0x10000, 0x1000, IOMMUSIM_PROT_READ, NULL), 0);
	assert_int_equal(iommusim_iommu_iova_to_phys(dom, 0x1234), 0x1234);
	iommusim_iommu_flush_iotlb_all(dom, NULL);
	assert_int_equal(count_ev(EV_FLUSH_ALL), 0);
	assert_int_equal(iommusim_iommu_detach_device(dom, dev, NULL), 0);
	iommusim_domain_free(dom);
	iommusim_device_destroy(dev, NULL);
	/* The driver's identity allocation fails: DMA again. */
	M.identity_ret = -EOPNOTSUPP;
	assert_int_equal(iommusim_device_create(iommu, &cfg, &dev), 0);
	assert_int_equal(iommusim_iommu_alloc_default_domain(dev, &d, &dom), 0);
	assert_true(d.fell_back_to_dma);
	iommusim_domain_free(dom);
	iommusim_device_destroy(dev, NULL);
	iommusim_iommu_destroy(iommu);
	/* A driver demanding identity gets no fallback: the error stands. */
	mock_reset();
	M.def_type = IOMMUSIM_DOMAIN_IDENTITY;
	iommu = new_iommu(&mock_ops, NULL);
	assert_int_equal(iommusim_device_create(iommu, &cfg, &dev), 0);
	dom = NULL;
	assert_int_equal(iommusim_iommu_alloc_default_domain(dev, &d, &dom), -EOPNOTSUPP);
	assert_null(dom);
	assert_int_equal(iommusim_iommu_alloc_default_domain(NULL, &d, &dom), -EINVAL);
	assert_int_equal(iommusim_iommu_alloc_default_domain(dev, NULL, &dom), -EINVAL);
	iommusim_device_destroy(dev, NULL);
	iommusim_iommu_destroy(iommu);
	/* Without passthrough nothing falls back: DMA-FQ is allocated as is. */
	mock_reset();
	M.cap_deferred = true;
	iommu = new_iommu(&mock_ops, NULL);
	assert_int_equal(iommusim_device_create(iommu, &cfg, &dev), 0);
	assert_int_equal(iommusim_iommu_alloc_default_domain(dev, &d, &dom), 0);
	assert_false(d.fell_back_to_dma);
	assert_int_equal(iommusim_domain_info_get(dom, &di), 0);
	assert_int_equal(di.type, IOMMUSIM_DOMAIN_DMA_FQ);
	iommusim_domain_free(dom);
	iommusim_device_destroy(dev, NULL);
	iommusim_iommu_destroy(iommu);
}

static void
test_iommu_decide_domain_type_rejects_null(void **state)
{
	struct fix *f = *state;
	struct iommusim_domain_decision d;

	assert_int_equal(iommusim_iommu_decide_domain_type(NULL, &d), -EINVAL);
	assert_int_equal(iommusim_iommu_decide_domain_type(f->dev, NULL), -EINVAL);
	assert_false(iommusim_iommu_dma_strict(NULL));
}

/* ------------------------------------------------------------------------ */

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iommu_create_rejects_missing_ops),
		cmocka_unit_test(test_iommu_create_enomem),
		cmocka_unit_test_setup_teardown(test_iommu_device_create_defaults, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_device_create_keeps_cfg, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_device_create_rejects_null, setup_mock,
						teardown_mock),
		cmocka_unit_test(test_iommu_device_probe_failure_propagates),
		cmocka_unit_test(test_iommu_device_create_enomem),
		cmocka_unit_test(test_iommu_device_pci_32bit_workaround),
		cmocka_unit_test_setup_teardown(test_iommu_device_destroy_calls_release, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_device_capable_and_resv_forward,
						setup_mock, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_device_resv_without_callback,
						setup_mock_minimal, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_attach_detach_bookkeeping, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_attach_moves_between_domains, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_attach_driver_error_changes_nothing,
						setup_mock, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_attach_other_iommu_einval, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_detach_not_attached_einval, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_attach_detach_without_detach_callback,
						setup_mock_minimal, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_domain_alloc_types, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_domain_set_type_rules, setup_mock,
						teardown_mock),
		cmocka_unit_test(test_iommu_domain_type_names),
		cmocka_unit_test_setup_teardown(test_iommu_map_rejects_misaligned, setup_mock,
						teardown_mock),
		cmocka_unit_test(test_iommu_map_min_pgsize_is_smallest_bit),
		cmocka_unit_test_setup_teardown(test_iommu_map_aligned_2m_uses_2m_pages, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_partial_progress_continues,
						setup_mock, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_offset_4k_then_2m_then_4k,
						setup_mock, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_small_range_below_boundary_only_4k,
						setup_mock, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_different_offsets_only_4k,
						setup_mock, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_1g_then_2m, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_sync_map_once_over_range, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_failure_unmaps_what_was_mapped,
						setup_mock, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_failure_counts_partial_mapped,
						setup_mock, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_first_call_failure_unmaps_nothing,
						setup_mock, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_sync_map_error_unmaps_all,
						setup_mock, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_without_sync_map_op,
						setup_mock_minimal, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_sg_merges_contiguous, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_sg_merged_chunk_uses_large_pages,
						setup_mock, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_sg_second_chunk_failure_unmaps_first,
						setup_mock, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_sg_sync_map_failure_unmaps_all,
						setup_mock, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_map_sg_rejects_bad_args, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_unmap_fast_never_syncs, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_unmap_page_size_loop, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_unmap_stops_at_zero, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_unmap_syncs_once_and_resets, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_unmap_misaligned_einval, setup_mock,
						teardown_mock),
		cmocka_unit_test(test_iommu_gather_init_values),
		cmocka_unit_test(test_iommu_gather_add_range_widens),
		cmocka_unit_test(test_iommu_gather_is_disjoint),
		cmocka_unit_test_setup_teardown(test_iommu_gather_add_page_syncs_on_size_change,
						setup_mock, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_gather_add_page_syncs_on_disjoint,
						setup_mock, teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_flush_iotlb_all_forwards, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_iova_to_phys_forwards, setup_mock,
						teardown_mock),
		cmocka_unit_test_setup_teardown(test_iommu_minimal_ops_paths, setup_mock_minimal,
						teardown_mock),
		cmocka_unit_test(test_iommu_decide_domain_type_table),
		cmocka_unit_test(test_iommu_default_domain_falls_back_to_dma_without_identity),
		cmocka_unit_test_setup_teardown(test_iommu_decide_domain_type_rejects_null,
						setup_mock, teardown_mock),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("iommu", tests, NULL, NULL);
}
