#!/usr/bin/env bash
# Reproduces the four notebooks, a converged comparison, the converged regularisation study, the
# penalties study (selection by 5-fold CV against GridSearchCV) and notebook C's gradient descent
# (its study and its comparison with L-BFGS; numpy's descent on scikit-learn's side), notebook A's
# setting over ten splits and both optimisers at a tight tolerance (parity at the optimum) on both
# sides and writes results/parity.md: the harness (sweep) and scikit-learn (sklearn_reference.py) on each config,
# then the comparison. Takes about three and a half hours on 2 cores (notebook D's five 1,000-epoch sag fits
# on raw pixels take scikit-learn about 15 minutes each, and scikit-learn's cross-validation);
# KEEP_CV=1 keeps scikit-learn's earlier cross-validation scores (sklearn_reference.py --keep-cv).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_python.sh
configs=(experiments/notebook-a.toml experiments/notebook-b.toml experiments/notebook-c.toml experiments/notebook-d.toml experiments/converged.toml experiments/quick.toml experiments/lbfgs.toml experiments/regularization.toml experiments/penalties.toml experiments/notebook-c-gd.toml experiments/notebook-c-passes.toml experiments/splits.toml experiments/optimum.toml)
keep=()
if [ "${KEEP_CV:-0}" = 1 ]; then keep=(--keep-cv); fi
for config in "${configs[@]}"; do
  cargo run --quiet --bin sweep -- "$config" ${SWEEP_ARGS:-}
  .venv/bin/python scripts/sklearn_reference.py "$config" "${keep[@]}"
done
cargo run --quiet --bin parity -- "${configs[@]}"
# Where the L-BFGS paths part, for the configs whose runs the parity report lists as parting
# (the ten splits and the tight-tolerance fits are left out: hours of scipy reruns).
.venv/bin/python scripts/path_parting.py results notebook-a notebook-b notebook-c notebook-d converged quick lbfgs regularization penalties notebook-c-gd notebook-c-passes
