/* SPDX-License-Identifier: MIT */
/*
 * Sweeps (docs/sweeps.md): a grid of axes over job, policy and profile keys,
 * the platform and the policy; the configuration of each point; the
 * measures a sweep reports with their mean and confidence interval; and the
 * three output formats (wide CSV, JSON lines, tidy long CSV), written so that
 * an interrupted file can be resumed and shards merged byte for byte.
 *
 * Everything here is reentrant: a grid is read-only once parsed, and the
 * point functions write only their arguments, so worker threads share one.
 */
#ifndef IOMMUSIM_SIM_SWEEP_H
#define IOMMUSIM_SIM_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include <iommusim/iommusim.h>

/* The most axes of one grid, and of points (a guard against a typo such as
 * fq_size=2..16777216:+2 asking for millions of runs; --max-points). */
#define SWEEP_MAX_AXES 16
#define SWEEP_DEFAULT_MAX_POINTS 100000u
/* The most replicates per point. */
#define SWEEP_MAX_REPS 1000u

enum sweep_axis_kind {
	SWEEP_AXIS_PLATFORM, /* a built-in profile's name */
	SWEEP_AXIS_POLICY, /* the job file's policy= */
	SWEEP_AXIS_KEY, /* a row of the key table: job, policy or profile scope */
};

struct sweep_axis {
	char name[32]; /* the key */
	char column[40]; /* its column: name, name_ns (times), name_bytes (sizes) */
	enum sweep_axis_kind kind;
	const struct iommusim_key *key; /* SWEEP_AXIS_KEY and _POLICY */
	size_t nvalues;
	struct iommusim_key_value *values; /* KEY, POLICY: the parsed values */
	const struct iommusim_profile **profiles; /* PLATFORM */
	char where[320]; /* "FILE:LINE" or "command line", for messages */
};

struct sweep_grid {
	struct sweep_axis axes[SWEEP_MAX_AXES];
	size_t naxes;
	uint64_t npoints; /* the product of the axes' sizes (1 without axes) */
};

/*
 * Parse one axis "KEY=LIST" into @p g: LIST is comma-separated items, each a
 * value or a range A..B:STEP (STEP xK multiplies by the integer K >= 2 (a
 * real > 1 for a real key), +S or S adds S written as the key's values are;
 * A..B alone steps by 1 for a count). Every value is checked by the key's
 * row (iommusim_key_parse), as a job file's would be. An axis already in
 * @p g is replaced, in its place. @p where names the place in messages.
 * @return 0; -EINVAL with "WHERE: TOKEN: what is wrong" in @p err; -ENOMEM
 */
int sweep_grid_add(struct sweep_grid *g, const char *spec, const char *where, uint64_t max_points,
		   char *err, size_t err_len);

/*
 * Read the [sweep] section of the job file @p path, if it has one: each line
 * KEY=LIST is an axis (as sweep_grid_add), and reps=N sets *@p reps (left
 * as it is otherwise). @return 0; -EINVAL with FILE:LINE in @p err; -ENOENT;
 * -ENOMEM
 */
int sweep_grid_read_file(struct sweep_grid *g, const char *path, unsigned *reps,
			 uint64_t max_points, char *err, size_t err_len);

void sweep_grid_free(struct sweep_grid *g);

/* The index of point @p p along axis @p a (the first axis varies slowest). */
size_t sweep_point_index(const struct sweep_grid *g, uint64_t p, size_t a);

/* The value of point @p p on axis @p a as text ("kvm", "lazy-single", "256",
 * "1000000" for a time in ns). */
void sweep_point_value_text(const struct sweep_grid *g, uint64_t p, size_t a, char *buf,
			    size_t len);

/* A time for people, in the largest unit that keeps it whole ("100ms"),
 * which the keys' parser reads back (labels, the plots' tics). */
void sweep_time_text(uint64_t ns, char *buf, size_t len);

/* "fq_size=256 fq_timeout=1ms" for messages. */
void sweep_point_label(const struct sweep_grid *g, uint64_t p, char *buf, size_t len);

/* What every point starts from: the job file, its [platform] overrides and
 * the --set options, as `iommusim run` assembles them. */
struct sweep_base {
	const struct iommusim_jobfile *jf;
	const char *path; /* the job file, in messages */
	const char *platform; /* --platform, else the file's, else "lpar" */
	const char *const *sets; /* --set KEY=VALUE */
	size_t nsets;
	bool has_policy_kind;
	enum iommusim_policy_kind policy_kind; /* --policy */
	uint64_t seed; /* the first replicate's seed */
};

/*
 * The configuration of point @p p: the base platform's (or the axis') profile,
 * the file's [platform] overrides, the --set options, then the axes' values.
 * @return 0; -EINVAL with a message naming the point
 */
int sweep_point_config(const struct sweep_grid *g, const struct sweep_base *b, uint64_t p,
		       struct iommusim_job *job, struct iommusim_profile *profile,
		       struct iommusim_policy *policy, char *err, size_t err_len);

/* The seed of replicate @p r: the base seed for r = 0, then a splitmix64 of
 * it and r (63 bits), the same at every point (common random numbers). */
uint64_t sweep_rep_seed(uint64_t base, unsigned r);

/* ---- the measures ---- */

enum {
	SWEEP_M_IOPS,
	SWEEP_M_THROUGHPUT,
	SWEEP_M_CYCLES_PER_IO,
	SWEEP_M_CPU_UTILISATION,
	SWEEP_M_LATENCY_P50,
	SWEEP_M_LATENCY_P99,
	SWEEP_M_EXPOSURE_P50,
	SWEEP_M_EXPOSURE_P99,
	SWEEP_M_EXPOSURE_MAX,
	SWEEP_M_EXPOSURES,
	SWEEP_M_EXPOSURE_CENSORED,
	SWEEP_M_FQ_BYTES,
	SWEEP_M_FQ_MAX_ENTRIES,
	SWEEP_M_GLOBAL_RPCITS,
	SWEEP_M_RPCITS,
	SWEEP_M_STATUS16,
	SWEEP_M_ENOMEM_RECOVERIES,
	SWEEP_M_MAP_ERRORS,
	SWEEP_M_ISM_EVENTS,
	SWEEP_M_NR,
};

struct sweep_measure {
	const char *name; /* the column, its unit last: exposure_p99_ns */
	const char *unit; /* "1/s", "bytes/s", "ns", "bytes", "events"... */
	const char *doc;
};

extern const struct sweep_measure sweep_measures[SWEEP_M_NR];

/* The measures of one run. */
void sweep_measures_of(const struct iommusim_run_result *r, double out[SWEEP_M_NR]);

/* One point's result: every replicate's measures summed up. */
struct sweep_stat {
	double mean;
	double ci95; /* half-width of the 95% interval (Student's t); NaN for one replicate */
};

struct sweep_point_result {
	uint64_t point;
	unsigned reps;
	struct sweep_stat m[SWEEP_M_NR];
	char domain[16]; /* what ran (replicate 0) */
	char downgrade[48];
	bool mixed_domain; /* the replicates did not all run the same domain */
};

/* Mean and interval of @p n samples @p x. */
struct sweep_stat sweep_stat_of(const double *x, unsigned n);

/* Student's t for a two-sided 95% interval with @p df degrees of freedom (df >= 1). */
double sweep_t95(unsigned df);

/* ---- output ---- */

enum sweep_format {
	SWEEP_CSV, /* one row per point, a header with the units in the names */
	SWEEP_JSON, /* one object per line */
	SWEEP_LONG, /* tidy: one row per point and measure */
};

/* "csv", "json", "long" -> the format. @return 0; -EINVAL */
int sweep_format_parse(const char *s, enum sweep_format *out);
const char *sweep_format_name(enum sweep_format f);

/* The identity of a sweep: a hash of the library version, the replicates,
 * the seed and every point's whole configuration (every key of the table),
 * so a resumed or merged file cannot mix two sweeps. 16 hex digits. */
int sweep_id(const struct sweep_grid *g, const struct sweep_base *b, unsigned reps, char id[17],
	     char *err, size_t err_len);

/* The header line (CSV, long; "" for JSON lines), with its newline. */
char *sweep_header(const struct sweep_grid *g, enum sweep_format f);

/* The text every line of point @p p starts with: its point, points, sweep
 * and axis columns, and the separator after them. A new string, or NULL on
 * allocation failure. */
char *sweep_row_prefix(const struct sweep_grid *g, enum sweep_format f, const char *id, uint64_t p);

/* Every line of point result @p r (one, or SWEEP_M_NR for long), each
 * ended by a newline. A new string, or NULL on allocation failure. */
char *sweep_rows(const struct sweep_grid *g, enum sweep_format f, const char *id,
		 const struct sweep_point_result *r);

/* The whole of file @p path, NUL-terminated, its length in *@p len (the
 * resume check and merge read results files whole). A new string, or NULL
 * with *@p ret = -errno, -ENOMEM or -EIO. */
char *sweep_read_file(const char *path, size_t *len, int *ret);

/* Lines per point. */
static inline size_t
sweep_lines_per_point(enum sweep_format f)
{
	return f == SWEEP_LONG ? SWEEP_M_NR : 1;
}

#endif /* IOMMUSIM_SIM_SWEEP_H */
