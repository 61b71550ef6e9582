/* SPDX-License-Identifier: MIT */
/*
 * dma-iommu's flush queues (KERNEL_SPEC §2.1-§2.5): rings of lazily unmapped
 * IOVAs, per CPU or single, with the start/finish flush counters, the free
 * rule, queue_iova's order of operations and the timer armed once. The
 * domain flush and the IOVA free are callbacks, so the queue knows nothing of
 * the IOMMU or the allocator.
 */
#ifndef IMS_FLUSH_QUEUE_INT_H
#define IMS_FLUSH_QUEUE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <iommusim/ctx.h>
#include <iommusim/dma_iommu.h>
#include <iommusim/hist.h>

#include "base/util_int.h"

/* What a queue calls out to. */
struct ims_fq_ops {
	/* The domain's flush_iotlb_all (between start_cnt++ and finish_cnt++). */
	void (*flush_iotlb_all)(void *priv, const struct iommusim_ctx *ctx);
	/* free_iova_fast(pfn, pages) on the CPU of @ctx, once the entry's flush
	 * has finished. */
	void (*free_iova)(void *priv, uint64_t pfn, uint64_t pages, const struct iommusim_ctx *ctx);
};

struct ims_fq_cfg {
	bool single; /* one ring for all CPUs */
	uint32_t size; /* ring size: a power of two >= 2 (holds size - 1) */
	uint32_t timeout_ms; /* timer delay */
	unsigned hz; /* ticks per second of the timer (0: exact ms) */
	bool timeline; /* read the counters as of the caller's time (one host thread) */
	unsigned ncpus; /* possible CPUs (per-CPU rings) */
	const struct ims_fq_ops *ops;
	void *priv; /* passed to the ops */
	const struct iommusim_dma_timer_ops *timer; /* NULL: never fires */
	void *timer_priv;
};

struct ims_fq;

/*
 * iommu_dma_init_fq(): counters 0, empty rings (head = tail = 0), timer off.
 * Returns 0, -EINVAL (NULL, size not a power of two >= 2 or above
 * IOMMUSIM_FQ_MAX_SIZE, ncpus 0) or -ENOMEM.
 */
IMS_NODISCARD int ims_fq_create(const struct ims_fq_cfg *cfg, struct ims_fq **out);

/* iommu_dma_free_fq(): cancel the timer, free the rings; queued IOVAs are
 * not returned (the IOVA domain goes too). NULL is a no-op. */
void ims_fq_destroy(struct ims_fq *fq);

/*
 * queue_iova() (§2.4): pick the ring (single, or ctx's CPU), free entries
 * whose flush has finished, flush synchronously if the ring is full and free
 * again, add the entry with counter = start_cnt and the unmap time, then arm
 * the timer if it is off. Thread-safe; the CPU is ctx->cpu (< ncpus).
 */
void ims_fq_queue_iova(struct ims_fq *fq, uint64_t pfn, uint64_t pages,
		       const struct iommusim_ctx *ctx);

/* fq_flush_timeout() (§2.4): timer off, one flush, free every ring. */
void ims_fq_timeout(struct ims_fq *fq, const struct iommusim_ctx *ctx);

/* Counters (see struct iommusim_fq_stats). */
void ims_fq_stats(const struct ims_fq *fq, struct iommusim_fq_stats *out);

/* Exposure windows: ns from queueing to the finish of the covering flush. */
const struct iommusim_hist *ims_fq_exposure(const struct ims_fq *fq);

/* Is @pfn inside an entry that waits for its flush? (for the safety check) */
bool ims_fq_holds(const struct ims_fq *fq, uint64_t pfn);

#endif /* IMS_FLUSH_QUEUE_INT_H */
