/* SPDX-License-Identifier: MIT */
/*
 * How fast the simulator simulates: simulated I/Os (each one DMA map and
 * unmap through the whole stack on the engine) per second of wall time,
 * for the default job on every platform and policy. One JSON line per case.
 * Target (issue 5): at least 2 million map+unmap pairs per second on one
 * core for LPAR with per-CPU queues.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/platform.h>
#include <iommusim/run.h>

#include "bench_common.h"

#define DEFAULT_SEED 1

int
main(int argc, char **argv)
{
	static const char *const platforms[] = { "lpar", "zvm", "kvm" };
	static const enum iommusim_policy_kind policies[] = {
		IOMMUSIM_POLICY_LEGACY,
		IOMMUSIM_POLICY_LAZY_PERCPU,
		IOMMUSIM_POLICY_LAZY_SINGLE,
		IOMMUSIM_POLICY_STRICT,
	};
	struct bench_opts opts;
	size_t p, k;

	bench_opts_parse(argc, argv, "bench_run",
			 "Simulated I/Os per wall-clock second, per platform and policy.",
			 DEFAULT_SEED, &opts);
	for (p = 0; p < sizeof(platforms) / sizeof(platforms[0]); p++) {
		for (k = 0; k < sizeof(policies) / sizeof(policies[0]); k++) {
			const struct iommusim_policy pol = { .kind = policies[k] };
			struct iommusim_run_result res;
			struct iommusim_job job;
			char name[64], err[256];
			uint64_t t0, wall;

			iommusim_job_defaults(&job);
			job.rw = IOMMUSIM_RW_RANDREAD;
			job.numjobs = 4;
			job.cpus = 4;
			job.iodepth = 32;
			job.runtime_ns = opts.smoke ? 2000000 : 1000000000;
			t0 = bench_now_ns();
			BENCH_CHECK(iommusim_run(&job, iommusim_profile_find(platforms[p]), &pol,
						 opts.seed, NULL, &res, err, sizeof(err)));
			wall = bench_now_ns() - t0;
			snprintf(name, sizeof(name), "run_%s_%s", platforms[p],
				 iommusim_policy_name(policies[k]));
			for (char *c = name; *c; c++)
				if (*c == '-')
					*c = '_';
			bench_json_case(&opts, name, 1);
			bench_json_u64("sim_ios", res.ios);
			bench_json_num("sim_seconds", (double)res.sim_ns / 1e9);
			bench_json_num("wall_seconds", (double)wall / 1e9);
			bench_json_num("sim_ios_per_wall_s",
				       wall ? (double)res.ios * 1e9 / (double)wall : 0);
			bench_json_num("ns_per_op", res.ios ? (double)wall / (double)res.ios : 0);
			if (!strcmp(platforms[p], "lpar") &&
			    policies[k] == IOMMUSIM_POLICY_LAZY_PERCPU)
				bench_json_num("target_pairs_per_s", 2e6);
			bench_json_end();
		}
	}
	return 0;
}
