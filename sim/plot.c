/* SPDX-License-Identifier: MIT */
/*
 * Plots of sweeps and comparisons through gnuplot, and the Pareto front
 * table (plot.h, docs/sweeps.md). Every figure is a .gp script the user can
 * edit and rerun, beside the .dat it reads and the PNG and SVG it draws;
 * figures of one sweep share their axes' ranges across platforms, so they
 * can be laid side by side.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include <iommusim/pareto.h>

#include "plot.h"
#include "sweep.h"

__attribute__((format(printf, 3, 4))) static void
fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* ---- reading a results file ---------------------------------------------- */

void
plot_table_free(struct plot_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->ncols; i++)
		free(t->cols[i]);
	for (i = 0; i < t->ncols * t->nrows; i++)
		free(t->cells[i]);
	free(t->cols);
	free(t->cells);
	free(t->lines);
	memset(t, 0, sizeof(*t));
}

long
plot_table_col(const struct plot_table *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->ncols; i++)
		if (!strcmp(t->cols[i], name))
			return (long)i;
	return -1;
}

/* A growing array of cells. */
struct cells {
	char **v;
	size_t n, cap;
};

static int
cells_push(struct cells *c, char *s)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		char **nv = realloc(c->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n++] = s;
	return 0;
}

static void
cells_free(struct cells *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
}

/*
 * The fields of the CSV line at *@p s (ending at a newline outside quotes or
 * at the end), pushed on @p c; *@p s moves past the line. An empty field is
 * NULL. @return 0; -EINVAL (an unterminated quote); -ENOMEM
 */
static int
csv_line(const char **s, struct cells *c)
{
	const char *p = *s;
	int ret = 0;

	for (;;) {
		size_t cap = 16, n = 0;
		char *f = malloc(cap), *nf;
		bool quoted = *p == '"';

		if (!f)
			return -ENOMEM;
		if (quoted)
			p++;
		for (;;) {
			char ch = *p;

			if (quoted) {
				if (!ch) {
					free(f);
					return -EINVAL;
				}
				if (ch == '"') {
					if (p[1] != '"') {
						p++;
						quoted = false;
						continue;
					}
					p++;
				}
			} else if (!ch || ch == ',' || ch == '\n' || ch == '\r') {
				break;
			}
			if (n + 1 == cap) {
				nf = realloc(f, cap *= 2);
				if (!nf) {
					free(f);
					return -ENOMEM;
				}
				f = nf;
			}
			f[n++] = ch;
			p++;
		}
		f[n] = '\0';
		if (!n) {
			free(f);
			f = NULL;
		}
		ret = cells_push(c, f);
		if (ret) {
			free(f);
			return ret;
		}
		if (*p != ',')
			break;
		p++;
	}
	if (*p == '\r')
		p++;
	if (*p == '\n')
		p++;
	*s = p;
	return 0;
}

/* Note the line of the row just read. @return 0; -ENOMEM */
static int
lines_push(unsigned **lines, size_t *rows, unsigned line)
{
	unsigned *nl = realloc(*lines, (*rows + 1) * sizeof(*nl));

	if (!nl)
		return -ENOMEM;
	*lines = nl;
	nl[(*rows)++] = line;
	return 0;
}

/* Hand the header, the cells and the rows' lines to @p t. */
static void
table_take(struct plot_table *t, struct cells *head, struct cells *body, unsigned *lines,
	   size_t rows)
{
	t->ncols = head->n;
	t->cols = head->v;
	t->nrows = rows;
	t->cells = body->v;
	t->lines = lines;
}

static int
read_csv(const char *text, struct plot_table *t, char *err, size_t err_len)
{
	struct cells head = { 0 }, body = { 0 };
	const char *s = text;
	unsigned line = 1, *lines = NULL;
	size_t rows = 0, before;
	int ret;

	ret = csv_line(&s, &head);
	if (ret)
		goto out;
	while (*s) {
		if (*s == '\n' || (*s == '\r' && s[1] == '\n')) { /* a blank line */
			s += *s == '\r' ? 2 : 1;
			line++;
			continue;
		}
		line++;
		before = body.n;
		ret = csv_line(&s, &body);
		if (ret == -EINVAL) {
			fail(err, err_len, "%s:%u: an unterminated quoted field", t->path, line);
			goto out;
		}
		if (ret)
			goto out;
		if (body.n - before != head.n) {
			fail(err, err_len, "%s:%u: %zu fields, the header has %zu", t->path, line,
			     body.n - before, head.n);
			ret = -EINVAL;
			goto out;
		}
		ret = lines_push(&lines, &rows, line);
		if (ret)
			goto out;
	}
	for (size_t i = 0; i < head.n; i++)
		if (!head.v[i]) {
			fail(err, err_len, "%s:1: column %zu has no name", t->path, i + 1);
			ret = -EINVAL;
			goto out;
		}
	table_take(t, &head, &body, lines, rows);
	return 0;
out:
	cells_free(&head);
	cells_free(&body);
	free(lines);
	return ret;
}

/* A JSON value as a cell: numbers in the shortest form that reads back. */
static int
json_cell(json_t *v, char **out)
{
	char buf[64];

	*out = NULL;
	if (json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		*out = strdup(json_string_value(v));
		return *out ? 0 : -ENOMEM;
	}
	if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, sizeof(buf), "%d", json_is_true(v));
	else
		return -EINVAL;
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

static int
read_json_lines(const char *text, struct plot_table *t, char *err, size_t err_len)
{
	struct cells head = { 0 }, body = { 0 };
	const char *s = text, *e;
	unsigned line = 0, *lines = NULL;
	size_t rows = 0;
	int ret = 0;

	for (; *s; s = *e ? e + 1 : e) {
		json_error_t je;
		json_t *o, *v;
		const char *key;
		size_t i = 0;
		char *cell;

		e = strchr(s, '\n');
		if (!e)
			e = s + strlen(s);
		line++;
		if (e == s)
			continue;
		o = json_loadb(s, (size_t)(e - s), 0, &je);
		if (!o || !json_is_object(o)) {
			fail(err, err_len, "%s:%u: not a JSON object%s%s", t->path, line,
			     o ? "" : ": ", o ? "" : je.text);
			json_decref(o);
			ret = -EINVAL;
			goto out;
		}
		if (!rows) {
			json_object_foreach(o, key, v)
			{
				char *k = strdup(key);

				if (!k || cells_push(&head, k)) {
					free(k);
					json_decref(o);
					ret = -ENOMEM;
					goto out;
				}
			}
		}
		if (json_object_size(o) != head.n) {
			fail(err, err_len, "%s:%u: %zu keys, the first line has %zu", t->path, line,
			     json_object_size(o), head.n);
			json_decref(o);
			ret = -EINVAL;
			goto out;
		}
		for (i = 0; i < head.n; i++) {
			v = json_object_get(o, head.v[i]);
			if (!v) {
				fail(err, err_len, "%s:%u: no '%s'", t->path, line, head.v[i]);
				ret = -EINVAL;
			} else {
				ret = json_cell(v, &cell);
				if (ret == -EINVAL)
					fail(err, err_len,
					     "%s:%u: '%s' is not a number or a string", t->path,
					     line, head.v[i]);
				if (!ret) {
					ret = cells_push(&body, cell);
					if (ret)
						free(cell);
				}
			}
			if (ret) {
				json_decref(o);
				goto out;
			}
		}
		json_decref(o);
		ret = lines_push(&lines, &rows, line);
		if (ret)
			goto out;
	}
	table_take(t, &head, &body, lines, rows);
	return 0;
out:
	cells_free(&head);
	cells_free(&body);
	free(lines);
	return ret;
}

int
plot_table_read(const char *path, struct plot_table *t, char *err, size_t err_len)
{
	size_t len;
	int ret;
	char *text;

	memset(t, 0, sizeof(*t));
	t->path = path;
	text = sweep_read_file(path, &len, &ret);
	if (!text) {
		fail(err, err_len, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (strlen(text) != len) {
		fail(err, err_len, "%s: a NUL byte: not a results file", path);
		ret = -EINVAL;
	} else if (!len) {
		fail(err, err_len, "%s: empty", path);
		ret = -EINVAL;
	} else if (text[0] == '{') {
		ret = read_json_lines(text, t, err, err_len);
	} else {
		ret = read_csv(text, t, err, err_len);
	}
	free(text);
	if (ret == -ENOMEM)
		fail(err, err_len, "%s: out of memory", path);
	if (!ret)
		t->path = path;
	return ret;
}

static const char *
cell(const struct plot_table *t, size_t row, long col)
{
	return col < 0 ? NULL : t->cells[row * t->ncols + (size_t)col];
}

/* A cell as a number; NaN when it is empty or not one. */
static double
num(const struct plot_table *t, size_t row, long col)
{
	const char *s = cell(t, row, col);
	char *end;
	double v;

	if (!s)
		return NAN;
	errno = 0;
	v = strtod(s, &end);
	return *end || end == s ? NAN : v;
}

/* ---- distinct values ------------------------------------------------------ */

struct distinct {
	char **v;
	size_t n;
};

/* The index of @p s in @p d, added if new. @return the index; -1 on ENOMEM */
static long
distinct_add(struct distinct *d, const char *s)
{
	char **nv, *c;
	size_t i;

	for (i = 0; i < d->n; i++)
		if (!strcmp(d->v[i], s))
			return (long)i;
	c = strdup(s);
	nv = c ? realloc(d->v, (d->n + 1) * sizeof(*nv)) : NULL;
	if (!nv) {
		free(c);
		return -1;
	}
	d->v = nv;
	d->v[d->n] = c;
	return (long)d->n++;
}

static void
distinct_free(struct distinct *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->v[i]);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

/* ---- a sweep's table ------------------------------------------------------ */

struct sweep_view {
	const struct plot_table *t;
	size_t axis0, naxes; /* the axis columns: [axis0, axis0 + naxes) */
	long plat_col; /* the platform axis, or -1 */
	long x_col; /* the x axis, or -1 (no axis at all) */
	bool x_cat; /* categorical (not every value a number) */
	bool x_log; /* numeric, positive and spanning 16x or more */
	double x_scale; /* display unit: ns -> ms */
	long c_thr, c_thr_ci, c_exp, c_exp_ci, c_mem, c_s16, c_s16_ci, c_reps, c_iops;
	long c_expn, c_cens;
	struct distinct plats, xs, series;
	size_t *row_plat, *row_x, *row_series;
	bool *front;
	size_t *front_no; /* 1, 2, ... along a platform's front in point order; 0: off it */
	size_t *nfront; /* per platform */
	size_t *nunknown; /* per platform: rows left out for want of an exposure */
	unsigned max_reps;
};

static void
view_free(struct sweep_view *v)
{
	distinct_free(&v->plats);
	distinct_free(&v->xs);
	distinct_free(&v->series);
	free(v->row_plat);
	free(v->row_x);
	free(v->row_series);
	free(v->front);
	free(v->front_no);
	free(v->nfront);
	free(v->nunknown);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/* A time column's value for people (sweep_time_text); one that is not a
 * whole number of ns, as no sweep writes, in ns as it is. */
static void
time_text(double ns, char *buf, size_t len)
{
	if (ns >= 0 && ns < 18446744073709551616.0 && ns == floor(ns))
		sweep_time_text((uint64_t)ns, buf, len);
	else
		snprintf(buf, len, "%gns", ns);
}

/* "fq_timeout=100ms" for the axis column @p col and its cell @p s. */
static void
axis_text(const char *col, const char *s, char *buf, size_t len)
{
	size_t n = strlen(col);
	char *end;
	double v = s ? strtod(s, &end) : NAN;

	if (s && !*end && ends_with(col, "_ns") && n > 3) {
		char t[48];

		time_text(v, t, sizeof(t));
		snprintf(buf, len, "%.*s=%s", (int)(n - 3), col, t);
	} else {
		snprintf(buf, len, "%s=%s", col, s ? s : "");
	}
}

static int
cmp_num_str(const void *a, const void *b)
{
	double x = strtod(*(char *const *)a, NULL), y = strtod(*(char *const *)b, NULL);

	return (x > y) - (x < y);
}

/*
 * A lazy point whose unmaps a flush never closed in the run (exposures 0,
 * some censored) has no exposure window to report: its p99 of 0 would put it
 * on the front for free. It is left out of the front and the scatter.
 */
static bool
exposure_unknown(const struct sweep_view *v, size_t r)
{
	return !(num(v->t, r, v->c_expn) > 0) && num(v->t, r, v->c_cens) > 0;
}

/* More than 1% of the windows were still open at the end: the percentiles
 * leave them out. */
static bool
exposure_partial(const struct sweep_view *v, size_t r)
{
	double n = num(v->t, r, v->c_expn), c = num(v->t, r, v->c_cens);

	return c > 0.01 * (n + c);
}

static double
exposure_of(const struct sweep_view *v, size_t r)
{
	return exposure_unknown(v, r) ? NAN : num(v->t, r, v->c_exp);
}

/*
 * Row @p r's axis values as "fq_size=256 fq_timeout=1ms", without the
 * platform axis (its figures' own) and without column @p skip (-1: none);
 * "" when nothing is left.
 */
static void
axes_label(const struct sweep_view *v, size_t r, long skip, char *label, size_t len)
{
	char one[160];
	size_t a, off = 0;

	label[0] = '\0';
	for (a = 0; a < v->naxes; a++) {
		long col = (long)(v->axis0 + a);

		if (col == v->plat_col || col == skip)
			continue;
		axis_text(v->t->cols[col], cell(v->t, r, col), one, sizeof(one));
		if (off < len)
			off += (size_t)snprintf(label + off, len - off, "%s%s", off ? " " : "",
						one);
	}
}

/* Row @p r's point for the front table. */
static void
row_label(const struct sweep_view *v, size_t r, char *label, size_t len)
{
	axes_label(v, r, -1, label, len);
	if (!label[0])
		snprintf(label, len, "the base job");
}

/* The measure columns a view needs; @return 0; -EINVAL naming the first missing */
static int
view_columns(struct sweep_view *v, char *err, size_t err_len)
{
	const struct plot_table *t = v->t;
	struct {
		long *col;
		const char *name;
	} need[] = {
		{ &v->c_thr, "throughput_bytes_per_s" },
		{ &v->c_thr_ci, "throughput_bytes_per_s_ci95" },
		{ &v->c_exp, "exposure_p99_ns" },
		{ &v->c_exp_ci, "exposure_p99_ns_ci95" },
		{ &v->c_mem, "fq_bytes" },
		{ &v->c_s16, "status16" },
		{ &v->c_s16_ci, "status16_ci95" },
		{ &v->c_reps, "reps" },
		{ &v->c_iops, "iops" },
		{ &v->c_expn, "exposures" },
		{ &v->c_cens, "exposure_censored" },
	};
	size_t i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		*need[i].col = plot_table_col(t, need[i].name);
		if (*need[i].col < 0) {
			fail(err, err_len,
			     "%s:1: no column '%s': not a sweep's wide CSV or JSON lines", t->path,
			     need[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Look at a sweep's table: its axes, platforms, x values and series (the
 * other axes' combinations), and the front of each platform.
 */
static int
view_init(struct sweep_view *v, const struct plot_table *t, const char *x, char *err,
	  size_t err_len)
{
	long reps_col = plot_table_col(t, "reps"), c;
	size_t r, a;
	int ret;

	memset(v, 0, sizeof(*v));
	v->t = t;
	v->plat_col = v->x_col = -1;
	v->x_scale = 1;
	if (plot_table_col(t, "measure") >= 0 && plot_table_col(t, "ci95") >= 0) {
		fail(err, err_len,
		     "%s:1: the long format; plot reads a sweep's wide CSV or JSON lines "
		     "(--format csv or json)",
		     t->path);
		return -EINVAL;
	}
	if (t->ncols < 4 || strcmp(t->cols[0], "point") || strcmp(t->cols[1], "points") ||
	    strcmp(t->cols[2], "sweep") || reps_col < 3) {
		fail(err, err_len,
		     "%s:1: not a sweep's results (point,points,sweep,...) or a comparison's CSV "
		     "(job,...)",
		     t->path);
		return -EINVAL;
	}
	v->axis0 = 3;
	v->naxes = (size_t)reps_col - 3;
	ret = view_columns(v, err, err_len);
	if (ret)
		return ret;
	for (a = 0; a < v->naxes; a++)
		if (!strcmp(t->cols[v->axis0 + a], "platform"))
			v->plat_col = (long)(v->axis0 + a);
	if (x) {
		c = plot_table_col(t, x);
		if (c < (long)v->axis0 || c >= reps_col) {
			char axes[512] = "";
			size_t off = 0;

			for (a = 0; a < v->naxes && off < sizeof(axes); a++)
				off += (size_t)snprintf(axes + off, sizeof(axes) - off, "%s%s",
							a ? ", " : "", t->cols[v->axis0 + a]);
			fail(err, err_len, "--x: '%s' is not an axis of %s (its axes: %s)", x,
			     t->path, v->naxes ? axes : "none");
			return -EINVAL;
		}
		v->x_col = c;
	} else {
		v->x_col = plot_table_col(t, "fq_size");
		if (v->x_col < (long)v->axis0 || v->x_col >= reps_col)
			v->x_col = -1;
		for (a = 0; a < v->naxes && v->x_col < 0; a++)
			if ((long)(v->axis0 + a) != v->plat_col)
				v->x_col = (long)(v->axis0 + a);
		if (v->x_col < 0)
			v->x_col = v->plat_col; /* platform is the only axis */
	}
	/* The platform groups figures unless it is the x axis itself. */
	if (v->x_col == v->plat_col)
		v->plat_col = -1;
	if (v->x_col >= 0 && ends_with(t->cols[v->x_col], "_ns"))
		v->x_scale = 1e-6;

	v->row_plat = calloc(t->nrows ? t->nrows : 1, sizeof(size_t));
	v->row_x = calloc(t->nrows ? t->nrows : 1, sizeof(size_t));
	v->row_series = calloc(t->nrows ? t->nrows : 1, sizeof(size_t));
	v->front = calloc(t->nrows ? t->nrows : 1, sizeof(bool));
	v->front_no = calloc(t->nrows ? t->nrows : 1, sizeof(size_t));
	if (!v->row_plat || !v->row_x || !v->row_series || !v->front || !v->front_no)
		goto oom;

	/* The x values: numbers sorted, else in the order they come. */
	v->x_cat = false;
	for (r = 0; r < t->nrows; r++) {
		const char *s = v->x_col >= 0 ? cell(t, r, v->x_col) : "";

		if (!s)
			s = "";
		if (v->x_col >= 0 && isnan(num(t, r, v->x_col)))
			v->x_cat = true;
		if (distinct_add(&v->xs, s) < 0)
			goto oom;
	}
	if (!v->x_cat && v->x_col >= 0) {
		double lo = INFINITY, hi = 0;

		qsort(v->xs.v, v->xs.n, sizeof(*v->xs.v), cmp_num_str);
		for (r = 0; r < v->xs.n; r++) {
			double d = strtod(v->xs.v[r], NULL);

			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
		}
		v->x_log = lo > 0 && hi / lo >= 16;
	}
	if (v->x_col < 0)
		v->x_cat = true;

	for (r = 0; r < t->nrows; r++) {
		char label[512];
		long i;
		double reps = num(t, r, v->c_reps);
		const char *s;

		if (reps > v->max_reps && reps < 1e9)
			v->max_reps = (unsigned)reps;
		s = v->plat_col >= 0 ? cell(t, r, v->plat_col) : "";
		i = distinct_add(&v->plats, s ? s : "");
		if (i < 0)
			goto oom;
		v->row_plat[r] = (size_t)i;
		s = v->x_col >= 0 ? cell(t, r, v->x_col) : "";
		i = distinct_add(&v->xs, s ? s : "");
		if (i < 0)
			goto oom;
		v->row_x[r] = (size_t)i;
		/* The series: the other axes' values (the platform's, as x or
		 * as the figures' own, and x's are not). */
		axes_label(v, r, v->x_col, label, sizeof(label));
		i = distinct_add(&v->series, label[0] ? label : "all points");
		if (i < 0)
			goto oom;
		v->row_series[r] = (size_t)i;
	}

	/* The front of each platform (iommusim_pareto_front): throughput up,
	 * exposure p99 and queue memory down; rows with a missing value out. */
	v->nfront = calloc(v->plats.n ? v->plats.n : 1, sizeof(size_t));
	v->nunknown = calloc(v->plats.n ? v->plats.n : 1, sizeof(size_t));
	if (!v->nfront || !v->nunknown)
		goto oom;
	for (size_t p = 0; p < v->plats.n; p++) {
		static const enum iommusim_objective_sense sense[3] = { IOMMUSIM_MAXIMISE,
									IOMMUSIM_MINIMISE,
									IOMMUSIM_MINIMISE };
		size_t n = 0, k = 0, *idx = malloc(t->nrows * sizeof(size_t) + 1);
		double *val = malloc(t->nrows * 3 * sizeof(double) + 1);
		bool *on = malloc(t->nrows + 1);

		if (!idx || !val || !on) {
			free(idx);
			free(val);
			free(on);
			goto oom;
		}
		for (r = 0; r < t->nrows; r++) {
			double a3[3] = { num(t, r, v->c_thr), exposure_of(v, r),
					 num(t, r, v->c_mem) };

			if (v->row_plat[r] != p)
				continue;
			if (isnan(a3[0]) || isnan(a3[1]) || isnan(a3[2])) {
				v->nunknown[p]++;
				continue;
			}
			memcpy(val + 3 * n, a3, sizeof(a3));
			idx[n++] = r;
		}
		ret = iommusim_pareto_front(val, n, 3, sense, on, &k);
		if (!ret)
			for (r = 0, k = 0; r < n; r++) {
				v->front[idx[r]] = on[r];
				v->front_no[idx[r]] = on[r] ? ++k : 0;
			}
		v->nfront[p] = k;
		free(idx);
		free(val);
		free(on);
		if (ret == -ENOMEM)
			goto oom;
		if (ret) {
			fail(err, err_len, "%s: the front: %s", t->path, strerror(-ret));
			return ret;
		}
	}
	return 0;
oom:
	fail(err, err_len, "%s: out of memory", t->path);
	return -ENOMEM;
}

/* ---- the front table ------------------------------------------------------ */

static void
print_front(const struct sweep_view *v, FILE *f)
{
	const struct plot_table *t = v->t;
	char label[512];
	size_t p, r, w = 5;
	bool partial = false;

	for (r = 0; r < t->nrows; r++)
		if (v->front[r]) {
			row_label(v, r, label, sizeof(label));
			w = strlen(label) > w ? strlen(label) : w;
		}
	for (p = 0; p < v->plats.n; p++) {
		size_t npoints = 0;

		for (r = 0; r < t->nrows; r++)
			npoints += v->row_plat[r] == p;
		fprintf(f,
			"Pareto front%s%s: %zu of %zu points (throughput higher, exposure p99 "
			"lower, queue memory lower)\n",
			v->plats.v[p][0] ? ", platform " : "", v->plats.v[p], v->nfront[p],
			npoints);
		fprintf(f, "  %4s  %-*s %12s %15s %14s %9s\n", "#", (int)w, "point", "MB/s",
			"exposure p99", "queue memory", "status16");
		for (r = 0; r < t->nrows; r++) {
			bool star;

			if (v->row_plat[r] != p || !v->front[r])
				continue;
			row_label(v, r, label, sizeof(label));
			star = exposure_partial(v, r);
			partial |= star;
			fprintf(f, "  %4zu  %-*s %12.2f %11.3f ms%s %10.1f KiB %9.0f\n",
				v->front_no[r], (int)w, label, num(t, r, v->c_thr) / 1e6,
				num(t, r, v->c_exp) / 1e6, star ? "*" : " ",
				num(t, r, v->c_mem) / 1024, num(t, r, v->c_s16));
		}
		if (v->nunknown[p])
			fprintf(f,
				"  (%zu point%s left out: no flush closed a lazy unmap's window in the "
				"run, so there is no exposure to weigh; run longer than fq_timeout)\n",
				v->nunknown[p], v->nunknown[p] == 1 ? "" : "s");
	}
	if (partial)
		fputs("  * more than 1% of the lazy unmaps were still queued at the end "
		      "(exposure_censored): the p99 leaves them out\n",
		      f);
}

int
plot_print_front(const struct plot_table *t, FILE *f, char *err, size_t err_len)
{
	struct sweep_view v;
	int ret = view_init(&v, t, NULL, err, err_len);

	if (!ret)
		print_front(&v, f);
	view_free(&v);
	return ret;
}

/* ---- writing figures ------------------------------------------------------ */

struct fig_ctx {
	const struct plot_opts *o;
	const char *src; /* the results file, for the scripts' first line */
	char *err;
	size_t err_len;
	unsigned figures;
};

/* @p s as a gnuplot single-quoted string's body (' doubled), into @p f. */
static void
gp_str(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		if (*s != '\n' && *s != '\r')
			fputc(*s, f);
	}
	fputc('\'', f);
}

/* A file name's part from a cell: letters, digits, '.', '-' and '_' kept. */
static void
file_part(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
					 (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
					 s[i] == '-' || s[i] == '_' ?
				 s[i] :
				 '_';
	buf[i] = '\0';
}

static FILE *
open_out(const struct fig_ctx *c, const char *name, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", c->o->dir, name);
	f = fopen(path, "w");
	if (!f)
		fail(c->err, c->err_len, "%s: %s", path, strerror(errno));
	return f;
}

static int
close_out(const struct fig_ctx *c, FILE *f, const char *path)
{
	bool bad = ferror(f);

	if (fclose(f) || bad) {
		fail(c->err, c->err_len, "writing %s: %s", path, strerror(errno ? errno : EIO));
		return -EIO;
	}
	if (c->o->log)
		fprintf(c->o->log, "  %s\n", path);
	return 0;
}

/* Run gnuplot on @p stem.gp in the output directory. @return 0; -ECHILD */
static int
render(const struct fig_ctx *c, const char *stem)
{
	const char *prog = c->o->gnuplot ? c->o->gnuplot : getenv("IOMMUSIM_GNUPLOT");
	char script[300];
	int status;
	pid_t pid;

	if (c->o->no_render)
		return 0;
	if (!prog || !*prog)
		prog = "gnuplot";
	snprintf(script, sizeof(script), "%s.gp", stem);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fail(c->err, c->err_len, "starting %s: %s", prog, strerror(errno));
		return -ECHILD;
	}
	if (!pid) {
		if (chdir(c->o->dir))
			_exit(126);
		execlp(prog, prog, script, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fail(c->err, c->err_len, "waiting for %s: %s", prog, strerror(errno));
			return -ECHILD;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		fail(c->err, c->err_len,
		     "%s: not found (Debian: apt-get install gnuplot-nox; or --no-render "
		     "for the scripts alone)",
		     prog);
		return -ECHILD;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fail(c->err, c->err_len, "%s failed on %s/%s (%s %d)", prog, c->o->dir, script,
		     WIFEXITED(status) ? "exit" : "signal",
		     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -ECHILD;
	}
	if (c->o->log)
		fprintf(c->o->log, "  %s/%s.png\n  %s/%s.svg\n", c->o->dir, stem, c->o->dir, stem);
	return 0;
}

/*
 * Write @p stem.gp: the settings and plot command in @p body, drawn to
 * @p stem.png and again to @p stem.svg, then render it.
 */
static int
figure(struct fig_ctx *c, const char *stem, const char *what, const char *body)
{
	char name[200], path[512];
	FILE *f;
	int ret;

	snprintf(name, sizeof(name), "%s.gp", stem);
	f = open_out(c, name, path, sizeof(path));
	if (!f)
		return -errno;
	fprintf(f,
		"# %s, from %s: written by iommusim plot (docs/sweeps.md).\n"
		"# Edit it and redraw with: gnuplot %s.gp\n"
		"set terminal pngcairo size 1000,640 noenhanced font ',10'\n"
		"set output '%s.png'\n"
		"set datafile missing 'NaN'\n"
		"%s"
		"set terminal svg size 1000,640 dynamic noenhanced font ',10'\n"
		"set output '%s.svg'\n"
		"replot\n"
		"unset output\n",
		what, c->src, stem, stem, body, stem);
	ret = close_out(c, f, path);
	if (!ret)
		ret = render(c, stem);
	if (!ret)
		c->figures++;
	return ret;
}

/* A growing text, for a figure's body. */
struct text {
	char *s;
	size_t len;
	FILE *f;
};

static int
text_open(struct text *t)
{
	t->s = NULL;
	t->len = 0;
	t->f = open_memstream(&t->s, &t->len);
	return t->f ? 0 : -ENOMEM;
}

/* Close the stream; @return 0 with t->s the text, or -ENOMEM. */
static int
text_close(struct text *t)
{
	bool bad = ferror(t->f);

	if (fclose(t->f) || bad) {
		free(t->s);
		t->s = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The global range of a measure over every row, for the same axes on every
 * platform's figure. */
struct range {
	double lo, hi;
	bool any_zero_or_less;
};

static struct range
range_of(const struct sweep_view *v, long col, double scale, long ci_col)
{
	struct range g = { INFINITY, -INFINITY, false };
	size_t r;

	for (r = 0; r < v->t->nrows; r++) {
		double x = num(v->t, r, col) * scale;
		double e = ci_col >= 0 ? num(v->t, r, ci_col) * scale : 0;

		if (isnan(x))
			continue;
		if (isnan(e))
			e = 0;
		g.lo = x - e < g.lo ? x - e : g.lo;
		g.hi = x + e > g.hi ? x + e : g.hi;
		if (x <= 0)
			g.any_zero_or_less = true;
	}
	if (g.lo > g.hi)
		g.lo = 0, g.hi = 1;
	return g;
}

/* The exposure p99's range in ms, over the rows that have one. */
static struct range
exposure_range(const struct sweep_view *v)
{
	struct range g = { INFINITY, -INFINITY, false };
	size_t r;

	for (r = 0; r < v->t->nrows; r++) {
		double x = exposure_of(v, r) / 1e6;

		if (isnan(x))
			continue;
		g.lo = x < g.lo ? x : g.lo;
		g.hi = x > g.hi ? x : g.hi;
		if (x <= 0)
			g.any_zero_or_less = true;
	}
	if (g.lo > g.hi)
		g.lo = 0, g.hi = 1;
	return g;
}

/* "set yrange [lo:hi]" with room above; from 0 on a linear axis. */
static void
set_range(FILE *f, const char *axis, struct range g, bool log)
{
	if (log) {
		fprintf(f, "set logscale %s\nset %srange [%.6g:%.6g]\n", axis, axis, g.lo / 1.5,
			g.hi * 1.5);
		return;
	}
	if (g.hi <= 0)
		g.hi = 1;
	fprintf(f, "set %srange [%.6g:%.6g]\n", axis, g.lo < 0 ? g.lo * 1.05 : 0.0, g.hi * 1.08);
}

static const char *
x_label(const struct sweep_view *v, char *buf, size_t len)
{
	const char *col = v->x_col >= 0 ? v->t->cols[v->x_col] : "point";
	size_t n = strlen(col);

	if (v->x_scale != 1 && n > 3)
		snprintf(buf, len, "%.*s (ms)", (int)(n - 3), col);
	else
		snprintf(buf, len, "%s", col);
	return buf;
}

/* The x axis: its label, scale, range and (categorical) tics. */
static void
x_axis(FILE *f, const struct sweep_view *v)
{
	char label[96];
	size_t i;

	fputs("set xlabel ", f);
	gp_str(f, x_label(v, label, sizeof(label)));
	fputc('\n', f);
	if (v->x_cat) {
		fprintf(f, "set xrange [-0.5:%zu.5]\nset xtics (", v->xs.n ? v->xs.n - 1 : 0);
		for (i = 0; i < v->xs.n; i++) {
			fputs(i ? ", " : "", f);
			gp_str(f, v->xs.v[i][0] ? v->xs.v[i] : "the base job");
			fprintf(f, " %zu", i);
		}
		fputs(")\n", f);
		return;
	}
	double lo = strtod(v->xs.v[0], NULL) * v->x_scale;
	double hi = strtod(v->xs.v[v->xs.n - 1], NULL) * v->x_scale;

	if (v->x_log)
		fprintf(f, "set logscale x 2\nset xrange [%.6g:%.6g]\n", lo / 1.3, hi * 1.3);
	else if (hi > lo)
		fprintf(f, "set xrange [%.6g:%.6g]\n", lo - (hi - lo) * 0.05,
			hi + (hi - lo) * 0.05);
	else
		fprintf(f, "set xrange [%.6g:%.6g]\n", lo - 1, hi + 1);
	if (v->xs.n <= 16) {
		fputs("set xtics (", f);
		for (i = 0; i < v->xs.n; i++) {
			char t[48];
			double x = strtod(v->xs.v[i], NULL);

			if (v->x_scale != 1)
				time_text(x, t, sizeof(t));
			else
				snprintf(t, sizeof(t), "%s", v->xs.v[i]);
			fputs(i ? ", " : "", f);
			gp_str(f, t);
			fprintf(f, " %.10g", x * v->x_scale);
		}
		fputs(")\n", f);
	}
}

/* The x position of row @p r. */
static double
x_pos(const struct sweep_view *v, size_t r)
{
	return v->x_cat ? (double)v->row_x[r] : num(v->t, r, v->x_col) * v->x_scale;
}

static void
dat_num(FILE *f, double x)
{
	if (isnan(x))
		fputs(" NaN", f);
	else
		fprintf(f, " %.10g", x);
}

/*
 * The label of row @p r in the front figure: its number in the front table,
 * on the first front point at its place only (equal points, such as strict
 * at every queue size, would write over each other), with how many more it
 * stands for.
 */
static void
front_label(const struct sweep_view *v, size_t r, char *lab, size_t len)
{
	double thr = num(v->t, r, v->c_thr), e = exposure_of(v, r);
	size_t q, equal = 0;
	bool first = true;

	lab[0] = '\0';
	if (!v->front[r])
		return;
	for (q = 0; q < v->t->nrows; q++) {
		if (q == r || !v->front[q] || v->row_plat[q] != v->row_plat[r] ||
		    num(v->t, q, v->c_thr) != thr || exposure_of(v, q) != e)
			continue;
		equal++;
		if (q < r)
			first = false;
	}
	if (!first)
		return;
	if (equal)
		snprintf(lab, len, "#%zu (+%zu equal)", v->front_no[r], equal);
	else
		snprintf(lab, len, "#%zu", v->front_no[r]);
}

/*
 * The platform's data: one block per series (two blank lines apart, for
 * gnuplot's `index`), rows in x order. Columns: x, MB/s, its ci95, exposure
 * p99 ms, its ci95, queue KiB, status16, its ci95, on the front (0/1),
 * and the point's label.
 */
static int
write_dat(struct fig_ctx *c, const struct sweep_view *v, size_t p, const char *name)
{
	const struct plot_table *t = v->t;
	char path[512];
	FILE *f = open_out(c, name, path, sizeof(path));
	size_t s, x, r;

	if (!f)
		return -errno;
	fprintf(f, "# x MB/s MB/s_ci95 exposure_p99_ms ci95 fq_KiB status16 ci95 front label\n");
	for (s = 0; s < v->series.n; s++) {
		fprintf(f, "%s# series %zu: %s\n", s ? "\n\n" : "", s, v->series.v[s]);
		for (x = 0; x < v->xs.n; x++)
			for (r = 0; r < t->nrows; r++) {
				char lab[256];

				if (v->row_plat[r] != p || v->row_series[r] != s ||
				    v->row_x[r] != x)
					continue;
				dat_num(f, x_pos(v, r));
				dat_num(f, num(t, r, v->c_thr) / 1e6);
				dat_num(f, isnan(num(t, r, v->c_thr_ci)) ?
						   0 :
						   num(t, r, v->c_thr_ci) / 1e6);
				dat_num(f, exposure_of(v, r) / 1e6);
				dat_num(f, isnan(num(t, r, v->c_exp_ci)) ?
						   0 :
						   num(t, r, v->c_exp_ci) / 1e6);
				dat_num(f, num(t, r, v->c_mem) / 1024);
				dat_num(f, num(t, r, v->c_s16));
				dat_num(f,
					isnan(num(t, r, v->c_s16_ci)) ? 0 : num(t, r, v->c_s16_ci));
				fprintf(f, " %d ", v->front[r]);
				front_label(v, r, lab, sizeof(lab));
				/* gnuplot reads a double-quoted string as one column. */
				fputc('"', f);
				for (const char *q = lab; *q; q++)
					if (*q != '"' && *q != '\n')
						fputc(*q, f);
				fputs("\"\n", f);
			}
	}
	return close_out(c, f, path);
}

/* One line per series of column @p col (and its ci95 column @p ci, 0: none). */
static void
plot_series(FILE *f, const struct sweep_view *v, const char *dat, int col, int ci)
{
	size_t s;

	fputs("plot ", f);
	for (s = 0; s < v->series.n; s++) {
		fputs(s ? ", \\\n     " : "", f);
		gp_str(f, dat);
		if (ci && v->max_reps > 1)
			fprintf(f, " index %zu using 1:%d:%d with yerrorlines lw 1.5 title ", s,
				col, ci);
		else
			fprintf(f, " index %zu using 1:%d with linespoints lw 1.5 title ", s, col);
		gp_str(f, v->series.v[s]);
	}
	fputc('\n', f);
}

static int
sweep_figures(struct fig_ctx *c, const struct sweep_view *v)
{
	const struct plot_table *t = v->t;
	struct range thr = range_of(v, v->c_thr, 1e-6, v->max_reps > 1 ? v->c_thr_ci : -1);
	struct range exp = exposure_range(v);
	struct range mem = range_of(v, v->c_mem, 1.0 / 1024, -1);
	struct range s16 = range_of(v, v->c_s16, 1, v->max_reps > 1 ? v->c_s16_ci : -1);
	const char *sweep_id = t->nrows ? cell(t, 0, 2) : NULL;
	size_t p;
	int ret = 0;

	if (!t->nrows) {
		fail(c->err, c->err_len, "%s: no points to plot", t->path);
		return -EINVAL;
	}
	for (p = 0; !ret && p < v->plats.n; p++) {
		char part[64], dat[128], stem[160], title[200], what[320], xl[96];
		struct text b;
		size_t x, s;

		file_part(v->plats.v[p], part, sizeof(part));
		snprintf(dat, sizeof(dat), "sweep%s%s.dat", part[0] ? "-" : "", part);
		snprintf(title, sizeof(title), "%s%s%ssweep %s, %u rep%s",
			 v->plats.v[p][0] ? "platform " : "", v->plats.v[p],
			 v->plats.v[p][0] ? ", " : "", sweep_id ? sweep_id : "?", v->max_reps,
			 v->max_reps == 1 ? "" : "s");
		ret = write_dat(c, v, p, dat);
		if (ret)
			break;

#define BEGIN(name, desc)                                                       \
	snprintf(stem, sizeof(stem), "%s%s%s", name, part[0] ? "-" : "", part); \
	snprintf(what, sizeof(what), "%s, %s", desc, title);                    \
	if (text_open(&b))                                                      \
		goto oom;                                                       \
	fputs("set title ", b.f);                                               \
	gp_str(b.f, what);                                                      \
	fputs("\nset grid\nset key below\n", b.f)
#define END()                             \
	if (text_close(&b))               \
		goto oom;                 \
	ret = figure(c, stem, what, b.s); \
	free(b.s);                        \
	if (ret)                          \
	break

		/* 1. Throughput against the x axis, a line per series. */
		BEGIN("throughput", "throughput");
		x_axis(b.f, v);
		fputs("set ylabel 'throughput (MB/s)'\n", b.f);
		set_range(b.f, "y", thr, false);
		plot_series(b.f, v, dat, 2, 3);
		END();

		/* 2. The grid as a heat map: x values across, series up. */
		BEGIN("heatmap", "throughput over the grid (MB/s)");
		fputs("set xlabel ", b.f);
		gp_str(b.f, x_label(v, xl, sizeof(xl)));
		fprintf(b.f, "\nunset grid\nset xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\n",
			v->xs.n - 1, v->series.n - 1);
		fputs("set xtics (", b.f);
		for (x = 0; x < v->xs.n; x++) {
			char tx[48];

			if (v->x_scale != 1 && !v->x_cat)
				time_text(strtod(v->xs.v[x], NULL), tx, sizeof(tx));
			else
				snprintf(tx, sizeof(tx), "%s", v->xs.v[x]);
			fputs(x ? ", " : "", b.f);
			gp_str(b.f, tx[0] ? tx : "the base job");
			fprintf(b.f, " %zu", x);
		}
		fputs(")\nset ytics (", b.f);
		for (s = 0; s < v->series.n; s++) {
			fputs(s ? ", " : "", b.f);
			gp_str(b.f, v->series.v[s]);
			fprintf(b.f, " %zu", s);
		}
		fprintf(b.f,
			")\nset cblabel 'throughput (MB/s)'\nset cbrange [%.6g:%.6g]\n"
			"set palette defined (0 '#440154', 1 '#31688e', 2 '#35b779', 3 '#fde725')\n"
			"unset key\n"
			"$cells << EOD\n",
			thr.lo, thr.hi > thr.lo ? thr.hi : thr.lo + 1);
		for (size_t r = 0; r < t->nrows; r++)
			if (v->row_plat[r] == p)
				fprintf(b.f, "%zu %zu %.10g\n", v->row_x[r], v->row_series[r],
					num(t, r, v->c_thr) / 1e6);
		fprintf(b.f,
			"EOD\n"
			"plot $cells using 1:2:(0.5):(0.5):3 with boxxyerror fs solid 1.0 noborder lc "
			"palette notitle");
		if (v->xs.n * v->series.n <= 144)
			fprintf(b.f, ", \\\n     $cells using 1:2:(sprintf('%%.0f', $3)) with "
				     "labels tc 'white' notitle");
		fputc('\n', b.f);
		END();

		/* 3. Throughput against the exposure window: the security price. */
		BEGIN("front", "throughput against exposure p99, Pareto front marked");
		fputs("set xlabel 'exposure window p99 (ms): lazy unmap to its flush'\n"
		      "set ylabel 'throughput (MB/s)'\n",
		      b.f);
		set_range(b.f, "x", exp, !exp.any_zero_or_less && exp.hi / exp.lo >= 16);
		set_range(b.f, "y", thr, false);
		fputs("plot ", b.f);
		gp_str(b.f, dat);
		fputs(" using 4:2 with points pt 7 ps 1 lc rgb '#909090' title 'point', \\\n     ",
		      b.f);
		gp_str(b.f, dat);
		fputs(" using ($9 > 0 ? $4 : NaN):2 with points pt 6 ps 2.2 lw 2 lc rgb '#d62728' "
		      "title 'Pareto front (throughput, exposure, queue memory)', \\\n     ",
		      b.f);
		gp_str(b.f, dat);
		fputs(" using ($9 > 0 ? $4 : NaN):2:10 with labels left offset 0.9,0.7 font ',9' "
		      "notitle  # the numbers of the front table's points\n",
		      b.f);
		END();

		/* 4. The queues' memory. */
		BEGIN("memory", "flush-queue memory");
		x_axis(b.f, v);
		fputs("set ylabel 'flush-queue memory (KiB)'\n", b.f);
		set_range(b.f, "y", mem, !mem.any_zero_or_less && mem.hi / mem.lo >= 16);
		plot_series(b.f, v, dat, 6, 0);
		END();

		/* 5. Status-16 events: the hypervisor out of resources. */
		BEGIN("status16", "status-16 answers (cc 1: out of resources)");
		x_axis(b.f, v);
		fputs("set ylabel 'status-16 events'\n", b.f);
		set_range(b.f, "y", s16, false);
		plot_series(b.f, v, dat, 7, 8);
		END();
#undef BEGIN
#undef END
	}
	return ret;
oom:
	fail(c->err, c->err_len, "out of memory");
	return -ENOMEM;
}

/* ---- a comparison's CSV --------------------------------------------------- */

static int
compare_figures(struct fig_ctx *c, const struct plot_table *t)
{
	static const struct {
		const char *stem, *col, *label, *what;
		double scale;
	} figs[] = {
		{ "compare-throughput", "bytes_per_s", "throughput (MB/s)", "throughput", 1e-6 },
		{ "compare-exposure", "exposure_p99", "exposure window p99 (ms)",
		  "exposure window p99", 1e-6 },
		{ "compare-cycles", "cpu_cycles_per_io", "CPU cycles per I/O", "CPU cycles per I/O",
		  1 },
	};
	long wl = plot_table_col(t, "workload"), pc = plot_table_col(t, "platform");
	long qc = plot_table_col(t, "policy");
	struct distinct plats = { 0 }, pols = { 0 };
	const char *first_wl;
	size_t r, i, j, k;
	double *val = NULL;
	int ret = 0;

	if (wl < 0 || pc < 0 || qc < 0 || !t->nrows) {
		fail(c->err, c->err_len, "%s: a comparison's CSV without %s", t->path,
		     !t->nrows ? "rows" : "workload, platform and policy");
		return -EINVAL;
	}
	for (k = 0; k < sizeof(figs) / sizeof(figs[0]); k++)
		if (plot_table_col(t, figs[k].col) < 0) {
			fail(c->err, c->err_len, "%s:1: no column '%s'", t->path, figs[k].col);
			return -EINVAL;
		}
	/* The compared job's rows; the ISM checks (another workload) are not bars. */
	first_wl = cell(t, 0, wl) ? cell(t, 0, wl) : "";
	for (r = 0; r < t->nrows; r++) {
		const char *w = cell(t, r, wl);

		if (strcmp(w ? w : "", first_wl))
			continue;
		if (distinct_add(&plats, cell(t, r, pc) ? cell(t, r, pc) : "") < 0 ||
		    distinct_add(&pols, cell(t, r, qc) ? cell(t, r, qc) : "") < 0)
			goto oom;
	}
	val = malloc(plats.n * pols.n * sizeof(*val) + 1);
	if (!val)
		goto oom;
	for (k = 0; !ret && k < sizeof(figs) / sizeof(figs[0]); k++) {
		long col = plot_table_col(t, figs[k].col);
		char name[96], path[512];
		struct text b;
		FILE *f;

		for (i = 0; i < plats.n * pols.n; i++)
			val[i] = NAN;
		for (r = 0; r < t->nrows; r++) {
			const char *w = cell(t, r, wl);
			long pi, qi;

			if (strcmp(w ? w : "", first_wl))
				continue;
			pi = distinct_add(&plats, cell(t, r, pc) ? cell(t, r, pc) : "");
			qi = distinct_add(&pols, cell(t, r, qc) ? cell(t, r, qc) : "");
			val[(size_t)pi * pols.n + (size_t)qi] = num(t, r, col) * figs[k].scale;
		}
		snprintf(name, sizeof(name), "%s.dat", figs[k].stem);
		f = open_out(c, name, path, sizeof(path));
		if (!f) {
			ret = -errno;
			break;
		}
		fputs("platform", f);
		for (j = 0; j < pols.n; j++)
			fprintf(f, " \"%s\"", pols.v[j]);
		fputc('\n', f);
		for (i = 0; i < plats.n; i++) {
			fprintf(f, "\"%s\"", plats.v[i]);
			for (j = 0; j < pols.n; j++)
				dat_num(f, val[i * pols.n + j]);
			fputc('\n', f);
		}
		ret = close_out(c, f, path);
		if (ret)
			break;
		if (text_open(&b))
			goto oom;
		fprintf(b.f,
			"set title '%s by platform and policy (iommusim compare)'\n"
			"set ylabel '%s'\nset grid ytics\nset key outside right top\n"
			"set style data histograms\nset style histogram clustered gap 1\n"
			"set style fill solid 0.85 border -1\nset yrange [0:*]\n"
			"plot for [i=2:%zu] '%s' using i:xtic(1) title columnheader(i)\n",
			figs[k].what, figs[k].label, pols.n + 1, name);
		if (text_close(&b))
			goto oom;
		ret = figure(c, figs[k].stem, figs[k].what, b.s);
		free(b.s);
	}
	free(val);
	distinct_free(&plats);
	distinct_free(&pols);
	return ret;
oom:
	free(val);
	distinct_free(&plats);
	distinct_free(&pols);
	fail(c->err, c->err_len, "out of memory");
	return -ENOMEM;
}

/* ---- the entry point ------------------------------------------------------ */

int
plot_make_dir(const char *dir, char *err, size_t err_len)
{
	struct stat st;

	if (!mkdir(dir, 0777))
		return 0;
	if (errno == EEXIST && !stat(dir, &st) && S_ISDIR(st.st_mode))
		return 0;
	fail(err, err_len, "%s: %s", dir, errno == EEXIST ? "not a directory" : strerror(errno));
	return -EINVAL;
}

int
plot_file(const char *path, const struct plot_opts *o, char *err, size_t err_len)
{
	struct fig_ctx c = { .o = o, .src = path, .err = err, .err_len = err_len };
	struct plot_table t;
	struct sweep_view v;
	int ret;

	ret = plot_table_read(path, &t, err, err_len);
	if (ret)
		return ret;
	if (t.ncols && !strcmp(t.cols[0], "job")) {
		if (o->x) {
			fail(err, err_len, "--x: a comparison's plot has no x axis to choose");
			ret = -EINVAL;
		} else {
			ret = plot_make_dir(o->dir, err, err_len);
			if (!ret)
				ret = compare_figures(&c, &t);
		}
		plot_table_free(&t);
		return ret;
	}
	ret = view_init(&v, &t, o->x, err, err_len);
	if (!ret)
		ret = plot_make_dir(o->dir, err, err_len);
	if (!ret)
		ret = sweep_figures(&c, &v);
	if (!ret && o->front)
		print_front(&v, o->front);
	view_free(&v);
	plot_table_free(&t);
	return ret;
}
