// The registry: finds plugin libraries, checks them, and builds parts by name.
//
// Libraries come from, in this order: the built-in plugin folder, the folders
// in $INFOMAX_PLUGIN_PATH (':'-separated), --plugin-path, and a spec's
// `plugins:` list. Each library exports one entry point (infomax_plugin_v1)
// listing its parts. Objects a plugin builds hold its library loaded for as
// long as they live; libraries are never unloaded before exit.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "infomax/config/spec.hpp"
#include "infomax/plugin/parts.hpp"
#include "infomax/runtime/error.hpp"

namespace infomax {

class PluginError : public Error {
public:
    using Error::Error;
};

struct PartEntry {
    std::string kind, name, version, description;
    std::string file;  // the library it came from
    config::Schema schema;
};

class Registry {
public:
    Registry();
    ~Registry();
    Registry(const Registry&) = delete;
    Registry& operator=(const Registry&) = delete;

    // The built-in plugin folder (next to libinfomax when installed, else the build tree's).
    static std::string builtin_directory();
    // builtin_directory(), then $INFOMAX_PLUGIN_PATH entries.
    static std::vector<std::string> default_directories();

    // Loads every *.so in `dir` (not recursive). A missing folder is an error
    // unless `optional`.
    void load_directory(const std::string& dir, bool optional = false);
    // Loads one library; errors: no such file, not loadable, not a plugin,
    // ABI mismatch (both versions named), a name defined twice (both files named).
    void load_library(const std::string& path);
    // load_directory for each default directory (missing ones skipped), then
    // for each of `dirs` (--plugin-path: a missing one is an error).
    void load_defaults(const std::vector<std::string>& dirs = {});

    const PartEntry* find(const std::string& kind, const std::string& name) const;
    std::vector<const PartEntry*> entries(const std::string& kind = "") const;  // sorted by kind, name
    std::vector<std::string> names(const std::string& kind) const;              // sorted
    static const std::vector<std::string>& kinds();

    // Builds a part. Unknown names list the known ones with a did-you-mean;
    // an exception from the plugin is rethrown as PluginError naming the part
    // (a config::SpecError from its params passes through unchanged).
    std::shared_ptr<Part> create(const std::string& kind, const std::string& name, const config::Params& params,
                                 BuildContext& ctx) const;
    template <class T>
    std::shared_ptr<T> create_as(const std::string& kind, const std::string& name, const config::Params& params,
                                 BuildContext& ctx) const {
        return std::dynamic_pointer_cast<T>(create(kind, name, params, ctx));
    }

    // Lookup of params schemas for config::validate (x-plugin).
    config::PluginSchemaLookup schema_lookup() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace infomax
