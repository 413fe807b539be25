// Documents: YAML trees with the origin of every value; loading with
// `extends:` and overrides, validation against a schema, writing (internal to
// the framework, its CLI and tests; the public face is infomax/config/spec.hpp).
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

#include "infomax/config/spec.hpp"

namespace infomax::config {

// A YAML tree plus the origin of every node, keyed by its path ("" = root).
// The side tables, not the nodes' marks, are the source of truth: they follow
// values through `extends` merges, overrides and filled-in defaults. Copies
// share the tree (YAML::Node is a handle): validate() on a copy fills both.
struct Document {
    YAML::Node root;
    std::map<std::string, Origin> origins;
    // Where each map key itself was written (unknown-key errors point there).
    std::map<std::string, Origin> key_origins;
    // The origin of `path`, or of its nearest ancestor that has one.
    Origin origin_of(const std::string& path) const;
};

// Reads `file` (errors: missing file, YAML syntax with line:col), resolves
// `extends: other.yaml` (relative to the extending file; a list is merged left
// to right; cycles are errors), then applies the overrides in order:
//   a.b.c=value   set a key, adding it (and missing parent maps) if absent; a
//                 misspelt key is then reported by validate() as unknown
//                 (with did-you-mean) at this argument
//   +a.b=value    add a key that must not exist yet
//   ++a.b=value   set or add
//   ~a.b          delete
// `value` is parsed as YAML ("3", "1e-4", "[1, 2]", "{type: jsd}", "'text'").
// Paths take list indices as numbers: encoder.layers.0.conv.out=64.
// Maps merge deeply (later wins); lists and scalars replace.
// An empty file is an empty map. Errors (all of them, sorted by file, line and
// column) come as one SpecError: a missing file ("spec.yaml: no such file"), a
// syntax error at its line:col, duplicate keys, an `extends` that cannot be
// read ("cannot read 'base.yaml': no such file", at the extends value) or
// that loops ("extends cycle: a.yaml -> b.yaml -> a.yaml"), and bad overrides:
//   malformed:  expected key.path=value, +key.path=value, ++key.path=value or ~key.path
//   a.b=v:      (a list item beyond the end) no key 'a.b' to override (use +a.b=... to add it)
//   +a.b=v:     key 'a.b' already exists (use a.b=... or ++a.b=... to change it)
//   ~a.b:       no key 'a.b' to delete
// Override diagnostics carry Origin{argument = i + 1, text = overrides[i]}.
// Files named by `extends` are shown (and recorded in origins) as the
// extending file's directory joined with the name.
Document load(const std::string& file, const std::vector<std::string>& overrides = {});
// The same, but override problems are returned (the failed overrides are
// skipped) so they can be reported together with validation's.
Document load(const std::string& file, const std::vector<std::string>& overrides,
              std::vector<Diagnostic>& override_problems);
// Applies overrides (the forms load takes) to a document made in memory; the
// problems are added to `problems`, each at its argument (i + 1).
void apply_overrides(Document& doc, const std::vector<std::string>& overrides, std::vector<Diagnostic>& problems);
// Like load without overrides, for text; `extends` is resolved relative to
// the directory of `name` (the current directory for "<string>").
Document parse(const std::string& yaml_text, const std::string& name = "<string>");

// Validates doc against schema and returns every problem found (empty = valid).
// Missing keys with a `default` in the schema are filled in (so the resolved
// spec shows them). Messages (exact wording, relied on by tests and docs):
//   unknown key:     unknown key 'lr_rate' (did you mean 'lr'?); known keys: betas, lr, weight_decay
//   missing:         missing required key 'estimator'
//   wrong type:      expected a number, found "abc"            (found shows the value as written)
//   enum:            expected one of adam, sgd, found "adom" (did you mean 'adam'?)
//   range:           expected a number > 0, found -1           (>=, <, <= likewise)
//   unknown part:    unknown estimator 'jds' (did you mean 'jsd'?); known: dv, infonce, jsd, nwj
// "did you mean" appears when one candidate is within edit distance
// max(2, len/3) of the word as typed (a swap of two neighbours counts as one
// edit), or when the word is a candidate plus a `_suffix` or `-suffix` (as
// lr_rate is lr plus _rate); the closest wins, ties going to the first in
// sorted order; otherwise it is left out.
// Other messages: "expected a number or a string, found ..." (several types),
// "expected an integer >= 1 and <= 8, found 9" (all bounds of the schema),
// "missing required key 'type'" and "expected jsd, found ..." (const).
// oneOf/anyOf report the errors of the branch, among those whose type fits
// the value, with the fewest errors; when none fits, "expected <the branches'
// types>, found ...". An `x-plugin` value may be a bare name (`estimator:
// jsd`); it is rewritten in `doc` to {type: jsd} plus the part's defaults.
// The part's schema validates the map without `type` and without the keys the
// outer schema declares. Without `plugins`, x-plugin maps are checked against
// the outer schema only. The result is sorted like load's errors, repeated
// lines dropped.
std::vector<Diagnostic> validate(Document& doc, const Schema& schema, const PluginSchemaLookup& plugins = {});

// A deep copy of a validated `doc` in which each section of `sections` that is
// absent becomes an empty map with its schema defaults filled in (the typed
// experiment reads defaults from the schema this way; dump(doc) is unchanged).
Document with_section_defaults(const Document& doc, const Schema& schema, const std::vector<std::string>& sections);

// Drops repeated diagnostics and orders the rest: file problems by file,
// line and column, then built-in defaults, then the command line by argument.
// load() and validate() return their diagnostics in this order; callers that
// merge lists call it again.
void sort_diagnostics(std::vector<Diagnostic>& diagnostics);

// The resolved document as YAML text (keys in document order).
std::string dump(const Document& doc);

// The schema's YAML, for tools that read it (the reference generator, the registry).
const YAML::Node& schema_node(const Schema& schema);

}  // namespace infomax::config
