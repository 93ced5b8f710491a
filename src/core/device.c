/* SPDX-License-Identifier: MIT */
/*
 * Device control: types, creation and destruction, attributes.
 *
 * A device's claims (chips, doorbells, regions) are collected while its
 * create op runs and published only once it succeeded, so no input can
 * reach a half-built device.  Destruction unpublishes first, waits for a
 * grace period with no lock held, then lets the type free its state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- type registry (process-wide) ---- */

#define MAX_TYPES 64

/* guarded by types_lock */
static pthread_mutex_t types_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct virq_device_type *types[MAX_TYPES];
static unsigned nr_types;

int virq_device_type_register(const struct virq_device_type *type)
{
	int ret = 0;

	if (!type || !type->name || !type->name[0] || !type->ops.create)
		return virq_fail(EINVAL, "device type: needs a name and a create op");
	pthread_mutex_lock(&types_lock);
	for (unsigned i = 0; i < nr_types; i++) {
		if (strcmp(types[i]->name, type->name))
			continue;
		if (types[i] != type)
			ret = virq_fail(EEXIST, "device type '%s' already registered",
					type->name);
		goto out;
	}
	if (nr_types == MAX_TYPES)
		ret = virq_fail(ENOSPC, "device type: %d types already", MAX_TYPES);
	else
		types[nr_types++] = type;
out:
	pthread_mutex_unlock(&types_lock);
	return ret;
}

const struct virq_device_type *virq_device_type_find(const char *name)
{
	const struct virq_device_type *t = NULL;

	if (!name)
		return NULL;
	pthread_mutex_lock(&types_lock);
	for (unsigned i = 0; i < nr_types && !t; i++)
		if (!strcmp(types[i]->name, name))
			t = types[i];
	pthread_mutex_unlock(&types_lock);
	return t;
}

/* ---- claims made by a type's create op ---- */

int virq_device_add_chip(struct virq_device *dev, uint32_t chip, uint32_t nr_pins)
{
	struct virq_vm *vm;
	struct chip_slot *slot;
	int ret = 0;

	if (!dev)
		return virq_fail(EINVAL, "add_chip: NULL device");
	vm = dev->vm;
	if (chip >= VIRQ_MAX_CHIPS || !nr_pins || nr_pins > VIRQ_MAX_CHIP_PINS)
		return virq_fail(EINVAL, "%s: chip %u with %u pins out of range",
				 dev->name, chip, nr_pins);
	config_lock(vm);
	if (vm->chips[chip]) {
		ret = virq_fail(EEXIST, "%s: chip %u belongs to %s", dev->name, chip,
				vm->chips[chip]->dev->name);
		goto out;
	}
	for (unsigned i = 0; i < dev->nr_chips; i++) {
		if (dev->chips[i]->chip == chip) {
			ret = virq_fail(EEXIST, "%s: chip %u claimed twice", dev->name,
					chip);
			goto out;
		}
	}
	slot = calloc(1, sizeof(*slot));
	if (!slot) {
		ret = virq_fail(ENOMEM, "%s: out of memory", dev->name);
		goto out;
	}
	slot->dev = dev;
	slot->chip = chip;
	slot->nr_pins = nr_pins;
	dev->chips[dev->nr_chips++] = slot;
	if (dev->live)
		virq_rcu_assign_pointer(vm->chips[chip], slot);
out:
	config_unlock(vm);
	return ret;
}

int virq_device_chip_accepts(struct virq_device *dev, uint32_t chip, unsigned kinds)
{
	int ret;

	if (!dev)
		return virq_fail(EINVAL, "chip_accepts: NULL device");
	if (kinds & ~(VIRQ_CHIP_PPI | VIRQ_CHIP_LPI))
		return virq_fail(EINVAL, "%s: unknown route kinds 0x%x", dev->name,
				 kinds);
	config_lock(dev->vm);
	ret = virq_fail(ENOENT, "%s: does not own chip %u", dev->name, chip);
	for (unsigned i = 0; i < dev->nr_chips; i++) {
		if (dev->chips[i]->chip != chip)
			continue;
		__atomic_store_n(&dev->chips[i]->accepts, kinds, __ATOMIC_RELEASE);
		virq_clear_error();
		ret = 0;
	}
	config_unlock(dev->vm);
	return ret;
}

int virq_device_add_doorbell(struct virq_device *dev, uint64_t base, uint64_t size)
{
	struct virq_vm *vm;
	int ret = 0;

	if (!dev)
		return virq_fail(EINVAL, "add_doorbell: NULL device");
	vm = dev->vm;
	if (!size || base + size - 1 < base)
		return virq_fail(EINVAL, "%s: doorbell window [0x%llx, +0x%llx) invalid",
				 dev->name, (unsigned long long)base,
				 (unsigned long long)size);
	config_lock(vm);
	if (dev->nr_doorbells == DEVICE_MAX_DOORBELLS) {
		ret = virq_fail(ENOSPC, "%s: too many doorbells", dev->name);
		goto out;
	}
	if (doorbell_overlaps(vm, base, size)) {
		ret = virq_fail(EEXIST, "%s: doorbell 0x%llx overlaps another", dev->name,
				(unsigned long long)base);
		goto out;
	}
	for (unsigned i = 0; i < dev->nr_doorbells; i++) {
		const struct doorbell *d = &dev->doorbells[i];

		if (base <= d->base + d->size - 1 && d->base <= base + size - 1) {
			ret = virq_fail(EEXIST, "%s: doorbell 0x%llx overlaps its own",
					dev->name, (unsigned long long)base);
			goto out;
		}
	}
	dev->doorbells[dev->nr_doorbells++] = (struct doorbell){ base, size, dev };
	if (dev->live) {
		ret = addrmap_rebuild(vm, NULL);
		if (ret)
			dev->nr_doorbells--;
	}
out:
	config_unlock(vm);
	return ret;
}

static struct device_region *region_find(struct virq_device *dev, enum virq_space space,
					 unsigned index)
{
	for (unsigned i = 0; i < dev->nr_regions; i++)
		if (dev->regions[i].space == space && dev->regions[i].index == index)
			return &dev->regions[i];
	return NULL;
}

static bool region_overlaps_own(const struct virq_device *dev, enum virq_space space,
				uint64_t base, uint64_t size, unsigned skip_index)
{
	for (unsigned i = 0; i < dev->nr_regions; i++) {
		const struct device_region *r = &dev->regions[i];

		if (r->space == space && r->index != skip_index &&
		    base <= r->base + r->size - 1 && r->base <= base + size - 1)
			return true;
	}
	return false;
}

int virq_device_add_region(struct virq_device *dev, enum virq_space space, uint64_t base,
			   uint64_t size, unsigned region)
{
	struct virq_vm *vm;
	int ret = 0;

	if (!dev)
		return virq_fail(EINVAL, "add_region: NULL device");
	vm = dev->vm;
	if ((unsigned)space >= VIRQ_SPACE_MAX || !size || base + size - 1 < base)
		return virq_fail(EINVAL, "%s: region %u invalid", dev->name, region);
	config_lock(vm);
	if (dev->nr_regions == DEVICE_MAX_REGIONS) {
		ret = virq_fail(ENOSPC, "%s: too many regions", dev->name);
		goto out;
	}
	if (region_find(dev, space, region)) {
		ret = virq_fail(EEXIST, "%s: region %u added twice", dev->name, region);
		goto out;
	}
	if (addrmap_overlaps(vm, space, base, size, dev, UINT32_MAX) ||
	    region_overlaps_own(dev, space, base, size, UINT32_MAX)) {
		ret = virq_fail(EEXIST, "%s: region %u at 0x%llx overlaps another",
				dev->name, region, (unsigned long long)base);
		goto out;
	}
	dev->regions[dev->nr_regions++] =
		(struct device_region){ space, base, size, region };
	if (dev->live) {
		ret = addrmap_rebuild(vm, NULL);
		if (ret)
			dev->nr_regions--;
	}
out:
	config_unlock(vm);
	return ret;
}

int virq_device_move_region(struct virq_device *dev, enum virq_space space,
			    unsigned region, uint64_t new_base)
{
	struct device_region *r;
	struct virq_vm *vm;
	uint64_t old;
	int ret = 0;

	if (!dev)
		return virq_fail(EINVAL, "move_region: NULL device");
	vm = dev->vm;
	config_lock(vm);
	r = region_find(dev, space, region);
	if (!r) {
		ret = virq_fail(ENOENT, "%s: no region %u", dev->name, region);
		goto out;
	}
	if (new_base + r->size - 1 < new_base ||
	    addrmap_overlaps(vm, space, new_base, r->size, dev, region) ||
	    region_overlaps_own(dev, space, new_base, r->size, region)) {
		ret = virq_fail(EEXIST, "%s: region %u cannot move to 0x%llx", dev->name,
				region, (unsigned long long)new_base);
		goto out;
	}
	old = r->base;
	r->base = new_base;
	if (dev->live) {
		ret = addrmap_rebuild(vm, NULL);
		if (ret)
			r->base = old;
	}
out:
	config_unlock(vm);
	return ret;
}

/* ---- create / destroy ---- */

static void free_claims(struct virq_device *dev)
{
	for (unsigned i = 0; i < dev->nr_chips; i++)
		free(dev->chips[i]);
	dev->nr_chips = 0;
}

int virq_device_create(struct virq_vm *vm, const char *type_name, const void *args,
		       struct virq_device **out)
{
	const struct virq_device_type *type;
	struct virq_device *dev, *d;
	int ret;

	if (!vm || !out)
		return virq_fail(EINVAL, "device_create: NULL argument");
	type = virq_device_type_find(type_name);
	if (!type)
		return virq_fail(ENODEV, "device_create: no device type '%s'",
				 type_name ? type_name : "(null)");
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return virq_fail(ENOMEM, "device_create: out of memory");
	dev->vm = vm;
	dev->type = type;

	config_lock(vm);
	for (d = vm->devices; d; d = d->next)
		if (d->type == type && d->instance >= dev->instance)
			dev->instance = d->instance + 1;
	snprintf(dev->name, sizeof(dev->name), "%s.%u", type->name, dev->instance);

	virq_clear_error();
	ret = type->ops.create(dev, args);
	if (ret) {
		if (!virq_last_error()[0])
			virq_fail(-ret, "%s: create failed: %s", dev->name,
				  strerror(-ret));
		goto fail;
	}
	dev->live = true;
	dev->next = vm->devices;
	vm->devices = dev;
	ret = addrmap_rebuild(vm, NULL);
	if (ret) {
		vm->devices = dev->next;
		dev->live = false;
		if (type->ops.destroy)
			type->ops.destroy(dev);
		goto fail;
	}
	for (unsigned i = 0; i < dev->nr_chips; i++)
		virq_rcu_assign_pointer(vm->chips[dev->chips[i]->chip], dev->chips[i]);
	config_unlock(vm);
	*out = dev;
	return 0;

fail:
	config_unlock(vm);
	free_claims(dev);
	free(dev);
	return ret < 0 ? ret : -EINVAL;
}

/* Caller holds the config lock; @dev is live. */
static int device_unpublish(struct virq_device *dev)
{
	struct virq_vm *vm = dev->vm;
	struct virq_device **pp;
	int ret;

	ret = addrmap_rebuild(vm, dev);
	if (ret)
		return ret;
	for (unsigned i = 0; i < dev->nr_chips; i++)
		virq_rcu_assign_pointer(vm->chips[dev->chips[i]->chip], NULL);
	for (pp = &vm->devices; *pp; pp = &(*pp)->next) {
		if (*pp == dev) {
			*pp = dev->next;
			break;
		}
	}
	dev->live = false;
	return 0;
}

static void device_free(struct virq_device *dev)
{
	if (dev->type->ops.destroy)
		dev->type->ops.destroy(dev);
	free_claims(dev);
	free(dev);
}

int virq_device_destroy(struct virq_device *dev)
{
	int ret;

	if (!dev)
		return virq_fail(EINVAL, "device_destroy: NULL device");
	if (!may_synchronize())
		return virq_fail(EDEADLK,
				 "device_destroy: not from a virq callback or device op");
	config_lock(dev->vm);
	ret = device_unpublish(dev);
	config_unlock(dev->vm);
	if (ret)
		return ret;
	/* no lock held: a reader may be waiting for the config lock */
	virq_synchronize_rcu();
	device_free(dev);
	return 0;
}

/* VM teardown: no injection or access is in flight any more. */
void device_destroy_all(struct virq_vm *vm)
{
	while (vm->devices) {
		struct virq_device *dev = vm->devices;

		vm->devices = dev->next;
		for (unsigned i = 0; i < dev->nr_chips; i++)
			vm->chips[dev->chips[i]->chip] = NULL;
		device_free(dev);
	}
}

/* ---- attributes ---- */

static int attr_result(struct virq_device *dev, const char *what, uint32_t group,
		       uint64_t attr, int ret)
{
	if (ret < 0 && !virq_last_error()[0])
		virq_fail(-ret, "%s: %s attribute (%u, 0x%llx): %s", dev->name, what,
			  group, (unsigned long long)attr, strerror(-ret));
	return ret;
}

int virq_device_get_attr(struct virq_device *dev, uint32_t group, uint64_t attr,
			 void *buf, size_t size)
{
	if (!dev || (size && !buf))
		return virq_fail(EINVAL, "get_attr: NULL argument");
	if (!dev->type->ops.get_attr)
		return virq_fail(ENXIO, "%s: has no attributes", dev->name);
	virq_clear_error();
	return attr_result(dev, "get", group, attr,
			   dev->type->ops.get_attr(dev, group, attr, buf, size));
}

int virq_device_set_attr(struct virq_device *dev, uint32_t group, uint64_t attr,
			 const void *buf, size_t size)
{
	int ret;

	if (!dev || (size && !buf))
		return virq_fail(EINVAL, "set_attr: NULL argument");
	if (!dev->type->ops.set_attr)
		return virq_fail(ENXIO, "%s: has no settable attributes", dev->name);
	config_lock(dev->vm);
	virq_clear_error();
	ret = dev->type->ops.set_attr(dev, group, attr, buf, size);
	config_unlock(dev->vm);
	return attr_result(dev, "set", group, attr, ret);
}

int virq_device_has_attr(struct virq_device *dev, uint32_t group, uint64_t attr)
{
	if (!dev)
		return virq_fail(EINVAL, "has_attr: NULL device");
	if (!dev->type->ops.has_attr)
		return virq_fail(ENXIO, "%s: has no attributes", dev->name);
	virq_clear_error();
	return attr_result(dev, "has", group, attr,
			   dev->type->ops.has_attr(dev, group, attr));
}

int virq_device_reset(struct virq_device *dev)
{
	if (!dev)
		return virq_fail(EINVAL, "device_reset: NULL device");
	if (dev->type->ops.reset) {
		config_lock(dev->vm);
		dev->type->ops.reset(dev);
		config_unlock(dev->vm);
	}
	return 0;
}

/* ---- accessors ---- */

const char *virq_device_name(const struct virq_device *dev)
{
	return dev->name;
}

const struct virq_device_type *virq_device_get_type(const struct virq_device *dev)
{
	return dev->type;
}

struct virq_vm *virq_device_vm(const struct virq_device *dev)
{
	return dev->vm;
}

unsigned virq_device_instance(const struct virq_device *dev)
{
	return dev->instance;
}

void virq_device_set_priv(struct virq_device *dev, void *priv)
{
	dev->priv = priv;
}

void *virq_device_priv(const struct virq_device *dev)
{
	return dev->priv;
}
