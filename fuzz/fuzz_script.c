/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: the scenario language's front end only (lexer.c,
 * parser.c): the input is split into lines and tokens, repeat blocks are
 * matched and every statement is parsed and checked, as the first pass of
 * iommusim_script_run_string() does; nothing runs. The error stream is kept,
 * and each report must be one line starting with the script's name.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_script_int.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prog pg = { 0 };
	char *text, *errbuf = NULL;
	size_t errlen = 0;
	struct script *s;
	FILE *err;
	int rc;

	text = fuzz_text(data, size);
	if (!text)
		return 0;
	err = open_memstream(&errbuf, &errlen);
	if (!err)
		goto out;
	s = fuzz_script_new(err);
	if (!s)
		goto out_err;
	rc = ims_script_prog_build(s, text, &pg);
	FUZZ_CHECK(rc == RC_OK || rc == RC_ERR);
	FUZZ_CHECK(pg.n <= size);
	fuzz_script_free(s, &pg);
	fflush(err);
	/* A rejected script says why; an accepted one says nothing. */
	FUZZ_CHECK(rc == RC_OK ? errlen == 0 : errlen > 0);
	fuzz_check_reports(errbuf, errlen);
out_err:
	fclose(err);
	free(errbuf);
out:
	free(text);
	return 0;
}
