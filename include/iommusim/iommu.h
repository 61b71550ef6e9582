/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The IOMMU core (KERNEL_SPEC §2.6, §2.9; drivers/iommu/iommu.c): devices,
 * domains, attach/detach, iommu_map with its page-size loop, unwinding and
 * the v6.7 iotlb_sync_map error path, iommu_unmap/unmap_fast with the iotlb
 * gather, iotlb_sync and flush_iotlb_all, and the default-domain-type rules.
 *
 * IOMMU drivers plug in through struct iommusim_iommu_ops (the kernel's
 * iommu_ops and iommu_domain_ops in one table): the s390 driver ships with
 * the library (iommusim/s390_iommu.h); tests may bring a mock.
 *
 * Ranges: @p iova and sizes in bytes; inclusive ends are called `last` (the
 * kernel's gather->end and geometry.aperture_end).
 */
#ifndef IOMMUSIM_IOMMU_H
#define IOMMUSIM_IOMMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommusim/common.h>
#include <iommusim/ctx.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Protection flags of a mapping (include/linux/iommu.h values). */
#define IOMMUSIM_PROT_READ (1u << 0)
#define IOMMUSIM_PROT_WRITE (1u << 1)
#define IOMMUSIM_PROT_CACHE (1u << 2)
#define IOMMUSIM_PROT_NOEXEC (1u << 3)
#define IOMMUSIM_PROT_MMIO (1u << 4)
#define IOMMUSIM_PROT_PRIV (1u << 5)

/** Domain types; 0 means "no preference" where a type is asked for. */
enum iommusim_domain_type {
	IOMMUSIM_DOMAIN_NONE = 0,
	IOMMUSIM_DOMAIN_BLOCKED, /**< all DMA blocked */
	IOMMUSIM_DOMAIN_IDENTITY, /**< passthrough */
	IOMMUSIM_DOMAIN_UNMANAGED, /**< driver-managed (VFIO) */
	IOMMUSIM_DOMAIN_DMA, /**< DMA API, strict invalidation */
	IOMMUSIM_DOMAIN_DMA_FQ, /**< DMA API, deferred invalidation (flush queue) */
};

/** "identity", "DMA", "DMA-FQ", ... as sysfs spells them. */
IOMMUSIM_API const char *iommusim_domain_type_name(enum iommusim_domain_type type);

/** Capabilities a driver may report per device. */
enum iommusim_iommu_cap {
	IOMMUSIM_CAP_CACHE_COHERENCY = 0,
	IOMMUSIM_CAP_NOEXEC,
	IOMMUSIM_CAP_PRE_BOOT_PROTECTION,
	IOMMUSIM_CAP_ENFORCE_CACHE_COHERENCY,
	IOMMUSIM_CAP_DEFERRED_FLUSH, /**< since v6.4: the driver can flush lazily */
	IOMMUSIM_CAP_DIRTY_TRACKING,
};

/**
 * The iotlb gather (include/linux/iommu.h): the range unmapped so far, for
 * one invalidation. Empty when last == 0 (start = UINT64_MAX).
 */
struct iommusim_iotlb_gather {
	uint64_t start; /**< lowest byte (UINT64_MAX when empty) */
	uint64_t last; /**< highest byte, inclusive (the kernel's `end`; 0 when empty) */
	uint64_t pgsize; /**< page size of the pages added (0: none yet) */
	bool queued; /**< the IOVA goes to a flush queue: no sync at unmap */
};

/** Reset @p g to empty (iommu_iotlb_gather_init). */
IOMMUSIM_API void iommusim_iotlb_gather_init(struct iommusim_iotlb_gather *g);

/** Widen @p g to cover [iova, iova + size) (no disjointness check). */
IOMMUSIM_API void iommusim_iotlb_gather_add_range(struct iommusim_iotlb_gather *g, uint64_t iova,
						  uint64_t size);

/** True iff @p g is not empty and [iova, iova + size) neither overlaps nor touches it. */
IOMMUSIM_API bool iommusim_iotlb_gather_is_disjoint(const struct iommusim_iotlb_gather *g,
						    uint64_t iova, uint64_t size);

/** Reserved regions a driver reports for a device (get_resv_regions). */
enum iommusim_resv_type {
	IOMMUSIM_RESV_DIRECT = 0,
	IOMMUSIM_RESV_DIRECT_RELAXABLE,
	IOMMUSIM_RESV_RESERVED,
	IOMMUSIM_RESV_MSI,
	IOMMUSIM_RESV_SW_MSI,
};

/** One reserved region: [start, start + length). */
struct iommusim_resv_region {
	uint64_t start;
	uint64_t length;
	enum iommusim_resv_type type;
};

/** The most reserved regions one device may report. */
#define IOMMUSIM_MAX_RESV_REGIONS 16

/** Domain geometry (struct iommu_domain_geometry). */
struct iommusim_domain_geometry {
	uint64_t aperture_start; /**< first IOVA */
	uint64_t aperture_last; /**< last IOVA, inclusive (the kernel's aperture_end) */
	bool force_aperture; /**< DMA only inside the aperture */
};

struct iommusim_iommu;
struct iommusim_device;
struct iommusim_domain;

/**
 * An IOMMU driver. Domain callbacks get the driver's per-domain pointer
 * (from domain_alloc_paging). Callbacks documented "may be NULL" are
 * optional. Thread-safety is the driver's: the core calls map/unmap/sync
 * concurrently from any thread, as the kernel does.
 */
struct iommusim_iommu_ops {
	/** Probe a new device; may set its flags (iommusim_device_set_shadow_on_flush).
	 *  @return 0 or -errno (the device is not created). */
	int (*probe_device)(void *drv, struct iommusim_device *dev);
	/** Undo probe_device. May be NULL. */
	void (*release_device)(void *drv, struct iommusim_device *dev);
	/** Does the IOMMU, for this device, have @p cap? */
	bool (*capable)(void *drv, struct iommusim_device *dev, enum iommusim_iommu_cap cap);
	/** The driver's required default domain type, or IOMMUSIM_DOMAIN_NONE. May be NULL. */
	enum iommusim_domain_type (*def_domain_type)(void *drv, struct iommusim_device *dev);
	/** Fill up to @p max reserved regions; *n the number. May be NULL (none). */
	int (*get_resv_regions)(void *drv, struct iommusim_device *dev,
				struct iommusim_resv_region *regions, size_t max, size_t *n);
	/** Allocate a paging domain: set *dom_priv, and geometry and page sizes
	 *  through iommusim_domain_set_geometry()/_set_pgsize_bitmap(). */
	int (*domain_alloc_paging)(void *drv, struct iommusim_device *dev,
				   struct iommusim_domain *dom, void **dom_priv);
	/** Free a domain no device is attached to (paging or identity). */
	void (*domain_free)(void *dom_priv);
	/** Attach (moving the device from any previous domain). */
	int (*attach_dev)(void *dom_priv, struct iommusim_device *dev,
			  const struct iommusim_ctx *ctx);
	/** Detach. May be NULL. */
	void (*detach_dev)(void *dom_priv, struct iommusim_device *dev,
			   const struct iommusim_ctx *ctx);
	/** Map @p pgcount pages of @p pgsize; *mapped = bytes mapped on success. */
	int (*map_pages)(void *dom_priv, uint64_t iova, uint64_t paddr, uint64_t pgsize,
			 uint64_t pgcount, unsigned prot, uint64_t *mapped,
			 const struct iommusim_ctx *ctx);
	/** Unmap up to @p pgcount pages; returns bytes unmapped (0 stops the core's loop). */
	uint64_t (*unmap_pages)(void *dom_priv, uint64_t iova, uint64_t pgsize, uint64_t pgcount,
				struct iommusim_iotlb_gather *gather,
				const struct iommusim_ctx *ctx);
	/** Invalidate everything. May be NULL. */
	void (*flush_iotlb_all)(void *dom_priv, const struct iommusim_ctx *ctx);
	/** Make a new mapping visible; an error makes iommu_map undo it (v6.7). May be NULL. */
	int (*iotlb_sync_map)(void *dom_priv, uint64_t iova, uint64_t size,
			      const struct iommusim_ctx *ctx);
	/** Invalidate the gathered range. May be NULL. */
	void (*iotlb_sync)(void *dom_priv, struct iommusim_iotlb_gather *gather,
			   const struct iommusim_ctx *ctx);
	/** Translate (0 if unmapped). */
	uint64_t (*iova_to_phys)(void *dom_priv, uint64_t iova);
	/** The driver's identity domain for @p dev (ops->identity_domain): set
	 *  *dom_priv; attach_dev, detach_dev and domain_free then get it. May be
	 *  NULL: no identity domain. @return 0; -EOPNOTSUPP when this device
	 *  has none; -ENOMEM */
	int (*domain_alloc_identity)(void *drv, struct iommusim_device *dev,
				     struct iommusim_domain *dom, void **dom_priv);
	/** Room to grow (docs/abi.md): NULL, or the table is refused (-EINVAL). */
	void (*reserved0)(void);
	void (*reserved1)(void);
	void (*reserved2)(void);
	void (*reserved3)(void);
};

/**
 * Boot parameters and build options that decide domain types (§2.6).
 * Zero-initialised means: Kconfig lazy default, no command-line override.
 */
struct iommusim_iommu_policy {
	bool kconfig_strict; /**< CONFIG_IOMMU_DEFAULT_DMA_STRICT (x86 and s390 default: lazy) */
	bool strict_set; /**< iommu.strict= was on the command line ... */
	bool strict; /**< ... with this value */
	bool s390_strict; /**< s390_iommu=strict: iommu_set_dma_strict() */
	bool passthrough; /**< iommu.passthrough=1: identity default domains */
	bool forcedac; /**< iommu.forcedac=1 (s390 always sets it) */
	/** Room to grow (docs/abi.md): zero, or the call fails with -EINVAL. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/**
 * Register an IOMMU (driver ops + driver data + policy).
 * @return 0; -EINVAL on NULL ops/out or missing mandatory ops (probe_device,
 *         capable, domain_alloc_paging, domain_free, attach_dev, map_pages,
 *         unmap_pages, iova_to_phys); -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_iommu_create(const struct iommusim_iommu_ops *ops, void *drv,
		      const struct iommusim_iommu_policy *policy, struct iommusim_iommu **out);

/** Unregister (NULL is a no-op); all its devices must be destroyed first. */
IOMMUSIM_API void iommusim_iommu_destroy(struct iommusim_iommu *iommu);

/** The driver data passed at creation. */
IOMMUSIM_API void *iommusim_iommu_drvdata(const struct iommusim_iommu *iommu);

/** Whether DMA domains are strict (iommu_dma_strict after Kconfig, iommu.strict and s390_iommu=strict). */
IOMMUSIM_API bool iommusim_iommu_dma_strict(const struct iommusim_iommu *iommu);

/** A device as the IOMMU core sees it. */
struct iommusim_device_cfg {
	const char *name; /**< copied; NULL = "dev<N>" */
	bool is_pci; /**< a PCI device */
	bool untrusted; /**< pci_dev->untrusted: always strict */
	uint64_t dma_mask; /**< 0 = 64 bit */
	uint64_t coherent_dma_mask; /**< 0 = 64 bit */
	uint64_t bus_dma_limit; /**< 0 = none */
	uint64_t seg_boundary_mask; /**< 0 = 0xffffffff (the PCI core's default) */
	uint32_t max_seg_size; /**< 0 = 65536 (the PCI core's default) */
	void *drvdata; /**< the IOMMU driver's device (s390: struct iommusim_zpci_fn *) */
	/** Room to grow (docs/abi.md): zero, or the call fails with -EINVAL. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/**
 * Create a device and probe it with the IOMMU's driver
 * (__iommu_probe_device): pci_32bit_workaround = is_pci && !forcedac.
 * @return 0; -EINVAL on NULL; the driver's probe error; -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_device_create(struct iommusim_iommu *iommu,
							   const struct iommusim_device_cfg *cfg,
							   struct iommusim_device **out);

/** Detach from its domain (if any), release and free (NULL is a no-op). */
IOMMUSIM_API void iommusim_device_destroy(struct iommusim_device *dev,
					  const struct iommusim_ctx *ctx);

/** What the core knows about a device (dev->iommu and friends). */
struct iommusim_device_info {
	const char *name; /**< valid while the device lives */
	bool is_pci, untrusted;
	bool shadow_on_flush; /**< dev->iommu->shadow_on_flush */
	bool pci_32bit_workaround; /**< dev->iommu->pci_32bit_workaround */
	uint64_t dma_mask, coherent_dma_mask, bus_dma_limit, seg_boundary_mask;
	uint32_t max_seg_size;
	struct iommusim_domain *domain; /**< attached domain or NULL */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/** @return 0; -EINVAL on NULL */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_device_info_get(const struct iommusim_device *dev,
							     struct iommusim_device_info *out);
IOMMUSIM_API void *iommusim_device_drvdata(const struct iommusim_device *dev);
IOMMUSIM_API struct iommusim_iommu *iommusim_device_iommu(const struct iommusim_device *dev);
/** The IOMMU driver's per-device data (dev_iommu_priv_set/get). */
IOMMUSIM_API void iommusim_device_set_iommu_priv(struct iommusim_device *dev, void *priv);
IOMMUSIM_API void *iommusim_device_iommu_priv(const struct iommusim_device *dev);
/** Set by a driver's probe (s390: when tlb_refresh). */
IOMMUSIM_API void iommusim_device_set_shadow_on_flush(struct iommusim_device *dev, bool on);
/** Cleared by dma-iommu after a failed 32-bit-first allocation. */
IOMMUSIM_API void iommusim_device_set_pci_32bit_workaround(struct iommusim_device *dev, bool on);
/** Change the device's DMA masks (as a driver's dma_set_mask_and_coherent). */
IOMMUSIM_API void iommusim_device_set_dma_masks(struct iommusim_device *dev, uint64_t dma_mask,
						uint64_t coherent_dma_mask);

/** Flush-queue options dma-iommu derives from the first device (§2.5). */
struct iommusim_fq_options {
	bool single_queue; /**< one queue for all CPUs (shadow_on_flush) */
	uint32_t size; /**< ring size, a power of two */
	uint32_t timeout_ms; /**< flush timer */
};

/** The default-domain decision for a device, step by step (§2.6, TV-27). */
struct iommusim_domain_decision {
	enum iommusim_domain_type global_default; /**< identity / DMA / DMA-FQ from the policy */
	enum iommusim_domain_type driver_type; /**< the driver's def_domain_type (or NONE) */
	enum iommusim_domain_type requested; /**< after untrusted and driver rules */
	enum iommusim_domain_type effective; /**< after the DEFERRED_FLUSH gate */
	bool downgraded_no_deferred_flush; /**< DMA-FQ became DMA: no IOMMUSIM_CAP_DEFERRED_FLUSH */
	/** Set by iommusim_iommu_alloc_default_domain(): the default type could
	 *  not be allocated (no identity domain), so DMA was, as
	 *  iommu_group_alloc_default_domain() falls back; effective is DMA. */
	bool fell_back_to_dma;
	struct iommusim_fq_options fq; /**< valid when effective is DMA-FQ */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/**
 * Decide the default domain type for @p dev: the global default (identity
 * with passthrough, else DMA when iommu_dma_strict, else DMA-FQ), the
 * driver's def_domain_type, an untrusted PCI device forced to DMA, then the
 * dma-iommu gate (DMA-FQ without IOMMUSIM_CAP_DEFERRED_FLUSH becomes DMA) and
 * the queue options from shadow_on_flush (single 32768/1000 ms, else per-CPU
 * 256/10 ms).
 * @return 0; -EINVAL on NULL, or when the driver demands a non-DMA type for
 *         an untrusted device (probing fails in the kernel)
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_iommu_decide_domain_type(struct iommusim_device *dev,
				  struct iommusim_domain_decision *out);

/**
 * Allocate a domain of @p type through the driver, for devices like @p dev:
 * a paging domain (DMA, DMA-FQ or UNMANAGED), or the identity domain.
 * @return 0; -EINVAL on NULL or another type; -EOPNOTSUPP for identity when
 *         the driver has none for @p dev; the driver's error; -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_domain_alloc(struct iommusim_device *dev,
							  enum iommusim_domain_type type,
							  struct iommusim_domain **out);

/**
 * The default domain of @p dev, as the kernel makes it (§2.6): decide the
 * type (iommusim_iommu_decide_domain_type() into @p dd), allocate it, and
 * when the global default (identity, DMA-FQ) cannot be allocated and no
 * driver or untrusted rule asked for it, fall back to DMA and say so in
 * @p dd (the kernel warns "Failed to allocate default IOMMU domain of type
 * ... - Falling back to IOMMU_DOMAIN_DMA"). The domain is not attached.
 * @return 0; the errors of iommusim_iommu_decide_domain_type() and
 *         iommusim_domain_alloc()
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_iommu_alloc_default_domain(struct iommusim_device *dev,
				    struct iommusim_domain_decision *dd,
				    struct iommusim_domain **out);

/** Free a domain (NULL is a no-op); no device may be attached. */
IOMMUSIM_API void iommusim_domain_free(struct iommusim_domain *dom);

/** For drivers, in domain_alloc_paging. */
IOMMUSIM_API void iommusim_domain_set_geometry(struct iommusim_domain *dom,
					       const struct iommusim_domain_geometry *geo);
IOMMUSIM_API void iommusim_domain_set_pgsize_bitmap(struct iommusim_domain *dom,
						    uint64_t pgsize_bitmap);

/** Facts about a domain. */
struct iommusim_domain_info {
	enum iommusim_domain_type type;
	struct iommusim_domain_geometry geometry;
	uint64_t pgsize_bitmap;
	unsigned ndevices; /**< attached devices */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/** @return 0; -EINVAL on NULL */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_domain_info_get(const struct iommusim_domain *dom,
							     struct iommusim_domain_info *out);

/** The driver's per-domain pointer. */
IOMMUSIM_API void *iommusim_domain_priv(const struct iommusim_domain *dom);

/**
 * Change the type between DMA and DMA-FQ (the dma-iommu downgrade and the
 * sysfs DMA -> DMA-FQ switch, which does not re-check the capability).
 * @return 0; -EINVAL on NULL or another type
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_domain_set_type(struct iommusim_domain *dom,
							     enum iommusim_domain_type type);

/**
 * Attach @p dev to @p dom through the driver (which moves it from its
 * previous domain).
 * @return 0; -EINVAL on NULL or a device of another IOMMU; the driver's error
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_iommu_attach_device(struct iommusim_domain *dom,
								 struct iommusim_device *dev,
								 const struct iommusim_ctx *ctx);

/** Detach @p dev from @p dom. @return 0; -EINVAL if not attached there */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_iommu_detach_device(struct iommusim_domain *dom,
								 struct iommusim_device *dev,
								 const struct iommusim_ctx *ctx);

/**
 * iommu_map() as of v6.7 (§2.9): iova, paddr and size must be aligned to the
 * smallest page size (-EINVAL); map_pages is called with the page size and
 * count iommu_pgsize() chooses, until done; on failure whatever was mapped is
 * unmapped again (iommu_unmap, with its iotlb_sync). After success
 * iotlb_sync_map is called; if it fails the whole range is unmapped
 * (iommu_unmap) and its error returned.
 * @return 0; -EINVAL (size 0, misaligned, not a paging domain); the driver's error
 * Thread-safety: concurrent calls on disjoint ranges, as in the kernel.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_iommu_map(struct iommusim_domain *dom, uint64_t iova,
						       uint64_t paddr, uint64_t size, unsigned prot,
						       const struct iommusim_ctx *ctx);

/** One element of a scatterlist for iommusim_iommu_map_sg(). */
struct iommusim_sg_entry {
	uint64_t paddr; /**< page aligned */
	uint64_t len; /**< page-size multiple */
};

/**
 * iommu_map_sg(): map the entries back to back from @p iova (each through the
 * map loop without sync), then one iotlb_sync_map over the total; any failure
 * unmaps everything mapped so far and returns the error.
 * @param mapped_out total bytes mapped, written on success
 * @return 0; -EINVAL; the driver's error
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_iommu_map_sg(struct iommusim_domain *dom, uint64_t iova,
		      const struct iommusim_sg_entry *sg, size_t nents, unsigned prot,
		      const struct iommusim_ctx *ctx, uint64_t *mapped_out);

/**
 * iommu_unmap_fast(): unmap_pages in iommu_pgsize() chunks, stopping at the
 * first that unmaps nothing; the driver widens @p gather; no invalidation.
 * @param unmapped_out bytes unmapped (the kernel's return value)
 * @return 0; -EINVAL on NULL, size 0, misalignment (the kernel warns and
 *         unmaps nothing) or a domain that is not paging
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_iommu_unmap_fast(struct iommusim_domain *dom,
							      uint64_t iova, uint64_t size,
							      struct iommusim_iotlb_gather *gather,
							      const struct iommusim_ctx *ctx,
							      uint64_t *unmapped_out);

/**
 * iommu_unmap(): a fresh gather, iommu_unmap_fast, then iommu_iotlb_sync.
 * @return as iommusim_iommu_unmap_fast()
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_iommu_unmap(struct iommusim_domain *dom, uint64_t iova,
							 uint64_t size,
							 const struct iommusim_ctx *ctx,
							 uint64_t *unmapped_out);

/** iommu_iotlb_sync(): the driver's iotlb_sync, then the gather is reset. */
IOMMUSIM_API void iommusim_iommu_iotlb_sync(struct iommusim_domain *dom,
					    struct iommusim_iotlb_gather *gather,
					    const struct iommusim_ctx *ctx);

/**
 * iommu_iotlb_gather_add_page(): if @p gather holds pages of another size or
 * the new page is disjoint from it, sync it first; then add the page.
 */
IOMMUSIM_API void iommusim_iommu_gather_add_page(struct iommusim_domain *dom,
						 struct iommusim_iotlb_gather *gather,
						 uint64_t iova, uint64_t size,
						 const struct iommusim_ctx *ctx);

/** iommu_flush_iotlb_all(): the driver's flush_iotlb_all, if any. */
IOMMUSIM_API void iommusim_iommu_flush_iotlb_all(struct iommusim_domain *dom,
						 const struct iommusim_ctx *ctx);

/** iommu_iova_to_phys() (0 when unmapped; identity domains return iova). */
IOMMUSIM_API uint64_t iommusim_iommu_iova_to_phys(struct iommusim_domain *dom, uint64_t iova);

/**
 * The device's reserved regions (iommu_get_resv_regions).
 * @return 0; -EINVAL on NULL; the driver's error
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_device_resv_regions(struct iommusim_device *dev, struct iommusim_resv_region *regions,
			     size_t max, size_t *n);

/** device_iommu_capable(). */
IOMMUSIM_API bool iommusim_device_capable(struct iommusim_device *dev, enum iommusim_iommu_cap cap);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_IOMMU_H */
