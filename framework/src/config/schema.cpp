// Schema: a JSON-Schema subset written in YAML, and `validate`, which checks a
// document against it, fills defaults and collects every problem it finds.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "config/internal.hpp"
#include "config/document.hpp"

namespace infomax::config {

using namespace detail;

struct Schema::Impl {
    YAML::Node root{YAML::NodeType::Map};  // {} accepts anything
    std::string name;
};

Schema::Schema() : impl_(std::make_shared<Impl>()) {}
Schema::~Schema() = default;
Schema::Schema(const Schema&) = default;
Schema& Schema::operator=(const Schema&) = default;

const YAML::Node& schema_node(const Schema& s) { return s.impl().root; }

namespace {

// The keywords validate() knows. Anything else in a schema is a mistake of its
// author (a `defualt` would silently give no default), not of the user's spec.
const std::vector<std::string>& schema_keywords() {
    static const std::vector<std::string> k{
        "$defs", "$ref", "$schema", "additionalProperties", "anyOf", "const", "default", "description", "enum",
        "examples", "exclusiveMaximum", "exclusiveMinimum", "items", "maxItems", "maxLength", "maximum", "minItems",
        "minLength", "minProperties", "minimum", "oneOf", "pattern", "properties", "required", "title", "type", "uniqueItems", "x-plugin"};
    return k;
}

void check_schema_keywords(const YAML::Node& s, const std::string& path, const std::string& name,
                           std::vector<Diagnostic>& out) {
    if (!s.IsMap()) return;
    for (auto it = s.begin(); it != s.end(); ++it) {
        const std::string key = it->first.Scalar();
        const std::string p = path.empty() ? key : path + "." + key;
        const auto& known = schema_keywords();
        if (std::find(known.begin(), known.end(), key) == known.end()) {
            out.push_back({file_origin(name, it->first.Mark()), p,
                           fmt::format("unknown schema keyword '{}'{}", key, did_you_mean(key, known))});
            continue;
        }
        const YAML::Node v = it->second;
        if ((key == "properties" || key == "$defs") && v.IsMap()) {
            for (auto jt = v.begin(); jt != v.end(); ++jt)
                check_schema_keywords(jt->second, p + "." + jt->first.Scalar(), name, out);
        } else if (key == "items" || key == "additionalProperties") {
            check_schema_keywords(v, p, name, out);
        } else if ((key == "oneOf" || key == "anyOf") && v.IsSequence()) {
            for (std::size_t i = 0; i < v.size(); ++i) check_schema_keywords(v[i], fmt::format("{}[{}]", p, i), name, out);
        }
    }
}

}  // namespace

Schema Schema::from_yaml(const std::string& text, const std::string& name) {
    Schema s;
    try {
        YAML::Node root = YAML::Load(text);
        if (root.IsDefined() && !root.IsNull()) s.impl_->root = root;
    } catch (const YAML::Exception& e) {
        throw SpecError({Diagnostic{file_origin(name, e.mark), "", e.msg}});
    }
    std::vector<Diagnostic> problems;
    check_schema_keywords(s.impl_->root, "", name, problems);
    if (!problems.empty()) throw SpecError(problems);
    s.impl_->name = name;
    return s;
}

Schema Schema::from_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw SpecError({Diagnostic{file_origin(path), "", "cannot read the schema: no such file or not readable"}});
    std::ostringstream ss;
    ss << in.rdbuf();
    return from_yaml(ss.str(), path);
}

namespace {

std::optional<YAML::Node> get(const YAML::Node& schema, const char* key) { return find_child(schema, key); }

// "#/$defs/name" (any JSON pointer into the same schema document).
std::optional<YAML::Node> resolve_ref(const YAML::Node& root, const std::string& ref) {
    if (ref.empty() || ref[0] != '#') return std::nullopt;
    std::vector<YAML::Node> chain{root};
    std::size_t i = 1;
    while (i < ref.size()) {
        if (ref[i] != '/') return std::nullopt;
        const auto end = ref.find('/', i + 1);
        const std::string raw = ref.substr(i + 1, end == std::string::npos ? std::string::npos : end - i - 1);
        std::string token;  // JSON pointer escapes: ~1 is '/', ~0 is '~'
        for (std::size_t k = 0; k < raw.size(); ++k) {
            if (raw[k] == '~' && k + 1 < raw.size() && (raw[k + 1] == '0' || raw[k + 1] == '1')) {
                token += raw[++k] == '1' ? '/' : '~';
            } else {
                token += raw[k];
            }
        }
        const YAML::Node& cur = chain.back();
        if (cur.IsSequence()) {
            std::int64_t idx = -1;
            if (!parse_integer(token, idx) || idx < 0 || static_cast<std::size_t>(idx) >= cur.size()) return std::nullopt;
            chain.push_back(cur[static_cast<std::size_t>(idx)]);
        } else {
            auto child = find_child(cur, token);
            if (!child) return std::nullopt;
            chain.push_back(*child);
        }
        i = end == std::string::npos ? ref.size() : end;
    }
    return chain.back();
}

// A schema with its $ref chain followed (for defaults and oneOf types).
YAML::Node follow_refs(const YAML::Node& schema, const YAML::Node& root) {
    std::vector<YAML::Node> chain{schema};
    for (int i = 0; i < 32; ++i) {
        auto ref = get(chain.back(), "$ref");
        if (!ref || !ref->IsScalar()) break;
        auto target = resolve_ref(root, ref->Scalar());
        if (!target) break;
        chain.push_back(*target);
    }
    return chain.back();
}

std::optional<YAML::Node> default_of(const YAML::Node& schema, const YAML::Node& root) {
    std::vector<YAML::Node> chain{schema};
    for (int i = 0; i < 32; ++i) {
        if (auto d = get(chain.back(), "default")) return d;
        auto ref = get(chain.back(), "$ref");
        if (!ref || !ref->IsScalar()) break;
        auto target = resolve_ref(root, ref->Scalar());
        if (!target) break;
        chain.push_back(*target);
    }
    return std::nullopt;
}

std::vector<std::string> type_list(const YAML::Node& t) {
    std::vector<std::string> types;
    if (t.IsScalar())
        types.push_back(t.Scalar());
    else if (t.IsSequence())
        for (const auto& x : t)
            if (x.IsScalar()) types.push_back(x.Scalar());
    return types;
}

bool type_matches(Kind k, const std::string& type) {
    if (type == "object") return k == Kind::Map;
    if (type == "array") return k == Kind::List;
    if (type == "string") return k == Kind::String;
    if (type == "number") return k == Kind::Integer || k == Kind::Float;
    if (type == "integer") return k == Kind::Integer;
    if (type == "boolean") return k == Kind::Boolean;
    if (type == "null") return k == Kind::Null;
    return false;
}

std::string type_name(const std::string& type) {
    if (type == "object") return "a map";
    if (type == "array") return "a list";
    if (type == "string") return "a string";
    if (type == "number") return "a number";
    if (type == "integer") return "an integer";
    if (type == "boolean") return "a boolean";
    if (type == "null") return "null";
    return "'" + type + "'";
}

std::string schema_type_of(Kind k) {
    switch (k) {
        case Kind::Null: return "null";
        case Kind::Boolean: return "boolean";
        case Kind::Integer: return "integer";
        case Kind::Float: return "number";
        case Kind::String: return "string";
        case Kind::Map: return "object";
        case Kind::List: return "array";
    }
    return "string";
}

bool same_value(const YAML::Node& a, const YAML::Node& b) {
    const Kind ka = kind_of(a), kb = kind_of(b);
    const bool na = ka == Kind::Integer || ka == Kind::Float, nb = kb == Kind::Integer || kb == Kind::Float;
    if (na && nb) {
        double x = 0, y = 0;
        return parse_float(a.Scalar(), x) && parse_float(b.Scalar(), y) && x == y;
    }
    if (ka != kb) return false;
    switch (ka) {
        case Kind::Null: return true;
        case Kind::Boolean: return parse_boolean(a.Scalar()) == parse_boolean(b.Scalar());
        case Kind::String: return a.Scalar() == b.Scalar();
        case Kind::List:
            if (a.size() != b.size()) return false;
            for (std::size_t i = 0; i < a.size(); ++i)
                if (!same_value(a[i], b[i])) return false;
            return true;
        case Kind::Map: {
            if (a.size() != b.size()) return false;
            for (auto it = a.begin(); it != a.end(); ++it) {
                auto other = find_child(b, it->first.Scalar());
                if (!other || !same_value(it->second, *other)) return false;
            }
            return true;
        }
        default: return false;
    }
}

// A text equal for two values exactly when same_value() holds (integers
// compared exactly): uniqueItems sorts by it instead of comparing every pair.
std::string canonical_value(const YAML::Node& v) {
    switch (kind_of(v)) {
        case Kind::Null: return "~";
        case Kind::Boolean: return parse_boolean(v.Scalar()) ? "t" : "f";
        case Kind::String: return "s" + v.Scalar();
        case Kind::Integer:
        case Kind::Float: {
            std::int64_t i = 0;
            double x = 0;
            if (parse_integer(v.Scalar(), i)) return fmt::format("n{}", i);
            if (!parse_float(v.Scalar(), x)) return "s" + v.Scalar();
            if (x == std::trunc(x) && std::abs(x) < 9.0e18) return fmt::format("n{}", static_cast<std::int64_t>(x));
            return fmt::format("n{:.17g}", x);
        }
        case Kind::List: {
            std::string s = "[";
            for (std::size_t i = 0; i < v.size(); ++i) s += canonical_value(v[i]) + ",";
            return s + "]";
        }
        case Kind::Map: {
            std::vector<std::string> entries;
            for (auto it = v.begin(); it != v.end(); ++it)
                entries.push_back(it->first.Scalar() + ":" + canonical_value(it->second));
            std::sort(entries.begin(), entries.end());
            std::string s = "{";
            for (const auto& e : entries) s += e + ",";
            return s + "}";
        }
    }
    return "?";
}

std::size_t utf8_length(const std::string& s) {
    return static_cast<std::size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

constexpr std::size_t kMaxPatternInput = 1024;

struct Checker {
    Document& doc;
    const PluginSchemaLookup& plugins;
    bool fill;  // false while trying oneOf/anyOf branches: nothing is changed
    std::vector<Diagnostic>& out;
    int depth = 0;

    void error(const std::string& path, std::string message) {
        out.push_back({doc.origin_of(path), path, std::move(message)});
    }

    // The types a oneOf/anyOf branch accepts, or nothing when it takes any.
    std::optional<std::vector<std::string>> branch_types(const YAML::Node& branch, const YAML::Node& root) {
        const YAML::Node s = follow_refs(branch, root);
        if (auto t = get(s, "type")) return type_list(*t);
        if (auto c = get(s, "const")) return std::vector<std::string>{schema_type_of(kind_of(*c))};
        if (auto e = get(s, "enum"); e && e->IsSequence()) {
            std::vector<std::string> types;
            for (const auto& x : *e) {
                const std::string t = schema_type_of(kind_of(x));
                if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
            }
            return types;
        }
        return std::nullopt;
    }

    bool branch_accepts(const YAML::Node& branch, const YAML::Node& root, Kind k) {
        auto types = branch_types(branch, root);
        if (!types) return true;
        if (k == Kind::String && get(follow_refs(branch, root), "x-plugin")) return true;  // bare plugin name
        return std::any_of(types->begin(), types->end(), [&](const std::string& t) { return type_matches(k, t); });
    }

    void check(const YAML::Node& value, const YAML::Node& schema, const YAML::Node& root, const std::string& path,
               const std::set<std::string>* outer_keys = nullptr) {
        if (!schema.IsMap()) {
            if (schema.IsScalar() && plain_kind(schema.Scalar()) == Kind::Boolean && !parse_boolean(schema.Scalar()))
                error(path, "no value is allowed here");
            return;
        }
        if (depth > 200) {
            error(path, "schema error: $ref nesting is too deep (does a $ref refer to itself?)");
            return;
        }
        ++depth;
        check_keywords(value, schema, root, path, outer_keys);
        --depth;
    }

    void check_keywords(const YAML::Node& value, const YAML::Node& schema, const YAML::Node& root,
                        const std::string& path, const std::set<std::string>* outer_keys) {
        if (auto ref = get(schema, "$ref")) {
            auto target = ref->IsScalar() ? resolve_ref(root, ref->Scalar()) : std::nullopt;
            if (!target) {
                error(path, fmt::format("schema error: cannot resolve $ref '{}' (expected #/$defs/name)", written(*ref)));
                return;
            }
            check(value, *target, root, path, outer_keys);
        }

        // A bare part name stands for {type: name}; in place when filling, so
        // the resolved spec shows the part's defaults.
        std::string plugin_kind;
        if (auto k = get(schema, "x-plugin"); k && k->IsScalar()) plugin_kind = k->Scalar();
        YAML::Node v = value;  // copy-constructed: a handle to the same node
        if (!plugin_kind.empty() && kind_of(value) == Kind::String) {
            YAML::Node map(YAML::NodeType::Map);
            map.force_insert("type", copy_node(value));
            if (fill) {
                const Origin at = doc.origin_of(path);
                YAML::Node target = value;
                target = map;  // assignment rebinds the shared node: the document now holds the map
                doc.origins[path] = at;
                doc.origins[child_path(path, "type")] = at;
                doc.key_origins[child_path(path, "type")] = at;
            } else {
                v.reset(map);
            }
        }
        const Kind k = kind_of(v);

        std::vector<std::string> types;
        if (auto t = get(schema, "type")) {
            types = type_list(*t);
            if (!types.empty() && std::none_of(types.begin(), types.end(), [&](const auto& x) { return type_matches(k, x); })) {
                std::vector<std::string> names;
                for (const auto& x : types) names.push_back(type_name(x));
                error(path, fmt::format("expected {}, found {}", join_or(names), found_text(v)));
                return;
            }
        }

        if (auto c = get(schema, "const"); c && !same_value(v, *c))
            error(path, fmt::format("expected {}, found {}", written(*c), found_text(v)));

        if (auto e = get(schema, "enum"); e && e->IsSequence()) {
            bool ok = false;
            std::vector<std::string> allowed, names;
            for (const auto& x : *e) {
                ok = ok || same_value(v, x);
                allowed.push_back(written(x));
                if (kind_of(x) == Kind::String) names.push_back(x.Scalar());
            }
            if (!ok)
                error(path, fmt::format("expected one of {}, found {}{}", join(allowed, ", "), found_text(v),
                                        k == Kind::String ? did_you_mean(v.Scalar(), names) : std::string()));
        }

        if (k == Kind::Integer || k == Kind::Float) check_range(v, schema, types, path);
        if (k == Kind::String) check_string(v, schema, path);
        if (k == Kind::List) check_list(v, schema, root, path);
        if (k == Kind::Map) check_map(v, schema, root, path, outer_keys, !plugin_kind.empty());
        if (k == Kind::Map && !plugin_kind.empty()) check_plugin(v, schema, root, path, plugin_kind);

        for (const char* combinator : {"oneOf", "anyOf"})
            if (auto branches = get(schema, combinator); branches && branches->IsSequence())
                check_branches(v, *branches, root, path, std::string(combinator) == "oneOf");
    }

    void check_range(const YAML::Node& v, const YAML::Node& schema, const std::vector<std::string>& types,
                     const std::string& path) {
        // An integer setting is read as 64 bits: say so here, at the value,
        // not later where a reader's conversion fails.
        std::int64_t i = 0;
        if (kind_of(v) == Kind::Integer && std::find(types.begin(), types.end(), "integer") != types.end() &&
            std::find(types.begin(), types.end(), "number") == types.end() && !parse_integer(v.Scalar(), i)) {
            error(path, fmt::format("expected an integer from {} to {}, found {}", INT64_MIN, INT64_MAX, found_text(v)));
            return;
        }
        double x = 0;
        if (!parse_float(v.Scalar(), x)) return;
        if (!std::isfinite(x)) {  // .nan and .inf are YAML numbers, never a usable setting
            error(path, fmt::format("expected a finite number, found {}", found_text(v)));
            return;
        }
        struct Bound {
            const char* keyword;
            const char* op;
        };
        // Draft 4 wrote `exclusiveMinimum: true` next to `minimum`.
        auto flag = [&](const char* key) {
            auto f = get(schema, key);
            return f && f->IsScalar() && kind_of(*f) == Kind::Boolean && parse_boolean(f->Scalar());
        };
        const bool old_min = flag("exclusiveMinimum"), old_max = flag("exclusiveMaximum");
        const Bound bounds[] = {{"minimum", old_min ? ">" : ">="},
                                {"exclusiveMinimum", ">"},
                                {"maximum", old_max ? "<" : "<="},
                                {"exclusiveMaximum", "<"}};
        std::vector<std::string> parts;
        bool violated = false;
        for (const auto& b : bounds) {
            auto n = get(schema, b.keyword);
            double limit = 0;
            if (!n || !n->IsScalar() || kind_of(*n) == Kind::Boolean || !parse_float(n->Scalar(), limit)) continue;
            parts.push_back(fmt::format("{} {}", b.op, n->Scalar()));
            const std::string op = b.op;
            const bool ok = op == ">=" ? x >= limit : op == ">" ? x > limit : op == "<=" ? x <= limit : x < limit;
            violated = violated || !ok;  // NaN fails every bound
        }
        if (!violated) return;
        const bool integer_only = std::find(types.begin(), types.end(), "integer") != types.end() &&
                                  std::find(types.begin(), types.end(), "number") == types.end();
        error(path, fmt::format("expected {} {}, found {}", integer_only ? "an integer" : "a number", join(parts, " and "),
                                found_text(v)));
    }

    void check_string(const YAML::Node& v, const YAML::Node& schema, const std::string& path) {
        const std::string& s = v.Scalar();
        std::int64_t n = 0;
        if (auto m = get(schema, "minLength"); m && m->IsScalar() && parse_integer(m->Scalar(), n) &&
                                              utf8_length(s) < static_cast<std::size_t>(std::max<std::int64_t>(n, 0)))
            error(path, fmt::format("expected a string of at least {} character{}, found {}", n, n == 1 ? "" : "s",
                                    found_text(v)));
        if (auto m = get(schema, "maxLength");
            m && m->IsScalar() && parse_integer(m->Scalar(), n) && n >= 0 && utf8_length(s) > static_cast<std::size_t>(n)) {
            error(path, fmt::format("expected a string of at most {} character{}, found {}", n, n == 1 ? "" : "s",
                                    found_text(v)));
            return;  // one problem per value: the pattern is not tried on what is already too long
        }
        if (auto p = get(schema, "pattern"); p && p->IsScalar()) {
            // std::regex recurses per character: a huge string would overflow the stack.
            if (s.size() > kMaxPatternInput) {
                error(path, fmt::format("expected a string of at most {} characters matching {}, found one of {}",
                                        kMaxPatternInput, p->Scalar(), s.size()));
                return;
            }
            try {
                if (!std::regex_search(s, std::regex(p->Scalar())))
                    error(path, fmt::format("expected a string matching '{}', found {}", p->Scalar(), found_text(v)));
            } catch (const std::regex_error&) {
                error(path, fmt::format("schema error: invalid pattern '{}'", p->Scalar()));
            }
        }
    }

    void check_list(const YAML::Node& v, const YAML::Node& schema, const YAML::Node& root, const std::string& path) {
        const std::size_t size = v.size();
        std::int64_t n = 0;
        auto items_word = [](std::size_t c) { return fmt::format("{} item{}", c, c == 1 ? "" : "s"); };
        if (auto m = get(schema, "minItems");
            m && m->IsScalar() && parse_integer(m->Scalar(), n) && n > 0 && size < static_cast<std::size_t>(n))
            error(path, fmt::format("expected a list of at least {}, found {}", items_word(static_cast<std::size_t>(n)),
                                    items_word(size)));
        if (auto m = get(schema, "maxItems");
            m && m->IsScalar() && parse_integer(m->Scalar(), n) && n >= 0 && size > static_cast<std::size_t>(n))
            error(path, fmt::format("expected a list of at most {}, found {}", items_word(static_cast<std::size_t>(n)),
                                    items_word(size)));
        if (auto u = get(schema, "uniqueItems");
            u && u->IsScalar() && kind_of(*u) == Kind::Boolean && parse_boolean(u->Scalar()))
        {
            std::map<std::string, std::size_t> first;
            for (std::size_t i = 0; i < size; ++i)
                if (auto [at, fresh] = first.emplace(canonical_value(v[i]), i); !fresh)
                    error(index_path(path, i),
                          fmt::format("{} is listed twice (as item {} too): remove one", found_text(v[i]), at->second));
        }
        if (auto items = get(schema, "items")) {
            for (std::size_t i = 0; i < size; ++i) {
                if (items->IsSequence()) {  // one schema per position
                    if (i < items->size()) check(v[i], (*items)[i], root, index_path(path, i));
                } else {
                    check(v[i], *items, root, index_path(path, i));
                }
            }
        }
    }

    void check_map(const YAML::Node& v, const YAML::Node& schema, const YAML::Node& root, const std::string& path,
                   const std::set<std::string>* outer_keys, bool is_plugin) {
        std::vector<std::string> known;
        auto props = get(schema, "properties");
        std::vector<std::string> required;
        if (auto r = get(schema, "required"); r && r->IsSequence())
            for (const auto& x : *r)
                if (x.IsScalar()) required.push_back(x.Scalar());
        std::set<std::string> defaulted;  // dry runs count a default as present

        if (props && props->IsMap()) {
            for (auto it = props->begin(); it != props->end(); ++it) {
                const std::string name = it->first.Scalar();
                if (outer_keys && outer_keys->count(name)) continue;
                known.push_back(name);
                const std::string p = child_path(path, name);
                if (auto child = find_child(v, name)) {
                    check(*child, it->second, root, p);
                    continue;
                }
                auto d = default_of(it->second, root);
                if (!d) continue;
                defaulted.insert(name);
                if (!fill) continue;
                YAML::Node value = copy_node(*d);
                YAML::Node map = v;
                map.force_insert(name, value);
                set_subtree(doc, value, p, Origin{});
                check(value, it->second, root, p);
            }
        }
        for (const auto& r : required)
            if (!find_child(v, r) && !defaulted.count(r)) error(path, fmt::format("missing required key '{}'", r));

        // A part's own schema decides which further keys it takes.
        if (is_plugin) return;
        // The outer keys of a part's map are allowed but not listed: the list names what the part takes.
        std::sort(known.begin(), known.end());
        std::int64_t n = 0;
        if (auto m = get(schema, "minProperties");
            m && m->IsScalar() && parse_integer(m->Scalar(), n) && n > 0 && v.size() < static_cast<std::size_t>(n))
            error(path, v.size() == 0 ? std::string("expected a map with at least one key, found an empty map")
                                      : fmt::format("expected a map of at least {} keys, found {}", n, v.size()));
        auto extra = get(schema, "additionalProperties");
        if (!extra) return;
        const bool forbidden = extra->IsScalar() && kind_of(*extra) == Kind::Boolean && !parse_boolean(extra->Scalar());
        for (auto it = v.begin(); it != v.end(); ++it) {
            const std::string key = it->first.Scalar();
            if (std::binary_search(known.begin(), known.end(), key) || (outer_keys && outer_keys->count(key))) continue;
            const std::string p = child_path(path, key);
            if (forbidden) {
                const std::string listing =
                    known.empty() ? "this map takes no keys" : "known keys: " + join(known, ", ");
                out.push_back({key_origin(doc, p), p,
                               fmt::format("unknown key '{}'{}; {}", shown(key), did_you_mean(key, known), listing)});
            } else if (extra->IsMap()) {
                check(it->second, *extra, root, p);
            }
        }
    }

    void check_plugin(const YAML::Node& v, const YAML::Node& schema, const YAML::Node& root, const std::string& path,
                      const std::string& kind) {
        if (!plugins) return;  // no registry given: only the outer schema applies
        const std::string type_path = child_path(path, "type");
        auto t = find_child(v, "type");
        if (!t) {
            error(path, "missing required key 'type'");
            return;
        }
        if (kind_of(*t) != Kind::String) {
            error(type_path, fmt::format("expected a string, found {}", found_text(*t)));
            return;
        }
        const std::string name = t->Scalar();
        std::vector<std::string> known;
        const Schema* part = plugins(kind, name, &known);
        if (!part) {
            out.push_back({doc.origin_of(type_path), type_path, unknown_name(kind, name, known)});
            return;
        }
        // The part sees the map without `type` and without the keys the outer schema declares.
        std::set<std::string> outer{"type"};
        if (auto props = get(schema, "properties"); props && props->IsMap())
            for (auto it = props->begin(); it != props->end(); ++it) outer.insert(it->first.Scalar());
        check(v, schema_node(*part), schema_node(*part), path, &outer);
    }

    void check_branches(const YAML::Node& v, const YAML::Node& branches, const YAML::Node& root, const std::string& path,
                        bool one_of) {
        const std::size_t n = branches.size();
        if (n == 0) return;
        std::vector<std::vector<Diagnostic>> errors(n);
        std::vector<std::size_t> passing;
        for (std::size_t i = 0; i < n; ++i) {
            Checker trial{doc, plugins, false, errors[i], depth};
            trial.check(v, branches[i], root, path);
            if (errors[i].empty()) passing.push_back(i);
        }
        if (passing.size() == 1 || (!one_of && !passing.empty())) {
            if (fill) check(v, branches[passing[0]], root, path);  // fills that branch's defaults
            return;
        }
        if (passing.size() > 1) {
            std::vector<std::string> forms;
            for (auto i : passing) forms.push_back(std::to_string(i + 1));
            error(path, fmt::format("matches forms {} of oneOf; expected exactly one to match", join_or(forms)));
            return;
        }
        const Kind k = kind_of(v);
        std::optional<std::size_t> best;
        std::vector<std::string> names;
        for (std::size_t i = 0; i < n; ++i) {
            if (auto types = branch_types(branches[i], root))
                for (const auto& t : *types)
                    if (std::find(names.begin(), names.end(), type_name(t)) == names.end()) names.push_back(type_name(t));
            if (branch_accepts(branches[i], root, k) && (!best || errors[i].size() < errors[*best].size())) best = i;
        }
        if (!best) {
            error(path, fmt::format("expected {}, found {}", join_or(names), found_text(v)));
            return;
        }
        check(v, branches[*best], root, path);
    }
};

}  // namespace

std::vector<Diagnostic> validate(Document& doc, const Schema& schema, const PluginSchemaLookup& plugins) {
    std::vector<Diagnostic> out;
    Checker checker{doc, plugins, true, out};
    checker.check(doc.root, schema_node(schema), schema_node(schema), "");
    sort_diagnostics(out);
    return out;
}

Document with_section_defaults(const Document& doc, const Schema& schema, const std::vector<std::string>& sections) {
    Document out{copy_node(doc.root), doc.origins, doc.key_origins};
    const YAML::Node props = schema_node(schema)["properties"];
    std::vector<Diagnostic> problems;
    Checker checker{out, {}, true, problems};
    for (const auto& name : sections) {
        if (find_child(out.root, name) || !props || !props[name]) continue;
        YAML::Node section(YAML::NodeType::Map);
        out.root.force_insert(name, section);
        checker.check(section, props[name], schema_node(schema), name);
    }
    if (!problems.empty())  // an empty section must be valid: the schema itself is wrong
        throw Error(fmt::format("schema error: an empty section is not valid: {}", problems.front().to_string()));
    return out;
}

}  // namespace infomax::config
