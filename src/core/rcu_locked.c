/* SPDX-License-Identifier: MIT */
/*
 * Lock-based RCU for the ThreadSanitizer build (see rcu.h).  Readers
 * share a reader-preferring rwlock, so nested read sections never wait
 * on a queued writer; a grace period is taking the lock for writing.
 * Callbacks run on a reclaim thread, as liburcu's call_rcu thread does,
 * so call_rcu is safe inside a read section.
 */
#ifdef VIRQ_RCU_LOCKED

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "rcu.h"

static pthread_rwlock_t gp_lock = PTHREAD_RWLOCK_INITIALIZER;
static _Thread_local unsigned read_depth;

/* reclaim queue: guarded by cb_lock */
static pthread_mutex_t cb_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cb_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t cb_done_cond = PTHREAD_COND_INITIALIZER;
static struct virq_rcu_head *cb_list;
static bool cb_thread_started;
static uint64_t cb_queued; /* callbacks ever queued */
static uint64_t cb_done;   /* callbacks ever run: a barrier waits for its count */

void virq_rcu_read_lock(void)
{
	if (read_depth++ == 0)
		pthread_rwlock_rdlock(&gp_lock);
}

void virq_rcu_read_unlock(void)
{
	if (--read_depth == 0)
		pthread_rwlock_unlock(&gp_lock);
}

int virq_rcu_read_ongoing(void)
{
	return read_depth > 0;
}

void virq_synchronize_rcu(void)
{
	pthread_rwlock_wrlock(&gp_lock);
	pthread_rwlock_unlock(&gp_lock);
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
