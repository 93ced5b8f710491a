/* SPDX-License-Identifier: MIT */
#ifndef VIRQ_KVM_H
#define VIRQ_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include <virq/inject.h>

#ifdef __cplusplus
extern "C" {
#endif

struct virq_vm;
struct virq_device;
struct virq_kvm;
struct kvm_run;

/*
 * KVM backend for x86 with a split irqchip: the LAPICs stay in the
 * kernel, virq's IOAPIC and PIC serve the guest (spec/x86.md, "Split
 * irqchip").  The backend
 *   - enables KVM_CAP_SPLIT_IRQCHIP with @ioapic_pins reserved GSIs;
 *   - keeps KVM's route table in step with virq's: every MSI route of a
 *     GSI from @ioapic_pins up (below KVM's 4096), and for each IOAPIC
 *     pin p an MSI route at GSI p that mirrors redirection entry p, with
 *     the level bit for level pins (that is what makes KVM exit with
 *     KVM_EXIT_IOAPIC_EOI); one KVM_SET_GSI_ROUTING per change that KVM
 *     can see, none otherwise;
 *   - binds irqfds of MSI GSIs into KVM (KVM_IRQFD), so their delivery
 *     never enters userspace, and the others into virq's irqfd engine;
 *   - delivers MSIs with KVM_SIGNAL_MSI (virq_kvm_signal_msi: the VMM's
 *     msi sink calls it), synchronously on the thread that caused them;
 *   - turns KVM_EXIT_IOAPIC_EOI into an IOAPIC EOI, and the PIC's INT
 *     into KVM_INTERRUPT through the interrupt-window protocol.
 */
struct virq_kvm_config {
	int vm_fd;		    /* a KVM VM fd, before any vCPU exists */
	uint32_t ioapic_pins;	    /* GSIs reserved for IOAPIC pins; 0 = 24 */
	struct virq_device *ioapic; /* virq's IOAPIC, or NULL */
	struct virq_device *pic;    /* virq's PIC pair, or NULL */
	/*
	 * Mirror edge pins with the level bit too, so that KVM reports their
	 * EOIs and ack notifiers run for edge pins as well (one exit per
	 * EOI of such a vector).
	 */
	bool edge_eois;
};

/*
 * Attach to @cfg->vm_fd.  Errors: -EINVAL bad arguments; -ENOTSUP no
 * KVM_CAP_SPLIT_IRQCHIP; -EEXIST an irqchip exists or vCPUs were created
 * already; other -errno from KVM.  One backend per virq VM.
 */
int virq_kvm_attach(struct virq_vm *vm, const struct virq_kvm_config *cfg,
		    struct virq_kvm **out);

/*
 * Detach: KVM-bound irqfds are deassigned, MSI-X vectors' eventfds move
 * to virq's irqfd engine; KVM's routes stay.  Call it before destroying
 * MSI-X devices or the VM (never concurrently with a device destroy),
 * with the KVM VM fd still open.
 */
void virq_kvm_detach(struct virq_kvm *k);

/*
 * KVM_SIGNAL_MSI: what the VMM's msi sink (struct virq_vm_ops.msi) calls.
 * Returns KVM's answer: > 0 CPUs reached, 0 blocked, -1 no destination,
 * another -errno if KVM refused the message.
 */
int virq_kvm_signal_msi(struct virq_kvm *k, const struct virq_msi *msi);

/* KVM_EXIT_IOAPIC_EOI: the guest ended vector @vector. */
int virq_kvm_ioapic_eoi(struct virq_kvm *k, uint8_t vector);

/*
 * Before each KVM_RUN of the vCPU whose INTR the PIC drives (the PIC's
 * args.vcpu, vCPU 0 by default): if the PIC requests an interrupt and
 * KVM reports the vCPU ready (@run->ready_for_interrupt_injection), take
 * the vector (virq_pic_read_irq) and inject it with KVM_INTERRUPT;
 * otherwise ask for an interrupt window.  After an injection it asks for
 * the next window at once if the PIC still requests.  Returns 1 if it
 * injected, 0 if not, -errno from KVM_INTERRUPT.
 */
int virq_kvm_pre_run(struct virq_kvm *k, int vcpu_fd, struct kvm_run *run);

/*
 * irqfds: an MSI GSI (a single MSI entry, GSI within KVM's table, no
 * resample) is bound with KVM_IRQFD; anything else goes to
 * virq_irqfd_bind().  If the GSI later stops being an MSI route, the
 * binding moves to virq's engine by itself.  Errors as virq_irqfd_bind.
 * For an MSI-X vector use virq_msix_bind_irqfd(): while the backend is
 * attached it puts the eventfd in KVM whenever the vector may send and
 * takes it out around masks and message changes (msix.h).
 */
int virq_kvm_irqfd_bind(struct virq_kvm *k, int eventfd, uint32_t gsi, uint32_t flags,
			int resamplefd);
int virq_kvm_irqfd_unbind(struct virq_kvm *k, int eventfd, uint32_t gsi);

struct virq_kvm_stats {
	uint64_t route_syncs;  /* KVM_SET_GSI_ROUTING calls */
	uint64_t routes;       /* entries in KVM's table now */
	uint64_t msis;	       /* KVM_SIGNAL_MSI calls */
	uint64_t eoi_exits;    /* virq_kvm_ioapic_eoi calls */
	uint64_t extints;      /* KVM_INTERRUPT injections */
	uint64_t kvm_irqfds;   /* irqfds bound in KVM now */
	uint64_t virq_irqfds;  /* irqfds bound through virq now */
	uint64_t irqfds_moved; /* moved from KVM to virq by a route change */
	uint64_t msix_irqfds;  /* MSI-X vectors' eventfds in KVM now */
};
void virq_kvm_get_stats(struct virq_kvm *k, struct virq_kvm_stats *st);

#ifdef __cplusplus
}
#endif
#endif
