// SPDX-License-Identifier: MIT
/* Host tests of the virtual 16550: receive buffer, LSR, IIR priority, interrupt enables, DLAB. */
#include <keel/vioapic.h>
#include <keel/vuart.h>
#include "fake_vm.h"
#include "test.h"

#define COM1 0x3f8
#define IRQ 4
/* PC16550D register map and bits */
#define RBR 0 /* THR on write, DLL with DLAB */
#define IER 1 /* DLM with DLAB */
#define IIR 2 /* FCR on write */
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7
#define IER_RDA 0x01
#define IER_THRE 0x02
#define IIR_NONE 0x01
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define IIR_FIFOS 0xc0
#define FCR_ENABLE 0x01
#define LCR_DLAB 0x80
#define MCR_OUT2 0x08
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define RX_DEPTH 64

extern long fake_pages_live;
extern char fake_log_last[512];

/* --- the I/O APIC pin and the transmit sink --- */
static struct vioapic *fake_io = (struct vioapic *)&fake_io; /* any non-NULL handle */
static bool pin_level;
static u32 pin_edges, claimed_pin = 99;

void vioapic_set_pin(struct vioapic *io, u32 pin, bool level)
{
	CHECK(io == fake_io);
	CHECK_EQ(pin, IRQ);
	if (level && !pin_level)
		pin_edges++;
	pin_level = level;
}

void vioapic_claim_pin(struct vioapic *io, u32 pin)
{
	CHECK(io == fake_io);
	claimed_pin = pin;
}

static u8 sent[256];
static u32 nr_sent;

static void sink(struct vuart *u, void *ctx, u8 byte)
{
	(void)u;
	CHECK(ctx == sent);
	if (nr_sent < sizeof(sent))
		sent[nr_sent] = byte;
	nr_sent++;
}

static u8 console[16];
static u32 nr_console;

void log_console_byte(u8 byte)
{
	if (nr_console < sizeof(console))
		console[nr_console] = byte;
	nr_console++;
}

/* --- helpers --- */
static struct vuart *u;

static u8 in(u32 reg)
{
	return (u8)fake_in(&fake_vcpus[0], (u16)(COM1 + reg), 1);
}

static void out(u32 reg, u8 val)
{
	fake_out(&fake_vcpus[0], (u16)(COM1 + reg), 1, val);
}

static void setup_with(vuart_sink_fn fn)
{
	fake_vm_reset(1);
	fake_vm.ioapic = fake_io;
	pin_level = false;
	pin_edges = nr_sent = nr_console = 0;
	claimed_pin = 99;
	u = vuart_create(&fake_vm, COM1, IRQ, fn, sent);
	CHECK(u != NULL);
}

static void setup(void)
{
	setup_with(sink);
}

static void teardown(void)
{
	fake_vm_free();
	CHECK_EQ(fake_pages_live, 0);
}

TEST(create_claims_eight_ports_and_the_pin)
{
	setup();
	CHECK_EQ(fake_vm.nr_io, 1);
	CHECK_EQ(fake_vm.io[0].base, COM1);
	CHECK_EQ(fake_vm.io[0].count, 8);
	CHECK_EQ(claimed_pin, IRQ);
	CHECK(vuart_vm(u) == &fake_vm);
	CHECK_EQ(in(IIR), IIR_NONE);
	CHECK_EQ(in(LSR), LSR_THRE | LSR_TEMT);
	CHECK(!pin_level);
	teardown();
}

TEST(transmit_goes_to_the_sink_at_once)
{
	setup();
	out(RBR, 'o');
	out(RBR, 'k');
	CHECK_EQ(nr_sent, 2);
	CHECK_EQ(sent[0], 'o');
	CHECK_EQ(sent[1], 'k');
	CHECK_EQ(in(LSR), LSR_THRE | LSR_TEMT); /* never busy */
	teardown();
}

TEST(receive_sets_dr_until_the_buffer_is_read)
{
	setup();
	CHECK(vuart_receive(u, 'a'));
	CHECK(vuart_receive(u, 'b'));
	CHECK_EQ(in(LSR), LSR_DR | LSR_THRE | LSR_TEMT);
	CHECK_EQ(in(RBR), 'a');
	CHECK(in(LSR)&LSR_DR);
	CHECK_EQ(in(RBR), 'b');
	CHECK_EQ(in(LSR)&LSR_DR, 0);
	CHECK_EQ(in(RBR), 0); /* empty */
	teardown();
}

TEST(a_full_buffer_refuses_bytes_instead_of_overrunning)
{
	setup();
	for (u32 round = 0; round < 3; round++) { /* the ring wraps */
		for (u32 i = 0; i < RX_DEPTH; i++)
			CHECK(vuart_receive(u, (u8)(round * 7 + i)));
		CHECK(!vuart_receive(u, 0xee)); /* the caller keeps it: nothing lost */
		CHECK_EQ(in(LSR)&LSR_OE, 0);
		for (u32 i = 0; i < RX_DEPTH; i++)
			CHECK_EQ(in(RBR), (u8)(round * 7 + i));
		CHECK_EQ(in(LSR)&LSR_DR, 0);
	}
	CHECK(vuart_receive(u, 'x'));
	CHECK(vuart_receive(u, 'y'));
	CHECK_EQ(in(RBR), 'x');
	CHECK(vuart_receive(u, 'z'));
	CHECK_EQ(in(RBR), 'y');
	CHECK_EQ(in(RBR), 'z');
	teardown();
}

TEST(iir_fifo_bits_follow_fcr)
{
	setup();
	out(IIR, FCR_ENABLE | 0xc6); /* enable, clear both, trigger 14 */
	CHECK_EQ(in(IIR), IIR_FIFOS | IIR_NONE);
	out(IIR, 0);
	CHECK_EQ(in(IIR), IIR_NONE);
	teardown();
}

TEST(received_data_interrupt_needs_ier_and_out2)
{
	setup();
	CHECK(vuart_receive(u, 'q'));
	CHECK_EQ(in(IIR), IIR_NONE); /* not enabled */
	CHECK(!pin_level);
	out(IER, IER_RDA);
	CHECK_EQ(in(IIR), IIR_RDA);
	CHECK(!pin_level); /* MCR.OUT2 gates the line on PCs */
	out(MCR, MCR_OUT2);
	CHECK(pin_level);
	CHECK_EQ(pin_edges, 1);
	CHECK_EQ(in(RBR), 'q'); /* reading the data clears it */
	CHECK_EQ(in(IIR), IIR_NONE);
	CHECK(!pin_level);
	CHECK(vuart_receive(u, 'r'));
	CHECK(pin_level);
	CHECK_EQ(pin_edges, 2);
	out(IER, 0); /* disabling lowers the line */
	CHECK(!pin_level);
	CHECK_EQ(in(IER), 0);
	out(IER, 0xff);
	CHECK_EQ(in(IER), 0x0f); /* 7:4 are zero */
	teardown();
}

TEST(thr_empty_interrupt_is_acked_by_reading_iir_or_writing_thr)
{
	setup();
	out(MCR, MCR_OUT2);
	out(IER, IER_THRE); /* enabled with THR empty: at once */
	CHECK(pin_level);
	CHECK_EQ(in(IIR), IIR_THRE);
	CHECK(!pin_level); /* that read acknowledged it */
	CHECK_EQ(in(IIR), IIR_NONE);
	out(IER, IER_THRE); /* already enabled: no new interrupt */
	CHECK_EQ(in(IIR), IIR_NONE);
	out(RBR, 'x'); /* sent at once: empty again, a new edge */
	CHECK(pin_level);
	CHECK_EQ(pin_edges, 2);
	out(RBR, 'y'); /* not acknowledged yet: the line stays up */
	CHECK_EQ(pin_edges, 2);
	CHECK_EQ(in(IIR), IIR_THRE);
	CHECK(!pin_level);
	out(IER, 0);
	out(IER, IER_THRE); /* re-enabled: interrupts again */
	CHECK_EQ(in(IIR), IIR_THRE);
	teardown();
}

TEST(received_data_outranks_thr_empty)
{
	setup();
	out(MCR, MCR_OUT2);
	out(IER, IER_RDA | IER_THRE);
	CHECK(vuart_receive(u, 'd'));
	CHECK_EQ(in(IIR), IIR_RDA); /* PC16550D table: priority 2 before 3 */
	CHECK_EQ(in(IIR), IIR_RDA); /* and THR empty was not acknowledged */
	CHECK_EQ(in(RBR), 'd');
	CHECK(pin_level);
	CHECK_EQ(in(IIR), IIR_THRE);
	CHECK(!pin_level);
	teardown();
}

TEST(dlab_switches_to_the_divisor_latch)
{
	setup();
	out(IER, IER_RDA);
	out(LCR, LCR_DLAB | 0x03);
	CHECK_EQ(in(LCR), LCR_DLAB | 0x03);
	out(RBR, 0x01); /* 115200 baud: divisor 1 */
	out(IER, 0x00);
	CHECK_EQ(nr_sent, 0); /* not transmitted */
	CHECK_EQ(in(RBR), 0x01);
	CHECK_EQ(in(IER), 0x00);
	out(RBR, 0x0c); /* 9600 baud: divisor 12 */
	out(IER, 0x02);
	CHECK_EQ(in(RBR), 0x0c);
	CHECK_EQ(in(IER), 0x02);
	CHECK(vuart_receive(u, 'k'));
	CHECK_EQ(in(RBR), 0x0c); /* DLL, not the data */
	out(LCR, 0x03);
	CHECK_EQ(in(IER), IER_RDA); /* IER was untouched */
	CHECK_EQ(in(RBR), 'k');
	out(LCR, LCR_DLAB | 0x03);
	CHECK_EQ(in(RBR), 0x0c); /* the latch kept its value */
	CHECK_EQ(in(IER), 0x02);
	teardown();
}

TEST(scratch_mcr_and_modem_status)
{
	setup();
	out(SCR, 0xa5);
	CHECK_EQ(in(SCR), 0xa5);
	out(MCR, 0xff);
	CHECK_EQ(in(MCR), 0x1f); /* 7:5 are zero */
	out(MCR, 0x0b);
	CHECK_EQ(in(MSR), 0xb0); /* DCD, DSR and CTS: a cable with the other end ready */
	teardown();
}

TEST(log_sink_prints_whole_lines)
{
	setup_with(vuart_sink_log);
	for (const char *p = "boot ok\r\n"; *p; p++)
		out(RBR, (u8)*p);
	CHECK_STR(fake_log_last, "vm fake: boot ok");
	for (u32 i = 0; i < 200; i++) /* longer than a log line: split */
		out(RBR, (u8)('a' + i % 26));
	CHECK_EQ(strlen(fake_log_last), strlen("vm fake: ") + 159);
	out(RBR, '\n');
	CHECK_EQ(strlen(fake_log_last), strlen("vm fake: ") + 41);
	teardown();
}

TEST(serial_sink_passes_bytes_through)
{
	setup_with(vuart_sink_serial);
	out(RBR, 'S');
	out(RBR, '\r');
	CHECK_EQ(nr_console, 2);
	CHECK_EQ(console[0], 'S');
	CHECK_EQ(console[1], '\r');
	teardown();
}

TEST(no_ioapic_no_interrupt)
{
	fake_vm_reset(1);
	claimed_pin = 99;
	u = vuart_create(&fake_vm, COM1, IRQ, sink, sent);
	CHECK(u != NULL);
	CHECK_EQ(claimed_pin, 99);
	out(MCR, MCR_OUT2);
	out(IER, IER_THRE);
	CHECK_EQ(in(IIR), IIR_THRE); /* the state machine runs, nothing to raise */
	teardown();
}
