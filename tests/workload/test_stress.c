/* SPDX-License-Identifier: MIT */
/*
 * Tests of the real-thread stress mode: its check of the safety invariant
 * driven by made-up sequences (each way it must fail, and pass), then short
 * runs of every policy on real threads whose counters must agree, and the
 * refusals of bad configurations. Nothing here is timed: speed is for
 * `iommusim stress` and docs/reliability.md.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/stress.h>

#include "workload/stress_int.h"
#include "test_common.h"

#define WIN UINT64_C(0x100000000)
#define PAGES 64u
#define PG UINT64_C(4096)

static void
test_stress_check_wants_a_refresh_after_each_unmap(void **state)
{
	struct ims_stress_check c;
	uint64_t bad = 0;

	(void)state;
	assert_int_equal(ims_stress_check_init(&c, WIN, PAGES), 0);
	/* never unmapped: nothing to wait for */
	assert_true(ims_stress_check_mapped(&c, WIN, 3 * PG, &bad));
	/* unmapped, no refresh since: handed out too early */
	ims_stress_check_unmapping(&c, WIN + PG, 2 * PG);
	assert_false(ims_stress_check_mapped(&c, WIN, 3 * PG, &bad));
	assert_int_equal(bad, WIN + PG);
	/* a ranged refresh of page 1 only: page 2 is still waiting */
	ims_stress_check_refreshed(&c, WIN + PG, PG);
	assert_false(ims_stress_check_mapped(&c, WIN + PG, 2 * PG, &bad));
	assert_int_equal(bad, WIN + 2 * PG);
	assert_true(ims_stress_check_mapped(&c, WIN + PG, PG, &bad));
	/* a refresh elsewhere does not help */
	ims_stress_check_refreshed(&c, WIN + 10 * PG, 4 * PG);
	assert_false(ims_stress_check_mapped(&c, WIN + 2 * PG, PG, &bad));
	/* the whole window (the global refresh): every page is flushed */
	ims_stress_check_refreshed(&c, WIN, PAGES * PG);
	assert_true(ims_stress_check_mapped(&c, WIN, PAGES * PG, &bad));
	/* a refresh that ran before the unmap does not count */
	ims_stress_check_unmapping(&c, WIN + 5 * PG, PG);
	assert_false(ims_stress_check_mapped(&c, WIN + 5 * PG, PG, &bad));
	/* a refresh larger than the window (QEMU's edma) is global too */
	ims_stress_check_refreshed(&c, WIN, UINT64_C(1) << 56);
	assert_true(ims_stress_check_mapped(&c, WIN + 5 * PG, PG, &bad));
	/* outside the window: not tracked */
	ims_stress_check_unmapping(&c, WIN + PAGES * PG, PG);
	assert_true(ims_stress_check_mapped(&c, WIN + PAGES * PG, PG, &bad));
	ims_stress_check_unmapping(&c, WIN - PG, PG);
	assert_true(ims_stress_check_mapped(&c, WIN - PG, PG, &bad));
	ims_stress_check_destroy(&c);
}

static void
test_stress_check_straddling_the_window_end(void **state)
{
	struct ims_stress_check c;
	uint64_t bad = 0;

	(void)state;
	assert_int_equal(ims_stress_check_init(&c, WIN, PAGES), 0);
	ims_stress_check_unmapping(&c, WIN + (PAGES - 1) * PG, 4 * PG);
	assert_false(ims_stress_check_mapped(&c, WIN + (PAGES - 1) * PG, PG, &bad));
	assert_int_equal(bad, WIN + (PAGES - 1) * PG);
	/* a partial refresh that reaches past the end covers the last page */
	ims_stress_check_refreshed(&c, WIN + (PAGES - 1) * PG, 8 * PG);
	assert_true(ims_stress_check_mapped(&c, WIN + (PAGES - 1) * PG, PG, &bad));
	ims_stress_check_destroy(&c);
}

static struct iommusim_stress_result
stress_ok(enum iommusim_stress_policy p, unsigned threads, uint32_t fq_size)
{
	const struct iommusim_stress_cfg cfg = {
		.threads = threads,
		.duration_ns = 200000000, /* 0.2 s */
		.policy = p,
		.fq_size = fq_size,
		.live = 8,
		.max_size = 3 * PG,
		.seed = test_seed(0x737472),
	};
	struct iommusim_stress_result r;
	char err[256] = "";

	assert_int_equal(iommusim_stress_run(&cfg, &r, err, sizeof(err)), 0);
	if (!iommusim_stress_passed(&r))
		fail_msg("%s, %u threads: %s", iommusim_stress_policy_name(p), threads,
			 r.first_failure);
	assert_string_equal(r.first_failure, "");
	assert_int_equal(r.threads, threads);
	assert_int_equal(r.policy, p);
	assert_true(r.maps > 0);
	assert_int_equal(r.maps, r.unmaps); /* every worker unmaps what it holds */
	assert_int_equal(r.map_ns.count, r.maps);
	assert_int_equal(r.unmap_ns.count, r.unmaps);
	assert_true(r.elapsed_ns >= 200000000);
	assert_true(r.ops_per_sec > 0);
	return r;
}

static void
test_stress_lazy_percpu_flushes_from_full_rings_and_the_timer(void **state)
{
	struct iommusim_stress_result r = stress_ok(IOMMUSIM_STRESS_LAZY_PERCPU, 3, 16);

	(void)state;
	assert_true(r.lazy);
	assert_int_equal(r.fq_size, 16);
	assert_true(r.full_flushes > 0); /* 16-entry rings fill */
	assert_true(r.timer_flushes >= 1); /* at least the final one */
	/* one global refresh per flush (§3.7), nothing strict */
	assert_int_equal(r.global_rpcits, r.full_flushes + r.timer_flushes);
	assert_int_equal(r.strict_syncs, 0);
	assert_true(r.max_entries > 0 && r.max_entries <= 4 * 16);
}

static void
test_stress_lazy_single_shares_one_ring(void **state)
{
	struct iommusim_stress_result r = stress_ok(IOMMUSIM_STRESS_LAZY_SINGLE, 3, 32);

	(void)state;
	assert_true(r.lazy);
	assert_int_equal(r.fq_size, 32);
	assert_true(r.full_flushes > 0);
	assert_int_equal(r.global_rpcits, r.full_flushes + r.timer_flushes);
	assert_true(r.max_entries <= 32); /* one ring */
}

static void
test_stress_strict_flushes_every_unmap(void **state)
{
	struct iommusim_stress_result r = stress_ok(IOMMUSIM_STRESS_STRICT, 2, 0);

	(void)state;
	assert_false(r.lazy);
	assert_int_equal(r.strict_syncs, r.unmaps);
	assert_int_equal(r.full_flushes + r.timer_flushes, 0);
	assert_int_equal(r.global_rpcits, 0);
	assert_int_equal(r.lock_waits, 0);
}

static void
test_stress_kernel_rule_defaults(void **state)
{
	struct iommusim_stress_result r = stress_ok(IOMMUSIM_STRESS_LAZY_PERCPU, 1, 0);

	(void)state;
	/* IOVA_DEFAULT_FQ_SIZE and IOVA_DEFAULT_FQ_TIMEOUT (KERNEL_SPEC §2.1) */
	assert_int_equal(r.fq_size, 256);
	assert_int_equal(r.fq_timeout_ms, 10);
	r = stress_ok(IOMMUSIM_STRESS_LAZY_SINGLE, 1, 0);
	assert_int_equal(r.fq_size, 32768);
	assert_int_equal(r.fq_timeout_ms, 1000);
}

static void
test_stress_refuses_bad_configurations(void **state)
{
	static const struct {
		struct iommusim_stress_cfg cfg;
		const char *msg;
	} cases[] = {
		{ { .threads = 257 }, "threads must be 1 to 256, not 257" },
		{ { .duration_ns = UINT64_C(3601) * 1000000000u },
		  "the duration is at most 1 hour" },
		{ { .policy = (enum iommusim_stress_policy)3 }, "unknown policy 3" },
		{ { .live = 4097 }, "live must be 1 to 4096, not 4097" },
		{ { .max_size = (UINT64_C(1) << 20) + 1 },
		  "max_size must be 1 to 1m, not 1048577" },
		{ { .fq_size = 3 }, "fq_size must be a power of two from 2 to 16777216" },
		{ { .threads = 256, .live = 4096, .max_size = UINT64_C(1) << 20 },
		  "threads x live x max_size is at most 16g" },
	};
	struct iommusim_stress_result r;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&r, 0x5a, sizeof(r));
		assert_int_equal(iommusim_stress_run(&cases[i].cfg, &r, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].msg))
			fail_msg("case %zu: '%s', wanted '%s'", i, err, cases[i].msg);
		assert_int_equal(r.maps, UINT64_C(0x5a5a5a5a5a5a5a5a)); /* untouched */
	}
	assert_int_equal(iommusim_stress_run(NULL, &r, err, sizeof(err)), -EINVAL);
	assert_string_equal(iommusim_stress_policy_name(IOMMUSIM_STRESS_STRICT), "strict");
	assert_null(iommusim_stress_policy_name((enum iommusim_stress_policy)9));
	assert_false(iommusim_stress_passed(NULL));
	memset(&r, 0, sizeof(r));
	assert_true(iommusim_stress_passed(&r));
	r.lazy_reuse_violations = 1;
	assert_false(iommusim_stress_passed(&r));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_check_wants_a_refresh_after_each_unmap),
		cmocka_unit_test(test_stress_check_straddling_the_window_end),
		cmocka_unit_test(test_stress_lazy_percpu_flushes_from_full_rings_and_the_timer),
		cmocka_unit_test(test_stress_lazy_single_shares_one_ring),
		cmocka_unit_test(test_stress_strict_flushes_every_unmap),
		cmocka_unit_test(test_stress_kernel_rule_defaults),
		cmocka_unit_test(test_stress_refuses_bad_configurations),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("stress", tests, NULL, NULL);
}
