/* SPDX-License-Identifier: MIT */
/*
 * The scenario language's files (docs/scenario.md) share these: the program,
 * the script's objects and state, parsed statements, and the values keys read.
 */
#ifndef IMS_SCRIPT_INT_H
#define IMS_SCRIPT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <iommusim/cmdline.h>
#include <iommusim/dma.h>
#include <iommusim/dma_direct.h>
#include <iommusim/dma_iommu.h>
#include <iommusim/hist.h>
#include <iommusim/legacy_s390_dma.h>
#include <iommusim/platform.h>
#include <iommusim/s390_iommu.h>
#include <iommusim/script.h>
#include <iommusim/units.h>

#include "base/util_int.h"

/* Internal return codes: go on, or stop with the script's exit status. */
#define RC_OK 0
#define RC_FAIL IOMMUSIM_SCRIPT_FAILED
#define RC_ERR IOMMUSIM_SCRIPT_ERROR

#define MAX_TOKENS 64 /* tokens per line */
#define MAX_TOKEN 256 /* bytes per token (after {i} substitution) */
#define MAX_NAME 64 /* bytes per name */
#define MAX_DEVICES 16 /* functions per domain */
#define PAGE UINT64_C(4096)
#define NS_PER_MS UINT64_C(1000000)

/* ---- small helpers -------------------------------------------------------- */

/* A growable array of pointers. */
struct vec {
	void **v;
	size_t n, cap;
};

static inline bool
ims_script_streq(const char *a, const char *b)
{
	return !strcmp(a, b);
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

enum okind { O_FN = 1, O_DOM, O_HANDLE, O_PLAT };

enum policy {
	P_KERNEL = 0,
	P_STRICT,
	P_LAZY_PERCPU,
	P_LAZY_SINGLE,
	P_LEGACY,
	P_LEGACY_STRICT,
};

struct script;
struct sdom;

/*
 * One platform: a machine of its own (the hypervisor's model, a guest kernel
 * with its boot parameters and s390 IOMMU driver) on the script's engine.
 */
struct splat {
	enum okind kind;
	char name[MAX_NAME]; /* its label= ("" when it has none) */
	unsigned line; /* declared at (0: the default lpar) */
	struct iommusim_profile profile;
	uint64_t memory; /* 0: the driver's default (16 GiB) */
	uint32_t factor;
	bool factor_set;
	struct iommusim_cmdline cmdline;
	bool has_cmdline;
	struct iommusim_platform *pl;
	struct iommusim_s390_iommu *s390;
	struct iommusim_iommu *iommu;
};

struct sfn {
	enum okind kind;
	char name[MAX_NAME];
	struct splat *plat;
	uint32_t fid;
	bool is_ism;
	bool tlb_refresh;
	bool rtr_avail;
	struct iommusim_zpci_fn *fn;
	struct iommusim_ism *ism;
	struct iommusim_device *dev; /* when in a dma-iommu domain */
	struct sdom *dom;
};

struct sdom {
	enum okind kind;
	char name[MAX_NAME];
	struct script *s;
	struct splat *plat; /* its functions' */
	enum policy pol;
	bool force_fq;
	struct sfn *fns[MAX_DEVICES];
	unsigned nfns;
	enum iommusim_domain_type type; /* what was allocated (dma-iommu policies) */
	bool fell_back; /* the default type could not be allocated: DMA */
	struct iommusim_domain *dom;
	struct iommusim_dma_iommu *d; /* NULL for identity and legacy */
	struct iommusim_dma_direct *direct; /* identity: the first function's dma-direct */
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

/* ---- the script's state ------------------------------------------------------ */

struct script {
	const char *name;
	FILE *out, *err;
	struct iommusim_script_summary sum;
	unsigned line; /* of the statement being checked or run */
	uint64_t steps; /* statements and repeat iterations run, against MAX_STEPS */
	int64_t iter; /* innermost repeat iteration, -1 outside */
	/* declarations that come before the simulation is built */
	bool have_cpus;
	bool started; /* a statement other than platform, cpus or echo ran */
	unsigned ncpus;
	/* the simulation */
	struct iommusim_sim *sim;
	struct vec plats; /* struct splat *, in declaration order; the last is current */
	uint64_t now; /* the script's clock in cycles: the end of the last thing done */
	unsigned cur_cpu; /* the CPU of the running work item */
	bool cb_oom; /* an allocation failed inside a callback */
	uint64_t next_phys;
	struct names names;
	struct vec fns, doms; /* in declaration order, for teardown */
	const struct iommusim_script_hooks *hooks; /* may be NULL */
	bool in_expect; /* a failure being reported is an expectation's */
	/* sanitised copies of user text for messages */
	char sbuf[4][80];
	unsigned sidx;
};

/* ---- expectation keys ----------------------------------------------------------- */

enum vkind { V_COUNT = 0, V_TIME, V_ADDR, V_BOOL, V_STR };

enum kclass { C_DOM = 1, C_FN, C_HANDLE, C_PLATFORM, C_TIME };

/* One key of the table in keys.c. */
struct keydef {
	const char *name; /* normalised: lower case, '_' for spaces */
	unsigned char cls;
	unsigned char kind;
	unsigned char where; /* domains: W_* */
	unsigned char reason; /* K_RPCITS_REASON */
	unsigned short id;
};

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

enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

/* One side of an expectation. */
struct operand {
	enum { OPD_NUM, OPD_KEY, OPD_WORD } type;
	const char *text; /* as written (for messages) */
	bool quoted;
	uint64_t num;
	enum iommusim_unit unit;
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
	const char *label;
	struct iommusim_cmdline cmdline;
	bool has_cmdline;
	/* cpus, repeat: count; advance: ns */
	uint64_t n;
	/* function */
	uint32_t fid;
	bool fid_set, ism, rtr_avail;
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

/* ---- what one file calls in another ---------------------------------------------------- */

/* script.c: reports, each starting with NAME:LINE. */
const char *ims_script_safe(struct script *s, const char *t);
IMS_NODISCARD int ims_script_error(struct script *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ims_script_failure(struct script *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
IMS_NODISCARD int ims_script_oom(struct script *s);
/* A set-up call returned @ret: "out of memory" for -ENOMEM, else the message. */
IMS_NODISCARD int ims_script_setup_error(struct script *s, int ret, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A note on standard error (what ran differs from what was written, or a
 * value was not read): never a failure, and not a test result. */
void ims_script_note(struct script *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* names.c: the namespace. */
void *ims_script_names_find(const struct names *t, const char *name);
IMS_NODISCARD int ims_script_names_add(struct names *t, void *o);
void *ims_script_lookup(struct script *s, const char *name, enum okind kind, const char *what,
			int *rc);
const char *ims_script_kind_name(enum okind k);
IMS_NODISCARD int ims_script_declare(struct script *s, void *o);

/* lexer.c: the program. */
IMS_NODISCARD int ims_script_subst(struct script *s, const struct tok *in, unsigned n, int64_t iter,
				   struct tok *out, char (*bufs)[MAX_TOKEN]);
void ims_script_prog_free(struct prog *pg);
bool ims_script_is_word(const struct tok *t, const char *w);
IMS_NODISCARD int ims_script_prog_build(struct script *s, const char *text, struct prog *pg);

/* parser.c: statements, numbers and the language's words. */
extern const char *const ims_script_op_names[];
extern const char *const ims_script_policy_names[];
void ims_script_fmt_time(char *b, size_t len, uint64_t ns);
const char *ims_script_stmt_name(enum st_kind kind);
IMS_NODISCARD int ims_script_repeat_count(struct script *s, const char *val, uint64_t *count);
IMS_NODISCARD int ims_script_parse_stmt(struct script *s, const struct tok *t, unsigned n,
					struct op *op);

/* keys.c: the key table and reading values. */
const struct keydef *ims_script_keydef_find(unsigned cls, const char *prop);
const char *ims_script_errno_name(int e);
void ims_script_dom_stats_get(const struct sdom *sd, struct dom_stats *d);
/* Why the domain is not the default lazy DMA-FQ, in the kernel's terms ("" if it is). */
const char *ims_script_dom_reason(const struct sdom *sd, const struct dom_stats *d);
IMS_NODISCARD int ims_script_read_operand(struct script *s, const struct operand *o, struct val *v);

/* expect.c, print.c: the statements that check and show. */
IMS_NODISCARD int ims_script_do_expect(struct script *s, const struct op *op);
IMS_NODISCARD int ims_script_do_print(struct script *s, const struct op *op);
IMS_NODISCARD int ims_script_do_echo(struct script *s, const struct op *op);

/* exec.c: running the program, and tearing the simulation down. */
IMS_NODISCARD int ims_script_run_range(struct script *s, const struct prog *pg, size_t from,
				       size_t to, int64_t iter);
/* The platform `platform.KEY` and `print platform` mean: the only one (the
 * default lpar before any is declared); NULL and an error when there are
 * several (@p what names the use, for the message). */
struct splat *ims_script_the_platform(struct script *s, const char *what, int *rc);
void ims_script_teardown(struct script *s);

/* script.c: a script state as the entry points set it up (@p name NULL:
 * "<string>"; @p out and @p err may be NULL), and its end with its program. */
struct script *ims_script_new(const char *name, FILE *out, FILE *err);
void ims_script_free(struct script *s, struct prog *pg);

#endif /* IMS_SCRIPT_INT_H */
