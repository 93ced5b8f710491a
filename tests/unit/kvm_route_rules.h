/* SPDX-License-Identifier: MIT */
#ifndef VIRQ_TEST_KVM_ROUTE_RULES_H
#define VIRQ_TEST_KVM_ROUTE_RULES_H

/*
 * Differential testing of route validation against Linux KVM (x86):
 * random small routing tables, KVM's verdict on each, and a model of the
 * rules KVM applies (the rule list is at the top of kvm_route_rules.c).
 *
 * Not thread-safe: one test thread at a time.
 */

#include <linux/kvm.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Most entries kvm_rules_random_table() produces. */
#define KVM_RULES_MAX_TABLE 8u

/*
 * Ask KVM whether it accepts the table: KVM_SET_GSI_ROUTING on an x86 VM
 * with a full in-kernel irqchip (KVM_CREATE_IRQCHIP), created on first use
 * and kept until kvm_rules_release() (KVM's verdict does not depend on the
 * table already installed).
 * Returns 0 when KVM answered, with *@kvm_result set to 0 (accepted) or
 * KVM's -errno; -ENODEV if /dev/kvm is unusable (skip the test);
 * -EINVAL for a NULL @kvm_result or a NULL @e with @nr > 0; -ENOMEM;
 * -E2BIG (KVM not asked) for @nr above 65536 (KVM's answer would be
 * -EINVAL: its limit is 4096).
 */
int kvm_rules_try(const struct kvm_irq_routing_entry *e, unsigned nr, int *kvm_result);

/* Close the cached VM (the next kvm_rules_try() makes a new one). */
void kvm_rules_release(void);

/*
 * Fill @out with a random table of 1..8 entries (never more than @max;
 * *@nr = 0 if @max is 0), deterministic in @seed.  Entries are zeroed
 * first.  The tables aim at KVM's decision points: IRQCHIP entries on
 * chips 0..3 (rarely larger) with pins 0..30, several entries on one GSI
 * (same chip, PIC + IOAPIC, PIC master + slave, MSI + irqchip, MSI +
 * MSI), MSI flags 0/1/2/3, nonzero flags on irqchip entries, GSIs 4094,
 * 4095, 4096, 4097 and 0xffffffff, and unknown type values.
 *
 * Unknown types are drawn from 0, 6, 7, 0x100 and 0xffffffff only: 3, 4
 * and 5 are KVM's S390_ADAPTER, HV_SINT and XEN_EVTCHN (the last two are
 * accepted or not depending on the kernel's configuration) and 3/4 are
 * also virq's PPI/LPI kinds, so they would not compare like for like.
 */
void kvm_rules_random_table(unsigned seed, struct kvm_irq_routing_entry *out,
			    unsigned *nr, unsigned max);

/*
 * What KVM on x86 (full irqchip, no KVM_CAP_X2APIC_API) answers for the
 * table according to the rules at the top of kvm_route_rules.c: 0 or
 * -EINVAL (-EFAULT for a NULL @e with @nr > 0, as KVM would say).
 * Checked against /dev/kvm; usable where /dev/kvm is not.
 */
int kvm_rules_model(const struct kvm_irq_routing_entry *e, unsigned nr);

#ifdef __cplusplus
}
#endif
#endif
