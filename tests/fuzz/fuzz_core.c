/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the core's guest-reachable paths: address-map
 * dispatch (MMIO/PIO accesses a guest makes), MSIs with guest-chosen
 * address/data/devid, injection, and route transactions a guest can cause
 * indirectly (an MSI-X or IOAPIC write becomes a route update).
 * The input is a stream of 16-byte operations.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <virq/virq.h>

#include "testchip.h"

struct op {
	uint8_t kind;
	uint8_t a, b, c;
	uint32_t x, y, z;
};

static int sink_msi(void *opaque, const struct virq_msi *msi)
{
	(void)opaque;
	return (int)(msi->data & 1);
}

static struct virq_vm *make_vm(struct virq_device **dev)
{
	struct virq_vm_config cfg = {
		.nr_vcpus = 4,
		.max_routes = 256,
		.ops = { .msi = sink_msi },
	};
	struct testchip_args a[3] = {
		{ .chip = 0, .nr_pins = 24, .mmio_base = 0xfec00000 },
		{ .chip = 1,
		  .nr_pins = 8,
		  .accepts = VIRQ_CHIP_PPI | VIRQ_CHIP_LPI,
		  .doorbell_base = 0x8000000,
		  .doorbell_size = 0x10000 },
		{ .chip = 2,
		  .nr_pins = 1,
		  .doorbell_base = 0xfee00000,
		  .doorbell_size = 0x1000,
		  .mmio_base = 0xfed00000 },
	};
	struct virq_vm *vm;

	if (testchip_register() || virq_vm_create(&cfg, &vm))
		abort();
	for (int i = 0; i < 3; i++)
		if (virq_device_create(vm, "testchip", &a[i], &dev[i]))
			abort();
	return vm;
}

static struct virq_route_entry entry_of(const struct op *o)
{
	struct virq_route_entry e = { .gsi = o->x % 300,
				      .kind = o->a % 6,
				      .flags = o->b % 3 };

	/* the union is filled from raw words: every kind sees odd values */
	e.u.msi.address_lo = o->y;
	e.u.msi.address_hi = o->c & 1 ? o->z : 0;
	e.u.msi.data = o->z;
	e.u.msi.devid = o->y ^ o->z;
	if (e.kind == VIRQ_ROUTE_IRQCHIP) {
		e.u.irqchip.chip = o->y % 5;
		e.u.irqchip.pin = o->z % 30;
	}
	return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* one VM for the whole run, brought back to a known state per input:
	 * tearing a VM down waits for RCU grace periods, far too slow here */
	static struct virq_device *dev[3];
	static struct virq_vm *vm;
	struct virq_route_txn *txn = NULL;
	struct virq_route_stats st;

	if (!vm)
		vm = make_vm(dev);
	if (virq_route_set_table(vm, NULL, 0) ||
	    virq_device_move_region(dev[0], VIRQ_SPACE_MMIO, 0, 0xfec00000))
		abort();
	for (int i = 0; i < 3; i++)
		virq_device_reset(dev[i]);

	for (size_t off = 0; off + sizeof(struct op) <= size; off += sizeof(struct op)) {
		struct op o;
		struct virq_route_entry e;
		struct virq_msi m;
		uint64_t v;

		memcpy(&o, data + off, sizeof(o));
		v = (uint64_t)o.y << 32 | o.z;
		switch (o.kind % 10) {
		case 0:
			virq_io_read(vm, o.c % 6 == 5 ? VIRQ_VCPU_NONE : o.c % 6,
				     (enum virq_space)(o.a % 4),
				     0xfec00000ull + (o.x % 64) - 16, 1u << (o.b % 5),
				     &v);
			break;
		case 1:
			virq_io_write(vm, o.c % 6 == 5 ? VIRQ_VCPU_NONE : o.c % 6,
				      (enum virq_space)(o.a % 4),
				      (o.c & 1) ? o.x : 0xfec00000ull + (o.x % 64) - 16,
				      1u << (o.b % 5), v);
			break;
		case 2:
			m = (struct virq_msi){ o.x, o.c & 1 ? o.y : 0, o.z, o.a % 3,
					       o.y };
			virq_signal_msi(vm, &m);
			break;
		case 3:
			virq_set_irq(vm, o.x % 300, o.a & 1, o.b % 66);
			break;
		case 4:
			if (!txn)
				virq_route_begin(vm, &txn);
			e = entry_of(&o);
			if (o.c % 3 == 0)
				virq_route_add(txn, &e);
			else if (o.c % 3 == 1)
				virq_route_update(txn, &e);
			else
				virq_route_remove(txn, &e);
			break;
		case 5:
			if (txn)
				virq_route_commit(txn);
			txn = NULL;
			break;
		case 6: {
			struct virq_route_entry tbl[4];

			for (int i = 0; i < 4; i++) {
				struct op t = o;

				t.x += (uint32_t)i * o.a;
				tbl[i] = entry_of(&t);
			}
			virq_route_set_table(vm, tbl, o.b % 5);
			break;
		}
		case 7:
			if (txn)
				virq_route_remove_gsi(txn, o.x % 300);
			break;
		case 9: {
			/* guest-programmed MSI messages through the x86 decoder */
			struct virq_x86_msi_info i, j;
			struct virq_msi out;
			unsigned opts = o.a % 4;

			m = (struct virq_msi){ o.x, o.y, o.z, 0, 0 };
			if (virq_x86_msi_decode(&m, opts, &i) == 0 &&
			    virq_x86_msi_encode(&i, opts, &out) == 0 &&
			    (virq_x86_msi_decode(&out, opts, &j) ||
			     j.dest_id != i.dest_id || j.vector != i.vector))
				abort();
			break;
		}
		default:
			virq_device_move_region(dev[0], VIRQ_SPACE_MMIO, 0,
						0xfec00000ull + (o.x % 3) * 0x10);
			break;
		}
	}
	virq_route_abort(txn);
	virq_route_get_stats(vm, &st);
	if (st.entries > st.limit)
		abort();
	return 0;
}
