#!/usr/bin/env bash
# Speed and memory, harness vs scikit-learn, on the same work in one invocation:
# builds the release binary and the scikit-learn venv, then runs scripts/bench.py, which prints
# each side's seconds (stock scikit-learn and scikit-learn-intelex), the ratios, accuracies, peak
# RSS, one evaluation's GFLOP/s against the measured FMA peak and sag's and saga's seconds per
# epoch, and writes results/bench.md (--epochs-only: only the epochs, replacing that section).
# About 15 minutes on 2 cores (--quick: about 8). Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_python.sh
# The bench venv: the same pinned scikit-learn plus scikit-learn-intelex.
if ! .venv-bench/bin/python -c "import sklearnex" 2>/dev/null; then
  python3 -m venv .venv-bench
  .venv-bench/bin/python -m pip install --quiet --disable-pip-version-check \
    -r scripts/requirements.txt -r scripts/requirements-bench.txt
fi
cargo build --release --quiet --bin sweep
cargo build --release --quiet -p linfa-logistic --example evaluation_speed
exec .venv/bin/python scripts/bench.py "$@"
