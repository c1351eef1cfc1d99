#!/usr/bin/env bash
# Simulated boards -> csi-edge run -> MQTT broker (started on loopback) -> live results.
set -euo pipefail
cd "$(dirname "$0")/.."
CSI_EDGE_EXTRAS=${CSI_EDGE_EXTRAS:-dev} bash scripts/setup.sh
exec .venv/bin/csi-edge demo "$@"
