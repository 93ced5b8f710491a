/* SPDX-License-Identifier: MIT */
/* What virq-bench.c shares with the benches kept in their own files. */
#ifndef VIRQ_BENCH_H
#define VIRQ_BENCH_H

#include <stdbool.h>
#include <stddef.h>

extern bool json;  /* --json: one object per line */
extern bool quick; /* --quick: short runs (make check's smoke run) */

double now_ns(void);
/* sorts @v */
double percentile(double *v, size_t n, double p);
/* baseline < 0: none; ratio given by the caller (its direction varies) */
void report(const char *bench, const char *metric, double value, const char *unit,
	    double baseline, double ratio);
void pin_to_cpu(int cpu);

void bench_msix(void); /* bench_msix.c */
/* bench_msix_kvm.c: needs /dev/kvm (bench_msix runs it) */
void bench_msix_kvm(void);
void bench_x86(void); /* bench_x86.c */
/* bench_guest.c: needs /dev/kvm and virq-vm */
void bench_guest(void);

#endif
