/* SPDX-License-Identifier: MIT */
/*
 * A unit test of flush logic against the installed libiommusim, with
 * CMocka: what a kernel developer's CI builds with
 *
 *     cc -std=c11 test_flush.c $(pkg-config --cflags --libs libiommusim cmocka) -o test_flush
 *     ./test_flush
 *
 * Each test builds a whole DMA stack in one call (iommusim/stack.h): the
 * s390 IOMMU driver, a zPCI function answered by the canned-answer
 * platform, its device and domain, dma-iommu; then maps and unmaps and
 * checks the RPCITs the platform saw.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/iommusim.h>

#define PAGE UINT64_C(4096)

/* How many RPCITs of @p reason the platform answered. */
static size_t
rpcits(const struct iommusim_stack *st, enum iommusim_rpcit_reason reason)
{
	struct iommusim_zpci_canned *p = iommusim_stack_platform(st);
	struct iommusim_zpci_canned_call c;
	size_t i, n = 0;

	for (i = 0; i < iommusim_zpci_canned_ncalls(p); i++) {
		assert_int_equal(iommusim_zpci_canned_call(p, i, &c), 0);
		n += c.is_rpcit && c.rpcit.reason == reason;
	}
	return n;
}

static struct iommusim_stack *
stack(const struct iommusim_stack_cfg *cfg)
{
	struct iommusim_stack *st = NULL;
	char err[160];

	if (iommusim_stack_create(cfg, &st, err, sizeof(err)))
		fail_msg("iommusim_stack_create: %s", err);
	return st;
}

/* Lazy (DMA-FQ): unmaps are queued, nothing is flushed until the timer; the
 * timer's flush is one global RPCIT, and the queue is empty after it. */
static void
test_lazy_unmaps_wait_for_the_timer(void **state)
{
	const struct iommusim_stack_cfg cfg = { .ncpus = 1, .fq_size = 256 };
	struct iommusim_stack *st = stack(&cfg);
	const struct iommusim_dma *dma = iommusim_stack_dma(st, 0);
	struct iommusim_dma_iommu_stats s;
	uint64_t iova[8];
	int i;

	(void)state;
	for (i = 0; i < 8; i++)
		assert_int_equal(iommusim_dma_map_page(dma, 0x10000000 + (uint64_t)i * PAGE, PAGE,
						       IOMMUSIM_DMA_FROM_DEVICE, 0, NULL, &iova[i]),
				 0);
	for (i = 0; i < 8; i++)
		assert_int_equal(iommusim_dma_unmap_page(dma, iova[i], PAGE,
							 IOMMUSIM_DMA_FROM_DEVICE, 0, NULL),
				 0);
	assert_int_equal(rpcits(st, IOMMUSIM_RPCIT_GLOBAL_FLUSH), 0);
	assert_int_equal(rpcits(st, IOMMUSIM_RPCIT_SYNC), 0);
	assert_int_equal(iommusim_dma_iommu_stats_get(iommusim_stack_dma_iommu(st, 0), &s), 0);
	assert_int_equal(s.fq.entries_now, 8);
	iommusim_dma_iommu_fq_timeout(iommusim_stack_dma_iommu(st, 0), NULL);
	assert_int_equal(rpcits(st, IOMMUSIM_RPCIT_GLOBAL_FLUSH), 1);
	assert_int_equal(iommusim_dma_iommu_stats_get(iommusim_stack_dma_iommu(st, 0), &s), 0);
	assert_int_equal(s.fq.entries_now, 0);
	assert_int_equal(s.lazy_reuse_violations, 0);
	iommusim_stack_destroy(st);
}

/* Strict (DMA): each unmap flushes its own range, no global refresh. */
static void
test_strict_unmap_flushes_its_range(void **state)
{
	const struct iommusim_stack_cfg cfg = { .strict = true };
	struct iommusim_stack *st = stack(&cfg);
	const struct iommusim_dma *dma = iommusim_stack_dma(st, 0);
	struct iommusim_zpci_canned_call c;
	struct iommusim_zpci_canned *p = iommusim_stack_platform(st);
	uint64_t iova;

	(void)state;
	assert_int_equal(iommusim_dma_map_page(dma, 0x20000100, 3 * PAGE, IOMMUSIM_DMA_TO_DEVICE, 0,
					       NULL, &iova),
			 0);
	assert_int_equal(
		iommusim_dma_unmap_page(dma, iova, 3 * PAGE, IOMMUSIM_DMA_TO_DEVICE, 0, NULL), 0);
	assert_int_equal(rpcits(st, IOMMUSIM_RPCIT_SYNC), 1);
	assert_int_equal(rpcits(st, IOMMUSIM_RPCIT_GLOBAL_FLUSH), 0);
	/* the last call is that RPCIT, over the 4 pages the buffer touched */
	assert_int_equal(iommusim_zpci_canned_call(p, iommusim_zpci_canned_ncalls(p) - 1, &c), 0);
	assert_true(c.is_rpcit);
	assert_int_equal(c.rpcit.addr, iova & ~(PAGE - 1));
	assert_int_equal(c.rpcit.range, 4 * PAGE);
	iommusim_stack_destroy(st);
}

/* ISM: the device has no deferred-flush capability, so the kernel makes its
 * DMA-FQ domain strict, and says why. */
static void
test_ism_domain_runs_strict(void **state)
{
	const struct iommusim_stack_cfg cfg = { .ism = true };
	struct iommusim_stack *st = stack(&cfg);
	struct iommusim_dma_iommu_info info;

	(void)state;
	assert_int_equal(iommusim_dma_iommu_info_get(iommusim_stack_dma_iommu(st, 0), &info), 0);
	assert_int_equal(info.type, IOMMUSIM_DOMAIN_DMA);
	assert_true(info.downgraded);
	assert_int_equal(info.downgrade, IOMMUSIM_DOWNGRADE_NO_DEFERRED_FLUSH);
	assert_non_null(iommusim_stack_ism(st, 0));
	iommusim_stack_destroy(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lazy_unmaps_wait_for_the_timer),
		cmocka_unit_test(test_strict_unmap_flushes_its_range),
		cmocka_unit_test(test_ism_domain_runs_strict),
	};

	return cmocka_run_group_tests_name("flush", tests, NULL, NULL);
}
