// SPDX-License-Identifier: MIT
/*
 * 8254 PIT (Intel 82C54 datasheet), channel 2 only: mode and count through
 * port 0x43/0x42, counter latch and read-back of the current count, OUT2 on
 * port 0x61 bit 5 and its gate on bit 0 (the PC speaker's). Counting runs
 * at 1.193182 MHz from Keel's clock. Channels 0 and 1 accept writes and do
 * nothing: no interrupts come from this PIT.
 */
#include <arch/x86/pc_regs.h>
#include <arch/x86/tsc.h>
#include <keel/page_alloc.h>
#include <keel/vm.h>
#include <keel/vpit.h>

#define CMD_CHANNEL(c) (((c) >> 6) & 3)
#define CMD_ACCESS(c) (((c) >> 4) & 3) /* 0 latch, 1 lo, 2 hi, 3 lo then hi */
#define CMD_MODE(c) (((c) >> 1) & 7)

struct vpit {
	u8 gate; /* port 0x61 bits 0-1 */
	u8 access, mode;
	u16 reload;
	bool lo_written, read_hi, latched;
	u16 latch;
	u64 start_ns; /* when counting began (gate rising or count written) */
};

static u64 elapsed_ticks(struct vpit *p)
{
	u64 ns = time_ns() - p->start_ns;

	return ns / 1000000000ULL * PIT_HZ + ns % 1000000000ULL * PIT_HZ / 1000000000ULL;
}

static u16 current_count(struct vpit *p)
{
	u64 period = p->reload ? p->reload : 65536;

	if (!(p->gate & PIT_PORT_B_GATE2))
		return p->reload;
	if (p->mode == 0) /* 82C54: mode 0 counts on through zero to FFFFh, without reloading */
		return (u16)(p->reload - elapsed_ticks(p));
	return (u16)(period - elapsed_ticks(p) % period);
}

static bool out2(struct vpit *p)
{
	u64 period = p->reload ? p->reload : 65536;

	if (!(p->gate & PIT_PORT_B_GATE2))
		return p->mode != 0;
	if (p->mode == 0) /* interrupt on terminal count: high once the count ran out */
		return elapsed_ticks(p) >= period;
	if ((p->mode & 3) == 2) /* rate generator: low for the one clock the count is 1 */
		return elapsed_ticks(p) % period != period - 1;
	return elapsed_ticks(p) % period < (period + 1) / 2; /* square wave: odd N high longer */
}

static int pit_read(struct vcpu *v, void *opaque, u16 port, u8 size, u32 *val)
{
	struct vpit *p = opaque;
	u16 count;

	(void)v, (void)size;
	if (port == PIT_PORT_B) {
		*val = p->gate | (out2(p) ? PIT_PORT_B_OUT2 : 0);
		return 0;
	}
	if (port != PIT_CH2) {
		*val = 0;
		return 0;
	}
	count = p->latched ? p->latch : current_count(p);
	if (p->access == 1 || (p->access == 3 && !p->read_hi))
		*val = count & 0xff;
	else
		*val = count >> 8;
	if (p->access == 3)
		p->read_hi = !p->read_hi;
	if (p->access != 3 || !p->read_hi)
		p->latched = false;
	return 0;
}

static void command(struct vpit *p, u8 c)
{
	if (CMD_CHANNEL(c) != 2)
		return;
	if (CMD_ACCESS(c) == 0) { /* counter latch */
		if (!p->latched)  /* 82C54: a second latch before the read is ignored */
			p->latch = current_count(p);
		p->latched = true;
		return;
	}
	p->access = CMD_ACCESS(c);
	p->mode = CMD_MODE(c);
	p->lo_written = p->read_hi = p->latched = false;
	p->reload = 0; /* 82C54: programming clears both bytes; a one-byte count has the other 0 */
}

static int pit_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	struct vpit *p = opaque;
	u8 b = (u8)val;

	(void)v, (void)size;
	if (port == PIT_PORT_B) {
		if ((b & PIT_PORT_B_GATE2) && !(p->gate & PIT_PORT_B_GATE2))
			/* a rising gate restarts the count (modes 0, 1, 5) */
			p->start_ns = time_ns();
		p->gate = b & 3;
	} else if (port == PIT_CMD) {
		command(p, b);
	} else if (port == PIT_CH2) {
		if (p->access == 1 || (p->access == 3 && !p->lo_written))
			p->reload = (u16)((p->reload & 0xff00) | b);
		else
			p->reload = (u16)((p->reload & 0xff) | b << 8);
		p->lo_written = p->access == 3 && !p->lo_written;
		if (!p->lo_written)
			p->start_ns = time_ns();
	}
	return 0;
}

static void vpit_free(void *opaque)
{
	page_free(opaque, 1);
}

int vpit_attach(struct vm *vm)
{
	struct vpit *p = page_alloc_zeroed(1);
	struct io_handler counters = { PIT_CH0, 4, pit_read, pit_write, p, "PIT" };
	struct io_handler gate = { PIT_PORT_B, 1, pit_read, pit_write, p, "port B" };

	if (!p)
		return -ENOMEM;
	if (vm_add_cleanup(vm, vpit_free, p) || vm_register_io(vm, &counters) ||
	    vm_register_io(vm, &gate))
		return -ENOSPC;
	return 0;
}
