/* SPDX-License-Identifier: MIT */
/* IOMMU core internals: the IOMMU instance, devices and domains. */
#ifndef IMS_IOMMU_INT_H
#define IMS_IOMMU_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <iommusim/iommu.h>

struct iommusim_iommu {
	const struct iommusim_iommu_ops *ops;
	void *drv;
	struct iommusim_iommu_policy policy;
	bool dma_strict; /* iommu_dma_strict */
	pthread_mutex_t lock; /* attach/detach (the group mutex) */
	atomic_uint ndevices;
};

struct iommusim_device {
	struct iommusim_iommu *iommu;
	char *name;
	bool is_pci;
	bool untrusted;
	bool shadow_on_flush; /* dev->iommu->shadow_on_flush */
	bool pci_32bit_workaround; /* dev->iommu->pci_32bit_workaround */
	uint64_t dma_mask;
	uint64_t coherent_dma_mask;
	uint64_t bus_dma_limit;
	uint64_t seg_boundary_mask;
	uint32_t max_seg_size;
	void *drvdata;
	void *iommu_priv; /* the driver's per-device data */
	struct iommusim_domain *domain; /* under iommu->lock */
};

struct iommusim_domain {
	struct iommusim_iommu *iommu;
	enum iommusim_domain_type type;
	struct iommusim_domain_geometry geometry;
	uint64_t pgsize_bitmap;
	void *priv; /* the driver's domain */
	atomic_uint ndevices;
};

#endif /* IMS_IOMMU_INT_H */
