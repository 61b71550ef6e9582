/* SPDX-License-Identifier: MIT */
/* Tests of the allocation wrappers and their fault injection. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/mem_int.h"

static int
reset_faults(void **state)
{
	ims_mem_fault_inject(0, 0);
	return 0;
}

static void
test_mem_zalloc_returns_zeroed_memory(void **state)
{
	unsigned char *p = ims_zalloc(4096);
	size_t i;

	assert_non_null(p);
	for (i = 0; i < 4096; i++)
		assert_int_equal(p[i], 0);
	ims_free(p);
}

static void
test_mem_aligned_zalloc_honours_alignment(void **state)
{
	static const size_t aligns[] = { 8, 64, 2048, 16384 };
	size_t i;

	for (i = 0; i < sizeof(aligns) / sizeof(aligns[0]); i++) {
		void *p = ims_aligned_zalloc(aligns[i], aligns[i]);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % aligns[i], 0);
		ims_free(p);
	}
}

static void
test_mem_zero_size_fails(void **state)
{
	assert_null(ims_zalloc(0));
}

static void
test_mem_free_null_is_noop(void **state)
{
	ims_free(NULL);
}

static void
test_mem_fault_fails_exactly_the_nth(void **state)
{
	void *a, *b, *c, *d;
	uint64_t before = ims_mem_injected_failures();

	ims_mem_fault_inject(3, 1);
	a = ims_zalloc(16);
	b = ims_zalloc(16);
	c = ims_zalloc(16);
	d = ims_zalloc(16);
	assert_non_null(a);
	assert_non_null(b);
	assert_null(c);
	assert_non_null(d);
	assert_int_equal(ims_mem_attempts(), 4);
	assert_int_equal(ims_mem_injected_failures() - before, 1);
	ims_free(a);
	ims_free(b);
	ims_free(d);
}

static void
test_mem_fault_count_fails_a_run(void **state)
{
	void *p[5];
	int i;

	ims_mem_fault_inject(2, 3);
	for (i = 0; i < 5; i++)
		p[i] = ims_zalloc(8);
	assert_non_null(p[0]);
	assert_null(p[1]);
	assert_null(p[2]);
	assert_null(p[3]);
	assert_non_null(p[4]);
	ims_free(p[0]);
	ims_free(p[4]);
}

static void
test_mem_fault_zero_switches_off(void **state)
{
	void *p;

	ims_mem_fault_inject(1, 1);
	ims_mem_fault_inject(0, 0);
	p = ims_zalloc(8);
	assert_non_null(p);
	ims_free(p);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mem_zalloc_returns_zeroed_memory, reset_faults,
						reset_faults),
		cmocka_unit_test_setup_teardown(test_mem_aligned_zalloc_honours_alignment,
						reset_faults, reset_faults),
		cmocka_unit_test_setup_teardown(test_mem_zero_size_fails, reset_faults,
						reset_faults),
		cmocka_unit_test_setup_teardown(test_mem_free_null_is_noop, reset_faults,
						reset_faults),
		cmocka_unit_test_setup_teardown(test_mem_fault_fails_exactly_the_nth, reset_faults,
						reset_faults),
		cmocka_unit_test_setup_teardown(test_mem_fault_count_fails_a_run, reset_faults,
						reset_faults),
		cmocka_unit_test_setup_teardown(test_mem_fault_zero_switches_off, reset_faults,
						reset_faults),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("mem", tests, NULL, NULL);
}
