"""kill -9 in the middle of a recording: what was fsync'ed is there, decodes, and is reported."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import termios
import tty

import numpy as np
from capture_support import CSI_EDGE, read_json, run_cli, sim_file, wait_for

from csi_edge.decoder import decode_bytes
from csi_edge.session import load_session, read_stream

FSYNC_S = 0.2
CHUNK = 4096


class FedPty:
    """A real pty whose master the test writes: the test decides exactly which bytes were sent."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave, termios.TCSANOW)
        self.path = os.ttyname(self.slave)
        self.sent = 0

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view) :]
        self.sent += len(data)

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


def test_sigkill_keeps_every_synced_frame_and_info_reports_the_recovery(tmp_path):
    """Send the first 40 % of a simulated recording, wait until the recorder's manifest says
    those bytes are durable (it is rewritten after every fsync, at most FSYNC_S apart), keep
    streaming, and SIGKILL the recorder mid-stream. The session must then hold at least every
    byte sent before the durable point, only bytes that were sent (a prefix of the stream),
    decode to exactly the simulator's first packets, and `info` must report the recovery.
    """
    stream, truth = sim_file(tmp_path, "sim.bin", 20, seed=4)
    data = stream.read_bytes()
    first = len(data) * 2 // 5
    pty = FedPty()
    out = tmp_path / "session"
    proc = subprocess.Popen([CSI_EDGE, "capture", "record", "--source", f"serial:{pty.path}", "--out", str(out),
                             "--fsync-interval", str(FSYNC_S), "--label", "walking"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        wait_for(lambda: (out / "labels.jsonl").exists(), what="the recorder to start")
        for at in range(0, first, CHUNK):
            pty.send(data[at : min(at + CHUNK, first)])
        durable = wait_for(lambda: (read_json(out / "manifest.json") or {}).get("counts", {}).get("raw_bytes", 0) >= first
                           and read_json(out / "manifest.json")["counts"], what="the first part to be fsync'ed")  # fmt: skip
        for at in range(first, first + 40 * CHUNK, CHUNK):  # still streaming when the kill comes
            pty.send(data[at : at + CHUNK])
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
        pty.close()
    assert read_json(out / "manifest.json")["status"] == "recording"  # it really died mid-run

    info = json.loads(run_cli("capture", "info", out, "--json").stdout)
    assert info["recovered"] is True and info["recovery"][0]["packets"] == info["packets"]
    kept = read_stream(out)
    assert len(kept) >= durable["raw_bytes"] and kept == data[: len(kept)]
    assert len(kept) <= pty.sent
    sess = load_session(out)
    expected, _ = decode_bytes(data[: len(kept)])
    assert len(sess.frames) >= durable["packets"] and len(sess.frames) == len(expected.frames)
    assert np.array_equal(sess.frames.meta["seq"], [int(r["seq"]) for r in truth[: len(sess.frames)]])
    assert np.array_equal(sess.frames.csi, expected.frames.csi)
    assert info["labels"] == {"walking": info["packets"]}
    assert sess.events[-1]["event"] == "end" and sess.events[-1]["reason"] == "recovered"
    assert run_cli("capture", "verify", out).returncode == 0
    text = run_cli("capture", "info", out).stdout
    assert "recovered yes" in text and "warning: recovered at" in text
