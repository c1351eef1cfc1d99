#!/usr/bin/env bash
# Install csi-edge as a systemd service (run as root from a checkout or an unpacked release):
#
#   sudo bash systemd/install.sh [--no-enable]
#
# - creates the unprivileged user `csi-edge` (member of dialout, for the serial board);
# - creates a venv in /opt/csi-edge/venv and installs this package into it, with the shipped
#   models in /opt/csi-edge/models;
# - on a Jetson (JetPack 6, aarch64) switches onnxruntime to NVIDIA's GPU build
#   (TensorRT / CUDA providers) when the Jetson index has it; otherwise keeps the CPU build;
# - installs /etc/csi-edge/config.toml (an existing one is kept) and checks it;
# - installs the udev rule (/dev/csi-edge-rx) and the unit, then enables and starts it.
set -euo pipefail

PREFIX=/opt/csi-edge
VENV=$PREFIX/venv
CONF_DIR=/etc/csi-edge
SERVICE_USER=csi-edge
# NVIDIA's pip index for JetPack 6 (CUDA 12.6); override with JETSON_INDEX=... if it moves.
JETSON_INDEX=${JETSON_INDEX:-https://pypi.jetson-ai-lab.io/jp6/cu126}
ENABLE=1
[[ "${1:-}" == "--no-enable" ]] && ENABLE=0

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf 'install: %s\n' "$*"; }

[[ $EUID -eq 0 ]] || { echo "install: run as root: sudo bash $0" >&2; exit 2; }
command -v python3 >/dev/null || { echo "install: python3 is missing: apt-get install python3 python3-venv" >&2; exit 1; }
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "install: Python >= 3.10 is needed" >&2; exit 1; }
# The decoder's compiled text kernel (edge/decoder/_textscan.c) needs a C compiler and the Python
# headers; without them the package still installs and decodes text with the numpy path (~2-3x slower).
need=()
command -v gcc >/dev/null || need+=(gcc)
python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || need+=(python3-dev)
python3 -m venv --help >/dev/null 2>&1 || need+=(python3-venv)
if [[ ${#need[@]} -gt 0 ]]; then
    say "installing Debian packages: ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" \
        || say "could not install ${need[*]}: the text decoder falls back to its numpy path"
fi

if ! id "$SERVICE_USER" >/dev/null 2>&1; then
    say "creating user $SERVICE_USER"
    useradd --system --no-create-home --home-dir /var/lib/csi-edge --shell /usr/sbin/nologin "$SERVICE_USER"
fi
usermod -aG dialout "$SERVICE_USER"

say "creating $VENV"
mkdir -p "$PREFIX"
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet "$SRC"

if [[ "$(uname -m)" == "aarch64" && -e /etc/nv_tegra_release ]]; then
    say "Jetson detected: trying the GPU build of onnxruntime from $JETSON_INDEX"
    if "$VENV/bin/pip" install --quiet --index-url "$JETSON_INDEX" onnxruntime-gpu; then
        "$VENV/bin/pip" uninstall --quiet --yes onnxruntime || true
        "$VENV/bin/pip" install --quiet --force-reinstall --no-deps --index-url "$JETSON_INDEX" onnxruntime-gpu
    else
        say "GPU build not available; keeping the CPU onnxruntime"
    fi
fi
"$VENV/bin/python" -c 'import onnxruntime as o; print("install: onnxruntime providers:", ", ".join(o.get_available_providers()))'

if [[ -d "$SRC/models" ]]; then
    mkdir -p "$PREFIX/models"
    cp -a "$SRC/models/." "$PREFIX/models/"
fi

mkdir -p "$CONF_DIR"
if [[ ! -e "$CONF_DIR/config.toml" ]]; then
    say "writing $CONF_DIR/config.toml (edit [source], [mqtt] and [publish] node)"
    "$VENV/bin/python" -m csi_edge.config > "$CONF_DIR/config.toml"
    sed -i 's|^spec = ""|spec = "serial:/dev/csi-edge-rx"|; s|^path = ""|path = "/opt/csi-edge/models/default"|' "$CONF_DIR/config.toml"
else
    say "keeping the existing $CONF_DIR/config.toml"
fi
chown root:"$SERVICE_USER" "$CONF_DIR/config.toml"
chmod 0640 "$CONF_DIR/config.toml"  # may hold the MQTT password
"$VENV/bin/csi-edge" run --config "$CONF_DIR/config.toml" --print-config >/dev/null

install -m 0644 "$SRC/systemd/99-csi-edge.rules" /etc/udev/rules.d/99-csi-edge.rules
if command -v udevadm >/dev/null; then
    udevadm control --reload || true
    udevadm trigger --subsystem-match=tty || true
fi
install -m 0644 "$SRC/systemd/csi-edge.service" /etc/systemd/system/csi-edge.service
systemctl daemon-reload
if [[ $ENABLE -eq 1 ]]; then
    systemctl enable --now csi-edge.service
    say "started: journalctl -u csi-edge -f   (status: systemctl status csi-edge)"
else
    say "installed; start with: systemctl enable --now csi-edge"
fi
