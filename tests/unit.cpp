// Unit tests of the parsers (tar, JSON, image manifest and config), the flag parser and
// the layer path rules. Built with g++ and sanitizers; the same headers go into the
// musl product.
#define BOOST_TEST_MODULE launcher
#define BOOST_TEST_DYN_LINK
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <linux/audit.h>
#include <sys/syscall.h>

#include "../cache.hpp"
#include "../format.hpp"
#include "../gzip.hpp"
#include "../image.hpp"
#include "../sha256.hpp"
#include "../json.hpp"
#include "../limits.hpp"
#include "../machine.hpp"
#include "../seccomp.hpp"
#include "../security.hpp"
#include "../netlink.hpp"
#include "../nfnetlink.hpp"
#include "../dns.hpp"
#include "../ports.hpp"
#include "../oci.hpp"
#include "../state.hpp"
#include "../logs.hpp"
#include "../bundle.hpp"
#include "../network.hpp"
#include "../options.hpp"
#include "../rootfs.hpp"
#include "../tar.hpp"
#include "../container.hpp"
#include "../volumes.hpp"
#include "../unpack.hpp"
#include "../zstd.hpp"

namespace {

using bytes = std::vector<unsigned char>;

std::span<const unsigned char> span_of(const bytes &b) { return {b.data(), b.size()}; }

std::string sv(std::span<const unsigned char> d) { return {reinterpret_cast<const char *>(d.data()), d.size()}; }

// A scratch directory where the tests let GNU tar write real archives.
struct scratch_dir {
	std::string path;
	scratch_dir()
	{
		char tmpl[] = "/tmp/launcher-unit.XXXXXX";
		BOOST_REQUIRE(mkdtemp(tmpl));
		path = tmpl;
	}
	~scratch_dir() { std::system(("rm -rf " + path).c_str()); }
	void sh(const std::string &cmd) const
	{
		std::string full = "cd " + path + " && " + cmd;
		BOOST_REQUIRE_MESSAGE(std::system(full.c_str()) == 0, full);
	}
	bytes read(const std::string &name) const
	{
		std::ifstream in(path + "/" + name, std::ios::binary);
		std::stringstream ss;
		ss << in.rdbuf();
		std::string s = ss.str();
		return bytes(s.begin(), s.end());
	}
};

struct read_entry {
	std::string path, link, data;
	char type;
	uint32_t mode;
	uint64_t uid, gid;
	int64_t mtime;
	std::string pax;
};

std::vector<read_entry> read_all(const bytes &archive, tar::error &err)
{
	std::vector<read_entry> out;
	tar::reader r(span_of(archive));
	tar::entry e;
	while (r.next(e))
		out.push_back({std::string(e.path), std::string(e.linkpath), sv(e.data), e.typeflag, e.mode,
			       e.uid, e.gid, e.mtime, std::string(e.pax)});
	err = r.err();
	return out;
}

const read_entry *find(const std::vector<read_entry> &v, const std::string &path)
{
	for (const auto &e : v)
		if (e.path == path)
			return &e;
	return nullptr;
}

// Sets the header checksum of the 512-byte block at off, after a test edited the block.
void fix_checksum(bytes &b, size_t off)
{
	memset(&b[off + 148], ' ', 8);
	unsigned sum = 0;
	for (size_t i = 0; i < 512; i++)
		sum += b[off + i];
	snprintf(reinterpret_cast<char *>(&b[off + 148]), 8, "%06o", sum);
	b[off + 155] = ' ';
}

} // namespace

BOOST_AUTO_TEST_SUITE(tar_reader)

BOOST_AUTO_TEST_CASE(gnu_tar_ustar_archive)
{
	scratch_dir d;
	d.sh("mkdir -p src/dir/sub && printf hello > src/dir/a.txt && ln -s a.txt src/dir/link && "
	     "ln src/dir/a.txt src/dir/hard && mkfifo src/fifo && chown 1234:567 src/dir/a.txt && "
	     "chmod 4751 src/dir/a.txt && touch -h -d @1600000000 src/dir/a.txt && "
	     "tar --format=ustar --numeric-owner -C src -cf a.tar dir fifo");
	tar::error err;
	auto v = read_all(d.read("a.tar"), err);
	BOOST_TEST(int(err) == int(tar::error::none));
	// GNU tar stores the first name of an inode it meets (directory order) as the file and
	// the second as a hard link to it.
	const read_entry *a = find(v, "dir/a.txt"), *h = find(v, "dir/hard");
	BOOST_REQUIRE(a);
	BOOST_REQUIRE(h);
	if (a->type == tar::type::hardlink)
		std::swap(a, h);
	BOOST_TEST(a->type == tar::type::file);
	BOOST_TEST(h->type == tar::type::hardlink);
	BOOST_TEST(h->link == a->path);
	BOOST_TEST(h->data.empty());
	BOOST_TEST(a->data == "hello");
	BOOST_TEST(a->mode == 04751u);
	BOOST_TEST(a->uid == 1234u);
	BOOST_TEST(a->gid == 567u);
	BOOST_TEST(a->mtime == 1600000000);
	BOOST_REQUIRE(find(v, "dir/"));
	BOOST_TEST(find(v, "dir/")->type == tar::type::directory);
	BOOST_REQUIRE(find(v, "dir/link"));
	BOOST_TEST(find(v, "dir/link")->type == tar::type::symlink);
	BOOST_TEST(find(v, "dir/link")->link == "a.txt");
	BOOST_REQUIRE(find(v, "fifo"));
	BOOST_TEST(find(v, "fifo")->type == tar::type::fifo);
}

BOOST_AUTO_TEST_CASE(long_names_in_every_dialect)
{
	scratch_dir d;
	std::string deep = "d1234567890/d1234567890/d1234567890/d1234567890/d1234567890/d1234567890/"
			   "d1234567890/d1234567890/d1234567890/d1234567890";
	std::string file = std::string(120, 'f'); // longer than the 100-byte name field
	d.sh("mkdir -p src/" + deep + " && printf x > src/" + deep + "/" + file + " && ln -s " + deep + "/" + file +
	     " src/longlink");
	for (const char *format : {"gnu", "pax", "ustar"}) {
		std::string name = std::string(format) + ".tar";
		// ustar cannot hold a 120-byte file name at all; GNU tar refuses it.
		if (std::string(format) == "ustar") {
			d.sh("mkdir -p u/" + std::string(140, 'p').substr(0, 60) + "/" + std::string(60, 'q') +
			     " && printf y > u/" + std::string(60, 'p') + "/" + std::string(60, 'q') + "/" +
			     std::string(90, 'n') + " && tar --format=ustar -C u -cf ustar.tar .");
			tar::error err;
			auto v = read_all(d.read(name), err);
			BOOST_TEST(int(err) == int(tar::error::none));
			std::string want = "./" + std::string(60, 'p') + "/" + std::string(60, 'q') + "/" + std::string(90, 'n');
			BOOST_REQUIRE(find(v, want));
			BOOST_TEST(find(v, want)->data == "y");
			continue;
		}
		d.sh("tar --format=" + std::string(format) + " -C src -cf " + name + " .");
		tar::error err;
		auto v = read_all(d.read(name), err);
		BOOST_TEST(int(err) == int(tar::error::none), format);
		const read_entry *e = find(v, "./" + deep + "/" + file);
		BOOST_REQUIRE_MESSAGE(e, format);
		BOOST_TEST(e->data == "x");
		const read_entry *l = find(v, "./longlink");
		BOOST_REQUIRE(l);
		BOOST_TEST(l->link == deep + "/" + file);
	}
}

BOOST_AUTO_TEST_CASE(pax_records_override_header_fields)
{
	scratch_dir d;
	// uid beyond ustar's 7 octal digits, an xattr, and a sub-second mtime.
	d.sh("mkdir src && printf data > src/f && setfattr -n user.demo -v value src/f 2>/dev/null; "
	     "tar --format=pax --xattrs --numeric-owner --owner=3000000000 --group=3000000001 "
	     "--mtime=@1600000000.5 -C src -cf p.tar f");
	tar::error err;
	auto v = read_all(d.read("p.tar"), err);
	BOOST_TEST(int(err) == int(tar::error::none));
	const read_entry *f = find(v, "f");
	BOOST_REQUIRE(f);
	BOOST_TEST(f->uid == 3000000000u);
	BOOST_TEST(f->gid == 3000000001u);
	BOOST_TEST(f->mtime == 1600000000);
	BOOST_TEST(f->data == "data");
}

BOOST_AUTO_TEST_CASE(gnu_base256_numbers)
{
	scratch_dir d;
	d.sh("mkdir src && printf z > src/f && tar --format=gnu --numeric-owner --owner=3000000000 "
	     "--group=7 -C src -cf g.tar f");
	bytes b = d.read("g.tar");
	BOOST_TEST((b[108] & 0x80) != 0); // GNU tar wrote the uid in base-256
	tar::error err;
	auto v = read_all(b, err);
	BOOST_TEST(int(err) == int(tar::error::none));
	BOOST_REQUIRE(find(v, "f"));
	BOOST_TEST(find(v, "f")->uid == 3000000000u);
}

BOOST_AUTO_TEST_CASE(pax_global_and_empty_values)
{
	// Built by hand: a global record sets uid for all; a local record with an empty value
	// unsets the global one (POSIX), and an xattr record survives for the caller.
	auto header = [](bytes &b, const std::string &name, char type, size_t size) {
		size_t off = b.size();
		b.resize(off + 512);
		memcpy(&b[off], name.data(), name.size());
		snprintf(reinterpret_cast<char *>(&b[off + 100]), 8, "%07o", 0644);
		snprintf(reinterpret_cast<char *>(&b[off + 108]), 8, "%07o", 5);
		snprintf(reinterpret_cast<char *>(&b[off + 116]), 8, "%07o", 6);
		snprintf(reinterpret_cast<char *>(&b[off + 124]), 12, "%011zo", size);
		snprintf(reinterpret_cast<char *>(&b[off + 136]), 12, "%011o", 0);
		b[off + 156] = uint8_t(type);
		memcpy(&b[off + 257], "ustar\0" "00", 8);
		fix_checksum(b, off);
	};
	auto body = [](bytes &b, const std::string &s) {
		b.insert(b.end(), s.begin(), s.end());
		b.resize((b.size() + 511) / 512 * 512);
	};
	bytes b;
	std::string g = "12 uid=4242\n";
	header(b, "pax_global_header", 'g', g.size());
	body(b, g);
	header(b, "a", '0', 0);
	std::string x = "7 uid=\n28 SCHILY.xattr.user.k=vvvv\n";
	header(b, "PaxHeaders/b", 'x', x.size());
	body(b, x);
	header(b, "b", '0', 0);
	b.resize(b.size() + 1024);
	tar::error err;
	auto v = read_all(b, err);
	BOOST_TEST(int(err) == int(tar::error::none));
	BOOST_REQUIRE(v.size() == 2u);
	BOOST_TEST(v[0].uid == 4242u);
	BOOST_TEST(v[1].uid == 5u); // empty local value: back to the header's field
	std::string key, value;
	tar::for_each_pax(v[1].pax, [&](std::string_view k, std::string_view val) {
		if (k.starts_with("SCHILY.xattr."))
			key = k, value = val;
	});
	BOOST_TEST(key == "SCHILY.xattr.user.k");
	BOOST_TEST(value == "vvvv");
}

// A header's checksum as POSIX sums it (unsigned bytes) and as old writers did (signed):
// both are taken, over bytes of 128 and up on either side of the checksum field, and a
// sum off by one is not.
BOOST_AUTO_TEST_CASE(checksum_unsigned_and_signed)
{
	scratch_dir d;
	d.sh("mkdir src && printf x > src/f && tar --format=ustar -C src -cf t.tar f");
	bytes good = d.read("t.tar");
	for (size_t at : {1, 99, 156, 157, 158, 159, 300, 511}) // next to (the type flag on) and far from bytes 148..155
		good[at] = 0xe9;
	good[0] = 'f';
	auto with_sum = [&](long sum) {
		bytes b = good;
		snprintf(reinterpret_cast<char *>(&b[148]), 8, "%06lo", sum);
		b[155] = ' ';
		return b;
	};
	long unsigned_sum = 0, signed_sum = 0;
	for (size_t i = 0; i < 512; i++) {
		unsigned char c = i >= 148 && i < 156 ? ' ' : good[i];
		unsigned_sum += c;
		signed_sum += static_cast<signed char>(c);
	}
	for (long sum : {unsigned_sum, signed_sum, unsigned_sum + 1, signed_sum - 1}) {
		bytes b = with_sum(sum);
		tar::reader r(span_of(b));
		tar::entry e;
		bool ok = sum == unsigned_sum || sum == signed_sum;
		BOOST_TEST(r.next(e) == ok);
		BOOST_TEST(int(r.err()) == int(ok ? tar::error::none : tar::error::bad_checksum));
	}
}

BOOST_AUTO_TEST_CASE(truncated_bad_checksum_and_size_past_end)
{
	scratch_dir d;
	d.sh("mkdir src && head -c 5000 /dev/urandom > src/big && printf s > src/small && "
	     "tar --format=ustar -C src -cf t.tar small big");
	bytes good = d.read("t.tar");
	{
		bytes cut(good.begin(), good.begin() + 512 * 2 + 3000); // inside big's data
		tar::reader r(span_of(cut));
		tar::entry e;
		int n = 0;
		while (r.next(e))
			n++;
		BOOST_TEST(n == 1);
		BOOST_TEST(int(r.err()) == int(tar::error::truncated));
		BOOST_TEST(r.err_offset() == 1024u); // big's header
	}
	{
		bytes cut(good.begin(), good.begin() + 512 * 2 + 100); // inside big's header
		tar::reader r(span_of(cut));
		tar::entry e;
		while (r.next(e)) {
		}
		BOOST_TEST(int(r.err()) == int(tar::error::truncated));
	}
	{
		bytes bad = good;
		bad[1024 + 10] ^= 0x20; // a name byte of the second header
		tar::reader r(span_of(bad));
		tar::entry e;
		BOOST_TEST(r.next(e));
		BOOST_TEST(!r.next(e));
		BOOST_TEST(int(r.err()) == int(tar::error::bad_checksum));
		BOOST_TEST(r.err_offset() == 1024u);
	}
	{
		bytes lying = good;
		// big claims 8 GiB; the reader must refuse before touching it.
		snprintf(reinterpret_cast<char *>(&lying[1024 + 124]), 12, "%011llo", 8ULL << 30);
		fix_checksum(lying, 1024);
		tar::reader r(span_of(lying));
		tar::entry e;
		BOOST_TEST(r.next(e));
		BOOST_TEST(!r.next(e));
		BOOST_TEST(int(r.err()) == int(tar::error::truncated));
	}
	{
		bytes garbage = good;
		memcpy(&garbage[1024 + 124], "12x4", 4); // not octal
		fix_checksum(garbage, 1024);
		tar::reader r(span_of(garbage));
		tar::entry e;
		r.next(e);
		BOOST_TEST(!r.next(e));
		BOOST_TEST(int(r.err()) == int(tar::error::bad_number));
	}
}

BOOST_AUTO_TEST_CASE(bad_pax_record)
{
	for (std::string recs : {"9 path=x", "99 path=x\n", "x path=a\n", "5 =a\n", "7 patha\n"}) {
		BOOST_TEST(!tar::for_each_pax(recs, [](auto, auto) {}), recs);
	}
	BOOST_TEST(tar::for_each_pax("9 path=x\n", [](auto, auto) {}));
}

BOOST_AUTO_TEST_CASE(empty_and_end_marker)
{
	bytes zeros(1024, 0);
	tar::reader r(span_of(zeros));
	tar::entry e;
	BOOST_TEST(!r.next(e));
	BOOST_TEST(int(r.err()) == int(tar::error::none));
	bytes empty;
	tar::reader r2(span_of(empty));
	BOOST_TEST(!r2.next(e));
	BOOST_TEST(int(r2.err()) == int(tar::error::none));
	bytes short_block(100, 1);
	tar::reader r3(span_of(short_block));
	BOOST_TEST(!r3.next(e));
	BOOST_TEST(int(r3.err()) == int(tar::error::truncated));
}

// An archive read while it arrives (grow), in steps of every size from 1 byte up, gives the
// entries and the verdict of reading it whole: PAX and GNU meta headers, data, padding and
// the end marker cut anywhere; a truncated one stays truncated once no more will come.
BOOST_AUTO_TEST_CASE(growing_archive_reads_as_the_whole)
{
	scratch_dir d;
	d.sh("mkdir -p src/" + std::string(120, 'l') + " && printf hello > src/a && head -c 3000 /dev/urandom > src/b && "
	     "ln -s a src/s && tar --format=pax --numeric-owner -C src -cf p.tar . && "
	     "tar --format=gnu -C src -cf g.tar . && head -c 2100 g.tar > cut.tar");
	for (const char *name : {"p.tar", "g.tar", "cut.tar"}) {
		bytes whole = d.read(name);
		tar::error want_err;
		auto want = read_all(whole, want_err);
		for (size_t step : {size_t(1), size_t(7), size_t(512), size_t(1000), size_t(4096)}) {
			tar::reader r({});
			tar::entry e;
			std::vector<std::string> got;
			for (size_t have = 0;;) {
				have = std::min(whole.size(), have + step);
				r.grow(span_of(whole).first(have), have < whole.size());
				while (r.next(e))
					got.push_back(std::string(e.path) + "|" + sv(e.data) + "|" + std::string(e.linkpath));
				if (!r.starved())
					break;
				BOOST_REQUIRE(have < whole.size());
			}
			BOOST_REQUIRE_EQUAL(got.size(), want.size());
			for (size_t i = 0; i < got.size(); i++)
				BOOST_TEST(got[i] == want[i].path + "|" + want[i].data + "|" + want[i].link, name << " step " << step);
			BOOST_TEST(int(r.err()) == int(want_err), name << " step " << step);
		}
	}
}

// The same, read through a window that keeps only the bytes from position() on (as the
// decoder's ring does; a fresh copy each time, so that a view kept past its window is a
// use-after-free for ASan), with files of 1000 bytes and more streamed through piece():
// the same entries, data and verdict.
BOOST_AUTO_TEST_CASE(archive_read_through_a_window_streams_big_files)
{
	scratch_dir d;
	d.sh("mkdir -p src/" + std::string(120, 'l') + " && printf hello > src/a && head -c 3000 /dev/urandom > src/b && "
	     "head -c 1000 /dev/urandom > src/c && ln -s a src/s && tar --format=pax --numeric-owner -C src -cf p.tar . && "
	     "tar --format=gnu -C src -cf g.tar . && head -c 3000 g.tar > cut.tar && head -c 2100 g.tar > cut2.tar");
	for (const char *name : {"p.tar", "g.tar", "cut.tar", "cut2.tar"}) {
		bytes whole = d.read(name);
		tar::error want_err;
		auto want = read_all(whole, want_err);
		for (size_t step : {size_t(1), size_t(7), size_t(512), size_t(1000), size_t(4096)}) {
			tar::reader r({});
			r.stream_from(1000);
			tar::entry e;
			std::vector<std::string> got;
			auto window = std::make_unique<bytes>();
			bool streaming = false, streamed_any = false;
			std::string data;
			for (size_t have = 0;;) {
				size_t from = r.position();
				BOOST_REQUIRE(from <= have);
				have = std::min(whole.size(), have + step);
				window = std::make_unique<bytes>(whole.begin() + long(from), whole.begin() + long(have));
				r.grow(span_of(*window), have < whole.size(), from);
				for (;;) {
					if (streaming) {
						auto piece = r.piece();
						if (!piece.empty()) {
							data += sv(piece);
							r.consume(piece.size());
							continue;
						}
						if (r.starved() || r.err() != tar::error::none)
							break;
						got.back() += data + "|" + std::string(e.linkpath);
						streaming = false;
					}
					if (!r.next(e))
						break;
					streaming = e.streamed > 0;
					streamed_any = streamed_any || streaming;
					data.clear();
					got.push_back(std::string(e.path) + "|");
					if (!streaming)
						got.back() += sv(e.data) + "|" + std::string(e.linkpath);
					else
						BOOST_TEST(e.data.empty());
				}
				if (!r.starved())
					break;
				BOOST_REQUIRE(have < whole.size());
			}
			if (streaming) // cut inside a streamed file: it is not whole, and not handed out as if
				got.pop_back();
			BOOST_REQUIRE_EQUAL(got.size(), want.size());
			for (size_t i = 0; i < got.size(); i++)
				BOOST_TEST(got[i] == want[i].path + "|" + want[i].data + "|" + want[i].link, name << " step " << step);
			BOOST_TEST(int(r.err()) == int(want_err), name << " step " << step);
			if (step < 1000 && (std::string(name) == "p.tar" || std::string(name) == "g.tar"))
				BOOST_TEST(streamed_any, name << " step " << step);
		}
	}
}

BOOST_AUTO_TEST_SUITE_END()

// ---- SHA-256 and inflate ----------------------------------------------------------

namespace {

std::string sha_hex(const std::string &text)
{
	char hex[65];
	sha256::digest({reinterpret_cast<const unsigned char *>(text.data()), text.size()}, hex);
	return hex;
}

// Everything the inflater produces, or "error: ..." with the offset.
std::string inflate_all(const bytes &gz)
{
	auto in = std::make_unique<gzip::inflater>(span_of(gz));
	std::string out;
	for (auto chunk = in->next(); !chunk.empty(); chunk = in->next())
		out += sv(chunk);
	if (in->err() != gzip::error::none)
		return std::string("error: ") + gzip::error_text(in->err());
	return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(digests)

// FIPS 180-4 examples (and the NIST long-message vector), through both block functions.
BOOST_AUTO_TEST_CASE(fips_180_vectors_portable_and_sha_extensions)
{
	auto saved = sha256::blocks;
	std::vector<decltype(saved)> impls = {sha256::blocks_portable};
	if (sha256::cpu_has_sha())
		impls.push_back(sha256::blocks_shani);
	for (auto impl : impls) {
		sha256::blocks = impl;
		BOOST_CHECK_EQUAL(sha_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
		BOOST_CHECK_EQUAL(sha_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
		BOOST_CHECK_EQUAL(sha_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
				  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
		BOOST_CHECK_EQUAL(sha_hex(std::string(1000000, 'a')),
				  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
		// Fed in uneven pieces, the same digest as in one piece.
		std::string text(100003, 'x');
		for (size_t i = 0; i < text.size(); i++)
			text[i] = char(i * 2654435761u >> 13);
		sha256::hasher h;
		for (size_t at = 0, n = 1; at < text.size(); at += n, n = n * 7 % 191 + 1)
			h.update({reinterpret_cast<const unsigned char *>(text.data()) + at, std::min(n, text.size() - at)});
		char hex[65];
		h.finish(hex);
		BOOST_CHECK_EQUAL(hex, sha_hex(text));
	}
	sha256::blocks = saved;
}

// CRC-32 by PCLMULQDQ folding and by tables agree, on every length and alignment.
BOOST_AUTO_TEST_CASE(crc32_by_carry_less_multiplication_and_by_tables)
{
	bytes b(20000);
	uint32_t x = 1;
	for (auto &c : b)
		c = uint8_t((x = x * 1103515245 + 12345) >> 16);
	signed char saved = gzip::use_clmul;
	for (bool clmul : {false, true}) {
		gzip::use_clmul = clmul && gzip::cpu_has_clmul();
		BOOST_CHECK_EQUAL(gzip::crc32(0, reinterpret_cast<const unsigned char *>("123456789"), 9), 0xcbf43926u);
	}
	for (size_t n = 0; n < 600; n++)
		for (size_t off : {size_t(0), size_t(3), n * 7 % 61}) {
			gzip::use_clmul = false;
			uint32_t want = gzip::crc32(uint32_t(n), b.data() + off, n * 31 % 19900 + off % 2);
			gzip::use_clmul = gzip::cpu_has_clmul();
			BOOST_CHECK_EQUAL(gzip::crc32(uint32_t(n), b.data() + off, n * 31 % 19900 + off % 2), want);
		}
	gzip::use_clmul = saved;
}

// Deflate streams of every kind zlib writes (levels, fixed codes, Huffman only, RLE, long
// codes from skewed data) inflate to their input.
BOOST_AUTO_TEST_CASE(inflate_matches_zlib_strategies_and_long_codes)
{
	scratch_dir d;
	d.sh("python3 -c \"\nimport random, zlib\nrandom.seed(7)\nfor k, skew in enumerate([1.0, 3.0, 6.0]):\n"
	     "    data = bytes(random.choices(range(256), [1 / (i + 1) ** skew for i in range(256)], k=200000))\n"
	     "    open('d%d' % k, 'wb').write(data)\n    for level in [1, 9]:\n        for s in range(5):\n"
	     "            c = zlib.compressobj(level, 8, 31, 9, s)\n"
	     "            open('d%d.%d.%d.gz' % (k, level, s), 'wb').write(c.compress(data) + c.flush())\n\"");
	for (int k = 0; k < 3; k++)
		for (int level : {1, 9})
			for (int strategy = 0; strategy < 5; strategy++) {
				std::string name = "d" + std::to_string(k) + "." + std::to_string(level) + "." + std::to_string(strategy) + ".gz";
				BOOST_CHECK_MESSAGE(inflate_all(d.read(name)) == sv(span_of(d.read("d" + std::to_string(k)))), name);
			}
}

BOOST_AUTO_TEST_CASE(inflate_matches_gzip_output_of_random_and_repetitive_data)
{
	scratch_dir d;
	d.sh("head -c 300000 /dev/urandom > random && (head -c 200000 /dev/urandom | base64; seq 1 100000) > text"
	     " && : > empty && printf a > one");
	for (std::string level : {"1", "6", "9"})
		for (std::string name : {"random", "text", "empty", "one"}) {
			d.sh("gzip -" + level + " -c " + name + " > " + name + ".gz");
			BOOST_CHECK_MESSAGE(inflate_all(d.read(name + ".gz")) == sv(span_of(d.read(name))), name + " -" + level);
		}
	// Two members read as one stream, as gzip -d reads them.
	d.sh("gzip -c text > two.gz && gzip -c one >> two.gz");
	BOOST_CHECK(inflate_all(d.read("two.gz")) == sv(span_of(d.read("text"))) + "a");
	// Stored blocks (gzip -1 keeps incompressible random data stored).
	// Stored blocks: level 0 of zlib's gzip wrapper.
	d.sh("python3 -c \"import zlib,sys; c=zlib.compressobj(0,8,31); sys.stdout.buffer.write(c.compress(b'x'*100000)+c.flush())\" > stored.gz");
	BOOST_CHECK(inflate_all(d.read("stored.gz")) == std::string(100000, 'x'));
}

BOOST_AUTO_TEST_CASE(inflate_refuses_corrupt_truncated_and_trailing_data)
{
	scratch_dir d;
	d.sh("seq 1 50000 > text && gzip -c text > t.gz");
	bytes gz = d.read("t.gz");
	bytes bad_crc = gz;
	bad_crc[gz.size() - 8] ^= 1;
	BOOST_CHECK_EQUAL(inflate_all(bad_crc), "error: CRC-32 mismatch");
	bytes bad_len = gz;
	bad_len[gz.size() - 1] ^= 1;
	BOOST_CHECK_EQUAL(inflate_all(bad_len), "error: length mismatch");
	BOOST_CHECK_EQUAL(inflate_all(bytes(gz.begin(), gz.begin() + long(gz.size() / 2))), "error: truncated gzip data");
	bytes trailing = gz;
	trailing.push_back('x');
	BOOST_CHECK_EQUAL(inflate_all(trailing), "error: data after the last gzip member");
	BOOST_CHECK_EQUAL(inflate_all(bytes{'n', 'o', 't', ' ', 'g', 'z', 'i', 'p', 0, 0, 0}), "error: not gzip data");
	bytes bad_block = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x07}; // final block of reserved type 3
	BOOST_CHECK_EQUAL(inflate_all(bad_block), "error: bad deflate block");
	// A distance past the start: fixed block, literal 'a', then length 3 distance 2.
	bytes far = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x4b, 0x04, 0x42, 0x00, 0, 0, 0, 0, 0, 0, 0, 0};
	BOOST_CHECK_EQUAL(inflate_all(far), "error: back-reference before the start of the data");
	// Every single-byte corruption of a small stream ends in an error or a checked result.
	bytes small = d.read("t.gz");
	small.resize(std::min<size_t>(small.size(), 600));
	for (size_t i = 0; i < small.size(); i++) {
		bytes c = small;
		c[i] ^= 0x5a;
		inflate_all(c); // ASan and UBSan watch this
	}
}

BOOST_AUTO_TEST_SUITE_END()

// ---- zstd ------------------------------------------------------------------------

namespace {

// Everything the decoder produces, or "error: ... at N".
std::string unzstd(const bytes &z)
{
	auto in = std::make_unique<zstd::decoder>(span_of(z));
	std::string out;
	for (auto chunk = in->next(); !chunk.empty(); chunk = in->next())
		out += sv(chunk);
	if (in->err() != zstd::error::none)
		return std::string("error: ") + zstd::error_text(in->err()) + " at " + std::to_string(in->err_offset());
	BOOST_CHECK_EQUAL(in->total(), out.size());
	return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(zstd_decoder)

BOOST_AUTO_TEST_CASE(decodes_zstd_output_of_every_level_long_mode_and_small_windows)
{
	scratch_dir d;
	d.sh("(head -c 100000 /dev/urandom | base64; seq 1 60000; head -c 50000 /dev/urandom; seq 1 20000 | rev) > mix"
	     " && : > empty && printf a > one && head -c 70000 /dev/zero > zeros");
	std::string mix = sv(span_of(d.read("mix")));
	for (int level = 1; level <= 19; level++) {
		std::string l = std::to_string(level);
		d.sh("zstd -q -f -" + l + " mix -o mix." + l + ".zst"); // content size known: one segment or a window
		BOOST_CHECK_MESSAGE(unzstd(d.read("mix." + l + ".zst")) == mix, "level " + l);
	}
	// Read from a pipe (no content size, a window descriptor), the window far smaller than
	// the data so the history wraps; long mode; no checksum; tiny and RLE-friendly inputs.
	for (std::string flags : {"-3 --zstd=wlog=10", "-19 --zstd=wlog=12", "--long=27 -5", "--no-check -1", "-1 -B4096", "--ultra -22"}) {
		d.sh("cat mix mix | zstd -q " + flags + " -c > piped.zst");
		BOOST_CHECK_MESSAGE(unzstd(d.read("piped.zst")) == mix + mix, flags);
	}
	for (std::string name : {"empty", "one", "zeros"}) {
		d.sh("zstd -q -f " + name + " -o " + name + ".zst");
		BOOST_CHECK_MESSAGE(unzstd(d.read(name + ".zst")) == sv(span_of(d.read(name))), name);
	}
	// Several frames and a skippable frame between them (zstd:chunked), as zstd -d reads them.
	d.sh("zstd -q -c one > multi.zst && printf 'P*M\\030\\005\\000\\000\\000hello' >> multi.zst && zstd -q -c mix >> multi.zst");
	BOOST_CHECK(unzstd(d.read("multi.zst")) == "a" + mix);
	BOOST_CHECK(zstd::is_zstd(span_of(d.read("multi.zst"))));
}

BOOST_AUTO_TEST_CASE(decodes_a_hand_made_frame_with_repeat_offsets)
{
	// One compressed block: the raw literal "a", then one sequence with RLE tables (literal
	// length 1, offset code 0 = repeat offset 1 here, match length 3).
	// A 1 KiB window and a 4-byte content size, then the block at 13.
	bytes z = {0x28, 0xb5, 0x2f, 0xfd, 0x80, 0, 4, 0, 0, 0, 0x45, 0, 0, 0x08, 'a', 1, 0x54, 1, 0, 0, 0x01};
	BOOST_CHECK_EQUAL(unzstd(z), "aaaa");
	bytes far = z;
	far[18] = 5, far[20] = 0x20; // offset code 5: offset 29, before the frame's start
	BOOST_CHECK_EQUAL(unzstd(far), "error: back-reference outside the zstd window at 15");
	bytes repeat = z;
	repeat[16] = 0xfc; // every table "the previous block's", in the first block
	BOOST_CHECK_EQUAL(unzstd(repeat), "error: bad zstd FSE or Huffman table at 15");
	bytes left = z;
	left[20] = 0x03; // a bit the sequences leave unread
	BOOST_CHECK_EQUAL(unzstd(left), "error: bad zstd sequences at 15");
	bytes size = z;
	size[6] = 5; // the header says five bytes
	BOOST_CHECK_EQUAL(unzstd(size), "error: zstd content size mismatch at 21");
	bytes big = z;
	big[11] = 0x20, big[12] = 0x40; // a block larger than the 1 KiB window
	BOOST_CHECK_EQUAL(unzstd(big), "error: bad zstd block at 10");
}

BOOST_AUTO_TEST_CASE(refuses_corrupt_truncated_dictionary_and_trailing_data_with_the_offset)
{
	scratch_dir d;
	d.sh("seq 1 50000 > text && zstd -q -c text > t.zst");
	bytes z = d.read("t.zst");
	bytes bad_magic = z;
	bad_magic[0] ^= 1;
	BOOST_CHECK_EQUAL(unzstd(bad_magic), "error: not zstd data at 0");
	bytes bad_sum = z;
	bad_sum[z.size() - 1] ^= 1;
	BOOST_CHECK_EQUAL(unzstd(bad_sum), "error: zstd content checksum mismatch at " + std::to_string(z.size() - 4));
	BOOST_CHECK_EQUAL(unzstd(bytes(z.begin(), z.begin() + 100)).substr(0, 27), "error: truncated zstd data ");
	BOOST_CHECK_EQUAL(unzstd(bytes{}), "error: truncated zstd data at 0");
	bytes trailing = z;
	trailing.insert(trailing.end(), {'j', 'u', 'n', 'k'});
	BOOST_CHECK_EQUAL(unzstd(trailing), "error: data after the last zstd frame at " + std::to_string(z.size()));
	BOOST_CHECK_EQUAL(unzstd({0x28, 0xb5, 0x2f, 0xfd, 0x21, 7, 0}), "error: zstd frame needs a dictionary (not supported) at 0");
	BOOST_CHECK_EQUAL(unzstd({0x28, 0xb5, 0x2f, 0xfd, 0xa8 >> 8, 0xa8, 1, 0, 0}), "error: zstd window larger than 128 MiB at 0");
	BOOST_CHECK_EQUAL(unzstd({0x28, 0xb5, 0x2f, 0xfd, 0x08, 0x50, 1, 0, 0}), "error: bad zstd frame header at 4");
	BOOST_CHECK_EQUAL(unzstd({0x28, 0xb5, 0x2f, 0xfd, 0x20, 0, 0x07, 0, 0}), "error: bad zstd block at 6");
	// Every single-byte corruption of a small frame ends in an error or a checked result.
	bytes small = z;
	small.resize(std::min<size_t>(small.size(), 800));
	for (size_t i = 0; i < small.size(); i++) {
		bytes c = small;
		c[i] ^= 0x5a;
		unzstd(c); // ASan and UBSan watch this
	}
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(printf_subset)

// format.hpp replaces musl's printf in the binary: each conversion the launcher uses,
// against glibc's snprintf.
#define SAME_AS_GLIBC(...)                                                                  \
	do {                                                                                    \
		char ours[128], theirs[128];                                                        \
		size_t n = format::format(ours, sizeof ours, __VA_ARGS__);                         \
		int m = snprintf(theirs, sizeof theirs, __VA_ARGS__);                               \
		BOOST_CHECK_EQUAL(std::string(ours), std::string(theirs));                         \
		BOOST_CHECK_EQUAL(n, size_t(m));                                                    \
	} while (0)

BOOST_AUTO_TEST_CASE(every_conversion_the_launcher_uses)
{
	SAME_AS_GLIBC("plain text");
	SAME_AS_GLIBC("%s|%-8s|%8s|%.3s|%.*s|%8.*s", "abc", "left", "right", "truncated", 2, "xyz", 1, "wide");
	SAME_AS_GLIBC("%d %d %d %u %x %08x %c %%", 0, -42, 2147483647, 4294967295u, 0xbeefu, 0x1fu, 'q');
	SAME_AS_GLIBC("%zu %ld %lu %llu %lld %4ld.%03ld", size_t(123456789), -5L, 18446744073709551615ul, 7ull, -9223372036854775807ll, 12L, 7L);
	SAME_AS_GLIBC("%-71s|%12s|%-30s|", "sha256:x", "-", "  -u, --user USER");
	SAME_AS_GLIBC("%05d|%-5d|%5d", -42, -42, -42);
	// Truncation: the length it would have had, and a NUL within the buffer.
	char small[5];
	BOOST_CHECK_EQUAL(format::format(small, sizeof small, "%s-%d", "abcdef", 12), 9u);
	BOOST_CHECK_EQUAL(std::string(small), "abcd");
	BOOST_CHECK_EQUAL(format::format(nullptr, 0, "%s", "counted"), 7u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(json_reader)

json::error parse_error(const std::string &text)
{
	return json::parse(text, {}).err;
}

BOOST_AUTO_TEST_CASE(valid_documents)
{
	for (const char *t : {"{}", "[]", "0", "-0.5e+3", "\"\"", "true", "null", " [1, [2, {}], {\"a\": []}] ",
			      "{\"a\":{\"b\":[1,2,3]},\"c\":\"\\u00e9\\ud83d\\ude00\\n\"}"})
		BOOST_TEST(int(parse_error(t)) == int(json::error::none), t);
}

BOOST_AUTO_TEST_CASE(invalid_documents)
{
	struct {
		const char *text;
		json::error want;
	} cases[] = {
		{"", json::error::partial},         {"{", json::error::partial},
		{"[1,", json::error::partial},      {"\"abc", json::error::partial},
		{"tru", json::error::partial},      {"[1,]", json::error::invalid},
		{"{\"a\"}", json::error::invalid},  {"{\"a\":1,}", json::error::invalid},
		{"01", json::error::invalid},       {"1.", json::error::partial},
		{"[1 2]", json::error::invalid},    {"\"\\x\"", json::error::invalid},
		{"\"\\u12g4\"", json::error::invalid}, {"\"a\nb\"", json::error::invalid},
		{"{} {}", json::error::invalid},    {"nul", json::error::partial},
		{"[truex]", json::error::invalid},  {"{1:2}", json::error::invalid},
	};
	for (auto &c : cases)
		BOOST_TEST(int(parse_error(c.text)) == int(c.want), c.text);
	std::string deep(json::max_depth + 1, '[');
	BOOST_TEST(int(parse_error(deep)) == int(json::error::too_deep));
	std::string ok(json::max_depth, '[');
	ok += std::string(json::max_depth, ']');
	BOOST_TEST(int(parse_error(ok)) == int(json::error::none));
}

BOOST_AUTO_TEST_CASE(counting_then_reading)
{
	std::string text = R"({"a": [1, "two", {"x": null}], "b": true, "c": "q\"uote"})";
	json::result counted = json::parse(text, {});
	BOOST_TEST(counted.count == 12u); // keys are tokens too
	std::vector<json::token> few(3);
	BOOST_TEST(int(json::parse(text, few).err) == int(json::error::nomem));
	std::vector<json::token> tokens(counted.count);
	BOOST_REQUIRE(json::parse(text, tokens).err == json::error::none);
	json::document doc{text, tokens};
	json::value root{&doc, 0};
	BOOST_TEST(root.size() == 3u);
	BOOST_TEST(root["a"].size() == 3u);
	BOOST_TEST(root["a"][1].raw() == "two");
	BOOST_TEST(root["a"][2]["x"].is(json::kind::null));
	BOOST_TEST(!root["a"][3]);
	BOOST_TEST(!root["zz"]);
	BOOST_TEST(root["b"].raw() == "true");
	char buf[32];
	BOOST_TEST(json::unescape(root["c"].raw(), buf) == "q\"uote");
	int n = 0;
	root["a"].each([&](json::value) { n++; });
	BOOST_TEST(n == 3);
}

BOOST_AUTO_TEST_CASE(unescape_to_utf8)
{
	char buf[64];
	BOOST_TEST(json::unescape(R"(a\/b\\c\t\u00e9\u20ac\ud83d\ude00)", buf) ==
		   "a/b\\c\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	BOOST_TEST(json::unescape(R"(\ud800x)", buf) == "\xef\xbf\xbdx"); // lone surrogate
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(image_documents)

BOOST_AUTO_TEST_CASE(docker_save_manifest)
{
	std::string m = R"([{"Config":"abc.json","RepoTags":["busybox:latest"],"Layers":["l1/layer.tar","l\/2/layer.tar"]}])";
	std::vector<char> store;
	std::vector<image::manifest> out;
	image::problem p = image::parse_manifest(m, store, out);
	BOOST_REQUIRE(!p);
	BOOST_REQUIRE(out.size() == 1u);
	BOOST_TEST(std::string(out[0].config) == "abc.json");
	BOOST_REQUIRE(out[0].layers.size() == 2u);
	BOOST_TEST(std::string(out[0].layers[1]) == "l/2/layer.tar");
	BOOST_TEST(std::string(out[0].tags[0]) == "busybox:latest");
}

BOOST_AUTO_TEST_CASE(bad_manifests)
{
	for (const char *m : {"{}", "[]", "[1]", "[{\"Layers\":[]}]", "[{\"Config\":5}]",
			      "[{\"Config\":\"c\",\"Layers\":[1]}]", "[{\"Config\":\"c\"", "not json"}) {
		std::vector<char> store;
		std::vector<image::manifest> out;
		BOOST_TEST(bool(image::parse_manifest(m, store, out)), m);
	}
}

BOOST_AUTO_TEST_CASE(config_fields)
{
	std::string c = R"({"architecture":"amd64","config":{"Entrypoint":["/bin/sh","-c"],"Cmd":null,)"
			R"("Env":["PATH=/bin","A=b=c"],"WorkingDir":"/w","User":"1000:1000","ExposedPorts":{"80/tcp":{},"53/udp":{}}},)"
			R"("rootfs":{"type":"layers","diff_ids":["sha256:aa","sha256:bb"]},"history":[{}]})";
	std::vector<char> store;
	image::config cfg;
	BOOST_REQUIRE(!image::parse_config(c, store, cfg));
	BOOST_REQUIRE(cfg.entrypoint.size() == 2u);
	BOOST_TEST(std::string(cfg.entrypoint[1]) == "-c");
	BOOST_TEST(cfg.cmd.empty());
	BOOST_TEST(std::string(cfg.env[1]) == "A=b=c");
	BOOST_TEST(std::string(cfg.workdir) == "/w");
	BOOST_TEST(std::string(cfg.user) == "1000:1000");
	BOOST_REQUIRE(cfg.diff_ids.size() == 2u);
	BOOST_TEST(std::string(cfg.diff_ids[1]) == "sha256:bb");
	BOOST_REQUIRE(cfg.exposed_ports.size() == 2u);
	BOOST_TEST(std::string(cfg.exposed_ports[0]) == "80/tcp");
	BOOST_TEST(std::string(cfg.exposed_ports[1]) == "53/udp");

	image::config empty;
	BOOST_REQUIRE(!image::parse_config("{}", store, empty));
	BOOST_TEST(empty.entrypoint.empty());
	BOOST_TEST(std::string(empty.workdir).empty());
	image::config bad;
	BOOST_TEST(bool(image::parse_config(R"({"config":{"Cmd":"sh"}})", store, bad)));
	BOOST_TEST(bool(image::parse_config(R"({"config":{"Env":[1]}})", store, bad)));
	BOOST_TEST(bool(image::parse_config(R"([])", store, bad)));
	BOOST_TEST(bool(image::parse_config(R"({"config":{"ExposedPorts":["80/tcp"]}})", store, bad)));
}

BOOST_AUTO_TEST_CASE(digests_and_env)
{
	std::string hex(64, 'a');
	BOOST_TEST(image::digest_hex(hex + ".json") == hex);
	BOOST_TEST(image::digest_hex("blobs/sha256/" + hex) == hex);
	BOOST_TEST(image::digest_hex("sha256:" + hex) == hex);
	BOOST_TEST(image::digest_hex("config.json").empty());
	BOOST_TEST(image::digest_hex(std::string(64, 'G')).empty());

	std::vector<const char *> env = {"PATH=/bin", "A=1"};
	image::set_env(env, "A=2");
	image::set_env(env, "AB=3");
	BOOST_REQUIRE(env.size() == 3u);
	BOOST_TEST(std::string(env[1]) == "A=2");
	BOOST_TEST(std::string(image::get_env(env, "AB")) == "3");
	BOOST_TEST(image::get_env(env, "P") == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(image_resolution)

// An archive's members by name, for image::resolve; blobs are named by their digests.
struct archive {
	std::map<std::string, std::string> files;
	std::string blob(const std::string &content)
	{
		char hex[65];
		sha256::digest({reinterpret_cast<const unsigned char *>(content.data()), content.size()}, hex);
		files["blobs/sha256/" + std::string(hex)] = content;
		return hex;
	}
	std::string desc(const std::string &type, const std::string &content, const std::string &extra = "")
	{
		std::string hex = blob(content);
		return R"({"mediaType":")" + type + R"(","digest":"sha256:)" + hex + R"(","size":)" +
		       std::to_string(content.size()) + extra + "}";
	}
	bool resolve(image::resolution &r, const char *want = nullptr)
	{
		auto find = [&](std::string_view name) {
			auto it = files.find(std::string(name));
			return it == files.end() ? std::span<const unsigned char>{}
						 : std::span<const unsigned char>(reinterpret_cast<const unsigned char *>(it->second.data()), it->second.size());
		};
		return image::resolve(find, want, sha256::digest, r);
	}
};

const std::string layer_a = "layer a (stands for a tar)", layer_b = "layer b";

std::string config_for(archive &a, const std::string &user = "")
{
	char ha[65], hb[65];
	sha256::digest({reinterpret_cast<const unsigned char *>(layer_a.data()), layer_a.size()}, ha);
	sha256::digest({reinterpret_cast<const unsigned char *>(layer_b.data()), layer_b.size()}, hb);
	(void)a;
	return R"({"config":{"Cmd":["sh"],"User":")" + user + R"("},"rootfs":{"type":"layers","diff_ids":["sha256:)" +
	       std::string(ha) + R"(","sha256:)" + hb + R"("]}})";
}

// An OCI layout whose index.json holds a nested index with an arm64 and an amd64 manifest.
archive nested_oci()
{
	archive a;
	std::string cfg = a.desc("application/vnd.oci.image.config.v1+json", config_for(a, "amd64-user"));
	std::string layers = "[" + a.desc("application/vnd.oci.image.layer.v1.tar", layer_a) + "," +
			     a.desc("application/vnd.oci.image.layer.v1.tar", layer_b) + "]";
	std::string amd64 = R"({"schemaVersion":2,"config":)" + cfg + R"(,"layers":)" + layers + "}";
	std::string arm64 = R"({"schemaVersion":2,"config":)" + a.desc("application/vnd.oci.image.config.v1+json", config_for(a, "arm")) +
			    R"(,"layers":[]})";
	std::string inner = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
			    a.desc("application/vnd.oci.image.manifest.v1+json", arm64, R"(,"platform":{"os":"linux","architecture":"arm64"})") + "," +
			    a.desc("application/vnd.oci.image.manifest.v1+json", amd64, R"(,"platform":{"os":"linux","architecture":"amd64"})") + "]}";
	a.files["index.json"] = R"({"schemaVersion":2,"manifests":[)" +
				a.desc("application/vnd.oci.image.index.v1+json", inner,
				       R"(,"annotations":{"io.containerd.image.name":"docker.io/library/busybox:1.36","org.opencontainers.image.ref.name":"1.36"})") +
				"]}";
	return a;
}

BOOST_AUTO_TEST_CASE(names_match_as_docker_spells_them)
{
	using image::detail::name_matches;
	BOOST_TEST(name_matches("busybox:latest", "busybox"));
	BOOST_TEST(name_matches("docker.io/library/busybox:latest", "busybox"));
	BOOST_TEST(name_matches("busybox:1.36", "docker.io/library/busybox:1.36"));
	BOOST_TEST(name_matches("latest", "busybox")); // an OCI ref.name that is a bare tag
	BOOST_TEST(name_matches("1.36", "busybox:1.36"));
	BOOST_TEST(!name_matches("busybox:1.36", "busybox"));
	BOOST_TEST(!name_matches("busybox:latest", "busy"));
	BOOST_TEST(!name_matches("localhost:5000/x:latest", "x"));
}

BOOST_AUTO_TEST_CASE(nested_index_picks_linux_amd64)
{
	archive a = nested_oci();
	auto r = std::make_unique<image::resolution>();
	BOOST_REQUIRE_MESSAGE(a.resolve(*r), r->why);
	BOOST_TEST(std::string(r->config.user) == (image::host_arch == "amd64" ? "amd64-user" : "arm"));
	BOOST_TEST(std::string(r->name) == "docker.io/library/busybox:1.36");
	BOOST_REQUIRE(r->layers.size() == 2u);
	BOOST_TEST(r->layers[0].blob == r->layers[0].diff_id); // uncompressed: blob is the tar
	BOOST_TEST(std::string(r->layers[1].media_type) == "application/vnd.oci.image.layer.v1.tar");
	auto chosen = std::make_unique<image::resolution>();
	BOOST_TEST(a.resolve(*chosen, "busybox:1.36"));
	auto wrong = std::make_unique<image::resolution>();
	BOOST_TEST(!a.resolve(*wrong, "busybox:1.35"));
	BOOST_TEST(std::string(wrong->why) == "has no image busybox:1.35 (it holds docker.io/library/busybox:1.36)");
}

BOOST_AUTO_TEST_CASE(lies_are_refused_by_digest_size_or_count)
{
	{ // a blob whose content is not what its name says
		archive a = nested_oci();
		for (auto &[name, content] : a.files)
			if (content == layer_b)
				content = "layer B";
		auto r = std::make_unique<image::resolution>();
		BOOST_TEST(a.resolve(*r)); // layers are the caller's to check, as it unpacks them
	}
	{
		archive a = nested_oci();
		for (auto &[name, content] : a.files)
			if (content.find("\"diff_ids\"") != std::string::npos)
				content[2] = 'C';
		auto r = std::make_unique<image::resolution>();
		BOOST_TEST(!a.resolve(*r));
		BOOST_TEST(std::string(r->why).find("content has digest sha256:") != std::string::npos);
	}
	{ // a descriptor's size that lies
		archive a = nested_oci();
		a.files["index.json"].replace(a.files["index.json"].find("\"size\":") + 7, 1, "9");
		auto r = std::make_unique<image::resolution>();
		BOOST_TEST(!a.resolve(*r));
		BOOST_TEST(std::string(r->why).find("its descriptor says") != std::string::npos);
	}
	{ // a digest of another algorithm
		archive a = nested_oci();
		a.files["index.json"].replace(a.files["index.json"].find("sha256:"), 7, "sha512:");
		auto r = std::make_unique<image::resolution>();
		BOOST_TEST(!a.resolve(*r));
		BOOST_TEST(std::string(r->why).find("unsupported digest sha512:") != std::string::npos);
	}
	{ // a missing blob
		archive a = nested_oci();
		for (auto it = a.files.begin(); it != a.files.end(); ++it)
			if (it->second == layer_a) {
				a.files.erase(it);
				break;
			}
		auto r = std::make_unique<image::resolution>();
		BOOST_TEST(!a.resolve(*r));
		BOOST_TEST(std::string(r->why).find("is missing (named by digest sha256:") != std::string::npos);
	}
	{ // diff_ids that do not match the layers in number
		archive a;
		std::string cfg = R"({"rootfs":{"diff_ids":[]}})";
		std::string cfg_hex = a.blob(cfg);
		a.files["l.tar"] = layer_a;
		a.files["manifest.json"] = R"([{"Config":"blobs/sha256/)" + cfg_hex + R"(","RepoTags":["x:1"],"Layers":["l.tar"]}])";
		auto r = std::make_unique<image::resolution>();
		BOOST_TEST(!a.resolve(*r));
		BOOST_TEST(std::string(r->why).find("rootfs.diff_ids has 0 entries for 1 layers") != std::string::npos);
	}
	{ // nested indexes that loop back on themselves end at a depth
		archive a;
		std::string self = R"({"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]})";
		a.files["index.json"] = R"({"manifests":[)" + a.desc("application/vnd.oci.image.index.v1+json", self) + "]}";
		auto r = std::make_unique<image::resolution>();
		BOOST_TEST(!a.resolve(*r));
		BOOST_TEST(std::string(r->why).find("no manifest for linux/") != std::string::npos);
	}
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(flags)

// The parsed command refers to argv, as to main's: each argv the tests build stays alive.
std::vector<std::vector<const char *>> argvs;

options::parsed parse(std::vector<const char *> args, bool ok = true)
{
	args.insert(args.begin(), "launcher");
	const std::vector<const char *> &argv = argvs.emplace_back(std::move(args));
	options::parsed o;
	BOOST_TEST(options::parse(int(argv.size()), const_cast<char *const *>(argv.data()), o) == ok);
	return o;
}

BOOST_AUTO_TEST_CASE(progress_modes)
{
	BOOST_TEST(std::string(parse({"img.tar"}).progress) == "auto");
	BOOST_TEST(std::string(parse({"--progress", "plain", "img.tar"}).progress) == "plain");
	BOOST_TEST(std::string(parse({"--progress=none", "img.tar"}).progress) == "none");
	BOOST_TEST(std::string(parse({"--progress", "bar", "img.tar"}, false).error) == "flag --progress takes auto, plain or none");
}

BOOST_AUTO_TEST_CASE(docker_run_spelling)
{
	auto o = parse({"-h", "box", "-e", "A=1", "--env=B", "-eC=3", "-w", "/w", "--entrypoint", "/bin/sh",
			"--verbose", "--rm", "-i", "img.tar", "-c", "echo hi", "--verbose"});
	BOOST_TEST(std::string(o.hostname) == "box");
	BOOST_REQUIRE(o.env.size() == 3u);
	BOOST_TEST(std::string(o.env[1]) == "B");
	BOOST_TEST(std::string(o.env[2]) == "C=3");
	BOOST_TEST(std::string(o.workdir) == "/w");
	BOOST_TEST(std::string(o.entrypoint) == "/bin/sh");
	BOOST_TEST(o.verbose);
	BOOST_TEST(std::string(o.image) == "img.tar");
	// Words after the image belong to the command, flags included.
	BOOST_REQUIRE(o.command.size() == 3u);
	BOOST_TEST(std::string(o.command[2]) == "--verbose");
}

BOOST_AUTO_TEST_CASE(lifecycle_flags_and_their_spellings)
{
	auto o = parse({"-itd", "--name", "web", "--rm", "--restart", "on-failure:3", "img.tar"});
	BOOST_TEST((o.interactive && o.tty && o.detach && o.rm));
	BOOST_TEST(std::string(o.name) == "web");
	BOOST_TEST(std::string(o.restart) == "on-failure:3");
	o = parse({"-ti", "img.tar"});
	BOOST_TEST((o.interactive && o.tty && !o.detach));
	o = parse({"--tty=true", "--interactive=false", "-d=false", "img.tar"});
	BOOST_TEST((o.tty && !o.interactive && !o.detach));
	o = parse({"-ih", "box", "img.tar"}); // booleans first, then one flag that takes a value
	BOOST_TEST((o.interactive && std::string(o.hostname) == "box"));
	o = parse({"-itx", "img.tar"}, false);
	BOOST_TEST(std::string(o.error).find("unknown shorthand flag: 'x'") == 0);
	o = parse({"--name", "/web", "img.tar"}, false);
	BOOST_TEST(std::string(o.error).find("bad --name /web") == 0);
	o = parse({"--restart", "sometimes", "img.tar"}, false);
	BOOST_TEST(std::string(o.error).find("bad --restart sometimes") == 0);
}

BOOST_AUTO_TEST_CASE(errors_name_the_flag)
{
	auto o = parse({"--bogus", "img.tar"}, false);
	BOOST_TEST(std::string(o.error).find("--bogus") != std::string::npos);
	o = parse({"-v", "/a:/b", "img.tar"}); // -v is docker's --volume, not --verbose
	BOOST_REQUIRE(o.volumes.size() == 1u);
	BOOST_TEST(!o.verbose);
	o = parse({"--seccomp", "strict", "img.tar"}, false);
	BOOST_TEST(std::string(o.error).find("unconfined") != std::string::npos);
	o = parse({"--security-opt", "apparmor=x", "img.tar"}); // accepted: a note at the start
	BOOST_TEST(o.lsm_options.size() == 1u);
	o = parse({"--security-opt", "seccomp=", "img.tar"}, false);
	BOOST_TEST(std::string(o.error).find("bad --security-opt") == 0);
	o = parse({"--security-opt", "seccomp=/p.json", "--security-opt=no-new-privileges", "img.tar"});
	BOOST_TEST(o.seccomp);
	BOOST_TEST(std::string(o.seccomp_profile) == "/p.json");
	o = parse({"--security-opt", "seccomp=/p.json", "--security-opt", "seccomp=unconfined", "img.tar"});
	BOOST_TEST(!o.seccomp);
	BOOST_TEST(!o.seccomp_profile);
	o = parse({"--netns", "x", "--net", "red", "img.tar"}, false);
	BOOST_TEST(std::string(o.error).find("exclude") != std::string::npos);
	o = parse({"--hostname"}, false);
	BOOST_TEST(std::string(o.error).find("needs NAME") != std::string::npos);
	o = parse({"--verbose=yes", "img.tar"}, false);
	BOOST_TEST(std::string(o.error) == "invalid argument \"yes\" for \"--verbose\" flag: expected true or false");
	o = parse({}, false);
	BOOST_TEST(std::string(o.error).find("no image") != std::string::npos);
	o = parse({"--help"});
	BOOST_TEST(o.help);
	o = parse({"--", "-image-with-dash.tar"});
	BOOST_TEST(std::string(o.image) == "-image-with-dash.tar");
	o = parse({"--entrypoint=", "img.tar"});
	BOOST_TEST(std::string(o.entrypoint).empty());
}

// One field of a parsed command line, as text, for the tables below.
std::string field(const options::parsed &o, std::string_view name)
{
	auto text = [](const char *s) { return std::string(s ? s : "(unset)"); };
	auto list = [](const std::vector<const char *> &v) {
		std::string out;
		for (const char *s : v)
			out += (out.empty() ? "" : ",") + std::string(s);
		return out;
	};
	auto flag = [](bool b) { return std::string(b ? "true" : "false"); };
	char why[96];
	int64_t n = 0;
	if (name == "env") return list(o.env);
	if (name == "volumes") return list(o.volumes);
	if (name == "image") return text(o.image);
	if (name == "command") return list({o.command.begin(), o.command.end()});
	if (name == "hostname") return text(o.hostname);
	if (name == "workdir") return text(o.workdir);
	if (name == "rm") return flag(o.rm);
	if (name == "detach") return flag(o.detach);
	if (name == "tty") return flag(o.tty);
	if (name == "itd") return flag(o.interactive) + flag(o.tty) + flag(o.detach);
	if (name == "interactive") return flag(o.interactive);
	if (name == "privileged") return flag(o.privileged);
	if (name == "read_only") return flag(o.read_only);
	if (name == "userns") return flag(o.userns);
	if (name == "verbose") return flag(o.verbose);
	if (name == "memory") return o.memory && options::parse_size(o.memory, n, why, sizeof why) ? std::to_string(n) : "(unset)";
	if (name == "pids_limit") return o.pids_limit && options::parse_int(o.pids_limit, n) ? std::to_string(n) : "(unset)";
	return "(no such field)";
}

// Each spelling as docker's parser (spf13/pflag, go-units, docker's opts) reads it: the
// value it gives, or, for a refused one, the launcher's one-line error.
BOOST_AUTO_TEST_CASE(spellings_as_docker_reads_them)
{
	struct accepted {
		std::vector<const char *> args;
		const char *field, *value;
	} accepts[] = {
		{{"-e=A=1", "img"}, "env", "A=1"}, // pflag drops the '=' after a letter
		{{"-eA=1", "img"}, "env", "A=1"},
		{{"-e", "A=1", "img"}, "env", "A=1"},
		{{"--env=A=1", "img"}, "env", "A=1"},
		{{"--env", "A==1", "img"}, "env", "A==1"},
		{{"-e", "A", "img"}, "env", "A"},
		{{"-e", "A=", "img"}, "env", "A="},
		{{"-ie", "A=1", "img"}, "env", "A=1"},
		{{"-ieA=1", "img"}, "interactive", "true"},
		{{"-ie=A=1", "img"}, "env", "A=1"},
		{{"-iw/w", "img"}, "workdir", "/w"},
		{{"-iv", "/a:/b", "img"}, "volumes", "/a:/b"},
		{{"-i=false", "img"}, "interactive", "false"},
		{{"-itd", "img"}, "itd", "truetruetrue"},
		{{"-dit", "img"}, "itd", "truetruetrue"},
		{{"-it", "img"}, "itd", "truetruefalse"},
		{{"-i", "-t", "-d", "img"}, "itd", "truetruetrue"},
		{{"-itd=false", "img"}, "itd", "truetruefalse"},
		{{"-d", "--detach=false", "img"}, "detach", "false"},
		{{"--tty=true", "img"}, "tty", "true"},
		{{"-dite", "A=1", "img"}, "env", "A=1"},
		{{"-dteA=1", "img"}, "env", "A=1"},
		{{"-i", "-i=0", "img"}, "interactive", "false"},
		{{"--rm", "img"}, "rm", "true"},
		{{"--rm=false", "img"}, "rm", "false"},
		{{"--rm=true", "--rm=False", "img"}, "rm", "false"},
		{{"--rm", "false"}, "image", "false"}, // a boolean takes no next word: "false" is the image
		{{"--privileged=true", "img"}, "privileged", "true"},
		{{"--privileged=1", "img"}, "privileged", "true"},
		{{"--privileged=t", "img"}, "privileged", "true"},
		{{"--read-only=TRUE", "img"}, "read_only", "true"},
		{{"--verbose=f", "img"}, "verbose", "false"},
		{{"--userns", "img"}, "userns", "true"},
		{{"--userns=host", "img"}, "userns", "false"},
		{{"--userns", "host", "img"}, "image", "img"},
		{{"--userns=false", "img"}, "userns", "false"},
		{{"-h", "box", "img"}, "hostname", "box"},
		{{"-hbox", "img"}, "hostname", "box"},
		{{"-h=box", "img"}, "hostname", "box"},
		{{"--hostname=", "img"}, "hostname", ""},
		{{"--hostname", "-e", "img"}, "hostname", "-e"}, // a value may begin with '-'
		{{"-m", "1.5g", "img"}, "memory", "1610612736"},
		{{"--memory=512MiB", "img"}, "memory", "536870912"},
		{{"-m1g", "img"}, "memory", "1073741824"},
		{{"-m", "64 MB", "img"}, "memory", "67108864"},
		{{"-m", "7000000", "img"}, "memory", "7000000"},
		{{"-m", "0", "img"}, "memory", "0"}, // docker's "no limit"
		{{"--pids-limit", "-1", "img"}, "pids_limit", "-1"},
		{{"--pids-limit=-1", "img"}, "pids_limit", "-1"},
		{{"--pids-limit", "0x10", "img"}, "pids_limit", "16"},
		{{"--pids-limit", "100", "img"}, "pids_limit", "100"},
		{{"-i", "--", "-image.tar", "--rm"}, "command", "--rm"},
	};
	for (const accepted &a : accepts) {
		BOOST_TEST_CONTEXT(a.args[0] << " " << (a.args.size() > 1 ? a.args[1] : "")) {
			options::parsed o = parse(a.args);
			BOOST_TEST(o.error == "");
			BOOST_TEST(field(o, a.field) == a.value);
		}
	}
	struct refused {
		std::vector<const char *> args;
		const char *error;
	} refusals[] = {
		{{"-e", "=x", "img"}, "invalid argument \"=x\" for \"-e, --env\" flag: invalid environment variable: =x"},
		{{"-e=", "img"}, "invalid argument \"=\" for \"-e, --env\" flag: invalid environment variable: ="},
		{{"--env=", "img"}, "invalid argument \"\" for \"-e, --env\" flag: invalid environment variable: "},
		{{"--rm=yes", "img"}, "invalid argument \"yes\" for \"--rm\" flag: expected true or false"},
		{{"--privileged=", "img"}, "invalid argument \"\" for \"--privileged\" flag: expected true or false"},
		{{"-i=", "img"}, "unknown shorthand flag: '=' in -i= (see --help)"},
		{{"-ix", "img"}, "unknown shorthand flag: 'x' in -ix (see --help)"},
		{{"-itx", "img"}, "unknown shorthand flag: 'x' in -itx (see --help)"},
		{{"-t=maybe", "img"}, "invalid argument \"maybe\" for \"-t, --tty\" flag: expected true or false"},
		{{"-e"}, "flag -e needs KEY[=VALUE]"},
		{{"-ie"}, "flag -e needs KEY[=VALUE]"},
		{{"--env"}, "flag --env needs KEY[=VALUE]"},
		{{"-m", "lots", "img"}, "invalid argument \"lots\" for \"-m, --memory\" flag: invalid size: 'lots'"},
		{{"-m", "1x", "img"}, "invalid argument \"1x\" for \"-m, --memory\" flag: invalid suffix: 'x'"},
		{{"-m", "1kbb", "img"}, "invalid argument \"1kbb\" for \"-m, --memory\" flag: invalid suffix: 'kbb'"},
		{{"-m", "-1", "img"}, "invalid argument \"-1\" for \"-m, --memory\" flag: invalid size: '-1'"},
		{{"-m", "4m", "img"}, "bad --memory 4m: the minimum memory limit allowed is 6MB"},
		{{"--pids-limit", "1k", "img"}, "invalid argument \"1k\" for \"--pids-limit\" flag: expected a whole number (-1: unlimited)"},
		{{"--pids-limit", "", "img"}, "invalid argument \"\" for \"--pids-limit\" flag: expected a whole number (-1: unlimited)"},
		{{"--bogus", "img"}, "unknown flag: --bogus (see --help)"},
		{{"--privleged", "img"}, "unknown flag: --privleged (did you mean --privileged?)"},
		{{"--priv", "img"}, "unknown flag: --priv (did you mean --privileged?)"},
		{{"--hostnme=x", "img"}, "unknown flag: --hostnme (did you mean --hostname?)"},
		{{"--volumes", "/a:/b", "img"}, "unknown flag: --volumes (did you mean --volume?)"},
	};
	for (const refused &r : refusals) {
		BOOST_TEST_CONTEXT(r.args[0] << " " << (r.args.size() > 1 ? r.args[1] : "")) {
			options::parsed o = parse(r.args, false);
			BOOST_TEST(o.error == r.error);
		}
	}
}

// go-units' RAMInBytes, which docker reads --memory, --shm-size and tmpfs-size with.
BOOST_AUTO_TEST_CASE(sizes_as_go_units_reads_them)
{
	struct {
		const char *text;
		int64_t bytes;
	} sizes[] = {
		{"100", 100}, {"1b", 1}, {"1B", 1}, {"1k", 1024}, {"1K", 1024}, {"1kb", 1024}, {"1KiB", 1024},
		{"1.5g", 1610612736}, {"1.5G", 1610612736}, {"512MiB", 536870912}, {"512mb", 536870912},
		{"64 m", 67108864}, {"0.5k", 512}, {"1.5", 1}, {"2t", 2ll << 40}, {"1p", 1ll << 50}, {".5m", 524288},
		{"0", 0}, {"1e3", 1000}, {"1 ", 1}, {"0.1k", 102}, {"1.25e2k", 128000}, {"1e-3k", 1}, {"1.", 1},
		{"000001.00000000000000000000001k", 1024}, {"0e999", 0}, {"8.5e18", 8500000000000000000},
	};
	for (auto &s : sizes) {
		int64_t n = -7;
		char why[96] = "";
		BOOST_TEST_CONTEXT(s.text) {
			BOOST_TEST(options::parse_size(s.text, n, why, sizeof why));
			BOOST_TEST(n == s.bytes);
		}
	}
	struct {
		const char *text, *why;
	} bad[] = {
		{"", "invalid size: ''"}, {"g", "invalid size: 'g'"}, {"lots", "invalid size: 'lots'"},
		{"-1", "invalid size: '-1'"}, {"1x", "invalid suffix: 'x'"}, {"1bb", "invalid suffix: 'bb'"},
		{"1kx", "invalid suffix: 'kx'"}, {"1kib2", "invalid size: '1kib2'"}, {"1gibs", "invalid suffix: 'gibs'"},
		{"1.2.3", "invalid size: '1.2.3'"}, {"99999999999p", "invalid size: '99999999999p'"},
		{"1e400", "invalid size: '1e400'"}, {"9.3e18", "invalid size: '9.3e18'"}, {"1e", "invalid suffix: 'e'"},
		{".", "invalid size: '.'"}, {" 5", "invalid size: ' 5'"}, {"1_0", "invalid size: '1_0'"},
	};
	for (auto &b : bad) {
		int64_t n;
		char why[96] = "";
		BOOST_TEST_CONTEXT(b.text) {
			BOOST_TEST(!options::parse_size(b.text, n, why, sizeof why));
			BOOST_TEST(std::string(why) == b.why);
		}
	}
}

// -v, --mount and --tmpfs as docker reads them: each accepted form to its request, each
// refused one to its line.
BOOST_AUTO_TEST_CASE(volume_spellings)
{
	using volumes::kind;
	struct accepted {
		const char *flag, *arg;
		kind type;
		const char *source, *target;
		bool read_only;
		unsigned long propagation;
		const char *tmpfs_data;
	} accepts[] = {
		{"-v", "/a:/b", kind::bind, "/a", "/b", false, 0, ""},
		{"-v", "/a:/b:ro", kind::bind, "/a", "/b", true, 0, ""},
		{"-v", "/a:/b:rw,z", kind::bind, "/a", "/b", false, 0, ""},
		{"-v", "/a:/b:Z,ro,rshared", kind::bind, "/a", "/b", true, MS_SHARED | MS_REC, ""},
		{"-v", "/a:/dev/fuse:slave", kind::bind, "/a", "/dev/fuse", false, MS_SLAVE, ""},
		{"-v", "/a:/b:private", kind::bind, "/a", "/b", false, MS_PRIVATE, ""},
		{"-v", "data:/var/lib/x", kind::volume, "data", "/var/lib/x", false, 0, ""},
		{"-v", "data:/x:ro,nocopy", kind::volume, "data", "/x", true, 0, ""},
		{"-v", "/anon", kind::volume, "", "/anon", false, 0, ""},
		{"--mount", "type=bind,source=/a,target=/b,readonly", kind::bind, "/a", "/b", true, 0, ""},
		{"--mount", "type=bind,src=/a,dst=/b,ro=false,bind-propagation=rslave", kind::bind, "/a", "/b", false, MS_SLAVE | MS_REC, ""},
		{"--mount", "type=volume,source=v1,destination=/d,volume-nocopy", kind::volume, "v1", "/d", false, 0, ""},
		{"--mount", "type=volume,target=/d", kind::volume, "", "/d", false, 0, ""},
		{"--mount", "type=tmpfs,target=/t,tmpfs-size=1.5m,tmpfs-mode=1770", kind::tmpfs, "", "/t", false, 0, "size=1572864,mode=1770"},
		{"--tmpfs", "/run", kind::tmpfs, "", "/run", false, 0, ""},
		{"--tmpfs", "/run:size=64m,mode=1777,exec", kind::tmpfs, "", "/run", false, 0, "size=67108864,mode=1777"},
		{"--tmpfs", "/run:size=50%", kind::tmpfs, "", "/run", false, 0, "size=50%"},
	};
	for (const accepted &a : accepts) {
		BOOST_TEST_CONTEXT(a.flag << " " << a.arg) {
			volumes::request r;
			char err[256] = "";
			bool ok = std::string(a.flag) == "-v" ? volumes::parse_volume(a.arg, r, err, sizeof err)
				  : std::string(a.flag) == "--mount" ? volumes::parse_mount(a.arg, r, err, sizeof err)
								     : volumes::parse_tmpfs(a.arg, r, err, sizeof err);
			BOOST_TEST(ok);
			BOOST_TEST(std::string(err) == "");
			BOOST_TEST(int(r.type) == int(a.type));
			BOOST_TEST(r.source == a.source);
			BOOST_TEST(r.target == a.target);
			BOOST_TEST(r.read_only == a.read_only);
			BOOST_TEST(r.propagation == a.propagation);
			BOOST_TEST(std::string(r.tmpfs_data) == a.tmpfs_data);
		}
	}
	volumes::request r;
	char err[256];
	BOOST_TEST(volumes::parse_tmpfs("/run:exec", r, err, sizeof err));
	BOOST_TEST(!(r.tmpfs_flags & MS_NOEXEC)); // docker's default noexec, lifted
	struct refused {
		const char *flag, *arg, *error;
	} refusals[] = {
		{"-v", "/a:/b:bogus", "bad --volume /a:/b:bogus: invalid mode: bogus"},
		{"-v", "/a:/b:ro,rw", "bad --volume /a:/b:ro,rw: invalid mode: rw"},
		{"-v", "/a:/b:nocopy", "bad --volume /a:/b:nocopy: invalid mode: nocopy"},
		{"-v", "/a:b", "bad --volume /a:b: the container path must be absolute"},
		{"-v", "/a:/", "bad --volume /a:/: the container's root cannot be a mount target"},
		{"-v", "/a:/b:ro:x", "bad --volume /a:/b:ro:x: expected [SOURCE:]TARGET[:MODES]"},
		{"-v", "/x:ro", "bad --volume /x:ro: expected [SOURCE:]TARGET[:MODES]; an anonymous volume takes no mode"},
		{"-v", "./rel:/b", "bad --volume ./rel:/b: \"./rel\" is no volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]+) nor an absolute host path"},
		{"-v", ":/b", "bad --volume :/b: an empty source"},
		{"--mount", "source=/a,target=/b", "bad --mount source=/a,target=/b: type is required (bind, volume or tmpfs)"},
		{"--mount", "type=bind,source=/a", "bad --mount type=bind,source=/a: target is required"},
		{"--mount", "type=nfs,target=/b", "bad --mount type=nfs,target=/b: type nfs: expected bind, volume or tmpfs"},
		{"--mount", "type=bind,target=/b", "bad --mount type=bind,target=/b: a bind mount needs an absolute source"},
		{"--mount", "type=bind,source=/a,target=/b,bogus=1", "bad --mount type=bind,source=/a,target=/b,bogus=1: unexpected key 'bogus'"},
		{"--mount", "type=bind,source=/a,target=/b,bogus", "bad --mount type=bind,source=/a,target=/b,bogus: invalid field 'bogus' must be a key=value pair"},
		{"--mount", "type=tmpfs,target=/t,bind-propagation=shared", "bad --mount type=tmpfs,target=/t,bind-propagation=shared: an option of another type of mount"},
		{"--mount", "type=tmpfs,target=/t,tmpfs-size=lots", "bad --mount type=tmpfs,target=/t,tmpfs-size=lots: size: invalid size: 'lots'"},
		{"--mount", "type=bind,source=/a,target=/b,readonly=maybe", "bad --mount type=bind,source=/a,target=/b,readonly=maybe: readonly takes true or false"},
		{"--tmpfs", "run", "bad --tmpfs run: the container path must be absolute"},
		{"--tmpfs", "/run:bogus=1", "bad --tmpfs /run:bogus=1: unknown tmpfs option bogus=1"},
	};
	for (const refused &f : refusals) {
		BOOST_TEST_CONTEXT(f.flag << " " << f.arg) {
			volumes::request q;
			char e[256] = "";
			bool ok = std::string(f.flag) == "-v" ? volumes::parse_volume(f.arg, q, e, sizeof e)
				  : std::string(f.flag) == "--mount" ? volumes::parse_mount(f.arg, q, e, sizeof e)
								     : volumes::parse_tmpfs(f.arg, q, e, sizeof e);
			BOOST_TEST(!ok);
			BOOST_TEST(std::string(e) == f.error);
		}
	}
}

// docker's env-file format, its device cgroup rules, its namespaced sysctls, signal names.
BOOST_AUTO_TEST_CASE(env_files_rules_sysctls_signals)
{
	std::vector<std::string_view> lines;
	char err[160] = "";
	BOOST_TEST(container::key_value_lines("\xEF\xBB\xBF# comment\n  A=1 2 \r\n\nB\n\tC==x\n", lines, err, sizeof err));
	BOOST_REQUIRE(lines.size() == 3u);
	BOOST_TEST(lines[0] == "A=1 2 ");
	BOOST_TEST(lines[1] == "B");
	BOOST_TEST(lines[2] == "C==x");
	BOOST_TEST(!container::key_value_lines("A=1\n=x\n", lines, err, sizeof err));
	BOOST_TEST(std::string(err) == "line 2: no variable name");
	BOOST_TEST(!container::key_value_lines("A B=1\n", lines, err, sizeof err));
	BOOST_TEST(std::string(err) == "line 1: variable 'A B' contains whitespaces");

	security::device_rule r;
	BOOST_TEST(container::parse_device_rule("c 10:229 rwm", r));
	BOOST_TEST((r.type == 'c' && r.major == 10 && r.minor == 229 && r.access == security::dev_rwm));
	BOOST_TEST(container::parse_device_rule("b *:* m", r));
	BOOST_TEST((r.type == 'b' && r.major == -1 && r.minor == -1 && r.access == security::dev_m));
	for (const char *bad : {"c 10:229", "x 1:2 r", "c 1:2 rr", "c a:2 r", "c 1:2 rwmx", "c 4096:1 r", "c 1 r"})
		BOOST_TEST(!container::parse_device_rule(bad, r), bad);

	BOOST_TEST(!container::sysctl_refusal("net.ipv4.ip_forward", false, false, false));
	BOOST_TEST(std::string(container::sysctl_refusal("net.ipv4.ip_forward", true, false, false)) ==
		   "not allowed in the host's network namespace (--net host)");
	BOOST_TEST(!container::sysctl_refusal("kernel.shmmax", false, false, false));
	BOOST_TEST(!container::sysctl_refusal("fs.mqueue.msg_max", false, false, false));
	BOOST_TEST(container::sysctl_refusal("kernel.shmmax", false, true, false));
	BOOST_TEST(container::sysctl_refusal("vm.swappiness", false, false, false));
	BOOST_TEST(container::sysctl_refusal("kernel.pid_max", false, false, false));

	for (const char *good : {"::1", "fd00::1", "[fd00::1]", "2001:db8:0:0:0:0:0:1", "::ffff:10.1.2.3", "::", "fe80::1:2"})
		BOOST_TEST(container::valid_ipv6(good), good);
	for (const char *bad : {"fd00:::1", "1:2:3:4:5:6:7:8:9", "12345::", "fd00::1::2", "x::1", "1:2", "1::2:", ""})
		BOOST_TEST(!container::valid_ipv6(bad), bad);

	for (auto [name, number] : {std::pair{"SIGTERM", 15}, std::pair{"term", 15}, std::pair{"KILL", 9}, std::pair{"9", 9},
				    std::pair{"SIGRTMIN+3", 37}, std::pair{"RTMAX-1", 63}, std::pair{"SIGUSR1", 10}, std::pair{"BOGUS", 0},
				    std::pair{"0", 0}, std::pair{"65", 0}, std::pair{"", 0}})
		BOOST_TEST(options::signal_number(name) == number, name);
}

BOOST_AUTO_TEST_CASE(new_flags_spellings)
{
	struct refused {
		std::vector<const char *> args;
		const char *error;
	} refusals[] = {
		{{"--shm-size", "1x", "img"}, "invalid argument \"1x\" for \"--shm-size\" flag: invalid suffix: 'x'"},
		{{"--memory-swap", "-2", "img"}, "invalid argument \"-2\" for \"--memory-swap\" flag: invalid size: '-2'"},
		{{"--cpu-shares", "lots", "img"}, "invalid argument \"lots\" for \"-c, --cpu-shares\" flag: expected a whole number"},
		{{"--sysctl", "kernel.shmmax", "img"}, "invalid argument \"kernel.shmmax\" for \"--sysctl\" flag: expected KEY=VALUE"},
		{{"--add-host", "db", "img"}, "bad --add-host db: expected NAME:IP (or NAME:host-gateway)"},
		{{"--pid", "container:", "img"}, "bad --pid container:: expected host or container:NAME"},
		{{"--pid", "x", "img"}, "bad --pid x: expected host or container:NAME"},
		{{"--ipc", "none", "img"}, "bad --ipc none: expected private, shareable, host or container:NAME"},
		{{"--ipc=container:", "img"}, "bad --ipc container:: expected private, shareable, host or container:NAME"},
		// docker's ParseVolumesFrom: ro or rw, z or Z, one of each; no propagation, no copy mode
		{{"--volumes-from", "", "img"}, "bad --volumes-from: volumes-from specification cannot be an empty string"},
		{{"--volumes-from", ":ro", "img"}, "bad --volumes-from :ro: no container named"},
		{{"--volumes-from", "db:rshared", "img"}, "bad --volumes-from db:rshared: invalid mode: rshared"},
		{{"--volumes-from", "db:nocopy", "img"}, "bad --volumes-from db:nocopy: invalid mode: nocopy"},
		{{"--volumes-from", "db:ro,rw", "img"}, "bad --volumes-from db:ro,rw: invalid mode: ro,rw"},
		{{"--volumes-from", "db:z,Z", "img"}, "bad --volumes-from db:z,Z: invalid mode: z,Z"},
		{{"--volumes-from", "db:ro,", "img"}, "bad --volumes-from db:ro,: invalid mode: ro,"},
		{{"--volumes-from", "db:bogus", "img"}, "bad --volumes-from db:bogus: invalid mode: bogus"},
		{{"--cgroupns", "x", "img"}, "bad --cgroupns x: expected host or private"},
		{{"--stop-signal", "SIGBOGUS", "img"}, "bad --stop-signal SIGBOGUS: no such signal"},
		{{"--platform", "amd64x", "img"}, "bad --platform amd64x: expected OS/ARCH[/VARIANT], e.g. linux/amd64"},
		{{"--security-opt", "bogus", "img"}, "bad --security-opt bogus: expected seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false], "
						      "apparmor=PROFILE, label=..., systempaths=unconfined"},
		{{"--security-opt", "no-new-privileges=maybe", "img"}, "bad --security-opt no-new-privileges=maybe: expected seccomp=unconfined|PROFILE.json, "
									"no-new-privileges[=true|false], apparmor=PROFILE, label=..., systempaths=unconfined"},
		{{"--sig-proxy=no", "img"}, "invalid argument \"no\" for \"--sig-proxy\" flag: expected true or false"},
		{{"-l", "=x", "img"}, "invalid argument \"=x\" for \"-l, --label\" flag: invalid label: an empty key"},
	};
	for (const refused &r : refusals) {
		BOOST_TEST_CONTEXT(r.args[0] << " " << (r.args.size() > 1 ? r.args[1] : "")) {
			options::parsed o = parse(r.args, false);
			BOOST_TEST(o.error == r.error);
		}
	}
	auto o = parse({"--sig-proxy=false", "--init", "--security-opt", "no-new-privileges:false", "--security-opt=systempaths=unconfined",
			"--security-opt", "apparmor=unconfined", "--pid=host", "--ipc", "host", "--uts", "host", "--cgroupns=host",
			"--oom-kill-disable", "--userns=host", "img"});
	BOOST_TEST(!o.sig_proxy);
	BOOST_TEST(!o.no_new_privileges);
	BOOST_TEST(o.systempaths_unconfined);
	BOOST_REQUIRE(o.lsm_options.size() == 1u);
	BOOST_TEST((o.pid_host && o.ipc_host && o.uts_host && o.cgroupns_host && o.oom_kill_disable && !o.userns));
	o = parse({"--pid", "container:db", "--ipc=container:web", "--volumes-from", "db", "--volumes-from=web:ro,z", "--volumes-from", "x:", "img"});
	BOOST_TEST((std::string(o.pid_container) == "db" && std::string(o.ipc_container) == "web" && !o.pid_host && !o.ipc_host));
	BOOST_TEST(std::string(o.ipc_mode) == "container:web");
	BOOST_REQUIRE(o.volumes_from.size() == 3u);
	BOOST_TEST((std::string(o.volumes_from[0]) == "db" && std::string(o.volumes_from[1]) == "web:ro,z" && std::string(o.volumes_from[2]) == "x:"));
	o = parse({"--ipc", "private", "img"});
	BOOST_TEST((std::string(o.ipc_mode) == "private" && !o.ipc_container));
	o = parse({"--security-opt", "seccomp:/p.json", "--security-opt", "no-new-privileges", "img"});
	BOOST_TEST(std::string(o.seccomp_profile) == "/p.json");
	BOOST_TEST(o.no_new_privileges);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(layer_paths)

std::string clean(const std::string &in, bool ok = true)
{
	char out[PATH_MAX];
	size_t len;
	BOOST_TEST(unpack::clean_path(in, out, sizeof out, len) == ok, in);
	return ok ? std::string(out, len) : "";
}

BOOST_AUTO_TEST_CASE(cleaning)
{
	BOOST_TEST(clean("./a/b/") == "a/b");
	BOOST_TEST(clean("/etc//passwd") == "etc/passwd");
	BOOST_TEST(clean("a/./b/../c") == "a/c");
	BOOST_TEST(clean(".") == "");
	BOOST_TEST(clean("./") == "");
	BOOST_TEST(clean("/") == "");
	clean("..", false);
	clean("a/../../etc", false);
	clean("./../x", false);
	BOOST_TEST(clean("a/b/../../c") == "c");
	clean(std::string(PATH_MAX + 10, 'x'), false);
}

// Two processes unpack a layer only when the order of its entries cannot matter between
// them: no path listed twice (however written), no symlink, file or other non-directory
// on the way to another entry; a tar error leaves it to the one process, which says where.
BOOST_AUTO_TEST_CASE(a_layer_is_split_only_when_order_cannot_matter)
{
	scratch_dir d;
	d.sh("mkdir -p a/b c && printf x > a/b/f && printf y > c/g && ln a/b/f c/hard && ln -s ../c a/link && "
	     "tar -C a -cf plain.tar . && tar -C . -cf tree.tar a c && "
	     "tar -C . -cf twice.tar a c a/b/f && "
	     "mkdir s && ln -s /etc s/x && tar -C s -cf link.tar x && rm s/x && mkdir s/x && printf z > s/x/f && tar -C s -rf link.tar x/f && "
	     "printf q > file && tar -cf onfile.tar file && rm file && mkdir file && printf r > file/under && tar -rf onfile.tar file/under && "
	     "tar -P -cf dots.tar ./a/b/f a/b/../b/f");
	BOOST_TEST(unpack::can_split(span_of(d.read("plain.tar"))));
	BOOST_TEST(unpack::can_split(span_of(d.read("tree.tar"))));
	BOOST_TEST(!unpack::can_split(span_of(d.read("twice.tar"))));
	BOOST_TEST(!unpack::can_split(span_of(d.read("link.tar"))));
	BOOST_TEST(!unpack::can_split(span_of(d.read("onfile.tar"))));
	BOOST_TEST(!unpack::can_split(span_of(d.read("dots.tar"))));
	bytes cut = d.read("tree.tar");
	cut.resize(700);
	BOOST_TEST(!unpack::can_split(span_of(cut)));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(layer_cache)

namespace {
// A cache directory made by `setup` (shell, run in it).
struct cache_dir {
	scratch_dir d;
	std::string layers_path = d.path + "/layers";
	int layers;
	explicit cache_dir(const std::string &setup)
	{
		d.sh(setup);
		layers = open(layers_path.c_str(), O_RDONLY | O_DIRECTORY);
		BOOST_REQUIRE(layers >= 0);
	}
	~cache_dir() { close(layers); }
	bool exists(const std::string &name) const { return access((layers_path + "/" + name).c_str(), F_OK) == 0; }
};

// The same, claimed for layer HEX.
struct claimed_layer : cache_dir {
	std::string hex;
	cache::claim c;
	claimed_layer(char digit, const std::string &setup) : cache_dir(setup), hex(64, digit) { c = cache::begin(layers, hex); }
	~claimed_layer() { close(c.fd); }
	bool held_is(const std::string &name) const
	{
		struct stat a, b;
		return fstat(c.fd, &a) == 0 && stat((layers_path + "/" + name).c_str(), &b) == 0 && a.st_ino == b.st_ino;
	}
};

// Runs f in a child, its stdout and stderr into a pipe: its exit status and what it wrote.
template <class F> std::pair<int, std::string> in_child(F f)
{
	int p[2];
	BOOST_REQUIRE(pipe(p) == 0);
	pid_t pid = fork();
	BOOST_REQUIRE(pid >= 0);
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		f();
		_exit(0);
	}
	close(p[1]);
	std::string out;
	char buf[4096];
	for (ssize_t n; (n = read(p[0], buf, sizeof buf)) > 0;)
		out.append(buf, size_t(n));
	close(p[0]);
	int ws;
	BOOST_REQUIRE(waitpid(pid, &ws, 0) == pid);
	return {WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, out};
}
} // namespace

// Another launcher published HEX between the caller's look and its claim (20 concurrent
// starts hit this): the claim's HEX.partial, made after the publish, stands beside HEX.
// The claim finds HEX, holds it and removes the stray HEX.partial instead of unpacking a
// copy it could not publish (the code before the fix returned HEX and left the stray).
BOOST_AUTO_TEST_CASE(a_layer_published_before_the_claim_is_used)
{
	std::string hex(64, 'a');
	claimed_layer l('a', "mkdir -p layers/" + hex + "/bin layers/" + hex + ".partial");
	BOOST_TEST(l.c.published);
	BOOST_TEST(l.held_is(l.hex));
	BOOST_TEST(!l.exists(l.hex + ".partial"));
	// Held shared: a prune's exclusive try fails while we hold it.
	int other = open((l.layers_path + "/" + l.hex).c_str(), O_RDONLY | O_DIRECTORY);
	BOOST_TEST(flock(other, LOCK_EX | LOCK_NB) != 0);
	close(other);
}

// A HEX.partial left by a crash is claimed, emptied, then published under HEX.
BOOST_AUTO_TEST_CASE(a_crash_leftover_is_emptied_then_published)
{
	claimed_layer l('b', "mkdir -p layers/" + std::string(64, 'b') + ".partial/etc");
	BOOST_TEST(!l.c.published);
	BOOST_TEST(l.held_is(l.hex + ".partial"));
	BOOST_TEST(!l.exists(l.hex + ".partial/etc"));
	cache::publish(l.layers, l.hex, l.c.fd, unpack::stats{});
	BOOST_TEST(l.held_is(l.hex));
	BOOST_TEST(!l.exists(l.hex + ".partial"));
}

// A prune that dies midway through a layer (here at a mount point inside it, which only
// its own mount namespace has and rmdir refuses with EBUSY, after the files beside it are
// gone) leaves HEX.removing, never a half-removed HEX that a start would take as whole
// (the code before the fix removed HEX in place). --cache-ls names the leftover, no start
// uses it, and the next prune removes it.
BOOST_AUTO_TEST_CASE(a_prune_killed_midway_leaves_no_half_removed_layer)
{
	std::string hex(64, 'c');
	cache_dir c("mkdir -p layers/" + hex + "/d && touch layers/" + hex + "/d/f1 layers/" + hex + "/d/f2 && echo '0 3' >layers/" +
		    hex + ".info");
	std::string d = c.layers_path + "/" + hex + "/d";
	auto [status, out] = in_child([&] {
		if (unshare(CLONE_NEWNS) < 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
		    mount(d.c_str(), d.c_str(), nullptr, MS_BIND, nullptr) < 0)
			_exit(99);
		cache::prune(c.layers);
	});
	BOOST_TEST(status == sys::exit_failure);
	BOOST_TEST(out == "launcher: prune: remove directory d: Device or resource busy\n");
	BOOST_TEST(!c.exists(hex));
	BOOST_TEST(!c.exists(hex + ".info"));
	BOOST_TEST(c.exists(hex + ".removing/d"));
	BOOST_TEST(!c.exists(hex + ".removing/d/f1"));
	BOOST_TEST(cache::hold(c.layers, hex) == -1);
	auto [ls_status, ls] = in_child([&] { cache::list(c.layers); });
	BOOST_TEST(ls.ends_with("\nsha256:" + hex + std::string(12, ' ') + "- " + std::string(7, ' ') + "-  left by a crash\n"));
	auto [prune_status, pruned] = in_child([&] { cache::prune(c.layers); });
	BOOST_TEST(prune_status == 0);
	BOOST_TEST(pruned == "removed sha256:" + hex + " (half removed)\n1 removed, 0 in use\n");
	BOOST_TEST(!c.exists(hex + ".removing"));
}

// A layer pruned while a killed prune's leftover of the same digest still stands: the
// leftover is removed first, so that the rename out of the published name can succeed.
// Another prune removing that leftover would hold it: this one waits for it.
BOOST_AUTO_TEST_CASE(a_prune_removes_an_old_leftover_in_the_way_of_its_rename)
{
	std::string hex(64, 'e');
	cache_dir c("mkdir -p layers/" + hex + "/etc layers/" + hex + ".removing/old");
	int held = openat(c.layers, hex.c_str(), O_RDONLY | O_DIRECTORY);
	BOOST_REQUIRE(held >= 0);
	BOOST_REQUIRE(flock(held, LOCK_EX | LOCK_NB) == 0); // as each_layer holds it
	auto [status, out] = in_child([&] {
		size_t removed = 0;
		cache::remove_published(c.layers, hex, removed);
		dprintf(STDOUT_FILENO, "%zu\n", removed);
	});
	close(held);
	BOOST_TEST(status == 0);
	BOOST_TEST(out == "removed sha256:" + hex + " (half removed)\n1\n");
	BOOST_TEST(!c.exists(hex));
	BOOST_TEST(!c.exists(hex + ".removing"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(rtnetlink)

std::vector<unsigned char> le32(std::initializer_list<uint32_t> words)
{
	std::vector<unsigned char> out;
	for (uint32_t w : words)
		for (int i = 0; i < 4; i++)
			out.push_back(uint8_t(w >> (8 * i)));
	return out;
}

BOOST_AUTO_TEST_CASE(link_up_by_index_is_32_bytes)
{
	netlink::batch b;
	netlink::set_up(b, 1, nullptr, true, "bring up lo");
	auto bytes = b.bytes();
	BOOST_REQUIRE(bytes.size() == 32u);
	nlmsghdr h;
	memcpy(&h, bytes.data(), sizeof h);
	BOOST_TEST(h.nlmsg_len == 32u);
	BOOST_TEST(h.nlmsg_type == RTM_NEWLINK);
	BOOST_TEST(h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
	// ifinfomsg: family 0, pad, type 0, index 1, flags IFF_UP, change IFF_UP
	std::vector<unsigned char> body(bytes.begin() + 16, bytes.end());
	BOOST_TEST(body == le32({0, 1, IFF_UP, IFF_UP}));
}

BOOST_AUTO_TEST_CASE(address_request_layout)
{
	netlink::batch b;
	uint32_t addr = __builtin_bswap32(0x0a580002); // 10.88.0.2
	netlink::add_address(b, 7, addr, 24, "add address");
	auto bytes = b.bytes();
	// header 16 + ifaddrmsg 8 + three 8-byte attributes
	BOOST_REQUIRE(bytes.size() == 48u);
	BOOST_TEST(bytes[16] == AF_INET);
	BOOST_TEST(bytes[17] == 24);
	BOOST_TEST(bytes[19] == RT_SCOPE_UNIVERSE);
	std::vector<unsigned char> index(bytes.begin() + 20, bytes.begin() + 24);
	BOOST_TEST(index == le32({7}));
	std::vector<unsigned char> attrs(bytes.begin() + 24, bytes.end());
	std::vector<unsigned char> want = {8, 0, IFA_LOCAL, 0, 10, 88, 0, 2, 8, 0, IFA_ADDRESS, 0, 10, 88, 0, 2,
					   8, 0, IFA_BROADCAST, 0, 10, 88, 0, 255};
	BOOST_TEST(attrs == want);
}

// Walks attributes [from, to) and returns (type, payload) pairs, checking every length.
std::vector<std::pair<uint16_t, std::vector<unsigned char>>> attributes(std::span<const unsigned char> s)
{
	std::vector<std::pair<uint16_t, std::vector<unsigned char>>> out;
	size_t off = 0;
	while (off < s.size()) {
		nlattr a;
		BOOST_REQUIRE(off + sizeof a <= s.size());
		memcpy(&a, s.data() + off, sizeof a);
		BOOST_REQUIRE(a.nla_len >= sizeof a);
		BOOST_REQUIRE(off + a.nla_len <= s.size());
		out.push_back({a.nla_type, {s.begin() + off + sizeof a, s.begin() + off + a.nla_len}});
		off += netlink::align(a.nla_len);
	}
	BOOST_TEST(off == s.size());
	return out;
}

BOOST_AUTO_TEST_CASE(veth_with_peer_in_another_namespace)
{
	netlink::batch b;
	netlink::new_veth(b, "ve-1", 5, "eth0", 4242, "create veth ve-1");
	auto bytes = b.bytes();
	nlmsghdr h;
	memcpy(&h, bytes.data(), sizeof h);
	BOOST_TEST(h.nlmsg_len == bytes.size());
	BOOST_TEST(h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL));
	auto top = attributes(bytes.subspan(16 + sizeof(ifinfomsg)));
	BOOST_REQUIRE(top.size() == 3u);
	BOOST_TEST(top[0].first == IFLA_IFNAME);
	BOOST_TEST(std::string(reinterpret_cast<const char *>(top[0].second.data())) == "ve-1");
	BOOST_TEST(top[1].first == IFLA_MASTER);
	BOOST_TEST(top[1].second == le32({5}));
	BOOST_TEST(top[2].first == IFLA_LINKINFO);
	auto info = attributes(top[2].second);
	BOOST_REQUIRE(info.size() == 2u);
	BOOST_TEST(std::string(reinterpret_cast<const char *>(info[0].second.data())) == "veth");
	BOOST_TEST(info[1].first == IFLA_INFO_DATA);
	auto data = attributes(info[1].second);
	BOOST_REQUIRE(data.size() == 1u);
	BOOST_TEST(data[0].first == VETH_INFO_PEER);
	// The peer's payload starts with its own ifinfomsg, then its attributes.
	std::span<const unsigned char> peer(data[0].second);
	BOOST_REQUIRE(peer.size() > sizeof(ifinfomsg));
	auto peer_attrs = attributes(peer.subspan(sizeof(ifinfomsg)));
	BOOST_REQUIRE(peer_attrs.size() == 2u);
	BOOST_TEST(std::string(reinterpret_cast<const char *>(peer_attrs[0].second.data())) == "eth0");
	BOOST_TEST(peer_attrs[1].first == IFLA_NET_NS_PID);
	BOOST_TEST(peer_attrs[1].second == le32({4242}));
}

BOOST_AUTO_TEST_CASE(default_route_layout)
{
	netlink::batch b;
	netlink::add_default_route(b, __builtin_bswap32(0x0a580001), 2, "route");
	auto bytes = b.bytes();
	rtmsg r;
	memcpy(&r, bytes.data() + 16, sizeof r);
	BOOST_TEST(r.rtm_family == AF_INET);
	BOOST_TEST(r.rtm_dst_len == 0);
	BOOST_TEST(r.rtm_table == RT_TABLE_MAIN);
	BOOST_TEST(r.rtm_protocol == RTPROT_BOOT);
	BOOST_TEST(r.rtm_type == RTN_UNICAST);
	auto attrs = attributes(bytes.subspan(16 + sizeof r));
	BOOST_REQUIRE(attrs.size() == 2u);
	BOOST_TEST(attrs[0].first == RTA_GATEWAY);
	BOOST_TEST((attrs[0].second == std::vector<unsigned char>{10, 88, 0, 1}));
	BOOST_TEST(attrs[1].first == RTA_OIF);
}

std::vector<unsigned char> reply(uint16_t type, uint32_t seq, std::vector<unsigned char> body)
{
	nlmsghdr h = {uint32_t(sizeof h + body.size()), type, 0, seq, 1234};
	std::vector<unsigned char> out(sizeof h);
	memcpy(out.data(), &h, sizeof h);
	out.insert(out.end(), body.begin(), body.end());
	out.resize(netlink::align(out.size()));
	return out;
}

std::vector<unsigned char> error_body(int err)
{
	nlmsgerr e = {};
	e.error = err;
	std::vector<unsigned char> out(sizeof e);
	memcpy(out.data(), &e, sizeof e);
	return out;
}

BOOST_AUTO_TEST_CASE(acks_errors_and_their_requests)
{
	netlink::batch b;
	netlink::new_bridge(b, "red", "create bridge red");
	netlink::set_up(b, 0, "red", true, "bring up red");
	nlmsghdr first;
	memcpy(&first, b.bytes().data(), sizeof first);
	uint32_t seq = first.nlmsg_seq;
	auto buf = reply(NLMSG_ERROR, seq, error_body(0));
	auto second = reply(NLMSG_ERROR, seq + 1, error_body(-EEXIST));
	auto stray = reply(NLMSG_ERROR, seq + 99, error_body(-EPERM)); // not ours
	buf.insert(buf.end(), stray.begin(), stray.end());
	buf.insert(buf.end(), second.begin(), second.end());
	netlink::replies r;
	netlink::parse_replies(b, buf, r);
	BOOST_TEST(!r.malformed);
	BOOST_TEST(r.acked == 2u);
	BOOST_TEST(r.error == EEXIST);
	BOOST_TEST(std::string(b.what(r.failed_seq)) == "bring up red");

	auto truncated = reply(NLMSG_ERROR, seq, error_body(0));
	truncated.resize(10);
	netlink::replies bad;
	netlink::parse_replies(b, truncated, bad);
	BOOST_TEST(bad.acked == 0u);
	auto lying = reply(NLMSG_ERROR, seq, error_body(0));
	lying[0] = 200; // length past the buffer
	netlink::parse_replies(b, lying, bad);
	BOOST_TEST(bad.malformed);
}

// An RTM_NEWLINK reply to the first request of b: an ifinfomsg (Ethernet, index 7, up and
// broadcast), then attrs as the kernel lays them out.
std::vector<unsigned char> link_reply(const netlink::batch &b, std::vector<unsigned char> attrs)
{
	nlmsghdr first;
	memcpy(&first, b.bytes().data(), sizeof first);
	std::vector<unsigned char> body = {0, 0, 1, 0, 7, 0, 0, 0, IFF_UP | IFF_BROADCAST, 0, 0, 0, 0, 0, 0, 0};
	body.insert(body.end(), attrs.begin(), attrs.end());
	return reply(RTM_NEWLINK, first.nlmsg_seq, body);
}

std::string kind_in(std::vector<unsigned char> attrs)
{
	netlink::batch b;
	netlink::get_link(b, "red", "look up red");
	netlink::replies r;
	netlink::parse_replies(b, link_reply(b, attrs), r);
	BOOST_TEST(!r.malformed);
	BOOST_TEST(r.link_index == 7u); // the index is read whatever the attributes say
	return r.link_kind;
}

BOOST_AUTO_TEST_CASE(a_link_reply_gives_index_flags_and_kind)
{
	netlink::batch b;
	netlink::get_link(b, "red", "look up red");
	std::vector<unsigned char> attrs = {
		8, 0, IFLA_IFNAME, 0, 'r', 'e', 'd', 0,
		8, 0, IFLA_MTU, 0, 0xdc, 0x05, 0, 0,
		28, 0, IFLA_LINKINFO, 0,
		11, 0, IFLA_INFO_KIND, 0, 'b', 'r', 'i', 'd', 'g', 'e', 0, 0,
		12, 0, IFLA_INFO_DATA, 0, 8, 0, IFLA_BR_FORWARD_DELAY, 0, 0xdc, 0x05, 0, 0};
	auto buf = link_reply(b, attrs);
	BOOST_REQUIRE(buf.size() == 16u + 16u + 44u);
	nlmsghdr first;
	memcpy(&first, b.bytes().data(), sizeof first);
	auto ack = reply(NLMSG_ERROR, first.nlmsg_seq, error_body(0));
	buf.insert(buf.end(), ack.begin(), ack.end());
	netlink::replies r;
	netlink::parse_replies(b, buf, r);
	BOOST_TEST(!r.malformed);
	BOOST_TEST(r.acked == 1u);
	BOOST_TEST(r.link_index == 7u);
	BOOST_TEST(r.link_flags == unsigned(IFF_UP | IFF_BROADCAST));
	BOOST_TEST(std::string(r.link_kind) == "bridge");
}

BOOST_AUTO_TEST_CASE(a_link_is_a_bridge_only_by_its_own_info_kind)
{
	// A dummy whose MAC address (IFLA_ADDRESS, type 1 as IFLA_INFO_KIND) spells "bridge".
	BOOST_TEST(kind_in({10, 0, IFLA_ADDRESS, 0, 'b', 'r', 'i', 'd', 'g', 'e', 0, 0,
			    16, 0, IFLA_LINKINFO, 0, 10, 0, IFLA_INFO_KIND, 0, 'd', 'u', 'm', 'm', 'y', 0, 0, 0}) == "dummy");
	// A port of a bridge: its master's kind is IFLA_INFO_SLAVE_KIND, its own is veth.
	BOOST_TEST(kind_in({28, 0, IFLA_LINKINFO, 0, 11, 0, IFLA_INFO_SLAVE_KIND, 0, 'b', 'r', 'i', 'd', 'g', 'e', 0, 0,
			    9, 0, IFLA_INFO_KIND, 0, 'v', 'e', 't', 'h', 0, 0, 0, 0}) == "veth");
	// A NIC (or lo) has no IFLA_LINKINFO at all.
	BOOST_TEST(kind_in({8, 0, IFLA_IFNAME, 0, 'e', 't', 'h', 0}) == "");
	// The nest flag is not part of the type.
	BOOST_TEST(kind_in({16, 0, IFLA_LINKINFO, 0x80, 11, 0, IFLA_INFO_KIND, 0, 'b', 'r', 'i', 'd', 'g', 'e', 0, 0}) == "bridge");
}

BOOST_AUTO_TEST_CASE(a_malformed_link_kind_reads_as_none)
{
	// The kind's length runs past its nest (which ends where the message does).
	BOOST_TEST(kind_in({12, 0, IFLA_LINKINFO, 0, 11, 0, IFLA_INFO_KIND, 0, 'b', 'r', 'i', 'd'}) == "");
	// The nest's length runs past the message.
	BOOST_TEST(kind_in({40, 0, IFLA_LINKINFO, 0, 11, 0, IFLA_INFO_KIND, 0, 'b', 'r', 'i', 'd', 'g', 'e', 0, 0}) == "");
	// An attribute shorter than its own header.
	BOOST_TEST(kind_in({2, 0, IFLA_LINKINFO, 0, 11, 0, IFLA_INFO_KIND, 0, 'b', 'r', 'i', 'd', 'g', 'e', 0, 0}) == "");
	// A kind too long to be any kind's name, unterminated.
	std::vector<unsigned char> long_kind = {24, 0, IFLA_LINKINFO, 0, 20, 0, IFLA_INFO_KIND, 0};
	for (int i = 0; i < 16; i++)
		long_kind.push_back('b');
	BOOST_TEST(kind_in(long_kind) == "");
}

BOOST_AUTO_TEST_CASE(a_full_batch_overflows_instead_of_writing_past_its_end)
{
	netlink::batch b;
	for (size_t i = 0; i < netlink::batch::max_requests + 3; i++)
		netlink::set_up(b, uint32_t(i + 1), nullptr, true, "up");
	BOOST_TEST(b.overflowed());
	BOOST_TEST(b.requests() == netlink::batch::max_requests);
}

// ---- nf_tables requests (nfnetlink.hpp) ----

std::vector<unsigned char> le16s(std::initializer_list<uint16_t> words)
{
	std::vector<unsigned char> out;
	for (uint16_t w : words)
		out.push_back(uint8_t(w)), out.push_back(uint8_t(w >> 8));
	return out;
}

std::vector<unsigned char> cat(std::initializer_list<std::vector<unsigned char>> parts)
{
	std::vector<unsigned char> out;
	for (auto &p : parts)
		out.insert(out.end(), p.begin(), p.end());
	return out;
}

BOOST_AUTO_TEST_CASE(nf_tables_batch_markers_ask_no_ack_and_name_the_subsystem)
{
	netlink::batch b;
	nft::batch_begin(b);
	nft::batch_end(b);
	auto bytes = b.bytes();
	BOOST_REQUIRE(bytes.size() == 40u);
	std::vector<unsigned char> got(bytes.begin(), bytes.end());
	uint32_t seq;
	memcpy(&seq, bytes.data() + 8, 4);
	// len 20, type BATCH_BEGIN (16), flags REQUEST alone, seq, pid 0; nfgenmsg AF_UNSPEC,
	// version 0, res_id NFNL_SUBSYS_NFTABLES big-endian.
	auto want = cat({le32({20}), le16s({NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST}), le32({seq, 0}), {0, 0, 0, 10},
			 le32({20}), le16s({NFNL_MSG_BATCH_END, NLM_F_REQUEST}), le32({seq + 1, 0}), {0, 0, 0, 10}});
	BOOST_TEST(got == want);
	BOOST_TEST(b.requests() == 0u); // the kernel acknowledges neither
}

BOOST_AUTO_TEST_CASE(nf_tables_owned_table_exact_bytes)
{
	netlink::batch b;
	nft::new_table(b, "launcher-x", true, "create table");
	auto bytes = b.bytes();
	std::vector<unsigned char> got(bytes.begin(), bytes.end());
	uint32_t seq;
	memcpy(&seq, bytes.data() + 8, 4);
	auto want = cat({le32({44}), le16s({NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWTABLE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE}),
			 le32({seq, 0}), {AF_INET, 0, 0, 0},
			 le16s({15, NFTA_TABLE_NAME}), {'l', 'a', 'u', 'n', 'c', 'h', 'e', 'r', '-', 'x', 0, 0},
			 le16s({8, NFTA_TABLE_FLAGS}), {0, 0, 0, NFT_TABLE_F_OWNER}});
	BOOST_TEST(got == want);
	BOOST_TEST(b.requests() == 1u);
}

BOOST_AUTO_TEST_CASE(nf_tables_rule_of_one_masquerade_exact_bytes)
{
	netlink::batch b;
	size_t r = nft::rule_begin(b, "t", "c", "add rule");
	nft::masquerade(b);
	nft::rule_end(b, r);
	auto bytes = b.bytes();
	std::vector<unsigned char> got(bytes.begin(), bytes.end());
	uint32_t seq;
	memcpy(&seq, bytes.data() + 8, 4);
	auto want = cat({le32({60}), le16s({NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWRULE,
					  NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_APPEND}),
			 le32({seq, 0}), {AF_INET, 0, 0, 0},
			 le16s({6, NFTA_RULE_TABLE}), {'t', 0, 0, 0}, le16s({6, NFTA_RULE_CHAIN}), {'c', 0, 0, 0},
			 le16s({24, NLA_F_NESTED | NFTA_RULE_EXPRESSIONS}),
			 le16s({20, NLA_F_NESTED | NFTA_LIST_ELEM}),
			 le16s({9, NFTA_EXPR_NAME}), {'m', 'a', 's', 'q', 0, 0, 0, 0},
			 le16s({4, NLA_F_NESTED | NFTA_EXPR_DATA})});
	BOOST_TEST(got == want);
}

// The expression list of the one rule in b: (name, its data's attributes) pairs.
std::vector<std::pair<std::string, std::vector<std::pair<uint16_t, std::vector<unsigned char>>>>> rule_exprs(const netlink::batch &b)
{
	auto bytes = b.bytes();
	auto top = attributes(bytes.subspan(16 + sizeof(nfgenmsg)));
	BOOST_REQUIRE(top.size() == 3u);
	BOOST_REQUIRE(top[2].first == (NLA_F_NESTED | NFTA_RULE_EXPRESSIONS));
	std::vector<std::pair<std::string, std::vector<std::pair<uint16_t, std::vector<unsigned char>>>>> out;
	for (auto &elem : attributes(top[2].second)) {
		BOOST_REQUIRE(elem.first == (NLA_F_NESTED | NFTA_LIST_ELEM));
		auto parts = attributes(elem.second);
		BOOST_REQUIRE(parts.size() == 2u);
		out.push_back({reinterpret_cast<const char *>(parts[0].second.data()), attributes(parts[1].second)});
	}
	return out;
}

std::vector<unsigned char> be32v(uint32_t v) { return {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)}; }

BOOST_AUTO_TEST_CASE(nf_tables_address_match_loads_masks_and_compares)
{
	netlink::batch b;
	size_t r = nft::rule_begin(b, "t", "c", "add rule");
	nft::match_addr(b, nft::saddr, __builtin_bswap32(0x0a580100), 24, false);
	nft::rule_end(b, r);
	auto e = rule_exprs(b);
	BOOST_REQUIRE(e.size() == 3u);
	BOOST_TEST(e[0].first == "payload");
	BOOST_REQUIRE(e[0].second.size() == 4u);
	BOOST_TEST(e[0].second[0].second == be32v(NFT_REG_1));
	BOOST_TEST(e[0].second[1].second == be32v(NFT_PAYLOAD_NETWORK_HEADER));
	BOOST_TEST(e[0].second[2].second == be32v(12));
	BOOST_TEST(e[0].second[3].second == be32v(4));
	BOOST_TEST(e[1].first == "bitwise");
	auto mask = attributes(e[1].second[3].second);
	BOOST_TEST(mask[0].second == (std::vector<unsigned char>{255, 255, 255, 0}));
	BOOST_TEST(e[2].first == "cmp");
	BOOST_TEST(e[2].second[1].second == be32v(NFT_CMP_NEQ));
	BOOST_TEST(attributes(e[2].second[2].second)[0].second == (std::vector<unsigned char>{10, 88, 1, 0}));
}

BOOST_AUTO_TEST_CASE(nf_tables_dnat_to_address_and_port_registers)
{
	netlink::batch b;
	size_t r = nft::rule_begin(b, "t", "c", "add rule");
	nft::dnat(b);
	nft::verdict(b, NF_DROP);
	nft::rule_end(b, r);
	auto e = rule_exprs(b);
	BOOST_REQUIRE(e.size() == 2u);
	BOOST_TEST(e[0].first == "nat");
	BOOST_REQUIRE(e[0].second.size() == 4u);
	BOOST_TEST(e[0].second[0].first == NFTA_NAT_TYPE);
	BOOST_TEST(e[0].second[0].second == be32v(NFT_NAT_DNAT));
	BOOST_TEST(e[0].second[1].second == be32v(NFPROTO_IPV4));
	BOOST_TEST(e[0].second[2].second == be32v(NFT_REG_1));
	BOOST_TEST(e[0].second[3].second == be32v(NFT_REG_2));
	BOOST_TEST(e[1].first == "immediate");
	BOOST_TEST(e[1].second[0].second == be32v(NFT_REG_VERDICT));
	auto code = attributes(attributes(e[1].second[1].second)[0].second);
	BOOST_TEST(code[0].second == be32v(NF_DROP));
}

BOOST_AUTO_TEST_CASE(a_network_table_is_one_transaction_that_fits_one_batch)
{
	static netlink::batch b;
	network::build_network_table(b, "red", {0x0a580100, 24}, true);
	BOOST_TEST(!b.overflowed());
	BOOST_TEST(b.requests() == 13u); // begin and end are not acknowledged
	static netlink::batch fresh;
	network::build_network_table(fresh, "red", {0x0a580100, 24}, false);
	BOOST_TEST(fresh.requests() == 11u); // no create-then-delete of an old one
	auto bytes = b.bytes();
	nlmsghdr first, last;
	memcpy(&first, bytes.data(), sizeof first);
	BOOST_TEST(first.nlmsg_type == NFNL_MSG_BATCH_BEGIN);
	size_t off = 0;
	while (off < bytes.size()) {
		memcpy(&last, bytes.data() + off, sizeof last);
		off += netlink::align(last.nlmsg_len);
	}
	BOOST_TEST(off == bytes.size());
	BOOST_TEST(last.nlmsg_type == NFNL_MSG_BATCH_END);
}

BOOST_AUTO_TEST_CASE(publish_values_as_docker_spells_them)
{
	ports::mapping m[8];
	size_t n = 0;
	BOOST_REQUIRE(ports::parse_publish("8080:80", m, 8, n));
	BOOST_REQUIRE(ports::parse_publish("127.0.0.1:5353:53/udp", m, 8, n));
	BOOST_REQUIRE(ports::parse_publish("9000-9001:7000-7001/tcp", m, 8, n));
	BOOST_REQUIRE(ports::parse_publish("443", m, 8, n));
	BOOST_REQUIRE(ports::parse_publish("127.0.0.1::22", m, 8, n));
	BOOST_REQUIRE(n == 6u);
	BOOST_TEST((m[0].host_ip == 0 && m[0].host_port == 8080 && m[0].ctr_port == 80 && m[0].proto == IPPROTO_TCP));
	BOOST_TEST((m[1].host_ip == 0x7f000001u && m[1].host_port == 5353 && m[1].ctr_port == 53 && m[1].proto == IPPROTO_UDP));
	BOOST_TEST((m[2].host_port == 9000 && m[2].ctr_port == 7000 && m[3].host_port == 9001 && m[3].ctr_port == 7001));
	BOOST_TEST((m[4].host_port == 0 && m[4].ctr_port == 443)); // a free host port, picked at start
	BOOST_TEST((m[5].host_ip == 0x7f000001u && m[5].host_port == 0 && m[5].ctr_port == 22));
	for (const char *bad : {"", ":", "8080:", "x:80", "8080:0", "8080:65536", "080:80", "8080-8081:80", "9-8:1-2",
				"1.2.3:8080:80", "8080:80/sctp", "8080:80/", "a:b:c:d"}) {
		size_t k = 0;
		BOOST_TEST(!ports::parse_publish(bad, m, 8, k), bad);
	}
	size_t k = 0;
	BOOST_TEST(!ports::parse_publish("1000-1008:1000-1008", m, 8, k)); // more than the room
}

// ---- resolv.conf (dns.hpp) ----

std::string resolv(const char *host, dns::settings s)
{
	char out[512];
	BOOST_REQUIRE(dns::resolv_conf(host, s, out, sizeof out));
	return out;
}

BOOST_AUTO_TEST_CASE(resolv_conf_drops_loopback_servers_outside_the_host_network)
{
	const char *host = "# by hand\nnameserver 127.0.0.53\nnameserver ::1\n  nameserver 192.0.2.1\nsearch a.test\n";
	BOOST_TEST(resolv(host, {}) == "# by hand\n  nameserver 192.0.2.1\nsearch a.test\n");
	dns::settings h;
	h.host_network = true;
	BOOST_TEST(resolv(host, h) == host);
	BOOST_TEST(resolv("nameserver 127.0.1.1\n", {}) == "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	BOOST_TEST(resolv("", {}) == "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	BOOST_TEST(dns::only_loopback_servers("nameserver 127.0.0.53\noptions edns0\n"));
	BOOST_TEST(!dns::only_loopback_servers("nameserver 127.0.0.53\nnameserver 10.0.0.1\n"));
	BOOST_TEST(!dns::only_loopback_servers("search a.test\n"));
}

BOOST_AUTO_TEST_CASE(resolv_conf_flags_replace_their_lines)
{
	const char *servers[] = {"192.0.2.9", "2001:db8::1"}, *search[] = {"b.test"}, *opts[] = {"ndots:2", "edns0"};
	dns::settings s = {servers, search, opts, false};
	BOOST_TEST(resolv("nameserver 192.0.2.1\ndomain a.test\nsearch a.test\noptions rotate\nsortlist 10.0.0.0\n", s) ==
		   "sortlist 10.0.0.0\nnameserver 192.0.2.9\nnameserver 2001:db8::1\nsearch b.test\noptions ndots:2 edns0\n");
	char tiny[16];
	BOOST_TEST(!dns::resolv_conf("nameserver 192.0.2.1\n", {}, tiny, sizeof tiny));
	BOOST_TEST(strlen(tiny) < sizeof tiny);
}

BOOST_AUTO_TEST_CASE(cidr_and_leases_arithmetic)
{
	network::cidr c;
	BOOST_REQUIRE(network::parse_cidr("10.88.3.77/24", c));
	BOOST_TEST(c.addr == 0x0a580300u); // normalised to the network
	BOOST_TEST(network::gateway(c) == 0x0a580301u);
	BOOST_TEST(network::broadcast(c) == 0x0a5803ffu);
	for (const char *bad : {"10.88.3.0", "10.88.3.0/", "10.88.3.0/31", "10.88.3.0/7", "300.1.1.1/24",
				"10.88.3/24", "10.88.03.0/24", "10.88.3.0/2x", "a.b.c.d/24"})
		BOOST_TEST(!network::parse_cidr(bad, c), bad);
	uint32_t ip;
	BOOST_TEST(network::parse_ipv4("192.168.0.255", ip));
	BOOST_TEST(ip == 0xc0a800ffu);
	char text[16];
	network::format_ipv4(ip, text);
	BOOST_TEST(std::string(text) == "192.168.0.255");

	network::cidr a{0x0a580000, 24}, wide{0x0a000000, 8}, other{0x0a590000, 24};
	BOOST_TEST(network::overlaps(a, wide));
	BOOST_TEST(network::overlaps(wide, a));
	BOOST_TEST(!network::overlaps(a, other));

	network::cidr used[] = {{0x0a580000, 24}, {0x0a580100, 24}, {0x0a580300, 25}};
	network::cidr pick;
	BOOST_REQUIRE(network::pick_subnet(used, pick));
	BOOST_TEST(pick.addr == 0x0a580200u); // 10.88.2.0/24
	// podman's network holds 10.88.0.0/16, docker's 172.17.0.0/16: docker's next pool.
	network::cidr podman[] = {{0x0a580000, 16}, {0xac110000, 16}};
	BOOST_REQUIRE(network::pick_subnet(podman, pick));
	BOOST_TEST(pick.addr == 0xac120000u); // 172.18.0.0/24
	network::cidr all[] = {{0x0a580000, 16}, {0xac100000, 12}, {0xc0a80000, 16}};
	BOOST_TEST(!network::pick_subnet(all, pick));

	BOOST_TEST(network::valid_name("red"));
	BOOST_TEST(!network::valid_name("none"));
	BOOST_TEST(!network::valid_name("host"));
	BOOST_TEST(!network::valid_name("sixteen-chars-xx"));
	BOOST_TEST(!network::valid_name("a/b"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(confinement)

BOOST_AUTO_TEST_CASE(capability_names_and_docker_rules)
{
	BOOST_TEST(security::docker_default_caps() == 0xa80425fbull); // docker's well-known CapEff
	BOOST_TEST(security::cap_mask("NET_ADMIN") == 1ull << CAP_NET_ADMIN);
	BOOST_TEST(security::cap_mask("cap_net_admin") == 1ull << CAP_NET_ADMIN);
	BOOST_TEST(security::cap_mask("all") == security::all_caps);
	BOOST_TEST(security::cap_mask("NOPE") == 0u);
	using c = security::cap_change;
	c add_admin[] = {{true, 1ull << CAP_SYS_ADMIN}};
	BOOST_TEST(security::effective_caps(add_admin) == (0xa80425fbull | 1ull << CAP_SYS_ADMIN));
	c drop_all_add_kill[] = {{false, security::all_caps}, {true, 1ull << CAP_KILL}};
	BOOST_TEST(security::effective_caps(drop_all_add_kill) == 1ull << CAP_KILL);
	c add_all_drop_chown[] = {{true, security::all_caps}, {false, 1ull << CAP_CHOWN}};
	BOOST_TEST(security::effective_caps(add_all_drop_chown) == (security::all_caps & ~1ull));
	c none[] = {{true, 0}};
	BOOST_TEST(security::effective_caps(std::span<const c>(none, 0)) == 0xa80425fbull);
}

// ---- seccomp ----

// Runs a classic BPF program over one seccomp_data as the kernel would, over exactly the
// instructions seccomp.hpp emits; anything else fails the test. Also counts the steps.
struct bpf_run {
	bool ok = true;
	uint32_t ret = 0;
	size_t steps = 0;
};

bpf_run run_bpf(const seccomp::program &p, uint32_t nr, const uint64_t (&args)[6] = {}, uint32_t arch = AUDIT_ARCH_X86_64)
{
	seccomp_data d = {int(nr), arch, 0, {}};
	for (int i = 0; i < 6; i++)
		d.args[i] = args[i];
	bpf_run r;
	uint32_t a = 0;
	for (size_t pc = 0; pc < p.code.size(); r.steps++) {
		const sock_filter &in = p.code[pc];
		switch (in.code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (in.k % 4 || in.k >= sizeof d)
				return {false};
			memcpy(&a, reinterpret_cast<const char *>(&d) + in.k, 4);
			pc++;
			break;
		case BPF_ALU | BPF_AND | BPF_K: a &= in.k, pc++; break;
		case BPF_JMP | BPF_JA: pc += 1 + in.k; break;
		case BPF_JMP | BPF_JEQ | BPF_K: pc += 1 + (a == in.k ? in.jt : in.jf); break;
		case BPF_JMP | BPF_JGT | BPF_K: pc += 1 + (a > in.k ? in.jt : in.jf); break;
		case BPF_JMP | BPF_JGE | BPF_K: pc += 1 + (a >= in.k ? in.jt : in.jf); break;
		case BPF_RET | BPF_K: r.ret = in.k; return r;
		default: return {false};
		}
	}
	return {false}; // ran off the end
}

// Loads the program in a forked child, runs `probe` there and returns what it wrote:
// each syscall's result as 0 or an errno.
template <class F> std::vector<int> under_filter(const seccomp::program &p, F probe)
{
	int fds[2];
	BOOST_REQUIRE(pipe(fds) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp::load(p) != 0)
			_exit(99);
		int results[64];
		size_t n = probe(results);
		(void)!write(fds[1], results, n * sizeof(int));
		_exit(0);
	}
	close(fds[1]);
	int results[64];
	ssize_t n = read(fds[0], results, sizeof results);
	close(fds[0]);
	int ws;
	waitpid(pid, &ws, 0);
	BOOST_TEST(WIFEXITED(ws));
	BOOST_TEST(WEXITSTATUS(ws) == 0);
	return std::vector<int>(results, results + (n > 0 ? n / sizeof(int) : 0));
}

int errno_of(long r) { return r < 0 ? errno : 0; }

constexpr uint64_t cap(int c) { return 1ull << c; }
const uint64_t docker_caps = security::docker_default_caps();

seccomp::program compiled(const std::string &json, uint64_t caps = docker_caps)
{
	seccomp::program p;
	char err[160] = "";
	BOOST_REQUIRE_MESSAGE(seccomp::compile(json, caps, p, err, sizeof err), err);
	return p;
}

std::string compile_error(const std::string &json)
{
	seccomp::program p;
	char err[160] = "";
	BOOST_TEST(!seccomp::compile(json, docker_caps, p, err, sizeof err));
	return err;
}

BOOST_AUTO_TEST_CASE(seccomp_names_come_from_the_kernel_headers_and_newer_by_hand)
{
	BOOST_TEST(seccomp::number_of("read") == 0);
	BOOST_TEST(seccomp::number_of("_sysctl") == SYS__sysctl);
	BOOST_TEST(seccomp::number_of("set_mempolicy_home_node") == 450);
	BOOST_TEST(seccomp::number_of("cachestat") == 451);
	BOOST_TEST(seccomp::number_of("mseal") == 462);
	BOOST_TEST(seccomp::number_of("open_tree_attr") == 467);
	BOOST_TEST(seccomp::number_of("file_setattr") == 469);
	BOOST_TEST(seccomp::number_of("chown32") == -1); // i386's
	BOOST_TEST(seccomp::number_of("") == -1);
	BOOST_TEST(seccomp::number_of("zzz") == -1);
	// Every name of the headers comes back as its number.
	for (const seccomp::syscall_name &s : seccomp::header_names)
		BOOST_TEST(seccomp::number_of(s.name) == s.nr, s.name);
}

// Docker's default, run in the kernel: what it refuses, allows and answers ENOSYS.
BOOST_AUTO_TEST_CASE(seccomp_docker_default_in_the_kernel)
{
	seccomp::program p = seccomp::docker_default(docker_caps);
	BOOST_TEST(p.code.size() < 250u);
	auto r = under_filter(p, [](int *out) {
		int fds[2];
		(void)!pipe(fds);
		winsize ws;
		size_t n = 0;
		out[n++] = errno_of(syscall(SYS_getppid));                               // 0 allowed
		out[n++] = errno_of(syscall(SYS_keyctl, 0, -3, 0));                      // 1
		out[n++] = errno_of(syscall(SYS_unshare, 0));                            // 2
		out[n++] = errno_of(syscall(SYS_clone3, nullptr, 0));                    // 3
		long c = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
		if (c == 0)
			_exit(0);
		out[n++] = errno_of(c);                                                  // 4
		out[n++] = errno_of(syscall(SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0)); // 5
		out[n++] = errno_of(syscall(SYS_socket, 38 /* AF_ALG */, SOCK_SEQPACKET, 0)); // 6
		out[n++] = errno_of(syscall(SYS_socket, 1ul << 32 | 40, SOCK_STREAM, 0));   // 7 high bits
		long u = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
		out[n++] = errno_of(u);                                                  // 8
		out[n++] = errno_of(syscall(SYS_ioctl, fds[1], TIOCGWINSZ, &ws));        // 9 ENOTTY
		out[n++] = errno_of(syscall(SYS_ioctl, fds[1], TIOCSTI, "x"));           // 10
		out[n++] = errno_of(syscall(SYS_ioctl, fds[1], 1ul << 32 | TIOCSTI, "x")); // 11
		out[n++] = errno_of(syscall(SYS_personality, 0xffffffffUL));             // 12
		out[n++] = errno_of(syscall(SYS_personality, 0x0040000 /* ADDR_NO_RANDOMIZE */)); // 13
		out[n++] = errno_of(syscall(467 /* open_tree_attr */, -1, "", 0, nullptr, 0)); // 14
		out[n++] = errno_of(syscall(1000));                                      // 15
		out[n++] = errno_of(syscall(0x40000000 | SYS_getpid));                   // 16 x32
		out[n++] = errno_of(syscall(SYS_kcmp, 0, 0, 0, 0, 0));                   // 17
		out[n++] = errno_of(syscall(438 /* pidfd_getfd */, -1, 0, 0));           // 18
		out[n++] = errno_of(syscall(SYS_get_mempolicy, nullptr, nullptr, 0, nullptr, 0)); // 19
		out[n++] = errno_of(syscall(451 /* cachestat */, -1, nullptr, nullptr, 0)); // 20 ENOSYS, as docker 20.10
		out[n++] = errno_of(syscall(459 /* lsm_get_self_attr */, 0, nullptr, nullptr, 0)); // 21
		out[n++] = errno_of(syscall(SYS_userfaultfd, 1 /* UFFD_USER_MODE_ONLY */)); // 22
		out[n++] = errno_of(syscall(SYS_io_uring_setup, 0, nullptr));            // 23
		return n;
	});
	BOOST_REQUIRE(r.size() == 24u);
	BOOST_TEST(r[0] == 0);
	BOOST_TEST(r[1] == EPERM);
	BOOST_TEST(r[2] == EPERM);
	BOOST_TEST(r[3] == ENOSYS); // clone3: libcs fall back to clone
	BOOST_TEST(r[4] == EPERM);  // clone with CLONE_NEWNS
	BOOST_TEST(r[5] == EPERM);
	BOOST_TEST(r[6] == EPERM);
	BOOST_TEST(r[7] == EPERM); // the kernel reads an int: high bits change nothing
	BOOST_TEST(r[8] == 0);
	BOOST_TEST(r[9] == ENOTTY);
	BOOST_TEST(r[10] == EPERM);
	BOOST_TEST(r[11] == EPERM);
	BOOST_TEST(r[12] == 0);
	BOOST_TEST(r[13] == EPERM); // ASLR stays on
	BOOST_TEST(r[14] == ENOSYS); // newer than docker's profile
	BOOST_TEST(r[15] == ENOSYS);
	BOOST_TEST(r[16] == EPERM);
	BOOST_TEST(r[17] == EPERM);
	BOOST_TEST(r[18] == EPERM);
	BOOST_TEST(r[19] == EPERM);
	BOOST_TEST(r[20] == ENOSYS);
	BOOST_TEST(r[21] == EPERM);
	BOOST_TEST(r[22] == EPERM);
	BOOST_TEST(r[23] == EPERM);
}

BOOST_AUTO_TEST_CASE(seccomp_docker_default_opens_groups_with_capabilities)
{
	auto probe = [](int *out) {
		size_t n = 0;
		out[n++] = errno_of(syscall(SYS_kcmp, 0, 0, 0, 0, 0));       // 0 ptrace's
		out[n++] = errno_of(syscall(SYS_unshare, 0));                // 1 admin's
		out[n++] = errno_of(syscall(SYS_clone3, nullptr, 0));        // 2
		out[n++] = errno_of(syscall(SYS_get_mempolicy, nullptr, nullptr, 0, nullptr, 0)); // 3 nice's
		out[n++] = errno_of(syscall(SYS_reboot, 0, 0, 0, nullptr));  // 4 boot's: EINVAL (magic)
		return n;
	};
	auto r = under_filter(seccomp::docker_default(docker_caps | cap(CAP_SYS_PTRACE)), probe);
	BOOST_REQUIRE(r.size() == 5u);
	BOOST_TEST(r[0] == ESRCH);
	BOOST_TEST(r[1] == EPERM);
	BOOST_TEST(r[2] == ENOSYS);
	BOOST_TEST(r[3] == EPERM);
	r = under_filter(seccomp::docker_default(docker_caps | cap(CAP_SYS_ADMIN)), probe);
	BOOST_REQUIRE(r.size() == 5u);
	BOOST_TEST(r[0] == EPERM);
	BOOST_TEST(r[1] == 0);      // unshare(0): allowed
	BOOST_TEST(r[2] == EINVAL); // clone3: the kernel checks its arguments
	r = under_filter(seccomp::docker_default(security::all_caps), probe);
	BOOST_REQUIRE(r.size() == 5u);
	BOOST_TEST(r[0] == ESRCH);
	BOOST_TEST(r[3] == 0);
	BOOST_TEST(r[4] == EINVAL);
}

// The program's meaning, over every number and architecture, without the kernel.
BOOST_AUTO_TEST_CASE(seccomp_docker_default_everywhere)
{
	seccomp::program p = seccomp::docker_default(docker_caps);
	constexpr uint32_t eperm = SECCOMP_RET_ERRNO | EPERM, enosys = SECCOMP_RET_ERRNO | ENOSYS;
	size_t most_steps = 0;
	for (uint32_t nr = 0; nr < 600; nr++) {
		bpf_run r = run_bpf(p, nr);
		BOOST_REQUIRE(r.ok);
		most_steps = std::max(most_steps, r.steps);
		if (nr > 466)
			BOOST_TEST(r.ret == enosys, nr);
	}
	BOOST_TEST(most_steps < 20u); // a binary search: log2 of ~100 intervals, not one test per syscall
	BOOST_TEST(run_bpf(p, SYS_read).ret == SECCOMP_RET_ALLOW);
	BOOST_TEST(run_bpf(p, SYS_ptrace).ret == SECCOMP_RET_ALLOW); // docker's minKernel 4.8 rule
	BOOST_TEST(run_bpf(p, SYS_keyctl).ret == eperm);
	BOOST_TEST(run_bpf(p, SYS_getpid, {}, AUDIT_ARCH_I386).ret == eperm);
	BOOST_TEST(run_bpf(p, 0x40000000 | SYS_getpid).ret == eperm);
	BOOST_TEST(run_bpf(p, 0xffffffff).ret == eperm);
	for (const char *name : {"pidfd_getfd", "process_madvise", "get_mempolicy", "set_mempolicy", "mbind",
				 "set_mempolicy_home_node", "quotactl_fd", "lsm_get_self_attr", "lsm_set_self_attr",
				 "lsm_list_modules", "mount", "umount2", "pivot_root", "setns", "bpf", "kexec_load"})
		BOOST_TEST(run_bpf(p, seccomp::number_of(name)).ret == eperm, name);
	for (const char *name : {"open_tree_attr", "file_getattr", "file_setattr"})
		BOOST_TEST(run_bpf(p, seccomp::number_of(name)).ret == enosys, name);
	for (const char *name : {"cachestat", "futex_waitv", "statmount", "listmount", "mseal", "getxattrat", "fchmodat2"})
		BOOST_TEST(run_bpf(p, seccomp::number_of(name)).ret == enosys, name);
	BOOST_TEST(run_bpf(p, seccomp::number_of("uretprobe")).ret == SECCOMP_RET_ALLOW);
	uint64_t flags[6] = {0x40000 /* ADDR_NO_RANDOMIZE */};
	BOOST_TEST(run_bpf(p, SYS_personality, flags).ret == eperm);
	uint64_t query[6] = {0xffffffff};
	BOOST_TEST(run_bpf(p, SYS_personality, query).ret == SECCOMP_RET_ALLOW);
	uint64_t thread[6] = {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD};
	BOOST_TEST(run_bpf(p, SYS_clone, thread).ret == SECCOMP_RET_ALLOW);
	uint64_t newuser[6] = {CLONE_NEWUSER};
	BOOST_TEST(run_bpf(p, SYS_clone, newuser).ret == eperm);
}

// Every compare, 64 bits wide as libseccomp does them, against C++'s own answer, in the
// kernel (getppid ignores its arguments: the filter alone decides) and in the interpreter.
BOOST_AUTO_TEST_CASE(seccomp_argument_compares_are_64_bits)
{
	constexpr uint64_t v = 0x100000005ull;
	const uint64_t tries[] = {0, 4, 5, 6, 0xffffffff, 0x100000000ull, 0x100000004ull, v, 0x100000006ull,
				  0x200000005ull, 0x0000000500000001ull, ~0ull};
	struct {
		const char *op;
		bool (*holds)(uint64_t);
	} ops[] = {
		{"SCMP_CMP_EQ", [](uint64_t a) { return a == v; }},
		{"SCMP_CMP_NE", [](uint64_t a) { return a != v; }},
		{"SCMP_CMP_LT", [](uint64_t a) { return a < v; }},
		{"SCMP_CMP_LE", [](uint64_t a) { return a <= v; }},
		{"SCMP_CMP_GT", [](uint64_t a) { return a > v; }},
		{"SCMP_CMP_GE", [](uint64_t a) { return a >= v; }},
		{"SCMP_CMP_MASKED_EQ", [](uint64_t a) { return (a & 0x1000000ffull) == v; }},
	};
	for (auto &o : ops) {
		std::string two = std::string(o.op) == "SCMP_CMP_MASKED_EQ" ? R"(, "value": 4294967551, "valueTwo": 4294967301)"
									 : R"(, "value": 4294967301)";
		seccomp::program p = compiled(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getppid"],
			"action": "SCMP_ACT_ERRNO", "errnoRet": 74, "args": [{"index": 3, "op": ")" + std::string(o.op) + "\"" + two + "}]}]}");
		auto r = under_filter(p, [&](int *out) {
			size_t n = 0;
			for (uint64_t a : tries)
				out[n++] = errno_of(syscall(SYS_getppid, 0, 0, 0, a, 0, 0));
			return n;
		});
		BOOST_REQUIRE(r.size() == std::size(tries));
		for (size_t i = 0; i < std::size(tries); i++) {
			BOOST_TEST((r[i] == EBADMSG) == o.holds(tries[i]), o.op << " " << std::hex << tries[i]);
			uint64_t args[6] = {0, 0, 0, tries[i]};
			BOOST_TEST(run_bpf(p, SYS_getppid, args).ret == (o.holds(tries[i]) ? SECCOMP_RET_ERRNO | EBADMSG : SECCOMP_RET_ALLOW));
		}
	}
}

BOOST_AUTO_TEST_CASE(seccomp_pid1_filter_allows_its_loop_first)
{
	// (a default of ALLOW: the sanitizers' exit path makes syscalls of its own)
	seccomp::program p = compiled(R"({"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["wait4", "kill", "getppid"], "action": "SCMP_ACT_ERRNO"}]})");
	seccomp::program q = seccomp::allowing(p, {SYS_wait4, SYS_kill});
	BOOST_TEST(q.code.size() == p.code.size() + 7);
	BOOST_TEST(run_bpf(p, SYS_kill).ret == (SECCOMP_RET_ERRNO | EPERM));
	BOOST_TEST(run_bpf(q, SYS_wait4).ret == SECCOMP_RET_ALLOW);
	BOOST_TEST(run_bpf(q, SYS_kill).ret == SECCOMP_RET_ALLOW);
	BOOST_TEST(run_bpf(q, SYS_getppid).ret == (SECCOMP_RET_ERRNO | EPERM));
	BOOST_TEST(run_bpf(q, SYS_read).ret == SECCOMP_RET_ALLOW);
	BOOST_TEST(run_bpf(q, 0x40000000 | SYS_wait4).ret == (SECCOMP_RET_ERRNO | EPERM));
	BOOST_TEST(run_bpf(q, SYS_wait4, {}, AUDIT_ARCH_I386).ret == (SECCOMP_RET_ERRNO | EPERM));
	auto r = under_filter(q, [](int *out) {
		out[0] = errno_of(syscall(SYS_kill, getpid(), 0));
		out[1] = errno_of(syscall(SYS_getppid));
		return size_t(2);
	});
	BOOST_REQUIRE(r.size() == 2u);
	BOOST_TEST(r[0] == 0);
	BOOST_TEST(r[1] == EPERM);
}

BOOST_AUTO_TEST_CASE(seccomp_rules_in_order_conditions_and_the_oci_format)
{
	// OCI: one rule's compares all hold (AND); rules of a syscall are tried in order, its
	// unconditional action last; unknown names ignored; flags taken.
	seccomp::program p = compiled(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
		"flags": ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"], "architectures": ["SCMP_ARCH_X86_64"],
		"syscalls": [
		{"names": ["write", "no_such_call"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5,
		 "args": [{"index": 0, "value": 7, "op": "SCMP_CMP_EQ"}, {"index": 2, "value": 3, "op": "SCMP_CMP_GE"}]},
		{"names": ["write", "read"], "action": "SCMP_ACT_ALLOW"},
		{"names": ["read"], "action": "SCMP_ACT_KILL_PROCESS"},
		{"name": "getpid", "action": "SCMP_ACT_TRAP"},
		{"names": ["gettid"], "action": "SCMP_ACT_TRACE", "errnoRet": 9},
		{"names": ["getuid"], "action": "SCMP_ACT_LOG"},
		{"names": ["getgid"], "action": "SCMP_ACT_KILL"},
		{"names": ["getegid"], "action": "SCMP_ACT_KILL_THREAD"},
		{"names": ["geteuid"], "action": "SCMP_ACT_ERRNO"}]})");
	BOOST_TEST(p.flags == SECCOMP_FILTER_FLAG_SPEC_ALLOW);
	uint64_t both[6] = {7, 0, 3}, one[6] = {7, 0, 2};
	BOOST_TEST(run_bpf(p, SYS_write, both).ret == (SECCOMP_RET_ERRNO | 5));
	BOOST_TEST(run_bpf(p, SYS_write, one).ret == SECCOMP_RET_ALLOW);
	BOOST_TEST(run_bpf(p, SYS_read).ret == SECCOMP_RET_ALLOW); // the first unconditional one
	BOOST_TEST(run_bpf(p, SYS_getpid).ret == SECCOMP_RET_TRAP);
	BOOST_TEST(run_bpf(p, SYS_gettid).ret == (SECCOMP_RET_TRACE | 9));
	BOOST_TEST(run_bpf(p, SYS_getuid).ret == SECCOMP_RET_LOG);
	BOOST_TEST(run_bpf(p, SYS_getgid).ret == SECCOMP_RET_KILL_THREAD);
	BOOST_TEST(run_bpf(p, SYS_getegid).ret == SECCOMP_RET_KILL_THREAD);
	BOOST_TEST(run_bpf(p, SYS_geteuid).ret == (SECCOMP_RET_ERRNO | EPERM)); // a rule's errno is EPERM unless given
	BOOST_TEST(run_bpf(p, SYS_close).ret == (SECCOMP_RET_ERRNO | 38));
	BOOST_TEST(run_bpf(p, 300).ret == (SECCOMP_RET_ERRNO | 38));
	BOOST_TEST(run_bpf(p, 0x40000000 | SYS_read).ret == (SECCOMP_RET_ERRNO | 38));
	BOOST_TEST(run_bpf(p, SYS_read, {}, AUDIT_ARCH_I386).ret == (SECCOMP_RET_ERRNO | 38));
	// docker's includes and excludes: capabilities, architectures, minKernel.
	std::string groups = R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
		{"names": ["getpid"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]}},
		{"names": ["getppid"], "action": "SCMP_ACT_ALLOW", "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
		{"names": ["gettid"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
		{"names": ["getuid"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}},
		{"names": ["getgid"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["amd64"]}},
		{"names": ["geteuid"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "6.1"}},
		{"names": ["getegid"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}}]})";
	seccomp::program admin, plain, kernel5;
	char err[160];
	BOOST_REQUIRE(seccomp::compile(groups, cap(CAP_SYS_ADMIN) | cap(CAP_NET_ADMIN), admin, err, sizeof err, 6 << 16 | 18));
	BOOST_REQUIRE(seccomp::compile(groups, cap(CAP_SYS_ADMIN), plain, err, sizeof err, 6 << 16 | 18));
	BOOST_REQUIRE(seccomp::compile(groups, 0, kernel5, err, sizeof err, 5 << 16 | 10));
	BOOST_TEST(run_bpf(admin, SYS_getpid).ret == SECCOMP_RET_ALLOW);
	BOOST_TEST(run_bpf(plain, SYS_getpid).ret != SECCOMP_RET_ALLOW); // every cap listed is needed
	BOOST_TEST(run_bpf(admin, SYS_getppid).ret != SECCOMP_RET_ALLOW);
	BOOST_TEST(run_bpf(kernel5, SYS_getppid).ret == SECCOMP_RET_ALLOW);
	BOOST_TEST(run_bpf(admin, SYS_gettid).ret != SECCOMP_RET_ALLOW);
	BOOST_TEST(run_bpf(admin, SYS_getuid).ret == SECCOMP_RET_ALLOW);
	BOOST_TEST(run_bpf(admin, SYS_getgid).ret != SECCOMP_RET_ALLOW);
	BOOST_TEST(run_bpf(admin, SYS_geteuid).ret == SECCOMP_RET_ALLOW);
	BOOST_TEST(run_bpf(kernel5, SYS_geteuid).ret != SECCOMP_RET_ALLOW);
	BOOST_TEST(run_bpf(admin, SYS_getegid).ret != SECCOMP_RET_ALLOW);
}

BOOST_AUTO_TEST_CASE(seccomp_bad_profiles_are_refused_in_one_line)
{
	BOOST_TEST(compile_error("{\"defaultAction\": ").find("truncated JSON") != std::string::npos);
	BOOST_TEST(compile_error("[]").find("expected an object") != std::string::npos);
	BOOST_TEST(compile_error("{}") == "defaultAction: missing");
	BOOST_TEST(compile_error(R"({"defaultAction": "SCMP_ACT_MAYBE"})") == "defaultAction: unknown action SCMP_ACT_MAYBE");
	BOOST_TEST(compile_error(R"({"defaultAction": "SCMP_ACT_NOTIFY"})").find("SCMP_ACT_NOTIFY is not supported") != std::string::npos);
	BOOST_TEST(compile_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "listenerPath": "/run/agent.sock"})").find("listenerPath") == 0);
	BOOST_TEST(compile_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000})").find("defaultErrnoRet") == 0);
	BOOST_TEST(compile_error(R"({"defaultAction": "SCMP_ACT_ERRNO", "flags": ["SECCOMP_FILTER_FLAG_NEW_LISTENER"]})").find("unknown flag") != std::string::npos);
	std::string head = R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}, )";
	BOOST_TEST(compile_error(head + R"({"names": ["write"], "action": "SCMP_ACT_NOTIFY"}]})") ==
		   "syscalls[1]: SCMP_ACT_NOTIFY is not supported (no seccomp agent)");
	BOOST_TEST(compile_error(head + R"({"names": ["write"], "action": "SCMP_ACT_ALLOW",
		"args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]})") == "syscalls[1].args[0]: unknown operator SCMP_CMP_ABOUT");
	BOOST_TEST(compile_error(head + R"({"names": ["write"], "action": "SCMP_ACT_ALLOW",
		"args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})") == "syscalls[1].args[0]: index: expected 0 to 5");
	BOOST_TEST(compile_error(head + R"({"names": ["write"], "action": "SCMP_ACT_ALLOW",
		"args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]})").find("value") != std::string::npos);
	BOOST_TEST(compile_error(head + R"({"names": ["write"], "action": "SCMP_ACT_ALLOW",
		"args": [{"index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_EQ"}]}]})").find("value") != std::string::npos);
	BOOST_TEST(compile_error(head + R"({"names": "write", "action": "SCMP_ACT_ALLOW"}]})").find("names") != std::string::npos);
	BOOST_TEST(compile_error(head + R"({"action": "SCMP_ACT_ALLOW"}]})") == "syscalls[1]: no names");
	BOOST_TEST(compile_error(head + R"({"names": ["write"]}]})").find("syscalls[1]: expected an action") == 0);
	BOOST_TEST(compile_error(head + R"({"names": ["write"], "action": "SCMP_ACT_ERRNO", "errnoRet": "x"}]})").find("errno") != std::string::npos);
	BOOST_TEST(compile_error(head + R"({"names": ["write"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "new"}}]})").find("minKernel") != std::string::npos);
	// Four 64-bit compares in each of 240 rules: more than the kernel loads; 257 rules
	// with arguments: more than the compiler holds.
	std::string many = R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [)";
	std::string cmp = R"({"index": 1, "value": 1, "op": "SCMP_CMP_GT"})";
	for (int i = 0; i < 120; i++)
		many += std::string(i ? "," : "") + R"({"names": ["read", "write"], "action": "SCMP_ACT_ERRNO", "args": [)" +
			cmp + "," + cmp + "," + cmp + "," + cmp + "]}";
	BOOST_TEST(compile_error(many + "]}").find("more than the kernel's 4096") != std::string::npos);
	for (int i = 0; i < 17; i++)
		many += R"(,{"names": ["close"], "action": "SCMP_ACT_ERRNO", "args": [)" + cmp + "]}";
	BOOST_TEST(compile_error(many + "]}") == "syscalls[136]: more than 256 rules with arguments");
}

// podman's profile (docker's format, package golang-github-containers-common) compiles,
// and in the kernel refuses what it refuses and allows what it allows.
BOOST_AUTO_TEST_CASE(seccomp_podmans_profile)
{
	std::ifstream f("/usr/share/containers/seccomp.json");
	BOOST_REQUIRE_MESSAGE(f, "/usr/share/containers/seccomp.json: install golang-github-containers-common");
	std::stringstream text;
	text << f.rdbuf();
	seccomp::program p = compiled(text.str());
	BOOST_TEST(p.code.size() < 400u);
	auto r = under_filter(p, [](int *out) {
		size_t n = 0;
		out[n++] = errno_of(syscall(SYS_getppid));
		out[n++] = errno_of(syscall(SYS_kexec_load, 0, 0, nullptr, 0));    // EPERM by name
		out[n++] = errno_of(syscall(SYS_io_pgetevents, 0, 0, 0, nullptr, nullptr, nullptr)); // EPERM: docker's allows it
		out[n++] = errno_of(syscall(467 /* open_tree_attr */, -1, "", 0, nullptr, 0)); // not named: podman's ENOSYS
		long s = syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */);
		out[n++] = errno_of(s);                                           // refused without AUDIT_WRITE
		return n;
	});
	BOOST_REQUIRE(r.size() == 5u);
	BOOST_TEST(r[0] == 0);
	BOOST_TEST(r[1] == EPERM);
	BOOST_TEST(r[2] == EPERM);
	BOOST_TEST(r[3] == ENOSYS);
	BOOST_TEST(r[4] == 0); // docker's 14 hold AUDIT_WRITE
	uint64_t audit[6] = {AF_NETLINK, SOCK_RAW, 9};
	BOOST_TEST(run_bpf(compiled(text.str(), docker_caps & ~cap(CAP_AUDIT_WRITE)), SYS_socket, audit).ret == (SECCOMP_RET_ERRNO | EINVAL));
}

// Runs the device program as the kernel would, over exactly the instructions
// make_device_program emits; anything else fails the test. 1 allows, 0 refuses.
struct device_run {
	bool ok = true;
	uint64_t r0 = 99;
};

device_run run_device_program(std::span<const bpf_insn> code, uint32_t type, uint32_t access, uint32_t major,
			      uint32_t minor)
{
	bpf_cgroup_dev_ctx ctx = {access << 16 | type, major, minor};
	uint64_t r[11] = {};
	const size_t n = code.size();
	for (size_t pc = 0, steps = 0; pc < n && steps < 4 * n; steps++) {
		const bpf_insn &in = code[pc];
		uint64_t src = BPF_SRC(in.code) == BPF_X ? r[in.src_reg] : uint64_t(int64_t(in.imm));
		uint64_t &dst = r[in.dst_reg];
		size_t next = pc + 1;
		switch (in.code) {
		case BPF_LDX | BPF_MEM | BPF_W: {
			if (in.src_reg != BPF_REG_1 || in.off < 0 || size_t(in.off) + 4 > sizeof ctx || in.off % 4)
				return {false};
			uint32_t field;
			memcpy(&field, reinterpret_cast<const char *>(&ctx) + in.off, 4);
			dst = field;
			break;
		}
		case BPF_LD | BPF_DW | BPF_IMM:
			if (pc + 1 >= n || code[pc + 1].code != 0)
				return {false};
			dst = uint64_t(uint32_t(in.imm)) | uint64_t(uint32_t(code[pc + 1].imm)) << 32;
			next = pc + 2;
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K: case BPF_ALU64 | BPF_MOV | BPF_X: dst = src; break;
		case BPF_ALU64 | BPF_AND | BPF_K: dst &= src; break;
		case BPF_ALU64 | BPF_OR | BPF_X: dst |= src; break;
		case BPF_ALU64 | BPF_LSH | BPF_K: dst <<= src; break;
		case BPF_ALU64 | BPF_RSH | BPF_K: dst >>= src; break;
		case BPF_JMP | BPF_JEQ | BPF_K: case BPF_JMP | BPF_JEQ | BPF_X:
		case BPF_JMP | BPF_JNE | BPF_K: case BPF_JMP | BPF_JNE | BPF_X:
		case BPF_JMP | BPF_JSET | BPF_K:
			if (in.off < 0 || pc + 1 + size_t(in.off) >= n) // forward, inside the program
				return {false};
			if (BPF_OP(in.code) == BPF_JEQ ? dst == src : BPF_OP(in.code) == BPF_JNE ? dst != src : (dst & src) != 0)
				next = pc + 1 + size_t(in.off);
			break;
		case BPF_JMP | BPF_EXIT: return {true, r[0]};
		default: return {false};
		}
		pc = next;
	}
	return {false}; // ran off the end
}

constexpr uint32_t blk = BPF_DEVCG_DEV_BLOCK, chr = BPF_DEVCG_DEV_CHAR;
constexpr uint32_t acc_m = BPF_DEVCG_ACC_MKNOD, acc_r = BPF_DEVCG_ACC_READ, acc_w = BPF_DEVCG_ACC_WRITE;

// docker's defaults, spelled out here rather than read from the table.
BOOST_AUTO_TEST_CASE(device_program_allows_dockers_devices_and_mknod_only)
{
	constexpr security::device_program p = security::make_device_program();
	struct {
		uint32_t type, major, minor, access;
		bool allowed;
	} cases[] = {
		{chr, 1, 3, acc_r | acc_w, true},  {chr, 1, 5, acc_r, true},           {chr, 1, 7, acc_w, true},
		{chr, 1, 8, acc_r, true},          {chr, 1, 9, acc_r | acc_w, true},   {chr, 5, 0, acc_r | acc_w, true},
		{chr, 5, 1, acc_w, true},          {chr, 5, 2, acc_r | acc_w, true},   {chr, 136, 0, acc_r | acc_w, true},
		{chr, 136, 1048575, acc_r, true},  {chr, 10, 200, acc_r | acc_w, true}, {chr, 1, 3, acc_m | acc_r | acc_w, true},
		// mknod of anything, char or block
		{blk, 7, 0, acc_m, true}, {blk, 8, 0, acc_m, true}, {chr, 1, 1, acc_m, true}, {chr, 1, 11, acc_m, true},
		{chr, 0, 0, acc_m, true}, {blk, 4095, 1048575, acc_m, true},
		// and nothing else opened
		{blk, 7, 0, acc_r, false},         {blk, 7, 0, acc_w, false},          {blk, 7, 0, acc_m | acc_r, false},
		{blk, 8, 0, acc_r | acc_w, false}, {blk, 1, 3, acc_r, false},          {blk, 136, 0, acc_r, false},
		{chr, 1, 1, acc_r, false},         {chr, 1, 2, acc_r, false},          {chr, 1, 4, acc_w, false},
		{chr, 1, 6, acc_r, false},         {chr, 1, 10, acc_r, false},         {chr, 1, 11, acc_w, false},
		{chr, 5, 3, acc_r, false},         {chr, 4, 64, acc_r | acc_w, false}, {chr, 135, 0, acc_r, false},
		{chr, 137, 0, acc_r, false},       {chr, 10, 199, acc_r, false},       {chr, 10, 201, acc_r, false},
		{chr, 10, 229, acc_r | acc_w, false}, {chr, 10, 232, acc_r | acc_w, false}, {chr, 10, 126, acc_r, false},
		{chr, 10, 237, acc_r, false},      {chr, 0, 0, acc_r, false},          {chr, 3, 1, acc_r, false},
		{chr, 1 + (1 << 8), 3, acc_r, false}, {chr, 1, 3 + (1 << 8), acc_r, false},
	};
	for (const auto &c : cases) {
		device_run run = run_device_program(p.code, c.type, c.access, c.major, c.minor);
		BOOST_TEST(run.ok);
		BOOST_TEST(run.r0 == (c.allowed ? 1u : 0u),
			   (c.type == blk ? 'b' : 'c') << ' ' << c.major << ':' << c.minor << " access " << c.access);
	}
}

// The program decides as the table reads, over every access and the edges of each rule
// (the kernel's majors have 12 bits, its minors 20: dev_t).
BOOST_AUTO_TEST_CASE(device_program_decides_as_its_table)
{
	constexpr security::device_program p = security::make_device_program();
	std::vector<uint32_t> majors = {4095}, minors = {1048575};
	for (const security::device_rule &r : security::device_rules)
		for (int d : {-1, 0, 1}) {
			if (r.major >= 0 && r.major + d >= 0)
				majors.push_back(uint32_t(r.major + d));
			if (r.minor >= 0 && r.minor + d >= 0)
				minors.push_back(uint32_t(r.minor + d));
		}
	size_t allowed = 0, total = 0;
	for (uint32_t type : {blk, chr})
		for (uint32_t access = 1; access <= 7; access++)
			for (uint32_t major : majors)
				for (uint32_t minor : minors) {
					bool want = false;
					for (const security::device_rule &r : security::device_rules)
						want |= (r.type == 'b' ? blk : chr) == type && (r.major < 0 || uint32_t(r.major) == major) &&
							(r.minor < 0 || uint32_t(r.minor) == minor) &&
							(access & ~uint32_t(r.access)) == 0;
					device_run run = run_device_program(p.code, type, access, major, minor);
					BOOST_TEST(run.ok);
					BOOST_TEST(run.r0 == (want ? 1u : 0u), type << ' ' << major << ':' << minor << " access " << access);
					allowed += want, total++;
				}
	BOOST_TEST(allowed > 0u);
	BOOST_TEST(allowed < total);
}

// The kernel's verifier takes a program (as root; others may not load one).
void check_verifier_takes(std::span<const bpf_insn> code)
{
	static char log[1 << 16];
	bpf_attr a = {};
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = uint64_t(uintptr_t(code.data()));
	a.insn_cnt = uint32_t(code.size());
	a.license = uint64_t(uintptr_t(""));
	a.log_level = 1;
	a.log_buf = uint64_t(uintptr_t(log));
	a.log_size = sizeof log;
	int fd = int(syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a));
	if (fd < 0 && errno == EPERM && geteuid() != 0) {
		BOOST_TEST_MESSAGE("not root: the verifier is not asked");
		return;
	}
	BOOST_TEST(fd >= 0, "BPF_PROG_LOAD: " << strerror(errno) << "\n" << log);
	if (fd >= 0)
		close(fd);
}

BOOST_AUTO_TEST_CASE(device_program_passes_the_kernels_verifier)
{
	static constexpr security::device_program p = security::make_device_program();
	check_verifier_takes(p.code);
}

BOOST_AUTO_TEST_CASE(device_rules_as_the_v1_controller_spells_them)
{
	std::vector<std::string> text;
	for (const security::device_rule &r : security::device_rules) {
		char t[40];
		limits::v1_device_rule(r, t);
		text.push_back(t);
	}
	std::vector<std::string> want = {"c *:* m",   "b *:* m",   "c 1:3 rwm", "c 1:5 rwm",   "c 1:7 rwm",   "c 1:8 rwm",
					 "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm"};
	BOOST_TEST(text == want, boost::test_tools::per_element());
}

// A config's rules, as runc reads them: in order, the last that matches decides; none: refused.
bool device_rules_decide(std::span<const security::device_rule> rules, uint32_t type, uint32_t access, uint32_t major,
			 uint32_t minor)
{
	bool allowed = false;
	for (const security::device_rule &r : rules)
		if ((r.type == 'a' || (r.type == 'b' ? blk : chr) == type) && (r.major < 0 || uint32_t(r.major) == major) &&
		    (r.minor < 0 || uint32_t(r.minor) == minor) && (access & ~uint32_t(r.access)) == 0)
			allowed = r.allow;
	return allowed;
}

// The program made at run time decides as the rules read, over every access and the edges
// of each rule, and the kernel's verifier takes it.
void check_runtime_program(std::span<const security::device_rule> rules)
{
	security::device_program_of_rules p = security::make_device_program(rules);
	BOOST_TEST_REQUIRE(p.length > 0u);
	std::span<const bpf_insn> code(p.code, p.length);
	std::vector<uint32_t> majors = {0, 4095}, minors = {0, 1048575};
	for (const security::device_rule &r : rules)
		for (int d : {-1, 0, 1}) {
			if (r.major >= 0 && r.major + d >= 0)
				majors.push_back(uint32_t(r.major + d));
			if (r.minor >= 0 && r.minor + d >= 0)
				minors.push_back(uint32_t(r.minor + d));
		}
	for (uint32_t type : {blk, chr})
		for (uint32_t access = 1; access <= 7; access++)
			for (uint32_t major : majors)
				for (uint32_t minor : minors) {
					device_run run = run_device_program(code, type, access, major, minor);
					BOOST_TEST(run.ok);
					BOOST_TEST(run.r0 == (device_rules_decide(rules, type, access, major, minor) ? 1u : 0u),
						   type << ' ' << major << ':' << minor << " access " << access);
				}
	check_verifier_takes(code);
}

constexpr uint8_t d_r = security::dev_r, d_w = security::dev_w, d_m = security::dev_m, d_rwm = security::dev_rwm;

BOOST_AUTO_TEST_CASE(device_program_from_a_configs_rules_last_match_wins)
{
	// runc's spec default: deny all, then allows; a later deny takes back part of an allow
	const security::device_rule oci[] = {
		{'a', -1, -1, d_rwm, false}, {'c', 1, 3, d_rwm, true}, {'c', -1, -1, d_m, true}, {'b', 8, -1, d_r, true},
		{'c', 1, 3, d_w, false},     {'c', 136, -1, d_rwm, true}, {'c', -1, 7, d_r, true}, {'a', 10, -1, d_r | d_w, true},
	};
	check_runtime_program(oci);
	// everything, then some taken away (a --privileged with a hole)
	const security::device_rule all_but[] = {{'a', -1, -1, d_rwm, true}, {'b', 7, -1, d_r | d_w, false}, {'a', -1, 9, d_w, false}};
	check_runtime_program(all_but);
	// a catch-all last: nothing before it is asked, so it is left out
	const security::device_rule catch_all[] = {{'c', 1, 3, d_rwm, true}, {'b', 8, 0, d_r, true}, {'a', -1, -1, d_rwm, false}};
	check_runtime_program(catch_all);
	BOOST_TEST(security::make_device_program(catch_all).length == security::device_prologue_length + 2);
	// one major of any type, one minor of one type
	const security::device_rule majors[] = {{'a', 4, -1, d_rwm, true}, {'b', -1, 0, d_m | d_r, true}, {'a', 4, 64, d_w, false}};
	check_runtime_program(majors);
	// none at all: every device refused
	check_runtime_program({});
	device_run run = run_device_program(security::make_device_program({}).code, chr, d_r, 1, 3);
	BOOST_TEST((run.ok && run.r0 == 0));
	// docker's table through the runtime builder: the same program as the constexpr one
	constexpr security::device_program fixed = security::make_device_program();
	security::device_program_of_rules p = security::make_device_program(security::device_rules);
	BOOST_TEST_REQUIRE(p.length == std::size(fixed.code));
	BOOST_TEST(memcmp(p.code, fixed.code, sizeof fixed.code) == 0);
	check_runtime_program(security::device_rules);
}

BOOST_AUTO_TEST_CASE(device_program_refuses_invalid_rules_and_too_many)
{
	const security::device_rule bad[][1] = {
		{{'x', -1, -1, d_rwm}}, {{'c', 4096, 0, d_rwm}}, {{'c', 1, 1 << 20, d_rwm}}, {{'c', 1, 3, 0}}, {{'c', 1, 3, 8}}, {{'b', -2, 0, d_r}},
	};
	for (const auto &r : bad)
		BOOST_TEST(security::make_device_program(r).length == 0u);
	std::vector<security::device_rule> many(security::max_device_rules, {'c', 1, 3, d_rwm});
	BOOST_TEST(security::make_device_program(many).length > 0u);
	many.push_back({'c', 1, 5, d_rwm});
	BOOST_TEST(security::make_device_program(many).length == 0u);
	// the longest rules, as many as fit
	std::vector<security::device_rule> longest(security::max_device_rules, {'c', 1, 3, d_r, false});
	BOOST_TEST(security::make_device_program(longest).length <= std::size(security::device_program_of_rules{}.code));
}

BOOST_AUTO_TEST_CASE(device_rules_of_a_config_as_the_v1_controller_spells_them)
{
	const security::device_rule rules[] = {{'a', -1, -1, d_rwm, false}, {'c', 1, 3, d_r | d_w}, {'b', 8, -1, d_r}, {'c', -1, 7, d_m}};
	std::vector<std::string> text;
	for (const security::device_rule &r : rules) {
		char t[40];
		limits::v1_device_rule(r, t);
		text.push_back(t);
	}
	std::vector<std::string> want = {"a *:* rwm", "c 1:3 rw", "b 8:* r", "c *:7 m"};
	BOOST_TEST(text == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(cgroup_paths_of_oci_and_systemd_forms)
{
	struct {
		const char *spec, *want; // want null: refused
	} cases[] = {
		{"/machine/abc", "/machine/abc"},
		{"machine/abc", "/machine/abc"},
		{"/a//b/", "/a/b"},
		{"/", nullptr},
		{"", nullptr},
		{"/a/../b", nullptr},
		{"/a/./b", nullptr},
		{"machine.slice:libpod:abc", "/machine.slice/libpod-abc.scope"},
		{"machine-abc.slice:libpod:x", "/machine.slice/machine-abc.slice/libpod-x.scope"},
		{"a-b-c.slice:p:n", "/a.slice/a-b.slice/a-b-c.slice/p-n.scope"},
		{":docker:123", "/system.slice/docker-123.scope"},
		{"-.slice:p:n", "/p-n.scope"},
		{"user.slice::n", "/user.slice/n.scope"},
		{"system.slice:p:child.slice", "/system.slice/child.slice"},
		{"bad:p:n", nullptr},
		{"a--b.slice:p:n", nullptr},
		{"-a.slice:p:n", nullptr},
		{"machine.slice:p:", nullptr},
		{"machine.slice:p:../x", nullptr},
		{"machine.slice:p", nullptr},
		{"a/b.slice:p:n", nullptr},
	};
	for (const auto &c : cases) {
		char out[256];
		bool ok = limits::cgroup_path(c.spec, out, sizeof out);
		BOOST_TEST(ok == (c.want != nullptr), c.spec);
		if (ok && c.want)
			BOOST_TEST(std::string(out) == c.want, c.spec);
	}
	char tiny[8];
	BOOST_TEST(!limits::cgroup_path("/abcdefgh", tiny, sizeof tiny));
	BOOST_TEST(!limits::cgroup_path("machine.slice:p:n", tiny, sizeof tiny));
}

BOOST_AUTO_TEST_CASE(cpu_shares_map_to_weight_as_docker)
{
	BOOST_TEST(limits::shares_to_weight(2) == 1u);
	BOOST_TEST(limits::shares_to_weight(1024) == 39u); // docker's default shares: weight 39, not 100
	BOOST_TEST(limits::shares_to_weight(512) == 20u);
	BOOST_TEST(limits::shares_to_weight(262144) == 10000u);
	BOOST_TEST(limits::shares_to_weight(1) == 1u);        // below the range: its floor
	BOOST_TEST(limits::shares_to_weight(1u << 30) == 10000u);
}

std::vector<std::string> settings_text(const limits::resources &r, bool v2)
{
	limits::setting s[limits::max_settings];
	size_t n;
	const char *why;
	std::vector<std::string> out;
	if (!limits::settings(r, v2, s, n, why))
		return {std::string("refused: ") + why};
	for (size_t i = 0; i < n; i++)
		out.push_back(std::string(s[i].controller) + " " + s[i].file + "=" + s[i].value);
	return out;
}

BOOST_AUTO_TEST_CASE(resources_as_cgroup_v2_and_v1_files)
{
	// the launcher's flags: --memory 32m (no swap beyond it), --cpus 0.5, --pids-limit 50
	limits::request q;
	q.memory = 32 << 20, q.cpu_quota_us = 50000, q.pids = 50;
	std::vector<std::string> v2 = {"memory memory.max=33554432", "memory memory.swap.max=0", "cpu cpu.max=50000 100000",
				       "pids pids.max=50"};
	BOOST_TEST(settings_text(limits::resources_of(q), true) == v2, boost::test_tools::per_element());
	std::vector<std::string> v1 = {"memory memory.limit_in_bytes=33554432", "memory memory.memsw.limit_in_bytes=33554432",
				       "cpu cpu.cfs_period_us=100000", "cpu cpu.cfs_quota_us=50000", "pids pids.max=50"};
	BOOST_TEST(settings_text(limits::resources_of(q), false) == v1, boost::test_tools::per_element());
	BOOST_TEST(settings_text(limits::resources_of({}), true).empty());
	// an OCI config's: everything, swap as memory plus swap
	limits::resources r;
	r.memory = 1 << 30, r.memory_reservation = 512 << 20, r.memory_swap = 3 << 29, r.cpu_shares = 512;
	r.cpu_quota = 20000, r.cpu_period = 50000, r.cpus = "0-1", r.mems = "0", r.pids = -1;
	v2 = {"memory memory.max=1073741824", "memory memory.low=536870912", "memory memory.swap.max=536870912",
	      "cpu cpu.weight=20", "cpu cpu.max=20000 50000", "cpuset cpuset.cpus=0-1", "cpuset cpuset.mems=0", "pids pids.max=max"};
	BOOST_TEST(settings_text(r, true) == v2, boost::test_tools::per_element());
	v1 = {"memory memory.limit_in_bytes=1073741824", "memory memory.soft_limit_in_bytes=536870912",
	      "memory memory.memsw.limit_in_bytes=1610612736", "cpu cpu.shares=512", "cpu cpu.cfs_period_us=50000",
	      "cpu cpu.cfs_quota_us=20000", "cpuset cpuset.cpus=0-1", "cpuset cpuset.mems=0", "pids pids.max=max"};
	BOOST_TEST(settings_text(r, false) == v1, boost::test_tools::per_element());
	// unlimited
	limits::resources u;
	u.memory = -1, u.memory_swap = -1, u.cpu_quota = -1, u.cpu_period = 100000;
	v2 = {"memory memory.max=max", "memory memory.swap.max=max", "cpu cpu.max=max 100000"};
	BOOST_TEST(settings_text(u, true) == v2, boost::test_tools::per_element());
	v1 = {"memory memory.limit_in_bytes=-1", "memory memory.memsw.limit_in_bytes=-1", "cpu cpu.cfs_period_us=100000",
	      "cpu cpu.cfs_quota_us=-1"};
	BOOST_TEST(settings_text(u, false) == v1, boost::test_tools::per_element());
	// inconsistent
	limits::resources bad;
	bad.memory = 64 << 20, bad.memory_swap = 32 << 20;
	BOOST_TEST(settings_text(bad, true)[0] == "refused: memory and swap together below the memory limit");
	bad = {};
	bad.memory_swap = 32 << 20;
	BOOST_TEST(settings_text(bad, true)[0] == "refused: a swap limit without a memory limit");
	bad = {};
	bad.cpu_quota = 500;
	BOOST_TEST(settings_text(bad, false)[0] == "refused: a CPU period outside 1 ms to 1 s, or a quota under 1 ms");
	bad = {};
	bad.cpu_period = 2000000;
	BOOST_TEST(settings_text(bad, true)[0] == "refused: a CPU period outside 1 ms to 1 s, or a quota under 1 ms");
	bad = {};
	bad.cpus = "0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15";
	BOOST_TEST(settings_text(bad, true)[0] == "refused: a cpuset list over 31 characters");
}

BOOST_AUTO_TEST_CASE(cgroup_files_read)
{
	BOOST_TEST(limits::own_cgroup("12:pids:/x\n0::/user.slice/session-1.scope\n") == "/user.slice/session-1.scope");
	BOOST_TEST(limits::own_cgroup("0::/\n") == "/");
	BOOST_TEST(limits::own_cgroup("0::/a") == "/a");
	BOOST_TEST(limits::own_cgroup("1:name=systemd:/\n").empty());
	BOOST_TEST(limits::own_cgroup("10::/x\n").empty());
	pid_t p[2];
	BOOST_TEST(limits::parse_pids("1\n42\n7\n", p, 2) == 3u);
	BOOST_TEST((p[0] == 1 && p[1] == 42));
	BOOST_TEST(limits::parse_pids("", p, 2) == 0u);
	BOOST_TEST(limits::parse_pids("x\n\n5", p, 2) == 1u);
	BOOST_TEST(p[0] == 5);
	const char *events = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n";
	BOOST_TEST(limits::keyed_value(events, "oom_kill") == 2u);
	BOOST_TEST(limits::keyed_value(events, "oom") == 3u);
	BOOST_TEST(limits::keyed_value(events, "oom_group_kill") == 0u);
	BOOST_TEST(limits::keyed_value("oom_kill_disable 0\nunder_oom 0\noom_kill 1\n", "oom_kill") == 1u); // v1's oom_control
	BOOST_TEST(limits::keyed_value("populated 1\nfrozen 1\n", "frozen") == 1u);
	BOOST_TEST(limits::keyed_value("frozen x\n", "frozen") == 0u);
	BOOST_TEST(limits::has_controllers("cpu memory pids\n", "+memory +pids"));
	BOOST_TEST(limits::has_controllers("cpuset cpu io memory\n", "+cpu"));
	BOOST_TEST(!limits::has_controllers("cpuset io memory\n", "+memory +cpu"));
	BOOST_TEST(!limits::has_controllers("\n", "+pids"));
	BOOST_TEST(limits::has_controllers("", ""));
}

std::string cgroup_file(const limits::cgroup &cg, const char *controller, const char *file)
{
	char dir[PATH_MAX], text[256];
	limits::dir_of(cg, controller, dir);
	return limits::read_value(dir, file, text, sizeof text) < 0 ? "(unreadable)" : std::string(text, strcspn(text, "\n"));
}

// A child moved into cg before it opens devices (cg's rules: /dev/null and /dev/zero
// allowed, /dev/full not), listed, frozen and thawed, killed with every process of cg; then
// cg removed, and the parents its path made.
void exercise_cgroup(limits::cgroup &cg)
{
	// a child, moved in before it opens devices: /dev/null and /dev/zero allowed, /dev/full not
	int go[2], said[2];
	BOOST_TEST_REQUIRE(pipe(go) == 0);
	BOOST_TEST_REQUIRE(pipe(said) == 0);
	pid_t child = fork();
	if (child == 0) {
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		int null = open("/dev/null", O_WRONLY), zero = open("/dev/zero", O_RDONLY), full = open("/dev/full", O_WRONLY);
		char answer[3] = {null >= 0 ? 'y' : 'n', zero >= 0 ? 'y' : 'n', full < 0 && errno == EPERM ? 'p' : 'o'};
		if (write(said[1], answer, 3) != 3)
			_exit(1);
		for (;;)
			pause();
	}
	BOOST_TEST_REQUIRE(child > 0);
	limits::enter(cg, child, false);
	pid_t in[4];
	BOOST_TEST(limits::pids(cg, in, 4) == 1u);
	BOOST_TEST(in[0] == child);
	BOOST_TEST(write(go[1], "g", 1) == 1);
	char answer[4] = "";
	BOOST_TEST(read(said[0], answer, 3) == 3);
	BOOST_TEST(std::string(answer) == "yyp");

	limits::freeze(cg, true);
	bool frozen = false;
	for (int i = 0; i < 200 && !(frozen = limits::frozen(cg)); i++)
		usleep(5000);
	BOOST_TEST(frozen);
	limits::freeze(cg, false);
	for (int i = 0; i < 200 && limits::frozen(cg); i++)
		usleep(5000);
	BOOST_TEST(!limits::frozen(cg));

	limits::kill_all(cg);
	int ws = 0;
	BOOST_TEST(waitpid(child, &ws, 0) == child);
	BOOST_TEST((WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL));
	for (int i = 0; i < 100 && limits::pids(cg, in, 4) != 0; i++)
		usleep(1000);
	BOOST_TEST(limits::pids(cg, in, 4) == 0u);
	char dirs[8][PATH_MAX];
	size_t n = 0;
	limits::dir_of(cg, nullptr, dirs[n++]);
	for (const char *c : {"memory", "pids", "cpu", "cpuset", "freezer"})
		if (!cg.v2)
			limits::dir_of(cg, c, dirs[n++]);
	limits::remove(cg);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		BOOST_TEST(stat(dirs[i], &st) < 0, dirs[i]);
		*strrchr(dirs[i], '/') = 0; // the parent the path made stays (it may be shared): ours to remove here
		BOOST_TEST(rmdir(dirs[i]) == 0, dirs[i]);
	}
	for (int fd : {go[0], go[1], said[0], said[1]})
		close(fd);
}

// The OCI mode's operations on this machine's cgroups (hybrid here, v2 in a VM): a cgroup
// at an explicit path, its limits written, a process in it listed, frozen and thawed, its
// device rules enforced, every process killed, the directories removed.
BOOST_AUTO_TEST_CASE(cgroup_api_on_this_host)
{
	if (geteuid() != 0) {
		BOOST_TEST_MESSAGE("not root: no cgroup is made");
		return;
	}
	char spec[64];
	snprintf(spec, sizeof spec, "/lunit-%d/c", getpid());
	limits::cgroup cg;
	limits::resources r;
	r.memory = 64 << 20, r.pids = 20, r.cpu_shares = 512, r.cpu_quota = 50000, r.cpu_period = 100000, r.cpus = "0";
	const security::device_rule rules[] = {{'a', -1, -1, d_rwm, false}, {'c', 1, 3, d_rwm, true}, {'c', 1, 5, d_rwm, true}};
	r.set_devices = true, r.devices = rules;
	limits::create_at(cg, spec, r);
	BOOST_TEST(std::string(cg.path) == spec);
	BOOST_TEST(cgroup_file(cg, "memory", cg.v2 ? "memory.max" : "memory.limit_in_bytes") == "67108864");
	BOOST_TEST(cgroup_file(cg, "pids", "pids.max") == "20");
	BOOST_TEST(cgroup_file(cg, "cpu", cg.v2 ? "cpu.weight" : "cpu.shares") == (cg.v2 ? "20" : "512"));
	if (cg.v2)
		BOOST_TEST(cgroup_file(cg, "cpu", "cpu.max") == "50000 100000");
	else
		BOOST_TEST(cgroup_file(cg, "cpu", "cpu.cfs_quota_us") == "50000");
	BOOST_TEST(cgroup_file(cg, "cpuset", "cpuset.cpus") == "0");
	BOOST_TEST(cgroup_file(cg, "cpuset", "cpuset.mems") != "");
	BOOST_TEST(!limits::oom_killed(cg));

	exercise_cgroup(cg);
}

// The same on cgroup2 alone (this machine's unified tree, no controller in it): what a v2
// host does, freezing included (cgroup.freeze, cgroup.events).
BOOST_AUTO_TEST_CASE(cgroup_api_on_cgroup2)
{
	limits::cgroup cg;
	limits::detect(cg);
	if (geteuid() != 0 || !cg.v2_root) {
		BOOST_TEST_MESSAGE("not root, or no cgroup2: no cgroup is made");
		return;
	}
	cg.v2 = true;
	snprintf(cg.path, sizeof cg.path, "/lunit2-%d/c", getpid());
	limits::resources r;
	const security::device_rule rules[] = {{'a', -1, -1, d_rwm, false}, {'c', 1, 3, d_rwm, true}, {'c', 1, 5, d_rwm, true}};
	limits::make(cg, r, true, 0, true);
	limits::apply(cg, r);
	limits::attach_devices(cg, rules);
	exercise_cgroup(cg);
}

BOOST_AUTO_TEST_CASE(limit_values)
{
	uint64_t v;
	BOOST_TEST(limits::parse_bytes("32m", v));
	BOOST_TEST(v == 32ull << 20);
	BOOST_TEST(limits::parse_bytes("1G", v));
	BOOST_TEST(v == 1ull << 30);
	BOOST_TEST(limits::parse_bytes("4096", v));
	BOOST_TEST(v == 4096u);
	for (const char *bad : {"", "m", "12x", "-1", "0", "99999999999999999999"})
		BOOST_TEST(!limits::parse_bytes(bad, v), bad);
	BOOST_TEST(limits::parse_cpus("0.5", v));
	BOOST_TEST(v == 50000u);
	BOOST_TEST(limits::parse_cpus("2", v));
	BOOST_TEST(v == 200000u);
	BOOST_TEST(!limits::parse_cpus("0", v));
	BOOST_TEST(!limits::parse_cpus("abc", v));
	int res;
	rlimit r;
	BOOST_TEST(limits::parse_ulimit("nofile=1024:2048", res, r));
	BOOST_TEST(res == RLIMIT_NOFILE);
	BOOST_TEST(r.rlim_cur == 1024u);
	BOOST_TEST(r.rlim_max == 2048u);
	BOOST_TEST(limits::parse_ulimit("core=-1", res, r));
	BOOST_TEST(r.rlim_max == RLIM_INFINITY);
	BOOST_TEST(!limits::parse_ulimit("nofile=10:5", res, r));
	BOOST_TEST(!limits::parse_ulimit("bogus=1", res, r));
	BOOST_TEST(!limits::parse_ulimit("nofile", res, r));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(machine_init)

std::string value(const std::string &cmdline, const std::string &key)
{
	char out[256];
	return machine::cmdline_value(cmdline, key, out, sizeof out) ? std::string(out) : "<none>";
}

BOOST_AUTO_TEST_CASE(kernel_command_line)
{
	std::string cmd = "BOOT_IMAGE=/vmlinuz console=ttyS0 launcher.args=\"--net red /images/hello.tar\" quiet\n";
	BOOST_TEST(value(cmd, "launcher.args") == "--net red /images/hello.tar");
	BOOST_TEST(value(cmd, "console") == "ttyS0");
	BOOST_TEST(value(cmd, "launcher") == "<none>");
	BOOST_TEST(value("launcher.args=/images/hello.tar", "launcher.args") == "/images/hello.tar");
	BOOST_TEST(value("x=\"a b\" launcher.args=", "launcher.args") == "");
	BOOST_TEST(value("xlauncher.args=1", "launcher.args") == "<none>");
}

std::vector<std::string> words(std::string text, bool ok = true)
{
	std::vector<char> buf(text.begin(), text.end());
	buf.push_back(0);
	std::vector<char *> w;
	BOOST_TEST(machine::split_words(buf.data(), w) == ok, text);
	return {w.begin(), w.end()};
}

BOOST_AUTO_TEST_CASE(shell_words)
{
	BOOST_TEST((words("  a  b\tc ") == std::vector<std::string>{"a", "b", "c"}));
	BOOST_TEST((words("sh -c 'echo \"x\"; exit 3'") == std::vector<std::string>{"sh", "-c", "echo \"x\"; exit 3"}));
	BOOST_TEST((words("a\\ b \"c \\\" d\" e'f'g") == std::vector<std::string>{"a b", "c \" d", "efg"}));
	BOOST_TEST((words("''") == std::vector<std::string>{""}));
	BOOST_TEST(words("").empty());
	words("'open", false);
	words("\"open", false);
}

BOOST_AUTO_TEST_CASE(modules_dep_order)
{
	std::string dep = "kernel/fs/overlayfs/overlay.ko:\n"
			  "kernel/net/802/stp.ko: kernel/net/llc/llc.ko\n"
			  "kernel/net/bridge/br_netfilter.ko: kernel/net/bridge/bridge.ko kernel/net/802/stp.ko kernel/net/llc/llc.ko\n"
			  "kernel/net/bridge/bridge.ko: kernel/net/802/stp.ko kernel/net/llc/llc.ko\n";
	std::vector<std::string_view> order;
	BOOST_REQUIRE(machine::module_load_order(dep, "bridge", order));
	BOOST_TEST((std::vector<std::string>(order.begin(), order.end()) ==
		    std::vector<std::string>{"kernel/net/llc/llc.ko", "kernel/net/802/stp.ko", "kernel/net/bridge/bridge.ko"}));
	order.clear();
	BOOST_REQUIRE(machine::module_load_order(dep, "overlay", order));
	BOOST_TEST(order.size() == 1u);
	order.clear();
	BOOST_TEST(!machine::module_load_order(dep, "veth", order));
	BOOST_TEST(!machine::module_load_order(dep, "bridge.ko", order));
}

BOOST_AUTO_TEST_SUITE_END()

// The check after pivot_root: one mount on "/" is a container alone; the host's root still
// stacked above it (an image's `dev -> /` did that once) is a second.
BOOST_AUTO_TEST_CASE(mounts_on_root_counts_the_fifth_field)
{
	std::string_view alone =
		"68 42 0:41 / / rw,relatime - overlay overlay rw,lowerdir=l/1:l/0\n"
		"69 68 0:40 /hosts /etc/hosts rw,nosuid - tmpfs tmpfs rw,mode=700\n"
		"71 68 0:44 / /proc rw,nosuid,nodev,noexec - proc proc rw\n"
		"90 68 0:50 / /a\\040/ rw - tmpfs tmpfs rw\n"; // a mount point "/a /": one field
	BOOST_TEST(rootfs::mounts_on_root(alone) == 1);
	std::string_view stacked =
		"43 68 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
		"68 42 0:41 / / rw,relatime - overlay overlay rw\n"
		"71 43 0:44 / /proc rw - proc proc rw";
	BOOST_TEST(rootfs::mounts_on_root(stacked) == 2);
	BOOST_TEST(rootfs::mounts_on_root("") == 0);
	BOOST_TEST(rootfs::mounts_on_root("68 42 0:41 /\n\n1 2\n") == 0); // short lines count for nothing
}

// ---- The OCI runtime mode: config.json, the record, the command line ----------------------

namespace {

std::string corpus_file(const char *name)
{
	std::ifstream f(std::string("tests/corpus/json/") + name); // build/unit runs from the checkout
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

struct parsed_config {
	std::string text;
	std::vector<char> store;
	std::vector<json::token> tokens;
	container::description cfg;
	image::problem problem;
	explicit parsed_config(std::string t) : text(std::move(t)) { problem = bundle::parse_config(text, store, tokens, cfg); }
};

// A minimal bundle config with `extra` spliced in at the top level.
std::string config_with(const std::string &extra, const std::string &linux_extra = "")
{
	return R"({"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"},"linux":{"namespaces":[{"type":"mount"}])" +
	       linux_extra + "}" + extra + "}";
}

} // namespace

BOOST_AUTO_TEST_SUITE(oci_bundle)

BOOST_AUTO_TEST_CASE(podmans_config_is_read_whole)
{
	parsed_config p(corpus_file("podman-config.json"));
	BOOST_REQUIRE_MESSAGE(!p.problem, (p.problem.what ? p.problem.what : ""));
	const container::description &c = p.cfg;
	BOOST_TEST(c.proc.args.size() == 2u);
	BOOST_TEST(std::string(c.proc.cwd) == "/data");
	BOOST_TEST(c.proc.umask == 022);
	BOOST_TEST(c.proc.caps[container::bounding] == c.proc.caps[container::effective]);
	BOOST_TEST(c.proc.caps[container::bounding] == (security::docker_default_caps() &
		   ~(security::cap_mask("NET_RAW") | security::cap_mask("MKNOD") | security::cap_mask("AUDIT_WRITE"))));
	BOOST_TEST(c.proc.rlimits.size() == 2u);
	BOOST_TEST(c.mounts.size() == 10u);
	const container::mount &dev = c.mounts[1];
	BOOST_TEST(std::string(dev.destination) == "/dev");
	BOOST_TEST(dev.flags == (MS_NOSUID | MS_NOEXEC | MS_STRICTATIME));
	BOOST_TEST(std::string(dev.data) == "mode=755,size=65536k");
	const container::mount &shm = c.mounts[7];
	BOOST_TEST((shm.flags & (MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC)) == (MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC));
	BOOST_TEST(shm.propagation == (MS_PRIVATE | MS_REC));
	BOOST_TEST(c.new_namespaces == (CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNS));
	BOOST_TEST(c.res.pids == 2048);
	BOOST_TEST(c.res.devices.size() == 1u);
	BOOST_TEST(!c.res.devices[0].allow);
	BOOST_TEST(c.res.devices[0].access == 7);
	BOOST_TEST(c.seccomp.substr(0, 1) == "{");
	BOOST_TEST(c.seccomp.back() == '}');
	BOOST_TEST(c.annotations.find("io.container.manager") != std::string_view::npos);
	BOOST_TEST(c.sysctls.size() == 1u);
	BOOST_TEST(c.masked.size() > 5u);
}

BOOST_AUTO_TEST_CASE(dockers_and_ctrs_configs_are_read)
{
	parsed_config d(corpus_file("docker-config.json"));
	BOOST_REQUIRE_MESSAGE(!d.problem, (d.problem.what ? d.problem.what : ""));
	BOOST_TEST(d.cfg.hooks[container::prestart].size() == 1u);
	BOOST_TEST(d.cfg.proc.groups.size() == 1u);
	BOOST_TEST(d.cfg.proc.oom_score_set);
	parsed_config c(corpus_file("ctr-config.json"));
	BOOST_REQUIRE_MESSAGE(!c.problem, (c.problem.what ? c.problem.what : ""));
	BOOST_TEST(c.cfg.proc.no_new_privileges);
	BOOST_TEST(std::string(c.cfg.root) == "rootfs");
}

BOOST_AUTO_TEST_CASE(what_cannot_be_carried_out_is_refused_by_name)
{
	auto refused = [](const std::string &text, const char *words) {
		parsed_config p(text);
		BOOST_TEST_CONTEXT(text)
		{
			BOOST_REQUIRE(p.problem);
			BOOST_TEST(std::string(p.problem.what).find(words) != std::string::npos, p.problem.what << " lacks " << words);
		}
	};
	refused(config_with("", R"(,"intelRdt":{"closID":"x"})"), "linux.intelRdt is not supported");
	refused(config_with(R"(,"vm":{"hypervisor":{}})"), "config.vm is not supported");
	refused(config_with("", R"(,"resources":{"blockIO":{"weight":10}})"), "blockIO.weight is not supported");
	refused(config_with("", R"(,"resources":{"memory":{"disableOOMKiller":true}})"), "disableOOMKiller");
	refused(config_with(R"(,"mounts":[{"destination":"/x","type":"bind","source":"/tmp","options":["rbind","idmap"]}])"), "bind mount option idmap");
	refused(config_with(R"(,"mounts":[{"destination":"x","type":"tmpfs"}])"), "must be absolute");
	refused(R"({"ociVersion":"1.0.0","process":{"args":["sh"],"cwd":"/"},"root":{"path":"r"},"linux":{"namespaces":[{"type":"bogus"}]}})",
		"unknown type");
	refused(config_with("", R"(,"rootfsPropagation":"sideways")"), "rootfsPropagation");
	refused(R"({"ociVersion":"2.0.0","process":{"args":["sh"],"cwd":"/"},"root":{"path":"r"}})", "ociVersion");
	refused(R"({"ociVersion":"1.0.0","process":{"args":[],"cwd":"/"},"root":{"path":"r"}})", "no command");
	refused(R"({"ociVersion":"1.0.0","process":{"args":["sh"],"cwd":"rel"},"root":{"path":"r"}})", "must be absolute");
	refused(R"({"ociVersion":"1.0.0","process":{"args":["sh"],"cwd":"/","capabilities":{"bounding":["CAP_NOPE"]}},"root":{"path":"r"}})",
		"unknown capability");
	refused(R"({"ociVersion":"1.0.0","process":{"args":["sh"],"cwd":"/","rlimits":[{"type":"RLIMIT_BOGUS","hard":1,"soft":1}]},"root":{"path":"r"}})",
		"rlimits");
	refused(config_with(R"(,"hooks":{"prestart":[{"path":"relative"}]})"), "absolute path");
	refused(R"({"ociVersion":"1.0.0","process":{"args":["sh"],"cwd":"/","ioPriority":{"class":"IOPRIO_CLASS_RT"}},"root":{"path":"r"}})",
		"process.ioPriority");
	refused("{", "truncated");
}

BOOST_AUTO_TEST_CASE(empty_values_of_unknown_fields_are_no_request)
{
	parsed_config p(config_with("", R"(,"resources":{"blockIO":{"weight":0},"memory":{"disableOOMKiller":false}},"intelRdt":null)"));
	BOOST_TEST(!p.problem, (p.problem.what ? p.problem.what : ""));
}

BOOST_AUTO_TEST_CASE(numbers_span_the_whole_unsigned_range)
{
	parsed_config p(R"({"ociVersion":"1.1.0","process":{"args":["sh"],"cwd":"/","rlimits":[{"type":"RLIMIT_NOFILE","hard":18446744073709551615,"soft":1024}],
		"oomScoreAdj":-1000,"user":{"uid":4294967294,"gid":1,"additionalGids":[5,6]}},"root":{"path":"r"},
		"linux":{"uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],"resources":{"memory":{"limit":-1},"cpu":{"shares":1024,"quota":-1}},
		"devices":[{"path":"/dev/fuse","type":"c","major":10,"minor":229,"fileMode":438,"uid":0,"gid":0}],
		"namespaces":[{"type":"mount"},{"type":"network","path":"/run/netns/x"}]}})");
	BOOST_REQUIRE_MESSAGE(!p.problem, (p.problem.what ? p.problem.what : ""));
	BOOST_TEST(p.cfg.proc.rlimits[0].limit.rlim_max == RLIM_INFINITY);
	BOOST_TEST(p.cfg.proc.oom_score_adj == -1000);
	BOOST_TEST(p.cfg.proc.uid == 4294967294u);
	BOOST_TEST(p.cfg.uid_maps.size() == 1u);
	BOOST_TEST(p.cfg.uid_maps[0].outside == 100000u);
	BOOST_TEST(p.cfg.res.memory == -1);
	BOOST_TEST(p.cfg.res.cpu_quota == -1);
	BOOST_TEST(p.cfg.devices[0].mode == 0666u);
	BOOST_TEST(p.cfg.joined.size() == 1u);
	BOOST_TEST(p.cfg.joined[0].type == (unsigned long)CLONE_NEWNET);
	BOOST_TEST(!(p.cfg.new_namespaces & CLONE_NEWNET));
}

BOOST_AUTO_TEST_CASE(the_record_reads_back_what_it_wrote)
{
	state::record r;
	snprintf(r.id, sizeof r.id, "abc-1");
	r.pid = 4242;
	r.start_time = 123456789012ull;
	snprintf(r.bundle, sizeof r.bundle, "/b/with \"quote\"\\");
	snprintf(r.rootfs, sizeof r.rootfs, "/b/rootfs");
	snprintf(r.created, sizeof r.created, "2026-12-01T17:00:00.000000001Z");
	snprintf(r.cgroups, sizeof r.cgroups, "/machine.slice/x.scope");
	r.annotations = R"({"a":"b"})";
	char text[8192];
	size_t n = state::format(r, "created", true, text, sizeof text);
	std::vector<json::token> tokens;
	state::record back;
	BOOST_REQUIRE(state::parse({text, n}, tokens, back));
	BOOST_TEST(std::string(back.bundle) == r.bundle);
	BOOST_TEST(back.pid == 4242);
	BOOST_TEST(back.start_time == r.start_time);
	BOOST_TEST(std::string(back.cgroups) == r.cgroups);
	BOOST_TEST(std::string(back.annotations) == R"({"a":"b"})");
	// What `state` prints: the OCI fields alone, pid 0 once stopped.
	n = state::format(r, "stopped", false, text, sizeof text);
	std::string shown(text, n);
	BOOST_TEST(shown.find("\"pid\":0,\"status\":\"stopped\"") != std::string::npos);
	BOOST_TEST(shown.find("startTime") == std::string::npos);
	BOOST_TEST(!state::parse("{\"id\":\"x\"}", tokens, back));
}

BOOST_AUTO_TEST_CASE(a_run_record_keeps_its_docker_fields)
{
	state::record r;
	snprintf(r.id, sizeof r.id, "%s", std::string(64, 'a').c_str());
	snprintf(r.name, sizeof r.name, "web");
	snprintf(r.image, sizeof r.image, "images/busybox.tar");
	snprintf(r.command, sizeof r.command, "sh -c \"echo\"\n");
	snprintf(r.restart, sizeof r.restart, "on-failure:2");
	r.supervisor = 77;
	r.supervisor_start = 99;
	r.stop_signal = SIGUSR1;
	r.auto_remove = r.tty = true;
	snprintf(r.ipc_mode, sizeof r.ipc_mode, "shareable");
	char text[16384];
	size_t n = state::format(r, "running", true, text, sizeof text);
	std::vector<json::token> tokens;
	state::record back;
	BOOST_REQUIRE(state::parse({text, n}, tokens, back));
	BOOST_TEST(std::string(back.name) == "web");
	BOOST_TEST(std::string(back.ipc_mode) == "shareable"); // what --ipc container:NAME asks of a donor
	BOOST_TEST(std::string(back.command) == r.command);
	BOOST_TEST(std::string(back.restart) == "on-failure:2");
	BOOST_TEST(back.exit_code == -1);
	BOOST_TEST(back.supervisor == 77);
	BOOST_TEST(back.supervisor_start == 99u);
	BOOST_TEST(back.stop_signal == SIGUSR1);
	BOOST_TEST((back.auto_remove && back.tty && !back.interactive));
	r.exit_code = 137;
	n = state::format(r, "stopped", true, text, sizeof text);
	BOOST_REQUIRE(state::parse({text, n}, tokens, back));
	BOOST_TEST(back.exit_code == 137);
	// the OCI state shows none of it
	n = state::format(r, "running", false, text, sizeof text);
	BOOST_TEST(std::string(text, n).find("\"name\"") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(log_entries_are_docker_json_file_lines)
{
	char line[256];
	size_t n = logs::format_entry("a \"quoted\"\tline\n", true, "2026-12-01T00:00:00.000000001Z", line, sizeof line);
	BOOST_TEST(std::string(line, n) == "{\"log\":\"a \\\"quoted\\\"\\tline\\n\",\"stream\":\"stderr\",\"time\":\"2026-12-01T00:00:00.000000001Z\"}\n");
	static logs::entry e;
	BOOST_REQUIRE(logs::parse_entry({line, n - 1}, e));
	BOOST_TEST(std::string(e.text) == "a \"quoted\"\tline\n");
	BOOST_TEST(e.is_stderr);
	BOOST_TEST(std::string(e.time) == "2026-12-01T00:00:00.000000001Z");
	BOOST_TEST(!logs::parse_entry("{\"log\":1}", e));
	timespec now = {1000000, 0};
	char since[40];
	BOOST_REQUIRE(logs::since_time("10m", now, since));
	timespec at = {1000000 - 600, 0};
	char expect[40];
	state::rfc3339(expect, &at);
	BOOST_TEST(std::string(since) == expect);
	BOOST_REQUIRE(logs::since_time("2026-12-01T10:00:00Z", now, since));
	BOOST_TEST(std::string(since) == "2026-12-01T10:00:00Z");
	BOOST_TEST(!logs::since_time("yesterday", now, since));
}

BOOST_AUTO_TEST_CASE(ids_follow_runcs_rule)
{
	BOOST_TEST(state::valid_id("a1_b+c-d.e"));
	BOOST_TEST(state::valid_id(std::string(64, 'f')));
	for (const char *bad : {"", ".", "..", "a/b", "a b", "ä", "a\n"})
		BOOST_TEST(!state::valid_id(bad), bad);
}

BOOST_AUTO_TEST_CASE(signals_by_number_and_name)
{
	BOOST_TEST(oci::signal_number("9") == SIGKILL);
	BOOST_TEST(oci::signal_number("KILL") == SIGKILL);
	BOOST_TEST(oci::signal_number("SIGKILL") == SIGKILL);
	BOOST_TEST(oci::signal_number("term") == SIGTERM);
	BOOST_TEST(oci::signal_number("SIGWINCH") == SIGWINCH);
	BOOST_TEST(oci::signal_number("SIGUSR1") == SIGUSR1); // a name with a digit
	BOOST_TEST(oci::signal_number("usr2") == SIGUSR2);
	BOOST_TEST(oci::signal_number("RTMIN+2") == SIGRTMIN + 2);
	for (const char *bad : {"0", "65", "NOPE", "", "SIG", "9x"})
		BOOST_TEST(oci::signal_number(bad) == 0, bad);
}

BOOST_AUTO_TEST_CASE(runcs_command_line)
{
	auto parse = [](std::vector<const char *> words, oci::command &c) {
		words.insert(words.begin(), "launcher");
		return oci::parse(int(words.size()), const_cast<char *const *>(words.data()), c);
	};
	oci::command c;
	BOOST_REQUIRE(parse({"--root", "/r", "--log=/l", "-log-format", "json", "create", "--bundle", "/b", "--pid-file=/p", "id1"}, c));
	BOOST_TEST(int(c.v) == int(oci::verb::create));
	BOOST_TEST(std::string(c.root) == "/r");
	BOOST_TEST(std::string(c.log) == "/l");
	BOOST_TEST(c.json_log);
	BOOST_TEST(std::string(c.bundle) == "/b");
	BOOST_TEST(std::string(c.pid_file) == "/p");
	oci::command e;
	BOOST_REQUIRE(parse({"exec", "-t", "--env", "A=1", "id1", "sh", "-c", "echo --root"}, e));
	BOOST_TEST(e.words.size() == 4u);
	BOOST_TEST(e.tty);
	BOOST_TEST(std::string(e.words[3]) == "echo --root");
	oci::command k;
	BOOST_REQUIRE(parse({"kill", "-a", "id1", "KILL"}, k));
	BOOST_TEST(k.all);
	oci::command bad;
	BOOST_TEST(!parse({"start", "--bundle", "x", "id"}, bad)); // a flag of another verb
	BOOST_TEST(std::string(bad.error).find("--bundle") != std::string::npos);
	oci::command none;
	BOOST_TEST(!parse({"delete"}, none));
	BOOST_TEST(std::string(none.error) == "delete: a container id is needed");
	std::vector<const char *> image_line = {"launcher", "--net", "red", "images/hello.tar"};
	BOOST_TEST(!oci::is_runtime_call(int(image_line.size()), const_cast<char *const *>(image_line.data())));
	std::vector<const char *> runtime_line = {"launcher", "--root", "/r", "state", "x"};
	BOOST_TEST(oci::is_runtime_call(int(runtime_line.size()), const_cast<char *const *>(runtime_line.data())));
}

BOOST_AUTO_TEST_CASE(sysctls_and_proc_destinations)
{
	// One classification for both front doors (docker's --sysctl and config.json's linux.sysctl).
	BOOST_TEST(container::sysctl_namespace("net.ipv4.ping_group_range") == CLONE_NEWNET);
	BOOST_TEST(container::sysctl_namespace("kernel.shmmax") == CLONE_NEWIPC);
	BOOST_TEST(container::sysctl_namespace("fs.mqueue.msg_max") == CLONE_NEWIPC);
	BOOST_TEST(container::sysctl_namespace("kernel.hostname") == CLONE_NEWUTS);
	BOOST_TEST(container::sysctl_namespace("kernel.panic") == 0u);
	BOOST_TEST(container::sysctl_namespace("net.//.kernel.panic") == 0u); // climbs: no namespace's
	BOOST_TEST(container::sysctl_namespace("net./../kernel.panic") == 0u);
	BOOST_TEST(container::sysctl_namespace("net.ipv4.conf.eth0/100.forwarding") == CLONE_NEWNET);
	BOOST_TEST(rootfs::in_proc("/proc/sys/"));
	BOOST_TEST(rootfs::in_proc("/proc"));
	BOOST_TEST(!rootfs::in_proc("/procfs"));
}

// docker's kernel file systems as the description's mounts (make_spec), each replacing what
// the image has at its path; in a user namespace /sys is the host's, bound read-only all
// through, its cgroup tree hidden.
BOOST_AUTO_TEST_CASE(kernel_file_systems_are_described_as_mounts)
{
	container_spec s;
	container::kernel_mounts_spec(s);
	std::vector<std::string> where;
	for (const container::mount &m : s.mounts) {
		where.push_back(m.destination);
		BOOST_TEST(m.replace);
	}
	BOOST_TEST((where == std::vector<std::string>{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"}));
	BOOST_TEST(std::string(s.mounts[2].data) == "newinstance,ptmxmode=0666,mode=0620,gid=5");
	BOOST_TEST(std::string(s.mounts[3].source) == "shm");
	BOOST_TEST(std::string(s.mounts[3].data) == "mode=1777,size=65536k");
	BOOST_TEST(std::string(s.mounts[5].type) == "sysfs");
	BOOST_TEST(s.mounts[5].flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
	container_spec u;
	u.userns = true, u.shm_size = 1 << 20;
	container::kernel_mounts_spec(u);
	BOOST_TEST(u.mounts.size() == 7u);
	BOOST_TEST(std::string(u.mounts[2].data) == "newinstance,ptmxmode=0666,mode=0620"); // no gid 5 in the map
	BOOST_TEST(std::string(u.mounts[3].data) == "mode=1777,size=1048576");                // --shm-size
	const container::mount &sys = u.mounts[5], &hide = u.mounts[6];
	BOOST_TEST(std::string(sys.type) == "bind");
	BOOST_TEST(std::string(sys.source) == "/sys");
	BOOST_TEST((sys.flags & (MS_BIND | MS_REC | MS_RDONLY)) == (MS_BIND | MS_REC | MS_RDONLY));
	BOOST_TEST(sys.rro);
	BOOST_TEST(std::string(hide.destination) == "/sys/fs/cgroup");
	BOOST_TEST(std::string(hide.type) == "tmpfs");
	BOOST_TEST(std::string(hide.data) == "size=0");
	BOOST_TEST((hide.flags & MS_RDONLY) != 0u);
	BOOST_TEST(!hide.replace); // the host's tree: nothing of the image's there
}

// A namespace of the container's own or joined by path (the host and domain names are set
// in either, never in the host's).
BOOST_AUTO_TEST_CASE(description_namespaces)
{
	container::description d;
	d.new_namespaces = CLONE_NEWNS | CLONE_NEWPID;
	BOOST_TEST(container::has_namespace(d, CLONE_NEWPID));
	BOOST_TEST(!container::has_namespace(d, CLONE_NEWUTS));
	d.joined.push_back({CLONE_NEWUTS, "/proc/1/ns/uts"});
	BOOST_TEST(container::has_namespace(d, CLONE_NEWUTS));
	BOOST_TEST(!container::has_namespace(d, CLONE_NEWNET));
}

// docker's volumes as the mounts of a bundle, for the one mount function both doors use.
BOOST_AUTO_TEST_CASE(volumes_are_described_as_bundle_mounts)
{
	volume ro = {"/host/src", "/data", true, true, -1};
	ro.propagation = MS_SLAVE | MS_REC;
	container::mount m = rootfs::mount_of(ro);
	BOOST_TEST(std::string(m.type) == "bind");
	BOOST_TEST(std::string(m.source) == "/host/src");
	BOOST_TEST(std::string(m.destination) == "/data");
	BOOST_TEST(m.flags == (MS_BIND | MS_REC));
	BOOST_TEST(m.rro); // :ro is read-only all through, as docker 25 makes it
	BOOST_TEST(m.propagation == (MS_SLAVE | MS_REC));
	volume flat = {"/host/src", "/flat", false, true, -1};
	flat.recursive = false; // bind-recursive=disabled
	m = rootfs::mount_of(flat);
	BOOST_TEST(m.flags == MS_BIND);
	BOOST_TEST(!m.rro);
	volume tmp = {nullptr, "/run", false, true, -1};
	tmp.tmpfs = true, tmp.tmpfs_flags = MS_NOSUID | MS_NODEV | MS_RDONLY, tmp.tmpfs_data = "size=65536k,mode=1777";
	m = rootfs::mount_of(tmp);
	BOOST_TEST(std::string(m.type) == "tmpfs");
	BOOST_TEST(m.flags == (MS_NOSUID | MS_NODEV | MS_RDONLY));
	BOOST_TEST(std::string(m.data) == "size=65536k,mode=1777");
	BOOST_TEST(!m.rro);
}

BOOST_AUTO_TEST_SUITE_END()
