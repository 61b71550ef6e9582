# SPDX-License-Identifier: MIT
# TAP helpers for the shell suites (test_sweep.sh, test_plot.sh, test_bench_ab.sh): source it,
# then call ok/not_ok/check/has/same and end with tap_end.
# Sets n, fails and LAST (the last command's output, shown on a failure).
n=0
fails=0
LAST=

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	[ -n "$LAST" ] && printf '%s\n' "$LAST" | head -20 | sed 's/^/# /'
	fails=$((fails + 1))
}
check() { # name, expected exit status, command... (stdout and stderr in LAST)
	name=$1
	want=$2
	shift 2
	LAST=$("$@" 2>&1)
	got=$?
	if [ "$got" -ne "$want" ]; then
		LAST="exit $got, want $want
$LAST"
		not_ok "$name"
		return 1
	fi
	ok "$name"
}
has() { # name, text that LAST must hold
	case $LAST in
	*"$2"*) ok "$1" ;;
	*) not_ok "$1: no '$2'" ;;
	esac
}
same() { # name, file, file: byte for byte
	if cmp -s "$2" "$3"; then ok "$1"; else
		LAST=$(diff "$2" "$3" | head -10)
		not_ok "$1"
	fi
}
tap_end() { # the plan and the summary; the exit status
	echo "1..$n"
	echo "# $((n - fails)) passed, $fails failed"
	[ "$fails" -eq 0 ]
}
