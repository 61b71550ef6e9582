/* SPDX-License-Identifier: MIT */
/*
 * The one parser for numbers, sizes, times and booleans (iommusim/units.h):
 * the grammar is there; this file keeps every result exact.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <iommusim/units.h>

#include "base/util_int.h"

/* A real is copied without its '_' for strtod(); longer ones are refused. */
#define REAL_MAX_CHARS 127
/* Exponents beyond this only make 0 or an overflow; stop counting there. */
#define EXP_CAP 100000

/*
 * A unit's multiplier as 2^two * 5^five: powers of 1024 are 2^(10n), powers
 * of ten 2^k * 5^k, so the scaling below never rounds.
 */
struct unit_def {
	const char *name; /* matched in any case */
	enum iommusim_unit unit;
	unsigned two, five;
};

static const struct unit_def units[] = {
	{ "b", IOMMUSIM_UNIT_BYTES, 0, 0 },    { "k", IOMMUSIM_UNIT_BYTES, 10, 0 },
	{ "kb", IOMMUSIM_UNIT_BYTES, 10, 0 },  { "kib", IOMMUSIM_UNIT_BYTES, 10, 0 },
	{ "m", IOMMUSIM_UNIT_BYTES, 20, 0 },   { "mb", IOMMUSIM_UNIT_BYTES, 20, 0 },
	{ "mib", IOMMUSIM_UNIT_BYTES, 20, 0 }, { "g", IOMMUSIM_UNIT_BYTES, 30, 0 },
	{ "gb", IOMMUSIM_UNIT_BYTES, 30, 0 },  { "gib", IOMMUSIM_UNIT_BYTES, 30, 0 },
	{ "t", IOMMUSIM_UNIT_BYTES, 40, 0 },   { "tb", IOMMUSIM_UNIT_BYTES, 40, 0 },
	{ "tib", IOMMUSIM_UNIT_BYTES, 40, 0 }, { "ns", IOMMUSIM_UNIT_NS, 0, 0 },
	{ "nsec", IOMMUSIM_UNIT_NS, 0, 0 },    { "us", IOMMUSIM_UNIT_NS, 3, 3 },
	{ "usec", IOMMUSIM_UNIT_NS, 3, 3 },    { "ms", IOMMUSIM_UNIT_NS, 6, 6 },
	{ "msec", IOMMUSIM_UNIT_NS, 6, 6 },    { "s", IOMMUSIM_UNIT_NS, 9, 9 },
	{ "sec", IOMMUSIM_UNIT_NS, 9, 9 },
};

/* A number as written: mant * 10^dexp, then its unit text. */
struct num {
	uint64_t mant; /* the significant digits, trailing zeros moved to dexp */
	long dexp;
	bool overflow; /* the significant digits do not fit 64 bits */
	bool hex; /* 0x... */
	const char *unit; /* what follows the number ("" for none) */
};

static bool
is_digit(char c, bool hex)
{
	return (c >= '0' && c <= '9') ||
	       (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
}

static unsigned
digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned)(c - '0');
	return (unsigned)((c | 0x20) - 'a' + 10);
}

/* Past a run of digits with single '_' between them; @return how many digits. */
static size_t
skip_digits(const char **p, bool hex)
{
	size_t count = 0;

	for (; is_digit(**p, hex); (*p)++, count++)
		if ((*p)[1] == '_' && is_digit((*p)[2], hex))
			(*p)++;
	return count;
}

/*
 * The number at the start of @p s (the grammar of iommusim/units.h);
 * n->unit points at what follows it.
 * @return 0; -EINVAL if @p s does not start with a number
 */
IMS_NODISCARD static int
scan(const char *s, struct num *n)
{
	const char *p = s, *q;
	size_t nint, nfrac = 0, i, k, zeros = 0;
	long e = 0;

	memset(n, 0, sizeof(*n));
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		q = p;
		if (!skip_digits(&p, true))
			return -EINVAL;
		n->hex = true;
		n->unit = p;
		for (; q < p; q++) {
			unsigned d = digit_value(*q);

			if (*q == '_')
				continue;
			if (n->mant > (UINT64_MAX - d) / 16)
				n->overflow = true;
			n->mant = n->mant * 16 + d;
		}
		return 0;
	}
	nint = skip_digits(&p, false);
	if (*p == '.') {
		p++;
		nfrac = skip_digits(&p, false);
		if (!nfrac)
			return -EINVAL; /* "5." and "." */
	}
	if (!nint && !nfrac)
		return -EINVAL;
	if ((*p == 'e' || *p == 'E') &&
	    (is_digit(p[1], false) || ((p[1] == '+' || p[1] == '-') && is_digit(p[2], false)))) {
		bool neg = p[1] == '-';

		p += is_digit(p[1], false) ? 1 : 2;
		for (; is_digit(*p, false); p++) {
			if (e < EXP_CAP)
				e = e * 10 + (*p - '0');
			if (p[1] == '_' && is_digit(p[2], false))
				p++;
		}
		e = neg ? -e : e;
	}
	n->unit = p;
	/*
	 * value = mant * 10^dexp with mant's last digit non-zero: digit i of the
	 * integer and fraction digits is worth 10^(nint - 1 - i + e), and zeros
	 * join the mantissa only when a non-zero digit follows them.
	 */
	for (i = 0, q = s; i < nint + nfrac; q++) {
		unsigned d;

		if (*q == '_' || *q == '.')
			continue;
		d = digit_value(*q);
		if (!d) {
			zeros++;
		} else {
			/* mant * 10^(zeros + 1) + d: the digit one place after the zeros */
			for (k = 0; n->mant && k <= zeros; k++) {
				if (n->mant > UINT64_MAX / 10)
					n->overflow = true;
				n->mant *= 10;
			}
			if (n->mant > UINT64_MAX - d)
				n->overflow = true;
			n->mant += d;
			zeros = 0;
			n->dexp = (long)nint - 1 - (long)i + e;
		}
		i++;
	}
	return 0;
}

/* The unit named @p name, or NULL. */
static const struct unit_def *
unit_find(const char *name)
{
	size_t i;

	for (i = 0; i < IMS_ARRAY_SIZE(units); i++)
		if (!strcasecmp(name, units[i].name))
			return &units[i];
	return NULL;
}

static bool
mul_pow(uint64_t *v, uint64_t base, long times)
{
	for (; times > 0; times--) {
		if (*v > UINT64_MAX / base)
			return false;
		*v *= base;
	}
	return true;
}

static bool
div_pow(uint64_t *v, uint64_t base, long times)
{
	for (; times > 0; times--) {
		if (*v % base)
			return false;
		*v /= base;
	}
	return true;
}

/*
 * mant * 10^dexp * 2^two * 5^five, exactly.
 * @return 0; -EINVAL (not a whole number); -ERANGE (beyond 64 bits)
 */
IMS_NODISCARD static int
scale(const struct num *n, unsigned two, unsigned five, uint64_t *out)
{
	uint64_t v = n->mant;
	long e2 = n->dexp + (long)two, e5 = n->dexp + (long)five;

	if (n->overflow)
		return -ERANGE;
	if (!v) {
		*out = 0;
		return 0;
	}
	/* Divide first: a value that is not whole fails here, whatever its size. */
	if (!div_pow(&v, 5, -e5) || !div_pow(&v, 2, -e2))
		return -EINVAL;
	if (!mul_pow(&v, 5, e5) || !mul_pow(&v, 2, e2))
		return -ERANGE;
	*out = v;
	return 0;
}

/* A number with a unit of kind @p want (or none), in base units. */
IMS_NODISCARD static int
parse_int(const char *s, enum iommusim_unit want, uint64_t bare_two, uint64_t bare_five,
	  bool bare_needs_unit, uint64_t *out, enum iommusim_unit *unit_out)
{
	const struct unit_def *u = NULL;
	struct num n;
	unsigned two = (unsigned)bare_two, five = (unsigned)bare_five;
	int ret;

	ret = scan(s, &n);
	if (ret)
		return ret;
	if (*n.unit) {
		u = unit_find(n.unit);
		if (!u || n.hex || (want != IOMMUSIM_UNIT_NONE && u->unit != want))
			return -EINVAL;
		two = u->two;
		five = u->five;
	} else if (bare_needs_unit && (n.mant || n.overflow)) {
		return -EINVAL;
	}
	ret = scale(&n, two, five, out);
	if (!ret && unit_out)
		*unit_out = u ? u->unit : IOMMUSIM_UNIT_NONE;
	return ret;
}

/* @p ret and @p v of a parse (called before, not as an argument beside v). */
IMS_NODISCARD static int
in_range(int ret, uint64_t v, uint64_t min, uint64_t max, uint64_t *out)
{
	if (ret)
		return ret;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
iommusim_count_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	struct num n;
	uint64_t v = 0;
	int ret;

	if (!s || !out)
		return -EINVAL;
	ret = scan(s, &n);
	if (!ret && *n.unit)
		ret = -EINVAL;
	if (!ret)
		ret = scale(&n, 0, 0, &v);
	return in_range(ret, v, min, max, out);
}

int
iommusim_size_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	int ret;

	if (!s || !out)
		return -EINVAL;
	ret = parse_int(s, IOMMUSIM_UNIT_BYTES, 0, 0, false, &v, NULL);
	return in_range(ret, v, min, max, out);
}

int
iommusim_time_parse(const char *s, uint64_t bare_unit_ns, uint64_t min_ns, uint64_t max_ns,
		    uint64_t *out_ns)
{
	unsigned k = 0;
	uint64_t v = 0, b = bare_unit_ns;
	int ret;

	if (!s || !out_ns)
		return -EINVAL;
	/* The bare unit is a power of ten of ns (1, 1000, ... 1e9), or 0. */
	while (b > 1 && b % 10 == 0) {
		b /= 10;
		k++;
	}
	if (bare_unit_ns && b != 1)
		return -EINVAL;
	ret = parse_int(s, IOMMUSIM_UNIT_NS, k, k, !bare_unit_ns, &v, NULL);
	return in_range(ret, v, min_ns, max_ns, out_ns);
}

int
iommusim_quantity_parse(const char *s, uint64_t *out, enum iommusim_unit *unit_out)
{
	enum iommusim_unit u = IOMMUSIM_UNIT_NONE;
	uint64_t v = 0;
	int ret;

	if (!s || !out || !unit_out)
		return -EINVAL;
	ret = parse_int(s, IOMMUSIM_UNIT_NONE, 0, 0, false, &v, &u);
	if (ret)
		return ret;
	*out = v;
	*unit_out = u;
	return 0;
}

int
iommusim_real_parse(const char *s, double min, double max, double *out)
{
	char buf[REAL_MAX_CHARS + 1];
	struct num n;
	size_t i, len = 0;
	double v;
	char *end;

	if (!s || !out || scan(s, &n) || n.hex || *n.unit)
		return -EINVAL;
	for (i = 0; s + i < n.unit; i++) {
		if (s[i] == '_')
			continue;
		if (len == REAL_MAX_CHARS)
			return -EINVAL;
		buf[len++] = s[i];
	}
	buf[len] = '\0';
	/* The grammar was checked above, so strtod() reads all of buf. */
	errno = 0;
	v = strtod(buf, &end);
	ims_assert(*end == '\0');
	if (!isfinite(v) || (errno == ERANGE && v != 0))
		return -ERANGE;
	if (!(v >= min && v <= max))
		return -ERANGE;
	*out = v;
	return 0;
}

int
iommusim_bool_parse(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t i;

	if (!s || !out)
		return -EINVAL;
	for (i = 0; i < IMS_ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
			*out = !strcasecmp(s, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}
