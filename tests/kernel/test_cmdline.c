/* SPDX-License-Identifier: MIT */
/*
 * Tests of the kernel command-line parser (lib/kernel/cmdline.c): every IOMMU
 * parameter with the values its kernel parser takes and refuses, the
 * splitting rules of next_arg(), name matching, repetition, `--`, ignored
 * parameters, and a format/parse round trip over random lines.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/cmdline.h>

#include "test_common.h"

static struct iommusim_cmdline
ok(const char *line)
{
	struct iommusim_cmdline c;
	char err[256] = "";
	int ret = iommusim_cmdline_parse(line, &c, err, sizeof(err));

	if (ret)
		print_error("'%s': %s\n", line, err);
	assert_int_equal(ret, 0);
	assert_string_equal(err, "");
	return c;
}

/* Refused, with a message that contains @needle. */
static void
refused(const char *line, const char *needle)
{
	struct iommusim_cmdline c;
	char err[256] = "";

	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(iommusim_cmdline_parse(line, &c, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		print_error("'%s': '%s' lacks '%s'\n", line, err, needle);
	assert_non_null(strstr(err, needle));
	/* Nothing half-parsed is left behind. */
	assert_false(c.iommu.strict_set || c.iommu.strict || c.iommu.passthrough ||
		     c.iommu.s390_strict || c.aperture_set || c.nignored);
}

static void
test_cmdline_empty_line_sets_nothing(void **state)
{
	struct iommusim_cmdline c = ok("");
	char buf[8] = "x";

	assert_false(c.iommu.strict_set);
	assert_false(c.passthrough_set || c.forcedac_set || c.aperture_set);
	assert_false(c.iommu.s390_strict);
	assert_int_equal(c.nignored, 0);
	assert_int_equal(iommusim_cmdline_format(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	c = ok("   \t\n ");
	assert_int_equal(c.nignored, 0);
}

static void
test_cmdline_strict_takes_kstrtobool_first_character(void **state)
{
	static const char *const yes[] = { "1", "y", "Y", "yes", "yup", "on", "ON", "oN", "1x" };
	static const char *const no[] = { "0", "n", "N", "no", "nope", "off", "OFF", "of", "0.5" };
	char line[64];
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		struct iommusim_cmdline c;

		snprintf(line, sizeof(line), "iommu.strict=%s", yes[i]);
		c = ok(line);
		assert_true(c.iommu.strict_set);
		assert_true(c.iommu.strict);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		struct iommusim_cmdline c;

		snprintf(line, sizeof(line), "iommu.strict=%s", no[i]);
		c = ok(line);
		assert_true(c.iommu.strict_set);
		assert_false(c.iommu.strict);
	}
}

static void
test_cmdline_malformed_booleans_are_refused_with_kernel_outcome(void **state)
{
	/* kstrtobool refuses these; the kernel warns and keeps its default. */
	refused("iommu.strict=true", "Malformed early option");
	refused("iommu.strict=2", "Malformed early option");
	refused("iommu.strict=", "iommu.strict=");
	refused("iommu.strict", "iommu.strict");
	refused("iommu.strict=o", "not a boolean");
	refused("iommu.passthrough=t", "iommu.passthrough=t");
	refused("iommu.forcedac=-1", "iommu.forcedac");
}

static void
test_cmdline_passthrough_and_forcedac_are_recorded(void **state)
{
	struct iommusim_cmdline c = ok("iommu.passthrough=1");

	assert_true(c.passthrough_set);
	assert_true(c.iommu.passthrough);
	assert_false(c.iommu.strict_set);
	c = ok("iommu.passthrough=0");
	assert_true(c.passthrough_set);
	assert_false(c.iommu.passthrough);
	c = ok("iommu.forcedac=1");
	assert_true(c.forcedac_set);
	assert_true(c.iommu.forcedac);
	assert_false(c.passthrough_set);
}

static void
test_cmdline_s390_iommu_knows_only_strict(void **state)
{
	struct iommusim_cmdline c = ok("s390_iommu=strict");

	assert_true(c.iommu.s390_strict);
	assert_false(c.iommu.strict_set); /* a separate route to strict */
	refused("s390_iommu=lazy", "only knows 'strict'");
	refused("s390_iommu=Strict", "only knows 'strict'");
	refused("s390_iommu=strictly", "only knows 'strict'");
	refused("s390_iommu=", "only knows 'strict'");
	refused("s390_iommu", "needs a value");
}

static void
test_cmdline_aperture_factor_is_decimal_u32(void **state)
{
	struct iommusim_cmdline c = ok("s390_iommu_aperture=0");

	assert_true(c.aperture_set);
	assert_int_equal(c.aperture_factor, 0);
	c = ok("s390_iommu_aperture=4294967295");
	assert_int_equal(c.aperture_factor, UINT32_MAX);
	c = ok("s390_iommu_aperture=+3");
	assert_int_equal(c.aperture_factor, 3);
	c = ok("s390_iommu_aperture=007");
	assert_int_equal(c.aperture_factor, 7);
	/* kstrtou32 base 10: no hex, no sign, no overflow, no units. */
	refused("s390_iommu_aperture=4294967296", "quietly use factor 1");
	refused("s390_iommu_aperture=0x10", "quietly use factor 1");
	refused("s390_iommu_aperture=-1", "quietly use factor 1");
	refused("s390_iommu_aperture=2g", "quietly use factor 1");
	refused("s390_iommu_aperture=", "quietly use factor 1");
	refused("s390_iommu_aperture", "needs a value");
}

static void
test_cmdline_names_match_with_dashes_for_underscores(void **state)
{
	struct iommusim_cmdline c = ok("s390-iommu=strict s390-iommu-aperture=2");

	assert_true(c.iommu.s390_strict);
	assert_true(c.aperture_set);
	assert_int_equal(c.aperture_factor, 2);
	/* Case matters in names, as in the kernel. */
	refused("IOMMU.strict=1", "IOMMU.strict");
}

static void
test_cmdline_last_repetition_wins_but_s390_strict_sticks(void **state)
{
	struct iommusim_cmdline c = ok("iommu.strict=1 iommu.strict=0");

	assert_true(c.iommu.strict_set);
	assert_false(c.iommu.strict);
	c = ok("s390_iommu_aperture=5 s390_iommu_aperture=2");
	assert_int_equal(c.aperture_factor, 2);
	/* s390_iommu=strict calls iommu_set_dma_strict(): nothing undoes it. */
	c = ok("s390_iommu=strict iommu.strict=0");
	assert_true(c.iommu.s390_strict);
	assert_true(c.iommu.strict_set);
	assert_false(c.iommu.strict);
}

static void
test_cmdline_quotes_are_stripped_as_next_arg_does(void **state)
{
	struct iommusim_cmdline c = ok("iommu.strict=\"1\"");

	assert_true(c.iommu.strict);
	c = ok("\"iommu.strict=1\"");
	assert_true(c.iommu.strict);
	/* A quoted value may hold spaces: one parameter, ignored. */
	c = ok("foo=\"a b c\" iommu.passthrough=1");
	assert_int_equal(c.nignored, 1);
	assert_string_equal(c.first_ignored, "foo=a b c");
	assert_true(c.iommu.passthrough);
	refused("iommu.strict=\"1", "unbalanced");
}

static void
test_cmdline_double_dash_ends_kernel_parameters(void **state)
{
	struct iommusim_cmdline c = ok("iommu.strict=1 -- iommu.passthrough=1 s390_iommu=bad");

	assert_true(c.init_args);
	assert_true(c.iommu.strict);
	/* What follows is init's, not the kernel's: not read, not refused. */
	assert_false(c.passthrough_set);
	assert_false(c.iommu.s390_strict);
}

static void
test_cmdline_other_parameters_are_counted_and_ignored(void **state)
{
	struct iommusim_cmdline c =
		ok("root=/dev/dasda1 console=ttyS0 intel_iommu=on iommu=pt quiet iommu.strict=1");

	assert_int_equal(c.nignored, 5);
	assert_string_equal(c.first_ignored, "root=/dev/dasda1");
	assert_true(c.iommu.strict);
	/* A long first one is cut to fit, never overflowing. */
	c = ok("x=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(strlen(c.first_ignored), sizeof(c.first_ignored) - 1);
}

static void
test_cmdline_unknown_iommu_names_are_refused_as_typos(void **state)
{
	refused("iommu.strcit=1", "not a kernel parameter");
	refused("iommu.pasthrough=1", "iommu.pasthrough");
	refused("s390_iommu_apertur=2", "not a kernel parameter");
	refused("root=/ iommu.forcdac=1", "iommu.forcdac");
}

static void
test_cmdline_bad_calls_are_refused(void **state)
{
	struct iommusim_cmdline c;
	char err[64] = "";
	char *big;

	assert_int_equal(iommusim_cmdline_parse(NULL, &c, err, sizeof(err)), -EINVAL);
	assert_string_not_equal(err, "");
	assert_int_equal(iommusim_cmdline_parse("", NULL, NULL, 0), -EINVAL);
	big = test_malloc(IOMMUSIM_CMDLINE_MAX + 2);
	memset(big, ' ', IOMMUSIM_CMDLINE_MAX + 1);
	big[IOMMUSIM_CMDLINE_MAX + 1] = '\0';
	assert_int_equal(iommusim_cmdline_parse(big, &c, err, sizeof(err)), -EINVAL);
	big[IOMMUSIM_CMDLINE_MAX] = '\0';
	assert_int_equal(iommusim_cmdline_parse(big, &c, err, sizeof(err)), 0);
	test_free(big);
	assert_int_equal(iommusim_cmdline_format(NULL, NULL, 0), 0);
}

static void
test_cmdline_format_reads_back_and_reports_length(void **state)
{
	struct iommusim_cmdline c = ok("iommu.strict=on s390_iommu=strict iommu.passthrough=n "
				       "iommu.forcedac=1 s390_iommu_aperture=+0 root=/");
	char buf[160], small[10];
	size_t n = iommusim_cmdline_format(&c, buf, sizeof(buf));

	assert_string_equal(buf, "iommu.strict=1 iommu.passthrough=0 iommu.forcedac=1 "
				 "s390_iommu=strict s390_iommu_aperture=0");
	assert_int_equal(n, strlen(buf));
	/* Truncated as snprintf truncates, with the full length returned. */
	assert_int_equal(iommusim_cmdline_format(&c, small, sizeof(small)), n);
	assert_string_equal(small, "iommu.str");
	assert_int_equal(iommusim_cmdline_format(&c, NULL, 0), n);
}

/* Property: a random line of IOMMU parameters (random spelling of each value,
 * repetitions, ignored words) parses to what a simple model says, and its
 * canonical form parses back to the same settings. */
static void
test_cmdline_random_lines_match_model_and_round_trip(void **state)
{
	static const char *const t[] = { "1", "y", "Yes", "on" };
	static const char *const f[] = { "0", "n", "No", "off" };
	uint64_t s = test_seed(0xc0ffee);
	unsigned iter;

	for (iter = 0; iter < 2000; iter++) {
		struct iommusim_cmdline m = { 0 }, c, back;
		char line[1024] = "", canon[256];
		size_t len = 0;
		unsigned n = (unsigned)(test_splitmix64(&s) % 8), i;

		for (i = 0; i < n; i++) {
			uint64_t r = test_splitmix64(&s);
			bool b = r & 1;
			const char *v = b ? t[(r >> 1) % 4] : f[(r >> 1) % 4];
			const char *sep = (r >> 8) & 1 ? "\t" : " ";
			uint32_t k = (uint32_t)(r >> 32);

			switch ((r >> 4) % 6) {
			case 0:
				len += (size_t)snprintf(line + len, sizeof(line) - len,
							"%siommu.strict=%s", sep, v);
				m.iommu.strict_set = true;
				m.iommu.strict = b;
				break;
			case 1:
				len += (size_t)snprintf(line + len, sizeof(line) - len,
							"%siommu.passthrough=%s", sep, v);
				m.passthrough_set = true;
				m.iommu.passthrough = b;
				break;
			case 2:
				len += (size_t)snprintf(line + len, sizeof(line) - len,
							"%siommu.forcedac=%s", sep, v);
				m.forcedac_set = true;
				m.iommu.forcedac = b;
				break;
			case 3:
				len += (size_t)snprintf(line + len, sizeof(line) - len,
							"%ss390_iommu=strict", sep);
				m.iommu.s390_strict = true;
				break;
			case 4:
				len += (size_t)snprintf(line + len, sizeof(line) - len,
							"%ss390%ciommu_aperture=%u", sep,
							(r >> 9) & 1 ? '-' : '_', (unsigned)k);
				m.aperture_set = true;
				m.aperture_factor = k;
				break;
			default:
				len += (size_t)snprintf(line + len, sizeof(line) - len,
							"%sword%u=%u", sep, i, (unsigned)k);
				m.nignored++;
				break;
			}
		}
		c = ok(line);
		assert_int_equal(c.iommu.strict_set, m.iommu.strict_set);
		assert_int_equal(c.iommu.strict, m.iommu.strict);
		assert_int_equal(c.passthrough_set, m.passthrough_set);
		assert_int_equal(c.iommu.passthrough, m.iommu.passthrough);
		assert_int_equal(c.forcedac_set, m.forcedac_set);
		assert_int_equal(c.iommu.forcedac, m.iommu.forcedac);
		assert_int_equal(c.iommu.s390_strict, m.iommu.s390_strict);
		assert_int_equal(c.aperture_set, m.aperture_set);
		assert_int_equal(c.aperture_factor, m.aperture_factor);
		assert_int_equal(c.nignored, m.nignored);
		assert_true(iommusim_cmdline_format(&c, canon, sizeof(canon)) < sizeof(canon));
		back = ok(canon);
		assert_int_equal(back.nignored, 0);
		back.nignored = c.nignored;
		memcpy(back.first_ignored, c.first_ignored, sizeof(c.first_ignored));
		assert_memory_equal(&back, &c, sizeof(c));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline_empty_line_sets_nothing),
		cmocka_unit_test(test_cmdline_strict_takes_kstrtobool_first_character),
		cmocka_unit_test(test_cmdline_malformed_booleans_are_refused_with_kernel_outcome),
		cmocka_unit_test(test_cmdline_passthrough_and_forcedac_are_recorded),
		cmocka_unit_test(test_cmdline_s390_iommu_knows_only_strict),
		cmocka_unit_test(test_cmdline_aperture_factor_is_decimal_u32),
		cmocka_unit_test(test_cmdline_names_match_with_dashes_for_underscores),
		cmocka_unit_test(test_cmdline_last_repetition_wins_but_s390_strict_sticks),
		cmocka_unit_test(test_cmdline_quotes_are_stripped_as_next_arg_does),
		cmocka_unit_test(test_cmdline_double_dash_ends_kernel_parameters),
		cmocka_unit_test(test_cmdline_other_parameters_are_counted_and_ignored),
		cmocka_unit_test(test_cmdline_unknown_iommu_names_are_refused_as_typos),
		cmocka_unit_test(test_cmdline_bad_calls_are_refused),
		cmocka_unit_test(test_cmdline_format_reads_back_and_reports_length),
		cmocka_unit_test(test_cmdline_random_lines_match_model_and_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
