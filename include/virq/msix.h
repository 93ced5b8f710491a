/* SPDX-License-Identifier: MIT */
#ifndef VIRQ_MSIX_H
#define VIRQ_MSIX_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct virq_vm;
struct virq_device;

/*
 * MSI-X: the vector table and Pending Bit Array of one PCI function, and
 * the Message Control bits of its capability, handled entirely by virq
 * (docs/msix.md).  An MSI-X function is a virq device of type "msix":
 * destroy it with virq_device_destroy(), save and restore it through its
 * attributes, reset it with virq_device_reset() (FLR).
 *
 * Each vector the guest has unmasked while MSI-X is enabled gets a GSI of
 * its own, allocated by virq (lazily, at the first unmask) and routed as
 * an MSI carrying the entry's address and data; the vector is delivered
 * through that route, so a doorbell device, the VMM's msi sink and route
 * observers (a KVM mirror) all see it.  Disabling MSI-X frees the GSIs.
 * Those GSIs belong to the MSI-X device: the VMM must not change them,
 * and must bind eventfds for a vector only with virq_msix_bind_irqfd (a
 * virq_irqfd_bind / KVM irqfd on the vector's GSI would bypass the mask
 * and the PBA: messages sent while masked, pending bits lost).
 */

#define VIRQ_MSIX_MAX_VECTORS 2048u
#define VIRQ_MSIX_ENTRY_SIZE 16u

/* Message Control (config space, capability offset + 2) */
#define VIRQ_MSIX_CTRL_ENABLE (1u << 15)
#define VIRQ_MSIX_CTRL_MASKALL (1u << 14)
#define VIRQ_MSIX_CTRL_SIZE 0x7ffu /* table size - 1, read-only */

/* Vector Control (dword 3 of an entry): bit 0 masks the vector */
#define VIRQ_MSIX_VECTOR_MASKED (1u << 0)

/* A vector without a GSI. */
#define VIRQ_MSIX_NO_GSI UINT32_MAX

/* One table entry, as the guest sees it. */
struct virq_msix_entry {
	uint32_t address_lo;
	uint32_t address_hi;
	uint32_t data;
	uint32_t ctrl; /* VIRQ_MSIX_VECTOR_MASKED; other bits read as 0 */
};

struct virq_msix_ops {
	/*
	 * Vector @vector's route changed: it got a GSI, its address/data
	 * reached the route, or its GSI was freed (@gsi VIRQ_MSIX_NO_GSI).
	 * @e is the entry the route now carries.  For VFIO / vhost
	 * re-programming.  Mask changes are not route changes: see
	 * mask_changed.
	 * Locks: called under the VM's configuration lock, never under an
	 * MSI-X lock, in the order the changes were made: it may read MSI-X
	 * state and routes; it must not unbind irqfds or destroy devices.
	 * A restore (VIRQ_MSIX_GRP_SYNC) calls it for every vector that has
	 * a GSI, provided MSI-X is enabled in the restored state (a disabled
	 * function holds no GSI).
	 */
	void (*route_changed)(void *opaque, struct virq_device *dev, uint32_t vector,
			      uint32_t gsi, const struct virq_msix_entry *e);
	/*
	 * Vector @vector became masked (@masked true) or unmasked: its mask
	 * bit, the function mask or MSI-X enable changed.  For a VMM that
	 * delivers a vector around virq (VFIO/KVM bypass) and must follow
	 * the guest's masks.  Called with the vector's lock held, before the
	 * write that changed it returns, in order; it must not call into
	 * this MSI-X device.  SYNC calls it once for every vector with its
	 * restored state; a reset for every vector it masks.
	 */
	void (*mask_changed)(void *opaque, struct virq_device *dev, uint32_t vector,
			     bool masked);
};

/* virq_msix_config.flags: devid is valid (an ARM ITS needs it) */
#define VIRQ_MSIX_DEVID (1u << 0)

struct virq_msix_config {
	uint32_t nr_vectors; /* 1..VIRQ_MSIX_MAX_VECTORS */
	uint32_t flags;	     /* VIRQ_MSIX_DEVID */
	uint32_t devid;	     /* routes carry it with VIRQ_MSI_VALID_DEVID */
	/*
	 * GSIs virq may take for the vectors: [gsi_base, gsi_base +
	 * gsi_count), a GSI qualifying while nothing is routed there.
	 * gsi_count 0 = from gsi_base to the route limit.
	 */
	uint32_t gsi_base;
	uint32_t gsi_count;
	struct virq_msix_ops ops; /* any member may be NULL */
	void *opaque;
};

/*
 * Create an MSI-X function: all vectors masked, MSI-X disabled, PBA
 * clear.  -EINVAL bad config, -ENOMEM (reason in virq_last_error()).
 */
int virq_msix_create(struct virq_vm *vm, const struct virq_msix_config *cfg,
		     struct virq_device **out);

/*
 * Guest accesses to the table and the PBA, @offset relative to each
 * structure (the VMM knows where its BAR put them).  Only aligned 4- and
 * 8-byte accesses inside the structure are performed; anything else is
 * dropped whole, counted and reported as a guest error, and reads of it
 * return all ones.  The PBA is read-only (writes dropped).  Returns 0,
 * or -EINVAL if @dev is not an MSI-X device or @val is NULL.
 * A write that masks a vector returns only when no message of that
 * vector is in flight (the guest's mask + read-back flush).  A write
 * whose route cannot be made (no free GSI) is still performed: the
 * vector latches, the failure is counted and reported as a guest error,
 * and the vector is retried (docs/msix.md).
 */
int virq_msix_table_read(struct virq_device *dev, uint64_t offset, unsigned size,
			 uint64_t *val);
int virq_msix_table_write(struct virq_device *dev, uint64_t offset, unsigned size,
			  uint64_t val);
int virq_msix_pba_read(struct virq_device *dev, uint64_t offset, unsigned size,
		       uint64_t *val);
int virq_msix_pba_write(struct virq_device *dev, uint64_t offset, unsigned size,
			uint64_t val);

/*
 * Optionally place the table and the PBA in the VM's MMIO map, so
 * virq_io_read/virq_io_write reach them (regions 0 and 1 of the device).
 * Call again to move them (a BAR reprogrammed).  -EEXIST on overlap.
 */
int virq_msix_map(struct virq_device *dev, uint64_t table_addr, uint64_t pba_addr);

/*
 * Message Control, as the VMM's config-space emulation sees the 16-bit
 * register: reads give enable, function mask and the table size; writes
 * take enable and function mask (other bits are read-only).  Enabling
 * routes every unmasked vector in one route commit; disabling frees
 * them in one.  Any write, even one that changes nothing, retries the
 * vectors left without a GSI.  Returns 0 once the register is written
 * (route failures as for table writes), -EINVAL not an MSI-X device.
 */
int virq_msix_ctrl_read(struct virq_device *dev, uint16_t *val);
int virq_msix_ctrl_write(struct virq_device *dev, uint16_t val);

/* virq_msix_notify / virq_msix_set_pending results */
#define VIRQ_MSIX_PENDING 0 /* masked: the PBA bit is set (now or already) */
#define VIRQ_MSIX_SENT 1    /* the message went out through the route */

/*
 * The device model fires @vector: sent at once if the vector is
 * unmasked (vector mask, function mask, MSI-X enable), else its PBA bit
 * is set and it is sent exactly once when it becomes unmasked.  Any
 * thread, concurrently.  -EINVAL @vector out of range.
 */
int virq_msix_notify(struct virq_device *dev, uint32_t vector);

/*
 * An eventfd that fires @vector as virq_msix_notify() does.  Masked
 * signals become pending bits.  Errors as virq_irqfd_bind (-EBUSY if the
 * eventfd is bound anywhere in the VM).  Unbind: when it returns,
 * nothing more is fired from @eventfd; not from a virq callback.
 * Destroying the device unbinds its eventfds.
 *
 * Without an irqfd accelerator the VM's irqfd engine serves it (worker
 * threads or poll mode, irqfd.h).  With one (the KVM backend attached,
 * and the device's whole GSI window inside KVM's table), the eventfd is
 * given to KVM (KVM_IRQFD on the vector's GSI) while the vector may
 * send -- unmasked, enabled, routed -- so its messages never enter
 * userspace; while it may not, it is bound nowhere and its signals wait
 * in the eventfd's counter, folded into the pending bit when the PBA is
 * read (by the guest or the VMM) and sent once at the unmask.  Around a
 * mask or message change the order is: unbind from KVM, change the
 * route, bind again (docs/msix.md).  The choice is made at bind time.
 * Such a binding holds virq's own duplicate of the eventfd: unbind it
 * before closing yours (destroying the device drops it too).
 */
int virq_msix_bind_irqfd(struct virq_device *dev, uint32_t vector, int eventfd);
int virq_msix_unbind_irqfd(struct virq_device *dev, uint32_t vector, int eventfd);

/*
 * VMM access to the table: get fills @e and, if @gsi is not NULL, the
 * vector's GSI (VIRQ_MSIX_NO_GSI if none).  set writes all four dwords as
 * one guest write would (route update, unmask delivering pending); the
 * entry is stored even if its route cannot be made, which returns
 * -ENOSPC (no free GSI: the vector latches and is retried) or the
 * router's error, with a reason.
 */
int virq_msix_get_entry(struct virq_device *dev, uint32_t vector,
			struct virq_msix_entry *e, uint32_t *gsi);
int virq_msix_set_entry(struct virq_device *dev, uint32_t vector,
			const struct virq_msix_entry *e);

/*
 * VMM access to the PBA.  get: 1 pending, 0 not.  set @pending true:
 * as virq_msix_notify (an unmasked vector is sent at once, it never
 * sits pending); false: the bit is cleared, nothing is sent (returns 1
 * if it was set).
 */
int virq_msix_get_pending(struct virq_device *dev, uint32_t vector);
int virq_msix_set_pending(struct virq_device *dev, uint32_t vector, bool pending);

struct virq_msix_stats {
	uint64_t notifies;     /* virq_msix_notify + irqfd fires + set_pending */
	uint64_t sent;	       /* sent at once */
	uint64_t latched;      /* masked: a clear PBA bit set */
	uint64_t coalesced;    /* masked: the PBA bit was already set */
	uint64_t pending_sent; /* PBA bits cleared by an unmask, message sent */
	/* guest accesses dropped (size, alignment, range, PBA write) */
	uint64_t dropped;
	uint64_t route_commits; /* router commits made by this device */
	/* passes that left a vector unrouted (no GSI, commit refused) */
	uint64_t route_failures;
	uint64_t gsis; /* GSIs held now */
	/* vectors that need a route and have none now: they latch, retried */
	uint64_t unrouted;
	/* eventfds bound through the VM's irqfd accelerator (KVM) now ... */
	uint64_t irqfds_direct;
	/* ... of which in the accelerator now (their vector may send) */
	uint64_t irqfds_assigned;
	uint64_t direct_moves;	  /* assigns + deassigns done */
	uint64_t direct_failures; /* assigns or deassigns refused */
};
int virq_msix_get_stats(struct virq_device *dev, struct virq_msix_stats *st);

/*
 * Attributes (virq_device_get_attr / set_attr).  Setting state stores it
 * and delivers nothing, touching no route; SYNC, written last by a
 * restore, re-creates the routes (one commit: a route already at a saved
 * GSI is adopted only if it is exactly the vector's, else the vector gets
 * a fresh GSI), tells route_changed about every routed vector and
 * mask_changed about every vector, and sends what the restored state
 * holds pending on vectors that are unmasked.  SYNC returns -ENOSPC (the
 * other vectors routed) if a vector needing a route got no GSI.
 */
/* attr 0: u32 Message Control (enable, mask all); attr 1: u32 vector
 * count (read-only) */
#define VIRQ_MSIX_GRP_CTRL 1
/* attr = vector: struct virq_msix_entry */
#define VIRQ_MSIX_GRP_TABLE 2
/* attr = n: u64, the pending bits of vectors 64n.. */
#define VIRQ_MSIX_GRP_PBA 3
/* attr = vector: u32 GSI or VIRQ_MSIX_NO_GSI; -EBUSY if another vector
 * (of this device or another) holds that GSI */
#define VIRQ_MSIX_GRP_GSI 4
/* attr 0, size 0, write-only */
#define VIRQ_MSIX_GRP_SYNC 5

#ifdef __cplusplus
}
#endif
#endif
