/* SPDX-License-Identifier: MIT */
/**
 * @file
 * ISM (Internal Shared Memory) device model (KERNEL_SPEC §8). An ISM function
 * does not sit behind the hardware IOMMU: the device inspects the translation
 * tables over the range of every RPCIT addressed to it. Its DMA buffers
 * (DMBs) are long-lived; if an RPCIT range covers an IOVA the device is
 * using, other than the range being newly mapped by that very sync_map, the
 * device enters the error state and becomes unusable.
 *
 * The model attaches to a zPCI function of type ISM as its RPCIT observer,
 * keeps the registered DMBs, checks every RPCIT against them and records an
 * event (time, CPU, RPCIT range, offending IOVA, who issued it) per
 * offending RPCIT. The error state is sticky until reset.
 *
 * Thread-safety: every function may be called from any thread; one mutex
 * per device guards the DMBs, the events and the counters (the RPCIT
 * observer runs on whichever thread issued the RPCIT).
 */
#ifndef IOMMUSIM_ISM_H
#define IOMMUSIM_ISM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommusim/common.h>
#include <iommusim/zpci.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An ISM device model. Opaque. */
struct iommusim_ism;

/** One RPCIT that exposed in-use IOVAs to the device. */
struct iommusim_ism_event {
	uint64_t time_ns; /**< simulated time of the RPCIT */
	unsigned cpu; /**< CPU that issued it */
	uint64_t rpcit_addr; /**< RPCIT range start */
	uint64_t rpcit_len; /**< RPCIT range length in bytes */
	enum iommusim_rpcit_reason reason; /**< sync, sync_map, global flush, -ENOMEM recovery... */
	uint64_t iova; /**< lowest in-use IOVA (page) the range exposed */
	uint64_t dmb_token; /**< the DMB that IOVA belongs to */
	uint64_t exposed_bytes; /**< in-use bytes inside the range (outside the mapped range) */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1;
};

/** Counters of the model. */
struct iommusim_ism_stats {
	uint64_t rpcits_seen; /**< RPCITs inspected */
	uint64_t bytes_inspected; /**< sum of their ranges */
	uint64_t events; /**< offending RPCITs (also those beyond the stored log) */
	uint64_t dmbs; /**< DMBs registered now */
	uint64_t dmb_bytes; /**< bytes in use now */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/** The number of events kept; later ones are counted but not stored. */
#define IOMMUSIM_ISM_EVENT_LOG_MAX 4096u

/**
 * Attach an ISM model to @p fn as its RPCIT observer.
 * @return 0; -EINVAL on NULL or a function that is not of type ISM; -EBUSY if
 *         the function already has an observer; -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_ism_create(struct iommusim_zpci_fn *fn,
							struct iommusim_ism **out);

/** Detach and free (NULL is a no-op); call it before destroying the function. */
IOMMUSIM_API void iommusim_ism_destroy(struct iommusim_ism *ism);

/**
 * Register a DMB: [iova, iova + len) is in use by the device from now on.
 * Call it after the buffer has been DMA-mapped, as the ISM driver does.
 * @param token_out identifies the DMB for unregistering
 * @return 0; -EINVAL on NULL or len 0 or a range that wraps; -EEXIST if it
 *         overlaps a registered DMB; -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_ism_dmb_register(struct iommusim_ism *ism,
							      uint64_t iova, uint64_t len,
							      uint64_t *token_out);

/**
 * Unregister a DMB (before it is unmapped, as the driver does).
 * @return 0; -EINVAL on NULL; -ENOENT for an unknown token
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_ism_dmb_unregister(struct iommusim_ism *ism,
								uint64_t token);

/** Is @p iova inside a registered DMB? */
IOMMUSIM_API bool iommusim_ism_iova_in_use(const struct iommusim_ism *ism, uint64_t iova);

/** The device is in the error state (some RPCIT exposed an in-use IOVA). */
IOMMUSIM_API bool iommusim_ism_in_error(const struct iommusim_ism *ism);

/** Clear the error state and the event log (the counters stay). */
IOMMUSIM_API void iommusim_ism_reset(struct iommusim_ism *ism);

/** Stored events. */
IOMMUSIM_API size_t iommusim_ism_nevents(const struct iommusim_ism *ism);

/** Event @p i (0 = first). @return 0; -EINVAL on NULL; -ENOENT if out of range */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_ism_event_get(const struct iommusim_ism *ism, size_t i,
							   struct iommusim_ism_event *out);

/** @return 0; -EINVAL on NULL */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_ism_stats_get(const struct iommusim_ism *ism,
							   struct iommusim_ism_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_ISM_H */
