/* SPDX-License-Identifier: MIT */
/*
 * Benchmarks of the IOVA allocator through its public API: the rcache fast
 * path against a spinlocked-array floor, the rbtree at 10/50/90% fill, and a
 * mixed-size fast-path workload on two simulated CPUs. One JSON line per case.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/iova.h>

#include "bench_common.h"
#include "base/util_int.h"

#define DEFAULT_SEED UINT64_C(0x10a5eed)
/* The domain's pfn space is [1, SPACE) with start_pfn 1 and limit_pfn SPACE - 1. */
#define SPACE_PFNS_FULL (UINT64_C(1) << 20)
#define SPACE_PFNS_SMOKE (UINT64_C(1) << 16) /* keeps the 90% fill of --smoke quick */
#define START_PFN 1
#define MAX_ALLOC_PFNS 64
/* pfns cached in cpu 0's magazine before the warm fast-path pairs. */
#define WARM_PREFILL 64
/* Live allocations of iova_fast_mixed_1_64 per pfn of space (4096 in 2^20). */
#define MIXED_WS_DIV 256
#define MIXED_CPUS 2
/* Target of iova_fast_pair_warm: ns/pair within this factor of the floor. */
#define FAST_TARGET_RATIO 1.3
/*
 * Assumed cost of one node visit in the kernel's top-down walk (rb_prev() plus
 * a compare, cache-hot). An ESTIMATE, only to put walk lengths into context.
 */
#define KERNEL_WALK_NODE_NS_EST 5.0
/* A slow build may cut a repetition down to about this long (unless --iters). */
#define REP_BUDGET_NS_FULL UINT64_C(1500000000)
#define REP_BUDGET_NS_SMOKE UINT64_C(20000000)

static struct bench_opts opts;

static uint64_t
rep_budget(void)
{
	return opts.smoke ? REP_BUDGET_NS_SMOKE : REP_BUDGET_NS_FULL;
}

static uint64_t
space_pfns(void)
{
	return opts.smoke ? SPACE_PFNS_SMOKE : SPACE_PFNS_FULL;
}

static uint64_t
roundup_pow2(uint64_t x)
{
	uint64_t p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

/* pfns alloc_fast really takes for @p size: sizes below 32 round up to a power of two. */
static uint64_t
fast_len(uint64_t size)
{
	return size < IOMMUSIM_IOVA_RCACHE_MAX_PFNS ? roundup_pow2(size) : size;
}

/* Check that [pfn, pfn + len) lies in [START_PFN, limit] and is aligned to @p align. */
static void
check_range(const char *what, uint64_t pfn, uint64_t len, uint64_t align, uint64_t limit)
{
	if (pfn < START_PFN || pfn + len - 1 > limit || pfn % align != 0)
		bench_die("%s returned a bad range: pfn %" PRIu64 " len %" PRIu64 " align %" PRIu64
			  " limit %" PRIu64,
			  what, pfn, len, align, limit);
}

static struct iommusim_iova_domain *
domain_new(unsigned ncpus, unsigned rcache_flags)
{
	struct iommusim_iova_cfg cfg = { .granule = 4096, .start_pfn = START_PFN };
	struct iommusim_iova_domain *d = NULL;

	BENCH_CHECK(iommusim_iova_domain_create(&cfg, &d));
	if (ncpus) {
		struct iommusim_iova_rcache_cfg rc = { .ncpus = ncpus, .flags = rcache_flags };

		BENCH_CHECK(iommusim_iova_rcaches_init(d, &rc));
	}
	return d;
}

/* ---- 1. floor: a spinlocked array, pop then push ---- */

/*
 * The floor uses the library's own lock (the inline ims_spinlock every
 * allocator lock is), so the ratio measures the allocator's work and not a
 * choice of lock. The same pair with glibc's out-of-line pthread spinlock is
 * reported too, for context.
 */
struct floor_ctx {
	struct ims_spinlock lock;
	pthread_spinlock_t plock;
	unsigned n;
	uint64_t a[IOMMUSIM_IOVA_MAG_SIZE];
};

static uint64_t
floor_rep(void *p, uint64_t iters)
{
	struct floor_ctx *c = p;
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t v;

		ims_spin_lock(&c->lock);
		v = c->a[--c->n];
		ims_spin_unlock(&c->lock);
		bench_keep(v);
		ims_spin_lock(&c->lock);
		c->a[c->n++] = v;
		ims_spin_unlock(&c->lock);
	}
	return bench_now_ns() - t0;
}

static uint64_t
floor_pthread_rep(void *p, uint64_t iters)
{
	struct floor_ctx *c = p;
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t v;

		pthread_spin_lock(&c->plock);
		v = c->a[--c->n];
		pthread_spin_unlock(&c->plock);
		bench_keep(v);
		pthread_spin_lock(&c->plock);
		c->a[c->n++] = v;
		pthread_spin_unlock(&c->plock);
	}
	return bench_now_ns() - t0;
}

static void
floor_init(struct floor_ctx *c)
{
	memset(c, 0, sizeof(*c));
	ims_spin_init(&c->lock);
	BENCH_CHECK(pthread_spin_init(&c->plock, PTHREAD_PROCESS_PRIVATE));
	for (c->n = 0; c->n < WARM_PREFILL; c->n++)
		c->a[c->n] = c->n + 1;
}

static void
floor_fini(struct floor_ctx *c, const char *name)
{
	if (c->n != WARM_PREFILL)
		bench_die("%s: floor array count drifted to %u", name, c->n);
	pthread_spin_destroy(&c->plock);
}

static void
bench_floor_case(const char *name, uint64_t (*rep)(void *, uint64_t), struct bench_stats *st)
{
	struct floor_ctx c;

	floor_init(&c);
	bench_measure(&opts, rep, &c, bench_iters(&opts, 4000000, 2000), rep_budget(), st);
	floor_fini(&c, name);

	bench_json_case(&opts, name, 1);
	bench_json_stats(st);
	bench_json_u64("prefill", WARM_PREFILL);
	bench_json_end();
}

static void
bench_floor(void)
{
	struct bench_stats st;

	bench_floor_case("floor_spinlock_array_pair", floor_rep, &st);
	bench_floor_case("floor_pthread_spinlock_array_pair", floor_pthread_rep, &st);
}

/* ---- 2, 3. the warm fast path: alloc_fast + free_fast of one pfn on cpu 0 ---- */

struct fast_ctx {
	struct iommusim_iova_domain *d;
	uint64_t limit;
};

static uint64_t
fast_pair_rep(void *p, uint64_t iters)
{
	struct fast_ctx *c = p;
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t pfn;

		BENCH_CHECK(iommusim_iova_alloc_fast(c->d, 0, 1, c->limit, true, &pfn, NULL));
		bench_keep(pfn);
		BENCH_CHECK(iommusim_iova_free_fast(c->d, 0, pfn, 1, NULL));
	}
	return bench_now_ns() - t0;
}

static void
check_warm_mag(struct iommusim_iova_domain *d, const char *name, const char *when)
{
	struct iommusim_iova_rcache_info ri;
	struct iommusim_iova_info info;

	BENCH_CHECK(iommusim_iova_rcache_info_get(d, 0, 0, &ri));
	BENCH_CHECK(iommusim_iova_info_get(d, &info));
	if (ri.loaded_size + ri.prev_size != WARM_PREFILL || ri.depot_size != 0 ||
	    info.nr_ranges != WARM_PREFILL)
		bench_die("%s: %s: cpu 0 bin 0 holds loaded %u + prev %u pfns, depot %" PRIu64
			  ", tree %" PRIu64 " ranges; expected %d cached pfns and %d ranges",
			  name, when, ri.loaded_size, ri.prev_size, ri.depot_size, info.nr_ranges,
			  WARM_PREFILL, WARM_PREFILL);
}

/*
 * The pair is timed in alternation with the inline-lock floor (one
 * repetition of each in turn), and the ratio is the median of the
 * per-round ratios, so that a burst of noise from a neighbour on a shared
 * machine lands on both sides of a ratio rather than on one case.
 */
static void
bench_fast_pair(const char *name, unsigned flags)
{
	struct fast_ctx c = { .d = domain_new(1, flags), .limit = space_pfns() - 1 };
	uint64_t pfns[WARM_PREFILL];
	struct bench_stats st, floor;
	struct floor_ctx fc;
	double ratio;

	/* Warm the magazine: WARM_PREFILL tree allocations, then free them all into it. */
	for (int i = 0; i < WARM_PREFILL; i++) {
		BENCH_CHECK(iommusim_iova_alloc_fast(c.d, 0, 1, c.limit, true, &pfns[i], NULL));
		check_range("iommusim_iova_alloc_fast", pfns[i], 1, 1, c.limit);
	}
	for (int i = 0; i < WARM_PREFILL; i++)
		BENCH_CHECK(iommusim_iova_free_fast(c.d, 0, pfns[i], 1, NULL));
	check_warm_mag(c.d, name, "after the pre-fill");

	floor_init(&fc);
	bench_measure_paired(&opts, floor_rep, &fc, fast_pair_rep, &c,
			     bench_iters(&opts, 4000000, 2000), &floor, &st, &ratio);
	floor_fini(&fc, name);
	check_warm_mag(c.d, name, "after the run");
	iommusim_iova_domain_destroy(c.d);

	bench_json_case(&opts, name, 1);
	bench_json_stats(&st);
	bench_json_u64("checked", !(flags & IOMMUSIM_IOVA_RCACHE_UNCHECKED));
	bench_json_u64("prefill", WARM_PREFILL);
	bench_json_num("floor_ns_per_op", floor.median);
	bench_json_num("ratio_to_floor", ratio);
	bench_json_num("ratio_to_floor_min", st.min / floor.min);
	if (flags & IOMMUSIM_IOVA_RCACHE_UNCHECKED)
		bench_json_num("target_ratio", FAST_TARGET_RATIO);
	bench_json_end();
}

/* ---- 4. the rbtree at a fixed fill: free random live ranges, allocate a new one ---- */

struct live {
	uint64_t pfn;
	uint64_t size; /* as passed to the allocator (unrounded) */
};

struct tree_ctx {
	struct iommusim_iova_domain *d;
	struct bench_rng rng;
	struct live *live;
	size_t n_live;
	uint64_t live_pages; /* sum of live sizes */
	uint64_t target_pages; /* fill target, in pfns */
	uint64_t space_pages; /* limit - START_PFN + 1 */
	uint64_t limit;
	struct iommusim_iova_trace *tr; /* NULL or &trace */
	struct iommusim_iova_trace trace;
	uint64_t allocs; /* timed iommusim_iova_alloc calls (warm-ups included) */
	uint64_t fails; /* ... of which -ENOMEM */
	uint64_t frees; /* timed iommusim_iova_free calls */
	uint64_t walk_ok; /* trace walk_nodes of the successful allocations */
	uint64_t walk_fail; /* ... and of the failed ones */
	uint64_t max_drift; /* largest |live_pages - target| at the end of a repetition */
};

/* Allocate one random 1..64 pfn size-aligned range; false on -ENOMEM. */
static bool
tree_alloc_one(struct tree_ctx *c, struct iommusim_iova_trace *tr)
{
	uint64_t size = 1 + bench_rng_below(&c->rng, MAX_ALLOC_PFNS);
	uint64_t pfn;
	int ret = iommusim_iova_alloc(c->d, size, c->limit, true, &pfn, tr);

	if (ret == -ENOMEM)
		return false;
	if (ret != 0)
		bench_fail_call("iommusim_iova_alloc", ret);
	check_range("iommusim_iova_alloc", pfn, size, roundup_pow2(size), c->limit);
	c->live[c->n_live].pfn = pfn;
	c->live[c->n_live].size = size;
	c->n_live++;
	c->live_pages += size;
	return true;
}

static void
tree_free_random(struct tree_ctx *c, struct iommusim_iova_trace *tr)
{
	size_t i = bench_rng_below(&c->rng, c->n_live);
	struct live v = c->live[i];

	BENCH_CHECK(iommusim_iova_free(c->d, v.pfn, tr));
	c->live[i] = c->live[--c->n_live];
	c->live_pages -= v.size;
}

/*
 * Bring the fill back to [target, target + 63] pfns (untimed): trim with
 * random frees, then allocate until the target is met or allocations keep
 * failing (which, with the 32-bit fast-fail rule and no frees in between, ends
 * quickly). Returns the failed allocations.
 */
static uint64_t
tree_restore_fill(struct tree_ctx *c)
{
	uint64_t fails = 0, run = 0;

	while (c->live_pages > c->target_pages)
		tree_free_random(c, NULL);
	while (c->live_pages < c->target_pages && run < 4096) {
		if (tree_alloc_one(c, NULL)) {
			run = 0;
		} else {
			fails++;
			run++;
		}
	}
	return fails;
}

/*
 * One "pair" = free random live ranges until the fill is below its target
 * (normally exactly one), then one allocation of a random size. Freeing only
 * below the target keeps the fill constant even where many allocations fail
 * (at 90%): a plain free-then-alloc loop would drain the space instead.
 */
static uint64_t
tree_pair_rep(void *p, uint64_t iters)
{
	struct tree_ctx *c = p;
	uint64_t t0, el, drift, frees = 0;

	(void)tree_restore_fill(c);
	t0 = bench_now_ns();
	for (uint64_t i = 0; i < iters; i++) {
		while (c->live_pages >= c->target_pages && c->n_live) {
			tree_free_random(c, c->tr);
			frees++;
		}
		if (c->tr) {
			uint64_t w0 = c->tr->walk_nodes;

			if (tree_alloc_one(c, c->tr)) {
				c->walk_ok += c->tr->walk_nodes - w0;
			} else {
				c->walk_fail += c->tr->walk_nodes - w0;
				c->fails++;
			}
		} else if (!tree_alloc_one(c, NULL)) {
			c->fails++;
		}
	}
	el = bench_now_ns() - t0;
	c->allocs += iters;
	c->frees += frees;
	drift = c->live_pages > c->target_pages ? c->live_pages - c->target_pages :
						  c->target_pages - c->live_pages;
	if (drift > c->max_drift)
		c->max_drift = drift;
	return el;
}

static void
bench_tree_pair(unsigned fill_pct)
{
	char name[64];
	struct tree_ctx c;
	struct bench_stats st, st_nt;
	struct iommusim_iova_info info;
	uint64_t iters = bench_iters(&opts, 150000, 1000);
	uint64_t setup_fails, allocs, fails, frees;
	double fill_reached, walk_nodes_pa, walk_passes_pa, fast_fails_pa, lookup_pa;

	snprintf(name, sizeof(name), "iova_tree_pair_fill%u", fill_pct);
	memset(&c, 0, sizeof(c));
	c.d = domain_new(0, 0);
	c.limit = space_pfns() - 1;
	c.space_pages = c.limit - START_PFN + 1;
	c.target_pages = c.space_pages * fill_pct / 100;
	c.live = calloc(c.space_pages + 1, sizeof(*c.live));
	if (!c.live)
		bench_die("out of memory");
	bench_rng_seed(&c.rng, opts.seed + 400 + fill_pct);

	setup_fails = tree_restore_fill(&c);
	fill_reached = (double)c.live_pages / (double)c.space_pages;

	/* Timed with a trace (for the walk lengths), then again without one. */
	c.tr = &c.trace;
	bench_measure(&opts, tree_pair_rep, &c, iters, rep_budget(), &st);
	allocs = c.allocs;
	fails = c.fails;
	frees = c.frees;
	walk_nodes_pa = (double)c.trace.walk_nodes / (double)allocs;
	walk_passes_pa = (double)c.trace.walk_passes / (double)allocs;
	fast_fails_pa = (double)c.trace.fast_fails / (double)allocs;
	lookup_pa = (double)c.trace.lookup_nodes / (double)allocs;
	c.tr = NULL;
	bench_measure(&opts, tree_pair_rep, &c, st.iters, rep_budget(), &st_nt);

	BENCH_CHECK(iommusim_iova_info_get(c.d, &info));
	if (info.nr_ranges != c.n_live || info.nr_pfns != c.live_pages)
		bench_die("%s: tree holds %" PRIu64 " ranges / %" PRIu64
			  " pfns, expected %zu / %" PRIu64,
			  name, info.nr_ranges, info.nr_pfns, c.n_live, c.live_pages);
	iommusim_iova_domain_destroy(c.d);
	free(c.live);

	bench_json_case(&opts, name, 1);
	bench_json_stats(&st);
	bench_json_num("ns_per_pair", st.median);
	bench_json_num("ns_per_pair_notrace", st_nt.median);
	bench_json_u64("space_pfns", c.space_pages);
	bench_json_num("fill_target", fill_pct / 100.0);
	bench_json_num("fill_reached", fill_reached);
	bench_json_num("fill_max_drift", (double)c.max_drift / (double)c.space_pages);
	bench_json_u64("live_ranges", c.n_live);
	bench_json_num("live_mean_pfns", (double)c.live_pages / (double)c.n_live);
	bench_json_u64("setup_alloc_fails", setup_fails);
	bench_json_u64("allocs", allocs);
	bench_json_u64("alloc_fails", fails);
	bench_json_num("alloc_fail_rate", (double)fails / (double)allocs);
	bench_json_num("frees_per_pair", (double)frees / (double)allocs);
	bench_json_num("fast_fails_per_alloc", fast_fails_pa);
	bench_json_num("walk_nodes_per_alloc", walk_nodes_pa);
	bench_json_num("walk_nodes_per_ok_alloc",
		       (double)c.walk_ok / (double)(allocs - fails)); /* null if none */
	bench_json_num("walk_nodes_per_failed_alloc", (double)c.walk_fail / (double)fails);
	bench_json_num("walk_passes_per_alloc", walk_passes_pa);
	bench_json_num("lookup_nodes_per_pair", lookup_pa);
	bench_json_num("walk_node_ns_assumed", KERNEL_WALK_NODE_NS_EST);
	bench_json_num("kernel_walk_ns_est", walk_nodes_pa * KERNEL_WALK_NODE_NS_EST);
	bench_json_end();
}

/* ---- 5. the fast path with mixed sizes 1..64 on two CPUs ---- */

struct mixed_ctx {
	struct iommusim_iova_domain *d;
	struct bench_rng rng;
	struct live *live;
	size_t n_live;
	uint64_t limit;
	uint64_t step;
	struct iommusim_iova_trace *tr; /* NULL or &trace */
	struct iommusim_iova_trace trace;
	uint64_t allocs, cacheable_allocs, fails;
};

/* alloc_fast a random 1..64 pfn range on cpu (step & 1); false on -ENOMEM. */
static bool
mixed_alloc_one(struct mixed_ctx *c, struct iommusim_iova_trace *tr)
{
	uint64_t size = 1 + bench_rng_below(&c->rng, MAX_ALLOC_PFNS);
	unsigned cpu = (unsigned)(c->step++ & 1);
	uint64_t pfn;
	int ret = iommusim_iova_alloc_fast(c->d, cpu, size, c->limit, true, &pfn, tr);

	c->allocs++;
	c->cacheable_allocs += size <= IOMMUSIM_IOVA_RCACHE_MAX_PFNS;
	if (ret == -ENOMEM) {
		c->fails++;
		return false;
	}
	if (ret != 0)
		bench_fail_call("iommusim_iova_alloc_fast", ret);
	check_range("iommusim_iova_alloc_fast", pfn, fast_len(size), roundup_pow2(size), c->limit);
	c->live[c->n_live].pfn = pfn;
	c->live[c->n_live].size = size;
	c->n_live++;
	return true;
}

static uint64_t
mixed_rep(void *p, uint64_t iters)
{
	struct mixed_ctx *c = p;
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		if (c->n_live) {
			size_t k = bench_rng_below(&c->rng, c->n_live);
			unsigned cpu = (unsigned)bench_rng_below(&c->rng, MIXED_CPUS);
			struct live v = c->live[k];

			BENCH_CHECK(iommusim_iova_free_fast(c->d, cpu, v.pfn, v.size, c->tr));
			c->live[k] = c->live[--c->n_live];
		}
		(void)mixed_alloc_one(c, c->tr);
	}
	return bench_now_ns() - t0;
}

/* The tree must hold exactly the live ranges plus every cached pfn's range. */
static void
mixed_check(const struct mixed_ctx *c, const char *name)
{
	struct iommusim_iova_info info;
	uint64_t ranges = c->n_live, pfns = 0;

	for (size_t i = 0; i < c->n_live; i++)
		pfns += fast_len(c->live[i].size);
	for (unsigned bin = 0; bin < IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE; bin++) {
		uint64_t cached = 0;
		struct iommusim_iova_rcache_info ri;

		for (unsigned cpu = 0; cpu < MIXED_CPUS; cpu++) {
			BENCH_CHECK(iommusim_iova_rcache_info_get(c->d, bin, cpu, &ri));
			cached += ri.loaded_size + ri.prev_size;
		}
		/* depot_size is per bin, the same from every cpu; depot magazines are full */
		cached += ri.depot_size * IOMMUSIM_IOVA_MAG_SIZE;
		ranges += cached;
		pfns += cached << bin;
	}
	BENCH_CHECK(iommusim_iova_info_get(c->d, &info));
	if (info.nr_ranges != ranges || info.nr_pfns != pfns)
		bench_die("%s: tree holds %" PRIu64 " ranges / %" PRIu64 " pfns, expected %" PRIu64
			  " / %" PRIu64 " (live + cached)",
			  name, info.nr_ranges, info.nr_pfns, ranges, pfns);
}

static void
bench_fast_mixed(void)
{
	const char *name = "iova_fast_mixed_1_64";
	struct mixed_ctx c;
	struct bench_stats st, st_nt;
	size_t ws = (size_t)(space_pfns() / MIXED_WS_DIV);
	uint64_t allocs, cacheable, fails;
	struct iommusim_iova_trace t;

	memset(&c, 0, sizeof(c));
	c.d = domain_new(MIXED_CPUS, 0);
	c.limit = space_pfns() - 1;
	c.live = calloc(ws + 1, sizeof(*c.live));
	if (!c.live)
		bench_die("out of memory");
	bench_rng_seed(&c.rng, opts.seed + 500);
	while (c.n_live < ws)
		if (!mixed_alloc_one(&c, NULL))
			bench_die(
				"%s: iommusim_iova_alloc_fast: -ENOMEM while building the working set "
				"(%zu of %zu)",
				name, c.n_live, ws);

	c.tr = &c.trace;
	c.allocs = c.cacheable_allocs = c.fails = 0;
	bench_measure(&opts, mixed_rep, &c, bench_iters(&opts, 600000, 2000), rep_budget(), &st);
	t = c.trace;
	allocs = c.allocs;
	cacheable = c.cacheable_allocs;
	fails = c.fails;
	c.tr = NULL;
	bench_measure(&opts, mixed_rep, &c, st.iters, rep_budget(), &st_nt);
	mixed_check(&c, name);
	iommusim_iova_domain_destroy(c.d);
	free(c.live);

	bench_json_case(&opts, name, 1);
	bench_json_stats(&st);
	bench_json_num("ns_per_pair", st.median);
	bench_json_num("ns_per_pair_notrace", st_nt.median);
	bench_json_u64("cpus", MIXED_CPUS);
	bench_json_u64("checked", 1);
	bench_json_u64("space_pfns", space_pfns() - START_PFN);
	bench_json_u64("working_set", ws);
	bench_json_u64("allocs", allocs);
	bench_json_u64("alloc_fails", fails);
	bench_json_num("rcache_hit_rate",
		       (double)t.rcache_hits / (double)(t.rcache_hits + t.rcache_misses));
	bench_json_num("rcache_hit_rate_cacheable", (double)t.rcache_hits / (double)cacheable);
	bench_json_num("rcache_insert_rate",
		       (double)t.rcache_inserts / (double)(t.rcache_inserts + t.rcache_rejects));
	bench_json_u64("mag_swaps", t.mag_swaps);
	bench_json_u64("depot_pushes", t.depot_pushes);
	bench_json_u64("depot_pops", t.depot_pops);
	bench_json_u64("flush_retries", t.rcache_flush_retries);
	bench_json_num("walk_nodes_per_alloc", (double)t.walk_nodes / (double)allocs);
	bench_json_end();
}

int
main(int argc, char **argv)
{
	uint64_t t0;

	bench_opts_parse(
		argc, argv, "bench_iova",
		"Benchmarks of the IOVA allocator (rcache fast path, rbtree, mixed sizes).",
		DEFAULT_SEED, &opts);
	t0 = bench_now_ns();

	bench_floor();
	bench_fast_pair("iova_fast_pair_warm", IOMMUSIM_IOVA_RCACHE_UNCHECKED);
	bench_fast_pair("iova_fast_pair_warm_checked", 0);
	bench_tree_pair(10);
	bench_tree_pair(50);
	bench_tree_pair(90);
	bench_fast_mixed();

	fprintf(stderr, "bench_iova: done in %.2f s\n", (double)(bench_now_ns() - t0) / 1e9);
	return 0;
}
