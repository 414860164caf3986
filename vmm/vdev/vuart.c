// SPDX-License-Identifier: MIT
/*
 * Virtual 16550A (register map: TI PC16550D datasheet). Transmit is
 * immediate, so THR is always empty; receive has a 64-byte buffer. The
 * interrupt (received data, THR empty) goes to the VM's I/O APIC pin when
 * MCR.OUT2 gates it on, as on PCs.
 */
#include <arch/x86/pc_regs.h>
#include <keel/log.h>
#include <keel/page_alloc.h>
#include <lib/string.h>
#include <keel/uart.h>
#include <keel/vioapic.h>
#include <keel/vm.h>
#include <keel/vuart.h>

#define RX_SIZE 64
#define LINE_MAX 160

struct vuart {
	struct spinlock lock;
	vuart_sink_fn sink;
	void *ctx;
	struct vm *vm;
	u8 ier, lcr, mcr, scr, dll, dlm, fcr;
	u8 irq;
	bool thre_pending; /* a "transmitter empty" interrupt not yet acknowledged */
	bool pin;	   /* the level last put on the interrupt pin */
	u8 rx[RX_SIZE];
	u32 rx_head, rx_count;
	char line[LINE_MAX];
	u32 line_len;
};

static u8 pending_iir(struct vuart *u)
{
	if ((u->ier & UART_IER_RX) && u->rx_count)
		return UART_IIR_RX;
	if ((u->ier & UART_IER_THRE) && u->thre_pending)
		return UART_IIR_THRE;
	return UART_IIR_NONE;
}

/*
 * Drives the interrupt pin from the current state; call without u->lock.
 * The pin is set under the lock: two CPUs updating it at once must not
 * leave an older level on it, or an edge is lost and the guest's
 * interrupt-driven transmitter waits for ever.
 */
static void update_irq(struct vuart *u)
{
	u64 flags = spin_lock_irqsave(&u->lock);
	bool line = pending_iir(u) != UART_IIR_NONE && (u->mcr & UART_MCR_OUT2);

	/* low and low before: nothing to tell (a high one is told again: level pins retrigger) */
	if (u->vm->ioapic && (line || u->pin))
		vioapic_set_pin(u->vm->ioapic, u->irq, line);
	u->pin = line;
	spin_unlock_irqrestore(&u->lock, flags);
}

static u32 read_iir(struct vuart *u)
{
	u8 iir = pending_iir(u);

	if (iir == UART_IIR_THRE)
		u->thre_pending = false; /* reading IIR acknowledges THR empty */
	return iir | ((u->fcr & 1) ? UART_IIR_FIFO : 0);
}

static int vuart_read(struct vcpu *v, void *opaque, u16 port, u8 size, u32 *val)
{
	struct vuart *u = opaque;
	u32 off = port & 7;
	u64 flags = spin_lock_irqsave(&u->lock);

	(void)v, (void)size;
	switch (off) {
	case UART_RBR:
		if (u->lcr & UART_LCR_DLAB) {
			*val = u->dll;
		} else {
			*val = u->rx_count ? u->rx[u->rx_head] : 0;
			if (u->rx_count) {
				u->rx_head = (u->rx_head + 1) % RX_SIZE;
				u->rx_count--;
			}
		}
		break;
	case UART_IER:
		*val = (u->lcr & UART_LCR_DLAB) ? u->dlm : u->ier;
		break;
	case UART_IIR:
		*val = read_iir(u);
		break;
	case UART_LCR:
		*val = u->lcr;
		break;
	case UART_MCR:
		*val = u->mcr;
		break;
	case UART_LSR:
		*val = UART_LSR_THRE | UART_LSR_TEMT | (u->rx_count ? UART_LSR_DR : 0);
		break;
	case UART_MSR:
		*val = UART_MSR_CTS_DSR_DCD;
		break;
	default:
		*val = u->scr;
		break;
	}
	spin_unlock_irqrestore(&u->lock, flags);
	if (off == UART_RBR || off == UART_IIR) /* reading the others changes nothing */
		update_irq(u);
	return 0;
}

static void vuart_write_reg(struct vuart *u, u32 off, u8 b);

static int vuart_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	struct vuart *u = opaque;
	u32 off = port & 7;
	u8 b = (u8)val;

	(void)v, (void)size;
	if (off == UART_RBR && !(u->lcr & UART_LCR_DLAB)) {
		u64 flags;

		u->sink(u, u->ctx, b); /* outside the lock: the sink may take its own */
		flags = spin_lock_irqsave(&u->lock);
		u->thre_pending = true; /* sent at once: THR is empty again */
		spin_unlock_irqrestore(&u->lock, flags);
		update_irq(u);
		return 0;
	}
	vuart_write_reg(u, off, b);
	update_irq(u);
	return 0;
}

static void vuart_write_reg(struct vuart *u, u32 off, u8 b)
{
	u64 flags = spin_lock_irqsave(&u->lock);

	switch (off) {
	case UART_RBR:
		u->dll = b;
		break;
	case UART_IER:
		if (u->lcr & UART_LCR_DLAB) {
			u->dlm = b;
		} else {
			if ((b & UART_IER_THRE) && !(u->ier & UART_IER_THRE))
				/* enabling it with THR empty interrupts at once */
				u->thre_pending = true;
			u->ier = b & 0x0f;
		}
		break;
	case UART_FCR:
		u->fcr = b;
		break;
	case UART_LCR:
		u->lcr = b;
		break;
	case UART_MCR:
		u->mcr = b & 0x1f;
		break;
	case UART_SCR:
		u->scr = b;
		break;
	}
	spin_unlock_irqrestore(&u->lock, flags);
}

static void vuart_free(void *opaque)
{
	page_free(opaque, 1);
}

struct vuart *vuart_create(struct vm *vm, u16 port, u8 irq, vuart_sink_fn sink, void *ctx)
{
	struct vuart *u = page_alloc_zeroed(1);
	struct io_handler h = { port, UART_NR_PORTS, vuart_read, vuart_write, u, "UART" };

	BUILD_ASSERT(sizeof(struct vuart) <= PAGE_SIZE, "one page per UART");
	if (!u)
		return NULL;
	u->sink = sink;
	u->ctx = ctx;
	u->vm = vm;
	u->irq = irq;
	if (vm->ioapic)
		vioapic_claim_pin(vm->ioapic, irq);
	if (vm_add_cleanup(vm, vuart_free, u) || vm_register_io(vm, &h))
		return NULL;
	return u;
}

struct vm *vuart_vm(struct vuart *u)
{
	return u->vm;
}

bool vuart_receive(struct vuart *u, u8 byte)
{
	u64 flags = spin_lock_irqsave(&u->lock);
	bool ok = u->rx_count < RX_SIZE;

	if (ok) {
		u->rx[(u->rx_head + u->rx_count) % RX_SIZE] = byte;
		u->rx_count++;
	}
	spin_unlock_irqrestore(&u->lock, flags);
	update_irq(u);
	return ok;
}

void vuart_sink_log(struct vuart *u, void *ctx, u8 byte)
{
	(void)ctx;
	if (byte == '\r')
		return;
	if (byte != '\n' && u->line_len < LINE_MAX - 1) {
		u->line[u->line_len++] = (char)byte;
		return;
	}
	u->line[u->line_len] = 0;
	pr_info("vm %s: %s", u->vm->name, u->line);
	u->line_len = 0;
	if (byte != '\n')
		u->line[u->line_len++] = (char)byte;
}

void vuart_sink_serial(struct vuart *u, void *ctx, u8 byte)
{
	(void)u, (void)ctx;
	log_console_byte(byte);
}
