#!/usr/bin/env bash
# Run today's host scenarios and finding tests (host_app, queue_budget, the cmake checks)
# against the firmware sources of another git revision: the way to see that each finding test
# fails on the code before its fix.
#   firmware/host_test/run_against.sh REV [ctest -R regex]     (default regex: finding)
# Builds in a temporary folder; the unit tests of today's portable core are not built (they test
# today's API). Exit status: ctest's.
set -euo pipefail
rev=${1:?usage: run_against.sh REV [regex]}
regex=${2:-finding}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel)"
work=$(mktemp -d -t csi-edge-against.XXXXXX)
trap 'rm -rf "$work"' EXIT
git -C "$repo" archive "$rev" firmware tests/vectors | tar -x -C "$work"
rm -rf "$work/firmware/host_test"
mkdir -p "$work/firmware/host_test"
(cd "$here" && tar -c --exclude=build .) | tar -x -C "$work/firmware/host_test"
cmake -S "$work/firmware/host_test" -B "$work/build" -DCMAKE_BUILD_TYPE=Debug >"$work/configure.log" 2>&1 ||
    { cat "$work/configure.log"; exit 1; }
cmake --build "$work/build" -j "${CSI_EDGE_JOBS:-2}" --target host_app queue_budget >"$work/build.log" 2>&1 ||
    { cat "$work/build.log"; exit 1; }
echo "== host tests of $(git -C "$here" rev-parse --short HEAD) against the firmware of $rev"
ctest --test-dir "$work/build" -R "$regex" --output-on-failure -j "${CSI_EDGE_JOBS:-2}"
