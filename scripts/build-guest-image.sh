#!/usr/bin/env bash
# Builds a tiny bootable guest for the kvm driver's tests and bench, with no internet: Debian's cloud kernel
# (downloaded as a package and unpacked, never installed) plus a busybox initramfs, in a BIOS-bootable disk
# image (FAT "superfloppy" + syslinux), converted to qcow2 as a CloudStack template is.
# The guest prints markers on its serial console (ttyS0), which the tests read from the console log:
#   CSD-GUEST-BOOTED <boot id>      when /init starts
#   CSD-GUEST-IP <iface> <address>  once DHCP has configured the NIC (udhcpc)
#   CSD-GUEST-DISKS <vda vdb ...>   at boot and whenever a disk is hot-plugged or removed
#   CSD-REACH <address>             an address of eth0's /24 (.2 to .20) that answered a ping: tried every 2 s
#                                   for 60 s after DHCP, so the tests see which guests can reach which
# It runs acpid, so an ACPI power-off request (virsh shutdown) powers it off.
#
# Output: the path of a directory holding template.qcow2 (and vmlinuz, initrd.gz), on stdout.
# Cached under $CSD_GUEST_CACHE (default ~/.cache/cloudstackd/guest-image), keyed by the kernel and busybox
# versions and this script's own hash, so a run after the first one takes no time.
# Needs: apt-get (package lists), dpkg-deb, busybox-static, cpio, gzip, mtools, dosfstools, syslinux, qemu-utils
# (.ci/install-hypervisor.sh installs them).
set -euo pipefail

fail() { echo "build-guest-image: $*" >&2; exit 1; }
for c in apt-get apt-cache dpkg-deb cpio gzip mkfs.vfat mcopy syslinux qemu-img sha256sum; do
  command -v "$c" >/dev/null 2>&1 || fail "$c is missing: run .ci/install-hypervisor.sh"
done
[ -x /bin/busybox ] || fail "/bin/busybox is missing: install busybox-static"

kpkg="$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')"
[ -n "$kpkg" ] || fail "apt-cache knows no linux-image-cloud-amd64: run apt-get update"
kver="$(apt-cache policy "$kpkg-unsigned" | awk '/Candidate:/{print $2}')"
bbver="$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || /bin/busybox | head -1)"
self="$(sha256sum "$0" | cut -c1-12)"
key="$(printf '%s %s %s %s' "$kpkg" "$kver" "$bbver" "$self" | sha256sum | cut -c1-16)"
cache="${CSD_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cloudstackd/guest-image}"
out="$cache/$key"
if [ -f "$out/done" ]; then echo "$out"; exit 0; fi

work="$(mktemp -d "${TMPDIR:-/tmp}/csd-guest-XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"
# apt-get download writes to the current directory; _apt cannot read a root-only mktemp dir, which is harmless.
apt-get download "$kpkg-unsigned" >/dev/null 2>&1 || apt-get download "$kpkg" >/dev/null 2>&1 || fail "apt-get download $kpkg failed"
dpkg-deb -x ./*.deb kernel
kdir="$(ls -d kernel/lib/modules/*)"
mkdir -p root/bin root/lib/modules root/etc root/proc root/sys root/dev root/tmp root/var/log root/mnt
cp /bin/busybox root/bin/busybox
# The virtio modules in load order (those built into the kernel are simply not found), ACPI button and evdev for acpid.
mods="virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk failover net_failover virtio_net button evdev"
for m in $mods; do
  f="$(find "$kdir" -name "$m.ko" -o -name "$m.ko.xz" | head -1)"
  [ -n "$f" ] && cp "$f" root/lib/modules/
done
cat > root/etc/udhcpc.script <<'SCRIPT'
#!/bin/sh
# udhcpc hook: configure the lease and print it on the console for the host side to read.
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route add default via "${router%% *}" dev "$interface" 2>/dev/null
    echo "$ip" > "/tmp/ip-$interface"
    echo "CSD-GUEST-IP $interface $ip" > /dev/ttyS0 ;;
esac
exit 0
SCRIPT
cat > root/init <<'SCRIPT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
# No modprobe/depmod here: retry the modules in rounds until each loaded (dependencies go in first).
left="virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk failover net_failover virtio_net button evdev"
for round in 1 2 3 4 5; do
  again=""
  for m in $left; do
    [ -f /lib/modules/$m.ko ] || continue
    insmod /lib/modules/$m.ko 2>/dev/null || again="$again $m"
  done
  left="$again"
done
[ -n "$left" ] && echo "CSD-GUEST-WARN modules not loaded:$left" > /dev/ttyS0
echo "CSD-GUEST-BOOTED $(cat /proc/sys/kernel/random/boot_id)" > /dev/ttyS0
acpid
ip link set lo up
for n in /sys/class/net/*; do
  i="${n##*/}"; [ "$i" = lo ] && continue
  ip link set "$i" up
  udhcpc -i "$i" -b -t 5 -T 1 -s /etc/udhcpc.script >/dev/null 2>&1
done
# The network isolation test's probe: which neighbours answer. Only .2 to .20 (the tests' guests get the
# lowest free addresses) and only for 60 s after DHCP, so an idle guest costs nothing afterwards; each
# round's pings run in parallel (1 s timeout each), so a round takes about 1 s wherever nobody answers.
reach() {
  n=0
  while [ ! -s /tmp/ip-eth0 ] && [ $n -lt 60 ]; do sleep 1; n=$((n + 1)); done
  [ -s /tmp/ip-eth0 ] || return 0
  net="$(cut -d. -f1-3 /tmp/ip-eth0)"
  end=$(($(date +%s) + 60))
  while [ "$(date +%s)" -lt $end ]; do
    for h in $(seq 2 20); do
      (ping -c 1 -W 1 "$net.$h" >/dev/null 2>&1 && echo "CSD-REACH $net.$h" > /dev/ttyS0) &
    done
    wait
    sleep 2
  done
}
reach &
disks() { ls /sys/block | grep '^vd' | tr '\n' ' '; }
last="$(disks)"; echo "CSD-GUEST-DISKS $last" > /dev/ttyS0
while true; do
  now="$(disks)"
  [ "$now" != "$last" ] && { echo "CSD-GUEST-DISKS $now" > /dev/ttyS0; last="$now"; }
  sleep 1
done
SCRIPT
# busybox acpid maps the power button (PWRF) to /etc/acpi/PWRF/00000080 and runs it.
mkdir -p root/etc/acpi/PWRF
printf '#!/bin/sh\necho CSD-GUEST-ACPI-POWEROFF > /dev/ttyS0\npoweroff -f\n' > root/etc/acpi/PWRF/00000080
chmod +x root/init root/etc/udhcpc.script root/etc/acpi/PWRF/00000080
(cd root && find . | cpio -o -H newc 2>/dev/null | gzip -9) > initrd.gz
cp "$kdir/../../../boot/vmlinuz-"* vmlinuz
# The BIOS-bootable template: FAT superfloppy + syslinux, no loop device or mount needed.
truncate -s 64M disk.raw
mkfs.vfat disk.raw >/dev/null
syslinux --install disk.raw
printf 'DEFAULT linux\nLABEL linux\n  KERNEL vmlinuz\n  INITRD initrd.gz\n  APPEND console=ttyS0 quiet panic=-1\n' > syslinux.cfg
mcopy -i disk.raw vmlinuz initrd.gz syslinux.cfg ::/
qemu-img convert -f raw -O qcow2 disk.raw template.qcow2
mkdir -p "$out"
cp vmlinuz initrd.gz template.qcow2 "$out/"
printf '%s %s busybox %s\n' "$kpkg" "$kver" "$bbver" > "$out/versions"
touch "$out/done"
echo "$out"
