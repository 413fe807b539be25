// Experiment specs: YAML documents with provenance, composed with `extends:`,
// overridden from the command line, validated against a schema.
//
// Every value remembers where it came from (file:line:col, or a command-line
// argument), so every error can point at the place to fix. Errors are
// collected, not thrown one by one: a SpecError carries all of them.
//
// This is what plugins and users of the library see: no YAML type appears
// here. Reading, merging, validating and writing documents is internal
// (framework/src/config/document.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "infomax/runtime/error.hpp"

namespace infomax::config {

// Where a value came from. Lines and columns are 1-based.
struct Origin {
    std::string file;   // empty for built-in defaults and command-line values
    int line = 0, column = 0;
    int argument = -1;  // 1-based position of the override in load()'s `overrides`, or -1
    std::string text;   // the override as typed, e.g. "optimizer.lr=abc"
    // "spec.yaml:3:7", "command line argument 2 (optimizer.lr=abc)", or "default".
    std::string to_string() const;
};

struct Diagnostic {
    Origin origin;
    std::string path;     // dotted key path with [i] for list items: "encoder.layers[2].conv.out"
    std::string message;  // "expected an integer >= 1, found -3"
    // "spec.yaml:3:7: encoder.layers[2].conv.out: expected an integer >= 1, found -3"
    std::string to_string() const;
};

class SpecError : public Error {
public:
    explicit SpecError(std::vector<Diagnostic> diagnostics);
    const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

private:
    std::vector<Diagnostic> diagnostics_;
};

// A JSON-Schema subset, written in YAML. Supported keywords: type (object,
// array, string, number, integer, boolean, null, or a list of them),
// properties, required, additionalProperties (bool or schema), items,
// minItems, maxItems, enum, const, minimum, maximum, exclusiveMinimum,
// exclusiveMaximum, minLength, pattern, oneOf, anyOf, $ref (to #/$defs/name),
// $defs, default, description, title, examples. Plus one extension:
//   x-plugin: <kind>   the object's `type:` names a registered part of that
//                      kind; the part's own params schema validates the rest.
class Schema {
public:
    // What the schema declares, for tools (internal: config/document.hpp's schema_node).
    struct Impl;
    static Schema from_file(const std::string& path);
    static Schema from_yaml(const std::string& text, const std::string& name = "<schema>");
    Schema();
    ~Schema();
    Schema(const Schema&);
    Schema& operator=(const Schema&);

    const Impl& impl() const { return *impl_; }

private:
    std::shared_ptr<Impl> impl_;
};

// Looks up the params schema of part `name` of `kind`; returns nullptr when no
// such part exists. `known` receives every name of that kind (for messages).
using PluginSchemaLookup =
    std::function<const Schema*(const std::string& kind, const std::string& name, std::vector<std::string>* known)>;

// "unknown estimator 'jds' (did you mean 'jsd'?); known: dv, infonce, jsd, nwj":
// the one message for a name that is not among `known` (spec values, parts,
// layers, commands). The suggestion follows the rule described at validate().
std::string unknown_name(const std::string& what, const std::string& name, std::vector<std::string> known);

// A key path in dotted form ("encoder.layers[0].conv.out" gives
// "encoder.layers.0.conv.out"), so two spellings compare equal; "" when it is
// not a key path.
std::string dotted_key(const std::string& key);
// The key path a command-line override sets, adds or deletes, in dotted form
// ("+encoder.layers[0].conv.out=8" gives "encoder.layers.0.conv.out"); "" when
// the argument is not an override (load() reports those).
std::string override_key(const std::string& arg);

struct Document;
struct ParamsAccess;  // internal: the YAML a Params views

// Typed read access for factories. A Params views one map of a validated
// document (which must outlive it); its errors carry the origin of the
// offending value: "missing required key 'x'" at the map, "expected a number,
// found \"abc\"" at the value. Types are read as validate reads them: number()
// takes integers too; integer() takes only whole numbers as written.
class Params {
public:
    Params(const Document& doc, std::string path);
    bool has(const std::string& key) const;
    double number(const std::string& key) const;
    std::int64_t integer(const std::string& key) const;
    std::string string(const std::string& key) const;
    bool boolean(const std::string& key) const;
    std::vector<std::int64_t> integers(const std::string& key) const;
    std::vector<std::string> strings(const std::string& key) const;
    // What `key` holds: a list (of any items), or not; and its length.
    bool is_list(const std::string& key) const;
    std::size_t size(const std::string& key) const;
    std::vector<double> numbers(const std::string& key) const;
    Params child(const std::string& key) const;
    // Each item of a list of maps.
    std::vector<Params> list(const std::string& key) const;
    // Item i of the list `key`, whatever it holds (node() gives the value).
    Params item(const std::string& key, std::size_t i) const;
    // Keys of this map, in document order.
    std::vector<std::string> keys() const;
    const std::string& path() const { return path_; }
    // What this Params itself views: a map, or a single value (a list item
    // like `- relu`) and its text.
    bool is_map() const;
    bool is_scalar() const;
    std::string text() const;
    // Throws a SpecError for `key` (or for this map when key is empty).
    [[noreturn]] void fail(const std::string& key, const std::string& message) const;

private:
    friend struct ParamsAccess;
    const Document* doc_;
    std::string path_;
};

}  // namespace infomax::config
