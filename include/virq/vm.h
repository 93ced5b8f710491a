/* SPDX-License-Identifier: MIT */
#ifndef VIRQ_VM_H
#define VIRQ_VM_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct virq_vm;
struct virq_msi;

#define VIRQ_MAX_VCPUS 4096u
#define VIRQ_DEFAULT_MAX_ROUTES 4096u
#define VIRQ_MAX_ROUTES_LIMIT (1u << 24)

/* Interrupt lines of a vCPU, for the CPU-line sink. */
enum virq_cpu_line {
	VIRQ_CPU_IRQ = 0, /* INTR / IRQ: the line an ExtINT or GIC IRQ uses */
	VIRQ_CPU_FIQ = 1, /* ARM FIQ */
	VIRQ_CPU_NMI = 2, /* NMI pin */
	VIRQ_CPU_LINE_MAX = 3,
};

/*
 * Callbacks into the VMM.  They may be called from any thread that injects
 * or accesses a chip, possibly with that chip's lock held: they must not
 * call back into virq for the same chip and must not block for long.
 * They are the only callbacks made under a chip lock.
 */
struct virq_vm_ops {
	/* Raise (level 1) or lower (level 0) line @line of vCPU @vcpu. */
	void (*cpu_line)(void *opaque, uint32_t vcpu, enum virq_cpu_line line, int level);
	/*
	 * An MSI that no virq device claims (on x86: every MSI, bound for
	 * the local APICs).  Return > 0 delivered (CPU count), 0 blocked,
	 * < 0 error, as KVM_SIGNAL_MSI does.
	 */
	int (*msi)(void *opaque, const struct virq_msi *msi);
	/*
	 * A guest did something the hardware ignores or leaves undefined.
	 * Rate-limited by virq; NULL logs to stderr.
	 */
	void (*guest_error)(void *opaque, const char *device, const char *msg);
};

struct virq_vm_config {
	uint32_t nr_vcpus;	/* 1..VIRQ_MAX_VCPUS */
	uint32_t max_routes;	/* GSI and entry limit; 0 = 4096 */
	struct virq_vm_ops ops; /* any member may be NULL */
	void *opaque;		/* passed to every ops callback */
	/* guest_error messages allowed per second (burst = 2x); 0 = 10 */
	uint32_t guest_error_rate;
	/*
	 * irqfd worker threads, started at the first bind: 0 = 1, at most
	 * VIRQ_IRQFD_MAX_WORKERS; VIRQ_IRQFD_POLL = none, the VMM calls
	 * virq_irqfd_dispatch() from its own loop (irqfd.h).  Workers inherit
	 * the CPU affinity of the thread that makes the first bind.
	 */
	uint32_t irqfd_workers;
};

#define VIRQ_IRQFD_MAX_WORKERS 16u
#define VIRQ_IRQFD_POLL UINT32_MAX

/* Create a VM; *out is set on success. */
int virq_vm_create(const struct virq_vm_config *cfg, struct virq_vm **out);

/*
 * Destroy the VM and every device in it.  No injection may be in flight
 * and none may start: the caller owns the VM's lifetime.
 */
void virq_vm_destroy(struct virq_vm *vm);

uint32_t virq_vm_nr_vcpus(const struct virq_vm *vm);

/*
 * Running state.  Some attributes can only be set while the VM is
 * stopped; setting them while running fails with -EBUSY, as KVM's
 * device attributes do after the vCPUs have run.
 */
void virq_vm_set_running(struct virq_vm *vm, bool running);
bool virq_vm_running(const struct virq_vm *vm);

/* Guest errors seen so far (logged or suppressed by the rate limit). */
uint64_t virq_vm_guest_errors(const struct virq_vm *vm);

/*
 * Source ids for virq_set_irq().  Source 0 is the VMM (userspace) and
 * source 1 the resampling irqfds; others are allocated here (up to 64).
 */
#define VIRQ_SOURCE_USER 0u
#define VIRQ_SOURCE_RESAMPLE 1u
#define VIRQ_MAX_SOURCES 64u
int virq_source_id_alloc(struct virq_vm *vm);
int virq_source_id_free(struct virq_vm *vm, uint32_t source_id);

#ifdef __cplusplus
}
#endif
#endif
