/* SPDX-License-Identifier: MIT */
/*
 * The sweep's runner (sweep_run.c): a grid's points on a pool of threads,
 * each point's result handed on in point order.
 */
#ifndef IOMMUSIM_SIM_SWEEP_RUN_H
#define IOMMUSIM_SIM_SWEEP_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "sweep.h"

struct sweep_run_cfg {
	const struct sweep_grid *grid;
	const struct sweep_base *base;
	unsigned reps; /* replicates per point, 1..SWEEP_MAX_REPS */
	unsigned jobs; /* threads */
	const uint64_t *points; /* the points to run, in the order of the output */
	size_t npoints;
	/* Called on the calling thread for each point, in order; a non-zero
	 * return (a negative errno) stops the sweep. */
	int (*emit)(void *priv, const struct sweep_point_result *r);
	/* Called on the calling thread about four times a second (may be NULL):
	 * points handed on, runs done (with the fractions of those under way),
	 * runs in all. */
	void (*progress)(void *priv, size_t points_done, double runs_done, size_t runs);
	void *priv;
	/* Set to the threads that ran: fewer than jobs when some could not be
	 * created (the others did their work). May be NULL. */
	unsigned *started_out;
};

/*
 * Run the points. The results do not depend on @p jobs: every run is the
 * same function of its point and seed.
 * @return 0; a run's error (its point and message in @p err; every point
 *         before it was handed on); emit's error; -ENOMEM
 */
int sweep_run(const struct sweep_run_cfg *cfg, char *err, size_t err_len);

#endif /* IOMMUSIM_SIM_SWEEP_RUN_H */
