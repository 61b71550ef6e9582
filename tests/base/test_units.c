/* SPDX-License-Identifier: MIT */
/* Tests of the one value parser: every form of the grammar and every refusal. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/units.h>

#include "test_common.h"

#define KIB UINT64_C(1024)
#define MIB (KIB * KIB)
#define GIB (MIB * KIB)
#define TIB (GIB * KIB)

typedef int (*int_parser)(const char *s, uint64_t min, uint64_t max, uint64_t *out);

static uint64_t
parse_ok(int_parser parse, const char *s)
{
	uint64_t v = UINT64_C(0xdead);

	assert_int_equal(parse(s, 0, UINT64_MAX, &v), 0);
	return v;
}

static int
parse_err(int_parser parse, const char *s)
{
	uint64_t v = UINT64_C(0xdead);
	int ret = parse(s, 0, UINT64_MAX, &v);

	/* Nothing is written on failure. */
	assert_int_equal(v, UINT64_C(0xdead));
	return ret;
}

#define count_ok(s) parse_ok(iommusim_count_parse, (s))
#define count_err(s) parse_err(iommusim_count_parse, (s))
#define size_ok(s) parse_ok(iommusim_size_parse, (s))
#define size_err(s) parse_err(iommusim_size_parse, (s))

static uint64_t
time_ok(const char *s, uint64_t bare)
{
	uint64_t v = 0;

	assert_int_equal(iommusim_time_parse(s, bare, 0, UINT64_MAX, &v), 0);
	return v;
}

static int
time_err(const char *s, uint64_t bare)
{
	uint64_t v = UINT64_C(0xdead);
	int ret = iommusim_time_parse(s, bare, 0, UINT64_MAX, &v);

	assert_int_equal(v, UINT64_C(0xdead));
	return ret;
}

static void
test_units_count_plain_decimal(void **state)
{
	assert_int_equal(count_ok("0"), 0);
	assert_int_equal(count_ok("7"), 7);
	assert_int_equal(count_ok("007"), 7);
	assert_int_equal(count_ok("65536"), 65536);
	assert_int_equal(count_ok("18446744073709551615"), UINT64_MAX);
}

static void
test_units_count_separators_between_digits_only(void **state)
{
	assert_int_equal(count_ok("1_000_000"), 1000000);
	assert_int_equal(count_ok("1_0"), 10);
	assert_int_equal(count_err("_1"), -EINVAL);
	assert_int_equal(count_err("1_"), -EINVAL);
	assert_int_equal(count_err("1__0"), -EINVAL);
	assert_int_equal(count_err("1_.5"), -EINVAL);
	assert_int_equal(count_err("1._5"), -EINVAL);
	assert_int_equal(count_ok("1.2_5e2"), 125);
	assert_int_equal(count_ok("1e1_0"), UINT64_C(10000000000));
}

static void
test_units_count_hex(void **state)
{
	assert_int_equal(count_ok("0x0"), 0);
	assert_int_equal(count_ok("0x1f"), 31);
	assert_int_equal(count_ok("0X1F"), 31);
	assert_int_equal(count_ok("0x4_ffc0_0000"), UINT64_C(0x4ffc00000));
	assert_int_equal(count_ok("0xffffffffffffffff"), UINT64_MAX);
	assert_int_equal(count_err("0x"), -EINVAL);
	assert_int_equal(count_err("0x_1"), -EINVAL);
	assert_int_equal(count_err("0xg"), -EINVAL);
	assert_int_equal(count_err("0x1.8"), -EINVAL);
	assert_int_equal(count_err("0x10000000000000000"), -ERANGE);
}

static void
test_units_count_fraction_and_exponent_when_whole(void **state)
{
	assert_int_equal(count_ok("1e3"), 1000);
	assert_int_equal(count_ok("1E3"), 1000);
	assert_int_equal(count_ok("1e+3"), 1000);
	assert_int_equal(count_ok("2.5e1"), 25);
	assert_int_equal(count_ok("1.000"), 1);
	assert_int_equal(count_ok("1000e-3"), 1);
	assert_int_equal(count_err("1500e-3"), -EINVAL);
	assert_int_equal(count_ok(".5e1"), 5);
	assert_int_equal(count_ok("0.0"), 0);
	assert_int_equal(count_ok("0e999999"), 0);
	assert_int_equal(count_ok("1e19"), UINT64_C(10000000000000000000));
	/* Digits beyond 64 bits that the exponent brings back in range. */
	assert_int_equal(count_ok("100000000000000000000000e-10"), UINT64_C(10000000000000));
	assert_int_equal(count_ok("1.8446744073709551615e19"), UINT64_MAX);
	assert_int_equal(count_err("1.5"), -EINVAL);
	assert_int_equal(count_err("1e-1"), -EINVAL);
	assert_int_equal(count_err("0.000000000000000000000000001"), -EINVAL);
	assert_int_equal(count_err("1e20"), -ERANGE);
	assert_int_equal(count_err("1.8446744073709551616e19"), -ERANGE);
	assert_int_equal(count_err("18446744073709551616"), -ERANGE);
	assert_int_equal(count_err("1e999999999999"), -ERANGE);
	/*
	 * Significant digits wider than 64 bits are -ERANGE, checked before
	 * wholeness; 5^30 * 10^-30 TiB would be 1,024 bytes.
	 */
	assert_int_equal(count_err("100000000000000000001e-1"), -ERANGE);
	assert_int_equal(size_err("931322574615478515625e-30t"), -ERANGE);
	assert_int_equal(size_ok("7450580596923828125e-27t"), 8192);
}

static void
test_units_refuses_signs_space_and_junk(void **state)
{
	static const char *const bad[] = {
		"",	 " ",	  "-1",	 "+1",	" 1",  "1 ",	" -1", "1\n", "\t1",
		"1,000", "1'000", "one", "1e",	"1e+", "1.",	".",   "e3",  "1.2.3",
		"--1",	 "0x-1",  "∞",	 "nan", "inf", "1e3e3", "1k ", "1 k",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("'%s'\n", bad[i]);
		assert_int_equal(count_err(bad[i]), -EINVAL);
		assert_int_equal(size_err(bad[i]), -EINVAL);
		assert_int_equal(time_err(bad[i], IOMMUSIM_NS_PER_MS), -EINVAL);
	}
	assert_int_equal(count_err("1k"), -EINVAL); /* a count takes no unit */
	assert_int_equal(count_err("1ms"), -EINVAL);
}

static void
test_units_count_range_is_inclusive(void **state)
{
	uint64_t v = 0;

	assert_int_equal(iommusim_count_parse("2", 2, 8, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(iommusim_count_parse("8", 2, 8, &v), 0);
	assert_int_equal(v, 8);
	v = 99;
	assert_int_equal(iommusim_count_parse("1", 2, 8, &v), -ERANGE);
	assert_int_equal(iommusim_count_parse("9", 2, 8, &v), -ERANGE);
	assert_int_equal(v, 99);
}

static void
test_units_size_every_unit_any_case(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} cases[] = {
		{ "4096", 4096 },	 { "512b", 512 },	 { "512B", 512 },
		{ "4k", 4 * KIB },	 { "4K", 4 * KIB },	 { "4kb", 4 * KIB },
		{ "4KB", 4 * KIB },	 { "4KiB", 4 * KIB },	 { "4kib", 4 * KIB },
		{ "64m", 64 * MIB },	 { "64M", 64 * MIB },	 { "64mb", 64 * MIB },
		{ "64MiB", 64 * MIB },	 { "2g", 2 * GIB },	 { "2G", 2 * GIB },
		{ "2gb", 2 * GIB },	 { "2GiB", 2 * GIB },	 { "1t", TIB },
		{ "1T", TIB },		 { "1tb", TIB },	 { "1TiB", TIB },
		{ "1.5k", 1536 },	 { "0.5m", 512 * KIB },	 { "3.2e9", 3200000000u },
		{ "3200m", 3200 * MIB }, { "0x1000", 4096 },	 { "1_024k", 1024 * KIB },
		{ "0.0009765625k", 1 },	 { "1e3k", 1000 * KIB }, { "0k", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 0;
		int ret = iommusim_size_parse(cases[i].s, 0, UINT64_MAX, &v);

		print_message("'%s'\n", cases[i].s);
		assert_int_equal(ret, 0);
		assert_int_equal(v, cases[i].v);
	}
}

static void
test_units_size_refusals(void **state)
{
	assert_int_equal(size_err("1.5b"), -EINVAL); /* half a byte */
	assert_int_equal(size_err("0.1k"), -EINVAL); /* 102.4 bytes */
	/* Significant digits beyond 64 bits are refused whatever the exponent. */
	assert_int_equal(size_err("16383.999999999999999999t"), -ERANGE);
	assert_int_equal(size_err("4kk"), -EINVAL);
	assert_int_equal(size_err("4 k"), -EINVAL);
	assert_int_equal(size_err("4x"), -EINVAL);
	assert_int_equal(size_err("4ms"), -EINVAL); /* a time is not a size */
	assert_int_equal(size_err("0x10k"), -EINVAL); /* hex takes no unit */
	assert_int_equal(size_err("16777216t"), -ERANGE);
	assert_int_equal(size_ok("16777215t"), 16777215 * TIB);
	assert_int_equal(size_err("18446744073709551615k"), -ERANGE);
}

static void
test_units_time_units_and_bare_unit(void **state)
{
	assert_int_equal(time_ok("10ns", 0), 10);
	assert_int_equal(time_ok("10nsec", 0), 10);
	assert_int_equal(time_ok("10us", 0), 10000);
	assert_int_equal(time_ok("10USEC", 0), 10000);
	assert_int_equal(time_ok("10ms", 0), 10000000);
	assert_int_equal(time_ok("10msec", 0), 10000000);
	assert_int_equal(time_ok("2s", 0), 2000000000);
	assert_int_equal(time_ok("2SEC", 0), 2000000000);
	assert_int_equal(time_ok("1.5us", 0), 1500);
	assert_int_equal(time_ok("1e-3s", 0), 1000000);
	assert_int_equal(time_ok("0.25ms", 0), 250000);
	/* No unit: the key's own. */
	assert_int_equal(time_ok("10", IOMMUSIM_NS_PER_MS), 10000000);
	assert_int_equal(time_ok("2", IOMMUSIM_NS_PER_S), 2000000000);
	assert_int_equal(time_ok("1.5", IOMMUSIM_NS_PER_S), 1500000000);
	assert_int_equal(time_ok("7", 1), 7);
	assert_int_equal(time_ok("0x10", IOMMUSIM_NS_PER_US), 16000);
	/* ... and none: a unit is required but for 0. */
	assert_int_equal(time_ok("0", 0), 0);
	assert_int_equal(time_err("10", 0), -EINVAL);
	assert_int_equal(time_err("1.5ns", 0), -EINVAL);
	assert_int_equal(time_err("1.5", 1), -EINVAL);
	assert_int_equal(time_err("4k", IOMMUSIM_NS_PER_MS), -EINVAL);
	assert_int_equal(time_err("10m", 0), -EINVAL); /* m is MiB, never minutes */
	assert_int_equal(time_err("18446744074s", 0), -ERANGE);
	/* A bare unit that is not a power of ten of ns is a misuse. */
	assert_int_equal(time_err("1", 3), -EINVAL);
}

static void
test_units_time_range(void **state)
{
	uint64_t v = 5;

	assert_int_equal(
		iommusim_time_parse("1ms", IOMMUSIM_NS_PER_MS, IOMMUSIM_NS_PER_MS, UINT64_MAX, &v),
		0);
	assert_int_equal(v, IOMMUSIM_NS_PER_MS);
	v = 5;
	assert_int_equal(iommusim_time_parse("999us", IOMMUSIM_NS_PER_MS, IOMMUSIM_NS_PER_MS,
					     UINT64_MAX, &v),
			 -ERANGE);
	assert_int_equal(v, 5);
}

static void
test_units_quantity_reports_its_unit(void **state)
{
	enum iommusim_unit u = IOMMUSIM_UNIT_NS;
	uint64_t v = 0;

	assert_int_equal(iommusim_quantity_parse("12", &v, &u), 0);
	assert_int_equal(v, 12);
	assert_int_equal(u, IOMMUSIM_UNIT_NONE);
	assert_int_equal(iommusim_quantity_parse("4k", &v, &u), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(u, IOMMUSIM_UNIT_BYTES);
	assert_int_equal(iommusim_quantity_parse("10ms", &v, &u), 0);
	assert_int_equal(v, 10000000);
	assert_int_equal(u, IOMMUSIM_UNIT_NS);
	assert_int_equal(iommusim_quantity_parse("0x20", &v, &u), 0);
	assert_int_equal(v, 32);
	assert_int_equal(u, IOMMUSIM_UNIT_NONE);
	assert_int_equal(iommusim_quantity_parse("10 ms", &v, &u), -EINVAL);
	assert_int_equal(iommusim_quantity_parse("1.5", &v, &u), -EINVAL);
	assert_int_equal(iommusim_quantity_parse("99999999999999999999", &v, &u), -ERANGE);
	assert_int_equal(iommusim_quantity_parse(NULL, &v, &u), -EINVAL);
	assert_int_equal(iommusim_quantity_parse("1", NULL, &u), -EINVAL);
	assert_int_equal(iommusim_quantity_parse("1", &v, NULL), -EINVAL);
}

static void
test_units_real(void **state)
{
	double d = -1;

	assert_int_equal(iommusim_real_parse("5.2", 0, 1e6, &d), 0);
	assert_true(d == 5.2);
	assert_int_equal(iommusim_real_parse("3", 0, 1e6, &d), 0);
	assert_true(d == 3.0);
	assert_int_equal(iommusim_real_parse("0.000_001", 0, 1e6, &d), 0);
	assert_true(d == 1e-6);
	assert_int_equal(iommusim_real_parse("2.5e-3", 0, 1e6, &d), 0);
	assert_true(d == 2.5e-3);
	assert_int_equal(iommusim_real_parse(".5", 0, 1e6, &d), 0);
	assert_true(d == 0.5);
	d = 7;
	assert_int_equal(iommusim_real_parse("-1", -5, 5, &d), -EINVAL);
	assert_int_equal(iommusim_real_parse(" 1", 0, 5, &d), -EINVAL);
	assert_int_equal(iommusim_real_parse("1 ", 0, 5, &d), -EINVAL);
	assert_int_equal(iommusim_real_parse("inf", 0, INFINITY, &d), -EINVAL);
	assert_int_equal(iommusim_real_parse("nan", 0, 5, &d), -EINVAL);
	assert_int_equal(iommusim_real_parse("0x1p3", 0, 100, &d), -EINVAL);
	assert_int_equal(iommusim_real_parse("0x10", 0, 100, &d), -EINVAL);
	assert_int_equal(iommusim_real_parse("1k", 0, 1e9, &d), -EINVAL);
	assert_int_equal(iommusim_real_parse("1e999", 0, INFINITY, &d), -ERANGE);
	assert_int_equal(iommusim_real_parse("6", 0, 5, &d), -ERANGE);
	assert_int_equal(iommusim_real_parse("1e-7", 1e-6, 5, &d), -ERANGE);
	assert_true(d == 7);
}

static void
test_units_real_refuses_overlong(void **state)
{
	char buf[200];
	double d = 0;

	memset(buf, '1', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	assert_int_equal(iommusim_real_parse(buf, 0, INFINITY, &d), -EINVAL);
	buf[127] = '\0';
	assert_int_equal(iommusim_real_parse(buf, 0, INFINITY, &d), 0);
	assert_true(d > 1e126);
}

static void
test_units_bool_every_spelling(void **state)
{
	static const char *const yes[] = { "1", "true", "TRUE", "True", "yes", "YES", "on", "On" };
	static const char *const no[] = { "0", "false", "FALSE", "no", "No", "off", "OFF" };
	static const char *const bad[] = { "", "2", "y", "n", "t", "f", " 1", "1 ", "truee", "01" };
	size_t i;
	bool b;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		b = false;
		assert_int_equal(iommusim_bool_parse(yes[i], &b), 0);
		assert_true(b);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		b = true;
		assert_int_equal(iommusim_bool_parse(no[i], &b), 0);
		assert_false(b);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = true;
		assert_int_equal(iommusim_bool_parse(bad[i], &b), -EINVAL);
		assert_true(b);
	}
	assert_int_equal(iommusim_bool_parse(NULL, &b), -EINVAL);
	assert_int_equal(iommusim_bool_parse("1", NULL), -EINVAL);
}

static void
test_units_null_arguments(void **state)
{
	uint64_t v;
	double d;

	assert_int_equal(iommusim_count_parse(NULL, 0, 1, &v), -EINVAL);
	assert_int_equal(iommusim_count_parse("1", 0, 1, NULL), -EINVAL);
	assert_int_equal(iommusim_size_parse(NULL, 0, 1, &v), -EINVAL);
	assert_int_equal(iommusim_size_parse("1", 0, 1, NULL), -EINVAL);
	assert_int_equal(iommusim_time_parse(NULL, 1, 0, 1, &v), -EINVAL);
	assert_int_equal(iommusim_time_parse("1", 1, 0, 1, NULL), -EINVAL);
	assert_int_equal(iommusim_real_parse(NULL, 0, 1, &d), -EINVAL);
	assert_int_equal(iommusim_real_parse("1", 0, 1, NULL), -EINVAL);
}

/* Write @p v in a random form of the grammar that must read back as @p v bytes. */
static void
random_size_text(uint64_t *rng, uint64_t v, char *buf, size_t len)
{
	static const char *const sfx[] = { "", "b", "B" };
	char digits[32], *p = buf;
	size_t n, i;

	switch (test_splitmix64(rng) % 5) {
	case 0: /* hex */
		snprintf(buf, len, "0x%" PRIx64, v);
		return;
	case 1: /* a multiple of a unit, with that unit */
		if (v && !(v % KIB)) {
			snprintf(buf, len, "%" PRIu64 "%s", v / KIB,
				 (test_splitmix64(rng) & 1) ? "KiB" : "k");
			return;
		}
		break;
	case 2: /* scientific, exact */
		n = (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, v);
		if (n > 1) {
			snprintf(buf, len, "%c.%se%zu", digits[0], digits + 1, n - 1);
			return;
		}
		break;
	case 3: /* digit separators */
		n = (size_t)snprintf(digits, sizeof(digits), "%" PRIu64, v);
		for (i = 0; i < n; i++) {
			*p++ = digits[i];
			if (i + 1 < n && (n - 1 - i) % 3 == 0)
				*p++ = '_';
		}
		*p = '\0';
		return;
	default:
		break;
	}
	snprintf(buf, len, "%" PRIu64 "%s", v, sfx[test_splitmix64(rng) % 3]);
}

/* Property: a value written in any form reads back exactly. */
static void
test_units_property_round_trip(void **state)
{
	uint64_t seed = test_seed(UINT64_C(0x756e697473)), rng = seed;
	unsigned i;

	print_message("seed %" PRIu64 " (%s)\n", seed, TEST_SEED_ENV);
	for (i = 0; i < 200000; i++) {
		uint64_t r = test_splitmix64(&rng), v, got = 0;
		char buf[96];

		/* Every magnitude: shift a random value down by 0..63. */
		v = r >> (test_splitmix64(&rng) % 64);
		random_size_text(&rng, v, buf, sizeof(buf));
		if (iommusim_size_parse(buf, 0, UINT64_MAX, &got) || got != v)
			fail_msg("'%s' read as %" PRIu64 ", want %" PRIu64, buf, got, v);
	}
}

/* Property: a decimal with a fraction reads as a count exactly when it is whole. */
static void
test_units_property_fraction_exact(void **state)
{
	uint64_t seed = test_seed(UINT64_C(0x6672616374)), rng = seed;
	unsigned i;

	print_message("seed %" PRIu64 " (%s)\n", seed, TEST_SEED_ENV);
	for (i = 0; i < 200000; i++) {
		/* x / 10^k written as a decimal, times 10^e written as an exponent. */
		uint64_t x = test_splitmix64(&rng) >> (test_splitmix64(&rng) % 64), v = 0, want;
		unsigned k = (unsigned)(test_splitmix64(&rng) % 8), e = k, j;
		char digits[32], buf[96];
		size_t n = (size_t)snprintf(digits, sizeof(digits), "%0*" PRIu64, (int)k + 1, x);
		bool whole = true;
		int ret;

		if (test_splitmix64(&rng) & 1)
			e = (unsigned)(test_splitmix64(&rng) % (k + 1));
		snprintf(buf, sizeof(buf), "%.*s%s%se%u", (int)(n - k), digits, k ? "." : "",
			 digits + n - k, e);
		/* value = x * 10^(e - k) */
		want = x;
		for (j = 0; j < k - e; j++) {
			whole = whole && !(want % 10);
			want /= 10;
		}
		ret = iommusim_count_parse(buf, 0, UINT64_MAX, &v);
		if (whole ? (ret || v != want) : ret != -EINVAL)
			fail_msg("'%s': ret %d value %" PRIu64 ", want %s %" PRIu64, buf, ret, v,
				 whole ? "value" : "-EINVAL", want);
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units_count_plain_decimal),
		cmocka_unit_test(test_units_count_separators_between_digits_only),
		cmocka_unit_test(test_units_count_hex),
		cmocka_unit_test(test_units_count_fraction_and_exponent_when_whole),
		cmocka_unit_test(test_units_refuses_signs_space_and_junk),
		cmocka_unit_test(test_units_count_range_is_inclusive),
		cmocka_unit_test(test_units_size_every_unit_any_case),
		cmocka_unit_test(test_units_size_refusals),
		cmocka_unit_test(test_units_time_units_and_bare_unit),
		cmocka_unit_test(test_units_time_range),
		cmocka_unit_test(test_units_quantity_reports_its_unit),
		cmocka_unit_test(test_units_real),
		cmocka_unit_test(test_units_real_refuses_overlong),
		cmocka_unit_test(test_units_bool_every_spelling),
		cmocka_unit_test(test_units_null_arguments),
		cmocka_unit_test(test_units_property_round_trip),
		cmocka_unit_test(test_units_property_fraction_exact),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("units", tests, NULL, NULL);
}
