/* SPDX-License-Identifier: MIT */
/*
 * Tests of the s390 translation tables (lib/zpci_table.c) against KERNEL_SPEC.md
 * §3.4, §3.6 and §4: exact constants and encodings, TV-17/TV-18, the allocating
 * walk, a model-based random test and a multi-threaded map/translate test.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
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

#include <iommusim/zpci_table.h>

#include "base/mem_int.h"
#include "base/rcu_int.h"
#include "hw/zpci_table_int.h"
#include "test_common.h"

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define TiB (UINT64_C(1) << 40)
#define PG UINT64_C(4096)
#define VALID IOMMUSIM_ZPCI_PTE_VALID
#define INVALID IOMMUSIM_ZPCI_PTE_INVALID
#define PROT IOMMUSIM_ZPCI_TABLE_PROTECTED
#define DEFAULT_SEED UINT64_C(0x5390)

/* ------------------------------------------------------------------------ */
/* Helpers */

static struct iommusim_zpci_table *
new_table(void)
{
	struct iommusim_zpci_table *t = NULL;

	assert_int_equal(iommusim_zpci_table_create(&t), 0);
	assert_non_null(t);
	return t;
}

static int
setup_table(void **state)
{
	struct iommusim_zpci_table *t = NULL;

	if (iommusim_zpci_table_create(&t))
		return -1;
	*state = t;
	return 0;
}

static int
teardown_table(void **state)
{
	iommusim_zpci_table_destroy(*state);
	return 0;
}

static struct iommusim_zpci_table_stats
get_stats(const struct iommusim_zpci_table *t)
{
	struct iommusim_zpci_table_stats st;

	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(iommusim_zpci_table_stats_get(t, &st), 0);
	return st;
}

static void
expect_stats(const struct iommusim_zpci_table *t, uint64_t segs, uint64_t pts, uint64_t races,
	     uint64_t warn_inv, uint64_t warn_val)
{
	struct iommusim_zpci_table_stats st = get_stats(t);

	assert_int_equal(st.segment_tables, segs);
	assert_int_equal(st.page_tables, pts);
	assert_int_equal(st.install_races, races);
	assert_int_equal(st.warn_invalid_twice, warn_inv);
	assert_int_equal(st.warn_valid_twice, warn_val);
}

static uint64_t
update_ok(struct iommusim_zpci_table *t, uint64_t iova, uint64_t phys, uint64_t flags)
{
	uint64_t old = 0xdeadbeef;

	assert_int_equal(iommusim_zpci_table_update(t, iova, phys, flags, &old), 0);
	assert_int_not_equal(old, 0xdeadbeef);
	return old;
}

static uint64_t
entry_at(const struct iommusim_zpci_table *t, uint64_t iova, unsigned level)
{
	uint64_t e = 0xdeadbeef;

	assert_int_equal(iommusim_zpci_table_entry(t, iova, level, &e), 0);
	return e;
}

static void
expect_no_entry(const struct iommusim_zpci_table *t, uint64_t iova, unsigned level)
{
	uint64_t e = 0xdeadbeef;

	assert_int_equal(iommusim_zpci_table_entry(t, iova, level, &e), -ENOENT);
	assert_int_equal(e, 0xdeadbeef);
}

static struct iommusim_zpci_xlate
xlate(const struct iommusim_zpci_table *t, uint64_t iova)
{
	struct iommusim_zpci_xlate r;

	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(iommusim_zpci_table_translate(t, iova, &r), 0);
	return r;
}

/* Segment table origin from the region entry, checked to be a valid RTX entry. */
static uint64_t
sto_of(const struct iommusim_zpci_table *t, uint64_t iova)
{
	uint64_t rte = entry_at(t, iova, 1);

	assert_int_equal(rte & 0x3fff, 0x7);
	return rte & ~UINT64_C(0x3fff);
}

/* Page table origin from the segment entry, checked to be a valid SX entry. */
static uint64_t
pto_of(const struct iommusim_zpci_table *t, uint64_t iova)
{
	uint64_t ste = entry_at(t, iova, 2);

	assert_int_equal(ste & 0x7ff, 0);
	assert_int_not_equal(ste, 0);
	return ste;
}

/* ------------------------------------------------------------------------ */
/* Constants, indices, encodings */

#define EXPECT_CONST(name, value) assert_int_equal((uint64_t)(name), (uint64_t)(value))

static void
test_zpci_table_constants_exact(void **state)
{
	(void)state;
	/* §4.1, one by one */
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_STO, 0);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_RTTO, 1);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_RSTO, 2);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_RFTO, 3);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_PFAA, 4);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_IOPFAA, 5);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_IOPTO, 7);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_IOT_ENABLED, 0x800);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_DT_ST, 0x0);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_DT_RT, 0x4);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_DT_RS, 0x8);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_DT_RF, 0xc);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_DT_PF, 0x10);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_FS_4K, 0);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_FS_1M, 1);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_FS_2G, 2);
	EXPECT_CONST(IOMMUSIM_ZPCI_KEY, 0);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_SIZE_RT, 0x40000000000);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_SIZE_RT, 4 * TiB);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_STO_FLAG, 0x800);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_RTTO_FLAG, 0x804);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_RSTO_FLAG, 0x808);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_RFTO_FLAG, 0x80c);
	EXPECT_CONST(IOMMUSIM_ZPCI_IOTA_RFAA_FLAG, 0x812);
	EXPECT_CONST(IOMMUSIM_ZPCI_INDEX_MASK, 0x7ff);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_TYPE_MASK, 0xc);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_TYPE_RFX, 0xc);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_TYPE_RSX, 0x8);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_TYPE_RTX, 0x4);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_TYPE_SX, 0x0);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_LEN_RFX, 0x3);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_LEN_RSX, 0x3);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_LEN_RTX, 0x3);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_OFFSET_MASK, 0xc0);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_SIZE, 0x4000);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_ALIGN, 0x4000);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_ENTRY_SIZE, 8);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_ENTRIES, 2048);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_BITS, 11);
	EXPECT_CONST(IOMMUSIM_ZPCI_PT_BITS, 8);
	EXPECT_CONST(IOMMUSIM_ZPCI_ST_SHIFT, 20);
	EXPECT_CONST(IOMMUSIM_ZPCI_RT_SHIFT, 31);
	EXPECT_CONST(IOMMUSIM_ZPCI_RTE_FLAG_MASK, 0x3fff);
	EXPECT_CONST(IOMMUSIM_ZPCI_RTE_ADDR_MASK, 0xffffffffffffc000);
	EXPECT_CONST(IOMMUSIM_ZPCI_STE_FLAG_MASK, 0x7ff);
	EXPECT_CONST(IOMMUSIM_ZPCI_STE_ADDR_MASK, 0xfffffffffffff800);
	EXPECT_CONST(IOMMUSIM_ZPCI_PTE_VALID_MASK, 0x400);
	EXPECT_CONST(IOMMUSIM_ZPCI_PTE_INVALID, 0x400);
	EXPECT_CONST(IOMMUSIM_ZPCI_PTE_VALID, 0x000);
	EXPECT_CONST(IOMMUSIM_ZPCI_PT_SIZE, 0x800);
	EXPECT_CONST(IOMMUSIM_ZPCI_PT_ALIGN, 0x800);
	EXPECT_CONST(IOMMUSIM_ZPCI_PT_ENTRIES, 256);
	EXPECT_CONST(IOMMUSIM_ZPCI_PT_MASK, 255);
	EXPECT_CONST(IOMMUSIM_ZPCI_PTE_FLAG_MASK, 0xfff);
	EXPECT_CONST(IOMMUSIM_ZPCI_PTE_ADDR_MASK, 0xfffffffffffff000);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_VALID, 0x00);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_INVALID, 0x20);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_PROTECTED, 0x200);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_UNPROTECTED, 0x000);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_VALID_MASK, 0x20);
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_PROT_MASK, 0x200);
	/* the geometry they imply */
	EXPECT_CONST(IOMMUSIM_ZPCI_TABLE_ENTRIES * IOMMUSIM_ZPCI_TABLE_ENTRY_SIZE, 0x4000);
	EXPECT_CONST(IOMMUSIM_ZPCI_PT_ENTRIES * IOMMUSIM_ZPCI_TABLE_ENTRY_SIZE, 0x800);
	EXPECT_CONST(UINT64_C(1) << (IOMMUSIM_ZPCI_RT_SHIFT + IOMMUSIM_ZPCI_TABLE_BITS),
		     0x40000000000);
}

struct idx_case {
	uint64_t iova;
	unsigned rtx, sx, px;
};

static void
expect_indices(const struct idx_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (iommusim_zpci_rtx(c[i].iova) != c[i].rtx ||
		    iommusim_zpci_sx(c[i].iova) != c[i].sx ||
		    iommusim_zpci_px(c[i].iova) != c[i].px)
			fail_msg("iova 0x%" PRIx64 ": rtx/sx/px 0x%x/0x%x/0x%x, expected "
				 "0x%x/0x%x/0x%x",
				 c[i].iova, iommusim_zpci_rtx(c[i].iova),
				 iommusim_zpci_sx(c[i].iova), iommusim_zpci_px(c[i].iova), c[i].rtx,
				 c[i].sx, c[i].px);
	}
}

static void
test_zpci_table_tv17_indices(void **state)
{
	static const struct idx_case tv17[] = {
		{ UINT64_C(0x123456000), 0x2, 0x234, 0x56 },
		{ UINT64_C(0x3FFFFFFF000), 0x7ff, 0x7ff, 0xff },
		{ UINT64_C(0x100000000), 0x2, 0, 0 },
		{ UINT64_C(0x4FFFFF000), 0x9, 0x7ff, 0xff },
		{ UINT64_C(0x80000000), 0x1, 0, 0 },
		{ UINT64_C(0x7FFFFFFF), 0, 0x7ff, 0xff },
	};

	(void)state;
	expect_indices(tv17, sizeof(tv17) / sizeof(tv17[0]));
}

static void
test_zpci_table_index_boundaries(void **state)
{
	static const struct idx_case c[] = {
		{ 0, 0, 0, 0 },
		{ 0xfff, 0, 0, 0 },
		{ PG, 0, 0, 1 }, /* next page */
		{ MiB - 1, 0, 0, 0xff }, /* 2^20 - 1 */
		{ MiB, 0, 1, 0 }, /* 2^20: next page table */
		{ MiB + PG, 0, 1, 1 }, /* the page after it */
		{ 2 * GiB - 1, 0, 0x7ff, 0xff }, /* 2^31 - 1 */
		{ 2 * GiB, 1, 0, 0 }, /* 2^31: next segment table */
		{ 2 * GiB + PG, 1, 0, 1 }, /* the page after it */
		{ 2 * GiB + MiB, 1, 1, 0 }, /* next MiB after it */
		{ 4 * TiB - PG, 0x7ff, 0x7ff, 0xff }, /* last page of the aperture */
		{ 4 * TiB - 2 * GiB, 0x7ff, 0, 0 }, /* last region entry */
		{ 4 * TiB - 2 * GiB - PG, 0x7fe, 0x7ff, 0xff },
		{ 4 * TiB, 0, 0, 0 }, /* the index masks wrap above 42 bits */
		{ UINT64_C(0xFFFFFFFFFFFFFFFF), 0x7ff, 0x7ff, 0xff },
	};

	(void)state;
	expect_indices(c, sizeof(c) / sizeof(c[0]));
}

static void
test_zpci_table_tv18_pte_update(void **state)
{
	uint64_t pte = IOMMUSIM_ZPCI_PTE_INVALID;

	(void)state;
	/* TV-18, through the inline dma_update_cpu_trans() */
	assert_int_equal(pte, 0x400);
	assert_int_equal(iommusim_zpci_pte_update(pte, 0x12345000, VALID), 0x12345000);
	pte = iommusim_zpci_pte_update(pte, 0x12345000, VALID | PROT);
	assert_int_equal(pte, 0x12345200);
	pte = iommusim_zpci_pte_update(pte, 0, INVALID);
	assert_int_equal(pte, 0x12345400);
	pte = iommusim_zpci_pte_update(pte, 0xABCDE000, VALID);
	assert_int_equal(pte, 0xABCDE000);
	/* the in-page bits of phys never reach the PTE; other low flag bits are kept */
	assert_int_equal(iommusim_zpci_pte_update(0x400, 0x12345fff, VALID), 0x12345000);
	assert_int_equal(iommusim_zpci_pte_update(0x0c5, 0x12345000, VALID), 0x123450c5);
	/* invalidation keeps the address and sets protection only when asked */
	assert_int_equal(iommusim_zpci_pte_update(0xABCDE200, 0x999000, INVALID), 0xABCDE400);
	assert_int_equal(iommusim_zpci_pte_update(0xABCDE000, 0, INVALID | PROT), 0xABCDE600);
}

static void
test_zpci_table_tv18_through_table(void **state)
{
	struct iommusim_zpci_table *t = *state;
	const uint64_t iova = UINT64_C(0x123456000);

	assert_int_equal(update_ok(t, iova, 0x12345000, VALID), 0x400);
	assert_int_equal(entry_at(t, iova, 3), 0x12345000);
	/* read-only (DMA_TO_DEVICE) on a fresh page of the same table */
	assert_int_equal(update_ok(t, iova + PG, 0x12345000, VALID | PROT), 0x400);
	assert_int_equal(entry_at(t, iova + PG, 3), 0x12345200);
	assert_int_equal(update_ok(t, iova + PG, 0, INVALID), 0x12345200);
	assert_int_equal(entry_at(t, iova + PG, 3), 0x12345400);
	assert_int_equal(update_ok(t, iova + PG, 0xABCDE000, VALID), 0x12345400);
	assert_int_equal(entry_at(t, iova + PG, 3), 0xABCDE000);
	expect_stats(t, 1, 1, 0, 0, 0);
}

static void
test_zpci_table_entry_encodings(void **state)
{
	const uint64_t sto = UINT64_C(0x00007f1234564000), pto = UINT64_C(0x00007f1234567800);

	(void)state;
	/* §4.3: RTE = sto | 7, STE = pto */
	assert_int_equal(iommusim_zpci_rte_make(sto), sto | 7);
	assert_int_equal(iommusim_zpci_rte_make(sto | 0x3fff), sto | 7);
	assert_int_equal(iommusim_zpci_ste_make(pto), pto);
	assert_int_equal(iommusim_zpci_ste_make(pto | 0x7ff), pto);
	/* validity: invalid bit 0x20 only */
	assert_true(iommusim_zpci_entry_is_valid(sto | 7));
	assert_true(iommusim_zpci_entry_is_valid(0));
	assert_false(iommusim_zpci_entry_is_valid(0x20));
	assert_false(iommusim_zpci_entry_is_valid(sto | 0x27));
	assert_true(iommusim_zpci_entry_is_valid(~UINT64_C(0x20)));
	/* getters */
	assert_int_equal(iommusim_zpci_rte_sto(sto | 7), sto);
	assert_int_equal(iommusim_zpci_rte_sto(sto | 0x4), sto);
	assert_int_equal(iommusim_zpci_ste_pto(pto), pto);
	assert_int_equal(iommusim_zpci_ste_pto(pto | 0x200), pto);
	/* invalid -> 0 */
	assert_int_equal(iommusim_zpci_rte_sto(sto | 0x27), 0);
	assert_int_equal(iommusim_zpci_rte_sto(IOMMUSIM_ZPCI_TABLE_INVALID), 0);
	assert_int_equal(iommusim_zpci_ste_pto(pto | 0x20), 0);
	/* type mismatch -> 0: an SX entry read as RTE, an RTX entry read as STE, RSX/RFX */
	assert_int_equal(iommusim_zpci_rte_sto(pto), 0);
	assert_int_equal(iommusim_zpci_rte_sto(sto | 0x8 | 3), 0);
	assert_int_equal(iommusim_zpci_rte_sto(sto | 0xc | 3), 0);
	assert_int_equal(iommusim_zpci_ste_pto(sto | 7), 0);
	assert_int_equal(iommusim_zpci_ste_pto(pto | 0x8), 0);
	/* PTE bits */
	assert_true(iommusim_zpci_pte_is_valid(0x12345000));
	assert_true(iommusim_zpci_pte_is_valid(0x12345200));
	assert_false(iommusim_zpci_pte_is_valid(0x400));
	assert_false(iommusim_zpci_pte_is_valid(0x12345400));
	assert_true(iommusim_zpci_pte_is_protected(0x12345200));
	assert_true(iommusim_zpci_pte_is_protected(0x600));
	assert_false(iommusim_zpci_pte_is_protected(0x12345000));
	assert_false(iommusim_zpci_pte_is_protected(0x12345dff));
}

static void
test_zpci_table_entry_load_reads_memory(void **state)
{
	uint64_t tab[4] = { 1, UINT64_C(0xfedcba9876543210), 0x20, 0x400 };
	uint64_t origin = (uint64_t)(uintptr_t)tab;

	(void)state;
	assert_int_equal(iommusim_zpci_entry_load(origin, 0), 1);
	assert_int_equal(iommusim_zpci_entry_load(origin, 1), UINT64_C(0xfedcba9876543210));
	assert_int_equal(iommusim_zpci_entry_load(origin, 2), 0x20);
	assert_int_equal(iommusim_zpci_entry_load(origin + 8, 2), 0x400);
}

/* ------------------------------------------------------------------------ */
/* Create / destroy */

static void
test_zpci_table_create_root_all_invalid(void **state)
{
	struct iommusim_zpci_table *t = *state;
	uint64_t origin = iommusim_zpci_table_origin(t);

	assert_int_not_equal(origin, 0);
	/* §3.4: 16 KiB aligned, so origin | RTTO_FLAG is a valid IOTA (§4.4) */
	assert_int_equal(origin & 0x3fff, 0);
	assert_int_equal((origin | IOMMUSIM_ZPCI_IOTA_RTTO_FLAG) & 0x3fff, 0x804);
	for (unsigned i = 0; i < 2048; i++)
		if (iommusim_zpci_entry_load(origin, i) != 0x20)
			fail_msg("root entry %u = 0x%" PRIx64, i,
				 iommusim_zpci_entry_load(origin, i));
	expect_stats(t, 0, 0, 0, 0, 0);
	assert_int_equal(iommusim_zpci_table_origin(NULL), 0);
}

static void
test_zpci_table_create_rejects_and_enomem(void **state)
{
	struct iommusim_zpci_table *const sentinel =
		(struct iommusim_zpci_table *)(uintptr_t)0x1230;
	struct iommusim_zpci_table *t = sentinel;

	(void)state;
	assert_int_equal(iommusim_zpci_table_create(NULL), -EINVAL);
	/* the structure, then the root table */
	for (uint64_t nth = 1; nth <= 2; nth++) {
		ims_mem_fault_inject(nth, 1);
		assert_int_equal(iommusim_zpci_table_create(&t), -ENOMEM);
		ims_mem_fault_inject(0, 0);
		assert_ptr_equal(t, sentinel);
	}
	ims_mem_fault_inject(3, 1);
	assert_int_equal(iommusim_zpci_table_create(&t), 0);
	assert_int_equal(ims_mem_attempts(), 2);
	ims_mem_fault_inject(0, 0);
	iommusim_zpci_table_destroy(t);
	iommusim_zpci_table_destroy(NULL);
}

static void
test_zpci_table_null_args(void **state)
{
	struct iommusim_zpci_table *t = *state;
	struct iommusim_zpci_table_stats st;
	struct iommusim_zpci_xlate r;
	uint64_t e;

	assert_int_equal(iommusim_zpci_table_update(NULL, 0, 0, VALID, NULL), -EINVAL);
	assert_int_equal(iommusim_zpci_table_entry(NULL, 0, 1, &e), -EINVAL);
	assert_int_equal(iommusim_zpci_table_entry(t, 0, 1, NULL), -EINVAL);
	assert_int_equal(iommusim_zpci_table_translate(NULL, 0, &r), -EINVAL);
	assert_int_equal(iommusim_zpci_table_translate(t, 0, NULL), -EINVAL);
	assert_int_equal(iommusim_zpci_table_stats_get(NULL, &st), -EINVAL);
	assert_int_equal(iommusim_zpci_table_stats_get(t, NULL), -EINVAL);
	assert_int_equal(iommusim_zpci_table_dump(NULL, stderr, 0, PG), -EINVAL);
	assert_int_equal(iommusim_zpci_table_dump(t, NULL, 0, PG), -EINVAL);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(NULL, 0), 0);
	/* nothing was allocated on the way */
	expect_stats(t, 0, 0, 0, 0, 0);
}

/* ------------------------------------------------------------------------ */
/* The allocating walk (§3.4) */

static void
test_zpci_table_update_allocates_per_level(void **state)
{
	struct iommusim_zpci_table *t = *state;
	const uint64_t base = 6 * GiB; /* rtx 3 */
	uint64_t sto, pto, pto2, sto2;

	/* first map: one segment table and one page table */
	update_ok(t, base, 0x1000, VALID);
	expect_stats(t, 1, 1, 0, 0, 0);
	sto = sto_of(t, base);
	pto = pto_of(t, base);
	/* §3.4: 16 KiB and 2 KiB aligned, fresh entries 0x20 and 0x400 */
	assert_int_equal(sto & 0x3fff, 0);
	assert_int_equal(pto & 0x7ff, 0);
	assert_int_equal(iommusim_zpci_entry_load(iommusim_zpci_table_origin(t), 3), sto | 7);
	assert_int_equal(iommusim_zpci_entry_load(sto, 0), pto);
	for (unsigned i = 1; i < 2048; i++)
		if (iommusim_zpci_entry_load(sto, i) != 0x20)
			fail_msg("segment entry %u = 0x%" PRIx64, i,
				 iommusim_zpci_entry_load(sto, i));
	assert_int_equal(iommusim_zpci_entry_load(pto, 0), 0x1000);
	for (unsigned i = 1; i < 256; i++)
		if (iommusim_zpci_entry_load(pto, i) != 0x400)
			fail_msg("PTE %u = 0x%" PRIx64, i, iommusim_zpci_entry_load(pto, i));
	for (unsigned i = 0; i < 2048; i++)
		if (i != 3 && iommusim_zpci_entry_load(iommusim_zpci_table_origin(t), i) != 0x20)
			fail_msg("root entry %u changed", i);

	/* the rest of the same MiB: nothing new */
	update_ok(t, base + PG, 0x2000, VALID);
	update_ok(t, base + MiB - PG, 0x3000, VALID);
	expect_stats(t, 1, 1, 0, 0, 0);
	assert_int_equal(iommusim_zpci_entry_load(pto, 1), 0x2000);
	assert_int_equal(iommusim_zpci_entry_load(pto, 255), 0x3000);

	/* next MiB: one more page table, same segment table */
	update_ok(t, base + MiB, 0x4000, VALID);
	expect_stats(t, 1, 2, 0, 0, 0);
	assert_int_equal(sto_of(t, base + MiB), sto);
	pto2 = pto_of(t, base + MiB);
	assert_int_not_equal(pto2, pto);
	assert_int_equal(iommusim_zpci_entry_load(sto, 1), pto2);
	assert_int_equal(iommusim_zpci_entry_load(pto2, 0), 0x4000);

	/* the last MiB of the 2 GiB region */
	update_ok(t, base + 2 * GiB - PG, 0x5000, VALID);
	expect_stats(t, 1, 3, 0, 0, 0);

	/* next 2 GiB: a new segment table and page table */
	update_ok(t, base + 2 * GiB, 0x6000, VALID);
	expect_stats(t, 2, 4, 0, 0, 0);
	sto2 = sto_of(t, base + 2 * GiB);
	assert_int_not_equal(sto2, sto);
	assert_int_equal(iommusim_zpci_entry_load(iommusim_zpci_table_origin(t), 4), sto2 | 7);

	/* both ends of the aperture */
	update_ok(t, 0, 0x7000, VALID);
	update_ok(t, 4 * TiB - PG, 0x8000, VALID);
	expect_stats(t, 4, 6, 0, 0, 0);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, 0), 0x7000);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, 4 * TiB - PG), 0x8000);
	assert_int_equal(iommusim_zpci_entry_load(sto_of(t, 4 * TiB - PG), 0x7ff),
			 pto_of(t, 4 * TiB - PG));
}

static void
test_zpci_table_update_pte_values(void **state)
{
	struct iommusim_zpci_table *t = *state;
	const uint64_t iova = UINT64_C(0x4FFFFF000);

	/* writable */
	assert_int_equal(update_ok(t, iova, UINT64_C(0x7654321000), VALID), 0x400);
	assert_int_equal(entry_at(t, iova, 3), UINT64_C(0x7654321000));
	/* unmap: address kept, invalid bit set */
	assert_int_equal(update_ok(t, iova, 0, INVALID), UINT64_C(0x7654321000));
	assert_int_equal(entry_at(t, iova, 3), UINT64_C(0x7654321400));
	/* read-only: protection bit */
	assert_int_equal(update_ok(t, iova, UINT64_C(0x1111000), VALID | PROT),
			 UINT64_C(0x7654321400));
	assert_int_equal(entry_at(t, iova, 3), UINT64_C(0x1111200));
	/* unmap clears protection */
	update_ok(t, iova, 0, INVALID);
	assert_int_equal(entry_at(t, iova, 3), UINT64_C(0x1111400));
	/* remap writable elsewhere: the old address is replaced */
	update_ok(t, iova, UINT64_C(0xfffffffffffff000), VALID);
	assert_int_equal(entry_at(t, iova, 3), UINT64_C(0xfffffffffffff000));
	/* a NULL old_pte is fine */
	assert_int_equal(iommusim_zpci_table_update(t, iova, 0, INVALID, NULL), 0);
	assert_int_equal(entry_at(t, iova, 3), UINT64_C(0xfffffffffffff400));
	expect_stats(t, 1, 1, 0, 0, 0);
}

static void
test_zpci_table_update_warn_counters(void **state)
{
	struct iommusim_zpci_table *t = *state;
	const uint64_t iova = 0x10000;

	/* invalidating a never-mapped page: the walk allocates, the kernel warns */
	assert_int_equal(update_ok(t, iova, 0, INVALID), 0x400);
	expect_stats(t, 1, 1, 0, 1, 0);
	assert_int_equal(entry_at(t, iova, 3), 0x400);
	update_ok(t, iova, 0x5000, VALID);
	expect_stats(t, 1, 1, 0, 1, 0);
	/* validating a valid PTE: warns and still overwrites */
	assert_int_equal(update_ok(t, iova, 0x6000, VALID | PROT), 0x5000);
	expect_stats(t, 1, 1, 0, 1, 1);
	assert_int_equal(entry_at(t, iova, 3), 0x6200);
	update_ok(t, iova, 0, INVALID);
	expect_stats(t, 1, 1, 0, 1, 1);
	/* double invalidate: counted every time */
	update_ok(t, iova, 0, INVALID);
	update_ok(t, iova, 0, INVALID);
	expect_stats(t, 1, 1, 0, 3, 1);
	assert_int_equal(entry_at(t, iova, 3), 0x6400);
}

static void
test_zpci_table_update_rejects_beyond_4tib(void **state)
{
	struct iommusim_zpci_table *t = *state;
	uint64_t old = 0xdeadbeef;

	assert_int_equal(iommusim_zpci_table_update(t, 4 * TiB, 0x1000, VALID, &old), -EINVAL);
	assert_int_equal(iommusim_zpci_table_update(t, 4 * TiB + PG, 0x1000, VALID, &old), -EINVAL);
	assert_int_equal(iommusim_zpci_table_update(t, UINT64_MAX, 0, INVALID, &old), -EINVAL);
	assert_int_equal(old, 0xdeadbeef);
	expect_stats(t, 0, 0, 0, 0, 0);
	/* the last byte of the aperture still works */
	assert_int_equal(iommusim_zpci_table_update(t, 4 * TiB - 1, 0x1000, VALID, &old), 0);
	assert_int_equal(old, 0x400);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, 4 * TiB - PG), 0x1000);
	expect_stats(t, 1, 1, 0, 0, 0);
}

static void
test_zpci_table_enomem_segment_level(void **state)
{
	struct iommusim_zpci_table *t = *state;
	uint64_t old = 0xdeadbeef;

	/* the segment table allocation fails: nothing is installed */
	ims_mem_fault_inject(1, 1);
	assert_int_equal(iommusim_zpci_table_update(t, 2 * GiB, 0x1000, VALID, &old), -ENOMEM);
	assert_int_equal(ims_mem_attempts(), 1);
	ims_mem_fault_inject(0, 0);
	assert_int_equal(old, 0xdeadbeef);
	assert_int_equal(entry_at(t, 2 * GiB, 1), 0x20);
	expect_no_entry(t, 2 * GiB, 2);
	expect_stats(t, 0, 0, 0, 0, 0);
	/* the unmap path allocates too, and fails the same way */
	ims_mem_fault_inject(1, 1);
	assert_int_equal(iommusim_zpci_table_update(t, 2 * GiB, 0, INVALID, NULL), -ENOMEM);
	ims_mem_fault_inject(0, 0);
	expect_stats(t, 0, 0, 0, 0, 0);
	/* tables already present: a failing allocator does not matter */
	update_ok(t, 0, 0x1000, VALID);
	ims_mem_fault_inject(1, 100);
	assert_int_equal(iommusim_zpci_table_update(t, PG, 0x2000, VALID, NULL), 0);
	assert_int_equal(ims_mem_attempts(), 0);
	ims_mem_fault_inject(0, 0);
	expect_stats(t, 1, 1, 0, 0, 0);
}

static void
test_zpci_table_enomem_page_level(void **state)
{
	struct iommusim_zpci_table *t = *state;
	const uint64_t iova = UINT64_C(0x123456000);
	uint64_t sto;

	/* the segment table is allocated and installed, the page table fails */
	ims_mem_fault_inject(2, 1);
	assert_int_equal(iommusim_zpci_table_update(t, iova, 0x1000, VALID, NULL), -ENOMEM);
	assert_int_equal(ims_mem_attempts(), 2);
	ims_mem_fault_inject(0, 0);
	expect_stats(t, 1, 0, 0, 0, 0);
	sto = sto_of(t, iova);
	assert_int_equal(entry_at(t, iova, 2), 0x20);
	expect_no_entry(t, iova, 3);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, iova), 0);
	/* a page table failing in a region whose segment table exists */
	ims_mem_fault_inject(1, 1);
	assert_int_equal(iommusim_zpci_table_update(t, iova, 0x1000, VALID, NULL), -ENOMEM);
	ims_mem_fault_inject(0, 0);
	expect_stats(t, 1, 0, 0, 0, 0);
	/* the retry reuses the kept segment table */
	update_ok(t, iova, 0x1000, VALID);
	expect_stats(t, 1, 1, 0, 0, 0);
	assert_int_equal(sto_of(t, iova), sto);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, iova), 0x1000);
}

/* ------------------------------------------------------------------------ */
/* Install races, forced from the test hook */

struct race_ctx {
	unsigned calls;
	unsigned levels_seen[3];
	unsigned race_level; /* the level at which the nested update runs */
};

static struct race_ctx race;

static void
race_hook(struct iommusim_zpci_table *t, uint64_t iova, unsigned level)
{
	race.calls++;
	if (level < 3)
		race.levels_seen[level]++;
	if (level != race.race_level)
		return;
	/* one nested update from "another CPU", without recursing further */
	race.race_level = 0;
	if (iommusim_zpci_table_update(t, iova + PG, 0x9000, VALID, NULL))
		race.calls += 1000;
}

static void
test_zpci_table_install_race_loser_uses_winner(void **state)
{
	struct iommusim_zpci_table *t = *state;
	const uint64_t iova = UINT64_C(0x123456000);
	uint64_t sto, pto;

	/* lose the segment table race: the nested update installs both tables first */
	memset(&race, 0, sizeof(race));
	race.race_level = 1;
	ims_zpci_table_set_install_hook(race_hook);
	update_ok(t, iova, 0x1000, VALID);
	ims_zpci_table_set_install_hook(NULL);
	/* outer seg alloc (hook: nested seg + page installs), then outer walk follows the winner */
	assert_int_equal(race.calls, 3);
	assert_int_equal(race.levels_seen[1], 2);
	assert_int_equal(race.levels_seen[2], 1);
	expect_stats(t, 1, 1, 1, 0, 0);
	sto = sto_of(t, iova);
	pto = pto_of(t, iova);
	assert_int_equal(iommusim_zpci_entry_load(pto, 0x56), 0x1000);
	assert_int_equal(iommusim_zpci_entry_load(pto, 0x57), 0x9000);

	/* lose the page table race in the next MiB */
	memset(&race, 0, sizeof(race));
	race.race_level = 2;
	ims_zpci_table_set_install_hook(race_hook);
	update_ok(t, iova + MiB, 0x2000, VALID | PROT);
	ims_zpci_table_set_install_hook(NULL);
	assert_int_equal(race.calls, 2);
	assert_int_equal(race.levels_seen[2], 2);
	expect_stats(t, 1, 2, 2, 0, 0);
	assert_int_equal(sto_of(t, iova + MiB), sto);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, iova + MiB), 0x2000);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, iova + MiB + PG), 0x9000);
	assert_int_equal(entry_at(t, iova + MiB, 3), 0x2200);
	/* the lost tables were freed (ASan's leak check), the winners stay linked */
	assert_int_equal(iommusim_zpci_entry_load(sto, 0x235), pto_of(t, iova + MiB));
}

/* ------------------------------------------------------------------------ */
/* Lookups */

static void
test_zpci_table_iova_to_phys_and_translate(void **state)
{
	struct iommusim_zpci_table *t = *state;
	const uint64_t iova = UINT64_C(0x123456000);
	struct iommusim_zpci_xlate r;

	update_ok(t, iova, UINT64_C(0xABCDE000), VALID);
	update_ok(t, iova + PG, UINT64_C(0x12345000), VALID | PROT);
	/* §3.6: the frame without the in-page offset */
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, iova), 0xABCDE000);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, iova + 0x123), 0xABCDE000);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, iova + 0xfff), 0xABCDE000);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, iova + PG + 8), 0x12345000);
	/* the device sees the offset */
	r = xlate(t, iova + 0x123);
	assert_true(r.valid);
	assert_false(r.protected_);
	assert_int_equal(r.level, 3);
	assert_int_equal(r.pte, 0xABCDE000);
	assert_int_equal(r.phys, 0xABCDE123);
	r = xlate(t, iova + PG + 0xfff);
	assert_true(r.valid);
	assert_true(r.protected_);
	assert_int_equal(r.level, 3);
	assert_int_equal(r.pte, 0x12345200);
	assert_int_equal(r.phys, 0x12345fff);
	/* after unmap: level 3, invalid, nothing translated */
	update_ok(t, iova, 0, INVALID);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, iova), 0);
	r = xlate(t, iova + 0x10);
	assert_false(r.valid);
	assert_false(r.protected_);
	assert_int_equal(r.level, 3);
	assert_int_equal(r.pte, 0xABCDE400);
	assert_int_equal(r.phys, 0);
	/* flag bits another agent left in the low 12 bits never leak into the address */
	__atomic_store_n((uint64_t *)(uintptr_t)pto_of(t, iova) + 0x58, UINT64_C(0x12345980),
			 __ATOMIC_RELAXED);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, iova + 2 * PG), 0x12345000);
	r = xlate(t, iova + 2 * PG + 0x42);
	assert_true(r.valid);
	assert_false(r.protected_);
	assert_int_equal(r.pte, 0x12345980);
	assert_int_equal(r.phys, 0x12345042);
	/* out of range */
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, 4 * TiB), 0);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, 4 * TiB + iova), 0);
	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(iommusim_zpci_table_translate(t, 4 * TiB, &r), -EINVAL);
	assert_int_equal(r.level, 0xa5a5a5a5);
	/* lookups never allocate */
	expect_stats(t, 1, 1, 0, 0, 0);
}

static void
test_zpci_table_translate_levels(void **state)
{
	struct iommusim_zpci_table *t = *state;
	struct iommusim_zpci_xlate r;

	update_ok(t, 2 * GiB + 5 * MiB, 0x1000, VALID);
	/* invalid region entry */
	r = xlate(t, 0);
	assert_false(r.valid);
	assert_false(r.protected_);
	assert_int_equal(r.level, 1);
	assert_int_equal(r.pte, 0);
	assert_int_equal(r.phys, 0);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, 0), 0);
	/* valid region, invalid segment entry */
	r = xlate(t, 2 * GiB + 4 * MiB);
	assert_false(r.valid);
	assert_int_equal(r.level, 2);
	assert_int_equal(r.pte, 0);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, 2 * GiB + 4 * MiB), 0);
	/* valid page table, never-mapped PTE */
	r = xlate(t, 2 * GiB + 5 * MiB + PG);
	assert_false(r.valid);
	assert_int_equal(r.level, 3);
	assert_int_equal(r.pte, 0x400);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, 2 * GiB + 5 * MiB + PG), 0);
	/* the mapped one */
	r = xlate(t, 2 * GiB + 5 * MiB + 0x800);
	assert_true(r.valid);
	assert_int_equal(r.level, 3);
	assert_int_equal(r.phys, 0x1800);
	expect_stats(t, 1, 1, 0, 0, 0);
}

static void
test_zpci_table_entry_levels(void **state)
{
	struct iommusim_zpci_table *t = *state;
	const uint64_t iova = UINT64_C(0x3FFFFFFF000);
	uint64_t e = 0xdeadbeef;

	/* fresh: the root entry exists, nothing below it */
	assert_int_equal(entry_at(t, iova, 1), 0x20);
	expect_no_entry(t, iova, 2);
	expect_no_entry(t, iova, 3);
	update_ok(t, iova, 0x77000, VALID | PROT);
	assert_int_equal(entry_at(t, iova, 1) & 0x3fff, 7);
	assert_int_equal(entry_at(t, iova, 1),
			 iommusim_zpci_entry_load(iommusim_zpci_table_origin(t), 0x7ff));
	assert_int_equal(entry_at(t, iova, 2), iommusim_zpci_entry_load(sto_of(t, iova), 0x7ff));
	assert_int_equal(entry_at(t, iova, 3), 0x77200);
	/* the same region, another segment: -ENOENT at level 3 only */
	assert_int_equal(entry_at(t, iova - MiB, 2), 0x20);
	expect_no_entry(t, iova - MiB, 3);
	/* the same page table, another PTE */
	assert_int_equal(entry_at(t, iova - PG, 3), 0x400);
	/* bad arguments */
	assert_int_equal(iommusim_zpci_table_entry(t, iova, 0, &e), -EINVAL);
	assert_int_equal(iommusim_zpci_table_entry(t, iova, 4, &e), -EINVAL);
	assert_int_equal(iommusim_zpci_table_entry(t, 4 * TiB, 1, &e), -EINVAL);
	assert_int_equal(e, 0xdeadbeef);
	expect_stats(t, 1, 1, 0, 0, 0);
}

/* Run dump() into a string (caller frees). */
static char *
dump_str(const struct iommusim_zpci_table *t, uint64_t iova, uint64_t len)
{
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);

	assert_non_null(f);
	assert_int_equal(iommusim_zpci_table_dump(t, f, iova, len), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

static void
test_zpci_table_dump_lines(void **state)
{
	struct iommusim_zpci_table *t = *state;
	const uint64_t iova = UINT64_C(0x123456000);
	char expect[2048], *out;
	uint64_t sto, pto, sto_hi, pto_hi;

	out = dump_str(t, 0, 4 * TiB);
	assert_string_equal(out, "");
	free(out);

	update_ok(t, iova, 0x12345000, VALID | PROT);
	update_ok(t, iova + PG, UINT64_C(0xABCDE000), VALID);
	update_ok(t, iova + 2 * PG, 0x5000, VALID);
	update_ok(t, iova + 2 * PG, 0, INVALID); /* invalid PTEs are not printed */
	update_ok(t, 4 * TiB - PG, UINT64_C(0x7f0000000000), VALID);
	sto = sto_of(t, iova);
	pto = pto_of(t, iova);
	sto_hi = sto_of(t, 4 * TiB - PG);
	pto_hi = pto_of(t, 4 * TiB - PG);

	snprintf(expect, sizeof(expect),
		 "rte[0x002] = 0x%016" PRIx64 " -> segment table 0x%" PRIx64
		 " (iova 0x100000000..0x17fffffff)\n"
		 "  ste[0x234] = 0x%016" PRIx64 " -> page table 0x%" PRIx64
		 " (iova 0x123400000..0x1234fffff)\n"
		 "    pte[0x56] = 0x0000000012345200 -> frame 0x12345000 ro (iova 0x123456000)\n"
		 "    pte[0x57] = 0x00000000abcde000 -> frame 0xabcde000 rw (iova 0x123457000)\n"
		 "rte[0x7ff] = 0x%016" PRIx64 " -> segment table 0x%" PRIx64
		 " (iova 0x3ff80000000..0x3ffffffffff)\n"
		 "  ste[0x7ff] = 0x%016" PRIx64 " -> page table 0x%" PRIx64
		 " (iova 0x3fffff00000..0x3ffffffffff)\n"
		 "    pte[0xff] = 0x00007f0000000000 -> frame 0x7f0000000000 rw (iova "
		 "0x3fffffff000)\n",
		 sto | 7, sto, pto, pto, sto_hi | 7, sto_hi, pto_hi, pto_hi);
	out = dump_str(t, 0, 4 * TiB);
	assert_string_equal(out, expect);
	free(out);

	/* a sub-range: only the entries translating it */
	snprintf(expect, sizeof(expect),
		 "rte[0x002] = 0x%016" PRIx64 " -> segment table 0x%" PRIx64
		 " (iova 0x100000000..0x17fffffff)\n"
		 "  ste[0x234] = 0x%016" PRIx64 " -> page table 0x%" PRIx64
		 " (iova 0x123400000..0x1234fffff)\n"
		 "    pte[0x57] = 0x00000000abcde000 -> frame 0xabcde000 rw (iova 0x123457000)\n",
		 sto | 7, sto, pto, pto);
	out = dump_str(t, iova + PG, PG);
	assert_string_equal(out, expect);
	free(out);
	/* one byte, partial pages */
	out = dump_str(t, iova + 0xfff, 2);
	assert_non_null(strstr(out, "pte[0x56]"));
	assert_non_null(strstr(out, "pte[0x57]"));
	free(out);
	/* a range with tables but no valid PTE prints the tables only */
	out = dump_str(t, iova + 2 * PG, PG);
	assert_null(strstr(out, "pte["));
	assert_non_null(strstr(out, "ste[0x234]"));
	free(out);
	/* empty and out-of-range */
	out = dump_str(t, iova, 0);
	assert_string_equal(out, "");
	free(out);
	out = dump_str(t, 4 * TiB, 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(iommusim_zpci_table_dump(t, stderr, 4 * TiB - PG, 2 * PG), -EINVAL);
	assert_int_equal(iommusim_zpci_table_dump(t, stderr, 4 * TiB + PG, PG), -EINVAL);
	assert_int_equal(iommusim_zpci_table_dump(t, stderr, PG, UINT64_MAX), -EINVAL);
}

static void
test_zpci_table_thread_enter_nests(void **state)
{
	(void)state;
	/* the group setup entered once */
	assert_int_equal(ims_thread_nesting(), 1);
	iommusim_thread_enter();
	iommusim_thread_enter();
	assert_int_equal(ims_thread_nesting(), 3);
	iommusim_thread_leave();
	iommusim_thread_leave();
	assert_int_equal(ims_thread_nesting(), 1);
	iommusim_thread_leave();
	assert_int_equal(ims_thread_nesting(), 0);
	iommusim_thread_leave(); /* unbalanced: ignored */
	assert_int_equal(ims_thread_nesting(), 0);
	iommusim_thread_enter();
	assert_int_equal(ims_thread_nesting(), 1);
}

struct reg_ctx {
	struct iommusim_zpci_table *t;
	bool lazy_first; /* the library's lazy registration before iommusim_thread_enter() */
	bool enter; /* call iommusim_thread_enter() at all */
	unsigned nesting_in, nesting_out;
	uint64_t phys;
};

static void *
reg_thread(void *arg)
{
	struct reg_ctx *c = arg;
	struct iommusim_zpci_xlate r = { 0 };

	if (c->lazy_first) {
		ims_rcu_read_lock();
		ims_rcu_read_unlock();
	}
	/* registering twice would abort inside liburcu */
	if (c->enter) {
		iommusim_thread_enter();
		iommusim_thread_enter();
		c->nesting_in = ims_thread_nesting();
	}
	if (iommusim_zpci_table_translate(c->t, 0x5123, &r) == 0 && r.valid)
		c->phys = r.phys;
	ims_rcu_read_lock();
	ims_rcu_read_unlock();
	if (c->enter) {
		iommusim_thread_leave();
		iommusim_thread_leave();
		iommusim_thread_enter();
		iommusim_thread_leave();
	}
	c->nesting_out = ims_thread_nesting();
	return NULL;
}

static void
test_zpci_table_thread_enter_shares_rcu_registration(void **state)
{
	struct iommusim_zpci_table *t = *state;
	struct reg_ctx c[3] = {
		{ .t = t, .lazy_first = true, .enter = true },
		{ .t = t, .lazy_first = false, .enter = true },
		{ .t = t, .lazy_first = false, .enter = false },
	};
	pthread_t tid;

	update_ok(t, 0x5000, 0xabc000, VALID);
	/* one thread at a time, each registered the way it chooses, then exiting */
	for (unsigned k = 0; k < 3; k++) {
		assert_int_equal(pthread_create(&tid, NULL, reg_thread, &c[k]), 0);
		assert_int_equal(pthread_join(tid, NULL), 0);
		assert_int_equal(c[k].phys, 0xabc123);
		assert_int_equal(c[k].nesting_in, c[k].enter ? 2 : 0);
		assert_int_equal(c[k].nesting_out, 0);
	}
	/* and destroy's grace period does not wait for the exited threads */
}

/* ------------------------------------------------------------------------ */
/* Property test: random updates against a model */

/* The pool: rtx in {0, 1, 2, 0x7ff} x sx in {0, 1, 0x7ff} x every px. */
static const unsigned prop_rtx[] = { 0, 1, 2, 0x7ff };
static const unsigned prop_sx[] = { 0, 1, 0x7ff };
#define PROP_NR (sizeof(prop_rtx) / sizeof(prop_rtx[0]))
#define PROP_NS (sizeof(prop_sx) / sizeof(prop_sx[0]))
#define PROP_PAGES (PROP_NR * PROP_NS * 256)
#define PROP_SEEDS 5
#define PROP_OPS 5000
#define PROP_PHASE 1000 /* ops per fresh table */

struct prop_model {
	bool seg[PROP_NR];
	bool pt[PROP_NR * PROP_NS];
	uint64_t pte[PROP_PAGES];
	struct iommusim_zpci_table_stats st;
	uint64_t enomem;
};

static uint64_t
prop_iova(size_t i)
{
	size_t px = i % 256, si = (i / 256) % PROP_NS, ri = i / 256 / PROP_NS;

	return ((uint64_t)prop_rtx[ri] << 31) | ((uint64_t)prop_sx[si] << 20) |
	       ((uint64_t)px << 12);
}

/* §3.4 dma_update_cpu_trans, written again from the prose. */
static uint64_t
model_pte(uint64_t old, uint64_t phys, uint64_t flags)
{
	uint64_t v;

	if (flags & 0x400)
		v = old | 0x400;
	else
		v = (phys & ~UINT64_C(0xfff)) | (old & UINT64_C(0xbff));
	return flags & 0x200 ? v | 0x200 : v & ~UINT64_C(0x200);
}

static void
prop_check_page(const struct iommusim_zpci_table *t, const struct prop_model *m, size_t i,
		uint64_t off, uint64_t seed, unsigned op)
{
	size_t si = i / 256, ri = si / PROP_NS;
	uint64_t iova = prop_iova(i), e = 0xdeadbeef, pte = m->pte[i];
	struct iommusim_zpci_xlate r;
	int ret;

	ret = iommusim_zpci_table_entry(t, iova, 3, &e);
	if (!m->pt[si]) {
		if (ret != -ENOENT)
			fail_msg("seed %" PRIu64 " op %u iova 0x%" PRIx64 ": entry() %d, no table",
				 seed, op, iova, ret);
		ret = iommusim_zpci_table_entry(t, iova, 2, &e);
		if (m->seg[ri] ? ret != 0 || e != 0x20 : ret != -ENOENT)
			fail_msg("seed %" PRIu64 " op %u iova 0x%" PRIx64 ": ste %d 0x%" PRIx64,
				 seed, op, iova, ret, e);
		assert_int_equal(iommusim_zpci_table_iova_to_phys(t, iova + off), 0);
		r = xlate(t, iova + off);
		assert_false(r.valid);
		assert_int_equal(r.level, m->seg[ri] ? 2 : 1);
		return;
	}
	if (ret != 0 || e != pte)
		fail_msg("seed %" PRIu64 " op %u iova 0x%" PRIx64 ": entry() %d pte 0x%" PRIx64
			 ", model 0x%" PRIx64,
			 seed, op, iova, ret, e, pte);
	assert_int_equal(iommusim_zpci_table_iova_to_phys(t, iova + off),
			 pte & 0x400 ? 0 : pte & ~UINT64_C(0xfff));
	r = xlate(t, iova + off);
	assert_int_equal(r.level, 3);
	assert_int_equal(r.pte, pte);
	assert_int_equal(r.valid, !(pte & 0x400));
	assert_int_equal(r.protected_, !(pte & 0x400) && (pte & 0x200));
	assert_int_equal(r.phys, pte & 0x400 ? 0 : (pte & ~UINT64_C(0xfff)) | off);
}

static void
prop_check_stats(const struct iommusim_zpci_table *t, const struct prop_model *m)
{
	expect_stats(t, m->st.segment_tables, m->st.page_tables, 0, m->st.warn_invalid_twice,
		     m->st.warn_valid_twice);
}

static struct iommusim_zpci_table *
prop_reset(struct iommusim_zpci_table *t, struct prop_model *m)
{
	iommusim_zpci_table_destroy(t);
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < PROP_PAGES; i++)
		m->pte[i] = 0x400;
	return new_table();
}

static void
prop_run(uint64_t seed, uint64_t *ops_done, uint64_t *enomem, uint64_t *tables)
{
	struct prop_model *m = calloc(1, sizeof(*m));
	struct iommusim_zpci_table *t;
	uint64_t s = seed * UINT64_C(0x9E3779B97F4A7C15) | 1, enomem_sum = 0, tables_sum = 0;
	unsigned op;

	assert_non_null(m);
	t = prop_reset(NULL, m);
	for (op = 0; op < PROP_OPS; op++) {
		size_t i = test_xorshift64s(&s) % PROP_PAGES, si = i / 256, ri = si / PROP_NS;
		bool map = test_xorshift64s(&s) % 5 < 3;
		uint64_t flags = map ? (test_xorshift64s(&s) % 3 ? VALID : VALID | PROT) :
				       (test_xorshift64s(&s) % 8 ? INVALID : INVALID | PROT);
		uint64_t phys = test_xorshift64s(&s), old = 0xdeadbeef, nth = 0;
		unsigned allocs = !m->seg[ri] + !m->pt[si];
		int ret, want;

		/* fail the first or second allocation: often when the walk will allocate */
		if (test_xorshift64s(&s) % (allocs ? 3 : 40) == 0)
			nth = 1 + test_xorshift64s(&s) % 2;
		if (nth)
			ims_mem_fault_inject(nth, 1);
		ret = iommusim_zpci_table_update(t, prop_iova(i) + (test_xorshift64s(&s) & 0xfff),
						 phys, flags, &old);
		if (nth)
			ims_mem_fault_inject(0, 0);
		want = nth && nth <= allocs ? -ENOMEM : 0;
		if (ret != want)
			fail_msg("seed %" PRIu64 " op %u: update ret %d, expected %d", seed, op,
				 ret, want);
		/* the model's walk: tables installed in order until the failing allocation */
		if (!m->seg[ri] && (!want || nth > 1)) {
			m->seg[ri] = true;
			m->st.segment_tables++;
		}
		if (want) {
			assert_int_equal(old, 0xdeadbeef);
			m->enomem++;
		} else {
			if (!m->pt[si]) {
				m->pt[si] = true;
				m->st.page_tables++;
			}
			assert_int_equal(old, m->pte[i]);
			if (flags & 0x400 && m->pte[i] & 0x400)
				m->st.warn_invalid_twice++;
			if (!(flags & 0x400) && !(m->pte[i] & 0x400))
				m->st.warn_valid_twice++;
			m->pte[i] = model_pte(m->pte[i], phys, flags);
		}
		prop_check_stats(t, m);
		prop_check_page(t, m, i, test_xorshift64s(&s) & 0xfff, seed, op);
		prop_check_page(t, m, test_xorshift64s(&s) % PROP_PAGES,
				test_xorshift64s(&s) & 0xfff, seed, op);
		if (op % PROP_PHASE == PROP_PHASE - 1) {
			/* full check, then start again from a fresh table */
			for (size_t k = 0; k < PROP_PAGES; k++)
				prop_check_page(t, m, k, test_xorshift64s(&s) & 0xfff, seed, op);
			enomem_sum += m->enomem;
			tables_sum += m->st.segment_tables + m->st.page_tables;
			t = prop_reset(t, m);
		}
	}
	iommusim_zpci_table_destroy(t);
	print_message("# zpci_table property seed %" PRIu64 ": %u ops, %" PRIu64
		      " tables installed, %" PRIu64 " ENOMEM\n",
		      seed, op, tables_sum, enomem_sum);
	*ops_done += op;
	*enomem += enomem_sum;
	*tables += tables_sum;
	free(m);
}

static void
test_zpci_table_property_random_updates(void **state)
{
	uint64_t base = test_seed(DEFAULT_SEED), ops = 0, enomem = 0, tables = 0;

	(void)state;
	for (uint64_t k = 0; k < PROP_SEEDS; k++)
		prop_run(base + k, &ops, &enomem, &tables);
	assert_true(ops >= 20000);
	/* every phase filled its tables, and failed on the way many times */
	assert_int_equal(tables,
			 PROP_SEEDS * (PROP_OPS / PROP_PHASE) * (PROP_NR + PROP_NR * PROP_NS));
	assert_true(enomem > 50);
}

/* ------------------------------------------------------------------------ */
/* Concurrency: 2 CPUs map/unmap overlapping ranges, 2 devices translate */

#define CT_MAPPERS 2
#define CT_DEVICES 2
#define CT_ROUNDS 32
#define CT_BASE (2 * GiB - 2 * MiB) /* crosses a 2 GiB and three 1 MiB boundaries */
#define CT_PAGES 1024u
#define CT_OVERLAP_LO 256u /* mapper 0 works on [0, 768), mapper 1 on [256, 1024) */
#define CT_SPAN 768u
#define CT_OPS 20000u
#define CT_MIN_XLATES 1000u
#define CT_MAX_XLATES 2000000u

/* The frame mapper @m writes for page @idx: the page, the mapper and the protection in it. */
static uint64_t
ct_frame(unsigned m, unsigned idx, bool ro)
{
	return (UINT64_C(1) << 44) * (m + 1) | (uint64_t)ro << 43 | (uint64_t)(idx + 1) << 12;
}

struct ct_shared {
	struct iommusim_zpci_table *t;
	pthread_barrier_t start; /* all threads */
	pthread_barrier_t mappers; /* the mappers, before their final pass */
	atomic_uint mappers_done;
};

struct ct_thread {
	pthread_t tid;
	struct ct_shared *sh;
	unsigned id;
	uint64_t rng;
	uint64_t ops;
	uint64_t xlates, xlates_valid; /* during the mapping */
	uint64_t final_valid; /* in the final sweep */
	unsigned errors;
	char err[200];
};

static void
ct_error(struct ct_thread *c, const char *what, uint64_t iova, uint64_t v)
{
	if (!c->errors++)
		snprintf(c->err, sizeof(c->err), "thread %u: %s at iova 0x%" PRIx64 ": 0x%" PRIx64,
			 c->id, what, iova, v);
}

static void
ct_update(struct ct_thread *c, unsigned idx, bool map, bool ro)
{
	uint64_t iova = CT_BASE + (uint64_t)idx * PG;
	int ret = iommusim_zpci_table_update(c->sh->t, iova, ct_frame(c->id, idx, ro),
					     map ? (ro ? VALID | PROT : VALID) : INVALID, NULL);

	if (ret)
		ct_error(c, "update failed", iova, (uint64_t)ret);
	c->ops++;
}

static void *
ct_mapper(void *arg)
{
	struct ct_thread *c = arg;
	unsigned lo = c->id ? CT_OVERLAP_LO : 0;

	pthread_barrier_wait(&c->sh->start);
	/* race to populate the fresh tables: both start on the same pages */
	for (unsigned idx = 0; idx < CT_PAGES; idx += 256)
		ct_update(c, idx, true, false);
	ct_update(c, CT_PAGES - 1, true, false);
	for (unsigned k = 0; k < CT_OPS; k++)
		ct_update(c, lo + (unsigned)(test_xorshift64s(&c->rng) % CT_SPAN),
			  test_xorshift64s(&c->rng) % 3 != 0, test_xorshift64s(&c->rng) % 2);
	/* final pass: mapper m owns the pages with idx % 2 == m */
	pthread_barrier_wait(&c->sh->mappers);
	for (unsigned idx = c->id; idx < CT_PAGES; idx += CT_MAPPERS)
		ct_update(c, idx, true, idx % 3 == 0);
	atomic_fetch_add(&c->sh->mappers_done, 1);
	return NULL;
}

static void *
ct_device(void *arg)
{
	struct ct_thread *c = arg;
	unsigned char seen_level[CT_PAGES];

	memset(seen_level, 0, sizeof(seen_level));
	iommusim_thread_enter();
	pthread_barrier_wait(&c->sh->start);
	/* at least CT_MIN_XLATES, then until the mappers are done */
	while (c->xlates < CT_MIN_XLATES ||
	       (c->xlates < CT_MAX_XLATES && atomic_load(&c->sh->mappers_done) < CT_MAPPERS)) {
		unsigned idx = (unsigned)(test_xorshift64s(&c->rng) % CT_PAGES);
		uint64_t off = test_xorshift64s(&c->rng) & 0xfff;
		uint64_t iova = CT_BASE + (uint64_t)idx * PG + off;
		struct iommusim_zpci_xlate r;

		c->xlates++;
		if (iommusim_zpci_table_translate(c->sh->t, iova, &r)) {
			ct_error(c, "translate failed", iova, 0);
			continue;
		}
		/* tables are never removed: the walk only gets deeper */
		if (r.level < 1 || r.level > 3 || r.level < seen_level[idx])
			ct_error(c, "walk level went back", iova, r.level);
		seen_level[idx] = (unsigned char)r.level;
		if (!r.valid) {
			if (r.phys || r.protected_ || (r.level == 3 && !(r.pte & 0x400)))
				ct_error(c, "incoherent invalid result", iova, r.pte);
			continue;
		}
		c->xlates_valid++;
		/* a valid PTE is one value some mapper wrote for this very page */
		if (r.level != 3 || r.phys != (r.pte & ~UINT64_C(0xfff)) + off ||
		    (r.pte & 0xfff) != (r.protected_ ? 0x200 : 0) ||
		    ((r.pte & ~UINT64_C(0xfff)) != ct_frame(0, idx, r.protected_) &&
		     (r.pte & ~UINT64_C(0xfff)) != ct_frame(1, idx, r.protected_)))
			ct_error(c, "translation not written by any mapper", iova, r.pte);
	}
	/* once both mappers are done, the device sees exactly their final passes */
	while (atomic_load(&c->sh->mappers_done) < CT_MAPPERS)
		sched_yield();
	for (unsigned idx = 0; idx < CT_PAGES; idx++) {
		uint64_t iova = CT_BASE + (uint64_t)idx * PG + idx % PG;
		bool ro = idx % 3 == 0;
		struct iommusim_zpci_xlate r;

		if (iommusim_zpci_table_translate(c->sh->t, iova, &r) || !r.valid || r.level != 3 ||
		    r.protected_ != ro || r.phys != ct_frame(idx % CT_MAPPERS, idx, ro) + idx % PG)
			ct_error(c, "final translation wrong", iova, r.phys);
		c->final_valid += r.valid;
	}
	iommusim_thread_leave();
	return NULL;
}

static void
ct_round(uint64_t seed, unsigned round, struct iommusim_zpci_table_stats *sum, uint64_t *xlates,
	 uint64_t *valid)
{
	struct ct_shared sh = { .t = new_table() };
	struct ct_thread th[CT_MAPPERS + CT_DEVICES];
	struct iommusim_zpci_table_stats st;

	memset(th, 0, sizeof(th));
	atomic_init(&sh.mappers_done, 0);
	assert_int_equal(pthread_barrier_init(&sh.start, NULL, CT_MAPPERS + CT_DEVICES), 0);
	assert_int_equal(pthread_barrier_init(&sh.mappers, NULL, CT_MAPPERS), 0);
	for (unsigned k = 0; k < CT_MAPPERS + CT_DEVICES; k++) {
		th[k].sh = &sh;
		th[k].id = k;
		th[k].rng = (seed + round * 7919u + k * 104729u) * UINT64_C(0x9E3779B97F4A7C15) | 1;
		assert_int_equal(pthread_create(&th[k].tid, NULL,
						k < CT_MAPPERS ? ct_mapper : ct_device, &th[k]),
				 0);
	}
	for (unsigned k = 0; k < CT_MAPPERS + CT_DEVICES; k++)
		assert_int_equal(pthread_join(th[k].tid, NULL), 0);
	for (unsigned k = 0; k < CT_MAPPERS + CT_DEVICES; k++)
		if (th[k].errors)
			fail_msg("seed %" PRIu64 " round %u: %u errors, first: %s", seed, round,
				 th[k].errors, th[k].err);
	/* exactly one table per region however the installs raced */
	st = get_stats(sh.t);
	assert_int_equal(st.segment_tables, 2);
	assert_int_equal(st.page_tables, CT_PAGES / 256);
	/* a thread loses at most once per table: afterwards it follows the winner */
	assert_true(st.install_races <= (CT_MAPPERS - 1) * (st.segment_tables + st.page_tables));
	/* the final pass decides every page */
	for (unsigned idx = 0; idx < CT_PAGES; idx++) {
		uint64_t iova = CT_BASE + (uint64_t)idx * PG;
		uint64_t want = ct_frame(idx % CT_MAPPERS, idx, idx % 3 == 0);

		if (iommusim_zpci_table_iova_to_phys(sh.t, iova + 0x7) != want)
			fail_msg("seed %" PRIu64 " round %u: iova_to_phys(0x%" PRIx64
				 ") = 0x%" PRIx64 ", expected 0x%" PRIx64,
				 seed, round, iova, iommusim_zpci_table_iova_to_phys(sh.t, iova),
				 want);
		assert_int_equal(entry_at(sh.t, iova, 3), want | (idx % 3 == 0 ? 0x200 : 0));
	}
	for (unsigned k = 0; k < CT_MAPPERS; k++)
		assert_int_equal(th[k].ops, CT_OPS + CT_PAGES / 256 + 1 + CT_PAGES / CT_MAPPERS);
	for (unsigned k = CT_MAPPERS; k < CT_MAPPERS + CT_DEVICES; k++) {
		*xlates += th[k].xlates;
		*valid += th[k].xlates_valid;
		assert_int_equal(th[k].final_valid, CT_PAGES);
	}
	sum->install_races += st.install_races;
	sum->warn_invalid_twice += st.warn_invalid_twice;
	sum->warn_valid_twice += st.warn_valid_twice;
	pthread_barrier_destroy(&sh.start);
	pthread_barrier_destroy(&sh.mappers);
	iommusim_zpci_table_destroy(sh.t);
}

static void
test_zpci_table_concurrent_map_translate(void **state)
{
	struct iommusim_zpci_table_stats sum = { 0 };
	uint64_t seed = test_seed(DEFAULT_SEED), xlates = 0, valid = 0;

	(void)state;
	print_message("# zpci_table concurrent: seed %" PRIu64 " (IOMMUSIM_TEST_SEED)\n", seed);
	for (unsigned round = 0; round < CT_ROUNDS; round++)
		ct_round(seed, round, &sum, &xlates, &valid);
	print_message("# zpci_table concurrent: %u rounds, %" PRIu64 " translations (%" PRIu64
		      " valid), %" PRIu64 " install races, warns %" PRIu64 "/%" PRIu64 "\n",
		      CT_ROUNDS, xlates, valid, sum.install_races, sum.warn_invalid_twice,
		      sum.warn_valid_twice);
	assert_true(xlates >= CT_ROUNDS * CT_DEVICES * CT_MIN_XLATES);
	/* overlapping random map/unmap makes double (in)validations certain */
	assert_true(sum.warn_invalid_twice > 0);
	assert_true(sum.warn_valid_twice > 0);
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

#define T(f) cmocka_unit_test_setup_teardown(f, setup_table, teardown_table)

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zpci_table_constants_exact),
		cmocka_unit_test(test_zpci_table_tv17_indices),
		cmocka_unit_test(test_zpci_table_index_boundaries),
		cmocka_unit_test(test_zpci_table_tv18_pte_update),
		T(test_zpci_table_tv18_through_table),
		cmocka_unit_test(test_zpci_table_entry_encodings),
		cmocka_unit_test(test_zpci_table_entry_load_reads_memory),
		T(test_zpci_table_create_root_all_invalid),
		cmocka_unit_test(test_zpci_table_create_rejects_and_enomem),
		T(test_zpci_table_null_args),
		T(test_zpci_table_update_allocates_per_level),
		T(test_zpci_table_update_pte_values),
		T(test_zpci_table_update_warn_counters),
		T(test_zpci_table_update_rejects_beyond_4tib),
		T(test_zpci_table_enomem_segment_level),
		T(test_zpci_table_enomem_page_level),
		T(test_zpci_table_install_race_loser_uses_winner),
		T(test_zpci_table_iova_to_phys_and_translate),
		T(test_zpci_table_translate_levels),
		T(test_zpci_table_entry_levels),
		T(test_zpci_table_dump_lines),
		cmocka_unit_test(test_zpci_table_thread_enter_nests),
		T(test_zpci_table_thread_enter_shares_rcu_registration),
		cmocka_unit_test(test_zpci_table_property_random_updates),
		cmocka_unit_test(test_zpci_table_concurrent_map_translate),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("zpci_table", tests, rcu_register, rcu_unregister);
}
