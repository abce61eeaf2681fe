#!/usr/bin/env bash
# The cluster path on a real Slurm: installs Debian's slurmctld, slurmd and munge, starts a
# single-node cluster on this machine, submits scripts/slurm/submit.sh (an array of shards and a
# merge job) on a small config, waits, and checks that the merged results equal a single-machine
# run. Stops the daemons it started. Skips, saying why, where it cannot install or start them
# (not root, no apt-get, no package). Called by scripts/test.sh; about a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
skip() {
  echo "real Slurm test: SKIPPED: $*"
  exit 0
}
[ "$(id -u)" = 0 ] || skip "installing and running slurmctld/slurmd needs root"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || skip "no apt-get to install slurmctld, slurmd and munge"
  log=$(mktemp)
  if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends slurmctld slurmd slurm-client munge) >"$log" 2>&1; then
    skip "could not install slurmctld, slurmd, slurm-client and munge (apt-get log: $log)"
  fi
fi

sweep=${SWEEP_BIN:-target/debug/sweep}
[ -x "$sweep" ] || cargo build --quiet --bin sweep
sweep=$(realpath "$sweep")
work=$(mktemp -d)
pids=()
munged_pid=""
cleanup() {
  for pid in "${pids[@]}" $munged_pid; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# munge: a key, its run folder, the daemon (unless one answers already).
if [ ! -f /etc/munge/munge.key ]; then
  mungekey --create >/dev/null
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
fi
mkdir -p /run/munge && chown munge:munge /run/munge
if ! munge -n >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged
  munged_pid=$(cat /run/munge/munged.pid 2>/dev/null || true)
fi
munge -n | unmunge >/dev/null || skip "munge does not work here"

host=$(hostname -s)
node=$(slurmd -C | head -n 1)
mkdir -p "$work/state" "$work/spool"
cat >"$work/slurm.conf" <<EOF
ClusterName=ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
$node NodeAddr=127.0.0.1
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$work/slurm.conf"
slurmctld -D -f "$SLURM_CONF" >/dev/null 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 60); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && break
  sleep 1
done
sinfo -h -o %T 2>/dev/null | grep -q idle || {
  tail -n 5 "$work/slurmctld.log" "$work/slurmd.log" >&2 || true
  echo "real Slurm test: FAILED: the node never became idle" >&2
  exit 1
}

# A small sweep: four runs over three shards (one shard has two).
data=$(realpath data/mnist)
cat >"$work/slurm-ci.toml" <<EOF
name = "slurm-ci"
[split]
train_size = 0.8
random_state = 0
[preprocessing]
scaler = "unit"
[model]
max_iter = 5
C = [0.1, 1.0, 10.0, 100.0]
[output]
predictions = true
[data]
dir = "$data"
cache_dir = "$work/cache"
subsample = 2000
EOF
submitted=$(SWEEP_BIN="$sweep" scripts/slurm/submit.sh "$work/slurm-ci.toml" 3 "$work/out")
echo "$submitted"
array=$(echo "$submitted" | sed -n 's/^submitted array job \([0-9]*\).*/\1/p')
merge=$(echo "$submitted" | sed -n 's/.*merge job \([0-9]*\);.*/\1/p')
# The jobs' logs land in the submit folder (the repository root): keep them for a failure
# message, then remove them with the work folder.
logs() { cat slurm-"$array"_*.out slurm-"$merge"-merge.out 2>/dev/null || true; }
cleanup_logs() { rm -f slurm-"$array"_*.out slurm-"$merge"-merge.out; }
trap 'cleanup_logs; cleanup' EXIT
for _ in $(seq 300); do
  [ -z "$(squeue -h 2>/dev/null)" ] && break
  sleep 1
done
[ -z "$(squeue -h)" ] || { echo "real Slurm test: FAILED: jobs still queued after 300 s" >&2; squeue >&2; exit 1; }

"$sweep" "$work/slurm-ci.toml" --out "$work/single" --quiet
# The same runs with the same metrics, whichever machine (or shard) fitted them.
without_timing() { cut -d, -f1-"$(($(head -1 "$1" | tr , '\n' | grep -n '^fit_seconds$' | cut -d: -f1) - 1))" "$1"; }
[ -f "$work/out/slurm-ci/metrics.csv" ] || { echo "real Slurm test: FAILED: the merge wrote no metrics.csv" >&2; logs >&2; exit 1; }
if ! diff <(without_timing "$work/out/slurm-ci/metrics.csv") <(without_timing "$work/single/slurm-ci/metrics.csv"); then
  echo "real Slurm test: FAILED: the merged metrics differ from a single-machine run" >&2
  exit 1
fi
runs=$(ls "$work/out/slurm-ci/runs" | wc -l)
[ "$runs" = 4 ] || { echo "real Slurm test: FAILED: $runs runs merged, expected 4" >&2; exit 1; }
echo "real Slurm test: passed (3 array tasks and a merge job on slurmctld/slurmd; 4 runs equal to a single-machine run)"
