/* SPDX-License-Identifier: MIT */
/*
 * guest: interrupts into a test kernel under KVM (docs/bench.md).  Runs
 * virq-vm --traffic (tools/vm/traffic.c) with tests/guest/bench.elf for
 * each path, interleaved, and reports the closed-loop rate (rounds of
 * "eventfd write, wait for the guest's ack" per second) and the round
 * trip (eventfd write -> the guest's ack seen by the VMM), each against
 * (a) KVM's in-kernel IOAPIC:
 *   kirq-ioapic      (a) KVM_IRQFD on IOAPIC GSI 10, --kernel-irqchip
 *   virq-ioapic      (b) virq_irqfd_bind on GSI 10: virq's IOAPIC, split
 *   virq-ioapic-kvm  (b') virq_kvm_irqfd_bind on GSI 10 (stays in virq)
 *   virq-msi         (c) virq_kvm_irqfd_bind on a virq MSI route: KVM_IRQFD
 *   virq-msix        (d) virq_msix_bind_irqfd on an MSI-X vector: KVM_IRQFD
 *                    while the vector is unmasked
 * virq-vm pins vCPU 0 to CPU 0 and the host thread (and virq's irqfd
 * worker, or KVM's irqfd work) to CPU 1 in every run.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

#define NR_PATHS 5
static const char *const path_names[NR_PATHS] = { "kirq-ioapic", "virq-ioapic",
						  "virq-ioapic-kvm", "virq-msi",
						  "virq-msix" };

struct result {
	double rate, median, p99;
};

/* build/tools/vm/virq-vm and build/tests/guest/bench.elf from our own dir */
static int find_files(char *vmm, char *kernel, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	const char *dir = dirname(self); /* build/tools/bench */
	snprintf(vmm, len, "%s/../vm/virq-vm", dir);
	snprintf(kernel, len, "%s/../../tests/guest/bench.elf", dir);
	return access(vmm, X_OK) == 0 && access(kernel, R_OK) == 0 ? 0 : -1;
}

static double field(const char *line, const char *key)
{
	const char *p = strstr(line, key);
	return p ? strtod(p + strlen(key), NULL) : -1;
}

/*
 * One virq-vm run: 0 and *r filled, 1 if virq-vm found /dev/kvm unusable
 * (its status 77, with its own line on stderr), or -1 with a line on
 * stderr.
 */
static int run_one(const char *vmm, const char *kernel, unsigned path, unsigned rounds,
		   struct result *r)
{
	char json[] = "/tmp/virq-bench-guest-XXXXXX", traffic[64], line[1024];
	const char *argv[12];
	int argc = 0, fd = mkstemp(json), status = 0;
	pid_t pid;
	posix_spawn_file_actions_t fa;

	if (fd < 0)
		return -1;
	close(fd);
	snprintf(traffic, sizeof(traffic), "%s,%u", path_names[path], rounds);
	argv[argc++] = vmm;
	if (path == 0)
		argv[argc++] = "--kernel-irqchip";
	argv[argc++] = "--timeout";
	argv[argc++] = "20";
	argv[argc++] = "--traffic";
	argv[argc++] = traffic;
	argv[argc++] = "--stats-json";
	argv[argc++] = json;
	argv[argc++] = kernel;
	argv[argc] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	int e = posix_spawn(&pid, vmm, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (!e && waitpid(pid, &status, 0) < 0)
		e = errno;
	if (!e && WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		unlink(json);
		return 1;
	}
	if (e || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "virq-bench: guest: virq-vm %s failed (status %d)\n",
			traffic, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		unlink(json);
		return -1;
	}
	FILE *f = fopen(json, "r");
	bool ok = f && fgets(line, sizeof(line), f);
	if (f)
		fclose(f);
	unlink(json);
	if (!ok || field(line, "\"lost\":") != 0) {
		fprintf(stderr, "virq-bench: guest: no result from virq-vm %s\n",
			traffic);
		return -1;
	}
	r->rate = field(line, "\"rate_per_s\":");
	r->median = field(line, "\"median_us\":");
	r->p99 = field(line, "\"p99_us\":");
	return 0;
}

void bench_guest(void)
{
	static const char *const label[NR_PATHS] = { "kirq_ioapic", "virq_ioapic",
						     "virq_ioapic_kvmbind", "virq_msi",
						     "virq_msix" };
	const unsigned reps = quick ? 1 : 5, rounds = quick ? 2000 : 20000;
	char vmm[PATH_MAX], kernel[PATH_MAX], m[64];
	double rate[NR_PATHS][5], med[NR_PATHS][5], p99[NR_PATHS][5];
	double R[NR_PATHS], M[NR_PATHS], P[NR_PATHS];

	if (find_files(vmm, kernel, sizeof(vmm)) < 0) {
		fprintf(stderr, "virq-bench: guest: virq-vm or bench.elf not found next "
				"to virq-bench, skipped\n");
		return;
	}
	/* interleaved, so that drift of the machine hits every path alike */
	for (unsigned k = 0; k < reps; k++)
		for (unsigned p = 0; p < NR_PATHS; p++) {
			struct result r;
			int ret = run_one(vmm, kernel, p, rounds, &r);
			if (ret == 1)
				fprintf(stderr, "virq-bench: guest: /dev/kvm is not "
						"usable here, skipped\n");
			if (ret)
				return;
			rate[p][k] = r.rate;
			med[p][k] = r.median;
			p99[p][k] = r.p99;
		}
	for (unsigned p = 0; p < NR_PATHS; p++) {
		R[p] = percentile(rate[p], reps, 0.5);
		M[p] = percentile(med[p], reps, 0.5);
		P[p] = percentile(p99[p], reps, 0.5);
	}
	for (unsigned p = 0; p < NR_PATHS; p++) {
		bool base = p == 0;
		snprintf(m, sizeof(m), "%s_rate", label[p]);
		report("guest", m, R[p] / 1e3, "k/s", base ? -1 : R[0] / 1e3,
		       base ? 0 : R[p] / R[0]);
		snprintf(m, sizeof(m), "%s_rtt_median", label[p]);
		report("guest", m, M[p], "us", base ? -1 : M[0], base ? 0 : M[p] / M[0]);
		snprintf(m, sizeof(m), "%s_rtt_p99", label[p]);
		report("guest", m, P[p], "us", base ? -1 : P[0], base ? 0 : P[p] / P[0]);
	}
}
