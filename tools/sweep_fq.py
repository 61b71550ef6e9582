#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Sweep the flush queue's size and timeout on some platforms and print, per
platform, a Markdown table of throughput relative to the pre-6.7 s390 DMA API
(legacy) with the same job and seed; each cell also names status-16 events.

    tools/sweep_fq.py [--iommusim PATH] [--platforms kvm,kvm-qemu7.1]
                      [--policy lazy-single] [--sizes 256,...] [--timeouts 1ms,...]
                      [--set KEY=VALUE]... [--seed N] [--jobs N]

Two `iommusim sweep` runs (docs/sweeps.md) make the tables: the grid
platform x fq_size x fq_timeout under the policy, and the legacy baseline per
platform; the points run in parallel (--jobs, default: the CPUs available).
Nothing is fitted or cached. Exit status: 0, or 1 if a run failed (its
message is printed).
"""
import argparse
import json
import subprocess
import sys

SIZES = "256,512,1024,2048,4096,8192,16384,32768,65536"
TIMEOUTS = "1ms,4ms,10ms,40ms,100ms,400ms,1s,4s"


def sweep(args, policy, axes):
    cmd = [args.iommusim, "sweep", "--format", "json", "--quiet", "--policy", policy,
           "--seed", str(args.seed)] + axes
    if args.jobs:
        cmd += ["--jobs", str(args.jobs)]
    for kv in args.set:
        cmd += ["--set", kv]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(f"sweep_fq: {' '.join(cmd)}: {p.stderr.strip()}\n")
        sys.exit(1)
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iommusim", default="build/sim/iommusim")
    ap.add_argument("--platforms", default="kvm,kvm-qemu7.1")
    ap.add_argument("--policy", default="lazy-single")
    ap.add_argument("--sizes", default=SIZES)
    ap.add_argument("--timeouts", default=TIMEOUTS)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=0)
    args = ap.parse_args()
    sizes = args.sizes.split(",")
    timeouts = args.timeouts.split(",")
    platforms = args.platforms.split(",")
    base = {r["platform"]: r for r in sweep(args, "legacy", [f"platform={args.platforms}"])}
    rows = sweep(args, args.policy, [f"platform={args.platforms}", f"fq_size={args.sizes}",
                                     f"fq_timeout={args.timeouts}"])
    # The grid's first axis varies slowest: platform, then size, then timeout.
    per = len(sizes) * len(timeouts)
    for i, platform in enumerate(platforms):
        b = base[platform]
        print(f"\n{platform}, {args.policy} vs legacy ({b['iops']:.0f} IOPS); "
              "rows: fq_size, columns: fq_timeout; * = status 16 seen\n")
        print("| fq_size | " + " | ".join(timeouts) + " |")
        print("|---:|" + "---:|" * len(timeouts))
        for j, size in enumerate(sizes):
            cells = []
            for k in range(len(timeouts)):
                r = rows[i * per + j * len(timeouts) + k]
                mark = "*" if r["status16"] else ""
                cells.append(f"{r['iops'] / b['iops']:.2f}{mark}")
            print(f"| {size} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
