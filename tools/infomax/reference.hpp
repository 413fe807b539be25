// Markdown reference of the spec, generated from the schema and the registered
// parts' params schemas (docs/reference.md is this output; a test keeps it so).
#pragma once

#include <string>

namespace YAML {
class Node;
}
namespace infomax {
class Registry;
}

namespace infomax::cli {

std::string markdown_reference(const YAML::Node& schema, const Registry& registry);
// One line per param: "name: type [choices] = default  # description".
std::string params_text(const YAML::Node& schema, const std::string& indent);

}  // namespace infomax::cli
