/* SPDX-License-Identifier: MIT */
/*
 * iommusim keys: the table of every user-settable key (iommusim/keys.h), as
 * text, JSON or the Markdown of docs/keys.md.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <iommusim/iommusim.h>

#include "cmd.h"
#include "output.h"

static void
usage(FILE *f)
{
	fprintf(f, "Usage: iommusim keys [--json | --markdown] [KEY...]\n"
		   "Print every user-settable key (or the KEYs named): where it is written, its\n"
		   "type, unit, range and default, and what it means. Job files, --set, `profile\n"
		   "show --set` and scripts read each key through this one table.\n"
		   "\n"
		   "  -j, --json       one JSON object per key, one per line\n"
		   "  -m, --markdown   the table of docs/keys.md\n"
		   "  -h, --help       show this help\n"
		   "\n"
		   "Scopes: job and policy keys are written in a job file's [global] or job\n"
		   "section and with --set; file keys in a job file only; profile keys in\n"
		   "[platform], with --set and in a script's `platform` statement; script keys\n"
		   "in a script's `platform` statement only.\n"
		   "\n"
		   "Exit status: 0 on success, 2 on a usage error (an unknown key).\n");
}

#define bad(...) cli_usage_error("keys", __VA_ARGS__)

/* A bound as the grammar would write it: exact units, 2^64-1 for the top. */
static void
fmt_bound(const struct iommusim_key *k, uint64_t v, char *buf, size_t len)
{
	static const struct {
		const char *unit;
		uint64_t per;
	} sizes[] = { { "t", UINT64_C(1) << 40 },
		      { "g", UINT64_C(1) << 30 },
		      { "m", UINT64_C(1) << 20 },
		      { "k", UINT64_C(1) << 10 } },
	  times[] = { { "s", UINT64_C(1000000000) },
		      { "ms", UINT64_C(1000000) },
		      { "us", UINT64_C(1000) } };
	size_t i;

	/* 2^32-1, 2^63-1, 2^64-1: the integer types' tops. */
	if (v >= UINT32_MAX && !(v & (v + 1))) {
		snprintf(buf, len, "2^%u-1", 64u - (unsigned)__builtin_clzll(v));
		return;
	}
	if (k->type == IOMMUSIM_KEY_SIZE && v)
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			if (!(v % sizes[i].per) && v / sizes[i].per < 10000) {
				snprintf(buf, len, "%" PRIu64 "%s", v / sizes[i].per,
					 sizes[i].unit);
				return;
			}
	if (k->type == IOMMUSIM_KEY_TIME) {
		for (i = 0; v && i < sizeof(times) / sizeof(times[0]); i++)
			if (!(v % times[i].per)) {
				snprintf(buf, len, "%" PRIu64 "%s", v / times[i].per,
					 times[i].unit);
				return;
			}
		snprintf(buf, len, "%" PRIu64 "ns", v);
		return;
	}
	snprintf(buf, len, "%" PRIu64, v);
}

/* What the key takes, in a few words. */
static void
fmt_range(const struct iommusim_key *k, char *buf, size_t len)
{
	char lo[32], hi[32];
	size_t i, off = 0;

	buf[0] = '\0';
	switch (k->type) {
	case IOMMUSIM_KEY_BOOL:
		snprintf(buf, len, "0 or 1");
		return;
	case IOMMUSIM_KEY_ENUM:
		for (i = 0; k->choices[i].name && off < len; i++)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
						k->choices[i].name);
		return;
	case IOMMUSIM_KEY_REAL:
		if (k->max_real >= 1e300)
			snprintf(buf, len, "%g..", k->min_real);
		else
			snprintf(buf, len, "%g..%g", k->min_real, k->max_real);
		return;
	default:
		break;
	}
	fmt_bound(k, k->min, lo, sizeof(lo));
	fmt_bound(k, k->max, hi, sizeof(hi));
	off = (size_t)snprintf(buf, len, "%s..%s", lo, hi);
	if (k->pow2 && off < len)
		off += (size_t)snprintf(buf + off, len - off, ", a power of two");
	if (k->multiple > 1 && off < len) {
		fmt_bound(k, k->multiple, lo, sizeof(lo));
		snprintf(buf + off, len - off, ", a multiple of %s", lo);
	}
}

/* The default where one value is the default: "" where it depends. */
static void
fmt_default(const struct iommusim_key *k, char *buf, size_t len)
{
	struct iommusim_jobfile jf;
	struct iommusim_key_value v;
	const void *obj = NULL;

	buf[0] = '\0';
	memset(&jf, 0, sizeof(jf));
	iommusim_job_defaults(&jf.job);
	switch (k->scope) {
	case IOMMUSIM_KEY_JOB:
		obj = &jf.job;
		break;
	case IOMMUSIM_KEY_FILE:
		obj = &jf;
		break;
	case IOMMUSIM_KEY_POLICY:
		if (k->type != IOMMUSIM_KEY_BOOL) {
			snprintf(buf, len, "the kernel's rule");
			return;
		}
		obj = &jf.policy;
		break;
	case IOMMUSIM_KEY_PROFILE:
		snprintf(buf, len, "per profile");
		return;
	case IOMMUSIM_KEY_SCRIPT:
		/* docs/scenario.md: 16 GiB of memory, the kernel's factor 1. */
		snprintf(buf, len, strcmp(k->name, "memory") ? "1" : "16g");
		return;
	}
	if (!strcmp(k->name, "cpus")) {
		snprintf(buf, len, "numjobs");
		return;
	}
	if (!strcmp(k->name, "seed")) {
		snprintf(buf, len, "--seed, or 1");
		return;
	}
	if (iommusim_key_load(k, obj, &v))
		return;
	if (k->type == IOMMUSIM_KEY_ENUM || k->type == IOMMUSIM_KEY_BOOL ||
	    k->type == IOMMUSIM_KEY_REAL) {
		if (iommusim_key_format(k, &v, buf, len))
			buf[0] = '\0';
		return;
	}
	fmt_bound(k, v.u, buf, len);
}

enum format { F_TEXT, F_JSON, F_MARKDOWN };

IOMMUSIM_NODISCARD static int
print_key(const struct iommusim_key *k, enum format fmt)
{
	char range[160], dflt[40];

	fmt_range(k, range, sizeof(range));
	fmt_default(k, dflt, sizeof(dflt));
	switch (fmt) {
	case F_TEXT:
		return printf("%-20s %-8s %-6s %-38s %-16s %s%s%s%s\n", k->name,
			      iommusim_key_scope_name(k->scope), iommusim_key_type_name(k->type),
			      range, dflt[0] ? dflt : "-", k->doc, k->unit[0] ? " (" : "", k->unit,
			      k->unit[0] ? ")" : "") < 0 ?
			       -EIO :
			       0;
	case F_MARKDOWN:
		return printf("| `%s` | %s | %s | %s | %s | %s | %s |\n", k->name,
			      iommusim_key_scope_name(k->scope), iommusim_key_type_name(k->type),
			      range, k->unit[0] ? k->unit : "", dflt, k->doc) < 0 ?
			       -EIO :
			       0;
	case F_JSON:
		return output_json_line(
			json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "name", k->name,
				  "scope", iommusim_key_scope_name(k->scope), "type",
				  iommusim_key_type_name(k->type), "range", range, "unit", k->unit,
				  "default", dflt, "doc", k->doc, "accepts", k->hint));
	}
	return -EINVAL;
}

int
cmd_keys(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "markdown", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char prog[] = "iommusim keys";
	const struct iommusim_key *k;
	enum format fmt = F_TEXT;
	size_t i;
	int c, a, rc = 0;

	argv[0] = prog;
	while ((c = getopt_long(argc, argv, "jmh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			fmt = F_JSON;
			break;
		case 'm':
			fmt = F_MARKDOWN;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		default:
			fputs("Try 'iommusim keys --help'.\n", stderr);
			return 2;
		}
	}
	/* Every name asked for must be a key before anything is printed. */
	for (a = optind; a < argc; a++) {
		for (i = 0; (k = iommusim_key_at(i)) && strcmp(k->name, argv[a]); i++)
			;
		if (!k)
			return bad("unknown key '%s'", argv[a]);
	}
	if (fmt == F_TEXT)
		rc = -EIO * (printf("%-20s %-8s %-6s %-38s %-16s %s\n", "key", "scope", "type",
				    "range", "default", "meaning (unit)") < 0);
	if (fmt == F_MARKDOWN)
		rc = -EIO * (printf("| key | scope | type | range | unit | default | meaning |\n"
				    "|---|---|---|---|---|---|---|\n") < 0);
	for (i = 0; (k = iommusim_key_at(i)) && !rc; i++) {
		bool want = optind == argc;

		for (a = optind; a < argc && !want; a++)
			want = !strcmp(k->name, argv[a]);
		if (want)
			rc = print_key(k, fmt);
	}
	if (rc)
		fprintf(stderr, "iommusim keys: %s\n",
			rc == -ENOMEM ? "out of memory building the JSON" :
					"writing the output failed");
	return rc ? EXIT_FAILURE : EXIT_SUCCESS;
}
