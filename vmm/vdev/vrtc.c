// SPDX-License-Identifier: MIT
/*
 * MC146818 CMOS RTC for guests, enough for Linux to read the date at boot
 * and for hwclock: index port 0x70 (bit 7 is the NMI mask, ignored), data
 * port 0x71. The time registers read Keel's wall clock, in BCD or binary and
 * 12- or 24-hour form as register B asks; setting the time moves only this
 * guest's clock (an offset), never the machine's. No alarm, periodic or
 * update interrupts: the other 114 bytes are plain CMOS RAM.
 */
#include <lib/calendar.h>
#include <keel/page_alloc.h>
#include <keel/vm.h>
#include <keel/vrtc.h>
#include <keel/wallclock.h>

#define PORT_INDEX 0x70
#define REG_SEC 0x00 /* MC146818 datasheet, address map */
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
#define REG_CENTURY 0x32   /* the FADT's CENTURY field names no other; Linux defaults to it too */
#define A_DIVIDER_32K 0x20 /* 32.768 kHz time base, no periodic rate; UIP (bit 7) never set */
#define A_RATE_1K 0x06
#define B_SET BIT(7) /* updates frozen while the guest sets the time */
#define B_BINARY BIT(2)
#define B_24H BIT(1)
#define D_VALID BIT(7) /* valid RAM and time: the battery is good */
#define HOUR_PM BIT(7)

struct vrtc {
	u8 index;
	u8 ram[128];
	s64 offset;		  /* guest time minus Keel's wall clock, seconds */
	bool half_set;		  /* the fields written so far make no date yet (31 February) */
	struct date_time pending; /* those fields, until a write completes them */
};

static u8 to_reg(const struct vrtc *r, u32 v)
{
	return r->ram[REG_B] & B_BINARY ? (u8)v : (u8)((v / 10) << 4 | v % 10);
}

static u32 from_reg(const struct vrtc *r, u8 v)
{
	return r->ram[REG_B] & B_BINARY ? v : (v >> 4) * 10u + (v & 0xf);
}

static u64 guest_now(const struct vrtc *r)
{
	return (u64)((s64)wallclock_seconds() + r->offset);
}

static u8 hour_reg(const struct vrtc *r, u8 hour)
{
	if (r->ram[REG_B] & B_24H)
		return to_reg(r, hour);
	return to_reg(r, hour % 12 ? hour % 12 : 12) | (hour >= 12 ? HOUR_PM : 0);
}

static u8 hour_of(const struct vrtc *r, u8 v)
{
	u32 h;

	if (r->ram[REG_B] & B_24H)
		return (u8)from_reg(r, v);
	h = from_reg(r, v & (u8)~HOUR_PM) % 12;
	return (u8)(h + (v & HOUR_PM ? 12 : 0));
}

static u8 read_reg(struct vrtc *r, u8 reg)
{
	struct date_time d;

	date_from_epoch(guest_now(r), &d);
	switch (reg) {
	case REG_SEC:
		return to_reg(r, d.sec);
	case REG_MIN:
		return to_reg(r, d.min);
	case REG_HOUR:
		return hour_reg(r, d.hour);
	case REG_WEEKDAY:
		return to_reg(r, d.weekday + 1u);
	case REG_DAY:
		return to_reg(r, d.day);
	case REG_MONTH:
		return to_reg(r, d.month);
	case REG_YEAR:
		return to_reg(r, d.year % 100);
	case REG_CENTURY:
		return to_reg(r, d.year / 100);
	case REG_C:
		return 0; /* no interrupt flags */
	case REG_D:
		return D_VALID;
	default:
		return r->ram[reg];
	}
}

/* The guest set a time register: take the new date as this guest's time from now on. */
static void set_time(struct vrtc *r, u8 reg, u8 val)
{
	struct date_time d;
	u64 t;

	if (r->half_set)
		d = r->pending;
	else
		date_from_epoch(guest_now(r), &d);
	switch (reg) {
	case REG_SEC:
		d.sec = (u8)from_reg(r, val);
		break;
	case REG_MIN:
		d.min = (u8)from_reg(r, val);
		break;
	case REG_HOUR:
		d.hour = hour_of(r, val);
		break;
	case REG_DAY:
		d.day = (u8)from_reg(r, val);
		break;
	case REG_MONTH:
		d.month = (u8)from_reg(r, val);
		break;
	case REG_YEAR:
		d.year = d.year / 100 * 100 + from_reg(r, val) % 100;
		break;
	case REG_CENTURY:
		d.year = from_reg(r, val) * 100 + d.year % 100;
		break;
	default:
		return; /* the weekday follows from the date */
	}
	t = epoch_from_date(&d);
	r->half_set = !t; /* a half-set date (day 31 before the month) waits for the next write */
	r->pending = d;
	if (t)
		r->offset = (s64)t - (s64)wallclock_seconds();
}

static int rtc_read(struct vcpu *v, void *opaque, u16 port, u8 size, u32 *val)
{
	struct vrtc *r = opaque;

	(void)v;
	(void)size;
	*val = port == PORT_INDEX ? r->index : read_reg(r, r->index);
	return 0;
}

static int rtc_write(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val)
{
	struct vrtc *r = opaque;
	u8 reg = r->index;

	(void)v;
	(void)size;
	if (port == PORT_INDEX) {
		r->index = (u8)val & 0x7f;
		return 0;
	}
	if (reg == REG_C || reg == REG_D)
		return 0; /* read-only */
	if (reg == REG_A) {
		r->ram[REG_A] = (u8)val & 0x7f; /* UIP is read-only */
		return 0;
	}
	if (reg == REG_B) {
		r->ram[REG_B] = (u8)val & (B_SET | B_BINARY | B_24H); /* no interrupt enables */
		return 0;
	}
	set_time(r, reg, (u8)val);
	/* the alarm bytes and the RAM keep what was written; the time registers are computed */
	if (reg == REG_SEC_ALARM || reg == REG_MIN_ALARM || reg == REG_HOUR_ALARM ||
	    (reg > REG_YEAR && reg != REG_CENTURY))
		r->ram[reg] = (u8)val;
	return 0;
}

static void vrtc_free(void *opaque)
{
	page_free(opaque, 1);
}

int vrtc_attach(struct vm *vm)
{
	struct vrtc *r = page_alloc_zeroed(1);
	struct io_handler h = { PORT_INDEX, 2, rtc_read, rtc_write, r, "RTC" };

	BUILD_ASSERT(sizeof(struct vrtc) <= PAGE_SIZE, "one page");
	if (!r)
		return -ENOMEM;
	r->ram[REG_A] = A_DIVIDER_32K | A_RATE_1K;
	r->ram[REG_B] = B_24H; /* BCD, 24-hour: what PC firmware leaves */
	if (vm_add_cleanup(vm, vrtc_free, r) || vm_register_io(vm, &h))
		return -ENOSPC;
	return 0;
}
