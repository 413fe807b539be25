// Helpers shared by spec.cpp, schema.cpp and params.cpp: scalar typing (YAML
// 1.2 core schema), "found" texts, key paths and the origin side tables.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/document.hpp"

namespace infomax::config::detail {

// What a node holds, read the way YAML 1.2's core schema reads plain scalars.
enum class Kind { Null, Boolean, Integer, Float, String, Map, List };

Kind kind_of(const YAML::Node& n);
// The kind of an unquoted scalar with this text.
Kind plain_kind(const std::string& text);
// "a string", "an integer", "a map", "null", ...
std::string kind_name(Kind k);
// The value as written, for "found ...": "abc" in quotes, -3, true, null, a map, a list.
std::string found_text(const YAML::Node& n);
// Text echoed into a message, cut past 80 characters to its first 60 and its
// length: a message must stay readable whatever the user wrote.
std::string shown(std::string_view text);
// A value as written without quotes, for lists of allowed values.
std::string written(const YAML::Node& n);

// file, or file:line:col from a yaml-cpp mark (0-based there).
Origin file_origin(const std::string& file, const YAML::Mark& mark = YAML::Mark::null_mark());

bool parse_integer(const std::string& text, std::int64_t& out);
bool parse_float(const std::string& text, double& out);
bool parse_boolean(const std::string& text);

// "a", "a or b", "a, b or c".
std::string join_or(const std::vector<std::string>& items);
std::string join(const std::vector<std::string>& items, const std::string& sep);

// Key paths: "a.b[2].c", root "".
std::string child_path(const std::string& parent, const std::string& key);
std::string index_path(const std::string& parent, std::size_t i);
// True when `path` is `prefix` or lies below it.
bool is_under(const std::string& path, const std::string& prefix);

// The value of `key` in a map (by iteration: never creates entries).
std::optional<YAML::Node> find_child(const YAML::Node& map, const std::string& key);
// The node at a key path, or nothing.
std::optional<YAML::Node> find_path(const YAML::Node& root, const std::string& path);

// A deep copy that shares nothing (YAML::Clone keeps aliases shared).
YAML::Node copy_node(const YAML::Node& n);

using Origins = std::map<std::string, Origin>;
void erase_subtree(Origins& origins, const std::string& path);
void copy_subtree(Origins& dst, const Origins& src, const std::string& path);
void rename_subtree(Origins& origins, const std::string& from, const std::string& to);
// Gives `value` (at `path`) and everything below it, keys included, one origin.
void set_subtree(Document& doc, const YAML::Node& value, const std::string& path, const Origin& origin);
// One override (overrides.cpp), its problems appended to `out`; `argument`
// numbers it on the command line (1-based) for the messages.
void apply_override(Document& doc, const std::string& arg, int argument, std::vector<Diagnostic>& out);
// Where the key of `path` was written, else where its value was.
Origin key_origin(const Document& doc, const std::string& path);

// " (did you mean 'x'?)" or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace infomax::config::detail
