/* SPDX-License-Identifier: MIT */
/*
 * Set-up shared by the KVM backend tests: a KVM VM with one vCPU (never
 * run) whose in-kernel LAPIC is enabled, so that what reaches it shows
 * up in its IRR (KVM_GET_LAPIC); virq's IOAPIC and PIC on the default
 * routes; the backend attached; an msi sink that counts its calls.
 */
#ifndef VIRQ_TEST_KVM_FIXTURE_H
#define VIRQ_TEST_KVM_FIXTURE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <sys/ioctl.h>

#include "fixture.h"

struct kx {
	int kvm, vm, vcpu;
	struct virq_vm *v;
	struct virq_device *io, *pic;
	struct virq_kvm *k;
	unsigned sink_calls; /* atomic: MSIs that went through userspace */
};

extern struct kx X;

bool kvm_usable(void);
int setup(void **state);
int teardown(void **state);
/* Is @vector pending in the LAPIC's IRR?  Waits up to 1 s for it. */
bool lapic_irr(uint8_t vector);
/* The same, now. */
bool lapic_irr_now(uint8_t vector);
void clear_irr(void);
struct virq_kvm_stats stats(void);

#endif
