/* SPDX-License-Identifier: MIT */
/*
 * The Linux IOVA allocator (KERNEL_SPEC §1): an rbtree of allocated ranges
 * searched top-down from cached hints, per-CPU magazines and a depot.
 *
 * The kernel finds room by walking predecessors one by one. Here every node
 * also carries the free gap below it and subtree aggregates (max gap, node
 * count), so the same answer is found in O(log n) and the kernel's walk
 * length is computed from node ranks instead of being paid (docs/iova.md).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
/* tree.h calls this after every local change of a node's children. */
#define RB_AUGMENT(x) iova_augment(x)

#include <iommusim/iova.h>

#include "kernel/iova_int.h"
#include "base/mem_int.h"
#include "base/util_int.h"

/*
 * Lock order: a CPU's rcache lock, then a bin's depot lock, then the tree
 * lock (the kernel's order: magazines are emptied into the tree while the
 * CPU or depot lock is held). hp_lock (CPU hotplug) comes before all of them.
 */

#define TRACE_ADD(tr, field, n)             \
	do {                                \
		if (tr)                     \
			(tr)->field += (n); \
	} while (0)

static void iova_augment(struct ims_iova *n);

IMS_NODISCARD static int
iova_cmp(const struct ims_iova *a, const struct ims_iova *b)
{
	return a->pfn_lo < b->pfn_lo ? -1 : a->pfn_lo > b->pfn_lo;
}

RB_GENERATE_STATIC(ims_iova_tree, ims_iova, rb, iova_cmp)

#define NODE_PREV(n) RB_PREV(ims_iova_tree, NULL, (n))
#define NODE_NEXT(n) RB_NEXT(ims_iova_tree, NULL, (n))

/* ---- augmented tree --------------------------------------------------- */

static inline uint64_t
sub_count(const struct ims_iova *n)
{
	return n ? n->count : 0;
}

static inline uint64_t
sub_max_gap(const struct ims_iova *n)
{
	return n ? n->max_gap : 0;
}

/*
 * The largest size whose 2^k-aligned placement fits in a gap [bottom, top):
 * the kernel's candidate (top - size) & mask clears the predecessor exactly
 * when top - align_up(bottom, 2^k) >= size. Saturated at UINT32_MAX.
 */
static inline uint32_t
aligned_fit(uint64_t bottom, uint64_t top, unsigned k)
{
	uint64_t align = UINT64_C(1) << k, start;

	if (bottom >= top || bottom > UINT64_MAX - (align - 1))
		return 0;
	start = (bottom + align - 1) & ~(align - 1);
	if (start >= top)
		return 0;
	return top - start > UINT32_MAX ? UINT32_MAX : (uint32_t)(top - start);
}

/* Set the free gap below @n, and its aligned fits. */
static void
node_set_gap(struct ims_iova *n, uint64_t gap)
{
	unsigned k;

	n->gap = gap;
	for (k = 1; k <= IMS_IOVA_FIT_ORDERS; k++)
		n->fit[k - 1] = aligned_fit(n->pfn_lo - gap, n->pfn_lo, k);
}

static void
iova_augment(struct ims_iova *n)
{
	const struct ims_iova *l = RB_LEFT(n, rb), *r = RB_RIGHT(n, rb);
	unsigned i;

	n->count = n->weight + sub_count(l) + sub_count(r);
	n->max_gap = IMS_MAX(n->gap, IMS_MAX(sub_max_gap(l), sub_max_gap(r)));
	for (i = 0; i < IMS_IOVA_FIT_ORDERS; i++) {
		uint32_t f = n->fit[i];

		if (l && l->max_fit[i] > f)
			f = l->max_fit[i];
		if (r && r->max_fit[i] > f)
			f = r->max_fit[i];
		n->max_fit[i] = f;
	}
}

/* Add @delta to the node counts of @n and its ancestors. */
static void
propagate_count(struct ims_iova *n, int delta)
{
	for (; n; n = RB_PARENT(n, rb))
		n->count += (uint64_t)(int64_t)delta;
}

/* Recompute the max aggregates from @n up after a change of its gap (counts
 * are not touched): stop where they hold still. */
static void
propagate_gap(struct ims_iova *n)
{
	for (; n; n = RB_PARENT(n, rb)) {
		uint32_t old_fit[IMS_IOVA_FIT_ORDERS];
		uint64_t old = n->max_gap;

		memcpy(old_fit, n->max_fit, sizeof(old_fit));
		iova_augment(n);
		if (n->max_gap == old && !memcmp(old_fit, n->max_fit, sizeof(old_fit)))
			break;
	}
}

static inline uint64_t
gap_below(const struct ims_iova *n, const struct ims_iova *pred)
{
	return n->pfn_lo - (pred ? pred->pfn_hi + 1 : 0);
}

/* Link a range that overlaps nothing; the caller holds the tree lock. */
static void
tree_link(struct iommusim_iova_domain *d, struct ims_iova *n)
{
	struct ims_iova *pred, *succ;

	/* Enter neutral, so the library's partial augment calls stay exact. */
	n->weight = 0;
	n->count = 0;
	n->max_gap = 0;
	node_set_gap(n, 0);
	memset(n->max_fit, 0, sizeof(n->max_fit));
	if (RB_INSERT(ims_iova_tree, &d->root, n))
		ims_assert(!"duplicate pfn_lo in the IOVA tree");
	pred = NODE_PREV(n);
	succ = NODE_NEXT(n);
	n->weight = 1;
	propagate_count(n, 1);
	node_set_gap(n, gap_below(n, pred));
	propagate_gap(n);
	if (succ) {
		node_set_gap(succ, gap_below(succ, n));
		propagate_gap(succ);
	}
}

/* Unlink a range; the caller holds the tree lock. */
static void
tree_unlink(struct iommusim_iova_domain *d, struct ims_iova *n)
{
	struct ims_iova *pred = NODE_PREV(n), *succ = NODE_NEXT(n);

	n->weight = 0;
	propagate_count(n, -1);
	node_set_gap(n, 0);
	propagate_gap(n);
	if (succ) {
		node_set_gap(succ, gap_below(succ, pred));
		propagate_gap(succ);
	}
	RB_REMOVE(ims_iova_tree, &d->root, n);
}

/* Number of nodes before @n in order. */
static uint64_t
node_rank(const struct ims_iova *n)
{
	uint64_t r = sub_count(RB_LEFT(n, rb));
	const struct ims_iova *p;

	for (; (p = RB_PARENT(n, rb)); n = p)
		if (n == RB_RIGHT(p, rb))
			r += sub_count(RB_LEFT(p, rb)) + p->weight;
	return r;
}

/* Lowest node with pfn_lo >= @pfn (the anchor bounds every search). */
static struct ims_iova *
nfind_lo(struct iommusim_iova_domain *d, uint64_t pfn)
{
	struct ims_iova key = { .pfn_lo = pfn };

	return RB_NFIND(ims_iova_tree, &d->root, &key);
}

/* The range containing @pfn (private_find_iova), counting visited nodes. */
static struct ims_iova *
find_containing(struct iommusim_iova_domain *d, uint64_t pfn, struct iommusim_iova_trace *tr)
{
	struct ims_iova *n = RB_ROOT(&d->root);
	uint64_t visited = 0;

	while (n) {
		visited++;
		if (pfn < n->pfn_lo)
			n = RB_LEFT(n, rb);
		else if (pfn > n->pfn_hi)
			n = RB_RIGHT(n, rb);
		else
			break;
	}
	TRACE_ADD(tr, lookup_nodes, visited);
	return n == &d->anchor ? NULL : n;
}

/*
 * The searches below look for gaps by one of two measures: f == 0 is the
 * gap's length, f == k (1..IMS_IOVA_FIT_ORDERS) the largest 2^k-aligned fit.
 */
static inline uint64_t
own_measure(const struct ims_iova *n, unsigned f)
{
	return f ? n->fit[f - 1] : n->gap;
}

static inline uint64_t
sub_measure(const struct ims_iova *n, unsigned f)
{
	return !n ? 0 : f ? n->max_fit[f - 1] : n->max_gap;
}

/* Rightmost node of subtree @n whose measure is >= @need (the subtree's is). */
static struct ims_iova *
rightmost_with(struct ims_iova *n, uint64_t need, unsigned f)
{
	for (;;) {
		struct ims_iova *r = RB_RIGHT(n, rb);

		if (sub_measure(r, f) >= need)
			n = r;
		else if (own_measure(n, f) >= need)
			return n;
		else
			n = RB_LEFT(n, rb);
		ims_assert(n);
	}
}

/* Nearest node before @n in order whose measure is >= @need, or NULL. */
static struct ims_iova *
prev_with(struct ims_iova *n, uint64_t need, unsigned f)
{
	struct ims_iova *l = RB_LEFT(n, rb), *p;

	if (sub_measure(l, f) >= need)
		return rightmost_with(l, need, f);
	for (; (p = RB_PARENT(n, rb)); n = p) {
		if (n != RB_RIGHT(p, rb))
			continue;
		if (own_measure(p, f) >= need)
			return p;
		l = RB_LEFT(p, rb);
		if (sub_measure(l, f) >= need)
			return rightmost_with(l, need, f);
	}
	return NULL;
}

/* ---- allocation (§1.3) -------------------------------------------------- */

struct walk {
	uint64_t size;
	uint64_t align_mask;
	uint64_t low; /* lowest acceptable pfn_lo */
	uint64_t limit; /* exclusive */
};

/*
 * One pass of the kernel's top-down walk (§1.3 step 4) starting at @start:
 * the highest size-aligned block in [low, min(limit, start->pfn_lo)) that
 * misses every range. The kernel checks, gap by gap going down, the highest
 * aligned candidate under the gap's top and stops at the first that clears
 * the predecessor, or when the candidate drops below `low`. Gaps smaller
 * than the size can never clear, so they are skipped through the max-gap
 * aggregates. When @nodes is given, the kernel's loop iterations are added.
 */
static bool
walk_pass(struct iommusim_iova_domain *d, struct ims_iova *start, const struct walk *w,
	  uint64_t *pfn_out, uint64_t *nodes)
{
	uint64_t high = IMS_MIN(w->limit, start->pfn_lo);
	struct ims_iova *q = nfind_lo(d, high), *stop;
	uint64_t align = ~w->align_mask + 1, lowest_top;
	unsigned k = ims_fls64(align) - 1, f;
	bool found = false;

	/* With an exact measure for this alignment the first gap found is the
	 * kernel's; otherwise gap >= size only filters, and the loop goes on. */
	f = k <= IMS_IOVA_FIT_ORDERS && w->size <= UINT32_MAX ? k : 0;
	ims_assert(q);
	while (q) {
		uint64_t top = IMS_MIN(high, q->pfn_lo), cand;

		if (top < w->size)
			break;
		cand = (top - w->size) & w->align_mask;
		if (cand < w->low)
			break;
		/* q->pfn_lo - q->gap is one past the predecessor's end (or 0). */
		if (cand >= q->pfn_lo - q->gap) {
			*pfn_out = cand;
			found = true;
			break;
		}
		q = prev_with(q, w->size, f);
	}
	if (!nodes)
		return found;
	if (found) {
		stop = q;
	} else {
		/* The kernel stops at the first node whose candidate falls below
		 * `low` (or wraps): min(high, lo) < align_up(low) + size. */
		lowest_top = w->low > UINT64_MAX - (align - 1) ?
				     UINT64_MAX :
				     ims_add_sat((w->low + align - 1) & w->align_mask, w->size);
		if (high < lowest_top) {
			stop = start;
		} else {
			stop = NODE_PREV(nfind_lo(d, lowest_top));
			ims_assert(stop);
		}
	}
	*nodes += node_rank(start) - node_rank(stop) + 1;
	return found;
}

/* Start of the retry pass (iova_find_limit): the anchor above 4 GiB, else
 * the lowest range ending at or above the limit. */
static struct ims_iova *
find_limit(struct iommusim_iova_domain *d, uint64_t limit)
{
	struct ims_iova *x, *p;

	if (limit > d->dma_32bit_pfn)
		return &d->anchor;
	x = nfind_lo(d, limit);
	p = NODE_PREV(x);
	return p && p->pfn_hi >= limit ? p : x;
}

/* __alloc_and_insert_iova_range(); the caller holds the tree lock. */
IMS_NODISCARD static int
alloc_range(struct iommusim_iova_domain *d, uint64_t size, uint64_t limit_pfn, bool aligned,
	    struct ims_iova *n, struct iommusim_iova_trace *tr)
{
	struct walk w = {
		.size = size,
		.align_mask = aligned ? ~UINT64_C(0) << ims_fls64(size - 1) : ~UINT64_C(0),
		.low = d->start_pfn,
		.limit = limit_pfn + 1,
	};
	uint64_t nodes = 0, retry_pfn, pfn = 0;
	struct ims_iova *start;
	bool found;

	/* §1.3 step 2: the 32-bit fast fail. */
	if (w.limit <= d->dma_32bit_pfn && size >= d->max32_alloc_size) {
		TRACE_ADD(tr, fast_fails, 1);
		return -ENOMEM;
	}
	start = w.limit <= d->dma_32bit_pfn ? d->cached32_node : d->cached_node;
	retry_pfn = start->pfn_hi;
	found = walk_pass(d, start, &w, &pfn, tr ? &nodes : NULL);
	TRACE_ADD(tr, walk_passes, 1);
	/* §1.3 step 5: one more pass over the part above the cached node. (The
	 * kernel would loop again if retry_pfn + 1 == start_pfn; we stop.) With
	 * limit <= start_pfn the first pass has failed at its first node (its
	 * candidate lies below start_pfn, or wrapped) and there is no retry: a
	 * cached node always ends at or above start_pfn, hence at or above the
	 * limit. So the allocation fails below and sets max32_alloc_size. */
	if (!found && retry_pfn < w.limit) {
		w.low = retry_pfn + 1;
		found = walk_pass(d, find_limit(d, w.limit), &w, &pfn, tr ? &nodes : NULL);
		TRACE_ADD(tr, walk_passes, 1);
	}
	TRACE_ADD(tr, walk_nodes, nodes);
	if (!found) {
		/* Set even when the limit is above 4 GiB, as the kernel does. */
		d->max32_alloc_size = size;
		return -ENOMEM;
	}
	n->pfn_lo = pfn;
	n->pfn_hi = pfn + size - 1;
	tree_link(d, n);
	TRACE_ADD(tr, tree_inserts, 1);
	/* §1.3 step 6: classify by pfn_hi. */
	if (n->pfn_hi < d->dma_32bit_pfn)
		d->cached32_node = n;
	else
		d->cached_node = n;
	return 0;
}

/* __cached_rbnode_delete_update() + rb_erase (§1.4); tree lock held. */
static void
remove_node(struct iommusim_iova_domain *d, struct ims_iova *n, struct iommusim_iova_trace *tr)
{
	struct ims_iova *c32 = d->cached32_node;

	if (n == c32 || (n->pfn_hi < d->dma_32bit_pfn && n->pfn_lo >= c32->pfn_lo))
		d->cached32_node = NODE_NEXT(n);
	/* Note the asymmetry: insert classifies by pfn_hi, this by pfn_lo. */
	if (n->pfn_lo < d->dma_32bit_pfn)
		d->max32_alloc_size = d->dma_32bit_pfn;
	if (n->pfn_lo >= d->cached_node->pfn_lo)
		d->cached_node = NODE_NEXT(n);
	tree_unlink(d, n);
	TRACE_ADD(tr, tree_erases, 1);
}

IMS_NODISCARD static int
check_alloc_args(const struct iommusim_iova_domain *d, uint64_t size, uint64_t limit_pfn)
{
	/* 1 <= size <= 2^62 (one unsigned comparison: this sits on the fast
	 * path) and a limit below the anchor, where limit + 1 would wrap. A
	 * limit under start_pfn is no misuse: dma-iommu's 32-bit attempt makes
	 * one when the aperture starts above 4 GiB (§2.8 step 3), and the
	 * kernel runs the whole allocation and fails it (§1.3 steps 4-5, §1.8;
	 * docs/iova.md). */
	if (!d || size - 1 >= (UINT64_C(1) << 62) || limit_pfn == IOMMUSIM_IOVA_ANCHOR_PFN)
		return -EINVAL;
	return 0;
}

/* alloc_iova(): allocate the node first, as the kernel does (GFP_ATOMIC). */
IMS_NODISCARD static int
tree_alloc(struct iommusim_iova_domain *d, uint64_t size, uint64_t limit_pfn, bool aligned,
	   uint64_t *pfn_lo, struct iommusim_iova_trace *tr)
{
	struct ims_iova *n = ims_zalloc(sizeof(*n));
	int ret;

	if (!n)
		return -ENOMEM;
	ims_spin_lock(&d->lock);
	ret = alloc_range(d, size, limit_pfn, aligned, n, tr);
	if (!ret)
		*pfn_lo = n->pfn_lo;
	ims_spin_unlock(&d->lock);
	if (ret)
		ims_free(n);
	return ret;
}

int
iommusim_iova_alloc(struct iommusim_iova_domain *d, uint64_t size, uint64_t limit_pfn,
		    bool size_aligned, uint64_t *pfn_lo_out, struct iommusim_iova_trace *tr)
{
	uint64_t pfn;
	int ret;

	if (!pfn_lo_out)
		return -EINVAL;
	ret = check_alloc_args(d, size, limit_pfn);
	if (ret)
		return ret;
	ret = tree_alloc(d, size, limit_pfn, size_aligned, &pfn, tr);
	if (!ret)
		*pfn_lo_out = pfn;
	return ret;
}

/* ---- domain ------------------------------------------------------------- */

int
iommusim_iova_domain_create(const struct iommusim_iova_cfg *cfg, struct iommusim_iova_domain **out)
{
	struct iommusim_iova_domain *d;
	uint64_t granule;

	if (!cfg || !out)
		return -EINVAL;
	granule = cfg->granule ? cfg->granule : IOMMUSIM_PAGE_SIZE;
	/* §1.2 step 1: the kernel BUGs on these. */
	if (granule > IOMMUSIM_PAGE_SIZE || !ims_is_pow2(granule))
		return -EINVAL;
	d = ims_aligned_zalloc(sizeof(*d), IMS_CACHELINE);
	if (!d)
		return -ENOMEM;
	ims_spin_init(&d->lock);
	RB_INIT(&d->root);
	d->granule = granule;
	d->shift = ims_fls64(granule) - 1;
	d->start_pfn = cfg->start_pfn;
	d->dma_32bit_pfn = UINT64_C(1) << (32 - d->shift);
	d->max32_alloc_size = d->dma_32bit_pfn;
	d->anchor.pfn_lo = d->anchor.pfn_hi = IOMMUSIM_IOVA_ANCHOR_PFN;
	tree_link(d, &d->anchor);
	d->cached_node = d->cached32_node = &d->anchor;
	*out = d;
	return 0;
}

/* Free the magazines without returning their pfns (the tree goes too, or
 * was never touched); cancels pending depot work. */
static void
rcaches_free(struct iommusim_iova_domain *d)
{
	unsigned bin, cpu;

	for (bin = 0; d->rcaches && bin < IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE; bin++) {
		struct ims_iova_rcache *rc = &d->rcaches[bin];

		if (rc->work_pending && d->timer && d->timer->cancel)
			d->timer->cancel(d->timer_priv, bin);
		while (rc->depot) {
			struct ims_iova_mag *m = rc->depot;

			rc->depot = m->next;
			ims_free(m);
		}
	}
	for (cpu = 0; d->cpus && cpu < d->ncpus; cpu++) {
		for (bin = 0; bin < IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE; bin++) {
			struct ims_iova_cpu_rcache *c = ims_iova_cpu_rcache(d, bin, cpu);

			ims_free(c->loaded);
			ims_free(c->prev);
		}
	}
	ims_free(d->rcaches);
	ims_free(d->cpus);
	d->rcaches = NULL;
	d->cpus = NULL;
	d->ncpus = 0;
	d->fast_ncpus = 0;
}

void
iommusim_iova_domain_destroy(struct iommusim_iova_domain *d)
{
	struct ims_iova *n, *p;

	if (!d)
		return;
	if (d->rcaches) {
		rcaches_free(d);
		pthread_mutex_destroy(&d->hp_lock);
	}
	/* Post-order teardown, detaching each leaf from its parent. */
	n = RB_ROOT(&d->root);
	while (n) {
		if (RB_LEFT(n, rb)) {
			n = RB_LEFT(n, rb);
			continue;
		}
		if (RB_RIGHT(n, rb)) {
			n = RB_RIGHT(n, rb);
			continue;
		}
		p = RB_PARENT(n, rb);
		if (p) {
			if (RB_LEFT(p, rb) == n)
				RB_LEFT(p, rb) = NULL;
			else
				RB_RIGHT(p, rb) = NULL;
		}
		if (n != &d->anchor)
			ims_free(n);
		n = p;
	}
	ims_free(d);
}

/* ---- find, free, reserve (§1.5, §1.6) ----------------------------------- */

int
iommusim_iova_find(struct iommusim_iova_domain *d, uint64_t pfn, struct iommusim_iova_range *out,
		   struct iommusim_iova_trace *tr)
{
	struct ims_iova *n;
	int ret = -ENOENT;

	if (!d || !out)
		return -EINVAL;
	ims_spin_lock(&d->lock);
	n = find_containing(d, pfn, tr);
	if (n) {
		out->pfn_lo = n->pfn_lo;
		out->pfn_hi = n->pfn_hi;
		ret = 0;
	}
	ims_spin_unlock(&d->lock);
	return ret;
}

int
iommusim_iova_free(struct iommusim_iova_domain *d, uint64_t pfn, struct iommusim_iova_trace *tr)
{
	struct ims_iova *n;
	int ret = 0;

	if (!d)
		return -EINVAL;
	ims_spin_lock(&d->lock);
	n = find_containing(d, pfn, tr);
	if (!n)
		ret = -ENOENT;
	else if (n->cached)
		ret = -EBUSY;
	else
		remove_node(d, n, tr);
	ims_spin_unlock(&d->lock);
	if (!ret)
		ims_free(n);
	return ret;
}

/* Change a node's pfn_lo in place (reserve extends ranges downwards). */
static void
node_set_lo(struct ims_iova *n, uint64_t pfn_lo)
{
	n->pfn_lo = pfn_lo;
	node_set_gap(n, gap_below(n, NODE_PREV(n)));
	propagate_gap(n);
}

int
iommusim_iova_reserve(struct iommusim_iova_domain *d, uint64_t pfn_lo, uint64_t pfn_hi,
		      struct iommusim_iova_range *out, struct iommusim_iova_trace *tr)
{
	struct ims_iova *n, *x, *result = NULL;
	uint64_t visited = 0, kernel_nodes;
	bool overlap = false;
	int ret = 0;

	/* §1.6 step 1; also keep off the anchor's pfn (granule 1 could reach it). */
	if (!d || pfn_lo > pfn_hi || (pfn_hi | pfn_lo) > (UINT64_MAX >> d->shift) ||
	    pfn_hi >= IOMMUSIM_IOVA_ANCHOR_PFN)
		return -EINVAL;
	ims_spin_lock(&d->lock);
	/* The kernel scans from the first node; nodes ending below pfn_lo can
	 * never overlap, so start at the first that ends at or above it. */
	x = nfind_lo(d, pfn_lo);
	n = NODE_PREV(x);
	if (!n || n->pfn_hi < pfn_lo)
		n = x;
	kernel_nodes = tr ? node_rank(n) : 0;
	for (; n; n = NODE_NEXT(n)) {
		visited++;
		if (pfn_lo <= n->pfn_hi && pfn_hi >= n->pfn_lo) {
			/* __adjust_overlap_range(): grow the node down, move on. */
			if (pfn_lo < n->pfn_lo)
				node_set_lo(n, pfn_lo);
			if (pfn_hi > n->pfn_hi)
				pfn_lo = n->pfn_hi + 1;
			if (pfn_lo >= n->pfn_lo && pfn_hi <= n->pfn_hi) {
				result = n;
				break;
			}
			overlap = true;
		} else {
			break;
		}
	}
	if (tr) {
		/* Without any overlap the kernel's scan runs to the anchor. */
		kernel_nodes = overlap || result ? kernel_nodes + visited : d->root.rbh_root->count;
		tr->reserve_nodes += kernel_nodes;
	}
	if (!result) {
		result = ims_zalloc(sizeof(*result));
		if (result) {
			result->pfn_lo = pfn_lo;
			result->pfn_hi = pfn_hi;
			tree_link(d, result);
			TRACE_ADD(tr, tree_inserts, 1);
		} else {
			ret = -ENOMEM;
		}
	}
	if (!ret && out) {
		out->pfn_lo = result->pfn_lo;
		out->pfn_hi = result->pfn_hi;
	}
	ims_spin_unlock(&d->lock);
	return ret;
}

/* ---- rcaches (§1.7, §1.8) ----------------------------------------------- */

static struct ims_iova_mag *
mag_alloc(void)
{
	return ims_zalloc(sizeof(struct ims_iova_mag));
}

static inline bool
mag_full(const struct ims_iova_mag *m)
{
	return m->size == IOMMUSIM_IOVA_MAG_SIZE;
}

static inline bool
mag_empty(const struct ims_iova_mag *m)
{
	return m->size == 0;
}

/* Pop from the top the first pfn <= limit; the last entry fills its slot.
 * 0 means none fits (so, as in the kernel, a cached pfn 0 is lost). */
static inline uint64_t
mag_pop(struct ims_iova_mag *m, uint64_t limit)
{
	uint64_t i, pfn;

	for (i = m->size; i-- > 0;) {
		if (m->pfns[i] <= limit) {
			pfn = m->pfns[i];
			m->pfns[i] = m->pfns[--m->size];
			return pfn;
		}
	}
	return 0;
}

/* iova_magazine_free_pfns(): return every pfn to the tree, empty the magazine. */
static void
mag_free_pfns(struct iommusim_iova_domain *d, struct ims_iova_mag *m,
	      struct iommusim_iova_trace *tr)
{
	uint64_t i;

	if (mag_empty(m))
		return;
	ims_spin_lock(&d->lock);
	for (i = 0; i < m->size; i++) {
		struct ims_iova *n = find_containing(d, m->pfns[i], tr);

		if (!n) /* the kernel warns and skips */
			continue;
		remove_node(d, n, tr);
		ims_free(n);
	}
	ims_spin_unlock(&d->lock);
	TRACE_ADD(tr, pfns_to_tree, m->size);
	m->size = 0;
}

static bool
cpu_usable(const struct iommusim_iova_domain *d, unsigned cpu)
{
	/* ncpus is 0 while there are no rcaches. */
	return cpu < d->ncpus && __atomic_load_n(&d->cpus[cpu].online, __ATOMIC_RELAXED);
}

/* Schedule a bin's depot work unless pending; bin lock held. Returns whether
 * the caller must call the timer once it has dropped its locks. */
static bool
depot_work_arm_locked(struct iommusim_iova_domain *d, struct ims_iova_rcache *rc)
{
	if (!d->timer || rc->work_pending)
		return false;
	rc->work_pending = true;
	return true;
}

static void
depot_work_schedule(struct iommusim_iova_domain *d, unsigned bin, struct iommusim_iova_trace *tr)
{
	TRACE_ADD(tr, depot_schedules, 1);
	d->timer->schedule(d->timer_priv, bin, IOMMUSIM_IOVA_DEPOT_DELAY_MS);
}

/* The rest of __iova_rcache_insert() once `loaded` is full: swap in `prev`,
 * or push `loaded` to the depot behind a new magazine. Drops @c's lock. */
static __attribute__((noinline)) bool
rcache_insert_full(struct iommusim_iova_domain *d, struct ims_iova_cpu_rcache *c, uint64_t pfn,
		   unsigned bin, struct iommusim_iova_trace *tr)
{
	struct ims_iova_rcache *rc = &d->rcaches[bin];
	struct ims_iova_mag *mag_to_free = NULL, *m;
	bool can_insert = false, schedule = false;

	if (!mag_full(c->prev)) {
		m = c->prev;
		c->prev = c->loaded;
		c->loaded = m;
		TRACE_ADD(tr, mag_swaps, 1);
		can_insert = true;
	} else if ((m = mag_alloc())) {
		ims_spin_lock(&rc->lock);
		if (d->depot_kind == IOMMUSIM_IOVA_DEPOT_LIST ||
		    rc->depot_size < IOMMUSIM_IOVA_MAX_GLOBAL_MAGS) {
			c->loaded->next = rc->depot;
			rc->depot = c->loaded;
			rc->depot_size++;
			TRACE_ADD(tr, depot_pushes, 1);
			if (d->depot_kind == IOMMUSIM_IOVA_DEPOT_LIST)
				schedule = depot_work_arm_locked(d, rc);
		} else {
			/* pre-6.7: the depot is full, the magazine goes back. */
			mag_to_free = c->loaded;
		}
		ims_spin_unlock(&rc->lock);
		c->loaded = m;
		can_insert = true;
	}
	if (can_insert)
		c->loaded->pfns[c->loaded->size++] = pfn;
	ims_spin_unlock(&c->lock);

	if (schedule)
		depot_work_schedule(d, bin, tr);
	if (mag_to_free) {
		mag_free_pfns(d, mag_to_free, tr);
		ims_free(mag_to_free);
		TRACE_ADD(tr, mags_freed, 1);
	}
	return can_insert;
}

/* __iova_rcache_insert(): the common case inline, the rest out of line. */
static inline bool
rcache_insert(struct iommusim_iova_domain *d, unsigned cpu, uint64_t pfn, unsigned bin,
	      struct iommusim_iova_trace *tr)
{
	struct ims_iova_cpu_rcache *c = ims_iova_cpu_rcache(d, bin, cpu);

	ims_spin_lock(&c->lock);
	if (__builtin_expect(mag_full(c->loaded), 0))
		return rcache_insert_full(d, c, pfn, bin, tr);
	c->loaded->pfns[c->loaded->size++] = pfn;
	ims_spin_unlock(&c->lock);
	return true;
}

/* The rest of __iova_rcache_get() once `loaded` is empty: swap in `prev`,
 * or replace `loaded` by a full magazine from the depot. @c's lock is held. */
static __attribute__((noinline)) uint64_t
rcache_get_refill(struct iommusim_iova_domain *d, struct ims_iova_cpu_rcache *c, unsigned bin,
		  uint64_t limit, struct iommusim_iova_trace *tr)
{
	struct ims_iova_rcache *rc = &d->rcaches[bin];
	struct ims_iova_mag *m;
	bool has_pfn = false;

	if (!mag_empty(c->prev)) {
		m = c->prev;
		c->prev = c->loaded;
		c->loaded = m;
		TRACE_ADD(tr, mag_swaps, 1);
		has_pfn = true;
	} else {
		ims_spin_lock(&rc->lock);
		if (rc->depot) {
			ims_free(c->loaded);
			c->loaded = rc->depot;
			rc->depot = c->loaded->next;
			c->loaded->next = NULL;
			rc->depot_size--;
			TRACE_ADD(tr, depot_pops, 1);
			has_pfn = true;
		}
		ims_spin_unlock(&rc->lock);
	}
	return has_pfn ? mag_pop(c->loaded, limit) : 0;
}

/* __iova_rcache_get(); @limit is limit_pfn + 1 - size, wrapping as in the kernel. */
static inline uint64_t
rcache_get(struct iommusim_iova_domain *d, unsigned cpu, unsigned bin, uint64_t limit,
	   struct iommusim_iova_trace *tr)
{
	struct ims_iova_cpu_rcache *c = ims_iova_cpu_rcache(d, bin, cpu);
	uint64_t pfn;

	ims_spin_lock(&c->lock);
	if (__builtin_expect(!mag_empty(c->loaded), 1))
		pfn = mag_pop(c->loaded, limit);
	else
		pfn = rcache_get_refill(d, c, bin, limit, tr);
	ims_spin_unlock(&c->lock);
	return pfn;
}

static void
cpu_cache_flush(struct iommusim_iova_domain *d, unsigned cpu, struct iommusim_iova_trace *tr)
{
	unsigned bin;

	for (bin = 0; bin < IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE; bin++) {
		struct ims_iova_cpu_rcache *c = ims_iova_cpu_rcache(d, bin, cpu);

		ims_spin_lock(&c->lock);
		mag_free_pfns(d, c->loaded, tr);
		mag_free_pfns(d, c->prev, tr);
		ims_spin_unlock(&c->lock);
	}
}

static void
global_cache_flush(struct iommusim_iova_domain *d, struct iommusim_iova_trace *tr)
{
	unsigned bin;

	for (bin = 0; bin < IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE; bin++) {
		struct ims_iova_rcache *rc = &d->rcaches[bin];

		ims_spin_lock(&rc->lock);
		while (rc->depot) {
			struct ims_iova_mag *m = rc->depot;

			rc->depot = m->next;
			rc->depot_size--;
			mag_free_pfns(d, m, tr);
			ims_free(m);
			TRACE_ADD(tr, mags_freed, 1);
		}
		ims_spin_unlock(&rc->lock);
	}
}

int
iommusim_iova_rcaches_init(struct iommusim_iova_domain *d,
			   const struct iommusim_iova_rcache_cfg *cfg)
{
	unsigned bin, cpu, ncpus;
	bool unchecked;

	if (!d || !cfg || !IMS_RESERVED_ZERO(cfg, reserved0))
		return -EINVAL;
	ncpus = cfg->ncpus ? cfg->ncpus : 1;
	unchecked = cfg->flags & IOMMUSIM_IOVA_RCACHE_UNCHECKED;
	if (ncpus > IOMMUSIM_IOVA_MAX_CPUS ||
	    (cfg->depot != IOMMUSIM_IOVA_DEPOT_LIST && cfg->depot != IOMMUSIM_IOVA_DEPOT_ARRAY32) ||
	    (cfg->flags & ~(unsigned)IOMMUSIM_IOVA_RCACHE_UNCHECKED) ||
	    (cfg->timer && !cfg->timer->schedule))
		return -EINVAL;
	if (d->rcaches)
		return -EEXIST;
	d->rcaches = ims_zalloc(IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE * sizeof(*d->rcaches));
	d->cpus = ims_aligned_zalloc(ncpus * sizeof(*d->cpus), IMS_CACHELINE);
	if (!d->rcaches || !d->cpus)
		goto err;
	/* From here on rcaches_free() can undo whatever was done. */
	d->ncpus = ncpus;
	for (bin = 0; bin < IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE; bin++)
		ims_spin_init(&d->rcaches[bin].lock);
	for (cpu = 0; cpu < ncpus; cpu++) {
		for (bin = 0; bin < IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE; bin++) {
			struct ims_iova_cpu_rcache *c = ims_iova_cpu_rcache(d, bin, cpu);

			ims_spin_init(&c->lock);
			c->loaded = mag_alloc();
			c->prev = mag_alloc();
			if (!c->loaded || !c->prev)
				goto err;
		}
		d->cpus[cpu].online = true;
	}
	d->nr_online = ncpus;
	d->fast_ncpus = unchecked ? ncpus : 0;
	d->depot_kind = cfg->depot;
	d->timer = cfg->timer;
	d->timer_priv = cfg->timer_priv;
	d->checked = !unchecked;
	pthread_mutex_init(&d->hp_lock, NULL);
	return 0;
err:
	rcaches_free(d);
	return -ENOMEM;
}

/* Checked rcaches: a pfn taken from a magazine is owned by the caller again. */
static __attribute__((noinline)) void
uncache(struct iommusim_iova_domain *d, uint64_t pfn)
{
	struct ims_iova *n;

	ims_spin_lock(&d->lock);
	n = find_containing(d, pfn, NULL);
	ims_assert(n && n->cached);
	n->cached = false;
	ims_spin_unlock(&d->lock);
}

/* alloc_iova_fast() after a cache miss: the tree, then flush and retry. */
static __attribute__((noinline)) int
alloc_fast_tree(struct iommusim_iova_domain *d, uint64_t size, uint64_t limit_pfn,
		bool flush_rcache, uint64_t *pfn_out, struct iommusim_iova_trace *tr)
{
	uint64_t pfn;
	unsigned cpu;
	int ret;

	TRACE_ADD(tr, rcache_misses, 1);
	for (;;) {
		ret = tree_alloc(d, size, limit_pfn, true, &pfn, tr);
		if (!ret) {
			*pfn_out = pfn;
			return 0;
		}
		if (!flush_rcache)
			return ret;
		/* §1.8 step 4: give every cached pfn back and try once more. */
		flush_rcache = false;
		TRACE_ADD(tr, rcache_flush_retries, 1);
		for (cpu = 0; cpu < d->ncpus; cpu++)
			if (__atomic_load_n(&d->cpus[cpu].online, __ATOMIC_RELAXED))
				cpu_cache_flush(d, cpu, tr);
		global_cache_flush(d, tr);
	}
}

/* alloc_iova_fast() in full (§1.8), for everything but the common case. */
static __attribute__((noinline)) int
alloc_fast_slow(struct iommusim_iova_domain *d, unsigned cpu, uint64_t size, uint64_t limit_pfn,
		bool flush_rcache, uint64_t *pfn_out, struct iommusim_iova_trace *tr)
{
	unsigned bin = ims_order_base_2(size);
	uint64_t pfn = 0;

	if (!cpu_usable(d, cpu))
		return -EINVAL;
	/* §1.8 step 1: sizes below 32 are rounded up to a power of two (32
	 * itself is one); only those sizes have a bin to try. */
	if (bin < IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE) {
		size = UINT64_C(1) << bin;
		pfn = rcache_get(d, cpu, bin, limit_pfn + 1 - size, tr);
	}
	if (!pfn)
		return alloc_fast_tree(d, size, limit_pfn, flush_rcache, pfn_out, tr);
	TRACE_ADD(tr, rcache_hits, 1);
	if (d->checked)
		uncache(d, pfn);
	*pfn_out = pfn;
	return 0;
}

/*
 * The common case inline: the CPU's lock is free and the top pfn of its
 * loaded magazine fits. Anything else (a CPU the slow path must validate,
 * checked rcaches, an uncacheable size, a contended lock, a miss) runs the
 * kernel's whole sequence in alloc_fast_slow(), which takes the lock itself:
 * the same choice, as if the call had come a moment later. One exit to the
 * slow path and a try-lock keep the hot path short; sizes are rounded before
 * the lock, which alloc_fast_slow() would do to them anyway.
 */
int
iommusim_iova_alloc_fast(struct iommusim_iova_domain *d, unsigned cpu, uint64_t size,
			 uint64_t limit_pfn, bool flush_rcache, uint64_t *pfn_out,
			 struct iommusim_iova_trace *tr)
{
	struct ims_iova_cpu_rcache *c;
	struct ims_iova_mag *m;
	uint64_t n, pfn;
	unsigned bin;

	if (check_alloc_args(d, size, limit_pfn) || !pfn_out)
		return -EINVAL;
	bin = ims_order_base_2(size);
	if (bin >= IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE ||
	    cpu >= __atomic_load_n(&d->fast_ncpus, __ATOMIC_RELAXED))
		goto slow;
	/* §1.8 step 1: sizes below 32 are rounded up to a power of two (32
	 * itself is one), so that they share bins. */
	size = UINT64_C(1) << bin;
	c = ims_iova_cpu_rcache(d, bin, cpu);
	if (__builtin_expect(!ims_spin_trylock(&c->lock), 0))
		goto slow;
	m = c->loaded;
	n = m->size;
	/* §1.7 get/pop: only the top pfn is tried here; the slow path does the rest. */
	if (__builtin_expect(!n || (pfn = m->pfns[n - 1]) > limit_pfn + 1 - size, 0)) {
		ims_spin_unlock(&c->lock);
		goto slow;
	}
	m->size = n - 1;
	ims_spin_unlock(&c->lock);
	/* A cached pfn 0 reads as a miss and is lost, as in the kernel. */
	if (__builtin_expect(!pfn, 0))
		return alloc_fast_tree(d, size, limit_pfn, flush_rcache, pfn_out, tr);
	TRACE_ADD(tr, rcache_hits, 1);
	*pfn_out = pfn;
	return 0;
slow:
	return alloc_fast_slow(d, cpu, size, limit_pfn, flush_rcache, pfn_out, tr);
}

/* Checked rcaches: validate a fast free and claim the range for the cache. */
static __attribute__((noinline)) int
claim_for_cache(struct iommusim_iova_domain *d, uint64_t pfn, uint64_t size, bool cacheable)
{
	struct ims_iova *n;
	uint64_t nsize;
	int ret = 0;

	ims_spin_lock(&d->lock);
	n = find_containing(d, pfn, NULL);
	if (!n || n->pfn_lo != pfn) {
		ret = -ENOENT;
	} else if (n->cached) {
		ret = -EBUSY;
	} else {
		nsize = n->pfn_hi - n->pfn_lo + 1;
		if (size > nsize || ims_order_base_2(size) != ims_order_base_2(nsize))
			ret = -EINVAL;
		else
			n->cached = cacheable;
	}
	ims_spin_unlock(&d->lock);
	return ret;
}

/* free_iova() for a fast free that was not cached: silently nothing if the
 * pfn is unknown (only possible with unchecked rcaches). */
static __attribute__((noinline)) void
free_fast_to_tree(struct iommusim_iova_domain *d, uint64_t pfn, struct iommusim_iova_trace *tr)
{
	struct ims_iova *n;

	TRACE_ADD(tr, rcache_rejects, 1);
	ims_spin_lock(&d->lock);
	n = find_containing(d, pfn, tr);
	if (n) {
		n->cached = false;
		remove_node(d, n, tr);
	}
	ims_spin_unlock(&d->lock);
	ims_free(n);
}

/* free_iova_fast() in full (§1.8), for everything but the common case. */
static __attribute__((noinline)) int
free_fast_slow(struct iommusim_iova_domain *d, unsigned cpu, uint64_t pfn, uint64_t size,
	       unsigned bin, struct iommusim_iova_trace *tr)
{
	bool cacheable = bin < IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE;
	int ret;

	if (!cpu_usable(d, cpu))
		return -EINVAL;
	if (d->checked) {
		ret = claim_for_cache(d, pfn, size, cacheable);
		if (ret)
			return ret;
	}
	if (cacheable && rcache_insert(d, cpu, pfn, bin, tr)) {
		TRACE_ADD(tr, rcache_inserts, 1);
		return 0;
	}
	free_fast_to_tree(d, pfn, tr);
	return 0;
}

/* The common case inline (lock free, loaded not full); see alloc_fast. */
int
iommusim_iova_free_fast(struct iommusim_iova_domain *d, unsigned cpu, uint64_t pfn, uint64_t size,
			struct iommusim_iova_trace *tr)
{
	/* The caller's size, unrounded: its order is that of the rounded one. */
	unsigned bin = ims_order_base_2(size);
	struct ims_iova_cpu_rcache *c;
	struct ims_iova_mag *m;

	if (!d || !size)
		return -EINVAL;
	if (bin >= IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE ||
	    cpu >= __atomic_load_n(&d->fast_ncpus, __ATOMIC_RELAXED))
		goto slow;
	c = ims_iova_cpu_rcache(d, bin, cpu);
	if (__builtin_expect(!ims_spin_trylock(&c->lock), 0))
		goto slow;
	m = c->loaded;
	if (__builtin_expect(mag_full(m), 0)) {
		ims_spin_unlock(&c->lock);
		goto slow;
	}
	m->pfns[m->size++] = pfn;
	ims_spin_unlock(&c->lock);
	TRACE_ADD(tr, rcache_inserts, 1);
	return 0;
slow:
	return free_fast_slow(d, cpu, pfn, size, bin, tr);
}

int
iommusim_iova_cpu_cache_flush(struct iommusim_iova_domain *d, unsigned cpu,
			      struct iommusim_iova_trace *tr)
{
	if (!d || !d->rcaches || cpu >= d->ncpus)
		return -EINVAL;
	cpu_cache_flush(d, cpu, tr);
	return 0;
}

int
iommusim_iova_global_cache_flush(struct iommusim_iova_domain *d, struct iommusim_iova_trace *tr)
{
	if (!d || !d->rcaches)
		return -EINVAL;
	global_cache_flush(d, tr);
	return 0;
}

int
iommusim_iova_depot_work_run(struct iommusim_iova_domain *d, unsigned bin,
			     struct iommusim_iova_trace *tr)
{
	struct ims_iova_rcache *rc;
	struct ims_iova_mag *m = NULL;
	bool schedule = false;

	if (!d || !d->rcaches || bin >= IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE ||
	    d->depot_kind != IOMMUSIM_IOVA_DEPOT_LIST)
		return -EINVAL;
	rc = &d->rcaches[bin];
	ims_spin_lock(&rc->lock);
	rc->work_pending = false;
	/* §1.7 depot trimming: keep one magazine per online CPU. */
	if (rc->depot_size > __atomic_load_n(&d->nr_online, __ATOMIC_RELAXED)) {
		m = rc->depot;
		rc->depot = m->next;
		rc->depot_size--;
	}
	ims_spin_unlock(&rc->lock);
	if (!m)
		return 0;
	mag_free_pfns(d, m, tr);
	ims_free(m);
	TRACE_ADD(tr, mags_freed, 1);
	ims_spin_lock(&rc->lock);
	schedule = depot_work_arm_locked(d, rc);
	ims_spin_unlock(&rc->lock);
	if (schedule)
		depot_work_schedule(d, bin, tr);
	return 0;
}

int
iommusim_iova_cpu_set_online(struct iommusim_iova_domain *d, unsigned cpu, bool online,
			     struct iommusim_iova_trace *tr)
{
	int ret = 0;

	if (!d || !d->rcaches || cpu >= d->ncpus)
		return -EINVAL;
	pthread_mutex_lock(&d->hp_lock);
	if (d->cpus[cpu].online == online) {
		/* nothing to do */
	} else if (!online && d->nr_online == 1) {
		ret = -EBUSY; /* the last CPU cannot go */
	} else if (!online) {
		/* Every CPU leaves the inline paths while one is offline: rare,
		 * and it keeps the hot path's gate to one compare. */
		__atomic_store_n(&d->fast_ncpus, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&d->cpus[cpu].online, false, __ATOMIC_RELAXED);
		__atomic_store_n(&d->nr_online, d->nr_online - 1, __ATOMIC_RELAXED);
		/* The CPU-hotplug "dead" callback. */
		cpu_cache_flush(d, cpu, tr);
	} else {
		__atomic_store_n(&d->cpus[cpu].online, true, __ATOMIC_RELAXED);
		__atomic_store_n(&d->nr_online, d->nr_online + 1, __ATOMIC_RELAXED);
		if (!d->checked && d->nr_online == d->ncpus)
			__atomic_store_n(&d->fast_ncpus, d->ncpus, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&d->hp_lock);
	return ret;
}

/* ---- introspection ------------------------------------------------------ */

static void
range_of(const struct ims_iova *n, struct iommusim_iova_range *r)
{
	r->pfn_lo = n->pfn_lo;
	r->pfn_hi = n->pfn_hi;
}

int
iommusim_iova_info_get(struct iommusim_iova_domain *d, struct iommusim_iova_info *out)
{
	struct ims_iova *n;

	if (!d || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	ims_spin_lock(&d->lock);
	out->granule = d->granule;
	out->shift = d->shift;
	out->start_pfn = d->start_pfn;
	out->dma_32bit_pfn = d->dma_32bit_pfn;
	out->max32_alloc_size = d->max32_alloc_size;
	range_of(d->cached_node, &out->cached_node);
	range_of(d->cached32_node, &out->cached32_node);
	out->nr_ranges = RB_ROOT(&d->root)->count - 1;
	RB_FOREACH(n, ims_iova_tree, &d->root)
		if (n != &d->anchor)
			out->nr_pfns += n->pfn_hi - n->pfn_lo + 1;
	out->has_rcaches = d->rcaches != NULL;
	ims_spin_unlock(&d->lock);
	return 0;
}

int
iommusim_iova_rcache_info_get(struct iommusim_iova_domain *d, unsigned bin, unsigned cpu,
			      struct iommusim_iova_rcache_info *out)
{
	struct ims_iova_rcache *rc;
	struct ims_iova_cpu_rcache *c;

	if (!d || !out || !d->rcaches || cpu >= d->ncpus ||
	    bin >= IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE)
		return -EINVAL;
	memset(out, 0, sizeof(*out)); /* the room to grow too (docs/abi.md) */
	rc = &d->rcaches[bin];
	c = ims_iova_cpu_rcache(d, bin, cpu);
	ims_spin_lock(&c->lock);
	out->loaded_size = (unsigned)c->loaded->size;
	out->prev_size = (unsigned)c->prev->size;
	ims_spin_unlock(&c->lock);
	ims_spin_lock(&rc->lock);
	out->depot_size = rc->depot_size;
	out->work_pending = rc->work_pending;
	ims_spin_unlock(&rc->lock);
	return 0;
}

int
iommusim_iova_for_each(struct iommusim_iova_domain *d,
		       int (*fn)(void *priv, const struct iommusim_iova_range *range), void *priv)
{
	struct iommusim_iova_range r;
	struct ims_iova *n;
	int ret = 0;

	if (!d || !fn)
		return -EINVAL;
	ims_spin_lock(&d->lock);
	RB_FOREACH(n, ims_iova_tree, &d->root) {
		if (n == &d->anchor)
			break;
		range_of(n, &r);
		ret = fn(priv, &r);
		if (ret)
			break;
	}
	ims_spin_unlock(&d->lock);
	return ret;
}

/* ---- invariant checker -------------------------------------------------- */

struct check {
	char *why;
	size_t why_len;
	int ret;
};

/* Record the first violation, with a literal format. */
#define check_fail(c, ...)                                             \
	do {                                                           \
		if (!(c)->ret && (c)->why && (c)->why_len)             \
			snprintf((c)->why, (c)->why_len, __VA_ARGS__); \
		(c)->ret = -EUCLEAN;                                   \
	} while (0)

/* Red-black shape and aggregates of a subtree; returns its black height. */
IMS_NODISCARD static int
check_subtree(struct check *c, const struct ims_iova *n, const struct ims_iova *parent)
{
	const struct ims_iova *l, *r;
	uint64_t count, max_gap;
	unsigned k;
	int hl, hr;

	if (!n)
		return 1;
	l = RB_LEFT(n, rb);
	r = RB_RIGHT(n, rb);
	if (RB_PARENT(n, rb) != parent) {
		check_fail(c, "parent link broken at pfn 0x%llx", (unsigned long long)n->pfn_lo);
		return -1;
	}
	if (RB_COLOR(n, rb) == RB_RED &&
	    ((l && RB_COLOR(l, rb) == RB_RED) || (r && RB_COLOR(r, rb) == RB_RED))) {
		check_fail(c, "red node 0x%llx has a red child", (unsigned long long)n->pfn_lo);
		return -1;
	}
	hl = check_subtree(c, l, n);
	hr = check_subtree(c, r, n);
	if (hl < 0 || hr < 0)
		return -1;
	if (hl != hr) {
		check_fail(c, "black heights differ under 0x%llx", (unsigned long long)n->pfn_lo);
		return -1;
	}
	count = n->weight + sub_count(l) + sub_count(r);
	max_gap = IMS_MAX(n->gap, IMS_MAX(sub_max_gap(l), sub_max_gap(r)));
	for (k = 1; k <= IMS_IOVA_FIT_ORDERS; k++) {
		uint64_t own = aligned_fit(n->pfn_lo - n->gap, n->pfn_lo, k);
		uint64_t f = IMS_MAX(own, IMS_MAX(sub_measure(l, k), sub_measure(r, k)));

		if (n->fit[k - 1] != own || n->max_fit[k - 1] != f) {
			check_fail(c, "stale max_fit[%u] at 0x%llx", k - 1,
				   (unsigned long long)n->pfn_lo);
			return -1;
		}
	}
	if (n->weight != 1 || n->count != count || n->max_gap != max_gap) {
		check_fail(c, "stale aggregate at 0x%llx (count %llu)",
			   (unsigned long long)n->pfn_lo, (unsigned long long)n->count);
		return -1;
	}
	return hl + (RB_COLOR(n, rb) == RB_BLACK);
}

static bool
in_tree(struct iommusim_iova_domain *d, const struct ims_iova *x)
{
	struct ims_iova *n;

	RB_FOREACH(n, ims_iova_tree, &d->root)
		if (n == x)
			return true;
	return false;
}

static void
check_tree(struct check *c, struct iommusim_iova_domain *d)
{
	struct ims_iova *n, *prev = NULL;

	if (check_subtree(c, RB_ROOT(&d->root), NULL) < 0)
		return;
	RB_FOREACH(n, ims_iova_tree, &d->root) {
		if (n->pfn_lo > n->pfn_hi) {
			check_fail(c, "range 0x%llx..0x%llx is inverted",
				   (unsigned long long)n->pfn_lo, (unsigned long long)n->pfn_hi);
			return;
		}
		if (prev && prev->pfn_hi >= n->pfn_lo) {
			check_fail(c, "ranges at 0x%llx and 0x%llx overlap",
				   (unsigned long long)prev->pfn_lo, (unsigned long long)n->pfn_lo);
			return;
		}
		if (n->gap != gap_below(n, prev)) {
			check_fail(c, "wrong gap below 0x%llx: %llu", (unsigned long long)n->pfn_lo,
				   (unsigned long long)n->gap);
			return;
		}
		prev = n;
	}
	if (prev != &d->anchor || d->anchor.pfn_lo != IOMMUSIM_IOVA_ANCHOR_PFN ||
	    d->anchor.pfn_hi != IOMMUSIM_IOVA_ANCHOR_PFN)
		check_fail(c, "the anchor is not the last range");
	else if (!in_tree(d, d->cached_node) || !in_tree(d, d->cached32_node))
		check_fail(c, "a cached node (0x%llx / 0x%llx) is not in the tree",
			   (unsigned long long)d->cached_node->pfn_lo,
			   (unsigned long long)d->cached32_node->pfn_lo);
}

static void
check_mag(struct check *c, struct iommusim_iova_domain *d, const struct ims_iova_mag *m,
	  bool must_be_full, uint64_t *cached)
{
	uint64_t i;

	if (m->size > IOMMUSIM_IOVA_MAG_SIZE || (must_be_full && !mag_full(m))) {
		check_fail(c, "magazine holds %llu pfns", (unsigned long long)m->size);
		return;
	}
	for (i = 0; i < m->size; i++) {
		struct ims_iova *n = find_containing(d, m->pfns[i], NULL);

		if (d->checked && (!n || !n->cached)) {
			check_fail(c, "cached pfn 0x%llx has no cached range",
				   (unsigned long long)m->pfns[i]);
			return;
		}
	}
	*cached += m->size;
}

static void
check_rcaches(struct check *c, struct iommusim_iova_domain *d)
{
	uint64_t cached = 0, flagged = 0;
	struct ims_iova *n;
	unsigned bin, cpu;

	for (bin = 0; bin < IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE && !c->ret; bin++) {
		const struct ims_iova_rcache *rc = &d->rcaches[bin];
		const struct ims_iova_mag *m;
		uint64_t depth = 0;

		for (cpu = 0; cpu < d->ncpus; cpu++) {
			check_mag(c, d, ims_iova_cpu_rcache(d, bin, cpu)->loaded, false, &cached);
			check_mag(c, d, ims_iova_cpu_rcache(d, bin, cpu)->prev, false, &cached);
		}
		for (m = rc->depot; m; m = m->next, depth++)
			check_mag(c, d, m, true, &cached);
		if (depth != rc->depot_size || (d->depot_kind == IOMMUSIM_IOVA_DEPOT_ARRAY32 &&
						depth > IOMMUSIM_IOVA_MAX_GLOBAL_MAGS))
			check_fail(c, "depot holds %llu magazines, counted %llu",
				   (unsigned long long)depth, (unsigned long long)rc->depot_size);
	}
	if (c->ret || !d->checked)
		return;
	RB_FOREACH(n, ims_iova_tree, &d->root)
		flagged += n->cached;
	if (flagged != cached)
		check_fail(c, "%llu ranges flagged cached, %llu pfns in magazines",
			   (unsigned long long)flagged, (unsigned long long)cached);
}

int
ims_iova_check(struct iommusim_iova_domain *d, char *why, size_t why_len)
{
	struct check c = { .why = why, .why_len = why_len };
	unsigned bin, cpu;

	if (why && why_len)
		why[0] = '\0';
	if (d->rcaches) {
		for (bin = 0; bin < IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE; bin++)
			for (cpu = 0; cpu < d->ncpus; cpu++)
				ims_spin_lock(&ims_iova_cpu_rcache(d, bin, cpu)->lock);
		for (bin = 0; bin < IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE; bin++)
			ims_spin_lock(&d->rcaches[bin].lock);
	}
	ims_spin_lock(&d->lock);
	check_tree(&c, d);
	if (!c.ret && d->rcaches)
		check_rcaches(&c, d);
	ims_spin_unlock(&d->lock);
	if (d->rcaches) {
		for (bin = 0; bin < IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE; bin++)
			ims_spin_unlock(&d->rcaches[bin].lock);
		for (bin = 0; bin < IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE; bin++)
			for (cpu = 0; cpu < d->ncpus; cpu++)
				ims_spin_unlock(&ims_iova_cpu_rcache(d, bin, cpu)->lock);
	}
	return c.ret;
}
