#!/usr/bin/env bash
# Reproduces the four notebooks, a converged comparison, the converged regularisation study, the
# penalties study (selection by 5-fold CV against GridSearchCV) and notebook C's gradient descent
# (its study and its comparison with L-BFGS; numpy's descent on scikit-learn's side) on both sides and writes
# results/parity.md: the harness (sweep) and scikit-learn (sklearn_reference.py) on each config,
# then the comparison. Takes about three hours on 2 cores (notebook D's five 1,000-epoch sag fits
# on raw pixels take scikit-learn about 15 minutes each, and scikit-learn's cross-validation);
# KEEP_CV=1 keeps scikit-learn's earlier cross-validation scores (sklearn_reference.py --keep-cv).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_python.sh
configs=(experiments/notebook-a.toml experiments/notebook-b.toml experiments/notebook-c.toml experiments/notebook-d.toml experiments/converged.toml experiments/quick.toml experiments/lbfgs.toml experiments/regularization.toml experiments/penalties.toml experiments/notebook-c-gd.toml experiments/notebook-c-passes.toml)
keep=()
if [ "${KEEP_CV:-0}" = 1 ]; then keep=(--keep-cv); fi
for config in "${configs[@]}"; do
  cargo run --quiet --bin sweep -- "$config" ${SWEEP_ARGS:-}
  .venv/bin/python scripts/sklearn_reference.py "$config" "${keep[@]}"
done
cargo run --quiet --bin parity -- "${configs[@]}"
