/* SPDX-License-Identifier: MIT */
/* Shadow-table internals: the entry pool and the shadow's tables. */
#ifndef IMS_SHADOW_INT_H
#define IMS_SHADOW_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <iommusim/shadow.h>
#include <iommusim/zpci_table.h>

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

/*
 * The shadow is keyed like the tables it shadows: a region table of 2048
 * regions, each of 2048 segments, each a leaf of 256 pages (zpci_table.h's
 * indices), allocated on first use and kept until the shadow goes (as the
 * guest keeps its page tables). A leaf's bitmap says which of its pages are
 * shadowed, and a shadowed page's value is what the host mapped for it, the
 * PTE's frame and protection bit (an unshadowed page's value means nothing).
 * Each level above has a bitmap of its non-empty children, so the pages
 * shadowed under an invalid region or segment are found without visiting
 * the others.
 */
struct ims_shadow_leaf {
	uint64_t val[IOMMUSIM_ZPCI_PT_ENTRIES];
	uint64_t used[IOMMUSIM_ZPCI_PT_ENTRIES / 64]; /* shadowed pages */
};

struct ims_shadow_region {
	struct ims_shadow_leaf *seg[IOMMUSIM_ZPCI_TABLE_ENTRIES];
	uint64_t used[IOMMUSIM_ZPCI_TABLE_ENTRIES / 64]; /* segments with shadowed pages */
};

struct iommusim_shadow {
	struct iommusim_shadow_pool *pool; /* borrowed */
	struct iommusim_shadow_cfg cfg; /* which QEMU */
	pthread_mutex_t lock; /* the tables; held by a refresh and by lookups */
	_Atomic uint64_t nentries; /* shadowed pages, readable without the lock */
	uint64_t used[IOMMUSIM_ZPCI_TABLE_ENTRIES / 64]; /* regions with shadowed pages */
	struct ims_shadow_region *rgn[IOMMUSIM_ZPCI_TABLE_ENTRIES];
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
