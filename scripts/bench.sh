#!/usr/bin/env bash
# Speed and memory, harness vs scikit-learn, on the same work in one invocation: builds the
# release binaries and the Python venvs, then runs scripts/bench.py, which writes
# results/bench.md (see its --help: --only fits,sweep,evaluation,epochs, --repeats N,
# --sweep-repeats N). On 2 cores: fits about 25 min, sweep about 17 min per repeat,
# evaluation about 5 min, epochs about 4 min. Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v taskset >/dev/null || { echo "bench: taskset (util-linux) is needed" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is needed (apt-get install time)" >&2; exit 2; }
bash scripts/setup_python.sh
# The bench venv: the same pinned scikit-learn plus scikit-learn-intelex.
if ! .venv-bench/bin/python -c "import sklearnex" 2>/dev/null; then
  python3 -m venv .venv-bench
  .venv-bench/bin/python -m pip install --quiet --disable-pip-version-check \
    -r scripts/requirements.txt -r scripts/requirements-bench.txt
fi
cargo build --release --quiet --bin sweep --example sparse_speed
exec .venv/bin/python scripts/bench.py "$@"
