/* SPDX-License-Identifier: MIT */
/*
 * Tests of a whole run: determinism, the mechanisms behind the seeds'
 * results (COST_MODEL.md §3 rows 1, 4, 5, 6, 7) as far as they hold for
 * any cost numbers, errors, progress.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/platform.h>
#include <iommusim/run.h>

static struct iommusim_job
small_job(void)
{
	struct iommusim_job j;

	iommusim_job_defaults(&j);
	j.rw = IOMMUSIM_RW_RANDREAD;
	j.numjobs = 2;
	j.iodepth = 8;
	j.runtime_ns = 20000000; /* 20 ms */
	return j;
}

static struct iommusim_run_result
run_ok(const struct iommusim_job *j, const char *platform, enum iommusim_policy_kind k,
       uint64_t seed)
{
	const struct iommusim_policy pol = { .kind = k };
	struct iommusim_run_result r;
	char err[256] = "";

	assert_int_equal(iommusim_run(j, iommusim_profile_find(platform), &pol, seed, NULL, &r, err,
				      sizeof(err)),
			 0);
	return r;
}

static void
test_run_same_seed_same_result(void **state)
{
	struct iommusim_job j = small_job();
	struct iommusim_run_result a = run_ok(&j, "kvm", IOMMUSIM_POLICY_LAZY_PERCPU, 7);
	struct iommusim_run_result b = run_ok(&j, "kvm", IOMMUSIM_POLICY_LAZY_PERCPU, 7);
	struct iommusim_run_result c = run_ok(&j, "kvm", IOMMUSIM_POLICY_LAZY_PERCPU, 8);

	/* byte for byte: no wall clock, no thread order */
	assert_memory_equal(&a, &b, sizeof(a));
	assert_true(a.ios > 0);
	/* another seed, other random buffers: the run differs somewhere */
	assert_true(memcmp(&a, &c, sizeof(a)) != 0);
}

static void
test_run_counters_are_consistent(void **state)
{
	struct iommusim_job j = small_job();
	struct iommusim_run_result r = run_ok(&j, "zvm", IOMMUSIM_POLICY_LAZY_PERCPU, 1);
	uint64_t c, sum = 0;

	assert_string_equal(r.platform, "zvm");
	assert_string_equal(r.policy, "lazy-percpu");
	assert_int_equal(r.sim_ns, 20000000);
	/* every completed I/O was mapped (one page) and unmapped; in flight at
	 * the end: mapped but not unmapped */
	assert_true(r.mapped_pages >= r.ios);
	assert_true(r.unmapped_pages >= r.ios);
	assert_true(r.mapped_pages - r.unmapped_pages <= (uint64_t)j.numjobs * j.iodepth);
	/* tlb_refresh: one sync-map RPCIT per map */
	assert_int_equal(r.sync_map_rpcits, r.mapped_pages);
	/* lazy: no ranged RPCIT on unmap */
	assert_int_equal(r.sync_rpcits, 0);
	assert_int_equal(r.rpcits, r.sync_map_rpcits + r.global_rpcits);
	for (c = 0; c < IOMMUSIM_COST_NR; c++)
		sum += r.cycles_per_io[c];
	assert_true(sum <= r.cpu_cycles_per_io && r.cpu_cycles_per_io - sum < IOMMUSIM_COST_NR);
	assert_true(r.cycles_per_io[IOMMUSIM_COST_MAP_SYNC] > 0);
	assert_true(r.latency.count == r.ios);
	assert_true(r.iops > 0 && r.bytes == r.ios * j.bs);
}

/* Row 1: on LPAR there is no map-time refresh and flushes are cheap; the
 * per-CPU queue and the old code cost the same to within a few percent. */
static void
test_run_lpar_percpu_matches_legacy(void **state)
{
	struct iommusim_job j = small_job();
	struct iommusim_run_result old = run_ok(&j, "lpar", IOMMUSIM_POLICY_LEGACY, 1);
	struct iommusim_run_result fq = run_ok(&j, "lpar", IOMMUSIM_POLICY_LAZY_PERCPU, 1);
	double rel = fq.iops / old.iops;

	assert_int_equal(old.sync_map_rpcits, 0);
	assert_int_equal(fq.sync_map_rpcits, 0);
	assert_true(rel > 0.95 && rel < 1.05);
}

/* Row 4: under a shadowing hypervisor the single big queue flushes far less
 * often than per-CPU queues and keeps up with the old code. */
static void
test_run_single_queue_flushes_less_than_percpu(void **state)
{
	struct iommusim_job j = small_job();
	struct iommusim_run_result pc, single, old;

	j.runtime_ns = 100000000;
	pc = run_ok(&j, "kvm", IOMMUSIM_POLICY_LAZY_PERCPU, 1);
	single = run_ok(&j, "kvm", IOMMUSIM_POLICY_LAZY_SINGLE, 1);
	old = run_ok(&j, "kvm", IOMMUSIM_POLICY_LEGACY, 1);
	assert_true(pc.global_rpcits > 10 * (single.global_rpcits + 1));
	assert_true(single.iops >= 0.95 * old.iops);
	assert_true(pc.iops < single.iops);
	/* the kernel's rule picks the single queue for tlb_refresh */
	old = run_ok(&j, "kvm", IOMMUSIM_POLICY_KERNEL, 1);
	assert_int_equal(old.global_rpcits, single.global_rpcits);
	assert_true(old.iops == single.iops);
}

/* Rows 5 and 6: ISM under the kernel's policy exposes nothing; forced onto a
 * flush queue, the first flush covering in-use DMBs is caught. */
static void
test_run_ism_policy_and_regression(void **state)
{
	struct iommusim_job j = small_job();
	struct iommusim_policy forced = { .kind = IOMMUSIM_POLICY_LAZY_SINGLE,
					  .fq_size = 64,
					  .ism_force_fq = true };
	struct iommusim_run_result kernel, bad;
	char err[256];

	j.workload = IOMMUSIM_WL_ISM;
	j.dev_latency_ns = 50000;
	kernel = run_ok(&j, "kvm", IOMMUSIM_POLICY_KERNEL, 1);
	assert_int_equal(kernel.ism_events, 0);
	assert_int_equal(kernel.global_rpcits, 0);
	assert_true(kernel.sync_rpcits > 0); /* strict: ranged RPCITs */
	assert_int_equal(iommusim_run(&j, iommusim_profile_find("kvm"), &forced, 1, NULL, &bad, err,
				      sizeof(err)),
			 0);
	assert_true(bad.ism_events > 0);
	assert_string_equal(bad.ism_first_reason, "global_flush");
	assert_true(bad.ism_first_event_ns > 0);
	assert_true(bad.ism_first_rpcit_len >= (UINT64_C(1) << 30));
	assert_true(bad.ism_first_iova >= bad.ism_first_rpcit_addr &&
		    bad.ism_first_iova < bad.ism_first_rpcit_addr + bad.ism_first_rpcit_len);
}

/* Row 7: with a shadow limit below what a queue can hold, status 16 appears
 * and the global-refresh recovery keeps the I/O going. */
static void
test_run_kvm_small_limit_gives_status16_and_recovers(void **state)
{
	struct iommusim_job j = small_job();
	struct iommusim_profile p = *iommusim_profile_find("kvm");
	const struct iommusim_policy pol = { .kind = IOMMUSIM_POLICY_LAZY_SINGLE, .fq_size = 4096 };
	struct iommusim_run_result r;
	char err[256];

	assert_int_equal(iommusim_profile_set(&p, "shadow_limit", "512"), 0);
	j.runtime_ns = 100000000;
	assert_int_equal(iommusim_run(&j, &p, &pol, 1, NULL, &r, err, sizeof(err)), 0);
	assert_true(r.status16 > 1);
	assert_int_equal(r.enomem_recoveries, r.status16);
	assert_true(r.max_shadow_entries <= 512);
	assert_int_equal(r.map_errors, 0);
	/* the default limit is far above what this queue holds: none */
	p = *iommusim_profile_find("kvm");
	assert_int_equal(iommusim_run(&j, &p, &pol, 1, NULL, &r, err, sizeof(err)), 0);
	assert_int_equal(r.status16, 0);
}

/* net: small packets of at most one page, each mapped and unmapped once. */
static void
test_run_net_small_packets_one_page_each(void **state)
{
	struct iommusim_job j = small_job();
	struct iommusim_run_result r;
	const struct iommusim_policy pol = { .kind = IOMMUSIM_POLICY_STRICT };
	char err[256];

	j.workload = IOMMUSIM_WL_NET;
	j.bs = 1500;
	j.io_base_cycles = 5000;
	j.dev_latency_ns = 2000;
	r = run_ok(&j, "lpar", IOMMUSIM_POLICY_STRICT, 1);
	assert_true(r.ios > 0);
	assert_int_equal(r.bytes, r.ios * 1500);
	/* one page per packet, strict: one ranged RPCIT per packet */
	assert_true(r.sync_rpcits >= r.ios &&
		    r.sync_rpcits <= r.ios + (uint64_t)j.numjobs * j.iodepth);
	/* jumbo frames are not one page */
	j.bs = 9000;
	assert_int_equal(iommusim_run(&j, iommusim_profile_find("lpar"), &pol, 1, NULL, &r, err,
				      sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "bs <= 4096"));
}

static void
progress(void *priv, double done)
{
	double *last = priv;

	assert_true(done >= *last && done <= 1.0);
	*last = done;
}

static void
test_run_progress_reaches_one(void **state)
{
	struct iommusim_job j = small_job();
	const struct iommusim_policy pol = { .kind = IOMMUSIM_POLICY_STRICT };
	double last = 0;
	const struct iommusim_run_progress pr = { .report = progress, .priv = &last };
	struct iommusim_run_result r;

	assert_int_equal(iommusim_run(&j, iommusim_profile_find("lpar"), &pol, 1, &pr, &r, NULL, 0),
			 0);
	assert_true(last == 1.0);
}

static void
test_run_rejects_bad_jobs(void **state)
{
	const struct iommusim_policy pol = { .kind = IOMMUSIM_POLICY_KERNEL };
	struct iommusim_job j = small_job();
	struct iommusim_run_result r;
	char err[256] = "";

	j.iodepth = 0;
	assert_int_equal(iommusim_run(&j, iommusim_profile_find("lpar"), &pol, 1, NULL, &r, err,
				      sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "iodepth"));
	j = small_job();
	j.workload = IOMMUSIM_WL_ISM;
	j.ism_dmbs = 65;
	assert_int_equal(iommusim_run(&j, iommusim_profile_find("lpar"), &pol, 1, NULL, &r, err,
				      sizeof(err)),
			 -EINVAL);
	assert_int_equal(iommusim_run(NULL, NULL, &pol, 1, NULL, &r, NULL, 0), -EINVAL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_same_seed_same_result),
		cmocka_unit_test(test_run_counters_are_consistent),
		cmocka_unit_test(test_run_lpar_percpu_matches_legacy),
		cmocka_unit_test(test_run_single_queue_flushes_less_than_percpu),
		cmocka_unit_test(test_run_ism_policy_and_regression),
		cmocka_unit_test(test_run_kvm_small_limit_gives_status16_and_recovers),
		cmocka_unit_test(test_run_net_small_packets_one_page_each),
		cmocka_unit_test(test_run_progress_reaches_one),
		cmocka_unit_test(test_run_rejects_bad_jobs),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("run", tests, NULL, NULL);
}
