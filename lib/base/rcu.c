/* SPDX-License-Identifier: MIT */
/* Lazy registration of threads with liburcu (memb flavour). */
#include "config.h"

#include <pthread.h>

#include "base/rcu_int.h"

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
static _Thread_local int registered;

static void
thread_exit(void *unused)
{
	(void)unused;
	if (registered) {
		urcu_memb_unregister_thread();
		registered = 0;
	}
}

static void
make_exit_key(void)
{
	(void)pthread_key_create(&exit_key, thread_exit);
}

void
ims_rcu_thread_online(void)
{
	if (__builtin_expect(registered, 1))
		return;
	pthread_once(&exit_key_once, make_exit_key);
	urcu_memb_register_thread();
	registered = 1;
	/* A non-NULL value makes the destructor run at thread exit. */
	(void)pthread_setspecific(exit_key, &registered);
}
