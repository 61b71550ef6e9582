/* SPDX-License-Identifier: MIT */
/*
 * Tests of the s390 IOMMU driver (lib/s390_iommu.c) against KERNEL_SPEC.md §3,
 * §4.3, §5.1 and §8: the real driver on the real translation tables, zPCI
 * functions answered by the script platform, devices created through the
 * core. Init and probe (aperture, DMA window, reserved regions,
 * shadow_on_flush), the domain-type policy end to end (TV-27), IOAT
 * registration, the PTE values of map/unmap (TV-18), allocation failures and
 * their undo, iotlb_sync_map with every RPCIT outcome (TV-21, TV-22) and the
 * multi-device rules, strict and global flushes, the debugfs counters, an ISM
 * device end to end, and a multi-threaded run against the RCU device list.
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

#include <iommusim/iommu.h>
#include <iommusim/ism.h>
#include <iommusim/s390_iommu.h>
#include <iommusim/zpci.h>
#include <iommusim/zpci_table.h>

#include "base/mem_int.h"
#include "kernel/s390_iommu_int.h"

#define SZ_4K UINT64_C(0x1000)
#define SZ_1M (UINT64_C(1) << 20)
#define SZ_2G (UINT64_C(1) << 31)
#define SZ_1G (UINT64_C(1) << 30)
#define SZ_4G (UINT64_C(1) << 32)
#define SZ_16G (UINT64_C(16) << 30)
#define SZ_4T (UINT64_C(1) << 42)
#define QEMU_EDMA UINT64_C(0x1ffffffffffffff)
#define RW (IOMMUSIM_PROT_READ | IOMMUSIM_PROT_WRITE)
#define MAXFN 4
#define MAXCALLS 64

/* ------------------------------------------------------------------------ */
/* Fixture: a driver instance, functions on one shared script, their devices */

struct sfix {
	struct iommusim_s390_iommu *s;
	struct iommusim_iommu *iommu;
	struct iommusim_zpci_canned *script;
	struct iommusim_zpci_fn *fn[MAXFN];
	struct iommusim_device *dev[MAXFN];
	struct iommusim_domain *dom;
	unsigned n;
};

static int
setup_sfix(void **state)
{
	struct sfix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(iommusim_zpci_canned_create(&f->script), 0);
	*state = f;
	return 0;
}

static int
teardown_sfix(void **state)
{
	struct sfix *f = *state;
	unsigned i;

	ims_mem_fault_inject(0, 0);
	for (i = 0; i < f->n; i++)
		iommusim_device_destroy(f->dev[i], NULL);
	iommusim_domain_free(f->dom);
	iommusim_s390_iommu_destroy(f->s);
	for (i = 0; i < f->n; i++)
		iommusim_zpci_fn_destroy(f->fn[i]);
	iommusim_zpci_canned_destroy(f->script);
	free(f);
	return 0;
}

/* Initialise the driver: @memory bytes (0: 16 GiB), @pol (NULL: defaults). */
static void
sfix_start(struct sfix *f, uint64_t memory, const struct iommusim_iommu_policy *pol)
{
	const struct iommusim_s390_iommu_cfg cfg = { .memory_bytes = memory };

	assert_int_equal(iommusim_s390_iommu_create(&cfg, pol, &f->s, &f->iommu), 0);
	assert_non_null(f->s);
	assert_non_null(f->iommu);
}

static struct iommusim_zpci_fn *
new_fn(struct sfix *f, uint32_t fid, uint8_t pft, bool tlb_refresh, uint64_t start, uint64_t end)
{
	const struct iommusim_zpci_fn_cfg cfg = {
		.fid = fid,
		.pft = pft,
		.tlb_refresh = tlb_refresh,
		.start_dma = start,
		.end_dma = end,
		.platform = &iommusim_zpci_canned_ops,
		.platform_priv = f->script,
	};
	struct iommusim_zpci_fn *fn = NULL;

	assert_int_equal(iommusim_zpci_fn_create(&cfg, &fn), 0);
	assert_non_null(fn);
	return fn;
}

/* Add a function and its PCI device; returns its index. */
static unsigned
sfix_add(struct sfix *f, uint8_t pft, bool tlb_refresh, uint64_t start, uint64_t end)
{
	struct iommusim_device_cfg dcfg = { .is_pci = true };
	unsigned i = f->n;

	assert_true(i < MAXFN);
	f->fn[i] = new_fn(f, 0x10 + i, pft, tlb_refresh, start, end);
	dcfg.drvdata = f->fn[i];
	assert_int_equal(iommusim_device_create(f->iommu, &dcfg, &f->dev[i]), 0);
	assert_non_null(f->dev[i]);
	f->n++;
	return i;
}

static void
sfix_domain(struct sfix *f, enum iommusim_domain_type type)
{
	assert_int_equal(iommusim_domain_alloc(f->dev[0], type, &f->dom), 0);
	assert_non_null(f->dom);
}

static void
sfix_attach(struct sfix *f, unsigned i)
{
	assert_int_equal(iommusim_iommu_attach_device(f->dom, f->dev[i], NULL), 0);
}

static uint32_t
fh_of(const struct iommusim_zpci_fn *fn)
{
	struct iommusim_zpci_fn_info fi;

	assert_int_equal(iommusim_zpci_fn_info_get(fn, &fi), 0);
	return fi.fh;
}

static void
window_of(const struct iommusim_zpci_fn *fn, uint64_t *start, uint64_t *end)
{
	struct iommusim_zpci_fn_info fi;

	assert_int_equal(iommusim_zpci_fn_info_get(fn, &fi), 0);
	*start = fi.start_dma;
	*end = fi.end_dma;
}

/* The RPCITs (is_rpcit) or the MPCIFCs recorded, in order; returns how many. */
static size_t
script_calls(const struct iommusim_zpci_canned *s, bool rpcit,
	     struct iommusim_zpci_canned_call *out, size_t max)
{
	size_t i, n = 0, total = iommusim_zpci_canned_ncalls(s);

	for (i = 0; i < total; i++) {
		struct iommusim_zpci_canned_call c;

		assert_int_equal(iommusim_zpci_canned_call(s, i, &c), 0);
		if (c.is_rpcit != rpcit)
			continue;
		if (n < max)
			out[n] = c;
		n++;
	}
	return n;
}

static size_t
nrpcits(const struct sfix *f)
{
	struct iommusim_zpci_canned_call c[1];

	return script_calls(f->script, true, c, 0);
}

static void
expect_rpcit(const struct iommusim_zpci_canned_call *c, uint32_t fh,
	     enum iommusim_rpcit_reason reason, uint64_t addr, uint64_t range)
{
	assert_true(c->is_rpcit);
	assert_int_equal(c->rpcit.fh, fh);
	if (c->rpcit.reason != reason)
		fail_msg("RPCIT reason %s, expected %s",
			 iommusim_rpcit_reason_name(c->rpcit.reason),
			 iommusim_rpcit_reason_name(reason));
	assert_int_equal(c->rpcit.addr, addr);
	assert_int_equal(c->rpcit.range, range);
}

static struct iommusim_s390_counters
ctrs(const struct iommusim_domain *dom)
{
	struct iommusim_s390_counters c;

	assert_int_equal(iommusim_s390_domain_counters(dom, &c, NULL), 0);
	return c;
}

static struct iommusim_s390_events
evs(const struct iommusim_domain *dom)
{
	struct iommusim_s390_events e;

	assert_int_equal(iommusim_s390_domain_counters(dom, NULL, &e), 0);
	return e;
}

static void
expect_ctrs(const struct iommusim_domain *dom, uint64_t mapped, uint64_t unmapped, uint64_t global,
	    uint64_t sync_map, uint64_t sync)
{
	struct iommusim_s390_counters c = ctrs(dom);
	uint64_t m, u;

	assert_int_equal(c.mapped_pages, mapped);
	assert_int_equal(c.unmapped_pages, unmapped);
	/* the run's shortcut to the two page counters */
	ims_s390_domain_pages(dom, &m, &u);
	assert_int_equal(m, mapped);
	assert_int_equal(u, unmapped);
	assert_int_equal(c.global_rpcits, global);
	assert_int_equal(c.sync_map_rpcits, sync_map);
	assert_int_equal(c.sync_rpcits, sync);
}

static uint64_t
pte_at(const struct iommusim_domain *dom, uint64_t iova)
{
	uint64_t pte = 0;

	assert_int_equal(iommusim_zpci_table_entry(iommusim_s390_domain_table(dom), iova, 3, &pte),
			 0);
	return pte;
}

/* A context that records its delays and tells a fixed time. */
struct rec_ctx {
	uint64_t delay_ns, delays;
};

static uint64_t
rec_now(void *priv)
{
	return 777000;
}

static void
rec_delay(void *priv, uint64_t ns)
{
	struct rec_ctx *r = priv;

	r->delay_ns += ns;
	r->delays++;
}

static const struct iommusim_ctx_ops rec_ops = { .now_ns = rec_now, .delay_ns = rec_delay };

/* ------------------------------------------------------------------------ */
/* Init (§3.3 s390_iommu_init) */

static void
test_s390_iommu_init_aperture(void **state)
{
	static const struct {
		uint64_t memory;
		uint32_t factor;
		bool set;
		uint64_t aperture;
	} rows[] = {
		{ 0, 0, false, SZ_16G }, /* default memory, factor 1 */
		{ 8 * SZ_1G, 0, false, 8 * SZ_1G },
		{ 8 * SZ_1G, 5, false, 8 * SZ_1G }, /* not given: factor 1 */
		{ 8 * SZ_1G, 3, true, 24 * SZ_1G },
		{ 8 * SZ_1G, 1, true, 8 * SZ_1G },
		{ 8 * SZ_1G, 0, true, UINT64_MAX }, /* 0 = unlimited */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct iommusim_s390_iommu_cfg cfg = {
			.memory_bytes = rows[i].memory,
			.aperture_factor = rows[i].factor,
			.aperture_factor_set = rows[i].set,
		};
		struct iommusim_s390_iommu *s = NULL;
		struct iommusim_iommu *iommu = NULL;

		assert_int_equal(iommusim_s390_iommu_create(&cfg, NULL, &s, &iommu), 0);
		if (iommusim_s390_iommu_aperture_get(s) != rows[i].aperture)
			fail_msg("row %zu: aperture %#" PRIx64 ", expected %#" PRIx64, i,
				 iommusim_s390_iommu_aperture_get(s), rows[i].aperture);
		assert_ptr_equal(iommusim_iommu_drvdata(iommu), s);
		iommusim_s390_iommu_destroy(s);
	}
	iommusim_s390_iommu_destroy(NULL);
	assert_int_equal(iommusim_s390_iommu_aperture_get(NULL), 0);
}

static void
test_s390_iommu_init_rejects_null(void **state)
{
	const struct iommusim_s390_iommu_cfg cfg = { 0 };
	struct iommusim_s390_iommu *s = NULL;
	struct iommusim_iommu *iommu = NULL;

	(void)state;
	assert_int_equal(iommusim_s390_iommu_create(NULL, NULL, &s, &iommu), -EINVAL);
	assert_int_equal(iommusim_s390_iommu_create(&cfg, NULL, NULL, &iommu), -EINVAL);
	assert_int_equal(iommusim_s390_iommu_create(&cfg, NULL, &s, NULL), -EINVAL);
	assert_null(s);
	assert_null(iommu);
}

static void
test_s390_iommu_init_forces_forcedac(void **state)
{
	struct sfix *f = *state;
	/* even when the caller's policy says otherwise */
	const struct iommusim_iommu_policy pol = { .forcedac = false };
	struct iommusim_device_info di;
	unsigned i;

	sfix_start(f, 0, &pol);
	i = sfix_add(f, 0, false, 0, 0);
	assert_int_equal(iommusim_device_info_get(f->dev[i], &di), 0);
	assert_true(di.is_pci);
	assert_false(di.pci_32bit_workaround);
	assert_false(iommusim_iommu_dma_strict(f->iommu));
}

/* ------------------------------------------------------------------------ */
/* Probe (§3.3) */

static void
test_s390_iommu_probe_requires_pci_function(void **state)
{
	struct sfix *f = *state;
	struct iommusim_zpci_fn *fn;
	struct iommusim_device_cfg cfg = { .is_pci = false };
	struct iommusim_device *dev = NULL;

	sfix_start(f, 0, NULL);
	fn = new_fn(f, 1, 0, false, 0, 0);
	cfg.drvdata = fn;
	assert_int_equal(iommusim_device_create(f->iommu, &cfg, &dev), -ENODEV);
	assert_null(dev);
	cfg.is_pci = true;
	cfg.drvdata = NULL;
	assert_int_equal(iommusim_device_create(f->iommu, &cfg, &dev), -ENODEV);
	assert_null(dev);
	iommusim_zpci_fn_destroy(fn);
}

static void
expect_resv(struct iommusim_device *dev, uint64_t start_dma, uint64_t end_dma)
{
	struct iommusim_resv_region r[IOMMUSIM_MAX_RESV_REGIONS];
	size_t n = 99, k = 0;

	assert_int_equal(iommusim_device_resv_regions(dev, r, IOMMUSIM_MAX_RESV_REGIONS, &n), 0);
	if (start_dma) {
		assert_true(n > k);
		assert_int_equal(r[k].start, 0);
		assert_int_equal(r[k].length, start_dma);
		assert_int_equal(r[k].type, IOMMUSIM_RESV_RESERVED);
		k++;
	}
	if (end_dma < SZ_4T - 1) {
		assert_true(n > k);
		/* [end_dma + 1, 4 TiB - 1] */
		assert_int_equal(r[k].start, end_dma + 1);
		assert_int_equal(r[k].start + r[k].length - 1, SZ_4T - 1);
		assert_int_equal(r[k].type, IOMMUSIM_RESV_RESERVED);
		k++;
	}
	assert_int_equal(n, k);
}

/* The identity domain of later kernels (s390_iommu_rtr_ops): only for a
 * function with relaxed translation; attach registers a direct IOAT (iota 0)
 * over the window; nothing maps and nothing refreshes. */
static void
test_s390_iommu_identity_domain_needs_rtr_and_registers_direct_ioat(void **state)
{
	struct sfix *f = *state;
	struct iommusim_zpci_fn_cfg cfg = {
		.fid = 0x30,
		.rtr_avail = true,
		.platform = &iommusim_zpci_canned_ops,
		.platform_priv = f->script,
	};
	struct iommusim_device_cfg dcfg = { .is_pci = true };
	struct iommusim_zpci_canned_call calls[4];
	struct iommusim_domain *id = NULL;
	struct iommusim_zpci_ioat ioat;
	struct iommusim_zpci_fn_info fi;
	uint64_t start, end;

	sfix_start(f, 0, NULL);
	/* Without rtr_avail (the v6.7 driver's view): no identity domain. */
	sfix_add(f, 0, false, 0, 0);
	assert_int_equal(iommusim_domain_alloc(f->dev[0], IOMMUSIM_DOMAIN_IDENTITY, &id),
			 -EOPNOTSUPP);
	assert_null(id);
	/* With it. */
	assert_int_equal(iommusim_zpci_fn_create(&cfg, &f->fn[1]), 0);
	assert_int_equal(iommusim_zpci_fn_info_get(f->fn[1], &fi), 0);
	assert_true(fi.rtr_avail);
	dcfg.drvdata = f->fn[1];
	assert_int_equal(iommusim_device_create(f->iommu, &dcfg, &f->dev[1]), 0);
	f->n = 2;
	assert_int_equal(iommusim_domain_alloc(f->dev[1], IOMMUSIM_DOMAIN_IDENTITY, &id), 0);
	assert_int_equal(iommusim_iommu_attach_device(id, f->dev[1], NULL), 0);
	assert_int_equal(iommusim_zpci_fn_ioat(f->fn[1], &ioat), 0);
	window_of(f->fn[1], &start, &end);
	assert_true(ioat.registered);
	assert_int_equal(ioat.iota, 0);
	assert_int_equal(ioat.pba, start);
	assert_int_equal(ioat.pal, end);
	assert_int_equal(script_calls(f->script, false, calls, 4), 1);
	assert_int_not_equal(iommusim_iommu_map(id, start, SZ_1G, SZ_4K, RW, NULL), 0);
	iommusim_iommu_flush_iotlb_all(id, NULL);
	assert_int_equal(nrpcits(f), 0);
	assert_int_equal(iommusim_iommu_detach_device(id, f->dev[1], NULL), 0);
	assert_int_equal(iommusim_zpci_fn_ioat(f->fn[1], &ioat), 0);
	assert_false(ioat.registered);
	iommusim_domain_free(id);
}

static void
test_s390_iommu_probe_window_qemu_defaults(void **state)
{
	struct sfix *f = *state;
	struct iommusim_zpci_fn_info fi;
	unsigned i;

	/* 16 GiB, QEMU's sdma 4 GiB / edma 0x1ffffffffffffff */
	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, false, 0, 0);
	assert_int_equal(iommusim_zpci_fn_info_get(f->fn[i], &fi), 0);
	assert_int_equal(fi.start_dma, SZ_4G);
	assert_int_equal(fi.end_dma, 20 * SZ_1G - 1);
	expect_resv(f->dev[i], SZ_4G, 20 * SZ_1G - 1);
}

static void
test_s390_iommu_probe_window_unaligned_start(void **state)
{
	struct sfix *f = *state;
	uint64_t start, end;
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, false, SZ_4G + 0x123, 0);
	window_of(f->fn[i], &start, &end);
	assert_int_equal(start, SZ_4G + SZ_4K); /* PAGE_ALIGN */
	assert_int_equal(end, SZ_4G + SZ_4K + SZ_16G - 1);
	expect_resv(f->dev[i], SZ_4G + SZ_4K, end);
}

static void
test_s390_iommu_probe_window_clamped_4t(void **state)
{
	struct sfix *f = *state;
	const struct iommusim_s390_iommu_cfg cfg = {
		.memory_bytes = SZ_16G,
		.aperture_factor = 0,
		.aperture_factor_set = true,
	};
	uint64_t start, end;
	unsigned i;

	/* unlimited aperture: the 4 TiB region-third table is the bound */
	assert_int_equal(iommusim_s390_iommu_create(&cfg, NULL, &f->s, &f->iommu), 0);
	i = sfix_add(f, 0, false, 0, 0);
	window_of(f->fn[i], &start, &end);
	assert_int_equal(start, SZ_4G);
	assert_int_equal(end, SZ_4T - 1);
	expect_resv(f->dev[i], SZ_4G, SZ_4T - 1);
	/* a CLP window smaller than the aperture stays as it is */
	i = sfix_add(f, 0, false, 8 * SZ_1G, 10 * SZ_1G - 1);
	window_of(f->fn[i], &start, &end);
	assert_int_equal(start, 8 * SZ_1G);
	assert_int_equal(end, 10 * SZ_1G - 1);
	expect_resv(f->dev[i], 8 * SZ_1G, 10 * SZ_1G - 1);
	/* start one page below 4 TiB: a one-page window */
	i = sfix_add(f, 0, false, SZ_4T - SZ_4K, 0);
	window_of(f->fn[i], &start, &end);
	assert_int_equal(start, SZ_4T - SZ_4K);
	assert_int_equal(end, SZ_4T - 1);
}

static void
test_s390_iommu_probe_start_beyond_4t_einval(void **state)
{
	struct sfix *f = *state;
	struct iommusim_device_cfg cfg = { .is_pci = true };
	struct iommusim_device *dev = NULL;
	static const uint64_t starts[] = { SZ_4T, 5 * SZ_4T / 4, SZ_4T + SZ_4K };
	size_t k;

	sfix_start(f, SZ_16G, NULL);
	for (k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
		struct iommusim_zpci_fn *fn = new_fn(f, 7, 0, false, starts[k], 0);

		cfg.drvdata = fn;
		assert_int_equal(iommusim_device_create(f->iommu, &cfg, &dev), -EINVAL);
		assert_null(dev);
		iommusim_zpci_fn_destroy(fn);
	}
}

static void
test_s390_iommu_resv_regions_start_zero(void **state)
{
	struct sfix *f = *state;
	struct iommusim_zpci_fn *fn;
	struct iommusim_device_cfg cfg = { .is_pci = true };
	struct iommusim_device *dev = NULL;
	struct iommusim_resv_region r[1];
	size_t n;

	sfix_start(f, SZ_16G, NULL);
	fn = new_fn(f, 3, 0, false, 0, 0);
	/* a CLP window starting at 0 (the cfg's 0 means QEMU's default) */
	assert_int_equal(iommusim_zpci_fn_set_dma_window(fn, 0, QEMU_EDMA), 0);
	cfg.drvdata = fn;
	assert_int_equal(iommusim_device_create(f->iommu, &cfg, &dev), 0);
	expect_resv(dev, 0, SZ_16G - 1);
	/* too small an array */
	assert_int_equal(iommusim_device_resv_regions(dev, r, 0, &n), -ENOSPC);
	iommusim_device_destroy(dev, NULL);
	iommusim_zpci_fn_destroy(fn);
}

static void
test_s390_iommu_probe_shadow_on_flush_iff_tlb_refresh(void **state)
{
	struct sfix *f = *state;
	struct iommusim_device_info d0, d1;
	unsigned a, b;

	sfix_start(f, 0, NULL);
	a = sfix_add(f, 0, false, 0, 0);
	b = sfix_add(f, 0, true, 0, 0);
	assert_int_equal(iommusim_device_info_get(f->dev[a], &d0), 0);
	assert_int_equal(iommusim_device_info_get(f->dev[b], &d1), 0);
	assert_false(d0.shadow_on_flush);
	assert_true(d1.shadow_on_flush);
}

static void
test_s390_iommu_capable(void **state)
{
	struct sfix *f = *state;
	unsigned pci, ism;

	sfix_start(f, 0, NULL);
	pci = sfix_add(f, 0, false, 0, 0);
	ism = sfix_add(f, IOMMUSIM_PCI_FUNC_TYPE_ISM, false, 0, 0);
	assert_true(iommusim_device_capable(f->dev[pci], IOMMUSIM_CAP_CACHE_COHERENCY));
	assert_true(iommusim_device_capable(f->dev[pci], IOMMUSIM_CAP_DEFERRED_FLUSH));
	assert_false(iommusim_device_capable(f->dev[pci], IOMMUSIM_CAP_NOEXEC));
	assert_false(iommusim_device_capable(f->dev[pci], IOMMUSIM_CAP_DIRTY_TRACKING));
	assert_true(iommusim_device_capable(f->dev[ism], IOMMUSIM_CAP_CACHE_COHERENCY));
	/* §3.2, §8: no deferred flush for ISM */
	assert_false(iommusim_device_capable(f->dev[ism], IOMMUSIM_CAP_DEFERRED_FLUSH));
}

static void
test_s390_iommu_domain_geometry(void **state)
{
	struct sfix *f = *state;
	struct iommusim_domain_info di;
	struct iommusim_zpci_table *t;

	sfix_start(f, 0, NULL);
	sfix_add(f, 0, false, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA_FQ);
	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	assert_int_equal(di.type, IOMMUSIM_DOMAIN_DMA_FQ);
	assert_int_equal(di.geometry.aperture_start, 0);
	assert_int_equal(di.geometry.aperture_last, SZ_4T - 1);
	assert_true(di.geometry.force_aperture);
	assert_int_equal(di.pgsize_bitmap, SZ_4K);
	t = iommusim_s390_domain_table(f->dom);
	assert_non_null(t);
	assert_int_equal(iommusim_zpci_table_origin(t) & 0x3fff, 0);
	assert_null(iommusim_s390_domain_table(NULL));
}

/* ------------------------------------------------------------------------ */
/* TV-27: the domain type end to end */

static void
expect_decision(struct iommusim_device *dev, enum iommusim_domain_type effective, bool downgraded,
		bool single, uint32_t size, uint32_t timeout)
{
	struct iommusim_domain_decision d;

	assert_int_equal(iommusim_iommu_decide_domain_type(dev, &d), 0);
	if (d.effective != effective)
		fail_msg("effective %s, expected %s", iommusim_domain_type_name(d.effective),
			 iommusim_domain_type_name(effective));
	assert_int_equal(d.downgraded_no_deferred_flush, downgraded);
	if (effective == IOMMUSIM_DOMAIN_DMA_FQ) {
		assert_int_equal(d.fq.single_queue, single);
		assert_int_equal(d.fq.size, size);
		assert_int_equal(d.fq.timeout_ms, timeout);
	}
}

static void
test_s390_iommu_tv27_lazy_default(void **state)
{
	struct sfix *f = *state;
	unsigned lpar, zvm, ism0, ism1;

	sfix_start(f, 0, NULL); /* Kconfig lazy, no iommu.strict */
	lpar = sfix_add(f, 0, false, 0, 0);
	zvm = sfix_add(f, 0, true, 0, 0);
	ism0 = sfix_add(f, IOMMUSIM_PCI_FUNC_TYPE_ISM, false, 0, 0);
	ism1 = sfix_add(f, IOMMUSIM_PCI_FUNC_TYPE_ISM, true, 0, 0);
	expect_decision(f->dev[lpar], IOMMUSIM_DOMAIN_DMA_FQ, false, false, 256, 10);
	expect_decision(f->dev[zvm], IOMMUSIM_DOMAIN_DMA_FQ, false, true, 32768, 1000);
	/* ISM: DMA-FQ asked, no DEFERRED_FLUSH: strict */
	expect_decision(f->dev[ism0], IOMMUSIM_DOMAIN_DMA, true, false, 0, 0);
	expect_decision(f->dev[ism1], IOMMUSIM_DOMAIN_DMA, true, false, 0, 0);
}

static void
check_tv27_strict(const struct iommusim_iommu_policy *pol)
{
	struct sfix f0, *f = &f0;
	unsigned i;

	memset(f, 0, sizeof(*f));
	assert_int_equal(iommusim_zpci_canned_create(&f->script), 0);
	sfix_start(f, 0, pol);
	assert_true(iommusim_iommu_dma_strict(f->iommu));
	sfix_add(f, 0, false, 0, 0);
	sfix_add(f, 0, true, 0, 0);
	sfix_add(f, IOMMUSIM_PCI_FUNC_TYPE_ISM, false, 0, 0);
	sfix_add(f, IOMMUSIM_PCI_FUNC_TYPE_ISM, true, 0, 0);
	for (i = 0; i < f->n; i++)
		expect_decision(f->dev[i], IOMMUSIM_DOMAIN_DMA, false, false, 0, 0);
	for (i = 0; i < f->n; i++)
		iommusim_device_destroy(f->dev[i], NULL);
	iommusim_s390_iommu_destroy(f->s);
	for (i = 0; i < f->n; i++)
		iommusim_zpci_fn_destroy(f->fn[i]);
	iommusim_zpci_canned_destroy(f->script);
}

static void
test_s390_iommu_tv27_strict(void **state)
{
	const struct iommusim_iommu_policy strict1 = { .strict_set = true, .strict = true };
	const struct iommusim_iommu_policy s390_strict = { .s390_strict = true };

	(void)state;
	check_tv27_strict(&strict1);
	check_tv27_strict(&s390_strict);
}

/* ------------------------------------------------------------------------ */
/* Attach and detach (§3.3, §4.4) */

static void
test_s390_iommu_attach_registers_ioat(void **state)
{
	struct sfix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	struct iommusim_zpci_ioat ioat;
	uint64_t origin;
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, false, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	sfix_attach(f, i);
	origin = iommusim_zpci_table_origin(iommusim_s390_domain_table(f->dom));
	assert_int_not_equal(origin, 0);
	assert_int_equal(script_calls(f->script, false, c, MAXCALLS), 1);
	assert_int_equal(c[0].fc, IOMMUSIM_ZPCI_MOD_FC_REG_IOAT);
	assert_true(c[0].ioat.registered);
	assert_int_equal(c[0].ioat.pba, SZ_4G);
	assert_int_equal(c[0].ioat.pal, 20 * SZ_1G - 1);
	assert_int_equal(c[0].ioat.iota, origin | 0x804);
	assert_int_equal(iommusim_zpci_fn_ioat(f->fn[i], &ioat), 0);
	assert_true(ioat.registered);
	assert_int_equal(ioat.pba, SZ_4G);
	assert_int_equal(ioat.pal, 20 * SZ_1G - 1);
	assert_int_equal(ioat.iota, origin | IOMMUSIM_ZPCI_IOTA_RTTO_FLAG);
	assert_int_equal(nrpcits(f), 0);
}

static void
test_s390_iommu_attach_ism_pal(void **state)
{
	struct sfix *f = *state;
	struct iommusim_zpci_ioat ioat;
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, IOMMUSIM_PCI_FUNC_TYPE_ISM, false, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	sfix_attach(f, i);
	assert_int_equal(iommusim_zpci_fn_ioat(f->fn[i], &ioat), 0);
	assert_int_equal(ioat.pba, SZ_4G);
	/* §4.4: the ISM firmware work-around */
	assert_int_equal(ioat.pal, 20 * SZ_1G - 1 + SZ_4K);
}

static void
test_s390_iommu_attach_status_40_still_attaches(void **state)
{
	struct sfix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	struct iommusim_domain_info di;
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, false, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	assert_int_equal(iommusim_zpci_canned_push(f->script, false, IOMMUSIM_ZPCI_CC_ERR,
						   IOMMUSIM_ZPCI_ST_FUNC_NOT_AVAIL, 1),
			 0);
	sfix_attach(f, i);
	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	assert_int_equal(di.ndevices, 1);
	/* on the domain's device list: a flush reaches it */
	iommusim_iommu_flush_iotlb_all(f->dom, NULL);
	assert_int_equal(script_calls(f->script, true, c, MAXCALLS), 1);
	expect_rpcit(&c[0], fh_of(f->fn[i]), IOMMUSIM_RPCIT_GLOBAL_FLUSH, SZ_4G, SZ_16G);
}

static void
test_s390_iommu_attach_failure_eio(void **state)
{
	struct sfix *f = *state;
	static const struct {
		unsigned cc;
		uint8_t status;
	} answers[] = {
		{ IOMMUSIM_ZPCI_CC_ERR, IOMMUSIM_ZPCI_ST_FUNC_IN_ERR },
		{ IOMMUSIM_ZPCI_CC_ERR, IOMMUSIM_ZPCI_ST_INSUF_RES },
		{ IOMMUSIM_ZPCI_CC_INVAL_HANDLE, 0 },
	};
	struct iommusim_domain_info di;
	struct iommusim_device_info dev;
	unsigned i;
	size_t k;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, false, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	for (k = 0; k < sizeof(answers) / sizeof(answers[0]); k++) {
		assert_int_equal(iommusim_zpci_canned_push(f->script, false, answers[k].cc,
							   answers[k].status, 1),
				 0);
		assert_int_equal(iommusim_iommu_attach_device(f->dom, f->dev[i], NULL), -EIO);
		assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
		assert_int_equal(di.ndevices, 0);
		assert_int_equal(iommusim_device_info_get(f->dev[i], &dev), 0);
		assert_null(dev.domain);
	}
	iommusim_iommu_flush_iotlb_all(f->dom, NULL);
	assert_int_equal(nrpcits(f), 0);
	expect_ctrs(f->dom, 0, 0, 0, 0, 0);
}

static void
test_s390_iommu_attach_busy_retried(void **state)
{
	struct sfix *f = *state;
	struct rec_ctx rec = { 0 };
	const struct iommusim_ctx ctx = { &rec_ops, &rec, 1 };
	struct iommusim_zpci_canned_call c[MAXCALLS];
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, false, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	assert_int_equal(iommusim_zpci_canned_push(f->script, false, IOMMUSIM_ZPCI_CC_BUSY, 0, 3),
			 0);
	assert_int_equal(iommusim_iommu_attach_device(f->dom, f->dev[i], &ctx), 0);
	assert_int_equal(script_calls(f->script, false, c, MAXCALLS), 4);
	assert_int_equal(c[3].cc, 0);
	/* zpci_mod_fc(): msleep(1) between tries */
	assert_int_equal(rec.delays, 3);
	assert_int_equal(rec.delay_ns, 3 * UINT64_C(1000000));
}

static void
test_s390_iommu_reattach_deregisters_first(void **state)
{
	struct sfix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	struct iommusim_domain *dom2 = NULL;
	struct iommusim_domain_info d1, d2;
	struct iommusim_zpci_ioat ioat;
	uint64_t o1, o2;
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, false, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	assert_int_equal(iommusim_domain_alloc(f->dev[i], IOMMUSIM_DOMAIN_DMA, &dom2), 0);
	sfix_attach(f, i);
	assert_int_equal(iommusim_iommu_attach_device(dom2, f->dev[i], NULL), 0);
	o1 = iommusim_zpci_table_origin(iommusim_s390_domain_table(f->dom));
	o2 = iommusim_zpci_table_origin(iommusim_s390_domain_table(dom2));
	assert_int_not_equal(o1, o2);
	assert_int_equal(script_calls(f->script, false, c, MAXCALLS), 3);
	assert_int_equal(c[0].fc, IOMMUSIM_ZPCI_MOD_FC_REG_IOAT);
	assert_int_equal(c[0].ioat.iota, o1 | 0x804);
	assert_int_equal(c[1].fc, IOMMUSIM_ZPCI_MOD_FC_DEREG_IOAT);
	assert_int_equal(c[2].fc, IOMMUSIM_ZPCI_MOD_FC_REG_IOAT);
	assert_int_equal(c[2].ioat.iota, o2 | 0x804);
	assert_int_equal(iommusim_zpci_fn_ioat(f->fn[i], &ioat), 0);
	assert_int_equal(ioat.iota, o2 | 0x804);
	assert_int_equal(iommusim_domain_info_get(f->dom, &d1), 0);
	assert_int_equal(iommusim_domain_info_get(dom2, &d2), 0);
	assert_int_equal(d1.ndevices, 0);
	assert_int_equal(d2.ndevices, 1);
	/* only the new domain's flushes reach it */
	iommusim_iommu_flush_iotlb_all(f->dom, NULL);
	assert_int_equal(nrpcits(f), 0);
	iommusim_iommu_flush_iotlb_all(dom2, NULL);
	assert_int_equal(nrpcits(f), 1);
	expect_ctrs(f->dom, 0, 0, 0, 0, 0);
	expect_ctrs(dom2, 0, 0, 1, 0, 0);
	assert_int_equal(iommusim_iommu_detach_device(dom2, f->dev[i], NULL), 0);
	iommusim_domain_free(dom2);
}

/* A re-attach the new domain refuses puts the device back on the old one
 * (the kernel's group attach reverts on error). */
static void
test_s390_iommu_failed_reattach_reverts_to_old_domain(void **state)
{
	struct sfix *f = *state;
	struct iommusim_domain *dom2 = NULL;
	struct iommusim_device_info di;
	struct iommusim_domain_info d1, d2;
	struct iommusim_zpci_ioat ioat;
	uint64_t o1;
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, false, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	assert_int_equal(iommusim_domain_alloc(f->dev[i], IOMMUSIM_DOMAIN_DMA, &dom2), 0);
	sfix_attach(f, i);
	o1 = iommusim_zpci_table_origin(iommusim_s390_domain_table(f->dom));
	/* deregister from the old domain works, registering the new one fails */
	assert_int_equal(iommusim_zpci_canned_push(f->script, false, 0, 0, 1), 0);
	assert_int_equal(iommusim_zpci_canned_push(f->script, false, 1, 8, 1), 0);
	assert_int_equal(iommusim_iommu_attach_device(dom2, f->dev[i], NULL), -EIO);
	assert_int_equal(iommusim_device_info_get(f->dev[i], &di), 0);
	assert_ptr_equal(di.domain, f->dom);
	assert_int_equal(iommusim_domain_info_get(f->dom, &d1), 0);
	assert_int_equal(iommusim_domain_info_get(dom2, &d2), 0);
	assert_int_equal(d1.ndevices, 1);
	assert_int_equal(d2.ndevices, 0);
	/* the driver agrees: the old table is registered again and flushes reach it */
	assert_int_equal(iommusim_zpci_fn_ioat(f->fn[i], &ioat), 0);
	assert_true(ioat.registered);
	assert_int_equal(ioat.iota, o1 | 0x804);
	iommusim_iommu_flush_iotlb_all(f->dom, NULL);
	assert_int_equal(nrpcits(f), 1);
	iommusim_domain_free(dom2);
}

static void
test_s390_iommu_detach_deregisters(void **state)
{
	struct sfix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	struct iommusim_zpci_ioat ioat;
	unsigned a, b;

	sfix_start(f, SZ_16G, NULL);
	a = sfix_add(f, 0, false, 0, 0);
	b = sfix_add(f, 0, false, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	sfix_attach(f, a);
	sfix_attach(f, b);
	assert_int_equal(iommusim_iommu_detach_device(f->dom, f->dev[a], NULL), 0);
	assert_int_equal(script_calls(f->script, false, c, MAXCALLS), 3);
	assert_int_equal(c[2].fc, IOMMUSIM_ZPCI_MOD_FC_DEREG_IOAT);
	assert_int_equal(iommusim_zpci_fn_ioat(f->fn[a], &ioat), 0);
	assert_false(ioat.registered);
	iommusim_iommu_flush_iotlb_all(f->dom, NULL);
	assert_int_equal(script_calls(f->script, true, c, MAXCALLS), 1);
	assert_int_equal(c[0].rpcit.fh, fh_of(f->fn[b]));
	/* destroying an attached device deregisters too */
	iommusim_device_destroy(f->dev[b], NULL);
	f->dev[b] = NULL;
	assert_int_equal(script_calls(f->script, false, c, MAXCALLS), 4);
	assert_int_equal(c[3].fc, IOMMUSIM_ZPCI_MOD_FC_DEREG_IOAT);
	assert_int_equal(iommusim_zpci_fn_ioat(f->fn[b], &ioat), 0);
	assert_false(ioat.registered);
	iommusim_iommu_flush_iotlb_all(f->dom, NULL);
	assert_int_equal(nrpcits(f), 1);
}

/* ------------------------------------------------------------------------ */
/* map / unmap (§3.5, §4.3, TV-18) */

static void
test_s390_iommu_map_pte_tv18(void **state)
{
	struct sfix *f = *state;
	const uint64_t a = SZ_4G, b = SZ_4G + 2 * SZ_4K;
	struct iommusim_zpci_table *t;
	uint64_t rte = 0, ste = 0;
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, false, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	sfix_attach(f, i);
	t = iommusim_s390_domain_table(f->dom);

	assert_int_equal(iommusim_iommu_map(f->dom, a, 0x12345000, SZ_4K, RW, NULL), 0);
	assert_int_equal(pte_at(f->dom, a), 0x12345000);
	assert_int_equal(pte_at(f->dom, a + SZ_4K), 0x400); /* fresh */
	/* §4.3: RTE = sto | 0x7, STE = pto */
	assert_int_equal(iommusim_zpci_table_entry(t, a, 1, &rte), 0);
	assert_int_equal(iommusim_zpci_table_entry(t, a, 2, &ste), 0);
	assert_int_equal(rte & 0x3fff, 0x7);
	assert_int_equal(ste & 0x7ff, 0);
	/* the frame only, no in-page offset */
	assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, a + 0x123), 0x12345000);

	/* read-only (TO_DEVICE) */
	assert_int_equal(iommusim_iommu_map(f->dom, b, 0x12345000, SZ_4K, IOMMUSIM_PROT_READ, NULL),
			 0);
	assert_int_equal(pte_at(f->dom, b), 0x12345200);
	/* unmapped: address kept, protection cleared */
	assert_int_equal(iommusim_iommu_unmap(f->dom, b, SZ_4K, NULL, NULL), 0);
	assert_int_equal(pte_at(f->dom, b), 0x12345400);
	assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, b), 0);
	/* remapped writable */
	assert_int_equal(iommusim_iommu_map(f->dom, b, 0xabcde000, SZ_4K, RW, NULL), 0);
	assert_int_equal(pte_at(f->dom, b), 0xabcde000);

	/* v6.7 takes prot without READ: WRITE alone is writable, 0 is read-only */
	assert_int_equal(
		iommusim_iommu_map(f->dom, a + 4 * SZ_4K, 0x5000, SZ_4K, IOMMUSIM_PROT_WRITE, NULL),
		0);
	assert_int_equal(pte_at(f->dom, a + 4 * SZ_4K), 0x5000);
	assert_int_equal(iommusim_iommu_map(f->dom, a + 5 * SZ_4K, 0x6000, SZ_4K, 0, NULL), 0);
	assert_int_equal(pte_at(f->dom, a + 5 * SZ_4K), 0x6200);
	/* IOVAs outside the device window but inside the aperture are fine */
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4K, 0x7000, SZ_4K, RW, NULL), 0);
	assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, SZ_4K), 0x7000);
}

static void
test_s390_iommu_map_counters(void **state)
{
	struct sfix *f = *state;
	uint64_t unmapped = 0;
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, false, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA_FQ);
	sfix_attach(f, i);
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4G, 0x100000, 3 * SZ_4K, RW, NULL), 0);
	/* across a page-table and a segment-table boundary */
	assert_int_equal(
		iommusim_iommu_map(f->dom, 3 * SZ_2G - 2 * SZ_4K, 0x200000, 5 * SZ_4K, RW, NULL),
		0);
	expect_ctrs(f->dom, 8, 0, 0, 0, 0);
	assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, 3 * SZ_2G + 2 * SZ_4K), 0x204000);
	assert_int_equal(iommusim_iommu_unmap(f->dom, SZ_4G, 3 * SZ_4K, NULL, &unmapped), 0);
	assert_int_equal(unmapped, 3 * SZ_4K);
	expect_ctrs(f->dom, 8, 3, 0, 0, 1);
	assert_int_equal(evs(f->dom).map_failures, 0);
}

static void
test_s390_iommu_map_outside_aperture_einval(void **state)
{
	struct sfix *f = *state;
	uint64_t unmapped = 1;
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, true, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	sfix_attach(f, i);
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4T - SZ_4K, 0x1000, 2 * SZ_4K, RW, NULL),
			 -EINVAL);
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4T, 0x1000, SZ_4K, RW, NULL), -EINVAL);
	assert_int_equal(
		iommusim_iommu_map(f->dom, UINT64_MAX - SZ_4K + 1, 0x1000, SZ_4K, RW, NULL),
		-EINVAL);
	/* misaligned */
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4G + 0x800, 0x1000, SZ_4K, RW, NULL),
			 -EINVAL);
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4G, 0x1800, SZ_4K, RW, NULL), -EINVAL);
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4G, 0x1000, 0x1800, RW, NULL), -EINVAL);
	/* the last page below 4 TiB is fine */
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4T - SZ_4K, 0x1000, SZ_4K, RW, NULL), 0);
	expect_ctrs(f->dom, 1, 0, 0, 1, 0);
	assert_int_equal(nrpcits(f), 1);
	/* unmap outside the aperture: nothing unmapped, nothing flushed */
	assert_int_equal(iommusim_iommu_unmap(f->dom, SZ_4T, SZ_4K, NULL, &unmapped), 0);
	assert_int_equal(unmapped, 0);
	assert_int_equal(nrpcits(f), 1);
	expect_ctrs(f->dom, 1, 0, 0, 1, 0);
}

/* Map 4 pages at @iova with allocation @nth failing; the undo is checked. */
static void
check_map_enomem(struct sfix *f, uint64_t iova, uint64_t nth, uint64_t seg_tables,
		 uint64_t page_tables)
{
	struct iommusim_zpci_table *t = iommusim_s390_domain_table(f->dom);
	struct iommusim_zpci_table_stats st;
	uint64_t injected = ims_mem_injected_failures(), k, e;

	ims_mem_fault_inject(nth, 1);
	assert_int_equal(iommusim_iommu_map(f->dom, iova, 0x10000000, 4 * SZ_4K, RW, NULL),
			 -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_int_equal(ims_mem_injected_failures(), injected + 1);
	/* the two pages written before the failure are invalid again (address kept) */
	for (k = 0; k < 2; k++) {
		assert_int_equal(pte_at(f->dom, iova + k * SZ_4K), 0x10000400 + k * SZ_4K);
		assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, iova + k * SZ_4K), 0);
	}
	/* the other two never got a page table */
	for (k = 2; k < 4; k++) {
		assert_int_equal(iommusim_zpci_table_entry(t, iova + k * SZ_4K, 3, &e), -ENOENT);
		assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, iova + k * SZ_4K), 0);
	}
	assert_int_equal(iommusim_zpci_table_stats_get(t, &st), 0);
	assert_int_equal(st.segment_tables, seg_tables);
	assert_int_equal(st.page_tables, page_tables);
	assert_int_equal(st.warn_invalid_twice, 0);
	assert_int_equal(st.warn_valid_twice, 0);
	assert_int_equal(evs(f->dom).map_failures, 1);
	/* map_pages failed as a whole: the core had nothing to undo, so no
	 * iotlb_sync RPCIT, and no sync_map either */
	expect_ctrs(f->dom, 0, 0, 0, 0, 0);
	assert_int_equal(nrpcits(f), 0);
	/* tables allocated on the way stay; the map now succeeds */
	assert_int_equal(iommusim_iommu_map(f->dom, iova, 0x10000000, 4 * SZ_4K, RW, NULL), 0);
	for (k = 0; k < 4; k++)
		assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, iova + k * SZ_4K),
				 0x10000000 + k * SZ_4K);
	assert_int_equal(iommusim_zpci_table_stats_get(t, &st), 0);
	assert_int_equal(st.warn_valid_twice, 0);
	expect_ctrs(f->dom, 4, 0, 0, 1, 0);
}

static void
test_s390_iommu_map_enomem_segment_table_level(void **state)
{
	struct sfix *f = *state;
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, true, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	sfix_attach(f, i);
	iommusim_zpci_canned_reset(f->script);
	/* two pages below a 2 GiB boundary (rtx 2), two above (rtx 3): allocations
	 * 1 segment table, 2 page table, 3 the segment table of rtx 3 (fails) */
	check_map_enomem(f, 3 * SZ_2G - 2 * SZ_4K, 3, 1, 1);
}

static void
test_s390_iommu_map_enomem_page_table_level(void **state)
{
	struct sfix *f = *state;
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, true, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	sfix_attach(f, i);
	iommusim_zpci_canned_reset(f->script);
	/* two pages below a 1 MiB boundary, two above: allocations 1 segment
	 * table, 2 page table, 3 the next page table (fails) */
	check_map_enomem(f, SZ_4G + SZ_1M - 2 * SZ_4K, 3, 1, 1);
}

static void
test_s390_iommu_map_sg_enomem_undo_syncs_mapped_chunk(void **state)
{
	struct sfix *f = *state;
	const uint64_t iova = SZ_4G + SZ_1M - 2 * SZ_4K;
	const struct iommusim_sg_entry sg[] = {
		{ 0x10000000, 2 * SZ_4K }, /* below the 1 MiB boundary */
		{ 0x20000000, 2 * SZ_4K }, /* above: needs a new page table */
	};
	struct iommusim_zpci_canned_call c[MAXCALLS];
	uint64_t mapped = 0;
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, true, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	sfix_attach(f, i);
	iommusim_zpci_canned_reset(f->script);
	ims_mem_fault_inject(3, 1);
	assert_int_equal(iommusim_iommu_map_sg(f->dom, iova, sg, 2, RW, NULL, &mapped), -ENOMEM);
	ims_mem_fault_inject(0, 0);
	/* the first chunk was mapped, so the core's unmap syncs exactly it */
	assert_int_equal(script_calls(f->script, true, c, MAXCALLS), 1);
	expect_rpcit(&c[0], fh_of(f->fn[i]), IOMMUSIM_RPCIT_SYNC, iova, 2 * SZ_4K);
	assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, iova), 0);
	assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, iova + SZ_4K), 0);
	expect_ctrs(f->dom, 2, 2, 0, 0, 1);
	assert_int_equal(evs(f->dom).map_failures, 1);
}

static void
test_s390_iommu_unmap_walk_enomem(void **state)
{
	struct sfix *f = *state;
	uint64_t unmapped = 1;
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, false, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	sfix_attach(f, i);
	/* §3.4: the unmap walk allocates too; when that fails nothing is gathered */
	ims_mem_fault_inject(1, 1);
	assert_int_equal(iommusim_iommu_unmap(f->dom, SZ_4G, SZ_4K, NULL, &unmapped), 0);
	ims_mem_fault_inject(0, 0);
	assert_int_equal(unmapped, 0);
	assert_int_equal(nrpcits(f), 0);
	expect_ctrs(f->dom, 0, 0, 0, 0, 0);
	assert_int_equal(evs(f->dom).unmap_failures, 1);
}

/* ------------------------------------------------------------------------ */
/* iotlb_sync_map (§3.6, §5.1, TV-21, TV-22) */

static void
test_s390_iommu_sync_map_tv22_no_refresh(void **state)
{
	struct sfix *f = *state;
	struct iommusim_zpci_fn_stats st;
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, false, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA_FQ);
	sfix_attach(f, i);
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4G, 0x1000, 2 * SZ_4K, RW, NULL), 0);
	assert_int_equal(nrpcits(f), 0);
	assert_int_equal(iommusim_zpci_fn_stats_get(f->fn[i], &st), 0);
	assert_int_equal(st.rpcits, 0);
	expect_ctrs(f->dom, 2, 0, 0, 0, 0);
	assert_int_equal(evs(f->dom).sync_map_errors, 0);
}

static void
test_s390_iommu_sync_map_ranged_rpcit_per_map(void **state)
{
	struct sfix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	struct rec_ctx rec = { 0 };
	const struct iommusim_ctx ctx = { &rec_ops, &rec, 5 };
	uint32_t fh;
	unsigned i;

	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, true, 0, 0);
	fh = fh_of(f->fn[i]);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA_FQ);
	sfix_attach(f, i);
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4G, 0x1000, 2 * SZ_4K, RW, NULL), 0);
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4G + SZ_1M, 0x9000, 5 * SZ_4K, RW, &ctx), 0);
	assert_int_equal(script_calls(f->script, true, c, MAXCALLS), 2);
	expect_rpcit(&c[0], fh, IOMMUSIM_RPCIT_SYNC_MAP, SZ_4G, 2 * SZ_4K);
	assert_int_equal(c[0].rpcit.map_iova, SZ_4G);
	assert_int_equal(c[0].rpcit.map_len, 2 * SZ_4K);
	expect_rpcit(&c[1], fh, IOMMUSIM_RPCIT_SYNC_MAP, SZ_4G + SZ_1M, 5 * SZ_4K);
	assert_int_equal(c[1].rpcit.map_iova, SZ_4G + SZ_1M);
	assert_int_equal(c[1].rpcit.map_len, 5 * SZ_4K);
	assert_int_equal(c[1].rpcit.cpu, 5);
	assert_int_equal(c[1].rpcit.time_ns, 777000);
	expect_ctrs(f->dom, 7, 0, 0, 2, 0);
}

/* One RPCIT outcome sequence through sync_map (TV-21). */
struct tv21_row {
	const char *what;
	struct {
		unsigned cc;
		uint8_t status;
		unsigned count;
	} ans[3];
	int ret; /* of iommu_map */
	unsigned busy; /* busy answers before the first outcome */
	bool recovery; /* an -ENOMEM led to the global refresh */
};

#define CC_OK IOMMUSIM_ZPCI_CC_OK
#define CC_ERR IOMMUSIM_ZPCI_CC_ERR
#define CC_BUSY IOMMUSIM_ZPCI_CC_BUSY
#define CC_INVAL IOMMUSIM_ZPCI_CC_INVAL_HANDLE

static const struct tv21_row tv21_rows[] = {
	{ "cc0", { { CC_OK, 0, 1 } }, 0, 0, false },
	{ "cc1/16, recovery ok", { { CC_ERR, 16, 1 } }, 0, 0, true },
	{ "cc1/4, recovery ok", { { CC_ERR, 4, 1 } }, 0, 0, true },
	{ "cc1/16, recovery cc3", { { CC_ERR, 16, 1 }, { CC_INVAL, 0, 1 } }, -EIO, 0, true },
	{ "cc1/16, recovery cc1/8", { { CC_ERR, 16, 1 }, { CC_ERR, 8, 1 } }, -EIO, 0, true },
	{ "cc1/16, recovery cc1/16", { { CC_ERR, 16, 2 } }, -ENOMEM, 0, true },
	{ "cc1/4, recovery cc1/4", { { CC_ERR, 4, 2 } }, -ENOMEM, 0, true },
	{ "cc1/8", { { CC_ERR, 8, 1 } }, -EIO, 0, false },
	{ "cc1/12", { { CC_ERR, 12, 1 } }, -EIO, 0, false },
	{ "cc3", { { CC_INVAL, 0, 1 } }, -EIO, 0, false },
	{ "cc2 x5, cc0", { { CC_BUSY, 0, 5 }, { CC_OK, 0, 1 } }, 0, 5, false },
	{ "cc2 x3, cc1/16, ok", { { CC_BUSY, 0, 3 }, { CC_ERR, 16, 1 } }, 0, 3, true },
	{ "cc2 x2, cc3", { { CC_BUSY, 0, 2 }, { CC_INVAL, 0, 1 } }, -EIO, 2, false },
};

static void
check_tv21_row(size_t r, const struct tv21_row *row)
{
	const uint64_t iova = 6 * SZ_1G, size = 3 * SZ_4K, paddr = 0x44440000;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	struct iommusim_zpci_fn_stats st;
	struct iommusim_s390_events ev;
	struct rec_ctx rec = { 0 };
	const struct iommusim_ctx ctx = { &rec_ops, &rec, 2 };
	struct sfix f0, *f = &f0;
	bool undone = row->ret != 0;
	size_t n, k, j = 0;
	uint32_t fh;
	unsigned i;

	print_message("# TV-21 row %zu: %s\n", r, row->what);
	memset(f, 0, sizeof(*f));
	assert_int_equal(iommusim_zpci_canned_create(&f->script), 0);
	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, 0, true, 0, 0);
	fh = fh_of(f->fn[i]);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	sfix_attach(f, i);
	for (k = 0; k < 3 && row->ans[k].count; k++)
		assert_int_equal(iommusim_zpci_canned_push(f->script, true, row->ans[k].cc,
							   row->ans[k].status, row->ans[k].count),
				 0);

	assert_int_equal(iommusim_iommu_map(f->dom, iova, paddr, size, RW, &ctx), row->ret);

	/* the sync_map RPCIT (each busy answer is one more execution) */
	n = script_calls(f->script, true, c, MAXCALLS);
	assert_int_equal(n, row->busy + 1 + row->recovery + undone);
	for (k = 0; k <= row->busy; k++, j++) {
		expect_rpcit(&c[j], fh, IOMMUSIM_RPCIT_SYNC_MAP, iova, size);
		assert_int_equal(c[j].rpcit.map_iova, iova);
		assert_int_equal(c[j].rpcit.map_len, size);
		if (k < row->busy)
			assert_int_equal(c[j].cc, CC_BUSY);
		else
			assert_int_not_equal(c[j].cc, CC_BUSY);
	}
	/* -ENOMEM: one global refresh of the whole window, no ranged re-issue */
	if (row->recovery) {
		expect_rpcit(&c[j], fh, IOMMUSIM_RPCIT_ENOMEM_RECOVERY, SZ_4G, SZ_16G);
		assert_int_equal(c[j].rpcit.map_iova, iova);
		assert_int_equal(c[j].rpcit.map_len, size);
		j++;
	}
	/* an error: the core unmapped the range, with the iotlb_sync RPCIT of it */
	if (undone) {
		expect_rpcit(&c[j], fh, IOMMUSIM_RPCIT_SYNC, iova, size);
		j++;
		for (k = 0; k < size; k += SZ_4K) {
			assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, iova + k), 0);
			assert_int_equal(pte_at(f->dom, iova + k), (paddr + k) | 0x400);
		}
	} else {
		for (k = 0; k < size; k += SZ_4K)
			assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, iova + k), paddr + k);
	}
	/* §3.1: the recovery RPCIT is not counted in the five counters */
	expect_ctrs(f->dom, 3, undone ? 3 : 0, 0, 1, undone);
	ev = evs(f->dom);
	assert_int_equal(ev.enomem_recoveries, row->recovery);
	assert_int_equal(ev.enomem_recovery_failures, row->recovery && row->ret);
	assert_int_equal(ev.sync_map_errors, row->ret != 0);
	assert_int_equal(ev.map_failures, 0);
	/* busy: retried after 1 µs each */
	assert_int_equal(iommusim_zpci_fn_stats_get(f->fn[i], &st), 0);
	assert_int_equal(st.busy_retries, row->busy);
	assert_int_equal(st.rpcits, 1 + row->recovery + undone);
	assert_int_equal(rec.delay_ns, row->busy * UINT64_C(1000));
	assert_int_equal(st.by_reason[IOMMUSIM_RPCIT_ENOMEM_RECOVERY], row->recovery);

	iommusim_device_destroy(f->dev[i], NULL);
	iommusim_domain_free(f->dom);
	iommusim_s390_iommu_destroy(f->s);
	iommusim_zpci_fn_destroy(f->fn[i]);
	iommusim_zpci_canned_destroy(f->script);
}

static void
test_s390_iommu_sync_map_tv21_outcomes(void **state)
{
	size_t r;

	(void)state;
	for (r = 0; r < sizeof(tv21_rows) / sizeof(tv21_rows[0]); r++)
		check_tv21_row(r, &tv21_rows[r]);
}

/* Two tlb_refresh devices attached to one DMA domain, the script log cleared. */
static void
two_refresh_devices(struct sfix *f)
{
	sfix_start(f, SZ_16G, NULL);
	sfix_add(f, 0, true, 0, 0);
	sfix_add(f, 0, true, 8 * SZ_1G, 12 * SZ_1G - 1);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	sfix_attach(f, 0);
	sfix_attach(f, 1);
	iommusim_zpci_canned_reset(f->script);
}

static void
test_s390_iommu_sync_map_recovery_failure_breaks(void **state)
{
	struct sfix *f = *state;
	const uint64_t iova = 9 * SZ_1G, size = 2 * SZ_4K;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	uint64_t start, end;
	uint32_t first, other;

	two_refresh_devices(f);
	/* whichever device comes first: -ENOMEM, then its recovery fails */
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, CC_ERR, 16, 1), 0);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, CC_INVAL, 0, 1), 0);
	assert_int_equal(iommusim_iommu_map(f->dom, iova, 0x1000, size, RW, NULL), -EIO);
	assert_int_equal(script_calls(f->script, true, c, MAXCALLS), 4);
	first = c[0].rpcit.fh;
	other = first == fh_of(f->fn[0]) ? fh_of(f->fn[1]) : fh_of(f->fn[0]);
	window_of(first == fh_of(f->fn[0]) ? f->fn[0] : f->fn[1], &start, &end);
	expect_rpcit(&c[0], first, IOMMUSIM_RPCIT_SYNC_MAP, iova, size);
	expect_rpcit(&c[1], first, IOMMUSIM_RPCIT_ENOMEM_RECOVERY, start, end - start + 1);
	/* the loop broke: the other device got no sync_map RPCIT; then the
	 * core's unmap syncs the range on both */
	assert_int_equal(c[2].rpcit.reason, IOMMUSIM_RPCIT_SYNC);
	assert_int_equal(c[3].rpcit.reason, IOMMUSIM_RPCIT_SYNC);
	assert_int_not_equal(c[2].rpcit.fh, c[3].rpcit.fh);
	expect_rpcit(c[2].rpcit.fh == other ? &c[2] : &c[3], other, IOMMUSIM_RPCIT_SYNC, iova,
		     size);
	expect_ctrs(f->dom, 2, 2, 0, 1, 2);
	assert_int_equal(evs(f->dom).enomem_recovery_failures, 1);
	assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, iova), 0);

	/* the same with the recovery answering -ENOMEM again */
	iommusim_zpci_canned_reset(f->script);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, CC_ERR, 4, 2), 0);
	assert_int_equal(iommusim_iommu_map(f->dom, iova, 0x1000, size, RW, NULL), -ENOMEM);
	assert_int_equal(script_calls(f->script, true, c, MAXCALLS), 4);
	assert_int_equal(c[0].rpcit.reason, IOMMUSIM_RPCIT_SYNC_MAP);
	assert_int_equal(c[1].rpcit.reason, IOMMUSIM_RPCIT_ENOMEM_RECOVERY);
	assert_int_equal(c[1].rpcit.fh, c[0].rpcit.fh);
	assert_int_equal(c[2].rpcit.reason, IOMMUSIM_RPCIT_SYNC);
	assert_int_equal(c[3].rpcit.reason, IOMMUSIM_RPCIT_SYNC);
	expect_ctrs(f->dom, 4, 4, 0, 2, 4);
}

static void
test_s390_iommu_sync_map_recovery_success_continues(void **state)
{
	struct sfix *f = *state;
	const uint64_t iova = 9 * SZ_1G, size = SZ_4K;
	struct iommusim_zpci_canned_call c[MAXCALLS];

	two_refresh_devices(f);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, CC_ERR, 16, 1), 0);
	assert_int_equal(iommusim_iommu_map(f->dom, iova, 0x1000, size, RW, NULL), 0);
	assert_int_equal(script_calls(f->script, true, c, MAXCALLS), 3);
	assert_int_equal(c[0].rpcit.reason, IOMMUSIM_RPCIT_SYNC_MAP);
	assert_int_equal(c[1].rpcit.reason, IOMMUSIM_RPCIT_ENOMEM_RECOVERY);
	assert_int_equal(c[1].rpcit.fh, c[0].rpcit.fh);
	assert_int_equal(c[2].rpcit.reason, IOMMUSIM_RPCIT_SYNC_MAP);
	assert_int_not_equal(c[2].rpcit.fh, c[0].rpcit.fh);
	expect_ctrs(f->dom, 1, 0, 0, 2, 0);
	assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, iova), 0x1000);
}

static void
test_s390_iommu_sync_map_error_overwritten_by_next_device(void **state)
{
	struct sfix *f = *state;
	const uint64_t iova = 9 * SZ_1G, size = SZ_4K;
	struct iommusim_zpci_canned_call c[MAXCALLS];

	two_refresh_devices(f);
	/* device 1: -EIO, does not stop the loop; device 2's 0 is returned */
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, CC_INVAL, 0, 1), 0);
	assert_int_equal(iommusim_iommu_map(f->dom, iova, 0x1000, size, RW, NULL), 0);
	assert_int_equal(script_calls(f->script, true, c, MAXCALLS), 2);
	assert_int_equal(c[0].rpcit.reason, IOMMUSIM_RPCIT_SYNC_MAP);
	assert_int_equal(c[1].rpcit.reason, IOMMUSIM_RPCIT_SYNC_MAP);
	assert_int_not_equal(c[0].rpcit.fh, c[1].rpcit.fh);
	assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, iova), 0x1000);
	expect_ctrs(f->dom, 1, 0, 0, 2, 0);
	assert_int_equal(evs(f->dom).sync_map_errors, 0);

	/* and the other way round: the last device's -EIO is the result */
	iommusim_zpci_canned_reset(f->script);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, CC_OK, 0, 1), 0);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, CC_ERR, 8, 1), 0);
	assert_int_equal(iommusim_iommu_map(f->dom, iova + SZ_4K, 0x2000, size, RW, NULL), -EIO);
	assert_int_equal(script_calls(f->script, true, c, MAXCALLS), 4);
	assert_int_equal(c[2].rpcit.reason, IOMMUSIM_RPCIT_SYNC);
	assert_int_equal(c[3].rpcit.reason, IOMMUSIM_RPCIT_SYNC);
	assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, iova + SZ_4K), 0);
	assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, iova), 0x1000);
	expect_ctrs(f->dom, 2, 1, 0, 4, 2);
	assert_int_equal(evs(f->dom).sync_map_errors, 1);
}

static void
test_s390_iommu_sync_map_skips_devices_without_refresh(void **state)
{
	struct sfix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	struct iommusim_zpci_fn_stats st;
	unsigned i, k;

	sfix_start(f, SZ_16G, NULL);
	sfix_add(f, 0, true, 0, 0);
	sfix_add(f, 0, false, 0, 0);
	sfix_add(f, 0, true, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	for (i = 0; i < 3; i++)
		sfix_attach(f, i);
	iommusim_zpci_canned_reset(f->script);
	for (k = 0; k < 3; k++)
		assert_int_equal(
			iommusim_iommu_map(f->dom, SZ_4G + k * SZ_1M, 0x1000, SZ_4K, RW, NULL), 0);
	/* sync_map_rpcits counts per device with tlb_refresh */
	expect_ctrs(f->dom, 3, 0, 0, 6, 0);
	assert_int_equal(script_calls(f->script, true, c, MAXCALLS), 6);
	for (k = 0; k < 6; k++) {
		assert_int_equal(c[k].rpcit.reason, IOMMUSIM_RPCIT_SYNC_MAP);
		assert_int_not_equal(c[k].rpcit.fh, fh_of(f->fn[1]));
	}
	assert_int_equal(iommusim_zpci_fn_stats_get(f->fn[1], &st), 0);
	assert_int_equal(st.rpcits, 0);
	assert_int_equal(iommusim_zpci_fn_stats_get(f->fn[0], &st), 0);
	assert_int_equal(st.by_reason[IOMMUSIM_RPCIT_SYNC_MAP], 3);
}

/* ------------------------------------------------------------------------ */
/* iotlb_sync and flush_iotlb_all (§3.6) */

static void
test_s390_iommu_strict_unmap_ranged_rpcit_per_device(void **state)
{
	struct sfix *f = *state;
	const uint64_t iova = 5 * SZ_1G;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	uint64_t unmapped = 0;

	sfix_start(f, SZ_16G, NULL);
	sfix_add(f, 0, false, 0, 0);
	sfix_add(f, 0, false, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	sfix_attach(f, 0);
	sfix_attach(f, 1);
	assert_int_equal(iommusim_iommu_map(f->dom, iova, 0x100000, 4 * SZ_4K, RW, NULL), 0);
	iommusim_zpci_canned_reset(f->script);
	assert_int_equal(iommusim_iommu_unmap(f->dom, iova + SZ_4K, 2 * SZ_4K, NULL, &unmapped), 0);
	assert_int_equal(unmapped, 2 * SZ_4K);
	assert_int_equal(script_calls(f->script, true, c, MAXCALLS), 2);
	assert_int_not_equal(c[0].rpcit.fh, c[1].rpcit.fh);
	expect_rpcit(&c[0], c[0].rpcit.fh, IOMMUSIM_RPCIT_SYNC, iova + SZ_4K, 2 * SZ_4K);
	expect_rpcit(&c[1], c[1].rpcit.fh, IOMMUSIM_RPCIT_SYNC, iova + SZ_4K, 2 * SZ_4K);
	expect_ctrs(f->dom, 4, 2, 0, 0, 2);
	/* the neighbours stay */
	assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, iova), 0x100000);
	assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, iova + 3 * SZ_4K), 0x103000);
	assert_int_equal(iommusim_iommu_iova_to_phys(f->dom, iova + SZ_4K), 0);
}

static void
test_s390_iommu_iotlb_sync_empty_gather_no_rpcit(void **state)
{
	struct sfix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	struct iommusim_iotlb_gather g;
	uint64_t unmapped = 0;

	sfix_start(f, SZ_16G, NULL);
	sfix_add(f, 0, true, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA_FQ);
	sfix_attach(f, 0);
	iommusim_iotlb_gather_init(&g);
	iommusim_iommu_iotlb_sync(f->dom, &g, NULL);
	assert_int_equal(nrpcits(f), 0);
	expect_ctrs(f->dom, 0, 0, 0, 0, 0);
	/* lazy: unmap_fast flushes nothing; the gather's later sync does */
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4G, 0x1000, 2 * SZ_4K, RW, NULL), 0);
	iommusim_zpci_canned_reset(f->script);
	g.queued = true;
	assert_int_equal(iommusim_iommu_unmap_fast(f->dom, SZ_4G, 2 * SZ_4K, &g, NULL, &unmapped),
			 0);
	assert_int_equal(unmapped, 2 * SZ_4K);
	assert_int_equal(g.start, SZ_4G);
	assert_int_equal(g.last, SZ_4G + 2 * SZ_4K - 1);
	assert_int_equal(nrpcits(f), 0);
	iommusim_iommu_iotlb_sync(f->dom, &g, NULL);
	assert_int_equal(script_calls(f->script, true, c, MAXCALLS), 1);
	expect_rpcit(&c[0], fh_of(f->fn[0]), IOMMUSIM_RPCIT_SYNC, SZ_4G, 2 * SZ_4K);
	expect_ctrs(f->dom, 2, 2, 0, 1, 1);
}

static void
test_s390_iommu_flush_iotlb_all_global_per_device(void **state)
{
	struct sfix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	uint64_t s0, e0, s1, e1;
	size_t k;

	sfix_start(f, SZ_16G, NULL);
	sfix_add(f, 0, false, 0, 0);
	sfix_add(f, 0, true, 8 * SZ_1G, 10 * SZ_1G - 1);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA_FQ);
	/* nobody attached: nothing to refresh */
	iommusim_iommu_flush_iotlb_all(f->dom, NULL);
	assert_int_equal(nrpcits(f), 0);
	expect_ctrs(f->dom, 0, 0, 0, 0, 0);
	sfix_attach(f, 0);
	sfix_attach(f, 1);
	window_of(f->fn[0], &s0, &e0);
	window_of(f->fn[1], &s1, &e1);
	iommusim_iommu_flush_iotlb_all(f->dom, NULL);
	assert_int_equal(script_calls(f->script, true, c, MAXCALLS), 2);
	for (k = 0; k < 2; k++) {
		if (c[k].rpcit.fh == fh_of(f->fn[0]))
			expect_rpcit(&c[k], fh_of(f->fn[0]), IOMMUSIM_RPCIT_GLOBAL_FLUSH, s0,
				     e0 - s0 + 1);
		else
			expect_rpcit(&c[k], fh_of(f->fn[1]), IOMMUSIM_RPCIT_GLOBAL_FLUSH, s1,
				     e1 - s1 + 1);
	}
	assert_int_not_equal(c[0].rpcit.fh, c[1].rpcit.fh);
	assert_int_equal(s1, 8 * SZ_1G);
	assert_int_equal(e1, 10 * SZ_1G - 1);
	/* the result is ignored: an error changes nothing */
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, CC_INVAL, 0, 2), 0);
	iommusim_iommu_flush_iotlb_all(f->dom, NULL);
	assert_int_equal(nrpcits(f), 4);
	expect_ctrs(f->dom, 0, 0, 4, 0, 0);
}

/* ------------------------------------------------------------------------ */
/* Counters (§3.1) */

static char *
print_to_string(const struct iommusim_s390_counters *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mf = open_memstream(&buf, &len);

	assert_non_null(mf);
	assert_int_equal(iommusim_s390_counters_print(mf, c), 0);
	assert_int_equal(fclose(mf), 0);
	return buf;
}

static void
test_s390_iommu_counters_print_exact(void **state)
{
	struct sfix *f = *state;
	const struct iommusim_s390_counters c = { .mapped_pages = 1,
						  .unmapped_pages = 22,
						  .global_rpcits = 333,
						  .sync_map_rpcits = 4444,
						  .sync_rpcits = UINT64_MAX };
	struct iommusim_s390_counters got;
	FILE *ro;
	char *s;

	s = print_to_string(&c);
	assert_string_equal(s, "              Mapped pages:\t1\n"
			       "            Unmapped pages:\t22\n"
			       "             Global RPCITs:\t333\n"
			       "           Sync Map RPCITs:\t4444\n"
			       "               Sync RPCITs:\t18446744073709551615\n");
	free(s);
	assert_int_equal(iommusim_s390_counters_print(NULL, &c), -EINVAL);
	assert_int_equal(iommusim_s390_counters_print(stdout, NULL), -EINVAL);
	ro = fopen("/dev/null", "r");
	assert_non_null(ro);
	assert_int_equal(iommusim_s390_counters_print(ro, &c), -EIO);
	fclose(ro);

	/* a live domain's counters, printed, then reset */
	sfix_start(f, SZ_16G, NULL);
	sfix_add(f, 0, true, 0, 0);
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	sfix_attach(f, 0);
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4G, 0x1000, 3 * SZ_4K, RW, NULL), 0);
	assert_int_equal(iommusim_iommu_unmap(f->dom, SZ_4G, SZ_4K, NULL, NULL), 0);
	iommusim_iommu_flush_iotlb_all(f->dom, NULL);
	got = ctrs(f->dom);
	s = print_to_string(&got);
	assert_string_equal(s, "              Mapped pages:\t3\n"
			       "            Unmapped pages:\t1\n"
			       "             Global RPCITs:\t1\n"
			       "           Sync Map RPCITs:\t1\n"
			       "               Sync RPCITs:\t1\n");
	free(s);
	assert_int_equal(iommusim_s390_domain_counters_reset(f->dom), 0);
	expect_ctrs(f->dom, 0, 0, 0, 0, 0);
	assert_int_equal(iommusim_s390_domain_counters_reset(NULL), -EINVAL);
	assert_int_equal(iommusim_s390_domain_counters(NULL, &got, NULL), -EINVAL);
	assert_int_equal(iommusim_s390_domain_counters(f->dom, NULL, NULL), -EINVAL);
	/* counting goes on from zero */
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4G, 0x1000, SZ_4K, RW, NULL), 0);
	expect_ctrs(f->dom, 1, 0, 0, 1, 0);
}

/* ------------------------------------------------------------------------ */
/* ISM end to end (§8) */

static void
ism_map_dmb(struct sfix *f, struct iommusim_ism *ism, uint64_t iova, uint64_t len, uint64_t *tok)
{
	assert_int_equal(
		iommusim_iommu_map(f->dom, iova, 0x40000000 + (iova & 0xffffff), len, RW, NULL), 0);
	assert_int_equal(iommusim_ism_dmb_register(ism, iova, len, tok), 0);
}

static void
test_s390_iommu_ism_end_to_end(void **state)
{
	struct sfix *f = *state;
	const uint64_t dmb1 = SZ_4G + SZ_1M, dmb2 = SZ_4G + 2 * SZ_1M;
	const uint64_t len1 = 16 * SZ_4K, len2 = 8 * SZ_4K;
	struct iommusim_domain_decision d;
	struct iommusim_ism *ism = NULL;
	struct iommusim_ism_event ev;
	struct iommusim_ism_stats st;
	struct iommusim_zpci_ioat ioat;
	uint64_t t1, t2;
	unsigned i;

	/* the kernel's policy: lazy default, which ISM turns into strict */
	sfix_start(f, SZ_16G, NULL);
	i = sfix_add(f, IOMMUSIM_PCI_FUNC_TYPE_ISM, true, 0, 0);
	assert_int_equal(iommusim_iommu_decide_domain_type(f->dev[i], &d), 0);
	assert_int_equal(d.effective, IOMMUSIM_DOMAIN_DMA);
	assert_true(d.downgraded_no_deferred_flush);
	sfix_domain(f, d.effective);
	sfix_attach(f, i);
	assert_int_equal(iommusim_zpci_fn_ioat(f->fn[i], &ioat), 0);
	assert_int_equal(ioat.pal, 20 * SZ_1G - 1 + SZ_4K);
	assert_int_equal(iommusim_ism_create(f->fn[i], &ism), 0);

	ism_map_dmb(f, ism, dmb1, len1, &t1);
	ism_map_dmb(f, ism, dmb2, len2, &t2);
	assert_true(iommusim_ism_iova_in_use(ism, dmb2 + SZ_4K));
	/* a non-DMB buffer unmapped strictly: a ranged RPCIT of just it */
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4G + 3 * SZ_1M, 0x9000, 4 * SZ_4K, RW, NULL),
			 0);
	assert_int_equal(iommusim_iommu_unmap(f->dom, SZ_4G + 3 * SZ_1M, 4 * SZ_4K, NULL, NULL), 0);
	/* tlb_refresh: a new map's sync_map covers only the new range */
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4G + 4 * SZ_1M, 0xa000, 2 * SZ_4K, RW, NULL),
			 0);
	assert_false(iommusim_ism_in_error(ism));
	assert_int_equal(iommusim_ism_nevents(ism), 0);
	assert_int_equal(iommusim_ism_stats_get(ism, &st), 0);
	assert_int_equal(st.rpcits_seen, 5);
	assert_int_equal(st.dmbs, 2);

	/* the regression: a global flush, as a flush queue would issue */
	iommusim_iommu_flush_iotlb_all(f->dom, NULL);
	assert_true(iommusim_ism_in_error(ism));
	assert_int_equal(iommusim_ism_nevents(ism), 1);
	assert_int_equal(iommusim_ism_event_get(ism, 0, &ev), 0);
	assert_int_equal(ev.reason, IOMMUSIM_RPCIT_GLOBAL_FLUSH);
	assert_int_equal(ev.rpcit_addr, SZ_4G);
	assert_int_equal(ev.rpcit_len, SZ_16G);
	assert_int_equal(ev.iova, dmb1);
	assert_int_equal(ev.dmb_token, t1);
	assert_int_equal(ev.exposed_bytes, len1 + len2);

	/* -ENOMEM on sync_map with DMBs registered: the recovery exposes them */
	iommusim_ism_reset(ism);
	assert_false(iommusim_ism_in_error(ism));
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, CC_ERR, 16, 1), 0);
	assert_int_equal(iommusim_iommu_map(f->dom, SZ_4G + 5 * SZ_1M, 0xb000, SZ_4K, RW, NULL), 0);
	assert_true(iommusim_ism_in_error(ism));
	assert_int_equal(iommusim_ism_nevents(ism), 1);
	assert_int_equal(iommusim_ism_event_get(ism, 0, &ev), 0);
	assert_int_equal(ev.reason, IOMMUSIM_RPCIT_ENOMEM_RECOVERY);
	assert_int_equal(ev.rpcit_addr, SZ_4G);
	assert_int_equal(ev.rpcit_len, SZ_16G);
	assert_int_equal(ev.iova, dmb1);
	assert_int_equal(ev.exposed_bytes, len1 + len2);
	assert_int_equal(evs(f->dom).enomem_recoveries, 1);

	assert_int_equal(iommusim_ism_dmb_unregister(ism, t1), 0);
	assert_int_equal(iommusim_ism_dmb_unregister(ism, t2), 0);
	iommusim_ism_destroy(ism);
}

/* ------------------------------------------------------------------------ */
/* Concurrency: mappers, an attach/detach loop and a flusher on one domain */

#define CT_MAPPERS 2
#define CT_OPS 4000
#define CT_SLOTS 48
#define CT_SLOT_SIZE (16 * SZ_4K)
#define CT_REGION (UINT64_C(256) << 20)
/* The side threads loop while the mappers run, at least MIN and at most MAX times. */
#define CT_SIDE_MIN 50
#define CT_SIDE_MAX 20000

/* Start line and finish count shared by the threads of one run. */
static pthread_barrier_t ct_start;
static atomic_uint ct_mappers_running;

struct ct_mapper {
	pthread_t tid;
	struct iommusim_domain *dom;
	unsigned cpu;
	uint64_t rng, base;
	uint64_t npages[CT_SLOTS]; /* 0: slot not mapped */
	uint64_t maps, unmaps, pages_mapped, pages_unmapped;
	unsigned errors;
	char err[160];
};

struct ct_side {
	pthread_t tid;
	struct iommusim_domain *dom;
	struct iommusim_device *dev;
	unsigned count, errors;
	int first_ret;
};

static uint64_t
ct_rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
ct_error(struct ct_mapper *m, const char *what, uint64_t v, long long ret)
{
	if (!m->errors++)
		snprintf(m->err, sizeof(m->err), "cpu %u: %s %#" PRIx64 ": %lld", m->cpu, what, v,
			 ret);
}

static uint64_t
ct_paddr(const struct ct_mapper *m, unsigned slot)
{
	return ((uint64_t)(m->cpu + 1) << 36) | ((uint64_t)slot << 24);
}

static void
ct_unmap(struct ct_mapper *m, unsigned slot, const struct iommusim_ctx *ctx)
{
	uint64_t iova = m->base + slot * CT_SLOT_SIZE, size = m->npages[slot] * SZ_4K, un = 0;
	int ret = iommusim_iommu_unmap(m->dom, iova, size, ctx, &un);

	if (ret || un != size)
		ct_error(m, "unmap", iova, ret ? ret : (long long)un);
	if (iommusim_iommu_iova_to_phys(m->dom, iova))
		ct_error(m, "still mapped", iova, 0);
	m->unmaps++;
	m->pages_unmapped += m->npages[slot];
	m->npages[slot] = 0;
}

static void *
ct_mapper_main(void *arg)
{
	struct ct_mapper *m = arg;
	const struct iommusim_ctx ctx = { NULL, NULL, m->cpu };
	unsigned op, slot;

	pthread_barrier_wait(&ct_start);
	for (op = 0; op < CT_OPS; op++) {
		if (op % 64 == 0)
			sched_yield();
		slot = (unsigned)(ct_rnd(&m->rng) % CT_SLOTS);
		if (m->npages[slot]) {
			ct_unmap(m, slot, &ctx);
		} else {
			uint64_t n = 1 + ct_rnd(&m->rng) % 16, iova = m->base + slot * CT_SLOT_SIZE;
			uint64_t pa = ct_paddr(m, slot);
			int ret = iommusim_iommu_map(m->dom, iova, pa, n * SZ_4K, RW, &ctx);

			if (ret) {
				ct_error(m, "map", iova, ret);
				continue;
			}
			if (iommusim_iommu_iova_to_phys(m->dom, iova) != pa ||
			    iommusim_iommu_iova_to_phys(m->dom, iova + (n - 1) * SZ_4K) !=
				    pa + (n - 1) * SZ_4K)
				ct_error(m, "translation", iova, 0);
			m->npages[slot] = n;
			m->maps++;
			m->pages_mapped += n;
		}
	}
	for (slot = 0; slot < CT_SLOTS; slot++)
		if (m->npages[slot])
			ct_unmap(m, slot, &ctx);
	atomic_fetch_sub(&ct_mappers_running, 1);
	return NULL;
}

static void *
ct_toggler_main(void *arg)
{
	struct ct_side *t = arg;
	const struct iommusim_ctx ctx = { NULL, NULL, CT_MAPPERS };
	unsigned k;
	int ret;

	pthread_barrier_wait(&ct_start);
	for (k = 0; k < CT_SIDE_MAX && (k < CT_SIDE_MIN || atomic_load(&ct_mappers_running)); k++) {
		ret = iommusim_iommu_attach_device(t->dom, t->dev, &ctx);
		/* stay attached for a moment, so that the others meet the device */
		sched_yield();
		if (!ret)
			ret = iommusim_iommu_detach_device(t->dom, t->dev, &ctx);
		if (ret && !t->errors++)
			t->first_ret = ret;
		t->count++;
	}
	return NULL;
}

static void *
ct_flusher_main(void *arg)
{
	struct ct_side *t = arg;
	const struct iommusim_ctx ctx = { NULL, NULL, CT_MAPPERS + 1 };
	unsigned k;

	pthread_barrier_wait(&ct_start);
	for (k = 0; k < CT_SIDE_MAX && (k < CT_SIDE_MIN || atomic_load(&ct_mappers_running)); k++) {
		iommusim_iommu_flush_iotlb_all(t->dom, &ctx);
		t->count++;
	}
	return NULL;
}

static unsigned
ct_seed(void)
{
	const char *s = getenv("IOMMUSIM_TEST_SEED");

	return s ? (unsigned)strtoul(s, NULL, 0) : 0x5eed390u;
}

static void
test_s390_iommu_concurrent_map_attach_flush(void **state)
{
	struct sfix *f = *state;
	struct iommusim_zpci_canned *scripts[3] = { NULL, NULL, NULL };
	struct ct_mapper *m = calloc(CT_MAPPERS, sizeof(*m));
	struct ct_side toggler = { 0 }, flusher = { 0 };
	struct iommusim_zpci_fn_stats st[3];
	struct iommusim_s390_counters c;
	struct iommusim_s390_events e;
	struct iommusim_domain_info di;
	struct iommusim_zpci_ioat ioat;
	uint64_t maps = 0, unmaps = 0, pmapped = 0, punmapped = 0;
	unsigned seed = ct_seed(), k, fc_expect;
	size_t ncalls, idx;

	assert_non_null(m);
	print_message("# s390 concurrent: seed %#x (IOMMUSIM_TEST_SEED)\n", seed);
	sfix_start(f, SZ_16G, NULL);
	/* own scripts, so each function's log is its own: A refreshes, B does
	 * not, C (toggled) refreshes */
	for (k = 0; k < 3; k++) {
		struct iommusim_device_cfg dcfg = { .is_pci = true };
		struct iommusim_zpci_fn_cfg cfg = {
			.fid = 0x20 + k,
			.tlb_refresh = k != 1,
			.platform = &iommusim_zpci_canned_ops,
		};

		assert_int_equal(iommusim_zpci_canned_create(&scripts[k]), 0);
		cfg.platform_priv = scripts[k];
		assert_int_equal(iommusim_zpci_fn_create(&cfg, &f->fn[k]), 0);
		dcfg.drvdata = f->fn[k];
		assert_int_equal(iommusim_device_create(f->iommu, &dcfg, &f->dev[k]), 0);
		f->n++;
	}
	sfix_domain(f, IOMMUSIM_DOMAIN_DMA);
	sfix_attach(f, 0);
	sfix_attach(f, 1);

	for (k = 0; k < CT_MAPPERS; k++) {
		m[k].dom = f->dom;
		m[k].cpu = k;
		m[k].rng = (uint64_t)seed * UINT64_C(0x9E3779B97F4A7C15) * (k + 1) | 1;
		m[k].base = SZ_4G + k * CT_REGION;
	}
	toggler.dom = flusher.dom = f->dom;
	toggler.dev = f->dev[2];
	atomic_store(&ct_mappers_running, CT_MAPPERS);
	assert_int_equal(pthread_barrier_init(&ct_start, NULL, CT_MAPPERS + 2), 0);
	for (k = 0; k < CT_MAPPERS; k++)
		assert_int_equal(pthread_create(&m[k].tid, NULL, ct_mapper_main, &m[k]), 0);
	assert_int_equal(pthread_create(&toggler.tid, NULL, ct_toggler_main, &toggler), 0);
	assert_int_equal(pthread_create(&flusher.tid, NULL, ct_flusher_main, &flusher), 0);
	for (k = 0; k < CT_MAPPERS; k++)
		assert_int_equal(pthread_join(m[k].tid, NULL), 0);
	assert_int_equal(pthread_join(toggler.tid, NULL), 0);
	assert_int_equal(pthread_join(flusher.tid, NULL), 0);
	pthread_barrier_destroy(&ct_start);

	for (k = 0; k < CT_MAPPERS; k++) {
		if (m[k].errors)
			fail_msg("seed %#x: %u errors, first: %s", seed, m[k].errors, m[k].err);
		maps += m[k].maps;
		unmaps += m[k].unmaps;
		pmapped += m[k].pages_mapped;
		punmapped += m[k].pages_unmapped;
	}
	if (toggler.errors)
		fail_msg("seed %#x: attach/detach failed %u times, first %d", seed, toggler.errors,
			 toggler.first_ret);
	assert_true(toggler.count >= CT_SIDE_MIN && toggler.count <= CT_SIDE_MAX);
	assert_true(flusher.count >= CT_SIDE_MIN && flusher.count <= CT_SIDE_MAX);
	assert_int_equal(pmapped, punmapped);
	for (k = 0; k < 3; k++)
		assert_int_equal(iommusim_zpci_fn_stats_get(f->fn[k], &st[k]), 0);
	c = ctrs(f->dom);
	e = evs(f->dom);
	print_message("# s390 concurrent: %" PRIu64 " maps (%" PRIu64 " pages), %" PRIu64
		      " unmaps, %u attach/detach, %u flushes; C saw %" PRIu64 " sync_map, %" PRIu64
		      " sync, %" PRIu64 " global RPCITs\n",
		      maps, pmapped, unmaps, toggler.count, flusher.count,
		      st[2].by_reason[IOMMUSIM_RPCIT_SYNC_MAP],
		      st[2].by_reason[IOMMUSIM_RPCIT_SYNC],
		      st[2].by_reason[IOMMUSIM_RPCIT_GLOBAL_FLUSH]);

	/* the page counters are exactly what the mappers did */
	assert_int_equal(c.mapped_pages, pmapped);
	assert_int_equal(c.unmapped_pages, punmapped);
	/* the two always-attached devices saw every map, unmap and flush */
	assert_int_equal(st[0].by_reason[IOMMUSIM_RPCIT_SYNC_MAP], maps);
	assert_int_equal(st[1].by_reason[IOMMUSIM_RPCIT_SYNC_MAP], 0);
	assert_int_equal(st[0].by_reason[IOMMUSIM_RPCIT_SYNC], unmaps);
	assert_int_equal(st[1].by_reason[IOMMUSIM_RPCIT_SYNC], unmaps);
	assert_int_equal(st[0].by_reason[IOMMUSIM_RPCIT_GLOBAL_FLUSH], flusher.count);
	assert_int_equal(st[1].by_reason[IOMMUSIM_RPCIT_GLOBAL_FLUSH], flusher.count);
	/* the toggled one some of them; each counter is the sum over devices */
	assert_true(st[2].by_reason[IOMMUSIM_RPCIT_SYNC_MAP] <= maps);
	assert_true(st[2].by_reason[IOMMUSIM_RPCIT_SYNC] <= unmaps);
	assert_true(st[2].by_reason[IOMMUSIM_RPCIT_GLOBAL_FLUSH] <= flusher.count);
	assert_int_equal(c.sync_map_rpcits, st[0].by_reason[IOMMUSIM_RPCIT_SYNC_MAP] +
						    st[2].by_reason[IOMMUSIM_RPCIT_SYNC_MAP]);
	assert_int_equal(c.sync_rpcits, st[0].by_reason[IOMMUSIM_RPCIT_SYNC] +
						st[1].by_reason[IOMMUSIM_RPCIT_SYNC] +
						st[2].by_reason[IOMMUSIM_RPCIT_SYNC]);
	assert_int_equal(c.global_rpcits, st[0].by_reason[IOMMUSIM_RPCIT_GLOBAL_FLUSH] +
						  st[1].by_reason[IOMMUSIM_RPCIT_GLOBAL_FLUSH] +
						  st[2].by_reason[IOMMUSIM_RPCIT_GLOBAL_FLUSH]);
	for (k = 0; k < 3; k++)
		assert_int_equal(st[k].rpcits,
				 st[k].by_reason[IOMMUSIM_RPCIT_SYNC_MAP] +
					 st[k].by_reason[IOMMUSIM_RPCIT_SYNC] +
					 st[k].by_reason[IOMMUSIM_RPCIT_GLOBAL_FLUSH]);
	assert_int_equal(e.map_failures, 0);
	assert_int_equal(e.unmap_failures, 0);
	assert_int_equal(e.sync_map_errors, 0);
	/* C registered and deregistered its IOAT alternately, and ends detached */
	ncalls = iommusim_zpci_canned_ncalls(scripts[2]);
	fc_expect = IOMMUSIM_ZPCI_MOD_FC_REG_IOAT;
	for (idx = 0, k = 0; idx < ncalls; idx++) {
		struct iommusim_zpci_canned_call call;

		assert_int_equal(iommusim_zpci_canned_call(scripts[2], idx, &call), 0);
		if (call.is_rpcit)
			continue;
		assert_int_equal(call.fc, fc_expect);
		fc_expect = fc_expect == IOMMUSIM_ZPCI_MOD_FC_REG_IOAT ?
				    IOMMUSIM_ZPCI_MOD_FC_DEREG_IOAT :
				    IOMMUSIM_ZPCI_MOD_FC_REG_IOAT;
		k++;
	}
	assert_int_equal(k, 2 * toggler.count);
	assert_int_equal(iommusim_zpci_fn_ioat(f->fn[2], &ioat), 0);
	assert_false(ioat.registered);
	assert_int_equal(iommusim_domain_info_get(f->dom, &di), 0);
	assert_int_equal(di.ndevices, 2);
	/* everything is unmapped again */
	for (k = 0; k < CT_MAPPERS; k++)
		for (idx = 0; idx < CT_SLOTS; idx++)
			assert_int_equal(
				iommusim_iommu_iova_to_phys(f->dom, m[k].base + idx * CT_SLOT_SIZE),
				0);

	/* teardown order: devices and the domain first (fixture), scripts after */
	for (k = 0; k < 3; k++)
		iommusim_device_destroy(f->dev[k], NULL);
	iommusim_domain_free(f->dom);
	f->dom = NULL;
	for (k = 0; k < 3; k++) {
		f->dev[k] = NULL;
		iommusim_zpci_fn_destroy(f->fn[k]);
		f->fn[k] = NULL;
		iommusim_zpci_canned_destroy(scripts[k]);
	}
	f->n = 0;
	free(m);
}

/* ------------------------------------------------------------------------ */

int
main(int argc, char **argv)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup_sfix, teardown_sfix)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s390_iommu_init_aperture),
		cmocka_unit_test(test_s390_iommu_init_rejects_null),
		T(test_s390_iommu_init_forces_forcedac),
		T(test_s390_iommu_probe_requires_pci_function),
		T(test_s390_iommu_identity_domain_needs_rtr_and_registers_direct_ioat),
		T(test_s390_iommu_probe_window_qemu_defaults),
		T(test_s390_iommu_probe_window_unaligned_start),
		T(test_s390_iommu_probe_window_clamped_4t),
		T(test_s390_iommu_probe_start_beyond_4t_einval),
		T(test_s390_iommu_resv_regions_start_zero),
		T(test_s390_iommu_probe_shadow_on_flush_iff_tlb_refresh),
		T(test_s390_iommu_capable),
		T(test_s390_iommu_domain_geometry),
		T(test_s390_iommu_tv27_lazy_default),
		cmocka_unit_test(test_s390_iommu_tv27_strict),
		T(test_s390_iommu_attach_registers_ioat),
		T(test_s390_iommu_attach_ism_pal),
		T(test_s390_iommu_attach_status_40_still_attaches),
		T(test_s390_iommu_attach_failure_eio),
		T(test_s390_iommu_attach_busy_retried),
		T(test_s390_iommu_reattach_deregisters_first),
		T(test_s390_iommu_failed_reattach_reverts_to_old_domain),
		T(test_s390_iommu_detach_deregisters),
		T(test_s390_iommu_map_pte_tv18),
		T(test_s390_iommu_map_counters),
		T(test_s390_iommu_map_outside_aperture_einval),
		T(test_s390_iommu_map_enomem_segment_table_level),
		T(test_s390_iommu_map_enomem_page_table_level),
		T(test_s390_iommu_map_sg_enomem_undo_syncs_mapped_chunk),
		T(test_s390_iommu_unmap_walk_enomem),
		T(test_s390_iommu_sync_map_tv22_no_refresh),
		T(test_s390_iommu_sync_map_ranged_rpcit_per_map),
		cmocka_unit_test(test_s390_iommu_sync_map_tv21_outcomes),
		T(test_s390_iommu_sync_map_recovery_failure_breaks),
		T(test_s390_iommu_sync_map_recovery_success_continues),
		T(test_s390_iommu_sync_map_error_overwritten_by_next_device),
		T(test_s390_iommu_sync_map_skips_devices_without_refresh),
		T(test_s390_iommu_strict_unmap_ranged_rpcit_per_device),
		T(test_s390_iommu_iotlb_sync_empty_gather_no_rpcit),
		T(test_s390_iommu_flush_iotlb_all_global_per_device),
		T(test_s390_iommu_counters_print_exact),
		T(test_s390_iommu_ism_end_to_end),
		T(test_s390_iommu_concurrent_map_attach_flush),
	};
#undef T

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("s390_iommu", tests, NULL, NULL);
}
