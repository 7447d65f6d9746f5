// gzip.hpp: gzip (RFC 1952) around deflate (RFC 1951), decoded in chunks.
//
// Pure: the compressed bytes in (usually a span of the mapped archive), decoded chunks
// out, no I/O. Memory is fixed: a 32 KiB history and a 64 KiB chunk, never the size any
// header claims. Each member's CRC-32 and length are checked when it ends; concatenated
// members are read as one stream, as gzip -d reads them. Every error carries the offset
// in the compressed input where it was found.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
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

// CRC-32 (the gzip polynomial), eight bytes a step through eight tables ("slicing-by-8"),
// built on first use: 8 KB of memory, none of the binary.
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

// A canonical Huffman code: counts per length and symbols in code order (puff's form),
// plus a table over the next 10 input bits for the codes no longer than that.
struct huffman {
	static constexpr int fast_bits = 10;
	uint16_t count[16];
	uint16_t symbol[288];
	uint16_t fast[1 << fast_bits]; // symbol << 4 | length; 0 = longer code or none

	// False when the lengths over-subscribe the code space. Incomplete codes are
	// accepted; decoding an unused code is an error then.
	bool build(const uint8_t *lengths, int n)
	{
		memset(count, 0, sizeof count);
		memset(fast, 0, sizeof fast);
		for (int i = 0; i < n; i++)
			count[lengths[i]]++;
		uint16_t offs[16];
		int left = 1;
		offs[1] = 0;
		for (int len = 1; len < 16; len++) {
			left = (left << 1) - count[len];
			if (left < 0)
				return false;
			if (len < 15)
				offs[len + 1] = uint16_t(offs[len] + count[len]);
		}
		unsigned code = 0, next_code[16];
		for (int len = 1; len < 16; len++) {
			code = (code + count[len - 1] * (len > 1)) << 1;
			next_code[len] = code;
		}
		for (int i = 0; i < n; i++) {
			int len = lengths[i];
			if (!len)
				continue;
			symbol[offs[len]++] = uint16_t(i);
			unsigned c = next_code[len]++, rev = 0;
			for (int b = 0; b < len; b++)
				rev |= (c >> b & 1) << (len - 1 - b);
			if (len <= fast_bits)
				for (unsigned r = rev; r < (1u << fast_bits); r += 1u << len)
					fast[r] = uint16_t(i << 4 | len);
		}
		return true;
	}
};

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
		size_t start = chunk_start_ = out_;
		while (err_ == error::none && !done_ && out_ < sizeof buf_ - 258)
			step();
		member_out_ += out_ - start, total_ += out_ - start;
		if (out_ > start)
			crc_ = crc32(crc_, buf_ + start, out_ - start);
		if (err_ == error::none && member_done_)
			end_member();
		if (err_ != error::none)
			return {};
		return {buf_ + start, out_ - start};
	}

	error err() const { return err_; }
	size_t err_offset() const { return err_at_; }
	uint64_t total() const { return total_; }

private:
	static constexpr size_t history = 32768;

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

	int decode(const huffman &h)
	{
		if (bits_ < 15)
			fill();
		unsigned e = h.fast[bitbuf_ & ((1u << huffman::fast_bits) - 1)];
		if (e && (e & 15) <= bits_) {
			take(e & 15);
			return int(e >> 4);
		}
		int code = 0, first = 0, index = 0; // puff's walk, one bit at a time
		for (int len = 1; len < 16; len++) {
			code |= int(take(1));
			if (err_ != error::none)
				return -1;
			int count = h.count[len];
			if (code - count < first)
				return h.symbol[index + (code - first)];
			index += count, first += count;
			first <<= 1, code <<= 1;
		}
		fail(error::bad_code);
		return -1;
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
			lit_.build(l, 288), dist_.build(l + 288, 30);
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
		huffman lencode;
		if (!lencode.build(l, 19))
			return fail(error::bad_code);
		memset(l, 0, sizeof l);
		for (int i = 0; i < nlen + ndist && err_ == error::none;) {
			int sym = decode(lencode);
			if (sym < 0)
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
		if (l[256] == 0 || !lit_.build(l, nlen) || !dist_.build(l + nlen, ndist))
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
			if (n > sizeof buf_ - out_ - 258)
				n = sizeof buf_ - out_ - 258;
			if (!bytes(n))
				return;
			memcpy(buf_ + out_, in_.data() + pos_, n);
			pos_ += n, out_ += n;
			if ((stored_left_ -= n) == 0)
				block_ = none;
			return;
		}
		static constexpr uint16_t lbase[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
						       35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
		static constexpr uint8_t lext[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
		static constexpr uint16_t dbase[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
						       257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
		static constexpr uint8_t dext[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
		// The hot loop: symbols until the block ends or the chunk is full (a match adds
		// at most 258 bytes).
		while (out_ < sizeof buf_ - 258) {
			int sym = decode(lit_);
			if (sym < 256) {
				if (sym < 0)
					return;
				buf_[out_++] = uint8_t(sym);
				continue;
			}
			if (sym == 256) {
				block_ = none;
				return;
			}
			sym -= 257;
			if (sym >= 29)
				return fail(error::bad_code);
			unsigned len = lbase[sym] + take(lext[sym]);
			int d = decode(dist_);
			if (d < 0)
				return;
			if (d >= 30)
				return fail(error::bad_code);
			size_t dist = dbase[d] + take(dext[d]);
			if (err_ != error::none)
				return;
			if (dist > member_out_ + (out_ - chunk_start_))
				return fail(error::bad_distance);
			unsigned char *to = buf_ + out_;
			const unsigned char *from = to - dist;
			if (dist >= len)
				memcpy(to, from, len);
			else
				for (unsigned i = 0; i < len; i++) // overlapping: the pattern repeats
					to[i] = from[i];
			out_ += len;
		}
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
	huffman lit_, dist_;
	size_t out_ = 0, chunk_start_ = 0;
	unsigned char buf_[history + 65536 + 258];
};

} // namespace gzip
