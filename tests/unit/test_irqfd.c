/* SPDX-License-Identifier: MIT */
/* irqfd / resamplefd rules of spec/routing-irqfd.md, through real eventfds. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

#define GSI_PIN 5u  /* IOAPIC pin 5 */
#define GSI_MSI 40u /* MSI to the doorbell chip */

struct ifx {
	struct fixture f;
	bool poll;
};

static int setup(void **state, uint32_t workers)
{
	static struct ifx x;
	struct virq_vm_config cfg = { .nr_vcpus = 2, .irqfd_workers = workers };

	memset(&x, 0, sizeof(x));
	assert_int_equal(testchip_register(), 0);
	assert_int_equal(virq_vm_create(&cfg, &x.f.vm), 0);
	x.f.ioapic = fixture_chip(x.f.vm, CHIP_IOAPIC, 24, 0, 0);
	x.f.pic_m = fixture_chip(x.f.vm, CHIP_PIC_MASTER, 8, 0, 0);
	x.f.msi = fixture_chip(x.f.vm, 10, 1, 0, MSI_DOORBELL);
	assert_int_equal(route_add1(x.f.vm, chip_entry(GSI_PIN, CHIP_IOAPIC, 5)), 0);
	assert_int_equal(route_add1(x.f.vm, msi_entry(GSI_MSI, 0x41)), 0);
	x.poll = workers == VIRQ_IRQFD_POLL;
	*state = &x;
	return 0;
}

static int setup_thread(void **state)
{
	return setup(state, 1);
}

static int setup_poll(void **state)
{
	return setup(state, VIRQ_IRQFD_POLL);
}

static int teardown(void **state)
{
	struct ifx *x = *state;

	virq_vm_destroy(x->f.vm);
	return 0;
}

static void signal_fd(int fd, uint64_t n)
{
	assert_int_equal(write(fd, &n, sizeof(n)), sizeof(n));
}

static uint64_t drain(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Thread mode: wait (bounded) until @get(@dev, @arg) reaches @want. */
static uint64_t wait_for(uint64_t (*get)(struct virq_device *, uint32_t),
			 struct virq_device *dev, uint32_t arg, uint64_t want)
{
	uint64_t v = 0;

	for (int i = 0; i < 5000; i++) {
		v = get(dev, arg);
		if (v >= want)
			break;
		sleep_ms(1);
	}
	return v;
}

static uint64_t msis_of(struct virq_device *dev, uint32_t unused)
{
	(void)unused;
	return testchip_msis(dev);
}

static void test_bind_errors(void **state)
{
	struct ifx *x = *state;
	int efd = eventfd(0, EFD_NONBLOCK), rfd = eventfd(0, EFD_NONBLOCK), p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(virq_irqfd_bind(x->f.vm, efd, GSI_PIN, 2, -1), -EINVAL);
	assert_int_equal(virq_irqfd_bind(x->f.vm, efd, GSI_PIN, VIRQ_IRQFD_RESAMPLE, -1),
			 -EINVAL);
	assert_int_equal(
		virq_irqfd_bind(x->f.vm, efd, GSI_PIN, VIRQ_IRQFD_RESAMPLE, p[0]),
		-EINVAL);
	assert_int_equal(virq_irqfd_bind(x->f.vm, p[0], GSI_PIN, 0, -1), -EINVAL);
	assert_true(strstr(virq_last_error(), "not an eventfd") != NULL);
	assert_int_equal(virq_irqfd_bind(x->f.vm, 12345, GSI_PIN, 0, -1), -EBADF);
	assert_int_equal(virq_irqfd_bind(x->f.vm, efd, 4096, 0, -1), -EINVAL);

	/* bound twice, under any number and any GSI: EBUSY */
	assert_int_equal(virq_irqfd_bind(x->f.vm, efd, GSI_PIN, 0, -1), 0);
	assert_int_equal(virq_irqfd_bind(x->f.vm, efd, GSI_PIN, 0, -1), -EBUSY);
	assert_int_equal(virq_irqfd_bind(x->f.vm, efd, GSI_MSI, 0, -1), -EBUSY);
	int d = dup(efd);
	assert_int_equal(virq_irqfd_bind(x->f.vm, d, GSI_MSI, 0, -1), -EBUSY);

	/* unbinding what is not bound is fine; a bad fd is not */
	assert_int_equal(virq_irqfd_unbind(x->f.vm, rfd, GSI_PIN), 0);
	assert_int_equal(virq_irqfd_unbind(x->f.vm, efd, GSI_MSI), 0);
	assert_int_equal(virq_irqfd_unbind(x->f.vm, 12345, GSI_PIN), -EBADF);
	/* unbind through the dup: the same eventfd */
	assert_int_equal(virq_irqfd_unbind(x->f.vm, d, GSI_PIN), 0);
	struct virq_irqfd_stats st;
	virq_irqfd_get_stats(x->f.vm, &st);
	assert_int_equal(st.bound, 0);
	assert_int_equal(virq_irqfd_bind(x->f.vm, d, GSI_PIN, 0, -1), 0);

	assert_int_equal(virq_irqfd_poll_fd(x->f.vm), -EINVAL);
	assert_int_equal(virq_irqfd_dispatch(x->f.vm), -EINVAL);
	close(d);
	close(efd);
	close(rfd);
	close(p[0]);
	close(p[1]);
}

static void test_pulse_on_pin(void **state)
{
	struct ifx *x = *state;
	int efd = eventfd(0, EFD_NONBLOCK);

	assert_int_equal(virq_irqfd_bind(x->f.vm, efd, GSI_PIN, 0, -1), 0);
	signal_fd(efd, 1);
	assert_int_equal(wait_for(testchip_asserts, x->f.ioapic, 5, 1), 1);
	/* a pulse: up then down, under source 0 */
	assert_int_equal(wait_for(testchip_calls, x->f.ioapic, 5, 2), 2);
	assert_int_equal(testchip_rising(x->f.ioapic, 5), 1);
	assert_int_equal(testchip_level(x->f.ioapic, 5), 0);
	close(efd);
}

static void test_msi_route(void **state)
{
	struct ifx *x = *state;
	int efd = eventfd(0, EFD_NONBLOCK);

	assert_int_equal(virq_irqfd_bind(x->f.vm, efd, GSI_MSI, 0, -1), 0);
	signal_fd(efd, 1);
	assert_int_equal(wait_for(msis_of, x->f.msi, 0, 1), 1);
	assert_int_equal(testchip_last_msi(x->f.msi).data, 0x41);
	close(efd);
}

static void test_counter_coalesces(void **state)
{
	struct ifx *x = *state;
	int efd = eventfd(0, EFD_NONBLOCK), pfd = virq_irqfd_poll_fd(x->f.vm);
	struct virq_irqfd_stats st;

	assert_true(pfd >= 0);
	assert_int_equal(virq_irqfd_bind(x->f.vm, efd, GSI_MSI, 0, -1), 0);
	signal_fd(efd, 1);
	signal_fd(efd, 1);
	signal_fd(efd, 5);
	assert_int_equal(virq_irqfd_dispatch(x->f.vm), 1);
	assert_int_equal(testchip_msis(x->f.msi), 1);
	virq_irqfd_get_stats(x->f.vm, &st);
	assert_int_equal(st.wakeups, 1);
	assert_int_equal(st.signals, 7);
	/* consumed: nothing more to do */
	assert_int_equal(virq_irqfd_dispatch(x->f.vm), 0);
	assert_int_equal(drain(efd), 0);
	close(efd);
}

static void test_nonzero_counter_at_bind(void **state)
{
	struct ifx *x = *state;
	int efd = eventfd(2, EFD_NONBLOCK);

	assert_int_equal(virq_irqfd_bind(x->f.vm, efd, GSI_PIN, 0, -1), 0);
	assert_int_equal(virq_irqfd_dispatch(x->f.vm), 1);
	assert_int_equal(testchip_asserts(x->f.ioapic, 5), 1);
	assert_int_equal(virq_irqfd_dispatch(x->f.vm), 0);
	close(efd);
}

static void test_follows_route_change(void **state)
{
	struct ifx *x = *state;
	int efd = eventfd(0, EFD_NONBLOCK);

	assert_int_equal(virq_irqfd_bind(x->f.vm, efd, GSI_PIN, 0, -1), 0);
	signal_fd(efd, 1);
	assert_int_equal(virq_irqfd_dispatch(x->f.vm), 1);
	assert_int_equal(testchip_asserts(x->f.ioapic, 5), 1);

	/* the GSI becomes an MSI: the same irqfd now sends MSIs */
	struct virq_route_txn *t;
	struct virq_route_entry m = msi_entry(GSI_PIN, 0x77);
	assert_int_equal(virq_route_begin(x->f.vm, &t), 0);
	assert_int_equal(virq_route_remove_gsi(t, GSI_PIN), 0);
	assert_int_equal(virq_route_add(t, &m), 0);
	assert_int_equal(virq_route_commit(t), 0);
	signal_fd(efd, 1);
	assert_int_equal(virq_irqfd_dispatch(x->f.vm), 1);
	assert_int_equal(testchip_msis(x->f.msi), 1);
	assert_int_equal(testchip_last_msi(x->f.msi).data, 0x77);
	assert_int_equal(testchip_asserts(x->f.ioapic, 5), 1);
	close(efd);
}

struct hammer {
	int fd;
	bool stop; /* atomic */
	uint64_t writes;
};

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;
	uint64_t one = 1;

	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE))
		if (write(h->fd, &one, sizeof(one)) == sizeof(one))
			h->writes++;
	return NULL;
}

static void test_nothing_after_unbind(void **state)
{
	struct ifx *x = *state;
	struct hammer h = { .fd = eventfd(0, EFD_NONBLOCK) };
	uint64_t at_unbind;
	pthread_t th;

	assert_int_equal(virq_irqfd_bind(x->f.vm, h.fd, GSI_MSI, 0, -1), 0);
	assert_int_equal(pthread_create(&th, NULL, hammer_fn, &h), 0);
	assert_true(wait_for(msis_of, x->f.msi, 0, 50) >= 50);
	assert_int_equal(virq_irqfd_unbind(x->f.vm, h.fd, GSI_MSI), 0);
	at_unbind = testchip_msis(x->f.msi);
	sleep_ms(100); /* the writer keeps writing */
	__atomic_store_n(&h.stop, true, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(testchip_msis(x->f.msi), at_unbind);
	assert_true(h.writes > at_unbind);
	close(h.fd);
}

/* Poll mode: signal resample irqfd @efd of GSI_PIN; the line is held. */
static void hold_line(struct ifx *x, int efd)
{
	signal_fd(efd, 1);
	assert_int_equal(virq_irqfd_dispatch(x->f.vm), 1);
	assert_int_equal(testchip_level(x->f.ioapic, 5), 1);
}

static void test_resample_shared_gsi(void **state)
{
	struct ifx *x = *state;
	int e1 = eventfd(0, EFD_NONBLOCK), e2 = eventfd(0, EFD_NONBLOCK);
	int r1 = eventfd(0, EFD_NONBLOCK), r2 = eventfd(0, EFD_NONBLOCK);
	struct virq_irqfd_stats st;
	uint64_t calls;

	assert_int_equal(virq_irqfd_bind(x->f.vm, e1, GSI_PIN, VIRQ_IRQFD_RESAMPLE, r1),
			 0);
	assert_int_equal(virq_irqfd_bind(x->f.vm, e2, GSI_PIN, VIRQ_IRQFD_RESAMPLE, r2),
			 0);
	signal_fd(e1, 1);
	signal_fd(e2, 1);
	assert_int_equal(virq_irqfd_dispatch(x->f.vm), 2);
	/* asserted and held: one rising edge for both */
	assert_int_equal(testchip_level(x->f.ioapic, 5), 1);
	assert_int_equal(testchip_rising(x->f.ioapic, 5), 1);
	assert_int_equal(testchip_asserts(x->f.ioapic, 5), 2);
	calls = testchip_calls(x->f.ioapic, 5);
	assert_int_equal(drain(r1), 0);

	/* the guest's EOI: one deassert, both resamplefds signalled */
	assert_int_equal(virq_notify_ack(x->f.vm, CHIP_IOAPIC, 5), 1);
	assert_int_equal(testchip_level(x->f.ioapic, 5), 0);
	assert_int_equal(testchip_calls(x->f.ioapic, 5), calls + 1);
	assert_int_equal(drain(r1), 1);
	assert_int_equal(drain(r2), 1);
	virq_irqfd_get_stats(x->f.vm, &st);
	assert_int_equal(st.resamples, 1);

	/* an ack of another pin touches nothing */
	assert_int_equal(virq_notify_ack(x->f.vm, CHIP_IOAPIC, 6), 0);
	assert_int_equal(drain(r1), 0);

	/* the back-end sees its line still high and signals again */
	hold_line(x, e1);

	/* one resampler left after e1 goes: the line stays */
	assert_int_equal(virq_irqfd_unbind(x->f.vm, e1, GSI_PIN), 0);
	assert_int_equal(testchip_level(x->f.ioapic, 5), 1);
	assert_int_equal(virq_notify_ack(x->f.vm, CHIP_IOAPIC, 5), 1);
	assert_int_equal(drain(r1), 0); /* no longer bound */
	assert_int_equal(drain(r2), 1);

	/* the last resampler going lowers the line it held */
	hold_line(x, e2);
	assert_int_equal(virq_irqfd_unbind(x->f.vm, e2, GSI_PIN), 0);
	assert_int_equal(testchip_level(x->f.ioapic, 5), 0);
	assert_int_equal(virq_notify_ack(x->f.vm, CHIP_IOAPIC, 5), 0);
	close(e1);
	close(e2);
	close(r1);
	close(r2);
}

static void test_resample_keeps_other_sources(void **state)
{
	struct ifx *x = *state;
	int e = eventfd(0, EFD_NONBLOCK), r = eventfd(0, EFD_NONBLOCK);

	assert_int_equal(virq_irqfd_bind(x->f.vm, e, GSI_PIN, VIRQ_IRQFD_RESAMPLE, r), 0);
	virq_set_irq(x->f.vm, GSI_PIN, 1, VIRQ_SOURCE_USER);
	hold_line(x, e);
	/* the resampler lowers only its own source */
	assert_int_equal(virq_notify_ack(x->f.vm, CHIP_IOAPIC, 5), 1);
	assert_int_equal(testchip_level(x->f.ioapic, 5), 1);
	virq_set_irq(x->f.vm, GSI_PIN, 0, VIRQ_SOURCE_USER);
	assert_int_equal(testchip_level(x->f.ioapic, 5), 0);
	close(e);
	close(r);
}

static void test_notify_resampler(void **state)
{
	struct ifx *x = *state;
	int e = eventfd(0, EFD_NONBLOCK), r = eventfd(0, EFD_NONBLOCK);

	assert_int_equal(virq_notify_resampler(x->f.vm, CHIP_IOAPIC, 5), 0);
	assert_int_equal(virq_irqfd_bind(x->f.vm, e, GSI_PIN, VIRQ_IRQFD_RESAMPLE, r), 0);
	hold_line(x, e);
	/* the stale-IRR rule: signal the back-end instead of re-injecting;
	 * the line itself is the chip's business */
	assert_int_equal(virq_notify_resampler(x->f.vm, CHIP_IOAPIC, 5), 1);
	assert_int_equal(drain(r), 1);
	assert_int_equal(testchip_level(x->f.ioapic, 5), 1);
	assert_int_equal(virq_notify_resampler(x->f.vm, CHIP_IOAPIC, 7), 0);
	close(e);
	close(r);
}

static void test_closed_eventfd_unbinds(void **state)
{
	struct ifx *x = *state;
	int efd = eventfd(0, EFD_NONBLOCK), n = efd;
	struct virq_irqfd_stats st;

	assert_int_equal(virq_irqfd_bind(x->f.vm, efd, GSI_MSI, 0, -1), 0);
	close(efd);
	for (int i = 0; i < 100; i++) {
		virq_irqfd_get_stats(x->f.vm, &st);
		if (!st.bound)
			break;
		sleep_ms(VIRQ_IRQFD_GC_MS / 10);
	}
	assert_int_equal(st.bound, 0);
	assert_int_equal(st.auto_unbound, 1);

	/* a closed eventfd whose number is bound again goes at once */
	efd = eventfd(0, EFD_NONBLOCK);
	assert_int_equal(efd, n);
	assert_int_equal(virq_irqfd_bind(x->f.vm, efd, GSI_MSI, 0, -1), 0);
	close(efd);
	efd = eventfd(0, EFD_NONBLOCK);
	assert_int_equal(efd, n);
	assert_int_equal(virq_irqfd_bind(x->f.vm, efd, GSI_MSI, 0, -1), 0);
	virq_irqfd_get_stats(x->f.vm, &st);
	assert_int_equal(st.bound, 1);
	assert_int_equal(st.auto_unbound, 2);
	signal_fd(efd, 1);
	assert_int_equal(wait_for(msis_of, x->f.msi, 0, 1), 1);
	close(efd);
}

static void test_destroy_with_irqfds(void **state)
{
	struct virq_vm_config cfg = { .nr_vcpus = 1, .irqfd_workers = 2 };
	struct virq_device *msi;
	struct virq_vm *vm;
	int fds[8], rfd = eventfd(0, 0);

	(void)state;
	assert_int_equal(testchip_register(), 0);
	assert_int_equal(virq_vm_create(&cfg, &vm), 0);
	msi = fixture_chip(vm, 0, 4, 0, MSI_DOORBELL);
	assert_int_equal(route_add1(vm, msi_entry(1, 1)), 0);
	for (int i = 0; i < 8; i++) {
		fds[i] = eventfd(1, EFD_NONBLOCK);
		assert_int_equal(virq_irqfd_bind(vm, fds[i], (uint32_t)i % 3,
						 i % 2 ? VIRQ_IRQFD_RESAMPLE : 0, rfd),
				 0);
	}
	assert_true(wait_for(msis_of, msi, 0, 1) >= 1);
	virq_vm_destroy(vm); /* ASan's leak check covers what it frees */
	for (int i = 0; i < 8; i++)
		close(fds[i]);
	close(rfd);
}

struct thief {
	int fd[2];
	unsigned msis;
};

/* VMM sink: the first MSI empties the other eventfd's counter. */
static int steal_other(void *opaque, const struct virq_msi *msi)
{
	struct thief *t = opaque;

	if (!t->msis++)
		assert_int_equal(drain(t->fd[!msi->data]), 1);
	return 1;
}

/*
 * Two events ready, the handling of the first consumes the second's
 * counter: the second read must not block, although the caller's
 * eventfds are blocking ones (the read would hang in a read section).
 */
static void test_ready_but_empty_does_not_block(void **state)
{
	struct thief t = { { eventfd(0, 0), eventfd(0, 0) }, 0 };
	struct virq_vm_config cfg = { .nr_vcpus = 1,
				      .irqfd_workers = VIRQ_IRQFD_POLL,
				      .ops.msi = steal_other,
				      .opaque = &t };
	struct virq_irqfd_stats st;
	struct virq_vm *vm;

	(void)state;
	assert_int_equal(virq_vm_create(&cfg, &vm), 0);
	for (uint32_t i = 0; i < 2; i++) {
		/* no device owns the doorbell: the MSI reaches the sink */
		assert_int_equal(route_add1(vm, msi_entry(i, i)), 0);
		assert_int_equal(virq_irqfd_bind(vm, t.fd[i], i, 0, -1), 0);
		signal_fd(t.fd[i], 1);
	}
	alarm(10); /* a blocked read would hang here: fail instead */
	assert_int_equal(virq_irqfd_dispatch(vm), 2);
	alarm(0);
	assert_int_equal(t.msis, 1);
	virq_irqfd_get_stats(vm, &st);
	assert_int_equal(st.wakeups, 1);
	virq_vm_destroy(vm);
	close(t.fd[0]);
	close(t.fd[1]);
}

static void count_ack(void *opaque, uint32_t gsi)
{
	uint32_t *seen = opaque;

	*seen = gsi + 1000;
}

struct nested {
	struct virq_vm *vm;
	int fd;
	int unbind_ret;
};

static void unbind_from_callback(void *opaque, uint32_t gsi)
{
	struct nested *n = opaque;

	n->unbind_ret = virq_irqfd_unbind(n->vm, n->fd, gsi);
}

static void test_unbind_from_callback_refused(void **state)
{
	struct ifx *x = *state;
	struct nested n = { x->f.vm, eventfd(0, EFD_NONBLOCK), 0 };

	assert_int_equal(virq_irqfd_bind(x->f.vm, n.fd, GSI_PIN, 0, -1), 0);
	assert_int_equal(
		virq_ack_notifier_add(x->f.vm, GSI_PIN, unbind_from_callback, &n), 0);
	/* waiting for a grace period inside a read section would hang */
	assert_int_equal(virq_notify_ack(x->f.vm, CHIP_IOAPIC, 5), 1);
	assert_int_equal(n.unbind_ret, -EDEADLK);
	assert_int_equal(virq_irqfd_unbind(x->f.vm, n.fd, GSI_PIN), 0);
	close(n.fd);
}

static void test_ack_notifiers(void **state)
{
	struct ifx *x = *state;
	uint32_t seen = 0;

	assert_int_equal(virq_ack_notifier_add(x->f.vm, GSI_PIN, count_ack, &seen), 0);
	assert_int_equal(virq_ack_notifier_add(x->f.vm, 4096, count_ack, &seen), -EINVAL);
	assert_int_equal(virq_notify_ack(x->f.vm, CHIP_IOAPIC, 5), 1);
	assert_int_equal(seen, GSI_PIN + 1000);
	/* no GSI on that pin: nothing runs */
	assert_int_equal(virq_notify_ack(x->f.vm, CHIP_IOAPIC, 9), 0);
	assert_int_equal(virq_ack_notifier_remove(x->f.vm, GSI_PIN, count_ack, &seen), 0);
	assert_int_equal(virq_ack_notifier_remove(x->f.vm, GSI_PIN, count_ack, &seen),
			 -ENOENT);
	seen = 0;
	assert_int_equal(virq_notify_ack(x->f.vm, CHIP_IOAPIC, 5), 0);
	assert_int_equal(seen, 0);
}

#if defined(__x86_64__)
#define AUDIT_ARCH_SELF AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AUDIT_ARCH_SELF AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define AUDIT_ARCH_SELF AUDIT_ARCH_I386
#else
#define AUDIT_ARCH_SELF 0 /* the child skips */
#endif

#define CHILD_SKIP 77

/* kcmp refused with EPERM, as a container's seccomp policy does. */
static int block_kcmp(void)
{
	struct sock_filter insns[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_SELF, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_kcmp, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(insns) / sizeof(insns[0]), insns };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

static int child_fail(int code, const char *why)
{
	fprintf(stderr, "gc-unsure child: %s\n", why);
	return code;
}

/* The child of test_gc_keeps_live_when_unsure: 0 if the irqfd survived. */
static int gc_unsure_child(void)
{
	struct virq_vm_config cfg = { .nr_vcpus = 1, .irqfd_workers = 1 };
	struct virq_irqfd_stats st;
	struct virq_device *msi;
	struct virq_vm *vm;
	struct rlimit rl = { 64, 64 };
	int efd, filler[64], nf = 0, probe;
	char path[64];
	uint64_t one = 1;

	if (!AUDIT_ARCH_SELF)
		return child_fail(CHILD_SKIP, "no seccomp arch for this build");
	if (block_kcmp() || testchip_register() || virq_vm_create(&cfg, &vm))
		return child_fail(10, "set-up failed");
	msi = fixture_chip(vm, 10, 1, 0, MSI_DOORBELL);
	efd = eventfd(0, EFD_NONBLOCK);
	if (syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, efd, efd) != -1 ||
	    errno != EPERM)
		return child_fail(CHILD_SKIP, "kcmp is not refused");
	if (route_add1(vm, msi_entry(GSI_MSI, 0x41)) ||
	    virq_irqfd_bind(vm, efd, GSI_MSI, 0, -1) || setrlimit(RLIMIT_NOFILE, &rl))
		return child_fail(11, "bind or setrlimit failed");
	/* no descriptor left: the GC cannot open fdinfo either */
	while (nf < 64 && (filler[nf] = open("/dev/null", O_RDONLY)) >= 0)
		nf++;
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", efd);
	probe = open(path, O_RDONLY);
	if (probe >= 0 || errno != EMFILE)
		return child_fail(CHILD_SKIP, "descriptors not exhausted");
	sleep_ms(4 * VIRQ_IRQFD_GC_MS); /* some GC ticks, all unsure */
	while (nf > 0)
		close(filler[--nf]);
	virq_irqfd_get_stats(vm, &st);
	if (st.auto_unbound || st.bound != 1)
		return child_fail(12, "the GC unbound a live irqfd it could not check");
	if (write(efd, &one, sizeof(one)) != sizeof(one))
		return child_fail(13, "eventfd write failed");
	for (int i = 0; i < 5000 && !testchip_msis(msi); i++)
		sleep_ms(1);
	if (testchip_msis(msi) != 1)
		return child_fail(14, "the kept irqfd does not deliver");
	/* and a real close is still noticed without kcmp */
	close(efd);
	for (int i = 0; i < 200 && st.bound; i++) {
		sleep_ms(VIRQ_IRQFD_GC_MS / 10);
		virq_irqfd_get_stats(vm, &st);
	}
	if (st.bound || st.auto_unbound != 1)
		return child_fail(15, "a closed eventfd was not unbound without kcmp");
	virq_vm_destroy(vm);
	return 0;
}

#define GC_UNSURE_CHILD "--gc-unsure-child"

/*
 * Without kcmp and out of descriptors the GC cannot tell whether the
 * caller's number still names the bound eventfd: it must keep the irqfd
 * (dropping a live one loses its interrupts for good).  In a fresh
 * process (this program run again), as a seccomp filter cannot be taken
 * back and a forked copy of a threaded process may start no threads.
 */
static void test_gc_keeps_live_when_unsure(void **state)
{
	char *const argv[] = { "test_irqfd", GC_UNSURE_CHILD, NULL };
	int status = -1;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == CHILD_SKIP)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], GC_UNSURE_CHILD))
		return gc_unsure_child();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bind_errors, setup_thread, teardown),
		cmocka_unit_test_setup_teardown(test_pulse_on_pin, setup_thread,
						teardown),
		cmocka_unit_test_setup_teardown(test_msi_route, setup_thread, teardown),
		cmocka_unit_test_setup_teardown(test_counter_coalesces, setup_poll,
						teardown),
		cmocka_unit_test_setup_teardown(test_nonzero_counter_at_bind, setup_poll,
						teardown),
		cmocka_unit_test_setup_teardown(test_follows_route_change, setup_poll,
						teardown),
		cmocka_unit_test_setup_teardown(test_nothing_after_unbind, setup_thread,
						teardown),
		cmocka_unit_test_setup_teardown(test_resample_shared_gsi, setup_poll,
						teardown),
		cmocka_unit_test_setup_teardown(test_resample_keeps_other_sources,
						setup_poll, teardown),
		cmocka_unit_test_setup_teardown(test_notify_resampler, setup_poll,
						teardown),
		cmocka_unit_test_setup_teardown(test_closed_eventfd_unbinds, setup_thread,
						teardown),
		cmocka_unit_test(test_destroy_with_irqfds),
		cmocka_unit_test(test_ready_but_empty_does_not_block),
		cmocka_unit_test_setup_teardown(test_ack_notifiers, setup_poll, teardown),
		cmocka_unit_test_setup_teardown(test_unbind_from_callback_refused,
						setup_poll, teardown),
		cmocka_unit_test(test_gc_keeps_live_when_unsure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
