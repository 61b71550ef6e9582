/* SPDX-License-Identifier: MIT */
/*
 * Tests of the platform profiles and models: profiles as data, and each
 * mechanism in isolation (docs/model.md): the advertised window, the
 * shadow's entry limit and QEMU's status-16 rule, the global refresh's cost
 * from the window's length and the populated tables, unmap coalescing,
 * serialisation.
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

#include "base/mem_int.h"
#include "base/util_int.h"

#define PG UINT64_C(4096)
#define MiB (UINT64_C(1) << 20)
#define GiB (UINT64_C(1) << 30)
#define BASE (UINT64_C(4) << 30)
#define SEG (UINT64_C(1) << 20) /* a segment: one shadow leaf */
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

	/* Teardown; a test that left the function in error may see it fail. */
	IMS_IGNORE(iommusim_zpci_unregister_ioat(f->fn, NULL, &cc, &st));
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
	static const char *const names[] = { "lpar",	    "zvm",     "kvm",
					     "kvm-qemu7.1", "x86-vtd", "x86-virtio" };
	const struct iommusim_profile *kvm = iommusim_profile_find("kvm"),
				      *old = iommusim_profile_find("kvm-qemu7.1");
	size_t i;

	assert_int_equal(iommusim_profile_count(), 6);
	for (i = 0; i < 6; i++) {
		assert_string_equal(iommusim_profile_at(i)->name, names[i]);
		assert_ptr_equal(iommusim_profile_find(names[i]), iommusim_profile_at(i));
	}
	assert_null(iommusim_profile_at(6));
	assert_null(iommusim_profile_find("nope"));
	assert_null(iommusim_profile_find(NULL));
	/* Who shadows, who serialises, the vfio limit. */
	assert_false(iommusim_profile_find("lpar")->tlb_refresh);
	assert_false(iommusim_profile_find("lpar")->serialised);
	assert_true(iommusim_profile_find("zvm")->tlb_refresh);
	assert_int_equal(iommusim_profile_find("zvm")->shadow_limit, 0);
	assert_true(kvm->serialised);
	assert_int_equal(kvm->shadow_limit, 65535);
	assert_int_equal(kvm->map_sync_base, 80000);
	assert_int_equal(kvm->per_host_map, 20000);
	assert_int_equal(iommusim_profile_find("lpar")->global_base, 50000);
	assert_int_equal(iommusim_profile_find("x86-vtd")->sync_base, 2130);
	assert_true(iommusim_profile_find("x86-vtd")->clock_ghz == 3.0);
	/* The two QEMU generations: 8.0's bound, coalescing and second pass
	 * (the second pass is 7.2's); 7.1 has none; the same costs. */
	assert_true(kvm->aperture_bound && kvm->coalesce_unmaps && kvm->second_pass);
	assert_false(old->aperture_bound || old->coalesce_unmaps || old->second_pass);
	assert_int_equal(old->shadow_limit, kvm->shadow_limit);
	assert_int_equal(old->walk_per_lookup, kvm->walk_per_lookup);
	assert_int_equal(old->per_host_unmap, kvm->per_host_unmap);
	/* s390's defconfig has HZ=100; s390 guests' interrupts float. */
	assert_int_equal(kvm->hz, 100);
	assert_int_equal(iommusim_profile_find("x86-vtd")->hz, 250);
	assert_int_equal(kvm->irq, IOMMUSIM_IRQ_FLOATING);
	assert_int_equal(iommusim_profile_find("lpar")->irq, IOMMUSIM_IRQ_SUBMITTING);
}

/* QEMU 8.0 advertises a window of at most shadow_limit pages (df202e3ff3),
 * and only when there is a limit (8011b508cf); 7.1 the host's. */
static void
test_platform_dma_window_bound_to_the_vfio_limit(void **state)
{
	struct iommusim_profile p = profile("kvm");
	uint64_t end = IOMMUSIM_ZPCI_QEMU_EDMA;

	iommusim_profile_dma_window(&p, BASE, &end);
	assert_int_equal(end, BASE + 65535 * PG - 1);
	assert_int_equal(end, UINT64_C(0x10fffefff));
	/* A host window already smaller stays. */
	end = BASE + 100 * PG - 1;
	iommusim_profile_dma_window(&p, BASE, &end);
	assert_int_equal(end, BASE + 100 * PG - 1);
	/* Exactly the limit stays too. */
	end = BASE + 65535 * PG - 1;
	iommusim_profile_dma_window(&p, BASE, &end);
	assert_int_equal(end, BASE + 65535 * PG - 1);
	/* No limit reported: no bound. */
	assert_int_equal(iommusim_profile_set(&p, "shadow_limit", "0"), 0);
	end = IOMMUSIM_ZPCI_QEMU_EDMA;
	iommusim_profile_dma_window(&p, BASE, &end);
	assert_int_equal(end, IOMMUSIM_ZPCI_QEMU_EDMA);
	/* QEMU 7.1: the host's window. */
	p = profile("kvm-qemu7.1");
	iommusim_profile_dma_window(&p, BASE, &end);
	assert_int_equal(end, IOMMUSIM_ZPCI_QEMU_EDMA);
	/* A bound of 2^52 pages or more cannot shrink a 64-bit window. */
	p = profile("kvm");
	assert_int_equal(iommusim_profile_set(&p, "shadow_limit", "0x10000000000000"), 0);
	iommusim_profile_dma_window(&p, BASE, &end);
	assert_int_equal(end, IOMMUSIM_ZPCI_QEMU_EDMA);
	iommusim_profile_dma_window(NULL, BASE, &end);
	iommusim_profile_dma_window(&p, BASE, NULL);
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
	/* HZ: what dma-iommu takes; irq: its three names. */
	assert_int_equal(iommusim_profile_set(&p, "hz", "100001"), -EINVAL);
	assert_int_equal(iommusim_profile_set(&p, "irq", "1"), -EINVAL);
	assert_int_equal(iommusim_profile_set(&p, "irq", "floatin"), -EINVAL);
	assert_int_equal(p.irq, IOMMUSIM_IRQ_FLOATING);
	/* Names are in any case, as every enumerated key's (keys.h). */
	assert_int_equal(iommusim_profile_set(&p, "irq", "DIRECTED"), 0);
	assert_int_equal(p.irq, IOMMUSIM_IRQ_DIRECTED);
	assert_int_equal(iommusim_profile_set(&p, "irq", "floating"), 0);
	assert_int_equal(iommusim_profile_set(&p, "hz", "1000"), 0);
	assert_int_equal(p.hz, 1000);
	assert_int_equal(iommusim_profile_set(&p, "irq", "directed"), 0);
	assert_int_equal(p.irq, IOMMUSIM_IRQ_DIRECTED);
	assert_int_equal(iommusim_profile_set(&p, "irq", "submitting"), 0);
	assert_int_equal(p.irq, IOMMUSIM_IRQ_SUBMITTING);
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
	for (i = 0; iommusim_profile_key_at(i); i++) {
		const char *k = iommusim_profile_key_at(i)->name;

		assert_int_equal(iommusim_profile_set(&p, k, strcmp(k, "irq") ? "1" : "floating"),
				 0);
	}
	assert_int_equal(i, 30);
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
	assert_non_null(strstr(
		buf,
		"walk_per_lookup  = 36         # per shadow lookup (one per 4 KiB) (cycles)\n"));
	assert_non_null(strstr(buf, "irq              = floating   # where completions run\n"));
	assert_non_null(strstr(buf, "clock_ghz        = 5.2 "));
	assert_non_null(strstr(buf, "serialised       = 1 "));
	for (i = 0; iommusim_profile_key_at(i); i++)
		assert_non_null(strstr(buf, iommusim_profile_key_at(i)->name));
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
	assert_int_equal(s.steps, 0);
	assert_int_equal(s.loads, 0);
	assert_int_equal(s.lookups, 0);
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
	/* exit + 4 steps of 3 loads + 4 lookups + 4 inserts with their host maps */
	assert_int_equal(refresh(&f, 0, BASE, 4 * PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret),
			 p.map_sync_base + 12 * p.walk_per_load + 4 * p.walk_per_lookup +
				 4 * (p.shadow_insert + p.per_host_map));
	assert_int_equal(ret, 0);
	/* the same range again: nothing new to map, the walk is paid again */
	assert_int_equal(refresh(&f, 0, BASE, 4 * PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret),
			 p.map_sync_base + 12 * p.walk_per_load + 4 * p.walk_per_lookup);
	fix_stop(&f);
}

/*
 * COST_MODEL §3 row 7 with QEMU's rule: status 16 whenever the pool is empty
 * at the end of a refresh, i.e. as soon as live plus lazily unmapped but
 * unflushed pages reach the limit; the global refresh then frees the stale.
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
	/* 5 pages mapped and announced */
	for (i = 0; i < 5; i++) {
		map(&f, BASE + i * PG, true);
		(void)refresh(&f, 0, BASE + i * PG, PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
		assert_int_equal(ret, 0);
	}
	/* 3 of them unmapped lazily: PTEs invalid, no refresh yet */
	for (i = 0; i < 3; i++)
		map(&f, BASE + i * PG, false);
	/* two more: live 4 + stale 3 = 7 < 8 */
	for (i = 100; i < 102; i++) {
		map(&f, BASE + i * PG, true);
		(void)refresh(&f, 0, BASE + i * PG, PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
		assert_int_equal(ret, 0);
	}
	/* a third: live 5 + stale 3 = 8 = limit -> status 16, though mapped */
	map(&f, BASE + 102 * PG, true);
	(void)refresh(&f, 0, BASE + 102 * PG, PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
	assert_int_equal(ret, -ENOMEM);
	assert_int_equal(iommusim_platform_stats_get(f.pl, &s), 0);
	assert_int_equal(s.status16, 1);
	assert_int_equal(s.shadow_entries, 8);
	/* the kernel's recovery: a global refresh reclaims the 3 stale entries */
	(void)refresh(&f, 0, BASE, WINDOW, IOMMUSIM_RPCIT_ENOMEM_RECOVERY, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(iommusim_platform_stats_get(f.pl, &s), 0);
	assert_int_equal(s.shadow_entries, 5);
	assert_int_equal(s.status16, 1);
	/* below the limit again (live 6 + stale 0 = 6): no status 16 */
	map(&f, BASE + 103 * PG, true);
	(void)refresh(&f, 0, BASE + 103 * PG, PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
	assert_int_equal(ret, 0);
	/* live only up to the limit: the recovery frees nothing and answers
	 * status 16 again; a mapping beyond is skipped, never shadowed */
	map(&f, BASE + 104 * PG, true);
	(void)refresh(&f, 0, BASE + 104 * PG, PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
	map(&f, BASE + 105 * PG, true);
	(void)refresh(&f, 0, BASE + 105 * PG, PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
	assert_int_equal(ret, -ENOMEM);
	map(&f, BASE + 106 * PG, true);
	(void)refresh(&f, 0, BASE + 106 * PG, PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
	assert_int_equal(ret, -ENOMEM);
	(void)refresh(&f, 0, BASE, WINDOW, IOMMUSIM_RPCIT_ENOMEM_RECOVERY, &ret);
	assert_int_equal(ret, -ENOMEM);
	assert_int_equal(iommusim_platform_stats_get(f.pl, &s), 0);
	assert_int_equal(s.shadow_entries, 8);
	assert_int_equal(s.status16, 4);
	fix_stop(&f);
}

/*
 * A global refresh costs a lookup per 4 KiB of the window whatever is
 * populated, plus the table loads of each step: each populated segment
 * turns one step of 2 loads into 256 of 3 (766 loads more).
 */
static void
test_platform_global_cost_grows_with_window_and_populated_segments(void **state)
{
	const struct iommusim_profile p = profile("kvm-qemu7.1");
	const uint64_t lookups = WINDOW / PG;
	uint64_t cost[3], stale_cost;
	struct iommusim_platform_stats s;
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
		assert_int_equal(iommusim_platform_stats_get(f.pl, &s), 0);
		cost[k] = refresh(&f, 0, BASE, WINDOW, IOMMUSIM_RPCIT_GLOBAL_FLUSH, &ret);
		assert_int_equal(ret, 0);
		{
			struct iommusim_platform_stats s2;
			uint64_t n = UINT64_C(1) << k;

			assert_int_equal(iommusim_platform_stats_get(f.pl, &s2), 0);
			assert_int_equal(s2.lookups - s.lookups, lookups);
			/* 7 empty 2 GiB regions (1 load), 2048 - n invalid
			 * segments (2), 256 n pages (3) */
			assert_int_equal(s2.loads - s.loads, 7 + 2 * (2048 - n) + 3 * 256 * n);
			assert_int_equal(s2.steps - s.steps, 7 + (2048 - n) + 256 * n);
		}
		fix_stop(&f);
	}
	assert_int_equal(cost[0], p.global_base + (7 + 2 * 2047 + 3 * 256) * p.walk_per_load +
					  lookups * p.walk_per_lookup);
	assert_int_equal(cost[1] - cost[0], 766 * p.walk_per_load);
	assert_int_equal(cost[2] - cost[1], 2 * 766 * p.walk_per_load);
	/* 200 lazily unmapped pages in one segment: the walk is the same; QEMU
	 * 7.1 unmaps page by page, so each stale entry adds a host unmap */
	fix_start(&f, &p);
	for (k = 0; k < 200; k++) {
		map(&f, BASE + k * PG, true);
		(void)refresh(&f, 0, BASE + k * PG, PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
	}
	for (k = 0; k < 200; k++)
		map(&f, BASE + k * PG, false);
	stale_cost = refresh(&f, 0, BASE, WINDOW, IOMMUSIM_RPCIT_GLOBAL_FLUSH, &ret);
	assert_int_equal(stale_cost, cost[0] + 200 * (p.shadow_remove + p.per_host_unmap));
	fix_stop(&f);
}

/* z/VM (page_lookups off): no lookups under invalid entries, so a global
 * refresh costs the populated tables, not the window's length. */
static void
test_platform_zvm_global_cost_from_populated_tables_only(void **state)
{
	const struct iommusim_profile p = profile("zvm");
	struct iommusim_platform_stats s0, s1;
	uint64_t cost;
	struct fix f;
	int ret;

	assert_false(p.page_lookups);
	fix_start(&f, &p);
	map(&f, BASE, true);
	(void)refresh(&f, 0, BASE, PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
	assert_int_equal(iommusim_platform_stats_get(f.pl, &s0), 0);
	cost = refresh(&f, 0, BASE, WINDOW, IOMMUSIM_RPCIT_GLOBAL_FLUSH, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(iommusim_platform_stats_get(f.pl, &s1), 0);
	assert_int_equal(s1.lookups - s0.lookups, 256);
	assert_int_equal(cost, p.global_base + (7 + 2 * 2047 + 3 * 256) * p.walk_per_load +
				       256 * p.walk_per_lookup);
	fix_stop(&f);
}

/*
 * QEMU 8.0 coalesces the unmaps of every run of invalid page entries, mapped
 * or not, into aligned power-of-two pieces: even a refresh that drops
 * nothing issues host unmaps for the never-mapped pages of a populated
 * segment. 7.1 issues one per dropped page and none otherwise.
 */
static void
test_platform_kvm_unmap_calls_per_run_of_invalid_ptes(void **state)
{
	const char *const names[] = { "kvm", "kvm-qemu7.1" };
	unsigned k;

	for (k = 0; k < 2; k++) {
		const struct iommusim_profile p = profile(names[k]);
		struct iommusim_platform_stats s0, s1, s2;
		struct fix f;
		int ret;

		fix_start(&f, &p);
		/* pages 0 and 9 of the segment at 4 GiB (pfn 0x100000) */
		map(&f, BASE, true);
		map(&f, BASE + 9 * PG, true);
		(void)refresh(&f, 0, BASE, 10 * PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
		assert_int_equal(iommusim_platform_stats_get(f.pl, &s0), 0);
		/* a refresh of the segment: runs 1..8 (pieces 1+2+4+1) and
		 * 10..255 (2+4+16+32+64+128): 10 calls with coalescing */
		(void)refresh(&f, 0, BASE, MiB, IOMMUSIM_RPCIT_SYNC, &ret);
		assert_int_equal(ret, 0);
		assert_int_equal(iommusim_platform_stats_get(f.pl, &s1), 0);
		assert_int_equal(s1.host_unmap_calls - s0.host_unmap_calls,
				 p.coalesce_unmaps ? 10 : 0);
		/* page 9 unmapped: one run 1..255 (1+2+4+8+16+32+64+128) */
		map(&f, BASE + 9 * PG, false);
		(void)refresh(&f, 0, BASE, MiB, IOMMUSIM_RPCIT_SYNC, &ret);
		assert_int_equal(iommusim_platform_stats_get(f.pl, &s2), 0);
		assert_int_equal(s2.host_unmap_calls - s1.host_unmap_calls,
				 p.coalesce_unmaps ? 8 : 1);
		assert_int_equal(s2.shadow_entries, 1);
		fix_stop(&f);
	}
}

/* No host memory for a shadow entry: the refresh fails as a function error
 * (-EIO to the kernel), counted, and the entry count stays exact. */
static void
test_platform_shadow_alloc_failure_is_a_function_error(void **state)
{
	const struct iommusim_profile p = profile("kvm");
	struct iommusim_platform_stats s;
	struct fix f;
	uint64_t i;
	int ret;

	fix_start(&f, &p);
	map(&f, BASE, true);
	(void)refresh(&f, 0, BASE, PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
	assert_int_equal(ret, 0);
	/* one more page in BASE's segment, two in the next one (1 MiB on) */
	map(&f, BASE + PG, true);
	for (i = 0; i < 2; i++)
		map(&f, BASE + SEG + i * PG, true);
	/* the shadow's first allocation here, the next segment's leaf, fails:
	 * the page before it was shadowed */
	ims_mem_fault_inject(1, 1);
	(void)refresh(&f, 0, BASE, SEG + 2 * PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
	ims_mem_fault_inject(0, 0);
	assert_int_equal(ret, -EIO);
	assert_int_equal(iommusim_platform_stats_get(f.pl, &s), 0);
	assert_int_equal(s.shadow_alloc_failures, 1);
	assert_int_equal(s.shadow_entries, 2);
	/* with memory again, the next refresh maps the rest */
	(void)refresh(&f, 0, BASE, SEG + 2 * PG, IOMMUSIM_RPCIT_SYNC_MAP, &ret);
	assert_int_equal(ret, 0);
	assert_int_equal(iommusim_platform_stats_get(f.pl, &s), 0);
	assert_int_equal(s.shadow_entries, 4);
	assert_int_equal(s.shadow_alloc_failures, 1);
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
		cmocka_unit_test(test_platform_dma_window_bound_to_the_vfio_limit),
		cmocka_unit_test(test_platform_profile_set_keys),
		cmocka_unit_test(test_platform_profile_print),
		cmocka_unit_test(test_platform_lpar_costs_fixed),
		cmocka_unit_test(test_platform_kvm_map_sync_cost_from_host_maps),
		cmocka_unit_test(test_platform_kvm_status16_when_live_plus_stale_reach_limit),
		cmocka_unit_test(
			test_platform_global_cost_grows_with_window_and_populated_segments),
		cmocka_unit_test(test_platform_kvm_unmap_calls_per_run_of_invalid_ptes),
		cmocka_unit_test(test_platform_zvm_global_cost_from_populated_tables_only),
		cmocka_unit_test(test_platform_shadow_alloc_failure_is_a_function_error),
		cmocka_unit_test(test_platform_serialised_hypervisor_queues_cpus),
		cmocka_unit_test(test_platform_bad_args),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests_name("platform", tests, NULL, NULL);
}
