"""Configuration that points at something broken or leaks a secret: `--check-config` (and the
start of `run`) says so in one line naming the key and the file, never a traceback, never the
password; a model package cannot point outside itself."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from daemon_harness import REPO

pytestmark = pytest.mark.timeout(120)

SECRET = "hunter2-s3cret"


def csi_edge(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "csi_edge.cli", *args], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env={**os.environ, **(env or {})})  # fmt: skip


def check(config_text: str, tmp_path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    config = tmp_path / "config.toml"
    config.write_text(config_text)
    config.chmod(0o600)
    return csi_edge("run", "--config", str(config), "--source", "udp:127.0.0.1:0", "--check-config", *extra, env=env)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    errors = [line for line in proc.stderr.splitlines() if line.startswith("csi-edge run: error:")]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return errors[0]


@pytest.mark.parametrize("case", ["missing ca_file", "ca_file not a certificate", "missing key_file", "key does not match"])
def test_tls_files_are_checked_with_one_line_each(tmp_path, pki, case):
    files = {"ca_file": pki / "ca.pem", "cert_file": pki / "client.pem", "key_file": pki / "client.key"}
    key, expected = {
        "missing ca_file": ("ca_file", "no such file"),
        "ca_file not a certificate": ("ca_file", "not a PEM file holding a certificate"),
        "missing key_file": ("key_file", "no such file"),
        "key does not match": ("key_file", "cannot be used together"),
    }[case]
    files[key] = {"missing ca_file": tmp_path / "nope.pem", "ca_file not a certificate": pki / "ca.key",
                  "missing key_file": tmp_path / "nope.key", "key does not match": pki / "stray.key"}[case]  # fmt: skip
    body = "[mqtt]\ntls = true\nhost = \"127.0.0.1\"\n" + "".join(f'{k} = "{v}"\n' for k, v in files.items())
    proc = check(body, tmp_path)
    line = one_error_line(proc)
    assert proc.returncode == 2
    assert f"{key} {files[key]}" in line and "[mqtt]" in line and expected in line


def test_good_tls_files_pass(tmp_path, pki):
    body = (f'[mqtt]\ntls = true\nhost = "127.0.0.1"\nca_file = "{pki / "ca.pem"}"\n'
            f'cert_file = "{pki / "client.pem"}"\nkey_file = "{pki / "client.key"}"\n')  # fmt: skip
    proc = check(body, tmp_path)
    assert proc.returncode == 0 and "configuration OK" in proc.stderr


def test_the_password_is_never_echoed(tmp_path):
    url = csi_edge("run", "--source", "udp:127.0.0.1:0", "--mqtt", f"mqtt://edge:{SECRET}@broker:99999", "--check-config")
    assert url.returncode == 2 and "port must be 1..65535" in url.stderr and "***" in url.stderr
    in_ps = csi_edge("run", "--source", "udp:127.0.0.1:0", "--no-mqtt", "--mqtt", f"mqtt://edge:{SECRET}@127.0.0.1:1883",
                     "--check-config")  # fmt: skip
    assert in_ps.returncode == 0 and "the --mqtt URL carries a password" in in_ps.stderr and SECRET not in in_ps.stderr
    number = check('[mqtt]\nusername = "edge"\npassword = 12345678\n', tmp_path)
    assert number.returncode == 2 and "[mqtt] password must be a string (got a int, value not shown)" in number.stderr
    assert SECRET not in url.stderr + url.stdout and "12345678" not in number.stderr


def test_password_file_and_environment_are_offered_and_warned_about(tmp_path):
    help_text = csi_edge("run", "--help").stdout
    assert "password_file" in help_text and "CSI_EDGE_MQTT_PASSWORD" in help_text
    missing = check(f'[mqtt]\nusername = "edge"\npassword_file = "{tmp_path / "nope"}"\n', tmp_path)
    assert missing.returncode == 2 and f"[mqtt] password_file {tmp_path / 'nope'}: cannot read" in one_error_line(missing)
    config = tmp_path / "shared.toml"
    config.write_text(f'[mqtt]\nhost = "broker.example"\nusername = "edge"\npassword = "{SECRET}"\n')
    config.chmod(0o644)
    proc = csi_edge("run", "--config", str(config), "--source", "udp:127.0.0.1:0", "--check-config")
    assert proc.returncode == 0
    assert "config_warning" in proc.stderr and "other users can read it" in proc.stderr
    assert "clear text to broker.example:1883" in proc.stderr and SECRET not in proc.stderr


def test_serial_port_that_does_not_exist_fails_the_check(tmp_path):
    proc = csi_edge("run", "--source", "serial:/dev/ttyDOESNOTEXIST", "--no-mqtt", "--check-config")
    assert proc.returncode == 2
    assert "serial port /dev/ttyDOESNOTEXIST does not exist" in one_error_line(proc)


def test_a_model_card_cannot_point_outside_its_package(tmp_path):
    from csi_edge.tools.bench.tiny_model import build_tiny_model

    package = tmp_path / "pkg"
    model = build_tiny_model(package, name="m")
    outside = tmp_path / "evil.onnx"
    shutil.move(model.with_suffix(".onnx"), outside)  # the same bytes: the sha256 matches
    card = json.loads(model.with_suffix(".json").read_text())
    for target in ("../evil.onnx", str(outside)):
        card["onnx_file"] = target
        model.with_suffix(".json").write_text(json.dumps(card))
        proc = csi_edge("run", "--source", "udp:127.0.0.1:0", "--no-mqtt", "--model", str(model), "--check-config")
        assert proc.returncode == 1
        assert f"onnx_file {target!r} must be a file name beside the card" in one_error_line(proc)
