/* SPDX-License-Identifier: MIT */
/*
 * virq-bench: speed figures for virq, each next to its baseline measured
 * in the same run.  Usage: virq-bench [--json] [--quick] [bench ...]
 * Benches: see the table at the end (default: all); each bench that is not
 * about the core lives in its own file (bench.h).
 * --json prints one object per line:
 *   {"bench":..., "metric":..., "value":..., "unit":..., "baseline":..., "ratio":...}
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <virq/virq.h>

#include "bench.h"
#include "kvm_routes.h"
#include "testchip.h"

bool json;
bool quick;

double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double percentile(double *v, size_t n, double p)
{
	size_t k;

	qsort(v, n, sizeof(*v), dbl_cmp);
	k = (size_t)(p * (double)(n - 1) + 0.5);
	return v[k];
}

/* baseline < 0: none; ratio given by the caller (its direction varies) */
void report(const char *bench, const char *metric, double value, const char *unit,
	    double baseline, double ratio)
{
	if (json) {
		printf("{\"bench\":\"%s\",\"metric\":\"%s\",\"value\":%.4g,\"unit\":\"%s\","
		       "\"baseline\":",
		       bench, metric, value, unit);
		if (baseline < 0)
			printf("null,\"ratio\":null}\n");
		else
			printf("%.4g,\"ratio\":%.4g}\n", baseline, ratio);
	} else {
		printf("%-13s %-34s %12.4g %-8s", bench, metric, value, unit);
		if (baseline >= 0)
			printf(" baseline %10.4g  ratio %8.4g", baseline, ratio);
		printf("\n");
	}
	fflush(stdout);
}

void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static struct virq_vm *vm_with_msi_routes(uint32_t nr, struct virq_device **rx)
{
	struct virq_vm_config cfg = { .nr_vcpus = 2, .max_routes = nr };
	struct testchip_args a = {
		.chip = 0,
		.nr_pins = 1,
		.doorbell_base = 0xfee00000,
		.doorbell_size = 0x100000,
	};
	struct virq_route_entry *tbl;
	struct virq_vm *vm;

	if (testchip_register() || virq_vm_create(&cfg, &vm) ||
	    virq_device_create(vm, "testchip", &a, rx)) {
		fprintf(stderr, "virq-bench: set-up failed: %s\n", virq_last_error());
		exit(1);
	}
	tbl = calloc(nr, sizeof(*tbl));
	if (!tbl)
		exit(1);
	for (uint32_t i = 0; i < nr; i++) {
		tbl[i].gsi = i;
		tbl[i].kind = VIRQ_ROUTE_MSI;
		tbl[i].u.msi.address_lo = 0xfee00000;
		tbl[i].u.msi.data = (i & 0xff) | TESTCHIP_DATA_FAST;
	}
	if (virq_route_set_table(vm, tbl, nr)) {
		fprintf(stderr, "virq-bench: set_table: %s\n", virq_last_error());
		exit(1);
	}
	free(tbl);
	return vm;
}

/*
 * Commits of @batch updates each, GSI (j * batch + b) * 7919 % nr: spread
 * over the table so that the 1M-route case pays its cache misses.  Each
 * sample is the mean of GROUP commits (one commit is near the clock's
 * resolution); @t receives @samples values in ns per commit.
 */
#define GROUP 32u

static void time_commits(struct virq_vm *vm, uint32_t nr, unsigned samples,
			 unsigned batch, unsigned *j, double *t)
{
	for (unsigned s = 0; s < samples; s++) {
		double t0 = now_ns();

		for (unsigned g = 0; g < GROUP; g++, (*j)++) {
			struct virq_route_txn *txn;

			virq_route_begin(vm, &txn);
			for (unsigned b = 0; b < batch; b++) {
				uint64_t k = (uint64_t)*j * batch + b;
				struct virq_route_entry e = {
					.gsi = (uint32_t)(k * 7919u % nr),
					.kind = VIRQ_ROUTE_MSI,
				};

				e.u.msi.address_lo = 0xfee00000;
				e.u.msi.data = ((*j + 1) & 0xff) | TESTCHIP_DATA_FAST;
				virq_route_update(txn, &e);
			}
			if (virq_route_commit(txn)) {
				fprintf(stderr, "virq-bench: commit: %s\n",
					virq_last_error());
				exit(1);
			}
		}
		t[s] = (now_ns() - t0) / GROUP;
	}
}

static void bench_route_update(void)
{
	const unsigned rounds = 5, per_round = quick ? 40 : 200;
	const unsigned n = rounds * per_round;
	double *t4k = malloc(n * sizeof(double)), *t1m = malloc(n * sizeof(double));
	double *tb = malloc(n * sizeof(double));
	double med4k, p99_4k, med1m, p99_1m, b64, kvm_med = -1, kvm_p99 = 0;
	unsigned j4k = 0, j1m = 0, jb = 0;
	struct virq_device *rx4k, *rx1m;
	struct virq_vm *vm4k, *vm1m;
	struct kvm_routes *k;
	int ret;

	if (!t4k || !t1m || !tb)
		exit(1);
	pin_to_cpu(0);
	vm4k = vm_with_msi_routes(4096, &rx4k);
	vm1m = vm_with_msi_routes(1u << 20, &rx1m);
	/* interleaved, so both sizes see the same machine conditions */
	for (unsigned r = 0; r < rounds; r++) {
		time_commits(vm4k, 4096, per_round, 1, &j4k, t4k + r * per_round);
		time_commits(vm1m, 1u << 20, per_round, 1, &j1m, t1m + r * per_round);
		time_commits(vm4k, 4096, per_round / 8, 64, &jb,
			     tb + r * (per_round / 8));
	}
	virq_vm_destroy(vm1m);
	virq_vm_destroy(vm4k);
	med4k = percentile(t4k, n, 0.5);
	p99_4k = percentile(t4k, n, 0.99);
	med1m = percentile(t1m, n, 0.5);
	p99_1m = percentile(t1m, n, 0.99);
	b64 = percentile(tb, rounds * (per_round / 8), 0.5);
	free(t4k);
	free(t1m);
	free(tb);

	ret = kvm_routes_open(&k);
	if (!ret) {
		ret = kvm_routes_bench_one_change(k, 4096, quick ? 50 : 200, &kvm_med,
						  &kvm_p99);
		kvm_routes_close(k);
	}
	if (ret) {
		fprintf(stderr, "virq-bench: KVM baseline unavailable (%s)\n",
			strerror(-ret));
		kvm_med = -1;
	}

	/* ratio = KVM / virq: how many times cheaper */
	report("route-update", "one_change_4096_median", med4k / 1e3, "us",
	       kvm_med < 0 ? -1 : kvm_med / 1e3, kvm_med < 0 ? 0 : kvm_med / med4k);
	report("route-update", "one_change_4096_p99", p99_4k / 1e3, "us",
	       kvm_med < 0 ? -1 : kvm_p99 / 1e3, kvm_med < 0 ? 0 : kvm_p99 / p99_4k);
	/* baseline: the same change in the 4096-route table; ratio = 1M / 4K */
	report("route-update", "one_change_1048576_median", med1m / 1e3, "us",
	       med4k / 1e3, med1m / med4k);
	report("route-update", "one_change_1048576_p99", p99_1m / 1e3, "us", p99_4k / 1e3,
	       p99_1m / p99_4k);
	report("route-update", "batch64_4096_median", b64 / 1e3, "us",
	       kvm_med < 0 ? -1 : kvm_med / 1e3, kvm_med < 0 ? 0 : kvm_med / b64);
	if (kvm_med >= 0)
		report("route-update", "kvm_set_gsi_routing_4096_median", kvm_med / 1e3,
		       "us", -1, 0);
}

struct inject_arg {
	struct virq_vm *vm;
	uint32_t gsi;
	int cpu;
	double seconds;
	uint64_t count;
	double elapsed;
	pthread_barrier_t *start;
};

static void *inject_thread(void *p)
{
	struct inject_arg *a = p;
	uint64_t n = 0;
	double t0, deadline;

	pin_to_cpu(a->cpu);
	pthread_barrier_wait(a->start);
	t0 = now_ns();
	deadline = t0 + a->seconds * 1e9;
	do {
		for (int i = 0; i < 1024; i++)
			if (virq_set_irq(a->vm, a->gsi, 1, 0) != 1)
				exit(2);
		n += 1024;
	} while (now_ns() < deadline);
	a->elapsed = now_ns() - t0;
	a->count = n;
	return NULL;
}

static double run_injectors(struct virq_vm *vm, unsigned threads, double seconds)
{
	struct inject_arg a[2];
	pthread_t th[2];
	pthread_barrier_t start;
	double rate = 0;

	pthread_barrier_init(&start, NULL, threads);
	for (unsigned i = 0; i < threads; i++) {
		/* distinct GSIs and counter slots: no false sharing in the chip */
		a[i] = (struct inject_arg){
			vm, 1 + i * 17, (int)i, seconds, 0, 0, &start
		};
		pthread_create(&th[i], NULL, inject_thread, &a[i]);
	}
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		rate += (double)a[i].count / (a[i].elapsed / 1e9);
	}
	pthread_barrier_destroy(&start);
	return rate;
}

static void bench_inject(void)
{
	double secs = quick ? 0.2 : 1.0, r1, r2;
	struct virq_device *rx;
	struct virq_vm *vm = vm_with_msi_routes(4096, &rx);

	r1 = run_injectors(vm, 1, secs);
	r2 = run_injectors(vm, 2, secs);
	report("inject", "msi_route_1thread", r1 / 1e6, "M/s", -1, 0);
	/* baseline: the one-thread rate; ratio = scaling */
	report("inject", "msi_route_2threads", r2 / 1e6, "M/s", r1 / 1e6, r2 / r1);
	virq_vm_destroy(vm);
}

/* ---- irqfd: round trip against a raw eventfd ping-pong ---- */

static void efd_write(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		exit(3);
}

static void efd_read(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) != sizeof(v))
		exit(3);
}

/* virq's delivery callback: the MSI sink answers on the reply eventfd */
static int reply_msi(void *opaque, const struct virq_msi *msi)
{
	(void)msi;
	efd_write(*(int *)opaque);
	return 1;
}

struct pingpong {
	int request, reply;
	int cpu;
	unsigned iters;
	double *t;
	struct virq_vm *vm; /* poll mode: the VMM loop dispatches */
};

/* The requester: write, wait for the answer, time each round trip. */
static void *requester(void *p)
{
	struct pingpong *pp = p;

	pin_to_cpu(pp->cpu);
	for (unsigned i = 0; i < pp->iters; i++) {
		double t0 = now_ns();

		efd_write(pp->request);
		efd_read(pp->reply);
		pp->t[i] = now_ns() - t0;
	}
	return NULL;
}

/* The raw floor: a plain thread in virq's place. */
static void *raw_answerer(void *p)
{
	struct pingpong *pp = p;

	pin_to_cpu(pp->cpu);
	for (unsigned i = 0; i < pp->iters; i++) {
		efd_read(pp->request);
		efd_write(pp->reply);
	}
	return NULL;
}

/* A VMM event loop in poll mode: wait on virq's descriptor, dispatch. */
static void *poll_loop(void *p)
{
	struct pingpong *pp = p;
	struct pollfd pfd = { .fd = virq_irqfd_poll_fd(pp->vm), .events = POLLIN };

	pin_to_cpu(pp->cpu);
	for (unsigned done = 0; done < pp->iters;) {
		if (poll(&pfd, 1, -1) < 0)
			exit(3);
		done += (unsigned)virq_irqfd_dispatch(pp->vm);
	}
	return NULL;
}

enum answerer { RAW, VIRQ_WORKER, VIRQ_POLL_LOOP };

static void round_trips(enum answerer how, int req_cpu, int answer_cpu, unsigned iters,
			double *median, double *p99)
{
	struct pingpong req = {
		eventfd(0, 0), eventfd(0, 0), req_cpu, iters, NULL, NULL
	};
	struct pingpong ans = req;
	struct virq_vm *vm = NULL;
	pthread_t a = 0, r;

	req.t = malloc(iters * sizeof(double));
	if (!req.t || req.request < 0 || req.reply < 0)
		exit(1);
	ans.cpu = answer_cpu;
	if (how != RAW) {
		struct virq_vm_config cfg = {
			.nr_vcpus = 1,
			.ops = { .msi = reply_msi },
			.opaque = &req.reply,
			.irqfd_workers = how == VIRQ_POLL_LOOP ? VIRQ_IRQFD_POLL : 1,
		};
		struct virq_route_entry e = { .gsi = 1, .kind = VIRQ_ROUTE_MSI };
		struct virq_route_txn *txn;

		e.u.msi.address_lo = 0xfee00000;
		e.u.msi.data = 0x30;
		/* the worker starts at the first bind and inherits our CPU */
		pin_to_cpu(answer_cpu);
		if (virq_vm_create(&cfg, &vm) || virq_route_begin(vm, &txn) ||
		    virq_route_add(txn, &e) || virq_route_commit(txn) ||
		    virq_irqfd_bind(vm, req.request, 1, 0, -1)) {
			fprintf(stderr, "virq-bench: irqfd set-up: %s\n",
				virq_last_error());
			exit(1);
		}
		ans.vm = vm;
		if (how == VIRQ_POLL_LOOP)
			pthread_create(&a, NULL, poll_loop, &ans);
	} else {
		pthread_create(&a, NULL, raw_answerer, &ans);
	}
	pthread_create(&r, NULL, requester, &req);
	pthread_join(r, NULL);
	if (a)
		pthread_join(a, NULL);
	if (vm)
		virq_vm_destroy(vm);
	/* the first round trips warm the caches and the scheduler */
	*median = percentile(req.t + iters / 10, iters - iters / 10, 0.5);
	*p99 = percentile(req.t + iters / 10, iters - iters / 10, 0.99);
	close(req.request);
	close(req.reply);
	free(req.t);
}

static int count_msi(void *opaque, const struct virq_msi *msi)
{
	(void)msi;
	__atomic_fetch_add((uint64_t *)opaque, 1, __ATOMIC_RELAXED);
	return 1;
}

/* One worker, 64 irqfds written round-robin from another CPU. */
static void irqfd_throughput(double secs, double *deliveries, double *signals)
{
	uint64_t delivered = 0, one = 1;
	struct virq_vm_config cfg = {
		.nr_vcpus = 1,
		.ops = { .msi = count_msi },
		.opaque = &delivered,
	};
	struct virq_irqfd_stats st0, st1;
	struct virq_route_entry tbl[64];
	struct virq_vm *vm;
	int fd[64];
	double t0, t1;

	pin_to_cpu(1);
	if (virq_vm_create(&cfg, &vm))
		exit(1);
	for (uint32_t i = 0; i < 64; i++) {
		tbl[i] = (struct virq_route_entry){ .gsi = i, .kind = VIRQ_ROUTE_MSI };
		tbl[i].u.msi.address_lo = 0xfee00000;
		tbl[i].u.msi.data = 0x30 + i;
	}
	if (virq_route_set_table(vm, tbl, 64))
		exit(1);
	for (uint32_t i = 0; i < 64; i++) {
		fd[i] = eventfd(0, EFD_NONBLOCK);
		if (virq_irqfd_bind(vm, fd[i], i, 0, -1))
			exit(1);
	}
	pin_to_cpu(0);
	virq_irqfd_get_stats(vm, &st0);
	t0 = now_ns();
	t1 = t0;
	for (unsigned k = 0; t1 - t0 < secs * 1e9; k++) {
		if (write(fd[k % 64], &one, sizeof(one)) != sizeof(one))
			exit(3);
		if (k % 64 == 63)
			t1 = now_ns();
	}
	virq_irqfd_get_stats(vm, &st1);
	*deliveries = (double)(st1.wakeups - st0.wakeups) / ((t1 - t0) / 1e9);
	*signals = (double)(st1.signals - st0.signals) / ((t1 - t0) / 1e9);
	virq_vm_destroy(vm);
	for (int i = 0; i < 64; i++)
		close(fd[i]);
}

/* Raw floor, virq worker and virq poll mode with the answerer on @cpu. */
static void latency_set(const char *where, int cpu, unsigned iters)
{
	double vm_med, vm_p99, raw_med, raw_p99;
	char m[64];

	round_trips(RAW, 0, cpu, iters, &raw_med, &raw_p99);
	round_trips(VIRQ_WORKER, 0, cpu, iters, &vm_med, &vm_p99);
	snprintf(m, sizeof(m), "latency_%s_median", where);
	report("irqfd", m, vm_med / 1e3, "us", raw_med / 1e3, vm_med / raw_med);
	snprintf(m, sizeof(m), "latency_%s_p99", where);
	report("irqfd", m, vm_p99 / 1e3, "us", raw_p99 / 1e3, vm_p99 / raw_p99);
	round_trips(VIRQ_POLL_LOOP, 0, cpu, iters, &vm_med, &vm_p99);
	snprintf(m, sizeof(m), "latency_%s_poll_mode_median", where);
	report("irqfd", m, vm_med / 1e3, "us", raw_med / 1e3, vm_med / raw_med);
}

static void bench_irqfd(void)
{
	unsigned same = quick ? 2000 : 20000, cross = quick ? 500 : 4000;
	double deliveries, signals;

	/* same core: requester and answerer share CPU 0; cross core: the
	 * answerer (raw thread, worker or poll loop) runs on CPU 1 */
	latency_set("same_core", 0, same);
	latency_set("cross_core", 1, cross);
	irqfd_throughput(quick ? 0.2 : 1.0, &deliveries, &signals);
	report("irqfd", "throughput_1worker_deliveries", deliveries / 1e6, "M/s", -1, 0);
	report("irqfd", "throughput_1worker_signals", signals / 1e6, "M/s", -1, 0);
}

static const struct {
	const char *name;
	void (*fn)(void);
} benches[] = {
	{ "route-update", bench_route_update },
	{ "inject", bench_inject },
	{ "irqfd", bench_irqfd },
	/* benches in their own files (bench.h) */
	{ "msix", bench_msix },
	{ "x86", bench_x86 },
	{ "guest", bench_guest },
};

#define NR_BENCHES (sizeof(benches) / sizeof(benches[0]))

int main(int argc, char **argv)
{
	bool want[NR_BENCHES] = { false }, any = false;

	for (int i = 1; i < argc; i++) {
		size_t b;

		if (!strcmp(argv[i], "--json")) {
			json = true;
			continue;
		}
		if (!strcmp(argv[i], "--quick")) {
			quick = true;
			continue;
		}
		for (b = 0; b < NR_BENCHES && strcmp(argv[i], benches[b].name); b++)
			;
		if (b == NR_BENCHES) {
			fprintf(stderr, "virq-bench: unknown bench '%s' (have:", argv[i]);
			for (b = 0; b < NR_BENCHES; b++)
				fprintf(stderr, " %s", benches[b].name);
			fprintf(stderr, ")\n");
			return 2;
		}
		want[b] = any = true;
	}
	for (size_t b = 0; b < NR_BENCHES; b++)
		if (!any || want[b])
			benches[b].fn();
	return 0;
}
