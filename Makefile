# launcher: one static musl binary that runs `docker save` images.
#   make demo    install build deps, build, run the hello image
#   make check   install test deps, run every unit and end-to-end test

VERSION := 0.1
HEADERS := format.hpp sys.hpp tar.hpp json.hpp image.hpp gzip.hpp zstd.hpp sha256.hpp cache.hpp options.hpp unpack.hpp netlink.hpp nfnetlink.hpp dns.hpp network.hpp security.hpp limits.hpp machine.hpp runtime.hpp layers.hpp users.hpp container.hpp rootfs.hpp confine.hpp init.hpp bundle.hpp state.hpp oci.hpp seccomp.hpp volumes.hpp logs.hpp attach.hpp containers.hpp lsm.hpp description.hpp spawn.hpp
BUILD_PACKAGES := musl-tools gcc g++ tar coreutils busybox-static
BENCH_PACKAGES := hyperfine crun runc bubblewrap umoci tini dumb-init catatonit gnuplot-nox python3 file util-linux zstd libdeflate-tools
VM_PACKAGES := qemu-system-x86 linux-image-amd64 cpio apparmor
ROOTLESS_PACKAGES := uidmap
FUZZ_PACKAGES := clang libclang-rt-14-dev
# The engines that drive an OCI runtime (tests/engines.bats, the bench's engine rows). Their
# packages enable systemd units (docker, containerd, podman's socket): `need` installs with
# a policy-rc.d that refuses every start, so no daemon runs and no docker0 bridge appears;
# docker.io adds a `docker` group.
ENGINE_PACKAGES := podman conmon golang-github-containers-common catatonit docker.io containerd runc crun
TEST_PACKAGES := $(BUILD_PACKAGES) $(BENCH_PACKAGES) $(VM_PACKAGES) $(ROOTLESS_PACKAGES) $(FUZZ_PACKAGES) $(ENGINE_PACKAGES) libboost-test-dev bats bats-assert bats-support iproute2 nftables strace skopeo tmux

# musl has no libstdc++: take the header-only parts of GCC's and shim the rest
# (launcher.cpp). musl-gcc hides the kernel's UAPI headers; build/uapi exposes exactly
# linux/, asm-generic/ and asm/, never all of glibc's /usr/include.
MUSL_CXX := musl-gcc -xc++ -std=c++20 -fno-exceptions -fno-rtti -fno-threadsafe-statics -fno-asynchronous-unwind-tables \
	'-D__GLIBC_PREREQ(a,b)=0' -isystem /usr/include/c++/12 -isystem /usr/include/x86_64-linux-gnu/c++/12 \
	-isystem build/uapi
# -z noseparate-code and -z norelro drop page padding between segments: a static musl
# binary never applies PT_GNU_RELRO (only musl's dynamic linker does), so it costs nothing.
CXXFLAGS_PRODUCT := -Oz -Wall -Wextra -Wno-missing-field-initializers -DLAUNCHER_VERSION='"$(VERSION)"' \
	-ffunction-sections -fdata-sections -static -s -Wl,--gc-sections \
	-Wl,-z,noseparate-code -Wl,-z,norelro -Wl,-z,common-page-size=64 -Wl,--build-id=none -fno-ident
CXXFLAGS_TEST := -std=c++20 -O1 -g -Wall -Wextra -Wno-missing-field-initializers -fsanitize=address,undefined

# Installs the Debian packages that are missing (needs root, as every container start does).
# Packaged daemons must not start: without a policy-rc.d, one that refuses (exit 101) stands
# in for the install and is removed after it.
define need
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		guard=; [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && guard=1; }; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		rc=$$?; [ -z "$$guard" ] || rm -f /usr/sbin/policy-rc.d; exit $$rc; \
	fi
endef

.PHONY: all demo check unit e2e fuzz fuzz-smoke images bench bench-quick initramfs vm-demo deps-build deps-test deps-bench deps-vm clean

all: launcher images

deps-build:
	$(call need,$(BUILD_PACKAGES))

deps-test:
	$(call need,$(TEST_PACKAGES))

deps-bench:
	$(call need,$(BUILD_PACKAGES) $(BENCH_PACKAGES) $(ENGINE_PACKAGES))

deps-vm:
	$(call need,$(BUILD_PACKAGES) $(VM_PACKAGES))

build/uapi:
	mkdir -p build/uapi
	ln -sfn /usr/include/linux build/uapi/linux
	ln -sfn /usr/include/asm-generic build/uapi/asm-generic
	ln -sfn /usr/include/x86_64-linux-gnu/asm build/uapi/asm

# seccomp.hpp's table of x86_64 syscall names, from the kernel headers' numbers.
build/syscalls_x86_64.inc: | build/uapi
	sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9]*\)$$/{"\1", \2},/p' build/uapi/asm/unistd_64.h >$@.tmp
	test -s $@.tmp && mv $@.tmp $@

launcher: launcher.cpp $(HEADERS) Makefile build/syscalls_x86_64.inc | build/uapi
	$(MUSL_CXX) $(CXXFLAGS_PRODUCT) -o $@ launcher.cpp
	objcopy --remove-section=.comment $@

images: images/hello.tar images/busybox.tar images/bench.tar

images/hello.tar images/busybox.tar &: images/pack.sh images/hello.c
	images/pack.sh images

images/bench.tar: images/pack.sh bench/benchtool.c
	images/pack.sh images bench

demo: deps-build
	$(MAKE) launcher images
	./launcher images/hello.tar

# libFuzzer targets (tests/fuzz.cpp), one binary per parser, seeded from tests/corpus/.
FUZZ_TARGETS := tar json inflate zstd image seccomp flags
FUZZ_SECONDS ?= 60
build/fuzz-%: tests/fuzz.cpp $(HEADERS) build/syscalls_x86_64.inc
	@mkdir -p build
	clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-DFUZZ_$$(echo $* | tr a-z A-Z) -o $@ tests/fuzz.cpp

# Runs each target for FUZZ_SECONDS; a crash leaves its input in build/fuzz-crashes/ and fails.
fuzz: $(FUZZ_TARGETS:%=build/fuzz-%)
	for t in $(FUZZ_TARGETS); do \
		mkdir -p build/corpus-$$t build/fuzz-crashes && \
		build/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=2048 \
			-artifact_prefix=build/fuzz-crashes/$$t- build/corpus-$$t tests/corpus/$$t || exit 1; \
	done

fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=10

build/unit: tests/unit.cpp $(HEADERS) build/syscalls_x86_64.inc | build/uapi
	g++ $(CXXFLAGS_TEST) -o $@ tests/unit.cpp -lboost_unit_test_framework

unit: build/unit
	build/unit --log_level=test_suite --report_level=short

e2e: launcher images
	bats tests/

check: deps-test
	$(MAKE) launcher images build/unit $(FUZZ_TARGETS:%=build/fuzz-%)
	tests/check.sh

# Writes BENCHMARKS.md and bench/startup.svg (a few minutes); bench-quick runs every row
# small and fast into build/bench-quick (make check runs it, through tests/bench.bats).
bench: deps-bench
	$(MAKE) launcher images
	bench/bench.sh full .

bench-quick: deps-bench
	$(MAKE) launcher images
	bench/bench.sh quick build/bench-quick

# The launcher as /init of an initramfs with the demo images and the Debian kernel's
# modules; vm-demo boots it under qemu and the machine powers off after the container.
initramfs: deps-vm
	$(MAKE) launcher images
	vm/mkinitramfs.sh initramfs.cpio.gz

vm-demo: initramfs
	vm/boot.sh initramfs.cpio.gz /images/hello.tar

clean:
	rm -rf build launcher images/*.tar initramfs.cpio.gz
