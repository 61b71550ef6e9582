/* SPDX-License-Identifier: MIT */
/*
 * One simulation run (docs/model.md): the whole stack (platform model,
 * zPCI function, s390 IOMMU driver, dma-iommu or the pre-6.7 DMA API) on the
 * discrete-event engine, driven by a fio-like workload.
 *
 * Each I/O is two work items on its job's CPU: the submission (base cost,
 * DMA map) and the completion (DMA unmap, base cost, and the next
 * submission), with the device as a server in between. What the CPU pays is
 * derived from what the layers did: the IOVA allocator's trace (cache hits,
 * tree allocations and the kernel's walk length), the PTEs written and
 * cleared, flush-queue enqueues; refreshes are charged by the platform model
 * itself from what its shadow walked and mapped. Nothing is fitted per
 * scenario (COST_MODEL.md).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <iommusim/dma.h>
#include <iommusim/dma_direct.h>
#include <iommusim/dma_iommu.h>
#include <iommusim/hist.h>
#include <iommusim/iommu.h>
#include <iommusim/ism.h>
#include <iommusim/legacy_s390_dma.h>
#include <iommusim/platform.h>
#include <iommusim/run.h>
#include <iommusim/s390_iommu.h>
#include <iommusim/sim.h>
#include <iommusim/zpci.h>

#include "base/mem_int.h"
#include "base/util_int.h"
#include "kernel/legacy_s390_dma_int.h"
#include "kernel/s390_iommu_int.h"

#define PG UINT64_C(4096)
/* net: pages in each job's rx/tx buffer ring. */
#define NET_RING_PAGES UINT64_C(1024)
/* A failed map is retried after this long (the driver would requeue). */
#define RETRY_NS 10000

struct io {
	struct run *r;
	unsigned job;
	unsigned cpu; /* the job's CPU: job % ncpus, computed once */
	uint64_t submit_ns;
	uint64_t dma; /* the mapping (map_page), or 0 */
	struct iommusim_dma_sg *sg; /* sg_segments entries of run.sgs (NULL for one) */
	size_t nsg;
	uint64_t dmb; /* ISM: the DMB token */
	bool to_device;
};

struct job_state {
	struct iommusim_rng rng;
	uint64_t bytes;
	uint64_t seq; /* sequential offset (pages) */
	bool done;
	bool by_size; /* done because it moved size= bytes */
};

struct run;

/* The depot trimming work of one IOVA cache bin. */
struct depot_work {
	struct run *r;
	unsigned bin;
};

struct run {
	const struct iommusim_job *job;
	uint64_t seed;
	struct iommusim_profile profile;
	struct iommusim_policy policy;
	unsigned ncpus;
	struct iommusim_sim *sim;
	struct iommusim_platform *pl;
	struct iommusim_zpci_fn *fn;
	struct iommusim_s390_iommu *s390;
	struct iommusim_iommu *iommu;
	struct iommusim_device *dev;
	struct iommusim_domain *dom;
	struct iommusim_dma_iommu *di;
	struct iommusim_dma_direct *direct; /* the device's DMA API in an identity domain */
	struct iommusim_legacy_dma *legacy;
	struct iommusim_ism *ism;
	struct iommusim_dma dma;
	struct iommusim_server *device; /* command slots: the latency */
	struct iommusim_server *link; /* the device's bandwidth, shared by its slots */
	uint64_t dev_service, link_service; /* cycles per I/O in each (set up once) */
	struct iommusim_rng irq_rng; /* floating interrupts */
	struct job_state *jobs;
	struct io *ios;
	struct iommusim_dma_sg *sgs; /* every I/O's segments, when sg_segments > 1 */
	int failed; /* the first error that ends the run (an event not scheduled) */
	bool cost_overflow; /* a cost sum saturated: the run is refused */
	struct iommusim_hist *latency;
	uint64_t end_cycles;
	uint64_t completed, bytes, map_errors;
	uint64_t inflight; /* I/Os submitted, not yet completed */
	uint64_t last_complete; /* cycles: the last counted completion */
	unsigned jobs_by_size; /* jobs that stopped at size= */
	bool ended_early; /* every job stopped at size=, nothing in flight */
	bool lazy; /* unmaps go to a flush queue */
	bool fell_back; /* the default type could not be allocated: DMA instead */
	unsigned running_cpu; /* CPU of the work item in progress */
	bool timer_armed;
	struct depot_work depot_works[IOMMUSIM_IOVA_RANGE_CACHE_MAX_SIZE];
	uint64_t dmb_tokens[64];
	uint64_t dmb_dma[64];
	const struct iommusim_run_progress *progress;
	uint64_t progress_step;
	/* per-CPU counter snapshots for charging deltas */
	struct iommusim_iova_trace *last_trace;
	uint64_t last_mapped, last_unmapped;
};

static uint64_t
ns(struct run *r, uint64_t cycles)
{
	return iommusim_sim_cycles_to_ns(r->sim, cycles);
}

static uint64_t
cyc(struct run *r, uint64_t nsec)
{
	return iommusim_sim_ns_to_cycles(r->sim, nsec);
}

/* ---- cost accounting ------------------------------------------------------ */

static void
pages_done(struct run *r, uint64_t *mapped, uint64_t *unmapped)
{
	if (r->legacy)
		ims_legacy_dma_pages(r->legacy, mapped, unmapped);
	else
		ims_s390_domain_pages(r->dom, mapped, unmapped);
}

/*
 * Charge the CPU for what the layers did since the last call: IOVA work from
 * the allocator's trace, PTE updates from the page counters. (Refreshes were
 * charged by the platform as they happened.)
 */
static void
charge_work(struct run *r, unsigned cpu, bool legacy_alloc, bool legacy_free)
{
	const struct iommusim_profile *p = &r->profile;
	uint64_t mapped, unmapped;

	if (r->di) {
		const struct iommusim_iova_trace *t = iommusim_dma_iommu_cpu_trace(r->di, cpu);
		struct iommusim_iova_trace *last = &r->last_trace[cpu];
		uint64_t c;

		c = ims_mul_add_sat(0, t->rcache_hits - last->rcache_hits, p->iova_alloc_hit,
				    &r->cost_overflow);
		c = ims_mul_add_sat(c, t->rcache_inserts - last->rcache_inserts, p->iova_free_hit,
				    &r->cost_overflow);
		c = ims_mul_add_sat(c,
				    t->tree_inserts - last->tree_inserts + t->tree_erases -
					    last->tree_erases,
				    p->iova_alloc_tree, &r->cost_overflow);
		c = ims_mul_add_sat(c, t->walk_nodes - last->walk_nodes, p->iova_walk_node,
				    &r->cost_overflow);
		/* Only what is charged: the whole trace is ten times as much. */
		last->rcache_hits = t->rcache_hits;
		last->rcache_inserts = t->rcache_inserts;
		last->tree_inserts = t->tree_inserts;
		last->tree_erases = t->tree_erases;
		last->walk_nodes = t->walk_nodes;
		iommusim_sim_cpu_charge(r->sim, cpu, IOMMUSIM_COST_ALLOC, c);
	} else if (r->legacy) {
		/* The bitmap search: charged like a cached IOVA operation. */
		iommusim_sim_cpu_charge(
			r->sim, cpu, IOMMUSIM_COST_ALLOC,
			ims_mul_add_sat(ims_mul_add_sat(0, legacy_alloc, p->iova_alloc_hit,
							&r->cost_overflow),
					legacy_free, p->iova_free_hit, &r->cost_overflow));
	}
	pages_done(r, &mapped, &unmapped);
	iommusim_sim_cpu_charge(
		r->sim, cpu, IOMMUSIM_COST_PTE,
		ims_mul_add_sat(ims_mul_add_sat(0, mapped - r->last_mapped,
						ims_add_sat(p->pte_set, p->request_build),
						&r->cost_overflow),
				unmapped - r->last_unmapped, p->pte_clear, &r->cost_overflow));
	if (p->pte_set + p->request_build < p->pte_set)
		r->cost_overflow = true;
	r->last_mapped = mapped;
	r->last_unmapped = unmapped;
}

/*
 * Schedule an event the run cannot do without. If it cannot be scheduled (no
 * memory for the event), the run goes on to its end but reports the error
 * instead of a result: a lost completion or timer would silently change it.
 */
static void
sched(struct run *r, uint64_t at, void (*fn)(struct iommusim_sim *, void *), void *priv)
{
	int ret = iommusim_sim_schedule(r->sim, at, fn, priv, NULL);

	if (ret && !r->failed)
		r->failed = ret;
}

/* ---- timers --------------------------------------------------------------- */

static void
fq_timer_fire(struct iommusim_sim *sim, void *priv)
{
	struct run *r = priv;
	struct iommusim_ctx ctx;
	unsigned cpu = 0;

	r->timer_armed = false;
	/* The timer runs as softirq work on CPU 0. */
	if (iommusim_sim_cpu_begin(sim, cpu, iommusim_sim_now(sim), &ctx, NULL))
		return;
	r->running_cpu = cpu;
	iommusim_dma_iommu_fq_timeout(r->di, &ctx);
	charge_work(r, cpu, false, false);
	iommusim_sim_cpu_end(sim, cpu);
}

static void
fq_timer_arm(void *priv, uint64_t expires_ns)
{
	struct run *r = priv;
	uint64_t at = cyc(r, expires_ns);

	r->timer_armed = true;
	sched(r, IMS_MAX(at, iommusim_sim_now(r->sim)), fq_timer_fire, r);
}

static const struct iommusim_dma_timer_ops fq_timer_ops = { .arm = fq_timer_arm };

static void
depot_fire(struct iommusim_sim *sim, void *priv)
{
	struct depot_work *w = priv;

	/* The depot's work fails only on a NULL domain. */
	IMS_IGNORE(iommusim_iova_depot_work_run(iommusim_dma_iommu_iovad(w->r->di), w->bin, NULL));
}

static void
depot_schedule(void *priv, unsigned bin, unsigned delay_ms)
{
	struct run *r = priv;
	struct depot_work *w = &r->depot_works[bin];

	w->r = r;
	w->bin = bin;
	sched(r, iommusim_sim_now(r->sim) + cyc(r, delay_ms * 1000000ull), depot_fire, w);
}

static const struct iommusim_iova_timer_ops depot_timer_ops = { .schedule = depot_schedule };

/* ---- the workload --------------------------------------------------------- */

static void io_complete(struct iommusim_sim *sim, void *priv);
static void io_transfer(struct iommusim_sim *sim, void *priv);
static void io_submit_event(struct iommusim_sim *sim, void *priv);

static bool
is_read(struct run *r, struct job_state *js)
{
	/* net: rx (device writes) or tx by the rx share, whatever rw= says. */
	if (r->job->workload == IOMMUSIM_WL_NET)
		return iommusim_rng_below(&js->rng, 100) < r->job->rwmixread;
	switch (r->job->rw) {
	case IOMMUSIM_RW_READ:
	case IOMMUSIM_RW_RANDREAD:
		return true;
	case IOMMUSIM_RW_WRITE:
	case IOMMUSIM_RW_RANDWRITE:
		return false;
	default:
		return iommusim_rng_below(&js->rng, 100) < r->job->rwmixread;
	}
}

/* Where the buffer of the next I/O lives (a page frame of guest memory). */
static uint64_t
buffer_phys(struct run *r, struct job_state *js, uint64_t len)
{
	uint64_t pages = r->job->memory / PG - 1 - (len + PG - 1) / PG;
	bool random = r->job->rw == IOMMUSIM_RW_RANDREAD || r->job->rw == IOMMUSIM_RW_RANDWRITE ||
		      r->job->rw == IOMMUSIM_RW_RANDRW;

	/* net: packets come from a ring of recycled pages (a page pool). */
	if (r->job->workload == IOMMUSIM_WL_NET) {
		js->seq = (js->seq + 1) % NET_RING_PAGES;
		return (r->job->memory / 4) +
		       ((uint64_t)(js - r->jobs) * NET_RING_PAGES + js->seq) * PG;
	}
	if (random)
		return iommusim_rng_below(&js->rng, pages) * PG;
	js->seq = (js->seq + (len + PG - 1) / PG) % pages;
	return js->seq * PG;
}

/* Map the I/O's buffer (within the running work item on @cpu). */
IMS_NODISCARD static int
io_map(struct run *r, struct io *io, unsigned cpu, const struct iommusim_ctx *ctx)
{
	struct job_state *js = &r->jobs[io->job];
	uint32_t bs = r->job->bs, segs = IMS_MAX(r->job->sg_segments, 1u);
	enum iommusim_dma_dir dir;
	int ret;

	io->to_device = !is_read(r, js);
	dir = r->job->workload == IOMMUSIM_WL_ISM ? IOMMUSIM_DMA_BIDIRECTIONAL :
	      io->to_device			  ? IOMMUSIM_DMA_TO_DEVICE :
						    IOMMUSIM_DMA_FROM_DEVICE;
	if (segs == 1) {
		io->nsg = 0;
		ret = iommusim_dma_map_page(&r->dma, buffer_phys(r, js, bs), bs, dir, 0, ctx,
					    &io->dma);
	} else {
		size_t nsegs;
		uint32_t i;

		/* bs split exactly: the first bs % segs segments one byte longer. */
		io->nsg = segs;
		for (i = 0; i < segs; i++) {
			uint32_t len = bs / segs + (i < bs % segs);

			memset(&io->sg[i], 0, sizeof(io->sg[i]));
			io->sg[i].phys = buffer_phys(r, js, len);
			io->sg[i].length = len;
		}
		ret = iommusim_dma_map_sg(&r->dma, io->sg, io->nsg, dir, 0, ctx, &nsegs);
	}
	charge_work(r, cpu, !ret, false);
	if (ret)
		return ret;
	if (r->ism) {
		/* The driver tells the device about the buffer after mapping it. */
		if (iommusim_ism_dmb_register(r->ism, io->dma, bs, &io->dmb))
			io->dmb = 0;
	}
	return 0;
}

static void
io_unmap(struct run *r, struct io *io, unsigned cpu, const struct iommusim_ctx *ctx)
{
	enum iommusim_dma_dir dir = r->job->workload == IOMMUSIM_WL_ISM ?
					    IOMMUSIM_DMA_BIDIRECTIONAL :
				    io->to_device ? IOMMUSIM_DMA_TO_DEVICE :
						    IOMMUSIM_DMA_FROM_DEVICE;

	if (r->ism && io->dmb)
		/* The token came from the device: it is registered. */
		IMS_IGNORE(iommusim_ism_dmb_unregister(r->ism, io->dmb));
	io->dmb = 0;
	if (io->nsg)
		/* The kernel's dma_unmap_* are void; ours fail only on misuse. */
		IMS_IGNORE(iommusim_dma_unmap_sg(&r->dma, io->sg, io->nsg, dir, 0, ctx));
	else
		/* As above. */
		IMS_IGNORE(iommusim_dma_unmap_page(&r->dma, io->dma, r->job->bs, dir, 0, ctx));
	if (r->lazy)
		iommusim_sim_cpu_charge(r->sim, cpu, IOMMUSIM_COST_QUEUE, r->profile.fq_enqueue);
	charge_work(r, cpu, false, true);
}

/* Map and send an I/O to the device, inside the running item on @cpu. */
static void
io_start(struct run *r, struct io *io, unsigned cpu, const struct iommusim_ctx *ctx)
{
	uint64_t t, service, finish;
	struct job_state *js = &r->jobs[io->job];

	iommusim_sim_cpu_charge(r->sim, cpu, IOMMUSIM_COST_IO, r->job->io_base_cycles / 2);
	io->submit_ns = ns(r, iommusim_sim_cpu_time(r->sim, cpu));
	if (io_map(r, io, cpu, ctx)) {
		r->map_errors++;
		sched(r, iommusim_sim_cpu_time(r->sim, cpu) + cyc(r, RETRY_NS), io_submit_event,
		      io);
		return;
	}
	t = iommusim_sim_cpu_time(r->sim, cpu);
	/* The command's latency in one of the device's slots (ISM: the DMB
	 * stays in use that long), then its data over the device's one link,
	 * whose bandwidth all slots share. */
	service = r->dev_service;
	finish = iommusim_server_serve(r->device, t, service);
	js->bytes += r->job->bs;
	r->inflight++;
	sched(r, finish, r->link ? io_transfer : io_complete, io);
}

/* The data of an I/O crosses the link (bs / dev_bandwidth), in arrival order. */
static void
io_transfer(struct iommusim_sim *sim, void *priv)
{
	struct io *io = priv;
	struct run *r = io->r;

	sched(r, iommusim_server_serve(r->link, iommusim_sim_now(sim), r->link_service),
	      io_complete, io);
}

/* Which CPU takes the completion interrupt of @io. */
static unsigned
irq_cpu(struct run *r, const struct io *io)
{
	switch (r->profile.irq) {
	case IOMMUSIM_IRQ_FLOATING:
		return (unsigned)iommusim_rng_below(&r->irq_rng, r->ncpus);
	case IOMMUSIM_IRQ_DIRECTED:
		return (unsigned)(r->profile.irq_cpu % r->ncpus);
	default:
		return io->cpu;
	}
}

static bool
job_continues(struct run *r, struct job_state *js, uint64_t now)
{
	if (js->done)
		return false;
	if (r->job->size && js->bytes >= r->job->size) {
		js->done = js->by_size = true;
		r->jobs_by_size++;
	} else if (now >= r->end_cycles) {
		js->done = true;
	}
	return !js->done;
}

static void
io_submit_event(struct iommusim_sim *sim, void *priv)
{
	struct io *io = priv;
	struct run *r = io->r;
	unsigned cpu = io->cpu;
	struct iommusim_ctx ctx;

	if (!job_continues(r, &r->jobs[io->job], iommusim_sim_now(sim)))
		return;
	if (iommusim_sim_cpu_begin(sim, cpu, iommusim_sim_now(sim), &ctx, NULL))
		return;
	r->running_cpu = cpu;
	io_start(r, io, cpu, &ctx);
	iommusim_sim_cpu_end(sim, cpu);
}

static void
io_complete(struct iommusim_sim *sim, void *priv)
{
	struct io *io = priv;
	struct run *r = io->r;
	unsigned cpu = irq_cpu(r, io);
	struct iommusim_ctx ctx;
	uint64_t t;

	if (iommusim_sim_cpu_begin(sim, cpu, iommusim_sim_now(sim), &ctx, NULL))
		return;
	r->running_cpu = cpu;
	io_unmap(r, io, cpu, &ctx);
	iommusim_sim_cpu_charge(sim, cpu, IOMMUSIM_COST_IO,
				r->job->io_base_cycles - r->job->io_base_cycles / 2);
	t = iommusim_sim_cpu_time(sim, cpu);
	r->inflight--;
	if (t <= r->end_cycles) {
		r->last_complete = IMS_MAX(r->last_complete, t);
		r->completed++;
		r->bytes += r->job->bs;
		iommusim_hist_record(r->latency, ns(r, t) - io->submit_ns);
	}
	/* The job goes on: on this CPU when it is the job's, else the
	 * interrupt wakes the job on its own CPU for the next submission. */
	if (job_continues(r, &r->jobs[io->job], t)) {
		if (cpu == io->cpu)
			io_start(r, io, cpu, &ctx);
		else
			sched(r, t, io_submit_event, io);
	} else if (r->jobs_by_size == r->job->numjobs && !r->inflight && t <= r->end_cycles) {
		/* Every job moved its size= and nothing is in flight: the run
		 * ends here, as fio's does (no timer flush after it counts). */
		r->ended_early = true;
		iommusim_sim_stop(sim);
	}
	iommusim_sim_cpu_end(sim, cpu);
}

/* The caller's callback runs outside solo mode: it may use objects of its
 * own that other threads share. */
static void
report_progress(const struct iommusim_run_progress *p, double done)
{
	bool was = ims_solo;

	ims_solo_end(false);
	p->report(p->priv, done);
	ims_solo_end(was);
}

static void
progress_tick(struct iommusim_sim *sim, void *priv)
{
	struct run *r = priv;
	uint64_t now = iommusim_sim_now(sim);

	report_progress(r->progress, (double)now / (double)r->end_cycles);
	if (now + r->progress_step < r->end_cycles)
		/* Progress is no result: a tick that cannot be scheduled only
		 * leaves the bar where it is. */
		IMS_IGNORE(
			iommusim_sim_schedule(sim, now + r->progress_step, progress_tick, r, NULL));
}

/* ---- set-up and teardown -------------------------------------------------- */

IMS_NODISCARD static int
setup_stack(struct run *r, char *err, size_t err_len)
{
	const struct iommusim_sim_cfg scfg = { .clock_ghz = r->profile.clock_ghz,
					       .ncpus = r->ncpus,
					       .seed = r->seed };
	const bool ism = r->job->workload == IOMMUSIM_WL_ISM;
	struct iommusim_zpci_fn_cfg fcfg = {
		.fid = 1,
		.start_dma = IOMMUSIM_ZPCI_QEMU_SDMA,
		.end_dma = IOMMUSIM_ZPCI_QEMU_EDMA,
		.pft = ism ? IOMMUSIM_PCI_FUNC_TYPE_ISM : 0,
		.tlb_refresh = r->profile.tlb_refresh,
		.rtr_avail = r->job->rtr_avail,
		.platform = &iommusim_platform_zpci_ops,
	};
	enum iommusim_policy_kind k = r->policy.kind;
	const struct iommusim_cmdline *cl = r->policy.has_cmdline ? &r->policy.cmdline : NULL;
	/* §3.3: s390_iommu_aperture= on the command line replaces the job's. */
	uint32_t aperture_factor =
		cl && cl->aperture_set ? cl->aperture_factor : r->job->s390_iommu_aperture;
	int ret;

	/* The window the hypervisor advertises (QEMU may bound it). */
	iommusim_profile_dma_window(&r->profile, fcfg.start_dma, &fcfg.end_dma);
	ret = iommusim_sim_create(&scfg, &r->sim);
	if (!ret)
		ret = iommusim_platform_create(&r->profile, r->sim, &r->pl);
	if (!ret)
		ret = iommusim_server_create(r->sim, "device", r->job->dev_slots, &r->device);
	if (!ret && r->job->dev_bandwidth)
		ret = iommusim_server_create(r->sim, "link", 1, &r->link);
	if (!ret) {
		/* The same for every I/O. bs <= 1 GiB, so bs * 10^9 fits 64 bits. */
		r->dev_service = cyc(r, r->job->dev_latency_ns);
		if (r->job->dev_bandwidth)
			r->link_service = cyc(r, (uint64_t)r->job->bs * UINT64_C(1000000000) /
							 r->job->dev_bandwidth);
	}
	if (!ret) {
		fcfg.platform_priv = r->pl;
		ret = iommusim_zpci_fn_create(&fcfg, &r->fn);
	}
	if (ret)
		return ret;
	if (k == IOMMUSIM_POLICY_LEGACY || k == IOMMUSIM_POLICY_LEGACY_STRICT) {
		/* §6.1: the pre-6.7 code reads s390_iommu=strict and the aperture
		 * factor; the IOMMU core's iommu.* parameters do not reach it. */
		struct iommusim_legacy_dma_cfg lcfg = {
			.strict =
				k == IOMMUSIM_POLICY_LEGACY_STRICT || (cl && cl->iommu.s390_strict),
			.aperture = iommusim_s390_iommu_aperture(r->job->memory, aperture_factor)
		};

		ret = iommusim_legacy_dma_create(r->fn, &lcfg, NULL, &r->legacy, &r->dma);
		r->lazy = false;
	} else {
		struct iommusim_iommu_policy pol = { 0 };
		struct iommusim_s390_iommu_cfg icfg = {
			.memory_bytes = r->job->memory,
			.aperture_factor = aperture_factor,
			.aperture_factor_set = true,
		};
		struct iommusim_device_cfg dcfg = { .name = "0000:00:00.0", .is_pci = true };
		struct iommusim_domain_decision dd;
		struct iommusim_dma_iommu_cfg dcf = {
			.ncpus = r->ncpus,
			.fq_size = r->policy.fq_size,
			.fq_timeout_ms = r->policy.fq_timeout_ms,
			.hz = (unsigned)r->profile.hz,
			.timeline = true, /* flushes take the time the platform charges */
			.fq_timer = &fq_timer_ops,
			.fq_timer_priv = r,
			.iova_timer = &depot_timer_ops,
			.iova_timer_priv = r,
			.iova_rcache_flags = IOMMUSIM_IOVA_RCACHE_UNCHECKED,
			.skip_deferred_flush_check = r->policy.ism_force_fq,
		};
		struct iommusim_domain_info dinfo;
		struct iommusim_dma_iommu_info info;
		const bool lazy_policy =
			k == IOMMUSIM_POLICY_LAZY_PERCPU || k == IOMMUSIM_POLICY_LAZY_SINGLE;

		/* The boot parameters decide as in the kernel (§2.6); the strict
		 * policy is iommu.strict=1. */
		if (cl)
			pol = cl->iommu;
		if (k == IOMMUSIM_POLICY_STRICT)
			pol.strict_set = pol.strict = true;
		dcfg.drvdata = r->fn;
		ret = iommusim_s390_iommu_create(&icfg, &pol, &r->s390, &r->iommu);
		if (!ret)
			ret = iommusim_device_create(r->iommu, &dcfg, &r->dev);
		if (ret)
			return ret;
		if (lazy_policy) {
			/* A policy's queue: the domain is DMA-FQ, the layout the
			 * policy's (as the sysfs switch to DMA-FQ would). */
			dcf.fq_type = k == IOMMUSIM_POLICY_LAZY_PERCPU ? IOMMUSIM_FQ_PER_CPU :
									 IOMMUSIM_FQ_SINGLE;
			ret = iommusim_domain_alloc(r->dev, IOMMUSIM_DOMAIN_DMA_FQ, &r->dom);
		} else {
			/* The kernel's default domain, with its fallback. */
			ret = iommusim_iommu_alloc_default_domain(r->dev, &dd, &r->dom);
			r->fell_back = !ret && dd.fell_back_to_dma;
		}
		if (!ret)
			ret = iommusim_iommu_attach_device(r->dom, r->dev, NULL);
		if (ret)
			return ret;
		IMS_IGNORE(iommusim_domain_info_get(r->dom, &dinfo)); /* r->dom is set */
		if (dinfo.type == IOMMUSIM_DOMAIN_IDENTITY) {
			/* iommu_setup_dma_ops(): an identity domain leaves the
			 * device on dma-direct. */
			r->lazy = false;
			return iommusim_dma_direct_create(r->dev, &r->direct, &r->dma);
		}
		ret = iommusim_dma_iommu_create(r->dom, r->dev, &dcf, &r->di, &r->dma);
		if (ret)
			return ret;
		/* r->di is set: cannot fail. */
		IMS_IGNORE(iommusim_dma_iommu_info_get(r->di, &info));
		r->lazy = info.type == IOMMUSIM_DOMAIN_DMA_FQ;
		r->last_trace = ims_zalloc(r->ncpus * sizeof(*r->last_trace));
		if (!r->last_trace)
			return -ENOMEM;
	}
	if (ret) {
		ims_errf(err, err_len, "%s setting up the DMA layer (%d)",
			 ret == -ENOMEM ? "out of memory" : strerror(-ret), ret);
		return ret;
	}
	if (ism) {
		ret = iommusim_ism_create(r->fn, &r->ism);
		if (ret)
			return ret;
	}
	return 0;
}

/* ISM: long-lived DMBs, mapped and registered before the traffic. */
IMS_NODISCARD static int
setup_dmbs(struct run *r)
{
	struct iommusim_ctx ctx;
	unsigned i, n = IMS_MIN(r->job->ism_dmbs, (unsigned)IMS_ARRAY_SIZE(r->dmb_tokens));
	int ret = 0;

	if (!r->ism)
		return 0;
	if (iommusim_sim_cpu_begin(r->sim, 0, 0, &ctx, NULL))
		return -EINVAL;
	for (i = 0; i < n && !ret; i++) {
		ret = iommusim_dma_map_page(
			&r->dma, (r->job->memory / 2) + (uint64_t)i * r->job->ism_dmb_size,
			r->job->ism_dmb_size, IOMMUSIM_DMA_BIDIRECTIONAL, 0, &ctx, &r->dmb_dma[i]);
		if (!ret)
			ret = iommusim_ism_dmb_register(r->ism, r->dmb_dma[i], r->job->ism_dmb_size,
							&r->dmb_tokens[i]);
	}
	charge_work(r, 0, false, false);
	iommusim_sim_cpu_end(r->sim, 0);
	return ret;
}

static void
teardown(struct run *r)
{
	iommusim_ism_destroy(r->ism);
	iommusim_dma_iommu_destroy(r->di);
	iommusim_dma_direct_destroy(r->direct);
	if (r->dom && r->dev)
		/* Teardown: nothing more to undo if it fails. */
		IMS_IGNORE(iommusim_iommu_detach_device(r->dom, r->dev, NULL));
	iommusim_device_destroy(r->dev, NULL);
	iommusim_domain_free(r->dom);
	iommusim_s390_iommu_destroy(r->s390);
	iommusim_legacy_dma_destroy(r->legacy, NULL);
	iommusim_zpci_fn_destroy(r->fn);
	iommusim_platform_destroy(r->pl);
	iommusim_sim_destroy(r->sim);
	iommusim_hist_destroy(r->latency);
	ims_free(r->last_trace);
	ims_free(r->jobs);
	ims_free(r->ios);
	ims_free(r->sgs);
}

/* ---- results -------------------------------------------------------------- */

/*
 * The memory the kernel allocates for the flush queues (KERNEL_SPEC §2.2,
 * §2.5; iommu_dma_init_fq_single/_percpu of the variable-size queues): one
 * struct iova_fq, a 16-byte head (spinlock, head, tail, mod_mask) and fq_size
 * 40-byte entries (iova_pfn, pages, the freelist head, counter), for the
 * single queue, or one per possible CPU. A 64-bit kernel without lock
 * debugging; docs/kernel.md "Flush-queue memory".
 */
#define FQ_HEAD_BYTES 16u
#define FQ_ENTRY_BYTES 40u

static uint64_t
fq_bytes(const struct iommusim_dma_iommu_info *info)
{
	uint64_t one = FQ_HEAD_BYTES + (uint64_t)info->fq_size * FQ_ENTRY_BYTES;

	return info->single_queue ? one : one * info->ncpus;
}

/*
 * What ran and why (§2.6): the domain in sysfs spelling, and the kernel's
 * reason whenever it is not the default lazy DMA-FQ. A configuration that
 * asked for another type than ran (a lazy policy or identity that became
 * DMA) also says so in `downgrade`, which --fail-on downgraded reads.
 */
static void
domain_result(const struct run *r, struct iommusim_run_result *out)
{
	const struct iommusim_cmdline *cl = r->policy.has_cmdline ? &r->policy.cmdline : NULL;
	struct iommusim_dma_iommu_info info;
	const char *why = "";

	if (r->legacy) {
		snprintf(out->domain, sizeof(out->domain), "legacy");
		if (r->policy.kind == IOMMUSIM_POLICY_LEGACY_STRICT)
			why = "legacy-strict";
		else if (cl && cl->iommu.s390_strict)
			why = "s390_iommu=strict";
		snprintf(out->domain_reason, sizeof(out->domain_reason), "%s", why);
		return;
	}
	if (r->direct) {
		snprintf(out->domain, sizeof(out->domain), "identity");
		snprintf(out->domain_reason, sizeof(out->domain_reason), "iommu.passthrough=1");
		return;
	}
	IMS_IGNORE(iommusim_dma_iommu_info_get(r->di, &info)); /* r->di is set: no error */
	snprintf(out->domain, sizeof(out->domain), "%s", r->lazy ? "DMA-FQ" : "DMA");
	if (r->lazy) {
		out->fq_size = info.fq_size;
		out->fq_timeout_ms = info.fq_timeout_ms;
		out->fq_bytes = fq_bytes(&info);
		return;
	}
	/* The kernel's reasons, in the order it applies them. */
	if (r->fell_back)
		why = "no identity domain: fell back to DMA";
	else if (r->policy.kind == IOMMUSIM_POLICY_STRICT)
		why = "iommu.strict=1";
	else if (cl && cl->iommu.s390_strict)
		why = "s390_iommu=strict";
	else if (cl && cl->iommu.strict_set && cl->iommu.strict)
		why = "iommu.strict=1";
	else if (info.downgraded)
		why = iommusim_downgrade_reason(info.downgrade);
	snprintf(out->domain_reason, sizeof(out->domain_reason), "%s", why);
	/* The kernel does these silently; a result must not. */
	if (r->fell_back)
		snprintf(out->downgrade, sizeof(out->downgrade), "%s", why);
	else if (info.downgraded)
		snprintf(out->downgrade, sizeof(out->downgrade), "%s",
			 iommusim_downgrade_reason(info.downgrade));
}

static void
collect(struct run *r, uint64_t seed, struct iommusim_run_result *out)
{
	struct iommusim_platform_stats ps;
	uint64_t busy = 0, span = 0, end, by_cost[IOMMUSIM_COST_NR] = { 0 };
	double secs;
	unsigned cpu, c;

	memset(out, 0, sizeof(*out));
	snprintf(out->platform, sizeof(out->platform), "%s", r->profile.name);
	snprintf(out->policy, sizeof(out->policy), "%s", iommusim_policy_name(r->policy.kind));
	if (r->policy.has_cmdline)
		iommusim_cmdline_format(&r->policy.cmdline, out->cmdline, sizeof(out->cmdline));
	domain_result(r, out);
	out->seed = seed;
	/* A run whose every job stopped at size= and whose I/Os all completed
	 * ended then, not at the runtime cap (rates would be understated). */
	end = r->ended_early ? r->last_complete : r->end_cycles;
	out->sim_ns = ns(r, end);
	out->ios = r->completed;
	out->bytes = r->bytes;
	secs = (double)out->sim_ns / 1e9;
	out->iops = secs > 0 ? (double)out->ios / secs : 0;
	out->bytes_per_s = secs > 0 ? (double)out->bytes / secs : 0;
	for (cpu = 0; cpu < r->ncpus; cpu++) {
		struct iommusim_cpu_stats cs;

		/* Getters fail only on NULL arguments, and none is NULL here. */
		IMS_IGNORE(iommusim_sim_cpu_stats_get(r->sim, cpu, &cs));
		busy += cs.busy_cycles;
		/* Each CPU's busy time over the span its clock covered: an item
		 * that began before the end may run past it, and counts whole. */
		span += IMS_MAX(end, iommusim_sim_cpu_time(r->sim, cpu));
		for (c = 0; c < IOMMUSIM_COST_NR; c++)
			by_cost[c] += cs.by_cost[c];
	}
	if (out->ios) {
		out->cpu_cycles_per_io = busy / out->ios;
		for (c = 0; c < IOMMUSIM_COST_NR; c++)
			out->cycles_per_io[c] = by_cost[c] / out->ios;
	}
	out->cpu_utilisation = span ? (double)busy / (double)span : 0;
	/* Getters fail only on NULL arguments, and none is NULL here. */
	IMS_IGNORE(iommusim_hist_summary_get(r->latency, &out->latency));
	if (r->direct) {
		/* dma-direct maps nothing: no pages, no refreshes. */
	} else if (r->di) {
		struct iommusim_dma_iommu_stats ds;
		struct iommusim_s390_counters sc;
		struct iommusim_s390_events se;
		const struct iommusim_hist *ex = iommusim_dma_iommu_exposure(r->di);

		if (ex)
			IMS_IGNORE(iommusim_hist_summary_get(ex, &out->exposure));
		IMS_IGNORE(iommusim_dma_iommu_stats_get(r->di, &ds));
		IMS_IGNORE(iommusim_s390_domain_counters(r->dom, &sc, &se));
		out->mapped_pages = sc.mapped_pages;
		out->unmapped_pages = sc.unmapped_pages;
		out->global_rpcits = sc.global_rpcits;
		out->sync_map_rpcits = sc.sync_map_rpcits;
		out->sync_rpcits = sc.sync_rpcits;
		out->enomem_recoveries = se.enomem_recoveries;
		out->fq_max_entries = ds.fq.max_entries;
		out->fq_max_pages = ds.fq.max_pages;
		/* Entries still queued have no sample yet: say so, do not flush them
		 * (a flush the run did not do would change what it measured). */
		out->exposure_censored = ds.fq.entries_now;
	} else {
		struct iommusim_legacy_dma_counters lc;

		/* Getters fail only on NULL arguments, and none is NULL here. */
		IMS_IGNORE(iommusim_legacy_dma_counters_get(r->legacy, &lc));
		out->mapped_pages = lc.mapped_pages;
		out->unmapped_pages = lc.unmapped_pages;
		out->legacy_global_rpcits = lc.global_rpcits;
		out->sync_map_rpcits = lc.map_rpcits;
		out->sync_rpcits = lc.unmap_rpcits;
		out->enomem_recoveries = lc.enomem_recoveries;
	}
	out->map_errors = r->map_errors;
	/* Getters fail only on NULL arguments, and none is NULL here. */
	IMS_IGNORE(iommusim_platform_stats_get(r->pl, &ps));
	out->rpcits = ps.rpcits;
	out->status16 = ps.status16;
	out->max_shadow_entries = ps.max_shadow_entries;
	out->hv_busy_ns = ns(r, ps.busy_cycles);
	out->hv_steps = ps.steps;
	out->hv_loads = ps.loads;
	out->hv_lookups = ps.lookups;
	out->hv_host_maps = ps.host_maps;
	out->hv_host_unmaps = ps.host_unmap_calls;
	if (r->ism) {
		struct iommusim_ism_stats is;
		struct iommusim_ism_event ev;

		/* Getters fail only on NULL arguments, and none is NULL here. */
		IMS_IGNORE(iommusim_ism_stats_get(r->ism, &is));
		out->ism_events = is.events;
		if (!iommusim_ism_event_get(r->ism, 0, &ev)) {
			out->ism_first_event_ns = ev.time_ns;
			out->ism_first_iova = ev.iova;
			out->ism_first_rpcit_addr = ev.rpcit_addr;
			out->ism_first_rpcit_len = ev.rpcit_len;
			snprintf(out->ism_first_reason, sizeof(out->ism_first_reason), "%s",
				 iommusim_rpcit_reason_name(ev.reason));
		}
	}
}

IMS_NODISCARD static int
check_job(const struct iommusim_job *job, char *err, size_t err_len)
{
	if (!job->bs || !job->iodepth || !job->numjobs || !job->dev_slots || !job->runtime_ns) {
		ims_errf(err, err_len,
			 "bs, iodepth, numjobs, dev_slots and runtime must be positive");
		return -EINVAL;
	}
	if (job->workload == IOMMUSIM_WL_NET && job->bs > PG) {
		ims_errf(err, err_len, "net packets are at most one page (bs <= 4096)");
		return -EINVAL;
	}
	if (job->workload == IOMMUSIM_WL_ISM && (!job->ism_dmb_size || job->ism_dmbs > 64)) {
		ims_errf(err, err_len, "ism_dmb_size must be positive and ism_dmbs at most 64");
		return -EINVAL;
	}
	if ((uint64_t)job->numjobs * job->iodepth > (UINT64_C(1) << 22)) {
		ims_errf(err, err_len,
			 "numjobs x iodepth is too large (at most 4M I/Os in flight)");
		return -EINVAL;
	}
	/* Every segment of every I/O in flight has its own entry. */
	if (job->sg_segments > 1 &&
	    (job->sg_segments > job->bs ||
	     (uint64_t)job->numjobs * job->iodepth * job->sg_segments > (UINT64_C(1) << 24))) {
		ims_errf(
			err, err_len,
			"sg_segments must be at most bs, and numjobs x iodepth x sg_segments at most "
			"16M");
		return -EINVAL;
	}
	/* Buffers: random pages of all of memory; net's page rings from a
	 * quarter of it, ISM's DMBs from the half (buffer_phys, setup_dmbs). */
	if (job->memory < 64 * (UINT64_C(1) << 20) || job->memory % PG ||
	    job->bs > job->memory / 4) {
		ims_errf(err, err_len,
			 "memory must be a multiple of 4 KiB, at least 64m and 4 x bs");
		return -EINVAL;
	}
	if (job->workload == IOMMUSIM_WL_NET &&
	    (uint64_t)job->numjobs * NET_RING_PAGES * PG > job->memory / 4) {
		ims_errf(err, err_len, "memory too small for %u jobs' page rings (%llu bytes each)",
			 job->numjobs, (unsigned long long)(NET_RING_PAGES * PG));
		return -EINVAL;
	}
	if (job->workload == IOMMUSIM_WL_ISM &&
	    (uint64_t)job->ism_dmbs * job->ism_dmb_size > job->memory / 2) {
		ims_errf(err, err_len, "memory too small for %u DMBs of %u bytes", job->ism_dmbs,
			 job->ism_dmb_size);
		return -EINVAL;
	}
	return 0;
}

static int
run_solo(const struct iommusim_job *job, const struct iommusim_profile *profile,
	 const struct iommusim_policy *policy, uint64_t seed,
	 const struct iommusim_run_progress *progress, struct iommusim_run_result *out, char *err,
	 size_t err_len)
{
	struct run r;
	uint64_t i, n, mem_failures;
	unsigned j;
	int ret;

	if (!job || !profile || !policy || !out)
		return -EINVAL;
	if (err && err_len)
		err[0] = 0;
	/* The room to grow is zero today (docs/abi.md). */
	if (!IMS_RESERVED_ZERO(job, reserved0) || !IMS_RESERVED_ZERO(policy, reserved0) ||
	    !IMS_RESERVED_ZERO(&policy->cmdline, reserved0) ||
	    !IMS_RESERVED_ZERO(&policy->cmdline.iommu, reserved0) ||
	    !IMS_RESERVED_ZERO(profile, reserved0))
		return ims_errf(err, err_len,
				"the reserved members of the job, policy or profile are not zero "
				"(zero-initialise them: docs/abi.md)");
	ret = check_job(job, err, err_len);
	if (ret)
		return ret;
	/* Boot parameters decide the domain as the kernel does: the lazy
	 * policies and strict decide it themselves. */
	if (policy->has_cmdline && policy->kind != IOMMUSIM_POLICY_KERNEL &&
	    policy->kind != IOMMUSIM_POLICY_LEGACY && policy->kind != IOMMUSIM_POLICY_LEGACY_STRICT)
		return ims_errf(err, err_len,
				"cmdline decides the domain as the kernel does: use it with the "
				"policy kernel or legacy, not %s",
				iommusim_policy_name(policy->kind));
	mem_failures = ims_mem_failures();
	memset(&r, 0, sizeof(r));
	r.job = job;
	r.seed = seed;
	r.profile = *profile;
	r.policy = *policy;
	r.ncpus = job->cpus ? job->cpus : job->numjobs;
	r.progress = progress && progress->report ? progress : NULL;
	ret = setup_stack(&r, err, err_len);
	/* Floating interrupts: a stream of their own, after the jobs'. */
	if (!ret)
		iommusim_sim_rng(r.sim, job->numjobs, &r.irq_rng);
	if (!ret)
		ret = iommusim_hist_create(0, &r.latency);
	if (ret)
		goto out;
	r.end_cycles = cyc(&r, job->runtime_ns);
	n = (uint64_t)job->numjobs * job->iodepth;
	r.jobs = ims_zalloc(job->numjobs * sizeof(*r.jobs));
	r.ios = ims_zalloc(n * sizeof(*r.ios));
	/* check_job() bounds n * sg_segments to 2^24. */
	if (job->sg_segments > 1)
		r.sgs = ims_zalloc(n * job->sg_segments * sizeof(*r.sgs));
	if (!r.jobs || !r.ios || (job->sg_segments > 1 && !r.sgs)) {
		ret = -ENOMEM;
		goto out;
	}
	for (j = 0; j < job->numjobs; j++)
		/* One stream per job; fio's randseed= replaces the run's seed. */
		if (job->randseed)
			iommusim_rng_seed(&r.jobs[j].rng, job->randseed, j);
		else
			iommusim_sim_rng(r.sim, j, &r.jobs[j].rng);
	ret = setup_dmbs(&r);
	if (ret) {
		ims_errf(err, err_len, "%s mapping the ISM DMBs (%d)",
			 ret == -ENOMEM ? "out of memory" : strerror(-ret), ret);
		goto out;
	}
	for (i = 0; i < n; i++) {
		r.ios[i].r = &r;
		r.ios[i].job = (unsigned)(i % job->numjobs);
		r.ios[i].cpu = r.ios[i].job % r.ncpus;
		if (r.sgs)
			r.ios[i].sg = r.sgs + i * job->sg_segments;
		ret = iommusim_sim_schedule(r.sim, 0, io_submit_event, &r.ios[i], NULL);
		if (ret)
			goto out;
	}
	if (r.progress) {
		r.progress_step = IMS_MAX(r.end_cycles / 100, 1);
		/* As in progress_tick(): only the bar is lost. */
		IMS_IGNORE(iommusim_sim_schedule(r.sim, 0, progress_tick, &r, NULL));
	}
	ret = iommusim_sim_run(r.sim, r.end_cycles, NULL);
	if (!ret && r.failed) {
		ret = r.failed;
		ims_errf(err, err_len,
			 "out of memory: an event of the run could not be scheduled (%d)", ret);
	}
	/* Costs so large that their sums do not fit 64-bit cycle counts give
	 * no meaningful time; refuse rather than report saturated numbers. */
	if (!ret) {
		struct iommusim_platform_stats ps;

		if (!iommusim_platform_stats_get(r.pl, &ps) && ps.cost_overflows)
			r.cost_overflow = true;
		/* The engine saturates a CPU's clock rather than wrap it. */
		for (j = 0; j < r.ncpus; j++)
			if (iommusim_sim_cpu_time(r.sim, j) == UINT64_MAX)
				r.cost_overflow = true;
		if (r.cost_overflow) {
			ret = -ERANGE;
			ims_errf(
				err, err_len,
				"the costs overflow 64-bit cycle counts: lower the profile's costs "
				"or io_base_cycles");
		}
	}
out:
	/* Any allocation that failed during the run (the host's memory, not
	 * the simulated machine's) may have changed what the layers did: a map
	 * that failed, a queue that fell back to strict. Refuse the result
	 * rather than report another one, and name the cause of a failure that
	 * followed (a map that failed for want of memory shows as -EIO).
	 * (Process-wide: a failure in a run on another thread refuses this one
	 * too, which errs on the safe side.) */
	if (ret != -ENOMEM && ims_mem_failures() != mem_failures) {
		ret = -ENOMEM;
		ims_errf(err, err_len, "out of memory: %llu allocations failed during the run",
			 (unsigned long long)(ims_mem_failures() - mem_failures));
	}
	if (!ret) {
		if (r.progress)
			report_progress(r.progress, 1.0);
		collect(&r, seed, out);
	}
	teardown(&r);
	/* Every failure says what it was. */
	if (ret && err && err_len && !err[0])
		ims_errf(err, err_len, "%s (%d)",
			 ret == -ENOMEM ? "out of memory setting up the run" : strerror(-ret), ret);
	return ret;
}

/*
 * A run makes every object it uses and shares none with another thread
 * (runs are reentrant, run.h): it runs in solo mode (base/util_int.h), its
 * statistics without atomic read-modify-writes.
 */
int
iommusim_run(const struct iommusim_job *job, const struct iommusim_profile *profile,
	     const struct iommusim_policy *policy, uint64_t seed,
	     const struct iommusim_run_progress *progress, struct iommusim_run_result *out,
	     char *err, size_t err_len)
{
	bool was = ims_solo_begin();
	int ret = run_solo(job, profile, policy, seed, progress, out, err, err_len);

	ims_solo_end(was);
	return ret;
}
