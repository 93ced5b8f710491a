/* SPDX-License-Identifier: MIT */
/*
 * MSI-X routes: each vector that needs one gets a GSI of its own, routed
 * as an MSI carrying its message (docs/msix.md).  Everything here runs
 * under the VM's configuration lock with no vector lock held, except the
 * short snapshots and updates of one vector (lock contract: msix_priv.h).
 *
 * GSI ownership.  A per-VM registry, keyed by the VM pointer, holds a
 * bitmap of the GSIs MSI-X vectors hold (allocated, or restored through
 * VIRQ_MSIX_GRP_GSI); the VM's MSI-X devices are found on its device
 * list (vm->devices, config lock).  Allocation
 * skips owned GSIs, a restore may not name one another vector owns, a
 * route found at a vector's GSI is adopted only if it is exactly the route
 * the vector would make, and a device removes only routes it made or
 * adopted.  A device left with vectors that need a route and got no GSI
 * ("starved") is retried whenever an MSI-X device of the VM frees one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msix_priv.h"

struct msix_reg {
	struct msix_reg *next; /* reg_lock */
	struct virq_vm *vm;
	unsigned refs; /* reg_lock */
	/* config lock */
	uint32_t limit;
	uint64_t *owned; /* bitmap of the router's GSIs */
	uint64_t frees;	 /* GSIs released so far (an allocation may retry) */
	bool retrying;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct msix_reg *regs;

static bool own_test(const struct msix_reg *r, uint32_t g)
{
	return r->owned[g / 64] >> (g % 64) & 1;
}

static void own_set(struct msix_reg *r, uint32_t g)
{
	r->owned[g / 64] |= 1ull << (g % 64);
}

/* Also a rollback's: a window found full meanwhile is worth a rescan. */
static void own_clear(struct msix_reg *r, uint32_t g)
{
	r->owned[g / 64] &= ~(1ull << (g % 64));
	r->frees++;
}

int msix_reg_join(struct msix *m)
{
	struct msix_reg *r;
	int ret = 0;

	pthread_mutex_lock(&reg_lock);
	for (r = regs; r && r->vm != m->vm; r = r->next)
		;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (r) {
			r->vm = m->vm;
			r->limit = m->vm->router.limit;
			r->owned = calloc((r->limit + 63) / 64, sizeof(*r->owned));
		}
		if (!r || !r->owned) {
			free(r);
			ret = virq_fail(ENOMEM, "%s: out of memory",
					virq_device_name(m->dev));
			goto out;
		}
		r->next = regs;
		regs = r;
	}
	r->refs++;
	m->reg = r;
out:
	pthread_mutex_unlock(&reg_lock);
	return ret;
}

/* After the device released its GSIs. */
void msix_reg_leave(struct msix *m)
{
	struct msix_reg *r = m->reg, **pp;

	/* whatever a failed removal left behind is no vector's any more */
	for (uint32_t v = 0; v < m->nr; v++)
		if (m->vec[v].gsi != VIRQ_MSIX_NO_GSI)
			own_clear(r, m->vec[v].gsi);
	m->reg = NULL;
	pthread_mutex_lock(&reg_lock);
	if (--r->refs == 0) {
		for (pp = &regs; *pp != r; pp = &(*pp)->next)
			;
		*pp = r->next;
		free(r->owned);
		free(r);
	}
	pthread_mutex_unlock(&reg_lock);
}

/* The next MSI-X device of the VM after @d (NULL: the first). */
struct msix *msix_next(struct virq_vm *vm, const struct msix *d)
{
	struct msix *o;

	for (struct virq_device *i = d ? d->dev->next : vm->devices; i; i = i->next)
		if ((o = msix_of(i)))
			return o;
	return NULL;
}

/* The vector holding @gsi, for error messages (rare: a linear search). */
static bool owner_of(struct virq_vm *vm, uint32_t gsi, const struct msix **om,
		     uint32_t *ov)
{
	for (const struct msix *d = msix_next(vm, NULL); d; d = msix_next(vm, d))
		for (uint32_t v = 0; v < d->nr; v++)
			if (d->vec[v].gsi == gsi) {
				*om = d;
				*ov = v;
				return true;
			}
	return false;
}

int msix_gsi_restore(struct msix *m, uint32_t v, uint32_t gsi)
{
	struct msix_vec *x = &m->vec[v];
	const struct msix *om;
	uint32_t ov;

	if (x->gsi == gsi)
		return 0;
	if (x->gsi != VIRQ_MSIX_NO_GSI)
		return virq_fail(EBUSY,
				 "%s: vector %u holds GSI %u (reset the device first)",
				 virq_device_name(m->dev), v, x->gsi);
	if (gsi >= m->vm->router.limit)
		return virq_fail(EINVAL, "%s: GSI %u beyond the limit %u",
				 virq_device_name(m->dev), gsi, m->vm->router.limit);
	/* the window is the device's configuration: what the VMM keeps
	 * clear for it, and what an irqfd accelerator was checked against */
	if (gsi < m->gsi_lo || gsi >= m->gsi_hi)
		return virq_fail(EINVAL,
				 "%s: GSI %u for vector %u outside the window [%u, %u)",
				 virq_device_name(m->dev), gsi, v, m->gsi_lo, m->gsi_hi);
	if (own_test(m->reg, gsi)) {
		if (owner_of(m->vm, gsi, &om, &ov))
			return virq_fail(
				EBUSY, "%s: GSI %u for vector %u belongs to %s vector %u",
				virq_device_name(m->dev), gsi, v,
				virq_device_name(om->dev), ov);
		return virq_fail(EBUSY, "%s: GSI %u for vector %u is taken",
				 virq_device_name(m->dev), gsi, v);
	}
	own_set(m->reg, gsi);
	pthread_mutex_lock(&x->lock);
	x->gsi = gsi;
	x->routed = false;
	pthread_mutex_unlock(&x->lock);
	x->installed = false; /* SYNC adopts or makes the route */
	return 0;
}

/* ---- planning ---- */

enum op { P_ADD, P_UPDATE, P_REMOVE, P_DROP };

struct plan {
	uint32_t v;
	uint32_t gsi;	  /* the GSI the vector ends with (P_ADD/P_UPDATE) */
	uint32_t old_gsi; /* the one it holds now */
	enum op op;	  /* P_DROP: release old_gsi, no route change */
	bool fresh;	  /* needs a GSI from the window */
	bool told;	  /* route_changed knew old_gsi */
	struct virq_msix_entry e;
};

static struct virq_route_entry route_of(const struct msix *m, uint32_t gsi,
					const struct virq_msix_entry *e)
{
	struct virq_route_entry r = { .gsi = gsi, .kind = VIRQ_ROUTE_MSI };

	r.u.msi.address_lo = e->address_lo;
	r.u.msi.address_hi = e->address_hi;
	r.u.msi.data = e->data;
	if (m->flags & VIRQ_MSIX_DEVID) {
		r.flags = VIRQ_MSI_VALID_DEVID;
		r.u.msi.devid = m->devid;
	}
	return r;
}

enum held { H_EMPTY, H_SAME, H_MSI, H_OTHER };

/* What is at @gsi: nothing, exactly @want, another lone MSI, or else. */
static enum held gsi_probe(struct msix *m, uint32_t gsi,
			   const struct virq_route_entry *want)
{
	const struct route_set *s;
	const struct virq_route_entry *r;
	enum held h;

	virq_rcu_read_lock();
	s = router_lookup(&m->vm->router, gsi);
	if (!s) {
		h = H_EMPTY;
	} else if (s->nr != 1 || s->e[0].kind != VIRQ_ROUTE_MSI) {
		h = H_OTHER;
	} else {
		r = &s->e[0];
		h = r->flags == want->flags &&
				    r->u.msi.address_lo == want->u.msi.address_lo &&
				    r->u.msi.address_hi == want->u.msi.address_hi &&
				    r->u.msi.data == want->u.msi.data &&
				    (!(want->flags & VIRQ_MSI_VALID_DEVID) ||
				     r->u.msi.devid == want->u.msi.devid)
			    ? H_SAME
			    : H_MSI;
	}
	virq_rcu_read_unlock();
	return h;
}

static bool gsi_empty(struct msix *m, uint32_t gsi)
{
	bool empty;

	virq_rcu_read_lock();
	empty = !router_lookup(&m->vm->router, gsi);
	virq_rcu_read_unlock();
	return empty;
}

struct pass {
	struct plan *p;
	size_t n;
	uint32_t scanned; /* allocation looks at each GSI once per pass */
	bool restore;
};

/*
 * A GSI of the window nobody owns and nothing is routed at; owned (for
 * the vector being planned) when found.  A full window is remembered
 * until a route commit changed the table or an MSI-X GSI was freed, so
 * retries cost nothing while nothing can have changed.
 */
static bool gsi_alloc(struct msix *m, struct pass *ps, uint32_t *gsi)
{
	uint32_t span = m->gsi_hi - m->gsi_lo;

	if (m->window_full && m->full_commits == m->vm->router.stats.commits &&
	    m->full_frees == m->reg->frees)
		return false;
	for (; ps->scanned < span; ps->scanned++) {
		uint32_t g = m->alloc_next++;

		if (g >= m->gsi_hi || g < m->gsi_lo) {
			g = m->gsi_lo;
			m->alloc_next = g + 1;
		}
		if (own_test(m->reg, g) || !gsi_empty(m, g))
			continue;
		ps->scanned++;
		own_set(m->reg, g);
		*gsi = g;
		m->window_full = false;
		return true;
	}
	m->window_full = true;
	m->full_commits = m->vm->router.stats.commits;
	m->full_frees = m->reg->frees;
	return false;
}

static void set_starved(struct msix *m, struct msix_vec *x, bool starved)
{
	if (x->starved != starved)
		m->unrouted += starved ? 1 : (uint32_t)-1;
	x->starved = starved;
}

/* Phase 1: what vector @v needs, GSIs it keeps decided; false: nothing. */
static bool plan_vector(struct msix *m, uint32_t v, bool enabled, struct pass *ps,
			struct plan *out)
{
	struct msix_vec *x = &m->vec[v];
	struct virq_route_entry want_r;
	bool want, routed;
	enum held h;

	pthread_mutex_lock(&x->lock);
	out->e = x->e;
	out->old_gsi = x->gsi;
	routed = x->routed;
	pthread_mutex_unlock(&x->lock);

	out->v = v;
	out->gsi = out->old_gsi;
	out->fresh = false;
	out->told = x->installed;
	/* a restore re-creates every route the saved state had */
	want = enabled && (!(out->e.ctrl & MASKED) ||
			   (ps->restore && out->old_gsi != VIRQ_MSIX_NO_GSI));
	if (!want) {
		set_starved(m, x, false); /* needs no route (now) */
		if (out->old_gsi == VIRQ_MSIX_NO_GSI || enabled)
			return false; /* masked: a stale route waits for the unmask */
		/* remove only a route of ours: made, or exactly ours */
		want_r = route_of(m, out->old_gsi, &out->e);
		h = gsi_probe(m, out->old_gsi, &want_r);
		out->op = h == H_SAME || (h == H_MSI && x->installed) ? P_REMOVE : P_DROP;
		return true;
	}
	if (routed && !ps->restore)
		return false;
	if (out->old_gsi != VIRQ_MSIX_NO_GSI) {
		want_r = route_of(m, out->old_gsi, &out->e);
		h = gsi_probe(m, out->old_gsi, &want_r);
		if (h == H_EMPTY || h == H_SAME || (h == H_MSI && x->installed)) {
			out->op = h == H_EMPTY ? P_ADD : P_UPDATE;
			return true;
		}
		/* something else is routed there (the VMM's, or a route the
		 * restored table had for someone else): leave it, move on */
	}
	out->op = P_ADD;
	out->fresh = true;
	return true;
}

/* Phase 2: GSIs for the vectors that need one; false: none left. */
static bool plan_alloc(struct msix *m, struct pass *ps, struct plan *p)
{
	if (!gsi_alloc(m, ps, &p->gsi)) {
		p->gsi = VIRQ_MSIX_NO_GSI;
		p->op = P_DROP; /* starved: release what it held, if anything */
		return false;
	}
	return true;
}

static int plan_commit(struct msix *m, const struct plan *p, size_t n)
{
	struct virq_route_txn *txn = NULL;
	bool any = false;
	int ret;

	for (size_t i = 0; i < n; i++)
		any |= p[i].op != P_DROP;
	if (!any)
		return 0;
	ret = virq_route_begin(m->vm, &txn);
	for (size_t i = 0; i < n && !ret; i++) {
		struct virq_route_entry r = route_of(m, p[i].gsi, &p[i].e);

		switch (p[i].op) {
		case P_ADD:
			ret = virq_route_add(txn, &r);
			break;
		case P_UPDATE:
			ret = virq_route_update(txn, &r);
			break;
		case P_REMOVE:
			ret = virq_route_remove_gsi(txn, p[i].old_gsi);
			break;
		case P_DROP:
			break;
		}
	}
	if (ret) {
		if (txn)
			virq_route_abort(txn);
		return ret;
	}
	ret = virq_route_commit(txn);
	if (!ret)
		msix_count(&m->c.route_commits);
	return ret;
}

/* After a successful commit: the vector's new state (config lock). */
static bool plan_apply(struct msix *m, const struct plan *p, bool starved)
{
	struct msix_vec *x = &m->vec[p->v];
	bool routed = p->op == P_ADD || p->op == P_UPDATE;
	bool freed = p->old_gsi != VIRQ_MSIX_NO_GSI && (!routed || p->gsi != p->old_gsi);

	if (freed)
		own_clear(m->reg, p->old_gsi);
	x->installed = routed;
	set_starved(m, x, starved);
	pthread_mutex_lock(&x->lock);
	x->gsi = routed ? p->gsi : VIRQ_MSIX_NO_GSI;
	/* a masked vector's message may have changed since the plan */
	x->routed = routed && same_message(&x->e, &p->e);
	vec_update(m, p->v);
	pthread_mutex_unlock(&x->lock);
	return freed;
}

/* GSIs were freed: give the starved vectors of the VM's devices a try. */
static void retry_starved(struct msix *m)
{
	struct msix_reg *r = m->reg;

	if (r->retrying)
		return;
	r->retrying = true;
	for (struct msix *d = msix_next(m->vm, NULL); d; d = msix_next(m->vm, d))
		if (d->unrouted)
			msix_reconcile(d, 0, d->nr, false); /* counted there */
	r->retrying = false;
}

/*
 * Make the routes of vectors [first, last) match the state: enabled and
 * unmasked vectors get a route carrying their message (one commit for
 * all), a disabled function loses them.  Vectors routed here send what
 * they hold pending.  @restore: every vector with a GSI is re-routed and
 * reported, changed or not.  A vector that gets no GSI is left out (it
 * latches) and counted in m->unrouted; the others are committed.
 */
int msix_reconcile(struct msix *m, uint32_t first, uint32_t last, bool restore)
{
	bool enabled =
		__atomic_load_n(&m->ctrl, __ATOMIC_ACQUIRE) & VIRQ_MSIX_CTRL_ENABLE;
	struct pass ps = { .restore = restore };
	uint32_t starved_v = VIRQ_MSIX_NO_GSI;
	bool freed = false;
	struct plan one;
	int ret = 0;

	ps.p = &one;
	if (last - first > 1) {
		ps.p = malloc((last - first) * sizeof(*ps.p));
		if (!ps.p) {
			/* no batch: one commit per vector, nothing left behind */
			for (uint32_t v = first; v < last; v++) {
				int r = msix_reconcile(m, v, v + 1, restore);

				ret = ret ? ret : r;
			}
			return ret;
		}
	}
	/* phase 1 first: every GSI a vector keeps is owned before phase 2
	 * allocates, so no two vectors of a pass can end at one GSI */
	for (uint32_t v = first; v < last; v++)
		if (plan_vector(m, v, enabled, &ps, &ps.p[ps.n]))
			ps.n++;
	for (size_t i = 0; i < ps.n; i++)
		if (ps.p[i].fresh && !plan_alloc(m, &ps, &ps.p[i]) &&
		    starved_v == VIRQ_MSIX_NO_GSI)
			starved_v = ps.p[i].v;
	ret = plan_commit(m, ps.p, ps.n);
	if (ret) {
		/* nothing changed: undo the allocations, everyone waits */
		for (size_t i = 0; i < ps.n; i++) {
			if (ps.p[i].fresh && ps.p[i].gsi != VIRQ_MSIX_NO_GSI)
				own_clear(m->reg, ps.p[i].gsi);
			if (ps.p[i].fresh || ps.p[i].op == P_ADD ||
			    ps.p[i].op == P_UPDATE)
				set_starved(m, &m->vec[ps.p[i].v], true);
		}
		msix_count(&m->c.route_failures);
		goto out;
	}
	for (size_t i = 0; i < ps.n; i++)
		freed |= plan_apply(m, &ps.p[i], ps.p[i].fresh && ps.p[i].op == P_DROP);
	for (size_t i = 0; i < ps.n && m->ops.route_changed; i++) {
		const struct plan *p = &ps.p[i];
		bool routed = p->op == P_ADD || p->op == P_UPDATE;

		if (routed || p->told)
			m->ops.route_changed(m->opaque, m->dev, p->v,
					     routed ? p->gsi : VIRQ_MSIX_NO_GSI, &p->e);
	}
	if (freed)
		retry_starved(m);
	if (starved_v != VIRQ_MSIX_NO_GSI) {
		msix_count(&m->c.route_failures);
		ret = virq_fail(ENOSPC, "%s: no free GSI in [%u, %u) for vector %u",
				virq_device_name(m->dev), m->gsi_lo, m->gsi_hi,
				starved_v);
	}
out:
	if (ps.p != &one)
		free(ps.p);
	return ret;
}
