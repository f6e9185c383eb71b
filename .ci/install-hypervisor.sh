#!/usr/bin/env bash
# Machine set-up for the real-VM tests (test/system/kvm-*.test.ts), as measured in ../shared/hypervisor-notes.md.
# Idempotent: each step runs only when its result is missing. Under CI (CI=true) a step that cannot be done fails
# the run, so the real-VM suite never silently skips there.
set -euo pipefail

fail() { echo "install-hypervisor: $*" >&2; exit 1; }
SUDO=""
if [ "$(id -u)" != "0" ]; then
  command -v sudo >/dev/null 2>&1 && SUDO="sudo" || fail "not root and no sudo: cannot install the hypervisor packages"
fi

# Packages:
# - qemu-system-x86, qemu-utils: QEMU runs the guests; qemu-img makes the template clones and data disks.
# - libvirt-daemon-system + libvirt-clients: libvirtd and virsh, through which the kvm driver manages QEMU.
# - libvirt-daemon-system-sysv: named explicitly, or apt pulls in systemd (the machine has no init system).
# - busybox-static: the guest's userland (initramfs built at test time, no internet needed).
# - tini: a subreaper for libvirtd, so exited QEMU processes are reaped at once (virsh destroy 1.24 s -> 0.24 s).
# - dnsmasq-base: DHCP with static leases on each guest network, so the guest gets the allocated IP.
# - iproute2: network namespaces, bridges and VXLAN devices for the test "hosts".
# - cpio: packs the guest initramfs.
# - syslinux, syslinux-common, mtools, dosfstools: make the BIOS-bootable guest template with no loop device or
#   mount (scripts/build-guest-image.sh).
need=()
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
command -v qemu-img >/dev/null 2>&1 || need+=(qemu-utils)
command -v libvirtd >/dev/null 2>&1 || need+=(libvirt-daemon-system libvirt-daemon-system-sysv)
command -v virsh >/dev/null 2>&1 || need+=(libvirt-clients)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx udhcpc || need+=(busybox-static)
command -v tini >/dev/null 2>&1 || need+=(tini)
command -v dnsmasq >/dev/null 2>&1 || need+=(dnsmasq-base)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v cpio >/dev/null 2>&1 || need+=(cpio)
command -v syslinux >/dev/null 2>&1 || need+=(syslinux)
[ -d /usr/lib/syslinux/modules/bios ] || need+=(syslinux-common)
command -v mcopy >/dev/null 2>&1 || need+=(mtools)
command -v mkfs.vfat >/dev/null 2>&1 || need+=(dosfstools)
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || fail "${need[*]} missing and apt-get is not available"
  echo "== installing ${need[*]} with apt-get"
  APT_LOCK=(-o DPkg::Lock::Timeout=600)  # wait for another installer rather than fail at once
  $SUDO apt-get "${APT_LOCK[@]}" update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${APT_LOCK[@]}" install -y --no-install-recommends "${need[@]}"
else
  echo "== hypervisor packages present"
fi

# /dev/kvm: without udev it stays root-only 0600, and libvirt then re-probes QEMU on every call (seconds per virsh
# call). Give it the owner udev would. Guests still run under TCG on this kind of machine (the notes say why).
if [ -e /dev/kvm ]; then
  getent group kvm >/dev/null 2>&1 || $SUDO groupadd -r kvm
  $SUDO chown root:kvm /dev/kvm
  $SUDO chmod 0660 /dev/kvm
fi
