/* SPDX-License-Identifier: MIT */
/*
 * s390 PCI I/O translation tables (KERNEL_SPEC §3.4, §3.6, §4): the v6.7
 * region-third -> segment -> page walk, built in host memory with the exact
 * entry bits, updated concurrently by CPUs and read by simulated devices.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <iommusim/zpci_table.h>

#include "base/mem_int.h"
#include "base/rcu_int.h"
#include "base/util_int.h"
#include "hw/zpci_table_int.h"

/*
 * Memory ordering: a new table is filled with plain stores and published by
 * a compare-and-swap with release semantics; every reader loads entries with
 * acquire, so whoever sees the entry pointing at a table also sees the table's
 * initial contents. Tables are only freed by iommusim_zpci_table_destroy(),
 * after an RCU grace period, so a device walk inside rcu_read_lock() never
 * touches freed memory.
 */

/* Walk levels, as reported in struct iommusim_zpci_xlate. */
enum { LVL_REGION = 1, LVL_SEGMENT = 2, LVL_PAGE = 3 };

/* Test hook (see zpci_table_int.h); NULL in normal operation. */
static void (*install_hook)(struct iommusim_zpci_table *t, uint64_t iova, unsigned level);

/* Per-thread nesting of iommusim_thread_enter(). */
static _Thread_local unsigned rcu_nesting __attribute__((tls_model("initial-exec")));

void
ims_zpci_table_set_install_hook(void (*fn)(struct iommusim_zpci_table *t, uint64_t iova,
					   unsigned level))
{
	__atomic_store_n(&install_hook, fn, __ATOMIC_RELEASE);
}

static inline uint64_t *
entry_ptr(uint64_t table_origin, unsigned index)
{
	return (uint64_t *)(uintptr_t)table_origin + index;
}

static inline uint64_t
phys_of(const uint64_t *table)
{
	return (uint64_t)(uintptr_t)table;
}

static inline void
stat_inc(uint64_t *ctr)
{
	__atomic_fetch_add(ctr, 1, __ATOMIC_RELAXED);
}

uint64_t
iommusim_zpci_entry_load(uint64_t table_origin, unsigned index)
{
	/* Acquire pairs with the release of the install in get_table_origin(). */
	return __atomic_load_n(entry_ptr(table_origin, index), __ATOMIC_ACQUIRE);
}

/* §3.4 dma_alloc_cpu_table(): 16 KiB, 16 KiB aligned, every entry ZPCI_TABLE_INVALID. */
static uint64_t *
region_table_alloc(void)
{
	uint64_t *tab = ims_aligned_zalloc(IOMMUSIM_ZPCI_TABLE_SIZE, IOMMUSIM_ZPCI_TABLE_ALIGN);

	if (!tab)
		return NULL;
	for (unsigned i = 0; i < IOMMUSIM_ZPCI_TABLE_ENTRIES; i++)
		tab[i] = IOMMUSIM_ZPCI_TABLE_INVALID;
	return tab;
}

/* §3.4 dma_alloc_page_table(): 2 KiB, 2 KiB aligned, every PTE ZPCI_PTE_INVALID. */
static uint64_t *
page_table_alloc(void)
{
	uint64_t *tab = ims_aligned_zalloc(IOMMUSIM_ZPCI_PT_SIZE, IOMMUSIM_ZPCI_PT_ALIGN);

	if (!tab)
		return NULL;
	for (unsigned i = 0; i < IOMMUSIM_ZPCI_PT_ENTRIES; i++)
		tab[i] = IOMMUSIM_ZPCI_PTE_INVALID;
	return tab;
}

/* The origin a valid entry of @level points at (0 if invalid or of the wrong type). */
static inline uint64_t
entry_origin(uint64_t entry, unsigned level)
{
	return level == LVL_REGION ? iommusim_zpci_rte_sto(entry) : iommusim_zpci_ste_pto(entry);
}

/*
 * §3.4 dma_get_seg_table_origin() (@level 1, a region entry) and
 * dma_get_page_table_origin() (@level 2, a segment entry): follow a valid
 * entry, else allocate a table and install it by compare-and-swap against
 * ZPCI_TABLE_INVALID; the loser frees its table and uses the winner's.
 * Returns the table's origin, or 0 if the allocation failed.
 */
static uint64_t
get_table_origin(struct iommusim_zpci_table *t, uint64_t *entryp, uint64_t iova, unsigned level)
{
	uint64_t entry = __atomic_load_n(entryp, __ATOMIC_ACQUIRE);
	uint64_t expected = IOMMUSIM_ZPCI_TABLE_INVALID;
	void (*hook)(struct iommusim_zpci_table *, uint64_t, unsigned);
	uint64_t *tab, origin;

	if (iommusim_zpci_entry_is_valid(entry))
		return entry_origin(entry, level);
	tab = level == LVL_REGION ? region_table_alloc() : page_table_alloc();
	if (!tab)
		return 0;
	hook = __atomic_load_n(&install_hook, __ATOMIC_ACQUIRE);
	if (hook)
		hook(t, iova, level);
	entry = level == LVL_REGION ? iommusim_zpci_rte_make(phys_of(tab)) :
				      iommusim_zpci_ste_make(phys_of(tab));
	/* Release publishes the initialised table; acquire on failure reads the winner's. */
	if (__atomic_compare_exchange_n(entryp, &expected, entry, false, __ATOMIC_ACQ_REL,
					__ATOMIC_ACQUIRE)) {
		stat_inc(level == LVL_REGION ? &t->segment_tables : &t->page_tables);
		return phys_of(tab);
	}
	/* §3.4: another CPU installed its table first; free ours, use theirs. */
	ims_free(tab);
	stat_inc(&t->install_races);
	origin = entry_origin(expected, level);
	/* Only this file writes these entries, and only ever INVALID -> valid. */
	ims_assert(origin != 0);
	return origin;
}

/*
 * §3.4 dma_walk_cpu_trans(): rtx -> segment table, sx -> page table, both
 * allocated on demand; the PTE at px, or NULL if an allocation failed (the
 * tables installed on the way stay).
 */
static uint64_t *
walk_alloc(struct iommusim_zpci_table *t, uint64_t iova)
{
	uint64_t sto, pto;

	sto = get_table_origin(t, &t->rto[iommusim_zpci_rtx(iova)], iova, LVL_REGION);
	if (!sto)
		return NULL;
	pto = get_table_origin(t, entry_ptr(sto, iommusim_zpci_sx(iova)), iova, LVL_SEGMENT);
	if (!pto)
		return NULL;
	return entry_ptr(pto, iommusim_zpci_px(iova));
}

/*
 * Walk without allocating, as a device or iova_to_phys (§3.6) does. Fills
 * e[0..n-1] with the region, segment and page entries read and returns n, the
 * level where the walk stopped (3 = a PTE was read, valid or not).
 */
static unsigned
walk_lookup(const struct iommusim_zpci_table *t, uint64_t iova, uint64_t e[3])
{
	uint64_t sto, pto;

	e[0] = iommusim_zpci_entry_load(phys_of(t->rto), iommusim_zpci_rtx(iova));
	sto = iommusim_zpci_rte_sto(e[0]);
	if (!sto)
		return LVL_REGION;
	e[1] = iommusim_zpci_entry_load(sto, iommusim_zpci_sx(iova));
	pto = iommusim_zpci_ste_pto(e[1]);
	if (!pto)
		return LVL_SEGMENT;
	e[2] = iommusim_zpci_entry_load(pto, iommusim_zpci_px(iova));
	return LVL_PAGE;
}

int
iommusim_zpci_table_create(struct iommusim_zpci_table **out)
{
	struct iommusim_zpci_table *t;

	if (!out)
		return -EINVAL;
	t = ims_zalloc(sizeof(*t));
	if (!t)
		return -ENOMEM;
	/* §3.3: the domain's root is one dma_alloc_cpu_table() (§3.4). */
	t->rto = region_table_alloc();
	if (!t->rto)
		goto err_free;
	*out = t;
	return 0;
err_free:
	ims_free(t);
	return -ENOMEM;
}

void
iommusim_zpci_table_destroy(struct iommusim_zpci_table *t)
{
	if (!t)
		return;
	/* The kernel frees the tables from an RCU callback; wait for the grace period here. */
	ims_rcu_synchronize();
	/* §3.4 dma_cleanup_tables(): page tables under valid STEs, segment tables, the root. */
	for (unsigned r = 0; r < IOMMUSIM_ZPCI_TABLE_ENTRIES; r++) {
		uint64_t sto = iommusim_zpci_rte_sto(t->rto[r]);

		if (!sto)
			continue;
		for (unsigned s = 0; s < IOMMUSIM_ZPCI_TABLE_ENTRIES; s++) {
			uint64_t pto = iommusim_zpci_ste_pto(*entry_ptr(sto, s));

			if (pto)
				ims_free(entry_ptr(pto, 0));
		}
		ims_free(entry_ptr(sto, 0));
	}
	ims_free(t->rto);
	ims_free(t);
}

uint64_t
iommusim_zpci_table_origin(const struct iommusim_zpci_table *t)
{
	return t ? phys_of(t->rto) : 0;
}

int
iommusim_zpci_table_update(struct iommusim_zpci_table *t, uint64_t iova, uint64_t phys,
			   uint64_t flags, uint64_t *old_pte)
{
	uint64_t *ptep, pte, prev;

	if (!t)
		return -EINVAL;
	/* §3.3: the region-third root translates [0, ZPCI_TABLE_SIZE_RT). */
	if (iova >= IOMMUSIM_ZPCI_TABLE_SIZE_RT)
		return -EINVAL;
	/* §3.4: the walk allocates on the unmap path too. */
	ptep = walk_alloc(t, iova);
	if (!ptep)
		return -ENOMEM;
	/*
	 * §3.4 dma_update_cpu_trans(): read the PTE, warn on invalidating an
	 * invalid or validating a valid one (counted here, every time), build
	 * the new value and store it with an atomic exchange.
	 */
	pte = __atomic_load_n(ptep, __ATOMIC_RELAXED);
	if (flags & IOMMUSIM_ZPCI_PTE_INVALID) {
		if (!iommusim_zpci_pte_is_valid(pte))
			stat_inc(&t->warn_invalid_twice);
	} else if (iommusim_zpci_pte_is_valid(pte)) {
		stat_inc(&t->warn_valid_twice);
	}
	pte = iommusim_zpci_pte_update(pte, phys, flags);
	if (ims_solo) { /* no other thread walks these tables (base/util_int.h) */
		prev = __atomic_load_n(ptep, __ATOMIC_RELAXED);
		__atomic_store_n(ptep, pte, __ATOMIC_RELAXED);
	} else {
		prev = __atomic_exchange_n(ptep, pte, __ATOMIC_SEQ_CST);
	}
	if (old_pte)
		*old_pte = prev;
	return 0;
}

int
iommusim_zpci_table_entry(const struct iommusim_zpci_table *t, uint64_t iova, unsigned level,
			  uint64_t *entry)
{
	uint64_t e[3];

	if (!t || !entry || level < LVL_REGION || level > LVL_PAGE ||
	    iova >= IOMMUSIM_ZPCI_TABLE_SIZE_RT)
		return -EINVAL;
	if (walk_lookup(t, iova, e) < level)
		return -ENOENT;
	*entry = e[level - 1];
	return 0;
}

uint64_t
iommusim_zpci_table_iova_to_phys(const struct iommusim_zpci_table *t, uint64_t iova)
{
	uint64_t e[3];

	/* §3.6 iova_to_phys: 0 outside the aperture or below an invalid level. */
	if (!t || iova >= IOMMUSIM_ZPCI_TABLE_SIZE_RT)
		return 0;
	if (walk_lookup(t, iova, e) != LVL_PAGE || !iommusim_zpci_pte_is_valid(e[2]))
		return 0;
	/* §3.6: the frame only, the IOVA's in-page offset is not added. */
	return e[2] & IOMMUSIM_ZPCI_PTE_ADDR_MASK;
}

int
iommusim_zpci_table_translate(const struct iommusim_zpci_table *t, uint64_t iova,
			      struct iommusim_zpci_xlate *res)
{
	struct iommusim_zpci_xlate r = { 0 };
	uint64_t e[3];

	if (!t || !res || iova >= IOMMUSIM_ZPCI_TABLE_SIZE_RT)
		return -EINVAL;
	/* A device walk, concurrent with CPUs mapping: only destroy can free what it reads. */
	ims_rcu_read_lock();
	r.level = walk_lookup(t, iova, e);
	ims_rcu_read_unlock();
	/* §4.3: valid iff 0x400 is clear, read-only iff 0x200 is set; the device adds the offset. */
	if (r.level == LVL_PAGE) {
		r.pte = e[2];
		r.valid = iommusim_zpci_pte_is_valid(r.pte);
	}
	if (r.valid) {
		r.protected_ = iommusim_zpci_pte_is_protected(r.pte);
		r.phys = (r.pte & IOMMUSIM_ZPCI_PTE_ADDR_MASK) |
			 (iova & (IOMMUSIM_PAGE_SIZE - UINT64_C(1)));
	}
	*res = r;
	return 0;
}

int
iommusim_zpci_table_stats_get(const struct iommusim_zpci_table *t,
			      struct iommusim_zpci_table_stats *out)
{
	if (!t || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out)); /* the room to grow too (docs/abi.md) */
	out->segment_tables = __atomic_load_n(&t->segment_tables, __ATOMIC_RELAXED);
	out->page_tables = __atomic_load_n(&t->page_tables, __ATOMIC_RELAXED);
	out->install_races = __atomic_load_n(&t->install_races, __ATOMIC_RELAXED);
	out->warn_invalid_twice = __atomic_load_n(&t->warn_invalid_twice, __ATOMIC_RELAXED);
	out->warn_valid_twice = __atomic_load_n(&t->warn_valid_twice, __ATOMIC_RELAXED);
	return 0;
}

/* IOVA span of one entry at each level: 2 GiB, 1 MiB, 4 KiB. */
#define RTE_SPAN (UINT64_C(1) << IOMMUSIM_ZPCI_RT_SHIFT)
#define STE_SPAN (UINT64_C(1) << IOMMUSIM_ZPCI_ST_SHIFT)

static void
dump_segment_table(FILE *f, uint64_t sto, uint64_t r_base, uint64_t iova, uint64_t last)
{
	uint64_t r_last = r_base + RTE_SPAN - 1;
	unsigned s_first = r_base < iova ? iommusim_zpci_sx(iova) : 0;
	unsigned s_last = r_last > last ? iommusim_zpci_sx(last) : IOMMUSIM_ZPCI_INDEX_MASK;

	for (unsigned s = s_first; s <= s_last; s++) {
		uint64_t ste = iommusim_zpci_entry_load(sto, s);
		uint64_t pto = iommusim_zpci_ste_pto(ste);
		uint64_t s_base = r_base + (uint64_t)s * STE_SPAN;
		unsigned p_first, p_last;

		if (!pto)
			continue;
		fprintf(f,
			"  ste[0x%03x] = 0x%016" PRIx64 " -> page table 0x%" PRIx64
			" (iova 0x%" PRIx64 "..0x%" PRIx64 ")\n",
			s, ste, pto, s_base, s_base + STE_SPAN - 1);
		p_first = s_base < iova ? iommusim_zpci_px(iova) : 0;
		p_last = s_base + STE_SPAN - 1 > last ? iommusim_zpci_px(last) :
							IOMMUSIM_ZPCI_PT_MASK;
		for (unsigned p = p_first; p <= p_last; p++) {
			uint64_t pte = iommusim_zpci_entry_load(pto, p);

			if (!iommusim_zpci_pte_is_valid(pte))
				continue;
			fprintf(f,
				"    pte[0x%02x] = 0x%016" PRIx64 " -> frame 0x%" PRIx64
				" %s (iova 0x%" PRIx64 ")\n",
				p, pte, pte & IOMMUSIM_ZPCI_PTE_ADDR_MASK,
				iommusim_zpci_pte_is_protected(pte) ? "ro" : "rw",
				s_base + ((uint64_t)p << IOMMUSIM_PAGE_SHIFT));
		}
	}
}

int
iommusim_zpci_table_dump(const struct iommusim_zpci_table *t, FILE *f, uint64_t iova, uint64_t len)
{
	uint64_t last;

	if (!t || !f || iova > IOMMUSIM_ZPCI_TABLE_SIZE_RT ||
	    len > IOMMUSIM_ZPCI_TABLE_SIZE_RT - iova)
		return -EINVAL;
	if (!len)
		return 0;
	last = iova + len - 1;
	for (unsigned r = iommusim_zpci_rtx(iova); r <= iommusim_zpci_rtx(last); r++) {
		uint64_t rte = iommusim_zpci_entry_load(phys_of(t->rto), r);
		uint64_t sto = iommusim_zpci_rte_sto(rte);
		uint64_t r_base = (uint64_t)r << IOMMUSIM_ZPCI_RT_SHIFT;

		if (!sto)
			continue;
		fprintf(f,
			"rte[0x%03x] = 0x%016" PRIx64 " -> segment table 0x%" PRIx64
			" (iova 0x%" PRIx64 "..0x%" PRIx64 ")\n",
			r, rte, sto, r_base, r_base + RTE_SPAN - 1);
		dump_segment_table(f, sto, r_base, iova, last);
	}
	return 0;
}

/*
 * Registration with liburcu belongs to lib/rcu.c, which registers a thread
 * once (lazily, on its first read-side section) and unregisters it when it
 * exits. Registering here too would register a thread twice, which liburcu
 * aborts on; so enter only makes sure the thread is registered, and the
 * nesting count is kept for the API's contract.
 */
void
iommusim_thread_enter(void)
{
	if (rcu_nesting++ == 0)
		ims_rcu_thread_online();
}

void
iommusim_thread_leave(void)
{
	/* An unbalanced leave is ignored. The thread stays registered until it
	 * exits: outside a read-side section it never delays a grace period. */
	if (rcu_nesting > 0)
		rcu_nesting--;
}

unsigned
ims_thread_nesting(void)
{
	return rcu_nesting;
}
