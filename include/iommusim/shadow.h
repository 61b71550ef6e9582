/* SPDX-License-Identifier: MIT */
/**
 * @file
 * A paging hypervisor's shadow of a guest's s390 translation tables, as
 * QEMU's RPCIT emulation for vfio-pci passthrough keeps it
 * (hw/s390x/s390-pci-inst.c: rpcit_service_call, s390_pci_update_iotlb;
 * described in our own words, docs/model.md), and z/VM's CP by analogy.
 *
 * One RPCIT over [addr, addr + range) loops over the range one *step* at a
 * time. A step walks the guest table from its root for the step's address,
 * one 8-byte load per level, and stops at the first invalid entry: 1 load at
 * an invalid region entry (the step covers 2 GiB), 2 at an invalid segment
 * entry (1 MiB), 3 at a page entry (4 KiB). The next step starts that many
 * bytes further on, from the step's own (possibly unaligned) address. Within
 * a step the shadow IOTLB (a hash keyed by IOVA) is consulted once per 4 KiB
 * page, so skipping a frame saves table loads but not lookups: a refresh
 * costs lookups in proportion to the length of its range, populated or not.
 *
 * Per page: a valid entry that is new or changed is inserted (a host map
 * that pins the page; a changed one is unmapped first), taking one entry of
 * the container's pool; an invalid entry that is shadowed is removed,
 * returning its entry. When the pool is empty, a valid page is skipped
 * before any lookup (shadowed or not) and the rest of its step with it;
 * invalid pages are still processed. Host unmaps are issued per removed page
 * (QEMU before 8.0) or, with coalescing (QEMU 8.0, ef536007c3), once per
 * naturally aligned power-of-two piece of each run of consecutive invalid
 * page entries, shadowed or not (a valid page, an invalid segment or region
 * entry, or the end of a pass ends a run; pages removed under an invalid
 * segment or region entry then get no host unmap at all). With a second pass
 * (QEMU 7.2, 4a8d21ba50), a pass that skipped something is repeated over the
 * whole range while entries are free. The RPCIT answers cc 1 with status 16
 * (insufficient resources) whenever a limited pool is empty at the end, even
 * if nothing was skipped; otherwise cc 0, even if something was (QEMU 7.1).
 *
 * So lazily unmapped guest IOVAs hold pool entries until a refresh covers
 * them, and a global refresh costs what the length of the window, the
 * populated tables and the runs of invalid entries make it cost. The module
 * only counts what it does; the platform model turns the counts into cycles.
 */
#ifndef IOMMUSIM_SHADOW_H
#define IOMMUSIM_SHADOW_H

#include <stdbool.h>
#include <stdint.h>

#include <iommusim/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The entry pool shared by every shadow of one vfio container. Opaque. */
struct iommusim_shadow_pool;

/** The shadow of one function's tables (QEMU: one per device). Opaque. */
struct iommusim_shadow;

/** QEMU/vfio's default dma_entry_limit. */
#define IOMMUSIM_SHADOW_VFIO_DEFAULT_LIMIT 65535u

/** Which QEMU behaviours a shadow has (the defaults: QEMU 8.0 and later). */
struct iommusim_shadow_cfg {
	bool no_second_pass; /**< QEMU before 7.2: a pass is never repeated */
	bool no_coalesce; /**< QEMU before 8.0: one host unmap per removed page */
	/** Not QEMU: nothing is looked up under an invalid region or segment
	 *  entry; the entries shadowed there are found and dropped one by one
	 *  (one lookup each), as a shadow kept as tables can (z/VM, assumed). */
	bool skip_invalid_frames;
	/** Room to grow (docs/abi.md): zero, or the call fails with -EINVAL. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/** What one refresh did, over all its passes. */
struct iommusim_shadow_result {
	unsigned cc; /**< 0, or 1 (status 16 on exhaustion, 8 on a bad range or no IOTA) */
	uint8_t status;
	unsigned passes; /**< passes over the range (0 when refused) */
	uint64_t steps; /**< table walks, one per step */
	uint64_t loads; /**< 8-byte guest-table loads (1, 2 or 3 per step) */
	uint64_t region_skips; /**< steps that stopped at an invalid region entry */
	uint64_t segment_skips; /**< steps that stopped at an invalid segment entry */
	uint64_t lookups; /**< shadow-IOTLB lookups, one per 4 KiB page processed */
	uint64_t maps; /**< entries inserted (host maps, pins) */
	uint64_t remaps; /**< ... of which replaced a changed entry (unmapped first) */
	uint64_t unmaps; /**< stale entries removed */
	uint64_t silent_unmaps; /**< ... of which got no host unmap (coalescing, under a skip) */
	uint64_t unmap_calls; /**< host unmap calls (per page, or per coalesced piece) */
	uint64_t skipped; /**< valid pages skipped for want of entries, in the last pass */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/**
 * @param entry_limit pool size (vfio dma_entry_limit); 0 = unlimited
 * @return 0; -EINVAL on NULL; -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_shadow_pool_create(uint64_t entry_limit,
								struct iommusim_shadow_pool **out);
/** NULL is a no-op; every shadow of the pool must be destroyed first. */
IOMMUSIM_API void iommusim_shadow_pool_destroy(struct iommusim_shadow_pool *pool);
/** Entries left in the pool (UINT64_MAX when unlimited). */
IOMMUSIM_API uint64_t iommusim_shadow_pool_available(const struct iommusim_shadow_pool *pool);

/**
 * @param cfg the QEMU behaviours; NULL = the defaults (QEMU 8.0 and later)
 * @return 0; -EINVAL on NULL @p pool or @p out; -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_shadow_create(struct iommusim_shadow_pool *pool,
							   const struct iommusim_shadow_cfg *cfg,
							   struct iommusim_shadow **out);
/** Drop every entry (returning them to the pool) and free. NULL is a no-op. */
IOMMUSIM_API void iommusim_shadow_destroy(struct iommusim_shadow *s);

/**
 * Handle one RPCIT over [addr, addr + range) against the guest tables whose
 * root is at @p table_origin (an IOTA registered with pba/pal bounds):
 * fails (cc 1, status 8) when no table is given, the range lies wholly
 * outside [pba, pal] (QEMU refuses only that; a range that overlaps is
 * walked whole) or reaches beyond the 4 TiB a region-third table
 * translates; otherwise walks, updates the shadow and answers as described
 * in the file comment.
 * @return 0 (the answer is in @p res); -EINVAL on NULL or range 0; -ENOMEM
 *         if a shadow entry could not be allocated (the walk stops there,
 *         the shadow and the pool stay consistent, @p res is not written)
 * Thread-safety: one refresh at a time per shadow (the hypervisor
 * serialises); pools are shared safely.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_shadow_refresh(struct iommusim_shadow *s,
							    uint64_t table_origin, uint64_t pba,
							    uint64_t pal, uint64_t addr,
							    uint64_t range,
							    struct iommusim_shadow_result *res);

/** Entries currently shadowed. */
IOMMUSIM_API uint64_t iommusim_shadow_entries(const struct iommusim_shadow *s);

/** The shadowed frame of @p iova, if any. @return 0; -ENOENT; -EINVAL on NULL @p s */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_shadow_lookup(const struct iommusim_shadow *s,
							   uint64_t iova, uint64_t *frame_out);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_SHADOW_H */
