#!/usr/bin/env bash
# The whole test suite from a fresh clone: set up, build and run the firmware host tests
# (cmake/ctest), then the Python tests (unit, vectors, integration with a real mosquitto,
# pty, onnxruntime, esptool and the NVS generator).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== firmware host tests (ctest)"
bash firmware/host_test/run.sh
echo "== lint (ruff), types (mypy, the csi_edge core) and layering (import-linter)"
.venv/bin/ruff check edge tools tests
.venv/bin/mypy
bash scripts/lint_imports.sh
echo "== python tests (pytest)"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
