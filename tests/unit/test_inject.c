/* SPDX-License-Identifier: MIT */
/* Injection rules of spec/routing-irqfd.md, "Injection". */
#include "fixture.h"

struct sink {
	unsigned msis;
	struct virq_msi last;
	int result;
	unsigned lines;
	uint32_t vcpu;
	int line, level;
};

static int sink_msi(void *opaque, const struct virq_msi *msi)
{
	struct sink *s = opaque;

	s->msis++;
	s->last = *msi;
	return s->result;
}

static void sink_line(void *opaque, uint32_t vcpu, enum virq_cpu_line line, int level)
{
	struct sink *s = opaque;

	s->lines++;
	s->vcpu = vcpu;
	s->line = (int)line;
	s->level = level;
}

static void test_no_route(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(virq_set_irq(f->vm, 5, 1, 0), -1);
	assert_int_equal(virq_set_irq(f->vm, 5, 0, 0), -1);
	/* beyond the limit: also "no route" */
	assert_int_equal(virq_set_irq(f->vm, 1u << 30, 1, 0), -1);
}

static void test_pic_and_ioapic_sum(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(route_add1(f->vm, chip_entry(3, CHIP_PIC_MASTER, 3)), 0);
	assert_int_equal(route_add1(f->vm, chip_entry(3, CHIP_IOAPIC, 3)), 0);

	/* both chips are driven, results add up */
	assert_int_equal(virq_set_irq(f->vm, 3, 1, 0), 2);
	assert_int_equal(testchip_rising(f->pic_m, 3), 1);
	assert_int_equal(testchip_rising(f->ioapic, 3), 1);
	assert_int_equal(testchip_level(f->pic_m, 3), 1);
	assert_int_equal(testchip_level(f->ioapic, 3), 1);

	/* negative results are left out of the sum */
	testchip_set_result(f->ioapic, 3, -1);
	assert_int_equal(virq_set_irq(f->vm, 3, 0, 0), 1);
	testchip_set_result(f->pic_m, 3, 0);
	assert_int_equal(virq_set_irq(f->vm, 3, 1, 0), 0);
	testchip_set_result(f->pic_m, 3, -1);
	assert_int_equal(virq_set_irq(f->vm, 3, 1, 0), -1);
	testchip_set_result(f->pic_m, 3, 3);
	testchip_set_result(f->ioapic, 3, 2);
	assert_int_equal(virq_set_irq(f->vm, 3, 1, 0), 5);
	/* the chips saw every call, whatever they answered */
	assert_int_equal(testchip_calls(f->pic_m, 3), 5);
	assert_int_equal(testchip_calls(f->ioapic, 3), 5);
}

static void test_level_or_over_sources(void **state)
{
	struct fixture *f = *state;
	int src = virq_source_id_alloc(f->vm);

	assert_true(src >= 2);
	assert_int_equal(route_add1(f->vm, chip_entry(9, CHIP_IOAPIC, 9)), 0);
	virq_set_irq(f->vm, 9, 1, VIRQ_SOURCE_USER);
	virq_set_irq(f->vm, 9, 1, (uint32_t)src);
	virq_set_irq(f->vm, 9, 0, VIRQ_SOURCE_USER);
	assert_int_equal(testchip_level(f->ioapic, 9), 1); /* src still holds it */
	virq_set_irq(f->vm, 9, 1, VIRQ_SOURCE_RESAMPLE);
	virq_set_irq(f->vm, 9, 0, (uint32_t)src);
	assert_int_equal(testchip_level(f->ioapic, 9), 1);
	virq_set_irq(f->vm, 9, 0, VIRQ_SOURCE_RESAMPLE);
	assert_int_equal(testchip_level(f->ioapic, 9), 0);
	/* one rising edge for the whole episode */
	assert_int_equal(testchip_rising(f->ioapic, 9), 1);

	/* freeing a source drops what it held */
	virq_set_irq(f->vm, 9, 1, (uint32_t)src);
	assert_int_equal(testchip_level(f->ioapic, 9), 1);
	assert_int_equal(virq_source_id_free(f->vm, (uint32_t)src), 0);
	assert_int_equal(testchip_level(f->ioapic, 9), 0);
	assert_int_equal(virq_source_id_free(f->vm, (uint32_t)src), -EINVAL);
	assert_int_equal(virq_source_id_free(f->vm, VIRQ_SOURCE_USER), -EINVAL);
	assert_int_equal(virq_source_id_free(f->vm, VIRQ_SOURCE_RESAMPLE), -EINVAL);

	assert_int_equal(virq_set_irq(f->vm, 9, 1, VIRQ_MAX_SOURCES), -EINVAL);
	assert_true(strstr(virq_last_error(), "source") != NULL);
}

static void test_source_ids_exhaust(void **state)
{
	struct fixture *f = *state;
	int ids[VIRQ_MAX_SOURCES];

	for (unsigned i = 2; i < VIRQ_MAX_SOURCES; i++) {
		ids[i] = virq_source_id_alloc(f->vm);
		assert_int_equal(ids[i], (int)i);
	}
	assert_int_equal(virq_source_id_alloc(f->vm), -ENOSPC);
	assert_int_equal(virq_source_id_free(f->vm, 17), 0);
	assert_int_equal(virq_source_id_alloc(f->vm), 17);
}

static void test_msi_route(void **state)
{
	struct fixture *f = *state;
	struct virq_route_entry e = msi_entry(20, 0x45);

	e.flags = VIRQ_MSI_VALID_DEVID;
	e.u.msi.devid = 0xbeef;
	assert_int_equal(route_add1(f->vm, e), 0);
	assert_int_equal(virq_set_irq(f->vm, 20, 1, 0), 1);
	assert_int_equal(testchip_msis(f->msi), 1);
	struct virq_msi m = testchip_last_msi(f->msi);
	assert_int_equal(m.data, 0x45);
	assert_int_equal(m.devid, 0xbeef);
	assert_int_equal(m.flags, VIRQ_MSI_VALID_DEVID);
	assert_int_equal(m.address_lo, (uint32_t)MSI_DOORBELL);

	/* level 0 on an MSI route does nothing */
	assert_int_equal(virq_set_irq(f->vm, 20, 0, 0), -1);
	assert_int_equal(testchip_msis(f->msi), 1);
}

static void test_msi_sink_and_flags(void **state)
{
	struct sink s = { .result = 2 };
	struct virq_vm_config cfg = {
		.nr_vcpus = 2,
		.ops = { .msi = sink_msi },
		.opaque = &s,
	};
	struct virq_msi m = { .address_lo = 0xfee01000, .data = 0x30 };
	struct virq_device *rx;
	struct virq_vm *vm;

	(void)state;
	assert_int_equal(testchip_register(), 0);
	assert_int_equal(virq_vm_create(&cfg, &vm), 0);

	/* nothing claims the address: the VMM's sink */
	assert_int_equal(virq_signal_msi(vm, &m), 2);
	assert_int_equal(s.msis, 1);
	assert_int_equal(s.last.data, 0x30);

	/* a doorbell owner takes it instead */
	rx = fixture_chip(vm, 0, 1, 0, 0xfee00000);
	assert_int_equal(virq_signal_msi(vm, &m), 1);
	assert_int_equal(s.msis, 1);
	assert_int_equal(testchip_msis(rx), 1);
	/* an address above 4 GiB is not the doorbell */
	m.address_hi = 1;
	assert_int_equal(virq_signal_msi(vm, &m), 2);
	assert_int_equal(s.msis, 2);

	m.flags = 2;
	assert_int_equal(virq_signal_msi(vm, &m), -EINVAL);
	assert_true(strlen(virq_last_error()) > 0);
	m.flags = VIRQ_MSI_VALID_DEVID;
	m.devid = 9;
	assert_int_equal(virq_signal_msi(vm, &m), 2);
	assert_int_equal(s.last.devid, 9);
	virq_vm_destroy(vm);
}

static void test_msi_without_target(void **state)
{
	struct virq_vm_config cfg = { .nr_vcpus = 1 };
	struct virq_msi m = { .address_lo = 0xfee00000, .data = 1 };
	struct virq_vm *vm;

	(void)state;
	assert_int_equal(virq_vm_create(&cfg, &vm), 0);
	assert_int_equal(virq_signal_msi(vm, &m), -ENODEV);
	virq_vm_destroy(vm);
}

static void test_ppi_lpi(void **state)
{
	struct fixture *f = *state;
	struct virq_route_entry p = { .gsi = 50, .kind = VIRQ_ROUTE_PPI };
	struct virq_route_entry l = { .gsi = 51, .kind = VIRQ_ROUTE_LPI };

	p.u.ppi.chip = CHIP_GIC;
	p.u.ppi.vcpu = 2;
	p.u.ppi.ppi = 27;
	l.u.lpi.chip = CHIP_GIC;
	l.u.lpi.intid = 8200;
	assert_int_equal(route_add1(f->vm, p), 0);
	assert_int_equal(route_add1(f->vm, l), 0);
	assert_int_equal(virq_set_irq(f->vm, 50, 1, 0), 1);
	assert_int_equal(virq_set_irq(f->vm, 51, 1, 0), 1);
	assert_int_equal(virq_set_irq(f->vm, 51, 0, 0), -1); /* LPIs are edges */
	assert_int_equal(testchip_ppis(f->gic), 1);
	assert_int_equal(testchip_lpis(f->gic), 1);
}

static void test_route_to_destroyed_chip(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(route_add1(f->vm, chip_entry(4, CHIP_PIC_MASTER, 4)), 0);
	assert_int_equal(route_add1(f->vm, chip_entry(4, CHIP_IOAPIC, 4)), 0);
	assert_int_equal(virq_device_destroy(f->ioapic), 0);
	/* the PIC still answers; the gone chip counts as refused */
	assert_int_equal(virq_set_irq(f->vm, 4, 1, 0), 1);
	assert_int_equal(virq_device_destroy(f->pic_m), 0);
	assert_int_equal(virq_set_irq(f->vm, 4, 1, 0), -1);
	/* the other entry of the GSI can still be edited */
	struct virq_route_txn *t;
	struct virq_route_entry pic = chip_entry(4, CHIP_PIC_MASTER, 4);
	assert_int_equal(virq_route_begin(f->vm, &t), 0);
	assert_int_equal(virq_route_remove(t, &pic), 0);
	assert_int_equal(virq_route_commit(t), 0);
	/* a new chip with the id revives the route */
	f->ioapic = fixture_chip(f->vm, CHIP_IOAPIC, 24, 0, 0);
	assert_int_equal(virq_set_irq(f->vm, 4, 1, 0), 1);
	assert_int_equal(testchip_level(f->ioapic, 4), 1);
}

static void test_route_to_smaller_chip(void **state)
{
	struct fixture *f = *state;
	struct virq_route_entry p = { .gsi = 50, .kind = VIRQ_ROUTE_PPI };

	p.u.ppi.chip = CHIP_GIC;
	p.u.ppi.vcpu = 1;
	p.u.ppi.ppi = 20;
	assert_int_equal(route_add1(f->vm, chip_entry(9, CHIP_IOAPIC, 23)), 0);
	assert_int_equal(route_add1(f->vm, p), 0);
	assert_int_equal(virq_device_destroy(f->ioapic), 0);
	assert_int_equal(virq_device_destroy(f->gic), 0);
	/* the ids come back with fewer pins and no PPI input: the old
	 * entries must not reach pins or inputs the new chips lack */
	f->ioapic = fixture_chip(f->vm, CHIP_IOAPIC, 4, 0, 0);
	f->gic = fixture_chip(f->vm, CHIP_GIC, 4, 0, 0);
	assert_int_equal(virq_set_irq(f->vm, 9, 1, 0), -1);
	assert_int_equal(virq_set_irq(f->vm, 50, 1, 0), -1);
	assert_int_equal(testchip_ppis(f->gic), 0);
}

static void test_route_change_followed(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(route_add1(f->vm, chip_entry(7, CHIP_IOAPIC, 7)), 0);
	assert_int_equal(virq_set_irq(f->vm, 7, 1, 0), 1);
	assert_int_equal(route_update1(f->vm, chip_entry(7, CHIP_IOAPIC, 8)), 0);
	/* the next injection after the commit sees the new pin */
	assert_int_equal(virq_set_irq(f->vm, 7, 1, 0), 1);
	assert_int_equal(testchip_rising(f->ioapic, 8), 1);
	assert_int_equal(testchip_calls(f->ioapic, 7), 1);
}

static void test_cpu_line(void **state)
{
	struct sink s = { 0 };
	struct virq_vm_config cfg = {
		.nr_vcpus = 2,
		.ops = { .cpu_line = sink_line },
		.opaque = &s,
	};
	struct virq_vm *vm;

	(void)state;
	assert_int_equal(virq_vm_create(&cfg, &vm), 0);
	assert_int_equal(virq_cpu_set_line(vm, 1, VIRQ_CPU_IRQ, 5), 0);
	assert_int_equal(s.lines, 1);
	assert_int_equal(s.vcpu, 1);
	assert_int_equal(s.line, VIRQ_CPU_IRQ);
	assert_int_equal(s.level, 1);
	assert_int_equal(virq_cpu_set_line(vm, 2, VIRQ_CPU_IRQ, 1), -EINVAL);
	assert_int_equal(virq_cpu_set_line(vm, 0, VIRQ_CPU_LINE_MAX, 1), -EINVAL);
	assert_int_equal(s.lines, 1);
	virq_vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_route, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_pic_and_ioapic_sum, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_level_or_over_sources, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_source_ids_exhaust, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_msi_route, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(test_msi_sink_and_flags),
		cmocka_unit_test(test_msi_without_target),
		cmocka_unit_test_setup_teardown(test_ppi_lpi, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_route_to_destroyed_chip,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_route_to_smaller_chip, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_route_change_followed, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(test_cpu_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
