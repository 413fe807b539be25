// Documents generated from the schemas and the registered parts' params
// schemas: the Markdown reference (docs/reference.md is this output; a test
// keeps it so), the JSON Schema for editors (schemas/*.schema.json, likewise),
// a part's params as text (infomax plugins show), and the override keys that
// shell completion offers.
#pragma once

#include <string>
#include <vector>

namespace infomax {
class Registry;
namespace config {
class Schema;
}

std::string markdown_reference(const config::Schema& schema, const Registry& registry);
// One line per param: "name: type [choices] = default  # description".
std::string params_text(const config::Schema& schema, const std::string& indent);
// JSON Schema (draft-07) of a schema of ours: `x-plugin` nodes become a choice
// of the registered parts of that kind, each with its own params, so editors
// complete and check a part's params by its `type`.
std::string json_schema(const config::Schema& schema, const Registry& registry);
// Every key path a spec may set ("train.steps", "encoder.layers", a part's
// params under its place), sorted; maps of free names (objectives) stop at the map.
std::vector<std::string> override_keys(const config::Schema& schema, const Registry& registry);

}  // namespace infomax
