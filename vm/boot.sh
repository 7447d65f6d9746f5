#!/bin/sh
# boot.sh INITRAMFS [LAUNCHER ARGS...]: boots the Debian kernel with INITRAMFS under qemu
# on the serial console, with the arguments as launcher.args. Software emulation (TCG)
# unless KVM is usable: /dev/kvm present, the CPU showing vmx or svm, and a short probe
# boot under KVM reaching power-off (on these machines KVM hangs the guest, so the probe
# is all it costs, once: its answer is kept in $VM_CACHE). The VM powers itself off when its container ends; a
# kernel panic (PID 1 exited) ends qemu at once too (panic=-1, -no-reboot). Exits with
# qemu's status; the console goes to stdout. $VM_KERNEL_ARGS adds to the kernel's command line
# (security=selinux, say).
set -eu
initramfs=$1
shift
kernel=$(dirname "$0")/kernel.sh
args=""
[ $# -gt 0 ] && args=" launcher.args=\"$*\""
cache=${VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/launcher-vm-accel}
accel=tcg cpu=max
if [ -f "$cache" ]; then
	accel=$(cat "$cache")
elif [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
	if timeout -s KILL 20 qemu-system-x86_64 -accel kvm -cpu host -m 256 -nographic -no-reboot -nodefaults \
		-serial stdio -kernel "$("$kernel" image)" -initrd "$initramfs" \
		-append "console=ttyS0 panic=-1 quiet launcher.args=--version" 2>/dev/null | grep -q "Power down"; then
		accel=kvm
	fi
	mkdir -p "$(dirname "$cache")" && echo "$accel" >"$cache"
fi
[ "$accel" = kvm ] && cpu=host
exec timeout -s KILL "${VM_TIMEOUT:-120}" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" -m 512 -smp 1 \
	-machine pc -nographic -no-reboot -nodefaults -serial stdio -fw_cfg name=etc/sercon-port,string=0 \
	-kernel "$("$kernel" image)" -initrd "$initramfs" \
	-append "console=ttyS0 panic=-1 quiet cryptomgr.notests${VM_KERNEL_ARGS:+ $VM_KERNEL_ARGS}$args"
