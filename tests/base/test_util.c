/* SPDX-License-Identifier: MIT */
/* Tests of the internal bit helpers, against the kernel's definitions. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/util_int.h"

static void
test_util_fls64_counts_from_one(void **state)
{
	assert_int_equal(ims_fls64(0), 0);
	assert_int_equal(ims_fls64(1), 1);
	assert_int_equal(ims_fls64(2), 2);
	assert_int_equal(ims_fls64(3), 2);
	assert_int_equal(ims_fls64(0x80), 8);
	assert_int_equal(ims_fls64(UINT64_MAX), 64);
}

static void
test_util_order_base_2_is_ceil_log2(void **state)
{
	/* KERNEL_SPEC TV-7: bins of sizes 1,2,3,4,5..8,9..16,17..32,33. */
	static const struct {
		uint64_t size;
		unsigned order;
	} cases[] = { { 0, 0 },	 { 1, 0 },  { 2, 1 },  { 3, 2 },  { 4, 2 },
		      { 5, 3 },	 { 8, 3 },  { 9, 4 },  { 16, 4 }, { 17, 5 },
		      { 31, 5 }, { 32, 5 }, { 33, 6 }, { 64, 6 }, { 65, 7 } };
	size_t i;

	for (i = 0; i < IMS_ARRAY_SIZE(cases); i++)
		assert_int_equal(ims_order_base_2(cases[i].size), cases[i].order);
}

static void
test_util_roundup_pow2_keeps_powers(void **state)
{
	assert_int_equal(ims_roundup_pow2(1), 1);
	assert_int_equal(ims_roundup_pow2(3), 4);
	assert_int_equal(ims_roundup_pow2(4), 4);
	assert_int_equal(ims_roundup_pow2(17), 32);
	assert_true(ims_roundup_pow2(UINT64_C(1) << 63) == UINT64_C(1) << 63);
}

static void
test_util_is_pow2_rejects_zero(void **state)
{
	assert_false(ims_is_pow2(0));
	assert_true(ims_is_pow2(1));
	assert_true(ims_is_pow2(4096));
	assert_false(ims_is_pow2(4097));
	assert_false(ims_is_pow2(6));
}

static void
test_util_add_sat_saturates(void **state)
{
	assert_true(ims_add_sat(1, 2) == 3);
	assert_true(ims_add_sat(UINT64_MAX - 1, 1) == UINT64_MAX);
	assert_true(ims_add_sat(UINT64_MAX - 1, 5) == UINT64_MAX);
}

/*
 * Solo mode gives the values the atomic paths give: random sequences of
 * counter, high/low-water, fetch-and-add/sub and lock operations, applied
 * once in solo mode and once outside it, leave the same state and return
 * the same values.
 */
struct solo_state {
	_Atomic uint64_t ctr, hi, lo, occ;
	struct ims_spinlock lock;
};

static void
solo_apply(struct solo_state *st, uint64_t op, uint64_t v, uint64_t *ret)
{
	switch (op % 6) {
	case 0:
		ims_stat_add(&st->ctr, v);
		*ret = 0;
		break;
	case 1:
		ims_stat_max(&st->hi, v);
		*ret = 0;
		break;
	case 2:
		ims_stat_min(&st->lo, v);
		*ret = 0;
		break;
	case 3:
		*ret = ims_solo_fetch_add(&st->occ, v);
		break;
	case 4:
		*ret = ims_solo_fetch_sub(&st->occ, v);
		break;
	default:
		/* take or drop: a taken lock fails a second take in both modes */
		if (v & 1) {
			*ret = ims_spin_trylock(&st->lock);
		} else {
			if (atomic_load_explicit(&st->lock.locked, memory_order_relaxed))
				ims_spin_unlock(&st->lock);
			*ret = 2;
		}
		break;
	}
}

static void
test_util_solo_mode_gives_the_atomic_results(void **state)
{
	struct solo_state a = { .lo = UINT64_MAX }, b = { .lo = UINT64_MAX };
	uint64_t x = 0x9e3779b97f4a7c15u, ra, rb;
	unsigned i, locked = 0;
	bool was;

	(void)state;
	assert_false(ims_solo);
	for (i = 0; i < 100000; i++) {
		uint64_t op, v;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		op = x >> 40;
		v = x & 0xffff;
		solo_apply(&a, op, v, &ra);
		was = ims_solo_begin();
		assert_true(ims_solo);
		solo_apply(&b, op, v, &rb);
		ims_solo_end(was);
		assert_false(ims_solo);
		if (ra != rb)
			fail_msg("op %u (%llu) returned %llu atomically, %llu solo", i,
				 (unsigned long long)(op % 6), (unsigned long long)ra,
				 (unsigned long long)rb);
		locked += op % 6 == 5 && (v & 1) && !ra;
	}
	assert_int_equal(atomic_load(&a.ctr), atomic_load(&b.ctr));
	assert_int_equal(atomic_load(&a.hi), atomic_load(&b.hi));
	assert_int_equal(atomic_load(&a.lo), atomic_load(&b.lo));
	assert_int_equal(atomic_load(&a.occ), atomic_load(&b.occ));
	assert_int_equal(atomic_load(&a.lock.locked), atomic_load(&b.lock.locked));
	assert_true(atomic_load(&a.ctr) > 0);
	assert_true(locked > 0); /* some takes found the lock held */
}

/* Solo mode is the thread's own: another thread does not see it, and it
 * nests. */
static void *
solo_elsewhere(void *arg)
{
	*(bool *)arg = ims_solo;
	return NULL;
}

static void
test_util_solo_mode_is_per_thread_and_nests(void **state)
{
	pthread_t t;
	bool seen = true, outer, inner;

	(void)state;
	outer = ims_solo_begin();
	inner = ims_solo_begin();
	assert_false(outer);
	assert_true(inner);
	assert_int_equal(pthread_create(&t, NULL, solo_elsewhere, &seen), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_false(seen);
	ims_solo_end(inner);
	assert_true(ims_solo);
	ims_solo_end(outer);
	assert_false(ims_solo);
}

/* The divider gives n / d exactly: every edge divisor (1, 2, 3, powers of
 * two and their neighbours, 2^63 + 1, UINT64_MAX) against edge and random
 * dividends, and random divisors of every size. */
static void
test_util_divider_is_exact(void **state)
{
	uint64_t divisors[200], dividends[64], x = 0x2545f4914f6cdd1du;
	size_t nd = 0, nn = 0, i, j, k;

	(void)state;
	divisors[nd++] = 1;
	divisors[nd++] = 3;
	divisors[nd++] = 5;
	divisors[nd++] = 7;
	divisors[nd++] = 10;
	divisors[nd++] = 52; /* the default clock's 2 x 26 */
	divisors[nd++] = 1000000000;
	divisors[nd++] = UINT64_MAX;
	for (k = 1; k < 64; k++) {
		divisors[nd++] = UINT64_C(1) << k;
		divisors[nd++] = (UINT64_C(1) << k) + 1;
		divisors[nd++] = (UINT64_C(1) << k) - 1 ? (UINT64_C(1) << k) - 1 : 1;
	}
	dividends[nn++] = 0;
	dividends[nn++] = 1;
	dividends[nn++] = UINT64_MAX;
	dividends[nn++] = UINT64_MAX - 1;
	dividends[nn++] = UINT64_C(1) << 63;
	while (nn < sizeof(dividends) / sizeof(dividends[0])) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		dividends[nn++] = x >> (x & 63);
	}
	for (i = 0; i < nd; i++) {
		struct ims_divider dv;

		ims_divider_init(&dv, divisors[i]);
		for (j = 0; j < nn; j++) {
			uint64_t n = dividends[j], d = divisors[i];
			uint64_t around[3] = { n, n / d * d, n / d * d - 1 };

			for (k = 0; k < 3; k++)
				if (ims_divide(&dv, around[k]) != around[k] / d)
					fail_msg("%llu / %llu: %llu, want %llu",
						 (unsigned long long)around[k],
						 (unsigned long long)d,
						 (unsigned long long)ims_divide(&dv, around[k]),
						 (unsigned long long)(around[k] / d));
		}
	}
	for (i = 0; i < 200000; i++) {
		struct ims_divider dv;
		uint64_t d, n;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d = (x >> (x & 63)) | 1;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = x >> ((x >> 58) & 31);
		ims_divider_init(&dv, d);
		if (ims_divide(&dv, n) != n / d)
			fail_msg("%llu / %llu: %llu, want %llu", (unsigned long long)n,
				 (unsigned long long)d, (unsigned long long)ims_divide(&dv, n),
				 (unsigned long long)(n / d));
	}
}

/* The count of entries <= t, against a linear count: sorted arrays of every
 * length to 70 with runs of equal values, probes at, between and beyond every
 * value, and the empty array. */
static void
test_util_count_le_recent_counts_like_a_scan(void **state)
{
	uint64_t a[70], x = 0x9e3779b97f4a7c15u;
	size_t n, i, j, round;

	(void)state;
	assert_int_equal(ims_count_le_recent(NULL, 0, 5), 0);
	for (round = 0; round < 40; round++) {
		for (n = 1; n <= sizeof(a) / sizeof(a[0]); n++) {
			uint64_t v = round == 0 ? UINT64_MAX - n : 0;

			for (i = 0; i < n; i++) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				/* steps of 0 (runs of equals), 1 or more */
				v += round == 0 ? 1 : (x % 4 == 0 ? 0 : 1 + x % 5);
				a[i] = v;
			}
			for (i = 0; i < n; i++) {
				uint64_t probes[3] = { a[i] - 1, a[i], a[i] + 1 };

				for (j = 0; j < 3; j++) {
					size_t want = 0, k;

					for (k = 0; k < n; k++)
						want += a[k] <= probes[j];
					if (ims_count_le_recent(a, n, probes[j]) != want)
						fail_msg("n %zu probe %llu: %zu, want %zu", n,
							 (unsigned long long)probes[j],
							 ims_count_le_recent(a, n, probes[j]),
							 want);
				}
			}
			assert_int_equal(ims_count_le_recent(a, n, UINT64_MAX), n);
		}
	}
}

/* The library's pthread locks are taken outside solo mode only. */
static void
test_util_locks_are_skipped_in_solo_mode_only(void **state)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
	bool was;

	(void)state;
	ims_mutex_lock(&m);
	assert_int_equal(pthread_mutex_trylock(&m), EBUSY);
	ims_mutex_unlock(&m);
	ims_rwlock_rdlock(&l);
	assert_int_equal(pthread_rwlock_trywrlock(&l), EBUSY);
	ims_rwlock_unlock(&l);
	was = ims_solo_begin();
	ims_mutex_lock(&m);
	assert_int_equal(pthread_mutex_trylock(&m), 0); /* not taken */
	pthread_mutex_unlock(&m);
	ims_mutex_unlock(&m);
	ims_rwlock_rdlock(&l);
	assert_int_equal(pthread_rwlock_trywrlock(&l), 0);
	pthread_rwlock_unlock(&l);
	ims_rwlock_unlock(&l);
	ims_solo_end(was);
	/* and free again afterwards */
	assert_int_equal(pthread_mutex_trylock(&m), 0);
	pthread_mutex_unlock(&m);
	pthread_mutex_destroy(&m);
	pthread_rwlock_destroy(&l);
}

/* The bitmap searches against a bit-by-bit scan: random maps of 3 words,
 * every start and every size up to 192 (a size inside a word included). */
static void
test_util_bitmap_next_set_and_zero_scan_like_a_loop(void **state)
{
	uint64_t map[3], x = 0xd1b54a32d192ed03u, size, start, i;
	unsigned round;

	(void)state;
	for (round = 0; round < 20; round++) {
		for (i = 0; i < 3; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* sparse, dense, empty and full words */
			map[i] = round % 4 == 0 ? x & (x >> 7) & (x >> 13) :
				 round % 4 == 1 ? x | (x >> 3) :
				 round % 4 == 2 ? 0 :
						  ~UINT64_C(0);
		}
		for (size = 0; size <= 192; size++) {
			for (start = 0; start <= size + 1; start++) {
				uint64_t want_set = size, want_zero = size;

				for (i = start; i < size; i++) {
					bool bit = map[i / 64] >> (i % 64) & 1;

					if (bit && want_set == size)
						want_set = i;
					if (!bit && want_zero == size)
						want_zero = i;
				}
				assert_int_equal(ims_bitmap_next_set(map, size, start), want_set);
				assert_int_equal(ims_bitmap_next_zero(map, size, start), want_zero);
			}
		}
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_fls64_counts_from_one),
		cmocka_unit_test(test_util_order_base_2_is_ceil_log2),
		cmocka_unit_test(test_util_roundup_pow2_keeps_powers),
		cmocka_unit_test(test_util_is_pow2_rejects_zero),
		cmocka_unit_test(test_util_add_sat_saturates),
		cmocka_unit_test(test_util_solo_mode_gives_the_atomic_results),
		cmocka_unit_test(test_util_solo_mode_is_per_thread_and_nests),
		cmocka_unit_test(test_util_divider_is_exact),
		cmocka_unit_test(test_util_count_le_recent_counts_like_a_scan),
		cmocka_unit_test(test_util_locks_are_skipped_in_solo_mode_only),
		cmocka_unit_test(test_util_bitmap_next_set_and_zero_scan_like_a_loop),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
