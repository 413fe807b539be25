// Documents generated from the schemas and the registered parts' params
// schemas: the Markdown reference (docs/reference.md is this output; a test
// keeps it so), the JSON Schema for editors (schemas/*.schema.json, likewise),
// and the override keys that shell completion offers.
#pragma once

#include <string>
#include <vector>

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
// JSON Schema (draft-07) of a schema of ours: `x-plugin` nodes become a choice
// of the registered parts of that kind, each with its own params, so editors
// complete and check a part's params by its `type`.
std::string json_schema(const YAML::Node& schema, const Registry& registry);
// Every key path a spec may set ("train.steps", "encoder.layers", a part's
// params under its place), sorted; maps of free names (objectives) stop at the map.
std::vector<std::string> override_keys(const YAML::Node& schema, const Registry& registry);

}  // namespace infomax::cli
