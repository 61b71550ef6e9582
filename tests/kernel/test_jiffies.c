/* SPDX-License-Identifier: MIT */
/*
 * Tests of kernel timers on jiffies (lib/kernel/jiffies.c): msecs_to_jiffies
 * rounding, the timer wheel's bucket per level, and the simulated time a
 * flush-queue timer fires at for each HZ.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/jiffies.h>

#include "test_common.h"

#define MS UINT64_C(1000000)

static void
test_jiffies_msecs_round_up_to_ticks(void **state)
{
	assert_int_equal(iommusim_msecs_to_jiffies(0, 100), 0);
	assert_int_equal(iommusim_msecs_to_jiffies(1, 100), 1);
	assert_int_equal(iommusim_msecs_to_jiffies(10, 100), 1);
	assert_int_equal(iommusim_msecs_to_jiffies(11, 100), 2);
	assert_int_equal(iommusim_msecs_to_jiffies(10, 250), 3); /* 2.5 -> 3 */
	assert_int_equal(iommusim_msecs_to_jiffies(10, 1000), 10);
	assert_int_equal(iommusim_msecs_to_jiffies(1000, 100), 100);
	assert_int_equal(iommusim_msecs_to_jiffies(1000, 300), 300);
	assert_int_equal(iommusim_msecs_to_jiffies(7, 300), 3); /* 2.1 -> 3 */
	/* Saturates instead of wrapping. */
	assert_true(iommusim_msecs_to_jiffies(UINT64_MAX, 1000) >= UINT64_MAX / 1000);
}

static void
test_jiffies_wheel_bucket_is_next_granule_strictly_above(void **state)
{
	/* Level 0 (delta < 63): one jiffy past the expiry. */
	assert_int_equal(iommusim_timer_wheel_tick(0, 1), 2);
	assert_int_equal(iommusim_timer_wheel_tick(5, 6), 7);
	assert_int_equal(iommusim_timer_wheel_tick(0, 62), 63);
	/* Level 1 (63 <= delta < 504): the next multiple of 8 above. */
	assert_int_equal(iommusim_timer_wheel_tick(0, 63), 64);
	assert_int_equal(iommusim_timer_wheel_tick(0, 64), 72);
	assert_int_equal(iommusim_timer_wheel_tick(0, 100), 104);
	assert_int_equal(iommusim_timer_wheel_tick(3, 103), 104);
	assert_int_equal(iommusim_timer_wheel_tick(0, 503), 504);
	/* Level 2 (504 <= delta < 4032): of 64. */
	assert_int_equal(iommusim_timer_wheel_tick(0, 504), 512);
	assert_int_equal(iommusim_timer_wheel_tick(0, 1000), 1024);
	assert_int_equal(iommusim_timer_wheel_tick(0, 1024), 1088);
	/* Level 3 (< 32256): of 512. */
	assert_int_equal(iommusim_timer_wheel_tick(0, 4032), 4096);
	assert_int_equal(iommusim_timer_wheel_tick(0, 10000), 10240);
	/* An expiry already due runs at once. */
	assert_int_equal(iommusim_timer_wheel_tick(10, 10), 10);
	assert_int_equal(iommusim_timer_wheel_tick(10, 3), 10);
	/* Never before the expiry, at every delta of the first levels. */
	for (uint64_t now = 0; now < 20; now++)
		for (uint64_t d = 1; d < 5000; d++) {
			uint64_t b = iommusim_timer_wheel_tick(now, now + d);

			assert_true(b > now + d);
		}
	assert_int_equal(iommusim_timer_wheel_tick(0, UINT64_MAX), UINT64_MAX);
}

static void
test_jiffies_fq_timer_fire_times_per_hz(void **state)
{
	/* HZ=100, 10 ms: armed in tick 0 -> tick 2, 10 to 20 ms later. */
	assert_int_equal(iommusim_timer_expiry_ns(0, 10, 100), 20 * MS);
	assert_int_equal(iommusim_timer_expiry_ns(3 * MS, 10, 100), 20 * MS);
	assert_int_equal(iommusim_timer_expiry_ns(10 * MS - 1, 10, 100), 20 * MS);
	assert_int_equal(iommusim_timer_expiry_ns(10 * MS, 10, 100), 30 * MS);
	/* HZ=1000, 10 ms: 10 jiffies, 11 ms from a tick edge. */
	assert_int_equal(iommusim_timer_expiry_ns(0, 10, 1000), 11 * MS);
	assert_int_equal(iommusim_timer_expiry_ns(MS / 2, 10, 1000), 11 * MS);
	/* HZ=250, 10 ms: 3 jiffies of 4 ms, then one more: 16 ms. */
	assert_int_equal(iommusim_timer_expiry_ns(0, 10, 250), 16 * MS);
	/* The single queue's 1000 ms at HZ=100: level 1, 104 ticks. */
	assert_int_equal(iommusim_timer_expiry_ns(0, 1000, 100), 1040 * MS);
	/* From tick 4: expiry 104, bucket 112 (buckets are absolute multiples). */
	assert_int_equal(iommusim_timer_expiry_ns(45 * MS, 1000, 100), 1120 * MS);
	/* ... at HZ=1000: level 2, 1024 ticks. */
	assert_int_equal(iommusim_timer_expiry_ns(0, 1000, 1000), 1024 * MS);
	/* HZ 0: exactly the timeout, saturating. */
	assert_int_equal(iommusim_timer_expiry_ns(123, 10, 0), 123 + 10 * MS);
	assert_int_equal(iommusim_timer_expiry_ns(UINT64_MAX - 5, 10, 0), UINT64_MAX);
	/* A tick that does not divide a second: HZ=300, tick k at ceil(k/300 s). */
	assert_int_equal(iommusim_timer_expiry_ns(0, 10, 300), 13333334);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jiffies_msecs_round_up_to_ticks),
		cmocka_unit_test(test_jiffies_wheel_bucket_is_next_granule_strictly_above),
		cmocka_unit_test(test_jiffies_fq_timer_fire_times_per_hz),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("jiffies", tests, NULL, NULL);
}
