#include "infomax/plugin/registry.hpp"

#include "config/document.hpp"

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "infomax/plugin/plugin.hpp"
#include "infomax/version.hpp"

namespace fs = std::filesystem;

namespace infomax {

namespace {
// A registry name close to what an author wrote: "My-Bound" -> "my_bound".
std::string suggested_name(const std::string& name) {
    std::string out;
    for (char c : name) {
        if (c >= 'A' && c <= 'Z') out += static_cast<char>(c - 'A' + 'a');
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out += c;
        else if (!out.empty() && out.back() != '_') out += '_';
    }
    while (!out.empty() && (out.back() == '_')) out.pop_back();
    while (!out.empty() && !(out[0] >= 'a' && out[0] <= 'z')) out.erase(0, 1);
    return out.empty() ? "my_part" : out.substr(0, 64);
}
}  // namespace

struct LoadedPart {
    PartEntry entry;
    plugin::Factory create;
    std::shared_ptr<boost::dll::shared_library> lib;
};

struct Registry::Impl {
    std::map<std::pair<std::string, std::string>, LoadedPart> parts;
    std::vector<std::string> loaded_files;
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
// Libraries stay loaded while any part built from them lives (each holds a
// reference); the registry's own references go here.
Registry::~Registry() = default;

const std::vector<std::string>& Registry::kinds() {
    static const std::vector<std::string> k{"dataset", "discriminator", "encoder", "estimator", "prior", "sample_estimator"};
    return k;
}

std::string Registry::builtin_directory() {
    // Installed: <prefix>/lib/infomax/plugins beside <prefix>/lib/libinfomax.so.
    const fs::path lib = boost::dll::this_line_location().native();
    const fs::path installed = lib.parent_path() / "infomax" / "plugins";
    if (fs::is_directory(installed)) return installed.string();
    return INFOMAX_BUILD_PLUGIN_DIR;
}

std::vector<std::string> Registry::default_directories() {
    std::vector<std::string> dirs{builtin_directory()};
    if (const char* env = std::getenv("INFOMAX_PLUGIN_PATH"); env && *env) {
        std::string s = env;
        std::size_t start = 0;
        while (start <= s.size()) {
            const auto end = std::min(s.find(':', start), s.size());
            if (end > start) dirs.push_back(s.substr(start, end - start));
            start = end + 1;
        }
    }
    return dirs;
}

void Registry::load_defaults(const std::vector<std::string>& dirs) {
    for (const auto& d : default_directories()) load_directory(d, true);
    for (const auto& d : dirs) load_directory(d);
}

void Registry::load_directory(const std::string& dir, bool optional) {
    if (!fs::is_directory(dir)) {
        if (optional) return;
        throw PluginError(fmt::format("plugin folder '{}' does not exist", dir));
    }
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file() && e.path().extension() == ".so") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());  // a stable order: the same errors every time
    for (const auto& f : files) load_library(f);
}

void Registry::load_library(const std::string& path_in) {
    const std::string path = fs::weakly_canonical(path_in).string();
    if (std::find(impl_->loaded_files.begin(), impl_->loaded_files.end(), path) != impl_->loaded_files.end())
        return;  // named twice (folder and spec): load once
    if (!fs::exists(path)) throw PluginError(fmt::format("plugin '{}': no such file", path_in));
    auto lib = std::make_shared<boost::dll::shared_library>();
    boost::dll::fs::error_code ec;
    lib->load(path, ec, boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local);
    if (ec || !lib->is_loaded()) {
        // Boost's error code says little; the dynamic loader's message says why.
        std::string why = "unknown reason";
        if (void* h = dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL)) {
            dlclose(h);
        } else if (const char* m = dlerror()) {
            why = m;
        }
        throw PluginError(fmt::format("cannot load plugin '{}': {}", path_in, why));
    }
    if (!lib->has("infomax_plugin_v1"))
        throw PluginError(fmt::format("'{}' is not an infomax plugin: it exports no infomax_plugin_v1 entry point "
                                      "(build it with infomax_add_plugin)",
                                      path_in));
    const auto* info = lib->get_alias<const plugin::LibraryInfo*()>("infomax_plugin_v1")();
    if (info->abi_version != kAbiVersion)
        throw PluginError(fmt::format("plugin '{}' was built for infomax plugin ABI {} (infomax {}), this infomax {} "
                                      "has ABI {}: rebuild the plugin against this version",
                                      path_in, info->abi_version, info->framework_version, version(), kAbiVersion));
    // Check every part first, so a bad library registers nothing.
    std::vector<LoadedPart> add;
    for (const auto& p : *info->parts) {
        const auto key = std::make_pair(std::string(p.kind), std::string(p.name));
        // Specs name parts in lowercase: a name with capitals, blanks or dots
        // could not be written the same way everywhere (overrides, suites, files).
        const std::string name = p.name ? p.name : "";
        const bool named = !name.empty() && name.size() <= 64 && name[0] >= 'a' && name[0] <= 'z' &&
                           std::all_of(name.begin(), name.end(), [](char c) {
                               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                           });
        if (!named)
            throw PluginError(fmt::format("plugin '{}': {} '{}' is not a registry name: use lowercase letters, digits "
                                          "and '_', starting with a letter (at most 64), e.g. '{}'",
                                          path_in, p.kind, name, suggested_name(name)));
        if (auto it = impl_->parts.find(key); it != impl_->parts.end())
            throw PluginError(fmt::format("{} '{}' is defined twice: in '{}' and in '{}'", p.kind, p.name,
                                          it->second.entry.file, path));
        config::Schema schema;
        try {
            schema = config::Schema::from_yaml(p.schema_yaml ? p.schema_yaml : "{}",
                                               fmt::format("{} '{}' params schema", p.kind, p.name));
        } catch (const std::exception& e) {
            throw PluginError(fmt::format("plugin '{}': the params schema of {} '{}' is invalid: {}", path_in, p.kind,
                                          p.name, e.what()));
        }
        add.push_back(LoadedPart{PartEntry{p.kind, p.name, p.version, p.description, path, std::move(schema)},
                                 p.create, lib});
    }
    for (auto& lp : add) impl_->parts.emplace(std::make_pair(lp.entry.kind, lp.entry.name), std::move(lp));
    impl_->loaded_files.push_back(path);
}

const PartEntry* Registry::find(const std::string& kind, const std::string& name) const {
    auto it = impl_->parts.find({kind, name});
    return it == impl_->parts.end() ? nullptr : &it->second.entry;
}

std::vector<const PartEntry*> Registry::entries(const std::string& kind) const {
    std::vector<const PartEntry*> out;
    for (const auto& [key, p] : impl_->parts)
        if (kind.empty() || key.first == kind) out.push_back(&p.entry);
    return out;
}

std::vector<std::string> Registry::names(const std::string& kind) const {
    std::vector<std::string> out;
    for (const auto& [key, p] : impl_->parts)
        if (key.first == kind) out.push_back(key.second);
    return out;
}

std::shared_ptr<Part> Registry::create(const std::string& kind, const std::string& name,
                                       const config::Params& params, BuildContext& ctx) const {
    auto it = impl_->parts.find({kind, name});
    if (it == impl_->parts.end()) params.fail("type", config::unknown_name(kind, name, names(kind)));
    const LoadedPart& lp = it->second;
    std::unique_ptr<Part> made;
    try {
        made = lp.create(params, ctx);
    } catch (const config::SpecError& e) {
        // A key the part reads but its schema does not declare is the plugin's
        // mistake: validation could never have asked the user for it.
        const YAML::Node props = config::schema_node(lp.entry.schema)["properties"];
        for (const auto& d : e.diagnostics()) {
            const std::string prefix = "missing required key '";
            if (d.path != params.path() || !d.message.starts_with(prefix)) continue;
            const std::string key = d.message.substr(prefix.size(), d.message.find('\'', prefix.size()) - prefix.size());
            if (!props || !props.IsMap() || !props[key])
                throw PluginError(fmt::format("{} '{}' (from '{}') reads the param '{}', which its params schema does not "
                                              "declare: the plugin must declare it (with a default, or as required); "
                                              "this is not a problem of the spec",
                                              kind, name, lp.entry.file, key));
        }
        throw;  // points at the spec
    } catch (const std::exception& e) {
        throw PluginError(fmt::format("{} '{}' (from '{}') failed to build: {}", kind, name, lp.entry.file, e.what()));
    }
    // The deleter holds the library: the object's code stays mapped while it lives.
    auto lib = lp.lib;
    return std::shared_ptr<Part>(made.release(), [lib](Part* p) { delete p; });
}

config::PluginSchemaLookup Registry::schema_lookup() const {
    return [this](const std::string& kind, const std::string& name, std::vector<std::string>* known) {
        if (known) *known = names(kind);
        const PartEntry* e = find(kind, name);
        return e ? &e->schema : nullptr;
    };
}

}  // namespace infomax
