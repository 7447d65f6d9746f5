#!/bin/sh
# boot.sh INITRAMFS [LAUNCHER ARGS...]: boots the Debian kernel with INITRAMFS under qemu
# (software emulation: KVM hangs the guest on these machines) on the serial console, with
# the arguments as launcher.args. The VM powers itself off when its container ends; a
# kernel panic (PID 1 exited) ends qemu at once too (panic=-1, -no-reboot). Exits with
# qemu's status; the console goes to stdout.
set -eu
initramfs=$1
shift
kernel=$(dirname "$0")/kernel.sh
args=""
[ $# -gt 0 ] && args=" launcher.args=\"$*\""
exec timeout -s KILL "${VM_TIMEOUT:-120}" qemu-system-x86_64 -accel tcg -cpu max -m 512 -smp 1 \
	-machine pc -nographic -no-reboot -nodefaults -serial stdio \
	-kernel "$("$kernel" image)" -initrd "$initramfs" \
	-append "console=ttyS0 panic=-1 quiet cryptomgr.notests$args"
