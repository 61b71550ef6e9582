#!/bin/sh
# SPDX-License-Identifier: MIT
# The iommusim command line: help, version, the demo, profiles, run and
# compare with text, JSON and CSV output, --set, determinism, and errors on
# bad usage and bad job files.
# usage: test_cli.sh IOMMUSIM
set -u
sim=$1
fails=0
n=0
LAST=
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Short simulated runs keep the suite quick; the costs are the profiles'.
short="--set=runtime=20ms"

check() { # name, expected exit status, command... (stdout and stderr in LAST)
	name=$1
	want=$2
	shift 2
	n=$((n + 1))
	LAST=$("$@" 2>&1)
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "not ok $n - $name (exit $got, want $want)"
		printf '%s\n' "$LAST" | head -20 | sed 's/^/# /'
		fails=$((fails + 1))
		return 1
	fi
	echo "ok $n - $name"
}

check_out() { # name, expected exit status, command... (stdout only in LAST; stderr apart)
	name=$1
	want=$2
	shift 2
	n=$((n + 1))
	LAST=$("$@" 2>"$tmp/stderr")
	got=$?
	if [ "$got" -ne "$want" ]; then
		echo "not ok $n - $name (exit $got, want $want)"
		sed 's/^/# /' "$tmp/stderr" | head -20
		fails=$((fails + 1))
		return 1
	fi
	echo "ok $n - $name"
}

expect_text() { # name, text
	n=$((n + 1))
	case $LAST in
	*"$2"*) echo "ok $n - $1" ;;
	*)
		echo "not ok $n - $1 (no '$2')"
		printf '%s\n' "$LAST" | head -20 | sed 's/^/# /'
		fails=$((fails + 1))
		;;
	esac
}

expect_py() { # name, python expression over d (the JSON in LAST)
	n=$((n + 1))
	if printf '%s\n' "$LAST" | python3 -c "
import json, sys
d = json.load(sys.stdin)
sys.exit(0 if ($2) else 1)" 2>"$tmp/py"; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1 ($2)"
		sed 's/^/# /' "$tmp/py" | tail -5
		fails=$((fails + 1))
	fi
}

echo "TAP version 13"

# ---- top level --------------------------------------------------------------
check "help exits 0" 0 "$sim" --help && expect_text "help shows usage" "Usage: iommusim"
expect_text "help lists compare" "compare"
check "version exits 0" 0 "$sim" --version && expect_text "version printed" "iommusim 0."
check "unknown option fails" 2 "$sim" --bogus && expect_text "unknown option explained: options without a command are compare's" "Try 'iommusim compare --help'"
check "stray argument fails" 2 "$sim" stray && expect_text "stray argument named" "'stray'"

# ---- demo -------------------------------------------------------------------
check "demo runs" 0 "$sim" demo && expect_text "demo shows TV-2" "[0xffffc, 0xffffe]"
expect_text "demo reuses the freed hole" "size 1 again: the hole is reused   [0xfffff, 0xfffff]"
check "demo rejects arguments" 2 "$sim" demo extra

# ---- every command's --help -------------------------------------------------
for cmd in run compare profile script demo keys stress; do
	check "$cmd --help exits 0" 0 "$sim" "$cmd" --help &&
		expect_text "$cmd --help shows usage" "Usage: iommusim $cmd"
done
check "run -h exits 0" 0 "$sim" run -h && expect_text "run -h lists --set" "--set"
check "compare --help lists --platforms" 0 "$sim" compare --help &&
	expect_text "compare --help lists --policies" "--policies"
check "profile show --help exits 0" 0 "$sim" profile show --help

# ---- profile ----------------------------------------------------------------
check "profile list" 0 "$sim" profile list && expect_text "profile list has lpar" "lpar"
expect_text "profile list has zvm" "zvm"
expect_text "profile list has kvm" "kvm"
expect_text "profile list describes" "KVM guest"
check "profile show kvm" 0 "$sim" profile show kvm && expect_text "show names keys" "shadow_limit"
expect_text "show names the profile" "# profile kvm"
check "profile show --set" 0 "$sim" profile show zvm --set global_base=12345 &&
	expect_text "--set shows in the profile" "12345"
check "profile show unknown platform" 2 "$sim" profile show nope &&
	expect_text "unknown platform named" "'nope'"
check "profile show unknown key" 2 "$sim" profile show kvm --set nokey=1 &&
	expect_text "unknown profile key named" "'nokey'"
check "profile show bad value" 2 "$sim" profile show kvm --set shadow_limit=lots
check "profile without subcommand" 2 "$sim" profile
check "profile unknown subcommand" 2 "$sim" profile frob && expect_text "subcommand named" "'frob'"

# ---- keys -------------------------------------------------------------------
check "keys" 0 "$sim" keys && expect_text "keys: a job key with its range" "iodepth             "
expect_text "keys: a profile key" "walk_per_lookup"
expect_text "keys: memory's multiple" "64m..4t, a multiple of 4k"
check_out "keys --json" 0 "$sim" keys --json fq_size
expect_py "keys --json: fq_size's row" 'd["scope"] == "policy" and d["type"] == "count" and d["range"] == "2..16777216, a power of two"'
check "keys unknown key" 2 "$sim" keys nokey && expect_text "keys: unknown key named" "unknown key 'nokey'"
# docs/keys.md carries the table; it must be what the binary prints.
keys_doc=$(dirname "$0")/../docs/keys.md
n=$((n + 1))
if "$sim" keys --markdown >"$tmp/keys.md" &&
	sed -n '/^| key | scope/,/^<!-- end of the table -->/p' "$keys_doc" | sed '$d' |
	diff -u - "$tmp/keys.md" >"$tmp/keys.diff"; then
	echo "ok $n - docs/keys.md is iommusim keys --markdown"
else
	echo "not ok $n - docs/keys.md differs from iommusim keys --markdown (regenerate it)"
	head -20 "$tmp/keys.diff" | sed 's/^/# /'
	fails=$((fails + 1))
fi
# One table for every reader: the same key, the same message.
check "compare --set names the key's range" 2 "$sim" compare --set hz=100001 &&
	expect_text "--set: the row's hint" "bad value '100001' for hz (a number from 0 to 100000)"
check "profile show --set names the key's range" 2 "$sim" profile show kvm --set irq=sometimes &&
	expect_text "profile --set: the row's hint" "bad value 'sometimes' for irq (submitting, floating or directed)"
check "--seed reads by the seed row" 2 "$sim" compare --seed 9223372036854775808 &&
	expect_text "--seed: the row's hint" "bad value '9223372036854775808' for seed (a number from 0 to 2^63-1)"

# ---- script --check ----------------------------------------------------------
examples=$(dirname "$0")/../docs/examples
check "script --check the examples" 0 "$sim" script --check "$examples"/*.sim &&
	expect_text "script --check: checked" "strict_ranged_rpcit.sim: checked"
printf 'mapp x\n' >"$tmp/bad.sim"
check "script --check a bad script" 2 "$sim" script --check "$tmp/bad.sim" &&
	expect_text "script --check: the place" "bad.sim:1: unknown statement 'mapp'"

check "script - reads stdin" 0 sh -c "\"\$0\" script - < \"\$1\"" "$sim" "$examples/strict_ranged_rpcit.sim" &&
	expect_text "stdin: its name" "<stdin>: 12 expectations passed"
check "script - with an error" 2 sh -c "printf 'mapp\\n' | \"\$0\" script -" "$sim" &&
	expect_text "stdin: the place" "<stdin>:1: unknown statement 'mapp'"

# ---- script --tap / --tap-flat / --junit -----------------------------------------
fails_dir=$(dirname "$0")/workload/scenario/fail
check_out "script --tap" 1 "$sim" script --tap "$examples/strict_ranged_rpcit.sim" \
	"$fails_dir/wrong_expectation.sim"
n=$((n + 1))
if printf '%s\n' "$LAST" | python3 -c "
import sys
lines = sys.stdin.read().splitlines()
assert lines[0] == 'KTAP version 1' and lines[1] == '1..2', lines[:2]
assert '    # Subtest: ' in lines[3] and lines[4] == '    1..12', lines[3:5]
assert sum(l.startswith('    ok ') for l in lines) == 12
assert any(l.startswith('ok 1 ') for l in lines)
assert any(l.startswith('    not ok 1 ') and 'wrong_expectation.sim:11 expect' in l for l in lines)
assert '    # expected \"d1.Global RPCITs\" == 4, got 3' in lines, lines
assert lines[-1].startswith('not ok 2 ')
"; then echo "ok $n - script --tap: KTAP, a subtest per file, a result per expectation"; else
	echo "not ok $n - script --tap output"; fails=$((fails + 1)); fi
check_out "script --tap-flat" 2 "$sim" script --tap-flat "$examples/strict_ranged_rpcit.sim" \
	"$fails_dir/syntax_error.sim"
expect_text "tap-flat: the plan" "TAP version 13
1..13"
expect_text "tap-flat: what stopped a script" "not ok 13 "
check "script --junit" 1 "$sim" script --quiet --junit "$tmp/j.xml" "$examples/strict_ranged_rpcit.sim" \
	"$fails_dir/wrong_expectation.sim"
n=$((n + 1))
if python3 -c "
import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
assert r.tag == 'testsuites' and r.get('tests') == '13' and r.get('failures') == '1', r.attrib
s = r.findall('testsuite')
assert len(s) == 2 and s[1].find('testcase/failure').get('message').startswith('expected')
" "$tmp/j.xml"; then echo "ok $n - script --junit: valid JUnit XML"; else
	echo "not ok $n - script --junit XML"; fails=$((fails + 1)); fi
check "script --tap with --check" 2 "$sim" script --check --tap "$examples/strict_ranged_rpcit.sim"

check_out "compare: the ISM check takes the job's DMBs" 0 "$sim" compare --platforms lpar \
	--policies kernel --set ism_dmbs=2 --set ism_dmb_size=64k $short --json -q
expect_py "ISM check on the job's DMBs" 'all(c["run"]["job"]["ism_dmbs"] == 2 and c["run"]["job"]["ism_dmb_size"] == 65536 for c in d["ism_checks"])'

check_out "run --json: the queue in force" 0 "$sim" run "$(dirname "$0")/data/randread.ini" --json $short --set fq_size=1024
expect_py "fq_in_force" 'd["fq_in_force"] == {"size": 1024, "timeout_ms": d["fq_in_force"]["timeout_ms"]} and d["fq_in_force"]["timeout_ms"] > 0'
check "compare footer: the queues in force" 0 "$sim" compare --platforms lpar --no-ism $short --set fq_size=64 -q &&
	expect_text "footer sizes" "per-CPU flush queues (64 entries, 10 ms) or one queue (64 entries, 1000 ms)"

check "compare warns of a timer that never fires" 0 "$sim" compare --platforms lpar --policies lazy-single \
	--no-ism --set runtime=200ms -q &&
	expect_text "timer warning" "warning: lpar lazy-single: the flush-queue timeout (1000 ms) is longer than the run"
check "run warns of x86 on the s390 path" 0 "$sim" run "$(dirname "$0")/data/randread.ini" $short \
	--platform x86-vtd -q &&
	expect_text "x86 warning" "warning: x86-vtd runs through the s390 driver"

# ---- --fail-on gates --------------------------------------------------------------
printf '[global]\nplatform=lpar\npolicy=lazy-percpu\nism_force_fq=1\n[ism]\nworkload=ism\nruntime=1100ms\n' >"$tmp/ism.ini"
check "run --fail-on ism-exposure trips" 3 "$sim" run "$tmp/ism.ini" --fail-on ism-exposure &&
	expect_text "gate named" "--fail-on ism-exposure: lpar lazy-percpu:"
check "run --fail-on, nothing trips" 0 "$sim" run "$tmp/ism.ini" --set ism_force_fq=0 \
	--fail-on ism-exposure,status16,map-errors
check "run --fail-on downgraded" 3 "$sim" run "$tmp/ism.ini" --set ism_force_fq=0 --fail-on downgraded &&
	expect_text "downgrade named" "--fail-on downgraded: lpar lazy-percpu: ran DMA: no deferred flush"
check "compare --fail-on exposure-p99" 3 "$sim" compare --platforms lpar --policies lazy-percpu \
	--no-ism $short --fail-on 'exposure-p99>1us' -q &&
	expect_text "p99 gate named" "--fail-on exposure-p99>1"
# the forced-queue check exposes by 512 ms on lpar, and must not trip the gate
check "compare --fail-on ism-exposure spares the forced check" 0 "$sim" compare --platforms lpar \
	--policies kernel --set runtime=700ms --fail-on ism-exposure -q &&
	expect_text "the forced check did expose" "ISM (forced flush queue): caught at"
check "bad gate" 2 "$sim" run "$tmp/ism.ini" --fail-on bogus && expect_text "bad gate named" "unknown gate 'bogus'"
check "bad p99 time" 2 "$sim" run "$tmp/ism.ini" --fail-on 'exposure-p99>5' &&
	expect_text "p99 wants a unit" "wants a time with a unit"

# ---- --cmdline: the kernel's boot parameters ---------------------------------------
rr="$(dirname "$0")/data/randread.ini"
check "run --cmdline iommu.strict=1" 0 "$sim" run "$rr" $short --policy kernel -q \
	--cmdline "iommu.strict=1 root=/dev/dasda1" &&
	expect_text "strict with its reason" "domain DMA (iommu.strict=1)" &&
	expect_text "ignored parameter named" "1 boot parameter outside the IOMMU code ignored (the first: root=/dev/dasda1)"
check "run --cmdline passthrough falls back" 3 "$sim" run "$rr" $short --policy kernel -q \
	--cmdline iommu.passthrough=1 --fail-on downgraded &&
	expect_text "fallback named" "ran DMA: no identity domain: fell back to DMA"
check_out "run --cmdline passthrough with rtr_avail" 0 "$sim" run "$rr" $short --policy kernel -q \
	--set rtr_avail=1 --cmdline iommu.passthrough=1 --json &&
	expect_py "identity in JSON" 'd["domain"] == "identity" and d["domain_reason"] == "iommu.passthrough=1" and d["cmdline"] == "iommu.passthrough=1"'
check "run --cmdline typo" 2 "$sim" run "$rr" $short --cmdline iommu.strcit=1 &&
	expect_text "typo named" "iommu.strcit: not a kernel parameter"
check "run --cmdline bad boolean" 2 "$sim" run "$rr" $short --cmdline iommu.strict=maybe &&
	expect_text "kernel outcome said" "Malformed early option"
check "run --cmdline with a lazy policy" 1 "$sim" run "$rr" $short --policy lazy-single -q \
	--cmdline iommu.strict=1 &&
	expect_text "combination refused" "use it with the policy kernel or legacy, not lazy-single"

# ---- bash completion --------------------------------------------------------------
if command -v bash >/dev/null; then
	n=$((n + 1))
	got=$(PATH="$(dirname "$sim"):$PATH" bash -c '
		. "$1"
		complete_at() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _iommusim; echo "${COMPREPLY[*]}"; }
		complete_at iommusim st
		complete_at iommusim run --platform kv
		complete_at iommusim compare --set shadow_l
		complete_at iommusim stress --policy lazy-s
		complete_at iommusim script --t
		complete_at iommusim sw
		complete_at iommusim sweep fq_ti
		complete_at iommusim sweep --form
		complete_at iommusim plot --no
	' sh "$(dirname "$0")/../sim/iommusim.bash")
	want="stress
kvm kvm-qemu7.1
shadow_limit=
lazy-single
--tap --tap-flat
sweep
fq_timeout=
--format
--no-render"
	if [ "$got" = "$want" ]; then
		echo "ok $n - bash completion: commands, platforms, keys, policies, options"
	else
		echo "not ok $n - bash completion"
		printf '%s\n' "$got" | sed 's/^/# /'
		fails=$((fails + 1))
	fi
fi

# ---- stress -----------------------------------------------------------------
check_out "stress --json" 0 "$sim" stress --duration 50ms --threads 2 --policy lazy-single,strict --json
n=$((n + 1))
if [ "$(printf '%s\n' "$LAST" | wc -l)" -eq 2 ] && printf '%s\n' "$LAST" | python3 -c "
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert [r['policy'] for r in rows] == ['lazy-single', 'strict'], rows
assert all(r['passed'] and r['checks']['lazy_reuse_violations'] == 0 for r in rows)
assert rows[1]['strict_syncs'] == rows[1]['unmaps']
"; then
	echo "ok $n - stress --json: two policies, both passed"
else
	echo "not ok $n - stress --json output"
	fails=$((fails + 1))
fi
check "stress text" 0 "$sim" stress --duration 20ms --threads 1 --policy lazy-percpu &&
	expect_text "stress: the table" "lazy-percpu        1"
check "stress bad policy" 2 "$sim" stress --policy lazy && expect_text "stress: policy named" "unknown policy 'lazy'"
check "stress bad threads" 2 "$sim" stress --threads 0 && expect_text "stress: threads range" "1 to 256"
check "stress bad duration" 2 "$sim" stress --duration 2h
check "stress bad fq-size" 2 "$sim" stress --fq-size 100 && expect_text "stress: the fq_size row" "a power of two"
check "stress stray argument" 2 "$sim" stress extra

# ---- job files ----------------------------------------------------------------
cat >"$tmp/job.ini" <<'EOF'
; 4 KiB random reads under KVM
[global]
platform=kvm
policy=lazy-single
seed=42

[randread]
rw=randread
bs=4k
iodepth=8
numjobs=2
runtime=20ms

[platform]
shadow_limit=65535
EOF
cat >"$tmp/bad.ini" <<'EOF'
[global]
platform=kvm

[randread]
bss=4k
EOF
cat >"$tmp/badvalue.ini" <<'EOF'
[randread]
rw=randread
iodepth=fast
EOF

# ---- usage errors -------------------------------------------------------------
check "run without a job file" 2 "$sim" run && expect_text "missing file explained" "job file"
check "run unknown option" 2 "$sim" run "$tmp/job.ini" --bogus &&
	expect_text "unknown option named" "bogus"
check "run bad seed" 2 "$sim" run "$tmp/job.ini" --seed abc && expect_text "bad seed named" "'abc'"
check "run unknown policy" 2 "$sim" run "$tmp/job.ini" --policy nope &&
	expect_text "unknown policy named" "'nope'"
check "run unknown platform" 2 "$sim" run "$tmp/job.ini" --platform nope &&
	expect_text "unknown platform named" "'nope'"
check "run --fq-size not a power of two" 2 "$sim" run "$tmp/job.ini" --fq-size 1000
check "run --fq-timeout not whole ms" 2 "$sim" run "$tmp/job.ini" --fq-timeout 1.5ms &&
	expect_text "fq-timeout names its rule" "whole ms"
check "run --seed with a sign" 2 "$sim" run "$tmp/job.ini" --seed " -1"
check "run --set with a sign" 2 "$sim" run "$tmp/job.ini" --set "global_base= -1" &&
	expect_text "signed value named" "' -1'"
check "run --set clock beyond the engine" 2 "$sim" run "$tmp/job.ini" --set clock_ghz=2e6
check "run --json and --csv" 2 "$sim" run "$tmp/job.ini" --json --csv
check "run two job files" 2 "$sim" run "$tmp/job.ini" "$tmp/job.ini"
check "run unknown --set key" 2 "$sim" run "$tmp/job.ini" --set nokey=1 &&
	expect_text "unknown --set key named" "unknown key 'nokey'"
check "run --set without =" 2 "$sim" run "$tmp/job.ini" --set iodepth
check "run --set bad job value" 2 "$sim" run "$tmp/job.ini" --set iodepth=fast &&
	expect_text "bad --set value named" "fast"
check "run --set bad profile value" 2 "$sim" run "$tmp/job.ini" --set shadow_limit=lots
check "compare unknown platform" 2 "$sim" compare --platforms lpar,nope &&
	expect_text "compare names the platform" "'nope'"
check "compare unknown policy" 2 "$sim" compare --policies legacy,nope &&
	expect_text "compare names the policy" "'nope'"
check "compare unknown --set key" 2 "$sim" compare --set nokey=1
check "compare unknown option" 2 "$sim" compare --bogus

# ---- bad job files --------------------------------------------------------------
check "missing job file" 2 "$sim" run "$tmp/none.ini" && expect_text "missing file named" "$tmp/none.ini"
check "malformed job file" 2 "$sim" run "$tmp/bad.ini" &&
	expect_text "malformed file has FILE:LINE" "$tmp/bad.ini:5:"
expect_text "malformed file names the key" "bss"
check "bad value in job file" 2 "$sim" run "$tmp/badvalue.ini" &&
	expect_text "bad value has FILE:LINE" "$tmp/badvalue.ini:3:"
check "compare with a malformed job file" 2 "$sim" compare "$tmp/bad.ini" &&
	expect_text "compare: FILE:LINE" "$tmp/bad.ini:5:"

# ---- run ------------------------------------------------------------------------
check_out "run text" 0 "$sim" run "$tmp/job.ini" -q && expect_text "text names the job" "job randread on kvm"
expect_text "text has IOPS" "IOPS"
expect_text "text has the debugfs counters" "Global RPCITs:"
expect_text "text has Sync Map RPCITs" "Sync Map RPCITs:"
expect_text "text prints the seed" "seed 42"

check_out "run --json" 0 "$sim" run "$tmp/job.ini" --json
json1=$LAST
expect_py "JSON schema 2" 'd["schema"] == 2'
expect_py "JSON addresses are hex strings" 'd["ism_first_iova"].startswith("0x") and d["ism_first_rpcit_addr"].startswith("0x")'
expect_py "JSON has the result fields" 'all(k in d for k in ("platform", "policy", "seed", "sim_ns", "ios", "bytes", "iops", "bytes_per_s", "cpu_cycles_per_io", "cycles_per_io", "cpu_utilisation", "latency", "exposure", "mapped_pages", "unmapped_pages", "global_rpcits", "sync_map_rpcits", "sync_rpcits", "legacy_global_rpcits", "rpcits", "status16", "enomem_recoveries", "map_errors", "max_shadow_entries", "fq_max_entries", "fq_max_pages", "hv_busy_ns", "ism_events", "ism_first_event_ns", "ism_first_iova", "ism_first_rpcit_addr", "ism_first_rpcit_len", "ism_first_reason"))'
expect_py "JSON latency percentiles" 'all(k in d["latency"] for k in ("count", "min", "max", "mean", "p50", "p90", "p99", "p999"))'
expect_py "JSON exposure percentiles" 'all(k in d["exposure"] for k in ("count", "p50", "p99", "p999"))'
expect_py "JSON cycles by component" 'all(k in d["cycles_per_io"] for k in ("io", "alloc", "pte", "map_sync", "unmap_sync", "flush", "queue", "copy", "other"))'
expect_py "JSON job, profile and policy options" 'd["job"]["bs"] == 4096 and d["job"]["iodepth"] == 8 and d["profile"]["name"] == "kvm" and "fq_size" in d["policy_options"]'
expect_py "platform, policy and seed from the file" 'd["platform"] == "kvm" and d["policy"] == "lazy-single" and d["seed"] == 42'
expect_py "the file's [platform] override" 'd["profile"]["shadow_limit"] == 65535'
expect_py "I/Os completed" 'd["ios"] > 0 and d["iops"] > 0 and d["latency"]["count"] > 0'
expect_py "fio-like subset" 'd["fio"]["jobs"][0]["read"]["iops"] == d["iops"]'
n=$((n + 1))
# (the one line allowed: the warning that a 20 ms run never sees the 1 s timer fire)
if grep -v "its timer never fires" "$tmp/stderr" | grep -q .; then
	echo "not ok $n - nothing on stderr for a short non-terminal run"
	fails=$((fails + 1))
else
	echo "ok $n - nothing on stderr for a short non-terminal run"
fi

check_out "run --json again" 0 "$sim" run "$tmp/job.ini" --json
n=$((n + 1))
if [ "$LAST" = "$json1" ]; then
	echo "ok $n - the same run twice gives identical JSON"
else
	echo "not ok $n - the same run twice gives different JSON"
	fails=$((fails + 1))
fi

check_out "run --set job and profile keys" 0 "$sim" run "$tmp/job.ini" --json \
	--set bs=16k --set shadow_limit=4096 --set global_base=90000
expect_py "--set job key" 'd["job"]["bs"] == 16384 and d["bytes"] == 16384 * d["ios"]'
expect_py "--set profile key after the file" 'd["profile"]["shadow_limit"] == 4096 and d["profile"]["global_base"] == 90000'

check_out "run options override the file" 0 "$sim" run "$tmp/job.ini" --json \
	--platform zvm --policy strict --seed 7
expect_py "--platform, --policy and --seed win" 'd["platform"] == "zvm" and d["policy"] == "strict" and d["seed"] == 7'
check_out "run --fq-size and --fq-timeout" 0 "$sim" run "$tmp/job.ini" --json \
	--fq-size 1024 --fq-timeout 5
expect_py "flush-queue overrides recorded" 'd["policy_options"]["fq_size"] == 1024 and d["policy_options"]["fq_timeout_ms"] == 5'
check_out "run --set queue keys" 0 "$sim" run "$tmp/job.ini" --json \
	--set fq_size=1024 --set fq_timeout=20ms
expect_py "--set fq_size and fq_timeout" 'd["policy_options"]["fq_size"] == 1024 and d["policy_options"]["fq_timeout_ms"] == 20'
check_out "--fq-size wins over --set fq_size" 0 "$sim" run "$tmp/job.ini" --json \
	--fq-size 64 --set fq_size=1024
expect_py "the option wins" 'd["policy_options"]["fq_size"] == 64'
check "run --set bad fq_size" 2 "$sim" run "$tmp/job.ini" --set fq_size=1000 &&
	expect_text "bad fq_size named" "'1000'"
check_out "one grammar for options, --set and files" 0 "$sim" run "$tmp/job.ini" --json \
	--fq-timeout 2000us --set ism_force_fq=yes --set iodepth=0x8 --seed 1e1
expect_py "the forms read alike" 'd["policy_options"]["fq_timeout_ms"] == 2 and d["policy_options"]["ism_force_fq"] and d["job"]["iodepth"] == 8 and d["seed"] == 10'
check_out "run another seed" 0 "$sim" run "$tmp/job.ini" --json --seed 8
expect_py "the seed is reported" 'd["seed"] == 8'

check_out "run --csv" 0 "$sim" run "$tmp/job.ini" --csv
expect_text "CSV header" "job,workload,rw,bs,"
n=$((n + 1))
if [ "$(printf '%s\n' "$LAST" | wc -l)" -eq 2 ] &&
	printf '%s\n' "$LAST" | python3 -c '
import csv, sys
rows = list(csv.reader(sys.stdin))
sys.exit(0 if len(rows) == 2 and len(rows[0]) == len(rows[1]) and rows[1][rows[0].index("platform")] == "kvm" else 1)'; then
	echo "ok $n - CSV: a header and one row of the same width"
else
	echo "not ok $n - CSV: a header and one row of the same width"
	fails=$((fails + 1))
fi

# ---- compare ------------------------------------------------------------------
check_out "compare text" 0 "$sim" compare -q --platforms lpar,kvm --policies legacy,lazy-percpu "$short"
expect_text "compare: LPAR table" "LPAR (lpar)"
expect_text "compare: KVM table" "KVM (kvm)"
expect_text "compare: relative column" "vs legacy"
expect_text "compare: ISM under the kernel policy" "ISM (kernel policy): 0 in-use IOVAs exposed"
expect_text "compare: ISM forced onto a flush queue" "ISM (forced flush queue): caught at t="

check_out "compare --json" 0 "$sim" compare --platforms lpar,zvm --policies legacy,strict --json "$short"
cjson=$LAST
expect_py "compare JSON: schema and runs" 'd["schema"] == 2 and len(d["runs"]) == 4'
expect_py "compare JSON: platform x policy" '[(r["platform"], r["policy"]) for r in d["runs"]] == [("lpar", "legacy"), ("lpar", "strict"), ("zvm", "legacy"), ("zvm", "strict")]'
expect_py "compare JSON: ISM checks" '[(c["platform"], c["check"]) for c in d["ism_checks"]] == [("lpar", "kernel_policy"), ("lpar", "forced_flush_queue"), ("zvm", "kernel_policy"), ("zvm", "forced_flush_queue")]'
expect_py "compare JSON: ISM results" 'all((c["ism_events"] == 0) == (c["check"] == "kernel_policy") for c in d["ism_checks"])'
expect_py "compare JSON: --set reached the runs" 'all(r["job"]["runtime_ns"] == 20000000 for r in d["runs"])'
check_out "compare --json again" 0 "$sim" compare --platforms lpar,zvm --policies legacy,strict --json "$short"
n=$((n + 1))
if [ "$LAST" = "$cjson" ]; then
	echo "ok $n - the same comparison twice gives identical JSON"
else
	echo "not ok $n - the same comparison twice gives different JSON"
	fails=$((fails + 1))
fi

check_out "compare --csv" 0 "$sim" compare --platforms kvm --policies legacy,lazy-single,strict --csv "$short"
n=$((n + 1))
# 3 policies + 2 ISM checks, plus the header
if [ "$(printf '%s\n' "$LAST" | wc -l)" -eq 6 ]; then
	echo "ok $n - compare CSV: a header and one row per run"
else
	echo "not ok $n - compare CSV: a header and one row per run"
	printf '%s\n' "$LAST" | cut -c1-100 | sed 's/^/# /'
	fails=$((fails + 1))
fi
check_out "compare with a job file" 0 "$sim" compare "$tmp/job.ini" --policies legacy,lazy-single --no-ism --json
expect_py "compare: the file's platform" '[r["platform"] for r in d["runs"]] == ["kvm", "kvm"] and d["ism_checks"] == []'

# Inputs are bounded: an endless file is refused, not read to exhaustion.
check "script /dev/zero" 2 "$sim" script /dev/zero && expect_text "script: too large" "/dev/zero: too large (more than 16777216 bytes)"
check "run /dev/zero" 2 "$sim" run /dev/zero && expect_text "job file: too large" "too large (more than 1048576 bytes)"

# Output that cannot be written is an error, whatever the command (a full
# disk must not look like a result): exit 1 and a message on stderr.
if [ -w /dev/full ]; then
	for cmdline in "--version" "--help" "demo" "profile list" "profile show kvm" \
		"script $(dirname "$0")/../docs/examples/strict_ranged_rpcit.sim" \
		"compare --platforms lpar --policies legacy --no-ism --quiet $short"; do
		n=$((n + 1))
		# shellcheck disable=SC2086
		"$sim" $cmdline >/dev/full 2>"$tmp/stderr"
		got=$?
		if [ "$got" -eq 1 ] && grep -q "writing the" "$tmp/stderr"; then
			echo "ok $n - $cmdline > /dev/full fails with a message"
		else
			echo "not ok $n - $cmdline > /dev/full (exit $got)"
			sed 's/^/# /' "$tmp/stderr" | head -5
			fails=$((fails + 1))
		fi
	done
fi

echo "1..$n"
[ "$fails" -eq 0 ]
