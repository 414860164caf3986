# The service VM: its memory, its ACPI tables, building and starting it.
CORE_SRCS += vmm/service/service_vm.c vmm/service/service_mem.c vmm/service/service_map.c \
	vmm/service/service_acpi.c
