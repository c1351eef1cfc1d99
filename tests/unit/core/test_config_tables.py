"""Arrays of tables in the one configuration schema: [[fuse.rooms]], [[fuse.links]], [source] specs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from csi_edge.config import describe_keys, load_config, markdown, to_toml
from csi_edge.errors import ConfigError

SITE = """
[fuse]
site = "home"
stale_s = 2.0

[[fuse.rooms]]
name = "lab"
nodes = ["a", "b", "jetson1/north"]

[[fuse.rooms]]
name = "office"
nodes = ["c"]

[[fuse.links]]
node = "a"
weight = 2.0
tx_m = [2.0, -2.35, 1]
rx_m = [2.0, 4.85, 1.0]
"""


def write(tmp_path, text: str):
    path = tmp_path / "site.toml"
    path.write_text(text)
    return path


def test_rooms_and_links_load_as_typed_tables(tmp_path):
    fuse = load_config(write(tmp_path, SITE)).fuse
    assert [r.name for r in fuse.rooms] == ["lab", "office"]
    assert fuse.rooms[0].nodes == ["a", "b", "jetson1/north"]
    assert fuse.links[0].tx_m == [2.0, -2.35, 1.0] and fuse.links[0].weight == 2.0
    assert fuse.stale_s == 2.0 and fuse.max_age_s == 1.0  # defaults fill the rest


@pytest.mark.parametrize(
    "text, expected",
    [
        ('[[fuse.rooms]]\nname = "lab"\nnods = ["a"]\n', "unknown key [fuse.rooms][0] nods (did you mean 'nodes'?)"),
        ('[[fuse.rooms]]\nname = "lab"\nnodes = ["a"]\n[[fuse.rooms]]\nname = "x"\nnodes = 3\n', "[fuse.rooms][1] nodes must be a list of strings (got 3)"),
        ('[[fuse.rooms]]\nnodes = ["a"]\n', "[fuse.rooms][0] name is required"),
        ('[[fuse.rooms]]\nname = "a b"\nnodes = ["a"]\n', "[fuse.rooms][0] name has a bad format"),
        ("[fuse]\nrooms = 3\n", "[fuse] rooms must be an array of tables"),
        ('[[fuse.rooms]]\nname = "lab"\nnodes = ["a"]\n[[fuse.rooms]]\nname = "lab"\nnodes = ["b"]\n', "[fuse.rooms][1] name 'lab' is already room [fuse.rooms][0]"),
        ('[[fuse.rooms]]\nname = "lab"\nnodes = ["home"]\n', "[fuse.rooms][0] nodes: 'home' has the site's name"),
        ('[[fuse.rooms]]\nname = "lab"\nnodes = ["a/b/c"]\n', "[fuse.rooms][0] nodes: 'a/b/c' is not NODE or NODE/LINK"),
        ('[[fuse.rooms]]\nname = "lab"\nnodes = []\n', "[fuse.rooms][0] nodes must name at least one node"),
        ('[[fuse.rooms]]\nname = "lab"\nnodes = ["a"]\n[[fuse.links]]\nnode = "z"\n', "[fuse.links][0] node 'z' is in no [[fuse.rooms]] nodes"),
        ('[[fuse.rooms]]\nname = "lab"\nnodes = ["a"]\n[[fuse.links]]\nnode = "a"\ntx_m = [1, 2]\nrx_m = [1, 2, 3]\n', "[fuse.links][0] tx_m must be [x, y, z]"),
        ('[[fuse.rooms]]\nname = "lab"\nnodes = ["a"]\n[[fuse.links]]\nnode = "a"\ntx_m = ["x", 2, 3]\n', "[fuse.links][0] tx_m must be a list of numbers"),
        ("[fuse]\nstale_s = 10.0\ndrop_s = 5.0\n", "[fuse] drop_s must be >= stale_s"),
    ],
)
def test_bad_tables_name_the_table_and_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    assert expected in str(exc.value) and str(exc.value).startswith(str(path))
    assert "\n" not in str(exc.value)


def test_set_replaces_the_array_or_changes_one_table(tmp_path):
    path = write(tmp_path, SITE)
    cfg = load_config(path, sets=["fuse.rooms[1].nodes=c,d", "fuse.rooms[2].name=hall", "fuse.rooms[2].nodes=e"])
    assert [(r.name, r.nodes) for r in cfg.fuse.rooms] == [("lab", ["a", "b", "jetson1/north"]), ("office", ["c", "d"]), ("hall", ["e"])]
    cfg = load_config(path, sets=['fuse.rooms=[{name = "den", nodes = ["a"]}]'])
    assert [(r.name, r.nodes) for r in cfg.fuse.rooms] == [("den", ["a"])]
    with pytest.raises(ConfigError, match=r"command line: \[fuse.rooms\]\[5\] does not exist \(there are 2 tables"):
        load_config(path, sets=["fuse.rooms[5].name=x"])
    with pytest.raises(ConfigError, match=r"command line: \[fuse.rooms\]\[1\] nodes must be a list of strings"):
        load_config(path, sets=["fuse.rooms[1].nodes=3"])


def test_printed_tables_load_back_and_are_documented(tmp_path):
    cfg = load_config(write(tmp_path, SITE))
    text = to_toml(cfg)
    assert "[[fuse.rooms]]" in text and "[[fuse.links]]" in text
    again = load_config(write(tmp_path, text))
    assert again.fuse == cfg.fuse and again.mqtt == cfg.mqtt
    assert "| `rooms[].nodes` | list of strings |" in markdown() and "fuse.rooms[].name" in describe_keys()
    assert "(required)" in markdown()


def test_source_specs_take_names_and_the_cli_takes_repeated_sources(tmp_path):
    cfg = load_config(None, {"source.specs": ["north=serial:/dev/a", "serial:/dev/b"]})
    assert cfg.source.specs == ["north=serial:/dev/a", "serial:/dev/b"]
    res = subprocess.run([sys.executable, "-m", "csi_edge.cli", "run", "--source", "x=sim:0", "--source", "y=sim:1", "--print-config"],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert res.returncode == 0 and 'specs = ["x=sim:0", "y=sim:1"]' in res.stdout


def test_fuse_command_checks_its_configuration(tmp_path):
    def fuse(*args):
        return subprocess.run([sys.executable, "-m", "csi_edge.cli", "fuse", *args], capture_output=True, text=True, timeout=60)

    ok = fuse("--config", str(write(tmp_path, SITE)), "--check-config")
    assert ok.returncode == 0 and "site home: lab (3 nodes), office (1 nodes)" in ok.stderr
    empty = fuse("--config", str(write(tmp_path, "[fuse]\nsite = 'x'\n")), "--check-config")
    assert empty.returncode == 2 and "[fuse] has no rooms" in empty.stderr and len(empty.stderr.strip().splitlines()) == 1
    bad = fuse("--set", "fuse.rooms[0].nods=a", "--check-config")
    assert bad.returncode == 2 and "unknown key [fuse.rooms][0] nods (did you mean 'nodes'?)" in bad.stderr
    no_ca = fuse("--config", str(write(tmp_path, SITE)), "--set", "mqtt.tls=true", "--set", f"mqtt.ca_file={tmp_path / 'none.pem'}",
                 "--check-config")  # fmt: skip
    assert no_ca.returncode == 2 and f"[mqtt] ca_file {tmp_path / 'none.pem'}: no such file" in no_ca.stderr
    assert len(no_ca.stderr.strip().splitlines()) == 1

