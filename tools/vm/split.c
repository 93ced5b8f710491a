/* SPDX-License-Identifier: MIT */
/*
 * The split irqchip (virq-vm's default mode): the LAPICs stay in KVM,
 * virq's IOAPIC ("ioapic") and 8259A pair ("i8259") serve the guest
 * through virq's KVM backend (include/virq/kvm.h).
 *
 *   device line   -> virq_set_irq(gsi, level, the device's source id)
 *   IOAPIC output -> the msi sink -> virq_kvm_signal_msi (KVM_SIGNAL_MSI)
 *   guest EOI of a level vector -> KVM_EXIT_IOAPIC_EOI -> virq_kvm_ioapic_eoi
 *   PIC INT       -> cpu_line sink -> kick vCPU 0; before each of its
 *                    KVM_RUNs, virq_kvm_pre_run: INTA + KVM_INTERRUPT, or
 *                    an interrupt-window request
 *   guest PIO/MMIO -> virq_io_read/write first (-ENOENT: virq-vm's devices)
 *
 * Everything here is created before any vCPU exists (virq_kvm_attach
 * enables KVM_CAP_SPLIT_IRQCHIP, which KVM refuses afterwards).
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>

#include <virq/virq.h>

#include "vm.h"

#define SPLIT_MAX_HOOKS 8u

struct split_hook {
	struct split *s;
	uint32_t source;
};

struct split {
	struct virq_vm *vm;
	struct virq_kvm *kvm;
	struct virq_device *ioapic, *pic;
	split_kick_fn kick;
	void *kick_opaque;
	struct split_hook hooks[SPLIT_MAX_HOOKS];
	unsigned nr_hooks;
	uint64_t set_irq_errors;
};

/* cpu_line sink: the PIC's INT (vCPU 0's INTR).  Called under the PIC's
 * lock: only kicks, never calls back into virq. */
static void split_cpu_line(void *opaque, uint32_t vcpu, enum virq_cpu_line line,
			   int level)
{
	struct split *s = opaque;

	if (line == VIRQ_CPU_IRQ && level && s->kick)
		s->kick(s->kick_opaque, vcpu);
}

/* msi sink: every MSI is bound for KVM's LAPICs. */
static int split_msi(void *opaque, const struct virq_msi *msi)
{
	struct split *s = opaque;

	return virq_kvm_signal_msi(s->kvm, msi);
}

static int split_fail(struct split *s, const char *what)
{
	fprintf(stderr, "virq-vm: split irqchip: %s: %s\n", what, virq_last_error());
	split_destroy(s);
	return -1;
}

int split_create(int vm_fd, unsigned nr_vcpus, split_kick_fn kick, void *opaque,
		 struct split **out)
{
	struct split *s = calloc(1, sizeof(*s));
	struct virq_vm_config cfg = {
		.nr_vcpus = nr_vcpus,
		.ops = { .cpu_line = split_cpu_line, .msi = split_msi },
		.opaque = s,
	};
	struct virq_kvm_config kc = { .vm_fd = vm_fd };

	if (!s) {
		fprintf(stderr, "virq-vm: split irqchip: out of memory\n");
		return -1;
	}
	s->kick = kick;
	s->kick_opaque = opaque;
	if (virq_ioapic_register() || virq_pic_register())
		return split_fail(s, "registering the device types");
	if (virq_vm_create(&cfg, &s->vm))
		return split_fail(s, "virq_vm_create");
	if (virq_device_create(s->vm, "ioapic", NULL, &s->ioapic))
		return split_fail(s, "creating the IOAPIC");
	if (virq_device_create(s->vm, "i8259", NULL, &s->pic))
		return split_fail(s, "creating the PIC");
	if (virq_x86_default_routes(s->vm))
		return split_fail(s, "virq_x86_default_routes");
	kc.ioapic = s->ioapic;
	kc.pic = s->pic;
	if (virq_kvm_attach(s->vm, &kc, &s->kvm))
		return split_fail(s, "virq_kvm_attach");
	*out = s;
	return 0;
}

void split_destroy(struct split *s)
{
	if (!s)
		return;
	virq_kvm_detach(s->kvm);
	virq_vm_destroy(s->vm);
	free(s);
}

void split_set_running(struct split *s, bool running)
{
	virq_vm_set_running(s->vm, running);
}

/* The device IRQ hook: opaque is a split_hook (one virq source each). */
static void split_set_irq(void *opaque, uint32_t gsi, int level)
{
	struct split_hook *h = opaque;
	int r = virq_set_irq(h->s->vm, gsi, level, h->source);

	/* -1 (masked, coalesced...) is the guest's business; -EINVAL is ours */
	if (r < -1 && __atomic_fetch_add(&h->s->set_irq_errors, 1, __ATOMIC_RELAXED) < 8)
		fprintf(stderr, "virq-vm: virq_set_irq(%u, %d): %s\n", gsi, level,
			virq_last_error());
}

int split_irq_hook(struct split *s, struct vm_irq *out)
{
	struct split_hook *h;
	int id;

	if (s->nr_hooks == SPLIT_MAX_HOOKS)
		return -ENOSPC;
	id = virq_source_id_alloc(s->vm);
	if (id < 0)
		return id;
	h = &s->hooks[s->nr_hooks++];
	h->s = s;
	h->source = (uint32_t)id;
	out->set = split_set_irq;
	out->opaque = h;
	return 0;
}

int split_io(struct split *s, unsigned vcpu, bool mmio, uint64_t addr, unsigned size,
	     bool write, uint64_t *val)
{
	enum virq_space space = mmio ? VIRQ_SPACE_MMIO : VIRQ_SPACE_PIO;
	int r;

	if (write) {
		r = virq_io_write(s->vm, vcpu, space, addr, size, *val);
		/* a region refused the access: dropped */
		return r < 0 && r != -ENOENT ? 0 : r;
	}
	*val = 0;
	r = virq_io_read(s->vm, vcpu, space, addr, size, val);
	/* a region refused the access: reads as an open bus */
	if (r < 0 && r != -ENOENT) {
		*val = size >= 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
		return 0;
	}
	return r;
}

int split_pre_run(struct split *s, int vcpu_fd, struct kvm_run *run)
{
	return virq_kvm_pre_run(s->kvm, vcpu_fd, run);
}

int split_ioapic_eoi(struct split *s, uint8_t vector)
{
	return virq_kvm_ioapic_eoi(s->kvm, vector);
}

struct virq_vm *split_virq_vm(struct split *s)
{
	return s->vm;
}

struct virq_kvm *split_virq_kvm(struct split *s)
{
	return s->kvm;
}

const char *split_last_error(void)
{
	return virq_last_error();
}

void split_print_stats(struct split *s, FILE *f)
{
	struct virq_kvm_stats st;

	virq_kvm_get_stats(s->kvm, &st);
	fprintf(f,
		"virq-vm: virq: KVM_SIGNAL_MSI %llu, IOAPIC EOI exits %llu, "
		"ExtINT injections %llu, route syncs %llu, guest errors %llu\n",
		(unsigned long long)st.msis, (unsigned long long)st.eoi_exits,
		(unsigned long long)st.extints, (unsigned long long)st.route_syncs,
		(unsigned long long)virq_vm_guest_errors(s->vm));
}
