/* SPDX-License-Identifier: MIT */
/*
 * The demo without KVM (docs/vm.md, "The demo"): the same streams as
 * `virq-vm --demo` (traffic.c's host threads and table), into a virq VM
 * with "ioapic", "i8259" and "lapic" devices and an MSI-X function.
 * Threads stand in for the vCPUs: each waits for its VIRQ_CPU_IRQ line,
 * takes the interrupt with virq_lapic_ack, plays demo.c's handler (ack
 * through traffic_guest_ack, re-target every DEMO_ROTATE, EOI with
 * virq_lapic_eoi or the PIC's OCW2) and waits again.  The PIC's INT
 * reaches vCPU 0's LINT0 (ExtINT) through an extra vCPU index of its own.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virq/virq.h>

#include "traffic.h"
#include "vm.h"

static struct {
	struct virq_vm *vm;
	struct virq_device *ioapic, *pic, *lapic, *msix;
	unsigned n; /* vCPUs; index n is the PIC's output */
	pthread_t th[VM_MAX_VCPUS];
	pthread_mutex_t lock; /* irq[], stop */
	pthread_cond_t cond;
	bool irq[VM_MAX_VCPUS], stop;
	pthread_mutex_t guest; /* the simulated guest's IOAPIC index/data */
	uint32_t count[DEMO_STREAMS], cpu_of[DEMO_STREAMS];
} S = { .lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.guest = PTHREAD_MUTEX_INITIALIZER };

static void cpu_line(void *opaque, uint32_t vcpu, enum virq_cpu_line line, int level)
{
	(void)opaque;
	if (line != VIRQ_CPU_IRQ)
		return;
	if (vcpu == S.n) { /* the PIC's INT: vCPU 0's LINT0 */
		virq_lapic_set_lint(S.lapic, 0, 0, level);
		return;
	}
	pthread_mutex_lock(&S.lock);
	S.irq[vcpu] = level;
	pthread_cond_broadcast(&S.cond);
	pthread_mutex_unlock(&S.lock);
}

static void io(unsigned cpu, enum virq_space sp, uint64_t addr, uint64_t val)
{
	virq_io_write(S.vm, cpu, sp, addr, sp == VIRQ_SPACE_PIO ? 1 : 4, val);
}

static void ioapic_write(unsigned cpu, uint32_t reg, uint32_t val)
{
	pthread_mutex_lock(&S.guest);
	io(cpu, VIRQ_SPACE_MMIO, 0xfec00000u, reg);
	io(cpu, VIRQ_SPACE_MMIO, 0xfec00010u, val);
	pthread_mutex_unlock(&S.guest);
}

static int rotate(unsigned stream)
{
	if (++S.count[stream] % DEMO_ROTATE || S.n < 2)
		return -1;
	S.cpu_of[stream] = (S.cpu_of[stream] + 1) % S.n;
	return (int)S.cpu_of[stream];
}

/* demo.c's handlers */
static void handle(unsigned c, int v)
{
	int to;
	unsigned stream = v == DEMO_V_EDGE    ? DEMO_EDGE
			  : v == DEMO_V_LEVEL ? DEMO_LEVEL
			  : v == DEMO_V_PIC   ? DEMO_PIC
					      : DEMO_MSIX;
	if (v == DEMO_V_PIC) {
		io(c, VIRQ_SPACE_PIO, 0x20, 0x60 | 3); /* specific EOI, IRQ 3 */
	} else {
		if (v != DEMO_V_EDGE && v != DEMO_V_LEVEL && v != DEMO_V_MSIX) {
			virq_lapic_eoi(S.lapic, c);
			return;
		}
		if ((to = rotate(stream)) >= 0) {
			if (v == DEMO_V_MSIX) {
				struct virq_msix_entry e = { 0xfee00000u | (uint32_t)to
										   << 12,
							     0, DEMO_V_MSIX, 0 };
				virq_msix_set_entry(S.msix, 0, &e);
			} else {
				unsigned pin =
					v == DEMO_V_EDGE ? DEMO_EDGE_GSI : DEMO_LEVEL_GSI;
				ioapic_write(c, 0x11 + 2 * pin, (uint32_t)to << 24);
			}
		}
		virq_lapic_eoi(S.lapic, c);
	}
	traffic_guest_ack(stream | c << 8 | (uint32_t)v << 16);
}

static void *vcpu_thread(void *arg)
{
	unsigned c = (unsigned)(uintptr_t)arg;

	for (;;) {
		pthread_mutex_lock(&S.lock);
		while (!S.irq[c] && !S.stop)
			pthread_cond_wait(&S.cond, &S.lock);
		bool stop = S.stop;
		pthread_mutex_unlock(&S.lock);
		if (stop)
			return NULL;
		int v = virq_lapic_ack(S.lapic, c);
		if (v >= 0)
			handle(c, v);
		else
			sched_yield(); /* the line is about to fall */
	}
}

/* The simulated guest's boot: LAPICs, PIC, IOAPIC entries, MSI-X. */
static int guest_boot(void)
{
	static const uint8_t pic_init[][2] = {
		{ 0x20, 0x11 }, { 0x21, 0x30 }, { 0x21, 0x04 }, { 0x21, 0x01 },
		{ 0xa0, 0x11 }, { 0xa1, 0x38 }, { 0xa1, 0x02 }, { 0xa1, 0x01 },
		{ 0x21, 0xf7 }, { 0xa1, 0xff }, /* only IRQ 3 unmasked */
	};
	struct virq_msix_config mc = { .nr_vectors = 1, .gsi_base = 64 };
	struct virq_msix_entry e = { 0xfee00000u, 0, DEMO_V_MSIX, 0 };

	for (unsigned c = 0; c < S.n; c++)
		io(c, VIRQ_SPACE_MMIO, 0xfee000f0u, 0x1ff); /* SVR: enabled */
	io(0, VIRQ_SPACE_MMIO, 0xfee00350u, 0x700);	    /* LVT0 ExtINT */
	for (unsigned i = 0; i < sizeof(pic_init) / sizeof(pic_init[0]); i++)
		io(0, VIRQ_SPACE_PIO, pic_init[i][0], pic_init[i][1]);
	ioapic_write(0, 0x11 + 2 * DEMO_EDGE_GSI, 0);
	ioapic_write(0, 0x10 + 2 * DEMO_EDGE_GSI, DEMO_V_EDGE);
	ioapic_write(0, 0x11 + 2 * DEMO_LEVEL_GSI, 0);
	ioapic_write(0, 0x10 + 2 * DEMO_LEVEL_GSI, DEMO_V_LEVEL | 0x8000u);
	if (virq_msix_create(S.vm, &mc, &S.msix) < 0 ||
	    virq_msix_ctrl_write(S.msix, VIRQ_MSIX_CTRL_ENABLE) < 0 ||
	    virq_msix_set_entry(S.msix, 0, &e) < 0)
		return -1;
	return 0;
}

/* What the chips hold for a stream that finished no round (traffic.c). */
static void dump(uint32_t gsi, uint32_t vector)
{
	struct virq_irqfd_stats st;
	uint64_t redir = 0, line = 0;
	unsigned w = vector / 32;

	virq_irqfd_get_stats(S.vm, &st);
	fprintf(stderr,
		"  irqfds bound %llu, signals %llu, resamples %llu, auto-unbound %llu\n",
		(unsigned long long)st.bound, (unsigned long long)st.signals,
		(unsigned long long)st.resamples, (unsigned long long)st.auto_unbound);
	if (vector == DEMO_V_PIC) {
		/* ExtINT: the master PIC and vCPU 0's LINT0, no LAPIC vector */
		uint8_t r[VIRQ_PIC_NR_REGS] = { 0 };
		uint32_t lint = 0;

		for (unsigned i = 0; i < VIRQ_PIC_NR_REGS; i++)
			virq_device_get_attr(S.pic, VIRQ_PIC_GRP_MASTER, i, &r[i], 1);
		virq_device_get_attr(S.lapic, VIRQ_LAPIC_GRP_STATE, VIRQ_LAPIC_STATE_LINT,
				     &lint, sizeof(lint));
		fprintf(stderr,
			"  master PIC: irr 0x%02x imr 0x%02x isr 0x%02x, INT %d; vCPU 0 "
			"lint 0x%x\n",
			r[VIRQ_PIC_IRR], r[VIRQ_PIC_IMR], r[VIRQ_PIC_ISR],
			virq_pic_output(S.pic), lint);
		return;
	}
	virq_device_get_attr(S.ioapic, VIRQ_IOAPIC_GRP_REDIR, gsi, &redir, sizeof(redir));
	virq_device_get_attr(S.ioapic, VIRQ_IOAPIC_GRP_LINE, gsi, &line, sizeof(line));
	fprintf(stderr, "  ioapic pin %u: entry 0x%016llx, line sources 0x%llx\n", gsi,
		(unsigned long long)redir, (unsigned long long)line);
	/* the vCPUs only: index S.n is the PIC's output */
	for (unsigned c = 0; c < S.n; c++) {
		uint32_t irr = 0, isr = 0, tmr = 0, ppr = 0, lint = 0;
		uint64_t a = (uint64_t)c << 32;

		virq_device_get_attr(S.lapic, VIRQ_LAPIC_GRP_REG, a | (0x200 + w * 0x10),
				     &irr, sizeof(irr));
		virq_device_get_attr(S.lapic, VIRQ_LAPIC_GRP_REG, a | (0x100 + w * 0x10),
				     &isr, sizeof(isr));
		virq_device_get_attr(S.lapic, VIRQ_LAPIC_GRP_REG, a | (0x180 + w * 0x10),
				     &tmr, sizeof(tmr));
		virq_device_get_attr(S.lapic, VIRQ_LAPIC_GRP_REG, a | 0xa0, &ppr,
				     sizeof(ppr));
		virq_device_get_attr(S.lapic, VIRQ_LAPIC_GRP_STATE,
				     a | VIRQ_LAPIC_STATE_LINT, &lint, sizeof(lint));
		pthread_mutex_lock(&S.lock);
		bool line_up = S.irq[c];
		pthread_mutex_unlock(&S.lock);
		fprintf(stderr,
			"  vCPU %u: vector 0x%02x irr %u isr %u tmr %u, ppr 0x%02x, lint 0x%x, "
			"INTR %s\n",
			c, vector, irr >> (vector % 32) & 1, isr >> (vector % 32) & 1,
			tmr >> (vector % 32) & 1, ppr, lint, line_up ? "high" : "low");
	}
}

static int sim_fail(const char *what)
{
	fprintf(stderr, "virq-vm: demo simulation: %s: %s\n", what, virq_last_error());
	return VM_EXIT_GUEST;
}

int demo_sim_run(unsigned nr_vcpus)
{
	struct virq_vm_config cfg = { .nr_vcpus = nr_vcpus + 1,
				      .ops = { .cpu_line = cpu_line } };
	struct virq_pic_args pa = { .vcpu = nr_vcpus };
	unsigned started = 0;
	int status = 0;

	S.n = nr_vcpus;
	if (virq_ioapic_register() || virq_pic_register() || virq_lapic_register() ||
	    virq_vm_create(&cfg, &S.vm))
		return sim_fail("creating the VM");
	struct virq_lapic_args la = { 0 };
	if (virq_device_create(S.vm, "ioapic", NULL, &S.ioapic) ||
	    virq_device_create(S.vm, "i8259", &pa, &S.pic))
		return sim_fail("creating the chips");
	la.ioapic = S.ioapic;
	la.pic = S.pic;
	if (virq_device_create(S.vm, "lapic", &la, &S.lapic) ||
	    virq_x86_default_routes(S.vm))
		return sim_fail("creating the LAPICs");
	virq_vm_set_running(S.vm, true);
	if (guest_boot() < 0)
		return sim_fail("the guest's set-up");
	if (traffic_setup_sim(S.vm, S.msix, nr_vcpus, dump) < 0)
		return sim_fail("the traffic streams");
	for (; started < nr_vcpus; started++)
		if (pthread_create(&S.th[started], NULL, vcpu_thread,
				   (void *)(uintptr_t)started))
			break;
	if (started < nr_vcpus || traffic_start() < 0) {
		fprintf(stderr, "virq-vm: demo simulation: cannot start threads\n");
		status = VM_EXIT_GUEST;
	} else {
		traffic_guest_ready();
		if (!traffic_wait_done())
			status = VM_EXIT_GUEST;
	}
	traffic_stop();
	pthread_mutex_lock(&S.lock);
	S.stop = true;
	pthread_cond_broadcast(&S.cond);
	pthread_mutex_unlock(&S.lock);
	for (unsigned c = 0; c < started; c++)
		pthread_join(S.th[c], NULL);
	virq_vm_set_running(S.vm, false);
	virq_vm_destroy(S.vm);
	return status;
}
