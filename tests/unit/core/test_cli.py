"""The entry point: every command module loads and registers by one scheme; none is hidden."""

from __future__ import annotations

import argparse

import pytest

from csi_edge import cli


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def _handlers(parser: argparse.ArgumentParser, path: str) -> dict[str, str]:
    """command path -> handler name, for every leaf parser under `parser`."""
    subs = _subparsers(parser)
    if not subs:
        return {path: parser._defaults["func"].__name__}
    out: dict[str, str] = {}
    for name, sub in subs.items():
        out.update(_handlers(sub, f"{path} {name}"))
    return out


def test_every_command_loads_and_its_handlers_follow_one_scheme():
    parser = cli.build_parser()
    commands = _subparsers(parser)
    assert list(commands) == list(cli.COMMANDS)
    helps = {a.dest: a.help for a in parser._subparsers._group_actions[0]._choices_actions}
    assert not [name for name, text in helps.items() if text.startswith("(unavailable")]
    for name, sub in commands.items():
        for path, handler in _handlers(sub, name).items():
            leaf = path.split()[-1].replace("-", "_")
            assert handler in ("run", f"run_{leaf}"), f"csi-edge {path}: handler {handler}"


def test_a_command_whose_module_cannot_load_is_reported_not_hidden(monkeypatch, capsys):
    monkeypatch.setitem(cli.COMMANDS, "ghost", "csi_edge.no_such_module")
    assert cli.main(["ghost"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["csi-edge ghost: error: cannot load csi_edge.no_such_module (No module named 'csi_edge.no_such_module')"]
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert "ghost" in out and "(unavailable: No module named" in out
