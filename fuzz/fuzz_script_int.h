/* SPDX-License-Identifier: MIT */
/*
 * The scenario harnesses' view of the interpreter's insides: a script state
 * set up as iommusim_script_run_string() sets it up, so that the program can be
 * built (tokenised and checked) without running it. Keep in step with
 * lib/workload/scenario/script.c.
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

static inline struct script *
fuzz_script_new(FILE *err)
{
	struct script *s = ims_zalloc(sizeof(*s));

	if (!s)
		return NULL;
	s->name = FUZZ_SCRIPT_NAME;
	s->err = err;
	s->iter = -1;
	s->profile = *iommusim_profile_find("lpar");
	s->ncpus = 1;
	s->next_phys = UINT64_C(0x40000000);
	return s;
}

static inline void
fuzz_script_free(struct script *s, struct prog *pg)
{
	ims_script_prog_free(pg);
	ims_script_teardown(s);
	ims_free(s);
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
