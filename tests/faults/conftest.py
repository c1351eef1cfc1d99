"""The fault-injection suite: each scenario runs the real daemon (`csi-edge run`, a subprocess)
or the real recorder against real parts (mosquitto on a free loopback port, pseudo-terminals
fed by the simulator, tmpfs mounts, /dev/full, openssl certificates) and asserts what a user
would see: log lines, health fields, exit codes, delivered messages. docs/reliability.md lists
the scenarios and what each asserts.

Every wait is bounded and waits on an event (a log line, a JSON line, an MQTT message, a
file); no sleep synchronises anything. Servers listen on 127.0.0.1 only.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

INTEGRATION = Path(__file__).resolve().parents[1] / "integration"
sys.path.insert(0, str(INTEGRATION))  # the shared harness: daemon_harness, capture_support

from daemon_harness import REPO  # noqa: E402

DEFAULT_MODEL = REPO / "models" / "default"


@pytest.fixture(scope="session")
def model(tmp_path_factory) -> Path:
    """The shipped model, else a tiny one (every stage runs either way)."""
    if DEFAULT_MODEL.with_suffix(".json").exists():
        return DEFAULT_MODEL
    from csi_edge.tools.bench.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("model"))


@pytest.fixture
def tmpfs(tmp_path):
    """Mount a small tmpfs (root only): `tmpfs(size_kib) -> Path`; unmounted at the end.
    Skipped with the reason where mounting is not permitted (not root, no CAP_SYS_ADMIN)."""
    mounts: list[Path] = []

    def mount(size_kib: int) -> Path:
        where = tmp_path / f"tmpfs{len(mounts)}"
        where.mkdir()
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0777", "tmpfs", str(where)],
                              capture_output=True, text=True, timeout=30)  # fmt: skip
        if proc.returncode != 0:
            pytest.skip(f"full-disk scenario needs to mount a tmpfs (root / CAP_SYS_ADMIN): {proc.stderr.strip()}")
        mounts.append(where)
        return where

    yield mount
    for where in mounts:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def pki(tmp_path_factory) -> Path:
    """ca.pem signs server.pem (subjectAltName IP:127.0.0.1 only: 'localhost' does not match);
    other-ca.pem is an unrelated CA; client.pem/client.key is a client certificate of ca.pem;
    stray.key is a key that matches no certificate."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (Debian: apt-get install openssl)")
    d = tmp_path_factory.mktemp("pki")
    for ca in ("ca", "other-ca"):
        openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "2",
                "-subj", f"/CN=csi-edge fault {ca}", cwd=d)  # fmt: skip
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        (d / f"{name}.ext").write_text(ext + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)  # fmt: skip
    openssl("genrsa", "-out", "stray.key", "2048", cwd=d)
    return d
