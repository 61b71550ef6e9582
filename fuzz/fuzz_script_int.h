/* SPDX-License-Identifier: MIT */
/*
 * The scenario harnesses' view of the interpreter's insides: the program
 * built (tokenised and checked) without running it, on a script state from
 * ims_script_new(), as the entry points make it (fuzz_script_run needs the
 * program to count its steps; fuzz_script checks the error stream too).
 */
#ifndef IMS_FUZZ_SCRIPT_INT_H
#define IMS_FUZZ_SCRIPT_INT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <iommusim/platform.h>

#include "base/mem_int.h"
#include "workload/scenario/script_int.h"

#include "fuzz_common.h"

#define FUZZ_SCRIPT_NAME "fuzz.sim"

/* A script state as the entry points set it up (script.c). */
static inline struct script *
fuzz_script_new(FILE *err)
{
	return ims_script_new(FUZZ_SCRIPT_NAME, NULL, err);
}

static inline void
fuzz_script_free(struct script *s, struct prog *pg)
{
	ims_script_free(s, pg);
}

/* What the script wrote to its error stream: one line each, NAME:... */
static inline void
fuzz_check_reports(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		FUZZ_CHECK(nl); /* every report ends its line */
		FUZZ_CHECK(!strncmp(p, FUZZ_SCRIPT_NAME ":", strlen(FUZZ_SCRIPT_NAME ":")));
		p = nl + 1;
	}
}

#endif /* IMS_FUZZ_SCRIPT_INT_H */
