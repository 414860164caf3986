/* SPDX-License-Identifier: MIT */
/* Dates and times of day to and from seconds since 1970-01-01 00:00:00 (proleptic Gregorian). */
#ifndef KEEL_CALENDAR_H
#define KEEL_CALENDAR_H

#include <lib/types.h>

struct date_time {
	u32 year;      /* 1970 and later */
	u8 month, day; /* 1-12, 1-31 */
	u8 hour, min, sec;
	u8 weekday; /* 0 Sunday .. 6 Saturday */
};

/* Seconds since the epoch; 0 for a date before 1970 or fields out of range. */
u64 epoch_from_date(const struct date_time *d);
void date_from_epoch(u64 seconds, struct date_time *d);

#endif
