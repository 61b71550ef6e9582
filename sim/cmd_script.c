/* SPDX-License-Identifier: MIT */
/*
 * iommusim script: run scenario scripts (docs/scenario.md) and report their
 * expectations; the exit status is what CI looks at.
 */
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
	fprintf(f, "Usage: iommusim script [--quiet] [--check] FILE...\n"
		   "Run scenario scripts: declare a platform, zPCI functions, domains and DMA\n"
		   "policies, map, unmap and advance time step by step, and check `expect`\n"
		   "lines (the language: docs/scenario.md). Each file runs on a fresh\n"
		   "simulation; `print` and `echo` write to standard output, failures and\n"
		   "errors to standard error as FILE:LINE: MESSAGE.\n"
		   "\n"
		   "  -c, --check  check each file (every statement parsed, blocks matched)\n"
		   "               without running it: \"FILE: checked\"\n"
		   "  -q, --quiet  no \"FILE: N expectations passed\" line for passing files\n"
		   "  -h, --help   show this help\n"
		   "\n"
		   "Exit status: 0 if every expectation of every file held; 1 if one failed or a\n"
		   "DMA operation failed unexpectedly; 2 on a syntax error, a misuse (unknown\n"
		   "name, unmapping twice...), an unreadable file or a usage error.\n");
}

int
cmd_script(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "check", no_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool quiet = false, check = false;
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
	for (i = optind; i < argc; i++) {
		struct iommusim_script_summary sum;
		int rc;

		if (check) {
			rc = iommusim_script_check_file(argv[i], stderr);
			if (rc == IOMMUSIM_SCRIPT_OK && !quiet)
				printf("%s: checked\n", argv[i]);
			fflush(stderr);
			if (rc > status)
				status = rc;
			continue;
		}
		rc = iommusim_script_run_file(argv[i], stdout, stderr, &sum);
		fflush(stdout);
		if (rc == IOMMUSIM_SCRIPT_OK) {
			if (!quiet)
				printf("%s: %" PRIu64 " expectations passed\n", argv[i],
				       sum.expectations);
		} else if (rc == IOMMUSIM_SCRIPT_FAILED) {
			if (sum.failed)
				fprintf(stderr,
					"%s: %" PRIu64 " of %" PRIu64 " expectations failed\n",
					argv[i], sum.failed, sum.expectations);
			else
				fprintf(stderr, "%s: stopped after a failed DMA operation\n",
					argv[i]);
		}
		fflush(stderr);
		if (rc > status)
			status = rc;
	}
	return status;
}
