# Freestanding library code.
CORE_SRCS += lib/string.c lib/strlcpy.c lib/format.c lib/calendar.c lib/crc32.c
UNIT_TESTS += calendar
UNIT_SRCS_calendar := lib/calendar.c
