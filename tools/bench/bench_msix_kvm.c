/* SPDX-License-Identifier: MIT */
/*
 * virq-bench msix, under the KVM backend (skipped without /dev/kvm): what
 * an MSI-X eventfd in KVM costs against the same work through virq, in
 * the same run, on one vCPU that never runs (its in-kernel LAPIC takes
 * the messages):
 *   - a signal: an eventfd write on an unmasked vector, which KVM delivers
 *     inside the write, against virq_msix_notify of that vector (virq's
 *     path, ending in KVM_SIGNAL_MSI), and against an eventfd that virq's
 *     irqfd engine serves (a device whose GSI window KVM cannot hold):
 *     write, then wait until the worker has fired the vector;
 *   - a mask + unmask pair of a vector whose eventfd is in KVM (a
 *     KVM_IRQFD deassign and assign) against the same pair on a vector
 *     with no eventfd.
 */
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <virq/virq.h>

#include "bench.h"
#include "kvm_vm.h"

struct kvm_bench {
	struct kx x; /* the KVM test VM (tests/common/kvm_vm.h) */
	struct virq_device *d, *d_engine;
};

static int sink(void *opaque, const struct virq_msi *msi)
{
	return virq_kvm_signal_msi(((struct kvm_bench *)opaque)->x.k, msi);
}

static int open_all(struct kvm_bench *b)
{
	const struct virq_vm_config cfg = { .max_routes = 8192,
					    .ops = { .msi = sink },
					    .opaque = b };
	struct virq_msix_config mc = { .nr_vectors = 2, .gsi_base = 64, .gsi_count = 64 };

	if (!kx_usable() || kx_open(&b->x, &cfg))
		return -1;
	if (virq_msix_create(b->x.v, &mc, &b->d))
		return -1;
	mc.gsi_base = 4096; /* beyond KVM's table: the engine's */
	return virq_msix_create(b->x.v, &mc, &b->d_engine);
}

/* Vector @v: message to APIC 0, vector 0x40 + v, unmasked. */
static void program(struct virq_device *d, uint32_t v)
{
	struct virq_msix_entry e = { 0xfee00000u, 0, 0x40 + v, 0 };

	virq_msix_set_entry(d, v, &e);
}

static double mask_pairs(struct virq_device *d, uint32_t v, unsigned n)
{
	uint64_t off = v * VIRQ_MSIX_ENTRY_SIZE + 12;
	double t0 = now_ns();

	for (unsigned i = 0; i < n; i++) {
		virq_msix_table_write(d, off, 4, 1);
		virq_msix_table_write(d, off, 4, 0);
	}
	return (now_ns() - t0) / n;
}

static uint64_t notifies(struct virq_device *d)
{
	struct virq_msix_stats st;

	return virq_msix_get_stats(d, &st) ? 0 : st.notifies;
}

/* Write, then wait until virq's engine has fired it: ns per signal. */
static double engine_signals(struct virq_device *d, int fd, unsigned n)
{
	uint64_t base = notifies(d);
	double t0 = now_ns();

	for (unsigned i = 0; i < n; i++) {
		eventfd_write(fd, 1);
		while (notifies(d) == base + i)
			;
	}
	return (now_ns() - t0) / n;
}

void bench_msix_kvm(void)
{
	struct kvm_bench b = { .x = { .kvm = -1, .vm = -1, .vcpu = -1 } };
	unsigned n = quick ? 2000 : 50000;
	struct virq_msix_stats st;
	double t0, signal, notify, engine, pair_fd, pair;
	int fd = eventfd(0, EFD_CLOEXEC), fd_engine = eventfd(0, EFD_CLOEXEC);

	if (fd < 0 || fd_engine < 0 || open_all(&b)) {
		fprintf(stderr, "virq-bench: msix kvm: skipped, /dev/kvm unusable\n");
		goto out;
	}
	virq_msix_ctrl_write(b.d, VIRQ_MSIX_CTRL_ENABLE);
	virq_msix_ctrl_write(b.d_engine, VIRQ_MSIX_CTRL_ENABLE);
	program(b.d, 0);
	program(b.d, 1);
	program(b.d_engine, 0);
	if (virq_msix_bind_irqfd(b.d, 0, fd) || virq_msix_get_stats(b.d, &st) ||
	    st.irqfds_assigned != 1 || virq_msix_bind_irqfd(b.d_engine, 0, fd_engine) ||
	    virq_msix_get_stats(b.d_engine, &st) || st.irqfds_direct) {
		fprintf(stderr, "virq-bench: msix kvm: eventfd not in KVM: %s\n",
			virq_last_error());
		goto out;
	}
	t0 = now_ns();
	for (unsigned i = 0; i < n; i++)
		eventfd_write(fd, 1);
	signal = (now_ns() - t0) / n;
	t0 = now_ns();
	for (unsigned i = 0; i < n; i++)
		virq_msix_notify(b.d, 0);
	notify = (now_ns() - t0) / n;
	engine = engine_signals(b.d_engine, fd_engine, quick ? 200 : 5000);
	report("msix", "kvm_eventfd_signal", signal, "ns", notify, signal / notify);
	report("msix", "kvm_eventfd_signal_vs_engine", signal, "ns", engine,
	       engine / signal);
	pair_fd = mask_pairs(b.d, 0, n / 4);
	pair = mask_pairs(b.d, 1, n / 4);
	report("msix", "kvm_mask_unmask_with_eventfd", pair_fd / 1e3, "us", pair / 1e3,
	       pair_fd / pair);
out:
	kx_close(&b.x);
	if (fd >= 0)
		close(fd);
	if (fd_engine >= 0)
		close(fd_engine);
}
