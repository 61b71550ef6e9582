/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The Pareto front of a set of results: the points no other point beats in
 * every objective. A sweep over flush-queue sizes and timeouts trades
 * throughput (higher is better) against the exposure window and the queue's
 * memory (lower is better); the front is the set of settings worth a look.
 *
 * Point j dominates point i when j is at least as good as i in every
 * objective and better in at least one. The front is every point nothing
 * dominates; equal points do not dominate each other, so all of them are on
 * it (or none).
 *
 * Thread-safety: the function keeps no state; distinct arguments may be used
 * from any thread.
 */
#ifndef IOMMUSIM_PARETO_H
#define IOMMUSIM_PARETO_H

#include <stdbool.h>
#include <stddef.h>

#include <iommusim/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Which way an objective is better. */
enum iommusim_objective_sense {
	IOMMUSIM_MAXIMISE = 0, /**< higher is better (throughput) */
	IOMMUSIM_MINIMISE = 1, /**< lower is better (exposure, memory) */
};

/** The most objectives per point. */
#define IOMMUSIM_PARETO_MAX_DIMS 16

/**
 * Mark the Pareto front of @p n points of @p dims objectives each: point i's
 * values are @p v[i * dims] ... @p v[i * dims + dims - 1], and objective k is
 * better as @p sense[k] says. Sets @p on_front[i] for every point on the
 * front and clears it for the others; *@p nfront (may be NULL) is their
 * number. Infinities compare as usual. Takes O(n log n + n f dims) time for
 * a front of f points, and O(n) memory.
 * @return 0; -EINVAL on a NULL argument (@p v and @p on_front may be NULL
 *         when @p n is 0), @p dims 0 or above IOMMUSIM_PARETO_MAX_DIMS, a
 *         sense that is neither value, a NaN, or @p n * @p dims beyond
 *         size_t (nothing is written then); -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_pareto_front(const double *v, size_t n, unsigned dims,
		      const enum iommusim_objective_sense *sense, bool *on_front, size_t *nfront);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_PARETO_H */
