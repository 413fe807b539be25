# infomax_add_plugin(<name> SOURCES <file>... [OUTPUT_DIRECTORY <dir>])
#
# Builds a plugin library <name>.so from the sources, with the entry point the
# registry looks for. Load it by putting it in a folder on INFOMAX_PLUGIN_PATH,
# passing --plugin-path, or listing it under `plugins:` in a spec.
function(infomax_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "infomax_add_plugin(${name}): give the plugin's sources with SOURCES")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES} ${INFOMAX_PLUGIN_ENTRY_SOURCE})
  target_link_libraries(${name} PRIVATE infomax::infomax Boost::headers)
  target_compile_features(${name} PRIVATE cxx_std_20)
  target_compile_definitions(${name} PRIVATE BOOST_DLL_USE_STD_FS
                             INFOMAX_PLUGIN_FRAMEWORK_VERSION="${INFOMAX_VERSION}")
  set_target_properties(${name} PROPERTIES PREFIX "")
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  endif()
endfunction()
