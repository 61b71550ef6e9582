/* SPDX-License-Identifier: MIT */
/*
 * Tests of the pre-6.7 s390 DMA API (lib/legacy_s390_dma.c) against
 * KERNEL_SPEC.md §6 and TV-28: set-up and its failures, the bitmap allocator
 * (next-fit, the last page, segment boundaries, lazy vs strict reuse), the
 * purges and their -ENOMEM recovery, map_page/unmap_page, coherent
 * allocations, map_sg chunking, counters, the generic DMA handle, a
 * model-based random test and a multi-threaded run.
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

#include <iommusim/dma.h>
#include <iommusim/legacy_s390_dma.h>
#include <iommusim/zpci.h>
#include <iommusim/zpci_table.h>

#include "kernel/legacy_s390_dma_int.h"
#include "base/mem_int.h"
#include "test_common.h"

#define PG UINT64_C(4096)
#define SZ_64K (UINT64_C(64) << 10)
#define SZ_1M (UINT64_C(1) << 20)
#define SZ_4G (UINT64_C(1) << 32)
#define SZ_16G (UINT64_C(16) << 30)
#define SZ_4T (UINT64_C(1) << 42)
#define QEMU_EDMA UINT64_C(0x1ffffffffffffff)
#define MAXCALLS 64
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------------ */
/* Fixture: one function on a script platform and its legacy DMA instance */

struct fix {
	struct iommusim_zpci_canned *script;
	struct iommusim_zpci_fn *fn;
	struct iommusim_legacy_dma *l;
	struct iommusim_dma dma;
};

static int
setup_fix(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(iommusim_zpci_canned_create(&f->script), 0);
	*state = f;
	return 0;
}

static int
teardown_fix(void **state)
{
	struct fix *f = *state;

	ims_mem_fault_inject(0, 0);
	iommusim_legacy_dma_destroy(f->l, NULL);
	iommusim_zpci_fn_destroy(f->fn);
	iommusim_zpci_canned_destroy(f->script);
	free(f);
	return 0;
}

/* A function with the window [start, end] and @tlb_refresh. */
static void
fix_fn(struct fix *f, uint64_t start, uint64_t end, bool tlb_refresh)
{
	const struct iommusim_zpci_fn_cfg cfg = {
		.fid = 0x42,
		.tlb_refresh = tlb_refresh,
		.start_dma = start,
		.end_dma = end,
		.platform = &iommusim_zpci_canned_ops,
		.platform_priv = f->script,
	};

	assert_int_equal(iommusim_zpci_fn_create(&cfg, &f->fn), 0);
}

/* fix_fn() plus the instance with @cfg; the script is reset afterwards. */
static void
fix_start(struct fix *f, uint64_t start, uint64_t end, bool tlb_refresh,
	  const struct iommusim_legacy_dma_cfg *cfg)
{
	fix_fn(f, start, end, tlb_refresh);
	assert_int_equal(iommusim_legacy_dma_create(f->fn, cfg, NULL, &f->l, &f->dma), 0);
	assert_non_null(f->l);
	iommusim_zpci_canned_reset(f->script);
}

/* The common case: a window of @pages pages at 4 GiB. */
static void
fix_small(struct fix *f, uint64_t pages, bool strict, bool tlb_refresh)
{
	const struct iommusim_legacy_dma_cfg cfg = { .strict = strict, .aperture = pages * PG };

	fix_start(f, SZ_4G, QEMU_EDMA, tlb_refresh, &cfg);
}

static struct iommusim_legacy_dma_counters
ctrs(const struct fix *f)
{
	struct iommusim_legacy_dma_counters c;
	uint64_t m, u;

	assert_int_equal(iommusim_legacy_dma_counters_get(f->l, &c), 0);
	/* the run's shortcut to the two page counters */
	ims_legacy_dma_pages(f->l, &m, &u);
	assert_int_equal(m, c.mapped_pages);
	assert_int_equal(u, c.unmapped_pages);
	return c;
}

static struct iommusim_legacy_dma_info
info(const struct fix *f)
{
	struct iommusim_legacy_dma_info i;

	assert_int_equal(iommusim_legacy_dma_info_get(f->l, &i), 0);
	return i;
}

static struct iommusim_dma_stats
stats(const struct fix *f)
{
	struct iommusim_dma_stats s;

	assert_int_equal(iommusim_dma_stats_get(&f->dma, &s), 0);
	return s;
}

static void
check_ok(const struct iommusim_legacy_dma *l)
{
	char why[128] = "";

	if (ims_legacy_dma_check(l, why, sizeof(why)))
		fail_msg("invariant broken: %s", why);
}

/* The recorded RPCITs (@rpcit) or MPCIFCs, in order; returns how many. */
static size_t
calls(const struct fix *f, bool rpcit, struct iommusim_zpci_canned_call *out, size_t max)
{
	size_t i, n = 0, total = iommusim_zpci_canned_ncalls(f->script);

	for (i = 0; i < total; i++) {
		struct iommusim_zpci_canned_call c;

		assert_int_equal(iommusim_zpci_canned_call(f->script, i, &c), 0);
		if (c.is_rpcit != rpcit)
			continue;
		if (n < max)
			out[n] = c;
		n++;
	}
	return n;
}

static size_t
nrpcits(const struct fix *f)
{
	return calls(f, true, NULL, 0);
}

static void
expect_rpcit(const struct iommusim_zpci_canned_call *c, enum iommusim_rpcit_reason reason,
	     uint64_t addr, uint64_t range)
{
	assert_true(c->is_rpcit);
	if (c->rpcit.reason != reason)
		fail_msg("RPCIT reason %s, expected %s",
			 iommusim_rpcit_reason_name(c->rpcit.reason),
			 iommusim_rpcit_reason_name(reason));
	assert_int_equal(c->rpcit.addr, addr);
	assert_int_equal(c->rpcit.range, range);
}

static uint64_t
pte_at(const struct fix *f, uint64_t iova)
{
	uint64_t pte = 0;

	assert_int_equal(iommusim_zpci_table_entry(ims_legacy_dma_table(f->l), iova, 3, &pte), 0);
	return pte;
}

static uint64_t
alloc_ok(struct fix *f, uint64_t npages)
{
	uint64_t addr = 0;

	assert_int_equal(ims_legacy_dma_alloc_address(f->l, npages, NULL, &addr), 0);
	return addr;
}

static int
alloc_ret(struct fix *f, uint64_t npages)
{
	uint64_t addr = 0;

	return ims_legacy_dma_alloc_address(f->l, npages, NULL, &addr);
}

static uint64_t
map_ok(struct fix *f, uint64_t pa, uint64_t size, enum iommusim_dma_dir dir)
{
	uint64_t dma = 0;

	assert_int_equal(iommusim_dma_map_page(&f->dma, pa, size, dir, 0, NULL, &dma), 0);
	return dma;
}

static int
map_ret(struct fix *f, uint64_t pa, uint64_t size, enum iommusim_dma_dir dir)
{
	uint64_t dma = 0;

	return iommusim_dma_map_page(&f->dma, pa, size, dir, 0, NULL, &dma);
}

/* ------------------------------------------------------------------------ */
/* TV-28 and the allocator */

/* TV-28, verbatim. */
static void
test_legacy_s390_dma_tv28(void **state)
{
	struct fix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];

	fix_small(f, 16, false, false);
	assert_int_equal(info(f).iommu_pages, 16);
	assert_int_equal(info(f).start_dma, SZ_4G);
	assert_int_equal(alloc_ok(f, 4), UINT64_C(0x100000000));
	assert_int_equal(alloc_ok(f, 4), UINT64_C(0x100004000));
	assert_int_equal(alloc_ok(f, 4), UINT64_C(0x100008000));
	assert_int_equal(info(f).next_bit, 12);
	assert_int_equal(nrpcits(f), 0);

	/* pages 12-15 are clear, but 15 is the excluded last page */
	assert_int_equal(alloc_ret(f, 4), -ENOSPC);
	assert_int_equal(calls(f, true, c, MAXCALLS), 1);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_LEGACY_GLOBAL, SZ_4G, 16 * PG);
	assert_int_equal(info(f).next_bit, 12);
	assert_false(ims_legacy_dma_page_used(f->l, 12));

	ims_legacy_dma_free_address(f->l, UINT64_C(0x100000000), 4);
	assert_int_equal(ctrs(f).lazy_pages, 4);
	assert_int_equal(ctrs(f).used_pages, 12);
	assert_int_equal(alloc_ok(f, 4), UINT64_C(0x100000000));
	assert_int_equal(calls(f, true, c, MAXCALLS), 2);
	expect_rpcit(&c[1], IOMMUSIM_RPCIT_LEGACY_GLOBAL, SZ_4G, 16 * PG);
	assert_int_equal(info(f).next_bit, 4);
	assert_int_equal(ctrs(f).global_rpcits, 2);
	assert_int_equal(ctrs(f).wraps, 2);
	assert_int_equal(ctrs(f).lazy_pages, 0);
	assert_int_equal(ctrs(f).used_pages, 12);
	check_ok(f->l);
}

/* TV-28 through the DMA API: 16 KiB maps. */
static void
test_legacy_s390_dma_tv28_through_map_page(void **state)
{
	struct fix *f = *state;

	fix_small(f, 16, false, false);
	assert_int_equal(map_ok(f, 0x10000, 4 * PG, IOMMUSIM_DMA_BIDIRECTIONAL), 0x100000000);
	assert_int_equal(map_ok(f, 0x20000, 4 * PG, IOMMUSIM_DMA_BIDIRECTIONAL), 0x100004000);
	assert_int_equal(map_ok(f, 0x30000, 4 * PG, IOMMUSIM_DMA_BIDIRECTIONAL), 0x100008000);
	assert_int_equal(map_ret(f, 0x40000, 4 * PG, IOMMUSIM_DMA_BIDIRECTIONAL), -ENOSPC);
	assert_int_equal(nrpcits(f), 1);
	assert_int_equal(stats(f).map_errors, 1);
	assert_int_equal(iommusim_dma_unmap_page(&f->dma, 0x100000000, 4 * PG,
						 IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL),
			 0);
	/* lazy: no RPCIT on unmap, and the entries are invalid at once */
	assert_int_equal(nrpcits(f), 1);
	assert_false(iommusim_zpci_pte_is_valid(pte_at(f, 0x100000000)));
	assert_int_equal(map_ok(f, 0x50000, 4 * PG, IOMMUSIM_DMA_BIDIRECTIONAL), 0x100000000);
	assert_int_equal(nrpcits(f), 2);
	assert_int_equal(info(f).next_bit, 4);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(ims_legacy_dma_table(f->l), 0x100003000),
			 0x53000);
}

/* §6.2: ascending next-fit, no natural alignment, freed holes skipped until the wrap. */
static void
test_legacy_s390_dma_next_fit_ascending_unaligned(void **state)
{
	struct fix *f = *state;
	const uint64_t b = SZ_4G;

	fix_small(f, 64, true, false);
	assert_int_equal(alloc_ok(f, 1), b);
	assert_int_equal(alloc_ok(f, 3), b + 1 * PG); /* not aligned to 4 */
	assert_int_equal(alloc_ok(f, 2), b + 4 * PG);
	assert_int_equal(alloc_ok(f, 8), b + 6 * PG); /* not aligned to 8 */
	assert_int_equal(info(f).next_bit, 14);
	/* strict frees are reusable at once, but the search goes on upwards */
	ims_legacy_dma_free_address(f->l, b, 1);
	ims_legacy_dma_free_address(f->l, b + 4 * PG, 2);
	assert_int_equal(alloc_ok(f, 1), b + 14 * PG);
	assert_int_equal(alloc_ok(f, 2), b + 15 * PG);
	/* a run of used bits inside the candidate restarts after it */
	assert_int_equal(alloc_ok(f, 40), b + 17 * PG);
	assert_int_equal(info(f).next_bit, 57);
	/* 57..62 fits 6 exactly (63 is the last page) */
	assert_int_equal(alloc_ok(f, 6), b + 57 * PG);
	assert_int_equal(info(f).next_bit, 63);
	/* nothing from 63: wrap to the first fit from 0, which is the hole 4-5
	 * (0 is free but 1 is not); strict mode issues no RPCIT */
	assert_int_equal(alloc_ok(f, 2), b + 4 * PG);
	assert_int_equal(ctrs(f).wraps, 1);
	assert_int_equal(info(f).next_bit, 6);
	assert_int_equal(alloc_ok(f, 1), b);
	assert_int_equal(ctrs(f).wraps, 2);
	assert_int_equal(alloc_ret(f, 1), -ENOSPC);
	assert_int_equal(ctrs(f).wraps, 3);
	assert_int_equal(info(f).next_bit, 1);
	assert_int_equal(ctrs(f).global_rpcits, 0);
	assert_int_equal(nrpcits(f), 0);
	assert_int_equal(ctrs(f).used_pages, 63);
	check_ok(f->l);
}

/* §6.2 step 1: the last page of the window is never handed out. */
static void
test_legacy_s390_dma_last_page_never_used(void **state)
{
	struct fix *f = *state;
	unsigned i;

	fix_small(f, 16, true, false);
	for (i = 0; i < 15; i++)
		assert_int_equal(alloc_ok(f, 1), SZ_4G + i * PG);
	assert_int_equal(alloc_ret(f, 1), -ENOSPC);
	assert_false(ims_legacy_dma_page_used(f->l, 15));
	for (i = 0; i < 15; i++)
		ims_legacy_dma_free_address(f->l, SZ_4G + i * PG, 1);
	assert_int_equal(ctrs(f).used_pages, 0);
	/* the whole usable window at once, but never 16 */
	assert_int_equal(alloc_ret(f, 16), -ENOSPC);
	assert_int_equal(alloc_ok(f, 15), SZ_4G);
	check_ok(f->l);
}

/* The same across a word boundary: 65 pages, the last one is bit 0 of word 1. */
static void
test_legacy_s390_dma_last_page_in_partial_word(void **state)
{
	struct fix *f = *state;

	fix_small(f, 65, false, false);
	assert_int_equal(info(f).iommu_pages, 65);
	assert_int_equal(alloc_ok(f, 63), SZ_4G);
	assert_int_equal(alloc_ok(f, 1), SZ_4G + 63 * PG);
	assert_int_equal(alloc_ret(f, 1), -ENOSPC);
	assert_false(ims_legacy_dma_page_used(f->l, 64));
	assert_int_equal(ctrs(f).global_rpcits, 1);
	check_ok(f->l);
}

/* §6.2 step 3: the default boundary is 4 GiB of absolute IOVA space. */
static void
test_legacy_s390_dma_seg_boundary_4g(void **state)
{
	struct fix *f = *state;
	const struct iommusim_legacy_dma_cfg cfg = { .strict = true, .aperture = SZ_1M };
	const uint64_t b = 2 * SZ_4G - 8 * PG; /* 8 pages below 8 GiB */

	fix_start(f, b, QEMU_EDMA, false, &cfg);
	assert_int_equal(info(f).start_dma, b);
	assert_int_equal(alloc_ok(f, 4), b);
	/* 4..9 would cross 8 GiB: restart at the boundary */
	assert_int_equal(alloc_ok(f, 6), 2 * SZ_4G);
	assert_int_equal(info(f).next_bit, 14);
	assert_int_equal(alloc_ok(f, 2), b + 14 * PG);
	assert_int_equal(alloc_ok(f, 239), b + 16 * PG); /* up to the last page, 255 */
	/* the hole 4..7 ends exactly at the boundary: it fits after the wrap */
	assert_int_equal(alloc_ok(f, 4), b + 4 * PG);
	assert_int_equal(ctrs(f).wraps, 1);
	check_ok(f->l);
}

/* A smaller boundary from the cfg, a window not aligned to it, and a request
 * longer than the boundary (the kernel would spin; refused at once). */
static void
test_legacy_s390_dma_seg_boundary_cfg(void **state)
{
	struct fix *f = *state;
	const struct iommusim_legacy_dma_cfg cfg = {
		.aperture = 256 * PG,
		.seg_boundary_pages = 16,
	};
	const struct iommusim_legacy_dma_cfg bad = { .seg_boundary_pages = 12 };
	const uint64_t b = SZ_4G + 4 * PG; /* absolute page 4 mod 16 */
	struct iommusim_legacy_dma *l2 = NULL;

	fix_start(f, b, QEMU_EDMA, false, &cfg);
	assert_int_equal(alloc_ok(f, 10), b); /* 4 + 10 <= 16 */
	assert_int_equal(alloc_ok(f, 4), b + 12 * PG); /* 14 + 4 > 16: to index 12 */
	assert_int_equal(alloc_ok(f, 16), b + 28 * PG); /* index 16 is 4 mod 16 */
	assert_int_equal(info(f).next_bit, 44);
	assert_int_equal(alloc_ok(f, 1), b + 44 * PG);
	assert_int_equal(alloc_ret(f, 17), -ENOSPC);
	assert_int_equal(info(f).next_bit, 45);
	assert_int_equal(ctrs(f).wraps, 0);
	assert_int_equal(nrpcits(f), 0);
	assert_int_equal(map_ret(f, 0x1000, 17 * PG, IOMMUSIM_DMA_TO_DEVICE), -ENOSPC);
	assert_int_equal(nrpcits(f), 0);
	/* iommu_is_span_boundary() needs a power of two */
	assert_int_equal(iommusim_legacy_dma_create(f->fn, &bad, NULL, &l2, NULL), -EINVAL);
	assert_null(l2);
	check_ok(f->l);
}

/* §6.2: strict frees are reusable after the next wrap with no global RPCIT. */
static void
test_legacy_s390_dma_strict_reuses_without_global(void **state)
{
	struct fix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	unsigned i;

	fix_small(f, 16, true, false);
	for (i = 0; i < 30; i++) {
		uint64_t want = SZ_4G + (i % 3) * 4 * PG, dma;

		dma = map_ok(f, 0x100000 + i * 4 * PG, 4 * PG, IOMMUSIM_DMA_FROM_DEVICE);
		assert_int_equal(dma, want);
		assert_int_equal(iommusim_dma_unmap_page(&f->dma, dma, 4 * PG,
							 IOMMUSIM_DMA_FROM_DEVICE, 0, NULL),
				 0);
		/* strict: cleared at once */
		assert_false(ims_legacy_dma_page_used(f->l, (i % 3) * 4));
	}
	assert_int_equal(ctrs(f).global_rpcits, 0);
	assert_int_equal(ctrs(f).wraps, 9);
	/* one ranged RPCIT per unmap and nothing else */
	assert_int_equal(calls(f, true, c, MAXCALLS), 30);
	expect_rpcit(&c[29], IOMMUSIM_RPCIT_LEGACY_UNMAP, SZ_4G + 8 * PG, 4 * PG);
	assert_int_equal(ctrs(f).unmap_rpcits, 30);
	check_ok(f->l);
}

/* §6.2: lazy frees wait for the next global RPCIT. */
static void
test_legacy_s390_dma_lazy_waits_for_global(void **state)
{
	struct fix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	unsigned i, round;

	fix_small(f, 64, false, false);
	for (round = 0; round < 3; round++) {
		for (i = 0; i < 63; i++) {
			uint64_t dma = map_ok(f, 0x5000, PG, IOMMUSIM_DMA_BIDIRECTIONAL);

			/* ascending, never an address freed since the last flush */
			assert_int_equal(dma, SZ_4G + i * PG);
			assert_int_equal(calls(f, true, c, MAXCALLS), round);
			assert_int_equal(iommusim_dma_unmap_page(&f->dma, dma, PG,
								 IOMMUSIM_DMA_BIDIRECTIONAL, 0,
								 NULL),
					 0);
			assert_true(ims_legacy_dma_page_lazy(f->l, i));
			assert_true(ims_legacy_dma_page_used(f->l, i));
		}
		assert_int_equal(ctrs(f).lazy_pages, 63);
		assert_int_equal(stats(f).iova_pages_live, 0);
	}
	/* the 3rd round's last unmap leaves 63 lazy pages: the next map flushes */
	assert_int_equal(map_ok(f, 0x5000, PG, IOMMUSIM_DMA_BIDIRECTIONAL), SZ_4G);
	assert_int_equal(calls(f, true, c, MAXCALLS), 3);
	for (i = 0; i < 3; i++)
		expect_rpcit(&c[i], IOMMUSIM_RPCIT_LEGACY_GLOBAL, SZ_4G, 64 * PG);
	assert_int_equal(ctrs(f).wraps, 3);
	assert_int_equal(ctrs(f).global_rpcits, 3);
	assert_int_equal(ctrs(f).lazy_pages, 0);
	assert_int_equal(ctrs(f).used_pages, 1);
	check_ok(f->l);
}

/* §6.2: a failed global RPCIT fails the allocation and keeps the lazy pages. */
static void
test_legacy_s390_dma_global_rpcit_failure(void **state)
{
	struct fix *f = *state;

	fix_small(f, 16, false, false);
	alloc_ok(f, 4);
	alloc_ok(f, 4);
	alloc_ok(f, 4);
	ims_legacy_dma_free_address(f->l, SZ_4G, 4);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 3, 0, 1), 0);
	assert_int_equal(alloc_ret(f, 4), -EIO);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 1, 16, 1), 0);
	assert_int_equal(alloc_ret(f, 4), -ENOMEM);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 1, 8, 1), 0);
	/* the DMA API reports any allocation failure as -ENOSPC */
	assert_int_equal(map_ret(f, 0x1000, 4 * PG, IOMMUSIM_DMA_BIDIRECTIONAL), -ENOSPC);
	assert_int_equal(nrpcits(f), 3);
	assert_int_equal(info(f).next_bit, 12);
	assert_int_equal(ctrs(f).lazy_pages, 4);
	assert_int_equal(ctrs(f).wraps, 0);
	assert_int_equal(ctrs(f).global_rpcits, 3);
	assert_int_equal(alloc_ok(f, 4), SZ_4G);
	assert_int_equal(ctrs(f).global_rpcits, 4);
	assert_int_equal(ctrs(f).wraps, 1);
	check_ok(f->l);
}

/* ------------------------------------------------------------------------ */
/* map_page / unmap_page (§6.4) */

/* In-page offsets: pages counted from the offset, the offset kept in the DMA address. */
static void
test_legacy_s390_dma_in_page_offset(void **state)
{
	struct fix *f = *state;
	uint64_t d1, d2, d3;

	fix_small(f, 64, false, false);
	d1 = map_ok(f, 0x12345678, 0x100, IOMMUSIM_DMA_BIDIRECTIONAL);
	assert_int_equal(d1, SZ_4G + 0x678);
	assert_int_equal(pte_at(f, SZ_4G), 0x12345000);
	d2 = map_ok(f, 0x12345f00, 0x200, IOMMUSIM_DMA_BIDIRECTIONAL);
	assert_int_equal(d2, SZ_4G + PG + 0xf00);
	assert_int_equal(pte_at(f, SZ_4G + PG), 0x12345000);
	assert_int_equal(pte_at(f, SZ_4G + 2 * PG), 0x12346000);
	assert_int_equal(ctrs(f).mapped_pages, 3);
	assert_int_equal(info(f).next_bit, 3);
	/* a zero-length map of an unaligned address still covers one page */
	d3 = map_ok(f, 0x7001, 0, IOMMUSIM_DMA_BIDIRECTIONAL);
	assert_int_equal(d3, SZ_4G + 3 * PG + 1);
	/* ... of an aligned one, none: __dma_update_trans() refuses 0 pages */
	assert_int_equal(map_ret(f, 0x8000, 0, IOMMUSIM_DMA_BIDIRECTIONAL), -EINVAL);
	assert_int_equal(ctrs(f).used_pages, 4);

	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, d2, 0x200, IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL),
		0);
	assert_int_equal(ctrs(f).unmapped_pages, 2);
	assert_int_equal(ctrs(f).lazy_pages, 2);
	assert_true(ims_legacy_dma_page_lazy(f->l, 1));
	assert_true(ims_legacy_dma_page_lazy(f->l, 2));
	assert_false(ims_legacy_dma_page_lazy(f->l, 0));
	assert_int_equal(pte_at(f, SZ_4G + PG), 0x12345400);
	assert_int_equal(pte_at(f, SZ_4G), 0x12345000);
	check_ok(f->l);
}

/* §6.4: DMA_NONE and DMA_TO_DEVICE map read-only (TV-18 values). */
static void
test_legacy_s390_dma_direction_protection(void **state)
{
	struct fix *f = *state;
	const struct {
		enum iommusim_dma_dir dir;
		uint64_t pte;
	} cases[] = {
		{ IOMMUSIM_DMA_BIDIRECTIONAL, 0x12345000 },
		{ IOMMUSIM_DMA_TO_DEVICE, 0x12345200 },
		{ IOMMUSIM_DMA_FROM_DEVICE, 0x12345000 },
		{ IOMMUSIM_DMA_NONE, 0x12345200 },
	};
	unsigned i;

	fix_small(f, 64, true, false);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t dma = map_ok(f, 0x12345000, PG, cases[i].dir);

		assert_int_equal(pte_at(f, dma), cases[i].pte);
		assert_int_equal(iommusim_dma_unmap_page(&f->dma, dma, PG, cases[i].dir, 0, NULL),
				 0);
		/* invalid, address kept, protection cleared */
		assert_int_equal(pte_at(f, dma), 0x12345400);
	}
	assert_int_equal(map_ret(f, 0x1000, PG, (enum iommusim_dma_dir)4), -EINVAL);
	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, SZ_4G, PG, (enum iommusim_dma_dir)7, 0, NULL),
		-EINVAL);
}

/* §6.3: a map purges only with tlb_refresh, over PAGE_ALIGN(size). */
static void
test_legacy_s390_dma_map_rpcit_only_with_tlb_refresh(void **state)
{
	struct fix *f = *state, *g;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	void *gs = NULL;
	uint64_t dma;

	fix_small(f, 64, false, true);
	dma = map_ok(f, 0x10800, 3 * PG, IOMMUSIM_DMA_TO_DEVICE);
	assert_int_equal(dma, SZ_4G + 0x800);
	assert_int_equal(calls(f, true, c, MAXCALLS), 1);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_LEGACY_MAP, SZ_4G, 4 * PG);
	assert_int_equal(ctrs(f).map_rpcits, 1);
	/* lazy: the unmap purges nothing */
	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, dma, 3 * PG, IOMMUSIM_DMA_TO_DEVICE, 0, NULL), 0);
	assert_int_equal(nrpcits(f), 1);
	assert_int_equal(ctrs(f).unmap_rpcits, 0);

	/* the same without tlb_refresh: no RPCIT at all */
	assert_int_equal(setup_fix(&gs), 0);
	g = gs;
	fix_small(g, 64, false, false);
	dma = map_ok(g, 0x10800, 3 * PG, IOMMUSIM_DMA_TO_DEVICE);
	assert_int_equal(nrpcits(g), 0);
	assert_int_equal(
		iommusim_dma_unmap_page(&g->dma, dma, 3 * PG, IOMMUSIM_DMA_TO_DEVICE, 0, NULL), 0);
	assert_int_equal(nrpcits(g), 0);
	assert_int_equal(ctrs(g).map_rpcits, 0);
	teardown_fix(&gs);
}

/* §6.3: an unmap purges only in strict mode, over the page-aligned range. */
static void
test_legacy_s390_dma_unmap_rpcit_only_strict(void **state)
{
	struct fix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	uint64_t dma;

	fix_small(f, 64, true, false);
	dma = map_ok(f, 0x10ff0, 0x20, IOMMUSIM_DMA_FROM_DEVICE);
	assert_int_equal(dma, SZ_4G + 0xff0);
	assert_int_equal(nrpcits(f), 0);
	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, dma, 0x20, IOMMUSIM_DMA_FROM_DEVICE, 0, NULL), 0);
	assert_int_equal(calls(f, true, c, MAXCALLS), 1);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_LEGACY_UNMAP, SZ_4G, 2 * PG);
	assert_int_equal(ctrs(f).unmap_rpcits, 1);
	assert_int_equal(ctrs(f).unmapped_pages, 2);
	assert_int_equal(ctrs(f).used_pages, 0);
}

/* §6.3 step 3: lazy -ENOMEM on a map purge: global RPCIT, lazy pages merged, success. */
static void
test_legacy_s390_dma_enomem_recovery_lazy(void **state)
{
	struct fix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	uint64_t a, b;

	fix_small(f, 64, false, true);
	a = map_ok(f, 0x10000, 2 * PG, IOMMUSIM_DMA_BIDIRECTIONAL);
	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, a, 2 * PG, IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL),
		0);
	assert_int_equal(ctrs(f).lazy_pages, 2);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 1, 16, 1), 0);
	b = map_ok(f, 0x20000, 3 * PG, IOMMUSIM_DMA_BIDIRECTIONAL);
	assert_int_equal(b, SZ_4G + 2 * PG);
	assert_int_equal(calls(f, true, c, MAXCALLS), 3);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_LEGACY_MAP, SZ_4G, 2 * PG);
	expect_rpcit(&c[1], IOMMUSIM_RPCIT_LEGACY_MAP, b, 3 * PG);
	expect_rpcit(&c[2], IOMMUSIM_RPCIT_LEGACY_GLOBAL, SZ_4G, 64 * PG);
	assert_int_equal(ctrs(f).enomem_recoveries, 1);
	assert_int_equal(ctrs(f).global_rpcits, 1);
	assert_int_equal(ctrs(f).wraps, 0);
	/* the lazy bits were merged: pages 0-1 are free again */
	assert_int_equal(ctrs(f).lazy_pages, 0);
	assert_int_equal(ctrs(f).used_pages, 3);
	assert_false(ims_legacy_dma_page_used(f->l, 0));
	assert_true(iommusim_zpci_pte_is_valid(pte_at(f, b + 2 * PG)));
	assert_int_equal(ctrs(f).mapped_pages, 5);

	/* status 4 counts as insufficient resources too */
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 1, 4, 1), 0);
	map_ok(f, 0x30000, PG, IOMMUSIM_DMA_BIDIRECTIONAL);
	assert_int_equal(ctrs(f).enomem_recoveries, 2);
	check_ok(f->l);
}

/* §6.3 step 3: if the global RPCIT fails too, the original -ENOMEM; entries invalid again. */
static void
test_legacy_s390_dma_enomem_recovery_global_fails(void **state)
{
	struct fix *f = *state;
	uint64_t a, b = SZ_4G + 2 * PG;

	fix_small(f, 64, false, true);
	a = map_ok(f, 0x10000, 2 * PG, IOMMUSIM_DMA_BIDIRECTIONAL);
	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, a, 2 * PG, IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL),
		0);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 1, 16, 1), 0);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 3, 0, 1), 0);
	assert_int_equal(map_ret(f, 0x20000, 3 * PG, IOMMUSIM_DMA_BIDIRECTIONAL), -ENOMEM);
	assert_int_equal(nrpcits(f), 3);
	assert_int_equal(ctrs(f).enomem_recoveries, 0);
	assert_int_equal(ctrs(f).global_rpcits, 1);
	assert_false(iommusim_zpci_pte_is_valid(pte_at(f, b)));
	assert_false(iommusim_zpci_pte_is_valid(pte_at(f, b + 2 * PG)));
	/* nothing merged; the failed map's address was freed lazily */
	assert_int_equal(ctrs(f).lazy_pages, 5);
	assert_int_equal(ctrs(f).used_pages, 5);
	assert_int_equal(ctrs(f).mapped_pages, 2);
	assert_int_equal(stats(f).map_errors, 1);
	assert_int_equal(stats(f).iova_pages_live, 0);

	/* -ENOMEM from the global RPCIT as well: still the original -ENOMEM */
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 1, 16, 2), 0);
	assert_int_equal(map_ret(f, 0x20000, PG, IOMMUSIM_DMA_BIDIRECTIONAL), -ENOMEM);
	/* other errors are not recovered */
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 3, 0, 1), 0);
	assert_int_equal(map_ret(f, 0x20000, PG, IOMMUSIM_DMA_BIDIRECTIONAL), -EIO);
	assert_int_equal(nrpcits(f), 6);
	assert_int_equal(ctrs(f).global_rpcits, 2);
	check_ok(f->l);
}

/* §6.3 step 3: strict mode returns -ENOMEM as is, with the entries invalid again. */
static void
test_legacy_s390_dma_enomem_strict(void **state)
{
	struct fix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];

	fix_small(f, 64, true, true);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 1, 16, 1), 0);
	assert_int_equal(map_ret(f, 0x20000, 2 * PG, IOMMUSIM_DMA_TO_DEVICE), -ENOMEM);
	/* the map RPCIT only: no global, and the re-invalidation does not purge */
	assert_int_equal(calls(f, true, c, MAXCALLS), 1);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_LEGACY_MAP, SZ_4G, 2 * PG);
	assert_int_equal(pte_at(f, SZ_4G), 0x20400);
	assert_int_equal(pte_at(f, SZ_4G + PG), 0x21400);
	assert_int_equal(ctrs(f).used_pages, 0);
	assert_int_equal(ctrs(f).global_rpcits, 0);
	assert_int_equal(ctrs(f).mapped_pages, 0);
	assert_int_equal(info(f).next_bit, 2);
	check_ok(f->l);
}

/* §6.4: a failed unmap purge leaks the address. */
static void
test_legacy_s390_dma_unmap_purge_failure_leaks(void **state)
{
	struct fix *f = *state;
	uint64_t dma;

	fix_small(f, 64, true, false);
	dma = map_ok(f, 0x40000, 3 * PG, IOMMUSIM_DMA_BIDIRECTIONAL);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 3, 0, 1), 0);
	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, dma, 3 * PG, IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL),
		-EIO);
	assert_int_equal(ctrs(f).leaked_pages, 3);
	assert_int_equal(ctrs(f).unmapped_pages, 0);
	assert_int_equal(ctrs(f).used_pages, 3);
	assert_false(iommusim_zpci_pte_is_valid(pte_at(f, dma)));
	/* strict -ENOMEM has no recovery either */
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 1, 16, 1), 0);
	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, dma, 3 * PG, IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL),
		-ENOMEM);
	assert_int_equal(ctrs(f).leaked_pages, 6);
	assert_int_equal(ctrs(f).global_rpcits, 0);
	/* a retry that succeeds frees it */
	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, dma, 3 * PG, IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL),
		0);
	assert_int_equal(ctrs(f).used_pages, 0);
	assert_int_equal(ctrs(f).unmapped_pages, 3);
	assert_int_equal(ctrs(f).unmap_rpcits, 3);
	check_ok(f->l);
}

/* The simulator refuses unmaps of what is not mapped (the kernel does not check). */
static void
test_legacy_s390_dma_unmap_not_mapped_einval(void **state)
{
	struct fix *f = *state;
	struct iommusim_legacy_dma_counters before, after;
	uint64_t dma;

	fix_small(f, 64, false, false);
	dma = map_ok(f, 0x40000, 2 * PG, IOMMUSIM_DMA_BIDIRECTIONAL);
	before = ctrs(f);
	assert_int_equal(iommusim_dma_unmap_page(&f->dma, SZ_4G - PG, PG,
						 IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL),
			 -EINVAL);
	assert_int_equal(iommusim_dma_unmap_page(&f->dma, SZ_4G + 64 * PG, PG,
						 IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL),
			 -EINVAL);
	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, dma, 3 * PG, IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL),
		-EINVAL);
	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, dma, 0, IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL),
		-EINVAL);
	after = ctrs(f);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, dma, 2 * PG, IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL),
		0);
	/* twice: the pages are lazy now */
	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, dma, 2 * PG, IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL),
		-EINVAL);
	assert_int_equal(ctrs(f).lazy_pages, 2);
	check_ok(f->l);
}

/* §6.3: a table walk that fails undoes the pages written, and the address is freed. */
static void
test_legacy_s390_dma_table_enomem_undo(void **state)
{
	struct fix *f = *state;
	const uint64_t b = SZ_4G;

	fix_small(f, 1024, true, false);
	/* 254 pages: the page table of the first MiB exists afterwards */
	assert_int_equal(map_ok(f, 0x100000, 254 * PG, IOMMUSIM_DMA_BIDIRECTIONAL), b);
	/* 254, 255 use it; 256 needs a new page table, which fails */
	ims_mem_fault_inject(1, 1);
	assert_int_equal(map_ret(f, 0x900000, 3 * PG, IOMMUSIM_DMA_BIDIRECTIONAL), -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_int_equal(pte_at(f, b + 254 * PG), 0x900400);
	assert_int_equal(pte_at(f, b + 255 * PG), 0x901400);
	assert_int_equal(ctrs(f).used_pages, 254);
	assert_int_equal(ctrs(f).mapped_pages, 254);
	/* next_bit moved on with the allocation, which was then freed */
	assert_int_equal(info(f).next_bit, 257);
	assert_int_equal(map_ok(f, 0x900000, 3 * PG, IOMMUSIM_DMA_BIDIRECTIONAL), b + 257 * PG);
	assert_int_equal(map_ok(f, 0xa00000, 2 * PG, IOMMUSIM_DMA_BIDIRECTIONAL), b + 260 * PG);
	check_ok(f->l);
}

/* ------------------------------------------------------------------------ */
/* map_sg (§6.4) */

static void
sg_set(struct iommusim_dma_sg *sg, uint64_t phys, uint32_t len)
{
	memset(sg, 0, sizeof(*sg));
	sg->phys = phys;
	sg->length = len;
	sg->dma_address = 0xdeadbeef;
	sg->dma_length = 0xdead;
}

static uint64_t
xlate(const struct fix *f, uint64_t iova)
{
	return iommusim_zpci_table_iova_to_phys(ims_legacy_dma_table(f->l), iova);
}

/* Offset-0 followers merge; an offset or an unaligned chunk end starts a new chunk. */
static void
test_legacy_s390_dma_map_sg_merging(void **state)
{
	struct fix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	struct iommusim_dma_sg sg[5];
	const uint64_t b = SZ_4G;
	size_t nsegs = 0;

	fix_small(f, 1024, false, true);
	sg_set(&sg[0], 0x10000, 4096);
	sg_set(&sg[1], 0x50000, 8192);
	sg_set(&sg[2], 0x90100, 100); /* offset: new chunk */
	sg_set(&sg[3], 0xa0000, 4096); /* chunk so far ends mid-page: new chunk */
	sg_set(&sg[4], 0xb0000, 2048); /* merges */
	assert_int_equal(
		iommusim_dma_map_sg(&f->dma, sg, 5, IOMMUSIM_DMA_TO_DEVICE, 0, NULL, &nsegs), 0);
	assert_int_equal(nsegs, 3);
	/* segments written compactly, as the kernel does */
	assert_int_equal(sg[0].dma_address, b);
	assert_int_equal(sg[0].dma_length, 12288);
	assert_int_equal(sg[1].dma_address, b + 3 * PG + 0x100);
	assert_int_equal(sg[1].dma_length, 100);
	assert_int_equal(sg[2].dma_address, b + 4 * PG);
	assert_int_equal(sg[2].dma_length, 6144);
	assert_int_equal(sg[3].dma_length, 0);
	assert_int_equal(sg[4].dma_length, 0);
	/* one purge per chunk */
	assert_int_equal(calls(f, true, c, MAXCALLS), 3);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_LEGACY_MAP, b, 3 * PG);
	expect_rpcit(&c[1], IOMMUSIM_RPCIT_LEGACY_MAP, b + 3 * PG, PG);
	expect_rpcit(&c[2], IOMMUSIM_RPCIT_LEGACY_MAP, b + 4 * PG, 2 * PG);
	assert_int_equal(xlate(f, b), 0x10000);
	assert_int_equal(xlate(f, b + PG), 0x50000);
	assert_int_equal(xlate(f, b + 2 * PG), 0x51000);
	assert_int_equal(xlate(f, b + 3 * PG), 0x90000);
	assert_int_equal(xlate(f, b + 4 * PG), 0xa0000);
	assert_int_equal(xlate(f, b + 5 * PG), 0xb0000);
	assert_true(iommusim_zpci_pte_is_protected(pte_at(f, b + 5 * PG)));
	assert_int_equal(ctrs(f).mapped_pages, 6);
	assert_int_equal(stats(f).map_sgs, 1);
	assert_int_equal(stats(f).bytes_mapped, 4096 + 8192 + 100 + 4096 + 2048);
	assert_int_equal(stats(f).iova_pages_live, 6);

	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 5, IOMMUSIM_DMA_TO_DEVICE, 0, NULL), 0);
	assert_int_equal(nrpcits(f), 3);
	assert_int_equal(ctrs(f).unmapped_pages, 6);
	assert_int_equal(ctrs(f).lazy_pages, 6);
	assert_int_equal(stats(f).iova_pages_live, 0);
	assert_int_equal(stats(f).unmap_sgs, 1);
	assert_int_equal(sg[0].dma_length, 0);
	assert_int_equal(sg[0].dma_address, 0);
	assert_false(iommusim_zpci_pte_is_valid(pte_at(f, b + 2 * PG)));
	check_ok(f->l);
}

/* The max segment size closes a chunk; a single larger element is one chunk. */
static void
test_legacy_s390_dma_map_sg_max_segment(void **state)
{
	struct fix *f = *state, *g;
	struct iommusim_dma_sg sg[18];
	const struct iommusim_legacy_dma_cfg small = { .aperture = 1024 * PG,
						       .max_seg_size = 8192 };
	void *gs = NULL;
	size_t nsegs = 0, i;

	fix_small(f, 1024, true, true);
	/* 16 x 4 KiB = 64 KiB exactly, then the 17th starts a new chunk */
	for (i = 0; i < 17; i++)
		sg_set(&sg[i], 0x100000 + 2 * i * PG, 4096);
	assert_int_equal(
		iommusim_dma_map_sg(&f->dma, sg, 17, IOMMUSIM_DMA_FROM_DEVICE, 0, NULL, &nsegs), 0);
	assert_int_equal(nsegs, 2);
	assert_int_equal(sg[0].dma_length, 65536);
	assert_int_equal(sg[1].dma_address, SZ_4G + 16 * PG);
	assert_int_equal(sg[1].dma_length, 4096);
	for (i = 2; i < 17; i++)
		assert_int_equal(sg[i].dma_length, 0);
	for (i = 0; i < 17; i++)
		assert_int_equal(xlate(f, SZ_4G + i * PG), 0x100000 + 2 * i * PG);
	assert_int_equal(nrpcits(f), 2);
	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 17, IOMMUSIM_DMA_FROM_DEVICE, 0, NULL),
			 0);
	/* strict: one purge per DMA segment */
	assert_int_equal(nrpcits(f), 4);
	assert_int_equal(ctrs(f).used_pages, 0);

	/* a single 128 KiB element is one chunk */
	sg_set(&sg[0], 0x400000, 131072);
	sg_set(&sg[1], 0x800000, 4096);
	assert_int_equal(
		iommusim_dma_map_sg(&f->dma, sg, 2, IOMMUSIM_DMA_FROM_DEVICE, 0, NULL, &nsegs), 0);
	assert_int_equal(nsegs, 2);
	assert_int_equal(sg[0].dma_length, 131072);
	assert_int_equal(sg[1].dma_length, 4096);
	assert_int_equal(sg[1].dma_address, sg[0].dma_address + 131072);

	/* a smaller limit from the cfg */
	assert_int_equal(setup_fix(&gs), 0);
	g = gs;
	fix_start(g, SZ_4G, QEMU_EDMA, false, &small);
	for (i = 0; i < 3; i++)
		sg_set(&sg[i], 0x100000 + i * PG, 4096);
	assert_int_equal(
		iommusim_dma_map_sg(&g->dma, sg, 3, IOMMUSIM_DMA_FROM_DEVICE, 0, NULL, &nsegs), 0);
	assert_int_equal(nsegs, 2);
	assert_int_equal(sg[0].dma_length, 8192);
	assert_int_equal(sg[1].dma_length, 4096);
	assert_int_equal(sg[2].dma_length, 0);
	teardown_fix(&gs);
}

/* A failing chunk unmaps the chunks before it and returns the error. */
static void
test_legacy_s390_dma_map_sg_failure_unmaps(void **state)
{
	struct fix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	struct iommusim_dma_sg sg[3];
	size_t nsegs = 77;

	fix_small(f, 16, true, true);
	/* chunk 1: 8 pages; chunk 2: 8 more pages, 15 usable in all: no address */
	sg_set(&sg[0], 0x100000, 8 * 4096);
	sg_set(&sg[1], 0x200010, 7 * 4096);
	assert_int_equal(
		iommusim_dma_map_sg(&f->dma, sg, 2, IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL, &nsegs),
		-ENOMEM);
	assert_int_equal(nsegs, 77);
	assert_int_equal(sg[0].dma_length, 0);
	assert_int_equal(sg[1].dma_length, 0);
	assert_int_equal(ctrs(f).used_pages, 0);
	assert_int_equal(calls(f, true, c, MAXCALLS), 2);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_LEGACY_MAP, SZ_4G, 8 * PG);
	expect_rpcit(&c[1], IOMMUSIM_RPCIT_LEGACY_UNMAP, SZ_4G, 8 * PG);
	assert_int_equal(stats(f).map_errors, 1);
	assert_int_equal(ctrs(f).mapped_pages, 8);
	assert_int_equal(ctrs(f).unmapped_pages, 8);

	/* the purge of chunk 2 fails: it is invalidated (and purged, strict), then chunk 1 */
	iommusim_zpci_canned_reset(f->script);
	sg_set(&sg[0], 0x100000, 2 * 4096);
	sg_set(&sg[1], 0x200010, 4096);
	sg_set(&sg[2], 0x300000, 4096);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 0, 0, 1), 0);
	assert_int_equal(iommusim_zpci_canned_push(f->script, true, 3, 0, 1), 0);
	assert_int_equal(
		iommusim_dma_map_sg(&f->dma, sg, 3, IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL, &nsegs),
		-EIO);
	assert_int_equal(calls(f, true, c, MAXCALLS), 4);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_LEGACY_MAP, SZ_4G + 8 * PG, 2 * PG);
	expect_rpcit(&c[1], IOMMUSIM_RPCIT_LEGACY_MAP, SZ_4G + 10 * PG, 2 * PG);
	expect_rpcit(&c[2], IOMMUSIM_RPCIT_LEGACY_UNMAP, SZ_4G + 10 * PG, 2 * PG);
	expect_rpcit(&c[3], IOMMUSIM_RPCIT_LEGACY_UNMAP, SZ_4G + 8 * PG, 2 * PG);
	assert_int_equal(ctrs(f).used_pages, 0);
	assert_false(iommusim_zpci_pte_is_valid(pte_at(f, SZ_4G + 11 * PG)));

	/* no elements: misuse, not a mapping error */
	assert_int_equal(
		iommusim_dma_map_sg(&f->dma, sg, 0, IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL, &nsegs),
		-EINVAL);
	assert_int_equal(stats(f).map_errors, 2);
	check_ok(f->l);
}

/* A table walk failure inside a chunk undoes the elements written. */
static void
test_legacy_s390_dma_map_sg_table_enomem(void **state)
{
	struct fix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	struct iommusim_dma_sg sg[3];
	const uint64_t b = SZ_4G;
	size_t nsegs = 0;

	fix_small(f, 1024, true, false);
	assert_int_equal(map_ok(f, 0x100000, 254 * PG, IOMMUSIM_DMA_BIDIRECTIONAL), b);
	iommusim_zpci_canned_reset(f->script);
	/* one chunk: page 254, pages 255-256 (256 needs a page table), page 257 */
	sg_set(&sg[0], 0x500000, 4096);
	sg_set(&sg[1], 0x600000, 8192);
	sg_set(&sg[2], 0x700000, 4096);
	ims_mem_fault_inject(1, 1);
	assert_int_equal(
		iommusim_dma_map_sg(&f->dma, sg, 3, IOMMUSIM_DMA_FROM_DEVICE, 0, NULL, &nsegs),
		-ENOMEM);
	ims_mem_fault_inject(0, 0);
	/* element 1 undid its own page 255; element 0 is invalidated and purged */
	assert_false(iommusim_zpci_pte_is_valid(pte_at(f, b + 254 * PG)));
	assert_false(iommusim_zpci_pte_is_valid(pte_at(f, b + 255 * PG)));
	assert_int_equal(calls(f, true, c, MAXCALLS), 1);
	expect_rpcit(&c[0], IOMMUSIM_RPCIT_LEGACY_UNMAP, b + 254 * PG, PG);
	assert_int_equal(ctrs(f).used_pages, 254);
	assert_int_equal(ctrs(f).mapped_pages, 254);
	check_ok(f->l);
}

/* ------------------------------------------------------------------------ */
/* coherent allocations, counters, the generic handle */

static void
test_legacy_s390_dma_coherent(void **state)
{
	struct fix *f = *state;
	uint64_t dma = 0, d2 = 0;

	fix_small(f, 64, false, false);
	assert_int_equal(iommusim_legacy_dma_alloc_coherent(f->l, 0x200000, 5000, NULL, &dma), 0);
	assert_int_equal(dma, SZ_4G);
	assert_int_equal(ctrs(f).allocated_pages, 2);
	assert_int_equal(ctrs(f).mapped_pages, 2);
	/* bidirectional: writable */
	assert_int_equal(pte_at(f, dma), 0x200000);
	assert_int_equal(pte_at(f, dma + PG), 0x201000);
	assert_int_equal(iommusim_legacy_dma_alloc_coherent(f->l, 0x300000, PG, NULL, &d2), 0);
	assert_int_equal(d2, SZ_4G + 2 * PG);
	assert_int_equal(ctrs(f).allocated_pages, 3);
	/* alloc_pages() memory is page aligned */
	assert_int_equal(iommusim_legacy_dma_alloc_coherent(f->l, 0x300010, PG, NULL, &d2),
			 -EINVAL);
	assert_int_equal(iommusim_legacy_dma_alloc_coherent(NULL, 0x300000, PG, NULL, &d2),
			 -EINVAL);
	/* not DMA API maps */
	assert_int_equal(stats(f).map_pages, 0);
	assert_int_equal(stats(f).iova_pages_live, 3);

	assert_int_equal(iommusim_legacy_dma_free_coherent(f->l, dma, 5000, NULL), 0);
	assert_int_equal(ctrs(f).allocated_pages, 1);
	assert_int_equal(ctrs(f).unmapped_pages, 2);
	assert_int_equal(ctrs(f).lazy_pages, 2);
	assert_int_equal(iommusim_legacy_dma_free_coherent(f->l, dma, 5000, NULL), -EINVAL);
	assert_int_equal(iommusim_legacy_dma_free_coherent(f->l, d2 + 1, PG, NULL), -EINVAL);
	assert_int_equal(ctrs(f).allocated_pages, 1);
	assert_int_equal(iommusim_legacy_dma_free_coherent(f->l, d2, PG, NULL), 0);
	assert_int_equal(ctrs(f).allocated_pages, 0);
	check_ok(f->l);
}

/* Every counter and statistic after a known sequence. */
static void
test_legacy_s390_dma_counters_and_stats(void **state)
{
	struct fix *f = *state;
	struct iommusim_legacy_dma_counters c;
	struct iommusim_dma_stats s;
	struct iommusim_dma_sg sg[2];
	uint64_t d1, d2, cd = 0;
	size_t nsegs;

	fix_small(f, 32, true, true);
	d1 = map_ok(f, 0x10000, 3 * PG, IOMMUSIM_DMA_BIDIRECTIONAL);
	d2 = map_ok(f, 0x20000, 100, IOMMUSIM_DMA_TO_DEVICE);
	assert_int_equal(iommusim_legacy_dma_alloc_coherent(f->l, 0x30000, 2 * PG, NULL, &cd), 0);
	sg_set(&sg[0], 0x40000, 4096);
	sg_set(&sg[1], 0x50000, 4096);
	assert_int_equal(
		iommusim_dma_map_sg(&f->dma, sg, 2, IOMMUSIM_DMA_TO_DEVICE, 0, NULL, &nsegs), 0);
	assert_int_equal(map_ret(f, 0x60000, 40 * PG, IOMMUSIM_DMA_TO_DEVICE), -ENOSPC);
	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, d1, 3 * PG, IOMMUSIM_DMA_BIDIRECTIONAL, 0, NULL),
		0);
	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 2, IOMMUSIM_DMA_TO_DEVICE, 0, NULL), 0);

	c = ctrs(f);
	assert_int_equal(c.allocated_pages, 2);
	assert_int_equal(c.mapped_pages, 3 + 1 + 2 + 2);
	assert_int_equal(c.unmapped_pages, 3 + 2);
	assert_int_equal(c.global_rpcits, 0);
	assert_int_equal(c.wraps, 1); /* the 40-page request */
	assert_int_equal(c.map_rpcits, 4);
	assert_int_equal(c.unmap_rpcits, 2);
	assert_int_equal(c.enomem_recoveries, 0);
	assert_int_equal(c.leaked_pages, 0);
	assert_int_equal(c.lazy_pages, 0);
	assert_int_equal(c.used_pages, 3);
	s = stats(f);
	assert_int_equal(s.map_pages, 2);
	assert_int_equal(s.unmap_pages, 1);
	assert_int_equal(s.map_sgs, 1);
	assert_int_equal(s.unmap_sgs, 1);
	assert_int_equal(s.map_errors, 1);
	assert_int_equal(s.bytes_mapped, 3 * PG + 100 + 8192);
	assert_int_equal(s.iova_pages_live, 3);
	assert_int_equal(d2, SZ_4G + 3 * PG);
	assert_int_equal(iommusim_legacy_dma_counters_get(NULL, &c), -EINVAL);
	assert_int_equal(iommusim_legacy_dma_counters_get(f->l, NULL), -EINVAL);
	assert_int_equal(iommusim_legacy_dma_info_get(f->l, NULL), -EINVAL);
	assert_true(info(f).strict);
}

/* The generic handle dispatches to this implementation. */
static void
test_legacy_s390_dma_generic_handle(void **state)
{
	struct fix *f = *state;
	struct iommusim_dma_sg sg[1];
	struct iommusim_dma none = { 0 };
	uint64_t dma = 0;
	size_t nsegs = 0;

	fix_small(f, 64, false, false);
	assert_non_null(f->dma.ops);
	assert_ptr_equal(f->dma.priv, f->l);
	assert_string_equal(f->dma.ops->name, "s390-legacy");
	assert_int_equal(
		iommusim_dma_map_page(&f->dma, 0x1234, 10, IOMMUSIM_DMA_FROM_DEVICE, 0, NULL, &dma),
		0);
	assert_int_equal(dma, SZ_4G + 0x234);
	sg_set(&sg[0], 0x5000, 10);
	assert_int_equal(
		iommusim_dma_map_sg(&f->dma, sg, 1, IOMMUSIM_DMA_FROM_DEVICE, 0, NULL, &nsegs), 0);
	assert_int_equal(nsegs, 1);
	assert_int_equal(sg[0].dma_address, SZ_4G + PG);
	assert_int_equal(stats(f).iova_pages_live, 2);
	assert_int_equal(
		iommusim_dma_unmap_page(&f->dma, dma, 10, IOMMUSIM_DMA_FROM_DEVICE, 0, NULL), 0);
	assert_int_equal(iommusim_dma_unmap_sg(&f->dma, sg, 1, IOMMUSIM_DMA_FROM_DEVICE, 0, NULL),
			 0);
	assert_int_equal(stats(f).iova_pages_live, 0);
	assert_int_equal(
		iommusim_dma_map_page(&none, 0x1234, 10, IOMMUSIM_DMA_FROM_DEVICE, 0, NULL, &dma),
		-EINVAL);
	assert_int_equal(f->dma.ops->map_page(f->l, 0x1000, 1, IOMMUSIM_DMA_NONE, 0, NULL, NULL),
			 -EINVAL);
	assert_int_equal(f->dma.ops->map_sg(f->l, NULL, 1, IOMMUSIM_DMA_NONE, 0, NULL, &nsegs),
			 -EINVAL);
	assert_int_equal(f->dma.ops->unmap_sg(f->l, NULL, 1, IOMMUSIM_DMA_NONE, 0, NULL), -EINVAL);
	assert_int_equal(f->dma.ops->stats_get(f->l, NULL), -EINVAL);
}

/* ------------------------------------------------------------------------ */
/* set-up (§6.1) */

/* The defaults: a 16 GiB aperture at QEMU's 4 GiB, the IOTA registered, the window trimmed. */
static void
test_legacy_s390_dma_create_defaults(void **state)
{
	struct fix *f = *state;
	struct iommusim_zpci_canned_call c[MAXCALLS];
	struct iommusim_zpci_fn_info fi;
	struct iommusim_zpci_ioat ioat;
	struct iommusim_legacy_dma_info i;

	fix_fn(f, 0, 0, false);
	assert_int_equal(iommusim_legacy_dma_create(f->fn, NULL, NULL, &f->l, NULL), 0);
	i = info(f);
	assert_int_equal(i.start_dma, SZ_4G);
	assert_int_equal(i.end_dma, SZ_4G + SZ_16G - 1);
	assert_int_equal(i.iommu_pages, SZ_16G / PG);
	assert_int_equal(i.next_bit, 0);
	assert_false(i.strict);
	assert_int_equal(iommusim_zpci_fn_info_get(f->fn, &fi), 0);
	assert_int_equal(fi.start_dma, SZ_4G);
	assert_int_equal(fi.end_dma, SZ_4G + SZ_16G - 1);
	assert_int_equal(calls(f, false, c, MAXCALLS), 1);
	assert_int_equal(c[0].fc, IOMMUSIM_ZPCI_MOD_FC_REG_IOAT);
	assert_int_equal(c[0].ioat.pba, SZ_4G);
	assert_int_equal(c[0].ioat.pal, SZ_4G + SZ_16G - 1);
	assert_int_equal(c[0].ioat.iota, iommusim_zpci_table_origin(ims_legacy_dma_table(f->l)) |
						 IOMMUSIM_ZPCI_IOTA_RTTO_FLAG);
	assert_int_equal(iommusim_zpci_fn_ioat(f->fn, &ioat), 0);
	assert_true(ioat.registered);
	/* the window ends at 20 GiB - 1; the last page is 20 GiB - 4 KiB */
	assert_int_equal(alloc_ok(f, 1), SZ_4G);
	assert_int_equal(ctrs(f).used_pages, 1);

	/* zpci_dma_exit_device(): the IOTA is deregistered */
	iommusim_legacy_dma_destroy(f->l, NULL);
	f->l = NULL;
	assert_int_equal(calls(f, false, c, MAXCALLS), 2);
	assert_int_equal(c[1].fc, IOMMUSIM_ZPCI_MOD_FC_DEREG_IOAT);
	assert_int_equal(iommusim_zpci_fn_ioat(f->fn, &ioat), 0);
	assert_false(ioat.registered);
	iommusim_legacy_dma_destroy(NULL, NULL);
}

/* An unaligned start, the 4 TiB table limit, and the CLP end. */
static void
test_legacy_s390_dma_create_window_trimming(void **state)
{
	struct fix *f = *state;
	const struct iommusim_legacy_dma_cfg cfg = { .strict = true };
	struct fix *g;
	void *gs = NULL;

	fix_start(f, SZ_4T - SZ_1M + 5, QEMU_EDMA, false, &cfg);
	assert_int_equal(info(f).start_dma, SZ_4T - SZ_1M + PG);
	assert_int_equal(info(f).end_dma, SZ_4T - 1);
	assert_int_equal(info(f).iommu_pages, 255);
	assert_int_equal(alloc_ok(f, 254), SZ_4T - SZ_1M + PG);
	assert_int_equal(alloc_ret(f, 1), -ENOSPC);

	/* the CLP end: 16 pages and 100 bytes; the partial page is not counted */
	assert_int_equal(setup_fix(&gs), 0);
	g = gs;
	fix_start(g, SZ_4G, SZ_4G + 16 * PG + 99, false, &cfg);
	assert_int_equal(info(g).end_dma, SZ_4G + 16 * PG + 99);
	assert_int_equal(info(g).iommu_pages, 16);
	teardown_fix(&gs);
}

static void
test_legacy_s390_dma_create_einval(void **state)
{
	struct fix *f = *state;
	struct iommusim_legacy_dma *l = NULL;
	struct fix *g;
	void *gs = NULL;

	fix_fn(f, SZ_4G, SZ_4G + 100, false);
	assert_int_equal(iommusim_legacy_dma_create(NULL, NULL, NULL, &l, NULL), -EINVAL);
	assert_int_equal(iommusim_legacy_dma_create(f->fn, NULL, NULL, NULL, NULL), -EINVAL);
	/* a window smaller than a page */
	assert_int_equal(iommusim_legacy_dma_create(f->fn, NULL, NULL, &l, NULL), -EINVAL);
	assert_null(l);
	/* a window beyond the 4 TiB table */
	assert_int_equal(setup_fix(&gs), 0);
	g = gs;
	fix_fn(g, SZ_4T, QEMU_EDMA, false);
	assert_int_equal(iommusim_legacy_dma_create(g->fn, NULL, NULL, &l, NULL), -EINVAL);
	assert_int_equal(iommusim_zpci_canned_ncalls(g->script), 0);
	teardown_fix(&gs);
}

/* §6.1 step 4: any non-zero cc of the registration is -EIO. */
static void
test_legacy_s390_dma_create_eio(void **state)
{
	struct fix *f = *state;
	struct iommusim_zpci_ioat ioat;
	struct iommusim_legacy_dma *l = NULL;
	struct iommusim_dma dma = { 0 };

	fix_fn(f, SZ_4G, QEMU_EDMA, false);
	assert_int_equal(iommusim_zpci_canned_push(f->script, false, 3, 0, 1), 0);
	assert_int_equal(iommusim_legacy_dma_create(f->fn, NULL, NULL, &l, &dma), -EIO);
	assert_null(l);
	assert_null(dma.ops);
	assert_int_equal(iommusim_zpci_fn_ioat(f->fn, &ioat), 0);
	assert_false(ioat.registered);
	assert_int_equal(iommusim_zpci_canned_push(f->script, false, 1, 40, 1), 0);
	assert_int_equal(iommusim_legacy_dma_create(f->fn, NULL, NULL, &l, &dma), -EIO);
	/* busy is retried */
	assert_int_equal(iommusim_zpci_canned_push(f->script, false, 2, 0, 3), 0);
	assert_int_equal(iommusim_legacy_dma_create(f->fn, NULL, NULL, &f->l, &dma), 0);
	assert_ptr_equal(dma.priv, f->l);
}

/* -ENOMEM at each allocation of the set-up, nothing leaked (ASan checks). */
static void
test_legacy_s390_dma_create_enomem_each_allocation(void **state)
{
	struct fix *f = *state;
	struct iommusim_legacy_dma_cfg cfg = { .aperture = SZ_1M };
	unsigned strict, nth;

	fix_fn(f, SZ_4G, QEMU_EDMA, false);
	for (strict = 0; strict < 2; strict++) {
		cfg.strict = strict;
		for (nth = 1;; nth++) {
			struct iommusim_legacy_dma *l = NULL;
			int ret;

			assert_true(nth < 16);
			ims_mem_fault_inject(nth, 1);
			ret = iommusim_legacy_dma_create(f->fn, &cfg, NULL, &l, NULL);
			ims_mem_fault_inject(0, 0);
			if (ret == 0) {
				/* struct, table, root, bitmap (+ lazy bitmap) */
				assert_true(nth > (strict ? 4u : 5u));
				iommusim_legacy_dma_destroy(l, NULL);
				break;
			}
			assert_int_equal(ret, -ENOMEM);
			assert_null(l);
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Model-based random test: §6.2 restated bit by bit, checked op by op */

struct model {
	uint64_t pages, shift, boundary, next_bit;
	uint64_t wraps, globals, nused, nlazy;
	bool strict;
	uint8_t *used, *lazy;
};

/* iommu_area_alloc(): 0 found, 1 no fit, 2 the kernel would spin. */
static int
m_area(struct model *m, uint64_t start, uint64_t nr, uint64_t *out)
{
	const uint64_t size = m->pages - 1;
	uint64_t index, i, next;

	for (;;) {
		for (index = start; index < size && m->used[index]; index++)
			;
		if (index + nr > size)
			return 1;
		for (i = index; i < index + nr && !m->used[i]; i++)
			;
		if (i < index + nr) {
			start = i + 1;
			continue;
		}
		if (index >= size)
			return 1;
		if ((m->shift + index) % m->boundary + nr > m->boundary) {
			next = (m->shift + index + m->boundary - 1) / m->boundary * m->boundary -
			       m->shift;
			if (next == index)
				return 2;
			start = next;
			continue;
		}
		for (i = index; i < index + nr; i++)
			m->used[i] = 1;
		m->nused += nr;
		*out = index;
		return 0;
	}
}

/* dma_alloc_address() */
static bool
m_alloc(struct model *m, uint64_t nr, uint64_t *index)
{
	int r = m_area(m, m->next_bit, nr, index);
	uint64_t i;

	if (r == 1) {
		if (!m->strict) {
			m->globals++;
			for (i = 0; i < m->pages; i++) {
				if (m->lazy[i]) {
					m->used[i] = 0;
					m->lazy[i] = 0;
					m->nused--;
				}
			}
			m->nlazy = 0;
		}
		m->wraps++;
		r = m_area(m, 0, nr, index);
	}
	if (r)
		return false;
	m->next_bit = *index + nr;
	return true;
}

/* dma_free_address() */
static void
m_free(struct model *m, uint64_t index, uint64_t nr)
{
	uint64_t i;

	for (i = index; i < index + nr; i++) {
		if (m->strict) {
			m->used[i] = 0;
			m->nused--;
		} else {
			m->lazy[i] = 1;
			m->nlazy++;
		}
	}
}

struct pcfg {
	uint64_t seed;
	bool strict, tlb_refresh;
	uint64_t start_dma;
	uint32_t boundary;
	unsigned nops, maxlive;
};

struct live_map {
	uint64_t dma, size, pa, first, npages;
	enum iommusim_dma_dir dir;
};

#define NOT_PENDING UINT64_MAX
#define PROP_PAGES 1024u

static uint64_t
fn_globals(const struct iommusim_zpci_fn *fn)
{
	struct iommusim_zpci_fn_stats st;

	assert_int_equal(iommusim_zpci_fn_stats_get(fn, &st), 0);
	return st.by_reason[IOMMUSIM_RPCIT_LEGACY_GLOBAL];
}

static void
check_live_xlate(const struct fix *f, const struct live_map *lm)
{
	uint64_t i, pte;

	for (i = 0; i < lm->npages; i++) {
		uint64_t iova = lm->first + i * PG;

		assert_int_equal(xlate(f, iova), (lm->pa & ~(PG - 1)) + i * PG);
		pte = pte_at(f, iova);
		assert_true(iommusim_zpci_pte_is_valid(pte));
		assert_int_equal(iommusim_zpci_pte_is_protected(pte),
				 lm->dir == IOMMUSIM_DMA_TO_DEVICE || lm->dir == IOMMUSIM_DMA_NONE);
	}
}

static void
run_property(const struct pcfg *pc)
{
	const struct iommusim_zpci_fn_cfg fcfg = {
		.fid = 7,
		.tlb_refresh = pc->tlb_refresh,
		.start_dma = pc->start_dma,
		.end_dma = QEMU_EDMA,
	};
	const struct iommusim_legacy_dma_cfg cfg = {
		.strict = pc->strict,
		.aperture = PROP_PAGES * PG,
		.seg_boundary_pages = pc->boundary,
	};
	struct model m = { 0 };
	struct fix fx = { 0 }, *f = &fx;
	struct live_map *live = calloc(pc->maxlive, sizeof(*live));
	int *owner = malloc(PROP_PAGES * sizeof(*owner));
	uint64_t *freed_at = malloc(PROP_PAGES * sizeof(*freed_at));
	uint64_t s = pc->seed * UINT64_C(0x9E3779B97F4A7C15) + 1, i, p;
	unsigned op, nlive = 0, nfail = 0;

	print_message("# property: seed %" PRIu64 " strict %d tlb_refresh %d start 0x%" PRIx64
		      " boundary %u\n",
		      pc->seed, pc->strict, pc->tlb_refresh, pc->start_dma, pc->boundary);
	assert_non_null(live);
	assert_non_null(owner);
	assert_non_null(freed_at);
	for (p = 0; p < PROP_PAGES; p++) {
		owner[p] = -1;
		freed_at[p] = NOT_PENDING;
	}
	assert_int_equal(iommusim_zpci_fn_create(&fcfg, &f->fn), 0);
	assert_int_equal(iommusim_legacy_dma_create(f->fn, &cfg, NULL, &f->l, &f->dma), 0);
	m.pages = PROP_PAGES;
	m.shift = info(f).start_dma / PG;
	m.boundary = pc->boundary ? pc->boundary : UINT64_C(1) << 20;
	m.strict = pc->strict;
	m.used = calloc(PROP_PAGES, 1);
	m.lazy = calloc(PROP_PAGES, 1);
	assert_non_null(m.used);
	assert_non_null(m.lazy);

	for (op = 0; op < pc->nops; op++) {
		uint64_t r = test_xorshift64s(&s);
		bool do_map = nlive == 0 || (nlive < pc->maxlive && r % 100 < 55);

		if (do_map) {
			struct live_map lm = { 0 };
			uint64_t npg = 1 + test_xorshift64s(&s) % 16, off, index = 0, dma = 0, nr;
			bool zero = test_xorshift64s(&s) % 200 == 0, fits;
			int ret;

			if (test_xorshift64s(&s) % 3 == 0)
				npg = 1;
			off = zero || test_xorshift64s(&s) % 2 ? 0 : test_xorshift64s(&s) % PG;
			lm.size = zero ? 0 : 1 + test_xorshift64s(&s) % (npg * PG - off);
			lm.pa = ((0x100 + test_xorshift64s(&s) % 0xfff00) << 12) | off;
			lm.dir = (enum iommusim_dma_dir)(test_xorshift64s(&s) % 4);
			nr = (off + lm.size + PG - 1) / PG;
			fits = m_alloc(&m, nr, &index);
			ret = iommusim_dma_map_page(&f->dma, lm.pa, lm.size, lm.dir, 0, NULL, &dma);
			if (!fits) {
				assert_int_equal(ret, -ENOSPC);
				nfail++;
			} else if (nr == 0) {
				/* zero pages: allocated (next_bit moves), then refused */
				assert_int_equal(ret, -EINVAL);
			} else {
				assert_int_equal(ret, 0);
				assert_int_equal(dma, info(f).start_dma + index * PG + off);
				lm.dma = dma;
				lm.first = dma & ~(PG - 1);
				lm.npages = nr;
				for (p = index; p < index + nr; p++) {
					/* no overlap with a live mapping */
					assert_int_equal(owner[p], -1);
					/* a lazily freed page only after a later global RPCIT */
					if (freed_at[p] != NOT_PENDING)
						assert_true(fn_globals(f->fn) > freed_at[p]);
					freed_at[p] = NOT_PENDING;
					owner[p] = (int)nlive;
				}
				check_live_xlate(f, &lm);
				live[nlive++] = lm;
			}
		} else {
			unsigned k = (unsigned)(test_xorshift64s(&s) % nlive);
			struct live_map lm = live[k];
			uint64_t index = (lm.first - info(f).start_dma) / PG;

			check_live_xlate(f, &lm);
			assert_int_equal(
				iommusim_dma_unmap_page(&f->dma, lm.dma, lm.size, lm.dir, 0, NULL),
				0);
			m_free(&m, index, lm.npages);
			for (p = index; p < index + lm.npages; p++) {
				owner[p] = -1;
				if (!pc->strict)
					freed_at[p] = fn_globals(f->fn);
			}
			assert_false(iommusim_zpci_pte_is_valid(pte_at(f, lm.first)));
			live[k] = live[--nlive];
			if (k < nlive)
				for (p = 0; p < live[k].npages; p++)
					owner[(live[k].first - info(f).start_dma) / PG + p] =
						(int)k;
		}

		/* after every operation: the allocator state and one flush per wrap */
		{
			struct iommusim_legacy_dma_counters c = ctrs(f);

			assert_int_equal(info(f).next_bit, m.next_bit);
			assert_int_equal(c.used_pages, m.nused);
			assert_int_equal(c.lazy_pages, m.nlazy);
			assert_int_equal(c.wraps, m.wraps);
			assert_int_equal(c.global_rpcits, m.globals);
			assert_int_equal(fn_globals(f->fn), pc->strict ? 0 : m.wraps);
		}
		if (op % 4096 == 0 || op == pc->nops - 1) {
			check_ok(f->l);
			for (i = 0; i < nlive; i++)
				check_live_xlate(f, &live[i]);
			for (p = 0; p < PROP_PAGES; p++) {
				assert_int_equal(ims_legacy_dma_page_used(f->l, p), m.used[p]);
				assert_int_equal(ims_legacy_dma_page_lazy(f->l, p), m.lazy[p]);
			}
		}
	}
	print_message("# property: %u ops, %" PRIu64 " wraps, %u failed maps\n", pc->nops, m.wraps,
		      nfail);
	assert_true(m.wraps > 10);

	iommusim_legacy_dma_destroy(f->l, NULL);
	iommusim_zpci_fn_destroy(f->fn);
	free(m.used);
	free(m.lazy);
	free(live);
	free(owner);
	free(freed_at);
}

/* Lazy mode: never a reuse before a global RPCIT, one per wrap, no overlap, exact results. */
static void
test_legacy_s390_dma_property_lazy(void **state)
{
	const struct pcfg cfgs[] = {
		{ 1, false, false, SZ_4G, 0, 50000, 48 },
		{ 2, false, true, SZ_4G + 5 * PG, 64, 50000, 48 },
		/* a window across the 8 GiB boundary */
		{ 3, false, false, 2 * SZ_4G - 300 * PG, 0, 50000, 40 },
		{ 4, false, false, SZ_4G + 13 * PG, 32, 50000, 250 },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cfgs); i++)
		run_property(&cfgs[i]);
}

/* Strict mode: the same model, no global RPCIT ever. */
static void
test_legacy_s390_dma_property_strict(void **state)
{
	const struct pcfg cfgs[] = {
		{ 5, true, true, SZ_4G + 7 * PG, 64, 50000, 48 },
		{ 6, true, false, SZ_4G, 0, 50000, 250 },
	};
	unsigned i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cfgs); i++)
		run_property(&cfgs[i]);
}

/* ------------------------------------------------------------------------ */
/* Threads: the bitmap lock keeps concurrent maps apart */

#define NTHREADS 4
#define THREAD_OPS 20000
#define THREAD_LIVE 16
#define THREAD_PAGES 4096u

struct tshared {
	struct fix *f;
	atomic_int owner[THREAD_PAGES];
	atomic_uint errors, enospc;
};

struct targ {
	struct tshared *sh;
	unsigned id;
};

static void *
thread_main(void *p)
{
	struct targ *a = p;
	struct tshared *sh = a->sh;
	const struct fix *f = sh->f;
	struct live_map live[THREAD_LIVE];
	uint64_t s = a->id * 7919 + 3, base = SZ_4G, i;
	unsigned n = 0, op;

	for (op = 0; op < THREAD_OPS; op++) {
		if (n == 0 || (n < THREAD_LIVE && test_xorshift64s(&s) % 2)) {
			struct live_map lm = { 0 };
			int ret;

			lm.npages = 1 + test_xorshift64s(&s) % 8;
			lm.size = lm.npages * PG;
			lm.pa = (0x1000 + a->id * 0x100000 + test_xorshift64s(&s) % 0xfff00) << 12;
			lm.dir = IOMMUSIM_DMA_BIDIRECTIONAL;
			ret = iommusim_dma_map_page(&f->dma, lm.pa, lm.size, lm.dir, 0, NULL,
						    &lm.dma);
			if (ret == -ENOSPC) {
				atomic_fetch_add(&sh->enospc, 1);
				continue;
			}
			if (ret) {
				atomic_fetch_add(&sh->errors, 1);
				continue;
			}
			for (i = 0; i < lm.npages; i++) {
				uint64_t pg = (lm.dma - base) / PG + i;

				if (atomic_exchange(&sh->owner[pg], (int)a->id + 1) != 0)
					atomic_fetch_add(&sh->errors, 1);
				if (xlate(f, lm.dma + i * PG) != lm.pa + i * PG)
					atomic_fetch_add(&sh->errors, 1);
			}
			live[n++] = lm;
		} else {
			unsigned k = (unsigned)(test_xorshift64s(&s) % n);
			struct live_map lm = live[k];

			/* released before the unmap: the pages may be reused right after */
			for (i = 0; i < lm.npages; i++)
				if (atomic_exchange(&sh->owner[(lm.dma - base) / PG + i], 0) !=
				    (int)a->id + 1)
					atomic_fetch_add(&sh->errors, 1);
			if (iommusim_dma_unmap_page(&f->dma, lm.dma, lm.size, lm.dir, 0, NULL))
				atomic_fetch_add(&sh->errors, 1);
			live[k] = live[--n];
		}
	}
	while (n) {
		struct live_map lm = live[--n];

		for (i = 0; i < lm.npages; i++)
			atomic_store(&sh->owner[(lm.dma - base) / PG + i], 0);
		if (iommusim_dma_unmap_page(&f->dma, lm.dma, lm.size, lm.dir, 0, NULL))
			atomic_fetch_add(&sh->errors, 1);
	}
	return NULL;
}

static void
test_legacy_s390_dma_threads(void **state)
{
	struct fix *f = *state;
	struct tshared *sh = calloc(1, sizeof(*sh));
	struct targ args[NTHREADS];
	pthread_t th[NTHREADS];
	struct iommusim_legacy_dma_counters c;
	unsigned i;

	assert_non_null(sh);
	fix_small(f, THREAD_PAGES, false, true);
	sh->f = f;
	for (i = 0; i < NTHREADS; i++) {
		args[i].sh = sh;
		args[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(atomic_load(&sh->errors), 0);
	c = ctrs(f);
	assert_int_equal(c.mapped_pages, c.unmapped_pages);
	assert_int_equal(stats(f).iova_pages_live, 0);
	assert_true(c.wraps > 0);
	assert_int_equal(c.global_rpcits, c.wraps);
	check_ok(f->l);
	free(sh);
}

int
main(int argc, char **argv)
{
#define T(name) \
	cmocka_unit_test_setup_teardown(test_legacy_s390_dma_##name, setup_fix, teardown_fix)
	const struct CMUnitTest tests[] = {
		T(tv28),
		T(tv28_through_map_page),
		T(next_fit_ascending_unaligned),
		T(last_page_never_used),
		T(last_page_in_partial_word),
		T(seg_boundary_4g),
		T(seg_boundary_cfg),
		T(strict_reuses_without_global),
		T(lazy_waits_for_global),
		T(global_rpcit_failure),
		T(in_page_offset),
		T(direction_protection),
		T(map_rpcit_only_with_tlb_refresh),
		T(unmap_rpcit_only_strict),
		T(enomem_recovery_lazy),
		T(enomem_recovery_global_fails),
		T(enomem_strict),
		T(unmap_purge_failure_leaks),
		T(unmap_not_mapped_einval),
		T(table_enomem_undo),
		T(map_sg_merging),
		T(map_sg_max_segment),
		T(map_sg_failure_unmaps),
		T(map_sg_table_enomem),
		T(coherent),
		T(counters_and_stats),
		T(generic_handle),
		T(create_defaults),
		T(create_window_trimming),
		T(create_einval),
		T(create_eio),
		T(create_enomem_each_allocation),
		cmocka_unit_test(test_legacy_s390_dma_property_lazy),
		cmocka_unit_test(test_legacy_s390_dma_property_strict),
		T(threads),
	};
#undef T

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("legacy_s390_dma", tests, NULL, NULL);
}
