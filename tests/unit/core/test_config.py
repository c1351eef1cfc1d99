"""The configuration schema: TOML layer, command-line layer, one clear error per bad key."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from csi_edge.config import Config, load_config, markdown, parse_mqtt_url, parse_override, schema, to_toml
from csi_edge.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_defaults_file_and_command_line_layer_in_that_order(tmp_path):
    path = write(tmp_path, '[mqtt]\nport = 1884\nhost = "broker"\n[window]\nmax_gap_fill = 3\n')
    cfg = load_config(path, overrides={"mqtt.host": "cli-host"}, sets=["mqtt.port=1999", "capture.classes=a,b"])
    assert cfg.mqtt.host == "cli-host"  # explicit flag beats the file
    assert cfg.mqtt.port == 1999  # --set beats the file
    assert cfg.window.max_gap_fill == 3  # file beats the default
    assert cfg.capture.classes == ["a", "b"]
    assert cfg.model.intra_op_threads == 1


def test_out_of_range_value_names_file_section_key_range_and_value(tmp_path):
    path = write(tmp_path, "[mqtt]\nport = 70000\n")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert str(exc.value) == f"{path}: [mqtt] port must be 1..65535 (got 70000)"
    assert exc.value.exit_code == 2


@pytest.mark.parametrize(
    "text, expected",
    [
        ("[mqtt]\nhots = 'x'\n", "unknown key [mqtt] hots (did you mean 'host'?)"),
        ("[windw]\nsize = 3\n", "unknown section [windw] (did you mean 'window'?)"),
        ("[mqtt]\ntls = 'yes'\n", "[mqtt] tls must be true or false (got 'yes')"),
        ("[model]\nintra_op_threads = 1.5\n", "[model] intra_op_threads must be an integer (got 1.5)"),
        ("[log]\nlevel = 'loud'\n", "[log] level must be one of debug, info, warning, error (got 'loud')"),
        ("[publish]\nnode = 'a b'\n", "[publish] node has a bad format"),
        ("[source]\nreconnect_min_s = 10.0\nreconnect_max_s = 1.0\n", "[source] reconnect_min_s must be <= reconnect_max_s"),
        ("[mqtt]\ncert_file = 'c.pem'\ntls = true\n", "[mqtt] cert_file and key_file must be given together"),
        ("mqtt = 3\n", "[mqtt] must be a table"),
    ],
)
def test_each_bad_key_gets_a_clear_message(tmp_path, text, expected):
    with pytest.raises(ConfigError, match=None) as exc:
        load_config(write(tmp_path, text))
    assert expected in str(exc.value)
    assert "\n" not in str(exc.value)


def test_all_bad_keys_are_reported_together(tmp_path):
    with pytest.raises(ConfigError) as exc:
        load_config(write(tmp_path, "[mqtt]\nport = 0\nqos = 3\n"))
    assert "[mqtt] port" in str(exc.value) and "[mqtt] qos" in str(exc.value)


def test_bad_command_line_values_name_the_command_line():
    with pytest.raises(ConfigError, match=r"command line: \[mqtt\] port must be 1..65535 \(got 0\)"):
        load_config(None, sets=["mqtt.port=0"])
    with pytest.raises(ConfigError, match="expected section.key=value"):
        parse_override("mqtt.port")
    with pytest.raises(ConfigError, match=r"unknown key \[mqtt\] prot \(did you mean 'port'\?\)"):
        load_config(None, sets=["mqtt.prot=1"])


def test_invalid_toml_and_missing_file_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[mqtt\n"))
    with pytest.raises(ConfigError, match="cannot read configuration"):
        load_config(tmp_path / "absent.toml")


def test_override_values_are_read_as_toml_with_string_fallback():
    assert parse_override("mqtt.port=1884") == ("mqtt", "port", 1884)
    assert parse_override("mqtt.tls=true") == ("mqtt", "tls", True)
    assert parse_override("mqtt.host=broker.lan") == ("mqtt", "host", "broker.lan")
    assert parse_override("publish.node=123") == ("publish", "node", "123")  # a str key stays a string
    assert parse_override('capture.classes=["x", "y"]') == ("capture", "classes", ["x", "y"])


def test_mqtt_url():
    assert parse_mqtt_url("mqtt://h:1884") == {"mqtt.host": "h", "mqtt.port": 1884, "mqtt.tls": False, "mqtt.enabled": True}
    o = parse_mqtt_url("mqtts://u:p%40ss@h")
    assert o["mqtt.port"] == 8883 and o["mqtt.tls"] and o["mqtt.username"] == "u" and o["mqtt.password"] == "p@ss"
    with pytest.raises(ConfigError, match="expected mqtt://HOST:PORT"):
        parse_mqtt_url("http://h")


def test_every_key_is_documented_and_bounded_where_numeric():
    for keys in schema().values():
        for spec in keys.values():
            assert spec.doc, spec.path
            if spec.type in (int, float):
                assert spec.lo is not None and spec.hi is not None, spec.path


def test_printed_config_reloads_to_the_same_values(tmp_path):
    cfg = load_config(None, sets=["mqtt.port=1999", "publish.node=lab-1"])
    again = load_config(write(tmp_path, to_toml(cfg, hide_secrets=False)))
    assert again.mqtt == cfg.mqtt and again.publish == cfg.publish and again.capture == cfg.capture


def test_docs_config_md_is_generated_from_the_schema():
    assert (REPO / "docs" / "config.md").read_text() == markdown(), "regenerate: python -m csi_edge.config --markdown > docs/config.md"


def test_run_check_config_exit_codes(tmp_path):
    bad = write(tmp_path, "[mqtt]\nport = 70000\n")
    res = subprocess.run([sys.executable, "-m", "csi_edge.cli", "run", "--config", str(bad), "--check-config"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [f"csi-edge run: error: {bad}: [mqtt] port must be 1..65535 (got 70000)"]


def test_config_dataclasses_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Config().mqtt.port = 1  # type: ignore[misc]
