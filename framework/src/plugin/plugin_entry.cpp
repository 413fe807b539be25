// Compiled into every plugin library by infomax_add_plugin: the one exported
// entry point through which the registry reads the library's parts.
#include <boost/dll/alias.hpp>

#include "infomax/plugin/plugin.hpp"

namespace infomax_plugin_entry {
const infomax::plugin::LibraryInfo* describe() {
#ifdef INFOMAX_PLUGIN_ABI_OVERRIDE  // tests build a library that claims another ABI
    static const infomax::plugin::LibraryInfo info{INFOMAX_PLUGIN_ABI_OVERRIDE, "test",
                                                   &infomax::plugin::library_parts()};
#else
    static const infomax::plugin::LibraryInfo info{infomax::kAbiVersion, INFOMAX_PLUGIN_FRAMEWORK_VERSION,
                                                   &infomax::plugin::library_parts()};
#endif
    return &info;
}
}  // namespace infomax_plugin_entry

BOOST_DLL_ALIAS(infomax_plugin_entry::describe, infomax_plugin_v1)
