/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The real-thread stress mode (`iommusim stress`): N host threads, each
 * standing for one CPU, map and unmap through one dma-iommu domain on the
 * s390 driver as fast as they can for a bounded wall-clock time, with the
 * flush-queue timer on a thread of its own, while the safety invariant is
 * checked all along: no IOVA is handed out again before the flush that
 * covers its lazy unmap has completed (KERNEL_SPEC §2.3, dma-iommu's
 * check on every map), and every mapping a thread holds still translates
 * to its own buffer. What it measures is this library on this host (the
 * locks, atomics and allocator under contention), not a platform model:
 * the zPCI function answers every RPCIT at once.
 *
 * Thread-safety: iommusim_stress_run() may be called from any thread; it
 * starts and joins its own.
 */
#ifndef IOMMUSIM_STRESS_H
#define IOMMUSIM_STRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommusim/common.h>
#include <iommusim/hist.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The most worker threads. */
#define IOMMUSIM_STRESS_MAX_THREADS 256u
/** The most mappings a worker holds at once. */
#define IOMMUSIM_STRESS_MAX_LIVE 4096u

/** Which flush policy the domain runs. */
enum iommusim_stress_policy {
	IOMMUSIM_STRESS_LAZY_PERCPU = 0, /**< DMA-FQ, one ring per CPU */
	IOMMUSIM_STRESS_LAZY_SINGLE, /**< DMA-FQ, one ring for all CPUs */
	IOMMUSIM_STRESS_STRICT, /**< DMA: every unmap flushes its range */
};

/** "lazy-percpu", "lazy-single", "strict"; NULL for anything else. */
IOMMUSIM_API const char *iommusim_stress_policy_name(enum iommusim_stress_policy p);

/** Progress, about once a second of wall time, from the calling thread. */
struct iommusim_stress_progress {
	void (*report)(void *priv, uint64_t elapsed_ns, uint64_t duration_ns, uint64_t ops);
	void *priv;
};

/** A stress run; zero fields take the defaults in brackets. */
struct iommusim_stress_cfg {
	unsigned threads; /**< workers, 1..IOMMUSIM_STRESS_MAX_THREADS [2] */
	uint64_t duration_ns; /**< wall time to run, at most 1 hour [1 s] */
	enum iommusim_stress_policy policy;
	uint32_t fq_size; /**< ring entries, a power of two (keys.md) [the kernel's rule] */
	uint32_t fq_timeout_ms; /**< the flush timer [the kernel's rule] */
	unsigned live; /**< mappings each worker holds at most, 1..IOMMUSIM_STRESS_MAX_LIVE [32] */
	uint64_t max_size; /**< bytes per map, 1..1 MiB: a size from 1 to this [16 KiB] */
	uint64_t seed; /**< the workers' random streams [1] */
	const struct iommusim_stress_progress *progress; /**< may be NULL */
	/** Room to grow (docs/abi.md): zero, or the call fails with -EINVAL. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/** What a stress run did and found. */
struct iommusim_stress_result {
	unsigned threads;
	enum iommusim_stress_policy policy;
	bool lazy; /**< the domain ran DMA-FQ (false: strict) */
	uint32_t fq_size, fq_timeout_ms; /**< in force */
	uint64_t elapsed_ns; /**< wall time the workers ran */
	uint64_t maps, unmaps; /**< successful ones */
	double ops_per_sec; /**< (maps + unmaps) per second of wall time */
	struct iommusim_hist_summary map_ns, unmap_ns; /**< per call, wall ns */
	uint64_t full_flushes, timer_flushes; /**< flush-queue flushes by cause */
	uint64_t strict_syncs; /**< ranged flushes of strict unmaps */
	uint64_t global_rpcits; /**< global refreshes the s390 driver issued */
	uint64_t lock_waits; /**< flush-queue ring-lock takings that had to wait */
	uint64_t max_entries; /**< most flush-queue entries at once */
	/* The checks: each is 0 in a correct run. */
	uint64_t lazy_reuse_violations; /**< maps that got an IOVA still waiting for its flush */
	uint64_t stale_translations; /**< held mappings found translating elsewhere */
	uint64_t map_errors, unmap_errors; /**< calls that failed */
	uint64_t leaked_pages; /**< IOVA pages or queue entries left after the final flush */
	char first_failure[160]; /**< the first check that failed, in words ("" if none) */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/**
 * Run the stress mode.
 * @return 0 (the checks' findings are in @p out: a run whose checks failed
 *         still returns 0); -EINVAL (a bad configuration, with a message in
 *         @p err); -ENOMEM; -EAGAIN (a thread could not be started)
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_stress_run(const struct iommusim_stress_cfg *cfg,
							struct iommusim_stress_result *out,
							char *err, size_t err_len);

/** True if every check of @p r passed. */
IOMMUSIM_API bool iommusim_stress_passed(const struct iommusim_stress_result *r);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_STRESS_H */
