/* SPDX-License-Identifier: MIT */
/*
 * irqfds under the KVM backend.  An eventfd on an MSI GSI goes straight
 * into KVM (KVM_IRQFD): the kernel delivers it without waking userspace.
 * Everything else (chip pins, resample, GSIs KVM cannot hold) goes to
 * virq's irqfd engine.  A KVM-bound GSI whose route stops being an MSI
 * moves to virq's engine at the commit that changed it, deassigned from
 * KVM first: a signal in between stays in the eventfd's counter, and
 * virq's bind injects a nonzero counter once, so nothing is lost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm_internal.h"

static int kvm_irqfd(struct virq_kvm *k, int eventfd, uint32_t gsi, bool assign)
{
	struct kvm_irqfd req = {
		.fd = (uint32_t)eventfd,
		.gsi = gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (ioctl(k->vm_fd, KVM_IRQFD, &req) < 0)
		return virq_fail(errno, "kvm: KVM_IRQFD %s fd %d on GSI %u: %s",
				 assign ? "assign" : "deassign", eventfd, gsi,
				 strerror(errno));
	return 0;
}

/* lock held */
static struct kvm_binding *find(struct virq_kvm *k, int eventfd, uint32_t gsi)
{
	for (size_t i = 0; i < k->nr_bind; i++)
		if (k->bind[i].eventfd == eventfd && k->bind[i].gsi == gsi)
			return &k->bind[i];
	return NULL;
}

/* lock held */
static bool holds(const struct virq_kvm *k, uint64_t id)
{
	for (size_t i = 0; i < k->nr_bind; i++)
		if (k->bind[i].id == id)
			return true;
	return false;
}

/* lock held */
static int remember(struct virq_kvm *k, int eventfd, uint64_t id, uint32_t gsi,
		    bool in_kvm)
{
	if (k->nr_bind == k->cap_bind) {
		size_t cap = k->cap_bind ? 2 * k->cap_bind : 16;
		struct kvm_binding *b = realloc(k->bind, cap * sizeof(*b));

		if (!b)
			return virq_fail(ENOMEM, "kvm: out of memory for irqfds");
		k->bind = b;
		k->cap_bind = cap;
	}
	k->bind[k->nr_bind++] = (struct kvm_binding){ eventfd, id, gsi, in_kvm };
	return 0;
}

int virq_kvm_irqfd_bind(struct virq_kvm *k, int eventfd, uint32_t gsi, uint32_t flags,
			int resamplefd)
{
	uint64_t id;
	bool in_kvm;
	int ret;

	if (!k)
		return virq_fail(EINVAL, "kvm irqfd: NULL backend");
	ret = irqfd_identity(eventfd, &id);
	if (ret)
		return ret;
	/* the config lock keeps the route as it is until the binding exists */
	config_lock(k->vm);
	pthread_mutex_lock(&k->lock);
	in_kvm = !(flags & VIRQ_IRQFD_RESAMPLE) && kvm_routes_is_msi(k, gsi);
	if (find(k, eventfd, gsi) || msix_direct_holds(k->vm, id) ||
	    (in_kvm && holds(k, id))) {
		ret = virq_fail(EBUSY, "kvm irqfd: eventfd %d is bound already", eventfd);
		goto out;
	}
	/* remember first: undoing a virq bind here, under the config lock,
	 * would need a grace-period wait (unbind refuses with -EDEADLK) */
	ret = remember(k, eventfd, id, gsi, in_kvm);
	if (ret)
		goto out;
	ret = in_kvm ? kvm_irqfd(k, eventfd, gsi, true)
		     : virq_irqfd_bind(k->vm, eventfd, gsi, flags, resamplefd);
	if (ret)
		k->nr_bind--;
out:
	pthread_mutex_unlock(&k->lock);
	config_unlock(k->vm);
	return ret;
}

int virq_kvm_irqfd_unbind(struct virq_kvm *k, int eventfd, uint32_t gsi)
{
	struct kvm_binding *b;
	bool in_kvm;

	if (!k)
		return virq_fail(EINVAL, "kvm irqfd: NULL backend");
	pthread_mutex_lock(&k->lock);
	b = find(k, eventfd, gsi);
	if (!b) {
		pthread_mutex_unlock(&k->lock);
		return 0; /* as virq_irqfd_unbind: not bound is not an error */
	}
	in_kvm = b->in_kvm;
	*b = k->bind[--k->nr_bind];
	pthread_mutex_unlock(&k->lock);
	/* virq's unbind waits for a grace period: never under our locks */
	return in_kvm ? kvm_irqfd(k, eventfd, gsi, false)
		      : virq_irqfd_unbind(k->vm, eventfd, gsi);
}

void kvm_irqfd_route_gone(struct virq_kvm *k, uint32_t gsi)
{
	for (size_t i = 0; i < k->nr_bind; i++) {
		struct kvm_binding *b = &k->bind[i];

		if (b->gsi != gsi || !b->in_kvm)
			continue;
		if (kvm_irqfd(k, b->eventfd, gsi, false))
			continue;
		b->in_kvm = false;
		k->irqfds_moved++;
		/* only ENOMEM or a caller who closed the fd can make this fail */
		if (virq_irqfd_bind(k->vm, b->eventfd, gsi, 0, -1))
			fprintf(stderr, "virq: kvm: irqfd %d of GSI %u not moved: %s\n",
				b->eventfd, gsi, virq_last_error());
	}
}

/*
 * The irqfd accelerator of MSI-X devices (src/pci/msix_direct.c): they
 * assign an eventfd only at a GSI whose MSI route the mirror holds, and
 * call under their vector locks, so these take no lock.
 */
static bool accel_covers(void *opaque, uint32_t gsi)
{
	return kvm_routes_covers(opaque, gsi);
}

/* Bound through virq_kvm_irqfd_bind?  (config lock; takes ours) */
static bool accel_holds(void *opaque, uint64_t id)
{
	struct virq_kvm *k = opaque;
	bool ret;

	pthread_mutex_lock(&k->lock);
	ret = holds(k, id);
	pthread_mutex_unlock(&k->lock);
	return ret;
}

static int accel_assign(void *opaque, int fd, uint32_t gsi)
{
	struct virq_kvm *k = opaque;
	int ret;

	/* KVM would take the signals and find no route: keep them parked */
	if (__atomic_load_n(&k->stale, __ATOMIC_ACQUIRE))
		return virq_fail(EIO,
				 "kvm: GSI %u: KVM's route table is out of step "
				 "(a KVM_SET_GSI_ROUTING failed)",
				 gsi);
	ret = kvm_irqfd(k, fd, gsi, true);

	if (!ret)
		atomic_fetch_add_explicit(&k->msix_irqfds, 1, memory_order_relaxed);
	return ret;
}

static int accel_deassign(void *opaque, int fd, uint32_t gsi)
{
	struct virq_kvm *k = opaque;
	int ret = kvm_irqfd(k, fd, gsi, false);

	if (!ret)
		atomic_fetch_sub_explicit(&k->msix_irqfds, 1, memory_order_relaxed);
	return ret;
}

void kvm_irqfd_accel_init(struct virq_kvm *k)
{
	k->accel = (struct irqfd_accel){
		.covers = accel_covers,
		.holds = accel_holds,
		.assign = accel_assign,
		.deassign = accel_deassign,
		.opaque = k,
	};
}

void kvm_irqfd_fini(struct virq_kvm *k)
{
	for (size_t i = 0; i < k->nr_bind; i++)
		if (k->bind[i].in_kvm)
			kvm_irqfd(k, k->bind[i].eventfd, k->bind[i].gsi, false);
	free(k->bind);
	k->bind = NULL;
	k->nr_bind = k->cap_bind = 0;
}
