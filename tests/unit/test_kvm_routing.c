/* SPDX-License-Identifier: MIT */
/*
 * Differential test: random routing tables given to Linux KVM
 * (KVM_SET_GSI_ROUTING on an x86 VM with the in-kernel PIC and IOAPIC)
 * and to virq_route_set_table() on a VM with chips shaped the same way
 * (PIC master 0 and slave 1 with 8 pins, IOAPIC 2 with 24); both must
 * accept the same tables and refuse the others with the same errno.
 * Where /dev/kvm is unusable the KVM side is skipped (make check fails
 * then if /dev/kvm was in fact usable).
 */
#include <stdio.h>

#include "fixture.h"
#include "kvm_route_rules.h"

#define TABLES 3000u

static struct virq_route_entry to_virq(const struct kvm_irq_routing_entry *k)
{
	struct virq_route_entry e = { .gsi = k->gsi, .flags = k->flags };

	switch (k->type) {
	case KVM_IRQ_ROUTING_IRQCHIP:
		e.kind = VIRQ_ROUTE_IRQCHIP;
		e.u.irqchip.chip = k->u.irqchip.irqchip;
		e.u.irqchip.pin = k->u.irqchip.pin;
		break;
	case KVM_IRQ_ROUTING_MSI:
		e.kind = VIRQ_ROUTE_MSI;
		e.u.msi.address_lo = k->u.msi.address_lo;
		e.u.msi.address_hi = k->u.msi.address_hi;
		e.u.msi.data = k->u.msi.data;
		e.u.msi.devid = k->u.msi.devid;
		break;
	default:
		/* the generator's unknown types are unknown to virq too */
		e.kind = k->type;
		break;
	}
	return e;
}

static int virq_verdict(struct virq_vm *vm, const struct kvm_irq_routing_entry *k,
			unsigned nr)
{
	struct virq_route_entry e[KVM_RULES_MAX_TABLE];

	for (unsigned i = 0; i < nr; i++)
		e[i] = to_virq(&k[i]);
	return virq_route_set_table(vm, e, nr);
}

static void print_table(const struct kvm_irq_routing_entry *k, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++)
		fprintf(stderr, "  gsi %u type %u flags %u u0 0x%x u1 0x%x\n", k[i].gsi,
			k[i].type, k[i].flags, k[i].u.irqchip.irqchip,
			k[i].u.irqchip.pin);
}

static void compare(bool with_kvm)
{
	struct virq_vm_config cfg = { .nr_vcpus = 1 };
	struct kvm_irq_routing_entry k[KVM_RULES_MAX_TABLE];
	unsigned accepted = 0;
	struct virq_vm *vm;

	assert_int_equal(testchip_register(), 0);
	assert_int_equal(virq_vm_create(&cfg, &vm), 0);
	fixture_chip(vm, CHIP_PIC_MASTER, 8, 0, 0);
	fixture_chip(vm, CHIP_PIC_SLAVE, 8, 0, 0);
	fixture_chip(vm, CHIP_IOAPIC, 24, 0, 0);

	for (unsigned seed = 1; seed <= TABLES; seed++) {
		unsigned nr;
		int want, got;

		kvm_rules_random_table(seed, k, &nr, KVM_RULES_MAX_TABLE);
		if (with_kvm)
			assert_int_equal(kvm_rules_try(k, nr, &want), 0);
		else
			want = kvm_rules_model(k, nr);
		got = virq_verdict(vm, k, nr);
		if (got != want) {
			fprintf(stderr, "seed %u: %s says %d, virq %d (%s)\n", seed,
				with_kvm ? "KVM" : "model", want, got, virq_last_error());
			print_table(k, nr);
		}
		assert_int_equal(got, want);
		accepted += got == 0;
	}
	/* the generator must exercise both verdicts */
	assert_true(accepted > TABLES / 5 && accepted < TABLES - TABLES / 5);
	virq_vm_destroy(vm);
}

static void test_model(void **state)
{
	(void)state;
	compare(false);
}

static void test_kvm(void **state)
{
	struct kvm_irq_routing_entry e = { .gsi = 0, .type = KVM_IRQ_ROUTING_MSI };
	int r;

	(void)state;
	if (kvm_rules_try(&e, 1, &r) == -ENODEV) {
		fprintf(stderr, "KVM-SKIP: /dev/kvm unusable\n");
		skip();
	}
	compare(true);
	kvm_rules_release();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_kvm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
