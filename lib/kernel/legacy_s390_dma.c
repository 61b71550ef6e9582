/* SPDX-License-Identifier: MIT */
/*
 * The s390 DMA API before v6.7 (KERNEL_SPEC §6): a per-function bitmap IOVA
 * allocator with a lazy bitmap and one global RPCIT per wrap-around, table
 * updates and purges, map_page/unmap_page, coherent allocations and map_sg.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <iommusim/dma.h>
#include <iommusim/legacy_s390_dma.h>
#include <iommusim/zpci.h>
#include <iommusim/zpci_table.h>

#include "kernel/legacy_s390_dma_int.h"
#include "base/mem_int.h"
#include "base/util_int.h"

#define PG_SIZE UINT64_C(4096)
#define PG_MASK (PG_SIZE - 1)
#define DEFAULT_APERTURE (UINT64_C(16) << 30)
/* dma_get_seg_boundary_nr_pages() for the PCI default mask 0xffffffff (§6.2). */
#define DEFAULT_SEG_BOUNDARY_PAGES (UINT64_C(1) << 20)
/* The PCI default max segment size (§6.2). */
#define DEFAULT_MAX_SEG_SIZE 65536u

struct iommusim_legacy_dma {
	struct iommusim_zpci_fn *fn;
	struct iommusim_zpci_table *table; /* dma_table */
	uint64_t start_dma, end_dma; /* the trimmed window (end inclusive) */
	uint64_t iommu_pages;
	uint64_t nwords; /* 64-bit words of each bitmap */
	uint64_t shift; /* start_dma >> 12: bitmap index 0 in absolute pages */
	uint64_t boundary; /* segment boundary in pages, a power of two */
	uint64_t max_seg_size;
	bool strict, tlb_refresh;

	/* iommu_bitmap_lock: the bitmaps, next_bit and the three fields after them */
	struct ims_spinlock lock;
	uint64_t *iommu_bitmap;
	uint64_t *lazy_bitmap; /* NULL in strict mode */
	uint64_t next_bit;
	uint64_t used_pages, lazy_pages, wraps;

	/* the kernel's atomic64 debugfs counters, plus the simulation's */
	_Atomic uint64_t allocated_pages, mapped_pages, unmapped_pages;
	_Atomic uint64_t global_rpcits, map_rpcits, unmap_rpcits;
	_Atomic uint64_t enomem_recoveries, leaked_pages;
	/* struct iommusim_dma_stats */
	_Atomic uint64_t st_map_pages, st_unmap_pages, st_map_sgs, st_unmap_sgs;
	_Atomic uint64_t st_map_errors, st_bytes_mapped;
};

/* Readers of a const object still take the lock. */
static inline struct ims_spinlock *
l_lock(const struct iommusim_legacy_dma *l)
{
	return (struct ims_spinlock *)(uintptr_t)&l->lock;
}

static inline void
ctr_add(_Atomic uint64_t *c, uint64_t n)
{
	ims_stat_add(c, n); /* no locked instruction in solo mode (base/util_int.h) */
}

static inline uint64_t
ctr_get(const _Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static inline uint64_t
page_align(uint64_t size)
{
	return (size + PG_MASK) & ~PG_MASK;
}

/* ---- bitmaps, a word at a time ------------------------------------------ */

/* The mask of the bits of word @w inside [start, start + n), n > 0. */
static inline uint64_t
range_mask(uint64_t w, uint64_t start, uint64_t n)
{
	uint64_t lo = w << 6, first = IMS_MAX(start, lo), last = IMS_MIN(start + n, lo + 64);
	uint64_t len = last - first;

	return (len == 64 ? ~UINT64_C(0) : ((UINT64_C(1) << len) - 1)) << (first - lo);
}

/* Set [start, start + n) in @map; @return the bits that were clear before. */
static uint64_t
bits_set(uint64_t *map, uint64_t start, uint64_t n)
{
	uint64_t w, m, changed = 0;

	for (w = start >> 6; n && w <= (start + n - 1) >> 6; w++) {
		m = range_mask(w, start, n);
		changed += (uint64_t)__builtin_popcountll(~map[w] & m);
		map[w] |= m;
	}
	return changed;
}

/* Clear [start, start + n) in @map; @return the bits that were set before. */
static uint64_t
bits_clear(uint64_t *map, uint64_t start, uint64_t n)
{
	uint64_t w, m, changed = 0;

	for (w = start >> 6; n && w <= (start + n - 1) >> 6; w++) {
		m = range_mask(w, start, n);
		changed += (uint64_t)__builtin_popcountll(map[w] & m);
		map[w] &= ~m;
	}
	return changed;
}

/* Set in @lazy the bits of [start, start + n) that are set in @used; @return those newly set. */
static uint64_t
bits_set_lazy(uint64_t *lazy, const uint64_t *used, uint64_t start, uint64_t n)
{
	uint64_t w, m, changed = 0;

	for (w = start >> 6; n && w <= (start + n - 1) >> 6; w++) {
		m = range_mask(w, start, n) & used[w];
		changed += (uint64_t)__builtin_popcountll(~lazy[w] & m);
		lazy[w] |= m;
	}
	return changed;
}

/* Whether every bit of [start, start + n) is set in @map (n > 0). */
static bool
bits_all_set(const uint64_t *map, uint64_t start, uint64_t n)
{
	uint64_t w, m;

	for (w = start >> 6; w <= (start + n - 1) >> 6; w++) {
		m = range_mask(w, start, n);
		if ((map[w] & m) != m)
			return false;
	}
	return true;
}

/* Whether any bit of [start, start + n) is set in @map (n > 0). */
static bool
bits_any_set(const uint64_t *map, uint64_t start, uint64_t n)
{
	uint64_t w;

	for (w = start >> 6; w <= (start + n - 1) >> 6; w++)
		if (map[w] & range_mask(w, start, n))
			return true;
	return false;
}

/* ---- the allocator (§6.2) ----------------------------------------------- */

enum area_result { AREA_FOUND, AREA_NONE, AREA_SPIN };

/*
 * iommu_area_alloc() with align_mask 0 (§6.2): the first run of @nr clear
 * bits at index >= @start that ends within iommu_pages - 1 (the last page is
 * never handed out), restarting at the next segment boundary whenever the
 * run would cross one (boundaries are absolute: index + start_dma pages).
 * A run that is longer than the boundary crosses one wherever it starts: the
 * kernel then restarts at the same index forever; here that is AREA_SPIN.
 * Caller holds the lock.
 */
static enum area_result
area_alloc(struct iommusim_legacy_dma *l, uint64_t start, uint64_t nr, uint64_t *index_out)
{
	const uint64_t size = l->iommu_pages - 1;
	uint64_t index, end, next;

	for (;;) {
		/* bitmap_find_next_zero_area(): a clear run of nr bits */
		index = ims_bitmap_next_zero(l->iommu_bitmap, size, start);
		if (nr > size - index)
			return AREA_NONE;
		end = index + nr;
		next = ims_bitmap_next_set(l->iommu_bitmap, end, index);
		if (next < end) {
			start = next + 1;
			continue;
		}
		if (index >= size)
			return AREA_NONE;
		/* iommu_is_span_boundary() */
		if (((l->shift + index) & (l->boundary - 1)) + nr > l->boundary) {
			start = ((l->shift + index + l->boundary - 1) & ~(l->boundary - 1)) -
				l->shift;
			if (start == index)
				return AREA_SPIN;
			continue;
		}
		l->used_pages += bits_set(l->iommu_bitmap, index, nr);
		*index_out = index;
		return AREA_FOUND;
	}
}

/* zpci_refresh_global() (§6.2): RPCIT over [start_dma, start_dma + iommu_pages pages). */
IMS_NODISCARD static int
refresh_global(struct iommusim_legacy_dma *l, const struct iommusim_ctx *ctx)
{
	ctr_add(&l->global_rpcits, 1);
	return iommusim_zpci_refresh_trans(l->fn, l->start_dma, l->iommu_pages * PG_SIZE,
					   IOMMUSIM_RPCIT_LEGACY_GLOBAL, 0, 0, ctx);
}

/* iommu_bitmap &= ~lazy_bitmap; lazy_bitmap = 0 (§6.2). Caller holds the lock. */
static void
merge_lazy(struct iommusim_legacy_dma *l)
{
	uint64_t w;

	for (w = 0; w < l->nwords; w++) {
		l->used_pages -=
			(uint64_t)__builtin_popcountll(l->iommu_bitmap[w] & l->lazy_bitmap[w]);
		l->iommu_bitmap[w] &= ~l->lazy_bitmap[w];
		l->lazy_bitmap[w] = 0;
	}
	l->lazy_pages = 0;
}

int
ims_legacy_dma_alloc_address(struct iommusim_legacy_dma *l, uint64_t npages,
			     const struct iommusim_ctx *ctx, uint64_t *addr_out)
{
	enum area_result r;
	uint64_t index = 0;
	int ret;

	ims_spin_lock(&l->lock);
	/* §6.2 step 1: next-fit from next_bit */
	r = area_alloc(l, l->next_bit, npages, &index);
	if (r == AREA_NONE) {
		/* §6.2 step 2: lazy mode flushes globally (inside the lock) before
		 * any lazily freed address becomes reusable; strict flushes nothing */
		if (!l->strict) {
			ret = refresh_global(l, ctx);
			if (ret) {
				ims_spin_unlock(&l->lock);
				return ret;
			}
			merge_lazy(l);
		}
		/* wrap-around */
		l->wraps++;
		r = area_alloc(l, 0, npages, &index);
	}
	if (r != AREA_FOUND) {
		/* §6.2 step 3: next_bit unchanged on error */
		ims_spin_unlock(&l->lock);
		return -ENOSPC;
	}
	l->next_bit = index + npages;
	ims_spin_unlock(&l->lock);
	*addr_out = l->start_dma + index * PG_SIZE;
	return 0;
}

void
ims_legacy_dma_free_address(struct iommusim_legacy_dma *l, uint64_t addr, uint64_t npages)
{
	uint64_t offset = (addr - l->start_dma) >> 12;

	if (!npages)
		return;
	ims_assert(addr >= l->start_dma && offset + npages <= l->iommu_pages);
	ims_spin_lock(&l->lock);
	/* §6.2 dma_free_address(): strict makes the pages reusable at once; lazy
	 * keeps them used until the next global flush. Only used pages are
	 * marked lazy, so the lazy bitmap stays a subset of the IOMMU bitmap. */
	if (l->strict)
		l->used_pages -= bits_clear(l->iommu_bitmap, offset, npages);
	else
		l->lazy_pages += bits_set_lazy(l->lazy_bitmap, l->iommu_bitmap, offset, npages);
	ims_spin_unlock(&l->lock);
}

/*
 * Whether [addr, addr + npages pages) lies in the window and every page is
 * handed out and not yet freed: the simulator refuses other unmaps rather
 * than corrupting the bitmaps (the kernel does not check).
 */
static bool
range_is_live(struct iommusim_legacy_dma *l, uint64_t addr, uint64_t npages)
{
	uint64_t offset;
	bool live;

	if (!npages || addr < l->start_dma || (addr & PG_MASK))
		return false;
	offset = (addr - l->start_dma) >> 12;
	if (offset >= l->iommu_pages || npages > l->iommu_pages - offset)
		return false;
	ims_spin_lock(&l->lock);
	live = bits_all_set(l->iommu_bitmap, offset, npages) &&
	       (l->strict || !bits_any_set(l->lazy_bitmap, offset, npages));
	ims_spin_unlock(&l->lock);
	return live;
}

/* ---- table updates and purges (§6.3) ------------------------------------ */

static inline bool
is_mapping(uint64_t flags)
{
	return (flags & IOMMUSIM_ZPCI_PTE_VALID_MASK) == IOMMUSIM_ZPCI_PTE_VALID;
}

/*
 * __dma_update_trans() (§6.3): PAGE_ALIGN(size) pages from the page of @pa
 * at @dma; 0 pages -> -EINVAL; a failed walk -> -ENOMEM, undoing the pages
 * already written when mapping.
 */
IMS_NODISCARD static int
update_tables(struct iommusim_legacy_dma *l, uint64_t pa, uint64_t dma, uint64_t size,
	      uint64_t flags)
{
	uint64_t nr_pages = page_align(size) >> 12, page = pa & ~PG_MASK, i;

	if (!nr_pages)
		return -EINVAL;
	for (i = 0; i < nr_pages; i++)
		if (iommusim_zpci_table_update(l->table, dma + i * PG_SIZE, page + i * PG_SIZE,
					       flags, NULL))
			break;
	if (i == nr_pages)
		return 0;
	if (is_mapping(flags))
		while (i-- > 0)
			if (iommusim_zpci_table_update(l->table, dma + i * PG_SIZE,
						       page + i * PG_SIZE,
						       IOMMUSIM_ZPCI_PTE_INVALID, NULL))
				break;
	return -ENOMEM;
}

/*
 * __dma_purge_tlb() (§6.3): a mapping needs RPCIT only with tlb_refresh, an
 * unmapping only in strict mode. -ENOMEM in lazy mode gives the hypervisor a
 * global RPCIT to free resources and, if that works, reuses the lazy pages.
 */
IMS_NODISCARD static int
purge(struct iommusim_legacy_dma *l, uint64_t dma, uint64_t size, uint64_t flags,
      const struct iommusim_ctx *ctx)
{
	enum iommusim_rpcit_reason reason;
	int ret;

	if (is_mapping(flags)) {
		if (!l->tlb_refresh)
			return 0;
		reason = IOMMUSIM_RPCIT_LEGACY_MAP;
		ctr_add(&l->map_rpcits, 1);
	} else {
		if (!l->strict)
			return 0;
		reason = IOMMUSIM_RPCIT_LEGACY_UNMAP;
		ctr_add(&l->unmap_rpcits, 1);
	}
	ret = iommusim_zpci_refresh_trans(l->fn, dma, page_align(size), reason, 0, 0, ctx);
	if (ret != -ENOMEM || l->strict)
		return ret;
	/* As in the kernel, the global RPCIT is issued outside the bitmap lock
	 * and only the merge is under it. */
	if (refresh_global(l, ctx))
		return ret;
	ims_spin_lock(&l->lock);
	merge_lazy(l);
	ims_spin_unlock(&l->lock);
	ctr_add(&l->enomem_recoveries, 1);
	return 0;
}

/* dma_update_trans() (§6.3): update + purge; a failed purge of a mapping invalidates again. */
IMS_NODISCARD static int
update_trans(struct iommusim_legacy_dma *l, uint64_t pa, uint64_t dma, uint64_t size,
	     uint64_t flags, const struct iommusim_ctx *ctx)
{
	int ret = update_tables(l, pa, dma, size, flags);

	if (ret)
		return ret;
	ret = purge(l, dma, size, flags, ctx);
	/* The purge's error is the one returned; writing invalid entries over
	 * tables that were just written valid cannot fail (§6.3). */
	if (ret && is_mapping(flags))
		IMS_IGNORE(update_tables(l, pa, dma, size, IOMMUSIM_ZPCI_PTE_INVALID));
	return ret;
}

/* ---- the DMA API (§6.4) ------------------------------------------------- */

static inline bool
dir_is_valid(enum iommusim_dma_dir dir)
{
	return (unsigned)dir <= IOMMUSIM_DMA_NONE;
}

/* §6.4: the device may only read what it is given for DMA_NONE and DMA_TO_DEVICE. */
static inline uint64_t
map_flags(enum iommusim_dma_dir dir)
{
	uint64_t flags = IOMMUSIM_ZPCI_PTE_VALID;

	if (dir == IOMMUSIM_DMA_NONE || dir == IOMMUSIM_DMA_TO_DEVICE)
		flags |= IOMMUSIM_ZPCI_TABLE_PROTECTED;
	return flags;
}

/* Pages spanned by [addr, addr + size) counted from addr's page (iommu_num_pages()). */
IMS_NODISCARD static inline int
num_pages(uint64_t addr, uint64_t size, uint64_t *npages)
{
	uint64_t first = addr & PG_MASK;

	if (size > UINT64_MAX - first - PG_MASK)
		return -EINVAL;
	*npages = (first + size + PG_MASK) >> 12;
	return 0;
}

/* s390_dma_map_pages() (§6.4). */
IMS_NODISCARD static int
do_map(struct iommusim_legacy_dma *l, uint64_t pa, uint64_t size, enum iommusim_dma_dir dir,
       const struct iommusim_ctx *ctx, uint64_t *dma_out)
{
	uint64_t nr_pages, addr;
	int ret;

	if (!dir_is_valid(dir) || num_pages(pa, size, &nr_pages))
		return -EINVAL;
	if (ims_legacy_dma_alloc_address(l, nr_pages, ctx, &addr))
		return -ENOSPC;
	ret = update_trans(l, pa, addr, nr_pages * PG_SIZE, map_flags(dir), ctx);
	if (ret) {
		ims_legacy_dma_free_address(l, addr, nr_pages);
		return ret;
	}
	ctr_add(&l->mapped_pages, nr_pages);
	*dma_out = addr + (pa & PG_MASK);
	return 0;
}

/* s390_dma_unmap_pages() (§6.4): a failed invalidation leaks the address. */
IMS_NODISCARD static int
do_unmap(struct iommusim_legacy_dma *l, uint64_t dma, uint64_t size, const struct iommusim_ctx *ctx)
{
	uint64_t npages, addr = dma & ~PG_MASK;
	int ret;

	if (num_pages(dma, size, &npages) || !range_is_live(l, addr, npages))
		return -EINVAL;
	ret = update_trans(l, 0, addr, npages * PG_SIZE, IOMMUSIM_ZPCI_PTE_INVALID, ctx);
	if (ret) {
		ctr_add(&l->leaked_pages, npages);
		return ret;
	}
	ctr_add(&l->unmapped_pages, npages);
	ims_legacy_dma_free_address(l, addr, npages);
	return 0;
}

IMS_NODISCARD static int
op_map_page(void *priv, uint64_t phys, uint64_t size, enum iommusim_dma_dir dir,
	    unsigned long attrs, const struct iommusim_ctx *ctx, uint64_t *dma_out)
{
	struct iommusim_legacy_dma *l = priv;
	int ret;

	if (!l || !dma_out)
		return -EINVAL;
	/* pci_dma.c ignores the attributes */
	ret = do_map(l, phys, size, dir, ctx, dma_out);
	if (ret) {
		ctr_add(&l->st_map_errors, 1);
		return ret;
	}
	ctr_add(&l->st_map_pages, 1);
	ctr_add(&l->st_bytes_mapped, size);
	return 0;
}

IMS_NODISCARD static int
op_unmap_page(void *priv, uint64_t dma, uint64_t size, enum iommusim_dma_dir dir,
	      unsigned long attrs, const struct iommusim_ctx *ctx)
{
	struct iommusim_legacy_dma *l = priv;

	if (!l || !dir_is_valid(dir))
		return -EINVAL;
	ctr_add(&l->st_unmap_pages, 1);
	return do_unmap(l, dma, size, ctx);
}

/*
 * __s390_dma_map_sg() (§6.4): one address for the chunk of @n elements
 * (@size bytes from the first element's page), per-element table updates,
 * one purge for the whole chunk.
 */
IMS_NODISCARD static int
map_chunk(struct iommusim_legacy_dma *l, const struct iommusim_dma_sg *sg, size_t n, uint64_t size,
	  uint64_t flags, const struct iommusim_ctx *ctx, uint64_t *base_out)
{
	uint64_t nr_pages = page_align(size) >> 12, base, dma, len;
	size_t i;
	int ret = 0;

	if (ims_legacy_dma_alloc_address(l, nr_pages, ctx, &base))
		return -ENOMEM;
	/* Each element from its page start; only the first has an offset. */
	for (dma = base, i = 0; dma < base + size; i++) {
		ims_assert(i < n);
		len = (sg[i].phys & PG_MASK) + sg[i].length;
		ret = update_tables(l, sg[i].phys, dma, len, flags);
		if (ret)
			goto unmap;
		dma += len;
	}
	ret = purge(l, base, size, flags, ctx);
	if (ret)
		goto unmap;
	ctr_add(&l->mapped_pages, nr_pages);
	*base_out = base;
	return 0;
unmap:
	/* what was written, including its strict purge; the address is freed
	 * anyway and the map's own error is the one returned (§6.3) */
	IMS_IGNORE(update_trans(l, 0, base, dma - base, IOMMUSIM_ZPCI_PTE_INVALID, ctx));
	ims_legacy_dma_free_address(l, base, nr_pages);
	return ret;
}

/*
 * s390_dma_map_sg() (§6.4): elements merge into the running chunk while the
 * next one starts a page (offset 0), the chunk so far ends on a page
 * boundary, and the chunk stays within the max segment size. As in the
 * kernel (and dma-iommu), the DMA segments are written compactly: segment k
 * goes to element k, every other element gets dma_length 0.
 */
IMS_NODISCARD static int
op_map_sg(void *priv, struct iommusim_dma_sg *sg, size_t nents, enum iommusim_dma_dir dir,
	  unsigned long attrs, const struct iommusim_ctx *ctx, size_t *nsegs_out)
{
	struct iommusim_legacy_dma *l = priv;
	uint64_t flags, size, offset, base, bytes = 0;
	size_t i, start = 0, k = 0;
	int ret;

	if (!l || !sg || !nents || !nsegs_out || !dir_is_valid(dir))
		return -EINVAL;
	flags = map_flags(dir);
	offset = sg[0].phys & PG_MASK;
	size = offset + sg[0].length;
	for (i = 0; i < nents; i++)
		bytes += sg[i].length;
	for (i = 1; i < nents; i++) {
		uint64_t off = sg[i].phys & PG_MASK;

		sg[i].dma_length = 0;
		if (off || (size & PG_MASK) || size + sg[i].length > l->max_seg_size) {
			ret = map_chunk(l, sg + start, i - start, size, flags, ctx, &base);
			if (ret)
				goto unmap;
			sg[k].dma_address = base + offset;
			sg[k].dma_length = (uint32_t)(size - offset);
			k++;
			size = offset = off;
			start = i;
		}
		size += sg[i].length;
	}
	ret = map_chunk(l, sg + start, nents - start, size, flags, ctx, &base);
	if (ret)
		goto unmap;
	sg[k].dma_address = base + offset;
	sg[k].dma_length = (uint32_t)(size - offset);
	*nsegs_out = k + 1;
	ctr_add(&l->st_map_sgs, 1);
	ctr_add(&l->st_bytes_mapped, bytes);
	return 0;
unmap:
	/* the chunks mapped so far; then no element describes a DMA segment */
	for (i = 0; i < k; i++) /* the map's error is the one returned (§6.3) */
		IMS_IGNORE(do_unmap(l, sg[i].dma_address, sg[i].dma_length, ctx));
	for (i = 0; i < nents; i++) {
		sg[i].dma_address = 0;
		sg[i].dma_length = 0;
	}
	ctr_add(&l->st_map_errors, 1);
	return ret;
}

/* s390_dma_unmap_sg() (§6.4): every element with a DMA length; @return the first error. */
IMS_NODISCARD static int
op_unmap_sg(void *priv, struct iommusim_dma_sg *sg, size_t nents, enum iommusim_dma_dir dir,
	    unsigned long attrs, const struct iommusim_ctx *ctx)
{
	struct iommusim_legacy_dma *l = priv;
	int ret = 0, r;
	size_t i;

	if (!l || (!sg && nents) || !dir_is_valid(dir))
		return -EINVAL;
	ctr_add(&l->st_unmap_sgs, 1);
	for (i = 0; i < nents; i++) {
		if (sg[i].dma_length) {
			r = do_unmap(l, sg[i].dma_address, sg[i].dma_length, ctx);
			if (r && !ret)
				ret = r;
		}
		sg[i].dma_address = 0;
		sg[i].dma_length = 0;
	}
	return ret;
}

IMS_NODISCARD static int
op_stats_get(void *priv, struct iommusim_dma_stats *out)
{
	struct iommusim_legacy_dma *l = priv;
	struct iommusim_dma_stats st;

	if (!l || !out)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	st.map_pages = ctr_get(&l->st_map_pages);
	st.unmap_pages = ctr_get(&l->st_unmap_pages);
	st.map_sgs = ctr_get(&l->st_map_sgs);
	st.unmap_sgs = ctr_get(&l->st_unmap_sgs);
	st.map_errors = ctr_get(&l->st_map_errors);
	st.bytes_mapped = ctr_get(&l->st_bytes_mapped);
	ims_spin_lock(&l->lock);
	st.iova_pages_live = l->used_pages - l->lazy_pages;
	ims_spin_unlock(&l->lock);
	*out = st;
	return 0;
}

static const struct iommusim_dma_ops legacy_dma_ops = {
	.map_page = op_map_page,
	.unmap_page = op_unmap_page,
	.map_sg = op_map_sg,
	.unmap_sg = op_unmap_sg,
	.stats_get = op_stats_get,
	.name = "s390-legacy",
};

int
iommusim_legacy_dma_alloc_coherent(struct iommusim_legacy_dma *l, uint64_t phys, uint64_t size,
				   const struct iommusim_ctx *ctx, uint64_t *dma_out)
{
	int ret;

	/* §6.4: whole pages, as alloc_pages() gives them */
	if (!l || !dma_out || (phys & PG_MASK) || size > UINT64_MAX - PG_MASK)
		return -EINVAL;
	size = page_align(size);
	ret = do_map(l, phys, size, IOMMUSIM_DMA_BIDIRECTIONAL, ctx, dma_out);
	if (ret)
		return ret;
	ctr_add(&l->allocated_pages, size >> 12);
	return 0;
}

int
iommusim_legacy_dma_free_coherent(struct iommusim_legacy_dma *l, uint64_t dma, uint64_t size,
				  const struct iommusim_ctx *ctx)
{
	uint64_t npages;

	if (!l || (dma & PG_MASK) || size > UINT64_MAX - PG_MASK)
		return -EINVAL;
	size = page_align(size);
	npages = size >> 12;
	if (!range_is_live(l, dma, npages))
		return -EINVAL;
	/* §6.4: the pages count as freed even if the unmap leaks the address */
	ims_solo_fetch_sub(&l->allocated_pages, npages);
	return do_unmap(l, dma, size, ctx);
}

/* ---- set-up and tear-down (§6.1) ---------------------------------------- */

int
iommusim_legacy_dma_create(struct iommusim_zpci_fn *fn, const struct iommusim_legacy_dma_cfg *cfg,
			   const struct iommusim_ctx *ctx, struct iommusim_legacy_dma **out,
			   struct iommusim_dma *dma_out)
{
	const struct iommusim_legacy_dma_cfg defaults = { 0 };
	struct iommusim_zpci_fn_info fi;
	struct iommusim_legacy_dma *l;
	uint64_t start, end, boundary;
	unsigned cc = 0;
	uint8_t status = 0;
	int ret;

	if (!cfg)
		cfg = &defaults;
	if (!fn || !out || !IMS_RESERVED_ZERO(cfg, reserved0) || iommusim_zpci_fn_info_get(fn, &fi))
		return -EINVAL;
	/* iommu_is_span_boundary() requires a power of two */
	boundary = cfg->seg_boundary_pages ? cfg->seg_boundary_pages : DEFAULT_SEG_BOUNDARY_PAGES;
	if (!ims_is_pow2(boundary))
		return -EINVAL;
	/* §6.1 step 2: the window, with the aperture (0 = memory size, 16 GiB) */
	ret = iommusim_zpci_dma_window(fi.start_dma, fi.end_dma,
				       cfg->aperture ? cfg->aperture : DEFAULT_APERTURE, &start,
				       &end);
	if (ret)
		return -EINVAL;
	/* a window below one page has no bitmap (the kernel's allocation of 0 bytes fails) */
	if ((end - start + 1) >> 12 == 0)
		return -EINVAL;

	l = ims_zalloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->fn = fn;
	l->strict = cfg->strict;
	l->tlb_refresh = fi.tlb_refresh;
	l->boundary = boundary;
	l->max_seg_size = cfg->max_seg_size ? cfg->max_seg_size : DEFAULT_MAX_SEG_SIZE;
	ims_spin_init(&l->lock);

	/* §6.1 step 1: the root region table */
	ret = iommusim_zpci_table_create(&l->table);
	if (ret)
		goto err_free;
	/* §6.1 step 2: the function's window is trimmed */
	l->start_dma = start;
	l->end_dma = end;
	l->shift = start >> 12;
	l->iommu_pages = (end - start + 1) >> 12;
	ret = iommusim_zpci_fn_set_dma_window(fn, start, end);
	if (ret)
		goto err_table;
	/* §6.1 step 3: whole 64-bit words (the v6.6 fix); lazy bitmap only when lazy */
	l->nwords = (l->iommu_pages + 63) / 64;
	ret = -ENOMEM;
	l->iommu_bitmap = ims_zalloc(l->nwords * sizeof(uint64_t));
	if (!l->iommu_bitmap)
		goto err_table;
	if (!l->strict) {
		l->lazy_bitmap = ims_zalloc(l->nwords * sizeof(uint64_t));
		if (!l->lazy_bitmap)
			goto err_bitmaps;
	}
	/* §6.1 step 4: register the IOTA; any cc other than 0 is -EIO */
	ret = iommusim_zpci_register_ioat(fn, start, end, iommusim_zpci_table_origin(l->table), ctx,
					  &cc, &status);
	if (ret)
		goto err_bitmaps;
	if (cc) {
		ret = -EIO;
		goto err_bitmaps;
	}
	*out = l;
	if (dma_out) {
		dma_out->ops = &legacy_dma_ops;
		dma_out->priv = l;
	}
	return 0;
err_bitmaps:
	ims_free(l->lazy_bitmap);
	ims_free(l->iommu_bitmap);
err_table:
	iommusim_zpci_table_destroy(l->table);
err_free:
	ims_free(l);
	return ret;
}

void
iommusim_legacy_dma_destroy(struct iommusim_legacy_dma *l, const struct iommusim_ctx *ctx)
{
	unsigned cc;
	uint8_t status;

	if (!l)
		return;
	/* zpci_dma_exit_device(): deregister, then tables and bitmaps */
	/* A function in error deregisters nothing more; as the kernel. */
	IMS_IGNORE(iommusim_zpci_unregister_ioat(l->fn, ctx, &cc, &status));
	iommusim_zpci_table_destroy(l->table);
	ims_free(l->lazy_bitmap);
	ims_free(l->iommu_bitmap);
	ims_free(l);
}

void
ims_legacy_dma_pages(const struct iommusim_legacy_dma *l, uint64_t *mapped, uint64_t *unmapped)
{
	*mapped = l ? ctr_get(&l->mapped_pages) : 0;
	*unmapped = l ? ctr_get(&l->unmapped_pages) : 0;
}

int
iommusim_legacy_dma_counters_get(const struct iommusim_legacy_dma *l,
				 struct iommusim_legacy_dma_counters *out)
{
	struct iommusim_legacy_dma_counters c;

	if (!l || !out)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	c.allocated_pages = ctr_get(&l->allocated_pages);
	c.mapped_pages = ctr_get(&l->mapped_pages);
	c.unmapped_pages = ctr_get(&l->unmapped_pages);
	c.global_rpcits = ctr_get(&l->global_rpcits);
	c.map_rpcits = ctr_get(&l->map_rpcits);
	c.unmap_rpcits = ctr_get(&l->unmap_rpcits);
	c.enomem_recoveries = ctr_get(&l->enomem_recoveries);
	c.leaked_pages = ctr_get(&l->leaked_pages);
	ims_spin_lock(l_lock(l));
	c.wraps = l->wraps;
	c.lazy_pages = l->lazy_pages;
	c.used_pages = l->used_pages;
	ims_spin_unlock(l_lock(l));
	*out = c;
	return 0;
}

int
iommusim_legacy_dma_info_get(const struct iommusim_legacy_dma *l,
			     struct iommusim_legacy_dma_info *out)
{
	if (!l || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->start_dma = l->start_dma;
	out->end_dma = l->end_dma;
	out->iommu_pages = l->iommu_pages;
	out->strict = l->strict;
	ims_spin_lock(l_lock(l));
	out->next_bit = l->next_bit;
	ims_spin_unlock(l_lock(l));
	return 0;
}

/* ---- internals for the tests -------------------------------------------- */

struct iommusim_zpci_table *
ims_legacy_dma_table(const struct iommusim_legacy_dma *l)
{
	return l->table;
}

bool
ims_legacy_dma_page_used(const struct iommusim_legacy_dma *l, uint64_t index)
{
	bool r;

	ims_spin_lock(l_lock(l));
	r = index < l->iommu_pages && (l->iommu_bitmap[index >> 6] >> (index & 63)) & 1;
	ims_spin_unlock(l_lock(l));
	return r;
}

bool
ims_legacy_dma_page_lazy(const struct iommusim_legacy_dma *l, uint64_t index)
{
	bool r;

	ims_spin_lock(l_lock(l));
	r = l->lazy_bitmap && index < l->iommu_pages &&
	    (l->lazy_bitmap[index >> 6] >> (index & 63)) & 1;
	ims_spin_unlock(l_lock(l));
	return r;
}

int
ims_legacy_dma_check(const struct iommusim_legacy_dma *l, char *why, size_t len)
{
	uint64_t used = 0, lazy = 0, w, last = l->iommu_pages - 1;
	int ret = -EPROTO;

	ims_spin_lock(l_lock(l));
	for (w = 0; w < l->nwords; w++) {
		used += (uint64_t)__builtin_popcountll(l->iommu_bitmap[w]);
		if (l->lazy_bitmap) {
			lazy += (uint64_t)__builtin_popcountll(l->lazy_bitmap[w]);
			if (l->lazy_bitmap[w] & ~l->iommu_bitmap[w]) {
				snprintf(why, len, "lazy bit not used in word %llu",
					 (unsigned long long)w);
				goto out;
			}
		}
	}
	if (used != l->used_pages || lazy != l->lazy_pages) {
		snprintf(why, len, "counters used %llu/%llu lazy %llu/%llu",
			 (unsigned long long)l->used_pages, (unsigned long long)used,
			 (unsigned long long)l->lazy_pages, (unsigned long long)lazy);
		goto out;
	}
	/* nothing at or beyond the last page */
	if (ims_bitmap_next_set(l->iommu_bitmap, l->nwords * 64, last) != l->nwords * 64) {
		snprintf(why, len, "bit set at or beyond the last page %llu",
			 (unsigned long long)last);
		goto out;
	}
	ret = 0;
out:
	ims_spin_unlock(l_lock(l));
	return ret;
}
