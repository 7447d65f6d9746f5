#!/usr/bin/env bats
# A short smoke of each libFuzzer target (`make fuzz` runs them longer), then every input
# ever kept in tests/corpus/ (seeds, and crashers once fixed) replayed through its target.
# A crash is written to build/fuzz-crashes/ to be fixed and then kept in tests/corpus/.
load helpers

smoke() {
	mkdir -p "$BATS_TEST_TMPDIR/corpus" "$ROOT/build/fuzz-crashes"
	run "$ROOT/build/fuzz-$1" -max_total_time=8 -max_len=65536 -rss_limit_mb=2048 \
		-artifact_prefix="$ROOT/build/fuzz-crashes/$1-" "$BATS_TEST_TMPDIR/corpus" "$ROOT/tests/corpus/$1"
	assert_success
	assert_output --partial "Done"
	refute_output --partial "ERROR: AddressSanitizer"
	refute_output --partial "runtime error"
	run "$ROOT/build/fuzz-$1" "$ROOT"/tests/corpus/"$1"/*
	assert_success
}

@test "fuzz smoke: the tar reader" { smoke tar; }
@test "fuzz smoke: the JSON reader (manifest and config)" { smoke json; }
@test "fuzz smoke: inflate" { smoke inflate; }
@test "fuzz smoke: zstd" { smoke zstd; }
@test "fuzz smoke: manifest resolution over an archive" { smoke image; }
@test "fuzz smoke: the seccomp profile compiler" { smoke seccomp; }
@test "fuzz smoke: the command line, sizes, -v, --mount and --tmpfs" { smoke flags; }
