#!/bin/sh
# SPDX-License-Identifier: MIT
# Outputs that must not change by accident: a few jobs' JSON, byte for byte,
# against the copies stored in tests/data/golden/ (issue 14: work on the
# simulator's speed must leave every result as it was). The version string
# is masked; everything else counts.
#
# usage: test_golden.sh IOMMUSIM          compare
#        test_golden.sh IOMMUSIM --update rewrite the stored copies (after a
#                                         change meant to change results;
#                                         say so in the commit)
set -u
sim=$1
update=${2:-}
root=${IOMMUSIM_SOURCE_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
gold=$root/tests/data/golden
job=$root/tests/data/randread.ini
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"

# name, command...: the command's stdout, version masked, against NAME.json
golden() {
	name=$1
	shift
	if ! "$@" >"$tmp/raw" 2>"$tmp/err"; then
		LAST=$(cat "$tmp/err")
		not_ok "$name runs"
		return
	fi
	sed 's/"version": "[^"]*"/"version": "(masked)"/' "$tmp/raw" >"$tmp/$name.json"
	if [ "$update" = --update ]; then
		cp "$tmp/$name.json" "$gold/$name.json"
		ok "$name: stored"
		return
	fi
	same "$name: the stored output, byte for byte" "$tmp/$name.json" "$gold/$name.json"
}

golden compare_default "$sim" compare --json -q --set runtime=200ms
golden compare_x86 "$sim" compare --json -q --no-ism --platforms x86-vtd,x86-virtio \
	--set runtime=100ms
golden run_kvm_64cpus "$sim" run "$job" --json -q --set cpus=64 --set numjobs=64 \
	--set iodepth=128 --set runtime=20ms
golden run_zvm_percpu "$sim" run "$job" --json -q --platform zvm --policy lazy-percpu \
	--set runtime=200ms
golden run_qemu71_legacy_status16 "$sim" run "$job" --json -q --platform kvm-qemu7.1 \
	--policy legacy --set runtime=2s
tap_end
