#!/usr/bin/env bash
# The project's full test run: sets up the pinned scikit-learn venv (for the parity test), then
# runs every test, including the parity test that `cargo test` alone skips, then the real Slurm
# test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_python.sh
# The model-based test of operation sequences runs 12 sequences here (README: "Bad input").
OPERATION_SEQUENCES=12 MNIST_LOGREG_PYTHON="$PWD/.venv/bin/python" cargo test --workspace -- --include-ignored
# The cluster path on a real single-node Slurm (installs it as root; skips, saying why, elsewhere).
SWEEP_BIN="$PWD/target/debug/sweep" bash scripts/slurm/real_slurm_test.sh
