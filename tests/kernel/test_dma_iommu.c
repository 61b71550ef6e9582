/* SPDX-License-Identifier: MIT */
/*
 * Tests of dma-iommu (lib/dma_iommu.c) against KERNEL_SPEC.md §2 (and §3, §8,
 * TV-14, TV-27) through the whole stack: the flush queues, the IOVA allocator,
 * the IOMMU core and the real s390 driver on zPCI functions answered by the
 * script platform, plus a mock IOMMU driver of our own for what s390 cannot
 * show (a PCI device without forcedac, a driver without deferred flush,
 * other apertures). Set-up and options (§2.5, §2.7), the DMA-FQ -> DMA
 * downgrade (§2.6), IOVA limits and the 32-bit-first attempt (§2.8),
 * map/unmap with offsets, rounding, protection and failures (§2.9), strict
 * and lazy unmapping with the flush-queue rules (§2.3, §2.4), the exposure
 * window, scatterlists, the generic handle, ISM end to end (§8), a
 * randomised property test and a multi-threaded run.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/dma.h>
#include <iommusim/dma_iommu.h>
#include <iommusim/hist.h>
#include <iommusim/iommu.h>
#include <iommusim/iova.h>
#include <iommusim/ism.h>
#include <iommusim/s390_iommu.h>
#include <iommusim/zpci.h>
#include <iommusim/zpci_table.h>

#include "base/mem_int.h"
#include "test_common.h"

/* The random tests' seed unless $IOMMUSIM_TEST_SEED says otherwise. */
#define DEFAULT_SEED UINT64_C(0xd3a10)

#define SZ_4K UINT64_C(0x1000)
#define SZ_64K UINT64_C(0x10000)
#define SZ_1M (UINT64_C(1) << 20)
#define SZ_64M (UINT64_C(64) << 20)
#define SZ_4G (UINT64_C(1) << 32)
#define SZ_8G (UINT64_C(8) << 30)
#define SZ_12G (UINT64_C(12) << 30)
#define SZ_16G (UINT64_C(16) << 30)
#define SZ_20G (UINT64_C(20) << 30)
#define SZ_1T (UINT64_C(1) << 40)
#define SZ_4T (UINT64_C(1) << 42)
#define PAGE_MASK_ (~(SZ_4K - 1))
#define US UINT64_C(1000)
#define MS UINT64_C(1000000)
#define BIDI IOMMUSIM_DMA_BIDIRECTIONAL
#define TO_DEV IOMMUSIM_DMA_TO_DEVICE
#define FROM_DEV IOMMUSIM_DMA_FROM_DEVICE
#define MAXRPCITS 64

/* The default s390 window: QEMU's start_dma (4 GiB) and the 16 GiB aperture. */
#define WIN_LO SZ_4G
#define WIN_HI (SZ_20G - 1)
/* Where a fresh top-down allocation of one page lands in that window. */
#define TOP_PAGE (SZ_20G - SZ_4K)

static uint64_t
pages_of(uint64_t addr, uint64_t size)
{
	return ((addr & (SZ_4K - 1)) + size + SZ_4K - 1) / SZ_4K;
}

/* ------------------------------------------------------------------------ */
/* A fake clock and a fake flush-queue timer */

struct clk {
	uint64_t now;
	bool armed;
	uint64_t at;
	unsigned arms, cancels, arm_while_armed;
};

static uint64_t
clk_now(void *priv)
{
	return ((struct clk *)priv)->now;
}

static const struct iommusim_ctx_ops clk_ops = { .now_ns = clk_now };

static void
timer_arm(void *priv, uint64_t expires)
{
	struct clk *c = priv;

	if (c->armed)
		c->arm_while_armed++;
	c->armed = true;
	c->at = expires;
	c->arms++;
}

static void
timer_cancel(void *priv)
{
	struct clk *c = priv;

	c->cancels++;
	c->armed = false;
}

static const struct iommusim_dma_timer_ops timer_ops = { .arm = timer_arm, .cancel = timer_cancel };

/* ------------------------------------------------------------------------ */
/* A mock IOMMU driver: 4 KiB pages in a flat list, configurable geometry,
 * reserved regions, capabilities and sync_map result. */

struct mock_cfg {
	bool deferred_flush;
	bool shadow_on_flush;
	bool force_aperture;
	uint64_t aperture_start, aperture_last;
	size_t nresv;
	struct iommusim_resv_region resv[4];
};

struct mock_pte {
	uint64_t iova, phys;
	unsigned prot;
};

struct mock {
	struct mock_cfg cfg;
	struct mock_pte *pte;
	size_t n, cap;
	unsigned flush_alls, syncs, sync_maps, double_maps;
	uint64_t sync_start, sync_last;
	int sync_map_ret;
};

static struct mock_pte *
mock_find(struct mock *m, uint64_t iova)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (m->pte[i].iova == iova)
			return &m->pte[i];
	return NULL;
}

static int
mock_probe(void *drv, struct iommusim_device *dev)
{
	struct mock *m = drv;

	if (m->cfg.shadow_on_flush)
		iommusim_device_set_shadow_on_flush(dev, true);
	return 0;
}

static bool
mock_capable(void *drv, struct iommusim_device *dev, enum iommusim_iommu_cap cap)
{
	struct mock *m = drv;

	(void)dev;
	if (cap == IOMMUSIM_CAP_DEFERRED_FLUSH)
		return m->cfg.deferred_flush;
	return cap == IOMMUSIM_CAP_CACHE_COHERENCY;
}

static int
mock_resv(void *drv, struct iommusim_device *dev, struct iommusim_resv_region *r, size_t max,
	  size_t *n)
{
	struct mock *m = drv;
	size_t i;

	(void)dev;
	if (m->cfg.nresv > max)
		return -ENOSPC;
	for (i = 0; i < m->cfg.nresv; i++)
		r[i] = m->cfg.resv[i];
	*n = m->cfg.nresv;
	return 0;
}

static int
mock_domain_alloc(void *drv, struct iommusim_device *dev, struct iommusim_domain *dom, void **priv)
{
	struct mock *m = drv;
	const struct iommusim_domain_geometry geo = {
		.aperture_start = m->cfg.aperture_start,
		.aperture_last = m->cfg.aperture_last,
		.force_aperture = m->cfg.force_aperture,
	};

	(void)dev;
	iommusim_domain_set_geometry(dom, &geo);
	iommusim_domain_set_pgsize_bitmap(dom, SZ_4K);
	*priv = m;
	return 0;
}

static void
mock_domain_free(void *priv)
{
	(void)priv;
}

static int
mock_attach(void *priv, struct iommusim_device *dev, const struct iommusim_ctx *ctx)
{
	(void)priv;
	(void)dev;
	(void)ctx;
	return 0;
}

static int
mock_map(void *priv, uint64_t iova, uint64_t paddr, uint64_t pgsize, uint64_t pgcount,
	 unsigned prot, uint64_t *mapped, const struct iommusim_ctx *ctx)
{
	struct mock *m = priv;
	uint64_t i;

	(void)ctx;
	if (pgsize != SZ_4K)
		return -EINVAL;
	for (i = 0; i < pgcount; i++) {
		struct mock_pte *p = mock_find(m, iova + i * SZ_4K);

		if (p) {
			m->double_maps++;
			p->phys = paddr + i * SZ_4K;
			p->prot = prot;
			continue;
		}
		if (m->n == m->cap) {
			size_t cap = m->cap ? 2 * m->cap : 64;
			struct mock_pte *np = realloc(m->pte, cap * sizeof(*np));

			if (!np)
				return -ENOMEM;
			m->pte = np;
			m->cap = cap;
		}
		m->pte[m->n++] = (struct mock_pte){ iova + i * SZ_4K, paddr + i * SZ_4K, prot };
	}
	*mapped = pgsize * pgcount;
	return 0;
}

static uint64_t
mock_unmap(void *priv, uint64_t iova, uint64_t pgsize, uint64_t pgcount,
	   struct iommusim_iotlb_gather *gather, const struct iommusim_ctx *ctx)
{
	struct mock *m = priv;
	uint64_t i;

	(void)ctx;
	for (i = 0; i < pgcount; i++) {
		struct mock_pte *p = mock_find(m, iova + i * pgsize);

		if (!p)
			break;
		*p = m->pte[--m->n];
	}
	if (i)
		iommusim_iotlb_gather_add_range(gather, iova, i * pgsize);
	return i * pgsize;
}

static void
mock_flush_all(void *priv, const struct iommusim_ctx *ctx)
{
	(void)ctx;
	((struct mock *)priv)->flush_alls++;
}

static void
mock_sync(void *priv, struct iommusim_iotlb_gather *g, const struct iommusim_ctx *ctx)
{
	struct mock *m = priv;

	(void)ctx;
	if (!g->last)
		return;
	m->syncs++;
	m->sync_start = g->start;
	m->sync_last = g->last;
}

static int
mock_sync_map(void *priv, uint64_t iova, uint64_t size, const struct iommusim_ctx *ctx)
{
	struct mock *m = priv;

	(void)iova;
	(void)size;
	(void)ctx;
	m->sync_maps++;
	return m->sync_map_ret;
}

static uint64_t
mock_iova_to_phys(void *priv, uint64_t iova)
{
	struct mock_pte *p = mock_find(priv, iova & PAGE_MASK_);

	return p ? p->phys : 0;
}

static const struct iommusim_iommu_ops mock_ops = {
	.probe_device = mock_probe,
	.capable = mock_capable,
	.get_resv_regions = mock_resv,
	.domain_alloc_paging = mock_domain_alloc,
	.domain_free = mock_domain_free,
	.attach_dev = mock_attach,
	.map_pages = mock_map,
	.unmap_pages = mock_unmap,
	.flush_iotlb_all = mock_flush_all,
	.iotlb_sync_map = mock_sync_map,
	.iotlb_sync = mock_sync,
	.iova_to_phys = mock_iova_to_phys,
};

/* A 1 TiB forced aperture from 0, deferred flush, no reserved regions. */
static struct mock_cfg
mock_default(void)
{
	struct mock_cfg c = {
		.deferred_flush = true,
		.force_aperture = true,
		.aperture_start = 0,
		.aperture_last = SZ_1T - 1,
	};

	return c;
}

/* ------------------------------------------------------------------------ */
/* Fixture: one IOMMU (s390 or mock), one function/device, a domain, the
 * dma-iommu instance, and the clock. */

struct fix {
	struct clk clk;
	struct iommusim_dma_iommu_cfg cfg; /* used by dma_start() */
	struct iommusim_s390_iommu *s;
	struct iommusim_iommu *iommu;
	struct mock *mock;
	struct iommusim_zpci_canned *script;
	struct iommusim_zpci_fn *fn;
	struct iommusim_device *dev;
	struct iommusim_domain *dom;
	struct iommusim_dma_iommu *d;
	struct iommusim_dma dma;
	struct iommusim_ism *ism;
};

static void
fix_stop(struct fix *f)
{
	ims_mem_fault_inject(0, 0);
	iommusim_ism_destroy(f->ism);
	iommusim_dma_iommu_destroy(f->d);
	iommusim_device_destroy(f->dev, NULL);
	iommusim_domain_free(f->dom);
	if (f->s)
		iommusim_s390_iommu_destroy(f->s);
	else
		iommusim_iommu_destroy(f->iommu);
	iommusim_zpci_fn_destroy(f->fn);
	iommusim_zpci_canned_destroy(f->script);
	if (f->mock) {
		free(f->mock->pte);
		free(f->mock);
	}
	memset(f, 0, sizeof(*f));
}

static int
setup_fix(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	*state = f;
	return 0;
}

static int
teardown_fix(void **state)
{
	struct fix *f = *state;

	fix_stop(f);
	free(f);
	return 0;
}

struct s390_opts {
	uint8_t pft;
	bool tlb_refresh;
	enum iommusim_domain_type type; /* 0: DMA-FQ */
	uint64_t start_dma, end_dma; /* 0: QEMU's */
	uint64_t dma_mask; /* 0: 64 bit */
	uint64_t seg_boundary_mask;
	uint32_t max_seg_size;
	bool no_script; /* a platform answering cc 0 without recording */
	const struct iommusim_zpci_platform_ops *platform; /* else the script */
	void *platform_priv;
};

/* The s390 driver (16 GiB of memory), a function, its PCI device, a domain of
 * o->type, attached; the script log starts empty. */
static void
s390_start(struct fix *f, const struct s390_opts *o)
{
	const struct iommusim_s390_iommu_cfg scfg = { .memory_bytes = SZ_16G };
	struct iommusim_zpci_fn_cfg fcfg = {
		.fid = 1,
		.pft = o->pft,
		.tlb_refresh = o->tlb_refresh,
		.start_dma = o->start_dma,
		.end_dma = o->end_dma,
	};
	struct iommusim_device_cfg dcfg = {
		.is_pci = true,
		.dma_mask = o->dma_mask,
		.seg_boundary_mask = o->seg_boundary_mask,
		.max_seg_size = o->max_seg_size,
	};

	assert_int_equal(iommusim_s390_iommu_create(&scfg, NULL, &f->s, &f->iommu), 0);
	if (o->platform) {
		fcfg.platform = o->platform;
		fcfg.platform_priv = o->platform_priv;
	} else if (!o->no_script) {
		assert_int_equal(iommusim_zpci_canned_create(&f->script), 0);
		fcfg.platform = &iommusim_zpci_canned_ops;
		fcfg.platform_priv = f->script;
	}
	assert_int_equal(iommusim_zpci_fn_create(&fcfg, &f->fn), 0);
	dcfg.drvdata = f->fn;
	assert_int_equal(iommusim_device_create(f->iommu, &dcfg, &f->dev), 0);
	assert_int_equal(
		iommusim_domain_alloc(f->dev, o->type ? o->type : IOMMUSIM_DOMAIN_DMA_FQ, &f->dom),
		0);
	assert_int_equal(iommusim_iommu_attach_device(f->dom, f->dev, NULL), 0);
	if (f->script)
		iommusim_zpci_canned_reset(f->script);
}

static void
mock_start(struct fix *f, const struct mock_cfg *mc, const struct iommusim_device_cfg *dcfg,
	   enum iommusim_domain_type type)
{
	const struct iommusim_iommu_policy pol = { 0 }; /* no forcedac */

	f->mock = calloc(1, sizeof(*f->mock));
	assert_non_null(f->mock);
	f->mock->cfg = *mc;
	assert_int_equal(iommusim_iommu_create(&mock_ops, f->mock, &pol, &f->iommu), 0);
	assert_int_equal(iommusim_device_create(f->iommu, dcfg, &f->dev), 0);
	assert_int_equal(iommusim_domain_alloc(f->dev, type, &f->dom), 0);
	assert_int_equal(iommusim_iommu_attach_device(f->dom, f->dev, NULL), 0);
}

static void
use_timer(struct fix *f)
{
	f->cfg.fq_timer = &timer_ops;
	f->cfg.fq_timer_priv = &f->clk;
}

static void
dma_start(struct fix *f)
{
	assert_int_equal(iommusim_dma_iommu_create(f->dom, f->dev, &f->cfg, &f->d, &f->dma), 0);
	assert_non_null(f->d);
	assert_non_null(f->dma.ops);
	assert_ptr_equal(f->dma.priv, f->d);
}

static struct iommusim_ctx
cx(struct fix *f, unsigned cpu)
{
	const struct iommusim_ctx c = { &clk_ops, &f->clk, cpu };

	return c;
}

static uint64_t
map1(struct fix *f, const struct iommusim_ctx *ctx, uint64_t phys, uint64_t size,
     enum iommusim_dma_dir dir)
{
	uint64_t dma = 0;
	int ret = iommusim_dma_map_page(&f->dma, phys, size, dir, 0, ctx, &dma);

	if (ret)
		fail_msg("map_page(%#" PRIx64 ", %" PRIu64 ") = %d", phys, size, ret);
	return dma;
}

static void
unmap1(struct fix *f, const struct iommusim_ctx *ctx, uint64_t dma, uint64_t size,
       enum iommusim_dma_dir dir)
{
	assert_int_equal(iommusim_dma_unmap_page(&f->dma, dma, size, dir, 0, ctx), 0);
}

/* Fire the fake timer: what the caller's timer callback does. */
static void
fire(struct fix *f, unsigned cpu)
{
	const struct iommusim_ctx c = cx(f, cpu);

	f->clk.armed = false;
	iommusim_dma_iommu_fq_timeout(f->d, &c);
}

static struct iommusim_dma_iommu_stats
st(const struct fix *f)
{
	struct iommusim_dma_iommu_stats s;

	assert_int_equal(iommusim_dma_iommu_stats_get(f->d, &s), 0);
	return s;
}

static struct iommusim_dma_iommu_info
info(const struct fix *f)
{
	struct iommusim_dma_iommu_info i;

	assert_int_equal(iommusim_dma_iommu_info_get(f->d, &i), 0);
	return i;
}

static struct iommusim_s390_counters
ctrs(const struct fix *f)
{
	struct iommusim_s390_counters c;

	assert_int_equal(iommusim_s390_domain_counters(f->dom, &c, NULL), 0);
	return c;
}

static struct iommusim_s390_events
evs(const struct fix *f)
{
	struct iommusim_s390_events e;

	assert_int_equal(iommusim_s390_domain_counters(f->dom, NULL, &e), 0);
	return e;
}

static enum iommusim_domain_type
dom_type(const struct fix *f)
{
	struct iommusim_domain_info di;

	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	return di.type;
}

/* The recorded RPCITs in order (MPCIFCs skipped); returns how many. */
static size_t
rpcits(const struct fix *f, struct iommusim_zpci_canned_call *out, size_t max)
{
	size_t i, n = 0, total = iommusim_zpci_canned_ncalls(f->script);

	for (i = 0; i < total; i++) {
		struct iommusim_zpci_canned_call c;

		assert_int_equal(iommusim_zpci_canned_call(f->script, i, &c), 0);
		if (!c.is_rpcit)
			continue;
		if (n < max)
			out[n] = c;
		n++;
	}
	return n;
}

static size_t
nrpcits(const struct fix *f)
{
	return rpcits(f, NULL, 0);
}

static size_t
nrpcits_of(const struct fix *f, enum iommusim_rpcit_reason reason)
{
	size_t i, n = 0, total = iommusim_zpci_canned_ncalls(f->script);

	for (i = 0; i < total; i++) {
		struct iommusim_zpci_canned_call c;

		assert_int_equal(iommusim_zpci_canned_call(f->script, i, &c), 0);
		n += c.is_rpcit && c.rpcit.reason == reason;
	}
	return n;
}

static void
expect_rpcit(const struct iommusim_zpci_canned_call *c, enum iommusim_rpcit_reason reason,
	     uint64_t addr, uint64_t range)
{
	assert_true(c->is_rpcit);
	if (c->rpcit.reason != reason)
		fail_msg("RPCIT reason %s, expected %s",
			 iommusim_rpcit_reason_name(c->rpcit.reason),
			 iommusim_rpcit_reason_name(reason));
	assert_int_equal(c->rpcit.addr, addr);
	assert_int_equal(c->rpcit.range, range);
}

static uint64_t
pte_at(const struct fix *f, uint64_t iova)
{
	uint64_t pte = 0;

	assert_int_equal(
		iommusim_zpci_table_entry(iommusim_s390_domain_table(f->dom), iova, 3, &pte), 0);
	return pte;
}

static uint64_t
xlate(const struct fix *f, uint64_t iova)
{
	return iommusim_iommu_iova_to_phys(f->dom, iova);
}

/* The ranges of the IOVA tree. */
#define MAXRANGES 64
struct ranges {
	size_t n;
	struct iommusim_iova_range r[MAXRANGES];
};

static int
collect_range(void *priv, const struct iommusim_iova_range *r)
{
	struct ranges *rs = priv;

	if (rs->n < MAXRANGES)
		rs->r[rs->n] = *r;
	rs->n++;
	return 0;
}

static struct ranges
tree_ranges(const struct fix *f)
{
	struct ranges rs = { 0 };

	assert_int_equal(iommusim_iova_for_each(iommusim_dma_iommu_iovad(f->d), collect_range, &rs),
			 0);
	return rs;
}

static void
expect_range(const struct ranges *rs, size_t i, uint64_t lo, uint64_t hi)
{
	assert_true(i < rs->n);
	assert_int_equal(rs->r[i].pfn_lo, lo);
	assert_int_equal(rs->r[i].pfn_hi, hi);
}

/* The tree holds exactly the two reserved ranges of the default window. */
static void
expect_only_default_reserved(const struct fix *f)
{
	struct ranges rs = tree_ranges(f);

	assert_int_equal(rs.n, 2);
	expect_range(&rs, 0, 0, (WIN_LO >> 12) - 1);
	expect_range(&rs, 1, (WIN_HI + 1) >> 12, (SZ_4T >> 12) - 1);
}

/* pfns sitting in magazines (every CPU's loaded/prev, every depot). */
static uint64_t
cached_pfns(const struct fix *f, unsigned ncpus)
{
	struct iommusim_iova_domain *iovad = iommusim_dma_iommu_iovad(f->d);
	uint64_t n = 0;
	unsigned bin, cpu;

	for (bin = 0; bin < IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE; bin++) {
		for (cpu = 0; cpu < ncpus; cpu++) {
			struct iommusim_iova_rcache_info ri;

			assert_int_equal(iommusim_iova_rcache_info_get(iovad, bin, cpu, &ri), 0);
			n += ri.loaded_size + ri.prev_size;
			if (cpu == 0)
				n += ri.depot_size * IOMMUSIM_IOVA_MAG_SIZE;
		}
	}
	return n;
}

static void
flush_iova_caches(const struct fix *f, unsigned ncpus)
{
	struct iommusim_iova_domain *iovad = iommusim_dma_iommu_iovad(f->d);
	unsigned cpu;

	for (cpu = 0; cpu < ncpus; cpu++)
		assert_int_equal(iommusim_iova_cpu_cache_flush(iovad, cpu, NULL), 0);
	assert_int_equal(iommusim_iova_global_cache_flush(iovad, NULL), 0);
}

/* ------------------------------------------------------------------------ */
/* Set-up (§2.5, §2.6, §2.7, TV-27) */

static void
test_dma_iommu_init_s390_per_cpu_defaults(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { 0 };
	struct iommusim_dma_iommu_info i;
	struct iommusim_dma_iommu_stats s;
	struct iommusim_iova_info ii;
	struct iommusim_device_info devi;
	struct iommusim_hist_summary hs;

	s390_start(f, &o);
	dma_start(f);
	i = info(f);
	assert_int_equal(i.type, IOMMUSIM_DOMAIN_DMA_FQ);
	assert_false(i.downgraded);
	assert_false(i.single_queue);
	assert_int_equal(i.fq_size, IOMMUSIM_IOVA_DEFAULT_FQ_SIZE);
	assert_int_equal(i.fq_size, 256);
	assert_int_equal(i.fq_timeout_ms, 10);
	assert_int_equal(i.granule, 4096);
	assert_int_equal(i.start_pfn, 1);
	assert_int_equal(i.ncpus, 1);
	assert_int_equal(i.dma_limit, SZ_4T - 1);
	assert_int_equal(dom_type(f), IOMMUSIM_DOMAIN_DMA_FQ);
	assert_string_equal(f->dma.ops->name, "dma-iommu");

	assert_int_equal(iommusim_iova_info_get(iommusim_dma_iommu_iovad(f->d), &ii), 0);
	assert_int_equal(ii.granule, 4096);
	assert_int_equal(ii.shift, 12);
	assert_int_equal(ii.start_pfn, 1);
	assert_true(ii.has_rcaches);

	/* s390 sets forcedac: no 32-bit-first attempts for its PCI devices */
	assert_int_equal(iommusim_device_info_get(f->dev, &devi), 0);
	assert_true(devi.is_pci);
	assert_false(devi.pci_32bit_workaround);
	assert_false(devi.shadow_on_flush);

	s = st(f);
	assert_int_equal(s.dma.map_pages + s.dma.iova_pages_live + s.fq.queued + s.fq.timer_arms,
			 0);
	assert_non_null(iommusim_dma_iommu_exposure(f->d));
	assert_int_equal(iommusim_hist_summary_get(iommusim_dma_iommu_exposure(f->d), &hs), 0);
	assert_int_equal(hs.count, 0);
}

static void
test_dma_iommu_init_s390_tlb_refresh_single_queue(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .tlb_refresh = true };
	struct iommusim_dma_iommu_info i;
	struct iommusim_device_info devi;

	s390_start(f, &o);
	assert_int_equal(iommusim_device_info_get(f->dev, &devi), 0);
	assert_true(devi.shadow_on_flush);
	dma_start(f);
	i = info(f);
	assert_int_equal(i.type, IOMMUSIM_DOMAIN_DMA_FQ);
	assert_false(i.downgraded);
	assert_true(i.single_queue);
	assert_int_equal(i.fq_size, IOMMUSIM_IOVA_SINGLE_FQ_SIZE);
	assert_int_equal(i.fq_size, 32768);
	assert_int_equal(i.fq_timeout_ms, 1000);
	assert_int_equal(i.start_pfn, 1);
}

static void
test_dma_iommu_init_reserved_regions_in_iova_tree(void **state)
{
	struct fix *f = *state;
	struct s390_opts o = { 0 };
	struct ranges rs;

	/* QEMU's window trimmed to 16 GiB of memory: [4 GiB, 20 GiB) */
	s390_start(f, &o);
	dma_start(f);
	expect_only_default_reserved(f);
	fix_stop(f);

	/* [8 GiB, 12 GiB): both holes reserved, nothing else */
	o.start_dma = SZ_8G;
	o.end_dma = SZ_12G - 1;
	s390_start(f, &o);
	dma_start(f);
	rs = tree_ranges(f);
	assert_int_equal(rs.n, 2);
	expect_range(&rs, 0, 0, (SZ_8G >> 12) - 1);
	expect_range(&rs, 1, SZ_12G >> 12, (SZ_4T >> 12) - 1);
	/* the first IOVA is the top page of the window */
	{
		const struct iommusim_ctx c = cx(f, 0);

		assert_int_equal(map1(f, &c, 0x5000, 1, BIDI), SZ_12G - SZ_4K);
	}
}

static void
test_dma_iommu_iova_only_inside_dma_window(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = {
		.type = IOMMUSIM_DOMAIN_DMA,
		.start_dma = SZ_4G,
		.end_dma = SZ_4G + SZ_64M - 1,
	};
	uint64_t dma[64], extra = 0;
	unsigned k, j;
	const struct iommusim_ctx *c;
	struct iommusim_ctx c0;
	int ret;

	s390_start(f, &o);
	dma_start(f);
	c0 = cx(f, 0);
	c = &c0;
	/* 64 MiB of window: exactly 64 buffers of 1 MiB, all inside it */
	for (k = 0; k < 64; k++) {
		dma[k] = map1(f, c, SZ_1T + k * SZ_1M, SZ_1M, BIDI);
		assert_true(dma[k] >= SZ_4G);
		assert_true(dma[k] + SZ_1M - 1 <= SZ_4G + SZ_64M - 1);
		assert_int_equal(dma[k] & (SZ_1M - 1), 0);
		for (j = 0; j < k; j++)
			assert_true(dma[j] != dma[k]);
	}
	/* full: no IOVA below start_dma or above end_dma is handed out instead */
	ret = iommusim_dma_map_page(&f->dma, 0x7000, SZ_1M, BIDI, 0, c, &extra);
	assert_int_equal(ret, -ENOMEM);
	ret = iommusim_dma_map_page(&f->dma, 0x7000, 1, BIDI, 0, c, &extra);
	assert_int_equal(ret, -ENOMEM);
	assert_int_equal(st(f).dma.map_errors, 2);
	assert_int_equal(st(f).dma.iova_pages_live, 64 * 256);
	/* strict: a freed MiB is usable again at once */
	unmap1(f, c, dma[17], SZ_1M, BIDI);
	extra = map1(f, c, 0x7000, 1, BIDI);
	assert_true(extra >= dma[17] && extra < dma[17] + SZ_1M);
}

static void
test_dma_iommu_init_cfg_overrides(void **state)
{
	struct fix *f = *state;
	static const struct {
		enum iommusim_fq_type type;
		uint32_t size, timeout;
		bool tlb_refresh;
		bool single;
		uint32_t exp_size, exp_timeout;
	} cases[] = {
		{ IOMMUSIM_FQ_AUTO, 0, 0, false, false, 256, 10 },
		{ IOMMUSIM_FQ_AUTO, 0, 0, true, true, 32768, 1000 },
		{ IOMMUSIM_FQ_PER_CPU, 0, 0, true, false, 256, 10 },
		{ IOMMUSIM_FQ_SINGLE, 0, 0, false, true, 32768, 1000 },
		{ IOMMUSIM_FQ_SINGLE, 64, 0, false, true, 64, 1000 },
		{ IOMMUSIM_FQ_PER_CPU, 2, 7, true, false, 2, 7 },
		{ IOMMUSIM_FQ_AUTO, 1024, 0, false, false, 1024, 10 },
		{ IOMMUSIM_FQ_AUTO, 0, 250, true, true, 32768, 250 },
		{ IOMMUSIM_FQ_PER_CPU, IOMMUSIM_FQ_MAX_SIZE, 1, false, false, IOMMUSIM_FQ_MAX_SIZE,
		  1 },
	};
	static const uint32_t bad_sizes[] = {
		1, 3, 6, 100, 257, IOMMUSIM_FQ_MAX_SIZE * 2, IOMMUSIM_FQ_MAX_SIZE + 1, UINT32_MAX
	};
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		const struct s390_opts o = { .tlb_refresh = cases[k].tlb_refresh };
		struct iommusim_dma_iommu_info i;

		s390_start(f, &o);
		f->cfg.fq_type = cases[k].type;
		f->cfg.fq_size = cases[k].size;
		f->cfg.fq_timeout_ms = cases[k].timeout;
		dma_start(f);
		i = info(f);
		assert_int_equal(i.type, IOMMUSIM_DOMAIN_DMA_FQ);
		assert_int_equal(i.single_queue, cases[k].single);
		assert_int_equal(i.fq_size, cases[k].exp_size);
		assert_int_equal(i.fq_timeout_ms, cases[k].exp_timeout);
		fix_stop(f);
	}

	{
		const struct s390_opts o = { 0 };

		s390_start(f, &o);
	}
	for (k = 0; k < sizeof(bad_sizes) / sizeof(bad_sizes[0]); k++) {
		struct iommusim_dma_iommu *d = NULL;

		f->cfg.fq_size = bad_sizes[k];
		assert_int_equal(iommusim_dma_iommu_create(f->dom, f->dev, &f->cfg, &d, NULL),
				 -EINVAL);
		assert_null(d);
		assert_int_equal(dom_type(f), IOMMUSIM_DOMAIN_DMA_FQ);
	}
	{
		struct iommusim_dma_iommu *d = NULL;

		f->cfg.fq_size = 0;
		f->cfg.fq_type = (enum iommusim_fq_type)3;
		assert_int_equal(iommusim_dma_iommu_create(f->dom, f->dev, &f->cfg, &d, NULL),
				 -EINVAL);
		assert_null(d);
		f->cfg.fq_type = IOMMUSIM_FQ_AUTO;
		f->cfg.ncpus = IOMMUSIM_IOVA_MAX_CPUS + 1;
		assert_int_equal(iommusim_dma_iommu_create(f->dom, f->dev, &f->cfg, &d, NULL),
				 -EINVAL);
		assert_null(d);
	}
	/* size 0 is "the rule's"; a NULL cfg is all defaults */
	f->cfg.ncpus = 0;
	f->cfg.fq_size = 0;
	dma_start(f);
	assert_int_equal(info(f).fq_size, 256);
	iommusim_dma_iommu_destroy(f->d);
	f->d = NULL;
	assert_int_equal(iommusim_dma_iommu_create(f->dom, f->dev, NULL, &f->d, &f->dma), 0);
	assert_int_equal(info(f).fq_size, 256);
	assert_int_equal(info(f).fq_timeout_ms, 10);
	assert_int_equal(info(f).ncpus, 1);
}

static void
test_dma_iommu_init_ism_downgrades_to_strict(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .pft = IOMMUSIM_PCI_FUNC_TYPE_ISM };
	struct iommusim_zpci_canned_call c[MAXRPCITS];
	struct iommusim_dma_iommu_info i;
	struct iommusim_dma_iommu_stats s;
	struct iommusim_ctx c0;
	uint64_t dma;

	s390_start(f, &o);
	assert_int_equal(dom_type(f), IOMMUSIM_DOMAIN_DMA_FQ);
	assert_false(iommusim_device_capable(f->dev, IOMMUSIM_CAP_DEFERRED_FLUSH));
	use_timer(f);
	dma_start(f);
	i = info(f);
	assert_int_equal(i.type, IOMMUSIM_DOMAIN_DMA);
	assert_true(i.downgraded);
	/* the domain itself became a DMA domain */
	assert_int_equal(dom_type(f), IOMMUSIM_DOMAIN_DMA);
	assert_null(iommusim_dma_iommu_exposure(f->d));

	c0 = cx(f, 0);
	dma = map1(f, &c0, 0x123000, 0x2000, BIDI);
	unmap1(f, &c0, dma, 0x2000, BIDI);
	assert_int_equal(rpcits(f, c, MAXRPCITS), 1);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_SYNC, dma, 0x2000);
	s = st(f);
	assert_int_equal(s.strict_syncs, 1);
	assert_int_equal(s.fq.queued, 0);
	assert_int_equal(s.fq.timer_arms, 0);
	assert_int_equal(f->clk.arms, 0);
	assert_int_equal(s.dma.iova_pages_live, 0);
	/* the timer callback of a strict instance does nothing */
	fire(f, 0);
	assert_int_equal(nrpcits(f), 1);
	assert_int_equal(ctrs(f).global_rpcits, 0);
}

static void
test_dma_iommu_init_fq_alloc_failure_downgrades(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { 0 };
	struct iommusim_zpci_canned_call c[MAXRPCITS];
	struct iommusim_dma_iommu_info i;
	struct iommusim_ctx c0;
	uint64_t dma;

	s390_start(f, &o);
	assert_true(iommusim_device_capable(f->dev, IOMMUSIM_CAP_DEFERRED_FLUSH));
	use_timer(f);
	f->cfg.fq_alloc_fails = true;
	dma_start(f);
	i = info(f);
	assert_int_equal(i.type, IOMMUSIM_DOMAIN_DMA);
	assert_true(i.downgraded);
	assert_int_equal(dom_type(f), IOMMUSIM_DOMAIN_DMA);
	c0 = cx(f, 0);
	dma = map1(f, &c0, 0x5000, 100, FROM_DEV);
	unmap1(f, &c0, dma, 100, FROM_DEV);
	assert_int_equal(rpcits(f, c, MAXRPCITS), 1);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_SYNC, dma, SZ_4K);
	assert_int_equal(st(f).fq.queued, 0);
	assert_int_equal(f->clk.arms, 0);
}

static void
test_dma_iommu_init_strict_domain_stays_strict(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .type = IOMMUSIM_DOMAIN_DMA };
	struct iommusim_dma_iommu_info i;

	s390_start(f, &o);
	dma_start(f);
	i = info(f);
	assert_int_equal(i.type, IOMMUSIM_DOMAIN_DMA);
	assert_false(i.downgraded);
	assert_int_equal(dom_type(f), IOMMUSIM_DOMAIN_DMA);
	assert_null(iommusim_dma_iommu_exposure(f->d));
}

static void
test_dma_iommu_init_rejects_bad_domain_and_args(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .type = IOMMUSIM_DOMAIN_UNMANAGED };
	struct iommusim_dma_iommu *d = NULL;
	struct iommusim_dma dma = { 0 };

	s390_start(f, &o);
	assert_int_equal(iommusim_dma_iommu_create(f->dom, f->dev, NULL, &d, &dma), -EINVAL);
	assert_null(d);
	assert_null(dma.ops);
	assert_int_equal(dom_type(f), IOMMUSIM_DOMAIN_UNMANAGED);
	fix_stop(f);
	{
		const struct s390_opts o2 = { 0 };

		s390_start(f, &o2);
	}
	assert_int_equal(iommusim_dma_iommu_create(NULL, f->dev, NULL, &d, &dma), -EINVAL);
	assert_int_equal(iommusim_dma_iommu_create(f->dom, NULL, NULL, &d, &dma), -EINVAL);
	assert_int_equal(iommusim_dma_iommu_create(f->dom, f->dev, NULL, NULL, &dma), -EINVAL);
	assert_null(d);
	/* dma_out is optional */
	assert_int_equal(iommusim_dma_iommu_create(f->dom, f->dev, NULL, &d, NULL), 0);
	assert_non_null(d);
	iommusim_dma_iommu_destroy(d);
	iommusim_dma_iommu_destroy(NULL);
}

/* -ENOMEM at every allocation of create, except in the queue set-up, where
 * the kernel downgrades to strict instead (§2.6). Leaks show under ASan. */
static void
test_dma_iommu_init_enomem_each_allocation(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { 0 };
	unsigned nth, enomem = 0, downgrades = 0;
	bool done = false;

	s390_start(f, &o);
	f->cfg.ncpus = 4;
	use_timer(f);
	for (nth = 1; nth < 10000 && !done; nth++) {
		struct iommusim_dma_iommu *d = NULL;
		struct iommusim_dma_iommu_info i;
		uint64_t before = ims_mem_injected_failures();
		bool hit;
		int ret;

		assert_int_equal(iommusim_domain_set_type(f->dom, IOMMUSIM_DOMAIN_DMA_FQ), 0);
		ims_mem_fault_inject(nth, 1);
		ret = iommusim_dma_iommu_create(f->dom, f->dev, &f->cfg, &d, NULL);
		ims_mem_fault_inject(0, 0);
		hit = ims_mem_injected_failures() != before;
		if (!hit) {
			assert_int_equal(ret, 0);
			assert_int_equal(iommusim_dma_iommu_info_get(d, &i), 0);
			assert_false(i.downgraded);
			assert_int_equal(i.type, IOMMUSIM_DOMAIN_DMA_FQ);
			done = true;
		} else if (ret == 0) {
			/* the failure hit the flush queue: strict instead */
			assert_int_equal(iommusim_dma_iommu_info_get(d, &i), 0);
			if (!i.downgraded)
				fail_msg("allocation %u failed but create succeeded without a "
					 "downgrade",
					 nth);
			assert_int_equal(i.type, IOMMUSIM_DOMAIN_DMA);
			assert_int_equal(dom_type(f), IOMMUSIM_DOMAIN_DMA);
			downgrades++;
		} else {
			assert_int_equal(ret, -ENOMEM);
			assert_null(d);
			enomem++;
		}
		iommusim_dma_iommu_destroy(d);
	}
	assert_true(done);
	assert_true(enomem >= 3);
	assert_true(downgrades >= 1);
	assert_int_equal(f->clk.arms, 0);
}

static void
test_dma_iommu_init_mock_rules(void **state)
{
	struct fix *f = *state;
	struct mock_cfg mc = mock_default();
	const struct iommusim_device_cfg dcfg = { .is_pci = false };
	struct iommusim_dma_iommu_info i;
	struct ranges rs;
	struct iommusim_ctx c0;
	uint64_t dma;

	/* no DEFERRED_FLUSH: DMA-FQ becomes DMA, as for ISM */
	mc.deferred_flush = false;
	mock_start(f, &mc, &dcfg, IOMMUSIM_DOMAIN_DMA_FQ);
	dma_start(f);
	i = info(f);
	assert_int_equal(i.type, IOMMUSIM_DOMAIN_DMA);
	assert_true(i.downgraded);
	assert_int_equal(dom_type(f), IOMMUSIM_DOMAIN_DMA);
	c0 = cx(f, 0);
	dma = map1(f, &c0, 0x9000, 0x3000, BIDI);
	unmap1(f, &c0, dma, 0x3000, BIDI);
	assert_int_equal(f->mock->syncs, 1);
	assert_int_equal(f->mock->sync_start, dma);
	assert_int_equal(f->mock->sync_last, dma + 0x3000 - 1);
	assert_int_equal(f->mock->flush_alls, 0);
	fix_stop(f);

	/* deferred flush and shadow_on_flush: lazy, single queue; a forced
	 * aperture from 1 MiB makes start_pfn 256; reserved regions reserved,
	 * SW_MSI not */
	mc = mock_default();
	mc.shadow_on_flush = true;
	mc.aperture_start = SZ_1M;
	mc.nresv = 2;
	mc.resv[0] = (struct iommusim_resv_region){ SZ_4G, SZ_1M, IOMMUSIM_RESV_RESERVED };
	mc.resv[1] = (struct iommusim_resv_region){ SZ_8G, SZ_1M, IOMMUSIM_RESV_SW_MSI };
	mock_start(f, &mc, &dcfg, IOMMUSIM_DOMAIN_DMA_FQ);
	use_timer(f);
	dma_start(f);
	i = info(f);
	assert_int_equal(i.type, IOMMUSIM_DOMAIN_DMA_FQ);
	assert_false(i.downgraded);
	assert_true(i.single_queue);
	assert_int_equal(i.fq_size, 32768);
	assert_int_equal(i.fq_timeout_ms, 1000);
	assert_int_equal(i.start_pfn, 256);
	assert_int_equal(i.dma_limit, SZ_1T - 1);
	rs = tree_ranges(f);
	assert_int_equal(rs.n, 1);
	expect_range(&rs, 0, SZ_4G >> 12, (SZ_4G + SZ_1M) / SZ_4K - 1);
	/* lazy: no sync at unmap, one flush_iotlb_all from the timer */
	c0 = cx(f, 0);
	dma = map1(f, &c0, 0x9000, 0x3000, BIDI);
	unmap1(f, &c0, dma, 0x3000, BIDI);
	assert_int_equal(f->mock->syncs, 0);
	assert_int_equal(f->mock->flush_alls, 0);
	assert_true(f->clk.armed);
	assert_int_equal(f->clk.at, 1000 * MS);
	fire(f, 0);
	assert_int_equal(f->mock->flush_alls, 1);
	assert_int_equal(st(f).fq.freed_entries, 1);
	fix_stop(f);

	/* without a forced aperture the aperture start does not count */
	mc = mock_default();
	mc.force_aperture = false;
	mc.aperture_start = SZ_1M;
	mock_start(f, &mc, &dcfg, IOMMUSIM_DOMAIN_DMA);
	dma_start(f);
	assert_int_equal(info(f).start_pfn, 1);
	assert_int_equal(info(f).granule, 4096);
}

/* ------------------------------------------------------------------------ */
/* IOVA allocation (§2.8) */

static void
test_dma_iommu_alloc_limit_from_mask_bus_limit_aperture(void **state)
{
	struct fix *f = *state;
	struct mock_cfg mc = mock_default();
	struct iommusim_device_cfg dcfg = { .is_pci = false };
	struct iommusim_ctx c0;

	/* 1 TiB forced aperture: the aperture is the limit */
	mock_start(f, &mc, &dcfg, IOMMUSIM_DOMAIN_DMA);
	dma_start(f);
	c0 = cx(f, 0);
	assert_int_equal(map1(f, &c0, 0x1000, 1, BIDI), SZ_1T - SZ_4K);
	/* a 36-bit mask, then a 33-bit one */
	iommusim_device_set_dma_masks(f->dev, (UINT64_C(1) << 36) - 1, UINT64_MAX);
	assert_int_equal(map1(f, &c0, 0x1000, 1, BIDI), (UINT64_C(1) << 36) - SZ_4K);
	iommusim_device_set_dma_masks(f->dev, (UINT64_C(1) << 33) - 1, UINT64_MAX);
	assert_int_equal(map1(f, &c0, 0x1000, 0x2000, BIDI), (UINT64_C(1) << 33) - 0x2000);
	assert_int_equal(st(f).alloc_32bit_tries, 0);
	fix_stop(f);

	/* bus_dma_limit below the mask wins; a mask below it wins (min_not_zero) */
	mc = mock_default();
	dcfg.bus_dma_limit = (UINT64_C(1) << 35) - 1;
	mock_start(f, &mc, &dcfg, IOMMUSIM_DOMAIN_DMA);
	dma_start(f);
	c0 = cx(f, 0);
	assert_int_equal(map1(f, &c0, 0x1000, 1, BIDI), (UINT64_C(1) << 35) - SZ_4K);
	iommusim_device_set_dma_masks(f->dev, (UINT64_C(1) << 34) - 1, UINT64_MAX);
	assert_int_equal(map1(f, &c0, 0x1000, 1, BIDI), (UINT64_C(1) << 34) - SZ_4K);
	fix_stop(f);

	/* the aperture clamps only when forced */
	mc = mock_default();
	mc.force_aperture = false;
	dcfg.bus_dma_limit = 0;
	dcfg.dma_mask = (UINT64_C(1) << 48) - 1;
	mock_start(f, &mc, &dcfg, IOMMUSIM_DOMAIN_DMA);
	dma_start(f);
	c0 = cx(f, 0);
	assert_int_equal(map1(f, &c0, 0x1000, 1, BIDI), (UINT64_C(1) << 48) - SZ_4K);
	fix_stop(f);

	/* s390: the device mask inside the window */
	{
		const struct s390_opts o = { .type = IOMMUSIM_DOMAIN_DMA, .dma_mask = SZ_8G - 1 };

		s390_start(f, &o);
		dma_start(f);
		c0 = cx(f, 0);
		assert_int_equal(map1(f, &c0, 0x1000, 1, BIDI), SZ_8G - SZ_4K);
		assert_int_equal(map1(f, &c0, 0x1000, 1, BIDI), SZ_8G - 2 * SZ_4K);
	}
}

/* Only 16 pages below 4 GiB are free: [4 GiB - 64 KiB, 4 GiB). */
static struct mock_cfg
mock_tight_32bit(void)
{
	struct mock_cfg mc = mock_default();

	mc.nresv = 1;
	mc.resv[0] = (struct iommusim_resv_region){ 0, SZ_4G - SZ_64K, IOMMUSIM_RESV_RESERVED };
	return mc;
}

static bool
pci_32bit_workaround(const struct fix *f)
{
	struct iommusim_device_info di;

	assert_int_equal(iommusim_device_info_get(f->dev, &di), 0);
	return di.pci_32bit_workaround;
}

static void
test_dma_iommu_alloc_32bit_first_then_fallback(void **state)
{
	struct fix *f = *state;
	const struct mock_cfg mc = mock_tight_32bit();
	const struct iommusim_device_cfg dcfg = { .is_pci = true };
	struct iommusim_dma_iommu_stats s;
	struct iommusim_ctx c0;
	uint64_t dma[5], x;
	unsigned k;

	mock_start(f, &mc, &dcfg, IOMMUSIM_DOMAIN_DMA);
	assert_true(pci_32bit_workaround(f));
	dma_start(f);
	c0 = cx(f, 0);
	/* 32-bit first: the four 4-page slots below 4 GiB, top down */
	for (k = 0; k < 4; k++) {
		dma[k] = map1(f, &c0, SZ_1T + k * SZ_64K, 4 * SZ_4K, BIDI);
		assert_int_equal(dma[k], SZ_4G - (k + 1) * 4 * SZ_4K);
	}
	s = st(f);
	assert_int_equal(s.alloc_32bit_tries, 4);
	assert_int_equal(s.alloc_32bit_fallbacks, 0);
	assert_true(pci_32bit_workaround(f));
	/* exhausted: the fifth tries, fails, falls back above 4 GiB for good */
	dma[4] = map1(f, &c0, SZ_1T, 4 * SZ_4K, BIDI);
	assert_int_equal(dma[4], SZ_1T - 4 * SZ_4K);
	s = st(f);
	assert_int_equal(s.alloc_32bit_tries, 5);
	assert_int_equal(s.alloc_32bit_fallbacks, 1);
	assert_int_equal(s.dma.map_errors, 0);
	assert_false(pci_32bit_workaround(f));
	/* room below 4 GiB again, but no more attempts: a 1-page map (empty
	 * cache bin) comes from the top of the tree */
	unmap1(f, &c0, dma[3], 4 * SZ_4K, BIDI);
	x = map1(f, &c0, 0x3000, 1, BIDI);
	assert_true(x > SZ_4G);
	assert_int_equal(x, SZ_1T - 5 * SZ_4K);
	/* the freed 4-page IOVA is still in the rcache, which is tried first with
	 * the full limit (§1.8) */
	x = map1(f, &c0, 0x3000, 4 * SZ_4K, BIDI);
	assert_int_equal(x, dma[3]);
	s = st(f);
	assert_int_equal(s.alloc_32bit_tries, 5);
	assert_int_equal(s.alloc_32bit_fallbacks, 1);
	assert_false(pci_32bit_workaround(f));
}

/*
 * A forced aperture from 4 GiB makes start_pfn 0x100000, so the 32-bit
 * attempt asks alloc_iova_fast for a limit below start_pfn. The kernel runs
 * it and it fails (§1.3, §1.8): the device falls back once and for good, and
 * the IOVA domain keeps max32_alloc_size at the failed (rounded) size.
 */
static void
test_dma_iommu_alloc_32bit_below_aperture_falls_back_once(void **state)
{
	struct fix *f = *state;
	struct mock_cfg mc = mock_default();
	const struct iommusim_device_cfg dcfg = { .is_pci = true };
	struct iommusim_dma_iommu_stats s;
	struct iommusim_iova_info ii;
	struct iommusim_ctx c0;
	uint64_t dma, x;

	mc.aperture_start = SZ_4G;
	mock_start(f, &mc, &dcfg, IOMMUSIM_DOMAIN_DMA);
	assert_true(pci_32bit_workaround(f));
	dma_start(f);
	assert_int_equal(info(f).start_pfn, SZ_4G >> 12);
	c0 = cx(f, 0);
	/* 3 pages, 4 after rounding: the 32-bit try fails, the full limit serves */
	dma = map1(f, &c0, 0x5000, 3 * SZ_4K, BIDI);
	assert_int_equal(dma, SZ_1T - 4 * SZ_4K);
	s = st(f);
	assert_int_equal(s.alloc_32bit_tries, 1);
	assert_int_equal(s.alloc_32bit_fallbacks, 1);
	assert_int_equal(s.dma.map_errors, 0);
	assert_false(pci_32bit_workaround(f));
	/* two cache misses, each a one-node walk; no fast fail, no flush */
	assert_int_equal(s.iova.rcache_misses, 2);
	assert_int_equal(s.iova.walk_passes, 2);
	assert_int_equal(s.iova.walk_nodes, 2);
	assert_int_equal(s.iova.fast_fails, 0);
	assert_int_equal(s.iova.rcache_flush_retries, 0);
	assert_int_equal(s.iova.tree_inserts, 1);
	/* the failed try's side effect on the allocator stays */
	assert_int_equal(iommusim_iova_info_get(iommusim_dma_iommu_iovad(f->d), &ii), 0);
	assert_int_equal(ii.max32_alloc_size, 4);
	/* later maps never try 32 bit again; frees above 4 GiB keep max32 */
	unmap1(f, &c0, dma, 3 * SZ_4K, BIDI);
	x = map1(f, &c0, 0x9000, SZ_4K, BIDI);
	assert_int_equal(x, SZ_1T - 5 * SZ_4K);
	x = map1(f, &c0, 0x9000, 3 * SZ_4K, BIDI);
	assert_int_equal(x, dma);
	s = st(f);
	assert_int_equal(s.alloc_32bit_tries, 1);
	assert_int_equal(s.alloc_32bit_fallbacks, 1);
	assert_false(pci_32bit_workaround(f));
	assert_int_equal(iommusim_iova_info_get(iommusim_dma_iommu_iovad(f->d), &ii), 0);
	assert_int_equal(ii.max32_alloc_size, 4);
}

static void
test_dma_iommu_alloc_32bit_mask_never_falls_back(void **state)
{
	struct fix *f = *state;
	const struct mock_cfg mc = mock_tight_32bit();
	const struct iommusim_device_cfg dcfg = { .is_pci = true, .dma_mask = 0xffffffffu };
	struct iommusim_dma_iommu_stats s;
	struct iommusim_ctx c0;
	uint64_t x = 0;
	unsigned k;

	mock_start(f, &mc, &dcfg, IOMMUSIM_DOMAIN_DMA);
	dma_start(f);
	c0 = cx(f, 0);
	for (k = 0; k < 4; k++)
		assert_int_equal(map1(f, &c0, SZ_1T, 4 * SZ_4K, TO_DEV),
				 SZ_4G - (k + 1) * 4 * SZ_4K);
	/* the limit is 32 bit already: no attempt, and then no room */
	assert_int_equal(iommusim_dma_map_page(&f->dma, SZ_1T, 4 * SZ_4K, TO_DEV, 0, &c0, &x),
			 -ENOMEM);
	s = st(f);
	assert_int_equal(s.alloc_32bit_tries, 0);
	assert_int_equal(s.alloc_32bit_fallbacks, 0);
	assert_int_equal(s.dma.map_errors, 1);
	assert_int_equal(s.dma.iova_pages_live, 16);
	assert_true(pci_32bit_workaround(f));
}

static void
test_dma_iommu_alloc_s390_never_tries_32bit(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .type = IOMMUSIM_DOMAIN_DMA };
	struct iommusim_ctx c0;
	unsigned k;

	s390_start(f, &o);
	dma_start(f);
	c0 = cx(f, 0);
	for (k = 0; k < 8; k++)
		assert_true(map1(f, &c0, 0x1000 * k, 1 + 5000 * k, BIDI) >= SZ_4G);
	assert_int_equal(st(f).alloc_32bit_tries, 0);
	assert_int_equal(st(f).alloc_32bit_fallbacks, 0);
}

/* ------------------------------------------------------------------------ */
/* map_page / unmap_page (§2.9) */

static void
test_dma_iommu_map_page_keeps_offset_and_rounds(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .type = IOMMUSIM_DOMAIN_DMA };
	struct iommusim_zpci_canned_call c[MAXRPCITS];
	struct iommusim_dma_iommu_stats s;
	struct iommusim_ctx c0;
	uint64_t a, b, mapped;

	s390_start(f, &o);
	dma_start(f);
	c0 = cx(f, 0);
	/* offset 0x678 kept; one page */
	a = map1(f, &c0, 0x12345678, 16, BIDI);
	assert_int_equal(a, TOP_PAGE + 0x678);
	assert_int_equal(xlate(f, a & PAGE_MASK_), 0x12345000);
	assert_int_equal(ctrs(f).mapped_pages, 1);
	s = st(f);
	assert_int_equal(s.dma.iova_pages_live, 1);
	assert_int_equal(s.dma.bytes_mapped, 16);
	/* one byte at offset 0xfff still fits its page */
	b = map1(f, &c0, 0x20000fff, 1, BIDI);
	assert_int_equal(b, SZ_20G - 2 * SZ_4K + 0xfff);
	assert_int_equal(xlate(f, b & PAGE_MASK_), 0x20000000);
	assert_int_equal(ctrs(f).mapped_pages, 2);
	unmap1(f, &c0, b, 1, BIDI);
	assert_int_equal(rpcits(f, c, MAXRPCITS), 1);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_SYNC, b & PAGE_MASK_, SZ_4K);
	iommusim_zpci_canned_reset(f->script);
	/* two bytes at offset 0xfff: two pages, 2-page aligned below */
	b = map1(f, &c0, 0x20000fff, 2, BIDI);
	assert_int_equal(b & 0xfff, 0xfff);
	assert_int_equal(b & PAGE_MASK_, SZ_20G - 4 * SZ_4K);
	assert_int_equal(xlate(f, b & PAGE_MASK_), 0x20000000);
	assert_int_equal(xlate(f, (b & PAGE_MASK_) + SZ_4K), 0x20001000);
	assert_int_equal(ctrs(f).mapped_pages, 4);
	assert_int_equal(st(f).dma.iova_pages_live, 3);
	/* the unmap covers the same two pages */
	unmap1(f, &c0, b, 2, BIDI);
	assert_int_equal(rpcits(f, c, MAXRPCITS), 1);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_SYNC, b & PAGE_MASK_, 2 * SZ_4K);
	assert_int_equal(ctrs(f).unmapped_pages, 3);
	assert_int_equal(xlate(f, b & PAGE_MASK_), 0);
	assert_int_equal(xlate(f, (b & PAGE_MASK_) + SZ_4K), 0);
	assert_int_equal(st(f).dma.iova_pages_live, 1);

	/* rounding: whole pages of offset + size */
	mapped = ctrs(f).mapped_pages;
	(void)map1(f, &c0, 0x30000000, SZ_4K, TO_DEV);
	assert_int_equal(ctrs(f).mapped_pages - mapped, 1);
	(void)map1(f, &c0, 0x30000001, SZ_4K, TO_DEV);
	assert_int_equal(ctrs(f).mapped_pages - mapped, 3);
	(void)map1(f, &c0, 0x30000000, SZ_4K + 1, TO_DEV);
	assert_int_equal(ctrs(f).mapped_pages - mapped, 5);
	(void)map1(f, &c0, 0x30000800, 5 * SZ_4K, TO_DEV);
	assert_int_equal(ctrs(f).mapped_pages - mapped, 11);
	assert_int_equal(st(f).dma.iova_pages_live, 1 + 11);
	assert_int_equal(st(f).dma.map_pages, 7);
}

static void
test_dma_iommu_map_page_direction_to_pte_protection(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .type = IOMMUSIM_DOMAIN_DMA };
	static const struct {
		enum iommusim_dma_dir dir;
		bool ro;
	} cases[] = { { TO_DEV, true }, { FROM_DEV, false }, { BIDI, false } };
	struct iommusim_ctx c0;
	size_t k;

	s390_start(f, &o);
	dma_start(f);
	c0 = cx(f, 0);
	for (k = 0; k < 3; k++) {
		uint64_t phys = 0x40000000 + k * 0x10000;
		uint64_t dma = map1(f, &c0, phys + 0x10, 0x1800, cases[k].dir);
		uint64_t p0 = pte_at(f, dma & PAGE_MASK_),
			 p1 = pte_at(f, (dma & PAGE_MASK_) + SZ_4K);

		assert_int_equal(p0 & IOMMUSIM_ZPCI_PTE_VALID_MASK, 0);
		assert_int_equal(p1 & IOMMUSIM_ZPCI_PTE_VALID_MASK, 0);
		assert_int_equal(p0 & IOMMUSIM_ZPCI_PTE_ADDR_MASK, phys);
		assert_int_equal(p1 & IOMMUSIM_ZPCI_PTE_ADDR_MASK, phys + SZ_4K);
		assert_int_equal((p0 & IOMMUSIM_ZPCI_TABLE_PROTECTED) != 0, cases[k].ro);
		assert_int_equal((p1 & IOMMUSIM_ZPCI_TABLE_PROTECTED) != 0, cases[k].ro);
		unmap1(f, &c0, dma, 0x1800, cases[k].dir);
		p0 = pte_at(f, dma & PAGE_MASK_);
		assert_int_equal(p0 & IOMMUSIM_ZPCI_PTE_VALID_MASK, IOMMUSIM_ZPCI_PTE_INVALID);
		assert_int_equal(p0 & IOMMUSIM_ZPCI_TABLE_PROTECTED, 0);
	}
}

static void
test_dma_iommu_map_page_table_alloc_failure_frees_iova(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { 0 };
	struct iommusim_dma_iommu_stats s;
	struct iommusim_iova_rcache_info ri;
	struct iommusim_ctx c0;
	uint64_t dma = 0, hits;
	int ret;

	s390_start(f, &o);
	use_timer(f);
	dma_start(f);
	c0 = cx(f, 0);
	/* the IOVA node is allocated; then the table walk runs out of memory */
	ims_mem_fault_inject(2, 1000);
	ret = iommusim_dma_map_page(&f->dma, 0x8000, 100, BIDI, 0, &c0, &dma);
	ims_mem_fault_inject(0, 0);
	assert_true(ret < 0);
	assert_int_equal(evs(f).map_failures, 1);
	assert_int_equal(ctrs(f).mapped_pages, 0);
	s = st(f);
	assert_int_equal(s.iommu_map_failures, 1);
	assert_int_equal(s.dma.map_errors, 1);
	assert_int_equal(s.dma.map_pages, 0);
	assert_int_equal(s.dma.iova_pages_live, 0);
	/* freed at once, never queued: the device never saw it */
	assert_int_equal(s.fq.queued, 0);
	assert_int_equal(s.fq.timer_arms, 0);
	assert_false(f->clk.armed);
	assert_int_equal(nrpcits(f), 0);
	assert_int_equal(xlate(f, TOP_PAGE), 0);
	assert_int_equal(iommusim_iova_rcache_info_get(iommusim_dma_iommu_iovad(f->d), 0, 0, &ri),
			 0);
	assert_int_equal(ri.loaded_size, 1);
	/* and the next map gets that IOVA back from the cache */
	hits = s.iova.rcache_hits;
	dma = map1(f, &c0, 0x8000, 100, BIDI);
	assert_int_equal(dma, TOP_PAGE);
	assert_int_equal(st(f).iova.rcache_hits, hits + 1);
	assert_int_equal(xlate(f, TOP_PAGE), 0x8000);
}

static void
test_dma_iommu_map_page_sync_map_errors(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .tlb_refresh = true };
	struct iommusim_zpci_canned_call c[MAXRPCITS];
	struct iommusim_dma_iommu_stats s;
	struct iommusim_s390_counters k;
	struct iommusim_ctx c0;
	uint64_t dma = 0;
	int ret;

	s390_start(f, &o);
	use_timer(f);
	dma_start(f);
	assert_true(info(f).single_queue);
	c0 = cx(f, 0);

	/* sync_map -EIO: the map is taken back (ranged RPCIT) and fails */
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 1, 8, 1), 0);
	ret = iommusim_dma_map_page(&f->dma, 0x8000, 0x1000, BIDI, 0, &c0, &dma);
	assert_true(ret < 0);
	assert_int_equal(rpcits(f, c, MAXRPCITS), 2);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_SYNC_MAP, TOP_PAGE, SZ_4K);
	assert_int_equal(c[0].cc, 1);
	expect_rpcit(&c[1], IOMMUSIM_RPCIT_SYNC, TOP_PAGE, SZ_4K);
	k = ctrs(f);
	assert_int_equal(k.mapped_pages, 1);
	assert_int_equal(k.unmapped_pages, 1);
	assert_int_equal(k.sync_map_rpcits, 1);
	assert_int_equal(k.sync_rpcits, 1);
	assert_int_equal(xlate(f, TOP_PAGE), 0);
	s = st(f);
	assert_int_equal(s.iommu_map_failures, 1);
	assert_int_equal(s.dma.map_errors, 1);
	assert_int_equal(s.dma.iova_pages_live, 0);
	assert_int_equal(s.fq.queued, 0);
	assert_false(f->clk.armed);
	/* the IOVA is free again at once */
	assert_int_equal(map1(f, &c0, 0x8000, 0x1000, BIDI), TOP_PAGE);
	assert_int_equal(rpcits(f, c, MAXRPCITS), 3);
	expect_rpcit(&c[2], IOMMUSIM_RPCIT_SYNC_MAP, TOP_PAGE, SZ_4K);
	assert_int_equal(xlate(f, TOP_PAGE), 0x8000);

	/* -ENOMEM recovered by a global refresh: the map succeeds */
	iommusim_zpci_canned_reset(f->script);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 1, 16, 1), 0);
	dma = map1(f, &c0, 0x9000, 0x1000, BIDI);
	assert_int_equal(rpcits(f, c, MAXRPCITS), 2);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_SYNC_MAP, dma, SZ_4K);
	expect_rpcit(&c[1], IOMMUSIM_RPCIT_ENOMEM_RECOVERY, WIN_LO, WIN_HI - WIN_LO + 1);
	assert_int_equal(xlate(f, dma), 0x9000);
	assert_int_equal(st(f).iommu_map_failures, 1);

	/* -ENOMEM and a failing recovery: fails, taken back */
	iommusim_zpci_canned_reset(f->script);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 1, 16, 1), 0);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 3, 0, 1), 0);
	ret = iommusim_dma_map_page(&f->dma, 0xa000, 0x1000, BIDI, 0, &c0, &dma);
	assert_true(ret < 0);
	assert_int_equal(rpcits(f, c, MAXRPCITS), 3);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_SYNC_MAP, c[0].rpcit.map_iova, SZ_4K);
	expect_rpcit(&c[1], IOMMUSIM_RPCIT_ENOMEM_RECOVERY, WIN_LO, WIN_HI - WIN_LO + 1);
	expect_rpcit(&c[2], IOMMUSIM_RPCIT_SYNC, c[0].rpcit.map_iova, SZ_4K);
	assert_int_equal(xlate(f, c[0].rpcit.map_iova), 0);
	s = st(f);
	assert_int_equal(s.iommu_map_failures, 2);
	assert_int_equal(s.dma.iova_pages_live, 2);
	assert_int_equal(s.fq.queued, 0);
}

/* ------------------------------------------------------------------------ */
/* Strict and lazy unmapping (§2.3, §2.4, §2.9) */

static void
test_dma_iommu_strict_unmap_one_ranged_rpcit(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .type = IOMMUSIM_DOMAIN_DMA };
	static const uint64_t sizes[] = { 1, 3 * SZ_4K, 40 * SZ_4K };
	struct iommusim_zpci_canned_call c[MAXRPCITS];
	struct iommusim_ctx c0;
	uint64_t dma[3];
	size_t k;

	s390_start(f, &o);
	dma_start(f);
	c0 = cx(f, 0);
	for (k = 0; k < 3; k++)
		dma[k] = map1(f, &c0, 0x100000 * (k + 1), sizes[k], BIDI);
	assert_int_equal(nrpcits(f), 0);
	for (k = 0; k < 3; k++) {
		unmap1(f, &c0, dma[k], sizes[k], BIDI);
		assert_int_equal(rpcits(f, c, MAXRPCITS), k + 1);
		/* exactly the unmapped pages, not the rounded allocation */
		expect_rpcit(&c[k], IOMMUSIM_RPCIT_SYNC, dma[k],
			     pages_of(dma[k], sizes[k]) * SZ_4K);
		assert_int_equal(xlate(f, dma[k]), 0);
		assert_int_equal(st(f).strict_syncs, k + 1);
	}
	assert_int_equal(ctrs(f).sync_rpcits, 3);
	assert_int_equal(ctrs(f).global_rpcits, 0);
	assert_int_equal(st(f).dma.iova_pages_live, 0);
	/* reusable immediately */
	for (k = 0; k < 3; k++)
		assert_int_equal(map1(f, &c0, 0x100000 * (k + 5), sizes[k], BIDI), dma[k]);
}

static void
test_dma_iommu_lazy_unmap_defers_reuse_until_flush(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { 0 };
	struct iommusim_zpci_canned_call c[MAXRPCITS];
	struct iommusim_dma_iommu_stats s;
	struct iommusim_ctx c0;
	uint64_t a, b, x, hits, at;

	s390_start(f, &o);
	use_timer(f);
	dma_start(f);
	c0 = cx(f, 0);
	f->clk.now = 1 * US;
	a = map1(f, &c0, 0x10000, 1, BIDI);
	f->clk.now = 2 * US;
	unmap1(f, &c0, a, 1, BIDI);
	/* no RPCIT at unmap; the page is invalid but the IOVA still taken */
	assert_int_equal(nrpcits(f), 0);
	assert_int_equal(xlate(f, a), 0);
	s = st(f);
	assert_int_equal(s.fq.queued, 1);
	assert_int_equal(s.fq.entries_now, 1);
	assert_int_equal(s.strict_syncs, 0);
	assert_int_equal(s.dma.iova_pages_live, 1);
	assert_true(f->clk.armed);
	assert_int_equal(f->clk.at, 2 * US + 10 * MS);
	at = f->clk.at;
	/* mapping again right away gives another IOVA */
	f->clk.now = 3 * US;
	b = map1(f, &c0, 0x20000, 1, BIDI);
	assert_true(b != a);
	assert_int_equal(b, a - SZ_4K);
	f->clk.now = 4 * US;
	unmap1(f, &c0, b, 1, BIDI);
	assert_int_equal(f->clk.arms, 1);
	assert_int_equal(f->clk.at, at);
	/* another map still avoids both */
	x = map1(f, &c0, 0x30000, 1, BIDI);
	assert_true(x != a && x != b);
	unmap1(f, &c0, x, 1, BIDI);
	assert_int_equal(nrpcits(f), 0);
	assert_int_equal(st(f).fq.entries_now, 3);

	/* the timer: one global RPCIT over the window, the IOVAs are freed */
	f->clk.now = at;
	fire(f, 0);
	assert_int_equal(rpcits(f, c, MAXRPCITS), 1);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_GLOBAL_FLUSH, WIN_LO, WIN_HI - WIN_LO + 1);
	assert_int_equal(ctrs(f).global_rpcits, 1);
	s = st(f);
	assert_int_equal(s.fq.timer_flushes, 1);
	assert_int_equal(s.fq.flush_start_cnt, 1);
	assert_int_equal(s.fq.flush_finish_cnt, 1);
	assert_int_equal(s.fq.freed_entries, 3);
	assert_int_equal(s.fq.entries_now, 0);
	assert_int_equal(s.dma.iova_pages_live, 0);
	/* ... and come back through the rcache, last freed first */
	hits = s.iova.rcache_hits;
	assert_int_equal(map1(f, &c0, 0x40000, 1, BIDI), x);
	assert_int_equal(map1(f, &c0, 0x40000, 1, BIDI), b);
	assert_int_equal(map1(f, &c0, 0x40000, 1, BIDI), a);
	assert_int_equal(st(f).iova.rcache_hits, hits + 3);
}

/* A platform that unmaps a buffer from inside the global RPCIT of a flush:
 * an entry queued while a flush runs must wait for the next one (§2.3). */
struct reentrant_plat {
	struct fix *f;
	uint64_t dma;
	bool pending;
	unsigned globals;
};

static unsigned
reentrant_rpcit(void *priv, struct iommusim_zpci_fn *fn, const struct iommusim_rpcit *r,
		uint8_t *status)
{
	struct reentrant_plat *p = priv;

	(void)fn;
	*status = 0;
	if (r->reason != IOMMUSIM_RPCIT_GLOBAL_FLUSH)
		return 0;
	p->globals++;
	if (p->pending) {
		const struct iommusim_ctx c = cx(p->f, 0);

		p->pending = false;
		unmap1(p->f, &c, p->dma, 1, BIDI);
	}
	return 0;
}

static const struct iommusim_zpci_platform_ops reentrant_ops = { .rpcit = reentrant_rpcit };

static void
test_dma_iommu_lazy_entry_queued_during_flush_waits(void **state)
{
	struct fix *f = *state;
	struct reentrant_plat p = { .f = f };
	const struct s390_opts o = { .platform = &reentrant_ops, .platform_priv = &p };
	struct iommusim_dma_iommu_stats s;
	struct iommusim_ctx c0;
	uint64_t a, b, x, y;

	s390_start(f, &o);
	use_timer(f);
	dma_start(f);
	c0 = cx(f, 0);
	a = map1(f, &c0, 0x10000, 1, BIDI);
	b = map1(f, &c0, 0x20000, 1, BIDI);
	unmap1(f, &c0, a, 1, BIDI);
	p.dma = b;
	p.pending = true;
	fire(f, 0);
	assert_int_equal(p.globals, 1);
	assert_false(p.pending);
	s = st(f);
	/* a was covered; b was queued after the flush started: it stays */
	assert_int_equal(s.fq.queued, 2);
	assert_int_equal(s.fq.freed_entries, 1);
	assert_int_equal(s.fq.entries_now, 1);
	/* b re-armed the timer (the callback had turned it off first) */
	assert_int_equal(f->clk.arms, 2);
	assert_true(f->clk.armed);
	assert_int_equal(f->clk.arm_while_armed, 0);
	x = map1(f, &c0, 0x30000, 1, BIDI);
	assert_int_equal(x, a);
	y = map1(f, &c0, 0x40000, 1, BIDI);
	assert_true(y != b);
	/* the next flush frees b */
	fire(f, 0);
	assert_int_equal(p.globals, 2);
	s = st(f);
	assert_int_equal(s.fq.freed_entries, 2);
	assert_int_equal(s.fq.entries_now, 0);
	assert_int_equal(map1(f, &c0, 0x50000, 1, BIDI), b);
}

static void
map_unmap_n(struct fix *f, unsigned n, unsigned ncpus)
{
	unsigned k;

	for (k = 0; k < n; k++) {
		const struct iommusim_ctx c = cx(f, k % ncpus);
		uint64_t dma = map1(f, &c, 0x100000 + (k % 64) * SZ_4K, 64, FROM_DEV);

		unmap1(f, &c, dma, 64, FROM_DEV);
	}
}

/* TV-14 through the whole stack, without the timer. */
static void
test_dma_iommu_lazy_tv14_per_cpu_full_flushes(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { 0 };
	struct iommusim_dma_iommu_stats s;

	s390_start(f, &o);
	dma_start(f); /* no timer ops: it never fires */
	map_unmap_n(f, 255, 1);
	assert_int_equal(st(f).fq.full_flushes, 0);
	assert_int_equal(nrpcits(f), 0);
	map_unmap_n(f, 1, 1);
	s = st(f);
	assert_int_equal(s.fq.full_flushes, 1);
	assert_int_equal(s.fq.freed_entries, 255);
	assert_int_equal(s.fq.entries_now, 1);
	assert_int_equal(ctrs(f).global_rpcits, 1);
	map_unmap_n(f, 1000 - 256, 1);
	s = st(f);
	/* floor((1000 - 1) / 255) = 3 flushes, 235 pending */
	assert_int_equal(s.fq.queued, 1000);
	assert_int_equal(s.fq.full_flushes, 3);
	assert_int_equal(s.fq.flush_finish_cnt, 3);
	assert_int_equal(s.fq.timer_flushes, 0);
	assert_int_equal(s.fq.entries_now, 235);
	assert_int_equal(s.fq.freed_entries, 765);
	assert_int_equal(ctrs(f).global_rpcits, 3);
	assert_int_equal(nrpcits_of(f, IOMMUSIM_RPCIT_GLOBAL_FLUSH), 3);
	assert_int_equal(nrpcits(f), 3);
	/* armed once, never fired, so never armed again */
	assert_int_equal(s.fq.timer_arms, 1);
	assert_int_equal(s.dma.iova_pages_live, 235);
	fix_stop(f);

	/* a ring of 2 holds one entry: a flush on every unmap after the first */
	s390_start(f, &o);
	f->cfg.fq_size = 2;
	dma_start(f);
	map_unmap_n(f, 5, 1);
	assert_int_equal(st(f).fq.full_flushes, 4);
	assert_int_equal(ctrs(f).global_rpcits, 4);
	assert_int_equal(st(f).fq.entries_now, 1);
}

static void
test_dma_iommu_lazy_tv14_single_queue(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { 0 };
	struct iommusim_dma_iommu_stats s;

	/* one shared ring of 64 over 4 CPUs: one flush per 63 unmaps */
	s390_start(f, &o);
	f->cfg.ncpus = 4;
	f->cfg.fq_type = IOMMUSIM_FQ_SINGLE;
	f->cfg.fq_size = 64;
	dma_start(f);
	map_unmap_n(f, 63, 4);
	assert_int_equal(st(f).fq.full_flushes, 0);
	map_unmap_n(f, 200 - 63, 4);
	s = st(f);
	assert_int_equal(s.fq.full_flushes, 3);
	assert_int_equal(s.fq.entries_now, 200 - 3 * 63);
	assert_int_equal(ctrs(f).global_rpcits, 3);
	assert_int_equal(nrpcits_of(f, IOMMUSIM_RPCIT_GLOBAL_FLUSH), 3);
	fix_stop(f);

	/* the kernel's single queue (tlb_refresh): 32768 unmaps, one flush */
	{
		const struct s390_opts o2 = { .tlb_refresh = true, .no_script = true };
		struct iommusim_zpci_fn_stats fs;

		s390_start(f, &o2);
		dma_start(f);
		assert_true(info(f).single_queue);
		map_unmap_n(f, 32767, 1);
		assert_int_equal(st(f).fq.full_flushes, 0);
		map_unmap_n(f, 1, 1);
		s = st(f);
		assert_int_equal(s.fq.full_flushes, 1);
		assert_int_equal(s.fq.entries_now, 1);
		assert_int_equal(ctrs(f).global_rpcits, 1);
		assert_int_equal(ctrs(f).sync_map_rpcits, 32768);
		assert_int_equal(iommusim_zpci_fn_stats_get(f->fn, &fs), 0);
		assert_int_equal(fs.by_reason[IOMMUSIM_RPCIT_GLOBAL_FLUSH], 1);
		assert_int_equal(fs.by_reason[IOMMUSIM_RPCIT_SYNC], 0);
	}
}

static void
test_dma_iommu_lazy_timer_armed_once_not_pushed_out(void **state)
{
	struct fix *f = *state;
	struct s390_opts o = { 0 };
	struct iommusim_ctx c0;
	uint64_t dma;

	s390_start(f, &o);
	use_timer(f);
	dma_start(f);
	c0 = cx(f, 0);
	f->clk.now = 1000;
	dma = map1(f, &c0, 0x1000, 1, BIDI);
	assert_int_equal(f->clk.arms, 0);
	unmap1(f, &c0, dma, 1, BIDI);
	assert_int_equal(f->clk.arms, 1);
	assert_int_equal(f->clk.at, 1000 + 10 * MS);
	f->clk.now = 5 * MS;
	dma = map1(f, &c0, 0x1000, 1, BIDI);
	unmap1(f, &c0, dma, 1, BIDI);
	assert_int_equal(f->clk.arms, 1);
	assert_int_equal(f->clk.at, 1000 + 10 * MS);
	assert_int_equal(st(f).fq.timer_arms, 1);
	f->clk.now = f->clk.at;
	fire(f, 0);
	assert_int_equal(st(f).fq.entries_now, 0);
	f->clk.now = 12 * MS;
	dma = map1(f, &c0, 0x1000, 1, BIDI);
	unmap1(f, &c0, dma, 1, BIDI);
	assert_int_equal(f->clk.arms, 2);
	assert_int_equal(f->clk.at, 22 * MS);
	assert_int_equal(st(f).fq.timer_arms, 2);
	assert_int_equal(f->clk.arm_while_armed, 0);
	/* teardown cancels the timer */
	assert_int_equal(f->clk.cancels, 0);
	iommusim_dma_iommu_destroy(f->d);
	f->d = NULL;
	assert_int_equal(f->clk.cancels, 1);
	fix_stop(f);

	/* single queue (tlb_refresh): 1000 ms; an override: 3 ms */
	o.tlb_refresh = true;
	s390_start(f, &o);
	use_timer(f);
	dma_start(f);
	c0 = cx(f, 0);
	f->clk.now = 7 * MS;
	dma = map1(f, &c0, 0x1000, 1, BIDI);
	unmap1(f, &c0, dma, 1, BIDI);
	assert_int_equal(f->clk.at, 1007 * MS);
	fix_stop(f);

	o.tlb_refresh = false;
	s390_start(f, &o);
	use_timer(f);
	f->cfg.fq_timeout_ms = 3;
	dma_start(f);
	c0 = cx(f, 0);
	f->clk.now = 7 * MS;
	dma = map1(f, &c0, 0x1000, 1, BIDI);
	unmap1(f, &c0, dma, 1, BIDI);
	assert_int_equal(f->clk.at, 10 * MS);
}

static void
test_dma_iommu_lazy_timeout_frees_every_cpu_queue(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { 0 };
	struct iommusim_iova_domain *iovad;
	struct iommusim_iova_rcache_info ri;
	struct iommusim_dma_iommu_stats s;
	unsigned cpu, pass;

	for (pass = 0; pass < 2; pass++) {
		s390_start(f, &o);
		use_timer(f);
		f->cfg.ncpus = 4;
		f->cfg.fq_type = pass ? IOMMUSIM_FQ_SINGLE : IOMMUSIM_FQ_PER_CPU;
		dma_start(f);
		for (cpu = 0; cpu < 4; cpu++) {
			const struct iommusim_ctx c = cx(f, cpu);
			uint64_t dma = map1(f, &c, 0x1000 * (cpu + 1), 1, BIDI);

			unmap1(f, &c, dma, 1, BIDI);
		}
		s = st(f);
		assert_int_equal(s.fq.entries_now, 4);
		assert_int_equal(s.fq.timer_arms, 1);
		assert_int_equal(nrpcits(f), 0);
		fire(f, 3);
		s = st(f);
		assert_int_equal(s.fq.entries_now, 0);
		assert_int_equal(s.fq.freed_entries, 4);
		assert_int_equal(s.fq.timer_flushes, 1);
		assert_int_equal(s.dma.iova_pages_live, 0);
		assert_int_equal(nrpcits_of(f, IOMMUSIM_RPCIT_GLOBAL_FLUSH), 1);
		assert_int_equal(ctrs(f).global_rpcits, 1);
		/* freed on the CPU the timer ran on */
		iovad = iommusim_dma_iommu_iovad(f->d);
		assert_int_equal(iommusim_iova_rcache_info_get(iovad, 0, 3, &ri), 0);
		assert_int_equal(ri.loaded_size, 4);
		assert_int_equal(iommusim_iova_rcache_info_get(iovad, 0, 0, &ri), 0);
		assert_int_equal(ri.loaded_size, 0);
		fix_stop(f);
	}
}

/* ------------------------------------------------------------------------ */
/* What the simulator measures */

static void
test_dma_iommu_exposure_window_exact(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { 0 };
	struct iommusim_hist_summary hs;
	struct iommusim_ctx c0;
	uint64_t a, b;

	s390_start(f, &o);
	use_timer(f);
	dma_start(f);
	c0 = cx(f, 0);
	a = map1(f, &c0, 0x1000, 1, BIDI);
	b = map1(f, &c0, 0x2000, 1, BIDI);
	f->clk.now = 100 * US;
	unmap1(f, &c0, a, 1, BIDI);
	assert_int_equal(f->clk.at, 10100 * US);
	f->clk.now = 2 * MS;
	unmap1(f, &c0, b, 1, BIDI);
	/* nothing is recorded before the covering flush */
	assert_int_equal(iommusim_hist_summary_get(iommusim_dma_iommu_exposure(f->d), &hs), 0);
	assert_int_equal(hs.count, 0);
	f->clk.now = 10100 * US;
	fire(f, 0);
	assert_int_equal(iommusim_hist_summary_get(iommusim_dma_iommu_exposure(f->d), &hs), 0);
	assert_int_equal(hs.count, 2);
	assert_int_equal(hs.max, 10 * MS);
	assert_int_equal(hs.min, 8100 * US);
}

static void
test_dma_iommu_occupancy_stats(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { 0 };
	struct iommusim_dma_iommu_stats s;
	struct iommusim_ctx c0;
	uint64_t a, b, c;

	s390_start(f, &o);
	use_timer(f);
	dma_start(f);
	c0 = cx(f, 0);
	a = map1(f, &c0, 0x10000, 100, BIDI);
	b = map1(f, &c0, 0x20000, 2 * SZ_4K, BIDI);
	c = map1(f, &c0, 0x30000, 5 * SZ_4K, BIDI);
	assert_int_equal(st(f).dma.iova_pages_live, 8);
	unmap1(f, &c0, a, 100, BIDI);
	unmap1(f, &c0, b, 2 * SZ_4K, BIDI);
	unmap1(f, &c0, c, 5 * SZ_4K, BIDI);
	s = st(f);
	assert_int_equal(s.fq.entries_now, 3);
	/* an entry counts the unrounded pages (5, not the 8 allocated) */
	assert_int_equal(s.fq.pages_now, 8);
	assert_int_equal(s.fq.max_entries, 3);
	assert_int_equal(s.fq.max_pages, 8);
	assert_int_equal(s.dma.iova_pages_live, 8);
	fire(f, 0);
	s = st(f);
	assert_int_equal(s.fq.entries_now, 0);
	assert_int_equal(s.fq.pages_now, 0);
	assert_int_equal(s.fq.freed_entries, 3);
	assert_int_equal(s.fq.freed_pages, 8);
	assert_int_equal(s.fq.max_entries, 3);
	assert_int_equal(s.fq.max_pages, 8);
	assert_int_equal(s.dma.iova_pages_live, 0);
	a = map1(f, &c0, 0x10000, 1, BIDI);
	unmap1(f, &c0, a, 1, BIDI);
	s = st(f);
	assert_int_equal(s.fq.entries_now, 1);
	assert_int_equal(s.fq.pages_now, 1);
	assert_int_equal(s.fq.max_entries, 3);
	assert_int_equal(s.fq.max_pages, 8);
}

/* ------------------------------------------------------------------------ */
/* Scatterlists */

static size_t
map_sg(struct fix *f, const struct iommusim_ctx *c, struct iommusim_dma_sg *sg, size_t n,
       enum iommusim_dma_dir dir)
{
	size_t nsegs = 0;
	int ret = iommusim_dma_map_sg(&f->dma, sg, n, dir, 0, c, &nsegs);

	if (ret)
		fail_msg("map_sg = %d", ret);
	return nsegs;
}

static void
expect_seg(const struct iommusim_dma_sg *s, uint64_t addr, uint32_t len)
{
	assert_int_equal(s->dma_address, addr);
	assert_int_equal(s->dma_length, len);
}

static void
test_dma_iommu_map_sg_merges_contiguous_elements(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .type = IOMMUSIM_DOMAIN_DMA, .tlb_refresh = true };
	struct iommusim_dma_sg sg[4] = {
		{ .phys = 0x10000000, .length = 0x1000 },
		{ .phys = 0x10001000, .length = 0x1000 },
		{ .phys = 0x20000800, .length = 0x800 },
		{ .phys = 0x30000000, .length = 0x1000 },
	};
	struct iommusim_zpci_canned_call c[MAXRPCITS];
	struct iommusim_dma_iommu_stats s;
	struct iommusim_ctx c0;
	const uint64_t iova = SZ_20G - 4 * SZ_4K;
	unsigned k;

	s390_start(f, &o);
	dma_start(f);
	c0 = cx(f, 0);
	assert_int_equal(map_sg(f, &c0, sg, 4, TO_DEV), 2);
	/* one IOVA range; elements 0+1 merge; 2 (offset) starts a segment that
	 * 3 (offset 0, right after it) joins */
	expect_seg(&sg[0], iova, 0x2000);
	expect_seg(&sg[1], iova + 0x2800, 0x1800);
	assert_int_equal(sg[2].dma_length, 0);
	assert_int_equal(sg[3].dma_length, 0);
	assert_int_equal(xlate(f, iova), 0x10000000);
	assert_int_equal(xlate(f, iova + 0x1000), 0x10001000);
	assert_int_equal(xlate(f, iova + 0x2000), 0x20000000);
	assert_int_equal(xlate(f, iova + 0x3000), 0x30000000);
	for (k = 0; k < 4; k++)
		assert_int_equal(pte_at(f, iova + k * SZ_4K) & IOMMUSIM_ZPCI_TABLE_PROTECTED,
				 IOMMUSIM_ZPCI_TABLE_PROTECTED);
	/* one iotlb_sync_map for the whole list */
	assert_int_equal(rpcits(f, c, MAXRPCITS), 1);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_SYNC_MAP, iova, 4 * SZ_4K);
	assert_int_equal(ctrs(f).mapped_pages, 4);
	s = st(f);
	assert_int_equal(s.dma.map_sgs, 1);
	assert_int_equal(s.dma.bytes_mapped, 0x3800);
	assert_int_equal(s.dma.iova_pages_live, 4);
	/* strict unmap_sg: the whole range, one RPCIT */
	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 4, TO_DEV, 0, &c0), 0);
	assert_int_equal(rpcits(f, c, MAXRPCITS), 2);
	expect_rpcit(&c[1], IOMMUSIM_RPCIT_SYNC, iova, 4 * SZ_4K);
	for (k = 0; k < 4; k++)
		assert_int_equal(xlate(f, iova + k * SZ_4K), 0);
	assert_int_equal(ctrs(f).unmapped_pages, 4);
	s = st(f);
	assert_int_equal(s.dma.unmap_sgs, 1);
	assert_int_equal(s.dma.iova_pages_live, 0);
	assert_int_equal(s.strict_syncs, 1);
}

static void
test_dma_iommu_map_sg_respects_max_seg_size(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .type = IOMMUSIM_DOMAIN_DMA, .max_seg_size = 8192 };
	struct iommusim_dma_sg sg[5];
	struct iommusim_ctx c0;
	uint64_t iova;
	unsigned k;

	s390_start(f, &o);
	dma_start(f);
	c0 = cx(f, 0);
	for (k = 0; k < 5; k++)
		sg[k] = (struct iommusim_dma_sg){ .phys = 0x50000000 + k * SZ_4K,
						  .length = 0x1000 };
	assert_int_equal(map_sg(f, &c0, sg, 5, BIDI), 3);
	iova = sg[0].dma_address;
	assert_int_equal(iova & 0xfff, 0);
	expect_seg(&sg[0], iova, 0x2000);
	expect_seg(&sg[1], iova + 0x2000, 0x2000);
	expect_seg(&sg[2], iova + 0x4000, 0x1000);
	assert_int_equal(sg[3].dma_length, 0);
	assert_int_equal(sg[4].dma_length, 0);
	for (k = 0; k < 5; k++)
		assert_int_equal(xlate(f, iova + k * SZ_4K), 0x50000000 + k * SZ_4K);
	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 5, BIDI, 0, &c0), 0);
	assert_int_equal(ctrs(f).unmapped_pages, 5);
	assert_int_equal(st(f).dma.iova_pages_live, 0);
}

static void
sg_6page_elements(struct iommusim_dma_sg *sg, unsigned n, uint64_t phys)
{
	unsigned k;

	for (k = 0; k < n; k++)
		sg[k] = (struct iommusim_dma_sg){ .phys = phys + k * 6 * SZ_4K,
						  .length = 6 * 0x1000 };
}

static void
test_dma_iommu_map_sg_segment_boundary_padding(void **state)
{
	struct fix *f = *state;
	struct s390_opts o = { .type = IOMMUSIM_DOMAIN_DMA, .seg_boundary_mask = 0xffff };
	struct iommusim_zpci_canned_call c[MAXRPCITS];
	const uint64_t P = 0x60000000;
	struct iommusim_dma_sg sg[5];
	struct iommusim_ctx c0;
	uint64_t iova;
	size_t n, k;

	s390_start(f, &o);
	dma_start(f);
	c0 = cx(f, 0);
	sg_6page_elements(sg, 5, P);
	/* 24 KiB elements against 64 KiB boundaries: elements 2 and 4 would
	 * straddle one, so 1 and 3 are padded by 16 KiB; 38 pages in all,
	 * allocated 64-page aligned */
	n = map_sg(f, &c0, sg, 5, BIDI);
	assert_int_equal(n, 3);
	iova = SZ_20G - 64 * SZ_4K;
	expect_seg(&sg[0], iova, 0xc000);
	expect_seg(&sg[1], iova + 0x10000, 0xc000);
	expect_seg(&sg[2], iova + 0x20000, 0x6000);
	for (k = 0; k < n; k++) {
		uint64_t a = sg[k].dma_address, l = sg[k].dma_length;

		if (((a ^ (a + l - 1)) & ~UINT64_C(0xffff)) != 0)
			fail_msg("segment %zu [%#" PRIx64 ", +%#" PRIx64 ") crosses 64 KiB", k, a,
				 l);
	}
	/* every element's pages where the layout puts them */
	for (k = 0; k < 6; k++) {
		assert_int_equal(xlate(f, iova + k * SZ_4K), P + k * SZ_4K);
		assert_int_equal(xlate(f, iova + 0x6000 + k * SZ_4K), P + 0x6000 + k * SZ_4K);
		assert_int_equal(xlate(f, iova + 0x10000 + k * SZ_4K), P + 0xc000 + k * SZ_4K);
		assert_int_equal(xlate(f, iova + 0x16000 + k * SZ_4K), P + 0x12000 + k * SZ_4K);
		assert_int_equal(xlate(f, iova + 0x20000 + k * SZ_4K), P + 0x18000 + k * SZ_4K);
	}
	assert_int_equal(ctrs(f).mapped_pages, 38);
	assert_int_equal(st(f).dma.iova_pages_live, 38);
	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 5, BIDI, 0, &c0), 0);
	assert_int_equal(rpcits(f, c, MAXRPCITS), 1);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_SYNC, iova, 38 * SZ_4K);
	assert_int_equal(ctrs(f).unmapped_pages, 38);
	assert_int_equal(st(f).dma.iova_pages_live, 0);
	fix_stop(f);

	/* the PCI default boundary (4 GiB) and 64 KiB segments: no padding, the
	 * segments split at 64 KiB of length instead */
	o.seg_boundary_mask = 0;
	s390_start(f, &o);
	dma_start(f);
	c0 = cx(f, 0);
	sg_6page_elements(sg, 5, P);
	assert_int_equal(map_sg(f, &c0, sg, 5, BIDI), 3);
	iova = SZ_20G - 32 * SZ_4K;
	expect_seg(&sg[0], iova, 0xc000);
	expect_seg(&sg[1], iova + 0xc000, 0xc000);
	expect_seg(&sg[2], iova + 0x18000, 0x6000);
	for (k = 0; k < 30; k++)
		assert_int_equal(xlate(f, iova + k * SZ_4K), P + k * SZ_4K);
	assert_int_equal(ctrs(f).mapped_pages, 30);
	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 5, BIDI, 0, &c0), 0);
	assert_int_equal(rpcits(f, c, MAXRPCITS), 1);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_SYNC, iova, 30 * SZ_4K);
}

static void
test_dma_iommu_map_sg_errors_undo_everything(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .type = IOMMUSIM_DOMAIN_DMA, .tlb_refresh = true };
	struct iommusim_zpci_canned_call c[MAXRPCITS];
	struct iommusim_dma_sg sg[3];
	struct iommusim_dma_iommu_stats s;
	struct iommusim_s390_counters k;
	struct iommusim_ctx c0;
	size_t nsegs = 0;
	uint64_t iova;
	unsigned i, nth, failures = 0;
	bool done = false;
	int ret;

	s390_start(f, &o);
	dma_start(f);
	c0 = cx(f, 0);
	sg[0] = (struct iommusim_dma_sg){ .phys = 0x70000000, .length = 0x1000 };
	sg[1] = (struct iommusim_dma_sg){ .phys = 0x70100000, .length = 0x3000 };
	sg[2] = (struct iommusim_dma_sg){ .phys = 0x70200000, .length = 0x1000 };

	/* sync_map -EIO: everything taken back, the IOVA freed at once */
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 1, 8, 1), 0);
	ret = iommusim_dma_map_sg(&f->dma, sg, 3, FROM_DEV, 0, &c0, &nsegs);
	assert_true(ret < 0);
	assert_int_equal(rpcits(f, c, MAXRPCITS), 2);
	iova = c[0].rpcit.addr;
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_SYNC_MAP, iova, 5 * SZ_4K);
	expect_rpcit(&c[1], IOMMUSIM_RPCIT_SYNC, iova, 5 * SZ_4K);
	for (i = 0; i < 5; i++)
		assert_int_equal(xlate(f, iova + i * SZ_4K), 0);
	k = ctrs(f);
	assert_int_equal(k.mapped_pages, 5);
	assert_int_equal(k.unmapped_pages, 5);
	s = st(f);
	assert_int_equal(s.dma.map_sgs, 0);
	assert_int_equal(s.dma.map_errors, 1);
	assert_int_equal(s.iommu_map_failures, 1);
	assert_int_equal(s.dma.iova_pages_live, 0);
	/* the same IOVA next time; contiguous in IOVA space: one segment */
	assert_int_equal(map_sg(f, &c0, sg, 3, FROM_DEV), 1);
	assert_int_equal(sg[0].dma_address, iova);
	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 3, FROM_DEV, 0, &c0), 0);
	fix_stop(f);

	/* allocation failures from the nth on (the element array, the IOVA
	 * node, the segment and page tables): the call fails, leaves nothing */
	{
		const struct s390_opts o2 = { .type = IOMMUSIM_DOMAIN_DMA, .no_script = true };

		s390_start(f, &o2);
	}
	dma_start(f);
	c0 = cx(f, 0);
	sg[0] = (struct iommusim_dma_sg){ .phys = 0x70000000, .length = 0x1000 };
	sg[1] = (struct iommusim_dma_sg){ .phys = 0x70100000, .length = 0x3000 };
	sg[2] = (struct iommusim_dma_sg){ .phys = 0x70200000, .length = 0x1000 };
	for (nth = 1; nth < 100 && !done; nth++) {
		uint64_t before = ims_mem_injected_failures();

		ims_mem_fault_inject(nth, 1000);
		ret = iommusim_dma_map_sg(&f->dma, sg, 3, FROM_DEV, 0, &c0, &nsegs);
		ims_mem_fault_inject(0, 0);
		k = ctrs(f);
		s = st(f);
		if (ret) {
			failures++;
			assert_int_equal(k.mapped_pages, k.unmapped_pages);
			assert_int_equal(s.dma.iova_pages_live, 0);
			assert_int_equal(s.dma.map_sgs, 0);
			continue;
		}
		assert_int_equal(nsegs, 1);
		assert_int_equal(sg[0].dma_length, 0x5000);
		for (i = 0; i < 5; i++)
			assert_true(xlate(f, sg[0].dma_address + i * SZ_4K) != 0);
		assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 3, FROM_DEV, 0, &c0), 0);
		done = ims_mem_injected_failures() == before;
		assert_int_equal(ctrs(f).mapped_pages, ctrs(f).unmapped_pages);
		assert_int_equal(st(f).dma.iova_pages_live, 0);
	}
	assert_true(done);
	assert_true(failures >= 2);
	/* a table walk failed at least once */
	assert_true(evs(f).map_failures >= 1);
	assert_int_equal(st(f).iommu_map_failures, evs(f).map_failures);
}

/* Every failed map_sg is a map error (struct iommusim_dma_stats), whatever
 * allocation failed. */
static void
test_dma_iommu_map_sg_enomem_counts_map_error(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .type = IOMMUSIM_DOMAIN_DMA };
	struct iommusim_dma_sg sg[2] = {
		{ .phys = 0x70000000, .length = 0x1000 },
		{ .phys = 0x70100000, .length = 0x1000 },
	};
	struct iommusim_dma_iommu_stats s;
	struct iommusim_ctx c0;
	size_t nsegs = 0;
	int ret;

	s390_start(f, &o);
	dma_start(f);
	c0 = cx(f, 0);
	ims_mem_fault_inject(1, 1000);
	ret = iommusim_dma_map_sg(&f->dma, sg, 2, BIDI, 0, &c0, &nsegs);
	ims_mem_fault_inject(0, 0);
	assert_int_equal(ret, -ENOMEM);
	s = st(f);
	assert_int_equal(s.dma.map_sgs, 0);
	assert_int_equal(s.dma.iova_pages_live, 0);
	assert_int_equal(s.dma.map_errors, 1);
}

static void
test_dma_iommu_map_sg_lazy_queues_whole_range(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { 0 };
	struct iommusim_dma_sg sg[3];
	struct iommusim_dma_iommu_stats s;
	struct iommusim_ctx c0;
	uint64_t iova;

	s390_start(f, &o);
	use_timer(f);
	dma_start(f);
	c0 = cx(f, 0);
	sg[0] = (struct iommusim_dma_sg){ .phys = 0x80000100, .length = 0x100 };
	sg[1] = (struct iommusim_dma_sg){ .phys = 0x80100000, .length = 0x2000 };
	sg[2] = (struct iommusim_dma_sg){ .phys = 0x80200000, .length = 0x1001 };
	assert_int_equal(map_sg(f, &c0, sg, 3, BIDI), 2);
	iova = sg[0].dma_address & PAGE_MASK_;
	assert_int_equal(sg[0].dma_address & 0xfff, 0x100);
	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 3, BIDI, 0, &c0), 0);
	assert_int_equal(nrpcits(f), 0);
	s = st(f);
	assert_int_equal(s.fq.queued, 1);
	assert_int_equal(s.fq.pages_now, 5);
	assert_int_equal(s.dma.iova_pages_live, 5);
	assert_int_equal(xlate(f, iova), 0);
	assert_int_equal(xlate(f, iova + 4 * SZ_4K), 0);
	fire(f, 0);
	assert_int_equal(st(f).dma.iova_pages_live, 0);
	assert_int_equal(ctrs(f).unmapped_pages, 5);
	assert_int_equal(ctrs(f).global_rpcits, 1);
}

/* ------------------------------------------------------------------------ */
/* The generic handle and bad arguments */

static void
test_dma_iommu_generic_handle_and_stats(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .type = IOMMUSIM_DOMAIN_DMA };
	struct iommusim_dma_sg sg[2] = {
		{ .phys = 0x90000000, .length = 0x1000 },
		{ .phys = 0x90001000, .length = 0x1000 },
	};
	struct iommusim_dma_stats ds;
	struct iommusim_dma_iommu_stats s;
	struct iommusim_ctx c0;
	uint64_t a = 0, b = 0, x = 0;
	size_t nsegs = 0;

	s390_start(f, &o);
	dma_start(f);
	c0 = cx(f, 0);
	assert_int_equal(iommusim_dma_map_page(&f->dma, 0xa0000000, 100, BIDI, 0, &c0, &a), 0);
	assert_int_equal(iommusim_dma_map_page(&f->dma, 0xb0000000, 5000, TO_DEV, 0, &c0, &b), 0);
	assert_int_equal(iommusim_dma_map_sg(&f->dma, sg, 2, FROM_DEV, 0, &c0, &nsegs), 0);
	assert_int_equal(nsegs, 1);
	assert_int_equal(xlate(f, a), 0xa0000000);
	assert_int_equal(xlate(f, b + SZ_4K), 0xb0001000);
	assert_int_equal(iommusim_dma_unmap_page(&f->dma, b, 5000, TO_DEV, 0, &c0), 0);
	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 2, FROM_DEV, 0, &c0), 0);
	/* a map whose IOVA allocation fails (every allocation does) */
	ims_mem_fault_inject(1, 1000);
	assert_int_equal(iommusim_dma_map_page(&f->dma, 0xc0000000, 64 * SZ_4K, BIDI, 0, &c0, &x),
			 -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_int_equal(iommusim_dma_stats_get(&f->dma, &ds), 0);
	assert_int_equal(ds.map_pages, 2);
	assert_int_equal(ds.unmap_pages, 1);
	assert_int_equal(ds.map_sgs, 1);
	assert_int_equal(ds.unmap_sgs, 1);
	assert_int_equal(ds.map_errors, 1);
	assert_int_equal(ds.bytes_mapped, 100 + 5000 + 0x2000);
	assert_int_equal(ds.iova_pages_live, 1);
	s = st(f);
	assert_memory_equal(&s.dma, &ds, sizeof(ds));
	assert_int_equal(s.iommu_map_failures, 0);
	assert_int_equal(s.strict_syncs, 2);
	assert_int_equal(ctrs(f).mapped_pages, 1 + 2 + 2);
	assert_int_equal(ctrs(f).unmapped_pages, 2 + 2);
}

static void
test_dma_iommu_bad_args_einval(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .type = IOMMUSIM_DOMAIN_DMA };
	const struct iommusim_dma unset = { 0 };
	const enum iommusim_dma_dir bad_dir = (enum iommusim_dma_dir)4;
	struct iommusim_dma_sg sg[1] = { { .phys = 0x1000, .length = 0x100 } };
	struct iommusim_dma_iommu_info i;
	struct iommusim_dma_iommu_stats s;
	struct iommusim_dma_stats ds;
	struct iommusim_ctx c0, c1;
	uint64_t dma = 0;
	size_t nsegs = 0;

	s390_start(f, &o);
	dma_start(f);
	c0 = cx(f, 0);
	c1 = cx(f, 1); /* ncpus is 1 */
	assert_int_equal(iommusim_dma_map_page(NULL, 0x1000, 1, BIDI, 0, &c0, &dma), -EINVAL);
	assert_int_equal(iommusim_dma_map_page(&unset, 0x1000, 1, BIDI, 0, &c0, &dma), -EINVAL);
	assert_int_equal(iommusim_dma_map_page(&f->dma, 0x1000, 1, BIDI, 0, &c0, NULL), -EINVAL);
	assert_int_equal(iommusim_dma_map_page(&f->dma, 0x1000, 0, BIDI, 0, &c0, &dma), -EINVAL);
	assert_int_equal(iommusim_dma_map_page(&f->dma, 0x1000, 1, bad_dir, 0, &c0, &dma), -EINVAL);
	/* DMA_NONE is not a direction to map with (the kernel BUGs on it) */
	assert_int_equal(iommusim_dma_map_page(&f->dma, 0x1000, 1, IOMMUSIM_DMA_NONE, 0, &c0, &dma),
			 -EINVAL);
	assert_int_equal(iommusim_dma_map_page(&f->dma, 0x1000, 1, BIDI, 0, &c1, &dma), -EINVAL);
	assert_int_equal(dma, 0);
	assert_int_equal(iommusim_dma_unmap_page(NULL, TOP_PAGE, 1, BIDI, 0, &c0), -EINVAL);
	assert_int_equal(iommusim_dma_unmap_page(&unset, TOP_PAGE, 1, BIDI, 0, &c0), -EINVAL);
	assert_int_equal(iommusim_dma_unmap_page(&f->dma, TOP_PAGE, 0, BIDI, 0, &c0), -EINVAL);
	assert_int_equal(iommusim_dma_unmap_page(&f->dma, TOP_PAGE, 1, bad_dir, 0, &c0), -EINVAL);
	assert_int_equal(iommusim_dma_unmap_page(&f->dma, TOP_PAGE, 1, BIDI, 0, &c1), -EINVAL);
	assert_int_equal(iommusim_dma_map_sg(NULL, sg, 1, BIDI, 0, &c0, &nsegs), -EINVAL);
	assert_int_equal(iommusim_dma_map_sg(&f->dma, NULL, 1, BIDI, 0, &c0, &nsegs), -EINVAL);
	assert_int_equal(iommusim_dma_map_sg(&f->dma, sg, 0, BIDI, 0, &c0, &nsegs), -EINVAL);
	assert_int_equal(iommusim_dma_map_sg(&f->dma, sg, 1, BIDI, 0, &c0, NULL), -EINVAL);
	assert_int_equal(iommusim_dma_map_sg(&f->dma, sg, 1, bad_dir, 0, &c0, &nsegs), -EINVAL);
	assert_int_equal(iommusim_dma_map_sg(&f->dma, sg, 1, BIDI, 0, &c1, &nsegs), -EINVAL);
	assert_int_equal(iommusim_dma_unmap_sg(NULL, sg, 1, BIDI, 0, &c0), -EINVAL);
	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, NULL, 1, BIDI, 0, &c0), -EINVAL);
	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 0, BIDI, 0, &c0), -EINVAL);
	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 1, bad_dir, 0, &c0), -EINVAL);
	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 1, BIDI, 0, &c1), -EINVAL);
	assert_int_equal(iommusim_dma_stats_get(NULL, &ds), -EINVAL);
	assert_int_equal(iommusim_dma_stats_get(&unset, &ds), -EINVAL);
	assert_int_equal(iommusim_dma_stats_get(&f->dma, NULL), -EINVAL);
	assert_int_equal(iommusim_dma_iommu_info_get(NULL, &i), -EINVAL);
	assert_int_equal(iommusim_dma_iommu_info_get(f->d, NULL), -EINVAL);
	assert_int_equal(iommusim_dma_iommu_stats_get(NULL, &s), -EINVAL);
	assert_int_equal(iommusim_dma_iommu_stats_get(f->d, NULL), -EINVAL);
	assert_null(iommusim_dma_iommu_exposure(NULL));
	assert_null(iommusim_dma_iommu_iovad(NULL));
	iommusim_dma_iommu_fq_timeout(NULL, &c0);
	/* none of it touched anything */
	s = st(f);
	assert_int_equal(s.dma.map_pages + s.dma.unmap_pages + s.dma.map_sgs + s.dma.unmap_sgs, 0);
	assert_int_equal(s.dma.iova_pages_live, 0);
	assert_int_equal(nrpcits(f), 0);
	assert_int_equal(ctrs(f).mapped_pages + ctrs(f).unmapped_pages, 0);
	expect_only_default_reserved(f);
	/* the NULL context is CPU 0 */
	assert_int_equal(iommusim_dma_map_page(&f->dma, 0x1000, 1, BIDI, 0, NULL, &dma), 0);
	assert_int_equal(dma, TOP_PAGE);
}

/* ------------------------------------------------------------------------ */
/* ISM end to end (§8) */

#define ISM_DMBS 4
#define ISM_DMB_SIZE (16 * SZ_4K)

struct ism_buf {
	uint64_t dma, size;
	bool sg;
	struct iommusim_dma_sg ents[2];
};

/* Map the DMBs and register them with the device model. */
static void
ism_map_dmbs(struct fix *f, uint64_t *dmb, uint64_t *token)
{
	const struct iommusim_ctx c0 = cx(f, 0);
	unsigned k;

	for (k = 0; k < ISM_DMBS; k++) {
		dmb[k] = map1(f, &c0, 0x200000000 + k * SZ_1M, ISM_DMB_SIZE, BIDI);
		assert_int_equal(iommusim_ism_dmb_register(f->ism, dmb[k], ISM_DMB_SIZE, &token[k]),
				 0);
	}
}

static void
ism_workload(struct fix *f, uint64_t seed, unsigned ops, uint64_t *unmaps)
{
	struct ism_buf live[16];
	unsigned n = 0, k;
	uint64_t rng = seed;

	for (k = 0; k < ops; k++) {
		const struct iommusim_ctx c = cx(f, 0);

		f->clk.now += 10 * US;
		if (n < 16 && (n == 0 || test_splitmix64(&rng) % 2)) {
			struct ism_buf *b = &live[n++];

			b->sg = test_splitmix64(&rng) % 4 == 0;
			if (b->sg) {
				size_t nsegs;

				b->ents[0] = (struct iommusim_dma_sg){ .phys = 0x300000000,
								       .length = 0x1000 };
				b->ents[1] = (struct iommusim_dma_sg){ .phys = 0x300010100,
								       .length = 0x800 };
				nsegs = map_sg(f, &c, b->ents, 2, BIDI);
				assert_int_equal(nsegs, 2);
			} else {
				b->size = 1 + test_splitmix64(&rng) % (8 * SZ_4K);
				b->dma = map1(f, &c, 0x400000000 + k * SZ_64K, b->size, FROM_DEV);
			}
		} else {
			unsigned i = (unsigned)(test_splitmix64(&rng) % n);
			struct ism_buf *b = &live[i];

			if (b->sg)
				assert_int_equal(
					iommusim_dma_unmap_sg(&f->dma, b->ents, 2, BIDI, 0, &c), 0);
			else
				unmap1(f, &c, b->dma, b->size, FROM_DEV);
			(*unmaps)++;
			live[i] = live[--n];
		}
	}
	while (n) {
		const struct iommusim_ctx c = cx(f, 0);
		struct ism_buf *b = &live[--n];

		if (b->sg)
			assert_int_equal(iommusim_dma_unmap_sg(&f->dma, b->ents, 2, BIDI, 0, &c),
					 0);
		else
			unmap1(f, &c, b->dma, b->size, FROM_DEV);
		(*unmaps)++;
	}
}

static void
test_dma_iommu_ism_strict_no_events(void **state)
{
	struct fix *f = *state;
	unsigned pass;

	for (pass = 0; pass < 2; pass++) {
		const struct s390_opts o = { .pft = IOMMUSIM_PCI_FUNC_TYPE_ISM,
					     .tlb_refresh = pass == 1 };
		uint64_t dmb[ISM_DMBS], token[ISM_DMBS], unmaps = 0;
		struct iommusim_ism_stats is;
		struct iommusim_zpci_fn_stats fs;
		unsigned k;

		s390_start(f, &o);
		use_timer(f);
		dma_start(f);
		assert_int_equal(info(f).type, IOMMUSIM_DOMAIN_DMA);
		assert_true(info(f).downgraded);
		assert_int_equal(iommusim_ism_create(f->fn, &f->ism), 0);
		ism_map_dmbs(f, dmb, token);
		iommusim_zpci_canned_reset(f->script);
		ism_workload(f, 0x15a + pass, 1500, &unmaps);
		fire(f, 0); /* a strict instance has no timer work */
		/* only ranged RPCITs: one per unmap, plus sync_map with tlb_refresh */
		assert_int_equal(nrpcits_of(f, IOMMUSIM_RPCIT_GLOBAL_FLUSH), 0);
		assert_int_equal(nrpcits_of(f, IOMMUSIM_RPCIT_ENOMEM_RECOVERY), 0);
		assert_int_equal(nrpcits_of(f, IOMMUSIM_RPCIT_SYNC), unmaps);
		if (!pass)
			assert_int_equal(nrpcits_of(f, IOMMUSIM_RPCIT_SYNC_MAP), 0);
		else
			assert_true(nrpcits_of(f, IOMMUSIM_RPCIT_SYNC_MAP) >= unmaps);
		assert_int_equal(ctrs(f).global_rpcits, 0);
		assert_false(iommusim_ism_in_error(f->ism));
		assert_int_equal(iommusim_ism_nevents(f->ism), 0);
		assert_int_equal(iommusim_ism_stats_get(f->ism, &is), 0);
		assert_int_equal(is.events, 0);
		assert_int_equal(is.dmbs, ISM_DMBS);
		assert_int_equal(iommusim_zpci_fn_stats_get(f->fn, &fs), 0);
		assert_int_equal(is.rpcits_seen, fs.rpcits);
		assert_true(is.rpcits_seen >= unmaps);
		/* the driver unregisters, then unmaps */
		for (k = 0; k < ISM_DMBS; k++) {
			const struct iommusim_ctx c = cx(f, 0);

			assert_int_equal(iommusim_ism_dmb_unregister(f->ism, token[k]), 0);
			unmap1(f, &c, dmb[k], ISM_DMB_SIZE, BIDI);
		}
		assert_false(iommusim_ism_in_error(f->ism));
		assert_int_equal(st(f).dma.iova_pages_live, 0);
		assert_int_equal(ctrs(f).mapped_pages, ctrs(f).unmapped_pages);
		fix_stop(f);
	}
}

/* The regression the kernel avoids (§8): a global flush while DMBs are in use. */
static void
test_dma_iommu_ism_global_flush_regression_caught(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .pft = IOMMUSIM_PCI_FUNC_TYPE_ISM };
	uint64_t dmb[ISM_DMBS], token[ISM_DMBS], low, unmaps = 0;
	struct iommusim_ism_event ev;
	struct iommusim_ctx c0;
	unsigned k;

	s390_start(f, &o);
	use_timer(f);
	dma_start(f);
	assert_int_equal(iommusim_ism_create(f->fn, &f->ism), 0);
	ism_map_dmbs(f, dmb, token);
	ism_workload(f, 0x7, 200, &unmaps);
	assert_false(iommusim_ism_in_error(f->ism));
	/* what a flush queue on this domain would issue */
	c0 = cx(f, 0);
	f->clk.now = 42 * MS;
	iommusim_iommu_flush_iotlb_all(f->dom, &c0);
	assert_true(iommusim_ism_in_error(f->ism));
	assert_int_equal(iommusim_ism_nevents(f->ism), 1);
	assert_int_equal(iommusim_ism_event_get(f->ism, 0, &ev), 0);
	assert_int_equal(ev.reason, IOMMUSIM_RPCIT_GLOBAL_FLUSH);
	assert_int_equal(ev.rpcit_addr, WIN_LO);
	assert_int_equal(ev.rpcit_len, WIN_HI - WIN_LO + 1);
	assert_int_equal(ev.time_ns, 42 * MS);
	assert_int_equal(ev.exposed_bytes, ISM_DMBS * ISM_DMB_SIZE);
	low = dmb[0];
	for (k = 1; k < ISM_DMBS; k++)
		low = dmb[k] < low ? dmb[k] : low;
	assert_int_equal(ev.iova, low);

	/* the same through a real flush queue: a non-ISM first device makes the
	 * shared domain DMA-FQ, and its timer flush reaches the ISM function */
	{
		struct iommusim_zpci_fn_cfg fcfg = { .fid = 2 };
		struct iommusim_device_cfg dcfg = { .is_pci = true };
		struct iommusim_zpci_fn *fn2 = NULL;
		struct iommusim_device *dev2 = NULL;
		struct iommusim_domain *dom2 = NULL;
		struct iommusim_dma_iommu *d2 = NULL;
		struct iommusim_dma dma2;
		struct iommusim_dma_iommu_cfg cfg = { .fq_timer = &timer_ops,
						      .fq_timer_priv = &f->clk };
		uint64_t x = 0;

		iommusim_ism_reset(f->ism);
		assert_false(iommusim_ism_in_error(f->ism));
		assert_int_equal(iommusim_zpci_fn_create(&fcfg, &fn2), 0);
		dcfg.drvdata = fn2;
		assert_int_equal(iommusim_device_create(f->iommu, &dcfg, &dev2), 0);
		assert_int_equal(iommusim_domain_alloc(dev2, IOMMUSIM_DOMAIN_DMA_FQ, &dom2), 0);
		assert_int_equal(iommusim_iommu_attach_device(dom2, dev2, NULL), 0);
		assert_int_equal(iommusim_dma_iommu_create(dom2, dev2, &cfg, &d2, &dma2), 0);
		/* DMBs mapped through the lazy instance; ISM joins the domain */
		for (k = 0; k < ISM_DMBS; k++)
			assert_int_equal(iommusim_ism_dmb_unregister(f->ism, token[k]), 0);
		assert_int_equal(iommusim_iommu_attach_device(dom2, f->dev, NULL), 0);
		assert_int_equal(
			iommusim_dma_map_page(&dma2, 0x500000000, ISM_DMB_SIZE, BIDI, 0, &c0, &x),
			0);
		assert_int_equal(iommusim_ism_dmb_register(f->ism, x, ISM_DMB_SIZE, &token[0]), 0);
		{
			uint64_t y = 0;

			assert_int_equal(
				iommusim_dma_map_page(&dma2, 0x600000000, 100, BIDI, 0, &c0, &y),
				0);
			assert_int_equal(iommusim_dma_unmap_page(&dma2, y, 100, BIDI, 0, &c0), 0);
		}
		assert_false(iommusim_ism_in_error(f->ism));
		f->clk.armed = false;
		iommusim_dma_iommu_fq_timeout(d2, &c0);
		assert_true(iommusim_ism_in_error(f->ism));
		assert_int_equal(iommusim_ism_event_get(f->ism, 0, &ev), 0);
		assert_int_equal(ev.reason, IOMMUSIM_RPCIT_GLOBAL_FLUSH);
		assert_int_equal(ev.iova, x);
		assert_int_equal(iommusim_ism_dmb_unregister(f->ism, token[0]), 0);
		iommusim_dma_iommu_destroy(d2);
		iommusim_device_destroy(f->dev, NULL);
		f->dev = NULL;
		iommusim_device_destroy(dev2, NULL);
		iommusim_domain_free(dom2);
		iommusim_zpci_fn_destroy(fn2);
	}
}

/* ------------------------------------------------------------------------ */
/* Property test: random maps/unmaps over 4 CPUs in lazy mode */

#define PT_CPUS 4
#define PT_MAXLIVE 48
#define PT_MAXNENTS 4
#define PT_OPS 8000
#define PT_SEEDS 2

struct pt_live {
	uint64_t base, pages; /* the IOVA range */
	unsigned nents; /* 0: map_page */
	uint64_t dma, size, phys; /* map_page */
	enum iommusim_dma_dir dir;
	struct iommusim_dma_sg sg[PT_MAXNENTS];
};

struct pt_pend {
	uint64_t base, pages, counter;
};

struct pt {
	struct fix *f;
	uint64_t seed, rng, step;
	struct pt_live live[PT_MAXLIVE];
	unsigned nlive;
	struct pt_pend *pend;
	size_t npend, cap;
	uint64_t live_pages;
	uint64_t maps, sgs, unmaps, fires, max_pend;
};

static uint64_t
pt_rand(struct pt *p, uint64_t n)
{
	return test_splitmix64(&p->rng) % n;
}

/* Check (all pages, or the first and last of each element) that @l
 * translates to its buffer. */
static void
pt_check_xlate(struct pt *p, const struct pt_live *l, bool full)
{
	uint64_t pos = l->base;
	unsigned i, n = l->nents ? l->nents : 1;

	for (i = 0; i < n; i++) {
		uint64_t phys = l->nents ? l->sg[i].phys : l->phys;
		uint64_t len = l->nents ? l->sg[i].length : l->size;
		uint64_t np = pages_of(phys, len), k;

		for (k = 0; k < np; k++) {
			uint64_t got;

			if (!full && k != 0 && k != np - 1)
				continue;
			got = xlate(p->f, pos + k * SZ_4K);
			if (got != (phys & PAGE_MASK_) + k * SZ_4K)
				fail_msg("seed %#" PRIx64 " step %" PRIu64 ": IOVA %#" PRIx64
					 " translates to %#" PRIx64 ", expected %#" PRIx64,
					 p->seed, p->step, pos + k * SZ_4K, got,
					 (phys & PAGE_MASK_) + k * SZ_4K);
		}
		pos += np * SZ_4K;
	}
}

static bool
overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return a < b + bn * SZ_4K && b < a + an * SZ_4K;
}

static uint64_t
pt_phys(struct pt *p)
{
	return SZ_1T + pt_rand(p, UINT64_C(1) << 24) * SZ_4K + pt_rand(p, SZ_4K);
}

static void
pt_map(struct pt *p)
{
	struct fix *f = p->f;
	const struct iommusim_ctx c = cx(f, (unsigned)pt_rand(p, PT_CPUS));
	struct iommusim_dma_iommu_stats s;
	struct pt_live *l = &p->live[p->nlive];
	unsigned i;

	memset(l, 0, sizeof(*l));
	l->dir = (enum iommusim_dma_dir)pt_rand(p, 3);
	if (pt_rand(p, 8) == 0) {
		uint64_t total = 0, pos;
		size_t nsegs = 0;

		l->nents = 1 + (unsigned)pt_rand(p, PT_MAXNENTS);
		for (i = 0; i < l->nents; i++) {
			l->sg[i].phys = pt_phys(p);
			l->sg[i].length = 1 + (uint32_t)pt_rand(p, 3 * SZ_4K);
			total += l->sg[i].length;
		}
		if (iommusim_dma_map_sg(&f->dma, l->sg, l->nents, l->dir, 0, &c, &nsegs))
			fail_msg("seed %#" PRIx64 " step %" PRIu64 ": map_sg failed", p->seed,
				 p->step);
		assert_true(nsegs >= 1 && nsegs <= l->nents);
		assert_int_equal(l->sg[0].dma_address & 0xfff, l->sg[0].phys & 0xfff);
		l->base = l->sg[0].dma_address & PAGE_MASK_;
		for (i = 0; i < l->nents; i++)
			l->pages += pages_of(l->sg[i].phys, l->sg[i].length);
		/* the segments are in order, inside the range, and cover the data */
		for (i = 0, pos = 0; i < nsegs; i++) {
			assert_true(l->sg[i].dma_length > 0);
			assert_true(l->sg[i].dma_address >= l->base + pos);
			pos = l->sg[i].dma_address + l->sg[i].dma_length - l->base;
			total -= l->sg[i].dma_length;
		}
		assert_true(pos <= l->pages * SZ_4K);
		assert_int_equal(total, 0);
		p->sgs++;
	} else {
		l->phys = pt_phys(p);
		l->size = 1 + pt_rand(p, 5 * SZ_4K);
		l->dma = map1(f, &c, l->phys, l->size, l->dir);
		assert_int_equal(l->dma & 0xfff, l->phys & 0xfff);
		l->base = l->dma & PAGE_MASK_;
		l->pages = pages_of(l->phys, l->size);
	}
	p->maps++;
	if (l->base < WIN_LO || l->base + l->pages * SZ_4K - 1 > WIN_HI)
		fail_msg("seed %#" PRIx64 " step %" PRIu64 ": IOVA %#" PRIx64
			 " outside the DMA window",
			 p->seed, p->step, l->base);
	for (i = 0; i < p->nlive; i++)
		if (overlaps(l->base, l->pages, p->live[i].base, p->live[i].pages))
			fail_msg("seed %#" PRIx64 " step %" PRIu64 ": [%#" PRIx64 ", %" PRIu64
				 " pages) overlaps live [%#" PRIx64 ", %" PRIu64 " pages)",
				 p->seed, p->step, l->base, l->pages, p->live[i].base,
				 p->live[i].pages);
	/* an IOVA whose flush has not finished must not come back (model) */
	s = st(f);
	for (i = 0; i < p->npend; i++) {
		const struct pt_pend *q = &p->pend[i];

		if (q->counter >= s.fq.flush_finish_cnt &&
		    overlaps(l->base, l->pages, q->base, q->pages))
			fail_msg("seed %#" PRIx64 " step %" PRIu64 ": [%#" PRIx64
				 ") reused before its flush (queued at start_cnt %" PRIu64
				 ", finish_cnt %" PRIu64 ")",
				 p->seed, p->step, l->base, q->counter, s.fq.flush_finish_cnt);
	}
	pt_check_xlate(p, l, true);
	p->live_pages += l->pages;
	p->nlive++;
}

static void
pt_unmap_one(struct pt *p, unsigned idx)
{
	struct fix *f = p->f;
	const struct iommusim_ctx c = cx(f, (unsigned)pt_rand(p, PT_CPUS));
	struct pt_live *l = &p->live[idx];

	if (l->nents)
		assert_int_equal(iommusim_dma_unmap_sg(&f->dma, l->sg, l->nents, l->dir, 0, &c), 0);
	else
		unmap1(f, &c, l->dma, l->size, l->dir);
	if (p->npend == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 256;
		p->pend = realloc(p->pend, p->cap * sizeof(*p->pend));
		assert_non_null(p->pend);
	}
	/* single-threaded: the entry's counter is start_cnt after the call */
	p->pend[p->npend++] = (struct pt_pend){ l->base, l->pages, st(f).fq.flush_start_cnt };
	if (p->npend > p->max_pend)
		p->max_pend = p->npend;
	p->live_pages -= l->pages;
	*l = p->live[--p->nlive];
	p->unmaps++;
}

static void
pt_check(struct pt *p)
{
	struct fix *f = p->f;
	struct iommusim_dma_iommu_stats s = st(f);
	struct iommusim_s390_counters k = ctrs(f);
	size_t i, j;
	unsigned n;

	if (s.lazy_reuse_violations)
		fail_msg("seed %#" PRIx64 " step %" PRIu64 ": %" PRIu64 " lazy reuse violations",
			 p->seed, p->step, s.lazy_reuse_violations);
	assert_int_equal(s.fq.queued, s.fq.freed_entries + s.fq.entries_now);
	assert_int_equal(s.dma.iova_pages_live, p->live_pages + s.fq.pages_now);
	assert_int_equal(k.mapped_pages - k.unmapped_pages, p->live_pages);
	assert_int_equal(k.global_rpcits, s.fq.flush_finish_cnt);
	assert_int_equal(s.fq.flush_start_cnt, s.fq.flush_finish_cnt);
	assert_int_equal(s.fq.flush_finish_cnt, s.fq.full_flushes + s.fq.timer_flushes);
	assert_int_equal(s.dma.map_errors + s.iommu_map_failures + s.unmap_short, 0);
	for (n = 0; n < p->nlive; n++)
		pt_check_xlate(p, &p->live[n], false);
	/* forget pending entries whose flush has finished */
	for (i = j = 0; i < p->npend; i++)
		if (p->pend[i].counter >= s.fq.flush_finish_cnt)
			p->pend[j++] = p->pend[i];
	p->npend = j;
}

static void
pt_run(struct fix *f, enum iommusim_fq_type type, uint32_t size, uint32_t timeout_ms,
       uint64_t max_step, uint64_t seed, unsigned nops)
{
	const struct s390_opts o = { .no_script = true };
	struct pt *p = calloc(1, sizeof(*p));
	struct iommusim_dma_iommu_stats s;
	struct iommusim_s390_counters k;
	struct iommusim_hist_summary hs;
	struct iommusim_zpci_table_stats ts;
	struct ranges rs;
	uint64_t cached;

	assert_non_null(p);
	p->f = f;
	p->seed = seed;
	p->rng = seed;
	s390_start(f, &o);
	use_timer(f);
	f->cfg.ncpus = PT_CPUS;
	f->cfg.fq_type = type;
	f->cfg.fq_size = size;
	f->cfg.fq_timeout_ms = timeout_ms;
	f->cfg.check_lazy_reuse = true;
	dma_start(f);
	for (p->step = 0; p->step < nops; p->step++) {
		f->clk.now += pt_rand(p, max_step + 1);
		if (f->clk.armed && f->clk.now >= f->clk.at) {
			fire(f, (unsigned)pt_rand(p, PT_CPUS));
			p->fires++;
		}
		if (p->nlive == 0 || (p->nlive < PT_MAXLIVE && pt_rand(p, 100) < 55))
			pt_map(p);
		else
			pt_unmap_one(p, (unsigned)pt_rand(p, p->nlive));
		pt_check(p);
	}
	/* the end: a final timeout, unmap everything, and another */
	fire(f, 0);
	while (p->nlive)
		pt_unmap_one(p, (unsigned)pt_rand(p, p->nlive));
	pt_check(p);
	fire(f, 1);
	pt_check(p);
	s = st(f);
	k = ctrs(f);
	assert_int_equal(s.fq.entries_now, 0);
	assert_int_equal(s.fq.pages_now, 0);
	assert_int_equal(s.fq.queued, s.fq.freed_entries);
	assert_int_equal(s.dma.iova_pages_live, 0);
	assert_int_equal(s.lazy_reuse_violations, 0);
	assert_int_equal(s.iommu_map_failures + s.dma.map_errors + s.unmap_short, 0);
	assert_int_equal(k.mapped_pages, k.unmapped_pages);
	assert_int_equal(k.global_rpcits, s.fq.flush_finish_cnt);
	assert_int_equal(k.sync_rpcits + k.sync_map_rpcits, 0);
	assert_int_equal(iommusim_hist_summary_get(iommusim_dma_iommu_exposure(f->d), &hs), 0);
	assert_int_equal(hs.count, s.fq.freed_entries);
	assert_int_equal(iommusim_zpci_table_stats_get(iommusim_s390_domain_table(f->dom), &ts), 0);
	assert_int_equal(ts.warn_valid_twice, 0);
	assert_int_equal(ts.warn_invalid_twice, 0);
	/* no IOVA leaked: besides the reserved ranges only cached pfns remain */
	rs = tree_ranges(f);
	cached = cached_pfns(f, PT_CPUS);
	assert_int_equal(rs.n, 2 + cached);
	flush_iova_caches(f, PT_CPUS);
	expect_only_default_reserved(f);
	print_message("# %s %u/%ums seed %#" PRIx64 ": %" PRIu64 " maps (%" PRIu64 " sg), %" PRIu64
		      " unmaps, %" PRIu64 " flushes (%" PRIu64 " full, %" PRIu64
		      " timer), max %" PRIu64 " queued, %" PRIu64 " cached at the end\n",
		      type == IOMMUSIM_FQ_SINGLE ? "single" : "per-CPU", size, timeout_ms, seed,
		      p->maps, p->sgs, p->unmaps, s.fq.flush_finish_cnt, s.fq.full_flushes,
		      s.fq.timer_flushes, s.fq.max_entries, cached);
	assert_true(p->maps >= nops / 2);
	free(p->pend);
	free(p);
	fix_stop(f);
}

static void
test_dma_iommu_property_lazy_random_ops(void **state)
{
	struct fix *f = *state;
	static const struct {
		enum iommusim_fq_type type;
		uint32_t size, timeout_ms;
	} cfgs[] = {
		{ IOMMUSIM_FQ_PER_CPU, 4, 1 },	  { IOMMUSIM_FQ_PER_CPU, 16, 10 },
		{ IOMMUSIM_FQ_PER_CPU, 256, 10 }, { IOMMUSIM_FQ_PER_CPU, 256, 1000 },
		{ IOMMUSIM_FQ_SINGLE, 4, 2 },	  { IOMMUSIM_FQ_SINGLE, 16, 1000 },
		{ IOMMUSIM_FQ_SINGLE, 256, 5 },	  { IOMMUSIM_FQ_SINGLE, 64, 1 },
	};
	const unsigned seed = (unsigned)test_seed(DEFAULT_SEED);
	unsigned k;

	print_message("# property: seed %#x (IOMMUSIM_TEST_SEED)\n", seed);
	for (k = 0; k < sizeof(cfgs) / sizeof(cfgs[0]) * PT_SEEDS; k++) {
		unsigned c = k % (sizeof(cfgs) / sizeof(cfgs[0]));

		pt_run(f, cfgs[c].type, cfgs[c].size, cfgs[c].timeout_ms, 20 * US,
		       (uint64_t)seed * 1000 + k, PT_OPS);
	}
}

/* ------------------------------------------------------------------------ */
/* Concurrency: 4 mapping threads on their own CPUs and a timer thread */

#define CT_THREADS 4
#define CT_ITERS 5000
#define CT_LIVE 16
#define CT_TIMER_MIN 50
#define CT_TIMER_MAX 1000000

struct ct_worker {
	pthread_t tid;
	struct fix *f;
	unsigned cpu;
	uint64_t rng;
	unsigned maps, unmaps, errors;
	uint64_t pages_mapped;
	char err[160];
};

static pthread_barrier_t ct_barrier;
static atomic_uint ct_running;

static void
ct_error(struct ct_worker *w, const char *what, uint64_t a, uint64_t b)
{
	if (!w->errors++)
		snprintf(w->err, sizeof(w->err), "cpu %u: %s %#" PRIx64 " %#" PRIx64, w->cpu, what,
			 a, b);
}

static void
ct_unmap(struct ct_worker *w, uint64_t (*live)[3], unsigned i, const struct iommusim_ctx *c)
{
	int ret = iommusim_dma_unmap_page(&w->f->dma, live[i][0], live[i][1], FROM_DEV, 0, c);

	if (ret)
		ct_error(w, "unmap", live[i][0], (uint64_t)ret);
	w->unmaps++;
}

static void *
ct_main(void *arg)
{
	struct ct_worker *w = arg;
	const struct iommusim_ctx c = { NULL, NULL, w->cpu };
	uint64_t live[CT_LIVE][3]; /* dma, size, phys */
	unsigned n = 0, k;

	pthread_barrier_wait(&ct_barrier);
	for (k = 0; k < CT_ITERS; k++) {
		if (n < CT_LIVE && (n == 0 || test_splitmix64(&w->rng) % 2)) {
			uint64_t phys = ((uint64_t)(w->cpu + 1) << 36) +
					(test_splitmix64(&w->rng) % 4096) * SZ_4K +
					test_splitmix64(&w->rng) % SZ_4K;
			uint64_t size = 1 + test_splitmix64(&w->rng) % (4 * SZ_4K), dma = 0, got;
			int ret = iommusim_dma_map_page(&w->f->dma, phys, size, FROM_DEV, 0, &c,
							&dma);

			if (ret) {
				ct_error(w, "map", phys, (uint64_t)ret);
				continue;
			}
			got = iommusim_iommu_iova_to_phys(w->f->dom, dma & PAGE_MASK_);
			if (got != (phys & PAGE_MASK_))
				ct_error(w, "xlate", dma, got);
			live[n][0] = dma;
			live[n][1] = size;
			live[n][2] = phys;
			n++;
			w->maps++;
			w->pages_mapped += pages_of(phys, size);
		} else {
			unsigned i = (unsigned)(test_splitmix64(&w->rng) % n);

			ct_unmap(w, live, i, &c);
			memcpy(live[i], live[--n], sizeof(live[i]));
		}
		/* the buffers still mapped are still this thread's */
		if (n && iommusim_iommu_iova_to_phys(w->f->dom, live[0][0] & PAGE_MASK_) !=
				 (live[0][2] & PAGE_MASK_))
			ct_error(w, "stale", live[0][0], live[0][2]);
	}
	while (n)
		ct_unmap(w, live, --n, &c);
	atomic_fetch_sub(&ct_running, 1);
	return NULL;
}

struct ct_timer {
	pthread_t tid;
	struct fix *f;
	unsigned fires;
};

static void *
ct_timer_main(void *arg)
{
	struct ct_timer *t = arg;
	const struct iommusim_ctx c = { NULL, NULL, CT_THREADS };

	pthread_barrier_wait(&ct_barrier);
	while (t->fires < CT_TIMER_MAX && (t->fires < CT_TIMER_MIN || atomic_load(&ct_running))) {
		iommusim_dma_iommu_fq_timeout(t->f->d, &c);
		t->fires++;
		sched_yield();
	}
	return NULL;
}

static void
test_dma_iommu_concurrent_lazy_per_cpu(void **state)
{
	struct fix *f = *state;
	const struct s390_opts o = { .no_script = true };
	struct ct_worker w[CT_THREADS];
	struct ct_timer t = { .f = f };
	struct iommusim_dma_iommu_stats s;
	struct iommusim_s390_counters k;
	struct iommusim_zpci_table_stats ts;
	const unsigned seed = (unsigned)test_seed(DEFAULT_SEED);
	const struct iommusim_ctx cend = { NULL, NULL, CT_THREADS };
	uint64_t maps = 0, unmaps = 0, pages = 0;
	unsigned i;

	print_message("# concurrent: seed %#x (IOMMUSIM_TEST_SEED)\n", seed);
	s390_start(f, &o);
	f->cfg.ncpus = CT_THREADS + 1; /* the timer runs on its own CPU */
	f->cfg.fq_type = IOMMUSIM_FQ_PER_CPU;
	f->cfg.fq_size = 16;
	f->cfg.check_lazy_reuse = true;
	dma_start(f);
	memset(w, 0, sizeof(w));
	atomic_store(&ct_running, CT_THREADS);
	assert_int_equal(pthread_barrier_init(&ct_barrier, NULL, CT_THREADS + 1), 0);
	for (i = 0; i < CT_THREADS; i++) {
		w[i].f = f;
		w[i].cpu = i;
		w[i].rng = (uint64_t)seed * 0x9E3779B97F4A7C15u + i;
		assert_int_equal(pthread_create(&w[i].tid, NULL, ct_main, &w[i]), 0);
	}
	assert_int_equal(pthread_create(&t.tid, NULL, ct_timer_main, &t), 0);
	for (i = 0; i < CT_THREADS; i++)
		assert_int_equal(pthread_join(w[i].tid, NULL), 0);
	assert_int_equal(pthread_join(t.tid, NULL), 0);
	pthread_barrier_destroy(&ct_barrier);
	for (i = 0; i < CT_THREADS; i++) {
		if (w[i].errors)
			fail_msg("seed %#x: %u errors, first: %s", seed, w[i].errors, w[i].err);
		maps += w[i].maps;
		unmaps += w[i].unmaps;
		pages += w[i].pages_mapped;
	}
	assert_int_equal(maps, unmaps);
	assert_true(t.fires >= CT_TIMER_MIN);
	iommusim_dma_iommu_fq_timeout(f->d, &cend);
	s = st(f);
	k = ctrs(f);
	print_message("# concurrent: %" PRIu64 " maps, %u timer calls, %" PRIu64
		      " flushes (%" PRIu64 " full)\n",
		      maps, t.fires, s.fq.flush_finish_cnt, s.fq.full_flushes);
	assert_int_equal(s.dma.map_pages, maps);
	assert_int_equal(s.dma.unmap_pages, unmaps);
	assert_int_equal(s.lazy_reuse_violations, 0);
	assert_int_equal(s.fq.entries_now, 0);
	assert_int_equal(s.fq.queued, unmaps);
	assert_int_equal(s.fq.queued, s.fq.freed_entries);
	assert_int_equal(s.fq.flush_start_cnt, s.fq.flush_finish_cnt);
	assert_int_equal(s.fq.flush_finish_cnt, s.fq.full_flushes + s.fq.timer_flushes);
	assert_int_equal(s.fq.timer_flushes, t.fires + 1);
	assert_int_equal(s.dma.iova_pages_live, 0);
	assert_int_equal(k.mapped_pages, pages);
	assert_int_equal(k.unmapped_pages, pages);
	assert_int_equal(k.global_rpcits, s.fq.flush_finish_cnt);
	assert_int_equal(iommusim_zpci_table_stats_get(iommusim_s390_domain_table(f->dom), &ts), 0);
	assert_int_equal(ts.warn_valid_twice, 0);
	assert_int_equal(ts.warn_invalid_twice, 0);
	flush_iova_caches(f, CT_THREADS + 1);
	expect_only_default_reserved(f);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup_fix, teardown_fix)
		T(test_dma_iommu_init_s390_per_cpu_defaults),
		T(test_dma_iommu_init_s390_tlb_refresh_single_queue),
		T(test_dma_iommu_init_reserved_regions_in_iova_tree),
		T(test_dma_iommu_iova_only_inside_dma_window),
		T(test_dma_iommu_init_cfg_overrides),
		T(test_dma_iommu_init_ism_downgrades_to_strict),
		T(test_dma_iommu_init_fq_alloc_failure_downgrades),
		T(test_dma_iommu_init_strict_domain_stays_strict),
		T(test_dma_iommu_init_rejects_bad_domain_and_args),
		T(test_dma_iommu_init_enomem_each_allocation),
		T(test_dma_iommu_init_mock_rules),
		T(test_dma_iommu_alloc_limit_from_mask_bus_limit_aperture),
		T(test_dma_iommu_alloc_32bit_first_then_fallback),
		T(test_dma_iommu_alloc_32bit_below_aperture_falls_back_once),
		T(test_dma_iommu_alloc_32bit_mask_never_falls_back),
		T(test_dma_iommu_alloc_s390_never_tries_32bit),
		T(test_dma_iommu_map_page_keeps_offset_and_rounds),
		T(test_dma_iommu_map_page_direction_to_pte_protection),
		T(test_dma_iommu_map_page_table_alloc_failure_frees_iova),
		T(test_dma_iommu_map_page_sync_map_errors),
		T(test_dma_iommu_strict_unmap_one_ranged_rpcit),
		T(test_dma_iommu_lazy_unmap_defers_reuse_until_flush),
		T(test_dma_iommu_lazy_entry_queued_during_flush_waits),
		T(test_dma_iommu_lazy_tv14_per_cpu_full_flushes),
		T(test_dma_iommu_lazy_tv14_single_queue),
		T(test_dma_iommu_lazy_timer_armed_once_not_pushed_out),
		T(test_dma_iommu_lazy_timeout_frees_every_cpu_queue),
		T(test_dma_iommu_exposure_window_exact),
		T(test_dma_iommu_occupancy_stats),
		T(test_dma_iommu_map_sg_merges_contiguous_elements),
		T(test_dma_iommu_map_sg_respects_max_seg_size),
		T(test_dma_iommu_map_sg_segment_boundary_padding),
		T(test_dma_iommu_map_sg_errors_undo_everything),
		T(test_dma_iommu_map_sg_enomem_counts_map_error),
		T(test_dma_iommu_map_sg_lazy_queues_whole_range),
		T(test_dma_iommu_generic_handle_and_stats),
		T(test_dma_iommu_bad_args_einval),
		T(test_dma_iommu_ism_strict_no_events),
		T(test_dma_iommu_ism_global_flush_regression_caught),
		T(test_dma_iommu_property_lazy_random_ops),
		T(test_dma_iommu_concurrent_lazy_per_cpu),
#undef T
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("dma_iommu", tests, NULL, NULL);
}
