/* SPDX-License-Identifier: MIT */
/*
 * MSI-X eventfds given to an irqfd accelerator (the KVM backend's
 * KVM_IRQFD), so a vector's messages never enter userspace while it may
 * send.  The accelerator knows nothing of masks or the PBA, so an eventfd
 * is in it only while its vector may send; otherwise it is parked, bound
 * nowhere, and its signals wait in the eventfd's counter.  Nothing is
 * lost or sent twice:
 *  - a deassign returns once the accelerator has delivered every signal
 *    it took from the eventfd (KVM flushes its irqfd work);
 *  - parked signals are read here, never blocking, and become the
 *    pending bit: when the PBA is read, and before the vector sends what
 *    it holds pending; the assign comes after that send.  A signal
 *    between the two is delivered by KVM at the assign (it polls the
 *    eventfd as it binds it) but left in the counter, which we empty
 *    after the assign: an assigned eventfd's counter stays empty, as
 *    KVM reads it at each signal.
 * A message change clears routed before the route moves, so around it
 * the order is: deassign, route commit (the backend updates KVM's
 * table), assign at the new route.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "msix_priv.h"

bool direct_usable(const struct msix *m)
{
	const struct irqfd_accel *a = m->vm->irqfd_accel;

	if (!a)
		return false;
	for (uint32_t gsi = m->gsi_lo; gsi < m->gsi_hi; gsi++)
		if (!a->covers(a->opaque, gsi))
			return false;
	return true;
}

/* A signal read from a parked counter is a fire that found the vector
 * unable to send: it latches (vector lock held). */
static void fold_fd(struct msix *m, uint32_t v, const struct msix_fd *f)
{
	uint64_t count;

	if (!irqfd_counter_take(f->fd, &count))
		return;
	if (pba_set(m, v))
		m->vec[v].coalesced++;
	else
		m->vec[v].latched++;
}

void direct_drain(struct msix *m, uint32_t v)
{
	for (const struct msix_fd *f = m->vec[v].fds; f; f = f->next)
		if (f->gsi == VIRQ_MSIX_NO_GSI)
			fold_fd(m, v, f);
}

/* Just assigned: what the counter still holds, KVM delivered at the assign. */
static void assigned(const struct msix_fd *f)
{
	uint64_t count;

	irqfd_counter_take(f->fd, &count);
}

static int move(struct msix *m, uint32_t v, struct msix_fd *f, uint32_t gsi)
{
	const struct irqfd_accel *a = f->accel;
	bool assign = gsi != VIRQ_MSIX_NO_GSI;
	int ret = assign ? a->assign(a->opaque, f->fd, gsi)
			 : a->deassign(a->opaque, f->fd, f->gsi);

	if (ret) {
		msix_count(&m->c.direct_failures);
		virq_guest_error(m->dev, "vector %u: eventfd %s GSI %u failed: %s", v,
				 assign ? "to" : "off", assign ? gsi : f->gsi,
				 virq_last_error());
	} else {
		msix_count(&m->c.direct_moves);
	}
	/* a failed deassign leaves it assigned: never drained, retried at
	 * the next change */
	if (!ret)
		f->gsi = gsi;
	if (!ret && assign)
		assigned(f);
	return ret;
}

void direct_settle(struct msix *m, uint32_t v)
{
	struct msix_vec *x = &m->vec[v];
	bool want = may_send(m, x);

	/* an eventfd left parked by a failed assign latches its signals */
	for (struct msix_fd *f = x->fds; f; f = f->next) {
		if (f->gsi != VIRQ_MSIX_NO_GSI && (!want || f->gsi != x->gsi))
			move(m, v, f, VIRQ_MSIX_NO_GSI);
		if (want && f->gsi == VIRQ_MSIX_NO_GSI)
			move(m, v, f, x->gsi);
	}
}

void direct_fold(struct msix *m, uint32_t first, uint32_t last)
{
	if (!__atomic_load_n(&m->nr_fds, __ATOMIC_RELAXED))
		return;
	for (uint32_t v = first; v < last && v < m->nr; v++) {
		struct msix_vec *x = &m->vec[v];

		if (!__atomic_load_n(&x->fds, __ATOMIC_RELAXED))
			continue;
		pthread_mutex_lock(&x->lock);
		direct_drain(m, v);
		pthread_mutex_unlock(&x->lock);
	}
}

void direct_count(const struct msix_vec *x, uint64_t *bound, uint64_t *assigned)
{
	for (const struct msix_fd *f = x->fds; f; f = f->next) {
		++*bound;
		*assigned += f->gsi != VIRQ_MSIX_NO_GSI;
	}
}

bool msix_direct_holds(struct virq_vm *vm, uint64_t id)
{
	for (struct msix *d = msix_next(vm, NULL); d; d = msix_next(vm, d)) {
		if (!__atomic_load_n(&d->nr_fds, __ATOMIC_RELAXED))
			continue;
		for (uint32_t v = 0; v < d->nr; v++)
			for (const struct msix_fd *f = d->vec[v].fds; f; f = f->next)
				if (f->id == id)
					return true;
	}
	return false;
}

int direct_bind(struct msix *m, uint32_t v, int eventfd)
{
	struct msix_vec *x = &m->vec[v];
	struct msix_fd *f;
	uint64_t id;
	int ret = irqfd_identity(eventfd, &id);

	if (ret)
		return ret;
	if (irqfd_engine_holds(m->vm, id) || msix_direct_holds(m->vm, id) ||
	    m->vm->irqfd_accel->holds(m->vm->irqfd_accel->opaque, id))
		return virq_fail(EBUSY, "%s: eventfd %d is bound already",
				 virq_device_name(m->dev), eventfd);
	f = calloc(1, sizeof(*f));
	if (!f)
		return virq_fail(ENOMEM, "%s: out of memory", virq_device_name(m->dev));
	/* our own descriptor: the caller may close or reuse theirs */
	f->fd = fcntl(eventfd, F_DUPFD_CLOEXEC, 0);
	if (f->fd < 0) {
		ret = virq_fail(errno, "%s: dup of eventfd %d: %s",
				virq_device_name(m->dev), eventfd, strerror(errno));
		free(f);
		return ret;
	}
	f->id = id;
	f->gsi = VIRQ_MSIX_NO_GSI;
	f->accel = m->vm->irqfd_accel;
	pthread_mutex_lock(&x->lock);
	f->next = x->fds;
	ret = may_send(m, x) ? f->accel->assign(f->accel->opaque, f->fd, x->gsi) : 0;
	if (ret) {
		/* the caller hears of it; nothing stays behind */
		pthread_mutex_unlock(&x->lock);
		close(f->fd);
		free(f);
		return ret;
	}
	if (may_send(m, x)) {
		f->gsi = x->gsi;
		msix_count(&m->c.direct_moves);
		assigned(f);
	}
	__atomic_store_n(&x->fds, f, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&x->lock);
	__atomic_fetch_add(&m->nr_fds, 1, __ATOMIC_RELAXED);
	return 0;
}

/* Unlink @f from vector @v's list (config lock and vector lock held). */
static void unlink_fd(struct msix_vec *x, struct msix_fd *f)
{
	struct msix_fd **pp = &x->fds;

	while (*pp != f)
		pp = &(*pp)->next;
	__atomic_store_n(pp, f->next, __ATOMIC_RELAXED);
}

int direct_unbind(struct msix *m, uint32_t v, int eventfd)
{
	struct msix_vec *x = &m->vec[v];
	struct msix_fd *f;
	uint64_t id;
	int ret = irqfd_identity(eventfd, &id);

	if (ret)
		return ret;
	config_lock(m->vm);
	pthread_mutex_lock(&x->lock);
	for (f = x->fds; f && f->id != id; f = f->next)
		;
	if (!f) {
		ret = -ENOENT;
		goto out;
	}
	unlink_fd(x, f);
	if (f->gsi != VIRQ_MSIX_NO_GSI)
		move(m, v, f, VIRQ_MSIX_NO_GSI);
	/* what it signalled before the unbind was fired, as with the engine */
	fold_fd(m, v, f);
	vec_update(m, v);
	__atomic_fetch_sub(&m->nr_fds, 1, __ATOMIC_RELAXED);
out:
	pthread_mutex_unlock(&x->lock);
	config_unlock(m->vm);
	if (f) {
		close(f->fd);
		free(f);
	}
	return ret;
}

void direct_fini(struct msix *m)
{
	for (uint32_t v = 0; __atomic_load_n(&m->nr_fds, __ATOMIC_RELAXED) && v < m->nr;
	     v++) {
		struct msix_vec *x = &m->vec[v];
		struct msix_fd *f;

		pthread_mutex_lock(&x->lock);
		while ((f = x->fds)) {
			unlink_fd(x, f);
			if (f->gsi != VIRQ_MSIX_NO_GSI)
				move(m, v, f, VIRQ_MSIX_NO_GSI);
			close(f->fd);
			free(f);
			__atomic_fetch_sub(&m->nr_fds, 1, __ATOMIC_RELAXED);
		}
		pthread_mutex_unlock(&x->lock);
	}
}

/* The accelerator is going: its eventfds move to the engine (config lock). */
static void to_engine(struct msix *m)
{
	for (uint32_t v = 0; __atomic_load_n(&m->nr_fds, __ATOMIC_RELAXED) && v < m->nr;
	     v++) {
		struct msix_vec *x = &m->vec[v];
		struct msix_fd *f;

		for (;;) {
			pthread_mutex_lock(&x->lock);
			f = x->fds;
			if (f) {
				unlink_fd(x, f);
				if (f->gsi != VIRQ_MSIX_NO_GSI)
					move(m, v, f, VIRQ_MSIX_NO_GSI);
			}
			pthread_mutex_unlock(&x->lock);
			if (!f)
				break;
			__atomic_fetch_sub(&m->nr_fds, 1, __ATOMIC_RELAXED);
			/* a counter left nonzero fires at once, as the vector
			 * is now: sent, or latched in the PBA */
			if (msix_bind_engine(m, v, f->fd, true))
				fprintf(stderr,
					"virq: %s: vector %u: eventfd lost moving "
					"off the accelerator: %s\n",
					virq_device_name(m->dev), v, virq_last_error());
			close(f->fd);
			free(f);
		}
	}
}

void irqfd_accel_set(struct virq_vm *vm, const struct irqfd_accel *accel)
{
	config_lock(vm);
	vm->irqfd_accel = accel;
	if (!accel)
		for (struct msix *d = msix_next(vm, NULL); d; d = msix_next(vm, d))
			to_engine(d);
	config_unlock(vm);
}
