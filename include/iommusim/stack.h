/* SPDX-License-Identifier: MIT */
/**
 * @file
 * A whole DMA stack in one call, for unit tests of flush logic: the s390
 * IOMMU driver, N zPCI functions answered by one canned-answer platform
 * (zpci.h: push RPCIT answers, read back every instruction), a PCI device
 * and a domain per function, dma-iommu on each, and an ISM model on ISM
 * functions. One call tears it all down. What it builds is what a test
 * would build by hand from the headers it includes; docs/examples/c/ is a
 * complete CMocka test against the installed library.
 *
 * Thread-safety: create and destroy on one thread; the DMA handles are then
 * as thread-safe as dma_iommu.h says (each simulated CPU id on one thread at
 * a time).
 */
#ifndef IOMMUSIM_STACK_H
#define IOMMUSIM_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommusim/common.h>
#include <iommusim/dma.h>
#include <iommusim/dma_iommu.h>
#include <iommusim/iommu.h>
#include <iommusim/ism.h>
#include <iommusim/zpci.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The most functions a stack has. */
#define IOMMUSIM_STACK_MAX_FNS 16u

/** What to build; zero fields are the kernel's defaults. */
struct iommusim_stack_cfg {
	unsigned ncpus; /**< simulated CPUs: ctx->cpu ids 0..ncpus-1 [1] */
	unsigned nfns; /**< zPCI functions, each with its device and domain, 1..16 [1] */
	bool tlb_refresh; /**< the functions announce new mappings (z/VM, KVM): map-time RPCITs */
	bool ism; /**< the functions are ISM (no deferred flush: the kernel makes them strict) */
	bool strict; /**< a DMA (strict) domain, as iommu.strict=1; else DMA-FQ */
	enum iommusim_fq_type fq_type; /**< [the kernel's rule] */
	uint32_t fq_size, fq_timeout_ms; /**< [the kernel's rule] */
	uint64_t memory; /**< high_memory, the aperture [16 GiB] */
	bool check_lazy_reuse; /**< dma-iommu checks the safety invariant on every map */
	const struct iommusim_dma_timer_ops
		*fq_timer; /**< NULL: call iommusim_dma_iommu_fq_timeout() */
	void *fq_timer_priv;
	/** What answers the functions' instructions; NULL: the canned-answer
	 *  platform (iommusim_stack_platform()). */
	const struct iommusim_zpci_platform_ops *platform;
	void *platform_priv;
	/** Room to grow (docs/abi.md): zero, or the call fails with -EINVAL. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/** A stack. Opaque. */
struct iommusim_stack;

/**
 * Build a stack.
 * @return 0; -EINVAL (a bad configuration: the reason in @p err); -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_stack_create(const struct iommusim_stack_cfg *cfg,
							  struct iommusim_stack **out, char *err,
							  size_t err_len);
/** Tear it all down (NULL is a no-op). Every mapping should be unmapped first. */
IOMMUSIM_API void iommusim_stack_destroy(struct iommusim_stack *st);

/** Function @p i's DMA handle, for iommusim_dma_map_page() and friends; NULL out of range. */
IOMMUSIM_API const struct iommusim_dma *iommusim_stack_dma(const struct iommusim_stack *st,
							   unsigned i);
/** Function @p i's dma-iommu instance (stats, info, the timeout); NULL out of range. */
IOMMUSIM_API struct iommusim_dma_iommu *iommusim_stack_dma_iommu(const struct iommusim_stack *st,
								 unsigned i);
/** Function @p i's domain (iommusim_iommu_iova_to_phys(), the s390 counters). */
IOMMUSIM_API struct iommusim_domain *iommusim_stack_domain(const struct iommusim_stack *st,
							   unsigned i);
/** Function @p i. */
IOMMUSIM_API struct iommusim_zpci_fn *iommusim_stack_fn(const struct iommusim_stack *st,
							unsigned i);
/** Function @p i's ISM model (NULL unless cfg.ism). */
IOMMUSIM_API struct iommusim_ism *iommusim_stack_ism(const struct iommusim_stack *st, unsigned i);
/** The canned-answer platform every function uses: queue answers, read the
 *  calls. NULL when cfg.platform named another. */
IOMMUSIM_API struct iommusim_zpci_canned *iommusim_stack_platform(const struct iommusim_stack *st);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_STACK_H */
