/* SPDX-License-Identifier: MIT */
/*
 * Benchmarks of the DMA layer: ns per dma_map_page + dma_unmap_page pair
 * through dma-iommu (strict, lazy with per-CPU queues, lazy with a single
 * queue) and through the pre-6.7 s390 DMA API, on the s390 driver with a
 * platform that answers every RPCIT at once: the simulator's own cost of
 * the path, which bounds how fast simulations can run. One JSON line per case.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/dma.h>
#include <iommusim/dma_iommu.h>
#include <iommusim/iommu.h>
#include <iommusim/legacy_s390_dma.h>
#include <iommusim/s390_iommu.h>
#include <iommusim/zpci.h>

#include "bench_common.h"

#define DEFAULT_SEED UINT64_C(0xd3a)
#define REP_BUDGET_NS_FULL UINT64_C(1000000000)
#define REP_BUDGET_NS_SMOKE UINT64_C(20000000)
/* Buffers in flight per CPU, as an I/O queue depth would keep them. */
#define INFLIGHT 32
#define NCPUS 2

static struct bench_opts opts;

enum policy {
	STRICT,
	LAZY_PER_CPU,
	LAZY_SINGLE,
	LEGACY_LAZY,
};

struct dma_ctx {
	enum policy policy;
	struct iommusim_zpci_fn *fn;
	struct iommusim_s390_iommu *s;
	struct iommusim_iommu *iommu;
	struct iommusim_device *dev;
	struct iommusim_domain *dom;
	struct iommusim_dma_iommu *di;
	struct iommusim_legacy_dma *legacy;
	struct iommusim_dma dma;
	uint64_t inflight[NCPUS][INFLIGHT];
	uint64_t next;
	uint64_t now; /* the fake clock: 1 µs per pair */
	uint64_t timer_at;
	bool timer_armed;
};

static uint64_t
now_ns(void *priv)
{
	return ((struct dma_ctx *)priv)->now;
}

static const struct iommusim_ctx_ops clock_ops = { .now_ns = now_ns };

static void
timer_arm(void *priv, uint64_t expires)
{
	struct dma_ctx *c = priv;

	c->timer_armed = true;
	c->timer_at = expires;
}

static const struct iommusim_dma_timer_ops timer_ops = { .arm = timer_arm };

static void *
dma_setup(enum policy policy)
{
	const struct iommusim_s390_iommu_cfg scfg = { .memory_bytes = UINT64_C(16) << 30 };
	struct iommusim_zpci_fn_cfg fcfg = { .fid = 1 };
	struct dma_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		bench_die("out of memory");
	c->policy = policy;
	BENCH_CHECK(iommusim_zpci_fn_create(&fcfg, &c->fn));
	if (policy == LEGACY_LAZY) {
		const struct iommusim_legacy_dma_cfg lcfg = { 0 };

		BENCH_CHECK(iommusim_legacy_dma_create(c->fn, &lcfg, NULL, &c->legacy, &c->dma));
		return c;
	}
	{
		struct iommusim_dma_iommu_cfg cfg = {
			.ncpus = NCPUS,
			.fq_type = policy == LAZY_SINGLE ? IOMMUSIM_FQ_SINGLE : IOMMUSIM_FQ_PER_CPU,
			.fq_timer = &timer_ops,
			.fq_timer_priv = c,
			.iova_rcache_flags = IOMMUSIM_IOVA_RCACHE_UNCHECKED,
		};
		struct iommusim_device_cfg dcfg = { .is_pci = true, .drvdata = c->fn };

		BENCH_CHECK(iommusim_s390_iommu_create(&scfg, NULL, &c->s, &c->iommu));
		BENCH_CHECK(iommusim_device_create(c->iommu, &dcfg, &c->dev));
		BENCH_CHECK(iommusim_domain_alloc(
			c->dev, policy == STRICT ? IOMMUSIM_DOMAIN_DMA : IOMMUSIM_DOMAIN_DMA_FQ,
			&c->dom));
		BENCH_CHECK(iommusim_iommu_attach_device(c->dom, c->dev, NULL));
		BENCH_CHECK(iommusim_dma_iommu_create(c->dom, c->dev, &cfg, &c->di, &c->dma));
	}
	return c;
}

/* One pair per iteration: unmap the oldest buffer of this CPU, map a new one. */
static uint64_t
dma_rep(void *p, uint64_t iters)
{
	struct dma_ctx *c = p;
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++, c->next++) {
		unsigned cpu = (unsigned)(c->next & (NCPUS - 1));
		uint64_t *slot = &c->inflight[cpu][(c->next / NCPUS) % INFLIGHT];
		const struct iommusim_ctx ctx = { .ops = &clock_ops, .priv = c, .cpu = cpu };
		uint64_t phys = (UINT64_C(1) << 32) + (c->next % 4096) * 4096;

		c->now += 1000;
		if (c->timer_armed && c->now >= c->timer_at) {
			c->timer_armed = false;
			iommusim_dma_iommu_fq_timeout(c->di, &ctx);
		}
		if (*slot)
			BENCH_CHECK(iommusim_dma_unmap_page(&c->dma, *slot, 4096,
							    IOMMUSIM_DMA_FROM_DEVICE, 0, &ctx));
		BENCH_CHECK(iommusim_dma_map_page(&c->dma, phys, 4096, IOMMUSIM_DMA_FROM_DEVICE, 0,
						  &ctx, slot));
	}
	return bench_now_ns() - t0;
}

static void
dma_finish(struct dma_ctx *c)
{
	struct iommusim_dma_stats st;

	BENCH_CHECK(iommusim_dma_stats_get(&c->dma, &st));
	bench_json_u64("maps", st.map_pages);
	bench_json_u64("ncpus", NCPUS);
	bench_json_u64("inflight_per_cpu", INFLIGHT);
	if (c->di) {
		struct iommusim_dma_iommu_stats ds;

		BENCH_CHECK(iommusim_dma_iommu_stats_get(c->di, &ds));
		bench_json_u64("fq_flushes", ds.fq.flush_finish_cnt);
		bench_json_u64("strict_syncs", ds.strict_syncs);
		bench_json_num("rcache_hit_rate", ds.iova.rcache_hits + ds.iova.rcache_misses ?
							  (double)ds.iova.rcache_hits /
								  (double)(ds.iova.rcache_hits +
									   ds.iova.rcache_misses) :
							  0);
		iommusim_dma_iommu_destroy(c->di);
		BENCH_CHECK(iommusim_iommu_detach_device(c->dom, c->dev, NULL));
		iommusim_device_destroy(c->dev, NULL);
		iommusim_domain_free(c->dom);
		iommusim_s390_iommu_destroy(c->s);
	} else {
		struct iommusim_legacy_dma_counters lc;

		BENCH_CHECK(iommusim_legacy_dma_counters_get(c->legacy, &lc));
		bench_json_u64("global_rpcits", lc.global_rpcits);
		iommusim_legacy_dma_destroy(c->legacy, NULL);
	}
	iommusim_zpci_fn_destroy(c->fn);
	free(c);
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		enum policy policy;
	} cases[] = {
		{ "dma_iommu_pair_strict", STRICT },
		{ "dma_iommu_pair_lazy_percpu", LAZY_PER_CPU },
		{ "dma_iommu_pair_lazy_single", LAZY_SINGLE },
		{ "legacy_s390_dma_pair_lazy", LEGACY_LAZY },
	};
	uint64_t t0;

	bench_opts_parse(argc, argv, "bench_dma",
			 "map+unmap pairs through dma-iommu (strict, lazy per-CPU, lazy single)\n"
			 "and the pre-6.7 s390 DMA API, on a platform that costs nothing.",
			 DEFAULT_SEED, &opts);
	t0 = bench_now_ns();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dma_ctx *c = dma_setup(cases[i].policy);
		struct bench_stats st;

		bench_measure(&opts, dma_rep, c, bench_iters(&opts, 1000000, 2000),
			      opts.smoke ? REP_BUDGET_NS_SMOKE : REP_BUDGET_NS_FULL, &st);
		bench_json_case(&opts, cases[i].name, 1);
		bench_json_stats(&st);
		dma_finish(c);
		bench_json_end();
	}
	fprintf(stderr, "bench_dma: done in %.2f s\n", (double)(bench_now_ns() - t0) / 1e9);
	return 0;
}
