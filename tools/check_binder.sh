#!/usr/bin/env bash
# What this machine can check of Binder: a FRESH virtual environment installs exactly what binder/
# lists (binder/requirements.txt), then a whole Binder session runs in it under Binder's limits
# (a hard 2 GB memory cap, one core), as postBuild leaves it (no online weights): binder/postBuild,
# every notebook, and predict's first call (tools/benchmark.py --binder; see its docstring). It
# fails if any step fails or is killed at the cap; the targets (minutes per step) are in its table.
#   bash tools/check_binder.sh                      (the whole session)
#   bash tools/check_binder.sh notebooks/01_*.ipynb (only those notebooks, no postBuild)
#   bash tools/check_binder.sh --online notebooks/03_*.ipynb  (with VGGFace and ImageNet, simulated)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/binder-venv"
"$work/binder-venv/bin/pip" install --disable-pip-version-check -q -r binder/requirements.txt
"$work/binder-venv/bin/pip" install --disable-pip-version-check -q --no-deps -e .
"$work/binder-venv/bin/python" tools/benchmark.py --binder "$@"
echo "binder check: every step ran within Binder's limits in a fresh environment built from binder/"
