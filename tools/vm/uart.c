/* SPDX-License-Identifier: MIT */
/*
 * 16550A UART (the PC's COM1 at 0x3f8, IRQ 4).  Output is written to a
 * file descriptor (stdout or --serial FILE), line-buffered; input comes
 * from uart_receive().  Modelled: THR/RBR, IER, IIR/FCR, LCR with DLAB
 * (DLL/DLM), MCR, LSR, MSR, SCR; the THR-empty and received-data
 * interrupts.  The interrupt output reaches the IRQ line only while
 * MCR.OUT2 is set, as on a PC (QEMU does not gate it).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vm.h"

enum {
	UART_RBR_THR = 0,
	UART_IER = 1,
	UART_IIR_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
};

#define IER_RDI 0x01  /* received data available */
#define IER_THRI 0x02 /* THR empty */
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0 /* FIFOs enabled */
#define LCR_DLAB 0x80
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02

#define RX_SIZE 256
#define TX_SIZE 1024

struct uart {
	pthread_mutex_t lock;
	uint16_t base;
	uint32_t gsi;
	struct vm_irq irq;
	int out_fd;
	uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thr_pending; /* THR-empty interrupt latched, not yet acknowledged */
	int line;	  /* level last driven on the IRQ line */
	uint8_t rx[RX_SIZE];
	unsigned rx_head, rx_count;
	uint8_t tx[TX_SIZE];
	unsigned tx_len;
};

static void tx_flush_locked(struct uart *u)
{
	size_t off = 0;
	while (off < u->tx_len) {
		ssize_t n = write(u->out_fd, u->tx + off, u->tx_len - off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	u->tx_len = 0;
}

static uint8_t iir_locked(const struct uart *u)
{
	uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO : 0;
	if ((u->ier & IER_RDI) && u->rx_count)
		return fifo | IIR_RDI;
	if ((u->ier & IER_THRI) && u->thr_pending)
		return fifo | IIR_THRI;
	return fifo | IIR_NONE;
}

/* Drive the IRQ line to match the state; called with the lock held. */
static void update_irq_locked(struct uart *u)
{
	int level = !(iir_locked(u) & IIR_NONE) && (u->mcr & MCR_OUT2);
	if (level != u->line) {
		u->line = level;
		vm_irq_set(&u->irq, u->gsi, level);
	}
}

static void rx_push_locked(struct uart *u, uint8_t c)
{
	if (u->rx_count == RX_SIZE)
		return; /* overrun: dropped */
	u->rx[(u->rx_head + u->rx_count) % RX_SIZE] = c;
	u->rx_count++;
}

static uint32_t uart_read(void *opaque, uint16_t port, unsigned size)
{
	struct uart *u = opaque;
	uint32_t val = 0;
	(void)size;

	pthread_mutex_lock(&u->lock);
	switch (port - u->base) {
	case UART_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			val = u->dll;
		} else if (u->rx_count) {
			val = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % RX_SIZE;
			u->rx_count--;
		}
		break;
	case UART_IER:
		val = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
		break;
	case UART_IIR_FCR:
		val = iir_locked(u);
		/* reading IIR acknowledges a THR-empty interrupt it reports */
		if ((val & 0x0f) == IIR_THRI)
			u->thr_pending = false;
		break;
	case UART_LCR:
		val = u->lcr;
		break;
	case UART_MCR:
		val = u->mcr;
		break;
	case UART_LSR:
		val = LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
		break;
	case UART_MSR:
		/* loopback: modem inputs follow MCR; else CTS, DSR, DCD set */
		val = (u->mcr & MCR_LOOP)
			      ? (uint32_t)((u->mcr & 0x0c) << 4) |
					((u->mcr & 0x01) << 5) | ((u->mcr & 0x02) << 3)
			      : 0xb0;
		break;
	case UART_SCR:
		val = u->scr;
		break;
	}
	update_irq_locked(u);
	pthread_mutex_unlock(&u->lock);
	return val;
}

static void uart_write(void *opaque, uint16_t port, unsigned size, uint32_t val)
{
	struct uart *u = opaque;
	uint8_t v = (uint8_t)val;
	(void)size;

	pthread_mutex_lock(&u->lock);
	switch (port - u->base) {
	case UART_RBR_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			break;
		}
		if (u->mcr & MCR_LOOP) {
			rx_push_locked(u, v);
		} else {
			u->tx[u->tx_len++] = v;
			if (v == '\n' || u->tx_len == TX_SIZE)
				tx_flush_locked(u);
		}
		/* the byte leaves at once: THR is empty again */
		u->thr_pending = true;
		break;
	case UART_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		/* enabling THRI while THR is empty raises it at once */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_pending = true;
		u->ier = v & 0x0f;
		break;
	case UART_IIR_FCR:
		u->fcr = v & 0xc9;
		if (v & FCR_CLEAR_RX)
			u->rx_count = 0;
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		break;
	case UART_SCR:
		u->scr = v;
		break;
	default: /* LSR, MSR: read-only */
		break;
	}
	update_irq_locked(u);
	pthread_mutex_unlock(&u->lock);
}

struct uart *uart_create(uint16_t base, uint32_t gsi, const struct vm_irq *irq,
			 int out_fd)
{
	struct uart *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	pthread_mutex_init(&u->lock, NULL);
	u->base = base;
	u->gsi = gsi;
	u->irq = *irq;
	u->out_fd = out_fd;
	u->lcr = 0x03; /* 8N1 */
	u->dll = 0x0c; /* 9600 baud */
	if (pio_register(base, 8, uart_read, uart_write, u) < 0) {
		free(u);
		return NULL;
	}
	return u;
}

void uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&u->lock);
	for (size_t i = 0; i < len; i++)
		rx_push_locked(u, buf[i]);
	update_irq_locked(u);
	pthread_mutex_unlock(&u->lock);
}

void uart_flush(struct uart *u)
{
	pthread_mutex_lock(&u->lock);
	tx_flush_locked(u);
	pthread_mutex_unlock(&u->lock);
}
