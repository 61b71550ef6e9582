/* SPDX-License-Identifier: MIT */
/*
 * Tests of the one-call DMA stack (iommusim/stack.h): what it builds for each
 * configuration, its refusals, its accessors, and every allocation of its
 * set-up failing in turn (ASan in CI finds what would leak).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/s390_iommu.h>
#include <iommusim/stack.h>

#include "base/mem_int.h"

static void
test_stack_builds_what_the_config_says(void **state)
{
	const struct iommusim_stack_cfg cfg = { .ncpus = 4,
						.nfns = 3,
						.tlb_refresh = true,
						.fq_type = IOMMUSIM_FQ_SINGLE,
						.fq_size = 64,
						.fq_timeout_ms = 5,
						.memory = UINT64_C(1) << 30 };
	struct iommusim_dma_iommu_info info;
	struct iommusim_zpci_fn_info fi;
	struct iommusim_stack *st = NULL;
	unsigned i;

	(void)state;
	assert_int_equal(iommusim_stack_create(&cfg, &st, NULL, 0), 0);
	for (i = 0; i < 3; i++) {
		assert_non_null(iommusim_stack_dma(st, i));
		assert_non_null(iommusim_stack_domain(st, i));
		assert_null(iommusim_stack_ism(st, i));
		assert_int_equal(
			iommusim_dma_iommu_info_get(iommusim_stack_dma_iommu(st, i), &info), 0);
		assert_int_equal(info.type, IOMMUSIM_DOMAIN_DMA_FQ);
		assert_true(info.single_queue);
		assert_int_equal(info.fq_size, 64);
		assert_int_equal(info.fq_timeout_ms, 5);
		assert_int_equal(info.ncpus, 4);
		assert_int_equal(iommusim_zpci_fn_info_get(iommusim_stack_fn(st, i), &fi), 0);
		assert_int_equal(fi.fid, i + 1);
		assert_true(fi.tlb_refresh);
	}
	assert_null(iommusim_stack_dma(st, 3));
	assert_null(iommusim_stack_fn(st, 3));
	assert_null(iommusim_stack_dma_iommu(st, 3));
	assert_null(iommusim_stack_domain(NULL, 0));
	assert_non_null(iommusim_stack_platform(st));
	assert_null(iommusim_stack_platform(NULL));
	iommusim_stack_destroy(st);
	iommusim_stack_destroy(NULL);
}

static void
test_stack_strict_and_ism(void **state)
{
	const struct iommusim_stack_cfg strict = { .strict = true }, ism = { .ism = true };
	struct iommusim_dma_iommu_info info;
	struct iommusim_stack *st = NULL;

	(void)state;
	assert_int_equal(iommusim_stack_create(&strict, &st, NULL, 0), 0);
	assert_int_equal(iommusim_dma_iommu_info_get(iommusim_stack_dma_iommu(st, 0), &info), 0);
	assert_int_equal(info.type, IOMMUSIM_DOMAIN_DMA);
	assert_false(info.downgraded);
	iommusim_stack_destroy(st);
	assert_int_equal(iommusim_stack_create(&ism, &st, NULL, 0), 0);
	assert_int_equal(iommusim_dma_iommu_info_get(iommusim_stack_dma_iommu(st, 0), &info), 0);
	assert_int_equal(info.type, IOMMUSIM_DOMAIN_DMA);
	assert_true(info.downgraded);
	assert_non_null(iommusim_stack_ism(st, 0));
	iommusim_stack_destroy(st);
}

static void
test_stack_refuses_bad_configurations(void **state)
{
	static const struct {
		struct iommusim_stack_cfg cfg;
		const char *msg;
	} cases[] = {
		{ { .nfns = 17 }, "at most 16 functions, not 17" },
		{ { .fq_size = 100 }, "fq_size must be a power of two" },
		{ { .memory = 4097 }, "memory must be a multiple of 4 KiB" },
	};
	struct iommusim_stack *st = (struct iommusim_stack *)&st;
	char err[160];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(iommusim_stack_create(&cases[i].cfg, &st, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, cases[i].msg));
		assert_ptr_equal(st, (struct iommusim_stack *)&st); /* untouched */
	}
	assert_int_equal(iommusim_stack_create(NULL, &st, err, sizeof(err)), -EINVAL);
}

/* Every allocation of the set-up failing: -ENOMEM, nothing half-built left. */
static void
test_stack_every_allocation_failing(void **state)
{
	const struct iommusim_stack_cfg cfg = { .ncpus = 2, .nfns = 2, .ism = true };
	struct iommusim_stack *st = NULL;
	uint64_t n, total;

	(void)state;
	ims_mem_fault_inject(0, 0);
	assert_int_equal(iommusim_stack_create(&cfg, &st, NULL, 0), 0);
	total = ims_mem_attempts();
	iommusim_stack_destroy(st);
	assert_true(total > 5);
	for (n = 1; n <= total; n++) {
		int ret;

		st = NULL;
		ims_mem_fault_inject(n, 1);
		ret = iommusim_stack_create(&cfg, &st, NULL, 0);
		ims_mem_fault_inject(0, 0);
		/* dma-iommu copes with a queue it cannot allocate: strict, as the kernel */
		if (ret == 0) {
			assert_non_null(st);
			iommusim_stack_destroy(st);
		} else {
			assert_int_equal(ret, -ENOMEM);
			assert_null(st);
		}
	}
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stack_builds_what_the_config_says),
		cmocka_unit_test(test_stack_strict_and_ism),
		cmocka_unit_test(test_stack_refuses_bad_configurations),
		cmocka_unit_test(test_stack_every_allocation_failing),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("stack", tests, NULL, NULL);
}
