/* SPDX-License-Identifier: MIT */
/* IOVA allocator internals: the augmented rbtree node, rcaches, the domain. */
#ifndef IMS_IOVA_INT_H
#define IMS_IOVA_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <bsd/sys/tree.h>

#include <iommusim/iova.h>

#include "base/util_int.h"

/* Alignment orders (2^1 .. 2^8 pfns) with an exact per-subtree fit aggregate. */
#define IMS_IOVA_FIT_ORDERS 8

/*
 * A range in the tree (struct iova). Besides the kernel's fields each node
 * carries subtree aggregates so that the kernel's linear walks can be answered
 * in O(log n): `gap` is the number of free pfns directly below the node (down
 * to its predecessor, or to pfn 0 for the lowest node), `max_gap` the largest
 * gap in the subtree, `fit[k - 1]` the largest size whose 2^k-aligned
 * placement fits in the node's own gap (saturated at UINT32_MAX),
 * `max_fit[k - 1]` the same over the subtree, and
 * `count` the subtree's node count. A node being inserted or removed is made
 * neutral first (weight 0, gap 0) so that the tree library's local augment
 * calls never see a stale aggregate.
 */
struct ims_iova {
	RB_ENTRY(ims_iova) rb;
	uint64_t pfn_lo; /* first pfn, inclusive */
	uint64_t pfn_hi; /* last pfn, inclusive */
	uint64_t gap; /* free pfns just below pfn_lo */
	uint64_t max_gap; /* max gap in this subtree */
	uint64_t count; /* weighted node count of this subtree */
	uint32_t fit[IMS_IOVA_FIT_ORDERS]; /* own gap's aligned fit per order */
	uint32_t max_fit[IMS_IOVA_FIT_ORDERS]; /* max aligned fit per order */
	uint8_t weight; /* 1, or 0 while being linked or unlinked */
	bool cached; /* its pfn_lo sits in a magazine (checked rcaches) */
};

RB_HEAD(ims_iova_tree, ims_iova);

/* A magazine: up to IOMMUSIM_IOVA_MAG_SIZE pfns, a stack; `next` links the depot. */
struct ims_iova_mag {
	uint64_t size;
	struct ims_iova_mag *next;
	uint64_t pfns[IOMMUSIM_IOVA_MAG_SIZE];
};

/* One CPU's cache for one bin (struct iova_cpu_rcache). */
struct ims_iova_cpu_rcache {
	struct ims_spinlock lock;
	struct ims_iova_mag *loaded;
	struct ims_iova_mag *prev;
};

/*
 * Everything one simulated CPU touches on the fast path, in one place: the
 * kernel keeps a per-CPU area per bin; one block per CPU saves a pointer
 * chase and keeps CPUs on separate cache lines.
 */
struct ims_iova_cpu {
	struct ims_iova_cpu_rcache bins[IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE];
	bool online; /* read without hp_lock: atomic accesses */
} __attribute__((aligned(64)));

/* One size bin's shared part (struct iova_rcache). */
struct ims_iova_rcache {
	struct ims_spinlock lock; /* protects depot, depot_size, work_pending */
	uint64_t depot_size;
	struct ims_iova_mag *depot; /* stack of full magazines */
	bool work_pending; /* v6.7 delayed work scheduled */
};

struct iommusim_iova_domain {
	struct ims_spinlock lock; /* iova_rbtree_lock: tree, cached nodes, max32 */
	struct ims_iova_tree root;
	struct ims_iova *cached_node;
	struct ims_iova *cached32_node;
	uint64_t granule;
	unsigned shift;
	uint64_t start_pfn;
	uint64_t dma_32bit_pfn;
	uint64_t max32_alloc_size;
	struct ims_iova anchor;

	/* rcaches (NULL until iommusim_iova_rcaches_init) */
	struct ims_iova_rcache *rcaches; /* [IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE] */
	struct ims_iova_cpu *cpus; /* [ncpus] */
	unsigned ncpus;
	/*
	 * CPUs below this may take the inline fast paths: ncpus while the
	 * rcaches are unchecked and every CPU is online, else 0 (read without
	 * hp_lock: atomic accesses). One word next to ncpus, so the hot path's
	 * gate is a compare against a load that does not wait for d->cpus.
	 */
	unsigned fast_ncpus;
	unsigned nr_online;
	pthread_mutex_t hp_lock; /* serialises CPU online/offline */
	enum iommusim_iova_depot depot_kind;
	const struct iommusim_iova_timer_ops *timer;
	void *timer_priv;
	bool checked; /* validate fast frees against the tree */
};

/* @cpu's cache for @bin; the rcaches must exist. */
static inline struct ims_iova_cpu_rcache *
ims_iova_cpu_rcache(struct iommusim_iova_domain *iovad, unsigned bin, unsigned cpu)
{
	return &iovad->cpus[cpu].bins[bin];
}

/*
 * Check every structural invariant of the domain: ordering and disjointness
 * of ranges, the aggregates, the cached nodes, magazines and depots. Returns
 * 0, or -EUCLEAN with a description of the first violation in @why (which
 * may be NULL). Takes all locks; for tests and debug builds.
 */
IMS_NODISCARD int ims_iova_check(struct iommusim_iova_domain *iovad, char *why, size_t why_len);

#endif /* IMS_IOVA_INT_H */
