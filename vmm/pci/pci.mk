# PCI for VMs: a guest's virtual bus, interrupt routes, and host functions owned by a VM.
CORE_SRCS += vmm/pci/vpci_bus.c vmm/pci/irq_route.c vmm/pci/intx_mirror.c vmm/pci/assign.c vmm/pci/assign_bars.c \
	vmm/pci/assign_msix.c vmm/pci/cfg_trap.c
UNIT_TESTS += assign
UNIT_SRCS_assign := vmm/pci/assign.c vmm/pci/assign_bars.c vmm/pci/assign_msix.c \
	drivers/pci_bars.c tests/unit/fake_log.c lib/format.c lib/string.c
