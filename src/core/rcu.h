/* SPDX-License-Identifier: MIT */
/*
 * The only place virq touches RCU.  Normal builds use liburcu's
 * "bulletproof" flavour: readers need no registration, so any VMM thread
 * may inject without telling virq about itself.
 *
 * Debian's liburcu is invisible to ThreadSanitizer (its barriers are
 * inline asm), so TSan would report races on every RCU-protected object.
 * With VIRQ_RCU_LOCKED (the TSan build) the same primitives map onto a
 * simple implementation from mutexes and C11 atomics (per-thread reader
 * counters, a reclaim thread): identical semantics, slower, and fully
 * visible to TSan (rcu_locked.c).
 */
#ifndef VIRQ_CORE_RCU_H
#define VIRQ_CORE_RCU_H

#include <stddef.h>

#ifndef VIRQ_RCU_LOCKED
#include <urcu-bp.h>

#define virq_rcu_head rcu_head
#define virq_rcu_read_lock() urcu_bp_read_lock()
#define virq_rcu_read_unlock() urcu_bp_read_unlock()
#define virq_rcu_dereference(p) rcu_dereference(p)
#define virq_rcu_assign_pointer(p, v) rcu_assign_pointer(p, v)
#define virq_call_rcu(head, fn) urcu_bp_call_rcu(head, fn)
#define virq_synchronize_rcu() urcu_bp_synchronize_rcu()
#define virq_rcu_barrier() urcu_bp_barrier()
#define virq_rcu_read_ongoing() urcu_bp_read_ongoing()

#else /* VIRQ_RCU_LOCKED */

struct virq_rcu_head {
	struct virq_rcu_head *next;
	void (*func)(struct virq_rcu_head *head);
};

void virq_rcu_read_lock(void);
void virq_rcu_read_unlock(void);
void virq_call_rcu(struct virq_rcu_head *head, void (*func)(struct virq_rcu_head *head));
void virq_synchronize_rcu(void);
void virq_rcu_barrier(void);
int virq_rcu_read_ongoing(void);

#define virq_rcu_dereference(p) __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define virq_rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)

#endif /* VIRQ_RCU_LOCKED */

#endif
