#!/usr/bin/env bash
# The layering contracts of pyproject.toml [tool.importlinter], checked by import-linter.
# import-linter (grimp) walks the folder of the root package, but csi_edge is assembled from two
# folders (edge/ -> csi_edge, tools/ -> csi_edge.tools: setuptools package-dir), so the check
# runs on a temporary tree of symlinks with that shape, first on the import path.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/csi_edge"
cp -rs "$PWD/edge/." "$tree/csi_edge/"
cp -rs "$PWD/tools" "$tree/csi_edge/tools"
PYTHONPATH="$tree" .venv/bin/lint-imports --no-cache "$@"
