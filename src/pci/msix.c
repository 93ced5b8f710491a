/* SPDX-License-Identifier: MIT */
/*
 * MSI-X table, Pending Bit Array and Message Control of one PCI function,
 * emulated whole (docs/msix.md).
 *
 * Locks.  Each vector has a mutex guarding its entry, its PBA bit and the
 * decision "send or latch": a notify holds it while it sends, so a mask
 * write, which takes the same mutex, returns only when no message of the
 * vector is in flight (the guest's mask + read-back flush).  Message
 * Control is an atomic word; a change is followed by taking every
 * vector's mutex in turn, which is the same flush for the whole function.
 * Messages are sent with the vector mutex held: the msi sink contract
 * allows it (vm.h), and it is what makes masking exact.
 *
 * Routes.  A vector sends through its own GSI.  Route work needs the VM's
 * configuration lock and is done with no vector mutex held (lock order:
 * config lock, then a vector mutex).  A vector's address/data, GSI and
 * "routed" flag change only with the config lock held, GSI and routed
 * with its mutex too, so either lock is enough to read them.  "routed"
 * means the GSI's route carries the entry's current message: only then
 * may the vector send; until then fires latch in the PBA, and whoever
 * makes the route (always under the config lock) sends what is pending.
 * So the hot paths -- notify, mask, unmask of a routed vector -- never
 * take the config lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <virq/msix.h>

#include "../core/internal.h"

#define MASKED VIRQ_MSIX_VECTOR_MASKED
#define CTRL_BITS (VIRQ_MSIX_CTRL_ENABLE | VIRQ_MSIX_CTRL_MASKALL)

/* A cache line or two each: vectors fired from different CPUs share none. */
struct msix_vec {
	_Alignas(64) pthread_mutex_t lock;
	struct virq_msix_entry e; /* lock (message: config lock too) */
	uint32_t gsi;		  /* config lock + lock */
	bool routed;		  /* config lock + lock */
	/* statistics, lock: the hot path touches no shared counter */
	uint64_t sent, latched, coalesced, pending_sent;
};

struct msix_counters {
	uint64_t dropped, route_commits, route_failures;
};

struct msix {
	struct virq_device *dev;
	struct virq_vm *vm;
	uint32_t nr, flags, devid;
	uint32_t gsi_lo, gsi_hi; /* allocation window [lo, hi) */
	struct virq_msix_ops ops;
	void *opaque;

	uint32_t ctrl;	     /* atomic; written under the config lock */
	uint32_t alloc_next; /* config lock */
	uint32_t nr_gsis;    /* config lock */
	unsigned mapped;     /* config lock: 1 table, 2 PBA in the MMIO map */
	uint64_t table_addr, pba_addr;
	struct msix_counters c; /* atomics */
	uint64_t *pba;		/* atomic words; a bit changes under its vector's lock */
	struct msix_vec vec[];
};

static const struct virq_device_type msix_type;

static void count(uint64_t *ctr)
{
	__atomic_fetch_add(ctr, 1, __ATOMIC_RELAXED);
}

static uint32_t pba_words(const struct msix *m)
{
	return (m->nr + 63) / 64;
}

static struct msix *to_msix(struct virq_device *dev)
{
	if (!dev || virq_device_get_type(dev) != &msix_type)
		return NULL;
	return virq_device_priv(dev);
}

/* Look up @dev and check @vector (< 0 with a reason on failure). */
static int msix_get(struct virq_device *dev, uint32_t vector, struct msix **out)
{
	struct msix *m = to_msix(dev);

	if (!m)
		return virq_fail(EINVAL, "msix: not an MSI-X device");
	if (vector >= m->nr)
		return virq_fail(EINVAL, "%s: vector %u of %u", virq_device_name(dev),
				 vector, m->nr);
	*out = m;
	return 0;
}

/* ---- sending (vector lock held) ---- */

static bool pba_test(const struct msix *m, uint32_t v)
{
	return __atomic_load_n(&m->pba[v / 64], __ATOMIC_RELAXED) >> (v % 64) & 1;
}

static bool pba_set(struct msix *m, uint32_t v)
{
	uint64_t bit = 1ull << (v % 64);

	return __atomic_fetch_or(&m->pba[v / 64], bit, __ATOMIC_RELAXED) & bit;
}

static bool pba_clear(struct msix *m, uint32_t v)
{
	uint64_t bit = 1ull << (v % 64);

	return __atomic_fetch_and(&m->pba[v / 64], ~bit, __ATOMIC_RELAXED) & bit;
}

static bool may_send(const struct msix *m, const struct msix_vec *x)
{
	return x->routed && !(x->e.ctrl & MASKED) &&
	       __atomic_load_n(&m->ctrl, __ATOMIC_ACQUIRE) == VIRQ_MSIX_CTRL_ENABLE;
}

static void send(struct msix *m, const struct msix_vec *x)
{
	/* the route's answer (blocked, no APIC) is the sink's business */
	virq_set_irq(m->vm, x->gsi, 1, VIRQ_SOURCE_USER);
}

/* An unmasked vector with its PBA bit set sends it, exactly once. */
static void send_pending(struct msix *m, uint32_t v)
{
	struct msix_vec *x = &m->vec[v];

	if (may_send(m, x) && pba_clear(m, v)) {
		send(m, x);
		x->pending_sent++;
	}
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

/* ---- routes (config lock held) ---- */

struct plan {
	uint32_t v, gsi;
	enum { P_ADD, P_UPDATE, P_REMOVE } op;
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

/* What is at @gsi now: 0 nothing, 1 a lone MSI entry, -1 anything else. */
static int gsi_holds(struct msix *m, uint32_t gsi)
{
	const struct route_set *s;
	int ret;

	virq_rcu_read_lock();
	s = router_lookup(&m->vm->router, gsi);
	ret = !s ? 0 : s->nr == 1 && s->e[0].kind == VIRQ_ROUTE_MSI ? 1 : -1;
	virq_rcu_read_unlock();
	return ret;
}

/* One reconcile pass: the plan and the GSI cursor. */
struct pass {
	struct plan *p;
	size_t n;
	uint32_t *fixed; /* GSIs the plan keeps (no allocation) */
	size_t nfixed;
	uint32_t scanned; /* allocation never looks at a GSI twice per pass */
	bool restore;
};

static bool is_fixed(const struct pass *ps, uint32_t gsi)
{
	for (size_t i = 0; i < ps->nfixed; i++)
		if (ps->fixed[i] == gsi)
			return true;
	return false;
}

/* A free GSI of the window, not kept by this pass; false if none. */
static bool gsi_alloc(struct msix *m, struct pass *ps, uint32_t *gsi)
{
	uint32_t span = m->gsi_hi - m->gsi_lo;

	for (; ps->scanned < span; ps->scanned++) {
		uint32_t g = m->alloc_next++;

		if (g >= m->gsi_hi || g < m->gsi_lo) {
			g = m->gsi_lo;
			m->alloc_next = g + 1;
		}
		if (gsi_holds(m, g) || is_fixed(ps, g))
			continue;
		ps->scanned++;
		*gsi = g;
		return true;
	}
	return false;
}

/* Decide what vector @v needs (snapshot taken under its lock). */
static bool plan_vector(struct msix *m, uint32_t v, bool enabled, struct pass *ps,
			struct plan *out)
{
	struct msix_vec *x = &m->vec[v];
	bool want, routed;
	uint32_t gsi;

	pthread_mutex_lock(&x->lock);
	out->e = x->e;
	gsi = x->gsi;
	routed = x->routed;
	pthread_mutex_unlock(&x->lock);

	out->v = v;
	/* a restore re-creates every route the saved state had */
	want = enabled &&
	       (!(out->e.ctrl & MASKED) || (ps->restore && gsi != VIRQ_MSIX_NO_GSI));
	if (!want) {
		if (gsi == VIRQ_MSIX_NO_GSI || enabled)
			return false; /* masked: a stale route waits for the unmask */
		out->op = P_REMOVE;
		out->gsi = gsi;
		return true;
	}
	if (routed && !ps->restore)
		return false;
	/* a restored duplicate GSI gets a fresh one */
	if (gsi != VIRQ_MSIX_NO_GSI && !is_fixed(ps, gsi)) {
		int held = gsi_holds(m, gsi);

		if (held >= 0) {
			out->op = held ? P_UPDATE : P_ADD;
			out->gsi = gsi;
			ps->fixed[ps->nfixed++] = gsi;
			return true;
		}
		/* someone else routed our GSI (VMM, or a foreign restore) */
	}
	out->op = P_ADD;
	if (!gsi_alloc(m, ps, &out->gsi))
		out->gsi = VIRQ_MSIX_NO_GSI; /* the commit below reports it */
	return true;
}

static int plan_commit(struct msix *m, const struct plan *p, size_t n)
{
	struct virq_route_txn *txn = NULL;
	int ret;

	for (size_t i = 0; i < n; i++)
		if (p[i].gsi == VIRQ_MSIX_NO_GSI)
			return virq_fail(
				ENOSPC, "%s: no free GSI in [%u, %u) for vector %u",
				virq_device_name(m->dev), m->gsi_lo, m->gsi_hi, p[i].v);
	ret = virq_route_begin(m->vm, &txn);
	for (size_t i = 0; i < n && !ret; i++) {
		struct virq_route_entry r = route_of(m, p[i].gsi, &p[i].e);

		ret = p[i].op == P_ADD	    ? virq_route_add(txn, &r)
		      : p[i].op == P_UPDATE ? virq_route_update(txn, &r)
					    : virq_route_remove_gsi(txn, p[i].gsi);
	}
	if (ret) {
		if (txn)
			virq_route_abort(txn);
		return ret;
	}
	ret = virq_route_commit(txn);
	if (!ret)
		count(&m->c.route_commits);
	return ret;
}

/*
 * Make the routes of vectors [first, last) match the state: enabled and
 * unmasked vectors get a route carrying their message (one commit for
 * all), a disabled function loses them.  Vectors routed here send what
 * they hold pending.  @restore: every vector with a GSI is re-routed and
 * reported, changed or not.  Config lock held, no vector lock.
 */
static int reconcile(struct msix *m, uint32_t first, uint32_t last, bool restore)
{
	bool enabled =
		__atomic_load_n(&m->ctrl, __ATOMIC_ACQUIRE) & VIRQ_MSIX_CTRL_ENABLE;
	struct pass ps = { .restore = restore };
	struct plan one;
	uint32_t one_fixed;
	struct plan *p = &one;
	int ret = 0;

	ps.p = &one;
	ps.fixed = &one_fixed;
	if (last - first > 1) {
		ps.p = malloc((last - first) * sizeof(*ps.p));
		ps.fixed = malloc((last - first) * sizeof(*ps.fixed));
		if (!ps.p || !ps.fixed) {
			ret = virq_fail(ENOMEM, "%s: out of memory",
					virq_device_name(m->dev));
			goto out;
		}
	}
	p = ps.p;
	for (uint32_t v = first; v < last; v++)
		if (plan_vector(m, v, enabled, &ps, &p[ps.n]))
			ps.n++;
	if (ps.n) {
		ret = plan_commit(m, p, ps.n);
		if (ret) {
			count(&m->c.route_failures);
			/* not the guest's doing, but a guest access asked for it:
			 * its vectors stay unrouted and latch, nothing is lost */
			virq_guest_error(m->dev, "vectors left unrouted: %s",
					 virq_last_error());
			goto out;
		}
	}
	for (size_t i = 0; i < ps.n; i++) {
		struct msix_vec *x = &m->vec[p[i].v];
		bool gone = p[i].op == P_REMOVE;

		pthread_mutex_lock(&x->lock);
		if (!gone && x->gsi == VIRQ_MSIX_NO_GSI)
			m->nr_gsis++;
		else if (gone)
			m->nr_gsis--;
		x->gsi = gone ? VIRQ_MSIX_NO_GSI : p[i].gsi;
		x->routed = !gone;
		send_pending(m, p[i].v);
		pthread_mutex_unlock(&x->lock);
	}
	for (size_t i = 0; i < ps.n && m->ops.route_changed; i++)
		m->ops.route_changed(m->opaque, m->dev, p[i].v,
				     p[i].op == P_REMOVE ? VIRQ_MSIX_NO_GSI : p[i].gsi,
				     &p[i].e);
out:
	if (ps.p != &one) {
		free(ps.p);
		free(ps.fixed);
	}
	return ret;
}

/* ---- table writes ---- */

/* Replace dwords [first, first + n) of @e with @val. */
static void entry_merge(struct virq_msix_entry *e, unsigned first, unsigned n,
			const uint32_t *val)
{
	uint32_t d[4] = { e->address_lo, e->address_hi, e->data, e->ctrl };

	memcpy(&d[first], val, n * sizeof(*val));
	*e = (struct virq_msix_entry){ d[0], d[1], d[2], d[3] & MASKED };
}

static bool same_message(const struct virq_msix_entry *a, const struct virq_msix_entry *b)
{
	return a->address_lo == b->address_lo && a->address_hi == b->address_hi &&
	       a->data == b->data;
}

/*
 * A guest (or VMM) write of dwords [first, first + n) of entry @v.  Mask
 * changes of a routed vector stay under its lock; a new message, or an
 * unmask that needs a route, goes through the config lock.
 */
static void entry_write(struct msix *m, uint32_t v, unsigned first, unsigned n,
			const uint32_t *val)
{
	struct msix_vec *x = &m->vec[v];
	struct virq_msix_entry ne;
	bool enabled;

	pthread_mutex_lock(&x->lock);
	ne = x->e;
	entry_merge(&ne, first, n, val);
	enabled = __atomic_load_n(&m->ctrl, __ATOMIC_ACQUIRE) & VIRQ_MSIX_CTRL_ENABLE;
	if (same_message(&ne, &x->e) && ((ne.ctrl & MASKED) || x->routed || !enabled)) {
		x->e.ctrl = ne.ctrl;
		send_pending(m, v);
		pthread_mutex_unlock(&x->lock);
		return;
	}
	pthread_mutex_unlock(&x->lock);

	config_lock(m->vm);
	pthread_mutex_lock(&x->lock);
	ne = x->e;
	entry_merge(&ne, first, n, val);
	/* a stale route must not carry a fire: latch until it is updated */
	if (!same_message(&ne, &x->e))
		x->routed = false;
	x->e = ne;
	/* routed meanwhile by another vCPU's write: nothing left to wait for */
	send_pending(m, v);
	pthread_mutex_unlock(&x->lock);
	reconcile(m, v, v + 1, false);
	config_unlock(m->vm);
}

/* ---- guest accessors ---- */

static bool access_ok(uint64_t offset, unsigned size, uint64_t limit)
{
	return (size == 4 || size == 8) && !(offset & (size - 1)) && offset < limit &&
	       size <= limit - offset;
}

static uint64_t all_ones(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static void dropped(struct msix *m, const char *what, uint64_t offset, unsigned size)
{
	count(&m->c.dropped);
	virq_guest_error(m->dev, "%s of %u bytes at offset 0x%llx dropped", what, size,
			 (unsigned long long)offset);
}

static int table_read(struct msix *m, uint64_t offset, unsigned size, uint64_t *val)
{
	struct msix_vec *x;
	uint32_t d[4];

	if (!access_ok(offset, size, (uint64_t)m->nr * VIRQ_MSIX_ENTRY_SIZE)) {
		dropped(m, "table read", offset, size);
		*val = all_ones(size);
		return 0;
	}
	x = &m->vec[offset / VIRQ_MSIX_ENTRY_SIZE];
	pthread_mutex_lock(&x->lock);
	d[0] = x->e.address_lo;
	d[1] = x->e.address_hi;
	d[2] = x->e.data;
	d[3] = x->e.ctrl;
	pthread_mutex_unlock(&x->lock);
	offset = (offset % VIRQ_MSIX_ENTRY_SIZE) / 4;
	*val = d[offset];
	if (size == 8)
		*val |= (uint64_t)d[offset + 1] << 32;
	return 0;
}

static int table_write(struct msix *m, uint64_t offset, unsigned size, uint64_t val)
{
	uint32_t d[2] = { (uint32_t)val, (uint32_t)(val >> 32) };

	if (!access_ok(offset, size, (uint64_t)m->nr * VIRQ_MSIX_ENTRY_SIZE)) {
		dropped(m, "table write", offset, size);
		return 0;
	}
	entry_write(m, (uint32_t)(offset / VIRQ_MSIX_ENTRY_SIZE),
		    (unsigned)(offset % VIRQ_MSIX_ENTRY_SIZE) / 4, size / 4, d);
	return 0;
}

static int pba_read(struct msix *m, uint64_t offset, unsigned size, uint64_t *val)
{
	if (!access_ok(offset, size, (uint64_t)pba_words(m) * 8)) {
		dropped(m, "PBA read", offset, size);
		*val = all_ones(size);
		return 0;
	}
	*val = __atomic_load_n(&m->pba[offset / 8], __ATOMIC_RELAXED);
	if (size == 4)
		*val = (uint32_t)(*val >> (offset % 8 * 8));
	return 0;
}

int virq_msix_table_read(struct virq_device *dev, uint64_t offset, unsigned size,
			 uint64_t *val)
{
	struct msix *m = to_msix(dev);

	if (!m || !val)
		return virq_fail(EINVAL, "msix_table_read: not an MSI-X device, or NULL");
	return table_read(m, offset, size, val);
}

int virq_msix_table_write(struct virq_device *dev, uint64_t offset, unsigned size,
			  uint64_t val)
{
	struct msix *m = to_msix(dev);

	if (!m)
		return virq_fail(EINVAL, "msix_table_write: not an MSI-X device");
	return table_write(m, offset, size, val);
}

int virq_msix_pba_read(struct virq_device *dev, uint64_t offset, unsigned size,
		       uint64_t *val)
{
	struct msix *m = to_msix(dev);

	if (!m || !val)
		return virq_fail(EINVAL, "msix_pba_read: not an MSI-X device, or NULL");
	return pba_read(m, offset, size, val);
}

int virq_msix_pba_write(struct virq_device *dev, uint64_t offset, unsigned size,
			uint64_t val)
{
	struct msix *m = to_msix(dev);

	(void)val;
	if (!m)
		return virq_fail(EINVAL, "msix_pba_write: not an MSI-X device");
	dropped(m, "PBA write (read-only)", offset, size);
	return 0;
}

/* Device ops: regions 0 (table) and 1 (PBA) once virq_msix_map placed them. */
static int msix_io_read(struct virq_device *dev, uint32_t vcpu, unsigned region,
			uint64_t offset, unsigned size, uint64_t *val)
{
	(void)vcpu;
	return region ? pba_read(virq_device_priv(dev), offset, size, val)
		      : table_read(virq_device_priv(dev), offset, size, val);
}

static int msix_io_write(struct virq_device *dev, uint32_t vcpu, unsigned region,
			 uint64_t offset, unsigned size, uint64_t val)
{
	(void)vcpu;
	if (region)
		return virq_msix_pba_write(dev, offset, size, val);
	return table_write(virq_device_priv(dev), offset, size, val);
}

int virq_msix_map(struct virq_device *dev, uint64_t table_addr, uint64_t pba_addr)
{
	struct msix *m = to_msix(dev);
	uint64_t tsize, psize, tmp;
	int ret;

	if (!m)
		return virq_fail(EINVAL, "msix_map: not an MSI-X device");
	tsize = (uint64_t)m->nr * VIRQ_MSIX_ENTRY_SIZE;
	psize = (uint64_t)pba_words(m) * 8;
	if (table_addr < pba_addr + psize && pba_addr < table_addr + tsize)
		return virq_fail(EINVAL, "%s: table and PBA overlap",
				 virq_device_name(dev));
	config_lock(m->vm);
	if (m->mapped != 3) {
		/* first call, or one that added the table but not the PBA */
		ret = m->mapped & 1 ? virq_device_move_region(dev, VIRQ_SPACE_MMIO, 0,
							      table_addr)
				    : virq_device_add_region(dev, VIRQ_SPACE_MMIO,
							     table_addr, tsize, 0);
		if (!ret) {
			m->mapped |= 1;
			m->table_addr = table_addr;
			ret = virq_device_add_region(dev, VIRQ_SPACE_MMIO, pba_addr,
						     psize, 1);
		}
		if (!ret) {
			m->mapped |= 2;
			m->pba_addr = pba_addr;
		}
		goto out;
	}
	/* whichever order keeps them apart; if neither does (they trade
	 * places), the PBA waits beyond all four ranges */
	ret = virq_device_move_region(dev, VIRQ_SPACE_MMIO, 0, table_addr);
	if (!ret) {
		ret = virq_device_move_region(dev, VIRQ_SPACE_MMIO, 1, pba_addr);
		goto moved;
	}
	ret = virq_device_move_region(dev, VIRQ_SPACE_MMIO, 1, pba_addr);
	if (!ret) {
		ret = virq_device_move_region(dev, VIRQ_SPACE_MMIO, 0, table_addr);
		goto moved;
	}
	tmp = table_addr + tsize;
	tmp = tmp > pba_addr + psize ? tmp : pba_addr + psize;
	tmp = tmp > m->table_addr + tsize ? tmp : m->table_addr + tsize;
	tmp = tmp > m->pba_addr + psize ? tmp : m->pba_addr + psize;
	ret = virq_device_move_region(dev, VIRQ_SPACE_MMIO, 1, (tmp + 7) & ~7ull);
	if (!ret)
		ret = virq_device_move_region(dev, VIRQ_SPACE_MMIO, 0, table_addr);
	if (!ret)
		ret = virq_device_move_region(dev, VIRQ_SPACE_MMIO, 1, pba_addr);
	else
		virq_device_move_region(dev, VIRQ_SPACE_MMIO, 1, m->pba_addr);
moved:
	if (!ret) {
		m->table_addr = table_addr;
		m->pba_addr = pba_addr;
	}
out:
	config_unlock(m->vm);
	return ret;
}

/* ---- Message Control ---- */

int virq_msix_ctrl_read(struct virq_device *dev, uint16_t *val)
{
	struct msix *m = to_msix(dev);

	if (!m || !val)
		return virq_fail(EINVAL, "msix_ctrl_read: not an MSI-X device, or NULL");
	*val = (uint16_t)(__atomic_load_n(&m->ctrl, __ATOMIC_ACQUIRE) | (m->nr - 1));
	return 0;
}

/* Config lock held. */
static void ctrl_set(struct msix *m, uint32_t val)
{
	uint32_t old = __atomic_load_n(&m->ctrl, __ATOMIC_RELAXED);

	val &= CTRL_BITS;
	if (val == old)
		return;
	__atomic_store_n(&m->ctrl, val, __ATOMIC_RELEASE);
	/* every vector in turn: a fire that saw the old state has finished,
	 * and what an unmasked function holds pending goes out */
	for (uint32_t v = 0; v < m->nr; v++) {
		pthread_mutex_lock(&m->vec[v].lock);
		send_pending(m, v);
		pthread_mutex_unlock(&m->vec[v].lock);
	}
	if ((old ^ val) & VIRQ_MSIX_CTRL_ENABLE)
		reconcile(m, 0, m->nr, false);
}

int virq_msix_ctrl_write(struct virq_device *dev, uint16_t val)
{
	struct msix *m = to_msix(dev);

	if (!m)
		return virq_fail(EINVAL, "msix_ctrl_write: not an MSI-X device");
	config_lock(m->vm);
	ctrl_set(m, val);
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

int virq_msix_bind_irqfd(struct virq_device *dev, uint32_t vector, int eventfd)
{
	struct msix *m;
	int ret = msix_get(dev, vector, &m);

	return ret ? ret : irqfd_bind_hook(m->vm, eventfd, irqfd_fire, m, vector);
}

int virq_msix_unbind_irqfd(struct virq_device *dev, uint32_t vector, int eventfd)
{
	struct msix *m;
	int ret = msix_get(dev, vector, &m);

	if (!ret && eventfd < 0)
		ret = virq_fail(EBADF, "msix_unbind_irqfd: descriptor %d", eventfd);
	return ret ? ret : irqfd_unbind_hook(m->vm, eventfd, irqfd_fire, m, vector);
}

int virq_msix_get_entry(struct virq_device *dev, uint32_t vector,
			struct virq_msix_entry *e, uint32_t *gsi)
{
	struct msix_vec *x;
	struct msix *m;
	int ret = msix_get(dev, vector, &m);

	if (ret)
		return ret;
	if (!e)
		return virq_fail(EINVAL, "msix_get_entry: NULL entry");
	x = &m->vec[vector];
	pthread_mutex_lock(&x->lock);
	*e = x->e;
	if (gsi)
		*gsi = x->gsi;
	pthread_mutex_unlock(&x->lock);
	return 0;
}

int virq_msix_set_entry(struct virq_device *dev, uint32_t vector,
			const struct virq_msix_entry *e)
{
	struct msix *m;
	int ret = msix_get(dev, vector, &m);
	uint32_t d[4];

	if (ret)
		return ret;
	if (!e)
		return virq_fail(EINVAL, "msix_set_entry: NULL entry");
	d[0] = e->address_lo;
	d[1] = e->address_hi;
	d[2] = e->data;
	d[3] = e->ctrl;
	entry_write(m, vector, 0, 4, d);
	return 0;
}

int virq_msix_get_pending(struct virq_device *dev, uint32_t vector)
{
	struct msix *m;
	int ret = msix_get(dev, vector, &m);

	return ret ? ret : pba_test(m, vector);
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
	ret = pba_clear(m, vector);
	pthread_mutex_unlock(&m->vec[vector].lock);
	return ret;
}

int virq_msix_get_stats(struct virq_device *dev, struct virq_msix_stats *st)
{
	struct msix *m = to_msix(dev);

	if (!m || !st)
		return virq_fail(EINVAL, "msix_get_stats: not an MSI-X device, or NULL");
	memset(st, 0, sizeof(*st));
	for (uint32_t v = 0; v < m->nr; v++) {
		struct msix_vec *x = &m->vec[v];

		pthread_mutex_lock(&x->lock);
		st->sent += x->sent;
		st->latched += x->latched;
		st->coalesced += x->coalesced;
		st->pending_sent += x->pending_sent;
		pthread_mutex_unlock(&x->lock);
	}
	st->notifies = st->sent + st->latched + st->coalesced;
	st->dropped = __atomic_load_n(&m->c.dropped, __ATOMIC_RELAXED);
	st->route_commits = __atomic_load_n(&m->c.route_commits, __ATOMIC_RELAXED);
	st->route_failures = __atomic_load_n(&m->c.route_failures, __ATOMIC_RELAXED);
	config_lock(m->vm);
	st->gsis = m->nr_gsis;
	config_unlock(m->vm);
	return 0;
}

/* ---- attributes ---- */

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

static int msix_has_attr(struct virq_device *dev, uint32_t group, uint64_t attr)
{
	return attr_size(virq_device_priv(dev), group, attr) < 0 ? -ENXIO : 0;
}

static int msix_get_attr(struct virq_device *dev, uint32_t group, uint64_t attr,
			 void *buf, size_t size)
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

/* Store a whole entry (config lock held); no route is touched. */
static void entry_store(struct msix *m, uint32_t v, const struct virq_msix_entry *e)
{
	struct msix_vec *x = &m->vec[v];

	pthread_mutex_lock(&x->lock);
	if (!same_message(e, &x->e))
		x->routed = false; /* SYNC re-routes it */
	x->e = *e;
	pthread_mutex_unlock(&x->lock);
}

static int gsi_store(struct msix *m, uint32_t v, uint32_t gsi)
{
	struct msix_vec *x = &m->vec[v];
	int ret = 0;

	if (gsi != VIRQ_MSIX_NO_GSI && gsi >= m->vm->router.limit)
		return virq_fail(EINVAL, "%s: GSI %u beyond the limit %u",
				 virq_device_name(m->dev), gsi, m->vm->router.limit);
	pthread_mutex_lock(&x->lock);
	if (x->gsi != gsi && x->gsi != VIRQ_MSIX_NO_GSI) {
		ret = virq_fail(EBUSY,
				"%s: vector %u holds GSI %u (reset the device first)",
				virq_device_name(m->dev), v, x->gsi);
	} else if (x->gsi != gsi) {
		x->gsi = gsi;
		x->routed = false;
		m->nr_gsis++;
	}
	pthread_mutex_unlock(&x->lock);
	return ret;
}

static int msix_set_attr(struct virq_device *dev, uint32_t group, uint64_t attr,
			 const void *buf, size_t size)
{
	struct msix *m = virq_device_priv(dev);
	int want = attr_size(m, group, attr);
	struct virq_msix_entry e;
	uint64_t w;
	uint32_t u;
	int ret;

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
		/* stored only; SYNC flushes and routes */
		__atomic_store_n(&m->ctrl, u & CTRL_BITS, __ATOMIC_RELEASE);
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
		for (uint32_t b = 0; b < 64 && attr * 64 + b < m->nr; b++) {
			uint32_t v = (uint32_t)attr * 64 + b;

			pthread_mutex_lock(&m->vec[v].lock);
			if (w >> b & 1)
				pba_set(m, v);
			else
				pba_clear(m, v);
			pthread_mutex_unlock(&m->vec[v].lock);
		}
		return 0;
	case VIRQ_MSIX_GRP_GSI:
		memcpy(&u, buf, 4);
		return gsi_store(m, (uint32_t)attr, u);
	default: /* SYNC: routes first, so pending bits go out through them */
		ret = reconcile(m, 0, m->nr, true);
		for (uint32_t v = 0; v < m->nr; v++) {
			pthread_mutex_lock(&m->vec[v].lock);
			send_pending(m, v);
			pthread_mutex_unlock(&m->vec[v].lock);
		}
		return ret;
	}
}

/* ---- lifetime ---- */

/* Power-on state (FLR); config lock held. */
static void msix_reset(struct virq_device *dev)
{
	struct msix *m = virq_device_priv(dev);

	__atomic_store_n(&m->ctrl, 0, __ATOMIC_RELEASE);
	for (uint32_t v = 0; v < m->nr; v++) {
		struct msix_vec *x = &m->vec[v];

		pthread_mutex_lock(&x->lock);
		x->e = (struct virq_msix_entry){ .ctrl = MASKED };
		x->routed = false;
		pba_clear(m, v);
		pthread_mutex_unlock(&x->lock);
	}
	reconcile(m, 0, m->nr, false); /* disabled: frees every GSI */
}

static void msix_free(struct msix *m)
{
	for (uint32_t v = 0; v < m->nr; v++)
		pthread_mutex_destroy(&m->vec[v].lock);
	free(m->pba);
	free(m);
}

static int msix_create(struct virq_device *dev, const void *args)
{
	const struct virq_msix_config *cfg = args;
	struct virq_vm *vm = virq_device_vm(dev);
	uint32_t limit = vm->router.limit;
	struct msix *m;
	size_t len;

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
		return -ENOMEM;
	memset(m, 0, len);
	m->nr = cfg->nr_vectors;
	m->pba = calloc(pba_words(m), sizeof(*m->pba));
	if (!m->pba) {
		free(m);
		return -ENOMEM;
	}
	m->dev = dev;
	m->vm = vm;
	m->flags = cfg->flags;
	m->devid = cfg->devid;
	m->gsi_lo = cfg->gsi_base;
	m->gsi_hi = cfg->gsi_count ? cfg->gsi_base + cfg->gsi_count : limit;
	m->alloc_next = m->gsi_lo;
	m->ops = cfg->ops;
	m->opaque = cfg->opaque;
	for (uint32_t v = 0; v < m->nr; v++) {
		pthread_mutex_init(&m->vec[v].lock, NULL);
		m->vec[v].e.ctrl = MASKED;
		m->vec[v].gsi = VIRQ_MSIX_NO_GSI;
	}
	virq_device_set_priv(dev, m);
	return 0;
}

static void msix_destroy(struct virq_device *dev)
{
	struct msix *m = virq_device_priv(dev);

	/* no eventfd may fire into freed state (none left at VM teardown) */
	irqfd_unbind_hook(m->vm, -1, irqfd_fire, m, 0);
	/* our GSIs go with us; the VMM is not told (the device is gone) */
	m->ops.route_changed = NULL;
	config_lock(m->vm);
	__atomic_store_n(&m->ctrl, 0, __ATOMIC_RELEASE);
	reconcile(m, 0, m->nr, false);
	config_unlock(m->vm);
	msix_free(m);
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
