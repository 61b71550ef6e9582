#!/bin/sh
# SPDX-License-Identifier: MIT
# The Slurm job-array script of docs/sweeps.md on a one-node Slurm started
# here (munge, slurmctld, slurmd; as root, as CI runs): the merged shards
# must equal the unsharded sweep byte for byte. CI runs it (.ci/run); it
# needs the Debian packages slurm-wlm and munge.
# usage: slurm_array.sh IOMMUSIM
# Exit status: 0 passed; 1 failed; 77 skipped: Slurm could not be started
# here (the reason is printed), which says nothing about iommusim.
set -u
sim=$(readlink -f "$1")
root=$(cd "$(dirname "$0")/.." && pwd)
skip() { echo "slurm_array: SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "not root: cannot start slurmctld and slurmd"
for p in munged slurmctld slurmd sbatch sinfo; do
	command -v "$p" >/dev/null 2>&1 || [ -x "/usr/sbin/$p" ] ||
		skip "$p is not installed (Debian: slurm-wlm, munge)"
done

# One node: this host, every CPU; no cgroups (proctrack/linuxproc), so it
# runs in a container too.
host=$(hostname -s)
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
chown munge:munge /run/munge 2>/dev/null || true
[ -s /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || skip "no munge key"; }
cat >/etc/slurm/slurm.conf <<EOF
ClusterName=iommusim-ci
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=ci Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged ||
	skip "munged did not start"
pgrep -x slurmctld >/dev/null || slurmctld || skip "slurmctld did not start"
pgrep -x slurmd >/dev/null || slurmd || skip "slurmd did not start"
up=0
for _ in $(seq 1 60); do
	if sinfo -h -o %T 2>/dev/null | grep -q idle; then up=1; break; fi
	sleep 1
done
if [ $up -eq 0 ]; then
	tail -n 20 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log 2>/dev/null
	skip "the node did not come up idle in 60 s (logs above)"
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
grid="$root/tests/data/randread.ini fq_size=256..8192:x4 fq_timeout=1ms,100ms policy=lazy-single,lazy-percpu --set=runtime=20ms -r 2"
# The script as docs/sweeps.md submits it; four tasks for twelve points.
if ! IOMMUSIM=$sim SWEEP_ARGS=$grid SWEEP_OUT=t timeout 600 \
	sbatch --array=0-3 --wait --quiet "$root/docs/examples/slurm/sweep-array.sbatch"; then
	cat iommusim-sweep-*.log 2>/dev/null
	echo "not ok - the array job failed"
	exit 1
fi
# shellcheck disable=SC2086
"$sim" sweep $grid -q >whole.csv || exit 1
if "$sim" merge -o merged.csv t.part*.csv && cmp merged.csv whole.csv; then
	echo "ok - a Slurm array of 4 tasks merged equals the unsharded sweep"
	exit 0
fi
cat iommusim-sweep-*.log 2>/dev/null
echo "not ok - the merged array differs from the unsharded sweep"
exit 1
