// image.hpp: the image's manifest.json and config, read from bytes (no I/O).
//
// Decoded strings are NUL-terminated and live in a caller's store (a vector<char> that this
// code sizes once per document and never grows afterwards, so pointers into it stay valid).
#pragma once
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "json.hpp"

namespace image {

// What went wrong, and where in the document; empty when nothing did.
struct problem {
	const char *what = nullptr;
	size_t offset = 0;
	explicit operator bool() const { return what != nullptr; }
};

struct manifest {
	const char *config = nullptr;     // archive path of the config JSON
	std::vector<const char *> layers; // archive paths, bottom layer first
	std::vector<const char *> tags;   // RepoTags, e.g. "busybox:latest"
};

struct config {
	std::vector<const char *> entrypoint, cmd, env;
	const char *workdir = "";
	const char *user = "";
	std::vector<const char *> diff_ids; // "sha256:<hex>", bottom layer first
	std::vector<const char *> exposed_ports; // ExposedPorts' keys: "80/tcp", "53/udp", "8080"
	std::vector<const char *> volumes;  // the keys of Volumes: paths
	std::vector<std::pair<const char *, const char *>> labels; // Labels: key, value
	const char *stop_signal = "";
	const char *os = "", *architecture = "", *variant = "";
};

namespace detail {

// Parses text into tokens held by `tokens`, sized by a counting pass.
inline problem load(std::string_view text, std::vector<json::token> &tokens, json::document &doc)
{
	json::result counted = json::parse(text, {});
	if (counted.err != json::error::none)
		return {json::error_text(counted.err), counted.offset};
	tokens = std::vector<json::token>(counted.count);
	json::result r = json::parse(text, tokens);
	if (r.err != json::error::none)
		return {json::error_text(r.err), r.offset};
	doc = {text, tokens};
	return {};
}

// Bump allocation of decoded strings from a store sized to hold every string of the text.
struct strings {
	char *base; // the store's buffer: it never moves, even when the store object does
	size_t used = 0;
	strings(std::vector<char> &store, std::string_view text)
	{
		store.assign(text.size() * 2 + 2, 0);
		base = store.data();
	}
	const char *dup(json::value v)
	{
		std::string_view raw = v.raw();
		char *at = base + used;
		used += json::unescape(raw, at).size() + 1;
		return at;
	}
};

inline problem string_field(json::value v, strings &st, const char *&out, const char *what)
{
	if (!v || v.is(json::kind::null))
		return {};
	if (!v.is(json::kind::string))
		return {what, v.doc->tokens[v.i].start};
	out = st.dup(v);
	return {};
}

// An array of strings; null or absent leaves out empty.
inline problem string_list(json::value v, strings &st, std::vector<const char *> &out, const char *what)
{
	out.clear();
	if (!v || v.is(json::kind::null))
		return {};
	if (!v.is(json::kind::array))
		return {what, v.doc->tokens[v.i].start};
	problem p;
	v.each([&](json::value e) {
		if (!e.is(json::kind::string))
			p = {what, e.doc->tokens[e.i].start};
		else
			out.push_back(st.dup(e));
	});
	return p;
}

} // namespace detail

// manifest.json of `docker save` (legacy and Docker 25+): [{Config, RepoTags, Layers}, ...]
[[gnu::noipa]] inline problem parse_manifest(std::string_view text, std::vector<char> &store, std::vector<manifest> &out)
{
	std::vector<json::token> tokens;
	json::document doc;
	if (problem p = detail::load(text, tokens, doc))
		return p;
	json::value root{&doc, 0};
	if (!root.is(json::kind::array) || root.size() == 0)
		return {"manifest.json: expected a non-empty array", 0};
	detail::strings st(store, text);
	out = std::vector<manifest>(root.size());
	problem p;
	size_t n = 0;
	root.each([&](json::value m) {
		manifest &mf = out[n++];
		if (p)
			return;
		if (!m.is(json::kind::object)) {
			p = {"manifest.json: entry is not an object", m.doc->tokens[m.i].start};
			return;
		}
		if ((p = detail::string_field(m["Config"], st, mf.config, "manifest.json: Config is not a string")))
			return;
		if (!mf.config) {
			p = {"manifest.json: entry has no Config", m.doc->tokens[m.i].start};
			return;
		}
		if ((p = detail::string_list(m["Layers"], st, mf.layers, "manifest.json: Layers is not a list of strings")))
			return;
		p = detail::string_list(m["RepoTags"], st, mf.tags, "manifest.json: RepoTags is not a list of strings");
	});
	return p;
}

// The image config: {"config": {Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts,
// StopSignal},
// "rootfs": {diff_ids}}
[[gnu::noipa]] inline problem parse_config(std::string_view text, std::vector<char> &store, config &out)
{
	std::vector<json::token> tokens;
	json::document doc;
	if (problem p = detail::load(text, tokens, doc))
		return p;
	json::value root{&doc, 0};
	if (!root.is(json::kind::object))
		return {"config: expected an object", 0};
	detail::strings st(store, text);
	json::value c = root["config"];
	if (c && !c.is(json::kind::object) && !c.is(json::kind::null))
		return {"config: \"config\" is not an object", doc.tokens[c.i].start};
	problem p;
	if ((p = detail::string_list(c["Entrypoint"], st, out.entrypoint, "config: Entrypoint is not a list of strings")) ||
	    (p = detail::string_list(c["Cmd"], st, out.cmd, "config: Cmd is not a list of strings")) ||
	    (p = detail::string_list(c["Env"], st, out.env, "config: Env is not a list of strings")) ||
	    (p = detail::string_field(c["WorkingDir"], st, out.workdir, "config: WorkingDir is not a string")) ||
	    (p = detail::string_field(c["User"], st, out.user, "config: User is not a string")) ||
	    (p = detail::string_field(c["StopSignal"], st, out.stop_signal, "config: StopSignal is not a string")) ||
	    (p = detail::string_field(root["os"], st, out.os, "config: os is not a string")) ||
	    (p = detail::string_field(root["architecture"], st, out.architecture, "config: architecture is not a string")) ||
	    (p = detail::string_field(root["variant"], st, out.variant, "config: variant is not a string")))
		return p;
	// Volumes: {"/path": {}}; Labels: {"key": "value"}.
	json::value vols = c["Volumes"], labels = c["Labels"];
	if (vols && !vols.is(json::kind::object) && !vols.is(json::kind::null))
		return {"config: Volumes is not an object", doc.tokens[vols.i].start};
	if (labels && !labels.is(json::kind::object) && !labels.is(json::kind::null))
		return {"config: Labels is not an object", doc.tokens[labels.i].start};
	vols.each_member([&](json::value k, json::value) { out.volumes.push_back(st.dup(k)); });
	labels.each_member([&](json::value k, json::value v) {
		if (!v.is(json::kind::string))
			p = {"config: a label's value is not a string", doc.tokens[v.i].start};
		else
			out.labels.push_back({st.dup(k), st.dup(v)});
	});
	if (p)
		return p;
	json::value exposed = c["ExposedPorts"];
	if (exposed && !exposed.is(json::kind::object) && !exposed.is(json::kind::null))
		return {"config: ExposedPorts is not an object", doc.tokens[exposed.i].start};
	out.exposed_ports.clear();
	exposed.each_key([&](json::value k) { out.exposed_ports.push_back(st.dup(k)); });
	return detail::string_list(root["rootfs"]["diff_ids"], st, out.diff_ids, "config: rootfs.diff_ids is not a list of strings");
}

// The 64 hex digits of a digest-named path: "<hex>.json", "blobs/sha256/<hex>",
// "sha256:<hex>"; empty when the path is not so named.
inline std::string_view digest_hex(std::string_view path)
{
	if (path.ends_with(".json"))
		path.remove_suffix(5);
	size_t slash = path.find_last_of("/:");
	if (slash != std::string_view::npos)
		path.remove_prefix(slash + 1);
	if (path.size() != 64)
		return {};
	for (char c : path)
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return {};
	return path;
}

// ---- Resolving an archive to one image -----------------------------------------------
//
// Three layouts carry images (shared/REFERENCE.md): `docker save` before Docker 25
// (manifest.json, "<id>/layer.tar", "<hex>.json"), Docker 25+ (the same manifest.json over
// an OCI layout's blobs/sha256/), and OCI image layouts (index.json, possibly nesting
// indexes, pointing at manifests by digest). manifest.json wins when both exist.

#if defined(__x86_64__)
constexpr std::string_view host_arch = "amd64";
#elif defined(__aarch64__)
constexpr std::string_view host_arch = "arm64";
#else
constexpr std::string_view host_arch = "unknown";
#endif

struct layer_ref {
	const char *path = "";       // archive member
	const char *media_type = ""; // "" where the layout names none
	std::string_view blob;       // hex digest the member must have; empty when not digest-named
	int64_t size = -1;           // size the descriptor claims, -1 when none
	std::string_view diff_id;    // hex digest of the uncompressed tar (config's rootfs.diff_ids)
};

struct resolution {
	const char *config_path = nullptr;
	const char *name = "";       // the chosen image's tag or ref name, "" when untagged
	std::vector<layer_ref> layers;
	image::config config;
	char why[512] = "";          // the error, when resolve() returned false
	std::vector<std::vector<char>> stores; // decoded strings of every document read
};

namespace detail {

inline bool fail(resolution &r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
inline bool fail(resolution &r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r.why, sizeof r.why, fmt, ap);
	va_end(ap);
	return false;
}

// "docker.io/library/busybox" and "busybox:latest" name the same image.
inline std::string_view normal_name(std::string_view n, bool &has_tag)
{
	for (std::string_view prefix : {"docker.io/", "library/"})
		if (n.starts_with(prefix))
			n.remove_prefix(prefix.size());
	size_t slash = n.rfind('/');
	has_tag = n.find(':', slash == n.npos ? 0 : slash) != n.npos;
	return n;
}

// An OCI ref.name may be a bare tag ("latest"); a wanted name without a tag means ":latest".
inline bool name_matches(std::string_view have, std::string_view want)
{
	bool have_tag, want_tag;
	have = normal_name(have, have_tag);
	want = normal_name(want, want_tag);
	if (have == want)
		return true;
	if (!want_tag && have.size() == want.size() + 7 && have.starts_with(want) && have.ends_with(":latest"))
		return true;
	if (have.find_first_of(":/") == have.npos) // a bare tag names the layout's image
		return have == (want_tag ? want.substr(want.rfind(':') + 1) : std::string_view("latest"));
	return false;
}

struct descriptor {
	const char *media_type = "", *digest = "", *os = "", *arch = "", *name = "", *full_name = "";
	int64_t size = -1;
	bool has_platform = false;
};

inline bool read_descriptor(json::value v, strings &st, descriptor &d)
{
	if (!v.is(json::kind::object))
		return false;
	if (string_field(v["mediaType"], st, d.media_type, "") || string_field(v["digest"], st, d.digest, ""))
		return false;
	json::value size = v["size"];
	if (size.is(json::kind::number)) {
		d.size = 0;
		for (char c : size.raw())
			if (c < '0' || c > '9' || d.size > (int64_t(1) << 50))
				return false;
			else
				d.size = d.size * 10 + (c - '0');
	}
	json::value p = v["platform"];
	if (p.is(json::kind::object)) {
		d.has_platform = true;
		if (string_field(p["os"], st, d.os, "") || string_field(p["architecture"], st, d.arch, ""))
			return false;
	}
	json::value a = v["annotations"];
	return !string_field(a["org.opencontainers.image.ref.name"], st, d.name, "") &&
	       !string_field(a["io.containerd.image.name"], st, d.full_name, "");
}

inline bool is_index(std::string_view media_type)
{
	return media_type == "application/vnd.oci.image.index.v1+json" ||
	       media_type == "application/vnd.docker.distribution.manifest.list.v2+json";
}

inline bool platform_fits(const descriptor &d)
{
	return !d.has_platform || (std::string_view(d.os) == "linux" && d.arch == host_arch);
}

// The member "blobs/ALG/HEX" a digest names, its hex checked to be sha256's.
template <class Find>
bool blob(resolution &r, Find &find, const char *digest, int64_t size, std::span<const unsigned char> &bytes,
	  const char *&path, std::string_view &hex)
{
	std::string_view d(digest);
	if (!d.starts_with("sha256:"))
		return fail(r, "unsupported digest %s (only sha256)", digest);
	hex = digest_hex(d);
	if (hex.empty())
		return fail(r, "malformed digest %s", digest);
	std::vector<char> &store = r.stores.emplace_back(sizeof "blobs/sha256/" + 64);
	snprintf(store.data(), store.size(), "blobs/sha256/%.*s", int(hex.size()), hex.data());
	path = store.data();
	bytes = find(path);
	if (!bytes.data())
		return fail(r, "%s is missing (named by digest %s)", path, digest);
	if (size >= 0 && uint64_t(size) != bytes.size())
		return fail(r, "%s has %zu bytes, its descriptor says %lld", path, bytes.size(), (long long)size);
	return true;
}

} // namespace detail

// Computes the hex SHA-256 of bytes (the caller's, so image.hpp needs no hash of its own).
using hash_fn = void (*)(std::span<const unsigned char>, char hex[65]);

namespace detail {

inline std::string_view text(std::span<const unsigned char> b)
{
	return {reinterpret_cast<const char *>(b.data()), b.size()};
}

// The images an archive offers, by name, and the one `want` picks (nullptr: the only one).
struct choice {
	const char *want;
	char names[256] = "";
	size_t used = 0, matches = 0;

	// Notes one image known by `names` (listing all, or only the first that is not empty);
	// true when it is the first image that fits.
	bool offer(std::span<const char *const> names_of_it, bool list_all)
	{
		bool fits = !want, listed = false;
		for (const char *n : names_of_it) {
			if (!*n)
				continue;
			fits = fits || name_matches(n, want);
			if (!listed || list_all)
				note(n);
			listed = true;
		}
		if (!listed)
			note("untagged");
		return fits && !matches++;
	}
	void note(const char *n)
	{
		used += size_t(snprintf(names + used, used < sizeof names ? sizeof names - used : 0, "%s%s", used ? ", " : "", n));
	}
	bool exactly_one(resolution &r) const
	{
		if (matches == 1)
			return true;
		return want && !matches ? fail(r, "has no image %s (it holds %s)", want, names)
					: fail(r, "holds %zu images (%s): choose one with --image or FILE:NAME", matches, names);
	}
};

// `docker save`, legacy and Docker 25+ (paths into blobs/sha256/): [{Config, RepoTags, Layers}]
inline bool from_manifest_json(std::span<const unsigned char> m, choice &c, resolution &r)
{
	std::vector<manifest> all;
	if (problem p = parse_manifest(text(m), r.stores.emplace_back(), all))
		return fail(r, "%s at byte %zu of manifest.json", p.what, p.offset);
	const manifest *chosen = nullptr;
	for (const manifest &mf : all)
		if (c.offer(mf.tags, true))
			chosen = &mf, r.name = mf.tags.empty() ? "" : mf.tags[0];
	if (!c.exactly_one(r))
		return false;
	r.config_path = chosen->config;
	for (const char *l : chosen->layers)
		r.layers.push_back({l, "", std::string_view(l).starts_with("blobs/") ? digest_hex(l) : std::string_view{}, -1, {}});
	return true;
}

// A JSON document named by a descriptor: found, checked against its digest, parsed.
struct json_blob {
	const char *path = "";
	std::span<const unsigned char> bytes;
	std::vector<json::token> tokens;
	json::document doc;
	json::value root() const { return {&doc, 0}; }
};

// Whether bytes have the digest their name says (an unnamed document passes).
inline bool named_digest(resolution &r, hash_fn hash, std::span<const unsigned char> bytes, std::string_view hex, const char *path)
{
	char got[65];
	hash(bytes, got);
	return hex.empty() || hex == got ||
	       fail(r, "%s: content has digest sha256:%s, its name says %.*s", path, got, int(hex.size()), hex.data());
}

template <class Find>
bool load_blob(resolution &r, Find &find, hash_fn hash, const descriptor &d, json_blob &out)
{
	std::string_view hex;
	if (!blob(r, find, d.digest, d.size, out.bytes, out.path, hex) || !named_digest(r, hash, out.bytes, hex, out.path))
		return false;
	if (problem p = load(text(out.bytes), out.tokens, out.doc))
		return fail(r, "%s at byte %zu of %s", p.what, p.offset, out.path);
	return true;
}

// An image manifest: {config: descriptor, layers: [descriptor, ...]}.
template <class Find>
bool from_oci_manifest(const json_blob &m, strings &st, Find &find, resolution &r)
{
	descriptor cfg;
	std::span<const unsigned char> bytes;
	std::string_view hex;
	if (!read_descriptor(m.root()["config"], st, cfg))
		return fail(r, "%s: config is not a descriptor", m.path);
	if (!blob(r, find, cfg.digest, cfg.size, bytes, r.config_path, hex))
		return false;
	json::value layers = m.root()["layers"];
	if (!layers.is(json::kind::array))
		return fail(r, "%s: layers is not a list", m.path);
	bool ok = true;
	layers.each([&](json::value v) {
		descriptor d;
		layer_ref l;
		if (!ok)
			return;
		if (!read_descriptor(v, st, d)) {
			ok = fail(r, "%s: a malformed layer descriptor", m.path);
			return;
		}
		if (!(ok = blob(r, find, d.digest, d.size, bytes, l.path, l.blob)))
			return;
		l.media_type = d.media_type;
		l.size = d.size;
		r.layers.push_back(l);
	});
	return ok;
}

// An OCI layout: index.json names the images; each is a manifest, or an index of
// per-platform manifests (nested, maybe), followed down to linux and host_arch.
template <class Find>
bool from_index(std::span<const unsigned char> ix, Find &find, hash_fn hash, choice &c, resolution &r)
{
	std::vector<json::token> tokens;
	json::document doc;
	if (problem p = load(text(ix), tokens, doc))
		return fail(r, "%s at byte %zu of index.json", p.what, p.offset);
	strings st(r.stores.emplace_back(), text(ix));
	json::value list = json::value{&doc, 0}["manifests"];
	if (!list.is(json::kind::array))
		return fail(r, "index.json: manifests is not a list");
	descriptor chosen;
	bool bad = false;
	list.each([&](json::value v) {
		descriptor d;
		if (!read_descriptor(v, st, d))
			bad = true;
		else if (const char *names[] = {d.full_name, d.name}; platform_fits(d) && c.offer(names, false))
			chosen = d;
	});
	if (bad)
		return fail(r, "index.json: a malformed descriptor in manifests");
	if (!c.exactly_one(r))
		return false;
	r.name = *chosen.full_name ? chosen.full_name : chosen.name;
	for (int depth = 0; depth < 8; depth++) {
		json_blob m;
		if (!load_blob(r, find, hash, chosen, m))
			return false;
		strings mst(r.stores.emplace_back(), text(m.bytes));
		const char *own_type = "";
		string_field(m.root()["mediaType"], mst, own_type, "");
		if (!is_index(chosen.media_type) && !is_index(own_type) && !m.root()["manifests"].is(json::kind::array))
			return from_oci_manifest(m, mst, find, r);
		char platforms[160] = "";
		size_t used = 0;
		bool found = false;
		m.root()["manifests"].each([&](json::value v) {
			descriptor d;
			if (found || !read_descriptor(v, mst, d))
				return;
			used += size_t(snprintf(platforms + used, used < sizeof platforms ? sizeof platforms - used : 0, "%s%s/%s",
						used ? ", " : "", d.os, d.arch));
			if (platform_fits(d))
				chosen = d, found = true;
		});
		if (!found)
			return fail(r, "%s: no manifest for linux/%.*s (it has %s)", m.path, int(host_arch.size()), host_arch.data(),
				    *platforms ? platforms : "none");
	}
	return fail(r, "indexes nest deeper than 8");
}

} // namespace detail

// Resolves the archive whose members find(path) returns (a span with data() == nullptr
// when missing) to one image: `want` chooses by tag or ref name (nullptr: the only one).
// Small documents (indexes, manifests, the config) are checked against their digests here;
// layers are left to the caller, which hashes them once as it unpacks them.
template <class Find>
bool resolve(Find &&find, const char *want, hash_fn hash, resolution &r)
{
	using namespace detail;
	choice c{want};
	std::span<const unsigned char> m = find("manifest.json"), ix = find("index.json");
	if (m.data() ? !from_manifest_json(m, c, r)
		     : ix.data() ? !from_index(ix, find, hash, c, r)
				 : !fail(r, "neither manifest.json nor index.json: not an image archive"))
		return false;

	std::span<const unsigned char> config = find(r.config_path);
	if (!config.data())
		return fail(r, "%s is missing (the image's config)", r.config_path);
	if (!named_digest(r, hash, config, digest_hex(r.config_path), r.config_path))
		return false;
	if (problem p = parse_config(text(config), r.stores.emplace_back(), r.config))
		return fail(r, "%s at byte %zu of %s", p.what, p.offset, r.config_path);
	if (r.layers.empty())
		return fail(r, "the manifest lists no layers");
	if (r.config.diff_ids.size() != r.layers.size())
		return fail(r, "%s: rootfs.diff_ids has %zu entries for %zu layers", r.config_path, r.config.diff_ids.size(), r.layers.size());
	for (size_t i = 0; i < r.layers.size(); i++) {
		std::string_view id = r.config.diff_ids[i];
		if (!id.starts_with("sha256:") || digest_hex(id).empty())
			return fail(r, "%s: diff_id %zu is not a sha256 digest", r.config_path, i + 1);
		r.layers[i].diff_id = digest_hex(id);
		if (!find(r.layers[i].path).data())
			return fail(r, "%s is missing (layer %zu)", r.layers[i].path, i + 1);
	}
	return true;
}

// Sets "KEY=VALUE" in env, replacing an earlier entry with the same key (docker's -e).
inline void set_env(std::vector<const char *> &env, const char *kv)
{
	std::string_view key(kv, strcspn(kv, "="));
	for (const char *&e : env)
		if (std::string_view(e).starts_with(key) && e[key.size()] == '=' ) {
			e = kv;
			return;
		}
	env.push_back(kv);
}

// The value of KEY in env, or nullptr.
inline const char *get_env(std::span<const char *const> env, std::string_view key)
{
	for (const char *e : env)
		if (std::string_view(e).starts_with(key) && e[key.size()] == '=')
			return e + key.size() + 1;
	return nullptr;
}

} // namespace image
