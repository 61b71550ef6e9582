/* SPDX-License-Identifier: MIT */
/*
 * RCU for the library: liburcu's memb flavour, with threads registered on
 * their first read-side section (and unregistered when they exit), so that
 * callers never have to remember to.
 */
#ifndef IMS_RCU_INT_H
#define IMS_RCU_INT_H

#include <urcu/urcu-memb.h>

/* Register the calling thread with liburcu unless it already is. */
void ims_rcu_thread_online(void);

static inline void
ims_rcu_read_lock(void)
{
	ims_rcu_thread_online();
	urcu_memb_read_lock();
}

static inline void
ims_rcu_read_unlock(void)
{
	urcu_memb_read_unlock();
}

/* Wait for every read-side section that started before; never from inside one. */
static inline void
ims_rcu_synchronize(void)
{
	urcu_memb_synchronize_rcu();
}

#endif /* IMS_RCU_INT_H */
