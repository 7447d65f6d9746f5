// seccomp.hpp: placeholder until the profile compiler lands: a bundle's linux.seccomp is
// refused with one line (never ignored).
#pragma once
#include <linux/filter.h>
#include <string_view>
#include <vector>
#include <cstdio>

namespace seccomp {
struct program {
	std::vector<sock_filter> code;
};
inline bool compile(std::string_view, uint64_t, program &, char *err, size_t errlen)
{
	snprintf(err, errlen, "seccomp profiles are not supported yet");
	return false;
}
inline int load(const program &) { return ENOSYS; }
} // namespace seccomp
