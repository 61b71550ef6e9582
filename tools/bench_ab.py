#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A/B comparison of two benchmark binaries that print one JSON line per case.

Runs A (before) and B (after) alternately, A then B in every round, so that
noise on a shared machine hits both sides alike; then prints, per case, the
median of A's metric, the median of B's, and the median (min-max) over the
rounds of the per-round ratio. The ratio is oriented so that > 1 always means
B is better: B/A for a higher-is-better metric (the default,
pairs_per_cpu_s), A/B for a lower-is-better one (names ending in _seconds,
containing ns_per, or starting with peak_rss; --direction overrides).

Example:
  tools/bench_ab.py build-old/bench/bench_run build-new/bench/bench_run \\
      --rounds 5 -- --iters=1000000

Everything after "--" is passed to both binaries. Exit status: 0; 1 if a
binary failed (which one, in which round, and its exit status are reported,
with the rounds completed before it); 2 on a usage error.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys


def lower_is_better(metric):
    """Whether a smaller value of @metric is the better one (by its name)."""
    return metric.endswith("_seconds") or "ns_per" in metric or metric.startswith("peak_rss")


class RunFailed(Exception):
    """A benchmark binary exited non-zero, or could not be started."""


def run_once(label, binary, extra, timeout):
    """Run @binary once; return {case: record} from its JSON lines."""
    cmd = [binary] + extra
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=timeout, check=False)
    except OSError as e:
        raise RunFailed(f"{label} ({binary}) could not be started: {e}") from e
    except subprocess.TimeoutExpired as e:
        raise RunFailed(f"{label} ({binary}) timed out after {timeout} s") from e
    stderr = proc.stderr.decode(errors="replace")
    if proc.returncode != 0:
        if proc.returncode < 0:
            how = f"was killed by signal {-proc.returncode}"
        else:
            how = f"exited with status {proc.returncode}"
        tail = "".join(stderr.splitlines(keepends=True)[-10:])
        msg = f"{label} ({' '.join(cmd)}) {how}"
        if tail:
            msg += "; its stderr ends with:\n" + tail.rstrip("\n")
        raise RunFailed(msg)
    cases = {}
    for n, line in enumerate(proc.stdout.decode(errors="replace").splitlines(), 1):
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            print(f"bench_ab: {label}: line {n} is not JSON ({e}); skipped",
                  file=sys.stderr)
            continue
        name = rec.get("bench") if isinstance(rec, dict) else None
        if not isinstance(name, str):
            print(f"bench_ab: {label}: line {n} has no \"bench\" name; skipped",
                  file=sys.stderr)
            continue
        if name in cases:
            print(f"bench_ab: {label}: case {name} printed twice; the first line kept",
                  file=sys.stderr)
            continue
        cases[name] = rec
    if not cases:
        raise RunFailed(f"{label} ({' '.join(cmd)}) exited 0 but printed no JSON case")
    return cases


def metric_value(rec, metric):
    """The case's @metric as a finite float, or None."""
    v = rec.get(metric)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def fmt(v):
    """A figure in 4 significant digits, with k/M/G for large ones."""
    if v is None:
        return "-"
    for div, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(v) >= div:
            return f"{v / div:.4g}{suffix}"
    return f"{v:.4g}"


def summarise(rounds, metric, lower):
    """Rows of (case, A median, B median, ratio median, min, max, n) and the
    cases seen on one side only, or without the metric."""
    order = []
    seen = set()
    for side in ("A", "B"):
        for r in rounds:
            for name in r[side]:
                if name not in seen:
                    seen.add(name)
                    order.append(name)
    rows, only_a, only_b, no_metric = [], [], [], []
    for name in order:
        in_a = any(name in r["A"] for r in rounds)
        in_b = any(name in r["B"] for r in rounds)
        if not in_b:
            only_a.append(name)
            continue
        if not in_a:
            only_b.append(name)
            continue
        a_vals, b_vals, ratios = [], [], []
        for r in rounds:
            a = metric_value(r["A"][name], metric) if name in r["A"] else None
            b = metric_value(r["B"][name], metric) if name in r["B"] else None
            if a is not None:
                a_vals.append(a)
            if b is not None:
                b_vals.append(b)
            if a is None or b is None:
                continue
            num, den = (a, b) if lower else (b, a)
            if den != 0:
                ratios.append(num / den)
        if not a_vals and not b_vals:
            no_metric.append(name)
            continue
        rows.append((name,
                     statistics.median(a_vals) if a_vals else None,
                     statistics.median(b_vals) if b_vals else None,
                     statistics.median(ratios) if ratios else None,
                     min(ratios) if ratios else None,
                     max(ratios) if ratios else None,
                     len(ratios)))
    return rows, only_a, only_b, no_metric


def print_table(rows, markdown, nrounds):
    """The table, in plain text or Markdown."""
    head = ("case", "A", "B", "ratio median (min\u2013max)", "rounds")
    cells = []
    for name, a, b, med, lo, hi, n in rows:
        ratio = "-" if med is None else f"{med:.3f} ({lo:.3f}\u2013{hi:.3f})"
        cells.append((name, fmt(a), fmt(b), ratio, f"{n}/{nrounds}"))
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|---|---:|---:|---:|---:|")
        for c in cells:
            print("| " + " | ".join(c) + " |")
        return
    widths = [max(len(x[i]) for x in [head] + cells) for i in range(len(head))]
    for c in [head] + cells:
        print("  ".join(c[i].ljust(widths[i]) if i == 0 else c[i].rjust(widths[i])
                        for i in range(len(c))).rstrip())


def report(rounds, args, lower, a_bin, b_bin):
    """Print the header line, the table and the one-sided cases."""
    rows, only_a, only_b, no_metric = summarise(rounds, args.metric, lower)
    if lower:
        how = "lower is better; ratio = A/B"
    else:
        how = "higher is better; ratio = B/A"
    header = (f"metric {args.metric} ({how}, so > 1 means B is better); "
              f"medians over {len(rounds)} round(s); A = {a_bin}, B = {b_bin}")
    if args.markdown:
        print(header + "\n")
    else:
        print(header)
    print_table(rows, args.markdown, len(rounds))
    for label, names in ((f"only in A ({a_bin})", only_a), (f"only in B ({b_bin})", only_b),
                         (f"without {args.metric} on either side", no_metric)):
        if names:
            print(("\n" if args.markdown else "") + f"cases {label}: " + ", ".join(names))


def main():
    argv = sys.argv[1:]
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(
        prog="bench_ab.py",
        usage="%(prog)s [options] A B [-- ARG...]",
        description="Compare two benchmark binaries (A = before, B = after) that print one "
                    "JSON line per case with a \"bench\" name, run alternately A, B, A, B...",
        epilog="Arguments after \"--\" are passed to both binaries, e.g. "
               "'bench_ab.py old/bench_run new/bench_run -- --iters=1000000'. "
               "The ratio is B/A for a higher-is-better metric and A/B for a lower-is-better "
               "one (names ending in _seconds, containing ns_per or starting with peak_rss), "
               "so that > 1 always means B is better. Exit status 1 if a binary fails.")
    ap.add_argument("a", metavar="A", help="the benchmark binary before the change")
    ap.add_argument("b", metavar="B", help="the benchmark binary after the change")
    ap.add_argument("--rounds", type=int, default=5, metavar="N",
                    help="rounds, each one run of A then one of B (default 5)")
    ap.add_argument("--metric", default="pairs_per_cpu_s",
                    help="the JSON field compared (default pairs_per_cpu_s)")
    ap.add_argument("--direction", choices=("auto", "higher", "lower"), default="auto",
                    help="whether higher or lower values of the metric are better "
                         "(default auto: from its name)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                    help="fail a run that takes longer than this (default: no limit)")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    lower = (lower_is_better(args.metric) if args.direction == "auto"
             else args.direction == "lower")
    try:
        sys.stdout.reconfigure(errors="replace")
    except AttributeError:
        pass

    # A bare name would be looked up in PATH: run the files given.
    a_bin = args.a if os.sep in args.a else os.path.join(".", args.a)
    b_bin = args.b if os.sep in args.b else os.path.join(".", args.b)
    rounds = []
    for n in range(1, args.rounds + 1):
        try:
            a = run_once(f"A in round {n}", a_bin, extra, args.timeout)
            b = run_once(f"B in round {n}", b_bin, extra, args.timeout)
        except RunFailed as e:
            sys.stdout.flush()
            print(f"bench_ab: {e}", file=sys.stderr)
            if rounds:
                print(f"bench_ab: the {len(rounds)} round(s) completed before it:",
                      file=sys.stderr)
                report(rounds, args, lower, a_bin, b_bin)
            return 1
        rounds.append({"A": a, "B": b})
        print(f"bench_ab: round {n}/{args.rounds} done", file=sys.stderr, flush=True)
    report(rounds, args, lower, a_bin, b_bin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
