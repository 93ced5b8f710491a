/* SPDX-License-Identifier: MIT */
/*
 * Address maps: MSI doorbell windows and guest accessor regions.
 *
 * Both are small read-mostly arrays rebuilt from the live devices on every
 * change and published by RCU, so an MSI or a vCPU's MMIO exit finds its
 * device without a lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "trace.h"

static bool ranges_overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a <= b + bs - 1 && b <= a + as - 1;
}

bool doorbell_overlaps(struct virq_vm *vm, uint64_t base, uint64_t size)
{
	for (const struct virq_device *d = vm->devices; d; d = d->next)
		for (unsigned i = 0; i < d->nr_doorbells; i++)
			if (ranges_overlap(base, size, d->doorbells[i].base,
					   d->doorbells[i].size))
				return true;
	return false;
}

bool addrmap_overlaps(struct virq_vm *vm, enum virq_space space, uint64_t base,
		      uint64_t size, const struct virq_device *self, unsigned self_index)
{
	for (const struct virq_device *d = vm->devices; d; d = d->next) {
		for (unsigned i = 0; i < d->nr_regions; i++) {
			const struct device_region *r = &d->regions[i];

			if (r->space != space || (d == self && r->index == self_index))
				continue;
			if (ranges_overlap(base, size, r->base, r->size))
				return true;
		}
	}
	return false;
}

/* both map types start with their rcu head */
_Static_assert(offsetof(struct doorbell_map, rcu) == 0, "rcu head first");
_Static_assert(offsetof(struct region_map, rcu) == 0, "rcu head first");

static void free_map(struct virq_rcu_head *head)
{
	free(head);
}

static int region_cmp(const void *a, const void *b)
{
	const struct region *x = a, *y = b;

	return x->base < y->base ? -1 : x->base > y->base;
}

static void collect(struct virq_vm *vm, const struct virq_device *skip,
		    struct doorbell_map *dm, struct region_map **rm)
{
	for (const struct virq_device *d = vm->devices; d; d = d->next) {
		if (d == skip || !d->live)
			continue;
		for (unsigned i = 0; i < d->nr_doorbells; i++)
			dm->d[dm->n++] = d->doorbells[i];
		for (unsigned i = 0; i < d->nr_regions; i++) {
			const struct device_region *r = &d->regions[i];
			struct region_map *m = rm[r->space];

			m->r[m->n++] =
				(struct region){ r->base, r->size,
						 (struct virq_device *)d, r->index };
		}
	}
}

int addrmap_rebuild(struct virq_vm *vm, const struct virq_device *skip)
{
	struct region_map *rm[VIRQ_SPACE_MAX] = { 0 };
	struct doorbell_map *dm, *old_dm;
	unsigned nd = 0, nr[VIRQ_SPACE_MAX] = { 0 };
	int ret = 0;

	for (const struct virq_device *d = vm->devices; d; d = d->next) {
		if (d == skip || !d->live)
			continue;
		nd += d->nr_doorbells;
		for (unsigned i = 0; i < d->nr_regions; i++)
			nr[d->regions[i].space]++;
	}

	dm = malloc(sizeof(*dm) + nd * sizeof(dm->d[0]));
	for (unsigned s = 0; s < VIRQ_SPACE_MAX; s++) {
		rm[s] = malloc(sizeof(*rm[s]) + nr[s] * sizeof(rm[s]->r[0]));
		if (rm[s])
			rm[s]->n = 0;
		else
			ret = -ENOMEM;
	}
	if (!dm || ret) {
		ret = virq_fail(ENOMEM, "out of memory for the address map");
		goto fail;
	}
	dm->n = 0;
	collect(vm, skip, dm, rm);
	for (unsigned s = 0; s < VIRQ_SPACE_MAX; s++) {
		struct region_map *old = vm->regions[s];

		qsort(rm[s]->r, rm[s]->n, sizeof(rm[s]->r[0]), region_cmp);
		virq_rcu_assign_pointer(vm->regions[s], rm[s]);
		if (old)
			virq_call_rcu(&old->rcu, free_map);
	}
	old_dm = vm->doorbells;
	virq_rcu_assign_pointer(vm->doorbells, dm);
	if (old_dm)
		virq_call_rcu(&old_dm->rcu, free_map);
	return 0;

fail:
	free(dm);
	for (unsigned s = 0; s < VIRQ_SPACE_MAX; s++)
		free(rm[s]);
	return ret;
}

/* VM teardown: nobody reads any more. */
void addrmap_fini(struct virq_vm *vm)
{
	free(vm->doorbells);
	vm->doorbells = NULL;
	for (unsigned s = 0; s < VIRQ_SPACE_MAX; s++) {
		free(vm->regions[s]);
		vm->regions[s] = NULL;
	}
}

/* ---- lookups (RCU read side) ---- */

int msi_dispatch(struct virq_vm *vm, const struct virq_msi *msi)
{
	const struct doorbell_map *dm = virq_rcu_dereference(vm->doorbells);
	uint64_t addr = (uint64_t)msi->address_hi << 32 | msi->address_lo;
	int ret;

	for (unsigned i = 0; dm && i < dm->n; i++) {
		const struct doorbell *d = &dm->d[i];

		if (addr - d->base >= d->size)
			continue;
		if (!d->dev->type->ops.msi)
			return virq_fail(EINVAL, "msi: %s takes no MSIs", d->dev->name);
		ret = d->dev->type->ops.msi(d->dev, msi);
		virq_trace_msi(vm, addr, msi->data, ret);
		return ret;
	}
	if (!vm->cfg.ops.msi)
		return virq_fail(ENODEV, "msi: nothing takes MSIs at 0x%llx",
				 (unsigned long long)addr);
	ret = vm->cfg.ops.msi(vm->cfg.opaque, msi);
	virq_trace_msi(vm, addr, msi->data, ret);
	return ret;
}

static const struct region *region_lookup(const struct region_map *m, uint64_t addr,
					  unsigned size)
{
	unsigned lo = 0, hi = m ? m->n : 0;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		const struct region *r = &m->r[mid];

		if (addr < r->base) {
			hi = mid;
		} else if (addr - r->base >= r->size) {
			lo = mid + 1;
		} else {
			/* the access must not run past the region */
			return size <= r->size - (addr - r->base) ? r : NULL;
		}
	}
	return NULL;
}

static int io_access(struct virq_vm *vm, uint32_t vcpu, enum virq_space space,
		     uint64_t addr, unsigned size, uint64_t *val, bool write)
{
	const struct region *r;
	int ret;

	if (!vm || (unsigned)space >= VIRQ_SPACE_MAX || !val ||
	    (size != 1 && size != 2 && size != 4 && size != 8))
		return virq_fail(EINVAL, "io: bad space, size %u or NULL", size);
	if (vcpu >= vm->nr_vcpus && vcpu != VIRQ_VCPU_NONE)
		return virq_fail(EINVAL, "io: vCPU %u of %u", vcpu, vm->nr_vcpus);
	virq_rcu_read_lock();
	r = region_lookup(virq_rcu_dereference(vm->regions[space]), addr, size);
	if (!r) {
		ret = virq_fail(ENOENT, "io: no device region at 0x%llx",
				(unsigned long long)addr);
	} else if (write) {
		ret = r->dev->type->ops.write
			      ? r->dev->type->ops.write(r->dev, vcpu, r->index,
							addr - r->base, size, *val)
			      : -EOPNOTSUPP;
	} else {
		ret = r->dev->type->ops.read
			      ? r->dev->type->ops.read(r->dev, vcpu, r->index,
						       addr - r->base, size, val)
			      : -EOPNOTSUPP;
	}
	virq_rcu_read_unlock();
	return ret;
}

int virq_io_read(struct virq_vm *vm, uint32_t vcpu, enum virq_space space, uint64_t addr,
		 unsigned size, uint64_t *val)
{
	return io_access(vm, vcpu, space, addr, size, val, false);
}

int virq_io_write(struct virq_vm *vm, uint32_t vcpu, enum virq_space space, uint64_t addr,
		  unsigned size, uint64_t val)
{
	return io_access(vm, vcpu, space, addr, size, &val, true);
}
