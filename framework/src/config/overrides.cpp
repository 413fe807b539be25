// Command-line overrides (Hydra style): key.path=value, +key=value,
// ++key=value, ~key, applied to a document with their origins.
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
#include <optional>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

#include "config/internal.hpp"

namespace fs = std::filesystem;

namespace infomax::config {

using namespace detail;

namespace {

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

}  // namespace

namespace detail {

namespace {

// "no key 'a.b' to delete" / "... to override (use +a.b=... to add it)".
void report_missing(std::vector<Diagnostic>& out, const Origin& origin, Op op, const std::string& key,
                    const std::string& path) {
    if (op == Op::Delete)
        out.push_back({origin, path, fmt::format("no key '{}' to delete", shown(key))});
    else
        out.push_back({origin, path, fmt::format("no key '{}' to override (use +{}=... to add it)", shown(key), shown(key))});
}

// Walks to the parent of the last segment (+ and ++ create missing maps);
// `path` is the parent's. Nothing, with the problem in `out`, when the way is
// not there.
std::optional<YAML::Node> walk_to_parent(Document& doc, const ParsedOverride& o, const Origin& origin,
                                         std::vector<Diagnostic>& out, std::string& path) {
    std::vector<YAML::Node> chain{doc.root};  // handles pushed, never assigned (assignment would overwrite nodes)
    const auto& segments = o.segments;
    // Setting a key the file does not write is normal (the schema's defaults
    // are filled later); a misspelt key is caught by validation instead.
    const bool creates = o.op != Op::Delete;
    for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
        const YAML::Node& cur = chain.back();
        std::string next;
        auto child = get_child(cur, segments[i], path, next);
        const std::string rest = join({segments.begin() + static_cast<std::ptrdiff_t>(i) + 1, segments.end()}, ".");
        if (!child) {
            if (!creates || !cur.IsMap()) {
                if (creates)
                    out.push_back({origin, path, fmt::format("cannot set '{}': '{}' is {}, not a map", shown(o.key),
                                                             shown(path), kind_name(kind_of(cur)))});
                else
                    report_missing(out, origin, o.op, o.key, child_path(next, rest));
                return std::nullopt;
            }
            YAML::Node map(YAML::NodeType::Map);
            YAML::Node parent = cur;
            parent.force_insert(segments[i], map);
            set_subtree(doc, map, next, origin);
            child = map;
        } else if (!child->IsMap() && !child->IsSequence()) {
            if (creates)
                out.push_back({origin, next, fmt::format("cannot set '{}': '{}' is {}, not a map", shown(o.key), shown(next),
                                                         kind_name(kind_of(*child)))});
            else
                report_missing(out, origin, o.op, o.key, child_path(next, rest));
            return std::nullopt;
        }
        chain.push_back(*child);
        path = next;
    }
    return chain.back();
}

// Whether the operation fits what is there: = changes (a list grows only
// with +), + adds, ~ deletes, ++ either.
bool operation_fits(const ParsedOverride& o, bool exists, bool in_list, const Origin& origin, const std::string& target,
                    std::vector<Diagnostic>& out) {
    switch (o.op) {
        case Op::Set:
            if (!exists && in_list) return report_missing(out, origin, o.op, o.key, target), false;
            return true;
        case Op::Add:
            if (exists) {
                out.push_back({origin, target, fmt::format("key '{}' already exists (use {}=... or ++{}=... to change it)",
                                                           shown(o.key), shown(o.key), shown(o.key))});
                return false;
            }
            return true;
        case Op::Delete:
            if (!exists) return report_missing(out, origin, o.op, o.key, target), false;
            return true;
        case Op::Upsert: return true;
    }
    return true;
}

// The list item `last` of `parent` (at `path`) set, appended or deleted, the
// origins of the items after a deleted one moved down.
void apply_in_list(Document& doc, YAML::Node parent, const ParsedOverride& o, const YAML::Node& value, const Origin& origin,
                   const std::string& path, const std::string& target, std::vector<Diagnostic>& out) {
    const std::string& last = o.segments.back();
    const std::size_t size = parent.size();
    if (!is_index(last) || std::stoul(last) > size) {
        out.push_back({origin, target, fmt::format("cannot set '{}': '{}' is a list of {} items; use an index from 0 to {}",
                                                   shown(o.key), shown(path), size, size)});
        return;
    }
    const auto i = static_cast<std::size_t>(std::stoul(last));
    if (o.op == Op::Delete) {
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
}

}  // namespace

void apply_override(Document& doc, const std::string& arg, int argument, std::vector<Diagnostic>& out) {
    Origin origin;
    origin.argument = argument;
    origin.text = arg;
    ParsedOverride o;
    if (!parse_override(arg, o)) {
        out.push_back({origin, "", kOverrideForm});
        return;
    }
    YAML::Node value;
    if (o.op != Op::Delete) {
        try {
            YAML::Node read = YAML::Load(o.text);
            value = read.IsDefined() ? copy_node(read) : YAML::Node(YAML::NodeType::Null);
        } catch (const YAML::Exception& e) {
            out.push_back({origin, o.key, fmt::format("cannot read the value as YAML: {}", e.msg)});
            return;
        }
    }
    std::string path;
    const auto found = walk_to_parent(doc, o, origin, out, path);
    if (!found) return;
    YAML::Node parent = *found;
    const std::string& last = o.segments.back();
    std::string target;
    const bool exists = get_child(parent, last, path, target).has_value();
    if (!operation_fits(o, exists, parent.IsSequence(), origin, target, out)) return;
    if (!parent.IsMap() && !parent.IsSequence()) {
        out.push_back({origin, path, fmt::format("cannot set '{}': '{}' is {}, not a map", shown(o.key), shown(path),
                                                 kind_name(kind_of(parent)))});
        return;
    }
    if (parent.IsSequence()) return apply_in_list(doc, parent, o, value, origin, path, target, out);
    if (o.op == Op::Delete) {
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

}  // namespace detail

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

}  // namespace infomax::config
