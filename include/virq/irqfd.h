/* SPDX-License-Identifier: MIT */
#ifndef VIRQ_IRQFD_H
#define VIRQ_IRQFD_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct virq_vm;

/*
 * irqfd: an eventfd bound to a GSI.  A write to the eventfd injects the
 * GSI without the VMM's main loop: a pulse (1 then 0, source 0) on a
 * chip-pin GSI, one MSI on an MSI GSI.  The GSI's route is looked up at
 * each injection, so a bound irqfd follows route changes.
 *
 * Resample mode (VIRQ_IRQFD_RESAMPLE): the GSI is asserted and held under
 * source VIRQ_SOURCE_RESAMPLE; when the guest acknowledges it (a chip
 * calls virq_notify_ack()), the line is lowered once and every resamplefd
 * bound to that GSI is signalled, so a level-triggered back-end (VFIO
 * INTx) can re-check its line.  Works with every virq chip.
 */

#define VIRQ_IRQFD_RESAMPLE (1u << 0)

/*
 * Bind @eventfd to @gsi.  virq keeps its own reference to the eventfd
 * (and to @resamplefd), so the caller's descriptors are theirs to close;
 * closing the caller's @eventfd unbinds it automatically (noticed within
 * VIRQ_IRQFD_GC_MS, or at once when the number is bound again).
 * If the eventfd's counter is already nonzero, the GSI is injected once.
 * Errors: -EINVAL unknown flags, RESAMPLE without a resamplefd, or
 * @eventfd/@resamplefd not an eventfd; -EBADF a bad descriptor; -EBUSY
 * this eventfd (the same file, whatever its number) is bound already in
 * this VM; -EINVAL @gsi beyond the route limit.
 */
int virq_irqfd_bind(struct virq_vm *vm, int eventfd, uint32_t gsi, uint32_t flags,
		    int resamplefd);

/*
 * Unbind.  When it returns, nothing more is injected from @eventfd (an
 * injection in flight has finished).  Unbinding what is not bound
 * returns 0.  Removing the last resample irqfd of a GSI lowers the line
 * its resampler held.  Must not be called from a virq callback.
 */
int virq_irqfd_unbind(struct virq_vm *vm, int eventfd, uint32_t gsi);

#define VIRQ_IRQFD_GC_MS 250

/*
 * Poll mode (virq_vm_config.irqfd_workers = VIRQ_IRQFD_POLL): no virq
 * thread; the VMM adds this descriptor to its own event loop and calls
 * virq_irqfd_dispatch() when it is readable.  In thread mode the call
 * returns -EINVAL.
 */
int virq_irqfd_poll_fd(struct virq_vm *vm);

/*
 * Handle every irqfd event ready now (never blocks); returns how many
 * events were handled.
 */
int virq_irqfd_dispatch(struct virq_vm *vm);

struct virq_irqfd_stats {
	uint64_t bound;	       /* irqfds bound now */
	uint64_t wakeups;      /* eventfd reads that found a nonzero counter */
	uint64_t signals;      /* sum of the counters read (writes coalesce) */
	uint64_t resamples;    /* resampler acks (line lowered, fds signalled) */
	uint64_t auto_unbound; /* unbound because the caller closed the fd */
};
void virq_irqfd_get_stats(struct virq_vm *vm, struct virq_irqfd_stats *st);

/* ---- acknowledgement (chips and VMM observers) ---- */

/*
 * A chip calls this when the guest acknowledges (EOIs) pin @pin of chip
 * @chip, edge or level, without its chip lock held (a resampler lowers the
 * line through the same chip).  Runs the ack notifiers of the GSI that
 * the reverse map gives for (chip, pin).  Returns how many ran.
 */
int virq_notify_ack(struct virq_vm *vm, uint32_t chip, uint32_t pin);

/*
 * For the IOAPIC's unmask rule: a level pin unmasked with a stale remote
 * IRR and a resampler must not be re-injected; the resamplefds are
 * signalled instead.  Returns 1 if (chip, pin) has a resampler (and its
 * resamplefds were signalled), 0 if not.
 */
int virq_notify_resampler(struct virq_vm *vm, uint32_t chip, uint32_t pin);

/*
 * Ack notifiers (KVM's kvm_register_irq_ack_notifier): @fn runs when GSI
 * @gsi is acknowledged, on the acknowledging thread, possibly inside
 * another virq call; it must not unbind irqfds or destroy devices.
 */
typedef void (*virq_ack_fn)(void *opaque, uint32_t gsi);
int virq_ack_notifier_add(struct virq_vm *vm, uint32_t gsi, virq_ack_fn fn, void *opaque);
int virq_ack_notifier_remove(struct virq_vm *vm, uint32_t gsi, virq_ack_fn fn,
			     void *opaque);

/*
 * Mask notifiers (KVM's kvm_register_irq_mask_notifier): a chip calls
 * virq_notify_mask() when the guest masks or unmasks (chip, pin) (PIC
 * IMR, IOAPIC entry mask), without its chip lock held; @fn then runs for
 * the GSI, e.g. for a PIT model that stops counting lost ticks while its
 * pin is masked.  Same rules as ack notifiers.
 */
typedef void (*virq_mask_fn)(void *opaque, uint32_t gsi, bool masked);
int virq_notify_mask(struct virq_vm *vm, uint32_t chip, uint32_t pin, bool masked);
int virq_mask_notifier_add(struct virq_vm *vm, uint32_t gsi, virq_mask_fn fn,
			   void *opaque);
int virq_mask_notifier_remove(struct virq_vm *vm, uint32_t gsi, virq_mask_fn fn,
			      void *opaque);

#ifdef __cplusplus
}
#endif
#endif
