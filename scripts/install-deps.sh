#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages Keel needs to build, run and test; only what is missing.
set -e
PACKAGES="make gcc libc6-dev binutils python3 gnu-efi mtools qemu-system-x86 ovmf
busybox-static linux-image-amd64 console-setup-linux clang llvm libclang-rt-14-dev
bochs bochsbios vgabios bochs-sdl iproute2 acpica-tools libvncserver-dev clang-format
grub-efi-amd64-bin grub-common debian-installer-12-netboot-amd64"
missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
