# Freestanding test guests: multiboot kernels that print PASS/FAIL on COM1 and exit through the test device.
GUESTS := cpuid msr portio mmio timer pagefault triplefault escape spin exitcost ramcheck usermmio fwcfg
# the virtio test guests also link the small virtio-pci driver
VPCI_GUESTS := badring badgpu blkdrop
GUEST_CFLAGS := -std=gnu11 -O2 -g -m64 -ffreestanding -fno-builtin -fno-pic -fno-pie -mno-red-zone \
	-mgeneral-regs-only -fno-stack-protector -fno-omit-frame-pointer -mcmodel=kernel \
	$(WARN) -Wno-missing-prototypes -Iinclude -I.
GUEST_RUNTIME := tests/guests/lib/entry.S tests/guests/lib/isr.S tests/guests/lib/guest.c lib/format.c lib/string.c
# $(1): the guest, $(2): runtime sources beyond GUEST_RUNTIME
define guest_rule
$(BUILD)/guests/$(1).elf: tests/guests/$(1).c $(GUEST_RUNTIME) $(2) tests/guests/lib/guest.h tests/guests/lib/guest.ld
	@mkdir -p $$(dir $$@)
	@echo "  GUEST   $$@"
	$(Q)$(CC) $(GUEST_CFLAGS) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments \
		-T tests/guests/lib/guest.ld -o $$@ tests/guests/$(1).c $(GUEST_RUNTIME) $(filter %.c,$(2))
endef
$(foreach g,$(GUESTS),$(eval $(call guest_rule,$(g),)))
$(foreach g,$(VPCI_GUESTS),$(eval $(call guest_rule,$(g),tests/guests/lib/vpci.c tests/guests/lib/vpci.h)))
GUEST_ELFS := $(foreach g,$(GUESTS) $(VPCI_GUESTS),$(BUILD)/guests/$(g).elf)
guests: $(GUEST_ELFS)
