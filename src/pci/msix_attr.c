/* SPDX-License-Identifier: MIT */
/*
 * MSI-X attributes: the whole state for save and restore, and SYNC, which
 * a restore writes last to re-create the routes and send what is pending.
 * Attribute calls hold the VM's configuration lock (device.c).
 */
#include <errno.h>
#include <string.h>

#include "msix_priv.h"

static int attr_size(const struct msix *m, uint32_t group, uint64_t attr)
{
	switch (group) {
	case VIRQ_MSIX_GRP_CTRL:
		return attr <= 1 ? 4 : -1;
	case VIRQ_MSIX_GRP_TABLE:
		return attr < m->nr ? (int)sizeof(struct virq_msix_entry) : -1;
	case VIRQ_MSIX_GRP_PBA:
		return attr < pba_words(m) ? 8 : -1;
	case VIRQ_MSIX_GRP_GSI:
		return attr < m->nr ? 4 : -1;
	case VIRQ_MSIX_GRP_SYNC:
		return attr == 0 ? 0 : -1;
	default:
		return -1;
	}
}

int msix_has_attr(struct virq_device *dev, uint32_t group, uint64_t attr)
{
	return attr_size(virq_device_priv(dev), group, attr) < 0 ? -ENXIO : 0;
}

int msix_get_attr(struct virq_device *dev, uint32_t group, uint64_t attr, void *buf,
		  size_t size)
{
	struct msix *m = virq_device_priv(dev);
	int want = attr_size(m, group, attr);
	struct msix_vec *x;
	uint32_t u;
	uint64_t w;

	if (want < 0)
		return -ENXIO;
	if (group == VIRQ_MSIX_GRP_SYNC)
		return -EPERM; /* write-only */
	if (size != (size_t)want)
		return -EINVAL;
	switch (group) {
	case VIRQ_MSIX_GRP_CTRL:
		u = attr ? m->nr
			 : __atomic_load_n(&m->ctrl, __ATOMIC_ACQUIRE) | (m->nr - 1);
		memcpy(buf, &u, 4);
		return 0;
	case VIRQ_MSIX_GRP_PBA:
		direct_fold(m, (uint32_t)attr * 64, (uint32_t)attr * 64 + 64);
		w = __atomic_load_n(&m->pba[attr], __ATOMIC_RELAXED);
		memcpy(buf, &w, 8);
		return 0;
	default:
		x = &m->vec[attr];
		pthread_mutex_lock(&x->lock);
		if (group == VIRQ_MSIX_GRP_TABLE)
			memcpy(buf, &x->e, sizeof(x->e));
		else
			memcpy(buf, &x->gsi, 4);
		pthread_mutex_unlock(&x->lock);
		return 0;
	}
}

/* Store a whole entry; no route is touched. */
static void entry_store(struct msix *m, uint32_t v, const struct virq_msix_entry *e)
{
	struct msix_vec *x = &m->vec[v];

	pthread_mutex_lock(&x->lock);
	if (!same_message(e, &x->e))
		x->routed = false; /* SYNC re-routes it */
	x->e = *e;
	if (x->fds)
		direct_settle(m, v);
	pthread_mutex_unlock(&x->lock);
}

static void pba_store(struct msix *m, uint64_t n, uint64_t w)
{
	for (uint32_t b = 0; b < 64 && n * 64 + b < m->nr; b++) {
		uint32_t v = (uint32_t)n * 64 + b;

		pthread_mutex_lock(&m->vec[v].lock);
		/* what waited in a parked counter is older than the restore */
		if (m->vec[v].fds)
			direct_drain(m, v);
		if (w >> b & 1)
			pba_set(m, v);
		else
			pba_clear(m, v);
		pthread_mutex_unlock(&m->vec[v].lock);
	}
}

/* Routes first, so pending bits go out through them; then every
 * vector's mask state to a VMM that follows masks. */
static int attr_sync(struct msix *m)
{
	int ret = msix_reconcile(m, 0, m->nr, true);

	for (uint32_t v = 0; v < m->nr; v++) {
		struct msix_vec *x = &m->vec[v];
		bool masked;

		pthread_mutex_lock(&x->lock);
		vec_update(m, v);
		masked = vec_masked(__atomic_load_n(&m->ctrl, __ATOMIC_ACQUIRE), x);
		if (m->ops.mask_changed)
			m->ops.mask_changed(m->opaque, m->dev, v, masked);
		pthread_mutex_unlock(&x->lock);
	}
	return ret;
}

int msix_set_attr(struct virq_device *dev, uint32_t group, uint64_t attr, const void *buf,
		  size_t size)
{
	struct msix *m = virq_device_priv(dev);
	int want = attr_size(m, group, attr);
	struct virq_msix_entry e;
	uint64_t w;
	uint32_t u;

	if (want < 0)
		return -ENXIO;
	if (size != (size_t)want)
		return -EINVAL;
	switch (group) {
	case VIRQ_MSIX_GRP_CTRL:
		memcpy(&u, buf, 4);
		if (attr == 1)
			return -EPERM;
		if ((u & ~(CTRL_BITS | VIRQ_MSIX_CTRL_SIZE)) ||
		    (u & VIRQ_MSIX_CTRL_SIZE) != m->nr - 1)
			return virq_fail(EINVAL,
					 "%s: Message Control 0x%x (table size %u)",
					 virq_device_name(dev), u, m->nr);
		/* stored only; SYNC flushes and routes.  Eventfds the stored
		 * state masks leave the accelerator now. */
		__atomic_store_n(&m->ctrl, u & CTRL_BITS, __ATOMIC_RELEASE);
		for (uint32_t v = 0;
		     __atomic_load_n(&m->nr_fds, __ATOMIC_RELAXED) && v < m->nr; v++) {
			pthread_mutex_lock(&m->vec[v].lock);
			if (m->vec[v].fds)
				direct_settle(m, v);
			pthread_mutex_unlock(&m->vec[v].lock);
		}
		return 0;
	case VIRQ_MSIX_GRP_TABLE:
		memcpy(&e, buf, sizeof(e));
		if (e.ctrl & ~MASKED)
			return virq_fail(EINVAL, "%s: vector control 0x%x",
					 virq_device_name(dev), e.ctrl);
		entry_store(m, (uint32_t)attr, &e);
		return 0;
	case VIRQ_MSIX_GRP_PBA:
		memcpy(&w, buf, 8);
		if (attr == pba_words(m) - 1 && m->nr % 64 && w >> (m->nr % 64))
			return virq_fail(EINVAL, "%s: pending bits beyond vector %u",
					 virq_device_name(dev), m->nr - 1);
		pba_store(m, attr, w);
		return 0;
	case VIRQ_MSIX_GRP_GSI:
		memcpy(&u, buf, 4);
		return msix_gsi_restore(m, (uint32_t)attr, u);
	default:
		return attr_sync(m);
	}
}
