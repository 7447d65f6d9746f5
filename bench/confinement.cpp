// confinement FILE: writes docker's default confinement as the launcher makes it, for the
// confined start floor (bench/floor.c -c FILE) to load as it is: the capabilities a
// default container keeps, the seccomp filter the launcher compiles from docker's default
// profile for them, the cgroup2 device program it attaches, and the v1 devices
// controller's rules it writes. Built from the launcher's own headers, so the floor pays
// the kernel's cost of exactly the launcher's policy (not its making: the launcher
// compiles the filter at every start, the floor reads it from FILE).
//
// FILE: a header (see below), the filter's sock_filter array, the device program's
// bpf_insn array, then each v1 rule as 'A' (allow) or 'D' (deny) and its text, NUL-ended.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "../limits.hpp"
#include "../seccomp.hpp"

struct header { // read by floor.c as struct confinement_header
	uint32_t magic = 0x666c6f72; // "flor"
	uint32_t filter_length, program_length, rules_bytes;
	uint64_t caps;
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: confinement FILE\n");
		return 2;
	}
	header h;
	h.caps = security::effective_caps({});
	seccomp::program filter = seccomp::docker_default(h.caps);
	static constexpr security::device_program program = security::make_device_program();
	std::string rules = std::string("Da") + '\0';
	for (const security::device_rule &r : security::device_rules) {
		char text[40];
		limits::v1_device_rule(r, text);
		rules += r.allow ? 'A' : 'D';
		rules += text;
		rules += '\0';
	}
	h.filter_length = uint32_t(filter.code.size());
	h.program_length = uint32_t(std::size(program.code));
	h.rules_bytes = uint32_t(rules.size());
	FILE *f = fopen(argv[1], "wb");
	if (!f || fwrite(&h, sizeof h, 1, f) != 1 || fwrite(filter.code.data(), sizeof(sock_filter), filter.code.size(), f) != filter.code.size() ||
	    fwrite(program.code, sizeof(bpf_insn), std::size(program.code), f) != std::size(program.code) ||
	    fwrite(rules.data(), 1, rules.size(), f) != rules.size() || fclose(f) != 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
