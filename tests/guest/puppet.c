/* SPDX-License-Identifier: MIT */
/*
 * puppet: runs the host's seeded scripts (multiboot module 0, written by
 * puppet_gen.c, format in puppet.h) and prints what it observes, one line
 * per script, so that tests/guest/run_puppet.sh can compare a boot under
 * KVM's in-kernel irqchip with one under virq's split irqchip
 * (docs/vm.md, "The puppet").  "first=K" and "count=N" on the command line
 * run scripts K .. K+N-1 only.
 *
 * Line: "P <index> <seed> <ops>" then one token per observation,
 * "<op index, hex>:<value>":
 *   IOAPIC read           the IOWIN value
 *   IOREGSEL write/read   "<IOREGSEL>/<IOWIN>"
 *   wait                  the vectors taken in order ("t" after a vector
 *                         whose TMR bit was set in the handler), "-" for
 *                         none, "+" when the wait gave up (see below)
 *   LAPIC IRR             "<word>=<bits>" for each nonzero IRR word 1-7
 *   PIC/ELCR inb          the byte read
 * and "r:" twice at the end: the drains after the reset.
 *
 * Facts of this machine's PVM backend the design rests on (docs/vm.md,
 * "The PVM backend"):
 *  - Interrupts are taken only at "sti; hlt".  The handler returns with IF
 *    clear, so each sti; hlt takes exactly one interrupt, and a wait is a
 *    loop of them until a self-IPI fence at vector 0x20 (below every
 *    script vector) arrives, at most PUPPET_WAIT_LIMIT interrupts: a level
 *    line left high and unmasked is re-delivered at every EOI (a storm),
 *    so a wait must be bounded; the fence then stays pending and is taken
 *    by a later wait.
 *  - The LAPIC ends an interrupt as it delivers it: the EOI broadcast of a
 *    level vector happens when the CPU takes it (KVM's IOAPIC: at once;
 *    virq's: at the handler's first exit), so remote IRR clears, and a
 *    line still high is delivered again, before the handler returns in
 *    both modes.  Explicit EOI writes (OP_EOI, the handler's) find nothing
 *    in service and do nothing, in both modes.  In split mode that EOI
 *    reaches virq at the vCPU's next exit to the VMM, and LAPIC accesses
 *    are not such exits: the handler reads pc-testdev's scratch port
 *    first, so the EOI, and a re-delivery, happen inside the handler.
 *    Lines are never changed inside a handler (that would race with the
 *    EOI in split mode).
 *  - Only vCPU 0 runs (an AP's level EOI does not exit in split mode).
 * LVT0 is masked, so the 8259A pair is exercised as registers only.
 */
#include "kernel.h"
#include "puppet.h"

#define FENCE_VECTOR 0x20
#define RFLAGS_IF 0x200ull
#define UART_GSI 4

/*
 * Bit 7 of a poll result is compared unless "raw_poll=0" is given (this
 * machine's KVM and virq both answer 0x80 | IRQ).
 */
static uint8_t poll_mask = 0xff;

static volatile uint32_t fences, nrecv;
static volatile uint16_t recv[PUPPET_WAIT_LIMIT];

static void handler(struct irq_frame *f)
{
	unsigned v = f->vector & 0xff;

	/*
	 * An exit to the VMM: in split mode the EOI exit of a level vector
	 * comes at the vCPU's next exit to the VMM, and LAPIC accesses (TMR,
	 * IRR, EOI) are not such exits here.  Without this the re-delivery
	 * of a level line still high would wait for the next port or IOAPIC
	 * access, after the wait has ended (seen: the LAPIC IRR read after a
	 * storm showed the vector pending with --kernel-irqchip only).
	 */
	(void)inl(0xe0); /* pc-testdev scratch */
	if (v == FENCE_VECTOR) {
		fences++;
	} else {
		uint16_t e = (uint16_t)v;
		if (lapic_tmr_set((uint8_t)v))
			e |= 0x100;
		if (nrecv < PUPPET_WAIT_LIMIT)
			recv[nrecv] = e;
		nrecv++;
	}
	f->rflags &= ~RFLAGS_IF; /* one interrupt per sti; hlt */
	lapic_eoi();
}

/* ---- the log line ---- */
static char line[8192];
static unsigned len;

static void put_c(char c)
{
	if (len < sizeof(line) - 1)
		line[len++] = c;
}

static void put_s(const char *s)
{
	while (*s)
		put_c(*s++);
}

static void put_x(uint32_t v)
{
	char t[8];
	unsigned n = 0;
	do {
		t[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	while (n)
		put_c(t[--n]);
}

static void put_tag(uint32_t op)
{
	put_c(' ');
	put_x(op);
	put_c(':');
}

static void flush_line(void)
{
	char chunk[121];

	line[len] = 0;
	for (unsigned i = 0; i < len; i += 120) {
		unsigned n = len - i < 120 ? len - i : 120;
		memcpy(chunk, line + i, n);
		chunk[n] = 0;
		printf("%s", chunk);
	}
	printf("\n");
	len = 0;
}

/* ---- operations ---- */
static void wait_irqs(void)
{
	uint32_t start = fences;
	unsigned n;

	nrecv = 0;
	lapic_icr(0, ICR_SELF | ICR_FIXED | ICR_ASSERT | FENCE_VECTOR);
	for (n = 0; fences == start && n < PUPPET_WAIT_LIMIT; n++)
		sti_hlt();
	if (!nrecv)
		put_c('-');
	for (uint32_t i = 0; i < nrecv && i < PUPPET_WAIT_LIMIT; i++) {
		if (i)
			put_c(',');
		put_x(recv[i] & 0xff);
		if (recv[i] & 0x100)
			put_c('t');
	}
	if (fences == start)
		put_c('+');
}

static void lapic_irr(void)
{
	bool any = false;

	for (uint32_t w = 1; w < 8; w++) {
		uint32_t v = lapic_read(LAPIC_IRR + 0x10 * w);
		if (!v)
			continue;
		if (any)
			put_c(',');
		put_x(w);
		put_c('=');
		put_x(v);
		any = true;
	}
	if (!any)
		put_c('-');
}

static void run_op(uint32_t i, const struct puppet_op *o)
{
	volatile uint32_t *sel = (volatile uint32_t *)IOAPIC_BASE;
	volatile uint32_t *win = (volatile uint32_t *)(IOAPIC_BASE + 0x10);

	switch (o->code) {
	case OP_IO_WRITE:
		ioapic_write(o->reg, o->val);
		break;
	case OP_IO_READ:
		put_tag(i);
		put_x(ioapic_read(o->reg));
		break;
	case OP_SEL_READ: {
		uint32_t s, w;
		*sel = o->val;
		s = *sel;
		w = *win;
		put_tag(i);
		put_x(s);
		put_c('/');
		put_x(w);
		break;
	}
	case OP_LINE:
		if (o->reg < 24 && o->reg != UART_GSI)
			testdev_set_irq(o->reg, o->val != 0);
		break;
	case OP_EOI:
		lapic_eoi();
		break;
	case OP_WAIT:
		put_tag(i);
		wait_irqs();
		break;
	case OP_LAPIC_IRR:
		put_tag(i);
		lapic_irr();
		break;
	case OP_PIC_OUT:
		if (o->port == 0x20 || o->port == 0x21 || o->port == 0xa0 ||
		    o->port == 0xa1 || o->port == 0x4d0 || o->port == 0x4d1)
			outb(o->port, (uint8_t)o->val);
		break;
	case OP_PIC_IN:
		put_tag(i);
		if (o->port == 0x20 || o->port == 0x21 || o->port == 0xa0 ||
		    o->port == 0xa1 || o->port == 0x4d0 || o->port == 0x4d1)
			put_x(inb(o->port));
		else
			put_c('?');
		break;
	case OP_PIC_POLL:
		put_tag(i);
		if (o->port != 0x20 && o->port != 0xa0) {
			put_c('?');
			break;
		}
		outb(o->port, 0x0c);
		put_x(inb((uint16_t)(o->port + (o->reg & 1))) & poll_mask);
		break;
	default:
		fail("script op %u: unknown code %u", i, o->code);
	}
}

/*
 * The known state between scripts: every entry masked and edge with
 * vector 0 (an edge write clears remote IRR), destination 0, ID 0; every
 * line low; the PIC pair re-initialised (ELCR 0, bases 0x20/0x28, all
 * masked, nothing in service); then whatever is still pending in the
 * LAPIC is drained (and logged, with @log).
 */
static void reset(bool log)
{
	cli();
	for (unsigned p = 0; p < 24; p++) {
		ioapic_write(0x10 + 2 * p, IOAPIC_REDIR_MASKED);
		ioapic_write(0x11 + 2 * p, 0);
	}
	ioapic_write(0, 0);
	for (unsigned g = 0; g < 24; g++)
		if (g != UART_GSI)
			testdev_set_irq(g, 0);
	outb(0x4d0, 0);
	outb(0x4d1, 0);
	pic_init(0x20, 0x28);
	for (unsigned k = 0; k < 8; k++) {
		outb(PIC_SLAVE_CMD, PIC_OCW2_EOI);
		outb(PIC_MASTER_CMD, PIC_OCW2_EOI);
	}
	for (unsigned k = 0; k < 2; k++) {
		if (log)
			put_s(" r:");
		uint32_t at = len;
		wait_irqs();
		if (!log)
			len = at;
	}
}

void kmain(void)
{
	const struct mb_info *mbi = mb_info;
	const struct mb_module *m = (const struct mb_module *)(uintptr_t)mbi->mods_addr;
	uint32_t first = cmdline_uint("first", 0),
		 count = cmdline_uint("count", 0xffffffffu);
	const struct puppet_file_hdr *h;
	const uint8_t *p, *end;
	uint32_t ran = 0, ops = 0;

	if (!cmdline_uint("raw_poll", 1))
		poll_mask = 0x7f;

	if (!(mbi->flags & (1u << 3)) || mbi->mods_count < 1)
		fail("no script module (--initrd FILE)");
	p = (const uint8_t *)(uintptr_t)m[0].start;
	end = (const uint8_t *)(uintptr_t)m[0].end;
	h = (const void *)p;
	if (end - p < (long)sizeof(*h) || h->magic != PUPPET_MAGIC ||
	    h->version != PUPPET_VERSION)
		fail("module 0 is not a puppet script file");
	p += sizeof(*h);

	pic_init(0x20, 0x28);
	lapic_enable();
	lapic_write(LAPIC_LVT_LINT0, 0x10000); /* masked: no ExtINT */
	for (unsigned v = FENCE_VECTOR; v < 256; v++)
		irq_set_handler((uint8_t)v, handler);
	len = 0;
	reset(false);
	printf("PUPPET %u scripts, seed 0x%x\n", h->nr_scripts, h->seed);

	for (uint32_t s = 0; s < h->nr_scripts; s++) {
		const struct puppet_script_hdr *sh = (const void *)p;
		const struct puppet_op *o;

		if (end - p < (long)sizeof(*sh) || sh->nr_ops > PUPPET_MAX_OPS ||
		    (unsigned long)(end - p) < sizeof(*sh) + sh->nr_ops * sizeof(*o))
			fail("script %u truncated", s);
		o = (const void *)(p + sizeof(*sh));
		p += sizeof(*sh) + sh->nr_ops * sizeof(*o);
		if (s < first || s - first >= count)
			continue;
		put_s("P ");
		put_x(s);
		put_c(' ');
		put_x(sh->seed);
		put_c(' ');
		put_x(sh->nr_ops);
		for (uint32_t i = 0; i < sh->nr_ops; i++)
			run_op(i, &o[i]);
		reset(true);
		flush_line();
		ran++;
		ops += sh->nr_ops;
	}
	printf("PUPPET end: %u scripts, %u ops\n", ran, ops);
}
