# Instruction decoder and MMIO emulator: freestanding, host-tested and fuzzed.
CORE_SRCS += vmm/emul/x86_decode.c vmm/emul/x86_emulate.c
UNIT_TESTS += x86_decode x86_emulate
UNIT_SRCS_x86_decode := vmm/emul/x86_decode.c
UNIT_SRCS_x86_emulate := vmm/emul/x86_decode.c vmm/emul/x86_emulate.c
FUZZ_TARGETS += x86_decode
FUZZ_SRCS_x86_decode := vmm/emul/x86_decode.c vmm/emul/x86_emulate.c
# The guest's linear-address translation with the CPU's access checks, fuzzed against a reference walk.
CORE_SRCS += vmm/emul/x86_paging.c
UNIT_TESTS += x86_paging
UNIT_SRCS_x86_paging := vmm/emul/x86_paging.c
FUZZ_TARGETS += x86_paging
FUZZ_SRCS_x86_paging := vmm/emul/x86_paging.c
