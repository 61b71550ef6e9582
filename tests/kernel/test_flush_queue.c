/* SPDX-License-Identifier: MIT */
/*
 * Tests of the dma-iommu flush queues (lib/flush_queue.c) against
 * KERNEL_SPEC.md §2.1-§2.5: TV-14, the free rule with flushes in progress,
 * the timer on HZ ticks, timeline mode (the counters as of the caller's
 * time), exposure windows, statistics, a randomised comparison with a
 * literal model of §2.3/§2.4, and a multi-threaded test.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/dma_iommu.h>
#include <iommusim/hist.h>
#include <iommusim/jiffies.h>

#include "kernel/flush_queue_int.h"
#include "base/mem_int.h"

#define MAXCPU 8
#define MS UINT64_C(1000000)

/* ------------------------------------------------------------------------ */
/* The environment: mock ops, a fake clock and CPU, a fake timer. */

struct env;

struct free_rec {
	uint64_t pfn, pages;
	const struct iommusim_ctx *ctx;
	uint64_t finish_cnt; /* the queue's finish_cnt when freed */
	uint64_t at_ns; /* the freeing context's time */
};

struct env {
	struct ims_fq *fq;
	uint64_t now; /* the fake clock, shared by every CPU's ctx */
	struct iommusim_ctx ctx[MAXCPU];
	struct iommusim_ctx tctx; /* a separate context for timeouts */
	uint64_t clock[MAXCPU]; /* per-CPU clocks, read by cctx[] */
	struct iommusim_ctx cctx[MAXCPU]; /* CPU i on its own clock[i] */

	/* flush_iotlb_all */
	uint64_t flushes_begun, flushes_done;
	uint64_t flush_delay; /* ns the clock advances inside each flush */
	const struct iommusim_ctx *last_flush_ctx;
	void (*in_flush)(struct env *e, uint64_t n, const struct iommusim_ctx *ctx);
	uint64_t flush_at[16]; /* the flushing context's time as each flush begins */

	/* free_iova */
	struct free_rec *frees;
	size_t nfrees, cap;

	/* the timer */
	uint64_t arms, cancels, last_expires;
	bool armed;
};

static uint64_t
fake_now(void *priv)
{
	return ((struct env *)priv)->now;
}

static const struct iommusim_ctx_ops fake_ctx_ops = { .now_ns = fake_now };

/* A per-CPU clock: priv points at the CPU's own time. */
static uint64_t
clock_now(void *priv)
{
	return *(const uint64_t *)priv;
}

static const struct iommusim_ctx_ops clock_ctx_ops = { .now_ns = clock_now };

/* The clock a context reads (the shared one, or its CPU's own). */
static uint64_t *
ctx_clock(struct env *e, const struct iommusim_ctx *ctx)
{
	return ctx && ctx->ops == &clock_ctx_ops ? (uint64_t *)ctx->priv : &e->now;
}

static void
mock_flush(void *priv, const struct iommusim_ctx *ctx)
{
	struct env *e = priv;
	uint64_t n = ++e->flushes_begun;

	e->last_flush_ctx = ctx;
	if (n <= sizeof(e->flush_at) / sizeof(e->flush_at[0]))
		e->flush_at[n - 1] = *ctx_clock(e, ctx);
	if (e->in_flush)
		e->in_flush(e, n, ctx);
	*ctx_clock(e, ctx) += e->flush_delay; /* the flush takes time on its CPU */
	e->flushes_done++;
}

static void
mock_free(void *priv, uint64_t pfn, uint64_t pages, const struct iommusim_ctx *ctx)
{
	struct env *e = priv;
	struct iommusim_fq_stats st;

	if (e->nfrees == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 1024;
		e->frees = realloc(e->frees, e->cap * sizeof(*e->frees));
		assert_non_null(e->frees);
	}
	ims_fq_stats(e->fq, &st);
	e->frees[e->nfrees++] =
		(struct free_rec){ pfn, pages, ctx, st.flush_finish_cnt, *ctx_clock(e, ctx) };
}

static const struct ims_fq_ops mock_ops = { .flush_iotlb_all = mock_flush, .free_iova = mock_free };

static void
timer_arm(void *priv, uint64_t expires_ns)
{
	struct env *e = priv;

	assert_false(e->armed); /* never armed twice */
	e->armed = true;
	e->arms++;
	e->last_expires = expires_ns;
}

static void
timer_cancel(void *priv)
{
	struct env *e = priv;

	e->armed = false;
	e->cancels++;
}

static const struct iommusim_dma_timer_ops fake_timer = { .arm = timer_arm,
							  .cancel = timer_cancel };

/* A queue as @cfg says, on the mock ops (and the fake timer if @timer). */
static struct env *
env_create(struct ims_fq_cfg cfg, bool timer)
{
	struct env *e = calloc(1, sizeof(*e));
	unsigned i;

	assert_non_null(e);
	cfg.ops = &mock_ops;
	cfg.priv = e;
	cfg.timer = timer ? &fake_timer : NULL;
	cfg.timer_priv = e;
	for (i = 0; i < MAXCPU; i++) {
		e->ctx[i] = (struct iommusim_ctx){ &fake_ctx_ops, e, i };
		e->cctx[i] = (struct iommusim_ctx){ &clock_ctx_ops, &e->clock[i], i };
	}
	e->tctx = (struct iommusim_ctx){ &fake_ctx_ops, e, 0 };
	assert_int_equal(ims_fq_create(&cfg, &e->fq), 0);
	assert_non_null(e->fq);
	return e;
}

static struct env *
env_new(bool single, uint32_t size, unsigned ncpus, uint32_t timeout_ms, bool timer)
{
	const struct ims_fq_cfg cfg = {
		.single = single,
		.size = size,
		.timeout_ms = timeout_ms,
		.ncpus = ncpus,
	};

	return env_create(cfg, timer);
}

static void
env_free(struct env *e)
{
	ims_fq_destroy(e->fq);
	free(e->frees);
	free(e);
}

static void
queue(struct env *e, unsigned cpu, uint64_t pfn, uint64_t pages)
{
	ims_fq_queue_iova(e->fq, pfn, pages, &e->ctx[cpu]);
}

/* The timer fires (and so is no longer armed): fq_flush_timeout on tctx. */
static void
fire(struct env *e)
{
	e->armed = false;
	ims_fq_timeout(e->fq, &e->tctx);
}

static struct iommusim_fq_stats
stats(const struct env *e)
{
	struct iommusim_fq_stats st;

	memset(&st, 0xa5, sizeof(st));
	ims_fq_stats(e->fq, &st);
	return st;
}

static bool
was_freed(const struct env *e, uint64_t pfn)
{
	size_t i;

	for (i = 0; i < e->nfrees; i++)
		if (e->frees[i].pfn == pfn)
			return true;
	return false;
}

static const struct free_rec *
free_of(const struct env *e, uint64_t pfn)
{
	const struct free_rec *r = NULL;
	size_t i;

	for (i = 0; i < e->nfrees; i++) {
		if (e->frees[i].pfn == pfn) {
			assert_null(r); /* freed once */
			r = &e->frees[i];
		}
	}
	assert_non_null(r);
	return r;
}

static struct iommusim_hist_summary
exposure(const struct env *e)
{
	struct iommusim_hist_summary s;

	assert_int_equal(iommusim_hist_summary_get(ims_fq_exposure(e->fq), &s), 0);
	return s;
}

/* ------------------------------------------------------------------------ */
/* TV-14 and ring capacity */

static void
test_flush_queue_tv14_per_cpu_256(void **state)
{
	struct env *e = env_new(false, IOMMUSIM_IOVA_DEFAULT_FQ_SIZE, 4, 10, false);
	struct iommusim_fq_stats st;
	uint64_t n;

	for (n = 1; n <= 1000; n++) {
		queue(e, 0, n, 1);
		st = stats(e);
		/* flushes = floor((N - 1) / 255), from the 256th attempt on */
		assert_int_equal(st.flush_start_cnt, (n - 1) / 255);
		assert_int_equal(st.flush_finish_cnt, (n - 1) / 255);
		assert_int_equal(e->flushes_begun, (n - 1) / 255);
		assert_int_equal(st.entries_now, n - 255 * ((n - 1) / 255));
		if (n == 255)
			assert_int_equal(e->nfrees, 0);
		if (n == 256) {
			assert_int_equal(st.flush_start_cnt, 1);
			assert_int_equal(st.flush_finish_cnt, 1);
			assert_int_equal(e->nfrees, 255);
			assert_int_equal(st.entries_now, 1);
		}
	}
	assert_int_equal(st.flush_start_cnt, 3);
	assert_int_equal(st.entries_now, 235);
	assert_int_equal(st.full_flushes, 3);
	assert_int_equal(st.timer_flushes, 0);
	assert_int_equal(st.freed_entries, 765);
	assert_int_equal(st.queued, 1000);
	assert_int_equal(st.max_entries, 255);
	/* freed in queueing order */
	for (n = 0; n < e->nfrees; n++)
		assert_int_equal(e->frees[n].pfn, n + 1);
	env_free(e);
}

static void
test_flush_queue_tv14_single_32768(void **state)
{
	struct env *e = env_new(true, IOMMUSIM_IOVA_SINGLE_FQ_SIZE, 4, 1000, false);
	struct iommusim_fq_stats st;
	uint64_t n;

	for (n = 1; n <= 65535; n++) {
		/* any CPU: there is one ring */
		queue(e, (unsigned)(n % 4), n, 1);
		if (n == 32767 || n == 32768 || n == 65534 || n == 65535 || n % 4096 == 0) {
			st = stats(e);
			assert_int_equal(st.flush_finish_cnt, (n - 1) / 32767);
		}
	}
	st = stats(e);
	assert_int_equal(st.flush_start_cnt, 2);
	assert_int_equal(st.full_flushes, 2);
	assert_int_equal(st.entries_now, 65535 - 2 * 32767);
	assert_int_equal(st.max_entries, 32767);
	env_free(e);
}

static void
test_flush_queue_ring_holds_size_minus_one(void **state)
{
	static const uint32_t sizes[] = { 2, 4, 16, 1024 };
	size_t i;
	int single;

	for (single = 0; single < 2; single++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			uint32_t sz = sizes[i];
			struct env *e = env_new(single, sz, 2, 10, false);
			uint64_t n, total = 3 * sz + 5;
			struct iommusim_fq_stats st;

			for (n = 1; n <= total; n++) {
				queue(e, 1, n, 2);
				st = stats(e);
				assert_int_equal(st.flush_finish_cnt, (n - 1) / (sz - 1));
				assert_int_equal(st.entries_now,
						 n - (uint64_t)(sz - 1) * ((n - 1) / (sz - 1)));
				assert_int_equal(st.pages_now, 2 * st.entries_now);
			}
			assert_int_equal(st.max_entries, sz - 1);
			assert_int_equal(st.max_pages, 2 * (sz - 1));
			env_free(e);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* The free rule (§2.3) */

static uint64_t nested_pfn_next;
static unsigned nested_cpu;
static unsigned nested_count;

/* Queue nested_count entries on nested_cpu from inside the first flush. */
static void
queue_during_first_flush(struct env *e, uint64_t n, const struct iommusim_ctx *ctx)
{
	unsigned i;

	if (n != 1)
		return;
	for (i = 0; i < nested_count; i++)
		queue(e, nested_cpu, nested_pfn_next++, 1);
}

static void
test_flush_queue_free_rule_flush_in_progress(void **state)
{
	struct env *e = env_new(false, 4, 2, 10, false);
	struct iommusim_fq_stats st;

	/* CPU 0 fills its ring (3 entries, counter 0); the 4th attempt flushes. */
	queue(e, 0, 100, 1);
	queue(e, 0, 101, 1);
	queue(e, 0, 102, 1);
	e->in_flush = queue_during_first_flush;
	nested_pfn_next = 200;
	nested_cpu = 1;
	nested_count = 1;
	queue(e, 0, 103, 1);
	/* During that flush CPU 1 queued 200 with counter 1 (start was 1). */
	st = stats(e);
	assert_int_equal(st.flush_start_cnt, 1);
	assert_int_equal(st.flush_finish_cnt, 1);
	assert_int_equal(e->nfrees, 3);
	assert_true(was_freed(e, 100) && was_freed(e, 101) && was_freed(e, 102));
	assert_false(was_freed(e, 200));
	/* CPU 1's next queue frees nothing: 200 waits for finish_cnt >= 2. */
	queue(e, 1, 201, 1);
	assert_false(was_freed(e, 200));
	assert_true(ims_fq_holds(e->fq, 200));
	/* The next flush (here the timeout) frees it, with the timeout's ctx. */
	e->tctx.cpu = 1;
	ims_fq_timeout(e->fq, &e->tctx);
	assert_int_equal(free_of(e, 200)->finish_cnt, 2);
	assert_ptr_equal(free_of(e, 200)->ctx, &e->tctx);
	assert_ptr_equal(free_of(e, 103)->ctx, &e->tctx);
	assert_ptr_equal(free_of(e, 100)->ctx, &e->ctx[0]);
	assert_int_equal(stats(e).entries_now, 0);
	env_free(e);
}

static void
test_flush_queue_counters_are_domain_wide(void **state)
{
	struct env *e = env_new(false, 4, 2, 10, false);

	/* An entry on CPU 0 (counter 0), then CPU 1 fills up and flushes. */
	queue(e, 0, 1, 1);
	queue(e, 1, 10, 1);
	queue(e, 1, 11, 1);
	queue(e, 1, 12, 1);
	queue(e, 1, 13, 1); /* full: flush 1 */
	assert_int_equal(stats(e).flush_finish_cnt, 1);
	assert_false(was_freed(e, 1)); /* CPU 0's ring is not walked */
	/* CPU 0's next queue frees it: the finish count is the domain's. */
	queue(e, 0, 2, 1);
	assert_true(was_freed(e, 1));
	assert_ptr_equal(free_of(e, 1)->ctx, &e->ctx[0]);
	assert_false(was_freed(e, 2));
	assert_int_equal(stats(e).flush_start_cnt, 1);
	env_free(e);
}

static void
queue_single_during_flush(struct env *e, uint64_t n, const struct iommusim_ctx *ctx)
{
	if (n == 1)
		queue(e, 3, 500, 4);
}

static void
test_flush_queue_single_entry_queued_during_timeout_flush(void **state)
{
	struct env *e = env_new(true, 8, 4, 1000, true);

	queue(e, 0, 1, 1);
	queue(e, 2, 2, 1);
	e->in_flush = queue_single_during_flush;
	fire(e);
	/* 1 and 2 (counter 0) are covered; 500 was queued with counter 1. */
	assert_true(was_freed(e, 1) && was_freed(e, 2));
	assert_false(was_freed(e, 500));
	assert_int_equal(stats(e).entries_now, 1);
	assert_int_equal(stats(e).pages_now, 4);
	fire(e);
	assert_int_equal(free_of(e, 500)->finish_cnt, 2);
	assert_int_equal(stats(e).entries_now, 0);
	env_free(e);
}

static void
test_flush_queue_full_ring_during_slower_flush(void **state)
{
	struct env *e = env_new(false, 4, 2, 10, false);
	struct iommusim_fq_stats st;

	/*
	 * CPU 0's full flush (1st to start) is still running while CPU 1 fills
	 * its ring with counter-1 entries and hits full: its flush (2nd to
	 * start) brings finish_cnt only to 1, which frees nothing. The queue
	 * flushes again (3rd, finish_cnt 2) rather than overwrite the ring.
	 */
	queue(e, 0, 100, 1);
	queue(e, 0, 101, 1);
	queue(e, 0, 102, 1);
	e->in_flush = queue_during_first_flush;
	nested_pfn_next = 200;
	nested_cpu = 1;
	nested_count = 4;
	queue(e, 0, 103, 1);
	st = stats(e);
	assert_int_equal(st.flush_start_cnt, 3);
	assert_int_equal(st.flush_finish_cnt, 3);
	assert_int_equal(st.full_flushes, 3);
	assert_true(was_freed(e, 200) && was_freed(e, 201) && was_freed(e, 202));
	assert_int_equal(free_of(e, 200)->finish_cnt, 2);
	assert_false(was_freed(e, 203));
	assert_true(was_freed(e, 100) && was_freed(e, 101) && was_freed(e, 102));
	assert_int_equal(st.queued, 8);
	assert_int_equal(st.entries_now, 2); /* 103 and 203 */
	assert_int_equal(st.queued, st.freed_entries + st.entries_now);
	env_free(e);
}

/* ------------------------------------------------------------------------ */
/* The timer (§2.4) */

static void
test_flush_queue_timer_armed_once_not_pushed_out(void **state)
{
	struct env *e = env_new(false, 4, 2, 10, true);
	struct iommusim_fq_stats st;

	e->now = 1234;
	queue(e, 0, 1, 1);
	assert_int_equal(e->arms, 1);
	assert_int_equal(e->last_expires, 1234 + 10 * MS);
	/* Later queueing, on any CPU, and a full flush leave it alone. */
	e->now = 5 * MS;
	queue(e, 1, 2, 1);
	queue(e, 0, 3, 1);
	queue(e, 0, 4, 1);
	queue(e, 0, 5, 1); /* full flush */
	st = stats(e);
	assert_int_equal(st.full_flushes, 1);
	assert_int_equal(e->arms, 1);
	assert_int_equal(st.timer_arms, 1);
	assert_int_equal(e->last_expires, 1234 + 10 * MS);
	/* The timer fires: the next queue arms it again, from its own now. */
	e->now = 1234 + 10 * MS;
	fire(e);
	st = stats(e);
	assert_int_equal(st.timer_flushes, 1);
	assert_int_equal(st.full_flushes, 1);
	assert_int_equal(st.flush_finish_cnt, 2);
	assert_int_equal(e->arms, 1);
	e->now = 30 * MS + 7;
	queue(e, 1, 6, 1);
	assert_int_equal(e->arms, 2);
	assert_int_equal(e->last_expires, 40 * MS + 7);
	queue(e, 1, 7, 1);
	assert_int_equal(e->arms, 2);
	assert_int_equal(stats(e).timer_arms, 2);
	env_free(e);
}

static void
test_flush_queue_timer_single_default_timeout(void **state)
{
	struct env *e = env_new(true, IOMMUSIM_IOVA_SINGLE_FQ_SIZE, 4, 1000, true);

	e->now = 5;
	queue(e, 3, 1, 1);
	assert_int_equal(e->last_expires, 5 + 1000 * MS);
	/* Saturating: a timer past the end of time fires at the end of time. */
	fire(e);
	e->now = UINT64_MAX - 10;
	queue(e, 3, 2, 1);
	assert_int_equal(e->last_expires, UINT64_MAX);
	env_free(e);
}

/* The expiry a first queue_iova at @now_ns arms the timer with. */
static uint64_t
armed_expiry(unsigned hz, uint32_t timeout_ms, uint64_t now_ns)
{
	const struct ims_fq_cfg cfg = { .size = 4, .timeout_ms = timeout_ms, .hz = hz, .ncpus = 1 };
	struct env *e = env_create(cfg, true);
	uint64_t t;

	e->now = now_ns;
	queue(e, 0, 1, 1);
	assert_int_equal(e->arms, 1);
	t = e->last_expires;
	env_free(e);
	return t;
}

static void
test_flush_queue_timer_hz100_fires_on_ticks(void **state)
{
	const struct ims_fq_cfg cfg = { .size = 4, .timeout_ms = 10, .hz = 100, .ncpus = 1 };
	struct env *e;

	/* 10 ms is 1 jiffy; armed during tick 0 it expires at 1 and its
	 * level-0 bucket is tick 2: 20 ms. */
	assert_int_equal(armed_expiry(100, 10, 3 * MS), 20 * MS);
	assert_int_equal(armed_expiry(100, 10, 0), 20 * MS);
	assert_int_equal(armed_expiry(100, 10, 10 * MS - 1), 20 * MS);
	/* At 10 ms exactly jiffies is 1: expires 2, bucket 3. */
	assert_int_equal(armed_expiry(100, 10, 10 * MS), 30 * MS);
	/* Re-armed after firing, on ticks again: at 25 ms, jiffies 2, bucket 4. */
	e = env_create(cfg, true);
	e->now = 3 * MS;
	queue(e, 0, 1, 1);
	assert_int_equal(e->last_expires, 20 * MS);
	e->now = 20 * MS;
	fire(e);
	e->now = 25 * MS;
	queue(e, 0, 2, 1);
	assert_int_equal(e->arms, 2);
	assert_int_equal(e->last_expires, 40 * MS);
	env_free(e);
}

static void
test_flush_queue_timer_hz0_exact_ms(void **state)
{
	assert_int_equal(armed_expiry(0, 10, 3 * MS), 13 * MS);
	assert_int_equal(armed_expiry(0, 10, 1234), 1234 + 10 * MS);
	assert_int_equal(armed_expiry(0, 1000, 7), 7 + 1000 * MS);
}

static void
test_flush_queue_timer_wheel_level_granularity(void **state)
{
	/* HZ=1000, 1000 ms: 1000 jiffies, level 2 (504 <= 1000 < 4032), 64
	 * ticks a bucket: ((1000 >> 6) + 1) << 6 = 1024. */
	assert_int_equal(armed_expiry(1000, 1000, 0), 1024 * MS);
	/* HZ=100, 1000 ms: 100 jiffies, level 1 (63 <= 100 < 504), 8 ticks:
	 * ((100 >> 3) + 1) << 3 = 104 ticks of 10 ms. */
	assert_int_equal(armed_expiry(100, 1000, 0), 1040 * MS);
	/* ... from 75 ms (jiffies 7): expires 107, ((107 >> 3) + 1) << 3 = 112. */
	assert_int_equal(armed_expiry(100, 1000, 75 * MS), 1120 * MS);
	/* Level 0 ends at 62 jiffies: 62 -> 63; 63 is level 1: (7 + 1) << 3 = 64. */
	assert_int_equal(armed_expiry(1000, 62, 0), 63 * MS);
	assert_int_equal(armed_expiry(1000, 63, 0), 64 * MS);
	/* msecs_to_jiffies rounds up: 10 ms at HZ=250 is 2.5 -> 3 jiffies,
	 * bucket 4, 16 ms; at HZ=300, 3 jiffies, bucket 4, ceil(4e9 / 300) ns. */
	assert_int_equal(armed_expiry(250, 10, 0), 16 * MS);
	assert_int_equal(armed_expiry(300, 10, 0), UINT64_C(13333334));
	/* The largest HZ: 10 ms is 1000 jiffies of 10 us, level 2, 1024. */
	assert_int_equal(armed_expiry(IOMMUSIM_HZ_MAX, 10, 0), UINT64_C(10240000));
}

static void
test_flush_queue_create_rejects_hz_above_max(void **state)
{
	struct ims_fq_cfg cfg = { .size = 4, .timeout_ms = 10, .ncpus = 1, .ops = &mock_ops };
	struct ims_fq *fq = (struct ims_fq *)&fq, *sentinel = (struct ims_fq *)&fq;

	cfg.hz = IOMMUSIM_HZ_MAX + 1;
	assert_int_equal(ims_fq_create(&cfg, &fq), -EINVAL);
	assert_ptr_equal(fq, sentinel);
	cfg.hz = UINT_MAX;
	assert_int_equal(ims_fq_create(&cfg, &fq), -EINVAL);
	assert_ptr_equal(fq, sentinel);
	cfg.hz = IOMMUSIM_HZ_MAX;
	assert_int_equal(ims_fq_create(&cfg, &fq), 0);
	assert_ptr_not_equal(fq, sentinel);
	ims_fq_destroy(fq);
}

static void
test_flush_queue_timer_null_never_fires(void **state)
{
	struct env *e = env_new(false, 4, 1, 10, false);

	/* No timer ops: the state machine still counts the arm (once). */
	queue(e, 0, 1, 1);
	queue(e, 0, 2, 1);
	assert_int_equal(stats(e).timer_arms, 1);
	/* The caller may still run the timeout by hand. */
	ims_fq_timeout(e->fq, NULL);
	assert_int_equal(e->nfrees, 2);
	assert_null(e->frees[0].ctx);
	queue(e, 0, 3, 1);
	assert_int_equal(stats(e).timer_arms, 2);
	env_free(e);
}

static void
test_flush_queue_timeout_drains_every_cpu(void **state)
{
	struct env *e = env_new(false, 16, 4, 10, true);
	struct iommusim_fq_stats st;
	unsigned cpu, i;

	for (cpu = 0; cpu < 4; cpu++)
		for (i = 0; i <= cpu; i++)
			queue(e, cpu, 100 * cpu + i, cpu + 1);
	st = stats(e);
	assert_int_equal(st.entries_now, 10);
	assert_int_equal(st.pages_now, 1 + 4 + 9 + 16);
	e->tctx.cpu = 2;
	fire(e);
	st = stats(e);
	assert_int_equal(e->nfrees, 10);
	for (i = 0; i < e->nfrees; i++)
		assert_ptr_equal(e->frees[i].ctx, &e->tctx);
	assert_ptr_equal(e->last_flush_ctx, &e->tctx);
	/* rings in CPU order, each from its head */
	assert_int_equal(e->frees[0].pfn, 0);
	assert_int_equal(e->frees[1].pfn, 100);
	assert_int_equal(e->frees[9].pfn, 303);
	assert_int_equal(st.entries_now, 0);
	assert_int_equal(st.pages_now, 0);
	assert_int_equal(st.freed_pages, 30);
	assert_int_equal(st.timer_flushes, 1);
	assert_int_equal(st.full_flushes, 0);
	/* A timeout with nothing queued still flushes once. */
	fire(e);
	assert_int_equal(stats(e).flush_finish_cnt, 2);
	assert_int_equal(stats(e).timer_flushes, 2);
	env_free(e);
}

static void
test_flush_queue_timeout_drains_single_ring(void **state)
{
	struct env *e = env_new(true, 64, 4, 1000, true);
	unsigned i;

	for (i = 0; i < 20; i++)
		queue(e, i % 4, i, 1);
	fire(e);
	assert_int_equal(e->nfrees, 20);
	for (i = 0; i < 20; i++) {
		assert_int_equal(e->frees[i].pfn, i);
		assert_ptr_equal(e->frees[i].ctx, &e->tctx);
	}
	assert_int_equal(stats(e).entries_now, 0);
	env_free(e);
}

/* ------------------------------------------------------------------------ */
/* Exposure windows */

struct bucket_list {
	unsigned n;
	uint64_t lo[4096], count[4096];
};

static int
collect_bucket(void *priv, uint64_t lo, uint64_t hi, uint64_t count)
{
	struct bucket_list *b = priv;

	assert_true(b->n < 4096);
	b->lo[b->n] = lo;
	b->count[b->n++] = count;
	return 0;
}

/* The exposure histogram equals one that records exactly @vals. */
static void
expect_exposures(const struct env *e, const uint64_t *vals, size_t n)
{
	struct iommusim_hist *want = NULL;
	struct iommusim_hist_summary a, b;
	static struct bucket_list ba, bb;
	size_t i;

	assert_int_equal(iommusim_hist_create(0, &want), 0);
	for (i = 0; i < n; i++)
		iommusim_hist_record(want, vals[i]);
	a = exposure(e);
	assert_int_equal(iommusim_hist_summary_get(want, &b), 0);
	assert_int_equal(a.count, b.count);
	assert_int_equal(a.min, b.min);
	assert_int_equal(a.max, b.max);
	assert_true(a.mean == b.mean);
	memset(&ba, 0, sizeof(ba));
	memset(&bb, 0, sizeof(bb));
	assert_int_equal(iommusim_hist_for_each(ims_fq_exposure(e->fq), collect_bucket, &ba), 0);
	assert_int_equal(iommusim_hist_for_each(want, collect_bucket, &bb), 0);
	assert_int_equal(ba.n, bb.n);
	assert_memory_equal(ba.lo, bb.lo, sizeof(ba.lo));
	assert_memory_equal(ba.count, bb.count, sizeof(ba.count));
	iommusim_hist_destroy(want);
}

static void
test_flush_queue_exposure_exact(void **state)
{
	struct env *e = env_new(false, 4, 2, 10, true);
	struct iommusim_hist_summary s;

	e->flush_delay = 1000; /* a flush takes 1 us: exposure ends at its finish */
	e->now = 10;
	queue(e, 0, 1, 1);
	e->now = 20;
	queue(e, 0, 2, 1);
	e->now = 30;
	queue(e, 0, 3, 1);
	e->now = 40;
	queue(e, 0, 4, 1); /* flush 1 runs 40..1040 and frees 1, 2, 3 */
	s = exposure(e);
	assert_int_equal(s.count, 3);
	assert_int_equal(s.min, 1040 - 30);
	assert_int_equal(s.max, 1040 - 10);
	assert_true(s.mean == 1020.0);
	/* 4 was queued at 1040 (after the flush) with counter 1. */
	e->now = 5000;
	e->tctx.cpu = 1;
	fire(e); /* flush 2 finishes at 6000 */
	{
		const uint64_t want[] = { 1030, 1020, 1010, 6000 - 1040 };

		expect_exposures(e, want, 4);
	}
	/* A later queue_iova frees what a flush covered, with that flush's time. */
	e->now = 7000;
	queue(e, 1, 5, 1); /* arms the timer */
	e->now = 9000;
	queue(e, 0, 6, 1);
	queue(e, 0, 7, 1);
	queue(e, 0, 8, 1);
	e->now = 9500;
	queue(e, 0, 9, 1); /* flush 3: 9500..10500, frees 6, 7, 8 */
	e->now = 20000;
	queue(e, 1, 10, 1); /* frees 5: exposure 10500 - 7000 */
	assert_true(was_freed(e, 5));
	{
		const uint64_t want[] = { 1030,		1020,	      1010,	    6000 - 1040,
					  10500 - 9000, 10500 - 9000, 10500 - 9000, 10500 - 7000 };

		expect_exposures(e, want, 8);
	}
	env_free(e);
}

static void
test_flush_queue_exposure_across_many_flushes(void **state)
{
	/* Size 2: every queue attempt on CPU 0 after the first flushes. */
	struct env *e = env_new(false, 2, 3, 10, false);
	uint64_t n, t1 = 0, t2 = 0, *all;

	e->flush_delay = 3;
	e->now = 100;
	queue(e, 1, 1000000, 1); /* counter 0: covered by flush 1 */
	queue(e, 0, 0, 1);
	/*
	 * Iteration n: 10 ns pass, flush n runs 3 ns and frees CPU 0's entry
	 * n - 1, and entry n is queued when flush n has finished. So flush n
	 * finishes at 100 + 13n, and every CPU 0 entry waits exactly 13 ns.
	 */
	for (n = 1; n <= 3000; n++) {
		e->now += 10;
		if (n == 2500) {
			/* counter 2499 on CPU 2: covered by flush 2500 */
			queue(e, 2, 2000000, 1);
			t2 = e->now;
		}
		queue(e, 0, n, 1);
		if (n == 1)
			t1 = e->now;
	}
	assert_int_equal(t1, 113);
	assert_int_equal(stats(e).flush_finish_cnt, 3000);
	/* CPUs 1 and 2 free theirs thousands of flushes later. */
	e->now += 10;
	queue(e, 1, 1000001, 1);
	queue(e, 2, 2000001, 1);
	assert_true(was_freed(e, 1000000) && was_freed(e, 2000000));
	all = malloc(3002 * sizeof(*all));
	assert_non_null(all);
	for (n = 0; n < 3000; n++)
		all[n] = 13;
	all[3000] = t1 - 100; /* finish of flush 1 - queue time of 1000000 */
	all[3001] = 100 + 13 * 2500 - t2; /* finish of flush 2500 */
	assert_int_equal(all[3001], 3);
	expect_exposures(e, all, 3002);
	free(all);
	env_free(e);
}

static void
test_flush_queue_exposure_time_lost_without_memory(void **state)
{
	struct env *e = env_new(false, 2, 1, 10, false);
	struct iommusim_fq_stats st;
	uint64_t n;

	/* Flushes 1..1024 fit the first segment of finish times. */
	queue(e, 0, 0, 1);
	for (n = 1; n <= 1024; n++)
		queue(e, 0, n, 1);
	assert_int_equal(exposure(e).count, 1024);
	/* Flush 1025 needs a new segment: make that allocation fail. */
	ims_mem_fault_inject(1, 1);
	queue(e, 0, 1025, 1);
	ims_mem_fault_inject(0, 0);
	st = stats(e);
	assert_int_equal(st.flush_finish_cnt, 1025);
	assert_int_equal(st.freed_entries, 1025); /* freed all the same */
	assert_int_equal(exposure(e).count, 1024); /* but not measured */
	/* The next flush gets the segment; flush 1025's time stays unknown. */
	queue(e, 0, 1026, 1);
	assert_int_equal(stats(e).freed_entries, 1026);
	assert_int_equal(exposure(e).count, 1025);
	env_free(e);
}

/* ------------------------------------------------------------------------ */
/* Timeline mode: the counters as of the caller's time */

/* Per-CPU rings of 4 (3 entries each) on 2 CPUs, each CPU on its own clock;
 * a flush takes 100 ns on the CPU that runs it. */
static struct env *
env_timeline(bool timeline)
{
	const struct ims_fq_cfg cfg = {
		.size = 4,
		.timeout_ms = 10,
		.ncpus = 2,
		.timeline = timeline,
	};
	struct env *e = env_create(cfg, false);

	e->flush_delay = 100;
	return e;
}

/* CPU @cpu, its clock at @t, queues the one page @pfn. */
static void
queue_at(struct env *e, unsigned cpu, uint64_t t, uint64_t pfn)
{
	e->clock[cpu] = t;
	ims_fq_queue_iova(e->fq, pfn, 1, &e->cctx[cpu]);
}

/*
 * CPU 1 fills its ring at 10, 11, 12 and CPU 0 its own at 20, 21, 22; CPU 0's
 * 4th entry (at 100) finds its ring full and flushes from 100 to 200, which
 * frees 20, 21, 22 at 200. Then CPU 1, at 150 (inside that flush, which the
 * host has already run to its end), queues 13.
 */
static void
flush_in_flight_while_ring_fills(struct env *e)
{
	queue_at(e, 1, 10, 10);
	queue_at(e, 1, 11, 11);
	queue_at(e, 1, 12, 12);
	queue_at(e, 0, 20, 20);
	queue_at(e, 0, 21, 21);
	queue_at(e, 0, 22, 22);
	queue_at(e, 0, 100, 23);
	assert_int_equal(e->flushes_begun, 1);
	assert_int_equal(e->flush_at[0], 100);
	assert_int_equal(e->clock[0], 200);
	assert_int_equal(e->nfrees, 3);
	assert_int_equal(free_of(e, 20)->at_ns, 200);
	assert_int_equal(free_of(e, 22)->at_ns, 200);
	assert_false(was_freed(e, 10));
	queue_at(e, 1, 150, 13);
}

static void
test_flush_queue_timeline_unfinished_flush_frees_nothing(void **state)
{
	struct env *e = env_timeline(true);
	struct iommusim_fq_stats st;
	unsigned i;

	flush_in_flight_while_ring_fills(e);
	/* At 150 CPU 0's flush has not finished: CPU 1 frees nothing, finds
	 * its ring full and flushes itself, from 150 to 250. */
	st = stats(e);
	assert_int_equal(st.full_flushes, 2);
	assert_int_equal(st.flush_start_cnt, 2);
	assert_int_equal(st.flush_finish_cnt, 2);
	assert_int_equal(e->flushes_begun, 2);
	assert_int_equal(e->flush_at[1], 150);
	assert_ptr_equal(e->last_flush_ctx, &e->cctx[1]);
	assert_int_equal(e->clock[1], 250);
	/* Then its entries go, at 250 on CPU 1, after the two flushes. */
	assert_int_equal(e->nfrees, 6);
	for (i = 0; i < 3; i++) {
		const struct free_rec *r = &e->frees[3 + i];

		assert_int_equal(r->pfn, 10 + i);
		assert_int_equal(r->at_ns, 250);
		assert_ptr_equal(r->ctx, &e->cctx[1]);
		assert_int_equal(r->finish_cnt, 2);
	}
	assert_false(was_freed(e, 13));
	assert_int_equal(st.entries_now, 2); /* 23 and 13 */
	assert_int_equal(st.freed_entries, 6);
	/* Exposure ends when a flush started after the unmap has finished:
	 * CPU 0's, at 200, for every entry (CPU 1's were queued before it
	 * started), although CPU 1 frees its own only at 250. */
	{
		const uint64_t want[] = {
			200 - 20, 200 - 21, 200 - 22, 200 - 10, 200 - 11, 200 - 12
		};

		expect_exposures(e, want, 6);
	}
	env_free(e);
}

static void
test_flush_queue_no_timeline_frees_at_once_without_second_flush(void **state)
{
	struct env *e = env_timeline(false);
	struct iommusim_fq_stats st;
	unsigned i;

	flush_in_flight_while_ring_fills(e);
	/* The atomics already count CPU 0's flush: CPU 1 frees at 150, before
	 * that flush's finish at 200, and has room without a flush of its own. */
	st = stats(e);
	assert_int_equal(st.full_flushes, 1);
	assert_int_equal(st.flush_start_cnt, 1);
	assert_int_equal(st.flush_finish_cnt, 1);
	assert_int_equal(e->flushes_begun, 1);
	assert_int_equal(e->clock[1], 150);
	assert_int_equal(e->nfrees, 6);
	for (i = 0; i < 3; i++) {
		assert_int_equal(e->frees[3 + i].pfn, 10 + i);
		assert_int_equal(e->frees[3 + i].at_ns, 150);
		assert_ptr_equal(e->frees[3 + i].ctx, &e->cctx[1]);
	}
	assert_int_equal(st.entries_now, 2);
	env_free(e);
}

static void
test_flush_queue_timeline_entry_after_flush_start_waits_for_next(void **state)
{
	struct env *e = env_timeline(true);
	struct iommusim_fq_stats st;

	queue_at(e, 0, 1, 1);
	queue_at(e, 0, 2, 2);
	queue_at(e, 0, 3, 3);
	queue_at(e, 0, 100, 4); /* flush 1: 100..200, frees 1, 2, 3; 4 at 200 */
	assert_int_equal(e->nfrees, 3);
	/* Queued at 150: one flush had started by then, so its counter is 1. */
	queue_at(e, 1, 150, 50);
	/* At 300 flush 1 has finished (finish count 1), which is not above 1. */
	queue_at(e, 1, 300, 51);
	assert_false(was_freed(e, 50));
	assert_true(ims_fq_holds(e->fq, 50));
	assert_int_equal(stats(e).flush_start_cnt, 1);
	/* The next flush, a timeout on CPU 1 from 400 to 500, frees it. */
	e->clock[1] = 400;
	ims_fq_timeout(e->fq, &e->cctx[1]);
	assert_int_equal(e->flush_at[1], 400);
	assert_int_equal(free_of(e, 50)->at_ns, 500);
	assert_int_equal(free_of(e, 50)->finish_cnt, 2);
	assert_int_equal(free_of(e, 51)->at_ns, 500);
	assert_int_equal(free_of(e, 4)->at_ns, 500);
	st = stats(e);
	assert_int_equal(st.entries_now, 0);
	assert_int_equal(st.timer_flushes, 1);
	assert_int_equal(st.full_flushes, 1);
	{
		/* 1..3 to 200; 4 (at 200), 50 (150), 51 (300) to 500 */
		const uint64_t want[] = { 199, 198, 197, 500 - 200, 500 - 150, 500 - 300 };

		expect_exposures(e, want, 6);
	}
	env_free(e);
}

static void
test_flush_queue_timeline_counts_flushes_by_time_not_host_order(void **state)
{
	int timeline;

	for (timeline = 0; timeline < 2; timeline++) {
		struct env *e = env_timeline(timeline);

		queue_at(e, 0, 1, 1);
		queue_at(e, 0, 2, 2);
		queue_at(e, 0, 3, 3);
		queue_at(e, 0, 100, 4); /* flush 1: 100..200 */
		/* CPU 1 runs after that flush in host order, but at 50: the
		 * flush started after this unmap. */
		queue_at(e, 1, 50, 60);
		assert_false(was_freed(e, 60));
		queue_at(e, 1, 300, 61);
		if (timeline) {
			/* counter 0 (no flush started by 50), finish count 1 at 300 */
			assert_int_equal(free_of(e, 60)->at_ns, 300);
			assert_int_equal(stats(e).entries_now, 2); /* 4 and 61 */
			{
				const uint64_t want[] = { 199, 198, 197, 200 - 50 };

				expect_exposures(e, want, 4);
			}
		} else {
			/* counter = start_cnt = 1 when it was queued: waits */
			assert_false(was_freed(e, 60));
			assert_int_equal(stats(e).entries_now, 3);
		}
		assert_false(was_freed(e, 61));
		assert_int_equal(stats(e).flush_start_cnt, 1);
		env_free(e);
	}
}

/* ------------------------------------------------------------------------ */
/* Occupancy, holds, teardown, arguments */

static void
test_flush_queue_occupancy_and_high_water(void **state)
{
	struct env *e = env_new(false, 8, 3, 10, true);
	struct iommusim_fq_stats st;

	queue(e, 0, 0x100, 16);
	queue(e, 1, 0x200, 1);
	queue(e, 2, 0x300, 2);
	queue(e, 2, 0x400, 3);
	st = stats(e);
	assert_int_equal(st.queued, 4);
	assert_int_equal(st.entries_now, 4);
	assert_int_equal(st.pages_now, 22);
	assert_int_equal(st.max_entries, 4);
	assert_int_equal(st.max_pages, 22);
	fire(e);
	queue(e, 1, 0x500, 5);
	st = stats(e);
	assert_int_equal(st.entries_now, 1);
	assert_int_equal(st.pages_now, 5);
	assert_int_equal(st.max_entries, 4); /* high-water marks stay */
	assert_int_equal(st.max_pages, 22);
	assert_int_equal(st.freed_entries, 4);
	assert_int_equal(st.freed_pages, 22);
	assert_int_equal(st.queued, st.freed_entries + st.entries_now);
	env_free(e);
}

static void
test_flush_queue_holds(void **state)
{
	struct env *e = env_new(false, 8, 2, 10, true);

	assert_false(ims_fq_holds(e->fq, 0x100));
	queue(e, 0, 0x100, 4);
	queue(e, 1, 0x200, 1);
	assert_false(ims_fq_holds(e->fq, 0xff));
	assert_true(ims_fq_holds(e->fq, 0x100));
	assert_true(ims_fq_holds(e->fq, 0x103));
	assert_false(ims_fq_holds(e->fq, 0x104));
	assert_true(ims_fq_holds(e->fq, 0x200));
	assert_false(ims_fq_holds(e->fq, 0x201));
	fire(e);
	assert_false(ims_fq_holds(e->fq, 0x100));
	assert_false(ims_fq_holds(e->fq, 0x200));
	/* An entry at the top of the pfn space. */
	queue(e, 0, UINT64_MAX, 1);
	assert_true(ims_fq_holds(e->fq, UINT64_MAX));
	assert_false(ims_fq_holds(e->fq, 0));
	env_free(e);
}

static void
test_flush_queue_destroy_keeps_queued_iovas(void **state)
{
	struct env *e = env_new(false, 8, 2, 10, true);

	queue(e, 0, 1, 1);
	queue(e, 1, 2, 1);
	queue(e, 1, 3, 1);
	ims_fq_destroy(e->fq);
	e->fq = NULL;
	assert_int_equal(e->nfrees, 0); /* no free_iova */
	assert_int_equal(e->flushes_begun, 0);
	assert_int_equal(e->cancels, 1);
	assert_false(e->armed);
	ims_fq_destroy(NULL);
	env_free(e);
}

static void
test_flush_queue_create_rejects_bad_args(void **state)
{
	static const uint32_t bad_sizes[] = { 0,
					      1,
					      3,
					      6,
					      255,
					      257,
					      1u << 31,
					      IOMMUSIM_FQ_MAX_SIZE * 2,
					      IOMMUSIM_FQ_MAX_SIZE + 1,
					      UINT32_MAX };
	static const struct ims_fq_ops no_flush = { .free_iova = mock_free };
	static const struct ims_fq_ops no_free = { .flush_iotlb_all = mock_flush };
	static const struct iommusim_dma_timer_ops no_arm = { .cancel = timer_cancel };
	struct ims_fq_cfg cfg = { .size = 256, .timeout_ms = 10, .ncpus = 4, .ops = &mock_ops };
	struct ims_fq *fq = (struct ims_fq *)&fq, *sentinel = (struct ims_fq *)&fq;
	size_t i;
	int single;

	for (single = 0; single < 2; single++) {
		cfg.single = single;
		for (i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
			cfg.size = bad_sizes[i];
			assert_int_equal(ims_fq_create(&cfg, &fq), -EINVAL);
			assert_ptr_equal(fq, sentinel);
		}
		cfg.size = 256;
		cfg.ncpus = 0;
		assert_int_equal(ims_fq_create(&cfg, &fq), -EINVAL);
		cfg.ncpus = 4;
		cfg.ops = NULL;
		assert_int_equal(ims_fq_create(&cfg, &fq), -EINVAL);
		cfg.ops = &no_flush;
		assert_int_equal(ims_fq_create(&cfg, &fq), -EINVAL);
		cfg.ops = &no_free;
		assert_int_equal(ims_fq_create(&cfg, &fq), -EINVAL);
		cfg.ops = &mock_ops;
		cfg.timer = &no_arm;
		assert_int_equal(ims_fq_create(&cfg, &fq), -EINVAL);
		cfg.timer = NULL;
		assert_ptr_equal(fq, sentinel);
	}
	assert_int_equal(ims_fq_create(NULL, &fq), -EINVAL);
	assert_int_equal(ims_fq_create(&cfg, NULL), -EINVAL);
	/* The smallest ring and a timer without cancel are fine. */
	cfg.size = 2;
	cfg.timer = &(const struct iommusim_dma_timer_ops){ .arm = timer_arm };
	assert_int_equal(ims_fq_create(&cfg, &fq), 0);
	ims_fq_destroy(fq);
}

static void
test_flush_queue_create_enomem_each_allocation(void **state)
{
	int single;

	for (single = 0; single < 2; single++) {
		struct ims_fq_cfg cfg = { .single = single,
					  .size = 64,
					  .timeout_ms = 10,
					  .ncpus = 3,
					  .ops = &mock_ops,
					  .timer = &fake_timer };
		struct ims_fq *fq = NULL;
		struct env e;
		uint64_t n, nth;

		memset(&e, 0, sizeof(e));
		cfg.priv = &e;
		cfg.timer_priv = &e;
		ims_mem_fault_inject(0, 0);
		assert_int_equal(ims_fq_create(&cfg, &fq), 0);
		n = ims_mem_attempts();
		ims_fq_destroy(fq);
		/* struct, ring table, rings, first time segment, histogram */
		assert_int_equal(n, 4 + (single ? 1 : 3));
		for (nth = 1; nth <= n; nth++) {
			fq = (struct ims_fq *)&e;
			ims_mem_fault_inject(nth, 1);
			assert_int_equal(ims_fq_create(&cfg, &fq), -ENOMEM);
			ims_mem_fault_inject(0, 0);
			assert_ptr_equal(fq, (struct ims_fq *)&e);
		}
		/* a failed create arms and cancels nothing */
		assert_int_equal(e.cancels, 1);
	}
}

/* ------------------------------------------------------------------------ */
/*
 * Property test: random operations against a literal model of §2.3/§2.4.
 * The implementation's callbacks and the model append events to two logs,
 * which must be identical after every operation; the mock free_iova also
 * checks the safety rule on its own.
 */

enum ev_kind { EV_BEGIN = 1, EV_END, EV_FREE, EV_ARM };

struct ev {
	enum ev_kind kind;
	uint64_t a, b;
	unsigned cpu;
};

struct evlog {
	struct ev *v;
	size_t n, cap;
};

static void
ev_add(struct evlog *l, enum ev_kind kind, uint64_t a, uint64_t b, unsigned cpu)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		assert_non_null(l->v);
	}
	l->v[l->n++] = (struct ev){ kind, a, b, cpu };
}

#define P_CPUS 4
#define P_TIMEOUT_MS 3

struct p_rec {
	uint64_t counter; /* start_cnt seen right after queue_iova */
	uint64_t pages;
	bool queued, freed;
};

struct mentry {
	uint64_t pfn, pages, counter, qns;
};

struct mring {
	struct mentry *e; /* FIFO of at most size - 1 */
	uint32_t head, n;
};

struct pstate {
	/* configuration */
	bool single;
	uint32_t size;
	uint64_t seed;

	/* the implementation side */
	struct ims_fq *fq;
	uint64_t now;
	struct iommusim_ctx ctx[P_CPUS];
	struct evlog got;
	uint64_t begun, completed_max, depth;
	bool in_timeout;
	bool timer_armed;
	uint64_t timer_expires;
	struct p_rec *rec;
	size_t nrec;

	/* the model */
	struct mring ring[P_CPUS];
	uint64_t m_now, m_start, m_finish, *m_ftime;
	size_t m_ftime_cap;
	bool m_timer_on, m_in_timeout;
	uint64_t m_depth;
	struct iommusim_fq_stats m_st;
	struct iommusim_hist *m_exposure;
	struct evlog want;
};

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	return x ^ (x >> 33);
}

static uint64_t
rnd(uint64_t *s)
{
	*s += UINT64_C(0x9e3779b97f4a7c15);
	return mix(*s);
}

/* How long flush @n takes. */
static uint64_t
flush_len(const struct pstate *p, uint64_t n)
{
	return 1 + mix(p->seed ^ (n * 7)) % 4000;
}

/*
 * Whether flush @n (begun by a CPU whose ring is locked, unless in a
 * timeout) queues an entry from its callback, and on which CPU: only at
 * depth 0, never onto the locked ring.
 */
static bool
nest_target(const struct pstate *p, uint64_t n, bool in_timeout, unsigned flusher, unsigned *cpu)
{
	uint64_t h = mix(p->seed + n * 13);

	if (h % 5)
		return false;
	*cpu = (unsigned)((h >> 8) % P_CPUS);
	if (in_timeout)
		return true;
	if (p->single)
		return false; /* the single ring is locked */
	return *cpu != flusher;
}

/* pfns are 16 apart (at most 9 pages each): a record per pfn >> 4. */
#define P_SHIFT 4

static uint64_t
nest_pfn(uint64_t n)
{
	return (2 * n + 1) << P_SHIFT;
}

static uint64_t
nest_pages(uint64_t n)
{
	return 1 + n % 7;
}

static void p_queue(struct pstate *p, unsigned cpu, uint64_t pfn, uint64_t pages);

static uint64_t
p_now(void *priv)
{
	return ((struct pstate *)priv)->now;
}

static const struct iommusim_ctx_ops p_ctx_ops = { .now_ns = p_now };

static void
p_flush(void *priv, const struct iommusim_ctx *ctx)
{
	struct pstate *p = priv;
	uint64_t n = ++p->begun;
	unsigned cpu;

	ev_add(&p->got, EV_BEGIN, n, 0, ctx->cpu);
	if (!p->depth && nest_target(p, n, p->in_timeout, ctx->cpu, &cpu)) {
		bool saved = p->in_timeout;

		p->depth++;
		p->in_timeout = false;
		p_queue(p, cpu, nest_pfn(n), nest_pages(n));
		p->in_timeout = saved;
		p->depth--;
	}
	p->now += flush_len(p, n);
	if (n > p->completed_max)
		p->completed_max = n;
	ev_add(&p->got, EV_END, n, 0, ctx->cpu);
}

static void
p_free(void *priv, uint64_t pfn, uint64_t pages, const struct iommusim_ctx *ctx)
{
	struct pstate *p = priv;
	struct iommusim_fq_stats st;
	struct p_rec *r;

	assert_true((pfn >> P_SHIFT) < p->nrec);
	r = &p->rec[pfn >> P_SHIFT];
	/* freed exactly once, with its pages */
	assert_true(r->queued);
	assert_false(r->freed);
	assert_int_equal(r->pages, pages);
	r->freed = true;
	/* the free rule: finish_cnt > counter, and a flush that began after
	 * the entry was queued has completed */
	ims_fq_stats(p->fq, &st);
	assert_true(st.flush_finish_cnt > r->counter);
	assert_true(p->completed_max > r->counter);
	ev_add(&p->got, EV_FREE, pfn, pages, ctx->cpu);
}

static const struct ims_fq_ops p_ops = { .flush_iotlb_all = p_flush, .free_iova = p_free };

static void
p_arm(void *priv, uint64_t expires_ns)
{
	struct pstate *p = priv;

	assert_false(p->timer_armed);
	p->timer_armed = true;
	p->timer_expires = expires_ns;
	ev_add(&p->got, EV_ARM, expires_ns, 0, 0);
}

static const struct iommusim_dma_timer_ops p_timer = { .arm = p_arm };

static void
p_queue(struct pstate *p, unsigned cpu, uint64_t pfn, uint64_t pages)
{
	struct iommusim_fq_stats st;

	struct p_rec *r;

	assert_true((pfn >> P_SHIFT) < p->nrec);
	r = &p->rec[pfn >> P_SHIFT];
	assert_false(r->queued);
	r->queued = true;
	r->pages = pages;
	ims_fq_queue_iova(p->fq, pfn, pages, &p->ctx[cpu]);
	ims_fq_stats(p->fq, &st);
	r->counter = st.flush_start_cnt;
}

/* ---- the model: §2.3 and §2.4, written out plainly ---- */

static void m_queue(struct pstate *p, unsigned cpu, uint64_t pfn, uint64_t pages);

static void
m_free_ring(struct pstate *p, struct mring *r, unsigned ctx_cpu)
{
	uint64_t finish = p->m_finish;

	while (r->n) {
		struct mentry *e = &r->e[r->head];

		if (e->counter >= finish)
			break;
		iommusim_hist_record(p->m_exposure, p->m_ftime[e->counter + 1] - e->qns);
		ev_add(&p->want, EV_FREE, e->pfn, e->pages, ctx_cpu);
		p->m_st.freed_entries++;
		p->m_st.freed_pages += e->pages;
		p->m_st.entries_now--;
		p->m_st.pages_now -= e->pages;
		r->head = (r->head + 1) % (p->size - 1);
		r->n--;
	}
}

static void
m_flush(struct pstate *p, unsigned ctx_cpu)
{
	uint64_t n = ++p->m_start;
	unsigned cpu;

	ev_add(&p->want, EV_BEGIN, n, 0, ctx_cpu);
	if (!p->m_depth && nest_target(p, n, p->m_in_timeout, ctx_cpu, &cpu)) {
		bool saved = p->m_in_timeout;

		p->m_depth++;
		p->m_in_timeout = false;
		m_queue(p, cpu, nest_pfn(n), nest_pages(n));
		p->m_in_timeout = saved;
		p->m_depth--;
	}
	p->m_now += flush_len(p, n);
	ev_add(&p->want, EV_END, n, 0, ctx_cpu);
	p->m_finish++;
	if (p->m_finish >= p->m_ftime_cap) {
		p->m_ftime_cap = 2 * p->m_ftime_cap + 64;
		p->m_ftime = realloc(p->m_ftime, p->m_ftime_cap * sizeof(*p->m_ftime));
		assert_non_null(p->m_ftime);
	}
	p->m_ftime[p->m_finish] = p->m_now;
}

static void
m_queue(struct pstate *p, unsigned cpu, uint64_t pfn, uint64_t pages)
{
	struct mring *r = &p->ring[p->single ? 0 : cpu];
	struct mentry *e;

	m_free_ring(p, r, cpu);
	while (r->n == p->size - 1) {
		p->m_st.full_flushes++;
		m_flush(p, cpu);
		m_free_ring(p, r, cpu);
	}
	e = &r->e[(r->head + r->n) % (p->size - 1)];
	r->n++;
	*e = (struct mentry){ pfn, pages, p->m_start, p->m_now };
	p->m_st.queued++;
	p->m_st.entries_now++;
	p->m_st.pages_now += pages;
	if (p->m_st.entries_now > p->m_st.max_entries)
		p->m_st.max_entries = p->m_st.entries_now;
	if (p->m_st.pages_now > p->m_st.max_pages)
		p->m_st.max_pages = p->m_st.pages_now;
	if (!p->m_timer_on) {
		p->m_timer_on = true;
		p->m_st.timer_arms++;
		ev_add(&p->want, EV_ARM, p->m_now + P_TIMEOUT_MS * MS, 0, 0);
	}
}

static void
m_timeout(struct pstate *p, unsigned ctx_cpu)
{
	unsigned i;

	p->m_timer_on = false;
	p->m_st.timer_flushes++;
	p->m_in_timeout = true;
	m_flush(p, ctx_cpu);
	p->m_in_timeout = false;
	for (i = 0; i < (p->single ? 1u : P_CPUS); i++)
		m_free_ring(p, &p->ring[i], ctx_cpu);
}

static void
p_compare(struct pstate *p, uint64_t step)
{
	struct iommusim_fq_stats st;
	size_t i;

	if (p->got.n != p->want.n)
		fail_msg("seed %" PRIu64 " step %" PRIu64 ": %zu events, model %zu", p->seed, step,
			 p->got.n, p->want.n);
	for (i = 0; i < p->got.n; i++) {
		const struct ev *g = &p->got.v[i], *w = &p->want.v[i];

		if (g->kind != w->kind || g->a != w->a || g->b != w->b || g->cpu != w->cpu)
			fail_msg("seed %" PRIu64 " step %" PRIu64 " event %zu: got %d %" PRIu64
				 " %" PRIu64 " cpu %u, model %d %" PRIu64 " %" PRIu64 " cpu %u",
				 p->seed, step, i, g->kind, g->a, g->b, g->cpu, w->kind, w->a, w->b,
				 w->cpu);
	}
	p->got.n = p->want.n = 0;
	assert_int_equal(p->now, p->m_now);
	ims_fq_stats(p->fq, &st);
	p->m_st.flush_start_cnt = p->m_start;
	p->m_st.flush_finish_cnt = p->m_finish;
	if (memcmp(&st, &p->m_st, sizeof(st)))
		fail_msg("seed %" PRIu64 " step %" PRIu64 ": stats differ from the model", p->seed,
			 step);
	/* pages are conserved */
	assert_int_equal(st.freed_entries + st.entries_now, st.queued);
}

static void
p_run(bool single, uint32_t size, uint64_t seed, unsigned nops)
{
	struct pstate *p = calloc(1, sizeof(*p));
	struct ims_fq_cfg cfg = { .single = single,
				  .size = size,
				  .timeout_ms = P_TIMEOUT_MS,
				  .ncpus = P_CPUS,
				  .ops = &p_ops,
				  .timer = &p_timer };
	struct iommusim_ctx tctx;
	uint64_t step, next_pfn = 2, rs = seed;
	unsigned i;
	struct bucket_list *ba, *bb;

	assert_non_null(p);
	p->single = single;
	p->size = size;
	p->seed = seed;
	p->nrec = 8 * (size_t)nops + 64;
	p->rec = calloc(p->nrec, sizeof(*p->rec));
	assert_non_null(p->rec);
	cfg.priv = p;
	cfg.timer_priv = p;
	for (i = 0; i < P_CPUS; i++) {
		p->ctx[i] = (struct iommusim_ctx){ &p_ctx_ops, p, i };
		p->ring[i].e = calloc(size, sizeof(struct mentry));
		assert_non_null(p->ring[i].e);
	}
	assert_int_equal(ims_fq_create(&cfg, &p->fq), 0);
	assert_int_equal(iommusim_hist_create(0, &p->m_exposure), 0);

	for (step = 0; step < nops; step++) {
		uint64_t r = rnd(&rs) % 1000;
		unsigned cpu = (unsigned)(rnd(&rs) % P_CPUS);

		/* time passes: mostly a little, sometimes past the timer */
		uint64_t dt = r < 950 ? rnd(&rs) % 3000 : rnd(&rs) % (5 * MS);

		p->now += dt;
		p->m_now += dt;
		tctx = (struct iommusim_ctx){ &p_ctx_ops, p, cpu };
		if ((p->timer_armed && p->now >= p->timer_expires) || r < 10) {
			/* the timer fires (or the caller runs the timeout anyway) */
			p->timer_armed = false;
			p->in_timeout = true;
			ims_fq_timeout(p->fq, &tctx);
			p->in_timeout = false;
			m_timeout(p, cpu);
		} else {
			uint64_t pages = 1 + rnd(&rs) % 9;

			p_queue(p, cpu, next_pfn << P_SHIFT, pages);
			m_queue(p, cpu, next_pfn << P_SHIFT, pages);
			next_pfn += 2;
		}
		p_compare(p, step);
		if (step % 512 == 0) {
			/* holds(): every model entry, and some freed pfns */
			unsigned k;

			for (k = 0; k < P_CPUS; k++) {
				const struct mring *mr = &p->ring[k];
				uint32_t j;

				for (j = 0; j < mr->n && j < 8; j++) {
					const struct mentry *e =
						&mr->e[(mr->head + j) % (size - 1)];

					assert_true(ims_fq_holds(p->fq, e->pfn));
					assert_true(ims_fq_holds(p->fq, e->pfn + e->pages - 1));
				}
			}
			for (k = 0; k < 8; k++) {
				uint64_t i2 = 2 + 2 * (rnd(&rs) % (next_pfn / 2));

				if (i2 < next_pfn && p->rec[i2].freed) {
					assert_false(ims_fq_holds(p->fq, i2 << P_SHIFT));
					assert_false(ims_fq_holds(p->fq, (i2 << P_SHIFT) + 8));
				}
			}
		}
	}
	/* Drain: a final timeout frees everything, each IOVA exactly once. */
	tctx = (struct iommusim_ctx){ &p_ctx_ops, p, 0 };
	p->timer_armed = false;
	p->in_timeout = true;
	ims_fq_timeout(p->fq, &tctx);
	p->in_timeout = false;
	m_timeout(p, 0);
	/* a final timeout may nest one more entry: go on until empty */
	for (i = 0; p->m_st.entries_now && i < 100; i++) {
		p->timer_armed = false;
		p->in_timeout = true;
		ims_fq_timeout(p->fq, &tctx);
		p->in_timeout = false;
		m_timeout(p, 0);
	}
	p_compare(p, step);
	print_message("#   %" PRIu64 " queued, %" PRIu64 " full flushes, %" PRIu64
		      " timer flushes, max %" PRIu64 " entries\n",
		      p->m_st.queued, p->m_st.full_flushes, p->m_st.timer_flushes,
		      p->m_st.max_entries);
	for (step = 0; step < p->nrec; step++)
		assert_true(p->rec[step].queued == p->rec[step].freed);
	assert_int_equal(p->m_st.entries_now, 0);
	assert_int_equal(p->m_st.pages_now, 0);

	/* exposure histogram = the model's, bucket for bucket */
	ba = calloc(1, sizeof(*ba));
	bb = calloc(1, sizeof(*bb));
	assert_non_null(ba);
	assert_non_null(bb);
	assert_int_equal(iommusim_hist_for_each(ims_fq_exposure(p->fq), collect_bucket, ba), 0);
	assert_int_equal(iommusim_hist_for_each(p->m_exposure, collect_bucket, bb), 0);
	assert_int_equal(ba->n, bb->n);
	assert_memory_equal(ba->lo, bb->lo, sizeof(ba->lo));
	assert_memory_equal(ba->count, bb->count, sizeof(ba->count));
	{
		struct iommusim_hist_summary a, b;

		assert_int_equal(iommusim_hist_summary_get(ims_fq_exposure(p->fq), &a), 0);
		assert_int_equal(iommusim_hist_summary_get(p->m_exposure, &b), 0);
		assert_int_equal(a.count, p->m_st.freed_entries);
		assert_int_equal(a.count, b.count);
		assert_int_equal(a.min, b.min);
		assert_int_equal(a.max, b.max);
		assert_true(a.mean == b.mean);
	}
	free(ba);
	free(bb);

	ims_fq_destroy(p->fq);
	iommusim_hist_destroy(p->m_exposure);
	for (i = 0; i < P_CPUS; i++)
		free(p->ring[i].e);
	free(p->rec);
	free(p->m_ftime);
	free(p->got.v);
	free(p->want.v);
	free(p);
}

static void
test_flush_queue_property_vs_model(void **state)
{
	static const struct {
		bool single;
		uint32_t size;
	} cfgs[] = { { false, 2 }, { false, 4 }, { false, 16 },	 { false, 256 },
		     { true, 2 },  { true, 8 },	 { true, 1024 }, { true, 32768 } };
	static const uint64_t seeds[] = { 1, 0xdecafbad, 20240607 };
	size_t i, j;
	unsigned total = 0;

	for (i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
		for (j = 0; j < sizeof(seeds) / sizeof(seeds[0]); j++) {
			print_message("# property: %s size %u seed %" PRIu64 "\n",
				      cfgs[i].single ? "single" : "per-cpu", cfgs[i].size,
				      seeds[j]);
			p_run(cfgs[i].single, cfgs[i].size, seeds[j], 5000);
			total += 5000;
		}
	}
	assert_true(total >= 100000);
}

/* ------------------------------------------------------------------------ */
/* Concurrency: 4 queueing threads on their own CPUs, a 5th firing timeouts. */

#define CT_THREADS 4
#define CT_ITERS 20000

struct ct {
	struct ims_fq *fq;
	_Atomic uint64_t clock;
	_Atomic uint64_t begun, completed;
	_Atomic unsigned *freed; /* per pfn */
	uint64_t *done_before; /* per pfn: flushes completed before its queueing */
	_Atomic uint64_t bad_frees, double_arms, arms;
	atomic_bool armed;
	atomic_int workers_left;
	struct iommusim_ctx ctx[CT_THREADS + 1];
	struct iommusim_ctx_ops ops;
	unsigned id[CT_THREADS];
};

static uint64_t
ct_now(void *priv)
{
	struct ct *c = priv;

	return atomic_fetch_add_explicit(&c->clock, 1, memory_order_relaxed);
}

static void
ct_flush(void *priv, const struct iommusim_ctx *ctx)
{
	struct ct *c = priv;

	atomic_fetch_add(&c->begun, 1);
	atomic_fetch_add(&c->completed, 1);
}

static void
ct_free(void *priv, uint64_t pfn, uint64_t pages, const struct iommusim_ctx *ctx)
{
	struct ct *c = priv;

	if (atomic_fetch_add(&c->freed[pfn], 1) != 0)
		atomic_fetch_add(&c->bad_frees, 1);
	/* a flush completed after the queueing call began (one that began
	 * after it: completed >= finish_cnt > counter >= done_before) */
	if (atomic_load(&c->completed) <= c->done_before[pfn])
		atomic_fetch_add(&c->bad_frees, 1);
	if (pages != 1 + pfn % 3)
		atomic_fetch_add(&c->bad_frees, 1);
}

static const struct ims_fq_ops ct_ops = { .flush_iotlb_all = ct_flush, .free_iova = ct_free };

static void
ct_arm(void *priv, uint64_t expires_ns)
{
	struct ct *c = priv;

	if (atomic_exchange(&c->armed, true))
		atomic_fetch_add(&c->double_arms, 1);
	atomic_fetch_add(&c->arms, 1);
}

static const struct iommusim_dma_timer_ops ct_timer = { .arm = ct_arm };

struct ct_thread {
	struct ct *c;
	unsigned cpu;
};

static void *
ct_worker(void *arg)
{
	struct ct_thread *t = arg;
	struct ct *c = t->c;
	uint64_t i;

	for (i = 0; i < CT_ITERS; i++) {
		uint64_t pfn = 1 + t->cpu * CT_ITERS + i;

		c->done_before[pfn] = atomic_load(&c->completed);
		ims_fq_queue_iova(c->fq, pfn, 1 + pfn % 3, &c->ctx[t->cpu]);
		if (i % 128 == 0)
			sched_yield(); /* let the timer thread in */
	}
	atomic_fetch_sub(&c->workers_left, 1);
	return NULL;
}

static void *
ct_timer_thread(void *arg)
{
	struct ct *c = arg;
	unsigned spins = 0;

	while (atomic_load(&c->workers_left) > 0 && spins < 1000000) {
		/* Fire when armed, as a timer does: disarmed before the
		 * timeout clears fq_timer_on, so it is never armed twice. (An
		 * early timeout could race with a queue_iova between its
		 * exchange and its arm call, which a real timer never does.) */
		if (atomic_exchange(&c->armed, false))
			ims_fq_timeout(c->fq, &c->ctx[CT_THREADS]);
		else
			sched_yield();
		spins++;
	}
	return NULL;
}

static void
ct_run(bool single, uint32_t size)
{
	struct ct *c = calloc(1, sizeof(*c));
	struct ims_fq_cfg cfg = { .single = single,
				  .size = size,
				  .timeout_ms = 1,
				  .ncpus = CT_THREADS,
				  .ops = &ct_ops,
				  .timer = &ct_timer };
	struct ct_thread th[CT_THREADS];
	pthread_t tid[CT_THREADS + 1];
	struct iommusim_fq_stats st;
	struct iommusim_hist_summary hs;
	uint64_t npfn = 1 + (uint64_t)CT_THREADS * CT_ITERS, pfn, pages = 0;
	unsigned i;

	assert_non_null(c);
	c->freed = calloc(npfn, sizeof(*c->freed));
	c->done_before = calloc(npfn, sizeof(*c->done_before));
	assert_non_null(c->freed);
	assert_non_null(c->done_before);
	c->ops.now_ns = ct_now;
	for (i = 0; i <= CT_THREADS; i++)
		c->ctx[i] = (struct iommusim_ctx){ &c->ops, c, i % CT_THREADS };
	atomic_store(&c->workers_left, CT_THREADS);
	cfg.priv = c;
	cfg.timer_priv = c;
	assert_int_equal(ims_fq_create(&cfg, &c->fq), 0);

	assert_int_equal(pthread_create(&tid[CT_THREADS], NULL, ct_timer_thread, c), 0);
	for (i = 0; i < CT_THREADS; i++) {
		th[i] = (struct ct_thread){ c, i };
		assert_int_equal(pthread_create(&tid[i], NULL, ct_worker, &th[i]), 0);
	}
	for (i = 0; i <= CT_THREADS; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);

	ims_fq_timeout(c->fq, &c->ctx[0]); /* the final drain */
	ims_fq_stats(c->fq, &st);
	assert_int_equal(atomic_load(&c->bad_frees), 0);
	assert_int_equal(atomic_load(&c->double_arms), 0);
	for (pfn = 1; pfn < npfn; pfn++) {
		assert_int_equal(atomic_load(&c->freed[pfn]), 1);
		pages += 1 + pfn % 3;
	}
	assert_int_equal(st.queued, CT_THREADS * CT_ITERS);
	assert_int_equal(st.freed_entries, CT_THREADS * CT_ITERS);
	assert_int_equal(st.freed_pages, pages);
	assert_int_equal(st.entries_now, 0);
	assert_int_equal(st.pages_now, 0);
	assert_int_equal(st.flush_start_cnt, st.flush_finish_cnt);
	assert_int_equal(st.flush_start_cnt, st.full_flushes + st.timer_flushes);
	assert_int_equal(st.flush_start_cnt, atomic_load(&c->completed));
	assert_int_equal(st.timer_arms, atomic_load(&c->arms));
	assert_true(st.max_entries <= (uint64_t)(size - 1) * (single ? 1 : CT_THREADS));
	assert_int_equal(iommusim_hist_summary_get(ims_fq_exposure(c->fq), &hs), 0);
	assert_int_equal(hs.count, st.freed_entries);
	print_message("# concurrent %s size %u: %" PRIu64 " full flushes, %" PRIu64
		      " timer flushes, max %" PRIu64 " entries\n",
		      single ? "single" : "per-cpu", size, st.full_flushes, st.timer_flushes,
		      st.max_entries);
	ims_fq_destroy(c->fq);
	free(c->freed);
	free(c->done_before);
	free(c);
}

static void
test_flush_queue_concurrent_queue_and_timeout(void **state)
{
	ct_run(false, 16);
	ct_run(false, 256);
	ct_run(true, 64);
	ct_run(true, 4);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flush_queue_tv14_per_cpu_256),
		cmocka_unit_test(test_flush_queue_tv14_single_32768),
		cmocka_unit_test(test_flush_queue_ring_holds_size_minus_one),
		cmocka_unit_test(test_flush_queue_free_rule_flush_in_progress),
		cmocka_unit_test(test_flush_queue_counters_are_domain_wide),
		cmocka_unit_test(test_flush_queue_single_entry_queued_during_timeout_flush),
		cmocka_unit_test(test_flush_queue_full_ring_during_slower_flush),
		cmocka_unit_test(test_flush_queue_timer_armed_once_not_pushed_out),
		cmocka_unit_test(test_flush_queue_timer_single_default_timeout),
		cmocka_unit_test(test_flush_queue_timer_hz100_fires_on_ticks),
		cmocka_unit_test(test_flush_queue_timer_hz0_exact_ms),
		cmocka_unit_test(test_flush_queue_timer_wheel_level_granularity),
		cmocka_unit_test(test_flush_queue_create_rejects_hz_above_max),
		cmocka_unit_test(test_flush_queue_timer_null_never_fires),
		cmocka_unit_test(test_flush_queue_timeout_drains_every_cpu),
		cmocka_unit_test(test_flush_queue_timeout_drains_single_ring),
		cmocka_unit_test(test_flush_queue_exposure_exact),
		cmocka_unit_test(test_flush_queue_exposure_across_many_flushes),
		cmocka_unit_test(test_flush_queue_exposure_time_lost_without_memory),
		cmocka_unit_test(test_flush_queue_timeline_unfinished_flush_frees_nothing),
		cmocka_unit_test(test_flush_queue_no_timeline_frees_at_once_without_second_flush),
		cmocka_unit_test(test_flush_queue_timeline_entry_after_flush_start_waits_for_next),
		cmocka_unit_test(test_flush_queue_timeline_counts_flushes_by_time_not_host_order),
		cmocka_unit_test(test_flush_queue_occupancy_and_high_water),
		cmocka_unit_test(test_flush_queue_holds),
		cmocka_unit_test(test_flush_queue_destroy_keeps_queued_iovas),
		cmocka_unit_test(test_flush_queue_create_rejects_bad_args),
		cmocka_unit_test(test_flush_queue_create_enomem_each_allocation),
		cmocka_unit_test(test_flush_queue_property_vs_model),
		cmocka_unit_test(test_flush_queue_concurrent_queue_and_timeout),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("flush_queue", tests, NULL, NULL);
}
