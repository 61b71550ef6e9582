/* SPDX-License-Identifier: MIT */
/*
 * zPCI functions: DMA window arithmetic, IOTA registration and RPCIT with the
 * kernel's outcome mapping (KERNEL_SPEC §3.3, §4.4, §5), plus the canned-answer
 * platform that answers instructions from queues and records every call.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <iommusim/zpci.h>
#include <iommusim/zpci_table.h>

#include "base/ctx_int.h"
#include "base/mem_int.h"
#include "base/util_int.h"
#include "hw/zpci_int.h"

#define SZ_4G (UINT64_C(1) << 32)
#define RPCIT_BUSY_DELAY_NS (IOMMUSIM_ZPCI_INSN_BUSY_DELAY_US * UINT64_C(1000))
#define MPCIFC_BUSY_DELAY_NS UINT64_C(1000000) /* msleep(1) */
#define ISM_PAL_EXTRA UINT64_C(4096)
#define IOTA_ORIGIN_FLAGS UINT64_C(0x3fff)

struct iommusim_zpci_fn {
	char *name;
	uint32_t fh, fid;
	uint8_t pft;
	bool tlb_refresh;
	bool rtr_avail;
	uint64_t dma_mask;
	const struct iommusim_zpci_platform_ops *platform;
	void *platform_priv;

	/* lock protects the DMA window and the anchor (both change rarely) */
	struct ims_spinlock lock;
	uint64_t start_dma, end_dma;
	struct iommusim_zpci_ioat ioat;

	/*
	 * The observer is called with obs_lock held for reading, and replaced
	 * with it held for writing: once observer_set() returns, the previous
	 * observer is neither running nor called again, so its owner may be
	 * freed. Hence an observer must not install or remove observers on the
	 * function it watches.
	 */
	pthread_rwlock_t obs_lock;
	const struct iommusim_zpci_observer_ops *obs_ops;
	void *obs_priv;

	_Atomic uint64_t rpcits, busy_retries, busy_giveups, enomem, eio, bytes;
	_Atomic uint64_t by_reason[IOMMUSIM_RPCIT_NR_REASONS];
};

/* Read-only accessors still take the lock; functions are never const objects. */
static inline struct ims_spinlock *
fn_lock(const struct iommusim_zpci_fn *fn)
{
	return (struct ims_spinlock *)(uintptr_t)&fn->lock;
}

/* ---- functions -------------------------------------------------------- */

/* A copy of @name, or "fid 0x<fid>" when it is NULL. */
static char *
dup_name(const char *name, uint32_t fid)
{
	char buf[32];

	if (!name) {
		snprintf(buf, sizeof(buf), "fid 0x%x", fid);
		name = buf;
	}
	return ims_strdup(name);
}

int
iommusim_zpci_fn_create(const struct iommusim_zpci_fn_cfg *cfg, struct iommusim_zpci_fn **out)
{
	struct iommusim_zpci_fn *fn;
	uint64_t start, end;
	unsigned i;
	int ret;

	if (!cfg || !out || !IMS_RESERVED_ZERO(cfg, reserved0) ||
	    (cfg->platform && !IMS_RESERVED_ZERO(cfg->platform, reserved0)))
		return -EINVAL;
	/* CLP defaults: QEMU's sdma/edma (§3.3), a 64-bit mask */
	start = cfg->start_dma ? cfg->start_dma : SZ_4G;
	end = cfg->end_dma ? cfg->end_dma : IOMMUSIM_ZPCI_QEMU_EDMA;
	if (start > end)
		return -EINVAL;
	fn = ims_zalloc(sizeof(*fn));
	if (!fn)
		return -ENOMEM;
	fn->name = dup_name(cfg->name, cfg->fid);
	if (!fn->name) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = -pthread_rwlock_init(&fn->obs_lock, NULL);
	if (ret < 0) {
		ret = ret == -EAGAIN ? -ENOMEM : ret;
		goto err_name;
	}
	/* §5.2: a function is enabled iff bit 31 of its handle is set */
	fn->fh = cfg->fh ? cfg->fh : UINT32_C(0x80000000) | cfg->fid;
	fn->fid = cfg->fid;
	fn->pft = cfg->pft;
	fn->tlb_refresh = cfg->tlb_refresh;
	fn->rtr_avail = cfg->rtr_avail;
	fn->dma_mask = cfg->dma_mask ? cfg->dma_mask : UINT64_MAX;
	fn->platform = cfg->platform;
	fn->platform_priv = cfg->platform_priv;
	fn->start_dma = start;
	fn->end_dma = end;
	ims_spin_init(&fn->lock);
	atomic_init(&fn->rpcits, 0);
	atomic_init(&fn->busy_retries, 0);
	atomic_init(&fn->busy_giveups, 0);
	atomic_init(&fn->enomem, 0);
	atomic_init(&fn->eio, 0);
	atomic_init(&fn->bytes, 0);
	for (i = 0; i < IOMMUSIM_RPCIT_NR_REASONS; i++)
		atomic_init(&fn->by_reason[i], 0);
	*out = fn;
	return 0;
err_name:
	ims_free(fn->name);
err_free:
	ims_free(fn);
	return ret;
}

void
iommusim_zpci_fn_destroy(struct iommusim_zpci_fn *fn)
{
	if (!fn)
		return;
	pthread_rwlock_destroy(&fn->obs_lock);
	ims_free(fn->name);
	ims_free(fn);
}

int
iommusim_zpci_fn_info_get(const struct iommusim_zpci_fn *fn, struct iommusim_zpci_fn_info *out)
{
	struct iommusim_zpci_fn_info info;

	if (!fn || !out)
		return -EINVAL;
	memset(&info, 0, sizeof(info));
	info.name = fn->name;
	info.fh = fn->fh;
	info.fid = fn->fid;
	info.pft = fn->pft;
	info.tlb_refresh = fn->tlb_refresh;
	info.rtr_avail = fn->rtr_avail;
	info.is_ism = fn->pft == IOMMUSIM_PCI_FUNC_TYPE_ISM;
	info.dma_mask = fn->dma_mask;
	ims_spin_lock(fn_lock(fn));
	info.start_dma = fn->start_dma;
	info.end_dma = fn->end_dma;
	ims_spin_unlock(fn_lock(fn));
	*out = info;
	return 0;
}

int
iommusim_zpci_fn_set_dma_window(struct iommusim_zpci_fn *fn, uint64_t start_dma, uint64_t end_dma)
{
	if (!fn || start_dma > end_dma)
		return -EINVAL;
	ims_spin_lock(&fn->lock);
	fn->start_dma = start_dma;
	fn->end_dma = end_dma;
	ims_spin_unlock(&fn->lock);
	return 0;
}

/*
 * §3.3 zpci_init_iommu() / §6.1 zpci_dma_init_device(): start is page
 * aligned, the length is the smallest of the aperture, what is left of the
 * 4 TiB region-third table above start, and the CLP window. The kernel
 * computes this unchecked; here a start at or above 4 TiB or above end_dma
 * (after alignment), or a zero aperture, is an empty window and -EINVAL.
 */
int
iommusim_zpci_dma_window(uint64_t start_dma, uint64_t end_dma, uint64_t aperture,
			 uint64_t *start_out, uint64_t *end_out)
{
	uint64_t start, len, clp_len;

	if (!start_out || !end_out)
		return -EINVAL;
	if (start_dma > UINT64_MAX - (IOMMUSIM_PAGE_SIZE - 1))
		return -EINVAL;
	start = (start_dma + IOMMUSIM_PAGE_SIZE - 1) & ~(uint64_t)(IOMMUSIM_PAGE_SIZE - 1);
	if (start >= IOMMUSIM_ZPCI_TABLE_SIZE_RT || start > end_dma || aperture == 0)
		return -EINVAL;
	/* end_dma - start + 1 only overflows for [0, UINT64_MAX]; then the
	 * table bound is the smaller one anyway */
	clp_len = end_dma - start == UINT64_MAX ? UINT64_MAX : end_dma - start + 1;
	len = IMS_MIN(aperture, IOMMUSIM_ZPCI_TABLE_SIZE_RT - start);
	len = IMS_MIN(len, clp_len);
	*start_out = start;
	*end_out = start + len - 1;
	return 0;
}

/* §3.3 s390_iommu_init(): memory size times the factor; factor 0 = unlimited. */
uint64_t
iommusim_s390_iommu_aperture(uint64_t memory_bytes, uint32_t factor)
{
	uint64_t ap;

	if (factor == 0)
		return UINT64_MAX;
	if (__builtin_mul_overflow(memory_bytes, (uint64_t)factor, &ap))
		return UINT64_MAX;
	return ap;
}

/* ---- IOAT registration (§4.4) ---------------------------------------- */

/*
 * Issue MPCIFC @fc with @ioat; zpci_mod_fc() retries busy (cc 2) after a
 * 1 ms sleep (§4.4; forever in the kernel, up to the cap here). On cc 0 the
 * function's anchor becomes @ioat.
 */
static void
mod_fc(struct iommusim_zpci_fn *fn, unsigned fc, const struct iommusim_zpci_ioat *ioat,
       const struct iommusim_ctx *ctx, unsigned *cc_out, uint8_t *status_out)
{
	const struct iommusim_zpci_platform_ops *p = fn->platform;
	unsigned cc, retries = 0;
	uint8_t status;

	for (;;) {
		status = 0;
		cc = p && p->mpcifc ? p->mpcifc(fn->platform_priv, fn, fc, ioat, &status) :
				      IOMMUSIM_ZPCI_CC_OK;
		if (cc != IOMMUSIM_ZPCI_CC_BUSY || retries == IOMMUSIM_ZPCI_BUSY_RETRY_CAP)
			break;
		ims_ctx_delay_ns(ctx, MPCIFC_BUSY_DELAY_NS);
		retries++;
	}
	if (cc == IOMMUSIM_ZPCI_CC_OK) {
		ims_spin_lock(&fn->lock);
		fn->ioat = *ioat;
		ims_spin_unlock(&fn->lock);
	}
	if (cc_out)
		*cc_out = cc;
	if (status_out)
		*status_out = status;
}

int
iommusim_zpci_register_ioat(struct iommusim_zpci_fn *fn, uint64_t base, uint64_t limit,
			    uint64_t table_origin, const struct iommusim_ctx *ctx, unsigned *cc_out,
			    uint8_t *status_out)
{
	struct iommusim_zpci_ioat ioat;

	/* §4.4: the kernel only warns on a misaligned origin; here it is misuse */
	if (!fn || (table_origin & IOTA_ORIGIN_FLAGS))
		return -EINVAL;
	memset(&ioat, 0, sizeof(ioat));
	ioat.registered = true;
	ioat.pba = base;
	ioat.pal = limit;
	/* §4.4/§8: ISM firmware off-by-one work-around (u64 arithmetic, as in the kernel) */
	if (fn->pft == IOMMUSIM_PCI_FUNC_TYPE_ISM && limit > base)
		ioat.pal = limit + ISM_PAL_EXTRA;
	/* A zero origin asks for direct mapping: the FIB's iota stays 0, as
	 * the identity-domain series (s390-iommu.c s390_attach_dev_identity,
	 * zpci_register_ioat) registers it for relaxed-translation functions. */
	ioat.iota = table_origin ? table_origin | IOMMUSIM_ZPCI_IOTA_RTTO_FLAG : 0;
	mod_fc(fn, IOMMUSIM_ZPCI_MOD_FC_REG_IOAT, &ioat, ctx, cc_out, status_out);
	return 0;
}

int
iommusim_zpci_unregister_ioat(struct iommusim_zpci_fn *fn, const struct iommusim_ctx *ctx,
			      unsigned *cc_out, uint8_t *status_out)
{
	struct iommusim_zpci_ioat none;

	if (!fn)
		return -EINVAL;
	/* an empty FIB: the anchor is cleared once the platform accepts it */
	memset(&none, 0, sizeof(none));
	mod_fc(fn, IOMMUSIM_ZPCI_MOD_FC_DEREG_IOAT, &none, ctx, cc_out, status_out);
	return 0;
}

int
iommusim_zpci_fn_ioat(const struct iommusim_zpci_fn *fn, struct iommusim_zpci_ioat *out)
{
	if (!fn || !out)
		return -EINVAL;
	ims_spin_lock(fn_lock(fn));
	*out = fn->ioat;
	ims_spin_unlock(fn_lock(fn));
	return 0;
}

/* ---- RPCIT (§5.1) ----------------------------------------------------- */

const char *
iommusim_rpcit_reason_name(enum iommusim_rpcit_reason reason)
{
	static const char *const names[IOMMUSIM_RPCIT_NR_REASONS] = {
		[IOMMUSIM_RPCIT_OTHER] = "other",
		[IOMMUSIM_RPCIT_SYNC] = "sync",
		[IOMMUSIM_RPCIT_SYNC_MAP] = "sync_map",
		[IOMMUSIM_RPCIT_GLOBAL_FLUSH] = "global_flush",
		[IOMMUSIM_RPCIT_ENOMEM_RECOVERY] = "enomem_recovery",
		[IOMMUSIM_RPCIT_LEGACY_MAP] = "legacy_map",
		[IOMMUSIM_RPCIT_LEGACY_UNMAP] = "legacy_unmap",
		[IOMMUSIM_RPCIT_LEGACY_GLOBAL] = "legacy_global",
	};

	if ((unsigned)reason >= IOMMUSIM_RPCIT_NR_REASONS)
		return "unknown";
	return names[reason];
}

static inline void
stat_inc(_Atomic uint64_t *c, uint64_t n)
{
	ims_stat_add(c, n); /* no locked instruction in solo mode (base/util_int.h) */
}

int
iommusim_zpci_refresh_trans(struct iommusim_zpci_fn *fn, uint64_t addr, uint64_t range,
			    enum iommusim_rpcit_reason reason, uint64_t map_iova, uint64_t map_len,
			    const struct iommusim_ctx *ctx)
{
	const struct iommusim_zpci_platform_ops *p;
	struct iommusim_rpcit r;
	unsigned cc, retries = 0;
	uint8_t status;
	int ret;

	if (!fn || (unsigned)reason >= IOMMUSIM_RPCIT_NR_REASONS)
		return -EINVAL;
	p = fn->platform;
	memset(&r, 0, sizeof(r));
	r.fh = fn->fh;
	r.addr = addr;
	r.range = range;
	r.reason = reason;
	r.map_iova = map_iova;
	r.map_len = map_len;
	r.time_ns = ims_ctx_now(ctx);
	r.cpu = ims_ctx_cpu(ctx);

	/* §5.1: busy (cc 2) is retried after udelay(ZPCI_INSN_BUSY_DELAY); the
	 * kernel has no limit, the simulator gives up at the cap */
	for (;;) {
		status = 0;
		cc = p && p->rpcit ? p->rpcit(fn->platform_priv, fn, &r, &status) :
				     IOMMUSIM_ZPCI_CC_OK;
		if (cc != IOMMUSIM_ZPCI_CC_BUSY)
			break;
		if (retries == IOMMUSIM_ZPCI_BUSY_RETRY_CAP) {
			stat_inc(&fn->busy_giveups, 1);
			break;
		}
		ims_ctx_delay_ns(ctx, RPCIT_BUSY_DELAY_NS);
		retries++;
	}

	/* §5.1: cc 0 -> 0; cc 1 with status 4 or 16 (insufficient resources)
	 * -> -ENOMEM; every other non-zero cc (and a give-up on busy) -> -EIO */
	if (cc == IOMMUSIM_ZPCI_CC_OK)
		ret = 0;
	else if (cc == IOMMUSIM_ZPCI_CC_ERR && (status == IOMMUSIM_ZPCI_ST_FUNC_NOT_ENABLED ||
						status == IOMMUSIM_ZPCI_ST_INSUF_RES))
		ret = -ENOMEM;
	else
		ret = -EIO;

	stat_inc(&fn->rpcits, 1);
	stat_inc(&fn->by_reason[reason], 1);
	stat_inc(&fn->bytes, range);
	stat_inc(&fn->busy_retries, retries);
	if (ret == -ENOMEM)
		stat_inc(&fn->enomem, 1);
	else if (ret == -EIO)
		stat_inc(&fn->eio, 1);

	r.cc = cc;
	r.status = status;
	ims_rwlock_rdlock(&fn->obs_lock);
	if (fn->obs_ops && fn->obs_ops->rpcit)
		fn->obs_ops->rpcit(fn->obs_priv, fn, &r);
	ims_rwlock_unlock(&fn->obs_lock);
	return ret;
}

int
iommusim_zpci_fn_observer_set(struct iommusim_zpci_fn *fn,
			      const struct iommusim_zpci_observer_ops *ops, void *priv)
{
	int ret = 0;

	if (!fn || (ops && !IMS_RESERVED_ZERO(ops, reserved0)))
		return -EINVAL;
	pthread_rwlock_wrlock(&fn->obs_lock);
	if (!ops) {
		fn->obs_ops = NULL;
		fn->obs_priv = NULL;
	} else if (fn->obs_ops) {
		ret = -EBUSY;
	} else {
		fn->obs_ops = ops;
		fn->obs_priv = priv;
	}
	pthread_rwlock_unlock(&fn->obs_lock);
	return ret;
}

int
iommusim_zpci_fn_stats_get(const struct iommusim_zpci_fn *fn, struct iommusim_zpci_fn_stats *out)
{
	struct iommusim_zpci_fn_stats st;
	unsigned i;

	if (!fn || !out)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	st.rpcits = atomic_load_explicit(&fn->rpcits, memory_order_relaxed);
	st.busy_retries = atomic_load_explicit(&fn->busy_retries, memory_order_relaxed);
	st.busy_giveups = atomic_load_explicit(&fn->busy_giveups, memory_order_relaxed);
	st.enomem = atomic_load_explicit(&fn->enomem, memory_order_relaxed);
	st.eio = atomic_load_explicit(&fn->eio, memory_order_relaxed);
	for (i = 0; i < IOMMUSIM_RPCIT_NR_REASONS; i++)
		st.by_reason[i] = atomic_load_explicit(&fn->by_reason[i], memory_order_relaxed);
	st.bytes_refreshed = atomic_load_explicit(&fn->bytes, memory_order_relaxed);
	*out = st;
	return 0;
}

/* ---- the canned-answer platform ------------------------------------- */

struct answer {
	unsigned cc;
	uint8_t status;
	unsigned remaining; /* answers left in this entry */
};

/* A FIFO of answers: live entries are [head, n). */
struct answer_queue {
	struct answer *a;
	size_t head, n, cap;
};

enum { Q_RPCIT, Q_MPCIFC, NQUEUES };

struct iommusim_zpci_canned {
	pthread_mutex_t lock; /* everything below */
	struct answer_queue q[NQUEUES];
	struct iommusim_zpci_canned_call *calls;
	size_t ncalls, cap;
	size_t lost;
};

static inline pthread_mutex_t *
script_lock(const struct iommusim_zpci_canned *s)
{
	return (pthread_mutex_t *)(uintptr_t)&s->lock;
}

int
iommusim_zpci_canned_create(struct iommusim_zpci_canned **out)
{
	struct iommusim_zpci_canned *s;
	int ret;

	if (!out)
		return -EINVAL;
	s = ims_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	ret = pthread_mutex_init(&s->lock, NULL);
	if (ret) {
		ims_free(s);
		return ret == EAGAIN ? -ENOMEM : -ret;
	}
	*out = s;
	return 0;
}

void
iommusim_zpci_canned_destroy(struct iommusim_zpci_canned *s)
{
	unsigned i;

	if (!s)
		return;
	for (i = 0; i < NQUEUES; i++)
		ims_free(s->q[i].a);
	ims_free(s->calls);
	pthread_mutex_destroy(&s->lock);
	ims_free(s);
}

/* Make room for one more entry at the tail; the caller holds the lock. */
IMS_NODISCARD static int
queue_reserve(struct answer_queue *q)
{
	struct answer *a;
	size_t live = q->n - q->head, cap;

	if (q->n < q->cap)
		return 0;
	if (q->head) { /* slide the live entries down first */
		memmove(q->a, q->a + q->head, live * sizeof(*q->a));
		q->head = 0;
		q->n = live;
		return 0;
	}
	cap = q->cap ? 2 * q->cap : 8;
	a = ims_zalloc(cap * sizeof(*a));
	if (!a)
		return -ENOMEM;
	if (live)
		memcpy(a, q->a, live * sizeof(*a));
	ims_free(q->a);
	q->a = a;
	q->cap = cap;
	return 0;
}

int
iommusim_zpci_canned_push(struct iommusim_zpci_canned *s, bool for_rpcit, unsigned cc,
			  uint8_t status, unsigned count)
{
	struct answer_queue *q;
	int ret;

	if (!s || cc > IOMMUSIM_ZPCI_CC_INVAL_HANDLE || count == 0)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	q = &s->q[for_rpcit ? Q_RPCIT : Q_MPCIFC];
	ret = queue_reserve(q);
	if (!ret)
		q->a[q->n++] = (struct answer){ .cc = cc, .status = status, .remaining = count };
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* The next answer of @q (cc 0 when it is empty); the caller holds the lock. */
static unsigned
queue_pop(struct answer_queue *q, uint8_t *status)
{
	struct answer *a;
	unsigned cc;

	if (q->head == q->n) {
		*status = 0;
		return IOMMUSIM_ZPCI_CC_OK;
	}
	a = &q->a[q->head];
	cc = a->cc;
	*status = a->status;
	if (--a->remaining == 0 && ++q->head == q->n)
		q->head = q->n = 0;
	return cc;
}

/* Append @c to the call log; the caller holds the lock. */
static void
record_call(struct iommusim_zpci_canned *s, const struct iommusim_zpci_canned_call *c)
{
	if (s->ncalls == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct iommusim_zpci_canned_call *calls = ims_zalloc(cap * sizeof(*calls));

		if (!calls) {
			s->lost++;
			return;
		}
		if (s->ncalls)
			memcpy(calls, s->calls, s->ncalls * sizeof(*calls));
		ims_free(s->calls);
		s->calls = calls;
		s->cap = cap;
	}
	s->calls[s->ncalls++] = *c;
}

static unsigned
script_rpcit(void *priv, struct iommusim_zpci_fn *fn, const struct iommusim_rpcit *r,
	     uint8_t *status)
{
	struct iommusim_zpci_canned *s = priv;
	struct iommusim_zpci_canned_call c;

	memset(&c, 0, sizeof(c));
	c.is_rpcit = true;
	c.rpcit = *r;
	pthread_mutex_lock(&s->lock);
	c.cc = queue_pop(&s->q[Q_RPCIT], &c.status);
	record_call(s, &c);
	pthread_mutex_unlock(&s->lock);
	*status = c.status;
	return c.cc;
}

static unsigned
script_mpcifc(void *priv, struct iommusim_zpci_fn *fn, unsigned fc,
	      const struct iommusim_zpci_ioat *ioat, uint8_t *status)
{
	struct iommusim_zpci_canned *s = priv;
	struct iommusim_zpci_canned_call c;

	memset(&c, 0, sizeof(c));
	c.fc = fc;
	if (ioat)
		c.ioat = *ioat;
	pthread_mutex_lock(&s->lock);
	c.cc = queue_pop(&s->q[Q_MPCIFC], &c.status);
	record_call(s, &c);
	pthread_mutex_unlock(&s->lock);
	*status = c.status;
	return c.cc;
}

const struct iommusim_zpci_platform_ops iommusim_zpci_canned_ops = {
	.rpcit = script_rpcit,
	.mpcifc = script_mpcifc,
};

size_t
iommusim_zpci_canned_ncalls(const struct iommusim_zpci_canned *s)
{
	size_t n;

	if (!s)
		return 0;
	pthread_mutex_lock(script_lock(s));
	n = s->ncalls;
	pthread_mutex_unlock(script_lock(s));
	return n;
}

int
iommusim_zpci_canned_call(const struct iommusim_zpci_canned *s, size_t i,
			  struct iommusim_zpci_canned_call *out)
{
	int ret = 0;

	if (!s || !out)
		return -EINVAL;
	pthread_mutex_lock(script_lock(s));
	if (i < s->ncalls)
		*out = s->calls[i];
	else
		ret = -ENOENT;
	pthread_mutex_unlock(script_lock(s));
	return ret;
}

void
iommusim_zpci_canned_reset(struct iommusim_zpci_canned *s)
{
	unsigned i;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < NQUEUES; i++)
		s->q[i].head = s->q[i].n = 0;
	s->ncalls = 0;
	s->lost = 0;
	pthread_mutex_unlock(&s->lock);
}

size_t
ims_zpci_canned_lost(const struct iommusim_zpci_canned *s)
{
	size_t n;

	pthread_mutex_lock(script_lock(s));
	n = s->lost;
	pthread_mutex_unlock(script_lock(s));
	return n;
}
