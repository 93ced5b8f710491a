/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the MSI-X surface: table and PBA accesses of any
 * offset and size, Message Control writes, notifies of any vector, the
 * VMM's entry/PBA calls and attribute writes with any group, index and
 * size.  The GSI window is smaller than the table, so route failures are
 * reached too.  Input: a stream of 12-byte operations.
 * Checked beyond the sanitizers: a reset frees every GSI, no PBA bit
 * exists beyond the last vector, and every route is held by a vector.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <virq/virq.h>

#define NV 70u
#define WINDOW 32u

static int sink_msi(void *opaque, const struct virq_msi *msi)
{
	(void)opaque;
	return (int)(msi->data % 3) - 1; /* every answer a sink may give */
}

static void check(struct virq_vm *vm, struct virq_device *d, int after_reset)
{
	struct virq_route_stats rs;
	struct virq_msix_stats st;
	uint64_t w = 0;

	virq_route_get_stats(vm, &rs);
	/* every route is a vector's (restored GSIs may not be routed yet) */
	if (virq_msix_get_stats(d, &st) || st.gsis > NV || rs.entries > st.gsis)
		abort();
	if (after_reset && rs.entries)
		abort();
	if (virq_msix_pba_read(d, 8, 8, &w) || w >> (NV - 64))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virq_vm *vm;
	static struct virq_device *d;
	struct virq_vm_config cfg = {
		.nr_vcpus = 1,
		.max_routes = 256,
		.ops = { .msi = sink_msi },
		.irqfd_workers = VIRQ_IRQFD_POLL,
	};
	struct virq_msix_config mc = { .nr_vectors = NV,
				       .flags = VIRQ_MSIX_DEVID,
				       .devid = 7,
				       .gsi_base = 100,
				       .gsi_count = WINDOW };

	if (!vm && (virq_vm_create(&cfg, &vm) || virq_msix_create(vm, &mc, &d)))
		abort();
	virq_device_reset(d);
	check(vm, d, 1);

	for (size_t off = 0; off + 12 <= size; off += 12) {
		const uint8_t *o = data + off;
		uint8_t buf[32] = { 0 };
		uint64_t v64, r;
		uint32_t v32;
		uint16_t o16;
		unsigned sz = o[1] % 5 == 4 ? 3 : 1u << (o[1] % 4);

		memcpy(&o16, o + 2, 2);
		memcpy(&v32, o + 4, 4);
		memcpy(&v64, o + 4, 8);
		switch (o[0] % 12) {
		case 0:
		case 1: /* the common case: aligned dword writes */
			virq_msix_table_write(d, o16 % (NV * 16 + 32) & ~3u, 4,
					      v32 & 0x1ff);
			break;
		case 2:
			virq_msix_table_write(d, o16, sz, v64);
			break;
		case 3:
			virq_msix_table_read(d, o16, sz, &r);
			break;
		case 4:
			virq_msix_pba_read(d, o16 % 32, sz, &r);
			break;
		case 5:
			virq_msix_pba_write(d, o16 % 32, sz, v64);
			break;
		case 6:
			virq_msix_ctrl_write(d, o16);
			break;
		case 7:
		case 8:
			virq_msix_notify(d, o16 % (NV + 2));
			break;
		case 9:
			virq_msix_set_pending(d, o16 % (NV + 2), o[4] & 1);
			break;
		case 10:
			/* attribute writes: state stored as a restore would */
			memcpy(buf, o + 4, 8);
			memcpy(buf + 8, o + 4, 8);
			virq_device_set_attr(d, o[1] % 7, o16 % (NV + 2), buf,
					     (size_t)(o[4] % 5) * 4);
			break;
		default:
			if (o[1] & 1) {
				virq_device_set_attr(d, VIRQ_MSIX_GRP_SYNC, 0, NULL, 0);
			} else {
				virq_device_reset(d);
				check(vm, d, 1);
			}
			break;
		}
		check(vm, d, 0);
	}
	return 0;
}
