/* SPDX-License-Identifier: MIT */
/**
 * @file
 * A log-linear histogram of non-negative 64-bit values (nanoseconds,
 * pages...): every power-of-two range [2^k, 2^(k+1)) is split into 2^sub_bits
 * equal buckets, so a value is known to within 1/2^sub_bits of itself; values
 * below 2^sub_bits are exact. Recording is lock-free and thread-safe.
 */
#ifndef IOMMUSIM_HIST_H
#define IOMMUSIM_HIST_H

#include <stdint.h>

#include <iommusim/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A histogram. Opaque. */
struct iommusim_hist;

/** Sub-bucket bits when 0 is asked for: 1/32 (about 3%) resolution. */
#define IOMMUSIM_HIST_DEFAULT_SUB_BITS 5
/** The most sub-bucket bits allowed. */
#define IOMMUSIM_HIST_MAX_SUB_BITS 10

/** What most reports want. Percentiles are bucket upper bounds, clamped to the
 *  exact maximum (so never below the truth and never above max). */
struct iommusim_hist_summary {
	uint64_t count;
	uint64_t min, max; /**< exact; 0 when empty */
	double mean; /**< exact (from the exact sum) */
	uint64_t p50, p90, p99, p999;
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1;
};

/**
 * @param sub_bits 0 = IOMMUSIM_HIST_DEFAULT_SUB_BITS; at most IOMMUSIM_HIST_MAX_SUB_BITS
 * @return 0; -EINVAL; -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_hist_create(unsigned sub_bits,
							 struct iommusim_hist **out);
/** NULL is a no-op. */
IOMMUSIM_API void iommusim_hist_destroy(struct iommusim_hist *h);
/** Record @p value once. Thread-safety: any thread. */
IOMMUSIM_API void iommusim_hist_record(struct iommusim_hist *h, uint64_t value);
/** Forget everything. Not concurrent with record. */
IOMMUSIM_API void iommusim_hist_reset(struct iommusim_hist *h);
/** Add @p src into @p dst (same sub_bits). @return 0; -EINVAL */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_hist_merge(struct iommusim_hist *dst,
							const struct iommusim_hist *src);
/** The smallest bucket upper bound with at least @p pct percent (0..100) of values at or below it; 0 when empty. */
IOMMUSIM_API uint64_t iommusim_hist_percentile(const struct iommusim_hist *h, double pct);
/** @return 0; -EINVAL on NULL */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_hist_summary_get(const struct iommusim_hist *h,
							      struct iommusim_hist_summary *out);
/**
 * Call @p fn for every non-empty bucket in ascending order with its
 * inclusive bounds and count; stop early on a non-zero return.
 * @return 0, fn's value, or -EINVAL
 */
IOMMUSIM_API int
iommusim_hist_for_each(const struct iommusim_hist *h,
		       int (*fn)(void *priv, uint64_t lo, uint64_t hi, uint64_t count), void *priv);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_HIST_H */
