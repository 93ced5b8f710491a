/* SPDX-License-Identifier: MIT */
/*
 * MSI-X table, Pending Bit Array and Message Control of one PCI function,
 * emulated whole (docs/msix.md).  This file: the device type and its
 * lifetime, sending and latching, Message Control, the device model's
 * calls.  Routes: msix_route.c; guest accesses: msix_mmio.c; save and
 * restore: msix_attr.c; structures and the lock contract: msix_priv.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msix_priv.h"

static const struct virq_device_type msix_type;

struct msix *msix_of(struct virq_device *dev)
{
	if (!dev || virq_device_get_type(dev) != &msix_type)
		return NULL;
	return virq_device_priv(dev);
}

/* Look up @dev and check @vector (< 0 with a reason on failure). */
int msix_get(struct virq_device *dev, uint32_t vector, struct msix **out)
{
	struct msix *m = msix_of(dev);

	if (!m)
		return virq_fail(EINVAL, "msix: not an MSI-X device");
	if (vector >= m->nr)
		return virq_fail(EINVAL, "%s: vector %u of %u", virq_device_name(dev),
				 vector, m->nr);
	*out = m;
	return 0;
}

/* ---- sending (vector lock held) ---- */

static void send(struct msix *m, const struct msix_vec *x)
{
	/* the route's answer (blocked, no APIC) is the sink's business */
	virq_set_irq(m->vm, x->gsi, 1, VIRQ_SOURCE_USER);
}

void vec_update(struct msix *m, uint32_t v)
{
	struct msix_vec *x = &m->vec[v];

	if (!may_send(m, x)) {
		if (x->fds)
			direct_settle(m, v); /* parks: unbind before the route moves */
		return;
	}
	/* signals that waited in a parked counter count as latched */
	if (x->fds)
		direct_drain(m, v);
	if (pba_clear(m, v)) {
		send(m, x);
		x->pending_sent++;
	}
	/* after the route is in place: bind */
	if (x->fds)
		direct_settle(m, v);
}

void mask_note(struct msix *m, uint32_t v, bool was)
{
	bool now = vec_masked(__atomic_load_n(&m->ctrl, __ATOMIC_ACQUIRE), &m->vec[v]);

	if (now != was && m->ops.mask_changed)
		m->ops.mask_changed(m->opaque, m->dev, v, now);
}

static int fire(struct msix *m, uint32_t v)
{
	struct msix_vec *x = &m->vec[v];
	int ret = VIRQ_MSIX_PENDING;

	pthread_mutex_lock(&x->lock);
	if (may_send(m, x)) {
		send(m, x);
		x->sent++;
		ret = VIRQ_MSIX_SENT;
	} else if (pba_set(m, v)) {
		x->coalesced++;
	} else {
		x->latched++;
	}
	pthread_mutex_unlock(&x->lock);
	return ret;
}

/* ---- Message Control ---- */

int virq_msix_ctrl_read(struct virq_device *dev, uint16_t *val)
{
	struct msix *m = msix_of(dev);

	if (!m || !val)
		return virq_fail(EINVAL, "msix_ctrl_read: not an MSI-X device, or NULL");
	*val = (uint16_t)(__atomic_load_n(&m->ctrl, __ATOMIC_ACQUIRE) | (m->nr - 1));
	return 0;
}

/*
 * Config lock held.  Any write, even one that changes nothing, retries
 * the vectors left without a GSI.
 */
static int ctrl_set(struct msix *m, uint32_t val)
{
	uint32_t old = __atomic_load_n(&m->ctrl, __ATOMIC_RELAXED);

	val &= CTRL_BITS;
	if (val != old) {
		__atomic_store_n(&m->ctrl, val, __ATOMIC_RELEASE);
		/* every vector in turn: a fire that saw the old state has
		 * finished, and what an unmasked function holds pending goes */
		for (uint32_t v = 0; v < m->nr; v++) {
			struct msix_vec *x = &m->vec[v];

			pthread_mutex_lock(&x->lock);
			vec_update(m, v);
			mask_note(m, v, vec_masked(old, x));
			pthread_mutex_unlock(&x->lock);
		}
	}
	if ((old ^ val) & VIRQ_MSIX_CTRL_ENABLE || m->unrouted)
		return msix_reconcile(m, 0, m->nr, false);
	return 0;
}

int virq_msix_ctrl_write(struct virq_device *dev, uint16_t val)
{
	struct msix *m = msix_of(dev);

	if (!m)
		return virq_fail(EINVAL, "msix_ctrl_write: not an MSI-X device");
	config_lock(m->vm);
	/* the register is written; vectors left unrouted latch and retry */
	if (ctrl_set(m, val) < 0)
		virq_guest_error(m->dev, "Message Control 0x%x: %s", val,
				 virq_last_error());
	config_unlock(m->vm);
	return 0;
}

/* ---- the device model's side ---- */

int virq_msix_notify(struct virq_device *dev, uint32_t vector)
{
	struct msix *m;
	int ret = msix_get(dev, vector, &m);

	return ret ? ret : fire(m, vector);
}

static void irqfd_fire(void *opaque, uint32_t vector)
{
	fire(opaque, vector);
}

int msix_bind_engine(struct msix *m, uint32_t v, int eventfd, bool owned)
{
	return irqfd_bind_hook(m->vm, eventfd, irqfd_fire, m, v, owned);
}

int virq_msix_bind_irqfd(struct virq_device *dev, uint32_t vector, int eventfd)
{
	struct msix *m;
	bool direct;
	int ret = msix_get(dev, vector, &m);

	if (ret)
		return ret;
	/* the choice holds for the binding's life (an accelerator's removal
	 * moves it to the engine) */
	config_lock(m->vm);
	direct = direct_usable(m);
	if (direct)
		ret = direct_bind(m, vector, eventfd);
	config_unlock(m->vm);
	return direct ? ret : msix_bind_engine(m, vector, eventfd, false);
}

int virq_msix_unbind_irqfd(struct virq_device *dev, uint32_t vector, int eventfd)
{
	struct msix *m;
	int ret = msix_get(dev, vector, &m);

	if (!ret && eventfd < 0)
		ret = virq_fail(EBADF, "msix_unbind_irqfd: descriptor %d", eventfd);
	if (!ret)
		ret = direct_unbind(m, vector, eventfd);
	return ret != -ENOENT ? ret
			      : irqfd_unbind_hook(m->vm, eventfd, irqfd_fire, m, vector);
}

int virq_msix_get_pending(struct virq_device *dev, uint32_t vector)
{
	struct msix *m;
	int ret = msix_get(dev, vector, &m);

	if (ret)
		return ret;
	direct_fold(m, vector, vector + 1);
	return pba_test(m, vector);
}

int virq_msix_set_pending(struct virq_device *dev, uint32_t vector, bool pending)
{
	struct msix *m;
	int ret = msix_get(dev, vector, &m);

	if (ret)
		return ret;
	if (pending)
		return fire(m, vector);
	pthread_mutex_lock(&m->vec[vector].lock);
	if (m->vec[vector].fds)
		direct_drain(m, vector);
	ret = pba_clear(m, vector);
	pthread_mutex_unlock(&m->vec[vector].lock);
	return ret;
}

int virq_msix_get_stats(struct virq_device *dev, struct virq_msix_stats *st)
{
	struct msix *m = msix_of(dev);

	if (!m || !st)
		return virq_fail(EINVAL, "msix_get_stats: not an MSI-X device, or NULL");
	memset(st, 0, sizeof(*st));
	for (uint32_t v = 0; v < m->nr; v++) {
		struct msix_vec *x = &m->vec[v];

		pthread_mutex_lock(&x->lock);
		if (x->fds) {
			direct_drain(m, v);
			direct_count(x, &st->irqfds_direct, &st->irqfds_assigned);
		}
		st->sent += x->sent;
		st->latched += x->latched;
		st->coalesced += x->coalesced;
		st->pending_sent += x->pending_sent;
		st->gsis += x->gsi != VIRQ_MSIX_NO_GSI;
		pthread_mutex_unlock(&x->lock);
	}
	st->notifies = st->sent + st->latched + st->coalesced;
	st->dropped = __atomic_load_n(&m->c.dropped, __ATOMIC_RELAXED);
	st->route_commits = __atomic_load_n(&m->c.route_commits, __ATOMIC_RELAXED);
	st->route_failures = __atomic_load_n(&m->c.route_failures, __ATOMIC_RELAXED);
	st->direct_moves = __atomic_load_n(&m->c.direct_moves, __ATOMIC_RELAXED);
	st->direct_failures = __atomic_load_n(&m->c.direct_failures, __ATOMIC_RELAXED);
	config_lock(m->vm);
	st->unrouted = m->unrouted;
	config_unlock(m->vm);
	return 0;
}

/* ---- lifetime ---- */

/* Power-on state (FLR); config lock held. */
static void msix_reset(struct virq_device *dev)
{
	struct msix *m = virq_device_priv(dev);
	uint32_t old = __atomic_load_n(&m->ctrl, __ATOMIC_RELAXED);

	__atomic_store_n(&m->ctrl, 0, __ATOMIC_RELEASE);
	for (uint32_t v = 0; v < m->nr; v++) {
		struct msix_vec *x = &m->vec[v];
		bool was;

		pthread_mutex_lock(&x->lock);
		was = vec_masked(old, x);
		x->e = (struct virq_msix_entry){ .ctrl = MASKED };
		x->routed = false;
		if (x->fds) {
			/* what the eventfds signalled before the reset goes with it */
			direct_settle(m, v);
			direct_drain(m, v);
		}
		pba_clear(m, v);
		mask_note(m, v, was);
		pthread_mutex_unlock(&x->lock);
	}
	/* disabled: frees every GSI (a failed commit leaves the routes and
	 * GSIs to the next reconcile; nothing can send through them) */
	msix_reconcile(m, 0, m->nr, false);
}

static int msix_create(struct virq_device *dev, const void *args)
{
	const struct virq_msix_config *cfg = args;
	struct virq_vm *vm = virq_device_vm(dev);
	uint32_t limit = vm->router.limit;
	struct msix *m;
	size_t len;
	int ret;

	if (!cfg || !cfg->nr_vectors || cfg->nr_vectors > VIRQ_MSIX_MAX_VECTORS)
		return virq_fail(EINVAL, "%s: %u vectors (1..%u)", virq_device_name(dev),
				 cfg ? cfg->nr_vectors : 0, VIRQ_MSIX_MAX_VECTORS);
	if (cfg->flags & ~VIRQ_MSIX_DEVID)
		return virq_fail(EINVAL, "%s: unknown flags 0x%x", virq_device_name(dev),
				 cfg->flags);
	if (cfg->gsi_base >= limit || cfg->gsi_count > limit - cfg->gsi_base)
		return virq_fail(EINVAL, "%s: GSI window [%u, +%u) beyond the limit %u",
				 virq_device_name(dev), cfg->gsi_base, cfg->gsi_count,
				 limit);
	len = (sizeof(*m) + cfg->nr_vectors * sizeof(m->vec[0]) + 63) & ~(size_t)63;
	m = aligned_alloc(64, len);
	if (!m)
		return virq_fail(ENOMEM, "%s: out of memory", virq_device_name(dev));
	memset(m, 0, len);
	m->nr = cfg->nr_vectors;
	m->dev = dev;
	m->vm = vm;
	m->flags = cfg->flags;
	m->devid = cfg->devid;
	m->gsi_lo = cfg->gsi_base;
	m->gsi_hi = cfg->gsi_count ? cfg->gsi_base + cfg->gsi_count : limit;
	m->alloc_next = m->gsi_lo;
	m->ops = cfg->ops;
	m->opaque = cfg->opaque;
	m->pba = calloc(pba_words(m), sizeof(*m->pba));
	if (!m->pba) {
		ret = virq_fail(ENOMEM, "%s: out of memory", virq_device_name(dev));
		goto fail;
	}
	ret = msix_reg_join(m); /* config lock held by virq_device_create */
	if (ret)
		goto fail;
	for (uint32_t v = 0; v < m->nr; v++) {
		pthread_mutex_init(&m->vec[v].lock, NULL);
		m->vec[v].e.ctrl = MASKED;
		m->vec[v].gsi = VIRQ_MSIX_NO_GSI;
	}
	virq_device_set_priv(dev, m);
	return 0;

fail:
	free(m->pba);
	free(m);
	return ret;
}

static void msix_destroy(struct virq_device *dev)
{
	struct msix *m = virq_device_priv(dev);

	/* no eventfd may fire into freed state (none left at VM teardown) */
	irqfd_unbind_hook(m->vm, -1, irqfd_fire, m, 0);
	/* our GSIs go with us; the VMM is not told (the device is gone) */
	m->ops.route_changed = NULL;
	m->ops.mask_changed = NULL;
	config_lock(m->vm);
	direct_fini(m);
	__atomic_store_n(&m->ctrl, 0, __ATOMIC_RELEASE);
	msix_reconcile(m, 0, m->nr, false); /* frees: other devices retry */
	msix_reg_leave(m);
	config_unlock(m->vm);
	for (uint32_t v = 0; v < m->nr; v++)
		pthread_mutex_destroy(&m->vec[v].lock);
	free(m->pba);
	free(m);
}

static const struct virq_device_type msix_type = {
	.name = "msix",
	.ops = {
		.create = msix_create,
		.destroy = msix_destroy,
		.reset = msix_reset,
		.read = msix_io_read,
		.write = msix_io_write,
		.get_attr = msix_get_attr,
		.set_attr = msix_set_attr,
		.has_attr = msix_has_attr,
	},
};

int virq_msix_create(struct virq_vm *vm, const struct virq_msix_config *cfg,
		     struct virq_device **out)
{
	int ret;

	if (!vm || !cfg || !out)
		return virq_fail(EINVAL, "msix_create: NULL argument");
	ret = virq_device_type_register(&msix_type);
	return ret ? ret : virq_device_create(vm, "msix", cfg, out);
}
