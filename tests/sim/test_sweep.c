/* SPDX-License-Identifier: MIT */
/*
 * Sweeps (sim/sweep.h): the grammar of an axis and its errors, the points of
 * a grid (with a property test of the mixed-radix numbering), the [sweep]
 * section of a job file, each point's configuration and the sweep's
 * identity, the statistics of the replicates, and the rows of the three
 * output formats, read back field by field (CSV) or with jansson (JSON).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#include <iommusim/iommusim.h>

#include "sweep.h"
#include "test_common.h"

/* The place messages name: what a [sweep] line or the command line passes. */
#define WHERE "sweep.ini:7"

/* ---- helpers ------------------------------------------------------------ */

static void
assert_contains(const char *s, const char *needle)
{
	if (!strstr(s, needle))
		fail_msg("'%s' does not hold '%s'", s, needle);
}

static void
assert_near(double got, double want, double eps)
{
	if (!(fabs(got - want) <= eps))
		fail_msg("%.9g is not within %g of %.9g", got, eps, want);
}

static void
grid_init(struct sweep_grid *g)
{
	*g = (struct sweep_grid){ .npoints = 1 };
}

static void
add_ok(struct sweep_grid *g, const char *spec)
{
	char err[512] = "";
	int ret = sweep_grid_add(g, spec, WHERE, SWEEP_DEFAULT_MAX_POINTS, err, sizeof(err));

	if (ret)
		fail_msg("sweep_grid_add(\"%s\") = %d: %s", spec, ret, err);
}

/* The integer values of axis @p ax are @p want, in order. */
static void
assert_values(const struct sweep_axis *ax, const uint64_t *want, size_t n)
{
	size_t i;

	if (ax->nvalues != n)
		fail_msg("%s: %zu values, want %zu", ax->name, ax->nvalues, n);
	for (i = 0; i < n; i++)
		if (ax->values[i].u != want[i])
			fail_msg("%s: value %zu is %" PRIu64 ", want %" PRIu64, ax->name, i,
				 ax->values[i].u, want[i]);
}

static void
assert_reals(const struct sweep_axis *ax, const double *want, size_t n)
{
	size_t i;

	if (ax->nvalues != n)
		fail_msg("%s: %zu values, want %zu", ax->name, ax->nvalues, n);
	for (i = 0; i < n; i++)
		if (ax->values[i].d != want[i])
			fail_msg("%s: value %zu is %.17g, want %.17g", ax->name, i, ax->values[i].d,
				 want[i]);
}

/* The values of a one-axis grid of @p spec. */
static void
assert_axis_values(const char *spec, const uint64_t *want, size_t n)
{
	struct sweep_grid g;

	grid_init(&g);
	add_ok(&g, spec);
	assert_int_equal(g.naxes, 1);
	assert_values(&g.axes[0], want, n);
	assert_int_equal(g.npoints, n);
	sweep_grid_free(&g);
}

#define MS UINT64_C(1000000)

/* A temporary file holding @p text; the caller unlinks and frees the path. */
static char *
write_temp(const char *text)
{
	const char *dir = getenv("TMPDIR");
	char *path = NULL;
	FILE *f;
	int fd;

	if (asprintf(&path, "%s/test_sweep_XXXXXX", dir && *dir ? dir : "/tmp") < 0)
		fail_msg("asprintf failed");
	fd = mkstemp(path);
	if (fd < 0)
		fail_msg("mkstemp(%s): %s", path, strerror(errno));
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Split one CSV line (without its newline) into at most @p max fields, the
 * quotes of RFC 4180 undone. @return the number of fields */
#define FIELD_MAX 128
static size_t
csv_split(const char *line, char (*fields)[FIELD_MAX], size_t max)
{
	size_t n = 0, len = 0;
	bool quoted = false;
	const char *c;

	for (c = line;; c++) {
		if (quoted) {
			if (!*c)
				fail_msg("an unterminated quote in '%s'", line);
			if (*c == '"' && c[1] == '"')
				c++;
			else if (*c == '"') {
				quoted = false;
				continue;
			}
		} else if (*c == '"' && !len) {
			quoted = true;
			continue;
		} else if (*c == ',' || !*c) {
			if (n == max)
				fail_msg("more than %zu fields in '%s'", max, line);
			fields[n++][len] = '\0';
			len = 0;
			if (!*c)
				return n;
			continue;
		}
		if (len + 1 >= FIELD_MAX)
			fail_msg("a field too long in '%s'", line);
		fields[n][len++] = *c;
	}
}

/* A copy of the first line of @p s, without its newline (which must be there). */
static char *
first_line(const char *s)
{
	const char *nl = strchr(s, '\n');
	char *line;

	if (!nl)
		fail_msg("no newline in '%s'", s);
	line = strndup(s, (size_t)(nl - s));
	assert_non_null(line);
	return line;
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- sweep_grid_add: the grammar ---------------------------------------- */

/* A list keeps its order; the axis knows its key, column and place. */
static void
test_sweep_grid_add_list_keeps_its_order(void **state)
{
	const uint64_t want[] = { 4096, 256, 1024 };
	struct sweep_grid g;

	(void)state;
	grid_init(&g);
	add_ok(&g, "fq_size=4096,256,1024");
	assert_int_equal(g.naxes, 1);
	assert_string_equal(g.axes[0].name, "fq_size");
	assert_string_equal(g.axes[0].column, "fq_size");
	assert_int_equal(g.axes[0].kind, SWEEP_AXIS_KEY);
	assert_ptr_equal(g.axes[0].key, iommusim_key_find(IOMMUSIM_KEY_POLICY, "fq_size"));
	assert_string_equal(g.axes[0].where, WHERE);
	assert_values(&g.axes[0], want, 3);
	assert_int_equal(g.npoints, 3);
	sweep_grid_free(&g);
}

/* 256..65536:x2 is the nine powers of two from 256 to 65536; *2 the same. */
static void
test_sweep_grid_add_multiplying_range_reaches_its_end(void **state)
{
	const uint64_t want[] = { 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536 };

	(void)state;
	assert_axis_values("fq_size=256..65536:x2", want, 9);
	assert_axis_values("fq_size=256..65536:*2", want, 9);
}

/* An end the factor does not hit is not passed: 2, 8, 32 for 2..100:x4. */
static void
test_sweep_grid_add_multiplying_range_stops_below_an_end_it_misses(void **state)
{
	const uint64_t want[] = { 2, 8, 32 };

	(void)state;
	assert_axis_values("iodepth=2..100:x4", want, 3);
}

/* The end is a bound, not a value: it need not be a power of two for
 * fq_size; the values stop below it. A first value the key refuses is
 * refused. */
static void
test_sweep_grid_add_range_end_is_a_bound_not_a_value(void **state)
{
	const uint64_t want[] = { 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536 };
	struct sweep_grid g;
	char err[512] = "";

	(void)state;
	assert_axis_values("fq_size=256..100000:x2", want, 9);
	grid_init(&g);
	assert_int_equal(sweep_grid_add(&g, "fq_size=300..100000:x2", WHERE,
					SWEEP_DEFAULT_MAX_POINTS, err, sizeof(err)),
			 -EINVAL);
	assert_contains(err, "300");
	sweep_grid_free(&g);
}

/* :+8 and :8 both add 8, and 64 is not reached from 1: 1, 9, ..., 57. */
static void
test_sweep_grid_add_adding_range_stops_below_an_end_it_misses(void **state)
{
	const uint64_t want[] = { 1, 9, 17, 25, 33, 41, 49, 57 };

	(void)state;
	assert_axis_values("iodepth=1..64:+8", want, 8);
	assert_axis_values("iodepth=1..64:8", want, 8);
}

/* A count's range without a step steps by 1, both ends in. */
static void
test_sweep_grid_add_count_range_without_step_steps_by_one(void **state)
{
	const uint64_t want[] = { 3, 4, 5, 6, 7 };
	const uint64_t one[] = { 5 };

	(void)state;
	assert_axis_values("iodepth=3..7", want, 5);
	assert_axis_values("iodepth=5..5", one, 1);
}

/* Lists and ranges mix in one axis, in the order written. */
static void
test_sweep_grid_add_mixes_values_and_ranges(void **state)
{
	const uint64_t want[] = { 1, 4, 8, 16, 100 };

	(void)state;
	assert_axis_values("iodepth=1,4..16:x2,100", want, 5);
}

/* Times take their units and are kept in ns; the column says so. */
static void
test_sweep_grid_add_times_take_units_and_are_ns(void **state)
{
	const uint64_t want[] = { 1 * MS, 10 * MS, 1000 * MS };
	struct sweep_grid g;

	(void)state;
	grid_init(&g);
	add_ok(&g, "fq_timeout=1ms,10ms,1s");
	assert_values(&g.axes[0], want, 3);
	assert_string_equal(g.axes[0].column, "fq_timeout_ns");
	sweep_grid_free(&g);
}

/* A time range steps by a time, or multiplies. */
static void
test_sweep_grid_add_time_range_steps_by_a_time(void **state)
{
	const uint64_t add[] = { 1 * MS, 2 * MS, 3 * MS, 4 * MS, 5 * MS };
	const uint64_t mul[] = { 1 * MS, 10 * MS, 100 * MS, 1000 * MS };
	const uint64_t ns[] = { 0, 2500, 5000, 7500, 10000 };

	(void)state;
	assert_axis_values("fq_timeout=1ms..5ms:+1ms", add, 5);
	assert_axis_values("fq_timeout=1ms..1s:x10", mul, 4);
	assert_axis_values("dev_latency=0..10us:+2500ns", ns, 5);
}

/* A step may be below the key's minimum: it is a quantity, not a value
 * (memory is at least 64m; a step of 32m is fine). */
static void
test_sweep_grid_add_step_below_the_keys_minimum_is_allowed(void **state)
{
	const uint64_t mib = UINT64_C(1) << 20;
	const uint64_t want[] = { 64 * mib, 96 * mib, 128 * mib, 160 * mib, 192 * mib };

	(void)state;
	assert_axis_values("memory=64m..192m:+32m", want, 5);
}

/* Size keys: values in bytes, a column in bytes (bytes/s for a bandwidth);
 * other columns: _ns for times, the bare name for counts. */
static void
test_sweep_grid_add_columns_name_the_unit(void **state)
{
	const uint64_t want[] = { 4096, 8192, 12288, 16384 };
	static const struct {
		const char *spec, *column;
	} cols[] = {
		{ "bs=4k", "bs_bytes" },
		{ "dev_bandwidth=2g", "dev_bandwidth_bytes_per_s" },
		{ "ism_dmb_size=1m", "ism_dmb_size_bytes" },
		{ "fq_timeout=10ms", "fq_timeout_ns" },
		{ "dev_latency=10us", "dev_latency_ns" },
		{ "iodepth=4", "iodepth" },
		{ "clock_ghz=2.5", "clock_ghz" },
		{ "rw=read", "rw" },
		{ "policy=strict", "policy" },
		{ "platform=kvm", "platform" },
	};
	struct sweep_grid g;
	size_t i;

	(void)state;
	assert_axis_values("bs=4k..16k:+4k", want, 4);
	for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		grid_init(&g);
		add_ok(&g, cols[i].spec);
		if (strcmp(g.axes[0].column, cols[i].column))
			fail_msg("%s: column '%s', want '%s'", cols[i].spec, g.axes[0].column,
				 cols[i].column);
		sweep_grid_free(&g);
	}
}

/* A real key's ranges: an added real, or a real factor above 1. */
static void
test_sweep_grid_add_real_ranges(void **state)
{
	const double add[] = { 1, 1.25, 1.5, 1.75, 2 };
	const double twice[] = { 1, 2, 4 };
	const double half_again[] = { 1, 1.5, 2.25 };
	struct sweep_grid g;

	(void)state;
	grid_init(&g);
	add_ok(&g, "clock_ghz=1..2:+0.25");
	assert_reals(&g.axes[0], add, 5);
	add_ok(&g, "clock_ghz=1..4:x2");
	assert_reals(&g.axes[0], twice, 3);
	add_ok(&g, "clock_ghz=1..3:x1.5");
	assert_reals(&g.axes[0], half_again, 3);
	/* Within rounding of the end is the end: 0.1 + 2 x 0.1 is
	 * 0.30000000000000004, written 0.3. */
	add_ok(&g, "clock_ghz=0.1..0.3:+0.1");
	assert_int_equal(g.axes[0].nvalues, 3);
	assert_true(g.axes[0].values[2].d == 0.3);
	assert_int_equal(g.naxes, 1);
	sweep_grid_free(&g);
}

/* platform= takes built-in profiles' names. */
static void
test_sweep_grid_add_platform_axis_names_profiles(void **state)
{
	struct sweep_grid g;
	char text[32];

	(void)state;
	grid_init(&g);
	add_ok(&g, "platform=kvm,lpar,zvm");
	assert_int_equal(g.axes[0].kind, SWEEP_AXIS_PLATFORM);
	assert_int_equal(g.axes[0].nvalues, 3);
	assert_non_null(iommusim_profile_find("kvm"));
	assert_ptr_equal(g.axes[0].profiles[0], iommusim_profile_find("kvm"));
	assert_ptr_equal(g.axes[0].profiles[1], iommusim_profile_find("lpar"));
	assert_ptr_equal(g.axes[0].profiles[2], iommusim_profile_find("zvm"));
	sweep_point_value_text(&g, 1, 0, text, sizeof(text));
	assert_string_equal(text, "lpar");
	assert_int_equal(g.npoints, 3);
	sweep_grid_free(&g);
}

/* policy= takes the policies' names, as the job file's policy= does. */
static void
test_sweep_grid_add_policy_axis_takes_policy_names(void **state)
{
	const uint64_t want[] = { IOMMUSIM_POLICY_STRICT, IOMMUSIM_POLICY_LAZY_SINGLE,
				  IOMMUSIM_POLICY_KERNEL };
	struct sweep_grid g;
	char text[32];

	(void)state;
	grid_init(&g);
	add_ok(&g, "policy=strict,lazy-single,kernel");
	assert_int_equal(g.axes[0].kind, SWEEP_AXIS_POLICY);
	assert_values(&g.axes[0], want, 3);
	sweep_point_value_text(&g, 1, 0, text, sizeof(text));
	assert_string_equal(text, "lazy-single");
	sweep_grid_free(&g);
}

/* An axis given again replaces the first, in its place; the size follows. */
static void
test_sweep_grid_add_same_axis_twice_replaces_it_in_place(void **state)
{
	const uint64_t fq[] = { 2, 4 };
	const uint64_t depth[] = { 1, 2, 3 };
	struct sweep_grid g;
	char err[256] = "";

	(void)state;
	grid_init(&g);
	add_ok(&g, "fq_size=256..65536:x2");
	add_ok(&g, "iodepth=1..3");
	add_ok(&g, "numjobs=1,2,4,8");
	assert_int_equal(g.npoints, 9 * 3 * 4);
	add_ok(&g, "fq_size=2,4");
	assert_int_equal(g.naxes, 3);
	assert_string_equal(g.axes[0].name, "fq_size");
	assert_values(&g.axes[0], fq, 2);
	assert_string_equal(g.axes[1].name, "iodepth");
	assert_values(&g.axes[1], depth, 3);
	assert_string_equal(g.axes[2].name, "numjobs");
	assert_int_equal(g.npoints, 2 * 3 * 4);
	/* a replacement that fails leaves the first */
	assert_int_equal(
		sweep_grid_add(&g, "fq_size=3", WHERE, SWEEP_DEFAULT_MAX_POINTS, err, sizeof(err)),
		-EINVAL);
	assert_values(&g.axes[0], fq, 2);
	assert_int_equal(g.npoints, 2 * 3 * 4);
	sweep_grid_free(&g);
}

/* The grid's size is the product of its axes'; 1 with none. */
static void
test_sweep_grid_npoints_is_the_product(void **state)
{
	struct sweep_grid g;

	(void)state;
	grid_init(&g);
	assert_int_equal(g.npoints, 1);
	add_ok(&g, "iodepth=1..3");
	assert_int_equal(g.npoints, 3);
	add_ok(&g, "platform=kvm,lpar,zvm,x86-vtd");
	assert_int_equal(g.npoints, 12);
	add_ok(&g, "fq_timeout=1ms,2ms");
	assert_int_equal(g.npoints, 24);
	add_ok(&g, "rw=read");
	assert_int_equal(g.npoints, 24);
	assert_int_equal(g.naxes, 4);
	sweep_grid_free(&g);
	assert_int_equal(g.naxes, 0);
	assert_int_equal(g.npoints, 1);
}

/* ---- sweep_grid_add: errors ---------------------------------------------- */

static const struct {
	const char *spec;
	const char *token; /* the offending text, as the message quotes it */
	const char *what; /* what the message says of it */
} bad_axes[] = {
	{ "fq_size", "'fq_size'", "KEY=LIST" },
	{ "=256", "'=256'", "KEY=LIST" },
	{ "fq_sise=256", "'fq_sise'", "unknown key" },
	{ "a_key_name_much_too_long_to_be_one=1", "a_key_name_much_too_long_to_be_one",
	  "too long" },
	{ "fq_size=", "'fq_size='", "an empty value" },
	{ "fq_size=256,", "'fq_size=256,'", "an empty value" },
	{ "fq_size=256,,512", "'fq_size=256,,512'", "an empty value between commas" },
	{ "iodepth=64..1", "'iodepth=64..1'", "ends below its start" },
	{ "iodepth=..4", "'iodepth=..4'", "FIRST..LAST" },
	{ "iodepth=1..", "'iodepth=1..'", "FIRST..LAST" },
	{ "iodepth=0..4", "'iodepth=0..4'", "bad value '0'" },
	{ "fq_size=256..65536:x1", "'fq_size=256..65536:x1'", "at least 2" },
	{ "fq_size=256..65536:x0", "'fq_size=256..65536:x0'", "at least 2" },
	{ "iodepth=1..64:xabc", "'iodepth=1..64:xabc'", "not a whole number" },
	{ "iodepth=1..64:+abc", "'iodepth=1..64:+abc'", "'abc'" },
	{ "iodepth=1..64:abc", "'iodepth=1..64:abc'", "'abc'" },
	{ "iodepth=1..64:", "'iodepth=1..64:'", "an empty step" },
	{ "iodepth=1..64:+0", "'iodepth=1..64:+0'", "not above 0" },
	{ "io_base_cycles=0..8:x2", "'io_base_cycles=0..8:x2'", "a start above 0" },
	{ "clock_ghz=1..2:x1", "'clock_ghz=1..2:x1'", "above 1" },
	{ "fq_timeout=1ms..5ms", "'fq_timeout=1ms..5ms'", "needs a step" },
	{ "bs=4k..16k", "'bs=4k..16k'", "needs a step" },
	{ "clock_ghz=1..2", "'clock_ghz=1..2'", "needs a step" },
	{ "rw=read..write", "'rw=read..write'", "a range of enum values" },
	{ "fq_size=2..64:+2", "'fq_size=2..64:+2'", "the range reaches 6" },
	{ "fq_size=256,512,256", "'fq_size'", "the value 256 is there twice" },
	{ "fq_size=256,256..1024:x2", "'fq_size'", "the value 256 is there twice" },
	{ "fq_timeout=1s,1000ms", "'fq_timeout'", "the value 1000000000 is there twice" },
	{ "clock_ghz=1.5,1.50", "'clock_ghz'", "the value 1.5 is there twice" },
	{ "platform=kvm,lpar,kvm", "'platform'", "the value kvm is there twice" },
	{ "seed=1,2", "'seed=1,2'", "the seed is not an axis" },
	{ "platform=kvm,nosuch", "'nosuch'", "unknown platform" },
	{ "policy=lazy,strict", "'policy=lazy'", "bad value 'lazy'" },
	{ "iodepth=1,fast", "'iodepth=fast'", "bad value 'fast'" },
};

/* Every bad axis: -EINVAL, "WHERE: 'TOKEN': what", and the grid as it was. */
static void
test_sweep_grid_add_refuses_bad_axes(void **state)
{
	const uint64_t kept[] = { 1, 2 };
	struct sweep_grid g;
	char err[512];
	size_t i;
	int ret;

	(void)state;
	grid_init(&g);
	add_ok(&g, "numjobs=1,2");
	for (i = 0; i < sizeof(bad_axes) / sizeof(bad_axes[0]); i++) {
		memset(err, 0, sizeof(err));
		ret = sweep_grid_add(&g, bad_axes[i].spec, WHERE, SWEEP_DEFAULT_MAX_POINTS, err,
				     sizeof(err));
		if (ret != -EINVAL)
			fail_msg("'%s': %d, want -EINVAL (%s)", bad_axes[i].spec, ret, err);
		if (strncmp(err, WHERE ": ", strlen(WHERE ": ")))
			fail_msg("'%s': '%s' does not start with the place", bad_axes[i].spec, err);
		assert_contains(err, bad_axes[i].token);
		assert_contains(err, bad_axes[i].what);
		assert_int_equal(g.naxes, 1);
		assert_values(&g.axes[0], kept, 2);
		assert_int_equal(g.npoints, 2);
	}
	sweep_grid_free(&g);
}

/* fq_size=1000 is refused by the key's own row: it must be a power of two. */
static void
test_sweep_grid_add_refuses_what_the_key_refuses(void **state)
{
	const struct iommusim_key *k = iommusim_key_find(IOMMUSIM_KEY_POLICY, "fq_size");
	const uint64_t ok[] = { 1024 };
	struct sweep_grid g;
	char err[512] = "";

	(void)state;
	assert_non_null(k);
	assert_true(k->pow2);
	assert_true(k->min <= 1000 && 1000 <= k->max); /* refused for the power of two alone */
	grid_init(&g);
	assert_int_equal(sweep_grid_add(&g, "fq_size=1000", WHERE, SWEEP_DEFAULT_MAX_POINTS, err,
					sizeof(err)),
			 -EINVAL);
	assert_contains(err, WHERE);
	assert_contains(err, "'fq_size=1000'");
	assert_contains(err, "bad value '1000' for fq_size");
	assert_contains(err, k->hint);
	assert_int_equal(g.naxes, 0);
	assert_axis_values("fq_size=1024", ok, 1);
	sweep_grid_free(&g);
}

/* SWEEP_MAX_AXES axes, then no more; an axis already there may still be replaced. */
static void
test_sweep_grid_add_refuses_more_than_max_axes(void **state)
{
	static const char *const specs[] = {
		"iodepth=1",	"numjobs=1",	    "cpus=1",		"bs=4k",
		"rwmixread=50", "sg_segments=1",    "dev_slots=1",	"io_base_cycles=0",
		"ism_dmbs=0",	"ism_dmb_size=64k", "dev_latency=10us", "runtime=1s",
		"fq_size=256",	"fq_timeout=10ms",  "rw=read",		"rtr_avail=0",
	};
	struct sweep_grid g;
	char err[512] = "", want[64];
	size_t i;

	(void)state;
	assert_int_equal(sizeof(specs) / sizeof(specs[0]), SWEEP_MAX_AXES);
	grid_init(&g);
	for (i = 0; i < SWEEP_MAX_AXES; i++)
		add_ok(&g, specs[i]);
	assert_int_equal(g.naxes, SWEEP_MAX_AXES);
	assert_int_equal(sweep_grid_add(&g, "clock_ghz=2,3", WHERE, SWEEP_DEFAULT_MAX_POINTS, err,
					sizeof(err)),
			 -EINVAL);
	snprintf(want, sizeof(want), "more than %d axes", SWEEP_MAX_AXES);
	assert_contains(err, want);
	assert_contains(err, WHERE);
	assert_contains(err, "'clock_ghz'");
	assert_int_equal(g.naxes, SWEEP_MAX_AXES);
	assert_int_equal(g.npoints, 1);
	add_ok(&g, "iodepth=1,2");
	assert_int_equal(g.naxes, SWEEP_MAX_AXES);
	assert_int_equal(g.npoints, 2);
	sweep_grid_free(&g);
}

/* --max-points bounds an axis's values and the grid's points; the bound itself is fine. */
static void
test_sweep_grid_add_refuses_a_grid_above_max_points(void **state)
{
	struct sweep_grid g;
	char err[512] = "";

	(void)state;
	grid_init(&g);
	assert_int_equal(sweep_grid_add(&g, "iodepth=1..100", WHERE, 10, err, sizeof(err)),
			 -EINVAL);
	assert_contains(err, WHERE);
	assert_contains(err, "more than 10 values");
	assert_int_equal(sweep_grid_add(&g, "iodepth=1,2,3", WHERE, 2, err, sizeof(err)), -EINVAL);
	assert_contains(err, "more than 2 values");
	assert_int_equal(g.naxes, 0);

	assert_int_equal(sweep_grid_add(&g, "fq_size=2..32:x2", WHERE, 12, err, sizeof(err)), 0);
	assert_int_equal(sweep_grid_add(&g, "iodepth=1..3", WHERE, 12, err, sizeof(err)), -EINVAL);
	assert_contains(err, WHERE);
	assert_contains(err, "'iodepth'");
	assert_contains(err, "more than 12 points");
	assert_int_equal(g.naxes, 1);
	assert_int_equal(g.npoints, 5);
	assert_int_equal(sweep_grid_add(&g, "iodepth=1..3", WHERE, 15, err, sizeof(err)), 0);
	assert_int_equal(g.npoints, 15);
	sweep_grid_free(&g);
}

/* A short error buffer holds a truncated, NUL-terminated message and nothing past it. */
static void
test_sweep_grid_add_truncates_messages_to_the_buffer(void **state)
{
	static const char *const bad[] = { "fq_size", "fq_sise=1", "fq_size=1000", "iodepth=64..1",
					   "fq_size=256,256" };
	struct sweep_grid g;
	char err[32];
	size_t i, j;

	(void)state;
	grid_init(&g);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(err, 'Z', sizeof(err));
		assert_int_equal(
			sweep_grid_add(&g, bad[i], WHERE, SWEEP_DEFAULT_MAX_POINTS, err, 8),
			-EINVAL);
		assert_int_equal(strlen(err), 7);
		assert_memory_equal(err, WHERE, 7);
		for (j = 8; j < sizeof(err); j++)
			if (err[j] != 'Z')
				fail_msg("'%s': byte %zu past the buffer written", bad[i], j);
		memset(err, 'Z', sizeof(err));
		assert_int_equal(
			sweep_grid_add(&g, bad[i], WHERE, SWEEP_DEFAULT_MAX_POINTS, err, 1),
			-EINVAL);
		assert_int_equal(err[0], '\0');
		assert_int_equal(err[1], 'Z');
		assert_int_equal(
			sweep_grid_add(&g, bad[i], WHERE, SWEEP_DEFAULT_MAX_POINTS, NULL, 0),
			-EINVAL);
	}
	assert_int_equal(g.naxes, 0);
}

/* ---- the points --------------------------------------------------------- */

/* The first axis varies slowest: 2 x 3 points in row-major order. */
static void
test_sweep_point_index_first_axis_varies_slowest(void **state)
{
	static const size_t want[6][2] = { { 0, 0 }, { 0, 1 }, { 0, 2 },
					   { 1, 0 }, { 1, 1 }, { 1, 2 } };
	struct sweep_grid g;
	uint64_t p;

	(void)state;
	grid_init(&g);
	add_ok(&g, "fq_size=2,4");
	add_ok(&g, "iodepth=1..3");
	assert_int_equal(g.npoints, 6);
	for (p = 0; p < 6; p++) {
		assert_int_equal(sweep_point_index(&g, p, 0), want[p][0]);
		assert_int_equal(sweep_point_index(&g, p, 1), want[p][1]);
	}
	sweep_grid_free(&g);
}

/* Random grids of 1 to 4 axes of 1 to 7 values: p -> (i_0..i_k) is onto the
 * tuples of the mixed radix (every index within its axis, and the tuple read
 * back as a mixed-radix number, first axis most significant, is p again, so
 * the map is one-to-one between two sets of npoints elements), and each
 * point's value text is the value at its index. */
static void
test_sweep_point_index_random_grids_are_a_mixed_radix_bijection(void **state)
{
	static const char *const keys[] = { "iodepth", "numjobs", "cpus", "sg_segments",
					    "dev_slots" };
	const uint64_t seed0 = test_seed(UINT64_C(0x5eed5eed));
	uint64_t s = seed0, p, q, product;
	unsigned round;

	(void)state;
	for (round = 0; round < 300; round++) {
		struct sweep_grid g;
		size_t naxes = 1 + test_splitmix64(&s) % 4, size[4], a;
		char spec[64], text[32], want[32];

		grid_init(&g);
		product = 1;
		for (a = 0; a < naxes; a++) {
			size[a] = 1 + test_splitmix64(&s) % 7;
			product *= size[a];
			snprintf(spec, sizeof(spec), "%s=1..%zu", keys[(round + a) % 5], size[a]);
			add_ok(&g, spec);
		}
		if (g.npoints != product)
			fail_msg("round %u (seed 0x%" PRIx64 "): %" PRIu64 " points, want %" PRIu64,
				 round, seed0, g.npoints, product);
		for (p = 0; p < g.npoints; p++) {
			q = 0;
			for (a = 0; a < naxes; a++) {
				size_t i = sweep_point_index(&g, p, a);

				if (i >= size[a])
					fail_msg("round %u (seed 0x%" PRIx64 "): point %" PRIu64
						 " axis %zu: index %zu of %zu",
						 round, seed0, p, a, i, size[a]);
				q = q * size[a] + i;
				sweep_point_value_text(&g, p, a, text, sizeof(text));
				snprintf(want, sizeof(want), "%zu", i + 1);
				if (strcmp(text, want))
					fail_msg("round %u: point %" PRIu64 " axis %zu: '%s', want "
						 "'%s'",
						 round, p, a, text, want);
			}
			if (q != p)
				fail_msg("round %u (seed 0x%" PRIx64 "): point %" PRIu64
					 " reads back as %" PRIu64,
					 round, seed0, p, q);
		}
		sweep_grid_free(&g);
	}
}

/* Values for tools: numbers bare in the column's unit, names as written. */
static void
test_sweep_point_value_text_writes_numbers_bare(void **state)
{
	static const char *const specs[] = { "platform=kvm",	 "policy=lazy-single",
					     "fq_timeout=100ms", "bs=4k",
					     "clock_ghz=1.5",	 "rtr_avail=yes",
					     "rw=randread",	 "dev_bandwidth=2k" };
	static const char *const want[] = { "kvm", "lazy-single", "100000000", "4096",
					    "1.5", "1",		  "randread",  "2048" };
	struct sweep_grid g;
	char text[64];
	size_t a;

	(void)state;
	grid_init(&g);
	for (a = 0; a < sizeof(specs) / sizeof(specs[0]); a++)
		add_ok(&g, specs[a]);
	for (a = 0; a < g.naxes; a++) {
		sweep_point_value_text(&g, 0, a, text, sizeof(text));
		if (strcmp(text, want[a]))
			fail_msg("%s: '%s', want '%s'", specs[a], text, want[a]);
	}
	sweep_grid_free(&g);
}

/* Labels for people: times in the largest whole unit, which the key reads back. */
static void
test_sweep_point_label_shows_times_with_units(void **state)
{
	static const char *const want[] = {
		"fq_size=256 fq_timeout=100ms",	 "fq_size=256 fq_timeout=1s",
		"fq_size=256 fq_timeout=1500ms", "fq_size=512 fq_timeout=100ms",
		"fq_size=512 fq_timeout=1s",	 "fq_size=512 fq_timeout=1500ms",
	};
	static const char *const latency[] = { "dev_latency=10us", "dev_latency=1500ns",
					       "dev_latency=0ns", "dev_latency=2s" };
	struct sweep_grid g;
	struct iommusim_key_value v;
	char label[128], err[256];
	uint64_t p;

	(void)state;
	grid_init(&g);
	add_ok(&g, "fq_size=256,512");
	add_ok(&g, "fq_timeout=100ms,1s,1500ms");
	for (p = 0; p < g.npoints; p++) {
		sweep_point_label(&g, p, label, sizeof(label));
		assert_string_equal(label, want[p]);
	}
	sweep_grid_free(&g);

	grid_init(&g);
	add_ok(&g, "dev_latency=10us,1500ns,0,2s");
	for (p = 0; p < g.npoints; p++) {
		sweep_point_label(&g, p, label, sizeof(label));
		assert_string_equal(label, latency[p]);
		assert_int_equal(iommusim_key_parse(g.axes[0].key, strchr(label, '=') + 1, &v, err,
						    sizeof(err)),
				 0);
		assert_int_equal(v.u, g.axes[0].values[p].u);
	}
	sweep_grid_free(&g);

	grid_init(&g);
	add_ok(&g, "platform=kvm");
	add_ok(&g, "policy=strict");
	sweep_point_label(&g, 0, label, sizeof(label));
	assert_string_equal(label, "platform=kvm policy=strict");
	sweep_grid_free(&g);
}

/* Without axes the one point is the base job. */
static void
test_sweep_point_label_of_no_axes_is_the_base_job(void **state)
{
	struct sweep_grid g;
	char label[64];

	(void)state;
	grid_init(&g);
	sweep_point_label(&g, 0, label, sizeof(label));
	assert_string_equal(label, "the base job");
}

/* A short buffer holds the start of the label, NUL-terminated, and no more. */
static void
test_sweep_point_label_truncates_to_the_buffer(void **state)
{
	struct sweep_grid g;
	char full[128], label[sizeof(full)];
	size_t len;

	(void)state;
	grid_init(&g);
	add_ok(&g, "fq_size=256");
	add_ok(&g, "fq_timeout=100ms");
	add_ok(&g, "iodepth=32");
	sweep_point_label(&g, 0, full, sizeof(full));
	for (len = 1; len < strlen(full) + 2; len++) {
		memset(label, 'Z', sizeof(label));
		sweep_point_label(&g, 0, label, len);
		assert_true(strlen(label) < len);
		assert_memory_equal(label, full, strlen(label));
		assert_int_equal(strlen(label), len - 1 < strlen(full) ? len - 1 : strlen(full));
		if (len < sizeof(label))
			assert_int_equal(label[len], 'Z');
	}
	sweep_grid_free(&g);
}

/* ---- sweep_grid_read_file ------------------------------------------------ */

/* The [sweep] section's lines are axes named FILE:LINE; reps= sets the replicates. */
static void
test_sweep_grid_read_file_reads_the_sweep_section(void **state)
{
	const char *text = "; a sweep of the flush queue\n"
			   "[global]\n"
			   "platform=kvm\n"
			   "policy=lazy-single\n"
			   "\n"
			   "[job]\n"
			   "rw=randread\n"
			   "iodepth=4\n"
			   "\n"
			   "[sweep]\n"
			   "; the sizes\n"
			   "# and the timeouts\n"
			   "  fq_size = 256..1024:x2   ; three sizes\n"
			   "fq_timeout=1ms,10ms\r\n"
			   "reps = 5\n"
			   "[platform]\n"
			   "shadow_limit=1..4\n";
	const uint64_t fq[] = { 256, 512, 1024 };
	const uint64_t to[] = { 1 * MS, 10 * MS };
	struct sweep_grid g;
	char *path = write_temp(text), err[512] = "", where[512];
	unsigned reps = 1;
	int ret;

	(void)state;
	grid_init(&g);
	ret = sweep_grid_read_file(&g, path, &reps, SWEEP_DEFAULT_MAX_POINTS, err, sizeof(err));
	if (ret)
		fail_msg("%d: %s", ret, err);
	assert_int_equal(reps, 5);
	assert_int_equal(g.naxes, 2);
	assert_string_equal(g.axes[0].name, "fq_size");
	assert_values(&g.axes[0], fq, 3);
	snprintf(where, sizeof(where), "%s:13", path);
	assert_string_equal(g.axes[0].where, where);
	assert_string_equal(g.axes[1].name, "fq_timeout");
	assert_values(&g.axes[1], to, 2);
	snprintf(where, sizeof(where), "%s:14", path);
	assert_string_equal(g.axes[1].where, where);
	assert_int_equal(g.npoints, 6);
	sweep_grid_free(&g);
	unlink(path);
	free(path);
}

/* A key twice in the section: the later line's axis. */
static void
test_sweep_grid_read_file_later_line_replaces_an_axis(void **state)
{
	const uint64_t want[] = { 4, 8 };
	struct sweep_grid g;
	char *path = write_temp("[job]\n[sweep]\niodepth=1,2\nnumjobs=1\niodepth=4,8\n");
	char err[512] = "", where[512];
	unsigned reps = 3;

	(void)state;
	grid_init(&g);
	assert_int_equal(
		sweep_grid_read_file(&g, path, &reps, SWEEP_DEFAULT_MAX_POINTS, err, sizeof(err)),
		0);
	assert_int_equal(g.naxes, 2);
	assert_string_equal(g.axes[0].name, "iodepth");
	assert_values(&g.axes[0], want, 2);
	snprintf(where, sizeof(where), "%s:5", path);
	assert_string_equal(g.axes[0].where, where);
	assert_int_equal(reps, 3);
	sweep_grid_free(&g);
	unlink(path);
	free(path);
}

/* Without a [sweep] section: no axes, and the replicates as they were. */
static void
test_sweep_grid_read_file_without_a_sweep_section_changes_nothing(void **state)
{
	struct sweep_grid g;
	char *path = write_temp("[global]\nplatform=kvm\n[job]\nrw=read\niodepth=1..4\n");
	char err[512] = "";
	unsigned reps = 7;

	(void)state;
	grid_init(&g);
	assert_int_equal(
		sweep_grid_read_file(&g, path, &reps, SWEEP_DEFAULT_MAX_POINTS, err, sizeof(err)),
		0);
	assert_int_equal(g.naxes, 0);
	assert_int_equal(g.npoints, 1);
	assert_int_equal(reps, 7);
	unlink(path);
	free(path);
}

/* A bad line's message names FILE:LINE and the line. */
static void
test_sweep_grid_read_file_names_the_bad_line(void **state)
{
	static const struct {
		const char *line, *token;
	} bad[] = {
		{ "garbage", "'garbage'" },
		{ "fq_size=1000", "'fq_size=1000'" },
		{ "fq_sise=256", "'fq_sise'" },
		{ "reps=0", "'0'" },
		{ "reps=1001", "'1001'" },
		{ "reps=two", "'two'" },
		{ "reps=", "reps" },
		{ "= 4", "KEY=LIST" },
	};
	struct sweep_grid g;
	char text[256], err[512], where[512];
	unsigned reps;
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *path;

		snprintf(text, sizeof(text), "[job]\nrw=read\n[sweep]\niodepth=1,2\n%s\n",
			 bad[i].line);
		path = write_temp(text);
		grid_init(&g);
		reps = 1;
		err[0] = '\0';
		ret = sweep_grid_read_file(&g, path, &reps, SWEEP_DEFAULT_MAX_POINTS, err,
					   sizeof(err));
		if (ret != -EINVAL)
			fail_msg("'%s': %d, want -EINVAL (%s)", bad[i].line, ret, err);
		snprintf(where, sizeof(where), "%s:5: ", path);
		if (strncmp(err, where, strlen(where)))
			fail_msg("'%s': '%s' does not start with '%s'", bad[i].line, err, where);
		assert_contains(err, bad[i].token);
		assert_int_equal(reps, 1);
		sweep_grid_free(&g);
		unlink(path);
		free(path);
	}
}

/* A path too long for the message's place keeps its line number: the path
 * is cut from the left. */
static void
test_sweep_grid_read_file_long_path_keeps_the_line(void **state)
{
	char dir[128], sub[300], path[640], err[1024] = "";
	struct sweep_grid g;
	unsigned reps = 1;
	const char *base = getenv("TMPDIR");
	FILE *f;
	int ret;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/test_sweep_long_XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
	/* 130 + 230 characters and more: beyond the 320 of a place. */
	snprintf(sub, sizeof(sub), "%s/%0130d", dir, 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/%0230d.ini", sub, 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[job]\nrw=read\n[sweep]\niodepth=1,2\nfq_size=1000\n", f);
	assert_int_equal(fclose(f), 0);
	grid_init(&g);
	ret = sweep_grid_read_file(&g, path, &reps, SWEEP_DEFAULT_MAX_POINTS, err, sizeof(err));
	assert_int_equal(ret, -EINVAL);
	assert_contains(err, "0000.ini:5: ");
	assert_contains(err, "...");
	sweep_grid_free(&g);
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}

/* A file that is not there: -ENOENT, and a message naming it. */
static void
test_sweep_grid_read_file_missing_file_is_enoent(void **state)
{
	const char *path = "/nonexistent/test_sweep/no.ini";
	struct sweep_grid g;
	char err[512] = "", small[16];
	unsigned reps = 4;

	(void)state;
	grid_init(&g);
	assert_int_equal(
		sweep_grid_read_file(&g, path, &reps, SWEEP_DEFAULT_MAX_POINTS, err, sizeof(err)),
		-ENOENT);
	assert_contains(err, path);
	assert_int_equal(reps, 4);
	assert_int_equal(g.naxes, 0);
	memset(small, 'Z', sizeof(small));
	assert_int_equal(sweep_grid_read_file(&g, path, &reps, SWEEP_DEFAULT_MAX_POINTS, small, 8),
			 -ENOENT);
	assert_int_equal(strlen(small), 7);
	assert_int_equal(small[8], 'Z');
}

/* ---- statistics ---------------------------------------------------------- */

/* {1..5}: mean 3, s = sqrt(2.5), half-width t95(4) s / sqrt(5). */
static void
test_sweep_stat_of_known_samples(void **state)
{
	const double x[] = { 1, 2, 3, 4, 5 };
	const double two[] = { 0, 2 };
	const double same[] = { 7, 7, 7, 7 };
	struct sweep_stat s;

	(void)state;
	s = sweep_stat_of(x, 5);
	assert_near(s.mean, 3.0, 1e-12);
	assert_near(s.ci95, 2.776 * sqrt(2.5) / sqrt(5.0), 1e-9);
	/* mean 1, s = sqrt(2): the half-width is t95(1) */
	s = sweep_stat_of(two, 2);
	assert_near(s.mean, 1.0, 1e-12);
	assert_near(s.ci95, 12.706, 1e-9);
	s = sweep_stat_of(same, 4);
	assert_near(s.mean, 7.0, 1e-12);
	assert_near(s.ci95, 0.0, 1e-12);
}

/* One replicate has a mean and no interval. */
static void
test_sweep_stat_of_one_sample_has_nan_ci95(void **state)
{
	const double x[] = { 42.5 };
	struct sweep_stat s;

	(void)state;
	s = sweep_stat_of(x, 1);
	assert_near(s.mean, 42.5, 0);
	assert_true(isnan(s.ci95));
	s = sweep_stat_of(x, 0);
	assert_true(isnan(s.mean));
	assert_true(isnan(s.ci95));
}

/* A degree of freedom and its two-sided 95% Student's t. */
struct t_row {
	unsigned df;
	double t;
};

/* sweep_t95 of every row within @p eps of its t. */
static void
assert_t95_rows(const struct t_row *rows, size_t n, double eps)
{
	size_t i;

	for (i = 0; i < n; i++) {
		double t = sweep_t95(rows[i].df);

		if (!(fabs(t - rows[i].t) <= eps))
			fail_msg("t95(%u) = %.6f, want %.6f (within %g)", rows[i].df, t, rows[i].t,
				 eps);
	}
}

/* Student's t, two-sided 95%, against a printed table. */
static void
test_sweep_t95_matches_the_student_table(void **state)
{
	static const struct t_row table[] = {
		{ 1, 12.706 }, { 2, 4.303 },   { 3, 3.182 },   { 4, 2.776 },	{ 5, 2.571 },
		{ 10, 2.228 }, { 20, 2.086 },  { 30, 2.042 },  { 31, 2.040 },	{ 40, 2.021 },
		{ 60, 2.000 }, { 100, 1.984 }, { 120, 1.980 }, { 1000, 1.962 },
	};

	(void)state;
	assert_t95_rows(table, sizeof(table) / sizeof(table[0]), 1e-3);
}

/* Beyond its table t95 is an expansion in 1/df, within 1e-4 of the exact
 * quantile (computed from the incomplete beta function) from df 31 on. */
static void
test_sweep_t95_beyond_the_table_is_within_1_e_4(void **state)
{
	static const struct t_row exact[] = {
		{ 31, 2.039513 },  { 35, 2.030108 },   { 40, 2.021075 },
		{ 50, 2.008559 },  { 60, 2.000298 },   { 100, 1.983972 },
		{ 120, 1.979930 }, { 1000, 1.962339 }, { 10000, 1.960201 },
	};

	(void)state;
	assert_t95_rows(exact, sizeof(exact) / sizeof(exact[0]), 1e-4);
}

/* t95 falls with every degree of freedom, towards z = 1.96 from above. */
static void
test_sweep_t95_decreases_towards_1_96(void **state)
{
	unsigned df;

	(void)state;
	for (df = 1; df < 20000; df++) {
		double t = sweep_t95(df), next = sweep_t95(df + 1);

		if (!(next < t))
			fail_msg("t95(%u) = %.9f, t95(%u) = %.9f", df, t, df + 1, next);
		if (!(next > 1.959963))
			fail_msg("t95(%u) = %.9f is below z", df + 1, next);
	}
	assert_near(sweep_t95(1000000), 1.959964, 1e-4);
}

/* ---- replicates' seeds ---------------------------------------------------- */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Replicate 0 runs the base seed; the others differ from it and from each
 * other, stay below 2^63 (a run's seed) and are the same every time. */
static void
test_sweep_rep_seed_is_the_base_then_distinct_63_bit_seeds(void **state)
{
	static const uint64_t bases[] = { 0, 1, 42, UINT64_C(0x123456789abcdef),
					  IOMMUSIM_RUN_SEED_MAX };
	enum { REPS = 1000 };
	static uint64_t seen[REPS];
	size_t b;
	unsigned r;

	(void)state;
	for (b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		assert_int_equal(sweep_rep_seed(bases[b], 0), bases[b]);
		for (r = 0; r < REPS; r++) {
			seen[r] = sweep_rep_seed(bases[b], r);
			if (seen[r] > IOMMUSIM_RUN_SEED_MAX)
				fail_msg("base %" PRIu64 " rep %u: %" PRIu64 " is above 2^63-1",
					 bases[b], r, seen[r]);
			if (r && seen[r] == bases[b])
				fail_msg("base %" PRIu64 " rep %u: the base seed again", bases[b],
					 r);
			assert_int_equal(sweep_rep_seed(bases[b], r), seen[r]);
		}
		qsort(seen, REPS, sizeof(seen[0]), cmp_u64);
		for (r = 1; r < REPS; r++)
			if (seen[r] == seen[r - 1])
				fail_msg("base %" PRIu64 ": two replicates share %" PRIu64,
					 bases[b], seen[r]);
	}
}

/* ---- formats ---------------------------------------------------------------- */

static void
test_sweep_format_names_round_trip(void **state)
{
	static const enum sweep_format all[] = { SWEEP_CSV, SWEEP_JSON, SWEEP_LONG };
	static const char *const names[] = { "csv", "json", "long" };
	enum sweep_format f;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_string_equal(sweep_format_name(all[i]), names[i]);
		f = all[(i + 1) % 3];
		assert_int_equal(sweep_format_parse(sweep_format_name(all[i]), &f), 0);
		assert_int_equal(f, all[i]);
	}
	f = SWEEP_CSV;
	assert_int_equal(sweep_format_parse("jsonl", &f), 0);
	assert_int_equal(f, SWEEP_JSON);
}

static void
test_sweep_format_parse_refuses_other_names(void **state)
{
	static const char *const bad[] = { "xml", "", "csv ", "jso", "longer", "tsv" };
	enum sweep_format f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (sweep_format_parse(bad[i], &f) != -EINVAL)
			fail_msg("'%s' parsed as a format", bad[i]);
}

/* ---- measures ------------------------------------------------------------- */

/* Every measure is named, unique, with its unit last in names of times and rates. */
static void
test_sweep_measures_are_named_once_with_their_units(void **state)
{
	size_t m, n;

	(void)state;
	for (m = 0; m < SWEEP_M_NR; m++) {
		const struct sweep_measure *sm = &sweep_measures[m];

		assert_non_null(sm->name);
		assert_non_null(sm->unit);
		assert_non_null(sm->doc);
		assert_true(sm->name[0] && sm->unit[0] && sm->doc[0]);
		n = strlen(sm->name);
		if (!strcmp(sm->unit, "ns") && (n < 3 || strcmp(sm->name + n - 3, "_ns")))
			fail_msg("%s is in ns", sm->name);
		if (!strcmp(sm->unit, "bytes/s") &&
		    (n < 12 || strcmp(sm->name + n - 12, "_bytes_per_s")))
			fail_msg("%s is in bytes/s", sm->name);
		for (n = 0; n < m; n++)
			if (!strcmp(sweep_measures[n].name, sm->name))
				fail_msg("%s twice", sm->name);
	}
}

/* A run's figures land in their measures; global RPCITs are either API's. */
static void
test_sweep_measures_of_takes_each_figure(void **state)
{
	struct iommusim_run_result r;
	double out[SWEEP_M_NR];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.iops = 1.5e6;
	r.bytes_per_s = 6.1e9;
	r.cpu_cycles_per_io = 1234;
	r.cpu_utilisation = 0.75;
	r.latency.p50 = 11;
	r.latency.p99 = 12;
	r.exposure.p50 = 21;
	r.exposure.p99 = 22;
	r.exposure.max = 23;
	r.exposure_censored = 31;
	r.fq_bytes = 41;
	r.fq_max_entries = 42;
	r.global_rpcits = 51;
	r.legacy_global_rpcits = 7;
	r.rpcits = 61;
	r.status16 = 71;
	r.enomem_recoveries = 81;
	r.map_errors = 91;
	r.ism_events = 101;
	sweep_measures_of(&r, out);
	assert_near(out[SWEEP_M_IOPS], 1.5e6, 0);
	assert_near(out[SWEEP_M_THROUGHPUT], 6.1e9, 0);
	assert_near(out[SWEEP_M_CYCLES_PER_IO], 1234, 0);
	assert_near(out[SWEEP_M_CPU_UTILISATION], 0.75, 0);
	assert_near(out[SWEEP_M_LATENCY_P50], 11, 0);
	assert_near(out[SWEEP_M_LATENCY_P99], 12, 0);
	assert_near(out[SWEEP_M_EXPOSURE_P50], 21, 0);
	assert_near(out[SWEEP_M_EXPOSURE_P99], 22, 0);
	assert_near(out[SWEEP_M_EXPOSURE_MAX], 23, 0);
	assert_near(out[SWEEP_M_EXPOSURE_CENSORED], 31, 0);
	assert_near(out[SWEEP_M_FQ_BYTES], 41, 0);
	assert_near(out[SWEEP_M_FQ_MAX_ENTRIES], 42, 0);
	assert_near(out[SWEEP_M_GLOBAL_RPCITS], 51, 0);
	assert_near(out[SWEEP_M_RPCITS], 61, 0);
	assert_near(out[SWEEP_M_STATUS16], 71, 0);
	assert_near(out[SWEEP_M_ENOMEM_RECOVERIES], 81, 0);
	assert_near(out[SWEEP_M_MAP_ERRORS], 91, 0);
	assert_near(out[SWEEP_M_ISM_EVENTS], 101, 0);
	r.legacy_global_rpcits = 500;
	sweep_measures_of(&r, out);
	assert_near(out[SWEEP_M_GLOBAL_RPCITS], 500, 0);
}

/* ---- the base job, each point's configuration, the sweep's identity ------- */

/* tests/data/randread.ini as `iommusim sweep` loads it (sim/cmd_sweep.c). */
static void
load_base(struct iommusim_jobfile *jf, struct sweep_base *b, char *path, size_t len)
{
	const char *root = getenv("IOMMUSIM_SOURCE_ROOT");
	char err[512] = "";
	int ret;

	snprintf(path, len, "%s/tests/data/randread.ini", root && *root ? root : ".");
	memset(jf, 0, sizeof(*jf));
	ret = iommusim_jobfile_parse(path, jf, err, sizeof(err));
	if (ret)
		fail_msg("%s: %d: %s", path, ret, err);
	*b = (struct sweep_base){
		.jf = jf,
		.path = path,
		.platform = jf->platform[0] ? jf->platform : "lpar",
		.seed = jf->has_seed ? jf->seed : 1,
	};
}

/* The axes' values over the file's: profile (with the file's [platform]
 * overrides on the axis' profile), job and policy. */
static void
test_sweep_point_config_puts_the_axes_over_the_job_file(void **state)
{
	struct iommusim_jobfile jf;
	struct sweep_base b;
	struct sweep_grid g;
	struct iommusim_job job;
	struct iommusim_profile prof;
	struct iommusim_policy pol;
	char path[4096], err[512] = "";

	(void)state;
	load_base(&jf, &b, path, sizeof(path));
	/* the file, as these expectations read it */
	assert_string_equal(b.platform, "kvm");
	assert_int_equal(b.seed, 42);
	grid_init(&g);
	add_ok(&g, "platform=lpar,kvm");
	add_ok(&g, "iodepth=1,8");
	add_ok(&g, "fq_size=256");

	assert_int_equal(sweep_point_config(&g, &b, 3, &job, &prof, &pol, err, sizeof(err)), 0);
	assert_string_equal(prof.name, "kvm");
	assert_int_equal(prof.shadow_limit, 65535);
	assert_int_equal(job.iodepth, 8);
	assert_int_equal(job.bs, 4096);
	assert_int_equal(job.numjobs, 4);
	assert_int_equal(job.rw, IOMMUSIM_RW_RANDREAD);
	assert_int_equal(pol.kind, IOMMUSIM_POLICY_LAZY_SINGLE);
	assert_int_equal(pol.fq_size, 256);
	assert_int_equal(pol.fq_timeout_ms, 1000);

	assert_int_equal(sweep_point_config(&g, &b, 0, &job, &prof, &pol, err, sizeof(err)), 0);
	assert_string_equal(prof.name, "lpar");
	assert_int_equal(prof.shadow_limit, 65535);
	assert_int_equal(job.iodepth, 1);
	assert_int_equal(pol.fq_size, 256);
	sweep_grid_free(&g);
}

/* --set and --policy apply before the axes; an axis has the last word. */
static void
test_sweep_point_config_axes_override_set_and_policy(void **state)
{
	static const char *const sets[] = { "numjobs=2", "iodepth=4" };
	struct iommusim_jobfile jf;
	struct sweep_base b;
	struct sweep_grid g;
	struct iommusim_job job;
	struct iommusim_profile prof;
	struct iommusim_policy pol;
	char path[4096], err[512] = "";

	(void)state;
	load_base(&jf, &b, path, sizeof(path));
	b.sets = sets;
	b.nsets = 2;
	b.has_policy_kind = true;
	b.policy_kind = IOMMUSIM_POLICY_STRICT;
	grid_init(&g);
	add_ok(&g, "iodepth=16");
	assert_int_equal(sweep_point_config(&g, &b, 0, &job, &prof, &pol, err, sizeof(err)), 0);
	assert_int_equal(job.numjobs, 2);
	assert_int_equal(job.iodepth, 16);
	assert_int_equal(pol.kind, IOMMUSIM_POLICY_STRICT);
	assert_string_equal(prof.name, "kvm");
	add_ok(&g, "policy=lazy-percpu");
	assert_int_equal(sweep_point_config(&g, &b, 0, &job, &prof, &pol, err, sizeof(err)), 0);
	assert_int_equal(pol.kind, IOMMUSIM_POLICY_LAZY_PERCPU);
	sweep_grid_free(&g);
}

/* An unknown base platform fails, by name. */
static void
test_sweep_point_config_refuses_an_unknown_platform(void **state)
{
	struct iommusim_jobfile jf;
	struct sweep_base b;
	struct sweep_grid g;
	struct iommusim_job job;
	struct iommusim_profile prof;
	struct iommusim_policy pol;
	char path[4096], err[512] = "", id[17];

	(void)state;
	load_base(&jf, &b, path, sizeof(path));
	b.platform = "nosuch";
	grid_init(&g);
	add_ok(&g, "iodepth=1,2");
	assert_int_equal(sweep_point_config(&g, &b, 0, &job, &prof, &pol, err, sizeof(err)),
			 -EINVAL);
	assert_contains(err, "'nosuch'");
	err[0] = '\0';
	assert_int_equal(sweep_id(&g, &b, 1, id, err, sizeof(err)), -EINVAL);
	assert_contains(err, "'nosuch'");
	/* a platform axis is the platform */
	add_ok(&g, "platform=zvm");
	assert_int_equal(sweep_point_config(&g, &b, 1, &job, &prof, &pol, err, sizeof(err)), 0);
	assert_string_equal(prof.name, "zvm");
	sweep_grid_free(&g);
}

static void
sweep_id_of(const char *const *specs, size_t nspecs, const struct sweep_base *b, unsigned reps,
	    char id[17])
{
	struct sweep_grid g;
	char err[512] = "";
	size_t i;
	int ret;

	grid_init(&g);
	for (i = 0; i < nspecs; i++)
		add_ok(&g, specs[i]);
	memset(id, 'Z', 17);
	ret = sweep_id(&g, b, reps, id, err, sizeof(err));
	if (ret)
		fail_msg("sweep_id: %d: %s", ret, err);
	sweep_grid_free(&g);
}

/* 16 hex digits, the same for the same sweep. */
static void
test_sweep_id_is_16_hex_digits_and_repeatable(void **state)
{
	static const char *const specs[] = { "fq_size=256,512", "platform=kvm,lpar" };
	struct iommusim_jobfile jf;
	struct sweep_base b;
	char path[4096], id[17], again[17];
	size_t i;

	(void)state;
	load_base(&jf, &b, path, sizeof(path));
	sweep_id_of(specs, 2, &b, 3, id);
	assert_int_equal(strlen(id), 16);
	for (i = 0; i < 16; i++)
		if (!strchr("0123456789abcdef", id[i]))
			fail_msg("'%s' is not hex", id);
	sweep_id_of(specs, 2, &b, 3, again);
	assert_string_equal(id, again);
}

/* A value, the order of the values, the replicates, the seed, a --set: each makes another sweep. */
static void
test_sweep_id_differs_for_another_sweep(void **state)
{
	static const char *const one[] = { "fq_size=256,512" };
	static const char *const value[] = { "fq_size=256,1024" };
	static const char *const order[] = { "fq_size=512,256" };
	static const char *const sets[] = { "numjobs=2" };
	struct iommusim_jobfile jf;
	struct sweep_base b;
	char path[4096], id[17], other[17];

	(void)state;
	load_base(&jf, &b, path, sizeof(path));
	sweep_id_of(one, 1, &b, 1, id);
	sweep_id_of(value, 1, &b, 1, other);
	assert_string_not_equal(id, other);
	sweep_id_of(order, 1, &b, 1, other);
	assert_string_not_equal(id, other);
	sweep_id_of(one, 1, &b, 2, other);
	assert_string_not_equal(id, other);
	b.seed = 43;
	sweep_id_of(one, 1, &b, 1, other);
	assert_string_not_equal(id, other);
	b.seed = 42;
	b.sets = sets;
	b.nsets = 1;
	sweep_id_of(one, 1, &b, 1, other);
	assert_string_not_equal(id, other);
	b.nsets = 0;
	sweep_id_of(one, 1, &b, 1, other);
	assert_string_equal(id, other);
}

/* ---- output ------------------------------------------------------------- */

#define ID "0123456789abcdef"

/* platform x fq_size x fq_timeout: 8 points; point 5 is lpar, 256, 10 ms. */
static void
output_grid(struct sweep_grid *g)
{
	grid_init(g);
	add_ok(g, "platform=kvm,lpar");
	add_ok(g, "fq_size=256,512");
	add_ok(g, "fq_timeout=1ms,10ms");
	assert_int_equal(g->npoints, 8);
}

/* Means that need 17 digits, and a NaN interval on every other measure. */
static void
fill_result(struct sweep_point_result *r, uint64_t p)
{
	size_t m;

	memset(r, 0, sizeof(*r));
	r->point = p;
	r->reps = 3;
	for (m = 0; m < SWEEP_M_NR; m++) {
		r->m[m].mean = (double)(m + 1) / 3.0 * 1000.0;
		r->m[m].ci95 = m % 2 ? NAN : (double)m / 7.0;
	}
	snprintf(r->domain, sizeof(r->domain), "dma-fq");
	snprintf(r->downgrade, sizeof(r->downgrade), "lazy, then \"strict\"");
}

static char fields[64][FIELD_MAX];

/* The CSV header: the point, its axes' columns, reps, each measure and its
 * interval, domain and downgrade. */
static void
test_sweep_header_csv_names_the_axes_and_every_measure(void **state)
{
	struct sweep_grid g;
	char *h, *line, want[FIELD_MAX];
	size_t n, m;

	(void)state;
	output_grid(&g);
	h = sweep_header(&g, SWEEP_CSV);
	assert_non_null(h);
	assert_int_equal(count_lines(h), 1);
	assert_int_equal(h[strlen(h) - 1], '\n');
	line = first_line(h);
	n = csv_split(line, fields, 64);
	assert_int_equal(n, 3 + 3 + 1 + 2 * SWEEP_M_NR + 2);
	assert_string_equal(fields[0], "point");
	assert_string_equal(fields[1], "points");
	assert_string_equal(fields[2], "sweep");
	assert_string_equal(fields[3], "platform");
	assert_string_equal(fields[4], "fq_size");
	assert_string_equal(fields[5], "fq_timeout_ns");
	assert_string_equal(fields[6], "reps");
	for (m = 0; m < SWEEP_M_NR; m++) {
		assert_string_equal(fields[7 + 2 * m], sweep_measures[m].name);
		snprintf(want, sizeof(want), "%s_ci95", sweep_measures[m].name);
		assert_string_equal(fields[8 + 2 * m], want);
	}
	assert_string_equal(fields[n - 2], "domain");
	assert_string_equal(fields[n - 1], "downgrade");
	free(line);
	free(h);
	sweep_grid_free(&g);
}

/* The long header: one measure per row; JSON lines have none. */
static void
test_sweep_header_long_and_json(void **state)
{
	struct sweep_grid g;
	char *h;

	(void)state;
	output_grid(&g);
	h = sweep_header(&g, SWEEP_LONG);
	assert_non_null(h);
	assert_string_equal(h, "point,points,sweep,platform,fq_size,fq_timeout_ns,reps,measure,"
			       "unit,mean,ci95,domain,downgrade\n");
	free(h);
	h = sweep_header(&g, SWEEP_JSON);
	assert_non_null(h);
	assert_string_equal(h, "");
	free(h);
	sweep_grid_free(&g);
	grid_init(&g);
	h = sweep_header(&g, SWEEP_LONG);
	assert_non_null(h);
	assert_string_equal(h, "point,points,sweep,reps,measure,unit,mean,ci95,domain,downgrade\n");
	free(h);
}

/* The CSV prefix: point, points, sweep, the axes' values, and the comma after. */
static void
test_sweep_row_prefix_csv_holds_the_point_and_its_values(void **state)
{
	struct sweep_grid g;
	char *pre;

	(void)state;
	output_grid(&g);
	pre = sweep_row_prefix(&g, SWEEP_CSV, ID, 5);
	assert_non_null(pre);
	assert_string_equal(pre, "5,8," ID ",lpar,256,10000000,");
	free(pre);
	pre = sweep_row_prefix(&g, SWEEP_LONG, ID, 2);
	assert_non_null(pre);
	assert_string_equal(pre, "2,8," ID ",kvm,512,1000000,");
	free(pre);
	sweep_grid_free(&g);
	grid_init(&g);
	pre = sweep_row_prefix(&g, SWEEP_CSV, ID, 0);
	assert_non_null(pre);
	assert_string_equal(pre, "0,1," ID ",");
	free(pre);
}

/* A CSV row: the prefix, then as many fields as the header, each mean read
 * back exactly, an empty field for a NaN interval, quotes where needed. */
static void
test_sweep_rows_csv_row_matches_the_header(void **state)
{
	struct sweep_grid g;
	struct sweep_point_result r;
	char *h, *hline, *row, *line, *pre;
	static char head[64][FIELD_MAX];
	size_t n, m;

	(void)state;
	output_grid(&g);
	fill_result(&r, 5);
	h = sweep_header(&g, SWEEP_CSV);
	pre = sweep_row_prefix(&g, SWEEP_CSV, ID, 5);
	row = sweep_rows(&g, SWEEP_CSV, ID, &r);
	assert_non_null(h);
	assert_non_null(pre);
	assert_non_null(row);
	assert_int_equal(strncmp(row, pre, strlen(pre)), 0);
	assert_int_equal(count_lines(row), 1);
	assert_int_equal(row[strlen(row) - 1], '\n');
	hline = first_line(h);
	line = first_line(row);
	n = csv_split(hline, head, 64);
	assert_int_equal(csv_split(line, fields, 64), n);
	assert_string_equal(fields[0], "5");
	assert_string_equal(fields[3], "lpar");
	assert_string_equal(fields[6], "3");
	for (m = 0; m < SWEEP_M_NR; m++) {
		const char *mean = fields[7 + 2 * m], *ci = fields[8 + 2 * m];

		if (strtod(mean, NULL) != r.m[m].mean)
			fail_msg("%s: '%s' does not read back as %.17g", head[7 + 2 * m], mean,
				 r.m[m].mean);
		if (isnan(r.m[m].ci95)) {
			if (*ci)
				fail_msg("%s: '%s' for NaN", head[8 + 2 * m], ci);
		} else if (!*ci || strtod(ci, NULL) != r.m[m].ci95) {
			fail_msg("%s: '%s' does not read back as %.17g", head[8 + 2 * m], ci,
				 r.m[m].ci95);
		}
	}
	assert_string_equal(fields[n - 2], "dma-fq");
	assert_string_equal(fields[n - 1], "lazy, then \"strict\"");
	assert_non_null(strstr(line, ",\"lazy, then \"\"strict\"\"\""));
	free(hline);
	free(line);
	free(row);
	free(pre);
	free(h);
	sweep_grid_free(&g);
}

/* The long format: SWEEP_M_NR lines, each the prefix, then the measure, its
 * unit, mean and interval, with as many fields as the header. */
static void
test_sweep_rows_long_has_a_line_per_measure(void **state)
{
	struct sweep_grid g;
	struct sweep_point_result r;
	char *h, *hline, *rows, *pre, *line;
	const char *s;
	size_t nh, m;

	(void)state;
	output_grid(&g);
	fill_result(&r, 6);
	h = sweep_header(&g, SWEEP_LONG);
	pre = sweep_row_prefix(&g, SWEEP_LONG, ID, 6);
	rows = sweep_rows(&g, SWEEP_LONG, ID, &r);
	assert_non_null(h);
	assert_non_null(pre);
	assert_non_null(rows);
	assert_int_equal(count_lines(rows), SWEEP_M_NR);
	assert_int_equal(sweep_lines_per_point(SWEEP_LONG), SWEEP_M_NR);
	assert_int_equal(rows[strlen(rows) - 1], '\n');
	hline = first_line(h);
	nh = csv_split(hline, fields, 64);
	for (m = 0, s = rows; m < SWEEP_M_NR; m++, s = strchr(s, '\n') + 1) {
		if (strncmp(s, pre, strlen(pre)))
			fail_msg("line %zu does not start with '%s'", m, pre);
		line = first_line(s);
		assert_int_equal(csv_split(line, fields, 64), nh);
		assert_string_equal(fields[6], "3");
		assert_string_equal(fields[7], sweep_measures[m].name);
		assert_string_equal(fields[8], sweep_measures[m].unit);
		if (strtod(fields[9], NULL) != r.m[m].mean)
			fail_msg("%s: '%s' does not read back", sweep_measures[m].name, fields[9]);
		if (isnan(r.m[m].ci95) ? fields[10][0] != '\0' :
					 strtod(fields[10], NULL) != r.m[m].ci95)
			fail_msg("%s: ci95 '%s'", sweep_measures[m].name, fields[10]);
		assert_string_equal(fields[11], "dma-fq");
		assert_string_equal(fields[12], "lazy, then \"strict\"");
		free(line);
	}
	free(hline);
	free(rows);
	free(pre);
	free(h);
	sweep_grid_free(&g);
}

/* A JSON line: one object that jansson reads, the prefix's members first,
 * numbers as numbers, null for a NaN interval. */
static void
test_sweep_rows_json_parses_with_null_for_nan(void **state)
{
	struct sweep_grid g;
	struct sweep_point_result r;
	char *row, *pre, name[64];
	json_error_t jerr;
	json_t *o, *v;
	size_t m;

	(void)state;
	output_grid(&g);
	fill_result(&r, 5);
	pre = sweep_row_prefix(&g, SWEEP_JSON, ID, 5);
	row = sweep_rows(&g, SWEEP_JSON, ID, &r);
	assert_non_null(pre);
	assert_non_null(row);
	assert_int_equal(sweep_lines_per_point(SWEEP_JSON), 1);
	assert_int_equal(sweep_lines_per_point(SWEEP_CSV), 1);
	assert_int_equal(count_lines(row), 1);
	assert_int_equal(row[strlen(row) - 1], '\n');
	assert_int_equal(pre[0], '{');
	assert_int_equal(pre[strlen(pre) - 1], ',');
	assert_int_equal(strncmp(row, pre, strlen(pre)), 0);
	o = json_loads(row, 0, &jerr);
	if (!o)
		fail_msg("'%s': %s", row, jerr.text);
	assert_true(json_is_object(o));
	assert_int_equal(json_object_size(o), 3 + 3 + 1 + 2 * SWEEP_M_NR + 2);
	assert_int_equal(json_integer_value(json_object_get(o, "point")), 5);
	assert_int_equal(json_integer_value(json_object_get(o, "points")), 8);
	assert_string_equal(json_string_value(json_object_get(o, "sweep")), ID);
	assert_string_equal(json_string_value(json_object_get(o, "platform")), "lpar");
	v = json_object_get(o, "fq_size");
	assert_true(json_is_integer(v));
	assert_int_equal(json_integer_value(v), 256);
	v = json_object_get(o, "fq_timeout_ns");
	assert_true(json_is_integer(v));
	assert_int_equal(json_integer_value(v), 10000000);
	assert_int_equal(json_integer_value(json_object_get(o, "reps")), 3);
	for (m = 0; m < SWEEP_M_NR; m++) {
		v = json_object_get(o, sweep_measures[m].name);
		if (!json_is_real(v) || json_real_value(v) != r.m[m].mean)
			fail_msg("%s: not %.17g", sweep_measures[m].name, r.m[m].mean);
		snprintf(name, sizeof(name), "%s_ci95", sweep_measures[m].name);
		v = json_object_get(o, name);
		if (isnan(r.m[m].ci95) ? !json_is_null(v) :
					 !json_is_real(v) || json_real_value(v) != r.m[m].ci95)
			fail_msg("%s: not %.17g", name, r.m[m].ci95);
	}
	assert_string_equal(json_string_value(json_object_get(o, "domain")), "dma-fq");
	assert_string_equal(json_string_value(json_object_get(o, "downgrade")),
			    "lazy, then \"strict\"");
	json_decref(o);
	free(row);
	free(pre);
	sweep_grid_free(&g);
}

/* The JSON prefix closed is an object: policies as names, reals and booleans as such. */
static void
test_sweep_row_prefix_json_types_each_axis(void **state)
{
	struct sweep_grid g;
	char *pre;
	json_error_t jerr;
	json_t *o;

	(void)state;
	grid_init(&g);
	add_ok(&g, "policy=strict,lazy-single");
	add_ok(&g, "clock_ghz=1.5,2");
	add_ok(&g, "rtr_avail=0,1");
	pre = sweep_row_prefix(&g, SWEEP_JSON, ID, 3);
	assert_non_null(pre);
	pre[strlen(pre) - 1] = '}';
	o = json_loads(pre, 0, &jerr);
	if (!o)
		fail_msg("'%s': %s", pre, jerr.text);
	assert_int_equal(json_object_size(o), 6);
	assert_int_equal(json_integer_value(json_object_get(o, "point")), 3);
	assert_string_equal(json_string_value(json_object_get(o, "policy")), "strict");
	assert_true(json_is_real(json_object_get(o, "clock_ghz")));
	assert_near(json_real_value(json_object_get(o, "clock_ghz")), 2.0, 0);
	assert_true(json_is_true(json_object_get(o, "rtr_avail")));
	json_decref(o);
	free(pre);
	sweep_grid_free(&g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep_grid_add_list_keeps_its_order),
		cmocka_unit_test(test_sweep_grid_add_multiplying_range_reaches_its_end),
		cmocka_unit_test(
			test_sweep_grid_add_multiplying_range_stops_below_an_end_it_misses),
		cmocka_unit_test(test_sweep_grid_add_range_end_is_a_bound_not_a_value),
		cmocka_unit_test(test_sweep_grid_add_adding_range_stops_below_an_end_it_misses),
		cmocka_unit_test(test_sweep_grid_add_count_range_without_step_steps_by_one),
		cmocka_unit_test(test_sweep_grid_add_mixes_values_and_ranges),
		cmocka_unit_test(test_sweep_grid_add_times_take_units_and_are_ns),
		cmocka_unit_test(test_sweep_grid_add_time_range_steps_by_a_time),
		cmocka_unit_test(test_sweep_grid_add_step_below_the_keys_minimum_is_allowed),
		cmocka_unit_test(test_sweep_grid_add_columns_name_the_unit),
		cmocka_unit_test(test_sweep_grid_add_real_ranges),
		cmocka_unit_test(test_sweep_grid_add_platform_axis_names_profiles),
		cmocka_unit_test(test_sweep_grid_add_policy_axis_takes_policy_names),
		cmocka_unit_test(test_sweep_grid_add_same_axis_twice_replaces_it_in_place),
		cmocka_unit_test(test_sweep_grid_npoints_is_the_product),
		cmocka_unit_test(test_sweep_grid_add_refuses_bad_axes),
		cmocka_unit_test(test_sweep_grid_add_refuses_what_the_key_refuses),
		cmocka_unit_test(test_sweep_grid_add_refuses_more_than_max_axes),
		cmocka_unit_test(test_sweep_grid_add_refuses_a_grid_above_max_points),
		cmocka_unit_test(test_sweep_grid_add_truncates_messages_to_the_buffer),
		cmocka_unit_test(test_sweep_point_index_first_axis_varies_slowest),
		cmocka_unit_test(test_sweep_point_index_random_grids_are_a_mixed_radix_bijection),
		cmocka_unit_test(test_sweep_point_value_text_writes_numbers_bare),
		cmocka_unit_test(test_sweep_point_label_shows_times_with_units),
		cmocka_unit_test(test_sweep_point_label_of_no_axes_is_the_base_job),
		cmocka_unit_test(test_sweep_point_label_truncates_to_the_buffer),
		cmocka_unit_test(test_sweep_grid_read_file_reads_the_sweep_section),
		cmocka_unit_test(test_sweep_grid_read_file_later_line_replaces_an_axis),
		cmocka_unit_test(test_sweep_grid_read_file_without_a_sweep_section_changes_nothing),
		cmocka_unit_test(test_sweep_grid_read_file_names_the_bad_line),
		cmocka_unit_test(test_sweep_grid_read_file_long_path_keeps_the_line),
		cmocka_unit_test(test_sweep_grid_read_file_missing_file_is_enoent),
		cmocka_unit_test(test_sweep_stat_of_known_samples),
		cmocka_unit_test(test_sweep_stat_of_one_sample_has_nan_ci95),
		cmocka_unit_test(test_sweep_t95_matches_the_student_table),
		cmocka_unit_test(test_sweep_t95_beyond_the_table_is_within_1_e_4),
		cmocka_unit_test(test_sweep_t95_decreases_towards_1_96),
		cmocka_unit_test(test_sweep_rep_seed_is_the_base_then_distinct_63_bit_seeds),
		cmocka_unit_test(test_sweep_format_names_round_trip),
		cmocka_unit_test(test_sweep_format_parse_refuses_other_names),
		cmocka_unit_test(test_sweep_measures_are_named_once_with_their_units),
		cmocka_unit_test(test_sweep_measures_of_takes_each_figure),
		cmocka_unit_test(test_sweep_point_config_puts_the_axes_over_the_job_file),
		cmocka_unit_test(test_sweep_point_config_axes_override_set_and_policy),
		cmocka_unit_test(test_sweep_point_config_refuses_an_unknown_platform),
		cmocka_unit_test(test_sweep_id_is_16_hex_digits_and_repeatable),
		cmocka_unit_test(test_sweep_id_differs_for_another_sweep),
		cmocka_unit_test(test_sweep_header_csv_names_the_axes_and_every_measure),
		cmocka_unit_test(test_sweep_header_long_and_json),
		cmocka_unit_test(test_sweep_row_prefix_csv_holds_the_point_and_its_values),
		cmocka_unit_test(test_sweep_rows_csv_row_matches_the_header),
		cmocka_unit_test(test_sweep_rows_long_has_a_line_per_measure),
		cmocka_unit_test(test_sweep_rows_json_parses_with_null_for_nan),
		cmocka_unit_test(test_sweep_row_prefix_json_types_each_axis),
	};

	return cmocka_run_group_tests_name("sweep", tests, NULL, NULL);
}
