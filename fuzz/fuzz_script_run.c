/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: scenario scripts, run (iommusim_script_run_string()).
 * The language's own limits (50 million statements, repeats of a million,
 * maps of 1 GiB, 4096 CPUs) let one script run for minutes, so a script is
 * first built as the interpreter's first pass builds it (fuzz_script_int.h)
 * and run only when it stays small: at most STEP_BUDGET statements and
 * iterations, at most CPU_BUDGET CPUs, and sizes within the bounds below. What runs is then the whole interpreter on a fresh simulation.
 */
#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/script.h>
#include <iommusim/units.h>

#include "fuzz_script_int.h"

#define STEP_BUDGET UINT64_C(512)
#define CPU_BUDGET UINT64_C(64)

/* Options whose values allocate: a literal within these bounds, or no run. */
static const struct {
	const char *opt;
	uint64_t max;
	bool size;
} bounds[] = {
	{ "size=", UINT64_C(4) << 20, true }, /* map: 1024 pages */
	{ "memory=", UINT64_C(64) << 30, true }, /* platform: the legacy bitmaps */
	{ "fq_size=", UINT64_C(1) << 16, false }, /* domain: a ring per CPU */
};

static bool
too_big(const struct tok *t)
{
	uint64_t v;
	size_t i;

	for (i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		size_t n = strlen(bounds[i].opt);
		int ret;

		if (strncmp(t->s, bounds[i].opt, n))
			continue;
		if (strchr(t->s, '{'))
			return true;
		ret = bounds[i].size ? iommusim_size_parse(t->s + n, 0, bounds[i].max, &v) :
				       iommusim_count_parse(t->s + n, 0, bounds[i].max, &v);
		if (ret)
			return true;
	}
	return false;
}

/*
 * Statements times iterations, as exec.c counts them against MAX_STEPS,
 * saturating at STEP_BUDGET + 1; a `repeat` count or a size must be a literal.
 */
static uint64_t
cost(struct script *s, const struct prog *pg)
{
	uint64_t mult[32] = { 1 }, steps = 0; /* by depth: at most 16 */
	size_t i;

	for (i = 0; i < pg->n; i++) {
		const struct stmt *st = pg->v[i];
		uint64_t m = mult[st->depth], n;
		unsigned k = 0;

		if (ims_script_is_word(&st->tok[0], "end"))
			continue;
		/* One-line repeats multiply the statement they carry. */
		while (k + 2 < st->ntok && ims_script_is_word(&st->tok[k], "repeat")) {
			if (strchr(st->tok[k + 1].s, '{') ||
			    ims_script_repeat_count(s, st->tok[k + 1].s, &n))
				return STEP_BUDGET + 1;
			m = n && m > STEP_BUDGET / n ? STEP_BUDGET + 1 : m * n;
			k += 2;
		}
		if (st->block) {
			if (strchr(st->tok[1].s, '{') ||
			    ims_script_repeat_count(s, st->tok[1].s, &n))
				return STEP_BUDGET + 1;
			m = n && m > STEP_BUDGET / n ? STEP_BUDGET + 1 : m * n;
			mult[st->depth + 1] = m;
		}
		if (ims_script_is_word(&st->tok[k], "cpus") && st->ntok == k + 2) {
			if (strchr(st->tok[k + 1].s, '{') ||
			    iommusim_count_parse(st->tok[k + 1].s, 0, CPU_BUDGET, &n))
				return STEP_BUDGET + 1;
		}
		for (; k < st->ntok; k++)
			if (too_big(&st->tok[k]))
				return STEP_BUDGET + 1;
		steps += m;
		if (steps > STEP_BUDGET)
			return STEP_BUDGET + 1;
	}
	return steps;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct iommusim_script_summary sum;
	char *text, *errbuf = NULL, *outbuf = NULL;
	size_t errlen = 0, outlen = 0;
	struct prog pg = { 0 };
	FILE *err = NULL, *out = NULL;
	struct script *s;
	bool small;
	int rc;

	text = fuzz_text(data, size);
	if (!text)
		return 0;
	/* First pass, quietly: does the script parse, and is it small? */
	s = fuzz_script_new(NULL);
	if (!s)
		goto out;
	small = ims_script_prog_build(s, text, &pg) == RC_OK && cost(s, &pg) <= STEP_BUDGET;
	fuzz_script_free(s, &pg);
	if (!small)
		goto out;
	err = open_memstream(&errbuf, &errlen);
	out = open_memstream(&outbuf, &outlen);
	if (!err || !out)
		goto out;
	rc = iommusim_script_run_string(text, FUZZ_SCRIPT_NAME, out, err, &sum);
	FUZZ_CHECK(rc == IOMMUSIM_SCRIPT_OK || rc == IOMMUSIM_SCRIPT_FAILED ||
		   rc == IOMMUSIM_SCRIPT_ERROR);
	FUZZ_CHECK(sum.failed <= sum.expectations);
	FUZZ_CHECK(rc != IOMMUSIM_SCRIPT_OK || sum.failed == 0);
	fflush(err);
	/* A failure or an error is reported; each report is one NAME:LINE line. */
	FUZZ_CHECK(rc == IOMMUSIM_SCRIPT_OK || errlen > 0);
	fuzz_check_reports(errbuf, errlen);
out:
	if (out)
		fclose(out);
	if (err)
		fclose(err);
	free(outbuf);
	free(errbuf);
	free(text);
	return 0;
}
