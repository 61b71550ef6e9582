/* SPDX-License-Identifier: MIT */
/*
 * Scenario scripts (docs/scenario.md): tokenise and check the whole script,
 * then run it statement by statement on a fresh engine, platform model, s390
 * driver and the domains it declares, evaluating `expect` lines.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/dma.h>
#include <iommusim/dma_iommu.h>
#include <iommusim/hist.h>
#include <iommusim/iommu.h>
#include <iommusim/ism.h>
#include <iommusim/legacy_s390_dma.h>
#include <iommusim/platform.h>
#include <iommusim/s390_iommu.h>
#include <iommusim/script.h>
#include <iommusim/sim.h>
#include <iommusim/zpci.h>

#include "base/mem_int.h"
#include "base/util_int.h"

/* Internal return codes: go on, or stop with the script's exit status. */
#define RC_OK 0
#define RC_FAIL IOMMUSIM_SCRIPT_FAILED
#define RC_ERR IOMMUSIM_SCRIPT_ERROR

#define MAX_LINE 4096 /* bytes per line */
#define MAX_TOKENS 64 /* tokens per line */
#define MAX_TOKEN 256 /* bytes per token (after {i} substitution) */
#define MAX_NAME 64 /* bytes per name */
#define MAX_DEPTH 16 /* nested repeats */
#define MAX_REPEAT UINT64_C(1000000) /* iterations of one repeat */
#define MAX_STEPS UINT64_C(50000000) /* statements and iterations run per script */
#define MAX_DEVICES 16 /* functions per domain */
#define MAX_MAP_SIZE (UINT64_C(1) << 30)
#define MAX_CPUS 4096u
#define PAGE UINT64_C(4096)
#define AUTO_PHYS_BASE UINT64_C(0x40000000)
#define NS_PER_MS UINT64_C(1000000)

/* ---- small helpers -------------------------------------------------------- */

/* A growable array of pointers. */
struct vec {
	void **v;
	size_t n, cap;
};

static int
vec_push(struct vec *a, void *p)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 8;
		void **v = ims_zalloc(cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		if (a->n)
			memcpy(v, a->v, a->n * sizeof(*v));
		ims_free(a->v);
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = p;
	return 0;
}

static void
vec_fini(struct vec *a)
{
	ims_free(a->v);
	memset(a, 0, sizeof(*a));
}

static bool
streq(const char *a, const char *b)
{
	return !strcmp(a, b);
}

static uint64_t
pages_of(uint64_t dma, uint64_t size)
{
	return ((dma & (PAGE - 1)) + size + PAGE - 1) / PAGE;
}

static const char *
errno_name(int e)
{
	switch (e) {
	case 0:
		return "none";
	case ENOMEM:
		return "ENOMEM";
	case ENOSPC:
		return "ENOSPC";
	case EIO:
		return "EIO";
	case EINVAL:
		return "EINVAL";
	case EFAULT:
		return "EFAULT";
	case EEXIST:
		return "EEXIST";
	case ENOENT:
		return "ENOENT";
	case EBUSY:
		return "EBUSY";
	default:
		return "error";
	}
}

/* ---- tokens and the program ------------------------------------------------ */

struct tok {
	const char *s;
	bool quoted;
};

/* One non-empty line. */
struct stmt {
	unsigned line;
	unsigned ntok;
	unsigned depth; /* enclosing repeat blocks */
	bool block; /* `repeat N` opening a block */
	size_t end; /* for a block: index of its `end` */
	struct tok *tok;
	char *buf; /* the tokens' text */
};

struct prog {
	struct stmt **v;
	size_t n, cap;
};

/* ---- objects ---------------------------------------------------------------- */

enum okind { O_FN = 1, O_DOM, O_HANDLE };

enum policy {
	P_KERNEL = 0,
	P_STRICT,
	P_LAZY_PERCPU,
	P_LAZY_SINGLE,
	P_LEGACY,
	P_LEGACY_STRICT,
};

static const char *const policy_names[] = {
	"kernel", "strict", "lazy-percpu", "lazy-single", "legacy", "legacy-strict",
};

struct script;
struct sdom;

struct sfn {
	enum okind kind;
	char name[MAX_NAME];
	uint32_t fid;
	bool is_ism;
	bool tlb_refresh;
	struct iommusim_zpci_fn *fn;
	struct iommusim_ism *ism;
	struct iommusim_device *dev; /* when in a dma-iommu domain */
	struct sdom *dom;
};

struct sdom {
	enum okind kind;
	char name[MAX_NAME];
	struct script *s;
	enum policy pol;
	bool force_fq;
	struct sfn *fns[MAX_DEVICES];
	unsigned nfns;
	struct iommusim_domain *dom;
	struct iommusim_dma_iommu *d;
	struct iommusim_legacy_dma *legacy;
	struct iommusim_dma dma;
	bool timer_armed;
	uint64_t timer_id;
	unsigned timer_cpu;
};

struct shandle {
	enum okind kind;
	char name[MAX_NAME];
	struct sdom *dom;
	uint64_t phys, size, dma;
	enum iommusim_dma_dir dir;
	unsigned cpu;
	bool mapped;
	bool ever_mapped;
	int error; /* errno of the last failed map or unmap */
	struct sfn *dmb_fn; /* registered as a DMB on this ISM function */
	uint64_t dmb_token;
};

/* The one namespace of functions, domains and handles: open addressing. */
struct names {
	void **slot; /* each points to an object, whose first field is its kind */
	size_t cap, n;
};

static const char *
obj_name(const void *o)
{
	switch (*(const enum okind *)o) {
	case O_FN:
		return ((const struct sfn *)o)->name;
	case O_DOM:
		return ((const struct sdom *)o)->name;
	default:
		return ((const struct shandle *)o)->name;
	}
}

static uint64_t
hash_str(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);

	while (*s)
		h = (h ^ (unsigned char)*s++) * UINT64_C(1099511628211);
	return h;
}

static void *
names_find(const struct names *t, const char *name)
{
	size_t i;

	if (!t->cap)
		return NULL;
	for (i = hash_str(name) & (t->cap - 1); t->slot[i]; i = (i + 1) & (t->cap - 1))
		if (streq(obj_name(t->slot[i]), name))
			return t->slot[i];
	return NULL;
}

static void
names_insert(struct names *t, void *o)
{
	size_t i = hash_str(obj_name(o)) & (t->cap - 1);

	while (t->slot[i])
		i = (i + 1) & (t->cap - 1);
	t->slot[i] = o;
	t->n++;
}

static int
names_add(struct names *t, void *o)
{
	if (2 * (t->n + 1) > t->cap) {
		struct names nt = { 0 };
		size_t i;

		nt.cap = t->cap ? 2 * t->cap : 64;
		nt.slot = ims_zalloc(nt.cap * sizeof(*nt.slot));
		if (!nt.slot)
			return -ENOMEM;
		for (i = 0; i < t->cap; i++)
			if (t->slot[i])
				names_insert(&nt, t->slot[i]);
		ims_free(t->slot);
		*t = nt;
	}
	names_insert(t, o);
	return 0;
}

/* ---- the script's state ------------------------------------------------------ */

struct script {
	const char *name;
	FILE *out, *err;
	struct iommusim_script_summary sum;
	unsigned line; /* of the statement being checked or run */
	uint64_t steps; /* statements and repeat iterations run, against MAX_STEPS */
	int64_t iter; /* innermost repeat iteration, -1 outside */
	/* declarations that come before the simulation is built */
	struct iommusim_profile profile;
	bool have_platform, have_cpus;
	bool started; /* a statement other than platform, cpus or echo ran */
	uint64_t memory;
	uint32_t factor;
	bool factor_set;
	unsigned ncpus;
	/* the simulation */
	struct iommusim_sim *sim;
	struct iommusim_platform *pl;
	struct iommusim_s390_iommu *s390;
	struct iommusim_iommu *iommu;
	uint64_t now; /* the script's clock in cycles: the end of the last thing done */
	unsigned cur_cpu; /* the CPU of the running work item */
	bool cb_oom; /* an allocation failed inside a callback */
	uint64_t next_phys;
	struct names names;
	struct vec fns, doms; /* in declaration order, for teardown */
	/* sanitised copies of user text for messages */
	char sbuf[4][80];
	unsigned sidx;
};

/* User text made safe to print: control bytes as '?', long text cut. */
static const char *
safe(struct script *s, const char *t)
{
	char *b = s->sbuf[s->sidx++ & 3];
	size_t i, max = sizeof(s->sbuf[0]) - 4;

	for (i = 0; t[i] && i < max; i++)
		b[i] = (unsigned char)t[i] < 0x20 || (unsigned char)t[i] == 0x7f ? '?' : t[i];
	if (t[i])
		memcpy(&b[i], "...", 4);
	else
		b[i] = 0;
	return b;
}

static void vreport(struct script *s, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
static int error(struct script *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failure(struct script *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
vreport(struct script *s, const char *fmt, va_list ap)
{
	if (!s->err)
		return;
	if (s->line)
		fprintf(s->err, "%s:%u: ", s->name, s->line);
	else
		fprintf(s->err, "%s: ", s->name);
	if (s->iter >= 0)
		fprintf(s->err, "[i=%" PRId64 "] ", s->iter);
	vfprintf(s->err, fmt, ap);
	fputc('\n', s->err);
}

/* Report a problem that stops the script; returns RC_ERR. */
static int
error(struct script *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(s, fmt, ap);
	va_end(ap);
	return RC_ERR;
}

/* Report a failure (an expectation, a DMA operation). */
static void
failure(struct script *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(s, fmt, ap);
	va_end(ap);
}

static int
oom(struct script *s)
{
	return error(s, "out of memory");
}

/* ---- numbers, units, names ------------------------------------------------------ */

enum unit { U_NONE = 0, U_SIZE, U_TIME };

static const struct {
	const char *sfx;
	uint64_t mul;
	enum unit unit;
} suffixes[] = {
	{ "k", UINT64_C(1) << 10, U_SIZE },
	{ "K", UINT64_C(1) << 10, U_SIZE },
	{ "KiB", UINT64_C(1) << 10, U_SIZE },
	{ "M", UINT64_C(1) << 20, U_SIZE },
	{ "MiB", UINT64_C(1) << 20, U_SIZE },
	{ "G", UINT64_C(1) << 30, U_SIZE },
	{ "GiB", UINT64_C(1) << 30, U_SIZE },
	{ "T", UINT64_C(1) << 40, U_SIZE },
	{ "TiB", UINT64_C(1) << 40, U_SIZE },
	{ "ns", 1, U_TIME },
	{ "us", 1000, U_TIME },
	{ "ms", NS_PER_MS, U_TIME },
	{ "s", UINT64_C(1000000000), U_TIME },
};

/* A number: decimal or 0x hex, '_' between digits, an optional unit. */
static bool
parse_number(const char *t, uint64_t *v, enum unit *u)
{
	unsigned base = 10, digits = 0;
	uint64_t x = 0;
	size_t i;

	if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
		base = 16;
		t += 2;
	}
	for (; *t; t++) {
		unsigned d;

		if (*t == '_' && digits)
			continue;
		if (*t >= '0' && *t <= '9')
			d = (unsigned)(*t - '0');
		else if (base == 16 && *t >= 'a' && *t <= 'f')
			d = (unsigned)(*t - 'a' + 10);
		else if (base == 16 && *t >= 'A' && *t <= 'F')
			d = (unsigned)(*t - 'A' + 10);
		else
			break;
		if (x > (UINT64_MAX - d) / base)
			return false;
		x = x * base + d;
		digits++;
	}
	if (!digits)
		return false;
	*u = U_NONE;
	if (!*t) {
		*v = x;
		return true;
	}
	for (i = 0; i < IMS_ARRAY_SIZE(suffixes); i++) {
		if (!streq(t, suffixes[i].sfx))
			continue;
		if (x > UINT64_MAX / suffixes[i].mul)
			return false;
		*v = x * suffixes[i].mul;
		*u = suffixes[i].unit;
		return true;
	}
	return false;
}

static bool
parse_bool(const char *t, bool *b)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };
	size_t i;

	for (i = 0; i < IMS_ARRAY_SIZE(yes); i++) {
		if (streq(t, yes[i])) {
			*b = true;
			return true;
		}
		if (streq(t, no[i])) {
			*b = false;
			return true;
		}
	}
	return false;
}

static bool
valid_name(const char *t)
{
	size_t i;

	if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || *t == '_'))
		return false;
	for (i = 1; t[i]; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
		      (t[i] >= '0' && t[i] <= '9') || t[i] == '_' || t[i] == '-'))
			return false;
	return i < MAX_NAME && !streq(t, "platform") && !streq(t, "time");
}

/* Times print in the largest unit that keeps them exact. */
static void
fmt_time(char *b, size_t len, uint64_t ns)
{
	if (ns && !(ns % UINT64_C(1000000000)))
		snprintf(b, len, "%" PRIu64 "s", ns / UINT64_C(1000000000));
	else if (ns && !(ns % NS_PER_MS))
		snprintf(b, len, "%" PRIu64 "ms", ns / NS_PER_MS);
	else if (ns && !(ns % 1000))
		snprintf(b, len, "%" PRIu64 "us", ns / 1000);
	else
		snprintf(b, len, "%" PRIu64 "ns", ns);
}

/* ---- expectation keys ----------------------------------------------------------- */

enum vkind { V_COUNT = 0, V_TIME, V_ADDR, V_BOOL, V_STR };

enum kclass { C_DOM = 1, C_FN, C_HANDLE, C_PLATFORM, C_TIME };

/* Which domains a domain key applies to. */
#define W_DI 1 /* dma-iommu */
#define W_LG 2 /* legacy */
#define W_ALL 3

enum key_id {
	/* domains */
	K_MAPPED_PAGES,
	K_UNMAPPED_PAGES,
	K_GLOBAL_RPCITS,
	K_SYNC_MAP_RPCITS,
	K_SYNC_RPCITS,
	K_ENOMEM_RECOVERIES,
	K_ENOMEM_RECOVERY_FAILURES,
	K_SYNC_MAP_ERRORS,
	K_MAP_FAILURES,
	K_UNMAP_FAILURES,
	K_TYPE,
	K_POLICY,
	K_DOWNGRADED,
	K_DEVICES,
	K_FQ_SINGLE,
	K_FQ_SIZE,
	K_FQ_TIMEOUT,
	K_FQ_ENTRIES,
	K_FQ_PAGES,
	K_FQ_MAX_ENTRIES,
	K_FQ_MAX_PAGES,
	K_FQ_FLUSHES,
	K_FQ_FINISHED,
	K_FQ_FULL_FLUSHES,
	K_FQ_TIMER_FLUSHES,
	K_FQ_TIMER_ARMS,
	K_FQ_QUEUED,
	K_FQ_FREED,
	K_FQ_ARMED,
	K_STRICT_SYNCS,
	K_MAPS,
	K_UNMAPS,
	K_MAP_ERRORS,
	K_BYTES_MAPPED,
	K_IOVA_PAGES_LIVE,
	K_LAZY_REUSE_VIOLATIONS,
	K_EXP_COUNT,
	K_EXP_MIN,
	K_EXP_MAX,
	K_EXP_MEAN,
	K_EXP_P50,
	K_EXP_P90,
	K_EXP_P99,
	K_EXP_P999,
	K_ALLOCATED_PAGES,
	K_WRAPS,
	K_MAP_RPCITS,
	K_UNMAP_RPCITS,
	K_LEAKED_PAGES,
	K_LAZY_PAGES,
	K_USED_PAGES,
	K_NEXT_BIT,
	/* functions */
	K_RPCITS,
	K_RPCITS_REASON, /* + the reason, see fn_reason */
	K_ENOMEM,
	K_EIO,
	K_BUSY_RETRIES,
	K_BYTES_REFRESHED,
	K_TLB_REFRESH,
	K_IS_ISM,
	K_FID,
	K_START_DMA,
	K_END_DMA,
	K_FN_DOMAIN,
	K_ISM_ERROR,
	K_ISM_EVENTS,
	K_ISM_DMBS,
	K_ISM_DMB_BYTES,
	K_ISM_RPCITS_SEEN,
	K_ISM_FIRST_REASON,
	K_ISM_FIRST_IOVA,
	K_ISM_FIRST_ADDR,
	K_ISM_FIRST_LEN,
	K_ISM_FIRST_TIME,
	K_ISM_FIRST_EXPOSED,
	K_ISM_FIRST_CPU,
	/* handles */
	K_H_IOVA,
	K_H_SIZE,
	K_H_PHYS,
	K_H_MAPPED,
	K_H_CPU,
	K_H_PAGES,
	K_H_ERROR,
	K_H_DOMAIN,
	/* the platform */
	K_P_NAME,
	K_P_STATUS16,
	K_P_SHADOW_ENTRIES,
	K_P_MAX_SHADOW_ENTRIES,
	K_P_RPCITS,
	K_P_GLOBAL,
	K_P_HOST_MAPS,
	K_P_HOST_UNMAP_CALLS,
	K_P_WALKED_SLOTS,
	K_P_BUSY,
	/* the clock */
	K_TIME,
};

static const struct keydef {
	const char *name; /* normalised: lower case, '_' for spaces */
	unsigned char cls;
	unsigned char kind;
	unsigned char where; /* domains: W_* */
	unsigned char reason; /* K_RPCITS_REASON */
	unsigned short id;
} keydefs[] = {
#define DK(n, k, w, id)               \
	{                             \
		n, C_DOM, k, w, 0, id \
	}
	DK("mapped_pages", V_COUNT, W_ALL, K_MAPPED_PAGES),
	DK("unmapped_pages", V_COUNT, W_ALL, K_UNMAPPED_PAGES),
	DK("global_rpcits", V_COUNT, W_ALL, K_GLOBAL_RPCITS),
	DK("sync_map_rpcits", V_COUNT, W_ALL, K_SYNC_MAP_RPCITS),
	DK("sync_rpcits", V_COUNT, W_ALL, K_SYNC_RPCITS),
	DK("enomem_recoveries", V_COUNT, W_ALL, K_ENOMEM_RECOVERIES),
	DK("enomem_recovery_failures", V_COUNT, W_DI, K_ENOMEM_RECOVERY_FAILURES),
	DK("sync_map_errors", V_COUNT, W_DI, K_SYNC_MAP_ERRORS),
	DK("map_failures", V_COUNT, W_DI, K_MAP_FAILURES),
	DK("unmap_failures", V_COUNT, W_DI, K_UNMAP_FAILURES),
	DK("type", V_STR, W_ALL, K_TYPE),
	DK("policy", V_STR, W_ALL, K_POLICY),
	DK("downgraded", V_BOOL, W_DI, K_DOWNGRADED),
	DK("devices", V_COUNT, W_ALL, K_DEVICES),
	DK("fq.single", V_BOOL, W_DI, K_FQ_SINGLE),
	DK("fq.size", V_COUNT, W_DI, K_FQ_SIZE),
	DK("fq.timeout", V_TIME, W_DI, K_FQ_TIMEOUT),
	DK("fq.entries", V_COUNT, W_DI, K_FQ_ENTRIES),
	DK("fq.pages", V_COUNT, W_DI, K_FQ_PAGES),
	DK("fq.max_entries", V_COUNT, W_DI, K_FQ_MAX_ENTRIES),
	DK("fq.max_pages", V_COUNT, W_DI, K_FQ_MAX_PAGES),
	DK("fq.flushes", V_COUNT, W_DI, K_FQ_FLUSHES),
	DK("fq.finished", V_COUNT, W_DI, K_FQ_FINISHED),
	DK("fq.full_flushes", V_COUNT, W_DI, K_FQ_FULL_FLUSHES),
	DK("fq.timer_flushes", V_COUNT, W_DI, K_FQ_TIMER_FLUSHES),
	DK("fq.timer_arms", V_COUNT, W_DI, K_FQ_TIMER_ARMS),
	DK("fq.queued", V_COUNT, W_DI, K_FQ_QUEUED),
	DK("fq.freed", V_COUNT, W_DI, K_FQ_FREED),
	DK("fq.armed", V_BOOL, W_DI, K_FQ_ARMED),
	DK("strict_syncs", V_COUNT, W_DI, K_STRICT_SYNCS),
	DK("maps", V_COUNT, W_ALL, K_MAPS),
	DK("unmaps", V_COUNT, W_ALL, K_UNMAPS),
	DK("map_errors", V_COUNT, W_ALL, K_MAP_ERRORS),
	DK("bytes_mapped", V_COUNT, W_ALL, K_BYTES_MAPPED),
	DK("iova_pages_live", V_COUNT, W_ALL, K_IOVA_PAGES_LIVE),
	DK("lazy_reuse_violations", V_COUNT, W_DI, K_LAZY_REUSE_VIOLATIONS),
	DK("exposure.count", V_COUNT, W_DI, K_EXP_COUNT),
	DK("exposure.min", V_TIME, W_DI, K_EXP_MIN),
	DK("exposure.max", V_TIME, W_DI, K_EXP_MAX),
	DK("exposure.mean", V_TIME, W_DI, K_EXP_MEAN),
	DK("exposure.p50", V_TIME, W_DI, K_EXP_P50),
	DK("exposure.p90", V_TIME, W_DI, K_EXP_P90),
	DK("exposure.p99", V_TIME, W_DI, K_EXP_P99),
	DK("exposure.p999", V_TIME, W_DI, K_EXP_P999),
	DK("allocated_pages", V_COUNT, W_LG, K_ALLOCATED_PAGES),
	DK("wraps", V_COUNT, W_LG, K_WRAPS),
	DK("map_rpcits", V_COUNT, W_LG, K_MAP_RPCITS),
	DK("unmap_rpcits", V_COUNT, W_LG, K_UNMAP_RPCITS),
	DK("leaked_pages", V_COUNT, W_LG, K_LEAKED_PAGES),
	DK("lazy_pages", V_COUNT, W_LG, K_LAZY_PAGES),
	DK("used_pages", V_COUNT, W_LG, K_USED_PAGES),
	DK("next_bit", V_COUNT, W_LG, K_NEXT_BIT),
#undef DK
#define FK(n, k, id)                 \
	{                            \
		n, C_FN, k, 0, 0, id \
	}
#define FR(n, r)                                                  \
	{                                                         \
		"rpcits." n, C_FN, V_COUNT, 0, r, K_RPCITS_REASON \
	}
	FK("rpcits", V_COUNT, K_RPCITS),
	FR("other", IOMMUSIM_RPCIT_OTHER),
	FR("sync", IOMMUSIM_RPCIT_SYNC),
	FR("sync_map", IOMMUSIM_RPCIT_SYNC_MAP),
	FR("global_flush", IOMMUSIM_RPCIT_GLOBAL_FLUSH),
	FR("enomem_recovery", IOMMUSIM_RPCIT_ENOMEM_RECOVERY),
	FR("legacy_map", IOMMUSIM_RPCIT_LEGACY_MAP),
	FR("legacy_unmap", IOMMUSIM_RPCIT_LEGACY_UNMAP),
	FR("legacy_global", IOMMUSIM_RPCIT_LEGACY_GLOBAL),
	FK("enomem", V_COUNT, K_ENOMEM),
	FK("eio", V_COUNT, K_EIO),
	FK("busy_retries", V_COUNT, K_BUSY_RETRIES),
	FK("bytes_refreshed", V_COUNT, K_BYTES_REFRESHED),
	FK("tlb_refresh", V_BOOL, K_TLB_REFRESH),
	FK("ism", V_BOOL, K_IS_ISM),
	FK("fid", V_COUNT, K_FID),
	FK("start_dma", V_ADDR, K_START_DMA),
	FK("end_dma", V_ADDR, K_END_DMA),
	FK("domain", V_STR, K_FN_DOMAIN),
	FK("ism.error", V_BOOL, K_ISM_ERROR),
	FK("ism.events", V_COUNT, K_ISM_EVENTS),
	FK("ism.dmbs", V_COUNT, K_ISM_DMBS),
	FK("ism.dmb_bytes", V_COUNT, K_ISM_DMB_BYTES),
	FK("ism.rpcits_seen", V_COUNT, K_ISM_RPCITS_SEEN),
	FK("ism.first.reason", V_STR, K_ISM_FIRST_REASON),
	FK("ism.first.iova", V_ADDR, K_ISM_FIRST_IOVA),
	FK("ism.first.addr", V_ADDR, K_ISM_FIRST_ADDR),
	FK("ism.first.len", V_COUNT, K_ISM_FIRST_LEN),
	FK("ism.first.time", V_TIME, K_ISM_FIRST_TIME),
	FK("ism.first.exposed", V_COUNT, K_ISM_FIRST_EXPOSED),
	FK("ism.first.cpu", V_COUNT, K_ISM_FIRST_CPU),
#undef FK
#undef FR
#define HK(n, k, id)                     \
	{                                \
		n, C_HANDLE, k, 0, 0, id \
	}
	HK("iova", V_ADDR, K_H_IOVA),
	HK("size", V_COUNT, K_H_SIZE),
	HK("phys", V_ADDR, K_H_PHYS),
	HK("mapped", V_BOOL, K_H_MAPPED),
	HK("cpu", V_COUNT, K_H_CPU),
	HK("pages", V_COUNT, K_H_PAGES),
	HK("error", V_STR, K_H_ERROR),
	HK("domain", V_STR, K_H_DOMAIN),
#undef HK
#define PK(n, k, id)                       \
	{                                  \
		n, C_PLATFORM, k, 0, 0, id \
	}
	PK("name", V_STR, K_P_NAME),
	PK("status16", V_COUNT, K_P_STATUS16),
	PK("shadow_entries", V_COUNT, K_P_SHADOW_ENTRIES),
	PK("max_shadow_entries", V_COUNT, K_P_MAX_SHADOW_ENTRIES),
	PK("rpcits", V_COUNT, K_P_RPCITS),
	PK("global", V_COUNT, K_P_GLOBAL),
	PK("host_maps", V_COUNT, K_P_HOST_MAPS),
	PK("host_unmap_calls", V_COUNT, K_P_HOST_UNMAP_CALLS),
	PK("walked_slots", V_COUNT, K_P_WALKED_SLOTS),
	PK("busy", V_TIME, K_P_BUSY),
#undef PK
};

static const struct keydef *
keydef_find(unsigned cls, const char *prop)
{
	size_t i;

	for (i = 0; i < IMS_ARRAY_SIZE(keydefs); i++)
		if ((!cls || keydefs[i].cls == cls) && streq(keydefs[i].name, prop))
			return &keydefs[i];
	return NULL;
}

/* ---- statements ------------------------------------------------------------------ */

enum st_kind {
	ST_PLATFORM = 0,
	ST_CPUS,
	ST_FUNCTION,
	ST_DOMAIN,
	ST_MAP,
	ST_UNMAP,
	ST_DMB,
	ST_ADVANCE,
	ST_FLUSH,
	ST_RESET,
	ST_EXPECT,
	ST_PRINT,
	ST_ECHO,
	ST_REPEAT,
	ST_END,
};

static const struct {
	const char *name;
	unsigned min_pos, max_pos; /* positional tokens after the statement name */
} stmt_specs[] = {
	[ST_PLATFORM] = { "platform", 1, 1 },
	[ST_CPUS] = { "cpus", 1, 1 },
	[ST_FUNCTION] = { "function", 1, 1 },
	[ST_DOMAIN] = { "domain", 1, 1 },
	[ST_MAP] = { "map", 2, 2 },
	[ST_UNMAP] = { "unmap", 1, 1 },
	[ST_DMB] = { "dmb", 3, 3 },
	[ST_ADVANCE] = { "advance", 1, 1 },
	[ST_FLUSH] = { "flush", 1, 1 },
	[ST_RESET] = { "reset", 1, 1 },
	[ST_EXPECT] = { "expect", 3, 3 },
	[ST_PRINT] = { "print", 1, 1 },
	[ST_ECHO] = { "echo", 0, MAX_TOKENS },
	[ST_REPEAT] = { "repeat", 1, 1 },
	[ST_END] = { "end", 0, 0 },
};

enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

static const char *const op_names[] = { "==", "!=", "<", "<=", ">", ">=" };

/* One side of an expectation. */
struct operand {
	enum { OPD_NUM, OPD_KEY, OPD_WORD } type;
	const char *text; /* as written (for messages) */
	bool quoted;
	uint64_t num;
	enum unit unit;
	char obj[MAX_NAME]; /* OPD_KEY: the object, or "" for `time` */
	const struct keydef *key;
};

/* A statement, parsed and checked. Strings point into the tokens. */
struct op {
	enum st_kind kind;
	const char *a, *b, *c; /* positional */
	/* platform */
	struct iommusim_profile profile;
	uint64_t memory;
	uint32_t factor;
	bool factor_set;
	/* cpus, repeat: count; advance: ns */
	uint64_t n;
	/* function */
	uint32_t fid;
	bool fid_set, ism;
	int tlb_refresh; /* -1: the profile's */
	uint64_t start_dma, end_dma;
	/* domain */
	enum policy pol;
	bool pol_set;
	const char *devices;
	uint32_t fq_size, fq_timeout_ms;
	bool force_fq;
	/* map, unmap, flush */
	unsigned cpu;
	bool cpu_set;
	uint64_t size, phys;
	bool phys_set;
	enum iommusim_dma_dir dir;
	bool fails;
	/* dmb */
	bool reg;
	/* expect */
	struct operand lhs, rhs;
	enum cmp_op cmp;
	/* echo */
	const struct tok *tok;
	unsigned ntok;
};

/* key=value, unquoted, key non-empty. */
static bool
split_opt(const struct tok *t, char *key, size_t keylen, const char **val)
{
	const char *eq;

	if (t->quoted || !(eq = strchr(t->s, '=')) || eq == t->s || (size_t)(eq - t->s) >= keylen)
		return false;
	memcpy(key, t->s, (size_t)(eq - t->s));
	key[eq - t->s] = 0;
	*val = eq + 1;
	return true;
}

static int
want_uint(struct script *s, const char *key, const char *val, uint64_t max, uint64_t *out)
{
	enum unit u;

	if (!parse_number(val, out, &u) || u == U_TIME)
		return error(s, "'%s' wants a number, not '%s'", key, safe(s, val));
	if (*out > max)
		return error(s, "'%s' is at most %" PRIu64 ", not %s", key, max, safe(s, val));
	return RC_OK;
}

static int
want_bool(struct script *s, const char *key, const char *val, bool *out)
{
	if (!parse_bool(val, out))
		return error(s, "'%s' wants 0 or 1, not '%s'", key, safe(s, val));
	return RC_OK;
}

static int
want_time(struct script *s, const char *what, const char *val, uint64_t *ns)
{
	enum unit u;

	if (!parse_number(val, ns, &u) || (u != U_TIME && *ns))
		return error(s, "'%s' wants a time with a unit (ns, us, ms, s), not '%s'", what,
			     safe(s, val));
	return RC_OK;
}

static int
parse_operand(struct script *s, const struct tok *t, struct operand *o)
{
	const char *dot;
	char prop[MAX_TOKEN];
	size_t i;

	memset(o, 0, sizeof(*o));
	o->text = t->s;
	o->quoted = t->quoted;
	if (!t->s[0])
		return error(s, "empty operand");
	if (t->s[0] >= '0' && t->s[0] <= '9') {
		o->type = OPD_NUM;
		if (!parse_number(t->s, &o->num, &o->unit))
			return error(s, "bad number '%s'", safe(s, t->s));
		return RC_OK;
	}
	if (streq(t->s, "time")) {
		o->type = OPD_KEY;
		o->key = NULL;
		return RC_OK;
	}
	dot = strchr(t->s, '.');
	if (!dot) {
		bool b;

		if (!t->quoted && parse_bool(t->s, &b)) {
			o->type = OPD_NUM;
			o->num = b;
			return RC_OK;
		}
		o->type = OPD_WORD;
		return RC_OK;
	}
	o->type = OPD_KEY;
	if ((size_t)(dot - t->s) >= sizeof(o->obj))
		return error(s, "unknown key '%s'", safe(s, t->s));
	memcpy(o->obj, t->s, (size_t)(dot - t->s));
	o->obj[dot - t->s] = 0;
	/* The kernel's spelling ("Global RPCITs") and ours (global_rpcits) are one. */
	for (i = 0; dot[1 + i] && i < sizeof(prop) - 1; i++) {
		char c = dot[1 + i];

		prop[i] = c == ' ' ? '_' : (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	prop[i] = 0;
	if (!streq(o->obj, "platform") && !valid_name(o->obj))
		return error(s, "unknown key '%s'", safe(s, t->s));
	o->key = keydef_find(streq(o->obj, "platform") ? C_PLATFORM : 0, prop);
	if (!o->key || (o->key->cls == C_PLATFORM) != streq(o->obj, "platform"))
		return error(s, "unknown key '%s'", safe(s, t->s));
	/* A name may be a domain, a function or a handle: the class is checked
	 * when the key is read; here, only that some class has the property. */
	return RC_OK;
}

static int
stmt_kind(struct script *s, const struct tok *t, enum st_kind *kind)
{
	size_t i;

	if (!t->quoted)
		for (i = 0; i < IMS_ARRAY_SIZE(stmt_specs); i++)
			if (streq(t->s, stmt_specs[i].name)) {
				*kind = (enum st_kind)i;
				return RC_OK;
			}
	return error(s, "unknown statement '%s'", safe(s, t->s));
}

static int
check_name(struct script *s, const char *what, const struct tok *t)
{
	if (t->quoted || !valid_name(t->s))
		return error(s,
			     "bad %s name '%s' (a letter or '_', then letters, digits, '_', "
			     "'-'; not 'platform' or 'time')",
			     what, safe(s, t->s));
	return RC_OK;
}

/* Options of one statement kind. */
static int
parse_option(struct script *s, struct op *op, const char *key, const char *val)
{
	uint64_t x;
	int rc;

	switch (op->kind) {
	case ST_PLATFORM:
		if (streq(key, "memory")) {
			rc = want_uint(s, key, val, UINT64_MAX, &op->memory);
			if (!rc && (!op->memory || op->memory % PAGE))
				return error(s, "'memory' wants a positive multiple of 4k");
			return rc;
		}
		if (streq(key, "aperture_factor")) {
			op->factor_set = true;
			rc = want_uint(s, key, val, UINT32_MAX, &x);
			op->factor = (uint32_t)x;
			return rc;
		}
		switch (iommusim_profile_set(&op->profile, key, val)) {
		case 0:
			return RC_OK;
		case -ENOENT:
			return error(s, "unknown platform key '%s' (see `iommusim profile show`)",
				     safe(s, key));
		default:
			return error(s, "bad value '%s' for platform key '%s'", safe(s, val),
				     safe(s, key));
		}
	case ST_FUNCTION:
		if (streq(key, "fid")) {
			op->fid_set = true;
			rc = want_uint(s, key, val, UINT32_MAX, &x);
			op->fid = (uint32_t)x;
			return rc;
		}
		if (streq(key, "tlb_refresh")) {
			bool b = false;

			rc = want_bool(s, key, val, &b);
			op->tlb_refresh = b;
			return rc;
		}
		if (streq(key, "start_dma"))
			return want_uint(s, key, val, UINT64_MAX, &op->start_dma);
		if (streq(key, "end_dma"))
			return want_uint(s, key, val, UINT64_MAX, &op->end_dma);
		break;
	case ST_DOMAIN:
		if (streq(key, "policy")) {
			size_t i;

			for (i = 0; i < IMS_ARRAY_SIZE(policy_names); i++)
				if (streq(val, policy_names[i])) {
					op->pol = (enum policy)i;
					op->pol_set = true;
					return RC_OK;
				}
			return error(
				s,
				"unknown policy '%s' (kernel, strict, lazy-percpu, lazy-single, "
				"legacy, legacy-strict)",
				safe(s, val));
		}
		if (streq(key, "devices")) {
			if (!*val)
				return error(s, "'devices' wants a list of functions");
			op->devices = val;
			return RC_OK;
		}
		if (streq(key, "fq_size")) {
			rc = want_uint(s, key, val, IOMMUSIM_FQ_MAX_SIZE, &x);
			if (!rc && (x < 2 || !ims_is_pow2(x)))
				return error(s, "'fq_size' wants a power of two from 2 to %u",
					     IOMMUSIM_FQ_MAX_SIZE);
			op->fq_size = (uint32_t)x;
			return rc;
		}
		if (streq(key, "fq_timeout")) {
			rc = want_time(s, key, val, &x);
			if (!rc && (!x || x % NS_PER_MS || x / NS_PER_MS > UINT32_MAX))
				return error(s,
					     "'fq_timeout' wants whole milliseconds (1ms or more)");
			op->fq_timeout_ms = (uint32_t)(x / NS_PER_MS);
			return rc;
		}
		if (streq(key, "force_fq"))
			return want_bool(s, key, val, &op->force_fq);
		break;
	case ST_MAP:
		if (streq(key, "size")) {
			rc = want_uint(s, key, val, MAX_MAP_SIZE, &op->size);
			if (!rc && !op->size)
				return error(s, "'size' must not be 0");
			return rc;
		}
		if (streq(key, "phys")) {
			op->phys_set = true;
			return want_uint(s, key, val, UINT64_MAX, &op->phys);
		}
		if (streq(key, "dir")) {
			if (streq(val, "bidi") || streq(val, "bidirectional"))
				op->dir = IOMMUSIM_DMA_BIDIRECTIONAL;
			else if (streq(val, "to") || streq(val, "to_device"))
				op->dir = IOMMUSIM_DMA_TO_DEVICE;
			else if (streq(val, "from") || streq(val, "from_device"))
				op->dir = IOMMUSIM_DMA_FROM_DEVICE;
			else
				return error(s, "'dir' wants bidi, to or from, not '%s'",
					     safe(s, val));
			return RC_OK;
		}
		break;
	default:
		break;
	}
	/* options several statements share */
	if ((op->kind == ST_MAP || op->kind == ST_UNMAP) && streq(key, "fails"))
		return want_bool(s, key, val, &op->fails);
	if ((op->kind == ST_MAP || op->kind == ST_UNMAP || op->kind == ST_FLUSH) &&
	    streq(key, "cpu")) {
		op->cpu_set = true;
		rc = want_uint(s, key, val, MAX_CPUS - 1, &x);
		op->cpu = (unsigned)x;
		return rc;
	}
	return error(s, "'%s' takes no option '%s'", stmt_specs[op->kind].name, safe(s, key));
}

/* Flags: options without a value. */
static int
parse_flag(struct script *s, struct op *op, const struct tok *t)
{
	if (op->kind == ST_FUNCTION && !t->quoted && streq(t->s, "ism")) {
		op->ism = true;
		return RC_OK;
	}
	if (strchr(t->s, '=') && !t->quoted)
		return error(s, "bad option '%s'", safe(s, t->s));
	return error(s, "'%s' takes at most %u argument%s; what is '%s'?",
		     stmt_specs[op->kind].name, stmt_specs[op->kind].max_pos,
		     stmt_specs[op->kind].max_pos == 1 ? "" : "s", safe(s, t->s));
}

/*
 * Parse and check one statement (tokens already substituted). Names are not
 * looked up here: they may be declared later, or by a repeat.
 */
static int
parse_stmt(struct script *s, const struct tok *t, unsigned n, struct op *op)
{
	char seen[MAX_TOKENS][32];
	unsigned npos = 0, nseen = 0, i;
	int rc;

	memset(op, 0, sizeof(*op));
	op->tlb_refresh = -1;
	rc = stmt_kind(s, &t[0], &op->kind);
	if (rc)
		return rc;
	if (op->kind == ST_ECHO) {
		op->tok = t + 1;
		op->ntok = n - 1;
		return RC_OK;
	}
	if (op->kind == ST_PLATFORM && n > 1) {
		const struct iommusim_profile *p = iommusim_profile_find(t[1].s);

		/* Scripts drive the s390 stack: the x86 profiles do not apply. */
		if (!p || t[1].quoted || p->kind > IOMMUSIM_PLATFORM_KVM)
			return error(s, "unknown platform '%s' (lpar, zvm or kvm)",
				     safe(s, t[1].s));
		op->profile = *p;
	}
	/* positional tokens, then options */
	for (i = 1; i < n; i++) {
		char key[32];
		const char *val;
		unsigned j;

		if (npos < stmt_specs[op->kind].max_pos &&
		    (op->kind == ST_EXPECT || t[i].quoted || !strchr(t[i].s, '='))) {
			const char **slot = npos == 0 ? &op->a : npos == 1 ? &op->b : &op->c;

			*slot = t[i].s;
			npos++;
			continue;
		}
		if (!split_opt(&t[i], key, sizeof(key), &val)) {
			rc = parse_flag(s, op, &t[i]);
			if (rc)
				return rc;
			continue;
		}
		for (j = 0; j < nseen; j++)
			if (streq(seen[j], key))
				return error(s, "option '%s' given twice", safe(s, key));
		memcpy(seen[nseen++], key, sizeof(key));
		rc = parse_option(s, op, key, val);
		if (rc)
			return rc;
	}
	if (npos < stmt_specs[op->kind].min_pos)
		return error(s, "'%s' needs %u argument%s", stmt_specs[op->kind].name,
			     stmt_specs[op->kind].min_pos,
			     stmt_specs[op->kind].min_pos == 1 ? "" : "s");
	switch (op->kind) {
	case ST_CPUS:
		rc = want_uint(s, "cpus", op->a, MAX_CPUS, &op->n);
		if (!rc && !op->n)
			return error(s, "'cpus' wants 1 to %u", MAX_CPUS);
		return rc;
	case ST_FUNCTION:
		return check_name(s, "function", &t[1]);
	case ST_DOMAIN:
		rc = check_name(s, "domain", &t[1]);
		if (rc)
			return rc;
		if (!op->pol_set)
			return error(s, "'domain' needs policy=");
		if (!op->devices)
			return error(s, "'domain' needs devices=");
		if ((op->fq_size || op->fq_timeout_ms || op->force_fq) &&
		    (op->pol == P_STRICT || op->pol >= P_LEGACY))
			return error(s, "fq_size, fq_timeout and force_fq need a lazy policy "
					"(kernel, lazy-percpu, lazy-single)");
		return RC_OK;
	case ST_MAP:
		rc = check_name(s, "handle", &t[1]);
		if (rc)
			return rc;
		if (!op->size)
			op->size = PAGE;
		return check_name(s, "domain", &t[2]);
	case ST_UNMAP:
		return check_name(s, "handle", &t[1]);
	case ST_DMB:
		rc = check_name(s, "function", &t[1]);
		if (!rc)
			rc = check_name(s, "handle", &t[2]);
		if (rc)
			return rc;
		if (streq(op->c, "register"))
			op->reg = true;
		else if (!streq(op->c, "unregister"))
			return error(s, "'dmb' wants register or unregister, not '%s'",
				     safe(s, op->c));
		return RC_OK;
	case ST_ADVANCE:
		rc = want_time(s, "advance", op->a, &op->n);
		return rc;
	case ST_FLUSH:
	case ST_RESET:
		return check_name(s, "domain", &t[1]);
	case ST_PRINT:
		if (streq(op->a, "platform") && !t[1].quoted)
			return RC_OK;
		return check_name(s, "object", &t[1]);
	case ST_REPEAT:
		rc = want_uint(s, "repeat", op->a, MAX_REPEAT, &op->n);
		return rc;
	case ST_EXPECT: {
		size_t k;

		for (k = 0; k < IMS_ARRAY_SIZE(op_names); k++)
			if (!t[2].quoted && streq(op->b, op_names[k]))
				break;
		if (k == IMS_ARRAY_SIZE(op_names))
			return error(s, "unknown comparison '%s' (==, !=, <, <=, >, >=)",
				     safe(s, op->b));
		op->cmp = (enum cmp_op)k;
		rc = parse_operand(s, &t[1], &op->lhs);
		if (!rc)
			rc = parse_operand(s, &t[3], &op->rhs);
		return rc;
	}
	default:
		return RC_OK;
	}
}

/* ---- {i} substitution ------------------------------------------------------------ */

/*
 * Copy @in to @out with `{i}` replaced by @iter and `{i%N}` by @iter mod N.
 * @iter < 0: outside a repeat, where any `{` is an error.
 */
static int
subst(struct script *s, const struct tok *in, unsigned n, int64_t iter, struct tok *out,
      char (*bufs)[MAX_TOKEN])
{
	unsigned k;

	for (k = 0; k < n; k++) {
		const char *p = in[k].s;
		size_t len = 0;

		out[k].quoted = in[k].quoted;
		if (!strchr(p, '{')) {
			out[k].s = p;
			continue;
		}
		while (*p) {
			char num[32];
			uint64_t mod = 0;
			const char *q;
			size_t nl;

			if (*p != '{') {
				if (len + 1 >= MAX_TOKEN)
					return error(s, "token too long after substitution");
				bufs[k][len++] = *p++;
				continue;
			}
			if (strncmp(p, "{i}", 3) && strncmp(p, "{i%", 3))
				return error(s, "bad substitution in '%s' ({i} or {i%%N})",
					     safe(s, in[k].s));
			if (p[2] == '%') {
				char *end;

				q = p + 3;
				if (*q < '1' || *q > '9')
					return error(s, "bad substitution in '%s' ({i} or {i%%N})",
						     safe(s, in[k].s));
				errno = 0;
				mod = strtoull(q, &end, 10);
				if (errno || *end != '}')
					return error(s, "bad substitution in '%s' ({i} or {i%%N})",
						     safe(s, in[k].s));
				q = end + 1;
			} else {
				q = p + 3;
			}
			if (iter < 0)
				return error(s, "'{i}' outside a repeat");
			snprintf(num, sizeof(num), "%" PRIu64,
				 mod ? (uint64_t)iter % mod : (uint64_t)iter);
			nl = strlen(num);
			if (len + nl >= MAX_TOKEN)
				return error(s, "token too long after substitution");
			memcpy(&bufs[k][len], num, nl);
			len += nl;
			p = q;
		}
		bufs[k][len] = 0;
		out[k].s = bufs[k];
	}
	return RC_OK;
}

/* ---- tokenising ------------------------------------------------------------------ */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Split one line (a copy owned by @st) into @tok. */
static int
tokenize(struct script *s, struct stmt *st, struct tok *tok)
{
	char *p = st->buf;

	st->ntok = 0;
	for (;;) {
		char *start;

		while (is_blank(*p))
			p++;
		if (!*p || *p == '#')
			return RC_OK;
		if (st->ntok == MAX_TOKENS)
			return error(s, "too many tokens (at most %d)", MAX_TOKENS);
		if (*p == '"') {
			start = ++p;
			while (*p && *p != '"')
				p++;
			if (!*p)
				return error(s, "unterminated quote");
			*p++ = 0;
			if (*p && !is_blank(*p) && *p != '#')
				return error(s, "text right after a closing quote");
			tok[st->ntok].quoted = true;
		} else {
			start = p;
			while (*p && !is_blank(*p) && *p != '#') {
				if (*p == '"')
					return error(s, "a quote inside a word");
				p++;
			}
			if (*p == '#') {
				*p = 0; /* the comment starts here */
				tok[st->ntok].quoted = false;
				tok[st->ntok++].s = start;
				return RC_OK;
			}
			if (*p)
				*p++ = 0;
			tok[st->ntok].quoted = false;
		}
		for (char *c = start; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
				return error(s, "control character in '%s'", safe(s, start));
		if (strlen(start) >= MAX_TOKEN)
			return error(s, "token too long (at most %d bytes)", MAX_TOKEN - 1);
		tok[st->ntok++].s = start;
	}
}

static void
prog_free(struct prog *pg)
{
	size_t i;

	for (i = 0; i < pg->n; i++) {
		ims_free(pg->v[i]->tok);
		ims_free(pg->v[i]->buf);
		ims_free(pg->v[i]);
	}
	ims_free(pg->v);
	memset(pg, 0, sizeof(*pg));
}

static int
prog_push(struct prog *pg, struct stmt *st)
{
	if (pg->n == pg->cap) {
		size_t cap = pg->cap ? 2 * pg->cap : 32;
		struct stmt **v = ims_zalloc(cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		if (pg->n)
			memcpy(v, pg->v, pg->n * sizeof(*v));
		ims_free(pg->v);
		pg->v = v;
		pg->cap = cap;
	}
	pg->v[pg->n++] = st;
	return 0;
}

static bool
is_word(const struct tok *t, const char *w)
{
	return !t->quoted && streq(t->s, w);
}

/* Check a simple statement's tokens as they will run (with {i} = 0 inside repeats). */
static int
check_simple(struct script *s, const struct tok *t, unsigned n, bool in_repeat)
{
	char bufs[MAX_TOKENS][MAX_TOKEN];
	struct tok sub[MAX_TOKENS];
	struct op op;
	int rc;

	rc = subst(s, t, n, in_repeat ? 0 : -1, sub, bufs);
	if (rc)
		return rc;
	return parse_stmt(s, sub, n, &op);
}

static int
check_tokens(struct script *s, const struct tok *t, unsigned n, bool in_repeat)
{
	char bufs[2][MAX_TOKEN];
	struct tok sub[2];
	uint64_t count;
	int rc;

	if (!is_word(&t[0], "repeat") || n <= 2)
		return check_simple(s, t, n, in_repeat);
	rc = subst(s, t, 2, in_repeat ? 0 : -1, sub, bufs);
	if (rc)
		return rc;
	rc = want_uint(s, "repeat", sub[1].s, MAX_REPEAT, &count);
	if (rc)
		return rc;
	if (is_word(&t[2], "end") || (is_word(&t[2], "repeat") && n == 4))
		return error(s, "a one-line repeat cannot open or close a block");
	return check_tokens(s, t + 2, n - 2, true);
}

/* Split @text into statements, match repeat blocks, and check everything. */
static int
prog_build(struct script *s, const char *text, struct prog *pg)
{
	size_t stack[MAX_DEPTH], depth = 0, i;
	struct tok tok[MAX_TOKENS];
	const char *p = text;
	unsigned line = 0;
	int rc;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct stmt *st;

		s->line = ++line;
		if (len > MAX_LINE)
			return error(s, "line too long (at most %d bytes)", MAX_LINE);
		st = ims_zalloc(sizeof(*st));
		if (!st)
			return oom(s);
		st->buf = ims_zalloc(len + 1);
		if (!st->buf || prog_push(pg, st)) {
			ims_free(st->buf);
			ims_free(st);
			return oom(s);
		}
		memcpy(st->buf, p, len);
		st->line = line;
		rc = tokenize(s, st, tok);
		if (rc)
			return rc;
		if (st->ntok) {
			st->tok = ims_zalloc(st->ntok * sizeof(*st->tok));
			if (!st->tok)
				return oom(s);
			memcpy(st->tok, tok, st->ntok * sizeof(*st->tok));
		}
		if (!st->ntok) {
			ims_free(st->buf);
			ims_free(st);
			pg->n--;
		} else {
			st->depth = (unsigned)depth;
			if (is_word(&st->tok[0], "repeat") && st->ntok == 2) {
				if (depth == MAX_DEPTH)
					return error(s, "repeats nested too deep (at most %d)",
						     MAX_DEPTH);
				st->block = true;
				stack[depth++] = pg->n - 1;
			} else if (is_word(&st->tok[0], "end")) {
				if (st->ntok != 1)
					return error(s, "'end' takes no arguments");
				if (!depth)
					return error(s, "'end' without 'repeat'");
				pg->v[stack[--depth]]->end = pg->n - 1;
				st->depth = (unsigned)depth;
			}
		}
		p = nl ? nl + 1 : p + len;
	}
	if (depth) {
		s->line = pg->v[stack[depth - 1]]->line;
		return error(s, "'repeat' without 'end'");
	}
	for (i = 0; i < pg->n; i++) {
		struct stmt *st = pg->v[i];

		s->line = st->line;
		if (is_word(&st->tok[0], "end"))
			continue;
		if (st->block) {
			char bufs[2][MAX_TOKEN];
			struct tok sub[2];
			uint64_t n;

			rc = subst(s, st->tok, 2, st->depth ? 0 : -1, sub, bufs);
			if (!rc)
				rc = want_uint(s, "repeat", sub[1].s, MAX_REPEAT, &n);
		} else {
			rc = check_tokens(s, st->tok, st->ntok, st->depth > 0);
		}
		if (rc)
			return rc;
	}
	return RC_OK;
}

/* ---- building and tearing down the simulation --------------------------------------- */

static int
ensure_built(struct script *s)
{
	struct iommusim_sim_cfg scfg = { 0 };
	struct iommusim_s390_iommu_cfg icfg = { 0 };
	int ret;

	if (s->sim)
		return RC_OK;
	scfg.clock_ghz = s->profile.clock_ghz;
	scfg.ncpus = s->ncpus;
	scfg.seed = 1;
	ret = iommusim_sim_create(&scfg, &s->sim);
	if (ret == -ENOMEM)
		return oom(s);
	if (ret)
		return error(s, "cannot create the engine (clock_ghz %g out of range?)",
			     s->profile.clock_ghz);
	ret = iommusim_platform_create(&s->profile, s->sim, &s->pl);
	if (ret)
		return ret == -ENOMEM ? oom(s) : error(s, "cannot create the platform model");
	icfg.memory_bytes = s->memory;
	icfg.aperture_factor = s->factor;
	icfg.aperture_factor_set = s->factor_set;
	ret = iommusim_s390_iommu_create(&icfg, NULL, &s->s390, &s->iommu);
	if (ret)
		return ret == -ENOMEM ? oom(s) : error(s, "cannot create the s390 IOMMU driver");
	return RC_OK;
}

static void
dom_teardown(struct sdom *sd)
{
	unsigned i;

	iommusim_dma_iommu_destroy(sd->d); /* cancels the timer */
	sd->d = NULL;
	for (i = 0; i < sd->nfns; i++) {
		iommusim_device_destroy(sd->fns[i]->dev, NULL);
		sd->fns[i]->dev = NULL;
	}
	iommusim_domain_free(sd->dom);
	iommusim_legacy_dma_destroy(sd->legacy, NULL);
}

static void
script_teardown(struct script *s)
{
	size_t i;

	for (i = 0; i < s->doms.n; i++)
		dom_teardown(s->doms.v[i]);
	for (i = 0; i < s->fns.n; i++) {
		struct sfn *f = s->fns.v[i];

		iommusim_ism_destroy(f->ism);
		iommusim_zpci_fn_destroy(f->fn);
	}
	iommusim_s390_iommu_destroy(s->s390);
	iommusim_platform_destroy(s->pl);
	iommusim_sim_destroy(s->sim);
	for (i = 0; i < s->names.cap; i++)
		ims_free(s->names.slot[i]);
	ims_free(s->names.slot);
	vec_fini(&s->fns);
	vec_fini(&s->doms);
}

/* ---- time, CPUs and the flush-queue timer --------------------------------------------- */

/* Run the engine's events up to @until; the clock follows the work they did. */
static void
run_events(struct script *s, uint64_t until)
{
	(void)iommusim_sim_run(s->sim, until, NULL);
	s->now = IMS_MAX(s->now, until);
}

static int
item_begin(struct script *s, unsigned cpu, struct iommusim_ctx *ctx)
{
	if (cpu >= s->ncpus)
		return error(s, "cpu %u out of range (cpus %u)", cpu, s->ncpus);
	run_events(s, s->now);
	if (iommusim_sim_cpu_begin(s->sim, cpu, s->now, ctx, NULL))
		return error(s, "cannot start work on cpu %u", cpu);
	s->cur_cpu = cpu;
	return RC_OK;
}

static void
item_end(struct script *s, unsigned cpu)
{
	uint64_t end = iommusim_sim_cpu_end(s->sim, cpu);

	s->now = IMS_MAX(s->now, end);
}

/* The flush-queue timer fired: its callback runs on the CPU that armed it. */
static void
timer_fire(struct iommusim_sim *sim, void *priv)
{
	struct sdom *sd = priv;
	struct script *s = sd->s;
	struct iommusim_ctx ctx;
	uint64_t end;

	sd->timer_armed = false;
	if (iommusim_sim_cpu_begin(sim, sd->timer_cpu, iommusim_sim_now(sim), &ctx, NULL))
		return;
	s->cur_cpu = sd->timer_cpu;
	iommusim_dma_iommu_fq_timeout(sd->d, &ctx);
	end = iommusim_sim_cpu_end(sim, sd->timer_cpu);
	s->now = IMS_MAX(s->now, end);
}

static void
timer_arm(void *priv, uint64_t expires_ns)
{
	struct sdom *sd = priv;
	struct script *s = sd->s;
	uint64_t at = iommusim_sim_ns_to_cycles(s->sim, expires_ns);

	at = IMS_MAX(at, iommusim_sim_now(s->sim));
	if (iommusim_sim_schedule(s->sim, at, timer_fire, sd, &sd->timer_id)) {
		s->cb_oom = true;
		return;
	}
	sd->timer_armed = true;
	sd->timer_cpu = s->cur_cpu;
}

static void
timer_cancel(void *priv)
{
	struct sdom *sd = priv;

	if (sd->timer_armed)
		(void)iommusim_sim_cancel(sd->s->sim, sd->timer_id);
	sd->timer_armed = false;
}

static const struct iommusim_dma_timer_ops timer_ops = {
	.arm = timer_arm,
	.cancel = timer_cancel,
};

/* ---- lookups ------------------------------------------------------------------------ */

static void *
lookup(struct script *s, const char *name, enum okind kind, const char *what, int *rc)
{
	void *o = names_find(&s->names, name);

	*rc = RC_OK;
	if (!o)
		*rc = error(s, "unknown %s '%s'", what, safe(s, name));
	else if (*(enum okind *)o != kind)
		*rc = error(s, "'%s' is not a %s", safe(s, name), what);
	return *rc ? NULL : o;
}

static const char *
kind_name(enum okind k)
{
	return k == O_FN ? "function" : k == O_DOM ? "domain" : "handle";
}

static int
declare(struct script *s, void *o)
{
	void *old = names_find(&s->names, obj_name(o));

	if (old)
		return error(s, "'%s' is already a %s", safe(s, obj_name(o)),
			     kind_name(*(enum okind *)old));
	if (names_add(&s->names, o))
		return oom(s);
	return RC_OK;
}

/* ---- statements that build ---------------------------------------------------------- */

static int
do_platform(struct script *s, const struct op *op)
{
	if (s->started)
		return error(s, "'platform' must come before every other statement");
	if (s->have_platform)
		return error(s, "the platform is already declared");
	s->have_platform = true;
	s->profile = op->profile;
	s->memory = op->memory;
	s->factor = op->factor;
	s->factor_set = op->factor_set;
	return RC_OK;
}

static int
do_cpus(struct script *s, const struct op *op)
{
	if (s->started)
		return error(s, "'cpus' must come before every statement but 'platform'");
	if (s->have_cpus)
		return error(s, "the CPUs are already declared");
	s->have_cpus = true;
	s->ncpus = (unsigned)op->n;
	return RC_OK;
}

static int
do_function(struct script *s, const struct op *op)
{
	struct iommusim_zpci_fn_cfg cfg = { 0 };
	struct sfn *f;
	size_t i;
	int rc, ret;

	rc = ensure_built(s);
	if (rc)
		return rc;
	f = ims_zalloc(sizeof(*f));
	if (!f)
		return oom(s);
	f->kind = O_FN;
	snprintf(f->name, sizeof(f->name), "%s", op->a);
	rc = declare(s, f);
	if (rc) {
		ims_free(f);
		return rc;
	}
	f->fid = op->fid_set ? op->fid : (uint32_t)s->fns.n + 1;
	for (i = 0; i < s->fns.n; i++)
		if (((struct sfn *)s->fns.v[i])->fid == f->fid)
			return error(s, "fid %" PRIu32 " is already function '%s'", f->fid,
				     ((struct sfn *)s->fns.v[i])->name);
	if (vec_push(&s->fns, f))
		return oom(s);
	f->is_ism = op->ism;
	f->tlb_refresh = op->tlb_refresh < 0 ? s->profile.tlb_refresh : op->tlb_refresh;
	cfg.fid = f->fid;
	cfg.pft = f->is_ism ? IOMMUSIM_PCI_FUNC_TYPE_ISM : 0;
	cfg.tlb_refresh = f->tlb_refresh;
	cfg.start_dma = op->start_dma;
	cfg.end_dma = op->end_dma;
	cfg.platform = &iommusim_platform_zpci_ops;
	cfg.platform_priv = s->pl;
	ret = iommusim_zpci_fn_create(&cfg, &f->fn);
	if (ret)
		return ret == -ENOMEM ?
			       oom(s) :
			       error(s, "function '%s': bad DMA window (start_dma > end_dma)",
				     f->name);
	if (f->is_ism && iommusim_ism_create(f->fn, &f->ism))
		return oom(s);
	return RC_OK;
}

static int
dom_setup_dma_iommu(struct script *s, struct sdom *sd)
{
	struct iommusim_device *first;
	enum iommusim_domain_type type;
	unsigned i;
	int ret;

	for (i = 0; i < sd->nfns; i++) {
		struct iommusim_device_cfg dcfg = { .is_pci = true, .drvdata = sd->fns[i]->fn };

		ret = iommusim_device_create(s->iommu, &dcfg, &sd->fns[i]->dev);
		if (ret)
			return ret == -ENOMEM ? oom(s) :
						error(s, "domain '%s': probing '%s' failed (%s)",
						      sd->name, sd->fns[i]->name, strerror(-ret));
	}
	first = sd->fns[0]->dev;
	switch (sd->pol) {
	case P_KERNEL: {
		struct iommusim_domain_decision dec;

		ret = iommusim_iommu_decide_domain_type(first, &dec);
		if (ret)
			return error(s, "domain '%s': no default domain type (%s)", sd->name,
				     strerror(-ret));
		type = sd->force_fq ? IOMMUSIM_DOMAIN_DMA_FQ : dec.requested;
		break;
	}
	case P_STRICT:
		type = IOMMUSIM_DOMAIN_DMA;
		break;
	default:
		type = IOMMUSIM_DOMAIN_DMA_FQ;
		break;
	}
	ret = iommusim_domain_alloc(first, type, &sd->dom);
	if (ret)
		return ret == -ENOMEM ? oom(s) :
					error(s, "domain '%s': allocation failed (%s)", sd->name,
					      strerror(-ret));
	for (i = 0; i < sd->nfns; i++) {
		ret = iommusim_iommu_attach_device(sd->dom, sd->fns[i]->dev, NULL);
		if (ret)
			return ret == -ENOMEM ? oom(s) :
						error(s, "domain '%s': attaching '%s' failed (%s)",
						      sd->name, sd->fns[i]->name, strerror(-ret));
	}
	return RC_OK;
}

static int
do_domain(struct script *s, const struct op *op)
{
	char list[MAX_TOKEN];
	char *save = NULL, *name;
	struct sdom *sd;
	int rc, ret;

	rc = ensure_built(s);
	if (rc)
		return rc;
	sd = ims_zalloc(sizeof(*sd));
	if (!sd)
		return oom(s);
	sd->kind = O_DOM;
	sd->s = s;
	snprintf(sd->name, sizeof(sd->name), "%s", op->a);
	rc = declare(s, sd);
	if (rc) {
		ims_free(sd);
		return rc;
	}
	if (vec_push(&s->doms, sd))
		return oom(s);
	sd->pol = op->pol;
	sd->force_fq = op->force_fq;
	snprintf(list, sizeof(list), "%s", op->devices);
	for (name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		struct sfn *f = lookup(s, name, O_FN, "function", &rc);

		if (rc)
			return rc;
		if (f->dom)
			return error(s, "function '%s' is already in domain '%s'", f->name,
				     f->dom->name);
		if (sd->nfns == MAX_DEVICES)
			return error(s, "at most %d functions per domain", MAX_DEVICES);
		sd->fns[sd->nfns++] = f;
		f->dom = sd;
	}
	if (!sd->nfns)
		return error(s, "'devices' wants a list of functions");
	if (sd->pol >= P_LEGACY) {
		struct iommusim_legacy_dma_cfg lcfg = { 0 };

		if (sd->nfns != 1)
			return error(s, "a legacy domain has exactly one function (the pre-6.7 "
					"DMA API is per function)");
		lcfg.strict = sd->pol == P_LEGACY_STRICT;
		lcfg.aperture = iommusim_s390_iommu_aperture(
			s->memory ? s->memory : UINT64_C(16) << 30, s->factor_set ? s->factor : 1);
		ret = iommusim_legacy_dma_create(sd->fns[0]->fn, &lcfg, NULL, &sd->legacy,
						 &sd->dma);
		if (ret)
			return ret == -ENOMEM ?
				       oom(s) :
				       error(s, "domain '%s': legacy DMA set-up failed (%s)",
					     sd->name, strerror(-ret));
		return RC_OK;
	}
	rc = dom_setup_dma_iommu(s, sd);
	if (rc)
		return rc;
	{
		struct iommusim_dma_iommu_cfg cfg = { 0 };
		struct iommusim_device *first = sd->fns[0]->dev;

		cfg.ncpus = s->ncpus;
		cfg.fq_type = sd->pol == P_LAZY_PERCPU ? IOMMUSIM_FQ_PER_CPU :
			      sd->pol == P_LAZY_SINGLE ? IOMMUSIM_FQ_SINGLE :
							 IOMMUSIM_FQ_AUTO;
		cfg.fq_size = op->fq_size;
		cfg.fq_timeout_ms = op->fq_timeout_ms;
		cfg.fq_timer = &timer_ops;
		cfg.fq_timer_priv = sd;
		cfg.check_lazy_reuse = true;
		/* force_fq: the sysfs DMA -> DMA-FQ switch, which does not check
		 * IOMMU_CAP_DEFERRED_FLUSH (KERNEL_SPEC §2.6): how an ISM device
		 * ends up on a flush queue. */
		cfg.skip_deferred_flush_check = sd->force_fq;
		ret = iommusim_dma_iommu_create(sd->dom, first, &cfg, &sd->d, &sd->dma);
		if (ret)
			return ret == -ENOMEM ?
				       oom(s) :
				       error(s, "domain '%s': dma-iommu set-up failed (%s)",
					     sd->name, strerror(-ret));
	}
	return RC_OK;
}

/* ---- DMA statements ------------------------------------------------------------------ */

static int
do_map(struct script *s, const struct op *op)
{
	struct iommusim_ctx ctx;
	struct shandle *h;
	struct sdom *sd;
	uint64_t dma = 0, phys;
	unsigned cpu = op->cpu_set ? op->cpu : 0;
	int rc, ret;

	rc = ensure_built(s);
	if (rc)
		return rc;
	sd = lookup(s, op->b, O_DOM, "domain", &rc);
	if (rc)
		return rc;
	h = names_find(&s->names, op->a);
	if (h && h->kind != O_HANDLE)
		return error(s, "'%s' is already a %s", h->name, kind_name(h->kind));
	if (h && h->mapped)
		return error(s, "handle '%s' is already mapped (unmap it first)", h->name);
	if (!h) {
		h = ims_zalloc(sizeof(*h));
		if (!h)
			return oom(s);
		h->kind = O_HANDLE;
		snprintf(h->name, sizeof(h->name), "%s", op->a);
		if (names_add(&s->names, h)) {
			ims_free(h);
			return oom(s);
		}
	}
	if (op->phys_set) {
		phys = op->phys;
	} else {
		phys = s->next_phys;
		s->next_phys += (op->size + PAGE - 1) & ~(PAGE - 1);
	}
	rc = item_begin(s, cpu, &ctx);
	if (rc)
		return rc;
	ret = iommusim_dma_map_page(&sd->dma, phys, op->size, op->dir, 0, &ctx, &dma);
	item_end(s, cpu);
	h->dom = sd;
	h->phys = phys;
	h->size = op->size;
	h->dir = op->dir;
	h->cpu = cpu;
	h->error = -ret;
	h->mapped = !ret;
	if (!ret) {
		h->dma = dma;
		h->ever_mapped = true;
	}
	if (op->fails) {
		s->sum.expectations++;
		if (!ret) {
			s->sum.failed++;
			failure(s,
				"expected map %s on %s to fail, but it succeeded (iova 0x%" PRIx64
				")",
				h->name, sd->name, dma);
		}
		return RC_OK;
	}
	if (ret) {
		failure(s, "map %s on %s failed: %s (-%s)", h->name, sd->name, strerror(-ret),
			errno_name(-ret));
		return RC_FAIL;
	}
	return RC_OK;
}

static int
do_unmap(struct script *s, const struct op *op)
{
	struct iommusim_ctx ctx;
	struct shandle *h;
	unsigned cpu;
	int rc, ret;

	h = lookup(s, op->a, O_HANDLE, "handle", &rc);
	if (rc)
		return rc;
	if (!h->mapped)
		return error(s, "handle '%s' is not mapped", h->name);
	if (h->dmb_fn)
		return error(s, "handle '%s' is a registered DMB of '%s': unregister it first",
			     h->name, h->dmb_fn->name);
	cpu = op->cpu_set ? op->cpu : h->cpu;
	rc = item_begin(s, cpu, &ctx);
	if (rc)
		return rc;
	ret = iommusim_dma_unmap_page(&h->dom->dma, h->dma, h->size, h->dir, 0, &ctx);
	item_end(s, cpu);
	h->mapped = false;
	h->error = -ret;
	if (op->fails) {
		s->sum.expectations++;
		if (!ret) {
			s->sum.failed++;
			failure(s, "expected unmap %s to fail, but it succeeded", h->name);
		}
		return RC_OK;
	}
	if (ret) {
		failure(s, "unmap %s failed: %s (-%s)", h->name, strerror(-ret), errno_name(-ret));
		return RC_FAIL;
	}
	return RC_OK;
}

static int
do_dmb(struct script *s, const struct op *op)
{
	struct shandle *h;
	struct sfn *f;
	int rc, ret;

	f = lookup(s, op->a, O_FN, "function", &rc);
	if (rc)
		return rc;
	h = lookup(s, op->b, O_HANDLE, "handle", &rc);
	if (rc)
		return rc;
	if (!f->ism)
		return error(s, "function '%s' is not an ISM function", f->name);
	if (!op->reg) {
		if (h->dmb_fn != f)
			return error(s, "handle '%s' is not a registered DMB of '%s'", h->name,
				     f->name);
		(void)iommusim_ism_dmb_unregister(f->ism, h->dmb_token);
		h->dmb_fn = NULL;
		return RC_OK;
	}
	if (!h->mapped)
		return error(s, "handle '%s' is not mapped", h->name);
	if (h->dmb_fn)
		return error(s, "handle '%s' is already a registered DMB of '%s'", h->name,
			     h->dmb_fn->name);
	ret = iommusim_ism_dmb_register(f->ism, h->dma, h->size, &h->dmb_token);
	if (ret == -EEXIST)
		return error(s, "handle '%s' overlaps a registered DMB of '%s'", h->name, f->name);
	if (ret)
		return ret == -ENOMEM ?
			       oom(s) :
			       error(s, "cannot register '%s' (%s)", h->name, strerror(-ret));
	h->dmb_fn = f;
	return RC_OK;
}

static int
dma_iommu_domain(struct script *s, const char *name, const char *what, struct sdom **out)
{
	int rc;

	*out = lookup(s, name, O_DOM, "domain", &rc);
	if (rc)
		return rc;
	if (!(*out)->d)
		return error(s, "'%s' needs a dma-iommu domain; '%s' is %s", what, name,
			     policy_names[(*out)->pol]);
	return RC_OK;
}

static int
do_flush(struct script *s, const struct op *op)
{
	struct iommusim_ctx ctx;
	struct sdom *sd;
	unsigned cpu = op->cpu_set ? op->cpu : 0;
	int rc;

	rc = dma_iommu_domain(s, op->a, "flush", &sd);
	if (rc)
		return rc;
	rc = item_begin(s, cpu, &ctx);
	if (rc)
		return rc;
	iommusim_iommu_flush_iotlb_all(sd->dom, &ctx);
	item_end(s, cpu);
	return RC_OK;
}

static int
do_reset(struct script *s, const struct op *op)
{
	struct sdom *sd;
	int rc;

	rc = dma_iommu_domain(s, op->a, "reset", &sd);
	if (rc)
		return rc;
	(void)iommusim_s390_domain_counters_reset(sd->dom);
	return RC_OK;
}

static int
do_advance(struct script *s, const struct op *op)
{
	int rc = ensure_built(s);

	if (rc)
		return rc;
	run_events(s, ims_add_sat(s->now, iommusim_sim_ns_to_cycles(s->sim, op->n)));
	return RC_OK;
}

/* ---- reading keys ------------------------------------------------------------------------ */

struct val {
	enum vkind kind;
	bool missing; /* no such value: why says why */
	const char *why;
	uint64_t n;
	const char *str;
};

/* Everything a domain key may read. */
struct dom_stats {
	struct iommusim_s390_counters c;
	struct iommusim_s390_events e;
	struct iommusim_dma_iommu_stats st;
	struct iommusim_dma_iommu_info info;
	struct iommusim_hist_summary exp;
	struct iommusim_legacy_dma_counters lc;
	struct iommusim_legacy_dma_info li;
	struct iommusim_dma_stats ds;
};

static void
dom_stats_get(const struct sdom *sd, struct dom_stats *d)
{
	memset(d, 0, sizeof(*d));
	(void)iommusim_dma_stats_get(&sd->dma, &d->ds);
	if (sd->legacy) {
		(void)iommusim_legacy_dma_counters_get(sd->legacy, &d->lc);
		(void)iommusim_legacy_dma_info_get(sd->legacy, &d->li);
		return;
	}
	(void)iommusim_s390_domain_counters(sd->dom, &d->c, &d->e);
	(void)iommusim_dma_iommu_stats_get(sd->d, &d->st);
	(void)iommusim_dma_iommu_info_get(sd->d, &d->info);
	(void)iommusim_hist_summary_get(iommusim_dma_iommu_exposure(sd->d), &d->exp);
}

static const char *
dom_type(const struct sdom *sd, const struct dom_stats *d)
{
	if (sd->legacy)
		return "legacy";
	return iommusim_domain_type_name(d->info.type);
}

static int
read_dom_key(struct script *s, const struct sdom *sd, const struct keydef *k, struct val *v)
{
	struct dom_stats d;
	const bool lg = sd->legacy != NULL;
	uint64_t x = 0;

	if (!(k->where & (lg ? W_LG : W_DI)))
		return error(s, "key '%s' does not apply to %s domain '%s'", k->name,
			     lg ? "legacy" : "dma-iommu", sd->name);
	dom_stats_get(sd, &d);
	switch ((enum key_id)k->id) {
	case K_MAPPED_PAGES:
		x = lg ? d.lc.mapped_pages : d.c.mapped_pages;
		break;
	case K_UNMAPPED_PAGES:
		x = lg ? d.lc.unmapped_pages : d.c.unmapped_pages;
		break;
	case K_GLOBAL_RPCITS:
		x = lg ? d.lc.global_rpcits : d.c.global_rpcits;
		break;
	case K_SYNC_MAP_RPCITS:
		x = lg ? d.lc.map_rpcits : d.c.sync_map_rpcits;
		break;
	case K_SYNC_RPCITS:
		x = lg ? d.lc.unmap_rpcits : d.c.sync_rpcits;
		break;
	case K_ENOMEM_RECOVERIES:
		x = lg ? d.lc.enomem_recoveries : d.e.enomem_recoveries;
		break;
	case K_ENOMEM_RECOVERY_FAILURES:
		x = d.e.enomem_recovery_failures;
		break;
	case K_SYNC_MAP_ERRORS:
		x = d.e.sync_map_errors;
		break;
	case K_MAP_FAILURES:
		x = d.e.map_failures;
		break;
	case K_UNMAP_FAILURES:
		x = d.e.unmap_failures;
		break;
	case K_TYPE:
		v->str = dom_type(sd, &d);
		break;
	case K_POLICY:
		v->str = policy_names[sd->pol];
		break;
	case K_DOWNGRADED:
		x = d.info.downgraded;
		break;
	case K_DEVICES:
		x = sd->nfns;
		break;
	case K_FQ_SINGLE:
		x = d.info.single_queue;
		break;
	case K_FQ_SIZE:
		x = d.info.fq_size;
		break;
	case K_FQ_TIMEOUT:
		x = (uint64_t)d.info.fq_timeout_ms * NS_PER_MS;
		break;
	case K_FQ_ENTRIES:
		x = d.st.fq.entries_now;
		break;
	case K_FQ_PAGES:
		x = d.st.fq.pages_now;
		break;
	case K_FQ_MAX_ENTRIES:
		x = d.st.fq.max_entries;
		break;
	case K_FQ_MAX_PAGES:
		x = d.st.fq.max_pages;
		break;
	case K_FQ_FLUSHES:
		x = d.st.fq.flush_start_cnt;
		break;
	case K_FQ_FINISHED:
		x = d.st.fq.flush_finish_cnt;
		break;
	case K_FQ_FULL_FLUSHES:
		x = d.st.fq.full_flushes;
		break;
	case K_FQ_TIMER_FLUSHES:
		x = d.st.fq.timer_flushes;
		break;
	case K_FQ_TIMER_ARMS:
		x = d.st.fq.timer_arms;
		break;
	case K_FQ_QUEUED:
		x = d.st.fq.queued;
		break;
	case K_FQ_FREED:
		x = d.st.fq.freed_entries;
		break;
	case K_FQ_ARMED:
		x = sd->timer_armed;
		break;
	case K_STRICT_SYNCS:
		x = d.st.strict_syncs;
		break;
	case K_MAPS:
		x = d.ds.map_pages;
		break;
	case K_UNMAPS:
		x = d.ds.unmap_pages;
		break;
	case K_MAP_ERRORS:
		x = d.ds.map_errors;
		break;
	case K_BYTES_MAPPED:
		x = d.ds.bytes_mapped;
		break;
	case K_IOVA_PAGES_LIVE:
		x = d.ds.iova_pages_live;
		break;
	case K_LAZY_REUSE_VIOLATIONS:
		x = d.st.lazy_reuse_violations;
		break;
	case K_EXP_COUNT:
		x = d.exp.count;
		break;
	case K_EXP_MIN:
		x = d.exp.min;
		break;
	case K_EXP_MAX:
		x = d.exp.max;
		break;
	case K_EXP_MEAN:
		x = (uint64_t)d.exp.mean;
		break;
	case K_EXP_P50:
		x = d.exp.p50;
		break;
	case K_EXP_P90:
		x = d.exp.p90;
		break;
	case K_EXP_P99:
		x = d.exp.p99;
		break;
	case K_EXP_P999:
		x = d.exp.p999;
		break;
	case K_ALLOCATED_PAGES:
		x = d.lc.allocated_pages;
		break;
	case K_WRAPS:
		x = d.lc.wraps;
		break;
	case K_MAP_RPCITS:
		x = d.lc.map_rpcits;
		break;
	case K_UNMAP_RPCITS:
		x = d.lc.unmap_rpcits;
		break;
	case K_LEAKED_PAGES:
		x = d.lc.leaked_pages;
		break;
	case K_LAZY_PAGES:
		x = d.lc.lazy_pages;
		break;
	case K_USED_PAGES:
		x = d.lc.used_pages;
		break;
	case K_NEXT_BIT:
		x = d.li.next_bit;
		break;
	default:
		break;
	}
	v->n = x;
	return RC_OK;
}

static int
read_fn_key(struct script *s, const struct sfn *f, const struct keydef *k, struct val *v)
{
	struct iommusim_zpci_fn_stats fs;
	struct iommusim_zpci_fn_info fi;
	struct iommusim_ism_stats is = { 0 };
	struct iommusim_ism_event ev = { 0 };
	bool have_ev = false;

	(void)iommusim_zpci_fn_stats_get(f->fn, &fs);
	(void)iommusim_zpci_fn_info_get(f->fn, &fi);
	if (!strncmp(k->name, "ism.", 4)) {
		if (!f->ism)
			return error(s, "key '%s' needs an ISM function; '%s' is not one", k->name,
				     f->name);
		(void)iommusim_ism_stats_get(f->ism, &is);
		have_ev = !iommusim_ism_event_get(f->ism, 0, &ev);
	}
	switch ((enum key_id)k->id) {
	case K_RPCITS:
		v->n = fs.rpcits;
		break;
	case K_RPCITS_REASON:
		v->n = fs.by_reason[k->reason];
		break;
	case K_ENOMEM:
		v->n = fs.enomem;
		break;
	case K_EIO:
		v->n = fs.eio;
		break;
	case K_BUSY_RETRIES:
		v->n = fs.busy_retries;
		break;
	case K_BYTES_REFRESHED:
		v->n = fs.bytes_refreshed;
		break;
	case K_TLB_REFRESH:
		v->n = fi.tlb_refresh;
		break;
	case K_IS_ISM:
		v->n = fi.is_ism;
		break;
	case K_FID:
		v->n = fi.fid;
		break;
	case K_START_DMA:
		v->n = fi.start_dma;
		break;
	case K_END_DMA:
		v->n = fi.end_dma;
		break;
	case K_FN_DOMAIN:
		v->str = f->dom ? f->dom->name : "none";
		break;
	case K_ISM_ERROR:
		v->n = iommusim_ism_in_error(f->ism);
		break;
	case K_ISM_EVENTS:
		v->n = is.events;
		break;
	case K_ISM_DMBS:
		v->n = is.dmbs;
		break;
	case K_ISM_DMB_BYTES:
		v->n = is.dmb_bytes;
		break;
	case K_ISM_RPCITS_SEEN:
		v->n = is.rpcits_seen;
		break;
	case K_ISM_FIRST_REASON:
		v->str = have_ev ? iommusim_rpcit_reason_name(ev.reason) : "none";
		break;
	default:
		v->missing = !have_ev;
		v->why = "no ISM event";
		v->n = k->id == K_ISM_FIRST_IOVA ? ev.iova :
		       k->id == K_ISM_FIRST_ADDR ? ev.rpcit_addr :
		       k->id == K_ISM_FIRST_LEN	 ? ev.rpcit_len :
		       k->id == K_ISM_FIRST_TIME ? ev.time_ns :
		       k->id == K_ISM_FIRST_CPU	 ? ev.cpu :
						   ev.exposed_bytes;
		break;
	}
	return RC_OK;
}

static void
read_handle_key(const struct shandle *h, const struct keydef *k, struct val *v)
{
	switch ((enum key_id)k->id) {
	case K_H_IOVA:
		v->missing = !h->ever_mapped;
		v->why = "never mapped";
		v->n = h->dma;
		break;
	case K_H_SIZE:
		v->n = h->size;
		break;
	case K_H_PHYS:
		v->n = h->phys;
		break;
	case K_H_MAPPED:
		v->n = h->mapped;
		break;
	case K_H_CPU:
		v->n = h->cpu;
		break;
	case K_H_PAGES:
		v->n = pages_of(h->dma, h->size);
		break;
	case K_H_ERROR:
		v->str = errno_name(h->error);
		break;
	default:
		v->str = h->dom ? h->dom->name : "none";
		break;
	}
}

static void
read_platform_key(struct script *s, const struct keydef *k, struct val *v)
{
	struct iommusim_platform_stats ps = { 0 };

	if (s->pl)
		(void)iommusim_platform_stats_get(s->pl, &ps);
	switch ((enum key_id)k->id) {
	case K_P_NAME:
		v->str = s->profile.name;
		break;
	case K_P_STATUS16:
		v->n = ps.status16;
		break;
	case K_P_SHADOW_ENTRIES:
		v->n = ps.shadow_entries;
		break;
	case K_P_MAX_SHADOW_ENTRIES:
		v->n = ps.max_shadow_entries;
		break;
	case K_P_RPCITS:
		v->n = ps.rpcits;
		break;
	case K_P_GLOBAL:
		v->n = ps.global;
		break;
	case K_P_HOST_MAPS:
		v->n = ps.host_maps;
		break;
	case K_P_HOST_UNMAP_CALLS:
		v->n = ps.host_unmap_calls;
		break;
	case K_P_WALKED_SLOTS:
		v->n = ps.walked_slots;
		break;
	default:
		v->n = s->sim ? iommusim_sim_cycles_to_ns(s->sim, ps.busy_cycles) : 0;
		break;
	}
}

/* The value of operand @o. */
static int
read_operand(struct script *s, const struct operand *o, struct val *v)
{
	const struct keydef *k = o->key;
	const void *obj;

	memset(v, 0, sizeof(*v));
	if (o->type == OPD_NUM) {
		v->kind = o->unit == U_TIME ? V_TIME : V_COUNT;
		v->n = o->num;
		return RC_OK;
	}
	if (o->type == OPD_WORD) {
		v->kind = V_STR;
		v->str = o->text;
		return RC_OK;
	}
	if (!k) { /* time */
		v->kind = V_TIME;
		v->n = s->sim ? iommusim_sim_cycles_to_ns(s->sim, s->now) : 0;
		return RC_OK;
	}
	v->kind = (enum vkind)k->kind;
	if (k->cls == C_PLATFORM) {
		read_platform_key(s, k, v);
		return RC_OK;
	}
	obj = names_find(&s->names, o->obj);
	if (!obj)
		return error(s, "unknown name '%s' in '%s'", safe(s, o->obj), safe(s, o->text));
	/* The same property may exist for several classes ("rpcits"...). */
	k = keydef_find(*(const enum okind *)obj == O_DOM ? C_DOM :
			*(const enum okind *)obj == O_FN  ? C_FN :
							    C_HANDLE,
			k->name);
	if (!k)
		return error(s, "key '%s': '%s' is a %s, which has no '%s'", safe(s, o->text),
			     safe(s, o->obj), kind_name(*(const enum okind *)obj), o->key->name);
	v->kind = (enum vkind)k->kind;
	switch (*(const enum okind *)obj) {
	case O_DOM:
		return read_dom_key(s, obj, k, v);
	case O_FN:
		return read_fn_key(s, obj, k, v);
	default:
		read_handle_key(obj, k, v);
		return RC_OK;
	}
}

static void
fmt_val(char *b, size_t len, const struct val *v)
{
	if (v->missing)
		snprintf(b, len, "nothing (%s)", v->why);
	else if (v->kind == V_STR)
		snprintf(b, len, "%s", v->str);
	else if (v->kind == V_TIME)
		fmt_time(b, len, v->n);
	else if (v->kind == V_ADDR)
		snprintf(b, len, "0x%" PRIx64, v->n);
	else
		snprintf(b, len, "%" PRIu64, v->n);
}

static bool
compare(uint64_t a, enum cmp_op op, uint64_t b)
{
	switch (op) {
	case OP_EQ:
		return a == b;
	case OP_NE:
		return a != b;
	case OP_LT:
		return a < b;
	case OP_LE:
		return a <= b;
	case OP_GT:
		return a > b;
	default:
		return a >= b;
	}
}

/* Literals must say what they are when the other side is a time, and only then. */
static int
check_units(struct script *s, const struct operand *lit, const struct val *lv,
	    const struct operand *key, const struct val *kv)
{
	if (kv->kind == V_STR || lv->kind == V_STR)
		return RC_OK;
	if (kv->kind == V_TIME && lit->unit != U_TIME && lit->num)
		return error(s, "'%s' is a time: write '%s' with a unit (ns, us, ms, s)",
			     safe(s, key->text), safe(s, lit->text));
	if (kv->kind != V_TIME && lit->unit == U_TIME)
		return error(s, "'%s' is not a time, but '%s' is", safe(s, key->text),
			     safe(s, lit->text));
	return RC_OK;
}

static int
do_expect(struct script *s, const struct op *op)
{
	const struct operand *l = &op->lhs, *r = &op->rhs;
	char lb[96], rb[96];
	struct val lv, rv;
	bool ok;
	int rc;

	rc = read_operand(s, l, &lv);
	if (!rc)
		rc = read_operand(s, r, &rv);
	if (rc)
		return rc;
	if (l->type == OPD_KEY && r->type != OPD_KEY)
		rc = check_units(s, r, &rv, l, &lv);
	else if (r->type == OPD_KEY && l->type != OPD_KEY)
		rc = check_units(s, l, &lv, r, &rv);
	else if (l->type == OPD_KEY && (lv.kind == V_TIME) != (rv.kind == V_TIME) &&
		 lv.kind != V_STR && rv.kind != V_STR)
		rc = error(s, "cannot compare a time with a number ('%s', '%s')", safe(s, l->text),
			   safe(s, r->text));
	if (rc)
		return rc;
	if ((lv.kind == V_STR) != (rv.kind == V_STR))
		return error(s, "cannot compare a word with a number ('%s', '%s')",
			     safe(s, l->text), safe(s, r->text));
	if (lv.kind == V_STR && op->cmp != OP_EQ && op->cmp != OP_NE)
		return error(s, "words compare only with == and !=");
	s->sum.expectations++;
	if (lv.missing || rv.missing)
		ok = false;
	else if (lv.kind == V_STR)
		ok = (strcmp(lv.str, rv.str) == 0) == (op->cmp == OP_EQ);
	else
		ok = compare(lv.n, op->cmp, rv.n);
	if (ok)
		return RC_OK;
	s->sum.failed++;
	fmt_val(lb, sizeof(lb), &lv);
	fmt_val(rb, sizeof(rb), &rv);
	if (l->type == OPD_KEY && r->type == OPD_KEY)
		failure(s, "expected %s%s%s %s %s%s%s, got %s and %s", l->quoted ? "\"" : "",
			safe(s, l->text), l->quoted ? "\"" : "", op_names[op->cmp],
			r->quoted ? "\"" : "", safe(s, r->text), r->quoted ? "\"" : "", lb, rb);
	else if (l->type == OPD_KEY || r->type == OPD_KEY)
		failure(s, "expected %s%s%s %s %s%s%s, got %s", l->quoted ? "\"" : "",
			safe(s, l->text), l->quoted ? "\"" : "", op_names[op->cmp],
			r->quoted ? "\"" : "", safe(s, r->text), r->quoted ? "\"" : "",
			l->type == OPD_KEY ? lb : rb);
	else
		failure(s, "expected %s %s %s", safe(s, l->text), op_names[op->cmp],
			safe(s, r->text));
	return RC_OK;
}

/* ---- print and echo --------------------------------------------------------------------- */

static void
print_dom(struct script *s, const struct sdom *sd)
{
	struct dom_stats d;

	dom_stats_get(sd, &d);
	if (sd->legacy) {
		fprintf(s->out,
			"# %s: pre-6.7 s390 DMA API (%s), window [0x%" PRIx64 ", 0x%" PRIx64
			"], next_bit %" PRIu64 "\n",
			sd->name, d.li.strict ? "strict" : "lazy", d.li.start_dma, d.li.end_dma,
			d.li.next_bit);
		/* arch/s390/pci/pci_debug.c before v6.7: the same format, three counters. */
		fprintf(s->out, "%26s:\t%llu\n", "Allocated pages",
			(unsigned long long)d.lc.allocated_pages);
		fprintf(s->out, "%26s:\t%llu\n", "Mapped pages",
			(unsigned long long)d.lc.mapped_pages);
		fprintf(s->out, "%26s:\t%llu\n", "Unmapped pages",
			(unsigned long long)d.lc.unmapped_pages);
		return;
	}
	if (d.info.type == IOMMUSIM_DOMAIN_DMA_FQ)
		fprintf(s->out, "# %s: DMA-FQ, %s of %" PRIu32 " entries, timeout %" PRIu32 " ms\n",
			sd->name, d.info.single_queue ? "one queue" : "per-CPU queues",
			d.info.fq_size, d.info.fq_timeout_ms);
	else
		fprintf(s->out, "# %s: DMA (strict)%s\n", sd->name,
			d.info.downgraded ? ", downgraded from DMA-FQ: no deferred flush" : "");
	(void)iommusim_s390_counters_print(s->out, &d.c);
}

static void
print_fn(struct script *s, const struct sfn *f)
{
	struct iommusim_zpci_fn_stats fs;
	struct iommusim_zpci_fn_info fi;
	unsigned r;

	(void)iommusim_zpci_fn_stats_get(f->fn, &fs);
	(void)iommusim_zpci_fn_info_get(f->fn, &fi);
	fprintf(s->out,
		"# %s: fid %" PRIu32 ", fh 0x%08" PRIx32 "%s, tlb_refresh %d, window [0x%" PRIx64
		", 0x%" PRIx64 "]\n",
		f->name, fi.fid, fi.fh, fi.is_ism ? ", ISM" : "", fi.tlb_refresh ? 1 : 0,
		fi.start_dma, fi.end_dma);
	fprintf(s->out, "rpcits %" PRIu64, fs.rpcits);
	for (r = 0; r < IOMMUSIM_RPCIT_NR_REASONS; r++)
		if (fs.by_reason[r])
			fprintf(s->out, " %s=%" PRIu64,
				iommusim_rpcit_reason_name((enum iommusim_rpcit_reason)r),
				fs.by_reason[r]);
	fprintf(s->out, "\n");
	if (f->ism) {
		struct iommusim_ism_stats is;
		size_t i, n = iommusim_ism_nevents(f->ism);

		(void)iommusim_ism_stats_get(f->ism, &is);
		fprintf(s->out,
			"ism %s, %" PRIu64 " DMBs (%" PRIu64 " bytes), %" PRIu64 " events\n",
			iommusim_ism_in_error(f->ism) ? "in error" : "ok", is.dmbs, is.dmb_bytes,
			is.events);
		for (i = 0; i < n; i++) {
			struct iommusim_ism_event ev;
			char t[32];

			if (iommusim_ism_event_get(f->ism, i, &ev))
				break;
			fmt_time(t, sizeof(t), ev.time_ns);
			fprintf(s->out,
				"  event %zu: time %s cpu %u %s RPCIT [0x%" PRIx64 ", +0x%" PRIx64
				") exposed iova 0x%" PRIx64 " (%" PRIu64 " bytes in use)\n",
				i, t, ev.cpu, iommusim_rpcit_reason_name(ev.reason), ev.rpcit_addr,
				ev.rpcit_len, ev.iova, ev.exposed_bytes);
		}
	}
}

static void
print_platform(struct script *s)
{
	struct iommusim_platform_stats ps = { 0 };
	char t[32];

	if (s->pl)
		(void)iommusim_platform_stats_get(s->pl, &ps);
	fmt_time(t, sizeof(t), s->sim ? iommusim_sim_cycles_to_ns(s->sim, s->now) : 0);
	fprintf(s->out, "# platform %s at %s\n", s->profile.name, t);
	fprintf(s->out,
		"rpcits %" PRIu64 " global %" PRIu64 " status16 %" PRIu64 " shadow_entries %" PRIu64
		" max_shadow_entries %" PRIu64 " host_maps %" PRIu64 " walked_slots %" PRIu64 "\n",
		ps.rpcits, ps.global, ps.status16, ps.shadow_entries, ps.max_shadow_entries,
		ps.host_maps, ps.walked_slots);
}

static int
do_print(struct script *s, const struct op *op)
{
	const void *o;

	if (streq(op->a, "platform")) {
		if (s->out)
			print_platform(s);
		return RC_OK;
	}
	o = names_find(&s->names, op->a);
	if (!o)
		return error(s, "unknown name '%s'", safe(s, op->a));
	if (*(const enum okind *)o == O_HANDLE)
		return error(s,
			     "'print' shows a domain, a function or the platform; '%s' is a "
			     "handle",
			     safe(s, op->a));
	if (!s->out)
		return RC_OK;
	if (*(const enum okind *)o == O_DOM)
		print_dom(s, o);
	else
		print_fn(s, o);
	return RC_OK;
}

static int
do_echo(struct script *s, const struct op *op)
{
	unsigned i;

	if (!s->out)
		return RC_OK;
	for (i = 0; i < op->ntok; i++)
		fprintf(s->out, "%s%s", i ? " " : "", op->tok[i].s);
	fputc('\n', s->out);
	return RC_OK;
}

/* ---- running ------------------------------------------------------------------------------ */

/* Count a statement or a repeat iteration against the budget. */
static int
step(struct script *s)
{
	if (++s->steps > MAX_STEPS)
		return error(s,
			     "the script runs too long (more than %" PRIu64
			     " statements and iterations)",
			     MAX_STEPS);
	return RC_OK;
}

static int
run_op(struct script *s, const struct op *op)
{
	int rc;

	if (op->kind != ST_PLATFORM && op->kind != ST_CPUS && op->kind != ST_ECHO)
		s->started = true;
	switch (op->kind) {
	case ST_PLATFORM:
		return do_platform(s, op);
	case ST_CPUS:
		return do_cpus(s, op);
	case ST_FUNCTION:
		return do_function(s, op);
	case ST_DOMAIN:
		return do_domain(s, op);
	case ST_MAP:
		rc = do_map(s, op);
		break;
	case ST_UNMAP:
		rc = do_unmap(s, op);
		break;
	case ST_DMB:
		return do_dmb(s, op);
	case ST_ADVANCE:
		rc = do_advance(s, op);
		break;
	case ST_FLUSH:
		rc = do_flush(s, op);
		break;
	case ST_RESET:
		return do_reset(s, op);
	case ST_EXPECT:
		return do_expect(s, op);
	case ST_PRINT:
		return do_print(s, op);
	case ST_ECHO:
		return do_echo(s, op);
	default:
		return error(s, "misplaced '%s'", stmt_specs[op->kind].name);
	}
	if (!rc && s->cb_oom)
		return oom(s);
	return rc;
}

/* Run one simple statement (no repeat) in iteration @iter. */
static int
run_simple(struct script *s, const struct tok *t, unsigned n, int64_t iter)
{
	char bufs[MAX_TOKENS][MAX_TOKEN];
	struct tok sub[MAX_TOKENS];
	struct op op;
	int rc;

	rc = subst(s, t, n, iter, sub, bufs);
	if (!rc)
		rc = parse_stmt(s, sub, n, &op);
	if (!rc)
		rc = run_op(s, &op);
	return rc;
}

/* Run one line's tokens in iteration @iter (-1: outside a repeat). */
static int
run_tokens(struct script *s, const struct tok *t, unsigned n, int64_t iter)
{
	char bufs[2][MAX_TOKEN];
	struct tok sub[2];
	uint64_t count, i;
	int rc;

	s->sum.statements++;
	rc = step(s);
	if (rc)
		return rc;
	s->iter = iter;
	if (!is_word(&t[0], "repeat") || n <= 2)
		return run_simple(s, t, n, iter);
	/* A one-line repeat: the count sees the outer {i}, the statement its own. */
	rc = subst(s, t, 2, iter, sub, bufs);
	if (!rc)
		rc = want_uint(s, "repeat", sub[1].s, MAX_REPEAT, &count);
	for (i = 0; !rc && i < count; i++) {
		rc = step(s);
		if (!rc)
			rc = run_tokens(s, t + 2, n - 2, (int64_t)i);
	}
	s->iter = iter;
	return rc;
}

/* Run statements [from, to) of @pg in iteration @iter. */
static int
run_range(struct script *s, const struct prog *pg, size_t from, size_t to, int64_t iter)
{
	size_t i;
	int rc = RC_OK;

	for (i = from; i < to && !rc; i++) {
		const struct stmt *st = pg->v[i];

		s->line = st->line;
		s->iter = iter;
		if (st->block) {
			char bufs[2][MAX_TOKEN];
			struct tok sub[2];
			uint64_t count, k;

			s->sum.statements++;
			rc = step(s);
			if (!rc)
				rc = subst(s, st->tok, 2, iter, sub, bufs);
			if (!rc)
				rc = want_uint(s, "repeat", sub[1].s, MAX_REPEAT, &count);
			for (k = 0; !rc && k < count; k++) {
				rc = step(s);
				if (!rc)
					rc = run_range(s, pg, i + 1, st->end, (int64_t)k);
			}
			i = st->end; /* the loop's i++ steps over `end` */
			continue;
		}
		if (is_word(&st->tok[0], "end"))
			continue;
		rc = run_tokens(s, st->tok, st->ntok, iter);
	}
	return rc;
}

int
iommusim_script_run_string(const char *text, const char *name, FILE *out, FILE *err,
			   struct iommusim_script_summary *summary)
{
	struct prog pg = { 0 };
	struct script *s;
	int rc;

	if (summary)
		memset(summary, 0, sizeof(*summary));
	if (!text)
		return IOMMUSIM_SCRIPT_ERROR;
	s = ims_zalloc(sizeof(*s));
	if (!s) {
		if (err)
			fprintf(err, "%s: out of memory\n", name ? name : "<string>");
		return IOMMUSIM_SCRIPT_ERROR;
	}
	s->name = name ? name : "<string>";
	s->out = out;
	s->err = err;
	s->iter = -1;
	s->profile = *iommusim_profile_find("lpar");
	s->ncpus = 1;
	s->next_phys = AUTO_PHYS_BASE;
	rc = prog_build(s, text, &pg);
	if (!rc) {
		s->iter = -1;
		rc = run_range(s, &pg, 0, pg.n, -1);
	}
	if (!rc && s->sum.failed)
		rc = IOMMUSIM_SCRIPT_FAILED;
	if (summary)
		*summary = s->sum;
	prog_free(&pg);
	script_teardown(s);
	ims_free(s);
	return rc;
}

int
iommusim_script_run_file(const char *path, FILE *out, FILE *err,
			 struct iommusim_script_summary *summary)
{
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	FILE *f;
	int rc;

	if (summary)
		memset(summary, 0, sizeof(*summary));
	if (!path)
		return IOMMUSIM_SCRIPT_ERROR;
	f = fopen(path, "rb");
	if (!f) {
		if (err)
			fprintf(err, "%s: cannot open: %s\n", path, strerror(errno));
		return IOMMUSIM_SCRIPT_ERROR;
	}
	do {
		if (len + 4096 + 1 > cap) {
			size_t ncap = cap ? 2 * cap : 65536;
			char *nt = ims_zalloc(ncap);

			if (!nt) {
				ims_free(text);
				fclose(f);
				if (err)
					fprintf(err, "%s: out of memory\n", path);
				return IOMMUSIM_SCRIPT_ERROR;
			}
			if (len)
				memcpy(nt, text, len);
			ims_free(text);
			text = nt;
			cap = ncap;
		}
		n = fread(text + len, 1, cap - len - 1, f);
		len += n;
	} while (n);
	if (ferror(f)) {
		if (err)
			fprintf(err, "%s: cannot read: %s\n", path, strerror(errno));
		fclose(f);
		ims_free(text);
		return IOMMUSIM_SCRIPT_ERROR;
	}
	fclose(f);
	if (!text) {
		text = ims_zalloc(1);
		if (!text)
			return IOMMUSIM_SCRIPT_ERROR;
	}
	text[len] = 0;
	if (strlen(text) != len) {
		unsigned line = 1;
		const char *p;

		for (p = text; *p; p++)
			line += *p == '\n';
		if (err)
			fprintf(err, "%s:%u: NUL byte in the script\n", path, line);
		ims_free(text);
		return IOMMUSIM_SCRIPT_ERROR;
	}
	rc = iommusim_script_run_string(text, path, out, err, summary);
	ims_free(text);
	return rc;
}
