/* SPDX-License-Identifier: MIT */
/**
 * @file
 * One simulation run (docs/model.md): a workload (fio-like block I/O, small
 * network packets, or ISM traffic) on a platform profile under a DMA policy,
 * driven by the discrete-event engine, with every result the reports show.
 *
 * Thread-safety: iommusim_run() is reentrant: every run builds and owns its
 * engine, platform, driver and domains, so runs may go on concurrently on
 * any threads (test_run checks that concurrent runs give the sequential
 * results, under TSan in CI). One process-wide thing is shared: a failed
 * allocation anywhere during a run refuses that run (see iommusim_run()),
 * so an allocation failure in one run can make concurrent ones refuse too,
 * never give other numbers. The job, profile and policy are only read.
 */
#ifndef IOMMUSIM_RUN_H
#define IOMMUSIM_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommusim/cmdline.h>
#include <iommusim/common.h>
#include <iommusim/hist.h>
#include <iommusim/platform.h>
#include <iommusim/sim.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What the workload does. */
enum iommusim_workload {
	IOMMUSIM_WL_BLOCK = 0, /**< fio-like block I/O: one DMA mapping per I/O of bs bytes */
	IOMMUSIM_WL_NET, /**< small packets: one mapping per packet, rx and tx */
	IOMMUSIM_WL_ISM, /**< ISM: long-lived DMBs plus traffic mappings */
};

/** fio's rw= (only the direction and the pattern matter to the IOMMU). */
enum iommusim_rw {
	IOMMUSIM_RW_READ = 0,
	IOMMUSIM_RW_WRITE,
	IOMMUSIM_RW_RANDREAD,
	IOMMUSIM_RW_RANDWRITE,
	IOMMUSIM_RW_RW, /**< mixed sequential (rwmixread %) */
	IOMMUSIM_RW_RANDRW, /**< mixed random (rwmixread %) */
};

/** A job, as a job file describes it (fio's keys where they fit). */
struct iommusim_job {
	char name[64]; /**< [section] name */
	enum iommusim_workload workload;
	enum iommusim_rw rw;
	unsigned rwmixread; /**< % reads for rw/randrw (fio default 50) */
	uint32_t bs; /**< bytes per I/O (fio bs=; default 4096) */
	unsigned iodepth; /**< I/Os in flight per job (default 1) */
	unsigned numjobs; /**< jobs (default 1); job i runs on CPU i % cpus */
	unsigned cpus; /**< simulated CPUs (0, the default: numjobs) */
	uint64_t runtime_ns; /**< simulated time to run (fio runtime=; default 1 s) */
	uint64_t size; /**< stop after this many bytes per job (0: time only) */
	uint64_t randseed; /**< fio randseed= (0: the run's seed) */
	uint64_t dev_latency_ns; /**< device service latency (default 10 µs) */
	uint64_t dev_bandwidth; /**< device bytes per second (default 3.2e9) */
	unsigned dev_slots; /**< I/Os the device serves in parallel (default 128) */
	uint64_t
		io_base_cycles; /**< per-I/O base CPU cost (block layer, driver, irq; default 20000) */
	uint32_t sg_segments; /**< physically discontiguous segments per I/O (default 1) */
	unsigned ism_dmbs; /**< ISM: DMBs registered for the whole run (default 4) */
	uint32_t ism_dmb_size; /**< ISM: bytes per DMB (default 1 MiB) */
	uint64_t memory; /**< guest memory in bytes (high_memory; default 16 GiB) */
	uint32_t
		s390_iommu_aperture; /**< the kernel's s390_iommu_aperture= factor (default 1; 0 = no limit) */
	/** The function reports relaxed translation (zdev->rtr_avail): the s390
	 *  driver then has an identity domain, as later kernels' (default 0,
	 *  the v6.7 driver's view: no identity domain). */
	bool rtr_avail;
	/** Room to grow (docs/abi.md): zero, or the call fails with -EINVAL. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/** Fill @p job with the defaults above (name "job"). */
IOMMUSIM_API void iommusim_job_defaults(struct iommusim_job *job);

/** How DMA is done. */
enum iommusim_policy_kind {
	IOMMUSIM_POLICY_KERNEL = 0, /**< dma-iommu as v6.7 decides (TV-27) */
	IOMMUSIM_POLICY_STRICT, /**< dma-iommu, strict (iommu.strict=1) */
	IOMMUSIM_POLICY_LAZY_PERCPU, /**< dma-iommu, per-CPU flush queues */
	IOMMUSIM_POLICY_LAZY_SINGLE, /**< dma-iommu, one flush queue */
	IOMMUSIM_POLICY_LEGACY, /**< the pre-6.7 s390 DMA API (lazy) */
	IOMMUSIM_POLICY_LEGACY_STRICT, /**< ... with s390_iommu=strict */
};

/** A DMA policy. */
struct iommusim_policy {
	enum iommusim_policy_kind kind;
	uint32_t fq_size; /**< flush-queue size override (0: the rule's) */
	uint32_t fq_timeout_ms; /**< flush-queue timeout override (0: the rule's) */
	bool ism_force_fq; /**< ISM: keep a flush queue despite the missing capability (the regression) */
	/** Boot parameters (the `cmdline` key, `--cmdline`): with the policies
	 *  kernel and legacy only, which decide as the kernel does. */
	bool has_cmdline;
	struct iommusim_cmdline cmdline;
	/** Room to grow (docs/abi.md): zero, or the call fails with -EINVAL. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/** "kernel", "strict", "lazy-percpu", "lazy-single", "legacy", "legacy-strict". */
IOMMUSIM_API const char *iommusim_policy_name(enum iommusim_policy_kind kind);
/** Parse a policy name. @return 0; -EINVAL */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_policy_parse(const char *name,
							  enum iommusim_policy_kind *out);

/**
 * Set one key of @p policy from text, as a job file's [global], `--set`,
 * `--cmdline` and the `--fq-*` options do: fq_size (a power of two from 2 to
 * IOMMUSIM_FQ_MAX_SIZE), fq_timeout (whole milliseconds, at least 1; no
 * unit means ms) or ism_force_fq (a boolean), in the grammar of
 * iommusim/units.h; or cmdline (a kernel command line, iommusim/cmdline.h).
 * @return 0; -ENOENT for another key (nothing written to @p err); -EINVAL for
 *         a bad value, with a message in @p err; nothing changes on error
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_policy_set(struct iommusim_policy *policy,
							const char *key, const char *value,
							char *err, size_t err_len);

/** The largest seed: reports carry it as a signed 64-bit integer. */
#define IOMMUSIM_RUN_SEED_MAX UINT64_C(0x7fffffffffffffff)

/** Everything a run measured. Times in ns unless named otherwise. */
struct iommusim_run_result {
	char platform[16];
	char policy[16];
	uint64_t seed;
	uint64_t sim_ns; /**< simulated time covered: the runtime, or when every job
			   *   moved its size= and the last I/O completed */
	uint64_t ios; /**< I/Os (or packets) completed */
	uint64_t bytes; /**< bytes transferred */
	double iops; /**< ios per simulated second */
	double bytes_per_s;
	uint64_t cpu_cycles_per_io; /**< all CPUs' busy cycles / ios */
	uint64_t cycles_per_io[IOMMUSIM_COST_NR]; /**< ... by component */
	double cpu_utilisation; /**< busy / the time each CPU's clock covered (the run, or
				  *   longer for an item that ran past its end): 0..1 */
	struct iommusim_hist_summary latency; /**< submission to completion */
	struct iommusim_hist_summary
		exposure; /**< lazy unmap to covering flush (empty if strict) */
	/** Lazy unmaps still queued when the run ended: no flush covered them in
	 *  time, so they are in no exposure figure (the longest waits may be
	 *  among them; every output says how many). */
	uint64_t exposure_censored;
	/* the kernel's counters */
	uint64_t mapped_pages, unmapped_pages;
	uint64_t global_rpcits, sync_map_rpcits, sync_rpcits;
	uint64_t legacy_global_rpcits; /**< pre-6.7: global RPCITs (wraps and -ENOMEM) */
	/* platform and queue */
	uint64_t rpcits; /**< all refreshes the platform handled */
	uint64_t status16; /**< cc 1 / status 16 answers */
	uint64_t enomem_recoveries; /**< global refreshes after -ENOMEM */
	uint64_t map_errors; /**< DMA mappings that failed */
	uint64_t max_shadow_entries;
	uint64_t fq_max_entries, fq_max_pages; /**< queue occupancy peaks */
	char domain[16]; /**< what ran: "DMA-FQ", "DMA" (strict), "identity" or "legacy" */
	/** Why the domain is not the kernel's default lazy DMA-FQ, in the
	 *  kernel's terms ("iommu.strict=1", "ISM: no deferred flush" ...); "" if it is */
	char domain_reason[64];
	char cmdline[160]; /**< the boot parameters in force, canonical ("" without) */
	uint32_t fq_size, fq_timeout_ms; /**< the flush queue in force (0 without one) */
	char downgrade[48]; /**< why the configuration asked for another type than
			      *   ran (a lazy or identity domain ran as DMA); "" if not */
	uint64_t hv_busy_ns; /**< hypervisor work */
	uint64_t hv_steps, hv_loads,
		hv_lookups; /**< the shadow walks: steps, table loads, lookups */
	uint64_t hv_host_maps, hv_host_unmaps; /**< host map and unmap calls */
	/* ISM */
	uint64_t ism_events;
	uint64_t ism_first_event_ns; /**< time of the first one (0 if none) */
	uint64_t ism_first_iova;
	uint64_t ism_first_rpcit_addr, ism_first_rpcit_len;
	char ism_first_reason[24];
	/** The flush queues' memory as the kernel allocates it (since 0.2): one
	 *  struct iova_fq of fq_size entries per possible CPU, or one for a
	 *  single queue; 0 without a queue (docs/kernel.md "Flush-queue memory"). */
	IOMMUSIM_ABI_USE(0, uint64_t fq_bytes;);
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved1, reserved2, reserved3, reserved4, reserved5, reserved6, reserved7;
};

/** Called now and then with the fraction of simulated time done (0..1). */
struct iommusim_run_progress {
	void (*report)(void *priv, double done);
	void *priv;
};

/**
 * Run @p job on @p profile under @p policy with @p seed.
 * @return 0; -EINVAL (bad job or policy: the message is in @p err, which may
 *         be NULL); -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_run(const struct iommusim_job *job, const struct iommusim_profile *profile,
	     const struct iommusim_policy *policy, uint64_t seed,
	     const struct iommusim_run_progress *progress, struct iommusim_run_result *out,
	     char *err, size_t err_len);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_RUN_H */
