/* SPDX-License-Identifier: MIT */
/*
 * How fast the simulator simulates (issue 14, "Speed"): whole runs, each I/O
 * one DMA map and unmap through the whole stack on the engine, timed in CPU
 * seconds of the process (CLOCK_PROCESS_CPUTIME_ID around iommusim_run()
 * only). One JSON line per case, three sets of cases:
 *
 * - run_<platform>_<policy>: the default job (sim/output.c
 *   output_default_job(): 4 KiB random reads, 4 jobs x iodepth 32 on 4 CPUs)
 *   on lpar, zvm and kvm under legacy, lazy-percpu, lazy-single and strict,
 *   cut at 10^6 I/Os: every job stops after its share (size = 250000 x 4096
 *   bytes), under a simulated runtime long enough (RUNTIME_NS_MIN,
 *   RUNTIME_NS_PER_IO) that size is what ends the run; a run that completes
 *   another count of I/Os is fatal. Reports pairs_per_cpu_s (map+unmap
 *   pairs per CPU-second) and ns_per_pair (CPU ns per pair); wall_seconds
 *   and pairs_per_wall_s also count the time other processes took. Targets:
 *   LPAR lazy per-CPU >= 10 M pairs per CPU-second; every z/VM and KVM case
 *   >= 5 M (target_pairs_per_cpu_s).
 * - scale_<platform>_<policy>_cpus<N>: LPAR lazy-percpu, KVM lazy-percpu and
 *   KVM lazy-single with cpus = numjobs = 1, 4, 16, 64 (iodepth 32), the same
 *   10^6 I/Os split over the jobs. Target: per-I/O CPU cost at 64 CPUs
 *   within 1.2x of that at 4 (ratio_to_cpus4, target_ratio_max, at 64).
 * - mem_<platform>_<policy>: 64 CPUs x 64 jobs x iodepth 128 on lpar, zvm
 *   and kvm, lazy-percpu and lazy-single, 10^6 I/Os, each run alone in a
 *   fork()ed child whose peak RSS the parent reads from wait4()'s ru_maxrss.
 *   Target: peak RSS < 64 MiB (target_rss_mib_max). These cases run first:
 *   a child's RSS starts with the parent's resident pages, and after the
 *   timed runs the parent's allocator would still hold their memory
 *   (parent_rss_mib, the parent's own peak at the fork, bounds what a child
 *   inherited).
 *
 * - engine_{equal,random}_delay_pendingN: the event engine alone, N = 128,
 *   2048, 8192 events kept pending, each scheduling its successor at one
 *   delay (a lane) or a random one (the radix heap): ns_per_event, and
 *   ratio_to_pending128, which should stay near 1 (issue 14: an event queue
 *   whose cost does not grow with the events pending).
 *
 * Repetitions: a 10^6-I/O run takes 0.3 to 1.3 CPU-seconds on today's
 * builds, so the timed cases run REPS_MAX (3) times (--smoke: once) and
 * report the median CPU seconds (cpu_seconds, the figure every rate derives
 * from) with the min and max; the memory cases run once (a peak, not a time, and the run
 * is deterministic for a seed). --smoke cuts every case to 10^3
 * I/Os; --iters=N sets the I/O count of every case, rounded to a multiple
 * of the case's numjobs (sim_ios is the count run).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <iommusim/platform.h>
#include <iommusim/run.h>
#include <iommusim/sim.h>

#include "bench_common.h"

#define DEFAULT_SEED 1
/* I/Os per case, in total over the jobs. */
#define IOS_FULL UINT64_C(1000000)
#define IOS_SMOKE UINT64_C(1000)
/* Simulated time a run may take: 60 s, or 100 us per I/O if more, so that
 * every job's size= is what ends it (10^6 I/Os of the default job take
 * 1.3 s simulated on LPAR, up to 40 s under KVM strict). */
#define RUNTIME_NS_MIN (UINT64_C(60) * 1000000000)
#define RUNTIME_NS_PER_IO UINT64_C(100000)
/* Timed repetitions per case (the median is reported); one with --smoke. */
#define REPS_MAX 3u
/* The default job (sim/output.c output_default_job()). */
#define DEFAULT_BS 4096u
#define DEFAULT_IODEPTH 32u
#define DEFAULT_NUMJOBS 4u
/* Issue 14's targets. */
#define TARGET_LPAR_PERCPU 10e6
#define TARGET_HYPERVISOR 5e6
#define TARGET_RATIO_MAX 1.2
#define TARGET_RSS_MIB_MAX 64.0

static const char *const platforms[] = { "lpar", "zvm", "kvm" };

/* What one run measured. */
struct run_sample {
	uint64_t ios; /* res.ios */
	uint64_t sim_ns; /* res.sim_ns */
	double cpu_s; /* process CPU seconds of iommusim_run() */
	double wall_s; /* wall seconds of iommusim_run() */
};

static double
cpu_now_s(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
		bench_die("clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed: %s", strerror(errno));
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The I/O count of a case: --iters, or IOS_FULL / IOS_SMOKE, rounded to the
 * nearest multiple of @numjobs (at least one I/O per job). */
static uint64_t
case_ios(const struct bench_opts *o, unsigned numjobs)
{
	uint64_t per_job = (bench_iters(o, IOS_FULL, IOS_SMOKE) + numjobs / 2) / numjobs;

	return (per_job ? per_job : 1) * numjobs;
}

/* The default job with @cpus CPUs, @numjobs jobs of @iodepth, stopped by
 * size= after @ios I/Os in all (a multiple of @numjobs). */
static void
make_job(struct iommusim_job *job, unsigned cpus, unsigned numjobs, unsigned iodepth, uint64_t ios)
{
	iommusim_job_defaults(job);
	snprintf(job->name, sizeof(job->name), "randread");
	job->workload = IOMMUSIM_WL_BLOCK;
	job->rw = IOMMUSIM_RW_RANDREAD;
	job->bs = DEFAULT_BS;
	job->iodepth = iodepth;
	job->numjobs = numjobs;
	job->cpus = cpus;
	job->runtime_ns =
		ios * RUNTIME_NS_PER_IO > RUNTIME_NS_MIN ? ios * RUNTIME_NS_PER_IO : RUNTIME_NS_MIN;
	job->size = ios / numjobs * DEFAULT_BS;
}

/* "run_" + "lpar" + "_" + "lazy-percpu" + @suffix, with '-' as '_'. */
static void
case_name(char *buf, size_t len, const char *set, const char *platform,
	  enum iommusim_policy_kind kind, const char *suffix)
{
	snprintf(buf, len, "%s_%s_%s%s", set, platform, iommusim_policy_name(kind), suffix);
	for (char *c = buf; *c; c++)
		if (*c == '-')
			*c = '_';
}

/* One run of @job; fatal unless it completes exactly @ios I/Os. */
static void
run_once(const char *name, const struct iommusim_job *job, const char *platform,
	 enum iommusim_policy_kind kind, uint64_t seed, uint64_t ios, struct run_sample *out)
{
	const struct iommusim_profile *profile = iommusim_profile_find(platform);
	const struct iommusim_policy pol = { .kind = kind };
	struct iommusim_run_result res;
	char err[256] = "";
	uint64_t t0;
	double c0;
	int ret;

	if (!profile)
		bench_die("%s: no platform profile '%s'", name, platform);
	t0 = bench_now_ns();
	c0 = cpu_now_s();
	ret = iommusim_run(job, profile, &pol, seed, NULL, &res, err, sizeof(err));
	out->cpu_s = cpu_now_s() - c0;
	out->wall_s = (double)(bench_now_ns() - t0) / 1e9;
	if (ret)
		bench_die("%s: iommusim_run failed: %d (%s)%s%s", name, ret, strerror(-ret),
			  err[0] ? ": " : "", err);
	if (res.ios != ios)
		bench_die("%s: the run completed %" PRIu64 " I/Os, not the %" PRIu64
			  " asked (%u jobs x size %" PRIu64 " bytes): it ended after %.6g s "
			  "simulated of the %.6g s runtime, %" PRIu64 " map errors",
			  name, res.ios, ios, job->numjobs, job->size, (double)res.sim_ns / 1e9,
			  (double)job->runtime_ns / 1e9, res.map_errors);
	out->ios = res.ios;
	out->sim_ns = res.sim_ns;
}

/*
 * Run @job reps times and print the case's line, without ending it (the
 * caller adds its target fields). @return the median CPU ns per I/O.
 */
static double
timed_case(const struct bench_opts *o, const char *name, const struct iommusim_job *job,
	   const char *platform, enum iommusim_policy_kind kind, uint64_t ios)
{
	unsigned reps = o->smoke ? 1 : REPS_MAX;
	double cpu[REPS_MAX], wall[REPS_MAX], cpu_min, cpu_max, cpu_med, wall_med;
	struct run_sample s = { 0 };

	for (unsigned i = 0; i < reps; i++) {
		run_once(name, job, platform, kind, o->seed, ios, &s);
		cpu[i] = s.cpu_s;
		wall[i] = s.wall_s;
	}
	cpu_med = bench_median(cpu, reps); /* sorted now */
	cpu_min = cpu[0];
	cpu_max = cpu[reps - 1];
	wall_med = bench_median(wall, reps);

	bench_json_case(o, name, 1);
	bench_json_u64("cpus", job->cpus);
	bench_json_u64("numjobs", job->numjobs);
	bench_json_u64("iodepth", job->iodepth);
	bench_json_u64("sim_ios", s.ios);
	bench_json_num("sim_seconds", (double)s.sim_ns / 1e9);
	bench_json_u64("reps", reps);
	bench_json_num("wall_seconds", wall_med);
	bench_json_num("cpu_seconds", cpu_med);
	bench_json_num("cpu_seconds_min", cpu_min);
	bench_json_num("cpu_seconds_max", cpu_max);
	bench_json_num("pairs_per_cpu_s", cpu_med > 0 ? (double)s.ios / cpu_med : 0);
	bench_json_num("pairs_per_wall_s", wall_med > 0 ? (double)s.ios / wall_med : 0);
	bench_json_num("ns_per_pair", cpu_med * 1e9 / (double)s.ios);
	return cpu_med * 1e9 / (double)s.ios;
}

/* The default job on every platform and policy. */
static void
run_cases(const struct bench_opts *o)
{
	static const enum iommusim_policy_kind policies[] = {
		IOMMUSIM_POLICY_LEGACY,
		IOMMUSIM_POLICY_LAZY_PERCPU,
		IOMMUSIM_POLICY_LAZY_SINGLE,
		IOMMUSIM_POLICY_STRICT,
	};
	uint64_t ios = case_ios(o, DEFAULT_NUMJOBS);

	for (size_t p = 0; p < sizeof(platforms) / sizeof(platforms[0]); p++) {
		for (size_t k = 0; k < sizeof(policies) / sizeof(policies[0]); k++) {
			bool lpar = !strcmp(platforms[p], "lpar");
			struct iommusim_job job;
			char name[64];

			make_job(&job, DEFAULT_NUMJOBS, DEFAULT_NUMJOBS, DEFAULT_IODEPTH, ios);
			case_name(name, sizeof(name), "run", platforms[p], policies[k], "");
			(void)timed_case(o, name, &job, platforms[p], policies[k], ios);
			if (!lpar)
				bench_json_num("target_pairs_per_cpu_s", TARGET_HYPERVISOR);
			else if (policies[k] == IOMMUSIM_POLICY_LAZY_PERCPU)
				bench_json_num("target_pairs_per_cpu_s", TARGET_LPAR_PERCPU);
			bench_json_end();
		}
	}
}

/* Per-I/O CPU cost against the number of CPUs (cpus = numjobs). */
static void
scale_cases(const struct bench_opts *o)
{
	static const struct {
		const char *platform;
		enum iommusim_policy_kind kind;
	} sets[] = {
		{ "lpar", IOMMUSIM_POLICY_LAZY_PERCPU },
		{ "kvm", IOMMUSIM_POLICY_LAZY_PERCPU },
		{ "kvm", IOMMUSIM_POLICY_LAZY_SINGLE },
	};
	static const unsigned cpus[] = { 1, 4, 16, 64 };

	for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
		double at4 = 0;

		for (size_t c = 0; c < sizeof(cpus) / sizeof(cpus[0]); c++) {
			uint64_t ios = case_ios(o, cpus[c]);
			struct iommusim_job job;
			char name[64], suffix[16];
			double ns;

			make_job(&job, cpus[c], cpus[c], DEFAULT_IODEPTH, ios);
			snprintf(suffix, sizeof(suffix), "_cpus%u", cpus[c]);
			case_name(name, sizeof(name), "scale", sets[s].platform, sets[s].kind,
				  suffix);
			ns = timed_case(o, name, &job, sets[s].platform, sets[s].kind, ios);
			if (cpus[c] == 4)
				at4 = ns;
			if (cpus[c] == 64) {
				bench_json_num("ratio_to_cpus4", at4 > 0 ? ns / at4 : 0);
				bench_json_num("target_ratio_max", TARGET_RATIO_MAX);
			}
			bench_json_end();
		}
	}
}

/* Run @job in a child process: *@out gets its sample, *@peak_kib its peak RSS (KiB). */
static void
child_case(const struct bench_opts *o, const char *name, const struct iommusim_job *job,
	   const char *platform, enum iommusim_policy_kind kind, uint64_t ios,
	   struct run_sample *out, long *peak_kib)
{
	struct run_sample s = { 0 };
	struct rusage ru;
	int fds[2], status;
	ssize_t got;
	pid_t pid;

	if (pipe(fds))
		bench_die("%s: pipe: %s", name, strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		bench_die("%s: fork: %s", name, strerror(errno));
	if (pid == 0) {
		/* The child: bench_die() exits 1 on any failure. */
		close(fds[0]);
		run_once(name, job, platform, kind, o->seed, ios, &s);
		if (write(fds[1], &s, sizeof(s)) != (ssize_t)sizeof(s))
			_exit(3);
		_exit(0);
	}
	close(fds[1]);
	do
		got = read(fds[0], &s, sizeof(s));
	while (got < 0 && errno == EINTR);
	close(fds[0]);
	while (wait4(pid, &status, 0, &ru) < 0)
		if (errno != EINTR)
			bench_die("%s: wait4: %s", name, strerror(errno));
	if (WIFSIGNALED(status))
		bench_die("%s: the child running the case was killed by signal %d (%s)", name,
			  WTERMSIG(status), strsignal(WTERMSIG(status)));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_die("%s: the child running the case failed (exit status %d)", name,
			  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	if (got != (ssize_t)sizeof(s))
		bench_die("%s: the child exited 0 without sending its result", name);
	*out = s;
	*peak_kib = ru.ru_maxrss;
}

/* Peak RSS of a wide job, one child process per case. */
static void
mem_cases(const struct bench_opts *o)
{
	static const enum iommusim_policy_kind policies[] = {
		IOMMUSIM_POLICY_LAZY_PERCPU,
		IOMMUSIM_POLICY_LAZY_SINGLE,
	};
	const unsigned ncpus = 64, numjobs = 64, iodepth = 128;
	uint64_t ios = case_ios(o, numjobs);

	for (size_t p = 0; p < sizeof(platforms) / sizeof(platforms[0]); p++) {
		for (size_t k = 0; k < sizeof(policies) / sizeof(policies[0]); k++) {
			struct iommusim_job job;
			struct run_sample s;
			struct rusage self;
			long peak_kib;
			char name[64];

			make_job(&job, ncpus, numjobs, iodepth, ios);
			case_name(name, sizeof(name), "mem", platforms[p], policies[k], "");
			if (getrusage(RUSAGE_SELF, &self))
				bench_die("getrusage: %s", strerror(errno));
			child_case(o, name, &job, platforms[p], policies[k], ios, &s, &peak_kib);
			bench_json_case(o, name, 1);
			bench_json_u64("cpus", job.cpus);
			bench_json_u64("numjobs", job.numjobs);
			bench_json_u64("iodepth", job.iodepth);
			bench_json_u64("sim_ios", s.ios);
			bench_json_num("sim_seconds", (double)s.sim_ns / 1e9);
			bench_json_num("wall_seconds", s.wall_s);
			bench_json_num("cpu_seconds", s.cpu_s);
			bench_json_num("pairs_per_cpu_s",
				       s.cpu_s > 0 ? (double)s.ios / s.cpu_s : 0);
			bench_json_num("peak_rss_mib", (double)peak_kib / 1024);
			bench_json_num("parent_rss_mib", (double)self.ru_maxrss / 1024);
			bench_json_num("target_rss_mib_max", TARGET_RSS_MIB_MAX);
			bench_json_end();
		}
	}
}

/*
 * The event engine alone: @pending events kept pending, each one on firing
 * scheduling its successor, at a delay that is either the same for all
 * (equal_delay: a timer re-armed with one delay, a constant-latency device)
 * or drawn uniformly below 2 x 52,000 cycles (random_delay: the out-of-order
 * case, 10 us at 5.2 GHz on average). Target (issue 14): the cost per event
 * does not grow with the number pending (ratio_to_pending128 at the largest).
 */
struct engine_ctx {
	struct iommusim_sim *sim;
	struct bench_rng rng;
	bool random;
	uint64_t fired;
};

static void
engine_fire(struct iommusim_sim *sim, void *priv)
{
	struct engine_ctx *c = priv;
	uint64_t delay = c->random ? 1 + bench_rng_below(&c->rng, 2 * 52000) : 52000;

	c->fired++;
	if (iommusim_sim_schedule(sim, iommusim_sim_now(sim) + delay, engine_fire, c, NULL))
		bench_die("engine: scheduling failed");
}

static uint64_t
engine_rep(void *ctx, uint64_t iters)
{
	struct engine_ctx *c = ctx;
	uint64_t t0, goal = c->fired + iters;

	t0 = bench_now_ns();
	while (c->fired < goal)
		if (iommusim_sim_run(c->sim, iommusim_sim_now(c->sim) + 52000, NULL))
			bench_die("engine: run failed");
	return bench_now_ns() - t0;
}

static void
engine_cases(const struct bench_opts *o)
{
	static const unsigned pendings[] = { 128, 2048, 8192 };

	for (unsigned random = 0; random < 2; random++) {
		double base = 0;

		for (size_t i = 0; i < sizeof(pendings) / sizeof(pendings[0]); i++) {
			const struct iommusim_sim_cfg cfg = { .ncpus = 1 };
			struct engine_ctx c = { .random = random != 0 };
			struct bench_stats st;
			char name[64];

			if (iommusim_sim_create(&cfg, &c.sim))
				bench_die("engine: no simulator");
			bench_rng_seed(&c.rng, o->seed);
			for (unsigned k = 0; k < pendings[i]; k++)
				if (iommusim_sim_schedule(c.sim,
							  1 + bench_rng_below(&c.rng, 2 * 52000),
							  engine_fire, &c, NULL))
					bench_die("engine: scheduling failed");
			bench_measure(o, engine_rep, &c, bench_iters(o, 2000000, 20000), 1000000000,
				      &st);
			if (i == 0)
				base = st.median;
			snprintf(name, sizeof(name), "engine_%s_delay_pending%u",
				 random ? "random" : "equal", pendings[i]);
			bench_json_case(o, name, 1);
			bench_json_u64("pending", pendings[i]);
			bench_json_u64("iters", st.iters);
			bench_json_num("ns_per_event", st.median);
			bench_json_num("ns_per_event_min", st.min);
			bench_json_num("ns_per_event_max", st.max);
			if (i > 0)
				bench_json_num("ratio_to_pending128",
					       base > 0 ? st.median / base : 0);
			bench_json_end();
			iommusim_sim_destroy(c.sim);
		}
	}
}

int
main(int argc, char **argv)
{
	struct bench_opts opts;

	bench_opts_parse(
		argc, argv, "bench_run",
		"Simulator speed (issue 14): whole runs of 10^6 I/Os each (--smoke: 10^3; --iters=N:\n"
		"N, rounded to a multiple of the case's numjobs), timed in process CPU seconds. Cases:\n"
		"  mem_PLATFORM_POLICY    64 CPUs x 64 jobs x iodepth 128, lazy_percpu and lazy_single,\n"
		"                         each in a child process: peak_rss_mib (target < 64)\n"
		"  run_PLATFORM_POLICY    the default job (randread, 4 KiB, 4 jobs x iodepth 32, 4 CPUs),\n"
		"                         lpar, zvm, kvm x legacy, lazy_percpu, lazy_single, strict:\n"
		"                         pairs_per_cpu_s (target: lpar lazy_percpu >= 10e6, every zvm\n"
		"                         and kvm case >= 5e6)\n"
		"  scale_PLATFORM_POLICY_cpusN\n"
		"                         lpar lazy_percpu, kvm lazy_percpu and kvm lazy_single with\n"
		"                         cpus = numjobs = 1, 4, 16, 64 (iodepth 32): ns_per_pair, at 64\n"
		"                         ratio_to_cpus4 (target <= 1.2)\n"
		"  engine_equal_delay_pendingN, engine_random_delay_pendingN\n"
		"                         the event engine alone with N = 128, 2048, 8192 events\n"
		"                         pending: ns_per_event, ratio_to_pending128 (flat: ~1)\n"
		"Timed cases report the median, min and max CPU seconds of 3 runs (--smoke: 1 run).",
		DEFAULT_SEED, &opts);
	mem_cases(&opts);
	run_cases(&opts);
	scale_cases(&opts);
	engine_cases(&opts);
	return 0;
}
