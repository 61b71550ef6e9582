/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: values and `--set KEY=VALUE` (iommusim/units.h,
 * iommusim_job_set, iommusim_policy_set, iommusim_profile_set). The input is
 * split at its first '=' into a key and a value (no '=': the whole input is
 * the value, and the key is empty); every parser of units.h reads the value,
 * and the three setters take the pair, as the CLI's --set does. What the
 * headers promise is checked: results agree between the parsers, they stay in
 * the caller's range, and nothing is written on an error.
 */
#include "config.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/job.h>
#include <iommusim/keys.h>
#include <iommusim/platform.h>
#include <iommusim/run.h>
#include <iommusim/units.h>

#include "fuzz_common.h"

#define SENTINEL UINT64_C(0x5a5a5a5a5a5a5a5a)

static void
check_count(const char *v)
{
	uint64_t x = SENTINEL, y = SENTINEL, q = SENTINEL;
	enum iommusim_unit u = IOMMUSIM_UNIT_BYTES;
	int ret, qret;

	ret = iommusim_count_parse(v, 0, UINT64_MAX, &x);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE);
	qret = iommusim_quantity_parse(v, &q, &u);
	FUZZ_CHECK(qret == 0 || qret == -EINVAL || qret == -ERANGE);
	if (ret) {
		FUZZ_CHECK(x == SENTINEL);
		/* A quantity without a unit is a count. */
		FUZZ_CHECK(qret || u != IOMMUSIM_UNIT_NONE);
		return;
	}
	FUZZ_CHECK(qret == 0 && u == IOMMUSIM_UNIT_NONE && q == x);
	/* The range: [x, x] holds it, [x + 1, max] and [0, x - 1] do not. */
	FUZZ_CHECK(iommusim_count_parse(v, x, x, &y) == 0 && y == x);
	if (x < UINT64_MAX) {
		y = SENTINEL;
		FUZZ_CHECK(iommusim_count_parse(v, x + 1, UINT64_MAX, &y) == -ERANGE);
		FUZZ_CHECK(y == SENTINEL);
	}
	if (x > 0)
		FUZZ_CHECK(iommusim_count_parse(v, 0, x - 1, &y) == -ERANGE);
}

static void
check_size(const char *v)
{
	uint64_t x = SENTINEL, q = SENTINEL, y;
	enum iommusim_unit u = IOMMUSIM_UNIT_NS;
	int ret, qret;

	ret = iommusim_size_parse(v, 0, UINT64_MAX, &x);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE);
	qret = iommusim_quantity_parse(v, &q, &u);
	if (ret) {
		FUZZ_CHECK(x == SENTINEL);
		FUZZ_CHECK(qret || u == IOMMUSIM_UNIT_NS);
		return;
	}
	FUZZ_CHECK(qret == 0 && u != IOMMUSIM_UNIT_NS && q == x);
	FUZZ_CHECK(iommusim_size_parse(v, x, x, &y) == 0 && y == x);
	if (x < UINT64_MAX)
		FUZZ_CHECK(iommusim_size_parse(v, x + 1, UINT64_MAX, &y) == -ERANGE);
}

static void
check_time(const char *v)
{
	static const uint64_t bare[] = { 0, 1, IOMMUSIM_NS_PER_US, IOMMUSIM_NS_PER_MS,
					 IOMMUSIM_NS_PER_S };
	uint64_t q = SENTINEL, with_unit = SENTINEL;
	enum iommusim_unit u = IOMMUSIM_UNIT_BYTES;
	int qret, uret;
	size_t i;

	qret = iommusim_quantity_parse(v, &q, &u);
	uret = iommusim_time_parse(v, 0, 0, UINT64_MAX, &with_unit);
	FUZZ_CHECK(uret == 0 || uret == -EINVAL || uret == -ERANGE);
	if (uret) {
		FUZZ_CHECK(with_unit == SENTINEL);
	} else {
		/* A unit is required, except for 0 itself. */
		FUZZ_CHECK(qret == 0 && q == with_unit);
		FUZZ_CHECK(u == IOMMUSIM_UNIT_NS || (u == IOMMUSIM_UNIT_NONE && q == 0));
	}
	for (i = 0; i < sizeof(bare) / sizeof(bare[0]); i++) {
		uint64_t x = SENTINEL, y;
		int ret = iommusim_time_parse(v, bare[i], 0, UINT64_MAX, &x);

		FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE);
		if (ret) {
			FUZZ_CHECK(x == SENTINEL);
			continue;
		}
		/* With a unit, the bare unit does not matter. */
		if (!qret && u == IOMMUSIM_UNIT_NS)
			FUZZ_CHECK(x == q);
		FUZZ_CHECK(iommusim_time_parse(v, bare[i], x, x, &y) == 0 && y == x);
		if (x < UINT64_MAX)
			FUZZ_CHECK(iommusim_time_parse(v, bare[i], x + 1, UINT64_MAX, &y) ==
				   -ERANGE);
	}
}

static void
check_real_bool(const char *v)
{
	static const double ranges[][2] = { { -DBL_MAX, DBL_MAX }, { 0, DBL_MAX }, { 1e-6, 1e6 } };
	bool b = true;
	size_t i;
	int ret;

	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		double d = -1.25;

		ret = iommusim_real_parse(v, ranges[i][0], ranges[i][1], &d);
		FUZZ_CHECK(ret == 0 || ret == -EINVAL || ret == -ERANGE);
		if (ret)
			FUZZ_CHECK(d == -1.25);
		else
			FUZZ_CHECK(isfinite(d) && d >= ranges[i][0] && d <= ranges[i][1]);
	}
	ret = iommusim_bool_parse(v, &b);
	FUZZ_CHECK(ret == 0 || ret == -EINVAL);
	FUZZ_CHECK(ret == 0 || b);
	if (!ret) {
		uint64_t x;

		/* "1" and "0" are booleans and counts alike. */
		if (!iommusim_count_parse(v, 0, UINT64_MAX, &x))
			FUZZ_CHECK(x == (uint64_t)b);
	}
}

static void
check_set(const char *key, const char *value)
{
	struct iommusim_job job, job0;
	struct iommusim_policy pol, pol0;
	const struct iommusim_key *k;
	char err[160];
	size_t i;
	int ret;

	memset(&job0, 0, sizeof(job0));
	iommusim_job_defaults(&job0);
	memcpy(&job, &job0, sizeof(job));
	err[0] = '\0';
	ret = iommusim_job_set(&job, key, value, err, sizeof(err));
	FUZZ_CHECK(ret == 0 || ret == -ENOENT || ret == -EINVAL);
	FUZZ_CHECK(fuzz_is_string(err, sizeof(err)));
	FUZZ_CHECK(ret != -EINVAL || err[0]);
	FUZZ_CHECK(ret == 0 || !memcmp(&job, &job0, sizeof(job)));
	FUZZ_CHECK(fuzz_is_string(job.name, sizeof(job.name)));

	memset(&pol0, 0, sizeof(pol0));
	memcpy(&pol, &pol0, sizeof(pol));
	err[0] = '\0';
	ret = iommusim_policy_set(&pol, key, value, err, sizeof(err));
	FUZZ_CHECK(ret == 0 || ret == -ENOENT || ret == -EINVAL);
	FUZZ_CHECK(fuzz_is_string(err, sizeof(err)));
	FUZZ_CHECK(ret != -ENOENT || !err[0]);
	FUZZ_CHECK(ret != -EINVAL || err[0]);
	FUZZ_CHECK(ret == 0 || !memcmp(&pol, &pol0, sizeof(pol)));

	for (i = 0; i < iommusim_profile_count(); i++) {
		struct iommusim_profile p, p0;

		memcpy(&p0, iommusim_profile_at(i), sizeof(p0));
		memcpy(&p, &p0, sizeof(p));
		ret = iommusim_profile_set(&p, key, value);
		FUZZ_CHECK(ret == 0 || ret == -ENOENT || ret == -EINVAL);
		FUZZ_CHECK(ret == 0 || !memcmp(&p, &p0, sizeof(p)));
		if (!ret)
			FUZZ_CHECK(isfinite(p.clock_ghz) && isfinite(p.bounce_per_byte));
	}

	/* Every row of the key table: a value it takes formats to text it
	 * reads back to the same value (keys.h). */
	for (i = 0; (k = iommusim_key_at(i)); i++) {
		struct iommusim_key_value v, back;
		char buf[64];

		err[0] = '\0';
		ret = iommusim_key_parse(k, value, &v, err, sizeof(err));
		FUZZ_CHECK(ret == 0 || ret == -EINVAL);
		FUZZ_CHECK(fuzz_is_string(err, sizeof(err)));
		FUZZ_CHECK(ret == 0 || err[0]);
		if (ret)
			continue;
		FUZZ_CHECK(!iommusim_key_format(k, &v, buf, sizeof(buf)));
		FUZZ_CHECK(!iommusim_key_parse(k, buf, &back, NULL, 0));
		FUZZ_CHECK(k->type == IOMMUSIM_KEY_REAL ? back.d == v.d : back.u == v.u);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size), *eq;
	const char *key = "", *value;

	if (!text)
		return 0;
	eq = strchr(text, '=');
	if (eq) {
		*eq = '\0';
		key = text;
		value = eq + 1;
	} else {
		value = text;
	}
	check_count(value);
	check_size(value);
	check_time(value);
	check_real_bool(value);
	check_set(key, value);
	free(text);
	return 0;
}
