/* SPDX-License-Identifier: MIT */
/*
 * Plots (docs/sweeps.md "Plots and the front"): a sweep's results file (the
 * wide CSV or JSON lines of iommusim sweep) or a comparison's CSV (iommusim
 * compare --csv) drawn by gnuplot into PNG and SVG, with the .gp scripts and
 * .dat files kept beside them; and the Pareto front over throughput (higher),
 * the exposure window's p99 (lower) and the flush queues' memory (lower),
 * computed by the library (iommusim_pareto_front) per platform.
 */
#ifndef IOMMUSIM_SIM_PLOT_H
#define IOMMUSIM_SIM_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* A results file as text cells: column names, then rows of as many cells
 * (NULL for an empty CSV field or a JSON null). */
struct plot_table {
	size_t ncols, nrows;
	char **cols;
	char **cells; /* [row * ncols + col] */
	unsigned *lines; /* each row's line in the file, for messages */
	const char *path;
};

/*
 * Read a results file: CSV with a header (RFC 4180 quoting) or JSON lines
 * (every object with the first one's keys, in its order). @return 0; -EINVAL
 * with "FILE:LINE: ..." in @p err; -errno, -ENOMEM
 */
int plot_table_read(const char *path, struct plot_table *t, char *err, size_t err_len);
void plot_table_free(struct plot_table *t);
/* The column named @p name, or -1. */
long plot_table_col(const struct plot_table *t, const char *name);

struct plot_opts {
	const char *dir; /* where the files go (made if it is not there) */
	const char *x; /* the x axis: an axis column (NULL: fq_size, else the first) */
	const char *gnuplot; /* the program (NULL: $IOMMUSIM_GNUPLOT, else gnuplot) */
	bool no_render; /* write the .gp and .dat files only */
	FILE *front; /* the front table goes here (NULL: not printed) */
	FILE *log; /* the files written are listed here (NULL: quiet) */
};

/*
 * Draw @p path (a sweep's or a comparison's results) into @p o->dir, and for
 * a sweep print its front. @return 0; -EINVAL (a file that is neither, a bad
 * --x: the message in @p err, exit 2); another negative errno, or -ECHILD
 * when gnuplot failed (the message in @p err, exit 1)
 */
int plot_file(const char *path, const struct plot_opts *o, char *err, size_t err_len);

/* Make directory @p dir unless it is one already. @return 0; -EINVAL with
 * the reason in @p err (not a directory, or mkdir's error) */
int plot_make_dir(const char *dir, char *err, size_t err_len);

/*
 * The Pareto front of a sweep's table, per platform, as a table on @p f
 * (used by plot_file and after iommusim sweep -o). @return 0; -EINVAL (not a
 * sweep's table), -ENOMEM
 */
int plot_print_front(const struct plot_table *t, FILE *f, char *err, size_t err_len);

#endif /* IOMMUSIM_SIM_PLOT_H */
