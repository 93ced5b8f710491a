/* SPDX-License-Identifier: MIT */
/*
 * MSI-X eventfds under the KVM backend: in KVM (KVM_IRQFD) while the
 * vector may send, parked with their signals folded into the PBA while
 * it may not, and the order unbind -> route change -> bind around message
 * changes.  Delivery through KVM shows in the vCPU's LAPIC IRR without a
 * call to the msi sink; delivery through virq calls the sink.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kvm_fixture.h"

#define NR 4
#define GSI_BASE 64

static struct virq_device *msix_dev(uint32_t gsi_base)
{
	struct virq_msix_config cfg = {
		.nr_vectors = NR,
		.gsi_base = gsi_base,
		.gsi_count = 64,
	};
	struct virq_device *d;

	assert_int_equal(virq_msix_create(X.v, &cfg, &d), 0);
	return d;
}

static void ctrl(struct virq_device *d, uint16_t val)
{
	assert_int_equal(virq_msix_ctrl_write(d, val), 0);
}

/* Program vector @v as the guest does: message to APIC 0, @vector. */
static void entry(struct virq_device *d, uint32_t v, uint8_t vector, bool masked)
{
	uint64_t off = v * VIRQ_MSIX_ENTRY_SIZE;

	assert_int_equal(virq_msix_table_write(d, off, 4, 0xfee00000u), 0);
	assert_int_equal(virq_msix_table_write(d, off + 4, 4, 0), 0);
	assert_int_equal(virq_msix_table_write(d, off + 8, 4, vector), 0);
	assert_int_equal(virq_msix_table_write(d, off + 12, 4, masked), 0);
}

static void mask(struct virq_device *d, uint32_t v, bool masked)
{
	assert_int_equal(
		virq_msix_table_write(d, v * VIRQ_MSIX_ENTRY_SIZE + 12, 4, masked), 0);
}

static uint64_t pba(struct virq_device *d)
{
	uint64_t w;

	assert_int_equal(virq_msix_pba_read(d, 0, 8, &w), 0);
	return w;
}

static struct virq_msix_stats mstats(struct virq_device *d)
{
	struct virq_msix_stats st;

	assert_int_equal(virq_msix_get_stats(d, &st), 0);
	return st;
}

static unsigned sink_calls(void)
{
	return __atomic_load_n(&kx_sink_calls, __ATOMIC_RELAXED);
}

static void signal_fd(int fd)
{
	assert_int_equal(eventfd_write(fd, 1), 0);
}

/* Nothing arrived in the LAPIC (KVM injects from the signalling thread;
 * the wait covers an injection it deferred to a worker). */
static void assert_no_irr(uint8_t vector)
{
	usleep(20000);
	assert_false(lapic_irr_now(vector));
}

static void test_unmasked_vector_bypasses_userspace(void **state)
{
	struct virq_device *d = msix_dev(GSI_BASE);
	int fd = eventfd(0, EFD_CLOEXEC);
	unsigned calls;

	(void)state;
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	entry(d, 0, 0x40, false);
	assert_int_equal(virq_msix_bind_irqfd(d, 0, fd), 0);
	assert_int_equal(mstats(d).irqfds_direct, 1);
	assert_int_equal(mstats(d).irqfds_assigned, 1);
	assert_int_equal(stats().msix_irqfds, 1);
	calls = sink_calls();
	for (int i = 0; i < 3; i++) {
		clear_irr();
		signal_fd(fd);
		assert_true(lapic_irr(0x40));
	}
	assert_int_equal(sink_calls(), calls);
	assert_int_equal(mstats(d).notifies, 0);
	assert_int_equal(virq_msix_unbind_irqfd(d, 0, fd), 0);
	assert_int_equal(stats().msix_irqfds, 0);
	close(fd);
}

static void test_masked_signals_latch_and_unmask_sends_once(void **state)
{
	struct virq_device *d = msix_dev(GSI_BASE);
	int fd = eventfd(0, EFD_CLOEXEC);
	unsigned calls;

	(void)state;
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	entry(d, 1, 0x41, true);
	assert_int_equal(virq_msix_bind_irqfd(d, 1, fd), 0);
	assert_int_equal(mstats(d).irqfds_assigned, 0);
	assert_int_equal(stats().msix_irqfds, 0);
	calls = sink_calls();
	for (int i = 0; i < 3; i++)
		signal_fd(fd);
	assert_no_irr(0x41);
	/* the guest's PBA read sees the signals, once */
	assert_int_equal(pba(d), 1u << 1);
	assert_int_equal(mstats(d).latched, 1);
	assert_int_equal(virq_msix_get_pending(d, 1), 1);
	signal_fd(fd); /* after the read: coalesces at the unmask */
	mask(d, 1, false);
	assert_int_equal(sink_calls(), calls + 1); /* the pending message */
	assert_true(lapic_irr(0x41));
	assert_int_equal(pba(d), 0);
	assert_int_equal(mstats(d).pending_sent, 1);
	assert_int_equal(mstats(d).coalesced, 1);
	assert_int_equal(stats().msix_irqfds, 1);
	/* now straight through KVM */
	clear_irr();
	signal_fd(fd);
	assert_true(lapic_irr(0x41));
	assert_int_equal(sink_calls(), calls + 1);
	close(fd);
}

static void test_mask_takes_it_out_of_kvm(void **state)
{
	struct virq_device *d = msix_dev(GSI_BASE);
	int fd = eventfd(0, EFD_CLOEXEC);

	(void)state;
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	entry(d, 2, 0x42, false);
	assert_int_equal(virq_msix_bind_irqfd(d, 2, fd), 0);
	mask(d, 2, true);
	/* out of KVM when the mask write returns */
	assert_int_equal(stats().msix_irqfds, 0);
	assert_int_equal(mstats(d).irqfds_assigned, 0);
	signal_fd(fd);
	assert_no_irr(0x42);
	assert_int_equal(virq_msix_get_pending(d, 2), 1);
	/* the function mask does the same for every vector */
	mask(d, 2, false);
	assert_true(lapic_irr(0x42));
	clear_irr();
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE | VIRQ_MSIX_CTRL_MASKALL);
	assert_int_equal(stats().msix_irqfds, 0);
	signal_fd(fd);
	assert_no_irr(0x42);
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	assert_true(lapic_irr(0x42));
	assert_int_equal(stats().msix_irqfds, 1);
	close(fd);
}

/* What the route observer saw at the commit of a message change; it
 * signals @fd there if it is not -1. */
struct seen {
	unsigned commits;
	uint64_t msix_irqfds;
	int fd;
};

static void observe(void *opaque, struct virq_vm *vm, const uint32_t *gsis, size_t nr)
{
	struct seen *s = opaque;

	(void)vm;
	(void)gsis;
	(void)nr;
	s->commits++;
	s->msix_irqfds = stats().msix_irqfds;
	if (s->fd >= 0)
		assert_int_equal(eventfd_write(s->fd, 1), 0);
}

static void test_message_change_unbinds_routes_then_binds(void **state)
{
	struct virq_device *d = msix_dev(GSI_BASE);
	int fd = eventfd(0, EFD_CLOEXEC);
	struct seen s = { .fd = -1 };
	uint64_t syncs;

	(void)state;
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	entry(d, 0, 0x43, false);
	assert_int_equal(virq_msix_bind_irqfd(d, 0, fd), 0);
	assert_int_equal(stats().msix_irqfds, 1);
	syncs = stats().route_syncs;
	assert_int_equal(virq_route_observe(X.v, observe, &s), 0);
	/* unmasked, new data: the guest should mask first, but may not */
	assert_int_equal(virq_msix_table_write(d, 8, 4, 0x44), 0);
	assert_int_equal(virq_route_unobserve(X.v, observe, &s), 0);
	assert_int_equal(s.commits, 1);
	assert_int_equal(s.msix_irqfds, 0); /* unbound before the route moved */
	assert_int_equal(stats().route_syncs, syncs + 1); /* the route change */
	assert_int_equal(stats().msix_irqfds, 1);	  /* bound again after */
	clear_irr();
	signal_fd(fd);
	assert_true(lapic_irr(0x44));
	assert_false(lapic_irr_now(0x43));
	close(fd);
}

/* A signal while the eventfd is out of KVM for a message change is sent
 * once, to the new message, by virq. */
static void test_signal_during_message_change(void **state)
{
	struct virq_device *d = msix_dev(GSI_BASE);
	int fd = eventfd(0, EFD_CLOEXEC);
	struct seen s = { .fd = fd };
	unsigned calls;

	(void)state;
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	entry(d, 2, 0x4c, false);
	assert_int_equal(virq_msix_bind_irqfd(d, 2, fd), 0);
	calls = sink_calls();
	clear_irr();
	assert_int_equal(virq_route_observe(X.v, observe, &s), 0);
	assert_int_equal(virq_msix_table_write(d, 2 * 16 + 8, 4, 0x4d), 0);
	assert_int_equal(virq_route_unobserve(X.v, observe, &s), 0);
	assert_int_equal(s.commits, 1);
	assert_int_equal(sink_calls(), calls + 1);
	assert_true(lapic_irr(0x4d));
	assert_false(lapic_irr_now(0x4c));
	assert_int_equal(mstats(d).pending_sent, 1);
	assert_int_equal(stats().msix_irqfds, 1);
	close(fd);
}

static void test_disable_and_reenable(void **state)
{
	struct virq_device *d = msix_dev(GSI_BASE);
	int fd = eventfd(0, EFD_CLOEXEC);
	uint32_t gsi;

	(void)state;
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	entry(d, 3, 0x45, false);
	assert_int_equal(virq_msix_bind_irqfd(d, 3, fd), 0);
	ctrl(d, 0);
	assert_int_equal(stats().msix_irqfds, 0);
	assert_int_equal(mstats(d).gsis, 0);
	signal_fd(fd);
	assert_no_irr(0x45);
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	assert_true(lapic_irr(0x45)); /* pending from the disabled time */
	assert_int_equal(stats().msix_irqfds, 1);
	assert_int_equal(virq_msix_get_entry(d, 3, &(struct virq_msix_entry){ 0 }, &gsi),
			 0);
	assert_true(gsi >= GSI_BASE && gsi < GSI_BASE + 64);
	clear_irr();
	signal_fd(fd);
	assert_true(lapic_irr(0x45));
	close(fd);
}

static void test_unbind_keeps_what_was_signalled(void **state)
{
	struct virq_device *d = msix_dev(GSI_BASE);
	int fd = eventfd(0, EFD_CLOEXEC);

	(void)state;
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	entry(d, 0, 0x46, true);
	assert_int_equal(virq_msix_bind_irqfd(d, 0, fd), 0);
	signal_fd(fd);
	assert_int_equal(virq_msix_unbind_irqfd(d, 0, fd), 0);
	assert_int_equal(mstats(d).irqfds_direct, 0);
	assert_int_equal(virq_msix_get_pending(d, 0), 1);
	/* unbound: nothing more comes from it */
	mask(d, 0, false);
	assert_true(lapic_irr(0x46));
	clear_irr();
	signal_fd(fd);
	assert_no_irr(0x46);
	assert_int_equal(virq_msix_get_pending(d, 0), 0);
	close(fd);
}

static void test_busy_and_engine_fallback(void **state)
{
	struct virq_device *d = msix_dev(GSI_BASE);
	struct virq_device *low = msix_dev(0); /* its window takes IOAPIC GSIs */
	int fd = eventfd(0, EFD_CLOEXEC), fd2 = eventfd(0, EFD_CLOEXEC);
	struct virq_route_entry r = { .kind = VIRQ_ROUTE_MSI };
	struct virq_route_txn *txn;
	uint32_t gsi = 5;
	unsigned calls;

	(void)state;
	/* a restored GSI outside the window (5 would not be KVM's) */
	assert_int_equal(virq_device_set_attr(d, VIRQ_MSIX_GRP_GSI, 0, &gsi, 4), -EINVAL);
	assert_int_equal(virq_msix_bind_irqfd(d, 0, fd), 0);
	assert_int_equal(virq_msix_bind_irqfd(d, 1, fd), -EBUSY);
	assert_int_equal(virq_msix_bind_irqfd(low, 1, fd), -EBUSY);
	assert_int_equal(virq_irqfd_bind(X.v, fd, 30, 0, -1), -EBUSY);
	assert_int_equal(virq_irqfd_bind(X.v, fd2, 30, 0, -1), 0);
	assert_int_equal(virq_msix_bind_irqfd(d, 1, fd2), -EBUSY);
	assert_int_equal(virq_irqfd_unbind(X.v, fd2, 30), 0);
	/* the backend's own irqfds, in KVM or not, and MSI-X's exclude each
	 * other: two consumers of one counter would steal signals */
	r.gsi = 40;
	r.u.msi.address_lo = 0xfee00000u;
	r.u.msi.data = 0x4e;
	assert_int_equal(virq_route_begin(X.v, &txn), 0);
	assert_int_equal(virq_route_add(txn, &r), 0);
	assert_int_equal(virq_route_commit(txn), 0);
	assert_int_equal(virq_kvm_irqfd_bind(X.k, fd, 40, 0, -1), -EBUSY);
	assert_int_equal(virq_kvm_irqfd_bind(X.k, fd2, 40, 0, -1), 0);
	assert_int_equal(stats().kvm_irqfds, 1);
	assert_int_equal(virq_msix_bind_irqfd(d, 1, fd2), -EBUSY);
	assert_int_equal(virq_kvm_irqfd_unbind(X.k, fd2, 40), 0);

	/* a window KVM cannot hold whole: virq's engine serves the vector */
	ctrl(low, VIRQ_MSIX_CTRL_ENABLE);
	entry(low, 0, 0x47, false);
	assert_int_equal(virq_msix_bind_irqfd(low, 0, fd2), 0);
	assert_int_equal(mstats(low).irqfds_direct, 0);
	calls = sink_calls();
	signal_fd(fd2);
	assert_true(lapic_irr(0x47));
	assert_int_equal(sink_calls(), calls + 1);
	assert_int_equal(virq_msix_unbind_irqfd(low, 0, fd2), 0);
	close(fd);
	close(fd2);
}

static void test_detach_moves_eventfds_to_virq(void **state)
{
	struct virq_device *d = msix_dev(GSI_BASE);
	int fd = eventfd(0, EFD_CLOEXEC), fd2 = eventfd(0, EFD_CLOEXEC);
	struct virq_kvm *k = X.k;
	unsigned calls;

	(void)state;
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	entry(d, 0, 0x48, true);
	entry(d, 1, 0x49, false);
	assert_int_equal(virq_msix_bind_irqfd(d, 0, fd), 0);
	assert_int_equal(virq_msix_bind_irqfd(d, 1, fd2), 0);
	signal_fd(fd); /* parked */
	/* the engine serves the eventfds now: the sink counts what it sends */
	__atomic_store_n(&X.k, NULL, __ATOMIC_RELAXED);
	virq_kvm_detach(k);
	assert_int_equal(mstats(d).irqfds_direct, 0);
	/* past the engine's closed-descriptor sweep (VIRQ_IRQFD_GC_MS): the
	 * moved bindings are virq's, not the caller's numbers */
	usleep(600000);
	calls = sink_calls();
	for (int i = 0; i < 1000 && !virq_msix_get_pending(d, 0); i++)
		usleep(1000);
	assert_int_equal(virq_msix_get_pending(d, 0), 1);
	signal_fd(fd2);
	for (int i = 0; i < 1000 && sink_calls() == calls; i++)
		usleep(1000);
	assert_int_equal(sink_calls(), calls + 1);
	/* unbound from the engine by the same call */
	assert_int_equal(virq_msix_unbind_irqfd(d, 1, fd2), 0);
	signal_fd(fd2);
	usleep(20000);
	assert_int_equal(sink_calls(), calls + 1);
	close(fd);
	close(fd2);
}

static void test_reset_snapshot_destroy(void **state)
{
	struct virq_device *d = msix_dev(GSI_BASE);
	int fd = eventfd(0, EFD_CLOEXEC), fd2 = eventfd(0, EFD_CLOEXEC);
	uint64_t w = 0;

	(void)state;
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	entry(d, 0, 0x4a, false);
	entry(d, 2, 0x4b, true);
	assert_int_equal(virq_msix_bind_irqfd(d, 0, fd), 0);
	assert_int_equal(virq_msix_bind_irqfd(d, 2, fd2), 0);
	/* a snapshot's PBA holds what waits in a parked counter */
	signal_fd(fd2);
	assert_int_equal(virq_device_get_attr(d, VIRQ_MSIX_GRP_PBA, 0, &w, 8), 0);
	assert_int_equal(w, 1u << 2);
	/* FLR: everything masked, out of KVM, nothing pending */
	signal_fd(fd2);
	assert_int_equal(stats().msix_irqfds, 1);
	assert_int_equal(virq_device_reset(d), 0);
	assert_int_equal(stats().msix_irqfds, 0);
	assert_int_equal(pba(d), 0);
	ctrl(d, VIRQ_MSIX_CTRL_ENABLE);
	entry(d, 0, 0x4a, false);
	assert_int_equal(stats().msix_irqfds, 1);
	/* destroying the device takes its eventfds out of KVM */
	assert_int_equal(virq_device_destroy(d), 0);
	assert_int_equal(stats().msix_irqfds, 0);
	/* and they are free to bind again */
	assert_int_equal(virq_irqfd_bind(X.v, fd, 30, 0, -1), 0);
	assert_int_equal(virq_irqfd_unbind(X.v, fd, 30), 0);
	close(fd);
	close(fd2);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_unmasked_vector_bypasses_userspace),
		T(test_masked_signals_latch_and_unmask_sends_once),
		T(test_mask_takes_it_out_of_kvm),
		T(test_message_change_unbinds_routes_then_binds),
		T(test_signal_during_message_change),
		T(test_disable_and_reenable),
		T(test_unbind_keeps_what_was_signalled),
		T(test_busy_and_engine_fallback),
		T(test_detach_moves_eventfds_to_virq),
		T(test_reset_snapshot_destroy),
	};

	return RUN_KVM_TESTS(tests);
}
