#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The ABI gate can fail (docs/abi.md): tools/abi-check, run on a scratch clone
# of this checkout tagged as a release, must
#   1. pass an unchanged tree;
#   2. fail a field inserted in the middle of a public struct;
#   3. pass a reserved member given a meaning with IOMMUSIM_ABI_USE, plus a
#      new function in a new version node;
#   4. fail the same new function left in the released node;
#   5. fail a removed function.
# usage: tests/abi_check_selftest.sh (from anywhere; needs git, meson, abigail-tools)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/abi-selftest.XXXXXX")
trap 'rm -rf "$work"' EXIT
export ABI_CHECK_JOBS=${ABI_CHECK_JOBS:-2}

# The checkout as it is (uncommitted changes included), committed and
# tagged v0.1.0 in a scratch repository.
git clone -q --no-local "$root" "$work/src"
(cd "$root" && git diff HEAD --binary) | (cd "$work/src" && git apply --allow-empty --whitespace=nowarn)
(cd "$root" && git ls-files --others --exclude-standard -z) |
	(cd "$root" && xargs -0 -r cp --parents -t "$work/src")
cd "$work/src"
git -c user.name=selftest -c user.email=selftest@invalid add -A
git -c user.name=selftest -c user.email=selftest@invalid commit -q --allow-empty -m baseline
git tag -f v0.1.0 >/dev/null

passed=0
failed=0
expect() { # want (0 or 1), name
	local want=$1 name=$2 rc=0
	tools/abi-check >"$work/log" 2>&1 || rc=$?
	if [ "$rc" -eq "$want" ]; then
		echo "ok: $name (abi-check exit $rc)"
		passed=$((passed + 1))
	else
		echo "FAILED: $name: abi-check exit $rc, expected $want"
		sed 's/^/    /' "$work/log" | tail -n 40
		failed=$((failed + 1))
	fi
	git checkout -q -- .
}

expect 0 "an unchanged tree passes"

python3 - <<'PY'
p = "include/iommusim/stack.h"
s = open(p).read()
old = "\tunsigned nfns;"
assert old in s
s = s.replace(old, "\tunsigned inserted;\n" + old, 1)
open(p, "w").write(s)
PY
expect 1 "a field inserted in the middle of struct iommusim_stack_cfg fails"

add_function() { # version node for it, or "" for the released one
	python3 - "$1" <<'PY'
import sys
node = sys.argv[1]
p = "include/iommusim/stack.h"
s = open(p).read()
decl = "IOMMUSIM_API void iommusim_stack_destroy(struct iommusim_stack *st);"
assert decl in s
s = s.replace(decl, decl + "\nIOMMUSIM_API int iommusim_stack_selftest_added(void);", 1)
open(p, "w").write(s)
with open("lib/workload/stack.c", "a") as f:
    f.write("\nint\niommusim_stack_selftest_added(void)\n{\n\treturn 0;\n}\n")
if node:
    with open("lib/libiommusim.map", "a") as f:
        f.write("\n%s {\nglobal:\n\tiommusim_stack_selftest_added;\n} LIBIOMMUSIM_0.1;\n" % node)
PY
}

python3 - <<'PY'
p = "include/iommusim/stack.h"
s = open(p).read()
i = s.index("struct iommusim_stack_cfg {")
old = "uint64_t reserved0, reserved1, reserved2, reserved3;"
j = s.index(old, i)
s = s[:j] + "IOMMUSIM_ABI_USE(0, uint32_t selftest_a; uint32_t selftest_b;);\n\tuint64_t reserved1, reserved2, reserved3;" + s[j + len(old):]
open(p, "w").write(s)
PY
add_function LIBIOMMUSIM_0.2
expect 0 "a reserved member used through IOMMUSIM_ABI_USE and a function in a new node pass"

add_function ""
expect 1 "a new function bound to the released version node fails"

python3 - <<'PY'
import re
p = "include/iommusim/stack.h"
s = open(p).read()
s, n = re.subn(r"IOMMUSIM_API struct iommusim_ism \*iommusim_stack_ism\([^;]*;", "", s, count=1)
assert n == 1
open(p, "w").write(s)
p = "lib/workload/stack.c"
s = open(p).read()
s, n = re.subn(r"\nstruct iommusim_ism \*\niommusim_stack_ism\(.*?\n\}\n", "\n", s, count=1, flags=re.S)
assert n == 1
open(p, "w").write(s)
PY
expect 1 "a removed function fails"

echo "abi-check self-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
