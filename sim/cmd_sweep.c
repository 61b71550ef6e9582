/* SPDX-License-Identifier: MIT */
/*
 * iommusim sweep: a grid of runs over job, policy and profile keys, the
 * platform and the policy, in parallel, resumable and shardable; the results
 * as CSV, JSON lines or a tidy long table (docs/sweeps.md).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <iommusim/iommusim.h>

#include "cmd.h"
#include "output.h"
#include "plot.h"
#include "sweep.h"
#include "sweep_run.h"

enum {
	OPT_POLICY = 256,
	OPT_FORMAT,
	OPT_SHARD,
	OPT_MAX_POINTS,
	OPT_FRESH,
	OPT_LIST,
	OPT_PLOT,
};

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: iommusim sweep [JOB.ini] [KEY=LIST]... [OPTION]...\n"
		"Run a job over a grid of settings: every combination of the axes' values,\n"
		"each with --reps replicates, on -j threads, and report each point's mean\n"
		"and 95%% confidence interval of throughput, latency, the exposure window,\n"
		"flush-queue memory, RPCITs and status-16 events (docs/sweeps.md).\n"
		"\n"
		"An axis is KEY=LIST: any job, policy or profile key ('iommusim keys'),\n"
		"platform or policy; LIST is values and ranges separated by commas:\n"
		"  fq_size=256..65536:x2          256, 512, ... 65536 (x: multiply)\n"
		"  fq_timeout=1ms,10ms,100ms,1s    a list, in the key's units\n"
		"  iodepth=1..64:+8                1, 9, ... 57 (+: add)\n"
		"  platform=kvm,lpar  policy=lazy-single,strict\n"
		"Axes also come from the job file's [sweep] section (the command line's win).\n"
		"Without JOB.ini the job is the default comparison's (4 KiB random reads, 4\n"
		"jobs of iodepth 32 on 4 CPUs, 2 s simulated).\n"
		"The first axis varies slowest.\n"
		"\n"
		"  -p, --platform=NAME   the platform without a platform axis (default: the\n"
		"                        file's platform=, else lpar)\n"
		"      --policy=NAME     the policy without a policy axis (default: the file's)\n"
		"  -S, --set=KEY=VALUE   override a key at every point (as 'iommusim run')\n"
		"  -s, --seed=N          the first replicate's seed (default: the file's, else 1)\n"
		"  -r, --reps=N          replicates per point, 1 to 1000, each with its own\n"
		"                        seed (default: the file's [sweep] reps=, else 1)\n"
		"  -j, --jobs=N          runs in parallel (default: the CPUs available)\n"
		"  -o, --output=FILE     write the results to FILE, resuming it: the points it\n"
		"                        holds are not run again (default: stdout)\n"
		"      --fresh           start FILE again instead of resuming it\n"
		"      --format=FMT      csv (one row per point), json (JSON lines) or long\n"
		"                        (tidy: a row per point and measure); default: csv, or\n"
		"                        json for a FILE ending in .json or .jsonl\n"
		"      --shard=I/N       run the points p with p mod N = I-1 only (1 <= I <= N);\n"
		"                        default: SLURM_ARRAY_TASK_ID/_COUNT when set\n"
		"      --max-points=N    refuse a grid of more points (default 100000)\n"
		"      --list            print the points and exit\n"
		"      --plot=DIR        draw the results into DIR ('iommusim plot'); without\n"
		"                        -o they are kept as DIR/sweep.csv (or .jsonl)\n"
		"  -q, --quiet           no progress or summary on stderr\n"
		"  -h, --help            show this help\n"
		"\n"
		"With -o FILE (or --plot), the whole sweep's Pareto front over throughput,\n"
		"exposure p99 and queue memory is printed on stdout at the end.\n"
		"'iommusim merge' joins the files of a sweep's shards.\n"
		"\n"
		"Exit status: 0 on success, 1 if a run failed (the points before it are\n"
		"written: rerun to resume), 2 on a usage error, a bad job file or a bad axis.\n");
}

#define bad(...) cli_usage_error("sweep", __VA_ARGS__)

/* The CPUs this process may run on. */
static unsigned
cpus_available(void)
{
	cpu_set_t set;
	long n;

	if (!sched_getaffinity(0, sizeof(set), &set) && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

static int
parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

/* --shard I/N. */
static int
parse_shard(const char *s, unsigned *i, unsigned *n)
{
	unsigned long long a, b;
	char buf[48];
	const char *slash = strchr(s, '/');

	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (parse_uint(buf, UINT32_MAX, &a) || parse_uint(slash + 1, UINT32_MAX, &b) || !a || !b ||
	    a > b)
		return -EINVAL;
	*i = (unsigned)a;
	*n = (unsigned)b;
	return 0;
}

/*
 * A Slurm job array's task: its index among the array's tasks, from
 * SLURM_ARRAY_TASK_ID, _MIN and _STEP (--array=0-9, 1-10 and 0-18:2 all
 * give 10 tasks). @return 0 and the shard; 1 if not in an array; -EINVAL
 */
static int
slurm_shard(unsigned *i, unsigned *n, char *msg, size_t len)
{
	const char *id = getenv("SLURM_ARRAY_TASK_ID"), *count = getenv("SLURM_ARRAY_TASK_COUNT");
	const char *min = getenv("SLURM_ARRAY_TASK_MIN"), *step = getenv("SLURM_ARRAY_TASK_STEP");
	unsigned long long vid, vcount, vmin = 0, vstep = 1;

	if (!id || !count)
		return 1;
	if (parse_uint(id, UINT32_MAX, &vid) || parse_uint(count, UINT32_MAX, &vcount) || !vcount ||
	    (min && parse_uint(min, UINT32_MAX, &vmin)) ||
	    (step && (parse_uint(step, UINT32_MAX, &vstep) || !vstep)) || vid < vmin ||
	    (vid - vmin) % vstep || (vid - vmin) / vstep >= vcount) {
		snprintf(msg, len,
			 "SLURM_ARRAY_TASK_ID=%s, _COUNT=%s, _MIN=%s, _STEP=%s: not one task of "
			 "an array",
			 id, count, min ? min : "(unset)", step ? step : "(unset)");
		return -EINVAL;
	}
	*i = (unsigned)((vid - vmin) / vstep) + 1;
	*n = (unsigned)vcount;
	return 0;
}

/* ---- resuming an output file -------------------------------------------- */

struct sweep_out {
	const struct sweep_grid *grid;
	enum sweep_format fmt;
	const char *id;
	const char *path; /* NULL: stdout */
	FILE *f;
	size_t written; /* points written by this run */
	/* progress */
	bool progress, tty;
	struct timespec start;
	size_t skipped, total; /* points resumed from the file; points of this shard */
	unsigned jobs, reps;
	bool drawn;
	double last_draw;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Does @p line (of @p n bytes, without its newline) hold point @p p's
 * line @p k of this sweep? */
static int
line_is(const struct sweep_out *o, const char *line, size_t n, uint64_t p, size_t k, unsigned reps,
	bool *yes)
{
	char *prefix = sweep_row_prefix(o->grid, o->fmt, o->id, p), tail[96];
	size_t pl;

	if (!prefix)
		return -ENOMEM;
	pl = strlen(prefix);
	*yes = n > pl && !memcmp(line, prefix, pl);
	free(prefix);
	if (!*yes)
		return 0;
	/* What comes next: the replicates (and the measure, in the long form). */
	if (o->fmt == SWEEP_JSON)
		snprintf(tail, sizeof(tail), "\"reps\":%u,", reps);
	else if (o->fmt == SWEEP_CSV)
		snprintf(tail, sizeof(tail), "%u,", reps);
	else
		snprintf(tail, sizeof(tail), "%u,%s,", reps, sweep_measures[k].name);
	*yes = n - pl > strlen(tail) && !memcmp(line + pl, tail, strlen(tail));
	return 0;
}

/*
 * Resume @p o->path: check its header and its points against this sweep
 * (which points, in which order, with which identity and replicates), drop
 * an unfinished last point (an interrupted write), and set *@p done to the
 * number of points already there. A file of another sweep is an error and
 * is left as it is.
 * @return 0; -EINVAL with a message; -ENOMEM; -errno
 */
static int
resume(struct sweep_out *o, const uint64_t *mine, size_t nmine, unsigned reps, size_t *done,
       size_t *kept, char *err, size_t err_len)
{
	size_t len = 0, pos = 0, keep = 0, lines_pp = sweep_lines_per_point(o->fmt), k = 0;
	char *text, *header;
	unsigned lineno = 1;
	int ret;

	*done = 0;
	*kept = 0;
	text = sweep_read_file(o->path, &len, &ret);
	if (!text) {
		if (ret == -ENOENT)
			return 0;
		snprintf(err, err_len, "%s: %s", o->path, strerror(-ret));
		return ret;
	}
	if (!len) {
		free(text);
		return 0;
	}
	header = sweep_header(o->grid, o->fmt);
	if (!header) {
		free(text);
		return -ENOMEM;
	}
	if (header[0]) {
		size_t hl = strlen(header);

		if (len < hl || memcmp(text, header, hl)) {
			/* A header cut short by a kill is this sweep's; anything else is not. */
			if (len < hl && !memchr(text, '\n', len) && !memcmp(text, header, len)) {
				keep = 0;
				goto truncate;
			}
			snprintf(err, err_len,
				 "%s:1: not the output of this sweep (its header differs: other "
				 "axes or format); --fresh starts it again, or choose another -o",
				 o->path);
			ret = -EINVAL;
			goto out;
		}
		pos = keep = hl;
		lineno = 2;
	}
	while (pos < len) {
		char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		bool yes = false;

		if (*done >= nmine) {
			snprintf(
				err, err_len,
				"%s:%u: more points than this sweep (or shard) has; --fresh starts "
				"it again",
				o->path, lineno);
			ret = -EINVAL;
			goto out;
		}
		ret = line_is(o, text + pos, n, mine[*done], k, reps, &yes);
		if (ret)
			goto out;
		if (!nl) /* a line cut short: dropped, whatever it holds */
			break;
		if (!yes) {
			snprintf(err, err_len,
				 "%s:%u: not point %" PRIu64
				 " of this sweep (another job, grid, --seed, --reps, --shard or "
				 "version wrote it); --fresh starts it again",
				 o->path, lineno, mine[*done]);
			ret = -EINVAL;
			goto out;
		}
		pos += n + 1;
		lineno++;
		if (++k == lines_pp) {
			k = 0;
			++*done;
			keep = pos;
		}
	}
truncate:
	if (keep < len) {
		/* An interrupted run's last point: written again below. */
		if (truncate(o->path, (off_t)keep)) {
			ret = -errno;
			snprintf(err, err_len, "%s: dropping its unfinished last point: %s",
				 o->path, strerror(errno));
			goto out;
		}
		if (o->progress)
			fprintf(stderr, "iommusim sweep: %s: dropped an unfinished last point\n",
				o->path);
	}
	ret = 0;
	*kept = keep;
out:
	free(header);
	free(text);
	return ret;
}

static void
fmt_dur(char *buf, size_t len, double s)
{
	if (s < 60)
		snprintf(buf, len, "%.0f s", s);
	else if (s < 3600)
		snprintf(buf, len, "%.0f min %02.0f s", floor(s / 60), fmod(s, 60));
	else
		snprintf(buf, len, "%.0f h %02.0f min", floor(s / 3600), fmod(s, 3600) / 60);
}

static void
on_progress(void *priv, size_t points_done, double runs_done, size_t runs)
{
	struct sweep_out *o = priv;
	double t = now_s(), el = t - ((double)o->start.tv_sec + o->start.tv_nsec / 1e9);
	char eta[32] = "?", ela[32];

	if (!o->progress || !o->tty || (t - o->last_draw < 0.2 && runs_done < (double)runs))
		return;
	o->last_draw = t;
	if (runs_done > 0)
		fmt_dur(eta, sizeof(eta), el * ((double)runs - runs_done) / runs_done);
	fmt_dur(ela, sizeof(ela), el);
	fprintf(stderr, "\r\033[Ksweep: %zu/%zu points, %.0f%% of %zu runs, %s, ETA %s",
		points_done + o->skipped, o->total, 100.0 * runs_done / (double)runs, runs, ela,
		eta);
	o->drawn = true;
}

static int
emit(void *priv, const struct sweep_point_result *r)
{
	struct sweep_out *o = priv;
	char *rows = sweep_rows(o->grid, o->fmt, o->id, r);
	size_t n;

	if (!rows)
		return -ENOMEM;
	n = strlen(rows);
	/* A point's lines in one write, flushed: a kill leaves at most one
	 * unfinished point, which resume() drops. */
	if (fwrite(rows, 1, n, o->f) != n || fflush(o->f)) {
		free(rows);
		return -EIO;
	}
	free(rows);
	o->written++;
	return 0;
}

/* Print the Pareto front of the results in @p path on stdout. */
static int
front_of(const char *path, char *err, size_t err_len)
{
	struct plot_table t;
	int ret = plot_table_read(path, &t, err, err_len);

	if (ret)
		return ret;
	ret = plot_print_front(&t, stdout, err, err_len);
	plot_table_free(&t);
	return ret;
}

int
cmd_sweep(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "platform", required_argument, NULL, 'p' },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "set", required_argument, NULL, 'S' },
		{ "seed", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'r' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "fresh", no_argument, NULL, OPT_FRESH },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "shard", required_argument, NULL, OPT_SHARD },
		{ "max-points", required_argument, NULL, OPT_MAX_POINTS },
		{ "list", no_argument, NULL, OPT_LIST },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char prog[] = "iommusim sweep";
	struct sweep_grid grid = { .npoints = 1 };
	struct iommusim_jobfile *jf = NULL;
	struct sweep_base base = { 0 };
	struct sweep_out out = { 0 };
	struct sweep_run_cfg rc;
	enum sweep_format fmt = SWEEP_CSV;
	const char *path = NULL, *platform = NULL, *output = NULL, *plot_dir = NULL;
	char *plot_out = NULL;
	const char **sets = NULL, **axes = NULL;
	size_t nsets = 0, naxes = 0, nmine = 0, done = 0, kept = 0, i;
	unsigned reps = 0, jobs = 0, shard_i = 1, shard_n = 1, started = 0;
	bool has_seed = false, has_format = false, fresh = false, list = false, quiet = false;
	bool has_shard = false;
	uint64_t seed = 0, max_points = SWEEP_DEFAULT_MAX_POINTS, p, *mine = NULL;
	unsigned long long v;
	char err[768] = "", msg[256], id[17];
	int c, ret, rc_exit = 2;

	if (cmd_help_requested(argc, argv)) {
		usage(stdout);
		return EXIT_SUCCESS;
	}
	sets = calloc((size_t)argc, sizeof(*sets));
	axes = calloc((size_t)argc, sizeof(*axes));
	jf = calloc(1, sizeof(*jf));
	if (!sets || !axes || !jf) {
		fprintf(stderr, "iommusim sweep: out of memory\n");
		rc_exit = 1;
		goto out;
	}
	argv[0] = prog;
	while ((c = getopt_long(argc, argv, "p:S:s:r:j:o:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!iommusim_profile_find(optarg)) {
				rc_exit = bad("unknown platform '%s' (see 'iommusim profile list')",
					      optarg);
				goto out;
			}
			platform = optarg;
			break;
		case OPT_POLICY:
			if (iommusim_policy_parse(optarg, &base.policy_kind)) {
				rc_exit = bad("unknown policy '%s' (kernel, strict, lazy-percpu, "
					      "lazy-single, legacy, legacy-strict)",
					      optarg);
				goto out;
			}
			base.has_policy_kind = true;
			break;
		case 'S':
			/* Checked now, so a typo fails before any run. */
			if (output_apply_set(optarg, NULL, NULL, NULL, err, sizeof(err))) {
				rc_exit = bad("%s", err);
				goto out;
			}
			sets[nsets++] = optarg;
			break;
		case 's':
			if (output_parse_seed(optarg, &seed, msg, sizeof(msg))) {
				rc_exit = bad("--seed: %s", msg);
				goto out;
			}
			has_seed = true;
			break;
		case 'r':
			if (parse_uint(optarg, SWEEP_MAX_REPS, &v) || !v) {
				rc_exit = bad("--reps: '%s' is not a number from 1 to %u", optarg,
					      SWEEP_MAX_REPS);
				goto out;
			}
			reps = (unsigned)v;
			break;
		case 'j':
			if (parse_uint(optarg, 4096, &v) || !v) {
				rc_exit =
					bad("--jobs: '%s' is not a number from 1 to 4096", optarg);
				goto out;
			}
			jobs = (unsigned)v;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_FRESH:
			fresh = true;
			break;
		case OPT_FORMAT:
			if (sweep_format_parse(optarg, &fmt)) {
				rc_exit = bad("--format: '%s' is not csv, json or long", optarg);
				goto out;
			}
			has_format = true;
			break;
		case OPT_SHARD:
			if (parse_shard(optarg, &shard_i, &shard_n)) {
				rc_exit = bad("--shard: '%s' is not I/N with 1 <= I <= N", optarg);
				goto out;
			}
			has_shard = true;
			break;
		case OPT_MAX_POINTS:
			if (parse_uint(optarg, UINT64_MAX, &v) || !v) {
				rc_exit = bad("--max-points: '%s' is not a number above 0", optarg);
				goto out;
			}
			max_points = v;
			break;
		case OPT_PLOT:
			plot_dir = optarg;
			break;
		case OPT_LIST:
			list = true;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			fputs("Try 'iommusim sweep --help'.\n", stderr);
			goto out;
		}
	}
	for (i = (size_t)optind; i < (size_t)argc; i++) {
		if (strchr(argv[i], '=')) {
			axes[naxes++] = argv[i];
		} else if (!path) {
			path = argv[i];
		} else {
			rc_exit = bad("one job file only; unexpected '%s' (an axis is KEY=LIST)",
				      argv[i]);
			goto out;
		}
	}

	/* The job: the file's, or the library's defaults. */
	if (path) {
		ret = iommusim_jobfile_parse(path, jf, err, sizeof(err));
		if (ret) {
			if (err[0])
				fprintf(stderr, "iommusim sweep: %s\n", err);
			else
				fprintf(stderr, "iommusim sweep: %s: %s\n", path, strerror(-ret));
			rc_exit = ret == -ENOMEM ? 1 : 2;
			goto out;
		}
		ret = sweep_grid_read_file(&grid, path, &reps, max_points, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "iommusim sweep: %s\n", err);
			rc_exit = ret == -ENOMEM ? 1 : 2;
			goto out;
		}
	} else {
		output_default_job(&jf->job);
	}
	for (i = 0; i < naxes; i++) {
		ret = sweep_grid_add(&grid, axes[i], "command line", max_points, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "iommusim sweep: %s\n", err);
			rc_exit = ret == -ENOMEM ? 1 : 2;
			goto out;
		}
	}
	if (!reps)
		reps = 1;
	if (!has_seed) {
		seed = jf->has_seed ? jf->seed : 1;
		if (seed > IOMMUSIM_RUN_SEED_MAX) {
			rc_exit = bad("%s: seed %" PRIu64 " is above 2^63-1", path, seed);
			goto out;
		}
	}
	base = (struct sweep_base){
		.jf = jf,
		.path = path ? path : "(the default job)",
		.platform = platform	    ? platform :
			    jf->platform[0] ? jf->platform :
					      "lpar",
		.sets = sets,
		.nsets = nsets,
		.has_policy_kind = base.has_policy_kind,
		.policy_kind = base.policy_kind,
		.seed = seed,
	};
	if (output && !has_format) {
		size_t n = strlen(output);

		if ((n > 5 && !strcmp(output + n - 5, ".json")) ||
		    (n > 6 && !strcmp(output + n - 6, ".jsonl")))
			fmt = SWEEP_JSON;
	}
	if (output && !strcmp(output, "-"))
		output = NULL;
	if (!has_shard) {
		ret = slurm_shard(&shard_i, &shard_n, err, sizeof(err));
		if (ret < 0) {
			rc_exit = bad("%s", err);
			goto out;
		}
		if (!ret && !quiet)
			fprintf(stderr, "iommusim sweep: shard %u/%u (from SLURM_ARRAY_TASK_ID)\n",
				shard_i, shard_n);
	}
	if (plot_dir && shard_n > 1) {
		rc_exit = bad("--plot needs the whole sweep, not shard %u/%u: merge the shards "
			      "('iommusim merge'), then 'iommusim plot'",
			      shard_i, shard_n);
		goto out;
	}
	if (plot_dir && fmt == SWEEP_LONG) {
		rc_exit = bad("--plot reads the csv or json format, not long");
		goto out;
	}
	if (plot_dir && !output && !list) {
		size_t n = strlen(plot_dir) + 16;

		if (plot_make_dir(plot_dir, err, sizeof(err))) {
			rc_exit = bad("--plot: %s", err);
			goto out;
		}
		plot_out = malloc(n);
		if (!plot_out) {
			fprintf(stderr, "iommusim sweep: out of memory\n");
			rc_exit = 1;
			goto out;
		}
		snprintf(plot_out, n, "%s/sweep.%s", plot_dir, fmt == SWEEP_JSON ? "jsonl" : "csv");
		output = plot_out;
	}
	if (!jobs)
		jobs = cpus_available();

	/* Every point is set up once now, so a bad combination fails before any
	 * run; the identity covers each point's whole configuration. */
	ret = sweep_id(&grid, &base, reps, id, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "iommusim sweep: %s\n", err);
		rc_exit = ret == -ENOMEM ? 1 : 2;
		goto out;
	}
	mine = calloc((size_t)(grid.npoints / shard_n + 1), sizeof(*mine));
	if (!mine) {
		fprintf(stderr, "iommusim sweep: out of memory\n");
		rc_exit = 1;
		goto out;
	}
	for (p = shard_i - 1; p < grid.npoints; p += shard_n)
		mine[nmine++] = p;

	if (list) {
		char label[512];

		for (i = 0; i < nmine; i++) {
			sweep_point_label(&grid, mine[i], label, sizeof(label));
			printf("%" PRIu64 "\t%s\n", mine[i], label);
		}
		rc_exit = EXIT_SUCCESS;
		goto out;
	}

	out = (struct sweep_out){ .grid = &grid,
				  .fmt = fmt,
				  .id = id,
				  .path = output,
				  .progress = !quiet,
				  .tty = isatty(STDERR_FILENO),
				  .total = nmine,
				  .jobs = jobs,
				  .reps = reps };
	clock_gettime(CLOCK_MONOTONIC, &out.start);
	if (output && !fresh) {
		ret = resume(&out, mine, nmine, reps, &done, &kept, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "iommusim sweep: %s\n", err[0] ? err : strerror(-ret));
			rc_exit = ret == -EINVAL ? 2 : 1;
			goto out;
		}
	}
	out.skipped = done;
	if (output) {
		/* Append to what resume() kept; else start the file. */
		out.f = fopen(output, kept ? "a" : "w");
		if (!out.f) {
			fprintf(stderr, "iommusim sweep: %s: %s\n", output, strerror(errno));
			rc_exit = 1;
			goto out;
		}
	} else {
		out.f = stdout;
	}
	if (!kept) {
		char *h = sweep_header(&grid, fmt);

		if (!h || fputs(h, out.f) == EOF || fflush(out.f)) {
			fprintf(stderr, "iommusim sweep: writing %s: %s\n",
				output ? output : "the output",
				h ? strerror(errno) : "out of memory");
			free(h);
			rc_exit = 1;
			goto out;
		}
		free(h);
	}
	if (done && !quiet)
		fprintf(stderr, "iommusim sweep: %s holds %zu of %zu points: resuming\n", output,
			done, nmine);

	rc = (struct sweep_run_cfg){
		.grid = &grid,
		.base = &base,
		.reps = reps,
		.jobs = jobs,
		.points = mine + done,
		.npoints = nmine - done,
		.emit = emit,
		.progress = on_progress,
		.priv = &out,
		.started_out = &started,
	};
	err[0] = '\0';
	ret = sweep_run(&rc, err, sizeof(err));
	if (out.drawn)
		fputs("\r\033[K", stderr);
	if (ret) {
		fprintf(stderr, "iommusim sweep: %s\n", err[0] ? err : strerror(-ret));
		if (output)
			fprintf(stderr,
				"iommusim sweep: %s holds the %zu points before it: rerun to resume\n",
				output, done + out.written);
		rc_exit = 1;
		goto out;
	}
	/* Not what was asked, if not a different answer: said even with -q. */
	if (started < jobs)
		fprintf(stderr,
			"iommusim sweep: warning: -j %u: only %u thread%s could be started, and ran "
			"the sweep\n",
			jobs, started, started == 1 ? "" : "s");
	if (!quiet) {
		char el[32];

		fmt_dur(el, sizeof(el),
			now_s() - ((double)out.start.tv_sec + out.start.tv_nsec / 1e9));
		fprintf(stderr,
			"iommusim sweep: %zu point%s x %u rep%s (%zu run%s) in %s on %u thread%s",
			nmine - done, nmine - done == 1 ? "" : "s", reps, reps == 1 ? "" : "s",
			(nmine - done) * reps, (nmine - done) * reps == 1 ? "" : "s", el, started,
			started == 1 ? "" : "s");

		if (done)
			fprintf(stderr, "; resumed after %zu points", done);
		if (shard_n > 1)
			fprintf(stderr, "; shard %u/%u of %" PRIu64 " points", shard_i, shard_n,
				grid.npoints);
		fprintf(stderr, "%s%s\n", output ? "; wrote " : "", output ? output : "");
	}
	if (output) {
		if (fclose(out.f)) {
			out.f = NULL;
			fprintf(stderr, "iommusim sweep: writing %s: %s\n", output,
				strerror(errno));
			rc_exit = 1;
			goto out;
		}
		out.f = NULL;
	}
	rc_exit = EXIT_SUCCESS;
	/* The whole sweep in a file: its front, and the figures if asked. */
	if (output && shard_n == 1 && fmt != SWEEP_LONG) {
		struct plot_opts po = { .dir = plot_dir,
					.front = stdout,
					.log = quiet ? NULL : stderr };

		fflush(stdout);
		if (plot_dir)
			ret = plot_file(output, &po, err, sizeof(err));
		else
			ret = front_of(output, err, sizeof(err));
		if (ret) {
			fprintf(stderr, "iommusim sweep: %s\n", err[0] ? err : strerror(-ret));
			rc_exit = 1;
		}
	}
out:
	if (out.f && out.f != stdout)
		fclose(out.f);
	sweep_grid_free(&grid);
	free(plot_out);
	free(mine);
	free(jf);
	free(sets);
	free(axes);
	return rc_exit;
}
