/* SPDX-License-Identifier: MIT */
/* x86 MSI layout and KVM's default GSI table (spec/x86.md). */
#include <stdlib.h>

#include "fixture.h"

static struct virq_msi msi(uint32_t lo, uint32_t hi, uint32_t data)
{
	struct virq_msi m = { .address_lo = lo, .address_hi = hi, .data = data };

	return m;
}

static void test_decode_fields(void **state)
{
	struct virq_x86_msi_info i;
	struct virq_msi m;

	(void)state;
	/* APIC id 3, physical, fixed, vector 0x41, edge */
	m = msi(0xfee03000, 0, 0x0041);
	assert_int_equal(virq_x86_msi_decode(&m, 0, &i), 0);
	assert_int_equal(i.dest_id, 3);
	assert_false(i.logical);
	assert_false(i.redir_hint);
	assert_int_equal(i.vector, 0x41);
	assert_int_equal(i.delivery_mode, VIRQ_X86_DM_FIXED);
	assert_false(i.level_trigger);

	/* logical, redirection hint, NMI, level assert + level trigger */
	m = msi(0xfee0f00c, 0, 0xc402);
	assert_int_equal(virq_x86_msi_decode(&m, 0, &i), 0);
	assert_int_equal(i.dest_id, 0x0f);
	assert_true(i.logical);
	assert_true(i.redir_hint);
	assert_int_equal(i.delivery_mode, VIRQ_X86_DM_NMI);
	assert_int_equal(i.vector, 2);
	assert_true(i.level_assert);
	assert_true(i.level_trigger);

	/* ExtINT, SMI, INIT modes come through */
	m = msi(0xfee00000, 0, 7u << 8);
	assert_int_equal(virq_x86_msi_decode(&m, 0, &i), 0);
	assert_int_equal(i.delivery_mode, VIRQ_X86_DM_EXTINT);
	m = msi(0xfee00000, 0, 5u << 8);
	assert_int_equal(virq_x86_msi_decode(&m, 0, &i), 0);
	assert_int_equal(i.delivery_mode, VIRQ_X86_DM_INIT);
}

static void test_decode_rejects(void **state)
{
	struct virq_x86_msi_info i;
	struct virq_msi m;

	(void)state;
	m = msi(0xfed00000, 0, 0x30); /* not the interrupt window */
	assert_int_equal(virq_x86_msi_decode(&m, 0, &i), -EINVAL);
	m = msi(0xfee00000, 1, 0x30); /* above 4 GiB: a memory write */
	assert_int_equal(virq_x86_msi_decode(&m, 0, &i), -EINVAL);
	m = msi(0xfee00000, 0x100 | 0x80, 0x30); /* x2APIC: low byte must be 0 */
	assert_int_equal(virq_x86_msi_decode(&m, VIRQ_X86_MSI_X2APIC, &i), -EINVAL);
	assert_int_equal(virq_x86_msi_decode(&m, 8, &i), -EINVAL);
}

static void test_wide_destinations(void **state)
{
	struct virq_x86_msi_info i;
	struct virq_msi m;

	(void)state;
	/* x2APIC format: address_hi 31:8 are destination bits 8-31 */
	m = msi(0xfee34000, 0x12345600, 0x30);
	assert_int_equal(virq_x86_msi_decode(&m, VIRQ_X86_MSI_X2APIC, &i), 0);
	assert_int_equal(i.dest_id, 0x12345634);
	/* extended destination id: address 11:5 are bits 8-14 */
	m = msi(0xfee34000 | (0x55u << 5), 0, 0x30);
	assert_int_equal(virq_x86_msi_decode(&m, VIRQ_X86_MSI_EXT_DEST_ID, &i), 0);
	assert_int_equal(i.dest_id, 0x5534);
	/* without the option those bits are ignored */
	assert_int_equal(virq_x86_msi_decode(&m, 0, &i), 0);
	assert_int_equal(i.dest_id, 0x34);
}

static void test_lowest_priority_broadcast_is_fixed(void **state)
{
	struct virq_x86_msi_info i;
	struct virq_msi m;

	(void)state;
	m = msi(0xfeeff000, 0, 0x130); /* lowest priority, physical 0xff */
	assert_int_equal(virq_x86_msi_decode(&m, 0, &i), 0);
	assert_int_equal(i.delivery_mode, VIRQ_X86_DM_FIXED);
	m = msi(0xfeeff004, 0, 0x130); /* logical 0xff: stays lowest priority */
	assert_int_equal(virq_x86_msi_decode(&m, 0, &i), 0);
	assert_int_equal(i.delivery_mode, VIRQ_X86_DM_LOWEST);
	m = msi(0xfee01000, 0, 0x130); /* physical 1: stays */
	assert_int_equal(virq_x86_msi_decode(&m, 0, &i), 0);
	assert_int_equal(i.delivery_mode, VIRQ_X86_DM_LOWEST);
}

static void test_encode_roundtrip(void **state)
{
	const unsigned opts[] = { 0, VIRQ_X86_MSI_EXT_DEST_ID, VIRQ_X86_MSI_X2APIC };
	const uint32_t max[] = { 0xff, 0x7fff, UINT32_MAX };
	unsigned seed = 42;

	(void)state;
	for (unsigned o = 0; o < 3; o++) {
		for (int n = 0; n < 2000; n++) {
			struct virq_x86_msi_info a = { 0 }, b;
			struct virq_msi m;

			a.dest_id = ((uint32_t)rand_r(&seed) << 16 ^
				     (uint32_t)rand_r(&seed)) &
				    max[o];
			a.logical = rand_r(&seed) & 1;
			a.redir_hint = rand_r(&seed) & 1;
			a.vector = (uint8_t)rand_r(&seed);
			/* skip the one normalised case */
			do
				a.delivery_mode = (uint8_t)(rand_r(&seed) % 8);
			while (a.delivery_mode == VIRQ_X86_DM_LOWEST && !a.logical &&
			       a.dest_id == 0xff);
			a.level_assert = rand_r(&seed) & 1;
			a.level_trigger = rand_r(&seed) & 1;
			assert_int_equal(virq_x86_msi_encode(&a, opts[o], &m), 0);
			assert_int_equal(virq_x86_msi_decode(&m, opts[o], &b), 0);
			assert_memory_equal(&a, &b, sizeof(a));
		}
	}
	struct virq_x86_msi_info big = { .dest_id = 0x100 };
	struct virq_msi m;
	assert_int_equal(virq_x86_msi_encode(&big, 0, &m), -EINVAL);
	big.dest_id = 0x8000;
	assert_int_equal(virq_x86_msi_encode(&big, VIRQ_X86_MSI_EXT_DEST_ID, &m),
			 -EINVAL);
}

static void test_default_routes(void **state)
{
	struct fixture *f = *state;
	struct virq_route_entry e[4];
	uint32_t gsi;

	assert_int_equal(virq_x86_default_routes(f->vm), 0);
	assert_int_equal(virq_route_get_table(f->vm, NULL, 0), 24 + 16);
	assert_int_equal(virq_route_get(f->vm, 0, e, 4), 2);
	assert_int_equal(e[0].u.irqchip.chip, VIRQ_X86_CHIP_PIC_MASTER);
	assert_int_equal(e[0].u.irqchip.pin, 0);
	assert_int_equal(e[1].u.irqchip.chip, VIRQ_X86_CHIP_IOAPIC);
	assert_int_equal(e[1].u.irqchip.pin, 0); /* no IRQ0 -> pin 2 override */
	assert_int_equal(virq_route_get(f->vm, 10, e, 4), 2);
	assert_int_equal(e[0].u.irqchip.chip, VIRQ_X86_CHIP_PIC_SLAVE);
	assert_int_equal(e[0].u.irqchip.pin, 2);
	assert_int_equal(virq_route_get(f->vm, 20, e, 4), 1);
	assert_int_equal(e[0].u.irqchip.chip, VIRQ_X86_CHIP_IOAPIC);
	assert_int_equal(virq_route_get(f->vm, 24, e, 4), 0);
	/* a legacy GSI reaches both chips */
	assert_int_equal(virq_set_irq(f->vm, 3, 1, 0), 2);
	assert_int_equal(virq_route_gsi_of_pin(f->vm, VIRQ_X86_CHIP_PIC_SLAVE, 7, &gsi),
			 0);
	assert_int_equal(gsi, 15);
}

static void test_default_routes_need_chips(void **state)
{
	struct virq_vm_config cfg = { .nr_vcpus = 1 };
	struct virq_vm *vm;

	(void)state;
	assert_int_equal(virq_vm_create(&cfg, &vm), 0);
	assert_int_equal(virq_x86_default_routes(vm), -EINVAL);
	assert_int_equal(virq_route_get_table(vm, NULL, 0), 0);
	virq_vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_fields),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_wide_destinations),
		cmocka_unit_test(test_lowest_priority_broadcast_is_fixed),
		cmocka_unit_test(test_encode_roundtrip),
		cmocka_unit_test_setup_teardown(test_default_routes, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(test_default_routes_need_chips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
