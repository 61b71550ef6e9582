/* SPDX-License-Identifier: MIT */
/* Option parsing, timing, PRNG and JSON output shared by the benchmarks. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"

/* Busy time before the first case, outside --smoke. */
#define SPIN_UP_NS UINT64_C(300000000)

const char *bench_prog = "bench";

void
bench_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", bench_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
usage(FILE *f, const char *what)
{
	fprintf(f,
		"usage: %s [--smoke] [--iters=N] [--seed=N] [--threads=N] [--help]\n"
		"%s\n"
		"  --smoke      tiny iteration counts: run every case once, quickly (CI)\n"
		"  --iters=N    timed operations per repetition of every case (default: per case)\n"
		"  --seed=N     base seed of the PRNGs (default: fixed, printed in the JSON)\n"
		"  --threads=N  worker threads (every case so far is single-threaded: ignored, with a warning)\n"
		"  --help       show this text\n"
		"Output: one JSON line per case on stdout.\n",
		bench_prog, what);
}

/* Parse the decimal (or 0x hex) value of "--name=VALUE"; exit 2 if malformed. */
static uint64_t
parse_num(const char *arg, const char *val, uint64_t min, uint64_t max)
{
	bool hex = val[0] == '0' && (val[1] == 'x' || val[1] == 'X');
	char *end;
	unsigned long long v;

	/* strtoull would accept a sign, blanks, and octal for a leading 0. */
	if (!(hex ? isxdigit((unsigned char)val[2]) : isdigit((unsigned char)val[0])))
		goto bad;
	errno = 0;
	v = strtoull(val, &end, hex ? 16 : 10);
	if (errno || *end != '\0' || v < min || v > max)
		goto bad;
	return v;
bad:
	fprintf(stderr,
		"%s: bad value in '%s': expected an integer in [%" PRIu64 ", %" PRIu64 "]; "
		"try '%s --help'\n",
		bench_prog, arg, min, max, bench_prog);
	exit(2);
}

void
bench_opts_parse(int argc, char **argv, const char *prog, const char *what, uint64_t default_seed,
		 struct bench_opts *o)
{
	bench_prog = prog;
	memset(o, 0, sizeof(*o));
	o->seed = default_seed;
	o->threads = 1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--smoke") == 0) {
			o->smoke = true;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout, what);
			exit(0);
		} else if (strncmp(a, "--iters=", 8) == 0) {
			o->iters = parse_num(a, a + 8, 1, UINT64_C(1) << 40);
		} else if (strncmp(a, "--seed=", 7) == 0) {
			o->seed = parse_num(a, a + 7, 0, UINT64_MAX);
		} else if (strncmp(a, "--threads=", 10) == 0) {
			o->threads = (unsigned)parse_num(a, a + 10, 1, 4096);
			o->threads_set = true;
		} else {
			fprintf(stderr, "%s: unknown option '%s'; try '%s --help'\n", bench_prog, a,
				bench_prog);
			exit(2);
		}
	}
	/* No case runs worker threads yet; the JSON says "threads":1. */
	if (o->threads_set && o->threads != 1)
		fprintf(stderr, "%s: every case is single-threaded; --threads=%u ignored\n",
			bench_prog, o->threads);
	o->reps = o->smoke ? 3 : 7;
	o->pinned_cpu = bench_pin_current_cpu();
	/* Keep the CPU busy before the first case: on a virtual CPU the first
	 * few hundred ms run measurably slower (clock ramp, vCPU placement),
	 * which would land on whichever case comes first. */
	if (!o->smoke)
		for (uint64_t t0 = bench_now_ns(); bench_now_ns() - t0 < SPIN_UP_NS;)
			bench_keep(t0);
}

void
bench_fail_call(const char *call, int ret)
{
	bench_die("%s failed: %d (%s)", call, ret, ret < 0 ? strerror(-ret) : "positive return");
}

int
bench_pin_current_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -1 : cpu;
}

uint64_t
bench_iters(const struct bench_opts *o, uint64_t full, uint64_t smoke)
{
	if (o->iters)
		return o->iters;
	return o->smoke ? smoke : full;
}

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		bench_die("clock_gettime(CLOCK_MONOTONIC) failed");
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

void
bench_rng_seed(struct bench_rng *r, uint64_t seed)
{
	uint64_t x = seed;

	/* splitmix64 never yields four zero words in a row, so the state is valid. */
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median_of_sorted(const double *v, size_t n)
{
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double
bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	return median_of_sorted(v, n);
}

static void
check_reps(const char *fn, unsigned reps, uint64_t iters)
{
	if (reps == 0 || reps > BENCH_MAX_REPS || iters == 0)
		bench_die("%s: bad reps %u or iters %" PRIu64, fn, reps, iters);
}

/* Sort @p v (n values) and fill @p out's median, min and max. */
static void
stats_of(double *v, unsigned n, uint64_t iters, struct bench_stats *out)
{
	qsort(v, n, sizeof(v[0]), cmp_double);
	out->reps = n;
	out->iters = iters;
	out->min = v[0];
	out->max = v[n - 1];
	out->median = median_of_sorted(v, n);
}

void
bench_measure(const struct bench_opts *o, bench_rep_fn fn, void *ctx, uint64_t iters,
	      uint64_t max_rep_ns, struct bench_stats *out)
{
	double v[BENCH_MAX_REPS];
	unsigned reps = o->reps;
	uint64_t warm = iters / 10 ? iters / 10 : 1;
	uint64_t warm_ns;

	check_reps(__func__, reps, iters);
	warm_ns = fn(ctx, warm);
	if (!o->iters && max_rep_ns) {
		double per_op = (double)warm_ns / (double)warm;

		if (per_op * (double)iters > (double)max_rep_ns) {
			uint64_t cut = (uint64_t)((double)max_rep_ns / per_op);

			iters = cut > 1000 ? cut : (iters < 1000 ? iters : 1000);
		}
	}
	for (unsigned i = 0; i < reps; i++)
		v[i] = (double)fn(ctx, iters) / (double)iters;
	stats_of(v, reps, iters, out);
}

void
bench_measure_paired(const struct bench_opts *o, bench_rep_fn fn_a, void *ctx_a, bench_rep_fn fn_b,
		     void *ctx_b, uint64_t iters, struct bench_stats *out_a,
		     struct bench_stats *out_b, double *ratio)
{
	double a[BENCH_MAX_REPS], b[BENCH_MAX_REPS], r[BENCH_MAX_REPS];
	unsigned reps = o->reps;
	uint64_t warm = iters / 10 ? iters / 10 : 1;

	check_reps(__func__, reps, iters);
	/* The slow start of a virtual CPU is bench_opts_parse()'s spin-up. */
	(void)fn_a(ctx_a, warm);
	(void)fn_b(ctx_b, warm);
	for (unsigned i = 0; i < reps; i++) {
		a[i] = (double)fn_a(ctx_a, iters) / (double)iters;
		b[i] = (double)fn_b(ctx_b, iters) / (double)iters;
		r[i] = b[i] / a[i];
	}
	stats_of(a, reps, iters, out_a);
	stats_of(b, reps, iters, out_b);
	qsort(r, reps, sizeof(r[0]), cmp_double);
	*ratio = median_of_sorted(r, reps);
}

/* Keys and names are fixed ASCII identifiers, so no JSON escaping is needed. */
static void
check_ident(const char *s)
{
	if (!*s)
		bench_die("empty JSON key");
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			bench_die("JSON key/name '%s' is not [a-z0-9_]", s);
}

void
bench_json_begin(const char *name)
{
	check_ident(name);
	printf("{\"bench\":\"%s\"", name);
}

void
bench_json_case(const struct bench_opts *o, const char *name, unsigned threads)
{
	bench_json_begin(name);
	bench_json_u64("seed", o->seed);
	bench_json_num("pinned_cpu", o->pinned_cpu);
	bench_json_u64("threads", threads);
	bench_json_u64("smoke", o->smoke);
}

void
bench_json_num(const char *key, double v)
{
	check_ident(key);
	if (isfinite(v))
		printf(",\"%s\":%.6g", key, v);
	else
		printf(",\"%s\":null", key);
}

void
bench_json_u64(const char *key, uint64_t v)
{
	check_ident(key);
	printf(",\"%s\":%" PRIu64, key, v);
}

void
bench_json_stats(const struct bench_stats *st)
{
	bench_json_num("ns_per_op", st->median);
	bench_json_num("ns_per_op_min", st->min);
	bench_json_num("ns_per_op_max", st->max);
	bench_json_u64("ops", st->iters);
	bench_json_u64("reps", st->reps);
}

void
bench_json_end(void)
{
	printf("}\n");
	fflush(stdout);
}
