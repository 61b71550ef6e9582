/* SPDX-License-Identifier: MIT */
/*
 * Tests of zPCI functions (lib/zpci.c) against KERNEL_SPEC.md §3.3, §4.4 and
 * §5.1: the RPCIT outcome mapping (TV-21) through the script platform, busy
 * retries and their delays, what platforms and observers see, the DMA window
 * arithmetic, IOTA registration, and allocation failures.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
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

#include <iommusim/zpci.h>
#include <iommusim/zpci_table.h>

#include "base/mem_int.h"
#include "base/util_int.h"
#include "hw/zpci_int.h"

#define SZ_4K UINT64_C(0x1000)
#define SZ_4G (UINT64_C(1) << 32)
#define SZ_16G (UINT64_C(1) << 34)
#define SZ_4T (UINT64_C(1) << 42)
#define QEMU_EDMA UINT64_C(0x1ffffffffffffff)
#define ORIGIN UINT64_C(0x12344000) /* a 16 KiB aligned table origin */

/* ------------------------------------------------------------------------ */
/* A fake clock: delays advance the time and are recorded. */

#define CLK_LOG 64

struct fake_clock {
	uint64_t now;
	uint64_t ndelays;
	uint64_t delay[CLK_LOG];
};

static uint64_t
clk_now(void *priv)
{
	return ((struct fake_clock *)priv)->now;
}

static void
clk_delay(void *priv, uint64_t ns)
{
	struct fake_clock *c = priv;

	if (c->ndelays < CLK_LOG)
		c->delay[c->ndelays] = ns;
	c->ndelays++;
	c->now += ns;
}

static const struct iommusim_ctx_ops clk_ops = { .now_ns = clk_now, .delay_ns = clk_delay };

static struct iommusim_ctx
clk_ctx(struct fake_clock *c, unsigned cpu)
{
	struct iommusim_ctx ctx = { .ops = &clk_ops, .priv = c, .cpu = cpu };

	return ctx;
}

/* ------------------------------------------------------------------------ */
/* Fixture: a function on the script platform. */

struct fx {
	struct iommusim_zpci_canned *s;
	struct iommusim_zpci_fn *fn;
};

static struct iommusim_zpci_fn *
new_fn(struct iommusim_zpci_canned *s, uint8_t pft)
{
	struct iommusim_zpci_fn_cfg cfg;
	struct iommusim_zpci_fn *fn = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.fid = 0x12;
	cfg.pft = pft;
	cfg.platform = s ? &iommusim_zpci_canned_ops : NULL;
	cfg.platform_priv = s;
	assert_int_equal(iommusim_zpci_fn_create(&cfg, &fn), 0);
	assert_non_null(fn);
	return fn;
}

static int
setup_fn(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || iommusim_zpci_canned_create(&f->s))
		return -1;
	f->fn = new_fn(f->s, 0);
	*state = f;
	return 0;
}

static int
teardown_fn(void **state)
{
	struct fx *f = *state;

	iommusim_zpci_fn_destroy(f->fn);
	iommusim_zpci_canned_destroy(f->s);
	free(f);
	return 0;
}

static struct iommusim_zpci_canned_call
get_call(struct iommusim_zpci_canned *s, size_t i)
{
	struct iommusim_zpci_canned_call c;

	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(iommusim_zpci_canned_call(s, i, &c), 0);
	return c;
}

static struct iommusim_zpci_fn_stats
get_stats(struct iommusim_zpci_fn *fn)
{
	struct iommusim_zpci_fn_stats st;

	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(iommusim_zpci_fn_stats_get(fn, &st), 0);
	return st;
}

static struct iommusim_zpci_fn_info
get_info(struct iommusim_zpci_fn *fn)
{
	struct iommusim_zpci_fn_info info;

	memset(&info, 0xa5, sizeof(info));
	assert_int_equal(iommusim_zpci_fn_info_get(fn, &info), 0);
	return info;
}

static struct iommusim_zpci_ioat
get_ioat(struct iommusim_zpci_fn *fn)
{
	struct iommusim_zpci_ioat ioat;

	memset(&ioat, 0xa5, sizeof(ioat));
	assert_int_equal(iommusim_zpci_fn_ioat(fn, &ioat), 0);
	return ioat;
}

/* One RPCIT over a fixed range with one scripted answer. */
static int
refresh_with(struct fx *f, unsigned cc, uint8_t status)
{
	assert_int_equal(iommusim_zpci_canned_push(f->s, true, cc, status, 1), 0);
	return iommusim_zpci_refresh_trans(f->fn, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0, NULL);
}

/* ------------------------------------------------------------------------ */
/* RPCIT outcomes (§5.1, TV-21) */

static void
test_zpci_tv21_outcomes(void **state)
{
	struct fx *f = *state;
	struct fake_clock clk = { .now = 1000 };
	struct iommusim_ctx ctx = clk_ctx(&clk, 0);
	struct iommusim_zpci_fn_stats st;
	size_t i;

	assert_int_equal(refresh_with(f, 0, 0), 0);
	assert_int_equal(refresh_with(f, 1, 16), -ENOMEM);
	assert_int_equal(refresh_with(f, 1, 4), -ENOMEM);
	assert_int_equal(refresh_with(f, 1, 8), -EIO);
	assert_int_equal(refresh_with(f, 3, 0), -EIO);
	assert_int_equal(iommusim_zpci_canned_ncalls(f->s), 5);
	st = get_stats(f->fn);
	assert_int_equal(st.busy_retries, 0);
	assert_int_equal(clk.ndelays, 0);

	/* cc 2 five times, then cc 0: 0 after five retries of 1 µs each */
	iommusim_zpci_canned_reset(f->s);
	assert_int_equal(iommusim_zpci_canned_push(f->s, true, 2, 0, 5), 0);
	assert_int_equal(iommusim_zpci_canned_push(f->s, true, 0, 0, 1), 0);
	assert_int_equal(
		iommusim_zpci_refresh_trans(f->fn, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0, &ctx),
		0);
	assert_int_equal(iommusim_zpci_canned_ncalls(f->s), 6);
	for (i = 0; i < 5; i++)
		assert_int_equal(get_call(f->s, i).cc, 2);
	assert_int_equal(get_call(f->s, 5).cc, 0);
	assert_int_equal(clk.ndelays, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(clk.delay[i], 1000);
	assert_int_equal(clk.now, 1000 + 5 * 1000);
	st = get_stats(f->fn);
	assert_int_equal(st.busy_retries, 5);
	assert_int_equal(st.busy_giveups, 0);
	assert_int_equal(st.rpcits, 6);
}

static void
test_zpci_cc1_status_mapping(void **state)
{
	static const uint8_t eio_status[] = {
		0,
		IOMMUSIM_ZPCI_ST_FUNC_IN_ERR,
		IOMMUSIM_ZPCI_ST_BLOCKED,
		IOMMUSIM_ZPCI_ST_INVAL_AS,
		IOMMUSIM_ZPCI_ST_FUNC_ALREADY_ENABLED,
		IOMMUSIM_ZPCI_ST_DMA_AS_NOT_ENABLED,
		IOMMUSIM_ZPCI_ST_2ND_OP_IN_INV_AS,
		IOMMUSIM_ZPCI_ST_FUNC_NOT_AVAIL,
		IOMMUSIM_ZPCI_ST_ALREADY_IN_RQ_STATE,
		255,
	};
	struct fx *f = *state;
	struct iommusim_zpci_fn_stats st;
	size_t i;

	for (i = 0; i < sizeof(eio_status); i++) {
		if (refresh_with(f, 1, eio_status[i]) != -EIO)
			fail_msg("cc 1 status %u: expected -EIO", eio_status[i]);
	}
	/* only cc 1 with 4 or 16 is "insufficient resources" */
	assert_int_equal(refresh_with(f, 1, IOMMUSIM_ZPCI_ST_FUNC_NOT_ENABLED), -ENOMEM);
	assert_int_equal(refresh_with(f, 1, IOMMUSIM_ZPCI_ST_INSUF_RES), -ENOMEM);
	assert_int_equal(refresh_with(f, 3, IOMMUSIM_ZPCI_ST_INSUF_RES), -EIO);
	assert_int_equal(refresh_with(f, 3, IOMMUSIM_ZPCI_ST_FUNC_NOT_ENABLED), -EIO);
	assert_int_equal(refresh_with(f, 0, IOMMUSIM_ZPCI_ST_INSUF_RES), 0);
	st = get_stats(f->fn);
	assert_int_equal(st.eio, sizeof(eio_status) + 2);
	assert_int_equal(st.enomem, 2);
	assert_int_equal(st.rpcits, sizeof(eio_status) + 5);
}

/* A platform that is busy forever. */
struct busy_platform {
	uint64_t calls;
};

static unsigned
busy_rpcit(void *priv, struct iommusim_zpci_fn *fn, const struct iommusim_rpcit *r, uint8_t *status)
{
	((struct busy_platform *)priv)->calls++;
	*status = 0;
	return IOMMUSIM_ZPCI_CC_BUSY;
}

static unsigned
busy_mpcifc(void *priv, struct iommusim_zpci_fn *fn, unsigned fc,
	    const struct iommusim_zpci_ioat *ioat, uint8_t *status)
{
	((struct busy_platform *)priv)->calls++;
	*status = 0;
	return IOMMUSIM_ZPCI_CC_BUSY;
}

static const struct iommusim_zpci_platform_ops busy_ops = { .rpcit = busy_rpcit,
							    .mpcifc = busy_mpcifc };

/* An observer that remembers what it saw. */
struct obs {
	unsigned calls;
	struct iommusim_rpcit last;
	struct iommusim_zpci_fn *fn;
};

static void
obs_rpcit(void *priv, struct iommusim_zpci_fn *fn, const struct iommusim_rpcit *r)
{
	struct obs *o = priv;

	o->calls++;
	o->last = *r;
	o->fn = fn;
}

static const struct iommusim_zpci_observer_ops obs_ops = { .rpcit = obs_rpcit };

static void
test_zpci_busy_cap_gives_up(void **state)
{
	struct busy_platform bp = { 0 };
	struct fake_clock clk = { 0 };
	struct iommusim_ctx ctx = clk_ctx(&clk, 0);
	struct iommusim_zpci_fn_cfg cfg = { .fid = 1, .platform = &busy_ops, .platform_priv = &bp };
	struct iommusim_zpci_fn *fn = NULL;
	struct iommusim_zpci_fn_stats st;
	struct iommusim_zpci_ioat ioat;
	struct obs o = { 0 };
	unsigned cc = 99;
	uint8_t status = 99;

	(void)state;
	assert_int_equal(iommusim_zpci_fn_create(&cfg, &fn), 0);
	assert_int_equal(iommusim_zpci_fn_observer_set(fn, &obs_ops, &o), 0);
	assert_int_equal(
		iommusim_zpci_refresh_trans(fn, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0, &ctx),
		-EIO);
	/* the first try plus the capped number of retries, each after 1 µs */
	assert_int_equal(bp.calls, (uint64_t)IOMMUSIM_ZPCI_BUSY_RETRY_CAP + 1);
	assert_int_equal(clk.ndelays, IOMMUSIM_ZPCI_BUSY_RETRY_CAP);
	assert_int_equal(clk.now, (uint64_t)IOMMUSIM_ZPCI_BUSY_RETRY_CAP * 1000);
	st = get_stats(fn);
	assert_int_equal(st.busy_retries, IOMMUSIM_ZPCI_BUSY_RETRY_CAP);
	assert_int_equal(st.busy_giveups, 1);
	assert_int_equal(st.eio, 1);
	assert_int_equal(st.rpcits, 1);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.last.cc, IOMMUSIM_ZPCI_CC_BUSY);

	/* MPCIFC gives up at the same cap, 1 ms apart, with cc 2 and no anchor */
	bp.calls = 0;
	clk.ndelays = 0;
	clk.now = 0;
	assert_int_equal(iommusim_zpci_register_ioat(fn, SZ_4G, SZ_16G, ORIGIN, &ctx, &cc, &status),
			 0);
	assert_int_equal(cc, IOMMUSIM_ZPCI_CC_BUSY);
	assert_int_equal(status, 0);
	assert_int_equal(bp.calls, (uint64_t)IOMMUSIM_ZPCI_BUSY_RETRY_CAP + 1);
	assert_int_equal(clk.now, (uint64_t)IOMMUSIM_ZPCI_BUSY_RETRY_CAP * 1000000);
	ioat = get_ioat(fn);
	assert_false(ioat.registered);
	/* MPCIFC retries are not RPCIT counters */
	assert_int_equal(get_stats(fn).busy_retries, IOMMUSIM_ZPCI_BUSY_RETRY_CAP);
	assert_int_equal(iommusim_zpci_fn_observer_set(fn, NULL, NULL), 0);
	iommusim_zpci_fn_destroy(fn);
}

static void
test_zpci_refresh_records_call(void **state)
{
	struct iommusim_zpci_fn_cfg cfg = { .fid = 7, .fh = 0x80001234 };
	struct fake_clock clk = { .now = 123456789 };
	struct iommusim_ctx ctx = clk_ctx(&clk, 5);
	struct iommusim_zpci_canned *s = NULL;
	struct iommusim_zpci_canned_call c;
	struct iommusim_zpci_fn *fn = NULL;
	size_t i;

	(void)state;
	assert_int_equal(iommusim_zpci_canned_create(&s), 0);
	cfg.platform = &iommusim_zpci_canned_ops;
	cfg.platform_priv = s;
	assert_int_equal(iommusim_zpci_fn_create(&cfg, &fn), 0);
	assert_int_equal(iommusim_zpci_canned_push(s, true, 2, 0, 2), 0);
	assert_int_equal(iommusim_zpci_canned_push(s, true, 1, 16, 1), 0);
	assert_int_equal(iommusim_zpci_refresh_trans(fn, 0x100002000, 0x3000,
						     IOMMUSIM_RPCIT_SYNC_MAP, 0x100002000, 0x3000,
						     &ctx),
			 -ENOMEM);
	assert_int_equal(iommusim_zpci_canned_ncalls(s), 3);
	for (i = 0; i < 3; i++) {
		c = get_call(s, i);
		assert_true(c.is_rpcit);
		assert_int_equal(c.rpcit.fh, 0x80001234);
		assert_int_equal(c.rpcit.addr, 0x100002000);
		assert_int_equal(c.rpcit.range, 0x3000);
		assert_int_equal(c.rpcit.reason, IOMMUSIM_RPCIT_SYNC_MAP);
		assert_int_equal(c.rpcit.map_iova, 0x100002000);
		assert_int_equal(c.rpcit.map_len, 0x3000);
		/* the time the RPCIT was issued, before any busy retry */
		assert_int_equal(c.rpcit.time_ns, 123456789);
		assert_int_equal(c.rpcit.cpu, 5);
		/* as issued: no outcome yet */
		assert_int_equal(c.rpcit.cc, 0);
		assert_int_equal(c.rpcit.status, 0);
		assert_int_equal(c.cc, i < 2 ? 2 : 1);
		assert_int_equal(c.status, i < 2 ? 0 : 16);
	}
	/* empty queue: cc 0 */
	assert_int_equal(iommusim_zpci_refresh_trans(fn, 0x200000000, 0x1000,
						     IOMMUSIM_RPCIT_GLOBAL_FLUSH, 0, 0, NULL),
			 0);
	c = get_call(s, 3);
	assert_int_equal(c.cc, 0);
	assert_int_equal(c.rpcit.reason, IOMMUSIM_RPCIT_GLOBAL_FLUSH);
	assert_int_equal(c.rpcit.time_ns, 0);
	assert_int_equal(c.rpcit.cpu, 0);
	assert_int_equal(c.rpcit.map_len, 0);
	assert_int_equal(iommusim_zpci_canned_call(s, 4, &c), -ENOENT);
	iommusim_zpci_fn_destroy(fn);
	iommusim_zpci_canned_destroy(s);
}

static void
test_zpci_observer_sees_final_outcome_once(void **state)
{
	struct fx *f = *state;
	struct fake_clock clk = { .now = 50 };
	struct iommusim_ctx ctx = clk_ctx(&clk, 3);
	struct obs o = { 0 }, o2 = { 0 };

	assert_int_equal(iommusim_zpci_fn_observer_set(f->fn, &obs_ops, &o), 0);
	assert_int_equal(iommusim_zpci_fn_observer_set(f->fn, &obs_ops, &o2), -EBUSY);
	assert_int_equal(iommusim_zpci_fn_observer_set(NULL, &obs_ops, &o2), -EINVAL);
	assert_int_equal(iommusim_zpci_canned_push(f->s, true, 2, 0, 3), 0);
	assert_int_equal(iommusim_zpci_canned_push(f->s, true, 1, 16, 1), 0);
	assert_int_equal(iommusim_zpci_refresh_trans(f->fn, 0x100000000, 0x10000,
						     IOMMUSIM_RPCIT_ENOMEM_RECOVERY, 0x100004000,
						     0x2000, &ctx),
			 -ENOMEM);
	assert_int_equal(o.calls, 1);
	assert_ptr_equal(o.fn, f->fn);
	assert_int_equal(o.last.cc, 1);
	assert_int_equal(o.last.status, 16);
	assert_int_equal(o.last.addr, 0x100000000);
	assert_int_equal(o.last.range, 0x10000);
	assert_int_equal(o.last.reason, IOMMUSIM_RPCIT_ENOMEM_RECOVERY);
	assert_int_equal(o.last.map_iova, 0x100004000);
	assert_int_equal(o.last.map_len, 0x2000);
	assert_int_equal(o.last.time_ns, 50);
	assert_int_equal(o.last.cpu, 3);
	assert_int_equal(o.last.fh, 0x80000012);
	assert_int_equal(o2.calls, 0);

	assert_int_equal(refresh_with(f, 0, 0), 0);
	assert_int_equal(o.calls, 2);
	assert_int_equal(o.last.cc, 0);

	/* removed: not called again; the slot is free for another */
	assert_int_equal(iommusim_zpci_fn_observer_set(f->fn, NULL, NULL), 0);
	assert_int_equal(refresh_with(f, 0, 0), 0);
	assert_int_equal(o.calls, 2);
	assert_int_equal(iommusim_zpci_fn_observer_set(f->fn, &obs_ops, &o2), 0);
	assert_int_equal(refresh_with(f, 3, 0), -EIO);
	assert_int_equal(o2.calls, 1);
	assert_int_equal(o2.last.cc, 3);
	assert_int_equal(o.calls, 2);
	assert_int_equal(iommusim_zpci_fn_observer_set(f->fn, NULL, NULL), 0);
}

static void
test_zpci_stats_per_reason(void **state)
{
	struct fx *f = *state;
	struct iommusim_zpci_fn_stats st;
	unsigned r, k;
	uint64_t bytes = 0;

	/* reason r is issued r + 1 times, each over (r + 1) pages */
	for (r = 0; r < IOMMUSIM_RPCIT_NR_REASONS; r++) {
		for (k = 0; k <= r; k++) {
			assert_int_equal(iommusim_zpci_refresh_trans(f->fn, SZ_4G, (r + 1) * SZ_4K,
								     (enum iommusim_rpcit_reason)r,
								     0, 0, NULL),
					 0);
			bytes += (r + 1) * SZ_4K;
		}
	}
	assert_int_equal(iommusim_zpci_canned_push(f->s, true, 1, 16, 2), 0);
	assert_int_equal(iommusim_zpci_canned_push(f->s, true, 3, 0, 1), 0);
	for (k = 0; k < 3; k++)
		assert_int_not_equal(
			iommusim_zpci_refresh_trans(f->fn, 0, 0, IOMMUSIM_RPCIT_OTHER, 0, 0, NULL),
			0);
	st = get_stats(f->fn);
	for (r = 0; r < IOMMUSIM_RPCIT_NR_REASONS; r++)
		assert_int_equal(st.by_reason[r], r + 1 + (r == IOMMUSIM_RPCIT_OTHER ? 3 : 0));
	assert_int_equal(st.rpcits,
			 IOMMUSIM_RPCIT_NR_REASONS * (IOMMUSIM_RPCIT_NR_REASONS + 1) / 2 + 3);
	assert_int_equal(st.bytes_refreshed, bytes);
	assert_int_equal(st.enomem, 2);
	assert_int_equal(st.eio, 1);
	assert_int_equal(st.busy_retries, 0);
	assert_int_equal(st.busy_giveups, 0);

	/* misuse changes nothing */
	assert_int_equal(
		iommusim_zpci_refresh_trans(f->fn, 0, SZ_4K, IOMMUSIM_RPCIT_NR_REASONS, 0, 0, NULL),
		-EINVAL);
	assert_int_equal(
		iommusim_zpci_refresh_trans(NULL, 0, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0, NULL),
		-EINVAL);
	assert_int_equal(get_stats(f->fn).rpcits, st.rpcits);
	assert_int_equal(iommusim_zpci_fn_stats_get(NULL, &st), -EINVAL);
	assert_int_equal(iommusim_zpci_fn_stats_get(f->fn, NULL), -EINVAL);
}

static void
test_zpci_reason_names(void **state)
{
	static const char *const want[] = { "other",	       "sync",
					    "sync_map",	       "global_flush",
					    "enomem_recovery", "legacy_map",
					    "legacy_unmap",    "legacy_global" };
	unsigned r;

	(void)state;
	assert_int_equal(sizeof(want) / sizeof(want[0]), IOMMUSIM_RPCIT_NR_REASONS);
	for (r = 0; r < IOMMUSIM_RPCIT_NR_REASONS; r++)
		assert_string_equal(iommusim_rpcit_reason_name((enum iommusim_rpcit_reason)r),
				    want[r]);
	assert_string_equal(iommusim_rpcit_reason_name(IOMMUSIM_RPCIT_NR_REASONS), "unknown");
	assert_string_equal(iommusim_rpcit_reason_name((enum iommusim_rpcit_reason)1000),
			    "unknown");
}

static void
test_zpci_null_platform_answers_cc0(void **state)
{
	static const struct iommusim_zpci_platform_ops rpcit_only = { .rpcit = busy_rpcit };
	struct busy_platform bp = { 0 };
	struct iommusim_zpci_fn_cfg cfg = { .fid = 2,
					    .platform = &rpcit_only,
					    .platform_priv = &bp };
	struct iommusim_zpci_fn *fn = new_fn(NULL, 0), *fn2 = NULL;
	struct iommusim_zpci_ioat ioat;
	unsigned cc = 99;
	uint8_t status = 99;

	(void)state;
	assert_int_equal(
		iommusim_zpci_refresh_trans(fn, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0, NULL), 0);
	assert_int_equal(
		iommusim_zpci_register_ioat(fn, SZ_4G, SZ_16G - 1, ORIGIN, NULL, &cc, &status), 0);
	assert_int_equal(cc, 0);
	assert_int_equal(status, 0);
	ioat = get_ioat(fn);
	assert_true(ioat.registered);
	assert_int_equal(ioat.iota, ORIGIN | 0x804);
	iommusim_zpci_fn_destroy(fn);

	/* a platform without mpcifc: every MPCIFC is cc 0; NULL outs are fine */
	assert_int_equal(iommusim_zpci_fn_create(&cfg, &fn2), 0);
	assert_int_equal(
		iommusim_zpci_register_ioat(fn2, SZ_4G, SZ_16G - 1, ORIGIN, NULL, NULL, NULL), 0);
	assert_true(get_ioat(fn2).registered);
	assert_int_equal(bp.calls, 0);
	iommusim_zpci_fn_destroy(fn2);
}

/* ------------------------------------------------------------------------ */
/* DMA window (§3.3, §6.1) and aperture */

static void
expect_window(uint64_t sdma, uint64_t edma, uint64_t ap, uint64_t want_start, uint64_t want_end)
{
	uint64_t s = 0xdead, e = 0xbeef;
	int ret = iommusim_zpci_dma_window(sdma, edma, ap, &s, &e);

	if (ret)
		fail_msg("window(%#" PRIx64 ", %#" PRIx64 ", %#" PRIx64 ") = %d", sdma, edma, ap,
			 ret);
	if (s != want_start || e != want_end)
		fail_msg("window(%#" PRIx64 ", %#" PRIx64 ", %#" PRIx64 ") = [%#" PRIx64
			 ", %#" PRIx64 "], want [%#" PRIx64 ", %#" PRIx64 "]",
			 sdma, edma, ap, s, e, want_start, want_end);
}

static void
expect_no_window(uint64_t sdma, uint64_t edma, uint64_t ap)
{
	uint64_t s = 0xdead, e = 0xbeef;

	assert_int_equal(iommusim_zpci_dma_window(sdma, edma, ap, &s, &e), -EINVAL);
	assert_int_equal(s, 0xdead);
	assert_int_equal(e, 0xbeef);
}

static void
test_zpci_dma_window_boundaries(void **state)
{
	uint64_t s;

	(void)state;
	/* QEMU defaults, 16 GiB aperture */
	expect_window(SZ_4G, QEMU_EDMA, SZ_16G, SZ_4G, 5 * SZ_4G - 1);
	/* aperture larger than the CLP window: the window wins */
	expect_window(SZ_4G, 2 * SZ_4G - 1, SZ_16G, SZ_4G, 2 * SZ_4G - 1);
	expect_window(SZ_4G, 2 * SZ_4G - 1, SZ_4G, SZ_4G, 2 * SZ_4G - 1);
	expect_window(SZ_4G, 2 * SZ_4G - 1, SZ_4G - 1, SZ_4G, 2 * SZ_4G - 2);
	/* start is page aligned up first */
	expect_window(SZ_4G + 1, QEMU_EDMA, SZ_16G, SZ_4G + SZ_4K, SZ_4G + SZ_4K + SZ_16G - 1);
	expect_window(0x1001, 0x2fff, UINT64_MAX, 0x2000, 0x2fff);
	expect_window(0xfff, 0xfff + SZ_4K, UINT64_MAX, 0x1000, 0x1fff);
	/* the end is clamped to the 4 TiB region-third table */
	expect_window(SZ_4G, UINT64_MAX, UINT64_MAX, SZ_4G, SZ_4T - 1);
	expect_window(SZ_4G, SZ_4T, UINT64_MAX, SZ_4G, SZ_4T - 1);
	expect_window(SZ_4G, SZ_4T - 1, UINT64_MAX, SZ_4G, SZ_4T - 1);
	expect_window(SZ_4G, SZ_4T - 2, UINT64_MAX, SZ_4G, SZ_4T - 2);
	expect_window(SZ_4T - SZ_4K, QEMU_EDMA, UINT64_MAX, SZ_4T - SZ_4K, SZ_4T - 1);
	/* end_dma - start + 1 would overflow */
	expect_window(0, UINT64_MAX, UINT64_MAX, 0, SZ_4T - 1);
	expect_window(0, UINT64_MAX, 1, 0, 0);
	/* a one-byte aperture */
	expect_window(SZ_4G, QEMU_EDMA, 1, SZ_4G, SZ_4G);
	/* empty results */
	expect_no_window(SZ_4T, QEMU_EDMA, UINT64_MAX);
	expect_no_window(SZ_4T - 1, QEMU_EDMA, UINT64_MAX); /* aligns to 4 TiB */
	expect_no_window(SZ_4T + SZ_4G, QEMU_EDMA, UINT64_MAX);
	expect_no_window(UINT64_MAX, UINT64_MAX, UINT64_MAX);
	expect_no_window(UINT64_MAX - SZ_4K + 2, UINT64_MAX, UINT64_MAX);
	expect_no_window(0x1001, 0x1fff, UINT64_MAX); /* aligned start beyond end */
	expect_no_window(SZ_4G, SZ_4G - 1, UINT64_MAX);
	expect_no_window(SZ_4G, QEMU_EDMA, 0);
	assert_int_equal(iommusim_zpci_dma_window(SZ_4G, QEMU_EDMA, SZ_16G, NULL, &s), -EINVAL);
	assert_int_equal(iommusim_zpci_dma_window(SZ_4G, QEMU_EDMA, SZ_16G, &s, NULL), -EINVAL);
}

static void
test_zpci_s390_iommu_aperture(void **state)
{
	(void)state;
	assert_int_equal(iommusim_s390_iommu_aperture(SZ_16G, 1), SZ_16G);
	assert_int_equal(iommusim_s390_iommu_aperture(SZ_16G, 4), 4 * SZ_16G);
	assert_int_equal(iommusim_s390_iommu_aperture(SZ_16G, 0), UINT64_MAX);
	assert_int_equal(iommusim_s390_iommu_aperture(0, 0), UINT64_MAX);
	assert_int_equal(iommusim_s390_iommu_aperture(0, 7), 0);
	assert_int_equal(iommusim_s390_iommu_aperture(SZ_4G, UINT32_C(1) << 31), UINT64_C(1) << 63);
	assert_int_equal(iommusim_s390_iommu_aperture(SZ_4G * 2, UINT32_C(1) << 31), UINT64_MAX);
	assert_int_equal(iommusim_s390_iommu_aperture(UINT64_MAX, 1), UINT64_MAX);
	assert_int_equal(iommusim_s390_iommu_aperture(UINT64_MAX / 3, 3), UINT64_MAX);
	assert_int_equal(iommusim_s390_iommu_aperture(UINT64_MAX / 3 + 1, 3), UINT64_MAX);
	assert_int_equal(iommusim_s390_iommu_aperture(SZ_4G, UINT32_MAX), UINT64_MAX - SZ_4G + 1);
	assert_int_equal(iommusim_s390_iommu_aperture(SZ_4G + 1, UINT32_MAX), UINT64_MAX);
	assert_int_equal(iommusim_s390_iommu_aperture(UINT64_C(1) << 40, 1) * 2,
			 iommusim_s390_iommu_aperture(UINT64_C(1) << 40, 2));
}

/* ------------------------------------------------------------------------ */
/* IOAT registration (§4.4) */

static void
expect_mpcifc(struct iommusim_zpci_canned *s, size_t i, unsigned fc, bool registered, uint64_t pba,
	      uint64_t pal, uint64_t iota)
{
	struct iommusim_zpci_canned_call c = get_call(s, i);

	assert_false(c.is_rpcit);
	assert_int_equal(c.fc, fc);
	assert_int_equal(c.ioat.registered, registered);
	assert_int_equal(c.ioat.pba, pba);
	assert_int_equal(c.ioat.pal, pal);
	assert_int_equal(c.ioat.iota, iota);
}

static void
test_zpci_register_ioat_pci(void **state)
{
	struct fx *f = *state;
	struct iommusim_zpci_ioat ioat;
	unsigned cc = 99;
	uint8_t status = 99;

	assert_false(get_ioat(f->fn).registered);
	assert_int_equal(iommusim_zpci_register_ioat(f->fn, SZ_4G, 5 * SZ_4G - 1, ORIGIN, NULL, &cc,
						     &status),
			 0);
	assert_int_equal(cc, 0);
	assert_int_equal(status, 0);
	assert_int_equal(iommusim_zpci_canned_ncalls(f->s), 1);
	/* no +4 KiB for a non-ISM function */
	expect_mpcifc(f->s, 0, IOMMUSIM_ZPCI_MOD_FC_REG_IOAT, true, SZ_4G, 5 * SZ_4G - 1,
		      ORIGIN | 0x804);
	assert_int_equal(IOMMUSIM_ZPCI_IOTA_RTTO_FLAG, 0x804);
	ioat = get_ioat(f->fn);
	assert_true(ioat.registered);
	assert_int_equal(ioat.pba, SZ_4G);
	assert_int_equal(ioat.pal, 5 * SZ_4G - 1);
	assert_int_equal(ioat.iota, ORIGIN | 0x804);
	assert_int_equal(iommusim_zpci_fn_ioat(NULL, &ioat), -EINVAL);
	assert_int_equal(iommusim_zpci_fn_ioat(f->fn, NULL), -EINVAL);
}

static void
test_zpci_register_ioat_ism_pal(void **state)
{
	struct iommusim_zpci_canned *s = NULL;
	struct iommusim_zpci_fn *fn;
	unsigned cc = 99;

	(void)state;
	assert_int_equal(iommusim_zpci_canned_create(&s), 0);
	fn = new_fn(s, IOMMUSIM_PCI_FUNC_TYPE_ISM);
	/* limit > base: pal = limit + 4 KiB (firmware off-by-one work-around) */
	assert_int_equal(
		iommusim_zpci_register_ioat(fn, SZ_4G, 5 * SZ_4G - 1, ORIGIN, NULL, &cc, NULL), 0);
	assert_int_equal(cc, 0);
	expect_mpcifc(s, 0, IOMMUSIM_ZPCI_MOD_FC_REG_IOAT, true, SZ_4G, 5 * SZ_4G - 1 + SZ_4K,
		      ORIGIN | 0x804);
	assert_int_equal(get_ioat(fn).pal, 5 * SZ_4G - 1 + SZ_4K);
	/* limit == base and limit < base: unchanged */
	assert_int_equal(iommusim_zpci_register_ioat(fn, SZ_4G, SZ_4G, 0xc000, NULL, &cc, NULL), 0);
	expect_mpcifc(s, 1, IOMMUSIM_ZPCI_MOD_FC_REG_IOAT, true, SZ_4G, SZ_4G, 0xc804);
	assert_int_equal(iommusim_zpci_register_ioat(fn, SZ_4G, SZ_4G - 1, 0x4000, NULL, &cc, NULL),
			 0);
	expect_mpcifc(s, 2, IOMMUSIM_ZPCI_MOD_FC_REG_IOAT, true, SZ_4G, SZ_4G - 1, 0x4804);
	assert_int_equal(iommusim_zpci_register_ioat(fn, 0, 1, 0x8000, NULL, &cc, NULL), 0);
	expect_mpcifc(s, 3, IOMMUSIM_ZPCI_MOD_FC_REG_IOAT, true, 0, 1 + SZ_4K, 0x8804);
	iommusim_zpci_fn_destroy(fn);
	iommusim_zpci_canned_destroy(s);
}

/* Origin 0 asks for direct mapping (the identity domain): iota 0, no RTTO
 * flag; the window and the ISM work-around stay as for a table. */
static void
test_zpci_register_ioat_zero_origin_is_direct(void **state)
{
	struct iommusim_zpci_canned *s = NULL;
	struct iommusim_zpci_fn *fn;
	unsigned cc = 99;

	(void)state;
	assert_int_equal(iommusim_zpci_canned_create(&s), 0);
	fn = new_fn(s, IOMMUSIM_PCI_FUNC_TYPE_ISM);
	assert_int_equal(iommusim_zpci_register_ioat(fn, SZ_4G, 2 * SZ_4G - 1, 0, NULL, &cc, NULL),
			 0);
	assert_int_equal(cc, 0);
	expect_mpcifc(s, 0, IOMMUSIM_ZPCI_MOD_FC_REG_IOAT, true, SZ_4G, 2 * SZ_4G - 1 + SZ_4K, 0);
	assert_true(get_ioat(fn).registered);
	assert_int_equal(get_ioat(fn).iota, 0);
	iommusim_zpci_fn_destroy(fn);
	iommusim_zpci_canned_destroy(s);
}

static void
test_zpci_register_ioat_misaligned_origin(void **state)
{
	static const uint64_t bad[] = { 0x1, 0x800, 0x2000, 0x3fff, ORIGIN + 0x1000 };
	struct fx *f = *state;
	unsigned cc = 99;
	uint8_t status = 99;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(iommusim_zpci_register_ioat(f->fn, SZ_4G, SZ_16G, bad[i], NULL,
							     &cc, &status),
				 -EINVAL);
	assert_int_equal(
		iommusim_zpci_register_ioat(NULL, SZ_4G, SZ_16G, ORIGIN, NULL, &cc, &status),
		-EINVAL);
	assert_int_equal(cc, 99);
	assert_int_equal(status, 99);
	assert_int_equal(iommusim_zpci_canned_ncalls(f->s), 0);
	assert_false(get_ioat(f->fn).registered);
	assert_int_equal(
		iommusim_zpci_register_ioat(f->fn, SZ_4G, SZ_16G, 0x4000, NULL, &cc, &status), 0);
	assert_true(get_ioat(f->fn).registered);
}

static void
test_zpci_register_ioat_busy_retries_1ms(void **state)
{
	struct fx *f = *state;
	struct fake_clock clk = { .now = 7 };
	struct iommusim_ctx ctx = clk_ctx(&clk, 1);
	unsigned cc = 99, i;
	uint8_t status = 99;

	assert_int_equal(iommusim_zpci_canned_push(f->s, false, 2, 0, 3), 0);
	assert_int_equal(
		iommusim_zpci_register_ioat(f->fn, SZ_4G, SZ_16G, ORIGIN, &ctx, &cc, &status), 0);
	assert_int_equal(cc, 0);
	assert_int_equal(iommusim_zpci_canned_ncalls(f->s), 4);
	for (i = 0; i < 4; i++)
		expect_mpcifc(f->s, i, IOMMUSIM_ZPCI_MOD_FC_REG_IOAT, true, SZ_4G, SZ_16G,
			      ORIGIN | 0x804);
	assert_int_equal(clk.ndelays, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(clk.delay[i], 1000000);
	assert_int_equal(clk.now, 7 + 3000000);
	assert_true(get_ioat(f->fn).registered);
	/* MPCIFC busy retries are not RPCIT busy retries */
	assert_int_equal(get_stats(f->fn).busy_retries, 0);
}

static void
test_zpci_register_ioat_error_leaves_no_anchor(void **state)
{
	struct fx *f = *state;
	struct iommusim_zpci_ioat ioat;
	unsigned cc = 99;
	uint8_t status = 99;

	assert_int_equal(
		iommusim_zpci_canned_push(f->s, false, 1, IOMMUSIM_ZPCI_ST_FUNC_NOT_AVAIL, 1), 0);
	assert_int_equal(
		iommusim_zpci_register_ioat(f->fn, SZ_4G, SZ_16G, ORIGIN, NULL, &cc, &status), 0);
	assert_int_equal(cc, 1);
	assert_int_equal(status, IOMMUSIM_ZPCI_ST_FUNC_NOT_AVAIL);
	assert_false(get_ioat(f->fn).registered);
	assert_int_equal(iommusim_zpci_canned_push(f->s, false, 3, 0, 1), 0);
	assert_int_equal(
		iommusim_zpci_register_ioat(f->fn, SZ_4G, SZ_16G, ORIGIN, NULL, &cc, &status), 0);
	assert_int_equal(cc, 3);
	assert_false(get_ioat(f->fn).registered);

	/* a failed re-registration keeps the previous anchor */
	assert_int_equal(
		iommusim_zpci_register_ioat(f->fn, SZ_4G, SZ_16G, ORIGIN, NULL, &cc, &status), 0);
	assert_int_equal(cc, 0);
	assert_int_equal(iommusim_zpci_canned_push(f->s, false, 1, 8, 1), 0);
	assert_int_equal(
		iommusim_zpci_register_ioat(f->fn, 2 * SZ_4G, SZ_16G, 0x8000, NULL, &cc, &status),
		0);
	assert_int_equal(cc, 1);
	assert_int_equal(status, 8);
	ioat = get_ioat(f->fn);
	assert_true(ioat.registered);
	assert_int_equal(ioat.pba, SZ_4G);
	assert_int_equal(ioat.iota, ORIGIN | 0x804);
}

static void
test_zpci_unregister_ioat(void **state)
{
	struct fx *f = *state;
	unsigned cc = 99;
	uint8_t status = 99;

	assert_int_equal(
		iommusim_zpci_register_ioat(f->fn, SZ_4G, SZ_16G, ORIGIN, NULL, &cc, &status), 0);
	/* a refused deregistration keeps the anchor */
	assert_int_equal(iommusim_zpci_canned_push(f->s, false, 1, 12, 1), 0);
	assert_int_equal(iommusim_zpci_unregister_ioat(f->fn, NULL, &cc, &status), 0);
	assert_int_equal(cc, 1);
	assert_int_equal(status, 12);
	assert_true(get_ioat(f->fn).registered);
	assert_int_equal(iommusim_zpci_unregister_ioat(f->fn, NULL, &cc, &status), 0);
	assert_int_equal(cc, 0);
	assert_int_equal(status, 0);
	assert_false(get_ioat(f->fn).registered);
	assert_int_equal(get_ioat(f->fn).iota, 0);
	assert_int_equal(iommusim_zpci_canned_ncalls(f->s), 3);
	expect_mpcifc(f->s, 1, IOMMUSIM_ZPCI_MOD_FC_DEREG_IOAT, false, 0, 0, 0);
	expect_mpcifc(f->s, 2, IOMMUSIM_ZPCI_MOD_FC_DEREG_IOAT, false, 0, 0, 0);
	assert_int_equal(iommusim_zpci_unregister_ioat(NULL, NULL, &cc, &status), -EINVAL);
}

/* ------------------------------------------------------------------------ */
/* Create, info, window */

static void
test_zpci_create_defaults(void **state)
{
	struct iommusim_zpci_fn_cfg cfg = { .fid = 0x12 };
	struct iommusim_zpci_fn *fn = NULL;
	struct iommusim_zpci_fn_info info;
	struct iommusim_zpci_fn_stats st;
	char name[16] = "0001:00:00.0";
	unsigned r;

	(void)state;
	cfg.fid = 0;
	assert_int_equal(iommusim_zpci_fn_create(&cfg, &fn), 0);
	assert_string_equal(get_info(fn).name, "fid 0x0");
	assert_int_equal(get_info(fn).fh, 0x80000000);
	iommusim_zpci_fn_destroy(fn);
	cfg.fid = 0x12;
	assert_int_equal(iommusim_zpci_fn_create(&cfg, &fn), 0);
	info = get_info(fn);
	assert_string_equal(info.name, "fid 0x12");
	assert_int_equal(info.fh, 0x80000012);
	assert_int_equal(info.fid, 0x12);
	assert_int_equal(info.pft, 0);
	assert_false(info.tlb_refresh);
	assert_false(info.is_ism);
	assert_int_equal(info.start_dma, SZ_4G);
	assert_int_equal(info.end_dma, QEMU_EDMA);
	assert_int_equal(info.dma_mask, UINT64_MAX);
	assert_false(get_ioat(fn).registered);
	st = get_stats(fn);
	assert_int_equal(st.rpcits, 0);
	assert_int_equal(st.bytes_refreshed, 0);
	for (r = 0; r < IOMMUSIM_RPCIT_NR_REASONS; r++)
		assert_int_equal(st.by_reason[r], 0);
	iommusim_zpci_fn_destroy(fn);

	cfg = (struct iommusim_zpci_fn_cfg){ .name = name,
					     .fh = 0x1234,
					     .fid = 0x99,
					     .pft = IOMMUSIM_PCI_FUNC_TYPE_ISM,
					     .tlb_refresh = true,
					     .start_dma = SZ_4K,
					     .end_dma = SZ_16G - 1,
					     .dma_mask = 0xffffffff };
	assert_int_equal(iommusim_zpci_fn_create(&cfg, &fn), 0);
	name[0] = 'X'; /* the name was copied */
	info = get_info(fn);
	assert_string_equal(info.name, "0001:00:00.0");
	assert_int_equal(info.fh, 0x1234);
	assert_int_equal(info.fid, 0x99);
	assert_int_equal(info.pft, IOMMUSIM_PCI_FUNC_TYPE_ISM);
	assert_true(info.tlb_refresh);
	assert_true(info.is_ism);
	assert_int_equal(info.start_dma, SZ_4K);
	assert_int_equal(info.end_dma, SZ_16G - 1);
	assert_int_equal(info.dma_mask, 0xffffffff);
	iommusim_zpci_fn_destroy(fn);
	iommusim_zpci_fn_destroy(NULL);
}

static void
test_zpci_create_rejects_bad_args(void **state)
{
	struct iommusim_zpci_fn_cfg cfg = { .fid = 1 };
	struct iommusim_zpci_fn *fn = (struct iommusim_zpci_fn *)&cfg;

	(void)state;
	assert_int_equal(iommusim_zpci_fn_create(NULL, &fn), -EINVAL);
	assert_int_equal(iommusim_zpci_fn_create(&cfg, NULL), -EINVAL);
	cfg.start_dma = SZ_16G;
	cfg.end_dma = SZ_16G - 1;
	assert_int_equal(iommusim_zpci_fn_create(&cfg, &fn), -EINVAL);
	/* start above the default end */
	cfg.start_dma = QEMU_EDMA + 1;
	cfg.end_dma = 0;
	assert_int_equal(iommusim_zpci_fn_create(&cfg, &fn), -EINVAL);
	/* explicit end below the default start */
	cfg.start_dma = 0;
	cfg.end_dma = SZ_4G - 1;
	assert_int_equal(iommusim_zpci_fn_create(&cfg, &fn), -EINVAL);
	assert_ptr_equal(fn, (struct iommusim_zpci_fn *)&cfg);
	/* a one-byte window is fine */
	cfg.start_dma = SZ_16G;
	cfg.end_dma = SZ_16G;
	assert_int_equal(iommusim_zpci_fn_create(&cfg, &fn), 0);
	iommusim_zpci_fn_destroy(fn);
}

static void
test_zpci_set_dma_window(void **state)
{
	struct fx *f = *state;
	struct iommusim_zpci_fn_info info;

	assert_int_equal(iommusim_zpci_fn_set_dma_window(f->fn, 0, SZ_4T - 1), 0);
	info = get_info(f->fn);
	assert_int_equal(info.start_dma, 0);
	assert_int_equal(info.end_dma, SZ_4T - 1);
	assert_int_equal(iommusim_zpci_fn_set_dma_window(f->fn, SZ_4G, SZ_4G), 0);
	assert_int_equal(get_info(f->fn).end_dma, SZ_4G);
	assert_int_equal(iommusim_zpci_fn_set_dma_window(f->fn, SZ_4G + 1, SZ_4G), -EINVAL);
	assert_int_equal(iommusim_zpci_fn_set_dma_window(NULL, 0, 1), -EINVAL);
	info = get_info(f->fn);
	assert_int_equal(info.start_dma, SZ_4G);
	assert_int_equal(info.end_dma, SZ_4G);
	assert_int_equal(iommusim_zpci_fn_info_get(NULL, &info), -EINVAL);
	assert_int_equal(iommusim_zpci_fn_info_get(f->fn, NULL), -EINVAL);
}

/* ------------------------------------------------------------------------ */
/* Allocation failures */

static void
test_zpci_create_enomem(void **state)
{
	struct iommusim_zpci_fn_cfg cfg = { .fid = 3 };
	struct iommusim_zpci_fn *fn;
	uint64_t nth;
	int ret;

	(void)state;
	/* fail each allocation of create in turn until create needs no more */
	for (nth = 1;; nth++) {
		fn = (struct iommusim_zpci_fn *)&cfg;
		ims_mem_fault_inject(nth, 1);
		ret = iommusim_zpci_fn_create(&cfg, &fn);
		ims_mem_fault_inject(0, 0);
		if (ret == 0)
			break;
		assert_int_equal(ret, -ENOMEM);
		assert_ptr_equal(fn, (struct iommusim_zpci_fn *)&cfg);
		assert_true(nth < 10);
	}
	/* the function and its name */
	assert_int_equal(nth, 3);
	assert_string_equal(get_info(fn).name, "fid 0x3");
	iommusim_zpci_fn_destroy(fn);
}

static void
test_zpci_canned_enomem(void **state)
{
	struct iommusim_zpci_canned *s = (struct iommusim_zpci_canned *)state;
	struct iommusim_zpci_fn *fn;
	unsigned i;

	ims_mem_fault_inject(1, 1);
	assert_int_equal(iommusim_zpci_canned_create(&s), -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_ptr_equal(s, (struct iommusim_zpci_canned *)state);
	assert_int_equal(iommusim_zpci_canned_create(&s), 0);
	fn = new_fn(s, 0);

	/* a push that cannot grow the queue queues nothing */
	ims_mem_fault_inject(1, 1);
	assert_int_equal(iommusim_zpci_canned_push(s, true, 3, 0, 1), -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_int_equal(
		iommusim_zpci_refresh_trans(fn, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0, NULL), 0);
	assert_int_equal(iommusim_zpci_canned_ncalls(s), 1);

	/* fill the call log to its capacity, then fail its growth: the answer
	 * is still given, the record is lost and counted */
	for (i = 1; i < 16; i++)
		assert_int_equal(iommusim_zpci_refresh_trans(fn, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC,
							     0, 0, NULL),
				 0);
	assert_int_equal(iommusim_zpci_canned_ncalls(s), 16);
	assert_int_equal(iommusim_zpci_canned_push(s, true, 1, 16, 1), 0);
	ims_mem_fault_inject(1, 1);
	assert_int_equal(
		iommusim_zpci_refresh_trans(fn, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0, NULL),
		-ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_int_equal(iommusim_zpci_canned_ncalls(s), 16);
	assert_int_equal(ims_zpci_canned_lost(s), 1);
	assert_int_equal(
		iommusim_zpci_refresh_trans(fn, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0, NULL), 0);
	assert_int_equal(iommusim_zpci_canned_ncalls(s), 17);
	iommusim_zpci_canned_reset(s);
	assert_int_equal(ims_zpci_canned_lost(s), 0);
	iommusim_zpci_fn_destroy(fn);
	iommusim_zpci_canned_destroy(s);
}

/* ------------------------------------------------------------------------ */
/* The script platform itself */

static void
test_zpci_canned_queues_and_reset(void **state)
{
	struct fx *f = *state;
	struct iommusim_zpci_canned_call c;
	unsigned cc = 99, i;
	uint8_t status = 99;

	assert_int_equal(iommusim_zpci_canned_push(f->s, true, 4, 0, 1), -EINVAL);
	assert_int_equal(iommusim_zpci_canned_push(f->s, true, 1, 0, 0), -EINVAL);
	assert_int_equal(iommusim_zpci_canned_push(NULL, true, 1, 0, 1), -EINVAL);
	assert_int_equal(iommusim_zpci_canned_ncalls(NULL), 0);
	assert_int_equal(iommusim_zpci_canned_call(NULL, 0, &c), -EINVAL);
	assert_int_equal(iommusim_zpci_canned_call(f->s, 0, NULL), -EINVAL);
	assert_int_equal(iommusim_zpci_canned_call(f->s, 0, &c), -ENOENT);
	iommusim_zpci_canned_reset(NULL);
	iommusim_zpci_canned_destroy(NULL);

	/* the MPCIFC queue does not feed RPCITs, and the other way round */
	assert_int_equal(iommusim_zpci_canned_push(f->s, false, 3, 44, 1), 0);
	assert_int_equal(iommusim_zpci_canned_push(f->s, true, 1, 8, 1), 0);
	assert_int_equal(refresh_with(f, 1, 16), -EIO); /* 8 was queued first */
	assert_int_equal(
		iommusim_zpci_register_ioat(f->fn, SZ_4G, SZ_16G, ORIGIN, NULL, &cc, &status), 0);
	assert_int_equal(cc, 3);
	assert_int_equal(status, 44);
	assert_int_equal(
		iommusim_zpci_refresh_trans(f->fn, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0, NULL),
		-ENOMEM); /* the st 16 pushed by refresh_with */
	assert_int_equal(
		iommusim_zpci_refresh_trans(f->fn, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0, NULL),
		0);
	assert_int_equal(iommusim_zpci_canned_ncalls(f->s), 4);
	assert_true(get_call(f->s, 0).is_rpcit);
	assert_false(get_call(f->s, 1).is_rpcit);

	/* many entries in FIFO order across growth and compaction */
	for (i = 0; i < 40; i++)
		assert_int_equal(iommusim_zpci_canned_push(f->s, true, 1, (uint8_t)i, 1 + i % 3),
				 0);
	for (i = 0; i < 20; i++) {
		unsigned k;

		for (k = 0; k < 1 + i % 3; k++)
			assert_int_equal(iommusim_zpci_refresh_trans(
						 f->fn, i, 1, IOMMUSIM_RPCIT_OTHER, 0, 0, NULL),
					 i == 4 || i == 16 ? -ENOMEM : -EIO);
	}
	for (i = 40; i < 70; i++)
		assert_int_equal(iommusim_zpci_canned_push(f->s, true, 1, (uint8_t)i, 1 + i % 3),
				 0);
	for (i = 20; i < 70; i++) {
		unsigned k;

		for (k = 0; k < 1 + i % 3; k++) {
			size_t n = iommusim_zpci_canned_ncalls(f->s);

			/* The call's cc is checked below, through the script. */
			IMS_IGNORE(iommusim_zpci_refresh_trans(f->fn, i, 1, IOMMUSIM_RPCIT_OTHER, 0,
							       0, NULL));
			c = get_call(f->s, n);
			assert_int_equal(c.cc, 1);
			assert_int_equal(c.status, i);
		}
	}
	assert_int_equal(refresh_with(f, 0, 0), 0);
	assert_int_equal(
		iommusim_zpci_refresh_trans(f->fn, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0, NULL),
		0);

	/* reset forgets calls and queued answers of both queues */
	assert_int_equal(iommusim_zpci_canned_push(f->s, true, 3, 0, 5), 0);
	assert_int_equal(iommusim_zpci_canned_push(f->s, false, 3, 0, 5), 0);
	iommusim_zpci_canned_reset(f->s);
	assert_int_equal(iommusim_zpci_canned_ncalls(f->s), 0);
	assert_int_equal(iommusim_zpci_canned_call(f->s, 0, &c), -ENOENT);
	assert_int_equal(
		iommusim_zpci_refresh_trans(f->fn, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0, NULL),
		0);
	assert_int_equal(
		iommusim_zpci_register_ioat(f->fn, SZ_4G, SZ_16G, ORIGIN, NULL, &cc, &status), 0);
	assert_int_equal(cc, 0);
	assert_int_equal(iommusim_zpci_canned_ncalls(f->s), 2);
}

/* ------------------------------------------------------------------------ */
/* Threads */

#define CT_THREADS 4
#define CT_OPS 5000

struct ct_arg {
	struct iommusim_zpci_fn *fn;
	unsigned cpu;
	unsigned enomem, eio, ok, other;
};

static atomic_uint ct_observed;
static atomic_uint ct_observed_enomem;

static void
ct_obs(void *priv, struct iommusim_zpci_fn *fn, const struct iommusim_rpcit *r)
{
	atomic_fetch_add(&ct_observed, 1);
	if (r->cc == 1)
		atomic_fetch_add(&ct_observed_enomem, 1);
}

static const struct iommusim_zpci_observer_ops ct_obs_ops = { .rpcit = ct_obs };

static void *
ct_main(void *p)
{
	struct ct_arg *a = p;
	struct iommusim_ctx ctx = { .cpu = a->cpu };
	unsigned i;

	for (i = 0; i < CT_OPS; i++) {
		int ret = iommusim_zpci_refresh_trans(a->fn, SZ_4G + i * SZ_4K, SZ_4K,
						      (enum iommusim_rpcit_reason)(i % 3), 0, 0,
						      &ctx);

		if (ret == 0)
			a->ok++;
		else if (ret == -ENOMEM)
			a->enomem++;
		else if (ret == -EIO)
			a->eio++;
		else
			a->other++;
	}
	return NULL;
}

static void
test_zpci_concurrent_refresh(void **state)
{
	struct fx *f = *state;
	struct ct_arg a[CT_THREADS];
	pthread_t tid[CT_THREADS];
	struct iommusim_zpci_fn_stats st;
	unsigned k, ok = 0, enomem = 0, cpus[CT_THREADS] = { 0 };
	size_t i, n;

	atomic_store(&ct_observed, 0);
	atomic_store(&ct_observed_enomem, 0);
	/* 1000 answers of cc 2 (retried) and 1000 of cc 1/16, shared by all */
	assert_int_equal(iommusim_zpci_canned_push(f->s, true, 2, 0, 1000), 0);
	assert_int_equal(iommusim_zpci_canned_push(f->s, true, 1, 16, 1000), 0);
	assert_int_equal(iommusim_zpci_fn_observer_set(f->fn, &ct_obs_ops, NULL), 0);
	for (k = 0; k < CT_THREADS; k++) {
		a[k] = (struct ct_arg){ .fn = f->fn, .cpu = k };
		assert_int_equal(pthread_create(&tid[k], NULL, ct_main, &a[k]), 0);
	}
	for (k = 0; k < CT_THREADS; k++) {
		assert_int_equal(pthread_join(tid[k], NULL), 0);
		assert_int_equal(a[k].eio, 0);
		assert_int_equal(a[k].other, 0);
		ok += a[k].ok;
		enomem += a[k].enomem;
	}
	assert_int_equal(iommusim_zpci_fn_observer_set(f->fn, NULL, NULL), 0);
	assert_int_equal(ok + enomem, CT_THREADS * CT_OPS);
	assert_int_equal(enomem, 1000);
	assert_int_equal(atomic_load(&ct_observed), CT_THREADS * CT_OPS);
	assert_int_equal(atomic_load(&ct_observed_enomem), 1000);
	st = get_stats(f->fn);
	assert_int_equal(st.rpcits, CT_THREADS * CT_OPS);
	assert_int_equal(st.busy_retries, 1000);
	assert_int_equal(st.enomem, 1000);
	assert_int_equal(st.bytes_refreshed, CT_THREADS * CT_OPS * SZ_4K);
	assert_int_equal(st.by_reason[0] + st.by_reason[1] + st.by_reason[2], st.rpcits);
	n = iommusim_zpci_canned_ncalls(f->s);
	assert_int_equal(n, CT_THREADS * CT_OPS + 1000);
	for (i = 0; i < n; i++)
		cpus[get_call(f->s, i).rpcit.cpu]++;
	for (k = 0; k < CT_THREADS; k++)
		assert_true(cpus[k] >= CT_OPS);
}

/* ------------------------------------------------------------------------ */

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_zpci_tv21_outcomes, setup_fn, teardown_fn),
		cmocka_unit_test_setup_teardown(test_zpci_cc1_status_mapping, setup_fn,
						teardown_fn),
		cmocka_unit_test(test_zpci_busy_cap_gives_up),
		cmocka_unit_test(test_zpci_refresh_records_call),
		cmocka_unit_test_setup_teardown(test_zpci_observer_sees_final_outcome_once,
						setup_fn, teardown_fn),
		cmocka_unit_test_setup_teardown(test_zpci_stats_per_reason, setup_fn, teardown_fn),
		cmocka_unit_test(test_zpci_reason_names),
		cmocka_unit_test(test_zpci_null_platform_answers_cc0),
		cmocka_unit_test(test_zpci_dma_window_boundaries),
		cmocka_unit_test(test_zpci_s390_iommu_aperture),
		cmocka_unit_test_setup_teardown(test_zpci_register_ioat_pci, setup_fn, teardown_fn),
		cmocka_unit_test(test_zpci_register_ioat_ism_pal),
		cmocka_unit_test(test_zpci_register_ioat_zero_origin_is_direct),
		cmocka_unit_test_setup_teardown(test_zpci_register_ioat_misaligned_origin, setup_fn,
						teardown_fn),
		cmocka_unit_test_setup_teardown(test_zpci_register_ioat_busy_retries_1ms, setup_fn,
						teardown_fn),
		cmocka_unit_test_setup_teardown(test_zpci_register_ioat_error_leaves_no_anchor,
						setup_fn, teardown_fn),
		cmocka_unit_test_setup_teardown(test_zpci_unregister_ioat, setup_fn, teardown_fn),
		cmocka_unit_test(test_zpci_create_defaults),
		cmocka_unit_test(test_zpci_create_rejects_bad_args),
		cmocka_unit_test_setup_teardown(test_zpci_set_dma_window, setup_fn, teardown_fn),
		cmocka_unit_test(test_zpci_create_enomem),
		cmocka_unit_test(test_zpci_canned_enomem),
		cmocka_unit_test_setup_teardown(test_zpci_canned_queues_and_reset, setup_fn,
						teardown_fn),
		cmocka_unit_test_setup_teardown(test_zpci_concurrent_refresh, setup_fn,
						teardown_fn),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("zpci", tests, NULL, NULL);
}
