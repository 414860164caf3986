# The in-hypervisor virtual platform: local and I/O APICs, 16550, PIT, RTC, the test device.
CORE_SRCS += vmm/vdev/vlapic.c vmm/vdev/vioapic.c vmm/vdev/vuart.c vmm/vdev/vpit.c vmm/vdev/vrtc.c \
	vmm/vdev/testdev.c
