#include "infomax/report/reference.hpp"

#include "config/document.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "infomax/plugin/registry.hpp"

namespace infomax {

namespace {

std::string flow(const YAML::Node& n) {
    YAML::Emitter e;
    e << YAML::Flow << n;
    return e.c_str();
}

std::string type_text(const YAML::Node& p) {
    if (p["$ref"]) {
        const std::string ref = p["$ref"].as<std::string>();
        const std::string name = ref.substr(ref.rfind('/') + 1);
        return fmt::format("[{}](#{})", name, name);
    }
    if (p["x-plugin"]) return fmt::format("{} (name or map)", p["x-plugin"].as<std::string>());
    if (!p["type"]) return p["additionalProperties"] ? "map" : "";
    std::string t = p["type"].IsScalar() ? p["type"].as<std::string>() : "";
    if (p["type"].IsSequence()) {
        std::vector<std::string> v;
        for (const auto& x : p["type"]) v.push_back(x.as<std::string>());
        t = fmt::format("{}", fmt::join(v, " or "));
    }
    if (t == "array" && p["items"]) {
        const auto inner = type_text(p["items"]);
        if (!inner.empty()) t = "list of " + inner;
    }
    if (t == "object" && p["additionalProperties"] && p["additionalProperties"].IsMap())
        t = "map of " + type_text(p["additionalProperties"]);
    return t;
}

std::string constraints(const YAML::Node& p) {
    std::vector<std::string> c;
    if (p["enum"]) {
        std::vector<std::string> v;
        for (const auto& x : p["enum"]) v.push_back(x.as<std::string>());
        c.push_back(fmt::format("one of {}", fmt::join(v, ", ")));
    }
    for (auto [k, op] : {std::pair{"minimum", ">="}, {"exclusiveMinimum", ">"}, {"maximum", "<="}, {"exclusiveMaximum", "<"}})
        if (p[k]) c.push_back(fmt::format("{} {}", op, p[k].as<std::string>()));
    if (p["items"] && p["items"].IsMap() && !p["items"]["anyOf"]) {
        const std::string each = constraints(p["items"]);
        if (!each.empty()) c.push_back("each " + each);
    }
    return fmt::format("{}", fmt::join(c, "; "));
}

std::string cell(std::string s) {
    std::replace(s.begin(), s.end(), '\n', ' ');
    std::string out;
    for (char ch : s) out += ch == '|' ? std::string("\\|") : std::string(1, ch);
    return out;
}

// The keys of a map as "out, kernel, stride = 1".
std::string keys_text(const YAML::Node& object) {
    std::vector<std::string> keys;
    for (const auto& kv : object["properties"]) {
        std::string k = kv.first.as<std::string>();
        if (kv.second["default"]) k += " = " + flow(kv.second["default"]);
        keys.push_back(k);
    }
    return fmt::format("{}", fmt::join(keys, ", "));
}

// A list whose entries are a choice (anyOf): the vocabulary, one line a choice
// (the layer_stack's layers).
std::string choices(const std::string& key, const YAML::Node& items) {
    std::string s = fmt::format("\nEntries of `{}`:\n", key);
    for (const auto& choice : items["anyOf"]) {
        if (choice["enum"]) {
            std::vector<std::string> v;
            for (const auto& x : choice["enum"]) v.push_back("`" + x.as<std::string>() + "`");
            s += fmt::format("- a name: {}\n", fmt::join(v, ", "));
        } else if (choice["properties"]) {
            for (const auto& kv : choice["properties"]) {
                const YAML::Node p = kv.second;
                const std::string c = constraints(p);
                if (p["properties"])
                    s += fmt::format("- `{}: {{{}}}`\n", kv.first.as<std::string>(), keys_text(p));
                else
                    s += fmt::format("- `{}: <{}>`{}\n", kv.first.as<std::string>(), type_text(p), c.empty() ? "" : " (" + c + ")");
            }
        }
    }
    return s;
}

std::string table(const YAML::Node& schema, const std::set<std::string>& skip = {}) {
    const YAML::Node props = schema["properties"];
    if (!props || props.size() == 0) return "(no params)\n";
    std::vector<std::string> required;
    if (schema["required"])
        for (const auto& r : schema["required"]) required.push_back(r.as<std::string>());
    std::string s = "| key | type | default | allowed | description |\n| --- | --- | --- | --- | --- |\n";
    std::string below;
    for (const auto& kv : props) {
        const std::string key = kv.first.as<std::string>();
        if (skip.count(key)) continue;
        const YAML::Node p = kv.second;
        const bool req = std::find(required.begin(), required.end(), key) != required.end();
        std::string allowed = constraints(p);
        // A map of fixed keys: its keys (each with its own row when it is a section of its own).
        if (p["properties"] && !p["x-plugin"])
            allowed = (allowed.empty() ? "" : allowed + "; ") + "keys: " + keys_text(p);
        s += fmt::format("| `{}` | {} | {} | {} | {} |\n", key, cell(type_text(p)),
                         p["default"] ? "`" + flow(p["default"]) + "`" : (req ? "required" : ""), cell(allowed),
                         p["description"] ? cell(p["description"].as<std::string>()) : "");
        if (p["items"] && p["items"]["anyOf"]) below += choices(key, p["items"]);
        if (p["items"] && p["items"]["properties"])
            below += fmt::format("\nEntries of `{}`:\n- `{{{}}}`\n", key, keys_text(p["items"]));
        if (p["properties"] && !p["x-plugin"]) below += fmt::format("\nKeys of `{}`:\n\n", key) + table(p);
    }
    return s + below;
}

}  // namespace

static std::string params_text_of(const YAML::Node& schema, const std::string& indent) {
    const YAML::Node props = schema["properties"];
    if (!props || props.size() == 0) return indent + "(no params)\n";
    std::vector<std::string> required;
    if (schema["required"])
        for (const auto& r : schema["required"]) required.push_back(r.as<std::string>());
    std::string s;
    for (const auto& kv : props) {
        const std::string key = kv.first.as<std::string>();
        const YAML::Node p = kv.second;
        std::string def;
        if (p["default"])
            def = " = " + flow(p["default"]);
        else if (std::find(required.begin(), required.end(), key) != required.end())
            def = " (required)";
        const std::string c = constraints(p);
        s += fmt::format("{}{}: {}{}{}{}\n", indent, key, type_text(p), c.empty() ? "" : " [" + c + "]", def,
                         p["description"] ? "  # " + p["description"].as<std::string>() : "");
    }
    return s;
}

static std::string markdown_reference_of(const YAML::Node& schema, const Registry& registry) {
    std::string s =
        "# Spec reference\n\n"
        "Generated by `infomax reference` from `schemas/experiment.schema.yaml` and the params schemas of the\n"
        "built-in parts; do not edit by hand (a test compares this file with the command's output).\n\n";
    if (schema["description"]) s += schema["description"].as<std::string>() + "\n\n";
    s += "## Top level\n\n" + table(schema);
    for (const auto& kv : schema["$defs"]) {
        const std::string name = kv.first.as<std::string>();
        s += fmt::format("\n## {}\n\n", name);
        if (kv.second["description"]) s += kv.second["description"].as<std::string>() + "\n\n";
        if (kv.second["x-plugin"]) {
            s += fmt::format("`type` names a part of kind {} (see below); the other keys are that part's params",
                             kv.second["x-plugin"].as<std::string>());
            const YAML::Node props = kv.second["properties"];
            if (props && props.size() > 1)
                s += fmt::format(", and these, whatever the type:\n\n{}", table(kv.second, {"type"}));
            else
                s += ".\n";
        } else {
            s += table(kv.second);
        }
    }
    for (const auto& kind : Registry::kinds()) {
        s += fmt::format("\n## Parts: {}\n", kind);
        for (const auto* e : registry.entries(kind)) {
            s += fmt::format("\n### `{}` ({})\n\n{}\n\n", e->name, e->version, e->description);
            s += table(config::schema_node(e->schema));
        }
    }
    return s;
}

namespace {

using json = nlohmann::ordered_json;  // keeps the schema's order for readers and editors

// A YAML value as JSON: plain scalars typed as YAML 1.2's core schema reads
// them (true, null, 3, 1.0e-4), quoted ones kept as strings.
json value_of(const YAML::Node& n) {
    if (n.IsSequence()) {
        json a = json::array();
        for (const auto& x : n) a.push_back(value_of(x));
        return a;
    }
    if (n.IsMap()) {
        json o = json::object();
        for (const auto& kv : n) o[kv.first.as<std::string>()] = value_of(kv.second);
        return o;
    }
    if (!n.IsScalar()) return nullptr;
    const std::string v = n.Scalar();
    if (n.Tag() == "!") return v;  // quoted
    if (v == "true" || v == "false") return v == "true";
    if (v == "null" || v == "~") return nullptr;
    if (!v.empty() && v.find_first_not_of("0123456789-+") == std::string::npos && v != "-" && v != "+") {
        try {
            std::size_t used = 0;
            const long long i = std::stoll(v, &used);
            if (used == v.size()) return i;
        } catch (...) {
        }
    }
    if (!v.empty() && v.find_first_not_of("0123456789-+.eE") == std::string::npos) {
        try {
            std::size_t used = 0;
            const double d = std::stod(v, &used);
            if (used == v.size()) return d;
        } catch (...) {
        }
    }
    return v;
}

json convert(const YAML::Node& n, const Registry& registry);

// An `x-plugin` node: `type` names a registered part of the kind; each part's
// params are allowed beside it (if/then on the type), with the node's own keys.
json plugin_choice(const YAML::Node& n, const Registry& registry) {
    const std::string kind = n["x-plugin"].as<std::string>();
    std::vector<std::string> names;
    for (const auto* e : registry.entries(kind)) names.push_back(e->name);
    json fixed = json::object();  // keys of the node itself (data.batch_size), whatever the type
    for (const auto& kv : n["properties"])
        if (kv.first.as<std::string>() != "type") fixed[kv.first.as<std::string>()] = convert(kv.second, registry);
    // `type` is not required here: a spec that extends another may change a
    // part's params and keep its type (infomax validate checks the whole).
    json object{{"type", "object"}, {"properties", fixed}, {"allOf", json::array()}};
    object["properties"]["type"] = {{"type", "string"}, {"enum", names}, {"description", fmt::format("a part of kind {}", kind)}};
    for (const auto* e : registry.entries(kind)) {
        const YAML::Node params = config::schema_node(e->schema);
        json then = convert(params, registry);
        then.erase("description");
        json& props = then["properties"];
        if (!props.is_object()) props = json::object();
        props["type"] = json::object();
        for (const auto& item : fixed.items()) props[item.key()] = json::object();
        then["description"] = fmt::format("{} {} ({}): {}", kind, e->name, e->version, e->description);
        json when = json::object();
        when["properties"]["type"]["const"] = e->name;
        when["required"] = json::array({"type"});
        json branch = json::object();
        branch["if"] = when;
        branch["then"] = then;
        object["allOf"].push_back(branch);
    }
    json out;
    const YAML::Node type = n["type"];
    const bool by_name = type && type.IsSequence() &&
                         std::any_of(type.begin(), type.end(), [](const YAML::Node& t) { return t.Scalar() == "string"; });
    if (by_name)  // `estimator: jsd` or `estimator: {type: jsd, ...}`
        out["anyOf"] = json::array({json{{"type", "string"}, {"enum", names}}, object});
    else
        out = object;
    for (const char* k : {"description", "default"})
        if (n[k]) out[k] = value_of(n[k]);
    return out;
}

json convert(const YAML::Node& n, const Registry& registry) {
    if (!n.IsMap()) return value_of(n);
    if (n["x-plugin"]) return plugin_choice(n, registry);
    json out = json::object();
    for (const auto& kv : n) {
        const std::string key = kv.first.as<std::string>();
        const YAML::Node v = kv.second;
        if (key == "properties" || key == "$defs" || key == "definitions" || key == "patternProperties") {
            json m = json::object();
            for (const auto& c : v) {
                json child = convert(c.second, registry);
                // An editor's hover heads a key with its title (else the schema's own, on every key).
                if (key == "properties" && child.is_object() && !child.contains("title")) child["title"] = c.first.as<std::string>();
                m[c.first.as<std::string>()] = child;
            }
            out[key] = m;
        } else if ((key == "items" || key == "additionalProperties" || key == "not" || key == "if" || key == "then" ||
                    key == "else") && v.IsMap()) {
            out[key] = convert(v, registry);
        } else if ((key == "anyOf" || key == "oneOf" || key == "allOf") && v.IsSequence()) {
            json a = json::array();
            for (const auto& c : v) a.push_back(convert(c, registry));
            out[key] = a;
        } else if (key.rfind("x-", 0) != 0) {
            out[key] = value_of(v);
        }
    }
    return out;
}

void collect_keys(const YAML::Node& n, const YAML::Node& root, const Registry& registry, const std::string& prefix,
                  std::set<std::string>& out) {
    if (!n.IsMap()) return;
    if (n["$ref"]) {
        const std::string ref = n["$ref"].as<std::string>();
        const std::string name = ref.substr(ref.rfind('/') + 1);
        if (root["$defs"][name]) collect_keys(root["$defs"][name], root, registry, prefix, out);
        return;
    }
    auto add_props = [&](const YAML::Node& props) {
        for (const auto& kv : props) {
            const std::string key = prefix.empty() ? kv.first.as<std::string>() : prefix + "." + kv.first.as<std::string>();
            out.insert(key);
            collect_keys(kv.second, root, registry, key, out);
        }
    };
    add_props(n["properties"]);
    if (n["x-plugin"])
        for (const auto* e : registry.entries(n["x-plugin"].as<std::string>()))
            add_props(config::schema_node(e->schema)["properties"]);
}

}  // namespace

static std::string json_schema_of(const YAML::Node& schema, const Registry& registry) {
    json out = convert(schema, registry);
    // A spec that extends another is partial: what it must hold is required
    // only of one that does not (infomax validate checks the resolved whole).
    if (out.contains("required") && out["properties"].contains("extends")) {
        json when = json::object();
        when["if"]["required"] = json::array({"extends"});
        when["else"]["required"] = out["required"];
        out.erase("required");
        out["allOf"] = json::array({when});
    }
    // draft-07: what yaml-language-server and VS Code read best; the keywords
    // we use mean the same there ($defs is reached by its JSON pointer).
    out["$schema"] = "http://json-schema.org/draft-07/schema#";
    return out.dump(2);
}

static std::vector<std::string> override_keys_of(const YAML::Node& schema, const Registry& registry) {
    std::set<std::string> keys;
    collect_keys(schema, schema, registry, "", keys);
    return {keys.begin(), keys.end()};
}

std::string params_text(const config::Schema& schema, const std::string& indent) {
    return params_text_of(config::schema_node(schema), indent);
}
std::string markdown_reference(const config::Schema& schema, const Registry& registry) {
    return markdown_reference_of(config::schema_node(schema), registry);
}
std::string json_schema(const config::Schema& schema, const Registry& registry) {
    return json_schema_of(config::schema_node(schema), registry);
}
std::vector<std::string> override_keys(const config::Schema& schema, const Registry& registry) {
    return override_keys_of(config::schema_node(schema), registry);
}

}  // namespace infomax
