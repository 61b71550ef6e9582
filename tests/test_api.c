/* SPDX-License-Identifier: MIT */
/*
 * Links only the shared library: everything used here must be exported, and
 * the public headers alone must be enough to drive the allocator.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/iommusim.h>

static void
test_api_version_is_semver(void **state)
{
	const char *v = iommusim_version();
	unsigned major, minor, patch;

	assert_non_null(v);
	assert_int_equal(sscanf(v, "%u.%u.%u", &major, &minor, &patch), 3);
}

static int
count_range(void *priv, const struct iommusim_iova_range *r)
{
	(*(unsigned *)priv)++;
	return 0;
}

static void
test_api_iova_round_trip(void **state)
{
	const struct iommusim_iova_cfg cfg = { .start_pfn = 1 };
	const struct iommusim_iova_rcache_cfg rcfg = { .ncpus = 2 };
	struct iommusim_iova_domain *iovad = NULL;
	struct iommusim_iova_trace tr;
	struct iommusim_iova_range r;
	struct iommusim_iova_info info;
	struct iommusim_iova_rcache_info ri;
	uint64_t pfn, fast;
	unsigned n = 0;

	memset(&tr, 0, sizeof(tr));
	assert_int_equal(iommusim_iova_domain_create(&cfg, &iovad), 0);
	assert_int_equal(iommusim_iova_rcaches_init(iovad, &rcfg), 0);
	assert_int_equal(iommusim_iova_alloc(iovad, 4, 0xfffff, true, &pfn, &tr), 0);
	assert_true(pfn == 0xffffc);
	assert_int_equal(iommusim_iova_find(iovad, pfn + 3, &r, &tr), 0);
	assert_true(r.pfn_lo == 0xffffc && r.pfn_hi == 0xfffff);
	assert_int_equal(iommusim_iova_reserve(iovad, 0x10, 0x1f, &r, &tr), 0);
	assert_int_equal(iommusim_iova_alloc_fast(iovad, 1, 2, 0xfffff, true, &fast, &tr), 0);
	assert_int_equal(iommusim_iova_free_fast(iovad, 1, fast, 2, &tr), 0);
	assert_int_equal(iommusim_iova_rcache_info_get(iovad, 1, 1, &ri), 0);
	assert_int_equal(ri.loaded_size, 1);
	assert_int_equal(iommusim_iova_cpu_cache_flush(iovad, 1, &tr), 0);
	assert_int_equal(iommusim_iova_global_cache_flush(iovad, &tr), 0);
	assert_int_equal(iommusim_iova_depot_work_run(iovad, 0, &tr), 0);
	assert_int_equal(iommusim_iova_cpu_set_online(iovad, 1, false, &tr), 0);
	assert_int_equal(iommusim_iova_free(iovad, pfn, &tr), 0);
	assert_int_equal(iommusim_iova_for_each(iovad, count_range, &n), 0);
	assert_int_equal(n, 1); /* the reservation */
	assert_int_equal(iommusim_iova_info_get(iovad, &info), 0);
	assert_true(info.nr_ranges == 1 && info.nr_pfns == 16 && info.has_rcaches);
	assert_true(tr.tree_inserts == 3 && tr.tree_erases == 2 && tr.rcache_inserts == 1);
	iommusim_iova_domain_destroy(iovad);
}

static void
test_api_rejects_misuse(void **state)
{
	struct iommusim_iova_domain *iovad = NULL;
	const struct iommusim_iova_cfg bad = { .granule = 3 };
	uint64_t pfn;

	assert_int_equal(iommusim_iova_domain_create(&bad, &iovad), -EINVAL);
	assert_null(iovad);
	assert_int_equal(iommusim_iova_domain_create(NULL, &iovad), -EINVAL);
	assert_int_equal(iommusim_iova_alloc(NULL, 1, 10, true, &pfn, NULL), -EINVAL);
	iommusim_iova_domain_destroy(NULL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_api_version_is_semver),
		cmocka_unit_test(test_api_iova_round_trip),
		cmocka_unit_test(test_api_rejects_misuse),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
