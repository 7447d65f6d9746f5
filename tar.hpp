// tar.hpp: a reader of tar archives over a byte range (usually an mmap).
//
// Pure parser: bytes in, entries out, no I/O and no allocation. Entries hold views into
// the archive, so the bytes must outlive them. Dialects: ustar (with prefix), GNU
// (`L`/`K` long names, base-256 numbers), PAX `x` and `g` records (path, linkpath, size,
// uid, gid, mtime, SCHILY.xattr.*). Every size is checked against the bytes that remain;
// an error carries the offset of the header it concerns.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace tar {

constexpr size_t block = 512;

enum class error { none, truncated, bad_checksum, bad_number, bad_pax, bad_header };

constexpr const char *error_text(error e)
{
	switch (e) {
	case error::none: return "no error";
	case error::truncated: return "truncated archive";
	case error::bad_checksum: return "bad header checksum";
	case error::bad_number: return "bad numeric field";
	case error::bad_pax: return "bad PAX record";
	case error::bad_header: return "bad header";
	}
	return "?";
}

// Type flags of the entries a reader hands out (meta entries x, g, L, K are consumed).
namespace type {
constexpr char file = '0', hardlink = '1', symlink = '2', chardev = '3', blockdev = '4',
	       directory = '5', fifo = '6';
}

struct entry {
	std::string_view path;     // as stored: may start with "./" or "/", may hold ".."
	std::string_view linkpath; // symlink target, or hard link's earlier entry
	char typeflag = 0;         // one of tar::type, or an unknown flag for the caller to refuse
	uint32_t mode = 0;         // permission bits and S_ISUID/S_ISGID/S_ISVTX
	uint64_t uid = 0, gid = 0;
	int64_t mtime = 0;         // seconds
	uint32_t devmajor = 0, devminor = 0;
	std::span<const unsigned char> data; // contents of a regular file (empty when streamed)
	uint64_t streamed = 0;     // a file's size when its data comes through piece() instead
	std::string_view pax;      // this entry's own PAX records, for xattrs
	size_t offset = 0;         // offset of the entry's (first) header in the archive
	char name_buf[256];        // prefix "/" name, when a ustar path needs joining
};

// Calls f(key, value) for each record "LEN KEY=VALUE\n" of a PAX block.
// Returns false when a record is malformed.
template <class F> bool for_each_pax(std::string_view recs, F &&f)
{
	while (!recs.empty()) {
		size_t len = 0, i = 0;
		while (i < recs.size() && recs[i] >= '0' && recs[i] <= '9' && i < 20)
			len = len * 10 + size_t(recs[i++] - '0');
		if (i == 0 || i >= recs.size() || recs[i] != ' ' || len <= i + 1 || len > recs.size() ||
		    recs[len - 1] != '\n')
			return false;
		std::string_view rec = recs.substr(i + 1, len - i - 2);
		size_t eq = rec.find('=');
		if (eq == std::string_view::npos || eq == 0)
			return false;
		f(rec.substr(0, eq), rec.substr(eq + 1));
		recs.remove_prefix(len);
	}
	return true;
}

namespace detail {

inline std::string_view field(const unsigned char *h, size_t off, size_t len)
{
	auto p = reinterpret_cast<const char *>(h + off);
	return {p, strnlen(p, len)};
}

// Octal (NUL or space padded) or GNU base-256 (high bit of the first byte set).
inline bool number(const unsigned char *h, size_t off, size_t len, uint64_t &out)
{
	const unsigned char *p = h + off;
	out = 0;
	if (p[0] & 0x80) {
		if (p[0] & 0x40) // negative
			return false;
		uint64_t v = p[0] & 0x3f;
		for (size_t i = 1; i < len; i++) {
			if (v >> 56)
				return false;
			v = v << 8 | p[i];
		}
		out = v;
		return true;
	}
	size_t i = 0;
	while (i < len && p[i] == ' ')
		i++;
	for (; i < len && p[i] >= '0' && p[i] <= '7'; i++) {
		if (out >> 61)
			return false;
		out = out << 3 | uint64_t(p[i] - '0');
	}
	for (; i < len; i++)
		if (p[i] != ' ' && p[i] != 0)
			return false;
	return true;
}

inline bool decimal(std::string_view s, uint64_t &out)
{
	out = 0;
	if (s.empty())
		return false;
	for (char c : s) {
		if (c < '0' || c > '9' || out > (UINT64_MAX - 9) / 10)
			return false;
		out = out * 10 + uint64_t(c - '0');
	}
	return true;
}

// The sum of the header's bytes with the checksum field read as spaces, taken unsigned
// (POSIX) or signed (old Sun and GNU writers): eight bytes at a time, no branch per byte.
inline bool checksum_ok(const unsigned char *h)
{
	uint64_t stored;
	if (!number(h, 148, 8, stored))
		return false;
	uint64_t unsigned_sum = 0, high = 0; // high: bytes of 128 and over, each 256 less when signed
	for (size_t i = 0; i < block; i += 8) {
		uint64_t w;
		memcpy(&w, h + i, 8);
		if (i == 148 - 4) // the field spans bytes 148..155: words 144 and 152
			w = (w & 0x00000000ffffffffull) | 0x2020202000000000ull;
		else if (i == 152)
			w = (w & 0xffffffff00000000ull) | 0x0000000020202020ull;
		high += ((w & 0x8080808080808080ull) >> 7) * 0x0101010101010101ull >> 56;
		uint64_t pairs = (w & 0x00ff00ff00ff00ffull) + (w >> 8 & 0x00ff00ff00ff00ffull);
		pairs = (pairs & 0x0000ffff0000ffffull) + (pairs >> 16 & 0x0000ffff0000ffffull);
		unsigned_sum += (pairs & 0xffffffff) + (pairs >> 32);
	}
	int64_t signed_sum = int64_t(unsigned_sum) - int64_t(256 * high);
	return stored == unsigned_sum || int64_t(stored) == signed_sum;
}

inline bool zero_block(const unsigned char *h)
{
	uint64_t any = 0;
	for (size_t i = 0; i < block; i += 8) {
		uint64_t w;
		memcpy(&w, h + i, 8);
		any |= w;
	}
	return any == 0;
}

// Overrides that PAX and GNU meta entries carry over to the next real entry.
struct pending {
	std::string_view path, linkpath;
	bool has_size = false, has_uid = false, has_gid = false, has_mtime = false;
	uint64_t size = 0, uid = 0, gid = 0;
	int64_t mtime = 0;
};

// Applies PAX records to p; "" values unset (POSIX), and unknown keys are kept for the caller.
inline bool apply_pax(std::string_view recs, pending &p)
{
	bool ok = true;
	bool well_formed = for_each_pax(recs, [&](std::string_view k, std::string_view v) {
		uint64_t n = 0;
		if (k == "path")
			p.path = v;
		else if (k == "linkpath")
			p.linkpath = v;
		else if (k == "size" || k == "uid" || k == "gid") {
			bool set = !v.empty();
			if (set && !decimal(v, n))
				ok = false;
			if (k == "size")
				p.has_size = set, p.size = n;
			else if (k == "uid")
				p.has_uid = set, p.uid = n;
			else
				p.has_gid = set, p.gid = n;
		} else if (k == "mtime" && !v.empty()) {
			// Decimal seconds with an optional fraction; negative times are clamped to 0.
			std::string_view whole = v.substr(0, v.find('.'));
			bool negative = !whole.empty() && whole[0] == '-';
			if (negative)
				whole.remove_prefix(1);
			if (!decimal(whole, n) || n > uint64_t(INT64_MAX))
				ok = false;
			p.has_mtime = true;
			p.mtime = negative ? 0 : int64_t(n);
		}
	});
	return ok && well_formed;
}

} // namespace detail

class reader {
public:
	explicit reader(std::span<const unsigned char> bytes) : bytes_(bytes) {}

	// An archive still arriving (decoded by another process as it is read): the bytes from
	// archive offset `from` on, and whether more will come. next() then returns false with
	// starved() when the next entry is not all there yet; grow and call it again. `from` is
	// at most position(): a caller that keeps a window of the archive (a ring) passes what
	// it still has, and may drop everything before position().
	void grow(std::span<const unsigned char> bytes, bool more, size_t from = 0)
	{
		bytes_ = bytes;
		start_ = from;
		more_ = more;
	}
	bool starved() const { return starved_; }
	size_t position() const { return pos_; } // the first byte still needed: an entry's first header, or a streamed file's data

	// A regular file of `n` bytes or more that is not all there yet is handed out by next()
	// with its data empty and `streamed` set to its size; piece() then gives what has arrived
	// of its data (empty when all is read, or with starved() when more must come first),
	// consume() moves past it, and next() goes on after the file (its padding included).
	void stream_from(uint64_t n) { stream_from_ = n; }
	std::span<const unsigned char> piece()
	{
		starved_ = false;
		if (left_ == 0 || err_ != error::none)
			return {};
		size_t have = end() - pos_;
		if (have == 0) {
			if (more_)
				starved_ = true;
			else
				fail(error::truncated, streamed_at_);
			return {};
		}
		return {at(pos_), size_t(std::min<uint64_t>(left_, have))};
	}
	void consume(size_t n)
	{
		pos_ += n;
		left_ -= n;
	}

	// Fills e with the next entry and returns true; returns false at the end of the
	// archive (err() == none) or on an error (err() and err_offset() say which and where).
	bool next(entry &e)
	{
		starved_ = false;
		if (err_ == error::none && (left_ || pad_) && !skip_rest())
			return false;
		// Local records start from the global ones, so an empty local value cancels both.
		detail::pending local = global_;
		e.pax = {};
		size_t first = pos_;
		auto starve = [&] { // read this entry again, from its first header, once there is more
			pos_ = first;
			starved_ = true;
			return false;
		};
		for (;;) {
			if (done_ || err_ != error::none)
				return false;
			if (more_ && end() - pos_ < block)
				return starve();
			// End of data at a header boundary without the zero blocks: the end, as Go's
			// archive/tar and GNU tar read it.
			if (pos_ == end()) {
				done_ = true;
				return false;
			}
			if (end() - pos_ < block)
				return fail(error::truncated, pos_);
			const unsigned char *h = at(pos_);
			if (detail::zero_block(h)) {
				done_ = true;
				return false;
			}
			if (!detail::checksum_ok(h))
				return fail(error::bad_checksum, pos_);
			uint64_t size, mode, uid, gid, mtime, major, minor;
			if (!detail::number(h, 124, 12, size) || !detail::number(h, 100, 8, mode) ||
			    !detail::number(h, 108, 8, uid) || !detail::number(h, 116, 8, gid) ||
			    !detail::number(h, 136, 12, mtime) || !detail::number(h, 329, 8, major) ||
			    !detail::number(h, 337, 8, minor))
				return fail(error::bad_number, pos_);
			char flag = char(h[156]);
			bool meta = flag == 'x' || flag == 'g' || flag == 'L' || flag == 'K';
			if (!meta && local.has_size)
				size = local.size;
			// Only regular files carry data; other types' size field is ignored.
			bool file = flag == type::file || flag == 0 || flag == '7';
			uint64_t data_len = meta || file ? size : 0;
			size_t header_at = pos_;
			size_t avail = end() - pos_ - block;
			uint64_t padded = (data_len + block - 1) / block * block;
			bool stream = more_ && padded > avail && file && data_len >= stream_from_;
			if (more_ && padded > avail && !stream)
				return starve();
			if (data_len > avail && !stream)
				return fail(error::truncated, header_at);
			std::span<const unsigned char> data = stream ? std::span<const unsigned char>{} : std::span(at(pos_ + block), size_t(data_len));
			// The last block's padding may be cut by writers that stop early; tolerate it
			// only at the very end, as GNU tar does.
			pos_ = stream ? pos_ + block : padded > avail ? end() : pos_ + block + size_t(padded);
			std::string_view text(reinterpret_cast<const char *>(data.data()), data.size());

			if (flag == 'x' || flag == 'g') {
				if ((flag == 'g' && (!detail::apply_pax(text, global_) || !keep(global_.path, global_path_) ||
						     !keep(global_.linkpath, global_linkpath_))) ||
				    !detail::apply_pax(text, local))
					return fail(error::bad_pax, header_at);
				if (flag == 'x')
					e.pax = text;
				continue;
			}
			if (flag == 'L' || flag == 'K') {
				std::string_view s = text.substr(0, strnlen(text.data(), text.size()));
				(flag == 'L' ? local.path : local.linkpath) = s;
				continue;
			}

			e.offset = first;
			e.typeflag = file ? type::file : flag;
			e.mode = uint32_t(mode & 07777);
			e.uid = local.has_uid ? local.uid : uid;
			e.gid = local.has_gid ? local.gid : gid;
			e.mtime = local.has_mtime ? local.mtime : int64_t(mtime);
			e.devmajor = uint32_t(major);
			e.devminor = uint32_t(minor);
			e.data = file ? data : std::span<const unsigned char>{};
			e.streamed = stream ? data_len : 0;
			e.linkpath = !local.linkpath.empty() ? local.linkpath : detail::field(h, 157, 100);
			e.path = !local.path.empty() ? local.path : ustar_path(h, e);
			if (e.path.empty())
				return fail(error::bad_header, header_at);
			if (stream)
				left_ = data_len, pad_ = padded - data_len, streamed_at_ = header_at;
			return true;
		}
	}

	error err() const { return err_; }
	size_t err_offset() const { return err_offset_; }

private:
	bool fail(error e, size_t at)
	{
		err_ = e;
		err_offset_ = at;
		return false;
	}

	size_t end() const { return start_ + bytes_.size(); }
	const unsigned char *at(size_t offset) const { return bytes_.data() + (offset - start_); }

	// Past what is left of a streamed file and its padding (as much as is there: starved
	// for the rest, or at the end, truncated data or tolerated padding).
	bool skip_rest()
	{
		size_t have = end() - pos_;
		uint64_t data = std::min<uint64_t>(left_, have), pad = std::min<uint64_t>(pad_, have - data);
		pos_ += size_t(data + pad);
		left_ -= data, pad_ -= pad;
		if (left_ == 0 && pad_ == 0)
			return true;
		if (more_)
			return starved_ = true, false;
		if (left_)
			return fail(error::truncated, streamed_at_);
		pad_ = 0;
		return true;
	}

	// A global record's path or linkpath, copied: the bytes it was read from may be gone
	// (a window) by the time a later entry uses it.
	static bool keep(std::string_view &v, char (&buf)[4096])
	{
		if (v.empty() || v.data() == buf)
			return true;
		if (v.size() > sizeof buf)
			return false;
		memmove(buf, v.data(), v.size());
		v = {buf, v.size()};
		return true;
	}

	// POSIX ustar splits long paths into prefix (155 bytes at 345) and name; GNU's
	// "ustar  " magic uses those bytes for other fields.
	static std::string_view ustar_path(const unsigned char *h, entry &e)
	{
		std::string_view name = detail::field(h, 0, 100);
		if (memcmp(h + 257, "ustar\0", 6) != 0)
			return name;
		std::string_view prefix = detail::field(h, 345, 155);
		if (prefix.empty())
			return name;
		memcpy(e.name_buf, prefix.data(), prefix.size());
		e.name_buf[prefix.size()] = '/';
		memcpy(e.name_buf + prefix.size() + 1, name.data(), name.size());
		return {e.name_buf, prefix.size() + 1 + name.size()};
	}

	std::span<const unsigned char> bytes_;
	size_t start_ = 0, pos_ = 0; // archive offsets: of bytes_[0], and of the next byte to read
	bool done_ = false, more_ = false, starved_ = false;
	error err_ = error::none;
	size_t err_offset_ = 0;
	detail::pending global_;
	char global_path_[4096], global_linkpath_[4096];
	uint64_t stream_from_ = UINT64_MAX;
	uint64_t left_ = 0, pad_ = 0; // of a streamed file's data, and of its padding
	size_t streamed_at_ = 0;      // its header, for a truncation's offset
};

} // namespace tar
