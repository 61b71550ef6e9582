/* SPDX-License-Identifier: MIT */
/* What every subcommand shares, kept apart from main.c so that the commands
 * depend on this file and main.c depends on them, not both ways. */
#include <stdbool.h>
#include <string.h>

#include "cmd.h"

bool
cmd_help_requested(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}
