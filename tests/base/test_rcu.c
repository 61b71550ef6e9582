/* SPDX-License-Identifier: MIT */
/* Tests of the library's RCU wrappers: lazy registration and solo mode. */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "base/rcu_int.h"
#include "base/util_int.h"

/* Outside solo mode a section is liburcu's, and nests. */
static void
test_rcu_section_is_a_liburcu_reader(void **state)
{
	(void)state;
	ims_rcu_read_lock();
	assert_true(urcu_memb_read_ongoing());
	ims_rcu_read_lock();
	ims_rcu_read_unlock();
	assert_true(urcu_memb_read_ongoing());
	ims_rcu_read_unlock();
	assert_false(urcu_memb_read_ongoing());
	assert_int_equal(ims_rcu_solo_depth, 0);
	ims_rcu_synchronize(); /* no reader of our own left: returns */
}

/* In solo mode a section is skipped, counted, and undone by its unlock;
 * a synchronize in between does not wait for it. */
static void
test_rcu_solo_mode_skips_sections(void **state)
{
	bool was;

	(void)state;
	was = ims_solo_begin();
	ims_rcu_read_lock();
	ims_rcu_read_lock();
	assert_int_equal(ims_rcu_solo_depth, 2);
	assert_false(urcu_memb_read_ongoing());
	ims_rcu_read_unlock();
	ims_rcu_read_unlock();
	assert_int_equal(ims_rcu_solo_depth, 0);
	ims_rcu_synchronize();
	ims_solo_end(was);
	/* and after it, sections are real again */
	ims_rcu_read_lock();
	assert_true(urcu_memb_read_ongoing());
	ims_rcu_read_unlock();
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rcu_section_is_a_liburcu_reader),
		cmocka_unit_test(test_rcu_solo_mode_skips_sections),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("rcu", tests, NULL, NULL);
}
