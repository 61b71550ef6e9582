/* SPDX-License-Identifier: MIT */
/*
 * User-settable keys (iommusim/keys.h): one parser and one store for every
 * row of the key table, whichever reader (job file, --set, script) has the
 * text. The rows live with the structs they describe (job.c, platform.c).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <iommusim/keys.h>
#include <iommusim/units.h>

#include "base/keys_int.h"
#include "base/util_int.h"

const char *
ims_shown(char buf[IMS_SHOWN_MAX + 4], const char *s)
{
	size_t n = strlen(s), i;

	if (n > IMS_SHOWN_MAX) {
		n = IMS_SHOWN_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	strcpy(buf + n, s[n] ? "..." : "");
	return buf;
}

static const char *const type_names[] = {
	[IOMMUSIM_KEY_COUNT] = "count", [IOMMUSIM_KEY_SIZE] = "size", [IOMMUSIM_KEY_TIME] = "time",
	[IOMMUSIM_KEY_REAL] = "real",	[IOMMUSIM_KEY_BOOL] = "bool", [IOMMUSIM_KEY_ENUM] = "enum",
};

const char *
iommusim_key_type_name(enum iommusim_key_type type)
{
	return (unsigned)type < IMS_ARRAY_SIZE(type_names) ? type_names[type] : NULL;
}

const char *
iommusim_key_scope_name(enum iommusim_key_scope scope)
{
	switch (scope) {
	case IOMMUSIM_KEY_JOB:
		return "job";
	case IOMMUSIM_KEY_POLICY:
		return "policy";
	case IOMMUSIM_KEY_FILE:
		return "file";
	case IOMMUSIM_KEY_PROFILE:
		return "profile";
	case IOMMUSIM_KEY_SCRIPT:
		return "script";
	}
	return NULL;
}

static uint64_t
scale_of(const struct iommusim_key *k)
{
	return k->scale > 1 ? k->scale : 1;
}

/* The rules besides the grammar, for a parsed or a given value. */
static bool
value_ok(const struct iommusim_key *k, const struct iommusim_key_value *v)
{
	size_t i;

	switch (k->type) {
	case IOMMUSIM_KEY_REAL:
		return isfinite(v->d) && v->d >= k->min_real && v->d <= k->max_real;
	case IOMMUSIM_KEY_BOOL:
		return v->u <= 1;
	case IOMMUSIM_KEY_ENUM:
		if (!k->choices)
			return false;
		for (i = 0; k->choices[i].name; i++)
			if (k->choices[i].value == v->u)
				return true;
		return false;
	case IOMMUSIM_KEY_COUNT:
	case IOMMUSIM_KEY_SIZE:
	case IOMMUSIM_KEY_TIME:
		if (v->u < k->min || v->u > k->max)
			return false;
		if (k->multiple > 1 && v->u % k->multiple)
			return false;
		if (k->pow2 && !ims_is_pow2(v->u))
			return false;
		return !(v->u % scale_of(k));
	}
	return false;
}

int
iommusim_key_parse(const struct iommusim_key *key, const char *text, struct iommusim_key_value *out,
		   char *err, size_t err_len)
{
	char sv[IMS_SHOWN_MAX + 4];
	struct iommusim_key_value v = { 0, 0 };
	bool b = false;
	size_t i;
	int ret = -EINVAL;

	if (!key || !text || !out) {
		if (err && err_len)
			snprintf(err, err_len, "no key, value or result");
		return -EINVAL;
	}
	switch (key->type) {
	case IOMMUSIM_KEY_COUNT:
		ret = iommusim_count_parse(text, key->min, key->max, &v.u);
		break;
	case IOMMUSIM_KEY_SIZE:
		ret = iommusim_size_parse(text, key->min, key->max, &v.u);
		break;
	case IOMMUSIM_KEY_TIME:
		ret = iommusim_time_parse(text, key->bare_ns, key->min, key->max, &v.u);
		break;
	case IOMMUSIM_KEY_REAL:
		ret = iommusim_real_parse(text, key->min_real, key->max_real, &v.d);
		break;
	case IOMMUSIM_KEY_BOOL:
		ret = iommusim_bool_parse(text, &b);
		v.u = b;
		break;
	case IOMMUSIM_KEY_ENUM:
		for (i = 0; key->choices && key->choices[i].name && ret; i++) {
			if (!strcasecmp(text, key->choices[i].name)) {
				v.u = key->choices[i].value;
				ret = 0;
			}
		}
		break;
	}
	if (!ret && !value_ok(key, &v))
		ret = -EINVAL;
	if (ret) {
		if (err && err_len)
			snprintf(err, err_len, "bad value '%s' for %s (%s)", ims_shown(sv, text),
				 key->name, key->hint ? key->hint : "see docs/keys.md");
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* An unsigned field of @p width bytes (1, 2, 4 or 8): -EINVAL if @p u does not fit. */
IMS_NODISCARD static int
put_uint(void *at, size_t width, uint64_t u)
{
	uint8_t b8 = (uint8_t)u;
	uint16_t b16 = (uint16_t)u;
	uint32_t b32 = (uint32_t)u;

	switch (width) {
	case 1:
		return b8 == u ? (memcpy(at, &b8, 1), 0) : -EINVAL;
	case 2:
		return b16 == u ? (memcpy(at, &b16, 2), 0) : -EINVAL;
	case 4:
		return b32 == u ? (memcpy(at, &b32, 4), 0) : -EINVAL;
	case 8:
		memcpy(at, &u, 8);
		return 0;
	}
	return -EINVAL;
}

IMS_NODISCARD static int
get_uint(const void *at, size_t width, uint64_t *u)
{
	uint8_t b8;
	uint16_t b16;
	uint32_t b32;

	switch (width) {
	case 1:
		memcpy(&b8, at, 1);
		*u = b8;
		return 0;
	case 2:
		memcpy(&b16, at, 2);
		*u = b16;
		return 0;
	case 4:
		memcpy(&b32, at, 4);
		*u = b32;
		return 0;
	case 8:
		memcpy(u, at, 8);
		return 0;
	}
	return -EINVAL;
}

int
iommusim_key_store(const struct iommusim_key *key, void *obj, const struct iommusim_key_value *v)
{
	char *at;
	uint64_t u;

	if (!key || !obj || !v || !key->width || !value_ok(key, v))
		return -EINVAL;
	at = (char *)obj + key->offset;
	if (key->type == IOMMUSIM_KEY_REAL) {
		if (key->width != sizeof(double))
			return -EINVAL;
		memcpy(at, &v->d, sizeof(double));
		return 0;
	}
	if (key->type == IOMMUSIM_KEY_BOOL && key->width == sizeof(bool)) {
		bool b = v->u != 0;

		memcpy(at, &b, sizeof(b));
		return 0;
	}
	u = v->u / scale_of(key);
	return put_uint(at, key->width, u);
}

int
iommusim_key_load(const struct iommusim_key *key, const void *obj, struct iommusim_key_value *out)
{
	const char *at;
	struct iommusim_key_value v = { 0, 0 };

	if (!key || !obj || !out || !key->width)
		return -EINVAL;
	at = (const char *)obj + key->offset;
	if (key->type == IOMMUSIM_KEY_REAL) {
		if (key->width != sizeof(double))
			return -EINVAL;
		memcpy(&v.d, at, sizeof(double));
	} else if (key->type == IOMMUSIM_KEY_BOOL && key->width == sizeof(bool)) {
		bool b;

		memcpy(&b, at, sizeof(b));
		v.u = b;
	} else {
		if (get_uint(at, key->width, &v.u))
			return -EINVAL;
		/* Fields hold value / scale, so this cannot wrap for a stored value;
		 * saturate for one written directly. */
		if (__builtin_mul_overflow(v.u, scale_of(key), &v.u))
			v.u = UINT64_MAX;
	}
	*out = v;
	return 0;
}

int
iommusim_key_set(const struct iommusim_key *key, void *obj, const char *text, char *err,
		 size_t err_len)
{
	struct iommusim_key_value v;
	int ret;

	ret = iommusim_key_parse(key, text, &v, err, err_len);
	if (ret)
		return ret;
	ret = iommusim_key_store(key, obj, &v);
	if (ret && err && err_len)
		snprintf(err, err_len, "%s has no field to store a value in", key->name);
	return ret;
}

int
iommusim_key_format(const struct iommusim_key *key, const struct iommusim_key_value *v, char *buf,
		    size_t len)
{
	const char *name = NULL;
	size_t i;
	int n;

	if (!key || !v || !buf)
		return -EINVAL;
	switch (key->type) {
	case IOMMUSIM_KEY_REAL: {
		/* The shortest of %.15g..%.17g that reads back exactly. */
		int prec = 15;

		do
			n = snprintf(buf, len, "%.*g", prec, v->d);
		while (n >= 0 && (size_t)n < len && strtod(buf, NULL) != v->d && ++prec <= 17);
		break;
	}
	case IOMMUSIM_KEY_ENUM:
		for (i = 0; key->choices && key->choices[i].name && !name; i++)
			if (key->choices[i].value == v->u)
				name = key->choices[i].name;
		if (!name)
			return -EINVAL;
		n = snprintf(buf, len, "%s", name);
		break;
	case IOMMUSIM_KEY_TIME:
		/* A bare number may mean ms or s: always say ns. */
		n = snprintf(buf, len, "%" PRIu64 "ns", v->u);
		break;
	default:
		n = snprintf(buf, len, "%" PRIu64, v->u);
		break;
	}
	if (n < 0 || (size_t)n >= len) {
		if (len)
			buf[0] = '\0';
		return -ERANGE;
	}
	return 0;
}
