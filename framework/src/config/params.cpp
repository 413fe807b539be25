// Params: typed reads from one map of a document; every error names the
// origin of the value (or of the map, for a missing key).
#include <fmt/format.h>

#include "config/internal.hpp"
#include "config/document.hpp"

namespace infomax::config {

using namespace detail;

struct ParamsAccess {
    static YAML::Node node(const Params& p) {
        auto n = find_path(p.doc_->root, p.path_);
        return n ? *n : YAML::Node();
    }
};


namespace {

// The value of `key`, or a "missing required key" error at the map.
YAML::Node need(const Params& p, const std::string& key) {
    const YAML::Node map = ParamsAccess::node(p);
    auto child = find_child(map, key);
    if (!child) p.fail("", fmt::format("missing required key '{}'", key));
    return *child;
}

std::string expected(const char* what, const YAML::Node& n) { return fmt::format("expected {}, found {}", what, found_text(n)); }

std::int64_t to_integer(const Params& p, const std::string& key, const YAML::Node& n) {
    if (kind_of(n) != Kind::Integer) p.fail(key, expected("an integer", n));
    std::int64_t v = 0;
    if (!parse_integer(n.Scalar(), v))
        p.fail(key, fmt::format("expected an integer from {} to {}, found {}", INT64_MIN, INT64_MAX, found_text(n)));
    return v;
}

}  // namespace

Params::Params(const Document& doc, std::string path) : doc_(&doc), path_(std::move(path)) {}

bool Params::is_list(const std::string& key) const {
    auto child = find_child(ParamsAccess::node(*this), key);
    return child && child->IsSequence();
}

std::size_t Params::size(const std::string& key) const {
    const YAML::Node n = need(*this, key);
    if (!n.IsSequence()) fail(key, expected("a list", n));
    return n.size();
}

bool Params::is_map() const { return ParamsAccess::node(*this).IsMap(); }
bool Params::is_scalar() const { return ParamsAccess::node(*this).IsScalar(); }

std::string Params::text() const {
    const YAML::Node n = ParamsAccess::node(*this);
    if (!n.IsScalar()) fail("", expected("a single value", n));
    return n.Scalar();
}

bool Params::has(const std::string& key) const { return find_child(ParamsAccess::node(*this), key).has_value(); }

double Params::number(const std::string& key) const {
    const YAML::Node n = need(*this, key);
    const Kind k = kind_of(n);
    double v = 0;
    if ((k != Kind::Integer && k != Kind::Float) || !parse_float(n.Scalar(), v)) fail(key, expected("a number", n));
    return v;
}

std::int64_t Params::integer(const std::string& key) const { return to_integer(*this, key, need(*this, key)); }

std::string Params::string(const std::string& key) const {
    const YAML::Node n = need(*this, key);
    if (kind_of(n) != Kind::String) fail(key, expected("a string", n));
    return n.Scalar();
}

bool Params::boolean(const std::string& key) const {
    const YAML::Node n = need(*this, key);
    if (kind_of(n) != Kind::Boolean) fail(key, expected("a boolean", n));
    return parse_boolean(n.Scalar());
}

std::vector<std::int64_t> Params::integers(const std::string& key) const {
    const YAML::Node n = need(*this, key);
    if (!n.IsSequence()) fail(key, expected("a list of integers", n));
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i < n.size(); ++i) out.push_back(to_integer(*this, index_path(key, i), n[i]));
    return out;
}

std::vector<double> Params::numbers(const std::string& key) const {
    const YAML::Node n = need(*this, key);
    if (!n.IsSequence()) fail(key, expected("a list of numbers", n));
    std::vector<double> out;
    for (std::size_t i = 0; i < n.size(); ++i) {
        const Kind k = kind_of(n[i]);
        double v = 0;
        if ((k != Kind::Integer && k != Kind::Float) || !parse_float(n[i].Scalar(), v))
            fail(index_path(key, i), expected("a number", n[i]));
        out.push_back(v);
    }
    return out;
}

std::vector<std::string> Params::strings(const std::string& key) const {
    const YAML::Node n = need(*this, key);
    if (!n.IsSequence()) fail(key, expected("a list of strings", n));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n.size(); ++i) {
        if (kind_of(n[i]) != Kind::String) fail(index_path(key, i), expected("a string", n[i]));
        out.push_back(n[i].Scalar());
    }
    return out;
}

Params Params::child(const std::string& key) const {
    const YAML::Node n = need(*this, key);
    if (!n.IsMap()) fail(key, expected("a map", n));
    return Params(*doc_, child_path(path_, key));
}

std::vector<Params> Params::list(const std::string& key) const {
    const YAML::Node n = need(*this, key);
    if (!n.IsSequence()) fail(key, expected("a list", n));
    std::vector<Params> out;
    for (std::size_t i = 0; i < n.size(); ++i) {
        if (!n[i].IsMap()) fail(index_path(key, i), expected("a map", n[i]));
        out.emplace_back(*doc_, index_path(child_path(path_, key), i));
    }
    return out;
}

Params Params::item(const std::string& key, std::size_t i) const {
    const YAML::Node n = need(*this, key);
    if (!n.IsSequence()) fail(key, expected("a list", n));
    if (i >= n.size()) fail(key, fmt::format("expected at least {} items, found {}", i + 1, n.size()));
    return Params(*doc_, index_path(child_path(path_, key), i));
}

std::vector<std::string> Params::keys() const {
    std::vector<std::string> out;
    const YAML::Node n = ParamsAccess::node(*this);
    if (n.IsMap())
        for (auto it = n.begin(); it != n.end(); ++it) out.push_back(it->first.Scalar());
    return out;
}

void Params::fail(const std::string& key, const std::string& message) const {
    const std::string path = key.empty() ? path_ : child_path(path_, key);
    // origin_of falls back to the nearest ancestor: the map itself when `key` is missing.
    throw SpecError({Diagnostic{doc_->origin_of(path), path, message}});
}

}  // namespace infomax::config
