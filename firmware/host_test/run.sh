#!/usr/bin/env bash
# Configure, build and run the firmware host tests (ctest): portable core unit tests, shared
# byte-exact vectors, and the host-built RX/TX app under injected load. Works from a clean
# clone. Build dir: $CSI_EDGE_HOST_BUILD (default firmware/host_test/build). Exits non-zero
# on any failure and ends with ctest's summary.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${CSI_EDGE_HOST_BUILD:-$here/build}"
jobs="${CSI_EDGE_JOBS:-2}"
for tool in cmake ctest gcc; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (Debian: apt-get install cmake gcc)" >&2; exit 1; }
done
mkdir -p "$build"
if ! cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Debug >"$build/configure.log" 2>&1; then
    cat "$build/configure.log"
    exit 1
fi
if ! cmake --build "$build" -j "$jobs" >"$build/build.log" 2>&1; then
    cat "$build/build.log"
    exit 1
fi
ctest --test-dir "$build" --output-on-failure -j "$jobs"
