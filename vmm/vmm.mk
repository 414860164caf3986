# Generic VM logic: page tables, VMs, vCPUs, exits, the virtual platform.
CORE_SRCS += vmm/pagetable.c arch/x86/svm/npt.c
UNIT_TESTS += pagetable
UNIT_SRCS_pagetable := vmm/pagetable.c arch/x86/svm/npt.c tests/unit/fake_page_alloc.c
CORE_SRCS += vmm/vm.c vmm/vcpu.c vmm/sched.c vmm/exit.c vmm/exit_cpuid.c vmm/exit_msr.c \
	vmm/exit_io.c vmm/exit_npf.c vmm/exit_misc.c vmm/guest_walk.c vmm/vlapic.c vmm/vuart.c \
	vmm/testdev.c vmm/loader_multiboot.c vmm/boot_vms.c vmm/vioapic.c vmm/loader_linux.c vmm/service_vm.c vmm/service_mem.c vmm/service_acpi.c vmm/vm_monitor.c \
	vmm/guest.c vmm/vpci_bus.c vmm/control_dev.c vmm/control_cmd.c vmm/dm_forward.c vmm/vpit.c vmm/vrtc.c vmm/irq_route.c vmm/passthru.c vmm/passthru_msix.c vmm/passthru_cfg.c vmm/intx_mirror.c
CORE_SRCS += arch/x86/svm/svm.c arch/x86/svm/svm_run.c arch/x86/svm/svm_entry.S arch/x86/svm/svm_check.c
UNIT_TESTS += svm_check
UNIT_SRCS_svm_check := arch/x86/svm/svm_check.c
CORE_SRCS += vmm/acpi_build.c vmm/aml.c
UNIT_TESTS += acpi_build
UNIT_SRCS_acpi_build := vmm/acpi_build.c vmm/aml.c drivers/acpi.c drivers/acpi_s5.c tests/unit/fake_log.c lib/format.c
