#!/usr/bin/env bash
# What this machine can check of Binder: a FRESH virtual environment installs exactly what
# binder/ lists (binder/requirements.txt, then binder/postBuild), and notebook 01 runs in it.
#   bash tools/check_binder.sh            (takes a few minutes; uses a temporary venv)
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$(mktemp -d)/binder-venv
python3 -m venv "$venv"
source "$venv/bin/activate"
pip install --disable-pip-version-check -q -r binder/requirements.txt
bash binder/postBuild
out=$(mktemp -d)
python tools/run_notebooks.py notebooks/01_data_overview.ipynb --output-dir "$out"
python - "$out/01_data_overview.ipynb" <<'PY'
import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
assert not errors, errors
print("binder check: notebook 01 ran without error in a fresh environment built from binder/")
PY
rm -rf "$(dirname "$venv")" "$out"
