/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the LAPIC model's guest-facing side: MMIO accesses
 * of any size and offset from any vCPU (IPIs included), MSIs of any shape
 * into the doorbell, acks, EOIs (reaching a real IOAPIC), NMIs taken and
 * LINT changes, with the IOAPIC's pins driven too.  Input: a stream of
 * 8-byte operations.  After each input, the lines the model drives must
 * agree with what an ack would find.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <virq/virq.h>

#define NR 3u

static int irq_line[NR];

static void cpu_line(void *opaque, uint32_t vcpu, enum virq_cpu_line line, int level)
{
	(void)opaque;
	if (vcpu >= NR)
		abort();
	if (line == VIRQ_CPU_IRQ)
		irq_line[vcpu] = level;
}

static void quiet(void *opaque, const char *device, const char *msg)
{
	(void)opaque, (void)device, (void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virq_vm *vm;
	static struct virq_device *io, *lapic;
	struct virq_vm_config cfg = {
		.nr_vcpus = NR,
		.ops = { .cpu_line = cpu_line, .guest_error = quiet },
		.irqfd_workers = VIRQ_IRQFD_POLL,
	};
	struct virq_ioapic_args ia = { .storm_max = UINT32_MAX };

	if (!vm) {
		struct virq_lapic_args la = { 0 };
		struct virq_route_entry e[24];

		if (virq_ioapic_register() || virq_lapic_register() ||
		    virq_vm_create(&cfg, &vm) ||
		    virq_device_create(vm, "ioapic", &ia, &io))
			abort();
		la.ioapic = io;
		if (virq_device_create(vm, "lapic", &la, &lapic))
			abort();
		for (uint32_t i = 0; i < 24; i++)
			e[i] = (struct virq_route_entry){ .gsi = i,
							  .kind = VIRQ_ROUTE_IRQCHIP,
							  .u.irqchip = { 2, i } };
		if (virq_route_set_table(vm, e, 24))
			abort();
	}
	virq_device_reset(io);
	virq_device_reset(lapic);
	for (uint32_t pin = 0; pin < 24; pin++)
		virq_set_irq(vm, pin, 0, 0);
	for (uint32_t v = 0; v < NR; v++) {
		virq_lapic_set_lint(lapic, v, 0, 0);
		virq_lapic_set_lint(lapic, v, 1, 0);
		while (virq_lapic_take_nmi(lapic, v) > 0)
			;
	}

	for (size_t off = 0; off + 8 <= size; off += 8) {
		const uint8_t *o = data + off;
		uint32_t v, vcpu = o[1] % NR;
		uint64_t r;
		struct virq_msi m;

		memcpy(&v, o + 4, 4);
		switch (o[0] % 9) {
		case 0: /* mostly well-formed register writes */
			virq_io_write(vm, vcpu, VIRQ_SPACE_MMIO,
				      VIRQ_LAPIC_DEFAULT_BASE + ((o[2] & 0x3f) << 4), 4,
				      v);
			break;
		case 1:
			virq_io_read(vm, vcpu, VIRQ_SPACE_MMIO,
				     VIRQ_LAPIC_DEFAULT_BASE + ((o[2] & 0x3f) << 4), 4,
				     &r);
			break;
		case 2: /* anything: sizes, offsets, no vCPU */
			if (o[3] & 1)
				virq_io_write(vm, o[1] & 0x80 ? VIRQ_VCPU_NONE : vcpu,
					      VIRQ_SPACE_MMIO,
					      VIRQ_LAPIC_DEFAULT_BASE + (v & 0xfff),
					      1u << (o[3] >> 1 & 3), v);
			else
				virq_io_read(vm, o[1] & 0x80 ? VIRQ_VCPU_NONE : vcpu,
					     VIRQ_SPACE_MMIO,
					     VIRQ_LAPIC_DEFAULT_BASE + (v & 0xfff),
					     1u << (o[3] >> 1 & 3), &r);
			break;
		case 3:
			m = (struct virq_msi){ .address_lo = 0xfee00000u | (v & 0xfffff),
					       .data = (uint32_t)o[2] | (uint32_t)o[3]
										<< 8 };
			virq_signal_msi(vm, &m);
			break;
		case 4:
			virq_lapic_ack(lapic, vcpu);
			break;
		case 5:
			virq_lapic_eoi(lapic, vcpu);
			break;
		case 6:
			virq_lapic_set_lint(lapic, vcpu, o[2] & 1, o[3] & 1);
			break;
		case 7:
			virq_lapic_take_nmi(lapic, vcpu);
			break;
		default:
			/* IOAPIC: program an entry, or move a line */
			if (o[2] & 1) {
				virq_io_write(vm, 0, VIRQ_SPACE_MMIO,
					      VIRQ_IOAPIC_DEFAULT_BASE, 4,
					      0x10 + (o[3] % 48));
				virq_io_write(vm, 0, VIRQ_SPACE_MMIO,
					      VIRQ_IOAPIC_DEFAULT_BASE + 0x10, 4, v);
			} else {
				virq_set_irq(vm, o[3] % 24, o[2] >> 1 & 1, 0);
			}
			break;
		}
	}
	/* the IRQ line says "deliverable" exactly when an ack finds something
	 * (no PIC is attached, so ExtINT never counts) */
	for (uint32_t v = 0; v < NR; v++) {
		int line = irq_line[v], vec = virq_lapic_ack(lapic, v);

		if ((vec >= 0) != (line != 0))
			abort();
	}
	return 0;
}
