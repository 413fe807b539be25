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

namespace {
// A value past kCutAbove characters is shown as its first kShown and its length.
constexpr std::size_t kShown = 60, kCutAbove = 80;
}  // namespace

std::string shown(std::string_view text) {
    if (text.size() <= kCutAbove) return std::string(text);
    return fmt::format("{}... ({} characters)", text.substr(0, kShown), text.size());
}

std::string found_text(const YAML::Node& n) {
    // A long value is cut, whatever its kind: a message must stay readable.
    const auto kind = kind_of(n);
    if (kind == Kind::Null) return "null";
    if (kind == Kind::Map) return "a map";
    if (kind == Kind::List) return "a list";
    const std::string& text = n.Scalar();
    if (kind != Kind::String) return shown(text);
    const bool cut = text.size() > kCutAbove;
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
// One name the start of the other, both of 3 characters or more: a longer
// spelling of a name ("evaluate" for "eval").
bool spells_out(const std::string& a, const std::string& b) {
    return std::min(a.size(), b.size()) >= 3 && (a.starts_with(b) || b.starts_with(a));
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
        if (d < best_distance && (d <= limit || extends_name(word, c) || extends_name(c, word) || spells_out(word, c))) {
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

}  // namespace infomax::config
