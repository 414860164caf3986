// SPDX-License-Identifier: MIT
/* Host tests of the virtual 8254 PIT: channel 2's modes 0, 2 and 3, latch, byte access and gate. */
#include <keel/vpit.h>
#include "fake_clock.h"
#include "fake_vm.h"
#include "test.h"

#define PIT_HZ 1193182ULL
#define CH0 0x40
#define CH2 0x42
#define CMD 0x43
#define PORT_B 0x61 /* bit 0 gate 2, bit 1 speaker, bit 5 OUT2 */
#define GATE 0x01
#define OUT2 0x20
/* 82C54 control word: counter in 7:6, access in 5:4 (01 LSB, 10 MSB, 11 both), mode in 3:1 */
#define CW(access, mode) (0x80 | (access) << 4 | (mode) << 1)
#define LATCH 0x80
#define BASE_NS 5000000000ULL

extern long fake_pages_live;

static void out(u16 port, u8 val)
{
	fake_out(&fake_vcpus[0], port, 1, val);
}

static u8 in(u16 port)
{
	return (u8)fake_in(&fake_vcpus[0], port, 1);
}

static u64 origin = BASE_NS;

/* The clock k PIT ticks after the origin (rounded up to the nanosecond). */
static void at(u64 k)
{
	fake_ns = origin + (k * 1000000000ULL + PIT_HZ - 1) / PIT_HZ;
}

/* Counting restarted now: later at() count from here. */
static void mark(void)
{
	origin = fake_ns;
}

static bool out2(void)
{
	return in(PORT_B)&OUT2;
}

static u16 read16(void)
{
	u8 lo = in(CH2);

	return (u16)(lo | in(CH2) << 8);
}

/* Channel 2 in mode with a 16-bit count, loaded at tick 0, gate on. */
static void setup_mode(u8 mode, u16 count)
{
	fake_vm_reset(1);
	CHECK_EQ(vpit_attach(&fake_vm), 0);
	origin = BASE_NS;
	at(0);
	out(PORT_B, GATE);
	out(CMD, CW(3, mode));
	out(CH2, (u8)count);
	out(CH2, (u8)(count >> 8));
}

static void teardown(void)
{
	fake_vm_free();
	CHECK_EQ(fake_pages_live, 0);
}

TEST(attach_claims_the_counters_and_port_61)
{
	fake_vm_reset(1);
	CHECK_EQ(vpit_attach(&fake_vm), 0);
	CHECK_EQ(fake_vm.nr_io, 2);
	CHECK_EQ(fake_vm.io[0].base, CH0);
	CHECK_EQ(fake_vm.io[0].count, 4);
	CHECK_EQ(fake_vm.io[1].base, PORT_B);
	CHECK_EQ(fake_vm.io[1].count, 1);
	teardown();
}

TEST(channels_0_and_1_are_inert)
{
	setup_mode(2, 1000);
	out(CMD, 0x34); /* channel 0, both bytes, mode 2: ignored */
	out(CH0, 0x10);
	out(CH0 + 1, 0x20);
	CHECK_EQ(in(CH0), 0);
	CHECK_EQ(in(CH0 + 1), 0);
	at(300);
	CHECK_EQ(read16(), 700); /* channel 2 untouched, still both bytes */
	teardown();
}

TEST(mode0_out_rises_at_terminal_count_and_stays_high)
{
	setup_mode(0, 10000);
	CHECK(!out2());
	at(9999);
	CHECK(!out2());
	at(10000);
	CHECK(out2());
	at(70000);
	CHECK(out2()); /* until a new count or control word */
	out(CH2, 0x10);
	out(CH2, 0x27); /* a new count: low again, counting from it */
	mark();
	CHECK(!out2());
	at(9999);
	CHECK(!out2());
	at(10000);
	CHECK(out2());
	teardown();
}

TEST(count_reads_low_then_high_byte)
{
	setup_mode(0, 10000);
	at(1000);
	CHECK_EQ(in(CH2), 0x28); /* 9000 = 0x2328 */
	CHECK_EQ(in(CH2), 0x23);
	at(2500);
	CHECK_EQ(read16(), 7500);
	teardown();
}

TEST(mode0_counts_on_through_zero_after_terminal_count)
{
	/* 82C54: in mode 0 the counter wraps to FFFFh and goes on; only modes 2 and 3 reload */
	setup_mode(0, 1000);
	at(1000);
	CHECK_EQ(read16(), 0);
	at(1001);
	CHECK_EQ(read16(), 0xffff);
	at(1500);
	CHECK_EQ(read16(), 0x10000 - 500);
	CHECK(out2());
	teardown();
}

TEST(counter_latch_holds_the_count_until_it_is_read)
{
	setup_mode(0, 10000);
	at(1000);
	out(CMD, LATCH); /* channel 2, counter latch */
	at(5000);
	CHECK_EQ(in(CH2), 0x28);
	at(6000);
	CHECK_EQ(in(CH2), 0x23); /* both bytes from the latch: 9000 */
	at(7000);
	CHECK_EQ(read16(), 3000); /* the latch is gone: live again */
	out(CMD, 0x00);		  /* channel 0's latch: not ours */
	at(7500);
	CHECK_EQ(read16(), 2500);
	teardown();
}

TEST(a_second_latch_before_the_read_is_ignored)
{
	/* 82C54, counter latch command: the count read is the one of the first latch */
	setup_mode(0, 10000);
	at(1000);
	out(CMD, LATCH);
	at(2000);
	out(CMD, LATCH);
	CHECK_EQ(read16(), 9000);
	out(CMD, LATCH); /* read: a new latch takes the count again */
	at(4000);
	CHECK_EQ(read16(), 8000);
	teardown();
}

TEST(lsb_only_access_reads_and_writes_one_byte)
{
	fake_vm_reset(1);
	CHECK_EQ(vpit_attach(&fake_vm), 0);
	origin = BASE_NS;
	at(0);
	out(PORT_B, GATE);
	out(CMD, CW(1, 2)); /* LSB only, mode 2 */
	out(CH2, 100);	    /* one write loads the count */
	at(10);
	CHECK_EQ(in(CH2), 90);
	CHECK_EQ(in(CH2), 90); /* every read is the low byte */
	at(150);
	CHECK_EQ(in(CH2), 50);
	out(CMD, LATCH);
	at(160);
	CHECK_EQ(in(CH2), 50); /* a latched LSB is released after one read */
	CHECK_EQ(in(CH2), 40);
	teardown();
}

TEST(one_byte_counts_have_the_other_byte_zero)
{
	/* 82C54 datasheet, the Counter: both count bytes are cleared when the counter is
	 * programmed, so a one-byte count has the other byte zero */
	setup_mode(2, 0x1234);
	out(CMD, CW(2, 2)); /* MSB only */
	out(CH2, 0x02);	    /* 0x0200 */
	mark();
	at(0x34);
	CHECK_EQ(in(CH2), 0x01); /* 0x01cc left (a count of 0x0234 would read 0x02) */
	at(0x210);
	CHECK_EQ(in(CH2), 0x01); /* reloaded at 0x200: 0x01f0 */
	out(CMD, CW(1, 2));	 /* LSB only */
	out(CH2, 0x40);
	mark();
	at(0x50);
	CHECK_EQ(in(CH2), 0x30); /* a period of 0x40 */
	teardown();
}

TEST(mode2_counts_down_and_reloads)
{
	setup_mode(2, 1000);
	at(1);
	CHECK_EQ(read16(), 999);
	at(999);
	CHECK_EQ(read16(), 1);
	at(1000);
	CHECK_EQ(read16(), 1000); /* reloaded */
	at(2500);
	CHECK_EQ(read16(), 500);
	teardown();
}

TEST(count_zero_means_65536)
{
	setup_mode(2, 0);
	at(1);
	CHECK_EQ(read16(), 65535);
	at(65536);
	CHECK_EQ(read16(), 0); /* 65536 again: the low 16 bits */
	teardown();
}

TEST(mode3_square_wave_high_then_low)
{
	setup_mode(3, 1000);
	CHECK(out2());
	at(499);
	CHECK(out2());
	at(500);
	CHECK(!out2());
	at(999);
	CHECK(!out2());
	at(1000);
	CHECK(out2());
	at(1500);
	CHECK(!out2());
	teardown();
}

TEST(mode2_out_pulses_low_for_one_clock)
{
	/* 82C54 mode 2: OUT goes low for one clock as the count reaches 1, then reloads */
	setup_mode(2, 1000);
	CHECK(out2());
	at(500);
	CHECK(out2());
	at(998);
	CHECK(out2());
	at(999);
	CHECK(!out2());
	at(1000);
	CHECK(out2());
	at(1999);
	CHECK(!out2());
	teardown();
}

TEST(mode3_odd_count_is_high_for_the_longer_half)
{
	/* 82C54 mode 3: an odd count N is high for (N + 1) / 2 clocks, low for (N - 1) / 2 */
	static const bool wave[] = { true, true, true, false, false, true, true, true };

	setup_mode(3, 5);
	for (u32 k = 0; k < ARRAY_SIZE(wave); k++) {
		at(k);
		CHECK_EQ(out2(), wave[k]);
	}
	teardown();
}

TEST(gate_low_holds_the_count_and_a_rising_gate_restarts_it)
{
	setup_mode(3, 1000);
	out(PORT_B, 0); /* gate off */
	at(300);
	CHECK_EQ(read16(), 1000);
	CHECK(out2()); /* 82C54 modes 2 and 3: a low gate forces OUT high */
	at(5000);
	out(PORT_B, GATE); /* trigger: counting starts from the full count */
	mark();
	at(100);
	CHECK_EQ(read16(), 900);
	at(600);
	CHECK(!out2());
	out(PORT_B, GATE); /* still high: no new trigger */
	at(700);
	CHECK_EQ(read16(), 300);
	teardown();
}

TEST(mode0_gate_low_keeps_out_low_before_terminal_count)
{
	setup_mode(0, 1000);
	out(PORT_B, 0);
	at(200);
	CHECK(!out2());
	CHECK_EQ(read16(), 1000);
	out(PORT_B, GATE);
	mark();
	at(999);
	CHECK(!out2());
	at(1000);
	CHECK(out2());
	teardown();
}

TEST(port_61_keeps_gate_and_speaker_bits)
{
	setup_mode(0, 1000);
	out(PORT_B, 0xff); /* bits 2-7 are status or not ours */
	CHECK_EQ(in(PORT_B) & ~OUT2, 0x03);
	out(PORT_B, 0x02);
	CHECK_EQ(in(PORT_B), 0x02); /* gate off, speaker on; mode 0 OUT low */
	teardown();
}

TEST(a_new_control_word_takes_a_new_count)
{
	setup_mode(2, 1000);
	at(100);
	out(CMD, CW(3, 2));
	out(CH2, 0xf4);
	out(CH2, 0x01); /* 500, counting from now */
	mark();
	at(200);
	CHECK_EQ(read16(), 300);
	teardown();
}
