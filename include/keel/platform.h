/* SPDX-License-Identifier: MIT */
/* Resetting and switching off the physical machine (ACPI first, legacy ways after). */
#ifndef KEEL_PLATFORM_H
#define KEEL_PLATFORM_H

#include <keel/acpi.h>

void platform_init(const struct acpi_info *ai);
void platform_reset(void) __noreturn;
void platform_poweroff(void) __noreturn;

#endif
