/* SPDX-License-Identifier: MIT */
/*
 * irqfd conservation.  Writer threads signal a set of eventfds bound to
 * pin and MSI GSIs while routes of the MSI GSIs flip between two
 * doorbells.  Writes coalesce in the eventfd counters, so the accounting
 * is on reads: the counters' values read must add up to every write, and
 * every read must have produced exactly one assertion on a chip pin or
 * one MSI -- none lost, none doubled.  A rebinder unbinds and binds the
 * eventfds again meanwhile: what is written while one is unbound waits
 * in its counter and fires at the next bind.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "fixture.h"

#define PIN_GSIS 8u
#define MSI_GSIS 8u
#define NFDS (PIN_GSIS + MSI_GSIS)
#define WRITERS 3u
#define DOORBELL_A 0xfee00000u
#define DOORBELL_B 0xfef00000u

struct world {
	struct virq_vm *vm;
	int fd[NFDS];
	unsigned writes_each;
	bool done;	  /* atomic */
	bool writing;	  /* atomic: the writers have not all finished */
	unsigned rebinds; /* rebinder's */
};

struct writer {
	struct world *w;
	unsigned seed;
};

static uint32_t gsi_of(unsigned i)
{
	return i < PIN_GSIS ? i : 100 + i;
}

static void *writer_fn(void *arg)
{
	struct writer *wr = arg;
	uint64_t one = 1;

	for (unsigned n = 0; n < wr->w->writes_each; n++) {
		int fd = wr->w->fd[rand_r(&wr->seed) % NFDS];

		if (write(fd, &one, sizeof(one)) != sizeof(one))
			abort();
	}
	return NULL;
}

static void *flipper_fn(void *arg)
{
	struct world *w = arg;
	unsigned seed = 7, flips = 0;

	while (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE)) {
		uint32_t gsi = gsi_of(PIN_GSIS + rand_r(&seed) % MSI_GSIS);
		struct virq_route_entry e = msi_entry(gsi, gsi);
		struct virq_route_txn *t;

		e.u.msi.address_lo = flips++ & 1 ? DOORBELL_B : DOORBELL_A;
		if (virq_route_begin(w->vm, &t) || virq_route_update(t, &e) ||
		    virq_route_commit(t))
			abort();
	}
	return NULL;
}

static void *rebinder_fn(void *arg)
{
	struct world *w = arg;
	unsigned seed = 11;

	/* at least one round however soon the writers finish */
	do {
		unsigned i = rand_r(&seed) % NFDS;

		if (virq_irqfd_unbind(w->vm, w->fd[i], gsi_of(i)) ||
		    virq_irqfd_bind(w->vm, w->fd[i], gsi_of(i), 0, -1))
			abort();
		w->rebinds++;
	} while (__atomic_load_n(&w->writing, __ATOMIC_ACQUIRE));
	return NULL;
}

static void run(uint32_t workers)
{
	struct virq_vm_config cfg = { .nr_vcpus = 2, .irqfd_workers = workers };
	struct virq_device *chip, *da, *db;
	struct writer wr[WRITERS];
	pthread_t th[WRITERS], flip, rebind;
	struct virq_irqfd_stats st;
	struct world w = { 0 };
	uint64_t total, delivered = 0;

	w.writes_each = getenv("VIRQ_STRESS_WRITES")
				? (unsigned)atoi(getenv("VIRQ_STRESS_WRITES"))
				: 100000;
	total = (uint64_t)WRITERS * w.writes_each;
	assert_int_equal(testchip_register(), 0);
	assert_int_equal(virq_vm_create(&cfg, &w.vm), 0);
	chip = fixture_chip(w.vm, 0, PIN_GSIS, 0, 0);
	da = fixture_chip(w.vm, 1, 1, 0, DOORBELL_A);
	db = fixture_chip(w.vm, 2, 1, 0, DOORBELL_B);
	for (unsigned i = 0; i < NFDS; i++) {
		uint32_t g = gsi_of(i);

		assert_int_equal(route_add1(w.vm, i < PIN_GSIS ? chip_entry(g, 0, i)
							       : msi_entry(g, g)),
				 0);
		w.fd[i] = eventfd(0, EFD_NONBLOCK);
		assert_int_equal(virq_irqfd_bind(w.vm, w.fd[i], g, 0, -1), 0);
	}

	w.writing = true;
	assert_int_equal(pthread_create(&flip, NULL, flipper_fn, &w), 0);
	assert_int_equal(pthread_create(&rebind, NULL, rebinder_fn, &w), 0);
	for (unsigned i = 0; i < WRITERS; i++) {
		wr[i] = (struct writer){ &w, 1000 + i };
		assert_int_equal(pthread_create(&th[i], NULL, writer_fn, &wr[i]), 0);
	}
	for (unsigned i = 0; i < WRITERS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	/* every eventfd bound again before the drain */
	__atomic_store_n(&w.writing, false, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(rebind, NULL), 0);
	/* the workers drain what is left */
	for (int i = 0; i < 10000; i++) {
		virq_irqfd_get_stats(w.vm, &st);
		if (st.signals == total)
			break;
		usleep(1000);
	}
	__atomic_store_n(&w.done, true, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(flip, NULL), 0);

	virq_irqfd_get_stats(w.vm, &st);
	for (uint32_t p = 0; p < PIN_GSIS; p++)
		delivered += testchip_asserts(chip, p);
	delivered += testchip_msis(da) + testchip_msis(db);
	fprintf(stderr,
		"%u worker(s): %llu writes, %llu reads, %llu deliveries, %u rebinds\n",
		workers, (unsigned long long)total, (unsigned long long)st.wakeups,
		(unsigned long long)delivered, w.rebinds);
	assert_int_equal(st.signals, total);
	assert_true(st.wakeups > 0 && st.wakeups <= total);
	assert_int_equal(delivered, st.wakeups);
	assert_true(w.rebinds > 0);
	for (unsigned i = 0; i < NFDS; i++)
		close(w.fd[i]);
	virq_vm_destroy(w.vm);
}

static void test_one_worker(void **state)
{
	(void)state;
	run(1);
}

static void test_two_workers(void **state)
{
	(void)state;
	run(2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_worker),
		cmocka_unit_test(test_two_workers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
