/* SPDX-License-Identifier: MIT */
/*
 * The stress mode's check of the safety invariant (stress.c explains it),
 * apart so that tests can drive it with made-up sequences.
 */
#ifndef IMS_STRESS_INT_H
#define IMS_STRESS_INT_H

#include "config.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/util_int.h"

struct ims_stress_check {
	uint64_t win_start, win_pages; /* the DMA window, in bytes and pages */
	atomic_uint_fast64_t tickets; /* refreshes so far */
	atomic_uint_fast64_t global_done; /* the last whole-window refresh's ticket + 1 */
	atomic_uint_fast64_t *page_done; /* per page: its last ranged refresh's ticket + 1 */
	atomic_uint_fast64_t *page_unmapped; /* per page: tickets + 1 when it was last unmapped */
};

/* @return 0; -ENOMEM */
IMS_NODISCARD int ims_stress_check_init(struct ims_stress_check *c, uint64_t win_start,
					uint64_t win_pages);
void ims_stress_check_destroy(struct ims_stress_check *c);
/* [dma, dma + size) is about to be unmapped (call before the unmap). */
void ims_stress_check_unmapping(struct ims_stress_check *c, uint64_t dma, uint64_t size);
/* A refresh of [addr, addr + range) ran (call from the RPCIT, any thread). */
void ims_stress_check_refreshed(struct ims_stress_check *c, uint64_t addr, uint64_t range);
/* [dma, dma + size) was just mapped: false, and the first bad page in
 * *@p bad_iova, if a page of it had no refresh since its last unmap. */
IMS_NODISCARD bool ims_stress_check_mapped(struct ims_stress_check *c, uint64_t dma, uint64_t size,
					   uint64_t *bad_iova);

#endif
