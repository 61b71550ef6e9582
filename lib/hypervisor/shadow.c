/* SPDX-License-Identifier: MIT */
/*
 * A hypervisor's shadow of a guest's s390 I/O translation tables, refreshed
 * by RPCIT (COST_MODEL.md §1.1), with the shared entry pool of a vfio
 * container (dma_entry_limit) and the status-16 answer on exhaustion.
 *
 * Data structure. QEMU keeps its shadow IOTLB in a GLib hash keyed by IOVA
 * (s390_pci_get_iommu: g_int64_hash); here it is a table keyed like the
 * guest's own (region, segment, page; shadow_int.h), which gives the same
 * observable behaviour at the cost of a table walk per lookup, and lets the
 * simulator skip work QEMU does not skip, while still counting it:
 *  - QEMU looks every page of a step up, even under an invalid region entry
 *    (524,288 lookups for 2 GiB). We count those lookups, but find the
 *    shadowed pages of the span from the tables' bitmaps of non-empty
 *    entries, so a global refresh of a 16 GiB window costs the simulator the
 *    populated pages, not 4 M hash probes. The platform charges the lookups.
 *  - refreshes of one shadow are serialised by contract (the hypervisor
 *    handles one RPCIT at a time), so a lock-free table would buy nothing;
 *    lookups from other threads take the shadow's mutex.
 * Only the pool is shared between threads, and it is a single atomic counter.
 *
 * What QEMU does that is kept (read in hw/s390x/s390-pci-inst.c, current
 * master and the history of 4a8d21ba50 and ef536007c3; docs/model.md):
 *  - every step walks from the root (no walk cache) and advances by the
 *    frame size where its walk stopped, from its own address;
 *  - the empty-pool check comes before the lookup, so with no entry left a
 *    valid page is skipped even when it is shadowed and unchanged;
 *  - a changed entry takes a new pool entry without returning the old one
 *    (QEMU's counter drifts down by one per remap; rare with Linux, which
 *    reuses an IOVA only after a global flush has removed the old entry);
 *  - status 16 whenever a limited pool is empty at the end.
 * What is not modelled, each unreachable by a Linux guest (whose RPCITs start
 * on a page boundary and whose tables only ever hold valid or invalid
 * entries): a range that starts inside a page is walked from its page (QEMU
 * would process the page after it twice), an all-zero table
 * entry (QEMU reports an error; Linux writes the invalid bits), 1 MiB
 * frame-format segments (Linux never sets FC), and the drift of QEMU's
 * counter when an IOAT is deregistered (QEMU empties its table without
 * returning entries; here destroying a shadow returns them).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#define NENT IOMMUSIM_ZPCI_TABLE_ENTRIES
#define NPTE IOMMUSIM_ZPCI_PT_ENTRIES

static inline void
bit_set(uint64_t *bm, unsigned i)
{
	bm[i / 64] |= UINT64_C(1) << (i % 64);
}

static inline void
bit_clear(uint64_t *bm, unsigned i)
{
	bm[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

static inline bool
bit_test(const uint64_t *bm, unsigned i)
{
	return bm[i / 64] >> (i % 64) & 1;
}

static bool
bits_empty(const uint64_t *bm, unsigned nbits)
{
	unsigned w;

	for (w = 0; w < nbits / 64; w++)
		if (bm[w])
			return false;
	return true;
}

/* The leaf of @iova's segment, or NULL if none was ever made. */
static inline struct ims_shadow_leaf *
leaf_of(const struct iommusim_shadow *s, uint64_t iova)
{
	const struct ims_shadow_region *rg = s->rgn[iommusim_zpci_rtx(iova)];

	return rg ? rg->seg[iommusim_zpci_sx(iova)] : NULL;
}

/* The leaf of @iova's segment, made if need be. @return NULL: no memory. */
static struct ims_shadow_leaf *
leaf_get(struct iommusim_shadow *s, uint64_t iova)
{
	struct ims_shadow_region **rg = &s->rgn[iommusim_zpci_rtx(iova)];
	struct ims_shadow_leaf **leaf;

	if (!*rg) {
		*rg = ims_zalloc(sizeof(**rg));
		if (!*rg)
			return NULL;
	}
	leaf = &(*rg)->seg[iommusim_zpci_sx(iova)];
	if (!*leaf)
		*leaf = ims_zalloc(sizeof(**leaf));
	return *leaf;
}

/* Shadow page @iova of @leaf (not shadowed yet) as @val. */
static void
page_set(struct iommusim_shadow *s, struct ims_shadow_leaf *leaf, uint64_t iova, uint64_t val)
{
	unsigned rx = iommusim_zpci_rtx(iova), sx = iommusim_zpci_sx(iova);

	leaf->val[iommusim_zpci_px(iova)] = val;
	bit_set(leaf->used, iommusim_zpci_px(iova));
	bit_set(s->rgn[rx]->used, sx);
	bit_set(s->used, rx);
	ims_solo_fetch_add(&s->nentries, 1);
}

/* Forget shadowed page @iova of @leaf. */
static void
page_clear(struct iommusim_shadow *s, struct ims_shadow_leaf *leaf, uint64_t iova)
{
	unsigned rx = iommusim_zpci_rtx(iova), sx = iommusim_zpci_sx(iova);

	bit_clear(leaf->used, iommusim_zpci_px(iova));
	if (bits_empty(leaf->used, NPTE)) {
		bit_clear(s->rgn[rx]->used, sx);
		if (bits_empty(s->rgn[rx]->used, NENT))
			bit_clear(s->used, rx);
	}
	ims_solo_fetch_sub(&s->nentries, 1);
}

/*
 * The first shadowed page in [@iova, @end), or @end (@end <= 4 TiB). Each
 * bitmap is read only as far as the range reaches, so an empty 1 MiB step
 * costs one bit.
 */
static uint64_t
next_shadowed(const struct iommusim_shadow *s, uint64_t iova, uint64_t end)
{
	uint64_t last = end - 1;
	unsigned rx_lim = iommusim_zpci_rtx(last) + 1;

	while (iova < end) {
		unsigned rx, sx, px, lim;
		const struct ims_shadow_region *rg;
		uint64_t base;

		rx = (unsigned)ims_bitmap_next_set(s->used, rx_lim, iommusim_zpci_rtx(iova));
		if (rx == rx_lim)
			return end;
		base = (uint64_t)rx << IOMMUSIM_ZPCI_RT_SHIFT;
		if (base > iova)
			iova = base;
		rg = s->rgn[rx];
		lim = rx == rx_lim - 1 ? iommusim_zpci_sx(last) + 1 : NENT;
		sx = (unsigned)ims_bitmap_next_set(rg->used, lim, iommusim_zpci_sx(iova));
		if (sx == lim) {
			iova = base + REGION_SIZE;
			continue;
		}
		base += (uint64_t)sx << IOMMUSIM_ZPCI_ST_SHIFT;
		if (base > iova)
			iova = base;
		lim = (last & ~(SEG_SIZE - 1)) == base ? iommusim_zpci_px(last) + 1 : NPTE;
		px = (unsigned)ims_bitmap_next_set(rg->seg[sx]->used, lim, iommusim_zpci_px(iova));
		if (px == lim) {
			iova = base + SEG_SIZE;
			continue;
		}
		return base + (uint64_t)px * PG;
	}
	return end;
}

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
	if (ims_solo) { /* the pool's only user (base/util_int.h) */
		if (!cur)
			return false;
		atomic_store_explicit(&pool->available, cur - 1, memory_order_relaxed);
		return true;
	}
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
	old = ims_solo_fetch_add(&pool->available, n);
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
iommusim_shadow_create(struct iommusim_shadow_pool *pool, const struct iommusim_shadow_cfg *cfg,
		       struct iommusim_shadow **out)
{
	struct iommusim_shadow *s;

	if (!pool || !out || (cfg && !IMS_RESERVED_ZERO(cfg, reserved0)))
		return -EINVAL;
	s = ims_zalloc(sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		ims_free(s);
		return -ENOMEM;
	}
	s->pool = pool;
	if (cfg)
		s->cfg = *cfg;
	atomic_init(&s->nentries, 0);
	*out = s;
	return 0;
}

void
iommusim_shadow_destroy(struct iommusim_shadow *s)
{
	uint64_t freed = 0;
	unsigned rx, sx, w;

	if (!s)
		return;
	for (rx = 0; rx < NENT; rx++) {
		struct ims_shadow_region *rg = s->rgn[rx];

		if (!rg)
			continue;
		for (sx = 0; sx < NENT; sx++) {
			struct ims_shadow_leaf *leaf = rg->seg[sx];

			if (!leaf)
				continue;
			for (w = 0; w < NPTE / 64; w++)
				freed += (uint64_t)__builtin_popcountll(leaf->used[w]);
			ims_free(leaf);
		}
		ims_free(rg);
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
	const struct ims_shadow_leaf *leaf;
	uint64_t val;
	int ret = -ENOENT;

	if (!s)
		return -EINVAL;
	if (iova >= IOMMUSIM_ZPCI_TABLE_SIZE_RT)
		return -ENOENT; /* beyond what a region table translates */
	ims_mutex_lock(shadow_lock(s));
	leaf = leaf_of(s, iova);
	if (leaf && bit_test(leaf->used, iommusim_zpci_px(iova))) {
		val = leaf->val[iommusim_zpci_px(iova)];
		if (frame_out)
			*frame_out = val & IOMMUSIM_ZPCI_PTE_ADDR_MASK;
		if (prot_out)
			*prot_out = (val & IOMMUSIM_ZPCI_TABLE_PROT_MASK) != 0;
		ret = 0;
	}
	ims_mutex_unlock(shadow_lock(s));
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

/* State of one refresh. */
struct walk {
	struct iommusim_shadow *s;
	struct iommusim_shadow_result *res;
	uint64_t run_pfn, run_len; /* the open run of invalid PTEs (run_len 0: none) */
	bool again; /* this pass skipped a valid page for want of entries */
};

/* The budget QEMU checks before each page: a limited pool's free entries. */
static bool
budget_left(const struct walk *w)
{
	return pool_has_room(w->s->pool);
}

/* Issue the open run's host unmaps (s390_pci_batch_unmap). */
static void
run_flush(struct walk *w)
{
	if (w->run_len) {
		w->res->unmap_calls += ims_shadow_unmap_chunks(w->run_pfn, w->run_len);
		w->run_len = 0;
	}
}

/* How a dropped page's host mapping goes. */
enum drop_unmap {
	UNMAP_NOW, /* one host unmap for the page (QEMU before 8.0) */
	UNMAP_IN_RUN, /* the open run's pieces unmap it (8.0, at an invalid PTE) */
	UNMAP_NEVER, /* none (8.0, under an invalid region or segment entry) */
};

/* Drop shadowed page @iova of @leaf: its entry goes back to the pool. */
static void
drop(struct walk *w, struct ims_shadow_leaf *leaf, uint64_t iova, enum drop_unmap how)
{
	struct iommusim_shadow *s = w->s;

	page_clear(s, leaf, iova);
	pool_put(s->pool, 1);
	w->res->unmaps++;
	if (how == UNMAP_NOW)
		w->res->unmap_calls++;
	else if (how == UNMAP_NEVER)
		w->res->silent_unmaps++;
}

/*
 * A step that stopped at an invalid region or segment entry: every page of
 * [first, end) is an unmap, looked up and dropped if shadowed. Before
 * coalescing each drop is one host unmap; with it, none (such pages never
 * join a run).
 */
static void
step_invalid_frame(struct walk *w, uint64_t first, uint64_t end)
{
	uint64_t iova;

	if (!w->s->cfg.skip_invalid_frames)
		w->res->lookups += (end - first) / PG;
	for (iova = next_shadowed(w->s, first, end); iova < end;
	     iova = next_shadowed(w->s, iova + PG, end)) {
		w->res->lookups += w->s->cfg.skip_invalid_frames;
		drop(w, leaf_of(w->s, iova), iova, w->s->cfg.no_coalesce ? UNMAP_NOW : UNMAP_NEVER);
	}
}

/* A step that reached page entry @pte of page @iova. @return 0; -ENOMEM */
IMS_NODISCARD static int
step_page(struct walk *w, uint64_t iova, uint64_t pte)
{
	struct iommusim_shadow *s = w->s;
	struct ims_shadow_leaf *leaf;
	bool valid = iommusim_zpci_pte_is_valid(pte);
	uint64_t *slot, keep = pte & PTE_KEEP;
	unsigned px;

	/* The coalescing state moves before the page is looked at. */
	if (!s->cfg.no_coalesce) {
		if (valid) {
			run_flush(w);
		} else if (w->run_len) {
			w->run_len++;
		} else {
			w->run_pfn = iova >> IOMMUSIM_PAGE_SHIFT;
			w->run_len = 1;
		}
	}
	if (valid && !budget_left(w)) {
		/* No entry left: skipped before any lookup, shadowed or not. */
		w->again = true;
		w->res->skipped++;
		return 0;
	}
	w->res->lookups++;
	leaf = leaf_of(s, iova);
	/* The bitmap first: a walk over invalid pages then reads one cache
	 * line per 512 pages instead of one per 8. */
	px = iommusim_zpci_px(iova);
	slot = leaf && bit_test(leaf->used, px) ? &leaf->val[px] : NULL;
	if (!valid) {
		if (slot)
			drop(w, leaf, iova, s->cfg.no_coalesce ? UNMAP_NOW : UNMAP_IN_RUN);
		return 0;
	}
	if (slot) {
		if (*slot == keep)
			return 0;
		/* Changed: a host unmap, then a map that takes a new entry; the
		 * old one is not given back (QEMU's counter drifts). */
		if (!pool_take(s->pool)) {
			w->again = true;
			w->res->skipped++;
			return 0;
		}
		*slot = keep;
		w->res->unmap_calls++;
		w->res->remaps++;
		w->res->maps++;
		return 0;
	}
	if (!pool_take(s->pool)) {
		/* Another shadow of the pool took the last entry meanwhile. */
		w->again = true;
		w->res->skipped++;
		return 0;
	}
	leaf = leaf ? leaf : leaf_get(s, iova);
	if (!leaf) {
		pool_put(s->pool, 1);
		return -ENOMEM;
	}
	page_set(s, leaf, iova, keep);
	w->res->maps++;
	return 0;
}

/*
 * One pass over [start, end) (end exclusive, at most 4 TiB) of the tables
 * rooted at @rto, step by step. @return 0; -ENOMEM (the shadow stays
 * consistent).
 */
IMS_NODISCARD static int
walk_pass(struct walk *w, uint64_t rto, uint64_t start, uint64_t end)
{
	struct iommusim_shadow_result *res = w->res;
	int ret = 0;

	w->run_len = 0;
	w->again = false;
	res->passes++;
	/* The tables are read as a device would, inside a read-side section. */
	ims_rcu_read_lock();
	while (start < end) {
		uint64_t page = start & PAGE_MASK, sto, pto, len, stop;

		res->steps++;
		res->loads++;
		sto = iommusim_zpci_rte_sto(
			iommusim_zpci_entry_load(rto, iommusim_zpci_rtx(start)));
		if (sto) {
			res->loads++;
			pto = iommusim_zpci_ste_pto(
				iommusim_zpci_entry_load(sto, iommusim_zpci_sx(start)));
			if (pto) {
				res->loads++;
				ret = step_page(
					w, page,
					iommusim_zpci_entry_load(pto, iommusim_zpci_px(start)));
				if (ret < 0)
					goto out;
				start = ims_add_sat(start, PG);
				continue;
			}
			res->segment_skips++;
			len = SEG_SIZE;
		} else {
			res->region_skips++;
			len = REGION_SIZE;
		}
		/* An invalid segment or region entry ends any run first, then
		 * the step covers the pages from its own page up to start + len. */
		run_flush(w);
		stop = IMS_MIN(ims_add_sat(start, len), end);
		step_invalid_frame(w, page, ((stop - 1) & PAGE_MASK) + PG);
		start = stop;
	}
	run_flush(w);
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
	uint64_t last, end;
	int ret;

	if (!s || !res || !range)
		return -EINVAL;
	last = addr + (range - 1);
	/* QEMU refuses a range only when it lies wholly outside [pba, pal],
	 * comparing its exclusive end with pba: a range ending just below pba
	 * is still walked. */
	if (!table_origin || last < addr || last >= IOMMUSIM_ZPCI_TABLE_SIZE_RT || last + 1 < pba ||
	    addr > pal) {
		r.cc = IOMMUSIM_ZPCI_CC_ERR;
		r.status = IOMMUSIM_ZPCI_ST_FUNC_IN_ERR;
		*res = r;
		return 0;
	}
	end = last + 1;

	ims_mutex_lock(&s->lock);
	do {
		r.skipped = 0;
		ret = walk_pass(&w, table_origin, addr & PAGE_MASK, end);
	} while (ret == 0 && w.again && !s->cfg.no_second_pass && budget_left(&w));
	ims_mutex_unlock(&s->lock);
	if (ret < 0)
		return ret;

	/* Status 16 whenever a limited pool is empty at the end. */
	if (s->pool->limit && !budget_left(&w)) {
		r.cc = IOMMUSIM_ZPCI_CC_ERR;
		r.status = IOMMUSIM_ZPCI_ST_INSUF_RES;
	}
	*res = r;
	return 0;
}
