/* SPDX-License-Identifier: MIT */
/*
 * iommusim compare: one job under several platforms and policies side by
 * side, plus the ISM check per platform. With no arguments this is the
 * default comparison of COST_MODEL.md §3 (what a bare `iommusim` prints).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <iommusim/iommusim.h>

#include "cmd.h"
#include "output.h"
#include "plot.h"

/*
 * Simulated time of the ISM checks: the run outlasts the single queue's
 * 1000 ms timer, so a forced queue flushes at least once on every platform,
 * however slowly it fills. (The default job's is output_default_job()'s.)
 */
#define ISM_RUNTIME_NS 1500000000ull

#define MAX_PLATFORMS 8
#define MAX_POLICIES 8

enum {
	OPT_PLATFORMS = 256,
	OPT_POLICIES,
	OPT_NO_ISM,
	OPT_FAIL_ON,
	OPT_JSON,
	OPT_CSV,
	OPT_PLOT,
};

static const char *const ism_checks[] = { "kernel_policy", "forced_flush_queue" };

struct row {
	struct iommusim_job job;
	struct iommusim_profile profile;
	struct iommusim_policy policy;
	struct iommusim_run_result res;
};

struct compare {
	const struct iommusim_profile *platforms[MAX_PLATFORMS];
	size_t nplatforms;
	enum iommusim_policy_kind policies[MAX_POLICIES];
	size_t npolicies;
	bool ism;
	struct iommusim_job job; /* the compared job */
	struct iommusim_policy fq; /* the file's fq_size / fq_timeout */
	uint64_t seed;
	const struct iommusim_jobfile *jf; /* NULL: the default job */
	const char *path;
	const char **sets;
	size_t nsets;
	struct row *rows; /* [platform][policy], then [platform][ism check] */
};

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: iommusim compare [JOB.ini] [OPTION]...\n"
		"Run one job under several platforms and DMA policies and print one table per\n"
		"platform: IOPS, throughput relative to the pre-6.7 s390 DMA API (legacy),\n"
		"CPU cycles per I/O, global and map-time RPCITs per 1000 I/Os, status-16\n"
		"events, the 99th percentile of the exposure window and the flush-queue peak;\n"
		"then an ISM check per platform: an ISM device under the kernel's policy (no\n"
		"in-use IOVA may be exposed) and forced onto a flush queue (the regression:\n"
		"the first flush that exposes an in-use IOVA is reported), on the job's memory\n"
		"and DMBs (ism_dmbs, ism_dmb_size); an ISM job is its own check.\n"
		"\n"
		"Without JOB.ini the job is 4 KiB random reads on an NVMe-like device, 4 CPUs,\n"
		"4 jobs of iodepth 32, 2 s simulated. This is what a bare 'iommusim' runs.\n"
		"\n"
		"      --platforms=LIST  comma-separated platforms, or 'all' (default: the file's\n"
		"                        platform=, else lpar,zvm,kvm,kvm-qemu7.1)\n"
		"      --policies=LIST   comma-separated policies (default:\n"
		"                        legacy,lazy-percpu,lazy-single,strict)\n"
		"  -s, --seed=N          the seed of every run, 0 to 2^63-1 (default: the file's\n"
		"                        seed=, else 1)\n"
		"  -S, --set=KEY=VALUE   override a job key or a queue key (fq_size, fq_timeout)\n"
		"                        of the compared runs, or a profile key of every\n"
		"                        platform; repeatable\n"
		"      --no-ism          skip the ISM checks\n"
		"      --fail-on=LIST    exit 3 if a gate trips in any run: ism-exposure (the\n"
		"                        policy runs and the kernel-policy ISM check, not the\n"
		"                        forced queue's), status16, map-errors, downgraded,\n"
		"                        exposure-p99>TIME (docs/cli.md)\n"
		"      --json            print one JSON object with every run (docs/cli.md)\n"
		"      --csv             print a CSV header and one row per run\n"
		"      --plot=DIR        also draw the runs into DIR (bars per platform and\n"
		"                        policy: 'iommusim plot'), keeping DIR/compare.csv\n"
		"  -q, --quiet           no progress on stderr\n"
		"  -h, --help            show this help\n"
		"\n"
		"A job file's policy= is ignored (the policies are the compared ones); its\n"
		"fq_size= and fq_timeout= apply to the flush-queue policies, its [platform]\n"
		"section to every platform.\n"
		"\n"
		"Exit status: 0 on success, 1 if a run failed, 2 on a usage error or a bad job\n"
		"file, 3 if a --fail-on gate tripped (each named on stderr, after the report).\n");
}

/* A usage error: message, hint, status 2. */
#define bad(...) cli_usage_error("compare", __VA_ARGS__)

/* Split a comma-separated list in place; calls @p fn on each item. */
IOMMUSIM_NODISCARD static int
for_each_item(const char *what, char *list, int (*fn)(struct compare *cmp, const char *item),
	      struct compare *cmp)
{
	char *save = NULL, *item;
	int ret;

	if (!list[strspn(list, ",")])
		return bad("%s: an empty list", what);
	for (item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		ret = fn(cmp, item);
		if (ret)
			return ret;
	}
	return 0;
}

IOMMUSIM_NODISCARD static int
add_platform(struct compare *cmp, const char *name)
{
	const struct iommusim_profile *p;
	size_t i;

	if (!strcmp(name, "all")) {
		for (i = 0; i < iommusim_profile_count(); i++)
			if (add_platform(cmp, iommusim_profile_at(i)->name))
				return 2;
		return 0;
	}
	p = iommusim_profile_find(name);
	if (!p)
		return bad("unknown platform '%s' (see 'iommusim profile list')", name);
	for (i = 0; i < cmp->nplatforms; i++)
		if (cmp->platforms[i] == p)
			return 0;
	if (cmp->nplatforms == MAX_PLATFORMS)
		return bad("at most %d platforms", MAX_PLATFORMS);
	cmp->platforms[cmp->nplatforms++] = p;
	return 0;
}

IOMMUSIM_NODISCARD static int
add_policy(struct compare *cmp, const char *name)
{
	enum iommusim_policy_kind k;
	size_t i;

	if (iommusim_policy_parse(name, &k))
		return bad("unknown policy '%s' (kernel, strict, lazy-percpu, lazy-single, "
			   "legacy, legacy-strict)",
			   name);
	for (i = 0; i < cmp->npolicies; i++)
		if (cmp->policies[i] == k)
			return 0;
	if (cmp->npolicies == MAX_POLICIES)
		return bad("at most %d policies", MAX_POLICIES);
	cmp->policies[cmp->npolicies++] = k;
	return 0;
}

/*
 * An ISM device: its DMBs stay mapped for the whole run while traffic maps
 * and unmaps. A compared job that is itself an ISM workload is the check's
 * job; otherwise the check runs the ISM defaults on the compared job's
 * machine and DMBs: its memory, aperture, ism_dmbs and ism_dmb_size.
 */
static void
ism_job(const struct iommusim_job *compared, struct iommusim_job *job)
{
	if (compared->workload == IOMMUSIM_WL_ISM) {
		*job = *compared;
		return;
	}
	iommusim_job_defaults(job);
	snprintf(job->name, sizeof(job->name), "ism");
	job->workload = IOMMUSIM_WL_ISM;
	job->runtime_ns = ISM_RUNTIME_NS;
	job->memory = compared->memory;
	job->s390_iommu_aperture = compared->s390_iommu_aperture;
	job->ism_dmbs = compared->ism_dmbs;
	job->ism_dmb_size = compared->ism_dmb_size;
}

static size_t
nruns_per_platform(const struct compare *cmp)
{
	return cmp->npolicies + (cmp->ism ? 2 : 0);
}

/*
 * The profile of platform @p i with the file's overrides and the profile keys
 * of --set (the compared job took their job keys already; the ISM job takes
 * none).
 */
IOMMUSIM_NODISCARD static int
make_profile(const struct compare *cmp, size_t i, struct iommusim_profile *profile)
{
	char err[512] = "";
	size_t s;

	*profile = *cmp->platforms[i];
	if (cmp->jf &&
	    iommusim_jobfile_apply_overrides(cmp->jf, cmp->path, profile, err, sizeof(err))) {
		fprintf(stderr, "iommusim compare: %s\n", err);
		return 2;
	}
	for (s = 0; s < cmp->nsets; s++)
		if (output_apply_set(cmp->sets[s], NULL, NULL, profile, err, sizeof(err)))
			return bad("%s", err);
	return 0;
}

IOMMUSIM_NODISCARD static int
run_all(struct compare *cmp, bool quiet)
{
	const size_t per = nruns_per_platform(cmp);
	struct output_progress prog;
	struct iommusim_run_progress rp = { .report = output_progress_report, .priv = &prog };
	struct iommusim_profile profile;
	char err[512], label[64];
	size_t i, j;
	int ret;

	/* Check every --set and override first, so a typo fails before any run. */
	for (i = 0; i < cmp->nplatforms; i++) {
		ret = make_profile(cmp, i, &profile);
		if (ret)
			return ret;
	}
	output_progress_init(&prog, quiet, (unsigned)(cmp->nplatforms * per));
	for (i = 0; i < cmp->nplatforms; i++) {
		for (j = 0; j < per; j++) {
			struct row *row = &cmp->rows[i * per + j];

			if (j < cmp->npolicies) {
				row->job = cmp->job;
				row->policy = cmp->fq;
				row->policy.kind = cmp->policies[j];
			} else {
				ism_job(&cmp->job, &row->job);
				row->policy =
					(struct iommusim_policy){ .kind = IOMMUSIM_POLICY_KERNEL };
				if (j - cmp->npolicies == 1) {
					row->policy.kind = IOMMUSIM_POLICY_LAZY_SINGLE;
					row->policy.ism_force_fq = true;
				}
			}
			ret = make_profile(cmp, i, &row->profile);
			if (ret)
				return ret;
			snprintf(label, sizeof(label), "%s %s%s", row->profile.name,
				 iommusim_policy_name(row->policy.kind),
				 j < cmp->npolicies ? "" : " (ISM)");
			output_progress_stage(&prog, (unsigned)(i * per + j), label);
			err[0] = '\0';
			ret = iommusim_run(&row->job, &row->profile, &row->policy, cmp->seed, &rp,
					   &row->res, err, sizeof(err));
			if (ret) {
				output_progress_end(&prog);
				fprintf(stderr, "iommusim compare: %s under %s: %s\n",
					row->profile.name, iommusim_policy_name(row->policy.kind),
					err[0] ? err : strerror(-ret));
				return 1;
			}
		}
	}
	output_progress_report(&prog, 1.0);
	output_progress_end(&prog);
	return 0;
}

/* ---- text ---- */

static void
ism_line(FILE *f, const char *what, const struct iommusim_run_result *r)
{
	char t[32];

	if (!r->ism_events) {
		fprintf(f, "ISM (%s): 0 in-use IOVAs exposed\n", what);
		return;
	}
	fprintf(f,
		"ISM (%s): caught at t=%s by %s, IOVA 0x%" PRIx64 ", range [0x%" PRIx64
		", 0x%" PRIx64 ")",
		what, output_fmt_ns_exact(t, sizeof(t), r->ism_first_event_ns), r->ism_first_reason,
		r->ism_first_iova, r->ism_first_rpcit_addr,
		r->ism_first_rpcit_addr + r->ism_first_rpcit_len);
	if (r->ism_events > 1)
		fprintf(f, "; %" PRIu64 " exposures in all", r->ism_events);
	fputc('\n', f);
}

static void
per_kilo_io(char *buf, size_t len, uint64_t n, uint64_t ios)
{
	if (!ios)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f", (double)n * 1000.0 / (double)ios);
}

/* "256 entries, 10 ms": the queue the runs of @p kind had, as they report it;
 * "sizes differ by platform" when they do, "not run" when none ran lazily. */
static const char *
queue_in_force(const struct compare *cmp, enum iommusim_policy_kind kind, char *buf, size_t len)
{
	const size_t per = nruns_per_platform(cmp);
	const struct iommusim_run_result *first = NULL;
	size_t i, j;

	for (i = 0; i < cmp->nplatforms; i++)
		for (j = 0; j < cmp->npolicies; j++) {
			const struct iommusim_run_result *r = &cmp->rows[i * per + j].res;

			if (cmp->policies[j] != kind || !r->fq_size)
				continue;
			if (!first)
				first = r;
			else if (r->fq_size != first->fq_size ||
				 r->fq_timeout_ms != first->fq_timeout_ms)
				return "sizes differ by platform: see --json";
		}
	if (!first)
		return "not run";
	snprintf(buf, len, "%" PRIu32 " entries, %" PRIu32 " ms", first->fq_size,
		 first->fq_timeout_ms);
	return buf;
}

IOMMUSIM_NODISCARD static int
print_text(FILE *f, const struct compare *cmp)
{
	const size_t per = nruns_per_platform(cmp);
	char buf[256], pq[48], sq[48];
	size_t i, j, base;

	fprintf(f, "Job: %s; seed %" PRIu64 "\n", output_job_summary(buf, sizeof(buf), &cmp->job),
		cmp->seed);
	for (i = 0; i < cmp->nplatforms; i++) {
		const struct row *rows = &cmp->rows[i * per];
		const char *name = cmp->platforms[i]->name;

		/* Relative throughput is against legacy, else against the first policy. */
		for (base = 0; base < cmp->npolicies; base++)
			if (cmp->policies[base] == IOMMUSIM_POLICY_LEGACY)
				break;
		if (base == cmp->npolicies)
			base = 0;
		snprintf(buf, sizeof(buf), "vs %s", iommusim_policy_name(cmp->policies[base]));
		fprintf(f, "\n%s (%s)\n", output_platform_title(name), name);
		fprintf(f, "%-12s %9s %10s %10s %14s %16s %9s %9s %6s\n", "policy", "IOPS", buf,
			"cycles/IO", "global RPCITs", "sync-map RPCITs", "status16", "exposure",
			"queue");
		fprintf(f, "%-12s %9s %10s %10s %14s %16s %9s %9s %6s\n", "", "", "", "",
			"per 1000 I/Os", "per 1000 I/Os", "", "p99", "peak");
		for (j = 0; j < cmp->npolicies; j++) {
			const struct iommusim_run_result *r = &rows[j].res;
			const double b = rows[base].res.iops;
			char rel[16], glob[24], smap[24], exp[24], q[24];

			if (b > 0)
				snprintf(rel, sizeof(rel), "%.2fx", r->iops / b);
			else
				snprintf(rel, sizeof(rel), "-");
			per_kilo_io(glob, sizeof(glob), output_global_rpcits(r), r->ios);
			per_kilo_io(smap, sizeof(smap), r->sync_map_rpcits, r->ios);
			if (r->exposure.count)
				output_fmt_ns(exp, sizeof(exp), r->exposure.p99);
			else
				snprintf(exp, sizeof(exp), "-");
			/* '+': unmaps still queued at the end are not in the figure. */
			if (r->exposure_censored && strlen(exp) + 1 < sizeof(exp))
				strcat(exp, "+");
			if (r->fq_max_entries)
				snprintf(q, sizeof(q), "%" PRIu64, r->fq_max_entries);
			else
				snprintf(q, sizeof(q), "-");
			fprintf(f,
				"%-12s %9.0f %10s %10" PRIu64 " %14s %16s %9" PRIu64 " %9s %6s\n",
				iommusim_policy_name(cmp->policies[j]), r->iops, rel,
				r->cpu_cycles_per_io, glob, smap, r->status16, exp, q);
		}
		/* An exposure figure without the unmaps the run ended on says so. */
		for (j = 0; j < cmp->npolicies; j++) {
			const struct iommusim_run_result *r = &rows[j].res;
			uint64_t all = r->exposure.count + r->exposure_censored;

			if (r->exposure_censored)
				fprintf(f,
					"note: %s: %" PRIu64 " of %" PRIu64
					" lazy unmaps (%.1f%%) were "
					"still queued at the end: in no exposure figure (+)\n",
					iommusim_policy_name(cmp->policies[j]),
					r->exposure_censored, all,
					100.0 * (double)r->exposure_censored / (double)all);
		}
		/* A lazy policy that ran strict is not what the row's name says. */
		for (j = 0; j < cmp->npolicies; j++)
			if (rows[j].res.downgrade[0])
				fprintf(f, "note: %s ran strict (a DMA domain): %s\n",
					iommusim_policy_name(cmp->policies[j]),
					rows[j].res.downgrade);
		if (cmp->ism) {
			ism_line(f, "kernel policy", &rows[cmp->npolicies].res);
			ism_line(f, "forced flush queue", &rows[cmp->npolicies + 1].res);
		}
	}
	fprintf(f,
		"\nlegacy: the pre-6.7 s390 DMA API; lazy-percpu, lazy-single: dma-iommu with\n"
		"per-CPU flush queues (%s) or one queue (%s);\n"
		"strict: iommu.strict=1. exposure: time from a lazy unmap to the flush that\n"
		"covers it; queue peak: most flush-queue entries at once (all queues).\n",
		queue_in_force(cmp, IOMMUSIM_POLICY_LAZY_PERCPU, pq, sizeof(pq)),
		queue_in_force(cmp, IOMMUSIM_POLICY_LAZY_SINGLE, sq, sizeof(sq)));
	return ferror(f) ? -EIO : 0;
}

/* ---- JSON and CSV ---- */

IOMMUSIM_NODISCARD static int
print_json(FILE *f, const struct compare *cmp)
{
	const size_t per = nruns_per_platform(cmp);
	json_t *top = json_object(), *runs = json_array(), *checks = json_array();
	size_t i, j;
	int ret = -ENOMEM;

	if (!top || !runs || !checks)
		goto out;
	for (i = 0; i < cmp->nplatforms; i++) {
		for (j = 0; j < per; j++) {
			const struct row *row = &cmp->rows[i * per + j];
			const struct output_run run = { &row->job, &row->profile, &row->policy,
							&row->res };
			json_t *o = output_run_json(&run);

			if (!o)
				goto out;
			if (j < cmp->npolicies) {
				if (json_array_append_new(runs, o))
					goto out;
				continue;
			}
			o = json_pack("{s:s, s:s, s:o, s:o}", "platform", cmp->platforms[i]->name,
				      "check", ism_checks[j - cmp->npolicies], "ism_events",
				      json_integer((json_int_t)row->res.ism_events), "run", o);
			if (!o || json_array_append_new(checks, o))
				goto out;
		}
	}
	/* Each set takes its value, even on failure; a field that could not be
	 * set (no memory) must not leave a document without it. */
	if (json_object_set_new(top, "schema", json_integer(OUTPUT_SCHEMA)) ||
	    json_object_set_new(top, "version", json_string(iommusim_version())) ||
	    json_object_set_new(top, "command", json_string("compare")) ||
	    json_object_set_new(top, "seed", json_integer((json_int_t)cmp->seed))) {
		ret = -ENOMEM;
		goto out;
	}
	ret = json_object_set_new(top, "runs", runs);
	runs = NULL;
	if (!ret)
		ret = json_object_set_new(top, "ism_checks", checks);
	checks = NULL;
	ret = ret ? -ENOMEM : output_json_dump(f, top);
out:
	json_decref(runs);
	json_decref(checks);
	json_decref(top);
	return ret;
}

IOMMUSIM_NODISCARD static int
print_csv(FILE *f, const struct compare *cmp)
{
	const size_t n = cmp->nplatforms * nruns_per_platform(cmp);
	size_t i;
	int ret = output_csv_header(f);

	for (i = 0; !ret && i < n; i++) {
		const struct row *row = &cmp->rows[i];
		const struct output_run run = { &row->job, &row->profile, &row->policy, &row->res };

		ret = output_csv_row(f, &run);
	}
	return ret;
}

static void
compare_warnings(const struct compare *cmp)
{
	const size_t per = nruns_per_platform(cmp);
	bool x86_said = false;
	size_t i, j;

	for (i = 0; i < cmp->nplatforms; i++)
		for (j = 0; j < cmp->npolicies; j++) {
			const struct row *row = &cmp->rows[i * per + j];
			const struct output_run run = { &row->job, &row->profile, &row->policy,
							&row->res };

			output_run_warnings("compare", &run, &x86_said);
		}
}

/* Every run against the gates; the forced-queue ISM check exposes by design. */
static unsigned
gates_tripped(const struct compare *cmp, const struct output_gates *g)
{
	const size_t per = nruns_per_platform(cmp);
	unsigned n = 0;
	size_t i, j;

	for (i = 0; i < cmp->nplatforms; i++)
		for (j = 0; j < per; j++) {
			char label[96];
			bool policy_row = j < cmp->npolicies;

			snprintf(label, sizeof(label), "%s %s%s", cmp->platforms[i]->name,
				 policy_row ? iommusim_policy_name(cmp->policies[j]) :
					      ism_checks[j - cmp->npolicies],
				 policy_row ? "" : " (ISM)");
			n += output_gates_check(g, "compare", label, &cmp->rows[i * per + j].res,
						policy_row || j == cmp->npolicies);
		}
	return n;
}

/* --plot DIR: the runs as DIR/compare.csv, drawn by iommusim plot's code. */
static int
plot_runs(const struct compare *cmp, const char *dir, bool quiet)
{
	struct plot_opts po = { .dir = dir, .log = quiet ? NULL : stderr };
	char path[4096], err[768] = "";
	FILE *f;
	int ret;

	if (plot_make_dir(dir, err, sizeof(err))) {
		fprintf(stderr, "iommusim compare: --plot: %s\n", err);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/compare.csv", dir);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "iommusim compare: %s: %s\n", path, strerror(errno));
		return 1;
	}
	ret = print_csv(f, cmp);
	if (fclose(f) && !ret)
		ret = -EIO;
	if (ret) {
		fprintf(stderr, "iommusim compare: writing %s: %s\n", path, strerror(-ret));
		return 1;
	}
	ret = plot_file(path, &po, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "iommusim compare: --plot: %s\n", err[0] ? err : strerror(-ret));
		return 1;
	}
	return 0;
}

int
cmd_compare(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "platforms", required_argument, NULL, OPT_PLATFORMS },
		{ "policies", required_argument, NULL, OPT_POLICIES },
		{ "seed", required_argument, NULL, 's' },
		{ "set", required_argument, NULL, 'S' },
		{ "no-ism", no_argument, NULL, OPT_NO_ISM },
		{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char prog[] = "iommusim compare";
	static char default_platforms[] = "lpar,zvm,kvm,kvm-qemu7.1";
	static char default_policies[] = "legacy,lazy-percpu,lazy-single,strict";
	struct compare cmp = { .ism = true };
	struct output_gates gates = { 0 };
	struct iommusim_jobfile *jf = NULL;
	enum output_format fmt = OUTPUT_TEXT;
	char *platforms = NULL, *policies = NULL, err[512] = "", msg[160];
	const char *plot_dir = NULL;
	bool has_seed = false, quiet = false;
	uint64_t seed = 1;
	int c, ret, rc = 2;

	if (cmd_help_requested(argc, argv)) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	cmp.sets = calloc((size_t)argc, sizeof(*cmp.sets));
	if (!cmp.sets) {
		fprintf(stderr, "iommusim compare: out of memory\n");
		return 1;
	}
	argv[0] = prog; /* getopt's messages name the command */
	while ((c = getopt_long(argc, argv, "s:S:qh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_PLATFORMS:
			platforms = optarg;
			break;
		case OPT_POLICIES:
			policies = optarg;
			break;
		case 's':
			if (output_parse_seed(optarg, &seed, msg, sizeof(msg))) {
				rc = bad("--seed: %s", msg);
				goto out;
			}
			has_seed = true;
			break;
		case 'S':
			cmp.sets[cmp.nsets++] = optarg;
			break;
		case OPT_NO_ISM:
			cmp.ism = false;
			break;
		case OPT_FAIL_ON:
			if (output_gates_parse(&gates, optarg, msg, sizeof(msg))) {
				rc = bad("%s", msg);
				goto out;
			}
			break;
		case OPT_JSON:
		case OPT_CSV:
			if (fmt != OUTPUT_TEXT &&
			    fmt != (c == OPT_JSON ? OUTPUT_JSON : OUTPUT_CSV)) {
				rc = bad("--json and --csv are exclusive");
				goto out;
			}
			fmt = c == OPT_JSON ? OUTPUT_JSON : OUTPUT_CSV;
			break;
		case OPT_PLOT:
			plot_dir = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			fputs("Try 'iommusim compare --help'.\n", stderr);
			goto out;
		}
	}
	if (argc - optind > 1) {
		rc = bad("one job file only; unexpected '%s'", argv[optind + 1]);
		goto out;
	}

	if (optind < argc) {
		cmp.path = argv[optind];
		jf = calloc(1, sizeof(*jf));
		if (!jf) {
			rc = 1;
			goto out;
		}
		ret = iommusim_jobfile_parse(cmp.path, jf, err, sizeof(err));
		if (ret) {
			if (err[0])
				fprintf(stderr, "iommusim compare: %s\n", err);
			else
				fprintf(stderr, "iommusim compare: %s: %s\n", cmp.path,
					strerror(-ret));
			rc = ret == -ENOMEM ? 1 : 2;
			goto out;
		}
		if (jf->sweep_line)
			fprintf(stderr,
				"iommusim compare: %s:%u: note: the [sweep] section is for "
				"'iommusim sweep'; comparing the job once\n",
				cmp.path, (unsigned)jf->sweep_line);
		cmp.jf = jf;
		cmp.job = jf->job;
		if (jf->has_policy) {
			cmp.fq.fq_size = jf->policy.fq_size;
			cmp.fq.fq_timeout_ms = jf->policy.fq_timeout_ms;
		}
		if (!has_seed && jf->has_seed) {
			seed = jf->seed;
			if (seed > (uint64_t)INT64_MAX) {
				rc = bad("%s: seed %" PRIu64 " is above 2^63-1", cmp.path, seed);
				goto out;
			}
		}
		if (!platforms && jf->platform[0])
			platforms = jf->platform;
	} else {
		output_default_job(&cmp.job);
	}
	cmp.seed = seed;
	rc = for_each_item("--platforms", platforms ? platforms : default_platforms, add_platform,
			   &cmp);
	if (!rc)
		rc = for_each_item("--policies", policies ? policies : default_policies, add_policy,
				   &cmp);
	if (rc)
		goto out;
	/*
	 * The compared job takes the job and policy keys of --set once, for the
	 * header and the runs; the profile keys go to each platform.
	 */
	for (size_t s = 0; s < cmp.nsets; s++) {
		if (output_apply_set(cmp.sets[s], &cmp.job, &cmp.fq, NULL, err, sizeof(err))) {
			rc = bad("%s", err);
			goto out;
		}
	}

	cmp.rows = calloc(cmp.nplatforms * nruns_per_platform(&cmp), sizeof(*cmp.rows));
	if (!cmp.rows) {
		fprintf(stderr, "iommusim compare: out of memory\n");
		rc = 1;
		goto out;
	}
	rc = run_all(&cmp, quiet);
	if (rc)
		goto out;
	switch (fmt) {
	case OUTPUT_TEXT:
		ret = print_text(stdout, &cmp);
		break;
	case OUTPUT_JSON:
		ret = print_json(stdout, &cmp);
		break;
	default:
		ret = print_csv(stdout, &cmp);
		break;
	}
	if (!ret && fflush(stdout))
		ret = -EIO;
	if (ret) {
		fprintf(stderr, "iommusim compare: writing the report: %s\n", strerror(-ret));
		rc = 1;
	}
	if (!rc && plot_dir)
		rc = plot_runs(&cmp, plot_dir, quiet);
	if (!rc)
		compare_warnings(&cmp);
	if (!rc && gates_tripped(&cmp, &gates))
		rc = OUTPUT_EXIT_GATE;
out:
	free(cmp.rows);
	free(jf);
	free(cmp.sets);
	return rc;
}
