/* SPDX-License-Identifier: MIT */
/*
 * Tests of the log-linear histogram (lib/hist.c): exact small values, bucket
 * bounds at powers of two, the relative error bound, percentiles against a
 * sorted array, merge, reset and concurrent recording.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/hist.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))

#include "base/mem_int.h"
#include "base/util_int.h"
#include "test_common.h"

#define SEED UINT64_C(0x9e3779b97f4a7c15)

/* ------------------------------------------------------------------------ */
/* Helpers */

/* A value spread over all magnitudes: a random bit width, then random bits. */
static uint64_t
rnd_log(uint64_t *s)
{
	unsigned bits = (unsigned)(test_splitmix64(s) % 65);

	return bits == 64 ? test_splitmix64(s) : test_splitmix64(s) & ((UINT64_C(1) << bits) - 1);
}

static struct iommusim_hist *
new_hist(unsigned sub_bits)
{
	struct iommusim_hist *h = NULL;

	assert_int_equal(iommusim_hist_create(sub_bits, &h), 0);
	assert_non_null(h);
	return h;
}

#define MAX_BUCKETS 64

struct buckets {
	unsigned n;
	uint64_t lo[MAX_BUCKETS], hi[MAX_BUCKETS], count[MAX_BUCKETS];
	uint64_t total;
	uint64_t last_hi;
};

static int
collect(void *priv, uint64_t lo, uint64_t hi, uint64_t count)
{
	struct buckets *b = priv;

	if (b->n > 0)
		assert_true(lo > b->last_hi); /* ascending, disjoint */
	b->last_hi = hi;
	assert_true(lo <= hi);
	assert_true(count > 0);
	b->total += count;
	if (b->n < MAX_BUCKETS) {
		b->lo[b->n] = lo;
		b->hi[b->n] = hi;
		b->count[b->n] = count;
	}
	b->n++;
	return 0;
}

static struct buckets
buckets_of(const struct iommusim_hist *h)
{
	struct buckets b;

	memset(&b, 0, sizeof(b));
	assert_int_equal(iommusim_hist_for_each(h, collect, &b), 0);
	return b;
}

/* The bucket of @v in a histogram holding only @v. */
static void
bucket_alone(unsigned sub_bits, uint64_t v, uint64_t *lo, uint64_t *hi)
{
	struct iommusim_hist *h = new_hist(sub_bits);
	struct buckets b;

	iommusim_hist_record(h, v);
	b = buckets_of(h);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.count[0], 1);
	*lo = b.lo[0];
	*hi = b.hi[0];
	iommusim_hist_destroy(h);
}

/* Expected bucket bounds, from the definition in hist.h. */
static void
expect_bounds(unsigned s, uint64_t v, uint64_t *lo, uint64_t *hi)
{
	unsigned k;
	uint64_t w;

	if (v < (UINT64_C(1) << s)) {
		*lo = *hi = v;
		return;
	}
	k = 63 - (unsigned)__builtin_clzll(v);
	w = UINT64_C(1) << (k - s); /* 2^k / 2^s */
	*lo = v - (v - (UINT64_C(1) << k)) % w;
	*hi = *lo + (w - 1);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array, as hist.h defines it. */
static uint64_t
true_percentile(const uint64_t *sorted, size_t n, double pct)
{
	double want = pct / 100.0 * (double)n;
	size_t r;

	if (want >= (double)n)
		return sorted[n - 1];
	r = (size_t)want;
	if ((double)r < want)
		r++;
	if (!r)
		r = 1;
	return sorted[r - 1];
}

/* ------------------------------------------------------------------------ */

static void
test_hist_create_rejects_bad_args(void **state)
{
	struct iommusim_hist *h = (struct iommusim_hist *)&h;

	assert_int_equal(iommusim_hist_create(IOMMUSIM_HIST_MAX_SUB_BITS + 1, &h), -EINVAL);
	assert_ptr_equal(h, (struct iommusim_hist *)&h);
	assert_int_equal(iommusim_hist_create(0, NULL), -EINVAL);
	iommusim_hist_destroy(NULL);
	iommusim_hist_record(NULL, 1);
	iommusim_hist_reset(NULL);
	assert_int_equal(iommusim_hist_percentile(NULL, 50), 0);
	assert_int_equal(iommusim_hist_summary_get(NULL, &(struct iommusim_hist_summary){ 0 }),
			 -EINVAL);
	h = new_hist(0);
	assert_int_equal(iommusim_hist_summary_get(h, NULL), -EINVAL);
	assert_int_equal(iommusim_hist_for_each(h, NULL, NULL), -EINVAL);
	assert_int_equal(iommusim_hist_for_each(NULL, collect, NULL), -EINVAL);
	iommusim_hist_destroy(h);
}

static void
test_hist_create_enomem(void **state)
{
	struct iommusim_hist *h = (struct iommusim_hist *)&h;

	ims_mem_fault_inject(1, 1);
	assert_int_equal(iommusim_hist_create(0, &h), -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_ptr_equal(h, (struct iommusim_hist *)&h);
}

static void
test_hist_default_sub_bits(void **state)
{
	uint64_t lo, hi;

	/* 0 means IOMMUSIM_HIST_DEFAULT_SUB_BITS (5): 1000 is in [992, 1007]. */
	bucket_alone(0, 1000, &lo, &hi);
	assert_int_equal(lo, 992);
	assert_int_equal(hi, 1007);
	bucket_alone(IOMMUSIM_HIST_DEFAULT_SUB_BITS, 63, &lo, &hi);
	assert_int_equal(lo, 63);
	assert_int_equal(hi, 63);
	bucket_alone(0, 64, &lo, &hi);
	assert_int_equal(lo, 64);
	assert_int_equal(hi, 65);
}

static void
test_hist_small_values_exact(void **state)
{
	static const unsigned subs[] = { 1, 3, 5, 10 };
	size_t i;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		unsigned s = subs[i];
		uint64_t v, limit = UINT64_C(1) << s;
		struct iommusim_hist *h = new_hist(s);
		struct iommusim_hist_summary sum;
		struct buckets b;

		/* Below 2^s every value has its own bucket; record v v+1 times. */
		for (v = 0; v < limit && v < MAX_BUCKETS; v++) {
			uint64_t k;

			for (k = 0; k <= v; k++)
				iommusim_hist_record(h, v);
		}
		b = buckets_of(h);
		assert_int_equal(b.n, limit < MAX_BUCKETS ? limit : MAX_BUCKETS);
		for (v = 0; v < b.n; v++) {
			assert_int_equal(b.lo[v], v);
			assert_int_equal(b.hi[v], v);
			assert_int_equal(b.count[v], v + 1);
		}
		assert_int_equal(iommusim_hist_summary_get(h, &sum), 0);
		assert_int_equal(sum.min, 0);
		assert_int_equal(sum.max, b.n - 1);
		assert_int_equal(sum.count, b.n * (b.n + 1) / 2);
		iommusim_hist_destroy(h);
	}
}

static void
test_hist_bucket_bounds_at_powers_of_two(void **state)
{
	static const unsigned subs[] = { 1, 2, 5, 10 };
	size_t i;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		unsigned s = subs[i], k;

		for (k = s; k < 64; k++) {
			uint64_t p = UINT64_C(1) << k, w = UINT64_C(1) << (k - s), lo, hi;

			/* 2^k opens a bucket 2^(k-s) wide... */
			bucket_alone(s, p, &lo, &hi);
			assert_int_equal(lo, p);
			assert_int_equal(hi, p + w - 1);
			/* ...whose last value is in it too, */
			bucket_alone(s, p + w - 1, &lo, &hi);
			assert_int_equal(lo, p);
			/* and 2^k - 1 closes the one before. */
			bucket_alone(s, p - 1, &lo, &hi);
			assert_int_equal(hi, p - 1);
			assert_int_equal(lo, k == s ? p - 1 : p - (w >> 1));
		}
	}
}

static void
test_hist_relative_error_bound(void **state)
{
	static const unsigned subs[] = { 1, 4, 5, 7, 10 };
	uint64_t seed = SEED ^ 1, s0 = seed;
	size_t i;
	int n;

	print_message("# seed %" PRIu64 "\n", s0);
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		unsigned s = subs[i];
		struct iommusim_hist *h = new_hist(s);

		for (n = 0; n < 2000; n++) {
			uint64_t v = rnd_log(&seed), lo, hi, elo, ehi;
			struct buckets b;

			iommusim_hist_reset(h);
			iommusim_hist_record(h, v);
			b = buckets_of(h);
			assert_int_equal(b.n, 1);
			lo = b.lo[0];
			hi = b.hi[0];
			assert_true(lo <= v && v <= hi);
			/* The bucket is at most v / 2^s wide (exact below 2^s). */
			assert_true(hi - lo <= (v >> s));
			expect_bounds(s, v, &elo, &ehi);
			assert_int_equal(lo, elo);
			assert_int_equal(hi, ehi);
		}
		iommusim_hist_destroy(h);
	}
}

static void
test_hist_percentile_property_vs_sorted(void **state)
{
	static const double pcts[] = { 0, 0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 100 };
	static const unsigned subs[] = { 1, 3, 5, 10 };
	uint64_t seed = SEED ^ 2, *vals;
	int round;

	print_message("# seed %" PRIu64 "\n", seed);
	vals = malloc(5000 * sizeof(*vals));
	assert_non_null(vals);
	for (round = 0; round < 40; round++) {
		unsigned s = subs[round % 4];
		size_t n = 1 + test_splitmix64(&seed) % 5000, i, j;
		struct iommusim_hist *h = new_hist(s);
		struct iommusim_hist_summary sum;
		unsigned mode = (unsigned)(test_splitmix64(&seed) % 3);
		double mean = 0;

		for (i = 0; i < n; i++) {
			/* all magnitudes, a narrow range, or few distinct values */
			vals[i] = mode == 0 ? rnd_log(&seed) :
				  mode == 1 ? 100000 + test_splitmix64(&seed) % 5000 :
					      (test_splitmix64(&seed) % 4) * 1000;
			iommusim_hist_record(h, vals[i]);
			if (mode)
				mean += (double)vals[i];
		}
		qsort(vals, n, sizeof(*vals), cmp_u64);
		for (j = 0; j < sizeof(pcts) / sizeof(pcts[0]) + 5; j++) {
			double p = j < sizeof(pcts) / sizeof(pcts[0]) ?
					   pcts[j] :
					   (double)(test_splitmix64(&seed) % 100001) / 1000.0;
			uint64_t t = true_percentile(vals, n, p),
				 r = iommusim_hist_percentile(h, p);

			/* Never below the truth, and within the bucket resolution. */
			if (r < t || r - t > (t >> s))
				fail_msg("n %zu sub %u p %g: reported %" PRIu64 ", true %" PRIu64,
					 n, s, p, r, t);
		}
		assert_int_equal(iommusim_hist_summary_get(h, &sum), 0);
		assert_int_equal(sum.count, n);
		assert_int_equal(sum.min, vals[0]);
		assert_int_equal(sum.max, vals[n - 1]);
		/* the summary's percentiles are clamped to the exact maximum */
		assert_int_equal(sum.p50, MIN(iommusim_hist_percentile(h, 50), sum.max));
		assert_int_equal(sum.p90, MIN(iommusim_hist_percentile(h, 90), sum.max));
		assert_int_equal(sum.p99, MIN(iommusim_hist_percentile(h, 99), sum.max));
		assert_int_equal(sum.p999, MIN(iommusim_hist_percentile(h, 99.9), sum.max));
		assert_true(sum.p999 <= sum.max && sum.p999 >= true_percentile(vals, n, 99.9));
		if (mode) /* sums that fit: the mean is exact */
			assert_true(sum.mean == mean / (double)n);
		iommusim_hist_destroy(h);
	}
	free(vals);
}

static void
test_hist_percentile_out_of_range_pct(void **state)
{
	struct iommusim_hist *h = new_hist(3);

	iommusim_hist_record(h, 3);
	iommusim_hist_record(h, 7);
	assert_int_equal(iommusim_hist_percentile(h, -5), 3);
	assert_int_equal(iommusim_hist_percentile(h, 0), 3);
	assert_int_equal(iommusim_hist_percentile(h, 50), 3);
	assert_int_equal(iommusim_hist_percentile(h, 50.01), 7);
	assert_int_equal(iommusim_hist_percentile(h, 1000), 7);
	iommusim_hist_destroy(h);
}

static void
test_hist_uint64_max(void **state)
{
	struct iommusim_hist *h = new_hist(5);
	struct iommusim_hist_summary sum;
	struct buckets b;

	iommusim_hist_record(h, UINT64_MAX);
	iommusim_hist_record(h, UINT64_MAX - 1);
	iommusim_hist_record(h, 0);
	b = buckets_of(h);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.lo[0], 0);
	assert_int_equal(b.hi[0], 0);
	assert_int_equal(b.count[0], 1);
	/* The top bucket is [2^64 - 2^58, 2^64 - 1]. */
	assert_int_equal(b.lo[1], UINT64_MAX - (UINT64_C(1) << 58) + 1);
	assert_int_equal(b.hi[1], UINT64_MAX);
	assert_int_equal(b.count[1], 2);
	assert_int_equal(iommusim_hist_percentile(h, 100), UINT64_MAX);
	assert_int_equal(iommusim_hist_percentile(h, 33), 0);
	assert_int_equal(iommusim_hist_summary_get(h, &sum), 0);
	assert_int_equal(sum.min, 0);
	assert_int_equal(sum.max, UINT64_MAX);
	assert_int_equal(sum.count, 3);
	iommusim_hist_destroy(h);

	/* Also at the finest resolution. */
	h = new_hist(IOMMUSIM_HIST_MAX_SUB_BITS);
	iommusim_hist_record(h, UINT64_MAX);
	b = buckets_of(h);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.hi[0], UINT64_MAX);
	assert_int_equal(b.lo[0], UINT64_MAX - (UINT64_C(1) << 53) + 1);
	iommusim_hist_destroy(h);
}

static void
test_hist_sum_wraps_at_2_64(void **state)
{
	struct iommusim_hist *h = new_hist(0);
	struct iommusim_hist_summary sum;

	/* Documented: the sum is kept modulo 2^64, so the mean is then wrong. */
	iommusim_hist_record(h, UINT64_MAX);
	iommusim_hist_record(h, 3);
	assert_int_equal(iommusim_hist_summary_get(h, &sum), 0);
	assert_true(sum.mean == 1.0);
	assert_int_equal(sum.max, UINT64_MAX);
	iommusim_hist_destroy(h);
}

static void
test_hist_empty(void **state)
{
	struct iommusim_hist *h = new_hist(0);
	struct iommusim_hist_summary sum;
	struct buckets b;

	memset(&sum, 0xa5, sizeof(sum));
	assert_int_equal(iommusim_hist_summary_get(h, &sum), 0);
	assert_int_equal(sum.count, 0);
	assert_int_equal(sum.min, 0);
	assert_int_equal(sum.max, 0);
	assert_true(sum.mean == 0.0);
	assert_int_equal(sum.p50, 0);
	assert_int_equal(sum.p90, 0);
	assert_int_equal(sum.p99, 0);
	assert_int_equal(sum.p999, 0);
	assert_int_equal(iommusim_hist_percentile(h, 100), 0);
	b = buckets_of(h);
	assert_int_equal(b.n, 0);
	iommusim_hist_destroy(h);
}

static void
test_hist_merge(void **state)
{
	struct iommusim_hist *a = new_hist(4), *b = new_hist(4), *all = new_hist(4);
	struct iommusim_hist *other = new_hist(5), *empty = new_hist(4);
	struct iommusim_hist_summary sa, sall;
	struct buckets ba, ball;
	uint64_t seed = SEED ^ 3;
	unsigned i;

	for (i = 0; i < 3000; i++) {
		uint64_t v = rnd_log(&seed) >> 8;

		iommusim_hist_record(i % 3 ? a : b, v);
		iommusim_hist_record(all, v);
	}
	assert_int_equal(iommusim_hist_merge(a, other), -EINVAL);
	assert_int_equal(iommusim_hist_merge(NULL, b), -EINVAL);
	assert_int_equal(iommusim_hist_merge(a, NULL), -EINVAL);
	assert_int_equal(iommusim_hist_merge(a, b), 0);
	assert_int_equal(iommusim_hist_merge(a, empty), 0); /* min stays */
	assert_int_equal(iommusim_hist_summary_get(a, &sa), 0);
	assert_int_equal(iommusim_hist_summary_get(all, &sall), 0);
	assert_int_equal(sa.count, 3000);
	assert_int_equal(sa.count, sall.count);
	assert_int_equal(sa.min, sall.min);
	assert_int_equal(sa.max, sall.max);
	assert_true(sa.mean == sall.mean);
	assert_int_equal(sa.p50, sall.p50);
	assert_int_equal(sa.p999, sall.p999);
	ba = buckets_of(a);
	ball = buckets_of(all);
	assert_int_equal(ba.n, ball.n);
	assert_int_equal(ba.total, 3000);
	assert_memory_equal(ba.lo, ball.lo, sizeof(ba.lo));
	assert_memory_equal(ba.count, ball.count, sizeof(ba.count));

	/* Into an empty one: min comes from the source. */
	assert_int_equal(iommusim_hist_merge(empty, b), 0);
	assert_int_equal(iommusim_hist_summary_get(empty, &sa), 0);
	assert_int_equal(iommusim_hist_summary_get(b, &sall), 0);
	assert_int_equal(sa.min, sall.min);
	assert_int_equal(sa.max, sall.max);
	assert_int_equal(sa.count, sall.count);
	iommusim_hist_destroy(a);
	iommusim_hist_destroy(b);
	iommusim_hist_destroy(all);
	iommusim_hist_destroy(other);
	iommusim_hist_destroy(empty);
}

static void
test_hist_reset(void **state)
{
	struct iommusim_hist *h = new_hist(2);
	struct iommusim_hist_summary sum;
	struct buckets b;

	iommusim_hist_record(h, 5);
	iommusim_hist_record(h, 1000);
	iommusim_hist_reset(h);
	assert_int_equal(iommusim_hist_summary_get(h, &sum), 0);
	assert_int_equal(sum.count, 0);
	assert_int_equal(sum.max, 0);
	b = buckets_of(h);
	assert_int_equal(b.n, 0);
	/* min starts over too */
	iommusim_hist_record(h, 700);
	assert_int_equal(iommusim_hist_summary_get(h, &sum), 0);
	assert_int_equal(sum.min, 700);
	assert_int_equal(sum.max, 700);
	assert_true(sum.mean == 700.0);
	iommusim_hist_destroy(h);
}

static int
stop_at_second(void *priv, uint64_t lo, uint64_t hi, uint64_t count)
{
	int *calls = priv;

	return ++*calls == 2 ? 42 : 0;
}

static void
test_hist_for_each_stops_early(void **state)
{
	struct iommusim_hist *h = new_hist(0);
	int calls = 0;

	iommusim_hist_record(h, 1);
	iommusim_hist_record(h, 2);
	iommusim_hist_record(h, 3);
	assert_int_equal(iommusim_hist_for_each(h, stop_at_second, &calls), 42);
	assert_int_equal(calls, 2);
	iommusim_hist_destroy(h);
}

#define CT_THREADS 4
#define CT_ITERS 100000

struct ct_arg {
	struct iommusim_hist *h;
	uint64_t seed;
	uint64_t sum;
	uint64_t min, max;
};

static void *
ct_main(void *p)
{
	struct ct_arg *a = p;
	int i;

	a->min = UINT64_MAX;
	for (i = 0; i < CT_ITERS; i++) {
		uint64_t v = test_splitmix64(&a->seed) >> 24;

		iommusim_hist_record(a->h, v);
		a->sum += v;
		a->min = v < a->min ? v : a->min;
		a->max = v > a->max ? v : a->max;
	}
	return NULL;
}

static void
test_hist_concurrent_record(void **state)
{
	struct iommusim_hist *h = new_hist(0);
	struct ct_arg args[CT_THREADS];
	pthread_t tid[CT_THREADS];
	struct iommusim_hist_summary sum;
	uint64_t total = 0, mn = UINT64_MAX, mx = 0;
	struct buckets b;
	int i;

	print_message("# seed %" PRIu64 "\n", SEED);
	for (i = 0; i < CT_THREADS; i++) {
		args[i] = (struct ct_arg){ .h = h, .seed = SEED + (uint64_t)i };
		assert_int_equal(pthread_create(&tid[i], NULL, ct_main, &args[i]), 0);
	}
	for (i = 0; i < CT_THREADS; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		total += args[i].sum;
		mn = args[i].min < mn ? args[i].min : mn;
		mx = args[i].max > mx ? args[i].max : mx;
	}
	assert_int_equal(iommusim_hist_summary_get(h, &sum), 0);
	assert_int_equal(sum.count, CT_THREADS * CT_ITERS);
	assert_int_equal(sum.min, mn);
	assert_int_equal(sum.max, mx);
	assert_true(sum.mean == (double)total / (CT_THREADS * CT_ITERS));
	b = buckets_of(h);
	assert_int_equal(b.total, CT_THREADS * CT_ITERS);
	iommusim_hist_destroy(h);
}

/* Collect every non-empty bucket into a flat list of (lo, hi, count). */
struct bucket_list {
	uint64_t v[3 * 4096];
	size_t n;
};

static int
collect_bucket(void *priv, uint64_t lo, uint64_t hi, uint64_t count)
{
	struct bucket_list *l = priv;

	assert_true(l->n + 3 <= sizeof(l->v) / sizeof(l->v[0]));
	l->v[l->n++] = lo;
	l->v[l->n++] = hi;
	l->v[l->n++] = count;
	return 0;
}

/* Solo mode's recording (one look at the flag) gives what the atomic one
 * gives: the same values into two histograms, one recorded in solo mode. */
static void
test_hist_solo_record_matches_atomic(void **state)
{
	static struct bucket_list a, b;
	struct iommusim_hist *ha = NULL, *hb = NULL;
	struct iommusim_hist_summary sa, sb;
	uint64_t x = 0x853c49e6748fea9bu;
	unsigned i;
	bool was;

	(void)state;
	assert_int_equal(iommusim_hist_create(0, &ha), 0);
	assert_int_equal(iommusim_hist_create(0, &hb), 0);
	for (i = 0; i < 20000; i++) {
		uint64_t v;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = i == 0 ? UINT64_MAX : i == 1 ? 0 : x >> (x & 63);
		iommusim_hist_record(ha, v);
		was = ims_solo_begin();
		iommusim_hist_record(hb, v);
		ims_solo_end(was);
	}
	assert_int_equal(iommusim_hist_summary_get(ha, &sa), 0);
	assert_int_equal(iommusim_hist_summary_get(hb, &sb), 0);
	assert_memory_equal(&sa, &sb, sizeof(sa));
	assert_int_equal(sa.count, 20000);
	a.n = b.n = 0;
	assert_int_equal(iommusim_hist_for_each(ha, collect_bucket, &a), 0);
	assert_int_equal(iommusim_hist_for_each(hb, collect_bucket, &b), 0);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.v, b.v, a.n * sizeof(a.v[0]));
	iommusim_hist_destroy(ha);
	iommusim_hist_destroy(hb);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_create_rejects_bad_args),
		cmocka_unit_test(test_hist_create_enomem),
		cmocka_unit_test(test_hist_default_sub_bits),
		cmocka_unit_test(test_hist_small_values_exact),
		cmocka_unit_test(test_hist_bucket_bounds_at_powers_of_two),
		cmocka_unit_test(test_hist_relative_error_bound),
		cmocka_unit_test(test_hist_percentile_property_vs_sorted),
		cmocka_unit_test(test_hist_percentile_out_of_range_pct),
		cmocka_unit_test(test_hist_uint64_max),
		cmocka_unit_test(test_hist_sum_wraps_at_2_64),
		cmocka_unit_test(test_hist_empty),
		cmocka_unit_test(test_hist_merge),
		cmocka_unit_test(test_hist_reset),
		cmocka_unit_test(test_hist_for_each_stops_early),
		cmocka_unit_test(test_hist_concurrent_record),
		cmocka_unit_test(test_hist_solo_record_matches_atomic),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("hist", tests, NULL, NULL);
}
