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

/* A platform's model and guest kernel on the script's engine. */
IMS_NODISCARD static int
build_platform(struct script *s, struct splat *p)
{
	struct iommusim_s390_iommu_cfg icfg = { 0 };
	struct iommusim_iommu_policy pol = { 0 };
	int ret;

	ret = iommusim_platform_create(&p->profile, s->sim, &p->pl);
	if (ret)
		return ims_script_setup_error(s, ret, "cannot create the platform model");
	icfg.memory_bytes = p->memory;
	/* §3.3: the boot line's s390_iommu_aperture= is the factor (the parser
	 * refused it together with aperture_factor=). */
	icfg.aperture_factor = p->cmdline.aperture_set ? p->cmdline.aperture_factor : p->factor;
	icfg.aperture_factor_set = p->factor_set || p->cmdline.aperture_set;
	/* §2.6: iommu.strict=, iommu.passthrough=, s390_iommu=strict reach the
	 * IOMMU core's default-domain decision (policy=kernel domains). */
	if (p->has_cmdline)
		pol = p->cmdline.iommu;
	ret = iommusim_s390_iommu_create(&icfg, &pol, &p->s390, &p->iommu);
	if (ret)
		return ims_script_setup_error(s, ret, "cannot create the s390 IOMMU driver");
	return RC_OK;
}

/* The platform new functions go on: the last declared (the default lpar
 * when none is). */
IMS_NODISCARD static int
cur_plat(struct script *s, struct splat **out)
{
	struct splat *p;

	if (s->plats.n) {
		*out = s->plats.v[s->plats.n - 1];
		return RC_OK;
	}
	p = ims_zalloc(sizeof(*p));
	if (!p || vec_push(&s->plats, p)) {
		ims_free(p);
		return ims_script_oom(s);
	}
	p->kind = O_PLAT;
	p->profile = *iommusim_profile_find("lpar");
	*out = p;
	return RC_OK;
}

IMS_NODISCARD static int
ensure_built(struct script *s)
{
	struct iommusim_sim_cfg scfg = { 0 };
	struct splat *p;
	size_t i;
	int rc, ret;

	if (s->sim)
		return RC_OK;
	rc = cur_plat(s, &p);
	if (rc)
		return rc;
	/* One engine, one clock: do_platform() made every platform's the first's. */
	p = s->plats.v[0];
	scfg.clock_ghz = p->profile.clock_ghz;
	scfg.ncpus = s->ncpus;
	scfg.seed = 1;
	ret = iommusim_sim_create(&scfg, &s->sim);
	if (ret == -ENOMEM)
		return ims_script_oom(s);
	if (ret)
		return ims_script_error(s, "cannot create the engine (clock_ghz %g out of range?)",
					p->profile.clock_ghz);
	for (i = 0; i < s->plats.n; i++) {
		rc = build_platform(s, s->plats.v[i]);
		if (rc)
			return rc;
	}
	return RC_OK;
}

struct splat *
ims_script_the_platform(struct script *s, const char *what, int *rc)
{
	struct splat *p;
	char names[160] = "";
	size_t i, n = 0;

	*rc = RC_OK;
	if (s->plats.n <= 1) {
		*rc = cur_plat(s, &p);
		return *rc ? NULL : p;
	}
	for (i = 0; i < s->plats.n; i++) {
		p = s->plats.v[i];
		n += (size_t)snprintf(names + IMS_MIN(n, sizeof(names) - 1),
				      sizeof(names) - IMS_MIN(n, sizeof(names) - 1), "%s%s",
				      i ? ", " : "", p->name);
	}
	*rc = ims_script_error(s,
			       "'%s' is ambiguous: the script has %zu platforms (%s): name one by "
			       "its label",
			       ims_script_safe(s, what), s->plats.n, names);
	return NULL;
}

static void
dom_teardown(struct sdom *sd)
{
	unsigned i;

	iommusim_dma_iommu_destroy(sd->d); /* cancels the timer */
	sd->d = NULL;
	iommusim_dma_direct_destroy(sd->direct);
	sd->direct = NULL;
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
	/* The platforms' labels are in the namespace too: freed below, as plats. */
	for (i = 0; i < s->names.cap; i++)
		if (s->names.slot[i] && *(enum okind *)s->names.slot[i] != O_PLAT)
			ims_free(s->names.slot[i]);
	for (i = 0; i < s->plats.n; i++) {
		struct splat *p = s->plats.v[i];

		iommusim_s390_iommu_destroy(p->s390);
		iommusim_platform_destroy(p->pl);
		ims_free(p);
	}
	iommusim_sim_destroy(s->sim);
	ims_free(s->names.slot);
	vec_fini(&s->fns);
	vec_fini(&s->doms);
	vec_fini(&s->plats);
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

/*
 * The first platform comes before everything but cpus and echo; a later one
 * starts another machine on the same engine (its own hypervisor model,
 * guest kernel and s390 driver) for the functions declared after it.
 */
IMS_NODISCARD static int
do_platform(struct script *s, const struct op *op)
{
	struct splat *first = s->plats.n ? s->plats.v[0] : NULL, *p;
	int rc;

	if (s->started && (!first || !first->line))
		return ims_script_error(s, "the first 'platform' must come before every other "
					   "statement but 'cpus' and 'echo'");
	if (first) {
		if (!first->name[0])
			return ims_script_error(
				s,
				"a script with more than one platform labels each one: add "
				"label=NAME to the platform of line %u%s",
				first->line, op->label ? "" : " and to this one");
		if (!op->label)
			return ims_script_error(s, "a script with more than one platform labels "
						   "each one: add label=NAME to this one");
		/* One engine, one clock (the engine counts cycles). */
		if (op->profile.clock_ghz != first->profile.clock_ghz)
			return ims_script_error(
				s,
				"platform '%s' runs at %g GHz, the script's clock at %g GHz "
				"(platform '%s'): a script has one clock",
				ims_script_safe(s, op->label), op->profile.clock_ghz,
				first->profile.clock_ghz, first->name);
	}
	p = ims_zalloc(sizeof(*p));
	if (!p)
		return ims_script_oom(s);
	p->kind = O_PLAT;
	p->line = s->line;
	if (op->label)
		snprintf(p->name, sizeof(p->name), "%s", op->label);
	p->profile = op->profile;
	p->memory = op->memory;
	p->factor = op->factor;
	p->factor_set = op->factor_set;
	p->cmdline = op->cmdline;
	p->has_cmdline = op->has_cmdline;
	if (vec_push(&s->plats, p)) {
		ims_free(p);
		return ims_script_oom(s);
	}
	/* From here teardown frees it, through plats. */
	if (op->label) {
		rc = ims_script_declare(s, p);
		if (rc)
			return rc;
	}
	if (p->has_cmdline && p->cmdline.nignored)
		ims_script_note(
			s, "%u boot parameter%s outside the IOMMU code ignored (the first: %s)",
			p->cmdline.nignored, p->cmdline.nignored == 1 ? "" : "s",
			p->cmdline.first_ignored);
	if (p->has_cmdline && p->cmdline.forcedac_set)
		ims_script_note(s, "iommu.forcedac= changes nothing on s390: s390_iommu_init() "
				   "forces DAC");
	/* Built now when the engine runs already, else with it. */
	return s->sim ? build_platform(s, p) : RC_OK;
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
	struct splat *p;
	struct sfn *f;
	size_t i;
	int rc, ret;

	rc = ensure_built(s);
	if (!rc)
		rc = cur_plat(s, &p);
	if (rc)
		return rc;
	f = ims_zalloc(sizeof(*f));
	if (!f)
		return ims_script_oom(s);
	f->kind = O_FN;
	f->plat = p;
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
	f->tlb_refresh = op->tlb_refresh < 0 ? p->profile.tlb_refresh : op->tlb_refresh;
	f->rtr_avail = op->rtr_avail;
	cfg.fid = f->fid;
	cfg.pft = f->is_ism ? IOMMUSIM_PCI_FUNC_TYPE_ISM : 0;
	cfg.tlb_refresh = f->tlb_refresh;
	cfg.rtr_avail = f->rtr_avail;
	cfg.start_dma = op->start_dma ? op->start_dma : IOMMUSIM_ZPCI_QEMU_SDMA;
	cfg.end_dma = op->end_dma ? op->end_dma : IOMMUSIM_ZPCI_QEMU_EDMA;
	/* The window the hypervisor advertises (QEMU may bound it), as in a run;
	 * a window that is already empty is left for the set-up to refuse. */
	if (cfg.start_dma <= cfg.end_dma)
		iommusim_profile_dma_window(&p->profile, cfg.start_dma, &cfg.end_dma);
	cfg.platform = &iommusim_platform_zpci_ops;
	cfg.platform_priv = p->pl;
	ret = iommusim_zpci_fn_create(&cfg, &f->fn);
	if (ret)
		return ims_script_setup_error(
			s, ret, "function '%s': bad DMA window (start_dma > end_dma)", f->name);
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

		ret = iommusim_device_create(sd->plat->iommu, &dcfg, &sd->fns[i]->dev);
		if (ret)
			return ims_script_setup_error(s, ret,
						      "domain '%s': probing '%s' failed (%s)",
						      sd->name, sd->fns[i]->name, strerror(-ret));
	}
	first = sd->fns[0]->dev;
	if (sd->pol == P_KERNEL && !sd->force_fq) {
		/* §2.6: the kernel's default domain for the first device, with the
		 * boot line's say and the fall-back to DMA when the default type
		 * (identity without rtr_avail) cannot be had. */
		struct iommusim_domain_decision dec;

		ret = iommusim_iommu_alloc_default_domain(first, &dec, &sd->dom);
		if (ret)
			return ims_script_setup_error(s, ret, "domain '%s': no default domain (%s)",
						      sd->name, strerror(-ret));
		sd->fell_back = dec.fell_back_to_dma;
	} else {
		/* An explicit type, as the sysfs switch sets it (DMA-FQ for
		 * force_fq and the lazy policies: the boot line's strictness
		 * does not apply). */
		struct iommusim_domain_decision dec;

		type = sd->pol == P_STRICT ? IOMMUSIM_DOMAIN_DMA : IOMMUSIM_DOMAIN_DMA_FQ;
		/* What the boot line would have made of it: say when it differs. */
		if (sd->plat->has_cmdline && !iommusim_iommu_decide_domain_type(first, &dec) &&
		    dec.requested != type)
			ims_script_note(s,
					"domain '%s': %s%s makes it %s (as the sysfs type switch "
					"does); the boot line would make it %s",
					sd->name, sd->force_fq ? "force_fq=1" : "policy=",
					sd->force_fq ? "" : ims_script_policy_names[sd->pol],
					iommusim_domain_type_name(type),
					iommusim_domain_type_name(dec.requested));
		ret = iommusim_domain_alloc(first, type, &sd->dom);
		if (ret)
			return ims_script_setup_error(s, ret, "domain '%s': allocation failed (%s)",
						      sd->name, strerror(-ret));
	}
	{
		struct iommusim_domain_info di;

		IMS_IGNORE(iommusim_domain_info_get(sd->dom, &di)); /* sd->dom is set */
		sd->type = di.type;
	}
	for (i = 0; i < sd->nfns; i++) {
		ret = iommusim_iommu_attach_device(sd->dom, sd->fns[i]->dev, NULL);
		if (ret)
			return ims_script_setup_error(s, ret,
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
		/* A domain belongs to one kernel's IOMMU driver. */
		if (sd->nfns && f->plat != sd->plat)
			return ims_script_error(
				s,
				"domain '%s': '%s' is on platform '%s', '%s' on '%s' (a domain "
				"is one kernel's)",
				sd->name, sd->fns[0]->name, sd->plat->name, f->name, f->plat->name);
		sd->plat = f->plat;
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
		const struct splat *p = sd->plat;
		const struct iommusim_cmdline *cl = p->has_cmdline ? &p->cmdline : NULL;

		/* §6.1: the pre-6.7 code reads s390_iommu=strict and the aperture
		 * factor; the IOMMU core's iommu.* parameters do not reach it. */
		lcfg.strict = sd->pol == P_LEGACY_STRICT || (cl && cl->iommu.s390_strict);
		lcfg.aperture =
			iommusim_s390_iommu_aperture(p->memory ? p->memory : UINT64_C(16) << 30,
						     cl && cl->aperture_set ? cl->aperture_factor :
						     p->factor_set	    ? p->factor :
									      1);
		if (cl && (cl->iommu.strict_set || cl->passthrough_set))
			ims_script_note(s,
					"domain '%s': iommu.* parameters do not reach the pre-6.7 "
					"s390 DMA API (only s390_iommu=strict and "
					"s390_iommu_aperture= do)",
					sd->name);
		ret = iommusim_legacy_dma_create(sd->fns[0]->fn, &lcfg, NULL, &sd->legacy,
						 &sd->dma);
		if (ret)
			return ims_script_setup_error(s, ret,
						      "domain '%s': legacy DMA set-up failed (%s)",
						      sd->name, strerror(-ret));
		return RC_OK;
	}
	rc = dom_setup_dma_iommu(s, sd);
	if (rc)
		return rc;
	if (sd->type == IOMMUSIM_DOMAIN_IDENTITY) {
		/* iommu_setup_dma_ops(): an identity domain leaves the device on
		 * dma-direct (§2.6); the first function's stands for the domain. */
		ret = iommusim_dma_direct_create(sd->fns[0]->dev, &sd->direct, &sd->dma);
		if (ret)
			return ims_script_setup_error(s, ret,
						      "domain '%s': dma-direct set-up failed (%s)",
						      sd->name, strerror(-ret));
		return RC_OK;
	}
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
		cfg.hz = (unsigned)sd->plat->profile.hz;
		cfg.fq_timer = &timer_ops;
		cfg.fq_timer_priv = sd;
		cfg.check_lazy_reuse = true;
		/* force_fq: the sysfs DMA -> DMA-FQ switch, which does not check
		 * IOMMU_CAP_DEFERRED_FLUSH (KERNEL_SPEC §2.6): how an ISM device
		 * ends up on a flush queue. */
		cfg.skip_deferred_flush_check = sd->force_fq;
		ret = iommusim_dma_iommu_create(sd->dom, first, &cfg, &sd->d, &sd->dma);
		if (ret)
			return ims_script_setup_error(s, ret,
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
		return ims_script_setup_error(s, ret, "cannot register '%s' (%s)", h->name,
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
	if ((*out)->legacy)
		return ims_script_error(s, "'%s' needs a dma-iommu domain; '%s' is %s", what, name,
					ims_script_policy_names[(*out)->pol]);
	if (!(*out)->d)
		return ims_script_error(s,
					"'%s' needs a dma-iommu domain; '%s' is identity (its "
					"device is on dma-direct: nothing to flush or count)",
					what, name);
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
	for (i = 0; i < s->plats.n; i++) {
		const struct splat *p = s->plats.v[i];

		if (p->pl && !iommusim_platform_stats_get(p->pl, &ps) && ps.cost_overflows)
			return true;
	}
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
