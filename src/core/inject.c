/* SPDX-License-Identifier: MIT */
/*
 * The injection hot path: GSI -> entries -> chips, and MSIs.  Lock-free
 * down to the chip; every chip serialises its own state.
 */
#include <errno.h>

#include "internal.h"
#include "trace.h"

static int msi_from_entry(struct virq_vm *vm, const struct virq_route_entry *e)
{
	struct virq_msi msi = {
		.address_lo = e->u.msi.address_lo,
		.address_hi = e->u.msi.address_hi,
		.data = e->u.msi.data,
		.flags = e->flags,
		.devid = e->u.msi.devid,
	};

	return msi_dispatch(vm, &msi);
}

static int entry_set(struct virq_vm *vm, const struct virq_route_entry *e, int level,
		     uint32_t source_id)
{
	const struct chip_slot *slot;

	switch (e->kind) {
	case VIRQ_ROUTE_IRQCHIP:
		slot = virq_rcu_dereference(vm->chips[e->u.irqchip.chip]);
		/* the chip may have been replaced by one with fewer pins */
		if (!slot || e->u.irqchip.pin >= slot->nr_pins ||
		    !slot->dev->type->ops.set_pin)
			return -1;
		return slot->dev->type->ops.set_pin(slot->dev, e->u.irqchip.chip,
						    e->u.irqchip.pin, level, source_id);
	case VIRQ_ROUTE_MSI:
		/* an MSI is an edge: only the rising half sends it */
		return level ? msi_from_entry(vm, e) : -1;
	case VIRQ_ROUTE_PPI:
		slot = virq_rcu_dereference(vm->chips[e->u.ppi.chip]);
		if (!slot || !(chip_accepts(slot) & VIRQ_CHIP_PPI) ||
		    !slot->dev->type->ops.set_ppi)
			return -1;
		return slot->dev->type->ops.set_ppi(slot->dev, e->u.ppi.vcpu,
						    e->u.ppi.ppi, level, source_id);
	case VIRQ_ROUTE_LPI:
		slot = virq_rcu_dereference(vm->chips[e->u.lpi.chip]);
		if (!level || !slot || !(chip_accepts(slot) & VIRQ_CHIP_LPI) ||
		    !slot->dev->type->ops.set_lpi)
			return -1;
		return slot->dev->type->ops.set_lpi(slot->dev, e->u.lpi.intid);
	default:
		return -1;
	}
}

int virq_set_irq(struct virq_vm *vm, uint32_t gsi, int level, uint32_t source_id)
{
	const struct route_set *s;
	int ret = -1;

	if (__builtin_expect(source_id >= VIRQ_MAX_SOURCES || !vm, 0))
		return vm ? virq_fail(EINVAL, "set_irq: source id %u (max %u)", source_id,
				      VIRQ_MAX_SOURCES - 1)
			  : virq_fail(EINVAL, "set_irq: NULL vm");
	level = !!level;
	virq_rcu_read_lock();
	s = router_lookup(&vm->router, gsi);
	for (uint32_t i = 0; s && i < s->nr; i++) {
		int r = entry_set(vm, &s->e[i], level, source_id);

		if (r < 0)
			continue;
		ret = r + (ret < 0 ? 0 : ret);
	}
	virq_rcu_read_unlock();
	virq_trace_inject(vm, gsi, level, source_id, ret);
	return ret;
}

int virq_signal_msi(struct virq_vm *vm, const struct virq_msi *msi)
{
	int ret;

	if (!vm || !msi)
		return virq_fail(EINVAL, "signal_msi: NULL argument");
	if (msi->flags & ~VIRQ_MSI_VALID_DEVID)
		return virq_fail(EINVAL, "signal_msi: flags 0x%x (only VALID_DEVID)",
				 msi->flags);
	virq_rcu_read_lock();
	ret = msi_dispatch(vm, msi);
	virq_rcu_read_unlock();
	return ret;
}

int virq_device_emit_msi(struct virq_device *dev, const struct virq_msi *msi)
{
	int ret;

	virq_rcu_read_lock();
	ret = msi_dispatch(dev->vm, msi);
	virq_rcu_read_unlock();
	return ret;
}

int virq_cpu_set_line(struct virq_vm *vm, uint32_t vcpu, enum virq_cpu_line line,
		      int level)
{
	if (vcpu >= vm->nr_vcpus || (unsigned)line >= VIRQ_CPU_LINE_MAX)
		return virq_fail(EINVAL, "cpu line: vCPU %u line %u out of range", vcpu,
				 (unsigned)line);
	virq_trace_deliver(vm, vcpu, line, level);
	if (vm->cfg.ops.cpu_line)
		vm->cfg.ops.cpu_line(vm->cfg.opaque, vcpu, line, !!level);
	return 0;
}
