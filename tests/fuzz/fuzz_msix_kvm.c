/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for MSI-X eventfds under the KVM split-irqchip backend
 * (virq_msix_bind_irqfd with the backend attached, src/pci/msix_direct.c):
 * an eventfd is in KVM exactly while its vector may send and parked
 * otherwise, its parked signals folded into the PBA bit.  Without a usable
 * /dev/kvm every input returns 0 at once.
 *
 * One KVM VM (split irqchip can be enabled once per VM), one vCPU with its
 * LAPIC enabled (never run), virq's IOAPIC and PIC on the default routes
 * except GSI 23 (a VMM that leaves IOAPIC pin 23 unrouted) and the backend
 * are made at the first input and kept.  Per input: two MSI-X devices
 * sharing one GSI window smaller than their tables (route failures) and
 * four eventfds, destroyed / closed at the end.
 *
 * Input: a stream of 8-byte operations {op, aux, u16, u32}; bit 7 of op
 * picks the device, bit 6 asks for the full check afterwards (it folds
 * every parked counter, so it is left to the input).  Operations: guest
 * table writes (mostly aligned dwords: mask bits, LAPIC messages), any
 * table/PBA access, PBA reads, Message Control writes, eventfd writes,
 * bind / unbind, notify / set_pending, reset, SYNC, attribute set (CTRL,
 * TABLE, PBA, GSI, SYNC) and get, get_pending / set_entry, stats.
 *
 * "May send" is derived from the public state: Message Control reads
 * ENABLE without MASKALL, the entry's mask bit is clear, and the vector
 * has a GSI whose route (virq_route_get) is exactly its message.  After
 * every operation:
 *   - no GSI is held twice; an enabled unmasked vector with a GSI has its
 *     message routed there, at a GSI KVM mirrors (not an IOAPIC pin);
 *   - a vector that may send holds no pending bit;
 *   - virq_kvm_stats.msix_irqfds equals the sum over vectors of (may send
 *     ? eventfds bound : 0), eventfds bound as the fuzzer recorded them;
 *   - the eventfd of a vector that may send (in KVM) has an empty counter;
 * after an eventfd write: an eventfd of a vector that may send was taken
 * by KVM (counter 0; with a LAPIC message, the vector shows in the IRR),
 * one of a vector that may not is parked (counter + 1) and a PBA read then
 * shows the bit and empties the counter; after an unbind or a reset the
 * eventfd's counter is empty; notify sends iff the vector may send (and
 * reaches the LAPIC).  The full check (get_stats): irqfds_direct equals the
 * bindings recorded, the sum of irqfds_assigned equals msix_irqfds and,
 * per device, the may-send sum; direct_failures stays 0; every parked
 * eventfd's counter is empty after the fold; msi sink calls equal sent +
 * pending_sent.  Restore attributes (CTRL, TABLE, PBA, GSI) leave a device
 * dirty until a SYNC: then only the mask-based bounds hold (an eventfd of
 * a masked vector is parked).  At the end, destroying the devices brings
 * msix_irqfds and the routes back to where they were.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <virq/virq.h>

#include "kvm_vm.h"

#define NDEV 2
#define NV0 8u
#define NV1 6u
#define BASE 64u
#define WINDOW 10u
#define NFD 4
#define PINS 24u     /* the backend's default IOAPIC pins */
#define FREE_PIN 23u /* left unrouted */
#define KVM_LIMIT 4096u
#define LAPIC_ADDR 0xfee00000u

static const uint32_t nv[NDEV] = { NV0, NV1 };

static struct {
	bool tried, usable;
	struct kx x;	      /* the KVM test VM (tests/common/kvm_vm.h) */
	uint64_t base_routes; /* route entries with no MSI-X device */
	uint64_t sink_calls;  /* since the input began */
} K;

/* Per input. */
static struct virq_device *dv[NDEV];
static bool dirty[NDEV];
static int efd[NFD];
static int bdev[NFD]; /* device an eventfd is bound to, -1 none */
static uint32_t bvec[NFD];

static void fail(int line, const char *what)
{
	fprintf(stderr, "fuzz_msix_kvm: invariant at line %d: %s\n", line, what);
	abort();
}

#define CHECK(c)                            \
	do {                                \
		if (!(c))                   \
			fail(__LINE__, #c); \
	} while (0)

static int sink_msi(void *opaque, const struct virq_msi *msi)
{
	(void)opaque;
	K.sink_calls++;
	return virq_kvm_signal_msi(K.x.k, msi);
}

static void quiet(void *opaque, const char *device, const char *msg)
{
	(void)opaque;
	(void)device;
	(void)msg;
}

/* ---- set-up, once ---- */

static bool kvm_init(void)
{
	const struct virq_vm_config cfg = {
		.ops = { .msi = sink_msi, .guest_error = quiet },
		.irqfd_workers = VIRQ_IRQFD_POLL,
	};
	struct virq_route_txn *t;
	struct virq_route_stats rs;

	if (!kx_usable() || kx_open(&K.x, &cfg))
		return false;
	if (virq_route_begin(K.x.v, &t) || virq_route_remove_gsi(t, FREE_PIN) ||
	    virq_route_commit(t))
		abort();
	virq_route_get_stats(K.x.v, &rs);
	K.base_routes = rs.entries;
	return true;
}

/* ---- observation ---- */

/* An eventfd's counter, without reading it (/proc/self/fdinfo). */
static uint64_t efd_count(int fd)
{
	char path[64], buf[512];
	const char *p;
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(f >= 0);
	n = read(f, buf, sizeof(buf) - 1);
	close(f);
	CHECK(n > 0);
	buf[n] = 0;
	p = strstr(buf, "eventfd-count:");
	CHECK(p);
	return strtoull(p + 14, NULL, 16);
}

static void irr_clear(void)
{
	CHECK(!kx_irr_clear(&K.x, 0, 255));
}

/* Is @vector in the LAPIC's IRR (waiting up to 1 s for KVM's work)? */
static bool irr_has(uint8_t vector)
{
	return kx_irr_wait(&K.x, vector);
}

/* A fixed, edge message to APIC 0: it shows in the vCPU's IRR. */
static bool lapic_msg(const struct virq_msix_entry *e)
{
	return e->address_lo == LAPIC_ADDR && !e->address_hi && e->data >= 0x20 &&
	       e->data <= 0xff;
}

struct vstate {
	struct virq_msix_entry e;
	uint32_t gsi;
	bool masked; /* by its bit, the function mask or MSI-X disabled */
	bool send;   /* may send (meaningful only while the device is clean) */
};

static struct vstate vstate(int d, uint32_t v)
{
	struct vstate s;
	struct virq_route_entry r;
	uint16_t c;

	CHECK(!virq_msix_ctrl_read(dv[d], &c));
	CHECK(!virq_msix_get_entry(dv[d], v, &s.e, &s.gsi));
	s.masked = (c & (VIRQ_MSIX_CTRL_ENABLE | VIRQ_MSIX_CTRL_MASKALL)) !=
			   VIRQ_MSIX_CTRL_ENABLE ||
		   (s.e.ctrl & VIRQ_MSIX_VECTOR_MASKED);
	s.send = !s.masked && s.gsi != VIRQ_MSIX_NO_GSI &&
		 virq_route_get(K.x.v, s.gsi, &r, 1) == 1 && r.kind == VIRQ_ROUTE_MSI &&
		 !r.flags && r.u.msi.address_lo == s.e.address_lo &&
		 r.u.msi.address_hi == s.e.address_hi && r.u.msi.data == s.e.data;
	return s;
}

static unsigned nbound(int d, uint32_t v)
{
	unsigned n = 0;

	for (int i = 0; i < NFD; i++)
		n += bdev[i] == d && bvec[i] == v;
	return n;
}

/* Bounds on msix_irqfds from the state (exact for a clean device). */
static void expect_assigned(int d, uint64_t *lo, uint64_t *hi)
{
	for (uint32_t v = 0; v < nv[d]; v++) {
		struct vstate s = vstate(d, v);
		unsigned n = nbound(d, v);

		if (dirty[d]) {
			*hi += s.masked ? 0 : n;
		} else if (s.send) {
			*lo += n;
			*hi += n;
		}
	}
}

/* Every operation: nothing here folds a parked counter. */
static void check_light(void)
{
	static uint8_t held[KVM_LIMIT];
	struct virq_kvm_stats ks;
	uint64_t lo = 0, hi = 0;

	memset(held, 0, sizeof(held));
	for (int d = 0; d < NDEV; d++) {
		for (uint32_t v = 0; v < nv[d]; v++) {
			struct vstate s = vstate(d, v);

			if (s.gsi == VIRQ_MSIX_NO_GSI)
				continue;
			CHECK(s.gsi < KVM_LIMIT && !held[s.gsi]++);
			if (dirty[d] || s.masked)
				continue;
			/* enabled, unmasked, a GSI: routed with its message; with
			 * eventfds (in KVM), at a GSI where KVM has that route */
			CHECK(s.send);
			CHECK(s.gsi >= PINS || !nbound(d, v));
			/* get_pending folds only this vector: its eventfds are
			 * in KVM (nothing parked) */
			CHECK(virq_msix_get_pending(dv[d], v) == 0);
		}
		expect_assigned(d, &lo, &hi);
	}
	virq_kvm_get_stats(K.x.k, &ks);
	CHECK(ks.msix_irqfds >= lo && ks.msix_irqfds <= hi);
	CHECK(ks.kvm_irqfds == 0);
	/* an eventfd in KVM has an empty counter: KVM reads it at each
	 * signal, virq empties what KVM left at the assign */
	for (int i = 0; i < NFD; i++)
		if (bdev[i] >= 0 && !dirty[bdev[i]] && vstate(bdev[i], bvec[i]).send)
			CHECK(efd_count(efd[i]) == 0);
}

/* Folds every parked counter (get_stats). */
static void check_full(void)
{
	struct virq_kvm_stats ks;
	uint64_t assigned = 0, sends = 0;

	for (int d = 0; d < NDEV; d++) {
		struct virq_msix_stats st;
		uint64_t lo = 0, hi = 0, bound = 0;

		CHECK(!virq_msix_get_stats(dv[d], &st));
		for (int i = 0; i < NFD; i++)
			bound += bdev[i] == d;
		CHECK(st.irqfds_direct == bound);
		CHECK(st.direct_failures == 0);
		CHECK(st.irqfds_assigned <= st.irqfds_direct);
		expect_assigned(d, &lo, &hi);
		CHECK(st.irqfds_assigned >= lo && st.irqfds_assigned <= hi);
		assigned += st.irqfds_assigned;
		sends += st.sent + st.pending_sent;
		/* folded: nothing waits in a parked counter */
		for (int i = 0; i < NFD; i++) {
			struct vstate s;

			if (bdev[i] != d)
				continue;
			s = vstate(d, bvec[i]);
			if (s.masked || (!dirty[d] && !s.send))
				CHECK(efd_count(efd[i]) == 0);
		}
	}
	virq_kvm_get_stats(K.x.k, &ks);
	CHECK(ks.msix_irqfds == assigned);
	CHECK(K.sink_calls == sends);
}

/* ---- operations ---- */

static struct virq_msix_entry gen_entry(const uint8_t *o, uint32_t v32)
{
	struct virq_msix_entry e = {
		.address_lo = o[4] & 1 ? LAPIC_ADDR : v32,
		.address_hi = o[4] & 2 ? 0 : v32 >> 16,
		.data = o[4] & 4 ? 0x20u + o[5] % 0xe0u : v32,
		.ctrl = o[6] & 1,
	};

	if (o[6] & 0x80)
		e.ctrl = v32; /* bits the attribute refuses */
	return e;
}

static void op_table_write(int d, const uint8_t *o, uint16_t o16, uint32_t v32)
{
	uint32_t v = o16 % nv[d];
	unsigned dw = o[1] & 3;
	uint64_t off = v * VIRQ_MSIX_ENTRY_SIZE + dw * 4, val = v32;
	bool nice = o[1] & 4;

	if (o[1] & 8) { /* a qword: address or data + control */
		dw &= 2;
		off = v * VIRQ_MSIX_ENTRY_SIZE + dw * 4;
		val = dw ? (uint64_t)(v32 & 1) << 32 | (0x20u + o[5] % 0xe0u)
			 : LAPIC_ADDR;
		if (!nice)
			val |= (uint64_t)v32 << 32;
		CHECK(!virq_msix_table_write(dv[d], off, 8, val));
		return;
	}
	switch (dw) {
	case 0:
		val = nice ? LAPIC_ADDR : v32;
		break;
	case 1:
		val = nice ? 0 : v32;
		break;
	case 2:
		val = nice ? 0x20u + v32 % 0xe0u : v32;
		break;
	default:
		break;
	}
	CHECK(!virq_msix_table_write(dv[d], off, 4, val));
}

static void op_raw(int d, const uint8_t *o, uint16_t o16, uint64_t v64)
{
	unsigned sz = o[1] % 5 == 4 ? 3 : 1u << (o[1] % 4);
	uint64_t r;

	switch (o[1] >> 5 & 3) {
	case 0:
		virq_msix_table_write(dv[d], o16 % (nv[d] * 16 + 32), sz, v64);
		break;
	case 1:
		virq_msix_table_read(dv[d], o16 % (nv[d] * 16 + 32), sz, &r);
		break;
	case 2:
		virq_msix_pba_read(dv[d], o16 % 24, sz, &r);
		break;
	default:
		virq_msix_pba_write(dv[d], o16 % 24, sz, v64);
		break;
	}
}

static void op_ctrl(int d, const uint8_t *o, uint16_t o16)
{
	static const uint16_t common[3] = {
		VIRQ_MSIX_CTRL_ENABLE, VIRQ_MSIX_CTRL_ENABLE | VIRQ_MSIX_CTRL_MASKALL, 0
	};

	CHECK(!virq_msix_ctrl_write(dv[d], (o[1] & 3) == 3 ? o16 : common[o[1] & 3]));
}

static void op_signal(const uint8_t *o)
{
	int i = o[1] % NFD, d = bdev[i];
	uint64_t before = efd_count(efd[i]), after;
	struct vstate s;
	bool probe;

	if (d < 0) {
		CHECK(eventfd_write(efd[i], 1) == 0);
		CHECK(efd_count(efd[i]) == before + 1);
		return;
	}
	s = vstate(d, bvec[i]);
	probe = !dirty[d] && s.send && lapic_msg(&s.e) && (o[1] & 4);
	if (probe)
		irr_clear();
	CHECK(eventfd_write(efd[i], 1) == 0);
	after = efd_count(efd[i]);
	if (!dirty[d] && s.send) {
		/* in KVM: its wakeup took the counter */
		CHECK(after == 0);
		if (probe)
			CHECK(irr_has((uint8_t)s.e.data));
		return;
	}
	if (!s.masked && dirty[d])
		return;		    /* restored, not synced: either way */
	CHECK(after == before + 1); /* parked */
	if (o[1] & 8) {
		/* a PBA read folds it */
		CHECK(virq_msix_get_pending(dv[d], bvec[i]) == 1);
		CHECK(efd_count(efd[i]) == 0);
	}
}

static void op_bind(int d, const uint8_t *o, uint16_t o16)
{
	int i = o[1] % NFD;
	uint32_t v = o16 % (nv[d] + 1);
	int ret = virq_msix_bind_irqfd(dv[d], v, efd[i]);

	if (v == nv[d]) {
		CHECK(ret == -EINVAL);
	} else if (bdev[i] >= 0) {
		CHECK(ret == -EBUSY);
	} else {
		CHECK(ret == 0);
		bdev[i] = d;
		bvec[i] = v;
	}
}

static void op_unbind(int d, const uint8_t *o, uint16_t o16)
{
	int i = o[1] % NFD;
	uint32_t v = o16 % nv[d];
	int ret;

	if ((o[1] & 4) && bdev[i] >= 0) {
		d = bdev[i];
		v = bvec[i];
	}
	ret = virq_msix_unbind_irqfd(dv[d], v, efd[i]);
	if (bdev[i] != d || bvec[i] != v) {
		/* not bound there: a no-op (as virq_irqfd_unbind); a binding
		 * elsewhere stays (irqfds_direct in the full check) */
		CHECK(ret == 0);
		return;
	}
	CHECK(ret == 0);
	bdev[i] = -1;
	/* what it signalled was folded (or was KVM's) */
	CHECK(efd_count(efd[i]) == 0);
}

static void op_notify(int d, const uint8_t *o, uint16_t o16)
{
	uint32_t v = o16 % (nv[d] + 1);
	struct vstate s;
	bool probe;
	int ret;

	if (v == nv[d]) {
		CHECK(virq_msix_notify(dv[d], v) == -EINVAL);
		return;
	}
	s = vstate(d, v);
	probe = !dirty[d] && s.send && lapic_msg(&s.e) && (o[1] & 4);
	if (probe)
		irr_clear();
	if (o[1] & 1)
		ret = virq_msix_notify(dv[d], v);
	else
		ret = virq_msix_set_pending(dv[d], v, o[1] & 2);
	if ((o[1] & 3) == 0) {
		CHECK(ret == 0 || ret == 1); /* cleared: was it set */
		return;
	}
	if (!dirty[d])
		CHECK(ret == (s.send ? VIRQ_MSIX_SENT : VIRQ_MSIX_PENDING));
	if (probe)
		CHECK(irr_has((uint8_t)s.e.data));
}

static void op_reset(int d, const uint8_t *o)
{
	int ret;

	if (o[1] & 1) {
		ret = virq_device_set_attr(dv[d], VIRQ_MSIX_GRP_SYNC, 0, NULL, 0);
		/* -ENOSPC: the others routed, the starved ones latch */
		if (!ret || ret == -ENOSPC)
			dirty[d] = false;
		return;
	}
	CHECK(!virq_device_reset(dv[d]));
	dirty[d] = false;
	for (uint32_t v = 0; v < nv[d]; v++) {
		struct virq_msix_entry e;
		uint32_t g;

		CHECK(!virq_msix_get_entry(dv[d], v, &e, &g));
		CHECK(g == VIRQ_MSIX_NO_GSI && e.ctrl == VIRQ_MSIX_VECTOR_MASKED);
	}
	/* what the eventfds signalled went with the reset */
	for (int i = 0; i < NFD; i++)
		if (bdev[i] == d)
			CHECK(efd_count(efd[i]) == 0);
	for (uint32_t v = 0; v < nv[d]; v++)
		CHECK(virq_msix_get_pending(dv[d], v) == 0);
}

static void op_attr_set(int d, const uint8_t *o, uint16_t o16, uint32_t v32)
{
	uint32_t group = 1 + o[1] % 5, attr = o16 % (nv[d] + 1), u;
	struct virq_msix_entry e;
	uint64_t w;
	int ret;

	switch (group) {
	case VIRQ_MSIX_GRP_CTRL:
		u = (o[4] & 1 ? VIRQ_MSIX_CTRL_ENABLE : 0) |
		    (o[4] & 2 ? VIRQ_MSIX_CTRL_MASKALL : 0) | (nv[d] - 1);
		if (o[4] & 0x80)
			u = v32;
		ret = virq_device_set_attr(dv[d], group, o[5] & 0x80 ? 1 : 0, &u, 4);
		break;
	case VIRQ_MSIX_GRP_TABLE:
		e = gen_entry(o, v32);
		ret = virq_device_set_attr(dv[d], group, attr, &e, sizeof(e));
		break;
	case VIRQ_MSIX_GRP_PBA:
		w = o[4] & 0x80 ? v32 : v32 & ((1u << nv[d]) - 1);
		ret = virq_device_set_attr(dv[d], group, o16 & 1, &w, 8);
		break;
	case VIRQ_MSIX_GRP_GSI:
		/* near the window, where the other device collides; IOAPIC
		 * pin GSIs 20..23 (23 unrouted): outside the window; none */
		u = o[4] & 0x80 ? FREE_PIN - 3 + o[4] % 4
				: BASE - 4 + o[4] % (WINDOW + 8);
		if (o[5] & 0x80)
			u = VIRQ_MSIX_NO_GSI;
		ret = virq_device_set_attr(dv[d], group, attr, &u, 4);
		break;
	default:
		ret = virq_device_set_attr(dv[d], group, o16 & 1, NULL, 0);
		if (!ret || ret == -ENOSPC)
			dirty[d] = false;
		return;
	}
	if (!ret)
		dirty[d] = true;
}

static void op_attr_get(int d, const uint8_t *o, uint16_t o16)
{
	uint32_t v = o16 % nv[d], u, g;
	struct virq_msix_entry e, ge;
	uint64_t w;
	uint16_t c;

	CHECK(!virq_msix_get_entry(dv[d], v, &e, &g));
	switch (o[1] & 3) {
	case 0:
		CHECK(!virq_device_get_attr(dv[d], VIRQ_MSIX_GRP_PBA, 0, &w, 8));
		CHECK(!(w >> nv[d]));
		for (uint32_t x = 0; x < nv[d]; x++)
			if (!dirty[d] && vstate(d, x).send)
				CHECK(!(w >> x & 1));
		break;
	case 1:
		CHECK(!virq_device_get_attr(dv[d], VIRQ_MSIX_GRP_TABLE, v, &ge,
					    sizeof(ge)));
		CHECK(!memcmp(&e, &ge, sizeof(e)));
		break;
	case 2:
		CHECK(!virq_device_get_attr(dv[d], VIRQ_MSIX_GRP_CTRL, 0, &u, 4));
		CHECK(!virq_msix_ctrl_read(dv[d], &c));
		CHECK(u == c);
		break;
	default:
		CHECK(!virq_device_get_attr(dv[d], VIRQ_MSIX_GRP_GSI, v, &u, 4));
		CHECK(u == g);
		break;
	}
}

static void op_vmm(int d, const uint8_t *o, uint16_t o16, uint32_t v32)
{
	uint32_t v = o16 % nv[d];
	uint64_t w;

	if (o[1] & 1) {
		struct virq_msix_entry e = gen_entry(o, v32);

		e.ctrl &= VIRQ_MSIX_VECTOR_MASKED;
		virq_msix_set_entry(dv[d], v, &e); /* 0, -ENOSPC, ... */
		return;
	}
	/* the guest's PBA read: folds the vectors it covers */
	CHECK(!virq_msix_pba_read(dv[d], 0, 8, &w));
	CHECK(!(w >> nv[d]));
	for (uint32_t x = 0; x < nv[d]; x++)
		if (!dirty[d] && vstate(d, x).send)
			CHECK(!(w >> x & 1));
}

static void run(const uint8_t *o)
{
	int d = o[0] >> 7;
	uint16_t o16;
	uint32_t v32;
	uint64_t v64;

	memcpy(&o16, o + 2, 2);
	memcpy(&v32, o + 4, 4);
	v64 = (uint64_t)v32 << 32 | v32;
	switch (o[0] & 15) {
	case 0:
	case 1:
	case 2:
		op_table_write(d, o, o16, v32);
		break;
	case 3:
		op_raw(d, o, o16, v64);
		break;
	case 4:
		op_ctrl(d, o, o16);
		break;
	case 5:
	case 6:
		op_signal(o);
		break;
	case 7:
		op_bind(d, o, o16);
		break;
	case 8:
		op_unbind(d, o, o16);
		break;
	case 9:
		op_notify(d, o, o16);
		break;
	case 10:
		op_reset(d, o);
		break;
	case 11:
		op_attr_set(d, o, o16, v32);
		break;
	case 12:
		op_attr_get(d, o, o16);
		break;
	case 13:
		op_vmm(d, o, o16, v32);
		break;
	default:
		check_full();
		break;
	}
	check_light();
	if (o[0] & 0x40)
		check_full();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virq_msix_config mc = { .gsi_base = BASE, .gsi_count = WINDOW };
	struct virq_kvm_stats ks;
	struct virq_route_stats rs;

	if (!K.tried) {
		K.tried = true;
		K.usable = kvm_init();
		if (!K.usable)
			fprintf(stderr, "fuzz_msix_kvm: /dev/kvm not usable, "
					"every input is skipped\n");
	}
	if (!K.usable)
		return 0;

	K.sink_calls = 0;
	for (int d = 0; d < NDEV; d++) {
		mc.nr_vectors = nv[d];
		CHECK(!virq_msix_create(K.x.v, &mc, &dv[d]));
		dirty[d] = false;
	}
	for (int i = 0; i < NFD; i++) {
		efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		CHECK(efd[i] >= 0);
		bdev[i] = -1;
	}
	check_light();

	for (size_t off = 0; off + 8 <= size; off += 8)
		run(data + off);

	check_full();
	/* destroying unbinds: no eventfd of theirs stays in KVM */
	for (int d = 0; d < NDEV; d++)
		CHECK(!virq_device_destroy(dv[d]));
	virq_kvm_get_stats(K.x.k, &ks);
	CHECK(ks.msix_irqfds == 0);
	virq_route_get_stats(K.x.v, &rs);
	CHECK(rs.entries == K.base_routes);
	for (int i = 0; i < NFD; i++)
		close(efd[i]);
	return 0;
}
