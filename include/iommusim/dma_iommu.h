/* SPDX-License-Identifier: MIT */
/**
 * @file
 * dma-iommu (KERNEL_SPEC §2, drivers/iommu/dma-iommu.c, v6.7): the DMA API on
 * top of an IOMMU domain. IOVAs come from the IOVA allocator (with the DMA
 * limit, the 32-bit-first attempt and its permanent switch-off), mappings go
 * through iommu_map, and unmaps are either strict (iotlb_sync, then the IOVA
 * is freed) or lazy: the IOVA waits in a flush queue until a flush that
 * started after it was queued has finished.
 *
 * Flush queues are per-CPU or single, any power-of-two size and any timeout:
 * the kernel's rules pick 256 entries / 10 ms per CPU, or one queue of 32768
 * / 1000 ms when the first device has shadow_on_flush; both can be overridden
 * per domain, which is the knob users explore. The simulator also measures
 * how long each lazily unmapped IOVA stays reachable through a stale IOTLB
 * entry (the exposure window) and how much the queues hold.
 *
 * Thread-safety: map, unmap and the timeout may run concurrently from any
 * threads, as in the kernel, provided each simulated CPU id (ctx->cpu) is
 * used by one thread at a time (per-CPU state is not locked, like the
 * kernel's per-CPU data). A NULL ctx is CPU 0.
 */
#ifndef IOMMUSIM_DMA_IOMMU_H
#define IOMMUSIM_DMA_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include <iommusim/common.h>
#include <iommusim/ctx.h>
#include <iommusim/dma.h>
#include <iommusim/hist.h>
#include <iommusim/iommu.h>
#include <iommusim/iova.h>

#ifdef __cplusplus
extern "C" {
#endif

/* §2.1 */
#define IOMMUSIM_IOVA_DEFAULT_FQ_SIZE 256u
#define IOMMUSIM_IOVA_SINGLE_FQ_SIZE 32768u
#define IOMMUSIM_IOVA_DEFAULT_FQ_TIMEOUT_MS 10u
#define IOMMUSIM_IOVA_SINGLE_FQ_TIMEOUT_MS 1000u
/** The largest flush-queue ring accepted. */
#define IOMMUSIM_FQ_MAX_SIZE (1u << 24)

/** Flush-queue layout. */
enum iommusim_fq_type {
	IOMMUSIM_FQ_AUTO = 0, /**< the kernel's rule: single iff shadow_on_flush */
	IOMMUSIM_FQ_PER_CPU, /**< one ring per CPU (IOMMU_DMA_OPTS_PER_CPU_QUEUE) */
	IOMMUSIM_FQ_SINGLE, /**< one ring for all CPUs (IOMMU_DMA_OPTS_SINGLE_QUEUE) */
};

/**
 * The caller's timer for the flush-queue timeout. When it fires, the caller
 * calls iommusim_dma_iommu_fq_timeout() (from any CPU's context).
 */
struct iommusim_dma_timer_ops {
	/** Arm the timer to fire at simulated time @p expires_ns. Never called
	 *  while armed: the queue keeps the armed state (fq_timer_on). */
	void (*arm)(void *priv, uint64_t expires_ns);
	/** Disarm at teardown. May be NULL. */
	void (*cancel)(void *priv);
};

/** A dma-iommu instance: zero means "as the kernel does" everywhere. */
struct iommusim_dma_iommu_cfg {
	unsigned ncpus; /**< possible CPUs; 0 = 1 */
	enum iommusim_fq_type fq_type; /**< queue layout */
	uint32_t fq_size; /**< ring size, a power of two >= 2; 0 = the rule's */
	uint32_t fq_timeout_ms; /**< flush timer; 0 = the rule's */
	/**
	 * The callers run on one host thread in simulated time whose work
	 * items may interleave (the engine): the flush counters are then read
	 * as of the caller's time, so a flush that started but has not yet
	 * finished at that time is seen as in flight, as on a real machine.
	 * Off: the counters are the atomics, for real threads and NULL contexts.
	 */
	bool timeline;
	unsigned hz; /**< the kernel's HZ: the timer runs on ticks (iommusim/jiffies.h);
		      *   0 = exactly fq_timeout_ms later; at most IOMMUSIM_HZ_MAX */
	const struct iommusim_dma_timer_ops *fq_timer; /**< NULL: the timer never fires */
	void *fq_timer_priv;
	enum iommusim_iova_depot iova_depot; /**< rcache depot kind */
	const struct iommusim_iova_timer_ops *iova_timer; /**< depot trimming; NULL: never */
	void *iova_timer_priv;
	unsigned iova_rcache_flags; /**< IOMMUSIM_IOVA_RCACHE_UNCHECKED ... */
	bool fq_alloc_fails; /**< make FQ set-up fail (test the DMA-FQ -> DMA fallback) */
	/**
	 * Keep DMA-FQ even without IOMMUSIM_CAP_DEFERRED_FLUSH, as the sysfs
	 * DMA -> DMA-FQ switch does (it calls iommu_dma_init_fq() without
	 * re-checking the capability, §2.6): how an ISM device ends up on a
	 * flush queue, the regression the ISM model catches.
	 */
	bool skip_deferred_flush_check;
	bool check_lazy_reuse; /**< verify the safety invariant on every map (scans the queues;
				    always on in -Ddebug_checks=true builds) */
	/** Room to grow (docs/abi.md): zero, or the call fails with -EINVAL. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/** A dma-iommu instance. Opaque. */
struct iommusim_dma_iommu;

/**
 * iommu_dma_init_domain() for @p dom as seen by its first device @p dev
 * (§2.5, §2.7): granule = smallest page size, start_pfn = max(1, aperture
 * start), reserved regions reserved in the IOVA domain (except SW_MSI), the
 * queue options from the first device (or the cfg), and DMA-FQ downgraded to
 * DMA when the device lacks IOMMUSIM_CAP_DEFERRED_FLUSH or the queue cannot
 * be set up. The domain must be a DMA or DMA-FQ domain.
 * @param dma_out the generic DMA handle of this instance
 * @return 0; -EINVAL (NULL, another domain type, bad fq_size); -EFAULT if the
 *         device's range misses the aperture; -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_dma_iommu_create(struct iommusim_domain *dom, struct iommusim_device *dev,
			  const struct iommusim_dma_iommu_cfg *cfg, struct iommusim_dma_iommu **out,
			  struct iommusim_dma *dma_out);

/**
 * Tear down (iommu_put_dma_cookie): cancel the timer, free the queues (their
 * IOVAs are not returned), free the IOVA domain. NULL is a no-op.
 */
IOMMUSIM_API void iommusim_dma_iommu_destroy(struct iommusim_dma_iommu *d);

/** The flush-queue timer fired (fq_flush_timeout): flush, then free what is due. */
IOMMUSIM_API void iommusim_dma_iommu_fq_timeout(struct iommusim_dma_iommu *d,
						const struct iommusim_ctx *ctx);

/** Why a DMA-FQ domain became a strict DMA domain at init (KERNEL_SPEC §2.6). */
enum iommusim_downgrade {
	IOMMUSIM_DOWNGRADE_NONE = 0,
	IOMMUSIM_DOWNGRADE_NO_DEFERRED_FLUSH, /**< the device lacks IOMMU_CAP_DEFERRED_FLUSH */
	IOMMUSIM_DOWNGRADE_FQ_ALLOC, /**< the flush queue could not be allocated */
};

/** Why, in words ("no deferred flush", ...); "" for none, NULL if out of range. */
IOMMUSIM_API const char *iommusim_downgrade_reason(enum iommusim_downgrade d);

/** Configuration in force. */
struct iommusim_dma_iommu_info {
	enum iommusim_domain_type type; /**< DMA (strict) or DMA-FQ (lazy) */
	bool downgraded; /**< DMA-FQ became DMA at init */
	enum iommusim_downgrade downgrade; /**< ... and why */
	bool single_queue; /**< valid for DMA-FQ */
	uint32_t fq_size;
	uint32_t fq_timeout_ms;
	uint64_t granule; /**< bytes per IOVA pfn */
	uint64_t start_pfn;
	uint64_t dma_limit; /**< the last usable DMA address */
	unsigned ncpus;
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/** @return 0; -EINVAL on NULL */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_dma_iommu_info_get(const struct iommusim_dma_iommu *d,
			    struct iommusim_dma_iommu_info *out);

/** Flush-queue counters and state. */
struct iommusim_fq_stats {
	uint64_t flush_start_cnt; /**< fq_flush_start_cnt */
	uint64_t flush_finish_cnt; /**< fq_flush_finish_cnt */
	uint64_t full_flushes; /**< flushes from a full queue (in the unmap path) */
	uint64_t timer_flushes; /**< flushes from the timer */
	uint64_t timer_arms; /**< times the timer was armed */
	uint64_t queued; /**< entries queued (lazy unmaps) */
	uint64_t freed_entries; /**< entries freed after their flush */
	uint64_t freed_pages; /**< IOVA pages of those */
	uint64_t entries_now; /**< entries in the queues now */
	uint64_t pages_now; /**< IOVA pages in the queues now */
	uint64_t max_entries; /**< most entries ever queued at once (all queues) */
	uint64_t max_pages; /**< most pages ever queued at once (all queues) */
	uint64_t lock_waits; /**< ring-lock takings that found the lock held (contention;
			      *   the simulator's, not a kernel counter) */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/** All counters of an instance. */
struct iommusim_dma_iommu_stats {
	struct iommusim_dma_stats dma; /**< the generic counters */
	struct iommusim_fq_stats fq; /**< zero for strict domains */
	struct iommusim_iova_trace iova; /**< everything the IOVA allocator did */
	uint64_t strict_syncs; /**< iotlb_syncs of strict unmaps */
	uint64_t alloc_32bit_tries; /**< 32-bit-first attempts */
	uint64_t alloc_32bit_fallbacks; /**< ... that failed and switched the device off them */
	uint64_t iommu_map_failures; /**< iommu_map errors (IOVA freed at once) */
	uint64_t unmap_short; /**< unmaps that unmapped less than asked (the kernel warns) */
	uint64_t lazy_reuse_violations; /**< maps that got an IOVA still waiting for its flush */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/** @return 0; -EINVAL on NULL */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_dma_iommu_stats_get(const struct iommusim_dma_iommu *d,
			     struct iommusim_dma_iommu_stats *out);

/**
 * The exposure-window histogram (ns from each lazy unmap to the completion
 * of the flush that covers it), owned by the instance.
 */
IOMMUSIM_API const struct iommusim_hist *
iommusim_dma_iommu_exposure(const struct iommusim_dma_iommu *d);

/** What CPU @p cpu's calls did to the IOVA allocator so far (for cost
 *  accounting per operation); NULL for a bad CPU. Read by that CPU's thread. */
IOMMUSIM_API const struct iommusim_iova_trace *
iommusim_dma_iommu_cpu_trace(const struct iommusim_dma_iommu *d, unsigned cpu);

/** The IOVA domain (for inspection). */
IOMMUSIM_API struct iommusim_iova_domain *
iommusim_dma_iommu_iovad(const struct iommusim_dma_iommu *d);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_DMA_IOMMU_H */
