/* SPDX-License-Identifier: MIT */
/*
 * RCU for the library: liburcu's memb flavour, with threads registered on
 * their first read-side section (and unregistered when they exit), so that
 * callers never have to remember to.
 */
#ifndef IMS_RCU_INT_H
#define IMS_RCU_INT_H

#include <urcu/urcu-memb.h>

#include "base/util_int.h"

/* Register the calling thread with liburcu unless it already is. */
void ims_rcu_thread_online(void);

/*
 * Read-side sections guard objects against another thread's updates. In
 * solo mode (base/util_int.h) no other thread can see the objects, and the
 * library frees only through ims_rcu_synchronize() on the updating thread
 * itself (never call_rcu), so a section there is skipped: liburcu's lock and
 * unlock, and the thread-local lookups they make, were some 4% of a run.
 * Solo mode changes only outside sections; ims_rcu_solo_depth counts the
 * skipped ones, and an unlock of the other kind than its lock stops the
 * program rather than leave a reader registered or unbalanced.
 */
extern _Thread_local unsigned ims_rcu_solo_depth __attribute__((tls_model("initial-exec")));

static inline void
ims_rcu_read_lock(void)
{
	if (ims_solo) {
		ims_rcu_solo_depth++;
		return;
	}
	ims_rcu_thread_online();
	urcu_memb_read_lock();
}

static inline void
ims_rcu_read_unlock(void)
{
	if (ims_solo) {
		ims_assert(ims_rcu_solo_depth > 0);
		ims_rcu_solo_depth--;
		return;
	}
	ims_assert(ims_rcu_solo_depth == 0);
	urcu_memb_read_unlock();
}

/* Wait for every read-side section that started before; never from inside one. */
static inline void
ims_rcu_synchronize(void)
{
	urcu_memb_synchronize_rcu();
}

#endif /* IMS_RCU_INT_H */
