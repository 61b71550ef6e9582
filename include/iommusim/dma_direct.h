/* SPDX-License-Identifier: MIT */
/**
 * @file
 * dma-direct (kernel/dma/direct.c) for a device in an identity domain: the
 * DMA address is the physical address, nothing is mapped, allocated or
 * flushed. What iommu_setup_dma_ops() leaves a device with when its default
 * domain is identity (KERNEL_SPEC §2.6; on s390 only with the identity
 * domain of later kernels, iommusim/s390_iommu.h).
 *
 * A buffer the device cannot address (its end above the DMA mask or the bus
 * limit) fails to map, as dma_direct_map_page() fails without a swiotlb
 * pool (bounce buffering is not modelled). Scatterlists map one DMA segment
 * per element (dma-direct merges nothing).
 *
 * Thread-safety: map and unmap may run concurrently on one object (the
 * counters are atomic); create and destroy must not overlap other calls.
 */
#ifndef IOMMUSIM_DMA_DIRECT_H
#define IOMMUSIM_DMA_DIRECT_H

#include <iommusim/common.h>
#include <iommusim/dma.h>
#include <iommusim/iommu.h>

#ifdef __cplusplus
extern "C" {
#endif

struct iommusim_dma_direct;

/**
 * dma-direct for @p dev (its masks and bus limit are read at each map); fills
 * @p dma_out with its DMA API handle ("dma-direct").
 * @return 0; -EINVAL on NULL; -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_dma_direct_create(struct iommusim_device *dev,
							       struct iommusim_dma_direct **out,
							       struct iommusim_dma *dma_out);

/** Destroy (NULL is a no-op). */
IOMMUSIM_API void iommusim_dma_direct_destroy(struct iommusim_dma_direct *d);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_DMA_DIRECT_H */
