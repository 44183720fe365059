#!/usr/bin/env python3
"""The layer check: fails when a source module imports a layer above (or beside) its own.

Layers are read straight off Package.swift: a comment `// Layer N: ...` sets the layer of every
target declared after it, up to the next such comment. Then, for every non-test target:

- each package target it depends on (Package.swift) must be in a lower layer;
- each `import X` in its Swift files must name a module it may use: the standard library and
  system modules, a package target in a lower layer that it declares as a dependency, or a product
  it declares (so NIO, GRDB, Hummingbird, ArgumentParser, ... stay where Package.swift put them);
- each system-library (C) target has exactly one Swift importer module.

It also keeps docs/architecture.md's layer table true: the table between the markers
`<!-- layers:begin -->` and `<!-- layers:end -->` must be the one this script prints with
`--table` (regenerate it with `--write-table`).

Usage: scripts/check-layers.py [--table | --write-table] [package root]
       (exit status 1 and one line per violation)
"""
import json
import os
import re
import subprocess
import sys

options = [argument for argument in sys.argv[1:] if argument.startswith("--")]
positional = [argument for argument in sys.argv[1:] if not argument.startswith("--")]
root = positional[0] if positional else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
os.chdir(root)

manifest = json.loads(subprocess.run(["swift", "package", "dump-package"], check=True, capture_output=True, text=True).stdout)
targets = {target["name"]: target for target in manifest["targets"]}

# Layers from the manifest's comments.
layer_of = {}
current = None
pending_name = None
for line in open("Package.swift", encoding="utf-8"):
    comment = re.match(r"\s*//\s*Layer\s+(\d+)\b", line)
    if comment:
        current = int(comment.group(1))
        continue
    if re.match(r"\s*\.testTarget\(", line):
        current = None  # test targets (and what follows them) have no layer
    declared = re.search(r'\.(?:target|executableTarget|systemLibrary)\(\s*name:\s*"([^"]+)"', line)
    if declared is None and re.search(r"\.(?:target|executableTarget|systemLibrary)\(\s*$", line):
        pending_name = True
        continue
    if pending_name:
        declared = re.search(r'name:\s*"([^"]+)"', line)
        pending_name = None
    if declared and current is not None:
        layer_of[declared.group(1)] = current

# Modules every target may import: the standard library, Glibc/Foundation and friends.
system_modules = {"Swift", "Glibc", "Foundation", "FoundationNetworking", "FoundationEssentials", "Dispatch", "Synchronization",
                  "_Concurrency", "os", "Darwin", "Musl", "XCTest", "Testing", "PackageDescription"}

problems = []


def product_modules(target):
    """Module names a target's product dependencies bring (a product's name is its module name,
    which holds for every product this package uses)."""
    names = set()
    for dependency in target["dependencies"]:
        kind, value = next(iter(dependency.items()))
        if kind == "product":
            names.add(value[0])
    return names


def target_dependencies(target):
    names = set()
    for dependency in target["dependencies"]:
        kind, value = next(iter(dependency.items()))
        if kind in ("byName", "target"):
            names.add(value[0])
    return names


source_targets = [t for t in manifest["targets"] if t["type"] in ("regular", "executable", "system")
                  and not (t.get("path") or "").startswith("Tests")]
for target in source_targets:
    name = target["name"]
    if name not in layer_of:
        problems.append(f"Package.swift: target {name} has no `// Layer N:` comment above it")

c_importers = {}
for target in source_targets:
    name = target["name"]
    layer = layer_of.get(name)
    if layer is None or target["type"] == "system":
        continue
    dependencies = target_dependencies(target)
    for dependency in sorted(dependencies):
        # Layer 0 is C: a C helper target may build on a system library beside it.
        if dependency in layer_of and layer_of[dependency] >= layer and layer > 0:
            problems.append(f"Package.swift: {name} (layer {layer}) depends on {dependency} (layer {layer_of[dependency]}): "
                            f"a module depends only on layers below it")
    allowed = system_modules | product_modules(target) | {d for d in dependencies if layer_of.get(d, 99) < layer}
    folder = target.get("path") or os.path.join("Sources", name)
    for directory, _, files in os.walk(folder):
        for file in sorted(files):
            if not file.endswith(".swift"):
                continue
            path = os.path.join(directory, file)
            in_string = False
            for number, line in enumerate(open(path, encoding="utf-8"), 1):
                # Text inside multi-line string literals (code for the engines) is not Swift.
                if line.count('"""') % 2 == 1:
                    in_string = not in_string
                    continue
                if in_string:
                    continue
                match = re.match(r"\s*(?:@\w+(?:\([^)]*\))?\s+)*import\s+(?:(?:struct|class|enum|protocol|func|var|let|typealias)\s+)?([A-Za-z_][A-Za-z0-9_]*)", line)
                if not match:
                    continue
                module = match.group(1)
                if module in targets and targets[module]["type"] == "system":
                    c_importers.setdefault(module, set()).add(name)
                if module in allowed:
                    continue
                if module in layer_of:
                    why = (f"layer {layer_of[module]} is not below {name}'s layer {layer}" if layer_of[module] >= layer
                           else f"{name} does not declare it in Package.swift")
                else:
                    why = f"not a dependency {name} declares in Package.swift"
                problems.append(f"{path}:{number}: {name} imports {module}: {why}")

for module, importers in sorted(c_importers.items()):
    if len(importers) > 1:
        problems.append(f"{module} (C) is imported by {', '.join(sorted(importers))}: a C library has exactly one Swift importer")

def layer_table():
    """The layers as a Markdown table: each layer's modules, what each depends on in the package."""
    lines = ["| layer | module | depends on (package modules) |", "|---|---|---|"]
    for name, layer in sorted(layer_of.items(), key=lambda item: (item[1], list(layer_of).index(item[0]))):
        dependencies = sorted(d for d in target_dependencies(targets[name]) if d in layer_of)
        lines.append(f"| {layer} | `{name}` | {', '.join(f'`{d}`' for d in dependencies) or '—'} |")
    return "\n".join(lines) + "\n"


if "--table" in options:
    print(layer_table(), end="")
    sys.exit(0)

document = "docs/architecture.md"
begin, end = "<!-- layers:begin -->\n", "<!-- layers:end -->"
if os.path.exists(document):
    text = open(document, encoding="utf-8").read()
    if begin in text and end in text:
        current = text[text.index(begin) + len(begin):text.index(end)]
        if "--write-table" in options:
            open(document, "w", encoding="utf-8").write(text.replace(current, layer_table()))
        elif current != layer_table():
            problems.append(f"{document}: the layer table is not the one Package.swift gives (scripts/check-layers.py --write-table rewrites it)")
    else:
        problems.append(f"{document}: no layer table between {begin.strip()} and {end}")

for problem in problems:
    print(problem)
if problems:
    print(f"layer check: {len(problems)} problem(s)", file=sys.stderr)
    sys.exit(1)
print(f"layer check: {len(layer_of)} modules in {len(set(layer_of.values()))} layers, every import points down")
