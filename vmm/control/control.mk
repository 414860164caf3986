# The hypervisor's side of the control device ABI: registers, commands, keel-dm forwarding.
CORE_SRCS += vmm/control/control_dev.c vmm/control/control_cmd.c vmm/control/control_exits.c \
	vmm/control/dm_forward.c vmm/control/dm_isa.c
UNIT_TESTS += control_cmd
UNIT_SRCS_control_cmd := vmm/control/control_cmd.c vmm/control/control_exits.c vmm/guest/firmware_image.c lib/format.c lib/strlcpy.c
UNIT_TESTS += control_window
UNIT_SRCS_control_window := vmm/control/control_dev.c vmm/vm_gpa.c core/pagetable.c vmm/guest/guest_map.c \
	arch/x86/svm/npt.c tests/unit/fake_log.c lib/format.c lib/string.c
