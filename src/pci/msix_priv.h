/* SPDX-License-Identifier: MIT */
/*
 * MSI-X internals shared by the files of src/pci (never installed):
 *   msix.c        the device type, lifetime, fire/send, Message Control,
 *                 notify, PBA get/set, stats, irqfds
 *   msix_route.c  route planning, GSI allocation and ownership, commits
 *   msix_mmio.c   table/PBA accessors, entry writes, the MMIO map
 *   msix_attr.c   attributes (save/restore) and SYNC
 *   msix_direct.c eventfds handed to an irqfd accelerator (KVM_IRQFD)
 *
 * Lock contract.
 *
 * Each vector has a mutex (vec.lock) guarding its entry, its PBA bit and
 * the decision "send or latch": a notify holds it while it sends, so a
 * mask write, which takes the same mutex, returns only when no message of
 * the vector is in flight (the guest's mask + read-back flush).  Message
 * Control is an atomic word written under the VM's configuration lock; a
 * change is followed by taking every vector's mutex in turn, which is the
 * same flush for the whole function.  Messages are sent with the vector
 * mutex held: the msi sink contract allows it (vm.h), and it is what makes
 * masking exact.
 *
 * Route work (plans, commits, GSI ownership, route_changed calls) needs
 * the configuration lock and is done with no vector mutex held; lock
 * order: config lock, then a vector mutex.  Per vector:
 *   e        vector lock.  Its message changes with the config lock held
 *            too while the vector needs a route (unmasked bit, MSI-X
 *            enabled); a masked vector's or a disabled function's message
 *            changes under the vector lock alone.
 *   gsi      config lock + vector lock (either is enough to read it).
 *   routed   "the route at gsi carries e's message": only then may the
 *            vector send; until then fires latch in the PBA.  Set true
 *            only by a route commit (config lock + vector lock, and only
 *            if e still carries the message committed); cleared under the
 *            vector lock by any message change.
 *   installed, starved: config lock.
 *   fds      changed under the config lock + vector lock; either reads it.
 * So the hot paths -- notify, mask, unmask of a routed vector, and any
 * write to a masked vector -- never take the config lock.
 *
 * Per VM, a GSI ownership registry (msix_route.c) records which GSIs
 * MSI-X vectors hold, so a device never takes, adopts or removes another
 * device's GSI; it is config-lock state.
 */
#ifndef VIRQ_PCI_MSIX_PRIV_H
#define VIRQ_PCI_MSIX_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <virq/msix.h>

#include "../core/internal.h"

#define MASKED VIRQ_MSIX_VECTOR_MASKED
#define CTRL_BITS (VIRQ_MSIX_CTRL_ENABLE | VIRQ_MSIX_CTRL_MASKALL)

/*
 * An eventfd of a vector, bound while the VM had an irqfd accelerator
 * (msix_direct.c).  Assigned (gsi valid): the accelerator delivers it to
 * the vector's route, which it may only while the vector may send.
 * Parked (gsi VIRQ_MSIX_NO_GSI): bound nowhere; its signals wait in the
 * counter until a PBA read or the vector's unmask folds them into the
 * pending bit.
 */
struct msix_fd {
	struct msix_fd *next;
	int fd;	     /* our duplicate of the caller's eventfd */
	uint64_t id; /* the eventfd's identity */
	uint32_t gsi;
	const struct irqfd_accel *accel;
};

/* A cache line or two each: vectors fired from different CPUs share none. */
struct msix_vec {
	_Alignas(64) pthread_mutex_t lock;
	struct virq_msix_entry e; /* see the lock contract above */
	uint32_t gsi;		  /* config lock + lock */
	bool routed;		  /* lock; set true under the config lock too */
	bool installed;		  /* config lock: the route at gsi is ours */
	bool starved;		  /* config lock: wants a route, got no GSI */
	struct msix_fd *fds;	  /* see the lock contract above */
	/* statistics, lock: the hot path touches no shared counter */
	uint64_t sent, latched, coalesced, pending_sent;
};

struct msix_counters {
	uint64_t dropped, route_commits, route_failures;
	uint64_t direct_moves, direct_failures;
};

struct msix_reg; /* per-VM GSI ownership (msix_route.c) */

struct msix {
	struct virq_device *dev;
	struct virq_vm *vm;
	uint32_t nr, flags, devid;
	uint32_t gsi_lo, gsi_hi; /* allocation window [lo, hi) */
	struct virq_msix_ops ops;
	void *opaque;

	uint32_t ctrl; /* atomic; written under the config lock */

	/* config lock */
	struct msix_reg *reg;
	uint32_t alloc_next;
	uint32_t unrouted; /* vectors starved: retried on a free / ctrl write */
	bool window_full;  /* the last scan found no GSI ... */
	uint64_t full_commits, full_frees; /* ... and nothing changed since */
	unsigned mapped;		   /* 1 table, 2 PBA in the MMIO map */
	uint32_t nr_fds; /* atomic, changed under the config lock: msix_fds */
	uint64_t table_addr, pba_addr; /* where virq_msix_map put them */

	struct msix_counters c; /* atomics */
	uint64_t *pba;		/* atomic words; a bit changes under its vector's lock */
	struct msix_vec vec[];
};

static inline void msix_count(uint64_t *ctr)
{
	__atomic_fetch_add(ctr, 1, __ATOMIC_RELAXED);
}

static inline uint32_t pba_words(const struct msix *m)
{
	return (m->nr + 63) / 64;
}

static inline bool pba_test(const struct msix *m, uint32_t v)
{
	return __atomic_load_n(&m->pba[v / 64], __ATOMIC_RELAXED) >> (v % 64) & 1;
}

static inline bool pba_set(struct msix *m, uint32_t v)
{
	uint64_t bit = 1ull << (v % 64);

	return __atomic_fetch_or(&m->pba[v / 64], bit, __ATOMIC_RELAXED) & bit;
}

static inline bool pba_clear(struct msix *m, uint32_t v)
{
	uint64_t bit = 1ull << (v % 64);

	return __atomic_fetch_and(&m->pba[v / 64], ~bit, __ATOMIC_RELAXED) & bit;
}

/* Masked by its bit, the function mask or MSI-X disabled (@ctrl's view). */
static inline bool vec_masked(uint32_t ctrl, const struct msix_vec *x)
{
	return (x->e.ctrl & MASKED) || ctrl != VIRQ_MSIX_CTRL_ENABLE;
}

/* Vector lock held. */
static inline bool may_send(const struct msix *m, const struct msix_vec *x)
{
	return x->routed && !vec_masked(__atomic_load_n(&m->ctrl, __ATOMIC_ACQUIRE), x);
}

static inline bool same_message(const struct virq_msix_entry *a,
				const struct virq_msix_entry *b)
{
	return a->address_lo == b->address_lo && a->address_hi == b->address_hi &&
	       a->data == b->data;
}

/* msix.c */
VIRQ_INTERNAL struct msix *msix_of(struct virq_device *dev);
VIRQ_INTERNAL int msix_get(struct virq_device *dev, uint32_t vector, struct msix **out);
/*
 * Vector @v's state changed (its lock held): if it may send, what it
 * holds pending goes out, exactly once; its eventfds follow (direct_settle).
 */
VIRQ_INTERNAL void vec_update(struct msix *m, uint32_t v);
/* Vector lock held: tell ops.mask_changed if the mask moved from @was. */
VIRQ_INTERNAL void mask_note(struct msix *m, uint32_t v, bool was);

/* The eventfd's engine binding, as virq_msix_bind_irqfd makes it;
 * @owned: virq's own duplicate, closed by the caller after the bind */
VIRQ_INTERNAL int msix_bind_engine(struct msix *m, uint32_t v, int eventfd, bool owned);

/* msix_route.c (config lock held unless said) */
/* The VM's next MSI-X device after @d (NULL: the first). */
VIRQ_INTERNAL struct msix *msix_next(struct virq_vm *vm, const struct msix *d);
VIRQ_INTERNAL int msix_reg_join(struct msix *m);
VIRQ_INTERNAL void msix_reg_leave(struct msix *m);
/*
 * Make the routes of vectors [first, last) match the state (see the
 * file).  0, or < 0 with a reason: -ENOSPC a vector that needs a route
 * got no GSI (it latches; the others were committed), or the commit's
 * error (nothing changed).  No vector lock held.
 */
VIRQ_INTERNAL int msix_reconcile(struct msix *m, uint32_t first, uint32_t last,
				 bool restore);
/* A restored GSI for vector @v (VIRQ_MSIX_GRP_GSI). */
VIRQ_INTERNAL int msix_gsi_restore(struct msix *m, uint32_t v, uint32_t gsi);

/* msix_mmio.c */
VIRQ_INTERNAL int msix_entry_write(struct msix *m, uint32_t v, unsigned first, unsigned n,
				   const uint32_t *val);
VIRQ_INTERNAL int msix_io_read(struct virq_device *dev, uint32_t vcpu, unsigned region,
			       uint64_t offset, unsigned size, uint64_t *val);
VIRQ_INTERNAL int msix_io_write(struct virq_device *dev, uint32_t vcpu, unsigned region,
				uint64_t offset, unsigned size, uint64_t val);

/* msix_direct.c */
/* Can eventfds of @m go to the VM's accelerator?  (config lock) */
VIRQ_INTERNAL bool direct_usable(const struct msix *m);
VIRQ_INTERNAL int direct_bind(struct msix *m, uint32_t v, int eventfd);
/* 0 unbound, -ENOENT not bound this way, another -errno */
VIRQ_INTERNAL int direct_unbind(struct msix *m, uint32_t v, int eventfd);
/* Vector lock held: fold the parked eventfds' signals into the PBA bit. */
VIRQ_INTERNAL void direct_drain(struct msix *m, uint32_t v);
/* Vector lock held: assign the eventfds if the vector may send, else park. */
VIRQ_INTERNAL void direct_settle(struct msix *m, uint32_t v);
/* No lock: fold the parked signals of vectors [first, last) into the PBA. */
VIRQ_INTERNAL void direct_fold(struct msix *m, uint32_t first, uint32_t last);
/* Destroy: every eventfd deassigned and dropped (config lock). */
VIRQ_INTERNAL void direct_fini(struct msix *m);
/* Counts for virq_msix_get_stats (vector lock held). */
VIRQ_INTERNAL void direct_count(const struct msix_vec *x, uint64_t *bound,
				uint64_t *assigned);

/* msix_attr.c */
VIRQ_INTERNAL int msix_get_attr(struct virq_device *dev, uint32_t group, uint64_t attr,
				void *buf, size_t size);
VIRQ_INTERNAL int msix_set_attr(struct virq_device *dev, uint32_t group, uint64_t attr,
				const void *buf, size_t size);
VIRQ_INTERNAL int msix_has_attr(struct virq_device *dev, uint32_t group, uint64_t attr);

#endif
