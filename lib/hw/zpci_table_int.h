/* SPDX-License-Identifier: MIT */
/* Internals of the s390 translation tables (lib/zpci_table.c), shared with its tests. */
#ifndef IMS_ZPCI_TABLE_INT_H
#define IMS_ZPCI_TABLE_INT_H

#include <stdint.h>

#include <iommusim/zpci_table.h>

/*
 * One tree. Entries and counters are plain 64-bit words accessed only with
 * the __atomic builtins, so that a const table can still be read atomically.
 */
struct iommusim_zpci_table {
	uint64_t *rto; /* root region-third table, 2048 entries, 16 KiB aligned */
	uint64_t segment_tables; /* installed segment tables */
	uint64_t page_tables; /* installed page tables */
	uint64_t install_races; /* compare-and-swap installs lost (table freed) */
	uint64_t warn_invalid_twice;
	uint64_t warn_valid_twice;
};

/*
 * Test hook: when set, called by iommusim_zpci_table_update() after a new
 * table was allocated and filled and before it is installed by
 * compare-and-swap, with @level 1 for a segment table (into a region entry) or
 * 2 for a page table (into a segment entry). A test makes another update of
 * the same region from the hook to force a lost race deterministically.
 */
void ims_zpci_table_set_install_hook(void (*fn)(struct iommusim_zpci_table *t, uint64_t iova,
						unsigned level));

/* How many iommusim_thread_enter() calls of the calling thread are not yet left. */
unsigned ims_thread_nesting(void);

#endif /* IMS_ZPCI_TABLE_INT_H */
