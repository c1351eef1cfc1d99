"""Packaging: one top-level import name, and every package folder is listed in pyproject."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 on the Jetson
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[3]


def test_every_package_folder_is_listed():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = set()
    for top, name in (("edge", "csi_edge"), ("tools", "csi_edge.tools")):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top)
            found.add(".".join([name, *rel.parts]) if rel.parts else name)
    assert found == listed, f"pyproject packages out of step: missing {found - listed}, extra {listed - found}"


def test_no_generic_top_level_names():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert {p.split(".")[0] for p in config["packages"]} == {"csi_edge"}


def test_requires_python_covers_the_jetson():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.10"
    assert any(dep.startswith("tomli") and "python_version < '3.11'" in dep for dep in project["dependencies"])
    assert "torch==2.13.0" in project["optional-dependencies"]["train"]
    assert not any(dep.startswith("torch") for dep in project["dependencies"])


def test_the_web_pages_static_files_are_package_data():
    """The Jetson may have no internet: the page, its script and style ship in the wheel."""
    import fnmatch

    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["csi_edge.web"]
    files = [p.relative_to(ROOT / "edge" / "web").as_posix() for p in (ROOT / "edge" / "web" / "static").iterdir()]
    assert {"static/index.html", "static/app.js", "static/draw.js", "static/style.css"} <= set(files)
    assert [f for f in files if not any(fnmatch.fnmatch(f, g) for g in globs)] == []
