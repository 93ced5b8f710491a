/* SPDX-License-Identifier: MIT */
/* Shared set-up for the unit tests: a VM with x86-shaped test chips. */
#ifndef VIRQ_TEST_FIXTURE_H
#define VIRQ_TEST_FIXTURE_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "testchip.h"

#define CHIP_PIC_MASTER 0u
#define CHIP_PIC_SLAVE 1u
#define CHIP_IOAPIC 2u
#define CHIP_GIC 3u /* takes PPI and LPI entries */
#define MSI_DOORBELL 0xfee00000ull

struct fixture {
	struct virq_vm *vm;
	struct virq_device *pic_m, *pic_s, *ioapic, *gic, *msi;
};

static inline struct virq_device *fixture_chip(struct virq_vm *vm, uint32_t chip,
					       uint32_t pins, unsigned accepts,
					       uint64_t doorbell)
{
	struct testchip_args a = {
		.chip = chip,
		.nr_pins = pins,
		.accepts = accepts,
		.doorbell_base = doorbell,
		.doorbell_size = doorbell ? 0x100000 : 0,
	};
	struct virq_device *dev = NULL;

	assert_int_equal(virq_device_create(vm, "testchip", &a, &dev), 0);
	return dev;
}

/* PIC master/slave (8 pins), IOAPIC (24), a GIC-like chip and an MSI
 * receiver at the x86 doorbell (chip 10, 1 pin). */
static inline int fixture_setup_limit(struct fixture *f, uint32_t limit)
{
	struct virq_vm_config cfg = { .nr_vcpus = 4, .max_routes = limit };

	memset(f, 0, sizeof(*f));
	assert_int_equal(testchip_register(), 0);
	assert_int_equal(virq_vm_create(&cfg, &f->vm), 0);
	f->pic_m = fixture_chip(f->vm, CHIP_PIC_MASTER, 8, 0, 0);
	f->pic_s = fixture_chip(f->vm, CHIP_PIC_SLAVE, 8, 0, 0);
	f->ioapic = fixture_chip(f->vm, CHIP_IOAPIC, 24, 0, 0);
	f->gic = fixture_chip(f->vm, CHIP_GIC, 988, VIRQ_CHIP_PPI | VIRQ_CHIP_LPI, 0);
	f->msi = fixture_chip(f->vm, 10, 1, 0, MSI_DOORBELL);
	return 0;
}

static inline int fixture_setup(void **state)
{
	static struct fixture f;

	fixture_setup_limit(&f, 0);
	*state = &f;
	return 0;
}

static inline int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	virq_vm_destroy(f->vm);
	return 0;
}

static inline struct virq_route_entry chip_entry(uint32_t gsi, uint32_t chip,
						 uint32_t pin)
{
	struct virq_route_entry e = { .gsi = gsi, .kind = VIRQ_ROUTE_IRQCHIP };

	e.u.irqchip.chip = chip;
	e.u.irqchip.pin = pin;
	return e;
}

static inline struct virq_route_entry msi_entry(uint32_t gsi, uint32_t data)
{
	struct virq_route_entry e = { .gsi = gsi, .kind = VIRQ_ROUTE_MSI };

	e.u.msi.address_lo = (uint32_t)MSI_DOORBELL;
	e.u.msi.data = data;
	return e;
}

/* One-operation transactions. */
static inline int route_add1(struct virq_vm *vm, struct virq_route_entry e)
{
	struct virq_route_txn *t;
	int ret = virq_route_begin(vm, &t);

	if (ret)
		return ret;
	ret = virq_route_add(t, &e);
	if (ret) {
		virq_route_abort(t);
		return ret;
	}
	return virq_route_commit(t);
}

static inline int route_update1(struct virq_vm *vm, struct virq_route_entry e)
{
	struct virq_route_txn *t;
	int ret = virq_route_begin(vm, &t);

	if (ret)
		return ret;
	ret = virq_route_update(t, &e);
	if (ret) {
		virq_route_abort(t);
		return ret;
	}
	return virq_route_commit(t);
}

#endif
