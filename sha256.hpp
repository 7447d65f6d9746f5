// sha256.hpp: SHA-256 (FIPS 180-4), for the digests that name image blobs and layers.
//
// Pure: bytes in, digest out. Where the CPU has the SHA extensions (cpuid leaf 7, EBX bit
// 29) blocks go through them, about five times faster than the portable rounds, which
// remain for every other x86-64 (and for qemu's emulated CPUs).
#pragma once
#include <algorithm>
#include <cpuid.h>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <immintrin.h>
#include <span>
#include <string_view>

namespace sha256 {

constexpr uint32_t k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

inline uint32_t rotr(uint32_t x, int n) { return x >> n | x << (32 - n); }

inline void blocks_portable(uint32_t h[8], const unsigned char *p, size_t n)
{
	for (; n--; p += 64) {
		uint32_t w[64], s[8];
		for (int i = 0; i < 16; i++)
			w[i] = uint32_t(p[4 * i]) << 24 | uint32_t(p[4 * i + 1]) << 16 | uint32_t(p[4 * i + 2]) << 8 | p[4 * i + 3];
		for (int i = 16; i < 64; i++) {
			uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
			uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
		for (int i = 0; i < 64; i++) {
			uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
			uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
			hh = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
		}
		s[0] = a, s[1] = b, s[2] = c, s[3] = d, s[4] = e, s[5] = f, s[6] = g, s[7] = hh;
		for (int i = 0; i < 8; i++)
			h[i] += s[i];
	}
}

// Intel's SHA extensions: two rounds per sha256rnds2 on the state split as ABEF and CDGH,
// written out four rounds at a time with each W in a register of its own (as Intel's and
// OpenSSL's are): the message schedule then overlaps the rounds. The loop over an array
// w[i % 4] this replaces ran at 1.1 GB/s built -Oz, this at 1.6-1.7 GB/s (OpenSSL's 1.7).
__attribute__((target("sha,sse4.1"))) inline void blocks_shani(uint32_t h[8], const unsigned char *p, size_t n)
{
	__m128i dcba = _mm_loadu_si128(reinterpret_cast<const __m128i *>(h));
	__m128i hgfe = _mm_loadu_si128(reinterpret_cast<const __m128i *>(h + 4));
	__m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
	__m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
	__m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);
	const __m128i big_endian = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	const __m128i *kv = reinterpret_cast<const __m128i *>(k);
	for (; n--; p += 64) {
		__m128i abef0 = abef, cdgh0 = cdgh, m;
		__m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)), big_endian);
		__m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 16)), big_endian);
		__m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 32)), big_endian);
		__m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p + 48)), big_endian);
#define ROUNDS4(w, i)                                                            \
	m = _mm_add_epi32(w, _mm_loadu_si128(kv + (i)));                         \
	cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m);                             \
	abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(m, 0x0e))
// W[i..i+3] into wa from the four before it (wa holds i-16, wb i-12, wc i-8, wd i-4)
#define SCHEDULE(wa, wb, wc, wd) \
	wa = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(wa, wb), _mm_alignr_epi8(wd, wc, 4)), wd)
		ROUNDS4(w0, 0);
		ROUNDS4(w1, 1);
		ROUNDS4(w2, 2);
		ROUNDS4(w3, 3);
		for (int i = 4; i < 16; i += 4) {
			SCHEDULE(w0, w1, w2, w3); ROUNDS4(w0, i);
			SCHEDULE(w1, w2, w3, w0); ROUNDS4(w1, i + 1);
			SCHEDULE(w2, w3, w0, w1); ROUNDS4(w2, i + 2);
			SCHEDULE(w3, w0, w1, w2); ROUNDS4(w3, i + 3);
		}
#undef ROUNDS4
#undef SCHEDULE
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	__m128i feba = _mm_shuffle_epi32(abef, 0x1b);
	__m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);
	_mm_storeu_si128(reinterpret_cast<__m128i *>(h), _mm_blend_epi16(feba, dchg, 0xf0));
	_mm_storeu_si128(reinterpret_cast<__m128i *>(h + 4), _mm_alignr_epi8(dchg, feba, 8));
}

inline bool cpu_has_sha()
{
	unsigned a, b, c, d;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 29 & 1) && __get_cpuid(1, &a, &b, &c, &d) && (c >> 19 & 1);
}

// Which block function runs; tests switch it to check both against the same vectors. The
// CPU is asked on the first call of 4 KB or more, not when the program starts: in a VM
// cpuid traps to the hypervisor (about 25 us each here, two of them), which a warm start,
// hashing only a few KB of manifest and config, need not pay.
inline void blocks_first(uint32_t *h, const unsigned char *p, size_t n);
inline void (*blocks)(uint32_t *, const unsigned char *, size_t) = blocks_first;
inline void blocks_first(uint32_t *h, const unsigned char *p, size_t n)
{
	if (n < 64)
		return blocks_portable(h, p, n);
	blocks = cpu_has_sha() ? blocks_shani : blocks_portable;
	blocks(h, p, n);
}

class hasher {
public:
	void update(std::span<const unsigned char> in)
	{
		const unsigned char *p = in.data();
		size_t n = in.size();
		total_ += n;
		if (fill_) {
			size_t take = std::min(n, sizeof buf_ - fill_);
			memcpy(buf_ + fill_, p, take);
			fill_ += take, p += take, n -= take;
			if (fill_ < sizeof buf_)
				return;
			blocks(h_, buf_, 1);
			fill_ = 0;
		}
		blocks(h_, p, n / 64);
		memcpy(buf_, p + n / 64 * 64, n % 64);
		fill_ = n % 64;
	}

	// The digest as 64 lowercase hex digits and a NUL.
	void finish(char hex[65])
	{
		uint64_t bits = total_ * 8;
		buf_[fill_++] = 0x80;
		if (fill_ > 56) {
			memset(buf_ + fill_, 0, 64 - fill_);
			blocks(h_, buf_, 1);
			fill_ = 0;
		}
		memset(buf_ + fill_, 0, 56 - fill_);
		for (int i = 0; i < 8; i++)
			buf_[56 + i] = uint8_t(bits >> (56 - 8 * i));
		blocks(h_, buf_, 1);
		for (int i = 0; i < 64; i++)
			hex[i] = "0123456789abcdef"[h_[i / 8] >> (28 - 4 * (i % 8)) & 15];
		hex[64] = 0;
	}

private:
	uint32_t h_[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	uint64_t total_ = 0;
	unsigned char buf_[64];
	size_t fill_ = 0;
};

inline void digest(std::span<const unsigned char> in, char hex[65])
{
	hasher h;
	h.update(in);
	h.finish(hex);
}

} // namespace sha256
