/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the benchmarks: option parsing, a monotonic timer, a
 * compiler sink, a seeded PRNG, median-of-repetitions timing and JSON lines.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Most repetitions a case may time. */
#define BENCH_MAX_REPS 64

/** Command-line options every benchmark accepts. */
struct bench_opts {
	bool smoke; /**< --smoke: tiny iteration counts, every case still runs */
	uint64_t iters; /**< --iters=N: timed operations per repetition; 0 = per-case default */
	uint64_t seed; /**< --seed=N: base seed of every PRNG (printed in the JSON) */
	unsigned threads; /**< --threads=N: worker threads, for benchmarks that use them */
	bool threads_set; /**< --threads was given */
	unsigned reps; /**< timed repetitions per case (7, or 3 with --smoke) */
	int pinned_cpu; /**< CPU the process was pinned to, or -1 */
};

/**
 * Pin the calling process to the CPU it runs on, so that a migration does not
 * land in the middle of a timed repetition (bench_opts_parse() does this).
 * @return the CPU, or -1 if it could not be pinned
 */
int bench_pin_current_cpu(void);

/**
 * Parse argv. Prints usage and exits 0 on --help; prints a message naming
 * the bad argument and exits 2 on an unknown option or a malformed number.
 * @param prog name used in messages (e.g. "bench_iova")
 * @param what one line describing the benchmark, shown by --help
 * @param default_seed seed used when --seed is not given
 */
void bench_opts_parse(int argc, char **argv, const char *prog, const char *what,
		      uint64_t default_seed, struct bench_opts *o);

/** Per-case iteration count: --iters if given, else @p full or @p smoke. */
uint64_t bench_iters(const struct bench_opts *o, uint64_t full, uint64_t smoke);

/** CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/** Keep @p v alive: the compiler must assume it is used. */
static inline void
bench_keep(uint64_t v)
{
	__asm__ volatile("" : : "r"(v) : "memory");
}

/** Keep the object behind @p p alive (and assume it is read and written). */
static inline void
bench_keep_ptr(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/** Print "prog: message" to stderr and exit 1. */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/** Die naming the API call that returned @p ret (a -errno or a positive value). */
void bench_fail_call(const char *call, int ret) __attribute__((noreturn));

/** Any non-zero return of an API call is fatal (exit 1, naming the call). */
#define BENCH_CHECK(call)                                         \
	do {                                                      \
		int bench_check_ret_ = (call);                    \
		if (__builtin_expect(bench_check_ret_ != 0, 0))   \
			bench_fail_call(#call, bench_check_ret_); \
	} while (0)

/** Program name used by bench_die (set by bench_opts_parse). */
extern const char *bench_prog;

/* ---- PRNG: xoshiro256** seeded through splitmix64 (deterministic) ---- */

/** PRNG state. */
struct bench_rng {
	uint64_t s[4];
};

/** Seed @p r from @p seed (any value, 0 included). */
void bench_rng_seed(struct bench_rng *r, uint64_t seed);

static inline uint64_t
bench_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/** Next 64 random bits (xoshiro256**). */
static inline uint64_t
bench_rng_next(struct bench_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = bench_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = bench_rotl(s[3], 45);
	return res;
}

/** Uniform in [0, n) for 1 <= n <= 2^32 (multiply-shift, no division). */
static inline uint64_t
bench_rng_below(struct bench_rng *r, uint64_t n)
{
	return ((bench_rng_next(r) >> 32) * n) >> 32;
}

/* ---- timing ---- */

/**
 * One timed repetition: run @p iters operations and return the elapsed
 * nanoseconds (measured by the callback, so that it can exclude set-up).
 */
typedef uint64_t (*bench_rep_fn)(void *ctx, uint64_t iters);

/** Result of bench_measure(), in ns per operation. */
struct bench_stats {
	double median; /**< median over the repetitions (the reported figure) */
	double min; /**< fastest repetition */
	double max; /**< slowest repetition */
	unsigned reps; /**< repetitions timed */
	uint64_t iters; /**< operations per repetition actually used */
};

/**
 * Warm up with max(iters / 10, 1) operations (untimed), then time o->reps
 * repetitions of @p iters operations each. Unless --iters was given, @p iters
 * is cut down (never below 1000) when the warm-up shows that one repetition
 * would take longer than @p max_rep_ns, so a slow build cannot make a run
 * take forever; the count used is in out->iters.
 */
void bench_measure(const struct bench_opts *o, bench_rep_fn fn, void *ctx, uint64_t iters,
		   uint64_t max_rep_ns, struct bench_stats *out);

/**
 * Time two cases in alternation, for a ratio that noise on a shared machine
 * hits on both sides alike: warm each up as bench_measure() does, then
 * o->reps rounds of one repetition of @p fn_a followed by one of @p fn_b,
 * @p iters operations each (no cutting down: both must be quick). @p out_a
 * and @p out_b get each case's statistics; *@p ratio gets the median over
 * the rounds of b's time divided by a's.
 */
void bench_measure_paired(const struct bench_opts *o, bench_rep_fn fn_a, void *ctx_a,
			  bench_rep_fn fn_b, void *ctx_b, uint64_t iters, struct bench_stats *out_a,
			  struct bench_stats *out_b, double *ratio);

/** The median of @p v's @p n >= 1 values; sorts @p v in place. */
double bench_median(double *v, size_t n);

/* ---- one JSON line per case ---- */

/** Start a line: {"bench":"<name>". @p name: [a-z0-9_] only. */
void bench_json_begin(const char *name);
/** Start a case's line with the fields every case carries: {"bench":"<name>",
 *  "seed", "pinned_cpu", "threads" (@p threads, the workers the case ran) and
 *  "smoke", from @p o. */
void bench_json_case(const struct bench_opts *o, const char *name, unsigned threads);
/** Add ,"key":<v> (a double; non-finite values print as null). */
void bench_json_num(const char *key, double v);
/** Add ,"key":<v> (an integer). */
void bench_json_u64(const char *key, uint64_t v);
/** Add "ns_per_op", "ns_per_op_min", "ns_per_op_max", "ops" (per repetition)
 *  and "reps" from @p st. */
void bench_json_stats(const struct bench_stats *st);
/** End the line with } and a newline, and flush stdout. */
void bench_json_end(void);

#endif /* BENCH_COMMON_H */
