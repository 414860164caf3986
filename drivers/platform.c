// SPDX-License-Identifier: MIT
/*
 * Machine reset and power-off. Reset tries the FADT reset register, the PCI
 * reset control port 0xCF9, the keyboard controller, then a triple fault.
 * Power-off writes SLP_TYPa|SLP_EN to PM1a_CNT with SLP_TYPa from \_S5_
 * (ACPI 6.5 7.4.2 and 4.8.3.2.1).
 */
#include <arch/x86/cpu.h>
#include <keel/log.h>
#include <keel/memory.h>
#include <keel/platform.h>

#define PM1_SLP_EN BIT(13)
#define PM1_SLP_TYP_SHIFT 10
#define PCI_RESET_PORT 0xcf9
#define PCI_RESET_FULL 0x06 /* system reset + reset CPU */
#define KBC_STATUS 0x64
#define KBC_RESET 0xfe

static const struct acpi_info *acpi;

void platform_init(const struct acpi_info *ai)
{
	acpi = ai;
}

void platform_poweroff(void)
{
	const struct acpi_header *dsdt = acpi && acpi->dsdt ? phys_to_virt(acpi->dsdt) : NULL;
	u8 typ = 0;

	irq_disable();
	if (dsdt && acpi->pm1a_cnt &&
	    !acpi_s5_slp_typ((const u8 *)(dsdt + 1), dsdt->length - sizeof(*dsdt), &typ)) {
		outw(acpi->pm1a_cnt, (u16)(typ << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN);
		if (acpi->pm1b_cnt)
			outw(acpi->pm1b_cnt, (u16)(typ << PM1_SLP_TYP_SHIFT) | PM1_SLP_EN);
	}
	pr_err("power-off did not work; halting");
	for (;;)
		cpu_halt();
}

static void reset_register(void)
{
	const struct acpi_gas *r = &acpi->reset_reg;

	if (!acpi->reset_supported)
		return;
	if (r->space == ACPI_GAS_IO)
		outb((u16)r->address, acpi->reset_value);
	else if (r->space == ACPI_GAS_MEMORY)
		*(volatile u8 *)phys_to_virt(r->address) = acpi->reset_value;
}

void platform_reset(void)
{
	irq_disable();
	if (acpi)
		reset_register();
	outb(PCI_RESET_PORT, PCI_RESET_FULL);
	for (int i = 0; i < 100000 && (inb(KBC_STATUS) & 0x02); i++)
		cpu_relax();
	outb(KBC_STATUS, KBC_RESET);
	/* Last resort: an empty IDT turns the next exception into a triple fault. */
	{
		struct {
			u16 limit;
			u64 base;
		} __packed empty = { 0, 0 };

		__asm__ volatile("lidt %0; int3" ::"m"(empty));
	}
	for (;;)
		cpu_halt();
}
