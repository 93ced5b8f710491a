/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the MSI-X surface: table and PBA accesses of any
 * offset and size, Message Control writes, notifies of any vector, the
 * VMM's entry/PBA calls and attribute writes with any group, index and
 * size, on two devices sharing one GSI window smaller than their tables,
 * so route failures, retries and GSI conflicts are reached too.  Input: a
 * stream of 12-byte operations; bit 7 of the first byte picks the device.
 * Checked after every operation, beyond the sanitizers:
 *   - no GSI is held by two vectors (of one device or of both), and every
 *     route is held by a vector;
 *   - a vector that needs a route and has a GSI has one carrying its
 *     message and device id, and no vector that may send holds a PBA bit
 *     (both unless restore attributes were written since the last
 *     successful SYNC: restored state waits for SYNC);
 *   - no PBA bit exists beyond the last vector; a reset frees every GSI.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <virq/virq.h>

#define NV0 70u
#define NV1 16u
#define WINDOW 32u
#define BASE 100u
#define DEVID 7u
#define LIMIT 256u

static int sink_msi(void *opaque, const struct virq_msi *msi)
{
	(void)opaque;
	return (int)(msi->data % 3) - 1; /* every answer a sink may give */
}

static const uint32_t nv[2] = { NV0, NV1 };

static void check_dev(struct virq_vm *vm, struct virq_device *d, uint32_t n, bool dirty,
		      uint8_t *held)
{
	struct virq_msix_stats st;
	uint16_t c;
	uint64_t w = 0;

	if (virq_msix_get_stats(d, &st) || st.gsis > n || virq_msix_ctrl_read(d, &c))
		abort();
	if (virq_msix_pba_read(d, (n - 1) / 64 * 8, 8, &w) || (n % 64 && w >> (n % 64)))
		abort();
	for (uint32_t v = 0; v < n; v++) {
		struct virq_msix_entry e;
		struct virq_route_entry r;
		uint32_t g;

		if (virq_msix_get_entry(d, v, &e, &g))
			abort();
		if (g == VIRQ_MSIX_NO_GSI)
			continue;
		if (g >= LIMIT || held[g]++)
			abort(); /* a GSI given twice */
		if (dirty || !(c & VIRQ_MSIX_CTRL_ENABLE) ||
		    (e.ctrl & VIRQ_MSIX_VECTOR_MASKED))
			continue;
		/* routed vector => its route is the entry */
		if (virq_route_get(vm, g, &r, 1) != 1 || r.kind != VIRQ_ROUTE_MSI ||
		    r.u.msi.address_lo != e.address_lo ||
		    r.u.msi.address_hi != e.address_hi || r.u.msi.data != e.data ||
		    r.flags != VIRQ_MSI_VALID_DEVID || r.u.msi.devid != DEVID)
			abort();
		/* a vector that may send holds nothing pending */
		if (!(c & VIRQ_MSIX_CTRL_MASKALL) && virq_msix_get_pending(d, v))
			abort();
	}
}

static void check(struct virq_vm *vm, struct virq_device **d, const bool *dirty,
		  int after_reset)
{
	static uint8_t held[LIMIT];
	struct virq_route_stats rs;
	uint64_t gsis = 0;

	memset(held, 0, sizeof(held));
	for (int i = 0; i < 2; i++) {
		struct virq_msix_stats st;

		check_dev(vm, d[i], nv[i], dirty[i], held);
		if (virq_msix_get_stats(d[i], &st))
			abort();
		gsis += st.gsis;
	}
	virq_route_get_stats(vm, &rs);
	/* every route is a vector's (restored GSIs may not be routed yet) */
	if (rs.entries > gsis || (after_reset && rs.entries))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virq_vm *vm;
	static struct virq_device *dv[2];
	struct virq_vm_config cfg = {
		.nr_vcpus = 1,
		.max_routes = LIMIT,
		.ops = { .msi = sink_msi },
		.irqfd_workers = VIRQ_IRQFD_POLL,
	};
	struct virq_msix_config mc = { .nr_vectors = NV0,
				       .flags = VIRQ_MSIX_DEVID,
				       .devid = DEVID,
				       .gsi_base = BASE,
				       .gsi_count = WINDOW };
	bool dirty[2] = { false, false };

	if (!vm) {
		if (virq_vm_create(&cfg, &vm) || virq_msix_create(vm, &mc, &dv[0]))
			abort();
		mc.nr_vectors = NV1;
		if (virq_msix_create(vm, &mc, &dv[1]))
			abort();
	}
	virq_device_reset(dv[0]);
	virq_device_reset(dv[1]);
	check(vm, dv, dirty, 1);

	for (size_t off = 0; off + 12 <= size; off += 12) {
		const uint8_t *o = data + off;
		int i = o[0] >> 7;
		struct virq_device *d = dv[i];
		uint32_t n = nv[i];
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
			virq_msix_table_write(d, o16 % (n * 16 + 32) & ~3u, 4,
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
			virq_msix_notify(d, o16 % (n + 2));
			break;
		case 9:
			virq_msix_set_pending(d, o16 % (n + 2), o[4] & 1);
			break;
		case 10:
			/* attribute writes: state stored as a restore would;
			 * GSIs near the window, so both devices collide */
			memcpy(buf, o + 4, 8);
			memcpy(buf + 8, o + 4, 8);
			if (o[1] % 7 == VIRQ_MSIX_GRP_GSI && !(o[5] & 0x80)) {
				v32 = BASE - 4 + o[4] % (WINDOW + 8);
				memcpy(buf, &v32, 4);
			}
			if (!virq_device_set_attr(d, o[1] % 7, o16 % (n + 2), buf,
						  (size_t)(o[4] % 5) * 4))
				dirty[i] |= o[1] % 7 != VIRQ_MSIX_GRP_SYNC;
			break;
		default:
			if (o[1] & 1) {
				if (!virq_device_set_attr(d, VIRQ_MSIX_GRP_SYNC, 0, NULL,
							  0))
					dirty[i] = false;
			} else {
				virq_device_reset(d);
				dirty[i] = false;
				check(vm, dv, dirty, 0);
			}
			break;
		}
		check(vm, dv, dirty, 0);
	}
	return 0;
}
