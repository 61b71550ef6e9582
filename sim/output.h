/* SPDX-License-Identifier: MIT */
/*
 * Rendering of run results for the iommusim commands: text for people, JSON
 * (jansson; the schema is in docs/cli.md) and CSV for tools, and the progress
 * reporter on stderr.
 */
#ifndef IOMMUSIM_SIM_OUTPUT_H
#define IOMMUSIM_SIM_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include <iommusim/iommusim.h>

/** The version of the JSON and CSV layout (docs/cli.md); bumped on incompatible changes. */
#define OUTPUT_SCHEMA 2

enum output_format {
	OUTPUT_TEXT = 0,
	OUTPUT_JSON,
	OUTPUT_CSV,
};

/** One run as the commands report it: what was asked, and what it measured. */
struct output_run {
	const struct iommusim_job *job;
	const struct iommusim_profile *profile; /* with every override applied */
	const struct iommusim_policy *policy;
	const struct iommusim_run_result *res;
};

/* ---- helpers shared by the commands ---- */

/** "lpar" -> "LPAR", "zvm" -> "z/VM", ...; the name itself if unknown. */
const char *output_platform_title(const char *name);
/** A one-line description of a built-in profile ("" if unknown). */
const char *output_platform_what(const char *name);
/** "randread", "write", ... */
const char *output_rw_name(enum iommusim_rw rw);
/** "block", "net", "ism". */
const char *output_workload_name(enum iommusim_workload wl);
/** Format @p ns with a unit chosen for it (three significant digits: "850 ns", "12.3 us", "1.20 ms"). */
const char *output_fmt_ns(char *buf, size_t len, uint64_t ns);
/** Format @p ns exactly, in ms ("512.569074 ms"). */
const char *output_fmt_ns_exact(char *buf, size_t len, uint64_t ns);
/** Format a byte count with a binary unit ("4 KiB", "1 MiB", "1536 B"). */
const char *output_fmt_bytes(char *buf, size_t len, uint64_t bytes);
/** A one-line summary of a job ("randread 4 KiB, iodepth 32 x 4 jobs on 4 CPUs, 500 ms"). */
const char *output_job_summary(char *buf, size_t len, const struct iommusim_job *job);
/** A one-line summary of a policy with its flush-queue overrides. */
const char *output_policy_summary(char *buf, size_t len, const struct iommusim_policy *policy);
/** Global RPCITs of either DMA implementation (dma-iommu's or the pre-6.7 API's). */
uint64_t output_global_rpcits(const struct iommusim_run_result *r);

/**
 * Apply one `--set KEY=VALUE`: a job key (iommusim_job_set) to @p job, else
 * a flush-queue key (iommusim_policy_set: fq_size, fq_timeout,
 * ism_force_fq) to @p policy, else a profile key (iommusim_profile_set) to @p profile. Any
 * of the three may be NULL: its keys are then only checked.
 * @return 0; -EINVAL (bad form or value) or -ENOENT (unknown key), with a
 *         message in @p err
 */
/* Print @p o (taken: it is freed) as one compact JSON line on stdout.
 * @return 0; -ENOMEM (@p o is NULL: it could not be built); -EIO */
IOMMUSIM_NODISCARD int output_json_line(json_t *o);

/* ---- --fail-on: exit-status gates (docs/cli.md "Gates") ---- */

/* The exit status when a gate tripped. */
#define OUTPUT_EXIT_GATE 3

struct output_gates {
	bool any;
	bool ism_exposure, status16, map_errors, downgraded;
	bool exposure_p99; /* exposure-p99>TIME */
	uint64_t exposure_p99_ns;
};

/* Parse --fail-on's LIST into @p g (added to what it holds).
 * @return 0; -EINVAL with a message in @p err */
IOMMUSIM_NODISCARD int output_gates_parse(struct output_gates *g, const char *list, char *err,
					  size_t err_len);

/* Check run @p r against @p g; name each gate that tripped on stderr as
 * "iommusim CMD: --fail-on GATE: LABEL: what". @p ism_gate: whether
 * ism-exposure applies to this run (not to compare's forced-queue check,
 * whose exposure is the expected outcome). @return the number tripped */
unsigned output_gates_check(const struct output_gates *g, const char *cmd, const char *label,
			    const struct iommusim_run_result *r, bool ism_gate);

/* Warn on stderr about what makes @p run less than it seems: a flush-queue
 * timeout longer than the run, an x86 profile on the s390 path (once while
 * *@p x86_said is false; NULL: always). */
void output_run_warnings(const char *cmd, const struct output_run *run, bool *x86_said);

/* Parse a --seed value by the job file's seed= row. @return 0; -EINVAL with a message */
IOMMUSIM_NODISCARD int output_parse_seed(const char *text, uint64_t *seed, char *err,
					 size_t err_len);

IOMMUSIM_NODISCARD int output_apply_set(const char *kv, struct iommusim_job *job,
					struct iommusim_policy *policy,
					struct iommusim_profile *profile, char *err,
					size_t err_len);

/* ---- one run ---- */

/** The full text report of one run. @return 0; -EIO */
IOMMUSIM_NODISCARD int output_run_text(FILE *f, const struct output_run *run);
/** The JSON object of one run (a new reference), or NULL on allocation failure. */
json_t *output_run_json(const struct output_run *run);
/** Write @p json to @p f, indented, with a final newline. @return 0; -EIO */
IOMMUSIM_NODISCARD int output_json_dump(FILE *f, const json_t *json);
/** The CSV header line. @return 0; -EIO */
IOMMUSIM_NODISCARD int output_csv_header(FILE *f);
/** One CSV row. @return 0; -EIO */
IOMMUSIM_NODISCARD int output_csv_row(FILE *f, const struct output_run *run);

/* ---- progress on stderr ---- */

/**
 * A progress reporter. On a terminal: one bar updated in place. Otherwise:
 * nothing for the first ~2 s of wall time, then a line per 10%. Never on
 * stdout. The work is split in @p nstages equal stages (the runs of a
 * comparison); each run reports 0..1 of its own stage.
 */
struct output_progress {
	bool enabled;
	bool tty;
	unsigned stage, nstages;
	char label[64];
	struct timespec start;
	int last_pct; /* last percentage drawn (terminal) */
	int last_decile; /* last 10% step printed (plain lines) */
	bool drawn; /* a bar is on the line */
	double last_draw; /* wall seconds at the last redraw */
};

void output_progress_init(struct output_progress *p, bool quiet, unsigned nstages);
/** Start stage @p stage (0-based) called @p label ("kvm lazy-single"). */
void output_progress_stage(struct output_progress *p, unsigned stage, const char *label);
/** The iommusim_run_progress callback: @p priv is a struct output_progress. */
void output_progress_report(void *priv, double done);
/** Clear the bar (terminal) after the last stage or before printing an error. */
void output_progress_end(struct output_progress *p);

/* Report a usage error of `iommusim CMD`: the message, a hint to --help;
 * returns 2 (the usage-error exit status). */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The job of a bare `iommusim` (and of compare and sweep without a job
 * file): 4 KiB random reads, 4 jobs of iodepth 32 on 4 CPUs, 2 s. */
void output_default_job(struct iommusim_job *job);

#endif /* IOMMUSIM_SIM_OUTPUT_H */
