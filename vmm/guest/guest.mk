# The guest platform: guest VMs, their ACPI tables, the kernel loaders, keel.cfg's boot-time VMs.
CORE_SRCS += vmm/guest/guest.c vmm/guest/acpi_build.c vmm/guest/aml.c vmm/guest/loader_linux.c \
	vmm/guest/loader_multiboot.c vmm/guest/boot_vms.c vmm/guest/guest_map.c \
	vmm/guest/guest_fw_cfg.c
UNIT_TESTS += acpi_build
UNIT_SRCS_acpi_build := vmm/guest/acpi_build.c vmm/guest/aml.c drivers/acpi.c drivers/acpi_s5.c \
	tests/unit/fake_log.c lib/format.c
