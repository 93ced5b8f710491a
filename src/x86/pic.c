/* SPDX-License-Identifier: MIT */
/*
 * The 8259A PIC pair: master (IRQ 0-7) and slave (IRQ 8-15) cascaded on
 * master pin 2, with the PIIX ELCR choosing edge or level per IRQ.
 * Behaviour follows KVM's in-kernel model (arch/x86/kvm/i8259.c), with
 * special mask mode implemented as the 8259A datasheet describes it;
 * docs/x86.md lists the differences.
 *
 * Lock: one mutex guards both chips, the line levels and the output.
 * The CPU line is driven under it (the cpu_line sink contract allows
 * that); ack and mask notifiers run with it dropped, since a resampler
 * lowers a line through set_pin.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <virq/x86.h>

#include "../core/internal.h"

#define NR_IRQS 16
#define CASCADE_PIN 2

/* Hardware-fixed: IRQ 0-2 (master) and 8, 13 (slave) are edge-only. */
static const uint8_t elcr_mask[2] = { 0xf8, 0xde };
static const uint16_t ports[2] = { 0x20, 0xa0 };
#define ELCR_PORT 0x4d0

/* One 8259A; fields in the order of enum virq_pic_reg (kvm_pic_state). */
struct i8259 {
	uint8_t last_irr; /* line levels as last seen, for edge detection */
	uint8_t irr;
	uint8_t imr;
	uint8_t isr;
	uint8_t priority_add; /* the lowest-priority IRQ is priority_add - 1 */
	uint8_t irq_base;
	uint8_t read_reg_select; /* OCW3 RR/RIS: read ISR instead of IRR */
	uint8_t poll;
	uint8_t special_mask;
	uint8_t init_state; /* next ICW expected: 0 none, 1 ICW2, 2 ICW3, 3 ICW4 */
	uint8_t auto_eoi;
	uint8_t rotate_on_auto_eoi;
	uint8_t special_fully_nested_mode;
	uint8_t init4;
	uint8_t elcr;
	uint8_t elcr_mask;
};

struct pic {
	struct virq_device *dev;
	struct virq_vm *vm;
	uint32_t vcpu;

	pthread_mutex_t lock;
	/* all below: lock */
	struct i8259 chip[2];
	uint64_t sources[NR_IRQS]; /* line level per source id */
	int output;		   /* INT level last sent to the CPU */
	uint16_t acked;		   /* ISR bits cleared, notifiers not yet run */
	uint16_t mask_changed;	   /* IMR bits changed, notifiers not yet run */
	uint16_t mask_now;	   /* their new values */
};

static const struct virq_device_type pic_type;

static struct pic *to_pic(struct virq_device *dev)
{
	return virq_device_priv(dev);
}

/* Latch a line change into IRR; KVM's return codes (-1 masked). */
static int chip_set_line(struct i8259 *c, unsigned pin, int level)
{
	uint8_t bit = 1u << pin;
	int ret = 1;

	if (c->elcr & bit) {
		/* level: IRR follows the line */
		if (level) {
			ret = !(c->irr & bit);
			c->irr |= bit;
			c->last_irr |= bit;
		} else {
			c->irr &= ~bit;
			c->last_irr &= ~bit;
		}
	} else if (level) {
		/* edge: only a rising edge latches */
		if (!(c->last_irr & bit)) {
			ret = !(c->irr & bit);
			c->irr |= bit;
		}
		c->last_irr |= bit;
	} else {
		c->last_irr &= ~bit;
	}
	return (c->imr & bit) ? -1 : ret;
}

/* Priority (0 highest) of the first set bit of @mask, 8 if none. */
static unsigned priority_of(const struct i8259 *c, uint8_t mask)
{
	unsigned p = 0;

	if (!mask)
		return 8;
	while (!(mask & (1u << ((p + c->priority_add) & 7))))
		p++;
	return p;
}

/* The IRQ (0-7) this chip asks the CPU (or master) for, or -1. */
static int chip_pending(const struct i8259 *c, bool master)
{
	uint8_t in_service = c->isr;
	unsigned want = priority_of(c, c->irr & ~c->imr);

	if (want == 8)
		return -1;
	/* special mask mode: a masked level in service blocks nothing */
	if (c->special_mask)
		in_service &= ~c->imr;
	/* special fully nested: the slave may interrupt its own cascade */
	if (master && c->special_fully_nested_mode)
		in_service &= ~(1u << CASCADE_PIN);
	if (want >= priority_of(c, in_service))
		return -1;
	return (int)((want + c->priority_add) & 7);
}

static void chip_clear_isr(struct pic *p, unsigned which, unsigned irq)
{
	p->chip[which].isr &= ~(1u << irq);
	p->acked |= 1u << (which * 8 + irq);
}

/* Drive the CPU's INTR from the master's request (lock held). */
static void pic_output(struct pic *p)
{
	int level = chip_pending(&p->chip[0], true) >= 0;

	if (level != p->output) {
		p->output = level;
		virq_cpu_set_line(p->vm, p->vcpu, VIRQ_CPU_IRQ, level);
	}
}

/*
 * Propagate the slave's request to the master and the master's to the
 * CPU (lock held).  Called exactly where KVM calls pic_update_irq(): the
 * cascade pulse changes the master's IRR and last_irr, so calling it
 * anywhere else would make the state differ from KVM's.
 */
static void pic_update(struct pic *p)
{
	if (chip_pending(&p->chip[1], false) >= 0) {
		/* a pulse on the cascade input, as KVM models it */
		chip_set_line(&p->chip[0], CASCADE_PIN, 1);
		chip_set_line(&p->chip[0], CASCADE_PIN, 0);
	}
	pic_output(p);
}

/*
 * Unlock, after running the ack notifiers of the ISR bits cleared with
 * the lock dropped.  A notifier that changes a line goes through
 * set_pin, which re-evaluates everything itself.
 */
static void pic_unlock(struct pic *p)
{
	while (p->acked || p->mask_changed) {
		uint16_t acked = p->acked, changed = p->mask_changed, now = p->mask_now;

		p->acked = p->mask_changed = 0;
		pthread_mutex_unlock(&p->lock);
		for (unsigned irq = 0; irq < NR_IRQS; irq++) {
			if (changed & (1u << irq))
				virq_notify_mask(p->vm, irq / 8, irq % 8,
						 now & (1u << irq));
			if (acked & (1u << irq))
				virq_notify_ack(p->vm, irq / 8, irq % 8);
		}
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
}

static int pic_set_pin(struct virq_device *dev, uint32_t chip, uint32_t pin, int level,
		       uint32_t source_id)
{
	struct pic *p = to_pic(dev);
	unsigned irq = (chip == VIRQ_X86_CHIP_PIC_SLAVE ? 8 : 0) + (pin & 7);
	int ret;

	pthread_mutex_lock(&p->lock);
	level = virq_line_level(&p->sources[irq], source_id, level);
	ret = chip_set_line(&p->chip[irq / 8], irq % 8, level);
	pic_update(p);
	pic_unlock(p);
	return ret;
}

static void pic_clear_source(struct virq_device *dev, uint32_t source_id)
{
	struct pic *p = to_pic(dev);

	pthread_mutex_lock(&p->lock);
	for (unsigned irq = 0; irq < NR_IRQS; irq++) {
		uint64_t was = p->sources[irq];

		if (was && !virq_line_level(&p->sources[irq], source_id, 0))
			chip_set_line(&p->chip[irq / 8], irq % 8, 0);
	}
	pic_update(p);
	pic_unlock(p);
}

/* ---- INTA ---- */

/* The CPU acknowledges @irq of chip @which (lock held). */
static void chip_intack(struct pic *p, unsigned which, unsigned irq)
{
	struct i8259 *c = &p->chip[which];

	c->isr |= 1u << irq;
	/* a level request stays in IRR while its line is high */
	if (!(c->elcr & (1u << irq)))
		c->irr &= ~(1u << irq);
	if (c->auto_eoi) {
		if (c->rotate_on_auto_eoi)
			c->priority_add = (irq + 1) & 7;
		chip_clear_isr(p, which, irq);
	}
}

int virq_pic_read_irq(struct virq_device *dev)
{
	struct pic *p;
	int irq, irq2, vector;

	if (!dev || virq_device_get_type(dev) != &pic_type)
		return virq_fail(EINVAL, "pic_read_irq: not an i8259 device");
	p = to_pic(dev);
	pthread_mutex_lock(&p->lock);
	irq = chip_pending(&p->chip[0], true);
	if (irq < 0) {
		/* the request went away before INTA: spurious IRQ 7 */
		vector = p->chip[0].irq_base + 7;
	} else if (irq == CASCADE_PIN) {
		chip_intack(p, 0, CASCADE_PIN);
		irq2 = chip_pending(&p->chip[1], false);
		if (irq2 >= 0)
			chip_intack(p, 1, (unsigned)irq2);
		else
			irq2 = 7; /* spurious on the slave */
		vector = p->chip[1].irq_base + irq2;
	} else {
		chip_intack(p, 0, (unsigned)irq);
		vector = p->chip[0].irq_base + irq;
	}
	/* INT stays high if another request is pending: the VMM sees the
	 * line still raised and takes the next one after this */
	pic_update(p);
	pic_unlock(p);
	return vector & 0xff;
}

int virq_pic_output(struct virq_device *dev)
{
	struct pic *p;
	int level;

	if (!dev || virq_device_get_type(dev) != &pic_type)
		return virq_fail(EINVAL, "pic_output: not an i8259 device");
	p = to_pic(dev);
	pthread_mutex_lock(&p->lock);
	level = p->output;
	pthread_mutex_unlock(&p->lock);
	return level;
}

/* ---- guest registers ---- */

/* A new IMR; its changed bits are left for pic_unlock's mask notifiers. */
static void chip_set_imr(struct pic *p, unsigned which, uint8_t val)
{
	unsigned shift = which * 8;

	p->mask_changed |= (uint16_t)((p->chip[which].imr ^ val) << shift);
	p->mask_now =
		(uint16_t)((p->mask_now & ~(0xffu << shift)) | (unsigned)val << shift);
	p->chip[which].imr = val;
}

/* ICW1: start initialisation (what the 8259A datasheet resets). */
static void chip_icw1(struct pic *p, unsigned which, uint8_t val)
{
	struct i8259 *c = &p->chip[which];

	if (val & 0x02)
		virq_guest_error(p->dev, "ICW1 single mode (no cascade) not supported");
	if (val & 0x08)
		virq_guest_error(p->dev, "ICW1 LTIM not supported: the ELCR decides");
	c->init4 = val & 1;
	c->last_irr = 0;
	c->irr &= c->elcr; /* the edge sense latches are reset */
	chip_set_imr(p, which, 0);
	c->priority_add = 0;
	c->special_mask = 0;
	c->read_reg_select = 0;
	if (!c->init4) {
		c->special_fully_nested_mode = 0;
		c->auto_eoi = 0;
	}
	c->init_state = 1;
}

static void chip_ocw2(struct pic *p, unsigned which, uint8_t val)
{
	struct i8259 *c = &p->chip[which];
	unsigned cmd = val >> 5, prio, irq;

	switch (cmd) {
	case 0: /* clear / set rotate in auto-EOI mode */
	case 4:
		c->rotate_on_auto_eoi = cmd >> 2;
		return;
	case 1: /* non-specific EOI, and rotate */
	case 5:
		prio = priority_of(c, c->isr);
		if (prio == 8)
			return;
		irq = (prio + c->priority_add) & 7;
		if (cmd == 5)
			c->priority_add = (irq + 1) & 7;
		chip_clear_isr(p, which, irq);
		break;
	case 3: /* specific EOI */
		chip_clear_isr(p, which, val & 7);
		break;
	case 6: /* set priority: IRQ val&7 becomes the lowest */
		c->priority_add = (val + 1) & 7;
		break;
	case 7: /* rotate on specific EOI */
		irq = val & 7;
		c->priority_add = (irq + 1) & 7;
		chip_clear_isr(p, which, irq);
		break;
	default: /* 2: no operation */
		return;
	}
	pic_update(p);
}

static void chip_write(struct pic *p, unsigned which, unsigned port, uint8_t val)
{
	struct i8259 *c = &p->chip[which];

	if (port == 0) {
		if (val & 0x10) {
			chip_icw1(p, which, val);
		} else if (val & 0x08) { /* OCW3 */
			if (val & 0x04)
				c->poll = 1;
			if (val & 0x02)
				c->read_reg_select = val & 1;
			if (val & 0x40)
				c->special_mask = (val >> 5) & 1;
		} else {
			chip_ocw2(p, which, val);
			return;
		}
	} else {
		switch (c->init_state) {
		case 0: /* OCW1 */
			chip_set_imr(p, which, val);
			pic_update(p);
			return;
		case 1: /* ICW2 */
			c->irq_base = val & 0xf8;
			c->init_state = 2;
			break;
		case 2: /* ICW3: the cascade wiring is fixed */
			c->init_state = c->init4 ? 3 : 0;
			break;
		default: /* ICW4 */
			if (!(val & 1))
				virq_guest_error(p->dev,
						 "ICW4 MCS-80/85 mode not supported");
			c->special_fully_nested_mode = (val >> 4) & 1;
			c->auto_eoi = (val >> 1) & 1;
			c->init_state = 0;
			break;
		}
	}
	/* KVM leaves INTR as it was here; the hardware would not */
	pic_output(p);
}

/* OCW3 poll: the read is the INTA (lock held). */
static uint8_t chip_poll(struct pic *p, unsigned which)
{
	struct i8259 *c = &p->chip[which];
	int irq = chip_pending(c, which == 0);

	if (irq < 0) {
		pic_update(p);
		return 0x07; /* nothing requested */
	}
	if (which == 1) {
		/* the slave's answer also ends the master's cascade cycle */
		p->chip[0].isr &= ~(1u << CASCADE_PIN);
		p->chip[0].irr &= ~(1u << CASCADE_PIN);
	}
	c->irr &= ~(1u << irq);
	chip_clear_isr(p, which, (unsigned)irq);
	if (which == 1 || irq != CASCADE_PIN)
		pic_update(p);
	else
		pic_output(p);
	/* bit 7: an interrupt was requested (the 8259A's poll word, and what
	 * KVM answers on this machine) */
	return (uint8_t)(0x80 | irq);
}

static uint8_t chip_read(struct pic *p, unsigned which, unsigned port)
{
	struct i8259 *c = &p->chip[which];
	uint8_t v;

	if (c->poll) {
		v = chip_poll(p, which);
		c->poll = 0;
		return v;
	}
	if (port == 0)
		return c->read_reg_select ? c->isr : c->irr;
	return c->imr;
}

static int pic_read(struct virq_device *dev, uint32_t vcpu, unsigned region,
		    uint64_t offset, unsigned size, uint64_t *val)
{
	struct pic *p = to_pic(dev);

	(void)vcpu;
	*val = 0;
	if (size != 1) {
		virq_guest_error(
			dev, "%u-byte read of port 0x%llx", size,
			(unsigned long long)(region == 2 ? ELCR_PORT : ports[region]) +
				offset);
		return 0;
	}
	pthread_mutex_lock(&p->lock);
	if (region == 2)
		*val = p->chip[offset & 1].elcr;
	else
		*val = chip_read(p, region, offset & 1);
	pic_unlock(p);
	return 0;
}

static int pic_write(struct virq_device *dev, uint32_t vcpu, unsigned region,
		     uint64_t offset, unsigned size, uint64_t val)
{
	struct pic *p = to_pic(dev);

	(void)vcpu;
	if (size != 1) {
		virq_guest_error(
			dev, "%u-byte write of port 0x%llx", size,
			(unsigned long long)(region == 2 ? ELCR_PORT : ports[region]) +
				offset);
		return 0;
	}
	pthread_mutex_lock(&p->lock);
	if (region == 2) {
		struct i8259 *c = &p->chip[offset & 1];

		if ((uint8_t)val & ~c->elcr_mask)
			virq_guest_error(dev, "ELCR%u: IRQs 0x%02x are edge-only",
					 (unsigned)(offset & 1),
					 (uint8_t)val & ~c->elcr_mask);
		c->elcr = (uint8_t)val & c->elcr_mask;
	} else {
		chip_write(p, region, offset & 1, (uint8_t)val);
	}
	pic_unlock(p);
	return 0;
}

/* ---- attributes ---- */

static uint8_t *reg_of(struct i8259 *c, uint64_t reg)
{
	uint8_t *regs[VIRQ_PIC_NR_REGS] = {
		&c->last_irr,
		&c->irr,
		&c->imr,
		&c->isr,
		&c->priority_add,
		&c->irq_base,
		&c->read_reg_select,
		&c->poll,
		&c->special_mask,
		&c->init_state,
		&c->auto_eoi,
		&c->rotate_on_auto_eoi,
		&c->special_fully_nested_mode,
		&c->init4,
		&c->elcr,
		&c->elcr_mask,
	};

	return regs[reg];
}

static int attr_size(uint32_t group, uint64_t attr)
{
	switch (group) {
	case VIRQ_PIC_GRP_MASTER:
	case VIRQ_PIC_GRP_SLAVE:
		return attr < VIRQ_PIC_NR_REGS ? 1 : -1;
	case VIRQ_PIC_GRP_LINE:
		return attr < NR_IRQS ? 8 : -1;
	case VIRQ_PIC_GRP_SYNC:
		return attr == 0 ? 0 : -1;
	default:
		return -1;
	}
}

/* Values a register can hold; the rest cannot be restored. */
static bool reg_valid(unsigned which, uint64_t reg, uint8_t v)
{
	switch (reg) {
	case VIRQ_PIC_PRIORITY_ADD:
		return v < 8;
	case VIRQ_PIC_IRQ_BASE:
		return !(v & 7);
	case VIRQ_PIC_INIT_STATE:
		return v < 4;
	case VIRQ_PIC_READ_REG_SELECT:
	case VIRQ_PIC_POLL:
	case VIRQ_PIC_SPECIAL_MASK:
	case VIRQ_PIC_AUTO_EOI:
	case VIRQ_PIC_ROTATE_ON_AUTO_EOI:
	case VIRQ_PIC_SPECIAL_FULLY_NESTED:
	case VIRQ_PIC_INIT4:
		return v < 2;
	case VIRQ_PIC_ELCR:
		return !(v & ~elcr_mask[which]);
	case VIRQ_PIC_ELCR_MASK:
		return v == elcr_mask[which];
	default:
		return true;
	}
}

static int pic_has_attr(struct virq_device *dev, uint32_t group, uint64_t attr)
{
	(void)dev;
	return attr_size(group, attr) < 0 ? -ENXIO : 0;
}

static int pic_get_attr(struct virq_device *dev, uint32_t group, uint64_t attr, void *buf,
			size_t size)
{
	struct pic *p = to_pic(dev);
	int want = attr_size(group, attr);

	if (want < 0)
		return -ENXIO;
	if (group == VIRQ_PIC_GRP_SYNC)
		return -EPERM; /* write-only */
	if (size != (size_t)want)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	if (group == VIRQ_PIC_GRP_LINE)
		memcpy(buf, &p->sources[attr], 8);
	else
		memcpy(buf, reg_of(&p->chip[group - VIRQ_PIC_GRP_MASTER], attr), 1);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/*
 * Setting state stores it and moves nothing; SYNC, written last by a
 * restore, re-evaluates the cascade and the INT output (KVM_SET_IRQCHIP
 * does the same after its copy).
 */
static int pic_set_attr(struct virq_device *dev, uint32_t group, uint64_t attr,
			const void *buf, size_t size)
{
	struct pic *p = to_pic(dev);
	int want = attr_size(group, attr), ret = 0;
	unsigned which = group - VIRQ_PIC_GRP_MASTER;
	uint8_t v = 0;

	if (want < 0)
		return -ENXIO;
	if (size != (size_t)want)
		return -EINVAL;
	pthread_mutex_lock(&p->lock);
	switch (group) {
	case VIRQ_PIC_GRP_SYNC:
		pic_update(p);
		break;
	case VIRQ_PIC_GRP_LINE:
		memcpy(&p->sources[attr], buf, 8);
		break;
	default:
		memcpy(&v, buf, 1);
		if (reg_valid(which, attr, v))
			*reg_of(&p->chip[which], attr) = v;
		else
			ret = virq_fail(EINVAL,
					"pic: value 0x%02x invalid for register %u", v,
					(unsigned)attr);
		break;
	}
	pic_unlock(p);
	return ret;
}

/* ---- lifetime ---- */

static void pic_reset(struct virq_device *dev)
{
	struct pic *p = to_pic(dev);

	pthread_mutex_lock(&p->lock);
	for (unsigned which = 0; which < 2; which++) {
		struct i8259 *c = &p->chip[which];

		memset(c, 0, sizeof(*c));
		c->elcr_mask = elcr_mask[which];
		/* lines that stay high are not a new edge */
		for (unsigned pin = 0; pin < 8; pin++)
			if (p->sources[which * 8 + pin])
				c->last_irr |= 1u << pin;
	}
	pic_update(p);
	pic_unlock(p);
}

static int pic_create(struct virq_device *dev, const void *args)
{
	const struct virq_pic_args *a = args;
	struct pic *p;
	int ret;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->dev = dev;
	p->vm = virq_device_vm(dev);
	p->vcpu = a ? a->vcpu : 0;
	for (unsigned which = 0; which < 2; which++)
		p->chip[which].elcr_mask = elcr_mask[which];
	pthread_mutex_init(&p->lock, NULL);
	virq_device_set_priv(dev, p);
	ret = virq_device_add_chip(dev, VIRQ_X86_CHIP_PIC_MASTER, VIRQ_X86_PIC_PINS);
	if (!ret)
		ret = virq_device_add_chip(dev, VIRQ_X86_CHIP_PIC_SLAVE,
					   VIRQ_X86_PIC_PINS);
	for (unsigned which = 0; !ret && which < 2; which++)
		ret = virq_device_add_region(dev, VIRQ_SPACE_PIO, ports[which], 2, which);
	if (!ret)
		ret = virq_device_add_region(dev, VIRQ_SPACE_PIO, ELCR_PORT, 2, 2);
	if (ret) {
		pthread_mutex_destroy(&p->lock);
		free(p);
	}
	return ret;
}

static void pic_destroy(struct virq_device *dev)
{
	struct pic *p = to_pic(dev);

	pthread_mutex_destroy(&p->lock);
	free(p);
}

static const struct virq_device_type pic_type = {
	.name = "i8259",
	.ops = {
		.create = pic_create,
		.destroy = pic_destroy,
		.reset = pic_reset,
		.set_pin = pic_set_pin,
		.clear_source = pic_clear_source,
		.read = pic_read,
		.write = pic_write,
		.get_attr = pic_get_attr,
		.set_attr = pic_set_attr,
		.has_attr = pic_has_attr,
	},
};

int virq_pic_register(void)
{
	return virq_device_type_register(&pic_type);
}
