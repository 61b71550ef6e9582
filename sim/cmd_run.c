/* SPDX-License-Identifier: MIT */
/*
 * iommusim run: one job file under one platform and policy, reported as text,
 * JSON or CSV.
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

enum {
	OPT_FQ_SIZE = 256,
	OPT_FQ_TIMEOUT,
	OPT_ISM_FORCE_FQ,
	OPT_CMDLINE,
	OPT_POLICY,
	OPT_JSON,
	OPT_CSV,
	OPT_FAIL_ON,
};

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: iommusim run JOB.ini [OPTION]...\n"
		"Run one fio-like job file on a platform model under a DMA policy and report\n"
		"throughput, CPU cycles per I/O by component, latency and exposure-window\n"
		"percentiles, the s390 debugfs counters, status-16 events, queue occupancy and\n"
		"ISM exposures.\n"
		"\n"
		"  -p, --platform=NAME   lpar, zvm, kvm, kvm-qemu7.1, x86-vtd, x86-virtio\n"
		"                        (default: the file's platform=, else lpar; see\n"
		"                        'iommusim profile list')\n"
		"      --policy=NAME     kernel, strict, lazy-percpu, lazy-single, legacy,\n"
		"                        legacy-strict (default: the file's policy=, else kernel)\n"
		"      --fq-size=N       flush-queue entries, a power of two from 2 to 2^24\n"
		"                        (default: the file's fq_size=, else the kernel's rule)\n"
		"      --fq-timeout=MS   flush-queue timeout: 10, 10ms or 1s (default: the file's\n"
		"                        fq_timeout=, else the kernel's rule)\n"
		"      --ism-force-fq    keep an ISM device on a flush queue (the regression)\n"
		"      --cmdline=LINE    the guest kernel's boot parameters (iommu.strict=,\n"
		"                        iommu.passthrough=, iommu.forcedac=, s390_iommu=strict,\n"
		"                        s390_iommu_aperture=N) deciding the domain as the kernel\n"
		"                        does; with the policy kernel or legacy (docs/cli.md)\n"
		"  -s, --seed=N          the run's seed, 0 to 2^63-1 (default: the file's seed=, else 1)\n"
		"  -S, --set=KEY=VALUE   override a job key (bs, iodepth, runtime...), a queue key\n"
		"                        (fq_size, fq_timeout, ism_force_fq) or a profile key\n"
		"                        (shadow_limit, global_base...); repeatable, applied\n"
		"                        after the file (the options above win)\n"
		"      --fail-on=LIST    exit 3 if a gate trips: ism-exposure, status16,\n"
		"                        map-errors, downgraded, exposure-p99>TIME (docs/cli.md)\n"
		"      --json            print one JSON object (schema in docs/cli.md)\n"
		"      --csv             print a CSV header and one row\n"
		"  -q, --quiet           no progress on stderr\n"
		"  -h, --help            show this help\n"
		"\n"
		"Exit status: 0 on success, 1 if the run failed, 2 on a usage error or a bad job\n"
		"file (the message names FILE:LINE), 3 if a --fail-on gate tripped (named on\n"
		"stderr; the report is printed first).\n");
}

/* A usage error: message, hint, status 2. */
#define bad(...) cli_usage_error("run", __VA_ARGS__)

int
cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "fq-size", required_argument, NULL, OPT_FQ_SIZE },
		{ "fq-timeout", required_argument, NULL, OPT_FQ_TIMEOUT },
		{ "ism-force-fq", no_argument, NULL, OPT_ISM_FORCE_FQ },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "seed", required_argument, NULL, 's' },
		{ "set", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char prog[] = "iommusim run";
	const char *platform = NULL, *path;
	enum iommusim_policy_kind policy_kind = IOMMUSIM_POLICY_KERNEL;
	struct iommusim_jobfile *jf = NULL;
	struct iommusim_run_result res;
	struct iommusim_profile profile;
	struct iommusim_policy policy;
	struct iommusim_run_progress rp;
	struct output_progress prog_state;
	const struct iommusim_profile *base;
	struct output_run out;
	enum output_format fmt = OUTPUT_TEXT;
	struct iommusim_policy opt_fq = { 0 }; /* --fq-size, --fq-timeout */
	struct output_gates gates = { 0 };
	char msg[224];
	uint64_t seed = 0;
	bool has_fq_size = false, has_fq_timeout = false, has_seed = false, force_fq = false;
	bool quiet = false, has_policy_kind = false;
	const char **sets = NULL;
	size_t nsets = 0, i;
	char err[512] = "", label[64];
	int c, ret, rc = 2;

	if (cmd_help_requested(argc, argv)) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	sets = calloc((size_t)argc, sizeof(*sets));
	jf = calloc(1, sizeof(*jf));
	if (!sets || !jf) {
		fprintf(stderr, "iommusim run: out of memory\n");
		rc = 1;
		goto out;
	}
	argv[0] = prog; /* getopt's messages name the command */
	while ((c = getopt_long(argc, argv, "p:s:S:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!iommusim_profile_find(optarg)) {
				rc = bad("unknown platform '%s' (see 'iommusim profile list')",
					 optarg);
				goto out;
			}
			platform = optarg;
			break;
		case OPT_POLICY:
			if (iommusim_policy_parse(optarg, &policy_kind)) {
				rc = bad("unknown policy '%s' (kernel, strict, lazy-percpu, "
					 "lazy-single, legacy, legacy-strict)",
					 optarg);
				goto out;
			}
			has_policy_kind = true;
			break;
		case OPT_FQ_SIZE:
		case OPT_FQ_TIMEOUT:
			if (iommusim_policy_set(&opt_fq,
						c == OPT_FQ_SIZE ? "fq_size" : "fq_timeout", optarg,
						msg, sizeof(msg))) {
				rc = bad("--%s: %s", c == OPT_FQ_SIZE ? "fq-size" : "fq-timeout",
					 msg);
				goto out;
			}
			has_fq_size = has_fq_size || c == OPT_FQ_SIZE;
			has_fq_timeout = has_fq_timeout || c == OPT_FQ_TIMEOUT;
			break;
		case OPT_ISM_FORCE_FQ:
			force_fq = true;
			break;
		case OPT_CMDLINE:
			if (iommusim_policy_set(&opt_fq, "cmdline", optarg, msg, sizeof(msg))) {
				rc = bad("--%s", msg);
				goto out;
			}
			break;
		case 's':
			if (output_parse_seed(optarg, &seed, msg, sizeof(msg))) {
				rc = bad("--seed: %s", msg);
				goto out;
			}
			has_seed = true;
			break;
		case 'S':
			sets[nsets++] = optarg;
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
		case 'q':
			quiet = true;
			break;
		default: /* getopt named the problem */
			fputs("Try 'iommusim run --help'.\n", stderr);
			rc = 2;
			goto out;
		}
	}
	if (optind >= argc) {
		rc = bad("missing the job file (JOB.ini)");
		goto out;
	}
	if (argc - optind > 1) {
		rc = bad("one job file only; unexpected '%s'", argv[optind + 1]);
		goto out;
	}
	path = argv[optind];

	ret = iommusim_jobfile_parse(path, jf, err, sizeof(err));
	if (ret) {
		if (err[0])
			fprintf(stderr, "iommusim run: %s\n", err);
		else
			fprintf(stderr, "iommusim run: %s: %s\n", path, strerror(-ret));
		rc = ret == -ENOMEM ? 1 : 2;
		goto out;
	}
	if (jf->sweep_line)
		fprintf(stderr,
			"iommusim run: %s:%u: note: the [sweep] section is for 'iommusim sweep'; "
			"running the job once\n",
			path, (unsigned)jf->sweep_line);

	/* Platform: option > file > lpar; then the file's overrides, then --set. */
	if (!platform)
		platform = jf->platform[0] ? jf->platform : "lpar";
	base = iommusim_profile_find(platform);
	if (!base) { /* the job file checked its platform= */
		fprintf(stderr, "iommusim run: %s: unknown platform '%s'\n", path, platform);
		goto out;
	}
	profile = *base;
	if (iommusim_jobfile_apply_overrides(jf, path, &profile, err, sizeof(err))) {
		fprintf(stderr, "iommusim run: %s\n", err);
		goto out;
	}
	/* Policy: option > --set > file > kernel. */
	if (jf->has_policy)
		policy = jf->policy;
	else
		policy = (struct iommusim_policy){ .kind = IOMMUSIM_POLICY_KERNEL };
	for (i = 0; i < nsets; i++) {
		if (output_apply_set(sets[i], &jf->job, &policy, &profile, err, sizeof(err))) {
			rc = bad("%s", err);
			goto out;
		}
	}
	if (has_policy_kind)
		policy.kind = policy_kind;
	if (has_fq_size)
		policy.fq_size = opt_fq.fq_size;
	if (has_fq_timeout)
		policy.fq_timeout_ms = opt_fq.fq_timeout_ms;
	if (force_fq)
		policy.ism_force_fq = true;
	if (opt_fq.has_cmdline) {
		policy.has_cmdline = true;
		policy.cmdline = opt_fq.cmdline;
	}

	/* Seed: option > file > 1. */
	if (!has_seed) {
		seed = jf->has_seed ? jf->seed : 1;
		if (seed > (uint64_t)INT64_MAX) {
			rc = bad("%s: seed %" PRIu64 " is above 2^63-1", path, seed);
			goto out;
		}
	}

	output_progress_init(&prog_state, quiet, 1);
	snprintf(label, sizeof(label), "%s %s", profile.name, iommusim_policy_name(policy.kind));
	output_progress_stage(&prog_state, 0, label);
	rp = (struct iommusim_run_progress){ .report = output_progress_report,
					     .priv = &prog_state };
	err[0] = '\0';
	ret = iommusim_run(&jf->job, &profile, &policy, seed, &rp, &res, err, sizeof(err));
	output_progress_report(&prog_state, 1.0);
	output_progress_end(&prog_state);
	if (ret) {
		fprintf(stderr, "iommusim run: %s: %s\n", path, err[0] ? err : strerror(-ret));
		rc = 1;
		goto out;
	}

	out = (struct output_run){
		.job = &jf->job, .profile = &profile, .policy = &policy, .res = &res
	};
	switch (fmt) {
	case OUTPUT_TEXT:
		ret = output_run_text(stdout, &out);
		break;
	case OUTPUT_JSON: {
		json_t *o = output_run_json(&out);

		ret = o ? output_json_dump(stdout, o) : -ENOMEM;
		json_decref(o);
		break;
	}
	case OUTPUT_CSV:
		ret = output_csv_header(stdout);
		if (!ret)
			ret = output_csv_row(stdout, &out);
		break;
	}
	if (!ret && fflush(stdout))
		ret = -EIO;
	if (ret) {
		fprintf(stderr, "iommusim run: writing the report: %s\n", strerror(-ret));
		rc = 1;
		goto out;
	}
	rc = EXIT_SUCCESS;
	output_run_warnings("run", &out, NULL);
	/* The gates, after the report: CI reads the status, a person the report. */
	snprintf(label, sizeof(label), "%s %s", profile.name, iommusim_policy_name(policy.kind));
	if (output_gates_check(&gates, "run", label, &res, true))
		rc = OUTPUT_EXIT_GATE;
out:
	free(jf);
	free(sets);
	return rc;
}
