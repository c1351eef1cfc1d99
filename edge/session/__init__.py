"""Capture sessions: the on-disk format every part of csi-edge reads and writes.

A session is a directory (docs/session-format.md): an append-only raw log of exactly the bytes
that arrived (`rawlog`: records with CRCs, a torn tail detected and cut), a labels timeline
(`labels`), a manifest (`directory`), an optional trajectory, and durable writes (`files`).
The capture tool writes sessions (csi_edge.tools.capture); replay, `info` and training read
them through this package:

- `load_session(DIR)`: decoded packets, labels and positions per packet (recovers a session
  whose recorder died first, `recovery`);
- `open_stream(DIR)` / `read_stream(DIR)`: the original byte stream, strictly read-only;
- `info.session_info(DIR)`: the summary `csi-edge info` prints.
"""

from csi_edge.session.reader import Session, load_session, open_stream, read_stream

__all__ = ["Session", "load_session", "open_stream", "read_stream"]
