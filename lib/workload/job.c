/* SPDX-License-Identifier: MIT */
/*
 * fio-like job files (DESIGN.md §5): job keys with their units and ranges,
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
#include <iommusim/platform.h>
#include <iommusim/run.h>
#include <iommusim/sim.h>
#include <iommusim/units.h>

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
/* How much of a bad value or key a message repeats. */
#define SHOWN_MAX 40

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define TIB (UINT64_C(1) << 40)
#define NS_PER_US IOMMUSIM_NS_PER_US
#define NS_PER_MS IOMMUSIM_NS_PER_MS
#define NS_PER_S IOMMUSIM_NS_PER_S

__attribute__((format(printf, 3, 4))) static void
errf(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !err_len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
}

/*
 * @p s as a message may show it: at most SHOWN_MAX bytes (not splitting a
 * UTF-8 sequence) then "...", control characters as '?'.
 */
static const char *
shown(char buf[SHOWN_MAX + 4], const char *s)
{
	size_t n = strlen(s), i;

	if (n > SHOWN_MAX) {
		n = SHOWN_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	strcpy(buf + n, s[n] ? "..." : "");
	return buf;
}

/* ---- policies --------------------------------------------------------- */

static const char *const policy_names[] = {
	[IOMMUSIM_POLICY_KERNEL] = "kernel",
	[IOMMUSIM_POLICY_STRICT] = "strict",
	[IOMMUSIM_POLICY_LAZY_PERCPU] = "lazy-percpu",
	[IOMMUSIM_POLICY_LAZY_SINGLE] = "lazy-single",
	[IOMMUSIM_POLICY_LEGACY] = "legacy",
	[IOMMUSIM_POLICY_LEGACY_STRICT] = "legacy-strict",
};

const char *
iommusim_policy_name(enum iommusim_policy_kind kind)
{
	return (unsigned)kind < IMS_ARRAY_SIZE(policy_names) ? policy_names[kind] : "unknown";
}

int
iommusim_policy_parse(const char *name, enum iommusim_policy_kind *out)
{
	size_t i;

	if (!name || !out)
		return -EINVAL;
	for (i = 0; i < IMS_ARRAY_SIZE(policy_names); i++) {
		if (!strcasecmp(name, policy_names[i])) {
			*out = (enum iommusim_policy_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

int
iommusim_policy_set(struct iommusim_policy *policy, const char *key, const char *value, char *err,
		    size_t err_len)
{
	char sv[SHOWN_MAX + 4];
	uint64_t v;
	bool b;

	if (!policy || !key || !value) {
		errf(err, err_len, "no policy, key or value");
		return -EINVAL;
	}
	if (!strcmp(key, "fq_size")) {
		if (iommusim_count_parse(value, 2, IOMMUSIM_FQ_MAX_SIZE, &v) || !ims_is_pow2(v)) {
			errf(err, err_len,
			     "bad value '%s' for fq_size (a power of two from 2 to %u)",
			     shown(sv, value), (unsigned)IOMMUSIM_FQ_MAX_SIZE);
			return -EINVAL;
		}
		policy->fq_size = (uint32_t)v;
	} else if (!strcmp(key, "fq_timeout")) {
		/* iommu_dma_options carries the timeout in whole ms (KERNEL_SPEC §2.2). */
		if (iommusim_time_parse(value, NS_PER_MS, NS_PER_MS, UINT32_MAX * NS_PER_MS, &v) ||
		    v % NS_PER_MS) {
			errf(err, err_len,
			     "bad value '%s' for fq_timeout (whole ms, at least 1ms: 10ms, 1s; no "
			     "unit means ms)",
			     shown(sv, value));
			return -EINVAL;
		}
		policy->fq_timeout_ms = (uint32_t)(v / NS_PER_MS);
	} else if (!strcmp(key, "ism_force_fq")) {
		if (iommusim_bool_parse(value, &b)) {
			errf(err, err_len,
			     "bad value '%s' for ism_force_fq (1, true, yes, on or 0, false, no, off)",
			     shown(sv, value));
			return -EINVAL;
		}
		policy->ism_force_fq = b;
	} else {
		return -ENOENT;
	}
	return 0;
}

/* ---- job keys --------------------------------------------------------- */

enum jid {
	J_RW,
	J_RWMIXREAD,
	J_BS,
	J_IODEPTH,
	J_NUMJOBS,
	J_CPUS,
	J_RUNTIME,
	J_SIZE,
	J_RANDSEED,
	J_WORKLOAD,
	J_DEV_LATENCY,
	J_DEV_BANDWIDTH,
	J_DEV_SLOTS,
	J_IO_BASE_CYCLES,
	J_SG_SEGMENTS,
	J_ISM_DMBS,
	J_ISM_DMB_SIZE,
	J_MEMORY,
	J_APERTURE,
};

/* Every number is read by iommusim/units.h, the grammar of docs/cli.md. */
enum vtype {
	V_COUNT, /* a number without a unit */
	V_SIZE, /* bytes, or with a size unit */
	V_TIME, /* with a time unit; dflt_mult ns for no unit */
	V_ENUM, /* one of names[] */
};

struct ename {
	const char *name;
	unsigned value;
};

static const struct ename rw_names[] = {
	{ "read", IOMMUSIM_RW_READ },
	{ "write", IOMMUSIM_RW_WRITE },
	{ "randread", IOMMUSIM_RW_RANDREAD },
	{ "randwrite", IOMMUSIM_RW_RANDWRITE },
	{ "rw", IOMMUSIM_RW_RW },
	{ "readwrite", IOMMUSIM_RW_RW },
	{ "randrw", IOMMUSIM_RW_RANDRW },
	{ NULL, 0 },
};

static const struct ename workload_names[] = {
	{ "block", IOMMUSIM_WL_BLOCK },
	{ "net", IOMMUSIM_WL_NET },
	{ "ism", IOMMUSIM_WL_ISM },
	{ NULL, 0 },
};

/*
 * Ranges: what a run can take. run.c checks what spans keys (numjobs x
 * iodepth); ism_dmbs and ism_dmb_size match its 64 DMBs in the upper half of
 * its 16 GiB of memory.
 */
static const struct jkey {
	const char *name;
	enum jid id;
	enum vtype type;
	uint64_t dflt_mult;
	uint64_t min, max;
	const char *hint;
	const struct ename *names;
} jkeys[] = {
	{ "rw", J_RW, V_ENUM, 0, 0, 0, "read, write, randread, randwrite, rw or randrw", rw_names },
	{ "rwmixread", J_RWMIXREAD, V_COUNT, 1, 0, 100, "a number from 0 to 100", NULL },
	{ "bs", J_BS, V_SIZE, 1, 1, GIB, "a size from 1 to 1g: 512, 4k, 64KiB, 1m", NULL },
	{ "iodepth", J_IODEPTH, V_COUNT, 1, 1, 65536, "a number from 1 to 65536", NULL },
	{ "numjobs", J_NUMJOBS, V_COUNT, 1, 1, 4096, "a number from 1 to 4096", NULL },
	{ "cpus", J_CPUS, V_COUNT, 1, 1, 4096, "a number from 1 to 4096", NULL },
	{ "runtime", J_RUNTIME, V_TIME, NS_PER_S, 1, UINT64_MAX,
	  "a time above 0: 2s, 500ms, 100us; no unit means seconds", NULL },
	{ "size", J_SIZE, V_SIZE, 1, 0, UINT64_MAX, "a size: 0 (no limit), 4096, 64m, 1g", NULL },
	{ "randseed", J_RANDSEED, V_COUNT, 1, 0, UINT64_MAX, "a number from 0 to 2^64-1", NULL },
	{ "workload", J_WORKLOAD, V_ENUM, 0, 0, 0, "block, net or ism", workload_names },
	{ "dev_latency", J_DEV_LATENCY, V_TIME, 1, 0, UINT64_MAX,
	  "a time: 10us, 2ms; no unit means ns", NULL },
	{ "dev_bandwidth", J_DEV_BANDWIDTH, V_SIZE, 1, 1, UINT64_MAX,
	  "bytes per second, at least 1: 3.2e9, 3200m, 2g", NULL },
	{ "dev_slots", J_DEV_SLOTS, V_COUNT, 1, 1, IOMMUSIM_SERVER_MAX_SLOTS,
	  "a number from 1 to 4096", NULL },
	{ "io_base_cycles", J_IO_BASE_CYCLES, V_COUNT, 1, 0, UINT64_MAX,
	  "a number of cycles from 0 to 2^64-1", NULL },
	{ "sg_segments", J_SG_SEGMENTS, V_COUNT, 1, 1, 1024, "a number from 1 to 1024", NULL },
	{ "ism_dmbs", J_ISM_DMBS, V_COUNT, 1, 0, 64, "a number from 0 to 64", NULL },
	{ "ism_dmb_size", J_ISM_DMB_SIZE, V_SIZE, 1, 1, 128 * MIB, "a size from 1 to 128m: 64k, 1m",
	  NULL },
	{ "memory", J_MEMORY, V_SIZE, 1, 64 * MIB, 4 * TIB, "a size from 64m to 4t: 16g, 2g",
	  NULL },
	{ "s390_iommu_aperture", J_APERTURE, V_COUNT, 1, 0, 1024,
	  "a factor of memory from 0 (no limit) to 1024", NULL },
};

static void
store(struct iommusim_job *job, enum jid id, uint64_t v)
{
	/* Every value was range-checked to fit its field. */
	switch (id) {
	case J_RW:
		job->rw = (enum iommusim_rw)v;
		break;
	case J_RWMIXREAD:
		job->rwmixread = (unsigned)v;
		break;
	case J_BS:
		job->bs = (uint32_t)v;
		break;
	case J_IODEPTH:
		job->iodepth = (unsigned)v;
		break;
	case J_NUMJOBS:
		job->numjobs = (unsigned)v;
		break;
	case J_CPUS:
		job->cpus = (unsigned)v;
		break;
	case J_RUNTIME:
		job->runtime_ns = v;
		break;
	case J_SIZE:
		job->size = v;
		break;
	case J_RANDSEED:
		job->randseed = v;
		break;
	case J_WORKLOAD:
		job->workload = (enum iommusim_workload)v;
		break;
	case J_DEV_LATENCY:
		job->dev_latency_ns = v;
		break;
	case J_DEV_BANDWIDTH:
		job->dev_bandwidth = v;
		break;
	case J_DEV_SLOTS:
		job->dev_slots = (unsigned)v;
		break;
	case J_IO_BASE_CYCLES:
		job->io_base_cycles = v;
		break;
	case J_SG_SEGMENTS:
		job->sg_segments = (uint32_t)v;
		break;
	case J_ISM_DMBS:
		job->ism_dmbs = (unsigned)v;
		break;
	case J_ISM_DMB_SIZE:
		job->ism_dmb_size = (uint32_t)v;
		break;
	case J_MEMORY:
		job->memory = v;
		break;
	case J_APERTURE:
		job->s390_iommu_aperture = (uint32_t)v;
		break;
	}
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
	const struct jkey *k = NULL;
	char sk[SHOWN_MAX + 4], sv[SHOWN_MAX + 4];
	uint64_t v = 0;
	size_t i;
	int ret = -EINVAL;

	if (!job || !key || !value) {
		errf(err, err_len, "no job, key or value");
		return -EINVAL;
	}
	for (i = 0; i < IMS_ARRAY_SIZE(jkeys) && !k; i++)
		if (!strcmp(key, jkeys[i].name))
			k = &jkeys[i];
	if (!k) {
		errf(err, err_len, "unknown key '%s'", shown(sk, key));
		return -ENOENT;
	}
	switch (k->type) {
	case V_COUNT:
		ret = iommusim_count_parse(value, k->min, k->max, &v);
		break;
	case V_SIZE:
		ret = iommusim_size_parse(value, k->min, k->max, &v);
		break;
	case V_TIME:
		ret = iommusim_time_parse(value, k->dflt_mult, k->min, k->max, &v);
		break;
	case V_ENUM:
		for (i = 0; k->names[i].name && ret; i++) {
			if (!strcasecmp(value, k->names[i].name)) {
				v = k->names[i].value;
				ret = 0;
			}
		}
		break;
	}
	if (ret) {
		errf(err, err_len, "bad value '%s' for %s (%s)", shown(sv, value), k->name,
		     k->hint);
		return -EINVAL;
	}
	store(job, k->id, v);
	return 0;
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
	errf(c->err, c->err_len, "%s:%u: %s", c->name, c->line, msg);
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
static int
file_key_set(struct iommusim_jobfile *jf, const char *key, const char *value, char *msg,
	     size_t msg_len)
{
	char sv[SHOWN_MAX + 4], list[128];
	enum iommusim_policy_kind kind;
	uint64_t v;

	msg[0] = '\0';
	if (!strcmp(key, "platform")) {
		if (!iommusim_profile_find(value)) {
			platform_list(list, sizeof(list));
			errf(msg, msg_len, "bad value '%s' for platform (%s)", shown(sv, value),
			     list);
			return -EINVAL;
		}
		snprintf(jf->platform, sizeof(jf->platform), "%s", value);
	} else if (!strcmp(key, "policy")) {
		if (iommusim_policy_parse(value, &kind)) {
			errf(msg, msg_len,
			     "bad value '%s' for policy (kernel, strict, lazy-percpu, lazy-single, "
			     "legacy or legacy-strict)",
			     shown(sv, value));
			return -EINVAL;
		}
		jf->policy.kind = kind;
		jf->has_policy = true;
	} else if (iommusim_policy_set(&jf->policy, key, value, msg, msg_len) != -ENOENT) {
		if (msg[0])
			return -EINVAL;
		jf->has_policy = true;
	} else if (!strcmp(key, "seed")) {
		if (iommusim_count_parse(value, 0, IOMMUSIM_RUN_SEED_MAX, &v)) {
			errf(msg, msg_len, "bad value '%s' for seed (a number from 0 to 2^63-1)",
			     shown(sv, value));
			return -EINVAL;
		}
		jf->seed = v;
		jf->has_seed = true;
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
	char sk[SHOWN_MAX + 4], sv[SHOWN_MAX + 4];
	size_t i;
	int ret;

	ret = iommusim_profile_set(&c->scratch, key, value);
	if (ret == -ENOENT) {
		fail(c, "unknown key '%s' in [platform]", shown(sk, key));
		return;
	}
	if (ret || strlen(value) >= sizeof(jf->overrides[0].value)) {
		fail(c, "bad value '%s' for %s in [platform]", shown(sv, value), key);
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
static int
on_key(void *user, const char *section, const char *key, const char *value)
{
	struct pctx *c = user;
	char msg[224], sk[SHOWN_MAX + 4];
	int ret;

	(void)section;
	if (c->failed)
		return 0;
	switch (c->sect) {
	case SEC_NONE:
		fail(c, "key '%s' outside any section", shown(sk, key));
		break;
	case SEC_PLATFORM:
		add_override(c, key, value);
		break;
	case SEC_GLOBAL:
	case SEC_JOB:
		msg[0] = '\0';
		ret = file_key_set(c->out, key, value, msg, sizeof(msg));
		if (ret == -ENOENT)
			ret = iommusim_job_set(&c->out->job, key, value, msg, sizeof(msg));
		if (ret == -ENOENT)
			fail(c, "unknown key '%s' in [%s]", shown(sk, key), c->sect_name);
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
	char sn[SHOWN_MAX + 4];
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
	if (!n) {
		fail(c, "empty section name");
		return;
	}
	for (i = 0; i < n; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
			fail(c, "bad section name [%s]", shown(sn, name));
			return;
		}
	}
	if (n >= sizeof(c->sect_name)) {
		fail(c, "section name [%s] too long (at most %zu characters)", shown(sn, name),
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

static int
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
		errf(err, err_len, "%s:%d: syntax error", name, ret);
		return -EINVAL;
	}
	if (c.failed)
		return -EINVAL;
	if (!c.have_job) {
		errf(err, err_len, "%s: no job section", name);
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
		errf(err, err_len, "%s: nothing to parse", name);
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
		errf(err, err_len, "no file to parse");
		return -EINVAL;
	}
	f = fopen(path, "rb");
	if (!f) {
		errf(err, err_len, "%s: cannot read: %s", path, strerror(errno));
		return -ENOENT;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= FILE_MAX_BYTES) {
				errf(err, err_len, "%s: too large (more than %" PRIu64 " bytes)",
				     path, FILE_MAX_BYTES);
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
		errf(err, err_len, "%s: cannot read: %s", path, strerror(errno));
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
	char sk[SHOWN_MAX + 4], sv[SHOWN_MAX + 4];
	struct iommusim_profile p;
	size_t i;
	int ret;

	if (!name)
		name = "<string>";
	if (!jf || !profile || jf->noverrides > IMS_ARRAY_SIZE(jf->overrides)) {
		errf(err, err_len, "%s: no job file or profile", name);
		return -EINVAL;
	}
	/* All or nothing. */
	p = *profile;
	for (i = 0; i < jf->noverrides; i++) {
		const char *key = jf->overrides[i].key, *value = jf->overrides[i].value;

		ret = iommusim_profile_set(&p, key, value);
		if (ret == -ENOENT) {
			errf(err, err_len, "%s:%u: unknown key '%s' in [platform]", name,
			     jf->overrides[i].line, shown(sk, key));
			return -EINVAL;
		}
		if (ret) {
			errf(err, err_len, "%s:%u: bad value '%s' for %s in [platform]", name,
			     jf->overrides[i].line, shown(sv, value), key);
			return -EINVAL;
		}
	}
	*profile = p;
	return 0;
}
