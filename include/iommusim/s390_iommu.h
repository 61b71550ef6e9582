/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The s390 IOMMU driver (KERNEL_SPEC §3, drivers/iommu/s390-iommu.c, v6.7):
 * paging domains over the zPCI translation tables, map/unmap of 4 KiB pages
 * with undo on failure, iotlb_sync (ranged RPCIT per device), iotlb_sync_map
 * (for tlb_refresh functions, with the -ENOMEM global-refresh recovery),
 * flush_iotlb_all (a global RPCIT per device), capabilities (no deferred
 * flush for ISM), probe (shadow_on_flush when tlb_refresh), reserved
 * regions, and the five counters the kernel exposes in debugfs.
 *
 * A device of this driver carries its zPCI function as drvdata
 * (struct iommusim_device_cfg.drvdata = struct iommusim_zpci_fn *).
 *
 * Thread-safety: the ops (map, unmap, iotlb_sync, iotlb_sync_map,
 * flush_iotlb_all) are called by the IOMMU core from any threads at once, as
 * in the kernel: the device list of a domain is RCU (liburcu) with a
 * spinlock for its writers, the tables are updated with atomic PTE stores
 * (zpci_table.h), and the counters are atomics. Create and destroy the
 * driver, and attach and detach devices, while no DMA is in flight on them.
 */
#ifndef IOMMUSIM_S390_IOMMU_H
#define IOMMUSIM_S390_IOMMU_H

#include <stdint.h>
#include <stdio.h>

#include <iommusim/common.h>
#include <iommusim/iommu.h>

#ifdef __cplusplus
extern "C" {
#endif

struct iommusim_zpci_table;

/** The driver's ops, for iommusim_iommu_create() (drv: struct iommusim_s390_iommu *). */
extern IOMMUSIM_API const struct iommusim_iommu_ops iommusim_s390_iommu_ops;

/** Machine facts the driver's init reads (s390_iommu_init). */
struct iommusim_s390_iommu_cfg {
	uint64_t memory_bytes; /**< size of memory (high_memory); 0 = 16 GiB */
	uint32_t aperture_factor; /**< s390_iommu_aperture= (0 = unlimited); see factor_set */
	bool aperture_factor_set; /**< the parameter was given (else the factor is 1) */
	/** Room to grow (docs/abi.md): zero, or the call fails with -EINVAL. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/** The driver instance. Opaque. */
struct iommusim_s390_iommu;

/**
 * Initialise the driver (s390_iommu_init): s390_iommu_aperture = memory ×
 * factor (UINT64_MAX for factor 0), and register an IOMMU with the core
 * whose policy has forcedac set, as s390 does.
 * @param policy boot parameters (iommu.strict, s390_iommu=strict); NULL = defaults
 * @param iommu_out the IOMMU to create devices on; freed by destroy
 * @return 0; -EINVAL on NULL; -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_s390_iommu_create(const struct iommusim_s390_iommu_cfg *cfg,
			   const struct iommusim_iommu_policy *policy,
			   struct iommusim_s390_iommu **out, struct iommusim_iommu **iommu_out);

/** Unregister the IOMMU and free the driver (NULL is a no-op). */
IOMMUSIM_API void iommusim_s390_iommu_destroy(struct iommusim_s390_iommu *s);

/** s390_iommu_aperture as computed at init. */
IOMMUSIM_API uint64_t iommusim_s390_iommu_aperture_get(const struct iommusim_s390_iommu *s);

/** The software counters of one s390 domain (struct zpci_iommu_ctrs, §3.1). */
struct iommusim_s390_counters {
	uint64_t mapped_pages;
	uint64_t unmapped_pages;
	uint64_t global_rpcits;
	uint64_t sync_map_rpcits;
	uint64_t sync_rpcits;
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/** Driver-side events the kernel does not count but a simulation wants. */
struct iommusim_s390_events {
	uint64_t enomem_recoveries; /**< global refreshes after -ENOMEM in sync_map */
	uint64_t enomem_recovery_failures; /**< ... that failed too (sync_map broke off) */
	uint64_t sync_map_errors; /**< sync_map calls returning an error */
	uint64_t map_failures; /**< map_pages failures (undone) */
	uint64_t unmap_failures; /**< unmap_pages walk failures */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/**
 * Counters of @p dom, a domain of this driver.
 * @return 0; -EINVAL on NULL or a domain of another driver
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_s390_domain_counters(const struct iommusim_domain *dom, struct iommusim_s390_counters *out,
			      struct iommusim_s390_events *events);

/** Reset the counters (as enabling function measurement does). @return 0; -EINVAL */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_s390_domain_counters_reset(struct iommusim_domain *dom);

/**
 * Print the counters as the debugfs `statistics` file prints the software
 * counters: one line per counter, the name right-aligned in 26 columns, a
 * colon, a tab and the value, in the kernel's order ("Mapped pages",
 * "Unmapped pages", "Global RPCITs", "Sync Map RPCITs", "Sync RPCITs").
 * (The FMB hardware counters that precede them are not modelled.)
 * @return 0; -EINVAL on NULL; -EIO on a write error
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_s390_counters_print(FILE *f, const struct iommusim_s390_counters *c);

/** The domain's translation tables (for inspection and device models). */
IOMMUSIM_API struct iommusim_zpci_table *
iommusim_s390_domain_table(const struct iommusim_domain *dom);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_S390_IOMMU_H */
