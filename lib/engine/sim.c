/* SPDX-License-Identifier: MIT */
/*
 * The discrete-event engine (docs/model.md): seeded xoshiro256** streams,
 * events ordered by (time, id) in FIFO lanes and a radix heap with O(1)
 * cancel, FCFS servers with N slots, and simulated CPUs that run one work
 * item at a time.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <iommusim/sim.h>

#include "base/mem_int.h"
#include "engine/sim_int.h"
#include "base/util_int.h"

__extension__ typedef unsigned __int128 u128;

/* ---- random streams ---------------------------------------------------- */

#define GOLDEN UINT64_C(0x9e3779b97f4a7c15)

/* The splitmix64 output function (Steele, Lea, Flood; Vigna's splitmix64.c). */
static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t
splitmix64_next(uint64_t *x)
{
	*x += GOLDEN;
	return mix64(*x);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/*
 * The splitmix64 generator starts from the seed with the stream hashed into
 * it (a different stream lands on an unrelated point of splitmix's sequence),
 * and its next four outputs are the xoshiro state. splitmix64 is a bijection
 * of its counter, so the four outputs are never all zero.
 */
void
iommusim_rng_seed(struct iommusim_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x;
	unsigned i;

	if (!r)
		return;
	x = seed ^ mix64(stream + GOLDEN);
	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64_next(&x);
}

/* xoshiro256** 1.0 (Blackman, Vigna). */
uint64_t
iommusim_rng_next(struct iommusim_rng *r)
{
	uint64_t result, t;

	if (!r)
		return 0;
	result = rotl(r->s[1] * 5, 7) * 9;
	t = r->s[1] << 17;
	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rotl(r->s[3], 45);
	return result;
}

/*
 * Lemire's multiply-and-shift: the high word of x * n, redrawing when the low
 * word falls in the 2^64 mod n values that would make some results more
 * likely than others.
 */
uint64_t
iommusim_rng_below(struct iommusim_rng *r, uint64_t n)
{
	u128 m;
	uint64_t lo, threshold;

	if (!r || !n)
		return 0;
	m = (u128)iommusim_rng_next(r) * n;
	lo = (uint64_t)m;
	if (lo < n) {
		threshold = -n % n; /* 2^64 mod n */
		while (lo < threshold) {
			m = (u128)iommusim_rng_next(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

double
iommusim_rng_double(struct iommusim_rng *r)
{
	return (double)(iommusim_rng_next(r) >> 11) * 0x1.0p-53;
}

/* ---- the engine -------------------------------------------------------- */

/*
 * Events. Pending events wait in a radix heap (Ahuja, Mehlhorn, Orlin and
 * Tarjan, "Faster algorithms for the shortest path problem", J. ACM 1990):
 * simulated time never goes back, so every event is at or after the last one
 * taken out (base). Bucket 0 holds the events at base itself; bucket b >= 1
 * those whose time first differs from base in bit b - 1. Scheduling appends
 * to a bucket in O(1); when bucket 0 is empty, the lowest non-empty bucket's
 * least time becomes the new base and its events move to strictly lower
 * buckets, so an event moves at most 64 times in its life whatever the number
 * pending: the cost follows the spread of times, not the count.
 *
 * Each bucket is a doubly linked list of records in schedule order, so each
 * is sorted by id (a bucket is only refilled from a higher one while it is
 * empty, in order), and bucket 0, all of one time, is in (time, id) order:
 * same-time events run in the order they were scheduled. ids are the schedule
 * sequence numbers (1, 2, ...). Only the events whose id was asked for can be
 * cancelled; those are also in an open-addressing hash (linear probing,
 * backward-shift deletion, load <= 1/2) from id to record. Records live in
 * one array (a free list threads the unused ones) that doubles when full.
 *
 * Most events never reach the heap: a callback whose events are scheduled in
 * time order (a device's completions, a timer re-armed with one delay) gets a
 * lane, a list like a bucket that is only appended to, so it stays in (time,
 * id) order. An event goes to its callback's lane (the slot the callback's
 * address hashes to) when the lane is free or its last event is no later,
 * else to the heap; the next event is the earlier of the lanes' first events
 * and the heap's.
 */
struct ev_rec {
	uint64_t time;
	uint64_t id; /* 0: free */
	void (*fn)(struct iommusim_sim *sim, void *priv);
	void *priv;
	uint32_t next; /* the bucket's list, or the free list */
	uint32_t prev;
	uint8_t bucket;
	bool hashed; /* cancellable: in the id hash */
};

#define NO_REC UINT32_MAX
#define EV_BUCKETS 65u
#define EV_LANES 8u /* power of two */
#define EV_LISTS (EV_BUCKETS + EV_LANES) /* the buckets, then the lanes */
#define EV_CAP_MIN 64u
#define EV_CAP_MAX (UINT32_C(1) << 30)

struct cpu {
	struct iommusim_sim *sim;
	uint64_t time; /* the item's clock; after the item, when it ended */
	enum iommusim_cost cost; /* what delay_ns charges to */
	bool running;
	struct iommusim_cpu_stats st;
};

/*
 * A server's slots as a multiset of free times, kept sorted in a ring: the
 * head is the earliest free. Which slot serves a job never shows (only its
 * start and finish do), so slots need no identity. A job's new free time goes
 * in from the tail: with a constant service time and arrivals in time order it
 * is the latest and lands at the tail at once (a FIFO), and in general it
 * passes only the slots that free later than it.
 */
struct iommusim_server {
	struct iommusim_server *next; /* the engine's list */
	char *name;
	unsigned nslots;
	unsigned head; /* ring index of the earliest free slot */
	unsigned mask; /* ring size - 1; the ring is a power of two >= nslots */
	struct iommusim_server_stats st;
	uint64_t free_at[]; /* sorted from head, nslots long */
};

struct iommusim_sim {
	uint64_t now;
	uint64_t num, den; /* cycles per ns = num / den, reduced */
	/* The conversions' divisions by 2 den and 2 num, without a divide, for
	 * the values whose rounded product fits 64 bits (at most these). */
	struct ims_divider by_2den, by_2num;
	uint64_t ns_fast_max, cycles_fast_max;
	uint64_t seed;
	uint64_t next_id;
	uint64_t misuse;
	bool stop; /* iommusim_sim_stop(): the running run returns */

	/* the radix heap */
	uint64_t base; /* time of bucket 0; <= now, and <= every pending event */
	uint64_t nonempty; /* bit b - 1 set: bucket b >= 1 has events */
	uint32_t head[EV_LISTS], tail[EV_LISTS];
	uint64_t least[EV_BUCKETS]; /* see ev_next() */
	/* the lanes: FIFOs of one callback's events in time order */
	void (*lane_fn[EV_LANES])(struct iommusim_sim *sim, void *priv);
	unsigned lanes_busy; /* bit k set: lane k has events */
	uint64_t npending;
	void *ev_mem;
	struct ev_rec *recs;
	uint32_t *hash; /* record index + 1; 0 = empty */
	uint32_t cap; /* records; hash has 2 * cap slots */
	uint32_t free_rec;

	struct iommusim_server *servers;
	unsigned ncpus;
	struct cpu cpus[];
};

const char *
iommusim_cost_name(enum iommusim_cost c)
{
	static const char *const names[IOMMUSIM_COST_NR] = {
		[IOMMUSIM_COST_IO] = "io",
		[IOMMUSIM_COST_ALLOC] = "alloc",
		[IOMMUSIM_COST_PTE] = "pte",
		[IOMMUSIM_COST_MAP_SYNC] = "map_sync",
		[IOMMUSIM_COST_UNMAP_SYNC] = "unmap_sync",
		[IOMMUSIM_COST_FLUSH] = "flush",
		[IOMMUSIM_COST_QUEUE] = "queue",
		[IOMMUSIM_COST_COPY] = "copy",
		[IOMMUSIM_COST_OTHER] = "other",
	};

	return (unsigned)c < IOMMUSIM_COST_NR ? names[c] : "?";
}

static uint64_t
gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * The clock as an exact fraction, so that conversions of large times are
 * exact: clocks are written in decimal (5.2, 3.0, 2.45), so the first power
 * of ten up to 10^9 that makes the double an integer (to well within its
 * precision) gives the fraction; anything else is rounded to 10^-9 GHz.
 */
IMS_NODISCARD static int
clock_ratio(double ghz, uint64_t *num, uint64_t *den)
{
	long double x;
	uint64_t d = 1, n, g;
	unsigned k;

	if (!(ghz >= IOMMUSIM_SIM_CLOCK_GHZ_MIN &&
	      ghz <= IOMMUSIM_SIM_CLOCK_GHZ_MAX)) /* also NaN */
		return -EINVAL;
	for (k = 0; k <= 9; k++, d *= 10) {
		x = (long double)ghz * (long double)d;
		if (fabsl(x - roundl(x)) <= x * 1e-12L)
			break;
	}
	if (k > 9)
		d = 1000000000u;
	n = (uint64_t)llroundl((long double)ghz * (long double)d);
	g = gcd64(n, d);
	*num = n / g;
	*den = d / g;
	return 0;
}

int
iommusim_sim_create(const struct iommusim_sim_cfg *cfg, struct iommusim_sim **out)
{
	struct iommusim_sim *sim;
	uint64_t num, den;
	unsigned ncpus, i;

	if (!cfg || !out || cfg->ncpus > 4096 || !IMS_RESERVED_ZERO(cfg, reserved0))
		return -EINVAL;
	if (cfg->clock_ghz == 0) {
		num = 26;
		den = 5;
	} else if (clock_ratio(cfg->clock_ghz, &num, &den) < 0) {
		return -EINVAL;
	}
	ncpus = cfg->ncpus ? cfg->ncpus : 1;
	sim = ims_zalloc(sizeof(*sim) + (size_t)ncpus * sizeof(sim->cpus[0]));
	if (!sim)
		return -ENOMEM;
	sim->num = num;
	sim->den = den;
	ims_divider_init(&sim->by_2den, 2 * den);
	ims_divider_init(&sim->by_2num, 2 * num);
	sim->ns_fast_max = (UINT64_MAX - den) / (2 * num);
	sim->cycles_fast_max = (UINT64_MAX - num) / (2 * den);
	sim->seed = cfg->seed;
	sim->next_id = 1;
	sim->free_rec = NO_REC;
	for (i = 0; i < EV_LISTS; i++)
		sim->head[i] = sim->tail[i] = NO_REC;
	for (i = 0; i < EV_BUCKETS; i++)
		sim->least[i] = UINT64_MAX;
	sim->ncpus = ncpus;
	for (i = 0; i < ncpus; i++) {
		sim->cpus[i].sim = sim;
		sim->cpus[i].cost = IOMMUSIM_COST_OTHER;
	}
	*out = sim;
	return 0;
}

void
iommusim_sim_destroy(struct iommusim_sim *sim)
{
	struct iommusim_server *s, *next;

	if (!sim)
		return;
	for (s = sim->servers; s; s = next) {
		next = s->next;
		ims_free(s->name);
		ims_free(s);
	}
	ims_free(sim->ev_mem);
	ims_free(sim);
}

uint64_t
iommusim_sim_now(const struct iommusim_sim *sim)
{
	return sim ? sim->now : 0;
}

static uint64_t
sat64(u128 v)
{
	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

/* round(ns * num / den), halves up; num < 2^50 and den <= 10^9, so no overflow in
 * 128 bits, and none in 64 up to ns_fast_max. */
uint64_t
iommusim_sim_ns_to_cycles(const struct iommusim_sim *sim, uint64_t ns)
{
	if (!sim)
		return 0;
	if (ns <= sim->ns_fast_max)
		return ims_divide(&sim->by_2den, ns * sim->num * 2 + sim->den);
	return sat64(((u128)ns * sim->num * 2 + sim->den) / ((u128)sim->den * 2));
}

uint64_t
iommusim_sim_cycles_to_ns(const struct iommusim_sim *sim, uint64_t cycles)
{
	if (!sim)
		return 0;
	if (cycles <= sim->cycles_fast_max)
		return ims_divide(&sim->by_2num, cycles * sim->den * 2 + sim->num);
	return sat64(((u128)cycles * sim->den * 2 + sim->num) / ((u128)sim->num * 2));
}

void
iommusim_sim_rng(const struct iommusim_sim *sim, uint64_t stream, struct iommusim_rng *r)
{
	if (sim)
		iommusim_rng_seed(r, sim->seed, stream);
}

uint64_t
ims_sim_misuse(const struct iommusim_sim *sim)
{
	return sim->misuse;
}

void
ims_sim_clock_ratio(const struct iommusim_sim *sim, uint64_t *num, uint64_t *den)
{
	*num = sim->num;
	*den = sim->den;
}

/* ---- events ------------------------------------------------------------ */

static inline unsigned
ev_bucket(const struct iommusim_sim *sim, uint64_t time)
{
	return ims_fls64(time ^ sim->base);
}

/* Append record @r to the tail of list @b (a bucket or a lane). */
static inline void
ev_link(struct iommusim_sim *sim, uint32_t r, unsigned b)
{
	struct ev_rec *rec = &sim->recs[r];
	uint32_t t = sim->tail[b];

	rec->bucket = (uint8_t)b;
	rec->next = NO_REC;
	rec->prev = t;
	if (t == NO_REC)
		sim->head[b] = r;
	else
		sim->recs[t].next = r;
	sim->tail[b] = r;
	if (b >= EV_BUCKETS) {
		sim->lanes_busy |= 1u << (b - EV_BUCKETS);
	} else if (b) {
		sim->nonempty |= UINT64_C(1) << (b - 1);
		sim->least[b] = IMS_MIN(sim->least[b], rec->time);
	}
}

static inline void
ev_unlink(struct iommusim_sim *sim, uint32_t r)
{
	struct ev_rec *rec = &sim->recs[r];
	unsigned b = rec->bucket;

	if (rec->prev == NO_REC)
		sim->head[b] = rec->next;
	else
		sim->recs[rec->prev].next = rec->next;
	if (rec->next == NO_REC)
		sim->tail[b] = rec->prev;
	else
		sim->recs[rec->next].prev = rec->prev;
	if (sim->head[b] != NO_REC || !b)
		return;
	if (b >= EV_BUCKETS) {
		sim->lanes_busy &= ~(1u << (b - EV_BUCKETS));
	} else {
		sim->nonempty &= ~(UINT64_C(1) << (b - 1));
		sim->least[b] = UINT64_MAX;
	}
}

static inline uint32_t
hash_home(uint64_t id, uint32_t mask)
{
	return (uint32_t)((id * GOLDEN) >> 32) & mask;
}

static void
hash_insert(uint32_t *hash, uint32_t mask, uint64_t id, uint32_t rec)
{
	uint32_t i = hash_home(id, mask);

	while (hash[i])
		i = (i + 1) & mask;
	hash[i] = rec + 1;
}

/* The hash slot of @id, or -1. */
static int64_t
hash_find(const struct iommusim_sim *sim, uint64_t id)
{
	uint32_t mask = 2 * sim->cap - 1, i;

	if (!sim->cap || !id)
		return -1;
	for (i = hash_home(id, mask); sim->hash[i]; i = (i + 1) & mask)
		if (sim->recs[sim->hash[i] - 1].id == id)
			return i;
	return -1;
}

/*
 * Empty slot @i and move later entries of its probe run back so that every
 * entry stays reachable from its home slot (Knuth's algorithm R).
 */
static void
hash_delete(struct iommusim_sim *sim, uint32_t i)
{
	uint32_t mask = 2 * sim->cap - 1, j = i;

	for (;;) {
		uint32_t home;

		j = (j + 1) & mask;
		if (!sim->hash[j])
			break;
		home = hash_home(sim->recs[sim->hash[j] - 1].id, mask);
		/* Leave entry j in place when its home lies cyclically in (i, j]. */
		if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		sim->hash[i] = sim->hash[j];
		i = j;
	}
	sim->hash[i] = 0;
}

/* Double the event storage; nothing changes on failure. */
IMS_NODISCARD static int
ev_grow(struct iommusim_sim *sim)
{
	uint32_t cap = sim->cap ? sim->cap * 2 : EV_CAP_MIN, i;
	size_t recs_sz;
	struct ev_rec *recs;
	uint32_t *hash;
	char *mem;

	if (cap > EV_CAP_MAX)
		return -ENOMEM;
	recs_sz = (size_t)cap * sizeof(*recs);
	mem = ims_zalloc(recs_sz + 2 * (size_t)cap * sizeof(*hash));
	if (!mem)
		return -ENOMEM;
	recs = (struct ev_rec *)(void *)mem;
	hash = (uint32_t *)(void *)(mem + recs_sz);

	/* Growth happens only when every record is in use; the lists link
	 * by index, so they survive the move. */
	ims_assert(sim->npending == sim->cap && sim->free_rec == NO_REC);
	if (sim->cap)
		memcpy(recs, sim->recs, (size_t)sim->cap * sizeof(*recs));
	for (i = sim->cap; i < cap; i++)
		recs[i].next = i + 1 < cap ? i + 1 : NO_REC;
	for (i = 0; i < sim->cap; i++)
		if (recs[i].hashed)
			hash_insert(hash, 2 * cap - 1, recs[i].id, i);
	ims_free(sim->ev_mem);
	sim->ev_mem = mem;
	sim->recs = recs;
	sim->hash = hash;
	sim->free_rec = sim->cap;
	sim->cap = cap;
	return 0;
}

/*
 * Where an event of @fn at @at goes: its callback's lane if the lane is free
 * or ends at or before @at, else the radix heap (at >= now >= base: the
 * heap's one condition). The lane of a callback is the slot its address
 * hashes to; a lane that empties is free for another callback.
 */
static inline unsigned
ev_list(struct iommusim_sim *sim, void (*fn)(struct iommusim_sim *, void *), uint64_t at)
{
	unsigned k = (unsigned)(((uintptr_t)fn * GOLDEN) >> 32) & (EV_LANES - 1);
	uint32_t t = sim->tail[EV_BUCKETS + k];

	if (t == NO_REC) {
		sim->lane_fn[k] = fn;
		return EV_BUCKETS + k;
	}
	if (sim->lane_fn[k] == fn && sim->recs[t].time <= at)
		return EV_BUCKETS + k;
	return ev_bucket(sim, at);
}

int
iommusim_sim_schedule(struct iommusim_sim *sim, uint64_t at,
		      void (*fn)(struct iommusim_sim *sim, void *priv), void *priv,
		      uint64_t *id_out)
{
	struct ev_rec *rec;
	uint32_t r;
	int ret;

	if (!sim || !fn || at < sim->now)
		return -EINVAL;
	if (sim->free_rec == NO_REC) {
		ret = ev_grow(sim);
		if (ret < 0)
			return ret;
	}
	r = sim->free_rec;
	rec = &sim->recs[r];
	sim->free_rec = rec->next;
	rec->time = at;
	rec->fn = fn;
	rec->priv = priv;
	rec->id = sim->next_id++;
	rec->hashed = id_out != NULL;
	if (id_out) {
		hash_insert(sim->hash, 2 * sim->cap - 1, rec->id, r);
		*id_out = rec->id;
	}
	ev_link(sim, r, ev_list(sim, fn, at));
	sim->npending++;
	return 0;
}

/* Return unlinked record @r to the free list (and take it out of the hash). */
static void
ev_free(struct iommusim_sim *sim, uint32_t r, int64_t h)
{
	struct ev_rec *rec = &sim->recs[r];

	if (rec->hashed) {
		if (h < 0)
			h = hash_find(sim, rec->id);
		ims_assert(h >= 0);
		hash_delete(sim, (uint32_t)h);
	}
	rec->id = 0;
	rec->hashed = false;
	rec->fn = NULL;
	rec->priv = NULL;
	rec->next = sim->free_rec;
	sim->free_rec = r;
	sim->npending--;
}

int
iommusim_sim_cancel(struct iommusim_sim *sim, uint64_t id)
{
	int64_t h;
	uint32_t r;

	if (!sim)
		return -ENOENT;
	h = hash_find(sim, id);
	if (h < 0)
		return -ENOENT;
	r = sim->hash[h] - 1;
	ev_unlink(sim, r);
	ev_free(sim, r, h);
	return 0;
}

/* (time, id) order. */
static inline bool
ev_before(const struct iommusim_sim *sim, uint32_t a, uint32_t b)
{
	const struct ev_rec *x = &sim->recs[a], *y = &sim->recs[b];

	return x->time < y->time || (x->time == y->time && x->id < y->id);
}

/* The earliest of the lanes' first events, or NO_REC. */
static inline uint32_t
ev_lanes_first(const struct iommusim_sim *sim)
{
	uint32_t best = NO_REC;
	unsigned busy = sim->lanes_busy;

	while (busy) {
		unsigned k = (unsigned)__builtin_ctz(busy);
		uint32_t r = sim->head[EV_BUCKETS + k];

		if (best == NO_REC || ev_before(sim, r, best))
			best = r;
		busy &= busy - 1;
	}
	return best;
}

/*
 * The record of the next event if it is due at or before @until, else
 * NO_REC: the earlier of the lanes' first event and the heap's. While
 * bucket 0 is empty, the lowest non-empty bucket is moved down, but only
 * when it may hold the next event and a due one: base must not pass now, or
 * a later schedule between now and base would have no bucket. least[b] is
 * the least time linked into bucket b since it was last empty: a cancel can
 * leave it below every remaining event, but it was an event of the bucket
 * (it agrees with them above bit b - 2), so as the base it still moves them
 * all to lower buckets.
 */
static uint32_t
ev_next(struct iommusim_sim *sim, uint64_t until)
{
	uint32_t lane = ev_lanes_first(sim), r;

	while (sim->head[0] == NO_REC && sim->nonempty) {
		unsigned b = (unsigned)__builtin_ctzll(sim->nonempty) + 1;
		uint64_t least = sim->least[b];

		/* A lane event before every heap event, or nothing due. */
		if (least > until || (lane != NO_REC && sim->recs[lane].time < least))
			break;
		/* Every bucket below b is empty: move b's events down, in order. */
		r = sim->head[b];
		sim->head[b] = sim->tail[b] = NO_REC;
		sim->nonempty &= ~(UINT64_C(1) << (b - 1));
		sim->base = least;
		sim->least[b] = UINT64_MAX;
		while (r != NO_REC) {
			uint32_t next = sim->recs[r].next;

			ev_link(sim, r, ev_bucket(sim, sim->recs[r].time));
			r = next;
		}
	}
	r = sim->head[0];
	if (r == NO_REC || (lane != NO_REC && ev_before(sim, lane, r)))
		r = lane;
	return r != NO_REC && sim->recs[r].time <= until ? r : NO_REC;
}

int
iommusim_sim_run(struct iommusim_sim *sim, uint64_t until, uint64_t *events_out)
{
	uint64_t n = 0;
	uint32_t r;

	if (!sim)
		return -EINVAL;
	/*
	 * Callbacks may schedule (and so move the records): nothing is kept
	 * across a callback. The event is freed before it runs, so cancelling
	 * it from its own callback is -ENOENT; a nested run is harmless, since
	 * time only moves forward.
	 */
	sim->stop = false;
	while (!sim->stop && (r = ev_next(sim, until)) != NO_REC) {
		struct ev_rec *rec = &sim->recs[r];
		void (*fn)(struct iommusim_sim *, void *) = rec->fn;
		void *priv = rec->priv;

		sim->now = rec->time;
		ev_unlink(sim, r);
		ev_free(sim, r, -1);
		n++;
		fn(sim, priv);
	}
	/* A stopped run stays at the event that stopped it. */
	if (!sim->stop && until >= sim->now)
		sim->now = until;
	sim->stop = false;
	if (events_out)
		*events_out = n;
	return 0;
}

void
iommusim_sim_stop(struct iommusim_sim *sim)
{
	if (sim)
		sim->stop = true;
}

uint64_t
iommusim_sim_pending(const struct iommusim_sim *sim)
{
	return sim ? sim->npending : 0;
}

/* ---- servers ----------------------------------------------------------- */

int
iommusim_server_create(struct iommusim_sim *sim, const char *name, unsigned slots,
		       struct iommusim_server **out)
{
	struct iommusim_server *srv;
	unsigned ring;

	if (!sim || !name || !out || !slots || slots > IOMMUSIM_SERVER_MAX_SLOTS)
		return -EINVAL;
	ring = 1u << ims_order_base_2(slots);
	/* All free at 0: sorted. */
	srv = ims_zalloc(sizeof(*srv) + (size_t)ring * sizeof(srv->free_at[0]));
	if (!srv)
		return -ENOMEM;
	srv->name = ims_strdup(name);
	if (!srv->name) {
		ims_free(srv);
		return -ENOMEM;
	}
	srv->nslots = slots;
	srv->mask = ring - 1;
	srv->next = sim->servers;
	sim->servers = srv;
	*out = srv;
	return 0;
}

/*
 * The job takes the earliest-free slot (the head) and frees it at finish.
 * The ring's free place after the last slot takes finish, which moves toward
 * the head past the slots that free later: none for a FIFO, at most
 * nslots - 1 in general.
 */
uint64_t
iommusim_server_serve(struct iommusim_server *srv, uint64_t arrival, uint64_t service)
{
	uint64_t start, finish;
	unsigned head, i;

	if (!srv)
		return arrival;
	head = srv->head;
	start = IMS_MAX(arrival, srv->free_at[head]);
	finish = ims_add_sat(start, service);
	i = (head + srv->nslots) & srv->mask;
	head = (head + 1) & srv->mask;
	srv->head = head;
	while (i != head && srv->free_at[(i - 1) & srv->mask] > finish) {
		srv->free_at[i] = srv->free_at[(i - 1) & srv->mask];
		i = (i - 1) & srv->mask;
	}
	srv->free_at[i] = finish;

	srv->st.jobs++;
	srv->st.busy_cycles = ims_add_sat(srv->st.busy_cycles, service);
	srv->st.wait_cycles = ims_add_sat(srv->st.wait_cycles, start - arrival);
	srv->st.max_wait = IMS_MAX(srv->st.max_wait, start - arrival);
	srv->st.last_finish = finish;
	return finish;
}

int
iommusim_server_stats_get(const struct iommusim_server *srv, struct iommusim_server_stats *out)
{
	if (!srv || !out)
		return -EINVAL;
	*out = srv->st;
	return 0;
}

const char *
ims_server_name(const struct iommusim_server *srv)
{
	return srv->name;
}

unsigned
ims_server_slots(const struct iommusim_server *srv)
{
	return srv->nslots;
}

/* ---- CPUs -------------------------------------------------------------- */

/*
 * Misuse of the void CPU calls (no item running, bad CPU, bad cost, NULL
 * server) is a caller bug that must not crash: the call does nothing and is
 * counted in sim->misuse (ims_sim_misuse()).
 */
static struct cpu *
running_cpu(struct iommusim_sim *sim, unsigned cpu)
{
	if (!sim)
		return NULL;
	if (cpu >= sim->ncpus || !sim->cpus[cpu].running) {
		sim->misuse++;
		return NULL;
	}
	return &sim->cpus[cpu];
}

static void
cpu_charge(struct cpu *c, enum iommusim_cost cost, uint64_t cycles)
{
	c->time = ims_add_sat(c->time, cycles);
	c->st.busy_cycles = ims_add_sat(c->st.busy_cycles, cycles);
	c->st.by_cost[cost] = ims_add_sat(c->st.by_cost[cost], cycles);
}

static uint64_t
ctx_now_ns(void *priv)
{
	const struct cpu *c = priv;

	return iommusim_sim_cycles_to_ns(c->sim, c->time);
}

static void
ctx_delay_ns(void *priv, uint64_t ns)
{
	struct cpu *c = priv;

	if (!c->running) {
		c->sim->misuse++;
		return;
	}
	cpu_charge(c, c->cost, iommusim_sim_ns_to_cycles(c->sim, ns));
}

static const struct iommusim_ctx_ops cpu_ctx_ops = {
	.now_ns = ctx_now_ns,
	.delay_ns = ctx_delay_ns,
};

int
iommusim_sim_cpu_begin(struct iommusim_sim *sim, unsigned cpu, uint64_t at,
		       struct iommusim_ctx *ctx, uint64_t *start_out)
{
	struct cpu *c;

	if (!sim || !ctx || cpu >= sim->ncpus || sim->cpus[cpu].running)
		return -EINVAL;
	c = &sim->cpus[cpu];
	c->running = true;
	c->time = IMS_MAX(at, c->st.free_at);
	c->cost = IOMMUSIM_COST_OTHER;
	ctx->ops = &cpu_ctx_ops;
	ctx->priv = c;
	ctx->cpu = cpu;
	if (start_out)
		*start_out = c->time;
	return 0;
}

void
iommusim_sim_cpu_charge(struct iommusim_sim *sim, unsigned cpu, enum iommusim_cost cost,
			uint64_t cycles)
{
	struct cpu *c = running_cpu(sim, cpu);

	if (!c)
		return;
	if ((unsigned)cost >= IOMMUSIM_COST_NR) {
		sim->misuse++;
		return;
	}
	cpu_charge(c, cost, cycles);
}

void
iommusim_sim_cpu_set_cost(struct iommusim_sim *sim, unsigned cpu, enum iommusim_cost cost)
{
	struct cpu *c = running_cpu(sim, cpu);

	if (!c)
		return;
	if ((unsigned)cost >= IOMMUSIM_COST_NR) {
		sim->misuse++;
		return;
	}
	c->cost = cost;
}

uint64_t
iommusim_sim_cpu_wait(struct iommusim_sim *sim, unsigned cpu, struct iommusim_server *srv,
		      uint64_t service, enum iommusim_cost cost)
{
	struct cpu *c = running_cpu(sim, cpu);
	uint64_t finish;

	if (!c)
		return iommusim_sim_cpu_time(sim, cpu);
	if (!srv || (unsigned)cost >= IOMMUSIM_COST_NR) {
		sim->misuse++;
		return c->time;
	}
	finish = iommusim_server_serve(srv, c->time, service);
	cpu_charge(c, cost, finish - c->time);
	return finish;
}

uint64_t
iommusim_sim_cpu_time(const struct iommusim_sim *sim, unsigned cpu)
{
	if (!sim || cpu >= sim->ncpus)
		return 0;
	return sim->cpus[cpu].time;
}

uint64_t
iommusim_sim_cpu_end(struct iommusim_sim *sim, unsigned cpu)
{
	struct cpu *c = running_cpu(sim, cpu);

	if (!c)
		return sim && cpu < sim->ncpus ? sim->cpus[cpu].st.free_at : 0;
	c->running = false;
	c->st.free_at = c->time;
	c->st.items++;
	return c->time;
}

int
iommusim_sim_cpu_stats_get(const struct iommusim_sim *sim, unsigned cpu,
			   struct iommusim_cpu_stats *out)
{
	if (!sim || !out || cpu >= sim->ncpus)
		return -EINVAL;
	*out = sim->cpus[cpu].st;
	return 0;
}
