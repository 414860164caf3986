# Generic hypervisor core: boot sequence, memory, log.
CORE_SRCS += core/main.c core/log.c core/panic.c core/memory.c core/page_alloc.c core/symbols.c core/monitor.c core/wallclock.c
