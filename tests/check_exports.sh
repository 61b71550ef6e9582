#!/bin/sh
# SPDX-License-Identifier: MIT
# The shared library must export iommusim_ symbols and nothing else of ours.
# usage: check_exports.sh NM LIBRARY
set -eu
nm_bin=$1
lib=$2
syms=$("$nm_bin" -D --defined-only "$lib" | awk '$2 ~ /^[TDRBV]$/ { print $3 }')
bad=$(printf '%s\n' "$syms" | grep -v -E '^(iommusim_|_init$|_fini$|_edata$|_end$|__bss_start$)' || true)
if [ -n "$bad" ]; then
	echo "unexpected exported symbols in $lib:" >&2
	printf '  %s\n' $bad >&2
	exit 1
fi
count=$(printf '%s\n' "$syms" | grep -c '^iommusim_' || true)
if [ "$count" -lt 10 ]; then
	echo "only $count iommusim_ symbols exported from $lib" >&2
	exit 1
fi
echo "$count iommusim_ symbols exported, nothing else"
