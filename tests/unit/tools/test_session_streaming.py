"""`capture info` and `capture verify` stream raw.bin: their memory does not grow with the
session (a 4 GB overnight session is normal). Each runs in a fresh process on a 4 MB and on a
40 MB session; its peak resident memory may differ by much less than the 36 MB between them
(reading the session whole took 3.7x its size). Figures for 100 MB and 500 MB sessions:
`csi-edge bench capture-memory` (docs/benchmarks.md, "Memory of capture info / capture verify")."""

from __future__ import annotations

from csi_edge.tools.bench.capture_memory import peak_of, write_session


def test_info_and_verify_memory_does_not_grow_with_the_session(tmp_path):
    peaks = {}
    for mb in (4.0, 40.0):
        session = tmp_path / f"s{mb:g}"
        write_session(session, mb, progress=False)
        for command in ("info", "verify"):
            figures = peak_of(["capture", command, str(session)])
            assert figures["exit_code"] == 0, (command, mb)
            peaks[command, mb] = figures["peak_rss_MB"]
    for command in ("info", "verify"):
        assert peaks[command, 40.0] - peaks[command, 4.0] < 12.0, peaks
