/* SPDX-License-Identifier: MIT */
/**
 * @file
 * s390 PCI I/O translation tables, bit-exact (KERNEL_SPEC §4,
 * arch/s390/include/asm/pci_dma.h): a region-third root of 2048 entries
 * mapping 4 TiB, segment tables of 2048 entries mapping 2 GiB each, page
 * tables of 256 entries mapping 1 MiB each; 4 KiB pages only.
 *
 * "Physical" addresses of tables are the simulator's host addresses of the
 * table memory: tables are allocated 16 KiB (region/segment) and 2 KiB (page)
 * aligned, so every entry has exactly the bits the hardware would see, and a
 * device or hypervisor model walks them by loading 8-byte entries from those
 * addresses (iommusim_zpci_entry_load()). Data page addresses are whatever the
 * caller maps.
 */
#ifndef IOMMUSIM_ZPCI_TABLE_H
#define IOMMUSIM_ZPCI_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <iommusim/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* §4.1, exact values. */
#define IOMMUSIM_ZPCI_IOTA_STO 0
#define IOMMUSIM_ZPCI_IOTA_RTTO 1
#define IOMMUSIM_ZPCI_IOTA_RSTO 2
#define IOMMUSIM_ZPCI_IOTA_RFTO 3
#define IOMMUSIM_ZPCI_IOTA_PFAA 4
#define IOMMUSIM_ZPCI_IOTA_IOPFAA 5
#define IOMMUSIM_ZPCI_IOTA_IOPTO 7
#define IOMMUSIM_ZPCI_IOTA_IOT_ENABLED UINT64_C(0x800)
#define IOMMUSIM_ZPCI_IOTA_DT_ST (IOMMUSIM_ZPCI_IOTA_STO << 2)
#define IOMMUSIM_ZPCI_IOTA_DT_RT (IOMMUSIM_ZPCI_IOTA_RTTO << 2)
#define IOMMUSIM_ZPCI_IOTA_DT_RS (IOMMUSIM_ZPCI_IOTA_RSTO << 2)
#define IOMMUSIM_ZPCI_IOTA_DT_RF (IOMMUSIM_ZPCI_IOTA_RFTO << 2)
#define IOMMUSIM_ZPCI_IOTA_DT_PF (IOMMUSIM_ZPCI_IOTA_PFAA << 2)
#define IOMMUSIM_ZPCI_IOTA_FS_4K 0
#define IOMMUSIM_ZPCI_IOTA_FS_1M 1
#define IOMMUSIM_ZPCI_IOTA_FS_2G 2
#define IOMMUSIM_ZPCI_KEY 0 /* PAGE_DEFAULT_KEY << 5 */
#define IOMMUSIM_ZPCI_TABLE_SIZE_RT (UINT64_C(1) << 42)
#define IOMMUSIM_ZPCI_IOTA_STO_FLAG \
	(IOMMUSIM_ZPCI_IOTA_IOT_ENABLED | IOMMUSIM_ZPCI_KEY | IOMMUSIM_ZPCI_IOTA_DT_ST)
#define IOMMUSIM_ZPCI_IOTA_RTTO_FLAG \
	(IOMMUSIM_ZPCI_IOTA_IOT_ENABLED | IOMMUSIM_ZPCI_KEY | IOMMUSIM_ZPCI_IOTA_DT_RT)
#define IOMMUSIM_ZPCI_IOTA_RSTO_FLAG \
	(IOMMUSIM_ZPCI_IOTA_IOT_ENABLED | IOMMUSIM_ZPCI_KEY | IOMMUSIM_ZPCI_IOTA_DT_RS)
#define IOMMUSIM_ZPCI_IOTA_RFTO_FLAG \
	(IOMMUSIM_ZPCI_IOTA_IOT_ENABLED | IOMMUSIM_ZPCI_KEY | IOMMUSIM_ZPCI_IOTA_DT_RF)
#define IOMMUSIM_ZPCI_IOTA_RFAA_FLAG \
	(IOMMUSIM_ZPCI_IOTA_IOT_ENABLED | IOMMUSIM_ZPCI_IOTA_DT_PF | IOMMUSIM_ZPCI_IOTA_FS_2G)
#define IOMMUSIM_ZPCI_INDEX_MASK 0x7ffu
#define IOMMUSIM_ZPCI_TABLE_TYPE_MASK UINT64_C(0xc)
#define IOMMUSIM_ZPCI_TABLE_TYPE_RFX UINT64_C(0xc)
#define IOMMUSIM_ZPCI_TABLE_TYPE_RSX UINT64_C(0x8)
#define IOMMUSIM_ZPCI_TABLE_TYPE_RTX UINT64_C(0x4)
#define IOMMUSIM_ZPCI_TABLE_TYPE_SX UINT64_C(0x0)
#define IOMMUSIM_ZPCI_TABLE_LEN_RFX UINT64_C(0x3)
#define IOMMUSIM_ZPCI_TABLE_LEN_RSX UINT64_C(0x3)
#define IOMMUSIM_ZPCI_TABLE_LEN_RTX UINT64_C(0x3)
#define IOMMUSIM_ZPCI_TABLE_OFFSET_MASK UINT64_C(0xc0)
#define IOMMUSIM_ZPCI_TABLE_SIZE 0x4000u
#define IOMMUSIM_ZPCI_TABLE_ALIGN 0x4000u
#define IOMMUSIM_ZPCI_TABLE_ENTRY_SIZE 8u
#define IOMMUSIM_ZPCI_TABLE_ENTRIES 2048u
#define IOMMUSIM_ZPCI_TABLE_BITS 11
#define IOMMUSIM_ZPCI_PT_BITS 8
#define IOMMUSIM_ZPCI_ST_SHIFT (IOMMUSIM_ZPCI_PT_BITS + IOMMUSIM_PAGE_SHIFT)
#define IOMMUSIM_ZPCI_RT_SHIFT (IOMMUSIM_ZPCI_ST_SHIFT + IOMMUSIM_ZPCI_TABLE_BITS)
#define IOMMUSIM_ZPCI_RTE_FLAG_MASK UINT64_C(0x3fff)
#define IOMMUSIM_ZPCI_RTE_ADDR_MASK (~IOMMUSIM_ZPCI_RTE_FLAG_MASK)
#define IOMMUSIM_ZPCI_STE_FLAG_MASK UINT64_C(0x7ff)
#define IOMMUSIM_ZPCI_STE_ADDR_MASK (~IOMMUSIM_ZPCI_STE_FLAG_MASK)
#define IOMMUSIM_ZPCI_PTE_VALID_MASK UINT64_C(0x400)
#define IOMMUSIM_ZPCI_PTE_INVALID UINT64_C(0x400)
#define IOMMUSIM_ZPCI_PTE_VALID UINT64_C(0x000)
#define IOMMUSIM_ZPCI_PT_SIZE 0x800u
#define IOMMUSIM_ZPCI_PT_ALIGN 0x800u
#define IOMMUSIM_ZPCI_PT_ENTRIES 256u
#define IOMMUSIM_ZPCI_PT_MASK 255u
#define IOMMUSIM_ZPCI_PTE_FLAG_MASK UINT64_C(0xfff)
#define IOMMUSIM_ZPCI_PTE_ADDR_MASK (~IOMMUSIM_ZPCI_PTE_FLAG_MASK)
#define IOMMUSIM_ZPCI_TABLE_VALID UINT64_C(0x00)
#define IOMMUSIM_ZPCI_TABLE_INVALID UINT64_C(0x20)
#define IOMMUSIM_ZPCI_TABLE_PROTECTED UINT64_C(0x200)
#define IOMMUSIM_ZPCI_TABLE_UNPROTECTED UINT64_C(0x000)
#define IOMMUSIM_ZPCI_TABLE_VALID_MASK UINT64_C(0x20)
#define IOMMUSIM_ZPCI_TABLE_PROT_MASK UINT64_C(0x200)

/* §4.2: index of an IOVA in each level. */
static inline unsigned
iommusim_zpci_rtx(uint64_t iova)
{
	return (unsigned)(iova >> IOMMUSIM_ZPCI_RT_SHIFT) & IOMMUSIM_ZPCI_INDEX_MASK;
}

static inline unsigned
iommusim_zpci_sx(uint64_t iova)
{
	return (unsigned)(iova >> IOMMUSIM_ZPCI_ST_SHIFT) & IOMMUSIM_ZPCI_INDEX_MASK;
}

static inline unsigned
iommusim_zpci_px(uint64_t iova)
{
	return (unsigned)(iova >> IOMMUSIM_PAGE_SHIFT) & IOMMUSIM_ZPCI_PT_MASK;
}

/* §4.3: entry encodings. */

/** A valid, unprotected region-third entry pointing at segment table @p sto. */
static inline uint64_t
iommusim_zpci_rte_make(uint64_t sto)
{
	return (sto & IOMMUSIM_ZPCI_RTE_ADDR_MASK) | IOMMUSIM_ZPCI_TABLE_TYPE_RTX |
	       IOMMUSIM_ZPCI_TABLE_LEN_RTX | IOMMUSIM_ZPCI_TABLE_VALID |
	       IOMMUSIM_ZPCI_TABLE_UNPROTECTED;
}

/** A valid, unprotected segment entry pointing at page table @p pto. */
static inline uint64_t
iommusim_zpci_ste_make(uint64_t pto)
{
	return (pto & IOMMUSIM_ZPCI_STE_ADDR_MASK) | IOMMUSIM_ZPCI_TABLE_TYPE_SX |
	       IOMMUSIM_ZPCI_TABLE_VALID | IOMMUSIM_ZPCI_TABLE_UNPROTECTED;
}

/** Region or segment entry valid (invalid bit 0x20 clear). */
static inline bool
iommusim_zpci_entry_is_valid(uint64_t entry)
{
	return (entry & IOMMUSIM_ZPCI_TABLE_VALID_MASK) == IOMMUSIM_ZPCI_TABLE_VALID;
}

/** Segment-table origin of a region-third entry; 0 if invalid or not of type RTX. */
static inline uint64_t
iommusim_zpci_rte_sto(uint64_t rte)
{
	if (!iommusim_zpci_entry_is_valid(rte) ||
	    (rte & IOMMUSIM_ZPCI_TABLE_TYPE_MASK) != IOMMUSIM_ZPCI_TABLE_TYPE_RTX)
		return 0;
	return rte & IOMMUSIM_ZPCI_RTE_ADDR_MASK;
}

/** Page-table origin of a segment entry; 0 if invalid or not of type SX. */
static inline uint64_t
iommusim_zpci_ste_pto(uint64_t ste)
{
	if (!iommusim_zpci_entry_is_valid(ste) ||
	    (ste & IOMMUSIM_ZPCI_TABLE_TYPE_MASK) != IOMMUSIM_ZPCI_TABLE_TYPE_SX)
		return 0;
	return ste & IOMMUSIM_ZPCI_STE_ADDR_MASK;
}

/** PTE valid (0x400 clear). */
static inline bool
iommusim_zpci_pte_is_valid(uint64_t pte)
{
	return (pte & IOMMUSIM_ZPCI_PTE_VALID_MASK) == IOMMUSIM_ZPCI_PTE_VALID;
}

/** PTE read-only for the device (0x200 set). */
static inline bool
iommusim_zpci_pte_is_protected(uint64_t pte)
{
	return (pte & IOMMUSIM_ZPCI_TABLE_PROT_MASK) != 0;
}

/**
 * dma_update_cpu_trans() on a PTE value (§3.4): with the INVALID bit in
 * @p flags the entry is made invalid and its address bits are kept; otherwise
 * the frame address of @p phys is set (the low 12 flag bits kept) and the entry
 * made valid. Then the protection bit is set iff @p flags has
 * IOMMUSIM_ZPCI_TABLE_PROTECTED. (The kernel's warnings on invalidating an
 * invalid or validating a valid entry are reported by the table object.)
 * TV-18: 0x400 -> map 0x12345000 writable -> 0x12345000.
 */
static inline uint64_t
iommusim_zpci_pte_update(uint64_t pte, uint64_t phys, uint64_t flags)
{
	if (flags & IOMMUSIM_ZPCI_PTE_INVALID) {
		pte |= IOMMUSIM_ZPCI_PTE_INVALID;
	} else {
		pte &= IOMMUSIM_ZPCI_PTE_FLAG_MASK;
		pte |= phys & IOMMUSIM_ZPCI_PTE_ADDR_MASK;
		pte &= ~IOMMUSIM_ZPCI_PTE_VALID_MASK;
	}
	if (flags & IOMMUSIM_ZPCI_TABLE_PROTECTED)
		pte |= IOMMUSIM_ZPCI_TABLE_PROTECTED;
	else
		pte &= ~IOMMUSIM_ZPCI_TABLE_PROTECTED;
	return pte;
}

/**
 * Load the 8-byte entry @p index of the table at "physical" address
 * @p table_origin (a region/segment table or a page table), atomically, as a
 * device or hypervisor walking the tables would. The caller is inside an RCU
 * read-side section of a registered thread (iommusim_thread_enter()) or owns
 * the table.
 */
IOMMUSIM_API uint64_t iommusim_zpci_entry_load(uint64_t table_origin, unsigned index);

/** One root region-third table with everything below it. Opaque. */
struct iommusim_zpci_table;

/** Counters of one table tree. */
struct iommusim_zpci_table_stats {
	/** segment tables installed (16 KiB each); the table of a lost install is
	 *  freed at once and counted in install_races only */
	uint64_t segment_tables;
	uint64_t page_tables; /**< page tables installed (2 KiB each), likewise */
	uint64_t install_races; /**< compare-and-swap installs lost to another CPU */
	uint64_t warn_invalid_twice; /**< invalidations of an already invalid PTE */
	uint64_t warn_valid_twice; /**< validations of an already valid PTE */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/** What a device sees at one IOVA (the result of a translation). */
struct iommusim_zpci_xlate {
	bool valid; /**< a valid PTE maps the page */
	bool protected_; /**< read-only for the device */
	unsigned level; /**< where the walk stopped: 1 region, 2 segment, 3 page */
	uint64_t pte; /**< the PTE (when level is 3) */
	uint64_t phys; /**< frame address + in-page offset of the IOVA, if valid */
};

/**
 * dma_alloc_cpu_table(): a root region table, all 2048 entries invalid.
 * @return 0; -EINVAL on NULL; -ENOMEM
 * Thread-safety: none needed.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_zpci_table_create(struct iommusim_zpci_table **out);

/**
 * dma_cleanup_tables(): free every page table under a valid segment entry,
 * every segment table under a valid region entry, then the root, after an RCU
 * grace period (device-side lookups that started before still finish).
 * @param t the table, or NULL
 * Thread-safety: no map/unmap may run; must not be called inside an RCU
 * read-side section.
 */
IOMMUSIM_API void iommusim_zpci_table_destroy(struct iommusim_zpci_table *t);

/** "Physical" address of the root table, as registered in the IOTA. */
IOMMUSIM_API uint64_t iommusim_zpci_table_origin(const struct iommusim_zpci_table *t);

/**
 * dma_walk_cpu_trans() + dma_update_cpu_trans() for one 4 KiB page: walk,
 * allocating missing segment and page tables (installed by compare-and-swap
 * against the invalid entry; the loser frees its table), then update the PTE
 * with an atomic exchange. The walk allocates even when invalidating, as the
 * kernel's does.
 * @param flags IOMMUSIM_ZPCI_PTE_VALID or IOMMUSIM_ZPCI_PTE_INVALID, plus
 *        IOMMUSIM_ZPCI_TABLE_PROTECTED
 * @param old_pte the previous PTE, written on success; may be NULL
 * @return 0; -EINVAL if iova >= 4 TiB; -ENOMEM if a table allocation failed
 *         (tables allocated on the way stay, as in the kernel)
 * Thread-safety: concurrent with every other call on the same table.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_zpci_table_update(struct iommusim_zpci_table *t,
							       uint64_t iova, uint64_t phys,
							       uint64_t flags, uint64_t *old_pte);

/**
 * Read the entry that translates @p iova at @p level (1 region-third, 2
 * segment, 3 page) without allocating.
 * @return 0; -ENOENT if a higher level is invalid; -EINVAL on a bad level or
 *         iova >= 4 TiB
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_zpci_table_entry(const struct iommusim_zpci_table *t,
							      uint64_t iova, unsigned level,
							      uint64_t *entry);

/**
 * s390_iommu_iova_to_phys(): the frame address of the PTE (the in-page offset
 * is *not* added, as in the kernel), or 0 if any level is invalid or
 * iova >= 4 TiB.
 */
IOMMUSIM_API uint64_t iommusim_zpci_table_iova_to_phys(const struct iommusim_zpci_table *t,
						       uint64_t iova);

/**
 * What a DMA engine sees at @p iova: walks under rcu_read_lock(), as a device
 * does while CPUs map and unmap. Never allocates.
 * @return 0 (see res->valid); -EINVAL if iova >= 4 TiB or NULL arguments
 * Thread-safety: any registered thread (iommusim_thread_enter()), concurrent
 * with updates; the tables stay alive until the table is destroyed.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_zpci_table_translate(const struct iommusim_zpci_table *t, uint64_t iova,
			      struct iommusim_zpci_xlate *res);

/** Counters of the table tree. @return 0; -EINVAL on NULL */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_zpci_table_stats_get(const struct iommusim_zpci_table *t,
			      struct iommusim_zpci_table_stats *out);

/**
 * Print the valid entries translating [iova, iova + len) to @p f, one line
 * per valid region, segment and page entry with its index and raw value.
 * @return 0; -EINVAL on NULL or a range beyond 4 TiB
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_zpci_table_dump(const struct iommusim_zpci_table *t,
							     FILE *f, uint64_t iova, uint64_t len);

/**
 * Register the calling thread with the library's RCU (liburcu memb flavour);
 * needed before device-side lookups from that thread. Calls nest by count.
 * Thread-safety: per thread.
 */
IOMMUSIM_API void iommusim_thread_enter(void);

/**
 * Balance one iommusim_thread_enter(). The library unregisters the thread from
 * RCU when it exits (a registered thread outside a lookup delays nothing).
 * Thread-safety: per thread.
 */
IOMMUSIM_API void iommusim_thread_leave(void);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_ZPCI_TABLE_H */
