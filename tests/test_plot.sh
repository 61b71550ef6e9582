#!/bin/sh
# SPDX-License-Identifier: MIT
# iommusim plot, sweep --plot and compare --plot (docs/sweeps.md): the files
# are real images (the PNG signature, an SVG root element), every figure has
# its .gp and .dat, the platforms' figures share their axes, the front the
# tool marks and prints is the brute-force front of the table, and bad
# input gets a clear error.
# usage: test_plot.sh IOMMUSIM
set -u
sim=$1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"
job=${IOMMUSIM_SOURCE_ROOT:-$(dirname "$0")/..}/tests/data/randread.ini

# A real image: PNG's 8-byte signature and IHDR chunk; SVG parsed as XML with
# an <svg> root. python3 is in every CI image the project runs on.
images_ok() { # directory, stem...
	d=$1
	shift
	python3 - "$d" "$@" <<'EOF'
import struct, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
bad = []
for stem in sys.argv[2:]:
    try:
        with open(f"{d}/{stem}.png", "rb") as f:
            head = f.read(24)
        if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
            bad.append(f"{stem}.png: no PNG signature")
        w, h = struct.unpack(">II", head[16:24])
        if w < 100 or h < 100:
            bad.append(f"{stem}.png: {w}x{h}")
        root = ET.parse(f"{d}/{stem}.svg").getroot()
        if root.tag.rsplit("}", 1)[-1] != "svg":
            bad.append(f"{stem}.svg: root <{root.tag}>")
        open(f"{d}/{stem}.gp").close()
    except (OSError, ET.ParseError, struct.error) as e:
        bad.append(f"{stem}: {e}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}

# ---- a sweep over two platforms ----
grid="platform=kvm,lpar fq_size=256..4096:x4 fq_timeout=1ms,100ms policy=lazy-single,strict"
# shellcheck disable=SC2086
"$sim" sweep "$job" $grid --set=runtime=20ms -r 2 -q -o "$tmp/s.csv" >/dev/null ||
	not_ok "the sweep to plot runs"
check "plot a sweep" 0 "$sim" plot "$tmp/s.csv" -o "$tmp/p"
has "the front is printed per platform" "Pareto front, platform kvm"
has "the front is printed for every platform" "Pareto front, platform lpar"
stems=""
for fig in throughput heatmap front memory status16; do
	for p in kvm lpar; do stems="$stems $fig-$p"; done
done
# shellcheck disable=SC2086
if LAST=$(images_ok "$tmp/p" $stems); then ok "every figure is a real PNG and SVG with its .gp"
else not_ok "every figure is a real PNG and SVG with its .gp"; fi
[ -s "$tmp/p/sweep-kvm.dat" ] && [ -s "$tmp/p/sweep-lpar.dat" ] &&
	ok "each platform's data is kept beside its figures" ||
	not_ok "each platform's data is kept beside its figures"
for fig in throughput front memory status16; do
	a=$(grep -E '^set (x|y)range|^set logscale' "$tmp/p/$fig-kvm.gp")
	b=$(grep -E '^set (x|y)range|^set logscale' "$tmp/p/$fig-lpar.gp")
	if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "$fig: the same axes on both platforms"
	else LAST="$a | $b"; not_ok "$fig: the same axes on both platforms"; fi
done
check "a .gp script redraws by itself" 0 sh -c "cd '$tmp/p' && rm front-kvm.png && gnuplot front-kvm.gp && test -s front-kvm.png"

# The front against a brute force over the table: throughput up, exposure
# p99 and queue memory down; equal points all on it.
front_ok() { # results file, plot dir, format
	python3 - "$@" <<'EOF'
import csv, json, math, sys
path, d, fmt = sys.argv[1:4]
if fmt == "json":
    rows = [json.loads(l) for l in open(path)]
else:
    rows = list(csv.DictReader(open(path)))
def f(r, k):
    v = r[k]
    return math.nan if v in ("", None) else float(v)
bad = []
# A lazy point no flush closed a window of (exposures 0, some censored) has
# no exposure to weigh: docs/sweeps.md leaves it out of the front.
def known(r):
    return not (f(r, "exposures") == 0 and f(r, "exposure_censored") > 0)
for plat in sorted({r["platform"] for r in rows}):
    pts = [(f(r, "throughput_bytes_per_s") / 1e6, f(r, "exposure_p99_ns") / 1e6,
            f(r, "fq_bytes") / 1024) for r in rows if r["platform"] == plat and known(r)]
    def dom(a, b):  # a dominates b
        ge = a[0] >= b[0] and a[1] <= b[1] and a[2] <= b[2]
        return ge and (a[0] > b[0] or a[1] < b[1] or a[2] < b[2])
    want = sorted(p for p in pts if not any(dom(q, p) for q in pts))
    got = []
    for line in open(f"{d}/sweep-{plat}.dat"):
        if line.startswith("#") or not line.strip():
            continue
        c = line.split()
        if c[8] == "1":
            got.append((float(c[1]), float(c[3]), float(c[5])))
    got.sort()
    close = len(got) == len(want) and all(
        all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9) for x, y in zip(g, w))
        for g, w in zip(got, want))
    if not close or not want:
        bad.append(f"{plat}: marked {got}, brute force {want}")
    left = sum(1 for r in rows if r["platform"] == plat and not known(r))
    print(f"{plat}: {len(want)} of {len(pts)} on the front, {left} left out")
print("\n".join(bad))
sys.exit(1 if bad else 0)
EOF
}
if LAST=$(front_ok "$tmp/s.csv" "$tmp/p" csv); then ok "the marked front is the brute-force front"
else not_ok "the marked front is the brute-force front"; fi
LAST=$("$sim" plot "$tmp/s.csv" -o "$tmp/p" -q --no-render 2>&1)
kvm_n=$(printf '%s\n' "$LAST" | sed -n 's/^Pareto front, platform kvm: \([0-9]*\) of.*/\1/p')
want_n=$(front_ok "$tmp/s.csv" "$tmp/p" csv | sed -n 's/^kvm: \([0-9]*\) of.*/\1/p')
if [ -n "$kvm_n" ] && [ "$kvm_n" = "$want_n" ]; then ok "the printed front has the brute-force count"
else not_ok "the printed front has the brute-force count ($kvm_n, want $want_n)"; fi
left=$(printf '%s\n' "$LAST" | sed -n 's/^  (\([0-9]*\) points* left out: no flush closed.*/\1/p' | head -1)
want_left=$(front_ok "$tmp/s.csv" "$tmp/p" csv | sed -n 's/^kvm: .* \([0-9]*\) left out$/\1/p')
if [ -n "$left" ] && [ "$left" = "$want_left" ] && [ "$left" -gt 0 ]; then
	ok "points without a closed exposure window are left out and counted ($left)"
else not_ok "points without a closed exposure window are left out and counted ($left, want $want_left)"; fi
LAST=$(printf '%s\n' "$LAST" | grep -c 'policy=strict')
[ "$LAST" -ge 1 ] && ok "strict (no exposure, no queue) is on the front" ||
	not_ok "strict (no exposure, no queue) is on the front"

# JSON lines plot the same; --x picks the axis; --no-render writes scripts only.
"$sim" sweep "$job" $grid --set=runtime=20ms -r 2 -q --format json -o "$tmp/s.jsonl" >/dev/null
check "plot JSON lines" 0 "$sim" plot "$tmp/s.jsonl" -o "$tmp/pj" -q
if LAST=$(front_ok "$tmp/s.jsonl" "$tmp/pj" json); then ok "JSON lines: the brute-force front"
else not_ok "JSON lines: the brute-force front"; fi
check "--x fq_timeout_ns" 0 "$sim" plot "$tmp/s.csv" -o "$tmp/px" -q --x fq_timeout_ns --no-render
if grep -q "fq_timeout (ms)" "$tmp/px/throughput-kvm.gp" && [ ! -e "$tmp/px/throughput-kvm.png" ]
then ok "--x sets the x axis; --no-render draws nothing"
else not_ok "--x sets the x axis; --no-render draws nothing"; fi
"$sim" sweep "$job" policy=strict,lazy-percpu,lazy-single --set=runtime=20ms -q -o "$tmp/c.csv" >/dev/null
check "a categorical x axis" 0 "$sim" plot "$tmp/c.csv" -o "$tmp/pc" -q
if LAST=$(images_ok "$tmp/pc" throughput heatmap front memory status16); then
	ok "a sweep without platform axis: one set of figures"
else not_ok "a sweep without platform axis: one set of figures"; fi
check "the default directory is named after the file" 0 "$sim" plot "$tmp/c.csv" -q --no-render
[ -e "$tmp/c-plots/throughput.gp" ] && ok "c.csv -> c-plots/" || not_ok "c.csv -> c-plots/"

# ---- sweep --plot, compare --plot, iommusim --plot ----
check "sweep --plot" 0 "$sim" sweep "$job" fq_size=256,4096 --set=runtime=20ms -q --plot "$tmp/sp"
has "sweep --plot prints the front" "Pareto front"
[ -s "$tmp/sp/sweep.csv" ] && ok "sweep --plot keeps the results as DIR/sweep.csv" ||
	not_ok "sweep --plot keeps the results as DIR/sweep.csv"
if LAST=$(images_ok "$tmp/sp" throughput front); then ok "sweep --plot draws"
else not_ok "sweep --plot draws"; fi
check "sweep --plot refuses a shard" 2 "$sim" sweep "$job" fq_size=256,4096 --set=runtime=20ms \
	-q --shard 1/2 --plot "$tmp/x"
check "compare --plot" 0 "$sim" compare --platforms kvm,lpar --set runtime=20ms -q --no-ism \
	--plot "$tmp/cp"
has "compare --plot still prints its table" "IOPS"
if LAST=$(images_ok "$tmp/cp" compare-throughput compare-exposure compare-cycles); then
	ok "compare --plot draws bars"
else not_ok "compare --plot draws bars"; fi
check "iommusim --plot DIR is the default comparison" 0 "$sim" --plot "$tmp/dp" \
	--set runtime=5ms -q --platforms kvm
[ -s "$tmp/dp/compare.csv" ] && ok "the default comparison keeps DIR/compare.csv" ||
	not_ok "the default comparison keeps DIR/compare.csv"

# ---- errors ----
check "a missing file" 2 "$sim" plot "$tmp/none.csv" -q
has "the missing file is named" "none.csv"
"$sim" sweep "$job" fq_size=256,512 --set=runtime=20ms -q --format long -o "$tmp/l.csv" >/dev/null
check "the long format is refused" 2 "$sim" plot "$tmp/l.csv" -q
has "the long format is named" "long format"
printf 'a,b\n1,2\n' >"$tmp/other.csv"
check "another CSV is refused" 2 "$sim" plot "$tmp/other.csv" -q
head -3 "$tmp/s.csv" >"$tmp/torn.csv"
sed -n 4p "$tmp/s.csv" | cut -d, -f1-20 >>"$tmp/torn.csv"
check "a torn row is refused" 2 "$sim" plot "$tmp/torn.csv" -q
has "the torn row is FILE:LINE" "torn.csv:4"
check "--x that is not an axis" 2 "$sim" plot "$tmp/s.csv" -q --x iodepth
has "--x names the axes" "platform, fq_size, fq_timeout_ns, policy"
IOMMUSIM_GNUPLOT=/bin/false check "gnuplot failing" 1 "$sim" plot "$tmp/c.csv" -o "$tmp/pf" -q
has "the failing script is named" "throughput.gp"
IOMMUSIM_GNUPLOT=/nonexistent/gnuplot check "no gnuplot" 1 "$sim" plot "$tmp/c.csv" -o "$tmp/pn" -q
has "a missing gnuplot says what to install" "gnuplot-nox"
check "no file" 2 "$sim" plot
check "two files" 2 "$sim" plot "$tmp/s.csv" "$tmp/c.csv"
has "two files: merge first" "merge"

tap_end
