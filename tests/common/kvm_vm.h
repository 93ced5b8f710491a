/* SPDX-License-Identifier: MIT */
/*
 * A KVM VM for tests and benchmarks that need a real in-kernel LAPIC: one
 * vCPU (never run) whose LAPIC is software-enabled, so what KVM delivers
 * shows in its IRR (KVM_GET_LAPIC); a virq VM with virq's IOAPIC and PIC
 * on the default routes; the split-irqchip backend attached.  No test
 * framework: failures return -1 with a line on stderr.
 */
#ifndef VIRQ_TEST_KVM_VM_H
#define VIRQ_TEST_KVM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include <virq/virq.h>

struct kx {
	int kvm, vm, vcpu;
	struct virq_vm *v;
	struct virq_device *io, *pic;
	struct virq_kvm *k;
};

/* Can /dev/kvm be opened? */
bool kx_usable(void);
/*
 * The virq VM from @vc (nr_vcpus 0 = 1).  0, or -1 with a line on stderr
 * (what was made is closed again).
 */
int kx_open(struct kx *x, const struct virq_vm_config *vc);
/* Detach, destroy, close; any part may be missing. */
void kx_close(struct kx *x);
/* Is LAPIC vector @vector in the IRR: 1, 0, or -1 (KVM_GET_LAPIC failed). */
int kx_irr(const struct kx *x, uint8_t vector);
/* The same, waiting up to 1 s for it (KVM may inject from a worker). */
bool kx_irr_wait(const struct kx *x, uint8_t vector);
/* Clear the IRR bits of vectors [lo, hi]: 0 or -1. */
int kx_irr_clear(const struct kx *x, uint8_t lo, uint8_t hi);

#endif
