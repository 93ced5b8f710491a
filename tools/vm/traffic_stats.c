/* SPDX-License-Identifier: MIT */
/*
 * Latency histograms (log scale, 0.5 % per bucket) and the live table of
 * the demo (docs/vm.md, "The demo").
 */
#include <math.h>

#include "traffic.h"

#define HIST_SCALE 200.0

void hist_add(struct lat_hist *h, double ns)
{
	double x = ns > 1.0 ? log(ns) * HIST_SCALE : 0.0;
	unsigned k = x >= HIST_BUCKETS - 1 ? HIST_BUCKETS - 1 : (unsigned)x;

	h->b[k]++;
	h->n++;
	h->sum_ns += ns;
}

void hist_merge(struct lat_hist *dst, const struct lat_hist *src)
{
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->n += src->n;
	dst->sum_ns += src->sum_ns;
}

double hist_pct(const struct lat_hist *h, double p)
{
	uint64_t want, seen = 0;

	if (!h->n)
		return 0;
	want = (uint64_t)(p * (double)(h->n - 1)) + 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) /* the bucket's middle */
			return exp(((double)i + 0.5) / HIST_SCALE);
	}
	return exp(HIST_BUCKETS / HIST_SCALE);
}

static void row_print(FILE *f, const struct table_row *r)
{
	char vcpu[16], vec[16];

	snprintf(vcpu, sizeof(vcpu), "%u", r->vcpu);
	snprintf(vec, sizeof(vec), "0x%02x", r->vector);
	fprintf(f, "%-13s %4u %6s %5s %10llu %10.1f %10.1f\n", r->source, r->gsi, vec,
		vcpu, (unsigned long long)r->count, hist_pct(&r->h, 0.5) / 1e3,
		hist_pct(&r->h, 0.99) / 1e3);
}

void table_print(FILE *f, const struct table_row *rows, unsigned n, double elapsed,
		 bool tty, bool final)
{
	static unsigned drawn; /* lines of the last in-place table */
	uint64_t total = 0;

	if (tty && drawn && !final)
		fprintf(f, "\033[%uA", drawn); /* back to the table's top */
	if (final)
		fprintf(f, "%ssummary after %.1f s\n", tty ? "\n" : "", elapsed);
	else
		fprintf(f, "%s%.1f s%s\n", tty ? "" : "--- ", elapsed,
			tty ? "\033[K" : "");
	fprintf(f, "%-13s %4s %6s %5s %10s %10s %10s%s\n", "source", "gsi", "vector",
		"vcpu", "count", "median us", "p99 us", tty && !final ? "\033[K" : "");
	for (unsigned i = 0; i < n; i++) {
		row_print(f, &rows[i]);
		total += rows[i].count;
	}
	fprintf(f, "%-13s %4s %6s %5s %10llu (%.0f/s)%s\n", "total", "", "", "",
		(unsigned long long)total, elapsed > 0 ? (double)total / elapsed : 0.0,
		tty && !final ? "\033[K" : "");
	drawn = n + 3;
	fflush(f);
}
