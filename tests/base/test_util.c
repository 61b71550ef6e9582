/* SPDX-License-Identifier: MIT */
/* Tests of the internal bit helpers, against the kernel's definitions. */
#include "config.h"

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

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_util_fls64_counts_from_one),
		cmocka_unit_test(test_util_order_base_2_is_ceil_log2),
		cmocka_unit_test(test_util_roundup_pow2_keeps_powers),
		cmocka_unit_test(test_util_is_pow2_rejects_zero),
		cmocka_unit_test(test_util_add_sat_saturates),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
