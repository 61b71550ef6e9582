/* SPDX-License-Identifier: MIT */
/*
 * Tests of the scenario-script language: every statement, the expectation
 * keys and their units, the error messages with NAME:LINE and the exit
 * statuses, the kernel behaviours the examples rely on, allocation failures,
 * and a fuzz run over random and mutated scripts (nothing may crash).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/job.h>
#include <iommusim/keys.h>
#include <iommusim/script.h>

#include "base/mem_int.h"
#include "base/util_int.h"
#include "test_common.h"

/* The random tests' seed unless $IOMMUSIM_TEST_SEED says otherwise. */
#define DEFAULT_SEED UINT64_C(0x5c41b7)

/* One run with its output and messages captured. */
struct cap {
	char *out, *err;
	size_t olen, elen;
	int rc;
	struct iommusim_script_summary sum;
};

static void run_faulty(struct cap *c, const char *text, const char *name, uint64_t nth,
		       bool persistent);

static void
run(struct cap *c, const char *text)
{
	run_faulty(c, text, "t.sim", 0, false);
}

static void
cap_free(struct cap *c)
{
	free(c->out);
	free(c->err);
	memset(c, 0, sizeof(*c));
}

/* Run @text and check the status and that @msg (if any) is in the messages. */
static void
expect_run(const char *text, int rc, const char *msg)
{
	struct cap c;

	run(&c, text);
	if (c.rc != rc || (msg && !strstr(c.err, msg)) || (!msg && c.elen))
		fail_msg("script:\n%s\nstatus %d (want %d), messages:\n%s(want '%s')", text, c.rc,
			 rc, c.err, msg ? msg : "");
	cap_free(&c);
}

#define LPAR1 "platform lpar\nfunction f1\ndomain d1 policy=kernel devices=f1\n"

/* ---- the kernel's behaviours ---------------------------------------------- */

/* The old-QEMU profile in a script: its name (with its dot) is a word, and
 * its window is the kernel's aperture (16 GiB from 4 GiB), not cut to the
 * vfio limit as kvm's is. */
static void
test_script_platform_kvm_qemu71_by_name(void **state)
{
	(void)state;
	expect_run("platform kvm-qemu7.1\n"
		   "function f1\n"
		   "domain d1 policy=kernel devices=f1\n"
		   "map a d1\n"
		   "expect platform.name == kvm-qemu7.1\n"
		   "expect platform.name != kvm\n"
		   "expect f1.end_dma == 0x4ffffffff\n",
		   0, NULL);
	expect_run("platform kvm\n"
		   "function f1\n"
		   "domain d1 policy=kernel devices=f1\n"
		   "expect f1.end_dma == 0x10fffefff\n"
		   "expect platform.name == kvm-qemu7.1\n",
		   1, "t.sim:5: expected platform.name == kvm-qemu7.1, got kvm");
}

static void
test_script_tv14_per_cpu_flush_counts(void **state)
{
	struct cap c;

	(void)state;
	run(&c, LPAR1 "repeat 1000\n"
		      "  map b d1\n"
		      "  unmap b\n"
		      "end\n"
		      "expect \"d1.Global RPCITs\" == 3\n"
		      "expect d1.global_rpcits == 3\n"
		      "expect d1.GLOBAL_RPCITS == 3\n"
		      "expect d1.fq.entries == 235\n"
		      "expect d1.fq.flushes == 3\n"
		      "expect d1.fq.finished == 3\n"
		      "expect d1.fq.queued == 1000\n"
		      "expect \"d1.Mapped pages\" == 1000\n"
		      "expect d1.iova_pages_live == 235\n"
		      /* 3 global RPCITs of 50000 cycles: still in tick 0 */
		      "expect time == 28846ns\n"
		      /* HZ=100: the 10 ms timer armed in tick 0 is due at tick 1
		       * and runs at tick 2, 20 ms: not yet at 10 ms */
		      "advance 10ms\n"
		      "expect d1.global_rpcits == 3\n"
		      "expect d1.fq.timer_flushes == 0\n"
		      "expect d1.fq.armed == 1\n"
		      "advance 10ms\n"
		      "expect d1.global_rpcits == 4\n"
		      "expect d1.fq.timer_flushes == 1\n"
		      "expect d1.fq.entries == 0\n"
		      "expect d1.iova_pages_live == 0\n");
	assert_string_equal(c.err, "");
	assert_int_equal(c.rc, IOMMUSIM_SCRIPT_OK);
	assert_int_equal(c.sum.expectations, 17);
	assert_int_equal(c.sum.failed, 0);
	/* 3 declarations, the repeat and 2000 in its body, 19 more */
	assert_int_equal(c.sum.statements, 3 + 1 + 2000 + 19);
	cap_free(&c);
}

static void
test_script_single_queue_under_kvm(void **state)
{
	(void)state;
	expect_run("platform kvm\ncpus 2\nfunction f1\n"
		   "domain d1 policy=kernel devices=f1\n"
		   "expect d1.fq.single == 1\nexpect d1.fq.size == 32k\n"
		   "expect d1.fq.timeout == 1000ms\n"
		   /* aperture_bound: the window is cut to 65535 pages */
		   "expect f1.start_dma == 0x100000000\nexpect f1.end_dma == 0x10fffefff\n"
		   "repeat 10\n  map b d1 cpu={i%2}\n  unmap b\nend\n"
		   "expect d1.sync_map_rpcits == 10\nexpect d1.fq.entries == 10\n"
		   "expect platform.shadow_entries == 10\nexpect d1.fq.armed == 1\n"
		   /* 10 ranged RPCITs of 80000 + 3 loads x 200 + 1 lookup x 36 +
		    * 1 insert x 100 + 1 host map x 20000 cycles: still tick 0 */
		   "expect time == 193723ns\n"
		   /* HZ=100: due at tick 100, a level-1 timer (8-tick granules)
		    * runs at tick 104, 1.04 s, not at 1 s */
		   "advance 999ms\nexpect d1.global_rpcits == 0\n"
		   "advance 1ms\nexpect d1.global_rpcits == 0\n"
		   "advance 39ms\nexpect d1.global_rpcits == 0\n"
		   "advance 1ms\nexpect d1.global_rpcits == 1\n"
		   "expect d1.fq.timer_flushes == 1\nexpect platform.shadow_entries == 0\n"
		   "expect d1.fq.armed == 0\n"
		   /* the global RPCIT looks up every 4 KiB of the 65535-page window;
		    * it steps over 255 empty segments (2 loads) and the 255 pages
		    * of the last one (3 loads), after 10 one-page steps */
		   "expect platform.global == 1\nexpect platform.lookups == 65545\n"
		   "expect platform.steps == 520\nexpect platform.loads == 1305\n",
		   IOMMUSIM_SCRIPT_OK, NULL);
}

static void
test_script_policies_and_overrides(void **state)
{
	(void)state;
	expect_run("platform kvm\nfunction f1\nfunction f2\nfunction f3\nfunction f4\n"
		   "domain d1 policy=lazy-percpu devices=f1\n"
		   "domain d2 policy=lazy-single fq_size=64 fq_timeout=5ms devices=f2\n"
		   "domain d3 policy=strict devices=f3\n"
		   "domain d4 policy=legacy-strict devices=f4\n"
		   "expect d1.fq.single == 0\nexpect d1.fq.size == 256\n"
		   "expect d2.fq.single == 1\nexpect d2.fq.size == 64\n"
		   "expect d2.fq.timeout == 5ms\nexpect d3.type == DMA\n"
		   "expect d3.policy == strict\nexpect d4.type == legacy\n"
		   "expect d1.devices == 1\nexpect f4.domain == d4\n"
		   "repeat 64\n  map b d2\n  unmap b\nend\n"
		   "expect d2.fq.full_flushes == 1\nexpect d2.fq.entries == 1\n",
		   IOMMUSIM_SCRIPT_OK, NULL);
}

static void
test_script_strict_unmap_ranged_rpcit(void **state)
{
	struct cap c;

	(void)state;
	run(&c, "platform lpar\nfunction f1\ndomain d1 policy=strict devices=f1\n"
		"map h1 d1 size=8k phys=0x1234_5100 dir=to\n"
		"expect h1.iova == 0x4ffffc100\nexpect h1.pages == 3\nexpect h1.size == 8k\n"
		"expect h1.phys == 0x12345100\nexpect h1.mapped == true\n"
		"unmap h1\nexpect h1.mapped == false\n"
		"expect d1.sync_rpcits == 1\nexpect f1.rpcits.sync == 1\n"
		"expect f1.bytes_refreshed == 12k\nexpect d1.strict_syncs == 1\n"
		"map h2 d1 size=8k phys=0x12345100\nexpect h2.iova == h1.iova\n"
		"expect h2.iova != h1.iova\n");
	assert_int_equal(c.rc, IOMMUSIM_SCRIPT_FAILED);
	assert_string_equal(
		c.err, "t.sim:18: expected h2.iova != h1.iova, got 0x4ffffc100 and 0x4ffffc100\n");
	assert_int_equal(c.sum.failed, 1);
	assert_int_equal(c.sum.expectations, 12);
	cap_free(&c);
}

static void
test_script_ism_policy_and_forced_fq(void **state)
{
	struct cap c;

	(void)state;
	run(&c, "platform lpar\nfunction i1 ism\nfunction i2 ism\n"
		"domain d1 policy=kernel devices=i1\n"
		"domain d2 policy=kernel force_fq=yes devices=i2\n"
		"expect d1.type == DMA\nexpect d1.downgraded == 1\n"
		"expect d2.type == DMA-FQ\nexpect i1.ism == 1\n"
		"map m1 d1 size=64k\ndmb i1 m1 register\n"
		"map m2 d2 size=64k\ndmb i2 m2 register\n"
		"repeat 5 map t{i} d1\nrepeat 5 unmap t{i}\n"
		"repeat 5 map u{i} d2\nrepeat 5 unmap u{i}\n"
		"expect i1.ism.events == 0\nexpect i2.ism.events == 0\n"
		"expect i1.ism.dmbs == 1\nexpect i1.ism.dmb_bytes == 64k\n"
		"expect i2.ism.first.iova == 0\n" /* no event: fails */
		/* HZ=100: the timer armed in tick 0 runs at tick 2, 20 ms */
		"advance 10ms\nexpect i2.ism.error == 0\nadvance 10ms\n"
		"expect i2.ism.error == 1\nexpect i2.ism.first.reason == global_flush\n"
		"expect i2.ism.first.iova == m2.iova\nexpect i2.ism.first.time == 20ms\n"
		"expect i2.ism.first.cpu == 0\nexpect i2.ism.first.len == 16G\n"
		"expect i1.ism.error == 0\nflush d1\nexpect i1.ism.error == 1\n"
		"dmb i1 m1 unregister\nunmap m1\n");
	assert_int_equal(c.rc, IOMMUSIM_SCRIPT_FAILED);
	/* the one failure, and no other */
	assert_string_equal(
		c.err, "t.sim:22: expected i2.ism.first.iova == 0, got nothing (no ISM event)\n");
	assert_int_equal(c.sum.failed, 1);
	cap_free(&c);
}

static void
test_script_kvm_status16_and_recovery(void **state)
{
	(void)state;
	/*
	 * QEMU answers status 16 whenever the pool is empty at the end of an
	 * RPCIT: the 4th outstanding page (t1: l0, l1, stale t0, t1) already
	 * gets it, and the recovery drops t0. The full window (no
	 * aperture_bound) lets stale entries outlive the 4-page limit.
	 */
	expect_run("platform kvm shadow_limit=4 aperture_bound=0\nfunction f1\n"
		   "domain d1 policy=kernel devices=f1\n"
		   "repeat 2 map l{i} d1\n"
		   "repeat 2\n  map t{i} d1\n  unmap t{i}\nend\n"
		   "expect t1.error == none\nexpect platform.shadow_entries == 3\n"
		   "expect platform.status16 == 1\nexpect d1.enomem_recoveries == 1\n"
		   "expect d1.global_rpcits == 0\n"
		   /* x: l0, l1, stale t1, x; the recovery drops t1 */
		   "map x d1\nexpect x.mapped == 1\nexpect platform.status16 == 2\n"
		   "expect d1.enomem_recoveries == 2\nexpect platform.shadow_entries == 3\n"
		   /* z: live pages alone empty the pool; the recovery frees
		    * nothing, answers status 16 too and the map fails; its undo
		    * drops z again (at most limit - 1 pages stay mapped) */
		   "map z d1 fails=1\nexpect z.mapped == 0\nexpect z.error == EIO\n"
		   "expect d1.enomem_recoveries == 3\n"
		   "expect d1.enomem_recovery_failures == 1\nexpect platform.status16 == 4\n"
		   "expect f1.enomem == 4\nexpect f1.rpcits.enomem_recovery == 3\n"
		   "expect d1.sync_map_rpcits == 6\nexpect d1.sync_rpcits == 1\n"
		   "expect d1.map_errors == 1\nexpect d1.fq.entries == 2\n"
		   "expect platform.shadow_entries == 3\n"
		   "expect platform.max_shadow_entries == 4\nexpect platform.name == kvm\n",
		   IOMMUSIM_SCRIPT_OK, NULL);
	/*
	 * The profile's aperture_bound cuts the window to shadow_limit pages:
	 * 4 IOVAs, all taken by 2 live and 2 queued pages, so x finds no IOVA
	 * (ENOMEM, no RPCIT) until the 1000 ms timer (tick 104) frees them.
	 */
	expect_run("platform kvm shadow_limit=4\nfunction f1\n"
		   "domain d1 policy=kernel devices=f1\n"
		   "expect f1.start_dma == 0x100000000\nexpect f1.end_dma == 0x100003fff\n"
		   "repeat 2 map l{i} d1\n"
		   "repeat 2\n  map t{i} d1\n  unmap t{i}\nend\n"
		   "expect t1.iova == 0x100000000\nexpect platform.shadow_entries == 3\n"
		   "expect platform.status16 == 1\nexpect d1.enomem_recoveries == 1\n"
		   "map x d1 fails=1\nexpect x.error == ENOMEM\n"
		   "expect platform.rpcits == 5\nexpect platform.status16 == 1\n"
		   "advance 1040ms\nexpect d1.fq.timer_flushes == 1\n"
		   "expect platform.shadow_entries == 2\n"
		   "map x d1\nexpect platform.status16 == 1\nexpect platform.shadow_entries == 3\n"
		   "map y d1 fails=1\nexpect y.error == EIO\nexpect platform.status16 == 3\n"
		   "expect d1.enomem_recovery_failures == 1\n"
		   "expect platform.shadow_entries == 3\n",
		   IOMMUSIM_SCRIPT_OK, NULL);
	/* fails=1 is an expectation: a map that works fails it */
	expect_run(LPAR1 "map a d1 fails=1\n", IOMMUSIM_SCRIPT_FAILED,
		   "t.sim:4: expected map a on d1 to fail, but it succeeded (iova 0x4fffff000)");
}

static void
test_script_legacy_tv28(void **state)
{
	(void)state;
	expect_run("platform lpar memory=64k\nfunction f1\n"
		   "domain d1 policy=legacy devices=f1\n"
		   "map a d1 size=16k\nmap b d1 size=16k\nmap c d1 size=16k\n"
		   "expect a.iova == 0x1_0000_0000\nexpect c.iova == 0x1_0000_8000\n"
		   "expect d1.next_bit == 12\nmap d d1 size=16k fails=1\n"
		   "expect d1.global_rpcits == 1\nunmap a\nmap e d1 size=16k\n"
		   "expect e.iova == 0x100000000\nexpect d1.global_rpcits == 2\n"
		   "expect d1.wraps == 2\nexpect d1.used_pages == 12\n"
		   "expect d1.sync_rpcits == 0\n",
		   IOMMUSIM_SCRIPT_OK, NULL);
}

/* ---- statements, values and output ----------------------------------------- */

static void
test_script_print_debugfs_format(void **state)
{
	struct cap c;

	(void)state;
	run(&c, LPAR1 "echo counters of \"d 1\"\nmap a d1\nunmap a\nprint d1\n");
	assert_int_equal(c.rc, IOMMUSIM_SCRIPT_OK);
	assert_string_equal(c.out, "counters of d 1\n"
				   "# d1: DMA-FQ, per-CPU queues of 256 entries, timeout 10 ms\n"
				   "              Mapped pages:\t1\n"
				   "            Unmapped pages:\t1\n"
				   "             Global RPCITs:\t0\n"
				   "           Sync Map RPCITs:\t0\n"
				   "               Sync RPCITs:\t0\n");
	cap_free(&c);
	run(&c, "platform lpar memory=64k\nfunction f1\ndomain d1 policy=legacy devices=f1\n"
		"function i ism\ndomain d2 policy=kernel devices=i\n"
		"map a d1\nmap m d2\ndmb i m register\nflush d2\n"
		"print d1\nprint i\nprint platform\n");
	assert_int_equal(c.rc, IOMMUSIM_SCRIPT_OK);
	assert_non_null(strstr(c.out, "           Allocated pages:\t0\n"
				      "              Mapped pages:\t1\n"));
	assert_non_null(strstr(c.out, "rpcits 1 global_flush=1\n"));
	assert_non_null(strstr(c.out, "ism in error, 1 DMBs (4096 bytes), 1 events\n"));
	assert_non_null(strstr(c.out, "# platform lpar at "));
	assert_non_null(
		strstr(c.out, " host_maps 0 host_unmap_calls 0 steps 0 loads 0 lookups 0\n"));
	cap_free(&c);
	/* without an output stream nothing is written, and nothing breaks */
	assert_int_equal(iommusim_script_run_string(LPAR1 "print d1\nprint platform\necho x\n",
						    NULL, NULL, NULL, NULL),
			 IOMMUSIM_SCRIPT_OK);
}

/* Run @text, want status 0, and @want in its standard output. */
static void
expect_output(const char *text, const char *want)
{
	struct cap c;

	run(&c, text);
	if (c.rc || !strstr(c.out, want))
		fail_msg(
			"script:\n%s\nstatus %d, output:\n%s\nmessages:\n%s(want '%s' in the output)",
			text, c.rc, c.out, c.err, want);
	cap_free(&c);
}

/* The boot line reaches the IOMMU core's decision (policy=kernel domains),
 * the aperture and the legacy API's strictness, as the kernel reads it; what
 * it does not decide is said in a note. */
static void
test_script_boot_line_decides_kernel_policy_domains(void **state)
{
	(void)state;
	/* iommu.strict=1: a kernel-policy domain is strict DMA, with the reason. */
	expect_run("platform lpar cmdline=\"iommu.strict=1\"\n"
		   "function f1\ndomain d1 policy=kernel devices=f1\n"
		   "expect d1.type == DMA\nexpect d1.downgraded == 0\n",
		   0, NULL);
	expect_output("platform lpar cmdline=\"iommu.strict=1\"\n"
		      "function f1\ndomain d1 policy=kernel devices=f1\nprint d1\n",
		      "# d1: DMA (strict): iommu.strict=1\n");
	expect_output("platform lpar cmdline=\"s390_iommu=strict\"\n"
		      "function f1\ndomain d1 policy=kernel devices=f1\nprint d1\n",
		      "# d1: DMA (strict): s390_iommu=strict\n");
	/* The last repetition wins, as in the kernel. */
	expect_run("platform lpar cmdline=\"iommu.strict=1 iommu.strict=0\"\n"
		   "function f1\ndomain d1 policy=kernel devices=f1\n"
		   "expect d1.type == DMA-FQ\n",
		   0, NULL);
	/* A unit test's own policy is the sysfs switch: the boot line does not
	 * change it, and a note says what the line would have made. */
	expect_run("platform lpar cmdline=\"iommu.strict=1\"\n"
		   "function f1\ndomain d1 policy=lazy-percpu devices=f1\n"
		   "expect d1.type == DMA-FQ\n",
		   0,
		   "t.sim:3: note: domain 'd1': policy=lazy-percpu makes it DMA-FQ (as the sysfs "
		   "type switch does); the boot line would make it DMA");
	expect_run("platform lpar cmdline=\"iommu.strict=1\"\n"
		   "function f1\ndomain d1 policy=strict devices=f1\n",
		   0, NULL);
	/* Parameters outside the IOMMU code are counted and named. */
	expect_run("platform lpar cmdline=\"root=/dev/dasda console=ttyS0 iommu.strict=0\"\n", 0,
		   "t.sim:1: note: 2 boot parameters outside the IOMMU code ignored (the first: "
		   "root=/dev/dasda)");
	expect_run("platform lpar cmdline=\"iommu.forcedac=1\"\n", 0,
		   "t.sim:1: note: iommu.forcedac= changes nothing on s390");
	/* s390_iommu_aperture= is the aperture factor: 2 doubles a 64k window,
	 * 0 lifts the limit. */
	expect_run("platform lpar memory=64k cmdline=\"s390_iommu_aperture=2\"\n"
		   "function f1\ndomain d1 policy=kernel devices=f1\n"
		   "expect f1.end_dma == 0x10001ffff\n",
		   0, NULL);
	expect_run("platform lpar memory=64k\nfunction f1\ndomain d1 policy=kernel devices=f1\n"
		   "expect f1.end_dma == 0x10000ffff\n",
		   0, NULL);
	expect_run("platform lpar memory=64k cmdline=\"s390_iommu_aperture=0\"\n"
		   "function f1\ndomain d1 policy=legacy devices=f1\n"
		   "expect f1.end_dma > 0x10000ffff\n",
		   0, NULL);
	/* The pre-6.7 API reads s390_iommu=strict, not iommu.*. */
	expect_output("platform lpar cmdline=\"s390_iommu=strict\"\n"
		      "function f1\ndomain d1 policy=legacy devices=f1\nprint d1\n",
		      "# d1: pre-6.7 s390 DMA API (strict)");
	expect_run("platform lpar cmdline=\"iommu.strict=1\"\n"
		   "function f1\ndomain d1 policy=legacy devices=f1\n",
		   0,
		   "t.sim:3: note: domain 'd1': iommu.* parameters do not reach the pre-6.7 s390 "
		   "DMA API");
	/* Bad lines are refused before anything runs, with the kernel's view. */
	expect_run("platform lpar cmdline=\"iommu.strict=x\"\nexpect time == 1s\n", 2,
		   "t.sim:1: cmdline: iommu.strict=x: not a boolean the kernel reads");
	expect_run("platform lpar cmdline=\"iommu.bogus=1\"\n", 2, "t.sim:1: cmdline: ");
	expect_run("platform lpar cmdline=\"s390_iommu_aperture=2\" aperture_factor=1\n", 2,
		   "t.sim:1: aperture_factor= and the cmdline's s390_iommu_aperture= both set the "
		   "aperture factor: give one");
	expect_run("platform lpar cmdline=\"iommu.strict=1\n", 2, "t.sim:1: unterminated quote");
	expect_run("platform lpar cmdline=\"iommu.strict=1\"x\n", 2,
		   "t.sim:1: text right after a closing quote");
	expect_run("platform lpar cmdline=\"\"\nfunction f1\ndomain d1 policy=kernel devices=f1\n"
		   "expect d1.type == DMA-FQ\n",
		   0, NULL);
	/* A quoted option value keeps its blanks; the token is key=value. */
	expect_output("echo a=\"b  c\" x=\"\"\n", "a=b  c x=\n");
}

/* iommu.passthrough=1: an identity domain where the function reports relaxed
 * translation (rtr_avail), dma-direct behind it; without, the fall-back to
 * DMA, which the script calls a downgrade. */
static void
test_script_identity_domain_is_dma_direct(void **state)
{
	(void)state;
	expect_run("platform kvm cmdline=\"iommu.passthrough=1\"\n"
		   "function f1\nfunction f2 rtr_avail=1\n"
		   "domain d1 policy=kernel devices=f1\n"
		   "domain d2 policy=kernel devices=f2\n"
		   "expect d1.type == DMA\nexpect d1.downgraded == 1\n"
		   "expect d2.type == identity\nexpect d2.downgraded == 0\n"
		   "map h d2 phys=0x12345100 size=8k\n"
		   "expect h.iova == 0x12345100\n"
		   "unmap h\n"
		   "expect d2.maps == 1\nexpect d2.unmaps == 1\n"
		   "expect d2.mapped_pages == 0\nexpect f2.rpcits == 0\n"
		   "expect platform.shadow_entries == 0\nexpect d2.exposure.count == 0\n",
		   0, NULL);
	expect_output("platform lpar cmdline=\"iommu.passthrough=1\"\n"
		      "function f1\ndomain d1 policy=kernel devices=f1\nprint d1\n",
		      "# d1: DMA (strict): no identity domain: fell back to DMA\n");
	expect_output("platform lpar cmdline=\"iommu.passthrough=1\"\n"
		      "function f1 rtr_avail=1\ndomain d1 policy=kernel devices=f1\nprint d1\n",
		      "# d1: identity (iommu.passthrough=1): dma-direct");
	/* Without the boot parameter rtr_avail changes nothing. */
	expect_run("platform lpar\nfunction f1 rtr_avail=1\ndomain d1 policy=kernel devices=f1\n"
		   "expect d1.type == DMA-FQ\n",
		   0, NULL);
	/* Nothing to flush, count or queue: said, not a zero. */
	expect_run("platform lpar cmdline=\"iommu.passthrough=1\"\n"
		   "function f1 rtr_avail=1\ndomain d1 policy=kernel devices=f1\n"
		   "expect d1.fq.size == 256\n",
		   2,
		   "t.sim:4: 'd1.fq.size': domain 'd1' has no flush queue (it is identity: "
		   "iommu.passthrough=1)");
	expect_run("platform lpar cmdline=\"iommu.passthrough=1\"\n"
		   "function f1 rtr_avail=1\ndomain d1 policy=kernel devices=f1\nflush d1\n",
		   2, "t.sim:4: 'flush' needs a dma-iommu domain; 'd1' is identity");
	expect_run("function f1 rtr_avail=2\n", 2, "'rtr_avail' wants 0 or 1, not '2'");
}

/* Each platform is a machine of its own on the script's engine: its own
 * hypervisor (shadow), kernel (boot line) and functions. */
static void
test_script_several_platforms(void **state)
{
	(void)state;
	expect_run("platform kvm label=guest shadow_limit=8\n"
		   "platform lpar label=host cmdline=\"iommu.strict=1\"\n"
		   "cpus 2\n"
		   "function f1\n"
		   "domain d1 policy=kernel devices=f1\n"
		   "platform kvm label=g2 shadow_limit=8\n"
		   "function f2\n"
		   "domain d2 policy=kernel devices=f2\n"
		   "repeat 4 map a{i} d2\n"
		   "map b d1 cpu=1\n"
		   "expect g2.shadow_entries == 4\n"
		   "expect guest.shadow_entries == 0\n"
		   "expect host.rpcits == 0\n"
		   "expect g2.rpcits == 4\n"
		   "expect g2.name == kvm\nexpect host.name == lpar\n"
		   "expect f1.tlb_refresh == 0\nexpect f2.tlb_refresh == 1\n"
		   "expect d1.type == DMA\nexpect d2.type == DMA-FQ\nexpect d2.fq.single == 1\n",
		   0, NULL);
	expect_output("platform lpar label=a\nplatform kvm label=b\nprint b\nprint a\n",
		      "# platform b = kvm at 0ns\n");
	expect_output("platform lpar label=a cmdline=\"iommu.strict=1\"\nprint a\n",
		      "# platform a = lpar at 0ns, boot parameters \"iommu.strict=1\"\n");
	/* One platform: platform.KEY and the label alike. */
	expect_run("platform zvm label=z\nexpect platform.name == zvm\nexpect z.name == zvm\n", 0,
		   NULL);
	expect_run("platform lpar label=a\nplatform kvm label=b\nexpect platform.rpcits == 0\n", 2,
		   "t.sim:3: 'platform.rpcits' is ambiguous: the script has 2 platforms (a, b): "
		   "name one by its label");
	expect_run("platform lpar label=a\nplatform kvm label=b\nprint platform\n", 2,
		   "t.sim:3: 'print platform' is ambiguous");
	expect_run("platform lpar label=a\nplatform kvm\n", 2,
		   "t.sim:2: a script with more than one platform labels each one: add label=NAME "
		   "to this one");
	expect_run("platform lpar label=a\nfunction f1\nplatform lpar label=b\nfunction f2\n"
		   "domain d policy=kernel devices=f1,f2\n",
		   2,
		   "t.sim:5: domain 'd': 'f1' is on platform 'a', 'f2' on 'b' (a domain is one "
		   "kernel's)");
	expect_run("platform lpar label=a clock_ghz=4\nplatform lpar label=b\n", 2,
		   "t.sim:2: platform 'b' runs at 5.2 GHz, the script's clock at 4 GHz (platform "
		   "'a'): a script has one clock");
	expect_run("platform lpar label=f1\nfunction f1\n", 2,
		   "t.sim:2: 'f1' is already a platform");
	expect_run("platform lpar label=a\nplatform lpar label=a\n", 2,
		   "t.sim:2: 'a' is already a platform");
	expect_run("platform lpar label=1a\n", 2, "t.sim:1: bad platform label '1a'");
	expect_run("platform lpar label=a\nexpect a.global_rpcits == 0\n", 2,
		   "'a' is a platform, which has no 'global_rpcits'");
	expect_run("platform lpar label=a\nfunction f1\nexpect f1.status16 == 0\n", 2,
		   "'f1' is a function, which has no 'status16'");
}

static void
test_script_time_and_units(void **state)
{
	(void)state;
	expect_run("expect time == 0\nadvance 1500us\nexpect time == 1500us\n"
		   "expect time == 1ms\n",
		   IOMMUSIM_SCRIPT_FAILED, "t.sim:4: expected time == 1ms, got 1500us");
	expect_run("advance 2s\nexpect time == 2000ms\nexpect time > 1999999999ns\n"
		   "expect 4k == 4096\nexpect 1M == 1024k\nexpect 1G == 0x4000_0000\n"
		   "expect 1T == 1TiB\nexpect 3KiB < 4K\nexpect 1GiB == 1024MiB\n"
		   "expect 0 == 0ms\nexpect 1ms >= 1000us\n",
		   IOMMUSIM_SCRIPT_OK, NULL);
	expect_run("expect time == 10\n", IOMMUSIM_SCRIPT_ERROR,
		   "t.sim:1: 'time' is a time: write '10' with a unit (ns, us, ms, s)");
	expect_run(LPAR1 "expect d1.global_rpcits == 1ms\n", IOMMUSIM_SCRIPT_ERROR,
		   "t.sim:4: 'd1.global_rpcits' is not a time, but '1ms' is");
	expect_run(LPAR1 "expect d1.fq.timeout == d1.global_rpcits\n", IOMMUSIM_SCRIPT_ERROR,
		   "cannot compare a time with a number");
	/* a figure of nothing is an error, not a 0 to pass on */
	expect_run(LPAR1 "expect d1.exposure.p99 == 0\n", IOMMUSIM_SCRIPT_ERROR,
		   "t.sim:4: 'd1.exposure.p99': no exposure samples yet (no flush has covered a "
		   "lazy unmap of 'd1'); expect d1.exposure.count == 0 instead");
	expect_run(LPAR1 "expect d1.exposure.count == 0\n", IOMMUSIM_SCRIPT_OK, NULL);
	expect_run(
		"platform lpar\nfunction f1\ndomain d1 policy=strict devices=f1\n"
		"expect d1.fq.entries == 0\n",
		IOMMUSIM_SCRIPT_ERROR,
		"t.sim:4: 'd1.fq.entries': domain 'd1' has no flush queue (it is DMA: policy=strict)");
	expect_run("platform lpar\nfunction i ism\ndomain d1 policy=kernel devices=i\n"
		   "expect d1.fq.size == 0\n",
		   IOMMUSIM_SCRIPT_ERROR, "has no flush queue (it is DMA: no deferred flush)");
	expect_run(LPAR1 "expect d1.type == 3\n", IOMMUSIM_SCRIPT_ERROR,
		   "cannot compare a word with a number");
	expect_run("expect 1x == 1\n", IOMMUSIM_SCRIPT_ERROR, "t.sim:1: bad number '1x'");
	expect_run("expect 99999999999999999999 == 1\n", IOMMUSIM_SCRIPT_ERROR, "bad number");
	expect_run("expect 20000000T == 1\n", IOMMUSIM_SCRIPT_ERROR, "bad number");
	expect_run("advance 10\n", IOMMUSIM_SCRIPT_ERROR,
		   "t.sim:1: 'advance' wants a time with a unit (ns, us, ms, s), not '10'");
	/* The grammar job files and --set share (docs/cli.md "Values"). */
	expect_run("advance 1.5ms\nexpect time == 1500us\nexpect 1.5k == 1536\n"
		   "expect 1e3 == 1000\nexpect 1_000 == 1e3\nexpect 2.5e-3s == 2500us\n"
		   "expect 1kib == 1K\nexpect 1MS == 1ms\nexpect True == 1\nexpect OFF == 0\n",
		   IOMMUSIM_SCRIPT_OK, NULL);
	expect_run("expect 1.5ns == 1\n", IOMMUSIM_SCRIPT_ERROR, "t.sim:1: bad number '1.5ns'");
	expect_run("expect 1__0 == 10\n", IOMMUSIM_SCRIPT_ERROR, "bad number '1__0'");
	expect_run("expect 0x10k == 1\n", IOMMUSIM_SCRIPT_ERROR, "bad number '0x10k'");
}

static void
test_script_repeat_and_substitution(void **state)
{
	struct cap c;

	(void)state;
	run(&c, "repeat 2\n  echo outer {i}\n  repeat 3 echo inner {i} {i%2}\nend\n"
		"repeat 0 echo never\nrepeat 2\nrepeat 2\necho {i}\nend\nend\n");
	assert_int_equal(c.rc, IOMMUSIM_SCRIPT_OK);
	assert_string_equal(c.out, "outer 0\ninner 0 0\ninner 1 1\ninner 2 0\n"
				   "outer 1\ninner 0 0\ninner 1 1\ninner 2 0\n0\n1\n0\n1\n");
	cap_free(&c);
	/* messages inside a repeat name the iteration */
	expect_run(LPAR1 "repeat 3\n map h{i} d1\n expect h{i}.iova == 0x4fffff000\nend\n",
		   IOMMUSIM_SCRIPT_FAILED,
		   "t.sim:6: [i=1] expected h1.iova == 0x4fffff000, got 0x4ffffe000");
	expect_run("repeat 2\necho\n", IOMMUSIM_SCRIPT_ERROR, "t.sim:1: 'repeat' without 'end'");
	expect_run("echo\nend\n", IOMMUSIM_SCRIPT_ERROR, "t.sim:2: 'end' without 'repeat'");
	expect_run("end now\n", IOMMUSIM_SCRIPT_ERROR, "t.sim:1: 'end' takes no arguments");
	expect_run("echo {i}\n", IOMMUSIM_SCRIPT_ERROR, "t.sim:1: '{i}' outside a repeat");
	expect_run("repeat 2 echo {j}\n", IOMMUSIM_SCRIPT_ERROR, "bad substitution in '{j}'");
	expect_run("repeat 2 echo {i%0}\n", IOMMUSIM_SCRIPT_ERROR, "bad substitution");
	expect_run("repeat 2 echo {i%3\n", IOMMUSIM_SCRIPT_ERROR, "bad substitution");
	expect_run("repeat 2 end\n", IOMMUSIM_SCRIPT_ERROR, "cannot open or close a block");
	expect_run("repeat 2 repeat 3\n", IOMMUSIM_SCRIPT_ERROR, "cannot open or close a block");
	expect_run("repeat 1000001 echo\n", IOMMUSIM_SCRIPT_ERROR, "'repeat' is at most 1000000");
	expect_run("repeat x\nend\n", IOMMUSIM_SCRIPT_ERROR, "'repeat' wants a number");
	expect_run("repeat\n", IOMMUSIM_SCRIPT_ERROR, "t.sim:1: 'repeat' needs 1 argument");
	{
		char text[40 * 16];
		size_t i;

		text[0] = 0;
		for (i = 0; i < 17; i++)
			strcat(text, "repeat 1\n");
		expect_run(text, IOMMUSIM_SCRIPT_ERROR, "t.sim:17: repeats nested too deep");
	}
}

static void
test_script_syntax_errors_stop_before_running(void **state)
{
	struct cap c;

	(void)state;
	run(&c, "echo ran\n" LPAR1 "map b d1\n\n# comment\nmapp c d1\n");
	assert_int_equal(c.rc, IOMMUSIM_SCRIPT_ERROR);
	assert_string_equal(c.err, "t.sim:8: unknown statement 'mapp'\n");
	assert_string_equal(c.out, ""); /* checked first: nothing ran */
	assert_int_equal(c.sum.statements, 0);
	cap_free(&c);
}

static void
test_script_error_messages(void **state)
{
	static const struct {
		const char *text;
		int rc;
		const char *msg;
	} cases[] = {
		{ "platform foo\n", 2,
		  "t.sim:1: unknown platform 'foo' (lpar, zvm, kvm or kvm-qemu7.1)" },
		{ "platform x86-vtd\n", 2, "unknown platform 'x86-vtd'" },
		{ "platform kvm nokey=1\n", 2, "unknown platform key 'nokey'" },
		{ "platform kvm shadow_limit=-1\n", 2,
		  "bad value '-1' for shadow_limit (a number of entries from 0 (unlimited)" },
		{ "platform kvm memory=100\n", 2,
		  "bad value '100' for memory (a multiple of 4k from 4k to 4t: 64k, 16g)" },
		{ "platform kvm memory=5t\n", 2, "bad value '5t' for memory" },
		{ "platform kvm aperture_factor=4294967296\n", 2,
		  "bad value '4294967296' for aperture_factor (a factor of memory from 0" },
		{ "platform kvm hz=100001\n", 2,
		  "bad value '100001' for hz (a number from 0 to 100000)" },
		{ "platform kvm nokey=1\n", 2,
		  "unknown platform key 'nokey' (see `iommusim keys`)" },
		/* Saturated cost sums give no meaningful time: refused where they happen. */
		{ "platform kvm walk_per_lookup=18446744073709551615\nfunction f1\n"
		  "domain d1 policy=strict devices=f1\nmap h d1 size=4k\n",
		  2, "t.sim:4: the costs overflow 64-bit cycle counts" },
		{ "platform kvm\nplatform lpar\n", 2,
		  "t.sim:2: a script with more than one platform labels each one: add label=NAME to the platform of line 1 and to this one" },
		{ "function f1\nplatform lpar\n", 2, "'platform' must come before every other" },
		{ "cpus 2\ncpus 3\n", 2, "the CPUs are already declared" },
		{ "expect time == 0\ncpus 3\n", 2, "'cpus' must come before every statement" },
		{ "cpus 0\n", 2, "'cpus' wants 1 to 4096" },
		{ "cpus 4097\n", 2, "'cpus' is at most 4096" },
		{ "cpus\n", 2, "'cpus' needs 1 argument" },
		{ "function\n", 2, "'function' needs 1 argument" },
		{ "function 1f\n", 2, "bad function name '1f'" },
		{ "function platform\n", 2, "bad function name 'platform'" },
		{ "function f1 fid=x\n", 2, "'fid' wants a number, not 'x'" },
		{ "function f1 fid=4294967296\n", 2, "'fid' is at most 4294967295" },
		{ "function f1 tlb_refresh=2\n", 2, "'tlb_refresh' wants 0 or 1, not '2'" },
		{ "function f1 bogus\n", 2,
		  "'function' takes at most 1 argument; what is 'bogus'?" },
		{ "function f1 size=4k\n", 2, "'function' takes no option 'size'" },
		{ "function f1 fid=1 fid=2\n", 2, "option 'fid' given twice" },
		{ "function f1 start_dma=0x2000 end_dma=0x1000\n", 2, "bad DMA window" },
		{ "function f1\nfunction f1\n", 2, "t.sim:2: 'f1' is already a function" },
		{ "function f1 fid=3\nfunction f2 fid=3\n", 2, "fid 3 is already function 'f1'" },
		{ "function f1\ndomain d1 devices=f1\n", 2, "'domain' needs policy=" },
		{ "function f1\ndomain d1 policy=kernel\n", 2, "'domain' needs devices=" },
		{ "domain d1 policy=lazy devices=f1\n", 2, "unknown policy 'lazy'" },
		{ "domain d1 policy=kernel devices=f9\n", 2, "unknown function 'f9'" },
		{ "function f1\ndomain d1 policy=kernel devices=\n", 2, "'devices' wants a list" },
		{ "function f1\ndomain d1 policy=kernel devices=,\n", 2, "'devices' wants a list" },
		{ "function f1\ndomain d1 policy=kernel devices=f1,f1\n", 2,
		  "function 'f1' is already in domain 'd1'" },
		{ LPAR1 "domain d2 policy=kernel devices=f1\n", 2, "already in domain 'd1'" },
		{ "function f1\nfunction f2\ndomain d1 policy=legacy devices=f1,f2\n", 2,
		  "a legacy domain has exactly one function" },
		{ "domain d1 policy=strict fq_size=64 devices=f1\n", 2, "need a lazy policy" },
		{ "domain d1 policy=legacy force_fq=1 devices=f1\n", 2, "need a lazy policy" },
		{ "domain d1 policy=kernel fq_size=100 devices=f1\n", 2,
		  "t.sim:1: bad value '100' for fq_size (a power of two from 2 to 16777216)" },
		{ "domain d1 policy=kernel fq_timeout=0ms devices=f1\n", 2,
		  "bad value '0ms' for fq_timeout (whole ms, at least 1ms" },
		{ "domain d1 policy=kernel fq_timeout=1.5ms devices=f1\n", 2,
		  "bad value '1.5ms' for fq_timeout" },
		{ "function f2 fid=1k\n", 2, "'fid' wants a number, not '1k'" },
		{ "function f2 fid=1_\n", 2, "'fid' wants a number, not '1_'" },
		{ "function f2 fid=-1\n", 2, "'fid' wants a number, not '-1'" },
		{ LPAR1 "map h1 d1 size=4ms\n", 2, "'size' wants a size in bytes" },
		{ LPAR1 "map h1 d1 size=1.5\n", 2, "'size' wants a size in bytes" },
		{ LPAR1 "map h1 d9\n", 2, "t.sim:4: unknown domain 'd9'" },
		{ LPAR1 "map f1 d1\n", 2, "'f1' is already a function" },
		{ LPAR1 "map h1 f1\n", 2, "'f1' is not a domain" },
		{ LPAR1 "map h1 d1 size=0\n", 2, "'size' must not be 0" },
		{ LPAR1 "map h1 d1 size=2G\n", 2, "'size' is at most 1073741824" },
		{ LPAR1 "map h1 d1 dir=sideways\n", 2, "'dir' wants bidi, to or from" },
		{ LPAR1 "map h1 d1 cpu=1\n", 2, "t.sim:4: cpu 1 out of range (cpus 1)" },
		{ LPAR1 "map h1 d1\nmap h1 d1\n", 2, "t.sim:5: handle 'h1' is already mapped" },
		{ LPAR1 "unmap h9\n", 2, "t.sim:4: unknown handle 'h9'" },
		{ LPAR1 "unmap d1\n", 2, "'d1' is not a handle" },
		{ LPAR1 "map h1 d1\nunmap h1\nunmap h1\n", 2, "handle 'h1' is not mapped" },
		{ LPAR1 "map h1 d1\nunmap h1 size=4k\n", 2, "'unmap' takes no option 'size'" },
		{ LPAR1 "map h d1\ndmb f1 h register\n", 2, "'f1' is not an ISM function" },
		{ "function i ism\ndomain d policy=kernel devices=i\nmap h d\n"
		  "dmb i h sideways\n",
		  2, "'dmb' wants register or unregister" },
		{ "function i ism\ndomain d policy=kernel devices=i\nmap h d\n"
		  "dmb i h unregister\n",
		  2, "handle 'h' is not a registered DMB of 'i'" },
		{ "function i ism\ndomain d policy=kernel devices=i\nmap h d\n"
		  "dmb i h register\ndmb i h register\n",
		  2, "already a registered DMB" },
		{ "function i ism\ndomain d policy=kernel devices=i\nmap h d size=8k\n"
		  "map g d\ndmb i h register\nunmap g\nmap g d phys=0x1000\n"
		  "dmb i h register\n",
		  2, "already a registered DMB" },
		{ "function i ism\ndomain d policy=kernel devices=i\nmap h d\n"
		  "dmb i h register\nunmap h\n",
		  2, "a registered DMB of 'i': unregister it first" },
		{ "function i ism\ndomain d policy=kernel devices=i\nmap h d\nunmap h\n"
		  "dmb i h register\n",
		  2, "handle 'h' is not mapped" },
		{ "function f1\ndomain d1 policy=legacy devices=f1\nflush d1\n", 2,
		  "'flush' needs a dma-iommu domain; 'd1' is legacy" },
		{ "function f1\ndomain d1 policy=legacy devices=f1\nreset d1\n", 2,
		  "'reset' needs a dma-iommu domain" },
		{ "advance\n", 2, "'advance' needs 1 argument" },
		{ "advance 1ms 2ms\n", 2, "takes at most 1 argument" },
		{ "expect 1 == \n", 2, "'expect' needs 3 arguments" },
		{ "expect 1 === 1\n", 2, "unknown comparison '==='" },
		{ "expect 1 \"==\" 1\n", 2, "unknown comparison" },
		{ "expect d1.global_rpcitz == 1\n", 2, "t.sim:1: unknown key 'd1.global_rpcitz'" },
		{ "expect 1d.global_rpcits == 1\n", 2, "bad number" },
		{ "expect x-.y.z == 1\n", 2, "unknown key" },
		{ "expect platform.global_rpcits == 1\n", 2, "unknown key" },
		{ "expect platform.walked_slots == 0\n", 2, "unknown key" },
		/* A platform key on a name: known once the name is (a label has it). */
		{ LPAR1 "expect d1.status16 == 1\n", 2,
		  "t.sim:4: key 'd1.status16': 'd1' is a domain, which has no 'status16'" },
		{ "expect d1.global_rpcits == 1\n", 2, "t.sim:1: unknown name 'd1'" },
		{ LPAR1 "expect f1.fq.entries == 0\n", 2, "'f1' is a function, which has no" },
		{ LPAR1 "map h d1\nexpect h.global_rpcits == 0\n", 2, "'h' is a handle" },
		{ LPAR1 "expect f1.ism.error == 0\n", 2, "'ism.error' needs an ISM function" },
		{ "function f1\ndomain d1 policy=legacy devices=f1\nexpect d1.fq.entries == 0\n", 2,
		  "key 'fq.entries' does not apply to legacy domain 'd1'" },
		{ LPAR1 "expect d1.wraps == 0\n", 2, "key 'wraps' does not apply to dma-iommu" },
		{ LPAR1 "expect d1.type < DMA\n", 2, "words compare only with == and !=" },
		{ "print\n", 2, "'print' needs 1 argument" },
		{ "print x\n", 2, "unknown name 'x'" },
		{ LPAR1 "map h d1\nprint h\n", 2, "'h' is a handle" },
		{ "echo \"a\n", 2, "t.sim:1: unterminated quote" },
		{ "echo \"a\"b\n", 2, "text right after a closing quote" },
		{ "echo a\"b\n", 2, "a quote inside a word" },
		{ "echo a\x01\n", 2, "control character in 'a?'" },
		{ "\"map\" h d\n", 2, "unknown statement 'map'" },
		{ "\n\n  \t\nbogus\n", 2, "t.sim:4: unknown statement 'bogus'" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_run(cases[i].text, cases[i].rc, cases[i].msg);
}

static void
test_script_limits(void **state)
{
	static char text[8192];
	size_t i;

	(void)state;
	/* a line of 4097 bytes */
	memset(text, 'x', 4097);
	strcpy(text + 4097, "\n");
	expect_run(text, IOMMUSIM_SCRIPT_ERROR, "t.sim:1: line too long");
	/* 65 tokens */
	text[0] = 0;
	strcat(text, "echo");
	for (i = 0; i < 64; i++)
		strcat(text, " a");
	expect_run(text, IOMMUSIM_SCRIPT_ERROR, "too many tokens");
	/* a token of 256 bytes */
	strcpy(text, "echo ");
	memset(text + 5, 'y', 256);
	text[261] = 0;
	expect_run(text, IOMMUSIM_SCRIPT_ERROR, "token too long");
	/* a name of 64 bytes */
	strcpy(text, "function ");
	memset(text + 9, 'n', 64);
	text[73] = 0;
	expect_run(text, IOMMUSIM_SCRIPT_ERROR, "bad function name");
	/* a substitution that overflows a token */
	strcpy(text, "repeat 1 echo ");
	for (i = 0; i < 60; i++)
		strcat(text, "{i}");
	expect_run(text, IOMMUSIM_SCRIPT_OK, NULL);
	strcpy(text, "repeat 1000000 echo ");
	memset(text + 20, 'z', 250);
	strcpy(text + 270, "{i}");
	expect_run(text, IOMMUSIM_SCRIPT_ERROR, "[i=100000] token too long after substitution");
	/* no statement at all, and no final newline */
	expect_run("", IOMMUSIM_SCRIPT_OK, NULL);
	expect_run("# only a comment", IOMMUSIM_SCRIPT_OK, NULL);
	expect_run("echo a # comment\r\necho b#c", IOMMUSIM_SCRIPT_OK, NULL);
}

static void
test_script_steps_budget(void **state)
{
	(void)state;
	expect_run("repeat 1000000\nrepeat 1000000\nrepeat 1000000\nend\nend\nend\n",
		   IOMMUSIM_SCRIPT_ERROR, "the script runs too long");
}

static void
test_script_run_file(void **state)
{
	char path[] = "/tmp/test_script_XXXXXX";
	struct iommusim_script_summary sum;
	FILE *f, *e;
	char *err = NULL;
	size_t elen = 0;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(LPAR1 "map a d1\nexpect d1.mapped_pages == 2\n", f);
	assert_int_equal(fclose(f), 0);
	e = open_memstream(&err, &elen);
	assert_int_equal(iommusim_script_run_file(path, NULL, e, &sum), IOMMUSIM_SCRIPT_FAILED);
	assert_int_equal(fclose(e), 0);
	assert_non_null(strstr(err, ":5: expected d1.mapped_pages == 2, got 1\n"));
	assert_non_null(strstr(err, path));
	assert_int_equal(sum.failed, 1);
	free(err);
	/* a NUL byte */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("echo a\necho b", f);
	fputc(0, f);
	fputs("\n", f);
	assert_int_equal(fclose(f), 0);
	err = NULL;
	e = open_memstream(&err, &elen);
	assert_int_equal(iommusim_script_run_file(path, NULL, e, NULL), IOMMUSIM_SCRIPT_ERROR);
	assert_int_equal(fclose(e), 0);
	assert_non_null(strstr(err, ":2: NUL byte in the script"));
	free(err);
	/* empty, then missing */
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(iommusim_script_run_file(path, NULL, NULL, &sum), IOMMUSIM_SCRIPT_OK);
	assert_int_equal(sum.statements, 0);
	assert_int_equal(unlink(path), 0);
	err = NULL;
	e = open_memstream(&err, &elen);
	assert_int_equal(iommusim_script_run_file(path, NULL, e, NULL), IOMMUSIM_SCRIPT_ERROR);
	assert_int_equal(fclose(e), 0);
	assert_non_null(strstr(err, ": cannot open: No such file or directory"));
	free(err);
	assert_int_equal(iommusim_script_run_file(NULL, NULL, NULL, NULL), IOMMUSIM_SCRIPT_ERROR);
	assert_int_equal(iommusim_script_run_string(NULL, NULL, NULL, NULL, &sum),
			 IOMMUSIM_SCRIPT_ERROR);
}

/* Every allocation of a run may fail: the run reports it, never crashes or leaks. */
/* Allocations the last run_faulty() made. */
static uint64_t last_attempts;

/* Run @text (named @name) with allocation @nth failing (once, or from @nth
 * on); @nth 0 = none. */
static void
run_faulty(struct cap *c, const char *text, const char *name, uint64_t nth, bool persistent)
{
	FILE *o, *e;

	memset(c, 0, sizeof(*c));
	o = open_memstream(&c->out, &c->olen);
	e = open_memstream(&c->err, &c->elen);
	assert_non_null(o);
	assert_non_null(e);
	ims_mem_fault_inject(nth, persistent ? UINT64_MAX : 1);
	c->rc = iommusim_script_run_string(text, name, o, e, &c->sum);
	last_attempts = ims_mem_attempts();
	ims_mem_fault_inject(0, 0);
	assert_int_equal(fclose(o), 0);
	assert_int_equal(fclose(e), 0);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/*
 * Fail allocation N of a script, once and from N on: every N when the
 * script makes at most @max allocations, else @max of them evenly spread;
 * fewer still for a slow script, so that each sweep takes about @budget_s
 * seconds whatever the build (the failing N is in the message). Each run
 * must either stop with "out of memory" and IOMMUSIM_SCRIPT_ERROR, or print
 * exactly what the fault-free run printed and answer the same.
 */
static void
fault_sweep(const char *text, const char *name, uint64_t max, double budget_s)
{
	struct cap ref, c;
	uint64_t nth, total, stride, points;
	double t0 = now_s(), t_ref;
	int persistent;

	run_faulty(&ref, text, name, 0, false);
	t_ref = now_s() - t0;
	total = last_attempts;
	assert_true(total > 0);
	points = IMS_MIN(max, total);
	if (budget_s > 0 && t_ref > 0 && (double)points * 2 * t_ref > budget_s)
		points = IMS_MAX((uint64_t)(budget_s / (2 * t_ref)), 4);
	stride = IMS_MAX(total / points, 1);
	for (persistent = 0; persistent < 2; persistent++)
		for (nth = 1; nth <= total; nth += stride) {
			run_faulty(&c, text, name, nth, persistent);
			if (c.rc == IOMMUSIM_SCRIPT_ERROR && strstr(c.err, "out of memory")) {
				cap_free(&c);
				continue;
			}
			if (c.rc != ref.rc || c.olen != ref.olen || c.elen != ref.elen ||
			    memcmp(c.out, ref.out, c.olen) || memcmp(c.err, ref.err, c.elen))
				fail_msg("%s: allocation %" PRIu64 "%s failed: status %d (want %d "
					 "or an out-of-memory error), messages:\n%s",
					 name, nth, persistent ? " and on" : "", c.rc, ref.rc,
					 c.err);
			cap_free(&c);
		}
	print_message("# fault sweep %s: %" PRIu64 " allocations; from 1 in steps of %" PRIu64
		      ", each failed once and from there on\n",
		      name, total, stride);
	cap_free(&ref);
}

static void
test_script_allocation_failures(void **state)
{
	static const char text[] =
		"platform kvm shadow_limit=8\ncpus 2\nfunction f1\nfunction i ism\n"
		"domain d1 policy=kernel devices=f1\n"
		"domain d2 policy=kernel force_fq=1 devices=i\n"
		"repeat 3\n  map b{i} d1 cpu={i%2}\n  unmap b{i}\nend\n"
		"map m d2\ndmb i m register\nmap t d2\nunmap t\nadvance 1040ms\n"
		"expect i.ism.error == 1\nprint d1\n";

	(void)state;
	fault_sweep(text, "t.sim", UINT64_MAX, 0);
}

/* The same for every script in docs/examples. */
static void
test_script_allocation_failures_in_examples(void **state)
{
	const char *root = getenv("IOMMUSIM_SOURCE_ROOT");
	char dirpath[4096];
	struct dirent *de;
	unsigned scripts = 0;
	DIR *dir;

	(void)state;
	if (!root)
		fail_msg("IOMMUSIM_SOURCE_ROOT is not set (meson test sets it)");
	snprintf(dirpath, sizeof(dirpath), "%s/docs/examples", root);
	dir = opendir(dirpath);
	assert_non_null(dir);
	while ((de = readdir(dir))) {
		char path[8192], *text;
		size_t len = strlen(de->d_name);
		long n;
		FILE *f;

		if (len < 5 || strcmp(de->d_name + len - 4, ".sim"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		assert_int_equal(fseek(f, 0, SEEK_END), 0);
		n = ftell(f);
		assert_true(n > 0);
		rewind(f);
		text = calloc(1, (size_t)n + 1);
		assert_non_null(text);
		assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
		fclose(f);
		fault_sweep(text, de->d_name, 300, 2.0);
		free(text);
		scripts++;
	}
	closedir(dir);
	assert_true(scripts >= 6);
}

/* ---- fuzzing ----------------------------------------------------------------- */

static const char *
pick(uint64_t *rng, const char *const *v, size_t n)
{
	return v[test_splitmix64(rng) % n];
}

#define PICK(rng, v) pick(rng, v, sizeof(v) / sizeof((v)[0]))

/* Small valid scripts to mutate. */
static const char *const corpus[] = {
	LPAR1 "repeat 5\n  map b d1 cpu=0\n  unmap b\nend\nexpect d1.fq.entries == 5\n"
	      "advance 20ms\nexpect \"d1.Global RPCITs\" == 1\nprint d1\n",
	"platform kvm shadow_limit=4 aperture_bound=0\ncpus 2\nfunction f1\n"
	"domain d1 policy=kernel devices=f1\n"
	"repeat 2 map l{i} d1 cpu={i%2}\nmap t d1\nunmap t\nmap x d1\nmap y d1 fails=1\n"
	"expect platform.status16 == 3\nprint platform\n",
	"platform lpar memory=32k\nfunction f1\ndomain d1 policy=legacy devices=f1\n"
	"repeat 9\n map p d1 size=4k\n unmap p\nend\nexpect d1.wraps == 1\n",
	"function i ism\nfunction g\ndomain d policy=kernel force_fq=1 devices=i,g\n"
	"map m d size=8k\ndmb i m register\nmap q d dir=from\nunmap q\nflush d\n"
	"expect i.ism.first.iova == m.iova\ndmb i m unregister\nunmap m\nprint i\n",
	"platform zvm\nfunction f1 tlb_refresh=0\nfunction f2\n"
	"domain d1 policy=lazy-single fq_size=4 fq_timeout=1ms devices=f1\n"
	"domain d2 policy=strict devices=f2\nrepeat 4\nmap a{i} d1\nmap b{i} d2 phys=0x123\n"
	"unmap a{i}\nend\nreset d1\nadvance 1ms\nexpect b3.iova != b2.iova\n"
	"expect time >= 1ms\n",
};

static const char *const words[] = {
	"platform",
	"cpus",
	"function",
	"domain",
	"map",
	"unmap",
	"dmb",
	"advance",
	"flush",
	"reset",
	"expect",
	"print",
	"echo",
	"repeat",
	"end",
	"f1",
	"f2",
	"i",
	"d1",
	"d2",
	"h1",
	"h{i}",
	"b{i%3}",
	"ism",
	"lpar",
	"kvm",
	"zvm",
	"x86-vtd",
	"policy=kernel",
	"policy=strict",
	"policy=legacy",
	"policy=lazy-single",
	"policy=lazy-percpu",
	"policy=legacy-strict",
	"devices=f1",
	"devices=f1,f2",
	"devices=i",
	"force_fq=1",
	"fq_size=8",
	"fq_timeout=2ms",
	"cpu=0",
	"cpu=1",
	"size=4k",
	"size=1M",
	"size=3",
	"phys=0x1001",
	"dir=to",
	"dir=from",
	"fails=1",
	"register",
	"unregister",
	"10ms",
	"1s",
	"0",
	"1",
	"3",
	"==",
	"!=",
	"<",
	">=",
	"time",
	"d1.global_rpcits",
	"\"d1.Global RPCITs\"",
	"d1.fq.entries",
	"d1.exposure.max",
	"h1.iova",
	"f1.ism.error",
	"i.ism.first.reason",
	"platform.status16",
	"global_flush",
	"shadow_limit=2",
	"memory=64k",
	"memory=4k",
	"aperture_factor=0",
	"fid=1",
	"tlb_refresh=1",
	"start_dma=0x1000",
	"end_dma=0x100000",
	"#",
	"\"",
	"{i}",
	"=",
	"platform.shadow_entries",
	"d1.wraps",
	"d1.type",
	"DMA-FQ",
	"platform",
};

static const char *const fnames[] = { "f1", "f2", "i1", "i2" };
static const char *const dnames[] = { "d1", "d2", "d3" };
static const char *const hnames[] = { "h1", "h2", "h3", "h4", "b{i}", "c{i%2}", "f1" };
static const char *const keys[] = {
	"d1.global_rpcits",
	"\"d2.Sync RPCITs\"",
	"d1.fq.entries",
	"d2.fq.armed",
	"d1.exposure.max",
	"d3.wraps",
	"d1.type",
	"h1.iova",
	"h2.error",
	"i1.ism.error",
	"i2.ism.first.iova",
	"i1.ism.first.reason",
	"f1.rpcits.sync_map",
	"platform.status16",
	"platform.shadow_entries",
	"time",
	"d2.sync_map_rpcits",
	"h3.mapped",
	"f2.domain",
	"b0.iova",
};
static const char *const values[] = { "0",	"1",	"3",	   "10ms", "0x4fffff000",
				      "DMA-FQ", "none", "h1.iova", "4k",   "global_flush",
				      "1s",	"EIO" };
static const char *const cmps[] = { "==", "!=", "<", "<=", ">", ">=" };
static const char *const policies[] = { "kernel",      "strict", "lazy-percpu",
					"lazy-single", "legacy", "legacy-strict" };

/* One line that is usually well formed, from a small grammar. */
static void
grammar_line(uint64_t *rng, char *b, size_t len, int *depth)
{
	const char *f = PICK(rng, fnames), *d = PICK(rng, dnames);
	/* {i} only inside repeats, mostly */
	const char *h =
		hnames[test_splitmix64(rng) % (*depth || !(test_splitmix64(rng) % 16) ? 7 : 4)];
	const char *cpu = *depth ? " cpu={i%2}" : " cpu=1";

	switch (test_splitmix64(rng) % 16) {
	case 0:
		snprintf(b, len, "platform %s%s%s", test_splitmix64(rng) % 2 ? "kvm" : "lpar",
			 test_splitmix64(rng) % 2 ? " shadow_limit=6" : "",
			 test_splitmix64(rng) % 3 ? "" : " memory=64k");
		break;
	case 1:
		snprintf(b, len, "cpus %u", (unsigned)(1 + test_splitmix64(rng) % 4));
		break;
	case 2:
		snprintf(b, len, "function %s%s", f, f[0] == 'i' ? " ism" : "");
		break;
	case 3:
		snprintf(b, len, "domain %s policy=%s devices=%s%s%s", d,
			 policies[test_splitmix64(rng) % 4 ? 0 : test_splitmix64(rng) % 6], f,
			 test_splitmix64(rng) % 4 ? "" : ",f2",
			 test_splitmix64(rng) % 4 ? "" : " force_fq=1");
		break;
	case 4:
	case 5:
	case 6:
		snprintf(b, len, "map %s %s%s%s%s", h, d, test_splitmix64(rng) % 3 ? "" : cpu,
			 test_splitmix64(rng) % 3 ? "" : " size=9000",
			 test_splitmix64(rng) % 6 ? "" : " fails=1");
		break;
	case 7:
	case 8:
		snprintf(b, len, "unmap %s", h);
		break;
	case 9:
		snprintf(b, len, "dmb %s %s %sregister", f, h,
			 test_splitmix64(rng) % 2 ? "" : "un");
		break;
	case 10:
		snprintf(b, len, "advance %ums", (unsigned)(test_splitmix64(rng) % 1200));
		break;
	case 11:
		snprintf(b, len, "%s %s", test_splitmix64(rng) % 2 ? "flush" : "reset", d);
		break;
	case 12:
	case 13:
		snprintf(b, len, "expect %s %s %s", PICK(rng, keys), PICK(rng, cmps),
			 PICK(rng, values));
		break;
	case 14:
		if (*depth && test_splitmix64(rng) % 2) {
			snprintf(b, len, "end");
			(*depth)--;
		} else if (*depth < 3) {
			snprintf(b, len, "repeat %u", (unsigned)(test_splitmix64(rng) % 5));
			(*depth)++;
		} else {
			snprintf(b, len, "print %s", d);
		}
		break;
	default:
		snprintf(b, len, "print %s", test_splitmix64(rng) % 2 ? f : "platform");
		break;
	}
}

static char *
random_script(uint64_t *rng)
{
	size_t cap = 8192, len = 0, lines = 1 + test_splitmix64(rng) % 30, l;
	bool garbage = !(test_splitmix64(rng) % 4), unbalanced = !(test_splitmix64(rng) % 10);
	char *t = malloc(cap);
	int depth = 0;

	assert_non_null(t);
	/* usually declare everything first, so that the body runs */
	if (test_splitmix64(rng) % 4) {
		len += (size_t)snprintf(t + len, cap - len, "platform %s shadow_limit=%u\ncpus 2\n",
					test_splitmix64(rng) % 2 ? "kvm" : "lpar",
					(unsigned)(3 + test_splitmix64(rng) % 8));
		len += (size_t)snprintf(t + len, cap - len,
					"function f1\nfunction f2\nfunction i1 ism\n"
					"function i2 ism\n");
		len += (size_t)snprintf(t + len, cap - len,
					"domain d1 policy=%s devices=f1\n"
					"domain d2 policy=kernel%s devices=i1\n",
					PICK(rng, policies),
					test_splitmix64(rng) % 2 ? " force_fq=1" : "");
		len += (size_t)snprintf(t + len, cap - len, "domain d3 policy=%s devices=f2\n",
					PICK(rng, policies));
	}
	for (l = 0; l < lines; l++) {
		char line[256];

		if (!garbage || test_splitmix64(rng) % 10) {
			grammar_line(rng, line, sizeof(line), &depth);
		} else { /* a line of random words */
			size_t ntok = test_splitmix64(rng) % 6, k, ll = 0;

			line[0] = 0;
			for (k = 0; k < ntok; k++)
				ll += (size_t)snprintf(line + ll, sizeof(line) - ll, "%s ",
						       PICK(rng, words));
		}
		len += (size_t)snprintf(t + len, cap - len, "%s\n", line);
	}
	while (depth-- > 0 && !unbalanced)
		len += (size_t)snprintf(t + len, cap - len, "end\n");
	return t;
}

static char *
mutate(uint64_t *rng, const char *src)
{
	static const char chars[] = "abcdefxyz019_-=.#\"{}%\t \n,:";
	size_t len = strlen(src), cap = len * 2 + 1024, n = 1 + test_splitmix64(rng) % 4, k;
	char *t = malloc(cap);
	int depth = 0;

	assert_non_null(t);
	memcpy(t, src, len + 1);
	for (k = 0; k < n; k++) {
		size_t at = len ? test_splitmix64(rng) % len : 0, ll;
		const char *nl;
		char line[256];

		/* line operations mostly: they keep the syntax, so the run goes deep */
		while (at && t[at - 1] != '\n')
			at--;
		nl = strchr(t + at, '\n');
		ll = nl ? (size_t)(nl - (t + at)) + 1 : len - at;
		switch (test_splitmix64(rng) % 8) {
		case 0: /* delete the line */
			memmove(t + at, t + at + ll, len - at - ll + 1);
			len -= ll;
			break;
		case 1: /* duplicate it */
			if (len + ll + 1 < cap) {
				memmove(t + at + ll, t + at, len - at + 1);
				len += ll;
			}
			break;
		case 2:
		case 3: { /* insert a grammar line */
			size_t gl;

			grammar_line(rng, line, sizeof(line) - 1, &depth);
			strcat(line, "\n");
			gl = strlen(line);
			if (len + gl + 1 < cap) {
				memmove(t + at + gl, t + at, len - at + 1);
				memcpy(t + at, line, gl);
				len += gl;
			}
			break;
		}
		case 4: { /* insert a word */
			const char *w = PICK(rng, words);
			size_t wl = strlen(w) + 1;

			at += ll ? test_splitmix64(rng) % ll : 0;
			if (len + wl + 1 < cap) {
				memmove(t + at + wl, t + at, len - at + 1);
				memcpy(t + at, w, wl - 1);
				t[at + wl - 1] = ' ';
				len += wl;
			}
			break;
		}
		case 5: /* insert a byte (sometimes a control or high byte) */
			at += ll ? test_splitmix64(rng) % ll : 0;
			if (len + 2 < cap) {
				char c = chars[test_splitmix64(rng) % (sizeof(chars) - 1)];

				if (!(test_splitmix64(rng) % 8))
					c = (char)(1 + test_splitmix64(rng) % 255);
				memmove(t + at + 1, t + at, len - at + 1);
				t[at] = c;
				len++;
			}
			break;
		case 6: /* delete a byte */
			at += ll ? test_splitmix64(rng) % ll : 0;
			if (at < len) {
				memmove(t + at, t + at + 1, len - at);
				len--;
			}
			break;
		default: /* truncate */
			at += ll ? test_splitmix64(rng) % ll : 0;
			t[at] = 0;
			len = at;
			break;
		}
	}
	return t;
}

/*
 * A script that is valid most of the way: it tracks what it declared and
 * mapped, so the run goes deep into the stack (timers, ISM, status 16, the
 * legacy allocator) before an occasional bad line stops it.
 */
static char *
walk_script(uint64_t *rng)
{
	static const char *const plats[] = { "lpar", "kvm shadow_limit=5", "zvm", "lpar memory=32k",
					     "kvm shadow_limit=40" };
	size_t cap = 1 << 16, len = 0, steps = 10 + test_splitmix64(rng) % 80, k;
	unsigned nfn = 1 + (unsigned)(test_splitmix64(rng) % 4),
		 ncpu = 1 + (unsigned)(test_splitmix64(rng) % 3);
	bool ism[4], legacy[4], mapped[8] = { false }, dmb[8] = { false };
	unsigned hdom[8] = { 0 }, f;
	char *t = malloc(cap);

	assert_non_null(t);
#define OUT(...) (len += (size_t)snprintf(t + len, cap - len, __VA_ARGS__))
	OUT("platform %s\ncpus %u\n", PICK(rng, plats), ncpu);
	for (f = 0; f < nfn; f++) {
		const char *pol = PICK(rng, policies);

		ism[f] = !(test_splitmix64(rng) % 3);
		legacy[f] = !strncmp(pol, "legacy", 6);
		OUT("function f%u%s\n", f, ism[f] ? " ism" : "");
		OUT("domain d%u policy=%s devices=f%u%s%s\n", f, pol, f,
		    !legacy[f] && strcmp(pol, "strict") && test_splitmix64(rng) % 2 ?
			    " force_fq=1" :
			    "",
		    !legacy[f] && strcmp(pol, "strict") && !(test_splitmix64(rng) % 4) ?
			    " fq_size=4" :
			    "");
	}
	for (k = 0; k < steps && len + 512 < cap; k++) {
		unsigned h = (unsigned)(test_splitmix64(rng) % 8),
			 d = (unsigned)(test_splitmix64(rng) % nfn);

		switch (test_splitmix64(rng) % 12) {
		case 0:
		case 1:
		case 2:
			if (mapped[h])
				break;
			OUT("map h%u d%u cpu=%u size=%u%s\n", h, d,
			    (unsigned)(test_splitmix64(rng) % ncpu),
			    1 + (unsigned)(test_splitmix64(rng) % 20000),
			    test_splitmix64(rng) % 2 ? " dir=from" : "");
			mapped[h] = true;
			hdom[h] = d;
			break;
		case 3:
		case 4:
			if (!mapped[h] || dmb[h])
				break;
			OUT("unmap h%u%s\n", h, test_splitmix64(rng) % 2 ? " cpu=0" : "");
			mapped[h] = false;
			break;
		case 5:
			if (mapped[h] && ism[hdom[h]] && !dmb[h]) {
				OUT("dmb f%u h%u register\n", hdom[h], h);
				dmb[h] = true;
			} else if (dmb[h]) {
				OUT("dmb f%u h%u unregister\n", hdom[h], h);
				dmb[h] = false;
			}
			break;
		case 6:
			OUT("advance %uus\n", (unsigned)(test_splitmix64(rng) % 1500000));
			break;
		case 7:
			if (!legacy[d])
				OUT("%s d%u\n", test_splitmix64(rng) % 3 ? "flush" : "reset", d);
			break;
		case 8:
			OUT("repeat %u\n  map r{i} d%u cpu={i%%%u}\n  unmap r{i}\nend\n",
			    (unsigned)(test_splitmix64(rng) % 300), d, ncpu);
			break;
		case 9:
			if (!legacy[d] && test_splitmix64(rng) % 2)
				OUT("expect \"d%u.Global RPCITs\" %s %u\n", d, PICK(rng, cmps),
				    (unsigned)(test_splitmix64(rng) % 4));
			else
				OUT("expect d%u.%s %s %u\n", d, legacy[d] ? "wraps" : "fq.entries",
				    PICK(rng, cmps), (unsigned)(test_splitmix64(rng) % 4));
			break;
		case 10:
			OUT("expect f%u.%s %s %s\n", d, ism[d] ? "ism.first.iova" : "rpcits",
			    PICK(rng, cmps), mapped[0] ? "h0.iova" : "0");
			break;
		default:
			OUT("print %s\n", test_splitmix64(rng) % 2 ? "platform" : "d0");
			break;
		}
	}
#undef OUT
	return t;
}

/* Every message names the script and a line; the status is one of three. */
static void
fuzz_one(const char *text, uint64_t seed, unsigned i)
{
	FILE *o = fopen("/dev/null", "w"), *e;
	char *err = NULL, *line;
	size_t elen = 0;
	int rc;

	assert_non_null(o);
	e = open_memstream(&err, &elen);
	assert_non_null(e);
	rc = iommusim_script_run_string(text, "fz", o, e, NULL);
	assert_int_equal(fclose(o), 0);
	assert_int_equal(fclose(e), 0);
	if (rc < IOMMUSIM_SCRIPT_OK || rc > IOMMUSIM_SCRIPT_ERROR ||
	    (rc == IOMMUSIM_SCRIPT_OK) != !elen)
		fail_msg("seed %#llx case %u: status %d, messages:\n%s\nscript:\n%s",
			 (unsigned long long)seed, i, rc, err, text);
	for (line = err; line && *line; line = strchr(line, '\n') + 1)
		if (strncmp(line, "fz:", 3) || !strchr(line, '\n'))
			fail_msg("seed %#llx case %u: message without NAME:LINE: %s",
				 (unsigned long long)seed, i, line);
	free(err);
}

static void
test_script_fuzz_random(void **state)
{
	uint64_t seed = test_seed(DEFAULT_SEED), rng = seed;
	unsigned i;

	(void)state;
	print_message("seed %#llx (IOMMUSIM_TEST_SEED)\n", (unsigned long long)seed);
	for (i = 0; i < 1500; i++) {
		char *t = random_script(&rng);

		fuzz_one(t, seed, i);
		free(t);
	}
}

static void
test_script_fuzz_mutated(void **state)
{
	uint64_t seed = test_seed(DEFAULT_SEED) ^ 0xabc, rng = seed;
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++)
		assert_int_equal(iommusim_script_run_string(corpus[i], NULL, NULL, NULL, NULL),
				 IOMMUSIM_SCRIPT_OK);
	for (i = 0; i < 2000; i++) {
		char *t = mutate(&rng, PICK(&rng, corpus));

		fuzz_one(t, seed, i);
		free(t);
	}
}

static void
test_script_fuzz_walk(void **state)
{
	uint64_t seed = test_seed(DEFAULT_SEED) ^ 0x3a1c, rng = seed;
	unsigned i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		char *t = walk_script(&rng);

		/* now and then, one mutation on top */
		if (!(test_splitmix64(&rng) % 5)) {
			char *m = mutate(&rng, t);

			free(t);
			t = m;
		}
		fuzz_one(t, seed, i);
		free(t);
	}
}

/*
 * A value the platform statement's rows accept is one the script runs with
 * (keys.h): every script and profile row at its bounds and at random values
 * that keep its rules, under a lazy and a legacy domain.
 */
static void
test_script_runs_every_value_its_platform_keys_accept(void **state)
{
	uint64_t rng = test_seed(0x706c6174);
	const struct iommusim_key *k;
	size_t i, ntried = 0;

	(void)state;
	for (i = 0; (k = iommusim_key_at(i)); i++) {
		uint64_t bounds[5];
		size_t j;

		if (!(k->scope & (IOMMUSIM_KEY_SCRIPT | IOMMUSIM_KEY_PROFILE)) ||
		    k->type == IOMMUSIM_KEY_REAL || k->type == IOMMUSIM_KEY_ENUM ||
		    k->type == IOMMUSIM_KEY_BOOL)
			continue;
		bounds[0] = k->min;
		bounds[1] = k->max;
		for (j = 2; j < 5; j++) {
			uint64_t r = test_splitmix64(&rng) >> (test_splitmix64(&rng) % 64);

			bounds[j] = r < k->min ? k->min : r > k->max ? k->max : r;
		}
		for (j = 0; j < 5; j++) {
			struct iommusim_key_value v = { .u = bounds[j] };
			const char *pol = j % 2 ? "legacy" : "lazy-percpu";
			char text[512], val[40];
			struct cap c;

			if (k->multiple > 1)
				v.u = v.u / k->multiple * k->multiple;
			if (v.u < k->min)
				v.u += k->multiple;
			assert_int_equal(iommusim_key_format(k, &v, val, sizeof(val)), 0);
			snprintf(text, sizeof(text),
				 "platform kvm %s=%s\nfunction f1\ndomain d1 policy=%s devices=f1\n"
				 "map h d1 size=4k\nunmap h\n%s",
				 k->name, val, pol, j % 2 ? "" : "flush d1\n");
			run(&c, text);
			/* A refusal is status 2. Status 1, a map the model failed
			 * (a one-page window, a one-entry shadow), is its answer.
			 * The one refusal allowed: cost sums beyond 64 bits, at the
			 * statement where they overflow. */
			if (c.rc == 2 && !(!strcmp(k->unit, "cycles") &&
					   strstr(c.err, ": the costs overflow 64-bit")))
				fail_msg("%s=%s (%s): accepted, then status %d:\n%s", k->name, val,
					 pol, c.rc, c.err);
			cap_free(&c);
			ntried++;
		}
	}
	assert_true(ntried >= 100);
}

/* --check: the first pass only. A script whose expectation would fail, or
 * whose names are never declared, checks; a syntax error does not. */
static void
test_script_check_parses_without_running(void **state)
{
	char *buf = NULL, path[] = "/tmp/iommusim-check-XXXXXX";
	size_t len = 0;
	FILE *err = open_memstream(&buf, &len);
	int fd;

	(void)state;
	assert_non_null(err);
	assert_int_equal(iommusim_script_check_string(LPAR1 "expect time == 5s\n", "c.sim", err),
			 IOMMUSIM_SCRIPT_OK);
	assert_int_equal(iommusim_script_check_string("unmap nosuch\n", "c.sim", err),
			 IOMMUSIM_SCRIPT_OK);
	fflush(err);
	assert_int_equal(len, 0);
	assert_int_equal(iommusim_script_check_string("platform kvm hz=100001\n", "c.sim", err),
			 IOMMUSIM_SCRIPT_ERROR);
	assert_int_equal(iommusim_script_check_string("repeat 3\necho x\n", "c.sim", err),
			 IOMMUSIM_SCRIPT_ERROR);
	assert_int_equal(iommusim_script_check_string(NULL, "c.sim", err), IOMMUSIM_SCRIPT_ERROR);
	fflush(err);
	assert_non_null(strstr(buf, "c.sim:1: bad value '100001' for hz"));
	/* files: as run_file reads them */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "mapp x\n", 7), 7);
	close(fd);
	assert_int_equal(iommusim_script_check_file(path, err), IOMMUSIM_SCRIPT_ERROR);
	assert_int_equal(iommusim_script_check_file("/nonexistent/x.sim", err),
			 IOMMUSIM_SCRIPT_ERROR);
	fflush(err);
	assert_non_null(strstr(buf, ":1: unknown statement 'mapp'"));
	assert_non_null(strstr(buf, "/nonexistent/x.sim: cannot open"));
	unlink(path);
	fclose(err);
	free(buf);
}

struct hook_log {
	char text[8][64];
	int64_t iter[8];
	bool passed[8];
	unsigned line[8], n, stops;
	char stopped[128];
};

static void
log_expectation(void *priv, const struct iommusim_script_expectation *e)
{
	struct hook_log *h = priv;

	if (h->n < 8) {
		snprintf(h->text[h->n], sizeof(h->text[0]), "%s", e->text);
		h->iter[h->n] = e->iteration;
		h->passed[h->n] = e->passed;
		h->line[h->n] = e->line;
		assert_true(e->passed == !e->message[0]);
	}
	h->n++;
}

static void
log_stopped(void *priv, const char *message)
{
	struct hook_log *h = priv;

	h->stops++;
	snprintf(h->stopped, sizeof(h->stopped), "%s", message);
}

/* The hooks see every expectation, every iteration, and what stopped a script. */
static void
test_script_hooks_see_each_expectation_and_the_stop(void **state)
{
	struct hook_log h;
	const struct iommusim_script_hooks hooks = { .expectation = log_expectation,
						     .stopped = log_stopped,
						     .priv = &h };
	struct iommusim_script_summary sum;

	(void)state;
	memset(&h, 0, sizeof(h));
	assert_int_equal(iommusim_script_run_string_hooks(
				 LPAR1 "repeat 2\n  expect time == 0\nend\nexpect d1.maps == 1\n"
				       "unmap nosuch\n",
				 "h.sim", NULL, NULL, &hooks, &sum),
			 IOMMUSIM_SCRIPT_ERROR);
	assert_int_equal(h.n, 3);
	assert_int_equal(sum.expectations, 3);
	assert_string_equal(h.text[0], "time == 0");
	assert_int_equal(h.iter[0], 0);
	assert_int_equal(h.iter[1], 1);
	assert_int_equal(h.line[1], 5);
	assert_true(h.passed[0] && h.passed[1]);
	assert_string_equal(h.text[2], "d1.maps == 1");
	assert_false(h.passed[2]);
	assert_int_equal(h.iter[2], -1);
	assert_int_equal(h.stops, 1);
	assert_string_equal(h.stopped, "h.sim:8: unknown handle 'nosuch'");
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_script_platform_kvm_qemu71_by_name),
		cmocka_unit_test(test_script_tv14_per_cpu_flush_counts),
		cmocka_unit_test(test_script_single_queue_under_kvm),
		cmocka_unit_test(test_script_policies_and_overrides),
		cmocka_unit_test(test_script_strict_unmap_ranged_rpcit),
		cmocka_unit_test(test_script_ism_policy_and_forced_fq),
		cmocka_unit_test(test_script_kvm_status16_and_recovery),
		cmocka_unit_test(test_script_legacy_tv28),
		cmocka_unit_test(test_script_print_debugfs_format),
		cmocka_unit_test(test_script_boot_line_decides_kernel_policy_domains),
		cmocka_unit_test(test_script_identity_domain_is_dma_direct),
		cmocka_unit_test(test_script_several_platforms),
		cmocka_unit_test(test_script_time_and_units),
		cmocka_unit_test(test_script_repeat_and_substitution),
		cmocka_unit_test(test_script_syntax_errors_stop_before_running),
		cmocka_unit_test(test_script_error_messages),
		cmocka_unit_test(test_script_check_parses_without_running),
		cmocka_unit_test(test_script_hooks_see_each_expectation_and_the_stop),
		cmocka_unit_test(test_script_runs_every_value_its_platform_keys_accept),
		cmocka_unit_test(test_script_limits),
		cmocka_unit_test(test_script_steps_budget),
		cmocka_unit_test(test_script_run_file),
		cmocka_unit_test(test_script_allocation_failures),
		cmocka_unit_test(test_script_allocation_failures_in_examples),
		cmocka_unit_test(test_script_fuzz_random),
		cmocka_unit_test(test_script_fuzz_mutated),
		cmocka_unit_test(test_script_fuzz_walk),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("script", tests, NULL, NULL);
}
