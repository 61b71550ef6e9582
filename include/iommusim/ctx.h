/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The execution context that kernel-derived layers run in: which simulated
 * CPU is calling, what time it is, and how to wait. The same library code
 * runs with a trivial context in unit tests (NULL: CPU 0, time 0, waits are
 * instant), inside the discrete-event engine, and on real threads.
 */
#ifndef IOMMUSIM_CTX_H
#define IOMMUSIM_CTX_H

#include <stdint.h>

#include <iommusim/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How a context tells the time and waits. Every callback may be NULL. */
struct iommusim_ctx_ops {
	/** Current simulated time in nanoseconds (NULL: always 0). */
	uint64_t (*now_ns)(void *priv);
	/** Busy-wait @p ns nanoseconds on the calling CPU, as udelay() (NULL: no-op). */
	void (*delay_ns)(void *priv, uint64_t ns);
};

/**
 * A calling context. Filled in by the caller and passed by pointer to every
 * call that may take time or needs to know the CPU; NULL means CPU 0 at time
 * 0 with instant waits. Borrowed for the duration of the call only.
 */
struct iommusim_ctx {
	const struct iommusim_ctx_ops *ops; /**< may be NULL */
	void *priv; /**< passed to the ops */
	unsigned cpu; /**< the simulated CPU making the call */
};

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_CTX_H */
