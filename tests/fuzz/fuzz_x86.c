/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the x86 chips' guest-facing side: IOAPIC MMIO at any
 * offset and size, PIC and ELCR ports at any size, INTA, line changes
 * from several sources on the default routes (both chips), EOIs of any
 * vector and trigger, and PIC state restored from any value the
 * attribute API accepts.  Input: a stream of 8-byte operations.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <virq/virq.h>

static int sink_msi(void *opaque, const struct virq_msi *msi)
{
	(void)opaque;
	return (int)(msi->data % 3) - 1; /* -1, 0, 1: every LAPIC answer */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virq_vm *vm;
	static struct virq_device *io, *pic;
	static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 };
	struct virq_vm_config cfg = {
		.nr_vcpus = 2,
		.ops = { .msi = sink_msi },
		.irqfd_workers = VIRQ_IRQFD_POLL,
	};
	struct virq_ioapic_args a = { .version = 0x20,
				      .storm_max = 3,
				      .storm_delay_us = 1 };

	if (!vm) {
		if (virq_ioapic_register() || virq_pic_register() ||
		    virq_vm_create(&cfg, &vm) ||
		    virq_device_create(vm, "ioapic", &a, &io) ||
		    virq_device_create(vm, "i8259", NULL, &pic) ||
		    virq_x86_default_routes(vm))
			abort();
	}
	virq_device_reset(io);
	virq_device_reset(pic);
	for (uint32_t pin = 0; pin < 24; pin++)
		for (uint32_t src = 0; src < 3; src++)
			virq_set_irq(vm, pin, 0, src);

	for (size_t off = 0; off + 8 <= size; off += 8) {
		const uint8_t *o = data + off;
		uint32_t v;
		uint64_t r;

		memcpy(&v, o + 4, 4);
		switch (o[0] % 9) {
		case 0:
			virq_io_write(vm, o[1] % 3, VIRQ_SPACE_MMIO,
				      VIRQ_IOAPIC_DEFAULT_BASE + o[2], 1u << (o[3] % 4),
				      v);
			break;
		case 1:
			virq_io_read(vm, o[1] % 3, VIRQ_SPACE_MMIO,
				     VIRQ_IOAPIC_DEFAULT_BASE + o[2], 1u << (o[3] % 4),
				     &r);
			break;
		case 2:
			virq_set_irq(vm, o[1] % 26, o[2] & 1, o[3] % 3);
			break;
		case 3:
			virq_ioapic_eoi(io, o[1], o[2] & 1);
			break;
		case 5:
			virq_io_write(vm, 0, VIRQ_SPACE_PIO, ports[o[1] % 6],
				      o[3] & 0x80 ? 1u << (o[3] % 3) : 1, v);
			break;
		case 6:
			virq_io_read(vm, 0, VIRQ_SPACE_PIO, ports[o[1] % 6],
				     o[3] & 0x80 ? 1u << (o[3] % 3) : 1, &r);
			break;
		case 7:
			virq_pic_read_irq(pic);
			break;
		case 8:
			/* a restore: whatever the attribute API accepts, then SYNC */
			r = v;
			virq_device_set_attr(pic, 1 + o[1] % 3, o[2] % 17, &r,
					     o[1] % 3 == 2 ? 8 : 1);
			virq_device_set_attr(pic, VIRQ_PIC_GRP_SYNC, 0, NULL, 0);
			break;
		default:
			/* the sequence Linux uses: select, then write the window */
			virq_io_write(vm, 0, VIRQ_SPACE_MMIO, VIRQ_IOAPIC_DEFAULT_BASE, 4,
				      o[1]);
			virq_io_write(vm, 0, VIRQ_SPACE_MMIO,
				      VIRQ_IOAPIC_DEFAULT_BASE + 0x10, 4, v);
			break;
		}
	}
	return 0;
}
