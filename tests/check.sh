#!/bin/bash
# Runs every test suite (Boost.Test units, then bats end to end) and ends with one line,
# "N passed, M failed", counted over all of them. Exits non-zero when any test failed.
set -u
cd "$(dirname "$0")/.."
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
passed=0 failed=0

build/unit --report_level=short --log_level=error 2>&1 | tee "$log/unit"
unit_pass=$(sed -n 's/.* \([0-9]*\) test cases\? out of [0-9]* passed.*/\1/p' "$log/unit" | head -1)
unit_fail=$(sed -n 's/.* \([0-9]*\) test cases\? out of [0-9]* \(failed\|aborted\).*/\1/p' "$log/unit" | paste -sd+ | bc)
passed=$((passed + ${unit_pass:-0}))
failed=$((failed + ${unit_fail:-0}))
grep -q 'No errors detected\|has passed' "$log/unit" || [ "${unit_fail:-0}" -gt 0 ] || failed=$((failed + 1))

# The first `ip netns add` on a machine mounts /run/netns (iproute2 makes it a shared bind
# mount of itself, and leaves it): done once here, so the first test that names a network
# namespace does not see that mount appear in the host's mount table as its own leftover.
ip netns add launcher-check-probe && ip netns delete launcher-check-probe

bats --tap tests/ 2>&1 | tee "$log/bats"
passed=$((passed + $(grep -c '^ok ' "$log/bats")))
failed=$((failed + $(grep -c '^not ok ' "$log/bats")))
grep -q '^1\.\.[1-9]' "$log/bats" || failed=$((failed + 1)) # bats itself failed to run

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
