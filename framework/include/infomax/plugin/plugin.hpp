// Writing a plugin: one class, one line.
//
//   class Chi2 final : public infomax::Estimator {
//   public:
//       Chi2(const infomax::config::Params& p, infomax::BuildContext&) : alpha_(p.number("alpha")) {}
//       std::string quantity() const override { return "mi_chi2"; }
//       infomax::Bound bound(const infomax::Scores& s) override { ... }
//   };
//   INFOMAX_PLUGIN(Estimator, Chi2, "chi2", "1.0.0", "chi-square bound",
//                  R"(properties: {alpha: {type: number, default: 1.0}})")
//
// The class takes (const config::Params&, BuildContext&) in its constructor;
// Params holds the part's validated params with the schema's defaults filled
// in. The schema is a JSON-Schema subset in YAML describing the params (every
// key but `type`); unknown params are rejected unless the schema allows them.
// Build with the CMake function infomax_add_plugin (find_package(infomax)).
#pragma once

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "infomax/config/spec.hpp"
#include "infomax/plugin/parts.hpp"
#include "infomax/version.hpp"

namespace infomax::plugin {

using Factory = std::unique_ptr<Part> (*)(const config::Params&, BuildContext&);

// One registered part, as a library describes it.
struct PartInfo {
    const char* kind;         // "dataset", "discriminator", "encoder", "estimator", "prior", "sample_estimator"
    const char* name;         // the YAML `type:` value
    const char* version;      // the part's own version
    const char* description;  // one line
    const char* schema_yaml;  // schema of the params
    Factory create;
};

// What a plugin library exports, through the C symbol infomax_plugin_v1.
struct LibraryInfo {
    int abi_version;                      // kAbiVersion the library was built against
    const char* framework_version;        // infomax version it was built against
    const std::vector<PartInfo>* parts;
};

template <class T> struct KindName;
template <> struct KindName<Encoder> { static constexpr const char* value = "encoder"; };
template <> struct KindName<Discriminator> { static constexpr const char* value = "discriminator"; };
template <> struct KindName<Estimator> { static constexpr const char* value = "estimator"; };
template <> struct KindName<Prior> { static constexpr const char* value = "prior"; };
template <> struct KindName<Dataset> { static constexpr const char* value = "dataset"; };
template <> struct KindName<SampleEstimator> { static constexpr const char* value = "sample_estimator"; };

// The parts of the library being compiled. Hidden visibility: each shared
// library has its own list, even when several are loaded into one process.
__attribute__((visibility("hidden"))) inline std::vector<PartInfo>& library_parts() {
    static std::vector<PartInfo> parts;
    return parts;
}

template <class Base, class T>
struct Registrar {
    static_assert(std::is_base_of_v<Base, T>, "INFOMAX_PLUGIN: the class must derive from the named kind");
    static_assert(std::is_constructible_v<T, const config::Params&, BuildContext&>,
                  "INFOMAX_PLUGIN: the class needs a constructor (const config::Params&, BuildContext&)");
    Registrar(const char* name, const char* version, const char* description, const char* schema) {
        library_parts().push_back(PartInfo{KindName<Base>::value, name, version, description, schema,
                                           [](const config::Params& p, BuildContext& c) -> std::unique_ptr<Part> {
                                               return std::make_unique<T>(p, c);
                                           }});
    }
};

}  // namespace infomax::plugin

#define INFOMAX_PLUGIN_CONCAT2(a, b) a##b
#define INFOMAX_PLUGIN_CONCAT(a, b) INFOMAX_PLUGIN_CONCAT2(a, b)

// Registers CLASS as a part of kind KIND (Encoder, Discriminator, Estimator,
// Prior, Dataset) under NAME. Several parts may share a library.
#define INFOMAX_PLUGIN(KIND, CLASS, NAME, VERSION, DESCRIPTION, SCHEMA_YAML)                          \
    namespace {                                                                                       \
    const ::infomax::plugin::Registrar<::infomax::KIND, CLASS> INFOMAX_PLUGIN_CONCAT(                 \
        infomax_registrar_, __LINE__)(NAME, VERSION, DESCRIPTION, SCHEMA_YAML);                       \
    }
