/* SPDX-License-Identifier: MIT */
/*
 * iommusim plot: draw a sweep's or a comparison's results with gnuplot and
 * print a sweep's Pareto front (plot.h, docs/sweeps.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "output.h"
#include "plot.h"

enum {
	OPT_X = 256,
	OPT_NO_RENDER,
};

static void
usage(FILE *f)
{
	fprintf(f, "Usage: iommusim plot [OPTION]... RESULTS\n"
		   "Draw RESULTS, the output of 'iommusim sweep' (CSV or JSON lines) or the\n"
		   "CSV that 'iommusim compare' writes, with gnuplot: a PNG and an SVG per\n"
		   "figure, with its .gp script and .dat data beside them to edit and redraw.\n"
		   "For a sweep, one set of figures per platform on the same axes: throughput\n"
		   "against the x axis (a line per value of the other axes), a heat map of\n"
		   "the grid, throughput against the exposure window's p99 with the Pareto\n"
		   "front marked, flush-queue memory and status-16 events; and the front as a\n"
		   "table on stdout (throughput higher, exposure p99 lower, queue memory\n"
		   "lower). A lazy point whose windows no flush closed in the run has no\n"
		   "exposure to weigh: it is left out of the front, and the table says so.\n"
		   "\n"
		   "  -o, --output=DIR      the figures' directory (default: RESULTS without\n"
		   "                        its extension, and -plots)\n"
		   "      --x=AXIS          the x axis: a column of the sweep's axes (default:\n"
		   "                        fq_size if it is one, else the first)\n"
		   "      --no-render       write the .gp and .dat files, do not run gnuplot\n"
		   "  -q, --quiet           do not list the files written (stderr)\n"
		   "  -h, --help            show this help\n"
		   "\n"
		   "IOMMUSIM_GNUPLOT names another gnuplot program.\n"
		   "Exit status: 0 on success, 1 if gnuplot or a write failed, 2 on a usage\n"
		   "error or a file that is not a sweep's or a comparison's results.\n");
}

#define bad(...) cli_usage_error("plot", __VA_ARGS__)

/* "results.csv" -> "results-plots". */
static char *
default_dir(const char *path)
{
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
	size_t n = dot && (!slash || dot > slash + 1) ? (size_t)(dot - path) : strlen(path);
	char *d = malloc(n + 7);

	if (d)
		snprintf(d, n + 7, "%.*s-plots", (int)n, path);
	return d;
}

int
cmd_plot(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "x", required_argument, NULL, OPT_X },
		{ "no-render", no_argument, NULL, OPT_NO_RENDER },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char prog[] = "iommusim plot";
	struct plot_opts o = { .front = stdout, .log = stderr };
	char err[768] = "", *dir = NULL;
	int c, ret, rc = 2;

	if (cmd_help_requested(argc, argv)) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	argv[0] = prog;
	while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.dir = optarg;
			break;
		case OPT_X:
			o.x = optarg;
			break;
		case OPT_NO_RENDER:
			o.no_render = true;
			break;
		case 'q':
			o.log = NULL;
			break;
		default:
			fputs("Try 'iommusim plot --help'.\n", stderr);
			return 2;
		}
	}
	if (optind == argc)
		return bad("no results file to plot");
	if (argc - optind > 1)
		return bad("one results file only; unexpected '%s' (merge shards first: "
			   "iommusim merge)",
			   argv[optind + 1]);
	if (!o.dir) {
		dir = default_dir(argv[optind]);
		if (!dir) {
			fprintf(stderr, "iommusim plot: out of memory\n");
			return 1;
		}
		o.dir = dir;
	}
	if (o.log)
		fprintf(o.log, "iommusim plot: %s into %s/:\n", argv[optind], o.dir);
	ret = plot_file(argv[optind], &o, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "iommusim plot: %s\n", err[0] ? err : strerror(-ret));
		/* gnuplot, a write or memory failing is 1; the input's fault 2. */
		rc = ret == -ECHILD || ret == -EIO || ret == -ENOMEM || ret == -ENOSPC ? 1 : 2;
	} else {
		rc = EXIT_SUCCESS;
	}
	free(dir);
	return rc;
}
