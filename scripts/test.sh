#!/usr/bin/env bash
# The whole test suite from a fresh clone: set up, build and run the firmware host tests
# (cmake/ctest), compile the firmware against the real ESP-IDF headers (../shared/esp-idf,
# skipped with a message only when ../shared is absent), lint and types, then the Python tests
# (unit, vectors, integration with a real mosquitto, pty, onnxruntime, esptool and the NVS
# generator).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== firmware host tests (ctest)"
bash firmware/host_test/run.sh
echo "== firmware against the real ESP-IDF v5.4.2 and v5.5.5 headers (check-firmware)"
if [ -d ../shared ]; then
  PYTHON="$PWD/.venv/bin/python" bash ../shared/esp-idf/check-firmware firmware v5.4.2 v5.5.5
else
  echo "check-firmware SKIPPED: ../shared (the ESP-IDF header trees) is absent beside this checkout"
fi
echo "== lint (ruff), types (mypy, the csi_edge core) and layering (import-linter)"
.venv/bin/ruff check edge tools tests
.venv/bin/mypy
bash scripts/lint_imports.sh
echo "== python tests (pytest)"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
