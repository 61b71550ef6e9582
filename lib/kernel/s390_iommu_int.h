/* SPDX-License-Identifier: MIT */
/* s390-iommu internals the run reads on its hot path. */
#ifndef IMS_S390_IOMMU_INT_H
#define IMS_S390_IOMMU_INT_H

#include <stdint.h>

#include <iommusim/iommu.h>

/*
 * The domain's Mapped and Unmapped pages counters (§3.1), as
 * iommusim_s390_domain_counters() reads them, without filling the whole
 * structure: the run reads them after every map and unmap.
 */
void ims_s390_domain_pages(const struct iommusim_domain *dom, uint64_t *mapped, uint64_t *unmapped);

#endif /* IMS_S390_IOMMU_INT_H */
