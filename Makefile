# SPDX-License-Identifier: MIT
# Keel: `make` builds build/keel.efi; `make run` boots it in QEMU; `make test` runs every test.
BUILD := build
Q := @
CC := gcc
LD := ld
OBJCOPY := objcopy
PYTHON := python3
FONT := /usr/share/consolefonts/Lat15-Terminus16.psf.gz
EFI_INC := /usr/include/efi
EFI_CRT0 := /usr/lib/crt0-efi-x86_64.o
EFI_LIBDIR := /usr/lib

WARN := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wundef -Wvla -Werror
CORE_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-builtin -fno-stack-protector \
	-fno-stack-check -fpic -fshort-wchar -mno-red-zone -mgeneral-regs-only \
	-fno-omit-frame-pointer -fno-optimize-sibling-calls -fno-strict-aliasing \
	-fno-tree-loop-distribute-patterns \
	-maccumulate-outgoing-args -DGNU_EFI_USE_MS_ABI $(WARN) -Iinclude -I.
EFI_CFLAGS := -isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64
HOST_CFLAGS := -std=gnu11 -g -O1 -DKEEL_HOST_TEST -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all $(WARN) -Wno-missing-prototypes -Iinclude -I. -Itests/unit -Itests/unit/virtio -Itools/lib

CORE_SRCS :=
UNIT_TESTS :=
FUZZ_TARGETS :=
# the kernel of the service VM, the guests and make bench's KVM peer (tools/tools.mk)
KERNEL := $(lastword $(sort $(wildcard /boot/vmlinuz-*)))
include boot/boot.mk arch/x86/x86.mk core/core.mk lib/lib.mk drivers/drivers.mk
include tests/unit/unit.mk tests/guests/guests.mk $(wildcard vmm/*.mk vmm/*/*.mk iommu/*.mk iommu/*/*.mk virtio/*.mk tools/*.mk tools/*/*.mk)

obj = $(patsubst %,$(BUILD)/obj/%.o,$(1))
CORE_OBJS := $(call obj,$(CORE_SRCS)) $(BUILD)/obj/gen/font.c.o
BOOT_OBJS := $(call obj,$(BOOT_EFI_SRCS))
ALL_OBJS := $(CORE_OBJS) $(BOOT_OBJS)
LIBGCC := $(shell $(CC) -print-libgcc-file-name)
HEADERS := $(wildcard include/*/*.h include/uapi/*/*.h arch/x86/*.h arch/x86/*/*.h tests/unit/*.h \
	tests/unit/*/*.h)
LDFLAGS := -nostdlib -znocombreloc -shared -Bsymbolic --no-undefined -T linker.ld
LINK_INPUTS := $(EFI_CRT0) $(ALL_OBJS)
LINK_LIBS := -L$(EFI_LIBDIR) -lgnuefi $(LIBGCC)

.PHONY: all run test bench unit-build fuzz-build guests usb stats clean deps
.DEFAULT_GOAL := all
all: $(BUILD)/keel.efi

$(BUILD)/obj/%.c.o: %.c Makefile
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CORE_CFLAGS) -MMD -c $< -o $@
$(BUILD)/obj/boot/efi_%.c.o: boot/efi_%.c Makefile
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CORE_CFLAGS) $(EFI_CFLAGS) -MMD -c $< -o $@
$(BUILD)/obj/%.S.o: %.S Makefile
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CORE_CFLAGS) -MMD -c $< -o $@
$(BUILD)/obj/gen/%.c.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CORE_CFLAGS) -c $< -o $@

$(BUILD)/gen/font.c: scripts/psf2c.py
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/psf2c.py $(FONT) $@

# Two links: the first gives symbol addresses for the backtrace table,
# the second embeds it at the end of .data, where it moves no code.
$(BUILD)/gen/ksyms0.c: scripts/gen_ksyms.py
	@mkdir -p $(dir $@)
	$(PYTHON) scripts/gen_ksyms.py $@
$(BUILD)/keel-pass1.so: $(LINK_INPUTS) $(BUILD)/obj/gen/ksyms0.c.o linker.ld
	$(LD) $(LDFLAGS) $(LINK_INPUTS) $(BUILD)/obj/gen/ksyms0.c.o $(LINK_LIBS) -o $@
$(BUILD)/gen/ksyms.c: $(BUILD)/keel-pass1.so scripts/gen_ksyms.py
	nm -n --defined-only $< > $(BUILD)/keel-pass1.nm
	$(PYTHON) scripts/gen_ksyms.py $@ $(BUILD)/keel-pass1.nm
$(BUILD)/keel.so: $(LINK_INPUTS) $(BUILD)/obj/gen/ksyms.c.o
	$(LD) $(LDFLAGS) $(LINK_INPUTS) $(BUILD)/obj/gen/ksyms.c.o $(LINK_LIBS) -o $@
	@nm -n --defined-only $@ | grep ' [Tt] ' > $(BUILD)/keel.text.nm
	@grep ' [Tt] ' $(BUILD)/keel-pass1.nm | cmp -s - $(BUILD)/keel.text.nm || \
		{ echo "symbol table moved code between links"; exit 1; }
$(BUILD)/keel.efi: $(BUILD)/keel.so
	$(OBJCOPY) -j .text -j .reloc -j .data -j .dynamic -j .rela -j .dynsym \
		--target efi-app-x86_64 --subsystem=10 $< $@

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# --- host unit tests ---
# tests/unit/<part>/test_<name>.c for each name in UNIT_TESTS; UNIT_SRCS_<name> lists what it tests
unit_src = $(firstword $(wildcard tests/unit/*/test_$(1).c))
define unit_rule
$(BUILD)/tests/unit/test_$(1): $(call unit_src,$(1)) tests/unit/test_main.c $(UNIT_SRCS_$(1)) tests/unit/test.h $(HEADERS)
	@mkdir -p $$(dir $$@)
	$(CC) $(HOST_CFLAGS) -o $$@ $(call unit_src,$(1)) tests/unit/test_main.c $(UNIT_SRCS_$(1))
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))
UNIT_BINS := $(foreach t,$(UNIT_TESTS),$(BUILD)/tests/unit/test_$(t))
unit-build: $(UNIT_BINS)

# --- fuzz targets (libFuzzer): FUZZ_SRCS_<name> lists the sources, tests/fuzz/fuzz_<name>.c the entry ---
FUZZ_CC := clang
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Wall -Wextra -Werror -Iinclude -I.
define fuzz_rule
$(BUILD)/tests/fuzz/fuzz_$(1): tests/fuzz/fuzz_$(1).c $(FUZZ_SRCS_$(1)) $(HEADERS)
	@mkdir -p $$(dir $$@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $$@ tests/fuzz/fuzz_$(1).c $(FUZZ_SRCS_$(1))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))
FUZZ_BINS := $(foreach t,$(FUZZ_TARGETS),$(BUILD)/tests/fuzz/fuzz_$(t))
fuzz-build: $(FUZZ_BINS)

# --- commands ---
deps:
	@scripts/install-deps.sh

# guests' UEFI firmware (keelctl create --firmware), from Debian's ovmf
OVMF_DIR := /usr/share/OVMF
$(BUILD)/keel-usb.img: $(BUILD)/keel.efi keel.cfg $(BUILD)/service-initrd.img $(BUILD)/guest-initrd.img \
		scripts/mkdisk.py
	$(PYTHON) scripts/mkdisk.py $@ EFI/BOOT/BOOTX64.EFI=$(BUILD)/keel.efi keel.cfg=keel.cfg \
		vmlinuz=$(KERNEL) initrd.img=$(BUILD)/service-initrd.img guest-initrd.img=$(BUILD)/guest-initrd.img \
		OVMF_CODE_4M.fd=$(OVMF_DIR)/OVMF_CODE_4M.fd OVMF_VARS_4M.fd=$(OVMF_DIR)/OVMF_VARS_4M.fd
usb: $(BUILD)/keel-usb.img

run: deps
	@$(MAKE) --no-print-directory usb
	$(PYTHON) scripts/run.py $(BUILD)/keel-usb.img

test: deps
	@$(MAKE) --no-print-directory all unit-build fuzz-build guests usb
	$(PYTHON) tests/run.py

# make bench P="virtio-disk virtio-net" runs only those parts (scripts/bench.py lists them).
bench: deps
	@$(MAKE) --no-print-directory all guests usb $(BUILD)/kvm-initrd.img
	$(PYTHON) scripts/bench.py $(P)

stats:
	@echo "hypervisor core (boot arch core lib drivers vmm iommu and their headers), lines:"
	@cat $$(find boot arch core lib drivers vmm iommu include/keel include/lib include/uapi \
		-name '*.[chS]') | wc -l
	@echo "virtio device models (virtio/ and their headers), lines:"
	@cat $$(find virtio include/virtio -name '*.[ch]') | wc -l

clean:
	rm -rf $(BUILD)
