#!/bin/sh
# SPDX-License-Identifier: MIT
# Allocation failures inside the dependencies (docs/reliability.md): with
# tests/faultmalloc.c preloaded, fail the Nth allocation a library makes, for
# every N, once and from N on, under each command that uses it; each run must
# either print exactly the reference output with exit 0, or exit non-zero
# with a message on stderr. Libraries that make no allocation on these paths
# (inih and liburcu, as Debian 12 builds them) are counted and reported.
# usage: test_dep_faults.sh IOMMUSIM FAULTMALLOC.so JOB.ini
set -u
sim=$1
shim=$2
job=$3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0

echo "TAP version 13"

# same_shape REF OUT: the same JSON lines with the same keys (outputs that
# vary run to run, as stress's figures do)
same_shape() {
	python3 - "$1" "$2" <<'PY'
import json, sys
def keys(o, p=""):
    if isinstance(o, dict):
        return sorted((p + k, *keys(v, p + k + ".")) for k, v in o.items())
    return []
a = [keys(json.loads(l)) for l in open(sys.argv[1])]
b = [keys(json.loads(l)) for l in open(sys.argv[2])]
sys.exit(0 if a == b else 1)
PY
}

# run_case name lib command...: every N, once and persistent
run_case() {
	name=$1
	lib=$2
	shift 2
	n=$((n + 1))
	if ! "$@" >"$tmp/ref" 2>"$tmp/referr"; then
		echo "not ok $n - $name: the reference run failed"
		sed 's/^/# /' "$tmp/referr" | head -5
		fails=$((fails + 1))
		return
	fi
	LD_PRELOAD=$shim FAULTMALLOC_LIB=$lib FAULTMALLOC_REPORT=$tmp/count "$@" >/dev/null 2>&1
	total=$(cut -d' ' -f1 "$tmp/count")
	bad=0
	k=1
	while [ "$k" -le "$((total + 1))" ]; do
		for persist in 0 1; do
			LD_PRELOAD=$shim FAULTMALLOC_LIB=$lib FAULTMALLOC_NTH=$k \
				FAULTMALLOC_PERSIST=$persist "$@" >"$tmp/out" 2>"$tmp/err"
			rc=$?
			if [ "$rc" -eq 0 ] && ! cmp -s "$tmp/out" "$tmp/ref" &&
				{ [ -z "${SHAPE_ONLY:-}" ] || ! same_shape "$tmp/ref" "$tmp/out" 2>/dev/null; }; then
				[ "$bad" -lt 5 ] &&
					echo "# $name: failing $lib allocation $k (persist $persist): exit 0, different output"
				bad=$((bad + 1))
			elif [ "$rc" -ne 0 ] && [ ! -s "$tmp/err" ]; then
				[ "$bad" -lt 5 ] &&
					echo "# $name: failing $lib allocation $k (persist $persist): exit $rc, no message"
				bad=$((bad + 1))
			elif [ "$rc" -gt 2 ]; then
				[ "$bad" -lt 5 ] &&
					echo "# $name: failing $lib allocation $k (persist $persist): exit $rc (a crash?)"
				bad=$((bad + 1))
			fi
		done
		k=$((k + 1))
	done
	if [ "$bad" -eq 0 ]; then
		echo "ok $n - $name: $total $lib allocations, each failed once and from there on"
	else
		echo "not ok $n - $name: $bad bad outcomes over $total $lib allocations"
		fails=$((fails + 1))
	fi
}

short="--set=runtime=5ms"
run_case "run --json" libjansson "$sim" run "$job" --json $short
run_case "compare --json" libjansson "$sim" compare --json $short --platforms kvm \
	--policies legacy,lazy-single --no-ism
run_case "keys --json" libjansson "$sim" keys --json bs fq_size hz
SHAPE_ONLY=1 run_case "stress --json" libjansson "$sim" stress --json --duration 1ms \
	--threads 1 --policy strict
unset SHAPE_ONLY
run_case "run (job file, inih)" libinih "$sim" run "$job" $short
run_case "run (liburcu)" liburcu "$sim" run "$job" $short

# Threads that cannot be created: a sweep goes on with those it started,
# gives the rows -j 1 gives, and says how many ran.
n=$((n + 1))
sweep="$sim sweep fq_size=256,1024,4096 --set=runtime=2ms -q"
if $sweep -j 1 >"$tmp/ref" 2>/dev/null &&
	LD_PRELOAD=$shim FAULTMALLOC_THREADS=1 $sweep -j 3 >"$tmp/out" 2>"$tmp/err"; then
	if cmp -s "$tmp/ref" "$tmp/out" && grep -q 'warning: -j 3: only 1 thread could be started' "$tmp/err"; then
		echo "ok $n - sweep -j 3 with one thread startable: -j 1's rows, and says so"
	else
		echo "not ok $n - sweep -j 3 with one thread startable: other rows or no notice"
		sed 's/^/# /' "$tmp/err" | head -5
		fails=$((fails + 1))
	fi
else
	echo "not ok $n - sweep -j 3 with one thread startable: it failed"
	sed 's/^/# /' "$tmp/err" | head -5
	fails=$((fails + 1))
fi

echo "1..$n"
[ "$fails" -eq 0 ]
