/* SPDX-License-Identifier: MIT */
/*
 * The room to grow of every public struct that has one (docs/abi.md): that
 * it ends the struct, that the library refuses an input or an ops table
 * whose room is not zero, and that every function filling an output writes
 * zero there. Links only the shared library, through the public headers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/iommusim.h>

#define PAGE UINT64_C(4096)
/* An IOVA inside every zPCI function's default window (QEMU's, from 4 GiB). */
#define IOVA UINT64_C(0x100000000)

/* ---- the layout: the room is contiguous and ends the struct ---- */

/* The type of a reserved member of an ops table, for sizeof and _Generic. */
#define ROOM_OP_T void (*)(void)

#define ROOM_AT(s, k, w)                                                  \
	_Static_assert(offsetof(struct s, reserved##k) ==                 \
			       offsetof(struct s, reserved0) + (k) * (w), \
		       "struct " #s ": reserved" #k " is not right after the one before it")
#define ROOM_ENDS(s, last, w)                                              \
	_Static_assert(offsetof(struct s, last) + (w) == sizeof(struct s), \
		       "struct " #s ": " #last " is not its last member")
#define ROOM_U64(s, k)                                                                    \
	_Static_assert(_Generic(((struct s *)0)->reserved##k, uint64_t : 1, default : 0), \
		       "struct " #s ": reserved" #k " is not a uint64_t");                \
	ROOM_AT(s, k, sizeof(uint64_t))
#define ROOM_OP(s, k)                                                                      \
	_Static_assert(_Generic(((struct s *)0)->reserved##k, ROOM_OP_T : 1, default : 0), \
		       "struct " #s ": reserved" #k " is not a void (*)(void)");           \
	ROOM_AT(s, k, sizeof(ROOM_OP_T))

#define ROOM2(s)        \
	ROOM_U64(s, 0); \
	ROOM_U64(s, 1); \
	ROOM_ENDS(s, reserved1, sizeof(uint64_t))
#define ROOM4(s)        \
	ROOM_U64(s, 0); \
	ROOM_U64(s, 1); \
	ROOM_U64(s, 2); \
	ROOM_U64(s, 3); \
	ROOM_ENDS(s, reserved3, sizeof(uint64_t))
#define ROOM8(s)        \
	ROOM_U64(s, 0); \
	ROOM_U64(s, 1); \
	ROOM_U64(s, 2); \
	ROOM_U64(s, 3); \
	ROOM_U64(s, 4); \
	ROOM_U64(s, 5); \
	ROOM_U64(s, 6); \
	ROOM_U64(s, 7); \
	ROOM_ENDS(s, reserved7, sizeof(uint64_t))
#define OPS_ROOM4(s)   \
	ROOM_OP(s, 0); \
	ROOM_OP(s, 1); \
	ROOM_OP(s, 2); \
	ROOM_OP(s, 3); \
	ROOM_ENDS(s, reserved3, sizeof(ROOM_OP_T))

/* cmdline.h */
ROOM4(iommusim_cmdline);
/* dma.h */
ROOM8(iommusim_dma_stats);
OPS_ROOM4(iommusim_dma_ops);
/* dma_iommu.h */
ROOM4(iommusim_dma_iommu_cfg);
ROOM8(iommusim_dma_iommu_info);
ROOM8(iommusim_fq_stats);
ROOM8(iommusim_dma_iommu_stats);
/* hist.h */
ROOM2(iommusim_hist_summary);
/* iommu.h */
OPS_ROOM4(iommusim_iommu_ops);
ROOM4(iommusim_iommu_policy);
ROOM4(iommusim_device_cfg);
ROOM8(iommusim_device_info);
ROOM4(iommusim_domain_decision);
ROOM8(iommusim_domain_info);
/* iova.h */
ROOM4(iommusim_iova_trace);
ROOM8(iommusim_iova_info);
ROOM4(iommusim_iova_rcache_cfg);
ROOM8(iommusim_iova_rcache_info);
/* ism.h */
ROOM2(iommusim_ism_event);
ROOM8(iommusim_ism_stats);
/* job.h */
ROOM8(iommusim_jobfile);
/* legacy_s390_dma.h */
ROOM4(iommusim_legacy_dma_cfg);
ROOM8(iommusim_legacy_dma_counters);
ROOM8(iommusim_legacy_dma_info);
/* platform.h */
ROOM4(iommusim_profile);
ROOM8(iommusim_platform_stats);
/* run.h */
ROOM4(iommusim_job);
ROOM4(iommusim_policy);
ROOM8(iommusim_run_result);
/* s390_iommu.h */
ROOM4(iommusim_s390_iommu_cfg);
ROOM4(iommusim_s390_counters);
ROOM4(iommusim_s390_events);
/* script.h */
ROOM8(iommusim_script_summary);
OPS_ROOM4(iommusim_script_hooks);
/* shadow.h */
ROOM4(iommusim_shadow_cfg);
ROOM8(iommusim_shadow_result);
/* sim.h */
ROOM4(iommusim_sim_cfg);
ROOM8(iommusim_server_stats);
ROOM8(iommusim_cpu_stats);
/* stack.h */
ROOM4(iommusim_stack_cfg);
/* stress.h */
ROOM4(iommusim_stress_cfg);
ROOM8(iommusim_stress_result);
/* zpci.h */
OPS_ROOM4(iommusim_zpci_platform_ops);
OPS_ROOM4(iommusim_zpci_observer_ops);
ROOM4(iommusim_zpci_fn_cfg);
ROOM8(iommusim_zpci_fn_stats);
ROOM8(iommusim_zpci_fn_info);
ROOM2(iommusim_zpci_canned_call);
/* zpci_table.h */
ROOM8(iommusim_zpci_table_stats);

/* ---- helpers ---- */

/* The number of reserved members of @p s, each @p w bytes, from reserved0 to
 * the end (the room ends the struct: checked above). */
#define ROOM_LEN(s, w) ((size_t)((const char *)(&(s) + 1) - (const char *)&(s).reserved0) / (w))

/* Fill an output with garbage before the library fills it. */
#define GARBAGE(s) memset(&(s), 0xa5, sizeof(s))

/* The @p n uint64_t reserved members from @p first on are zero. */
static void
room_zero(const char *what, const void *first, size_t n)
{
	const unsigned char *p = first;
	uint64_t v;
	size_t i;

	for (i = 0; i < n; i++) {
		memcpy(&v, p + i * sizeof(v), sizeof(v));
		if (v)
			fail_msg("%s.reserved%zu is %#" PRIx64 ", not 0", what, i, v);
	}
}
#define assert_room_zero(s) room_zero(#s, &(s).reserved0, ROOM_LEN(s, sizeof(uint64_t)))
/* The same from reserved@p k on: the members before it are put to use. */
#define assert_room_zero_from(s, k) \
	room_zero(#s, &(s).reserved##k, ROOM_LEN(s, sizeof(uint64_t)) - (k))

/* The @p n reserved function pointers from @p first on are NULL. */
static void
ops_room_null(const char *what, const void *first, size_t n)
{
	const unsigned char *p = first;
	void (*op)(void);
	size_t i;

	for (i = 0; i < n; i++) {
		memcpy(&op, p + i * sizeof(op), sizeof(op));
		if (op)
			fail_msg("%s.reserved%zu is not NULL", what, i);
	}
}
#define assert_ops_room_null(s) ops_room_null(#s, &(s).reserved0, ROOM_LEN(s, sizeof(ROOM_OP_T)))

/* What a reserved function pointer holds when a test wants it refused. */
static void
not_a_callback(void)
{
}

static const uint64_t one = 1;
static void (*const some_op)(void) = not_a_callback;

/*
 * The consumer @p call refuses its input (-EINVAL) while any one of the @p n
 * reserved members at @p room, each @p width bytes, holds @p value, saying
 * "reserved" in its message when @p says_why; and accepts it (0) when all
 * are zero. @p call must free whatever it created, whatever it returns.
 */
static void
refuses_room(const char *what, void *room, size_t n, size_t width, const void *value,
	     int (*call)(void *priv, char *err, size_t err_len), void *priv, bool says_why)
{
	unsigned char *p = room;
	char err[512];
	size_t i;
	int ret;

	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		memcpy(p + i * width, value, width);
		err[0] = '\0';
		ret = call(priv, err, sizeof(err));
		memset(p + i * width, 0, width);
		if (ret != -EINVAL)
			fail_msg("%s: with reserved%zu set the call gave %d, not -EINVAL (%d)",
				 what, i, ret, -EINVAL);
		if (says_why && !strstr(err, "reserved"))
			fail_msg("%s: with reserved%zu set the message does not say why: \"%s\"",
				 what, i, err);
	}
	err[0] = '\0';
	ret = call(priv, err, sizeof(err));
	if (ret != 0)
		fail_msg("%s: with every reserved member zero the call gave %d: \"%s\"", what, ret,
			 err);
}
#define refuses_input(s, call, priv, says_why)                                                  \
	refuses_room(#s, &(s).reserved0, ROOM_LEN(s, sizeof(uint64_t)), sizeof(uint64_t), &one, \
		     call, priv, says_why)
#define refuses_ops(s, call, priv, says_why)                                                \
	refuses_room(#s, &(s).reserved0, ROOM_LEN(s, sizeof(ROOM_OP_T)), sizeof(ROOM_OP_T), \
		     &some_op, call, priv, says_why)

/* A file of the source tree (IOMMUSIM_SOURCE_ROOT, set by meson), or NULL. */
static const char *
source_file(char *buf, size_t len, const char *rel)
{
	const char *root = getenv("IOMMUSIM_SOURCE_ROOT");

	if (!root || (size_t)snprintf(buf, len, "%s/%s", root, rel) >= len)
		return NULL;
	return buf;
}

/* Everything written to @p f, as a string in @p buf; closes @p f. */
static void
slurp(FILE *f, char *buf, size_t len)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* The s390 driver, a zPCI function (every instruction cc 0), its PCI device
 * and a DMA-FQ domain it is attached to, built by hand. */
struct kstack {
	struct iommusim_zpci_fn *fn;
	struct iommusim_s390_iommu *s;
	struct iommusim_iommu *iommu;
	struct iommusim_device *dev;
	struct iommusim_domain *dom;
};

static void
kstack_start(struct kstack *k)
{
	const struct iommusim_s390_iommu_cfg scfg = { 0 };
	const struct iommusim_zpci_fn_cfg fcfg = { .fid = 1 };
	struct iommusim_device_cfg dcfg = { .is_pci = true };

	memset(k, 0, sizeof(*k));
	assert_int_equal(iommusim_zpci_fn_create(&fcfg, &k->fn), 0);
	assert_int_equal(iommusim_s390_iommu_create(&scfg, NULL, &k->s, &k->iommu), 0);
	dcfg.drvdata = k->fn;
	assert_int_equal(iommusim_device_create(k->iommu, &dcfg, &k->dev), 0);
	assert_int_equal(iommusim_domain_alloc(k->dev, IOMMUSIM_DOMAIN_DMA_FQ, &k->dom), 0);
	assert_int_equal(iommusim_iommu_attach_device(k->dom, k->dev, NULL), 0);
}

static void
kstack_stop(struct kstack *k)
{
	iommusim_device_destroy(k->dev, NULL);
	iommusim_domain_free(k->dom);
	iommusim_s390_iommu_destroy(k->s);
	iommusim_zpci_fn_destroy(k->fn);
}

static struct iommusim_stack *
stack(const struct iommusim_stack_cfg *cfg)
{
	struct iommusim_stack *st = NULL;
	char err[256];

	if (iommusim_stack_create(cfg, &st, err, sizeof(err)))
		fail_msg("iommusim_stack_create: %s", err);
	return st;
}

/* A run of 100 µs of simulated time: one job, one I/O in flight. */
static void
tiny_job(struct iommusim_job *job)
{
	iommusim_job_defaults(job);
	job->runtime_ns = 100000;
}

/* A stress run of 2 ms on one thread holding four small mappings. */
static const struct iommusim_stress_cfg tiny_stress = {
	.threads = 1,
	.duration_ns = 2000000,
	.live = 4,
	.max_size = 4096,
};

/* strict_ranged_rpcit.sim in brief: one expectation, which holds. */
static const char tiny_script[] = "platform lpar\n"
				  "function f1\n"
				  "domain d1 policy=strict devices=f1\n"
				  "expect d1.type == DMA\n";

/* ---- inputs: a reserved member that is not zero is refused ---- */

struct run_in {
	struct iommusim_job job;
	struct iommusim_profile profile;
	struct iommusim_policy policy;
};

static int
call_run(void *priv, char *err, size_t err_len)
{
	const struct run_in *in = priv;
	struct iommusim_run_result r;

	return iommusim_run(&in->job, &in->profile, &in->policy, 1, NULL, &r, err, err_len);
}

static void
run_in_init(struct run_in *in)
{
	memset(in, 0, sizeof(*in));
	tiny_job(&in->job);
	in->profile = *iommusim_profile_find("lpar");
	in->policy.kind = IOMMUSIM_POLICY_KERNEL;
}

static void
test_run_refuses_nonzero_reserved_in_job(void **state)
{
	struct run_in in;

	run_in_init(&in);
	refuses_input(in.job, call_run, &in, true);
}

static void
test_run_refuses_nonzero_reserved_in_policy(void **state)
{
	struct run_in in;

	run_in_init(&in);
	refuses_input(in.policy, call_run, &in, true);
}

static void
test_run_refuses_nonzero_reserved_in_policy_cmdline(void **state)
{
	struct run_in in;

	run_in_init(&in);
	in.policy.has_cmdline = true;
	refuses_input(in.policy.cmdline, call_run, &in, true);
}

/* The boot parameters' IOMMU policy inside the policy's command line, in
 * force or not (the command line's own room is refused either way). */
static void
test_run_refuses_nonzero_reserved_in_policy_cmdline_iommu(void **state)
{
	struct run_in in;

	run_in_init(&in);
	in.policy.has_cmdline = true;
	refuses_input(in.policy.cmdline.iommu, call_run, &in, true);
	in.policy.has_cmdline = false;
	refuses_input(in.policy.cmdline.iommu, call_run, &in, true);
}

static void
test_run_refuses_nonzero_reserved_in_profile(void **state)
{
	struct run_in in;

	run_in_init(&in);
	refuses_input(in.profile, call_run, &in, true);
}

static int
call_stress(void *priv, char *err, size_t err_len)
{
	struct iommusim_stress_result r;

	return iommusim_stress_run(priv, &r, err, err_len);
}

static void
test_stress_refuses_nonzero_reserved_in_cfg(void **state)
{
	struct iommusim_stress_cfg cfg = tiny_stress;

	refuses_input(cfg, call_stress, &cfg, true);
}

static int
call_stack(void *priv, char *err, size_t err_len)
{
	struct iommusim_stack *st = NULL;
	int ret = iommusim_stack_create(priv, &st, err, err_len);

	iommusim_stack_destroy(st);
	return ret;
}

static void
test_stack_create_refuses_nonzero_reserved_in_cfg(void **state)
{
	struct iommusim_stack_cfg cfg = { .ncpus = 1 };

	refuses_input(cfg, call_stack, &cfg, true);
}

struct stack_platform_in {
	struct iommusim_stack_cfg cfg;
	struct iommusim_zpci_platform_ops ops;
};

static void
test_stack_create_refuses_platform_ops_with_reserved_callbacks(void **state)
{
	struct stack_platform_in in = { .cfg = { .ncpus = 1 } };
	struct iommusim_zpci_canned *cn;

	assert_int_equal(iommusim_zpci_canned_create(&cn), 0);
	in.ops = iommusim_zpci_canned_ops;
	in.cfg.platform = &in.ops;
	in.cfg.platform_priv = cn;
	refuses_ops(in.ops, call_stack, &in.cfg, true);
	iommusim_zpci_canned_destroy(cn);
}

static int
call_sim(void *priv, char *err, size_t err_len)
{
	struct iommusim_sim *sim = NULL;
	int ret = iommusim_sim_create(priv, &sim);

	iommusim_sim_destroy(sim);
	return ret;
}

static void
test_sim_create_refuses_nonzero_reserved_in_cfg(void **state)
{
	struct iommusim_sim_cfg cfg = { .ncpus = 2, .seed = 1 };

	refuses_input(cfg, call_sim, &cfg, false);
}

struct platform_in {
	struct iommusim_profile profile;
	struct iommusim_sim *sim;
};

static int
call_platform(void *priv, char *err, size_t err_len)
{
	struct platform_in *in = priv;
	struct iommusim_platform *pl = NULL;
	int ret = iommusim_platform_create(&in->profile, in->sim, &pl);

	iommusim_platform_destroy(pl);
	return ret;
}

static void
test_platform_create_refuses_nonzero_reserved_in_profile(void **state)
{
	const struct iommusim_sim_cfg scfg = { 0 };
	struct platform_in in = { .profile = *iommusim_profile_find("kvm") };

	assert_int_equal(iommusim_sim_create(&scfg, &in.sim), 0);
	refuses_input(in.profile, call_platform, &in, false);
	iommusim_sim_destroy(in.sim);
}

static int
call_zpci_fn(void *priv, char *err, size_t err_len)
{
	struct iommusim_zpci_fn *fn = NULL;
	int ret = iommusim_zpci_fn_create(priv, &fn);

	iommusim_zpci_fn_destroy(fn);
	return ret;
}

static void
test_zpci_fn_create_refuses_nonzero_reserved_in_cfg(void **state)
{
	struct iommusim_zpci_fn_cfg cfg = { .fid = 7 };

	refuses_input(cfg, call_zpci_fn, &cfg, false);
}

static void
test_zpci_fn_create_refuses_platform_ops_with_reserved_callbacks(void **state)
{
	struct iommusim_zpci_platform_ops ops = iommusim_zpci_canned_ops;
	struct iommusim_zpci_fn_cfg cfg = { .fid = 7, .platform = &ops };
	struct iommusim_zpci_canned *cn;

	assert_int_equal(iommusim_zpci_canned_create(&cn), 0);
	cfg.platform_priv = cn;
	refuses_ops(ops, call_zpci_fn, &cfg, false);
	iommusim_zpci_canned_destroy(cn);
}

static void
watch_rpcit(void *priv, struct iommusim_zpci_fn *fn, const struct iommusim_rpcit *r)
{
	(*(unsigned *)priv)++;
}

struct observer_in {
	struct iommusim_zpci_fn *fn;
	struct iommusim_zpci_observer_ops ops;
	unsigned seen;
};

/* Install the observer, see it called by one RPCIT, and remove it. */
static int
call_observer(void *priv, char *err, size_t err_len)
{
	struct observer_in *in = priv;
	unsigned before = in->seen;
	int ret = iommusim_zpci_fn_observer_set(in->fn, &in->ops, &in->seen);

	assert_int_equal(
		iommusim_zpci_refresh_trans(in->fn, IOVA, PAGE, IOMMUSIM_RPCIT_OTHER, 0, 0, NULL),
		0);
	assert_int_equal(in->seen, before + (ret == 0));
	assert_int_equal(iommusim_zpci_fn_observer_set(in->fn, NULL, NULL), 0);
	return ret;
}

static void
test_zpci_observer_set_refuses_ops_with_reserved_callbacks(void **state)
{
	const struct iommusim_zpci_fn_cfg cfg = { .fid = 7 };
	struct observer_in in = { .ops = { .rpcit = watch_rpcit } };

	assert_int_equal(iommusim_zpci_fn_create(&cfg, &in.fn), 0);
	refuses_ops(in.ops, call_observer, &in, false);
	assert_int_equal(in.seen, 1);
	iommusim_zpci_fn_destroy(in.fn);
}

struct shadow_in {
	struct iommusim_shadow_pool *pool;
	struct iommusim_shadow_cfg cfg;
};

static int
call_shadow(void *priv, char *err, size_t err_len)
{
	struct shadow_in *in = priv;
	struct iommusim_shadow *s = NULL;
	int ret = iommusim_shadow_create(in->pool, &in->cfg, &s);

	iommusim_shadow_destroy(s);
	return ret;
}

static void
test_shadow_create_refuses_nonzero_reserved_in_cfg(void **state)
{
	struct shadow_in in = { .cfg = { .no_coalesce = true } };

	assert_int_equal(iommusim_shadow_pool_create(16, &in.pool), 0);
	refuses_input(in.cfg, call_shadow, &in, false);
	iommusim_shadow_pool_destroy(in.pool);
}

struct dma_iommu_in {
	struct kstack k;
	struct iommusim_dma_iommu_cfg cfg;
};

static int
call_dma_iommu(void *priv, char *err, size_t err_len)
{
	struct dma_iommu_in *in = priv;
	struct iommusim_dma_iommu *d = NULL;
	struct iommusim_dma dma;
	int ret = iommusim_dma_iommu_create(in->k.dom, in->k.dev, &in->cfg, &d, &dma);

	iommusim_dma_iommu_destroy(d);
	return ret;
}

static void
test_dma_iommu_create_refuses_nonzero_reserved_in_cfg(void **state)
{
	struct dma_iommu_in in = { .cfg = { .ncpus = 2, .fq_size = 64 } };

	kstack_start(&in.k);
	refuses_input(in.cfg, call_dma_iommu, &in, false);
	kstack_stop(&in.k);
}

struct iommu_in {
	struct iommusim_iommu_ops ops;
	struct iommusim_iommu_policy policy;
};

static int
call_iommu(void *priv, char *err, size_t err_len)
{
	struct iommu_in *in = priv;
	struct iommusim_iommu *iommu = NULL;
	int ret = iommusim_iommu_create(&in->ops, NULL, &in->policy, &iommu);

	iommusim_iommu_destroy(iommu);
	return ret;
}

static void
test_iommu_create_refuses_ops_with_reserved_callbacks(void **state)
{
	struct iommu_in in = { .ops = iommusim_s390_iommu_ops };

	refuses_ops(in.ops, call_iommu, &in, false);
}

static void
test_iommu_create_refuses_nonzero_reserved_in_policy(void **state)
{
	struct iommu_in in = { .ops = iommusim_s390_iommu_ops, .policy = { .strict_set = true } };

	refuses_input(in.policy, call_iommu, &in, false);
}

struct device_in {
	struct kstack k;
	struct iommusim_device_cfg cfg;
};

static int
call_device(void *priv, char *err, size_t err_len)
{
	struct device_in *in = priv;
	struct iommusim_device *dev = NULL;
	int ret = iommusim_device_create(in->k.iommu, &in->cfg, &dev);

	iommusim_device_destroy(dev, NULL);
	return ret;
}

static void
test_device_create_refuses_nonzero_reserved_in_cfg(void **state)
{
	struct device_in in = { .cfg = { .name = "abi", .is_pci = true } };

	kstack_start(&in.k);
	in.cfg.drvdata = in.k.fn;
	refuses_input(in.cfg, call_device, &in, false);
	kstack_stop(&in.k);
}

struct s390_in {
	struct iommusim_s390_iommu_cfg cfg;
	struct iommusim_iommu_policy policy;
};

static int
call_s390(void *priv, char *err, size_t err_len)
{
	struct s390_in *in = priv;
	struct iommusim_s390_iommu *s = NULL;
	struct iommusim_iommu *iommu = NULL;
	int ret = iommusim_s390_iommu_create(&in->cfg, &in->policy, &s, &iommu);

	iommusim_s390_iommu_destroy(s);
	return ret;
}

static void
test_s390_iommu_create_refuses_nonzero_reserved_in_cfg(void **state)
{
	struct s390_in in = { .cfg = { .memory_bytes = UINT64_C(1) << 30 } };

	refuses_input(in.cfg, call_s390, &in, false);
}

static void
test_s390_iommu_create_refuses_nonzero_reserved_in_policy(void **state)
{
	struct s390_in in = { .policy = { .s390_strict = true } };

	refuses_input(in.policy, call_s390, &in, false);
}

static int
call_rcaches(void *priv, char *err, size_t err_len)
{
	const struct iommusim_iova_cfg icfg = { .start_pfn = 1 };
	struct iommusim_iova_domain *iovad = NULL;
	int ret;

	assert_int_equal(iommusim_iova_domain_create(&icfg, &iovad), 0);
	ret = iommusim_iova_rcaches_init(iovad, priv);
	iommusim_iova_domain_destroy(iovad);
	return ret;
}

static void
test_iova_rcaches_init_refuses_nonzero_reserved_in_cfg(void **state)
{
	struct iommusim_iova_rcache_cfg cfg = { .ncpus = 2 };

	refuses_input(cfg, call_rcaches, &cfg, false);
}

struct legacy_in {
	struct iommusim_zpci_fn *fn;
	struct iommusim_legacy_dma_cfg cfg;
};

static int
call_legacy(void *priv, char *err, size_t err_len)
{
	struct legacy_in *in = priv;
	struct iommusim_legacy_dma *l = NULL;
	struct iommusim_dma dma;
	int ret = iommusim_legacy_dma_create(in->fn, &in->cfg, NULL, &l, &dma);

	iommusim_legacy_dma_destroy(l, NULL);
	return ret;
}

static void
test_legacy_dma_create_refuses_nonzero_reserved_in_cfg(void **state)
{
	const struct iommusim_zpci_fn_cfg fcfg = { .fid = 3 };
	struct legacy_in in = { .cfg = { .strict = true } };

	assert_int_equal(iommusim_zpci_fn_create(&fcfg, &in.fn), 0);
	refuses_input(in.cfg, call_legacy, &in, false);
	iommusim_zpci_fn_destroy(in.fn);
}

static void
count_expectation(void *priv, const struct iommusim_script_expectation *e)
{
	(*(unsigned *)priv)++;
}

struct script_in {
	struct iommusim_script_hooks hooks;
	unsigned expectations;
	const char *path; /* run this file; NULL: tiny_script */
};

/* Run the script with the hooks: OK is 0, ERROR is -EINVAL, with what the
 * run wrote to its error stream as the message. */
static int
call_script(void *priv, char *err, size_t err_len)
{
	struct script_in *in = priv;
	unsigned before = in->expectations;
	FILE *e = tmpfile();
	int rc;

	assert_non_null(e);
	if (in->path)
		rc = iommusim_script_run_file_hooks(in->path, NULL, e, &in->hooks, NULL);
	else
		rc = iommusim_script_run_string_hooks(tiny_script, "abi", NULL, e, &in->hooks,
						      NULL);
	slurp(e, err, err_len);
	if (rc == IOMMUSIM_SCRIPT_ERROR) {
		/* refused before anything ran */
		assert_int_equal(in->expectations, before);
		return -EINVAL;
	}
	assert_int_equal(rc, IOMMUSIM_SCRIPT_OK);
	assert_true(in->expectations > before);
	return 0;
}

static void
test_script_run_string_refuses_hooks_with_reserved_callbacks(void **state)
{
	struct script_in in = { .hooks = { .expectation = count_expectation } };

	in.hooks.priv = &in.expectations;
	refuses_ops(in.hooks, call_script, &in, true);
}

static void
test_script_run_file_refuses_hooks_with_reserved_callbacks(void **state)
{
	struct script_in in = { .hooks = { .expectation = count_expectation } };
	char path[4096];

	in.hooks.priv = &in.expectations;
	in.path = source_file(path, sizeof(path), "docs/examples/strict_ranged_rpcit.sim");
	if (!in.path)
		skip();
	refuses_ops(in.hooks, call_script, &in, true);
}

/* What the library hands out as ops tables passes its own checks. */
static void
test_library_ops_tables_have_null_reserved(void **state)
{
	const struct iommusim_stack_cfg cfg = { 0 };
	const struct iommusim_zpci_fn_cfg fcfg = { .fid = 9 };
	struct iommusim_stack *st = stack(&cfg);
	struct iommusim_zpci_fn *fn;
	struct iommusim_legacy_dma *l;
	struct iommusim_dma_direct *dd;
	struct iommusim_dma legacy, direct;
	struct kstack k;

	assert_ops_room_null(iommusim_s390_iommu_ops);
	assert_ops_room_null(iommusim_zpci_canned_ops);
	assert_ops_room_null(iommusim_platform_zpci_ops);
	assert_ops_room_null(*iommusim_stack_dma(st, 0)->ops);
	iommusim_stack_destroy(st);

	assert_int_equal(iommusim_zpci_fn_create(&fcfg, &fn), 0);
	assert_int_equal(iommusim_legacy_dma_create(fn, NULL, NULL, &l, &legacy), 0);
	assert_ops_room_null(*legacy.ops);
	iommusim_legacy_dma_destroy(l, NULL);
	iommusim_zpci_fn_destroy(fn);

	kstack_start(&k);
	assert_int_equal(iommusim_dma_direct_create(k.dev, &dd, &direct), 0);
	assert_ops_room_null(*direct.ops);
	iommusim_dma_direct_destroy(dd);
	kstack_stop(&k);
}

/* ---- outputs: the library writes zero in the room ---- */

static void
test_job_defaults_zeroes_reserved(void **state)
{
	struct iommusim_job job;

	GARBAGE(job);
	iommusim_job_defaults(&job);
	assert_room_zero(job);
}

static void
test_builtin_profiles_have_zero_reserved(void **state)
{
	size_t i, n = iommusim_profile_count();

	assert_true(n > 0);
	for (i = 0; i < n; i++)
		assert_room_zero(*iommusim_profile_at(i));
}

static void
test_run_zeroes_reserved_in_result(void **state)
{
	const struct iommusim_policy policy = { .kind = IOMMUSIM_POLICY_LAZY_PERCPU };
	struct iommusim_run_result r;
	struct iommusim_job job;
	char err[256] = "";

	tiny_job(&job);
	GARBAGE(r);
	if (iommusim_run(&job, iommusim_profile_find("kvm"), &policy, 1, NULL, &r, err,
			 sizeof(err)))
		fail_msg("iommusim_run: %s", err);
	assert_true(r.ios > 0);
	/* reserved0 is fq_bytes since 0.2: per-CPU queues of the default 256
	 * entries, one per CPU, of 16 + 40 x 256 bytes each. */
	assert_int_equal(r.fq_size, 256);
	assert_int_equal(r.fq_bytes, (uint64_t)job.numjobs * (16 + 40 * 256));
	assert_room_zero_from(r, 1);
	assert_room_zero(r.latency);
	assert_room_zero(r.exposure);
}

static void
test_stress_zeroes_reserved_in_result(void **state)
{
	struct iommusim_stress_result r;
	char err[256] = "";

	GARBAGE(r);
	if (iommusim_stress_run(&tiny_stress, &r, err, sizeof(err)))
		fail_msg("iommusim_stress_run: %s", err);
	assert_true(r.maps > 0);
	assert_room_zero(r);
	assert_room_zero(r.map_ns);
	assert_room_zero(r.unmap_ns);
}

/* A job file's parts: the job, the policy and its command line, read back
 * as inputs to a run, must have their room zero too. */
static void
jobfile_room_zero(const struct iommusim_jobfile *jf)
{
	assert_room_zero(*jf);
	assert_room_zero(jf->job);
	assert_room_zero(jf->policy);
	assert_room_zero(jf->policy.cmdline);
	assert_room_zero(jf->policy.cmdline.iommu);
}

static void
test_jobfile_parse_string_zeroes_reserved(void **state)
{
	static const char text[] = "[global]\n"
				   "platform=kvm\n"
				   "policy=kernel\n"
				   "cmdline=iommu.strict=1 s390_iommu_aperture=2\n"
				   "[j]\n"
				   "runtime=1ms\n"
				   "[platform]\n"
				   "shadow_limit=100\n";
	struct iommusim_jobfile jf;
	char err[256] = "";

	GARBAGE(jf);
	if (iommusim_jobfile_parse_string(text, "abi.ini", &jf, err, sizeof(err)))
		fail_msg("iommusim_jobfile_parse_string: %s", err);
	assert_true(jf.policy.has_cmdline && jf.policy.cmdline.iommu.strict);
	jobfile_room_zero(&jf);
}

static void
test_jobfile_parse_zeroes_reserved(void **state)
{
	struct iommusim_jobfile jf;
	char path[4096], err[256] = "";

	if (!source_file(path, sizeof(path), "tests/data/randread.ini"))
		skip();
	GARBAGE(jf);
	if (iommusim_jobfile_parse(path, &jf, err, sizeof(err)))
		fail_msg("iommusim_jobfile_parse: %s", err);
	assert_int_equal(jf.job.iodepth, 32);
	jobfile_room_zero(&jf);
}

static void
test_cmdline_parse_zeroes_reserved(void **state)
{
	struct iommusim_cmdline c;
	char err[256];

	GARBAGE(c);
	assert_int_equal(
		iommusim_cmdline_parse("iommu.strict=1 root=/dev/dasda", &c, err, sizeof(err)), 0);
	assert_true(c.iommu.strict_set && c.nignored == 1);
	assert_room_zero(c);
	assert_room_zero(c.iommu);
}

static void
test_cmdline_parse_zeroes_reserved_on_error(void **state)
{
	struct iommusim_cmdline c;
	char err[256];

	GARBAGE(c);
	assert_int_equal(iommusim_cmdline_parse("iommu.nonsense=1", &c, err, sizeof(err)), -EINVAL);
	assert_room_zero(c);
	assert_room_zero(c.iommu);
}

/* Setting a policy's cmdline key replaces its whole command line. */
static void
test_policy_set_cmdline_zeroes_reserved_in_cmdline(void **state)
{
	struct iommusim_policy policy = { .kind = IOMMUSIM_POLICY_KERNEL };
	char err[256] = "";

	GARBAGE(policy.cmdline);
	if (iommusim_policy_set(&policy, "cmdline", "iommu.passthrough=1", err, sizeof(err)))
		fail_msg("iommusim_policy_set: %s", err);
	assert_true(policy.has_cmdline && policy.cmdline.iommu.passthrough);
	assert_room_zero(policy.cmdline);
	assert_room_zero(policy.cmdline.iommu);
}

static void
test_domain_decision_zeroes_reserved(void **state)
{
	struct iommusim_domain_decision dd;
	struct iommusim_domain *dom;
	struct kstack k;

	kstack_start(&k);
	GARBAGE(dd);
	assert_int_equal(iommusim_iommu_decide_domain_type(k.dev, &dd), 0);
	assert_int_equal(dd.effective, IOMMUSIM_DOMAIN_DMA_FQ);
	assert_room_zero(dd);

	GARBAGE(dd);
	assert_int_equal(iommusim_iommu_alloc_default_domain(k.dev, &dd, &dom), 0);
	assert_room_zero(dd);
	iommusim_domain_free(dom);
	kstack_stop(&k);
}

static void
test_device_and_domain_info_zero_reserved(void **state)
{
	struct iommusim_device_info di;
	struct iommusim_domain_info mi;
	struct kstack k;

	kstack_start(&k);
	GARBAGE(di);
	assert_int_equal(iommusim_device_info_get(k.dev, &di), 0);
	assert_ptr_equal(di.domain, k.dom);
	assert_room_zero(di);
	GARBAGE(mi);
	assert_int_equal(iommusim_domain_info_get(k.dom, &mi), 0);
	assert_int_equal(mi.ndevices, 1);
	assert_room_zero(mi);
	kstack_stop(&k);
}

static void
test_hist_summary_zeroes_reserved(void **state)
{
	struct iommusim_hist_summary s;
	struct iommusim_hist *h;

	assert_int_equal(iommusim_hist_create(0, &h), 0);
	GARBAGE(s);
	assert_int_equal(iommusim_hist_summary_get(h, &s), 0);
	assert_room_zero(s);
	iommusim_hist_record(h, 5);
	iommusim_hist_record(h, 5000);
	GARBAGE(s);
	assert_int_equal(iommusim_hist_summary_get(h, &s), 0);
	assert_int_equal(s.count, 2);
	assert_room_zero(s);
	iommusim_hist_destroy(h);
}

static void
test_sim_server_and_cpu_stats_zero_reserved(void **state)
{
	const struct iommusim_sim_cfg cfg = { .ncpus = 1 };
	struct iommusim_server_stats ss;
	struct iommusim_cpu_stats cs;
	struct iommusim_server *srv;
	struct iommusim_sim *sim;
	struct iommusim_ctx ctx;

	assert_int_equal(iommusim_sim_create(&cfg, &sim), 0);
	assert_int_equal(iommusim_server_create(sim, "hv", 1, &srv), 0);
	assert_int_equal(iommusim_sim_cpu_begin(sim, 0, 0, &ctx, NULL), 0);
	iommusim_sim_cpu_charge(sim, 0, IOMMUSIM_COST_PTE, 100);
	iommusim_sim_cpu_wait(sim, 0, srv, 50, IOMMUSIM_COST_FLUSH);
	iommusim_sim_cpu_end(sim, 0);

	GARBAGE(ss);
	assert_int_equal(iommusim_server_stats_get(srv, &ss), 0);
	assert_int_equal(ss.jobs, 1);
	assert_room_zero(ss);
	GARBAGE(cs);
	assert_int_equal(iommusim_sim_cpu_stats_get(sim, 0, &cs), 0);
	assert_int_equal(cs.items, 1);
	assert_room_zero(cs);
	iommusim_sim_destroy(sim);
}

static void
test_platform_stats_zeroes_reserved(void **state)
{
	const struct iommusim_sim_cfg cfg = { 0 };
	struct iommusim_platform_stats ps;
	struct iommusim_platform *pl;
	struct iommusim_sim *sim;

	assert_int_equal(iommusim_sim_create(&cfg, &sim), 0);
	assert_int_equal(iommusim_platform_create(iommusim_profile_find("zvm"), sim, &pl), 0);
	GARBAGE(ps);
	assert_int_equal(iommusim_platform_stats_get(pl, &ps), 0);
	assert_int_equal(ps.rpcits, 0);
	assert_room_zero(ps);
	iommusim_platform_destroy(pl);
	iommusim_sim_destroy(sim);
}

static void
test_zpci_table_stats_zeroes_reserved(void **state)
{
	struct iommusim_zpci_table_stats s;
	struct iommusim_zpci_table *t;

	assert_int_equal(iommusim_zpci_table_create(&t), 0);
	assert_int_equal(iommusim_zpci_table_update(t, IOVA, 0x5000, IOMMUSIM_ZPCI_PTE_VALID, NULL),
			 0);
	GARBAGE(s);
	assert_int_equal(iommusim_zpci_table_stats_get(t, &s), 0);
	assert_int_equal(s.page_tables, 1);
	assert_room_zero(s);
	iommusim_zpci_table_destroy(t);
}

static void
test_shadow_refresh_zeroes_reserved_in_result(void **state)
{
	struct iommusim_shadow_result r;
	struct iommusim_shadow_pool *pool;
	struct iommusim_zpci_table *t;
	struct iommusim_shadow *s;
	uint64_t rto;

	assert_int_equal(iommusim_zpci_table_create(&t), 0);
	assert_int_equal(iommusim_zpci_table_update(t, IOVA, 0x5000, IOMMUSIM_ZPCI_PTE_VALID, NULL),
			 0);
	rto = iommusim_zpci_table_origin(t);
	assert_int_equal(iommusim_shadow_pool_create(0, &pool), 0);
	assert_int_equal(iommusim_shadow_create(pool, NULL, &s), 0);

	GARBAGE(r);
	assert_int_equal(iommusim_shadow_refresh(s, rto, IOVA, IOVA + 0xfffff, IOVA, PAGE, &r), 0);
	assert_int_equal(r.cc, 0);
	assert_int_equal(r.maps, 1);
	assert_room_zero(r);

	/* refused: no table */
	GARBAGE(r);
	assert_int_equal(iommusim_shadow_refresh(s, 0, IOVA, IOVA + 0xfffff, IOVA, PAGE, &r), 0);
	assert_int_equal(r.cc, IOMMUSIM_ZPCI_CC_ERR);
	assert_room_zero(r);

	iommusim_shadow_destroy(s);
	iommusim_shadow_pool_destroy(pool);
	iommusim_zpci_table_destroy(t);
}

static void
test_script_zeroes_reserved_in_summary(void **state)
{
	const struct iommusim_script_hooks hooks = { 0 };
	struct iommusim_script_summary sum;
	char path[4096];

	GARBAGE(sum);
	assert_int_equal(iommusim_script_run_string(tiny_script, "abi", NULL, NULL, &sum),
			 IOMMUSIM_SCRIPT_OK);
	assert_int_equal(sum.expectations, 1);
	assert_room_zero(sum);

	GARBAGE(sum);
	assert_int_equal(
		iommusim_script_run_string_hooks(tiny_script, "abi", NULL, NULL, &hooks, &sum),
		IOMMUSIM_SCRIPT_OK);
	assert_room_zero(sum);

	/* a syntax error: nothing ran, the summary is still written */
	GARBAGE(sum);
	assert_int_equal(iommusim_script_run_string("frobnicate\n", "abi", NULL, NULL, &sum),
			 IOMMUSIM_SCRIPT_ERROR);
	assert_room_zero(sum);

	if (!source_file(path, sizeof(path), "docs/examples/strict_ranged_rpcit.sim"))
		skip();
	GARBAGE(sum);
	assert_int_equal(iommusim_script_run_file(path, NULL, NULL, &sum), IOMMUSIM_SCRIPT_OK);
	assert_true(sum.expectations > 1);
	assert_room_zero(sum);

	GARBAGE(sum);
	assert_int_equal(iommusim_script_run_file_hooks(path, NULL, NULL, &hooks, &sum),
			 IOMMUSIM_SCRIPT_OK);
	assert_room_zero(sum);
}

static void
test_s390_counters_and_events_zero_reserved(void **state)
{
	const struct iommusim_stack_cfg cfg = { .strict = true };
	struct iommusim_stack *st = stack(&cfg);
	struct iommusim_s390_counters c;
	struct iommusim_s390_events e;
	uint64_t iova;

	assert_int_equal(iommusim_dma_map_page(iommusim_stack_dma(st, 0), 0x10000, PAGE,
					       IOMMUSIM_DMA_TO_DEVICE, 0, NULL, &iova),
			 0);
	GARBAGE(c);
	GARBAGE(e);
	assert_int_equal(iommusim_s390_domain_counters(iommusim_stack_domain(st, 0), &c, &e), 0);
	assert_int_equal(c.mapped_pages, 1);
	assert_room_zero(c);
	assert_room_zero(e);
	assert_int_equal(iommusim_dma_unmap_page(iommusim_stack_dma(st, 0), iova, PAGE,
						 IOMMUSIM_DMA_TO_DEVICE, 0, NULL),
			 0);
	iommusim_stack_destroy(st);
}

static void
test_ism_event_and_stats_zero_reserved(void **state)
{
	const struct iommusim_zpci_fn_cfg cfg = { .fid = 5, .pft = IOMMUSIM_PCI_FUNC_TYPE_ISM };
	struct iommusim_ism_event ev;
	struct iommusim_ism_stats st;
	struct iommusim_zpci_fn *fn;
	struct iommusim_ism *ism;
	uint64_t token;

	assert_int_equal(iommusim_zpci_fn_create(&cfg, &fn), 0);
	assert_int_equal(iommusim_ism_create(fn, &ism), 0);
	assert_int_equal(iommusim_ism_dmb_register(ism, IOVA, PAGE, &token), 0);
	/* a refresh over the DMB in use: the device sees it */
	assert_int_equal(
		iommusim_zpci_refresh_trans(fn, IOVA, PAGE, IOMMUSIM_RPCIT_SYNC, 0, 0, NULL), 0);
	assert_int_equal(iommusim_ism_nevents(ism), 1);
	GARBAGE(ev);
	assert_int_equal(iommusim_ism_event_get(ism, 0, &ev), 0);
	assert_true(ev.iova == IOVA);
	assert_room_zero(ev);
	GARBAGE(st);
	assert_int_equal(iommusim_ism_stats_get(ism, &st), 0);
	assert_int_equal(st.events, 1);
	assert_room_zero(st);
	assert_int_equal(iommusim_ism_dmb_unregister(ism, token), 0);
	iommusim_ism_destroy(ism);
	iommusim_zpci_fn_destroy(fn);
}

static void
test_zpci_canned_call_and_fn_getters_zero_reserved(void **state)
{
	struct iommusim_zpci_fn_cfg cfg = { .fid = 6, .platform = &iommusim_zpci_canned_ops };
	struct iommusim_zpci_canned_call c;
	struct iommusim_zpci_fn_stats st;
	struct iommusim_zpci_fn_info info;
	struct iommusim_zpci_canned *cn;
	struct iommusim_zpci_fn *fn;
	size_t n;

	assert_int_equal(iommusim_zpci_canned_create(&cn), 0);
	cfg.platform_priv = cn;
	assert_int_equal(iommusim_zpci_fn_create(&cfg, &fn), 0);
	assert_int_equal(
		iommusim_zpci_refresh_trans(fn, IOVA, PAGE, IOMMUSIM_RPCIT_SYNC, 0, 0, NULL), 0);
	n = iommusim_zpci_canned_ncalls(cn);
	assert_true(n > 0);
	GARBAGE(c);
	assert_int_equal(iommusim_zpci_canned_call(cn, n - 1, &c), 0);
	assert_true(c.is_rpcit && c.rpcit.addr == IOVA);
	assert_room_zero(c);
	GARBAGE(st);
	assert_int_equal(iommusim_zpci_fn_stats_get(fn, &st), 0);
	assert_int_equal(st.rpcits, 1);
	assert_room_zero(st);
	GARBAGE(info);
	assert_int_equal(iommusim_zpci_fn_info_get(fn, &info), 0);
	assert_int_equal(info.fid, 6);
	assert_room_zero(info);
	iommusim_zpci_fn_destroy(fn);
	iommusim_zpci_canned_destroy(cn);
}

static void
test_dma_iommu_getters_zero_reserved(void **state)
{
	const struct iommusim_stack_cfg cfg = { .ncpus = 2, .fq_size = 16 };
	struct iommusim_stack *st = stack(&cfg);
	struct iommusim_dma_iommu *d = iommusim_stack_dma_iommu(st, 0);
	const struct iommusim_dma *dma = iommusim_stack_dma(st, 0);
	const struct iommusim_iova_trace *tr;
	struct iommusim_dma_iommu_stats s;
	struct iommusim_dma_iommu_info info;
	struct iommusim_dma_stats ds;
	uint64_t iova;

	assert_int_equal(
		iommusim_dma_map_page(dma, 0x10000, PAGE, IOMMUSIM_DMA_TO_DEVICE, 0, NULL, &iova),
		0);
	assert_int_equal(iommusim_dma_unmap_page(dma, iova, PAGE, IOMMUSIM_DMA_TO_DEVICE, 0, NULL),
			 0);

	GARBAGE(s);
	assert_int_equal(iommusim_dma_iommu_stats_get(d, &s), 0);
	assert_int_equal(s.fq.queued, 1);
	assert_room_zero(s);
	assert_room_zero(s.dma);
	assert_room_zero(s.fq);
	assert_room_zero(s.iova);
	GARBAGE(info);
	assert_int_equal(iommusim_dma_iommu_info_get(d, &info), 0);
	assert_int_equal(info.fq_size, 16);
	assert_room_zero(info);
	GARBAGE(ds);
	assert_int_equal(iommusim_dma_stats_get(dma, &ds), 0);
	assert_int_equal(ds.map_pages, 1);
	assert_room_zero(ds);
	tr = iommusim_dma_iommu_cpu_trace(d, 0);
	assert_non_null(tr);
	assert_room_zero(*tr);
	iommusim_stack_destroy(st);
}

static void
test_dma_stats_get_zeroes_reserved_for_legacy_and_direct(void **state)
{
	const struct iommusim_zpci_fn_cfg fcfg = { .fid = 4 };
	struct iommusim_legacy_dma_counters lc;
	struct iommusim_legacy_dma_info li;
	struct iommusim_dma_stats ds;
	struct iommusim_dma_direct *dd;
	struct iommusim_legacy_dma *l;
	struct iommusim_zpci_fn *fn;
	struct iommusim_dma dma;
	struct kstack k;
	uint64_t addr;

	assert_int_equal(iommusim_zpci_fn_create(&fcfg, &fn), 0);
	assert_int_equal(iommusim_legacy_dma_create(fn, NULL, NULL, &l, &dma), 0);
	assert_int_equal(
		iommusim_dma_map_page(&dma, 0x10000, PAGE, IOMMUSIM_DMA_TO_DEVICE, 0, NULL, &addr),
		0);
	GARBAGE(ds);
	assert_int_equal(iommusim_dma_stats_get(&dma, &ds), 0);
	assert_int_equal(ds.map_pages, 1);
	assert_room_zero(ds);
	GARBAGE(lc);
	assert_int_equal(iommusim_legacy_dma_counters_get(l, &lc), 0);
	assert_int_equal(lc.mapped_pages, 1);
	assert_room_zero(lc);
	GARBAGE(li);
	assert_int_equal(iommusim_legacy_dma_info_get(l, &li), 0);
	assert_true(li.iommu_pages > 0);
	assert_room_zero(li);
	assert_int_equal(iommusim_dma_unmap_page(&dma, addr, PAGE, IOMMUSIM_DMA_TO_DEVICE, 0, NULL),
			 0);
	iommusim_legacy_dma_destroy(l, NULL);
	iommusim_zpci_fn_destroy(fn);

	kstack_start(&k);
	assert_int_equal(iommusim_dma_direct_create(k.dev, &dd, &dma), 0);
	assert_int_equal(
		iommusim_dma_map_page(&dma, 0x10000, PAGE, IOMMUSIM_DMA_TO_DEVICE, 0, NULL, &addr),
		0);
	GARBAGE(ds);
	assert_int_equal(iommusim_dma_stats_get(&dma, &ds), 0);
	assert_int_equal(ds.map_pages, 1);
	assert_room_zero(ds);
	iommusim_dma_direct_destroy(dd);
	kstack_stop(&k);
}

/* A trace is added to, never overwritten: the library adds nothing to its
 * room, so a zeroed trace keeps it zero. */
static void
test_iova_trace_reserved_stay_zero(void **state)
{
	const struct iommusim_iova_cfg cfg = { .start_pfn = 1 };
	const struct iommusim_iova_rcache_cfg rcfg = { .ncpus = 2 };
	struct iommusim_iova_domain *iovad;
	struct iommusim_iova_trace tr;
	struct iommusim_iova_range r;
	uint64_t pfn, big;

	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_domain_create(&cfg, &iovad), 0);
	assert_int_equal(iommusim_iova_rcaches_init(iovad, &rcfg), 0);
	assert_int_equal(iommusim_iova_alloc_fast(iovad, 0, 1, 0xfffff, true, &pfn, &tr), 0);
	assert_int_equal(iommusim_iova_free_fast(iovad, 0, pfn, 1, &tr), 0);
	assert_int_equal(iommusim_iova_alloc_fast(iovad, 0, 1, 0xfffff, true, &pfn, &tr), 0);
	assert_int_equal(iommusim_iova_alloc(iovad, 64, 0xfffff, true, &big, &tr), 0);
	assert_int_equal(iommusim_iova_find(iovad, big, &r, &tr), 0);
	assert_int_equal(iommusim_iova_reserve(iovad, 0x10, 0x1f, &r, &tr), 0);
	assert_int_equal(iommusim_iova_free(iovad, big, &tr), 0);
	assert_int_equal(iommusim_iova_cpu_cache_flush(iovad, 0, &tr), 0);
	assert_int_equal(iommusim_iova_global_cache_flush(iovad, &tr), 0);
	assert_int_equal(iommusim_iova_depot_work_run(iovad, 0, &tr), 0);
	assert_int_equal(iommusim_iova_cpu_set_online(iovad, 1, false, &tr), 0);
	assert_true(tr.rcache_hits == 1 && tr.tree_inserts > 0 && tr.walk_nodes > 0);
	assert_room_zero(tr);
	iommusim_iova_domain_destroy(iovad);
}

static void
test_iova_info_and_rcache_info_zero_reserved(void **state)
{
	const struct iommusim_iova_cfg cfg = { .start_pfn = 1 };
	const struct iommusim_iova_rcache_cfg rcfg = { .ncpus = 2 };
	struct iommusim_iova_rcache_info ri;
	struct iommusim_iova_domain *iovad;
	struct iommusim_iova_info info;
	uint64_t pfn;

	assert_int_equal(iommusim_iova_domain_create(&cfg, &iovad), 0);
	assert_int_equal(iommusim_iova_rcaches_init(iovad, &rcfg), 0);
	assert_int_equal(iommusim_iova_alloc_fast(iovad, 1, 2, 0xfffff, true, &pfn, NULL), 0);
	assert_int_equal(iommusim_iova_free_fast(iovad, 1, pfn, 2, NULL), 0);
	GARBAGE(info);
	assert_int_equal(iommusim_iova_info_get(iovad, &info), 0);
	assert_true(info.has_rcaches);
	assert_room_zero(info);
	GARBAGE(ri);
	assert_int_equal(iommusim_iova_rcache_info_get(iovad, 1, 1, &ri), 0);
	assert_int_equal(ri.loaded_size, 1);
	assert_room_zero(ri);
	iommusim_iova_domain_destroy(iovad);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		/* inputs */
		cmocka_unit_test(test_run_refuses_nonzero_reserved_in_job),
		cmocka_unit_test(test_run_refuses_nonzero_reserved_in_policy),
		cmocka_unit_test(test_run_refuses_nonzero_reserved_in_policy_cmdline),
		cmocka_unit_test(test_run_refuses_nonzero_reserved_in_policy_cmdline_iommu),
		cmocka_unit_test(test_run_refuses_nonzero_reserved_in_profile),
		cmocka_unit_test(test_stress_refuses_nonzero_reserved_in_cfg),
		cmocka_unit_test(test_stack_create_refuses_nonzero_reserved_in_cfg),
		cmocka_unit_test(test_sim_create_refuses_nonzero_reserved_in_cfg),
		cmocka_unit_test(test_platform_create_refuses_nonzero_reserved_in_profile),
		cmocka_unit_test(test_zpci_fn_create_refuses_nonzero_reserved_in_cfg),
		cmocka_unit_test(test_shadow_create_refuses_nonzero_reserved_in_cfg),
		cmocka_unit_test(test_dma_iommu_create_refuses_nonzero_reserved_in_cfg),
		cmocka_unit_test(test_iommu_create_refuses_nonzero_reserved_in_policy),
		cmocka_unit_test(test_device_create_refuses_nonzero_reserved_in_cfg),
		cmocka_unit_test(test_s390_iommu_create_refuses_nonzero_reserved_in_cfg),
		cmocka_unit_test(test_s390_iommu_create_refuses_nonzero_reserved_in_policy),
		cmocka_unit_test(test_iova_rcaches_init_refuses_nonzero_reserved_in_cfg),
		cmocka_unit_test(test_legacy_dma_create_refuses_nonzero_reserved_in_cfg),
		/* ops tables */
		cmocka_unit_test(test_stack_create_refuses_platform_ops_with_reserved_callbacks),
		cmocka_unit_test(test_zpci_fn_create_refuses_platform_ops_with_reserved_callbacks),
		cmocka_unit_test(test_zpci_observer_set_refuses_ops_with_reserved_callbacks),
		cmocka_unit_test(test_iommu_create_refuses_ops_with_reserved_callbacks),
		cmocka_unit_test(test_script_run_string_refuses_hooks_with_reserved_callbacks),
		cmocka_unit_test(test_script_run_file_refuses_hooks_with_reserved_callbacks),
		cmocka_unit_test(test_library_ops_tables_have_null_reserved),
		/* outputs */
		cmocka_unit_test(test_job_defaults_zeroes_reserved),
		cmocka_unit_test(test_builtin_profiles_have_zero_reserved),
		cmocka_unit_test(test_run_zeroes_reserved_in_result),
		cmocka_unit_test(test_stress_zeroes_reserved_in_result),
		cmocka_unit_test(test_jobfile_parse_string_zeroes_reserved),
		cmocka_unit_test(test_jobfile_parse_zeroes_reserved),
		cmocka_unit_test(test_cmdline_parse_zeroes_reserved),
		cmocka_unit_test(test_cmdline_parse_zeroes_reserved_on_error),
		cmocka_unit_test(test_policy_set_cmdline_zeroes_reserved_in_cmdline),
		cmocka_unit_test(test_domain_decision_zeroes_reserved),
		cmocka_unit_test(test_device_and_domain_info_zero_reserved),
		cmocka_unit_test(test_hist_summary_zeroes_reserved),
		cmocka_unit_test(test_sim_server_and_cpu_stats_zero_reserved),
		cmocka_unit_test(test_platform_stats_zeroes_reserved),
		cmocka_unit_test(test_zpci_table_stats_zeroes_reserved),
		cmocka_unit_test(test_shadow_refresh_zeroes_reserved_in_result),
		cmocka_unit_test(test_script_zeroes_reserved_in_summary),
		cmocka_unit_test(test_s390_counters_and_events_zero_reserved),
		cmocka_unit_test(test_ism_event_and_stats_zero_reserved),
		cmocka_unit_test(test_zpci_canned_call_and_fn_getters_zero_reserved),
		cmocka_unit_test(test_dma_iommu_getters_zero_reserved),
		cmocka_unit_test(test_dma_stats_get_zeroes_reserved_for_legacy_and_direct),
		cmocka_unit_test(test_iova_trace_reserved_stay_zero),
		cmocka_unit_test(test_iova_info_and_rcache_info_zero_reserved),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("abi", tests, NULL, NULL);
}
