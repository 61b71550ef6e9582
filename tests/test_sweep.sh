#!/bin/sh
# SPDX-License-Identifier: MIT
# iommusim sweep and merge (docs/sweeps.md): results independent of -j,
# shards (--shard, the Slurm array variables, GNU parallel when installed)
# merged equal to the unsharded run byte for byte, resume after a kill and
# after a torn last line, the three formats, and clear errors naming the
# token for bad grids, and the file for bad merges.
# usage: test_sweep.sh IOMMUSIM
set -u
sim=$1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"
job=${IOMMUSIM_SOURCE_ROOT:-$(dirname "$0")/..}/tests/data/randread.ini

# A 12-point grid of short runs, 2 replicates each: quick, and enough for
# shards of unequal sizes.
grid="fq_size=256..8192:x4 fq_timeout=1ms,100ms policy=lazy-single,lazy-percpu"
sweep() { # options...; the grid above on the job file
	# shellcheck disable=SC2086
	"$sim" sweep "$job" $grid --set=runtime=20ms -r 2 -q "$@"
}

# ---- the same results whatever -j is ----
check "sweep -j1 runs" 0 sweep -j1 -o "$tmp/j1.csv"
check "sweep -j2 runs" 0 sweep -j2 -o "$tmp/j2.csv"
check "sweep -j5 runs" 0 sweep -j5 -o "$tmp/j5.csv"
same "-j1 and -j2 write the same bytes" "$tmp/j1.csv" "$tmp/j2.csv"
same "-j1 and -j5 write the same bytes" "$tmp/j1.csv" "$tmp/j5.csv"
lines=$(wc -l <"$tmp/j1.csv")
[ "$lines" -eq 13 ] && ok "CSV: a header and one row per point" ||
	{ LAST="$lines lines"; not_ok "CSV: a header and one row per point"; }
LAST=$(head -1 "$tmp/j1.csv")
has "CSV header names the axes with units" "fq_size,fq_timeout_ns,policy,reps"
has "CSV header names measures with units" "exposure_p99_ns,exposure_p99_ns_ci95"
has "CSV header has fq_bytes" ",fq_bytes,"
LAST=$(sed -n 2p "$tmp/j1.csv")
has "first axis varies slowest: point 0 is the first value of each" \
	"0,12,"
case $LAST in
0,12,*,256,1000000,lazy-single,2,*) ok "point 0 is 256, 1 ms, lazy-single" ;;
*) not_ok "point 0 is 256, 1 ms, lazy-single" ;;
esac
LAST=$(sed -n 13p "$tmp/j1.csv")
case $LAST in
11,12,*,4096,100000000,lazy-percpu,2,*) ok "point 11 is 4096, 100 ms, lazy-percpu" ;;
*) not_ok "point 11 is 4096, 100 ms, lazy-percpu" ;;
esac

# The replicates differ (their own seeds): some interval is non-zero.
if awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "iops_ci95") c = i; next }
	$c > 0 { found = 1 } END { exit !found }' "$tmp/j1.csv"; then
	ok "replicates have their own seeds (a non-zero interval)"
else not_ok "replicates have their own seeds (a non-zero interval)"; fi
"$sim" sweep "$job" fq_size=256 --set=runtime=20ms -q >"$tmp/one.csv"
if awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "iops_ci95") c = i; next }
	{ exit !(c && $c == "" && $(c - 1) > 0) }' "$tmp/one.csv"; then
	ok "one replicate leaves the interval empty"
else LAST=$(cat "$tmp/one.csv"); not_ok "one replicate leaves the interval empty"; fi

LAST=$("$sim" sweep "$job" fq_size=256,4096 --set=runtime=20ms -q -o "$tmp/f.csv" 2>&1)
has "a whole sweep in a file prints its front" "Pareto front: "

# ---- formats ----
check "JSON lines" 0 sweep -j2 --format json -o "$tmp/r.json"
if python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 12, len(rows)
assert rows[3]["point"] == 3 and rows[3]["fq_timeout_ns"] == 100000000
assert rows[0]["iops"] > 0 and rows[0]["iops_ci95"] >= 0
' "$tmp/r.json" 2>"$tmp/py"; then ok "JSON lines parse, one object per point"
else LAST=$(cat "$tmp/py"); not_ok "JSON lines parse, one object per point"; fi
check "long format" 0 sweep -j2 --format long -o "$tmp/long.csv"
lines=$(wc -l <"$tmp/long.csv")
[ "$lines" -eq $((12 * 19 + 1)) ] && ok "long: a row per point and measure" ||
	{ LAST="$lines lines"; not_ok "long: a row per point and measure"; }
check "--list prints the points" 0 sweep --list
has "--list names a point's values" "fq_size=4096 fq_timeout=100ms policy=lazy-percpu"

# ---- shards ----
for i in 1 2 3; do
	check "shard $i/3 runs" 0 sweep --shard "$i/3" -o "$tmp/s$i.csv"
done
check "merge of the three shards" 0 "$sim" merge -o "$tmp/merged.csv" \
	"$tmp/s3.csv" "$tmp/s1.csv" "$tmp/s2.csv"
same "merged shards equal the unsharded run" "$tmp/merged.csv" "$tmp/j1.csv"
for f in json long; do
	for i in 1 2; do
		sweep --shard "$i/2" --format $f -o "$tmp/$f$i" || not_ok "$f shard $i"
	done
	check "merge of $f shards" 0 "$sim" merge -o "$tmp/$f.m" "$tmp/${f}2" "$tmp/${f}1"
done
same "merged JSON shards equal the unsharded run" "$tmp/json.m" "$tmp/r.json"
same "merged long shards equal the unsharded run" "$tmp/long.m" "$tmp/long.csv"

# Slurm's array variables choose the shard (an array 0-2: _MIN 0).
for id in 0 1 2; do
	SLURM_ARRAY_TASK_ID=$id SLURM_ARRAY_TASK_COUNT=3 SLURM_ARRAY_TASK_MIN=0 \
		sweep -o "$tmp/slurm$id.csv" || not_ok "Slurm task $id"
done
"$sim" merge -o "$tmp/slurm.csv" "$tmp/slurm0.csv" "$tmp/slurm1.csv" "$tmp/slurm2.csv"
same "Slurm array tasks merged equal the unsharded run" "$tmp/slurm.csv" "$tmp/j1.csv"
same "Slurm task 1 of 0-2 is shard 2/3" "$tmp/slurm1.csv" "$tmp/s2.csv"
SLURM_ARRAY_TASK_ID=7 SLURM_ARRAY_TASK_COUNT=3 check "a Slurm task outside its array" 2 \
	sweep -o "$tmp/x.csv"
has "the bad Slurm task is named" "SLURM_ARRAY_TASK_ID=7"

# GNU parallel, as docs/sweeps.md shows it.
if command -v parallel >/dev/null 2>&1; then
	export sim job tmp
	# shellcheck disable=SC2016
	if parallel --will-cite --halt now,fail=1 \
		'"$sim" sweep "$job" '"$grid"' --set=runtime=20ms -r 2 -q -j1 --shard {}/4 -o "$tmp/p{}.csv"' \
		::: 1 2 3 4; then
		"$sim" merge -o "$tmp/par.csv" "$tmp"/p[1-4].csv
		same "GNU parallel shards merged equal the unsharded run" "$tmp/par.csv" "$tmp/j1.csv"
	else not_ok "GNU parallel runs the shards"; fi
else
	n=$((n + 1))
	echo "ok $n - # SKIP GNU parallel is not installed"
fi

# ---- merge errors ----
check "merge refuses a missing shard" 1 "$sim" merge "$tmp/s1.csv" "$tmp/s3.csv"
has "the missing points are named" "missing"
check "merge refuses a duplicated shard" 1 "$sim" merge "$tmp/s1.csv" "$tmp/s1.csv" \
	"$tmp/s2.csv" "$tmp/s3.csv"
has "the duplicate is named" "s1.csv"
"$sim" sweep "$job" fq_size=256,512 --set=runtime=20ms -q -o "$tmp/other.csv" >/dev/null
check "merge refuses shards of two sweeps" 1 "$sim" merge "$tmp/s1.csv" "$tmp/other.csv"
check "merge refuses two formats" 1 "$sim" merge "$tmp/s1.csv" "$tmp/long1"
cp "$tmp/merged.csv" "$tmp/keep.csv"
"$sim" merge -o "$tmp/merged.csv" "$tmp/s1.csv" "$tmp/s3.csv" 2>/dev/null
same "a failed merge leaves its -o file alone" "$tmp/merged.csv" "$tmp/keep.csv"

# ---- resume ----
cp "$tmp/j1.csv" "$tmp/full.csv"
check "rerun on a finished file" 0 sweep -o "$tmp/full.csv" -j2
same "a finished file is left as it was" "$tmp/full.csv" "$tmp/j1.csv"
head -c 2500 "$tmp/j1.csv" >"$tmp/torn.csv"
check "resume after a torn line" 0 "$sim" sweep "$job" $grid --set=runtime=20ms -r 2 \
	-o "$tmp/torn.csv"
has "the torn point is reported" "unfinished"
same "resumed after a torn line: the same bytes" "$tmp/torn.csv" "$tmp/j1.csv"
cp "$tmp/j1.csv" "$tmp/theirs.csv"
check "resume refuses another sweep's file" 2 "$sim" sweep "$job" fq_size=256,512 \
	--set=runtime=20ms -q -o "$tmp/theirs.csv"
same "another sweep's file is left alone" "$tmp/theirs.csv" "$tmp/j1.csv"
check "--fresh starts it again" 0 "$sim" sweep "$job" fq_size=256,512 --set=runtime=20ms -q \
	--fresh -o "$tmp/theirs.csv"
same "--fresh wrote the new sweep" "$tmp/theirs.csv" "$tmp/other.csv"

# Killed half way (SIGKILL: no clean-up of any kind), then rerun: the same
# bytes as a run that was never interrupted. Points of ~0.1-0.5 s each.
kgrid="fq_size=256..8192:x2 fq_timeout=1ms,10ms,100ms"
"$sim" sweep "$job" $kgrid --set=runtime=2s -j1 -q -o "$tmp/whole.csv" >/dev/null
"$sim" sweep "$job" $kgrid --set=runtime=2s -j1 -q -o "$tmp/killed.csv" >/dev/null &
pid=$!
tries=0
while [ "$(cat "$tmp/killed.csv" 2>/dev/null | wc -l)" -lt 4 ] && [ $tries -lt 3000 ]; do
	sleep 0.01
	tries=$((tries + 1))
done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
got=$(wc -l <"$tmp/killed.csv")
if [ "$got" -lt 19 ]; then ok "the sweep was killed half way ($((got - 1)) of 18 points)"
else LAST="it finished first"; not_ok "the sweep was killed half way"; fi
check "rerun after the kill" 0 "$sim" sweep "$job" $kgrid --set=runtime=2s -j2 -q \
	-o "$tmp/killed.csv"
same "killed and resumed equals uninterrupted" "$tmp/killed.csv" "$tmp/whole.csv"

# ---- bad grids: exit 2, the token named ----
bad_grid() { # name, token in the message, axes...
	name=$1
	token=$2
	shift 2
	check "$name" 2 "$sim" sweep "$job" --set=runtime=20ms -q "$@"
	has "$name: names '$token'" "$token"
}
bad_grid "a range without an end" "256.." "fq_size=256..:x2"
bad_grid "a range that runs backwards" "4096..256" "fq_size=4096..256:x2"
bad_grid "a multiplier of 1" "x1" "fq_size=256..4096:x1"
bad_grid "a step that is not a number" "+abc" "iodepth=1..8:+abc"
bad_grid "a time range needs a step" "1ms..10ms" "fq_timeout=1ms..10ms"
bad_grid "a value the key refuses" "1000" "fq_size=1000"
bad_grid "an unknown key" "nosuchkey" "nosuchkey=1,2"
bad_grid "an unknown platform" "vax" "platform=kvm,vax"
bad_grid "an unknown policy" "lazy-triple" "policy=lazy-triple"
bad_grid "a repeated value" "512" "fq_size=256,512,512"
bad_grid "an empty item" "fq_size=256,,512" "fq_size=256,,512"
bad_grid "an axis without =" "fq_size" "fq_size"
bad_grid "the seed is not an axis" "seed" "seed=1,2"
bad_grid "a grid above --max-points" "--max-points" "fq_size=256..65536:x2" \
	"iodepth=1..128" --max-points=1000
check "a bad --shard" 2 sweep --shard 4/3
has "the bad --shard is named" "4/3"
check "a bad --reps" 2 sweep --reps 0
printf '[global]\nplatform=kvm\n[j]\nrw=randread\n[sweep]\nfq_size=256..1024:x2\nfq_timeout=1ms..9ms\n' \
	>"$tmp/bad.ini"
check "a bad [sweep] line" 2 "$sim" sweep "$tmp/bad.ini" -q
has "the bad [sweep] line is FILE:LINE" "bad.ini:7"
printf '[global]\nplatform=kvm\nruntime=20ms\n[j]\nrw=randread\n[sweep]\nfq_size=256..1024:x2\nreps=2\n' \
	>"$tmp/good.ini"
check "run skips a [sweep] section" 0 "$sim" run "$tmp/good.ini" -q
has "run says it skips the [sweep] section" "good.ini:6: note: the [sweep] section is for 'iommusim sweep'"
check "a [sweep] section is a grid" 0 "$sim" sweep "$tmp/good.ini" -q --list
has "the [sweep] axis is read" "fq_size=1024"
check "the command line's axis wins over the file's" 0 \
	"$sim" sweep "$tmp/good.ini" fq_size=4096 -q --list
case $LAST in *"fq_size=1024"*) not_ok "only the command line's values run" ;;
*) ok "only the command line's values run" ;; esac

tap_end
