# PCI for VMs: a guest's virtual bus, interrupt routes, and host functions owned by a VM.
CORE_SRCS += vmm/pci/vpci_bus.c vmm/pci/irq_route.c vmm/pci/intx_mirror.c vmm/pci/assign.c vmm/pci/assign_bars.c \
	vmm/pci/assign_msix.c vmm/pci/assign_guard.c vmm/pci/cfg_trap.c vmm/pci/vlpc.c
UNIT_TESTS += assign
UNIT_SRCS_assign := vmm/pci/assign.c vmm/pci/assign_bars.c vmm/pci/assign_msix.c vmm/pci/assign_guard.c \
	drivers/pci_bars.c tests/unit/fake_log.c lib/format.c lib/string.c
# The bus as firmware sees it: bridges, ECAM, 0xCF8/0xCFC, the firmware flavor's LPC bridge.
UNIT_TESTS += vpci
UNIT_SRCS_vpci := vmm/pci/vpci_bus.c vmm/pci/vlpc.c tests/unit/vmm/fake_vm.c \
	tests/unit/fake_page_alloc.c lib/string.c
