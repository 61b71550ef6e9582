/* SPDX-License-Identifier: MIT */
/* iommusim demo: the IOVA allocator's behaviour on a small domain. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/iommusim.h>

#include "cmd.h"

#define CHECK(call)                                                                           \
	do {                                                                                  \
		int ret_ = (call);                                                            \
		if (ret_) {                                                                   \
			fprintf(stderr, "iommusim: %s failed: %s\n", #call, strerror(-ret_)); \
			goto out;                                                             \
		}                                                                             \
	} while (0)

static void
show_range(struct iommusim_iova_domain *iovad, const char *what, uint64_t pfn)
{
	struct iommusim_iova_range r;
	struct iommusim_iova_info info;

	if (iommusim_iova_find(iovad, pfn, &r, NULL) || iommusim_iova_info_get(iovad, &info))
		return;
	printf("  %-34s [0x%05" PRIx64 ", 0x%05" PRIx64 "]  cached32_node = [0x%05" PRIx64
	       ", 0x%05" PRIx64 "]\n",
	       what, r.pfn_lo, r.pfn_hi, info.cached32_node.pfn_lo, info.cached32_node.pfn_hi);
}

IOMMUSIM_NODISCARD static int
demo(void)
{
	const struct iommusim_iova_cfg cfg = { .granule = 4096, .start_pfn = 1 };
	const struct iommusim_iova_rcache_cfg rcfg = { .ncpus = 2 };
	struct iommusim_iova_domain *iovad = NULL;
	struct iommusim_iova_trace tr = { 0 };
	struct iommusim_iova_info info;
	uint64_t a, b, c, d, pfn;
	int rc = EXIT_FAILURE;

	CHECK(iommusim_iova_domain_create(&cfg, &iovad));
	CHECK(iommusim_iova_info_get(iovad, &info));
	printf("IOVA domain: granule %" PRIu64 ", start_pfn %" PRIu64 ", dma_32bit_pfn 0x%" PRIx64
	       "\n",
	       info.granule, info.start_pfn, info.dma_32bit_pfn);

	printf("alloc_iova below 4 GiB (limit_pfn 0xfffff), KERNEL_SPEC TV-1..TV-3:\n");
	CHECK(iommusim_iova_alloc(iovad, 1, 0xfffff, true, &a, NULL));
	show_range(iovad, "size 1, aligned", a);
	CHECK(iommusim_iova_alloc(iovad, 3, 0xfffff, true, &b, NULL));
	show_range(iovad, "size 3, aligned to 4", b);
	CHECK(iommusim_iova_alloc(iovad, 1, 0xfffff, false, &c, NULL));
	show_range(iovad, "size 1, not aligned", c);
	CHECK(iommusim_iova_free(iovad, a, NULL));
	printf("  free 0x%05" PRIx64 ": the cached node moves to its successor\n", a);
	CHECK(iommusim_iova_alloc(iovad, 1, 0xfffff, true, &d, NULL));
	show_range(iovad, "size 1 again: the hole is reused", d);

	printf("alloc_iova_fast / free_iova_fast on CPU 0 (magazines of %d pfns):\n",
	       IOMMUSIM_IOVA_MAG_SIZE);
	CHECK(iommusim_iova_rcaches_init(iovad, &rcfg));
	CHECK(iommusim_iova_alloc_fast(iovad, 0, 3, 0xfffff, true, &pfn, &tr));
	printf("  size 3 is rounded to 4: pfn 0x%05" PRIx64 " from the tree (rcache misses %" PRIu64
	       ")\n",
	       pfn, tr.rcache_misses);
	CHECK(iommusim_iova_free_fast(iovad, 0, pfn, 3, &tr));
	CHECK(iommusim_iova_alloc_fast(iovad, 0, 4, 0xfffff, true, &pfn, &tr));
	printf("  freed to CPU 0's magazine and reallocated: pfn 0x%05" PRIx64
	       " (rcache hits %" PRIu64 ")\n",
	       pfn, tr.rcache_hits);
	CHECK(iommusim_iova_free_fast(iovad, 0, pfn, 4, &tr));
	CHECK(iommusim_iova_alloc_fast(iovad, 1, 4, 0xfffff, true, &pfn, &tr));
	printf("  CPU 1 has its own magazines: pfn 0x%05" PRIx64 " comes from the tree\n", pfn);
	rc = EXIT_SUCCESS;
out:
	iommusim_iova_domain_destroy(iovad);
	return rc;
}

int
cmd_demo(int argc, char **argv)
{
	if (cmd_help_requested(argc, argv)) {
		printf("Usage: iommusim demo\n"
		       "Walk through the IOVA allocator (drivers/iommu/iova.c) on a small domain:\n"
		       "top-down allocation, size alignment, the cached node on free, and the\n"
		       "per-CPU magazine caches.\n");
		return EXIT_SUCCESS;
	}
	if (argc > 1) {
		fprintf(stderr, "iommusim demo: unexpected argument '%s'\n", argv[1]);
		return 2;
	}
	return demo();
}
