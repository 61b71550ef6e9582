/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The Linux IOVA allocator (drivers/iommu/iova.c): a top-down rbtree allocator
 * with cached walk hints, plus per-CPU magazine caches ("rcaches") and a depot.
 *
 * Every decision is the kernel's (see docs/iova.md and KERNEL_SPEC.md §1); the
 * search behind it is faster, and the kernel's walk length is reported in
 * struct iommusim_iova_trace so that a cost model can charge it.
 *
 * Units: all addresses are page-frame numbers (pfns) of the domain's granule.
 * Ranges are inclusive [pfn_lo, pfn_hi] as in the kernel; `limit_pfn` is the
 * highest pfn an allocation may use (inclusive).
 */
#ifndef IOMMUSIM_IOVA_H
#define IOMMUSIM_IOVA_H

#include <stdbool.h>
#include <stdint.h>

#include <iommusim/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** log2 of the largest cached range, plus one: bins for 1..32 pfns (iova.c). */
#define IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE 6
/** Largest size (in pfns) that alloc_fast rounds up to a power of two and caches. */
#define IOMMUSIM_IOVA_RCACHE_MAX_PFNS (1u << (IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE - 1))
/** pfns per magazine (v6.0 and later). */
#define IOMMUSIM_IOVA_MAG_SIZE 127
/** Delay of the depot trimming work, in milliseconds (v6.7 and later). */
#define IOMMUSIM_IOVA_DEPOT_DELAY_MS 100
/** Depot capacity per bin of the pre-6.7 fixed array depot. */
#define IOMMUSIM_IOVA_MAX_GLOBAL_MAGS 32
/** pfn of the anchor node that sits above every range. */
#define IOMMUSIM_IOVA_ANCHOR_PFN UINT64_MAX
/** Largest number of simulated CPUs an rcache may be set up for. */
#define IOMMUSIM_IOVA_MAX_CPUS 4096

/** An IOVA domain: one rbtree, its cached nodes and (optionally) rcaches. Opaque. */
struct iommusim_iova_domain;

/** Domain geometry, as passed to the kernel's init_iova_domain(). */
struct iommusim_iova_cfg {
	uint64_t granule; /**< bytes per pfn: a power of two <= IOMMUSIM_PAGE_SIZE; 0 = 4096 */
	uint64_t start_pfn; /**< lowest pfn the allocator hands out (dma-iommu uses >= 1) */
};

/** An allocated or reserved range, inclusive at both ends. */
struct iommusim_iova_range {
	uint64_t pfn_lo; /**< first pfn */
	uint64_t pfn_hi; /**< last pfn */
};

/**
 * What one or more operations did, for cost accounting and tests. Every
 * operation that takes a trace *adds* to its fields, so a caller can zero
 * one trace and accumulate a whole workload into it. A NULL trace is allowed
 * everywhere and skips the bookkeeping (the walk-length computation costs
 * O(log n), so pass NULL on paths that do not need it).
 */
struct iommusim_iova_trace {
	uint64_t rcache_hits; /**< alloc_fast answered from a magazine */
	uint64_t rcache_misses; /**< alloc_fast that went to the rbtree (incl. uncacheable sizes) */
	uint64_t rcache_inserts; /**< free_fast that put the pfn in a magazine */
	uint64_t
		rcache_rejects; /**< free_fast that freed to the tree (size >= 33 or no magazine) */
	uint64_t mag_swaps; /**< loaded/prev magazine exchanges */
	uint64_t depot_pushes; /**< full magazines pushed onto a depot */
	uint64_t depot_pops; /**< full magazines taken off a depot by alloc_fast */
	uint64_t mags_freed; /**< magazines emptied into the tree and freed */
	uint64_t pfns_to_tree; /**< cached pfns given back to the tree */
	uint64_t depot_schedules; /**< times the depot work was (re)scheduled */
	uint64_t rcache_flush_retries; /**< alloc_fast flushed every cache and retried */
	uint64_t fast_fails; /**< allocations refused by max32_alloc_size without a walk */
	uint64_t
		walk_passes; /**< top-down walk passes (the retry above the cached node is a 2nd) */
	uint64_t walk_nodes; /**< nodes the kernel's top-down walk visits (kernel-equivalent) */
	uint64_t
		reserve_nodes; /**< nodes reserve_iova's ascending scan visits (kernel-equivalent) */
	uint64_t lookup_nodes; /**< nodes visited by binary searches (find, free, magazine flush) */
	uint64_t tree_inserts; /**< nodes inserted into the rbtree */
	uint64_t tree_erases; /**< nodes erased from the rbtree */
	/** Room to grow (docs/abi.md): the library only adds to these, as to the counters. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/** Allocator state worth showing to people and tests (a snapshot). */
struct iommusim_iova_info {
	uint64_t granule; /**< bytes per pfn */
	unsigned shift; /**< log2(granule) */
	uint64_t start_pfn; /**< lowest allocatable pfn */
	uint64_t dma_32bit_pfn; /**< 1 << (32 - shift): first pfn above 4 GiB */
	uint64_t max32_alloc_size; /**< size of the last failed allocation (fast-fail threshold) */
	struct iommusim_iova_range cached_node; /**< walk hint above 4 GiB (the anchor if unset) */
	struct iommusim_iova_range cached32_node; /**< walk hint for limits <= 4 GiB */
	uint64_t nr_ranges; /**< ranges in the tree, anchor excluded */
	uint64_t nr_pfns; /**< pfns those ranges cover */
	bool has_rcaches; /**< iommusim_iova_rcaches_init() was called */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/** Which depot the rcaches use. */
enum iommusim_iova_depot {
	/** v6.7+: unbounded list of full magazines, trimmed by a delayed work. */
	IOMMUSIM_IOVA_DEPOT_LIST = 0,
	/** v6.0..v6.6: a fixed array of 32 magazines per bin; overflow is freed. */
	IOMMUSIM_IOVA_DEPOT_ARRAY32 = 1,
};

/**
 * The caller's timer, which drives the v6.7 depot trimming work. The library
 * asks for the work of one bin to run after a delay; the caller later calls
 * iommusim_iova_depot_work_run() for that bin (from any thread).
 */
struct iommusim_iova_timer_ops {
	/** Schedule bin @p bin's depot work @p delay_ms from now. Never called
	 *  while the work is already pending (the library keeps that state). */
	void (*schedule)(void *priv, unsigned bin, unsigned delay_ms);
	/** Cancel a pending work at domain teardown. May be NULL. */
	void (*cancel)(void *priv, unsigned bin);
};

/** rcache flags. */
enum iommusim_iova_rcache_flags {
	/**
	 * Skip the validation of free_fast/free against the tree. The kernel
	 * validates nothing: with this flag a double or unknown free_fast is
	 * cached like a good one, as in the kernel (it never crashes, but may
	 * hand the pfn out twice). Without it (the default) such calls return
	 * -ENOENT/-EBUSY/-EINVAL and change nothing; the check costs one tree
	 * lookup on each fast path.
	 */
	IOMMUSIM_IOVA_RCACHE_UNCHECKED = 1u << 0,
};

/** Per-CPU cache set-up, as iova_domain_init_rcaches(). Zero means default. */
struct iommusim_iova_rcache_cfg {
	unsigned ncpus; /**< possible CPUs, all online at start; 0 = 1 */
	enum iommusim_iova_depot depot; /**< depot kind */
	const struct iommusim_iova_timer_ops *timer; /**< NULL: the depot is never trimmed */
	void *timer_priv; /**< passed to the timer callbacks */
	unsigned flags; /**< enum iommusim_iova_rcache_flags */
	/** Room to grow (docs/abi.md): zero, or the call fails with -EINVAL. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/** Contents of one CPU's caches and the depot for one bin (a snapshot). */
struct iommusim_iova_rcache_info {
	unsigned loaded_size; /**< pfns in the CPU's loaded magazine */
	unsigned prev_size; /**< pfns in the CPU's prev magazine */
	uint64_t depot_size; /**< full magazines in the bin's depot */
	bool work_pending; /**< the bin's depot work is scheduled */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/**
 * Create a domain (init_iova_domain): an empty tree holding only the anchor,
 * both cached nodes on the anchor, max32_alloc_size = dma_32bit_pfn.
 * @param cfg geometry (borrowed)
 * @param out the new domain, written on success only
 * @return 0; -EINVAL if cfg/out is NULL or granule is not a power of two
 *         <= IOMMUSIM_PAGE_SIZE; -ENOMEM
 * Thread-safety: none needed (creates a new object).
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_iova_domain_create(const struct iommusim_iova_cfg *cfg,
								struct iommusim_iova_domain **out);

/**
 * Destroy a domain (put_iova_domain): frees the rcaches (their pfns are not
 * returned: the tree goes too), cancels pending depot work, frees every node.
 * @param iovad the domain, or NULL (no-op)
 * Thread-safety: no other call on this domain may be running or follow.
 */
IOMMUSIM_API void iommusim_iova_domain_destroy(struct iommusim_iova_domain *iovad);

/**
 * Set up the per-CPU range caches (iova_domain_init_rcaches): for every bin
 * and possible CPU an empty `loaded` and `prev` magazine.
 * @return 0; -EINVAL on a NULL argument, ncpus > IOMMUSIM_IOVA_MAX_CPUS, an
 *         unknown depot or flag, or a timer without schedule(); -EEXIST if
 *         already set up; -ENOMEM (nothing is left allocated)
 * Thread-safety: before any other use of the domain from other threads.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_iova_rcaches_init(struct iommusim_iova_domain *iovad,
			   const struct iommusim_iova_rcache_cfg *cfg);

/**
 * Allocate @p size pfns at or below @p limit_pfn from the tree (alloc_iova):
 * top-down below the cached node, then a retry pass above it, with the
 * 32-bit fast-fail rule. With @p size_aligned the result is a multiple of
 * roundup_pow_of_two(size).
 *
 * A @p limit_pfn below the domain's start_pfn is valid, as in the kernel
 * (dma-iommu's 32-bit attempt makes one when the aperture starts above
 * 4 GiB): the walk runs, finds no room, and the call fails like any other
 * lack of room, setting max32_alloc_size (or it fast-fails).
 * @param pfn_lo_out first pfn of the new range, written on success only
 * @param tr trace to add to, or NULL
 * @return 0; -EINVAL if size is 0 or above 2^62, limit_pfn is the anchor pfn,
 *         or an argument is NULL; -ENOMEM if no room, a limit below
 *         start_pfn included (this sets max32_alloc_size = size unless it
 *         was a 32-bit fast fail, as the kernel does; the tree does not
 *         change) or no memory for the node (nothing changes)
 * Thread-safety: safe against every other call on the domain (tree lock).
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_iova_alloc(struct iommusim_iova_domain *iovad,
							uint64_t size, uint64_t limit_pfn,
							bool size_aligned, uint64_t *pfn_lo_out,
							struct iommusim_iova_trace *tr);

/**
 * Find the range containing @p pfn (find_iova).
 * @param out the range, written on success only
 * @return 0; -ENOENT if no range contains pfn (the anchor is never found);
 *         -EINVAL on NULL arguments
 * Thread-safety: safe against every other call on the domain.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_iova_find(struct iommusim_iova_domain *iovad,
						       uint64_t pfn,
						       struct iommusim_iova_range *out,
						       struct iommusim_iova_trace *tr);

/**
 * Free the range containing @p pfn to the tree (free_iova), updating the
 * cached nodes and max32_alloc_size as __cached_rbnode_delete_update() does.
 * @return 0; -ENOENT if no range contains pfn (the kernel returns silently);
 *         -EBUSY if the range's pfn sits in a magazine (checked rcaches only);
 *         -EINVAL on NULL
 * Thread-safety: safe against every other call on the domain.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_iova_free(struct iommusim_iova_domain *iovad,
						       uint64_t pfn,
						       struct iommusim_iova_trace *tr);

/**
 * Reserve [pfn_lo, pfn_hi] (reserve_iova): existing ranges it overlaps are
 * extended downwards and the uncovered tail becomes a new range; cached nodes
 * are not touched.
 * @param out the range returned by the kernel (the one that covers the tail
 *        of the request), written on success only; may be NULL
 * @return 0; -EINVAL if pfn_lo > pfn_hi or either is above
 *         (UINT64_MAX >> shift) (the kernel warns and returns NULL);
 *         -ENOMEM (ranges already extended stay extended, as in the kernel)
 * Thread-safety: safe against every other call on the domain.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_iova_reserve(struct iommusim_iova_domain *iovad,
							  uint64_t pfn_lo, uint64_t pfn_hi,
							  struct iommusim_iova_range *out,
							  struct iommusim_iova_trace *tr);

/**
 * Allocate through the caches (alloc_iova_fast): sizes below 32 are rounded
 * up to a power of two; this CPU's magazines (then the depot) are tried for a
 * pfn with pfn + size - 1 <= limit_pfn (computed as limit_pfn + 1 - size,
 * which wraps when size > limit_pfn + 1, and then any cached pfn fits, as in
 * the kernel); else the tree, size-aligned; if that fails and
 * @p flush_rcache is set, every online CPU's caches and the depot are
 * returned to the tree and the tree is tried once more.
 *
 * A @p limit_pfn below start_pfn goes through all of this, as in the kernel:
 * the magazine lookup may still swap `prev` in or take a depot magazine
 * (nothing cached fits, unless the limit wrapped), the tree fails and sets
 * max32_alloc_size, and with @p flush_rcache the caches are emptied into the
 * tree before the retry fails too.
 * @param cpu the simulated CPU making the call
 * @param pfn_out first pfn, written on success only
 * @return 0; -EINVAL (as iommusim_iova_alloc(), or no rcaches, or cpu out of
 *         range or offline); -ENOMEM (the kernel returns pfn 0), a limit
 *         below start_pfn included
 * Thread-safety: safe; calls naming the same cpu serialise on its lock.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_iova_alloc_fast(struct iommusim_iova_domain *iovad,
							     unsigned cpu, uint64_t size,
							     uint64_t limit_pfn, bool flush_rcache,
							     uint64_t *pfn_out,
							     struct iommusim_iova_trace *tr);

/**
 * Free through the caches (free_iova_fast): a size of 1..32 goes into this
 * CPU's magazines (swapping loaded/prev, or pushing a full magazine onto the
 * depot); otherwise, or if no magazine can be had, the range is freed to the
 * tree. @p size is the caller's unrounded size, as in the kernel.
 * @return 0; -EINVAL on no rcaches, bad cpu, size 0, or (checked rcaches) a
 *         size larger than the range or of another bin (the range would later
 *         be handed out at the wrong size); -ENOENT (checked) if no range
 *         starts at pfn; -EBUSY (checked) if pfn is already cached
 * Thread-safety: safe; calls naming the same cpu serialise on its lock.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_iova_free_fast(struct iommusim_iova_domain *iovad,
							    unsigned cpu, uint64_t pfn,
							    uint64_t size,
							    struct iommusim_iova_trace *tr);

/**
 * Return @p cpu's cached pfns to the tree (free_cpu_cached_iovas); the
 * magazines stay, empty.
 * @return 0; -EINVAL on no rcaches or cpu out of range
 * Thread-safety: safe.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_iova_cpu_cache_flush(struct iommusim_iova_domain *iovad, unsigned cpu,
			      struct iommusim_iova_trace *tr);

/**
 * Return every depot magazine's pfns to the tree and free the magazines
 * (free_global_cached_iovas).
 * @return 0; -EINVAL on no rcaches
 * Thread-safety: safe.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_iova_global_cache_flush(struct iommusim_iova_domain *iovad,
				 struct iommusim_iova_trace *tr);

/**
 * Run bin @p bin's depot work now (iova_depot_work_func, v6.7): if the depot
 * holds more magazines than there are online CPUs, free one to the tree and
 * schedule the work again; otherwise stop. Clears the pending state first.
 * @return 0; -EINVAL on no rcaches, a bin >= IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE,
 *         or the ARRAY32 depot (which has no work)
 * Thread-safety: safe.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_iova_depot_work_run(struct iommusim_iova_domain *iovad,
								 unsigned bin,
								 struct iommusim_iova_trace *tr);

/**
 * Take @p cpu offline or online. Going offline runs the CPU-hotplug "dead"
 * callback (the CPU's caches are flushed to the tree); an offline CPU may not
 * allocate or free through the caches, is skipped by the flush-and-retry
 * path, and no longer counts for depot trimming.
 * @return 0; -EINVAL on no rcaches or cpu out of range; -EBUSY when taking
 *         the last online CPU offline (the kernel cannot either)
 * Thread-safety: safe.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_iova_cpu_set_online(struct iommusim_iova_domain *iovad,
								 unsigned cpu, bool online,
								 struct iommusim_iova_trace *tr);

/**
 * Snapshot of the domain's state.
 * @return 0; -EINVAL on NULL
 * Thread-safety: safe (taken under the tree lock).
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_iova_info_get(struct iommusim_iova_domain *iovad,
							   struct iommusim_iova_info *out);

/**
 * Snapshot of one CPU's magazines and one bin's depot.
 * @return 0; -EINVAL on NULL, no rcaches, bad cpu or bin
 * Thread-safety: safe.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_iova_rcache_info_get(struct iommusim_iova_domain *iovad, unsigned bin, unsigned cpu,
			      struct iommusim_iova_rcache_info *out);

/**
 * Call @p fn for every range in ascending order (the anchor excluded); stop
 * early and return fn's value when it returns non-zero. @p fn must not call
 * back into this domain.
 * @return 0, fn's non-zero value, or -EINVAL on NULL
 * Thread-safety: holds the tree lock while iterating.
 */
IOMMUSIM_API int
iommusim_iova_for_each(struct iommusim_iova_domain *iovad,
		       int (*fn)(void *priv, const struct iommusim_iova_range *range), void *priv);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_IOVA_H */
