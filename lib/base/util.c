/* SPDX-License-Identifier: MIT */
/* Out-of-line parts of the internal helpers. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/util_int.h"

/* Solo mode (util_int.h): off in every thread until a run turns it on. */
_Thread_local bool ims_solo __attribute__((tls_model("initial-exec")));

void
ims_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "%s:%d: libiommusim internal invariant broken: %s\n", file, line, what);
	abort();
}

int
ims_errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

bool
ims_bytes_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/*
 * Gallop down from the end (steps 1, 2, 4...), then halve only the last
 * step's range.
 */
size_t
ims_count_le_recent(const uint64_t *a, size_t n, uint64_t t)
{
	size_t lo, hi, step = 1;

	if (!n || a[n - 1] <= t)
		return n;
	/* The answer (the first index whose entry is > t) is at most hi. */
	hi = n - 1;
	for (;;) {
		if (hi < step) {
			lo = 0;
			break;
		}
		lo = hi - step;
		if (a[lo] <= t) {
			lo++;
			break;
		}
		hi = lo;
		step *= 2;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
