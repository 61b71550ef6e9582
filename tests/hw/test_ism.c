/* SPDX-License-Identifier: MIT */
/*
 * Tests of the ISM device model (lib/ism.c) against KERNEL_SPEC.md §8: DMB
 * bookkeeping, the §8 scenarios expressed as direct RPCITs (strict unmap,
 * sync_map, global flush, -ENOMEM recovery), range edges, the sticky error
 * state and the event log, a randomised test against a per-page model, and a
 * multi-threaded test.
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

#include <iommusim/ism.h>
#include <iommusim/zpci.h>

#include "base/mem_int.h"

#define SZ_4K UINT64_C(0x1000)
#define SZ_1M (UINT64_C(1) << 20)
#define SZ_4G (UINT64_C(1) << 32)
#define SZ_16G (UINT64_C(1) << 34)
/* the QEMU window trimmed by a 16 GiB aperture: [4 GiB, 20 GiB) */
#define WIN_START SZ_4G
#define WIN_LEN SZ_16G

/* ------------------------------------------------------------------------ */
/* A fixed clock and CPU for the RPCITs */

static uint64_t
clk_now(void *priv)
{
	return *(const uint64_t *)priv;
}

static const struct iommusim_ctx_ops clk_ops = { .now_ns = clk_now };

/* ------------------------------------------------------------------------ */
/* Fixture: an ISM function on the script platform, with the model attached */

struct fx {
	struct iommusim_zpci_canned *s;
	struct iommusim_zpci_fn *fn;
	struct iommusim_ism *ism;
	uint64_t now;
	struct iommusim_ctx ctx;
};

static struct iommusim_zpci_fn *
new_fn(struct iommusim_zpci_canned *s, uint8_t pft)
{
	struct iommusim_zpci_fn_cfg cfg;
	struct iommusim_zpci_fn *fn = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.fid = 0x21;
	cfg.pft = pft;
	cfg.tlb_refresh = true;
	cfg.platform = s ? &iommusim_zpci_canned_ops : NULL;
	cfg.platform_priv = s;
	assert_int_equal(iommusim_zpci_fn_create(&cfg, &fn), 0);
	return fn;
}

static int
setup_ism(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || iommusim_zpci_canned_create(&f->s))
		return -1;
	f->fn = new_fn(f->s, IOMMUSIM_PCI_FUNC_TYPE_ISM);
	if (iommusim_zpci_fn_set_dma_window(f->fn, WIN_START, WIN_START + WIN_LEN - 1))
		return -1;
	if (iommusim_ism_create(f->fn, &f->ism))
		return -1;
	f->ctx.ops = &clk_ops;
	f->ctx.priv = &f->now;
	*state = f;
	return 0;
}

static int
teardown_ism(void **state)
{
	struct fx *f = *state;

	iommusim_ism_destroy(f->ism);
	iommusim_zpci_fn_destroy(f->fn);
	iommusim_zpci_canned_destroy(f->s);
	free(f);
	return 0;
}

static uint64_t
dmb(struct fx *f, uint64_t iova, uint64_t len)
{
	uint64_t tok = 0;

	assert_int_equal(iommusim_ism_dmb_register(f->ism, iova, len, &tok), 0);
	assert_int_not_equal(tok, 0);
	return tok;
}

static int
rpcit(struct fx *f, uint64_t addr, uint64_t range, enum iommusim_rpcit_reason reason,
      uint64_t map_iova, uint64_t map_len)
{
	return iommusim_zpci_refresh_trans(f->fn, addr, range, reason, map_iova, map_len, &f->ctx);
}

static struct iommusim_ism_event
event(struct fx *f, size_t i)
{
	struct iommusim_ism_event ev;

	memset(&ev, 0xa5, sizeof(ev));
	assert_int_equal(iommusim_ism_event_get(f->ism, i, &ev), 0);
	return ev;
}

static struct iommusim_ism_stats
stats(struct iommusim_ism *ism)
{
	struct iommusim_ism_stats st;

	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(iommusim_ism_stats_get(ism, &st), 0);
	return st;
}

/* The single event since the last reset: its IOVA, token and exposed bytes. */
static void
expect_one_event(struct fx *f, uint64_t iova, uint64_t token, uint64_t exposed)
{
	struct iommusim_ism_event ev;

	assert_true(iommusim_ism_in_error(f->ism));
	assert_int_equal(iommusim_ism_nevents(f->ism), 1);
	ev = event(f, 0);
	assert_int_equal(ev.iova, iova);
	assert_int_equal(ev.dmb_token, token);
	assert_int_equal(ev.exposed_bytes, exposed);
}

static void
expect_clean(struct fx *f)
{
	assert_false(iommusim_ism_in_error(f->ism));
	assert_int_equal(iommusim_ism_nevents(f->ism), 0);
}

/* ------------------------------------------------------------------------ */
/* Create / destroy */

static void
test_ism_create_rejects_non_ism(void **state)
{
	struct iommusim_zpci_fn *pci = new_fn(NULL, 0), *ismfn = new_fn(NULL, 5);
	struct iommusim_ism *ism = (struct iommusim_ism *)state, *ism2;

	(void)state;
	assert_int_equal(iommusim_ism_create(pci, &ism), -EINVAL);
	assert_int_equal(iommusim_ism_create(NULL, &ism), -EINVAL);
	assert_int_equal(iommusim_ism_create(ismfn, NULL), -EINVAL);
	assert_ptr_equal(ism, (struct iommusim_ism *)state);
	assert_int_equal(iommusim_ism_create(ismfn, &ism), 0);
	/* one observer per function */
	assert_int_equal(iommusim_ism_create(ismfn, &ism2), -EBUSY);
	iommusim_ism_destroy(ism);
	/* destroy freed the observer slot */
	assert_int_equal(iommusim_ism_create(ismfn, &ism2), 0);
	iommusim_ism_destroy(ism2);
	iommusim_ism_destroy(NULL);
	assert_int_equal(
		iommusim_zpci_refresh_trans(ismfn, 0, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0, NULL), 0);
	iommusim_zpci_fn_destroy(ismfn);
	iommusim_zpci_fn_destroy(pci);
}

static void
test_ism_create_enomem(void **state)
{
	struct iommusim_zpci_fn *fn = new_fn(NULL, IOMMUSIM_PCI_FUNC_TYPE_ISM);
	struct iommusim_ism *ism = NULL;

	(void)state;
	ims_mem_fault_inject(1, 1);
	assert_int_equal(iommusim_ism_create(fn, &ism), -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_null(ism);
	/* no observer was left behind */
	assert_int_equal(iommusim_ism_create(fn, &ism), 0);
	iommusim_ism_destroy(ism);
	iommusim_zpci_fn_destroy(fn);
}

static void
test_ism_null_args(void **state)
{
	struct iommusim_ism_event ev;
	struct iommusim_ism_stats st;
	struct fx *f = *state;
	uint64_t tok;

	assert_int_equal(iommusim_ism_dmb_register(NULL, SZ_4G, SZ_4K, &tok), -EINVAL);
	assert_int_equal(iommusim_ism_dmb_register(f->ism, SZ_4G, SZ_4K, NULL), -EINVAL);
	assert_int_equal(iommusim_ism_dmb_unregister(NULL, 1), -EINVAL);
	assert_false(iommusim_ism_iova_in_use(NULL, SZ_4G));
	assert_false(iommusim_ism_in_error(NULL));
	iommusim_ism_reset(NULL);
	assert_int_equal(iommusim_ism_nevents(NULL), 0);
	assert_int_equal(iommusim_ism_event_get(NULL, 0, &ev), -EINVAL);
	assert_int_equal(iommusim_ism_event_get(f->ism, 0, NULL), -EINVAL);
	assert_int_equal(iommusim_ism_event_get(f->ism, 0, &ev), -ENOENT);
	assert_int_equal(iommusim_ism_stats_get(NULL, &st), -EINVAL);
	assert_int_equal(iommusim_ism_stats_get(f->ism, NULL), -EINVAL);
}

/* ------------------------------------------------------------------------ */
/* DMBs */

static void
test_ism_dmb_register_unregister(void **state)
{
	struct fx *f = *state;
	struct iommusim_ism_stats st;
	uint64_t a, b, c, tok = 0;

	a = dmb(f, SZ_4G + 0x10000, 0x4000);
	b = dmb(f, SZ_4G, 0x2000);
	c = dmb(f, SZ_4G + 0x100000, 1);
	/* distinct, increasing tokens */
	assert_true(a < b && b < c);
	assert_false(iommusim_ism_iova_in_use(f->ism, SZ_4G + 0x10000 - 1));
	assert_true(iommusim_ism_iova_in_use(f->ism, SZ_4G + 0x10000));
	assert_true(iommusim_ism_iova_in_use(f->ism, SZ_4G + 0x13fff));
	assert_false(iommusim_ism_iova_in_use(f->ism, SZ_4G + 0x14000));
	assert_true(iommusim_ism_iova_in_use(f->ism, SZ_4G));
	assert_false(iommusim_ism_iova_in_use(f->ism, SZ_4G - 1));
	assert_true(iommusim_ism_iova_in_use(f->ism, SZ_4G + 0x100000));
	assert_false(iommusim_ism_iova_in_use(f->ism, SZ_4G + 0x100001));
	st = stats(f->ism);
	assert_int_equal(st.dmbs, 3);
	assert_int_equal(st.dmb_bytes, 0x6001);

	assert_int_equal(iommusim_ism_dmb_unregister(f->ism, a), 0);
	assert_int_equal(iommusim_ism_dmb_unregister(f->ism, a), -ENOENT);
	assert_int_equal(iommusim_ism_dmb_unregister(f->ism, 0), -ENOENT);
	assert_int_equal(iommusim_ism_dmb_unregister(f->ism, c + 1), -ENOENT);
	assert_false(iommusim_ism_iova_in_use(f->ism, SZ_4G + 0x10000));
	assert_true(iommusim_ism_iova_in_use(f->ism, SZ_4G + 0x1fff));
	st = stats(f->ism);
	assert_int_equal(st.dmbs, 2);
	assert_int_equal(st.dmb_bytes, 0x2001);
	/* the range is free again; the new DMB gets a new token */
	tok = dmb(f, SZ_4G + 0x10000, 0x4000);
	assert_true(tok > c);
	assert_int_equal(iommusim_ism_dmb_unregister(f->ism, b), 0);
	assert_int_equal(iommusim_ism_dmb_unregister(f->ism, c), 0);
	assert_int_equal(iommusim_ism_dmb_unregister(f->ism, tok), 0);
	st = stats(f->ism);
	assert_int_equal(st.dmbs, 0);
	assert_int_equal(st.dmb_bytes, 0);

	/* len 0 and wrapping ranges; one ending at the top is fine */
	assert_int_equal(iommusim_ism_dmb_register(f->ism, SZ_4G, 0, &tok), -EINVAL);
	assert_int_equal(iommusim_ism_dmb_register(f->ism, UINT64_MAX, 2, &tok), -EINVAL);
	assert_int_equal(iommusim_ism_dmb_register(f->ism, UINT64_MAX - SZ_4K + 1, SZ_4K + 1, &tok),
			 -EINVAL);
	tok = dmb(f, UINT64_MAX - SZ_4K + 1, SZ_4K);
	assert_true(iommusim_ism_iova_in_use(f->ism, UINT64_MAX));
	assert_int_equal(iommusim_ism_dmb_unregister(f->ism, tok), 0);
}

static void
test_ism_dmb_overlap(void **state)
{
	struct fx *f = *state;
	const uint64_t base = SZ_4G + SZ_1M;
	uint64_t tok = 0;

	(void)dmb(f, base, 0x4000);
	assert_int_equal(iommusim_ism_dmb_register(f->ism, base, 0x4000, &tok), -EEXIST);
	assert_int_equal(iommusim_ism_dmb_register(f->ism, base - 0x1000, 0x1001, &tok), -EEXIST);
	assert_int_equal(iommusim_ism_dmb_register(f->ism, base + 0x3fff, 0x1000, &tok), -EEXIST);
	assert_int_equal(iommusim_ism_dmb_register(f->ism, base + 0x1000, 0x1000, &tok), -EEXIST);
	assert_int_equal(iommusim_ism_dmb_register(f->ism, base - 0x1000, 0x10000, &tok), -EEXIST);
	assert_int_equal(tok, 0);
	assert_int_equal(stats(f->ism).dmbs, 1);
	/* adjacent on both sides */
	(void)dmb(f, base - 0x1000, 0x1000);
	(void)dmb(f, base + 0x4000, 0x1000);
	/* between two others, overlapping the later one by a byte */
	(void)dmb(f, base + 0x8000, 0x1000);
	assert_int_equal(iommusim_ism_dmb_register(f->ism, base + 0x5000, 0x3001, &tok), -EEXIST);
	(void)dmb(f, base + 0x5000, 0x3000);
	assert_int_equal(stats(f->ism).dmbs, 5);
	assert_int_equal(stats(f->ism).dmb_bytes, 0x4000 + 0x1000 * 3 + 0x3000);
}

static void
test_ism_dmb_register_enomem(void **state)
{
	struct fx *f = *state;
	uint64_t tok = 77;
	unsigned i;

	ims_mem_fault_inject(1, 1);
	assert_int_equal(iommusim_ism_dmb_register(f->ism, SZ_4G, SZ_4K, &tok), -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_int_equal(tok, 77);
	assert_false(iommusim_ism_iova_in_use(f->ism, SZ_4G));
	assert_int_equal(stats(f->ism).dmbs, 0);
	/* and when the array has to grow */
	for (i = 0; i < 16; i++)
		(void)dmb(f, SZ_4G + i * SZ_4K, SZ_4K);
	ims_mem_fault_inject(1, 1);
	assert_int_equal(iommusim_ism_dmb_register(f->ism, SZ_4G + 16 * SZ_4K, SZ_4K, &tok),
			 -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_false(iommusim_ism_iova_in_use(f->ism, SZ_4G + 16 * SZ_4K));
	for (i = 0; i < 16; i++)
		assert_true(iommusim_ism_iova_in_use(f->ism, SZ_4G + i * SZ_4K));
	assert_int_equal(stats(f->ism).dmbs, 16);
}

/* ------------------------------------------------------------------------ */
/* The §8 scenarios, as the RPCITs the kernel would issue */

/* Strict unmap (ISM is never lazy, §3.7): the RPCIT covers just the
 * unmapped IOVAs, which hold no DMB (the driver unregisters first). */
static void
test_ism_strict_unmap_exposes_nothing(void **state)
{
	struct fx *f = *state;
	uint64_t first;

	first = dmb(f, SZ_4G, 0x10000);
	(void)dmb(f, SZ_4G + 0x20000, 0x10000);
	/* the buffer between them was just unmapped */
	assert_int_equal(rpcit(f, SZ_4G + 0x10000, 0x10000, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	expect_clean(f);
	/* unregister, then unmap: its own RPCIT exposes nothing either */
	assert_int_equal(iommusim_ism_dmb_unregister(f->ism, first), 0);
	assert_int_equal(rpcit(f, SZ_4G, 0x10000, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	expect_clean(f);
	assert_int_equal(stats(f->ism).rpcits_seen, 2);
}

/*
 * ism.h: a DMB is registered after its buffer is DMA-mapped, so the
 * sync_map RPCIT of the mapping runs before the DMB exists. Registering it
 * first is also safe: the range being mapped by that very sync_map is not
 * counted. A SYNC over the same range would be.
 */
static void
test_ism_sync_map_of_new_dmb_exposes_nothing(void **state)
{
	struct fx *f = *state;
	const uint64_t old = SZ_4G, fresh = SZ_4G + 0x40000, len = 0x20000;
	uint64_t tok, old_tok;

	old_tok = dmb(f, old, 0x10000);
	/* map, sync_map, then register (the driver's order) */
	assert_int_equal(rpcit(f, fresh, len, IOMMUSIM_RPCIT_SYNC_MAP, fresh, len), 0);
	tok = dmb(f, fresh, len);
	expect_clean(f);
	assert_int_equal(iommusim_ism_dmb_unregister(f->ism, tok), 0);
	/* register first: still nothing exposed */
	tok = dmb(f, fresh, len);
	assert_int_equal(rpcit(f, fresh, len, IOMMUSIM_RPCIT_SYNC_MAP, fresh, len), 0);
	expect_clean(f);
	/* the exemption is the map range of sync_map, not any range */
	assert_int_equal(rpcit(f, fresh, len, IOMMUSIM_RPCIT_SYNC, fresh, len), 0);
	expect_one_event(f, fresh, tok, len);
	assert_int_equal(event(f, 0).reason, IOMMUSIM_RPCIT_SYNC);
	iommusim_ism_reset(f->ism);
	/* beyond the mapped range, free IOVAs are harmless, another DMB is not */
	assert_int_equal(rpcit(f, fresh - SZ_4K, len + SZ_4K, IOMMUSIM_RPCIT_SYNC_MAP, fresh, len),
			 0);
	expect_clean(f);
	assert_int_equal(rpcit(f, old, fresh + len - old, IOMMUSIM_RPCIT_SYNC_MAP, fresh, len), 0);
	expect_one_event(f, old, old_tok, 0x10000);
}

/* A global flush (the flush queue's flush_iotlb_all, §3.6) over the whole
 * window while DMBs are registered: the device sees them (§8). */
static void
test_ism_global_flush_caught(void **state)
{
	struct fx *f = *state;
	struct iommusim_ism_event ev;
	uint64_t a, b;

	a = dmb(f, SZ_4G + 0x200000, 0x8000);
	b = dmb(f, SZ_4G + 0x100000, 0x1000); /* registered later, lower IOVA */
	f->now = 777;
	f->ctx.cpu = 2;
	assert_int_equal(rpcit(f, WIN_START, WIN_LEN, IOMMUSIM_RPCIT_GLOBAL_FLUSH, 0, 0), 0);
	assert_true(iommusim_ism_in_error(f->ism));
	assert_int_equal(iommusim_ism_nevents(f->ism), 1);
	ev = event(f, 0);
	assert_int_equal(ev.time_ns, 777);
	assert_int_equal(ev.cpu, 2);
	assert_int_equal(ev.rpcit_addr, WIN_START);
	assert_int_equal(ev.rpcit_len, WIN_LEN);
	assert_int_equal(ev.reason, IOMMUSIM_RPCIT_GLOBAL_FLUSH);
	assert_int_equal(ev.iova, SZ_4G + 0x100000);
	assert_int_equal(ev.dmb_token, b);
	assert_int_equal(ev.exposed_bytes, 0x9000);
	assert_int_not_equal(a, b);
	assert_int_equal(iommusim_ism_event_get(f->ism, 1, &ev), -ENOENT);
}

/*
 * sync_map of a new buffer answered cc 1 / status 16 (-ENOMEM, §5.1), then
 * the recovery refresh of the whole window (§3.6): it exposes every other
 * DMB; the new buffer's range (even if registered already) is not counted.
 * The device inspects whatever the RPCIT's outcome.
 */
static void
test_ism_enomem_recovery_caught(void **state)
{
	struct fx *f = *state;
	const uint64_t map = SZ_4G + 0x10000, map_len = 0x8000;
	struct iommusim_ism_event ev;
	uint64_t newtok, other, third;

	newtok = dmb(f, map, map_len); /* lowest IOVA, but the one being mapped */
	other = dmb(f, SZ_4G + 0x40000, 0x3000);
	third = dmb(f, SZ_4G + 0x80000, 0x1000);
	f->now = 4242;
	f->ctx.cpu = 1;
	assert_int_equal(iommusim_zpci_canned_push(f->s, true, 1, 16, 2), 0);
	assert_int_equal(rpcit(f, map, map_len, IOMMUSIM_RPCIT_SYNC_MAP, map, map_len), -ENOMEM);
	expect_clean(f);
	/* the recovery itself is refused too: still inspected */
	assert_int_equal(rpcit(f, WIN_START, WIN_LEN, IOMMUSIM_RPCIT_ENOMEM_RECOVERY, map, map_len),
			 -ENOMEM);
	assert_true(iommusim_ism_in_error(f->ism));
	ev = event(f, 0);
	assert_int_equal(ev.iova, SZ_4G + 0x40000);
	assert_int_equal(ev.dmb_token, other);
	assert_int_equal(ev.exposed_bytes, 0x4000);
	assert_int_equal(ev.reason, IOMMUSIM_RPCIT_ENOMEM_RECOVERY);
	assert_int_equal(ev.time_ns, 4242);
	assert_int_equal(ev.cpu, 1);
	assert_int_equal(ev.rpcit_addr, WIN_START);
	assert_int_equal(ev.rpcit_len, WIN_LEN);
	assert_int_not_equal(newtok, other);

	/* only the other DMBs: with them gone the recovery is harmless */
	iommusim_ism_reset(f->ism);
	assert_int_equal(iommusim_ism_dmb_unregister(f->ism, other), 0);
	assert_int_equal(iommusim_ism_dmb_unregister(f->ism, third), 0);
	assert_int_equal(rpcit(f, WIN_START, WIN_LEN, IOMMUSIM_RPCIT_ENOMEM_RECOVERY, map, map_len),
			 0);
	expect_clean(f);
	/* a global flush (no map range) does count it */
	assert_int_equal(rpcit(f, WIN_START, WIN_LEN, IOMMUSIM_RPCIT_GLOBAL_FLUSH, map, map_len),
			 0);
	expect_one_event(f, map, newtok, map_len);
}

/* ------------------------------------------------------------------------ */
/* Range edges */

static void
test_ism_partial_overlaps(void **state)
{
	struct fx *f = *state;
	const uint64_t d = SZ_4G + 0x10000; /* DMB [d, d + 0x8000) */
	uint64_t t, u;

	t = dmb(f, d, 0x8000);
	/* ending exactly at the DMB / starting exactly at its end */
	assert_int_equal(rpcit(f, d - 0x8000, 0x8000, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	assert_int_equal(rpcit(f, d + 0x8000, 0x8000, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	expect_clean(f);
	/* ending inside */
	assert_int_equal(rpcit(f, d - 0x8000, 0xa000, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	expect_one_event(f, d, t, 0x2000);
	iommusim_ism_reset(f->ism);
	/* ending one byte inside */
	assert_int_equal(rpcit(f, d - 0x8000, 0x8001, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	expect_one_event(f, d, t, 1);
	iommusim_ism_reset(f->ism);
	/* starting inside, not page aligned: the IOVA is rounded down */
	assert_int_equal(rpcit(f, d + 0x4800, 0x10000, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	expect_one_event(f, d + 0x4000, t, 0x3800);
	iommusim_ism_reset(f->ism);
	/* the DMB is larger than the range */
	assert_int_equal(rpcit(f, d + 0x1000, 0x1000, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	expect_one_event(f, d + 0x1000, t, 0x1000);
	iommusim_ism_reset(f->ism);
	/* the last byte only */
	assert_int_equal(rpcit(f, d + 0x7fff, 1, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	expect_one_event(f, d + 0x7000, t, 1);
	iommusim_ism_reset(f->ism);
	/* sync_map: the map range cut out of the middle, the start, the end */
	assert_int_equal(rpcit(f, d, 0x8000, IOMMUSIM_RPCIT_SYNC_MAP, d + 0x2000, 0x2000), 0);
	expect_one_event(f, d, t, 0x6000);
	iommusim_ism_reset(f->ism);
	assert_int_equal(rpcit(f, d, 0x8000, IOMMUSIM_RPCIT_SYNC_MAP, d - 0x1000, 0x4000), 0);
	expect_one_event(f, d + 0x3000, t, 0x5000);
	iommusim_ism_reset(f->ism);
	assert_int_equal(rpcit(f, d, 0x8000, IOMMUSIM_RPCIT_SYNC_MAP, d + 0x6000, 0x4000), 0);
	expect_one_event(f, d, t, 0x6000);
	iommusim_ism_reset(f->ism);
	assert_int_equal(rpcit(f, d - 0x1000, 0xa000, IOMMUSIM_RPCIT_SYNC_MAP, d, 0x8000), 0);
	expect_clean(f);
	/* a map range one byte short on either side leaves that byte exposed */
	assert_int_equal(rpcit(f, d, 0x8000, IOMMUSIM_RPCIT_SYNC_MAP, d + 1, 0x8000), 0);
	expect_one_event(f, d, t, 1);
	iommusim_ism_reset(f->ism);
	assert_int_equal(rpcit(f, d, 0x8000, IOMMUSIM_RPCIT_ENOMEM_RECOVERY, d, 0x7fff), 0);
	expect_one_event(f, d + 0x7000, t, 1);
	iommusim_ism_reset(f->ism);
	/* a DMB that is not page aligned: its IOVA rounded down */
	u = dmb(f, SZ_4G + 0x21800, 0x1000);
	assert_int_equal(rpcit(f, SZ_4G + 0x20000, 0x4000, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	expect_one_event(f, SZ_4G + 0x21000, u, 0x1000);
	iommusim_ism_reset(f->ism);
	/* spanning both DMBs and the gap: the lower one is reported */
	assert_int_equal(rpcit(f, d + 0x7000, 0x14000, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	expect_one_event(f, d + 0x7000, t, 0x2000);
}

static void
test_ism_range_zero_and_top(void **state)
{
	struct fx *f = *state;
	uint64_t t, low;

	t = dmb(f, UINT64_MAX - 0x1fff, 0x2000);
	low = dmb(f, SZ_4G, SZ_4K);
	/* a zero range inspects nothing */
	assert_int_equal(rpcit(f, SZ_4G, 0, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	expect_clean(f);
	/* a range running past 2^64 is cut at the top */
	assert_int_equal(rpcit(f, UINT64_MAX - 0xfff, 0x10000, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	expect_one_event(f, UINT64_MAX - 0xfff, t, 0x1000);
	iommusim_ism_reset(f->ism);
	assert_int_equal(rpcit(f, 0, UINT64_MAX, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	expect_one_event(f, SZ_4G, low, SZ_4K + 0x1fff);
	iommusim_ism_reset(f->ism);
	/* a map range running past 2^64 is cut too */
	assert_int_equal(rpcit(f, UINT64_MAX - 0x1fff, 0x2000, IOMMUSIM_RPCIT_SYNC_MAP,
			       UINT64_MAX - 0xfff, 0x10000),
			 0);
	expect_one_event(f, UINT64_MAX - 0x1fff, t, 0x1000);
}

/* ------------------------------------------------------------------------ */
/* Error state, event log, counters */

static void
test_ism_error_sticky_until_reset(void **state)
{
	struct fx *f = *state;
	struct iommusim_ism_stats st;
	uint64_t tok;

	tok = dmb(f, SZ_4G, SZ_4K);
	assert_int_equal(rpcit(f, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_GLOBAL_FLUSH, 0, 0), 0);
	assert_true(iommusim_ism_in_error(f->ism));
	/* harmless RPCITs do not clear it */
	assert_int_equal(rpcit(f, SZ_4G + SZ_4K, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	assert_true(iommusim_ism_in_error(f->ism));
	assert_int_equal(iommusim_ism_nevents(f->ism), 1);
	/* nor does unregistering the DMB */
	assert_int_equal(iommusim_ism_dmb_unregister(f->ism, tok), 0);
	assert_true(iommusim_ism_in_error(f->ism));
	iommusim_ism_reset(f->ism);
	expect_clean(f);
	/* the counters stay */
	st = stats(f->ism);
	assert_int_equal(st.events, 1);
	assert_int_equal(st.rpcits_seen, 2);
	/* and it can happen again */
	tok = dmb(f, SZ_4G, SZ_4K);
	assert_int_equal(rpcit(f, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	expect_one_event(f, SZ_4G, tok, SZ_4K);
	assert_int_equal(stats(f->ism).events, 2);
}

static void
test_ism_event_log_cap(void **state)
{
	struct fx *f = *state;
	struct iommusim_ism_event ev;
	unsigned i;

	(void)dmb(f, SZ_4G, SZ_4K);
	for (i = 0; i < IOMMUSIM_ISM_EVENT_LOG_MAX + 10; i++) {
		f->now = i;
		assert_int_equal(rpcit(f, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	}
	assert_int_equal(iommusim_ism_nevents(f->ism), IOMMUSIM_ISM_EVENT_LOG_MAX);
	assert_int_equal(stats(f->ism).events, IOMMUSIM_ISM_EVENT_LOG_MAX + 10);
	/* the first ones are kept */
	for (i = 0; i < IOMMUSIM_ISM_EVENT_LOG_MAX; i += 511)
		assert_int_equal(event(f, i).time_ns, i);
	assert_int_equal(event(f, IOMMUSIM_ISM_EVENT_LOG_MAX - 1).time_ns,
			 IOMMUSIM_ISM_EVENT_LOG_MAX - 1);
	assert_int_equal(iommusim_ism_event_get(f->ism, IOMMUSIM_ISM_EVENT_LOG_MAX, &ev), -ENOENT);
	/* reset makes room again */
	iommusim_ism_reset(f->ism);
	f->now = 99999;
	assert_int_equal(rpcit(f, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	assert_int_equal(iommusim_ism_nevents(f->ism), 1);
	assert_int_equal(event(f, 0).time_ns, 99999);
}

static void
test_ism_event_log_enomem(void **state)
{
	struct fx *f = *state;

	/* the log cannot grow: the event is counted, the state is set */
	(void)dmb(f, SZ_4G, SZ_4K);
	ims_mem_fault_inject(1, 1000);
	assert_int_equal(rpcit(f, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	ims_mem_fault_inject(0, 0);
	assert_true(iommusim_ism_in_error(f->ism));
	assert_int_equal(iommusim_ism_nevents(f->ism), 0);
	assert_int_equal(stats(f->ism).events, 1);
	assert_int_equal(rpcit(f, SZ_4G, SZ_4K, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	assert_int_equal(iommusim_ism_nevents(f->ism), 1);
	assert_int_equal(stats(f->ism).events, 2);
}

static void
test_ism_stats(void **state)
{
	struct fx *f = *state;
	struct iommusim_ism_stats st;

	st = stats(f->ism);
	assert_int_equal(st.rpcits_seen, 0);
	assert_int_equal(st.bytes_inspected, 0);
	assert_int_equal(st.events, 0);
	(void)dmb(f, SZ_4G + SZ_1M, 0x3000);
	assert_int_equal(rpcit(f, SZ_4G, 0x2000, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	assert_int_equal(rpcit(f, SZ_4G, 0, IOMMUSIM_RPCIT_SYNC, 0, 0), 0);
	assert_int_equal(iommusim_zpci_canned_push(f->s, true, 3, 0, 1), 0);
	assert_int_equal(rpcit(f, SZ_4G, 2 * SZ_1M, IOMMUSIM_RPCIT_GLOBAL_FLUSH, 0, 0), -EIO);
	st = stats(f->ism);
	assert_int_equal(st.rpcits_seen, 3);
	assert_int_equal(st.bytes_inspected, 0x2000 + 2 * SZ_1M);
	assert_int_equal(st.events, 1);
	assert_int_equal(st.dmbs, 1);
	assert_int_equal(st.dmb_bytes, 0x3000);
	/* the function counts the same RPCITs */
	{
		struct iommusim_zpci_fn_stats fs;

		assert_int_equal(iommusim_zpci_fn_stats_get(f->fn, &fs), 0);
		assert_int_equal(fs.rpcits, st.rpcits_seen);
		assert_int_equal(fs.bytes_refreshed, st.bytes_inspected);
	}
}

/* ------------------------------------------------------------------------ */
/* Randomised: DMBs and RPCITs against a per-page model */

#define PM_PAGES 512u
#define PM_BASE (SZ_4G + 64 * SZ_4K) /* model pages [PM_BASE, PM_BASE + PM_PAGES pages) */
#define PM_RPCITS 10000u

struct pm {
	uint64_t rng;
	uint64_t owner[PM_PAGES]; /* DMB token per page, 0 = free */
	uint64_t live[PM_PAGES]; /* live tokens */
	uint64_t first[PM_PAGES], npages[PM_PAGES];
	unsigned nlive;
	bool in_error; /* the device's sticky state, as the model expects it */
};

static uint64_t
pm_rnd(struct pm *m)
{
	m->rng ^= m->rng << 13;
	m->rng ^= m->rng >> 7;
	m->rng ^= m->rng << 17;
	return m->rng;
}

static uint64_t
pm_page_iova(int64_t page)
{
	return PM_BASE + (uint64_t)page * SZ_4K;
}

static void
pm_register(struct fx *f, struct pm *m)
{
	unsigned p = (unsigned)(pm_rnd(m) % PM_PAGES), n = 1 + (unsigned)(pm_rnd(m) % 24), k;
	bool overlap = false;
	uint64_t tok = 0;
	int ret;

	if (p + n > PM_PAGES)
		n = PM_PAGES - p;
	for (k = p; k < p + n; k++)
		overlap |= m->owner[k] != 0;
	ret = iommusim_ism_dmb_register(f->ism, pm_page_iova(p), n * SZ_4K, &tok);
	if (overlap) {
		assert_int_equal(ret, -EEXIST);
		return;
	}
	assert_int_equal(ret, 0);
	for (k = p; k < p + n; k++)
		m->owner[k] = tok;
	m->live[m->nlive] = tok;
	m->first[m->nlive] = p;
	m->npages[m->nlive] = n;
	m->nlive++;
}

static void
pm_unregister(struct fx *f, struct pm *m)
{
	unsigned i = (unsigned)(pm_rnd(m) % m->nlive), k;

	assert_int_equal(iommusim_ism_dmb_unregister(f->ism, m->live[i]), 0);
	for (k = 0; k < m->npages[i]; k++)
		m->owner[m->first[i] + k] = 0;
	m->nlive--;
	m->live[i] = m->live[m->nlive];
	m->first[i] = m->first[m->nlive];
	m->npages[i] = m->npages[m->nlive];
}

/* A random page range, sometimes reaching outside the model window. */
static void
pm_range(struct pm *m, int64_t *first, uint64_t *n)
{
	switch (pm_rnd(m) % 4) {
	case 0:
	case 1:
		*first = (int64_t)(pm_rnd(m) % (PM_PAGES + 32)) - 16;
		*n = 1 + pm_rnd(m) % 32;
		break;
	case 2:
		*first = (int64_t)(pm_rnd(m) % (PM_PAGES + 32)) - 16;
		*n = 1 + pm_rnd(m) % PM_PAGES;
		break;
	default: /* the whole DMA window */
		*first = -64;
		*n = WIN_LEN / SZ_4K;
		break;
	}
}

static void
pm_rpcit(struct fx *f, struct pm *m, unsigned cpu, uint64_t now)
{
	enum iommusim_rpcit_reason reason =
		(enum iommusim_rpcit_reason)(pm_rnd(m) % IOMMUSIM_RPCIT_NR_REASONS);
	int64_t first, mfirst = 0, p;
	uint64_t n, mn = 0, exposed = 0, low = 0, tok = 0;
	bool exempt;
	size_t before = iommusim_ism_nevents(f->ism);

	pm_range(m, &first, &n);
	if (pm_rnd(m) % 3)
		pm_range(m, &mfirst, &mn);
	exempt = mn &&
		 (reason == IOMMUSIM_RPCIT_SYNC_MAP || reason == IOMMUSIM_RPCIT_ENOMEM_RECOVERY);
	/* brute force, page by page, over the model's pages */
	for (p = 0; p < (int64_t)PM_PAGES; p++) {
		if (p < first || (uint64_t)(p - first) >= n || !m->owner[p])
			continue;
		if (exempt && p >= mfirst && (uint64_t)(p - mfirst) < mn)
			continue;
		if (!exposed) {
			low = pm_page_iova(p);
			tok = m->owner[p];
		}
		exposed += SZ_4K;
	}
	f->now = now;
	f->ctx.cpu = cpu;
	/* the outcome must not matter */
	if (pm_rnd(m) % 4 == 0)
		assert_int_equal(iommusim_zpci_canned_push(f->s, true, 1, 16, 1), 0);
	(void)rpcit(f, pm_page_iova(first), n * SZ_4K, reason, mn ? pm_page_iova(mfirst) : 0,
		    mn * SZ_4K);
	if (!exposed) {
		assert_int_equal(iommusim_ism_in_error(f->ism), m->in_error);
		assert_int_equal(iommusim_ism_nevents(f->ism), before);
		return;
	}
	{
		struct iommusim_ism_event ev;

		assert_true(iommusim_ism_in_error(f->ism));
		assert_int_equal(iommusim_ism_nevents(f->ism), before + 1);
		ev = event(f, before);
		if (ev.iova != low || ev.dmb_token != tok || ev.exposed_bytes != exposed)
			fail_msg("rpcit [%#" PRIx64 ", +%#" PRIx64 ") %s map [%#" PRIx64
				 ", +%#" PRIx64 "): got iova %#" PRIx64 " token %" PRIu64
				 " exposed %#" PRIx64 ", want %#" PRIx64 " %" PRIu64 " %#" PRIx64,
				 pm_page_iova(first), n * SZ_4K, iommusim_rpcit_reason_name(reason),
				 pm_page_iova(mfirst), mn * SZ_4K, ev.iova, ev.dmb_token,
				 ev.exposed_bytes, low, tok, exposed);
		assert_int_equal(ev.rpcit_addr, pm_page_iova(first));
		assert_int_equal(ev.rpcit_len, n * SZ_4K);
		assert_int_equal(ev.reason, reason);
		assert_int_equal(ev.time_ns, now);
		assert_int_equal(ev.cpu, cpu);
	}
	/* sticky until reset, which is done now and then */
	m->in_error = true;
	if (before + 1 == 64 || pm_rnd(m) % 2) {
		iommusim_ism_reset(f->ism);
		m->in_error = false;
		assert_false(iommusim_ism_in_error(f->ism));
		assert_int_equal(iommusim_ism_nevents(f->ism), 0);
	}
}

static void
pm_run(uint64_t seed)
{
	struct fx *f;
	struct pm *m = calloc(1, sizeof(*m));
	struct iommusim_ism_stats st;
	unsigned rpcits = 0, k;
	uint64_t bytes = 0, events_before;
	void *fs = NULL;

	assert_non_null(m);
	assert_int_equal(setup_ism(&fs), 0);
	f = fs;
	m->rng = seed;
	events_before = stats(f->ism).events;
	while (rpcits < PM_RPCITS) {
		unsigned op = (unsigned)(pm_rnd(m) % 10);

		if (op < 2 && m->nlive < PM_PAGES)
			pm_register(f, m);
		else if (op < 3 && m->nlive)
			pm_unregister(f, m);
		else {
			pm_rpcit(f, m, (unsigned)(pm_rnd(m) % 8), rpcits * 10);
			rpcits++;
		}
		if (pm_rnd(m) % 8 == 0) {
			uint64_t probe = pm_rnd(m) % (PM_PAGES * SZ_4K + 2 * SZ_4K);
			uint64_t iova = PM_BASE - SZ_4K + probe;
			int64_t page = (int64_t)(probe / SZ_4K) - 1;
			bool in = page >= 0 && page < (int64_t)PM_PAGES && m->owner[page];

			assert_int_equal(iommusim_ism_iova_in_use(f->ism, iova), in);
		}
	}
	st = stats(f->ism);
	assert_int_equal(st.rpcits_seen, PM_RPCITS);
	assert_int_equal(st.dmbs, m->nlive);
	for (k = 0; k < m->nlive; k++)
		bytes += m->npages[k] * SZ_4K;
	assert_int_equal(st.dmb_bytes, bytes);
	assert_true(st.events > events_before);
	print_message("# ism model seed %#" PRIx64 ": %u RPCITs, %" PRIu64 " events, %u DMBs\n",
		      seed, rpcits, st.events, m->nlive);
	teardown_ism(&fs);
	free(m);
}

static void
test_ism_property_random_vs_page_model(void **state)
{
	static const uint64_t seeds[] = { 0x9E3779B97F4A7C15, 0x1234567, 0xdeadbeefcafe, 42 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		pm_run(seeds[i]);
}

/* ------------------------------------------------------------------------ */
/* Threads: RPCITs on several CPUs while DMBs come and go */

#define MT_THREADS 4
#define MT_OPS 1000 /* per thread; MT_THREADS * MT_OPS <= the event log */
#define MT_FIXED (SZ_4G + 0x4000)
#define MT_FIXED_LEN 0x4000
#define MT_CHURN (SZ_4G + SZ_1M) /* 64 slots of 16 KiB */
#define MT_SLOTS 64
#define MT_SLOT 0x4000

struct mt_arg {
	struct fx *f;
	unsigned cpu;
	uint64_t rng;
	int bad;
};

static atomic_bool mt_stop;

static void *
mt_rpcit_main(void *p)
{
	struct mt_arg *a = p;
	struct iommusim_ctx ctx = { .cpu = a->cpu };
	unsigned i;

	for (i = 0; i < MT_OPS; i++) {
		uint64_t addr, len;
		int ret;

		a->rng ^= a->rng << 13;
		a->rng ^= a->rng >> 7;
		a->rng ^= a->rng << 17;
		if (i % 2 == 0) {
			addr = MT_FIXED;
			len = MT_FIXED_LEN;
		} else {
			addr = MT_CHURN + (a->rng % MT_SLOTS) * MT_SLOT;
			len = (1 + (a->rng >> 32) % 8) * MT_SLOT;
		}
		ret = iommusim_zpci_refresh_trans(a->f->fn, addr, len, IOMMUSIM_RPCIT_SYNC, 0, 0,
						  &ctx);
		if (ret)
			a->bad++;
	}
	return NULL;
}

static void *
mt_churn_main(void *p)
{
	struct mt_arg *a = p;
	uint64_t tok[MT_SLOTS] = { 0 };
	unsigned i, n = 0;

	while (!atomic_load(&mt_stop) || n < 2000) {
		unsigned s;
		struct iommusim_ism_stats st;

		a->rng ^= a->rng << 13;
		a->rng ^= a->rng >> 7;
		a->rng ^= a->rng << 17;
		s = (unsigned)(a->rng % MT_SLOTS);
		if (tok[s]) {
			if (iommusim_ism_dmb_unregister(a->f->ism, tok[s]))
				a->bad++;
			tok[s] = 0;
		} else if (iommusim_ism_dmb_register(a->f->ism, MT_CHURN + s * MT_SLOT, MT_SLOT,
						     &tok[s])) {
			a->bad++;
		}
		/* readers, concurrently */
		(void)iommusim_ism_in_error(a->f->ism);
		(void)iommusim_ism_nevents(a->f->ism);
		(void)iommusim_ism_iova_in_use(a->f->ism, MT_CHURN + s * MT_SLOT);
		if (iommusim_ism_stats_get(a->f->ism, &st))
			a->bad++;
		n++;
	}
	for (i = 0; i < MT_SLOTS; i++)
		if (tok[i] && iommusim_ism_dmb_unregister(a->f->ism, tok[i]))
			a->bad++;
	return NULL;
}

static void
test_ism_concurrent_rpcits_and_dmbs(void **state)
{
	struct fx *f = *state;
	struct mt_arg a[MT_THREADS + 1];
	pthread_t tid[MT_THREADS + 1];
	unsigned k, fixed[MT_THREADS] = { 0 }, churn = 0;
	struct iommusim_ism_stats st;
	uint64_t fixed_tok;
	size_t i, n;

	fixed_tok = dmb(f, MT_FIXED, MT_FIXED_LEN);
	atomic_store(&mt_stop, false);
	for (k = 0; k <= MT_THREADS; k++) {
		a[k] = (struct mt_arg){ .f = f, .cpu = k, .rng = 0x9E3779B97F4A7C15 * (k + 1) };
		assert_int_equal(pthread_create(&tid[k], NULL,
						k < MT_THREADS ? mt_rpcit_main : mt_churn_main,
						&a[k]),
				 0);
	}
	for (k = 0; k < MT_THREADS; k++)
		assert_int_equal(pthread_join(tid[k], NULL), 0);
	atomic_store(&mt_stop, true);
	assert_int_equal(pthread_join(tid[MT_THREADS], NULL), 0);
	for (k = 0; k <= MT_THREADS; k++)
		assert_int_equal(a[k].bad, 0);

	st = stats(f->ism);
	assert_int_equal(st.rpcits_seen, MT_THREADS * MT_OPS);
	assert_int_equal(st.dmbs, 1);
	assert_int_equal(st.dmb_bytes, MT_FIXED_LEN);
	/* every RPCIT over the fixed DMB was caught, with its CPU; the others
	 * were caught only over a churn DMB */
	assert_true(st.events >= MT_THREADS * MT_OPS / 2);
	n = iommusim_ism_nevents(f->ism);
	assert_int_equal(n, st.events);
	for (i = 0; i < n; i++) {
		struct iommusim_ism_event ev = event(f, i);

		assert_true(ev.cpu < MT_THREADS);
		if (ev.rpcit_addr == MT_FIXED) {
			assert_int_equal(ev.dmb_token, fixed_tok);
			assert_int_equal(ev.iova, MT_FIXED);
			assert_int_equal(ev.exposed_bytes, MT_FIXED_LEN);
			fixed[ev.cpu]++;
		} else {
			assert_true(ev.dmb_token > fixed_tok);
			assert_true(ev.iova >= ev.rpcit_addr &&
				    ev.iova < ev.rpcit_addr + ev.rpcit_len);
			assert_int_equal(ev.exposed_bytes % MT_SLOT, 0);
			assert_true(ev.exposed_bytes > 0 && ev.exposed_bytes <= ev.rpcit_len);
			churn++;
		}
	}
	for (k = 0; k < MT_THREADS; k++)
		assert_int_equal(fixed[k], MT_OPS / 2);
	print_message("# ism threads: %u churn events\n", churn);
}

/* ------------------------------------------------------------------------ */

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ism_create_rejects_non_ism),
		cmocka_unit_test(test_ism_create_enomem),
		cmocka_unit_test_setup_teardown(test_ism_null_args, setup_ism, teardown_ism),
		cmocka_unit_test_setup_teardown(test_ism_dmb_register_unregister, setup_ism,
						teardown_ism),
		cmocka_unit_test_setup_teardown(test_ism_dmb_overlap, setup_ism, teardown_ism),
		cmocka_unit_test_setup_teardown(test_ism_dmb_register_enomem, setup_ism,
						teardown_ism),
		cmocka_unit_test_setup_teardown(test_ism_strict_unmap_exposes_nothing, setup_ism,
						teardown_ism),
		cmocka_unit_test_setup_teardown(test_ism_sync_map_of_new_dmb_exposes_nothing,
						setup_ism, teardown_ism),
		cmocka_unit_test_setup_teardown(test_ism_global_flush_caught, setup_ism,
						teardown_ism),
		cmocka_unit_test_setup_teardown(test_ism_enomem_recovery_caught, setup_ism,
						teardown_ism),
		cmocka_unit_test_setup_teardown(test_ism_partial_overlaps, setup_ism, teardown_ism),
		cmocka_unit_test_setup_teardown(test_ism_range_zero_and_top, setup_ism,
						teardown_ism),
		cmocka_unit_test_setup_teardown(test_ism_error_sticky_until_reset, setup_ism,
						teardown_ism),
		cmocka_unit_test_setup_teardown(test_ism_event_log_cap, setup_ism, teardown_ism),
		cmocka_unit_test_setup_teardown(test_ism_event_log_enomem, setup_ism, teardown_ism),
		cmocka_unit_test_setup_teardown(test_ism_stats, setup_ism, teardown_ism),
		cmocka_unit_test(test_ism_property_random_vs_page_model),
		cmocka_unit_test_setup_teardown(test_ism_concurrent_rpcits_and_dmbs, setup_ism,
						teardown_ism),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("ism", tests, NULL, NULL);
}
