// libFuzzer targets for the parsers that read what an archive's author controls. One
// file, one target per build: -DFUZZ_TAR, -DFUZZ_JSON (manifests, image configs, OCI bundle
// configs and records), -DFUZZ_INFLATE, -DFUZZ_ZSTD, -DFUZZ_IMAGE
// (manifest resolution: the input as an image archive, every member a candidate blob) or
// -DFUZZ_SECCOMP (a seccomp profile, compiled; every program it makes must be one the
// kernel would take: jumps inside it, a return at each end).
// `make fuzz` runs each for FUZZ_SECONDS; `make check` runs a short smoke of each.
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../bundle.hpp"
#include "../gzip.hpp"
#include "../image.hpp"
#include "../json.hpp"
#include "../seccomp.hpp"
#include "../sha256.hpp"
#include "../state.hpp"
#include "../tar.hpp"
#include "../zstd.hpp"
#if defined(FUZZ_FLAGS)
#include "../options.hpp"
#include "../volumes.hpp"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::span<const unsigned char> in(data, size);
#if defined(FUZZ_TAR)
	tar::reader r(in);
	tar::entry e;
	size_t sum = 0, entries = 0;
	while (r.next(e)) { // touch every byte the reader hands out
		for (unsigned char c : e.data)
			sum += c;
		sum += e.path.size() + e.linkpath.size();
		tar::for_each_pax(e.pax, [&](std::string_view k, std::string_view v) { sum += k.size() + v.size(); });
		entries++;
	}
	// Again as the decoder's ring hands it out: a window from position() on, a fresh copy
	// each time (a view kept past it is a use-after-free), files of 600 bytes and more
	// streamed. The same entries and the same verdict.
	tar::reader w({});
	w.stream_from(600);
	std::unique_ptr<unsigned char[]> window;
	size_t got = 0, streamed_sum = 0, whole_sum = 0;
	bool streaming = false;
	for (size_t have = 0, step = 1 + size % 700;;) {
		size_t from = w.position();
		if (from > have)
			__builtin_trap();
		have = std::min(size, have + step);
		window.reset(new unsigned char[have - from + 1]);
		memcpy(window.get(), data + from, have - from);
		w.grow({window.get(), have - from}, have < size, from);
		for (;;) {
			if (streaming) {
				auto piece = w.piece();
				for (unsigned char c : piece)
					streamed_sum += c;
				if (!piece.empty()) {
					w.consume(piece.size());
					continue;
				}
				if (w.starved() || w.err() != tar::error::none)
					break;
				streaming = false;
				got++;
			}
			if (!w.next(e))
				break;
			for (unsigned char c : e.data)
				whole_sum += c;
			tar::for_each_pax(e.pax, [&](std::string_view k, std::string_view v) { whole_sum += k.size() + v.size(); });
			whole_sum += e.path.size() + e.linkpath.size();
			streaming = e.streamed > 0;
			got += !streaming;
		}
		if (!w.starved())
			break;
	}
	if (got != entries || w.err() != r.err() || (r.err() == tar::error::none && streamed_sum + whole_sum != sum))
		__builtin_trap();
	return sum == 1 ? 1 : 0;
#elif defined(FUZZ_JSON)
	std::string_view text(reinterpret_cast<const char *>(data), size);
	std::vector<char> store;
	std::vector<image::manifest> manifests;
	image::parse_manifest(text, store, manifests);
	image::config config;
	std::vector<char> store2;
	image::parse_config(text, store2, config);
	// An OCI bundle's config.json, and the runtime mode's own record.
	std::vector<char> store3;
	std::vector<json::token> tokens;
	container::description oci;
	bundle::parse_config(text, store3, tokens, oci);
	state::record r;
	state::parse(text, tokens, r);
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
#elif defined(FUZZ_SECCOMP)
	std::string_view text(reinterpret_cast<const char *>(data), size);
	for (uint64_t caps : {security::docker_default_caps(), uint64_t(0), security::all_caps}) {
		seccomp::program p;
		char err[160];
		if (!seccomp::compile(text, caps, p, err, sizeof err, 6 << 16 | 1)) {
			if (!memchr(err, 0, sizeof err) || !err[0])
				__builtin_trap(); // a reason, always, in one terminated line
			continue;
		}
		const size_t n = p.code.size();
		if (n == 0 || n > seccomp::max_instructions || BPF_CLASS(p.code[n - 1].code) != BPF_RET)
			__builtin_trap();
		for (size_t i = 0; i < n; i++) {
			const sock_filter &in = p.code[i];
			if (BPF_CLASS(in.code) != BPF_JMP)
				continue;
			size_t far = BPF_OP(in.code) == BPF_JA ? in.k : std::max(in.jt, in.jf);
			if (i + 1 + far >= n)
				__builtin_trap();
		}
	}
	return 0;
#elif defined(FUZZ_FLAGS)
	// Words split at NUL: the command line's parser, then each word as a size, a -v, a
	// --mount and a --tmpfs. Every refusal is one terminated, non-empty line.
	std::string text(reinterpret_cast<const char *>(data), size);
	std::vector<char *> argv = {const_cast<char *>("launcher")};
	for (size_t at = 0; at <= text.size() && argv.size() < 64;) {
		argv.push_back(text.data() + at);
		at += strlen(text.data() + at) + 1;
	}
	auto o = std::make_unique<options::parsed>();
	if (!options::parse(int(argv.size()), argv.data(), *o) && (!o->error[0] || !memchr(o->error, 0, sizeof o->error)))
		__builtin_trap();
	for (size_t i = 1; i < argv.size(); i++) {
		char why[96];
		int64_t n;
		if (!options::parse_size(argv[i], n, why, sizeof why) && !why[0])
			__builtin_trap();
		for (auto parse : {&volumes::parse_volume, &volumes::parse_mount, &volumes::parse_tmpfs}) {
			volumes::request r;
			char err[256] = "";
			bool ok = parse(argv[i], r, err, sizeof err);
			if (ok ? r.target.empty() || r.target[0] != '/' || !memchr(r.tmpfs_data, 0, sizeof r.tmpfs_data) : !err[0])
				__builtin_trap();
		}
		options::signal_number(argv[i]);
	}
	return 0;
#else
#error define one of FUZZ_TAR, FUZZ_JSON, FUZZ_INFLATE, FUZZ_ZSTD, FUZZ_IMAGE, FUZZ_SECCOMP, FUZZ_FLAGS
#endif
}
