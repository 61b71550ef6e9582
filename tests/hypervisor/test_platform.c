/* SPDX-License-Identifier: MIT */
/*
 * Tests of the platform profiles and models: profiles as data, and each
 * mechanism in isolation (COST_MODEL.md §1-§3): the shadow's entry limit,
 * global-refresh cost from the populated tables, serialisation.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <iommusim/platform.h>
#include <iommusim/sim.h>
#include <iommusim/zpci.h>
#include <iommusim/zpci_table.h>

#define PG UINT64_C(4096)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define BASE (UINT64_C(4) << 30)
#define WINDOW (UINT64_C(16) << 30)

/* An engine, a platform model and one function with its own tables. */
struct fix {
	struct iommusim_sim *sim;
	struct iommusim_platform *pl;
	struct iommusim_zpci_fn *fn;
	struct iommusim_zpci_table *t;
	struct iommusim_ctx ctx;
};

static void
fix_start(struct fix *f, const struct iommusim_profile *p)
{
	const struct iommusim_sim_cfg scfg = { .clock_ghz = p->clock_ghz, .ncpus = 2, .seed = 1 };
	struct iommusim_zpci_fn_cfg fcfg = {
		.fid = 7,
		.tlb_refresh = p->tlb_refresh,
		.platform = &iommusim_platform_zpci_ops,
	};
	unsigned cc;
	uint8_t st;

	memset(f, 0, sizeof(*f));
	assert_int_equal(iommusim_sim_create(&scfg, &f->sim), 0);
	assert_int_equal(iommusim_platform_create(p, f->sim, &f->pl), 0);
	fcfg.platform_priv = f->pl;
	assert_int_equal(iommusim_zpci_fn_create(&fcfg, &f->fn), 0);
	assert_int_equal(iommusim_zpci_fn_set_dma_window(f->fn, BASE, BASE + WINDOW - 1), 0);
	assert_int_equal(iommusim_zpci_table_create(&f->t), 0);
	assert_int_equal(iommusim_zpci_register_ioat(f->fn, BASE, BASE + WINDOW - 1,
						     iommusim_zpci_table_origin(f->t), NULL, &cc,
						     &st),
			 0);
	assert_int_equal(cc, 0);
}

static void
fix_stop(struct fix *f)
{
	unsigned cc;
	uint8_t st;

	(void)iommusim_zpci_unregister_ioat(f->fn, NULL, &cc, &st);
	iommusim_zpci_fn_destroy(f->fn);
	iommusim_platform_destroy(f->pl);
	iommusim_zpci_table_destroy(f->t);
	iommusim_sim_destroy(f->sim);
}

static void
map(struct fix *f, uint64_t iova, bool valid)
{
	assert_int_equal(iommusim_zpci_table_update(
				 f->t, iova, iova + (UINT64_C(1) << 40),
				 valid ? IOMMUSIM_ZPCI_PTE_VALID : IOMMUSIM_ZPCI_PTE_INVALID, NULL),
			 0);
}

/* Issue one refresh from CPU @cpu as a work item starting now; return the
 * cycles the item took and the kernel's return value through @ret. */
static uint64_t
refresh(struct fix *f, unsigned cpu, uint64_t addr, uint64_t range,
	enum iommusim_rpcit_reason reason, int *ret)
{
	uint64_t start, end;

	assert_int_equal(
		iommusim_sim_cpu_begin(f->sim, cpu, iommusim_sim_now(f->sim), &f->ctx, &start), 0);
	*ret = iommusim_zpci_refresh_trans(f->fn, addr, range, reason, addr, range, &f->ctx);
	end = iommusim_sim_cpu_end(f->sim, cpu);
	return end - start;
}

static struct iommusim_profile
profile(const char *name)
{
	const struct iommusim_profile *p = iommusim_profile_find(name);

	assert_non_null(p);
	return *p;
}

/* ---- profiles as data ---- */

static void
test_platform_builtin_profiles(void **state)
{
	static const char *const names[] = { "lpar", "zvm", "kvm", "x86-vtd", "x86-virtio" };
	size_t i;

	assert_int_equal(iommusim_profile_count(), 5);
	for (i = 0; i < 5; i++) {
		assert_string_equal(iommusim_profile_at(i)->name, names[i]);
		assert_ptr_equal(iommusim_profile_find(names[i]), iommusim_profile_at(i));
	}
	assert_null(iommusim_profile_at(5));
	assert_null(iommusim_profile_find("nope"));
	assert_null(iommusim_profile_find(NULL));
	/* COST_MODEL §1-§2: who shadows, who serialises, the vfio limit. */
	assert_false(iommusim_profile_find("lpar")->tlb_refresh);
	assert_false(iommusim_profile_find("lpar")->serialised);
	assert_true(iommusim_profile_find("zvm")->tlb_refresh);
	assert_int_equal(iommusim_profile_find("zvm")->shadow_limit, 0);
	assert_true(iommusim_profile_find("kvm")->serialised);
	assert_int_equal(iommusim_profile_find("kvm")->shadow_limit, 65535);
	assert_int_equal(iommusim_profile_find("kvm")->map_sync_base, 80000);
	assert_int_equal(iommusim_profile_find("kvm")->per_host_map, 20000);
	assert_int_equal(iommusim_profile_find("zvm")->walk_per_slot, 500);
	assert_int_equal(iommusim_profile_find("lpar")->global_base, 50000);
	assert_int_equal(iommusim_profile_find("x86-vtd")->sync_base, 2130);
	assert_true(iommusim_profile_find("x86-vtd")->clock_ghz == 3.0);
}

static void
test_platform_profile_set_keys(void **state)
{
	struct iommusim_profile p = profile("kvm");
	size_t i;

	assert_int_equal(iommusim_profile_set(&p, "shadow_limit", "100"), 0);
	assert_int_equal(p.shadow_limit, 100);
	assert_int_equal(iommusim_profile_set(&p, "clock_ghz", "4.5"), 0);
	assert_true(p.clock_ghz == 4.5);
	assert_int_equal(iommusim_profile_set(&p, "serialised", "false"), 0);
	assert_false(p.serialised);
	assert_int_equal(iommusim_profile_set(&p, "tlb_refresh", "0"), 0);
	assert_false(p.tlb_refresh);
	assert_int_equal(iommusim_profile_set(&p, "bounce_per_byte", "0.25"), 0);
	assert_true(p.bounce_per_byte == 0.25);
	/* errors change nothing */
	assert_int_equal(iommusim_profile_set(&p, "no_such_key", "1"), -ENOENT);
	assert_int_equal(iommusim_profile_set(&p, "shadow_limit", "-1"), -EINVAL);
	assert_int_equal(iommusim_profile_set(&p, "shadow_limit", "12x"), -EINVAL);
	assert_int_equal(iommusim_profile_set(&p, "shadow_limit", ""), -EINVAL);
	assert_int_equal(iommusim_profile_set(&p, "shadow_limit", "99999999999999999999999"),
			 -EINVAL);
	assert_int_equal(iommusim_profile_set(&p, "clock_ghz", "0"), -EINVAL);
	assert_int_equal(iommusim_profile_set(&p, "clock_ghz", "nan"), -EINVAL);
	assert_int_equal(iommusim_profile_set(&p, "serialised", "maybe"), -EINVAL);
	assert_int_equal(p.shadow_limit, 100);
	assert_true(p.clock_ghz == 4.5);
	{
		struct iommusim_profile q = p;

		/* One grammar (iommusim/units.h): no sign or space, exact forms taken. */
		assert_int_equal(iommusim_profile_set(&q, "shadow_limit", " -1"), -EINVAL);
		assert_int_equal(iommusim_profile_set(&q, "shadow_limit", " 5"), -EINVAL);
		assert_int_equal(iommusim_profile_set(&q, "shadow_limit", "+5"), -EINVAL);
		assert_int_equal(iommusim_profile_set(&q, "shadow_limit", "65_535"), 0);
		assert_int_equal(q.shadow_limit, 65535);
		assert_int_equal(iommusim_profile_set(&q, "global_base", "1.5e6"), 0);
		assert_int_equal(q.global_base, 1500000);
		assert_int_equal(iommusim_profile_set(&q, "global_base", "1.5"), -EINVAL);
		assert_int_equal(iommusim_profile_set(&q, "serialised", "yes"), 0);
		assert_true(q.serialised);
		assert_int_equal(iommusim_profile_set(&q, "serialised", "OFF"), 0);
		assert_false(q.serialised);
		assert_int_equal(iommusim_profile_set(&q, "clock_ghz", " 5"), -EINVAL);
		assert_int_equal(iommusim_profile_set(&q, "clock_ghz", "0x1p3"), -EINVAL);
		/* The clock takes only what the engine takes. */
		assert_int_equal(iommusim_profile_set(&q, "clock_ghz", "1e6"), 0);
		assert_int_equal(iommusim_profile_set(&q, "clock_ghz", "1.000001e6"), -EINVAL);
		assert_int_equal(iommusim_profile_set(&q, "clock_ghz", "1e-6"), 0);
		assert_int_equal(iommusim_profile_set(&q, "clock_ghz", "9e-7"), -EINVAL);
		assert_int_equal(iommusim_profile_set(&q, "bounce_per_byte", "-0.5"), -EINVAL);
	}
	/* every key can be set */
	for (i = 0; iommusim_profile_key_at(i); i++)
		assert_int_equal(iommusim_profile_set(&p, iommusim_profile_key_at(i), "1"), 0);
	assert_int_equal(i, 20);
}

static void
test_platform_profile_print(void **state)
{
	const struct iommusim_profile *p = iommusim_profile_find("zvm");
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(iommusim_profile_print(f, p), 0);
	fclose(f);
	assert_non_null(strstr(buf, "# profile zvm\n"));
	assert_non_null(
		strstr(buf, "walk_per_slot    = 500        # cycles per 4 KiB slot walked\n"));
	assert_non_null(strstr(buf, "clock_ghz        = 5.2 "));
	assert_non_null(strstr(buf, "serialised       = 1 "));
	for (i = 0; iommusim_profile_key_at(i); i++)
		assert_non_null(strstr(buf, iommusim_profile_key_at(i)));
	free(buf);
	assert_int_equal(iommusim_profile_print(NULL, p), -EINVAL);
}

/* ---- models ---- */

static void
test_platform_lpar_costs_fixed(void **state)
{
	struct fix f;
	struct iommusim_platform_stats s;
	struct iommusim_cpu_stats cs;
	int ret;

	fix_start(&f, iommusim_profile_find("lpar"));
	map(&f, BASE, true);
	/* Firmware: no walk, ranged 8k, global 50k, answered cc 0. */
	assert_int_equal(refresh(&f, 0, BASE, PG, IOMMUSIM_RPCIT_SYNC, &ret), 8000);
	assert_int_equal(ret, 0);
	assert_int_equal(refresh(&f, 0, BASE, WINDOW, IOMMUSIM_RPCIT_GLOBAL_FLUSH, &ret), 50000);
	assert_int_equal(iommusim_platform_stats_get(f.pl, &s), 0);
	assert_int_equal(s.rpcits, 2);
	assert_int_equal(s.global, 1);
	assert_int_equal(s.walked_slots, 0);
	assert_int_equal(iommusim_sim_cpu_stats_get(f.sim, 0, &cs), 0);
	assert_int_equal(cs.by_cost[IOMMUSIM_COST_UNMAP_SYNC], 8000);
	assert_int_equal(cs.by_cost[IOMMUSIM_COST_FLUSH], 50000);
	fix_stop(&f);
}

static void
test_platform_kvm_map_sync_cost_from_host_maps(void **state)
{
	const struct iommusim_profile p = profile("kvm");
	struct fix f;
	uint64_t i;
	int ret;

	fix_start(&f, &p);
	for (i = 0; i < 4; i++)
		map(&f, BASE + i * PG, true);
	/* exit + 4 host maps + 4 slots walked */
	assert_int_equal(refresh(&f, 0, BASE, 4 * PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret),
			 80000 + 4 * 20000 + 4 * 800);
	assert_int_equal(ret, 0);
	/* the same range again: nothing new to map */
	assert_int_equal(refresh(&f, 0, BASE, 4 * PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret),
			 80000 + 4 * 800);
	fix_stop(&f);
}

/*
 * COST_MODEL §3 row 7: status 16 exactly when live plus lazily unmapped but
 * unflushed pages reach the limit; the global refresh then frees enough.
 */
static void
test_platform_kvm_status16_when_live_plus_stale_reach_limit(void **state)
{
	struct iommusim_profile p = profile("kvm");
	struct iommusim_platform_stats s;
	struct fix f;
	uint64_t i;
	int ret;

	assert_int_equal(iommusim_profile_set(&p, "shadow_limit", "8"), 0);
	fix_start(&f, &p);
	/* 8 pages mapped and announced: the pool is full */
	for (i = 0; i < 8; i++) {
		map(&f, BASE + i * PG, true);
		(void)refresh(&f, 0, BASE + i * PG, PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
		assert_int_equal(ret, 0);
	}
	/* 3 of them unmapped lazily: PTEs invalid, no refresh yet */
	for (i = 0; i < 3; i++)
		map(&f, BASE + i * PG, false);
	/* a 9th mapping: live 5 + stale 3 = 8 = limit -> status 16 */
	map(&f, BASE + 100 * PG, true);
	(void)refresh(&f, 0, BASE + 100 * PG, PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
	assert_int_equal(ret, -ENOMEM);
	assert_int_equal(iommusim_platform_stats_get(f.pl, &s), 0);
	assert_int_equal(s.status16, 1);
	/* the kernel's recovery: a global refresh reclaims the stale entries
	 * and maps the new page in the same walk */
	(void)refresh(&f, 0, BASE, WINDOW, IOMMUSIM_RPCIT_ENOMEM_RECOVERY, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(iommusim_platform_stats_get(f.pl, &s), 0);
	assert_int_equal(s.shadow_entries, 6);
	assert_int_equal(s.status16, 1);
	/* below the limit (live 6 + stale 0 + new 1 = 7): no status 16 */
	map(&f, BASE + 101 * PG, true);
	(void)refresh(&f, 0, BASE + 101 * PG, PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
	assert_int_equal(ret, 0);
	fix_stop(&f);
}

/* The cost of a global refresh grows with the populated part of the tables
 * (segments walked), not with how many IOVAs are waiting for it. */
static void
test_platform_global_cost_grows_with_populated_segments(void **state)
{
	const struct iommusim_profile p = profile("zvm");
	uint64_t cost[3], stale_cost;
	struct fix f;
	unsigned k;
	int ret;

	for (k = 0; k < 3; k++) {
		uint64_t seg;

		fix_start(&f, &p);
		/* 1, 2 or 4 populated segments, one page each, all shadowed */
		for (seg = 0; seg < (UINT64_C(1) << k); seg++) {
			map(&f, BASE + seg * MiB, true);
			(void)refresh(&f, 0, BASE + seg * MiB, PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
		}
		cost[k] = refresh(&f, 0, BASE, WINDOW, IOMMUSIM_RPCIT_GLOBAL_FLUSH, &ret);
		assert_int_equal(ret, 0);
		fix_stop(&f);
	}
	/* each populated segment adds its 256 walked slots */
	assert_int_equal(cost[1] - cost[0], 256 * 500);
	assert_int_equal(cost[2] - cost[1], 2 * 256 * 500);
	/* one segment with 200 lazily unmapped pages waiting: the walk is the
	 * same; only the stale entries' coalesced host unmaps add */
	fix_start(&f, &p);
	for (k = 0; k < 200; k++) {
		map(&f, BASE + k * PG, true);
		(void)refresh(&f, 0, BASE + k * PG, PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
	}
	for (k = 0; k < 200; k++)
		map(&f, BASE + k * PG, false);
	stale_cost = refresh(&f, 0, BASE, WINDOW, IOMMUSIM_RPCIT_GLOBAL_FLUSH, &ret);
	/* 200 = 128 + 64 + 8: three aligned runs */
	assert_int_equal(stale_cost, cost[0] + 3 * 10000);
	fix_stop(&f);
}

/* A serialising hypervisor is a one-slot server: a second CPU's refresh
 * waits behind the first; firmware runs them in parallel. */
static void
test_platform_serialised_hypervisor_queues_cpus(void **state)
{
	const char *const names[] = { "kvm", "lpar" };
	unsigned k;

	for (k = 0; k < 2; k++) {
		const struct iommusim_profile *p = iommusim_profile_find(names[k]);
		struct iommusim_ctx c1;
		uint64_t s0, s1, e0, e1;
		struct fix f;
		int r0, r1;

		fix_start(&f, p);
		map(&f, BASE, true);
		assert_int_equal(iommusim_sim_cpu_begin(f.sim, 0, 0, &f.ctx, &s0), 0);
		assert_int_equal(iommusim_sim_cpu_begin(f.sim, 1, 0, &c1, &s1), 0);
		r0 = iommusim_zpci_refresh_trans(f.fn, BASE, WINDOW, IOMMUSIM_RPCIT_GLOBAL_FLUSH, 0,
						 0, &f.ctx);
		r1 = iommusim_zpci_refresh_trans(f.fn, BASE, WINDOW, IOMMUSIM_RPCIT_GLOBAL_FLUSH, 0,
						 0, &c1);
		e0 = iommusim_sim_cpu_end(f.sim, 0);
		e1 = iommusim_sim_cpu_end(f.sim, 1);
		assert_int_equal(r0, 0);
		assert_int_equal(r1, 0);
		if (p->serialised)
			assert_true(e1 > e0 && e1 - e0 >= p->global_base);
		else
			assert_int_equal(e1, e0);
		fix_stop(&f);
	}
}

static void
test_platform_bad_args(void **state)
{
	struct iommusim_platform *pl = NULL;
	struct iommusim_profile p = profile("kvm");
	struct iommusim_platform_stats s;

	assert_int_equal(iommusim_platform_create(NULL, NULL, &pl), -EINVAL);
	p.clock_ghz = 0;
	assert_int_equal(iommusim_platform_create(&p, NULL, &pl), -EINVAL);
	assert_null(pl);
	assert_int_equal(iommusim_platform_stats_get(NULL, &s), -EINVAL);
	assert_null(iommusim_platform_profile(NULL));
	iommusim_platform_destroy(NULL);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_platform_builtin_profiles),
		cmocka_unit_test(test_platform_profile_set_keys),
		cmocka_unit_test(test_platform_profile_print),
		cmocka_unit_test(test_platform_lpar_costs_fixed),
		cmocka_unit_test(test_platform_kvm_map_sync_cost_from_host_maps),
		cmocka_unit_test(test_platform_kvm_status16_when_live_plus_stale_reach_limit),
		cmocka_unit_test(test_platform_global_cost_grows_with_populated_segments),
		cmocka_unit_test(test_platform_serialised_hypervisor_queues_cpus),
		cmocka_unit_test(test_platform_bad_args),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("platform", tests, NULL, NULL);
}
