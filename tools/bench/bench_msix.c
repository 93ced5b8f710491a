/* SPDX-License-Identifier: MIT */
/*
 * virq-bench msix: the guest's mask + read-back pair, enabling 2048
 * vectors (time and router commits), and notify -> delivery throughput,
 * each beside a baseline measured in the same run.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <virq/virq.h>

#include "bench.h"

#define BIG 2048u

static int sink(void *opaque, const struct virq_msi *msi)
{
	(void)msi;
	__atomic_fetch_add((uint64_t *)opaque, 1, __ATOMIC_RELAXED);
	return 1;
}

static uint64_t delivered;

static struct virq_vm *vm_new(void)
{
	struct virq_vm_config cfg = { .nr_vcpus = 2,
				      .ops = { .msi = sink },
				      .opaque = &delivered };
	struct virq_vm *vm;

	if (virq_vm_create(&cfg, &vm)) {
		fprintf(stderr, "virq-bench: msix: %s\n", virq_last_error());
		exit(1);
	}
	return vm;
}

static struct virq_device *dev_new(struct virq_vm *vm, uint32_t nr)
{
	struct virq_msix_config c = { .nr_vectors = nr };
	struct virq_device *d;

	if (virq_msix_create(vm, &c, &d)) {
		fprintf(stderr, "virq-bench: msix: %s\n", virq_last_error());
		exit(1);
	}
	for (uint32_t v = 0; v < nr; v++) {
		struct virq_msix_entry e = { 0xfee00000u, 0, v, VIRQ_MSIX_VECTOR_MASKED };

		virq_msix_set_entry(d, v, &e);
	}
	return d;
}

static uint64_t commits(struct virq_vm *vm)
{
	struct virq_route_stats st;

	virq_route_get_stats(vm, &st);
	return st.commits;
}

/* The mask + read-back flush and the unmask, as Linux does them. */
static void mask_pair(void)
{
	struct virq_vm *vm = vm_new();
	struct virq_device *d = dev_new(vm, 8);
	unsigned n = quick ? 20000 : 500000;
	double t0, pair, notify;
	uint64_t back;

	virq_msix_ctrl_write(d, VIRQ_MSIX_CTRL_ENABLE);
	virq_msix_table_write(d, 12, 4, 0);
	t0 = now_ns();
	for (unsigned i = 0; i < n; i++) {
		virq_msix_table_write(d, 12, 4, 1);
		virq_msix_table_read(d, 12, 4, &back);
		virq_msix_table_write(d, 12, 4, 0);
		virq_msix_table_read(d, 12, 4, &back);
	}
	pair = (now_ns() - t0) / n / 2;
	/* baseline: one notify of an unmasked vector, through its route */
	t0 = now_ns();
	for (unsigned i = 0; i < n; i++)
		virq_msix_notify(d, 0);
	notify = (now_ns() - t0) / n;
	report("msix", "mask_write_readback_pair", pair, "ns", notify, pair / notify);
	virq_vm_destroy(vm);
}

/* Enable 2048 unmasked vectors at once, against unmasking them one by one. */
static void enable_big(void)
{
	struct virq_vm *vm = vm_new();
	struct virq_device *d = dev_new(vm, BIG);
	unsigned rounds = quick ? 3 : 21;
	double *en = calloc(rounds, sizeof(double)),
	       *dis = calloc(rounds, sizeof(double));
	double t0, one_by_one;
	uint64_t c0, c_en = 0, c_dis = 0; /* summed over the rounds */

	if (!en || !dis)
		exit(1);
	for (uint32_t v = 0; v < BIG; v++)
		virq_msix_table_write(d, v * 16u + 12, 4, 0);
	for (unsigned r = 0; r < rounds; r++) {
		c0 = commits(vm);
		t0 = now_ns();
		virq_msix_ctrl_write(d, VIRQ_MSIX_CTRL_ENABLE);
		en[r] = now_ns() - t0;
		c_en += commits(vm) - c0;
		c0 = commits(vm);
		t0 = now_ns();
		virq_msix_ctrl_write(d, 0);
		dis[r] = now_ns() - t0;
		c_dis += commits(vm) - c0;
	}
	/* baseline: enabled with every vector masked, then unmasked one by
	 * one (a route commit each, as a per-vector VMM does) */
	for (uint32_t v = 0; v < BIG; v++)
		virq_msix_table_write(d, v * 16u + 12, 4, 1);
	virq_msix_ctrl_write(d, VIRQ_MSIX_CTRL_ENABLE);
	c0 = commits(vm);
	t0 = now_ns();
	for (uint32_t v = 0; v < BIG; v++)
		virq_msix_table_write(d, v * 16u + 12, 4, 0);
	one_by_one = now_ns() - t0;
	report("msix", "enable_2048_total", percentile(en, rounds, 0.5) / 1e3, "us",
	       one_by_one / 1e3, one_by_one / percentile(en, rounds, 0.5));
	/* commits per round, each round against the one-by-one baseline */
	report("msix", "enable_2048_router_commits", (double)c_en / rounds, "commits",
	       (double)(commits(vm) - c0),
	       (double)(commits(vm) - c0) * rounds / (double)c_en);
	report("msix", "disable_2048_total", percentile(dis, rounds, 0.5) / 1e3, "us", -1,
	       0);
	report("msix", "disable_2048_router_commits", (double)c_dis / rounds, "commits",
	       -1, 0);
	free(en);
	free(dis);
	virq_vm_destroy(vm);
}

struct firer {
	struct virq_vm *vm;
	struct virq_device *d;
	uint32_t vector; /* the GSI for the baseline */
	bool raw;
	int cpu;
	double secs;
	uint64_t n;
};

static void *firer_fn(void *p)
{
	struct firer *f = p;
	double end;

	pin_to_cpu(f->cpu);
	end = now_ns() + f->secs * 1e9;
	while (now_ns() < end) {
		for (int i = 0; i < 256; i++) {
			if (f->raw)
				virq_set_irq(f->vm, f->vector, 1, 0);
			else
				virq_msix_notify(f->d, f->vector);
		}
		f->n += 256;
	}
	return NULL;
}

/* Messages delivered to the sink per second, 1 and 2 threads (distinct
 * vectors): counted where they arrive, not where they are fired. */
static double run_firers(struct virq_vm *vm, struct virq_device *d, const uint32_t *ids,
			 bool raw, unsigned threads)
{
	struct firer f[2];
	pthread_t th[2];
	double secs = quick ? 0.1 : 0.5;
	uint64_t d0 = __atomic_load_n(&delivered, __ATOMIC_RELAXED), fired = 0, got;

	for (unsigned i = 0; i < threads; i++) {
		f[i] = (struct firer){ vm, d, ids[i], raw, (int)i, secs, 0 };
		pthread_create(&th[i], NULL, firer_fn, &f[i]);
	}
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		fired += f[i].n;
	}
	got = __atomic_load_n(&delivered, __ATOMIC_RELAXED) - d0;
	if (got != fired)
		fprintf(stderr, "virq-bench: msix: %llu fired, %llu delivered\n",
			(unsigned long long)fired, (unsigned long long)got);
	return (double)got / secs;
}

static void throughput(void)
{
	struct virq_vm *vm = vm_new();
	struct virq_device *d = dev_new(vm, 8);
	uint32_t vecs[2] = { 0, 1 }, gsis[2];
	struct virq_msix_entry e;

	virq_msix_ctrl_write(d, VIRQ_MSIX_CTRL_ENABLE);
	virq_msix_table_write(d, 12, 4, 0);
	virq_msix_table_write(d, 16 + 12, 4, 0);
	virq_msix_get_entry(d, 0, &e, &gsis[0]);
	virq_msix_get_entry(d, 1, &e, &gsis[1]);
	for (unsigned t = 1; t <= 2; t++) {
		double m = run_firers(vm, d, vecs, false, t);
		double raw = run_firers(vm, d, gsis, true, t);
		char name[64];

		/* baseline: virq_set_irq on the same MSI routes (no MSI-X layer) */
		snprintf(name, sizeof(name), "notify_delivery_%uthread", t);
		report("msix", name, m / 1e6, "M/s", raw / 1e6, m / raw);
	}
	virq_vm_destroy(vm);
}

void bench_msix(void)
{
	mask_pair();
	enable_big();
	throughput();
	bench_msix_kvm();
}
