/* SPDX-License-Identifier: MIT */
/*
 * The cost of one 4 KiB step of QEMU's s390x RPCIT loop on its shadow IOTLB, a
 * GLib hash table keyed by a pointer to the entry's 64-bit IOVA, so that the
 * KVM profile's per-step cost is measured rather than fitted (docs/benchmarks.md).
 * One JSON line per case.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "bench_common.h"

#define DEFAULT_SEED UINT64_C(0x9a54)
#define PG UINT64_C(4096)
#define GiB (UINT64_C(1) << 30)
/*
 * A 16 GiB guest: Linux's s390 aperture starts at start_dma (4 GiB) and is as
 * large as memory, and dma-iommu hands out IOVAs from its top downward.
 */
#define APERTURE_BASE (4 * GiB)
#define APERTURE_TOP (20 * GiB)
/*
 * Every populated IOVA lies in the top 2 GiB (dense: 262,144 entries fill
 * 1 GiB); g_int64_hash keeps only the low 32 bits of the key, which are in
 * [2 GiB, 4 GiB) there. The miss window [4 GiB, 6 GiB), the bottom of the
 * aperture where a global refresh starts, hashes to [0, 2 GiB): no miss
 * there meets a stored hash equal to its own. The alias case looks up
 * IOVAs exactly 4 GiB below present ones, whose hash is the same.
 */
#define POP_WINDOW (2 * GiB)
#define POP_BASE (APERTURE_TOP - POP_WINDOW)
#define POP_PAGES (POP_WINDOW / PG)
#define MISS_BASE APERTURE_BASE
#define MISS_PAGES (POP_WINDOW / PG)
#define ALIAS_DISTANCE (4 * GiB)
/* Steps timed per clock read in the cases that restore the table between batches. */
#define BATCH_MIN 64u
#define BATCH_MAX 1024u
/* IOMMU_RW in QEMU: read and write permission. */
#define PERM_RW 3u
/* IBM z15/z16 clock: the ns figures are converted to it, not measured on Z. */
#define Z_GHZ 5.2
#define REP_BUDGET_NS_FULL UINT64_C(1000000000)
#define REP_BUDGET_NS_SMOKE UINT64_C(20000000)

static struct bench_opts opts;

/* QEMU's shadow entry: four 64-bit words, the IOVA first (the key points at it). */
struct iotlb_entry {
	uint64_t iova;
	uint64_t translated_addr;
	uint64_t len;
	uint64_t perm;
};

enum kind {
	MISS, /* (a) an invalid PTE that is not cached: one lookup that misses */
	MISS_OVERLAP, /* MISS without the chain between steps (throughput, for comparison) */
	MISS_ALIAS, /* (a) again, for a key whose 32-bit hash equals a present key's */
	HIT, /* a valid PTE cached with the same translation: one lookup that hits */
	HIT_OVERLAP, /* HIT without the chain between steps */
	HIT_REMOVE, /* (b) an invalid PTE still cached: lookup that hits, then remove */
	INSERT, /* (c) a new mapping: lookup that misses, then a new entry inserted */
};

enum placement {
	DENSE, /* contiguous pages just below the aperture's top, mapped top-down */
	RANDOM, /* distinct random pages of the top 2 GiB, mapped in random order */
};

struct ghash_ctx {
	enum kind kind;
	GHashTable *t; /* the shadow IOTLB, as QEMU creates it */
	uint64_t n; /* entries present */
	uint64_t *present; /* their IOVAs, ascending: the order the RPCIT loop walks */
	uint64_t *fresh; /* insert: IOVAs of one batch, ascending, never present */
	uint64_t batch; /* hit_remove, insert: steps per timed batch */
	uint64_t pos; /* next position of the walk */
	uint64_t found; /* lookups that found an entry, to check against the kind */
	uint64_t steps; /* timed steps, warm-up included */
	uint64_t sink; /* what the hits read */
};

static uint64_t
frame_of(uint64_t iova)
{
	return (UINT64_C(1) << 40) + (iova - APERTURE_BASE);
}

/*
 * QEMU's insert: a g_new entry with all four fields set, replacing any old
 * one. @return TRUE if the IOVA was not in the table (g_hash_table_replace).
 */
static gboolean
entry_insert(GHashTable *t, uint64_t iova)
{
	struct iotlb_entry *e = g_new(struct iotlb_entry, 1);

	e->iova = iova;
	e->translated_addr = frame_of(iova);
	e->len = PG;
	e->perm = PERM_RW;
	return g_hash_table_replace(t, &e->iova, e);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		bench_die("out of memory");
	return p;
}

/*
 * Draw @n distinct pages of the populated window not yet marked in @used,
 * mark them, and write their IOVAs to @out in the order drawn.
 */
static void
draw_pages(struct bench_rng *r, uint8_t *used, uint64_t n, uint64_t *out)
{
	for (uint64_t i = 0; i < n;) {
		uint64_t pg = bench_rng_below(r, POP_PAGES);

		if (used[pg])
			continue;
		used[pg] = 1;
		out[i++] = POP_BASE + pg * PG;
	}
}

static uint64_t
batch_of(uint64_t n)
{
	uint64_t b = n / 16;

	return b < BATCH_MIN ? BATCH_MIN : b > BATCH_MAX ? BATCH_MAX : b;
}

/*
 * Build the table with @n entries placed as @pl says, inserted one by one
 * through QEMU's path (so that the table has grown as QEMU's would), and the
 * insert case's batch of fresh IOVAs.
 */
static struct ghash_ctx *
ghash_setup(enum kind kind, enum placement pl, uint64_t n, uint64_t seed)
{
	struct ghash_ctx *c = xcalloc(1, sizeof(*c));
	uint64_t *order = xcalloc(n, sizeof(*order));

	c->kind = kind;
	c->n = n;
	c->batch = batch_of(n);
	c->present = xcalloc(n, sizeof(*c->present));
	c->fresh = xcalloc(c->batch, sizeof(*c->fresh));
	c->t = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
	if (pl == DENSE) {
		/* The top-down allocator's order: the highest page first. */
		for (uint64_t i = 0; i < n; i++)
			order[i] = APERTURE_TOP - (i + 1) * PG;
		/* A new mapping goes just below the block, the next IOVAs handed out. */
		for (uint64_t j = 0; j < c->batch; j++)
			c->fresh[j] = APERTURE_TOP - (n + c->batch - j) * PG;
	} else {
		struct bench_rng r;
		uint8_t *used = xcalloc(POP_PAGES, 1);

		bench_rng_seed(&r, seed ^ n);
		draw_pages(&r, used, n, order);
		draw_pages(&r, used, c->batch, c->fresh);
		qsort(c->fresh, c->batch, sizeof(c->fresh[0]), cmp_u64);
		free(used);
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t key = order[i];

		if (g_hash_table_lookup(c->t, &key))
			bench_die("setup: IOVA 0x%" PRIx64 " placed twice", key);
		entry_insert(c->t, key);
		c->present[i] = key;
	}
	qsort(c->present, n, sizeof(c->present[0]), cmp_u64);
	if (g_hash_table_size(c->t) != n)
		bench_die("setup: %u entries, expected %" PRIu64, g_hash_table_size(c->t), n);
	free(order);
	return c;
}

static void
ghash_free(struct ghash_ctx *c)
{
	g_hash_table_destroy(c->t); /* frees the entries (g_free) */
	free(c->present);
	free(c->fresh);
	free(c);
}

/* ---- the steps; the key is a local, as QEMU's walk result is ---- */

/*
 * Zero, computed from a step's result. Added to the next step's key, it makes
 * the next lookup wait for this one: in QEMU a guest table walk of hundreds
 * of instructions separates two steps, so the out-of-order core cannot
 * overlap their cache misses, and a loop of independent lookups would time
 * throughput, not the step. A user-space pointer never has bit 63 set, and
 * a gboolean is 0 or 1; the compiler knows neither (if the first failed,
 * the key would be off by one and check_found() would fail the case).
 */
static inline uint64_t
after_ptr(const void *p)
{
	return (uint64_t)(uintptr_t)p >> 63;
}

static inline uint64_t
after_bool(gboolean b)
{
	return (uint64_t)((unsigned)b >> 1);
}

/* (a) Sequential IOVAs through the miss window, wrapping. */
static uint64_t
miss_rep(void *p, uint64_t iters)
{
	struct ghash_ctx *c = p;
	uint64_t pos = c->pos, found = 0, dep = 0;
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t key = MISS_BASE + pos * PG + dep;
		const void *e = g_hash_table_lookup(c->t, &key);

		found += e != NULL;
		dep = after_ptr(e);
		pos = (pos + 1) & (MISS_PAGES - 1);
	}
	t0 = bench_now_ns() - t0;
	c->pos = pos;
	c->found += found;
	c->steps += iters;
	return t0;
}

/* miss_rep without the chain: consecutive lookups may overlap (throughput). */
static uint64_t
miss_overlap_rep(void *p, uint64_t iters)
{
	struct ghash_ctx *c = p;
	uint64_t pos = c->pos, found = 0;
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t key = MISS_BASE + pos * PG;

		found += g_hash_table_lookup(c->t, &key) != NULL;
		pos = (pos + 1) & (MISS_PAGES - 1);
	}
	t0 = bench_now_ns() - t0;
	c->pos = pos;
	c->found += found;
	c->steps += iters;
	return t0;
}

/* (a) with a stored hash equal to the key's: 4 GiB below each present IOVA, ascending. */
static uint64_t
miss_alias_rep(void *p, uint64_t iters)
{
	struct ghash_ctx *c = p;
	uint64_t pos = c->pos, found = 0, dep = 0;
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t key = c->present[pos] - ALIAS_DISTANCE + dep;
		const void *e = g_hash_table_lookup(c->t, &key);

		found += e != NULL;
		dep = after_ptr(e);
		if (++pos == c->n)
			pos = 0;
	}
	t0 = bench_now_ns() - t0;
	c->pos = pos;
	c->found += found;
	c->steps += iters;
	return t0;
}

/* A cached entry left alone: QEMU compares its translation and permission. */
static uint64_t
hit_rep(void *p, uint64_t iters)
{
	struct ghash_ctx *c = p;
	uint64_t pos = c->pos, found = 0, sink = 0, dep = 0;
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t key = c->present[pos] + dep;
		const struct iotlb_entry *e = g_hash_table_lookup(c->t, &key);

		if (e) {
			found++;
			sink += e->translated_addr ^ e->perm;
		}
		dep = after_ptr(e);
		if (++pos == c->n)
			pos = 0;
	}
	t0 = bench_now_ns() - t0;
	c->pos = pos;
	c->found += found;
	c->sink += sink;
	c->steps += iters;
	return t0;
}

/* hit_rep without the chain (throughput). */
static uint64_t
hit_overlap_rep(void *p, uint64_t iters)
{
	struct ghash_ctx *c = p;
	uint64_t pos = c->pos, found = 0, sink = 0;
	uint64_t t0 = bench_now_ns();

	for (uint64_t i = 0; i < iters; i++) {
		uint64_t key = c->present[pos];
		const struct iotlb_entry *e = g_hash_table_lookup(c->t, &key);

		if (e) {
			found++;
			sink += e->translated_addr ^ e->perm;
		}
		if (++pos == c->n)
			pos = 0;
	}
	t0 = bench_now_ns() - t0;
	c->pos = pos;
	c->found += found;
	c->sink += sink;
	c->steps += iters;
	return t0;
}

/*
 * (b) Batches of consecutive present IOVAs: each looked up and removed (the
 * table's g_free frees the entry) in the timed part; then, untimed, the
 * batch is mapped again through QEMU's insert, so every batch meets a table
 * of n entries at its start and at least n - batch (n / 16) at its end.
 */
static uint64_t
hit_remove_rep(void *p, uint64_t iters)
{
	struct ghash_ctx *c = p;
	uint64_t el = 0, dep = 0;

	for (uint64_t done = 0; done < iters;) {
		uint64_t b = iters - done < c->batch ? iters - done : c->batch;
		uint64_t pos = c->pos, t0;

		t0 = bench_now_ns();
		for (uint64_t j = 0; j < b; j++) {
			uint64_t key = c->present[pos] + dep;
			const void *e = g_hash_table_lookup(c->t, &key);
			gboolean removed = FALSE;

			if (e) {
				c->found++;
				removed = g_hash_table_remove(c->t, &key);
			}
			dep = after_ptr(e) + after_bool(removed);
			if (++pos == c->n)
				pos = 0;
		}
		el += bench_now_ns() - t0;
		for (uint64_t j = 0; j < b; j++) {
			entry_insert(c->t, c->present[c->pos]);
			if (++c->pos == c->n)
				c->pos = 0;
		}
		done += b;
	}
	c->steps += iters;
	return el;
}

/*
 * (c) Batches of fresh IOVAs: each looked up (a miss) and inserted as a new
 * g_new entry in the timed part; then, untimed, removed again, so the table
 * holds n to n + batch entries. The same fresh IOVAs come back every batch:
 * their slots are tombstones by then, which the insert reuses.
 */
static uint64_t
insert_rep(void *p, uint64_t iters)
{
	struct ghash_ctx *c = p;
	uint64_t el = 0, dep = 0;

	for (uint64_t done = 0; done < iters;) {
		uint64_t b = iters - done < c->batch ? iters - done : c->batch;
		uint64_t t0;

		t0 = bench_now_ns();
		for (uint64_t j = 0; j < b; j++) {
			uint64_t key = c->fresh[j] + dep;
			const void *e = g_hash_table_lookup(c->t, &key);

			if (e)
				c->found++;
			else
				dep = after_bool(entry_insert(c->t, key));
			dep += after_ptr(e);
		}
		el += bench_now_ns() - t0;
		for (uint64_t j = 0; j < b; j++)
			g_hash_table_remove(c->t, &c->fresh[j]);
		done += b;
	}
	c->steps += iters;
	return el;
}

/* ---- the cases ---- */

static const struct {
	enum kind kind;
	const char *name;
	bench_rep_fn rep;
	bool batched;
	bool needs_entries; /* no hit, and nothing to alias, in an empty table */
} kinds[] = {
	[MISS] = { MISS, "miss", miss_rep, false, false },
	[MISS_OVERLAP] = { MISS_OVERLAP, "miss_overlap", miss_overlap_rep, false, false },
	[MISS_ALIAS] = { MISS_ALIAS, "miss_alias", miss_alias_rep, false, true },
	[HIT] = { HIT, "hit", hit_rep, false, true },
	[HIT_OVERLAP] = { HIT_OVERLAP, "hit_overlap", hit_overlap_rep, false, true },
	[HIT_REMOVE] = { HIT_REMOVE, "hit_remove", hit_remove_rep, true, true },
	[INSERT] = { INSERT, "insert", insert_rep, true, false },
};

/* Entries present: empty, small, medium, vfio's dma_entry_limit, beyond it. */
static const uint64_t sizes[] = { 0, 1000, 16384, 65535, 262144 };

/* Median cost of one bench_now_ns() call, charged once per batch to the batched cases. */
static double
clock_read_ns(void)
{
	double v[31];

	for (unsigned i = 0; i < 31; i++) {
		uint64_t t0 = bench_now_ns(), t1 = t0;

		for (unsigned k = 0; k < 1000; k++)
			t1 = bench_now_ns();
		v[i] = (double)(t1 - t0) / 1000;
	}
	for (unsigned i = 1; i < 31; i++)
		for (unsigned k = i; k > 0 && v[k - 1] > v[k]; k--) {
			double x = v[k];

			v[k] = v[k - 1];
			v[k - 1] = x;
		}
	return v[15];
}

static void
check_found(const struct ghash_ctx *c)
{
	bool hits = c->kind == HIT || c->kind == HIT_OVERLAP || c->kind == HIT_REMOVE;
	uint64_t want = hits ? c->steps : 0;

	if (c->found != want)
		bench_die("%s: %" PRIu64 " of %" PRIu64
			  " lookups found an entry, expected %" PRIu64,
			  kinds[c->kind].name, c->found, c->steps, want);
	if (g_hash_table_size(c->t) != c->n)
		bench_die("%s: the table holds %u entries after the case, expected %" PRIu64,
			  kinds[c->kind].name, g_hash_table_size(c->t), c->n);
}

static void
run_case(size_t k, enum placement pl, uint64_t n, double clock_ns)
{
	struct ghash_ctx *c = ghash_setup(kinds[k].kind, pl, n, opts.seed);
	struct bench_stats st;
	char name[64];

	bench_measure(&opts, kinds[k].rep, c, bench_iters(&opts, 1000000, 2000),
		      opts.smoke ? REP_BUDGET_NS_SMOKE : REP_BUDGET_NS_FULL, &st);
	check_found(c);
	snprintf(name, sizeof(name), "ghash_%s_%s_%" PRIu64, kinds[k].name,
		 pl == DENSE ? "dense" : "random", n);
	bench_json_case(&opts, name, 1);
	bench_json_stats(&st);
	bench_json_u64("entries", n);
	bench_json_u64("random_placement", pl == RANDOM);
	bench_json_u64("chained", c->kind != MISS_OVERLAP && c->kind != HIT_OVERLAP);
	bench_json_u64("batch", kinds[k].batched ? c->batch : 0);
	/* About one clock read per batch falls inside the timed part; not subtracted. */
	bench_json_num("clock_ns_per_op", kinds[k].batched ? clock_ns / (double)c->batch : 0);
	bench_json_num("z_ghz", Z_GHZ);
	bench_json_num("z_cycles_per_op", st.median * Z_GHZ);
	bench_json_num("z_cycles_per_op_min", st.min * Z_GHZ);
	bench_json_num("z_cycles_per_op_max", st.max * Z_GHZ);
	bench_json_u64("glib_major", glib_major_version);
	bench_json_u64("glib_minor", glib_minor_version);
	bench_json_u64("glib_micro", glib_micro_version);
	bench_json_end();
	bench_keep(c->sink);
	ghash_free(c);
}

int
main(int argc, char **argv)
{
	uint64_t t0;
	double clock_ns;

	bench_opts_parse(argc, argv, "bench_ghash",
			 "One 4 KiB step of QEMU's s390x RPCIT loop on its shadow IOTLB (a GLib\n"
			 "hash table keyed by a pointer to a 64-bit IOVA): miss, hit, hit+remove,\n"
			 "insert, with 0 to 262,144 entries present, dense or random IOVAs.\n"
			 "z_cycles_* convert ns at 5.2 GHz (IBM Z); they are not measured on Z.",
			 DEFAULT_SEED, &opts);
	t0 = bench_now_ns();
	clock_ns = clock_read_ns();
	for (int pl = DENSE; pl <= RANDOM; pl++)
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
			for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
				/* An empty table has nothing to hit, alias or place. */
				if (sizes[s] || (!kinds[k].needs_entries && pl == DENSE))
					run_case(k, (enum placement)pl, sizes[s], clock_ns);
	fprintf(stderr, "bench_ghash: done in %.2f s\n", (double)(bench_now_ns() - t0) / 1e9);
	return 0;
}
