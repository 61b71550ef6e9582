/* SPDX-License-Identifier: MIT */
/*
 * fio-like job files (docs/cli.md "Job files"): job keys with their units and ranges,
 * policy names, and the INI reader on top of inih that knows lines.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include <iommusim/dma_iommu.h>
#include <iommusim/job.h>
#include <iommusim/keys.h>
#include <iommusim/platform.h>
#include <iommusim/run.h>
#include <iommusim/sim.h>
#include <iommusim/units.h>

#include "base/keys_int.h"
#include "base/mem_int.h"
#include "base/util_int.h"

/*
 * inih reads into a 200-byte buffer (INI_MAX_LINE, fixed in Debian's shared
 * library) and splits longer lines silently, so the reader below refuses them
 * instead. With the terminating NUL, 199 characters fit (line ending excluded).
 */
#define LINE_MAX_CHARS 199
/* Job files are small; this only stops `iommusim run /dev/zero`. */
#define FILE_MAX_BYTES (UINT64_C(1) << 20)

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)
#define NS_PER_US IOMMUSIM_NS_PER_US
#define NS_PER_MS IOMMUSIM_NS_PER_MS
#define NS_PER_S IOMMUSIM_NS_PER_S

/* ---- policies --------------------------------------------------------- */

static const struct iommusim_key *policy_key(void);

const char *
iommusim_policy_name(enum iommusim_policy_kind kind)
{
	const struct iommusim_key *k = policy_key();
	size_t i;

	for (i = 0; k->choices[i].name; i++)
		if (k->choices[i].value == (unsigned)kind)
			return k->choices[i].name;
	return "unknown";
}

int
iommusim_policy_parse(const char *name, enum iommusim_policy_kind *out)
{
	struct iommusim_key_value v;

	if (!name || !out || iommusim_key_parse(policy_key(), name, &v, NULL, 0))
		return -EINVAL;
	*out = (enum iommusim_policy_kind)v.u;
	return 0;
}

int
iommusim_policy_set(struct iommusim_policy *policy, const char *key, const char *value, char *err,
		    size_t err_len)
{
	const struct iommusim_key *k;

	if (!policy || !key || !value) {
		ims_errf(err, err_len, "no policy, key or value");
		return -EINVAL;
	}
	/* A command line is text, not a value of the key table: it has its
	 * own parser (iommusim/cmdline.h); nothing changes on error. */
	if (!strcmp(key, "cmdline")) {
		struct iommusim_cmdline c;
		char msg[200];
		int ret = iommusim_cmdline_parse(value, &c, msg, sizeof(msg));

		if (ret)
			return ims_errf(err, err_len, "cmdline: %s", msg);
		policy->cmdline = c;
		policy->has_cmdline = true;
		return 0;
	}
	k = iommusim_key_find(IOMMUSIM_KEY_POLICY, key);
	if (!k)
		return -ENOENT;
	return iommusim_key_set(k, policy, value, err, err_len);
}

/* ---- job keys --------------------------------------------------------- */

static const struct iommusim_key_choice rw_choices[] = {
	{ "read", IOMMUSIM_RW_READ },
	{ "write", IOMMUSIM_RW_WRITE },
	{ "randread", IOMMUSIM_RW_RANDREAD },
	{ "randwrite", IOMMUSIM_RW_RANDWRITE },
	{ "rw", IOMMUSIM_RW_RW },
	{ "readwrite", IOMMUSIM_RW_RW },
	{ "randrw", IOMMUSIM_RW_RANDRW },
	{ NULL, 0 },
};

static const struct iommusim_key_choice workload_choices[] = {
	{ "block", IOMMUSIM_WL_BLOCK },
	{ "net", IOMMUSIM_WL_NET },
	{ "ism", IOMMUSIM_WL_ISM },
	{ NULL, 0 },
};

static const struct iommusim_key_choice policy_choices[] = {
	{ "kernel", IOMMUSIM_POLICY_KERNEL },
	{ "strict", IOMMUSIM_POLICY_STRICT },
	{ "lazy-percpu", IOMMUSIM_POLICY_LAZY_PERCPU },
	{ "lazy-single", IOMMUSIM_POLICY_LAZY_SINGLE },
	{ "legacy", IOMMUSIM_POLICY_LEGACY },
	{ "legacy-strict", IOMMUSIM_POLICY_LEGACY_STRICT },
	{ NULL, 0 },
};

#define IN(type, f) .offset = offsetof(type, f), .width = sizeof(((type *)0)->f)
#define JOB(f) IN(struct iommusim_job, f)
#define POL(f) IN(struct iommusim_policy, f)
#define COUNT(n, lo, hi, f, u, d, h)                                                         \
	{                                                                                    \
		.name = n, .scope = IOMMUSIM_KEY_JOB, .type = IOMMUSIM_KEY_COUNT, .min = lo, \
		.max = hi, JOB(f), .unit = u, .doc = d, .hint = h                            \
	}
#define SIZE(n, lo, hi, f, d, h)                                                            \
	{                                                                                   \
		.name = n, .scope = IOMMUSIM_KEY_JOB, .type = IOMMUSIM_KEY_SIZE, .min = lo, \
		.max = hi, JOB(f), .unit = "bytes", .doc = d, .hint = h                     \
	}

/*
 * The table of every user-settable key (iommusim/keys.h), but for the
 * profile's rows, which live with the profile (platform.c). Ranges are what
 * the layers below take: a run (check_job in run.c) refuses only what spans
 * keys (numjobs x iodepth, bs against memory...); ism_dmbs and ism_dmb_size
 * match its 64 DMBs in the upper half of memory; dev_slots is what an engine
 * server takes; s390_iommu_aperture is the kernel's u32 (the product with
 * memory saturates, iommusim_s390_iommu_aperture()).
 */
static const struct iommusim_key keys[] = {
	{ .name = "rw",
	  .scope = IOMMUSIM_KEY_JOB,
	  .type = IOMMUSIM_KEY_ENUM,
	  .max = IOMMUSIM_RW_RANDRW,
	  .choices = rw_choices,
	  JOB(rw),
	  .unit = "",
	  .doc = "the I/O pattern, as fio's rw=",
	  .hint = "read, write, randread, randwrite, rw or randrw" },
	COUNT("rwmixread", 0, 100, rwmixread, "%", "reads in a mixed pattern",
	      "a number from 0 to 100"),
	SIZE("bs", 1, GIB, bs, "bytes per I/O", "a size from 1 to 1g: 512, 4k, 64KiB, 1m"),
	COUNT("iodepth", 1, 65536, iodepth, "I/Os", "I/Os in flight per job",
	      "a number from 1 to 65536"),
	COUNT("numjobs", 1, 4096, numjobs, "jobs", "jobs, job i on CPU i mod cpus",
	      "a number from 1 to 4096"),
	COUNT("cpus", 1, 4096, cpus, "CPUs", "simulated CPUs (default: numjobs)",
	      "a number from 1 to 4096"),
	{ .name = "runtime",
	  .scope = IOMMUSIM_KEY_JOB,
	  .type = IOMMUSIM_KEY_TIME,
	  .bare_ns = NS_PER_S,
	  .min = 1,
	  .max = UINT64_MAX,
	  JOB(runtime_ns),
	  .unit = "ns",
	  .doc = "simulated time to run",
	  .hint = "a time above 0: 2s, 500ms, 100us; no unit means seconds" },
	SIZE("size", 0, UINT64_MAX, size, "bytes per job, then stop (0: no limit)",
	     "a size: 0 (no limit), 4096, 64m, 1g"),
	COUNT("randseed", 0, UINT64_MAX, randseed, "", "fio's randseed= (0: the run's seed)",
	      "a number from 0 to 2^64-1"),
	{ .name = "workload",
	  .scope = IOMMUSIM_KEY_JOB,
	  .type = IOMMUSIM_KEY_ENUM,
	  .max = IOMMUSIM_WL_ISM,
	  .choices = workload_choices,
	  JOB(workload),
	  .unit = "",
	  .doc = "what the I/Os are",
	  .hint = "block, net or ism" },
	{ .name = "dev_latency",
	  .scope = IOMMUSIM_KEY_JOB,
	  .type = IOMMUSIM_KEY_TIME,
	  .bare_ns = 1,
	  .max = UINT64_MAX,
	  JOB(dev_latency_ns),
	  .unit = "ns",
	  .doc = "the device's service latency",
	  .hint = "a time: 10us, 2ms; no unit means ns" },
	{ .name = "dev_bandwidth",
	  .scope = IOMMUSIM_KEY_JOB,
	  .type = IOMMUSIM_KEY_SIZE,
	  .min = 1,
	  .max = UINT64_MAX,
	  JOB(dev_bandwidth),
	  .unit = "bytes/s",
	  .doc = "the device's bandwidth",
	  .hint = "bytes per second, at least 1: 3.2e9, 3200m, 2g" },
	COUNT("dev_slots", 1, IOMMUSIM_SERVER_MAX_SLOTS, dev_slots, "I/Os",
	      "I/Os the device serves in parallel", "a number from 1 to 4096"),
	COUNT("io_base_cycles", 0, UINT64_MAX, io_base_cycles, "cycles",
	      "per-I/O CPU cost outside the DMA API (block layer, driver, irq)",
	      "a number of cycles from 0 to 2^64-1"),
	COUNT("sg_segments", 1, 1024, sg_segments, "segments",
	      "physically discontiguous segments per I/O", "a number from 1 to 1024"),
	COUNT("ism_dmbs", 0, 64, ism_dmbs, "DMBs", "ISM: DMBs registered for the run",
	      "a number from 0 to 64"),
	SIZE("ism_dmb_size", 1, 128 * MIB, ism_dmb_size, "ISM: bytes per DMB",
	     "a size from 1 to 128m: 64k, 1m"),
	{ .name = "memory",
	  .scope = IOMMUSIM_KEY_JOB,
	  .type = IOMMUSIM_KEY_SIZE,
	  .min = 64 * MIB,
	  .max = 4 * TIB,
	  .multiple = 4096,
	  JOB(memory),
	  .unit = "bytes",
	  .doc = "guest memory (high_memory)",
	  .hint = "a multiple of 4k from 64m to 4t: 16g, 2g" },
	{ .name = "s390_iommu_aperture",
	  .scope = IOMMUSIM_KEY_JOB,
	  .type = IOMMUSIM_KEY_COUNT,
	  .max = UINT32_MAX,
	  JOB(s390_iommu_aperture),
	  .unit = "",
	  .doc = "the kernel's s390_iommu_aperture= factor: the aperture is memory x factor",
	  .hint = "a factor of memory from 0 (no limit) to 2^32-1" },
	{ .name = "rtr_avail",
	  .scope = IOMMUSIM_KEY_JOB,
	  .type = IOMMUSIM_KEY_BOOL,
	  .max = 1,
	  JOB(rtr_avail),
	  .unit = "",
	  .doc = "the function reports relaxed translation: an identity domain exists (later kernels)",
	  .hint = "1, true, yes, on or 0, false, no, off" },
	/* iommu_dma_options carries the timeout in whole ms (KERNEL_SPEC §2.2). */
	{ .name = "fq_size",
	  .scope = IOMMUSIM_KEY_POLICY,
	  .type = IOMMUSIM_KEY_COUNT,
	  .min = 2,
	  .max = IOMMUSIM_FQ_MAX_SIZE,
	  .pow2 = true,
	  POL(fq_size),
	  .unit = "entries",
	  .doc = "entries per flush queue",
	  .hint = "a power of two from 2 to 16777216" },
	{ .name = "fq_timeout",
	  .scope = IOMMUSIM_KEY_POLICY,
	  .type = IOMMUSIM_KEY_TIME,
	  .bare_ns = NS_PER_MS,
	  .min = NS_PER_MS,
	  .max = UINT32_MAX * NS_PER_MS,
	  .multiple = NS_PER_MS,
	  .scale = NS_PER_MS,
	  POL(fq_timeout_ms),
	  .unit = "ns",
	  .doc = "the flush-queue timeout",
	  .hint = "whole ms, at least 1ms: 10ms, 1s; no unit means ms" },
	{ .name = "ism_force_fq",
	  .scope = IOMMUSIM_KEY_POLICY,
	  .type = IOMMUSIM_KEY_BOOL,
	  .max = 1,
	  POL(ism_force_fq),
	  .unit = "",
	  .doc = "ISM: keep a flush queue despite the missing capability (the regression)",
	  .hint = "1, true, yes, on or 0, false, no, off" },
	{ .name = "policy",
	  .scope = IOMMUSIM_KEY_FILE,
	  .type = IOMMUSIM_KEY_ENUM,
	  .max = IOMMUSIM_POLICY_LEGACY_STRICT,
	  .choices = policy_choices,
	  IN(struct iommusim_jobfile, policy.kind),
	  .unit = "",
	  .doc = "how DMA is done",
	  .hint = "kernel, strict, lazy-percpu, lazy-single, legacy or legacy-strict" },
	{ .name = "seed",
	  .scope = IOMMUSIM_KEY_FILE,
	  .type = IOMMUSIM_KEY_COUNT,
	  .max = IOMMUSIM_RUN_SEED_MAX,
	  IN(struct iommusim_jobfile, seed),
	  .unit = "",
	  .doc = "the run's seed (as --seed)",
	  .hint = "a number from 0 to 2^63-1" },
	/* A script's platform statement (docs/scenario.md): the same quantities
	 * as the job's, without the workload's needs (its buffers take 64m). */
	{ .name = "memory",
	  .scope = IOMMUSIM_KEY_SCRIPT,
	  .type = IOMMUSIM_KEY_SIZE,
	  .min = 4096,
	  .max = 4 * TIB,
	  .multiple = 4096,
	  .unit = "bytes",
	  .doc = "memory (high_memory): the window of every function",
	  .hint = "a multiple of 4k from 4k to 4t: 64k, 16g" },
	{ .name = "aperture_factor",
	  .scope = IOMMUSIM_KEY_SCRIPT,
	  .type = IOMMUSIM_KEY_COUNT,
	  .max = UINT32_MAX,
	  .unit = "",
	  .doc = "the kernel's s390_iommu_aperture= factor",
	  .hint = "a factor of memory from 0 (no limit) to 2^32-1" },
};

#undef IN
#undef JOB
#undef POL
#undef COUNT
#undef SIZE

static const struct iommusim_key *
policy_key(void)
{
	const struct iommusim_key *k = iommusim_key_find(IOMMUSIM_KEY_FILE, "policy");

	ims_assert(k);
	return k;
}

const struct iommusim_key *
iommusim_key_at(size_t i)
{
	if (i < IMS_ARRAY_SIZE(keys))
		return &keys[i];
	return iommusim_profile_key_at(i - IMS_ARRAY_SIZE(keys));
}

const struct iommusim_key *
iommusim_key_find(unsigned scopes, const char *name)
{
	const struct iommusim_key *k;
	size_t i;

	for (i = 0; name && (k = iommusim_key_at(i)); i++)
		if ((k->scope & scopes) && !strcmp(k->name, name))
			return k;
	return NULL;
}

void
iommusim_job_defaults(struct iommusim_job *job)
{
	if (!job)
		return;
	memset(job, 0, sizeof(*job));
	snprintf(job->name, sizeof(job->name), "job");
	job->workload = IOMMUSIM_WL_BLOCK;
	job->rw = IOMMUSIM_RW_READ;
	job->rwmixread = 50;
	job->bs = 4096;
	job->iodepth = 1;
	job->numjobs = 1;
	job->cpus = 0; /* "as many as numjobs": iommusim_run() resolves it */
	job->runtime_ns = NS_PER_S;
	job->size = 0;
	job->randseed = 0;
	job->dev_latency_ns = 10 * NS_PER_US;
	job->dev_bandwidth = UINT64_C(3200000000);
	job->dev_slots = 128;
	job->io_base_cycles = 20000;
	job->sg_segments = 1;
	job->ism_dmbs = 4;
	job->ism_dmb_size = (uint32_t)MIB;
	job->memory = 16 * GIB;
	job->s390_iommu_aperture = 1; /* §3.3: s390_iommu_aperture_factor's default */
}

int
iommusim_job_set(struct iommusim_job *job, const char *key, const char *value, char *err,
		 size_t err_len)
{
	const struct iommusim_key *k;
	char sk[IMS_SHOWN_MAX + 4];

	if (!job || !key || !value) {
		ims_errf(err, err_len, "no job, key or value");
		return -EINVAL;
	}
	k = iommusim_key_find(IOMMUSIM_KEY_JOB, key);
	if (!k) {
		ims_errf(err, err_len, "unknown key '%s'", ims_shown(sk, key));
		return -ENOENT;
	}
	return iommusim_key_set(k, job, value, err, err_len);
}

/* ---- job files -------------------------------------------------------- */

/*
 * The file, as fio reads it where that is simple: [global] (any number, all
 * before the job section, applied in order, so the job section overrides
 * them), exactly one job section (any other name: the job's name),
 * [platform] anywhere. The file keys (platform, policy, fq_*, ism_force_fq,
 * seed) are taken in [global] and in the job section alike; a key given
 * twice keeps the last value. [platform] keys and values are checked here,
 * against any profile (validity does not depend on which), so a file fails
 * at its line before a run. The rest is inih's: "key=value" or "key:value",
 * ';' and '#' comment lines, ';' inline comments after white space.
 * Indentation is dropped before inih sees it, so there are no multi-line
 * values; reserved section names match in any case.
 */

enum section {
	SEC_NONE, /* before the first [section] */
	SEC_GLOBAL,
	SEC_JOB,
	SEC_PLATFORM,
	SEC_SWEEP, /* iommusim sweep's axes: read by the CLI, skipped here */
};

struct pctx {
	const char *name; /* the file, in messages */
	const char *text;
	size_t len, pos;
	unsigned line; /* the line inih is working on (1-based) */
	enum section sect;
	char sect_name[sizeof(((struct iommusim_job *)0)->name)];
	bool have_job;
	bool failed; /* a message is in err; stop reading */
	unsigned err_line; /* ... about this line */
	struct iommusim_jobfile *out;
	struct iommusim_profile scratch; /* to check [platform] values */
	char *err;
	size_t err_len;
};

__attribute__((format(printf, 2, 3))) static void
fail(struct pctx *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ims_errf(c->err, c->err_len, "%s:%u: %s", c->name, c->line, msg);
	c->failed = true;
	c->err_line = c->line;
}

static void
platform_list(char *buf, size_t len)
{
	const struct iommusim_profile *p;
	size_t i, n = iommusim_profile_count(), off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++) {
		p = iommusim_profile_at(i);
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					i ? (i + 1 < n ? ", " : " or ") : "", p->name);
	}
}

/*
 * Keys of the whole file, allowed in [global] and in the job section.
 * @return 0; -ENOENT (not one of them); -EINVAL with a message in @p msg
 */
IMS_NODISCARD static int
file_key_set(struct iommusim_jobfile *jf, const char *key, const char *value, char *msg,
	     size_t msg_len)
{
	char sv[IMS_SHOWN_MAX + 4], list[128];

	msg[0] = '\0';
	if (!strcmp(key, "platform")) {
		if (!iommusim_profile_find(value)) {
			platform_list(list, sizeof(list));
			ims_errf(msg, msg_len, "bad value '%s' for platform (%s)",
				 ims_shown(sv, value), list);
			return -EINVAL;
		}
		snprintf(jf->platform, sizeof(jf->platform), "%s", value);
	} else if (!strcmp(key, "policy") || !strcmp(key, "seed")) {
		if (iommusim_key_set(iommusim_key_find(IOMMUSIM_KEY_FILE, key), jf, value, msg,
				     msg_len))
			return -EINVAL;
		if (!strcmp(key, "policy"))
			jf->has_policy = true;
		else
			jf->has_seed = true;
	} else if (iommusim_policy_set(&jf->policy, key, value, msg, msg_len) != -ENOENT) {
		if (msg[0])
			return -EINVAL;
		jf->has_policy = true;
	} else {
		return -ENOENT;
	}
	return 0;
}

/* Check a [platform] key and value now, against any profile, and keep them. */
static void
add_override(struct pctx *c, const char *key, const char *value)
{
	struct iommusim_jobfile *jf = c->out;
	const struct iommusim_key *k = iommusim_profile_key_find(key);
	char sk[IMS_SHOWN_MAX + 4], sv[IMS_SHOWN_MAX + 4];
	size_t i;

	if (!k) {
		fail(c, "unknown key '%s' in [platform]", ims_shown(sk, key));
		return;
	}
	if (iommusim_key_set(k, &c->scratch, value, NULL, 0)) {
		fail(c, "bad value '%s' for %s in [platform] (%s)", ims_shown(sv, value), key,
		     k->hint);
		return;
	}
	if (strlen(value) >= sizeof(jf->overrides[0].value)) {
		fail(c, "value '%s' for %s in [platform] is too long (at most %zu characters)",
		     ims_shown(sv, value), key, sizeof(jf->overrides[0].value) - 1);
		return;
	}
	ims_assert(strlen(key) < sizeof(jf->overrides[0].key));
	for (i = 0; i < jf->noverrides && strcmp(jf->overrides[i].key, key); i++)
		;
	if (i == jf->noverrides) {
		if (i == IMS_ARRAY_SIZE(jf->overrides)) {
			fail(c, "too many [platform] keys (at most %zu)",
			     IMS_ARRAY_SIZE(jf->overrides));
			return;
		}
		jf->noverrides++;
		snprintf(jf->overrides[i].key, sizeof(jf->overrides[i].key), "%s", key);
	}
	/* A key given again keeps its place and takes the new value and line. */
	snprintf(jf->overrides[i].value, sizeof(jf->overrides[i].value), "%s", value);
	jf->overrides[i].line = c->line;
}

/* inih's handler: @p section is ignored, the reader tracked it (with its line). */
IMS_NODISCARD static int
on_key(void *user, const char *section, const char *key, const char *value)
{
	struct pctx *c = user;
	char msg[224], sk[IMS_SHOWN_MAX + 4];
	int ret;

	(void)section;
	if (c->failed)
		return 0;
	switch (c->sect) {
	case SEC_NONE:
		fail(c, "key '%s' outside any section", ims_shown(sk, key));
		break;
	case SEC_PLATFORM:
		add_override(c, key, value);
		break;
	case SEC_SWEEP:
		c->out->sweep_keys++;
		break;
	case SEC_GLOBAL:
	case SEC_JOB:
		msg[0] = '\0';
		ret = file_key_set(c->out, key, value, msg, sizeof(msg));
		if (ret == -ENOENT)
			ret = iommusim_job_set(&c->out->job, key, value, msg, sizeof(msg));
		if (ret == -ENOENT)
			fail(c, "unknown key '%s' in [%s]", ims_shown(sk, key), c->sect_name);
		else if (ret)
			fail(c, "%s", msg);
		break;
	}
	return !c->failed;
}

/* A "[name]" line (inih's rules: the first ']' not after an inline comment). */
static void
on_section(struct pctx *c, const char *line)
{
	char sn[IMS_SHOWN_MAX + 4];
	const char *s = line + 1, *e;
	bool was_space = false;
	char name[LINE_MAX_CHARS + 1];
	size_t n, i;

	for (e = s; *e && *e != ']' && !(was_space && *e == ';'); e++)
		was_space = isspace((unsigned char)*e);
	if (*e != ']')
		return; /* inih reports it as a syntax error */
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	n = (size_t)(e - s);
	memcpy(name, s, n);
	name[n] = '\0';
	if (!strcasecmp(name, "global")) {
		if (c->have_job) {
			fail(c, "[global] after a job section");
			return;
		}
		c->sect = SEC_GLOBAL;
		snprintf(c->sect_name, sizeof(c->sect_name), "global");
		return;
	}
	if (!strcasecmp(name, "platform")) {
		c->sect = SEC_PLATFORM;
		snprintf(c->sect_name, sizeof(c->sect_name), "platform");
		return;
	}
	if (!strcasecmp(name, "sweep")) {
		if (c->out->sweep_line) {
			fail(c, "a second [sweep] section (the first is at line %u)",
			     (unsigned)c->out->sweep_line);
			return;
		}
		c->sect = SEC_SWEEP;
		c->out->sweep_line = c->line;
		snprintf(c->sect_name, sizeof(c->sect_name), "sweep");
		return;
	}
	if (!n) {
		fail(c, "empty section name");
		return;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
			fail(c, "bad section name [%s]", ims_shown(sn, name));
			return;
		}
	}
	if (n >= sizeof(c->sect_name)) {
		fail(c, "section name [%s] too long (at most %zu characters)", ims_shown(sn, name),
		     sizeof(c->sect_name) - 1);
		return;
	}
	if (c->have_job) {
		fail(c, "a second job section [%s] (one per file)", name);
		return;
	}
	c->have_job = true;
	c->sect = SEC_JOB;
	memcpy(c->sect_name, name, n + 1);
	memcpy(c->out->job.name, name, n + 1);
}

/*
 * inih's reader: one line per call, so c->line is the line inih works on.
 * It refuses lines too long for inih's buffer and NUL bytes, drops a UTF-8
 * BOM and leading white space (so an indented line is never a continuation
 * of the previous value: no multi-line values), and sees section headers
 * before inih does, with their line.
 */
static char *
read_line(char *buf, int num, void *stream)
{
	struct pctx *c = stream;
	const char *p, *nl, *end;
	size_t n, limit;

	if (c->failed || c->pos >= c->len || num < 2)
		return NULL;
	p = c->text + c->pos;
	nl = memchr(p, '\n', c->len - c->pos);
	end = nl ? nl : c->text + c->len;
	c->pos = nl ? (size_t)(nl + 1 - c->text) : c->len;
	c->line++;
	if (end > p && end[-1] == '\r')
		end--;
	n = (size_t)(end - p);
	limit = IMS_MIN((size_t)num - 1, (size_t)LINE_MAX_CHARS);
	if (n > limit) {
		fail(c, "line too long (%zu characters; at most %zu)", n, limit);
		return NULL;
	}
	if (memchr(p, '\0', n)) {
		fail(c, "NUL character in the line");
		return NULL;
	}
	for (;;) {
		while (p < end && isspace((unsigned char)*p))
			p++;
		if (c->line == 1 && end - p >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
			p += 3;
		else
			break;
	}
	n = (size_t)(end - p);
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (buf[0] == '[')
		on_section(c, buf);
	return c->failed ? NULL : buf;
}

IMS_NODISCARD static int
parse_text(const char *text, size_t len, const char *name, struct iommusim_jobfile *out, char *err,
	   size_t err_len)
{
	const struct iommusim_profile *any = iommusim_profile_at(0);
	struct pctx c;
	int ret;

	memset(out, 0, sizeof(*out));
	iommusim_job_defaults(&out->job);
	memset(&c, 0, sizeof(c));
	c.name = name;
	c.text = text;
	c.len = len;
	c.out = out;
	c.err = err;
	c.err_len = err_len;
	ims_assert(any);
	c.scratch = *any;
	ret = ini_parse_stream(read_line, &c, on_key, &c);
	if (ret < 0) /* inih's line buffer (only when it is on the heap) */
		return -ENOMEM;
	if (ret > 0 && (!c.failed || (unsigned)ret < c.err_line)) {
		ims_errf(err, err_len, "%s:%d: syntax error", name, ret);
		return -EINVAL;
	}
	if (c.failed)
		return -EINVAL;
	if (!c.have_job) {
		ims_errf(err, err_len, "%s: no job section", name);
		return -EINVAL;
	}
	return 0;
}

int
iommusim_jobfile_parse_string(const char *text, const char *name, struct iommusim_jobfile *out,
			      char *err, size_t err_len)
{
	if (!name)
		name = "<string>";
	if (!text || !out) {
		ims_errf(err, err_len, "%s: nothing to parse", name);
		return -EINVAL;
	}
	return parse_text(text, strlen(text), name, out, err, err_len);
}

int
iommusim_jobfile_parse(const char *path, struct iommusim_jobfile *out, char *err, size_t err_len)
{
	char *buf = NULL, *bigger;
	size_t len = 0, cap = 0, n;
	FILE *f;
	int ret;

	if (!path || !out) {
		ims_errf(err, err_len, "no file to parse");
		return -EINVAL;
	}
	f = fopen(path, "rb");
	if (!f) {
		ims_errf(err, err_len, "%s: cannot read: %s", path, strerror(errno));
		return -ENOENT;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= FILE_MAX_BYTES) {
				ims_errf(err, err_len,
					 "%s: too large (more than %" PRIu64 " bytes)", path,
					 FILE_MAX_BYTES);
				ret = -EINVAL;
				goto out;
			}
			cap = cap ? 2 * cap : 4096;
			bigger = ims_zalloc(cap);
			if (!bigger) {
				ret = -ENOMEM;
				goto out;
			}
			if (len)
				memcpy(bigger, buf, len);
			ims_free(buf);
			buf = bigger;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		ims_errf(err, err_len, "%s: cannot read: %s", path, strerror(errno));
		ret = -ENOENT;
		goto out;
	}
	ret = parse_text(buf ? buf : "", len, path, out, err, err_len);
out:
	ims_free(buf);
	fclose(f);
	return ret;
}

int
iommusim_jobfile_apply_overrides(const struct iommusim_jobfile *jf, const char *name,
				 struct iommusim_profile *profile, char *err, size_t err_len)
{
	char sk[IMS_SHOWN_MAX + 4], sv[IMS_SHOWN_MAX + 4];
	struct iommusim_profile p;
	size_t i;

	if (!name)
		name = "<string>";
	if (!jf || !profile || jf->noverrides > IMS_ARRAY_SIZE(jf->overrides)) {
		ims_errf(err, err_len, "%s: no job file or profile", name);
		return -EINVAL;
	}
	/* All or nothing. */
	p = *profile;
	for (i = 0; i < jf->noverrides; i++) {
		const char *key = jf->overrides[i].key, *value = jf->overrides[i].value;
		const struct iommusim_key *k = iommusim_profile_key_find(key);

		if (!k) {
			ims_errf(err, err_len, "%s:%u: unknown key '%s' in [platform]", name,
				 jf->overrides[i].line, ims_shown(sk, key));
			return -EINVAL;
		}
		if (iommusim_key_set(k, &p, value, NULL, 0)) {
			ims_errf(err, err_len, "%s:%u: bad value '%s' for %s in [platform] (%s)",
				 name, jf->overrides[i].line, ims_shown(sv, value), key, k->hint);
			return -EINVAL;
		}
	}
	*profile = p;
	return 0;
}
