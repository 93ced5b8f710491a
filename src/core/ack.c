/* SPDX-License-Identifier: MIT */
/*
 * Acknowledgement and mask notifiers.  A chip reports a guest EOI, or a
 * mask change, of (chip, pin); the reverse map names the GSI, whose
 * notifiers run (resamplers, a VMM's PIT model, a backend).  The notifier list is a sorted array published
 * by RCU, so an EOI costs a few loads and a binary search.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void free_hooks(struct virq_rcu_head *head)
{
	free(virq_container_of(head, struct ack_hooks, rcu));
}

/* First index whose GSI is >= @gsi. */
static unsigned hooks_lower_bound(const struct ack_hooks *a, uint32_t gsi)
{
	unsigned lo = 0, hi = a ? a->n : 0;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (a->h[mid].gsi < gsi)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Replace the published array (config lock held); -ENOMEM leaves it. */
static int hooks_edit(struct virq_vm *vm, const struct ack_hook *add,
		      const struct ack_hook *del)
{
	struct ack_hooks *old = vm->ack_hooks, *new;
	unsigned n = old ? old->n : 0, k = 0, at;
	bool found = false;

	new = malloc(sizeof(*new) + (n + 1) * sizeof(new->h[0]));
	if (!new)
		return virq_fail(ENOMEM, "ack notifier: out of memory");
	at = add ? hooks_lower_bound(old, add->gsi + 1) : n;
	for (unsigned i = 0; i < n; i++) {
		const struct ack_hook *h = &old->h[i];

		if (i == at)
			new->h[k++] = *add;
		if (del && !found && h->gsi == del->gsi && h->fn == del->fn &&
		    h->mask_fn == del->mask_fn && h->opaque == del->opaque) {
			found = true;
			continue;
		}
		new->h[k++] = *h;
	}
	if (add && at == n)
		new->h[k++] = *add;
	if (del && !found) {
		free(new);
		return virq_fail(ENOENT, "ack notifier: none for GSI %u", del->gsi);
	}
	new->n = k;
	virq_rcu_assign_pointer(vm->ack_hooks, new);
	if (old)
		virq_call_rcu(&old->rcu, free_hooks);
	return 0;
}

static int hook_add(struct virq_vm *vm, const struct ack_hook *h)
{
	int ret;

	if (!vm || !(h->fn || h->mask_fn))
		return virq_fail(EINVAL, "notifier: NULL argument");
	if (h->gsi >= vm->router.limit)
		return virq_fail(EINVAL, "notifier: GSI %u beyond the limit %u", h->gsi,
				 vm->router.limit);
	config_lock(vm);
	ret = hooks_edit(vm, h, NULL);
	config_unlock(vm);
	return ret;
}

static int hook_remove(struct virq_vm *vm, const struct ack_hook *h)
{
	int ret;

	if (!vm || !(h->fn || h->mask_fn))
		return virq_fail(EINVAL, "notifier: NULL argument");
	config_lock(vm);
	ret = hooks_edit(vm, NULL, h);
	config_unlock(vm);
	return ret;
}

int virq_ack_notifier_add(struct virq_vm *vm, uint32_t gsi, virq_ack_fn fn, void *opaque)
{
	return hook_add(vm, &(struct ack_hook){ .gsi = gsi, .fn = fn, .opaque = opaque });
}

int virq_ack_notifier_remove(struct virq_vm *vm, uint32_t gsi, virq_ack_fn fn,
			     void *opaque)
{
	return hook_remove(vm,
			   &(struct ack_hook){ .gsi = gsi, .fn = fn, .opaque = opaque });
}

int virq_mask_notifier_add(struct virq_vm *vm, uint32_t gsi, virq_mask_fn fn,
			   void *opaque)
{
	return hook_add(
		vm, &(struct ack_hook){ .gsi = gsi, .mask_fn = fn, .opaque = opaque });
}

int virq_mask_notifier_remove(struct virq_vm *vm, uint32_t gsi, virq_mask_fn fn,
			      void *opaque)
{
	return hook_remove(
		vm, &(struct ack_hook){ .gsi = gsi, .mask_fn = fn, .opaque = opaque });
}

/* The opaque of @gsi's notifier @fn, or NULL.  Caller holds RCU read. */
void *ack_hook_opaque(const struct ack_hooks *a, uint32_t gsi, virq_ack_fn fn)
{
	for (unsigned i = hooks_lower_bound(a, gsi); a && i < a->n && a->h[i].gsi == gsi;
	     i++)
		if (a->h[i].fn == fn)
			return a->h[i].opaque;
	return NULL;
}

/* Run the ack (@mask false) or mask notifiers of (chip, pin)'s GSI. */
static int run_hooks(struct virq_vm *vm, uint32_t chip, uint32_t pin, bool mask,
		     bool masked)
{
	const struct ack_hooks *a;
	uint32_t gsi;
	int ran = 0;

	if (!vm || !router_gsi_of_pin(&vm->router, chip, pin, &gsi))
		return 0;
	virq_rcu_read_lock();
	a = virq_rcu_dereference(vm->ack_hooks);
	for (unsigned i = hooks_lower_bound(a, gsi); a && i < a->n && a->h[i].gsi == gsi;
	     i++) {
		const struct ack_hook *h = &a->h[i];

		if (mask && h->mask_fn)
			h->mask_fn(h->opaque, gsi, masked);
		else if (!mask && h->fn)
			h->fn(h->opaque, gsi);
		else
			continue;
		ran++;
	}
	virq_rcu_read_unlock();
	return ran;
}

int virq_notify_ack(struct virq_vm *vm, uint32_t chip, uint32_t pin)
{
	return run_hooks(vm, chip, pin, false, false);
}

int virq_notify_mask(struct virq_vm *vm, uint32_t chip, uint32_t pin, bool masked)
{
	return run_hooks(vm, chip, pin, true, masked);
}

/* VM teardown: no reader left. */
void ack_fini(struct virq_vm *vm)
{
	free(vm->ack_hooks);
	vm->ack_hooks = NULL;
}
