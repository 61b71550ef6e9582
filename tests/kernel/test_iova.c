/* SPDX-License-Identifier: MIT */
/*
 * Tests of the IOVA allocator (lib/iova.c) against KERNEL_SPEC.md §1: hand-worked
 * cases of the kernel's walk, cached nodes, reserve and rcaches, a randomised
 * model-based test with a literal §1.3 oracle, and a multi-threaded fast-path test.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/iova.h>

#include "kernel/iova_int.h"
#include "base/mem_int.h"
#include "test_common.h"

#define ANCHOR IOMMUSIM_IOVA_ANCHOR_PFN
#define DMA32 UINT64_C(0x100000) /* dma_32bit_pfn for a 4 KiB granule */
#define L32 UINT64_C(0xFFFFF) /* the usual inclusive 32-bit limit */
#define NBINS IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE
#define MAG IOMMUSIM_IOVA_MAG_SIZE

/* ------------------------------------------------------------------------ */
/* Small arithmetic helpers, written here rather than taken from the library. */

static unsigned
t_fls64(uint64_t x)
{
	return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

static unsigned
t_order(uint64_t x) /* order_base_2 */
{
	return x > 1 ? t_fls64(x - 1) : 0u;
}

static uint64_t
t_rup_pow2(uint64_t x) /* roundup_pow_of_two */
{
	return UINT64_C(1) << t_order(x);
}

static uint64_t
t_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* ------------------------------------------------------------------------ */
/* Domain helpers */

static struct iommusim_iova_domain *
new_domain(uint64_t granule, uint64_t start_pfn)
{
	struct iommusim_iova_cfg cfg = { .granule = granule, .start_pfn = start_pfn };
	struct iommusim_iova_domain *d = NULL;

	assert_int_equal(iommusim_iova_domain_create(&cfg, &d), 0);
	assert_non_null(d);
	return d;
}

static void
check_ok(struct iommusim_iova_domain *d)
{
	char why[256] = "";
	int ret = ims_iova_check(d, why, sizeof(why));

	if (ret)
		fail_msg("ims_iova_check() = %d: %s", ret, why);
}

static struct iommusim_iova_info
get_info(struct iommusim_iova_domain *d)
{
	struct iommusim_iova_info inf;

	memset(&inf, 0xa5, sizeof(inf));
	assert_int_equal(iommusim_iova_info_get(d, &inf), 0);
	return inf;
}

static void
assert_info_equal(const struct iommusim_iova_info *a, const struct iommusim_iova_info *b)
{
	assert_int_equal(a->granule, b->granule);
	assert_int_equal(a->shift, b->shift);
	assert_int_equal(a->start_pfn, b->start_pfn);
	assert_int_equal(a->dma_32bit_pfn, b->dma_32bit_pfn);
	assert_int_equal(a->max32_alloc_size, b->max32_alloc_size);
	assert_int_equal(a->cached_node.pfn_lo, b->cached_node.pfn_lo);
	assert_int_equal(a->cached_node.pfn_hi, b->cached_node.pfn_hi);
	assert_int_equal(a->cached32_node.pfn_lo, b->cached32_node.pfn_lo);
	assert_int_equal(a->cached32_node.pfn_hi, b->cached32_node.pfn_hi);
	assert_int_equal(a->nr_ranges, b->nr_ranges);
	assert_int_equal(a->nr_pfns, b->nr_pfns);
	assert_int_equal(a->has_rcaches, b->has_rcaches);
}

/* Both cached nodes, as [lo, hi] pairs (ANCHOR, ANCHOR for the anchor). */
static void
expect_cached(struct iommusim_iova_domain *d, uint64_t c_lo, uint64_t c_hi, uint64_t c32_lo,
	      uint64_t c32_hi)
{
	struct iommusim_iova_info inf = get_info(d);

	assert_int_equal(inf.cached_node.pfn_lo, c_lo);
	assert_int_equal(inf.cached_node.pfn_hi, c_hi);
	assert_int_equal(inf.cached32_node.pfn_lo, c32_lo);
	assert_int_equal(inf.cached32_node.pfn_hi, c32_hi);
}

static uint64_t
get_max32(struct iommusim_iova_domain *d)
{
	return get_info(d).max32_alloc_size;
}

/* alloc that must succeed; the trace (if any) is zeroed first */
static uint64_t
alloc_ok(struct iommusim_iova_domain *d, uint64_t size, uint64_t limit, bool aligned,
	 struct iommusim_iova_trace *tr)
{
	uint64_t pfn = 0xdeadbeef;

	if (tr)
		memset(tr, 0, sizeof(*tr));
	assert_int_equal(iommusim_iova_alloc(d, size, limit, aligned, &pfn, tr), 0);
	return pfn;
}

/* alloc that must fail with @err, leaving the out parameter alone */
static void
alloc_fails(struct iommusim_iova_domain *d, uint64_t size, uint64_t limit, bool aligned, int err,
	    struct iommusim_iova_trace *tr)
{
	uint64_t pfn = 0xdeadbeef;

	if (tr)
		memset(tr, 0, sizeof(*tr));
	assert_int_equal(iommusim_iova_alloc(d, size, limit, aligned, &pfn, tr), err);
	assert_int_equal(pfn, 0xdeadbeef);
}

/* Expect the walk counters of the last alloc: nodes visited and passes. */
static void
expect_walk(const struct iommusim_iova_trace *tr, uint64_t nodes, uint64_t passes)
{
	assert_int_equal(tr->fast_fails, 0);
	assert_int_equal(tr->walk_passes, passes);
	assert_int_equal(tr->walk_nodes, nodes);
}

static void
expect_fast_fail(const struct iommusim_iova_trace *tr)
{
	assert_int_equal(tr->fast_fails, 1);
	assert_int_equal(tr->walk_passes, 0);
	assert_int_equal(tr->walk_nodes, 0);
}

static void
expect_find(struct iommusim_iova_domain *d, uint64_t pfn, uint64_t lo, uint64_t hi)
{
	struct iommusim_iova_range r = { 1, 0 };

	assert_int_equal(iommusim_iova_find(d, pfn, &r, NULL), 0);
	assert_int_equal(r.pfn_lo, lo);
	assert_int_equal(r.pfn_hi, hi);
}

static void
expect_nofind(struct iommusim_iova_domain *d, uint64_t pfn)
{
	struct iommusim_iova_range r = { 1, 0 };

	assert_int_equal(iommusim_iova_find(d, pfn, &r, NULL), -ENOENT);
	assert_int_equal(r.pfn_lo, 1);
	assert_int_equal(r.pfn_hi, 0);
}

static void
free_ok(struct iommusim_iova_domain *d, uint64_t pfn)
{
	assert_int_equal(iommusim_iova_free(d, pfn, NULL), 0);
}

static struct iommusim_iova_range
reserve_ok(struct iommusim_iova_domain *d, uint64_t lo, uint64_t hi, struct iommusim_iova_trace *tr)
{
	struct iommusim_iova_range r = { 1, 0 };

	if (tr)
		memset(tr, 0, sizeof(*tr));
	assert_int_equal(iommusim_iova_reserve(d, lo, hi, &r, tr), 0);
	return r;
}

/* The ranges of a domain, collected with iommusim_iova_for_each(). */
struct rlist {
	struct iommusim_iova_range *v;
	size_t n;
	size_t cap;
};

static int
rlist_add(void *priv, const struct iommusim_iova_range *range)
{
	struct rlist *l = priv;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		void *v = realloc(l->v, cap * sizeof(*l->v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *range;
	return 0;
}

static void
rlist_get(struct iommusim_iova_domain *d, struct rlist *l)
{
	l->n = 0;
	assert_int_equal(iommusim_iova_for_each(d, rlist_add, l), 0);
}

/* The exact range list: @exp holds n pairs lo, hi in ascending order. */
static void
expect_list(struct iommusim_iova_domain *d, const uint64_t *exp, size_t n)
{
	struct rlist l = { 0 };
	size_t i;

	rlist_get(d, &l);
	assert_int_equal(l.n, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(l.v[i].pfn_lo, exp[2 * i]);
		assert_int_equal(l.v[i].pfn_hi, exp[2 * i + 1]);
	}
	free(l.v);
}

static void
expect_lists_equal(const struct rlist *a, const struct rlist *b)
{
	size_t i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_int_equal(a->v[i].pfn_lo, b->v[i].pfn_lo);
		assert_int_equal(a->v[i].pfn_hi, b->v[i].pfn_hi);
	}
}

/* ------------------------------------------------------------------------ */
/* A fake caller timer for the v6.7 depot work. */

struct fake_timer {
	unsigned calls;
	unsigned cancels;
	unsigned last_bin;
	unsigned last_delay;
	unsigned bad_calls; /* while pending, bad bin or delay, or forbidden */
	bool forbid; /* any call is a violation (ARRAY32 depot) */
	bool pending[NBINS];
};

static void
fake_schedule(void *priv, unsigned bin, unsigned delay_ms)
{
	struct fake_timer *t = priv;

	t->calls++;
	t->last_bin = bin;
	t->last_delay = delay_ms;
	if (t->forbid || bin >= NBINS || delay_ms != IOMMUSIM_IOVA_DEPOT_DELAY_MS) {
		t->bad_calls++;
		return;
	}
	if (t->pending[bin])
		t->bad_calls++;
	t->pending[bin] = true;
}

static void
fake_cancel(void *priv, unsigned bin)
{
	struct fake_timer *t = priv;

	t->cancels++;
	if (bin < NBINS)
		t->pending[bin] = false;
}

static const struct iommusim_iova_timer_ops fake_timer_ops = {
	.schedule = fake_schedule,
	.cancel = fake_cancel,
};

/* What the caller does when its timer fires: the work is no longer pending. */
static int
fake_fire(struct iommusim_iova_domain *d, struct fake_timer *t, unsigned bin,
	  struct iommusim_iova_trace *tr)
{
	if (bin < NBINS)
		t->pending[bin] = false;
	return iommusim_iova_depot_work_run(d, bin, tr);
}

static void
init_rcaches(struct iommusim_iova_domain *d, unsigned ncpus, enum iommusim_iova_depot depot,
	     struct fake_timer *t, unsigned flags)
{
	struct iommusim_iova_rcache_cfg cfg = {
		.ncpus = ncpus,
		.depot = depot,
		.timer = t ? &fake_timer_ops : NULL,
		.timer_priv = t,
		.flags = flags,
	};

	assert_int_equal(iommusim_iova_rcaches_init(d, &cfg), 0);
}

static struct iommusim_iova_rcache_info
rinfo(struct iommusim_iova_domain *d, unsigned bin, unsigned cpu)
{
	struct iommusim_iova_rcache_info ri;

	memset(&ri, 0xa5, sizeof(ri));
	assert_int_equal(iommusim_iova_rcache_info_get(d, bin, cpu, &ri), 0);
	return ri;
}

static void
expect_rinfo(struct iommusim_iova_domain *d, unsigned bin, unsigned cpu, unsigned loaded,
	     unsigned prev, uint64_t depot)
{
	struct iommusim_iova_rcache_info ri = rinfo(d, bin, cpu);

	assert_int_equal(ri.loaded_size, loaded);
	assert_int_equal(ri.prev_size, prev);
	assert_int_equal(ri.depot_size, depot);
}

static uint64_t
afast_ok(struct iommusim_iova_domain *d, unsigned cpu, uint64_t size, uint64_t limit, bool flush,
	 struct iommusim_iova_trace *tr)
{
	uint64_t pfn = 0xdeadbeef;

	if (tr)
		memset(tr, 0, sizeof(*tr));
	assert_int_equal(iommusim_iova_alloc_fast(d, cpu, size, limit, flush, &pfn, tr), 0);
	return pfn;
}

static void
ffast_ok(struct iommusim_iova_domain *d, unsigned cpu, uint64_t pfn, uint64_t size,
	 struct iommusim_iova_trace *tr)
{
	if (tr)
		memset(tr, 0, sizeof(*tr));
	assert_int_equal(iommusim_iova_free_fast(d, cpu, pfn, size, tr), 0);
}

/* n single pfns from the tree, top-down from 0xFFFFF: pfn[i] = 0xFFFFF - i */
static uint64_t *
alloc_singles(struct iommusim_iova_domain *d, size_t n)
{
	uint64_t *v = calloc(n, sizeof(*v));
	size_t i;

	assert_non_null(v);
	for (i = 0; i < n; i++) {
		v[i] = alloc_ok(d, 1, L32, false, NULL);
		assert_int_equal(v[i], L32 - i);
	}
	return v;
}

/* A snapshot of everything observable, to show that a failed call changed nothing. */
struct snap {
	struct iommusim_iova_info inf;
	struct rlist list;
	struct iommusim_iova_rcache_info ri[NBINS][4];
	unsigned ncpus;
};

static void
snap_take(struct iommusim_iova_domain *d, unsigned ncpus, struct snap *s)
{
	unsigned b, c;

	s->inf = get_info(d);
	rlist_get(d, &s->list);
	s->ncpus = ncpus;
	for (b = 0; b < NBINS; b++)
		for (c = 0; c < ncpus; c++)
			s->ri[b][c] = rinfo(d, b, c);
}

static void
snap_free(struct snap *s)
{
	free(s->list.v);
	memset(&s->list, 0, sizeof(s->list));
}

static void
snap_expect_same(struct iommusim_iova_domain *d, const struct snap *s)
{
	struct snap now = { 0 };
	unsigned b, c;

	snap_take(d, s->ncpus, &now);
	assert_info_equal(&s->inf, &now.inf);
	expect_lists_equal(&s->list, &now.list);
	for (b = 0; b < NBINS; b++) {
		for (c = 0; c < s->ncpus; c++) {
			assert_int_equal(s->ri[b][c].loaded_size, now.ri[b][c].loaded_size);
			assert_int_equal(s->ri[b][c].prev_size, now.ri[b][c].prev_size);
			assert_int_equal(s->ri[b][c].depot_size, now.ri[b][c].depot_size);
			assert_int_equal(s->ri[b][c].work_pending, now.ri[b][c].work_pending);
		}
	}
	free(now.list.v);
}

/* ------------------------------------------------------------------------ */
/* 1. Domain creation (§1.2) */

static void
test_iova_create_defaults(void **state)
{
	struct iommusim_iova_domain *d = new_domain(0, 1);
	struct iommusim_iova_info inf = get_info(d);

	(void)state;
	assert_int_equal(inf.granule, 4096);
	assert_int_equal(inf.shift, 12);
	assert_int_equal(inf.start_pfn, 1);
	assert_int_equal(inf.dma_32bit_pfn, 0x100000);
	assert_int_equal(inf.max32_alloc_size, 0x100000);
	/* both cached nodes start on the anchor, which is never reported as a range */
	assert_int_equal(inf.cached_node.pfn_lo, ANCHOR);
	assert_int_equal(inf.cached_node.pfn_hi, ANCHOR);
	assert_int_equal(inf.cached32_node.pfn_lo, ANCHOR);
	assert_int_equal(inf.cached32_node.pfn_hi, ANCHOR);
	assert_int_equal(inf.nr_ranges, 0);
	assert_int_equal(inf.nr_pfns, 0);
	assert_false(inf.has_rcaches);
	expect_list(d, NULL, 0);
	expect_nofind(d, ANCHOR);
	check_ok(d);
	iommusim_iova_domain_destroy(d);

	/* start_pfn is kept as given, even 0 */
	d = new_domain(4096, 0);
	assert_int_equal(get_info(d).start_pfn, 0);
	iommusim_iova_domain_destroy(d);
	d = new_domain(4096, 0x1234);
	assert_int_equal(get_info(d).start_pfn, 0x1234);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_create_rejects_bad_args(void **state)
{
	static const uint64_t bad[] = { 3,	6,	    4095,
					4097,	8192,	    65536,
					0x1800, UINT64_MAX, UINT64_C(1) << 63 };
	struct iommusim_iova_cfg cfg = { .granule = 4096, .start_pfn = 1 };
	struct iommusim_iova_domain *d = (void *)&cfg; /* must stay untouched */
	size_t i;

	(void)state;
	assert_int_equal(iommusim_iova_domain_create(NULL, &d), -EINVAL);
	assert_ptr_equal(d, (void *)&cfg);
	assert_int_equal(iommusim_iova_domain_create(&cfg, NULL), -EINVAL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.granule = bad[i];
		assert_int_equal(iommusim_iova_domain_create(&cfg, &d), -EINVAL);
		assert_ptr_equal(d, (void *)&cfg);
	}
	/* every power of two up to the page size is fine, 1 included */
	for (cfg.granule = 1; cfg.granule <= 4096; cfg.granule <<= 1) {
		d = NULL;
		assert_int_equal(iommusim_iova_domain_create(&cfg, &d), 0);
		assert_int_equal(get_info(d).granule, cfg.granule);
		assert_int_equal(get_info(d).shift, t_order(cfg.granule));
		iommusim_iova_domain_destroy(d);
	}
	/* creation failing for lack of memory */
	ims_mem_fault_inject(1, 1);
	d = (void *)&cfg;
	cfg.granule = 4096;
	assert_int_equal(iommusim_iova_domain_create(&cfg, &d), -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_ptr_equal(d, (void *)&cfg);
}

static void
test_iova_create_dma32_per_granule(void **state)
{
	static const struct {
		uint64_t granule;
		unsigned shift;
		uint64_t dma32;
	} v[] = {
		{ 4096, 12, UINT64_C(1) << 20 },
		{ 2048, 11, UINT64_C(1) << 21 },
		{ 512, 9, UINT64_C(1) << 23 },
		{ 1, 0, UINT64_C(1) << 32 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct iommusim_iova_domain *d = new_domain(v[i].granule, 1);
		struct iommusim_iova_info inf = get_info(d);
		struct iommusim_iova_trace tr;

		assert_int_equal(inf.shift, v[i].shift);
		assert_int_equal(inf.dma_32bit_pfn, v[i].dma32);
		assert_int_equal(inf.max32_alloc_size, v[i].dma32);
		/* the 32-bit window ends at dma_32bit_pfn - 1: an allocation there is
		 * a 32-bit one (cached32_node), the next pfn up is not (cached_node) */
		assert_int_equal(alloc_ok(d, 1, v[i].dma32 - 1, true, &tr), v[i].dma32 - 1);
		expect_cached(d, ANCHOR, ANCHOR, v[i].dma32 - 1, v[i].dma32 - 1);
		assert_int_equal(alloc_ok(d, 1, v[i].dma32, true, &tr), v[i].dma32);
		expect_cached(d, v[i].dma32, v[i].dma32, v[i].dma32 - 1, v[i].dma32 - 1);
		check_ok(d);
		iommusim_iova_domain_destroy(d);
	}
}

static void
test_iova_destroy_null(void **state)
{
	struct iommusim_iova_domain *d;
	struct fake_timer t = { 0 };
	uint64_t *p;
	size_t i;

	(void)state;
	iommusim_iova_domain_destroy(NULL);

	/* a populated domain with caches and a depot is torn down as a whole (ASan) */
	d = new_domain(4096, 1);
	init_rcaches(d, 2, IOMMUSIM_IOVA_DEPOT_LIST, &t, 0);
	p = alloc_singles(d, 3 * MAG);
	for (i = 0; i < 3 * MAG; i++)
		ffast_ok(d, 0, p[i], 1, NULL);
	assert_int_equal(rinfo(d, 0, 0).depot_size, 1);
	assert_true(t.pending[0]);
	(void)reserve_ok(d, 0x10, 0x20, NULL);
	iommusim_iova_domain_destroy(d);
	/* the pending depot work of bin 0 was cancelled */
	assert_true(t.cancels >= 1);
	assert_false(t.pending[0]);
	free(p);
}

/* ------------------------------------------------------------------------ */
/* 2. alloc_iova (§1.3, §1.4) */

static void
test_iova_alloc_tv1_tv2_tv3(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;

	(void)state;
	/* TV-1 */
	assert_int_equal(alloc_ok(d, 1, L32, true, &tr), 0xFFFFF);
	expect_walk(&tr, 1, 1);
	assert_int_equal(tr.tree_inserts, 1);
	expect_find(d, 0xFFFFF, 0xFFFFF, 0xFFFFF);
	expect_cached(d, ANCHOR, ANCHOR, 0xFFFFF, 0xFFFFF);
	/* TV-2 */
	assert_int_equal(alloc_ok(d, 3, L32, true, &tr), 0xFFFFC);
	expect_walk(&tr, 1, 1);
	expect_find(d, 0xFFFFD, 0xFFFFC, 0xFFFFE);
	expect_cached(d, ANCHOR, ANCHOR, 0xFFFFC, 0xFFFFE);
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFB);
	expect_walk(&tr, 1, 1);
	expect_cached(d, ANCHOR, ANCHOR, 0xFFFFB, 0xFFFFB);
	/* TV-3 */
	free_ok(d, 0xFFFFF);
	expect_cached(d, ANCHOR, ANCHOR, ANCHOR, ANCHOR);
	assert_int_equal(alloc_ok(d, 1, L32, true, &tr), 0xFFFFF);
	expect_walk(&tr, 1, 1);
	{
		static const uint64_t exp[] = {
			0xFFFFB, 0xFFFFB, 0xFFFFC, 0xFFFFE, 0xFFFFF, 0xFFFFF
		};

		expect_list(d, exp, 3);
	}
	assert_int_equal(get_info(d).nr_ranges, 3);
	assert_int_equal(get_info(d).nr_pfns, 5);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_alloc_packs_below_cached_node(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	uint64_t i, pfn;

	(void)state;
	for (i = 0; i < 8; i++) {
		pfn = alloc_ok(d, 1, L32, false, &tr);
		assert_int_equal(pfn, L32 - i);
		/* the block fits directly under the cached node: one node visited */
		expect_walk(&tr, 1, 1);
		expect_cached(d, ANCHOR, ANCHOR, pfn, pfn);
	}
	assert_int_equal(alloc_ok(d, 4, L32, true, &tr), 0xFFFF4);
	expect_walk(&tr, 1, 1);
	assert_int_equal(alloc_ok(d, 16, L32, true, &tr), 0xFFFE0);
	expect_walk(&tr, 1, 1);
	/* a lower limit than the cached node's pfn: placed under the limit */
	assert_int_equal(alloc_ok(d, 1, 0x7FFFF, false, &tr), 0x7FFFF);
	expect_walk(&tr, 1, 1);
	expect_cached(d, ANCHOR, ANCHOR, 0x7FFFF, 0x7FFFF);
	/* and the next one packs under that */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0x7FFFE);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_alloc_size_alignment_holes(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	uint64_t pfn;

	(void)state;
	/* size 3: alignment 4 */
	assert_int_equal(alloc_ok(d, 3, L32, true, &tr), 0xFFFFC);
	expect_find(d, 0xFFFFC, 0xFFFFC, 0xFFFFE);
	expect_nofind(d, 0xFFFFF); /* alignment hole above */
	/* size 5: alignment 8, from 0xFFFFC - 5 = 0xFFFF7 down to 0xFFFF0 */
	assert_int_equal(alloc_ok(d, 5, L32, true, &tr), 0xFFFF0);
	expect_find(d, 0xFFFF4, 0xFFFF0, 0xFFFF4);
	for (pfn = 0xFFFF5; pfn <= 0xFFFFB; pfn++)
		expect_nofind(d, pfn);
	/* size 33: alignment 64, 0xFFFF0 - 33 = 0xFFFCF -> 0xFFFC0 */
	assert_int_equal(alloc_ok(d, 33, L32, true, &tr), 0xFFFC0);
	expect_find(d, 0xFFFE0, 0xFFFC0, 0xFFFE0);
	for (pfn = 0xFFFE1; pfn <= 0xFFFEF; pfn++)
		expect_nofind(d, pfn);
	/* size 2: alignment 2, no hole */
	assert_int_equal(alloc_ok(d, 2, L32, true, &tr), 0xFFFBE);
	/* size 16: alignment 16 (a power of two aligns to itself) */
	assert_int_equal(alloc_ok(d, 16, L32, true, &tr), 0xFFFA0);
	expect_nofind(d, 0xFFFB0);
	expect_nofind(d, 0xFFFBD);
	/* size 64: 0xFFFA0 - 64 = 0xFFF60 -> 0xFFF40 */
	assert_int_equal(alloc_ok(d, 64, L32, true, &tr), 0xFFF40);
	expect_find(d, 0xFFF7F, 0xFFF40, 0xFFF7F);
	expect_nofind(d, 0xFFF80);
	/* size 1 is never aligned */
	assert_int_equal(alloc_ok(d, 1, L32, true, &tr), 0xFFF3F);
	/* size 17: alignment 32 */
	assert_int_equal(alloc_ok(d, 17, L32, true, &tr), 0xFFF20);
	/* 0x80001 pfns align to 2^20: no room under 4 GiB (both passes fail) */
	alloc_fails(d, 0x80001, L32, true, -ENOMEM, &tr);
	expect_walk(&tr, 2, 2);
	assert_int_equal(get_max32(d), 0x80001);
	/* free the 17 (the cached node, so cached32 = [0xFFF3F]; max32 is reset) */
	free_ok(d, 0xFFF20);
	expect_cached(d, ANCHOR, ANCHOR, 0xFFF3F, 0xFFF3F);
	assert_int_equal(get_max32(d), DMA32);
	/* the same size unaligned fits */
	assert_int_equal(alloc_ok(d, 0x80001, 0xFFF1F, false, &tr), 0xFFF1F - 0x80000);
	expect_walk(&tr, 1, 1);

	assert_int_equal(get_info(d).nr_pfns, 3 + 5 + 33 + 2 + 16 + 64 + 1 + 0x80001);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_alloc_not_aligned(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	uint64_t pfn;

	(void)state;
	assert_int_equal(alloc_ok(d, 3, L32, false, &tr), 0xFFFFD);
	assert_int_equal(alloc_ok(d, 5, L32, false, &tr), 0xFFFF8);
	assert_int_equal(alloc_ok(d, 33, L32, false, &tr), 0xFFFD7);
	assert_int_equal(alloc_ok(d, 64, L32, false, &tr), 0xFFF97);
	expect_walk(&tr, 1, 1);
	/* contiguous: no holes */
	for (pfn = 0xFFF97; pfn <= 0xFFFFF; pfn++)
		assert_int_equal(
			iommusim_iova_find(d, pfn, &(struct iommusim_iova_range){ 0 }, NULL), 0);
	assert_int_equal(get_info(d).nr_pfns, 0x100000 - 0xFFF97);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

/*
 * A hole above the cached node is used only by the retry pass, i.e. only once
 * the first pass (below the cached node) fails.
 */
static void
test_iova_alloc_retry_pass_above_cached(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 0xFFFF8); /* 8 pfns under 4 GiB */
	struct iommusim_iova_trace tr;

	(void)state;
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFF);
	/* 0xFFFFF - 2 = 0xFFFFD, aligned to 2: 0xFFFFC, leaving a hole at 0xFFFFE */
	assert_int_equal(alloc_ok(d, 2, L32, true, &tr), 0xFFFFC);
	expect_nofind(d, 0xFFFFE);
	/* first pass succeeds below the cached node: the hole above is not used */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFB);
	expect_walk(&tr, 1, 1);
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFA);
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFF9);
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFF8);
	expect_walk(&tr, 1, 1);
	expect_cached(d, ANCHOR, ANCHOR, 0xFFFF8, 0xFFFF8);
	/*
	 * Pass 1 from 0xFFFF8: 0xFFFF7 < start_pfn (1 node). Pass 2: high = limit,
	 * low = 0xFFFF9, from iova_find_limit(0x100000) = the anchor: 0xFFFFF
	 * collides with [0xFFFFF], then 0xFFFFE fits above [0xFFFFC, 0xFFFFD].
	 */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFE);
	expect_walk(&tr, 3, 2);
	expect_cached(d, ANCHOR, ANCHOR, 0xFFFFE, 0xFFFFE);
	assert_int_equal(get_max32(d), DMA32);
	/*
	 * Now full. Pass 1 from [0xFFFFE] steps over all 6 ranges down to
	 * start_pfn; pass 2 (low = 0xFFFFF) visits the anchor and [0xFFFFF]: 8.
	 */
	alloc_fails(d, 1, L32, false, -ENOMEM, &tr);
	expect_walk(&tr, 8, 2);
	assert_int_equal(get_max32(d), 1);
	/* the failure disabled further 32-bit attempts of that size */
	alloc_fails(d, 1, L32, false, -ENOMEM, &tr);
	expect_fast_fail(&tr);
	/* a limit above 4 GiB is not subject to the fast fail */
	assert_int_equal(alloc_ok(d, 1, DMA32, false, &tr), DMA32);
	expect_walk(&tr, 1, 1);
	expect_cached(d, DMA32, DMA32, 0xFFFFE, 0xFFFFE);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_alloc_retry_pass_from_find_limit(void **state)
{
	/*
	 * Pass 2 with a 32-bit limit starts at iova_find_limit(): the lowest node
	 * whose pfn_hi >= the exclusive limit, here a range straddling it.
	 */
	struct iommusim_iova_domain *d = new_domain(4096, 0x7FFF0);
	struct iommusim_iova_trace tr;

	(void)state;
	/* [0x7FFFE, 0x80001] straddles the exclusive limit 0x80000 below */
	assert_int_equal(alloc_ok(d, 4, 0x80001, false, &tr), 0x7FFFE);
	expect_cached(d, ANCHOR, ANCHOR, 0x7FFFE, 0x80001);
	assert_int_equal(alloc_ok(d, 2, 0x7FFFD, true, &tr), 0x7FFFC);
	assert_int_equal(alloc_ok(d, 2, 0x7FFFD, false, &tr), 0x7FFFA);
	/* fill [0x7FFF0, 0x7FFF9] with one block, cached32 moves there */
	assert_int_equal(alloc_ok(d, 10, 0x7FFF9, false, &tr), 0x7FFF0);
	expect_cached(d, ANCHOR, ANCHOR, 0x7FFF0, 0x7FFF9);
	/* make a hole at [0x7FFFC, 0x7FFFD] above the cached node */
	free_ok(d, 0x7FFFC);
	/* freed range is above cached32 in 32-bit space: cached32 = its successor */
	expect_cached(d, ANCHOR, ANCHOR, 0x7FFFE, 0x80001);
	/* fill from the top again so that cached32 is low */
	assert_int_equal(alloc_ok(d, 1, 0x7FFFF, false, &tr), 0x7FFFD);
	expect_walk(&tr, 1, 1);
	/* cached32 = [0x7FFFD]; 0x7FFFC is the only free pfn left under 0x80000 */
	assert_int_equal(alloc_ok(d, 1, 0x7FFFF, false, &tr), 0x7FFFC);
	expect_walk(&tr, 1, 1);
	/* full under 0x80000: pass 1 from [0x7FFFC] walks [0x7FFFC], [0x7FFFA..B],
	 * [0x7FFF0..9] (3), pass 2: retry_pfn 0x7FFFC < 0x80000, low 0x7FFFD,
	 * start = iova_find_limit(0x80000) = [0x7FFFE, 0x80001]: high = 0x7FFFE,
	 * 0x7FFFD collides with [0x7FFFD] -> then [0x7FFFD]: high 0x7FFFD,
	 * new 0x7FFFC < low: stop (2). */
	alloc_fails(d, 1, 0x7FFFF, false, -ENOMEM, &tr);
	expect_walk(&tr, 5, 2);
	assert_int_equal(get_max32(d), 1);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

/*
 * The retry pass needs retry_pfn (the start node's pfn_hi) < the exclusive
 * limit: a cached node ending exactly at limit_pfn + 1 allows no retry.
 */
static void
test_iova_alloc_no_retry_when_cached_ends_at_limit(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 0xFFFF0);
	struct iommusim_iova_trace tr;

	(void)state;
	(void)reserve_ok(d, 0xFFFF0, 0xFFFFB, NULL);
	assert_int_equal(alloc_ok(d, 4, L32, false, &tr), 0xFFFFC);
	expect_cached(d, ANCHOR, ANCHOR, 0xFFFFC, 0xFFFFF);
	/* exclusive limit 0xFFFFF == cached32.pfn_hi: one pass over [0xFFFFC..]
	 * and the reservation, no retry */
	alloc_fails(d, 1, 0xFFFFE, false, -ENOMEM, &tr);
	expect_walk(&tr, 2, 1);
	assert_int_equal(get_max32(d), 1);
	iommusim_iova_domain_destroy(d);

	/* one below: retry_pfn 0xFFFFF < 0x100000, so a second pass runs */
	d = new_domain(4096, 0xFFFF0);
	(void)reserve_ok(d, 0xFFFF0, 0xFFFFB, NULL);
	assert_int_equal(alloc_ok(d, 4, L32, false, &tr), 0xFFFFC);
	alloc_fails(d, 1, L32, false, -ENOMEM, &tr);
	/* pass 1: [0xFFFFC..], reservation; pass 2 (low 0x100000): the anchor */
	expect_walk(&tr, 3, 2);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_alloc_cached_node_classification(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;

	(void)state;
	/* limit 0x100000 (exclusive 0x100001 > dma_32bit_pfn): walks from cached_node */
	assert_int_equal(alloc_ok(d, 1, DMA32, false, &tr), DMA32);
	expect_cached(d, DMA32, DMA32, ANCHOR, ANCHOR);
	/* same limit, but the result lies under 4 GiB: insert updates cached32 */
	assert_int_equal(alloc_ok(d, 1, DMA32, false, &tr), 0xFFFFF);
	expect_walk(&tr, 1, 1);
	expect_cached(d, DMA32, DMA32, 0xFFFFF, 0xFFFFF);
	/* cached_node still [0x100000]: the walk starts there and skips [0xFFFFF] */
	assert_int_equal(alloc_ok(d, 1, DMA32, false, &tr), 0xFFFFE);
	expect_walk(&tr, 2, 1);
	expect_cached(d, DMA32, DMA32, 0xFFFFE, 0xFFFFE);
	iommusim_iova_domain_destroy(d);

	/* a range straddling 4 GiB is classified by pfn_hi: cached_node */
	d = new_domain(4096, 1);
	assert_int_equal(alloc_ok(d, 4, 0x100001, false, &tr), 0xFFFFE);
	expect_find(d, 0x100001, 0xFFFFE, 0x100001);
	expect_cached(d, 0xFFFFE, 0x100001, ANCHOR, ANCHOR);
	/* a 32-bit allocation starts at cached32 (the anchor) and skips it */
	assert_int_equal(alloc_ok(d, 2, L32, true, &tr), 0xFFFFC);
	expect_walk(&tr, 2, 1);
	expect_cached(d, 0xFFFFE, 0x100001, 0xFFFFC, 0xFFFFD);
	/* from cached_node (64-bit limit) but under 4 GiB: updates cached32 */
	assert_int_equal(alloc_ok(d, 4, 0x100001, false, &tr), 0xFFFF8);
	expect_walk(&tr, 2, 1);
	expect_cached(d, 0xFFFFE, 0x100001, 0xFFFF8, 0xFFFFB);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_alloc_above_4g(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	const uint64_t big = UINT64_C(1) << 30, lim40 = (UINT64_C(1) << 40) - 1;

	(void)state;
	assert_int_equal(alloc_ok(d, 1, 0xFFFFFFFF, false, &tr), 0xFFFFFFFF);
	expect_cached(d, 0xFFFFFFFF, 0xFFFFFFFF, ANCHOR, ANCHOR);
	/* a lower 64-bit limit: from cached_node, high = min(limit + 1, lo) */
	assert_int_equal(alloc_ok(d, 1, 0x1FFFFF, false, &tr), 0x1FFFFF);
	expect_walk(&tr, 1, 1);
	expect_cached(d, 0x1FFFFF, 0x1FFFFF, ANCHOR, ANCHOR);
	/* 32-bit: from the anchor, stepping over both 64-bit ranges */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFF);
	expect_walk(&tr, 3, 1);
	expect_cached(d, 0x1FFFFF, 0x1FFFFF, 0xFFFFF, 0xFFFFF);
	/*
	 * 2^30 pages, aligned, under 2^40: pass 1 from [0x1FFFFF] has high <
	 * size (the wrapped candidate does not collide with [0xFFFFF]: 1 node);
	 * pass 2 from the anchor places it at 2^40 - 2^30 (1 node).
	 */
	assert_int_equal(alloc_ok(d, big, lim40, true, &tr), (UINT64_C(1) << 40) - big);
	expect_walk(&tr, 2, 2);
	expect_cached(d, (UINT64_C(1) << 40) - big, lim40, 0xFFFFF, 0xFFFFF);
	/* the largest limit still walks from cached_node, not from the top */
	assert_int_equal(alloc_ok(d, 8, ANCHOR - 1, true, &tr), (UINT64_C(1) << 40) - big - 8);
	expect_walk(&tr, 1, 1);
	check_ok(d);
	iommusim_iova_domain_destroy(d);

	/* on a fresh domain it starts right under the anchor */
	d = new_domain(4096, 1);
	assert_int_equal(alloc_ok(d, 8, ANCHOR - 1, true, &tr), ANCHOR - 15);
	expect_walk(&tr, 1, 1);
	expect_find(d, ANCHOR - 8, ANCHOR - 15, ANCHOR - 8);
	expect_cached(d, ANCHOR - 15, ANCHOR - 8, ANCHOR, ANCHOR);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_alloc_32bit_fast_fail(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;

	(void)state;
	/* 20 free pfns under 4 GiB: [0xFFFEC, 0xFFFFF] */
	(void)reserve_ok(d, 1, 0xFFFEB, NULL);
	assert_int_equal(alloc_ok(d, 16, L32, true, &tr), 0xFFFF0);
	expect_walk(&tr, 1, 1);
	/* 8 aligned: pass 1 [0xFFFF0] and the reservation, pass 2 the anchor */
	alloc_fails(d, 8, L32, true, -ENOMEM, &tr);
	expect_walk(&tr, 3, 2);
	assert_int_equal(get_max32(d), 8);
	/* sizes >= max32_alloc_size fail without a walk */
	alloc_fails(d, 8, L32, true, -ENOMEM, &tr);
	expect_fast_fail(&tr);
	alloc_fails(d, 16, L32, false, -ENOMEM, &tr);
	expect_fast_fail(&tr);
	alloc_fails(d, 9, 0x7FFFF, false, -ENOMEM, &tr);
	expect_fast_fail(&tr);
	assert_int_equal(get_max32(d), 8);
	/* a smaller one still walks, and here fits into the 4-pfn hole */
	assert_int_equal(alloc_ok(d, 4, L32, true, &tr), 0xFFFEC);
	expect_walk(&tr, 1, 1);
	assert_int_equal(get_max32(d), 8); /* success does not reset it */
	/* limits above 4 GiB never fast-fail */
	assert_int_equal(alloc_ok(d, 8, 0x100007, true, &tr), DMA32);
	expect_walk(&tr, 1, 1);
	/* a walked 32-bit failure of a smaller size lowers the threshold */
	alloc_fails(d, 2, L32, false, -ENOMEM, &tr);
	assert_int_equal(tr.fast_fails, 0);
	assert_true(tr.walk_passes >= 1);
	assert_int_equal(get_max32(d), 2);
	alloc_fails(d, 2, L32, false, -ENOMEM, &tr);
	expect_fast_fail(&tr);
	/* freeing a 32-bit range resets it to dma_32bit_pfn */
	free_ok(d, 0xFFFEC);
	assert_int_equal(get_max32(d), DMA32);
	assert_int_equal(alloc_ok(d, 2, L32, false, &tr), 0xFFFEE);
	assert_int_equal(tr.fast_fails, 0);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_alloc_max32_set_on_any_failure(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;

	(void)state;
	/* nothing free up to 0x1FFFFF */
	(void)reserve_ok(d, 1, 0x1FFFFF, NULL);
	/* a 64-bit limit: anchor, then the reservation; no retry (cached is the anchor) */
	alloc_fails(d, 1, 0x1FFFFF, false, -ENOMEM, &tr);
	expect_walk(&tr, 2, 1);
	/* the kernel sets max32_alloc_size even for limits above 4 GiB */
	assert_int_equal(get_max32(d), 1);
	alloc_fails(d, 1, L32, false, -ENOMEM, &tr);
	expect_fast_fail(&tr);
	iommusim_iova_domain_destroy(d);

	/* a size larger than the whole window: set to that size, above dma_32bit_pfn */
	d = new_domain(4096, 1);
	alloc_fails(d, 0x300000, 0x2FFFFF, false, -ENOMEM, &tr);
	expect_walk(&tr, 1, 1);
	assert_int_equal(get_max32(d), 0x300000);
	/* a fast fail does not change it */
	alloc_fails(d, 0x400000, L32, false, -ENOMEM, &tr);
	expect_fast_fail(&tr);
	assert_int_equal(get_max32(d), 0x300000);
	iommusim_iova_domain_destroy(d);
}

/*
 * Insert classifies by pfn_hi < dma_32bit_pfn, delete resets max32_alloc_size
 * by pfn_lo < dma_32bit_pfn (§1.4).
 */
static void
test_iova_free_max32_reset_asymmetry(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;

	(void)state;
	/* the straddling range [0xFFFFE, 0x100001] updates cached_node on insert */
	assert_int_equal(alloc_ok(d, 4, 0x100001, false, &tr), 0xFFFFE);
	expect_cached(d, 0xFFFFE, 0x100001, ANCHOR, ANCHOR);
	(void)reserve_ok(d, 0x100002, 0x3FFFFF, NULL);
	(void)reserve_ok(d, 1, 0xFFFFD, NULL);
	/* pass 1 from the straddler (2 nodes), pass 2 from the anchor (2 nodes) */
	alloc_fails(d, 1, 0x3FFFFF, false, -ENOMEM, &tr);
	expect_walk(&tr, 4, 2);
	assert_int_equal(get_max32(d), 1);
	/* freeing it (by a pfn in its middle, above 4 GiB) resets max32: pfn_lo < 4 GiB */
	free_ok(d, DMA32);
	assert_int_equal(get_max32(d), DMA32);
	expect_cached(d, 0x100002, 0x3FFFFF, ANCHOR, ANCHOR);
	check_ok(d);
	iommusim_iova_domain_destroy(d);

	/* a range with pfn_lo >= dma_32bit_pfn does not reset it */
	d = new_domain(4096, 1);
	assert_int_equal(alloc_ok(d, 4, 0x100003, false, &tr), DMA32);
	expect_cached(d, DMA32, 0x100003, ANCHOR, ANCHOR);
	(void)reserve_ok(d, 1, 0xFFFFF, NULL);
	alloc_fails(d, 1, L32, false, -ENOMEM, &tr);
	expect_walk(&tr, 3, 1);
	assert_int_equal(get_max32(d), 1);
	free_ok(d, 0x100002);
	assert_int_equal(get_max32(d), 1);
	expect_cached(d, ANCHOR, ANCHOR, ANCHOR, ANCHOR);
	alloc_fails(d, 1, L32, false, -ENOMEM, &tr);
	expect_fast_fail(&tr);
	/* a reserved range is freed like any other: pfn_lo 1 < 4 GiB resets */
	free_ok(d, 5);
	assert_int_equal(get_max32(d), DMA32);
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFF);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_free_cached32_update_rules(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;

	(void)state;
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFF); /* A */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFE); /* B */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFD); /* C */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFC); /* D */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFB); /* E */
	expect_cached(d, ANCHOR, ANCHOR, 0xFFFFB, 0xFFFFB);
	(void)reserve_ok(d, 0x1000, 0x1000, NULL);
	expect_cached(d, ANCHOR, ANCHOR, 0xFFFFB, 0xFFFFB);
	/* below cached32: unchanged */
	free_ok(d, 0x1000);
	expect_cached(d, ANCHOR, ANCHOR, 0xFFFFB, 0xFFFFB);
	/* the cached node itself: its successor */
	free_ok(d, 0xFFFFB);
	expect_cached(d, ANCHOR, ANCHOR, 0xFFFFC, 0xFFFFC);
	/* above cached32 in 32-bit space: the freed range's successor */
	free_ok(d, 0xFFFFE);
	expect_cached(d, ANCHOR, ANCHOR, 0xFFFFF, 0xFFFFF);
	/* the next 32-bit allocation reuses the hole at 0xFFFFE first */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFE);
	expect_walk(&tr, 1, 1);
	expect_cached(d, ANCHOR, ANCHOR, 0xFFFFE, 0xFFFFE);
	/* below it: unchanged */
	free_ok(d, 0xFFFFD);
	expect_cached(d, ANCHOR, ANCHOR, 0xFFFFE, 0xFFFFE);
	/* above it, the top one: its successor is the anchor */
	free_ok(d, 0xFFFFF);
	expect_cached(d, ANCHOR, ANCHOR, ANCHOR, ANCHOR);
	{
		static const uint64_t exp[] = { 0xFFFFC, 0xFFFFC, 0xFFFFE, 0xFFFFE };

		expect_list(d, exp, 2);
	}
	check_ok(d);
	iommusim_iova_domain_destroy(d);

	/*
	 * "free == cached32" on its own: cached32 can point at a range above
	 * 4 GiB (the successor of a freed one); freeing that range must move it.
	 */
	d = new_domain(4096, 1);
	assert_int_equal(alloc_ok(d, 1, DMA32, false, &tr), DMA32); /* X, cached_node */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFF); /* cached32 */
	expect_cached(d, DMA32, DMA32, 0xFFFFF, 0xFFFFF);
	free_ok(d, 0xFFFFF);
	expect_cached(d, DMA32, DMA32, DMA32, DMA32);
	free_ok(d, DMA32);
	expect_cached(d, ANCHOR, ANCHOR, ANCHOR, ANCHOR);
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFF);
	expect_walk(&tr, 1, 1);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_free_cached_node_update_rules(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;

	(void)state;
	assert_int_equal(alloc_ok(d, 1, 0x1FFFFF, false, &tr), 0x1FFFFF); /* X1 */
	assert_int_equal(alloc_ok(d, 1, 0x1FFFFF, false, &tr), 0x1FFFFE); /* X2 */
	assert_int_equal(alloc_ok(d, 1, 0x1FFFFF, false, &tr), 0x1FFFFD); /* X3 */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFF); /* Y */
	expect_cached(d, 0x1FFFFD, 0x1FFFFD, 0xFFFFF, 0xFFFFF);
	(void)reserve_ok(d, 0x100000, 0x100000, NULL);
	/* below cached_node: unchanged (and cached32 is not concerned) */
	free_ok(d, 0x100000);
	expect_cached(d, 0x1FFFFD, 0x1FFFFD, 0xFFFFF, 0xFFFFF);
	/* a 32-bit range below cached_node: cached_node unchanged; it is
	 * cached32 itself, which moves to its successor X3 (above 4 GiB) */
	free_ok(d, 0xFFFFF);
	expect_cached(d, 0x1FFFFD, 0x1FFFFD, 0x1FFFFD, 0x1FFFFD);
	/* above cached_node: successor of the freed range; cached32 (X3) stays */
	free_ok(d, 0x1FFFFE);
	expect_cached(d, 0x1FFFFF, 0x1FFFFF, 0x1FFFFD, 0x1FFFFD);
	/* below cached_node: unchanged; but it is cached32: successor X1 */
	free_ok(d, 0x1FFFFD);
	expect_cached(d, 0x1FFFFF, 0x1FFFFF, 0x1FFFFF, 0x1FFFFF);
	/* the cached node itself: the anchor, for both */
	free_ok(d, 0x1FFFFF);
	expect_cached(d, ANCHOR, ANCHOR, ANCHOR, ANCHOR);
	assert_int_equal(get_info(d).nr_ranges, 0);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_alloc_rejects_bad_args(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 0x10);
	struct iommusim_iova_trace tr;
	struct snap s = { 0 };

	(void)state;
	(void)alloc_ok(d, 3, L32, true, &tr);
	(void)alloc_ok(d, 1, 0x1FFFFF, true, &tr);
	/* a failure so that max32 is not the default */
	(void)reserve_ok(d, 0x10, 0xFFFFB, NULL);
	alloc_fails(d, 2, L32, false, -ENOMEM, &tr);
	assert_int_equal(get_max32(d), 2);
	snap_take(d, 0, &s);

	alloc_fails(d, 0, L32, false, -EINVAL, NULL);
	alloc_fails(d, 0, 0x1FFFFFF, true, -EINVAL, NULL);
	alloc_fails(d, (UINT64_C(1) << 62) + 1, ANCHOR - 1, false, -EINVAL, NULL);
	alloc_fails(d, UINT64_MAX, ANCHOR - 1, true, -EINVAL, NULL);
	alloc_fails(d, 1, ANCHOR, false, -EINVAL, NULL);
	assert_int_equal(iommusim_iova_alloc(d, 1, L32, false, NULL, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_alloc(NULL, 1, L32, false, &(uint64_t){ 0 }, NULL), -EINVAL);
	/* (a limit below start_pfn is no bad argument: see
	 * test_iova_alloc_limit_below_start_fails_like_the_kernel) */
	snap_expect_same(d, &s);
	/* the largest valid size is refused for lack of room only */
	alloc_fails(d, UINT64_C(1) << 62, 0x1FFFFFFF, false, -ENOMEM, NULL);
	assert_int_equal(get_max32(d), UINT64_C(1) << 62);
	/* limit == start_pfn is valid */
	iommusim_iova_domain_destroy(d);
	d = new_domain(4096, 0x10);
	assert_int_equal(alloc_ok(d, 1, 0x10, false, NULL), 0x10);
	snap_free(&s);
	iommusim_iova_domain_destroy(d);
}

/*
 * A limit below start_pfn (dma-iommu's 32-bit attempt on an aperture from
 * 4 GiB) is a plain failure in the kernel, not a refused argument: the walk's
 * first candidate lies below start_pfn (or wraps), no retry pass runs (the
 * cached node ends at or above start_pfn), and max32_alloc_size takes the
 * size, so that later 32-bit requests fast-fail (§1.3 steps 2-5).
 */
static void
test_iova_alloc_limit_below_start_fails_like_the_kernel(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, DMA32);
	struct iommusim_iova_trace tr;
	struct snap s = { 0 };

	(void)state;
	assert_int_equal(alloc_ok(d, 1, 0x1FFFFF, true, &tr), 0x1FFFFF);
	/* a reservation may lie below start_pfn; the allocator never hands it out */
	(void)reserve_ok(d, 0x100, 0x1FF, NULL);
	snap_take(d, 0, &s);
	assert_int_equal(get_max32(d), DMA32);

	/* the 32-bit limit: one node visited, one pass, nothing inserted */
	alloc_fails(d, 1, L32, false, -ENOMEM, &tr);
	expect_walk(&tr, 1, 1);
	assert_int_equal(tr.tree_inserts, 0);
	/* the only change: max32_alloc_size, as after any failed walk */
	assert_int_equal(get_max32(d), 1);
	s.inf.max32_alloc_size = 1;
	snap_expect_same(d, &s);
	/* so every 32-bit request now fails without a walk, below start or not */
	alloc_fails(d, 1, L32, true, -ENOMEM, &tr);
	expect_fast_fail(&tr);
	alloc_fails(d, 3, 0x7FFFF, true, -ENOMEM, &tr);
	expect_fast_fail(&tr);
	snap_expect_same(d, &s);
	/* freeing a range above 4 GiB leaves the threshold; one under 4 GiB
	 * (here the reservation, pfn_lo < dma_32bit_pfn) resets it */
	free_ok(d, 0x1FFFFF);
	assert_int_equal(get_max32(d), 1);
	expect_cached(d, ANCHOR, ANCHOR, ANCHOR, ANCHOR);
	free_ok(d, 0x150);
	assert_int_equal(get_max32(d), DMA32);
	/* a size above limit + 1: the candidate wraps, the walk still stops at
	 * its first node, and max32_alloc_size takes the size */
	alloc_fails(d, 8, 2, true, -ENOMEM, &tr);
	expect_walk(&tr, 1, 1);
	assert_int_equal(get_max32(d), 8);
	alloc_fails(d, 8, 0, false, -ENOMEM, &tr);
	expect_fast_fail(&tr);
	/* the full limit is not affected, and its success keeps the threshold */
	assert_int_equal(alloc_ok(d, 8, 0x1FFFFF, true, &tr), 0x1FFFF8);
	expect_walk(&tr, 1, 1);
	assert_int_equal(get_max32(d), 8);
	assert_int_equal(get_info(d).nr_ranges, 1);
	check_ok(d);
	snap_free(&s);
	iommusim_iova_domain_destroy(d);

	/* start_pfn above 4 GiB: a limit below it that is above 4 GiB never
	 * fast-fails, yet each failure still sets max32_alloc_size */
	d = new_domain(4096, 0x200000);
	alloc_fails(d, 4, 0x1FFFFF, true, -ENOMEM, &tr);
	expect_walk(&tr, 1, 1);
	assert_int_equal(get_max32(d), 4);
	alloc_fails(d, 4, 0x1FFFFF, true, -ENOMEM, &tr);
	expect_walk(&tr, 1, 1);
	alloc_fails(d, 16, 0x180000, false, -ENOMEM, &tr);
	expect_walk(&tr, 1, 1);
	assert_int_equal(get_max32(d), 16);
	/* which the 32-bit requests then fast-fail against */
	alloc_fails(d, 16, L32, false, -ENOMEM, &tr);
	expect_fast_fail(&tr);
	alloc_fails(d, 2, L32, false, -ENOMEM, &tr);
	expect_walk(&tr, 1, 1);
	assert_int_equal(get_max32(d), 2);
	assert_int_equal(get_info(d).nr_ranges, 0);
	expect_cached(d, ANCHOR, ANCHOR, ANCHOR, ANCHOR);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_alloc_enomem_changes_nothing(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	struct snap s = { 0 };
	struct iommusim_iova_range r = { 7, 7 };

	(void)state;
	(void)alloc_ok(d, 1, L32, true, &tr);
	(void)alloc_ok(d, 4, L32, true, &tr);
	(void)alloc_ok(d, 4, 0x1FFFFF, true, &tr);
	snap_take(d, 0, &s);
	ims_mem_fault_inject(1, 1);
	alloc_fails(d, 1, L32, false, -ENOMEM, &tr);
	ims_mem_fault_inject(0, 0);
	/* max32_alloc_size untouched: this was no lack of IOVA space */
	snap_expect_same(d, &s);
	ims_mem_fault_inject(1, 1);
	alloc_fails(d, 1, 0x1FFFFF, false, -ENOMEM, &tr);
	ims_mem_fault_inject(0, 0);
	snap_expect_same(d, &s);
	/* a new reservation needs a node too */
	ims_mem_fault_inject(1, 1);
	assert_int_equal(iommusim_iova_reserve(d, 0x100, 0x1FF, &r, NULL), -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_int_equal(r.pfn_lo, 7);
	snap_expect_same(d, &s);
	/* and everything works afterwards as if nothing happened */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFF7);
	expect_walk(&tr, 1, 1);
	check_ok(d);
	snap_free(&s);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_alloc_walk_length(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	uint64_t i;

	(void)state;
	/* fresh domain: the anchor only (its predecessor is NULL) */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFF);
	expect_walk(&tr, 1, 1);
	for (i = 1; i < 5; i++) {
		assert_int_equal(alloc_ok(d, 1, L32, false, &tr), L32 - i);
		expect_walk(&tr, 1, 1);
	}
	/* free the top range: cached32 goes back to the anchor */
	free_ok(d, 0xFFFFF);
	expect_cached(d, ANCHOR, ANCHOR, ANCHOR, ANCHOR);
	/* 2 aligned: must step over [E], [D], [C], [B] (j = 4): 5 nodes */
	assert_int_equal(alloc_ok(d, 2, L32, true, &tr), 0xFFFF8);
	expect_walk(&tr, 5, 1);
	expect_nofind(d, 0xFFFFA); /* alignment hole */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFF7);
	expect_walk(&tr, 1, 1);
	/* free [E]: above cached32, so cached32 = successor = anchor */
	free_ok(d, 0xFFFFE);
	expect_cached(d, ANCHOR, ANCHOR, ANCHOR, ANCHOR);
	/* fits directly under the anchor */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFF);
	expect_walk(&tr, 1, 1);
	/* fits directly under [F]: 1 */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFE);
	expect_walk(&tr, 1, 1);
	/* steps over [D], [C], [B] (j = 3) into the alignment hole: 4 */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFFD - 3);
	expect_walk(&tr, 4, 1);
	/* traces add up */
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_alloc(d, 1, L32, false, &i, &tr), 0);
	assert_int_equal(iommusim_iova_alloc(d, 1, L32, false, &i, &tr), 0);
	/* [0xFFFFA] -> 0xFFFF9 collides with [0xFFFF8, 0xFFFF9], 0xFFFF7 with
	 * [0xFFFF7]: 0xFFFF6 after 3 nodes; then 0xFFFF5 after 1 */
	assert_int_equal(tr.walk_passes, 2);
	assert_int_equal(tr.walk_nodes, 4);
	assert_int_equal(tr.tree_inserts, 2);
	expect_find(d, 0xFFFF5, 0xFFFF5, 0xFFFF5);
	/* a NULL trace is fine */
	assert_int_equal(iommusim_iova_alloc(d, 1, L32, false, &i, NULL), 0);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

/* ------------------------------------------------------------------------ */
/* 3. find and free (§1.5) */

static void
test_iova_find_ranges(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_range r = { 3, 3 };
	struct iommusim_iova_trace tr = { 0 };

	(void)state;
	(void)alloc_ok(d, 3, L32, true, NULL); /* [0xFFFFC, 0xFFFFE] */
	(void)alloc_ok(d, 100, 0x1FFFFF, false, NULL); /* [0x1FFF9C, 0x1FFFFF] */
	(void)reserve_ok(d, 0, 0, NULL);
	expect_find(d, 0xFFFFC, 0xFFFFC, 0xFFFFE);
	expect_find(d, 0xFFFFD, 0xFFFFC, 0xFFFFE);
	expect_find(d, 0xFFFFE, 0xFFFFC, 0xFFFFE);
	expect_find(d, 0x1FFF9C, 0x1FFF9C, 0x1FFFFF);
	expect_find(d, 0x1FFFFF, 0x1FFF9C, 0x1FFFFF);
	expect_find(d, 0, 0, 0);
	expect_nofind(d, 1);
	expect_nofind(d, 0xFFFFB);
	expect_nofind(d, 0xFFFFF);
	expect_nofind(d, 0x1FFF9B);
	expect_nofind(d, 0x200000);
	expect_nofind(d, ANCHOR - 1);
	expect_nofind(d, ANCHOR); /* the anchor is not a range */
	assert_int_equal(iommusim_iova_find(d, 0xFFFFC, NULL, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_find(NULL, 0xFFFFC, &r, NULL), -EINVAL);
	assert_int_equal(r.pfn_lo, 3);
	assert_int_equal(iommusim_iova_find(d, 0xFFFFD, &r, &tr), 0);
	assert_true(tr.lookup_nodes >= 1);
	assert_int_equal(tr.walk_nodes, 0);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_free_unknown_and_middle(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr = { 0 };
	struct snap s = { 0 };

	(void)state;
	(void)alloc_ok(d, 1, L32, true, NULL); /* [0xFFFFF] */
	(void)alloc_ok(d, 3, L32, true, NULL); /* [0xFFFFC, 0xFFFFE] */
	(void)alloc_ok(d, 1, L32, true, NULL); /* [0xFFFFB] */
	snap_take(d, 0, &s);
	assert_int_equal(iommusim_iova_free(d, 0x1234, &tr), -ENOENT);
	assert_int_equal(iommusim_iova_free(d, 0xFFFFA, &tr), -ENOENT);
	assert_int_equal(iommusim_iova_free(d, 0x100000, &tr), -ENOENT);
	assert_int_equal(iommusim_iova_free(d, ANCHOR, &tr), -ENOENT);
	assert_int_equal(iommusim_iova_free(NULL, 0xFFFFB, &tr), -EINVAL);
	assert_int_equal(tr.tree_erases, 0);
	snap_expect_same(d, &s);
	/* by a pfn in the middle: the whole range goes */
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_free(d, 0xFFFFD, &tr), 0);
	assert_int_equal(tr.tree_erases, 1);
	expect_nofind(d, 0xFFFFC);
	expect_nofind(d, 0xFFFFD);
	expect_nofind(d, 0xFFFFE);
	{
		static const uint64_t exp[] = { 0xFFFFB, 0xFFFFB, 0xFFFFF, 0xFFFFF };

		expect_list(d, exp, 2);
	}
	assert_int_equal(get_info(d).nr_pfns, 2);
	/* by its last pfn */
	free_ok(d, 0xFFFFF);
	/* and a second free of the same pfn is unknown */
	assert_int_equal(iommusim_iova_free(d, 0xFFFFF, NULL), -ENOENT);
	check_ok(d);
	snap_free(&s);
	iommusim_iova_domain_destroy(d);
}

/* ------------------------------------------------------------------------ */
/* 4. reserve_iova (§1.6) */

static void
test_iova_reserve_new_inside_extend(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	struct iommusim_iova_range r;

	(void)state;
	/* a new range; the scan visits the anchor only */
	r = reserve_ok(d, 0x100, 0x1FF, &tr);
	assert_int_equal(r.pfn_lo, 0x100);
	assert_int_equal(r.pfn_hi, 0x1FF);
	assert_int_equal(tr.reserve_nodes, 1);
	assert_int_equal(tr.tree_inserts, 1);
	/* fully inside: that range, unchanged, nothing inserted */
	r = reserve_ok(d, 0x120, 0x130, &tr);
	assert_int_equal(r.pfn_lo, 0x100);
	assert_int_equal(r.pfn_hi, 0x1FF);
	assert_int_equal(tr.reserve_nodes, 1);
	assert_int_equal(tr.tree_inserts, 0);
	r = reserve_ok(d, 0x100, 0x1FF, &tr);
	assert_int_equal(r.pfn_lo, 0x100);
	assert_int_equal(r.pfn_hi, 0x1FF);
	/* overlapping its low end: the node grows downwards */
	r = reserve_ok(d, 0xF0, 0x110, &tr);
	assert_int_equal(r.pfn_lo, 0xF0);
	assert_int_equal(r.pfn_hi, 0x1FF);
	assert_int_equal(tr.reserve_nodes, 1);
	assert_int_equal(tr.tree_inserts, 0);
	{
		static const uint64_t exp[] = { 0xF0, 0x1FF };

		expect_list(d, exp, 1);
	}
	expect_find(d, 0xF0, 0xF0, 0x1FF);
	/* new below all: the scan visits [0xF0..] and the anchor */
	r = reserve_ok(d, 0x10, 0x20, &tr);
	assert_int_equal(r.pfn_lo, 0x10);
	assert_int_equal(r.pfn_hi, 0x20);
	assert_int_equal(tr.reserve_nodes, 2);
	/* new above all: 3 */
	r = reserve_ok(d, 0x500, 0x600, &tr);
	assert_int_equal(tr.reserve_nodes, 3);
	/* inside the 2nd: the scan stops there */
	r = reserve_ok(d, 0x150, 0x1FF, &tr);
	assert_int_equal(r.pfn_lo, 0xF0);
	assert_int_equal(r.pfn_hi, 0x1FF);
	assert_int_equal(tr.reserve_nodes, 2);
	/* overlapping the high end: the tail becomes a new range; the scan stops at
	 * the first non-overlapping node after the overlap ([0x500..]) */
	r = reserve_ok(d, 0x1F0, 0x210, &tr);
	assert_int_equal(r.pfn_lo, 0x200);
	assert_int_equal(r.pfn_hi, 0x210);
	assert_int_equal(tr.reserve_nodes, 3);
	{
		static const uint64_t exp[] = {
			0x10, 0x20, 0xF0, 0x1FF, 0x200, 0x210, 0x500, 0x600
		};

		expect_list(d, exp, 4);
	}
	/* adjacent ranges are not merged by a request touching both ends */
	r = reserve_ok(d, 0x21, 0xEF, &tr);
	assert_int_equal(r.pfn_lo, 0x21);
	assert_int_equal(r.pfn_hi, 0xEF);
	assert_int_equal(get_info(d).nr_ranges, 5);
	assert_int_equal(get_info(d).nr_pfns, 0x600 - 0x10 + 1 - (0x4FF - 0x211 + 1));
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_reserve_spanning_two_ranges(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	struct iommusim_iova_range r;

	(void)state;
	(void)reserve_ok(d, 0x100, 0x1FF, NULL);
	(void)reserve_ok(d, 0x300, 0x3FF, NULL);
	/* [0x180, 0x480]: the first is untouched, the second grows down to 0x200,
	 * the tail [0x400, 0x480] is new; scan: both nodes and the anchor */
	r = reserve_ok(d, 0x180, 0x480, &tr);
	assert_int_equal(r.pfn_lo, 0x400);
	assert_int_equal(r.pfn_hi, 0x480);
	assert_int_equal(tr.reserve_nodes, 3);
	assert_int_equal(tr.tree_inserts, 1);
	{
		static const uint64_t exp[] = { 0x100, 0x1FF, 0x200, 0x3FF, 0x400, 0x480 };

		expect_list(d, exp, 3);
	}
	/* request ending inside the upper range: it grows down, nothing is inserted */
	(void)reserve_ok(d, 0x1000, 0x10FF, NULL);
	(void)reserve_ok(d, 0x1200, 0x12FF, NULL);
	r = reserve_ok(d, 0x1080, 0x1250, &tr);
	assert_int_equal(r.pfn_lo, 0x1100);
	assert_int_equal(r.pfn_hi, 0x12FF);
	assert_int_equal(tr.tree_inserts, 0);
	assert_int_equal(tr.reserve_nodes, 5);
	/* request covering a range from below and above: it grows down, tail new */
	(void)reserve_ok(d, 0x2000, 0x20FF, NULL);
	r = reserve_ok(d, 0x1F00, 0x2200, &tr);
	assert_int_equal(r.pfn_lo, 0x2100);
	assert_int_equal(r.pfn_hi, 0x2200);
	{
		static const uint64_t exp[] = { 0x100,	0x1FF,	0x200,	0x3FF,	0x400,
						0x480,	0x1000, 0x10FF, 0x1100, 0x12FF,
						0x1F00, 0x20FF, 0x2100, 0x2200 };

		expect_list(d, exp, 7);
	}
	/* three ranges and two gaps, ending in the gap above the last */
	r = reserve_ok(d, 0xF0, 0x490, &tr);
	assert_int_equal(r.pfn_lo, 0x481);
	assert_int_equal(r.pfn_hi, 0x490);
	assert_int_equal(tr.reserve_nodes, 4);
	{
		static const uint64_t exp[] = { 0xF0,	0x1FF,	0x200,	0x3FF,	0x400,	0x480,
						0x481,	0x490,	0x1000, 0x10FF, 0x1100, 0x12FF,
						0x1F00, 0x20FF, 0x2100, 0x2200 };

		expect_list(d, exp, 8);
	}
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_reserve_keeps_cached_nodes(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	struct iommusim_iova_range r;

	(void)state;
	(void)alloc_ok(d, 1, L32, false, NULL); /* A */
	(void)alloc_ok(d, 1, L32, false, NULL); /* B = cached32 */
	(void)alloc_ok(d, 1, 0x1FFFFF, false, NULL); /* cached_node */
	expect_cached(d, 0x1FFFFF, 0x1FFFFF, 0xFFFFE, 0xFFFFE);
	(void)reserve_ok(d, 0x10, 0x20, &tr);
	(void)reserve_ok(d, 0x200000, 0x200010, &tr);
	(void)reserve_ok(d, 0xFFFFF, 0x100100, &tr); /* extends nothing: tail only */
	expect_cached(d, 0x1FFFFF, 0x1FFFFF, 0xFFFFE, 0xFFFFE);
	/* growing the cached node downwards: still the same node */
	r = reserve_ok(d, 0xFFFF0, 0xFFFFE, &tr);
	assert_int_equal(r.pfn_lo, 0xFFFF0);
	assert_int_equal(r.pfn_hi, 0xFFFFE);
	expect_cached(d, 0x1FFFFF, 0x1FFFFF, 0xFFFF0, 0xFFFFE);
	/* the next 32-bit allocation goes right under it */
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFEF);
	expect_walk(&tr, 1, 1);
	/* reserved ranges can be freed; the extended node goes as a whole */
	free_ok(d, 0xFFFF5);
	expect_nofind(d, 0xFFFFE);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_reserve_rejects_bad_args(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	const uint64_t max = UINT64_MAX >> 12;
	struct iommusim_iova_range r = { 9, 9 };
	struct snap s = { 0 };

	(void)state;
	(void)reserve_ok(d, 0x100, 0x1FF, NULL);
	snap_take(d, 0, &s);
	assert_int_equal(iommusim_iova_reserve(d, 5, 4, &r, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_reserve(d, 0x1FF, 0x100, &r, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_reserve(d, 0, max + 1, &r, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_reserve(d, max + 1, max + 1, &r, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_reserve(d, max + 1, max, &r, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_reserve(d, 0x150, UINT64_MAX, &r, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_reserve(NULL, 1, 2, &r, NULL), -EINVAL);
	assert_int_equal(r.pfn_lo, 9);
	snap_expect_same(d, &s);
	/* the limit itself is fine, and out may be NULL */
	assert_int_equal(iommusim_iova_reserve(d, max, max, NULL, NULL), 0);
	expect_find(d, max, max, max);
	snap_free(&s);
	iommusim_iova_domain_destroy(d);

	/* the bound depends on the granule */
	d = new_domain(512, 1);
	assert_int_equal(iommusim_iova_reserve(d, 0, (UINT64_MAX >> 9) + 1, &r, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_reserve(d, UINT64_MAX >> 9, UINT64_MAX >> 9, &r, NULL), 0);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_reserve_skipped_by_alloc(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;

	(void)state;
	(void)reserve_ok(d, 0xFFFF0, 0xFFFFF, NULL);
	assert_int_equal(alloc_ok(d, 1, L32, false, &tr), 0xFFFEF);
	expect_walk(&tr, 2, 1);
	(void)reserve_ok(d, 0xFFF00, 0xFFFEE, NULL);
	/* 16 aligned under [0xFFF00..]: 0xFFEF0 */
	assert_int_equal(alloc_ok(d, 16, L32, true, &tr), 0xFFEF0);
	expect_walk(&tr, 2, 1);
	/* a reservation below the cached node makes the walk step over it */
	(void)reserve_ok(d, 0xFFEE0, 0xFFEEF, NULL);
	assert_int_equal(alloc_ok(d, 16, L32, true, &tr), 0xFFED0);
	expect_walk(&tr, 2, 1);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static int
stop_at_second(void *priv, const struct iommusim_iova_range *range)
{
	unsigned *calls = priv;

	(void)range;
	return ++*calls == 2 ? 7 : 0;
}

static void
test_iova_for_each_stops_early(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	unsigned calls = 0;

	(void)state;
	assert_int_equal(iommusim_iova_for_each(d, stop_at_second, &calls), 0);
	assert_int_equal(calls, 0);
	(void)alloc_ok(d, 1, L32, false, NULL);
	(void)alloc_ok(d, 1, L32, false, NULL);
	(void)alloc_ok(d, 1, L32, false, NULL);
	assert_int_equal(iommusim_iova_for_each(d, stop_at_second, &calls), 7);
	assert_int_equal(calls, 2);
	assert_int_equal(iommusim_iova_for_each(d, NULL, &calls), -EINVAL);
	assert_int_equal(iommusim_iova_for_each(NULL, stop_at_second, &calls), -EINVAL);
	assert_int_equal(iommusim_iova_info_get(d, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_info_get(NULL, &(struct iommusim_iova_info){ 0 }), -EINVAL);
	iommusim_iova_domain_destroy(d);
}

/* ------------------------------------------------------------------------ */
/* 5. rcaches (§1.7, §1.8) */

static void
test_iova_rcaches_init_args(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	static const struct iommusim_iova_timer_ops no_schedule = { .schedule = NULL,
								    .cancel = fake_cancel };
	struct iommusim_iova_rcache_cfg cfg = { 0 };
	struct iommusim_iova_rcache_info ri = { .loaded_size = 5 };
	struct fake_timer t = { 0 };
	uint64_t pfn = 0xdeadbeef;

	(void)state;
	assert_int_equal(iommusim_iova_rcaches_init(NULL, &cfg), -EINVAL);
	assert_int_equal(iommusim_iova_rcaches_init(d, NULL), -EINVAL);
	cfg.ncpus = IOMMUSIM_IOVA_MAX_CPUS + 1;
	assert_int_equal(iommusim_iova_rcaches_init(d, &cfg), -EINVAL);
	cfg.ncpus = 1;
	cfg.depot = (enum iommusim_iova_depot)2;
	assert_int_equal(iommusim_iova_rcaches_init(d, &cfg), -EINVAL);
	cfg.depot = IOMMUSIM_IOVA_DEPOT_LIST;
	cfg.flags = 1u << 1;
	assert_int_equal(iommusim_iova_rcaches_init(d, &cfg), -EINVAL);
	cfg.flags = ~0u;
	assert_int_equal(iommusim_iova_rcaches_init(d, &cfg), -EINVAL);
	cfg.flags = 0;
	cfg.timer = &no_schedule;
	cfg.timer_priv = &t;
	assert_int_equal(iommusim_iova_rcaches_init(d, &cfg), -EINVAL);
	assert_false(get_info(d).has_rcaches);
	assert_int_equal(iommusim_iova_rcache_info_get(d, 0, 0, &ri), -EINVAL);
	assert_int_equal(ri.loaded_size, 5);

	/* all defaults: one CPU, list depot, no timer */
	memset(&cfg, 0, sizeof(cfg));
	assert_int_equal(iommusim_iova_rcaches_init(d, &cfg), 0);
	assert_true(get_info(d).has_rcaches);
	assert_int_equal(iommusim_iova_rcaches_init(d, &cfg), -EEXIST);
	cfg.ncpus = 4;
	assert_int_equal(iommusim_iova_rcaches_init(d, &cfg), -EEXIST);
	ri = rinfo(d, 0, 0);
	assert_int_equal(ri.loaded_size, 0);
	assert_int_equal(ri.prev_size, 0);
	assert_int_equal(ri.depot_size, 0);
	assert_false(ri.work_pending);
	ri = rinfo(d, NBINS - 1, 0);
	assert_int_equal(ri.loaded_size, 0);
	ri.loaded_size = 5;
	assert_int_equal(iommusim_iova_rcache_info_get(d, 0, 1, &ri), -EINVAL); /* ncpus 1 */
	assert_int_equal(iommusim_iova_rcache_info_get(d, NBINS, 0, &ri), -EINVAL);
	assert_int_equal(iommusim_iova_rcache_info_get(d, 0, 0, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_rcache_info_get(NULL, 0, 0, &ri), -EINVAL);
	assert_int_equal(ri.loaded_size, 5);
	assert_int_equal(iommusim_iova_alloc_fast(d, 1, 1, L32, false, &pfn, NULL), -EINVAL);
	assert_int_equal(pfn, 0xdeadbeef);
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 1, L32, false, &pfn, NULL), 0);
	assert_int_equal(pfn, 0xFFFFF);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_rcaches_init_enomem_every_step(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct fake_timer t = { 0 };
	struct iommusim_iova_rcache_cfg cfg = {
		.ncpus = 3,
		.depot = IOMMUSIM_IOVA_DEPOT_LIST,
		.timer = &fake_timer_ops,
		.timer_priv = &t,
	};
	uint64_t n, pfn;
	int ret = -1;

	(void)state;
	for (n = 1; n < 100000; n++) {
		ims_mem_fault_inject(n, 1);
		ret = iommusim_iova_rcaches_init(d, &cfg);
		ims_mem_fault_inject(0, 0);
		if (ret == 0)
			break;
		assert_int_equal(ret, -ENOMEM);
		/* nothing half set up: the domain works, without rcaches */
		assert_false(get_info(d).has_rcaches);
		pfn = 0xdeadbeef;
		assert_int_equal(iommusim_iova_alloc_fast(d, 0, 1, L32, false, &pfn, NULL),
				 -EINVAL);
		assert_int_equal(pfn, 0xdeadbeef);
		pfn = alloc_ok(d, 1, L32, false, NULL);
		assert_int_equal(iommusim_iova_free_fast(d, 0, pfn, 1, NULL), -EINVAL);
		free_ok(d, pfn);
		check_ok(d);
	}
	assert_int_equal(ret, 0);
	assert_true(n > 1);
	assert_true(get_info(d).has_rcaches);
	pfn = afast_ok(d, 2, 1, L32, false, NULL);
	ffast_ok(d, 2, pfn, 1, NULL);
	assert_int_equal(rinfo(d, 0, 2).loaded_size, 1);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_rcaches_bad_args_einval(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 0x10);
	struct iommusim_iova_rcache_info ri;
	uint64_t pfn = 0xdeadbeef, p;

	(void)state;
	/* no rcaches */
	p = alloc_ok(d, 1, L32, false, NULL);
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 1, L32, true, &pfn, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_free_fast(d, 0, p, 1, NULL), -EINVAL);
	expect_find(d, p, p, p);
	assert_int_equal(iommusim_iova_cpu_cache_flush(d, 0, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_global_cache_flush(d, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_depot_work_run(d, 0, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_cpu_set_online(d, 0, false, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_rcache_info_get(d, 0, 0, &ri), -EINVAL);

	/* with rcaches on 2 CPUs */
	init_rcaches(d, 2, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	assert_int_equal(iommusim_iova_alloc_fast(d, 2, 1, L32, false, &pfn, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 0, L32, false, &pfn, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, (UINT64_C(1) << 62) + 1, ANCHOR - 1, false,
						  &pfn, NULL),
			 -EINVAL);
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 1, ANCHOR, false, &pfn, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 1, L32, false, NULL, NULL), -EINVAL);
	assert_int_equal(pfn, 0xdeadbeef);
	assert_int_equal(iommusim_iova_free_fast(d, 2, p, 1, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_free_fast(d, 0, p, 0, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_cpu_cache_flush(d, 2, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_cpu_set_online(d, 2, false, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_depot_work_run(d, NBINS, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_rcache_info_get(d, 0, 2, &ri), -EINVAL);
	expect_rinfo(d, 0, 0, 0, 0, 0);
	expect_rinfo(d, 0, 1, 0, 0, 0);
	expect_find(d, p, p, p);
	/* the work of an empty bin does nothing */
	assert_int_equal(iommusim_iova_depot_work_run(d, 3, NULL), 0);
	assert_int_equal(iommusim_iova_global_cache_flush(d, NULL), 0);
	assert_int_equal(iommusim_iova_cpu_cache_flush(d, 1, NULL), 0);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

/* TV-7: rounding of alloc_iova_fast sizes and the bins used on free */
static void
test_iova_fast_rounding_and_bins(void **state)
{
	static const struct {
		uint64_t size;
		uint64_t pfns;
		uint64_t align;
		int bin; /* -1: never cached */
	} v[] = {
		{ 1, 1, 1, 0 },	    { 2, 2, 2, 1 },	{ 3, 4, 4, 2 },	     { 4, 4, 4, 2 },
		{ 5, 8, 8, 3 },	    { 6, 8, 8, 3 },	{ 7, 8, 8, 3 },	     { 8, 8, 8, 3 },
		{ 9, 16, 16, 4 },   { 15, 16, 16, 4 },	{ 16, 16, 16, 4 },   { 17, 32, 32, 5 },
		{ 24, 32, 32, 5 },  { 31, 32, 32, 5 },	{ 32, 32, 32, 5 },   { 33, 33, 64, -1 },
		{ 40, 40, 64, -1 }, { 64, 64, 64, -1 }, { 65, 65, 128, -1 }, { 100, 100, 128, -1 },
	};
	enum { N = sizeof(v) / sizeof(v[0]) };
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	struct iommusim_iova_range r;
	unsigned loaded[NBINS] = { 0 };
	uint64_t pfn[N], top;
	size_t i;

	(void)state;
	init_rcaches(d, 1, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	for (i = 0; i < N; i++) {
		pfn[i] = afast_ok(d, 0, v[i].size, L32, false, &tr);
		assert_int_equal(tr.rcache_misses, 1);
		assert_int_equal(tr.rcache_hits, 0);
		assert_int_equal(iommusim_iova_find(d, pfn[i], &r, NULL), 0);
		assert_int_equal(r.pfn_lo, pfn[i]);
		assert_int_equal(r.pfn_hi - r.pfn_lo + 1, v[i].pfns);
		assert_int_equal(pfn[i] % v[i].align, 0);
	}
	for (i = 0; i < N; i++) {
		ffast_ok(d, 0, pfn[i], v[i].size, &tr);
		if (v[i].bin >= 0) {
			unsigned b = (unsigned)v[i].bin;

			assert_int_equal(b, t_order(v[i].size));
			assert_int_equal(tr.rcache_inserts, 1);
			assert_int_equal(tr.rcache_rejects, 0);
			loaded[b]++;
			/* still allocated in the tree while cached */
			expect_find(d, pfn[i], pfn[i], pfn[i] + v[i].pfns - 1);
		} else {
			assert_int_equal(tr.rcache_inserts, 0);
			assert_int_equal(tr.rcache_rejects, 1);
			assert_int_equal(tr.tree_erases, 1);
			expect_nofind(d, pfn[i]);
		}
		for (unsigned b = 0; b < NBINS; b++)
			assert_int_equal(rinfo(d, b, 0).loaded_size, loaded[b]);
	}
	assert_int_equal(loaded[0], 1);
	assert_int_equal(loaded[2], 2);
	assert_int_equal(loaded[3], 4);
	assert_int_equal(loaded[5], 4);
	/* a 3 comes from bin 2: the last one cached there (the 4) */
	top = afast_ok(d, 0, 3, L32, false, &tr);
	assert_int_equal(tr.rcache_hits, 1);
	assert_int_equal(tr.rcache_misses, 0);
	assert_int_equal(tr.walk_passes, 0);
	assert_int_equal(top, pfn[3]);
	/* a 20 from bin 5: the 32 */
	assert_int_equal(afast_ok(d, 0, 20, L32, false, &tr), pfn[14]);
	/* a 33 never comes from a cache */
	(void)afast_ok(d, 0, 33, L32, false, &tr);
	assert_int_equal(tr.rcache_misses, 1);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_fast_magazine_fill_swap_depot(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr, sum = { 0 };
	struct fake_timer t = { 0 };
	uint64_t *p = alloc_singles(d, 3 * MAG + 1);
	size_t i;

	(void)state;
	init_rcaches(d, 1, IOMMUSIM_IOVA_DEPOT_LIST, &t, 0);
	for (i = 0; i < MAG; i++)
		assert_int_equal(iommusim_iova_free_fast(d, 0, p[i], 1, &sum), 0);
	expect_rinfo(d, 0, 0, MAG, 0, 0);
	assert_int_equal(sum.rcache_inserts, MAG);
	assert_int_equal(sum.mag_swaps, 0);
	/* loaded full, prev empty: swap */
	ffast_ok(d, 0, p[MAG], 1, &tr);
	assert_int_equal(tr.mag_swaps, 1);
	assert_int_equal(tr.depot_pushes, 0);
	expect_rinfo(d, 0, 0, 1, MAG, 0);
	for (i = MAG + 1; i < 2 * MAG; i++)
		ffast_ok(d, 0, p[i], 1, NULL);
	expect_rinfo(d, 0, 0, MAG, MAG, 0);
	assert_int_equal(t.calls, 0);
	assert_false(rinfo(d, 0, 0).work_pending);
	/* both full: loaded goes to the depot, work scheduled once with 100 ms */
	ffast_ok(d, 0, p[2 * MAG], 1, &tr);
	assert_int_equal(tr.depot_pushes, 1);
	assert_int_equal(tr.depot_schedules, 1);
	assert_int_equal(tr.mag_swaps, 0);
	assert_int_equal(tr.rcache_inserts, 1);
	expect_rinfo(d, 0, 0, 1, MAG, 1);
	assert_int_equal(t.calls, 1);
	assert_int_equal(t.last_bin, 0);
	assert_int_equal(t.last_delay, 100);
	assert_true(rinfo(d, 0, 0).work_pending);
	for (i = 2 * MAG + 1; i < 3 * MAG; i++)
		ffast_ok(d, 0, p[i], 1, NULL);
	/* a second push while the work is pending does not schedule again */
	ffast_ok(d, 0, p[3 * MAG], 1, &tr);
	assert_int_equal(tr.depot_pushes, 1);
	assert_int_equal(tr.depot_schedules, 0);
	expect_rinfo(d, 0, 0, 1, MAG, 2);
	assert_int_equal(t.calls, 1);
	assert_int_equal(t.bad_calls, 0);
	/* other bins are untouched; every cached pfn is still in the tree */
	for (unsigned b = 1; b < NBINS; b++)
		expect_rinfo(d, b, 0, 0, 0, 0);
	for (i = 0; i <= 3 * MAG; i++)
		expect_find(d, p[i], p[i], p[i]);
	assert_int_equal(get_info(d).nr_ranges, 3 * MAG + 1);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
	free(p);
}

static void
test_iova_fast_get_order(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	uint64_t *p = alloc_singles(d, 3 * MAG + 1);
	size_t i;

	(void)state;
	init_rcaches(d, 1, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	/* M1 = p[0..126] (prev), depot: M3 = p[254..380] on top of M2 = p[127..253],
	 * loaded = [p[381]] */
	for (i = 0; i <= 3 * MAG; i++)
		ffast_ok(d, 0, p[i], 1, NULL);
	expect_rinfo(d, 0, 0, 1, MAG, 2);
	/* loaded non-empty: pop */
	assert_int_equal(afast_ok(d, 0, 1, L32, false, &tr), p[3 * MAG]);
	assert_int_equal(tr.rcache_hits, 1);
	assert_int_equal(tr.mag_swaps, 0);
	expect_rinfo(d, 0, 0, 0, MAG, 2);
	/* loaded empty, prev non-empty: swap, pop the most recent */
	assert_int_equal(afast_ok(d, 0, 1, L32, false, &tr), p[MAG - 1]);
	assert_int_equal(tr.mag_swaps, 1);
	assert_int_equal(tr.depot_pops, 0);
	expect_rinfo(d, 0, 0, MAG - 1, 0, 2);
	for (i = MAG - 1; i-- > 0;) {
		assert_int_equal(afast_ok(d, 0, 1, L32, false, &tr), p[i]);
		assert_int_equal(tr.mag_swaps, 0);
	}
	expect_rinfo(d, 0, 0, 0, 0, 2);
	/* both empty: a full magazine from the depot (the last pushed) */
	assert_int_equal(afast_ok(d, 0, 1, L32, false, &tr), p[3 * MAG - 1]);
	assert_int_equal(tr.depot_pops, 1);
	assert_int_equal(tr.rcache_hits, 1);
	expect_rinfo(d, 0, 0, MAG - 1, 0, 1);
	for (i = 3 * MAG - 1; i-- > 2 * MAG;)
		assert_int_equal(afast_ok(d, 0, 1, L32, false, &tr), p[i]);
	assert_int_equal(afast_ok(d, 0, 1, L32, false, &tr), p[2 * MAG - 1]);
	assert_int_equal(tr.depot_pops, 1);
	expect_rinfo(d, 0, 0, MAG - 1, 0, 0);
	for (i = 2 * MAG - 1; i-- > MAG;)
		assert_int_equal(afast_ok(d, 0, 1, L32, false, &tr), p[i]);
	expect_rinfo(d, 0, 0, 0, 0, 0);
	/* nothing cached: the tree, under the last tree allocation */
	assert_int_equal(afast_ok(d, 0, 1, L32, false, &tr), L32 - (3 * MAG + 1));
	assert_int_equal(tr.rcache_hits, 0);
	assert_int_equal(tr.rcache_misses, 1);
	assert_int_equal(tr.depot_pops, 0);
	expect_walk(&tr, 1, 1);
	/* every pfn handed out is allocated */
	assert_int_equal(get_info(d).nr_ranges, 3 * MAG + 2);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
	free(p);
}

/*
 * pop(limit) scans from the top for the first pfn that fits and moves the last
 * element into its slot, so the order inside a magazine is not preserved.
 */
static void
test_iova_fast_pop_order_and_limit(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;

	(void)state;
	init_rcaches(d, 1, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	assert_int_equal(alloc_ok(d, 1, L32, false, NULL), 0xFFFFF);
	assert_int_equal(alloc_ok(d, 1, L32, false, NULL), 0xFFFFE);
	assert_int_equal(alloc_ok(d, 1, L32, false, NULL), 0xFFFFD);
	assert_int_equal(alloc_ok(d, 1, L32, false, NULL), 0xFFFFC);
	/* magazine: [C, D, F, E] (E on top) */
	ffast_ok(d, 0, 0xFFFFC, 1, NULL);
	ffast_ok(d, 0, 0xFFFFD, 1, NULL);
	ffast_ok(d, 0, 0xFFFFF, 1, NULL);
	ffast_ok(d, 0, 0xFFFFE, 1, NULL);
	/* limit 0xFFFFD: E and F are skipped, D is taken, E moves into its slot */
	assert_int_equal(afast_ok(d, 0, 1, 0xFFFFD, false, &tr), 0xFFFFD);
	assert_int_equal(tr.rcache_hits, 1);
	/* [C, E, F]: no limit: the top, F (order-preserving removal would give E) */
	assert_int_equal(afast_ok(d, 0, 1, L32, false, &tr), 0xFFFFF);
	/* [C, E]: limited: C */
	assert_int_equal(afast_ok(d, 0, 1, 0xFFFFD, false, &tr), 0xFFFFC);
	expect_rinfo(d, 0, 0, 1, 0, 0);
	/* [E]: nothing fits: the tree, and E stays cached */
	assert_int_equal(afast_ok(d, 0, 1, 0xFFFFD, false, &tr), 0xFFFFB);
	assert_int_equal(tr.rcache_hits, 0);
	assert_int_equal(tr.rcache_misses, 1);
	expect_walk(&tr, 1, 1);
	expect_rinfo(d, 0, 0, 1, 0, 0);
	assert_int_equal(afast_ok(d, 0, 1, L32, false, &tr), 0xFFFFE);
	assert_int_equal(tr.rcache_hits, 1);
	expect_rinfo(d, 0, 0, 0, 0, 0);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_fast_limit_boundary(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	uint64_t q;

	(void)state;
	init_rcaches(d, 1, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	assert_int_equal(afast_ok(d, 0, 2, L32, false, &tr), 0xFFFFE);
	ffast_ok(d, 0, 0xFFFFE, 2, NULL);
	/* pfn + size - 1 = 0xFFFFF > 0xFFFFE: not acceptable */
	assert_int_equal(afast_ok(d, 0, 2, 0xFFFFE, false, &tr), 0xFFFFC);
	assert_int_equal(tr.rcache_misses, 1);
	expect_rinfo(d, 1, 0, 1, 0, 0);
	assert_int_equal(afast_ok(d, 0, 2, 0xFFFFF, false, &tr), 0xFFFFE);
	assert_int_equal(tr.rcache_hits, 1);
	/* the check uses the rounded size: a 3 needs room for 4 */
	q = afast_ok(d, 0, 4, L32, false, &tr);
	assert_int_equal(q, 0xFFFF8);
	ffast_ok(d, 0, q, 4, NULL);
	assert_int_equal(afast_ok(d, 0, 3, q + 2, false, &tr), 0xFFFF4);
	assert_int_equal(tr.rcache_misses, 1);
	assert_int_equal(afast_ok(d, 0, 3, q + 3, false, &tr), q);
	assert_int_equal(tr.rcache_hits, 1);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_depot_work_trims_to_online_cpus(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr, sum = { 0 };
	struct fake_timer t = { 0 };
	uint64_t *p = alloc_singles(d, 4 * MAG + 1), q;
	size_t i;

	(void)state;
	init_rcaches(d, 2, IOMMUSIM_IOVA_DEPOT_LIST, &t, 0);
	/* depot (top first): p[381..507], p[254..380], p[127..253] */
	for (i = 0; i <= 4 * MAG; i++)
		assert_int_equal(iommusim_iova_free_fast(d, 0, p[i], 1, &sum), 0);
	assert_int_equal(sum.depot_pushes, 3);
	assert_int_equal(sum.depot_schedules, 1);
	expect_rinfo(d, 0, 0, 1, MAG, 3);
	assert_int_equal(t.calls, 1);
	assert_true(t.pending[0]);

	/* 3 > 2 online CPUs: one magazine back to the tree, work re-scheduled */
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(fake_fire(d, &t, 0, &tr), 0);
	assert_int_equal(tr.mags_freed, 1);
	assert_int_equal(tr.pfns_to_tree, MAG);
	assert_int_equal(tr.depot_schedules, 1);
	assert_int_equal(t.calls, 2);
	assert_int_equal(t.last_delay, 100);
	assert_true(rinfo(d, 0, 0).work_pending);
	expect_rinfo(d, 0, 0, 1, MAG, 2);
	expect_nofind(d, p[3 * MAG]);
	expect_nofind(d, p[4 * MAG - 1]);
	expect_find(d, p[3 * MAG - 1], p[3 * MAG - 1], p[3 * MAG - 1]);
	expect_find(d, p[4 * MAG], p[4 * MAG], p[4 * MAG]);
	/* 2 <= 2: stop, no reschedule */
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(fake_fire(d, &t, 0, &tr), 0);
	assert_int_equal(tr.mags_freed, 0);
	assert_int_equal(tr.pfns_to_tree, 0);
	assert_int_equal(tr.depot_schedules, 0);
	assert_int_equal(t.calls, 2);
	assert_false(rinfo(d, 0, 0).work_pending);
	expect_rinfo(d, 0, 0, 1, MAG, 2);
	/* only online CPUs count */
	assert_int_equal(iommusim_iova_cpu_set_online(d, 1, false, NULL), 0);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(fake_fire(d, &t, 0, &tr), 0);
	assert_int_equal(tr.mags_freed, 1);
	assert_int_equal(t.calls, 3);
	expect_rinfo(d, 0, 0, 1, MAG, 1);
	expect_nofind(d, p[2 * MAG]);
	expect_nofind(d, p[3 * MAG - 1]);
	expect_find(d, p[2 * MAG - 1], p[2 * MAG - 1], p[2 * MAG - 1]);
	assert_int_equal(fake_fire(d, &t, 0, &tr), 0);
	assert_int_equal(t.calls, 3);
	expect_rinfo(d, 0, 0, 1, MAG, 1);
	/* a new push after the work stopped schedules it again */
	for (i = 0; i < MAG; i++) {
		q = alloc_ok(d, 1, L32, false, NULL);
		ffast_ok(d, 0, q, 1, NULL);
	}
	expect_rinfo(d, 0, 0, 1, MAG, 2);
	assert_int_equal(t.calls, 4);
	assert_int_equal(t.bad_calls, 0);
	/* other bins' work is independent */
	assert_int_equal(fake_fire(d, &t, 4, &tr), 0);
	assert_int_equal(t.calls, 4);
	assert_int_equal(fake_fire(d, &t, NBINS, &tr), -EINVAL);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
	free(p);
}

static void
test_iova_depot_array32_overflow(void **state)
{
	enum { PUSHES = IOMMUSIM_IOVA_MAX_GLOBAL_MAGS, N = 2 * MAG + PUSHES * MAG + 1 };
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr, sum = { 0 };
	struct fake_timer t = { .forbid = true };
	uint64_t *p = alloc_singles(d, N);
	size_t i;

	(void)state;
	init_rcaches(d, 1, IOMMUSIM_IOVA_DEPOT_ARRAY32, &t, 0);
	for (i = 0; i < N - 1; i++)
		assert_int_equal(iommusim_iova_free_fast(d, 0, p[i], 1, &sum), 0);
	assert_int_equal(sum.depot_pushes, PUSHES);
	assert_int_equal(sum.mags_freed, 0);
	expect_rinfo(d, 0, 0, MAG, MAG, PUSHES);
	/* the 33rd full magazine: freed to the tree at once */
	ffast_ok(d, 0, p[N - 1], 1, &tr);
	assert_int_equal(tr.depot_pushes, 0);
	assert_int_equal(tr.mags_freed, 1);
	assert_int_equal(tr.pfns_to_tree, MAG);
	assert_int_equal(tr.rcache_inserts, 1);
	expect_rinfo(d, 0, 0, 1, MAG, PUSHES);
	/* that was the loaded magazine: p[N - 1 - MAG .. N - 2] */
	expect_nofind(d, p[N - 1 - MAG]);
	expect_nofind(d, p[N - 2]);
	expect_find(d, p[N - 2 - MAG], p[N - 2 - MAG], p[N - 2 - MAG]);
	expect_find(d, p[N - 1], p[N - 1], p[N - 1]);
	assert_int_equal(get_info(d).nr_ranges, N - MAG);
	/* no depot work and no timer for the array depot */
	assert_int_equal(iommusim_iova_depot_work_run(d, 0, NULL), -EINVAL);
	assert_int_equal(t.calls, 0);
	assert_false(rinfo(d, 0, 0).work_pending);
	/* the array depot is still popped by alloc_fast */
	for (i = 0; i < 1 + MAG; i++)
		(void)afast_ok(d, 0, 1, L32, false, NULL);
	assert_int_equal(afast_ok(d, 0, 1, L32, false, &tr), p[2 * MAG + PUSHES * MAG - MAG - 1]);
	assert_int_equal(tr.depot_pops, 1);
	expect_rinfo(d, 0, 0, MAG - 1, 0, PUSHES - 1);
	/* global flush empties it */
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_global_cache_flush(d, &tr), 0);
	assert_int_equal(tr.mags_freed, PUSHES - 1);
	assert_int_equal(tr.pfns_to_tree, (PUSHES - 1) * MAG);
	expect_rinfo(d, 0, 0, MAG - 1, 0, 0);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
	free(p);
}

static void
test_iova_cpu_cache_flush_only_that_cpu(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	uint64_t *s = alloc_singles(d, MAG + 3), b0, b1, q;
	size_t i;

	(void)state;
	b0 = alloc_ok(d, 8, L32, true, NULL);
	b1 = alloc_ok(d, 8, L32, true, NULL);
	init_rcaches(d, 2, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	for (i = 0; i <= MAG; i++)
		ffast_ok(d, 0, s[i], 1, NULL);
	ffast_ok(d, 0, b0, 8, NULL);
	ffast_ok(d, 1, s[MAG + 1], 1, NULL);
	ffast_ok(d, 1, s[MAG + 2], 1, NULL);
	ffast_ok(d, 1, b1, 8, NULL);
	expect_rinfo(d, 0, 0, 1, MAG, 0);
	expect_rinfo(d, 3, 0, 1, 0, 0);
	expect_rinfo(d, 0, 1, 2, 0, 0);
	expect_rinfo(d, 3, 1, 1, 0, 0);

	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_cpu_cache_flush(d, 0, &tr), 0);
	assert_int_equal(tr.pfns_to_tree, MAG + 2);
	assert_int_equal(tr.mags_freed, 0); /* emptied, not freed */
	assert_int_equal(tr.tree_erases, MAG + 2);
	for (unsigned b = 0; b < NBINS; b++)
		expect_rinfo(d, b, 0, 0, 0, 0);
	expect_rinfo(d, 0, 1, 2, 0, 0);
	expect_rinfo(d, 3, 1, 1, 0, 0);
	expect_nofind(d, s[0]);
	expect_nofind(d, s[MAG - 1]);
	expect_nofind(d, s[MAG]);
	expect_nofind(d, b0);
	expect_find(d, s[MAG + 1], s[MAG + 1], s[MAG + 1]);
	expect_find(d, b1, b1, b1 + 7);
	assert_int_equal(get_info(d).nr_ranges, 3);
	/* again: nothing to do */
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_cpu_cache_flush(d, 0, &tr), 0);
	assert_int_equal(tr.pfns_to_tree, 0);
	/* the magazines stay usable */
	q = alloc_ok(d, 1, L32, false, NULL);
	ffast_ok(d, 0, q, 1, NULL);
	expect_rinfo(d, 0, 0, 1, 0, 0);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
	free(s);
}

static void
test_iova_global_flush_empties_depots(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	uint64_t *p = alloc_singles(d, 3 * MAG + 1);
	size_t i;

	(void)state;
	init_rcaches(d, 1, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	for (i = 0; i <= 3 * MAG; i++)
		ffast_ok(d, 0, p[i], 1, NULL);
	expect_rinfo(d, 0, 0, 1, MAG, 2);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_global_cache_flush(d, &tr), 0);
	assert_int_equal(tr.mags_freed, 2);
	assert_int_equal(tr.pfns_to_tree, 2 * MAG);
	/* per-CPU magazines are not touched */
	expect_rinfo(d, 0, 0, 1, MAG, 0);
	expect_nofind(d, p[MAG]);
	expect_nofind(d, p[2 * MAG - 1]);
	expect_nofind(d, p[2 * MAG]);
	expect_nofind(d, p[3 * MAG - 1]);
	expect_find(d, p[0], p[0], p[0]);
	expect_find(d, p[MAG - 1], p[MAG - 1], p[MAG - 1]);
	expect_find(d, p[3 * MAG], p[3 * MAG], p[3 * MAG]);
	assert_int_equal(get_info(d).nr_ranges, MAG + 1);
	/* nothing left to flush */
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_global_cache_flush(d, &tr), 0);
	assert_int_equal(tr.mags_freed, 0);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
	free(p);
}

static void
test_iova_fast_flush_rcache_retry(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 0xFFF00); /* 256 pfns */
	struct iommusim_iova_trace tr;
	uint64_t pfn = 0xdeadbeef, i;

	(void)state;
	init_rcaches(d, 2, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	for (i = 0; i < 256; i++)
		assert_int_equal(afast_ok(d, 0, 1, L32, false, NULL), L32 - i);
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 1, L32, false, &pfn, NULL), -ENOMEM);
	assert_int_equal(pfn, 0xdeadbeef);
	/* cpu 1 caches 10 pfns; the tree stays full */
	for (i = 0xFFF10; i <= 0xFFF19; i++)
		ffast_ok(d, 1, i, 1, NULL);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 2, L32, false, &pfn, &tr), -ENOMEM);
	assert_int_equal(tr.rcache_flush_retries, 0);
	assert_int_equal(pfn, 0xdeadbeef);
	expect_rinfo(d, 0, 1, 10, 0, 0);
	/* with flush_rcache: every CPU's caches go back to the tree, one retry */
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 2, L32, true, &pfn, &tr), 0);
	assert_int_equal(tr.rcache_flush_retries, 1);
	assert_int_equal(tr.pfns_to_tree, 10);
	/* whatever the flush order, cached32 ends on [0xFFF1A]: 0xFFF18 */
	assert_int_equal(pfn, 0xFFF18);
	expect_find(d, pfn, pfn, pfn + 1);
	expect_rinfo(d, 0, 1, 0, 0, 0);
	/* a success needs no retry */
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 2, L32, true, &pfn, &tr), 0);
	assert_int_equal(tr.rcache_flush_retries, 0);
	assert_int_equal(pfn, 0xFFF16);
	/* nothing cached and no room: fails after the one retry */
	for (i = 0; i < 6; i++)
		(void)afast_ok(d, 0, 1, L32, true, NULL);
	assert_int_equal(get_info(d).nr_pfns, 256);
	memset(&tr, 0, sizeof(tr));
	pfn = 0xdeadbeef;
	assert_int_equal(iommusim_iova_alloc_fast(d, 1, 1, L32, true, &pfn, &tr), -ENOMEM);
	assert_int_equal(tr.rcache_flush_retries, 1);
	assert_int_equal(pfn, 0xdeadbeef);
	check_ok(d);
	iommusim_iova_domain_destroy(d);

	/*
	 * The retry also empties the depots: 512 pfns, all allocated; cpu 1
	 * caches 127 high pfns (prev), then the low run [0xFFE01, 0xFFE7F] which
	 * goes to the depot when the next (high) pfn is freed. Only the depot's
	 * pfns fit under the limit 0xFFE7F.
	 */
	d = new_domain(4096, 0xFFE00);
	init_rcaches(d, 2, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	for (i = 0; i < 512; i++)
		assert_int_equal(afast_ok(d, 0, 1, L32, false, NULL), L32 - i);
	for (i = 0; i < MAG; i++)
		ffast_ok(d, 1, L32 - i, 1, NULL);
	for (i = 0xFFE01; i <= 0xFFE7F; i++)
		ffast_ok(d, 1, i, 1, NULL);
	ffast_ok(d, 1, L32 - MAG, 1, NULL);
	expect_rinfo(d, 0, 1, 1, MAG, 1);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 2, 0xFFE7F, true, &pfn, &tr), 0);
	assert_int_equal(tr.rcache_flush_retries, 1);
	assert_int_equal(tr.mags_freed, 1);
	assert_int_equal(tr.pfns_to_tree, 2 * MAG + 1);
	assert_true(pfn >= 0xFFE02 && pfn <= 0xFFE7E);
	assert_int_equal(pfn % 2, 0);
	expect_rinfo(d, 0, 1, 0, 0, 0);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

/*
 * alloc_iova_fast with a limit below start_pfn and no flush (the 32-bit
 * attempt passes flush_rcache = false): the magazine lookup runs as for any
 * limit, so an empty `loaded` still swaps with a non-empty `prev` or takes a
 * depot magazine, and nothing cached fits; the tree then fails as
 * iommusim_iova_alloc() does (§1.7 get, §1.8 steps 2-4).
 */
static void
test_iova_fast_limit_below_start_misses_and_keeps_caches(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, DMA32);
	struct iommusim_iova_trace tr;
	uint64_t pfn = 0xdeadbeef, p[2 * MAG + 1], i, ranges;

	(void)state;
	init_rcaches(d, 1, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	for (i = 0; i < 2 * MAG + 1; i++) {
		p[i] = afast_ok(d, 0, 1, 0x1FFFFF, false, NULL);
		assert_int_equal(p[i], 0x1FFFFF - i);
	}
	/* loaded 1, prev full, one magazine in the depot */
	for (i = 0; i < 2 * MAG + 1; i++)
		ffast_ok(d, 0, p[i], 1, NULL);
	expect_rinfo(d, 0, 0, 1, MAG, 1);
	ranges = get_info(d).nr_ranges;
	assert_int_equal(ranges, 2 * MAG + 1);

	/* `loaded` holds a pfn: popped at nothing, then the tree walks and fails */
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 1, L32, false, &pfn, &tr), -ENOMEM);
	assert_int_equal(pfn, 0xdeadbeef);
	assert_int_equal(tr.rcache_hits, 0);
	assert_int_equal(tr.rcache_misses, 1);
	assert_int_equal(tr.mag_swaps + tr.depot_pops + tr.rcache_flush_retries, 0);
	expect_walk(&tr, 1, 1);
	assert_int_equal(get_max32(d), 1);
	expect_rinfo(d, 0, 0, 1, MAG, 1);
	assert_int_equal(get_info(d).nr_ranges, ranges);

	/* `loaded` empty, `prev` full: swapped in, nothing fits, the tree fast-fails */
	assert_int_equal(afast_ok(d, 0, 1, 0x1FFFFF, false, NULL), p[2 * MAG]);
	expect_rinfo(d, 0, 0, 0, MAG, 1);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 1, L32, false, &pfn, &tr), -ENOMEM);
	assert_int_equal(tr.mag_swaps, 1);
	assert_int_equal(tr.rcache_misses, 1);
	expect_fast_fail(&tr);
	expect_rinfo(d, 0, 0, MAG, 0, 1);

	/* both empty: the depot's magazine replaces `loaded`, nothing fits */
	for (i = 0; i < MAG; i++)
		(void)afast_ok(d, 0, 1, 0x1FFFFF, false, NULL);
	expect_rinfo(d, 0, 0, 0, 0, 1);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 1, L32, false, &pfn, &tr), -ENOMEM);
	assert_int_equal(tr.depot_pops, 1);
	assert_int_equal(tr.mag_swaps, 0);
	expect_fast_fail(&tr);
	expect_rinfo(d, 0, 0, MAG, 0, 0);

	/* nothing cached at all: just the fast fail */
	for (i = 0; i < MAG; i++)
		(void)afast_ok(d, 0, 1, 0x1FFFFF, false, NULL);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 1, L32, false, &pfn, &tr), -ENOMEM);
	assert_int_equal(tr.mag_swaps + tr.depot_pops, 0);
	expect_fast_fail(&tr);
	expect_rinfo(d, 0, 0, 0, 0, 0);
	assert_int_equal(pfn, 0xdeadbeef);
	/* the failed calls allocated nothing, freed nothing */
	assert_int_equal(get_info(d).nr_ranges, ranges);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

/*
 * With flush_rcache, a limit below start_pfn still empties every online CPU's
 * magazines and the depot into the tree before the retry, which fails too.
 * Above 4 GiB the flush leaves max32_alloc_size alone, so the retry
 * fast-fails; under 4 GiB it resets it, so the retry walks again.
 */
static void
test_iova_fast_limit_below_start_flushes_then_fails(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, DMA32);
	struct iommusim_iova_trace tr;
	uint64_t pfn = 0xdeadbeef, i;
	const uint64_t n1 = 2 * MAG + 1, n0 = 5;

	(void)state;
	init_rcaches(d, 2, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	for (i = 0; i < n1 + n0; i++)
		assert_int_equal(afast_ok(d, 0, 1, 0x1FFFFF, false, NULL), 0x1FFFFF - i);
	for (i = 0; i < n1; i++)
		ffast_ok(d, 1, 0x1FFFFF - i, 1, NULL);
	for (i = n1; i < n1 + n0; i++)
		ffast_ok(d, 0, 0x1FFFFF - i, 1, NULL);
	expect_rinfo(d, 0, 0, n0, 0, 1);
	expect_rinfo(d, 0, 1, 1, MAG, 1);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 1, L32, true, &pfn, &tr), -ENOMEM);
	assert_int_equal(pfn, 0xdeadbeef);
	assert_int_equal(tr.rcache_hits, 0);
	assert_int_equal(tr.rcache_misses, 1);
	assert_int_equal(tr.rcache_flush_retries, 1);
	assert_int_equal(tr.pfns_to_tree, n1 + n0);
	assert_int_equal(tr.tree_erases, n1 + n0);
	assert_int_equal(tr.mags_freed, 1);
	/* first try: a walk of one node; the retry: a fast fail on the size it set */
	assert_int_equal(tr.walk_passes, 1);
	assert_int_equal(tr.walk_nodes, 1);
	assert_int_equal(tr.fast_fails, 1);
	assert_int_equal(tr.tree_inserts, 0);
	assert_int_equal(get_max32(d), 1);
	expect_rinfo(d, 0, 0, 0, 0, 0);
	expect_rinfo(d, 0, 1, 0, 0, 0);
	assert_int_equal(get_info(d).nr_ranges, 0);
	expect_cached(d, ANCHOR, ANCHOR, ANCHOR, ANCHOR);
	check_ok(d);
	iommusim_iova_domain_destroy(d);

	/* start_pfn under 4 GiB, cached pfns under 4 GiB: the flush resets
	 * max32_alloc_size and the retry walks (and fails) once more */
	d = new_domain(4096, 0xFF000);
	init_rcaches(d, 2, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(afast_ok(d, 0, 1, L32, false, NULL), L32 - i);
	for (i = 0; i < 10; i++)
		ffast_ok(d, 1, L32 - i, 1, NULL);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 2, 0xFEFFF, true, &pfn, &tr), -ENOMEM);
	assert_int_equal(tr.rcache_flush_retries, 1);
	assert_int_equal(tr.pfns_to_tree, 10);
	expect_walk(&tr, 2, 2);
	assert_int_equal(get_max32(d), 2);
	expect_rinfo(d, 0, 1, 0, 0, 0);
	assert_int_equal(get_info(d).nr_ranges, 0);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

/*
 * The magazine limit is limit_pfn + 1 - size, which wraps when the size
 * exceeds limit_pfn + 1: then any cached pfn of the bin is taken, even far
 * above the limit, as in the kernel. Without the wrap nothing fits.
 */
static void
test_iova_fast_limit_below_start_wrapped_cache_limit_takes_any_cached_pfn(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 0x10);
	struct iommusim_iova_trace tr;
	uint64_t pfn = 0xdeadbeef;

	(void)state;
	init_rcaches(d, 1, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	assert_int_equal(afast_ok(d, 0, 2, L32, false, NULL), 0xFFFFE);
	assert_int_equal(afast_ok(d, 0, 1, L32, false, NULL), 0xFFFFD);
	ffast_ok(d, 0, 0xFFFFE, 2, NULL);
	ffast_ok(d, 0, 0xFFFFD, 1, NULL);
	/* size 2, limit 0: 0 + 1 - 2 wraps, the cached 0xFFFFE is handed out */
	assert_int_equal(afast_ok(d, 0, 2, 0, false, &tr), 0xFFFFE);
	assert_int_equal(tr.rcache_hits, 1);
	assert_int_equal(tr.walk_passes, 0);
	expect_rinfo(d, 1, 0, 0, 0, 0);
	assert_int_equal(get_max32(d), DMA32);
	/* size 1, limit 0: 0 + 1 - 1 = 0, nothing fits; the tree fails */
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_alloc_fast(d, 0, 1, 0, false, &pfn, &tr), -ENOMEM);
	assert_int_equal(pfn, 0xdeadbeef);
	assert_int_equal(tr.rcache_misses, 1);
	expect_walk(&tr, 1, 1);
	assert_int_equal(get_max32(d), 1);
	expect_rinfo(d, 0, 0, 1, 0, 0);
	expect_find(d, 0xFFFFD, 0xFFFFD, 0xFFFFD);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_cpu_offline(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	uint64_t *s = alloc_singles(d, 4), r8, pfn = 0xdeadbeef;

	(void)state;
	r8 = alloc_ok(d, 8, L32, true, NULL);
	init_rcaches(d, 2, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	ffast_ok(d, 1, s[0], 1, NULL);
	ffast_ok(d, 1, s[1], 1, NULL);
	ffast_ok(d, 1, r8, 8, NULL);
	ffast_ok(d, 0, s[3], 1, NULL);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_cpu_set_online(d, 1, false, &tr), 0);
	/* the hotplug "dead" callback flushed cpu 1's caches */
	assert_int_equal(tr.pfns_to_tree, 3);
	expect_rinfo(d, 0, 1, 0, 0, 0);
	expect_rinfo(d, 3, 1, 0, 0, 0);
	expect_nofind(d, s[0]);
	expect_nofind(d, s[1]);
	expect_nofind(d, r8);
	/* cpu 0 is untouched */
	expect_rinfo(d, 0, 0, 1, 0, 0);
	expect_find(d, s[3], s[3], s[3]);
	/* an offline CPU may not use the fast paths */
	assert_int_equal(iommusim_iova_alloc_fast(d, 1, 1, L32, false, &pfn, NULL), -EINVAL);
	assert_int_equal(pfn, 0xdeadbeef);
	assert_int_equal(iommusim_iova_free_fast(d, 1, s[2], 1, NULL), -EINVAL);
	expect_rinfo(d, 0, 1, 0, 0, 0);
	expect_find(d, s[2], s[2], s[2]);
	/* going offline twice is harmless */
	assert_int_equal(iommusim_iova_cpu_set_online(d, 1, false, NULL), 0);
	/* cpu 0 still works */
	ffast_ok(d, 0, s[2], 1, NULL);
	expect_rinfo(d, 0, 0, 2, 0, 0);
	/* back online */
	assert_int_equal(iommusim_iova_cpu_set_online(d, 1, true, NULL), 0);
	pfn = afast_ok(d, 1, 1, L32, false, &tr);
	assert_int_equal(tr.rcache_misses, 1);
	ffast_ok(d, 1, pfn, 1, NULL);
	expect_rinfo(d, 0, 1, 1, 0, 0);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
	free(s);
}

/* The same hotplug rules with unchecked rcaches, where the inline fast
 * paths run: while a CPU is offline every CPU takes the slow path (the gate
 * is one word), the offline one is refused and the others keep their
 * caches; when it comes back the inline paths are on again. */
static void
test_iova_cpu_offline_unchecked_fast_paths(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	uint64_t *s = alloc_singles(d, 3), pfn = 0xdeadbeef;

	(void)state;
	init_rcaches(d, 2, IOMMUSIM_IOVA_DEPOT_LIST, NULL, IOMMUSIM_IOVA_RCACHE_UNCHECKED);
	assert_int_equal(d->fast_ncpus, 2);
	ffast_ok(d, 1, s[0], 1, NULL);
	ffast_ok(d, 1, s[1], 1, NULL);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_cpu_set_online(d, 1, false, &tr), 0);
	assert_int_equal(tr.pfns_to_tree, 2);
	assert_int_equal(d->fast_ncpus, 0);
	expect_rinfo(d, 0, 1, 0, 0, 0);
	assert_int_equal(iommusim_iova_alloc_fast(d, 1, 1, L32, false, &pfn, NULL), -EINVAL);
	assert_int_equal(pfn, 0xdeadbeef);
	assert_int_equal(iommusim_iova_free_fast(d, 1, s[2], 1, NULL), -EINVAL);
	expect_rinfo(d, 0, 1, 0, 0, 0);
	expect_find(d, s[2], s[2], s[2]);
	/* the other CPU keeps its caches */
	ffast_ok(d, 0, s[2], 1, NULL);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(afast_ok(d, 0, 1, L32, false, &tr), s[2]);
	assert_int_equal(tr.rcache_hits, 1);
	/* back online: a free lands in cpu 1's magazine and the next alloc
	 * there is a hit on it */
	assert_int_equal(iommusim_iova_cpu_set_online(d, 1, true, NULL), 0);
	assert_int_equal(d->fast_ncpus, 2);
	ffast_ok(d, 1, s[2], 1, NULL);
	expect_rinfo(d, 0, 1, 1, 0, 0);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(afast_ok(d, 1, 1, L32, false, &tr), s[2]);
	assert_int_equal(tr.rcache_hits, 1);
	expect_rinfo(d, 0, 1, 0, 0, 0);
	iommusim_iova_domain_destroy(d);
	free(s);
}

/* A thread that makes one fast call while the test holds the CPU's lock. */
struct held_call {
	pthread_t tid;
	struct iommusim_iova_domain *d;
	bool alloc; /* alloc_fast, else free_fast of pfn */
	uint64_t pfn;
	int ret;
	atomic_bool done;
};

static void *
held_call_main(void *p)
{
	struct held_call *h = p;

	if (h->alloc)
		h->ret = iommusim_iova_alloc_fast(h->d, 0, 1, L32, false, &h->pfn, NULL);
	else
		h->ret = iommusim_iova_free_fast(h->d, 0, h->pfn, 1, NULL);
	atomic_store(&h->done, true);
	return NULL;
}

/* Run one fast call against a held CPU lock: it must not finish until the
 * lock is dropped (the inline path's try-lock fails over to the slow path,
 * which waits), and must then do what it would have done uncontended. */
static void
run_held_call(struct held_call *h)
{
	struct ims_spinlock *lock = &ims_iova_cpu_rcache(h->d, 0, 0)->lock;
	struct timespec ts = { .tv_nsec = 20 * 1000 * 1000 };

	atomic_init(&h->done, false);
	ims_spin_lock(lock);
	assert_int_equal(pthread_create(&h->tid, NULL, held_call_main, h), 0);
	nanosleep(&ts, NULL);
	assert_false(atomic_load(&h->done));
	ims_spin_unlock(lock);
	assert_int_equal(pthread_join(h->tid, NULL), 0);
	assert_true(atomic_load(&h->done));
	assert_int_equal(h->ret, 0);
}

static void
test_iova_fast_paths_wait_for_a_held_cpu_lock(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	uint64_t *s = alloc_singles(d, 2);
	struct held_call h = { .d = d };

	(void)state;
	init_rcaches(d, 1, IOMMUSIM_IOVA_DEPOT_LIST, NULL, IOMMUSIM_IOVA_RCACHE_UNCHECKED);
	ffast_ok(d, 0, s[0], 1, NULL);
	h.pfn = s[1];
	run_held_call(&h);
	expect_rinfo(d, 0, 0, 2, 0, 0);
	h.alloc = true;
	h.pfn = 0;
	run_held_call(&h);
	assert_int_equal(h.pfn, s[1]);
	expect_rinfo(d, 0, 0, 1, 0, 0);
	iommusim_iova_domain_destroy(d);
	free(s);
}

static void
test_iova_fast_checked_errors(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct snap s = { 0 };
	uint64_t p1, p4, r3;

	(void)state;
	init_rcaches(d, 1, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	p1 = afast_ok(d, 0, 1, L32, false, NULL);
	p4 = afast_ok(d, 0, 4, L32, false, NULL);
	r3 = alloc_ok(d, 3, L32, false, NULL); /* a 3-pfn range from the tree */
	assert_int_equal(p1, 0xFFFFF);
	assert_int_equal(p4, 0xFFFF8);
	assert_int_equal(r3, 0xFFFF5);

	snap_take(d, 1, &s);
	/* no range starts there */
	assert_int_equal(iommusim_iova_free_fast(d, 0, 0x1234, 1, NULL), -ENOENT);
	assert_int_equal(iommusim_iova_free_fast(d, 0, p4 + 1, 4, NULL), -ENOENT);
	assert_int_equal(iommusim_iova_free_fast(d, 0, ANCHOR, 1, NULL), -ENOENT);
	/* a size of another bin than the range's */
	assert_int_equal(iommusim_iova_free_fast(d, 0, p4, 8, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_free_fast(d, 0, p4, 1, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_free_fast(d, 0, p4, 33, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_free_fast(d, 0, p1, 2, NULL), -EINVAL);
	assert_int_equal(iommusim_iova_free_fast(d, 0, p1, 0, NULL), -EINVAL);
	snap_expect_same(d, &s);
	snap_free(&s);

	/* the caller's unrounded size of the same bin is right */
	ffast_ok(d, 0, p4, 3, NULL);
	/* a 3-pfn range is in bin 2 too */
	ffast_ok(d, 0, r3, 3, NULL);
	snap_take(d, 1, &s);
	/* double free */
	assert_int_equal(iommusim_iova_free_fast(d, 0, p4, 4, NULL), -EBUSY);
	assert_int_equal(iommusim_iova_free_fast(d, 0, r3, 3, NULL), -EBUSY);
	/* freeing a cached range to the tree */
	assert_int_equal(iommusim_iova_free(d, p4, NULL), -EBUSY);
	assert_int_equal(iommusim_iova_free(d, p4 + 2, NULL), -EBUSY);
	assert_int_equal(iommusim_iova_free(d, r3 + 2, NULL), -EBUSY);
	snap_expect_same(d, &s);
	snap_free(&s);
	expect_rinfo(d, 2, 0, 2, 0, 0);

	/* once handed out again it can be freed either way */
	assert_int_equal(afast_ok(d, 0, 4, L32, false, NULL), r3);
	free_ok(d, r3);
	assert_int_equal(afast_ok(d, 0, 4, L32, false, NULL), p4);
	ffast_ok(d, 0, p4, 4, NULL);
	ffast_ok(d, 0, p1, 1, NULL);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_fast_unchecked_double_free(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	uint64_t p;

	(void)state;
	/*
	 * The kernel's free_iova_fast() validates nothing: a double free puts the
	 * pfn into the magazine twice (it may be handed out twice later), and when
	 * the magazine is flushed the second lookup fails and is skipped with a
	 * warning. With IOMMUSIM_IOVA_RCACHE_UNCHECKED the library does the same.
	 */
	init_rcaches(d, 1, IOMMUSIM_IOVA_DEPOT_LIST, NULL, IOMMUSIM_IOVA_RCACHE_UNCHECKED);
	p = afast_ok(d, 0, 1, L32, false, NULL);
	ffast_ok(d, 0, p, 1, &tr);
	assert_int_equal(tr.rcache_inserts, 1);
	ffast_ok(d, 0, p, 1, &tr);
	assert_int_equal(tr.rcache_inserts, 1);
	expect_rinfo(d, 0, 0, 2, 0, 0);
	/* unknown pfns are cached as well */
	ffast_ok(d, 0, 0x5000, 1, &tr);
	expect_rinfo(d, 0, 0, 3, 0, 0);
	/* flushing: the first copy frees the range, the others are skipped */
	assert_int_equal(iommusim_iova_cpu_cache_flush(d, 0, &tr), 0);
	expect_rinfo(d, 0, 0, 0, 0, 0);
	expect_nofind(d, p);
	assert_int_equal(get_info(d).nr_ranges, 0);
	check_ok(d);
	/* and the domain still works */
	assert_int_equal(afast_ok(d, 0, 1, L32, false, NULL), p);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
}

static void
test_iova_fast_magazine_alloc_failure(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, 1);
	struct iommusim_iova_trace tr;
	struct fake_timer t = { 0 };
	uint64_t *p = alloc_singles(d, 2 * MAG + 2);
	size_t i;

	(void)state;
	init_rcaches(d, 1, IOMMUSIM_IOVA_DEPOT_LIST, &t, 0);
	for (i = 0; i < 2 * MAG; i++)
		ffast_ok(d, 0, p[i], 1, NULL);
	expect_rinfo(d, 0, 0, MAG, MAG, 0);
	/* both full: a new magazine is needed and cannot be had */
	ims_mem_fault_inject(1, 1);
	memset(&tr, 0, sizeof(tr));
	i = 2 * MAG;
	assert_int_equal(iommusim_iova_free_fast(d, 0, p[i], 1, &tr), 0);
	ims_mem_fault_inject(0, 0);
	assert_int_equal(tr.rcache_rejects, 1);
	assert_int_equal(tr.rcache_inserts, 0);
	assert_int_equal(tr.depot_pushes, 0);
	assert_int_equal(tr.tree_erases, 1);
	expect_nofind(d, p[i]);
	expect_rinfo(d, 0, 0, MAG, MAG, 0);
	assert_int_equal(t.calls, 0);
	check_ok(d);
	/* with memory the next one goes through the depot */
	ffast_ok(d, 0, p[i + 1], 1, &tr);
	assert_int_equal(tr.depot_pushes, 1);
	expect_rinfo(d, 0, 0, 1, MAG, 1);
	assert_int_equal(t.calls, 1);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
	free(p);
}

/* ------------------------------------------------------------------------ */
/*
 * 6. Property test: random operations against a model of the tree. The model
 * is a sorted array of ranges plus the two cached nodes and max32_alloc_size;
 * iommusim_iova_alloc() (and the tree path of alloc_fast) is predicted by a
 * literal transcription of the kernel's linear walk (§1.3), free by §1.4,
 * reserve by §1.6, and the rcache get by §1.7 applied to the magazines as
 * they are in memory before the call.
 */

enum { MK_ALLOC, MK_FAST, MK_CACHED, MK_RESV };
#define MKB(k) (1u << (k))

struct mnode {
	uint64_t lo;
	uint64_t hi;
	uint64_t req; /* size the caller asked for (alloc_fast ranges) */
	uint8_t kind;
};

struct model {
	struct mnode *v;
	size_t n;
	size_t cap;
	uint64_t start;
	uint64_t dma32;
	uint64_t max32;
	uint64_t c; /* pfn_lo of cached_node; ANCHOR for the anchor */
	uint64_t c32; /* pfn_lo of cached32_node */
};

#define P_NCPUS 4

struct prop_cfg {
	unsigned seed;
	uint64_t granule;
	uint64_t start_pfn;
	uint64_t limit; /* highest pfn the test uses */
	enum iommusim_iova_depot depot;
	unsigned steps;
};

struct cpfn {
	uint64_t pfn;
	unsigned bin;
};

struct pstats {
	uint64_t alloc_ok, alloc_fail, fast_fail, pass2, long_walks;
	uint64_t hits, misses, flush_retries, resv, resv_extend, trims, overflow, flushed;
	uint64_t max_depot;
	uint64_t below_start; /* allocations whose limit lies below start_pfn */
	uint64_t below_start_hits; /* ... served from a magazine (wrapped limit) */
	uint64_t below_start_flushes; /* ... that flushed the caches and retried */
};

struct prop {
	const struct prop_cfg *cfg;
	struct iommusim_iova_domain *d;
	struct model m;
	struct fake_timer timer;
	uint64_t rng;
	uint64_t step;
	const char *op;
	bool online[P_NCPUS];
	unsigned nr_online;
	bool fill;
	uint64_t phase_end;
	int hot_cpu; /* fast paths mostly on this CPU with size 1, or -1 */
	uint64_t hot_end;
	/* a burst: burst_len size-1 alloc_fast on burst_cpu, then as many free_fast */
	uint64_t burst_left;
	uint64_t burst_len;
	unsigned burst_cpu;
	bool burst_alloc;
	unsigned nbursts;
	struct rlist list;
	struct cpfn *mag;
	size_t nmag;
	size_t magcap;
	uint8_t *mark; /* per pfn of [start_pfn, limit]: bin + 1 of a cached pfn */
	struct pstats st;
};

#define PCHECK(p, cond, ...)                                                                \
	do {                                                                                \
		if (!(cond)) {                                                              \
			print_message("# seed %u step %" PRIu64 " op %s: ", (p)->cfg->seed, \
				      (p)->step, (p)->op);                                  \
			print_message(__VA_ARGS__);                                         \
			print_message("\n");                                                \
			fail_msg("property violated: %s (seed %u)", #cond, (p)->cfg->seed); \
		}                                                                           \
	} while (0)

static uint64_t
rnd(struct prop *p)
{
	return test_splitmix64(&p->rng);
}

static uint64_t
rnd_below(struct prop *p, uint64_t n)
{
	return n ? rnd(p) % n : 0;
}

/* uniform in [lo, hi] */
static uint64_t
rnd_in(struct prop *p, uint64_t lo, uint64_t hi)
{
	return lo + rnd_below(p, hi - lo + 1);
}

/* --- the model --- */

static uint64_t
m_lo(const struct model *m, size_t i)
{
	return i == m->n ? ANCHOR : m->v[i].lo;
}

static uint64_t
m_hi(const struct model *m, size_t i)
{
	return i == m->n ? ANCHOR : m->v[i].hi;
}

/* first index whose pfn_lo (@by_hi false) or pfn_hi (@by_hi true) is
 * >= pfn, m->n if none; both are sorted, the ranges being disjoint */
static size_t
m_lower(const struct model *m, uint64_t pfn, bool by_hi)
{
	size_t a = 0, b = m->n;

	while (a < b) {
		size_t mid = a + (b - a) / 2;

		if ((by_hi ? m->v[mid].hi : m->v[mid].lo) < pfn)
			a = mid + 1;
		else
			b = mid;
	}
	return a;
}

/* index of the node starting at lo (m->n for ANCHOR), SIZE_MAX if none */
static size_t
m_index(const struct model *m, uint64_t lo)
{
	size_t i;

	if (lo == ANCHOR)
		return m->n;
	i = m_lower(m, lo, false);
	return i < m->n && m->v[i].lo == lo ? i : SIZE_MAX;
}

/* index of the node containing pfn, SIZE_MAX if none */
static size_t
m_containing(const struct model *m, uint64_t pfn)
{
	size_t i = m_lower(m, pfn, true);

	return i < m->n && m->v[i].lo <= pfn ? i : SIZE_MAX;
}

static void
m_insert(struct prop *p, uint64_t lo, uint64_t hi, uint8_t kind, uint64_t req)
{
	struct model *m = &p->m;
	size_t i = m_lower(m, lo, false);

	PCHECK(p, lo <= hi, "insert [%#" PRIx64 ", %#" PRIx64 "]", lo, hi);
	PCHECK(p, i == 0 || m->v[i - 1].hi < lo,
	       "new range [%#" PRIx64 ", %#" PRIx64 "] overlaps [%#" PRIx64 ", %#" PRIx64 "]", lo,
	       hi, m->v[i - 1].lo, m->v[i - 1].hi);
	PCHECK(p, i == m->n || m->v[i].lo > hi,
	       "new range [%#" PRIx64 ", %#" PRIx64 "] overlaps [%#" PRIx64 ", %#" PRIx64 "]", lo,
	       hi, m->v[i].lo, m->v[i].hi);
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 1024;
		m->v = realloc(m->v, m->cap * sizeof(*m->v));
		assert_non_null(m->v);
	}
	memmove(&m->v[i + 1], &m->v[i], (m->n - i) * sizeof(*m->v));
	m->v[i] = (struct mnode){ .lo = lo, .hi = hi, .req = req, .kind = kind };
	m->n++;
}

static void
m_erase(struct model *m, size_t i)
{
	memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(*m->v));
	m->n--;
}

/* __cached_rbnode_insert_update() */
static void
m_insert_update(struct model *m, uint64_t lo, uint64_t hi)
{
	if (hi < m->dma32)
		m->c32 = lo;
	else
		m->c = lo;
}

/* remove_iova(): __cached_rbnode_delete_update() then erase */
static void
m_free(struct model *m, size_t i)
{
	uint64_t lo = m->v[i].lo, hi = m->v[i].hi;
	uint64_t succ = m_lo(m, i + 1);

	if (m->c32 == lo || (hi < m->dma32 && lo >= m->c32))
		m->c32 = succ;
	if (lo < m->dma32)
		m->max32 = m->dma32;
	if (lo >= m->c)
		m->c = succ;
	m_erase(m, i);
}

/* iova_find_limit() */
static size_t
m_find_limit(const struct model *m, uint64_t limit)
{
	if (limit > m->dma32)
		return m->n;
	return m_lower(m, limit, true);
}

struct oracle {
	int ret;
	bool fast_fail;
	uint64_t pfn;
	uint64_t nodes;
	uint64_t passes;
};

/* __alloc_and_insert_iova_range(), literally; updates max32 on failure */
static struct oracle
oracle_alloc(struct prop *p, uint64_t size, uint64_t limit_pfn, bool aligned)
{
	struct model *m = &p->m;
	struct oracle o = { 0 };
	uint64_t limit = limit_pfn + 1, align_mask = ~UINT64_C(0);
	uint64_t high = limit, low = m->start, new_pfn = 0, retry_pfn;
	size_t curr;
	bool more;

	if (aligned)
		align_mask <<= t_fls64(size - 1);
	if (limit <= m->dma32 && size >= m->max32) {
		o.ret = -ENOMEM;
		o.fast_fail = true;
		return o;
	}
	curr = m_index(m, limit <= m->dma32 ? m->c32 : m->c);
	PCHECK(p, curr != SIZE_MAX, "model cached node not found");
	retry_pfn = m_hi(m, curr);
	o.passes = 1;
retry:
	do {
		o.nodes++;
		high = t_min(high, m_lo(m, curr));
		new_pfn = (high - size) & align_mask;
		if (curr == 0) {
			more = false;
		} else {
			curr--;
			more = new_pfn <= m_hi(m, curr) && new_pfn >= low;
		}
	} while (more);
	if (high < size || new_pfn < low) {
		if (low == m->start && retry_pfn < limit) {
			high = limit;
			low = retry_pfn + 1;
			curr = m_find_limit(m, limit);
			o.passes++;
			PCHECK(p, o.passes <= 2, "model walk does not terminate");
			goto retry;
		}
		m->max32 = size;
		o.ret = -ENOMEM;
		return o;
	}
	o.pfn = new_pfn;
	return o;
}

/* reserve_iova(), literally; returns the scan length */
static uint64_t
model_reserve(struct prop *p, uint64_t lo, uint64_t hi, struct iommusim_iova_range *out)
{
	struct model *m = &p->m;
	bool overlap = false;
	uint64_t visits = 0;
	size_t i;

	for (i = 0; i <= m->n; i++) {
		visits++;
		if (lo <= m_hi(m, i) && hi >= m_lo(m, i)) {
			struct mnode *n = &m->v[i];

			PCHECK(p, i < m->n, "reserve overlaps the anchor");
			if (lo < n->lo) {
				if (m->c == n->lo)
					m->c = lo;
				if (m->c32 == n->lo)
					m->c32 = lo;
				n->lo = lo;
				p->st.resv_extend++;
			}
			if (hi > n->hi)
				lo = n->hi + 1;
			if (lo >= n->lo && hi <= n->hi) {
				out->pfn_lo = n->lo;
				out->pfn_hi = n->hi;
				return visits;
			}
			overlap = true;
		} else if (overlap) {
			break;
		}
	}
	m_insert(p, lo, hi, MK_RESV, hi - lo + 1);
	out->pfn_lo = lo;
	out->pfn_hi = hi;
	return visits;
}

/* --- the library's internal magazines --- */

static void
mag_add(struct prop *p, const struct ims_iova_mag *mag, uint64_t n, unsigned bin)
{
	uint64_t j;

	PCHECK(p, n <= MAG, "magazine size %" PRIu64, n);
	for (j = 0; j < n; j++) {
		if (p->nmag == p->magcap) {
			p->magcap = p->magcap ? 2 * p->magcap : 4096;
			p->mag = realloc(p->mag, p->magcap * sizeof(*p->mag));
			assert_non_null(p->mag);
		}
		p->mag[p->nmag++] = (struct cpfn){ .pfn = mag->pfns[j], .bin = bin };
	}
}

static void
mags_collect(struct prop *p)
{
	struct iommusim_iova_domain *d = p->d;
	unsigned b, c;

	p->nmag = 0;
	for (b = 0; b < NBINS; b++) {
		struct ims_iova_rcache *rc = &d->rcaches[b];
		const struct ims_iova_mag *mag;
		uint64_t depot = 0;

		for (c = 0; c < P_NCPUS; c++) {
			struct ims_iova_cpu_rcache *cr = ims_iova_cpu_rcache(d, b, c);

			PCHECK(p, cr->loaded && cr->prev, "bin %u cpu %u lacks a magazine", b, c);
			mag_add(p, cr->loaded, cr->loaded->size, b);
			mag_add(p, cr->prev, cr->prev->size, b);
			PCHECK(p, p->online[c] || (!cr->loaded->size && !cr->prev->size),
			       "offline cpu %u caches pfns", c);
		}
		/* only full magazines sit in a depot */
		for (mag = rc->depot; mag; mag = mag->next) {
			mag_add(p, mag, MAG, b);
			depot++;
		}
		if (depot > p->st.max_depot)
			p->st.max_depot = depot;
		PCHECK(p, depot == rc->depot_size,
		       "bin %u: depot_size %" PRIu64 " but %" PRIu64 " magazines", b,
		       rc->depot_size, depot);
		PCHECK(p, p->cfg->depot == IOMMUSIM_IOVA_DEPOT_LIST || depot <= 32,
		       "array depot holds %" PRIu64, depot);
	}
}

/*
 * Match the model's cached ranges with the pfns in the magazines. With
 * @flushed, cached ranges that left the magazines were returned to the tree
 * and are dropped from the model; otherwise that is a violation. Returns how
 * many were dropped; *@below32 tells whether one of them started under 4 GiB.
 */
static uint64_t
reconcile(struct prop *p, bool flushed, bool *below32)
{
	struct model *m = &p->m;
	uint64_t start = p->cfg->start_pfn, dropped = 0, ncached = 0;
	size_t i, j;

	if (below32)
		*below32 = false;
	mags_collect(p);
	for (i = 0; i < p->nmag; i++) {
		uint64_t pfn = p->mag[i].pfn;

		PCHECK(p, pfn >= start && pfn <= p->cfg->limit, "cached pfn %#" PRIx64, pfn);
		PCHECK(p, !p->mark[pfn - start], "pfn %#" PRIx64 " cached twice", pfn);
		p->mark[pfn - start] = (uint8_t)(p->mag[i].bin + 1);
	}
	for (i = j = 0; i < m->n; i++) {
		struct mnode *n = &m->v[i];

		if (n->kind == MK_CACHED) {
			uint8_t mk = p->mark[n->lo - start];

			if (!mk) {
				PCHECK(p, flushed,
				       "cached range [%#" PRIx64 ", %#" PRIx64
				       "] left the magazines",
				       n->lo, n->hi);
				dropped++;
				if (below32 && n->lo < m->dma32)
					*below32 = true;
				continue;
			}
			PCHECK(p, mk == t_order(n->hi - n->lo + 1) + 1,
			       "pfn %#" PRIx64 " in bin %u, range of %" PRIu64, n->lo, mk - 1,
			       n->hi - n->lo + 1);
			ncached++;
		}
		m->v[j++] = *n;
	}
	m->n = j;
	PCHECK(p, ncached == p->nmag, "%" PRIu64 " pfns in magazines, model has %" PRIu64,
	       (uint64_t)p->nmag, ncached);
	for (i = 0; i < p->nmag; i++)
		p->mark[p->mag[i].pfn - start] = 0;
	return dropped;
}

/* After operations whose order of frees the spec leaves open: adopt the
 * library's cached nodes (they must name ranges the model has). */
static void
resync_cached(struct prop *p)
{
	struct iommusim_iova_info inf = get_info(p->d);
	size_t ic = m_index(&p->m, inf.cached_node.pfn_lo);
	size_t ic32 = m_index(&p->m, inf.cached32_node.pfn_lo);

	PCHECK(p, ic != SIZE_MAX && m_hi(&p->m, ic) == inf.cached_node.pfn_hi,
	       "cached_node [%#" PRIx64 ", %#" PRIx64 "] is no range", inf.cached_node.pfn_lo,
	       inf.cached_node.pfn_hi);
	PCHECK(p, ic32 != SIZE_MAX && m_hi(&p->m, ic32) == inf.cached32_node.pfn_hi,
	       "cached32_node [%#" PRIx64 ", %#" PRIx64 "] is no range", inf.cached32_node.pfn_lo,
	       inf.cached32_node.pfn_hi);
	p->m.c = inf.cached_node.pfn_lo;
	p->m.c32 = inf.cached32_node.pfn_lo;
}

/* A flush of some cached pfns happened: drop them, check max32, adopt cached nodes. */
static uint64_t
after_flush(struct prop *p)
{
	uint64_t old_max32 = p->m.max32, n;
	bool below32;

	n = reconcile(p, true, &below32);
	if (n) {
		uint64_t exp = below32 ? p->m.dma32 : old_max32;

		PCHECK(p, get_max32(p->d) == exp,
		       "max32 %" PRIu64 " after a flush, expected %" PRIu64, get_max32(p->d), exp);
		p->m.max32 = exp;
		resync_cached(p);
	}
	p->st.flushed += n;
	return n;
}

static void
p_check(struct prop *p)
{
	struct model *m = &p->m;
	struct iommusim_iova_info inf;
	char why[256] = "";
	uint64_t pfns = 0;
	size_t i;
	int ret;

	ret = ims_iova_check(p->d, why, sizeof(why));
	PCHECK(p, ret == 0, "ims_iova_check() = %d: %s", ret, why);
	(void)reconcile(p, false, NULL);

	inf = get_info(p->d);
	PCHECK(p, inf.max32_alloc_size == m->max32, "max32 %" PRIu64 ", model %" PRIu64,
	       inf.max32_alloc_size, m->max32);
	PCHECK(p, inf.cached_node.pfn_lo == m->c && inf.cached32_node.pfn_lo == m->c32,
	       "cached [%#" PRIx64 "] / [%#" PRIx64 "], model [%#" PRIx64 "] / [%#" PRIx64 "]",
	       inf.cached_node.pfn_lo, inf.cached32_node.pfn_lo, m->c, m->c32);
	PCHECK(p,
	       inf.cached_node.pfn_hi == m_hi(m, m_index(m, m->c)) &&
		       inf.cached32_node.pfn_hi == m_hi(m, m_index(m, m->c32)),
	       "cached node ends differ");
	PCHECK(p, inf.nr_ranges == m->n, "nr_ranges %" PRIu64 ", model %zu", inf.nr_ranges, m->n);

	/* the whole tree, range by range */
	p->list.n = 0;
	ret = iommusim_iova_for_each(p->d, rlist_add, &p->list);
	PCHECK(p, ret == 0, "for_each %d", ret);
	PCHECK(p, p->list.n == m->n, "%zu ranges, model %zu", p->list.n, m->n);
	for (i = 0; i < m->n; i++) {
		const struct mnode *n = &m->v[i];

		PCHECK(p, p->list.v[i].pfn_lo == n->lo && p->list.v[i].pfn_hi == n->hi,
		       "range %zu is [%#" PRIx64 ", %#" PRIx64 "], model [%#" PRIx64 ", %#" PRIx64
		       "] kind %u",
		       i, p->list.v[i].pfn_lo, p->list.v[i].pfn_hi, n->lo, n->hi, n->kind);
		PCHECK(p, i == 0 || m->v[i - 1].hi < n->lo, "model ranges overlap");
		pfns += n->hi - n->lo + 1;
	}
	PCHECK(p, inf.nr_pfns == pfns, "nr_pfns %" PRIu64 ", model %" PRIu64, inf.nr_pfns, pfns);

	/* every live allocation is found, with its exact range, from its middle pfn */
	for (i = 0; i < m->n; i++) {
		const struct mnode *n = &m->v[i];
		struct iommusim_iova_range r = { 0 };
		uint64_t pfn;

		if (n->kind != MK_ALLOC && n->kind != MK_FAST)
			continue;
		pfn = n->lo + (n->hi - n->lo) / 2;
		ret = iommusim_iova_find(p->d, pfn, &r, NULL);
		PCHECK(p, ret == 0 && r.pfn_lo == n->lo && r.pfn_hi == n->hi,
		       "find(%#" PRIx64 ") = %d [%#" PRIx64 ", %#" PRIx64 "], live [%#" PRIx64
		       ", %#" PRIx64 "]",
		       pfn, ret, r.pfn_lo, r.pfn_hi, n->lo, n->hi);
	}
	PCHECK(p, p->timer.bad_calls == 0, "bad timer calls");
}

/* --- operations --- */

/*
 * Mostly the top of the test window; sometimes a limit below start_pfn, as
 * dma-iommu's 32-bit attempt makes when the aperture starts above 4 GiB
 * (half of those just under start_pfn: for the window from 4 GiB that is the
 * 32-bit limit itself).
 */
static uint64_t
p_limit(struct prop *p)
{
	uint64_t start = p->cfg->start_pfn;

	if (rnd_below(p, 4))
		return p->cfg->limit;
	if (start && !rnd_below(p, 32))
		return rnd_below(p, 2) ? start - 1 : rnd_below(p, start);
	return rnd_in(p, start + 64, p->cfg->limit);
}

static uint64_t
p_size(struct prop *p)
{
	uint64_t r = rnd_below(p, 100);

	if (r < 55)
		return rnd_in(p, 1, 8);
	if (r < 85)
		return rnd_in(p, 9, 64);
	if (r < 97)
		return rnd_in(p, 65, 512);
	return rnd_in(p, 513, 8192);
}

/* a random node of one of the kinds in mask, SIZE_MAX if none */
static size_t
p_pick(struct prop *p, unsigned mask)
{
	size_t s, k;

	if (!p->m.n)
		return SIZE_MAX;
	s = rnd_below(p, p->m.n);
	for (k = 0; k < p->m.n; k++) {
		size_t i = (s + k) % p->m.n;

		if (mask & MKB(p->m.v[i].kind))
			return i;
	}
	return SIZE_MAX;
}

static void
p_expect_walk(struct prop *p, const struct oracle *o, const struct iommusim_iova_trace *tr)
{
	if (o->fast_fail) {
		PCHECK(p, tr->fast_fails == 1 && tr->walk_passes == 0 && tr->walk_nodes == 0,
		       "expected a fast fail; trace fast_fails %" PRIu64 " passes %" PRIu64
		       " nodes %" PRIu64,
		       tr->fast_fails, tr->walk_passes, tr->walk_nodes);
		p->st.fast_fail++;
		return;
	}
	PCHECK(p, tr->fast_fails == 0 && tr->walk_passes == o->passes && tr->walk_nodes == o->nodes,
	       "walk: trace fast_fails %" PRIu64 " passes %" PRIu64 " nodes %" PRIu64
	       ", kernel passes %" PRIu64 " nodes %" PRIu64,
	       tr->fast_fails, tr->walk_passes, tr->walk_nodes, o->passes, o->nodes);
	if (o->passes == 2)
		p->st.pass2++;
	if (o->nodes > 8)
		p->st.long_walks++;
}

static void
p_alloc(struct prop *p)
{
	uint64_t size = p_size(p), limit = p_limit(p), pfn = 0xdeadbeef;
	bool aligned = rnd_below(p, 2);
	struct iommusim_iova_trace tr = { 0 };
	struct oracle o;
	int ret;

	p->op = "alloc";
	o = oracle_alloc(p, size, limit, aligned);
	ret = iommusim_iova_alloc(p->d, size, limit, aligned, &pfn, &tr);
	if (limit < p->cfg->start_pfn) {
		PCHECK(p, o.ret == -ENOMEM, "the kernel allocated below start_pfn");
		p->st.below_start++;
	}
	PCHECK(p, ret == o.ret && (ret || pfn == o.pfn),
	       "alloc(%" PRIu64 ", %#" PRIx64 ", %d) = %d pfn %#" PRIx64
	       ", kernel %d pfn %#" PRIx64,
	       size, limit, aligned, ret, pfn, o.ret, o.pfn);
	p_expect_walk(p, &o, &tr);
	if (ret) {
		p->st.alloc_fail++;
		return;
	}
	p->st.alloc_ok++;
	m_insert(p, pfn, pfn + size - 1, MK_ALLOC, size);
	m_insert_update(&p->m, pfn, pfn + size - 1);
}

static void
p_free(struct prop *p)
{
	unsigned mask = rnd_below(p, 4) ? MKB(MK_ALLOC) : MKB(MK_RESV) | MKB(MK_FAST);
	struct iommusim_iova_trace tr = { 0 };
	size_t i = p_pick(p, mask);
	uint64_t pfn;
	int ret;

	p->op = "free";
	if (i == SIZE_MAX)
		return;
	pfn = rnd_in(p, p->m.v[i].lo, p->m.v[i].hi);
	ret = iommusim_iova_free(p->d, pfn, &tr);
	PCHECK(p, ret == 0 && tr.tree_erases == 1, "free(%#" PRIx64 ") = %d", pfn, ret);
	m_free(&p->m, i);
}

static void
p_reserve(struct prop *p)
{
	const struct prop_cfg *cfg = p->cfg;
	struct iommusim_iova_range r = { 0 }, exp;
	struct iommusim_iova_trace tr = { 0 };
	uint64_t lo, hi, visits;
	size_t i;
	int ret;

	p->op = "reserve";
	i = rnd_below(p, 3) ? SIZE_MAX : p_pick(p, MKB(MK_ALLOC) | MKB(MK_RESV));
	if (i != SIZE_MAX) {
		/* around an existing range: grows it and/or adds a tail */
		lo = p->m.v[i].lo - t_min(rnd_below(p, 9), p->m.v[i].lo - cfg->start_pfn);
		hi = t_min(p->m.v[i].hi + rnd_below(p, 9), cfg->limit);
	} else {
		lo = rnd_in(p, cfg->start_pfn, cfg->limit);
		hi = t_min(lo + rnd_below(p, 16), cfg->limit);
	}
	/* ranges handed out or cached by the fast paths must keep their pfn_lo */
	for (i = m_lower(&p->m, lo, true); i < p->m.n && p->m.v[i].lo <= hi; i++)
		if (p->m.v[i].kind == MK_FAST || p->m.v[i].kind == MK_CACHED)
			return;
	visits = model_reserve(p, lo, hi, &exp);
	ret = iommusim_iova_reserve(p->d, lo, hi, &r, &tr);
	PCHECK(p, ret == 0 && r.pfn_lo == exp.pfn_lo && r.pfn_hi == exp.pfn_hi,
	       "reserve(%#" PRIx64 ", %#" PRIx64 ") = %d [%#" PRIx64 ", %#" PRIx64
	       "], kernel [%#" PRIx64 ", %#" PRIx64 "]",
	       lo, hi, ret, r.pfn_lo, r.pfn_hi, exp.pfn_lo, exp.pfn_hi);
	PCHECK(p, tr.reserve_nodes == visits, "reserve_nodes %" PRIu64 ", kernel %" PRIu64,
	       tr.reserve_nodes, visits);
	p->st.resv++;
}

/* __iova_rcache_get() on the magazines as they are now: the pfn, or 0 */
static uint64_t
predict_get(struct prop *p, unsigned cpu, unsigned bin, uint64_t limit)
{
	struct ims_iova_rcache *rc = &p->d->rcaches[bin];
	struct ims_iova_cpu_rcache *cr = ims_iova_cpu_rcache(p->d, bin, cpu);
	const struct ims_iova_mag *mag;
	uint64_t n;

	if (cr->loaded->size) {
		mag = cr->loaded;
		n = mag->size;
	} else if (cr->prev->size) {
		mag = cr->prev;
		n = mag->size;
	} else if (rc->depot) {
		mag = rc->depot;
		n = MAG;
	} else {
		return 0;
	}
	while (n--)
		if (mag->pfns[n] <= limit)
			return mag->pfns[n];
	return 0;
}

static unsigned
p_fast_cpu(struct prop *p)
{
	if (p->burst_left)
		return p->burst_cpu;
	if (p->hot_cpu >= 0 && rnd_below(p, 10) < 8)
		return (unsigned)p->hot_cpu;
	return (unsigned)rnd_below(p, P_NCPUS);
}

static void
p_alloc_fast(struct prop *p)
{
	unsigned cpu = p_fast_cpu(p);
	uint64_t r = rnd_below(p, 100);
	uint64_t size = p->burst_left || (p->hot_cpu >= 0 && r < 70) ? 1 :
			r < 70					     ? rnd_in(p, 1, 8) :
			r < 90					     ? rnd_in(p, 9, 32) :
								       rnd_in(p, 33, 64);
	uint64_t limit = p_limit(p), pfn = 0xdeadbeef, rsize, hit = 0;
	bool flush = !p->burst_left && !rnd_below(p, 6);
	struct iommusim_iova_trace tr = { 0 };
	bool below32;
	unsigned bin;
	int ret;

	p->op = "alloc_fast";
	rsize = size < IOMMUSIM_IOVA_RCACHE_MAX_PFNS ? t_rup_pow2(size) : size;
	bin = t_order(rsize);
	if (!p->online[cpu]) {
		ret = iommusim_iova_alloc_fast(p->d, cpu, size, limit, flush, &pfn, &tr);
		PCHECK(p, ret == -EINVAL && pfn == 0xdeadbeef, "offline cpu: %d", ret);
		return;
	}
	if (bin < NBINS)
		hit = predict_get(p, cpu, bin, limit + 1 - rsize);
	if (hit) {
		size_t i = m_index(&p->m, hit);

		ret = iommusim_iova_alloc_fast(p->d, cpu, size, limit, flush, &pfn, &tr);
		PCHECK(p, ret == 0 && pfn == hit && tr.rcache_hits == 1,
		       "alloc_fast(cpu %u, %" PRIu64 ", %#" PRIx64 ") = %d pfn %#" PRIx64
		       ", expected the cached %#" PRIx64,
		       cpu, size, limit, ret, pfn, hit);
		PCHECK(p,
		       i != SIZE_MAX && p->m.v[i].kind == MK_CACHED &&
			       p->m.v[i].hi - p->m.v[i].lo + 1 == rsize,
		       "cached pfn %#" PRIx64 " is not a cached range of %" PRIu64, hit, rsize);
		p->m.v[i].kind = MK_FAST;
		p->m.v[i].req = size;
		p->st.hits++;
		if (limit < p->cfg->start_pfn) {
			/* only a wrapped magazine limit lets a cached pfn through */
			PCHECK(p, rsize > limit + 1, "cached %#" PRIx64 " under limit %#" PRIx64,
			       hit, limit);
			p->st.below_start++;
			p->st.below_start_hits++;
		}
		return;
	}
	{
		struct oracle o = oracle_alloc(p, rsize, limit, true);

		ret = iommusim_iova_alloc_fast(p->d, cpu, size, limit, flush, &pfn, &tr);
		PCHECK(p, tr.rcache_hits == 0 && tr.rcache_misses >= 1, "expected a miss");
		p->st.misses++;
		if (limit < p->cfg->start_pfn) {
			PCHECK(p, o.ret == -ENOMEM, "the kernel allocated below start_pfn");
			p->st.below_start++;
		}
		if (o.ret == 0) {
			PCHECK(p, ret == 0 && pfn == o.pfn && tr.rcache_flush_retries == 0,
			       "alloc_fast(cpu %u, %" PRIu64 ", %#" PRIx64 ") = %d pfn %#" PRIx64
			       ", kernel pfn %#" PRIx64,
			       cpu, size, limit, ret, pfn, o.pfn);
			p_expect_walk(p, &o, &tr);
			m_insert(p, pfn, pfn + rsize - 1, MK_FAST, size);
			m_insert_update(&p->m, pfn, pfn + rsize - 1);
			return;
		}
		if (!flush) {
			PCHECK(p, ret == -ENOMEM && pfn == 0xdeadbeef,
			       "alloc_fast(cpu %u, %" PRIu64 ", %#" PRIx64 ") = %d pfn %#" PRIx64
			       ", kernel fails",
			       cpu, size, limit, ret, pfn);
			p_expect_walk(p, &o, &tr);
			return;
		}
		/* flushed everything and retried once: the retry is not predicted,
		 * except that it fails where the first try could not succeed */
		PCHECK(p, tr.rcache_flush_retries == 1, "no flush and retry (ret %d)", ret);
		PCHECK(p, ret == 0 || ret == -ENOMEM, "alloc_fast() = %d", ret);
		p->st.flush_retries++;
		(void)reconcile(p, true, &below32);
		/* a flushed range under 4 GiB reset max32_alloc_size */
		if (below32)
			p->m.max32 = p->m.dma32;
		for (unsigned c = 0; c < P_NCPUS; c++)
			for (unsigned b = 0; b < NBINS; b++)
				PCHECK(p,
				       !ims_iova_cpu_rcache(p->d, b, c)->loaded->size &&
					       !ims_iova_cpu_rcache(p->d, b, c)->prev->size &&
					       !p->d->rcaches[b].depot_size,
				       "caches left after the flush");
		if (ret == 0) {
			PCHECK(p,
			       pfn >= p->cfg->start_pfn && pfn + rsize - 1 <= limit &&
				       pfn % t_rup_pow2(rsize) == 0,
			       "bad pfn %#" PRIx64, pfn);
			m_insert(p, pfn, pfn + rsize - 1, MK_FAST, size);
		}
		resync_cached(p);
		if (limit < p->cfg->start_pfn) {
			/* the retry found the tree as the flush left it (and changed
			 * nothing in it): its fast fail or walk, and max32, are exact */
			struct oracle o2 = oracle_alloc(p, rsize, limit, true);

			PCHECK(p, ret == -ENOMEM && o2.ret == -ENOMEM && pfn == 0xdeadbeef,
			       "alloc_fast(limit %#" PRIx64 " < start) = %d after the flush", limit,
			       ret);
			PCHECK(p,
			       tr.fast_fails == (uint64_t)o.fast_fail + o2.fast_fail &&
				       tr.walk_passes == o.passes + o2.passes &&
				       tr.walk_nodes == o.nodes + o2.nodes,
			       "two tries: trace fast_fails %" PRIu64 " passes %" PRIu64
			       " nodes %" PRIu64,
			       tr.fast_fails, tr.walk_passes, tr.walk_nodes);
			PCHECK(p, get_max32(p->d) == p->m.max32,
			       "max32 %" PRIu64 " after flush and retry, model %" PRIu64,
			       get_max32(p->d), p->m.max32);
			p->st.below_start_flushes++;
		}
		p->m.max32 = get_max32(p->d);
	}
}

static void
p_free_fast(struct prop *p)
{
	unsigned cpu = p_fast_cpu(p), bin;
	struct iommusim_iova_trace tr = { 0 };
	size_t i = p_pick(p, MKB(MK_FAST));
	struct mnode *n;
	int ret;

	p->op = "free_fast";
	if (i == SIZE_MAX)
		return;
	if (p->burst_left) {
		/* the burst frees single pfns: the next one at or after i */
		size_t k;

		for (k = 0; k < p->m.n; k++) {
			size_t j = (i + k) % p->m.n;

			if (p->m.v[j].kind == MK_FAST && p->m.v[j].req == 1) {
				i = j;
				break;
			}
		}
	}
	n = &p->m.v[i];
	bin = t_order(n->req);
	ret = iommusim_iova_free_fast(p->d, cpu, n->lo, n->req, &tr);
	if (!p->online[cpu]) {
		PCHECK(p, ret == -EINVAL, "free_fast on offline cpu %u: %d", cpu, ret);
		return;
	}
	PCHECK(p, ret == 0, "free_fast(cpu %u, %#" PRIx64 ", %" PRIu64 ") = %d", cpu, n->lo, n->req,
	       ret);
	if (bin >= NBINS) {
		PCHECK(p, tr.rcache_rejects == 1 && tr.rcache_inserts == 0,
		       "not freed to the tree");
		m_free(&p->m, i);
		return;
	}
	{
		const struct ims_iova_mag *ld = ims_iova_cpu_rcache(p->d, bin, cpu)->loaded;

		PCHECK(p, tr.rcache_inserts == 1 && ld->size && ld->pfns[ld->size - 1] == n->lo,
		       "pfn %#" PRIx64 " is not on top of cpu %u's loaded magazine", n->lo, cpu);
	}
	n->kind = MK_CACHED;
	if (tr.pfns_to_tree) {
		/* the array depot overflowed: a whole magazine went back */
		PCHECK(p, p->cfg->depot == IOMMUSIM_IOVA_DEPOT_ARRAY32 && tr.mags_freed == 1,
		       "pfns_to_tree %" PRIu64 " from free_fast", tr.pfns_to_tree);
		PCHECK(p, after_flush(p) == tr.pfns_to_tree, "overflow freed %" PRIu64,
		       tr.pfns_to_tree);
		p->st.overflow++;
	}
}

static void
p_cpu_flush(struct prop *p)
{
	unsigned cpu = (unsigned)rnd_below(p, P_NCPUS), b;
	struct iommusim_iova_trace tr = { 0 };
	int ret;

	p->op = "cpu_flush";
	ret = iommusim_iova_cpu_cache_flush(p->d, cpu, &tr);
	PCHECK(p, ret == 0, "cpu_cache_flush(%u) = %d", cpu, ret);
	for (b = 0; b < NBINS; b++) {
		struct iommusim_iova_rcache_info ri = rinfo(p->d, b, cpu);

		PCHECK(p, !ri.loaded_size && !ri.prev_size, "cpu %u bin %u not empty", cpu, b);
	}
	PCHECK(p, after_flush(p) == tr.pfns_to_tree, "pfns_to_tree %" PRIu64, tr.pfns_to_tree);
}

static void
p_global_flush(struct prop *p)
{
	struct iommusim_iova_trace tr = { 0 };
	uint64_t mags = 0;
	unsigned b;
	int ret;

	p->op = "global_flush";
	for (b = 0; b < NBINS; b++)
		mags += p->d->rcaches[b].depot_size;
	ret = iommusim_iova_global_cache_flush(p->d, &tr);
	PCHECK(p, ret == 0, "global_cache_flush() = %d", ret);
	for (b = 0; b < NBINS; b++)
		PCHECK(p, rinfo(p->d, b, 0).depot_size == 0, "bin %u depot not empty", b);
	PCHECK(p, tr.mags_freed == mags && tr.pfns_to_tree == mags * MAG,
	       "mags_freed %" PRIu64 " pfns_to_tree %" PRIu64 ", depots held %" PRIu64,
	       tr.mags_freed, tr.pfns_to_tree, mags);
	PCHECK(p, after_flush(p) == mags * MAG, "flushed pfns");
}

static void
p_depot_work(struct prop *p)
{
	struct iommusim_iova_trace tr = { 0 };
	unsigned bin = (unsigned)rnd_below(p, NBINS), b, calls = p->timer.calls;
	uint64_t before;
	int ret;

	p->op = "depot_work";
	for (b = 0; b < NBINS; b++) {
		if (p->timer.pending[(bin + b) % NBINS]) {
			bin = (bin + b) % NBINS;
			break;
		}
	}
	before = p->d->rcaches[bin].depot_size;
	ret = fake_fire(p->d, &p->timer, bin, &tr);
	if (p->cfg->depot == IOMMUSIM_IOVA_DEPOT_ARRAY32) {
		PCHECK(p, ret == -EINVAL, "array depot work = %d", ret);
		return;
	}
	PCHECK(p, ret == 0, "depot_work_run(%u) = %d", bin, ret);
	if (before > p->nr_online) {
		PCHECK(p,
		       rinfo(p->d, bin, 0).depot_size == before - 1 && tr.mags_freed == 1 &&
			       tr.pfns_to_tree == MAG && p->timer.calls == calls + 1 &&
			       p->timer.pending[bin],
		       "depot %" PRIu64 " > %u online: no trim/reschedule", before, p->nr_online);
		p->st.trims++;
	} else {
		PCHECK(p,
		       rinfo(p->d, bin, 0).depot_size == before && tr.mags_freed == 0 &&
			       p->timer.calls == calls && !p->timer.pending[bin],
		       "depot %" PRIu64 " <= %u online: trimmed", before, p->nr_online);
	}
	PCHECK(p, after_flush(p) == tr.pfns_to_tree, "trimmed pfns");
}

static void
p_online(struct prop *p)
{
	unsigned cpu = 1 + (unsigned)rnd_below(p, P_NCPUS - 1), b;
	struct iommusim_iova_trace tr = { 0 };
	int ret;

	p->op = "cpu_online";
	ret = iommusim_iova_cpu_set_online(p->d, cpu, !p->online[cpu], &tr);
	PCHECK(p, ret == 0, "cpu_set_online(%u) = %d", cpu, ret);
	p->online[cpu] = !p->online[cpu];
	p->nr_online += p->online[cpu] ? 1 : (unsigned)-1;
	if (!p->online[cpu]) {
		for (b = 0; b < NBINS; b++) {
			struct iommusim_iova_rcache_info ri = rinfo(p->d, b, cpu);

			PCHECK(p, !ri.loaded_size && !ri.prev_size, "offline cpu %u keeps pfns",
			       cpu);
		}
		PCHECK(p, after_flush(p) == tr.pfns_to_tree, "offline flush");
	}
}

/* calls that must fail and change nothing (p_check compares the model) */
static void
p_bad(struct prop *p)
{
	uint64_t pfn = 0xdeadbeef, start = p->cfg->start_pfn;
	size_t i;
	int ret;

	p->op = "bad";
	switch (rnd_below(p, 5)) {
	case 0: /* free of a free pfn */
		pfn = rnd_in(p, start, p->cfg->limit);
		if (m_containing(&p->m, pfn) != SIZE_MAX)
			return;
		ret = iommusim_iova_free(p->d, pfn, NULL);
		PCHECK(p, ret == -ENOENT, "free(free pfn %#" PRIx64 ") = %d", pfn, ret);
		break;
	case 1: /* free of a cached range */
		i = p_pick(p, MKB(MK_CACHED));
		if (i == SIZE_MAX)
			return;
		pfn = rnd_in(p, p->m.v[i].lo, p->m.v[i].hi);
		ret = iommusim_iova_free(p->d, pfn, NULL);
		PCHECK(p, ret == -EBUSY, "free(cached %#" PRIx64 ") = %d", pfn, ret);
		break;
	case 2: /* double free_fast */
		i = p_pick(p, MKB(MK_CACHED));
		if (i == SIZE_MAX || !p->online[0])
			return;
		ret = iommusim_iova_free_fast(p->d, 0, p->m.v[i].lo,
					      p->m.v[i].hi - p->m.v[i].lo + 1, NULL);
		PCHECK(p, ret == -EBUSY, "double free_fast(%#" PRIx64 ") = %d", p->m.v[i].lo, ret);
		break;
	case 3: /* free_fast of a pfn no range starts at */
		i = p_pick(p, MKB(MK_FAST));
		if (i == SIZE_MAX || p->m.v[i].lo == p->m.v[i].hi)
			return;
		ret = iommusim_iova_free_fast(p->d, 0, p->m.v[i].lo + 1, p->m.v[i].req, NULL);
		PCHECK(p, ret == -ENOENT, "free_fast(mid %#" PRIx64 ") = %d", p->m.v[i].lo + 1,
		       ret);
		break;
	default: /* bad allocation arguments (a limit below start_pfn is none:
		  * p_limit() makes those, and the model says what they do) */
		ret = iommusim_iova_alloc(p->d, 0, p->cfg->limit, true, &pfn, NULL);
		PCHECK(p, ret == -EINVAL && pfn == 0xdeadbeef, "alloc(0) = %d", ret);
		ret = iommusim_iova_alloc(p->d, 1, ANCHOR, false, &pfn, NULL);
		PCHECK(p, ret == -EINVAL && pfn == 0xdeadbeef, "alloc(limit ANCHOR) = %d", ret);
		ret = iommusim_iova_alloc_fast(p->d, 0, 0, p->cfg->limit, true, &pfn, NULL);
		PCHECK(p, ret == -EINVAL && pfn == 0xdeadbeef, "alloc_fast(0) = %d", ret);
		break;
	}
}

static void
prop_run(const struct prop_cfg *cfg, struct pstats *total)
{
	struct prop *p = calloc(1, sizeof(*p));
	struct iommusim_iova_rcache_cfg rcfg = { 0 };
	struct iommusim_iova_info inf;
	unsigned c;

	assert_non_null(p);
	p->cfg = cfg;
	p->rng = cfg->seed * UINT64_C(0x2545F4914F6CDD1D);
	p->op = "init";
	p->d = new_domain(cfg->granule, cfg->start_pfn);
	p->timer.forbid = cfg->depot == IOMMUSIM_IOVA_DEPOT_ARRAY32;
	rcfg.ncpus = P_NCPUS;
	rcfg.depot = cfg->depot;
	rcfg.timer = &fake_timer_ops;
	rcfg.timer_priv = &p->timer;
	assert_int_equal(iommusim_iova_rcaches_init(p->d, &rcfg), 0);
	for (c = 0; c < P_NCPUS; c++)
		p->online[c] = true;
	p->nr_online = P_NCPUS;
	p->mark = calloc(cfg->limit - cfg->start_pfn + 1, 1);
	assert_non_null(p->mark);
	inf = get_info(p->d);
	p->m.start = cfg->start_pfn;
	p->m.dma32 = inf.dma_32bit_pfn;
	p->m.max32 = inf.dma_32bit_pfn;
	p->m.c = p->m.c32 = ANCHOR;
	p->fill = true;
	p->phase_end = 2000;
	p->hot_cpu = -1;
	p->hot_end = 1000;

	for (p->step = 0; p->step < cfg->steps; p->step++) {
		/* weights: alloc, free, reserve, alloc_fast, free_fast, cpu flush,
		 * global flush, depot work, cpu online/offline, bad calls */
		static const unsigned wfill[] = { 300, 80, 30, 300, 140, 4, 2, 60, 10, 30 };
		static const unsigned wdrain[] = { 120, 280, 20, 120, 300, 6, 2, 60, 10, 30 };
		const unsigned *w = p->fill ? wfill : wdrain;
		unsigned total_w = 0, k, r;

		if (p->step == p->phase_end) {
			p->fill = !p->fill;
			p->phase_end += rnd_in(p, 1000, 3000);
		}
		if (p->step == p->hot_end) {
			p->hot_cpu = p->hot_cpu < 0 ? (int)rnd_below(p, P_NCPUS) : -1;
			p->hot_end += rnd_in(p, 1000, 4000);
		}
		for (k = 0; k < 10; k++)
			total_w += w[k];
		r = (unsigned)rnd_below(p, total_w);
		for (k = 0; r >= w[k]; k++)
			r -= w[k];
		if (!p->burst_left && !rnd_below(p, 4000)) {
			p->burst_alloc = true;
			p->burst_cpu = (unsigned)rnd_below(p, P_NCPUS);
			/* the second burst on the array depot overflows its 32 magazines */
			p->burst_len =
				cfg->depot == IOMMUSIM_IOVA_DEPOT_ARRAY32 && p->nbursts == 1 ?
					2 * MAG + 34 * MAG :
					rnd_in(p, 400, 1200);
			p->burst_left = p->burst_len;
			p->nbursts++;
		}
		if (p->burst_left) {
			k = p->burst_alloc ? 3 : 4;
			if (!--p->burst_left && p->burst_alloc) {
				p->burst_alloc = false;
				p->burst_left = p->burst_len;
			}
		}
		switch (k) {
		case 0:
			p_alloc(p);
			break;
		case 1:
			p_free(p);
			break;
		case 2:
			p_reserve(p);
			break;
		case 3:
			p_alloc_fast(p);
			break;
		case 4:
			p_free_fast(p);
			break;
		case 5:
			p_cpu_flush(p);
			break;
		case 6:
			p_global_flush(p);
			break;
		case 7:
			p_depot_work(p);
			break;
		case 8:
			p_online(p);
			break;
		default:
			p_bad(p);
			break;
		}
		p_check(p);
	}
	print_message("# iova property seed %u: %" PRIu64 " ranges at the end; allocs %" PRIu64
		      " ok %" PRIu64 " failed (%" PRIu64 " fast) %" PRIu64 " pass-2 %" PRIu64
		      " long walks; fast hits %" PRIu64 " misses %" PRIu64 " flush-retries %" PRIu64
		      "; reserves %" PRIu64 " (%" PRIu64 " extensions); trims %" PRIu64
		      " overflows %" PRIu64 " flushed pfns %" PRIu64 " max depot %" PRIu64
		      "; limits below start %" PRIu64 " (%" PRIu64 " cache hits, %" PRIu64
		      " flush-retries)\n",
		      cfg->seed, (uint64_t)p->m.n, p->st.alloc_ok, p->st.alloc_fail,
		      p->st.fast_fail, p->st.pass2, p->st.long_walks, p->st.hits, p->st.misses,
		      p->st.flush_retries, p->st.resv, p->st.resv_extend, p->st.trims,
		      p->st.overflow, p->st.flushed, p->st.max_depot, p->st.below_start,
		      p->st.below_start_hits, p->st.below_start_flushes);
	total->alloc_ok += p->st.alloc_ok;
	total->alloc_fail += p->st.alloc_fail;
	total->fast_fail += p->st.fast_fail;
	total->pass2 += p->st.pass2;
	total->long_walks += p->st.long_walks;
	total->hits += p->st.hits;
	total->misses += p->st.misses;
	total->flush_retries += p->st.flush_retries;
	total->resv_extend += p->st.resv_extend;
	total->trims += p->st.trims;
	total->overflow += p->st.overflow;
	total->below_start += p->st.below_start;
	total->below_start_hits += p->st.below_start_hits;
	total->below_start_flushes += p->st.below_start_flushes;
	iommusim_iova_domain_destroy(p->d);
	free(p->m.v);
	free(p->list.v);
	free(p->mag);
	free(p->mark);
	free(p);
}

static void
test_iova_property_random_ops(void **state)
{
	static const struct prop_cfg cfgs[] = {
		/* 2^16 pages, all under 4 GiB */
		{ 1, 4096, 1, 0xFFFF, IOMMUSIM_IOVA_DEPOT_LIST, 26000 },
		/* 2^16 pages straddling 4 GiB: both cached nodes, fast fails */
		{ 2, 4096, 0xF8000, 0x107FFF, IOMMUSIM_IOVA_DEPOT_LIST, 26000 },
		/* 2^16 pages above 4 GiB, the pre-6.7 array depot */
		{ 3, 4096, 0x100000, 0x10FFFF, IOMMUSIM_IOVA_DEPOT_ARRAY32, 26000 },
		/* 2 KiB granule (dma_32bit_pfn 2^21), straddling */
		{ 4, 2048, 0x1F8000, 0x207FFF, IOMMUSIM_IOVA_DEPOT_LIST, 26000 },
		/* 2^20 pages */
		{ 5, 4096, 1, 0xFFFFF, IOMMUSIM_IOVA_DEPOT_LIST, 12000 },
	};
	struct pstats total = { 0 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++)
		prop_run(&cfgs[i], &total);
	/* the run went where it should */
	assert_true(total.alloc_fail > 100);
	assert_true(total.fast_fail > 10);
	assert_true(total.pass2 > 10);
	assert_true(total.long_walks > 10);
	assert_true(total.hits > 1000);
	assert_true(total.flush_retries > 0);
	assert_true(total.resv_extend > 0);
	assert_true(total.trims > 0);
	assert_true(total.overflow > 0);
	assert_true(total.below_start > 100);
	assert_true(total.below_start_hits > 0);
	assert_true(total.below_start_flushes > 0);
}

/* ------------------------------------------------------------------------ */
/* 7. Concurrency: one thread per CPU on the fast paths of one domain. */

#define CT_THREADS 4
#define CT_OPS 20000
#define CT_LIVE 1024
#define CT_START UINT64_C(0xF4000)
#define CT_LIMIT UINT64_C(0xFFFFF)

struct cthread {
	pthread_t tid;
	struct iommusim_iova_domain *d;
	_Atomic unsigned char *owned; /* per pfn: handed out to some thread */
	unsigned cpu;
	uint64_t rng;
	uint64_t pfn[CT_LIVE];
	uint64_t size[CT_LIVE];
	uint64_t rsize[CT_LIVE];
	unsigned nlive;
	bool growing;
	unsigned errors;
	char err[160];
	uint64_t allocs;
	uint64_t enomem;
	struct iommusim_iova_trace tr; /* this thread's calls only */
};

static uint64_t
ct_rnd(struct cthread *t)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return t->rng;
}

static void
ct_error(struct cthread *t, const char *what, uint64_t v, int ret)
{
	if (!t->errors++)
		snprintf(t->err, sizeof(t->err), "cpu %u: %s %#" PRIx64 " ret %d", t->cpu, what, v,
			 ret);
}

static void *
ct_main(void *arg)
{
	struct cthread *t = arg;
	unsigned op;

	/* grow to CT_LIVE (or until the space runs out), then free everything:
	 * magazines fill up and reach the depot, and the other CPUs' caches end
	 * up holding the space, so alloc_fast must flush them all and retry */
	t->growing = true;
	for (op = 0; op < CT_OPS; op++) {
		bool do_alloc;

		if (t->growing && t->nlive == CT_LIVE)
			t->growing = false;
		else if (!t->growing && t->nlive == 0)
			t->growing = true;
		do_alloc =
			t->nlive == 0 || (t->nlive < CT_LIVE && (ct_rnd(t) % 10 < 1) != t->growing);
		if (do_alloc) {
			uint64_t size = ct_rnd(t) % 2  ? 1 :
					ct_rnd(t) % 16 ? 1 + ct_rnd(t) % 32 :
							 33 + ct_rnd(t) % 8;
			uint64_t limit = ct_rnd(t) % 4 ? CT_LIMIT : CT_LIMIT - ct_rnd(t) % 0x8000;
			uint64_t rsize = size < 32 ? t_rup_pow2(size) : size, pfn = 0, k;
			int ret = iommusim_iova_alloc_fast(t->d, t->cpu, size, limit, ct_rnd(t) % 2,
							   &pfn, &t->tr);

			if (ret == -ENOMEM) {
				t->enomem++;
				t->growing = false;
				continue;
			}
			if (ret) {
				ct_error(t, "alloc_fast", size, ret);
				continue;
			}
			if (pfn < CT_START || pfn + rsize - 1 > limit) {
				ct_error(t, "pfn out of range", pfn, 0);
				continue;
			}
			for (k = 0; k < rsize; k++)
				if (atomic_exchange(&t->owned[pfn + k - CT_START], 1))
					ct_error(t, "pfn handed out twice", pfn + k, 0);
			t->pfn[t->nlive] = pfn;
			t->size[t->nlive] = size;
			t->rsize[t->nlive] = rsize;
			t->nlive++;
			t->allocs++;
		} else {
			unsigned i = (unsigned)(ct_rnd(t) % t->nlive);
			uint64_t k;
			int ret;

			/* give the pfns up before the range can be handed out again */
			for (k = 0; k < t->rsize[i]; k++)
				atomic_store(&t->owned[t->pfn[i] + k - CT_START], 0);
			ret = iommusim_iova_free_fast(t->d, t->cpu, t->pfn[i], t->size[i], &t->tr);
			if (ret)
				ct_error(t, "free_fast", t->pfn[i], ret);
			t->nlive--;
			t->pfn[i] = t->pfn[t->nlive];
			t->size[i] = t->size[t->nlive];
			t->rsize[i] = t->rsize[t->nlive];
		}
	}
	return NULL;
}

static int
cmp_u64pair(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

static void
test_iova_concurrent_fast_paths(void **state)
{
	struct iommusim_iova_domain *d = new_domain(4096, CT_START);
	struct cthread *t = calloc(CT_THREADS, sizeof(*t));
	void *owned_mem = calloc(CT_LIMIT - CT_START + 1, sizeof(_Atomic unsigned char));
	_Atomic unsigned char *owned = owned_mem;
	uint64_t(*all)[2] = calloc(CT_THREADS * CT_LIVE, sizeof(*all));
	uint64_t allocs = 0, hits = 0, retries = 0, pushes = 0, enomem = 0;
	size_t n = 0, i;
	unsigned k;

	(void)state;
	assert_non_null(t);
	assert_non_null(owned);
	assert_non_null(all);
	/* checked rcaches; no timer: the depots only shrink by flush-and-retry */
	init_rcaches(d, CT_THREADS, IOMMUSIM_IOVA_DEPOT_LIST, NULL, 0);
	for (k = 0; k < CT_THREADS; k++) {
		t[k].d = d;
		t[k].owned = owned;
		t[k].cpu = k;
		t[k].rng = UINT64_C(0x9E3779B97F4A7C15) * (k + 1);
		assert_int_equal(pthread_create(&t[k].tid, NULL, ct_main, &t[k]), 0);
	}
	for (k = 0; k < CT_THREADS; k++)
		assert_int_equal(pthread_join(t[k].tid, NULL), 0);
	for (k = 0; k < CT_THREADS; k++) {
		if (t[k].errors)
			fail_msg(
				"thread seeds 0x9E3779B97F4A7C15 * (cpu + 1): %u errors, first: %s",
				t[k].errors, t[k].err);
		allocs += t[k].allocs;
		hits += t[k].tr.rcache_hits;
		retries += t[k].tr.rcache_flush_retries;
		pushes += t[k].tr.depot_pushes;
		enomem += t[k].enomem;
		for (i = 0; i < t[k].nlive; i++) {
			all[n][0] = t[k].pfn[i];
			all[n][1] = t[k].pfn[i] + t[k].rsize[i] - 1;
			n++;
		}
	}
	print_message("# iova concurrent: %" PRIu64 " allocs, %" PRIu64 " cache hits, %" PRIu64
		      " depot pushes, %" PRIu64 " flush-and-retries, %" PRIu64 " ENOMEM\n",
		      allocs, hits, pushes, retries, enomem);
	assert_true(allocs > CT_THREADS * CT_OPS / 4);
	/* the caches, the depots and the cross-CPU flush were all in play */
	assert_true(hits > allocs / 4);
	assert_true(pushes > 0);
	assert_true(retries > 0);
	check_ok(d);
	/* every live allocation is distinct and still allocated, exactly
	 * (the owned[] map already caught any double hand-out during the run) */
	qsort(all, n, sizeof(*all), cmp_u64pair);
	for (i = 0; i < n; i++) {
		if (i)
			assert_true(all[i - 1][1] < all[i][0]);
		expect_find(d, all[i][0], all[i][0], all[i][1]);
	}
	/* and the caches hand out nothing that is live */
	for (k = 0; k < CT_THREADS; k++)
		assert_int_equal(iommusim_iova_cpu_cache_flush(d, k, NULL), 0);
	assert_int_equal(iommusim_iova_global_cache_flush(d, NULL), 0);
	assert_int_equal(get_info(d).nr_ranges, n);
	check_ok(d);
	iommusim_iova_domain_destroy(d);
	free(all);
	free(owned_mem);
	free(t);
}

/* ------------------------------------------------------------------------ */

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iova_create_defaults),
		cmocka_unit_test(test_iova_create_rejects_bad_args),
		cmocka_unit_test(test_iova_create_dma32_per_granule),
		cmocka_unit_test(test_iova_destroy_null),
		cmocka_unit_test(test_iova_alloc_tv1_tv2_tv3),
		cmocka_unit_test(test_iova_alloc_packs_below_cached_node),
		cmocka_unit_test(test_iova_alloc_size_alignment_holes),
		cmocka_unit_test(test_iova_alloc_not_aligned),
		cmocka_unit_test(test_iova_alloc_retry_pass_above_cached),
		cmocka_unit_test(test_iova_alloc_retry_pass_from_find_limit),
		cmocka_unit_test(test_iova_alloc_no_retry_when_cached_ends_at_limit),
		cmocka_unit_test(test_iova_alloc_cached_node_classification),
		cmocka_unit_test(test_iova_alloc_above_4g),
		cmocka_unit_test(test_iova_alloc_32bit_fast_fail),
		cmocka_unit_test(test_iova_alloc_max32_set_on_any_failure),
		cmocka_unit_test(test_iova_free_max32_reset_asymmetry),
		cmocka_unit_test(test_iova_free_cached32_update_rules),
		cmocka_unit_test(test_iova_free_cached_node_update_rules),
		cmocka_unit_test(test_iova_alloc_rejects_bad_args),
		cmocka_unit_test(test_iova_alloc_limit_below_start_fails_like_the_kernel),
		cmocka_unit_test(test_iova_alloc_enomem_changes_nothing),
		cmocka_unit_test(test_iova_alloc_walk_length),
		cmocka_unit_test(test_iova_find_ranges),
		cmocka_unit_test(test_iova_free_unknown_and_middle),
		cmocka_unit_test(test_iova_reserve_new_inside_extend),
		cmocka_unit_test(test_iova_reserve_spanning_two_ranges),
		cmocka_unit_test(test_iova_reserve_keeps_cached_nodes),
		cmocka_unit_test(test_iova_reserve_rejects_bad_args),
		cmocka_unit_test(test_iova_reserve_skipped_by_alloc),
		cmocka_unit_test(test_iova_for_each_stops_early),
		cmocka_unit_test(test_iova_rcaches_init_args),
		cmocka_unit_test(test_iova_rcaches_init_enomem_every_step),
		cmocka_unit_test(test_iova_rcaches_bad_args_einval),
		cmocka_unit_test(test_iova_fast_rounding_and_bins),
		cmocka_unit_test(test_iova_fast_magazine_fill_swap_depot),
		cmocka_unit_test(test_iova_fast_get_order),
		cmocka_unit_test(test_iova_fast_pop_order_and_limit),
		cmocka_unit_test(test_iova_fast_limit_boundary),
		cmocka_unit_test(test_iova_depot_work_trims_to_online_cpus),
		cmocka_unit_test(test_iova_depot_array32_overflow),
		cmocka_unit_test(test_iova_cpu_cache_flush_only_that_cpu),
		cmocka_unit_test(test_iova_global_flush_empties_depots),
		cmocka_unit_test(test_iova_fast_flush_rcache_retry),
		cmocka_unit_test(test_iova_fast_limit_below_start_misses_and_keeps_caches),
		cmocka_unit_test(test_iova_fast_limit_below_start_flushes_then_fails),
		cmocka_unit_test(
			test_iova_fast_limit_below_start_wrapped_cache_limit_takes_any_cached_pfn),
		cmocka_unit_test(test_iova_cpu_offline),
		cmocka_unit_test(test_iova_cpu_offline_unchecked_fast_paths),
		cmocka_unit_test(test_iova_fast_paths_wait_for_a_held_cpu_lock),
		cmocka_unit_test(test_iova_fast_checked_errors),
		cmocka_unit_test(test_iova_fast_unchecked_double_free),
		cmocka_unit_test(test_iova_fast_magazine_alloc_failure),
		cmocka_unit_test(test_iova_property_random_ops),
		cmocka_unit_test(test_iova_concurrent_fast_paths),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("iova", tests, NULL, NULL);
}
