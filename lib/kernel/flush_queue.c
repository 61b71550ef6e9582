/* SPDX-License-Identifier: MIT */
/*
 * dma-iommu's flush queues (KERNEL_SPEC §2.1-§2.5): rings of IOVAs whose
 * unmap is not yet covered by an IOTLB flush, the domain-wide start/finish
 * flush counters that decide when an entry may be freed, and the timer.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <iommusim/dma_iommu.h>
#include <iommusim/hist.h>
#include <iommusim/jiffies.h>

#include "base/ctx_int.h"
#include "kernel/flush_queue_int.h"
#include "base/mem_int.h"
#include "base/util_int.h"

/*
 * Lock order: a ring's lock, then times_lock. The ops are called with a ring
 * lock held (free_iova always, flush_iotlb_all from a full ring) but never
 * with times_lock, so a flush callback may queue onto another ring.
 */

/* struct iova_fq_entry (§2.2), without the page list: s390 never has one. */
struct fq_entry {
	uint64_t pfn;
	uint64_t pages;
	uint64_t counter; /* start_cnt when queued */
	uint64_t queued_ns; /* when queued, for the exposure window */
};

/* struct iova_fq (§2.2). Each ring has its own cache lines. */
struct fq_ring {
	struct ims_spinlock lock;
	uint32_t head, tail, mod_mask;
	struct fq_entry entries[];
};

/*
 * Finish times of the flushes, by flush number n (the flush that brought
 * finish_cnt to n), in segments that never move: segment j holds
 * 2^(TIMES_SHIFT + j) times, so flush n is at index n - 1 + 2^TIMES_SHIFT of
 * the concatenation. Entries can wait through any number of flushes (an idle
 * CPU's ring in per-CPU mode without a timer), so nothing is ever dropped:
 * the cost is 8 bytes per flush since create (at most twice that allocated),
 * e.g. 8 MiB for a million flushes. Segment 0 (8 KiB) comes with the queue;
 * later ones are allocated by the flush that first needs them. A time that
 * could not be stored (no memory) reads TIME_LOST, and the entries it covers
 * are freed as usual but left out of the exposure histogram.
 */
#define TIMES_SHIFT 10
#define TIMES_NSEGS (64 - TIMES_SHIFT)
#define TIME_LOST UINT64_MAX

struct ims_fq {
	bool single;
	uint32_t size;
	uint32_t timeout_ms;
	unsigned hz;
	unsigned nrings;
	const struct ims_fq_ops *ops;
	void *priv;
	const struct iommusim_dma_timer_ops *timer;
	void *timer_priv;
	struct fq_ring **rings;
	struct iommusim_hist *exposure;

	/* §2.2: the cookie's counters and timer state, shared by all rings. */
	_Alignas(IMS_CACHELINE) _Atomic uint64_t start_cnt;
	_Atomic uint64_t finish_cnt;
	atomic_int timer_on;

	/* Written under times_lock before finish_cnt is released. */
	struct ims_spinlock times_lock;
	_Atomic(uint64_t *) times[TIMES_NSEGS];

	/* Timeline mode: every flush's start and finish time, each array kept
	 * sorted (work items run in host order, not in time order). */
	bool timeline;
	uint64_t *starts, *finishes;
	size_t nflushes, cap;

	/* Statistics (struct iommusim_fq_stats). */
	_Alignas(IMS_CACHELINE) _Atomic uint64_t full_flushes;
	_Atomic uint64_t timer_flushes;
	_Atomic uint64_t timer_arms;
	_Atomic uint64_t queued;
	_Atomic uint64_t freed_entries;
	_Atomic uint64_t freed_pages;
	_Atomic uint64_t entries_now;
	_Atomic uint64_t pages_now;
	_Atomic uint64_t max_entries;
	_Atomic uint64_t max_pages;
	_Atomic uint64_t lock_waits; /* ring-lock takings that found it held */
};

/* Take a ring's lock, counting the takings that had to wait for another
 * CPU (the contention a single queue adds; nothing in the kernel counts it). */
static inline void
ring_lock(struct ims_fq *fq, struct fq_ring *r)
{
	if (ims_spin_trylock(&r->lock))
		return;
	ims_stat_add(&fq->lock_waits, 1);
	ims_spin_lock(&r->lock);
}

/* ---- flush finish times ------------------------------------------------ */

static inline void
time_slot(uint64_t n, unsigned *seg, uint64_t *off)
{
	uint64_t idx = n - 1 + (UINT64_C(1) << TIMES_SHIFT);
	unsigned top = ims_fls64(idx) - 1;

	*seg = top - TIMES_SHIFT;
	*off = idx - (UINT64_C(1) << top);
}

static uint64_t *
times_seg_alloc(unsigned seg)
{
	size_t n = (size_t)1 << (TIMES_SHIFT + seg);
	uint64_t *t = ims_zalloc(n * sizeof(*t));

	if (t)
		memset(t, 0xff, n * sizeof(*t)); /* TIME_LOST */
	return t;
}

/* Store the finish time of flush @n; the caller holds times_lock. */
static void
time_set(struct ims_fq *fq, uint64_t n, uint64_t t)
{
	uint64_t *seg, off;
	unsigned j;

	time_slot(n, &j, &off);
	ims_assert(j < TIMES_NSEGS);
	seg = atomic_load_explicit(&fq->times[j], memory_order_relaxed);
	if (!seg) {
		seg = times_seg_alloc(j);
		if (!seg)
			return;
		atomic_store_explicit(&fq->times[j], seg, memory_order_relaxed);
	}
	/* TIME_LOST is the "unknown" mark, so a real UINT64_MAX is one less. */
	seg[off] = t == TIME_LOST ? t - 1 : t;
}

/* The finish time of flush @n, which the caller has seen finish_cnt reach
 * (acquire), so the store above is visible. */
static uint64_t
time_get(const struct ims_fq *fq, uint64_t n)
{
	uint64_t *seg, off;
	unsigned j;

	time_slot(n, &j, &off);
	seg = atomic_load_explicit(&fq->times[j], memory_order_relaxed);
	return seg ? seg[off] : TIME_LOST;
}

/* ---- the timeline ------------------------------------------------------ */

/*
 * In the engine a CPU's work item runs whole before the next item starts,
 * though its simulated time goes on inside it: a flush that runs from t0 to
 * t1 in one item is already counted, in the atomics, when another CPU's item
 * at t0 < t < t1 runs. Timeline mode reads the counters as a CPU at time t
 * would see them (§2.4: start_cnt moves when a flush starts, finish_cnt when
 * it has completed): the number of flushes started, or finished, by t. An
 * entry's counter is likewise the number of flushes started by its queueing
 * time, computed when it is examined, so a flush recorded later in host
 * order but earlier in time still counts.
 */

/* Insert @t into the sorted @a of @n (room for one more), from the end. */
static void
insert_sorted(uint64_t *a, size_t n, uint64_t t)
{
	size_t i = n;

	for (; i > 0 && a[i - 1] > t; i--)
		a[i] = a[i - 1];
	a[i] = t;
}

/* Record a flush from @t0 to @t1; the caller holds times_lock. A record that
 * cannot be stored (no memory) is lost: the flush then counts as never
 * having finished for timeline readers, which free less, never more. */
static void
timeline_record(struct ims_fq *fq, uint64_t t0, uint64_t t1)
{
	if (fq->nflushes == fq->cap) {
		size_t cap = fq->cap ? 2 * fq->cap : 64;
		uint64_t *s = ims_zalloc(cap * sizeof(*s)), *f = ims_zalloc(cap * sizeof(*f));

		if (!s || !f) {
			ims_free(s);
			ims_free(f);
			return;
		}
		if (fq->nflushes) {
			memcpy(s, fq->starts, fq->nflushes * sizeof(*s));
			memcpy(f, fq->finishes, fq->nflushes * sizeof(*f));
		}
		ims_free(fq->starts);
		ims_free(fq->finishes);
		fq->starts = s;
		fq->finishes = f;
		fq->cap = cap;
	}
	insert_sorted(fq->starts, fq->nflushes, t0);
	insert_sorted(fq->finishes, fq->nflushes, t1);
	fq->nflushes++;
}

/* ---- rings (§2.3) ------------------------------------------------------ */

static inline bool
ring_full(const struct fq_ring *r)
{
	return ((r->tail + 1) & r->mod_mask) == r->head;
}

/*
 * fq_ring_free_locked (§2.3): finish_cnt is read once; entries are freed
 * from head while their counter is below it. An entry queued at
 * start_cnt == k thus waits for finish_cnt >= k + 1: a flush that started
 * after it was queued has finished.
 */
static void
ring_free_locked(struct ims_fq *fq, struct fq_ring *r, const struct iommusim_ctx *ctx)
{
	uint64_t finish = atomic_load_explicit(&fq->finish_cnt, memory_order_acquire);
	uint64_t n = 0, pages = 0;

	if (fq->timeline)
		finish = ims_count_le_recent(fq->finishes, fq->nflushes, ims_ctx_now(ctx));
	while (r->head != r->tail) {
		const struct fq_entry *e = &r->entries[r->head];
		uint64_t t, counter = e->counter;

		if (fq->timeline)
			counter = ims_count_le_recent(fq->starts, fq->nflushes, e->queued_ns);
		if (counter >= finish)
			break;
		/* Exposure: from queueing to the end of flush counter + 1, the
		 * first one whose finish frees the entry. */
		t = fq->timeline ? fq->finishes[counter] : time_get(fq, counter + 1);
		if (t != TIME_LOST)
			iommusim_hist_record(fq->exposure, t > e->queued_ns ? t - e->queued_ns : 0);
		fq->ops->free_iova(fq->priv, e->pfn, e->pages, ctx);
		n++;
		pages += e->pages;
		r->head = (r->head + 1) & r->mod_mask;
	}
	if (n) {
		ims_stat_add(&fq->freed_entries, n);
		ims_stat_add(&fq->freed_pages, pages);
		ims_solo_fetch_sub(&fq->entries_now, n);
		ims_solo_fetch_sub(&fq->pages_now, pages);
	}
}

/* fq_flush_iotlb (§2.4): start_cnt++, flush_iotlb_all, finish_cnt++. */
static void
fq_flush(struct ims_fq *fq, const struct iommusim_ctx *ctx)
{
	uint64_t n, t, t0 = ims_ctx_now(ctx);

	atomic_fetch_add_explicit(&fq->start_cnt, 1, memory_order_seq_cst);
	fq->ops->flush_iotlb_all(fq->priv, ctx);
	t = ims_ctx_now(ctx);
	/* The time is stored before finish_cnt is released, so whoever sees
	 * finish_cnt >= n (ring_free_locked) finds it. */
	ims_spin_lock(&fq->times_lock);
	n = atomic_load_explicit(&fq->finish_cnt, memory_order_relaxed) + 1;
	time_set(fq, n, t);
	if (fq->timeline)
		timeline_record(fq, t0, t);
	atomic_store_explicit(&fq->finish_cnt, n, memory_order_release);
	ims_spin_unlock(&fq->times_lock);
}

/* ---- API --------------------------------------------------------------- */

void
ims_fq_destroy(struct ims_fq *fq)
{
	unsigned i;

	if (!fq)
		return;
	/* §2.5 teardown: stop the timer; queued IOVAs are not returned. */
	if (fq->timer && fq->timer->cancel)
		fq->timer->cancel(fq->timer_priv);
	if (fq->rings)
		for (i = 0; i < fq->nrings; i++)
			ims_free(fq->rings[i]);
	ims_free(fq->rings);
	for (i = 0; i < TIMES_NSEGS; i++)
		ims_free(atomic_load_explicit(&fq->times[i], memory_order_relaxed));
	ims_free(fq->starts);
	ims_free(fq->finishes);
	iommusim_hist_destroy(fq->exposure);
	ims_free(fq);
}

int
ims_fq_create(const struct ims_fq_cfg *cfg, struct ims_fq **out)
{
	struct ims_fq *fq;
	uint64_t *seg0;
	unsigned i;
	int ret;

	/* §2.1: ring sizes are powers of two (the index wraps with a mask). */
	if (!cfg || !out || !cfg->ops || !cfg->ops->flush_iotlb_all || !cfg->ops->free_iova ||
	    cfg->size < 2 || cfg->size > IOMMUSIM_FQ_MAX_SIZE || !ims_is_pow2(cfg->size) ||
	    !cfg->ncpus || cfg->hz > IOMMUSIM_HZ_MAX || (cfg->timer && !cfg->timer->arm))
		return -EINVAL;
	fq = ims_aligned_zalloc(sizeof(*fq), IMS_CACHELINE);
	if (!fq)
		return -ENOMEM;
	fq->single = cfg->single;
	fq->size = cfg->size;
	fq->timeout_ms = cfg->timeout_ms;
	fq->hz = cfg->hz;
	fq->timeline = cfg->timeline;
	fq->nrings = cfg->single ? 1 : cfg->ncpus;
	fq->ops = cfg->ops;
	fq->priv = cfg->priv;
	fq->timer = cfg->timer;
	fq->timer_priv = cfg->timer_priv;
	/* §2.5 iommu_dma_init_fq: counters 0, timer off, empty rings. */
	atomic_init(&fq->start_cnt, 0);
	atomic_init(&fq->finish_cnt, 0);
	atomic_init(&fq->timer_on, 0);
	ims_spin_init(&fq->times_lock);

	ret = -ENOMEM;
	fq->rings = ims_zalloc(fq->nrings * sizeof(fq->rings[0]));
	if (!fq->rings)
		goto err;
	for (i = 0; i < fq->nrings; i++) {
		struct fq_ring *r = ims_aligned_zalloc(
			sizeof(*r) + (size_t)cfg->size * sizeof(r->entries[0]), IMS_CACHELINE);

		if (!r)
			goto err;
		ims_spin_init(&r->lock);
		r->head = r->tail = 0;
		r->mod_mask = cfg->size - 1;
		fq->rings[i] = r;
	}
	seg0 = times_seg_alloc(0);
	if (!seg0)
		goto err;
	atomic_store_explicit(&fq->times[0], seg0, memory_order_relaxed);
	ret = iommusim_hist_create(0, &fq->exposure);
	if (ret < 0)
		goto err;
	*out = fq;
	return 0;
err:
	fq->timer = NULL; /* nothing was armed */
	ims_fq_destroy(fq);
	return ret;
}

void
ims_fq_queue_iova(struct ims_fq *fq, uint64_t pfn, uint64_t pages, const struct iommusim_ctx *ctx)
{
	struct fq_ring *r;
	struct fq_entry *e;
	uint64_t now;
	unsigned cpu;

	/* §2.4 queue_iova step 1: order the caller's PTE clears before the
	 * counter read below, against a flush on another CPU (none in solo
	 * mode: base/util_int.h). */
	if (!ims_solo)
		atomic_thread_fence(memory_order_seq_cst);

	/* Step 2: the single ring, or this CPU's. */
	if (fq->single) {
		r = fq->rings[0];
	} else {
		cpu = ims_ctx_cpu(ctx);
		ims_assert(cpu < fq->nrings);
		r = fq->rings[cpu];
	}

	/* Step 3: free what completed flushes already cover. */
	ring_lock(fq, r);
	ring_free_locked(fq, r, ctx);

	/*
	 * Step 4: a full ring flushes synchronously and frees again. One flush
	 * suffices unless a flush that started earlier is still running (on
	 * another thread, or the caller of a flush callback that queues): then
	 * finish_cnt lags, entries queued during that flush stay, and the ring
	 * is still full. Step 5 taken literally would then add to a full ring
	 * (tail would catch up with head and the ring would look empty); we
	 * flush again instead, so no IOVA is ever lost.
	 */
	while (ring_full(r)) {
		ims_stat_add(&fq->full_flushes, 1);
		fq_flush(fq, ctx);
		ring_free_locked(fq, r, ctx);
	}

	/* Step 5: add at tail. The time is read before the counter, so that
	 * the flush numbered counter + 1 cannot have started before it. */
	e = &r->entries[r->tail];
	r->tail = (r->tail + 1) & r->mod_mask;
	e->pfn = pfn;
	e->pages = pages;
	e->queued_ns = ims_ctx_now(ctx);
	e->counter = atomic_load_explicit(&fq->start_cnt, memory_order_seq_cst);
	ims_stat_add(&fq->queued, 1);
	ims_stat_max(&fq->max_entries, ims_solo_fetch_add(&fq->entries_now, 1) + 1);
	ims_stat_max(&fq->max_pages, ims_solo_fetch_add(&fq->pages_now, pages) + pages);

	/* Step 6. */
	ims_spin_unlock(&r->lock);

	/* Step 7: arm the timer unless it is on; an armed timer is not pushed
	 * out. mod_timer(jiffies + msecs_to_jiffies(timeout)): on ticks, as the
	 * timer wheel runs it. Counted even without timer ops (never fires). */
	if (!atomic_load_explicit(&fq->timer_on, memory_order_seq_cst) &&
	    !atomic_exchange_explicit(&fq->timer_on, 1, memory_order_seq_cst)) {
		ims_stat_add(&fq->timer_arms, 1);
		if (fq->timer) {
			now = ims_ctx_now(ctx);
			fq->timer->arm(fq->timer_priv,
				       iommusim_timer_expiry_ns(now, fq->timeout_ms, fq->hz));
		}
	}
}

void
ims_fq_timeout(struct ims_fq *fq, const struct iommusim_ctx *ctx)
{
	unsigned i;

	/* §2.4 fq_flush_timeout: timer off first, so a queue_iova from now on
	 * re-arms it; one flush; then every ring (every possible CPU's). */
	atomic_store_explicit(&fq->timer_on, 0, memory_order_seq_cst);
	ims_stat_add(&fq->timer_flushes, 1);
	fq_flush(fq, ctx);
	for (i = 0; i < fq->nrings; i++) {
		struct fq_ring *r = fq->rings[i];

		ring_lock(fq, r);
		ring_free_locked(fq, r, ctx);
		ims_spin_unlock(&r->lock);
	}
}

void
ims_fq_stats(const struct ims_fq *fq, struct iommusim_fq_stats *out)
{
	memset(out, 0, sizeof(*out)); /* the room to grow too (docs/abi.md) */
	out->flush_start_cnt = atomic_load_explicit(&fq->start_cnt, memory_order_relaxed);
	out->flush_finish_cnt = atomic_load_explicit(&fq->finish_cnt, memory_order_relaxed);
	out->full_flushes = atomic_load_explicit(&fq->full_flushes, memory_order_relaxed);
	out->timer_flushes = atomic_load_explicit(&fq->timer_flushes, memory_order_relaxed);
	out->timer_arms = atomic_load_explicit(&fq->timer_arms, memory_order_relaxed);
	out->queued = atomic_load_explicit(&fq->queued, memory_order_relaxed);
	out->freed_entries = atomic_load_explicit(&fq->freed_entries, memory_order_relaxed);
	out->freed_pages = atomic_load_explicit(&fq->freed_pages, memory_order_relaxed);
	out->entries_now = atomic_load_explicit(&fq->entries_now, memory_order_relaxed);
	out->pages_now = atomic_load_explicit(&fq->pages_now, memory_order_relaxed);
	out->max_entries = atomic_load_explicit(&fq->max_entries, memory_order_relaxed);
	out->max_pages = atomic_load_explicit(&fq->max_pages, memory_order_relaxed);
	out->lock_waits = atomic_load_explicit(&fq->lock_waits, memory_order_relaxed);
}

const struct iommusim_hist *
ims_fq_exposure(const struct ims_fq *fq)
{
	return fq->exposure;
}

bool
ims_fq_holds(const struct ims_fq *fq, uint64_t pfn)
{
	bool found = false;
	unsigned i;
	uint32_t j;

	/* A debug scan; it takes the ring locks, so never from the ops. */
	for (i = 0; i < fq->nrings && !found; i++) {
		struct fq_ring *r = fq->rings[i];

		ims_spin_lock(&r->lock);
		for (j = r->head; j != r->tail; j = (j + 1) & r->mod_mask) {
			const struct fq_entry *e = &r->entries[j];

			if (pfn >= e->pfn && pfn - e->pfn < e->pages) {
				found = true;
				break;
			}
		}
		ims_spin_unlock(&r->lock);
	}
	return found;
}
