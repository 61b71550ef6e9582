/* SPDX-License-Identifier: MIT */
/* Lazy registration of threads with liburcu (memb flavour). */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rcu_int.h"

static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;
/* Initial-exec: every read-side lock asks; a read is one instruction. */
static _Thread_local int registered __attribute__((tls_model("initial-exec")));
_Thread_local unsigned ims_rcu_solo_depth __attribute__((tls_model("initial-exec")));

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
	int ret = pthread_key_create(&exit_key, thread_exit);

	/* Without the key a registered thread could not unregister at exit and
	 * liburcu would keep a reader in freed thread storage: stop instead.
	 * (Only a process out of keys, PTHREAD_KEYS_MAX, or memory gets here.) */
	if (ret) {
		fprintf(stderr, "libiommusim: cannot create the RCU exit key: %s\n", strerror(ret));
		abort();
	}
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
	if (pthread_setspecific(exit_key, &registered)) {
		/* As above: unregister now rather than leave a stale reader. */
		urcu_memb_unregister_thread();
		registered = 0;
		fprintf(stderr, "libiommusim: cannot set the RCU exit key (out of memory)\n");
		abort();
	}
}
