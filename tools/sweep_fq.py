#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Sweep the flush queue's size and timeout on some platforms and print, per
platform, a Markdown table of throughput relative to the pre-6.7 s390 DMA API
(legacy) with the same job and seed; each cell also names status-16 events.

    tools/sweep_fq.py [--iommusim PATH] [--platforms kvm,kvm-qemu7.1]
                      [--policy lazy-single] [--sizes 256,...] [--timeouts 1ms,...]
                      [--set KEY=VALUE]... [--seed N]

Every cell is one `iommusim compare --json` run; nothing is fitted or cached.
Exit status: 0, or 1 if a run failed (its message is printed).
"""
import argparse
import json
import subprocess
import sys

SIZES = "256,512,1024,2048,4096,8192,16384,32768,65536"
TIMEOUTS = "1ms,4ms,10ms,40ms,100ms,400ms,1s,4s"


def run(args, platform, policy, extra):
    cmd = [args.iommusim, "compare", "--json", "--quiet", "--no-ism", "--platforms", platform,
           "--policies", policy, "--seed", str(args.seed)]
    for kv in args.set + extra:
        cmd += ["--set", kv]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.stderr.write(f"sweep_fq: {' '.join(cmd)}: {p.stderr.strip()}\n")
        sys.exit(1)
    return json.loads(p.stdout)["runs"][0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--iommusim", default="build/sim/iommusim")
    ap.add_argument("--platforms", default="kvm,kvm-qemu7.1")
    ap.add_argument("--policy", default="lazy-single")
    ap.add_argument("--sizes", default=SIZES)
    ap.add_argument("--timeouts", default=TIMEOUTS)
    ap.add_argument("--set", action="append", default=[])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    sizes = args.sizes.split(",")
    timeouts = args.timeouts.split(",")
    for platform in args.platforms.split(","):
        base = run(args, platform, "legacy", [])
        print(f"\n{platform}, {args.policy} vs legacy ({base['iops']:.0f} IOPS); "
              "rows: fq_size, columns: fq_timeout; * = status 16 seen\n")
        print("| fq_size | " + " | ".join(timeouts) + " |")
        print("|---:|" + "---:|" * len(timeouts))
        for size in sizes:
            cells = []
            for t in timeouts:
                r = run(args, platform, args.policy, [f"fq_size={size}", f"fq_timeout={t}"])
                mark = "*" if r["status16"] else ""
                cells.append(f"{r['iops'] / base['iops']:.2f}{mark}")
            print(f"| {size} | " + " | ".join(cells) + " |")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
