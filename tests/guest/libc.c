/* SPDX-License-Identifier: MIT */
/* Test kernels: string functions, serial printf, exits, command line. */
#include "kernel.h"

#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4

const struct mb_info *mb_info;

void *memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;
	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

void spin_lock(spinlock_t *l)
{
	while (__atomic_exchange_n(&l->v, 1, __ATOMIC_ACQUIRE))
		while (l->v)
			cpu_relax();
}

void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
}

/* ---- printf: %s %c %d %u %x %p, with l/ll and a zero-padded width ---- */
struct out {
	char buf[160];
	unsigned len;
};

static void put(struct out *o, char c)
{
	if (o->len < sizeof(o->buf))
		o->buf[o->len++] = c;
}

static void put_num(struct out *o, uint64_t v, unsigned base, bool neg, unsigned width,
		    char pad)
{
	char tmp[24];
	unsigned n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	while (width > n) {
		put(o, pad);
		width--;
	}
	while (n)
		put(o, tmp[--n]);
}

static void vformat(struct out *o, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(o, *fmt);
			continue;
		}
		char pad = ' ';
		unsigned width = 0, lng = 0;
		if (*++fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			while (*s)
				put(o, *s++);
			break;
		}
		case 'c':
			put(o, (char)va_arg(ap, int));
			break;
		case 'd': {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(o, v < 0 ? (uint64_t)-v : (uint64_t)v, 10, v < 0, width,
				pad);
			break;
		}
		case 'u':
			put_num(o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 10,
				false, width, pad);
			break;
		case 'x':
			put_num(o, lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned), 16,
				false, width, pad);
			break;
		case 'p':
			put(o, '0');
			put(o, 'x');
			put_num(o, (uintptr_t)va_arg(ap, void *), 16, false, 0, ' ');
			break;
		case '%':
			put(o, '%');
			break;
		default:
			return;
		}
	}
}

static spinlock_t print_lock;

static void serial_write(const char *s, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		while (!(inb(COM1 + 5) & 0x20)) /* LSR.THRE */
			cpu_relax();
		outb(COM1, (uint8_t)s[i]);
	}
}

void printf(const char *fmt, ...)
{
	struct out o;
	va_list ap;
	o.len = 0;
	va_start(ap, fmt);
	vformat(&o, fmt, ap);
	va_end(ap);
	spin_lock(&print_lock);
	serial_write(o.buf, o.len);
	spin_unlock(&print_lock);
}

void debug_exit(uint32_t code)
{
	outl(DEBUG_EXIT_PORT, code);
	for (;;)
		__asm__ volatile("cli; hlt");
}

void pass(void)
{
	printf("PASS\n");
	debug_exit(0);
}

void fail(const char *fmt, ...)
{
	struct out o;
	va_list ap;
	o.len = 0;
	va_start(ap, fmt);
	vformat(&o, fmt, ap);
	va_end(ap);
	serial_write("FAIL: ", 6);
	serial_write(o.buf, o.len);
	serial_write("\n", 1);
	debug_exit(1);
}

uint32_t cmdline_uint(const char *name, uint32_t def)
{
	if (!mb_info || !(mb_info->flags & (1u << 2)))
		return def;
	const char *s = (const char *)(uintptr_t)mb_info->cmdline;
	size_t n = strlen(name);
	for (; *s; s++) {
		if ((s == (const char *)(uintptr_t)mb_info->cmdline || s[-1] == ' ') &&
		    !memcmp(s, name, n) && s[n] == '=') {
			uint32_t v = 0;
			for (s += n + 1; *s >= '0' && *s <= '9'; s++)
				v = v * 10 + (uint32_t)(*s - '0');
			return v;
		}
	}
	return def;
}

/* Entered from boot.S on the boot CPU, in long mode. */
void boot_main(uint32_t magic, uint32_t info);
void boot_main(uint32_t magic, uint32_t info)
{
	if (magic != 0x2badb002)
		fail("multiboot magic 0x%x", magic);
	mb_info = (const struct mb_info *)(uintptr_t)info;
	idt_init();
	idt_load();
	kmain();
	pass();
}

void ap_boot_main(unsigned cpu);
void ap_boot_main(unsigned cpu)
{
	idt_load();
	ap_main(cpu);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* Kernels without APs never get here. */
__attribute__((weak)) void ap_main(unsigned cpu)
{
	(void)cpu;
}
