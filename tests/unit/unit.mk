# Host unit tests: each compiles the real sources it tests, with ASan and UBSan.
UNIT_TESTS += format config mem_map page_alloc
UNIT_SRCS_format := lib/format.c
UNIT_SRCS_config := boot/config.c lib/format.c lib/strlcpy.c
UNIT_SRCS_mem_map := boot/mem_map.c
UNIT_SRCS_page_alloc := core/page_alloc.c
UNIT_TESTS += acpi
UNIT_SRCS_acpi := drivers/acpi.c drivers/acpi_s5.c tests/unit/fake_log.c lib/format.c
