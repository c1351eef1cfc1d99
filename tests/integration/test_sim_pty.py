"""`csi-edge sim --pty` read back through pyserial, exactly like a board on /dev/ttyACM0.

The simulator runs as a real subprocess on a real pseudo-terminal; the reader uses a read
timeout and a bounded loop (no sleeps, no timing assertions). pyserial flushes the input
buffer when it opens a port, so the first frames may be missed or torn (as with a real board
that is already streaming); from the first decoded frame on there must be no decode error, and
every gap in the sequence numbers must be a packet the simulator lost on air, which its
deterministic ground truth says.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

serial = pytest.importorskip("serial")

from csi_edge.decoder import StreamDecoder  # noqa: E402
from csi_edge.tools.sim import simulate  # noqa: E402

ARGS = ["--day", "3", "--activity", "walking", "--seed", "9", "--seconds", "30"]
FRAMES_WANTED = 250  # 2.5 s of the stream


@pytest.fixture(params=[["--fast"], []], ids=["fast", "realtime"])
def sim_pty(request):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "csi_edge.cli", "sim", "--pty", *request.param, *ARGS],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)  # fmt: skip
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()


@pytest.mark.timeout(120)
def test_pyserial_reads_the_simulated_board(sim_pty):
    path = sim_pty.stdout.readline().decode().strip()
    assert path.startswith("/dev/"), (path, sim_pty.stderr.read() if sim_pty.poll() is not None else "")
    decoder = StreamDecoder()
    seqs: list[int] = []
    at_first_frame: dict | None = None  # a torn head (port opened mid-frame) is allowed once
    with serial.Serial(path, baudrate=921600, timeout=1.0) as port:
        for _ in range(2000):  # bounded: each read returns data or times out after 1 s
            chunk = port.read(4096)
            if chunk:
                seqs.extend(decoder.feed(chunk).frames.meta["seq"].tolist())
                if seqs and at_first_frame is None:
                    at_first_frame = dict(decoder.errors)
            if len(seqs) >= FRAMES_WANTED or sim_pty.poll() is not None:
                break
    assert len(seqs) >= FRAMES_WANTED
    assert sum(at_first_frame.values()) <= 1
    assert dict(decoder.errors) == at_first_frame  # not a single error once in sync
    truth = simulate(30, day=3, activity="walking", seed=9).truth["seq"]
    start = int(np.searchsorted(truth, seqs[0]))
    assert truth[start] == seqs[0]
    assert seqs == truth[start : start + len(seqs)].tolist()  # gaps only where packets were lost


def test_pty_writer_drops_whole_chunks_when_nobody_reads_and_recovers():
    from csi_edge.tools.sim.pty_port import PtyWriter, open_port

    port = open_port()
    try:
        writer = PtyWriter(port, start_timeout_s=0.05, stall_timeout_s=0.05)
        chunk = bytes(range(256)) * 8  # 2 kB, binary: the raw slave must pass every byte value
        results = [writer.write(chunk) for _ in range(40)]  # 80 kB > the pty buffer
        assert results[0] and not results[-1]
        assert writer.dropped + writer.cut == results.count(False) and writer.dropped >= 1
        delivered = results.count(True)
        got = b""
        while len(got) < delivered * len(chunk) - len(chunk):  # bounded by what was delivered
            got += os.read(port.slave, 65536)
        assert got[: len(chunk)] == chunk  # unchanged bytes, no CR/LF translation or echo
        assert writer.write(chunk)  # room again once the reader took something
    finally:
        port.close()
