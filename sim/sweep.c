/* SPDX-License-Identifier: MIT */
/*
 * Sweeps: the grid, each point's configuration, the measures with their
 * statistics, and the rows of the three output formats (sweep.h,
 * docs/sweeps.md).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "sweep.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

__attribute__((format(printf, 3, 4))) static int
fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static void fmt_num(char *buf, size_t len, double v);

/* ---- the grid ---------------------------------------------------------- */

static void
axis_free(struct sweep_axis *a)
{
	free(a->values);
	free(a->profiles);
	memset(a, 0, sizeof(*a));
}

void
sweep_grid_free(struct sweep_grid *g)
{
	size_t i;

	for (i = 0; i < g->naxes; i++)
		axis_free(&g->axes[i]);
	g->naxes = 0;
	g->npoints = 1;
}

/* One value of a growing axis. */
static int
axis_push(struct sweep_axis *a, const struct iommusim_key_value *v,
	  const struct iommusim_profile *prof, size_t *cap)
{
	if (a->nvalues == *cap) {
		size_t n = *cap ? *cap * 2 : 8;
		void *nv = realloc(a->values, n * sizeof(*a->values));

		if (!nv)
			return -ENOMEM;
		a->values = nv;
		nv = realloc(a->profiles, n * sizeof(*a->profiles));
		if (!nv)
			return -ENOMEM;
		a->profiles = nv;
		*cap = n;
	}
	a->values[a->nvalues] = v ? *v : (struct iommusim_key_value){ 0 };
	a->profiles[a->nvalues] = prof;
	a->nvalues++;
	return 0;
}

static bool
value_equal(const struct sweep_axis *a, size_t i, size_t j)
{
	if (a->kind == SWEEP_AXIS_PLATFORM)
		return a->profiles[i] == a->profiles[j];
	if (a->key->type == IOMMUSIM_KEY_REAL)
		return a->values[i].d == a->values[j].d;
	return a->values[i].u == a->values[j].u;
}

/*
 * A range's step: "x4" (or "*4") multiplies, "+4k" or "4k" adds. For a real
 * key a factor may be any real above 1; for the others an integer >= 2.
 */
struct step {
	bool mul;
	struct iommusim_key_value by;
};

/* Read @p s as a quantity of @p k's kind by its grammar alone: units and
 * suffixes, not its range, multiple or power of two. */
static int
parse_loose(const struct iommusim_key *k, const char *s, struct iommusim_key_value *v, char *msg,
	    size_t len)
{
	struct iommusim_key loose = *k;

	loose.min = 0;
	loose.max = UINT64_MAX;
	loose.min_real = 0;
	loose.max_real = INFINITY;
	loose.multiple = 0;
	loose.pow2 = false;
	return iommusim_key_parse(&loose, s, v, msg, len);
}

static int
parse_step(const struct sweep_axis *a, const char *s, struct step *st, char *msg, size_t len)
{
	const struct iommusim_key *k = a->key;
	char *end;

	if (*s == 'x' || *s == '*') {
		st->mul = true;
		errno = 0;
		if (k->type == IOMMUSIM_KEY_REAL) {
			st->by.d = strtod(s + 1, &end);
			if (errno || end == s + 1 || *end || !(st->by.d > 1.0) || isinf(st->by.d))
				return fail(msg, len, "the factor '%s' is not a number above 1",
					    s + 1);
		} else {
			if (!isdigit((unsigned char)s[1]))
				return fail(msg, len, "the factor '%s' is not a whole number",
					    s + 1);
			st->by.u = strtoull(s + 1, &end, 10);
			if (errno || *end || st->by.u < 2)
				return fail(msg, len,
					    "the factor '%s' is not a whole number of at least 2",
					    s + 1);
		}
		return 0;
	}
	st->mul = false;
	if (*s == '+')
		s++;
	/* The step is a quantity of the key's kind, but may be outside its
	 * range (fq_size's step 256 is fine, a step of 1 ms for a key of at
	 * least 10 ms too): read it by the grammar alone. */
	if (parse_loose(k, s, &st->by, msg, len))
		return -EINVAL;
	if (k->type == IOMMUSIM_KEY_REAL ? !(st->by.d > 0.0) : st->by.u == 0)
		return fail(msg, len, "the step '%s' is not above 0", s);
	return 0;
}

/* Check a generated value by the key's own rules: format, then parse. */
static int
check_value(const struct sweep_axis *a, const struct iommusim_key_value *v, char *msg, size_t len)
{
	struct iommusim_key_value back;
	char text[64];

	if (iommusim_key_format(a->key, v, text, sizeof(text)))
		return fail(msg, len, "a value too long to write");
	return iommusim_key_parse(a->key, text, &back, msg, len);
}

static int
parse_range(struct sweep_axis *a, const char *item, const char *dots, uint64_t max_points,
	    size_t *cap, char *msg, size_t len)
{
	const struct iommusim_key *k = a->key;
	struct iommusim_key_value lo, hi, v;
	char first[64], last[64], sub[224];
	const char *colon = strchr(dots + 2, ':');
	struct step st = { .mul = false, .by = { .u = 1, .d = 1.0 } };
	size_t n1 = (size_t)(dots - item), n2;
	int ret;

	if (k->type == IOMMUSIM_KEY_ENUM || k->type == IOMMUSIM_KEY_BOOL)
		return fail(msg, len, "a range of %s values (list them: a,b,c)",
			    iommusim_key_type_name(k->type));
	n2 = colon ? (size_t)(colon - dots - 2) : strlen(dots + 2);
	if (!n1 || !n2 || n1 >= sizeof(first) || n2 >= sizeof(last))
		return fail(msg, len, "a range is FIRST..LAST[:STEP]");
	memcpy(first, item, n1);
	first[n1] = '\0';
	memcpy(last, dots + 2, n2);
	last[n2] = '\0';
	/* The first is a value; the last a bound the values stay under
	 * (fq_size=256..100000:x2 ends at 65536). */
	if (iommusim_key_parse(k, first, &lo, sub, sizeof(sub)) ||
	    parse_loose(k, last, &hi, sub, sizeof(sub)))
		return fail(msg, len, "%s", sub);
	if (colon) {
		if (!colon[1])
			return fail(msg, len, "an empty step after ':'");
		if (parse_step(a, colon + 1, &st, sub, sizeof(sub)))
			return fail(msg, len, "%s", sub);
	} else if (k->type == IOMMUSIM_KEY_TIME || k->type == IOMMUSIM_KEY_REAL ||
		   k->type == IOMMUSIM_KEY_SIZE) {
		return fail(msg, len, "a range of a %s needs a step (:x2, :+%s)",
			    iommusim_key_type_name(k->type),
			    k->type == IOMMUSIM_KEY_TIME ? "1ms" :
			    k->type == IOMMUSIM_KEY_SIZE ? "4k" :
							   "0.5");
	}
	if (k->type == IOMMUSIM_KEY_REAL ? hi.d < lo.d : hi.u < lo.u)
		return fail(msg, len, "the range ends below its start");
	if (k->type == IOMMUSIM_KEY_REAL && st.mul && lo.d <= 0.0)
		return fail(msg, len, "a factor needs a start above 0");
	if (k->type != IOMMUSIM_KEY_REAL && st.mul && lo.u == 0)
		return fail(msg, len, "a factor needs a start above 0");

	v = lo;
	for (unsigned long i = 0;; i++) {
		if (k->type == IOMMUSIM_KEY_REAL) {
			/* From the start each time, so rounding does not add up. */
			v.d = st.mul ? lo.d * pow(st.by.d, (double)i) : lo.d + st.by.d * (double)i;
			if (v.d > hi.d * (1 + 1e-12))
				break;
			/* Within rounding of the end is the end (0.1..0.3:+0.1 ends
			 * at 0.3, not 0.30000000000000004). */
			if (fabs(v.d - hi.d) <= 1e-12 * fabs(hi.d))
				v.d = hi.d;
		} else if (i) {
			uint64_t next;

			if (st.mul ? __builtin_mul_overflow(v.u, st.by.u, &next) :
				     __builtin_add_overflow(v.u, st.by.u, &next))
				break;
			if (next > hi.u)
				break;
			v.u = next;
		}
		if (a->nvalues >= max_points)
			return fail(msg, len, "more than %" PRIu64 " values (--max-points)",
				    max_points);
		ret = check_value(a, &v, sub, sizeof(sub));
		if (ret) {
			char text[64] = "?";

			/* A value too long to write keeps the "?". */
			if (iommusim_key_format(k, &v, text, sizeof(text)))
				snprintf(text, sizeof(text), "?");
			return fail(msg, len, "the range reaches %s: %s", text, sub);
		}
		ret = axis_push(a, &v, NULL, cap);
		if (ret)
			return ret;
	}
	return 0;
}

static const struct iommusim_key *
axis_key(const char *name, enum sweep_axis_kind *kind)
{
	if (!strcmp(name, "platform")) {
		*kind = SWEEP_AXIS_PLATFORM;
		return NULL;
	}
	if (!strcmp(name, "policy")) {
		*kind = SWEEP_AXIS_POLICY;
		return iommusim_key_find(IOMMUSIM_KEY_FILE, "policy");
	}
	*kind = SWEEP_AXIS_KEY;
	return iommusim_key_find(IOMMUSIM_KEY_JOB | IOMMUSIM_KEY_POLICY | IOMMUSIM_KEY_PROFILE,
				 name);
}

static void
axis_column(struct sweep_axis *a)
{
	const char *suffix = "";
	size_t n = strlen(a->name);

	if (a->kind == SWEEP_AXIS_KEY && a->key->type == IOMMUSIM_KEY_TIME)
		suffix = "_ns";
	else if (a->kind == SWEEP_AXIS_KEY && a->key->type == IOMMUSIM_KEY_SIZE)
		suffix = strcmp(a->key->unit, "bytes/s") ? "_bytes" : "_bytes_per_s";
	if (*suffix && n > strlen(suffix) && !strcmp(a->name + n - strlen(suffix), suffix))
		suffix = "";
	snprintf(a->column, sizeof(a->column), "%s%s", a->name, suffix);
}

/* The grid's size with axis @p skip counted as @p n values. */
static int
grid_size(const struct sweep_grid *g, size_t skip, uint64_t n, uint64_t *out)
{
	uint64_t p = 1;
	size_t i;

	for (i = 0; i < g->naxes; i++) {
		if (__builtin_mul_overflow(p, i == skip ? n : g->axes[i].nvalues, &p))
			return -ERANGE;
	}
	if (skip == g->naxes && __builtin_mul_overflow(p, n, &p))
		return -ERANGE;
	*out = p;
	return 0;
}

int
sweep_grid_add(struct sweep_grid *g, const char *spec, const char *where, uint64_t max_points,
	       char *err, size_t err_len)
{
	struct sweep_axis a = { 0 };
	const char *eq = strchr(spec, '=');
	char msg[320], item[128];
	const char *s, *e;
	size_t cap = 0, i, j, slot;
	uint64_t total;
	int ret;

	if (!eq || eq == spec)
		return fail(err, err_len, "%s: '%s': an axis is KEY=LIST (fq_size=256..65536:x2)",
			    where, spec);
	if ((size_t)(eq - spec) >= sizeof(a.name))
		return fail(err, err_len, "%s: '%s': the key is too long", where, spec);
	memcpy(a.name, spec, (size_t)(eq - spec));
	a.name[eq - spec] = '\0';
	snprintf(a.where, sizeof(a.where), "%s", where);
	a.key = axis_key(a.name, &a.kind);
	if (a.kind == SWEEP_AXIS_KEY && !a.key) {
		if (!strcmp(a.name, "seed"))
			return fail(err, err_len,
				    "%s: '%s': the seed is not an axis: replicates take their own "
				    "(--reps N, --seed)",
				    where, spec);
		return fail(err, err_len, "%s: '%s': unknown key '%s' (every key: 'iommusim keys')",
			    where, spec, a.name);
	}
	if (a.kind == SWEEP_AXIS_KEY && !a.key->width)
		return fail(err, err_len, "%s: '%s': %s cannot be swept", where, spec, a.name);
	axis_column(&a);

	for (s = eq + 1;; s = e + 1) {
		const char *dots;
		size_t n;

		e = strchr(s, ',');
		if (!e)
			e = s + strlen(s);
		n = (size_t)(e - s);
		if (!n) {
			ret = fail(err, err_len, "%s: '%s': an empty value%s", where, spec,
				   *e ? " between commas" : "");
			goto out;
		}
		if (n >= sizeof(item)) {
			ret = fail(err, err_len, "%s: '%.*s': too long", where, (int)n, s);
			goto out;
		}
		memcpy(item, s, n);
		item[n] = '\0';
		dots = strstr(item, "..");
		if (a.kind == SWEEP_AXIS_PLATFORM) {
			const struct iommusim_profile *p = iommusim_profile_find(item);

			if (!p) {
				ret = fail(
					err, err_len,
					"%s: '%s': unknown platform (see 'iommusim profile list')",
					where, item);
				goto out;
			}
			ret = axis_push(&a, NULL, p, &cap);
		} else if (dots) {
			ret = parse_range(&a, item, dots, max_points, &cap, msg, sizeof(msg));
			if (ret == -EINVAL)
				fail(err, err_len, "%s: '%s=%s': %s", where, a.name, item, msg);
		} else {
			struct iommusim_key_value v;

			ret = iommusim_key_parse(a.key, item, &v, msg, sizeof(msg));
			if (ret)
				fail(err, err_len, "%s: '%s=%s': %s", where, a.name, item, msg);
			else
				ret = axis_push(&a, &v, NULL, &cap);
		}
		if (ret)
			goto out;
		if (a.nvalues > max_points) {
			ret = fail(err, err_len,
				   "%s: '%s': more than %" PRIu64 " values (--max-points)", where,
				   a.name, max_points);
			goto out;
		}
		if (!*e)
			break;
	}
	/* A value twice would run the same point twice under two numbers. */
	for (i = 0; i < a.nvalues; i++) {
		for (j = 0; j < i; j++) {
			if (value_equal(&a, i, j)) {
				char text[64];
				struct sweep_grid one = { .naxes = 1, .npoints = a.nvalues };

				one.axes[0] = a;
				sweep_point_value_text(&one, i, 0, text, sizeof(text));
				ret = fail(err, err_len, "%s: '%s': the value %s is there twice",
					   where, a.name, text);
				goto out;
			}
		}
	}
	for (slot = 0; slot < g->naxes && strcmp(g->axes[slot].name, a.name); slot++)
		;
	if (slot == g->naxes && g->naxes == SWEEP_MAX_AXES) {
		ret = fail(err, err_len, "%s: '%s': more than %d axes", where, a.name,
			   SWEEP_MAX_AXES);
		goto out;
	}
	if (grid_size(g, slot, a.nvalues, &total) || total > max_points) {
		ret = fail(err, err_len,
			   "%s: '%s': the grid would have more than %" PRIu64
			   " points (--max-points)",
			   where, a.name, max_points);
		goto out;
	}
	if (slot < g->naxes)
		axis_free(&g->axes[slot]);
	else
		g->naxes++;
	g->axes[slot] = a;
	g->npoints = total;
	return 0;
out:
	if (ret == -ENOMEM)
		fail(err, err_len, "out of memory");
	axis_free(&a);
	return ret;
}

/* "FILE:LINE", the path cut from the left ("...tail/x.ini:5") when it is
 * too long, so the line number always survives. */
static void
where_of(char *buf, size_t len, const char *path, unsigned line)
{
	char num[16];
	size_t n = strlen(path), room;

	snprintf(num, sizeof(num), ":%u", line);
	room = len - 1 - strlen(num);
	if (n <= room)
		snprintf(buf, len, "%s%s", path, num);
	else
		snprintf(buf, len, "...%s%s", path + n - (room - 3), num);
}

/*
 * The [sweep] section of a job file, read here rather than by the library's
 * job-file parser (which skips it): KEY=LIST lines as inih would split them
 * (white space around the key and value dropped; ';' or '#' starting a
 * comment line; ' ;' starting an inline comment).
 */
int
sweep_grid_read_file(struct sweep_grid *g, const char *path, unsigned *reps, uint64_t max_points,
		     char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	char line[1024], where[sizeof(((struct sweep_axis *)0)->where)];
	bool in_sweep = false;
	unsigned lineno = 0;
	int ret = 0;

	if (!f) {
		ret = -errno;
		fail(err, err_len, "%s: %s", path, strerror(errno));
		return ret;
	}
	while (!ret && fgets(line, sizeof(line), f)) {
		char *s = line, *e, *eq, *c;

		lineno++;
		s[strcspn(s, "\r\n")] = '\0';
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == ';' || *s == '#')
			continue;
		if (*s == '[') {
			e = strchr(s, ']');
			if (!e) /* the job-file parser has refused it already */
				continue;
			*e = '\0';
			s++;
			while (isspace((unsigned char)*s))
				s++;
			for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
				e[-1] = '\0';
			in_sweep = !strcasecmp(s, "sweep");
			continue;
		}
		if (!in_sweep)
			continue;
		for (c = s; *c; c++) {
			if (*c == ';' && c > s && isspace((unsigned char)c[-1])) {
				*c = '\0';
				break;
			}
		}
		eq = strpbrk(s, "=:");
		where_of(where, sizeof(where), path, lineno);
		if (!eq) {
			ret = fail(err, err_len, "%s: '%s': a [sweep] line is KEY=LIST", where, s);
			break;
		}
		/* Drop the white space around '=' and at the end. */
		for (e = eq; e > s && isspace((unsigned char)e[-1]); e--)
			;
		{
			char key[64], spec[1100];
			char *v = eq + 1;
			size_t kn = (size_t)(e - s);

			while (isspace((unsigned char)*v))
				v++;
			for (e = v + strlen(v); e > v && isspace((unsigned char)e[-1]); e--)
				e[-1] = '\0';
			if (!kn || kn >= sizeof(key)) {
				ret = fail(err, err_len, "%s: a [sweep] line is KEY=LIST", where);
				break;
			}
			memcpy(key, s, kn);
			key[kn] = '\0';
			if (!strcmp(key, "reps")) {
				char *end;
				unsigned long n;

				errno = 0;
				n = strtoul(v, &end, 10);
				if (!isdigit((unsigned char)*v) || errno || *end || n < 1 ||
				    n > SWEEP_MAX_REPS) {
					ret = fail(err, err_len,
						   "%s: bad value '%s' for reps (1 to %u)", where,
						   v, SWEEP_MAX_REPS);
					break;
				}
				*reps = (unsigned)n;
				continue;
			}
			snprintf(spec, sizeof(spec), "%s=%s", key, v);
			ret = sweep_grid_add(g, spec, where, max_points, err, err_len);
		}
	}
	if (!ret && ferror(f))
		ret = fail(err, err_len, "%s: read error", path);
	fclose(f);
	return ret;
}

size_t
sweep_point_index(const struct sweep_grid *g, uint64_t p, size_t a)
{
	size_t i;

	for (i = g->naxes; i-- > a + 1;)
		p /= g->axes[i].nvalues;
	return (size_t)(p % g->axes[a].nvalues);
}

void
sweep_point_value_text(const struct sweep_grid *g, uint64_t p, size_t a, char *buf, size_t len)
{
	const struct sweep_axis *ax = &g->axes[a];
	size_t i = sweep_point_index(g, p, a);

	if (ax->kind == SWEEP_AXIS_PLATFORM) {
		snprintf(buf, len, "%s", ax->profiles[i]->name);
		return;
	}
	/* Numbers bare, in the unit the column names (ns, bytes), for tools. */
	switch (ax->key->type) {
	case IOMMUSIM_KEY_COUNT:
	case IOMMUSIM_KEY_SIZE:
	case IOMMUSIM_KEY_TIME:
	case IOMMUSIM_KEY_BOOL:
		snprintf(buf, len, "%" PRIu64, ax->values[i].u);
		return;
	case IOMMUSIM_KEY_REAL:
		fmt_num(buf, len, ax->values[i].d);
		return;
	case IOMMUSIM_KEY_ENUM:
		break;
	}
	if (iommusim_key_format(ax->key, &ax->values[i], buf, len))
		snprintf(buf, len, "?");
}

void
sweep_time_text(uint64_t ns, char *buf, size_t len)
{
	static const struct {
		uint64_t ns;
		const char *unit;
	} units[] = { { 1000000000u, "s" }, { 1000000u, "ms" }, { 1000u, "us" } };
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (ns && ns % units[i].ns == 0) {
			snprintf(buf, len, "%" PRIu64 "%s", ns / units[i].ns, units[i].unit);
			return;
		}
	snprintf(buf, len, "%" PRIu64 "ns", ns);
}

void
sweep_point_label(const struct sweep_grid *g, uint64_t p, char *buf, size_t len)
{
	size_t a, off = 0;
	char v[64];

	buf[0] = '\0';
	for (a = 0; a < g->naxes && off < len; a++) {
		const struct sweep_axis *ax = &g->axes[a];

		if (ax->kind == SWEEP_AXIS_KEY && ax->key->type == IOMMUSIM_KEY_TIME)
			sweep_time_text(ax->values[sweep_point_index(g, p, a)].u, v, sizeof(v));
		else
			sweep_point_value_text(g, p, a, v, sizeof(v));
		off += (size_t)snprintf(buf + off, len - off, "%s%s=%s", a ? " " : "",
					g->axes[a].name, v);
	}
	if (!g->naxes)
		snprintf(buf, len, "the base job");
}

/* ---- files --------------------------------------------------------------- */

char *
sweep_read_file(const char *path, size_t *len, int *ret)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *nb;
	size_t cap = 0, n = 0, got;

	*ret = 0;
	if (!f) {
		*ret = -errno;
		return NULL;
	}
	for (;;) {
		if (n + 65536 + 1 > cap) {
			cap = (n + 65536 + 1) * 2;
			nb = realloc(buf, cap);
			if (!nb) {
				*ret = -ENOMEM;
				break;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	if (!*ret && ferror(f))
		*ret = -EIO;
	fclose(f);
	if (*ret) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* ---- one point's configuration ------------------------------------------ */

int
sweep_point_config(const struct sweep_grid *g, const struct sweep_base *b, uint64_t p,
		   struct iommusim_job *job, struct iommusim_profile *profile,
		   struct iommusim_policy *policy, char *err, size_t err_len)
{
	const struct iommusim_profile *base = NULL;
	char msg[512], label[256];
	size_t a, i;

	sweep_point_label(g, p, label, sizeof(label));
	for (a = 0; a < g->naxes; a++)
		if (g->axes[a].kind == SWEEP_AXIS_PLATFORM)
			base = g->axes[a].profiles[sweep_point_index(g, p, a)];
	if (!base)
		base = iommusim_profile_find(b->platform);
	if (!base)
		return fail(err, err_len, "unknown platform '%s'", b->platform);
	*profile = *base;
	*job = b->jf->job;
	if (iommusim_jobfile_apply_overrides(b->jf, b->path, profile, msg, sizeof(msg)))
		return fail(err, err_len, "%s", msg);
	if (b->jf->has_policy)
		*policy = b->jf->policy;
	else
		*policy = (struct iommusim_policy){ .kind = IOMMUSIM_POLICY_KERNEL };
	for (i = 0; i < b->nsets; i++)
		if (output_apply_set(b->sets[i], job, policy, profile, msg, sizeof(msg)))
			return fail(err, err_len, "%s", msg);
	if (b->has_policy_kind)
		policy->kind = b->policy_kind;
	for (a = 0; a < g->naxes; a++) {
		const struct sweep_axis *ax = &g->axes[a];
		const struct iommusim_key_value *v = &ax->values[sweep_point_index(g, p, a)];
		void *obj;

		switch (ax->kind) {
		case SWEEP_AXIS_PLATFORM:
			break;
		case SWEEP_AXIS_POLICY:
			policy->kind = (enum iommusim_policy_kind)v->u;
			break;
		case SWEEP_AXIS_KEY:
			obj = ax->key->scope == IOMMUSIM_KEY_JOB    ? (void *)job :
			      ax->key->scope == IOMMUSIM_KEY_POLICY ? (void *)policy :
								      (void *)profile;
			/* The value passed the key's parse when the axis was read. */
			if (iommusim_key_store(ax->key, obj, v))
				return fail(err, err_len, "%s: %s does not take this value", label,
					    ax->name);
			break;
		}
	}
	return 0;
}

uint64_t
sweep_rep_seed(uint64_t base, unsigned r)
{
	uint64_t z;

	if (!r)
		return base;
	/* splitmix64 (Steele, Lea and Flood 2014) of the base and r. */
	z = base + (uint64_t)r * 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return z & IOMMUSIM_RUN_SEED_MAX;
}

/* ---- measures and statistics -------------------------------------------- */

const struct sweep_measure sweep_measures[SWEEP_M_NR] = {
	[SWEEP_M_IOPS] = { "iops", "1/s", "I/Os per simulated second" },
	[SWEEP_M_THROUGHPUT] = { "throughput_bytes_per_s", "bytes/s",
				 "bytes per simulated second" },
	[SWEEP_M_CYCLES_PER_IO] = { "cycles_per_io", "cycles", "CPU cycles per I/O, all CPUs" },
	[SWEEP_M_CPU_UTILISATION] = { "cpu_utilisation", "fraction", "busy share of the CPUs" },
	[SWEEP_M_LATENCY_P50] = { "latency_p50_ns", "ns", "median I/O latency" },
	[SWEEP_M_LATENCY_P99] = { "latency_p99_ns", "ns", "99th percentile of the I/O latency" },
	[SWEEP_M_EXPOSURE_P50] = { "exposure_p50_ns", "ns",
				   "median exposure window: lazy unmap to its flush" },
	[SWEEP_M_EXPOSURE_P99] = { "exposure_p99_ns", "ns",
				   "99th percentile of the exposure window" },
	[SWEEP_M_EXPOSURE_MAX] = { "exposure_max_ns", "ns", "longest exposure window" },
	[SWEEP_M_EXPOSURES] = { "exposures", "unmaps",
				"lazy unmaps whose window a flush closed (the percentiles' count)" },
	[SWEEP_M_EXPOSURE_CENSORED] = { "exposure_censored", "unmaps",
					"lazy unmaps no flush covered before the end" },
	[SWEEP_M_FQ_BYTES] = { "fq_bytes", "bytes", "the flush queues' memory" },
	[SWEEP_M_FQ_MAX_ENTRIES] = { "fq_max_entries", "entries", "flush-queue occupancy peak" },
	[SWEEP_M_GLOBAL_RPCITS] = { "global_rpcits", "RPCITs", "global refreshes (either API)" },
	[SWEEP_M_RPCITS] = { "rpcits", "RPCITs", "every refresh the platform handled" },
	[SWEEP_M_STATUS16] = { "status16", "events", "cc 1 / status 16 answers" },
	[SWEEP_M_ENOMEM_RECOVERIES] = { "enomem_recoveries", "events",
					"global refreshes after -ENOMEM" },
	[SWEEP_M_MAP_ERRORS] = { "map_errors", "mappings", "DMA mappings that failed" },
	[SWEEP_M_ISM_EVENTS] = { "ism_events", "events", "in-use ISM IOVAs exposed" },
};

void
sweep_measures_of(const struct iommusim_run_result *r, double out[SWEEP_M_NR])
{
	out[SWEEP_M_IOPS] = r->iops;
	out[SWEEP_M_THROUGHPUT] = r->bytes_per_s;
	out[SWEEP_M_CYCLES_PER_IO] = (double)r->cpu_cycles_per_io;
	out[SWEEP_M_CPU_UTILISATION] = r->cpu_utilisation;
	out[SWEEP_M_LATENCY_P50] = (double)r->latency.p50;
	out[SWEEP_M_LATENCY_P99] = (double)r->latency.p99;
	out[SWEEP_M_EXPOSURE_P50] = (double)r->exposure.p50;
	out[SWEEP_M_EXPOSURE_P99] = (double)r->exposure.p99;
	out[SWEEP_M_EXPOSURE_MAX] = (double)r->exposure.max;
	out[SWEEP_M_EXPOSURES] = (double)r->exposure.count;
	out[SWEEP_M_EXPOSURE_CENSORED] = (double)r->exposure_censored;
	out[SWEEP_M_FQ_BYTES] = (double)r->fq_bytes;
	out[SWEEP_M_FQ_MAX_ENTRIES] = (double)r->fq_max_entries;
	out[SWEEP_M_GLOBAL_RPCITS] = (double)output_global_rpcits(r);
	out[SWEEP_M_RPCITS] = (double)r->rpcits;
	out[SWEEP_M_STATUS16] = (double)r->status16;
	out[SWEEP_M_ENOMEM_RECOVERIES] = (double)r->enomem_recoveries;
	out[SWEEP_M_MAP_ERRORS] = (double)r->map_errors;
	out[SWEEP_M_ISM_EVENTS] = (double)r->ism_events;
}

/* Two-sided 97.5% quantiles of Student's t, df 1..30. */
static const double t975[30] = {
	12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
	2.201,	2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
	2.080,	2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
};

double
sweep_t95(unsigned df)
{
	double z = 1.959964, z3, z5;

	if (df >= 1 && df <= 30)
		return t975[df - 1];
	/* Beyond the table, the Cornish-Fisher expansion in 1/df (Abramowitz
	 * and Stegun 26.7.5), within 1e-4 of the exact value from 31 on. */
	z3 = z * z * z;
	z5 = z3 * z * z;
	return z + (z3 + z) / (4.0 * df) + (5 * z5 + 16 * z3 + 3 * z) / (96.0 * df * df);
}

struct sweep_stat
sweep_stat_of(const double *x, unsigned n)
{
	struct sweep_stat s = { .mean = NAN, .ci95 = NAN };
	double sum = 0, ss = 0;
	unsigned i;

	if (!n)
		return s;
	for (i = 0; i < n; i++)
		sum += x[i];
	s.mean = sum / n;
	if (n < 2)
		return s;
	for (i = 0; i < n; i++)
		ss += (x[i] - s.mean) * (x[i] - s.mean);
	s.ci95 = sweep_t95(n - 1) * sqrt(ss / (n - 1)) / sqrt((double)n);
	return s;
}

/* ---- output -------------------------------------------------------------- */

int
sweep_format_parse(const char *s, enum sweep_format *out)
{
	if (!strcmp(s, "csv"))
		*out = SWEEP_CSV;
	else if (!strcmp(s, "json") || !strcmp(s, "jsonl"))
		*out = SWEEP_JSON;
	else if (!strcmp(s, "long"))
		*out = SWEEP_LONG;
	else
		return -EINVAL;
	return 0;
}

const char *
sweep_format_name(enum sweep_format f)
{
	return f == SWEEP_CSV ? "csv" : f == SWEEP_JSON ? "json" : "long";
}

/* A growing string. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool failed;
};

__attribute__((format(printf, 2, 3))) static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap : 256;

		while (cap <= b->len + (size_t)n)
			cap *= 2;
		char *ns = realloc(b->s, cap);

		if (!ns) {
			b->failed = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
}

static char *
sb_done(struct sbuf *b)
{
	if (b->failed || !b->s) {
		free(b->s);
		return b->failed ? NULL : strdup("");
	}
	return b->s;
}

/* A CSV field: quoted (RFC 4180) only when it holds a comma, quote or newline. */
static void
sb_csv_str(struct sbuf *b, const char *s)
{
	const char *c;

	if (!strpbrk(s, ",\"\n\r")) {
		sb_printf(b, "%s", s);
		return;
	}
	sb_printf(b, "\"");
	for (c = s; *c; c++)
		sb_printf(b, *c == '"' ? "\"\"" : "%c", *c);
	sb_printf(b, "\"");
}

/* A number as the shortest of %.15g..%.17g that reads back exactly; "" for
 * NaN or an infinity (no run gives one today; JSON has none either). */
static void
fmt_num(char *buf, size_t len, double v)
{
	int prec;

	if (!isfinite(v)) {
		buf[0] = '\0';
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* The text of one configuration for the sweep's identity: every key. */
static void
config_text(struct sbuf *b, const struct iommusim_job *job, const struct iommusim_profile *prof,
	    const struct iommusim_policy *pol)
{
	const struct iommusim_key *k;
	struct iommusim_key_value v;
	char text[64], cl[256];
	size_t i;

	sb_printf(b, "job=%s;platform=%s;policy=%s;", job->name, prof->name,
		  iommusim_policy_name(pol->kind));
	for (i = 0; (k = iommusim_key_at(i)); i++) {
		const void *obj = k->scope == IOMMUSIM_KEY_JOB	   ? (const void *)job :
				  k->scope == IOMMUSIM_KEY_POLICY  ? (const void *)pol :
				  k->scope == IOMMUSIM_KEY_PROFILE ? (const void *)prof :
								     NULL;

		if (!obj || !k->width || iommusim_key_load(k, obj, &v) ||
		    iommusim_key_format(k, &v, text, sizeof(text)))
			continue;
		sb_printf(b, "%s=%s;", k->name, text);
	}
	cl[0] = '\0';
	if (pol->has_cmdline)
		iommusim_cmdline_format(&pol->cmdline, cl, sizeof(cl));
	sb_printf(b, "cmdline=%s\n", cl);
}

int
sweep_id(const struct sweep_grid *g, const struct sweep_base *b, unsigned reps, char id[17],
	 char *err, size_t err_len)
{
	uint64_t h = 0xcbf29ce484222325ull, p;
	struct iommusim_job job;
	struct iommusim_profile prof;
	struct iommusim_policy pol;
	struct sbuf sb = { 0 };
	size_t i;
	int ret;

	sb_printf(&sb, "iommusim %s;reps=%u;seed=%" PRIu64 "\n", iommusim_version(), reps, b->seed);
	for (p = 0; p < g->npoints; p++) {
		ret = sweep_point_config(g, b, p, &job, &prof, &pol, err, err_len);
		if (ret) {
			free(sb.s);
			return ret;
		}
		config_text(&sb, &job, &prof, &pol);
		if (sb.failed)
			break;
		/* FNV-1a as we go, so the text of a big grid is never whole. */
		for (i = 0; i < sb.len; i++)
			h = (h ^ (unsigned char)sb.s[i]) * 0x100000001b3ull;
		sb.len = 0;
	}
	for (i = 0; i < sb.len; i++)
		h = (h ^ (unsigned char)sb.s[i]) * 0x100000001b3ull;
	free(sb.s);
	if (sb.failed) {
		fail(err, err_len, "out of memory");
		return -ENOMEM;
	}
	snprintf(id, 17, "%016" PRIx64, h);
	return 0;
}

char *
sweep_header(const struct sweep_grid *g, enum sweep_format f)
{
	struct sbuf b = { 0 };
	size_t a, m;

	if (f == SWEEP_JSON)
		return strdup("");
	sb_printf(&b, "point,points,sweep");
	for (a = 0; a < g->naxes; a++)
		sb_printf(&b, ",%s", g->axes[a].column);
	sb_printf(&b, ",reps");
	if (f == SWEEP_CSV) {
		for (m = 0; m < SWEEP_M_NR; m++)
			sb_printf(&b, ",%s,%s_ci95", sweep_measures[m].name,
				  sweep_measures[m].name);
	} else {
		sb_printf(&b, ",measure,unit,mean,ci95");
	}
	sb_printf(&b, ",domain,downgrade\n");
	return sb_done(&b);
}

/* The axis value of point @p p as JSON. */
static json_t *
axis_json(const struct sweep_grid *g, uint64_t p, size_t a)
{
	const struct sweep_axis *ax = &g->axes[a];
	const struct iommusim_key_value *v;
	char text[64];

	if (ax->kind == SWEEP_AXIS_KEY) {
		v = &ax->values[sweep_point_index(g, p, a)];
		switch (ax->key->type) {
		case IOMMUSIM_KEY_REAL:
			return json_real(v->d);
		case IOMMUSIM_KEY_BOOL:
			return json_boolean(v->u);
		case IOMMUSIM_KEY_ENUM:
			break;
		default:
			return json_integer((json_int_t)v->u);
		}
	}
	sweep_point_value_text(g, p, a, text, sizeof(text));
	return json_string(text);
}

/* The JSON object of point @p p's leading members (and the result, if any). */
static json_t *
row_json(const struct sweep_grid *g, const char *id, uint64_t p, const struct sweep_point_result *r)
{
	json_t *o = json_object();
	bool ok = o != NULL;
	size_t a, m;
	char name[64];

#define PUT(k, v) ok = ok && !json_object_set_new(o, k, v)
	PUT("point", json_integer((json_int_t)p));
	PUT("points", json_integer((json_int_t)g->npoints));
	PUT("sweep", json_string(id));
	for (a = 0; a < g->naxes; a++)
		PUT(g->axes[a].column, axis_json(g, p, a));
	if (r) {
		PUT("reps", json_integer(r->reps));
		for (m = 0; m < SWEEP_M_NR; m++) {
			snprintf(name, sizeof(name), "%s_ci95", sweep_measures[m].name);
			PUT(sweep_measures[m].name,
			    isfinite(r->m[m].mean) ? json_real(r->m[m].mean) : json_null());
			PUT(name, isfinite(r->m[m].ci95) ? json_real(r->m[m].ci95) : json_null());
		}
		PUT("domain", json_string(r->domain));
		PUT("downgrade", json_string(r->downgrade));
	}
#undef PUT
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *
sweep_row_prefix(const struct sweep_grid *g, enum sweep_format f, const char *id, uint64_t p)
{
	struct sbuf b = { 0 };
	char text[64];
	size_t a;

	if (f == SWEEP_JSON) {
		json_t *o = row_json(g, id, p, NULL);
		char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		size_t n;

		json_decref(o);
		if (!s)
			return NULL;
		/* The object's text without its closing brace, then the comma
		 * before the members that follow. */
		n = strlen(s);
		s[n - 1] = ',';
		return s;
	}
	sb_printf(&b, "%" PRIu64 ",%" PRIu64 ",%s", p, g->npoints, id);
	for (a = 0; a < g->naxes; a++) {
		sweep_point_value_text(g, p, a, text, sizeof(text));
		sb_printf(&b, ",");
		sb_csv_str(&b, text);
	}
	sb_printf(&b, ",");
	return sb_done(&b);
}

char *
sweep_rows(const struct sweep_grid *g, enum sweep_format f, const char *id,
	   const struct sweep_point_result *r)
{
	struct sbuf b = { 0 };
	char *prefix, num[40], ci[40];
	size_t m;

	if (f == SWEEP_JSON) {
		json_t *o = row_json(g, id, r->point, r);
		char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

		json_decref(o);
		if (!s)
			return NULL;
		sb_printf(&b, "%s\n", s);
		free(s);
		return sb_done(&b);
	}
	prefix = sweep_row_prefix(g, f, id, r->point);
	if (!prefix)
		return NULL;
	if (f == SWEEP_CSV) {
		sb_printf(&b, "%s%u", prefix, r->reps);
		for (m = 0; m < SWEEP_M_NR; m++) {
			fmt_num(num, sizeof(num), r->m[m].mean);
			fmt_num(ci, sizeof(ci), r->m[m].ci95);
			sb_printf(&b, ",%s,%s", num, ci);
		}
		sb_printf(&b, ",");
		sb_csv_str(&b, r->domain);
		sb_printf(&b, ",");
		sb_csv_str(&b, r->downgrade);
		sb_printf(&b, "\n");
	} else {
		for (m = 0; m < SWEEP_M_NR; m++) {
			fmt_num(num, sizeof(num), r->m[m].mean);
			fmt_num(ci, sizeof(ci), r->m[m].ci95);
			sb_printf(&b, "%s%u,%s,", prefix, r->reps, sweep_measures[m].name);
			sb_csv_str(&b, sweep_measures[m].unit);
			sb_printf(&b, ",%s,%s,", num, ci);
			sb_csv_str(&b, r->domain);
			sb_printf(&b, ",");
			sb_csv_str(&b, r->downgrade);
			sb_printf(&b, "\n");
		}
	}
	free(prefix);
	return sb_done(&b);
}
