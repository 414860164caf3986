# Freestanding library code.
CORE_SRCS += lib/string.c lib/strlcpy.c lib/format.c
