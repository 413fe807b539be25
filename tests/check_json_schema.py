"""Checks schemas/*.schema.json as an editor (yaml-language-server) would use them.

Every shipped spec and suite validates against the schema its
`# yaml-language-server: $schema=` line names, and mistakes an editor should
flag are flagged: a misspelt part param (checked by the part's `type`), a value
outside an enum, an unknown top-level key. Run: python3 check_json_schema.py ROOT
"""
import copy
import glob
import json
import os
import re
import sys

import jsonschema
import yaml

root = os.path.abspath(sys.argv[1])
failures = []


def validator(path):
    with open(path) as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


specs = sorted(glob.glob(os.path.join(root, "experiments", "**", "*.yaml"), recursive=True))
if len(specs) < 10:
    failures.append(f"only {len(specs)} shipped specs found under {root}/experiments")
validators = {}
for spec in specs:
    with open(spec) as f:
        text = f.read()
    m = re.search(r"^# yaml-language-server: \$schema=(\S+)$", text, re.M)
    if not m:
        failures.append(f"{spec}: no '# yaml-language-server: $schema=' line")
        continue
    schema_path = os.path.normpath(os.path.join(os.path.dirname(spec), m.group(1)))
    if not schema_path.endswith(".schema.json") or not os.path.exists(schema_path):
        failures.append(f"{spec}: $schema names {m.group(1)}, not an existing .schema.json")
        continue
    v = validators.setdefault(schema_path, validator(schema_path))
    for e in v.iter_errors(yaml.safe_load(text)):
        failures.append(f"{spec}: {'.'.join(map(str, e.path))}: {e.message}")


# Mistakes the schema must catch, made in a valid spec.
def must_fail(what, schema, spec_path, change):
    with open(os.path.join(root, spec_path)) as f:
        spec = yaml.safe_load(f)
    bad = copy.deepcopy(spec)
    change(bad)
    v = validators[os.path.join(root, "schemas", schema)]
    if not list(v.iter_errors(bad)):
        failures.append(f"not flagged: {what}")


def set_in(d, path, value):
    for k in path[:-1]:
        d = d.setdefault(k, {})
    d[path[-1]] = value


exp = "experiment.schema.json"
must_fail("a misspelt estimator param", exp, "experiments/dim_g_jsd.yaml",
          lambda s: set_in(s, ["objectives", "global", "estimator"], {"type": "infonce", "temprature": 1.0}))
must_fail("an unknown estimator", exp, "experiments/dim_g_jsd.yaml",
          lambda s: set_in(s, ["objectives", "global", "estimator"], "jds"))
must_fail("a misspelt layer param", exp, "experiments/fashion_mnist_supervised.yaml",
          lambda s: set_in(s, ["encoder"], {"type": "layer_stack", "layers": [{"conv": {"out": 8, "kernal": 3}}]}))
must_fail("an unknown layer", exp, "experiments/fashion_mnist_supervised.yaml",
          lambda s: set_in(s, ["encoder"], {"type": "layer_stack", "layers": ["relux"]}))
must_fail("a probe outside the enum", exp, "experiments/fashion_mnist_supervised.yaml",
          lambda s: set_in(s, ["eval", "probes"], ["linaer"]))
must_fail("a dataset param of another dataset", exp, "experiments/gan_25_gaussians.yaml",
          lambda s: set_in(s, ["data", "steps_per_level"], 10))
must_fail("a batch size below the minimum", exp, "experiments/gan_25_gaussians.yaml",
          lambda s: set_in(s, ["data", "batch_size"], 1))
must_fail("an unknown top-level key", exp, "experiments/fashion_mnist_supervised.yaml", lambda s: set_in(s, ["seedd"], 1))
must_fail("a spec without extends that lacks kind", exp, "experiments/gan_25_gaussians.yaml", lambda s: s.pop("kind"))
must_fail("a suite with an unknown key", "suite.schema.json", "experiments/suites/estimators.yaml",
          lambda s: set_in(s, ["sweeps"], []))

for f in failures:
    print(f)
print(f"{len(specs)} specs checked against {len(validators)} schemas, {len(failures)} problems")
sys.exit(1 if failures else 0)
