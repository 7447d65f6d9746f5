#!/bin/sh
# The PID namespace: the container numbers its processes from 1, and its /proc shows
# only them. PID 1 is the launcher itself, the container's init: it reaps orphans.
set -eu
cd "$(dirname "$0")/.."
L=${LAUNCHER:-./launcher}

echo "the shell's PID on the host: $$"
echo "processes on the host:       $(ls -d /proc/[0-9]* | wc -l)"
$L images/busybox.tar sh -c '
	echo "the shell'"'"'s PID inside:   $$"
	echo "PID 1 inside is:             $(cat /proc/1/comm)"
	echo "processes inside (/proc):    $(ls -d /proc/[0-9]* | wc -l)"
	echo "ps inside:"
	ps'
