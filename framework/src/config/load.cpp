// Reading specs: YAML with origins and limits against hostile files,
// `extends` merged, then parse/load/dump.
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
