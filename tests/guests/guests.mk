# Freestanding test guests: multiboot kernels that print PASS/FAIL on COM1 and exit through the test device.
GUESTS := pagefault triplefault escape spin exitcost ramcheck usermmio dmatarget
# the virtio test guests also link the small virtio-pci driver
VPCI_GUESTS := badring badgpu blkdrop badro
GUEST_CFLAGS := -std=gnu11 -O2 -g -m64 -ffreestanding -fno-builtin -fno-pic -fno-pie -mno-red-zone \
	-mgeneral-regs-only -fno-stack-protector -fno-omit-frame-pointer -mcmodel=kernel \
	$(WARN) -Wno-missing-prototypes -Iinclude -I.
GUEST_RUNTIME := tests/guests/lib/entry.S tests/guests/lib/isr.S tests/guests/lib/guest.c lib/format.c lib/string.c
# $(1): the guest, $(2): runtime sources beyond GUEST_RUNTIME, $(3): its folder
define guest_rule
$(BUILD)/guests/$(1).elf: $(3)/$(1).c $(GUEST_RUNTIME) $(2) tests/guests/lib/guest.h $(or $(GUEST_LDS_$(1)),tests/guests/lib/guest.ld)
	@mkdir -p $$(dir $$@)
	@echo "  GUEST   $$@"
	$(Q)$(CC) $(GUEST_CFLAGS) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments \
		-T $(or $(GUEST_LDS_$(1)),tests/guests/lib/guest.ld) -o $$@ $(3)/$(1).c $(GUEST_RUNTIME) $(filter %.c %.S,$(2))
endef
$(foreach g,$(GUESTS),$(eval $(call guest_rule,$(g),,tests/guests)))
$(foreach g,$(VPCI_GUESTS),$(eval $(call guest_rule,$(g),tests/guests/lib/vpci.c tests/guests/lib/vpci.h,tests/guests)))
# guests that check the CPU a VM sees: CPUID, MSRs, and that its state stays its own (XCR0,
# debug registers, speculation controls), NMIs
CPU_GUESTS := cpuid msr msrcompat xsetbv debugregs specctrl strio softint nmi
$(foreach g,$(CPU_GUESTS),$(eval $(call guest_rule,$(g),,tests/guests/cpu)))
# real mode and back: linked at 32 KiB as real-mode test kernels are; its 16-bit code is copied lower
GUEST_LDS_realmode := tests/guests/cpu/realmode.ld
$(eval $(call guest_rule,realmode,tests/guests/cpu/realmode16.S tests/guests/cpu/realmode.h,tests/guests/cpu))
# guests that check the platform: ports, MMIO, clocks and timers, fw_cfg
PLATFORM_GUESTS := portio mmio timer fwcfg
$(foreach g,$(PLATFORM_GUESTS),$(eval $(call guest_rule,$(g),,tests/guests/platform)))
GUEST_ELFS := $(foreach g,$(GUESTS) $(VPCI_GUESTS) $(CPU_GUESTS) realmode $(PLATFORM_GUESTS),$(BUILD)/guests/$(g).elf)
guests: $(GUEST_ELFS)
