/* SPDX-License-Identifier: MIT */
/*
 * The sweep's runner: a pool of threads takes (point, replicate) runs in
 * order from a shared counter; the calling thread hands each point's result
 * on as soon as it and every point before it are done, so the output is in
 * point order whatever the number of threads (sweep.h, docs/sweeps.md).
 * iommusim_run() is reentrant (run.h): the runs share only the grid and the
 * base, which nothing writes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sweep.h"
#include "sweep_run.h"

struct run_slot {
	double m[SWEEP_M_NR];
	char domain[16];
	char downgrade[48];
	bool done;
};

struct worker {
	struct pool *pool;
	pthread_t tid;
	_Atomic unsigned permille; /* of the run it is on, for the ETA */
	bool started;
};

struct pool {
	const struct sweep_run_cfg *cfg;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a run finished */
	size_t next; /* the next run to hand out */
	size_t nruns;
	struct run_slot *slots; /* [point index * reps + rep] */
	bool stop; /* an error, or the consumer gave up */
	size_t failed_run; /* the first run that failed (nruns: none) */
	int failed_ret;
	char failed_msg[1024];
	struct worker *workers;
};

static void
on_progress(void *priv, double done)
{
	struct worker *w = priv;

	atomic_store_explicit(&w->permille, (unsigned)(done * 1000.0), memory_order_relaxed);
}

static void
run_one(struct worker *w, size_t t)
{
	struct pool *p = w->pool;
	const struct sweep_run_cfg *c = p->cfg;
	uint64_t point = c->points[t / c->reps];
	unsigned rep = (unsigned)(t % c->reps);
	struct iommusim_run_result *res = malloc(sizeof(*res));
	struct iommusim_run_progress prog = { .report = on_progress, .priv = w };
	struct iommusim_job job;
	struct iommusim_profile profile;
	struct iommusim_policy policy;
	struct run_slot slot = { 0 };
	char msg[400] = "", label[256];
	int ret;

	if (!res) {
		ret = -ENOMEM;
		snprintf(msg, sizeof(msg), "out of memory");
		goto out;
	}
	ret = sweep_point_config(c->grid, c->base, point, &job, &profile, &policy, msg,
				 sizeof(msg));
	if (!ret)
		ret = iommusim_run(&job, &profile, &policy, sweep_rep_seed(c->base->seed, rep),
				   &prog, res, msg, sizeof(msg));
	if (!ret) {
		sweep_measures_of(res, slot.m);
		snprintf(slot.domain, sizeof(slot.domain), "%s", res->domain);
		snprintf(slot.downgrade, sizeof(slot.downgrade), "%s", res->downgrade);
	}
out:
	free(res);
	atomic_store_explicit(&w->permille, 0, memory_order_relaxed);
	pthread_mutex_lock(&p->lock);
	if (ret) {
		if (t < p->failed_run) {
			sweep_point_label(c->grid, point, label, sizeof(label));
			p->failed_run = t;
			p->failed_ret = ret;
			snprintf(p->failed_msg, sizeof(p->failed_msg),
				 "point %llu (%s), replicate %u: %s", (unsigned long long)point,
				 label, rep, msg[0] ? msg : strerror(-ret));
		}
		p->stop = true;
	} else {
		slot.done = true;
		p->slots[t] = slot;
	}
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;
	size_t t;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		if (p->stop || p->next == p->nruns) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		t = p->next++;
		pthread_mutex_unlock(&p->lock);
		run_one(w, t);
	}
}

/* The fraction of the runs done, counting the ones under way. */
static double
runs_done(struct pool *p, size_t finished)
{
	double d = (double)finished;
	unsigned i;

	for (i = 0; i < p->cfg->jobs; i++)
		if (p->workers[i].started)
			d += atomic_load_explicit(&p->workers[i].permille, memory_order_relaxed) /
			     1000.0;
	return d;
}

int
sweep_run(const struct sweep_run_cfg *c, char *err, size_t err_len)
{
	struct pool p = { .cfg = c };
	size_t emitted = 0, finished = 0, i, t, r;
	struct sweep_point_result res;
	double x[SWEEP_MAX_REPS];
	unsigned w, m;
	int ret = 0, e;

	if (!c->reps || c->reps > SWEEP_MAX_REPS || !c->jobs || !c->emit) {
		snprintf(err, err_len, "sweep_run: bad configuration");
		return -EINVAL;
	}
	if (!c->npoints)
		return 0;
	p.nruns = c->npoints * c->reps;
	p.failed_run = p.nruns;
	p.slots = calloc(p.nruns, sizeof(*p.slots));
	p.workers = calloc(c->jobs, sizeof(*p.workers));
	if (!p.slots || !p.workers) {
		free(p.slots);
		free(p.workers);
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.cond, NULL);
	for (w = 0; w < c->jobs; w++) {
		p.workers[w].pool = &p;
		atomic_init(&p.workers[w].permille, 0);
		e = pthread_create(&p.workers[w].tid, NULL, worker_main, &p.workers[w]);
		if (e) {
			/* Fewer threads do the same work: go on with those started. */
			if (!w) {
				snprintf(err, err_len, "starting a thread: %s", strerror(e));
				ret = -e;
				pthread_mutex_lock(&p.lock);
				p.stop = true;
				pthread_mutex_unlock(&p.lock);
			}
			break;
		}
		p.workers[w].started = true;
	}
	if (c->started_out)
		*c->started_out = w;

	pthread_mutex_lock(&p.lock);
	while (!ret && emitted < c->npoints) {
		/* Hand on every point whose runs are all done, in order. */
		t = emitted * c->reps;
		for (r = 0; r < c->reps && p.slots[t + r].done; r++)
			;
		if (r == c->reps) {
			res = (struct sweep_point_result){ .point = c->points[emitted],
							   .reps = c->reps };
			for (m = 0; m < SWEEP_M_NR; m++) {
				for (r = 0; r < c->reps; r++)
					x[r] = p.slots[t + r].m[m];
				res.m[m] = sweep_stat_of(x, c->reps);
			}
			memcpy(res.domain, p.slots[t].domain, sizeof(res.domain));
			memcpy(res.downgrade, p.slots[t].downgrade, sizeof(res.downgrade));
			for (r = 1; r < c->reps; r++)
				if (strcmp(p.slots[t + r].domain, res.domain))
					res.mixed_domain = true;
			emitted++;
			pthread_mutex_unlock(&p.lock);
			ret = c->emit(c->priv, &res);
			if (ret)
				snprintf(err, err_len, "%s", strerror(-ret));
			pthread_mutex_lock(&p.lock);
			continue;
		}
		if (p.failed_run < p.nruns && p.failed_run / c->reps == emitted) {
			ret = p.failed_ret;
			snprintf(err, err_len, "%s", p.failed_msg);
			break;
		}
		if (c->progress) {
			struct timespec ts;

			for (finished = 0, i = 0; i < p.nruns; i++)
				finished += p.slots[i].done;
			pthread_mutex_unlock(&p.lock);
			c->progress(c->priv, emitted, runs_done(&p, finished), p.nruns);
			pthread_mutex_lock(&p.lock);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 250000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			/* Re-check before sleeping: a run may have ended meanwhile. */
			for (r = 0; r < c->reps && p.slots[t + r].done; r++)
				;
			if (r < c->reps && !(p.failed_run / c->reps == emitted))
				pthread_cond_timedwait(&p.cond, &p.lock, &ts);
		} else {
			pthread_cond_wait(&p.cond, &p.lock);
		}
	}
	p.stop = true;
	pthread_mutex_unlock(&p.lock);
	for (w = 0; w < c->jobs; w++)
		if (p.workers[w].started)
			pthread_join(p.workers[w].tid, NULL);
	if (!ret && c->progress)
		c->progress(c->priv, emitted, (double)p.nruns, p.nruns);
	pthread_cond_destroy(&p.cond);
	pthread_mutex_destroy(&p.lock);
	free(p.slots);
	free(p.workers);
	return ret;
}
