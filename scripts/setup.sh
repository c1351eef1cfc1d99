#!/usr/bin/env bash
# Set up a development environment from a fresh clone: system packages (when root), then a
# venv in .venv with csi-edge installed editable with its [dev] and [train] extras.
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)
command -v systemd-analyze >/dev/null || need_apt+=(systemd)
command -v tmux >/dev/null || need_apt+=(tmux)
command -v cmake >/dev/null || need_apt+=(cmake)
command -v gcc >/dev/null || need_apt+=(gcc)
command -v openssl >/dev/null || need_apt+=(openssl)
# The real-header firmware compile (../shared/esp-idf/check-firmware): Xtensa GCC + newlib headers.
command -v xtensa-lx106-elf-gcc >/dev/null || need_apt+=(gcc-xtensa-lx106)
[ -f /usr/include/newlib/sys/reent.h ] || need_apt+=(libnewlib-dev)
# The web view's browser test (tests/integration/test_web_browser.py): Debian's chromium and its driver.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing Debian packages: ${need_apt[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (${need_apt[*]}); run: sudo apt-get install -y ${need_apt[*]}" >&2
  fi
fi
# The Debian package starts a broker on port 1883; csi-edge's tests and demo start their own.
if command -v systemctl >/dev/null && systemctl is-active --quiet mosquitto 2>/dev/null; then
  systemctl stop mosquitto || true
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
extras=${CSI_EDGE_EXTRAS:-dev,train}
# (the text decoder's C kernel is built by this install: a change to it re-installs too)
stamp=.venv/.csi-edge-installed-$(cat pyproject.toml setup.py edge/decoder/_textscan.c | sha256sum | cut -c1-16)-${extras//,/_}
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  # torch is pinned in the [train] extra (a CPU wheel); never let pip pick an unpinned torch.
  .venv/bin/python -m pip install -q -e ".[${extras}]"
  touch "$stamp"
fi
# kconfgen for check-firmware (generates sdkconfig.h from ESP-IDF's Kconfig); a check tool, not
# a dependency of the package, so it goes into the venv here rather than into pyproject.toml.
if ! .venv/bin/python -c 'import kconfgen' >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q "esp-idf-kconfig==3.14.0"
fi
