// SPDX-License-Identifier: MIT
/* Host tests of lib/calendar.c against dates whose epoch seconds `date -u +%s` gives. */
#include <lib/calendar.h>
#include "test.h"

static const struct {
	struct date_time d;
	u64 epoch;
} known[] = {
	{ { 1970, 1, 1, 0, 0, 0, 4 }, 0 },
	{ { 1999, 12, 31, 23, 59, 59, 5 }, 946684799 },
	{ { 2000, 2, 29, 12, 0, 0, 2 }, 951825600 }, /* a leap day in a year divisible by 400 */
	{ { 2100, 3, 1, 0, 0, 0, 1 }, 4107542400 },  /* 2100 is not a leap year */
	{ { 2026, 11, 23, 15, 35, 33, 1 }, 1795448133 },
	{ { 2038, 1, 19, 3, 14, 8, 2 }, 2147483648 }, /* past 32-bit time */
};

TEST(known_dates_both_ways)
{
	for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		struct date_time d;

		CHECK_EQ(epoch_from_date(&known[i].d), known[i].epoch);
		date_from_epoch(known[i].epoch, &d);
		CHECK_EQ(d.year, known[i].d.year);
		CHECK_EQ(d.month, known[i].d.month);
		CHECK_EQ(d.day, known[i].d.day);
		CHECK_EQ(d.hour, known[i].d.hour);
		CHECK_EQ(d.min, known[i].d.min);
		CHECK_EQ(d.sec, known[i].d.sec);
		CHECK_EQ(d.weekday, known[i].d.weekday);
	}
}

TEST(every_day_round_trips)
{
	for (u64 s = 0; s < 200ULL * 366 * 86400; s += 86400 - 7) {
		struct date_time d;

		date_from_epoch(s, &d);
		CHECK_EQ(epoch_from_date(&d), s);
	}
}

TEST(invalid_dates_give_zero)
{
	struct date_time bad[] = {
		{ 1969, 12, 31, 0, 0, 0, 0 }, { 2023, 2, 29, 0, 0, 0, 0 },
		{ 2024, 13, 1, 0, 0, 0, 0 },  { 2024, 4, 31, 0, 0, 0, 0 },
		{ 2024, 1, 1, 24, 0, 0, 0 },  { 2024, 1, 0, 0, 0, 0, 0 },
	};

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(epoch_from_date(&bad[i]), 0);
}
