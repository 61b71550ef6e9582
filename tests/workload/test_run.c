/* SPDX-License-Identifier: MIT */
/*
 * Tests of a whole run: determinism, the mechanisms behind the seeds'
 * results (COST_MODEL.md §3 rows 1, 4, 5, 6, 7) as far as they hold for
 * any cost numbers, the device's shared bandwidth, interrupt delivery, the
 * guest's memory and the DMA window, errors, progress.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/job.h>
#include <iommusim/keys.h>
#include <iommusim/platform.h>
#include <iommusim/run.h>

#include "base/mem_int.h"
#include "base/util_int.h"
#include "test_common.h"

#define GIB (UINT64_C(1) << 30)

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

/* Run @j on kvm under the kernel policy with boot parameters @line. */
static struct iommusim_run_result
run_cmdline(const struct iommusim_job *j, enum iommusim_policy_kind k, const char *line)
{
	struct iommusim_policy pol = { .kind = k };
	struct iommusim_run_result r;
	char err[256] = "";

	assert_int_equal(iommusim_policy_set(&pol, "cmdline", line, err, sizeof(err)), 0);
	assert_true(pol.has_cmdline);
	assert_int_equal(
		iommusim_run(j, iommusim_profile_find("kvm"), &pol, 1, NULL, &r, err, sizeof(err)),
		0);
	return r;
}

/* KERNEL_SPEC §2.6 with boot parameters: each says what ran and why. */
static void
test_run_cmdline_decides_domain_with_kernel_reasons(void **state)
{
	struct iommusim_job j = small_job();
	struct iommusim_run_result r = run_cmdline(&j, IOMMUSIM_POLICY_KERNEL, "");
	struct iommusim_policy pol = { .kind = IOMMUSIM_POLICY_LAZY_SINGLE };
	char err[256] = "";

	assert_string_equal(r.domain, "DMA-FQ");
	assert_string_equal(r.domain_reason, "");
	r = run_cmdline(&j, IOMMUSIM_POLICY_KERNEL, "iommu.strict=1");
	assert_string_equal(r.domain, "DMA");
	assert_string_equal(r.domain_reason, "iommu.strict=1");
	assert_string_equal(r.cmdline, "iommu.strict=1");
	assert_string_equal(r.downgrade, ""); /* asked for, not a downgrade */
	assert_true(r.sync_rpcits > 0);
	r = run_cmdline(&j, IOMMUSIM_POLICY_KERNEL, "iommu.strict=0 s390_iommu=strict");
	assert_string_equal(r.domain, "DMA");
	assert_string_equal(r.domain_reason, "s390_iommu=strict");
	/* Passthrough on the v6.7 driver: no identity domain, strict DMA. */
	r = run_cmdline(&j, IOMMUSIM_POLICY_KERNEL, "iommu.passthrough=1");
	assert_string_equal(r.domain, "DMA");
	assert_string_not_equal(r.downgrade, "");
	assert_non_null(strstr(r.domain_reason, "no identity domain"));
	/* With relaxed translation: identity, dma-direct, nothing mapped. */
	j.rtr_avail = true;
	r = run_cmdline(&j, IOMMUSIM_POLICY_KERNEL, "iommu.passthrough=1");
	assert_string_equal(r.domain, "identity");
	assert_string_equal(r.domain_reason, "iommu.passthrough=1");
	assert_true(r.ios > 0);
	assert_int_equal(r.mapped_pages, 0);
	assert_int_equal(r.rpcits, 0);
	assert_int_equal(r.cycles_per_io[IOMMUSIM_COST_ALLOC], 0);
	assert_int_equal(r.map_errors, 0);
	/* The legacy API reads s390_iommu=strict only. */
	j.rtr_avail = false;
	r = run_cmdline(&j, IOMMUSIM_POLICY_LEGACY, "s390_iommu=strict");
	assert_string_equal(r.domain, "legacy");
	assert_string_equal(r.domain_reason, "s390_iommu=strict");
	/* Boot parameters with a policy that decides by itself: refused. */
	assert_int_equal(iommusim_policy_set(&pol, "cmdline", "iommu.strict=1", err, sizeof(err)),
			 0);
	assert_int_equal(
		iommusim_run(&j, iommusim_profile_find("kvm"), &pol, 1, NULL, &r, err, sizeof(err)),
		-EINVAL);
	assert_non_null(strstr(err, "lazy-single"));
	/* A bad line leaves the policy as it was. */
	pol.has_cmdline = false;
	assert_int_equal(iommusim_policy_set(&pol, "cmdline", "iommu.strict=2", err, sizeof(err)),
			 -EINVAL);
	assert_false(pol.has_cmdline);
	assert_non_null(strstr(err, "cmdline: iommu.strict=2"));
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

	/* 200 ms: the per-CPU queues' timer now fires on HZ=100 ticks (10 to
	 * 20 ms after it is armed), which leaves about 10 flushes per 100 ms. */
	j.runtime_ns = 200000000;
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
	/* QEMU 8.0 bounds the window to the shadow limit: 65535 pages. */
	assert_int_equal(bad.ism_first_rpcit_addr, UINT64_C(1) << 32);
	assert_int_equal(bad.ism_first_rpcit_len, UINT64_C(65535) * 4096);
	assert_true(bad.ism_first_iova >= bad.ism_first_rpcit_addr &&
		    bad.ism_first_iova < bad.ism_first_rpcit_addr + bad.ism_first_rpcit_len);
}

/* Row 7: with a shadow limit below what a queue can hold, status 16 appears
 * and the global-refresh recovery keeps the I/O going. */
static void
test_run_kvm_small_limit_gives_status16_and_recovers(void **state)
{
	struct iommusim_job j = small_job();
	/* QEMU up to 7.1: the full window (8.0 cuts it to the limit, so the
	 * IOVA space, not the shadow, runs out). */
	struct iommusim_profile p = *iommusim_profile_find("kvm-qemu7.1");
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
	p = *iommusim_profile_find("kvm-qemu7.1");
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

/* ---- the device's bandwidth ------------------------------------------------ */

/* 128 KiB I/Os, far more in flight than the link needs, no base cost. */
static struct iommusim_job
bulk_job(void)
{
	struct iommusim_job j;

	iommusim_job_defaults(&j);
	j.bs = 128 * 1024;
	j.dev_bandwidth = UINT64_C(3200000000);
	j.dev_latency_ns = 1000;
	j.dev_slots = 128;
	j.numjobs = 4;
	j.iodepth = 64;
	j.io_base_cycles = 0;
	j.runtime_ns = 50000000; /* 50 ms */
	return j;
}

static void
test_run_device_bandwidth_shared_by_its_slots(void **state)
{
	struct iommusim_job j = bulk_job();
	struct iommusim_run_result r;

	/*
	 * One 128 KiB transfer takes 131072 / 3.2e9 s = 40.96 us on the
	 * device's one link, whatever the slot. The link is busy from the
	 * first I/O's map and 1 us latency on (well under 27 us), so by 50 ms
	 * floor((50 ms - that) / 40.96 us) = 1220 I/Os have completed.
	 */
	r = run_ok(&j, "lpar", IOMMUSIM_POLICY_STRICT, 1);
	assert_int_equal(r.ios, 1220);
	assert_true(r.bytes_per_s <= 3.2e9);
	assert_true(r.bytes_per_s >= 0.99 * 3.2e9);
	/* One slot or 128: the same link, the same rate. */
	j.dev_slots = 1;
	r = run_ok(&j, "lpar", IOMMUSIM_POLICY_STRICT, 1);
	assert_int_equal(r.ios, 1220);
	/* With the link out of the way the same job goes far faster: the
	 * bandwidth was the limit. */
	j = bulk_job();
	j.dev_bandwidth = UINT64_C(1000000000000000);
	r = run_ok(&j, "lpar", IOMMUSIM_POLICY_STRICT, 1);
	assert_true(r.bytes_per_s > 10 * 3.2e9);
}

static void
test_run_latency_bound_job_pays_one_transfer_per_io(void **state)
{
	struct iommusim_job j;
	struct iommusim_run_result fast, dflt, slow;

	/* One 4 KiB I/O at a time: the link is never the limit, and each I/O
	 * pays its latency and its own transfer, 4096 / 3.2e9 s = 1280 ns
	 * (10000 ns at 409.6e6 B/s), over what it pays with no transfer time. */
	iommusim_job_defaults(&j);
	j.io_base_cycles = 0;
	j.runtime_ns = 20000000;
	j.dev_bandwidth = UINT64_C(1000000000000000); /* 0 ns for 4 KiB */
	fast = run_ok(&j, "lpar", IOMMUSIM_POLICY_LEGACY_STRICT, 1);
	j.dev_bandwidth = UINT64_C(3200000000);
	dflt = run_ok(&j, "lpar", IOMMUSIM_POLICY_LEGACY_STRICT, 1);
	j.dev_bandwidth = UINT64_C(409600000);
	slow = run_ok(&j, "lpar", IOMMUSIM_POLICY_LEGACY_STRICT, 1);
	/* (ns rounded from cycles at each end: +-1) */
	assert_in_range(dflt.latency.min - fast.latency.min, 1279, 1281);
	assert_in_range(slow.latency.min - fast.latency.min, 9999, 10001);
	assert_in_range(dflt.latency.max - fast.latency.max, 1279, 1281);
	assert_true(fast.latency.min >= 10000);
	assert_true(dflt.bytes_per_s < 0.2 * 3.2e9);
}

/* ---- interrupt delivery ---------------------------------------------------- */

/* One sequential job on 4 CPUs, per-CPU queues of 256 (255 entries each). */
static struct iommusim_run_result
irq_run(const char *irq, const char *irq_cpu, uint64_t seed)
{
	struct iommusim_profile p = *iommusim_profile_find("lpar");
	const struct iommusim_policy pol = { .kind = IOMMUSIM_POLICY_LAZY_PERCPU };
	struct iommusim_job j;
	struct iommusim_run_result r;
	char err[256] = "";

	assert_int_equal(iommusim_profile_set(&p, "irq", irq), 0);
	assert_int_equal(iommusim_profile_set(&p, "irq_cpu", irq_cpu), 0);
	iommusim_job_defaults(&j);
	j.numjobs = 1;
	j.cpus = 4;
	j.iodepth = 8;
	j.runtime_ns = 20000000;
	assert_int_equal(iommusim_run(&j, &p, &pol, seed, NULL, &r, err, sizeof(err)), 0);
	assert_true(r.ios > 4 * 255); /* enough unmaps to fill every ring */
	return r;
}

/* Equal but for the seed they report. */
static void
assert_same_run(struct iommusim_run_result a, struct iommusim_run_result b)
{
	b.seed = a.seed;
	assert_memory_equal(&a, &b, sizeof(a));
}

static void
assert_different_run(struct iommusim_run_result a, struct iommusim_run_result b)
{
	b.seed = a.seed;
	assert_true(memcmp(&a, &b, sizeof(a)) != 0);
}

static void
test_run_irq_submitting_unmaps_on_the_jobs_cpu(void **state)
{
	struct iommusim_run_result a = irq_run("submitting", "0", 1);

	/* Only CPU 0's ring receives unmaps: at most its 255 entries queued
	 * at once, and it fills. Only CPU 0 works (its last item may run a
	 * little past the end). */
	assert_int_equal(a.fq_max_entries, 255);
	assert_true(a.cpu_utilisation <= 0.26);
	/* Nothing random in a sequential job: the seed changes nothing. */
	assert_same_run(a, irq_run("submitting", "0", 1));
	assert_same_run(a, irq_run("submitting", "0", 2));
}

static void
test_run_irq_floating_lands_on_every_cpu(void **state)
{
	struct iommusim_run_result a = irq_run("floating", "0", 1);

	/* More than 3 x 255 entries queued at once: all 4 rings held some. */
	assert_true(a.fq_max_entries > 3 * 255);
	assert_true(a.fq_max_entries <= 4 * 255);
	assert_true(a.cpu_utilisation > 0.26);
	/* The pick is seeded: the same seed, the same run; another, another. */
	assert_same_run(a, irq_run("floating", "0", 1));
	assert_different_run(a, irq_run("floating", "0", 2));
	assert_different_run(a, irq_run("submitting", "0", 1));
}

static void
test_run_irq_directed_to_one_cpu(void **state)
{
	struct iommusim_run_result a = irq_run("directed", "2", 1);

	/* Every unmap on CPU 2: one ring, 255 at most; CPUs 0 (submissions)
	 * and 2 (completions) work. */
	assert_int_equal(a.fq_max_entries, 255);
	assert_true(a.cpu_utilisation > 0.26 && a.cpu_utilisation <= 0.51);
	assert_same_run(a, irq_run("directed", "2", 1));
	assert_same_run(a, irq_run("directed", "2", 2));
	/* irq_cpu is taken modulo the run's CPUs. */
	assert_same_run(a, irq_run("directed", "6", 1));
	assert_different_run(a, irq_run("submitting", "0", 1));
	/* Directed at the job's own CPU is the submitting CPU. */
	assert_same_run(irq_run("directed", "0", 1), irq_run("submitting", "0", 1));
}

/* ---- the guest's memory and the window ------------------------------------- */

/* The first ISM event of a run forced onto a flush queue: its RPCIT. */
static struct iommusim_run_result
ism_run(const char *platform, uint64_t memory, uint32_t factor)
{
	const struct iommusim_policy pol = { .kind = IOMMUSIM_POLICY_LAZY_SINGLE,
					     .fq_size = 64,
					     .ism_force_fq = true };
	struct iommusim_job j = small_job();
	struct iommusim_run_result r;
	char err[256] = "";

	j.workload = IOMMUSIM_WL_ISM;
	j.dev_latency_ns = 50000;
	j.memory = memory;
	j.s390_iommu_aperture = factor;
	assert_int_equal(iommusim_run(&j, iommusim_profile_find(platform), &pol, 1, NULL, &r, err,
				      sizeof(err)),
			 0);
	assert_true(r.ism_events > 0);
	assert_string_equal(r.ism_first_reason, "global_flush");
	/* The window starts at QEMU's 4 GiB. */
	assert_int_equal(r.ism_first_rpcit_addr, UINT64_C(1) << 32);
	return r;
}

static void
test_run_global_rpcit_covers_memory_times_aperture(void **state)
{
	/* The global flush covers [4 GiB, 4 GiB + memory x factor). */
	assert_int_equal(ism_run("lpar", 16 * GIB, 1).ism_first_rpcit_len, 16 * GIB);
	assert_int_equal(ism_run("lpar", 2 * GIB, 1).ism_first_rpcit_len, 2 * GIB);
	assert_int_equal(ism_run("lpar", 2 * GIB, 2).ism_first_rpcit_len, 4 * GIB);
	assert_int_equal(ism_run("lpar", 64 << 20, 1).ism_first_rpcit_len, 64 << 20);
	/* Factor 0: no limit but the 4 TiB the tables reach. */
	assert_int_equal(ism_run("lpar", 2 * GIB, 0).ism_first_rpcit_len,
			 (UINT64_C(1) << 42) - (UINT64_C(1) << 32));
	/* QEMU up to 7.1 advertises the full window: the guest's choice. */
	assert_int_equal(ism_run("kvm-qemu7.1", 16 * GIB, 1).ism_first_rpcit_len, 16 * GIB);
	assert_int_equal(ism_run("kvm-qemu7.1", 2 * GIB, 1).ism_first_rpcit_len, 2 * GIB);
}

static void
test_run_kvm_window_bound_to_shadow_limit(void **state)
{
	/* QEMU 8.0 cuts the window to 65535 pages, below memory x factor ... */
	assert_int_equal(ism_run("kvm", 16 * GIB, 1).ism_first_rpcit_len, UINT64_C(65535) * 4096);
	assert_int_equal(ism_run("kvm", 2 * GIB, 1).ism_first_rpcit_len, UINT64_C(65535) * 4096);
	assert_int_equal(ism_run("kvm", 2 * GIB, 0).ism_first_rpcit_len, UINT64_C(65535) * 4096);
	/* ... but the guest's own aperture still applies when smaller. */
	assert_int_equal(ism_run("kvm", 64 << 20, 1).ism_first_rpcit_len, 64 << 20);
}

static void
test_run_small_memory_runs_legacy_and_lazy(void **state)
{
	static const enum iommusim_policy_kind kinds[] = {
		IOMMUSIM_POLICY_LEGACY, IOMMUSIM_POLICY_LEGACY_STRICT, IOMMUSIM_POLICY_LAZY_PERCPU,
		IOMMUSIM_POLICY_LAZY_SINGLE, IOMMUSIM_POLICY_STRICT
	};
	struct iommusim_job j = small_job();
	size_t i;

	j.memory = 2 * GIB;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct iommusim_run_result r = run_ok(&j, "lpar", kinds[i], 1);

		assert_true(r.ios > 0);
		assert_int_equal(r.map_errors, 0);
	}
}

static void
test_run_legacy_wraps_by_the_aperture(void **state)
{
	struct iommusim_job j = small_job();
	struct iommusim_run_result r;

	/*
	 * The old allocator hands out addresses in order and flushes globally
	 * when it reaches the end of the aperture (memory x factor), so it
	 * wraps once per aperture's worth of mapped pages. 90 ms maps about
	 * 45000 pages: far from any multiple of 16384 or 32768.
	 */
	j.runtime_ns = 90000000;
	j.memory = 64 << 20; /* 16384 pages */
	r = run_ok(&j, "lpar", IOMMUSIM_POLICY_LEGACY, 1);
	assert_true(r.mapped_pages > 2 * 16384);
	assert_int_equal(r.legacy_global_rpcits, r.mapped_pages / 16384);
	j.s390_iommu_aperture = 2;
	r = run_ok(&j, "lpar", IOMMUSIM_POLICY_LEGACY, 1);
	assert_int_equal(r.legacy_global_rpcits, r.mapped_pages / 32768);
	assert_true(r.legacy_global_rpcits > 0);
	j.s390_iommu_aperture = 0; /* the whole window: it never wraps */
	r = run_ok(&j, "lpar", IOMMUSIM_POLICY_LEGACY, 1);
	assert_int_equal(r.legacy_global_rpcits, 0);
	j.s390_iommu_aperture = 1;
	j.memory = 128 << 20;
	r = run_ok(&j, "lpar", IOMMUSIM_POLICY_LEGACY, 1);
	assert_int_equal(r.legacy_global_rpcits, r.mapped_pages / 32768);
}

/* iommusim_run on @j: -EINVAL with @msg, or 0 if @msg is NULL. */
static void
expect_run(const struct iommusim_job *j, const char *msg)
{
	const struct iommusim_policy pol = { .kind = IOMMUSIM_POLICY_STRICT };
	struct iommusim_run_result r;
	char err[256] = "";
	int ret =
		iommusim_run(j, iommusim_profile_find("lpar"), &pol, 1, NULL, &r, err, sizeof(err));

	if (msg && (ret != -EINVAL || strcmp(err, msg)))
		fail_msg("got %d '%s', wanted -EINVAL '%s'", ret, err, msg);
	if (!msg && ret)
		fail_msg("got %d '%s', wanted 0", ret, err);
}

/*
 * Fault injection at every allocation of a run: failing the Nth allocation
 * (once, and from N on) must either fail the run with -ENOMEM or give
 * exactly the reference result; never another result.
 */
static void
fault_sweep(const struct iommusim_job *j, const char *platform, enum iommusim_policy_kind k)
{
	const struct iommusim_policy pol = { .kind = k };
	struct iommusim_run_result ref, r;
	uint64_t n, attempts, failed = 0;
	char err[256];
	int persistent, ret;

	ims_mem_fault_inject(0, 0);
	ref = run_ok(j, platform, k, 3);
	attempts = ims_mem_attempts();
	assert_true(attempts > 10);
	for (persistent = 0; persistent < 2; persistent++)
		for (n = 1; n <= attempts; n++) {
			ims_mem_fault_inject(n, persistent ? UINT64_MAX : 1);
			ret = iommusim_run(j, iommusim_profile_find(platform), &pol, 3, NULL, &r,
					   err, sizeof(err));
			ims_mem_fault_inject(0, 0);
			if (ret == 0) {
				/* Any allocation that failed refuses the run: a
				 * result with exit 0 must be the reference's. */
				if (memcmp(&r, &ref, sizeof(r)))
					fail_msg("%s: allocation %" PRIu64 "%s failed: a different "
						 "result with exit 0",
						 platform, n, persistent ? "+" : "");
			} else {
				if (ret != -ENOMEM || strncmp(err, "out of memory", 13))
					fail_msg("%s: allocation %" PRIu64 ": %d '%s'", platform, n,
						 ret, err);
				failed++;
			}
		}
	assert_true(failed > 0);
	print_message("# fault sweep %s %s: %" PRIu64 " allocations, each failed once and from "
		      "there on\n",
		      platform, iommusim_policy_name(k), attempts);
}

/* What ran is in the result: the domain type, and why a lazy policy ran
 * strict when it did (the kernel's decision for ISM, here). */
static void
expect_domain(const struct iommusim_job *j, enum iommusim_policy_kind k, const char *domain,
	      const char *downgrade)
{
	struct iommusim_run_result r = run_ok(j, "lpar", k, 1);

	assert_string_equal(r.domain, domain);
	assert_string_equal(r.downgrade, downgrade);
}

static void
test_run_reports_the_domain_that_ran(void **state)
{
	struct iommusim_job j = small_job();

	(void)state;
	expect_domain(&j, IOMMUSIM_POLICY_LAZY_PERCPU, "DMA-FQ", "");
	expect_domain(&j, IOMMUSIM_POLICY_STRICT, "DMA", "");
	expect_domain(&j, IOMMUSIM_POLICY_LEGACY, "legacy", "");
	j.workload = IOMMUSIM_WL_ISM;
	expect_domain(&j, IOMMUSIM_POLICY_KERNEL, "DMA", "no deferred flush");
	expect_domain(&j, IOMMUSIM_POLICY_LAZY_SINGLE, "DMA", "no deferred flush");
}

/*
 * The flush queues' memory (docs/kernel.md "Flush-queue memory"): a 16-byte
 * head and 40 bytes per entry, once for the single queue and once per CPU
 * (every simulated CPU is a possible one) for the per-CPU queues; nothing
 * when no queue runs (strict, legacy, an ISM downgrade).
 */
static void
test_run_reports_flush_queue_memory(void **state)
{
	struct iommusim_job j = small_job();
	struct iommusim_policy pol = { .kind = IOMMUSIM_POLICY_LAZY_PERCPU, .fq_size = 1024 };
	struct iommusim_run_result r;
	char err[256] = "";

	(void)state;
	j.cpus = 6; /* more CPUs than jobs: the queues are per CPU, not per job */
	assert_int_equal(
		iommusim_run(&j, iommusim_profile_find("kvm"), &pol, 1, NULL, &r, err, sizeof(err)),
		0);
	assert_int_equal(r.fq_size, 1024);
	assert_int_equal(r.fq_bytes, 6 * (16 + 40 * 1024));
	pol.kind = IOMMUSIM_POLICY_LAZY_SINGLE;
	assert_int_equal(
		iommusim_run(&j, iommusim_profile_find("kvm"), &pol, 1, NULL, &r, err, sizeof(err)),
		0);
	assert_int_equal(r.fq_bytes, 16 + 40 * 1024);
	/* The kernel's defaults: 256 per CPU, 32768 for the single queue. */
	assert_int_equal(run_ok(&j, "kvm", IOMMUSIM_POLICY_LAZY_SINGLE, 1).fq_bytes,
			 16 + 40 * 32768);
	assert_int_equal(run_ok(&j, "lpar", IOMMUSIM_POLICY_LAZY_PERCPU, 1).fq_bytes,
			 6 * (16 + 40 * 256));
	assert_int_equal(run_ok(&j, "kvm", IOMMUSIM_POLICY_STRICT, 1).fq_bytes, 0);
	assert_int_equal(run_ok(&j, "kvm", IOMMUSIM_POLICY_LEGACY, 1).fq_bytes, 0);
	j.workload = IOMMUSIM_WL_ISM;
	assert_int_equal(run_ok(&j, "kvm", IOMMUSIM_POLICY_LAZY_SINGLE, 1).fq_bytes, 0);
}

/* Costs whose sums do not fit 64 bits are refused, never wrapped. */
static void
test_run_refuses_costs_that_overflow(void **state)
{
	static const char msg[] = "the costs overflow 64-bit cycle counts: lower the profile's "
				  "costs or io_base_cycles";
	const struct iommusim_policy pol = { .kind = IOMMUSIM_POLICY_LAZY_PERCPU };
	const char *const keys[] = { "walk_per_lookup", "pte_set", "global_base",
				     "iova_alloc_hit" };
	struct iommusim_job j = small_job();
	struct iommusim_run_result r;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		struct iommusim_profile p = *iommusim_profile_find("kvm-qemu7.1");

		assert_int_equal(iommusim_profile_set(&p, keys[i], "18446744073709551615"), 0);
		assert_int_equal(iommusim_run(&j, &p, &pol, 1, NULL, &r, err, sizeof(err)),
				 -ERANGE);
		assert_string_equal(err, msg);
	}
	j.io_base_cycles = UINT64_MAX;
	assert_int_equal(iommusim_run(&j, iommusim_profile_find("lpar"), &pol, 1, NULL, &r, err,
				      sizeof(err)),
			 -ERANGE);
	assert_string_equal(err, msg);
	/* large but summable costs still run */
	j.io_base_cycles = UINT64_C(1) << 32;
	assert_int_equal(iommusim_run(&j, iommusim_profile_find("lpar"), &pol, 1, NULL, &r, err,
				      sizeof(err)),
			 0);
}

static void
test_run_fault_injection_every_allocation(void **state)
{
	struct iommusim_job j = small_job();

	(void)state;
	j.runtime_ns = 2000000; /* 2 ms */
	j.iodepth = 4;
	fault_sweep(&j, "lpar", IOMMUSIM_POLICY_LAZY_PERCPU);
	fault_sweep(&j, "kvm", IOMMUSIM_POLICY_LAZY_SINGLE);
	fault_sweep(&j, "kvm-qemu7.1", IOMMUSIM_POLICY_LEGACY);
	fault_sweep(&j, "zvm", IOMMUSIM_POLICY_STRICT);
	/* the ISM jobs: the kernel's strict domain, and the forced queue */
	j.workload = IOMMUSIM_WL_ISM;
	fault_sweep(&j, "kvm", IOMMUSIM_POLICY_KERNEL);
	fault_sweep(&j, "lpar", IOMMUSIM_POLICY_LAZY_PERCPU);
}

/* Every one of sg_segments segments is mapped, the I/O split exactly (it
 * used to stop at 8 and report the full size). */
static void
test_run_maps_every_sg_segment(void **state)
{
	static const char msg[] =
		"sg_segments must be at most bs, and numjobs x iodepth x sg_segments at most 16M";
	struct iommusim_job j = small_job();
	struct iommusim_run_result r;

	(void)state;
	j.bs = 64 << 10;
	j.sg_segments = 16;
	r = run_ok(&j, "lpar", IOMMUSIM_POLICY_STRICT, 1);
	assert_true(r.ios > 100);
	/* 16 pages of 4 KiB per I/O (those in flight at the end included) */
	assert_true(r.mapped_pages >= 16 * r.ios && r.mapped_pages <= 16 * (r.ios + 16));
	assert_int_equal(r.bytes, r.ios * j.bs);
	/* 1024 segments of 64 bytes: each in its own page here */
	j.sg_segments = 1024;
	r = run_ok(&j, "lpar", IOMMUSIM_POLICY_STRICT, 1);
	assert_true(r.mapped_pages >= 1024 * r.ios);
	/* 7 segments of 64 KiB: 9363 bytes and 9362, still 16 or 17 pages */
	j.sg_segments = 7;
	r = run_ok(&j, "lpar", IOMMUSIM_POLICY_STRICT, 1);
	assert_true(r.mapped_pages >= 14 * r.ios && r.mapped_pages <= 21 * (r.ios + 16));
	/* refused: more segments than bytes, or too many segment entries */
	j.bs = 512;
	j.sg_segments = 513;
	expect_run(&j, msg);
	j.sg_segments = 512;
	expect_run(&j, NULL);
	j = small_job();
	j.numjobs = 64;
	j.iodepth = 256;
	j.sg_segments = 1024 + 1;
	expect_run(&j, msg);
	j.sg_segments = 1024;
	expect_run(&j, NULL);
}

static void
test_run_rejects_bad_memory(void **state)
{
	static const char msg[] = "memory must be a multiple of 4 KiB, at least 64m and 4 x bs";
	struct iommusim_job j = small_job();

	j.runtime_ns = 1000000;
	j.memory = (64 << 20) - 4096;
	expect_run(&j, msg);
	j.memory = 0;
	expect_run(&j, msg);
	j.memory = (64 << 20) + 1;
	expect_run(&j, msg);
	j.memory = 16 * GIB + 2048;
	expect_run(&j, msg);
	j.memory = 64 << 20; /* the least */
	expect_run(&j, NULL);
	j.memory = (64 << 20) + 4096;
	expect_run(&j, NULL);
	/* a buffer is at most a quarter of memory */
	j.memory = 64 << 20;
	j.bs = (16 << 20) + 1;
	expect_run(&j, msg);
	j.bs = 16 << 20;
	expect_run(&j, NULL);
	/* net: each job's ring of 1024 pages, from a quarter of memory */
	j = small_job();
	j.runtime_ns = 1000000;
	j.workload = IOMMUSIM_WL_NET;
	j.bs = 1500;
	j.memory = 64 << 20;
	j.numjobs = 5;
	expect_run(&j, "memory too small for 5 jobs' page rings (4194304 bytes each)");
	j.numjobs = 4;
	expect_run(&j, NULL);
	/* ISM: the DMBs, from half of memory */
	j = small_job();
	j.runtime_ns = 1000000;
	j.workload = IOMMUSIM_WL_ISM;
	j.memory = 64 << 20;
	j.ism_dmbs = 33;
	expect_run(&j, "memory too small for 33 DMBs of 1048576 bytes");
	j.ism_dmbs = 32;
	expect_run(&j, NULL);
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

/*
 * Lazy unmaps still queued when a run ends have no exposure sample; the
 * result counts them rather than flushing them (a deviation said, not
 * hidden): every lazy unmap is a sample or censored, never both.
 */
static void
test_run_counts_exposure_still_queued_at_the_end(void **state)
{
	struct iommusim_job j = small_job();
	struct iommusim_run_result r;

	(void)state;
	j.bs = 4096; /* one page, one queue entry per unmap */
	r = run_ok(&j, "kvm", IOMMUSIM_POLICY_LAZY_SINGLE, 1);
	assert_true(r.exposure_censored > 0); /* a 32768-entry queue, 1 s timeout, 20 ms run */
	assert_int_equal(r.exposure.count + r.exposure_censored, r.unmapped_pages);
	r = run_ok(&j, "lpar", IOMMUSIM_POLICY_LAZY_PERCPU, 1);
	assert_int_equal(r.exposure.count + r.exposure_censored, r.unmapped_pages);
	r = run_ok(&j, "kvm", IOMMUSIM_POLICY_STRICT, 1);
	assert_int_equal(r.exposure_censored, 0);
	assert_int_equal(r.exposure.count, 0);
}

/* A run whose jobs all moved their size= ends then (as fio's does), so its
 * rates are over the time it took; and CPU utilisation stays within 0..1. */
static void
test_run_size_limited_run_ends_when_the_jobs_do(void **state)
{
	struct iommusim_job j = small_job();
	struct iommusim_run_result r;

	(void)state;
	j.runtime_ns = 2000000000; /* 2 s cap */
	j.size = 256 * 4096; /* per job */
	r = run_ok(&j, "kvm", IOMMUSIM_POLICY_LAZY_SINGLE, 1);
	assert_int_equal(r.ios, 2 * 256);
	assert_true(r.sim_ns < j.runtime_ns / 10);
	assert_true(fabs(r.iops - (double)r.ios * 1e9 / (double)r.sim_ns) < 1e-6 * r.iops);
	/* the 1 s timer never fired: the run ended before it */
	assert_int_equal(r.global_rpcits, 0);
	assert_true(r.cpu_utilisation > 0 && r.cpu_utilisation <= 1.0);
	/* a CPU-bound run that goes to its cap */
	j.size = 0;
	j.runtime_ns = 20000000;
	r = run_ok(&j, "kvm", IOMMUSIM_POLICY_STRICT, 1);
	assert_int_equal(r.sim_ns, j.runtime_ns);
	assert_true(r.cpu_utilisation > 0.5 && r.cpu_utilisation <= 1.0);
}

struct conc_arg {
	pthread_t tid;
	const char *platform;
	enum iommusim_policy_kind kind;
	struct iommusim_run_result r;
	int ret;
};

static void *
conc_main(void *arg)
{
	struct conc_arg *a = arg;
	struct iommusim_job j = small_job();
	const struct iommusim_policy pol = { .kind = a->kind };
	char err[256];

	j.runtime_ns = 5000000;
	a->ret = iommusim_run(&j, iommusim_profile_find(a->platform), &pol, 7, NULL, &a->r, err,
			      sizeof(err));
	return NULL;
}

/* run.h's promise: runs are reentrant. Four at once on real threads give
 * what each gives alone (TSan in CI watches the sharing). */
static void
test_run_concurrent_runs_give_the_sequential_results(void **state)
{
	struct conc_arg a[4] = {
		{ .platform = "kvm", .kind = IOMMUSIM_POLICY_LAZY_PERCPU },
		{ .platform = "zvm", .kind = IOMMUSIM_POLICY_LAZY_SINGLE },
		{ .platform = "lpar", .kind = IOMMUSIM_POLICY_LEGACY },
		{ .platform = "kvm", .kind = IOMMUSIM_POLICY_LAZY_PERCPU },
	};
	struct conc_arg ref;
	size_t i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&a[i].tid, NULL, conc_main, &a[i]), 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_join(a[i].tid, NULL), 0);
	for (i = 0; i < 4; i++) {
		ref = a[i];
		conc_main(&ref);
		assert_int_equal(a[i].ret, 0);
		assert_int_equal(ref.ret, 0);
		assert_memory_equal(&a[i].r, &ref.r, sizeof(ref.r));
	}
	assert_memory_equal(&a[0].r, &a[3].r, sizeof(a[0].r));
}

/* Values of @p k to try: its bounds, every choice, and @p nrand random ones
 * that keep its rules (a power of two, a multiple). @return how many */
static size_t
key_values(const struct iommusim_key *k, uint64_t *rng, struct iommusim_key_value *out,
	   size_t nrand)
{
	size_t n = 0, i;

	switch (k->type) {
	case IOMMUSIM_KEY_BOOL:
		out[n++].u = 0;
		out[n++].u = 1;
		return n;
	case IOMMUSIM_KEY_ENUM:
		for (i = 0; k->choices[i].name; i++)
			out[n++].u = k->choices[i].value;
		return n;
	case IOMMUSIM_KEY_REAL:
		out[n++].d = k->min_real;
		out[n++].d = k->max_real;
		for (i = 0; i < nrand; i++) {
			/* log-uniform over [max(min, 1e-6), min(max, 1e12)] */
			double lo = k->min_real > 1e-6 ? k->min_real : 1e-6;
			double hi = k->max_real < 1e12 ? k->max_real : 1e12;
			double f = (double)(test_splitmix64(rng) >> 11) / 9007199254740992.0;

			out[n++].d = lo * pow(hi / lo, f);
		}
		return n;
	default:
		break;
	}
	for (i = 0; i < nrand + 2; i++) {
		uint64_t v, m = k->multiple > 1 ? k->multiple : 1;

		if (i == 0) {
			v = k->min;
		} else if (i == 1) {
			v = k->max;
		} else {
			/* a random bit length, then a random value of that length */
			unsigned bits = 1 + (unsigned)(test_splitmix64(rng) % 64);
			uint64_t r = test_splitmix64(rng);

			v = bits == 64 ? r : r & ((UINT64_C(1) << bits) - 1);
			if (v < k->min || v > k->max)
				v = k->min +
				    (k->max - k->min == UINT64_MAX ? r : r % (k->max - k->min + 1));
		}
		if (k->pow2)
			v = UINT64_C(1) << (ims_fls64(v) - 1);
		v -= v % m;
		if (k->scale > 1)
			v -= v % k->scale;
		if (v < k->min)
			v += m * ((k->min - v + m - 1) / m);
		out[n++].u = v;
	}
	return n;
}

/*
 * A value a key's row accepts is one the run accepts (issue 11's rule, and
 * keys.h's promise): every job, policy and profile row at its bounds and at
 * random values, written as text, parsed back by its row and run. The only
 * refusal allowed is the run's for cost sums beyond 64 bits.
 */
static void
test_run_accepts_every_value_its_keys_accept(void **state)
{
	static const char overflow[] = "the costs overflow 64-bit cycle counts";
	uint64_t rng = test_seed(0x6b657973);
	const struct iommusim_key *k;
	size_t i, ntried = 0;

	(void)state;
	for (i = 0; (k = iommusim_key_at(i)); i++) {
		struct iommusim_key_value vals[16];
		size_t nv, j;

		if (!(k->scope & (IOMMUSIM_KEY_JOB | IOMMUSIM_KEY_POLICY | IOMMUSIM_KEY_PROFILE)))
			continue;
		nv = key_values(k, &rng, vals, 3);
		for (j = 0; j < nv; j++) {
			struct iommusim_policy pol = { .kind = IOMMUSIM_POLICY_LAZY_PERCPU };
			struct iommusim_profile p = *iommusim_profile_find("kvm");
			struct iommusim_job job;
			struct iommusim_run_result r;
			struct iommusim_key_value back;
			char text[64], err[256] = "";
			void *obj;
			int ret;

			iommusim_job_defaults(&job);
			/* Short whichever key is varied: a time and a byte limit. */
			job.runtime_ns = 50000;
			job.size = 64 * 1024;
			obj = k->scope == IOMMUSIM_KEY_JOB    ? (void *)&job :
			      k->scope == IOMMUSIM_KEY_POLICY ? (void *)&pol :
								(void *)&p;
			assert_int_equal(iommusim_key_format(k, &vals[j], text, sizeof(text)), 0);
			if (iommusim_key_set(k, obj, text, err, sizeof(err)))
				fail_msg("%s=%s: the row refuses its own value: %s", k->name, text,
					 err);
			assert_int_equal(iommusim_key_load(k, obj, &back), 0);
			if (k->type == IOMMUSIM_KEY_REAL)
				assert_true(back.d == vals[j].d);
			else
				assert_int_equal(back.u, vals[j].u);
			ret = iommusim_run(&job, &p, &pol, 1, NULL, &r, err, sizeof(err));
			if (ret && !(ret == -ERANGE && strstr(err, overflow) &&
				     (!strcmp(k->unit, "cycles") || !strcmp(k->name, "clock_ghz"))))
				fail_msg("%s=%s: parsed, then refused by the run: %d %s", k->name,
					 text, ret, err);
			ntried++;
		}
	}
	assert_true(ntried > 200);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_same_seed_same_result),
		cmocka_unit_test(test_run_cmdline_decides_domain_with_kernel_reasons),
		cmocka_unit_test(test_run_counters_are_consistent),
		cmocka_unit_test(test_run_lpar_percpu_matches_legacy),
		cmocka_unit_test(test_run_single_queue_flushes_less_than_percpu),
		cmocka_unit_test(test_run_ism_policy_and_regression),
		cmocka_unit_test(test_run_kvm_small_limit_gives_status16_and_recovers),
		cmocka_unit_test(test_run_net_small_packets_one_page_each),
		cmocka_unit_test(test_run_device_bandwidth_shared_by_its_slots),
		cmocka_unit_test(test_run_latency_bound_job_pays_one_transfer_per_io),
		cmocka_unit_test(test_run_irq_submitting_unmaps_on_the_jobs_cpu),
		cmocka_unit_test(test_run_irq_floating_lands_on_every_cpu),
		cmocka_unit_test(test_run_irq_directed_to_one_cpu),
		cmocka_unit_test(test_run_global_rpcit_covers_memory_times_aperture),
		cmocka_unit_test(test_run_kvm_window_bound_to_shadow_limit),
		cmocka_unit_test(test_run_small_memory_runs_legacy_and_lazy),
		cmocka_unit_test(test_run_legacy_wraps_by_the_aperture),
		cmocka_unit_test(test_run_maps_every_sg_segment),
		cmocka_unit_test(test_run_reports_the_domain_that_ran),
		cmocka_unit_test(test_run_reports_flush_queue_memory),
		cmocka_unit_test(test_run_refuses_costs_that_overflow),
		cmocka_unit_test(test_run_fault_injection_every_allocation),
		cmocka_unit_test(test_run_rejects_bad_memory),
		cmocka_unit_test(test_run_progress_reaches_one),
		cmocka_unit_test(test_run_rejects_bad_jobs),
		cmocka_unit_test(test_run_accepts_every_value_its_keys_accept),
		cmocka_unit_test(test_run_counts_exposure_still_queued_at_the_end),
		cmocka_unit_test(test_run_size_limited_run_ends_when_the_jobs_do),
		cmocka_unit_test(test_run_concurrent_runs_give_the_sequential_results),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("run", tests, NULL, NULL);
}
