/* SPDX-License-Identifier: MIT */
/* Routing rules of spec/routing-irqfd.md, "Routing entries". */
#include <stdlib.h>

#include "fixture.h"

static long table_size(struct virq_vm *vm)
{
	return virq_route_get_table(vm, NULL, 0);
}

static void test_chip_entries_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct virq_route_entry out[4];
	struct virq_route_txn *t;

	assert_int_equal(virq_route_begin(f->vm, &t), 0);
	/* added in reverse chip order: stored in canonical (chip) order */
	struct virq_route_entry a = chip_entry(5, CHIP_IOAPIC, 5);
	struct virq_route_entry b = chip_entry(5, CHIP_PIC_MASTER, 5);
	assert_int_equal(virq_route_add(t, &a), 0);
	assert_int_equal(virq_route_add(t, &b), 0);
	assert_int_equal(virq_route_commit(t), 0);

	assert_int_equal(virq_route_get(f->vm, 5, out, 4), 2);
	assert_int_equal(out[0].u.irqchip.chip, CHIP_PIC_MASTER);
	assert_int_equal(out[1].u.irqchip.chip, CHIP_IOAPIC);
	assert_int_equal(out[1].u.irqchip.pin, 5);
	assert_int_equal(virq_route_get(f->vm, 6, out, 4), 0);
	assert_int_equal(table_size(f->vm), 2);
}

static void test_same_chip_twice_rejected(void **state)
{
	struct fixture *f = *state;
	struct virq_route_txn *t;

	/* in one transaction */
	assert_int_equal(virq_route_begin(f->vm, &t), 0);
	struct virq_route_entry a = chip_entry(3, CHIP_IOAPIC, 3);
	struct virq_route_entry b = chip_entry(3, CHIP_IOAPIC, 4);
	assert_int_equal(virq_route_add(t, &a), 0);
	assert_int_equal(virq_route_add(t, &b), 0);
	assert_int_equal(virq_route_commit(t), -EINVAL);
	assert_true(strlen(virq_last_error()) > 0);
	assert_int_equal(table_size(f->vm), 0);

	/* across two commits */
	assert_int_equal(route_add1(f->vm, a), 0);
	assert_int_equal(route_add1(f->vm, b), -EINVAL);
	assert_int_equal(table_size(f->vm), 1);
}

static void test_msi_must_be_alone(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(route_add1(f->vm, msi_entry(7, 0x31)), 0);
	assert_int_equal(route_add1(f->vm, chip_entry(7, CHIP_IOAPIC, 7)), -EINVAL);
	assert_int_equal(route_add1(f->vm, msi_entry(7, 0x32)), -EINVAL);

	assert_int_equal(route_add1(f->vm, chip_entry(8, CHIP_IOAPIC, 8)), 0);
	assert_int_equal(route_add1(f->vm, msi_entry(8, 0x33)), -EINVAL);

	struct virq_route_entry ppi = { .gsi = 8, .kind = VIRQ_ROUTE_PPI };
	ppi.u.ppi.chip = CHIP_GIC;
	ppi.u.ppi.vcpu = 1;
	ppi.u.ppi.ppi = 27;
	assert_int_equal(route_add1(f->vm, ppi), -EINVAL);
	assert_int_equal(table_size(f->vm), 2);
}

static void test_flags_rules(void **state)
{
	struct fixture *f = *state;
	struct virq_route_txn *t;
	struct virq_route_entry e;

	assert_int_equal(virq_route_begin(f->vm, &t), 0);
	e = msi_entry(1, 0x40);
	e.flags = VIRQ_MSI_VALID_DEVID;
	e.u.msi.devid = 0x1234;
	assert_int_equal(virq_route_add(t, &e), 0);
	e = msi_entry(2, 0x41);
	e.flags = 2;
	assert_int_equal(virq_route_add(t, &e), -EINVAL);
	e.flags = VIRQ_MSI_VALID_DEVID | 4;
	assert_int_equal(virq_route_add(t, &e), -EINVAL);
	e = chip_entry(3, CHIP_IOAPIC, 3);
	e.flags = VIRQ_MSI_VALID_DEVID;
	assert_int_equal(virq_route_add(t, &e), -EINVAL);
	e = (struct virq_route_entry){ .gsi = 4, .kind = VIRQ_ROUTE_LPI, .flags = 1 };
	e.u.lpi.chip = CHIP_GIC;
	e.u.lpi.intid = 8192;
	assert_int_equal(virq_route_add(t, &e), -EINVAL);
	e = (struct virq_route_entry){ .gsi = 4, .kind = VIRQ_ROUTE_PPI, .flags = 1 };
	e.u.ppi.chip = CHIP_GIC;
	e.u.ppi.vcpu = 0;
	e.u.ppi.ppi = 20;
	assert_int_equal(virq_route_add(t, &e), -EINVAL);
	e = (struct virq_route_entry){ .gsi = 4, .kind = 99 };
	assert_int_equal(virq_route_add(t, &e), -EINVAL);
	e = (struct virq_route_entry){ .gsi = 4, .kind = 0 };
	assert_int_equal(virq_route_add(t, &e), -EINVAL);
	/* refused operations leave the transaction usable */
	assert_int_equal(virq_route_commit(t), 0);
	assert_int_equal(table_size(f->vm), 1);

	struct virq_route_entry out;
	assert_int_equal(virq_route_get(f->vm, 1, &out, 1), 1);
	assert_int_equal(out.flags, VIRQ_MSI_VALID_DEVID);
	assert_int_equal(out.u.msi.devid, 0x1234);
}

static void test_devid_ignored_without_flag(void **state)
{
	struct fixture *f = *state;
	struct virq_route_entry e = msi_entry(1, 0x40), out;

	e.u.msi.devid = 77; /* not valid: must not be stored */
	assert_int_equal(route_add1(f->vm, e), 0);
	assert_int_equal(virq_route_get(f->vm, 1, &out, 1), 1);
	assert_int_equal(out.u.msi.devid, 0);
}

static void test_ranges(void **state)
{
	struct fixture *f = *state;
	struct virq_route_entry e;

	/* pins beyond the chip: PIC has 8 per chip, IOAPIC 24 */
	assert_int_equal(route_add1(f->vm, chip_entry(0, CHIP_PIC_MASTER, 8)), -EINVAL);
	assert_int_equal(route_add1(f->vm, chip_entry(0, CHIP_PIC_SLAVE, 8)), -EINVAL);
	assert_int_equal(route_add1(f->vm, chip_entry(0, CHIP_IOAPIC, 24)), -EINVAL);
	assert_int_equal(route_add1(f->vm, chip_entry(0, CHIP_IOAPIC, 23)), 0);
	/* no such chip; chip id beyond the maximum */
	assert_int_equal(route_add1(f->vm, chip_entry(1, 20, 0)), -EINVAL);
	assert_int_equal(route_add1(f->vm, chip_entry(1, VIRQ_MAX_CHIPS, 0)), -EINVAL);
	/* GSI at the limit */
	assert_int_equal(route_add1(f->vm, chip_entry(4096, CHIP_IOAPIC, 1)), -EINVAL);
	assert_int_equal(route_add1(f->vm, chip_entry(4095, CHIP_IOAPIC, 1)), 0);

	/* PPI: 16..31, a vCPU of this VM, a chip that takes PPIs */
	e = (struct virq_route_entry){ .gsi = 10, .kind = VIRQ_ROUTE_PPI };
	e.u.ppi.chip = CHIP_GIC;
	e.u.ppi.vcpu = 3;
	e.u.ppi.ppi = 15;
	assert_int_equal(route_add1(f->vm, e), -EINVAL);
	e.u.ppi.ppi = 32;
	assert_int_equal(route_add1(f->vm, e), -EINVAL);
	e.u.ppi.ppi = 16;
	e.u.ppi.vcpu = 4;
	assert_int_equal(route_add1(f->vm, e), -EINVAL);
	e.u.ppi.vcpu = 3;
	e.u.ppi.chip = CHIP_IOAPIC; /* takes no PPIs */
	assert_int_equal(route_add1(f->vm, e), -EINVAL);
	e.u.ppi.chip = CHIP_GIC;
	assert_int_equal(route_add1(f->vm, e), 0);
	e.gsi = 11;
	e.u.ppi.ppi = 31;
	assert_int_equal(route_add1(f->vm, e), 0);

	/* LPI: intid >= 8192 on a chip that takes LPIs */
	e = (struct virq_route_entry){ .gsi = 12, .kind = VIRQ_ROUTE_LPI };
	e.u.lpi.chip = CHIP_GIC;
	e.u.lpi.intid = 8191;
	assert_int_equal(route_add1(f->vm, e), -EINVAL);
	e.u.lpi.intid = 8192;
	e.u.lpi.chip = CHIP_PIC_MASTER;
	assert_int_equal(route_add1(f->vm, e), -EINVAL);
	e.u.lpi.chip = CHIP_GIC;
	assert_int_equal(route_add1(f->vm, e), 0);
	assert_int_equal(table_size(f->vm), 5);
}

static void test_failed_commit_keeps_table(void **state)
{
	struct fixture *f = *state;
	struct virq_route_entry before[8], after[8];
	struct virq_route_stats st0, st1;
	struct virq_route_txn *t;
	long n0;

	assert_int_equal(route_add1(f->vm, chip_entry(1, CHIP_IOAPIC, 1)), 0);
	assert_int_equal(route_add1(f->vm, msi_entry(2, 0x50)), 0);
	n0 = virq_route_get_table(f->vm, before, 8);
	virq_route_get_stats(f->vm, &st0);

	assert_int_equal(virq_route_begin(f->vm, &t), 0);
	struct virq_route_entry up = msi_entry(2, 0x51);
	struct virq_route_entry rm = chip_entry(1, CHIP_IOAPIC, 1);
	struct virq_route_entry add = chip_entry(9, CHIP_IOAPIC, 9);
	struct virq_route_entry bad = chip_entry(9, CHIP_IOAPIC, 10); /* same chip */
	assert_int_equal(virq_route_update(t, &up), 0);
	assert_int_equal(virq_route_remove(t, &rm), 0);
	assert_int_equal(virq_route_add(t, &add), 0);
	assert_int_equal(virq_route_add(t, &bad), 0);
	assert_int_equal(virq_route_commit(t), -EINVAL);

	assert_int_equal(virq_route_get_table(f->vm, after, 8), n0);
	assert_memory_equal(before, after, (size_t)n0 * sizeof(before[0]));
	virq_route_get_stats(f->vm, &st1);
	assert_int_equal(st1.failed_commits, st0.failed_commits + 1);
	assert_int_equal(st1.commits, st0.commits);
	assert_int_equal(st1.gsis_published, st0.gsis_published);
}

static void test_update_remove(void **state)
{
	struct fixture *f = *state;
	struct virq_route_entry out[2];
	struct virq_route_txn *t;

	assert_int_equal(route_update1(f->vm, msi_entry(3, 1)), -ENOENT);
	assert_int_equal(route_add1(f->vm, msi_entry(3, 1)), 0);
	assert_int_equal(route_update1(f->vm, msi_entry(3, 2)), 0);
	assert_int_equal(virq_route_get(f->vm, 3, out, 2), 1);
	assert_int_equal(out[0].u.msi.data, 2);

	/* an update of a chip entry replaces that chip's pin only */
	assert_int_equal(route_add1(f->vm, chip_entry(4, CHIP_PIC_MASTER, 4)), 0);
	assert_int_equal(route_add1(f->vm, chip_entry(4, CHIP_IOAPIC, 4)), 0);
	assert_int_equal(route_update1(f->vm, chip_entry(4, CHIP_IOAPIC, 14)), 0);
	assert_int_equal(virq_route_get(f->vm, 4, out, 2), 2);
	assert_int_equal(out[0].u.irqchip.pin, 4);
	assert_int_equal(out[1].u.irqchip.pin, 14);
	assert_int_equal(route_update1(f->vm, chip_entry(4, CHIP_PIC_SLAVE, 1)), -ENOENT);

	assert_int_equal(virq_route_begin(f->vm, &t), 0);
	struct virq_route_entry rm = chip_entry(4, CHIP_PIC_SLAVE, 0);
	assert_int_equal(virq_route_remove(t, &rm), 0);
	assert_int_equal(virq_route_commit(t), -ENOENT);

	assert_int_equal(virq_route_begin(f->vm, &t), 0);
	rm = chip_entry(4, CHIP_PIC_MASTER, 0);
	assert_int_equal(virq_route_remove(t, &rm), 0);
	assert_int_equal(virq_route_remove_gsi(t, 3), 0);
	assert_int_equal(virq_route_remove_gsi(t, 100), 0); /* empty: fine */
	assert_int_equal(virq_route_remove_gsi(t, 4096), -EINVAL);
	assert_int_equal(virq_route_commit(t), 0);
	assert_int_equal(virq_route_get(f->vm, 3, out, 2), 0);
	assert_int_equal(virq_route_get(f->vm, 4, out, 2), 1);
	assert_int_equal(out[0].u.irqchip.chip, CHIP_IOAPIC);
}

static void test_ops_apply_in_order(void **state)
{
	struct fixture *f = *state;
	struct virq_route_entry out;
	struct virq_route_txn *t;

	/* add, remove, add again within one GSI: the last word wins */
	assert_int_equal(virq_route_begin(f->vm, &t), 0);
	struct virq_route_entry m1 = msi_entry(5, 1), m2 = msi_entry(5, 2);
	assert_int_equal(virq_route_add(t, &m1), 0);
	assert_int_equal(virq_route_remove_gsi(t, 5), 0);
	assert_int_equal(virq_route_add(t, &m2), 0);
	assert_int_equal(virq_route_commit(t), 0);
	assert_int_equal(virq_route_get(f->vm, 5, &out, 1), 1);
	assert_int_equal(out.u.msi.data, 2);
}

static void test_noop_commit(void **state)
{
	struct fixture *f = *state;
	struct virq_route_stats st0, st1;
	struct virq_route_txn *t;

	assert_int_equal(route_add1(f->vm, chip_entry(6, CHIP_PIC_MASTER, 6)), 0);
	assert_int_equal(route_add1(f->vm, chip_entry(6, CHIP_IOAPIC, 6)), 0);
	assert_int_equal(route_add1(f->vm, msi_entry(7, 9)), 0);
	virq_route_get_stats(f->vm, &st0);

	/* rewrite the same content, chips in the other order */
	assert_int_equal(virq_route_begin(f->vm, &t), 0);
	struct virq_route_entry a = chip_entry(6, CHIP_IOAPIC, 6);
	struct virq_route_entry b = chip_entry(6, CHIP_PIC_MASTER, 6);
	struct virq_route_entry c = msi_entry(7, 9);
	c.u.msi.devid = 55; /* ignored without VALID_DEVID: still equal */
	assert_int_equal(virq_route_remove_gsi(t, 6), 0);
	assert_int_equal(virq_route_add(t, &a), 0);
	assert_int_equal(virq_route_add(t, &b), 0);
	assert_int_equal(virq_route_update(t, &c), 0);
	assert_int_equal(virq_route_commit(t), 0);
	/* and an empty transaction */
	assert_int_equal(virq_route_begin(f->vm, &t), 0);
	assert_int_equal(virq_route_commit(t), 0);

	virq_route_get_stats(f->vm, &st1);
	assert_int_equal(st1.commits, st0.commits);
	assert_int_equal(st1.noop_commits, st0.noop_commits + 2);
	assert_int_equal(st1.gsis_published, st0.gsis_published);
}

static void test_set_table(void **state)
{
	struct fixture *f = *state;
	struct virq_route_entry tbl[4], out[8];
	struct virq_route_stats st0, st1;

	tbl[0] = chip_entry(0, CHIP_PIC_MASTER, 0);
	tbl[1] = chip_entry(0, CHIP_IOAPIC, 2);
	tbl[2] = msi_entry(30, 0x60);
	tbl[3] = msi_entry(31, 0x61);
	assert_int_equal(virq_route_set_table(f->vm, tbl, 4), 0);
	assert_int_equal(table_size(f->vm), 4);

	/* one GSI differs: only it is republished; GSI 31 disappears */
	virq_route_get_stats(f->vm, &st0);
	tbl[2] = msi_entry(30, 0x70);
	assert_int_equal(virq_route_set_table(f->vm, tbl, 3), 0);
	virq_route_get_stats(f->vm, &st1);
	assert_int_equal(st1.gsis_published - st0.gsis_published, 2);
	assert_int_equal(virq_route_get_table(f->vm, out, 8), 3);
	assert_int_equal(out[2].u.msi.data, 0x70);

	/* a bad entry anywhere: the old table stays */
	struct virq_route_entry bad[3] = { msi_entry(40, 1),
					   chip_entry(41, CHIP_IOAPIC, 1),
					   chip_entry(41, CHIP_IOAPIC, 2) };
	assert_int_equal(virq_route_set_table(f->vm, bad, 3), -EINVAL);
	bad[2] = msi_entry(41, 3); /* MSI joining a chip entry */
	assert_int_equal(virq_route_set_table(f->vm, bad, 3), -EINVAL);
	bad[2] = chip_entry(4096, CHIP_IOAPIC, 1);
	assert_int_equal(virq_route_set_table(f->vm, bad, 3), -EINVAL);
	bad[2] = msi_entry(42, 1);
	bad[2].flags = 8;
	assert_int_equal(virq_route_set_table(f->vm, bad, 3), -EINVAL);
	assert_int_equal(virq_route_get_table(f->vm, out, 8), 3);
	assert_int_equal(out[2].u.msi.data, 0x70);

	/* more entries than the limit */
	struct virq_route_entry *big = calloc(4097, sizeof(*big));
	assert_non_null(big);
	for (uint32_t i = 0; i < 4097; i++)
		big[i] = msi_entry(i % 4096, i);
	assert_int_equal(virq_route_set_table(f->vm, big, 4097), -EINVAL);
	/* exactly the limit works */
	assert_int_equal(virq_route_set_table(f->vm, big, 4096), 0);
	assert_int_equal(table_size(f->vm), 4096);
	free(big);

	/* empty table */
	assert_int_equal(virq_route_set_table(f->vm, NULL, 0), 0);
	assert_int_equal(table_size(f->vm), 0);
}

static void test_entry_limit_enospc(void **state)
{
	struct fixture f;
	struct virq_route_txn *t;

	(void)state;
	fixture_setup_limit(&f, 8);
	assert_int_equal(virq_route_begin(f.vm, &t), 0);
	for (uint32_t i = 0; i < 8; i++) {
		struct virq_route_entry e = chip_entry(i, CHIP_IOAPIC, i);

		assert_int_equal(virq_route_add(t, &e), 0);
	}
	assert_int_equal(virq_route_commit(t), 0);
	/* a second entry on GSI 0 would make 9 entries */
	assert_int_equal(route_add1(f.vm, chip_entry(0, CHIP_PIC_MASTER, 0)), -ENOSPC);
	assert_int_equal(table_size(f.vm), 8);
	virq_vm_destroy(f.vm);
}

static void test_reverse_map(void **state)
{
	struct fixture *f = *state;
	uint32_t gsi = 0;

	assert_int_equal(virq_route_gsi_of_pin(f->vm, CHIP_IOAPIC, 9, &gsi), -ENOENT);
	assert_int_equal(route_add1(f->vm, chip_entry(40, CHIP_IOAPIC, 9)), 0);
	assert_int_equal(virq_route_gsi_of_pin(f->vm, CHIP_IOAPIC, 9, &gsi), 0);
	assert_int_equal(gsi, 40);
	assert_int_equal(route_add1(f->vm, chip_entry(20, CHIP_IOAPIC, 9)), 0);
	assert_int_equal(route_add1(f->vm, chip_entry(30, CHIP_IOAPIC, 9)), 0);
	assert_int_equal(virq_route_gsi_of_pin(f->vm, CHIP_IOAPIC, 9, &gsi), 0);
	assert_int_equal(gsi, 20);

	/* the lowest goes: the next lowest takes over */
	struct virq_route_txn *t;
	assert_int_equal(virq_route_begin(f->vm, &t), 0);
	assert_int_equal(virq_route_remove_gsi(t, 20), 0);
	assert_int_equal(virq_route_commit(t), 0);
	assert_int_equal(virq_route_gsi_of_pin(f->vm, CHIP_IOAPIC, 9, &gsi), 0);
	assert_int_equal(gsi, 30);

	/* moving GSI 30 to another pin */
	assert_int_equal(route_update1(f->vm, chip_entry(30, CHIP_IOAPIC, 10)), 0);
	assert_int_equal(virq_route_gsi_of_pin(f->vm, CHIP_IOAPIC, 9, &gsi), 0);
	assert_int_equal(gsi, 40);
	assert_int_equal(virq_route_gsi_of_pin(f->vm, CHIP_IOAPIC, 10, &gsi), 0);
	assert_int_equal(gsi, 30);

	assert_int_equal(virq_route_set_table(f->vm, NULL, 0), 0);
	assert_int_equal(virq_route_gsi_of_pin(f->vm, CHIP_IOAPIC, 9, &gsi), -ENOENT);
	assert_int_equal(virq_route_gsi_of_pin(f->vm, CHIP_IOAPIC, 10, &gsi), -ENOENT);
}

struct observed {
	unsigned calls;
	uint32_t gsis[16];
	size_t nr;
};

static void observer(void *opaque, struct virq_vm *vm, const uint32_t *gsis, size_t nr)
{
	struct observed *o = opaque;

	(void)vm;
	o->calls++;
	o->nr = nr;
	memcpy(o->gsis, gsis, (nr < 16 ? nr : 16) * sizeof(*gsis));
}

static void test_observer(void **state)
{
	struct fixture *f = *state;
	struct observed o = { 0 };
	struct virq_route_txn *t;

	assert_int_equal(virq_route_observe(f->vm, observer, &o), 0);
	assert_int_equal(virq_route_begin(f->vm, &t), 0);
	struct virq_route_entry a = msi_entry(9, 1), b = msi_entry(3, 1);
	assert_int_equal(virq_route_add(t, &a), 0);
	assert_int_equal(virq_route_add(t, &b), 0);
	assert_int_equal(virq_route_commit(t), 0);
	assert_int_equal(o.calls, 1);
	assert_int_equal(o.nr, 2);
	assert_int_equal(o.gsis[0], 3);
	assert_int_equal(o.gsis[1], 9);

	/* a commit that changes nothing tells nobody */
	assert_int_equal(route_update1(f->vm, msi_entry(9, 1)), 0);
	assert_int_equal(o.calls, 1);

	assert_int_equal(virq_route_unobserve(f->vm, observer, &o), 0);
	assert_int_equal(virq_route_unobserve(f->vm, observer, &o), -ENOENT);
	assert_int_equal(route_update1(f->vm, msi_entry(9, 2)), 0);
	assert_int_equal(o.calls, 1);
}

static void test_million_routes(void **state)
{
	const uint32_t n = 1u << 20;
	struct virq_vm_config cfg = { .nr_vcpus = 1, .max_routes = n };
	struct virq_route_stats st;
	struct virq_route_entry *tbl, out;
	struct virq_device *msi;
	struct virq_vm *vm;

	(void)state;
	assert_int_equal(testchip_register(), 0);
	assert_int_equal(virq_vm_create(&cfg, &vm), 0);
	msi = fixture_chip(vm, 0, 1, 0, MSI_DOORBELL);
	tbl = malloc(n * sizeof(*tbl));
	assert_non_null(tbl);
	for (uint32_t i = 0; i < n; i++)
		tbl[i] = msi_entry(i, i & 0xff);
	assert_int_equal(virq_route_set_table(vm, tbl, n), 0);
	free(tbl);
	virq_route_get_stats(vm, &st);
	assert_int_equal(st.entries, n);
	assert_int_equal(st.gsis, n);

	/* one-entry changes at both ends */
	assert_int_equal(route_update1(vm, msi_entry(n - 1, 0x77)), 0);
	assert_int_equal(route_update1(vm, msi_entry(0, 0x78)), 0);
	assert_int_equal(virq_route_get(vm, n - 1, &out, 1), 1);
	assert_int_equal(out.u.msi.data, 0x77);
	assert_int_equal(route_add1(vm, msi_entry(n, 1)), -EINVAL);

	assert_int_equal(virq_set_irq(vm, n - 1, 1, 0), 1);
	assert_int_equal(virq_set_irq(vm, n / 2, 1, 0), 1);
	assert_int_equal(testchip_msis(msi), 2);
	virq_vm_destroy(vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chip_entries_roundtrip,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_same_chip_twice_rejected,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_msi_must_be_alone, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_flags_rules, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_devid_ignored_without_flag,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_ranges, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_failed_commit_keeps_table,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_update_remove, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_ops_apply_in_order, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_noop_commit, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_set_table, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(test_entry_limit_enospc),
		cmocka_unit_test_setup_teardown(test_reverse_map, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_observer, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(test_million_routes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
