/* SPDX-License-Identifier: MIT */
/* MSI-X table/PBA rules of spec/msix-doorbell-snapshot.md, through the API. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

#define DOORBELL_B 0xfef00000u
#define NOTIFY_GSI_LIMIT 4096u

/* route_changed calls, recorded */
struct rec {
	unsigned calls;
	uint32_t vector, gsi;
	struct virq_msix_entry e;
};

static void on_route(void *opaque, struct virq_device *dev, uint32_t vector, uint32_t gsi,
		     const struct virq_msix_entry *e)
{
	struct rec *r = opaque;

	(void)dev;
	r->calls++;
	r->vector = vector;
	r->gsi = gsi;
	r->e = *e;
}

struct mfx {
	struct fixture f;
	struct virq_device *b; /* MSI receiver at DOORBELL_B */
	struct rec rec;
};

static int setup(void **state)
{
	static struct mfx x;

	memset(&x, 0, sizeof(x));
	fixture_setup_limit(&x.f, NOTIFY_GSI_LIMIT);
	x.b = fixture_chip(x.f.vm, 11, 1, 0, DOORBELL_B);
	*state = &x;
	return 0;
}

static int teardown(void **state)
{
	struct mfx *x = *state;

	virq_vm_destroy(x->f.vm);
	return 0;
}

/* A device taking GSIs from [base, base + count) (count 0: all). */
static struct virq_device *mkw(struct mfx *x, uint32_t nr, uint32_t base, uint32_t count)
{
	struct virq_msix_config c = { .nr_vectors = nr,
				      .gsi_base = base,
				      .gsi_count = count,
				      .ops = { .route_changed = on_route },
				      .opaque = &x->rec };
	struct virq_device *d = NULL;

	assert_int_equal(virq_msix_create(x->f.vm, &c, &d), 0);
	return d;
}

static struct virq_device *mk(struct mfx *x, uint32_t nr)
{
	return mkw(x, nr, 0, 0);
}

static void tw(struct virq_device *d, uint64_t off, unsigned size, uint64_t v)
{
	assert_int_equal(virq_msix_table_write(d, off, size, v), 0);
}

static uint64_t tr(struct virq_device *d, uint64_t off, unsigned size)
{
	uint64_t v = 0x5a5a;

	assert_int_equal(virq_msix_table_read(d, off, size, &v), 0);
	return v;
}

static uint64_t pba(struct virq_device *d, uint64_t off, unsigned size)
{
	uint64_t v = 0x5a5a;

	assert_int_equal(virq_msix_pba_read(d, off, size, &v), 0);
	return v;
}

/* The guest's programming sequence: address, data (vector stays masked). */
static void program(struct virq_device *d, uint32_t v, uint32_t addr, uint32_t data)
{
	tw(d, v * 16u + 0, 4, addr);
	tw(d, v * 16u + 4, 4, 0);
	tw(d, v * 16u + 8, 4, data);
}

static void vmask(struct virq_device *d, uint32_t v, bool masked)
{
	tw(d, v * 16u + 12, 4, masked);
	/* the guest's read-back flush */
	assert_int_equal(tr(d, v * 16u + 12, 4), masked);
}

static void ctrl(struct virq_device *d, uint16_t bits)
{
	uint16_t c;

	assert_int_equal(virq_msix_ctrl_write(d, bits), 0);
	assert_int_equal(virq_msix_ctrl_read(d, &c), 0);
	assert_int_equal(c & (VIRQ_MSIX_CTRL_ENABLE | VIRQ_MSIX_CTRL_MASKALL), bits);
}

static uint64_t msis_slot(struct virq_device *rx, uint32_t data)
{
	uint64_t n = 0;

	assert_int_equal(virq_device_get_attr(rx, TESTCHIP_GRP_MSI, data % 64, &n, 8), 0);
	return n;
}

/* The irqfd worker delivers asynchronously: wait (up to 5 s) for @n. */
static uint64_t wait_msis(struct virq_device *rx, uint64_t n)
{
	for (int i = 0; i < 5000 && testchip_msis(rx) < n; i++)
		usleep(1000);
	return testchip_msis(rx);
}

static uint64_t route_entries(struct virq_vm *vm)
{
	struct virq_route_stats st;

	virq_route_get_stats(vm, &st);
	return st.entries;
}

static uint64_t route_commits(struct virq_vm *vm)
{
	struct virq_route_stats st;

	virq_route_get_stats(vm, &st);
	return st.commits;
}

static uint32_t gsi_of(struct virq_device *d, uint32_t v)
{
	struct virq_msix_entry e;
	uint32_t g = 0;

	assert_int_equal(virq_msix_get_entry(d, v, &e, &g), 0);
	return g;
}

static void test_create_errors(void **state)
{
	struct mfx *x = *state;
	struct virq_msix_config c = { .nr_vectors = 0 };
	struct virq_device *d = NULL;
	uint64_t v;

	assert_int_equal(virq_msix_create(x->f.vm, &c, &d), -EINVAL);
	assert_true(strstr(virq_last_error(), "vectors") != NULL);
	c.nr_vectors = 2049;
	assert_int_equal(virq_msix_create(x->f.vm, &c, &d), -EINVAL);
	c.nr_vectors = 4;
	c.flags = 2;
	assert_int_equal(virq_msix_create(x->f.vm, &c, &d), -EINVAL);
	c.flags = 0;
	c.gsi_base = NOTIFY_GSI_LIMIT;
	assert_int_equal(virq_msix_create(x->f.vm, &c, &d), -EINVAL);
	c.gsi_base = 100;
	c.gsi_count = NOTIFY_GSI_LIMIT;
	assert_int_equal(virq_msix_create(x->f.vm, &c, &d), -EINVAL);
	assert_int_equal(virq_msix_create(x->f.vm, NULL, &d), -EINVAL);

	/* a device of another type is refused by every call */
	assert_int_equal(virq_msix_notify(x->f.msi, 0), -EINVAL);
	assert_int_equal(virq_msix_table_read(x->f.msi, 0, 4, &v), -EINVAL);
	assert_int_equal(virq_msix_table_write(x->f.msi, 0, 4, 0), -EINVAL);
	assert_int_equal(virq_msix_pba_read(x->f.msi, 0, 4, &v), -EINVAL);
	assert_int_equal(virq_msix_ctrl_write(x->f.msi, 0), -EINVAL);
	assert_int_equal(virq_msix_notify(NULL, 0), -EINVAL);
}

static void test_power_on_state(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 100);
	uint16_t c;
	uint32_t u;

	assert_int_equal(virq_msix_ctrl_read(d, &c), 0);
	assert_int_equal(c, 99); /* table size - 1, disabled, not masked */
	for (uint32_t v = 0; v < 100; v++) {
		assert_int_equal(tr(d, v * 16u + 12, 4), VIRQ_MSIX_VECTOR_MASKED);
		assert_int_equal(gsi_of(d, v), VIRQ_MSIX_NO_GSI);
	}
	assert_int_equal(pba(d, 0, 8), 0);
	assert_int_equal(pba(d, 8, 8), 0);
	assert_int_equal(virq_device_get_attr(d, VIRQ_MSIX_GRP_CTRL, 1, &u, 4), 0);
	assert_int_equal(u, 100);
	assert_string_equal(virq_device_name(d), "msix.0");
	/* Message Control's size field is read-only */
	assert_int_equal(virq_msix_ctrl_write(d, 0x3ff), 0);
	assert_int_equal(virq_msix_ctrl_read(d, &c), 0);
	assert_int_equal(c, 99);
}

static void test_mask_notify_unmask_once(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 8);
	struct virq_msix_stats st;

	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	program(d, 3, (uint32_t)MSI_DOORBELL, 0x33);
	assert_int_equal(virq_msix_notify(d, 3), VIRQ_MSIX_PENDING);
	assert_int_equal(pba(d, 0, 4), 1u << 3);
	assert_int_equal(virq_msix_get_pending(d, 3), 1);
	assert_int_equal(testchip_msis(x->f.msi), 0);

	vmask(d, 3, false);
	assert_int_equal(testchip_msis(x->f.msi), 1);
	assert_int_equal(testchip_last_msi(x->f.msi).data, 0x33);
	assert_int_equal(pba(d, 0, 4), 0);
	/* unmasking again sends nothing more */
	vmask(d, 3, false);
	assert_int_equal(testchip_msis(x->f.msi), 1);
	/* unmasked: a notify goes straight out */
	assert_int_equal(virq_msix_notify(d, 3), VIRQ_MSIX_SENT);
	assert_int_equal(testchip_msis(x->f.msi), 2);
	assert_int_equal(pba(d, 0, 4), 0);
	assert_int_equal(virq_msix_get_stats(d, &st), 0);
	/* what the sink saw, against the counters: each went out once */
	assert_int_equal(testchip_msis(x->f.msi), st.sent + st.pending_sent);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.latched, 1);
	assert_int_equal(st.pending_sent, 1);
}

static void test_three_notifies_deliver_once(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 8);
	struct virq_msix_stats st;

	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	program(d, 0, (uint32_t)MSI_DOORBELL, 0x10);
	vmask(d, 0, false);
	vmask(d, 0, true);
	for (int i = 0; i < 3; i++)
		assert_int_equal(virq_msix_notify(d, 0), VIRQ_MSIX_PENDING);
	assert_int_equal(testchip_msis(x->f.msi), 0);
	vmask(d, 0, false);
	assert_int_equal(testchip_msis(x->f.msi), 1);
	assert_int_equal(virq_msix_get_pending(d, 0), 0);
	assert_int_equal(virq_msix_get_stats(d, &st), 0);
	assert_int_equal(st.latched, 1);
	assert_int_equal(st.coalesced, 2);
}

static void test_function_mask(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 8);

	ctrl(d, VIRQ_MSIX_CTRL_ENABLE | VIRQ_MSIX_CTRL_MASKALL);
	program(d, 1, (uint32_t)MSI_DOORBELL, 0x11);
	program(d, 2, (uint32_t)MSI_DOORBELL, 0x12);
	vmask(d, 1, false);
	vmask(d, 2, false);
	/* the function mask holds both */
	assert_int_equal(virq_msix_notify(d, 1), VIRQ_MSIX_PENDING);
	assert_int_equal(virq_msix_notify(d, 2), VIRQ_MSIX_PENDING);
	assert_int_equal(pba(d, 0, 8), 6);
	/* the vector mask bits read back as the guest wrote them */
	assert_int_equal(tr(d, 16 + 12, 4), 0);
	assert_int_equal(testchip_msis(x->f.msi), 0);
	/* vector 2 masked individually: only vector 1 goes at function unmask */
	vmask(d, 2, true);
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	assert_int_equal(msis_slot(x->f.msi, 0x11), 1);
	assert_int_equal(msis_slot(x->f.msi, 0x12), 0);
	assert_int_equal(pba(d, 0, 8), 4);
	vmask(d, 2, false);
	assert_int_equal(msis_slot(x->f.msi, 0x12), 1);
	assert_int_equal(pba(d, 0, 8), 0);
	/* masking the function again latches */
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE | VIRQ_MSIX_CTRL_MASKALL);
	assert_int_equal(virq_msix_notify(d, 1), VIRQ_MSIX_PENDING);
	assert_int_equal(testchip_msis(x->f.msi), 2);
}

static void test_disabled_latches(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 8);
	uint64_t base = route_entries(x->f.vm);

	/* unmasked but MSI-X disabled: latched, no route yet */
	program(d, 4, (uint32_t)MSI_DOORBELL, 0x14);
	vmask(d, 4, false);
	assert_int_equal(route_entries(x->f.vm), base);
	assert_int_equal(virq_msix_notify(d, 4), VIRQ_MSIX_PENDING);
	assert_int_equal(x->rec.calls, 0);
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	assert_int_equal(testchip_msis(x->f.msi), 1);
	assert_int_equal(route_entries(x->f.vm), base + 1);
	assert_int_equal(x->rec.calls, 1);
	assert_int_equal(x->rec.vector, 4);
	assert_int_equal(x->rec.gsi, gsi_of(d, 4));
	assert_int_equal(x->rec.e.data, 0x14);
}

static void test_disable_while_pending(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 8);
	uint64_t base = route_entries(x->f.vm);
	struct virq_msix_stats st;

	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	program(d, 5, (uint32_t)MSI_DOORBELL, 0x15);
	vmask(d, 5, false);
	assert_int_equal(route_entries(x->f.vm), base + 1);
	vmask(d, 5, true);
	assert_int_equal(virq_msix_notify(d, 5), VIRQ_MSIX_PENDING);

	/* disable: the GSI goes, the pending bit stays */
	ctrl(d, 0);
	assert_int_equal(route_entries(x->f.vm), base);
	assert_int_equal(gsi_of(d, 5), VIRQ_MSIX_NO_GSI);
	assert_int_equal(x->rec.gsi, VIRQ_MSIX_NO_GSI);
	assert_int_equal(virq_msix_get_pending(d, 5), 1);
	assert_int_equal(virq_msix_get_stats(d, &st), 0);
	assert_int_equal(st.gsis, 0);
	/* unmasked while disabled: still nothing */
	vmask(d, 5, false);
	assert_int_equal(virq_msix_notify(d, 5), VIRQ_MSIX_PENDING);
	assert_int_equal(testchip_msis(x->f.msi), 0);
	/* re-enabled: routed again and sent once */
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	assert_int_equal(testchip_msis(x->f.msi), 1);
	assert_int_equal(virq_msix_get_pending(d, 5), 0);
	assert_int_equal(route_entries(x->f.vm), base + 1);
}

static void test_address_change_while_masked(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 8);
	struct virq_route_entry r;
	unsigned calls;
	uint32_t g;

	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	program(d, 6, (uint32_t)MSI_DOORBELL, 0x16);
	vmask(d, 6, false);
	assert_int_equal(virq_msix_notify(d, 6), VIRQ_MSIX_SENT);
	assert_int_equal(testchip_msis(x->f.msi), 1);

	/* Linux's affinity change: mask, rewrite, unmask */
	vmask(d, 6, true);
	calls = x->rec.calls;
	program(d, 6, DOORBELL_B, 0x26);
	assert_int_equal(virq_msix_notify(d, 6), VIRQ_MSIX_PENDING);
	assert_int_equal(x->rec.calls, calls); /* told when the route changes */
	vmask(d, 6, false);
	assert_int_equal(testchip_msis(x->f.msi), 1);
	assert_int_equal(testchip_msis(x->b), 1);
	assert_int_equal(testchip_last_msi(x->b).data, 0x26);
	assert_int_equal(x->rec.calls, calls + 1);
	assert_int_equal(x->rec.vector, 6);
	assert_int_equal(x->rec.e.address_lo, DOORBELL_B);
	/* the route carries the new message */
	g = gsi_of(d, 6);
	assert_int_equal(virq_route_get(x->f.vm, g, &r, 1), 1);
	assert_int_equal(r.kind, VIRQ_ROUTE_MSI);
	assert_int_equal(r.u.msi.address_lo, DOORBELL_B);
	assert_int_equal(r.u.msi.data, 0x26);
	assert_int_equal(r.flags, 0);
	/* a write while unmasked takes effect at once */
	tw(d, 6 * 16 + 8, 4, 0x27);
	assert_int_equal(virq_msix_notify(d, 6), VIRQ_MSIX_SENT);
	assert_int_equal(testchip_last_msi(x->b).data, 0x27);
	assert_int_equal(testchip_msis(x->b), 2);
}

static void test_devid_in_route(void **state)
{
	struct mfx *x = *state;
	struct virq_msix_config c = { .nr_vectors = 2,
				      .flags = VIRQ_MSIX_DEVID,
				      .devid = 0x1234 };
	struct virq_route_entry r;
	struct virq_device *d;

	assert_int_equal(virq_msix_create(x->f.vm, &c, &d), 0);
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	program(d, 1, (uint32_t)MSI_DOORBELL, 0x21);
	vmask(d, 1, false);
	assert_int_equal(virq_route_get(x->f.vm, gsi_of(d, 1), &r, 1), 1);
	assert_int_equal(r.flags, VIRQ_MSI_VALID_DEVID);
	assert_int_equal(r.u.msi.devid, 0x1234);
	assert_int_equal(virq_msix_notify(d, 1), VIRQ_MSIX_SENT);
	assert_int_equal(testchip_last_msi(x->f.msi).devid, 0x1234);
	assert_int_equal(testchip_last_msi(x->f.msi).flags, VIRQ_MSI_VALID_DEVID);
}

static void test_eight_byte_access(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 70);

	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	/* address in one write, then data + vector control (unmask) in one */
	tw(d, 2 * 16, 8, 0x00000001ull << 32 | (uint32_t)MSI_DOORBELL);
	assert_int_equal(tr(d, 2 * 16 + 4, 4), 1);
	tw(d, 2 * 16, 8, (uint32_t)MSI_DOORBELL);
	assert_int_equal(tr(d, 2 * 16, 8), (uint32_t)MSI_DOORBELL);
	tw(d, 2 * 16 + 8, 8, 0x42);
	assert_int_equal(tr(d, 2 * 16 + 8, 8), 0x42);
	assert_int_equal(virq_msix_notify(d, 2), VIRQ_MSIX_SENT);
	assert_int_equal(testchip_last_msi(x->f.msi).data, 0x42);
	/* mask + data in one write */
	tw(d, 2 * 16 + 8, 8, 1ull << 32 | 0x43);
	assert_int_equal(tr(d, 2 * 16 + 8, 8), 1ull << 32 | 0x43);
	/* PBA: a qword and its halves; vector 66 lives in the second qword */
	assert_int_equal(virq_msix_notify(d, 2), VIRQ_MSIX_PENDING);
	assert_int_equal(virq_msix_notify(d, 66), VIRQ_MSIX_PENDING);
	assert_int_equal(pba(d, 0, 8), 4);
	assert_int_equal(pba(d, 8, 8), 4);
	assert_int_equal(pba(d, 12, 4), 0);
	assert_int_equal(pba(d, 8, 4), 4);
	/* reserved vector-control bits read as zero */
	tw(d, 3 * 16 + 12, 4, 0xfffffffe);
	assert_int_equal(tr(d, 3 * 16 + 12, 4), 0);
}

static void test_bad_accesses_dropped(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 4);
	uint64_t errs = virq_vm_guest_errors(x->f.vm);
	struct virq_msix_stats st;

	program(d, 1, 0xfee00000u, 0x77);
	/* 1- and 2-byte, misaligned, odd sizes: dropped whole */
	tw(d, 16 + 8, 2, 0xffff);
	tw(d, 16 + 8, 1, 0xff);
	tw(d, 16 + 9, 4, 0xffffffff);
	tw(d, 16 + 4, 8, ~0ull);
	tw(d, 16 + 12, 3, 0);
	assert_int_equal(tr(d, 16 + 8, 4), 0x77);
	assert_int_equal(tr(d, 16 + 12, 4), 1);
	assert_int_equal(tr(d, 16 + 4, 4), 0);
	/* their reads answer all ones, of the access size */
	assert_int_equal(tr(d, 16 + 8, 2), 0xffff);
	assert_int_equal(tr(d, 16 + 8, 1), 0xff);
	assert_int_equal(tr(d, 16 + 4, 8), ~0ull);
	assert_int_equal(tr(d, 16 + 10, 4), 0xffffffffu);
	assert_int_equal(pba(d, 0, 2), 0xffff);
	assert_int_equal(pba(d, 2, 4), 0xffffffffu);
	/* the PBA is read-only */
	assert_int_equal(virq_msix_pba_write(d, 0, 8, ~0ull), 0);
	assert_int_equal(pba(d, 0, 8), 0);
	assert_int_equal(virq_msix_get_stats(d, &st), 0);
	assert_int_equal(st.dropped, 12);
	assert_int_equal(virq_vm_guest_errors(x->f.vm), errs + 12);
}

static void test_vector_out_of_range(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 4);
	struct virq_msix_entry e = { 0 };
	struct virq_msix_stats st;
	int efd = eventfd(0, EFD_NONBLOCK);

	/* guest offsets past the table or the PBA */
	tw(d, 4 * 16, 4, 0);
	tw(d, 4 * 16 + 12, 4, 0);
	tw(d, 0x7ff0, 8, 0);
	tw(d, UINT64_MAX - 3, 4, 0);
	tw(d, UINT64_MAX - 7, 8, 0);
	assert_int_equal(tr(d, 4 * 16, 4), 0xffffffffu);
	assert_int_equal(tr(d, UINT64_MAX - 7, 8), ~0ull);
	assert_int_equal(pba(d, 8, 8), ~0ull);
	assert_int_equal(pba(d, UINT64_MAX - 7, 8), ~0ull);
	assert_int_equal(virq_msix_get_stats(d, &st), 0);
	assert_int_equal(st.dropped, 9);
	/* the VMM's calls */
	assert_int_equal(virq_msix_notify(d, 4), -EINVAL);
	assert_int_equal(virq_msix_notify(d, UINT32_MAX), -EINVAL);
	assert_int_equal(virq_msix_get_entry(d, 4, &e, NULL), -EINVAL);
	assert_int_equal(virq_msix_set_entry(d, 4, &e), -EINVAL);
	assert_int_equal(virq_msix_get_pending(d, 4), -EINVAL);
	assert_int_equal(virq_msix_set_pending(d, 4, true), -EINVAL);
	assert_int_equal(virq_msix_bind_irqfd(d, 4, efd), -EINVAL);
	assert_true(strstr(virq_last_error(), "vector 4 of 4") != NULL);
	assert_int_equal(virq_device_get_attr(d, VIRQ_MSIX_GRP_TABLE, 4, &e, sizeof(e)),
			 -ENXIO);
	close(efd);
}

static void test_lazy_gsi(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 2048);
	uint64_t base = route_entries(x->f.vm), commits;
	struct virq_msix_stats st;

	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	assert_int_equal(route_entries(x->f.vm), base);
	commits = route_commits(x->f.vm);
	program(d, 2047, (uint32_t)MSI_DOORBELL, 0x7f);
	assert_int_equal(route_commits(x->f.vm), commits); /* masked: no route work */
	vmask(d, 2047, false);
	assert_int_equal(route_entries(x->f.vm), base + 1);
	assert_int_equal(route_commits(x->f.vm), commits + 1);
	/* mask/unmask cycles keep the GSI and cost no commit */
	for (int i = 0; i < 10; i++) {
		vmask(d, 2047, true);
		vmask(d, 2047, false);
	}
	assert_int_equal(route_commits(x->f.vm), commits + 1);
	assert_int_equal(virq_msix_get_stats(d, &st), 0);
	assert_int_equal(st.gsis, 1);
	ctrl(d, 0);
	assert_int_equal(route_entries(x->f.vm), base);
}

static void test_2048_enable_disable_cycles(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 2048);
	uint64_t base = route_entries(x->f.vm), commits;
	unsigned cycles = getenv("VIRQ_MSIX_CYCLES")
				  ? (unsigned)atoi(getenv("VIRQ_MSIX_CYCLES"))
				  : 1000;
	struct virq_msix_stats st;

	/* the guest unmasks every vector before it enables MSI-X */
	for (uint32_t v = 0; v < 2048; v++) {
		program(d, v, (uint32_t)MSI_DOORBELL, v);
		tw(d, v * 16u + 12, 4, 0);
	}
	commits = route_commits(x->f.vm);
	assert_int_equal(route_entries(x->f.vm), base);
	for (unsigned i = 0; i < cycles; i++) {
		x->rec.calls = 0;
		ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
		assert_int_equal(route_commits(x->f.vm), commits + 1);
		assert_int_equal(route_entries(x->f.vm), base + 2048);
		assert_int_equal(x->rec.calls, 2048);
		ctrl(d, 0);
		assert_int_equal(route_commits(x->f.vm), commits + 2);
		assert_int_equal(route_entries(x->f.vm), base + 0);
		assert_int_equal(x->rec.calls, 4096);
		commits += 2;
	}
	/* routes work after all those cycles: every vector sends to its data */
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	for (uint32_t v = 0; v < 2048; v += 97) {
		assert_int_equal(virq_msix_notify(d, v), VIRQ_MSIX_SENT);
		assert_int_equal(testchip_last_msi(x->f.msi).data, v);
	}
	assert_int_equal(virq_msix_get_stats(d, &st), 0);
	assert_int_equal(st.gsis, 2048);
	assert_int_equal(st.route_failures, 0);
	/* destroying the device frees its GSIs */
	assert_int_equal(virq_device_destroy(d), 0);
	assert_int_equal(route_entries(x->f.vm), base);
}

static void test_out_of_gsis(void **state)
{
	struct mfx *x = *state;
	struct virq_msix_config c = { .nr_vectors = 4, .gsi_base = 500, .gsi_count = 2 };
	struct virq_msix_stats st;
	struct virq_device *d;

	assert_int_equal(virq_msix_create(x->f.vm, &c, &d), 0);
	assert_int_equal(route_add1(x->f.vm, msi_entry(500, 1)), 0); /* the VMM's */
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	program(d, 0, (uint32_t)MSI_DOORBELL, 0x30);
	program(d, 1, (uint32_t)MSI_DOORBELL, 0x31);
	vmask(d, 0, false);
	assert_int_equal(gsi_of(d, 0), 501); /* 500 was taken */
	vmask(d, 1, false);
	assert_int_equal(gsi_of(d, 1), VIRQ_MSIX_NO_GSI);
	/* unrouted: the fire is kept, not lost */
	assert_int_equal(virq_msix_notify(d, 1), VIRQ_MSIX_PENDING);
	assert_int_equal(virq_msix_get_stats(d, &st), 0);
	assert_int_equal(st.route_failures, 1);
	/* a GSI frees up; the next unmask routes it and sends what waited */
	struct virq_route_txn *t;
	assert_int_equal(virq_route_begin(x->f.vm, &t), 0);
	assert_int_equal(virq_route_remove_gsi(t, 500), 0);
	assert_int_equal(virq_route_commit(t), 0);
	vmask(d, 1, true);
	vmask(d, 1, false);
	assert_int_equal(gsi_of(d, 1), 500);
	assert_int_equal(msis_slot(x->f.msi, 0x31), 1);
}

static void test_vmm_pba_and_table(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 8);
	struct virq_msix_entry e = { (uint32_t)MSI_DOORBELL, 0, 0x3a, 1 }, g;

	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	assert_int_equal(virq_msix_set_entry(d, 7, &e), 0);
	assert_int_equal(virq_msix_get_entry(d, 7, &g, NULL), 0);
	assert_memory_equal(&e, &g, sizeof(e));
	/* a device model's own pending state */
	assert_int_equal(virq_msix_set_pending(d, 7, true), VIRQ_MSIX_PENDING);
	assert_int_equal(virq_msix_get_pending(d, 7), 1);
	assert_int_equal(virq_msix_set_pending(d, 7, false), 1);
	assert_int_equal(virq_msix_set_pending(d, 7, false), 0);
	assert_int_equal(virq_msix_set_pending(d, 7, true), VIRQ_MSIX_PENDING);
	/* the VMM unmasks through the table: sent once */
	e.ctrl = 0;
	assert_int_equal(virq_msix_set_entry(d, 7, &e), 0);
	assert_int_equal(testchip_msis(x->f.msi), 1);
	assert_int_equal(virq_msix_set_pending(d, 7, true), VIRQ_MSIX_SENT);
	assert_int_equal(testchip_msis(x->f.msi), 2);
	assert_int_equal(virq_msix_get_pending(d, 7), 0);
}

static void test_irqfd_through_mask(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 4);
	int efd = eventfd(0, EFD_NONBLOCK), efd2 = eventfd(0, EFD_NONBLOCK);
	uint64_t one = 1;

	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	program(d, 2, (uint32_t)MSI_DOORBELL, 0x52);
	assert_int_equal(virq_msix_bind_irqfd(d, 2, efd), 0);
	assert_int_equal(virq_msix_bind_irqfd(d, 1, efd), -EBUSY);
	assert_true(strstr(virq_last_error(), "(MSI-X vector 2)") != NULL);
	assert_int_equal(virq_irqfd_bind(x->f.vm, efd, 3, 0, -1), -EBUSY);
	/* masked: the signal becomes a pending bit */
	assert_int_equal(write(efd, &one, 8), 8);
	for (int i = 0; i < 5000 && !virq_msix_get_pending(d, 2); i++)
		usleep(1000);
	assert_int_equal(virq_msix_get_pending(d, 2), 1);
	assert_int_equal(testchip_msis(x->f.msi), 0);
	vmask(d, 2, false);
	assert_int_equal(testchip_msis(x->f.msi), 1);
	/* unmasked: straight through */
	assert_int_equal(write(efd, &one, 8), 8);
	assert_int_equal(wait_msis(x->f.msi, 2), 2);
	/* the public unbind does not see it; ours does */
	assert_int_equal(virq_irqfd_unbind(x->f.vm, efd, 2), 0);
	assert_int_equal(write(efd, &one, 8), 8);
	assert_int_equal(wait_msis(x->f.msi, 3), 3);
	assert_int_equal(virq_msix_unbind_irqfd(d, 2, efd), 0);
	assert_int_equal(write(efd, &one, 8), 8);
	usleep(20000);
	assert_int_equal(testchip_msis(x->f.msi), 3);
	/* rebinding works; destroying the device unbinds */
	assert_int_equal(virq_msix_bind_irqfd(d, 2, efd2), 0);
	assert_int_equal(virq_device_destroy(d), 0);
	assert_int_equal(virq_irqfd_bind(x->f.vm, efd2, 3, 0, -1), 0);
	close(efd);
	close(efd2);
}

static void test_irqfd_poll_mode(void **state)
{
	struct virq_vm_config cfg = { .nr_vcpus = 1, .irqfd_workers = VIRQ_IRQFD_POLL };
	struct virq_msix_config c = { .nr_vectors = 2 };
	struct virq_device *d, *rx;
	struct virq_vm *vm;
	int efd = eventfd(3, EFD_NONBLOCK);
	uint64_t one = 1;

	(void)state;
	assert_int_equal(virq_vm_create(&cfg, &vm), 0);
	rx = fixture_chip(vm, 10, 1, 0, MSI_DOORBELL);
	assert_int_equal(virq_msix_create(vm, &c, &d), 0);
	assert_int_equal(virq_msix_ctrl_write(d, VIRQ_MSIX_CTRL_ENABLE), 0);
	program(d, 1, (uint32_t)MSI_DOORBELL, 0x61);
	/* a counter already nonzero fires at bind: pending, it is masked */
	assert_int_equal(virq_msix_bind_irqfd(d, 1, efd), 0);
	assert_int_equal(virq_irqfd_dispatch(vm), 1);
	assert_int_equal(virq_msix_get_pending(d, 1), 1);
	vmask(d, 1, false);
	assert_int_equal(testchip_msis(rx), 1);
	assert_int_equal(write(efd, &one, 8), 8);
	assert_int_equal(virq_irqfd_dispatch(vm), 1);
	assert_int_equal(testchip_msis(rx), 2);
	virq_vm_destroy(vm);
	close(efd);
}

static void test_save_restore(void **state)
{
	struct mfx *x = *state;
	struct virq_device *a = mk(x, 70), *b;
	struct virq_msix_entry e;
	uint32_t u, gsi_a[70];
	uint64_t w, sent_before;

	ctrl(a, VIRQ_MSIX_CTRL_ENABLE);
	for (uint32_t v = 0; v < 70; v++)
		program(a, v, (uint32_t)MSI_DOORBELL, v);
	vmask(a, 1, false);
	vmask(a, 65, false);
	vmask(a, 65, true);
	assert_int_equal(virq_msix_notify(a, 65), VIRQ_MSIX_PENDING); /* masked, routed */
	assert_int_equal(virq_msix_notify(a, 3), VIRQ_MSIX_PENDING);  /* never unmasked */
	sent_before = testchip_msis(x->f.msi);

	/* save a, restore into b (a fresh device; routes not restored) */
	b = mk(x, 70);
	x->rec.calls = 0;
	assert_int_equal(virq_device_get_attr(a, VIRQ_MSIX_GRP_CTRL, 0, &u, 4), 0);
	assert_int_equal(virq_device_set_attr(b, VIRQ_MSIX_GRP_CTRL, 0, &u, 4), 0);
	for (uint32_t v = 0; v < 70; v++) {
		assert_int_equal(
			virq_device_get_attr(a, VIRQ_MSIX_GRP_TABLE, v, &e, sizeof(e)),
			0);
		assert_int_equal(
			virq_device_set_attr(b, VIRQ_MSIX_GRP_TABLE, v, &e, sizeof(e)),
			0);
		assert_int_equal(virq_device_get_attr(a, VIRQ_MSIX_GRP_GSI, v, &u, 4), 0);
		gsi_a[v] = u;
	}
	for (uint64_t n = 0; n < 2; n++) {
		assert_int_equal(virq_device_get_attr(a, VIRQ_MSIX_GRP_PBA, n, &w, 8), 0);
		assert_int_equal(virq_device_set_attr(b, VIRQ_MSIX_GRP_PBA, n, &w, 8), 0);
	}
	/* the source goes away (its GSIs with it), then the target syncs */
	assert_int_equal(virq_device_destroy(a), 0);
	for (uint32_t v = 0; v < 70; v++)
		if (gsi_a[v] != VIRQ_MSIX_NO_GSI)
			assert_int_equal(virq_device_set_attr(b, VIRQ_MSIX_GRP_GSI, v,
							      &gsi_a[v], 4),
					 0);
	assert_int_equal(x->rec.calls, 0);
	assert_int_equal(virq_device_set_attr(b, VIRQ_MSIX_GRP_SYNC, 0, NULL, 0), 0);
	/* nothing spurious: both pending vectors are masked */
	assert_int_equal(testchip_msis(x->f.msi), sent_before);
	/* the VMM heard of both routed vectors, at their saved GSIs */
	assert_int_equal(x->rec.calls, 2);
	assert_int_equal(gsi_of(b, 1), gsi_a[1]);
	assert_int_equal(gsi_of(b, 65), gsi_a[65]);
	assert_int_equal(gsi_of(b, 3), VIRQ_MSIX_NO_GSI);
	assert_int_equal(pba(b, 0, 8), 1u << 3);
	assert_int_equal(pba(b, 8, 8), 2);
	/* and the pending bits are delivered as they would have been */
	vmask(b, 65, false);
	assert_int_equal(msis_slot(x->f.msi, 65), 1);
	vmask(b, 3, false);
	assert_int_equal(msis_slot(x->f.msi, 3), 1);
	assert_int_equal(virq_msix_notify(b, 1), VIRQ_MSIX_SENT);
	assert_int_equal(testchip_msis(x->f.msi), sent_before + 3);

	/* attribute errors */
	u = 0x1234;
	assert_int_equal(virq_device_set_attr(b, VIRQ_MSIX_GRP_CTRL, 0, &u, 4), -EINVAL);
	assert_int_equal(virq_device_set_attr(b, VIRQ_MSIX_GRP_CTRL, 1, &u, 4), -EPERM);
	assert_int_equal(virq_device_get_attr(b, VIRQ_MSIX_GRP_SYNC, 0, NULL, 0), -EPERM);
	w = ~0ull;
	assert_int_equal(virq_device_set_attr(b, VIRQ_MSIX_GRP_PBA, 1, &w, 8), -EINVAL);
	assert_int_equal(virq_device_set_attr(b, VIRQ_MSIX_GRP_PBA, 2, &w, 8), -ENXIO);
	u = 4;
	assert_int_equal(virq_device_set_attr(b, VIRQ_MSIX_GRP_GSI, 1, &u, 4), -EBUSY);
	assert_int_equal(virq_device_has_attr(b, VIRQ_MSIX_GRP_TABLE, 69), 0);
	assert_int_equal(virq_device_has_attr(b, VIRQ_MSIX_GRP_TABLE, 70), -ENXIO);
}

static void test_reset(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 4);
	uint64_t base = route_entries(x->f.vm);
	uint16_t c;

	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	program(d, 0, (uint32_t)MSI_DOORBELL, 0x70);
	vmask(d, 0, false);
	vmask(d, 1, false);
	vmask(d, 1, true);
	virq_msix_notify(d, 1);
	assert_int_equal(route_entries(x->f.vm), base + 2);
	assert_int_equal(virq_device_reset(d), 0);
	assert_int_equal(route_entries(x->f.vm), base);
	assert_int_equal(virq_msix_ctrl_read(d, &c), 0);
	assert_int_equal(c, 3);
	assert_int_equal(tr(d, 12, 4), 1);
	assert_int_equal(tr(d, 8, 4), 0);
	assert_int_equal(pba(d, 0, 8), 0);
}

static void test_mmio_map(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 4);
	uint64_t v;

	assert_int_equal(virq_msix_map(d, 0xe0000000, 0xe0000038), -EINVAL);
	assert_int_equal(virq_msix_map(d, 0xe0000000, 0xe0001000), 0);
	assert_int_equal(
		virq_io_write(x->f.vm, 0, VIRQ_SPACE_MMIO, 0xe0000000 + 24, 4, 0x99), 0);
	assert_int_equal(tr(d, 24, 4), 0x99);
	assert_int_equal(virq_msix_notify(d, 1), VIRQ_MSIX_PENDING);
	assert_int_equal(virq_io_read(x->f.vm, 0, VIRQ_SPACE_MMIO, 0xe0001000, 8, &v), 0);
	assert_int_equal(v, 2);
	/* a BAR moved: both follow */
	assert_int_equal(virq_msix_map(d, 0xe0010000, 0xe0011000), 0);
	assert_int_equal(virq_io_read(x->f.vm, 0, VIRQ_SPACE_MMIO, 0xe0011000, 8, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(
		virq_io_read(x->f.vm, 0, VIRQ_SPACE_MMIO, 0xe0010000 + 24, 4, &v), 0);
	assert_int_equal(v, 0x99);
	assert_int_equal(virq_io_read(x->f.vm, 0, VIRQ_SPACE_MMIO, 0xe0000000, 4, &v),
			 -ENOENT);
	/* swapped places: the PBA moves first, out of the table's new way */
	assert_int_equal(virq_msix_map(d, 0xe0011000, 0xe0010000), 0);
	assert_int_equal(virq_io_read(x->f.vm, 0, VIRQ_SPACE_MMIO, 0xe0010000, 8, &v), 0);
	assert_int_equal(v, 2);
}

/* ---- GSI ownership, save/restore, retries (H1-H3, M1, M3-M5, L1) ---- */

static void set_attr_ok(struct virq_device *d, uint32_t grp, uint64_t attr,
			const void *buf, size_t size)
{
	assert_int_equal(virq_device_set_attr(d, grp, attr, buf, size), 0);
}

/* A restore's attributes except GSIs (and SYNC): Message Control, the
 * entries @e[0..nr) and the first PBA word. */
static void restore_state(struct virq_device *d, uint32_t nr, uint32_t ctrl_bits,
			  const struct virq_msix_entry *e, uint64_t pba_word0)
{
	uint32_t u = ctrl_bits | (nr - 1);

	set_attr_ok(d, VIRQ_MSIX_GRP_CTRL, 0, &u, 4);
	for (uint32_t v = 0; v < nr; v++)
		set_attr_ok(d, VIRQ_MSIX_GRP_TABLE, v, &e[v], sizeof(e[v]));
	set_attr_ok(d, VIRQ_MSIX_GRP_PBA, 0, &pba_word0, 8);
}

/*
 * The invariants: a vector with a GSI that needs its route has one that
 * carries its message (and devid), and no vector that may send holds a
 * PBA bit.
 */
static void check_routes(struct virq_vm *vm, struct virq_device *d, uint32_t nr,
			 uint32_t devid)
{
	uint16_t c;

	assert_int_equal(virq_msix_ctrl_read(d, &c), 0);
	for (uint32_t v = 0; v < nr; v++) {
		struct virq_msix_entry e;
		struct virq_route_entry r;
		uint32_t g;

		assert_int_equal(virq_msix_get_entry(d, v, &e, &g), 0);
		if (!(c & VIRQ_MSIX_CTRL_ENABLE) || (e.ctrl & VIRQ_MSIX_VECTOR_MASKED) ||
		    g == VIRQ_MSIX_NO_GSI)
			continue;
		assert_int_equal(virq_route_get(vm, g, &r, 1), 1);
		assert_int_equal(r.kind, VIRQ_ROUTE_MSI);
		assert_int_equal(r.u.msi.address_lo, e.address_lo);
		assert_int_equal(r.u.msi.address_hi, e.address_hi);
		assert_int_equal(r.u.msi.data, e.data);
		assert_int_equal(r.flags, devid ? VIRQ_MSI_VALID_DEVID : 0);
		if (devid)
			assert_int_equal(r.u.msi.devid, devid);
		if (!(c & VIRQ_MSIX_CTRL_MASKALL))
			assert_int_equal(virq_msix_get_pending(d, v), 0);
	}
}

/* H1: a restore may not take another device's GSI, at attr time or at SYNC. */
static void test_restore_foreign_gsi(void **state)
{
	struct mfx *x = *state;
	struct virq_device *a = mkw(x, 2, 100, 16), *b = mkw(x, 2, 100, 16);
	struct virq_msix_entry e[2] = { { (uint32_t)MSI_DOORBELL, 0, 0x0b, 0 },
					{ (uint32_t)MSI_DOORBELL, 0, 0x0c, 1 } };
	struct virq_route_entry r;
	uint32_t ga, u;

	ctrl(a, VIRQ_MSIX_CTRL_ENABLE);
	program(a, 0, (uint32_t)MSI_DOORBELL, 0x0a);
	vmask(a, 0, false);
	ga = gsi_of(a, 0);
	assert_int_equal(ga, 100);

	/* B restored with a GSI that A holds: refused, with a reason */
	restore_state(b, 2, VIRQ_MSIX_CTRL_ENABLE, e, 0);
	assert_int_equal(virq_device_set_attr(b, VIRQ_MSIX_GRP_GSI, 0, &ga, 4), -EBUSY);
	assert_true(strstr(virq_last_error(), "msix.0 vector 0") != NULL);
	/* ... and so is a GSI held by another vector of the same device */
	u = 110;
	set_attr_ok(b, VIRQ_MSIX_GRP_GSI, 1, &u, 4);
	assert_int_equal(virq_device_set_attr(b, VIRQ_MSIX_GRP_GSI, 0, &u, 4), -EBUSY);
	set_attr_ok(b, VIRQ_MSIX_GRP_SYNC, 0, NULL, 0);
	assert_int_not_equal(gsi_of(b, 0), ga);
	assert_int_not_equal(gsi_of(b, 0), VIRQ_MSIX_NO_GSI);
	assert_int_equal(gsi_of(b, 1), 110);
	check_routes(x->f.vm, a, 2, 0);
	check_routes(x->f.vm, b, 2, 0);

	/* A's notify still delivers A's message; B's its own */
	assert_int_equal(virq_msix_notify(a, 0), VIRQ_MSIX_SENT);
	assert_int_equal(msis_slot(x->f.msi, 0x0a), 1);
	assert_int_equal(msis_slot(x->f.msi, 0x0b), 0);
	assert_int_equal(virq_msix_notify(b, 0), VIRQ_MSIX_SENT);
	assert_int_equal(msis_slot(x->f.msi, 0x0b), 1);
	/* B going away leaves A's route alone */
	assert_int_equal(virq_device_destroy(b), 0);
	assert_int_equal(virq_route_get(x->f.vm, ga, &r, 1), 1);
	assert_int_equal(r.u.msi.data, 0x0a);
	assert_int_equal(virq_msix_notify(a, 0), VIRQ_MSIX_SENT);
	assert_int_equal(msis_slot(x->f.msi, 0x0a), 2);
}

/* H1: a route at the saved GSI that is not this vector's: re-allocated,
 * the other route left alone (also when the device goes). */
static void test_restore_gsi_held_by_vmm(void **state)
{
	struct mfx *x = *state;
	struct virq_device *b = mkw(x, 2, 200, 8);
	struct virq_msix_entry e[2] = { { (uint32_t)MSI_DOORBELL, 0, 0x21, 0 },
					{ (uint32_t)MSI_DOORBELL, 0, 0x22, 0 } };
	struct virq_route_entry r;
	uint32_t g0 = 201, g1 = 202;

	/* the VMM routed 201 to something else; 202 holds exactly what
	 * vector 1 would route */
	assert_int_equal(route_add1(x->f.vm, msi_entry(201, 0x77)), 0);
	assert_int_equal(route_add1(x->f.vm, msi_entry(202, 0x22)), 0);
	restore_state(b, 2, VIRQ_MSIX_CTRL_ENABLE, e, 3);
	set_attr_ok(b, VIRQ_MSIX_GRP_GSI, 0, &g0, 4);
	set_attr_ok(b, VIRQ_MSIX_GRP_GSI, 1, &g1, 4);
	x->rec.calls = 0;
	set_attr_ok(b, VIRQ_MSIX_GRP_SYNC, 0, NULL, 0);
	/* vector 0 moved; vector 1 adopted its restored route */
	assert_int_not_equal(gsi_of(b, 0), 201);
	assert_int_equal(gsi_of(b, 1), 202);
	assert_int_equal(x->rec.calls, 2);
	assert_int_equal(virq_route_get(x->f.vm, 201, &r, 1), 1);
	assert_int_equal(r.u.msi.data, 0x77);
	check_routes(x->f.vm, b, 2, 0);
	/* the restored pending bits went out through the right routes */
	assert_int_equal(msis_slot(x->f.msi, 0x21), 1);
	assert_int_equal(msis_slot(x->f.msi, 0x22), 1);
	assert_int_equal(msis_slot(x->f.msi, 0x77), 0);
	/* disabling removes what the device made or adopted, nothing else */
	ctrl(b, 0);
	assert_int_equal(virq_route_get(x->f.vm, 201, &r, 1), 1);
	assert_int_equal(virq_route_get(x->f.vm, 202, &r, 1), 0);
	assert_int_equal(virq_device_destroy(b), 0);
	assert_int_equal(virq_route_get(x->f.vm, 201, &r, 1), 1);
}

/* H2: one SYNC pass never gives one GSI to two vectors. */
static void test_restore_no_double_gsi(void **state)
{
	struct mfx *x = *state;
	struct virq_device *c = mkw(x, 2, 200, 16);
	struct virq_msix_entry e[2] = { { (uint32_t)MSI_DOORBELL, 0, 1, 0 },
					{ (uint32_t)MSI_DOORBELL, 0, 2, 0 } };
	uint32_t g = 200; /* = gsi_base: where vector 0's allocation starts */

	restore_state(c, 2, VIRQ_MSIX_CTRL_ENABLE, e, 3);
	set_attr_ok(c, VIRQ_MSIX_GRP_GSI, 1, &g, 4);
	set_attr_ok(c, VIRQ_MSIX_GRP_SYNC, 0, NULL, 0);
	assert_int_equal(gsi_of(c, 1), 200);
	assert_int_not_equal(gsi_of(c, 0), 200);
	assert_int_not_equal(gsi_of(c, 0), VIRQ_MSIX_NO_GSI);
	assert_int_equal(virq_msix_get_pending(c, 0), 0);
	assert_int_equal(virq_msix_get_pending(c, 1), 0);
	assert_int_equal(msis_slot(x->f.msi, 1), 1);
	assert_int_equal(msis_slot(x->f.msi, 2), 1);
	check_routes(x->f.vm, c, 2, 0);
}

/* M3: the routing table restored first (routes adopted, updated in
 * place), route content with devid, and two devices restored. */
static void test_restore_routes_first(void **state)
{
	struct mfx *x = *state;
	struct virq_msix_config c = { .nr_vectors = 8,
				      .flags = VIRQ_MSIX_DEVID,
				      .devid = 0x42,
				      .gsi_base = 300,
				      .gsi_count = 32,
				      .ops = { .route_changed = on_route },
				      .opaque = &x->rec };
	struct virq_device *src[2], *dst[2];
	struct virq_route_entry saved[2][8];
	struct virq_msix_entry e[2][8];
	uint32_t g[2][8], u;
	uint64_t w[2], entries;

	for (int i = 0; i < 2; i++) {
		assert_int_equal(virq_msix_create(x->f.vm, &c, &src[i]), 0);
		ctrl(src[i], VIRQ_MSIX_CTRL_ENABLE);
		for (uint32_t v = 0; v < 8; v++) {
			program(src[i], v, (uint32_t)MSI_DOORBELL, 16u * i + v);
			if (v % 3)
				vmask(src[i], v, false);
		}
		/* vector 1: masked, and its message rewritten while masked
		 * (the saved route is stale) */
		vmask(src[i], 1, true);
		tw(src[i], 16 + 8, 4, 16u * i + 9);
		assert_int_equal(virq_msix_notify(src[i], 1), VIRQ_MSIX_PENDING);
		assert_int_equal(virq_msix_notify(src[i], 0), VIRQ_MSIX_PENDING);
	}
	/* save: device state and the routing table */
	for (int i = 0; i < 2; i++) {
		for (uint32_t v = 0; v < 8; v++) {
			assert_int_equal(virq_device_get_attr(src[i], VIRQ_MSIX_GRP_TABLE,
							      v, &e[i][v],
							      sizeof(e[i][v])),
					 0);
			g[i][v] = gsi_of(src[i], v);
			if (g[i][v] != VIRQ_MSIX_NO_GSI)
				assert_int_equal(
					virq_route_get(x->f.vm, g[i][v], &saved[i][v], 1),
					1);
		}
		assert_int_equal(
			virq_device_get_attr(src[i], VIRQ_MSIX_GRP_PBA, 0, &w[i], 8), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(virq_device_destroy(src[i]), 0);
	entries = route_entries(x->f.vm);
	/* restore: the routing table first (as a snapshot does) */
	for (int i = 0; i < 2; i++)
		for (uint32_t v = 0; v < 8; v++)
			if (g[i][v] != VIRQ_MSIX_NO_GSI)
				assert_int_equal(route_add1(x->f.vm, saved[i][v]), 0);
	entries = route_entries(x->f.vm) - entries;
	assert_int_equal(entries, 10);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(virq_msix_create(x->f.vm, &c, &dst[i]), 0);
		restore_state(dst[i], 8, VIRQ_MSIX_CTRL_ENABLE, e[i], w[i]);
		for (uint32_t v = 0; v < 8; v++)
			if (g[i][v] != VIRQ_MSIX_NO_GSI)
				set_attr_ok(dst[i], VIRQ_MSIX_GRP_GSI, v, &g[i][v], 4);
	}
	/* the first device's GSIs are the second's no more than before */
	u = g[0][2];
	assert_int_equal(virq_device_set_attr(dst[1], VIRQ_MSIX_GRP_GSI, 0, &u, 4),
			 -EBUSY);
	for (int i = 0; i < 2; i++) {
		uint64_t before = route_entries(x->f.vm);

		x->rec.calls = 0;
		set_attr_ok(dst[i], VIRQ_MSIX_GRP_SYNC, 0, NULL, 0);
		/* every route equal to the vector's adopted: GSI kept, no
		 * entry added.  Vector 1's saved route is stale (its message
		 * changed while masked), so it is not provably this vector's:
		 * left alone, and vector 1 gets a fresh GSI */
		assert_int_equal(route_entries(x->f.vm), before + 1);
		assert_int_equal(x->rec.calls, 5);
		for (uint32_t v = 0; v < 8; v++)
			if (v != 1)
				assert_int_equal(gsi_of(dst[i], v), g[i][v]);
		assert_int_not_equal(gsi_of(dst[i], 1), g[i][1]);
		assert_int_not_equal(gsi_of(dst[i], 1), VIRQ_MSIX_NO_GSI);
		check_routes(x->f.vm, dst[i], 8, 0x42);
		{
			struct virq_route_entry r;

			assert_int_equal(virq_route_get(x->f.vm, g[i][1], &r, 1), 1);
			assert_int_equal(r.u.msi.data, 16u * i + 1);
			assert_int_equal(
				virq_route_get(x->f.vm, gsi_of(dst[i], 1), &r, 1), 1);
			assert_int_equal(r.u.msi.data, 16u * i + 9);
			assert_int_equal(r.u.msi.devid, 0x42);
		}
		/* pending: vector 0 masked (waits), vector 1 masked (waits) */
		assert_int_equal(virq_msix_get_pending(dst[i], 0), 1);
		vmask(dst[i], 1, false);
		assert_int_equal(msis_slot(x->f.msi, 16u * i + 9), 1);
		assert_int_equal(testchip_last_msi(x->f.msi).devid, 0x42);
	}
}

/* M3: a SYNC that fails (no GSI for every vector) routes what it can,
 * says so, and the rest follows when a GSI is freed. */
static void test_restore_sync_fails(void **state)
{
	struct mfx *x = *state;
	struct virq_device *hog = mkw(x, 1, 400, 4), *d = mkw(x, 4, 400, 4);
	struct virq_msix_entry e[4];
	struct virq_msix_stats st;

	ctrl(hog, VIRQ_MSIX_CTRL_ENABLE);
	vmask(hog, 0, false);
	for (uint32_t v = 0; v < 4; v++)
		e[v] = (struct virq_msix_entry){ (uint32_t)MSI_DOORBELL, 0, 0x30 + v, 0 };
	restore_state(d, 4, VIRQ_MSIX_CTRL_ENABLE, e, 0xf);
	assert_int_equal(virq_device_set_attr(d, VIRQ_MSIX_GRP_SYNC, 0, NULL, 0),
			 -ENOSPC);
	assert_true(strstr(virq_last_error(), "no free GSI") != NULL);
	assert_int_equal(virq_msix_get_stats(d, &st), 0);
	assert_int_equal(st.gsis, 3);
	assert_int_equal(st.unrouted, 1);
	check_routes(x->f.vm, d, 4, 0);
	assert_int_equal(msis_slot(x->f.msi, 0x30) + msis_slot(x->f.msi, 0x31) +
				 msis_slot(x->f.msi, 0x32) + msis_slot(x->f.msi, 0x33),
			 3);
	/* the other device frees its GSI: the starved vector gets it */
	ctrl(hog, 0);
	assert_int_equal(virq_msix_get_stats(d, &st), 0);
	assert_int_equal(st.gsis, 4);
	for (uint32_t v = 0; v < 4; v++)
		assert_int_equal(msis_slot(x->f.msi, 0x30 + v), 1);
	assert_int_equal(pba(d, 0, 8), 0);
	check_routes(x->f.vm, d, 4, 0);
}

/* H3: a window smaller than the unmasked vectors: those that got a GSI
 * work at once, the rest latch and are retried. */
static void test_window_retry(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mkw(x, 32, 100, 16), *other = mkw(x, 4, 100, 16);
	uint32_t starved = VIRQ_MSIX_NO_GSI, routed = VIRQ_MSIX_NO_GSI;
	struct virq_msix_stats st;
	struct virq_route_txn *t;

	/* another device takes 4 of the 16, the VMM one */
	assert_int_equal(route_add1(x->f.vm, msi_entry(115, 1)), 0);
	ctrl(other, VIRQ_MSIX_CTRL_ENABLE);
	for (uint32_t v = 0; v < 4; v++)
		vmask(other, v, false);
	for (uint32_t v = 0; v < 32; v++) {
		program(d, v, (uint32_t)MSI_DOORBELL, v);
		vmask(d, v, false);
		virq_msix_notify(d, v); /* latched: MSI-X is disabled */
	}
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	assert_int_equal(virq_msix_get_stats(d, &st), 0);
	assert_int_equal(st.gsis, 11);
	assert_true(st.route_failures >= 1);
	assert_int_equal(st.unrouted, 21);
	for (uint32_t v = 0; v < 32; v++) {
		if (gsi_of(d, v) == VIRQ_MSIX_NO_GSI)
			starved = v;
		else
			routed = v;
	}
	assert_int_equal(virq_msix_notify(d, routed), VIRQ_MSIX_SENT);
	assert_int_equal(virq_msix_notify(d, starved), VIRQ_MSIX_PENDING);
	check_routes(x->f.vm, d, 32, 0);

	/* another MSI-X device frees its GSIs: retried at once */
	ctrl(other, 0);
	assert_int_equal(virq_msix_get_stats(d, &st), 0);
	assert_int_equal(st.gsis, 15);
	check_routes(x->f.vm, d, 32, 0);
	/* the VMM frees its GSI (virq does not watch): a function-mask
	 * toggle retries */
	assert_int_equal(virq_route_begin(x->f.vm, &t), 0);
	assert_int_equal(virq_route_remove_gsi(t, 115), 0);
	assert_int_equal(virq_route_commit(t), 0);
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE | VIRQ_MSIX_CTRL_MASKALL);
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	assert_int_equal(virq_msix_get_stats(d, &st), 0);
	assert_int_equal(st.gsis, 16);
	assert_int_equal(st.unrouted, 16);
	check_routes(x->f.vm, d, 32, 0);
	/* each vector routed sent its latched fire once */
	for (uint32_t v = 0; v < 32; v++)
		assert_int_equal(msis_slot(x->f.msi, v), gsi_of(d, v) == VIRQ_MSIX_NO_GSI
								 ? 0
								 : 1 + (v == routed));
}

/* H3: a Message Control write that changes nothing retries. */
static void test_ctrl_rewrite_retries(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mkw(x, 2, 500, 2);
	struct virq_route_txn *t;

	assert_int_equal(route_add1(x->f.vm, msi_entry(500, 1)), 0);
	assert_int_equal(route_add1(x->f.vm, msi_entry(501, 1)), 0);
	program(d, 0, (uint32_t)MSI_DOORBELL, 0x40);
	vmask(d, 0, false);
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	assert_int_equal(gsi_of(d, 0), VIRQ_MSIX_NO_GSI);
	assert_int_equal(virq_msix_notify(d, 0), VIRQ_MSIX_PENDING);
	/* the VMM frees one of its GSIs */
	assert_int_equal(virq_route_begin(x->f.vm, &t), 0);
	assert_int_equal(virq_route_remove_gsi(t, 501), 0);
	assert_int_equal(virq_route_commit(t), 0);
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	assert_int_equal(gsi_of(d, 0), 501);
	assert_int_equal(msis_slot(x->f.msi, 0x40), 1);
	assert_int_equal(virq_msix_get_pending(d, 0), 0);
}

/* M1: the VMM's set_entry reports a route it could not make. */
static void test_set_entry_error(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mkw(x, 2, 600, 1);
	struct virq_msix_entry e = { (uint32_t)MSI_DOORBELL, 0, 0x50, 0 }, g;
	uint64_t errs;

	assert_int_equal(route_add1(x->f.vm, msi_entry(600, 1)), 0);
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	assert_int_equal(virq_msix_set_entry(d, 0, &e), -ENOSPC);
	assert_true(strstr(virq_last_error(), "no free GSI") != NULL);
	/* stored all the same, and latching */
	assert_int_equal(virq_msix_get_entry(d, 0, &g, NULL), 0);
	assert_int_equal(g.data, 0x50);
	assert_int_equal(virq_msix_notify(d, 0), VIRQ_MSIX_PENDING);
	/* the guest's write is performed, and reported as a guest error */
	errs = virq_vm_guest_errors(x->f.vm);
	tw(d, 12, 4, 0);
	assert_true(virq_vm_guest_errors(x->f.vm) > errs);
}

/* M4: writes to a masked vector do not wait for the config lock. */
struct holder {
	struct virq_device *d;
	bool go, held, timed_out; /* atomics */
};

static void on_route_hold(void *opaque, struct virq_device *dev, uint32_t vector,
			  uint32_t gsi, const struct virq_msix_entry *e)
{
	struct holder *h = opaque;

	(void)dev;
	(void)vector;
	(void)gsi;
	(void)e;
	__atomic_store_n(&h->held, true, __ATOMIC_RELEASE);
	for (int i = 0; i < 2000 && !__atomic_load_n(&h->go, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	if (!__atomic_load_n(&h->go, __ATOMIC_ACQUIRE))
		__atomic_store_n(&h->timed_out, true, __ATOMIC_RELEASE);
}

static void *enable_fn(void *arg)
{
	struct holder *h = arg;

	virq_msix_ctrl_write(h->d, VIRQ_MSIX_CTRL_ENABLE);
	return NULL;
}

static void test_masked_write_no_config_lock(void **state)
{
	struct mfx *x = *state;
	struct holder h = { 0 };
	struct virq_msix_config c = { .nr_vectors = 1,
				      .ops = { .route_changed = on_route_hold },
				      .opaque = &h };
	struct virq_device *d = mk(x, 4);
	uint64_t commits;
	pthread_t th;

	assert_int_equal(virq_msix_create(x->f.vm, &c, &h.d), 0);
	assert_int_equal(virq_msix_table_write(h.d, 12, 4, 0), 0);
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	program(d, 1, (uint32_t)MSI_DOORBELL, 0x11);
	vmask(d, 1, false);
	vmask(d, 1, true);
	commits = route_commits(x->f.vm);
	/* another thread holds the VM's configuration lock ... */
	assert_int_equal(pthread_create(&th, NULL, enable_fn, &h), 0);
	while (!__atomic_load_n(&h.held, __ATOMIC_ACQUIRE))
		usleep(100);
	/* ... while the guest rewrites masked vectors */
	for (uint32_t i = 0; i < 100; i++) {
		program(d, 1, DOORBELL_B, i);
		program(d, 2, DOORBELL_B, i);
	}
	__atomic_store_n(&h.go, true, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_false(h.timed_out);
	assert_int_equal(route_commits(x->f.vm), commits + 1); /* the enable's */
	/* the route follows at the unmask, before the pending bit is sent */
	assert_int_equal(virq_msix_notify(d, 1), VIRQ_MSIX_PENDING);
	vmask(d, 1, false);
	assert_int_equal(testchip_msis(x->b), 1);
	assert_int_equal(testchip_last_msi(x->b).data, 99);
	check_routes(x->f.vm, d, 4, 0);
}

/* M5: mask_changed follows the effective mask of each vector. */
struct mrec {
	unsigned calls;
	uint32_t vector;
	bool masked;
	uint64_t state; /* bit v: vector v masked, as told */
};

static void on_mask(void *opaque, struct virq_device *dev, uint32_t vector, bool masked)
{
	struct mrec *r = opaque;

	(void)dev;
	r->calls++;
	r->vector = vector;
	r->masked = masked;
	r->state = masked ? r->state | 1ull << vector : r->state & ~(1ull << vector);
}

static void test_mask_changed(void **state)
{
	struct mfx *x = *state;
	struct mrec r = { .state = ~0ull };
	struct virq_msix_config c = { .nr_vectors = 4,
				      .ops = { .mask_changed = on_mask },
				      .opaque = &r };
	struct virq_device *d, *b;
	uint32_t u;

	assert_int_equal(virq_msix_create(x->f.vm, &c, &d), 0);
	/* unmasked while disabled: still masked in effect */
	vmask(d, 1, false);
	assert_int_equal(r.calls, 0);
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.vector, 1);
	assert_false(r.masked);
	vmask(d, 2, false);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.state & 0xf, 0x9);
	vmask(d, 2, false); /* no change, no call */
	assert_int_equal(r.calls, 2);
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE | VIRQ_MSIX_CTRL_MASKALL);
	assert_int_equal(r.calls, 4);
	assert_int_equal(r.state & 0xf, 0xf);
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	assert_int_equal(r.state & 0xf, 0x9);
	vmask(d, 1, true);
	assert_int_equal(r.state & 0xf, 0xb);
	/* a restore tells the whole state */
	assert_int_equal(virq_msix_create(x->f.vm, &c, &b), 0);
	r.calls = 0;
	r.state = 0;
	u = VIRQ_MSIX_CTRL_ENABLE | 3;
	set_attr_ok(b, VIRQ_MSIX_GRP_CTRL, 0, &u, 4);
	{
		struct virq_msix_entry e = { (uint32_t)MSI_DOORBELL, 0, 5, 0 };

		set_attr_ok(b, VIRQ_MSIX_GRP_TABLE, 3, &e, sizeof(e));
	}
	set_attr_ok(b, VIRQ_MSIX_GRP_SYNC, 0, NULL, 0);
	assert_int_equal(r.calls, 4);
	assert_int_equal(r.state & 0xf, 0x7);
	/* a reset masks what was unmasked */
	r.calls = 0;
	assert_int_equal(virq_device_reset(d), 0);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.vector, 2);
	assert_true(r.masked);
}

/* L1: a map that fails leaves both structures where they were. */
static void test_map_rollback(void **state)
{
	struct mfx *x = *state;
	struct virq_device *d = mk(x, 4), *d2 = mk(x, 1), *d3 = mk(x, 1);
	struct virq_vm *vm = x->f.vm;
	uint64_t v;

	assert_int_equal(virq_msix_map(d, 0xe0000000, 0xe0001000), 0);
	assert_int_equal(virq_msix_notify(d, 2), VIRQ_MSIX_PENDING);
	assert_int_equal(virq_msix_map(d2, 0xe0001020, 0xe0003000), 0);
	/* table moves, PBA cannot (d2's PBA there): the table goes back */
	assert_int_equal(virq_msix_map(d, 0xe0004000, 0xe0003000), -EEXIST);
	assert_int_equal(virq_io_read(vm, 0, VIRQ_SPACE_MMIO, 0xe0000000, 4, &v), 0);
	assert_int_equal(virq_io_read(vm, 0, VIRQ_SPACE_MMIO, 0xe0004000, 4, &v),
			 -ENOENT);
	assert_int_equal(virq_io_read(vm, 0, VIRQ_SPACE_MMIO, 0xe0001000, 8, &v), 0);
	assert_int_equal(v, 4);
	/* trading places, the table's new place taken: the PBA comes back
	 * from its scratch place */
	assert_int_equal(virq_msix_map(d, 0xe0001000, 0xe0000000), -EEXIST);
	assert_int_equal(virq_io_read(vm, 0, VIRQ_SPACE_MMIO, 0xe0001000, 8, &v), 0);
	assert_int_equal(v, 4);
	assert_int_equal(virq_io_read(vm, 0, VIRQ_SPACE_MMIO, 0xe0001040, 8, &v),
			 -ENOENT);
	assert_int_equal(virq_io_read(vm, 0, VIRQ_SPACE_MMIO, 0xe0000000 + 32, 4, &v), 0);
	/* trading places, the PBA's last step blocked: both go back */
	{
		struct virq_device *s1 = mk(x, 4), *s2 = mk(x, 1);

		assert_int_equal(virq_msix_map(s1, 0xe1000000, 0xe1001000), 0);
		assert_int_equal(virq_msix_map(s2, 0xe1003000, 0xe1002000), 0);
		assert_int_equal(virq_msix_map(s1, 0xe1001000, 0xe1002000), -EEXIST);
		assert_int_equal(virq_io_read(vm, 0, VIRQ_SPACE_MMIO, 0xe1000000, 4, &v),
				 0);
		assert_int_equal(virq_io_read(vm, 0, VIRQ_SPACE_MMIO, 0xe1002008, 8, &v),
				 -ENOENT);
		assert_int_equal(virq_msix_notify(s1, 1), VIRQ_MSIX_PENDING);
		assert_int_equal(virq_io_read(vm, 0, VIRQ_SPACE_MMIO, 0xe1001000, 8, &v),
				 0);
		assert_int_equal(v, 2);
	}
	/* a first map whose PBA cannot go: nothing is mapped */
	assert_int_equal(virq_msix_map(d3, 0xe0006000, 0xe0003000), -EEXIST);
	assert_int_equal(virq_io_read(vm, 0, VIRQ_SPACE_MMIO, 0xe0006000, 4, &v),
			 -ENOENT);
	assert_int_equal(virq_msix_map(d3, 0xe0006000, 0xe0007000), 0);
	assert_int_equal(virq_io_read(vm, 0, VIRQ_SPACE_MMIO, 0xe0007000, 8, &v), 0);
}

/* The flush rule under a race: after a mask write returns, no message. */
struct flush_race {
	struct virq_device *d;
	bool stop; /* atomic */
	uint64_t fires;
};

static void *fire_fn(void *arg)
{
	struct flush_race *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		virq_msix_notify(r->d, 0);
		r->fires++;
	}
	return NULL;
}

static void test_mask_is_a_flush_point(void **state)
{
	struct mfx *x = *state;
	struct flush_race r = { .d = mk(x, 1) };
	pthread_t th;

	ctrl(r.d, VIRQ_MSIX_CTRL_ENABLE);
	program(r.d, 0, (uint32_t)MSI_DOORBELL, 0x1);
	vmask(r.d, 0, false);
	assert_int_equal(pthread_create(&th, NULL, fire_fn, &r), 0);
	for (int i = 0; i < 200; i++) {
		uint64_t n;

		vmask(r.d, 0, true);
		n = testchip_msis(x->f.msi);
		usleep(100);
		assert_int_equal(testchip_msis(x->f.msi), n);
		vmask(r.d, 0, false);
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(r.fires > 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_create_errors),
		T(test_power_on_state),
		T(test_mask_notify_unmask_once),
		T(test_three_notifies_deliver_once),
		T(test_function_mask),
		T(test_disabled_latches),
		T(test_disable_while_pending),
		T(test_address_change_while_masked),
		T(test_devid_in_route),
		T(test_eight_byte_access),
		T(test_bad_accesses_dropped),
		T(test_vector_out_of_range),
		T(test_lazy_gsi),
		T(test_2048_enable_disable_cycles),
		T(test_out_of_gsis),
		T(test_vmm_pba_and_table),
		T(test_irqfd_through_mask),
		cmocka_unit_test(test_irqfd_poll_mode),
		T(test_save_restore),
		T(test_reset),
		T(test_mmio_map),
		T(test_mask_is_a_flush_point),
		T(test_restore_foreign_gsi),
		T(test_restore_gsi_held_by_vmm),
		T(test_restore_no_double_gsi),
		T(test_restore_routes_first),
		T(test_restore_sync_fails),
		T(test_window_retry),
		T(test_ctrl_rewrite_retries),
		T(test_set_entry_error),
		T(test_masked_write_no_config_lock),
		T(test_mask_changed),
		T(test_map_rollback),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
