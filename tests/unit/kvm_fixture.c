/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <unistd.h>

#include "kvm_fixture.h"

struct kx X;

static int msi_sink(void *opaque, const struct virq_msi *m)
{
	struct kx *x = opaque;
	struct virq_kvm *k = __atomic_load_n(&x->k, __ATOMIC_RELAXED);

	__atomic_fetch_add(&x->sink_calls, 1, __ATOMIC_RELAXED);
	return k ? virq_kvm_signal_msi(k, m) : 1;
}

bool kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int setup(void **state)
{
	struct virq_vm_config cfg = {
		.nr_vcpus = 1,
		.ops = { .msi = msi_sink },
		.opaque = &X,
	};
	struct virq_kvm_config kc = { 0 };
	struct kvm_lapic_state lapic;

	memset(&X, 0, sizeof(X));
	X.kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	assert_true(X.kvm >= 0);
	X.vm = ioctl(X.kvm, KVM_CREATE_VM, 0);
	assert_true(X.vm >= 0);
	assert_int_equal(virq_ioapic_register(), 0);
	assert_int_equal(virq_pic_register(), 0);
	assert_int_equal(virq_vm_create(&cfg, &X.v), 0);
	assert_int_equal(virq_device_create(X.v, "ioapic", NULL, &X.io), 0);
	assert_int_equal(virq_device_create(X.v, "i8259", NULL, &X.pic), 0);
	assert_int_equal(virq_x86_default_routes(X.v), 0);
	kc.vm_fd = X.vm;
	kc.ioapic = X.io;
	kc.pic = X.pic;
	assert_int_equal(virq_kvm_attach(X.v, &kc, &X.k), 0);
	X.vcpu = ioctl(X.vm, KVM_CREATE_VCPU, 0);
	assert_true(X.vcpu >= 0);
	/* software-enable the LAPIC (SVR bit 8) so that it accepts */
	assert_int_equal(ioctl(X.vcpu, KVM_GET_LAPIC, &lapic), 0);
	lapic.regs[0xf1] |= 1;
	assert_int_equal(ioctl(X.vcpu, KVM_SET_LAPIC, &lapic), 0);
	*state = &X;
	return 0;
}

int teardown(void **state)
{
	(void)state;
	virq_kvm_detach(X.k);
	virq_vm_destroy(X.v);
	close(X.vcpu);
	close(X.vm);
	close(X.kvm);
	return 0;
}

bool lapic_irr_now(uint8_t vector)
{
	struct kvm_lapic_state s;

	assert_int_equal(ioctl(X.vcpu, KVM_GET_LAPIC, &s), 0);
	return s.regs[0x200 + (vector / 32) * 0x10 + (vector % 32) / 8] >> (vector % 8) &
	       1;
}

bool lapic_irr(uint8_t vector)
{
	for (int i = 0; i < 1000; i++) {
		if (lapic_irr_now(vector))
			return true;
		usleep(1000);
	}
	return false;
}

void clear_irr(void)
{
	struct kvm_lapic_state s;

	assert_int_equal(ioctl(X.vcpu, KVM_GET_LAPIC, &s), 0);
	for (int r = 0; r < 8; r++)
		memset(&s.regs[0x200 + r * 0x10], 0, 4);
	assert_int_equal(ioctl(X.vcpu, KVM_SET_LAPIC, &s), 0);
}

struct virq_kvm_stats stats(void)
{
	struct virq_kvm_stats st;

	virq_kvm_get_stats(X.k, &st);
	return st;
}
