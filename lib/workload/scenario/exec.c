/* SPDX-License-Identifier: MIT */
/*
 * Running a checked script: build the simulation, keep its clock, CPUs and
 * flush-queue timers, and execute each statement, repeats included.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <iommusim/ctx.h>
#include <iommusim/dma.h>
#include <iommusim/dma_iommu.h>
#include <iommusim/iommu.h>
#include <iommusim/ism.h>
#include <iommusim/legacy_s390_dma.h>
#include <iommusim/platform.h>
#include <iommusim/s390_iommu.h>
#include <iommusim/sim.h>
#include <iommusim/zpci.h>

#include "base/mem_int.h"
#include "base/util_int.h"
#include "workload/scenario/script_int.h"

#define MAX_STEPS UINT64_C(50000000) /* statements and iterations run per script */

/* ---- growable arrays ------------------------------------------------------ */

IMS_NODISCARD static int
vec_push(struct vec *a, void *p)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 8;
		void **v = ims_zalloc(cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		if (a->n)
			memcpy(v, a->v, a->n * sizeof(*v));
		ims_free(a->v);
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = p;
	return 0;
}

static void
vec_fini(struct vec *a)
{
	ims_free(a->v);
	memset(a, 0, sizeof(*a));
}

/* ---- building and tearing down the simulation --------------------------------------- */

IMS_NODISCARD static int
ensure_built(struct script *s)
{
	struct iommusim_sim_cfg scfg = { 0 };
	struct iommusim_s390_iommu_cfg icfg = { 0 };
	int ret;

	if (s->sim)
		return RC_OK;
	scfg.clock_ghz = s->profile.clock_ghz;
	scfg.ncpus = s->ncpus;
	scfg.seed = 1;
	ret = iommusim_sim_create(&scfg, &s->sim);
	if (ret == -ENOMEM)
		return ims_script_oom(s);
	if (ret)
		return ims_script_error(s, "cannot create the engine (clock_ghz %g out of range?)",
					s->profile.clock_ghz);
	ret = iommusim_platform_create(&s->profile, s->sim, &s->pl);
	if (ret)
		return ret == -ENOMEM ? ims_script_oom(s) :
					ims_script_error(s, "cannot create the platform model");
	icfg.memory_bytes = s->memory;
	icfg.aperture_factor = s->factor;
	icfg.aperture_factor_set = s->factor_set;
	ret = iommusim_s390_iommu_create(&icfg, NULL, &s->s390, &s->iommu);
	if (ret)
		return ret == -ENOMEM ? ims_script_oom(s) :
					ims_script_error(s, "cannot create the s390 IOMMU driver");
	return RC_OK;
}

static void
dom_teardown(struct sdom *sd)
{
	unsigned i;

	iommusim_dma_iommu_destroy(sd->d); /* cancels the timer */
	sd->d = NULL;
	for (i = 0; i < sd->nfns; i++) {
		iommusim_device_destroy(sd->fns[i]->dev, NULL);
		sd->fns[i]->dev = NULL;
	}
	iommusim_domain_free(sd->dom);
	iommusim_legacy_dma_destroy(sd->legacy, NULL);
}

void
ims_script_teardown(struct script *s)
{
	size_t i;

	for (i = 0; i < s->doms.n; i++)
		dom_teardown(s->doms.v[i]);
	for (i = 0; i < s->fns.n; i++) {
		struct sfn *f = s->fns.v[i];

		iommusim_ism_destroy(f->ism);
		iommusim_zpci_fn_destroy(f->fn);
	}
	iommusim_s390_iommu_destroy(s->s390);
	iommusim_platform_destroy(s->pl);
	iommusim_sim_destroy(s->sim);
	for (i = 0; i < s->names.cap; i++)
		ims_free(s->names.slot[i]);
	ims_free(s->names.slot);
	vec_fini(&s->fns);
	vec_fini(&s->doms);
}

/* ---- time, CPUs and the flush-queue timer --------------------------------------------- */

/* Run the engine's events up to @until; the clock follows the work they did. */
static void
run_events(struct script *s, uint64_t until)
{
	/* Fails only on a NULL engine. */
	IMS_IGNORE(iommusim_sim_run(s->sim, until, NULL));
	s->now = IMS_MAX(s->now, until);
}

IMS_NODISCARD static int
item_begin(struct script *s, unsigned cpu, struct iommusim_ctx *ctx)
{
	if (cpu >= s->ncpus)
		return ims_script_error(s, "cpu %u out of range (cpus %u)", cpu, s->ncpus);
	run_events(s, s->now);
	if (iommusim_sim_cpu_begin(s->sim, cpu, s->now, ctx, NULL))
		return ims_script_error(s, "cannot start work on cpu %u", cpu);
	s->cur_cpu = cpu;
	return RC_OK;
}

static void
item_end(struct script *s, unsigned cpu)
{
	uint64_t end = iommusim_sim_cpu_end(s->sim, cpu);

	s->now = IMS_MAX(s->now, end);
}

/* The flush-queue timer fired: its callback runs on the CPU that armed it. */
static void
timer_fire(struct iommusim_sim *sim, void *priv)
{
	struct sdom *sd = priv;
	struct script *s = sd->s;
	struct iommusim_ctx ctx;
	uint64_t end;

	sd->timer_armed = false;
	if (iommusim_sim_cpu_begin(sim, sd->timer_cpu, iommusim_sim_now(sim), &ctx, NULL))
		return;
	s->cur_cpu = sd->timer_cpu;
	iommusim_dma_iommu_fq_timeout(sd->d, &ctx);
	end = iommusim_sim_cpu_end(sim, sd->timer_cpu);
	s->now = IMS_MAX(s->now, end);
}

static void
timer_arm(void *priv, uint64_t expires_ns)
{
	struct sdom *sd = priv;
	struct script *s = sd->s;
	uint64_t at = iommusim_sim_ns_to_cycles(s->sim, expires_ns);

	at = IMS_MAX(at, iommusim_sim_now(s->sim));
	if (iommusim_sim_schedule(s->sim, at, timer_fire, sd, &sd->timer_id)) {
		s->cb_oom = true;
		return;
	}
	sd->timer_armed = true;
	sd->timer_cpu = s->cur_cpu;
}

static void
timer_cancel(void *priv)
{
	struct sdom *sd = priv;

	if (sd->timer_armed)
		/* -ENOENT only: the timer has fired already. */
		IMS_IGNORE(iommusim_sim_cancel(sd->s->sim, sd->timer_id));
	sd->timer_armed = false;
}

static const struct iommusim_dma_timer_ops timer_ops = {
	.arm = timer_arm,
	.cancel = timer_cancel,
};

/* ---- statements that build ---------------------------------------------------------- */

IMS_NODISCARD static int
do_platform(struct script *s, const struct op *op)
{
	if (s->started)
		return ims_script_error(s, "'platform' must come before every other statement");
	if (s->have_platform)
		return ims_script_error(s, "the platform is already declared");
	s->have_platform = true;
	s->profile = op->profile;
	s->memory = op->memory;
	s->factor = op->factor;
	s->factor_set = op->factor_set;
	return RC_OK;
}

IMS_NODISCARD static int
do_cpus(struct script *s, const struct op *op)
{
	if (s->started)
		return ims_script_error(s,
					"'cpus' must come before every statement but 'platform'");
	if (s->have_cpus)
		return ims_script_error(s, "the CPUs are already declared");
	s->have_cpus = true;
	s->ncpus = (unsigned)op->n;
	return RC_OK;
}

IMS_NODISCARD static int
do_function(struct script *s, const struct op *op)
{
	struct iommusim_zpci_fn_cfg cfg = { 0 };
	struct sfn *f;
	size_t i;
	int rc, ret;

	rc = ensure_built(s);
	if (rc)
		return rc;
	f = ims_zalloc(sizeof(*f));
	if (!f)
		return ims_script_oom(s);
	f->kind = O_FN;
	snprintf(f->name, sizeof(f->name), "%s", op->a);
	rc = ims_script_declare(s, f);
	if (rc) {
		ims_free(f);
		return rc;
	}
	f->fid = op->fid_set ? op->fid : (uint32_t)s->fns.n + 1;
	for (i = 0; i < s->fns.n; i++)
		if (((struct sfn *)s->fns.v[i])->fid == f->fid)
			return ims_script_error(s, "fid %" PRIu32 " is already function '%s'",
						f->fid, ((struct sfn *)s->fns.v[i])->name);
	if (vec_push(&s->fns, f))
		return ims_script_oom(s);
	f->is_ism = op->ism;
	f->tlb_refresh = op->tlb_refresh < 0 ? s->profile.tlb_refresh : op->tlb_refresh;
	cfg.fid = f->fid;
	cfg.pft = f->is_ism ? IOMMUSIM_PCI_FUNC_TYPE_ISM : 0;
	cfg.tlb_refresh = f->tlb_refresh;
	cfg.start_dma = op->start_dma ? op->start_dma : IOMMUSIM_ZPCI_QEMU_SDMA;
	cfg.end_dma = op->end_dma ? op->end_dma : IOMMUSIM_ZPCI_QEMU_EDMA;
	/* The window the hypervisor advertises (QEMU may bound it), as in a run;
	 * a window that is already empty is left for the set-up to refuse. */
	if (cfg.start_dma <= cfg.end_dma)
		iommusim_profile_dma_window(&s->profile, cfg.start_dma, &cfg.end_dma);
	cfg.platform = &iommusim_platform_zpci_ops;
	cfg.platform_priv = s->pl;
	ret = iommusim_zpci_fn_create(&cfg, &f->fn);
	if (ret)
		return ret == -ENOMEM ?
			       ims_script_oom(s) :
			       ims_script_error(
				       s, "function '%s': bad DMA window (start_dma > end_dma)",
				       f->name);
	if (f->is_ism && iommusim_ism_create(f->fn, &f->ism))
		return ims_script_oom(s);
	return RC_OK;
}

IMS_NODISCARD static int
dom_setup_dma_iommu(struct script *s, struct sdom *sd)
{
	struct iommusim_device *first;
	enum iommusim_domain_type type;
	unsigned i;
	int ret;

	for (i = 0; i < sd->nfns; i++) {
		struct iommusim_device_cfg dcfg = { .is_pci = true, .drvdata = sd->fns[i]->fn };

		ret = iommusim_device_create(s->iommu, &dcfg, &sd->fns[i]->dev);
		if (ret)
			return ret == -ENOMEM ?
				       ims_script_oom(s) :
				       ims_script_error(s, "domain '%s': probing '%s' failed (%s)",
							sd->name, sd->fns[i]->name, strerror(-ret));
	}
	first = sd->fns[0]->dev;
	switch (sd->pol) {
	case P_KERNEL: {
		struct iommusim_domain_decision dec;

		ret = iommusim_iommu_decide_domain_type(first, &dec);
		if (ret)
			return ims_script_error(s, "domain '%s': no default domain type (%s)",
						sd->name, strerror(-ret));
		type = sd->force_fq ? IOMMUSIM_DOMAIN_DMA_FQ : dec.requested;
		break;
	}
	case P_STRICT:
		type = IOMMUSIM_DOMAIN_DMA;
		break;
	default:
		type = IOMMUSIM_DOMAIN_DMA_FQ;
		break;
	}
	ret = iommusim_domain_alloc(first, type, &sd->dom);
	if (ret)
		return ret == -ENOMEM ? ims_script_oom(s) :
					ims_script_error(s, "domain '%s': allocation failed (%s)",
							 sd->name, strerror(-ret));
	for (i = 0; i < sd->nfns; i++) {
		ret = iommusim_iommu_attach_device(sd->dom, sd->fns[i]->dev, NULL);
		if (ret)
			return ret == -ENOMEM ?
				       ims_script_oom(s) :
				       ims_script_error(s,
							"domain '%s': attaching '%s' failed (%s)",
							sd->name, sd->fns[i]->name, strerror(-ret));
	}
	return RC_OK;
}

IMS_NODISCARD static int
do_domain(struct script *s, const struct op *op)
{
	char list[MAX_TOKEN];
	char *save = NULL, *name;
	struct sdom *sd;
	int rc, ret;

	rc = ensure_built(s);
	if (rc)
		return rc;
	sd = ims_zalloc(sizeof(*sd));
	if (!sd)
		return ims_script_oom(s);
	sd->kind = O_DOM;
	sd->s = s;
	snprintf(sd->name, sizeof(sd->name), "%s", op->a);
	rc = ims_script_declare(s, sd);
	if (rc) {
		ims_free(sd);
		return rc;
	}
	if (vec_push(&s->doms, sd))
		return ims_script_oom(s);
	sd->pol = op->pol;
	sd->force_fq = op->force_fq;
	snprintf(list, sizeof(list), "%s", op->devices);
	for (name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		struct sfn *f = ims_script_lookup(s, name, O_FN, "function", &rc);

		if (rc)
			return rc;
		if (f->dom)
			return ims_script_error(s, "function '%s' is already in domain '%s'",
						f->name, f->dom->name);
		if (sd->nfns == MAX_DEVICES)
			return ims_script_error(s, "at most %d functions per domain", MAX_DEVICES);
		sd->fns[sd->nfns++] = f;
		f->dom = sd;
	}
	if (!sd->nfns)
		return ims_script_error(s, "'devices' wants a list of functions");
	if (sd->pol >= P_LEGACY) {
		struct iommusim_legacy_dma_cfg lcfg = { 0 };

		if (sd->nfns != 1)
			return ims_script_error(
				s, "a legacy domain has exactly one function (the pre-6.7 "
				   "DMA API is per function)");
		lcfg.strict = sd->pol == P_LEGACY_STRICT;
		lcfg.aperture = iommusim_s390_iommu_aperture(
			s->memory ? s->memory : UINT64_C(16) << 30, s->factor_set ? s->factor : 1);
		ret = iommusim_legacy_dma_create(sd->fns[0]->fn, &lcfg, NULL, &sd->legacy,
						 &sd->dma);
		if (ret)
			return ret == -ENOMEM ?
				       ims_script_oom(s) :
				       ims_script_error(
					       s, "domain '%s': legacy DMA set-up failed (%s)",
					       sd->name, strerror(-ret));
		return RC_OK;
	}
	rc = dom_setup_dma_iommu(s, sd);
	if (rc)
		return rc;
	{
		struct iommusim_dma_iommu_cfg cfg = { 0 };
		struct iommusim_device *first = sd->fns[0]->dev;

		cfg.ncpus = s->ncpus;
		cfg.fq_type = sd->pol == P_LAZY_PERCPU ? IOMMUSIM_FQ_PER_CPU :
			      sd->pol == P_LAZY_SINGLE ? IOMMUSIM_FQ_SINGLE :
							 IOMMUSIM_FQ_AUTO;
		cfg.fq_size = op->fq_size;
		cfg.fq_timeout_ms = op->fq_timeout_ms;
		/* The timer runs on the profile's ticks, as in a run. */
		cfg.hz = (unsigned)s->profile.hz;
		cfg.fq_timer = &timer_ops;
		cfg.fq_timer_priv = sd;
		cfg.check_lazy_reuse = true;
		/* force_fq: the sysfs DMA -> DMA-FQ switch, which does not check
		 * IOMMU_CAP_DEFERRED_FLUSH (KERNEL_SPEC §2.6): how an ISM device
		 * ends up on a flush queue. */
		cfg.skip_deferred_flush_check = sd->force_fq;
		ret = iommusim_dma_iommu_create(sd->dom, first, &cfg, &sd->d, &sd->dma);
		if (ret)
			return ret == -ENOMEM ?
				       ims_script_oom(s) :
				       ims_script_error(s,
							"domain '%s': dma-iommu set-up failed (%s)",
							sd->name, strerror(-ret));
	}
	return RC_OK;
}

/* ---- DMA statements ------------------------------------------------------------------ */

IMS_NODISCARD static int
do_map(struct script *s, const struct op *op)
{
	struct iommusim_ctx ctx;
	struct shandle *h;
	struct sdom *sd;
	uint64_t dma = 0, phys;
	unsigned cpu = op->cpu_set ? op->cpu : 0;
	int rc, ret;

	rc = ensure_built(s);
	if (rc)
		return rc;
	sd = ims_script_lookup(s, op->b, O_DOM, "domain", &rc);
	if (rc)
		return rc;
	h = ims_script_names_find(&s->names, op->a);
	if (h && h->kind != O_HANDLE)
		return ims_script_error(s, "'%s' is already a %s", h->name,
					ims_script_kind_name(h->kind));
	if (h && h->mapped)
		return ims_script_error(s, "handle '%s' is already mapped (unmap it first)",
					h->name);
	if (!h) {
		h = ims_zalloc(sizeof(*h));
		if (!h)
			return ims_script_oom(s);
		h->kind = O_HANDLE;
		snprintf(h->name, sizeof(h->name), "%s", op->a);
		if (ims_script_names_add(&s->names, h)) {
			ims_free(h);
			return ims_script_oom(s);
		}
	}
	if (op->phys_set) {
		phys = op->phys;
	} else {
		phys = s->next_phys;
		s->next_phys += (op->size + PAGE - 1) & ~(PAGE - 1);
	}
	rc = item_begin(s, cpu, &ctx);
	if (rc)
		return rc;
	ret = iommusim_dma_map_page(&sd->dma, phys, op->size, op->dir, 0, &ctx, &dma);
	item_end(s, cpu);
	h->dom = sd;
	h->phys = phys;
	h->size = op->size;
	h->dir = op->dir;
	h->cpu = cpu;
	h->error = -ret;
	h->mapped = !ret;
	if (!ret) {
		h->dma = dma;
		h->ever_mapped = true;
	}
	if (op->fails) {
		s->sum.expectations++;
		if (!ret) {
			s->sum.failed++;
			ims_script_failure(
				s,
				"expected map %s on %s to fail, but it succeeded (iova 0x%" PRIx64
				")",
				h->name, sd->name, dma);
		}
		return RC_OK;
	}
	if (ret) {
		ims_script_failure(s, "map %s on %s failed: %s (-%s)", h->name, sd->name,
				   strerror(-ret), ims_script_errno_name(-ret));
		return RC_FAIL;
	}
	return RC_OK;
}

IMS_NODISCARD static int
do_unmap(struct script *s, const struct op *op)
{
	struct iommusim_ctx ctx;
	struct shandle *h;
	unsigned cpu;
	int rc, ret;

	h = ims_script_lookup(s, op->a, O_HANDLE, "handle", &rc);
	if (rc)
		return rc;
	if (!h->mapped)
		return ims_script_error(s, "handle '%s' is not mapped", h->name);
	if (h->dmb_fn)
		return ims_script_error(
			s, "handle '%s' is a registered DMB of '%s': unregister it first", h->name,
			h->dmb_fn->name);
	cpu = op->cpu_set ? op->cpu : h->cpu;
	rc = item_begin(s, cpu, &ctx);
	if (rc)
		return rc;
	ret = iommusim_dma_unmap_page(&h->dom->dma, h->dma, h->size, h->dir, 0, &ctx);
	item_end(s, cpu);
	h->mapped = false;
	h->error = -ret;
	if (op->fails) {
		s->sum.expectations++;
		if (!ret) {
			s->sum.failed++;
			ims_script_failure(s, "expected unmap %s to fail, but it succeeded",
					   h->name);
		}
		return RC_OK;
	}
	if (ret) {
		ims_script_failure(s, "unmap %s failed: %s (-%s)", h->name, strerror(-ret),
				   ims_script_errno_name(-ret));
		return RC_FAIL;
	}
	return RC_OK;
}

IMS_NODISCARD static int
do_dmb(struct script *s, const struct op *op)
{
	struct shandle *h;
	struct sfn *f;
	int rc, ret;

	f = ims_script_lookup(s, op->a, O_FN, "function", &rc);
	if (rc)
		return rc;
	h = ims_script_lookup(s, op->b, O_HANDLE, "handle", &rc);
	if (rc)
		return rc;
	if (!f->ism)
		return ims_script_error(s, "function '%s' is not an ISM function", f->name);
	if (!op->reg) {
		if (h->dmb_fn != f)
			return ims_script_error(s, "handle '%s' is not a registered DMB of '%s'",
						h->name, f->name);
		/* The token came from the device: it is registered. */
		IMS_IGNORE(iommusim_ism_dmb_unregister(f->ism, h->dmb_token));
		h->dmb_fn = NULL;
		return RC_OK;
	}
	if (!h->mapped)
		return ims_script_error(s, "handle '%s' is not mapped", h->name);
	if (h->dmb_fn)
		return ims_script_error(s, "handle '%s' is already a registered DMB of '%s'",
					h->name, h->dmb_fn->name);
	ret = iommusim_ism_dmb_register(f->ism, h->dma, h->size, &h->dmb_token);
	if (ret == -EEXIST)
		return ims_script_error(s, "handle '%s' overlaps a registered DMB of '%s'", h->name,
					f->name);
	if (ret)
		return ret == -ENOMEM ? ims_script_oom(s) :
					ims_script_error(s, "cannot register '%s' (%s)", h->name,
							 strerror(-ret));
	h->dmb_fn = f;
	return RC_OK;
}

IMS_NODISCARD static int
dma_iommu_domain(struct script *s, const char *name, const char *what, struct sdom **out)
{
	int rc;

	*out = ims_script_lookup(s, name, O_DOM, "domain", &rc);
	if (rc)
		return rc;
	if (!(*out)->d)
		return ims_script_error(s, "'%s' needs a dma-iommu domain; '%s' is %s", what, name,
					ims_script_policy_names[(*out)->pol]);
	return RC_OK;
}

IMS_NODISCARD static int
do_flush(struct script *s, const struct op *op)
{
	struct iommusim_ctx ctx;
	struct sdom *sd;
	unsigned cpu = op->cpu_set ? op->cpu : 0;
	int rc;

	rc = dma_iommu_domain(s, op->a, "flush", &sd);
	if (rc)
		return rc;
	rc = item_begin(s, cpu, &ctx);
	if (rc)
		return rc;
	iommusim_iommu_flush_iotlb_all(sd->dom, &ctx);
	item_end(s, cpu);
	return RC_OK;
}

IMS_NODISCARD static int
do_reset(struct script *s, const struct op *op)
{
	struct sdom *sd;
	int rc;

	rc = dma_iommu_domain(s, op->a, "reset", &sd);
	if (rc)
		return rc;
	/* Fails only on a NULL domain. */
	IMS_IGNORE(iommusim_s390_domain_counters_reset(sd->dom));
	return RC_OK;
}

IMS_NODISCARD static int
do_advance(struct script *s, const struct op *op)
{
	int rc = ensure_built(s);

	if (rc)
		return rc;
	run_events(s, ims_add_sat(s->now, iommusim_sim_ns_to_cycles(s->sim, op->n)));
	return RC_OK;
}

/* ---- running ------------------------------------------------------------------------------ */

/* Count a statement or a repeat iteration against the budget. */
IMS_NODISCARD static int
step(struct script *s)
{
	if (++s->steps > MAX_STEPS)
		return ims_script_error(s,
					"the script runs too long (more than %" PRIu64
					" statements and iterations)",
					MAX_STEPS);
	return RC_OK;
}

IMS_NODISCARD static int
run_op(struct script *s, const struct op *op)
{
	int rc;

	if (op->kind != ST_PLATFORM && op->kind != ST_CPUS && op->kind != ST_ECHO)
		s->started = true;
	switch (op->kind) {
	case ST_PLATFORM:
		return do_platform(s, op);
	case ST_CPUS:
		return do_cpus(s, op);
	case ST_FUNCTION:
		return do_function(s, op);
	case ST_DOMAIN:
		return do_domain(s, op);
	case ST_MAP:
		rc = do_map(s, op);
		break;
	case ST_UNMAP:
		rc = do_unmap(s, op);
		break;
	case ST_DMB:
		return do_dmb(s, op);
	case ST_ADVANCE:
		rc = do_advance(s, op);
		break;
	case ST_FLUSH:
		rc = do_flush(s, op);
		break;
	case ST_RESET:
		return do_reset(s, op);
	case ST_EXPECT:
		return ims_script_do_expect(s, op);
	case ST_PRINT:
		return ims_script_do_print(s, op);
	case ST_ECHO:
		return ims_script_do_echo(s, op);
	default:
		return ims_script_error(s, "misplaced '%s'", ims_script_stmt_name(op->kind));
	}
	if (!rc && s->cb_oom)
		return ims_script_oom(s);
	return rc;
}

/* Run one simple statement (no repeat) in iteration @iter. */
/*
 * As for a run (iommusim_run): a cost sum that saturated, in the platform's
 * refreshes or in a CPU's clock, leaves no meaningful time or work.
 */
static bool
costs_overflowed(struct script *s)
{
	struct iommusim_platform_stats ps;
	unsigned i;

	if (!s->sim)
		return false;
	if (s->pl && !iommusim_platform_stats_get(s->pl, &ps) && ps.cost_overflows)
		return true;
	for (i = 0; i < s->ncpus; i++)
		if (iommusim_sim_cpu_time(s->sim, i) == UINT64_MAX)
			return true;
	return false;
}

IMS_NODISCARD static int
run_simple(struct script *s, const struct tok *t, unsigned n, int64_t iter)
{
	char bufs[MAX_TOKENS][MAX_TOKEN];
	struct tok sub[MAX_TOKENS];
	struct op op;
	int rc;

	rc = ims_script_subst(s, t, n, iter, sub, bufs);
	if (!rc)
		rc = ims_script_parse_stmt(s, sub, n, &op);
	if (!rc)
		rc = run_op(s, &op);
	if (!rc && costs_overflowed(s))
		rc = ims_script_error(
			s, "the costs overflow 64-bit cycle counts: the time and the "
			   "platform's work would be wrong (lower the platform's costs)");
	return rc;
}

/* Run one line's tokens in iteration @iter (-1: outside a repeat). */
IMS_NODISCARD static int
run_tokens(struct script *s, const struct tok *t, unsigned n, int64_t iter)
{
	char bufs[2][MAX_TOKEN];
	struct tok sub[2];
	uint64_t count, i;
	int rc;

	s->sum.statements++;
	rc = step(s);
	if (rc)
		return rc;
	s->iter = iter;
	if (!ims_script_is_word(&t[0], "repeat") || n <= 2)
		return run_simple(s, t, n, iter);
	/* A one-line repeat: the count sees the outer {i}, the statement its own. */
	rc = ims_script_subst(s, t, 2, iter, sub, bufs);
	if (!rc)
		rc = ims_script_repeat_count(s, sub[1].s, &count);
	for (i = 0; !rc && i < count; i++) {
		rc = step(s);
		if (!rc)
			rc = run_tokens(s, t + 2, n - 2, (int64_t)i);
	}
	s->iter = iter;
	return rc;
}

/* Run statements [from, to) of @pg in iteration @iter. */
int
ims_script_run_range(struct script *s, const struct prog *pg, size_t from, size_t to, int64_t iter)
{
	size_t i;
	int rc = RC_OK;

	for (i = from; i < to && !rc; i++) {
		const struct stmt *st = pg->v[i];

		s->line = st->line;
		s->iter = iter;
		if (st->block) {
			char bufs[2][MAX_TOKEN];
			struct tok sub[2];
			uint64_t count, k;

			s->sum.statements++;
			rc = step(s);
			if (!rc)
				rc = ims_script_subst(s, st->tok, 2, iter, sub, bufs);
			if (!rc)
				rc = ims_script_repeat_count(s, sub[1].s, &count);
			for (k = 0; !rc && k < count; k++) {
				rc = step(s);
				if (!rc)
					rc = ims_script_run_range(s, pg, i + 1, st->end,
								  (int64_t)k);
			}
			i = st->end; /* the loop's i++ steps over `end` */
			continue;
		}
		if (ims_script_is_word(&st->tok[0], "end"))
			continue;
		rc = run_tokens(s, st->tok, st->ntok, iter);
	}
	return rc;
}
