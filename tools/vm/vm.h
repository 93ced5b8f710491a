/* SPDX-License-Identifier: MIT */
/* virq-vm: shared definitions of the demo VMM's pieces. */
#ifndef VIRQ_VM_TOOL_H
#define VIRQ_VM_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VM_MAX_VCPUS 64u

/* Exit statuses of virq-vm itself (the guest's debug-exit ones are odd). */
#define VM_EXIT_USAGE 2	    /* bad option or input */
#define VM_EXIT_GUEST 4	    /* guest crashed: triple fault, internal error */
#define VM_EXIT_TIMEOUT 124 /* --timeout expired (as timeout(1)) */
#define VM_EXIT_SKIP 77	    /* /dev/kvm unusable (meson's skip code) */

/* ---- guest memory (mem.c) ---- */
struct vm_mem {
	uint8_t *host;
	uint64_t size;
};
int mem_init(struct vm_mem *mem, uint64_t size);
/* Host pointer for [gpa, gpa + len), or NULL when outside RAM. */
void *mem_ptr(const struct vm_mem *mem, uint64_t gpa, uint64_t len);

/* ---- interrupt output of the devices ---- */
struct vm_irq {
	/*
	 * Drive GSI @gsi to @level: KVM_IRQ_LINE with --kernel-irqchip,
	 * virq_set_irq() (one source id per device) with the split irqchip.
	 */
	void (*set)(void *opaque, uint32_t gsi, int level);
	void *opaque;
};
static inline void vm_irq_set(const struct vm_irq *irq, uint32_t gsi, int level)
{
	if (irq->set)
		irq->set(irq->opaque, gsi, level);
}

/* ---- port I/O dispatch (pio.c) ---- */
typedef uint32_t (*pio_read_fn)(void *opaque, uint16_t port, unsigned size);
typedef void (*pio_write_fn)(void *opaque, uint16_t port, unsigned size, uint32_t val);
int pio_register(uint16_t base, uint16_t len, pio_read_fn rd, pio_write_fn wr,
		 void *opaque);
/* Unclaimed ports read all-ones and ignore writes, as on a PC. */
uint32_t pio_read(uint16_t port, unsigned size);
void pio_write(uint16_t port, unsigned size, uint32_t val);

/* ---- run control (main.c) ---- */
/* Ask the VMM to stop with @status; the first request wins. */
void vm_request_exit(int status);

/* ---- devices ---- */
struct uart;
struct uart *uart_create(uint16_t base, uint32_t gsi, const struct vm_irq *irq,
			 int out_fd);
/* Queue received bytes (they raise the RX interrupt when enabled). */
void uart_receive(struct uart *u, const uint8_t *buf, size_t len);
void uart_flush(struct uart *u);

int debugexit_init(uint16_t port);
int testdev_init(const struct vm_irq *irq);
int fwcfg_init(uint32_t nr_cpus, uint64_t ram_size);

/* ---- multiboot loader (multiboot.c) ---- */
struct mb_module {
	const char *path;   /* file to load */
	const char *string; /* what the kernel sees as the module's string */
};
struct mb_boot {
	/* in */
	const char *kernel;
	const char *cmdline; /* may be NULL */
	const struct mb_module *mods;
	unsigned nr_mods;
	/* out: the state the boot vCPU starts in */
	uint32_t entry;
	uint32_t info; /* EBX */
};
/* Load; on failure print one line on stderr and return -1. */
int multiboot_load(struct vm_mem *mem, struct mb_boot *boot);

/* ---- split irqchip through virq (split.c) ---- */
struct split;
struct kvm_run;
enum split_kick {
	SPLIT_KICK_PIC, /* leave KVM_RUN and run virq_kvm_pre_run again */
	SPLIT_KICK_EOI, /* leave KVM_RUN and flush a deferred EOI (kvm.c) */
};
/* Make vCPU @vcpu leave KVM_RUN for @why. */
typedef void (*split_kick_fn)(void *opaque, unsigned vcpu, enum split_kick why);
/* Default --eoi-flush: how long a vCPU that took a level interrupt may
 * stay quiet before the watchdog flushes its deferred EOI (docs/vm.md). */
#define SPLIT_EOI_FLUSH_US 250u
#define SPLIT_EOI_FLUSH_MAX_US 1000000u
/*
 * The virq VM, its "ioapic" and "i8259" devices, KVM's default GSI table
 * and the KVM backend (KVM_CAP_SPLIT_IRQCHIP): before any vCPU exists.
 * @eoi_flush_us: the deferred-EOI watchdog's delay, 0 = no watchdog.
 * Return 0, or -1 with a message printed.
 */
int split_create(int vm_fd, unsigned nr_vcpus, unsigned eoi_flush_us, split_kick_fn kick,
		 void *opaque, struct split **out);
/* Stop the deferred-EOI watchdog (it kicks vCPUs): before they are joined. */
void split_stop_watchdog(struct split *s);
/* No vCPU may run any more. */
void split_destroy(struct split *s);
void split_set_running(struct split *s, bool running);
/* A device's IRQ hook, with a virq source id of its own. */
int split_irq_hook(struct split *s, struct vm_irq *out);
/*
 * A guest access: 0 if a virq region took it (reads fill *val), -ENOENT
 * if none claims it (virq-vm's own devices then handle it).
 */
int split_io(struct split *s, unsigned vcpu, bool mmio, uint64_t addr, unsigned size,
	     bool write, uint64_t *val);
/* Before each KVM_RUN of vCPU 0 (the PIC's): ExtINT injection/window. */
int split_pre_run(struct split *s, int vcpu_fd, struct kvm_run *run);
/* KVM_EXIT_IOAPIC_EOI */
int split_ioapic_eoi(struct split *s, uint8_t vector);
const char *split_last_error(void);
/* The virq VM (pcitest.c puts its MSI-X device in it). */
struct virq_vm *split_virq_vm(struct split *s);
struct virq_kvm *split_virq_kvm(struct split *s); /* for traffic.c */
void split_print_stats(struct split *s, FILE *f);

/* ---- KVM (kvm.c) ---- */
struct kvm_vm;
struct kvm_opts {
	unsigned nr_vcpus;
	bool kernel_irqchip;   /* KVM's full irqchip; else the split one (virq) */
	unsigned eoi_flush_us; /* split: the deferred-EOI watchdog's delay, 0 = off */
};
/* Return 0, -1 with a message printed, or -2 when /dev/kvm is unusable. */
int kvm_vm_create(const struct kvm_opts *opts, struct vm_mem *mem, struct kvm_vm **out);
/* /dev/kvm opens and makes a VM (what kvm_vm_create's -2 checks). */
bool kvm_usable(void);
unsigned kvm_max_vcpus(void);
int kvm_set_boot_state(struct kvm_vm *vm, uint32_t entry, uint32_t info);
int kvm_vm_start(struct kvm_vm *vm);
/*
 * Stop every vCPU thread (kick and join) and free the VM, virq's objects
 * included.  Returns 0, or -1 if a thread did not stop within a second
 * (the VM is then left as it is: the process is about to exit).
 */
int kvm_vm_stop(struct kvm_vm *vm);
/* The IRQ hook for one device: KVM_IRQ_LINE, or virq with its own source. */
int kvm_irq_hook(struct kvm_vm *vm, struct vm_irq *out);
/* For pci_setup(): the KVM VM fd; the split irqchip's virq VM or NULL. */
int kvm_vm_fd(struct kvm_vm *vm);
struct virq_vm *kvm_virq_vm(struct kvm_vm *vm);
struct virq_kvm *kvm_virq_kvm(struct kvm_vm *vm); /* split: the backend, else NULL */
void kvm_print_stats(struct kvm_vm *vm, FILE *f);

#endif
