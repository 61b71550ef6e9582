/* SPDX-License-Identifier: MIT */
/*
 * The real-thread stress mode (iommusim/stress.h): host threads as CPUs on
 * one dma-iommu domain of the s390 driver, a timer thread for the flush
 * queue, and a check of the safety invariant that does not go through the
 * flush queue's own locks (so it adds no contention of its own):
 *
 * Every RPCIT takes a ticket k from a counter when it runs (the zPCI
 * platform callback); when it returns, the pages it covered are flushed by
 * ticket k (a global refresh covers them all). A worker reads the counter
 * before it unmaps a range and records the value s0 on each of its pages.
 * The kernel frees a lazily unmapped IOVA only after a flush that started
 * after the unmap queued it has completed (KERNEL_SPEC §2.3); that flush's
 * RPCIT took its ticket after s0 was read, so whoever maps the page again
 * must see it flushed by a ticket >= s0. A flush that started between the
 * read and the queueing also passes, so the check can miss, but never
 * accuses a correct kernel. Strict unmaps are held to the same rule through
 * their ranged RPCIT (§2.9).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <iommusim/ctx.h>
#include <iommusim/dma.h>
#include <iommusim/dma_iommu.h>
#include <iommusim/hist.h>
#include <iommusim/iommu.h>
#include <iommusim/s390_iommu.h>
#include <iommusim/sim.h>
#include <iommusim/stack.h>
#include <iommusim/stress.h>
#include <iommusim/zpci.h>

#include "base/mem_int.h"
#include "base/util_int.h"
#include "workload/stress_int.h"

#define PG_SHIFT 12
#define PG (UINT64_C(1) << PG_SHIFT)
#define MAX_DURATION_NS (UINT64_C(3600) * 1000000000u)
#define MAX_SIZE (UINT64_C(1) << 20)
/* The window the run's buffers need, at most: it bounds the page tables. */
#define MAX_FOOTPRINT (UINT64_C(16) << 30)
/* How often a worker checks every mapping it holds, in operations. */
#define RECHECK_EVERY 64

struct stress;

struct worker {
	pthread_t tid;
	struct stress *st;
	unsigned cpu;
	struct iommusim_rng rng;
	atomic_uint_fast64_t maps, unmaps; /* read by the progress report */
	uint64_t map_errors, unmap_errors, stale, reuse;
	struct iommusim_hist *map_ns, *unmap_ns;
	char failure[160];
	uint64_t (*live)[3]; /* dma, size, phys */
};

struct stress {
	struct iommusim_stress_cfg cfg;
	struct iommusim_stack *stack; /* the driver, the function, its domain (stack.h) */
	const struct iommusim_dma *dma; /* ... and their parts the threads use */
	struct iommusim_dma_iommu *d;
	struct iommusim_domain *dom;
	struct iommusim_ctx_ops ops;
	struct timespec t0; /* set before any thread starts, then read-only */
	uint64_t run_start, run_end; /* the workers' run (main thread only) */
	struct ims_stress_check check; /* see the top of the file */
	atomic_bool stop;
	pthread_barrier_t start;
	/* the flush-queue timer */
	pthread_t timer_tid;
	pthread_mutex_t timer_lock;
	pthread_cond_t timer_cv;
	bool timer_armed, timer_stop, timer_started;
	uint64_t timer_expires;
};

/* Zeroed room for @n things of @size bytes; NULL on overflow or failure. */
static void *
zalloc_array(size_t n, size_t size)
{
	size_t bytes;

	return __builtin_mul_overflow(n, size, &bytes) ? NULL : ims_zalloc(bytes ? bytes : 1);
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	/* CLOCK_MONOTONIC cannot fail with a valid pointer (POSIX). */
	IMS_IGNORE(clock_gettime(CLOCK_MONOTONIC, &ts));
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
now_ns(void *priv)
{
	const struct stress *st = priv;
	uint64_t t0 = (uint64_t)st->t0.tv_sec * 1000000000u + (uint64_t)st->t0.tv_nsec;

	return mono_ns() - t0;
}

static void
atomic_max(atomic_uint_fast64_t *a, uint64_t v)
{
	uint_fast64_t cur = atomic_load_explicit(a, memory_order_relaxed);

	while (cur < v && !atomic_compare_exchange_weak_explicit(a, &cur, v, memory_order_release,
								 memory_order_relaxed))
		;
}

/* ---- the check --------------------------------------------------------- */

int
ims_stress_check_init(struct ims_stress_check *c, uint64_t win_start, uint64_t win_pages)
{
	memset(c, 0, sizeof(*c));
	c->win_start = win_start;
	c->win_pages = win_pages;
	c->page_done = zalloc_array(win_pages, sizeof(*c->page_done));
	c->page_unmapped = zalloc_array(win_pages, sizeof(*c->page_unmapped));
	if (!c->page_done || !c->page_unmapped) {
		ims_stress_check_destroy(c);
		return -ENOMEM;
	}
	return 0;
}

void
ims_stress_check_destroy(struct ims_stress_check *c)
{
	ims_free(c->page_done);
	ims_free(c->page_unmapped);
	c->page_done = c->page_unmapped = NULL;
}

/* The window pages [*first, *last] of [addr, addr + len); false if none. */
static bool
pages_of(const struct ims_stress_check *c, uint64_t addr, uint64_t len, uint64_t *first,
	 uint64_t *last)
{
	uint64_t end = c->win_start + (c->win_pages << PG_SHIFT); /* exclusive */

	if (!len || addr >= end || addr + (len - 1) < c->win_start)
		return false;
	*first = addr > c->win_start ? (addr - c->win_start) >> PG_SHIFT : 0;
	*last = (addr + (len - 1) - c->win_start) >> PG_SHIFT;
	if (*last >= c->win_pages)
		*last = c->win_pages - 1;
	return true;
}

void
ims_stress_check_unmapping(struct ims_stress_check *c, uint64_t dma, uint64_t size)
{
	uint64_t s0 = atomic_load_explicit(&c->tickets, memory_order_acquire), first, last, p;

	if (!pages_of(c, dma, size, &first, &last))
		return;
	for (p = first; p <= last; p++)
		atomic_store_explicit(&c->page_unmapped[p], s0 + 1, memory_order_release);
}

void
ims_stress_check_refreshed(struct ims_stress_check *c, uint64_t addr, uint64_t range)
{
	uint64_t k = atomic_fetch_add_explicit(&c->tickets, 1, memory_order_acq_rel), first, last,
		 p;

	if (!pages_of(c, addr, range, &first, &last))
		return;
	/* A refresh of the whole window (the global one, §3.7) flushes every page. */
	if (addr <= c->win_start && first == 0 && last == c->win_pages - 1 &&
	    addr + (range - 1) >= c->win_start + (c->win_pages << PG_SHIFT) - 1) {
		atomic_max(&c->global_done, k + 1);
		return;
	}
	for (p = first; p <= last; p++)
		atomic_max(&c->page_done[p], k + 1);
}

bool
ims_stress_check_mapped(struct ims_stress_check *c, uint64_t dma, uint64_t size, uint64_t *bad_iova)
{
	uint64_t global = atomic_load_explicit(&c->global_done, memory_order_acquire), first, last,
		 p;

	if (!pages_of(c, dma, size, &first, &last))
		return true;
	for (p = first; p <= last; p++) {
		uint64_t unmapped =
			atomic_load_explicit(&c->page_unmapped[p], memory_order_acquire);
		uint64_t done = atomic_load_explicit(&c->page_done[p], memory_order_acquire);

		if (unmapped && (global > done ? global : done) < unmapped) {
			*bad_iova = c->win_start + (p << PG_SHIFT);
			return false;
		}
	}
	return true;
}

/* The zPCI platform: every RPCIT succeeds at once, and is ticketed. */
static unsigned
stress_rpcit(void *priv, struct iommusim_zpci_fn *fn, const struct iommusim_rpcit *r,
	     uint8_t *status)
{
	struct stress *st = priv;

	(void)fn;
	*status = 0;
	ims_stress_check_refreshed(&st->check, r->addr, r->range);
	return 0;
}

static const struct iommusim_zpci_platform_ops stress_platform = { .rpcit = stress_rpcit };

/* ---- the flush-queue timer ----------------------------------------------- */

static void
timer_arm(void *priv, uint64_t expires_ns)
{
	struct stress *st = priv;

	pthread_mutex_lock(&st->timer_lock);
	st->timer_armed = true;
	st->timer_expires = expires_ns;
	pthread_cond_signal(&st->timer_cv);
	pthread_mutex_unlock(&st->timer_lock);
}

static const struct iommusim_dma_timer_ops stress_timer = { .arm = timer_arm };

/* The timer runs on a CPU of its own (threads), as a softirq would. */
static void *
timer_main(void *arg)
{
	struct stress *st = arg;
	const struct iommusim_ctx ctx = { &st->ops, st, st->cfg.threads };

	pthread_mutex_lock(&st->timer_lock);
	while (!st->timer_stop) {
		uint64_t now = now_ns(st);

		if (!st->timer_armed) {
			pthread_cond_wait(&st->timer_cv, &st->timer_lock);
		} else if (now < st->timer_expires) {
			uint64_t abs = (uint64_t)st->t0.tv_sec * 1000000000u +
				       (uint64_t)st->t0.tv_nsec + st->timer_expires;
			struct timespec ts = { .tv_sec = (time_t)(abs / 1000000000u),
					       .tv_nsec = (long)(abs % 1000000000u) };

			/* A timeout or a signal: the loop looks again either way. */
			IMS_IGNORE(pthread_cond_timedwait(&st->timer_cv, &st->timer_lock, &ts));
		} else {
			st->timer_armed = false;
			pthread_mutex_unlock(&st->timer_lock);
			iommusim_dma_iommu_fq_timeout(st->d, &ctx);
			pthread_mutex_lock(&st->timer_lock);
		}
	}
	pthread_mutex_unlock(&st->timer_lock);
	return NULL;
}

/* ---- workers ------------------------------------------------------------- */

__attribute__((format(printf, 2, 3))) static void
w_fail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (w->failure[0])
		return;
	va_start(ap, fmt);
	vsnprintf(w->failure, sizeof(w->failure), fmt, ap);
	va_end(ap);
}

static bool
check_held(struct worker *w, const uint64_t *m)
{
	uint64_t got = iommusim_iommu_iova_to_phys(w->st->dom, m[0] & ~(PG - 1));

	if (got == (m[2] & ~(PG - 1)))
		return true;
	w->stale++;
	w_fail(w, "cpu %u: held mapping %#" PRIx64 " translates to %#" PRIx64 ", not %#" PRIx64,
	       w->cpu, m[0], got, m[2] & ~(PG - 1));
	return false;
}

/* Every page of a new mapping must have been flushed since its last unmap. */
static void
check_flushed(struct worker *w, uint64_t dma, uint64_t size)
{
	uint64_t bad;

	if (ims_stress_check_mapped(&w->st->check, dma, size, &bad))
		return;
	w->reuse++;
	w_fail(w, "cpu %u: IOVA %#" PRIx64 " handed out again before a flush after its unmap",
	       w->cpu, bad);
}

static void
do_unmap(struct worker *w, const uint64_t *m, const struct iommusim_ctx *ctx)
{
	struct stress *st = w->st;
	uint64_t t;
	int ret;

	ims_stress_check_unmapping(&st->check, m[0], m[1]);
	t = mono_ns();
	ret = iommusim_dma_unmap_page(st->dma, m[0], m[1], IOMMUSIM_DMA_FROM_DEVICE, 0, ctx);
	iommusim_hist_record(w->unmap_ns, mono_ns() - t);
	if (ret) {
		w->unmap_errors++;
		w_fail(w, "cpu %u: unmap %#" PRIx64 " failed: %d", w->cpu, m[0], ret);
		return;
	}
	atomic_fetch_add_explicit(&w->unmaps, 1, memory_order_relaxed);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct stress *st = w->st;
	const struct iommusim_ctx ctx = { &st->ops, st, w->cpu };
	unsigned n = 0, i;
	uint64_t ops = 0;

	pthread_barrier_wait(&st->start);
	while (!atomic_load_explicit(&st->stop, memory_order_relaxed)) {
		if (n < st->cfg.live && (n == 0 || iommusim_rng_below(&w->rng, 2))) {
			uint64_t phys = ((uint64_t)(w->cpu + 1) << 40) +
					(iommusim_rng_below(&w->rng, 65536)) * PG +
					iommusim_rng_below(&w->rng, PG);
			uint64_t size = 1 + iommusim_rng_below(&w->rng, st->cfg.max_size), dma = 0,
				 t;
			int ret;

			t = mono_ns();
			ret = iommusim_dma_map_page(st->dma, phys, size, IOMMUSIM_DMA_FROM_DEVICE,
						    0, &ctx, &dma);
			iommusim_hist_record(w->map_ns, mono_ns() - t);
			if (ret) {
				w->map_errors++;
				w_fail(w, "cpu %u: map of %" PRIu64 " bytes failed: %d", w->cpu,
				       size, ret);
				continue;
			}
			atomic_fetch_add_explicit(&w->maps, 1, memory_order_relaxed);
			w->live[n][0] = dma;
			w->live[n][1] = size;
			w->live[n][2] = phys;
			check_flushed(w, dma, size);
			if (check_held(w, w->live[n]))
				n++;
		} else {
			i = (unsigned)(iommusim_rng_below(&w->rng, n));
			do_unmap(w, w->live[i], &ctx);
			memcpy(w->live[i], w->live[--n], sizeof(w->live[i]));
		}
		if (++ops % RECHECK_EVERY == 0)
			for (i = 0; i < n; i++)
				IMS_IGNORE(check_held(w, w->live[i])); /* counted inside */
	}
	while (n)
		do_unmap(w, w->live[--n], &ctx);
	return NULL;
}

/* ---- the run ------------------------------------------------------------- */

const char *
iommusim_stress_policy_name(enum iommusim_stress_policy p)
{
	switch (p) {
	case IOMMUSIM_STRESS_LAZY_PERCPU:
		return "lazy-percpu";
	case IOMMUSIM_STRESS_LAZY_SINGLE:
		return "lazy-single";
	case IOMMUSIM_STRESS_STRICT:
		return "strict";
	}
	return NULL;
}

bool
iommusim_stress_passed(const struct iommusim_stress_result *r)
{
	return r && !r->lazy_reuse_violations && !r->stale_translations && !r->map_errors &&
	       !r->unmap_errors && !r->leaked_pages;
}

IMS_NODISCARD static int
check_cfg(struct iommusim_stress_cfg *c, char *err, size_t err_len)
{
	if (!c->threads)
		c->threads = 2;
	if (!c->duration_ns)
		c->duration_ns = 1000000000u;
	if (!c->live)
		c->live = 32;
	if (!c->max_size)
		c->max_size = 16384;
	if (!c->seed)
		c->seed = 1;
	if (c->threads > IOMMUSIM_STRESS_MAX_THREADS)
		return ims_errf(err, err_len, "threads must be 1 to %u, not %u",
				IOMMUSIM_STRESS_MAX_THREADS, c->threads);
	if (c->duration_ns > MAX_DURATION_NS)
		return ims_errf(err, err_len, "the duration is at most 1 hour");
	if ((unsigned)c->policy > IOMMUSIM_STRESS_STRICT)
		return ims_errf(err, err_len, "unknown policy %d", (int)c->policy);
	if (c->live > IOMMUSIM_STRESS_MAX_LIVE)
		return ims_errf(err, err_len, "live must be 1 to %u, not %u",
				IOMMUSIM_STRESS_MAX_LIVE, c->live);
	if (c->max_size > MAX_SIZE)
		return ims_errf(err, err_len, "max_size must be 1 to 1m, not %" PRIu64,
				c->max_size);
	/* The buffers held at once, each up to max_size plus a page of offset. */
	if ((uint64_t)c->threads * c->live * (c->max_size + PG) > MAX_FOOTPRINT)
		return ims_errf(err, err_len,
				"threads x live x max_size is at most 16g (the window and its "
				"check tables grow with it)");
	return 0;
}

/* The window: 4 x what can be held, at least 1 GiB, so the allocator has room
 * for what the queues hold besides. */
static uint64_t
memory_for(const struct iommusim_stress_cfg *c)
{
	uint64_t need = 4 * (uint64_t)c->threads * c->live * (c->max_size + PG), m = UINT64_C(1)
										     << 30;

	while (m < need)
		m <<= 1;
	return m;
}

static void
teardown(struct stress *st)
{
	iommusim_stack_destroy(st->stack);
	ims_stress_check_destroy(&st->check);
}

/* One function on the stress platform, its domain and dma-iommu (stack.h,
 * which also refuses a bad fq_size), then the check over its DMA window. */
IMS_NODISCARD static int
setup(struct stress *st, char *err, size_t err_len)
{
	const struct iommusim_stack_cfg scfg = {
		.ncpus = st->cfg.threads + 1, /* the timer's CPU */
		.strict = st->cfg.policy == IOMMUSIM_STRESS_STRICT,
		.fq_type = st->cfg.policy == IOMMUSIM_STRESS_LAZY_SINGLE ? IOMMUSIM_FQ_SINGLE :
									   IOMMUSIM_FQ_PER_CPU,
		.fq_size = st->cfg.fq_size,
		.fq_timeout_ms = st->cfg.fq_timeout_ms,
		.memory = memory_for(&st->cfg),
		.fq_timer = &stress_timer,
		.fq_timer_priv = st,
		.platform = &stress_platform,
		.platform_priv = st,
	};
	struct iommusim_dma_iommu_info info;
	struct iommusim_zpci_fn_info fi;
	int ret;

	ret = iommusim_stack_create(&scfg, &st->stack, err, err_len);
	if (ret)
		return ret;
	st->dma = iommusim_stack_dma(st->stack, 0);
	st->d = iommusim_stack_dma_iommu(st->stack, 0);
	st->dom = iommusim_stack_domain(st->stack, 0);
	/* Neither getter fails on a function and instance that exist. */
	IMS_IGNORE(iommusim_dma_iommu_info_get(st->d, &info));
	IMS_IGNORE(iommusim_zpci_fn_info_get(iommusim_stack_fn(st->stack, 0), &fi));
	/* A lazy domain that came up strict would not test what was asked. */
	if (st->cfg.policy != IOMMUSIM_STRESS_STRICT && info.type != IOMMUSIM_DOMAIN_DMA_FQ) {
		ims_errf(err, err_len, "the domain came up strict (%s)",
			 iommusim_downgrade_reason(info.downgrade));
		return -ENOMEM;
	}
	st->cfg.fq_size = info.fq_size;
	st->cfg.fq_timeout_ms = info.fq_timeout_ms;
	/* The function's DMA window as the driver trimmed it at probe (§3.3). */
	if (ims_stress_check_init(&st->check, fi.start_dma,
				  ((fi.end_dma - fi.start_dma) >> PG_SHIFT) + 1)) {
		ims_errf(err, err_len, "out of memory for the check's tables");
		return -ENOMEM;
	}
	return 0;
}

/* Start the workers and the timer, sleep out the duration, stop and join. */
IMS_NODISCARD static int
run_threads(struct stress *st, struct worker *w, char *err, size_t err_len)
{
	unsigned i, started = 0;
	uint64_t end, last_report;
	int ret = 0;

	if (pthread_barrier_init(&st->start, NULL, st->cfg.threads + 1))
		return ims_errf(err, err_len, "cannot create a barrier"), -EAGAIN;
	for (i = 0; i < st->cfg.threads && !ret; i++) {
		ret = pthread_create(&w[i].tid, NULL, worker_main, &w[i]);
		if (!ret)
			started++;
	}
	if (ret) {
		/* Those started wait at the barrier: let them go, and stop them. */
		atomic_store(&st->stop, true);
		ims_errf(err, err_len, "cannot start thread %u: %s", started, strerror(ret));
	}
	if (!ret) {
		ret = pthread_create(&st->timer_tid, NULL, timer_main, st);
		st->timer_started = !ret;
		if (ret) {
			atomic_store(&st->stop, true);
			ims_errf(err, err_len, "cannot start the timer thread: %s", strerror(ret));
		}
	}
	/* The barrier counts threads + 1: stand in for those that did not start. */
	for (i = started; i < st->cfg.threads; i++)
		pthread_barrier_wait(&st->start);
	/* t0 was taken before any thread started: they all read it. */
	pthread_barrier_wait(&st->start);
	st->run_start = now_ns(st);
	end = st->run_start + (ret ? 0 : st->cfg.duration_ns);
	last_report = st->run_start;
	while (!ret && now_ns(st) < end) {
		uint64_t left = end - now_ns(st), nap = left < 100000000u ? left : 100000000u;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)nap };

		nanosleep(&ts, NULL); /* early wake-ups only loop again */
		if (st->cfg.progress && st->cfg.progress->report &&
		    now_ns(st) - last_report >= 1000000000u) {
			uint64_t ops = 0;

			for (i = 0; i < st->cfg.threads; i++)
				ops += atomic_load_explicit(&w[i].maps, memory_order_relaxed) +
				       atomic_load_explicit(&w[i].unmaps, memory_order_relaxed);
			last_report = now_ns(st);
			st->cfg.progress->report(st->cfg.progress->priv,
						 last_report - st->run_start, st->cfg.duration_ns,
						 ops);
		}
	}
	atomic_store(&st->stop, true);
	st->run_end = now_ns(st);
	for (i = 0; i < started; i++)
		IMS_IGNORE(pthread_join(w[i].tid, NULL)); /* our own, joinable threads */
	return ret ? -EAGAIN : 0;
}

static void
stop_timer(struct stress *st)
{
	if (!st->timer_started)
		return;
	pthread_mutex_lock(&st->timer_lock);
	st->timer_stop = true;
	pthread_cond_signal(&st->timer_cv);
	pthread_mutex_unlock(&st->timer_lock);
	IMS_IGNORE(pthread_join(st->timer_tid, NULL)); /* our own, joinable thread */
}

static void
collect(struct stress *st, struct worker *w, struct iommusim_stress_result *out)
{
	const struct iommusim_ctx ctx = { &st->ops, st, st->cfg.threads };
	struct iommusim_dma_iommu_stats ds;
	struct iommusim_s390_counters sc;
	struct iommusim_hist *mh = w[0].map_ns, *uh = w[0].unmap_ns;
	unsigned i;

	out->threads = st->cfg.threads;
	out->policy = st->cfg.policy;
	out->lazy = st->cfg.policy != IOMMUSIM_STRESS_STRICT;
	out->fq_size = st->cfg.fq_size;
	out->fq_timeout_ms = st->cfg.fq_timeout_ms;
	out->elapsed_ns = st->run_end - st->run_start;
	for (i = 0; i < st->cfg.threads; i++) {
		out->maps += atomic_load(&w[i].maps);
		out->unmaps += atomic_load(&w[i].unmaps);
		out->map_errors += w[i].map_errors;
		out->unmap_errors += w[i].unmap_errors;
		out->stale_translations += w[i].stale;
		out->lazy_reuse_violations += w[i].reuse;
		if (!out->first_failure[0] && w[i].failure[0])
			snprintf(out->first_failure, sizeof(out->first_failure), "%s",
				 w[i].failure);
		/* Same sub-bucket bits: the merge cannot fail. */
		if (i) {
			IMS_IGNORE(iommusim_hist_merge(mh, w[i].map_ns));
			IMS_IGNORE(iommusim_hist_merge(uh, w[i].unmap_ns));
		}
	}
	out->ops_per_sec = out->elapsed_ns ? (double)(out->maps + out->unmaps) * 1e9 /
						     (double)out->elapsed_ns :
					     0;
	IMS_IGNORE(iommusim_hist_summary_get(mh, &out->map_ns)); /* not NULL */
	IMS_IGNORE(iommusim_hist_summary_get(uh, &out->unmap_ns));
	/* Everything queued goes with one last timer flush; then nothing is left. */
	if (out->lazy)
		iommusim_dma_iommu_fq_timeout(st->d, &ctx);
	if (!iommusim_dma_iommu_stats_get(st->d, &ds)) {
		out->full_flushes = ds.fq.full_flushes;
		out->timer_flushes = ds.fq.timer_flushes;
		out->strict_syncs = ds.strict_syncs;
		out->lock_waits = ds.fq.lock_waits;
		out->max_entries = ds.fq.max_entries;
		/* The library's own view of the invariant, counted on top. */
		out->lazy_reuse_violations += ds.lazy_reuse_violations;
		out->leaked_pages = ds.dma.iova_pages_live + ds.fq.entries_now;
	}
	if (!iommusim_s390_domain_counters(st->dom, &sc, NULL))
		out->global_rpcits = sc.global_rpcits;
	if (!out->first_failure[0] && out->leaked_pages)
		snprintf(out->first_failure, sizeof(out->first_failure),
			 "%" PRIu64 " IOVA pages or queue entries left after the last flush",
			 out->leaked_pages);
}

int
iommusim_stress_run(const struct iommusim_stress_cfg *cfg, struct iommusim_stress_result *out,
		    char *err, size_t err_len)
{
	struct stress *st;
	struct worker *w = NULL;
	unsigned i;
	int ret;

	if (err && err_len)
		err[0] = '\0';
	if (!cfg || !out)
		return ims_errf(err, err_len, "no configuration or result");
	if (!IMS_RESERVED_ZERO(cfg, reserved0))
		return ims_errf(err, err_len,
				"the reserved members of the configuration are not zero "
				"(zero-initialise it: docs/abi.md)");
	st = ims_zalloc(sizeof(*st));
	if (!st)
		return ims_errf(err, err_len, "out of memory"), -ENOMEM;
	st->cfg = *cfg;
	ret = check_cfg(&st->cfg, err, err_len);
	if (ret) {
		ims_free(st);
		return ret;
	}
	st->ops.now_ns = now_ns;
	IMS_IGNORE(clock_gettime(CLOCK_MONOTONIC, &st->t0)); /* see mono_ns */
	pthread_mutex_init(&st->timer_lock, NULL);
	{
		pthread_condattr_t ca;

		/* The timer waits on CLOCK_MONOTONIC, the clock now_ns reads. */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&st->timer_cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	ret = setup(st, err, err_len);
	if (!ret) {
		w = zalloc_array(st->cfg.threads, sizeof(*w));
		ret = w ? 0 : -ENOMEM;
	}
	for (i = 0; !ret && i < st->cfg.threads; i++) {
		w[i].st = st;
		w[i].cpu = i;
		iommusim_rng_seed(&w[i].rng, st->cfg.seed, i);
		w[i].live = zalloc_array(st->cfg.live, sizeof(*w[i].live));
		if (!w[i].live || iommusim_hist_create(0, &w[i].map_ns) ||
		    iommusim_hist_create(0, &w[i].unmap_ns))
			ret = -ENOMEM;
	}
	if (ret == -ENOMEM && !(err && err_len && err[0]))
		ims_errf(err, err_len, "out of memory");
	if (!ret) {
		memset(out, 0, sizeof(*out));
		ret = run_threads(st, w, err, err_len);
		stop_timer(st);
		if (!ret)
			collect(st, w, out);
	}
	for (i = 0; w && i < st->cfg.threads; i++) {
		ims_free(w[i].live);
		iommusim_hist_destroy(w[i].map_ns);
		iommusim_hist_destroy(w[i].unmap_ns);
	}
	ims_free(w);
	teardown(st);
	pthread_cond_destroy(&st->timer_cv);
	pthread_mutex_destroy(&st->timer_lock);
	ims_free(st);
	return ret;
}
