/* SPDX-License-Identifier: MIT */
/*
 * How fast a sweep runs (issue 13): a 100-point KVM grid (10 queue sizes x 10
 * timeouts, the single queue) of the default comparison's job cut at 10^6
 * I/Os per point, through the sweep's own runner (sim/sweep_run.c) at -j 1
 * and -j 2, alternating the two so the machine's noise hits both alike.
 * Reports points per second for each, their ratio (target: at least 1.9 on
 * 2 idle cores) and simulated map+unmap pairs per CPU-second; checks that
 * both give the same results, row for row.
 *
 * The benchmarks pin themselves to one CPU (bench_common.c); this one puts
 * back the CPUs it started with, since -j 2 needs two.
 */
#include "config.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <iommusim/iommusim.h>

#include "bench_common.h"
#include "output.h"
#include "sweep.h"
#include "sweep_run.h"

#define DEFAULT_SEED 1
#define ROUNDS 3 /* alternations of -j 1 and -j 2 (full run: ~4 min each) */

/* Every row of a sweep, hashed (FNV-1a) to compare the two -j runs. */
struct tally {
	const struct sweep_grid *grid;
	uint64_t hash;
	size_t points;
};

static int
emit(void *priv, const struct sweep_point_result *r)
{
	struct tally *t = priv;
	char *row = sweep_rows(t->grid, SWEEP_CSV, "0000000000000000", r);

	if (!row)
		return -12; /* -ENOMEM */
	for (const char *c = row; *c; c++)
		t->hash = (t->hash ^ (unsigned char)*c) * 0x100000001b3ull;
	free(row);
	t->points++;
	return 0;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		bench_die("getrusage failed");
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

struct one {
	double wall, cpu;
	uint64_t hash;
};

static struct one
run_sweep(const struct sweep_grid *g, const struct sweep_base *b, const uint64_t *points, size_t n,
	  unsigned jobs)
{
	struct tally t = { .grid = g, .hash = 0xcbf29ce484222325ull };
	struct sweep_run_cfg cfg = {
		.grid = g,
		.base = b,
		.reps = 1,
		.jobs = jobs,
		.points = points,
		.npoints = n,
		.emit = emit,
		.priv = &t,
	};
	char err[512] = "";
	double c0 = cpu_seconds();
	uint64_t t0 = bench_now_ns();
	struct one o;
	int ret = sweep_run(&cfg, err, sizeof(err));

	if (ret)
		bench_die("sweep_run (-j %u): %s", jobs, err);
	if (t.points != n)
		bench_die("sweep_run (-j %u): %zu of %zu points", jobs, t.points, n);
	o.wall = (double)(bench_now_ns() - t0) / 1e9;
	o.cpu = cpu_seconds() - c0;
	o.hash = t.hash;
	return o;
}

int
main(int argc, char **argv)
{
	struct bench_opts opts;
	struct iommusim_jobfile *jf = calloc(1, sizeof(*jf));
	struct sweep_grid g = { .npoints = 1 };
	struct sweep_base b = { 0 };
	struct iommusim_run_result *res = malloc(sizeof(*res));
	struct iommusim_job job;
	struct iommusim_profile profile;
	struct iommusim_policy policy;
	cpu_set_t cpus;
	char err[512] = "", size_set[64];
	const char *sets[1] = { size_set };
	uint64_t *points, ios;
	double wall[2][ROUNDS], cpu[2][ROUNDS], ratio[ROUNDS], pps[2][ROUNDS];
	unsigned rounds, r, j;
	size_t n, i;

	if (!jf || !res)
		bench_die("out of memory");
	if (sched_getaffinity(0, sizeof(cpus), &cpus))
		CPU_ZERO(&cpus);
	bench_opts_parse(argc, argv, "bench_sweep",
			 "A 100-point KVM sweep of 10^6 I/Os per point at -j 1 and -j 2.",
			 DEFAULT_SEED, &opts);
	if (CPU_COUNT(&cpus) && sched_setaffinity(0, sizeof(cpus), &cpus))
		bench_die("cannot restore the CPU affinity for -j 2");
	opts.pinned_cpu = -1; /* not pinned: the JSON says so */
	if (CPU_COUNT(&cpus) < 2)
		fprintf(stderr, "bench_sweep: only %d CPU available: -j 2 cannot be faster\n",
			CPU_COUNT(&cpus));

	/* The grid: 10 sizes x 10 timeouts (--smoke: 2 x 2, 10^3 I/Os). */
	if (sweep_grid_add(&g, opts.smoke ? "fq_size=256,4096" : "fq_size=128..65536:x2", "bench",
			   SWEEP_DEFAULT_MAX_POINTS, err, sizeof(err)) ||
	    sweep_grid_add(&g,
			   opts.smoke ? "fq_timeout=1ms,100ms" :
					"fq_timeout=1ms,2ms,5ms,10ms,20ms,50ms,100ms,200ms,"
					"500ms,1s",
			   "bench", SWEEP_DEFAULT_MAX_POINTS, err, sizeof(err)))
		bench_die("%s", err);
	/* The default comparison's job, 4 jobs, each stopping after its share
	 * of the I/Os (size=), with time enough never to be cut first. */
	output_default_job(&jf->job);
	ios = bench_iters(&opts, 1000000, 1000) / jf->job.numjobs * jf->job.numjobs;
	if (!ios)
		bench_die("--iters: at least %u I/Os (one per job)", jf->job.numjobs);
	jf->job.runtime_ns = 3600ull * 1000000000ull;
	snprintf(size_set, sizeof(size_set), "size=%llu",
		 (unsigned long long)(ios / jf->job.numjobs * jf->job.bs));
	b = (struct sweep_base){
		.jf = jf,
		.path = "bench_sweep",
		.platform = "kvm",
		.sets = sets,
		.nsets = 1,
		.has_policy_kind = true,
		.policy_kind = IOMMUSIM_POLICY_LAZY_SINGLE,
		.seed = opts.seed,
	};
	n = (size_t)g.npoints;
	points = malloc(n * sizeof(*points));
	if (!points)
		bench_die("out of memory");
	for (i = 0; i < n; i++)
		points[i] = i;

	/* One point by hand: the I/Os a point runs, for the pairs. */
	if (sweep_point_config(&g, &b, 0, &job, &profile, &policy, err, sizeof(err)))
		bench_die("%s", err);
	BENCH_CHECK(iommusim_run(&job, &profile, &policy, opts.seed, NULL, res, err, sizeof(err)));
	if (res->ios != ios)
		bench_die("a point ran %llu I/Os, not %llu", (unsigned long long)res->ios,
			  (unsigned long long)ios);

	rounds = opts.smoke ? 1 : ROUNDS;
	for (r = 0; r < rounds; r++) {
		struct one o[2];

		for (j = 0; j < 2; j++) {
			o[j] = run_sweep(&g, &b, points, n, j + 1);
			wall[j][r] = o[j].wall;
			cpu[j][r] = o[j].cpu;
			pps[j][r] = (double)n / o[j].wall;
		}
		if (o[0].hash != o[1].hash)
			bench_die("-j 1 and -j 2 gave different results (round %u)", r);
		ratio[r] = o[0].wall / o[1].wall;
	}
	for (j = 0; j < 2; j++) {
		double c[ROUNDS], w[ROUNDS], p[ROUNDS], total_cpu = 0;

		for (r = 0; r < rounds; r++) {
			c[r] = cpu[j][r];
			w[r] = wall[j][r];
			p[r] = pps[j][r];
			total_cpu += cpu[j][r];
		}
		bench_json_case(&opts, j ? "sweep_kvm_j2" : "sweep_kvm_j1", j + 1);
		bench_json_u64("points", n);
		bench_json_u64("ios_per_point", ios);
		bench_json_u64("rounds", rounds);
		bench_json_num("wall_seconds", bench_median(w, rounds));
		bench_json_num("cpu_seconds", bench_median(c, rounds));
		bench_json_num("points_per_s", bench_median(p, rounds));
		bench_json_num("points_per_s_min", p[0]);
		bench_json_num("points_per_s_max", p[rounds - 1]);
		bench_json_num("pairs_per_cpu_s", (double)n * (double)ios * rounds / total_cpu);
		bench_json_end();
	}
	{
		double q[ROUNDS];

		for (r = 0; r < rounds; r++)
			q[r] = ratio[r];
		bench_json_case(&opts, "sweep_kvm_j2_over_j1", 2);
		bench_json_u64("rounds", rounds);
		bench_json_num("ratio", bench_median(q, rounds));
		bench_json_num("ratio_min", q[0]);
		bench_json_num("ratio_max", q[rounds - 1]);
		bench_json_num("target_ratio", 1.9);
		bench_json_end();
	}
	sweep_grid_free(&g);
	free(points);
	free(res);
	free(jf);
	return 0;
}
