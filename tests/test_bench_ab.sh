#!/bin/sh
# SPDX-License-Identifier: MIT
# tools/bench_ab.py on two smoke runs of a benchmark: the table names every
# case and orients the ratio; a failing binary is named and fails the run;
# a usage error exits 2.
# usage: test_bench_ab.sh BENCH_AB.py BENCH_BINARY
set -u
ab=$1
bin=$2
. "$(dirname "$0")/tap.sh"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
echo "TAP version 13"

check "two rounds of --smoke" 0 python3 "$ab" "$bin" "$bin" --rounds 2 -- --smoke
has "the default job's LPAR per-CPU case is in the table" "run_lpar_lazy_percpu"
has "the header says which way the ratio points" "higher is better"
check "markdown, a lower-is-better metric" 0 python3 "$ab" "$bin" "$bin" --rounds 1 \
	--metric ns_per_event --markdown -- --smoke
has "a Markdown table" "| case |"
has "ns_per_event is oriented as lower-is-better" "lower is better"
printf '#!/bin/sh\nexit 3\n' >"$tmp/fails"
chmod +x "$tmp/fails"
check "a failing B fails the comparison" 1 python3 "$ab" "$bin" "$tmp/fails" --rounds 1 -- --smoke
has "and is named with its status" "exited with status 3"
check "no binaries: a usage error" 2 python3 "$ab"
tap_end
