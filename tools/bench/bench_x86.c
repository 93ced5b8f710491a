/* SPDX-License-Identifier: MIT */
/*
 * x86 interrupt round trips through the whole userspace path: router ->
 * IOAPIC pin -> MSI -> LAPIC model (doorbell) -> ack -> EOI -> IOAPIC EOI
 * (remote IRR cleared for level pins).  One thread, then two threads on
 * separate pins aimed at separate vCPUs; the ratio is the scaling.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <virq/virq.h>

#include "bench.h"

#define NR_VCPUS 2u

struct rt {
	struct virq_vm *vm;
	struct virq_device *lapic;
	uint32_t vcpu, gsi;
	bool level, direct; /* direct: an MSI straight to the LAPIC doorbell */
	double secs;
	unsigned long done;
	pthread_barrier_t *go;
};

static struct virq_vm *x86_vm(struct virq_device **lapic)
{
	struct virq_vm_config cfg = { .nr_vcpus = NR_VCPUS,
				      .irqfd_workers = VIRQ_IRQFD_POLL };
	struct virq_ioapic_args ia = { .storm_max = UINT32_MAX };
	struct virq_lapic_args la = { 0 };
	struct virq_route_entry e[24];
	struct virq_device *io;
	struct virq_vm *vm;

	if (virq_ioapic_register() || virq_lapic_register() ||
	    virq_vm_create(&cfg, &vm) || virq_device_create(vm, "ioapic", &ia, &io))
		exit(2);
	la.ioapic = io;
	if (virq_device_create(vm, "lapic", &la, lapic))
		exit(2);
	for (uint32_t i = 0; i < 24; i++)
		e[i] = (struct virq_route_entry){ .gsi = i,
						  .kind = VIRQ_ROUTE_IRQCHIP,
						  .u.irqchip = { VIRQ_X86_CHIP_IOAPIC,
								 i } };
	if (virq_route_set_table(vm, e, 24))
		exit(2);
	return vm;
}

static void mmio_write(struct virq_vm *vm, uint32_t vcpu, uint64_t addr, uint32_t v)
{
	if (virq_io_write(vm, vcpu, VIRQ_SPACE_MMIO, addr, 4, v))
		exit(2);
}

/* IOAPIC pin @pin -> physical APIC @vcpu, vector 0x40 + pin. */
static void program_pin(struct virq_vm *vm, uint32_t pin, uint32_t vcpu, bool level)
{
	uint64_t io = VIRQ_IOAPIC_DEFAULT_BASE;

	mmio_write(vm, 0, io, 0x11 + 2 * pin);
	mmio_write(vm, 0, io + 0x10, vcpu << 24);
	mmio_write(vm, 0, io, 0x10 + 2 * pin);
	mmio_write(vm, 0, io + 0x10, (level ? 1u << 15 : 0) | (0x40 + pin));
}

/* One round trip: raise, take, (lower,) EOI; edge lowers after EOI. */
static void *round_trips(void *p)
{
	struct rt *r = p;
	double end;

	struct virq_msi msi = { .address_lo = 0xfee00000u | r->vcpu << 12,
				.data = 0x40 + r->gsi };

	pin_to_cpu((int)r->vcpu);
	pthread_barrier_wait(r->go);
	end = now_ns() + r->secs * 1e9;
	while (now_ns() < end) {
		for (int i = 0; i < 256 && r->direct; i++) {
			if (virq_signal_msi(r->vm, &msi) != 1 ||
			    virq_lapic_ack(r->lapic, r->vcpu) != (int)(0x40 + r->gsi) ||
			    virq_lapic_eoi(r->lapic, r->vcpu) < 0)
				exit(3);
		}
		for (int i = 0; i < 256 && !r->direct; i++) {
			if (virq_set_irq(r->vm, r->gsi, 1, 0) != 1 ||
			    virq_lapic_ack(r->lapic, r->vcpu) != (int)(0x40 + r->gsi))
				exit(3);
			if (r->level)
				virq_set_irq(r->vm, r->gsi, 0,
					     0); /* the device is served */
			if (virq_lapic_eoi(r->lapic, r->vcpu) < 0)
				exit(3);
			if (!r->level)
				virq_set_irq(r->vm, r->gsi, 0, 0);
		}
		r->done += 256;
	}
	return NULL;
}

static double run(unsigned threads, bool level, bool direct, double secs)
{
	struct virq_device *lapic;
	struct virq_vm *vm = x86_vm(&lapic);
	pthread_barrier_t go;
	struct rt r[NR_VCPUS];
	pthread_t t[NR_VCPUS];
	unsigned long total = 0;

	for (uint32_t v = 0; v < NR_VCPUS; v++) {
		mmio_write(vm, v, VIRQ_LAPIC_DEFAULT_BASE + 0xf0, 0x1ff); /* enable */
		program_pin(vm, 16 + v, v, level);
	}
	pthread_barrier_init(&go, NULL, threads);
	for (uint32_t i = 0; i < threads; i++) {
		r[i] = (struct rt){ .vm = vm,
				    .lapic = lapic,
				    .vcpu = i,
				    .gsi = 16 + i,
				    .level = level,
				    .direct = direct,
				    .secs = secs,
				    .go = &go };
		if (pthread_create(&t[i], NULL, round_trips, &r[i]))
			exit(2);
	}
	for (uint32_t i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		total += r[i].done;
	}
	pthread_barrier_destroy(&go);
	virq_vm_destroy(vm);
	return (double)total / secs;
}

void bench_x86(void)
{
	double secs = quick ? 0.2 : 1.0;

	/* kind 2: the LAPIC model alone (MSI, ack, EOI), to tell its scaling
	 * from the IOAPIC's (one lock for all pins) */
	for (int kind = 0; kind < 3; kind++) {
		static const char *const names[] = { "ioapic_lapic_edge",
						     "ioapic_lapic_level", "msi_lapic" };
		char m1[48], m2[48];
		double r1 = run(1, kind == 1, kind == 2, secs);
		double r2 = run(2, kind == 1, kind == 2, secs);

		snprintf(m1, sizeof(m1), "%s_1thread", names[kind]);
		snprintf(m2, sizeof(m2), "%s_2threads", names[kind]);
		report("x86", m1, r1 / 1e6, "M/s", -1, 0);
		/* baseline: the one-thread rate; ratio = scaling */
		report("x86", m2, r2 / 1e6, "M/s", r1 / 1e6, r2 / r1);
	}
}
