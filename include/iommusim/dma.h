/* SPDX-License-Identifier: MIT */
/**
 * @file
 * The DMA API one device sees: map/unmap a buffer or a scatterlist, and
 * statistics. Implemented by dma-iommu (iommusim/dma_iommu.h) and by the
 * pre-6.7 s390 DMA API (iommusim/legacy_s390_dma.h), so that workloads and
 * the bounce-buffer pool drive either the same way.
 */
#ifndef IOMMUSIM_DMA_H
#define IOMMUSIM_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommusim/common.h>
#include <iommusim/ctx.h>

#ifdef __cplusplus
extern "C" {
#endif

/** DMA directions (enum dma_data_direction values). */
enum iommusim_dma_dir {
	IOMMUSIM_DMA_BIDIRECTIONAL = 0,
	IOMMUSIM_DMA_TO_DEVICE = 1,
	IOMMUSIM_DMA_FROM_DEVICE = 2,
	IOMMUSIM_DMA_NONE = 3,
};

/** DMA attributes (include/linux/dma-mapping.h values). */
#define IOMMUSIM_DMA_ATTR_PRIVILEGED (1ul << 9)

/** One scatterlist element: CPU side in, DMA side out. */
struct iommusim_dma_sg {
	uint64_t phys; /**< physical address of the data (any offset) */
	uint32_t length; /**< bytes */
	uint64_t dma_address; /**< out: the segment's DMA address */
	uint32_t dma_length; /**< out: the segment's DMA length (0: not a DMA segment) */
};

/** Counters every implementation keeps. */
struct iommusim_dma_stats {
	uint64_t map_pages; /**< map_page calls that succeeded */
	uint64_t unmap_pages; /**< unmap_page calls */
	uint64_t map_sgs; /**< map_sg calls that succeeded */
	uint64_t unmap_sgs; /**< unmap_sg calls */
	uint64_t map_errors; /**< maps that failed (DMA_MAPPING_ERROR in the kernel) */
	uint64_t bytes_mapped; /**< bytes of successful maps */
	uint64_t iova_pages_live; /**< IOVA pages handed out and not yet returned */
	/** Room to grow (docs/abi.md): the library writes zero. */
	uint64_t reserved0, reserved1, reserved2, reserved3, reserved4, reserved5, reserved6,
		reserved7;
};

/**
 * An implementation of the DMA API. Every callback returns 0 or a -errno;
 * `map_sg` returns the number of DMA segments through @p nsegs_out.
 */
struct iommusim_dma_ops {
	/** dma_map_page(): @p dma_out is the DMA address of @p phys (offset kept). */
	int (*map_page)(void *priv, uint64_t phys, uint64_t size, enum iommusim_dma_dir dir,
			unsigned long attrs, const struct iommusim_ctx *ctx, uint64_t *dma_out);
	/** dma_unmap_page() of what map_page returned (same size and direction). */
	int (*unmap_page)(void *priv, uint64_t dma, uint64_t size, enum iommusim_dma_dir dir,
			  unsigned long attrs, const struct iommusim_ctx *ctx);
	/** dma_map_sg(). */
	int (*map_sg)(void *priv, struct iommusim_dma_sg *sg, size_t nents,
		      enum iommusim_dma_dir dir, unsigned long attrs,
		      const struct iommusim_ctx *ctx, size_t *nsegs_out);
	/** dma_unmap_sg() with the nents given to map_sg. */
	int (*unmap_sg)(void *priv, struct iommusim_dma_sg *sg, size_t nents,
			enum iommusim_dma_dir dir, unsigned long attrs,
			const struct iommusim_ctx *ctx);
	/** Counters. */
	int (*stats_get)(void *priv, struct iommusim_dma_stats *out);
	/** A short name: "dma-iommu" or "s390-legacy". */
	const char *name;
	/** Room to grow (docs/abi.md): NULL. No call registers a DMA table (the
	 *  dispatch helpers below are the hot path and check nothing more): a
	 *  later release calls a member here only when it is not NULL. */
	void (*reserved0)(void);
	void (*reserved1)(void);
	void (*reserved2)(void);
	void (*reserved3)(void);
};

/** A DMA API instance: ops plus its object. Filled by the implementation's create. */
struct iommusim_dma {
	const struct iommusim_dma_ops *ops;
	void *priv;
};

/* Dispatch helpers: -EINVAL on a NULL or unset handle. */
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_dma_map_page(const struct iommusim_dma *dma, uint64_t phys, uint64_t size,
		      enum iommusim_dma_dir dir, unsigned long attrs,
		      const struct iommusim_ctx *ctx, uint64_t *dma_out);
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_dma_unmap_page(const struct iommusim_dma *dma,
							    uint64_t dma_addr, uint64_t size,
							    enum iommusim_dma_dir dir,
							    unsigned long attrs,
							    const struct iommusim_ctx *ctx);
IOMMUSIM_API IOMMUSIM_NODISCARD int
iommusim_dma_map_sg(const struct iommusim_dma *dma, struct iommusim_dma_sg *sg, size_t nents,
		    enum iommusim_dma_dir dir, unsigned long attrs, const struct iommusim_ctx *ctx,
		    size_t *nsegs_out);
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_dma_unmap_sg(const struct iommusim_dma *dma,
							  struct iommusim_dma_sg *sg, size_t nents,
							  enum iommusim_dma_dir dir,
							  unsigned long attrs,
							  const struct iommusim_ctx *ctx);
IOMMUSIM_API IOMMUSIM_NODISCARD int iommusim_dma_stats_get(const struct iommusim_dma *dma,
							   struct iommusim_dma_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* IOMMUSIM_DMA_H */
