// SPDX-License-Identifier: MIT
/* Gregorian calendar arithmetic for the wall clock Keel gives its guests. */
#include <lib/calendar.h>

#define SECS_PER_DAY 86400ULL
#define EPOCH_WEEKDAY 4 /* 1970-01-01 was a Thursday */

static bool leap(u32 y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static u32 days_in_month(u32 y, u32 m)
{
	static const u8 days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return days[m - 1] + (m == 2 && leap(y));
}

/* Days from 1970-01-01 to January 1st of year y. */
static u64 days_before_year(u32 y)
{
	u64 n = y - 1;

	return 365ULL * (y - 1970) + (n / 4 - n / 100 + n / 400) -
	       (1969 / 4 - 1969 / 100 + 1969 / 400);
}

u64 epoch_from_date(const struct date_time *d)
{
	u64 days;

	if (d->year < 1970 || d->month < 1 || d->month > 12 || d->day < 1 ||
	    d->day > days_in_month(d->year, d->month) || d->hour > 23 || d->min > 59 || d->sec > 59)
		return 0;
	days = days_before_year(d->year);
	for (u32 m = 1; m < d->month; m++)
		days += days_in_month(d->year, m);
	days += d->day - 1u;
	return days * SECS_PER_DAY + d->hour * 3600ULL + d->min * 60ULL + d->sec;
}

void date_from_epoch(u64 seconds, struct date_time *d)
{
	u64 days = seconds / SECS_PER_DAY, rest = seconds % SECS_PER_DAY;
	u32 y = 1970 + (u32)(days / 366); /* never past the answer */
	u32 m = 1;

	while (days_before_year(y + 1) <= days)
		y++;
	days -= days_before_year(y);
	while (days >= days_in_month(y, m))
		days -= days_in_month(y, m++);
	d->year = y;
	d->month = (u8)m;
	d->day = (u8)(days + 1);
	d->hour = (u8)(rest / 3600);
	d->min = (u8)(rest / 60 % 60);
	d->sec = (u8)(rest % 60);
	d->weekday = (u8)((seconds / SECS_PER_DAY + EPOCH_WEEKDAY) % 7);
}
