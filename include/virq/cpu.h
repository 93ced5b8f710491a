/* SPDX-License-Identifier: MIT */
#ifndef VIRQ_CPU_H
#define VIRQ_CPU_H

#include <stdint.h>

#include <virq/vm.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Chip outputs towards vCPUs.  A chip raises or lowers an interrupt line
 * of a vCPU (a PIC's INTR, a GIC redistributor's IRQ/FIQ, an MPIC
 * output); virq forwards it to the VMM's cpu_line sink, which kicks the
 * vCPU or calls KVM_INTERRUPT / KVM_IRQ_LINE.
 * Returns 0, or -EINVAL for a vCPU or line out of range.
 */
int virq_cpu_set_line(struct virq_vm *vm, uint32_t vcpu, enum virq_cpu_line line,
		      int level);

#ifdef __cplusplus
}
#endif
#endif
