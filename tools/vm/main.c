/* SPDX-License-Identifier: MIT */
/*
 * virq-vm: a small VMM for virq's test kernels (docs/vm.md).  This file
 * parses the options, builds the machine and waits for it to stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <virq/virq.h>

#include "pci.h"
#include "traffic.h"
#include "vm.h"

#define MEM_MIN_MIB 2u
#define MEM_MAX_MIB 3072u /* RAM stays below the PCI hole and the APICs */
#define MAX_MODULES 16u

static pthread_mutex_t exit_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t exit_cond = PTHREAD_COND_INITIALIZER;
static int exit_status = -1;

void vm_request_exit(int status)
{
	pthread_mutex_lock(&exit_lock);
	if (exit_status < 0) {
		exit_status = status;
		pthread_cond_signal(&exit_cond);
	}
	pthread_mutex_unlock(&exit_lock);
}

/* Wait for an exit request or the time-out (0 = none). */
static int wait_exit(double timeout)
{
	struct timespec dl;
	int status, r = 0;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += (time_t)timeout;
	dl.tv_nsec += (long)((timeout - (double)(time_t)timeout) * 1e9);
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&exit_lock);
	/* the condition variable is static, as vCPUs may signal it before
	 * this runs; the monotonic clock is chosen per wait */
	while (exit_status < 0 && r != ETIMEDOUT)
		r = timeout > 0 ? pthread_cond_clockwait(&exit_cond, &exit_lock,
							 CLOCK_MONOTONIC, &dl)
				: pthread_cond_wait(&exit_cond, &exit_lock);
	if (exit_status < 0)
		exit_status = VM_EXIT_TIMEOUT;
	status = exit_status;
	pthread_mutex_unlock(&exit_lock);
	return status;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: virq-vm [options] KERNEL\n"
		"  -k, --kernel FILE      multiboot kernel (or the first argument)\n"
		"  -m, --mem MIB          guest RAM from address 0 (default 64, %u..%u)\n"
		"  -s, --smp N            vCPUs (default 1, at most 64 and KVM's limit)\n"
		"  -a, --append STR       kernel command line\n"
		"  -i, --initrd F[,F...]  multiboot modules (\"file args\": the module string)\n"
		"  -S, --serial FILE      UART output to FILE instead of stdout\n"
		"  -K, --kernel-irqchip   KVM's full in-kernel irqchip (default: split,\n"
		"                         LAPICs in KVM, IOAPIC and PIC in virq)\n"
		"  -t, --timeout SEC      stop the guest after SEC seconds (status 124)\n"
		"      --stats            print run time and exit counts on stderr\n"
		"      --msix-vectors N   MSI-X vectors of the PCI test device (default 8)\n"
		"      --msix-host-fire N its host thread's signals per run (default 16)\n"
		"      --eoi-flush US     split: flush a deferred level EOI after US\n"
		"                         quiet microseconds (default %u, 0 = never)\n"
		"      --traffic PATH,COUNT, --stats-json FILE, --demo SEC, --demo-sim\n"
		"                         interrupt traffic and the demo (docs/vm.md)\n"
		"exit status: (v << 1) | 1 when the guest writes v to port 0xf4;\n"
		"2 bad input, 4 guest crash, 77 /dev/kvm unusable, 124 time-out\n",
		MEM_MIN_MIB, MEM_MAX_MIB, SPLIT_EOI_FLUSH_US);
}

static int fail(const char *msg, const char *arg)
{
	fprintf(stderr, "virq-vm: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	return VM_EXIT_USAGE;
}

/* The word getopt refused: an unknown short option before the end of its
 * group ("-xK") leaves optind on that word rather than past it. */
static const char *bad_word(int argc, char **argv)
{
	const char *w = optind < argc ? argv[optind] : NULL;

	if (optopt && w && w[0] == '-' && w[1] && w[1] != '-' && strchr(w + 1, optopt))
		return w;
	return argv[optind - 1];
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return false;
	*out = v;
	return true;
}

/* --initrd: comma-separated entries; the file name ends at the first space. */
static int parse_initrd(char *list, struct mb_module *mods, unsigned *nr)
{
	static char paths[MAX_MODULES][4096];
	for (char *save = NULL, *e = strtok_r(list, ",", &save); e;
	     e = strtok_r(NULL, ",", &save)) {
		if (*nr == MAX_MODULES)
			return -1;
		char *path = paths[*nr];
		size_t len = strcspn(e, " ");
		if (len >= sizeof(paths[0]))
			return -1;
		memcpy(path, e, len);
		path[len] = '\0';
		mods[*nr].path = path;
		mods[*nr].string = e;
		(*nr)++;
	}
	return 0;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "mem", required_argument, NULL, 'm' },
		{ "smp", required_argument, NULL, 's' },
		{ "append", required_argument, NULL, 'a' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "serial", required_argument, NULL, 'S' },
		{ "kernel-irqchip", no_argument, NULL, 'K' },
		{ "timeout", required_argument, NULL, 't' },
		{ "stats", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ "eoi-flush", required_argument, NULL, 'E' },
		/* the test device's (pcitest.c) and the traffic's (traffic.c) */
		{ "msix-vectors", required_argument, NULL, 'P' },
		{ "msix-host-fire", required_argument, NULL, 'P' },
		{ "traffic", required_argument, NULL, 'R' },
		{ "stats-json", required_argument, NULL, 'R' },
		{ "demo", required_argument, NULL, 'R' },
		{ "demo-sim", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct mb_module mods[MAX_MODULES];
	struct mb_boot boot = { 0 };
	unsigned long mem_mib = 64, smp = 1, eoi_flush_us = SPLIT_EOI_FLUSH_US;
	double timeout = 0;
	bool kernel_irqchip = false, stats = false;
	const char *serial = NULL;
	int c, li = 0;

	opterr = 0; /* one line of our own below, naming the option */
	while ((c = getopt_long(argc, argv, ":k:m:s:a:i:S:Kt:h", opts, &li)) != -1) {
		switch (c) {
		case 'P':
			if (pcitest_option(opts[li].name, optarg) < 0)
				return VM_EXIT_USAGE;
			break;
		case 'R':
			if (traffic_option(opts[li].name, optarg) < 0)
				return VM_EXIT_USAGE;
			break;
		case 'k':
			boot.kernel = optarg;
			break;
		case 'm':
			if (!parse_uint(optarg, MEM_MAX_MIB, &mem_mib) ||
			    mem_mib < MEM_MIN_MIB)
				return fail("--mem wants MiB between 2 and 3072", optarg);
			break;
		case 's':
			if (!parse_uint(optarg, 1000000, &smp) || smp == 0)
				return fail("--smp wants a vCPU count of at least 1",
					    optarg);
			break;
		case 'a':
			boot.cmdline = optarg;
			break;
		case 'i':
			if (parse_initrd(optarg, mods, &boot.nr_mods) < 0)
				return fail(
					"bad --initrd list (at most 16 modules, names < 4 KiB)",
					NULL);
			break;
		case 'S':
			serial = optarg;
			break;
		case 'K':
			kernel_irqchip = true;
			break;
		case 't': {
			char *end;
			timeout = strtod(optarg, &end);
			if (end == optarg || *end || !(timeout > 0) || timeout > 1e6)
				return fail("--timeout wants seconds > 0", optarg);
			break;
		}
		case 'T':
			stats = true;
			break;
		case 'E':
			if (!parse_uint(optarg, SPLIT_EOI_FLUSH_MAX_US, &eoi_flush_us))
				return fail("--eoi-flush wants microseconds, 0..1000000",
					    optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return fail("option needs a value (--help lists the options)",
				    argv[optind - 1]);
		default:
			return fail("unknown or ambiguous option, or one given a value "
				    "(--help lists them)",
				    bad_word(argc, argv));
		}
	}
	if (!boot.kernel && optind < argc)
		boot.kernel = argv[optind++];
	if (optind < argc)
		return fail("unexpected argument", argv[optind]);
	if (!boot.kernel)
		return fail("no kernel given (virq-vm [options] KERNEL)", NULL);
	if (smp > VM_MAX_VCPUS) {
		fprintf(stderr, "virq-vm: --smp %lu: at most %u vCPUs\n", smp,
			VM_MAX_VCPUS);
		return VM_EXIT_USAGE;
	}
	boot.mods = mods;
	if (traffic_check(kernel_irqchip, (unsigned)smp) < 0)
		return VM_EXIT_USAGE;
	if (traffic_sim_wanted()) /* the demo without KVM (demo_sim.c) */
		return traffic_run_sim((unsigned)smp);

	struct vm_mem mem;
	if (mem_init(&mem, (uint64_t)mem_mib << 20) < 0)
		return fail("cannot allocate guest RAM", strerror(errno));
	if (multiboot_load(&mem, &boot) < 0)
		return VM_EXIT_USAGE;

	unsigned kvm_max = kvm_max_vcpus();
	if (kvm_max && smp > kvm_max) {
		fprintf(stderr, "virq-vm: --smp %lu: KVM allows at most %u vCPUs here\n",
			smp, kvm_max);
		return VM_EXIT_USAGE;
	}

	int out_fd = STDOUT_FILENO;
	if (serial) {
		out_fd = open(serial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (out_fd < 0)
			return fail("cannot open --serial file", serial);
	}

	struct kvm_opts kopts = { .nr_vcpus = (unsigned)smp,
				  .kernel_irqchip = kernel_irqchip,
				  .eoi_flush_us = (unsigned)eoi_flush_us };
	struct kvm_vm *kvm;
	int r = kvm_vm_create(&kopts, &mem, &kvm);
	if (r == -2)
		return VM_EXIT_SKIP;
	if (r < 0)
		return VM_EXIT_GUEST;

	/* Devices raise their lines through these hooks: KVM_IRQ_LINE, or
	 * virq_set_irq with a source id for each device. */
	struct vm_irq uart_irq, testdev_irq;
	if (kvm_irq_hook(kvm, &uart_irq) < 0 || kvm_irq_hook(kvm, &testdev_irq) < 0)
		return fail("cannot set up the interrupt lines", NULL);
	struct uart *com1 = uart_create(0x3f8, 4, &uart_irq, out_fd);
	if (!com1 || debugexit_init(0xf4) < 0 || testdev_init(&testdev_irq) < 0 ||
	    fwcfg_init((uint32_t)smp, mem.size) < 0)
		return fail("cannot set up the devices", NULL);
	/* PCI bus 0 and the MSI-X test device (pci.c, pcitest.c) */
	if (pci_setup(kvm_virq_vm(kvm), kvm_vm_fd(kvm), (unsigned)smp) < 0)
		return fail("cannot set up PCI and the MSI-X test device", NULL);
	if (traffic_setup(kvm, (unsigned)smp, kernel_irqchip) < 0)
		return fail("cannot set up the interrupt traffic", NULL);

	if (kvm_set_boot_state(kvm, boot.entry, boot.info) < 0)
		return fail("cannot set the boot vCPU's state", strerror(errno));
	double t0 = now();
	traffic_pin_main(0); /* --traffic: the vCPU threads on CPU 0 */
	if (kvm_vm_start(kvm) < 0)
		return VM_EXIT_GUEST;
	traffic_pin_main(-1);
	if (traffic_start() < 0)
		return fail("cannot start the traffic threads", NULL);
	int status = wait_exit(timeout);
	double t1 = now();
	if (stats) {
		fprintf(stderr, "virq-vm: ran %.3f ms, status %d\n", (t1 - t0) * 1e3,
			status);
		kvm_print_stats(kvm, stderr);
		pcitest_print_stats(stderr);
	}
	/* Stop the vCPUs before anything goes away under them; if one does
	 * not stop, the process exits around it. */
	/* the traffic threads and irqfds use the VM too */
	traffic_stop();
	pci_stop(); /* its host thread uses the virq VM kvm_vm_stop frees */
	if (kvm_vm_stop(kvm) < 0)
		fprintf(stderr, "virq-vm: a vCPU thread did not stop\n");
	uart_flush(com1);
	if (status == VM_EXIT_TIMEOUT)
		fprintf(stderr, "virq-vm: timed out after %g s\n", timeout);
	exit(status);
}
