/* SPDX-License-Identifier: MIT */
/*
 * Tests of a key's row (iommusim/keys.h): parsing by type with the row's
 * range, multiple, power of two and scale; storing into fields of every
 * width with nothing changed on a refusal; loading; formatting that reads
 * back; the messages. Rows here are made up; the library's own table is
 * tested against the run in test_run and test_job.
 */
#include "config.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/keys.h>

#include "base/keys_int.h"
#include "test_common.h"

struct obj {
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	bool b;
	double d;
	unsigned e;
	uint32_t ms; /* a time stored in ms */
};

#define F(f) .offset = offsetof(struct obj, f), .width = sizeof(((struct obj *)0)->f)

static const struct iommusim_key_choice colours[] = {
	{ "red", 3 },
	{ "green", 5 },
	{ "verde", 5 },
	{ NULL, 0 },
};

static const struct iommusim_key k_u8 = { .name = "u8",
					  .type = IOMMUSIM_KEY_COUNT,
					  .min = 1,
					  .max = 200,
					  F(u8),
					  .unit = "",
					  .hint = "1 to 200" };
/* A range wider than its field: the store refuses what does not fit. */
static const struct iommusim_key k_u16 = { .name = "u16",
					   .type = IOMMUSIM_KEY_COUNT,
					   .max = UINT64_MAX,
					   F(u16),
					   .unit = "" };
static const struct iommusim_key k_u32 = { .name = "u32",
					   .type = IOMMUSIM_KEY_SIZE,
					   .min = 4096,
					   .max = UINT32_MAX,
					   .multiple = 4096,
					   F(u32),
					   .unit = "bytes",
					   .hint = "4k steps" };
static const struct iommusim_key k_pow2 = { .name = "pow2",
					    .type = IOMMUSIM_KEY_COUNT,
					    .min = 2,
					    .max = UINT64_C(1) << 40,
					    .pow2 = true,
					    F(u64),
					    .unit = "",
					    .hint = "a power of two" };
static const struct iommusim_key k_bool = { .name = "b",
					    .type = IOMMUSIM_KEY_BOOL,
					    .max = 1,
					    F(b),
					    .unit = "",
					    .hint = "yes or no" };
static const struct iommusim_key k_real = { .name = "d",
					    .type = IOMMUSIM_KEY_REAL,
					    .min_real = 0.5,
					    .max_real = 1e9,
					    F(d),
					    .unit = "",
					    .hint = "0.5 to 1e9" };
static const struct iommusim_key k_enum = { .name = "colour",
					    .type = IOMMUSIM_KEY_ENUM,
					    .max = 5,
					    .choices = colours,
					    F(e),
					    .unit = "",
					    .hint = "red or green" };
static const struct iommusim_key k_ms = { .name = "t",
					  .type = IOMMUSIM_KEY_TIME,
					  .bare_ns = 1000000,
					  .min = 1000000,
					  .max = UINT32_MAX * UINT64_C(1000000),
					  .multiple = 1000000,
					  .scale = 1000000,
					  F(ms),
					  .unit = "ns",
					  .hint = "whole ms" };
static const struct iommusim_key k_nofield = { .name = "nofield",
					       .type = IOMMUSIM_KEY_COUNT,
					       .max = 10,
					       .unit = "",
					       .hint = "0 to 10" };

static int
set(const struct iommusim_key *k, struct obj *o, const char *text)
{
	char err[160];

	return iommusim_key_set(k, o, text, err, sizeof(err));
}

static void
test_keys_parse_takes_the_rows_range(void **state)
{
	struct iommusim_key_value v;

	(void)state;
	assert_int_equal(iommusim_key_parse(&k_u8, "1", &v, NULL, 0), 0);
	assert_int_equal(v.u, 1);
	assert_int_equal(iommusim_key_parse(&k_u8, "200", &v, NULL, 0), 0);
	assert_int_equal(iommusim_key_parse(&k_u8, "0", &v, NULL, 0), -EINVAL);
	assert_int_equal(iommusim_key_parse(&k_u8, "201", &v, NULL, 0), -EINVAL);
	assert_int_equal(iommusim_key_parse(&k_u8, "1k", &v, NULL, 0), -EINVAL);
	/* a size: units, and the multiple */
	assert_int_equal(iommusim_key_parse(&k_u32, "8k", &v, NULL, 0), 0);
	assert_int_equal(v.u, 8192);
	assert_int_equal(iommusim_key_parse(&k_u32, "4097", &v, NULL, 0), -EINVAL);
	assert_int_equal(iommusim_key_parse(&k_u32, "4g", &v, NULL, 0), -EINVAL);
	/* a power of two */
	assert_int_equal(iommusim_key_parse(&k_pow2, "1024", &v, NULL, 0), 0);
	assert_int_equal(iommusim_key_parse(&k_pow2, "1000", &v, NULL, 0), -EINVAL);
	assert_int_equal(iommusim_key_parse(&k_pow2, "1", &v, NULL, 0), -EINVAL);
	/* a time: its bare unit, and the multiple of its scale */
	assert_int_equal(iommusim_key_parse(&k_ms, "10", &v, NULL, 0), 0);
	assert_int_equal(v.u, 10000000);
	assert_int_equal(iommusim_key_parse(&k_ms, "2000us", &v, NULL, 0), 0);
	assert_int_equal(v.u, 2000000);
	assert_int_equal(iommusim_key_parse(&k_ms, "1500us", &v, NULL, 0), -EINVAL);
	assert_int_equal(iommusim_key_parse(&k_ms, "0", &v, NULL, 0), -EINVAL);
	/* a real, a boolean, a choice in any case, a second name for a value */
	assert_int_equal(iommusim_key_parse(&k_real, "0.5", &v, NULL, 0), 0);
	assert_true(v.d == 0.5);
	assert_int_equal(iommusim_key_parse(&k_real, "0.49", &v, NULL, 0), -EINVAL);
	assert_int_equal(iommusim_key_parse(&k_real, "inf", &v, NULL, 0), -EINVAL);
	assert_int_equal(iommusim_key_parse(&k_bool, "YES", &v, NULL, 0), 0);
	assert_int_equal(v.u, 1);
	assert_int_equal(iommusim_key_parse(&k_bool, "2", &v, NULL, 0), -EINVAL);
	assert_int_equal(iommusim_key_parse(&k_enum, "Green", &v, NULL, 0), 0);
	assert_int_equal(v.u, 5);
	assert_int_equal(iommusim_key_parse(&k_enum, "verde", &v, NULL, 0), 0);
	assert_int_equal(v.u, 5);
	assert_int_equal(iommusim_key_parse(&k_enum, "blue", &v, NULL, 0), -EINVAL);
	assert_int_equal(iommusim_key_parse(&k_enum, "", &v, NULL, 0), -EINVAL);
	assert_int_equal(iommusim_key_parse(NULL, "1", &v, NULL, 0), -EINVAL);
	assert_int_equal(iommusim_key_parse(&k_u8, NULL, &v, NULL, 0), -EINVAL);
	assert_int_equal(iommusim_key_parse(&k_u8, "1", NULL, NULL, 0), -EINVAL);
}

static void
test_keys_parse_error_names_value_key_and_hint(void **state)
{
	struct iommusim_key_value v = { 77, 0 };
	char err[160] = "";

	(void)state;
	assert_int_equal(iommusim_key_parse(&k_u8, "lots", &v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad value 'lots' for u8 (1 to 200)");
	assert_int_equal(v.u, 77); /* nothing changes on error */
	/* a long value is cut, a control character shown as '?' */
	assert_int_equal(iommusim_key_parse(
				 &k_enum, "a\tbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
				 &v, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(
		err, "bad value 'a?bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...' for colour (red or "
		     "green)");
	/* a small buffer holds a terminated prefix */
	assert_int_equal(iommusim_key_parse(&k_u8, "x", &v, err, 8), -EINVAL);
	assert_string_equal(err, "bad val");
}

static void
test_keys_shown_does_not_split_utf8(void **state)
{
	char buf[IMS_SHOWN_MAX + 4], in[64];

	(void)state;
	/* 39 ASCII bytes then a two-byte character straddling the cut */
	memset(in, 'a', 39);
	strcpy(in + 39, "\xc3\xa9zz");
	assert_string_equal(ims_shown(buf, in), "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...");
	assert_string_equal(ims_shown(buf, "short"), "short");
	assert_string_equal(ims_shown(buf, "\x7f"), "?");
}

static void
test_keys_store_every_width_and_refuse_what_does_not_fit(void **state)
{
	struct obj o, before;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(set(&k_u8, &o, "200"), 0);
	assert_int_equal(o.u8, 200);
	assert_int_equal(set(&k_u16, &o, "65535"), 0);
	assert_int_equal(o.u16, 65535);
	assert_int_equal(set(&k_u32, &o, "4294963200"), 0);
	assert_int_equal(o.u32, UINT32_C(4294963200));
	assert_int_equal(set(&k_pow2, &o, "1099511627776"), 0);
	assert_int_equal(o.u64, UINT64_C(1) << 40);
	assert_int_equal(set(&k_bool, &o, "on"), 0);
	assert_true(o.b);
	assert_int_equal(set(&k_real, &o, "2.5e3"), 0);
	assert_true(o.d == 2500.0);
	assert_int_equal(set(&k_enum, &o, "red"), 0);
	assert_int_equal(o.e, 3);
	assert_int_equal(set(&k_ms, &o, "3s"), 0);
	assert_int_equal(o.ms, 3000); /* stored / scale */
	before = o;
	/* a value the field cannot hold, out of range, off its rules, no field */
	assert_int_equal(set(&k_u16, &o, "65536"), -EINVAL);
	assert_int_equal(set(&k_u8, &o, "201"), -EINVAL);
	assert_int_equal(set(&k_nofield, &o, "1"), -EINVAL);
	{
		struct iommusim_key_value v = { .u = 1000 };

		assert_int_equal(iommusim_key_store(&k_pow2, &o, &v), -EINVAL);
		v.u = 4;
		assert_int_equal(iommusim_key_store(&k_enum, &o, &v), -EINVAL);
		v.u = 2;
		assert_int_equal(iommusim_key_store(&k_bool, &o, &v), -EINVAL);
		v.d = 1e10;
		assert_int_equal(iommusim_key_store(&k_real, &o, &v), -EINVAL);
		v.u = 1500000;
		assert_int_equal(iommusim_key_store(&k_ms, &o, &v), -EINVAL);
		assert_int_equal(iommusim_key_store(NULL, &o, &v), -EINVAL);
		assert_int_equal(iommusim_key_store(&k_u8, NULL, &v), -EINVAL);
		assert_int_equal(iommusim_key_store(&k_u8, &o, NULL), -EINVAL);
	}
	assert_memory_equal(&o, &before, sizeof(o));
}

static void
test_keys_load_gives_what_was_stored(void **state)
{
	struct iommusim_key_value v;
	struct obj o;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(set(&k_ms, &o, "250ms"), 0);
	assert_int_equal(iommusim_key_load(&k_ms, &o, &v), 0);
	assert_int_equal(v.u, 250000000); /* field x scale */
	assert_int_equal(set(&k_real, &o, "0.75"), 0);
	assert_int_equal(iommusim_key_load(&k_real, &o, &v), 0);
	assert_true(v.d == 0.75);
	o.u16 = 4242;
	assert_int_equal(iommusim_key_load(&k_u16, &o, &v), 0);
	assert_int_equal(v.u, 4242);
	assert_int_equal(iommusim_key_load(&k_nofield, &o, &v), -EINVAL);
	assert_int_equal(iommusim_key_load(&k_u8, NULL, &v), -EINVAL);
}

static void
test_keys_format_reads_back(void **state)
{
	static const struct iommusim_key *const rows[] = { &k_u8,   &k_u16,  &k_u32,  &k_pow2,
							   &k_bool, &k_real, &k_enum, &k_ms };
	uint64_t rng = test_seed(0x666d74);
	struct iommusim_key_value v, back;
	char buf[64];
	size_t i, r;

	(void)state;
	v.u = 5;
	assert_int_equal(iommusim_key_format(&k_enum, &v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "green"); /* the first name */
	v.u = 2000000;
	assert_int_equal(iommusim_key_format(&k_ms, &v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2000000ns");
	v.d = 5.2;
	assert_int_equal(iommusim_key_format(&k_real, &v, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "5.2"); /* the shortest that reads back */
	v.u = 200;
	assert_int_equal(iommusim_key_format(&k_u8, &v, buf, 3), -ERANGE);
	assert_string_equal(buf, "");
	v.u = 4;
	assert_int_equal(iommusim_key_format(&k_enum, &v, buf, sizeof(buf)), -EINVAL);
	/* property: any value the row takes formats to text the row reads back */
	for (i = 0; i < 20000; i++) {
		const struct iommusim_key *k = rows[i % (sizeof(rows) / sizeof(rows[0]))];
		uint64_t x = test_splitmix64(&rng) >> (test_splitmix64(&rng) % 64);

		switch (k->type) {
		case IOMMUSIM_KEY_REAL:
			v.d = k->min_real +
			      (double)(x >> 11) / 9007199254740992.0 * (k->max_real - k->min_real);
			break;
		case IOMMUSIM_KEY_BOOL:
			v.u = x & 1;
			break;
		case IOMMUSIM_KEY_ENUM:
			v.u = x & 1 ? 3 : 5;
			break;
		default:
			v.u = k->min + x % (k->max - k->min == UINT64_MAX ? UINT64_MAX :
									    k->max - k->min + 1);
			if (k->pow2)
				v.u = UINT64_C(1) << (63 - __builtin_clzll(v.u));
			if (k->multiple > 1)
				v.u -= v.u % k->multiple;
			if (v.u < k->min)
				v.u = k->min;
			break;
		}
		r = (size_t)iommusim_key_format(k, &v, buf, sizeof(buf));
		assert_int_equal(r, 0);
		if (iommusim_key_parse(k, buf, &back, NULL, 0))
			fail_msg("%s: '%s' does not read back", k->name, buf);
		if (k->type == IOMMUSIM_KEY_REAL)
			assert_true(back.d == v.d);
		else
			assert_int_equal(back.u, v.u);
	}
}

static void
test_keys_names_of_types_and_scopes(void **state)
{
	(void)state;
	assert_string_equal(iommusim_key_type_name(IOMMUSIM_KEY_TIME), "time");
	assert_string_equal(iommusim_key_type_name(IOMMUSIM_KEY_ENUM), "enum");
	assert_null(iommusim_key_type_name((enum iommusim_key_type)99));
	assert_string_equal(iommusim_key_scope_name(IOMMUSIM_KEY_PROFILE), "profile");
	assert_string_equal(iommusim_key_scope_name(IOMMUSIM_KEY_SCRIPT), "script");
	assert_null(iommusim_key_scope_name((enum iommusim_key_scope)3));
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_parse_takes_the_rows_range),
		cmocka_unit_test(test_keys_parse_error_names_value_key_and_hint),
		cmocka_unit_test(test_keys_shown_does_not_split_utf8),
		cmocka_unit_test(test_keys_store_every_width_and_refuse_what_does_not_fit),
		cmocka_unit_test(test_keys_load_gives_what_was_stored),
		cmocka_unit_test(test_keys_format_reads_back),
		cmocka_unit_test(test_keys_names_of_types_and_scopes),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("keys", tests, NULL, NULL);
}
