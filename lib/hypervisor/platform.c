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

enum key_type { K_U64, K_DOUBLE, K_BOOL, K_IRQ };

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

static const struct key {
	const char *name;
	enum key_type type;
	size_t off;
	const char *unit;
} keys[] = {
#define U(f, u)                                                    \
	{                                                          \
#f, K_U64, offsetof(struct iommusim_profile, f), u \
	}
#define D(f, u)                                                       \
	{                                                             \
#f, K_DOUBLE, offsetof(struct iommusim_profile, f), u \
	}
#define B(f, u)                                                     \
	{                                                           \
#f, K_BOOL, offsetof(struct iommusim_profile, f), u \
	}
#define I(f, u)                                                    \
	{                                                          \
#f, K_IRQ, offsetof(struct iommusim_profile, f), u \
	}
	D(clock_ghz, "GHz"),
	U(hz, "guest kernel ticks per second, 0 = exact ms"),
	I(irq, "submitting, floating or directed"),
	U(irq_cpu, "the CPU directed interrupts go to"),
	B(tlb_refresh, "functions announce new mappings"),
	B(serialised, "one hypervisor server"),
	U(shadow_limit, "shadow entries, 0 = unlimited"),
	B(aperture_bound, "DMA window cut to shadow_limit pages"),
	B(second_pass, "an exhausted refresh walks again"),
	B(coalesce_unmaps, "host unmaps per power-of-two run"),
	B(page_lookups, "a lookup per 4 KiB, even under invalid entries"),
	U(iova_alloc_hit, "cycles"),
	U(iova_free_hit, "cycles"),
	U(iova_alloc_tree, "cycles"),
	U(iova_walk_node, "cycles per node walked"),
	U(pte_set, "cycles per page"),
	U(pte_clear, "cycles per page"),
	U(request_build, "cycles per page"),
	U(map_sync_base, "cycles"),
	U(sync_base, "cycles"),
	U(global_base, "cycles"),
	U(walk_per_load, "cycles per guest-table load"),
	U(walk_per_lookup, "cycles per shadow lookup (4 KiB)"),
	U(shadow_insert, "cycles per shadow insert"),
	U(shadow_remove, "cycles per shadow removal"),
	U(per_host_map, "cycles per page newly shadowed"),
	U(per_host_unmap, "cycles per host unmap call"),
	U(fq_enqueue, "cycles"),
	U(bounce_base, "cycles"),
	D(bounce_per_byte, "cycles per byte"),
#undef U
#undef D
#undef B
#undef I
};

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

const char *
iommusim_profile_key_at(size_t i)
{
	return i < IMS_ARRAY_SIZE(keys) ? keys[i].name : NULL;
}

int
iommusim_profile_set(struct iommusim_profile *p, const char *key, const char *value)
{
	const struct key *k = NULL;
	size_t i;

	if (!p || !key || !value)
		return -EINVAL;
	for (i = 0; i < IMS_ARRAY_SIZE(keys) && !k; i++)
		if (!strcmp(keys[i].name, key))
			k = &keys[i];
	if (!k)
		return -ENOENT;
	switch (k->type) {
	case K_U64: {
		uint64_t v;

		/* HZ is the kernel's: take only what dma-iommu takes. */
		if (iommusim_count_parse(value, 0,
					 !strcmp(key, "hz") ? IOMMUSIM_HZ_MAX : UINT64_MAX, &v))
			return -EINVAL;
		*(uint64_t *)(void *)((char *)p + k->off) = v;
		return 0;
	}
	case K_DOUBLE: {
		/* The clock is the engine's: take only what iommusim_sim_create() takes. */
		bool clock = !strcmp(key, "clock_ghz");
		double v;

		if (iommusim_real_parse(value, clock ? IOMMUSIM_SIM_CLOCK_GHZ_MIN : 0,
					clock ? IOMMUSIM_SIM_CLOCK_GHZ_MAX : DBL_MAX, &v))
			return -EINVAL;
		*(double *)(void *)((char *)p + k->off) = v;
		return 0;
	}
	case K_BOOL: {
		bool v;

		if (iommusim_bool_parse(value, &v))
			return -EINVAL;
		*(bool *)(void *)((char *)p + k->off) = v;
		return 0;
	}
	case K_IRQ:
		for (i = 0; i < IMS_ARRAY_SIZE(irq_names); i++)
			if (!strcmp(value, irq_names[i])) {
				*(enum iommusim_irq_delivery *)(void *)((char *)p + k->off) =
					(enum iommusim_irq_delivery)i;
				return 0;
			}
		return -EINVAL;
	}
	return -EINVAL;
}

int
iommusim_profile_print(FILE *f, const struct iommusim_profile *p)
{
	size_t i;

	if (!f || !p)
		return -EINVAL;
	if (fprintf(f, "# profile %s\n", p->name) < 0)
		return -EIO;
	for (i = 0; i < IMS_ARRAY_SIZE(keys); i++) {
		const void *at = (const char *)p + keys[i].off;
		int n;

		switch (keys[i].type) {
		case K_U64:
			n = fprintf(f, "%-16s = %-10llu # %s\n", keys[i].name,
				    (unsigned long long)*(const uint64_t *)at, keys[i].unit);
			break;
		case K_DOUBLE:
			n = fprintf(f, "%-16s = %-10g # %s\n", keys[i].name, *(const double *)at,
				    keys[i].unit);
			break;
		case K_IRQ:
			n = fprintf(
				f, "%-16s = %-10s # %s\n", keys[i].name,
				iommusim_irq_delivery_name(*(const enum iommusim_irq_delivery *)at),
				keys[i].unit);
			break;
		default:
			n = fprintf(f, "%-16s = %-10d # %s\n", keys[i].name,
				    *(const bool *)at ? 1 : 0, keys[i].unit);
			break;
		}
		if (n < 0)
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

	if (!profile || !sim || !out || !(profile->clock_ghz > 0))
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
	struct iommusim_shadow_result res = { 0 };
	bool global = is_global(r->reason);
	uint64_t service;
	unsigned cc = 0;

	service = global				       ? p->global_base :
		  cost_of(r->reason) == IOMMUSIM_COST_MAP_SYNC ? p->map_sync_base :
								 p->sync_base;
	pthread_mutex_lock(&pl->lock);
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
	pthread_mutex_unlock(&pl->lock);
	/* The CPU waits for the answer: behind other refreshes when the
	 * hypervisor serialises them, in parallel on firmware. */
	if (pl->hv)
		(void)iommusim_sim_cpu_wait(pl->sim, r->cpu, pl->hv, service, cost_of(r->reason));
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
