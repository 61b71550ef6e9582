/* SPDX-License-Identifier: MIT */
/* iommusim profile: list the platform profiles, or show one with its costs. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/iommusim.h>

#include "cmd.h"
#include "output.h"

static void
usage(FILE *f)
{
	fprintf(f, "Usage: iommusim profile list\n"
		   "       iommusim profile show PLATFORM [--set KEY=VALUE]...\n"
		   "List the built-in platform profiles, or print one as 'key = value' lines\n"
		   "(every cost of COST_MODEL.md §2, with its unit). Each key can be overridden\n"
		   "with --set on run and compare, or in a job file's [platform] section.\n"
		   "\n"
		   "  -S, --set=KEY=VALUE   show the profile with KEY overridden; repeatable\n"
		   "  -h, --help            show this help\n"
		   "\n"
		   "Exit status: 0 on success, 2 on a usage error (unknown platform or key).\n");
}

/* A usage error: message, hint, status 2. */
#define bad(...) cli_usage_error("profile", __VA_ARGS__)

/* Flush stdout: 0, or 1 with a message if the output could not be written. */
IOMMUSIM_NODISCARD static int
written(void)
{
	if (!fflush(stdout) && !ferror(stdout))
		return 0;
	fprintf(stderr, "iommusim profile: writing the output: %s\n", strerror(errno));
	return 1;
}

IOMMUSIM_NODISCARD static int
list(void)
{
	size_t i;

	for (i = 0; i < iommusim_profile_count(); i++) {
		const struct iommusim_profile *p = iommusim_profile_at(i);

		printf("%-12s %s\n", p->name, output_platform_what(p->name));
	}
	return written();
}

IOMMUSIM_NODISCARD static int
show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "set", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char prog[] = "iommusim profile show";
	const struct iommusim_profile *base;
	const struct iommusim_key *k;
	struct iommusim_profile p;
	char msg[224];
	const char **sets;
	size_t nsets = 0, i;
	int c, ret, rc = 2;

	sets = calloc((size_t)argc, sizeof(*sets));
	if (!sets)
		return 1;
	argv[0] = prog;
	while ((c = getopt_long(argc, argv, "S:h", opts, NULL)) != -1) {
		if (c != 'S') {
			fputs("Try 'iommusim profile --help'.\n", stderr);
			goto out;
		}
		sets[nsets++] = optarg;
	}
	if (optind >= argc) {
		rc = bad("show: which platform? (see 'iommusim profile list')");
		goto out;
	}
	if (argc - optind > 1) {
		rc = bad("show: unexpected argument '%s'", argv[optind + 1]);
		goto out;
	}
	base = iommusim_profile_find(argv[optind]);
	if (!base) {
		rc = bad("unknown platform '%s' (see 'iommusim profile list')", argv[optind]);
		goto out;
	}
	p = *base;
	for (i = 0; i < nsets; i++) {
		const char *eq = strchr(sets[i], '=');
		char key[64];

		if (!eq || eq == sets[i] || (size_t)(eq - sets[i]) >= sizeof(key)) {
			rc = bad("--set wants KEY=VALUE, not '%s'", sets[i]);
			goto out;
		}
		memcpy(key, sets[i], (size_t)(eq - sets[i]));
		key[eq - sets[i]] = '\0';
		k = iommusim_profile_key_find(key);
		if (!k) {
			rc = bad("--set %s: unknown profile key '%s' (every key: 'iommusim keys')",
				 sets[i], key);
			goto out;
		}
		if (iommusim_key_set(k, &p, eq + 1, msg, sizeof(msg))) {
			rc = bad("--set %s: %s", sets[i], msg);
			goto out;
		}
	}
	ret = iommusim_profile_print(stdout, &p);
	rc = written();
	if (ret && !rc) {
		fprintf(stderr, "iommusim profile: printing the profile: %s\n", strerror(-ret));
		rc = 1;
	}
out:
	free(sets);
	return rc;
}

int
cmd_profile(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : EXIT_SUCCESS;
	}
	if (!strcmp(argv[1], "list")) {
		if (cmd_help_requested(argc - 1, argv + 1)) {
			usage(stdout);
			return EXIT_SUCCESS;
		}
		if (argc > 2)
			return bad("list: unexpected argument '%s'", argv[2]);
		return list();
	}
	if (!strcmp(argv[1], "show")) {
		if (cmd_help_requested(argc - 1, argv + 1)) {
			usage(stdout);
			return EXIT_SUCCESS;
		}
		return show(argc - 1, argv + 1);
	}
	return bad("unknown subcommand '%s' (list or show)", argv[1]);
}
