#!/usr/bin/env bash
# Speed and memory, harness vs scikit-learn, on the same work in one invocation:
# builds the release binary and the scikit-learn venv, then runs scripts/bench.py, which prints
# each side's seconds, the ratios, accuracies and peak RSS, and writes results/bench.md.
# About 15 minutes on 2 cores (--quick: about 8). Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_python.sh
cargo build --release --quiet --bin sweep
exec .venv/bin/python scripts/bench.py "$@"
