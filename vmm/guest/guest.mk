# The guest platform: guest VMs, their ACPI tables, the kernel loaders, keel.cfg's boot-time VMs.
CORE_SRCS += vmm/guest/guest.c vmm/guest/acpi_build.c vmm/guest/aml.c vmm/guest/loader_linux.c \
	vmm/guest/loader_multiboot.c vmm/guest/boot_vms.c vmm/guest/guest_map.c \
	vmm/guest/guest_fw_cfg.c vmm/guest/firmware_image.c
UNIT_TESTS += acpi_build
UNIT_SRCS_acpi_build := vmm/guest/acpi_build.c vmm/guest/aml.c drivers/acpi.c drivers/acpi_s5.c \
	tests/unit/fake_log.c lib/format.c
# Every way a guest learns its CPUs and RAM agrees: CPUID, both MADTs, fw_cfg, the multiboot map.
UNIT_TESTS += guest_facts
UNIT_SRCS_guest_facts := vmm/guest/guest_fw_cfg.c vmm/guest/guest_map.c vmm/guest/acpi_build.c \
	vmm/guest/aml.c vmm/guest/loader_multiboot.c vmm/vdev/fw_cfg.c vmm/exit/cpuid.c \
	tests/unit/vmm/fake_vm.c tests/unit/fake_clock.c tests/unit/fake_page_alloc.c \
	tests/unit/fake_log.c lib/format.c lib/strlcpy.c
