/* SPDX-License-Identifier: MIT */
/*
 * The ISM device model (KERNEL_SPEC §8): the registered DMBs in a sorted
 * array, checked against the range of every RPCIT the function issues.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <iommusim/ism.h>
#include <iommusim/zpci.h>

#include "base/mem_int.h"
#include "base/util_int.h"

#define PAGE_MASK (~(uint64_t)(IOMMUSIM_PAGE_SIZE - 1))

/* One DMB: bytes [iova, last] (inclusive, so a DMB may end at 2^64 - 1). */
struct dmb {
	uint64_t iova, last, token;
};

struct iommusim_ism {
	struct iommusim_zpci_fn *fn;
	pthread_mutex_t lock; /* everything below */
	struct dmb *dmbs; /* sorted by iova, pairwise disjoint */
	size_t ndmbs, cap;
	uint64_t next_token;
	uint64_t dmb_bytes;
	bool in_error;
	struct iommusim_ism_event *events;
	size_t nevents, ev_cap;
	uint64_t rpcits_seen, bytes_inspected, nevents_total;
};

/* Read-only calls still lock; models are never const objects. */
static inline pthread_mutex_t *
ism_lock(const struct iommusim_ism *ism)
{
	return (pthread_mutex_t *)(uintptr_t)&ism->lock;
}

/* Index of the first DMB whose last byte is >= @iova (ndmbs if none);
 * the caller holds the lock. */
static size_t
first_ending_at_or_after(const struct iommusim_ism *ism, uint64_t iova)
{
	size_t lo = 0, hi = ism->ndmbs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ism->dmbs[mid].last < iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Append an event, or only count it once the log is full (or cannot grow). */
static void
log_event(struct iommusim_ism *ism, const struct iommusim_ism_event *ev)
{
	ism->nevents_total++;
	if (ism->nevents == IOMMUSIM_ISM_EVENT_LOG_MAX)
		return;
	if (ism->nevents == ism->ev_cap) {
		size_t cap =
			ism->ev_cap ? IMS_MIN(2 * ism->ev_cap, IOMMUSIM_ISM_EVENT_LOG_MAX) : 16;
		struct iommusim_ism_event *evs = ims_zalloc(cap * sizeof(*evs));

		if (!evs)
			return;
		if (ism->nevents)
			memcpy(evs, ism->events, ism->nevents * sizeof(*evs));
		ims_free(ism->events);
		ism->events = evs;
		ism->ev_cap = cap;
	}
	ism->events[ism->nevents++] = *ev;
}

/* Inclusive last byte of [start, start + len), saturating; len > 0. */
static inline uint64_t
last_of(uint64_t start, uint64_t len)
{
	return len - 1 > UINT64_MAX - start ? UINT64_MAX : start + (len - 1);
}

/*
 * §8: the device walks the tables over the RPCIT's range when the RPCIT is
 * issued, so what counts is the range, not the outcome: the check ignores
 * r->cc (a refused RPCIT was still seen by the device). In-use bytes inside
 * the range expose the device, except those being mapped by this very
 * sync_map (or its -ENOMEM recovery, which covers the new range too, §3.6).
 */
static void
ism_rpcit(void *priv, struct iommusim_zpci_fn *fn, const struct iommusim_rpcit *r)
{
	struct iommusim_ism *ism = priv;
	struct iommusim_ism_event ev;
	uint64_t last, m_first = 1, m_last = 0, exposed = 0, low = 0, token = 0;
	bool found = false;
	size_t i;

	(void)fn;
	pthread_mutex_lock(&ism->lock);
	ism->rpcits_seen++;
	ism->bytes_inspected += r->range;
	if (r->range == 0)
		goto out;
	last = last_of(r->addr, r->range);
	if (r->map_len &&
	    (r->reason == IOMMUSIM_RPCIT_SYNC_MAP || r->reason == IOMMUSIM_RPCIT_ENOMEM_RECOVERY)) {
		m_first = r->map_iova;
		m_last = last_of(r->map_iova, r->map_len);
	}
	for (i = first_ending_at_or_after(ism, r->addr); i < ism->ndmbs; i++) {
		const struct dmb *d = &ism->dmbs[i];
		uint64_t lo, hi, pieces[2][2];
		unsigned np = 0, k;

		if (d->iova > last)
			break;
		lo = IMS_MAX(d->iova, r->addr);
		hi = IMS_MIN(d->last, last);
		/* [lo, hi] minus [m_first, m_last]: up to two pieces */
		if (m_first > m_last || m_last < lo || m_first > hi) {
			pieces[np][0] = lo;
			pieces[np++][1] = hi;
		} else {
			if (m_first > lo) {
				pieces[np][0] = lo;
				pieces[np++][1] = m_first - 1;
			}
			if (m_last < hi) {
				pieces[np][0] = m_last + 1;
				pieces[np++][1] = hi;
			}
		}
		for (k = 0; k < np; k++) {
			exposed += pieces[k][1] - pieces[k][0] + 1;
			if (!found) {
				found = true;
				low = pieces[k][0];
				token = d->token;
			}
		}
	}
	if (found) {
		ism->in_error = true;
		memset(&ev, 0, sizeof(ev));
		ev.time_ns = r->time_ns;
		ev.cpu = r->cpu;
		ev.rpcit_addr = r->addr;
		ev.rpcit_len = r->range;
		ev.reason = r->reason;
		ev.iova = low & PAGE_MASK;
		ev.dmb_token = token;
		ev.exposed_bytes = exposed;
		log_event(ism, &ev);
	}
out:
	pthread_mutex_unlock(&ism->lock);
}

static const struct iommusim_zpci_observer_ops ism_observer_ops = {
	.rpcit = ism_rpcit,
};

int
iommusim_ism_create(struct iommusim_zpci_fn *fn, struct iommusim_ism **out)
{
	struct iommusim_zpci_fn_info info;
	struct iommusim_ism *ism;
	int ret;

	if (!fn || !out)
		return -EINVAL;
	ret = iommusim_zpci_fn_info_get(fn, &info);
	if (ret < 0)
		return ret;
	if (!info.is_ism)
		return -EINVAL;
	ism = ims_zalloc(sizeof(*ism));
	if (!ism)
		return -ENOMEM;
	ret = pthread_mutex_init(&ism->lock, NULL);
	if (ret) {
		ret = ret == EAGAIN ? -ENOMEM : -ret;
		goto err_free;
	}
	ism->fn = fn;
	ism->next_token = 1;
	ret = iommusim_zpci_fn_observer_set(fn, &ism_observer_ops, ism);
	if (ret < 0)
		goto err_mutex;
	*out = ism;
	return 0;
err_mutex:
	pthread_mutex_destroy(&ism->lock);
err_free:
	ims_free(ism);
	return ret;
}

void
iommusim_ism_destroy(struct iommusim_ism *ism)
{
	if (!ism)
		return;
	/* returns only once no callback into this model is running */
	/* Clearing the observer of our own function cannot fail. */
	IMS_IGNORE(iommusim_zpci_fn_observer_set(ism->fn, NULL, NULL));
	pthread_mutex_destroy(&ism->lock);
	ims_free(ism->dmbs);
	ims_free(ism->events);
	ims_free(ism);
}

int
iommusim_ism_dmb_register(struct iommusim_ism *ism, uint64_t iova, uint64_t len,
			  uint64_t *token_out)
{
	uint64_t last;
	size_t pos;
	int ret = 0;

	if (!ism || !token_out || len == 0 || len - 1 > UINT64_MAX - iova)
		return -EINVAL;
	last = iova + (len - 1);
	pthread_mutex_lock(&ism->lock);
	pos = first_ending_at_or_after(ism, iova);
	if (pos < ism->ndmbs && ism->dmbs[pos].iova <= last) {
		ret = -EEXIST;
		goto out;
	}
	if (ism->ndmbs == ism->cap) {
		size_t cap = ism->cap ? 2 * ism->cap : 16;
		struct dmb *d = ims_zalloc(cap * sizeof(*d));

		if (!d) {
			ret = -ENOMEM;
			goto out;
		}
		if (ism->ndmbs)
			memcpy(d, ism->dmbs, ism->ndmbs * sizeof(*d));
		ims_free(ism->dmbs);
		ism->dmbs = d;
		ism->cap = cap;
	}
	memmove(&ism->dmbs[pos + 1], &ism->dmbs[pos], (ism->ndmbs - pos) * sizeof(*ism->dmbs));
	ism->dmbs[pos] = (struct dmb){ .iova = iova, .last = last, .token = ism->next_token++ };
	ism->ndmbs++;
	ism->dmb_bytes += len;
	*token_out = ism->dmbs[pos].token;
out:
	pthread_mutex_unlock(&ism->lock);
	return ret;
}

int
iommusim_ism_dmb_unregister(struct iommusim_ism *ism, uint64_t token)
{
	size_t i;
	int ret = -ENOENT;

	if (!ism)
		return -EINVAL;
	pthread_mutex_lock(&ism->lock);
	/* tokens are not ordered by address: a linear scan (DMBs are few) */
	for (i = 0; i < ism->ndmbs; i++) {
		if (ism->dmbs[i].token != token)
			continue;
		ism->dmb_bytes -= ism->dmbs[i].last - ism->dmbs[i].iova + 1;
		memmove(&ism->dmbs[i], &ism->dmbs[i + 1],
			(ism->ndmbs - i - 1) * sizeof(*ism->dmbs));
		ism->ndmbs--;
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&ism->lock);
	return ret;
}

bool
iommusim_ism_iova_in_use(const struct iommusim_ism *ism, uint64_t iova)
{
	size_t pos;
	bool in;

	if (!ism)
		return false;
	pthread_mutex_lock(ism_lock(ism));
	pos = first_ending_at_or_after(ism, iova);
	in = pos < ism->ndmbs && ism->dmbs[pos].iova <= iova;
	pthread_mutex_unlock(ism_lock(ism));
	return in;
}

bool
iommusim_ism_in_error(const struct iommusim_ism *ism)
{
	bool e;

	if (!ism)
		return false;
	pthread_mutex_lock(ism_lock(ism));
	e = ism->in_error;
	pthread_mutex_unlock(ism_lock(ism));
	return e;
}

void
iommusim_ism_reset(struct iommusim_ism *ism)
{
	if (!ism)
		return;
	pthread_mutex_lock(&ism->lock);
	ism->in_error = false;
	ism->nevents = 0;
	pthread_mutex_unlock(&ism->lock);
}

size_t
iommusim_ism_nevents(const struct iommusim_ism *ism)
{
	size_t n;

	if (!ism)
		return 0;
	pthread_mutex_lock(ism_lock(ism));
	n = ism->nevents;
	pthread_mutex_unlock(ism_lock(ism));
	return n;
}

int
iommusim_ism_event_get(const struct iommusim_ism *ism, size_t i, struct iommusim_ism_event *out)
{
	int ret = 0;

	if (!ism || !out)
		return -EINVAL;
	pthread_mutex_lock(ism_lock(ism));
	if (i < ism->nevents)
		*out = ism->events[i];
	else
		ret = -ENOENT;
	pthread_mutex_unlock(ism_lock(ism));
	return ret;
}

int
iommusim_ism_stats_get(const struct iommusim_ism *ism, struct iommusim_ism_stats *out)
{
	struct iommusim_ism_stats st;

	if (!ism || !out)
		return -EINVAL;
	memset(&st, 0, sizeof(st));
	pthread_mutex_lock(ism_lock(ism));
	st.rpcits_seen = ism->rpcits_seen;
	st.bytes_inspected = ism->bytes_inspected;
	st.events = ism->nevents_total;
	st.dmbs = ism->ndmbs;
	st.dmb_bytes = ism->dmb_bytes;
	pthread_mutex_unlock(ism_lock(ism));
	*out = st;
	return 0;
}
