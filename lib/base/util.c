/* SPDX-License-Identifier: MIT */
/* Out-of-line parts of the internal helpers. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/util_int.h"

void
ims_assert_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "%s:%d: libiommusim internal invariant broken: %s\n", file, line, what);
	abort();
}
