/* SPDX-License-Identifier: MIT */
/*
 * Platform profiles as data, and the models that answer RPCITs for the
 * functions they own: LPAR firmware at a fixed cost, z/VM and KVM through a
 * real shadow of the guest tables whose work is what gets charged
 * (COST_MODEL.md §1-§2).
 */
#include "config.h"

#include <errno.h>
#include <float.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <iommusim/keys.h>
#include <iommusim/platform.h>
#include <iommusim/shadow.h>
#include <iommusim/sim.h>
#include <iommusim/units.h>
#include <iommusim/zpci.h>
#include <iommusim/zpci_table.h>

#include "base/mem_int.h"
#include "base/util_int.h"

/*
 * One row per platform. Where each number comes from (sourced, measured,
 * calibrated or estimated, with the reasoning) is docs/calibration.md; the
 * mechanism switches cite the QEMU commit that introduced them.
 */
/* The same on every platform. */
#define SAME_EVERYWHERE                                                       \
	.iova_alloc_hit = 150, .iova_free_hit = 150, .iova_alloc_tree = 2000, \
	.iova_walk_node = 25, .fq_enqueue = 100, .bounce_base = 60, .bounce_per_byte = 0.15

/* A KVM guest on an IBM Z host: QEMU's RPCIT emulation and its costs
 * (docs/calibration.md); the generations differ only in their mechanisms. */
#define KVM_GUEST                                                                                 \
	.kind = IOMMUSIM_PLATFORM_KVM, .clock_ghz = 5.2, .hz = 100, .irq = IOMMUSIM_IRQ_FLOATING, \
	.tlb_refresh = true, .serialised = true,                                                  \
	.shadow_limit = IOMMUSIM_SHADOW_VFIO_DEFAULT_LIMIT, .page_lookups = true, .pte_set = 300, \
	.pte_clear = 250, .map_sync_base = 80000, .sync_base = 80000, .global_base = 80000,       \
	.walk_per_load = 200, .walk_per_lookup = 36, .shadow_insert = 100, .shadow_remove = 123,  \
	.per_host_map = 20000, .per_host_unmap = 20000

static const struct iommusim_profile builtin[] = {
	{
		SAME_EVERYWHERE,
		.name = "lpar",
		.kind = IOMMUSIM_PLATFORM_LPAR,
		.clock_ghz = 5.2,
		.hz = 100,
		.tlb_refresh = false,
		.serialised = false,
		.pte_set = 300,
		.pte_clear = 250,
		.sync_base = 8000,
		.global_base = 50000,
	},
	{
		/* CP's internals are not public: the walk the architecture
		 * forces (the guest tables over the range, each populated page
		 * compared), a pin or unpin per page, no limit; no lookups
		 * under invalid entries, as a shadow kept as tables needs none. */
		SAME_EVERYWHERE,
		.name = "zvm",
		.irq = IOMMUSIM_IRQ_FLOATING,
		.kind = IOMMUSIM_PLATFORM_ZVM,
		.clock_ghz = 5.2,
		.hz = 100,
		.tlb_refresh = true,
		.serialised = true,
		.second_pass = true,
		.pte_set = 300,
		.pte_clear = 250,
		.map_sync_base = 40000,
		.sync_base = 40000,
		.global_base = 50000,
		.walk_per_load = 50,
		.walk_per_lookup = 36,
		.per_host_map = 10000,
		.per_host_unmap = 10000,
	},
	{
		/* QEMU 8.0 to 9.2, and later releases for devices without
		 * relaxed translation (ISM, or relaxed-translation=off). */
		SAME_EVERYWHERE,
		KVM_GUEST,
		.name = "kvm",
		.aperture_bound = true,
		.second_pass = true,
		.coalesce_unmaps = true,
	},
	{
		/* QEMU up to 7.1: the full window, one host unmap per page, no
		 * second pass (7.2 adds only the second pass: second_pass=1). */
		SAME_EVERYWHERE,
		KVM_GUEST,
		.name = "kvm-qemu7.1",
	},
	{
		SAME_EVERYWHERE,
		.name = "x86-vtd",
		.kind = IOMMUSIM_PLATFORM_X86_VTD,
		.clock_ghz = 3.0,
		.hz = 250,
		.pte_set = 550,
		.pte_clear = 480,
		.sync_base = 2130,
		.global_base = 2500,
	},
	{
		SAME_EVERYWHERE,
		.name = "x86-virtio",
		.kind = IOMMUSIM_PLATFORM_X86_VIRTIO,
		.clock_ghz = 3.0,
		.hz = 250,
		.tlb_refresh = true,
		.serialised = true,
		.shadow_limit = IOMMUSIM_SHADOW_VFIO_DEFAULT_LIMIT,
		.pte_set = 550,
		.pte_clear = 480,
		.request_build = 500,
		.map_sync_base = 45000,
		.sync_base = 45000,
		.global_base = 45000,
		.per_host_unmap = 500,
	},
};

size_t
iommusim_profile_count(void)
{
	return IMS_ARRAY_SIZE(builtin);
}

const struct iommusim_profile *
iommusim_profile_at(size_t i)
{
	return i < IMS_ARRAY_SIZE(builtin) ? &builtin[i] : NULL;
}

const struct iommusim_profile *
iommusim_profile_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < IMS_ARRAY_SIZE(builtin); i++)
		if (!strcmp(builtin[i].name, name))
			return &builtin[i];
	return NULL;
}

/* ---- keys ---------------------------------------------------------------- */

static const char *const irq_names[] = {
	[IOMMUSIM_IRQ_SUBMITTING] = "submitting",
	[IOMMUSIM_IRQ_FLOATING] = "floating",
	[IOMMUSIM_IRQ_DIRECTED] = "directed",
};

const char *
iommusim_irq_delivery_name(enum iommusim_irq_delivery d)
{
	return (unsigned)d < IMS_ARRAY_SIZE(irq_names) ? irq_names[d] : NULL;
}

static const struct iommusim_key_choice irq_choices[] = {
	{ "submitting", IOMMUSIM_IRQ_SUBMITTING },
	{ "floating", IOMMUSIM_IRQ_FLOATING },
	{ "directed", IOMMUSIM_IRQ_DIRECTED },
	{ NULL, 0 },
};

#define FIELD(f)                                        \
	.offset = offsetof(struct iommusim_profile, f), \
	.width = sizeof(((struct iommusim_profile *)0)->f)
/* A cost in cycles: any 64-bit count; sums saturate and a run whose totals
 * would overflow is refused (run.h), so no smaller bound is needed. */
#define CYCLES(f, what)                                                                \
	{                                                                              \
		.name = #f, .scope = IOMMUSIM_KEY_PROFILE, .type = IOMMUSIM_KEY_COUNT, \
		.max = UINT64_MAX, FIELD(f), .unit = "cycles", .doc = what,            \
		.hint = "a number of cycles from 0 to 2^64-1"                          \
	}
#define SWITCH(f, what)                                                                            \
	{                                                                                          \
		.name = #f, .scope = IOMMUSIM_KEY_PROFILE, .type = IOMMUSIM_KEY_BOOL, .max = 1,    \
		FIELD(f), .unit = "", .doc = what, .hint = "1, true, yes, on or 0, false, no, off" \
	}

/*
 * The profile's rows of the key table (iommusim/keys.h), in `profile show`
 * order. Ranges are what the models take: the clock what
 * iommusim_sim_create() takes, HZ what dma-iommu takes.
 */
static const struct iommusim_key keys[] = {
	{ .name = "clock_ghz",
	  .scope = IOMMUSIM_KEY_PROFILE,
	  .type = IOMMUSIM_KEY_REAL,
	  .min_real = IOMMUSIM_SIM_CLOCK_GHZ_MIN,
	  .max_real = IOMMUSIM_SIM_CLOCK_GHZ_MAX,
	  FIELD(clock_ghz),
	  .unit = "GHz",
	  .doc = "the CPU clock: cycles per nanosecond",
	  .hint = "a real from 1e-6 to 1e6" },
	{ .name = "hz",
	  .scope = IOMMUSIM_KEY_PROFILE,
	  .type = IOMMUSIM_KEY_COUNT,
	  .max = IOMMUSIM_HZ_MAX,
	  FIELD(hz),
	  .unit = "ticks/s",
	  .doc = "the guest kernel's HZ (timers run on ticks); 0 = exact ms",
	  .hint = "a number from 0 to 100000" },
	{ .name = "irq",
	  .scope = IOMMUSIM_KEY_PROFILE,
	  .type = IOMMUSIM_KEY_ENUM,
	  .max = IOMMUSIM_IRQ_DIRECTED,
	  .choices = irq_choices,
	  FIELD(irq),
	  .unit = "",
	  .doc = "where completions run",
	  .hint = "submitting, floating or directed" },
	{ .name = "irq_cpu",
	  .scope = IOMMUSIM_KEY_PROFILE,
	  .type = IOMMUSIM_KEY_COUNT,
	  .max = UINT64_MAX,
	  FIELD(irq_cpu),
	  .unit = "",
	  .doc = "the CPU directed interrupts go to (modulo the run's CPUs)",
	  .hint = "a number from 0 to 2^64-1" },
	SWITCH(tlb_refresh, "functions announce new mappings"),
	SWITCH(serialised, "one hypervisor server"),
	{ .name = "shadow_limit",
	  .scope = IOMMUSIM_KEY_PROFILE,
	  .type = IOMMUSIM_KEY_COUNT,
	  .max = UINT64_MAX,
	  FIELD(shadow_limit),
	  .unit = "entries",
	  .doc = "shadow entries (vfio dma_entry_limit); 0 = unlimited",
	  .hint = "a number of entries from 0 (unlimited) to 2^64-1" },
	SWITCH(aperture_bound, "DMA window cut to shadow_limit pages"),
	SWITCH(second_pass, "an exhausted refresh walks again"),
	SWITCH(coalesce_unmaps, "host unmaps per power-of-two run"),
	SWITCH(page_lookups, "a lookup per 4 KiB, even under invalid entries"),
	CYCLES(iova_alloc_hit, "IOVA allocation from a magazine"),
	CYCLES(iova_free_hit, "IOVA free to a magazine"),
	CYCLES(iova_alloc_tree, "IOVA allocation from the rbtree, plus iova_walk_node per node"),
	CYCLES(iova_walk_node, "per node the rbtree walk visits"),
	CYCLES(pte_set, "per 4 KiB PTE written"),
	CYCLES(pte_clear, "per 4 KiB PTE cleared"),
	CYCLES(request_build, "virtio-iommu: building a request, per page"),
	CYCLES(map_sync_base, "a map-time refresh: the intercept or exit"),
	CYCLES(sync_base, "a ranged refresh of a strict unmap"),
	CYCLES(global_base, "a global refresh"),
	CYCLES(walk_per_load, "per guest-table load of a walk"),
	CYCLES(walk_per_lookup, "per shadow lookup (one per 4 KiB)"),
	CYCLES(shadow_insert, "per shadow entry inserted, beyond its lookup"),
	CYCLES(shadow_remove, "per shadow entry removed, beyond its lookup"),
	CYCLES(per_host_map, "per page newly shadowed (vfio map, pin)"),
	CYCLES(per_host_unmap, "per host unmap call"),
	CYCLES(fq_enqueue, "a flush-queue enqueue"),
	CYCLES(bounce_base, "a bounce copy, plus bounce_per_byte per byte"),
	{ .name = "bounce_per_byte",
	  .scope = IOMMUSIM_KEY_PROFILE,
	  .type = IOMMUSIM_KEY_REAL,
	  .min_real = 0,
	  .max_real = DBL_MAX,
	  FIELD(bounce_per_byte),
	  .unit = "cycles/byte",
	  .doc = "a bounce copy, per byte",
	  .hint = "a real from 0" },
};

#undef FIELD
#undef CYCLES
#undef SWITCH

void
iommusim_profile_dma_window(const struct iommusim_profile *p, uint64_t start, uint64_t *end)
{
	uint64_t span;

	if (!p || !end || !p->aperture_bound || !p->shadow_limit || *end < start)
		return;
	/* s390_pci_read_base(): the window shrinks only when it is larger. */
	span = p->shadow_limit > (UINT64_MAX >> IOMMUSIM_PAGE_SHIFT) ?
		       UINT64_MAX :
		       p->shadow_limit << IOMMUSIM_PAGE_SHIFT;
	if (*end - start >= span)
		*end = start + span - 1;
}

const struct iommusim_key *
iommusim_profile_key_at(size_t i)
{
	return i < IMS_ARRAY_SIZE(keys) ? &keys[i] : NULL;
}

const struct iommusim_key *
iommusim_profile_key_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < IMS_ARRAY_SIZE(keys); i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

int
iommusim_profile_set(struct iommusim_profile *p, const char *key, const char *value)
{
	const struct iommusim_key *k;

	if (!p || !key || !value)
		return -EINVAL;
	k = iommusim_profile_key_find(key);
	if (!k)
		return -ENOENT;
	return iommusim_key_set(k, p, value, NULL, 0) ? -EINVAL : 0;
}

int
iommusim_profile_print(FILE *f, const struct iommusim_profile *p)
{
	struct iommusim_key_value v;
	char text[40];
	size_t i;

	if (!f || !p)
		return -EINVAL;
	if (fprintf(f, "# profile %s\n", p->name) < 0)
		return -EIO;
	for (i = 0; i < IMS_ARRAY_SIZE(keys); i++) {
		const char *unit = keys[i].unit;

		/* A profile's fields are set through the table, or are the built-in
		 * rows: every value loads and formats. */
		if (iommusim_key_load(&keys[i], p, &v) ||
		    iommusim_key_format(&keys[i], &v, text, sizeof(text)))
			return -EINVAL;
		if (fprintf(f, "%-16s = %-10s # %s%s%s%s\n", keys[i].name, text, keys[i].doc,
			    unit[0] ? " (" : "", unit, unit[0] ? ")" : "") < 0)
			return -EIO;
	}
	return 0;
}

/* ---- the model ----------------------------------------------------------- */

/* The shadow of one function's tables. */
struct fn_shadow {
	struct iommusim_zpci_fn *fn;
	struct iommusim_shadow *shadow;
	struct fn_shadow *next;
};

struct iommusim_platform {
	struct iommusim_profile profile;
	struct iommusim_sim *sim;
	struct iommusim_server *hv; /* the hypervisor, when serialised */
	struct iommusim_shadow_pool *pool; /* z/VM and KVM */
	struct iommusim_shadow_cfg shadow_cfg;
	pthread_mutex_t lock; /* shadows, stats */
	struct fn_shadow *shadows;
	struct iommusim_platform_stats stats;
};

static bool
shadows_tables(const struct iommusim_profile *p)
{
	return p->kind == IOMMUSIM_PLATFORM_ZVM || p->kind == IOMMUSIM_PLATFORM_KVM;
}

int
iommusim_platform_create(const struct iommusim_profile *profile, struct iommusim_sim *sim,
			 struct iommusim_platform **out)
{
	struct iommusim_platform *pl;
	int ret;

	if (!profile || !sim || !out || !(profile->clock_ghz > 0) ||
	    !IMS_RESERVED_ZERO(profile, reserved0))
		return -EINVAL;
	pl = ims_zalloc(sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	pl->profile = *profile;
	pl->sim = sim;
	pthread_mutex_init(&pl->lock, NULL);
	if (profile->serialised) {
		ret = iommusim_server_create(sim, profile->name, 1, &pl->hv);
		if (ret)
			goto err;
	}
	pl->shadow_cfg.no_second_pass = !profile->second_pass;
	pl->shadow_cfg.no_coalesce = !profile->coalesce_unmaps;
	pl->shadow_cfg.skip_invalid_frames = !profile->page_lookups;
	if (shadows_tables(profile)) {
		ret = iommusim_shadow_pool_create(profile->shadow_limit, &pl->pool);
		if (ret)
			goto err;
	}
	*out = pl;
	return 0;
err:
	pthread_mutex_destroy(&pl->lock);
	ims_free(pl);
	return ret;
}

void
iommusim_platform_destroy(struct iommusim_platform *pl)
{
	struct fn_shadow *s, *next;

	if (!pl)
		return;
	for (s = pl->shadows; s; s = next) {
		next = s->next;
		iommusim_shadow_destroy(s->shadow);
		ims_free(s);
	}
	iommusim_shadow_pool_destroy(pl->pool);
	pthread_mutex_destroy(&pl->lock);
	ims_free(pl);
}

const struct iommusim_profile *
iommusim_platform_profile(const struct iommusim_platform *pl)
{
	return pl ? &pl->profile : NULL;
}

int
iommusim_platform_stats_get(const struct iommusim_platform *pl, struct iommusim_platform_stats *out)
{
	if (!pl || !out)
		return -EINVAL;
	pthread_mutex_lock((pthread_mutex_t *)(uintptr_t)&pl->lock);
	*out = pl->stats;
	pthread_mutex_unlock((pthread_mutex_t *)(uintptr_t)&pl->lock);
	return 0;
}

/* The shadow of @fn, created on first use; lock held. */
static struct iommusim_shadow *
shadow_of(struct iommusim_platform *pl, struct iommusim_zpci_fn *fn)
{
	struct fn_shadow *s;

	for (s = pl->shadows; s; s = s->next)
		if (s->fn == fn)
			return s->shadow;
	s = ims_zalloc(sizeof(*s));
	if (!s)
		return NULL;
	if (iommusim_shadow_create(pl->pool, &pl->shadow_cfg, &s->shadow)) {
		ims_free(s);
		return NULL;
	}
	s->fn = fn;
	s->next = pl->shadows;
	pl->shadows = s;
	return s->shadow;
}

static bool
is_global(enum iommusim_rpcit_reason reason)
{
	return reason == IOMMUSIM_RPCIT_GLOBAL_FLUSH || reason == IOMMUSIM_RPCIT_ENOMEM_RECOVERY ||
	       reason == IOMMUSIM_RPCIT_LEGACY_GLOBAL;
}

/* Which part of the CPU's time a refresh is. */
static enum iommusim_cost
cost_of(enum iommusim_rpcit_reason reason)
{
	switch (reason) {
	case IOMMUSIM_RPCIT_SYNC_MAP:
	case IOMMUSIM_RPCIT_LEGACY_MAP:
		return IOMMUSIM_COST_MAP_SYNC;
	case IOMMUSIM_RPCIT_SYNC:
	case IOMMUSIM_RPCIT_LEGACY_UNMAP:
		return IOMMUSIM_COST_UNMAP_SYNC;
	case IOMMUSIM_RPCIT_GLOBAL_FLUSH:
	case IOMMUSIM_RPCIT_ENOMEM_RECOVERY:
	case IOMMUSIM_RPCIT_LEGACY_GLOBAL:
		return IOMMUSIM_COST_FLUSH;
	default:
		return IOMMUSIM_COST_OTHER;
	}
}

static unsigned
pl_rpcit(void *priv, struct iommusim_zpci_fn *fn, const struct iommusim_rpcit *r, uint8_t *status)
{
	struct iommusim_platform *pl = priv;
	const struct iommusim_profile *p = &pl->profile;
	struct iommusim_shadow_result res; /* written by every refresh that returns 0 */
	bool global = is_global(r->reason);
	uint64_t service;
	unsigned cc = 0;

	service = global				       ? p->global_base :
		  cost_of(r->reason) == IOMMUSIM_COST_MAP_SYNC ? p->map_sync_base :
								 p->sync_base;
	ims_mutex_lock(&pl->lock);
	if (pl->pool) {
		struct iommusim_zpci_ioat ioat;
		struct iommusim_shadow *s = shadow_of(pl, fn);

		/* The hypervisor walks the tables the function registered. */
		if (!s || iommusim_zpci_fn_ioat(fn, &ioat) || !ioat.registered) {
			cc = IOMMUSIM_ZPCI_CC_ERR;
			*status = IOMMUSIM_ZPCI_ST_FUNC_IN_ERR;
		} else if (iommusim_shadow_refresh(s, ioat.iota & IOMMUSIM_ZPCI_RTE_ADDR_MASK,
						   ioat.pba, ioat.pal, r->addr, r->range,
						   &res) < 0) {
			/* No host memory for a shadow entry (QEMU's g_new would
			 * abort): the refresh did not complete, so the function is
			 * in error, which the kernel sees as -EIO; what was walked
			 * is not charged. */
			struct fn_shadow *f;

			cc = IOMMUSIM_ZPCI_CC_ERR;
			*status = IOMMUSIM_ZPCI_ST_FUNC_IN_ERR;
			pl->stats.shadow_alloc_failures++;
			/* The walk stopped with the shadow consistent but its
			 * changes uncounted: take the count from the shadows. */
			pl->stats.shadow_entries = 0;
			for (f = pl->shadows; f; f = f->next)
				pl->stats.shadow_entries += iommusim_shadow_entries(f->shadow);
			pl->stats.max_shadow_entries =
				IMS_MAX(pl->stats.max_shadow_entries, pl->stats.shadow_entries);
		} else {
			cc = res.cc;
			*status = res.status;
			bool ovf = false;

			service = ims_mul_add_sat(service, res.loads, p->walk_per_load, &ovf);
			service = ims_mul_add_sat(service, res.lookups, p->walk_per_lookup, &ovf);
			service = ims_mul_add_sat(service, res.maps,
						  ims_add_sat(p->shadow_insert, p->per_host_map),
						  &ovf);
			service = ims_mul_add_sat(service, res.unmaps, p->shadow_remove, &ovf);
			service =
				ims_mul_add_sat(service, res.unmap_calls, p->per_host_unmap, &ovf);
			/* shadow_insert + per_host_map may itself have saturated */
			if (ovf || p->shadow_insert + p->per_host_map < p->shadow_insert)
				pl->stats.cost_overflows++;
			pl->stats.host_maps += res.maps;
			pl->stats.host_unmap_calls += res.unmap_calls;
			pl->stats.steps += res.steps;
			pl->stats.loads += res.loads;
			pl->stats.lookups += res.lookups;
			pl->stats.shadow_entries += res.maps - res.remaps;
			pl->stats.shadow_entries -= res.unmaps;
			pl->stats.max_shadow_entries =
				IMS_MAX(pl->stats.max_shadow_entries, pl->stats.shadow_entries);
		}
	}
	pl->stats.rpcits++;
	pl->stats.global += global;
	pl->stats.status16 += cc == IOMMUSIM_ZPCI_CC_ERR && *status == IOMMUSIM_ZPCI_ST_INSUF_RES;
	pl->stats.busy_cycles = ims_add_sat(pl->stats.busy_cycles, service);
	ims_mutex_unlock(&pl->lock);
	/* The CPU waits for the answer: behind other refreshes when the
	 * hypervisor serialises them, in parallel on firmware. */
	if (pl->hv) /* the finish time: the item's clock already moved there */
		IMS_IGNORE(iommusim_sim_cpu_wait(pl->sim, r->cpu, pl->hv, service,
						 cost_of(r->reason)));
	else
		iommusim_sim_cpu_charge(pl->sim, r->cpu, cost_of(r->reason), service);
	return cc;
}

static unsigned
pl_mpcifc(void *priv, struct iommusim_zpci_fn *fn, unsigned fc,
	  const struct iommusim_zpci_ioat *ioat, uint8_t *status)
{
	struct iommusim_platform *pl = priv;
	struct fn_shadow **link, *s;

	/* Deregistering the IOAT drops the function's shadow (and its entries). */
	if (fc != IOMMUSIM_ZPCI_MOD_FC_DEREG_IOAT || !pl->pool)
		return 0;
	pthread_mutex_lock(&pl->lock);
	for (link = &pl->shadows; (s = *link); link = &s->next) {
		if (s->fn != fn)
			continue;
		pl->stats.shadow_entries -= iommusim_shadow_entries(s->shadow);
		*link = s->next;
		iommusim_shadow_destroy(s->shadow);
		ims_free(s);
		break;
	}
	pthread_mutex_unlock(&pl->lock);
	return 0;
}

const struct iommusim_zpci_platform_ops iommusim_platform_zpci_ops = {
	.rpcit = pl_rpcit,
	.mpcifc = pl_mpcifc,
};
