/* SPDX-License-Identifier: MIT */
/*
 * Tests of the hypervisor shadow (lib/shadow.c, COST_MODEL.md §1.1 and §3
 * row 7): walk accounting, maps/unmaps/remaps, coalesced unmap runs, the
 * entry limit with status 16 and the second pass, bad inputs, a model-based
 * random test and a two-thread test on one pool.
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

#include <iommusim/shadow.h>
#include <iommusim/zpci.h>
#include <iommusim/zpci_table.h>

#include "base/mem_int.h"
#include "hypervisor/shadow_int.h"
#include "base/util_int.h"
#include "test_common.h"

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define TiB (UINT64_C(1) << 40)
#define PG UINT64_C(4096)
#define VALID IOMMUSIM_ZPCI_PTE_VALID
#define INVALID IOMMUSIM_ZPCI_PTE_INVALID
#define PROT IOMMUSIM_ZPCI_TABLE_PROTECTED
#define ALL_PBA UINT64_C(0)
#define ALL_PAL (4 * TiB - 1)
#define DEFAULT_SEED UINT64_C(0x5ead0)

/* ------------------------------------------------------------------------ */
/* Helpers */

/* A guest table, a pool and one shadow on it. */
struct fx {
	struct iommusim_zpci_table *t;
	struct iommusim_shadow_pool *pool;
	struct iommusim_shadow *s;
	uint64_t rto;
};

static void
fx_init(struct fx *f, uint64_t limit)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(iommusim_zpci_table_create(&f->t), 0);
	assert_int_equal(iommusim_shadow_pool_create(limit, &f->pool), 0);
	assert_int_equal(iommusim_shadow_create(f->pool, &f->s), 0);
	f->rto = iommusim_zpci_table_origin(f->t);
	assert_int_not_equal(f->rto, 0);
}

static void
fx_fini(struct fx *f)
{
	iommusim_shadow_destroy(f->s);
	iommusim_shadow_pool_destroy(f->pool);
	iommusim_zpci_table_destroy(f->t);
}

/* A recognisable frame for page @iova. */
static uint64_t
frame_of(uint64_t iova)
{
	return (UINT64_C(1) << 40) | iova;
}

static void
gmap(struct iommusim_zpci_table *t, uint64_t iova, uint64_t frame, bool ro)
{
	assert_int_equal(iommusim_zpci_table_update(t, iova, frame, VALID | (ro ? PROT : 0), NULL),
			 0);
}

static void
gunmap(struct iommusim_zpci_table *t, uint64_t iova)
{
	assert_int_equal(iommusim_zpci_table_update(t, iova, 0, INVALID, NULL), 0);
}

/* Map pages [first, first + n) of the guest table, each to frame_of(). */
static void
gmap_pages(struct iommusim_zpci_table *t, uint64_t first, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		gmap(t, first + i * PG, frame_of(first + i * PG), false);
}

static void
gunmap_pages(struct iommusim_zpci_table *t, uint64_t first, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		gunmap(t, first + i * PG);
}

static struct iommusim_shadow_result
refresh_b(struct iommusim_shadow *s, uint64_t rto, uint64_t pba, uint64_t pal, uint64_t addr,
	  uint64_t range)
{
	struct iommusim_shadow_result r;

	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(iommusim_shadow_refresh(s, rto, pba, pal, addr, range, &r), 0);
	return r;
}

static struct iommusim_shadow_result
refresh(const struct fx *f, uint64_t addr, uint64_t range)
{
	return refresh_b(f->s, f->rto, ALL_PBA, ALL_PAL, addr, range);
}

static void
expect_walk(const struct iommusim_shadow_result *r, uint64_t loads, uint64_t walked,
	    uint64_t region_skips, uint64_t segment_skips)
{
	assert_int_equal(r->loads, loads);
	assert_int_equal(r->walked_slots, walked);
	assert_int_equal(r->region_skips, region_skips);
	assert_int_equal(r->segment_skips, segment_skips);
}

static void
expect_changes(const struct iommusim_shadow_result *r, uint64_t maps, uint64_t remaps,
	       uint64_t unmaps, uint64_t unmap_runs)
{
	assert_int_equal(r->maps, maps);
	assert_int_equal(r->remaps, remaps);
	assert_int_equal(r->unmaps, unmaps);
	assert_int_equal(r->unmap_runs, unmap_runs);
}

static void
expect_ok(const struct iommusim_shadow_result *r)
{
	assert_int_equal(r->cc, 0);
	assert_int_equal(r->status, 0);
	assert_int_equal(r->skipped, 0);
	assert_false(r->second_pass);
}

static void
expect_status16(const struct iommusim_shadow_result *r, uint64_t skipped)
{
	assert_int_equal(r->cc, IOMMUSIM_ZPCI_CC_ERR);
	assert_int_equal(r->status, IOMMUSIM_ZPCI_ST_INSUF_RES);
	assert_int_equal(r->skipped, skipped);
}

static void
expect_status8(const struct iommusim_shadow_result *r)
{
	assert_int_equal(r->cc, IOMMUSIM_ZPCI_CC_ERR);
	assert_int_equal(r->status, IOMMUSIM_ZPCI_ST_FUNC_IN_ERR);
	expect_walk(r, 0, 0, 0, 0);
	expect_changes(r, 0, 0, 0, 0);
	assert_int_equal(r->skipped, 0);
	assert_false(r->second_pass);
}

static uint64_t
lookup_frame(const struct iommusim_shadow *s, uint64_t iova)
{
	uint64_t frame = 0xdeadbeef;

	assert_int_equal(iommusim_shadow_lookup(s, iova, &frame), 0);
	return frame;
}

static void
expect_not_shadowed(const struct iommusim_shadow *s, uint64_t iova)
{
	uint64_t frame = 0xdeadbeef;

	assert_int_equal(iommusim_shadow_lookup(s, iova, &frame), -ENOENT);
	assert_int_equal(frame, 0xdeadbeef);
}

/* ------------------------------------------------------------------------ */
/* Walk accounting */

static void
test_shadow_walk_empty_table_skips_regions(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	/* 4 GiB from 0: two region entries loaded, each skipping 2 GiB. */
	r = refresh(&f, 0, 4 * GiB);
	expect_ok(&r);
	expect_walk(&r, 2, 0, 2, 0);
	expect_changes(&r, 0, 0, 0, 0);
	/* From mid-frame: 1 GiB .. 5 GiB touches frames 0, 1 and 2. */
	r = refresh(&f, 1 * GiB, 4 * GiB);
	expect_walk(&r, 3, 0, 3, 0);
	/* One byte, one page. */
	r = refresh(&f, 7 * GiB + 123, 1);
	expect_walk(&r, 1, 0, 1, 0);
	/* The whole 4 TiB: 2048 region entries. */
	r = refresh(&f, 0, 4 * TiB);
	expect_walk(&r, 2048, 0, 2048, 0);
	assert_int_equal(iommusim_shadow_entries(f.s), 0);
	fx_fini(&f);
}

static void
test_shadow_walk_one_page_exact_loads(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;
	uint64_t page = 5 * MiB + 3 * PG;

	(void)state;
	fx_init(&f, 0);
	gmap(f.t, page, frame_of(page), false);

	/* 4 MiB .. 8 MiB: RTE + 4 STEs (3 invalid) + the 256 PTEs of MiB 5. */
	r = refresh(&f, 4 * MiB, 4 * MiB);
	expect_ok(&r);
	expect_walk(&r, 1 + 4 + 256, 256, 0, 3);
	expect_changes(&r, 1, 0, 0, 0);
	assert_int_equal(lookup_frame(f.s, page), frame_of(page));

	/* The first 2 GiB: RTE + 2048 STEs + 256 PTEs; again, nothing changes. */
	r = refresh(&f, 0, 2 * GiB);
	expect_walk(&r, 1 + 2048 + 256, 256, 0, 2047);
	expect_changes(&r, 0, 0, 0, 0);

	/* 4 GiB: the same plus the invalid region entry of frame 1. */
	r = refresh(&f, 0, 4 * GiB);
	expect_walk(&r, 1 + 2048 + 256 + 1, 256, 1, 2047);

	/* Mid-MiB, unaligned: pages 100..102 of MiB 5 (3 bytes into page 102). */
	r = refresh(&f, 5 * MiB + 100 * PG + 123, 2 * PG - 120);
	expect_walk(&r, 1 + 1 + 3, 3, 0, 0);

	/* 5.5 MiB .. 6.5 MiB: 128 PTEs of MiB 5, then MiB 6's invalid STE. */
	r = refresh(&f, 5 * MiB + 512 * KiB, 1 * MiB);
	expect_walk(&r, 1 + 1 + 128 + 1, 128, 0, 1);

	/* The page alone. */
	r = refresh(&f, page, PG);
	expect_walk(&r, 3, 1, 0, 0);
	expect_changes(&r, 0, 0, 0, 0);
	fx_fini(&f);
}

static void
test_shadow_walk_region_and_segment_boundaries(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;
	uint64_t lo = 2 * GiB - PG, hi = 2 * GiB; /* last page of frame 0, first of frame 1 */

	(void)state;
	fx_init(&f, 0);
	gmap(f.t, lo, frame_of(lo), false);
	gmap(f.t, hi, frame_of(hi), true);

	/* 2 GiB - 8 KiB .. 2 GiB + 8 KiB: each frame loads RTE, STE and 2 PTEs. */
	r = refresh(&f, 2 * GiB - 2 * PG, 4 * PG);
	expect_ok(&r);
	expect_walk(&r, 8, 4, 0, 0);
	expect_changes(&r, 2, 0, 0, 0);

	/* The pages of both 1 MiB either side: 2 * (1 + 1 + 256). */
	r = refresh(&f, 2 * GiB - MiB, 2 * MiB);
	expect_walk(&r, 2 * (1 + 1 + 256), 512, 0, 0);
	expect_changes(&r, 0, 0, 0, 0);

	/* Both pages gone: one contiguous stale run that starts at an odd pfn
	 * (0x7ffff) crosses the 2 GiB boundary: chunks 1 + 1. */
	gunmap(f.t, lo);
	gunmap(f.t, hi);
	r = refresh(&f, 2 * GiB - 2 * PG, 4 * PG);
	expect_ok(&r);
	expect_changes(&r, 0, 0, 2, 2);
	assert_int_equal(iommusim_shadow_entries(f.s), 0);

	/* A 1 MiB boundary inside one frame: pages 1 MiB - 4 KiB and 1 MiB. */
	gmap(f.t, MiB - PG, frame_of(MiB - PG), false);
	gmap(f.t, MiB, frame_of(MiB), false);
	r = refresh(&f, MiB - PG, 2 * PG);
	expect_walk(&r, 1 + 1 + 1 + 1 + 1, 2, 0, 0);
	expect_changes(&r, 2, 0, 0, 0);
	fx_fini(&f);
}

static void
test_shadow_walk_skipped_frames_keep_their_entries(void **state)
{
	struct iommusim_shadow_result r;
	struct iommusim_zpci_table *empty;
	struct fx f;

	(void)state;
	fx_init(&f, 8);
	gmap_pages(f.t, 3 * MiB, 2);
	r = refresh(&f, 0, 4 * MiB);
	expect_changes(&r, 2, 0, 0, 0);
	/* Modelling choice: pages under an invalid region entry are not visited. */
	assert_int_equal(iommusim_zpci_table_create(&empty), 0);
	r = refresh_b(f.s, iommusim_zpci_table_origin(empty), ALL_PBA, ALL_PAL, 0, 4 * MiB);
	expect_ok(&r);
	expect_walk(&r, 1, 0, 1, 0);
	expect_changes(&r, 0, 0, 0, 0);
	assert_int_equal(iommusim_shadow_entries(f.s), 2);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 6);

	/* A second table with MiB 3 unpopulated but page 5 MiB as in the first:
	 * the walk passes the entries left in MiB 3 and finds 5 MiB shadowed. */
	gmap(f.t, 5 * MiB, frame_of(5 * MiB), false);
	gmap(empty, 5 * MiB, frame_of(5 * MiB), false);
	r = refresh(&f, 0, 8 * MiB);
	expect_changes(&r, 1, 0, 0, 0);
	r = refresh_b(f.s, iommusim_zpci_table_origin(empty), ALL_PBA, ALL_PAL, 0, 8 * MiB);
	expect_ok(&r);
	expect_walk(&r, 1 + 8 + 256, 256, 0, 7);
	expect_changes(&r, 0, 0, 0, 0);
	assert_int_equal(iommusim_shadow_entries(f.s), 3);
	iommusim_zpci_table_destroy(empty);
	fx_fini(&f);
}

/* ------------------------------------------------------------------------ */
/* Maps, remaps, unmaps */

static void
test_shadow_maps_once_then_nothing(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;
	uint64_t base = 8 * MiB;

	(void)state;
	fx_init(&f, 100);
	gmap_pages(f.t, base, 10);
	r = refresh(&f, base, 10 * PG);
	expect_ok(&r);
	expect_walk(&r, 1 + 1 + 10, 10, 0, 0);
	expect_changes(&r, 10, 0, 0, 0);
	assert_int_equal(iommusim_shadow_entries(f.s), 10);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 90);
	for (uint64_t i = 0; i < 10; i++)
		assert_int_equal(lookup_frame(f.s, base + i * PG), frame_of(base + i * PG));

	r = refresh(&f, base, 10 * PG);
	expect_ok(&r);
	expect_changes(&r, 0, 0, 0, 0);
	assert_int_equal(iommusim_shadow_entries(f.s), 10);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 90);
	fx_fini(&f);
}

static void
test_shadow_remap_changed_frame_or_protection(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;
	uint64_t base = 8 * MiB, frame;
	bool ro = true;

	(void)state;
	fx_init(&f, 100);
	gmap_pages(f.t, base, 4);
	r = refresh(&f, base, 4 * PG);
	expect_changes(&r, 4, 0, 0, 0);

	/* Another frame for page 1. */
	gmap(f.t, base + PG, 0x777000, false);
	r = refresh(&f, base, 4 * PG);
	expect_ok(&r);
	expect_changes(&r, 1, 1, 0, 0);
	assert_int_equal(lookup_frame(f.s, base + PG), 0x777000);
	assert_int_equal(iommusim_shadow_entries(f.s), 4);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 96);

	/* The same frame, read-only now: still a change. */
	gmap(f.t, base + PG, 0x777000, true);
	r = refresh(&f, base, 4 * PG);
	expect_changes(&r, 1, 1, 0, 0);
	assert_int_equal(ims_shadow_lookup_entry(f.s, base + PG, &frame, &ro), 0);
	assert_int_equal(frame, 0x777000);
	assert_true(ro);
	assert_int_equal(ims_shadow_lookup_entry(f.s, base, NULL, &ro), 0);
	assert_false(ro);
	fx_fini(&f);
}

static void
test_shadow_remap_succeeds_on_exhausted_pool(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;
	uint64_t base = 8 * MiB;

	(void)state;
	fx_init(&f, 3);
	gmap_pages(f.t, base, 3);
	r = refresh(&f, base, 3 * PG);
	expect_ok(&r);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 0);
	/* Modelling choice: a changed entry is replaced with its own entry. */
	gmap(f.t, base + 2 * PG, 0x123000, false);
	r = refresh(&f, base, 3 * PG);
	expect_ok(&r);
	expect_changes(&r, 1, 1, 0, 0);
	assert_int_equal(lookup_frame(f.s, base + 2 * PG), 0x123000);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 0);
	fx_fini(&f);
}

static void
test_shadow_invalidate_returns_entries(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;
	uint64_t base = 8 * MiB;

	(void)state;
	fx_init(&f, 100);
	gmap_pages(f.t, base, 10);
	r = refresh(&f, base, 10 * PG);
	expect_changes(&r, 10, 0, 0, 0);
	/* Pages 2, 5 and 9 go. */
	gunmap(f.t, base + 2 * PG);
	gunmap(f.t, base + 5 * PG);
	gunmap(f.t, base + 9 * PG);
	r = refresh(&f, base, 10 * PG);
	expect_ok(&r);
	expect_changes(&r, 0, 0, 3, 3);
	assert_int_equal(iommusim_shadow_entries(f.s), 7);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 93);
	expect_not_shadowed(f.s, base + 2 * PG);
	expect_not_shadowed(f.s, base + 5 * PG);
	expect_not_shadowed(f.s, base + 9 * PG);
	assert_int_equal(lookup_frame(f.s, base + 3 * PG), frame_of(base + 3 * PG));
	/* Invalid and not shadowed: walk cost only. */
	r = refresh(&f, base, 10 * PG);
	expect_walk(&r, 12, 10, 0, 0);
	expect_changes(&r, 0, 0, 0, 0);
	fx_fini(&f);
}

/* ------------------------------------------------------------------------ */
/* Coalesced unmap runs */

static void
test_shadow_unmap_chunks_power_of_two_aligned(void **state)
{
	(void)state;
	assert_int_equal(ims_shadow_unmap_chunks(0, 0), 0);
	assert_int_equal(ims_shadow_unmap_chunks(0, 7), 3); /* 4 + 2 + 1 */
	assert_int_equal(ims_shadow_unmap_chunks(1, 8), 4); /* 1 + 2 + 4 + 1 */
	assert_int_equal(ims_shadow_unmap_chunks(0, 8), 1);
	assert_int_equal(ims_shadow_unmap_chunks(8, 8), 1);
	assert_int_equal(ims_shadow_unmap_chunks(4, 8), 2); /* 4 + 4 */
	assert_int_equal(ims_shadow_unmap_chunks(255, 4), 3); /* 1 + 2 + 1 */
	assert_int_equal(ims_shadow_unmap_chunks(0, 256), 1);
	assert_int_equal(ims_shadow_unmap_chunks(3, 1), 1);
	assert_int_equal(ims_shadow_unmap_chunks(UINT64_C(1) << 40, 3), 2);
}

/* Shadow pages [0, npages) at @base (1 MiB aligned), then make the pages in
 * @stale (a bit mask) invalid and refresh; @return the result. */
static struct iommusim_shadow_result
stale_refresh(uint64_t base, unsigned npages, uint64_t stale)
{
	struct iommusim_shadow_result r;
	struct fx f;

	fx_init(&f, 0);
	gmap_pages(f.t, base, npages);
	r = refresh(&f, base, npages * PG);
	assert_int_equal(r.maps, npages);
	for (unsigned i = 0; i < npages; i++)
		if (stale & (UINT64_C(1) << i))
			gunmap(f.t, base + i * PG);
	r = refresh(&f, base, npages * PG);
	expect_ok(&r);
	assert_int_equal(r.unmaps, (uint64_t)__builtin_popcountll(stale));
	assert_int_equal(iommusim_shadow_entries(f.s), npages - r.unmaps);
	fx_fini(&f);
	return r;
}

static void
test_shadow_unmap_runs_0_to_6(void **state)
{
	struct iommusim_shadow_result r = stale_refresh(16 * MiB, 10, 0x7f);

	(void)state;
	assert_int_equal(r.unmap_runs, 3); /* 0-3, 4-5, 6 */
}

static void
test_shadow_unmap_runs_1_to_8(void **state)
{
	struct iommusim_shadow_result r = stale_refresh(16 * MiB, 10, 0x1fe);

	(void)state;
	assert_int_equal(r.unmap_runs, 4); /* 1, 2-3, 4-7, 8 */
}

static void
test_shadow_unmap_runs_split_by_valid_page(void **state)
{
	/* 0-3 and 5-6 stale, page 4 still valid: 4-page chunk, then 5 and 6. */
	struct iommusim_shadow_result r = stale_refresh(16 * MiB, 8, 0x6f);

	(void)state;
	assert_int_equal(r.unmap_runs, 1 + 2);
	/* 0-1 and 4-5 stale around valid 2-3: two chunks of 2. */
	r = stale_refresh(16 * MiB, 8, 0x33);
	assert_int_equal(r.unmap_runs, 2);
	/* All 8: one chunk. */
	r = stale_refresh(16 * MiB, 8, 0xff);
	assert_int_equal(r.unmap_runs, 1);
}

static void
test_shadow_unmap_runs_split_by_unshadowed_page(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;
	uint64_t base = 16 * MiB;

	(void)state;
	fx_init(&f, 0);
	/* Pages 0, 1, 3 shadowed; 2 never mapped. */
	gmap_pages(f.t, base, 2);
	gmap(f.t, base + 3 * PG, frame_of(base + 3 * PG), false);
	r = refresh(&f, base, 4 * PG);
	expect_changes(&r, 3, 0, 0, 0);
	gunmap_pages(f.t, base, 4);
	r = refresh(&f, base, 4 * PG);
	expect_changes(&r, 0, 0, 3, 2); /* 0-1, then 3 */
	fx_fini(&f);
}

static void
test_shadow_unmap_runs_continue_across_segments(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;
	uint64_t first = 17 * MiB - PG; /* pfn 0x10ff, then 0x1100.. */

	(void)state;
	fx_init(&f, 0);
	gmap_pages(f.t, first, 4);
	r = refresh(&f, first, 4 * PG);
	expect_changes(&r, 4, 0, 0, 0);
	gunmap_pages(f.t, first, 4);
	r = refresh(&f, first, 4 * PG);
	/* One contiguous run 0x10ff..0x1102: chunks 1 + 2 + 1. */
	expect_changes(&r, 0, 0, 4, 3);
	expect_walk(&r, 1 + 2 + 4, 4, 0, 0);
	fx_fini(&f);
}

static void
test_shadow_unmap_runs_split_by_segment_and_region_skip(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	/* Last two pages of MiB 20, first two of MiB 22; MiB 21 never populated. */
	gmap_pages(f.t, 21 * MiB - 2 * PG, 2);
	gmap_pages(f.t, 22 * MiB, 2);
	r = refresh(&f, 20 * MiB, 3 * MiB);
	expect_changes(&r, 4, 0, 0, 0);
	gunmap_pages(f.t, 21 * MiB - 2 * PG, 2);
	gunmap_pages(f.t, 22 * MiB, 2);
	r = refresh(&f, 20 * MiB, 3 * MiB);
	expect_ok(&r);
	expect_walk(&r, 1 + 3 + 2 * 256, 512, 0, 1);
	expect_changes(&r, 0, 0, 4, 2);
	fx_fini(&f);

	/* Frames 0 and 2 populated at their edges, frame 1 not; stale pages at
	 * the end of frame 0 and the start of frame 2. */
	fx_init(&f, 0);
	gmap_pages(f.t, 2 * GiB - 2 * PG, 2);
	gmap_pages(f.t, 4 * GiB, 2);
	r = refresh(&f, 2 * GiB - MiB, 2 * GiB + 2 * MiB);
	expect_changes(&r, 4, 0, 0, 0);
	/* MiB 2047 of frame 0, frame 1 skipped, MiB 4096 of frame 2. */
	expect_walk(&r, (1 + 1 + 256) + 1 + (1 + 1 + 256), 512, 1, 0);
	gunmap_pages(f.t, 2 * GiB - 2 * PG, 2);
	gunmap_pages(f.t, 4 * GiB, 2);
	r = refresh(&f, 2 * GiB - MiB, 2 * GiB + 2 * MiB);
	expect_changes(&r, 0, 0, 4, 2);
	assert_int_equal(r.region_skips, 1);
	assert_int_equal(iommusim_shadow_entries(f.s), 0);
	fx_fini(&f);
}

/* ------------------------------------------------------------------------ */
/* The entry limit (COST_MODEL §3 row 7) */

#define LIM 16u
#define LBASE (32 * MiB)

/* 16 pages shadowed on a pool of 16, and a 17th mapped in the guest. */
static void
limit_fill(struct fx *f, uint64_t seventeenth)
{
	struct iommusim_shadow_result r;

	fx_init(f, LIM);
	gmap_pages(f->t, LBASE, LIM);
	r = refresh(f, LBASE, LIM * PG);
	expect_ok(&r);
	expect_changes(&r, LIM, 0, 0, 0);
	assert_int_equal(iommusim_shadow_pool_available(f->pool), 0);
	gmap(f->t, seventeenth, frame_of(seventeenth), false);
}

static void
test_shadow_limit_17th_page_status16(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;
	uint64_t p17 = LBASE + 100 * PG;

	(void)state;
	limit_fill(&f, p17);
	r = refresh(&f, p17, PG);
	expect_status16(&r, 1);
	assert_false(r.second_pass);
	expect_changes(&r, 0, 0, 0, 0);
	expect_walk(&r, 3, 1, 0, 0);
	assert_int_equal(iommusim_shadow_entries(f.s), LIM);
	expect_not_shadowed(f.s, p17);
	fx_fini(&f);
}

static void
test_shadow_limit_stale_outside_range_not_reclaimed(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;
	uint64_t p17 = LBASE + 100 * PG;

	(void)state;
	limit_fill(&f, p17);
	gunmap_pages(f.t, LBASE, 4); /* lazily unmapped, not flushed */
	r = refresh(&f, p17, PG);
	expect_status16(&r, 1);
	assert_int_equal(iommusim_shadow_entries(f.s), LIM);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 0);

	/* The global refresh meets the 4 stale pages before the 17th: same walk. */
	r = refresh(&f, 0, 4 * TiB);
	expect_ok(&r);
	expect_changes(&r, 1, 0, 4, 1);
	assert_int_equal(iommusim_shadow_entries(f.s), LIM - 3);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 3);
	assert_int_equal(lookup_frame(f.s, p17), frame_of(p17));
	fx_fini(&f);
}

static void
test_shadow_limit_second_pass_maps_page_before_stale(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;
	uint64_t p17 = LBASE - 10 * PG; /* before the stale pages in walk order */

	(void)state;
	limit_fill(&f, p17);
	gunmap_pages(f.t, LBASE + 12 * PG, 4);
	r = refresh(&f, LBASE - MiB, 2 * MiB);
	assert_int_equal(r.cc, 0);
	assert_int_equal(r.status, 0);
	assert_true(r.second_pass);
	assert_int_equal(r.skipped, 0);
	/* Pass 1 drops 12-15 (one chunk of 4), pass 2 maps the 17th. */
	expect_changes(&r, 1, 0, 4, 1);
	/* Both passes walk MiB 31 and 32 in full. */
	expect_walk(&r, 2 * (1 + 2 + 512), 2 * 512, 0, 0);
	assert_int_equal(iommusim_shadow_entries(f.s), LIM - 3);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 3);
	fx_fini(&f);
}

static void
test_shadow_limit_second_pass_can_skip_again(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;

	(void)state;
	limit_fill(&f, LBASE - 3 * PG);
	gmap(f.t, LBASE - 2 * PG, frame_of(LBASE - 2 * PG), false);
	gmap(f.t, LBASE - 1 * PG, frame_of(LBASE - 1 * PG), false);
	gunmap(f.t, LBASE + 15 * PG); /* one entry comes back, after the three */
	r = refresh(&f, LBASE - 3 * PG, 19 * PG);
	assert_true(r.second_pass);
	expect_status16(&r, 2);
	expect_changes(&r, 1, 0, 1, 1);
	assert_int_equal(lookup_frame(f.s, LBASE - 3 * PG), frame_of(LBASE - 3 * PG));
	expect_not_shadowed(f.s, LBASE - 2 * PG);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 0);
	/* Pass 1 and pass 2: 3 + 16 pages in MiB 31 and 32 each. */
	expect_walk(&r, 2 * (1 + 2 + 19), 2 * 19, 0, 0);
	fx_fini(&f);
}

static void
test_shadow_limit_no_second_pass_without_room(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;

	(void)state;
	limit_fill(&f, LBASE - PG);
	r = refresh(&f, 0, 4 * TiB);
	expect_status16(&r, 1);
	assert_false(r.second_pass);
	fx_fini(&f);
}

/*
 * The guest's side of row 7: a ring of IOVAs, @live in flight; each I/O maps
 * one page with a map-time RPCIT; on status 16 the guest does one global
 * RPCIT over its aperture (which also flushes its queue) and retries; a
 * completed I/O's page is invalidated lazily and queued; a full queue
 * (capacity @qcap) is flushed with a global RPCIT. @return the status-16
 * events; each one happens exactly when live + queued pages fill the pool.
 */
static unsigned
queue_pattern(unsigned live, unsigned qcap, unsigned ios)
{
	const uint64_t ap_base = 1 * GiB, ap_pages = 4096, ap_last = ap_base + ap_pages * PG - 1;
	uint64_t ring[64], next = 0;
	unsigned head = 0, inflight = 0, queued = 0, events = 0;
	struct iommusim_shadow_result r;
	struct fx f;

	fx_init(&f, LIM);
	assert_true(live <= IMS_ARRAY_SIZE(ring));
	assert_true(ios < ap_pages); /* no reuse: the retried page is the highest */
	for (unsigned io = 0; io < ios; io++) {
		uint64_t iova;

		if (inflight == live) { /* complete the oldest */
			uint64_t old = ring[head % live];

			gunmap(f.t, old);
			inflight--;
			head++;
			if (++queued == qcap) {
				r = refresh_b(f.s, f.rto, ap_base, ap_last, ap_base, ap_pages * PG);
				expect_ok(&r);
				assert_int_equal(r.unmaps, queued);
				queued = 0;
			}
		}
		iova = ap_base + (next++ % ap_pages) * PG;
		gmap(f.t, iova, frame_of(iova), false);
		r = refresh_b(f.s, f.rto, ap_base, ap_last, iova, PG);
		if (r.cc) {
			expect_status16(&r, 1);
			assert_int_equal(inflight + queued, LIM);
			events++;
			r = refresh_b(f.s, f.rto, ap_base, ap_last, ap_base, ap_pages * PG);
			expect_ok(&r); /* the retried map lands in the same walk */
			assert_int_equal(r.unmaps, queued);
			assert_int_equal(r.maps, 1);
			queued = 0;
		}
		assert_int_equal(iommusim_shadow_entries(f.s), inflight + 1 + queued);
		ring[(head + inflight) % live] = iova;
		inflight++;
	}
	assert_int_equal(iommusim_shadow_pool_available(f.pool),
			 LIM - iommusim_shadow_entries(f.s));
	fx_fini(&f);
	return events;
}

static void
test_shadow_limit_queue_pattern_repeated_status16(void **state)
{
	(void)state;
	/*
	 * A queue flushed when it holds qcap pages holds at most qcap - 1 when
	 * a map comes; with 4 pages live (the new one included) that is 16
	 * entries for qcap 13: no status 16. With qcap 14 or more, 3 pages in
	 * flight and 13 queued fill the pool: the first event is I/O 16, then
	 * every 13 I/Os (each global refresh empties the queue).
	 */
	assert_int_equal(queue_pattern(4, 32, 1000), (1000 - 1 - 16) / 13 + 1);
	assert_int_equal(queue_pattern(4, 14, 1000), (1000 - 1 - 16) / 13 + 1);
	assert_int_equal(queue_pattern(4, 13, 1000), 0);
	assert_int_equal(queue_pattern(4, 8, 1000), 0);
	/* So status 16 comes iff live + qcap - 1 > 16: one page live. */
	assert_int_equal(queue_pattern(1, LIM, 1000), 0);
	assert_int_equal(queue_pattern(1, LIM + 1, 1000), (1000 - 1 - 16) / 16 + 1);
}

/* ------------------------------------------------------------------------ */
/* Bad inputs, pools, lookup */

static void
test_shadow_bad_range_or_no_table_status8(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;
	const uint64_t pba = 1 * GiB, pal = 2 * GiB - 1;

	(void)state;
	fx_init(&f, 4);
	gmap_pages(f.t, pba, 2);
	r = refresh_b(f.s, 0, pba, pal, pba, PG);
	expect_status8(&r);
	r = refresh_b(f.s, f.rto, pba, pal, pba - PG, PG); /* below pba */
	expect_status8(&r);
	r = refresh_b(f.s, f.rto, pba, pal, pba - 1, 2); /* straddles pba */
	expect_status8(&r);
	r = refresh_b(f.s, f.rto, pba, pal, pal, 2); /* one byte past pal */
	expect_status8(&r);
	r = refresh_b(f.s, f.rto, pba, pal, pba, UINT64_MAX); /* wraps */
	expect_status8(&r);
	r = refresh_b(f.s, f.rto, 0, UINT64_MAX, 4 * TiB - PG, 2 * PG); /* past 4 TiB */
	expect_status8(&r);
	r = refresh_b(f.s, f.rto, pal + 1, pba, pba, PG); /* empty window */
	expect_status8(&r);
	assert_int_equal(iommusim_shadow_entries(f.s), 0);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 4);

	/* pal is inclusive: the last byte is inside. */
	r = refresh_b(f.s, f.rto, pba, pal, pba, pal - pba + 1);
	expect_ok(&r);
	expect_changes(&r, 2, 0, 0, 0);
	r = refresh_b(f.s, f.rto, pba, pal, pal, 1);
	expect_ok(&r);
	expect_walk(&r, 2, 0, 0, 1);
	r = refresh_b(f.s, f.rto, 0, UINT64_MAX, 4 * TiB - PG, PG);
	expect_walk(&r, 1, 0, 1, 0);
	fx_fini(&f);
}

static void
test_shadow_null_and_einval(void **state)
{
	struct iommusim_shadow_result r = { .cc = 42 };
	struct iommusim_shadow_pool *pool = NULL;
	struct iommusim_shadow *s = NULL;
	struct fx f;
	uint64_t frame = 7;

	(void)state;
	assert_int_equal(iommusim_shadow_pool_create(1, NULL), -EINVAL);
	assert_int_equal(iommusim_shadow_create(NULL, &s), -EINVAL);
	assert_null(s);
	assert_int_equal(iommusim_shadow_pool_create(1, &pool), 0);
	assert_int_equal(iommusim_shadow_create(pool, NULL), -EINVAL);
	iommusim_shadow_pool_destroy(pool);

	fx_init(&f, 1);
	assert_int_equal(iommusim_shadow_refresh(NULL, f.rto, 0, ALL_PAL, 0, PG, &r), -EINVAL);
	assert_int_equal(iommusim_shadow_refresh(f.s, f.rto, 0, ALL_PAL, 0, PG, NULL), -EINVAL);
	assert_int_equal(iommusim_shadow_refresh(f.s, f.rto, 0, ALL_PAL, 0, 0, &r), -EINVAL);
	assert_int_equal(r.cc, 42); /* not written */
	assert_int_equal(iommusim_shadow_lookup(NULL, 0, &frame), -EINVAL);
	assert_int_equal(iommusim_shadow_lookup(f.s, 0, &frame), -ENOENT);
	assert_int_equal(frame, 7);
	assert_int_equal(iommusim_shadow_entries(NULL), 0);
	assert_int_equal(iommusim_shadow_pool_available(NULL), 0);
	iommusim_shadow_destroy(NULL);
	iommusim_shadow_pool_destroy(NULL);
	fx_fini(&f);
}

static void
test_shadow_pool_unlimited(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;

	(void)state;
	fx_init(&f, 0);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), UINT64_MAX);
	gmap_pages(f.t, 0, 1000);
	r = refresh(&f, 0, 1000 * PG);
	expect_ok(&r);
	assert_int_equal(r.maps, 1000);
	assert_int_equal(iommusim_shadow_entries(f.s), 1000);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), UINT64_MAX);
	fx_fini(&f);
}

static void
test_shadow_pool_shared_by_two_shadows(void **state)
{
	struct iommusim_shadow_result r;
	struct iommusim_shadow *s2;
	struct fx f;

	(void)state;
	fx_init(&f, 10);
	assert_int_equal(iommusim_shadow_create(f.pool, &s2), 0);
	gmap_pages(f.t, 0, 6);
	r = refresh(&f, 0, 6 * PG);
	expect_ok(&r);
	/* The second shadow (another device on the container) sees the same
	 * tables here; only 4 entries are left for its 6 pages. */
	r = refresh_b(s2, f.rto, ALL_PBA, ALL_PAL, 0, 6 * PG);
	expect_status16(&r, 2);
	expect_changes(&r, 4, 0, 0, 0);
	assert_int_equal(iommusim_shadow_entries(f.s), 6);
	assert_int_equal(iommusim_shadow_entries(s2), 4);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 0);
	/* Destroying the first returns its 6 entries; the second takes 2. */
	iommusim_shadow_destroy(f.s);
	f.s = NULL;
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 6);
	r = refresh_b(s2, f.rto, ALL_PBA, ALL_PAL, 0, 6 * PG);
	expect_ok(&r);
	expect_changes(&r, 2, 0, 0, 0);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 4);
	iommusim_shadow_destroy(s2);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 10);
	fx_fini(&f);
}

static void
test_shadow_lookup_rounds_down_and_reports_protection(void **state)
{
	struct iommusim_shadow_result r;
	struct fx f;
	uint64_t frame = 0;
	bool ro = false;

	(void)state;
	fx_init(&f, 4);
	gmap(f.t, 0x5000, 0xabc000, true);
	r = refresh(&f, 0x5000, PG);
	expect_ok(&r);
	assert_int_equal(lookup_frame(f.s, 0x5fff), 0xabc000);
	assert_int_equal(lookup_frame(f.s, 0x5000), 0xabc000);
	assert_int_equal(iommusim_shadow_lookup(f.s, 0x5123, NULL), 0);
	assert_int_equal(ims_shadow_lookup_entry(f.s, 0x5001, &frame, &ro), 0);
	assert_int_equal(frame, 0xabc000);
	assert_true(ro);
	expect_not_shadowed(f.s, 0x4fff);
	expect_not_shadowed(f.s, 0x6000);
	fx_fini(&f);
}

static void
test_shadow_enomem_keeps_shadow_consistent(void **state)
{
	struct iommusim_shadow_result r = { .cc = 42 };
	struct iommusim_shadow_pool *pool = NULL;
	struct iommusim_shadow *s = NULL;
	struct fx f;

	(void)state;
	ims_mem_fault_inject(1, 1);
	assert_int_equal(iommusim_shadow_pool_create(1, &pool), -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_null(pool);
	assert_int_equal(iommusim_shadow_pool_create(1, &pool), 0);
	ims_mem_fault_inject(1, 1);
	assert_int_equal(iommusim_shadow_create(pool, &s), -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_null(s);
	iommusim_shadow_pool_destroy(pool);

	fx_init(&f, 10);
	gmap_pages(f.t, 0, 5);
	ims_mem_fault_inject(3, 1); /* the third new entry */
	assert_int_equal(iommusim_shadow_refresh(f.s, f.rto, ALL_PBA, ALL_PAL, 0, 5 * PG, &r),
			 -ENOMEM);
	ims_mem_fault_inject(0, 0);
	assert_int_equal(r.cc, 42);
	assert_int_equal(iommusim_shadow_entries(f.s), 2);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 8);
	r = refresh(&f, 0, 5 * PG);
	expect_ok(&r);
	expect_changes(&r, 3, 0, 0, 0);
	assert_int_equal(iommusim_shadow_pool_available(f.pool), 5);
	fx_fini(&f);
}

/* ------------------------------------------------------------------------ */
/* Property test against a brute-force model */

#define PROP_SEEDS 4u
#define PROP_REFRESHES 2500u
#define PROP_POOL 160u
#define PROP_BASE (3 * GiB) /* 2^20 pages: [3 GiB, 7 GiB), frames 1, 2 and 3 */
#define PROP_PAGES (UINT64_C(1) << 20)
#define PROP_LAST (PROP_BASE + PROP_PAGES * PG - 1)
#define PROP_MIBS 4096u /* MiBs in the region */
#define PROP_NSEG 24u /* populated-able MiBs, all inside frames 1 and 2 */
#define PROP_NPG (PROP_NSEG * 256u)
#define PROP_MAX_VALID 180u

/* The model: candidate pages (whole MiBs) with guest PTEs and shadow entries. */
struct model {
	int seg_of_mib[PROP_MIBS]; /* candidate index of a MiB of the region, or -1 */
	uint64_t seg_mib[PROP_NSEG]; /* MiB number (iova >> 20) of each candidate */
	bool seg_pop[PROP_NSEG]; /* its page table exists */
	bool region_pop[4]; /* frames 0..3: a segment table exists */
	bool valid[PROP_NPG];
	uint64_t val[PROP_NPG]; /* guest: frame | protection */
	bool shadowed[PROP_NPG];
	uint64_t sval[PROP_NPG];
	unsigned nvalid;
	uint64_t avail;
	uint64_t *stale; /* pfns dropped in one pass, in walk order */
	size_t nstale;
};

static uint64_t
model_iova(const struct model *m, unsigned idx)
{
	return (m->seg_mib[idx / 256] << 20) + (uint64_t)(idx % 256) * PG;
}

/* Chunks of one run, the slow way: grow while aligned and fitting. */
static uint64_t
model_chunks(uint64_t pfn, uint64_t n)
{
	uint64_t chunks = 0;

	while (n) {
		uint64_t size = 1;

		while (size * 2 <= n && pfn % (size * 2) == 0)
			size *= 2;
		pfn += size;
		n -= size;
		chunks++;
	}
	return chunks;
}

static void
model_page(struct model *m, unsigned idx, struct iommusim_shadow_result *r, uint64_t *skipped)
{
	if (!m->valid[idx]) {
		if (m->shadowed[idx]) {
			m->shadowed[idx] = false;
			m->avail++;
			r->unmaps++;
			m->stale[m->nstale++] = model_iova(m, idx) >> 12;
		}
		return;
	}
	if (m->shadowed[idx]) {
		if (m->sval[idx] != m->val[idx]) {
			m->sval[idx] = m->val[idx];
			r->maps++;
			r->remaps++;
		}
		return;
	}
	if (!m->avail) {
		(*skipped)++;
		return;
	}
	m->avail--;
	m->shadowed[idx] = true;
	m->sval[idx] = m->val[idx];
	r->maps++;
}

/* One pass over pages [first, last], counting loads frame by frame. */
static uint64_t
model_pass(struct model *m, uint64_t first, uint64_t last, struct iommusim_shadow_result *r)
{
	uint64_t skipped = 0, run_pfn = 0, run_n = 0;

	m->nstale = 0;
	for (uint64_t fr = first >> 31; fr <= last >> 31; fr++) {
		r->loads++;
		if (!m->region_pop[fr]) {
			r->region_skips++;
			continue;
		}
		for (uint64_t mib = IMS_MAX(first >> 20, fr << 11);
		     mib <= IMS_MIN(last >> 20, ((fr + 1) << 11) - 1); mib++) {
			int ci = m->seg_of_mib[mib - (PROP_BASE >> 20)];
			uint64_t p0, p1;

			r->loads++;
			if (ci < 0 || !m->seg_pop[ci]) {
				r->segment_skips++;
				continue;
			}
			p0 = IMS_MAX(first, mib << 20);
			p1 = IMS_MIN(last, ((mib + 1) << 20) - PG);
			r->loads += (p1 - p0) / PG + 1;
			r->walked_slots += (p1 - p0) / PG + 1;
			for (uint64_t p = p0; p <= p1; p += PG)
				model_page(m, (unsigned)ci * 256 + (unsigned)((p >> 12) & 255), r,
					   &skipped);
		}
	}
	/* Runs: maximal sequences of consecutive pfns among the dropped pages. */
	for (size_t i = 0; i < m->nstale; i++) {
		if (run_n && m->stale[i] == run_pfn + run_n) {
			run_n++;
			continue;
		}
		r->unmap_runs += model_chunks(run_pfn, run_n);
		run_pfn = m->stale[i];
		run_n = 1;
	}
	r->unmap_runs += model_chunks(run_pfn, run_n);
	return skipped;
}

static struct iommusim_shadow_result
model_refresh(struct model *m, uint64_t pba, uint64_t pal, uint64_t addr, uint64_t range)
{
	struct iommusim_shadow_result r = { 0 };
	uint64_t last = addr + range - 1, first_pg, last_pg;

	if (last < addr || addr < pba || last > pal) {
		r.cc = 1;
		r.status = 8;
		return r;
	}
	first_pg = addr & ~(PG - 1);
	last_pg = last & ~(PG - 1);
	r.skipped = model_pass(m, first_pg, last_pg, &r);
	if (r.skipped && m->avail) {
		r.second_pass = true;
		r.skipped = model_pass(m, first_pg, last_pg, &r);
	}
	if (r.skipped) {
		r.cc = 1;
		r.status = 16;
	}
	return r;
}

static void
model_setup(struct model *m, uint64_t *seed)
{
	memset(m, 0, sizeof(*m));
	for (unsigned i = 0; i < PROP_MIBS; i++)
		m->seg_of_mib[i] = -1;
	/* Two fixed MiBs either side of the 4 GiB (frame 1/2) boundary, the
	 * rest random in [3 GiB, 6 GiB): frame 3 is never populated. */
	m->seg_mib[0] = (4 * GiB >> 20) - 1;
	m->seg_mib[1] = 4 * GiB >> 20;
	for (unsigned i = 0; i < PROP_NSEG; i++) {
		uint64_t mib =
			i < 2 ? m->seg_mib[i] : (PROP_BASE >> 20) + test_xorshift64s(seed) % 3072;

		if (m->seg_of_mib[mib - (PROP_BASE >> 20)] >= 0) {
			i--;
			continue;
		}
		m->seg_mib[i] = mib;
		m->seg_of_mib[mib - (PROP_BASE >> 20)] = (int)i;
	}
	m->avail = PROP_POOL;
	m->stale = calloc(PROP_NPG, sizeof(*m->stale));
	assert_non_null(m->stale);
}

/* Change one candidate page of the guest table and of the model. */
static void
prop_guest_op(struct model *m, struct iommusim_zpci_table *t, uint64_t *seed)
{
	unsigned seg = (unsigned)(test_xorshift64s(seed) % PROP_NSEG),
		 px = (unsigned)(test_xorshift64s(seed) % 48);
	unsigned idx, choice = (unsigned)(test_xorshift64s(seed) % 10);
	uint64_t iova, frame = (test_xorshift64s(seed) % (UINT64_C(1) << 30)) << 12;
	bool ro = test_xorshift64s(seed) & 1;

	if (px >= 24) /* the first and last 24 pages of the MiB */
		px += 208;
	idx = seg * 256 + px;
	iova = model_iova(m, idx);
	if (m->valid[idx]) {
		if (choice < 6) {
			gunmap(t, iova);
			m->valid[idx] = false;
			m->nvalid--;
		} else if (choice < 8) {
			if (choice == 6) { /* protection only */
				frame = m->val[idx] & ~PROT;
				ro = !(m->val[idx] & PROT);
			}
			gmap(t, iova, frame, ro);
			m->val[idx] = frame | (ro ? PROT : 0);
		}
	} else if (m->nvalid < PROP_MAX_VALID && choice < 5) {
		gmap(t, iova, frame, ro);
		m->valid[idx] = true;
		m->val[idx] = frame | (ro ? PROT : 0);
		m->nvalid++;
	} else if (choice == 9) {
		gunmap(t, iova); /* invalid again: the walk still allocates */
	} else {
		return;
	}
	m->seg_pop[seg] = true;
	m->region_pop[m->seg_mib[seg] >> 11] = true;
}

/* Map or unmap a block of up to 16 pages of one MiB: long stale runs. */
static void
prop_guest_block(struct model *m, struct iommusim_zpci_table *t, uint64_t *seed)
{
	unsigned seg = (unsigned)(test_xorshift64s(seed) % PROP_NSEG),
		 px = (unsigned)(test_xorshift64s(seed) % 48);
	unsigned len = 1 + (unsigned)(test_xorshift64s(seed) % 16);
	bool unmap = test_xorshift64s(seed) & 1, touched = false;

	if (px >= 24)
		px += 208;
	for (unsigned i = px; i < IMS_MIN(px + len, 256u); i++) {
		unsigned idx = seg * 256 + i;
		uint64_t frame = (test_xorshift64s(seed) % (UINT64_C(1) << 30)) << 12;

		if (unmap && m->valid[idx]) {
			gunmap(t, model_iova(m, idx));
			m->valid[idx] = false;
			m->nvalid--;
			touched = true;
		} else if (!unmap && !m->valid[idx] && m->nvalid < PROP_MAX_VALID) {
			gmap(t, model_iova(m, idx), frame, false);
			m->valid[idx] = true;
			m->val[idx] = frame;
			m->nvalid++;
			touched = true;
		}
	}
	if (!touched)
		return;
	m->seg_pop[seg] = true;
	m->region_pop[m->seg_mib[seg] >> 11] = true;
}

static void
prop_pick_range(const struct model *m, uint64_t *seed, uint64_t *addr, uint64_t *range)
{
	unsigned kind = (unsigned)(test_xorshift64s(seed) % 100);
	uint64_t a, len;

	if (kind < 30) { /* around a candidate page, unaligned */
		unsigned idx = (unsigned)(test_xorshift64s(seed) % PROP_NPG);

		a = model_iova(m, idx) + test_xorshift64s(seed) % PG;
		len = 1 + test_xorshift64s(seed) % (64 * PG);
	} else if (kind < 55) { /* around a candidate MiB */
		a = (m->seg_mib[test_xorshift64s(seed) % PROP_NSEG] << 20) -
		    (test_xorshift64s(seed) % 4) * PG;
		len = 1 + test_xorshift64s(seed) % (2 * MiB);
	} else if (kind < 75) { /* anywhere, up to 512 MiB */
		a = PROP_BASE + (test_xorshift64s(seed) % PROP_PAGES) * PG +
		    test_xorshift64s(seed) % PG;
		len = 1 + test_xorshift64s(seed) % (512 * MiB);
	} else if (kind < 85) { /* anywhere to the end: crosses frames */
		a = PROP_BASE + (test_xorshift64s(seed) % PROP_PAGES) * PG;
		len = PROP_LAST - a + 1;
	} else if (kind < 95) { /* global */
		a = PROP_BASE;
		len = PROP_PAGES * PG;
	} else { /* outside [pba, pal] on one side or the other */
		if (test_xorshift64s(seed) & 1) {
			a = PROP_BASE - PG * (1 + test_xorshift64s(seed) % 4);
			len = 8 * PG;
		} else {
			a = PROP_LAST - test_xorshift64s(seed) % PG;
			len = PG + 1;
		}
		*addr = a;
		*range = len;
		return;
	}
	if (a < PROP_BASE)
		a = PROP_BASE;
	if (a > PROP_LAST)
		a = PROP_LAST;
	if (len > PROP_LAST - a + 1)
		len = PROP_LAST - a + 1;
	*addr = a;
	*range = len;
}

static void
prop_check(const struct model *m, const struct fx *f, const struct iommusim_shadow_result *got,
	   const struct iommusim_shadow_result *want, uint64_t seed, unsigned step)
{
	uint64_t n = 0;

	if (got->cc != want->cc || got->status != want->status || got->loads != want->loads ||
	    got->walked_slots != want->walked_slots || got->region_skips != want->region_skips ||
	    got->segment_skips != want->segment_skips || got->maps != want->maps ||
	    got->remaps != want->remaps || got->unmaps != want->unmaps ||
	    got->unmap_runs != want->unmap_runs || got->skipped != want->skipped ||
	    got->second_pass != want->second_pass)
		fail_msg("seed %#" PRIx64 " step %u: cc %u/%u st %u/%u loads %" PRIu64 "/%" PRIu64
			 " walked %" PRIu64 "/%" PRIu64 " rs %" PRIu64 "/%" PRIu64 " ss %" PRIu64
			 "/%" PRIu64 " maps %" PRIu64 "/%" PRIu64 " remaps %" PRIu64 "/%" PRIu64
			 " unmaps %" PRIu64 "/%" PRIu64 " runs %" PRIu64 "/%" PRIu64
			 " skipped %" PRIu64 "/%" PRIu64 " 2nd %d/%d",
			 seed, step, got->cc, want->cc, got->status, want->status, got->loads,
			 want->loads, got->walked_slots, want->walked_slots, got->region_skips,
			 want->region_skips, got->segment_skips, want->segment_skips, got->maps,
			 want->maps, got->remaps, want->remaps, got->unmaps, want->unmaps,
			 got->unmap_runs, want->unmap_runs, got->skipped, want->skipped,
			 got->second_pass, want->second_pass);
	assert_int_equal(iommusim_shadow_pool_available(f->pool), m->avail);
	for (unsigned i = 0; i < PROP_NPG; i++) {
		uint64_t frame;
		bool ro;

		if (!m->shadowed[i])
			continue;
		n++;
		assert_int_equal(ims_shadow_lookup_entry(f->s, model_iova(m, i), &frame, &ro), 0);
		assert_int_equal(frame, m->sval[i] & ~PROT);
		assert_int_equal(ro, (m->sval[i] & PROT) != 0);
	}
	/* Same size and the model's entries all present: the same set. */
	assert_int_equal(iommusim_shadow_entries(f->s), n);
	assert_int_equal(n + m->avail, PROP_POOL);
}

static void
prop_run(uint64_t seed, uint64_t stats[6])
{
	uint64_t st = seed | 1;
	struct model *m = calloc(1, sizeof(*m));
	struct fx f;

	assert_non_null(m);
	model_setup(m, &st);
	fx_init(&f, PROP_POOL);
	for (unsigned step = 0; step < PROP_REFRESHES; step++) {
		struct iommusim_shadow_result got, want;
		unsigned nops = 1 + (unsigned)(test_xorshift64s(&st) % 8);
		uint64_t addr, range;

		for (unsigned k = 0; k < nops; k++) {
			if (test_xorshift64s(&st) % 3 == 0)
				prop_guest_block(m, f.t, &st);
			else
				prop_guest_op(m, f.t, &st);
		}
		prop_pick_range(m, &st, &addr, &range);
		want = model_refresh(m, PROP_BASE, PROP_LAST, addr, range);
		got = refresh_b(f.s, f.rto, PROP_BASE, PROP_LAST, addr, range);
		prop_check(m, &f, &got, &want, seed, step);
		stats[0] += got.status == 16;
		stats[1] += got.second_pass;
		stats[2] += got.status == 8;
		stats[3] += got.unmaps;
		stats[4] += got.unmap_runs;
		stats[5] += got.remaps;
	}
	fx_fini(&f);
	free(m->stale);
	free(m);
}

static void
test_shadow_property_random_tables_vs_model(void **state)
{
	uint64_t base = test_seed(DEFAULT_SEED), st[6] = { 0 };

	(void)state;
	print_message("# seed %#" PRIx64 " (IOMMUSIM_TEST_SEED)\n", base);
	for (uint64_t k = 0; k < PROP_SEEDS; k++)
		prop_run(base + k * UINT64_C(0x9e3779b97f4a7c15), st);
	print_message("# %u refreshes: %" PRIu64 " status 16, %" PRIu64 " second passes, %" PRIu64
		      " status 8, %" PRIu64 " unmaps in %" PRIu64 " runs, %" PRIu64 " remaps\n",
		      PROP_SEEDS * PROP_REFRESHES, st[0], st[1], st[2], st[3], st[4], st[5]);
	assert_true(PROP_SEEDS * PROP_REFRESHES >= 5000);
	/* The pool ran dry, second passes happened, bad ranges were answered,
	 * runs coalesced several pages, entries changed in place. */
	assert_true(st[0] > 50);
	assert_true(st[1] > 20);
	assert_true(st[2] > 50);
	assert_true(st[3] > st[4] + 500);
	assert_true(st[5] > 50);
}

/* ------------------------------------------------------------------------ */
/* Two shadows on one pool, refreshed from two threads */

#define CT_POOL 64u
#define CT_ITERS 3000u
#define CT_PAGES 512u /* 2 MiB at CT_BASE */
#define CT_BASE (2 * GiB - MiB)

struct ct_arg {
	struct iommusim_shadow_pool *pool;
	struct iommusim_shadow *s;
	struct iommusim_zpci_table *t;
	uint64_t seed;
	uint64_t net; /* maps - remaps - unmaps over all refreshes */
	unsigned status16, bad;
	atomic_bool *stop;
};

static void *
ct_refresher(void *p)
{
	struct ct_arg *a = p;
	uint64_t st = a->seed | 1, rto = iommusim_zpci_table_origin(a->t);
	bool valid[CT_PAGES] = { false };

	for (unsigned it = 0; it < CT_ITERS; it++) {
		struct iommusim_shadow_result r;
		unsigned pg = (unsigned)(test_xorshift64s(&st) % CT_PAGES),
			 n = 1 + (unsigned)(test_xorshift64s(&st) % 64);
		uint64_t iova = CT_BASE + pg * PG, before = iommusim_shadow_entries(a->s);

		if (valid[pg])
			a->bad |= iommusim_zpci_table_update(a->t, iova, 0, INVALID, NULL) != 0;
		else
			a->bad |= iommusim_zpci_table_update(a->t, iova, frame_of(iova) + it * PG,
							     VALID, NULL) != 0;
		valid[pg] = !valid[pg];
		if (pg + n > CT_PAGES)
			n = CT_PAGES - pg;
		if (iommusim_shadow_refresh(a->s, rto, ALL_PBA, ALL_PAL, iova, n * PG, &r) != 0) {
			a->bad++;
			continue;
		}
		a->bad += r.cc != 0 && (r.cc != 1 || r.status != 16);
		a->status16 += r.cc == 1;
		a->net += r.maps - r.remaps - r.unmaps;
		a->bad += iommusim_shadow_entries(a->s) != before + r.maps - r.remaps - r.unmaps;
		a->bad += iommusim_shadow_pool_available(a->pool) > CT_POOL;
		/* After the refresh every page of the range matches the table,
		 * except valid pages the pool had no room for. */
		for (unsigned k = pg; k < pg + n; k++) {
			uint64_t frame;
			int ret = iommusim_shadow_lookup(a->s, CT_BASE + k * PG, &frame);

			if (!valid[k])
				a->bad += ret != -ENOENT;
			else if (ret == 0)
				a->bad += (frame & 0xfff) != 0;
			else
				a->bad += r.skipped == 0;
		}
	}
	return NULL;
}

static void *
ct_reader(void *p)
{
	struct ct_arg *a = p;
	uint64_t st = a->seed, frame;

	while (!atomic_load(a->stop)) {
		(void)iommusim_shadow_lookup(
			a->s, CT_BASE + (test_xorshift64s(&st) % CT_PAGES) * PG, &frame);
		a->bad += iommusim_shadow_entries(a->s) > CT_POOL;
	}
	return NULL;
}

static void
test_shadow_concurrent_two_shadows_one_pool(void **state)
{
	struct iommusim_shadow_pool *pool;
	struct ct_arg a[2], reader;
	pthread_t th[2], rth;
	atomic_bool stop = false;
	uint64_t seed = test_seed(DEFAULT_SEED);

	(void)state;
	print_message("# seed %#" PRIx64 " (IOMMUSIM_TEST_SEED)\n", seed);
	assert_int_equal(iommusim_shadow_pool_create(CT_POOL, &pool), 0);
	for (unsigned i = 0; i < 2; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].pool = pool;
		a[i].seed = seed + i + 1;
		a[i].stop = &stop;
		assert_int_equal(iommusim_zpci_table_create(&a[i].t), 0);
		assert_int_equal(iommusim_shadow_create(pool, &a[i].s), 0);
	}
	reader = a[0];
	assert_int_equal(pthread_create(&rth, NULL, ct_reader, &reader), 0);
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, ct_refresher, &a[i]), 0);
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	atomic_store(&stop, true);
	assert_int_equal(pthread_join(rth, NULL), 0);

	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(a[i].bad, 0);
		assert_int_equal(iommusim_shadow_entries(a[i].s), a[i].net);
	}
	assert_int_equal(reader.bad, 0);
	assert_true(a[0].status16 + a[1].status16 > 0);
	assert_int_equal(iommusim_shadow_pool_available(pool) + a[0].net + a[1].net, CT_POOL);

	/* Everything invalid, one global refresh each: every entry comes back. */
	for (unsigned i = 0; i < 2; i++) {
		struct iommusim_shadow_result r;

		gunmap_pages(a[i].t, CT_BASE, CT_PAGES);
		r = refresh_b(a[i].s, iommusim_zpci_table_origin(a[i].t), ALL_PBA, ALL_PAL, 0,
			      4 * TiB);
		expect_ok(&r);
		assert_int_equal(r.unmaps, a[i].net);
		assert_int_equal(iommusim_shadow_entries(a[i].s), 0);
		iommusim_shadow_destroy(a[i].s);
		iommusim_zpci_table_destroy(a[i].t);
	}
	assert_int_equal(iommusim_shadow_pool_available(pool), CT_POOL);
	iommusim_shadow_pool_destroy(pool);
}

/* ------------------------------------------------------------------------ */

static int
rcu_register(void **state)
{
	(void)state;
	iommusim_thread_enter();
	return 0;
}

static int
rcu_unregister(void **state)
{
	(void)state;
	iommusim_thread_leave();
	return 0;
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shadow_walk_empty_table_skips_regions),
		cmocka_unit_test(test_shadow_walk_one_page_exact_loads),
		cmocka_unit_test(test_shadow_walk_region_and_segment_boundaries),
		cmocka_unit_test(test_shadow_walk_skipped_frames_keep_their_entries),
		cmocka_unit_test(test_shadow_maps_once_then_nothing),
		cmocka_unit_test(test_shadow_remap_changed_frame_or_protection),
		cmocka_unit_test(test_shadow_remap_succeeds_on_exhausted_pool),
		cmocka_unit_test(test_shadow_invalidate_returns_entries),
		cmocka_unit_test(test_shadow_unmap_chunks_power_of_two_aligned),
		cmocka_unit_test(test_shadow_unmap_runs_0_to_6),
		cmocka_unit_test(test_shadow_unmap_runs_1_to_8),
		cmocka_unit_test(test_shadow_unmap_runs_split_by_valid_page),
		cmocka_unit_test(test_shadow_unmap_runs_split_by_unshadowed_page),
		cmocka_unit_test(test_shadow_unmap_runs_continue_across_segments),
		cmocka_unit_test(test_shadow_unmap_runs_split_by_segment_and_region_skip),
		cmocka_unit_test(test_shadow_limit_17th_page_status16),
		cmocka_unit_test(test_shadow_limit_stale_outside_range_not_reclaimed),
		cmocka_unit_test(test_shadow_limit_second_pass_maps_page_before_stale),
		cmocka_unit_test(test_shadow_limit_second_pass_can_skip_again),
		cmocka_unit_test(test_shadow_limit_no_second_pass_without_room),
		cmocka_unit_test(test_shadow_limit_queue_pattern_repeated_status16),
		cmocka_unit_test(test_shadow_bad_range_or_no_table_status8),
		cmocka_unit_test(test_shadow_null_and_einval),
		cmocka_unit_test(test_shadow_pool_unlimited),
		cmocka_unit_test(test_shadow_pool_shared_by_two_shadows),
		cmocka_unit_test(test_shadow_lookup_rounds_down_and_reports_protection),
		cmocka_unit_test(test_shadow_enomem_keeps_shadow_consistent),
		cmocka_unit_test(test_shadow_property_random_tables_vs_model),
		cmocka_unit_test(test_shadow_concurrent_two_shadows_one_pool),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("shadow", tests, rcu_register, rcu_unregister);
}
