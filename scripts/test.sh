#!/usr/bin/env bash
# The project's full test run: sets up the pinned scikit-learn venv (for the parity test), then
# runs every test, including the parity test that `cargo test` alone skips.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_python.sh
MNIST_LOGREG_PYTHON="$PWD/.venv/bin/python" cargo test --workspace -- --include-ignored
