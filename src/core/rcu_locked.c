/* SPDX-License-Identifier: MIT */
/*
 * RCU for the ThreadSanitizer build (see rcu.h), made of mutexes and C11
 * atomics that TSan models.  Each reading thread owns a counter, odd while
 * it is inside a read section; a grace period waits until every counter
 * seen odd has moved on.  (An rwlock would do the same job, but TSan then
 * reports every chip lock taken inside a read section, and every read
 * section entered under a chip lock, as a lock-order inversion, although
 * readers never block readers.)  Callbacks run on a reclaim thread, as
 * liburcu's call_rcu thread does, so call_rcu is safe in a read section.
 */
#ifdef VIRQ_RCU_LOCKED

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "rcu.h"

struct reader {
	unsigned long ctr; /* atomic: odd inside a read section */
	struct reader *next;
};

/* registry of reading threads: guarded by readers_lock */
static pthread_mutex_t readers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct reader *readers;
static pthread_key_t reader_key;
static pthread_once_t reader_once = PTHREAD_ONCE_INIT;

static _Thread_local struct reader *me;
static _Thread_local unsigned read_depth;

/* reclaim queue: guarded by cb_lock */
static pthread_mutex_t cb_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cb_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t cb_done_cond = PTHREAD_COND_INITIALIZER;
static struct virq_rcu_head *cb_list;
static bool cb_thread_started;
static uint64_t cb_queued; /* callbacks ever queued */
static uint64_t cb_done;   /* callbacks ever run: a barrier waits for its count */

static void reader_exit(void *arg)
{
	struct reader *r = arg, **pp;

	pthread_mutex_lock(&readers_lock);
	for (pp = &readers; *pp && *pp != r; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = r->next;
	pthread_mutex_unlock(&readers_lock);
	free(r);
}

static void reader_key_init(void)
{
	pthread_key_create(&reader_key, reader_exit);
}

static void reader_register(void)
{
	struct reader *r = calloc(1, sizeof(*r));

	if (!r)
		abort();
	pthread_once(&reader_once, reader_key_init);
	pthread_setspecific(reader_key, r);
	pthread_mutex_lock(&readers_lock);
	r->next = readers;
	readers = r;
	pthread_mutex_unlock(&readers_lock);
	me = r;
}

void virq_rcu_read_lock(void)
{
	if (read_depth++)
		return;
	if (!me)
		reader_register();
	/* seq_cst: the mark must be visible before the section's loads */
	__atomic_store_n(&me->ctr, me->ctr + 1, __ATOMIC_SEQ_CST);
}

void virq_rcu_read_unlock(void)
{
	if (--read_depth)
		return;
	__atomic_store_n(&me->ctr, me->ctr + 1, __ATOMIC_RELEASE);
}

int virq_rcu_read_ongoing(void)
{
	return read_depth > 0;
}

void virq_synchronize_rcu(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	pthread_mutex_lock(&readers_lock);
	for (struct reader *r = readers; r; r = r->next) {
		unsigned long c = __atomic_load_n(&r->ctr, __ATOMIC_SEQ_CST);

		if (!(c & 1))
			continue;
		while (__atomic_load_n(&r->ctr, __ATOMIC_ACQUIRE) == c)
			sched_yield();
	}
	pthread_mutex_unlock(&readers_lock);
}

static void *reclaim_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cb_lock);
	for (;;) {
		struct virq_rcu_head *list;
		uint64_t upto;

		while (!cb_list)
			pthread_cond_wait(&cb_cond, &cb_lock);
		list = cb_list;
		cb_list = NULL;
		upto = cb_queued;
		pthread_mutex_unlock(&cb_lock);

		virq_synchronize_rcu();
		while (list) {
			struct virq_rcu_head *next = list->next;

			list->func(list);
			list = next;
		}

		pthread_mutex_lock(&cb_lock);
		cb_done = upto;
		pthread_cond_broadcast(&cb_done_cond);
	}
	return NULL;
}

void virq_call_rcu(struct virq_rcu_head *head, void (*func)(struct virq_rcu_head *head))
{
	head->func = func;
	pthread_mutex_lock(&cb_lock);
	if (!cb_thread_started) {
		pthread_t t;
		pthread_attr_t attr;

		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&t, &attr, reclaim_thread, NULL) == 0)
			cb_thread_started = true;
		pthread_attr_destroy(&attr);
	}
	if (!cb_thread_started && read_depth == 0) {
		/* No thread: reclaim inline, legal outside read sections.
		 * Inside one the callback waits for a later call. */
		pthread_mutex_unlock(&cb_lock);
		virq_synchronize_rcu();
		func(head);
		return;
	}
	head->next = cb_list;
	cb_list = head;
	cb_queued++;
	pthread_cond_signal(&cb_cond);
	pthread_mutex_unlock(&cb_lock);
}

/* Wait for the callbacks queued before the call, not for later ones. */
void virq_rcu_barrier(void)
{
	uint64_t want;

	pthread_mutex_lock(&cb_lock);
	want = cb_queued;
	while (cb_thread_started && cb_done < want)
		pthread_cond_wait(&cb_done_cond, &cb_lock);
	pthread_mutex_unlock(&cb_lock);
}

#endif
