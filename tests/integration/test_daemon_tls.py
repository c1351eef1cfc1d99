"""MQTT over TLS with a client certificate and a password, against a real mosquitto."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from daemon_harness import DaemonProcess, PtyBoard
from test_daemon import model_path  # noqa: F401 - fixture reuse

pytestmark = pytest.mark.timeout(120)


def openssl(*args: str, cwd) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture
def pki(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (Debian: apt-get install openssl)")
    d = tmp_path / "pki"
    d.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=csi-edge test CA", cwd=d)
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1"), ("client", "extendedKeyUsage=clientAuth")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={name}", cwd=d)
        (d / f"{name}.ext").write_text(ext + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)
    return d


def test_state_over_tls_with_client_certificate_and_password(tmp_path, pki, mosquitto_factory, model_path):  # noqa: F811
    if shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto_passwd is missing (Debian: apt-get install mosquitto)")
    (pki / "passwd").write_text("")
    subprocess.run(["mosquitto_passwd", "-b", str(pki / "passwd"), "edge", "s3cret"], check=True, timeout=30)
    tls = [f"cafile {pki / 'ca.pem'}", f"certfile {pki / 'server.pem'}", f"keyfile {pki / 'server.key'}",
           "require_certificate true", f"password_file {pki / 'passwd'}"]
    broker = mosquitto_factory(extra=tls, anonymous=False)
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    config = tmp_path / "config.toml"
    config.write_text(f'[mqtt]\ntls = true\nca_file = "{pki / "ca.pem"}"\ncert_file = "{pki / "client.pem"}"\n'
                      f'key_file = "{pki / "client.key"}"\nusername = "edge"\npassword = "s3cret"\n')
    daemon = DaemonProcess(["--config", str(config), "--source", f"serial:{board.link}", "--node", "tls",
                            "--model", str(model_path), "--mqtt", f"mqtts://127.0.0.1:{broker.port}", "--jsonl", "-",
                            "--set", "health.interval_s=1"])
    try:
        daemon.wait_log("mqtt_connected")
        health = daemon.wait_json(lambda o: o["topic"] == "health" and o["publish_delivered"] >= 3, timeout=60)
        assert daemon.terminate() == 0
    finally:
        daemon.kill()
        board.close()
    assert health["broker_connected"] is True and health["publish_dropped"] == 0
    assert not any("mqtt_refused" in line for line in daemon.err_lines)
    assert json.dumps(health)  # the delivered results were acknowledged over TLS by an authenticating broker


def test_refused_credentials_are_reported_and_never_count_as_connected(tmp_path, pki, mosquitto_factory, model_path):  # noqa: F811
    if shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto_passwd is missing (Debian: apt-get install mosquitto)")
    (pki / "passwd").write_text("")
    subprocess.run(["mosquitto_passwd", "-b", str(pki / "passwd"), "edge", "s3cret"], check=True, timeout=30)
    broker = mosquitto_factory(extra=[f"password_file {pki / 'passwd'}"], anonymous=False)
    board = PtyBoard(tmp_path / "csi-edge-rx", speed=10.0)
    daemon = DaemonProcess(["--source", f"serial:{board.link}", "--node", "refused", "--model", str(model_path),
                            "--mqtt", f"mqtt://edge:wrong@127.0.0.1:{broker.port}", "--jsonl", "-", "--set", "health.interval_s=1"])
    try:
        refused = daemon.wait_log("mqtt_refused")
        health = daemon.wait_json(lambda o: o["topic"] == "health" and o["results"] >= 3, timeout=60)
        assert daemon.terminate() == 0
    finally:
        daemon.kill()
        board.close()
    assert "Not authorized" in refused or "Bad user name or password" in refused
    assert health["broker_connected"] is False and health["publish_delivered"] == 0
    assert health["publish_queue_depth"] == health["results"]  # kept for when the broker accepts us
