/* SPDX-License-Identifier: MIT */
/* KVM's default x86 GSI routing (what KVM_CREATE_IRQCHIP installs). */
#include <errno.h>

#include <virq/x86.h>

#include "../core/internal.h"

int virq_x86_default_routes(struct virq_vm *vm)
{
	struct virq_route_entry e[VIRQ_X86_IOAPIC_PINS + 16];
	unsigned n = 0;

	if (!vm)
		return virq_fail(EINVAL, "x86 default routes: NULL vm");
	for (uint32_t gsi = 0; gsi < VIRQ_X86_IOAPIC_PINS; gsi++) {
		e[n] = (struct virq_route_entry){ .gsi = gsi,
						  .kind = VIRQ_ROUTE_IRQCHIP };
		e[n].u.irqchip.chip = VIRQ_X86_CHIP_IOAPIC;
		e[n++].u.irqchip.pin = gsi;
		if (gsi >= 16)
			continue;
		e[n] = (struct virq_route_entry){ .gsi = gsi,
						  .kind = VIRQ_ROUTE_IRQCHIP };
		e[n].u.irqchip.chip =
			gsi < 8 ? VIRQ_X86_CHIP_PIC_MASTER : VIRQ_X86_CHIP_PIC_SLAVE;
		e[n++].u.irqchip.pin = gsi % 8;
	}
	return virq_route_set_table(vm, e, n);
}
