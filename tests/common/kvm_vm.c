/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_vm.h"

bool kx_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int failed(struct kx *x, const char *what)
{
	fprintf(stderr, "kvm test VM: %s: %s (%s)\n", what, strerror(errno),
		virq_last_error());
	kx_close(x);
	return -1;
}

int kx_open(struct kx *x, const struct virq_vm_config *cfg)
{
	struct virq_vm_config vc = *cfg;
	struct virq_kvm_config kc = { 0 };
	struct kvm_lapic_state lapic;

	*x = (struct kx){ .kvm = -1, .vm = -1, .vcpu = -1 };
	if (!vc.nr_vcpus)
		vc.nr_vcpus = 1;
	x->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (x->kvm < 0)
		return failed(x, "/dev/kvm");
	x->vm = ioctl(x->kvm, KVM_CREATE_VM, 0);
	if (x->vm < 0)
		return failed(x, "KVM_CREATE_VM");
	if (virq_ioapic_register() || virq_pic_register() || virq_vm_create(&vc, &x->v) ||
	    virq_device_create(x->v, "ioapic", NULL, &x->io) ||
	    virq_device_create(x->v, "i8259", NULL, &x->pic) ||
	    virq_x86_default_routes(x->v))
		return failed(x, "virq VM");
	kc.vm_fd = x->vm;
	kc.ioapic = x->io;
	kc.pic = x->pic;
	if (virq_kvm_attach(x->v, &kc, &x->k))
		return failed(x, "virq_kvm_attach");
	x->vcpu = ioctl(x->vm, KVM_CREATE_VCPU, 0);
	if (x->vcpu < 0)
		return failed(x, "KVM_CREATE_VCPU");
	/* software-enable the LAPIC (SVR bit 8) so that it accepts */
	if (ioctl(x->vcpu, KVM_GET_LAPIC, &lapic))
		return failed(x, "KVM_GET_LAPIC");
	lapic.regs[0xf1] |= 1;
	if (ioctl(x->vcpu, KVM_SET_LAPIC, &lapic))
		return failed(x, "KVM_SET_LAPIC");
	return 0;
}

void kx_close(struct kx *x)
{
	virq_kvm_detach(x->k);
	virq_vm_destroy(x->v);
	if (x->vcpu >= 0)
		close(x->vcpu);
	if (x->vm >= 0)
		close(x->vm);
	if (x->kvm >= 0)
		close(x->kvm);
	*x = (struct kx){ .kvm = -1, .vm = -1, .vcpu = -1 };
}

static uint8_t *irr_byte(struct kvm_lapic_state *s, uint8_t vector)
{
	return (uint8_t *)&s->regs[0x200 + (vector / 32) * 0x10 + (vector % 32) / 8];
}

int kx_irr(const struct kx *x, uint8_t vector)
{
	struct kvm_lapic_state s;

	if (ioctl(x->vcpu, KVM_GET_LAPIC, &s))
		return -1;
	return *irr_byte(&s, vector) >> (vector % 8) & 1;
}

bool kx_irr_wait(const struct kx *x, uint8_t vector)
{
	for (int i = 0; i < 1000; i++) {
		if (kx_irr(x, vector) == 1)
			return true;
		usleep(1000);
	}
	return false;
}

/* A delivery racing with this read-modify-write may be lost: callers
 * clear vectors nothing may arrive on meanwhile. */
int kx_irr_clear(const struct kx *x, uint8_t lo, uint8_t hi)
{
	struct kvm_lapic_state s;

	if (ioctl(x->vcpu, KVM_GET_LAPIC, &s))
		return -1;
	for (unsigned l = lo; l <= hi; l++)
		*irr_byte(&s, (uint8_t)l) &= (uint8_t) ~(1u << (l % 8));
	return ioctl(x->vcpu, KVM_SET_LAPIC, &s) ? -1 : 0;
}
