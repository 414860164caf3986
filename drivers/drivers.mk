# The hypervisor's own device drivers.
CORE_SRCS += drivers/acpi_iommu.c drivers/pci_bars.c drivers/uart.c drivers/fbcon.c drivers/acpi.c drivers/debug_exit.c drivers/platform.c drivers/acpi_s5.c drivers/ioapic.c drivers/pci.c
