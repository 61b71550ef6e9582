/* SPDX-License-Identifier: MIT */
/*
 * iommusim script: run scenario scripts (docs/scenario.md) and report their
 * expectations; the exit status is what CI looks at.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/iommusim.h>

#include "cmd.h"

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: iommusim script [--quiet] [--check] [--tap | --tap-flat] [--junit=FILE] FILE...\n"
		"Run scenario scripts: declare a platform, zPCI functions, domains and DMA\n"
		"policies, map, unmap and advance time step by step, and check `expect`\n"
		"lines (the language: docs/scenario.md). Each file runs on a fresh\n"
		"simulation; `print` and `echo` write to standard output, failures and\n"
		"errors to standard error as FILE:LINE: MESSAGE.\n"
		"\n"
		"  -c, --check  check each file (every statement parsed, blocks matched)\n"
		"               without running it: \"FILE: checked\"\n"
		"  -q, --quiet  no \"FILE: N expectations passed\" line for passing files\n"
		"      --tap    KTAP version 1 on standard output: one subtest per file, one\n"
		"               result per expectation (FILE:LINE and its text), what stopped\n"
		"               a script as a failed result; print and echo are left out\n"
		"      --tap-flat  TAP version 13 without nesting: one result per expectation\n"
		"               of every file, for harnesses that do not read subtests\n"
		"               (meson test's TAP parser)\n"
		"      --junit=FILE  the same as JUnit XML in FILE (GitLab, Jenkins)\n"
		"  -h, --help   show this help\n"
		"\n"
		"Exit status: 0 if every expectation of every file held; 1 if one failed or a\n"
		"DMA operation failed unexpectedly; 2 on a syntax error, a misuse (unknown\n"
		"name, unmapping twice...), an unreadable file or a usage error.\n");
}

/* What one file's run reported, kept for --tap and --junit. */
struct result {
	char *name; /* "FILE:LINE [i=N] TEXT" */
	char *message; /* "" when it held */
	bool passed, stopped;
};

struct file_results {
	const char *path;
	struct result *v;
	size_t n, cap;
	bool oom;
	int status;
};

/* @p s with control characters and '#' (a TAP directive) as '?'. */
static char *
clean_dup(const char *s)
{
	char *d = strdup(s ? s : ""), *p;

	for (p = d; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '#')
			*p = '?';
	return d;
}

static void
add_result(struct file_results *fr, const char *name, const char *message, bool passed,
	   bool stopped)
{
	struct result *r;

	if (fr->oom)
		return;
	if (fr->n == fr->cap) {
		size_t cap = fr->cap ? 2 * fr->cap : 16;
		struct result *v = realloc(fr->v, cap * sizeof(*v));

		if (!v) {
			fr->oom = true;
			return;
		}
		fr->v = v;
		fr->cap = cap;
	}
	r = &fr->v[fr->n];
	r->name = clean_dup(name);
	r->message = clean_dup(message);
	r->passed = passed;
	r->stopped = stopped;
	if (!r->name || !r->message) {
		free(r->name);
		free(r->message);
		fr->oom = true;
		return;
	}
	fr->n++;
}

static void
on_expectation(void *priv, const struct iommusim_script_expectation *e)
{
	char name[1024];

	if (e->iteration >= 0)
		snprintf(name, sizeof(name), "%s:%u [i=%" PRId64 "] expect %s", e->script, e->line,
			 e->iteration, e->text);
	else
		snprintf(name, sizeof(name), "%s:%u expect %s", e->script, e->line, e->text);
	add_result(priv, name, e->message, e->passed, false);
}

static void
on_stopped(void *priv, const char *message)
{
	char name[1024];
	const char *colon = strstr(message, ": ");

	/* The test is the place, "FILE:LINE stopped"; the message its diagnostic. */
	snprintf(name, sizeof(name), "%.*s stopped", colon ? (int)(colon - message) : 0, message);
	add_result(priv, colon ? name : "stopped", message, false, true);
}

static void
free_results(struct file_results *fr)
{
	size_t i;

	for (i = 0; i < fr->n; i++) {
		free(fr->v[i].name);
		free(fr->v[i].message);
	}
	free(fr->v);
}

/* KTAP version 1, one subtest per file (Documentation/dev-tools/ktap.rst). */
static void
print_ktap_file(const struct file_results *fr, size_t index)
{
	size_t i;

	printf("    KTAP version 1\n    # Subtest: %s\n    1..%zu\n", fr->path, fr->n);
	for (i = 0; i < fr->n; i++) {
		const struct result *r = &fr->v[i];

		printf("    %s %zu %s\n", r->passed ? "ok" : "not ok", i + 1, r->name);
		if (!r->passed)
			printf("    # %s\n", r->message);
	}
	printf("%s %zu %s\n", fr->status == IOMMUSIM_SCRIPT_OK ? "ok" : "not ok", index, fr->path);
}

/* TAP version 13, flat: every file's results in one plan. */
static void
print_tap_flat(const struct file_results *all, size_t nfiles)
{
	size_t i, j, n = 0, k = 0;

	for (i = 0; i < nfiles; i++)
		n += all[i].n;
	printf("TAP version 13\n1..%zu\n", n);
	for (i = 0; i < nfiles; i++)
		for (j = 0; j < all[i].n; j++) {
			const struct result *r = &all[i].v[j];

			printf("%s %zu %s\n", r->passed ? "ok" : "not ok", ++k, r->name);
			if (!r->passed)
				printf("# %s\n", r->message);
		}
}

static void
xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* JUnit XML as GitLab and Jenkins read it: a testsuite per file. */
static int
write_junit(const char *path, const struct file_results *all, size_t nfiles)
{
	size_t i, j, tests = 0, failures = 0, errors = 0;
	FILE *f = fopen(path, "w");

	if (!f) {
		fprintf(stderr, "iommusim script: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	for (i = 0; i < nfiles; i++)
		for (j = 0; j < all[i].n; j++) {
			tests++;
			failures += !all[i].v[j].passed && !all[i].v[j].stopped;
			errors += all[i].v[j].stopped;
		}
	fprintf(f,
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"iommusim script\" tests=\"%zu\" failures=\"%zu\" "
		"errors=\"%zu\">\n",
		tests, failures, errors);
	for (i = 0; i < nfiles; i++) {
		const struct file_results *fr = &all[i];
		size_t fails = 0, errs = 0;

		for (j = 0; j < fr->n; j++) {
			fails += !fr->v[j].passed && !fr->v[j].stopped;
			errs += fr->v[j].stopped;
		}
		fputs("  <testsuite name=\"", f);
		xml_text(f, fr->path);
		fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n", fr->n, fails,
			errs);
		for (j = 0; j < fr->n; j++) {
			const struct result *r = &fr->v[j];

			fputs("    <testcase classname=\"", f);
			xml_text(f, fr->path);
			fputs("\" name=\"", f);
			xml_text(f, r->name);
			if (r->passed) {
				fputs("\"/>\n", f);
				continue;
			}
			fprintf(f, "\">\n      <%s message=\"", r->stopped ? "error" : "failure");
			xml_text(f, r->message);
			fprintf(f, "\"/>\n    </testcase>\n");
		}
		fputs("  </testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
	if (fclose(f)) {
		fprintf(stderr, "iommusim script: writing %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

int
cmd_script(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "check", no_argument, NULL, 'c' },
		{ "tap", no_argument, NULL, 'T' },
		{ "tap-flat", no_argument, NULL, 'F' },
		{ "junit", required_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool quiet = false, check = false, tap = false, flat = false;
	const char *junit = NULL;
	struct file_results *all = NULL;
	int c, i, status = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "qch", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case 'c':
			check = true;
			break;
		case 'T':
			tap = true;
			break;
		case 'F':
			flat = true;
			break;
		case 'J':
			junit = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			fprintf(stderr, "iommusim script: unknown option '%s'\n", argv[optind - 1]);
			fputs("Try 'iommusim script --help'.\n", stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs("iommusim script: no script given\n", stderr);
		fputs("Try 'iommusim script --help'.\n", stderr);
		return 2;
	}
	if (tap && flat) {
		fputs("iommusim script: --tap or --tap-flat, not both\n", stderr);
		return 2;
	}
	if (check && (tap || flat || junit)) {
		fputs("iommusim script: --check runs nothing: no --tap or --junit with it\n",
		      stderr);
		return 2;
	}
	if (tap || flat || junit) {
		all = calloc((size_t)(argc - optind), sizeof(*all));
		if (!all) {
			fputs("iommusim script: out of memory\n", stderr);
			return 1;
		}
	}
	if (tap)
		printf("KTAP version 1\n1..%d\n", argc - optind);
	for (i = optind; i < argc; i++) {
		struct iommusim_script_summary sum;
		/* "-" is standard input: the library names it so in messages */
		const char *shown = strcmp(argv[i], "-") ? argv[i] : "<stdin>";
		int rc;

		if (all) {
			struct file_results *fr = &all[i - optind];
			const struct iommusim_script_hooks hooks = { .expectation = on_expectation,
								     .stopped = on_stopped,
								     .priv = fr };

			fr->path = shown;
			/* print and echo would break the TAP stream: discarded */
			rc = iommusim_script_run_file_hooks(argv[i], tap || flat ? NULL : stdout,
							    tap || flat ? NULL : stderr, &hooks,
							    &sum);
			fr->status = rc;
			if (fr->oom) {
				fputs("iommusim script: out of memory keeping the results\n",
				      stderr);
				rc = IOMMUSIM_SCRIPT_ERROR;
			}
			if (tap)
				print_ktap_file(fr, (size_t)(i - optind + 1));
			if (rc > status)
				status = rc;
			continue;
		}

		if (check) {
			rc = iommusim_script_check_file(argv[i], stderr);
			if (rc == IOMMUSIM_SCRIPT_OK && !quiet)
				printf("%s: checked\n", shown);
			fflush(stderr);
			if (rc > status)
				status = rc;
			continue;
		}
		rc = iommusim_script_run_file(argv[i], stdout, stderr, &sum);
		fflush(stdout);
		if (rc == IOMMUSIM_SCRIPT_OK) {
			if (!quiet)
				printf("%s: %" PRIu64 " expectations passed\n", shown,
				       sum.expectations);
		} else if (rc == IOMMUSIM_SCRIPT_FAILED) {
			if (sum.failed)
				fprintf(stderr,
					"%s: %" PRIu64 " of %" PRIu64 " expectations failed\n",
					shown, sum.failed, sum.expectations);
			else
				fprintf(stderr, "%s: stopped after a failed DMA operation\n",
					shown);
		}
		fflush(stderr);
		if (rc > status)
			status = rc;
	}
	if (flat)
		print_tap_flat(all, (size_t)(argc - optind));
	if (junit && write_junit(junit, all, (size_t)(argc - optind)) && !status)
		status = 1;
	for (i = 0; all && i < argc - optind; i++)
		free_results(&all[i]);
	free(all);
	return status;
}
