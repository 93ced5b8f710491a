/* SPDX-License-Identifier: MIT */
/*
 * cmocka set-up shared by the KVM backend tests: the KVM test VM of
 * tests/common/kvm_vm.h in X, with an msi sink that counts its calls and
 * sends with KVM_SIGNAL_MSI (or only counts once X.k is NULL).
 */
#ifndef VIRQ_TEST_KVM_FIXTURE_H
#define VIRQ_TEST_KVM_FIXTURE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <sys/ioctl.h>

#include "fixture.h"
#include "kvm_vm.h"

extern struct kx X;
extern unsigned kx_sink_calls; /* atomic: MSIs that went through userspace */

int setup(void **state);
int teardown(void **state);
/* Is @vector pending in the LAPIC's IRR?  Waits up to 1 s for it. */
bool lapic_irr(uint8_t vector);
/* The same, now. */
bool lapic_irr_now(uint8_t vector);
void clear_irr(void);
struct virq_kvm_stats stats(void);
/* "KVM-SKIP" on stderr, and 77: /dev/kvm is unusable. */
int kvm_skip(void);
#define RUN_KVM_TESTS(tests) \
	(kx_usable() ? cmocka_run_group_tests(tests, NULL, NULL) : kvm_skip())

#endif
