# keel-vnc, the VNC server of guest screens: linked against Debian's libvncserver (shared only),
# so the service VM's initramfs carries it with its libraries (mkinitramfs.py --dynamic).
KEEL_VNC_SRCS := tools/keel-vnc/main.c tools/keel-vnc/keymap.c
$(BUILD)/tools/keel-vnc: $(KEEL_VNC_SRCS) tools/keel-vnc/keymap.h tools/lib/screen.h
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	$(Q)$(CC) -std=gnu11 -O2 -g $(WARN) -Itools/lib -o $@ $(KEEL_VNC_SRCS) -lvncserver

UNIT_TESTS += keymap
UNIT_SRCS_keymap := tools/keel-vnc/keymap.c
