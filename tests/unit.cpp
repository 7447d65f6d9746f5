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

#include "../cache.hpp"
#include "../format.hpp"
#include "../gzip.hpp"
#include "../image.hpp"
#include "../sha256.hpp"
#include "../json.hpp"
#include "../limits.hpp"
#include "../machine.hpp"
#include "../security.hpp"
#include "../netlink.hpp"
#include "../network.hpp"
#include "../options.hpp"
#include "../rootfs.hpp"
#include "../tar.hpp"
#include "../unpack.hpp"

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
			R"("Env":["PATH=/bin","A=b=c"],"WorkingDir":"/w","User":"1000:1000"},)"
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

	image::config empty;
	BOOST_REQUIRE(!image::parse_config("{}", store, empty));
	BOOST_TEST(empty.entrypoint.empty());
	BOOST_TEST(std::string(empty.workdir).empty());
	image::config bad;
	BOOST_TEST(bool(image::parse_config(R"({"config":{"Cmd":"sh"}})", store, bad)));
	BOOST_TEST(bool(image::parse_config(R"({"config":{"Env":[1]}})", store, bad)));
	BOOST_TEST(bool(image::parse_config(R"([])", store, bad)));
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

BOOST_AUTO_TEST_CASE(errors_name_the_flag)
{
	auto o = parse({"--bogus", "img.tar"}, false);
	BOOST_TEST(std::string(o.error).find("--bogus") != std::string::npos);
	o = parse({"-v", "/a:/b", "img.tar"}); // -v is docker's --volume, not --verbose
	BOOST_REQUIRE(o.volumes.size() == 1u);
	BOOST_TEST(!o.verbose);
	o = parse({"--seccomp", "strict", "img.tar"}, false);
	BOOST_TEST(std::string(o.error).find("unconfined") != std::string::npos);
	o = parse({"--netns", "x", "--net", "red", "img.tar"}, false);
	BOOST_TEST(std::string(o.error).find("exclude") != std::string::npos);
	o = parse({"--hostname"}, false);
	BOOST_TEST(std::string(o.error).find("needs NAME") != std::string::npos);
	o = parse({"--verbose=yes", "img.tar"}, false);
	BOOST_TEST(std::string(o.error).find("takes no value") != std::string::npos);
	o = parse({}, false);
	BOOST_TEST(std::string(o.error).find("no image") != std::string::npos);
	o = parse({"--help"});
	BOOST_TEST(o.help);
	o = parse({"--", "-image-with-dash.tar"});
	BOOST_TEST(std::string(o.image) == "-image-with-dash.tar");
	o = parse({"--entrypoint=", "img.tar"});
	BOOST_TEST(std::string(o.entrypoint).empty());
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
	network::cidr all[] = {{0x0a580000, 16}};
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

// Installs the filter in a child and reports what its syscalls returned.
BOOST_AUTO_TEST_CASE(seccomp_filter_denies_allows_and_checks_clone_flags)
{
	constexpr security::filter f = security::make_filter();
	int fds[2];
	BOOST_REQUIRE(pipe(fds) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		sock_fprog prog = {uint16_t(security::filter_length), const_cast<sock_filter *>(f.code)};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
			_exit(99);
		int results[10];
		results[5] = syscall(SYS_socket, 40 /* AF_VSOCK */, SOCK_STREAM, 0) < 0 ? errno : 0;
		long unix_socket = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
		results[6] = unix_socket < 0 ? errno : 0;
		winsize ws;
		results[7] = syscall(SYS_ioctl, fds[1], TIOCGWINSZ, &ws) < 0 ? errno : 0; // a pipe: ENOTTY
		results[8] = syscall(SYS_ioctl, fds[1], TIOCSTI, "x") < 0 ? errno : 0;
		results[9] = syscall(SYS_ioctl, fds[1], 0x100000000UL | TIOCSTI, "x") < 0 ? errno : 0;
		results[0] = syscall(SYS_keyctl, 0, -3, 0) < 0 ? errno : 0;
		results[1] = syscall(SYS_unshare, CLONE_NEWNET) < 0 ? errno : 0;
		results[2] = syscall(SYS_getppid) > 0 ? 0 : errno;
		results[3] = syscall(SYS_clone3, nullptr, 0) < 0 ? errno : 0;
		long c = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0);
		if (c == 0)
			_exit(0);
		results[4] = c < 0 ? errno : 0;
		(void)!write(fds[1], results, sizeof results);
		_exit(0);
	}
	close(fds[1]);
	int results[10] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
	BOOST_TEST(read(fds[0], results, sizeof results) == ssize_t(sizeof results));
	int ws;
	waitpid(pid, &ws, 0);
	BOOST_TEST(WEXITSTATUS(ws) == 0);
	BOOST_TEST(results[0] == EPERM);  // keyctl: denied
	BOOST_TEST(results[1] == EPERM);  // unshare: denied
	BOOST_TEST(results[2] == 0);      // getppid: allowed
	BOOST_TEST(results[3] == ENOSYS); // clone3: ENOSYS, so libcs fall back to clone
	BOOST_TEST(results[4] == EPERM);  // clone with CLONE_NEWNS: denied
	BOOST_TEST(results[5] == EPERM);  // socket(AF_VSOCK): denied
	BOOST_TEST(results[6] == 0);      // socket(AF_UNIX): allowed
	BOOST_TEST(results[7] == ENOTTY); // ioctl(TIOCGWINSZ): allowed, the kernel answers
	BOOST_TEST(results[8] == EPERM);  // ioctl(TIOCSTI): denied
	BOOST_TEST(results[9] == EPERM);  // ... whatever the request's high bits (the kernel takes 32)
	// Every jump lands inside the program.
	for (size_t i = 0; i < security::filter_length; i++) {
		const sock_filter &ins = f.code[i];
		if (BPF_CLASS(ins.code) == BPF_JMP && BPF_OP(ins.code) != BPF_JA) {
			BOOST_TEST(i + 1 + ins.jt < security::filter_length);
			BOOST_TEST(i + 1 + ins.jf < security::filter_length);
		}
	}
	BOOST_TEST(BPF_CLASS(f.code[security::filter_length - 1].code) == BPF_RET);
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
