/* SPDX-License-Identifier: MIT */
/*
 * Tests of the job keys and job files (lib/job.c): every key and unit, every
 * error message with its FILE:LINE, [global] and [platform], comments, line
 * endings, long lines, files on disk, and random and mutated input.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/job.h>
#include <iommusim/keys.h>
#include <iommusim/platform.h>
#include <iommusim/run.h>

#include "base/mem_int.h"
#include "test_common.h"

#define KIB UINT64_C(1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define TIB (GIB * 1024)
#define U64MAX "18446744073709551615"

/* ------------------------------------------------------------------------ */
/* Helpers */

/* The job field a key sets, as the test reads it (not the library's table). */
static uint64_t
field(const struct iommusim_job *j, const char *key)
{
	if (!strcmp(key, "rw"))
		return (uint64_t)j->rw;
	if (!strcmp(key, "rwmixread"))
		return j->rwmixread;
	if (!strcmp(key, "bs"))
		return j->bs;
	if (!strcmp(key, "iodepth"))
		return j->iodepth;
	if (!strcmp(key, "numjobs"))
		return j->numjobs;
	if (!strcmp(key, "cpus"))
		return j->cpus;
	if (!strcmp(key, "runtime"))
		return j->runtime_ns;
	if (!strcmp(key, "size"))
		return j->size;
	if (!strcmp(key, "randseed"))
		return j->randseed;
	if (!strcmp(key, "workload"))
		return (uint64_t)j->workload;
	if (!strcmp(key, "dev_latency"))
		return j->dev_latency_ns;
	if (!strcmp(key, "dev_bandwidth"))
		return j->dev_bandwidth;
	if (!strcmp(key, "dev_slots"))
		return j->dev_slots;
	if (!strcmp(key, "io_base_cycles"))
		return j->io_base_cycles;
	if (!strcmp(key, "sg_segments"))
		return j->sg_segments;
	if (!strcmp(key, "ism_dmbs"))
		return j->ism_dmbs;
	if (!strcmp(key, "ism_dmb_size"))
		return j->ism_dmb_size;
	if (!strcmp(key, "memory"))
		return j->memory;
	if (!strcmp(key, "s390_iommu_aperture"))
		return j->s390_iommu_aperture;
	fail_msg("no field for key '%s'", key);
	return 0;
}

static const char *const all_keys[] = {
	"rw",
	"rwmixread",
	"bs",
	"iodepth",
	"numjobs",
	"cpus",
	"runtime",
	"size",
	"randseed",
	"workload",
	"dev_latency",
	"dev_bandwidth",
	"dev_slots",
	"io_base_cycles",
	"sg_segments",
	"ism_dmbs",
	"ism_dmb_size",
	"memory",
	"s390_iommu_aperture",
};

static int
parse(const char *text, struct iommusim_jobfile *jf, char *err, size_t err_len)
{
	return iommusim_jobfile_parse_string(text, "t.fio", jf, err, err_len);
}

static void
parse_ok(const char *text, struct iommusim_jobfile *jf)
{
	char err[256] = "";
	int ret = parse(text, jf, err, sizeof(err));

	if (ret)
		fail_msg("parse failed (%d): %s\n--- text:\n%s", ret, err, text);
}

static void
expect_error(const char *text, const char *msg)
{
	struct iommusim_jobfile jf;
	char err[256] = "";
	int ret = parse(text, &jf, err, sizeof(err));

	if (ret != -EINVAL || strcmp(err, msg))
		fail_msg("got %d '%s', wanted -EINVAL '%s'\n--- text:\n%s", ret, err, msg, text);
}

static char tmpdir[256];

static int
setup_tmpdir(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_job.XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int
teardown_tmpdir(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* ------------------------------------------------------------------------ */
/* Defaults and policy names */

static void
test_job_defaults(void **state)
{
	struct iommusim_job j;

	(void)state;
	memset(&j, 0xA5, sizeof(j));
	iommusim_job_defaults(&j);
	assert_string_equal(j.name, "job");
	assert_int_equal(j.workload, IOMMUSIM_WL_BLOCK);
	assert_int_equal(j.rw, IOMMUSIM_RW_READ);
	assert_int_equal(j.rwmixread, 50);
	assert_int_equal(j.bs, 4096);
	assert_int_equal(j.iodepth, 1);
	assert_int_equal(j.numjobs, 1);
	assert_int_equal(j.cpus, 0); /* numjobs, resolved by iommusim_run() */
	assert_int_equal(j.runtime_ns, UINT64_C(1000000000));
	assert_int_equal(j.size, 0);
	assert_int_equal(j.randseed, 0);
	assert_int_equal(j.dev_latency_ns, 10000);
	assert_int_equal(j.dev_bandwidth, UINT64_C(3200000000));
	assert_int_equal(j.dev_slots, 128);
	assert_int_equal(j.io_base_cycles, 20000);
	assert_int_equal(j.sg_segments, 1);
	assert_int_equal(j.ism_dmbs, 4);
	assert_int_equal(j.ism_dmb_size, MIB);
	assert_int_equal(j.memory, 16 * GIB);
	assert_int_equal(j.s390_iommu_aperture, 1);
	iommusim_job_defaults(NULL); /* no crash */
}

static void
test_job_policy_names_round_trip(void **state)
{
	static const char *const names[] = { "kernel",	    "strict", "lazy-percpu",
					     "lazy-single", "legacy", "legacy-strict" };
	enum iommusim_policy_kind k;
	unsigned i;

	(void)state;
	for (i = 0; i < 6; i++) {
		assert_string_equal(iommusim_policy_name((enum iommusim_policy_kind)i), names[i]);
		k = (enum iommusim_policy_kind)99;
		assert_int_equal(iommusim_policy_parse(names[i], &k), 0);
		assert_int_equal(k, i);
		assert_int_equal(iommusim_policy_parse(iommusim_policy_name(k), &k), 0);
		assert_int_equal(k, i);
	}
	assert_int_equal(IOMMUSIM_POLICY_LAZY_SINGLE, 3);
	assert_int_equal(iommusim_policy_parse("LAZY-Single", &k), 0);
	assert_int_equal(k, IOMMUSIM_POLICY_LAZY_SINGLE);
	k = IOMMUSIM_POLICY_STRICT;
	assert_int_equal(iommusim_policy_parse("lazy", &k), -EINVAL);
	assert_int_equal(iommusim_policy_parse("", &k), -EINVAL);
	assert_int_equal(iommusim_policy_parse("lazy_single", &k), -EINVAL);
	assert_int_equal(iommusim_policy_parse("strict ", &k), -EINVAL);
	assert_int_equal(k, IOMMUSIM_POLICY_STRICT); /* unchanged */
	assert_int_equal(iommusim_policy_parse(NULL, &k), -EINVAL);
	assert_int_equal(iommusim_policy_parse("strict", NULL), -EINVAL);
	assert_string_equal(iommusim_policy_name((enum iommusim_policy_kind)6), "unknown");
	assert_string_equal(iommusim_policy_name((enum iommusim_policy_kind) - 1), "unknown");
}

/* ------------------------------------------------------------------------ */
/* iommusim_job_set */

static const struct good {
	const char *key, *value;
	uint64_t want;
} goods[] = {
	{ "rw", "read", IOMMUSIM_RW_READ },
	{ "rw", "write", IOMMUSIM_RW_WRITE },
	{ "rw", "randread", IOMMUSIM_RW_RANDREAD },
	{ "rw", "randwrite", IOMMUSIM_RW_RANDWRITE },
	{ "rw", "rw", IOMMUSIM_RW_RW },
	{ "rw", "readwrite", IOMMUSIM_RW_RW },
	{ "rw", "randrw", IOMMUSIM_RW_RANDRW },
	{ "rw", "RandRead", IOMMUSIM_RW_RANDREAD },
	{ "rwmixread", "0", 0 },
	{ "rwmixread", "70", 70 },
	{ "rwmixread", "100", 100 },
	{ "bs", "1", 1 },
	{ "bs", "512", 512 },
	{ "bs", "512b", 512 },
	{ "bs", "4096B", 4096 },
	{ "bs", "4k", 4 * KIB },
	{ "bs", "4K", 4 * KIB },
	{ "bs", "4kb", 4 * KIB },
	{ "bs", "4KB", 4 * KIB },
	{ "bs", "4KiB", 4 * KIB },
	{ "bs", "4kib", 4 * KIB },
	{ "bs", "64k", 64 * KIB },
	{ "bs", "1m", MIB },
	{ "bs", "1M", MIB },
	{ "bs", "1mb", MIB },
	{ "bs", "1MiB", MIB },
	{ "bs", "1g", GIB },
	{ "bs", "1G", GIB },
	{ "bs", "1GB", GIB },
	{ "bs", "1GiB", GIB },
	{ "bs", "1024m", GIB },
	{ "bs", "1.5k", 1536 },
	{ "bs", "0.5m", 512 * KIB },
	{ "bs", ".5k", 512 },
	{ "bs", "2.0k", 2048 },
	{ "bs", "0x1000", 4096 },
	{ "bs", "4_096", 4096 },
	{ "bs", "1.000k", 1024 },
	{ "bs", "004k", 4096 },
	{ "bs", "4e3", 4000 },
	{ "iodepth", "1", 1 },
	{ "iodepth", "32", 32 },
	{ "iodepth", "65536", 65536 },
	{ "iodepth", "32.0", 32 },
	{ "iodepth", "3.2e1", 32 },
	{ "iodepth", "0x20", 32 },
	{ "numjobs", "1", 1 },
	{ "numjobs", "4096", 4096 },
	{ "cpus", "1", 1 },
	{ "cpus", "4096", 4096 },
	{ "runtime", "2", UINT64_C(2000000000) },
	{ "runtime", "1.5", UINT64_C(1500000000) },
	{ "runtime", "2s", UINT64_C(2000000000) },
	{ "runtime", "2S", UINT64_C(2000000000) },
	{ "runtime", "2sec", UINT64_C(2000000000) },
	{ "runtime", "500ms", UINT64_C(500000000) },
	{ "runtime", "500MS", UINT64_C(500000000) },
	{ "runtime", "500msec", UINT64_C(500000000) },
	{ "runtime", "100us", 100000 },
	{ "runtime", "100usec", 100000 },
	{ "runtime", "10ns", 10 },
	{ "runtime", "10nsec", 10 },
	{ "runtime", "1ns", 1 },
	{ "runtime", "0.25ms", 250000 },
	{ "runtime", "18446744073s", UINT64_C(18446744073000000000) },
	{ "size", "0", 0 },
	{ "size", "4096", 4096 },
	{ "size", "64m", 64 * MIB },
	{ "size", "1g", GIB },
	{ "size", "16g", 16 * GIB },
	{ "size", U64MAX, UINT64_MAX },
	{ "randseed", "0", 0 },
	{ "randseed", "42", 42 },
	{ "randseed", U64MAX, UINT64_MAX },
	{ "workload", "block", IOMMUSIM_WL_BLOCK },
	{ "workload", "net", IOMMUSIM_WL_NET },
	{ "workload", "ism", IOMMUSIM_WL_ISM },
	{ "workload", "ISM", IOMMUSIM_WL_ISM },
	{ "dev_latency", "10us", 10000 },
	{ "dev_latency", "1.5us", 1500 },
	{ "dev_latency", "2ms", 2000000 },
	{ "dev_latency", "1s", UINT64_C(1000000000) },
	{ "dev_latency", "500", 500 },
	{ "dev_latency", "500ns", 500 },
	{ "dev_latency", "0", 0 },
	{ "dev_bandwidth", "3.2e9", UINT64_C(3200000000) },
	{ "dev_bandwidth", "3.2E+9", UINT64_C(3200000000) },
	{ "dev_bandwidth", "32e8", UINT64_C(3200000000) },
	{ "dev_bandwidth", "1e3", 1000 },
	{ "dev_bandwidth", "1", 1 },
	{ "dev_bandwidth", "3200m", 3200 * MIB },
	{ "dev_bandwidth", "2g", 2 * GIB },
	{ "dev_bandwidth", "2.5k", 2560 },
	{ "dev_slots", "1", 1 },
	{ "dev_slots", "4096", 4096 },
	{ "io_base_cycles", "0", 0 },
	{ "io_base_cycles", "20000", 20000 },
	{ "io_base_cycles", U64MAX, UINT64_MAX },
	{ "sg_segments", "1", 1 },
	{ "sg_segments", "1024", 1024 },
	{ "ism_dmbs", "0", 0 },
	{ "ism_dmbs", "64", 64 },
	{ "ism_dmb_size", "1", 1 },
	{ "ism_dmb_size", "64k", 64 * KIB },
	{ "ism_dmb_size", "1m", MIB },
	{ "ism_dmb_size", "128m", 128 * MIB },
	{ "memory", "64m", 64 * MIB },
	{ "memory", "65536k", 64 * MIB },
	{ "memory", "2g", 2 * GIB },
	{ "memory", "1.5g", 3 * GIB / 2 },
	{ "memory", "16g", 16 * GIB },
	{ "memory", "4t", 4 * TIB },
	{ "memory", "4096g", 4 * TIB },
	{ "s390_iommu_aperture", "0", 0 },
	{ "s390_iommu_aperture", "1", 1 },
	{ "s390_iommu_aperture", "2", 2 },
	{ "s390_iommu_aperture", "1024", 1024 },
	{ "s390_iommu_aperture", "4294967295", 4294967295u },
};

static void
test_job_set_every_key_and_suffix(void **state)
{
	bool seen[sizeof(all_keys) / sizeof(all_keys[0])] = { false };
	struct iommusim_job j;
	char err[256];
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];

		iommusim_job_defaults(&j);
		err[0] = '\0';
		if (iommusim_job_set(&j, g->key, g->value, err, sizeof(err)))
			fail_msg("%s=%s: %s", g->key, g->value, err);
		if (field(&j, g->key) != g->want)
			fail_msg("%s=%s gave %" PRIu64 ", wanted %" PRIu64, g->key, g->value,
				 field(&j, g->key), g->want);
		for (k = 0; k < sizeof(all_keys) / sizeof(all_keys[0]); k++)
			if (!strcmp(all_keys[k], g->key))
				seen[k] = true;
	}
	for (k = 0; k < sizeof(all_keys) / sizeof(all_keys[0]); k++)
		if (!seen[k])
			fail_msg("key %s not tested", all_keys[k]);
}

static const struct bad {
	const char *key, *value, *msg;
} bads[] = {
	{ "iodepth", "fast", "bad value 'fast' for iodepth (a number from 1 to 65536)" },
	{ "iodepth", "0", "bad value '0' for iodepth (a number from 1 to 65536)" },
	{ "iodepth", "65537", "bad value '65537' for iodepth (a number from 1 to 65536)" },
	{ "iodepth", "-1", "bad value '-1' for iodepth (a number from 1 to 65536)" },
	{ "iodepth", "+1", "bad value '+1' for iodepth (a number from 1 to 65536)" },
	{ "iodepth", "", "bad value '' for iodepth (a number from 1 to 65536)" },
	{ "iodepth", "1k", "bad value '1k' for iodepth (a number from 1 to 65536)" },
	{ "iodepth", "32.5", "bad value '32.5' for iodepth (a number from 1 to 65536)" },
	{ "iodepth", "3_", "bad value '3_' for iodepth (a number from 1 to 65536)" },
	{ "iodepth", " 1", "bad value ' 1' for iodepth (a number from 1 to 65536)" },
	{ "iodepth", "18446744073709551617",
	  "bad value '18446744073709551617' for iodepth (a number from 1 to 65536)" },
	{ "numjobs", "4097", "bad value '4097' for numjobs (a number from 1 to 4096)" },
	{ "numjobs", "0", "bad value '0' for numjobs (a number from 1 to 4096)" },
	{ "cpus", "0", "bad value '0' for cpus (a number from 1 to 4096)" },
	{ "cpus", "4097", "bad value '4097' for cpus (a number from 1 to 4096)" },
	{ "rwmixread", "101", "bad value '101' for rwmixread (a number from 0 to 100)" },
	{ "rw", "trim",
	  "bad value 'trim' for rw (read, write, randread, randwrite, rw or randrw)" },
	{ "rw", "", "bad value '' for rw (read, write, randread, randwrite, rw or randrw)" },
	{ "rw", "read ",
	  "bad value 'read ' for rw (read, write, randread, randwrite, rw or randrw)" },
	{ "workload", "disk", "bad value 'disk' for workload (block, net or ism)" },
	{ "bs", "0", "bad value '0' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", "2g", "bad value '2g' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", "1025m", "bad value '1025m' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", "1.3k", "bad value '1.3k' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", "0.5", "bad value '0.5' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", "4x", "bad value '4x' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", "4kk", "bad value '4kk' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", "4t", "bad value '4t' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", "k", "bad value 'k' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", ".", "bad value '.' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", ".k", "bad value '.k' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", "4 k", "bad value '4 k' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", "-4k", "bad value '-4k' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", "1e", "bad value '1e' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", "1e+", "bad value '1e+' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", "4ms", "bad value '4ms' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", "0x1k", "bad value '0x1k' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "bs", "2.k", "bad value '2.k' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
	{ "size", "99999999999999999999k",
	  "bad value '99999999999999999999k' for size (a size: 0 (no limit), 4096, 64m, 1g)" },
	{ "size", "18446744073709551616",
	  "bad value '18446744073709551616' for size (a size: 0 (no limit), 4096, 64m, 1g)" },
	{ "size", "16777216t",
	  "bad value '16777216t' for size (a size: 0 (no limit), 4096, 64m, 1g)" },
	{ "size", "1e20", "bad value '1e20' for size (a size: 0 (no limit), 4096, 64m, 1g)" },
	{ "size", "1e99999999999",
	  "bad value '1e99999999999' for size (a size: 0 (no limit), 4096, "
	  "64m, 1g)" },
	{ "runtime", "0",
	  "bad value '0' for runtime (a time above 0: 2s, 500ms, 100us; no unit means seconds)" },
	{ "runtime", "0ms",
	  "bad value '0ms' for runtime (a time above 0: 2s, 500ms, 100us; no unit means seconds)" },
	{ "runtime", "1h",
	  "bad value '1h' for runtime (a time above 0: 2s, 500ms, 100us; no unit means seconds)" },
	{ "runtime", "1.5ns",
	  "bad value '1.5ns' for runtime (a time above 0: 2s, 500ms, 100us; no unit means seconds)" },
	{ "runtime", "1e-10",
	  "bad value '1e-10' for runtime (a time above 0: 2s, 500ms, 100us; no unit means seconds)" },
	{ "runtime", "18446744074s",
	  "bad value '18446744074s' for runtime (a time above 0: 2s, "
	  "500ms, 100us; no unit means seconds)" },
	{ "runtime", "2k",
	  "bad value '2k' for runtime (a time above 0: 2s, 500ms, 100us; no unit means seconds)" },
	{ "dev_latency", "fast",
	  "bad value 'fast' for dev_latency (a time: 10us, 2ms; no unit means "
	  "ns)" },
	{ "dev_latency", "0.5",
	  "bad value '0.5' for dev_latency (a time: 10us, 2ms; no unit means "
	  "ns)" },
	{ "dev_bandwidth", "0",
	  "bad value '0' for dev_bandwidth (bytes per second, at least 1: 3.2e9, 3200m, 2g)" },
	{ "dev_bandwidth", "0.5",
	  "bad value '0.5' for dev_bandwidth (bytes per second, at least 1: 3.2e9, 3200m, 2g)" },
	{ "dev_bandwidth", "1e-1k",
	  "bad value '1e-1k' for dev_bandwidth (bytes per second, at least 1: 3.2e9, 3200m, 2g)" },
	{ "dev_slots", "0", "bad value '0' for dev_slots (a number from 1 to 4096)" },
	/* the engine's most server slots: accepted here means accepted there */
	{ "dev_slots", "4097", "bad value '4097' for dev_slots (a number from 1 to 4096)" },
	{ "io_base_cycles", "20k",
	  "bad value '20k' for io_base_cycles (a number of cycles from 0 to 2^64-1)" },
	{ "randseed", "-1", "bad value '-1' for randseed (a number from 0 to 2^64-1)" },
	{ "sg_segments", "0", "bad value '0' for sg_segments (a number from 1 to 1024)" },
	{ "sg_segments", "1025", "bad value '1025' for sg_segments (a number from 1 to 1024)" },
	{ "ism_dmbs", "65", "bad value '65' for ism_dmbs (a number from 0 to 64)" },
	{ "ism_dmb_size", "0", "bad value '0' for ism_dmb_size (a size from 1 to 128m: 64k, 1m)" },
	{ "ism_dmb_size", "129m",
	  "bad value '129m' for ism_dmb_size (a size from 1 to 128m: 64k, 1m)" },
	{ "memory", "63m",
	  "bad value '63m' for memory (a multiple of 4k from 64m to 4t: 16g, 2g)" },
	{ "memory", "67108863",
	  "bad value '67108863' for memory (a multiple of 4k from 64m to 4t: 16g, 2g)" },
	{ "memory", "0", "bad value '0' for memory (a multiple of 4k from 64m to 4t: 16g, 2g)" },
	{ "memory", "4097g",
	  "bad value '4097g' for memory (a multiple of 4k from 64m to 4t: 16g, 2g)" },
	{ "memory", "4398046511105",
	  "bad value '4398046511105' for memory (a multiple of 4k from 64m to 4t: 16g, 2g)" },
	{ "memory", "-2g",
	  "bad value '-2g' for memory (a multiple of 4k from 64m to 4t: 16g, 2g)" },
	{ "memory", "lots",
	  "bad value 'lots' for memory (a multiple of 4k from 64m to 4t: 16g, 2g)" },
	/* Not a multiple of 4k: refused here, not only by the run (check_job). */
	{ "memory", "67108865",
	  "bad value '67108865' for memory (a multiple of 4k from 64m to 4t: 16g, 2g)" },
	{ "memory", "17179871232",
	  "bad value '17179871232' for memory (a multiple of 4k from 64m to 4t: 16g, 2g)" },
	{ "s390_iommu_aperture", "4294967296",
	  "bad value '4294967296' for s390_iommu_aperture (a factor of memory from 0 (no limit) to 2^32-1)" },
	{ "s390_iommu_aperture", "-1",
	  "bad value '-1' for s390_iommu_aperture (a factor of memory from 0 (no limit) to 2^32-1)" },
	{ "s390_iommu_aperture", "1k",
	  "bad value '1k' for s390_iommu_aperture (a factor of memory from 0 (no limit) to 2^32-1)" },
	{ "s390_iommu_aperture", "1.5",
	  "bad value '1.5' for s390_iommu_aperture (a factor of memory from 0 (no limit) to 2^32-1)" },
	/* what messages show of a value */
	{ "bs", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	  "bad value 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' for bs (a size from 1 to 1g: 512, "
	  "4k, 64KiB, 1m)" },
	{ "rw", "a\tb\x1b[0m",
	  "bad value 'a?b?[0m' for rw (read, write, randread, randwrite, rw or "
	  "randrw)" },
	{ "workload", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\xc2\xb5x",
	  "bad value 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' for workload (block, net or ism)" },
};

static void
test_job_set_bad_values(void **state)
{
	struct iommusim_job j, before;
	char err[512];
	size_t i;

	(void)state;
	iommusim_job_defaults(&j);
	assert_int_equal(iommusim_job_set(&j, "bs", "64k", NULL, 0), 0);
	before = j;
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const struct bad *b = &bads[i];
		int ret;

		err[0] = '\0';
		ret = iommusim_job_set(&j, b->key, b->value, err, sizeof(err));
		if (ret != -EINVAL || strcmp(err, b->msg))
			fail_msg("%s=%s: got %d '%s', wanted '%s'", b->key, b->value, ret, err,
				 b->msg);
		assert_memory_equal(&j, &before, sizeof(j)); /* nothing changed */
	}
}

/* The flush-queue keys: one function for job files, --set, --fq-* and scripts. */
static void
test_job_policy_set_queue_keys(void **state)
{
	struct iommusim_policy p = { 0 }, before;
	char err[160];

	assert_int_equal(iommusim_policy_set(&p, "fq_size", "1024", err, sizeof(err)), 0);
	assert_int_equal(p.fq_size, 1024);
	assert_int_equal(iommusim_policy_set(&p, "fq_size", "0x10_0000", err, sizeof(err)), 0);
	assert_int_equal(p.fq_size, 1 << 20);
	assert_int_equal(iommusim_policy_set(&p, "fq_timeout", "10", err, sizeof(err)), 0);
	assert_int_equal(p.fq_timeout_ms, 10);
	assert_int_equal(iommusim_policy_set(&p, "fq_timeout", "2000us", err, sizeof(err)), 0);
	assert_int_equal(p.fq_timeout_ms, 2);
	assert_int_equal(iommusim_policy_set(&p, "fq_timeout", "1.5s", err, sizeof(err)), 0);
	assert_int_equal(p.fq_timeout_ms, 1500);
	assert_int_equal(iommusim_policy_set(&p, "ism_force_fq", "Yes", err, sizeof(err)), 0);
	assert_true(p.ism_force_fq);
	assert_int_equal(iommusim_policy_set(&p, "ism_force_fq", "off", err, sizeof(err)), 0);
	assert_false(p.ism_force_fq);
	before = p;
	assert_int_equal(iommusim_policy_set(&p, "fq_size", "1000", err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "bad value '1000' for fq_size (a power of two from 2 to 16777216)");
	assert_int_equal(iommusim_policy_set(&p, "fq_size", "1", err, sizeof(err)), -EINVAL);
	assert_int_equal(iommusim_policy_set(&p, "fq_size", "33554432", err, sizeof(err)), -EINVAL);
	assert_int_equal(iommusim_policy_set(&p, "fq_timeout", "1.5ms", err, sizeof(err)), -EINVAL);
	assert_int_equal(iommusim_policy_set(&p, "fq_timeout", "0", err, sizeof(err)), -EINVAL);
	assert_int_equal(iommusim_policy_set(&p, "fq_timeout", "4294967296", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(iommusim_policy_set(&p, "fq_timeout", " 10", err, sizeof(err)), -EINVAL);
	assert_int_equal(iommusim_policy_set(&p, "ism_force_fq", "2", err, sizeof(err)), -EINVAL);
	assert_memory_equal(&p, &before, sizeof(p));
	err[0] = 'x';
	err[1] = '\0';
	assert_int_equal(iommusim_policy_set(&p, "policy", "strict", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "x");
	assert_int_equal(iommusim_policy_set(NULL, "fq_size", "2", err, sizeof(err)), -EINVAL);
	assert_int_equal(iommusim_policy_set(&p, NULL, "2", err, sizeof(err)), -EINVAL);
	assert_int_equal(iommusim_policy_set(&p, "fq_size", NULL, err, sizeof(err)), -EINVAL);
}

static void
test_job_set_unknown_key_and_bad_args(void **state)
{
	struct iommusim_job j, before;
	char err[128] = "";

	(void)state;
	iommusim_job_defaults(&j);
	before = j;
	assert_int_equal(iommusim_job_set(&j, "bss", "4k", err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "unknown key 'bss'");
	assert_int_equal(iommusim_job_set(&j, "BS", "4k", err, sizeof(err)), -ENOENT);
	assert_int_equal(iommusim_job_set(&j, "name", "x", err, sizeof(err)), -ENOENT);
	assert_int_equal(iommusim_job_set(&j, "platform", "kvm", err, sizeof(err)), -ENOENT);
	assert_int_equal(iommusim_job_set(&j, "", "4k", err, sizeof(err)), -ENOENT);
	assert_memory_equal(&j, &before, sizeof(j));
	assert_int_equal(iommusim_job_set(NULL, "bs", "4k", err, sizeof(err)), -EINVAL);
	assert_int_equal(iommusim_job_set(&j, NULL, "4k", err, sizeof(err)), -EINVAL);
	assert_int_equal(iommusim_job_set(&j, "bs", NULL, err, sizeof(err)), -EINVAL);
	/* a message that does not fit is cut, not overrun */
	memset(err, 'Z', sizeof(err));
	assert_int_equal(iommusim_job_set(&j, "iodepth", "fast", err, 8), -EINVAL);
	assert_string_equal(err, "bad val");
	assert_int_equal(err[8], 'Z');
	assert_int_equal(iommusim_job_set(&j, "iodepth", "fast", NULL, 100), -EINVAL);
	assert_int_equal(iommusim_job_set(&j, "iodepth", "fast", err, 0), -EINVAL);
}

/* ------------------------------------------------------------------------ */
/* Job files */

/* job.h's example, verbatim. */
static const char example[] = "; 4 KiB random reads on an NVMe-like device under KVM\n"
			      "[global]\n"
			      "platform=kvm\n"
			      "policy=lazy-single      ; kernel, strict, lazy-percpu, lazy-single, "
			      "legacy, legacy-strict\n"
			      "fq_size=32768\n"
			      "fq_timeout=1000ms\n"
			      "seed=42\n"
			      "\n"
			      "[randread]\n"
			      "rw=randread\n"
			      "bs=4k\n"
			      "iodepth=32\n"
			      "numjobs=4\n"
			      "runtime=2s\n"
			      "dev_latency=10us\n"
			      "\n"
			      "[platform]              ; overrides of the profile's keys (iommusim "
			      "profile show kvm)\n"
			      "shadow_limit=65535\n";

static void
test_jobfile_header_example(void **state)
{
	struct iommusim_jobfile jf;
	struct iommusim_job d;

	(void)state;
	parse_ok(example, &jf);
	iommusim_job_defaults(&d);
	assert_string_equal(jf.job.name, "randread");
	assert_int_equal(jf.job.rw, IOMMUSIM_RW_RANDREAD);
	assert_int_equal(jf.job.bs, 4096);
	assert_int_equal(jf.job.iodepth, 32);
	assert_int_equal(jf.job.numjobs, 4);
	assert_int_equal(jf.job.cpus, 0);
	assert_int_equal(jf.job.runtime_ns, UINT64_C(2000000000));
	assert_int_equal(jf.job.dev_latency_ns, 10000);
	assert_int_equal(jf.job.dev_bandwidth, d.dev_bandwidth);
	assert_int_equal(jf.job.workload, IOMMUSIM_WL_BLOCK);
	assert_string_equal(jf.platform, "kvm");
	assert_true(jf.has_policy);
	assert_int_equal(jf.policy.kind, IOMMUSIM_POLICY_LAZY_SINGLE);
	assert_int_equal(jf.policy.fq_size, 32768);
	assert_int_equal(jf.policy.fq_timeout_ms, 1000);
	assert_false(jf.policy.ism_force_fq);
	assert_true(jf.has_seed);
	assert_int_equal(jf.seed, 42);
	assert_int_equal(jf.noverrides, 1);
	assert_string_equal(jf.overrides[0].key, "shadow_limit");
	assert_string_equal(jf.overrides[0].value, "65535");
	assert_int_equal(jf.overrides[0].line, 18);
}

static void
test_jobfile_minimal_is_defaults(void **state)
{
	struct iommusim_jobfile jf;
	struct iommusim_job d;

	(void)state;
	memset(&jf, 0xA5, sizeof(jf));
	parse_ok("[only]", &jf);
	iommusim_job_defaults(&d);
	snprintf(d.name, sizeof(d.name), "only");
	assert_memory_equal(&jf.job, &d, sizeof(d));
	assert_string_equal(jf.platform, "");
	assert_false(jf.has_policy);
	assert_int_equal(jf.policy.kind, IOMMUSIM_POLICY_KERNEL);
	assert_int_equal(jf.policy.fq_size, 0);
	assert_int_equal(jf.policy.fq_timeout_ms, 0);
	assert_false(jf.policy.ism_force_fq);
	assert_false(jf.has_seed);
	assert_int_equal(jf.seed, 0);
	assert_int_equal(jf.noverrides, 0);
}

static void
test_jobfile_every_key_in_a_file(void **state)
{
	struct iommusim_jobfile jf;
	char text[4096];
	size_t i, off;

	(void)state;
	/* each good value in a file, in the job section and in [global] */
	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];

		snprintf(text, sizeof(text), "[j]\n%s = %s\n", g->key, g->value);
		parse_ok(text, &jf);
		assert_int_equal(field(&jf.job, g->key), g->want);
		snprintf(text, sizeof(text), "[global]\n%s=%s ; comment\n[j]\n", g->key, g->value);
		parse_ok(text, &jf);
		assert_int_equal(field(&jf.job, g->key), g->want);
	}
	/* all of them at once */
	off = (size_t)snprintf(text, sizeof(text), "[all]\n");
	for (i = 0; i < sizeof(all_keys) / sizeof(all_keys[0]); i++) {
		const char *v = "7";

		if (!strcmp(all_keys[i], "rw"))
			v = "randrw";
		else if (!strcmp(all_keys[i], "workload"))
			v = "net";
		else if (!strcmp(all_keys[i], "memory"))
			v = "7g"; /* at least 64m */
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s=%s\n", all_keys[i], v);
	}
	parse_ok(text, &jf);
	assert_int_equal(jf.job.rw, IOMMUSIM_RW_RANDRW);
	assert_int_equal(jf.job.workload, IOMMUSIM_WL_NET);
	assert_int_equal(jf.job.runtime_ns, UINT64_C(7000000000));
	assert_int_equal(jf.job.dev_latency_ns, 7);
	assert_int_equal(jf.job.memory, 7 * GIB);
	for (i = 0; i < sizeof(all_keys) / sizeof(all_keys[0]); i++)
		if (strcmp(all_keys[i], "rw") && strcmp(all_keys[i], "workload") &&
		    strcmp(all_keys[i], "runtime") && strcmp(all_keys[i], "memory"))
			assert_int_equal(field(&jf.job, all_keys[i]), 7);
}

static void
test_jobfile_memory_and_aperture(void **state)
{
	struct iommusim_jobfile jf;

	(void)state;
	parse_ok("[global]\nmemory=2g\n[j]\ns390_iommu_aperture=0\n", &jf);
	assert_int_equal(jf.job.memory, 2 * GIB);
	assert_int_equal(jf.job.s390_iommu_aperture, 0);
	parse_ok("[global]\nmemory=2g\ns390_iommu_aperture=4\n[j]\nmemory=64m\nmemory=8g\n", &jf);
	assert_int_equal(jf.job.memory, 8 * GIB); /* the job's, the last */
	assert_int_equal(jf.job.s390_iommu_aperture, 4);
	/* not given: 16 GiB and factor 1 */
	parse_ok("[j]\nbs=8k\n", &jf);
	assert_int_equal(jf.job.memory, 16 * GIB);
	assert_int_equal(jf.job.s390_iommu_aperture, 1);
	expect_error(
		"[j]\n\nmemory=32m\n",
		"t.fio:3: bad value '32m' for memory (a multiple of 4k from 64m to 4t: 16g, 2g)");
	expect_error(
		"[global]\nmemory=5t\n[j]\n",
		"t.fio:2: bad value '5t' for memory (a multiple of 4k from 64m to 4t: 16g, 2g)");
	expect_error("[global]\ns390_iommu_aperture=4294967296\n[j]\n",
		     "t.fio:2: bad value '4294967296' for s390_iommu_aperture (a factor of memory "
		     "from 0 (no limit) to 2^32-1)");
}

static void
test_jobfile_global_inherited_and_overridden(void **state)
{
	struct iommusim_jobfile jf;

	(void)state;
	parse_ok("[global]\n"
		 "bs=8k\n"
		 "iodepth=4\n"
		 "rw=randwrite\n"
		 "[platform]\n"
		 "pte_set=1\n"
		 "[global]\n" /* a second [global] still comes first */
		 "numjobs=3\n"
		 "iodepth=5\n"
		 "[mine]\n"
		 "iodepth=16\n"
		 "iodepth=17\n" /* the last one counts */
		 "rwmixread=30\n",
		 &jf);
	assert_string_equal(jf.job.name, "mine");
	assert_int_equal(jf.job.bs, 8192);
	assert_int_equal(jf.job.rw, IOMMUSIM_RW_RANDWRITE);
	assert_int_equal(jf.job.numjobs, 3);
	assert_int_equal(jf.job.iodepth, 17);
	assert_int_equal(jf.job.rwmixread, 30);
	assert_int_equal(jf.noverrides, 1);
	/* file keys are taken in the job section too, and override [global] */
	parse_ok("[global]\npolicy=strict\nseed=1\nplatform=lpar\n"
		 "[j]\npolicy=legacy\nseed=2\nplatform=zvm\n",
		 &jf);
	assert_int_equal(jf.policy.kind, IOMMUSIM_POLICY_LEGACY);
	assert_int_equal(jf.seed, 2);
	assert_string_equal(jf.platform, "zvm");
	/* reserved section names in any case */
	parse_ok("[ GLOBAL ]\nbs=2k\n[Platform]\nserialised=0\n[j]\n", &jf);
	assert_int_equal(jf.job.bs, 2048);
	assert_int_equal(jf.noverrides, 1);
}

static void
test_jobfile_policy_and_fq_keys(void **state)
{
	static const struct {
		const char *text;
		enum iommusim_policy_kind kind;
		uint32_t fq_size, fq_timeout_ms;
		bool force;
	} cases[] = {
		{ "policy=kernel", IOMMUSIM_POLICY_KERNEL, 0, 0, false },
		{ "policy=strict", IOMMUSIM_POLICY_STRICT, 0, 0, false },
		{ "policy=lazy-percpu", IOMMUSIM_POLICY_LAZY_PERCPU, 0, 0, false },
		{ "policy=lazy-single", IOMMUSIM_POLICY_LAZY_SINGLE, 0, 0, false },
		{ "policy=legacy", IOMMUSIM_POLICY_LEGACY, 0, 0, false },
		{ "policy=legacy-strict", IOMMUSIM_POLICY_LEGACY_STRICT, 0, 0, false },
		{ "fq_size=2", IOMMUSIM_POLICY_KERNEL, 2, 0, false },
		{ "fq_size=256", IOMMUSIM_POLICY_KERNEL, 256, 0, false },
		{ "fq_size=16777216", IOMMUSIM_POLICY_KERNEL, 16777216, 0, false },
		{ "fq_timeout=10", IOMMUSIM_POLICY_KERNEL, 0, 10, false },
		{ "fq_timeout=10ms", IOMMUSIM_POLICY_KERNEL, 0, 10, false },
		{ "fq_timeout=1s", IOMMUSIM_POLICY_KERNEL, 0, 1000, false },
		{ "fq_timeout=1.5s", IOMMUSIM_POLICY_KERNEL, 0, 1500, false },
		{ "fq_timeout=2000us", IOMMUSIM_POLICY_KERNEL, 0, 2, false },
		{ "fq_timeout=1000000ns", IOMMUSIM_POLICY_KERNEL, 0, 1, false },
		{ "fq_timeout=4294967295", IOMMUSIM_POLICY_KERNEL, 0, 4294967295u, false },
		{ "ism_force_fq=1", IOMMUSIM_POLICY_KERNEL, 0, 0, true },
		{ "ism_force_fq=true", IOMMUSIM_POLICY_KERNEL, 0, 0, true },
		{ "ism_force_fq=Yes", IOMMUSIM_POLICY_KERNEL, 0, 0, true },
		{ "ism_force_fq=on", IOMMUSIM_POLICY_KERNEL, 0, 0, true },
		{ "ism_force_fq=0", IOMMUSIM_POLICY_KERNEL, 0, 0, false },
		{ "ism_force_fq=false", IOMMUSIM_POLICY_KERNEL, 0, 0, false },
		{ "ism_force_fq=no", IOMMUSIM_POLICY_KERNEL, 0, 0, false },
		{ "ism_force_fq=OFF", IOMMUSIM_POLICY_KERNEL, 0, 0, false },
	};
	struct iommusim_jobfile jf;
	char text[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "[global]\n%s\n[j]\n", cases[i].text);
		parse_ok(text, &jf);
		assert_true(jf.has_policy);
		assert_false(jf.has_seed);
		assert_int_equal(jf.policy.kind, cases[i].kind);
		assert_int_equal(jf.policy.fq_size, cases[i].fq_size);
		assert_int_equal(jf.policy.fq_timeout_ms, cases[i].fq_timeout_ms);
		assert_int_equal(jf.policy.ism_force_fq, cases[i].force);
	}
	parse_ok("[global]\npolicy=lazy-percpu\nfq_size=64\nfq_timeout=5\nism_force_fq=1\n[j]\n",
		 &jf);
	assert_int_equal(jf.policy.kind, IOMMUSIM_POLICY_LAZY_PERCPU);
	assert_int_equal(jf.policy.fq_size, 64);
	assert_int_equal(jf.policy.fq_timeout_ms, 5);
	assert_true(jf.policy.ism_force_fq);
	parse_ok("[global]\nseed=9223372036854775807\n[j]\n", &jf);
	assert_false(jf.has_policy);
	assert_true(jf.has_seed);
	assert_int_equal(jf.seed, INT64_MAX);
	parse_ok("[global]\nseed=0\n[j]\n", &jf);
	assert_true(jf.has_seed);
	assert_int_equal(jf.seed, 0);
	parse_ok("[j]\nplatform=x86-virtio\n", &jf);
	assert_string_equal(jf.platform, "x86-virtio");
}

static void
test_jobfile_error_messages(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "bs=4k\n[j]\n", "t.fio:1: key 'bs' outside any section" },
		{ "[j]\nbss=4k\n", "t.fio:2: unknown key 'bss' in [j]" },
		{ "[randread]\n; c\n\nbss=4k\n", "t.fio:4: unknown key 'bss' in [randread]" },
		{ "[global]\nbss=1\n[j]\n", "t.fio:2: unknown key 'bss' in [global]" },
		{ "[j]\nBS=1\n", "t.fio:2: unknown key 'BS' in [j]" },
		{ "[j]\n=5\n", "t.fio:2: unknown key '' in [j]" },
		{ "[j]\niodepth=fast\n",
		  "t.fio:2: bad value 'fast' for iodepth (a number from 1 to 65536)" },
		{ "[global]\n\n\niodepth = 0 ; comment\n[j]\n",
		  "t.fio:4: bad value '0' for iodepth (a number from 1 to 65536)" },
		{ "[j]\nrw\n", "t.fio:2: syntax error" },
		{ "[j\nbs=4k\n", "t.fio:1: syntax error" },
		{ "[j ;]\n", "t.fio:1: syntax error" },
		{ "[j]\nbs=4k\nnonsense here\nbss=1\n", "t.fio:3: syntax error" },
		{ "[j]\nbss=1\nnonsense here\n", "t.fio:2: unknown key 'bss' in [j]" },
		{ "[j]\n[k]\n", "t.fio:2: a second job section [k] (one per file)" },
		{ "[j]\nbs=1\n[j]\n", "t.fio:3: a second job section [j] (one per file)" },
		{ "[j]\n[global]\nbs=1\n", "t.fio:2: [global] after a job section" },
		{ "", "t.fio: no job section" },
		{ "\n\n", "t.fio: no job section" },
		{ "; only a comment\n# and another\n", "t.fio: no job section" },
		{ "[global]\nbs=4k\n", "t.fio: no job section" },
		{ "[global]\n[platform]\npte_set=1\n", "t.fio: no job section" },
		{ "[]\n", "t.fio:1: empty section name" },
		{ "[j]\n[   ]\n", "t.fio:2: empty section name" },
		{ "[a\tb]\n", "t.fio:1: bad section name [a?b]" },
		{ "[0123456789012345678901234567890123456789012345678901234567890123]\n",
		  "t.fio:1: section name [0123456789012345678901234567890123456789...] too long (at "
		  "most 63 characters)" },
		{ "[platform]\nbs=4k\n[j]\n", "t.fio:2: unknown key 'bs' in [platform]" },
		{ "[j]\niodepth=4 # not a comment\n",
		  "t.fio:2: bad value '4 # not a comment' for iodepth (a number from 1 to 65536)" },
		{ "[j]\nbs=4k;x\n",
		  "t.fio:2: bad value '4k;x' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
		{ "[j]\nbs=\n",
		  "t.fio:2: bad value '' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)" },
		{ "[j]\nplatform=s390\n",
		  "t.fio:2: bad value 's390' for platform (lpar, zvm, kvm, kvm-qemu7.1, x86-vtd or "
		  "x86-virtio)" },
		{ "[j]\npolicy=lazy\n", "t.fio:2: bad value 'lazy' for policy (kernel, strict, "
					"lazy-percpu, lazy-single, legacy or legacy-strict)" },
		{ "[j]\nfq_size=3\n",
		  "t.fio:2: bad value '3' for fq_size (a power of two from 2 to "
		  "16777216)" },
		{ "[j]\nfq_size=1\n",
		  "t.fio:2: bad value '1' for fq_size (a power of two from 2 to "
		  "16777216)" },
		{ "[j]\nfq_size=0\n",
		  "t.fio:2: bad value '0' for fq_size (a power of two from 2 to "
		  "16777216)" },
		{ "[j]\nfq_size=33554432\n",
		  "t.fio:2: bad value '33554432' for fq_size (a power of two "
		  "from 2 to 16777216)" },
		{ "[j]\nfq_size=4k\n",
		  "t.fio:2: bad value '4k' for fq_size (a power of two from 2 to "
		  "16777216)" },
		{ "[j]\nfq_timeout=0\n",
		  "t.fio:2: bad value '0' for fq_timeout (whole ms, at least "
		  "1ms: 10ms, 1s; no unit means ms)" },
		{ "[j]\nfq_timeout=999us\n",
		  "t.fio:2: bad value '999us' for fq_timeout (whole ms, at "
		  "least 1ms: 10ms, 1s; no unit means ms)" },
		{ "[j]\nfq_timeout=1500us\n",
		  "t.fio:2: bad value '1500us' for fq_timeout (whole ms, at "
		  "least 1ms: 10ms, 1s; no unit means ms)" },
		{ "[j]\nfq_timeout=4294967296\n", "t.fio:2: bad value '4294967296' for fq_timeout "
						  "(whole ms, at least 1ms: 10ms, 1s; no unit "
						  "means ms)" },
		{ "[j]\nfq_timeout=soon\n",
		  "t.fio:2: bad value 'soon' for fq_timeout (whole ms, at "
		  "least 1ms: 10ms, 1s; no unit means ms)" },
		{ "[j]\nism_force_fq=maybe\n",
		  "t.fio:2: bad value 'maybe' for ism_force_fq (1, true, yes, on or 0, false, no, "
		  "off)" },
		{ "[j]\nseed=-1\n",
		  "t.fio:2: bad value '-1' for seed (a number from 0 to 2^63-1)" },
		{ "[j]\nseed=18446744073709551616\n",
		  "t.fio:2: bad value '18446744073709551616' for seed (a number from 0 to 2^63-1)" },
		{ "[j]\nseed=9223372036854775808\n",
		  "t.fio:2: bad value '9223372036854775808' for seed (a number from 0 to 2^63-1)" },
		/* CRLF line endings count lines the same way */
		{ "[j]\r\n\r\nbss=1\r\n", "t.fio:3: unknown key 'bss' in [j]" },
		{ "[j]\r\nrw\r\n", "t.fio:2: syntax error" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(cases[i].text, cases[i].msg);
}

static void
test_jobfile_comments_and_whitespace(void **state)
{
	struct iommusim_jobfile jf;

	(void)state;
	parse_ok("; a comment\n"
		 "# a comment too\n"
		 "   # an indented one\n"
		 "\t; and another\n"
		 "  [ job one ]   ; the section\n"
		 "\t bs \t=\t 8k \t\n"
		 "   iodepth   =  4  ; four\n"
		 "rw : randread\n"
		 "  \n"
		 "numjobs=2 ;\n"
		 "    cpus=3\n", /* indented: a key, not a continuation of numjobs */
		 &jf);
	assert_string_equal(jf.job.name, "job one");
	assert_int_equal(jf.job.bs, 8192);
	assert_int_equal(jf.job.iodepth, 4);
	assert_int_equal(jf.job.rw, IOMMUSIM_RW_RANDREAD);
	/* "2;" has no space before ';', so it is not a comment (inih) */
	expect_error("[j]\nnumjobs=2;\n",
		     "t.fio:2: bad value '2;' for numjobs (a number from 1 to 4096)");
	parse_ok("[j]\nnumjobs=2 ;\n    cpus=3\n", &jf);
	assert_int_equal(jf.job.numjobs, 2);
	assert_int_equal(jf.job.cpus, 3);
	/* no newline at the end; a BOM; CRLF; a lone CR at the end of a value */
	parse_ok("[j]\nbs=8k", &jf);
	assert_int_equal(jf.job.bs, 8192);
	parse_ok("\xEF\xBB\xBF[bom]\nbs=8k\n", &jf);
	assert_string_equal(jf.job.name, "bom");
	parse_ok("\xEF\xBB\xBF  \xEF\xBB\xBF[bom2]\n", &jf);
	assert_string_equal(jf.job.name, "bom2");
	parse_ok("[global]\r\nbs=8k\r\n[crlf]\r\niodepth=4 ; x\r\nrw=write\r\n", &jf);
	assert_string_equal(jf.job.name, "crlf");
	assert_int_equal(jf.job.bs, 8192);
	assert_int_equal(jf.job.iodepth, 4);
	assert_int_equal(jf.job.rw, IOMMUSIM_RW_WRITE);
	parse_ok("[j]\nbs=8k\r\r\n", &jf);
	assert_int_equal(jf.job.bs, 8192);
	/* '=' in a value, text after ']' */
	expect_error("[j]\nbs=4k=4k\n",
		     "t.fio:2: bad value '4k=4k' for bs (a size from 1 to 1g: 512, 4k, 64KiB, 1m)");
	parse_ok("[j] trailing words\nbs=1k\n", &jf);
	assert_string_equal(jf.job.name, "j");
	parse_ok("[a;b]\n", &jf); /* ';' without a space before it is part of the name */
	assert_string_equal(jf.job.name, "a;b");
	parse_ok("[\xc2\xb5s]\n", &jf);
	assert_string_equal(jf.job.name, "\xc2\xb5s");
	parse_ok("[012345678901234567890123456789012345678901234567890123456789012]\n", &jf);
	assert_int_equal(strlen(jf.job.name), 63);
}

/* @p text padded with spaces to @p n characters. */
static void
pad(char *line, const char *text, size_t n)
{
	size_t k = strlen(text);

	memcpy(line, text, k);
	memset(line + k, ' ', n - k);
	line[n] = '\0';
}

static void
test_jobfile_long_lines(void **state)
{
	struct iommusim_jobfile jf;
	char text[1024], line[400];
	size_t n;

	(void)state;
	/* 199 characters: a comment, a padded key line, and with CRLF */
	memset(line, 'x', sizeof(line));
	line[0] = ';';
	line[199] = '\0';
	snprintf(text, sizeof(text), "%s\n[j]\n%s\r\nbs=8k\n", line, line);
	parse_ok(text, &jf);
	assert_int_equal(jf.job.bs, 8192);
	pad(line, "iodepth=7", 199);
	snprintf(text, sizeof(text), "[j]\n%s\n", line);
	parse_ok(text, &jf);
	assert_int_equal(jf.job.iodepth, 7);
	/* 200 characters on line 2 */
	pad(line, "iodepth=7", 200);
	snprintf(text, sizeof(text), "[j]\n%s\n", line);
	expect_error(text, "t.fio:2: line too long (200 characters; at most 199)");
	/* indentation counts */
	pad(line, "iodepth=7", 198);
	snprintf(text, sizeof(text), "[j]\n\n %s\n", line);
	parse_ok(text, &jf);
	snprintf(text, sizeof(text), "[j]\n\n  %s\n", line);
	expect_error(text, "t.fio:3: line too long (200 characters; at most 199)");
	/* 300 characters of comment on line 3: an error, not a split line */
	memset(line, 'y', 300);
	line[0] = '#';
	line[300] = '\0';
	snprintf(text, sizeof(text), "[j]\nbs=8k\n%s\nbs=16k\n", line);
	expect_error(text, "t.fio:3: line too long (300 characters; at most 199)");
	/* a long value, where a split would have made "bs=...4k" */
	n = (size_t)snprintf(line, sizeof(line), "bs=");
	memset(line + n, '0', 250);
	snprintf(line + n + 250, sizeof(line) - n - 250, "4k");
	snprintf(text, sizeof(text), "[j]\n%s\n", line);
	expect_error(text, "t.fio:2: line too long (255 characters; at most 199)");
	/* a long line after a syntax error: the syntax error comes first */
	snprintf(text, sizeof(text), "[j]\noops\n%s\n", line);
	expect_error(text, "t.fio:2: syntax error");
}

/* A good value for a profile key: a number (7) if it takes one, else a
 * boolean (1), else the irq delivery by name (keys come and go: ask). */
static const char *
profile_key_value(const char *key)
{
	static const char *const tries[] = { "7", "1", "directed" };
	struct iommusim_profile p = *iommusim_profile_find("kvm");
	size_t i;

	for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		if (!iommusim_profile_set(&p, key, tries[i]))
			return tries[i];
	fail_msg("no value for profile key '%s'", key);
	return NULL;
}

static void
test_jobfile_platform_overrides(void **state)
{
	const struct iommusim_profile *kvm = iommusim_profile_find("kvm");
	struct iommusim_profile p, before;
	struct iommusim_jobfile jf;
	char err[256] = "", text[4096];
	size_t i, off;

	(void)state;
	assert_non_null(kvm);
	parse_ok("[platform]\n"
		 "shadow_limit=65535\n"
		 "clock_ghz = 4.5 ; GHz\n"
		 "[j]\n"
		 "[platform]\n"
		 "serialised=false\n"
		 "shadow_limit=100\n", /* again: the first slot, the new value and line */
		 &jf);
	assert_int_equal(jf.noverrides, 3);
	assert_string_equal(jf.overrides[0].key, "shadow_limit");
	assert_string_equal(jf.overrides[0].value, "100");
	assert_int_equal(jf.overrides[0].line, 7);
	assert_string_equal(jf.overrides[1].key, "clock_ghz");
	assert_string_equal(jf.overrides[1].value, "4.5");
	assert_int_equal(jf.overrides[1].line, 3);
	assert_string_equal(jf.overrides[2].key, "serialised");
	assert_int_equal(jf.overrides[2].line, 6);
	p = *kvm;
	assert_int_equal(iommusim_jobfile_apply_overrides(&jf, "t.fio", &p, err, sizeof(err)), 0);
	assert_int_equal(p.shadow_limit, 100);
	assert_true(p.clock_ghz == 4.5);
	assert_false(p.serialised);
	assert_int_equal(p.global_base, kvm->global_base);
	assert_string_equal(p.name, "kvm");

	/* rejected at parse time, with their lines */
	expect_error("[j]\n[platform]\nshadow_limt=5\n",
		     "t.fio:3: unknown key 'shadow_limt' in [platform]");
	expect_error(
		"[j]\n[platform]\n\nshadow_limit=lots\n",
		"t.fio:4: bad value 'lots' for shadow_limit in [platform] (a number of entries "
		"from 0 (unlimited) to 2^64-1)");
	expect_error(
		"[platform]\nclock_ghz=0\n[j]\n",
		"t.fio:2: bad value '0' for clock_ghz in [platform] (a real from 1e-6 to 1e6)");
	expect_error(
		"[platform]\nserialised=perhaps\n[j]\n",
		"t.fio:2: bad value 'perhaps' for serialised in [platform] (1, true, yes, on or "
		"0, false, no, off)");
	expect_error("[platform]\nname=kvm\n[j]\n", "t.fio:2: unknown key 'name' in [platform]");
	expect_error("[platform]\nshadow_limit=0000000000000000000000000000000000000000000000000000"
		     "0000000000001\n[j]\n",
		     "t.fio:2: value '0000000000000000000000000000000000000000...' for "
		     "shadow_limit in [platform] is too long (at most 63 characters)");

	/* every profile key, with a value of its kind */
	off = (size_t)snprintf(text, sizeof(text), "[j]\n[platform]\n");
	for (i = 0; iommusim_profile_key_at(i); i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "%s=%s\n",
					iommusim_profile_key_at(i)->name,
					profile_key_value(iommusim_profile_key_at(i)->name));
	parse_ok(text, &jf);
	assert_int_equal(jf.noverrides, i);
	p = *kvm;
	assert_int_equal(iommusim_jobfile_apply_overrides(&jf, "t.fio", &p, err, sizeof(err)), 0);
	assert_int_equal(p.per_host_unmap, 7);
	assert_int_equal(p.hz, 7);
	assert_int_equal(p.irq, IOMMUSIM_IRQ_DIRECTED);
	assert_int_equal(p.irq_cpu, 7);
	assert_true(p.clock_ghz == 7.0);
	assert_true(p.serialised);
	assert_true(p.aperture_bound);
	/* all 32 slots, in a struct made by hand */
	memset(&jf, 0, sizeof(jf));
	iommusim_job_defaults(&jf.job);
	for (i = 0; i < 32; i++) {
		snprintf(jf.overrides[i].key, sizeof(jf.overrides[i].key), "pte_set");
		snprintf(jf.overrides[i].value, sizeof(jf.overrides[i].value), "%zu", i);
		jf.overrides[i].line = (unsigned)i + 1;
	}
	jf.noverrides = 32;
	p = *kvm;
	assert_int_equal(iommusim_jobfile_apply_overrides(&jf, "h.fio", &p, err, sizeof(err)), 0);
	assert_int_equal(p.pte_set, 31);

	/* rejected at apply time (a struct made by hand), all or nothing */
	snprintf(jf.overrides[5].key, sizeof(jf.overrides[5].key), "nope");
	jf.overrides[5].line = 77;
	p = *kvm;
	before = p;
	assert_int_equal(iommusim_jobfile_apply_overrides(&jf, "h.fio", &p, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "h.fio:77: unknown key 'nope' in [platform]");
	assert_memory_equal(&p, &before, sizeof(p));
	snprintf(jf.overrides[5].key, sizeof(jf.overrides[5].key), "sync_base");
	snprintf(jf.overrides[5].value, sizeof(jf.overrides[5].value), "-3");
	assert_int_equal(iommusim_jobfile_apply_overrides(&jf, "h.fio", &p, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err,
			    "h.fio:77: bad value '-3' for sync_base in [platform] (a number of "
			    "cycles from 0 to 2^64-1)");
	assert_memory_equal(&p, &before, sizeof(p));
	jf.noverrides = 33;
	assert_int_equal(iommusim_jobfile_apply_overrides(&jf, "h.fio", &p, err, sizeof(err)),
			 -EINVAL);
	jf.noverrides = 0;
	assert_int_equal(iommusim_jobfile_apply_overrides(&jf, "h.fio", &p, err, sizeof(err)), 0);
	assert_memory_equal(&p, &before, sizeof(p));
	assert_int_equal(iommusim_jobfile_apply_overrides(NULL, "h.fio", &p, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(iommusim_jobfile_apply_overrides(&jf, "h.fio", NULL, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(iommusim_jobfile_apply_overrides(&jf, NULL, &p, NULL, 0), 0);
}

static void
test_jobfile_override_given_again(void **state)
{
	struct iommusim_jobfile jf;
	char text[8192];
	size_t off;
	unsigned i;

	(void)state;
	/* a key given again takes no new slot ... */
	off = (size_t)snprintf(text, sizeof(text), "[j]\n[platform]\n");
	for (i = 0; i < 40; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off, "pte_set=%u\n", i);
	parse_ok(text, &jf);
	assert_int_equal(jf.noverrides, 1);
	assert_string_equal(jf.overrides[0].value, "39");
	assert_int_equal(jf.overrides[0].line, 42);
	/*
	 * ... and the profile has fewer keys than there are slots, so a file
	 * cannot reach "too many [platform] keys" (kept for longer profiles).
	 */
	for (i = 0; iommusim_profile_key_at(i); i++)
		;
	assert_true(i <= IOMMUSIM_JOBFILE_MAX_OVERRIDES);
}

/* A [sweep] section is iommusim sweep's: its keys are not job keys, so any
 * key parses; the parser records where it is and how many keys it holds. */
static void
test_jobfile_sweep_section_skipped_and_located(void **state)
{
	struct iommusim_jobfile jf;

	(void)state;
	parse_ok("[j]\nrw=read\n", &jf);
	assert_int_equal(jf.sweep_line, 0);
	assert_int_equal(jf.sweep_keys, 0);
	parse_ok("[j]\nrw=randread\n\n[sweep]\nfq_size=256..65536:x2\n"
		 "not_a_job_key=1,2\nreps=3\n",
		 &jf);
	assert_int_equal(jf.sweep_line, 4);
	assert_int_equal(jf.sweep_keys, 3);
	assert_int_equal(jf.job.rw, IOMMUSIM_RW_RANDREAD);
	/* Sections after it are read as usual. */
	parse_ok("[sweep]\nfq_size=256\n[j]\nbs=8k\n", &jf);
	assert_int_equal(jf.sweep_line, 1);
	assert_int_equal(jf.sweep_keys, 1);
	assert_int_equal(jf.job.bs, 8192);
	expect_error("[j]\n[sweep]\na=1\n[SWEEP]\n",
		     "t.fio:4: a second [sweep] section (the first is at line 2)");
}

static void
test_jobfile_parse_string_args(void **state)
{
	struct iommusim_jobfile jf;
	char err[128] = "";

	(void)state;
	assert_int_equal(iommusim_jobfile_parse_string(NULL, "n", &jf, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "n: nothing to parse");
	assert_int_equal(iommusim_jobfile_parse_string("[j]", "n", NULL, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(iommusim_jobfile_parse_string("[j]\nbss=1", NULL, &jf, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "<string>:2: unknown key 'bss' in [j]");
	assert_int_equal(iommusim_jobfile_parse_string("[j]\nbss=1", "--set", &jf, NULL, 0),
			 -EINVAL);
	assert_int_equal(iommusim_jobfile_parse_string("[j]\nbss=1", "x", &jf, err, 3), -EINVAL);
	assert_string_equal(err, "x:");
	assert_int_equal(iommusim_jobfile_parse(NULL, &jf, err, sizeof(err)), -EINVAL);
	assert_int_equal(iommusim_jobfile_parse("/nonexistent", NULL, err, sizeof(err)), -EINVAL);
}

static void
test_jobfile_files(void **state)
{
	struct iommusim_jobfile jf;
	char path[512], err[600], msg[600], *big;
	size_t n;

	(void)state;
	snprintf(path, sizeof(path), "%s/example.fio", tmpdir);
	write_file(path, example, strlen(example));
	assert_int_equal(iommusim_jobfile_parse(path, &jf, err, sizeof(err)), 0);
	assert_string_equal(jf.job.name, "randread");
	assert_int_equal(jf.overrides[0].line, 18);

	/* messages name the file */
	write_file(path, "[j]\r\n\r\nbss=1\r\n", 14);
	assert_int_equal(iommusim_jobfile_parse(path, &jf, err, sizeof(err)), -EINVAL);
	snprintf(msg, sizeof(msg), "%s:3: unknown key 'bss' in [j]", path);
	assert_string_equal(err, msg);

	/* a NUL byte in a file (a string cannot have one) */
	write_file(path, "[j]\nbs=4k\0 junk\n", 16);
	assert_int_equal(iommusim_jobfile_parse(path, &jf, err, sizeof(err)), -EINVAL);
	snprintf(msg, sizeof(msg), "%s:2: NUL character in the line", path);
	assert_string_equal(err, msg);

	write_file(path, "", 0);
	assert_int_equal(iommusim_jobfile_parse(path, &jf, err, sizeof(err)), -EINVAL);
	snprintf(msg, sizeof(msg), "%s: no job section", path);
	assert_string_equal(err, msg);

	/* larger than the first read buffer */
	n = 20000;
	big = calloc(1, n + 64);
	assert_non_null(big);
	memset(big, '\n', n);
	memcpy(big + n - 100, "[late]\nbss=1\n", 13);
	write_file(path, big, n);
	assert_int_equal(iommusim_jobfile_parse(path, &jf, err, sizeof(err)), -EINVAL);
	snprintf(msg, sizeof(msg), "%s:%zu: unknown key 'bss' in [late]", path, n - 100 + 2);
	assert_string_equal(err, msg);
	free(big);

	/* too large */
	n = (size_t)2 << 20;
	big = calloc(1, n);
	assert_non_null(big);
	memset(big, '\n', n);
	write_file(path, big, n);
	free(big);
	assert_int_equal(iommusim_jobfile_parse(path, &jf, err, sizeof(err)), -EINVAL);
	snprintf(msg, sizeof(msg), "%s: too large (more than 1048576 bytes)", path);
	assert_string_equal(err, msg);

	/* no memory for the file's text */
	snprintf(path, sizeof(path), "%s/example.fio", tmpdir);
	write_file(path, example, strlen(example));
	ims_mem_fault_inject(1, 1);
	assert_int_equal(iommusim_jobfile_parse(path, &jf, err, sizeof(err)), -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_int_equal(iommusim_jobfile_parse(path, &jf, err, sizeof(err)), 0);

	/* cannot read */
	snprintf(path, sizeof(path), "%s/missing.fio", tmpdir);
	assert_int_equal(iommusim_jobfile_parse(path, &jf, err, sizeof(err)), -ENOENT);
	snprintf(msg, sizeof(msg), "%s: cannot read: No such file or directory", path);
	assert_string_equal(err, msg);
	assert_int_equal(iommusim_jobfile_parse(tmpdir, &jf, err, sizeof(err)), -ENOENT);
	snprintf(msg, sizeof(msg), "%s: cannot read: Is a directory", tmpdir);
	assert_string_equal(err, msg);
}

/* ------------------------------------------------------------------------ */
/* Random and mutated input */

static size_t
rnd(uint64_t *s, size_t n)
{
	return n ? (size_t)(test_splitmix64(s) % n) : 0;
}

/* What every answer must look like, whatever the input. */
static void
check_answer(int ret, const char *name, const struct iommusim_jobfile *jf, const char *err,
	     uint64_t seed)
{
	const struct iommusim_profile *kvm = iommusim_profile_find("kvm");
	size_t n = strlen(name), i;

	if (ret != 0 && ret != -EINVAL)
		fail_msg("seed %" PRIu64 ": returned %d (%s)", seed, ret, err);
	if (ret) {
		if (strncmp(err, name, n) || err[n] != ':')
			fail_msg("seed %" PRIu64 ": message '%s' does not start with '%s:'", seed,
				 err, name);
		for (i = 0; err[i]; i++)
			if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
				fail_msg("seed %" PRIu64 ": control character in '%s'", seed, err);
		return;
	}
	{
		struct iommusim_profile p = *kvm;
		char aerr[256] = "";
		const struct iommusim_job *j = &jf->job;

		if (!j->name[0] || strlen(j->name) >= sizeof(j->name) || j->bs < 1 || j->bs > GIB ||
		    j->iodepth < 1 || j->iodepth > 65536 || j->numjobs < 1 || j->numjobs > 4096 ||
		    j->cpus > 4096 || j->rwmixread > 100 || j->rw > IOMMUSIM_RW_RANDRW ||
		    j->workload > IOMMUSIM_WL_ISM || !j->runtime_ns || !j->dev_slots ||
		    !j->sg_segments || j->sg_segments > 1024 || j->ism_dmbs > 64 ||
		    j->memory < 64 * MIB || j->memory > 4 * TIB || j->memory % 4096 ||
		    j->dev_slots > 4096 || !j->ism_dmb_size || !j->dev_bandwidth ||
		    jf->noverrides > 32 ||
		    (jf->platform[0] && !iommusim_profile_find(jf->platform)) ||
		    jf->policy.kind > IOMMUSIM_POLICY_LEGACY_STRICT)
			fail_msg("seed %" PRIu64 ": parsed into an invalid job", seed);
		if (iommusim_jobfile_apply_overrides(jf, name, &p, aerr, sizeof(aerr)))
			fail_msg("seed %" PRIu64 ": overrides parsed but not applied: %s", seed,
				 aerr);
	}
}

static const char *const tokens[] = {
	"=",
	"[",
	"]",
	";",
	" ;",
	"#",
	"\n",
	"\r\n",
	"\r",
	" ",
	"\t",
	"k",
	"m",
	"g",
	"KiB",
	"ms",
	"us",
	"0",
	"1",
	"65536",
	"99999999999999999999",
	"-",
	".",
	"e9",
	"e-3",
	":",
	"[global]\n",
	"[platform]\n",
	"[j2]\n",
	"shadow_limit=5\n",
	"clock_ghz=",
	"bs=",
	"iodepth=",
	"policy=",
	"fq_size=",
	"fq_timeout=",
	"seed=",
	"rw=",
	"\xEF\xBB\xBF",
	"\xc2\xb5",
	"\x01",
	"\x7f",
	"\xff",
};

static const char fuzz_base[] = "; base file\n"
				"[global]\n"
				"platform=kvm\n"
				"policy=lazy-single ; queue\n"
				"fq_size=32768\n"
				"fq_timeout=1000ms\n"
				"ism_force_fq=0\n"
				"seed=42\n"
				"bs=4k\n"
				"\n"
				"[randread]\n"
				"rw=randread\n"
				"rwmixread=70\n"
				"iodepth=32\n"
				"numjobs=4\n"
				"cpus=2\n"
				"runtime=2s\n"
				"size=1g\n"
				"randseed=7\n"
				"workload=block\n"
				"dev_latency=10us\n"
				"dev_bandwidth=3.2e9\n"
				"dev_slots=64\n"
				"io_base_cycles=20000\n"
				"sg_segments=2\n"
				"ism_dmbs=4\n"
				"ism_dmb_size=1m\n"
				"memory=16g\n"
				"s390_iommu_aperture=1\n"
				"[platform]\n"
				"shadow_limit=65535\n"
				"clock_ghz=5.2\n"
				"serialised=1\n";

#define FUZZ_MAX 4096

/* Lines of @p buf (without their '\n'), for line-level mutations. */
static size_t
line_at(const char *buf, size_t len, size_t k, size_t *start)
{
	size_t i = 0, s = 0;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			if (k-- == 0)
				break;
			s = i + 1;
		}
	}
	*start = s;
	return (i < len ? i : len) - s;
}

static size_t
mutate(uint64_t *s, char *buf, size_t len)
{
	size_t pos = rnd(s, len + 1), n, a, al, b, bl;
	const char *t;
	char tmp[FUZZ_MAX];

	switch (rnd(s, 7)) {
	case 0: /* replace a byte */
		if (len)
			buf[rnd(s, len)] = (char)(1 + rnd(s, 255));
		break;
	case 1: /* insert a token */
	case 2:
		t = tokens[rnd(s, sizeof(tokens) / sizeof(tokens[0]))];
		n = strlen(t);
		if (len + n < FUZZ_MAX) {
			memmove(buf + pos + n, buf + pos, len - pos);
			memcpy(buf + pos, t, n);
			len += n;
		}
		break;
	case 3: /* delete a range */
		n = rnd(s, 16) + 1;
		n = n < len - pos ? n : len - pos;
		memmove(buf + pos, buf + pos + n, len - pos - n);
		len -= n;
		break;
	case 4: /* duplicate a line */
		al = line_at(buf, len, rnd(s, 40), &a);
		if (len + al + 1 < FUZZ_MAX) {
			memcpy(tmp, buf + a, al);
			tmp[al] = '\n';
			memmove(buf + pos + al + 1, buf + pos, len - pos);
			memcpy(buf + pos, tmp, al + 1);
			len += al + 1;
		}
		break;
	case 5: /* a long run of one character */
		n = 150 + rnd(s, 100);
		if (len + n < FUZZ_MAX) {
			memmove(buf + pos + n, buf + pos, len - pos);
			memset(buf + pos, "x ;#=\t"[rnd(s, 6)], n);
			len += n;
		}
		break;
	case 6: /* swap two lines' contents (truncated to the shorter) */
		al = line_at(buf, len, rnd(s, 40), &a);
		bl = line_at(buf, len, rnd(s, 40), &b);
		n = al < bl ? al : bl;
		if (a != b && n) {
			memcpy(tmp, buf + a, n);
			memmove(buf + a, buf + b, n);
			memcpy(buf + b, tmp, n);
		}
		break;
	}
	return len;
}

static void
test_jobfile_fuzz(void **state)
{
	const char *env = getenv("IOMMUSIM_TEST_SEED");
	uint64_t base = env ? strtoull(env, NULL, 0) : UINT64_C(20240607);
	char buf[FUZZ_MAX + 1], err[512], path[512];
	struct iommusim_jobfile jf;
	unsigned i, k, nok = 0, nerr = 0;
	size_t len;
	int ret;

	(void)state;
	printf("# fuzz base seed %" PRIu64 " (IOMMUSIM_TEST_SEED=N to change)\n", base);
	/* the base file itself is valid */
	parse_ok(fuzz_base, &jf);
	for (i = 0; i < 30000; i++) {
		uint64_t seed = base + i, s = seed;

		if (i < 5000) { /* random bytes (strings stop at the first NUL) */
			len = rnd(&s, 400);
			for (k = 0; k < len; k++)
				buf[k] = (char)(1 + rnd(&s, 255));
		} else if (i < 10000) { /* random INI-ish tokens */
			len = 0;
			for (k = rnd(&s, 40); k > 0; k--) {
				const char *t = tokens[rnd(&s, sizeof(tokens) / sizeof(tokens[0]))];

				if (len + strlen(t) >= FUZZ_MAX)
					break;
				memcpy(buf + len, t, strlen(t));
				len += strlen(t);
			}
		} else { /* mutations of a valid file */
			len = strlen(fuzz_base);
			memcpy(buf, fuzz_base, len);
			for (k = (unsigned)rnd(&s, 3) + 1; k > 0; k--)
				len = mutate(&s, buf, len);
		}
		buf[len] = '\0';
		memset(err, 0, sizeof(err));
		ret = iommusim_jobfile_parse_string(buf, "fz.fio", &jf, err, sizeof(err));
		check_answer(ret, "fz.fio", &jf, err, seed);
		ret ? nerr++ : nok++;
		/* some through a file, with NULs and all */
		if (i % 50 == 0) {
			if (len && rnd(&s, 2))
				buf[rnd(&s, len)] = '\0';
			snprintf(path, sizeof(path), "%s/fz.fio", tmpdir);
			write_file(path, buf, len);
			memset(err, 0, sizeof(err));
			ret = iommusim_jobfile_parse(path, &jf, err, sizeof(err));
			check_answer(ret, path, &jf, err, seed);
		}
	}
	printf("# fuzz: %u cases parsed, %u rejected\n", nok, nerr);
	assert_true(nok > 200);
	assert_true(nerr > 200);
}

/* ------------------------------------------------------------------------ */

#define SET_SCOPES (IOMMUSIM_KEY_JOB | IOMMUSIM_KEY_POLICY | IOMMUSIM_KEY_PROFILE)

/* The key table (job.h): every row whole, names unique within a scope, the
 * readers' lookups agree with it, and --set's three kinds are disjoint. */
static void
test_job_key_table_rows_are_whole_and_unique(void **state)
{
	const struct iommusim_key *k, *o;
	size_t i, j, nprofile = 0;

	(void)state;
	for (i = 0; (k = iommusim_key_at(i)); i++) {
		assert_non_null(k->name);
		assert_non_null(k->doc);
		assert_non_null(k->hint);
		assert_non_null(k->unit);
		assert_non_null(iommusim_key_type_name(k->type));
		assert_non_null(iommusim_key_scope_name(k->scope));
		if (k->type == IOMMUSIM_KEY_ENUM)
			assert_non_null(k->choices);
		if (k->type != IOMMUSIM_KEY_REAL && k->type != IOMMUSIM_KEY_ENUM &&
		    k->type != IOMMUSIM_KEY_BOOL)
			assert_true(k->min <= k->max);
		/* only the script's own rows are stored by their reader */
		assert_true(!k->width == (k->scope == IOMMUSIM_KEY_SCRIPT));
		assert_ptr_equal(iommusim_key_find(k->scope, k->name), k);
		for (j = 0; (o = iommusim_key_at(j)); j++)
			if (j != i && !strcmp(o->name, k->name)) {
				/* unique within a scope, and among what --set reaches */
				assert_true(o->scope != k->scope);
				assert_false((o->scope & SET_SCOPES) && (k->scope & SET_SCOPES));
			}
		if (k->scope == IOMMUSIM_KEY_PROFILE) {
			assert_ptr_equal(iommusim_profile_key_find(k->name), k);
			nprofile++;
		}
	}
	assert_int_equal(nprofile, 30);
	assert_true(i > nprofile + 20);
	assert_null(iommusim_key_find(IOMMUSIM_KEY_JOB, "shadow_limit"));
	assert_null(iommusim_key_find(~0u, "nokey"));
	assert_null(iommusim_key_find(~0u, NULL));
	/* the job's memory and a script's: two rows, two ranges */
	assert_int_equal(iommusim_key_find(IOMMUSIM_KEY_JOB, "memory")->min, 64 * MIB);
	assert_int_equal(iommusim_key_find(IOMMUSIM_KEY_SCRIPT, "memory")->min, 4096);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_defaults),
		cmocka_unit_test(test_job_policy_names_round_trip),
		cmocka_unit_test(test_job_set_every_key_and_suffix),
		cmocka_unit_test(test_job_set_bad_values),
		cmocka_unit_test(test_job_key_table_rows_are_whole_and_unique),
		cmocka_unit_test(test_job_set_unknown_key_and_bad_args),
		cmocka_unit_test(test_job_policy_set_queue_keys),
		cmocka_unit_test(test_jobfile_header_example),
		cmocka_unit_test(test_jobfile_minimal_is_defaults),
		cmocka_unit_test(test_jobfile_every_key_in_a_file),
		cmocka_unit_test(test_jobfile_memory_and_aperture),
		cmocka_unit_test(test_jobfile_global_inherited_and_overridden),
		cmocka_unit_test(test_jobfile_policy_and_fq_keys),
		cmocka_unit_test(test_jobfile_error_messages),
		cmocka_unit_test(test_jobfile_comments_and_whitespace),
		cmocka_unit_test(test_jobfile_long_lines),
		cmocka_unit_test(test_jobfile_platform_overrides),
		cmocka_unit_test(test_jobfile_override_given_again),
		cmocka_unit_test(test_jobfile_sweep_section_skipped_and_located),
		cmocka_unit_test(test_jobfile_parse_string_args),
		cmocka_unit_test(test_jobfile_files),
		cmocka_unit_test(test_jobfile_fuzz),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("job", tests, setup_tmpdir, teardown_tmpdir);
}
