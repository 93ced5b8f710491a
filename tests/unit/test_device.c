/* SPDX-License-Identifier: MIT */
/* Device control: types, claims, attributes, accessors, errors, logs. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"

static void test_vm_config_checked(void **state)
{
	struct virq_vm_config cfg = { .nr_vcpus = 0 };
	struct virq_vm *vm = NULL;

	(void)state;
	assert_int_equal(virq_vm_create(&cfg, &vm), -EINVAL);
	assert_true(strstr(virq_last_error(), "vCPU") != NULL);
	cfg.nr_vcpus = VIRQ_MAX_VCPUS + 1;
	assert_int_equal(virq_vm_create(&cfg, &vm), -EINVAL);
	cfg.nr_vcpus = 1;
	cfg.max_routes = VIRQ_MAX_ROUTES_LIMIT + 1;
	assert_int_equal(virq_vm_create(&cfg, &vm), -EINVAL);
	assert_null(vm);
	cfg.max_routes = 0;
	assert_int_equal(virq_vm_create(&cfg, &vm), 0);
	assert_int_equal(virq_vm_nr_vcpus(vm), 1);
	struct virq_route_stats st;
	virq_route_get_stats(vm, &st);
	assert_int_equal(st.limit, VIRQ_DEFAULT_MAX_ROUTES);
	virq_vm_destroy(vm);
}

static int other_create(struct virq_device *dev, const void *args)
{
	(void)dev, (void)args;
	return 0;
}

static const struct virq_device_type impostor = {
	.name = "testchip",
	.ops = { .create = other_create },
};

static const struct virq_device_type bare = {
	.name = "bare",
	.ops = { .create = other_create },
};

static void test_type_registry(void **state)
{
	struct fixture *f = *state;
	struct virq_device *dev;

	assert_int_equal(testchip_register(), 0); /* same type again: fine */
	assert_int_equal(virq_device_type_register(&impostor), -EEXIST);
	assert_int_equal(virq_device_type_register(NULL), -EINVAL);
	assert_non_null(virq_device_type_find("testchip"));
	assert_null(virq_device_type_find("nope"));
	assert_int_equal(virq_device_create(f->vm, "nope", NULL, &dev), -ENODEV);
	assert_true(strstr(virq_last_error(), "nope") != NULL);

	/* a type without attributes or accessors */
	assert_int_equal(virq_device_type_register(&bare), 0);
	assert_int_equal(virq_device_create(f->vm, "bare", NULL, &dev), 0);
	uint32_t v;
	assert_int_equal(virq_device_get_attr(dev, 0, 0, &v, 4), -ENXIO);
	assert_int_equal(virq_device_set_attr(dev, 0, 0, &v, 4), -ENXIO);
	assert_int_equal(virq_device_has_attr(dev, 0, 0), -ENXIO);
	assert_int_equal(virq_device_reset(dev), 0);
	assert_int_equal(virq_device_destroy(dev), 0);
}

static void test_names_and_instances(void **state)
{
	struct fixture *f = *state;

	assert_string_equal(virq_device_name(f->pic_m), "testchip.0");
	assert_string_equal(virq_device_name(f->pic_s), "testchip.1");
	assert_int_equal(virq_device_instance(f->ioapic), 2);
	assert_ptr_equal(virq_device_vm(f->ioapic), f->vm);
	assert_ptr_equal(virq_device_get_type(f->ioapic),
			 virq_device_type_find("testchip"));
}

static void test_attributes(void **state)
{
	struct fixture *f = *state;
	uint32_t v = 0;
	uint64_t v64 = 0;

	/* unknown group / attribute */
	assert_int_equal(virq_device_has_attr(f->ioapic, 99, 0), -ENXIO);
	assert_int_equal(virq_device_get_attr(f->ioapic, 99, 0, &v, 4), -ENXIO);
	assert_true(strstr(virq_last_error(), "testchip.2") != NULL);
	assert_int_equal(virq_device_get_attr(f->ioapic, TESTCHIP_GRP_LEVEL, 24, &v, 4),
			 -ENXIO);
	assert_int_equal(virq_device_has_attr(f->ioapic, TESTCHIP_GRP_LEVEL, 23), 0);

	/* not accessible / read-only */
	assert_int_equal(virq_device_set_attr(f->ioapic, TESTCHIP_GRP_LOCKED, 0, &v, 4),
			 -EPERM);
	assert_int_equal(virq_device_set_attr(f->ioapic, TESTCHIP_GRP_LEVEL, 0, &v, 4),
			 -EPERM);

	/* size checked */
	assert_int_equal(virq_device_get_attr(f->ioapic, TESTCHIP_GRP_RISING, 0, &v, 4),
			 -EINVAL);
	assert_int_equal(virq_device_get_attr(f->ioapic, TESTCHIP_GRP_RISING, 0, &v64, 8),
			 0);

	/* configuration only while stopped */
	v = 0x1234;
	assert_int_equal(virq_device_set_attr(f->ioapic, TESTCHIP_GRP_CONFIG, 0, &v, 4),
			 0);
	virq_vm_set_running(f->vm, true);
	assert_true(virq_vm_running(f->vm));
	v = 0x5678;
	assert_int_equal(virq_device_set_attr(f->ioapic, TESTCHIP_GRP_CONFIG, 0, &v, 4),
			 -EBUSY);
	assert_true(strlen(virq_last_error()) > 0);
	virq_vm_set_running(f->vm, false);
	assert_int_equal(virq_device_get_attr(f->ioapic, TESTCHIP_GRP_CONFIG, 0, &v, 4),
			 0);
	assert_int_equal(v, 0x1234);

	/* reset goes through the type */
	assert_int_equal(virq_device_reset(f->ioapic), 0);
	assert_int_equal(virq_device_get_attr(f->ioapic, TESTCHIP_GRP_CONFIG, 0, &v, 4),
			 0);
	assert_int_equal(v, 0);

	assert_int_equal(virq_device_get_attr(NULL, 0, 0, &v, 4), -EINVAL);
	assert_int_equal(virq_device_get_attr(f->ioapic, 0, 0, NULL, 4), -EINVAL);
}

static void test_chip_claims(void **state)
{
	struct fixture *f = *state;
	struct testchip_args a = { .chip = CHIP_IOAPIC, .nr_pins = 4 };
	struct virq_device *dev = NULL;

	/* chip id taken: create fails, the owner keeps working */
	assert_int_equal(virq_device_create(f->vm, "testchip", &a, &dev), -EEXIST);
	assert_null(dev);
	assert_int_equal(route_add1(f->vm, chip_entry(1, CHIP_IOAPIC, 20)), 0);
	assert_int_equal(virq_set_irq(f->vm, 1, 1, 0), 1);
	assert_int_equal(testchip_level(f->ioapic, 20), 1);

	a.chip = VIRQ_MAX_CHIPS;
	assert_int_equal(virq_device_create(f->vm, "testchip", &a, &dev), -EINVAL);
	a.chip = 20;
	a.nr_pins = 0;
	assert_int_equal(virq_device_create(f->vm, "testchip", &a, &dev), -EINVAL);

	/* a failed create claims nothing */
	a.nr_pins = 4;
	a.doorbell_base = MSI_DOORBELL + 0x1000; /* overlaps f->msi's window */
	a.doorbell_size = 0x1000;
	assert_int_equal(virq_device_create(f->vm, "testchip", &a, &dev), -EEXIST);
	assert_int_equal(route_add1(f->vm, chip_entry(2, 20, 0)), -EINVAL);
	a.doorbell_base = 0;
	assert_int_equal(virq_device_create(f->vm, "testchip", &a, &dev), 0);
	assert_int_equal(route_add1(f->vm, chip_entry(2, 20, 0)), 0);
}

static void test_regions(void **state)
{
	struct fixture *f = *state;
	struct testchip_args a = { .chip = 30, .nr_pins = 1, .mmio_base = 0xd0000000 };
	struct virq_device *dev, *dev2;
	uint64_t v = 0;

	assert_int_equal(virq_device_create(f->vm, "testchip", &a, &dev), 0);
	assert_int_equal(
		virq_io_write(f->vm, 1, VIRQ_SPACE_MMIO, 0xd0000008, 8, 0xabcdef), 0);
	assert_int_equal(virq_io_read(f->vm, 0, VIRQ_SPACE_MMIO, 0xd0000008, 8, &v), 0);
	assert_int_equal(v, 0xabcdef);
	/* the accessing vCPU reaches the device */
	uint32_t who = 99;
	assert_int_equal(virq_device_get_attr(dev, TESTCHIP_GRP_LAST_VCPU, 0, &who, 4),
			 0);
	assert_int_equal(who, 0);
	assert_int_equal(
		virq_io_read(f->vm, VIRQ_VCPU_NONE, VIRQ_SPACE_MMIO, 0xd0000008, 8, &v),
		0);
	assert_int_equal(virq_device_get_attr(dev, TESTCHIP_GRP_LAST_VCPU, 0, &who, 4),
			 0);
	assert_int_equal(who, VIRQ_VCPU_NONE);
	assert_int_equal(virq_io_read(f->vm, 4, VIRQ_SPACE_MMIO, 0xd0000008, 8, &v),
			 -EINVAL);
	/* the device refuses what it does not decode */
	assert_int_equal(virq_io_read(f->vm, 0, VIRQ_SPACE_MMIO, 0xd0000004, 4, &v),
			 -EINVAL);
	/* outside any region, or running past its end */
	assert_int_equal(virq_io_read(f->vm, 0, VIRQ_SPACE_MMIO, 0xd0000010, 8, &v),
			 -ENOENT);
	assert_int_equal(virq_io_read(f->vm, 0, VIRQ_SPACE_MMIO, 0xd000000c, 8, &v),
			 -ENOENT);
	assert_int_equal(virq_io_read(f->vm, 0, VIRQ_SPACE_PIO, 0xd0000008, 8, &v),
			 -ENOENT);
	assert_int_equal(virq_io_read(f->vm, 0, VIRQ_SPACE_MMIO, 0xd0000008, 3, &v),
			 -EINVAL);

	/* overlapping regions are refused */
	a.chip = 31;
	a.mmio_base = 0xd0000008;
	assert_int_equal(virq_device_create(f->vm, "testchip", &a, &dev2), -EEXIST);
	a.mmio_base = 0xd0001000;
	assert_int_equal(virq_device_create(f->vm, "testchip", &a, &dev2), 0);
	assert_int_equal(virq_device_move_region(dev2, VIRQ_SPACE_MMIO, 0, 0xd0000000),
			 -EEXIST);
	assert_int_equal(virq_device_move_region(dev2, VIRQ_SPACE_MMIO, 1, 0xe0000000),
			 -ENOENT);

	/* a moved region answers at its new place only */
	assert_int_equal(virq_device_move_region(dev, VIRQ_SPACE_MMIO, 0, 0xe0000000), 0);
	assert_int_equal(virq_io_read(f->vm, 0, VIRQ_SPACE_MMIO, 0xd0000008, 8, &v),
			 -ENOENT);
	assert_int_equal(virq_io_read(f->vm, 0, VIRQ_SPACE_MMIO, 0xe0000008, 8, &v), 0);
	assert_int_equal(v, 0xabcdef);

	/* a destroyed device's region is gone */
	assert_int_equal(virq_device_destroy(dev), 0);
	assert_int_equal(virq_io_read(f->vm, 0, VIRQ_SPACE_MMIO, 0xe0000008, 8, &v),
			 -ENOENT);
	assert_int_equal(virq_io_write(f->vm, 1, VIRQ_SPACE_MMIO, 0xd0001000, 8, 5), 0);
}

static void test_destroy_frees_claims(void **state)
{
	struct fixture *f = *state;
	struct virq_msi m = { .address_lo = (uint32_t)MSI_DOORBELL };
	struct testchip_args a = { .chip = 10,
				   .nr_pins = 1,
				   .doorbell_base = MSI_DOORBELL,
				   .doorbell_size = 0x100000 };

	assert_int_equal(virq_signal_msi(f->vm, &m), 1);
	assert_int_equal(virq_device_destroy(f->msi), 0);
	assert_int_equal(virq_signal_msi(f->vm, &m), -ENODEV);
	/* chip id and doorbell are free again */
	assert_int_equal(virq_device_create(f->vm, "testchip", &a, &f->msi), 0);
	assert_int_equal(virq_signal_msi(f->vm, &m), 1);
	assert_int_equal(testchip_msis(f->msi), 1);
}

struct logs {
	unsigned calls;
	char device[64];
	char msg[256];
};

static void log_hook(void *opaque, const char *device, const char *msg)
{
	struct logs *l = opaque;

	l->calls++;
	snprintf(l->device, sizeof(l->device), "%s", device);
	snprintf(l->msg, sizeof(l->msg), "%s", msg);
}

static void test_guest_error_rate_limit(void **state)
{
	struct logs l = { 0 };
	struct virq_vm_config cfg = {
		.nr_vcpus = 1,
		.ops = { .guest_error = log_hook },
		.opaque = &l,
		.guest_error_rate = 5,
	};
	struct virq_device *dev;
	struct virq_vm *vm;

	(void)state;
	assert_int_equal(testchip_register(), 0);
	assert_int_equal(virq_vm_create(&cfg, &vm), 0);
	dev = fixture_chip(vm, 0, 1, 0, 0);
	for (int i = 0; i < 1000; i++)
		virq_guest_error(dev, "bad write %d", i);
	/* every error counted; only a burst (2 x rate, plus what a slow
	 * machine earns meanwhile) logged */
	assert_int_equal(virq_vm_guest_errors(vm), 1000);
	assert_true(l.calls >= 10 && l.calls <= 15);
	assert_string_equal(l.device, "testchip.0");
	assert_true(strncmp(l.msg, "bad write", 9) == 0);
	virq_vm_destroy(vm);
}

static void *fail_in_thread(void *arg)
{
	struct virq_vm *vm = arg;

	virq_set_irq(vm, 0, 1, 100);
	return strdup(virq_last_error());
}

static void test_last_error_per_thread(void **state)
{
	struct fixture *f = *state;
	struct virq_route_txn *t;
	pthread_t th;
	void *other;

	assert_int_equal(virq_route_begin(f->vm, &t), 0);
	struct virq_route_entry e = chip_entry(0, CHIP_IOAPIC, 99);
	assert_int_equal(virq_route_add(t, &e), 0);
	assert_int_equal(virq_route_commit(t), -EINVAL);
	assert_true(strstr(virq_last_error(), "pin 99") != NULL);

	assert_int_equal(pthread_create(&th, NULL, fail_in_thread, f->vm), 0);
	assert_int_equal(pthread_join(th, &other), 0);
	assert_true(strstr(other, "source id 100") != NULL);
	free(other);
	/* ours is untouched */
	assert_true(strstr(virq_last_error(), "pin 99") != NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vm_config_checked),
		cmocka_unit_test_setup_teardown(test_type_registry, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_names_and_instances, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_attributes, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_chip_claims, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_regions, fixture_setup,
						fixture_teardown),
		cmocka_unit_test_setup_teardown(test_destroy_frees_claims, fixture_setup,
						fixture_teardown),
		cmocka_unit_test(test_guest_error_rate_limit),
		cmocka_unit_test_setup_teardown(test_last_error_per_thread, fixture_setup,
						fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
