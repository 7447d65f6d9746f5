// gzip.hpp: gzip (RFC 1952) around deflate (RFC 1951), decoded in chunks.
//
// Pure: the compressed bytes in (usually a span of the mapped archive), decoded chunks
// out, no I/O. Memory is fixed: a 32 KiB history and a 64 KiB chunk, never the size any
// header claims (or the caller's memory, next_into: a ring that keeps the history itself,
// nothing copied). Each member's CRC-32 and length are checked when it ends; concatenated
// members are read as one stream, as gzip -d reads them. Every error carries the offset
// in the compressed input where it was found.
#pragma once
#include <cpuid.h>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <immintrin.h>
#include <span>

namespace gzip {

enum class error { none, not_gzip, bad_header, truncated, bad_block, bad_code, bad_distance, bad_crc, bad_length, trailing_data };

constexpr const char *error_text(error e)
{
	switch (e) {
	case error::none: return "no error";
	case error::not_gzip: return "not gzip data";
	case error::bad_header: return "bad gzip header";
	case error::truncated: return "truncated gzip data";
	case error::bad_block: return "bad deflate block";
	case error::bad_code: return "bad Huffman code";
	case error::bad_distance: return "back-reference before the start of the data";
	case error::bad_crc: return "CRC-32 mismatch";
	case error::bad_length: return "length mismatch";
	case error::trailing_data: return "data after the last gzip member";
	}
	return "?";
}

inline bool is_gzip(std::span<const unsigned char> b) { return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b; }

// CRC-32 (the gzip polynomial, bit-reflected), by carry-less multiplication as in Intel's
// "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ": the state is xored
// into the first 16 bytes; four lanes of 16 bytes each folded into the 64 bytes after
// them with x^(512+64) and x^512 mod P (four independent chains, so that the multiplier's
// latency overlaps: 4x the speed of one chain), the lanes folded into one and each further
// 16 bytes folded in with x^(128+64) and x^128 mod P, then 128 bits reduced to 64, to 32,
// and by Barrett reduction. n is a multiple of 16, at least 16; crc is the running
// (inverted) state.
__attribute__((target("pclmul,sse4.1"), always_inline)) inline __m128i crc32_fold(__m128i x, __m128i k, __m128i next)
{
	return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00), _mm_clmulepi64_si128(x, k, 0x11)), next);
}
__attribute__((target("pclmul,sse4.1"))) inline uint32_t crc32_clmul(uint32_t crc, const unsigned char *p, size_t n)
{
	const __m128i fold = _mm_set_epi64x(0x0ccaa009e, 0x1751997d0), low32 = _mm_setr_epi32(~0, 0, ~0, 0);
	const __m128i fold4 = _mm_set_epi64x(0x1c6e41596, 0x154442bd4);
	const __m128i k5 = _mm_set_epi64x(0, 0x163cd6124), barrett = _mm_set_epi64x(0x1f7011641, 0x1db710641);
	auto load = [p](size_t i) { return _mm_loadu_si128(reinterpret_cast<const __m128i *>(p + i)); };
	__m128i x = _mm_xor_si128(load(0), _mm_cvtsi32_si128(int(crc)));
	size_t i = 16;
	if (n >= 128) {
		__m128i x1 = load(16), x2 = load(32), x3 = load(48);
		for (i = 64; i + 64 <= n; i += 64) {
			x = crc32_fold(x, fold4, load(i));
			x1 = crc32_fold(x1, fold4, load(i + 16));
			x2 = crc32_fold(x2, fold4, load(i + 32));
			x3 = crc32_fold(x3, fold4, load(i + 48));
		}
		x = crc32_fold(crc32_fold(crc32_fold(x, fold, x1), fold, x2), fold, x3);
	}
	for (; i < n; i += 16)
		x = crc32_fold(x, fold, load(i));
	x = _mm_xor_si128(_mm_srli_si128(x, 8), _mm_clmulepi64_si128(x, fold, 0x10));                        // to 96 bits
	x = _mm_xor_si128(_mm_srli_si128(x, 4), _mm_clmulepi64_si128(_mm_and_si128(x, low32), k5, 0x00)); // to 64
	__m128i t = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(x, low32), barrett, 0x10), low32);
	x = _mm_xor_si128(x, _mm_clmulepi64_si128(t, barrett, 0x00));
	return uint32_t(_mm_extract_epi32(x, 1));
}

inline bool cpu_has_clmul()
{
	unsigned a, b, c, d;
	return __get_cpuid(1, &a, &b, &c, &d) && (c >> 1 & 1) && (c >> 19 & 1); // PCLMULQDQ, SSE4.1
}
// Asked on the first CRC that could use it, not when the program starts (cpuid traps to
// the hypervisor in a VM); tests switch it off to check the tables alike.
inline signed char use_clmul = -1;

// Eight bytes a step through eight tables ("slicing-by-8") where there is no PCLMULQDQ,
// and for the last bytes: built on first use, 8 KB of memory, none of the binary.
inline uint32_t crc32(uint32_t crc, const unsigned char *p, size_t n)
{
	static uint32_t table[8][256];
	if (!table[0][1])
		for (int t = 0; t < 8; t++)
			for (uint32_t i = 0; i < 256; i++) {
				uint32_t c = t ? table[t - 1][i] : i; // t > 0: then a zero byte
				for (int j = 0; j < 8; j++)
					c = c & 1 ? 0xedb88320 ^ c >> 1 : c >> 1;
				table[t][i] = c;
			}
	crc = ~crc;
	if (n >= 64 && (use_clmul < 0 ? (use_clmul = cpu_has_clmul()) : use_clmul)) {
		crc = crc32_clmul(crc, p, n & ~size_t(15));
		p += n & ~size_t(15), n &= 15;
	}
	for (; n >= 8; n -= 8, p += 8) {
		uint32_t lo, hi;
		memcpy(&lo, p, 4), memcpy(&hi, p + 4, 4);
		lo ^= crc;
		crc = table[7][lo & 0xff] ^ table[6][lo >> 8 & 0xff] ^ table[5][lo >> 16 & 0xff] ^ table[4][lo >> 24] ^
		      table[3][hi & 0xff] ^ table[2][hi >> 8 & 0xff] ^ table[1][hi >> 16 & 0xff] ^ table[0][hi >> 24];
	}
	while (n--)
		crc = table[0][(crc ^ *p++) & 0xff] ^ crc >> 8;
	return ~crc;
}

// Decoding tables in the manner of zlib and libdeflate: the next `main` bits of input
// index an entry, and codes longer than that continue in a subtable of 2^(15 - main)
// entries. An entry is value << 16 | kind | code length << 8 | bits, where bits (0 to
// 28) is the code length and its extra bits together, so that a literal, or a length with
// its extra bits, is decoded by one lookup, and the bit buffer is shifted by the entry
// itself (a shift takes the count's low 6 bits: no masking on the way to the next lookup).
namespace table {
enum : uint32_t { literal = 0, length = 1 << 12, end_block = 2 << 12, subtable = 3 << 12, invalid = 4 << 12, kinds = 7 << 12 };
constexpr unsigned lit_bits = 11, dist_bits = 8, lens_bits = 7;
constexpr size_t lit_size = (1 << lit_bits) + 288 * (1 << (15 - lit_bits)), dist_size = (1 << dist_bits) + 30 * (1 << (15 - dist_bits));

constexpr uint16_t lbase[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr uint8_t lext[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr uint16_t dbase[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
				257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr uint8_t dext[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

// What a symbol of each alphabet decodes to.
inline uint32_t litlen(int s)
{
	if (s < 256)
		return uint32_t(s) << 16 | literal;
	if (s == 256)
		return end_block;
	if (s > 285)
		return invalid;
	return uint32_t(lbase[s - 257]) << 16 | lext[s - 257] | length;
}
inline uint32_t distance(int s) { return s < 30 ? uint32_t(dbase[s]) << 16 | dext[s] | length : invalid; }
inline uint32_t plain(int s) { return uint32_t(s) << 16; } // code lengths: the symbol itself

// False when the lengths over-subscribe the code space. Incomplete codes are accepted;
// their unused codes decode as invalid. The symbols are taken by code length (canonical
// order: each code is the one before plus one), the main table grown by doubling: the
// entries of the codes up to length L fill its first 2^L entries, which are copied
// once over the next 2^L before the codes of length L + 1 go in, so that each entry of a
// short code is written once and then copied in bulk rather than stored 2^(main - L)
// times. Longer codes go into subtables, each entry stored.
template <class Entry> inline bool build(uint32_t *t, unsigned main, const uint8_t *lengths, int n, Entry entry)
{
	uint16_t count[16] = {}, start[17] = {}, sorted[320];
	for (int i = 0; i < n; i++)
		count[lengths[i]]++;
	count[0] = 0;
	int left = 1;
	for (int len = 1; len < 16; len++)
		if ((left = (left << 1) - count[len]) < 0)
			return false;
	for (int len = 1; len < 16; len++)
		start[len + 1] = uint16_t(start[len] + count[len]);
	for (int s = 0; s < n; s++)
		if (lengths[s])
			sorted[start[lengths[s]]++] = uint16_t(s);
	auto reversed = [](unsigned c, unsigned len) __attribute__((always_inline)) { // deflate sends codes most significant bit first
		c = (c & 0x5555) << 1 | (c >> 1 & 0x5555);
		c = (c & 0x3333) << 2 | (c >> 2 & 0x3333);
		c = (c & 0x0f0f) << 4 | (c >> 4 & 0x0f0f);
		return ((c & 0x00ff) << 8 | c >> 8) >> (16 - len);
	};
	bool complete = left == 0; // as every encoder writes them: each entry is some code's
	unsigned code = 0, size = 2, i = 0;
	t[0] = t[1] = invalid;
	for (unsigned len = 1; len <= main; len++, code <<= 1) {
		if (len > 1) {
			memcpy(t + size, t, size * sizeof *t);
			size *= 2;
		}
		for (unsigned k = 0; k < count[len]; k++, code++, i++)
			t[reversed(code, len)] = (entry(sorted[i]) + len) | len << 8;
	}
	unsigned sub = 15 - main, used = 1u << main;
	for (unsigned len = main + 1; len < 16; len++, code <<= 1)
		for (unsigned k = 0; k < count[len]; k++, code++, i++) {
			unsigned rev = reversed(code, len);
			uint32_t &head = t[rev & ((1u << main) - 1)];
			if ((head & kinds) != subtable) {
				head = used << 16 | subtable;
				for (unsigned j = 0; j < 1u << sub && !complete; j++)
					t[used + j] = invalid;
				used += 1u << sub;
			}
			uint32_t e = (entry(sorted[i]) + len) | len << 8;
			for (unsigned r = rev >> main; r < 1u << sub; r += 1u << (len - main))
				t[(head >> 16) + r] = e;
		}
	return true;
}
} // namespace table

class inflater {
public:
	explicit inflater(std::span<const unsigned char> in) : in_(in) {}

	// The next decoded bytes, valid until the following call; empty at the end of the
	// data (err() == none) or on an error.
	std::span<const unsigned char> next()
	{
		if (out_ > history) { // keep the last 32 KiB for back-references
			memmove(buf_, buf_ + out_ - history, history);
			out_ = history;
		}
		win_ = buf_, limit_ = sizeof buf_ - slack;
		return run();
	}

	// Or the next up to `room` bytes decoded straight into the caller's memory at `to`
	// (never mixed with next()): it may write up to `slack` bytes past them, and the bytes
	// decoded before must lie just before `to`, the last 32 KiB of them at least (as in a
	// ring mapped twice, back to back). Nothing is copied.
	static constexpr size_t history = 32768, slack = 258 + 16;
	std::span<const unsigned char> next_into(unsigned char *to, size_t room)
	{
		win_ = to, out_ = 0, limit_ = room;
		return run();
	}

	error err() const { return err_; }
	size_t err_offset() const { return err_at_; }
	uint64_t total() const { return total_; }
	size_t consumed() const { return pos_; } // of the input, for progress

private:
	std::span<const unsigned char> run()
	{
		size_t start = chunk_start_ = out_;
		while (err_ == error::none && !done_ && out_ < limit_)
			step();
		member_out_ += out_ - start, total_ += out_ - start;
		if (out_ > start)
			crc_ = crc32(crc_, win_ + start, out_ - start);
		if (err_ == error::none && member_done_)
			end_member();
		if (err_ != error::none)
			return {};
		return {win_ + start, out_ - start};
	}

	void fail(error e)
	{
		if (err_ == error::none)
			err_ = e, err_at_ = pos_;
	}

	// Bits come least significant first; the buffer holds up to 64 of them.
	void fill()
	{
		if (in_.size() - pos_ >= 8) { // eight bytes at once, keeping whole bytes only
			uint64_t v;
			memcpy(&v, in_.data() + pos_, 8);
			bitbuf_ |= v << bits_;
			pos_ += (63 - bits_) >> 3;
			bits_ |= 56;
			return;
		}
		while (bits_ <= 56 && pos_ < in_.size())
			bitbuf_ |= uint64_t(in_[pos_++]) << bits_, bits_ += 8;
	}
	unsigned take(int n)
	{
		if (bits_ < unsigned(n))
			fill();
		if (bits_ < unsigned(n)) {
			fail(error::truncated);
			return 0;
		}
		unsigned v = unsigned(bitbuf_ & ((1ull << n) - 1));
		bitbuf_ >>= n, bits_ -= n;
		return v;
	}
	// Gives back whole unread bytes and drops the bits of a partial one.
	void align()
	{
		pos_ -= bits_ / 8;
		bitbuf_ = 0, bits_ = 0;
	}
	bool bytes(size_t n)
	{
		if (in_.size() - pos_ < n) {
			fail(error::truncated);
			return false;
		}
		return true;
	}

	// The next symbol of table t: its kind, and its value with the extra bits added (a
	// literal, a length or distance, a code length), all its bits consumed.
	uint32_t next_symbol(const uint32_t *t, unsigned main)
	{
		if (bits_ < 32) // enough for a length and its extra bits, or a distance and its
			fill();
		uint32_t e = t[bitbuf_ & ((1u << main) - 1)];
		if ((e & table::kinds) == table::subtable)
			e = t[(e >> 16) + (bitbuf_ >> main & ((1u << (15 - main)) - 1))];
		unsigned len = e >> 8 & 15, all = e & 63;
		if (all > bits_) {
			fail(error::truncated);
			return table::invalid;
		}
		uint32_t v = (e >> 16) + (uint32_t(bitbuf_ >> len) & ((1u << (all - len)) - 1));
		bitbuf_ >>= all, bits_ -= all;
		if ((e & table::kinds) == table::invalid)
			fail(error::bad_code);
		return v << 16 | (e & table::kinds);
	}

	void header()
	{
		if (!bytes(10))
			return;
		const unsigned char *h = in_.data() + pos_;
		if (h[0] != 0x1f || h[1] != 0x8b)
			return fail(error::not_gzip);
		if (h[2] != 8 || (h[3] & 0xe0))
			return fail(error::bad_header);
		unsigned flags = h[3];
		pos_ += 10;
		if (flags & 4) { // FEXTRA
			if (!bytes(2))
				return;
			size_t xlen = in_[pos_] | size_t(in_[pos_ + 1]) << 8;
			pos_ += 2;
			if (!bytes(xlen))
				return;
			pos_ += xlen;
		}
		for (unsigned f : {8u, 16u}) // FNAME, FCOMMENT: NUL-terminated
			if (flags & f) {
				const void *nul = memchr(in_.data() + pos_, 0, in_.size() - pos_);
				if (!nul)
					return fail(error::truncated);
				pos_ = size_t(static_cast<const unsigned char *>(nul) - in_.data()) + 1;
			}
		if (flags & 2) { // FHCRC
			if (!bytes(2))
				return;
			pos_ += 2;
		}
		in_member_ = true;
		final_ = false;
		member_out_ = 0;
		crc_ = 0;
	}

	void end_member()
	{
		align();
		if (!bytes(8))
			return;
		const unsigned char *t = in_.data() + pos_;
		uint32_t crc = uint32_t(t[0] | t[1] << 8 | t[2] << 16 | unsigned(t[3]) << 24);
		uint32_t size = uint32_t(t[4] | t[5] << 8 | t[6] << 16 | unsigned(t[7]) << 24);
		if (crc != crc_)
			return fail(error::bad_crc);
		if (size != uint32_t(member_out_))
			return fail(error::bad_length);
		pos_ += 8;
		in_member_ = member_done_ = false;
		done_ = pos_ == in_.size();
		if (!done_ && !is_gzip(in_.subspan(pos_)))
			fail(error::trailing_data);
	}

	void block_header()
	{
		final_ = take(1);
		unsigned type = take(2);
		if (type == 0) {
			align();
			if (!bytes(4))
				return;
			const unsigned char *p = in_.data() + pos_;
			unsigned len = p[0] | p[1] << 8, nlen = p[2] | p[3] << 8;
			if (len != (~nlen & 0xffff))
				return fail(error::bad_block);
			pos_ += 4;
			stored_left_ = len;
			block_ = stored;
		} else if (type == 1) {
			uint8_t l[288 + 30];
			memset(l, 8, 144), memset(l + 144, 9, 112), memset(l + 256, 7, 24), memset(l + 280, 8, 8);
			memset(l + 288, 5, 30);
			table::build(lit_, table::lit_bits, l, 288, [](int s) { return table::litlen(s); });
			table::build(dist_, table::dist_bits, l + 288, 30, [](int s) { return table::distance(s); });
			block_ = coded;
		} else if (type == 2) {
			dynamic_tables();
		} else {
			fail(error::bad_block);
		}
	}

	void dynamic_tables()
	{
		static constexpr uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
		int nlen = int(take(5)) + 257, ndist = int(take(5)) + 1, ncode = int(take(4)) + 4;
		if (nlen > 286 || ndist > 30)
			return fail(error::bad_block);
		uint8_t l[320] = {};
		for (int i = 0; i < ncode; i++)
			l[order[i]] = uint8_t(take(3));
		uint32_t lencode[1 << table::lens_bits];
		if (!table::build(lencode, table::lens_bits, l, 19, [](int s) { return table::plain(s); }))
			return fail(error::bad_code);
		memset(l, 0, sizeof l);
		for (int i = 0; i < nlen + ndist && err_ == error::none;) {
			uint32_t e = next_symbol(lencode, table::lens_bits);
			int sym = int(e >> 16);
			if (err_ != error::none)
				return;
			if (sym < 16) {
				l[i++] = uint8_t(sym);
				continue;
			}
			int repeat, value = 0;
			if (sym == 16) {
				if (i == 0)
					return fail(error::bad_block);
				value = l[i - 1], repeat = 3 + int(take(2));
			} else {
				repeat = sym == 17 ? 3 + int(take(3)) : 11 + int(take(7));
			}
			if (i + repeat > nlen + ndist)
				return fail(error::bad_block);
			while (repeat--)
				l[i++] = uint8_t(value);
		}
		if (err_ != error::none)
			return;
		if (l[256] == 0 || !table::build(lit_, table::lit_bits, l, nlen, [](int s) { return table::litlen(s); }) ||
		    !table::build(dist_, table::dist_bits, l + nlen, ndist, [](int s) { return table::distance(s); }))
			return fail(error::bad_code);
		block_ = coded;
	}

	void step()
	{
		if (!in_member_) {
			header();
			return;
		}
		if (block_ == none) {
			if (final_)
				member_done_ = true, done_ = true; // stops this call; end_member() decides
			else
				block_header();
			return;
		}
		if (block_ == stored) {
			size_t n = stored_left_;
			if (n > limit_ - out_)
				n = limit_ - out_;
			if (!bytes(n))
				return;
			memcpy(win_ + out_, in_.data() + pos_, n);
			pos_ += n, out_ += n;
			if ((stored_left_ -= n) == 0)
				block_ = none;
			return;
		}
		if (fast_symbols(), err_ != error::none || block_ == none)
			return;
		// Near the end of the input: symbols until the block ends or the chunk is full,
		// each bit checked.
		while (out_ < limit_) {
			uint32_t s = next_symbol(lit_, table::lit_bits);
			if ((s & table::kinds) == table::literal) {
				win_[out_++] = uint8_t(s >> 16);
				continue;
			}
			if (err_ != error::none)
				return;
			if ((s & table::kinds) == table::end_block) {
				block_ = none;
				return;
			}
			size_t len = s >> 16, dist = next_symbol(dist_, table::dist_bits) >> 16;
			if (err_ != error::none)
				return;
			if (dist > member_out_ + (out_ - chunk_start_))
				return fail(error::bad_distance);
			copy_match(win_ + out_, dist, len);
			out_ += len;
		}
	}

	// A match of up to 258 bytes, 16 or 8 at a time into the slack after the chunk.
	[[gnu::always_inline]] static void copy_match(unsigned char *to, size_t dist, size_t len)
	{
		const unsigned char *from = to - dist;
		if (dist >= 16) // each 16 bytes were all written before they are read
			for (size_t i = 0; i < len; i += 16)
				memcpy(to + i, from + i, 16);
		else if (dist >= 8)
			for (size_t i = 0; i < len; i += 8)
				memcpy(to + i, from + i, 8);
		else if (dist == 1)
			memset(to, *from, len);
		else
			for (size_t i = 0; i < len; i++) // overlapping: the pattern repeats
				to[i] = from[i];
	}

	// The hot loop, while `margin` bytes of input remain (so refills need no checks) and the
	// chunk has room: the bit buffer and positions in locals, refilled branch-free, a
	// literal or a length with its extra bits decoded by one lookup, up to five literals a
	// refill. A turn refills three times at most (at its top, before a length, before a
	// distance), each reading 8 bytes and moving on by at most 7, 6 and 3: 24 bytes
	// (16 let the third read pass the end by up to 5, which the fuzzer found).
	static constexpr size_t margin = 24;
	void fast_symbols()
	{
		if (in_.size() < margin)
			return;
		const unsigned char *in = in_.data();
		const size_t last = in_.size() - margin, limit = limit_;
		unsigned char *win = win_;
		uint64_t bb = bitbuf_;
		unsigned n = bits_;
		size_t pos = pos_, out = out_;
		error e = error::none;
		auto refill = [&]() __attribute__((always_inline)) {
			uint64_t v;
			memcpy(&v, in + pos, 8);
			bb |= v << n, pos += (63 - n) >> 3, n |= 56;
		};
		auto lookup = [&](const uint32_t *t, unsigned main) __attribute__((always_inline)) {
			uint32_t x = t[bb & ((1u << main) - 1)];
			if ((x & table::kinds) == table::subtable)
				x = t[(x >> 16) + (bb >> main & ((1u << (15 - main)) - 1))];
			return x;
		};
		auto value = [&](uint32_t x) __attribute__((always_inline)) { // takes the code and its extra bits
			uint32_t v = (x >> 16) + (uint32_t(bb & ((uint64_t(1) << (x & 63)) - 1)) >> (x >> 8 & 15));
			bb >>= x & 63, n -= x & 63;
			return v;
		};
		auto literal = [&](uint32_t x) __attribute__((always_inline)) {
			bb >>= x & 63, n -= x & 63;
			win[out++] = uint8_t(x >> 16);
		};
		constexpr unsigned lit_mask = (1u << table::lit_bits) - 1;
		auto is_literal = [](uint32_t x) { return (x & table::kinds) == table::literal; };
		while (pos <= last && out < limit) {
			refill(); // 56 bits or more: five literals of the main table (of at most 11 bits)
			uint32_t x = lit_[bb & lit_mask]; // literals first: one test each on their way
			if (is_literal(x)) {
				literal(x);
				if (is_literal(x = lit_[bb & lit_mask])) {
					literal(x);
					if (is_literal(x = lit_[bb & lit_mask])) {
						literal(x);
						if (is_literal(x = lit_[bb & lit_mask])) {
							literal(x);
							if (is_literal(x = lit_[bb & lit_mask])) {
								literal(x);
								continue;
							}
						}
					}
				}
				refill(); // for a length and its extra bits; x stays: the bits it read were there
			}
			if ((x & table::kinds) == table::subtable) {
				x = lit_[(x >> 16) + (bb >> table::lit_bits & ((1u << (15 - table::lit_bits)) - 1))];
				if (is_literal(x)) {
					literal(x);
					continue;
				}
			}
			if ((x & table::kinds) != table::length) {
				if ((x & table::kinds) != table::end_block)
					e = error::bad_code;
				value(x), block_ = none;
				break;
			}
			size_t len = value(x);
			refill(); // a distance and its extra bits
			uint32_t d = lookup(dist_, table::dist_bits);
			if ((d & table::kinds) != table::length) {
				e = error::bad_code;
				break;
			}
			size_t dist = value(d);
			if (dist > member_out_ + (out - chunk_start_)) {
				e = error::bad_distance;
				break;
			}
			copy_match(win + out, dist, len);
			out += len;
		}
		bitbuf_ = bb, bits_ = n, pos_ = pos, out_ = out;
		if (e != error::none)
			fail(e);
	}

	std::span<const unsigned char> in_;
	size_t pos_ = 0;
	uint64_t bitbuf_ = 0;
	unsigned bits_ = 0;
	error err_ = error::none;
	size_t err_at_ = 0;
	bool in_member_ = false, member_done_ = false, final_ = false, done_ = false;
	enum { none, stored, coded } block_ = none;
	size_t stored_left_ = 0;
	uint64_t member_out_ = 0, total_ = 0;
	uint32_t crc_ = 0;
	uint32_t lit_[table::lit_size], dist_[table::dist_size];
	size_t out_ = 0, chunk_start_ = 0;
	unsigned char *win_ = buf_; // where out_ counts from: buf_, or the caller's memory
	size_t limit_ = 0;
	unsigned char buf_[history + 65536 + slack];
};

} // namespace gzip
