/* SPDX-License-Identifier: MIT */
/* Shadow-table internals: the entry pool, the ordered shadow and its nodes. */
#ifndef IMS_SHADOW_INT_H
#define IMS_SHADOW_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <bsd/sys/tree.h>

#include <iommusim/shadow.h>

#include "base/util_int.h"

/*
 * The pool: one counter of free entries shared by every shadow of a vfio
 * container. Entries are taken with a compare-and-swap that never goes below
 * zero and returned with an add, so shadows refreshed from different threads
 * need no common lock and the counter is exact at every instant.
 */
struct iommusim_shadow_pool {
	uint64_t limit; /* 0 = unlimited: the counter is never touched */
	_Atomic uint64_t available;
};

/* One shadowed 4 KiB page: what the host mapped for it. */
struct ims_shadow_node {
	RB_ENTRY(ims_shadow_node) rb;
	uint64_t iova; /* page aligned, the key */
	uint64_t val; /* the PTE's frame address and protection bit */
};

RB_HEAD(ims_shadow_tree, ims_shadow_node);

struct iommusim_shadow {
	struct iommusim_shadow_pool *pool; /* borrowed */
	struct iommusim_shadow_cfg cfg; /* which QEMU */
	pthread_mutex_t lock; /* the tree; held by a refresh and by lookups */
	struct ims_shadow_tree tree; /* ordered by iova */
	_Atomic uint64_t nentries; /* nodes in the tree, readable without the lock */
};

/*
 * The shadowed frame and protection of @iova (rounded down to its page):
 * @frame_out gets the frame address, @prot_out whether the host mapping is
 * read-only. Either may be NULL. @return 0; -ENOENT; -EINVAL on NULL @s.
 */
IMS_NODISCARD int ims_shadow_lookup_entry(const struct iommusim_shadow *s, uint64_t iova,
					  uint64_t *frame_out, bool *prot_out);

/* Split a run of @npages pages from @pfn into the pieces QEMU unmaps it in:
 * from the low end, each the smaller of the start's natural alignment and
 * the largest power of two that fits what remains. @return the pieces. */
uint64_t ims_shadow_unmap_chunks(uint64_t pfn, uint64_t npages);

#endif /* IMS_SHADOW_INT_H */
