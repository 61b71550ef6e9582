/* SPDX-License-Identifier: MIT */
/*
 * Benchmarks of the s390 translation tables (lib/hw/zpci_table.c): 4 KiB map
 * into fresh and populated tables, 4 KiB unmap, and device-side translate.
 * One JSON line per case; cases are rows of the table in main().
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/iommu.h>
#include <iommusim/s390_iommu.h>
#include <iommusim/zpci.h>
#include <iommusim/zpci_table.h>

#include "bench_common.h"
#include "base/util_int.h"

#define DEFAULT_SEED UINT64_C(0x5390)
#define PG UINT64_C(4096)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
/* Pages mapped into one fresh table before it is replaced (bounds the memory held). */
#define FRESH_CHUNK 16384u
/* Pages of the populated window (64 MiB: 64 page tables, 128 KiB of PTEs). */
#define WINDOW_PAGES 16384u
/* The window starts above 4 GiB, where Linux puts s390 IOVAs (start_dma). */
#define WINDOW_BASE (UINT64_C(4) << 30)
#define REP_BUDGET_NS_FULL UINT64_C(1000000000)
#define REP_BUDGET_NS_SMOKE UINT64_C(20000000)

static struct bench_opts opts;

static uint64_t
rep_budget(void)
{
	return opts.smoke ? REP_BUDGET_NS_SMOKE : REP_BUDGET_NS_FULL;
}

/* The frame mapped at @iova in every case, so that lookups can be checked. */
static uint64_t
frame_of(uint64_t iova)
{
	return (UINT64_C(1) << 40) + (iova & ~(PG - 1));
}

static struct iommusim_zpci_table *
table_new(void)
{
	struct iommusim_zpci_table *t = NULL;

	BENCH_CHECK(iommusim_zpci_table_create(&t));
	return t;
}

/* ---- the case table ---- */

/*
 * One benchmark case: setup() builds the context (untimed), rep() is a
 * bench_rep_fn timing @iters operations, finish() adds the case's own JSON
 * fields (after the common ones and the stats) and frees the context.
 */
struct s390_case {
	const char *name; /* JSON "bench" name */
	uint64_t iters_full, iters_smoke; /* operations per repetition */
	uint64_t param; /* case parameter, e.g. the IOVA stride */
	void *(*setup)(const struct s390_case *c);
	bench_rep_fn rep;
	void (*finish)(void *ctx);
};

static void
run_case(const struct s390_case *c)
{
	void *ctx = c->setup(c);
	struct bench_stats st;

	bench_measure(&opts, c->rep, ctx, bench_iters(&opts, c->iters_full, c->iters_smoke),
		      rep_budget(), &st);
	bench_json_case(&opts, c->name, 1);
	bench_json_stats(&st);
	if (c->finish)
		c->finish(ctx);
	bench_json_end();
}

/* ---- map into fresh tables: every table the walk needs is allocated on the way ---- */

struct fresh_ctx {
	uint64_t stride; /* IOVA distance between consecutive maps */
	uint64_t chunk; /* maps per fresh table (they must fit in the 4 TiB aperture) */
	uint64_t maps; /* timed maps, warm-up included */
	uint64_t segment_tables, page_tables; /* allocated by them */
};

static void *
fresh_setup(const struct s390_case *c)
{
	struct fresh_ctx *f = calloc(1, sizeof(*f));

	if (!f)
		bench_die("out of memory");
	f->stride = c->param;
	f->chunk = IOMMUSIM_ZPCI_TABLE_SIZE_RT / f->stride;
	if (f->chunk > FRESH_CHUNK)
		f->chunk = FRESH_CHUNK;
	return f;
}

/*
 * Map @iters pages at IOVAs 0, stride, 2 * stride, ... in chunks of
 * f->chunk, each into a new table; creating and destroying the tables is
 * not timed, allocating the segment and page tables is.
 */
static uint64_t
fresh_rep(void *p, uint64_t iters)
{
	struct fresh_ctx *f = p;
	uint64_t el = 0;

	for (uint64_t done = 0; done < iters;) {
		uint64_t n = iters - done < f->chunk ? iters - done : f->chunk;
		struct iommusim_zpci_table *t = table_new();
		struct iommusim_zpci_table_stats st;
		uint64_t t0 = bench_now_ns();

		for (uint64_t i = 0; i < n; i++) {
			uint64_t iova = i * f->stride;

			BENCH_CHECK(iommusim_zpci_table_update(t, iova, frame_of(iova),
							       IOMMUSIM_ZPCI_PTE_VALID, NULL));
		}
		el += bench_now_ns() - t0;
		BENCH_CHECK(iommusim_zpci_table_stats_get(t, &st));
		if (iommusim_zpci_table_iova_to_phys(t, (n - 1) * f->stride) !=
		    frame_of((n - 1) * f->stride))
			bench_die("fresh map: the last page does not translate");
		f->segment_tables += st.segment_tables;
		f->page_tables += st.page_tables;
		f->maps += n;
		iommusim_zpci_table_destroy(t);
		done += n;
	}
	return el;
}

static void
fresh_finish(void *p)
{
	struct fresh_ctx *f = p;

	bench_json_u64("stride", f->stride);
	bench_json_u64("pages_per_table", f->chunk);
	bench_json_num("segment_tables_per_op", (double)f->segment_tables / (double)f->maps);
	bench_json_num("page_tables_per_op", (double)f->page_tables / (double)f->maps);
	free(f);
}

/* ---- a populated window: every table present, PTEs flipped valid/invalid ---- */

struct window_ctx {
	struct iommusim_zpci_table *t;
	uint64_t segment_tables, page_tables; /* after setup; must not grow */
	uint64_t rng; /* translate: LCG state of the IOVA sequence */
};

static uint64_t
window_iova(uint64_t i)
{
	return WINDOW_BASE + (i % WINDOW_PAGES) * PG;
}

static void
window_update(struct iommusim_zpci_table *t, uint64_t i, uint64_t flags)
{
	uint64_t iova = window_iova(i);

	BENCH_CHECK(iommusim_zpci_table_update(t, iova, frame_of(iova), flags, NULL));
}

/* Populate the window's tables; map it if @mapped, else leave every PTE invalid. */
static struct window_ctx *
window_new(bool mapped)
{
	struct window_ctx *w = calloc(1, sizeof(*w));
	struct iommusim_zpci_table_stats st;

	if (!w)
		bench_die("out of memory");
	w->t = table_new();
	for (uint64_t i = 0; i < WINDOW_PAGES; i++) {
		window_update(w->t, i, IOMMUSIM_ZPCI_PTE_VALID);
		if (!mapped)
			window_update(w->t, i, IOMMUSIM_ZPCI_PTE_INVALID);
	}
	BENCH_CHECK(iommusim_zpci_table_stats_get(w->t, &st));
	w->segment_tables = st.segment_tables;
	w->page_tables = st.page_tables;
	w->rng = opts.seed | 1;
	return w;
}

static void *
window_setup_unmapped(const struct s390_case *c)
{
	(void)c;
	return window_new(false);
}

static void *
window_setup_mapped(const struct s390_case *c)
{
	(void)c;
	return window_new(true);
}

/* Timed: @flags over pages [i, i + n) of the window; untimed: back with @undo. */
static uint64_t
window_flip(struct window_ctx *w, uint64_t iters, uint64_t flags, uint64_t undo, bool undo_first)
{
	uint64_t el = 0;

	for (uint64_t done = 0; done < iters;) {
		uint64_t n = iters - done < WINDOW_PAGES ? iters - done : WINDOW_PAGES, t0;

		if (undo_first)
			for (uint64_t i = 0; i < n; i++)
				window_update(w->t, i, undo);
		t0 = bench_now_ns();
		for (uint64_t i = 0; i < n; i++)
			window_update(w->t, i, flags);
		el += bench_now_ns() - t0;
		if (!undo_first)
			for (uint64_t i = 0; i < n; i++)
				window_update(w->t, i, undo);
		done += n;
	}
	return el;
}

/* Map into tables that are all present (invalid -> valid), unmap untimed. */
static uint64_t
map_populated_rep(void *p, uint64_t iters)
{
	return window_flip(p, iters, IOMMUSIM_ZPCI_PTE_VALID, IOMMUSIM_ZPCI_PTE_INVALID, false);
}

/* Unmap (valid -> invalid) after an untimed map of the same pages. */
static uint64_t
unmap_rep(void *p, uint64_t iters)
{
	return window_flip(p, iters, IOMMUSIM_ZPCI_PTE_INVALID, IOMMUSIM_ZPCI_PTE_VALID, true);
}

/* Device-side lookups of pseudo-random mapped pages, with an in-page offset. */
static uint64_t
translate_rep(void *p, uint64_t iters)
{
	struct window_ctx *w = p;
	uint64_t x = w->rng, bad = 0, t0 = bench_now_ns(), el;

	for (uint64_t i = 0; i < iters; i++) {
		struct iommusim_zpci_xlate r;
		uint64_t iova;

		x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
		iova = window_iova(x >> 40) + ((x >> 20) & (PG - 1));
		BENCH_CHECK(iommusim_zpci_table_translate(w->t, iova, &r));
		bad += !r.valid;
		bench_keep(r.phys);
	}
	el = bench_now_ns() - t0;
	w->rng = x;
	if (bad)
		bench_die("translate: %" PRIu64 " lookups missed a mapped page", bad);
	return el;
}

static void
window_finish(void *p)
{
	struct window_ctx *w = p;
	struct iommusim_zpci_table_stats st;

	BENCH_CHECK(iommusim_zpci_table_stats_get(w->t, &st));
	if (st.segment_tables != w->segment_tables || st.page_tables != w->page_tables)
		bench_die("a populated window allocated tables during the run");
	for (uint64_t i = 0; i < WINDOW_PAGES; i += 97)
		if (iommusim_zpci_table_iova_to_phys(w->t, window_iova(i)) != 0 &&
		    iommusim_zpci_table_iova_to_phys(w->t, window_iova(i)) !=
			    frame_of(window_iova(i)))
			bench_die("the window maps a wrong frame");
	bench_json_u64("window_pages", WINDOW_PAGES);
	bench_json_u64("page_tables", st.page_tables);
	iommusim_zpci_table_destroy(w->t);
	free(w);
}

/* ---- iommu_map / iommu_unmap through the core and the s390 driver ---- */

#define MAP_TLB_REFRESH (UINT64_C(1) << 32)
#define MAP_TIME_UNMAP (UINT64_C(1) << 33)

struct map_ctx {
	struct iommusim_s390_iommu *s;
	struct iommusim_iommu *iommu;
	struct iommusim_zpci_fn *fn;
	struct iommusim_device *dev;
	struct iommusim_domain *dom;
	uint64_t npages, slots;
	bool time_unmap;
};

static void *
map_setup(const struct s390_case *c)
{
	const struct iommusim_s390_iommu_cfg scfg = { .memory_bytes = UINT64_C(16) << 30 };
	struct map_ctx *m = calloc(1, sizeof(*m));
	struct iommusim_zpci_fn_cfg fcfg = { .fid = 1 };
	struct iommusim_device_cfg dcfg = { .is_pci = true };
	uint64_t k;

	if (!m)
		bench_die("out of memory");
	m->npages = c->param & 0xffffffffu;
	m->slots = WINDOW_PAGES / m->npages;
	m->time_unmap = c->param & MAP_TIME_UNMAP;
	/* No platform: every RPCIT answers cc 0 at no cost, so this is the
	 * simulator's own price of the path (tlb_refresh adds the sync_map). */
	fcfg.tlb_refresh = c->param & MAP_TLB_REFRESH;
	BENCH_CHECK(iommusim_zpci_fn_create(&fcfg, &m->fn));
	BENCH_CHECK(iommusim_s390_iommu_create(&scfg, NULL, &m->s, &m->iommu));
	dcfg.drvdata = m->fn;
	BENCH_CHECK(iommusim_device_create(m->iommu, &dcfg, &m->dev));
	BENCH_CHECK(iommusim_domain_alloc(m->dev, IOMMUSIM_DOMAIN_DMA, &m->dom));
	BENCH_CHECK(iommusim_iommu_attach_device(m->dom, m->dev, NULL));
	/* Steady state: the window's tables exist. */
	for (k = 0; k < m->slots; k++) {
		uint64_t iova = WINDOW_BASE + k * m->npages * PG;

		BENCH_CHECK(iommusim_iommu_map(m->dom, iova, frame_of(iova), m->npages * PG,
					       IOMMUSIM_PROT_READ | IOMMUSIM_PROT_WRITE, NULL));
		BENCH_CHECK(iommusim_iommu_unmap(m->dom, iova, m->npages * PG, NULL, NULL));
	}
	return m;
}

/* Map a batch of slots and unmap it again; only one half is timed. */
static uint64_t
map_rep(void *p, uint64_t iters)
{
	struct map_ctx *m = p;
	uint64_t i = 0, t = 0;

	while (i < iters) {
		uint64_t n = IMS_MIN(m->slots, iters - i), k, t0;

		t0 = bench_now_ns();
		for (k = 0; k < n; k++) {
			uint64_t iova = WINDOW_BASE + k * m->npages * PG;

			BENCH_CHECK(iommusim_iommu_map(m->dom, iova, frame_of(iova), m->npages * PG,
						       IOMMUSIM_PROT_READ | IOMMUSIM_PROT_WRITE,
						       NULL));
		}
		if (!m->time_unmap)
			t += bench_now_ns() - t0;
		t0 = bench_now_ns();
		for (k = 0; k < n; k++)
			BENCH_CHECK(iommusim_iommu_unmap(m->dom, WINDOW_BASE + k * m->npages * PG,
							 m->npages * PG, NULL, NULL));
		if (m->time_unmap)
			t += bench_now_ns() - t0;
		i += n;
	}
	return t;
}

static void
map_finish(void *p)
{
	struct map_ctx *m = p;
	struct iommusim_s390_counters ctr;

	BENCH_CHECK(iommusim_s390_domain_counters(m->dom, &ctr, NULL));
	if (ctr.mapped_pages != ctr.unmapped_pages)
		bench_die("iommu_map: %llu pages mapped but %llu unmapped",
			  (unsigned long long)ctr.mapped_pages,
			  (unsigned long long)ctr.unmapped_pages);
	bench_json_u64("pages", m->npages);
	bench_json_u64("sync_map_rpcits", ctr.sync_map_rpcits);
	bench_json_u64("sync_rpcits", ctr.sync_rpcits);
	BENCH_CHECK(iommusim_iommu_detach_device(m->dom, m->dev, NULL));
	iommusim_device_destroy(m->dev, NULL);
	iommusim_domain_free(m->dom);
	iommusim_s390_iommu_destroy(m->s);
	iommusim_zpci_fn_destroy(m->fn);
	free(m);
}

int
main(int argc, char **argv)
{
	/*
	 * ns per operation of each case. To add one, add a row (and, if the
	 * context differs, a setup/rep/finish triple above).
	 */
	static const struct s390_case cases[] = {
		/* sequential 4 KiB pages: a page table every 256 maps */
		{ "zpci_map_4k_fresh_seq", 2000000, 2000, PG, fresh_setup, fresh_rep,
		  fresh_finish },
		/* one page per MiB: every map allocates a page table */
		{ "zpci_map_4k_fresh_per_mib", 200000, 500, MiB, fresh_setup, fresh_rep,
		  fresh_finish },
		/* one page per 2 GiB: every map allocates a segment and a page table */
		{ "zpci_map_4k_fresh_per_2g", 40000, 200, 2 * GiB, fresh_setup, fresh_rep,
		  fresh_finish },
		{ "zpci_map_4k_populated", 4000000, 4000, 0, window_setup_unmapped,
		  map_populated_rep, window_finish },
		{ "zpci_unmap_4k", 4000000, 4000, 0, window_setup_unmapped, unmap_rep,
		  window_finish },
		{ "zpci_translate", 4000000, 4000, 0, window_setup_mapped, translate_rep,
		  window_finish },
		/* iommu_map of 1 / 16 / 256 pages, LPAR-like (no RPCIT) and with
		 * tlb_refresh (one sync_map RPCIT per map) */
		{ "iommu_map_1p", 1000000, 2000, 1, map_setup, map_rep, map_finish },
		{ "iommu_map_16p", 200000, 400, 16, map_setup, map_rep, map_finish },
		{ "iommu_map_256p", 20000, 64, 256, map_setup, map_rep, map_finish },
		{ "iommu_map_1p_tlb_refresh", 1000000, 2000, 1 | MAP_TLB_REFRESH, map_setup,
		  map_rep, map_finish },
		{ "iommu_map_256p_tlb_refresh", 20000, 64, 256 | MAP_TLB_REFRESH, map_setup,
		  map_rep, map_finish },
		/* strict iommu_unmap: invalidate + one ranged RPCIT */
		{ "iommu_unmap_1p", 1000000, 2000, 1 | MAP_TIME_UNMAP, map_setup, map_rep,
		  map_finish },
		{ "iommu_unmap_256p", 20000, 64, 256 | MAP_TIME_UNMAP, map_setup, map_rep,
		  map_finish },
	};
	uint64_t t0;

	bench_opts_parse(
		argc, argv, "bench_s390",
		"Benchmarks of the s390 translation tables (map, unmap, translate) and of\n"
		"iommu_map/iommu_unmap through the core and the s390 driver.",
		DEFAULT_SEED, &opts);
	/* translate() needs an RCU-registered thread */
	iommusim_thread_enter();
	t0 = bench_now_ns();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	iommusim_thread_leave();
	fprintf(stderr, "bench_s390: done in %.2f s\n", (double)(bench_now_ns() - t0) / 1e9);
	return 0;
}
