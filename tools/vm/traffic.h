/* SPDX-License-Identifier: MIT */
/*
 * virq-vm's interrupt traffic (docs/vm.md, "Interrupt traffic" and "The
 * demo"): host threads write eventfds bound as irqfds, the guest answers
 * every interrupt with an `out` to the traffic port, and the VMM times
 * each round trip (eventfd write -> guest ack seen by the VMM).
 */
#ifndef VIRQ_VM_TRAFFIC_H
#define VIRQ_VM_TRAFFIC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "guest_abi.h" /* the ports, streams and GSIs the guest sees */

struct kvm_vm;
struct virq_vm;
struct virq_device;

/* ---- latency histogram and the table (traffic_stats.c) ---- */
#define HIST_BUCKETS 4096u /* bucket = 200 ln(ns): 0.5 % wide */
struct lat_hist {
	uint64_t n;
	double sum_ns;
	uint32_t b[HIST_BUCKETS];
};
void hist_add(struct lat_hist *h, double ns);
void hist_merge(struct lat_hist *dst, const struct lat_hist *src);
/* @p in [0, 1]; 0 when empty */
double hist_pct(const struct lat_hist *h, double p);

struct table_row {
	const char *source;
	uint32_t gsi;
	uint32_t vcpu;
	uint32_t vector;
	uint64_t count;
	struct lat_hist h;
};
/*
 * Print the rows: on a terminal (@tty) redraw in place, else plain lines
 * with an elapsed-time stamp.  @final prints the summary instead.
 */
void table_print(FILE *f, const struct table_row *rows, unsigned n, double elapsed,
		 bool tty, bool final);

/* ---- traffic.c ---- */
/* One of main's options "traffic" PATH,COUNT, "stats-json" FILE, "demo"
 * SEC, "demo-sim" (@val NULL); -1 with one line on stderr for a bad value. */
int traffic_option(const char *name, char *val);
bool traffic_active(void);
bool traffic_sim_wanted(void);		/* --demo-sim or --demo without /dev/kvm */
int traffic_run_sim(unsigned nr_vcpus); /* demo_sim_run; the exit status */
/* Check the options against each other and the mode (-1 with one line on
 * stderr). */
int traffic_check(bool kernel_irqchip, unsigned nr_vcpus);
/* Pin the main thread for what it creates next: @cpu, or -1 = any. */
void traffic_pin_main(int cpu);
/* After pci_setup: the port and the irqfds' targets. */
int traffic_setup(struct kvm_vm *kvm, unsigned nr_vcpus, bool kernel_irqchip);
/* After the vCPUs started: the host threads. */
int traffic_start(void);
/* Before the VM goes away: stop the threads, write --stats-json. */
void traffic_stop(void);

/* The guest's port writes (also the simulation's "guest"). */
void traffic_guest_ready(void);
void traffic_guest_ack(uint32_t val);
/* The simulation: demo streams on @vm with virq irqfds, @msix vector 0;
 * @dump prints the chips' state of a stream that finished no round. */
int traffic_setup_sim(struct virq_vm *vm, struct virq_device *msix, unsigned nr_vcpus,
		      void (*dump)(uint32_t gsi, uint32_t vector));
/* Wait until the demo's display thread has printed the summary; false if
 * a stream finished no round. */
bool traffic_wait_done(void);

/* ---- demo_sim.c: the demo without KVM (virq's LAPIC model) ---- */
int demo_sim_run(unsigned nr_vcpus);

#endif
