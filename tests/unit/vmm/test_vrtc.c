// SPDX-License-Identifier: MIT
/* Host tests of the virtual MC146818 RTC: BCD and binary, 12/24 h, setting the time, registers A-D. */
#include <keel/vrtc.h>
#include "fake_clock.h"
#include "fake_vm.h"
#include "test.h"

/* MC146818 address map */
#define REG_SEC 0x00
#define REG_SEC_ALARM 0x01
#define REG_MIN 0x02
#define REG_MIN_ALARM 0x03
#define REG_HOUR 0x04
#define REG_HOUR_ALARM 0x05
#define REG_WEEKDAY 0x06
#define REG_DAY 0x07
#define REG_MONTH 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32
#define A_UIP 0x80
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_BINARY 0x04
#define B_24H 0x02
#define PM 0x80

/* 2024-02-29 13:45:07 UTC, a Thursday */
#define LEAP_DAY 1709214307ULL
#define MIDNIGHT_05 1709165100ULL /* 00:05:00 the same day */
#define NOON 1709208000ULL
#define Y2099_LAST 4102444799ULL /* 2099-12-31 23:59:59, a Thursday */

extern long fake_pages_live;

static u8 rd(u8 reg)
{
	fake_out(&fake_vcpus[0], 0x70, 1, reg);
	return (u8)fake_in(&fake_vcpus[0], 0x71, 1);
}

static void wr(u8 reg, u8 val)
{
	fake_out(&fake_vcpus[0], 0x70, 1, reg);
	fake_out(&fake_vcpus[0], 0x71, 1, val);
}

static void setup(u64 wall)
{
	fake_wall = wall;
	fake_vm_reset(1);
	CHECK_EQ(vrtc_attach(&fake_vm), 0);
}

static void teardown(void)
{
	fake_vm_free();
	CHECK_EQ(fake_pages_live, 0);
}

TEST(attach_claims_ports_70_71_with_pc_defaults)
{
	setup(LEAP_DAY);
	CHECK_EQ(fake_vm.nr_io, 1);
	CHECK_EQ(fake_vm.io[0].base, 0x70);
	CHECK_EQ(fake_vm.io[0].count, 2);
	CHECK_EQ(rd(REG_A), 0x26);  /* 32.768 kHz time base, 1.024 kHz rate */
	CHECK_EQ(rd(REG_B), B_24H); /* BCD, 24-hour */
	CHECK_EQ(rd(REG_C), 0);
	CHECK_EQ(rd(REG_D), 0x80); /* valid RAM and time */
	teardown();
}

TEST(time_in_bcd_24_hour)
{
	setup(LEAP_DAY);
	CHECK_EQ(rd(REG_SEC), 0x07);
	CHECK_EQ(rd(REG_MIN), 0x45);
	CHECK_EQ(rd(REG_HOUR), 0x13);
	CHECK_EQ(rd(REG_WEEKDAY), 5); /* 1 = Sunday */
	CHECK_EQ(rd(REG_DAY), 0x29);
	CHECK_EQ(rd(REG_MONTH), 0x02);
	CHECK_EQ(rd(REG_YEAR), 0x24);
	CHECK_EQ(rd(REG_CENTURY), 0x20);
	teardown();
}

TEST(time_in_binary)
{
	setup(LEAP_DAY);
	wr(REG_B, B_24H | B_BINARY);
	CHECK_EQ(rd(REG_SEC), 7);
	CHECK_EQ(rd(REG_MIN), 45);
	CHECK_EQ(rd(REG_HOUR), 13);
	CHECK_EQ(rd(REG_DAY), 29);
	CHECK_EQ(rd(REG_MONTH), 2);
	CHECK_EQ(rd(REG_YEAR), 24);
	CHECK_EQ(rd(REG_CENTURY), 20);
	teardown();
}

TEST(twelve_hour_mode_in_bcd_and_binary)
{
	/* MC146818: 12-hour values 1-12, bit 7 set for PM */
	setup(LEAP_DAY);
	wr(REG_B, 0);
	CHECK_EQ(rd(REG_HOUR), PM | 0x01);
	fake_wall = MIDNIGHT_05;
	CHECK_EQ(rd(REG_HOUR), 0x12); /* 12 AM */
	fake_wall = NOON;
	CHECK_EQ(rd(REG_HOUR), PM | 0x12);
	wr(REG_B, B_BINARY);
	CHECK_EQ(rd(REG_HOUR), PM | 12);
	fake_wall = MIDNIGHT_05;
	CHECK_EQ(rd(REG_HOUR), 12);
	fake_wall = LEAP_DAY;
	CHECK_EQ(rd(REG_HOUR), PM | 1);
	teardown();
}

TEST(time_follows_the_wall_clock)
{
	setup(LEAP_DAY);
	fake_wall += 53;
	CHECK_EQ(rd(REG_SEC), 0x00);
	CHECK_EQ(rd(REG_MIN), 0x46);
	fake_wall += 10 * 3600 + 14 * 60;
	CHECK_EQ(rd(REG_HOUR), 0x00);
	CHECK_EQ(rd(REG_DAY), 0x01);
	CHECK_EQ(rd(REG_MONTH), 0x03);
	CHECK_EQ(rd(REG_WEEKDAY), 6); /* Friday */
	teardown();
}

TEST(setting_the_time_moves_only_this_guest)
{
	setup(LEAP_DAY);
	wr(REG_B, B_SET | B_24H);
	wr(REG_HOUR, 0x08);
	wr(REG_MIN, 0x30);
	wr(REG_SEC, 0x15);
	wr(REG_B, B_24H);
	CHECK_EQ(rd(REG_HOUR), 0x08);
	CHECK_EQ(rd(REG_MIN), 0x30);
	CHECK_EQ(rd(REG_SEC), 0x15);
	CHECK_EQ(rd(REG_DAY), 0x29); /* the date stays */
	fake_wall += 50;
	CHECK_EQ(rd(REG_MIN), 0x31);
	CHECK_EQ(rd(REG_SEC), 0x05);
	CHECK_EQ(fake_wall, LEAP_DAY + 50); /* Keel's clock is not touched */
	teardown();
}

TEST(setting_the_date_across_a_century)
{
	setup(LEAP_DAY);
	wr(REG_DAY, 0x28); /* each step a valid date: 29 February 2099 is not */
	wr(REG_CENTURY, 0x20);
	wr(REG_YEAR, 0x99);
	wr(REG_MONTH, 0x12);
	wr(REG_DAY, 0x31);
	wr(REG_HOUR, 0x23);
	wr(REG_MIN, 0x59);
	wr(REG_SEC, 0x59);
	CHECK_EQ(rd(REG_WEEKDAY), 5); /* derived from the date */
	fake_wall += 1;
	CHECK_EQ(rd(REG_SEC), 0x00);
	CHECK_EQ(rd(REG_DAY), 0x01);
	CHECK_EQ(rd(REG_MONTH), 0x01);
	CHECK_EQ(rd(REG_YEAR), 0x00);
	CHECK_EQ(rd(REG_CENTURY), 0x21);
	CHECK_EQ(rd(REG_WEEKDAY), 6);
	teardown();
}

TEST(a_date_set_field_by_field_through_invalid_dates)
{
	/* Linux writes year, month, day, hours, minutes, seconds; from 29 February 2024,
	 * 2023 and then 31 April pass through dates that do not exist */
	setup(LEAP_DAY);
	wr(REG_YEAR, 0x23);
	wr(REG_MONTH, 0x04);
	wr(REG_DAY, 0x30);
	wr(REG_HOUR, 0x10);
	wr(REG_MIN, 0x20);
	wr(REG_SEC, 0x30);
	CHECK_EQ(rd(REG_YEAR), 0x23);
	CHECK_EQ(rd(REG_MONTH), 0x04);
	CHECK_EQ(rd(REG_DAY), 0x30);
	CHECK_EQ(rd(REG_HOUR), 0x10);
	CHECK_EQ(rd(REG_SEC), 0x30);
	/* from 31 January, to 15 February: 31 February on the way */
	wr(REG_MONTH, 0x01);
	wr(REG_DAY, 0x31);
	wr(REG_MONTH, 0x02);
	wr(REG_DAY, 0x15);
	CHECK_EQ(rd(REG_MONTH), 0x02);
	CHECK_EQ(rd(REG_DAY), 0x15);
	CHECK_EQ(rd(REG_YEAR), 0x23);
	teardown();
}

TEST(setting_the_time_in_binary_and_12_hour)
{
	setup(LEAP_DAY);
	wr(REG_B, B_BINARY);
	wr(REG_HOUR, PM | 11); /* 23:00 */
	wr(REG_MIN, 7);
	wr(REG_B, B_24H);
	CHECK_EQ(rd(REG_HOUR), 0x23);
	CHECK_EQ(rd(REG_MIN), 0x07);
	wr(REG_B, 0);
	wr(REG_HOUR, 0x12); /* 12 AM */
	wr(REG_B, B_24H);
	CHECK_EQ(rd(REG_HOUR), 0x00);
	teardown();
}

TEST(weekday_follows_the_date)
{
	setup(LEAP_DAY);
	wr(REG_WEEKDAY, 2);
	CHECK_EQ(rd(REG_WEEKDAY), 5);
	teardown();
}

TEST(alarm_bytes_hold_what_the_guest_wrote)
{
	/* MC146818: the three alarm bytes are read/write; 0xc0-0xff is "don't care" */
	setup(LEAP_DAY);
	wr(REG_SEC_ALARM, 0x30);
	wr(REG_MIN_ALARM, 0xc0);
	wr(REG_HOUR_ALARM, 0xff);
	CHECK_EQ(rd(REG_SEC_ALARM), 0x30);
	CHECK_EQ(rd(REG_MIN_ALARM), 0xc0);
	CHECK_EQ(rd(REG_HOUR_ALARM), 0xff);
	CHECK_EQ(rd(REG_SEC), 0x07); /* the time is untouched */
	CHECK_EQ(rd(REG_MIN), 0x45);
	CHECK_EQ(rd(REG_HOUR), 0x13);
	fake_wall += 3600; /* and no alarm flag: no interrupts are modelled */
	CHECK_EQ(rd(REG_C), 0);
	teardown();
}

TEST(uip_is_read_only_and_never_set)
{
	/* the registers are computed at each read: no update cycle to wait for */
	setup(LEAP_DAY);
	wr(REG_A, 0xa6);
	CHECK_EQ(rd(REG_A), 0x26);
	wr(REG_A, 0x2f);
	CHECK_EQ(rd(REG_A), 0x2f); /* rate select is kept */
	for (u32 i = 0; i < 5; i++) {
		fake_wall++;
		CHECK_EQ(rd(REG_A) & A_UIP, 0);
	}
	teardown();
}

TEST(register_b_keeps_no_interrupt_enables)
{
	/* no periodic, alarm or update interrupts: a guest reading B back sees them off */
	setup(LEAP_DAY);
	wr(REG_B, 0xff);
	CHECK_EQ(rd(REG_B), B_SET | B_BINARY | B_24H);
	wr(REG_B, B_PIE | B_AIE | B_UIE | B_24H);
	CHECK_EQ(rd(REG_B), B_24H);
	teardown();
}

TEST(registers_c_and_d_are_read_only)
{
	setup(LEAP_DAY);
	wr(REG_C, 0xf0);
	CHECK_EQ(rd(REG_C), 0);
	fake_wall += 2; /* an update happened: still no flag without interrupts */
	CHECK_EQ(rd(REG_C), 0);
	wr(REG_D, 0);
	CHECK_EQ(rd(REG_D), 0x80);
	teardown();
}

TEST(cmos_ram_and_the_nmi_bit_of_the_index)
{
	setup(LEAP_DAY);
	for (u32 reg = 0x0e; reg < 0x80; reg++)
		if (reg != REG_CENTURY)
			wr((u8)reg, (u8)(reg ^ 0x5a));
	for (u32 reg = 0x0e; reg < 0x80; reg++)
		if (reg != REG_CENTURY)
			CHECK_EQ(rd((u8)reg), reg ^ 0x5a);
	fake_out(&fake_vcpus[0], 0x70, 1, 0x80 | 0x10); /* NMI mask bit: ignored */
	CHECK_EQ(fake_in(&fake_vcpus[0], 0x70, 1), 0x10);
	CHECK_EQ(fake_in(&fake_vcpus[0], 0x71, 1), 0x10 ^ 0x5a);
	teardown();
}
