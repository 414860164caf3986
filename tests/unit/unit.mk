# Host unit tests: each compiles the real sources it tests, with ASan and UBSan.
UNIT_TESTS += format config mem_map page_alloc
UNIT_SRCS_format := lib/format.c
UNIT_SRCS_config := boot/config.c lib/format.c lib/strlcpy.c
UNIT_SRCS_mem_map := boot/mem_map.c
UNIT_SRCS_page_alloc := core/page_alloc.c
UNIT_TESTS += acpi
UNIT_SRCS_acpi := drivers/acpi.c drivers/acpi_s5.c tests/unit/fake_log.c lib/format.c
UNIT_TESTS += dm_forward
UNIT_SRCS_dm_forward := vmm/control/dm_forward.c vmm/control/dm_isa.c lib/format.c
# keel-dm over a fake control device: all of it but main.c (recursive: KEEL_DM_SRCS comes later,
# from tools/keel-dm/keel-dm.mk).
UNIT_TESTS += keel_dm_ioreq keel_dm_server
UNIT_SRCS_keel_dm_ioreq = $(KEEL_DM_SRCS)
UNIT_SRCS_keel_dm_server = $(KEEL_DM_SRCS) tests/unit/virtio/virtio_driver_sim.c
UNIT_TESTS += keel_dm_cfi
UNIT_SRCS_keel_dm_cfi := tools/keel-dm/flash/cfi.c
UNIT_TESTS += keel_dm_i8042
UNIT_SRCS_keel_dm_i8042 := tools/keel-dm/kbc/i8042.c
