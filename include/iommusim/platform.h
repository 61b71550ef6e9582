/* SPDX-License-Identifier: MIT */
/**
 * @file
 * Platform and hypervisor profiles and models (COST_MODEL.md §1-§2): LPAR,
 * z/VM, KVM (QEMU + vfio) and, for comparison, x86 bare-metal VT-d and an x86
 * guest with virtio-iommu.
 *
 * A profile is data: the platform clock and every cost, each under a key
 * that `iommusim profile show` prints and `--set key=value` or a job file
 * overrides. A platform model answers the RPCITs of the zPCI functions it
 * owns (it is their struct iommusim_zpci_platform_ops): LPAR firmware answers
 * at once; z/VM and KVM keep a real shadow of the guest's tables
 * (iommusim/shadow.h) with an entry limit, so the cost of a global refresh
 * and the moment status 16 appears come from what was walked, mapped and
 * unmapped. Costs are charged to the issuing CPU's running work item in the
 * engine, waiting for the hypervisor server when the platform serialises.
 *
 * Thread-safety: the built-in profiles are constant and the profile and key
 * functions pure, callable from any thread. A platform model charges its
 * engine, which is used by one thread at a time (sim.h): its RPCITs come
 * from that thread. Its shadows and statistics are under a mutex, so
 * iommusim_platform_stats_get() may be called from any thread.
 */
#ifndef IOMMUSIM_PLATFORM_H
#define IOMMUSIM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <iommusim/common.h>
#include <iommusim/keys.h>
#include <iommusim/sim.h>
#include <iommusim/zpci.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How RPCITs (or invalidations) are handled. */
enum iommusim_platform_kind {
	IOMMUSIM_PLATFORM_LPAR = 0, /**< firmware; no shadow, no map-time refresh */
	IOMMUSIM_PLATFORM_ZVM, /**< CP shadows in the hypervisor */
	IOMMUSIM_PLATFORM_KVM, /**< QEMU shadows in userspace with vfio maps */
	IOMMUSIM_PLATFORM_X86_VTD, /**< bare-metal VT-d (comparison) */
	IOMMUSIM_PLATFORM_X86_VIRTIO, /**< x86 guest with virtio-iommu (comparison) */
};

/** Which CPU takes a device's completion interrupt. */
enum iommusim_irq_delivery {
	IOMMUSIM_IRQ_SUBMITTING = 0, /**< the submitting CPU (a vector per CPU queue) */
	IOMMUSIM_IRQ_FLOATING, /**< any CPU: s390 floating interrupts, a seeded uniform pick */
	IOMMUSIM_IRQ_DIRECTED, /**< one CPU, irq_cpu (a single vector directed there) */
};

/**
 * A platform profile: every number of the cost model (docs/calibration.md
 * says where each comes from), in cycles unless named otherwise, and the
 * switches of the hypervisor's mechanisms. A refresh (RPCIT, or an
 * invalidation request) costs its base (map-time, ranged or global) plus
 * what its walk did (iommusim/shadow.h): per guest-table load, per shadow
 * lookup (one per 4 KiB of the range), per insert and removal, per host map
 * (a page newly shadowed and pinned) and per host unmap call. LPAR firmware
 * walks nothing, so only the bases count there.
 */
struct iommusim_profile {
	char name[16]; /**< "lpar", "zvm", "kvm", "kvm-qemu7.1", "x86-vtd", "x86-virtio" */
	enum iommusim_platform_kind kind;
	double clock_ghz; /**< 5.2 for IBM Z, 3.0 for x86 */
	uint64_t hz; /**< the guest kernel's HZ (timers run on ticks); 0 = exact ms */
	enum iommusim_irq_delivery irq; /**< where completions run */
	uint64_t irq_cpu; /**< the CPU of IOMMUSIM_IRQ_DIRECTED (mod the run's CPUs) */
	bool tlb_refresh; /**< functions must announce new mappings */
	bool serialised; /**< one hypervisor server handles all refreshes */
	uint64_t shadow_limit; /**< shadow entries (vfio dma_entry_limit); 0 = none */
	bool aperture_bound; /**< DMA window cut to shadow_limit pages (QEMU 8.0, df202e3ff3) */
	bool second_pass; /**< a refresh that ran out repeats while room appears (QEMU 7.2) */
	bool coalesce_unmaps; /**< host unmaps per power-of-two run, not per page (QEMU 8.0) */
	bool page_lookups; /**< a lookup per 4 KiB even under invalid entries (QEMU) */
	uint64_t iova_alloc_hit; /**< IOVA alloc from a magazine */
	uint64_t iova_free_hit; /**< IOVA free to a magazine */
	uint64_t iova_alloc_tree; /**< IOVA alloc from the rbtree, plus ... */
	uint64_t iova_walk_node; /**< ... per node the kernel's walk visits */
	uint64_t pte_set; /**< per 4 KiB PTE written */
	uint64_t pte_clear; /**< per 4 KiB PTE cleared */
	uint64_t request_build; /**< virtio-iommu: building a request, per page */
	uint64_t map_sync_base; /**< map-time refresh: intercept or exit */
	uint64_t sync_base; /**< ranged refresh of a strict unmap */
	uint64_t global_base; /**< global refresh */
	uint64_t walk_per_load; /**< per 8-byte guest-table load of a walk */
	uint64_t walk_per_lookup; /**< per shadow lookup: one per 4 KiB of the range */
	uint64_t shadow_insert; /**< per entry inserted, beyond its lookup */
	uint64_t shadow_remove; /**< per entry removed, beyond its lookup */
	uint64_t per_host_map; /**< per page newly shadowed (vfio map, pin) */
	uint64_t per_host_unmap; /**< per host unmap call */
	uint64_t fq_enqueue; /**< flush-queue enqueue */
	uint64_t bounce_base; /**< bounce copy: base ... */
	double bounce_per_byte; /**< ... per byte */
	/** Room to grow (docs/abi.md): zero, or the call fails with -EINVAL. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/** The built-in profiles, in the order `profile list` prints them. */
IOMMUSIM_API size_t iommusim_profile_count(void);
/** Built-in profile @p i (0-based), or NULL. */
IOMMUSIM_API const struct iommusim_profile *iommusim_profile_at(size_t i);
/** A built-in profile by name (see struct iommusim_profile's name), or NULL. */
IOMMUSIM_API const struct iommusim_profile *iommusim_profile_find(const char *name);

/** The name of an irq delivery ("submitting", ...), or NULL. */
IOMMUSIM_API const char *iommusim_irq_delivery_name(enum iommusim_irq_delivery d);

/**
 * Override one key from text, as `--set key=value` does: @p key is a field
 * name of struct iommusim_profile ("global_base", "shadow_limit",
 * "clock_ghz", "serialised"...), read by its row of the key table
 * (iommusim_profile_key_find(); iommusim_key_set() gives the message): a
 * count for cycles and shadow_limit, a count up to IOMMUSIM_HZ_MAX for hz,
 * submitting, floating or directed for irq (any case), a real for clock_ghz
 * (IOMMUSIM_SIM_CLOCK_GHZ_MIN to _MAX, what the engine takes) and
 * bounce_per_byte, a boolean for the switches.
 * @return 0; -ENOENT for an unknown key; -EINVAL for a bad value (nothing changed)
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_profile_set(struct iommusim_profile *p,
							 const char *key, const char *value);

/**
 * The DMA window the hypervisor advertises for a function (CLP Query PCI
 * Function's sdma/edma), given the host's [@p start, *@p end]: with
 * aperture_bound and a shadow_limit, QEMU cuts it to start + shadow_limit
 * pages (df202e3ff3; only when vfio reports a limit, 8011b508cf); otherwise
 * it is the host's. @p end is updated in place.
 */
IOMMUSIM_API void iommusim_profile_dma_window(const struct iommusim_profile *p, uint64_t start,
					      uint64_t *end);

/**
 * The profile's rows of the key table (iommusim/keys.h): key @p i (0-based)
 * in `profile show` order, or NULL past the last. Each row's offset is into
 * struct iommusim_profile.
 */
IOMMUSIM_API const struct iommusim_key *iommusim_profile_key_at(size_t i);
/** The profile key named @p name, or NULL. */
IOMMUSIM_API const struct iommusim_key *iommusim_profile_key_find(const char *name);

/**
 * Print a profile as `key = value` lines, one per key, with a comment on
 * each naming its unit.
 * @return 0; -EINVAL; -EIO on a write error
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_profile_print(FILE *f,
							   const struct iommusim_profile *p);

/** What a platform model did. */
struct iommusim_platform_stats {
	uint64_t rpcits; /**< refreshes handled */
	uint64_t global; /**< ... of which covered the whole window */
	uint64_t status16; /**< answered cc 1 / status 16 */
	uint64_t host_maps; /**< shadow inserts (vfio maps, pins) */
	uint64_t host_unmap_calls; /**< host unmap calls */
	uint64_t steps; /**< table walks (steps of the RPCIT loop) */
	uint64_t loads; /**< guest-table loads */
	uint64_t lookups; /**< shadow lookups (4 KiB pages processed) */
	uint64_t busy_cycles; /**< cycles of hypervisor work charged */
	uint64_t shadow_entries; /**< entries shadowed now (all functions) */
	uint64_t max_shadow_entries; /**< ... at most */
	uint64_t shadow_alloc_failures; /**< refreshes failed for want of host memory */
	uint64_t cost_overflows; /**< refreshes whose cost did not fit 64 bits (saturated) */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/** A platform model bound to an engine. Opaque. */
struct iommusim_platform;

/**
 * A model of @p profile on @p sim. The profile is copied.
 * @return 0; -EINVAL; -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_platform_create(const struct iommusim_profile *profile,
							     struct iommusim_sim *sim,
							     struct iommusim_platform **out);
/** Every function must be destroyed first. NULL is a no-op. */
IOMMUSIM_API void iommusim_platform_destroy(struct iommusim_platform *pl);

/** The ops to put in struct iommusim_zpci_fn_cfg.platform (priv: the model). */
extern IOMMUSIM_API const struct iommusim_zpci_platform_ops iommusim_platform_zpci_ops;

/** The profile in force. */
IOMMUSIM_API const struct iommusim_profile *
iommusim_platform_profile(const struct iommusim_platform *pl);

/** @return 0; -EINVAL */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_platform_stats_get(const struct iommusim_platform *pl,
			    struct iommusim_platform_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_PLATFORM_H */
