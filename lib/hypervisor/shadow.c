/* SPDX-License-Identifier: MIT */
/*
 * A hypervisor's shadow of a guest's s390 I/O translation tables, refreshed
 * by RPCIT (COST_MODEL.md §1.1), with the shared entry pool of a vfio
 * container (dma_entry_limit) and the status-16 answer on exhaustion.
 *
 * Data structure. QEMU keeps its shadow IOTLB in a hash keyed by IOVA; here
 * it is an ordered red-black tree (libbsd's tree.h), which gives the same
 * observable behaviour and suits the walk better:
 *  - the walk visits pages in ascending IOVA order, so it carries a cursor
 *    to the next shadowed page: whether a page is shadowed is one comparison,
 *    with no lookup per PTE, valid or invalid (a hash needs one per valid PTE
 *    and a second structure to avoid one per invalid PTE);
 *  - refreshes of one shadow are serialised by contract (the hypervisor
 *    handles one RPCIT at a time), so a lock-free table (cds_lfht) would buy
 *    nothing; lookups from other threads take the shadow's mutex, and removed
 *    nodes can be freed at once instead of after an RCU grace period;
 *  - liburcu-cds is not among the library's link dependencies.
 * Only the pool is shared between threads, and it is a single atomic counter.
 *
 * Modelling choices (not fixed by any source):
 *  - The walker keeps the region and segment entry it is in: each entry it
 *    visits is loaded once (one RTE per 2 GiB frame, one STE per 1 MiB, one
 *    PTE per 4 KiB slot of a valid segment), not re-walked from the root for
 *    every page. A skipped region or segment entry was itself loaded; the
 *    pages under it were not.
 *  - Shadowed pages under an invalid region or segment entry are not visited
 *    and so stay shadowed (Linux never frees its tables while in use, so this
 *    does not arise with a guest that follows the kernel).
 *  - A changed entry (other frame or protection) is replaced in place: its
 *    entry goes back to the pool and is taken again at once, so the counter
 *    never moves and a remap succeeds even on an exhausted pool (another
 *    shadow cannot steal the entry in between). It counts as a map and a remap
 *    (so its host unmap shows in `remaps`), not as a stale unmap or an unmap
 *    run, and it interrupts a run of stale pages.
 *  - Stale pages are coalesced per pass: a run is a maximal sequence of
 *    consecutively visited pages that were dropped; a page that is not dropped
 *    or a skipped region/segment closes it.
 *  - The second pass applies the same rules to the whole range. Mappings made
 *    by the first pass are then unchanged, so it retries what was skipped, and
 *    it can skip again when the room found is smaller than what was skipped or
 *    another shadow of the pool took it meanwhile. There is no third pass:
 *    `skipped` is what the last pass could not map.
 *  - A range reaching beyond 4 TiB, which a region-third table cannot
 *    translate, is answered like one outside [pba, pal]: cc 1, status 8.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* tree.h's generated functions use the BSD __unused attribute. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
#include <bsd/sys/tree.h>

#include <iommusim/shadow.h>
#include <iommusim/zpci.h>
#include <iommusim/zpci_table.h>

#include "base/mem_int.h"
#include "base/rcu_int.h"
#include "hypervisor/shadow_int.h"
#include "base/util_int.h"

#define PG ((uint64_t)IOMMUSIM_PAGE_SIZE)
#define PAGE_MASK (~(PG - 1))
#define SEG_SIZE (UINT64_C(1) << IOMMUSIM_ZPCI_ST_SHIFT)
#define REGION_SIZE (UINT64_C(1) << IOMMUSIM_ZPCI_RT_SHIFT)
/* What the shadow keeps of a PTE: the frame and the protection bit. */
#define PTE_KEEP (IOMMUSIM_ZPCI_PTE_ADDR_MASK | IOMMUSIM_ZPCI_TABLE_PROT_MASK)

static int
node_cmp(const struct ims_shadow_node *a, const struct ims_shadow_node *b)
{
	return a->iova < b->iova ? -1 : a->iova > b->iova;
}

RB_GENERATE_STATIC(ims_shadow_tree, ims_shadow_node, rb, node_cmp)

/* Read-only calls still lock; shadows are never const objects. */
static inline pthread_mutex_t *
shadow_lock(const struct iommusim_shadow *s)
{
	return (pthread_mutex_t *)(uintptr_t)&s->lock;
}

/* ---- the pool ---------------------------------------------------------- */

int
iommusim_shadow_pool_create(uint64_t entry_limit, struct iommusim_shadow_pool **out)
{
	struct iommusim_shadow_pool *pool;

	if (!out)
		return -EINVAL;
	pool = ims_zalloc(sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->limit = entry_limit;
	atomic_init(&pool->available, entry_limit);
	*out = pool;
	return 0;
}

void
iommusim_shadow_pool_destroy(struct iommusim_shadow_pool *pool)
{
	ims_free(pool);
}

uint64_t
iommusim_shadow_pool_available(const struct iommusim_shadow_pool *pool)
{
	if (!pool)
		return 0;
	if (!pool->limit)
		return UINT64_MAX;
	return atomic_load_explicit(&((struct iommusim_shadow_pool *)(uintptr_t)pool)->available,
				    memory_order_relaxed);
}

/* Take one entry unless the pool is empty. */
static bool
pool_take(struct iommusim_shadow_pool *pool)
{
	uint64_t cur;

	if (!pool->limit)
		return true;
	cur = atomic_load_explicit(&pool->available, memory_order_relaxed);
	/* A failed exchange reloads cur. */
	while (cur > 0)
		if (atomic_compare_exchange_weak_explicit(&pool->available, &cur, cur - 1,
							  memory_order_relaxed,
							  memory_order_relaxed))
			return true;
	return false;
}

static void
pool_put(struct iommusim_shadow_pool *pool, uint64_t n)
{
	uint64_t old;

	if (!pool->limit || !n)
		return;
	old = atomic_fetch_add_explicit(&pool->available, n, memory_order_relaxed);
	/* Every entry returned was taken before: the pool never overflows. */
	ims_assert(old + n <= pool->limit);
}

static bool
pool_has_room(const struct iommusim_shadow_pool *pool)
{
	return iommusim_shadow_pool_available(pool) > 0;
}

/* ---- shadows ----------------------------------------------------------- */

int
iommusim_shadow_create(struct iommusim_shadow_pool *pool, struct iommusim_shadow **out)
{
	struct iommusim_shadow *s;

	if (!pool || !out)
		return -EINVAL;
	s = ims_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		ims_free(s);
		return -ENOMEM;
	}
	s->pool = pool;
	RB_INIT(&s->tree);
	atomic_init(&s->nentries, 0);
	*out = s;
	return 0;
}

void
iommusim_shadow_destroy(struct iommusim_shadow *s)
{
	struct ims_shadow_node *n;
	uint64_t freed = 0;

	if (!s)
		return;
	while ((n = RB_MIN(ims_shadow_tree, &s->tree)) != NULL) {
		RB_REMOVE(ims_shadow_tree, &s->tree, n);
		ims_free(n);
		freed++;
	}
	ims_assert(freed == atomic_load_explicit(&s->nentries, memory_order_relaxed));
	pool_put(s->pool, freed);
	pthread_mutex_destroy(&s->lock);
	ims_free(s);
}

uint64_t
iommusim_shadow_entries(const struct iommusim_shadow *s)
{
	if (!s)
		return 0;
	return atomic_load_explicit(&((struct iommusim_shadow *)(uintptr_t)s)->nentries,
				    memory_order_relaxed);
}

int
ims_shadow_lookup_entry(const struct iommusim_shadow *s, uint64_t iova, uint64_t *frame_out,
			bool *prot_out)
{
	struct ims_shadow_node key = { .iova = iova & PAGE_MASK }, *n;
	int ret = -ENOENT;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(shadow_lock(s));
	n = RB_FIND(ims_shadow_tree, (struct ims_shadow_tree *)(uintptr_t)&s->tree, &key);
	if (n) {
		if (frame_out)
			*frame_out = n->val & IOMMUSIM_ZPCI_PTE_ADDR_MASK;
		if (prot_out)
			*prot_out = (n->val & IOMMUSIM_ZPCI_TABLE_PROT_MASK) != 0;
		ret = 0;
	}
	pthread_mutex_unlock(shadow_lock(s));
	return ret;
}

int
iommusim_shadow_lookup(const struct iommusim_shadow *s, uint64_t iova, uint64_t *frame_out)
{
	return ims_shadow_lookup_entry(s, iova, frame_out, NULL);
}

/* ---- the walk ---------------------------------------------------------- */

uint64_t
ims_shadow_unmap_chunks(uint64_t pfn, uint64_t npages)
{
	uint64_t chunks = 0;

	while (npages) {
		/* The largest power of two that fits in what remains ... */
		uint64_t size = UINT64_C(1) << (ims_fls64(npages) - 1);

		/* ... and that the start is aligned to (pfn 0 is aligned to all). */
		if (pfn)
			size = IMS_MIN(size, pfn & (~pfn + 1));
		pfn += size;
		npages -= size;
		chunks++;
	}
	return chunks;
}

/* State of one pass over the range. */
struct walk {
	struct iommusim_shadow *s;
	struct iommusim_shadow_result *res;
	struct ims_shadow_node *cur; /* first node at or after the page being visited */
	uint64_t run_pfn, run_len; /* the open run of stale pages (run_len 0: none) */
	uint64_t skipped; /* new mappings this pass could not make */
};

static void
run_close(struct walk *w)
{
	if (w->run_len) {
		w->res->unmap_runs += ims_shadow_unmap_chunks(w->run_pfn, w->run_len);
		w->run_len = 0;
	}
}

static void
run_extend(struct walk *w, uint64_t iova)
{
	uint64_t pfn = iova >> IOMMUSIM_PAGE_SHIFT;

	if (w->run_len && w->run_pfn + w->run_len == pfn) {
		w->run_len++;
		return;
	}
	run_close(w);
	w->run_pfn = pfn;
	w->run_len = 1;
}

/* Compare one visited PTE with the shadow and act. @return 0; -ENOMEM */
static int
visit_page(struct walk *w, uint64_t iova, uint64_t pte)
{
	struct iommusim_shadow *s = w->s;
	struct ims_shadow_node *n, *dup;

	/* Nodes below iova lie under skipped region or segment entries. */
	while (w->cur && w->cur->iova < iova)
		w->cur = RB_NEXT(ims_shadow_tree, &s->tree, w->cur);
	n = w->cur && w->cur->iova == iova ? w->cur : NULL;

	if (!iommusim_zpci_pte_is_valid(pte)) {
		if (!n) {
			run_close(w);
			return 0;
		}
		/* Stale: drop it, return its entry, queue its unmap. */
		w->cur = RB_NEXT(ims_shadow_tree, &s->tree, n);
		RB_REMOVE(ims_shadow_tree, &s->tree, n);
		ims_free(n);
		atomic_fetch_sub_explicit(&s->nentries, 1, memory_order_relaxed);
		pool_put(s->pool, 1);
		w->res->unmaps++;
		run_extend(w, iova);
		return 0;
	}

	run_close(w);
	if (n) {
		w->cur = RB_NEXT(ims_shadow_tree, &s->tree, n);
		if (n->val != (pte & PTE_KEEP)) {
			/* Changed: unmapped and mapped again with the same entry. */
			n->val = pte & PTE_KEEP;
			w->res->remaps++;
			w->res->maps++;
		}
		return 0;
	}
	if (!pool_take(s->pool)) {
		w->skipped++;
		return 0;
	}
	n = ims_zalloc(sizeof(*n));
	if (!n) {
		pool_put(s->pool, 1);
		return -ENOMEM;
	}
	n->iova = iova;
	n->val = pte & PTE_KEEP;
	/* The new node sorts before w->cur, which stays the next one. */
	dup = RB_INSERT(ims_shadow_tree, &s->tree, n);
	ims_assert(dup == NULL);
	atomic_fetch_add_explicit(&s->nentries, 1, memory_order_relaxed);
	w->res->maps++;
	return 0;
}

/*
 * One pass over the pages [first, last] (page addresses, last < 4 TiB) of the
 * tables rooted at @rto. @return 0; -ENOMEM (the shadow stays consistent).
 */
static int
walk_pass(struct walk *w, uint64_t rto, uint64_t first, uint64_t last)
{
	struct iommusim_shadow_result *res = w->res;
	struct ims_shadow_node key = { .iova = first };
	uint64_t iova = first;
	int ret = 0;

	w->cur = RB_NFIND(ims_shadow_tree, &w->s->tree, &key);
	w->run_len = 0;
	w->skipped = 0;
	/* The tables are read as a device would, inside a read-side section. */
	ims_rcu_read_lock();
	while (iova <= last) {
		uint64_t region_end = (iova | (REGION_SIZE - 1)) + 1;
		uint64_t sto = iommusim_zpci_rte_sto(
			iommusim_zpci_entry_load(rto, iommusim_zpci_rtx(iova)));

		res->loads++;
		if (!sto) {
			res->region_skips++;
			run_close(w);
			iova = region_end;
			continue;
		}
		while (iova <= last && iova < region_end) {
			uint64_t seg_end = (iova | (SEG_SIZE - 1)) + 1;
			uint64_t pto = iommusim_zpci_ste_pto(
				iommusim_zpci_entry_load(sto, iommusim_zpci_sx(iova)));

			res->loads++;
			if (!pto) {
				res->segment_skips++;
				run_close(w);
				iova = seg_end;
				continue;
			}
			for (; iova <= last && iova < seg_end; iova += PG) {
				uint64_t pte =
					iommusim_zpci_entry_load(pto, iommusim_zpci_px(iova));

				res->loads++;
				res->walked_slots++;
				ret = visit_page(w, iova, pte);
				if (ret < 0)
					goto out;
			}
		}
	}
	run_close(w);
out:
	ims_rcu_read_unlock();
	return ret;
}

int
iommusim_shadow_refresh(struct iommusim_shadow *s, uint64_t table_origin, uint64_t pba,
			uint64_t pal, uint64_t addr, uint64_t range,
			struct iommusim_shadow_result *res)
{
	struct iommusim_shadow_result r = { 0 };
	struct walk w = { .s = s, .res = &r };
	uint64_t last, first_pg, last_pg;
	int ret;

	if (!s || !res || !range)
		return -EINVAL;
	last = addr + (range - 1);
	if (!table_origin || last < addr || addr < pba || last > pal ||
	    last >= IOMMUSIM_ZPCI_TABLE_SIZE_RT) {
		r.cc = IOMMUSIM_ZPCI_CC_ERR;
		r.status = IOMMUSIM_ZPCI_ST_FUNC_IN_ERR;
		*res = r;
		return 0;
	}
	first_pg = addr & PAGE_MASK;
	last_pg = last & PAGE_MASK;

	pthread_mutex_lock(&s->lock);
	ret = walk_pass(&w, table_origin, first_pg, last_pg);
	if (ret == 0 && w.skipped && pool_has_room(s->pool)) {
		r.second_pass = true;
		ret = walk_pass(&w, table_origin, first_pg, last_pg);
	}
	pthread_mutex_unlock(&s->lock);
	if (ret < 0)
		return ret;

	r.skipped = w.skipped;
	if (r.skipped) {
		r.cc = IOMMUSIM_ZPCI_CC_ERR;
		r.status = IOMMUSIM_ZPCI_ST_INSUF_RES;
	}
	*res = r;
	return 0;
}
