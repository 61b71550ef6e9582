/* SPDX-License-Identifier: MIT */
/*
 * A log-linear histogram (include/iommusim/hist.h): values below 2^sub_bits
 * get a bucket each, every [2^k, 2^(k+1)) above is cut into 2^sub_bits equal
 * buckets. All counters are relaxed atomics, so recording never blocks.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <iommusim/hist.h>

#include "base/mem_int.h"
#include "base/util_int.h"

/*
 * Bucket layout for s = sub_bits: index v for v < 2^s; for v >= 2^s with
 * k = floor(log2 v) and g = k - s, index (g + 1) * 2^s + ((v >> g) - 2^s),
 * a bucket 2^g wide. The top bucket (k = 63) ends at UINT64_MAX, so there are
 * (65 - s) * 2^s buckets: 1920 for s = 5 (15 KiB), 56320 for s = 10 (440 KiB).
 *
 * sum wraps modulo 2^64 (the mean is then wrong); at 1 ns resolution that
 * takes 584 years of recorded time, so it is not guarded against.
 */
struct iommusim_hist {
	unsigned sub_bits;
	size_t nbuckets;
	_Atomic uint64_t count;
	_Atomic uint64_t sum;
	_Atomic uint64_t min; /* UINT64_MAX when empty */
	_Atomic uint64_t max;
	_Atomic uint64_t buckets[];
};

static inline size_t
bucket_of(unsigned s, uint64_t v)
{
	unsigned g;

	if (v < (UINT64_C(1) << s))
		return (size_t)v;
	g = ims_fls64(v) - 1 - s;
	return ((size_t)(g + 1) << s) + (size_t)((v >> g) - (UINT64_C(1) << s));
}

/* Inclusive bounds of bucket @i. */
static inline void
bucket_bounds(unsigned s, size_t i, uint64_t *lo, uint64_t *hi)
{
	size_t sub = i & (((size_t)1 << s) - 1);
	unsigned g;

	if (i < ((size_t)1 << s)) {
		*lo = *hi = i;
		return;
	}
	g = (unsigned)(i >> s) - 1;
	*lo = ((UINT64_C(1) << s) + sub) << g;
	*hi = *lo + ((UINT64_C(1) << g) - 1);
}

int
iommusim_hist_create(unsigned sub_bits, struct iommusim_hist **out)
{
	struct iommusim_hist *h;
	size_t nb;

	if (!out || sub_bits > IOMMUSIM_HIST_MAX_SUB_BITS)
		return -EINVAL;
	if (!sub_bits)
		sub_bits = IOMMUSIM_HIST_DEFAULT_SUB_BITS;
	nb = (size_t)(65 - sub_bits) << sub_bits;
	h = ims_zalloc(sizeof(*h) + nb * sizeof(h->buckets[0]));
	if (!h)
		return -ENOMEM;
	h->sub_bits = sub_bits;
	h->nbuckets = nb;
	atomic_init(&h->min, UINT64_MAX);
	*out = h;
	return 0;
}

void
iommusim_hist_destroy(struct iommusim_hist *h)
{
	ims_free(h);
}

void
iommusim_hist_record(struct iommusim_hist *h, uint64_t value)
{
	_Atomic uint64_t *b;

	if (!h)
		return;
	b = &h->buckets[bucket_of(h->sub_bits, value)];
	if (ims_solo) {
		/* One look at the flag for all five (the compiler reloads it
		 * after each atomic, so the ims_stat helpers would look five
		 * times). */
		(void)ims_solo_add(b, 1);
		(void)ims_solo_add(&h->count, 1);
		(void)ims_solo_add(&h->sum, value);
		ims_solo_min(&h->min, value);
		ims_solo_max(&h->max, value);
		return;
	}
	ims_stat_add(b, 1);
	ims_stat_add(&h->count, 1);
	ims_stat_add(&h->sum, value);
	ims_stat_min(&h->min, value);
	ims_stat_max(&h->max, value);
}

void
iommusim_hist_reset(struct iommusim_hist *h)
{
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->nbuckets; i++)
		atomic_store_explicit(&h->buckets[i], 0, memory_order_relaxed);
	atomic_store_explicit(&h->count, 0, memory_order_relaxed);
	atomic_store_explicit(&h->sum, 0, memory_order_relaxed);
	atomic_store_explicit(&h->min, UINT64_MAX, memory_order_relaxed);
	atomic_store_explicit(&h->max, 0, memory_order_relaxed);
}

int
iommusim_hist_merge(struct iommusim_hist *dst, const struct iommusim_hist *src)
{
	uint64_t n;
	size_t i;

	if (!dst || !src || dst->sub_bits != src->sub_bits)
		return -EINVAL;
	for (i = 0; i < src->nbuckets; i++) {
		n = atomic_load_explicit(&src->buckets[i], memory_order_relaxed);
		if (n)
			atomic_fetch_add_explicit(&dst->buckets[i], n, memory_order_relaxed);
	}
	n = atomic_load_explicit(&src->count, memory_order_relaxed);
	if (!n)
		return 0;
	atomic_fetch_add_explicit(&dst->count, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&dst->sum, atomic_load_explicit(&src->sum, memory_order_relaxed),
				  memory_order_relaxed);
	ims_stat_min(&dst->min, atomic_load_explicit(&src->min, memory_order_relaxed));
	ims_stat_max(&dst->max, atomic_load_explicit(&src->max, memory_order_relaxed));
	return 0;
}

uint64_t
iommusim_hist_percentile(const struct iommusim_hist *h, double pct)
{
	uint64_t total = 0, cum = 0, rank, lo, hi = 0;
	double want;
	size_t i;

	if (!h)
		return 0;
	/* The total comes from the buckets themselves, so that a concurrent
	 * record cannot leave the rank beyond what the walk below sees. */
	for (i = 0; i < h->nbuckets; i++)
		total += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
	if (!total)
		return 0;
	if (!(pct > 0)) /* also NaN */
		pct = 0;
	if (pct > 100)
		pct = 100;
	/* Nearest rank: the smallest r >= 1 with r / total >= pct / 100. */
	want = pct / 100.0 * (double)total;
	if (want >= (double)total) {
		rank = total;
	} else {
		rank = (uint64_t)want;
		if ((double)rank < want)
			rank++;
		if (!rank)
			rank = 1;
	}
	for (i = 0; i < h->nbuckets; i++) {
		uint64_t n = atomic_load_explicit(&h->buckets[i], memory_order_relaxed);

		if (!n)
			continue;
		bucket_bounds(h->sub_bits, i, &lo, &hi);
		cum += n;
		if (cum >= rank)
			break;
	}
	return hi;
}

int
iommusim_hist_summary_get(const struct iommusim_hist *h, struct iommusim_hist_summary *out)
{
	struct iommusim_hist_summary s = { 0 };

	if (!h || !out)
		return -EINVAL;
	s.count = atomic_load_explicit(&h->count, memory_order_relaxed);
	if (s.count) {
		s.min = atomic_load_explicit(&h->min, memory_order_relaxed);
		s.max = atomic_load_explicit(&h->max, memory_order_relaxed);
		s.mean = (double)atomic_load_explicit(&h->sum, memory_order_relaxed) /
			 (double)s.count;
		/* Bucket upper bounds, but never above the exact maximum. */
		s.p50 = IMS_MIN(iommusim_hist_percentile(h, 50), s.max);
		s.p90 = IMS_MIN(iommusim_hist_percentile(h, 90), s.max);
		s.p99 = IMS_MIN(iommusim_hist_percentile(h, 99), s.max);
		s.p999 = IMS_MIN(iommusim_hist_percentile(h, 99.9), s.max);
	}
	*out = s;
	return 0;
}

int
iommusim_hist_for_each(const struct iommusim_hist *h,
		       int (*fn)(void *priv, uint64_t lo, uint64_t hi, uint64_t count), void *priv)
{
	uint64_t lo, hi, n;
	size_t i;
	int ret;

	if (!h || !fn)
		return -EINVAL;
	for (i = 0; i < h->nbuckets; i++) {
		n = atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
		if (!n)
			continue;
		bucket_bounds(h->sub_bits, i, &lo, &hi);
		ret = fn(priv, lo, hi, n);
		if (ret)
			return ret;
	}
	return 0;
}
