/* SPDX-License-Identifier: MIT */
/*
 * iommusim merge: join the files of a sharded sweep into the file the
 * unsharded sweep writes, byte for byte, after checking that they are one
 * sweep's and that every point is there exactly once (docs/sweeps.md).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "output.h"
#include "sweep.h"

static void
usage(FILE *f)
{
	fprintf(f, "Usage: iommusim merge [OPTION]... FILE...\n"
		   "Join the outputs of a sweep's shards (see 'iommusim sweep --help') into\n"
		   "the output of the whole sweep, in point order, on stdout or in -o FILE.\n"
		   "The files must be one sweep's (one header, one identity), every point\n"
		   "must be in exactly one of them, and none may end in an unfinished line.\n"
		   "\n"
		   "  -o, --output=FILE     write FILE (replaced only once all is checked)\n"
		   "  -h, --help            show this help\n"
		   "\n"
		   "Exit status: 0 on success; 1 if a point is missing or twice there, the\n"
		   "files are of different sweeps, or one cannot be read (the message names\n"
		   "FILE:LINE); 2 on a usage error.\n");
}

struct block {
	const char *text; /* the point's lines */
	size_t len;
	unsigned file, line; /* where it starts, for messages */
	size_t lines;
	bool set;
};

struct shard_file {
	const char *path;
	char *text;
	size_t len;
};

/* A data line's point, points and sweep identity. @return 0; -EINVAL */
static int
line_key(const char *line, size_t n, bool json, uint64_t *point, uint64_t *points, char id[17])
{
	if (json) {
		json_error_t e;
		json_t *o = json_loadb(line, n, 0, &e), *jp, *jn, *js;
		int ret = -EINVAL;

		if (!o)
			return -EINVAL;
		jp = json_object_get(o, "point");
		jn = json_object_get(o, "points");
		js = json_object_get(o, "sweep");
		if (json_is_integer(jp) && json_is_integer(jn) && json_is_string(js) &&
		    json_integer_value(jp) >= 0 && json_integer_value(jn) > 0 &&
		    strlen(json_string_value(js)) == 16) {
			*point = (uint64_t)json_integer_value(jp);
			*points = (uint64_t)json_integer_value(jn);
			memcpy(id, json_string_value(js), 17);
			ret = 0;
		}
		json_decref(o);
		return ret;
	}
	{
		char buf[96], *end;
		size_t k = n < sizeof(buf) - 1 ? n : sizeof(buf) - 1;
		char *f2, *f3;

		memcpy(buf, line, k);
		buf[k] = '\0';
		if (buf[0] < '0' || buf[0] > '9')
			return -EINVAL;
		errno = 0;
		*point = strtoull(buf, &end, 10);
		if (errno || *end != ',' || end[1] < '0' || end[1] > '9')
			return -EINVAL;
		f2 = end + 1;
		*points = strtoull(f2, &end, 10);
		if (errno || *end != ',' || !*points)
			return -EINVAL;
		f3 = end + 1;
		end = strchr(f3, ',');
		if (!end || end - f3 != 16)
			return -EINVAL;
		memcpy(id, f3, 16);
		id[16] = '\0';
		return 0;
	}
}

int
cmd_merge(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char prog[] = "iommusim merge";
	struct shard_file *files = NULL;
	struct block *blocks = NULL;
	const char *output = NULL, *header = NULL;
	size_t header_len = 0, nfiles, i, lines_pp = 1, missing = 0;
	uint64_t points = 0, p;
	char id[17] = "", tmp[4096] = "";
	bool json = false, have_kind = false;
	int c, ret, rc = 1;
	FILE *f = NULL;

	if (cmd_help_requested(argc, argv)) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	argv[0] = prog;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		default:
			fputs("Try 'iommusim merge --help'.\n", stderr);
			return 2;
		}
	}
	if (optind >= argc)
		return cli_usage_error("merge", "no files to merge");
	nfiles = (size_t)(argc - optind);
	files = calloc(nfiles, sizeof(*files));
	if (!files)
		goto oom;

	for (i = 0; i < nfiles; i++) {
		struct shard_file *sf = &files[i];
		const char *s, *nl;
		size_t pos = 0, hl;
		unsigned line = 1;
		const char *long_col;
		bool fjson;

		sf->path = argv[optind + (int)i];
		sf->text = sweep_read_file(sf->path, &sf->len, &ret);
		if (!sf->text) {
			if (ret == -ENOMEM)
				goto oom;
			fprintf(stderr, "iommusim merge: %s: %s\n", sf->path, strerror(-ret));
			goto out;
		}
		s = sf->text;
		if (!sf->len) {
			fprintf(stderr, "iommusim merge: %s: empty (not a sweep's output)\n",
				sf->path);
			goto out;
		}
		fjson = s[0] == '{';
		if (!fjson && strncmp(s, "point,points,sweep,", 19)) {
			fprintf(stderr, "iommusim merge: %s:1: not a sweep's output\n", sf->path);
			goto out;
		}
		if (have_kind && fjson != json) {
			fprintf(stderr, "iommusim merge: %s: JSON lines and CSV mixed\n", sf->path);
			goto out;
		}
		json = fjson;
		have_kind = true;
		if (!json) {
			nl = memchr(s, '\n', sf->len);
			if (!nl) {
				fprintf(stderr, "iommusim merge: %s:1: an unfinished header\n",
					sf->path);
				goto out;
			}
			hl = (size_t)(nl - s) + 1;
			if (!header) {
				header = s;
				header_len = hl;
				/* The long format's header names its measure column. */
				long_col = strstr(s, ",measure,unit,mean,ci95,");
				lines_pp = long_col && long_col < nl ? SWEEP_M_NR : 1;
			} else if (hl != header_len || memcmp(s, header, hl)) {
				fprintf(stderr,
					"iommusim merge: %s:1: another header than %s:1 (another "
					"sweep's or format's)\n",
					sf->path, files[0].path);
				goto out;
			}
			pos = hl;
			line = 2;
		}
		while (pos < sf->len) {
			uint64_t lp, ln;
			char lid[17];
			size_t n;

			nl = memchr(s + pos, '\n', sf->len - pos);
			if (!nl) {
				fprintf(stderr,
					"iommusim merge: %s:%u: an unfinished line (an interrupted "
					"shard: rerun it to resume)\n",
					sf->path, line);
				goto out;
			}
			n = (size_t)(nl - (s + pos));
			if (line_key(s + pos, n, json, &lp, &ln, lid)) {
				fprintf(stderr, "iommusim merge: %s:%u: not a line of a sweep\n",
					sf->path, line);
				goto out;
			}
			if (!points) {
				points = ln;
				memcpy(id, lid, sizeof(id));
				blocks = calloc((size_t)points, sizeof(*blocks));
				if (!blocks)
					goto oom;
			} else if (ln != points || strcmp(lid, id)) {
				fprintf(stderr,
					"iommusim merge: %s:%u: a point of another sweep (sweep %s of "
					"%" PRIu64 " points, not %s of %" PRIu64 ")\n",
					sf->path, line, lid, ln, id, points);
				goto out;
			}
			if (lp >= points) {
				fprintf(stderr,
					"iommusim merge: %s:%u: point %" PRIu64
					" of a sweep of %" PRIu64 " points\n",
					sf->path, line, lp, points);
				goto out;
			}
			{
				struct block *b = &blocks[lp];
				bool cont = b->set && b->file == i && b->lines < lines_pp &&
					    b->text + b->len == s + pos;

				if (b->set && !cont) {
					fprintf(stderr,
						"iommusim merge: point %" PRIu64
						" is twice there: %s:%u and %s:%u\n",
						lp, files[b->file].path, b->line, sf->path, line);
					goto out;
				}
				if (!cont) {
					*b = (struct block){ .text = s + pos,
							     .file = (unsigned)i,
							     .line = line,
							     .set = true };
				}
				b->len += n + 1;
				b->lines++;
			}
			pos += n + 1;
			line++;
		}
	}
	for (p = 0; p < points; p++) {
		if (blocks[p].set && blocks[p].lines != lines_pp) {
			fprintf(stderr,
				"iommusim merge: %s:%u: point %" PRIu64
				" has %zu of its %zu lines\n",
				files[blocks[p].file].path, blocks[p].line, p, blocks[p].lines,
				lines_pp);
			goto out;
		}
		if (!blocks[p].set) {
			if (missing < 10)
				fprintf(stderr, "%s%" PRIu64,
					missing ? ", " : "iommusim merge: missing: point ", p);
			missing++;
		}
	}
	if (missing) {
		fprintf(stderr,
			"%s (%zu of %" PRIu64 " points missing: a shard not run or not given?)\n",
			missing > 10 ? ", ..." : "", missing, points);
		goto out;
	}
	if (!points) {
		fprintf(stderr, "iommusim merge: no points in the files\n");
		goto out;
	}

	/* Replace -o FILE only once it is whole: a temporary file beside it. */
	if (output) {
		int fd;

		snprintf(tmp, sizeof(tmp), "%s.XXXXXX", output);
		fd = mkstemp(tmp);
		if (fd < 0 || !(f = fdopen(fd, "w"))) {
			fprintf(stderr, "iommusim merge: %s: %s\n", tmp, strerror(errno));
			if (fd >= 0)
				close(fd);
			tmp[0] = '\0';
			goto out;
		}
	} else {
		f = stdout;
	}
	if (header_len)
		fwrite(header, 1, header_len, f);
	for (p = 0; p < points; p++)
		fwrite(blocks[p].text, 1, blocks[p].len, f);
	if (fflush(f) || ferror(f)) {
		fprintf(stderr, "iommusim merge: writing %s: %s\n", output ? tmp : "stdout",
			strerror(errno));
		goto out;
	}
	if (output) {
		if (fclose(f)) {
			f = NULL;
			fprintf(stderr, "iommusim merge: writing %s: %s\n", tmp, strerror(errno));
			goto out;
		}
		f = NULL;
		if (rename(tmp, output)) {
			fprintf(stderr, "iommusim merge: %s: %s\n", output, strerror(errno));
			goto out;
		}
		tmp[0] = '\0';
	}
	rc = EXIT_SUCCESS;
	goto out;
oom:
	fprintf(stderr, "iommusim merge: out of memory\n");
out:
	if (f && f != stdout)
		fclose(f);
	if (tmp[0])
		unlink(tmp);
	if (files)
		for (i = 0; i < nfiles; i++)
			free(files[i].text);
	free(files);
	free(blocks);
	return rc;
}
