# The in-hypervisor virtual platform: local and I/O APICs, 16550, PIT, RTC, fw_cfg, the test device.
CORE_SRCS += vmm/vdev/vlapic.c vmm/vdev/vioapic.c vmm/vdev/vuart.c vmm/vdev/vpit.c vmm/vdev/vrtc.c \
	vmm/vdev/testdev.c vmm/vdev/fw_cfg.c vmm/vdev/flash.c
# Host tests: each device with a fake VM, clock and page pool (and CLI/STI stepped over).
VDEV_TEST_FAKES := tests/unit/vmm/fake_vm.c tests/unit/fake_clock.c tests/unit/fake_page_alloc.c \
	tests/unit/fake_irq_flags.c
UNIT_TESTS += vlapic
UNIT_SRCS_vlapic := vmm/vdev/vlapic.c $(VDEV_TEST_FAKES)
UNIT_TESTS += vioapic
UNIT_SRCS_vioapic := vmm/vdev/vioapic.c $(VDEV_TEST_FAKES)
UNIT_TESTS += vpit
UNIT_SRCS_vpit := vmm/vdev/vpit.c $(VDEV_TEST_FAKES)
UNIT_TESTS += vrtc
UNIT_SRCS_vrtc := vmm/vdev/vrtc.c lib/calendar.c $(VDEV_TEST_FAKES)
UNIT_TESTS += vuart
UNIT_SRCS_vuart := vmm/vdev/vuart.c tests/unit/fake_log.c lib/format.c $(VDEV_TEST_FAKES)
UNIT_TESTS += fw_cfg
UNIT_SRCS_fw_cfg := vmm/vdev/fw_cfg.c lib/strlcpy.c $(VDEV_TEST_FAKES)
UNIT_TESTS += flash
UNIT_SRCS_flash := vmm/vdev/flash.c tests/unit/fake_log.c lib/format.c $(VDEV_TEST_FAKES)
