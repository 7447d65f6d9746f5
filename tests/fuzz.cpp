// libFuzzer targets for the parsers that read what an archive's author controls. One
// file, one target per build: -DFUZZ_TAR, -DFUZZ_JSON, -DFUZZ_INFLATE, -DFUZZ_ZSTD or -DFUZZ_IMAGE
// (manifest resolution: the input as an image archive, every member a candidate blob).
// `make fuzz` runs each for FUZZ_SECONDS; `make check` runs a short smoke of each.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "../gzip.hpp"
#include "../image.hpp"
#include "../json.hpp"
#include "../sha256.hpp"
#include "../tar.hpp"
#include "../zstd.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::span<const unsigned char> in(data, size);
#if defined(FUZZ_TAR)
	tar::reader r(in);
	tar::entry e;
	size_t sum = 0;
	while (r.next(e)) { // touch every byte the reader hands out
		for (unsigned char c : e.data)
			sum += c;
		sum += e.path.size() + e.linkpath.size();
		tar::for_each_pax(e.pax, [&](std::string_view k, std::string_view v) { sum += k.size() + v.size(); });
	}
	return sum == 1 ? 1 : 0;
#elif defined(FUZZ_JSON)
	std::string_view text(reinterpret_cast<const char *>(data), size);
	std::vector<char> store;
	std::vector<image::manifest> manifests;
	image::parse_manifest(text, store, manifests);
	image::config config;
	std::vector<char> store2;
	image::parse_config(text, store2, config);
	return 0;
#elif defined(FUZZ_INFLATE)
	auto z = std::make_unique<gzip::inflater>(in);
	size_t total = 0;
	for (auto chunk = z->next(); !chunk.empty(); chunk = z->next())
		total += chunk.size();
	return total == 1 ? 1 : 0;
#elif defined(FUZZ_ZSTD)
	auto z = std::make_unique<zstd::decoder>(in);
	size_t total = 0;
	for (auto chunk = z->next(); !chunk.empty(); chunk = z->next())
		for (unsigned char c : chunk) // touch every byte handed out
			total += c;
	return total == 1 ? 1 : 0;
#elif defined(FUZZ_IMAGE)
	std::vector<std::pair<std::string_view, std::span<const unsigned char>>> members;
	tar::reader r(in);
	tar::entry e;
	while (r.next(e) && members.size() < 256)
		if (e.typeflag == tar::type::file)
			members.push_back({e.path, e.data});
	auto find = [&](std::string_view name) {
		for (auto &m : members)
			if (m.first == name)
				return m.second;
		return std::span<const unsigned char>{};
	};
	auto resolution = std::make_unique<image::resolution>();
	image::resolve(find, nullptr, sha256::digest, *resolution);
	auto chosen = std::make_unique<image::resolution>();
	image::resolve(find, "busybox:latest", sha256::digest, *chosen);
	return 0;
#else
#error define one of FUZZ_TAR, FUZZ_JSON, FUZZ_INFLATE, FUZZ_ZSTD, FUZZ_IMAGE
#endif
}
