/* SPDX-License-Identifier: MIT */
/*
 * The Pareto front (iommusim/pareto.h): worked cases, the argument checks,
 * and random point sets checked against the definition, point by point.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/pareto.h>

#include "test_common.h"

static const enum iommusim_objective_sense max_min[] = { IOMMUSIM_MAXIMISE, IOMMUSIM_MINIMISE };

/* @want spells the front point by point: '1' on it, '0' off it. */
static void
assert_front(const bool *on, const char *want)
{
	size_t i;

	for (i = 0; want[i]; i++)
		if (on[i] != (want[i] == '1'))
			fail_msg("point %zu is %son the front (want %s)", i, on[i] ? "" : "not ",
				 want);
}

/* Throughput against exposure: (10, 5) and (8, 2) trade; (7, 6) loses to both. */
static void
test_pareto_two_objectives_keeps_the_trade_offs(void **state)
{
	const double v[] = { 10, 5, 7, 6, 8, 2, 10, 9 };
	bool on[4];
	size_t nf = 99;

	(void)state;
	assert_int_equal(iommusim_pareto_front(v, 4, 2, max_min, on, &nf), 0);
	assert_int_equal(nf, 2);
	/* the last is as fast as the first, but exposed longer */
	assert_front(on, "1010");
}

/* Equal points dominate each other nowhere: all on the front, or none. */
static void
test_pareto_equal_points_share_the_front(void **state)
{
	const double v[] = { 3, 1, 3, 1, 2, 1, 3, 2 };
	bool on[4];
	size_t nf;

	(void)state;
	assert_int_equal(iommusim_pareto_front(v, 4, 2, max_min, on, &nf), 0);
	assert_int_equal(nf, 2);
	assert_front(on, "1100");
}

/* One objective: the best value, every point that has it. */
static void
test_pareto_one_objective_is_the_best_value(void **state)
{
	const enum iommusim_objective_sense min = IOMMUSIM_MINIMISE;
	const double v[] = { 4, 1, 7, 1, 2 };
	bool on[5];
	size_t nf;

	(void)state;
	assert_int_equal(iommusim_pareto_front(v, 5, 1, &min, on, &nf), 0);
	assert_int_equal(nf, 2);
	assert_front(on, "01010");
}

/* Infinities compare as numbers: an unbounded exposure loses. */
static void
test_pareto_infinities_compare(void **state)
{
	const double v[] = { 5, INFINITY, 5, 3, -INFINITY, 0 };
	bool on[3];
	size_t nf;

	(void)state;
	assert_int_equal(iommusim_pareto_front(v, 3, 2, max_min, on, &nf), 0);
	assert_int_equal(nf, 2);
	assert_front(on, "011"); /* the last: the least exposure */
}

static void
test_pareto_refuses_bad_arguments(void **state)
{
	const double v[] = { 1, 2 }, nan_v[] = { 1, NAN };
	const enum iommusim_objective_sense bad[] = { IOMMUSIM_MAXIMISE,
						      (enum iommusim_objective_sense)7 };
	enum iommusim_objective_sense many[IOMMUSIM_PARETO_MAX_DIMS + 1] = { 0 };
	bool on[2] = { true, true };
	size_t nf = 42;

	(void)state;
	assert_int_equal(iommusim_pareto_front(NULL, 1, 2, max_min, on, &nf), -EINVAL);
	assert_int_equal(iommusim_pareto_front(v, 1, 2, max_min, NULL, &nf), -EINVAL);
	assert_int_equal(iommusim_pareto_front(v, 1, 2, NULL, on, &nf), -EINVAL);
	assert_int_equal(iommusim_pareto_front(v, 1, 0, max_min, on, &nf), -EINVAL);
	assert_int_equal(iommusim_pareto_front(v, 1, IOMMUSIM_PARETO_MAX_DIMS + 1, many, on, &nf),
			 -EINVAL);
	assert_int_equal(iommusim_pareto_front(v, 1, 2, bad, on, &nf), -EINVAL);
	assert_int_equal(iommusim_pareto_front(nan_v, 1, 2, max_min, on, &nf), -EINVAL);
	assert_int_equal(iommusim_pareto_front(v, SIZE_MAX / 2 + 1, 2, max_min, on, &nf), -EINVAL);
	/* nothing written on an error */
	assert_true(on[0]);
	assert_int_equal(nf, 42);
	/* no points: an empty front, and NULL arrays are fine */
	assert_int_equal(iommusim_pareto_front(NULL, 0, 2, max_min, NULL, &nf), 0);
	assert_int_equal(nf, 0);
	assert_int_equal(iommusim_pareto_front(v, 1, 2, max_min, on, NULL), 0);
	assert_true(on[0]);
}

/* The definition, checked pair by pair. */
static bool
brute_dominated(const double *v, size_t n, unsigned dims,
		const enum iommusim_objective_sense *sense, size_t i)
{
	size_t j;
	unsigned k;

	for (j = 0; j < n; j++) {
		bool worse = false, better = false;

		for (k = 0; k < dims; k++) {
			double a = v[j * dims + k], b = v[i * dims + k];

			if (sense[k] == IOMMUSIM_MINIMISE) {
				a = -a;
				b = -b;
			}
			worse |= a < b;
			better |= a > b;
		}
		if (!worse && better)
			return true;
	}
	return false;
}

/* Random sets with few distinct values (ties and chains of domination are
 * common) against the definition. */
static void
test_pareto_random_points_match_the_definition(void **state)
{
	uint64_t seed = test_seed(UINT64_C(0x9a7e70));
	unsigned round;

	(void)state;
	for (round = 0; round < 400; round++) {
		enum iommusim_objective_sense sense[4];
		unsigned dims = 1 + (unsigned)(test_splitmix64(&seed) % 4), levels, k;
		size_t n = (size_t)(test_splitmix64(&seed) % 120), i, nf = 0, count = 0;
		double *v = test_malloc((n ? n : 1) * dims * sizeof(*v));
		bool *on = test_malloc((n ? n : 1) * sizeof(*on));

		levels = 2 + (unsigned)(test_splitmix64(&seed) % 30);
		for (k = 0; k < dims; k++)
			sense[k] =
				test_splitmix64(&seed) & 1 ? IOMMUSIM_MINIMISE : IOMMUSIM_MAXIMISE;
		for (i = 0; i < n * dims; i++)
			v[i] = (double)(test_splitmix64(&seed) % levels) - levels / 2.0;
		assert_int_equal(iommusim_pareto_front(v, n, dims, sense, on, &nf), 0);
		for (i = 0; i < n; i++) {
			bool want = !brute_dominated(v, n, dims, sense, i);

			if (on[i] != want)
				fail_msg(
					"round %u (seed 0x%llx): point %zu of %zu on the front: %d, "
					"want %d",
					round, (unsigned long long)test_seed(UINT64_C(0x9a7e70)), i,
					n, on[i], want);
			count += want;
		}
		assert_int_equal(nf, count);
		if (n)
			assert_true(nf >= 1); /* a finite set has a front */
		test_free(v);
		test_free(on);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pareto_two_objectives_keeps_the_trade_offs),
		cmocka_unit_test(test_pareto_equal_points_share_the_front),
		cmocka_unit_test(test_pareto_one_objective_is_the_best_value),
		cmocka_unit_test(test_pareto_infinities_compare),
		cmocka_unit_test(test_pareto_refuses_bad_arguments),
		cmocka_unit_test(test_pareto_random_points_match_the_definition),
	};

	return cmocka_run_group_tests_name("pareto", tests, NULL, NULL);
}
