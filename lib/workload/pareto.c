/* SPDX-License-Identifier: MIT */
/*
 * The Pareto front (iommusim/pareto.h). Points are taken best first in the
 * lexicographic order of their objectives: a point that dominates another
 * is at least as good in the first objective, and where equal there in the
 * next, and so on, so it comes strictly before it. A point is therefore on
 * the front exactly when no point of the front found so far dominates it
 * (one that dominates it off the front is dominated in turn by an earlier
 * front point, and domination is transitive).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <iommusim/pareto.h>

#include "base/mem_int.h"

struct order {
	const double *v;
	unsigned dims;
	const enum iommusim_objective_sense *sense;
};

/* < 0: point a comes first (better in the first objective that differs). */
static int
cmp(const struct order *o, size_t a, size_t b)
{
	unsigned k;

	for (k = 0; k < o->dims; k++) {
		double x = o->v[a * o->dims + k], y = o->v[b * o->dims + k];

		if (x == y)
			continue;
		if (o->sense[k] == IOMMUSIM_MAXIMISE)
			return x > y ? -1 : 1;
		return x < y ? -1 : 1;
	}
	return a < b ? -1 : a > b; /* equal points: by index (a stable order) */
}

/* Bottom-up merge sort of @idx (n entries), @tmp as scratch; n is at most
 * SIZE_MAX / 16 (the caller's check), so no sum below overflows. */
static void
sort_idx(const struct order *o, size_t *idx, size_t *tmp, size_t n)
{
	size_t width, i;

	for (width = 1; width < n; width *= 2) {
		for (i = 0; i < n; i += 2 * width) {
			size_t mid = i + width < n ? i + width : n;
			size_t end = mid + width < n ? mid + width : n;
			size_t l = i, r = mid, t = i;

			while (l < mid && r < end)
				tmp[t++] = cmp(o, idx[l], idx[r]) <= 0 ? idx[l++] : idx[r++];
			while (l < mid)
				tmp[t++] = idx[l++];
			while (r < end)
				tmp[t++] = idx[r++];
		}
		memcpy(idx, tmp, n * sizeof(*idx));
	}
}

/* Whether point @j dominates point @i. */
static bool
dominates(const struct order *o, size_t j, size_t i)
{
	bool better = false;
	unsigned k;

	for (k = 0; k < o->dims; k++) {
		double x = o->v[j * o->dims + k], y = o->v[i * o->dims + k];
		bool max = o->sense[k] == IOMMUSIM_MAXIMISE;

		if (max ? x < y : x > y)
			return false;
		if (x != y)
			better = true;
	}
	return better;
}

int
iommusim_pareto_front(const double *v, size_t n, unsigned dims,
		      const enum iommusim_objective_sense *sense, bool *on_front, size_t *nfront)
{
	const struct order o = { .v = v, .dims = dims, .sense = sense };
	size_t *idx, *front, nf = 0, i, f;
	unsigned k;

	if (!sense || !dims || dims > IOMMUSIM_PARETO_MAX_DIMS || (n && (!v || !on_front)) ||
	    n > SIZE_MAX / dims || n > SIZE_MAX / (2 * sizeof(size_t)))
		return -EINVAL;
	for (k = 0; k < dims; k++)
		if (sense[k] != IOMMUSIM_MAXIMISE && sense[k] != IOMMUSIM_MINIMISE)
			return -EINVAL;
	for (i = 0; i < n * dims; i++)
		if (isnan(v[i]))
			return -EINVAL;
	if (!n) {
		if (nfront)
			*nfront = 0;
		return 0;
	}
	idx = ims_zalloc(2 * n * sizeof(*idx));
	front = ims_zalloc(n * sizeof(*front));
	if (!idx || !front) {
		ims_free(idx);
		ims_free(front);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		idx[i] = i;
	sort_idx(&o, idx, idx + n, n);
	for (i = 0; i < n; i++) {
		size_t p = idx[i];

		for (f = 0; f < nf; f++)
			if (dominates(&o, front[f], p))
				break;
		on_front[p] = f == nf;
		if (on_front[p])
			front[nf++] = p;
	}
	ims_free(idx);
	ims_free(front);
	if (nfront)
		*nfront = nf;
	return 0;
}
