/* SPDX-License-Identifier: MIT */
/*
 * The test kernels' tiny runtime: port I/O, serial printf, debug exit,
 * interrupts, LAPIC/IOAPIC/PIC helpers, fw_cfg, AP start-up.  Kernel-mode
 * code is emulated (slow) on the PVM backend: keep every path short.
 */
#ifndef GUEST_KERNEL_H
#define GUEST_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"

/* ---- port I/O ---- */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}
static inline void sti(void)
{
	__asm__ volatile("sti" ::: "memory");
}
/*
 * Enable interrupts and halt until one arrives, then disable again.  The
 * way to wait for an interrupt here: on the PVM backend a pending
 * interrupt is not taken inside a short "sti; nop; cli" window.
 */
static inline void sti_hlt(void)
{
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}
static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* ---- libc ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Stop the VM: virq-vm exits with (code << 1) | 1.  0 = pass. */
__attribute__((noreturn)) void debug_exit(uint32_t code);
__attribute__((noreturn)) void pass(void);
__attribute__((noreturn, format(printf, 1, 2))) void fail(const char *fmt, ...);

/* ---- boot ---- */
struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
};
struct mb_module {
	uint32_t start, end, string, reserved;
};
extern const struct mb_info *mb_info;
/* Value of "name=N" on the command line, or @def. */
uint32_t cmdline_uint(const char *name, uint32_t def);

/* Each kernel defines kmain(); those that start APs define ap_main(). */
void kmain(void);
void ap_main(unsigned cpu);

/* ---- interrupts ---- */
struct irq_frame {
	uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
typedef void (*irq_handler_t)(struct irq_frame *f);
void idt_init(void); /* fill the IDT (boot CPU) */
void idt_load(void); /* load it (every CPU) */
void irq_set_handler(uint8_t vector, irq_handler_t fn);

/* ---- local APIC (xAPIC MMIO) ---- */
#define LAPIC_BASE 0xfee00000ul
#define LAPIC_ID 0x20
#define LAPIC_TPR 0x80
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ISR 0x100
#define LAPIC_TMR 0x180
#define LAPIC_IRR 0x200
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_LINT0 0x350
#define ICR_FIXED 0x000
#define ICR_INIT 0x500
#define ICR_STARTUP 0x600
#define ICR_BUSY 0x1000
#define ICR_ASSERT 0x4000
#define ICR_SELF 0x40000
#define ICR_ALL_BUT_SELF 0xc0000
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t val);
void lapic_enable(void); /* SVR: software enable, spurious vector 0xff */
void lapic_eoi(void);
uint32_t lapic_id(void);
void lapic_icr(uint32_t dest, uint32_t low); /* waits while busy */
bool lapic_isr_set(uint8_t vector);
bool lapic_irr_set(uint8_t vector);
bool lapic_tmr_set(uint8_t vector);
/* Return once every interrupt pending before the call was taken. */
void irq_fence(void);
/*
 * Wait (fence after fence, at most @max_fences) until *@count reaches
 * @want, then fence once more so that an extra interrupt would show up;
 * return the count.  A bounded wait: a lost interrupt fails the test
 * instead of hanging it.
 */
uint32_t irq_wait_for(const volatile uint32_t *count, uint32_t want, unsigned max_fences);
#define IRQ_WAIT_FENCES 10000u /* about 1 s here */

/* ---- IOAPIC ---- */
#define IOAPIC_BASE 0xfec00000ul
#define IOAPIC_REDIR_MASKED 0x10000u
#define IOAPIC_REDIR_LEVEL 0x8000u
#define IOAPIC_REDIR_REMOTE_IRR 0x4000u
#define IOAPIC_REDIR_LOW_ACTIVE 0x2000u
uint32_t ioapic_read(uint32_t reg);
void ioapic_write(uint32_t reg, uint32_t val);
void ioapic_set_redir(unsigned pin, uint32_t low, uint8_t dest);
uint32_t ioapic_redir_low(unsigned pin);

/* ---- 8259A PIC pair ---- */
void pic_init(uint8_t master_base, uint8_t slave_base); /* all masked */
void pic_set_mask(uint16_t mask);			/* bit n = IRQ n */
void pic_eoi(unsigned irq);
/* OCW3 reads: bit n = IRQ n of the pair */
uint16_t pic_read_isr(void);
uint16_t pic_read_irr(void);
#define PIC_MASTER_CMD 0x20
#define PIC_MASTER_DATA 0x21
#define PIC_SLAVE_CMD 0xa0
#define PIC_SLAVE_DATA 0xa1
#define PIC_OCW2_EOI 0x20	   /* non-specific EOI */
#define PIC_OCW2_SPECIFIC_EOI 0x60 /* | IRQ level */

/* ---- QEMU pc-testdev ---- */
static inline void testdev_set_irq(unsigned gsi, int level)
{
	outb((uint16_t)(0x2000 + gsi), (uint8_t)level);
}

/* ---- fw_cfg ---- */
void fwcfg_read(uint16_t key, void *buf, size_t len);
uint32_t fwcfg_nr_cpus(void);
uint64_t fwcfg_ram_size(void);

/* ---- SMP ---- */
/* An AP's "I am up" IPI to CPU 0 (its handler only EOIs); kernels may
 * send it to any CPU to wake it from hlt. */
#define SMP_WAKE_VECTOR 0x40
/* CPUs up, CPU 0 included (ap_online counts the others). */
extern volatile uint32_t smp_online;
/* Copy the trampoline below 1 MiB and send INIT, SIPI, SIPI to all APs. */
void start_aps(void);
/* CPU 0: install the wake handler, then start_aps(). */
void smp_start(void);
/* CPU 0: sleep until @n CPUs are up. */
void smp_wait_online(unsigned n);
/* From ap_main: enable this LAPIC, count this CPU up and wake CPU 0. */
void ap_online(void);

/* ---- spin lock ---- */
typedef struct {
	volatile int v;
} spinlock_t;
void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);

#endif
