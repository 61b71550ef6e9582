/* SPDX-License-Identifier: MIT */
/*
 * iommusim: the command-line front end. Dispatches to the subcommands; with
 * no subcommand it runs the default comparison (the seeds' results).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/iommusim.h>

#include "cmd.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
} cmds[] = {
	{ "run", cmd_run, "run one job file under a platform and policy" },
	{ "compare", cmd_compare,
	  "run several policies side by side (default: the seeds' comparison)" },
	{ "profile", cmd_profile, "list the platform profiles or show one" },
	{ "keys", cmd_keys, "every key a job file, --set or a script can set, with its range" },
	{ "sweep", cmd_sweep, "run a job over a grid of settings, in parallel, resumable" },
	{ "merge", cmd_merge, "join a sharded sweep's files, checking every point is there once" },
	{ "plot", cmd_plot, "draw a sweep's or a comparison's results; a sweep's Pareto front" },
	{ "script", cmd_script, "run a scenario script with expectations" },
	{ "stress", cmd_stress, "real threads on the DMA layer, with the safety check" },
	{ "demo", cmd_demo, "walk through the IOVA allocator on a small domain" },
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: iommusim [COMMAND [ARGS...] | COMPARE-OPTION...]\n"
		   "Simulate the Linux IOMMU DMA flush machinery (dma-iommu, s390 RPCIT,\n"
		   "flush queues) on LPAR, z/VM, KVM and x86 platform models.\n"
		   "\n"
		   "With no command, run the default comparison: for LPAR, z/VM and KVM (QEMU\n"
		   "8.0 and 7.1), the pre-6.7 s390 DMA API against per-CPU and single flush\n"
		   "queues and strict mode, plus the ISM check. Options without a command are\n"
		   "the comparison's ('iommusim --plot DIR' also draws it; 'compare --help').\n"
		   "\n"
		   "Commands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].what);
	fprintf(f, "\n"
		   "  -h, --help     show this help (COMMAND --help: the command's)\n"
		   "  -V, --version  print the version\n");
}

int
main(int argc, char **argv)
{
	int rc = -1;
	size_t i;

	if (argc < 2) {
		rc = cmd_compare(1, argv);
	} else if (argv[1][0] == '-' && strcmp(argv[1], "-h") && strcmp(argv[1], "--help") &&
		   strcmp(argv[1], "-V") && strcmp(argv[1], "--version")) {
		/* Options without a command are the default comparison's:
		 * `iommusim --plot DIR`. */
		rc = cmd_compare(argc, argv);
	} else if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		rc = EXIT_SUCCESS;
	} else if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("iommusim %s\n", iommusim_version());
		rc = EXIT_SUCCESS;
	} else {
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]) && rc < 0; i++)
			if (!strcmp(argv[1], cmds[i].name))
				rc = cmds[i].fn(argc - 1, argv + 1);
		if (rc < 0) {
			fprintf(stderr, "iommusim: unknown command '%s'\n", argv[1]);
			usage(stderr);
			return 2;
		}
	}
	/* Whatever the command, output that could not be written is an error:
	 * a full disk or a closed pipe must not look like a result. (A command
	 * that failed has said why; its exit status stands.) */
	errno = 0;
	if ((fflush(stdout) != 0 || ferror(stdout)) && rc == EXIT_SUCCESS) {
		fprintf(stderr, "iommusim: writing the output: %s\n",
			errno ? strerror(errno) : "write error");
		rc = EXIT_FAILURE;
	}
	return rc;
}
