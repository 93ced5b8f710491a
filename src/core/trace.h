/* SPDX-License-Identifier: MIT */
/*
 * USDT probes (provider "virq").  Each is a single nop until a tracer
 * (bpftrace, perf, systemtap) attaches, so they stay on the hot path.
 *   virq:route_commit  (vm, gsis changed, entries in table)
 *   virq:inject        (vm, gsi, level, source, result)
 *   virq:msi           (vm, address, data, result)
 *   virq:deliver       (vm, vcpu, line, level)
 */
#ifndef VIRQ_CORE_TRACE_H
#define VIRQ_CORE_TRACE_H

#if defined(VIRQ_HAVE_SDT) && __has_include(<sys/sdt.h>)
#include <sys/sdt.h>
#define virq_trace_commit(vm, changed, entries) \
	STAP_PROBE3(virq, route_commit, vm, changed, entries)
#define virq_trace_inject(vm, gsi, level, source, ret) \
	STAP_PROBE5(virq, inject, vm, gsi, level, source, ret)
#define virq_trace_msi(vm, addr, data, ret) STAP_PROBE4(virq, msi, vm, addr, data, ret)
#define virq_trace_deliver(vm, vcpu, line, level) \
	STAP_PROBE4(virq, deliver, vm, vcpu, line, level)
#else
#define virq_trace_commit(vm, changed, entries) ((void)0)
#define virq_trace_inject(vm, gsi, level, source, ret) ((void)0)
#define virq_trace_msi(vm, addr, data, ret) ((void)0)
#define virq_trace_deliver(vm, vcpu, line, level) ((void)0)
#endif

#endif
