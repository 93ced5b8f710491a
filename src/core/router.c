/* SPDX-License-Identifier: MIT */
/*
 * GSI routing table.
 *
 * A two-level array: chunks of 1024 GSI slots, each slot an RCU pointer to
 * the GSI's immutable entry set.  A commit builds new sets only for the
 * GSIs its operations touch, publishes them one pointer store each, and
 * hands the old sets to RCU in batches, so it costs O(operations) and
 * never waits for injecting threads.  Readers (virq_set_irq) take no lock.
 *
 * Commits are all-or-nothing: every operation is applied to a private
 * copy of the touched GSIs and validated, every allocation is made, and
 * only then is anything published.  A reader sees each GSI switch
 * atomically from its old to its new set.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"
#include "trace.h"

#define KEY_NONCHIP UINT32_MAX

enum txn_op_kind { OP_ADD, OP_UPDATE, OP_REMOVE, OP_REMOVE_GSI };

struct txn_op {
	uint32_t kind; /* enum txn_op_kind */
	uint32_t seq;  /* order within one GSI */
	struct virq_route_entry e;
};

struct virq_route_txn {
	struct virq_vm *vm;
	struct txn_op *ops;
	size_t nr, cap;
	bool whole_table; /* set_table: over-limit is EINVAL as in KVM */
};

struct change {
	uint32_t gsi;
	struct route_set *old, *new;
};

/* The entries of one GSI while a commit edits them. */
struct work_set {
	uint32_t nr;
	struct virq_route_entry e[ROUTE_SET_MAX];
};

static bool is_chip_kind(uint32_t kind)
{
	return kind == VIRQ_ROUTE_IRQCHIP;
}

static uint32_t entry_key(const struct virq_route_entry *e)
{
	return is_chip_kind(e->kind) ? e->u.irqchip.chip : KEY_NONCHIP;
}

/*
 * Check what can be checked without the table and copy only the fields
 * the kind uses, so that equal routes compare equal byte for byte.
 */
static int entry_normalise(struct virq_vm *vm, const struct virq_route_entry *in,
			   struct virq_route_entry *out)
{
	memset(out, 0, sizeof(*out));
	if (in->gsi >= vm->router.limit)
		return virq_fail(EINVAL, "route: GSI %u beyond the limit %u", in->gsi,
				 vm->router.limit);
	out->gsi = in->gsi;
	out->kind = in->kind;
	out->flags = in->flags;

	switch (in->kind) {
	case VIRQ_ROUTE_IRQCHIP:
		if (in->flags)
			return virq_fail(EINVAL,
					 "route: GSI %u: flags 0x%x on a chip entry",
					 in->gsi, in->flags);
		if (in->u.irqchip.chip >= VIRQ_MAX_CHIPS)
			return virq_fail(EINVAL, "route: GSI %u: chip %u out of range",
					 in->gsi, in->u.irqchip.chip);
		out->u.irqchip = in->u.irqchip;
		return 0;
	case VIRQ_ROUTE_MSI:
		if (in->flags & ~VIRQ_MSI_VALID_DEVID)
			return virq_fail(
				EINVAL,
				"route: GSI %u: MSI flags 0x%x (only VALID_DEVID)",
				in->gsi, in->flags);
		out->u.msi = in->u.msi;
		if (!(in->flags & VIRQ_MSI_VALID_DEVID))
			out->u.msi.devid = 0;
		return 0;
	case VIRQ_ROUTE_PPI:
		if (in->flags)
			return virq_fail(EINVAL,
					 "route: GSI %u: flags 0x%x on a PPI entry",
					 in->gsi, in->flags);
		if (in->u.ppi.chip >= VIRQ_MAX_CHIPS)
			return virq_fail(EINVAL, "route: GSI %u: chip %u out of range",
					 in->gsi, in->u.ppi.chip);
		if (in->u.ppi.ppi < 16 || in->u.ppi.ppi > 31)
			return virq_fail(EINVAL, "route: GSI %u: PPI %u not in 16..31",
					 in->gsi, in->u.ppi.ppi);
		if (in->u.ppi.vcpu >= vm->nr_vcpus)
			return virq_fail(EINVAL, "route: GSI %u: vCPU %u of %u", in->gsi,
					 in->u.ppi.vcpu, vm->nr_vcpus);
		out->u.ppi = in->u.ppi;
		return 0;
	case VIRQ_ROUTE_LPI:
		if (in->flags)
			return virq_fail(EINVAL,
					 "route: GSI %u: flags 0x%x on an LPI entry",
					 in->gsi, in->flags);
		if (in->u.lpi.chip >= VIRQ_MAX_CHIPS)
			return virq_fail(EINVAL, "route: GSI %u: chip %u out of range",
					 in->gsi, in->u.lpi.chip);
		if (in->u.lpi.intid < 8192)
			return virq_fail(EINVAL, "route: GSI %u: LPI %u below 8192",
					 in->gsi, in->u.lpi.intid);
		out->u.lpi = in->u.lpi;
		return 0;
	default:
		return virq_fail(EINVAL, "route: GSI %u: unknown kind %u", in->gsi,
				 in->kind);
	}
}

/* The checks that need the chips: run at commit, under the config lock. */
static int entry_check_chip(struct virq_vm *vm, const struct virq_route_entry *e)
{
	const struct chip_slot *slot;
	uint32_t chip;

	switch (e->kind) {
	case VIRQ_ROUTE_IRQCHIP:
		chip = e->u.irqchip.chip;
		slot = vm->chips[chip];
		if (!slot)
			return virq_fail(EINVAL, "route: GSI %u: no chip %u", e->gsi,
					 chip);
		if (e->u.irqchip.pin >= slot->nr_pins)
			return virq_fail(
				EINVAL,
				"route: GSI %u: pin %u of chip %u (%s) has %u pins",
				e->gsi, e->u.irqchip.pin, chip, slot->dev->name,
				slot->nr_pins);
		return 0;
	case VIRQ_ROUTE_PPI:
	case VIRQ_ROUTE_LPI:
		chip = e->kind == VIRQ_ROUTE_PPI ? e->u.ppi.chip : e->u.lpi.chip;
		slot = vm->chips[chip];
		if (!slot ||
		    !(slot->accepts &
		      (e->kind == VIRQ_ROUTE_PPI ? VIRQ_CHIP_PPI : VIRQ_CHIP_LPI)))
			return virq_fail(
				EINVAL, "route: GSI %u: chip %u takes no %s entries",
				e->gsi, chip, e->kind == VIRQ_ROUTE_PPI ? "PPI" : "LPI");
		return 0;
	default:
		return 0;
	}
}

/* ---- transactions ---- */

int virq_route_begin(struct virq_vm *vm, struct virq_route_txn **out)
{
	struct virq_route_txn *txn;

	if (!vm || !out)
		return virq_fail(EINVAL, "route_begin: NULL argument");
	txn = calloc(1, sizeof(*txn));
	if (!txn)
		return virq_fail(ENOMEM, "route_begin: out of memory");
	txn->vm = vm;
	*out = txn;
	return 0;
}

static int txn_push(struct virq_route_txn *txn, uint32_t kind,
		    const struct virq_route_entry *e)
{
	struct txn_op *op;

	if (txn->nr == txn->cap) {
		size_t cap = txn->cap ? txn->cap * 2 : 8;
		struct txn_op *ops = realloc(txn->ops, cap * sizeof(*ops));

		if (!ops)
			return virq_fail(ENOMEM,
					 "route: out of memory for %zu operations", cap);
		txn->ops = ops;
		txn->cap = cap;
	}
	op = &txn->ops[txn->nr];
	op->kind = kind;
	op->seq = (uint32_t)txn->nr;
	op->e = *e;
	txn->nr++;
	return 0;
}

static int txn_entry_op(struct virq_route_txn *txn, uint32_t kind,
			const struct virq_route_entry *e)
{
	struct virq_route_entry n;
	int ret;

	if (!txn || !e)
		return virq_fail(EINVAL, "route: NULL argument");
	ret = entry_normalise(txn->vm, e, &n);
	if (ret)
		return ret;
	return txn_push(txn, kind, &n);
}

int virq_route_add(struct virq_route_txn *txn, const struct virq_route_entry *e)
{
	return txn_entry_op(txn, OP_ADD, e);
}

int virq_route_update(struct virq_route_txn *txn, const struct virq_route_entry *e)
{
	return txn_entry_op(txn, OP_UPDATE, e);
}

int virq_route_remove(struct virq_route_txn *txn, const struct virq_route_entry *e)
{
	return txn_entry_op(txn, OP_REMOVE, e);
}

int virq_route_remove_gsi(struct virq_route_txn *txn, uint32_t gsi)
{
	struct virq_route_entry e = { .gsi = gsi };

	if (!txn)
		return virq_fail(EINVAL, "route: NULL transaction");
	if (gsi >= txn->vm->router.limit)
		return virq_fail(EINVAL, "route: GSI %u beyond the limit %u", gsi,
				 txn->vm->router.limit);
	return txn_push(txn, OP_REMOVE_GSI, &e);
}

void virq_route_abort(struct virq_route_txn *txn)
{
	if (!txn)
		return;
	free(txn->ops);
	free(txn);
}

/* ---- applying operations to one GSI ---- */

static int work_find(const struct work_set *w, uint32_t key)
{
	for (uint32_t i = 0; i < w->nr; i++)
		if (entry_key(&w->e[i]) == key)
			return (int)i;
	return -1;
}

static int work_apply(struct work_set *w, const struct txn_op *op)
{
	const struct virq_route_entry *e = &op->e;
	uint32_t key = entry_key(e);
	int i = op->kind == OP_REMOVE_GSI ? -1 : work_find(w, key);

	switch (op->kind) {
	case OP_ADD:
		if (key == KEY_NONCHIP && w->nr)
			return virq_fail(
				EINVAL,
				"route: GSI %u already has an entry; an MSI/PPI/LPI entry must be alone",
				e->gsi);
		if (key != KEY_NONCHIP && work_find(w, KEY_NONCHIP) >= 0)
			return virq_fail(
				EINVAL,
				"route: GSI %u has an MSI/PPI/LPI entry; no chip pin may join it",
				e->gsi);
		if (i >= 0)
			return virq_fail(EINVAL,
					 "route: GSI %u already routed to chip %u",
					 e->gsi, key);
		/* keep chip entries sorted by chip id: canonical order */
		i = (int)w->nr;
		while (i > 0 && entry_key(&w->e[i - 1]) > key) {
			w->e[i] = w->e[i - 1];
			i--;
		}
		w->e[i] = *e;
		w->nr++;
		return 0;
	case OP_UPDATE:
		if (i < 0)
			return virq_fail(
				ENOENT, "route: GSI %u has no %s entry to update", e->gsi,
				key == KEY_NONCHIP ? "non-chip" : "such chip");
		w->e[i] = *e;
		return 0;
	case OP_REMOVE:
		if (i < 0)
			return virq_fail(
				ENOENT, "route: GSI %u has no %s entry to remove", e->gsi,
				key == KEY_NONCHIP ? "non-chip" : "such chip");
		memmove(&w->e[i], &w->e[i + 1],
			(w->nr - (uint32_t)i - 1) * sizeof(w->e[0]));
		w->nr--;
		return 0;
	default: /* OP_REMOVE_GSI */
		w->nr = 0;
		return 0;
	}
}

static bool set_has_entry(const struct route_set *s, const struct virq_route_entry *e)
{
	for (uint32_t i = 0; s && i < s->nr; i++)
		if (!memcmp(&s->e[i], e, sizeof(*e)))
			return true;
	return false;
}

static bool work_equals(const struct work_set *w, const struct route_set *s)
{
	uint32_t nr = s ? s->nr : 0;

	if (w->nr != nr)
		return false;
	return nr == 0 || memcmp(w->e, s->e, nr * sizeof(w->e[0])) == 0;
}

static struct route_set *set_alloc(const struct work_set *w)
{
	struct route_set *s;

	s = malloc(sizeof(*s) + w->nr * sizeof(w->e[0]));
	if (!s)
		return NULL;
	s->gc_next = NULL;
	s->nr = w->nr;
	memcpy(s->e, w->e, w->nr * sizeof(w->e[0]));
	return s;
}

static struct route_set *slot_get(struct router *r, uint32_t gsi)
{
	struct route_chunk *c = r->chunks[gsi >> ROUTE_CHUNK_SHIFT];

	return c ? c->slot[gsi & (ROUTE_CHUNK - 1)] : NULL;
}

/* ---- garbage: old sets reach RCU in batches, not one call_rcu each ---- */

static void gc_free_batch(struct virq_rcu_head *head)
{
	struct route_set *s = virq_container_of(head, struct route_set, rcu);

	while (s) {
		struct route_set *next = s->gc_next;

		free(s);
		s = next;
	}
}

static void gc_flush(struct router *r)
{
	if (!r->gc_head)
		return;
	virq_call_rcu(&r->gc_head->rcu, gc_free_batch);
	r->gc_head = NULL;
	r->gc_count = 0;
}

static void gc_defer(struct router *r, struct route_set *s)
{
	if (!s)
		return;
	s->gc_next = r->gc_head;
	r->gc_head = s;
	if (++r->gc_count >= ROUTE_GC_BATCH)
		gc_flush(r);
}

/* ---- reverse map (chip, pin) -> lowest GSI ---- */

static struct rmap_cell *rmap_cell(struct router *r, uint32_t chip, uint32_t pin,
				   bool alloc)
{
	struct rmap_cell **top = r->rmap[chip];
	struct rmap_cell *chunk;

	if (!top) {
		if (!alloc)
			return NULL;
		top = calloc(RMAP_TOP, sizeof(*top));
		if (!top)
			return NULL;
		__atomic_store_n(&r->rmap[chip], top, __ATOMIC_RELEASE);
	}
	chunk = top[pin >> ROUTE_CHUNK_SHIFT];
	if (!chunk) {
		if (!alloc)
			return NULL;
		chunk = calloc(ROUTE_CHUNK, sizeof(*chunk));
		if (!chunk)
			return NULL;
		__atomic_store_n(&top[pin >> ROUTE_CHUNK_SHIFT], chunk, __ATOMIC_RELEASE);
	}
	return &chunk[pin & (ROUTE_CHUNK - 1)];
}

static bool set_has_pin(const struct route_set *s, uint32_t chip, uint32_t pin)
{
	for (uint32_t i = 0; s && i < s->nr; i++)
		if (s->e[i].kind == VIRQ_ROUTE_IRQCHIP &&
		    s->e[i].u.irqchip.chip == chip && s->e[i].u.irqchip.pin == pin)
			return true;
	return false;
}

/* Only when a pin routed from several GSIs loses its lowest one. */
static uint32_t rmap_rescan(struct router *r, uint32_t chip, uint32_t pin)
{
	for (uint32_t c = 0; c < r->nr_chunks; c++) {
		if (!r->chunks[c])
			continue;
		for (uint32_t i = 0; i < ROUTE_CHUNK; i++)
			if (set_has_pin(r->chunks[c]->slot[i], chip, pin))
				return (c << ROUTE_CHUNK_SHIFT) + i + 1;
	}
	return 0;
}

static void rmap_update(struct router *r, const struct change *ch)
{
	const struct route_set *o = ch->old, *n = ch->new;

	for (uint32_t i = 0; n && i < n->nr; i++) {
		const struct virq_route_entry *e = &n->e[i];
		struct rmap_cell *cell;

		if (e->kind != VIRQ_ROUTE_IRQCHIP ||
		    set_has_pin(o, e->u.irqchip.chip, e->u.irqchip.pin))
			continue;
		/* allocated by rmap_prepare */
		cell = rmap_cell(r, e->u.irqchip.chip, e->u.irqchip.pin, false);
		cell->count++;
		if (!cell->gsi_plus1 || ch->gsi + 1 < cell->gsi_plus1)
			__atomic_store_n(&cell->gsi_plus1, ch->gsi + 1, __ATOMIC_RELAXED);
	}
	for (uint32_t i = 0; o && i < o->nr; i++) {
		const struct virq_route_entry *e = &o->e[i];
		struct rmap_cell *cell;
		uint32_t v;

		if (e->kind != VIRQ_ROUTE_IRQCHIP ||
		    set_has_pin(n, e->u.irqchip.chip, e->u.irqchip.pin))
			continue;
		cell = rmap_cell(r, e->u.irqchip.chip, e->u.irqchip.pin, false);
		if (--cell->count == 0)
			v = 0;
		else if (cell->gsi_plus1 == ch->gsi + 1)
			v = rmap_rescan(r, e->u.irqchip.chip, e->u.irqchip.pin);
		else
			continue;
		__atomic_store_n(&cell->gsi_plus1, v, __ATOMIC_RELAXED);
	}
}

static int rmap_prepare(struct router *r, const struct route_set *n)
{
	for (uint32_t i = 0; n && i < n->nr; i++)
		if (n->e[i].kind == VIRQ_ROUTE_IRQCHIP &&
		    !rmap_cell(r, n->e[i].u.irqchip.chip, n->e[i].u.irqchip.pin, true))
			return virq_fail(ENOMEM,
					 "route: out of memory for the reverse map");
	return 0;
}

bool router_gsi_of_pin(struct router *r, uint32_t chip, uint32_t pin, uint32_t *gsi)
{
	struct rmap_cell **top;
	struct rmap_cell *chunk;
	uint32_t v;

	if (chip >= VIRQ_MAX_CHIPS || pin >= VIRQ_MAX_CHIP_PINS)
		return false;
	top = __atomic_load_n(&r->rmap[chip], __ATOMIC_ACQUIRE);
	chunk = top ? __atomic_load_n(&top[pin >> ROUTE_CHUNK_SHIFT], __ATOMIC_ACQUIRE)
		    : NULL;
	v = chunk ? __atomic_load_n(&chunk[pin & (ROUTE_CHUNK - 1)].gsi_plus1,
				    __ATOMIC_RELAXED)
		  : 0;
	*gsi = v - 1;
	return v != 0;
}

int virq_route_gsi_of_pin(struct virq_vm *vm, uint32_t chip, uint32_t pin, uint32_t *gsi)
{
	if (!vm || !gsi || chip >= VIRQ_MAX_CHIPS || pin >= VIRQ_MAX_CHIP_PINS)
		return virq_fail(EINVAL, "gsi_of_pin: bad argument");
	if (!router_gsi_of_pin(&vm->router, chip, pin, gsi))
		return virq_fail(ENOENT, "gsi_of_pin: no GSI routes to chip %u pin %u",
				 chip, pin);
	return 0;
}

/* ---- commit ---- */

static int op_cmp(const void *a, const void *b)
{
	const struct txn_op *x = a, *y = b;

	if (x->e.gsi != y->e.gsi)
		return x->e.gsi < y->e.gsi ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int chunk_prepare(struct router *r, uint32_t gsi)
{
	struct route_chunk *c;

	if (r->chunks[gsi >> ROUTE_CHUNK_SHIFT])
		return 0;
	c = r->slab ? &r->slab[gsi >> ROUTE_CHUNK_SHIFT] : calloc(1, sizeof(*c));
	if (!c)
		return virq_fail(ENOMEM, "route: out of memory for a GSI chunk");
	/* an empty chunk is harmless to publish early */
	virq_rcu_assign_pointer(r->chunks[gsi >> ROUTE_CHUNK_SHIFT], c);
	return 0;
}

static void notify_observers(struct virq_vm *vm, const struct change *ch, size_t n)
{
	struct route_observer obs[ROUTE_MAX_OBSERVERS];
	unsigned nr_obs = vm->router.nr_observers;
	uint32_t *gsis;

	if (!nr_obs)
		return;
	/* a copy: an observer may unobserve itself while being told */
	memcpy(obs, vm->router.observers, sizeof(obs));
	gsis = malloc(n * sizeof(*gsis));
	if (!gsis) {
		/* observers must still hear of it: one GSI at a time */
		for (size_t i = 0; i < n; i++)
			for (unsigned k = 0; k < nr_obs; k++)
				obs[k].fn(obs[k].opaque, vm, &ch[i].gsi, 1);
		return;
	}
	for (size_t i = 0; i < n; i++)
		gsis[i] = ch[i].gsi;
	for (unsigned k = 0; k < nr_obs; k++)
		obs[k].fn(obs[k].opaque, vm, gsis, n);
	free(gsis);
}

/* Caller holds the config lock.  Sorts @ops in place. */
static int txn_apply(struct virq_vm *vm, struct txn_op *ops, size_t nr_ops,
		     bool whole_table)
{
	struct router *r = &vm->router;
	struct change *ch = NULL;
	struct work_set w;
	size_t nch = 0;
	int64_t entries = (int64_t)r->nr_entries, gsis = (int64_t)r->nr_gsis;
	int ret = 0;

	if (!nr_ops) {
		r->stats.noop_commits++;
		return 0;
	}
	qsort(ops, nr_ops, sizeof(*ops), op_cmp);
	ch = malloc(nr_ops * sizeof(*ch));
	if (!ch) {
		ret = virq_fail(ENOMEM, "route: out of memory for the commit");
		goto out;
	}

	for (size_t i = 0; i < nr_ops;) {
		uint32_t gsi = ops[i].e.gsi;
		struct route_set *cur = slot_get(r, gsi);

		w.nr = cur ? cur->nr : 0;
		if (w.nr)
			memcpy(w.e, cur->e, w.nr * sizeof(w.e[0]));
		for (; i < nr_ops && ops[i].e.gsi == gsi; i++) {
			ret = work_apply(&w, &ops[i]);
			if (ret)
				goto out;
		}
		for (uint32_t k = 0; k < w.nr; k++) {
			/* entries kept as they were stay valid even if their chip
			 * went away: injection checks the chip again */
			if (set_has_entry(cur, &w.e[k]))
				continue;
			ret = entry_check_chip(vm, &w.e[k]);
			if (ret)
				goto out;
		}
		if (work_equals(&w, cur))
			continue;
		ch[nch].gsi = gsi;
		ch[nch].old = cur;
		ch[nch].new = NULL;
		if (w.nr) {
			ch[nch].new = set_alloc(&w);
			if (!ch[nch].new) {
				nch++;
				ret = virq_fail(ENOMEM, "route: out of memory for GSI %u",
						gsi);
				goto out;
			}
		}
		entries += (int64_t)w.nr - (cur ? cur->nr : 0);
		gsis += (w.nr ? 1 : 0) - (cur ? 1 : 0);
		nch++;
	}

	if (entries > (int64_t)r->limit) {
		ret = virq_fail(whole_table ? EINVAL : ENOSPC,
				"route: %lld entries exceed the limit %u",
				(long long)entries, r->limit);
		goto out;
	}
	for (size_t i = 0; i < nch; i++) {
		if (!ch[i].new)
			continue;
		ret = chunk_prepare(r, ch[i].gsi);
		if (!ret)
			ret = rmap_prepare(r, ch[i].new);
		if (ret)
			goto out;
	}

	/* Nothing can fail from here on. */
	for (size_t i = 0; i < nch; i++) {
		struct route_chunk *c = r->chunks[ch[i].gsi >> ROUTE_CHUNK_SHIFT];

		if (c)
			virq_rcu_assign_pointer(c->slot[ch[i].gsi & (ROUTE_CHUNK - 1)],
						ch[i].new);
		rmap_update(r, &ch[i]);
		gc_defer(r, ch[i].old);
	}
	r->nr_entries = (uint64_t)entries;
	r->nr_gsis = (uint64_t)gsis;
	if (nch) {
		r->stats.commits++;
		r->stats.gsis_published += nch;
		virq_trace_commit(vm, nch, r->nr_entries);
		notify_observers(vm, ch, nch);
	} else {
		r->stats.noop_commits++;
	}
	free(ch);
	return 0;

out:
	for (size_t i = 0; ch && i < nch; i++)
		free(ch[i].new);
	free(ch);
	r->stats.failed_commits++;
	return ret;
}

int virq_route_commit(struct virq_route_txn *txn)
{
	struct virq_vm *vm;
	int ret;

	if (!txn)
		return virq_fail(EINVAL, "route_commit: NULL transaction");
	vm = txn->vm;
	config_lock(vm);
	ret = txn_apply(vm, txn->ops, txn->nr, txn->whole_table);
	config_unlock(vm);
	virq_route_abort(txn);
	return ret;
}

int virq_route_set_table(struct virq_vm *vm, const struct virq_route_entry *entries,
			 size_t nr)
{
	struct virq_route_txn txn = { .vm = vm, .whole_table = true };
	struct router *r;
	int ret = 0;

	if (!vm || (nr && !entries))
		return virq_fail(EINVAL, "route_set_table: NULL argument");
	r = &vm->router;
	if (nr > r->limit)
		return virq_fail(EINVAL,
				 "route_set_table: %zu entries exceed the limit %u", nr,
				 r->limit);
	for (size_t i = 0; i < nr; i++) {
		ret = txn_entry_op(&txn, OP_ADD, &entries[i]);
		if (ret)
			goto out;
	}

	config_lock(vm);
	/* every GSI in use now is cleared first, then refilled */
	for (uint32_t c = 0; c < r->nr_chunks && !ret; c++) {
		if (!r->chunks[c])
			continue;
		for (uint32_t i = 0; i < ROUTE_CHUNK && !ret; i++) {
			struct virq_route_entry e = {
				.gsi = (c << ROUTE_CHUNK_SHIFT) + i,
			};

			if (r->chunks[c]->slot[i])
				ret = txn_push(&txn, OP_REMOVE_GSI, &e);
		}
	}
	/* removals must run before the adds of the same GSI */
	for (size_t i = 0; i < txn.nr && !ret; i++)
		txn.ops[i].seq = txn.ops[i].kind == OP_REMOVE_GSI ? 0 : (uint32_t)i + 1;
	if (!ret)
		ret = txn_apply(vm, txn.ops, txn.nr, true);
	config_unlock(vm);
out:
	free(txn.ops);
	return ret;
}

/* ---- reading ---- */

int virq_route_get(struct virq_vm *vm, uint32_t gsi, struct virq_route_entry *out,
		   size_t max)
{
	struct route_set *s;
	int nr;

	if (!vm || (max && !out))
		return virq_fail(EINVAL, "route_get: NULL argument");
	virq_rcu_read_lock();
	s = router_lookup(&vm->router, gsi);
	nr = s ? (int)s->nr : 0;
	if (s)
		memcpy(out, s->e, (s->nr < max ? s->nr : max) * sizeof(*out));
	virq_rcu_read_unlock();
	return nr;
}

long virq_route_get_table(struct virq_vm *vm, struct virq_route_entry *out, size_t max)
{
	struct router *r;
	size_t n = 0;

	if (!vm || (max && !out))
		return virq_fail(EINVAL, "route_get_table: NULL argument");
	r = &vm->router;
	config_lock(vm);
	for (uint32_t c = 0; c < r->nr_chunks; c++) {
		if (!r->chunks[c])
			continue;
		for (uint32_t i = 0; i < ROUTE_CHUNK; i++) {
			const struct route_set *s = r->chunks[c]->slot[i];

			for (uint32_t k = 0; s && k < s->nr; k++, n++)
				if (n < max)
					out[n] = s->e[k];
		}
	}
	config_unlock(vm);
	return (long)n;
}

void virq_route_get_stats(struct virq_vm *vm, struct virq_route_stats *st)
{
	if (!vm || !st)
		return;
	config_lock(vm);
	*st = vm->router.stats;
	st->entries = vm->router.nr_entries;
	st->gsis = vm->router.nr_gsis;
	st->limit = vm->router.limit;
	config_unlock(vm);
}

int virq_route_observe(struct virq_vm *vm, virq_route_observer_fn fn, void *opaque)
{
	struct router *r;
	int ret = 0;

	if (!vm || !fn)
		return virq_fail(EINVAL, "route_observe: NULL argument");
	r = &vm->router;
	config_lock(vm);
	if (r->nr_observers == ROUTE_MAX_OBSERVERS)
		ret = virq_fail(ENOSPC, "route_observe: %d observers already",
				ROUTE_MAX_OBSERVERS);
	else
		r->observers[r->nr_observers++] = (struct route_observer){ fn, opaque };
	config_unlock(vm);
	return ret;
}

int virq_route_unobserve(struct virq_vm *vm, virq_route_observer_fn fn, void *opaque)
{
	struct router *r;
	int ret = virq_fail(ENOENT, "route_unobserve: not observing");

	if (!vm)
		return virq_fail(EINVAL, "route_unobserve: NULL vm");
	r = &vm->router;
	config_lock(vm);
	for (unsigned k = 0; k < r->nr_observers; k++) {
		if (r->observers[k].fn != fn || r->observers[k].opaque != opaque)
			continue;
		r->observers[k] = r->observers[--r->nr_observers];
		virq_clear_error();
		ret = 0;
		break;
	}
	config_unlock(vm);
	return ret;
}

/* ---- lifetime ---- */

int router_init(struct router *r, uint32_t limit)
{
	memset(r, 0, sizeof(*r));
	r->limit = limit;
	r->nr_chunks = (limit + ROUTE_CHUNK - 1) >> ROUTE_CHUNK_SHIFT;
	r->chunks = calloc(r->nr_chunks, sizeof(*r->chunks));
	if (!r->chunks)
		return virq_fail(ENOMEM, "vm: out of memory for %u routes", limit);
	/*
	 * A big table's slots live in one huge-page-backed mapping, so a
	 * lookup anywhere in a million GSIs costs a cache miss but rarely a
	 * TLB miss too.  Untouched chunks stay unbacked.
	 */
	if (r->nr_chunks >= SLAB_MIN_CHUNKS) {
		r->slab_len = (size_t)r->nr_chunks * sizeof(struct route_chunk);
		r->slab = mmap(NULL, r->slab_len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (r->slab == MAP_FAILED)
			r->slab = NULL; /* chunks come from calloc instead */
		else
			madvise(r->slab, r->slab_len, MADV_HUGEPAGE);
	}
	return 0;
}

/* No reader is left: free directly. */
void router_fini(struct router *r)
{
	gc_flush(r);
	virq_rcu_barrier();
	for (uint32_t c = 0; c < r->nr_chunks; c++) {
		if (!r->chunks[c])
			continue;
		for (uint32_t i = 0; i < ROUTE_CHUNK; i++)
			free(r->chunks[c]->slot[i]);
		if (!r->slab)
			free(r->chunks[c]);
	}
	free(r->chunks);
	if (r->slab)
		munmap(r->slab, r->slab_len);
	for (uint32_t chip = 0; chip < VIRQ_MAX_CHIPS; chip++) {
		if (!r->rmap[chip])
			continue;
		for (uint32_t i = 0; i < RMAP_TOP; i++)
			free(r->rmap[chip][i]);
		free(r->rmap[chip]);
	}
}
