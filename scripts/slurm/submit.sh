#!/usr/bin/env bash
# Runs a sweep on a Slurm cluster: N array tasks, one shard each, then a merge job.
#
#   scripts/slurm/submit.sh experiments/lbfgs.toml 8 [OUT]
#
# Run it from the repository root on the login node; OUT (default results) must be on a file
# system the compute nodes share. The merged results land in OUT/<name>/.
set -euo pipefail
config=${1:?usage: submit.sh CONFIG N [OUT]}
count=${2:?usage: submit.sh CONFIG N [OUT]}
out=${3:-results}
cd "$(dirname "$0")/../.."
# SWEEP_BIN names a binary already built (the tasks use it too); otherwise build the release one.
sweep=${SWEEP_BIN:-target/release/sweep}
[ -n "${SWEEP_BIN:-}" ] || cargo build --release --bin sweep
"$sweep" "$config" --dry-run >/dev/null # fail here, not on the cluster, on a bad config
array=$(sbatch --parsable --array=0-$((count - 1)) scripts/slurm/sweep.sbatch "$config" "$out")
# A failed shard cancels the merge instead of leaving it pending forever.
merge=$(sbatch --parsable --dependency=afterok:"${array%%;*}" --kill-on-invalid-dep=yes \
  scripts/slurm/merge.sbatch "$config" "$out" "$count")
echo "submitted array job $array ($count shards) and merge job $merge; results in $out/"
