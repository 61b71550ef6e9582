#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check that no file includes a header of a layer above its own.

The library's folders under lib/ are its layers (docs/architecture.md). A
file in lib/<layer>/ (or tests/<layer>/) may include the headers of its own
layer and of the layers LAYERS lists for it, nothing else; a public header
include/iommusim/<mod>.h belongs to the layer of its module. The CLI (sim/),
its tests (tests/sim/) and tests/test_api.c see the public headers only. Public headers include
only the C standard library and other public headers.

    tools/check_layers.py [ROOT]          check the tree at ROOT (default: .)
    tools/check_layers.py --self-test [ROOT]
        check that a copy of the tree passes, then plant each kind of bad
        include in a fresh copy and check that it is caught at FILE:LINE

Exit status: 0 clean, 1 violations (each printed as FILE:LINE: ...), 2 usage.
"""
import os
import re
import shutil
import sys
import tempfile

# Lowest first. What each layer may include besides itself.
LAYERS = {
    "base": [],
    "engine": ["base"],
    "hw": ["base"],
    "kernel": ["hw", "base"],
    "hypervisor": ["engine", "hw", "base"],
    "workload": ["hypervisor", "kernel", "engine", "hw", "base"],
}

# Public headers with no lib/**/<mod>.c or <mod>_int.h to name their layer.
PUBLIC_LAYER = {
    "common": "base",  # export macros and the version (lib/base/version.c)
    "iommusim": None,  # the umbrella header: for programs, never the library
}

# What a public header may include from outside include/iommusim/.
STD_HEADERS = {
    "assert.h", "complex.h", "ctype.h", "errno.h", "fenv.h", "float.h",
    "inttypes.h", "iso646.h", "limits.h", "locale.h", "math.h", "setjmp.h",
    "signal.h", "stdalign.h", "stdarg.h", "stdatomic.h", "stdbool.h",
    "stddef.h", "stdint.h", "stdio.h", "stdlib.h", "stdnoreturn.h",
    "string.h", "tgmath.h", "threads.h", "time.h", "uchar.h", "wchar.h",
    "wctype.h",
}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
SOURCE = (".c", ".h")


def walk(root, top):
    base = os.path.join(root, top)
    for d, dirs, files in os.walk(base):
        dirs.sort()
        for f in sorted(files):
            if f.endswith(SOURCE):
                yield os.path.relpath(os.path.join(d, f), root)


def public_layers(root):
    """include/iommusim/<mod>.h -> layer, from where the module lives."""
    where = {}
    for path in walk(root, "lib"):
        parts = path.split(os.sep)
        if len(parts) >= 3:
            name = os.path.basename(path)
            mod = name[:-len("_int.h")] if name.endswith("_int.h") else name[:-2]
            where.setdefault(mod, parts[1])
    out = {}
    for path in walk(root, os.path.join("include", "iommusim")):
        mod = os.path.basename(path)[:-2]
        out[mod] = PUBLIC_LAYER[mod] if mod in PUBLIC_LAYER else where.get(mod, "?")
    return out


def role(path):
    """(kind, layer) of a file: ('lib'|'test', layer), ('public', mod) or ('program', None)."""
    parts = path.split(os.sep)
    if parts[:2] == ["tests", "sim"]:
        return ("program", None)  # the CLI's own code's tests: as sim/ itself
    if parts[0] in ("lib", "tests") and len(parts) >= 3:
        return ("lib" if parts[0] == "lib" else "test", parts[1])
    if parts[0] == "include":
        return ("public", os.path.basename(path)[:-2])
    return ("program", None)


def check(root):
    errors = []
    pub = public_layers(root)

    for path in walk(root, "lib"):
        parts = path.split(os.sep)
        if len(parts) == 2:
            errors.append(f"{path}:1: a file directly in lib/: put it in the folder of its layer")
        elif parts[1] not in LAYERS:
            errors.append(f"{path}:1: lib/{parts[1]}/ is not a layer of tools/check_layers.py")
    for mod, layer in sorted(pub.items()):
        if layer == "?":
            errors.append(f"include/iommusim/{mod}.h:1: no lib/<layer>/{mod}.c names its layer "
                          "(add it to PUBLIC_LAYER)")

    files = []
    for top in ("lib", "include", "tests", "sim"):
        files.extend(walk(root, top))
    for path in files:
        kind, who = role(path)
        if kind in ("lib", "test") and who not in LAYERS:
            if kind == "test":
                errors.append(f"{path}:1: tests/{who}/ mirrors no layer of lib/")
            continue
        mine = pub.get(who) if kind == "public" else who
        allowed = None if mine in (None, "?") else {mine, *LAYERS.get(mine, [])}
        with open(os.path.join(root, path), encoding="utf-8") as f:
            lines = f.read().split("\n")
        for n, line in enumerate(lines, 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            quote, name = m.groups()
            where = f"{path}:{n}"
            if quote == "<":
                if name.startswith("iommusim/"):
                    mod = name[len("iommusim/"):-2]
                    if mod not in pub:
                        errors.append(f"{where}: <{name}> is not a public header")
                        continue
                    target = pub[mod]
                    if target is None and kind in ("lib", "public") and who != "iommusim":
                        errors.append(f"{where}: the umbrella <{name}> is for programs, "
                                      "not the library")
                    elif (kind in ("lib", "test") or (kind == "public" and allowed)) \
                            and target is not None and target not in allowed:
                        errors.append(f"{where}: includes <{name}> of layer '{target}'; "
                                      f"'{mine}' may include only "
                                      f"{', '.join(sorted(allowed))}")
                elif kind == "public" and name not in STD_HEADERS:
                    errors.append(f"{where}: a public header includes <{name}>: only the "
                                  "C standard library and <iommusim/...> are allowed")
                continue
            # A quoted include: config.h, a file beside this one, or lib/<layer>/...
            if name == "config.h":
                if kind in ("public", "program"):
                    errors.append(f"{where}: config.h is the build's, for lib/ and tests/ only")
                continue
            here = os.path.normpath(os.path.join(os.path.dirname(path), name))
            in_lib = os.path.normpath(os.path.join("lib", name))
            in_tests = os.path.normpath(os.path.join("tests", name))
            in_sim = os.path.normpath(os.path.join("sim", name))
            sim_test = path.split(os.sep)[:2] == ["tests", "sim"]
            if kind != "public" and os.path.isfile(os.path.join(root, here)) \
                    and (kind != "lib" or here.startswith("lib" + os.sep)):
                target_path = here
            elif kind != "public" and os.path.isfile(os.path.join(root, in_lib)):
                target_path = in_lib
            elif sim_test and os.path.isfile(os.path.join(root, in_sim)):
                target_path = in_sim  # tests/sim/ tests the CLI's code in sim/
            elif (kind == "test" or sim_test) and os.path.isfile(os.path.join(root, in_tests)):
                target_path = in_tests
            else:
                errors.append(f'{where}: "{name}" is not a header this file may see')
                continue
            tkind, tlayer = role(target_path)
            if tkind == "lib":
                if kind in ("program", "public"):
                    errors.append(f'{where}: "{name}" is internal (lib/); '
                                  "this file sees only the public headers")
                elif tlayer not in allowed:
                    errors.append(f"{where}: includes \"{name}\" of layer '{tlayer}'; "
                                  f"'{mine}' may include only {', '.join(sorted(allowed))}")
            elif kind == "lib":
                errors.append(f'{where}: "{name}" is outside lib/')
    return errors


# Each plant: (file, line to append, what the message must say).
PLANTS = [
    ("lib/base/mem.c", '#include "kernel/iova_int.h"', "layer 'kernel'"),
    ("lib/hw/zpci.c", "#include <iommusim/platform.h>", "layer 'hypervisor'"),
    ("lib/kernel/iova.c", "#include <iommusim/shadow.h>", "layer 'hypervisor'"),
    ("lib/kernel/dma_iommu.c", "#include <iommusim/sim.h>", "layer 'engine'"),
    ("lib/hypervisor/shadow.c", '#include "kernel/iommu_int.h"', "layer 'kernel'"),
    ("lib/engine/sim.c", "#include <iommusim/zpci.h>", "layer 'hw'"),
    ("include/iommusim/zpci.h", "#include <iommusim/run.h>", "layer 'workload'"),
    ("include/iommusim/zpci.h", "#include <urcu.h>", "only the C standard library"),
    ("include/iommusim/iova.h", '#include "config.h"', "config.h"),
    ("lib/kernel/iommu.c", "#include <iommusim/iommusim.h>", "umbrella"),
    ("sim/main.c", '#include "base/util_int.h"', "internal"),
    ("tests/test_api.c", '#include "kernel/iova_int.h"', "internal"),
    ("tests/sim/test_sweep.c", '#include "kernel/iova_int.h"', "internal"),
    ("tests/hw/test_zpci.c", "#include <iommusim/dma_iommu.h>", "layer 'kernel'"),
    ("lib/base/util.c", '#include "missing_int.h"', "not a header this file may see"),
    ("lib/stray.c", "", "directly in lib/"),
    ("lib/extra/new.c", "", "not a layer"),
]


def self_test(root):
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        clean = os.path.join(tmp, "clean")
        for top in ("lib", "include", "tests", "sim"):
            shutil.copytree(os.path.join(root, top), os.path.join(clean, top))
        errs = check(clean)
        if errs:
            print("self-test: the unplanted tree fails:", *errs, sep="\n  ")
            failures += 1
        for i, (path, line, want) in enumerate(PLANTS):
            tree = os.path.join(tmp, f"plant{i}")
            shutil.copytree(clean, tree)
            full = os.path.join(tree, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            text = open(full, encoding="utf-8").read() if os.path.exists(full) else ""
            nline = text.count("\n") + 1
            with open(full, "w", encoding="utf-8") as f:
                f.write(text + line + "\n")
            errs = check(tree)
            where = f"{path}:{nline if line else 1}:"
            hit = [e for e in errs if e.startswith(where) and want in e]
            if hit and len(errs) == 1:
                print(f"ok {i + 1} caught: {hit[0]}")
            else:
                print(f"not ok {i + 1} planted {line or 'a file'} in {path}: want one "
                      f"'{where} ...{want}...', got:", *errs, sep="\n  ")
                failures += 1
            shutil.rmtree(tree)
    print(f"self-test: {failures} failure(s); {len(PLANTS)} plants")
    return 1 if failures else 0


def main(argv):
    args = argv[1:]
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    selftest = bool(args) and args[0] == "--self-test"
    if selftest:
        args = args[1:]
    if len(args) > 1:
        print("usage: check_layers.py [--self-test] [ROOT]", file=sys.stderr)
        return 2
    root = args[0] if args else "."
    if selftest:
        return self_test(root)
    errors = check(root)
    for e in errors:
        print(e)
    if errors:
        print(f"{len(errors)} include(s) break the layering (docs/architecture.md)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
