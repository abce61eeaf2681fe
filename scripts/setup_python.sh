#!/usr/bin/env bash
# Creates .venv with the pinned scikit-learn used for reference runs. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# Installs unless the pinned versions are already there (a missing package fails the import).
if ! .venv/bin/python - 2>/dev/null <<'PY'
import sys, sklearn, numpy, scipy
want = dict(line.strip().split("==") for line in open("scripts/requirements.txt") if "==" in line)
have = {"scikit-learn": sklearn.__version__, "numpy": numpy.__version__, "scipy": scipy.__version__}
sys.exit(0 if all(have[k] == v for k, v in want.items()) else 1)
PY
then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
fi
echo ".venv ready: $(.venv/bin/python -c 'import sklearn; print("scikit-learn", sklearn.__version__)')"
