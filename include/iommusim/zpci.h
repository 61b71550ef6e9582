/* SPDX-License-Identifier: MIT */
/**
 * @file
 * zPCI functions and their refresh instruction (KERNEL_SPEC §3.3, §4.4, §5):
 * a function's handle, type and DMA window, the I/O address translation
 * anchor (IOTA) registration, and RPCIT with the kernel's mapping of
 * condition codes and status to 0 / -ENOMEM / -EIO.
 *
 * What answers an RPCIT is the platform (firmware, z/VM, KVM+QEMU): a const
 * ops struct plus a context pointer. A canned-answer platform that answers
 * any queued sequence of (cc, status) and records every call ships with the
 * library, for tests (not to be confused with scenario scripts, script.h).
 */
#ifndef IOMMUSIM_ZPCI_H
#define IOMMUSIM_ZPCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommusim/common.h>
#include <iommusim/ctx.h>

#ifdef __cplusplus
extern "C" {
#endif

/** PCI function types (arch/s390/include/asm/pci_clp.h); ISM is 0x5. */
#define IOMMUSIM_PCI_FUNC_TYPE_ISM 0x5

/* Condition codes and status of PCI instructions (§5.1, asm/pci_insn.h). */
#define IOMMUSIM_ZPCI_CC_OK 0
#define IOMMUSIM_ZPCI_CC_ERR 1
#define IOMMUSIM_ZPCI_CC_BUSY 2
#define IOMMUSIM_ZPCI_CC_INVAL_HANDLE 3
#define IOMMUSIM_ZPCI_ST_FUNC_NOT_ENABLED 4
#define IOMMUSIM_ZPCI_ST_FUNC_IN_ERR 8
#define IOMMUSIM_ZPCI_ST_BLOCKED 12
#define IOMMUSIM_ZPCI_ST_INSUF_RES 16
#define IOMMUSIM_ZPCI_ST_INVAL_AS 20
#define IOMMUSIM_ZPCI_ST_FUNC_ALREADY_ENABLED 24
#define IOMMUSIM_ZPCI_ST_DMA_AS_NOT_ENABLED 28
#define IOMMUSIM_ZPCI_ST_2ND_OP_IN_INV_AS 36
#define IOMMUSIM_ZPCI_ST_FUNC_NOT_AVAIL 40
#define IOMMUSIM_ZPCI_ST_ALREADY_IN_RQ_STATE 44
/** Delay between busy retries of a PCI instruction, µs (ZPCI_INSN_BUSY_DELAY). */
#define IOMMUSIM_ZPCI_INSN_BUSY_DELAY_US 1
/**
 * The kernel retries a busy RPCIT forever. A platform that is busy forever
 * would hang the simulator, so after this many retries the call gives up
 * with -EIO and counts it (struct iommusim_zpci_fn_stats.busy_giveups).
 */
#define IOMMUSIM_ZPCI_BUSY_RETRY_CAP 1000000u

/** Modify PCI function controls: function codes used here. */
#define IOMMUSIM_ZPCI_MOD_FC_REG_IOAT 4
#define IOMMUSIM_ZPCI_MOD_FC_DEREG_IOAT 5

/** Who issued an RPCIT, for ISM events and statistics. */
enum iommusim_rpcit_reason {
	IOMMUSIM_RPCIT_OTHER = 0, /**< a direct call */
	IOMMUSIM_RPCIT_SYNC, /**< iotlb_sync: the unmapped range (strict) */
	IOMMUSIM_RPCIT_SYNC_MAP, /**< iotlb_sync_map: a newly mapped range */
	IOMMUSIM_RPCIT_GLOBAL_FLUSH, /**< flush_iotlb_all: the whole DMA window */
	IOMMUSIM_RPCIT_ENOMEM_RECOVERY, /**< the whole window after -ENOMEM on sync_map */
	IOMMUSIM_RPCIT_LEGACY_MAP, /**< pre-6.7 pci_dma.c: purge on map */
	IOMMUSIM_RPCIT_LEGACY_UNMAP, /**< pre-6.7 pci_dma.c: strict purge on unmap */
	IOMMUSIM_RPCIT_LEGACY_GLOBAL, /**< pre-6.7 pci_dma.c: global flush on wrap */
	IOMMUSIM_RPCIT_NR_REASONS
};

/** Name of a reason ("sync", "sync_map", "global_flush", ...). */
IOMMUSIM_API const char *iommusim_rpcit_reason_name(enum iommusim_rpcit_reason reason);

/** One RPCIT as issued: what observers (ISM) and platforms see. */
struct iommusim_rpcit {
	uint32_t fh; /**< function handle */
	uint64_t addr; /**< first byte of the range */
	uint64_t range; /**< length in bytes */
	enum iommusim_rpcit_reason reason; /**< who issued it */
	uint64_t map_iova; /**< for SYNC_MAP/ENOMEM_RECOVERY: the range being mapped */
	uint64_t map_len; /**< ... and its length (0 otherwise) */
	uint64_t time_ns; /**< simulated time when issued */
	unsigned cpu; /**< issuing CPU */
	unsigned cc; /**< final condition code (for observers) */
	uint8_t status; /**< final status (for observers) */
};

struct iommusim_zpci_fn;

/** The I/O translation anchor registered for a function (FIB fields, §4.4). */
struct iommusim_zpci_ioat {
	bool registered; /**< an IOTA is registered */
	uint64_t pba; /**< PCI base address (start_dma) */
	uint64_t pal; /**< PCI address limit (end_dma; +4 KiB for ISM) */
	uint64_t iota; /**< table origin | IOMMUSIM_ZPCI_IOTA_RTTO_FLAG; 0: direct (identity) */
};

/**
 * The platform that executes PCI instructions for a function. Each callback
 * returns the condition code (0..3) and writes the status for cc 1 and 3.
 */
struct iommusim_zpci_platform_ops {
	/** One RPCIT execution over [addr, addr + range). May inspect the
	 *  function's tables through iommusim_zpci_fn_ioat(). */
	unsigned (*rpcit)(void *priv, struct iommusim_zpci_fn *fn, const struct iommusim_rpcit *r,
			  uint8_t *status);
	/** Modify PCI function controls (register/deregister IOAT) with the
	 *  new anchor in @p ioat. May be NULL: always cc 0. */
	unsigned (*mpcifc)(void *priv, struct iommusim_zpci_fn *fn, unsigned fc,
			   const struct iommusim_zpci_ioat *ioat, uint8_t *status);
	/** Room to grow (docs/abi.md): NULL, or the table is refused (-EINVAL). */
	void (*reserved0)(void);
	void (*reserved1)(void);
	void (*reserved2)(void);
	void (*reserved3)(void);
};

/** Watches every RPCIT a function issues (the ISM device model uses this). */
struct iommusim_zpci_observer_ops {
	/** Called once per RPCIT after it completed (r->cc, r->status final). */
	void (*rpcit)(void *priv, struct iommusim_zpci_fn *fn, const struct iommusim_rpcit *r);
	/** Room to grow (docs/abi.md): NULL, or the table is refused (-EINVAL). */
	void (*reserved0)(void);
	void (*reserved1)(void);
	void (*reserved2)(void);
	void (*reserved3)(void);
};

/** QEMU's default DMA window of a zPCI function (ZPCI_SDMA_ADDR, ZPCI_EDMA_ADDR). */
#define IOMMUSIM_ZPCI_QEMU_SDMA UINT64_C(0x100000000)
#define IOMMUSIM_ZPCI_QEMU_EDMA UINT64_C(0x1ffffffffffffff)

/** A zPCI function as CLP Query PCI Function (Group) describes it. */
struct iommusim_zpci_fn_cfg {
	const char *name; /**< e.g. "0001:00:00.0" (copied); NULL = derived from fid */
	uint32_t fh; /**< function handle; enabled iff bit 31 set; 0 = 0x80000000 | fid */
	uint32_t fid; /**< function id */
	uint8_t pft; /**< PCI function type (IOMMUSIM_PCI_FUNC_TYPE_ISM ...) */
	bool tlb_refresh; /**< every new mapping must be announced by RPCIT */
	/** Relaxed translation available (zdev->rtr_avail, from CLP): the s390
	 *  driver of later kernels then offers an identity domain. */
	bool rtr_avail;
	uint64_t start_dma; /**< sdma; 0 = 4 GiB (QEMU's ZPCI_SDMA_ADDR) */
	uint64_t end_dma; /**< edma (inclusive); 0 = 0x1ffffffffffffff (QEMU) */
	uint64_t dma_mask; /**< the device's DMA mask; 0 = 64 bit */
	const struct iommusim_zpci_platform_ops *platform; /**< NULL: every instruction cc 0 */
	void *platform_priv;
	/** Room to grow (docs/abi.md): zero, or the call fails with -EINVAL. */
	uint64_t reserved0, reserved1, reserved2, reserved3;
};

/** Per-function counters. */
struct iommusim_zpci_fn_stats {
	uint64_t rpcits; /**< RPCITs issued (one per refresh call) */
	uint64_t busy_retries; /**< cc 2 answers retried after 1 µs */
	uint64_t busy_giveups; /**< RPCITs abandoned after IOMMUSIM_ZPCI_BUSY_RETRY_CAP */
	uint64_t enomem; /**< RPCITs that returned -ENOMEM */
	uint64_t eio; /**< RPCITs that returned -EIO */
	uint64_t by_reason[IOMMUSIM_RPCIT_NR_REASONS]; /**< RPCITs per reason */
	uint64_t bytes_refreshed; /**< sum of the ranges */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/**
 * Create a function.
 * @return 0; -EINVAL on NULL or start_dma > end_dma; -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_zpci_fn_create(const struct iommusim_zpci_fn_cfg *cfg,
							    struct iommusim_zpci_fn **out);

/** Destroy a function (NULL is a no-op). Its observer is not called again. */
IOMMUSIM_API void iommusim_zpci_fn_destroy(struct iommusim_zpci_fn *fn);

/** Read-only facts about a function. */
struct iommusim_zpci_fn_info {
	const char *name; /**< valid while the function lives */
	uint32_t fh, fid;
	uint8_t pft;
	bool tlb_refresh;
	bool rtr_avail; /**< relaxed translation available */
	bool is_ism; /**< pft == IOMMUSIM_PCI_FUNC_TYPE_ISM */
	uint64_t start_dma; /**< current DMA window (after iommusim_zpci_fn_set_dma_window) */
	uint64_t end_dma; /**< inclusive */
	uint64_t dma_mask;
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/** @return 0; -EINVAL on NULL */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_zpci_fn_info_get(const struct iommusim_zpci_fn *fn,
							      struct iommusim_zpci_fn_info *out);

/** Set the DMA window (the IOMMU driver trims it at probe). @return 0; -EINVAL if start > end */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_zpci_fn_set_dma_window(struct iommusim_zpci_fn *fn, uint64_t start_dma, uint64_t end_dma);

/**
 * The window zpci_init_iommu() (and the pre-6.7 zpci_dma_init_device())
 * computes: start = PAGE_ALIGN(start_dma); length = min3(aperture,
 * 4 TiB - start, end_dma - start + 1); end = start + length - 1.
 * @param aperture s390_iommu_aperture (see iommusim_s390_iommu_aperture())
 * @return 0; -EINVAL if the result is empty (start beyond 4 TiB or end)
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_zpci_dma_window(uint64_t start_dma, uint64_t end_dma,
							     uint64_t aperture, uint64_t *start_out,
							     uint64_t *end_out);

/**
 * s390_iommu_aperture as s390_iommu_init() sets it: the memory size times the
 * s390_iommu_aperture= factor, or UINT64_MAX when the factor is 0 (saturating
 * on overflow).
 */
IOMMUSIM_API uint64_t iommusim_s390_iommu_aperture(uint64_t memory_bytes, uint32_t factor);

/**
 * zpci_register_ioat() (§4.4): pba = base, pal = limit (limit + 4 KiB for ISM
 * when limit > base), iota = table_origin | RTTO flag, or 0 for a
 * @p table_origin of 0: direct mapping (the identity domain of later kernels); MPCIFC fc 4, retried on
 * cc 2 (1 ms sleeps in the kernel) up to the busy cap. The anchor is recorded
 * only on cc 0.
 * @param cc_out the final condition code; @param status_out its status
 *        (either may be NULL)
 * @return 0 (see *cc_out); -EINVAL on NULL fn or a table origin that is not 16 KiB
 *         aligned (the kernel warns)
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_zpci_register_ioat(struct iommusim_zpci_fn *fn, uint64_t base, uint64_t limit,
			    uint64_t table_origin, const struct iommusim_ctx *ctx, unsigned *cc_out,
			    uint8_t *status_out);

/** zpci_unregister_ioat(): MPCIFC fc 5; the anchor is cleared. @return as register */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_zpci_unregister_ioat(struct iommusim_zpci_fn *fn,
								  const struct iommusim_ctx *ctx,
								  unsigned *cc_out,
								  uint8_t *status_out);

/** The anchor currently registered. @return 0; -EINVAL on NULL */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_zpci_fn_ioat(const struct iommusim_zpci_fn *fn,
							  struct iommusim_zpci_ioat *out);

/**
 * zpci_refresh_trans() (§5.1): issue RPCIT over [addr, addr + range) and map
 * the outcome: cc 0 -> 0; cc 2 -> wait 1 µs (ctx delay) and retry; cc 1 with
 * status 4 or 16 -> -ENOMEM; any other cc 1 or cc 3 -> -EIO. The observer, if
 * any, sees the completed RPCIT once.
 * @param reason who issues it; @param map_iova, map_len the range being
 *        mapped (SYNC_MAP and ENOMEM_RECOVERY), else 0
 * @return 0, -ENOMEM or -EIO as above; -EINVAL on NULL or an unknown reason
 * Thread-safety: safe; the platform serialises as it models.
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_zpci_refresh_trans(struct iommusim_zpci_fn *fn,
								uint64_t addr, uint64_t range,
								enum iommusim_rpcit_reason reason,
								uint64_t map_iova, uint64_t map_len,
								const struct iommusim_ctx *ctx);

/**
 * Install the observer (one per function; NULL ops removes it). Once a
 * removal returns, the old observer is neither running nor called again, so
 * its owner may then be freed (and must not be freed before). An observer
 * callback must not install or remove observers of the function it watches.
 * @return 0; -EINVAL on NULL fn; -EBUSY if another observer is installed
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_zpci_fn_observer_set(struct iommusim_zpci_fn *fn,
			      const struct iommusim_zpci_observer_ops *ops, void *priv);

/** Counters of a function. @return 0; -EINVAL on NULL */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_zpci_fn_stats_get(const struct iommusim_zpci_fn *fn,
							       struct iommusim_zpci_fn_stats *out);

/* ---- the canned-answer test platform ---- */

/** A platform that answers from a queue of canned answers and records every
 *  call (until 2026-12 named iommusim_zpci_script_*). Opaque. */
struct iommusim_zpci_canned;

/** Its ops; pass the iommusim_zpci_canned as platform_priv. */
extern IOMMUSIM_API const struct iommusim_zpci_platform_ops iommusim_zpci_canned_ops;

/** A recorded instruction. */
struct iommusim_zpci_canned_call {
	bool is_rpcit; /**< RPCIT, else MPCIFC */
	unsigned fc; /**< MPCIFC function code */
	struct iommusim_rpcit rpcit; /**< the RPCIT as issued (cc/status not yet set) */
	struct iommusim_zpci_ioat ioat; /**< the MPCIFC anchor */
	unsigned cc; /**< what the platform answered */
	uint8_t status;
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1;
};

/** @return 0; -EINVAL on NULL; -ENOMEM */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_zpci_canned_create(struct iommusim_zpci_canned **out);
/** NULL is a no-op. */
IOMMUSIM_API void iommusim_zpci_canned_destroy(struct iommusim_zpci_canned *s);

/**
 * Queue @p count answers (cc, status) for RPCITs, consumed in order; when the
 * queue is empty RPCIT answers cc 0. Separate queue for MPCIFC
 * (@p for_rpcit false).
 * @return 0; -EINVAL on cc > 3 or count 0; -ENOMEM
 */
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_zpci_canned_push(struct iommusim_zpci_canned *s,
							      bool for_rpcit, unsigned cc,
							      uint8_t status, unsigned count);

/** Number of recorded calls. */
IOMMUSIM_API size_t iommusim_zpci_canned_ncalls(const struct iommusim_zpci_canned *s);

/** Recorded call @p i (0 = first). @return 0; -EINVAL on NULL; -ENOENT if i is out of range */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_zpci_canned_call(const struct iommusim_zpci_canned *s, size_t i,
			  struct iommusim_zpci_canned_call *out);

/** Forget recorded calls and queued answers. */
IOMMUSIM_API void iommusim_zpci_canned_reset(struct iommusim_zpci_canned *s);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_ZPCI_H */
