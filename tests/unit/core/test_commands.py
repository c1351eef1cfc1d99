"""Commands to the daemon: queued from any thread, run on the loop thread, never raised."""

from __future__ import annotations

import threading

from csi_edge.commands import Commands


def test_commands_run_on_the_calling_thread_in_order():
    commands = Commands()
    ran: list[tuple[str, str, int]] = []
    commands.register("recalibrate", lambda origin: ran.append(("recalibrate", origin, threading.get_ident())))
    worker = threading.Thread(target=lambda: commands.put("recalibrate", "web"))
    worker.start()
    worker.join()
    commands.put("recalibrate", "mqtt")
    assert ran == []  # nothing runs until the loop asks
    assert commands.run_pending() == 2
    assert [(n, o) for n, o, _ in ran] == [("recalibrate", "web"), ("recalibrate", "mqtt")]
    assert {t for _, _, t in ran} == {threading.get_ident()}
    assert commands.status() == {"recalibrate": 2}


def test_unknown_and_overflowing_commands_are_counted_not_raised():
    commands = Commands(maxsize=2)
    assert commands.put("nope", "mqtt") and commands.put("nope", "mqtt")
    assert not commands.put("nope", "mqtt")
    assert commands.run_pending() == 0
    assert commands.status() == {"dropped": 1, "unknown": 2}
