// zstd.hpp: Zstandard frames (RFC 8878), decoded a block at a time.
//
// Pure: the compressed bytes in (usually a span of the mapped archive), decoded blocks
// out, no I/O. Memory is bounded by what the format allows and not by what a header
// claims beyond that: one window (at most 128 MiB, the limit of `zstd -d`, or the frame's
// content size when smaller) plus one block, kept as two segments so that the history is
// never moved. Each frame's content checksum (XXH64) and declared size are checked when
// it ends; frames and skippable frames follow one another, as `zstd -d` reads them (so a
// zstd:chunked layer decodes too). Frames that need a dictionary are refused. Every error
// carries the offset in the compressed input of the frame part where it was found.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

namespace zstd {

enum class error { none, not_zstd, bad_header, dictionary, window_too_large, no_memory, truncated, bad_block, bad_literals, bad_table, bad_sequences, bad_offset, bad_checksum, bad_length, trailing_data };

constexpr const char *error_text(error e)
{
	switch (e) {
	case error::none: return "no error";
	case error::not_zstd: return "not zstd data";
	case error::bad_header: return "bad zstd frame header";
	case error::dictionary: return "zstd frame needs a dictionary (not supported)";
	case error::window_too_large: return "zstd window larger than 128 MiB";
	case error::no_memory: return "out of memory for the zstd window";
	case error::truncated: return "truncated zstd data";
	case error::bad_block: return "bad zstd block";
	case error::bad_literals: return "bad zstd literals";
	case error::bad_table: return "bad zstd FSE or Huffman table";
	case error::bad_sequences: return "bad zstd sequences";
	case error::bad_offset: return "back-reference outside the zstd window";
	case error::bad_checksum: return "zstd content checksum mismatch";
	case error::bad_length: return "zstd content size mismatch";
	case error::trailing_data: return "data after the last zstd frame";
	}
	return "?";
}

constexpr uint32_t frame_magic = 0xfd2fb528, skippable_magic = 0x184d2a50; // skippable: low 4 bits free

inline bool is_zstd(std::span<const unsigned char> b)
{
	return b.size() >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd;
}

namespace detail {

// Loads are little-endian, as the format is and x86-64 is.
inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}
inline uint64_t load_le(const unsigned char *p, unsigned n) // n <= 8 bytes
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= uint64_t(p[i]) << 8 * i;
	return v;
}
inline unsigned highbit(uint32_t x) { return 31 - unsigned(__builtin_clz(x)); }

// XXH64 with seed 0, fed in pieces: the content checksum keeps its low 32 bits.
struct xxh64 {
	static constexpr uint64_t p1 = 0x9e3779b185ebca87, p2 = 0xc2b2ae3d27d4eb4f, p3 = 0x165667b19e3779f9,
				  p4 = 0x85ebca77c2b2ae63, p5 = 0x27d4eb2f165667c5;
	uint64_t v[4], total;
	unsigned char buf[32];
	size_t held;

	static uint64_t rotl(uint64_t x, int r) { return x << r | x >> (64 - r); }
	static uint64_t round(uint64_t acc, uint64_t in) { return rotl(acc + in * p2, 31) * p1; }
	void reset()
	{
		v[0] = p1 + p2, v[1] = p2, v[2] = 0, v[3] = 0 - p1;
		total = held = 0;
	}
	void stripe(const unsigned char *p)
	{
		for (int i = 0; i < 4; i++)
			v[i] = round(v[i], load64(p + 8 * i));
	}
	void update(const unsigned char *p, size_t n)
	{
		total += n;
		if (held) {
			size_t k = n < 32 - held ? n : 32 - held;
			memcpy(buf + held, p, k);
			held += k, p += k, n -= k;
			if (held < 32)
				return;
			stripe(buf);
			held = 0;
		}
		for (; n >= 32; n -= 32, p += 32)
			stripe(p);
		memcpy(buf, p, n);
		held = n;
	}
	uint64_t digest() const
	{
		uint64_t h = p5;
		if (total >= 32) {
			h = rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18);
			for (int i = 0; i < 4; i++)
				h = (h ^ round(0, v[i])) * p1 + p4;
		}
		h += total;
		const unsigned char *p = buf;
		size_t n = held;
		for (; n >= 8; n -= 8, p += 8)
			h = rotl(h ^ round(0, load64(p)), 27) * p1 + p4;
		if (n >= 4) {
			h = rotl(h ^ load_le(p, 4) * p1, 23) * p2 + p3;
			p += 4, n -= 4;
		}
		while (n--)
			h = rotl(h ^ *p++ * p5, 11) * p1;
		h ^= h >> 33, h *= p2, h ^= h >> 29, h *= p3;
		return h ^ h >> 32;
	}
};

// A bit stream read backwards (Huffman and FSE streams): it starts at the highest set
// bit of its last byte and each read takes the next bits below. `used` counts the bits
// of the 64-bit window `c` (loaded at p) that are consumed; more than 64 means the
// reads went past the start of the stream, and bits there read as 0.
struct rbits {
	const unsigned char *start, *p;
	uint64_t c;
	unsigned used;

	bool init(const unsigned char *b, size_t n)
	{
		if (n == 0 || b[n - 1] == 0)
			return false;
		start = b;
		if (n >= 8)
			p = b + n - 8, c = load64(p), used = 0;
		else
			p = b, c = load_le(b, unsigned(n)), used = unsigned(8 - n) * 8;
		used += unsigned(__builtin_clz(b[n - 1])) - 24 + 1;
		return true;
	}
	[[gnu::always_inline]] uint64_t read(unsigned n) // n <= 56 since the last reload
	{
		uint64_t v = used < 64 ? c << used : 0;
		used += n;
		return v >> 1 >> (63 - n);
	}
	[[gnu::always_inline]] unsigned peek(unsigned n) const { return used < 64 ? unsigned((c << used) >> (64 - n)) : 0; } // 1 <= n
	[[gnu::always_inline]] void reload()
	{
		size_t bytes = used >> 3;
		if (bytes > size_t(p - start))
			bytes = size_t(p - start);
		if (bytes)
			p -= bytes, used -= unsigned(bytes) * 8, c = load64(p);
	}
	bool overrun() const { return used > 64; }
	bool finished() { return reload(), p == start && used == 64; } // every bit read, none more
};

// One state of an FSE decoding table: the symbol, and the next state's base and bits.
struct fse_entry {
	uint16_t base;
	uint8_t sym, bits;
};

// An FSE table description (bits read forward, least significant first): the normalized
// counts of symbols 0..nsym-1 (-1: "less than 1") and the accuracy log. Returns the bytes
// it took, or 0 when invalid.
inline size_t read_counts(const unsigned char *b, size_t n, unsigned max_sym, unsigned max_log, int16_t *prob, unsigned &nsym, unsigned &log)
{
	size_t bit = 0;
	auto get = [&](unsigned k) { // bits past the end read as 0; checked at the end
		unsigned v = 0;
		for (unsigned i = 0; i < k; i++, bit++)
			if (bit >> 3 < n)
				v |= unsigned(b[bit >> 3] >> (bit & 7) & 1) << i;
		return v;
	};
	log = get(4) + 5;
	if (log > max_log)
		return 0;
	int remaining = (1 << log) + 1, threshold = 1 << log;
	unsigned nbits = log + 1, s = 0;
	while (remaining > 1 && s <= max_sym) {
		int most = 2 * threshold - 1 - remaining; // values below take one bit less
		int v = int(get(nbits - 1));
		if (v >= most) {
			v |= int(get(1)) << (nbits - 1);
			if (v >= threshold)
				v -= most;
		}
		int count = v - 1;
		remaining -= count < 0 ? -count : count;
		prob[s++] = int16_t(count);
		if (count == 0) // then 2-bit counts of further zeros, 3 meaning "and more"
			for (unsigned r = 3; r == 3;)
				for (unsigned k = r = get(2); k && s <= max_sym; k--)
					prob[s++] = 0;
		while (remaining < threshold)
			nbits--, threshold >>= 1;
	}
	if (remaining != 1 || (bit + 7) >> 3 > n)
		return 0;
	nsym = s;
	return (bit + 7) >> 3;
}

// The decoding table of a distribution: "less than 1" symbols at the top, the others
// spread by the format's fixed step, then each state's successor base and bits.
inline bool build_table(fse_entry *t, const int16_t *prob, unsigned nsym, unsigned log)
{
	unsigned size = 1u << log, high = size - 1, pos = 0, step = (size >> 1) + (size >> 3) + 3;
	uint16_t next[256];
	for (unsigned s = 0; s < nsym; s++) {
		next[s] = uint16_t(prob[s] < 0 ? 1 : prob[s]);
		if (prob[s] < 0)
			t[high--].sym = uint8_t(s);
	}
	for (unsigned s = 0; s < nsym; s++)
		for (int i = 0; i < prob[s]; i++) {
			t[pos].sym = uint8_t(s);
			do
				pos = (pos + step) & (size - 1);
			while (pos > high);
		}
	if (pos != 0)
		return false;
	for (unsigned i = 0; i < size; i++) {
		unsigned x = next[t[i].sym]++;
		t[i].bits = uint8_t(log - highbit(x));
		t[i].base = uint16_t((x << t[i].bits) - size);
	}
	return true;
}

// The sequence codes: extra bits per literal-length and match-length code (their bases
// follow from them), and the predefined distributions.
constexpr uint8_t ll_bits[36] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
constexpr uint8_t ml_bits[53] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
template <size_t N> constexpr auto bases(const uint8_t (&bits)[N], uint32_t first)
{
	struct { uint32_t v[N]; } b{};
	for (size_t i = 0; i < N; i++)
		b.v[i] = i ? b.v[i - 1] + (1u << bits[i - 1]) : first;
	return b;
}
constexpr auto ll_base = bases(ll_bits, 0);
constexpr auto ml_base = bases(ml_bits, 3);
static_assert(ll_base.v[35] == 65536 && ml_base.v[52] == 65539);

constexpr int16_t ll_default[36] = {4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, -1, -1, -1, -1};
constexpr int16_t of_default[29] = {1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1};
constexpr int16_t ml_default[53] = {1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
				    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1};

// Literal lengths, offsets, match lengths: in this order in the modes byte and the stream.
struct seq_kind {
	const int16_t *defaults;
	uint8_t ndefaults, default_log, max_sym, max_log;
};
constexpr seq_kind kinds[3] = {{ll_default, 36, 6, 35, 9}, {of_default, 29, 5, 31, 8}, {ml_default, 53, 6, 52, 9}};

} // namespace detail

class decoder {
public:
	explicit decoder(std::span<const unsigned char> in) : in_(in) {}
	~decoder() { free(buf_); }
	decoder(const decoder &) = delete;
	decoder &operator=(const decoder &) = delete;

	// The next decoded bytes (a block), valid until the following call; empty at the end
	// of the data (err() == none) or on an error.
	std::span<const unsigned char> next()
	{
		while (err_ == error::none) {
			if (!in_frame_) {
				if (pos_ == in_.size() && frames_)
					break;
				frame_header();
				continue;
			}
			if (last_block_) {
				end_frame();
				continue;
			}
			size_t start = block();
			if (err_ != error::none || out_ == start)
				continue;
			hash_.update(buf_ + start, out_ - start);
			frame_out_ += out_ - start, total_ += out_ - start;
			if (has_size_ && frame_out_ > content_size_)
				fail(error::bad_length, block_at_);
			else
				return {buf_ + start, out_ - start};
		}
		return {};
	}

	error err() const { return err_; }
	size_t err_offset() const { return err_at_; }
	uint64_t total() const { return total_; }
	size_t consumed() const { return pos_; } // of the input, for progress

private:
	static constexpr size_t max_window = size_t(1) << 27, max_block = 128 << 10, slack = 32; // for 16-byte copies

	void fail(error e, size_t at)
	{
		if (err_ == error::none)
			err_ = e, err_at_ = at;
	}
	bool have(size_t at, size_t n)
	{
		if (in_.size() - at >= n && at <= in_.size())
			return true;
		fail(error::truncated, at);
		return false;
	}

	void frame_header()
	{
		size_t at = pos_;
		const unsigned char *h = in_.data() + at;
		if (in_.size() - at < 4 || (detail::load_le(h, 4) != frame_magic && (detail::load_le(h, 4) & ~15u) != skippable_magic))
			return fail(!frames_ ? (in_.size() - at < 4 ? error::truncated : error::not_zstd) : error::trailing_data, at);
		frames_++;
		if (detail::load_le(h, 4) != frame_magic) { // skippable: a 4-byte size, then that much
			if (!have(at, 8) || !have(at + 8, detail::load_le(h + 4, 4)))
				return;
			pos_ = at + 8 + detail::load_le(h + 4, 4);
			return;
		}
		if (!have(at, 5))
			return;
		unsigned fhd = h[4], size_flag = fhd >> 6, single = fhd >> 5 & 1, dict_bytes = (1u << (fhd & 3)) >> 1;
		unsigned size_bytes = size_flag ? 1u << size_flag : single;
		if (fhd & 8)
			return fail(error::bad_header, at + 4);
		if (!have(at, 5 + !single + dict_bytes + size_bytes))
			return;
		const unsigned char *p = h + 5;
		uint64_t window = 0;
		if (!single) {
			uint64_t base = uint64_t(1) << (10 + (*p >> 3));
			window = base + (base >> 3) * (*p & 7);
			p++;
		}
		if (detail::load_le(p, dict_bytes))
			return fail(error::dictionary, at);
		p += dict_bytes;
		has_size_ = size_bytes != 0;
		content_size_ = detail::load_le(p, size_bytes) + (size_flag == 1 ? 256 : 0);
		if (single)
			window = content_size_;
		if (window > max_window)
			return fail(error::window_too_large, at);
		pos_ = size_t(p + size_bytes - in_.data());
		block_max_ = window < max_block ? size_t(window) : max_block;
		window_ = size_t(has_size_ && content_size_ < window ? content_size_ : window);
		size_t need = window_ + block_max_ + 2 * slack;
		if (need > cap_) {
			free(buf_);
			if (!(buf_ = static_cast<unsigned char *>(malloc(need)))) {
				cap_ = 0;
				return fail(error::no_memory, at);
			}
			cap_ = need;
		}
		checksum_ = fhd & 4;
		in_frame_ = true, last_block_ = false, huffman_ready_ = false;
		ready_[0] = ready_[1] = ready_[2] = false;
		out_ = prev_end_ = 0, frame_out_ = 0;
		rep_[0] = 1, rep_[1] = 4, rep_[2] = 8;
		hash_.reset();
	}

	void end_frame()
	{
		if (has_size_ && frame_out_ != content_size_)
			return fail(error::bad_length, pos_);
		if (checksum_) {
			if (!have(pos_, 4))
				return;
			if (detail::load_le(in_.data() + pos_, 4) != uint32_t(hash_.digest()))
				return fail(error::bad_checksum, pos_);
			pos_ += 4;
		}
		in_frame_ = false;
	}

	// One block into the buffer; returns where its output starts. The buffer holds the
	// window and one block: when a block might not fit, writing wraps to the start, and
	// the previous segment (up to prev_end_) keeps the rest of the window. Copies 16 bytes
	// at a time write up to 15 past their end: into the slack after the block, or into the
	// previous segment's first `slack` bytes, which are older than the window.
	size_t block()
	{
		size_t at = block_at_ = pos_;
		if (!have(at, 3))
			return out_;
		uint32_t h = uint32_t(detail::load_le(in_.data() + at, 3));
		unsigned type = h >> 1 & 3;
		size_t size = h >> 3;
		last_block_ = h & 1;
		pos_ += 3;
		if (out_ + block_max_ + slack > cap_) // then out_ > window_ + slack
			prev_end_ = out_, out_ = 0;
		size_t start = block_out_start_ = out_;
		if (type == 3 || size > block_max_) {
			fail(error::bad_block, at);
			return start;
		}
		if (!have(pos_, type == 1 ? 1 : size))
			return start;
		const unsigned char *p = in_.data() + pos_;
		if (type == 0)
			memcpy(buf_ + out_, p, size), out_ += size, pos_ += size;
		else if (type == 1)
			memset(buf_ + out_, *p, size), out_ += size, pos_ += 1;
		else
			compressed(p, size), pos_ += size;
		return start;
	}

	void compressed(const unsigned char *b, size_t n)
	{
		size_t lit_bytes = literals(b, n);
		if (err_ == error::none)
			sequences(b + lit_bytes, n - lit_bytes, size_t(b - in_.data()) + lit_bytes);
	}

	// The literals section: raw (left in the input), RLE, or Huffman-coded in 1 or 4
	// streams with a new or the previous table. Returns its size.
	size_t literals(const unsigned char *b, size_t n)
	{
		size_t at = size_t(b - in_.data());
		if (!n)
			return fail(error::bad_literals, at), 0;
		unsigned type = b[0] & 3, format = b[0] >> 2 & 3;
		size_t header, regen, comp;
		if (type < 2) {
			header = format == 1 ? 2 : format == 3 ? 3 : 1;
			if (n < header + (type == 1))
				return fail(error::bad_literals, at), 0;
			uint32_t h = uint32_t(detail::load_le(b, unsigned(header)));
			regen = header == 1 ? h >> 3 : h >> 4;
			comp = type == 0 ? regen : 1;
		} else {
			header = format < 2 ? 3 : format + 2;
			unsigned bits = format < 2 ? 10 : format == 2 ? 14 : 18;
			if (n < header)
				return fail(error::bad_literals, at), 0;
			uint64_t h = detail::load_le(b, unsigned(header));
			regen = h >> 4 & ((1u << bits) - 1), comp = h >> (4 + bits) & ((1u << bits) - 1);
		}
		if (regen > block_max_ || comp > n - header)
			return fail(error::bad_literals, at), 0;
		const unsigned char *p = b + header;
		lit_ = lits_, nlit_ = regen, raw_literals_ = type == 0;
		if (type == 0)
			lit_ = p;
		else if (type == 1)
			memset(lits_, *p, regen);
		else if (!huffman_literals(p, comp, regen, type == 2, format))
			fail(error::bad_literals, at);
		return header + comp;
	}

	bool huffman_literals(const unsigned char *p, size_t n, size_t regen, bool fresh, unsigned format)
	{
		if (fresh) {
			size_t t = huffman_table(p, n);
			if (!t)
				return false;
			p += t, n -= t;
		} else if (!huffman_ready_) {
			return false;
		}
		if (format == 0)
			return huffman_stream(p, n, lits_, regen);
		if (n < 6)
			return false;
		size_t seg = (regen + 3) / 4, sizes[4], sum = 6;
		for (int i = 0; i < 3; i++)
			sum += sizes[i] = size_t(p[2 * i] | p[2 * i + 1] << 8);
		if (sum > n || 3 * seg > regen)
			return false;
		sizes[3] = n - sum;
		p += 6;
		// The four streams side by side, a symbol of each in turn (independent work for
		// the CPU to overlap), the last one's fewer symbols setting the pace.
		detail::rbits r[4];
		for (int i = 0; i < 4; p += sizes[i++])
			if (!r[i].init(p, sizes[i]))
				return false;
		size_t last = regen - 3 * seg;
		for (size_t j = 0; j < seg; j++) {
			if (!(j & 3))
				for (int i = 0; i < 4; i++)
					r[i].reload();
			for (int i = 0; i < (j < last ? 4 : 3); i++) {
				uint16_t e = huffman_[r[i].peek(huffman_bits_)];
				lits_[i * seg + j] = uint8_t(e);
				r[i].used += e >> 8;
			}
		}
		for (int i = 0; i < 4; i++)
			if (!r[i].finished())
				return false;
		return true;
	}

	// A Huffman tree description: weights direct (4 bits each) or FSE-coded, the last
	// one implied. Returns its size, or 0 when invalid.
	size_t huffman_table(const unsigned char *b, size_t n)
	{
		uint8_t w[258];
		unsigned nw = 0, h = n ? b[0] : 0;
		if (!n)
			return 0;
		if (h >= 128) {
			nw = h - 127;
			if (1 + (nw + 1) / 2 > n)
				return 0;
			for (unsigned i = 0; i < nw; i++)
				w[i] = i & 1 ? b[1 + i / 2] & 15 : b[1 + i / 2] >> 4;
			h = (nw + 1) / 2;
		} else {
			int16_t prob[256];
			unsigned nsym, log;
			detail::fse_entry t[64];
			detail::rbits r;
			size_t c;
			if (h + 1 > n || !(c = detail::read_counts(b + 1, h, 255, 6, prob, nsym, log)) ||
			    !detail::build_table(t, prob, nsym, log) || !r.init(b + 1 + c, h - c))
				return 0;
			unsigned s1 = unsigned(r.read(log)), s2 = unsigned(r.read(log));
			for (;;) { // two interleaved states until the stream runs out
				if (nw > 254)
					return 0;
				w[nw++] = t[s1].sym;
				s1 = t[s1].base + unsigned(r.read(t[s1].bits));
				r.reload();
				if (r.overrun()) {
					w[nw++] = t[s2].sym;
					break;
				}
				w[nw++] = t[s2].sym;
				s2 = t[s2].base + unsigned(r.read(t[s2].bits));
				r.reload();
				if (r.overrun()) {
					w[nw++] = t[s1].sym;
					break;
				}
			}
			if (nw > 255)
				return 0;
		}
		// Each weight w > 0 is a code of max_bits + 1 - w bits; the implied last weight
		// completes the sum of 2^(w-1) to a power of two.
		uint32_t total = 0, rank[13] = {};
		for (unsigned i = 0; i < nw; i++) {
			if (w[i] > 11)
				return 0;
			total += w[i] ? 1u << (w[i] - 1) : 0;
		}
		if (!total)
			return 0;
		unsigned max_bits = detail::highbit(total) + 1;
		uint32_t left = (1u << max_bits) - total;
		if (max_bits > 11 || (left & (left - 1)))
			return 0;
		w[nw++] = uint8_t(detail::highbit(left) + 1);
		for (unsigned i = 0; i < nw; i++)
			rank[w[i]]++;
		uint32_t start[13] = {};
		for (unsigned k = 1; k < 12; k++)
			start[k + 1] = start[k] + (rank[k] << (k - 1));
		for (unsigned s = 0; s < nw; s++)
			if (w[s])
				for (uint32_t j = 0; j < 1u << (w[s] - 1); j++)
					huffman_[start[w[s]]++] = uint16_t(s | (max_bits + 1 - w[s]) << 8);
		huffman_bits_ = max_bits, huffman_ready_ = true;
		return 1 + h;
	}

	bool huffman_stream(const unsigned char *b, size_t n, unsigned char *out, size_t count)
	{
		detail::rbits r;
		if (!r.init(b, n))
			return false;
		for (size_t i = 0; i < count; i++) {
			if (!(i & 3))
				r.reload();
			uint16_t e = huffman_[r.peek(huffman_bits_)];
			out[i] = uint8_t(e);
			r.used += e >> 8;
		}
		return r.finished();
	}

	// The table of one sequence code for this block: predefined, RLE (one symbol), FSE
	// (described here) or the previous block's. Returns the bytes taken, or -1.
	long sequence_table(int k, unsigned mode, const unsigned char *b, size_t n)
	{
		const detail::seq_kind &kind = detail::kinds[k];
		detail::fse_entry *t = tables_[k];
		if (mode == 0) {
			build_table(t, kind.defaults, kind.ndefaults, kind.default_log);
			logs_[k] = kind.default_log;
		} else if (mode == 1) {
			if (!n || b[0] > kind.max_sym)
				return -1;
			t[0] = {0, b[0], 0};
			logs_[k] = 0;
		} else if (mode == 2) {
			int16_t prob[53];
			unsigned nsym, log;
			size_t c = detail::read_counts(b, n, kind.max_sym, kind.max_log, prob, nsym, log);
			if (!c || !build_table(t, prob, nsym, log))
				return -1;
			logs_[k] = log;
			ready_[k] = true;
			return long(c);
		} else if (!ready_[k]) {
			return -1;
		}
		ready_[k] = true;
		return mode == 1;
	}

	void sequences(const unsigned char *b, size_t n, size_t at)
	{
		if (!n)
			return fail(error::bad_sequences, at);
		size_t nseq = b[0], i = 1;
		if (nseq >= 128) {
			i = nseq == 255 ? 3 : 2;
			if (n < i)
				return fail(error::bad_sequences, at);
			nseq = nseq == 255 ? (b[1] | b[2] << 8) + 0x7f00 : (nseq - 128) << 8 | b[1];
		}
		if (nseq == 0) {
			if (i != n)
				return fail(error::bad_sequences, at);
			return put_literals(nlit_, at);
		}
		if (i >= n || (b[i] & 3))
			return fail(error::bad_sequences, at);
		unsigned modes = b[i++];
		for (int k = 0; k < 3; k++) {
			long t = sequence_table(k, modes >> (6 - 2 * k) & 3, b + i, n - i);
			if (t < 0)
				return fail(error::bad_table, at);
			i += size_t(t);
		}
		detail::rbits r;
		if (i > n || !r.init(b + i, n - i))
			return fail(error::bad_sequences, at);
		unsigned s[3];
		for (int k = 0; k < 3; k++)
			s[k] = unsigned(r.read(logs_[k]));
		r.reload();
		size_t limit = out_ + block_max_; // a block's output
		for (size_t q = 0; q < nseq; q++) {
			const detail::fse_entry L = tables_[0][s[0]], O = tables_[1][s[1]], M = tables_[2][s[2]];
			size_t value = (size_t(1) << O.sym) + size_t(r.read(O.sym));
			size_t ml = detail::ml_base.v[M.sym] + size_t(r.read(detail::ml_bits[M.sym]));
			r.reload();
			size_t ll = detail::ll_base.v[L.sym] + size_t(r.read(detail::ll_bits[L.sym]));
			if (q + 1 < nseq) {
				s[0] = L.base + unsigned(r.read(L.bits));
				s[2] = M.base + unsigned(r.read(M.bits));
				s[1] = O.base + unsigned(r.read(O.bits));
			}
			r.reload();
			size_t off;
			if (value > 3) {
				off = value - 3;
				rep_[2] = rep_[1], rep_[1] = rep_[0], rep_[0] = off;
			} else {
				size_t idx = value - 1 + (ll == 0);
				off = idx == 3 ? rep_[0] - 1 : rep_[idx];
				if (idx) {
					if (idx > 1)
						rep_[2] = rep_[1];
					rep_[1] = rep_[0], rep_[0] = off;
				}
			}
			if (ll > nlit_ || ll + ml > limit - out_)
				return fail(error::bad_sequences, at);
			put_literals(ll, at);
			if (off == 0 || off > window_ || off > frame_out_ + (out_ - block_out_start_))
				return fail(error::bad_offset, at);
			copy_match(off, ml);
		}
		if (!r.finished())
			return fail(error::bad_sequences, at);
		if (nlit_ > limit - out_)
			return fail(error::bad_sequences, at);
		put_literals(nlit_, at);
	}

	void put_literals(size_t n, size_t at)
	{
		if (n > nlit_ || n > cap_ - slack - out_)
			return fail(error::bad_sequences, at);
		if (!raw_literals_) // 16 at a time, into both slacks
			for (size_t i = 0; i < n; i += 16)
				memcpy(buf_ + out_ + i, lit_ + i, 16);
		else // raw literals: in the input, which has no slack
			memcpy(buf_ + out_, lit_, n);
		lit_ += n, nlit_ -= n, out_ += n;
	}

	// A match: from the previous segment first when it reaches back past this one's start.
	void copy_match(size_t off, size_t len)
	{
		if (off > out_) {
			size_t back = off - out_, k = back < len ? back : len;
			memmove(buf_ + out_, buf_ + prev_end_ - back, k);
			out_ += k, len -= k;
		}
		unsigned char *to = buf_ + out_;
		const unsigned char *from = to - off;
		if (off >= 16) // each 16 bytes were all written before they are read; into the slack
			for (size_t i = 0; i < len; i += 16)
				memcpy(to + i, from + i, 16);
		else
			for (size_t i = 0; i < len; i++) // overlapping: the pattern repeats
				to[i] = from[i];
		out_ += len;
	}

	std::span<const unsigned char> in_;
	size_t pos_ = 0, block_at_ = 0;
	error err_ = error::none;
	size_t err_at_ = 0;
	unsigned frames_ = 0;
	bool in_frame_ = false, last_block_ = false, checksum_ = false, has_size_ = false;
	uint64_t content_size_ = 0, frame_out_ = 0, total_ = 0;
	size_t window_ = 0, block_max_ = 0;
	unsigned char *buf_ = nullptr;
	size_t cap_ = 0, out_ = 0, prev_end_ = 0, block_out_start_ = 0;
	size_t rep_[3];
	detail::xxh64 hash_;
	const unsigned char *lit_ = nullptr;
	size_t nlit_ = 0;
	bool raw_literals_ = false;
	bool huffman_ready_ = false, ready_[3] = {};
	unsigned huffman_bits_ = 0, logs_[3] = {};
	uint16_t huffman_[1 << 11];
	detail::fse_entry tables_[3][512];
	unsigned char lits_[max_block + slack];
};

} // namespace zstd
