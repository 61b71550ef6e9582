/* SPDX-License-Identifier: MIT */
/**
 * @file
 * A paging hypervisor's shadow of a guest's s390 translation tables
 * (COST_MODEL.md §1.1; QEMU's RPCIT emulation for vfio-pci passthrough,
 * described in our own words, and z/VM's CP by analogy, §1.2).
 *
 * On every RPCIT the hypervisor walks the guest's tables over the range, one
 * 8-byte load per level, skipping a whole 2 GiB frame at an invalid region
 * entry and a whole 1 MiB at an invalid segment entry. Each 4 KiB result is
 * compared with the shadow (a hash keyed by IOVA): a valid entry that is new
 * or changed is inserted (one host map, pinning the page; a changed entry is
 * unmapped first), consuming one entry of a limited pool; an invalid entry
 * that is shadowed is removed, returning its entry, and its unmap is
 * coalesced with its neighbours into power-of-two aligned runs (one host
 * unmap call per run). When the pool is empty new mappings are skipped but
 * the walk goes on; if something was skipped and room appeared later in the
 * walk, the range is walked a second time; mappings still unsatisfied make
 * the RPCIT answer cc 1 with status 16 (insufficient resources).
 *
 * So lazily unmapped guest IOVAs hold pool entries until a refresh covers
 * them, and the cost of a global refresh grows with the populated part of the
 * tables, not with the number of queued IOVAs. The module only counts what it
 * does; the platform model turns the counts into cycles.
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

/** What one refresh did. */
struct iommusim_shadow_result {
	unsigned cc; /**< 0, or 1 (status 16 on exhaustion, 8 on a bad range or no IOTA) */
	uint8_t status;
	uint64_t loads; /**< 8-byte table loads (region, segment and page entries) */
	uint64_t walked_slots; /**< 4 KiB slots whose PTE was read (both passes) */
	uint64_t region_skips; /**< invalid region entries that skipped a 2 GiB frame */
	uint64_t segment_skips; /**< invalid segment entries that skipped 1 MiB */
	uint64_t maps; /**< entries inserted (host maps, pins) */
	uint64_t remaps; /**< ... of which replaced a changed entry (unmapped first) */
	uint64_t unmaps; /**< stale entries removed */
	uint64_t unmap_runs; /**< coalesced host unmap calls */
	uint64_t skipped; /**< mappings skipped for want of entries (after both passes) */
	bool second_pass; /**< the range was walked twice */
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

/** @return 0; -EINVAL on NULL; -ENOMEM */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_shadow_create(struct iommusim_shadow_pool *pool,
							   struct iommusim_shadow **out);
/** Drop every entry (returning them to the pool) and free. NULL is a no-op. */
IOMMUSIM_API void iommusim_shadow_destroy(struct iommusim_shadow *s);

/**
 * Handle one RPCIT over [addr, addr + range) against the guest tables whose
 * root is at @p table_origin (an IOTA registered with pba/pal bounds):
 * fails (cc 1, status 8) when no table is given or the range is not inside
 * [pba, pal]; otherwise walks, updates the shadow and answers as described
 * in the file comment.
 * @return 0 (the answer is in @p res); -EINVAL on NULL or range 0; -ENOMEM
 *         if a shadow entry could not be allocated (the walk stops there,
 *         the shadow and the pool stay consistent, @p res is not written)
 * Thread-safety: one refresh at a time per shadow (the hypervisor
 * serialises); pools are shared safely.
 */
IOMMUSIM_API int iommusim_shadow_refresh(struct iommusim_shadow *s, uint64_t table_origin,
					 uint64_t pba, uint64_t pal, uint64_t addr, uint64_t range,
					 struct iommusim_shadow_result *res);

/** Entries currently shadowed. */
IOMMUSIM_API uint64_t iommusim_shadow_entries(const struct iommusim_shadow *s);

/** The shadowed frame of @p iova, if any. @return 0; -ENOENT; -EINVAL on NULL @p s */
IOMMUSIM_API int iommusim_shadow_lookup(const struct iommusim_shadow *s, uint64_t iova,
					uint64_t *frame_out);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_SHADOW_H */
