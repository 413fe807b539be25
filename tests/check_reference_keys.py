"""Every key a shipped spec writes appears in docs/reference.md.

A key counts as documented when the reference has a table row for it
("| `batch_size` |") or names it in the vocabulary of a list's entries
("- `conv: {out, kernel, stride = 1, padding = 0}`"). Objective names are free
(objectives.<name>), so only the keys inside an objective are checked.
Run: python3 check_reference_keys.py ROOT
"""
import glob
import os
import re
import sys

import yaml

root = os.path.abspath(sys.argv[1])
with open(os.path.join(root, "docs", "reference.md")) as f:
    reference = f.read()
rows = set(re.findall(r"^\| `([^`]+)` \|", reference, re.M))
entries = " ".join(line for line in reference.splitlines() if line.startswith("- `"))


def documented(key):
    return key in rows or re.search(r"[`{ ]" + re.escape(key) + r"(: | =|,|})", entries) is not None


missing = {}


def walk(node, path):
    if isinstance(node, dict):
        for k, v in node.items():
            key = str(k)
            free = len(path) >= 1 and path[-1] == "objectives"  # a name the spec chooses
            if not free and not documented(key):
                missing.setdefault(".".join(path + [key]), spec)
            walk(v, path + [key])
    elif isinstance(node, list):
        for item in node:
            walk(item, path + ["[]"])


specs = sorted(glob.glob(os.path.join(root, "experiments", "**", "*.yaml"), recursive=True))
specs = [s for s in specs if "/suites/" not in s]
for spec in specs:
    with open(spec) as f:
        walk(yaml.safe_load(f), [])
for key, spec in sorted(missing.items()):
    print(f"{os.path.relpath(spec, root)}: '{key}' is not in docs/reference.md")
print(f"{len(specs)} specs checked, {len(missing)} keys missing from the reference")
sys.exit(1 if missing else 0)
