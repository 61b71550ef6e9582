#!/bin/sh
# SPDX-License-Identifier: MIT
# The iommusim command line: help, version, the demo, and errors on bad usage.
# usage: test_cli.sh IOMMUSIM
set -u
sim=$1
fails=0
n=0

check() { # name, expected exit status, command...
	name=$1
	want=$2
	shift 2
	n=$((n + 1))
	out=$("$@" 2>&1)
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "not ok $n - $name (exit $got, want $want)"
		printf '%s\n' "$out" | sed 's/^/# /'
		fails=$((fails + 1))
		return 1
	fi
	echo "ok $n - $name"
	LAST=$out
}

expect_text() { # name, text
	n=$((n + 1))
	case $LAST in
	*"$2"*) echo "ok $n - $1" ;;
	*) echo "not ok $n - $1 (no '$2')"; fails=$((fails + 1)) ;;
	esac
}

echo "TAP version 13"
check "help exits 0" 0 "$sim" --help && expect_text "help shows usage" "Usage: iommusim"
check "version exits 0" 0 "$sim" --version && expect_text "version printed" "iommusim 0."
check "demo runs" 0 "$sim" && expect_text "demo shows TV-2" "[0xffffc, 0xffffe]"
expect_text "demo reuses the freed hole" "size 1 again: the hole is reused   [0xfffff, 0xfffff]"
check "unknown option fails" 2 "$sim" --bogus && expect_text "unknown option explained" "Usage:"
check "stray argument fails" 2 "$sim" stray && expect_text "stray argument named" "'stray'"
echo "1..$n"
[ "$fails" -eq 0 ]
