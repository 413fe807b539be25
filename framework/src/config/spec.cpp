#include "config/document.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "config/internal.hpp"

namespace fs = std::filesystem;

namespace infomax::config {

using namespace detail;

// ---------------------------------------------------------------------------
// Origins, diagnostics, errors

std::string Origin::to_string() const {
    if (!file.empty()) return line > 0 ? fmt::format("{}:{}:{}", file, line, column) : file;
    if (argument >= 0) return fmt::format("command line argument {} ({})", argument, shown(text));
    return "default";
}

std::string Diagnostic::to_string() const {
    if (path.empty()) return fmt::format("{}: {}", origin.to_string(), message);
    return fmt::format("{}: {}: {}", origin.to_string(), shown(path), message);
}

namespace {
std::string join_diagnostics(const std::vector<Diagnostic>& diagnostics) {
    std::string s;
    for (const auto& d : diagnostics) {
        if (!s.empty()) s += '\n';
        s += d.to_string();
    }
    return s;
}

// The parent of a key path: "a.b[2]" -> "a.b", "a" -> "".
std::string parent_path(const std::string& path) {
    const auto cut = path.find_last_of(".[");
    return cut == std::string::npos ? std::string() : path.substr(0, cut);
}
}  // namespace

SpecError::SpecError(std::vector<Diagnostic> diagnostics)
    : Error(join_diagnostics(diagnostics)), diagnostics_(std::move(diagnostics)) {}

Origin Document::origin_of(const std::string& path) const {
    std::string p = path;
    for (;;) {
        if (auto it = origins.find(p); it != origins.end()) return it->second;
        if (p.empty()) return {};
        p = parent_path(p);
    }
}

// ---------------------------------------------------------------------------
// Shared helpers (declared in internal.hpp)

namespace detail {

namespace {

// Hand-written, not std::regex: libstdc++'s matcher recurses once per
// character, so a long scalar (30 000 digits) overflowed the stack.
bool all_of_digits(std::string_view s, bool (*digit)(char)) {
    if (s.empty()) return false;
    for (char c : s)
        if (!digit(c)) return false;
    return true;
}
bool decimal(char c) { return c >= '0' && c <= '9'; }
bool octal(char c) { return c >= '0' && c <= '7'; }
bool hexadecimal(char c) { return decimal(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string_view without_sign(std::string_view s) {
    return !s.empty() && (s[0] == '-' || s[0] == '+') ? s.substr(1) : s;
}

// [-+]? ( \.[0-9]+ | [0-9]+ (\.[0-9]*)? ) ([eE][-+]?[0-9]+)?
bool yaml_float(std::string_view s) {
    s = without_sign(s);
    std::string_view mantissa = s, exponent;
    if (auto e = s.find_first_of("eE"); e != std::string_view::npos) {
        mantissa = s.substr(0, e);
        exponent = without_sign(s.substr(e + 1));
        if (!all_of_digits(exponent, decimal)) return false;
    }
    const auto dot = mantissa.find('.');
    if (dot == std::string_view::npos) return all_of_digits(mantissa, decimal);
    const std::string_view whole = mantissa.substr(0, dot), fraction = mantissa.substr(dot + 1);
    if (whole.empty()) return all_of_digits(fraction, decimal);
    return all_of_digits(whole, decimal) && (fraction.empty() || all_of_digits(fraction, decimal));
}

}  // namespace

Kind plain_kind(const std::string& s) {
    // YAML 1.2 core schema, https://yaml.org/spec/1.2.2/#1023-core-schema
    if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return Kind::Null;
    if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE")
        return Kind::Boolean;
    const std::string_view v = s;
    if (all_of_digits(without_sign(v), decimal) || (v.starts_with("0o") && all_of_digits(v.substr(2), octal)) ||
        (v.starts_with("0x") && all_of_digits(v.substr(2), hexadecimal)))
        return Kind::Integer;
    const std::string_view unsigned_part = without_sign(v);
    if (yaml_float(v) || unsigned_part == ".inf" || unsigned_part == ".Inf" || unsigned_part == ".INF" ||
        v == ".nan" || v == ".NaN" || v == ".NAN")
        return Kind::Float;
    return Kind::String;
}

Kind kind_of(const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Map: return Kind::Map;
        case YAML::NodeType::Sequence: return Kind::List;
        case YAML::NodeType::Scalar: {
            // "!" is what yaml-cpp tags quoted scalars with: always strings.
            const std::string& tag = n.Tag();
            if (tag == "!" || tag == "tag:yaml.org,2002:str") return Kind::String;
            return plain_kind(n.Scalar());
        }
        default: return Kind::Null;
    }
}

std::string kind_name(Kind k) {
    switch (k) {
        case Kind::Null: return "null";
        case Kind::Boolean: return "a boolean";
        case Kind::Integer: return "an integer";
        case Kind::Float: return "a number";
        case Kind::String: return "a string";
        case Kind::Map: return "a map";
        case Kind::List: return "a list";
    }
    return "a value";
}

std::string shown(std::string_view text) {
    constexpr std::size_t kShown = 60;
    if (text.size() <= kShown + 20) return std::string(text);
    return fmt::format("{}... ({} characters)", text.substr(0, kShown), text.size());
}

std::string found_text(const YAML::Node& n) {
    // A long value is cut, whatever its kind: a message must stay readable.
    constexpr std::size_t kShown = 60;
    const auto kind = kind_of(n);
    if (kind == Kind::Null) return "null";
    if (kind == Kind::Map) return "a map";
    if (kind == Kind::List) return "a list";
    const std::string& text = n.Scalar();
    if (kind != Kind::String) return shown(text);
    const bool cut = text.size() > kShown + 20;
    const std::string_view head = cut ? std::string_view(text).substr(0, kShown) : std::string_view(text);
    std::string s = "\"";
    for (char c : head) {
        if (c == '"' || c == '\\') s += '\\';
        if (c == '\n') {
            s += "\\n";
            continue;
        }
        s += c;
    }
    return cut ? fmt::format("{}...\" ({} characters)", s, text.size()) : s + "\"";
}

std::string written(const YAML::Node& n) {
    if (n.IsScalar()) return n.Scalar();
    if (!n.IsDefined() || n.IsNull()) return "null";
    YAML::Emitter e;
    e << YAML::Flow << n;
    return e.c_str();
}

Origin file_origin(const std::string& file, const YAML::Mark& mark) {
    Origin o;
    o.file = file;
    if (mark.line >= 0) {
        o.line = mark.line + 1;
        o.column = mark.column + 1;
    }
    return o;
}

bool parse_integer(const std::string& text, std::int64_t& out) {
    std::string s = text;
    int base = 10;
    bool negative = false;
    if (s.rfind("0x", 0) == 0) {
        base = 16;
        s = s.substr(2);
    } else if (s.rfind("0o", 0) == 0) {
        base = 8;
        s = s.substr(2);
    } else if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        negative = s[0] == '-';
        s = s.substr(1);
    }
    if (negative) s = "-" + s;
    const char* end = s.data() + s.size();
    auto [ptr, ec] = std::from_chars(s.data(), end, out, base);
    return ec == std::errc() && ptr == end && !s.empty();
}

bool parse_float(const std::string& text, double& out) {
    std::string s = text;
    bool negative = false;
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
        negative = s[0] == '-';
        s = s.substr(1);
    }
    if (s == ".inf" || s == ".Inf" || s == ".INF") {
        out = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
        return true;
    }
    if (s == ".nan" || s == ".NaN" || s == ".NAN") {
        out = std::numeric_limits<double>::quiet_NaN();
        return true;
    }
    if (s.rfind("0x", 0) == 0 || s.rfind("0o", 0) == 0) {
        std::int64_t i = 0;
        if (!parse_integer(s, i)) return false;
        out = negative ? -static_cast<double>(i) : static_cast<double>(i);
        return true;
    }
    const char* end = s.data() + s.size();
    auto [ptr, ec] = std::from_chars(s.data(), end, out);
    if (ec != std::errc() || ptr != end || s.empty()) return false;
    if (negative) out = -out;
    return true;
}

bool parse_boolean(const std::string& text) { return text == "true" || text == "True" || text == "TRUE"; }

std::string join(const std::vector<std::string>& items, const std::string& sep) {
    std::string s;
    for (std::size_t i = 0; i < items.size(); ++i) s += (i ? sep : "") + items[i];
    return s;
}

std::string join_or(const std::vector<std::string>& items) {
    if (items.size() <= 1) return join(items, "");
    std::vector<std::string> head(items.begin(), items.end() - 1);
    return join(head, ", ") + " or " + items.back();
}

std::string child_path(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : parent + "." + key;
}

std::string index_path(const std::string& parent, std::size_t i) { return fmt::format("{}[{}]", parent, i); }

bool is_under(const std::string& path, const std::string& prefix) {
    if (prefix.empty()) return true;
    if (path.size() < prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
    return path.size() == prefix.size() || path[prefix.size()] == '.' || path[prefix.size()] == '[';
}

std::optional<YAML::Node> find_child(const YAML::Node& map, const std::string& key) {
    if (!map.IsMap()) return std::nullopt;
    for (auto it = map.begin(); it != map.end(); ++it)
        if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
    return std::nullopt;
}

std::optional<YAML::Node> find_path(const YAML::Node& root, const std::string& path) {
    std::vector<YAML::Node> chain{root};  // handles are rebound by push_back, never assigned
    std::size_t i = 0;
    while (i < path.size()) {
        const YAML::Node& cur = chain.back();
        if (path[i] == '[') {
            const auto close = path.find(']', i);
            if (close == std::string::npos || !cur.IsSequence()) return std::nullopt;
            std::int64_t idx = -1;
            if (!parse_integer(path.substr(i + 1, close - i - 1), idx) || idx < 0 ||
                static_cast<std::size_t>(idx) >= cur.size())
                return std::nullopt;
            chain.push_back(cur[static_cast<std::size_t>(idx)]);
            i = close + 1;
        } else {
            if (path[i] == '.') ++i;
            const auto end = path.find_first_of(".[", i);
            const std::string key = path.substr(i, end == std::string::npos ? std::string::npos : end - i);
            auto child = find_child(cur, key);
            if (!child) return std::nullopt;
            chain.push_back(*child);
            i = end == std::string::npos ? path.size() : end;
        }
    }
    return chain.back();
}

YAML::Node copy_node(const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Scalar: {
            YAML::Node c(n.Scalar());
            c.SetTag(n.Tag());
            return c;
        }
        case YAML::NodeType::Sequence: {
            YAML::Node c(YAML::NodeType::Sequence);
            for (const auto& item : n) c.push_back(copy_node(item));
            c.SetStyle(n.Style());
            return c;
        }
        case YAML::NodeType::Map: {
            YAML::Node c(YAML::NodeType::Map);
            for (auto it = n.begin(); it != n.end(); ++it) c.force_insert(it->first.Scalar(), copy_node(it->second));
            c.SetStyle(n.Style());
            return c;
        }
        default: return YAML::Node(YAML::NodeType::Null);
    }
}

void erase_subtree(Origins& origins, const std::string& path) {
    auto it = origins.lower_bound(path);
    while (it != origins.end() && it->first.compare(0, path.size(), path) == 0) {
        if (is_under(it->first, path))
            it = origins.erase(it);
        else
            ++it;
    }
}

void copy_subtree(Origins& dst, const Origins& src, const std::string& path) {
    for (auto it = src.lower_bound(path); it != src.end() && it->first.compare(0, path.size(), path) == 0; ++it)
        if (is_under(it->first, path)) dst[it->first] = it->second;
}

void rename_subtree(Origins& origins, const std::string& from, const std::string& to) {
    Origins moved;
    copy_subtree(moved, origins, from);
    erase_subtree(origins, from);
    for (auto& [path, origin] : moved) origins[to + path.substr(from.size())] = origin;
}

namespace {
void set_below(Document& doc, const YAML::Node& value, const std::string& path, const Origin& origin) {
    doc.origins[path] = origin;
    if (value.IsMap()) {
        for (auto it = value.begin(); it != value.end(); ++it) {
            const std::string p = child_path(path, it->first.Scalar());
            doc.key_origins[p] = origin;
            set_below(doc, it->second, p, origin);
        }
    } else if (value.IsSequence()) {
        for (std::size_t i = 0; i < value.size(); ++i) set_below(doc, value[i], index_path(path, i), origin);
    }
}
}  // namespace

void set_subtree(Document& doc, const YAML::Node& value, const std::string& path, const Origin& origin) {
    erase_subtree(doc.origins, path);
    erase_subtree(doc.key_origins, path);
    if (!path.empty()) doc.key_origins[path] = origin;
    set_below(doc, value, path, origin);
}

Origin key_origin(const Document& doc, const std::string& path) {
    if (auto it = doc.key_origins.find(path); it != doc.key_origins.end()) return it->second;
    return doc.origin_of(path);
}

namespace {
// Edit distance counting a swap of neighbours as one edit ("jds" -> "jsd").
std::size_t edit_distance(const std::string& a, const std::string& b) {
    const std::size_t n = a.size(), m = b.size();
    std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
    for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= n; ++i)
        for (std::size_t j = 1; j <= m; ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[n][m];
}

// "lr_rate" names "lr" plus a suffix: a near miss even though many edits away.
bool extends_name(const std::string& longer, const std::string& shorter) {
    return !shorter.empty() && longer.size() > shorter.size() + 1 && longer.compare(0, shorter.size(), shorter) == 0 &&
           (longer[shorter.size()] == '_' || longer[shorter.size()] == '-');
}
}  // namespace

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
    const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
    std::vector<std::string> sorted = candidates;
    std::sort(sorted.begin(), sorted.end());
    std::string best;
    std::size_t best_distance = std::numeric_limits<std::size_t>::max();
    for (const auto& c : sorted) {
        if (c == word) continue;
        const std::size_t d = edit_distance(word, c);
        if (d < best_distance && (d <= limit || extends_name(word, c) || extends_name(c, word))) {
            best = c;
            best_distance = d;
        }
    }
    return best.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", best);
}

}  // namespace detail

std::string unknown_name(const std::string& what, const std::string& name, std::vector<std::string> known) {
    std::sort(known.begin(), known.end());
    known.erase(std::unique(known.begin(), known.end()), known.end());
    return fmt::format("unknown {} '{}'{}; known: {}", what, detail::shown(name), detail::did_you_mean(name, known),
                       known.empty() ? "(none registered)" : detail::join(known, ", "));
}

namespace detail {

}  // namespace detail

void sort_diagnostics(std::vector<Diagnostic>& diagnostics) {
    std::set<std::string> seen;
    std::vector<Diagnostic> kept;
    for (auto& d : diagnostics)
        if (seen.insert(d.to_string()).second) kept.push_back(std::move(d));
    auto key = [](const Diagnostic& d) {
        const int group = !d.origin.file.empty() ? 0 : d.origin.argument < 0 ? 1 : 2;
        return std::tuple(group, d.origin.file, d.origin.line, d.origin.column, d.origin.argument);
    };
    std::stable_sort(kept.begin(), kept.end(), [&](const Diagnostic& a, const Diagnostic& b) { return key(a) < key(b); });
    diagnostics = std::move(kept);
}

namespace detail {

}  // namespace detail

// ---------------------------------------------------------------------------
// Reading files

namespace {

constexpr int kMaxDepth = 256;  // self-referencing anchors would recurse forever
// Hostile or mistaken YAML is refused in well under a second: a spec is text a
// person writes, far below these limits.
constexpr std::size_t kMaxSpecBytes = 1 << 20;
constexpr std::size_t kMaxValues = 100000;  // aliases expand each time they are used (a "billion laughs")

Origin mark_origin(const YAML::Mark& mark, const std::string& file) { return file_origin(file, mark); }

// yaml-cpp marks an empty value (`key:`) at the next token, often the next
// line; such a value is placed at its key instead.
bool null_written_at(const std::string& text, int pos) {
    if (pos < 0 || static_cast<std::size_t>(pos) >= text.size()) return false;
    const std::string_view rest(text.data() + pos, text.size() - static_cast<std::size_t>(pos));
    return rest.starts_with("~") || rest.starts_with("null") || rest.starts_with("Null") || rest.starts_with("NULL");
}

struct Recorder {
    const std::string& file;
    const std::string& text;
    Document& doc;
    std::vector<Diagnostic>& diagnostics;
    std::size_t values = 0;

    void walk(const YAML::Node& n, const std::string& path, const Origin* key_at, int depth) {
        if (values > kMaxValues) return;
        if (++values > kMaxValues) {
            diagnostics.push_back({mark_origin(n.Mark(), file), path,
                                   fmt::format("the document holds more than {} values (YAML aliases count each time "
                                               "they are used); a spec is far smaller: remove the aliases that repeat "
                                               "whole lists or maps",
                                               kMaxValues)});
            return;
        }
        Origin o = mark_origin(n.Mark(), file);
        if (key_at && n.IsNull() && (o.line == 0 || !null_written_at(text, n.Mark().pos))) o = *key_at;
        doc.origins[path] = o;
        if (depth > kMaxDepth) {
            diagnostics.push_back({o, path.size() > 60 ? path.substr(0, 60) + "..." : path,
                                   fmt::format("nested more than {} levels deep (does an anchor refer to itself?)", kMaxDepth)});
            return;
        }
        if (n.IsMap()) {
            std::map<std::string, Origin> seen;
            for (auto it = n.begin(); it != n.end(); ++it) {
                const Origin ko = mark_origin(it->first.Mark(), file);
                if (!it->first.IsScalar()) {
                    diagnostics.push_back({ko, path, fmt::format("keys must be names, found {}", found_text(it->first))});
                    continue;
                }
                const std::string key = it->first.Scalar();
                const std::string p = child_path(path, key);
                if (auto first = seen.find(key); first != seen.end()) {
                    diagnostics.push_back({ko, p,
                                           fmt::format("duplicate key '{}' (first written at line {}); remove one of them",
                                                       shown(key), first->second.line)});
                    continue;
                }
                seen[key] = ko;
                doc.key_origins[p] = ko;
                walk(it->second, p, &ko, depth + 1);
            }
        } else if (n.IsSequence()) {
            for (std::size_t i = 0; i < n.size(); ++i) walk(n[i], index_path(path, i), nullptr, depth + 1);
        }
    }
};

// One file's tree with origins; `extends` is not resolved yet.
Document parse_text(const std::string& text, const std::string& file) {
    if (text.size() > kMaxSpecBytes)
        throw SpecError({Diagnostic{file_origin(file), "",
                                    fmt::format("{} bytes: a spec file is at most {} bytes (1 MiB) of text; is this the right file?",
                                                text.size(), kMaxSpecBytes)}});
    // yaml-cpp's own limit on flow nesting ([[[...) answers only "bad file": find it first.
    {
        int depth = 0, line = 1, column = 0;
        char quote = 0;
        bool comment = false;
        for (char c : text) {
            ++column;
            if (c == '\n') {
                ++line, column = 0, comment = false;
                if (quote == '\'') quote = 0;  // keeps the scan simple; yaml-cpp reports real errors
                continue;
            }
            if (comment) continue;
            if (quote) {
                if (c == quote) quote = 0;
                continue;
            }
            if (c == '#') comment = true;
            else if (c == '"' || c == '\'') quote = c;
            else if (c == '[' || c == '{') {
                if (++depth > kMaxDepth)
                    throw SpecError({Diagnostic{Origin{file, line, column, -1, ""}, "",
                                                fmt::format("nested more than {} levels deep: a spec is far flatter", kMaxDepth)}});
            } else if (c == ']' || c == '}') {
                depth = std::max(0, depth - 1);
            }
        }
    }
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        throw SpecError({Diagnostic{mark_origin(e.mark, file), "", e.msg}});
    }
    Document doc;
    std::vector<Diagnostic> diagnostics;
    if (!root.IsDefined() || root.IsNull()) {
        // An empty file is an empty spec.
        doc.root = YAML::Node(YAML::NodeType::Map);
        doc.origins[""] = file_origin(file, YAML::Mark());  // Mark() is line 0, column 0
        return doc;
    }
    Recorder{file, text, doc, diagnostics, 0}.walk(root, "", nullptr, 0);
    if (!diagnostics.empty()) throw SpecError(std::move(diagnostics));
    doc.root = copy_node(root);  // unshares anchors, so an override changes one place only
    return doc;
}

// The text of a file, or nothing with `why` set.
std::optional<std::string> read_text(const std::string& path, std::string& why) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
        why = "no such file";
        return std::nullopt;
    }
    if (fs::is_directory(path, ec)) {
        why = "is a directory, not a file";
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        why = std::strerror(errno);
        return std::nullopt;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Later values win; maps merge key by key, everything else replaces. Origins
// travel with the values that win.
void merge_map(Document& dst, YAML::Node dmap, const Document& src, const YAML::Node& smap, const std::string& path) {
    for (auto it = smap.begin(); it != smap.end(); ++it) {
        const std::string key = it->first.Scalar();
        const std::string p = child_path(path, key);
        auto existing = find_child(dmap, key);
        if (existing && existing->IsMap() && it->second.IsMap()) {
            merge_map(dst, *existing, src, it->second, p);
            dst.origins[p] = src.origin_of(p);
            dst.key_origins[p] = key_origin(src, p);
            continue;
        }
        YAML::Node value = copy_node(it->second);
        if (existing)
            dmap[key] = value;  // rebinds the map's entry; `existing` is not touched
        else
            dmap.force_insert(key, value);
        erase_subtree(dst.origins, p);
        erase_subtree(dst.key_origins, p);
        copy_subtree(dst.origins, src.origins, p);
        copy_subtree(dst.key_origins, src.key_origins, p);
    }
}

struct Loader {
    std::vector<Diagnostic> diagnostics;
    // The files being read, outermost first: canonical path and name as shown.
    std::vector<std::pair<std::string, std::string>> chain;

    static std::string canonical(const std::string& file) {
        std::error_code ec;
        auto p = fs::weakly_canonical(fs::absolute(file), ec);
        return ec ? file : p.string();
    }

    Document resolve(const std::string& text, const std::string& file) {
        Document doc = parse_text(text, file);
        auto ext = find_child(doc.root, "extends");
        if (!ext) return doc;

        std::vector<std::pair<std::string, std::string>> names;  // name, its path
        if (kind_of(*ext) == Kind::String) {
            names.emplace_back(ext->Scalar(), "extends");
        } else if (ext->IsSequence() && std::all_of(ext->begin(), ext->end(), [](const YAML::Node& n) {
                       return kind_of(n) == Kind::String;
                   })) {
            for (std::size_t i = 0; i < ext->size(); ++i) names.emplace_back((*ext)[i].Scalar(), index_path("extends", i));
        } else {
            diagnostics.push_back({doc.origin_of("extends"), "extends",
                                   fmt::format("expected a file name or a list of file names, found {}", found_text(*ext))});
        }

        Document merged;
        merged.root = YAML::Node(YAML::NodeType::Map);
        chain.emplace_back(canonical(file), file);
        for (const auto& [name, at] : names) {
            const std::string shown = (fs::path(file).parent_path() / name).lexically_normal().string();
            const std::string canon = canonical(shown);
            auto cycle_start = std::find_if(chain.begin(), chain.end(), [&](const auto& c) { return c.first == canon; });
            if (cycle_start != chain.end()) {
                std::vector<std::string> loop;
                for (auto it = cycle_start; it != chain.end(); ++it) loop.push_back(it->second);
                loop.push_back(shown);
                diagnostics.push_back({doc.origin_of(at), at, "extends cycle: " + join(loop, " -> ")});
                continue;
            }
            std::string why;
            auto base_text = read_text(shown, why);
            if (!base_text) {
                diagnostics.push_back({doc.origin_of(at), at, fmt::format("cannot read '{}': {}", name, why)});
                continue;
            }
            try {
                Document base = resolve(*base_text, shown);
                if (!base.root.IsMap()) {
                    diagnostics.push_back({doc.origin_of(at), at,
                                           fmt::format("'{}' holds {}, not a map of settings: a spec extends only maps",
                                                       name, base.root.IsSequence() ? "a list" : "a single value")});
                    continue;
                }
                merge_map(merged, merged.root, base, base.root, "");
            } catch (const SpecError& e) {
                diagnostics.insert(diagnostics.end(), e.diagnostics().begin(), e.diagnostics().end());
            }
        }
        chain.pop_back();

        doc.root.remove("extends");
        erase_subtree(doc.origins, "extends");
        erase_subtree(doc.key_origins, "extends");
        merge_map(merged, merged.root, doc, doc.root, "");
        merged.origins[""] = doc.origins[""];
        return merged;
    }
};

// ---------------------------------------------------------------------------
// Overrides

enum class Op { Set, Add, Upsert, Delete };

const char* kOverrideForm = "expected key.path=value, +key.path=value, ++key.path=value or ~key.path";

// "a.b[2].c" and "a.b.2.c" both give a, b, 2, c.
bool split_key(const std::string& key, std::vector<std::string>& segments) {
    std::string cur;
    bool after_index = false;
    for (std::size_t i = 0; i < key.size(); ++i) {
        const char c = key[i];
        if (c == '.') {
            if (cur.empty() && !after_index) return false;
            if (!cur.empty()) segments.push_back(cur);
            cur.clear();
            after_index = false;
        } else if (c == '[') {
            if (!cur.empty()) segments.push_back(cur);
            else if (segments.empty()) return false;
            cur.clear();
            const auto close = key.find(']', i);
            if (close == std::string::npos || close == i + 1) return false;
            const std::string idx = key.substr(i + 1, close - i - 1);
            if (idx.find_first_not_of("0123456789") != std::string::npos) return false;
            segments.push_back(idx);
            i = close;
            after_index = true;
        } else if (c == ']' || c == '=' || std::isspace(static_cast<unsigned char>(c))) {
            return false;
        } else {
            if (after_index) return false;
            cur += c;
        }
    }
    if (cur.empty() && !after_index) return false;
    if (!cur.empty()) segments.push_back(cur);
    return !segments.empty();
}

bool is_index(const std::string& s) {
    return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos;
}

// The child of a map or list, and its path.
std::optional<YAML::Node> get_child(const YAML::Node& node, const std::string& segment, const std::string& path,
                                    std::string& child) {
    if (node.IsMap()) {
        child = child_path(path, segment);
        return find_child(node, segment);
    }
    child = child_path(path, segment);
    if (node.IsSequence() && is_index(segment)) {
        const auto i = static_cast<std::size_t>(std::stoul(segment));
        child = index_path(path, i);
        if (i < node.size()) return node[i];
    }
    return std::nullopt;
}

// An override taken apart: its operation, key as written, segments and value text.
struct ParsedOverride {
    Op op = Op::Set;
    std::string key, text;
    std::vector<std::string> segments;
};

// False when `arg` is not of the override forms (kOverrideForm).
bool parse_override(const std::string& arg, ParsedOverride& p) {
    std::string rest = arg;
    if (rest.rfind("~", 0) == 0) {
        p.op = Op::Delete;
        rest = rest.substr(1);
    } else if (rest.rfind("++", 0) == 0) {
        p.op = Op::Upsert;
        rest = rest.substr(2);
    } else if (rest.rfind("+", 0) == 0) {
        p.op = Op::Add;
        rest = rest.substr(1);
    }
    p.key = rest;
    const auto eq = rest.find('=');
    if (p.op != Op::Delete) {
        p.key = eq == std::string::npos ? std::string() : rest.substr(0, eq);
        p.text = eq == std::string::npos ? std::string() : rest.substr(eq + 1);
    }
    return !(p.op == Op::Delete && eq != std::string::npos) && split_key(p.key, p.segments);
}

void apply_override(Document& doc, const std::string& arg, int argument, std::vector<Diagnostic>& out) {
    Origin origin;
    origin.argument = argument;
    origin.text = arg;

    ParsedOverride parsed;
    if (!parse_override(arg, parsed)) {
        out.push_back({origin, "", kOverrideForm});
        return;
    }
    const Op op = parsed.op;
    const std::string& key = parsed.key;
    const std::string& text = parsed.text;
    const std::vector<std::string>& segments = parsed.segments;

    YAML::Node value;
    if (op != Op::Delete) {
        try {
            YAML::Node parsed = YAML::Load(text);
            value = parsed.IsDefined() ? copy_node(parsed) : YAML::Node(YAML::NodeType::Null);
        } catch (const YAML::Exception& e) {
            out.push_back({origin, key, fmt::format("cannot read the value as YAML: {}", e.msg)});
            return;
        }
    }

    auto missing = [&](const std::string& path) {
        if (op == Op::Delete)
            out.push_back({origin, path, fmt::format("no key '{}' to delete", shown(key))});
        else
            out.push_back({origin, path, fmt::format("no key '{}' to override (use +{}=... to add it)", shown(key), shown(key))});
    };

    // Walk to the parent of the last segment; + and ++ create missing maps.
    std::vector<YAML::Node> chain{doc.root};  // handles pushed, never assigned (assignment would overwrite nodes)
    std::string path;
    for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
        const YAML::Node& cur = chain.back();
        std::string next;
        auto child = get_child(cur, segments[i], path, next);
        // Setting a key the file does not write is normal (the schema's defaults
        // are filled later); a misspelt key is caught by validation instead.
        const bool creates = op != Op::Delete;
        if (!child) {
            if (!creates || !cur.IsMap()) {
                if (creates)
                    out.push_back({origin, path,
                                   fmt::format("cannot set '{}': '{}' is {}, not a map", shown(key), shown(path), kind_name(kind_of(cur)))});
                else
                    missing(child_path(next, join({segments.begin() + static_cast<std::ptrdiff_t>(i) + 1, segments.end()}, ".")));
                return;
            }
            YAML::Node map(YAML::NodeType::Map);
            YAML::Node parent = cur;
            parent.force_insert(segments[i], map);
            set_subtree(doc, map, next, origin);
            child = map;
        } else if (!child->IsMap() && !child->IsSequence()) {
            if (creates)
                out.push_back({origin, next,
                               fmt::format("cannot set '{}': '{}' is {}, not a map", shown(key), shown(next), kind_name(kind_of(*child)))});
            else
                missing(child_path(next, join({segments.begin() + static_cast<std::ptrdiff_t>(i) + 1, segments.end()}, ".")));
            return;
        }
        chain.push_back(*child);
        path = next;
    }

    YAML::Node parent = chain.back();
    const std::string& last = segments.back();
    std::string target;
    const bool exists = get_child(parent, last, path, target).has_value();
    switch (op) {
        case Op::Set:
            if (!exists && parent.IsSequence()) return missing(target);  // lists grow only with +
            break;
        case Op::Add:
            if (exists) {
                out.push_back({origin, target,
                               fmt::format("key '{}' already exists (use {}=... or ++{}=... to change it)", shown(key), shown(key), shown(key))});
                return;
            }
            break;
        case Op::Delete:
            if (!exists) return missing(target);
            break;
        case Op::Upsert: break;
    }

    if (!parent.IsMap() && !parent.IsSequence()) {
        out.push_back({origin, path, fmt::format("cannot set '{}': '{}' is {}, not a map", key, path, kind_name(kind_of(parent)))});
        return;
    }
    if (parent.IsSequence()) {
        const std::size_t size = parent.size();
        if (!is_index(last) || std::stoul(last) > size) {
            out.push_back({origin, target,
                           fmt::format("cannot set '{}': '{}' is a list of {} items; use an index from 0 to {}", key, path,
                                       size, size)});
            return;
        }
        const auto i = static_cast<std::size_t>(std::stoul(last));
        if (op == Op::Delete) {
            parent.remove(i);
            erase_subtree(doc.origins, target);
            erase_subtree(doc.key_origins, target);
            for (std::size_t j = i + 1; j < size; ++j) {
                rename_subtree(doc.origins, index_path(path, j), index_path(path, j - 1));
                rename_subtree(doc.key_origins, index_path(path, j), index_path(path, j - 1));
            }
            return;
        }
        if (i == size)
            parent.push_back(value);
        else
            parent[i] = value;
        set_subtree(doc, value, target, origin);
        return;
    }
    if (op == Op::Delete) {
        parent.remove(last);
        erase_subtree(doc.origins, target);
        erase_subtree(doc.key_origins, target);
        return;
    }
    if (exists)
        parent[last] = value;
    else
        parent.force_insert(last, value);
    set_subtree(doc, value, target, origin);
}

// ---------------------------------------------------------------------------
// Dump

void emit(YAML::Emitter& e, const YAML::Node& n) {
    switch (n.Type()) {
        case YAML::NodeType::Scalar:
            // A string that reads as something else unquoted ("3", "true") keeps its quotes.
            if (kind_of(n) == Kind::String && plain_kind(n.Scalar()) != Kind::String)
                e << YAML::DoubleQuoted << n.Scalar();
            else
                e << n.Scalar();
            break;
        case YAML::NodeType::Sequence: {
            const bool flat = std::all_of(n.begin(), n.end(), [](const YAML::Node& x) { return !x.IsMap() && !x.IsSequence(); });
            if (flat) e << YAML::Flow;
            e << YAML::BeginSeq;
            for (const auto& item : n) emit(e, item);
            e << YAML::EndSeq;
            break;
        }
        case YAML::NodeType::Map:
            if (n.size() == 0) e << YAML::Flow;
            e << YAML::BeginMap;
            for (auto it = n.begin(); it != n.end(); ++it) {
                e << YAML::Key << it->first.Scalar() << YAML::Value;
                emit(e, it->second);
            }
            e << YAML::EndMap;
            break;
        default: e << YAML::Null; break;
    }
}

}  // namespace

// ---------------------------------------------------------------------------
// Public entry points

std::string dotted_key(const std::string& key) {
    std::vector<std::string> segments;
    return split_key(key, segments) ? join(segments, ".") : "";
}

std::string override_key(const std::string& arg) {
    ParsedOverride parsed;
    if (!parse_override(arg, parsed)) return "";
    return join(parsed.segments, ".");
}

void apply_overrides(Document& doc, const std::vector<std::string>& overrides, std::vector<Diagnostic>& problems) {
    for (std::size_t i = 0; i < overrides.size(); ++i) apply_override(doc, overrides[i], static_cast<int>(i) + 1, problems);
}

Document parse(const std::string& yaml_text, const std::string& name) {
    Loader loader;
    Document doc = loader.resolve(yaml_text, name);
    if (!loader.diagnostics.empty()) {
        sort_diagnostics(loader.diagnostics);
        throw SpecError(std::move(loader.diagnostics));
    }
    return doc;
}

Document load(const std::string& file, const std::vector<std::string>& overrides,
              std::vector<Diagnostic>& override_problems) {
    std::string why;
    auto text = read_text(file, why);
    if (!text) throw SpecError({Diagnostic{file_origin(file), "", why}});
    Document doc = parse(*text, file);
    for (std::size_t i = 0; i < overrides.size(); ++i)
        apply_override(doc, overrides[i], static_cast<int>(i) + 1, override_problems);
    sort_diagnostics(override_problems);
    return doc;
}

Document load(const std::string& file, const std::vector<std::string>& overrides) {
    std::vector<Diagnostic> diagnostics;
    Document doc = load(file, overrides, diagnostics);
    if (!diagnostics.empty()) throw SpecError(std::move(diagnostics));
    return doc;
}

std::string dump(const Document& doc) {
    YAML::Emitter e;
    e.SetIndent(2);
    emit(e, doc.root);
    return std::string(e.c_str()) + "\n";
}

}  // namespace infomax::config
