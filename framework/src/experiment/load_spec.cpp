// Loading a spec: the experiment schema, extends and overrides, the plugins
// it names, validation with every part's params schema.
#include "experiment/load_spec.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "config/document.hpp"
#include "infomax/experiment/model.hpp"

namespace fs = std::filesystem;

namespace infomax {

std::string experiment_schema_path() {
    if (const char* env = std::getenv("INFOMAX_SCHEMA_DIR"); env && *env)
        return (fs::path(env) / "experiment.schema.yaml").string();
    const fs::path installed = fs::path(Registry::builtin_directory()).parent_path().parent_path().parent_path() /
                               "share" / "infomax" / "schemas" / "experiment.schema.yaml";
    if (fs::exists(installed)) return installed.string();
    return (fs::path(INFOMAX_SOURCE_SCHEMA_DIR) / "experiment.schema.yaml").string();
}

const config::Schema& experiment_schema() {
    static const config::Schema s = config::Schema::from_file(experiment_schema_path());
    return s;
}

config::Document load_spec(const std::string& file, const std::vector<std::string>& overrides, Registry& registry) {
    std::vector<config::Diagnostic> override_problems;
    config::Document doc = config::load(file, overrides, override_problems);
    if (!doc.root.IsMap())  // a list, a bare value, or text that is not YAML settings
        throw config::SpecError({{doc.origin_of(""), "",
                                  fmt::format("expected a map of settings (name: ..., kind: ..., ...), found {}",
                                              doc.root.IsSequence() ? "a list" : "a single value")}});
    // A suite handed to run, validate or show: one line that says so, not one unknown key per line.
    if (!doc.root["kind"])
        for (const char* key : {"sweep", "base", "seeds"})
            if (doc.root[key])
                throw config::SpecError({{doc.origin_of(""), "",
                                          fmt::format("a suite (it has '{}:'), not an experiment spec: run it "
                                                      "with `infomax suite {}`",
                                                      key, file)}});
    // Plugins named by the spec are loaded before validation: their parts'
    // schemas take part in it. Paths are relative to the working directory.
    if (doc.root["plugins"] && doc.root["plugins"].IsSequence()) {
        std::vector<config::Diagnostic> errs;
        for (std::size_t i = 0; i < doc.root["plugins"].size(); ++i) {
            const std::string path = fmt::format("plugins[{}]", i);
            try {
                registry.load_library(doc.root["plugins"][i].as<std::string>());
            } catch (const Error& e) {
                errs.push_back({doc.origin_of(path), path, e.what()});
            }
        }
        if (!errs.empty()) throw config::SpecError(errs);
    }
    auto errs = config::validate(doc, experiment_schema(), registry.schema_lookup());
    errs.insert(errs.end(), override_problems.begin(), override_problems.end());
    config::sort_diagnostics(errs);
    if (!errs.empty()) throw config::SpecError(errs);
    return doc;
}

}  // namespace infomax
