"""Dataset SPECs: `KIND:TARGET[?key=value&...]` -> a list of `Recording`.

| kind | target | options | parts |
|---|---|---|---|
| `session:DIR` | a capture session directory | `part=NAME` | `part` or the session's day tag or dir name |
| `3do:DIR` | 3DO root with `d1..d3/<seq>/csiposreg.csv` | `days=1,2`, `seq=w1,s2`, `split=train,val,test` (the paper's day-1 split) | `d1`, `d2`, `d3` |
| `sim:OPTS` | the simulator's 3-day benchmark (`benchmark_days`: days x 4 activities x sequences), plus `mixed` runs per day of 4 x `seconds` with transitions | `days=1,2,3`, `seconds=60` (per sequence), `sequences=3`, `mixed=0`, `seed=0`, `link=0` (receiver position), or `links=0,1,2` (several receivers of the same room side by side: a joint model's input, packets every link received) | `d1`, `d2`, `d3` |
| `amplitudes:FILE.npz` | arrays: `amplitude` (N, S) float, `label` (N,) str; optional `timestamp_s` (a gap > 1 s or a step back starts a new recording), `x`, `y`, `z`, `group` | `part=NAME` | `part` or the file stem |
| `csi:GLOB` | ESP32 log files (esp-csi, ESP32-CSI-Tool CSV, binary v1), label from the file name with `--label-regex` | `part=REGEX` (first group of the file name is the part) | `part` group or `all` |

The paper's 3DO split (`split=`): day 1 sequences 1-3 of each activity are `train`, sequence 4
`val`, sequence 5 `test`; days 2 and 3 are always test data (`split=test` selects them too).
Per-packet features use `csi_edge.features` (the daemon's implementation); `amplitudes:` files
are already amplitudes and only serve features `amplitude` / `amplitude-3do`.
"""

from __future__ import annotations

import glob
import re
from pathlib import Path
from urllib.parse import parse_qsl

import numpy as np

from csi_edge.errors import DataError, UsageError
from csi_edge.features import packet_feature
from csi_edge.frames import FrameBatch
from csi_edge.layout import layout_name
from csi_edge.tools.train.datasets import Recording

KINDS = ("session", "3do", "sim", "amplitudes", "csi")
GAP_S = 1.0  # amplitudes files: a time gap longer than this starts a new recording
PAPER_SPLIT = {"train": (1, 2, 3), "val": (4,), "test": (5,)}


def parse_spec(spec: str) -> tuple[str, str, dict[str, str]]:
    """'kind:target?k=v&k=v' -> (kind, target, options). `sim:` takes options without '?'."""
    kind, sep, rest = spec.partition(":")
    if not sep or kind not in KINDS:
        raise UsageError(f"dataset SPEC {spec!r}: expected KIND:TARGET with KIND one of {', '.join(KINDS)}")
    if kind == "sim" and "?" not in rest:
        target, query = "", rest
    else:
        target, _, query = rest.partition("?")
    try:
        options = dict(parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query)))
    except ValueError:
        raise UsageError(f"dataset SPEC {spec!r}: options must be key=value joined by '&'") from None
    if kind != "sim" and not target:
        raise UsageError(f"dataset SPEC {spec!r}: {kind}: needs a path")
    return kind, target, options


def _int_list(spec: str, key: str, value: str) -> list[int]:
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"dataset SPEC {spec!r}: {key} must be comma-separated integers (got {value!r})") from None


def _check_keys(spec: str, options: dict, allowed: set[str]) -> None:
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise UsageError(f"dataset SPEC {spec!r}: unknown option {unknown[0]!r} (known: {', '.join(sorted(allowed)) or 'none'})")


def frames_recording(frames: FrameBatch, labels, part: str, source: str, feature: str, positions=None) -> Recording:
    """Frames -> Recording with the daemon's feature; invalid packets are dropped."""
    values, valid = packet_feature(feature)(frames)
    labels = np.broadcast_to(np.asarray(labels, dtype=object), (len(frames),))[valid]
    pos = None if positions is None else np.asarray(positions, dtype=np.float32)[valid]
    layouts = tuple(sorted({layout_name(s) for s in np.unique(frames.meta["secondary_channel"][valid])}))
    codes = frames.meta["bandwidth"][valid]
    codes = codes[(codes == 0) | (codes == 1)]
    bandwidth = (20, 40)[int(np.bincount(codes.astype(np.int64)).argmax())] if len(codes) else None
    return Recording(values[valid], np.asarray(labels, dtype=str), part, source, pos, layouts, bandwidth,
                     seq=frames.meta["seq"][valid].astype(np.int64))


def load_spec(spec: str, feature: str = "amplitude", label_regex: str | None = None) -> list[Recording]:
    kind, target, options = parse_spec(spec)
    loader = {"session": _session, "3do": _threedo, "sim": _sim, "amplitudes": _amplitudes, "csi": _csi}[kind]
    recordings = loader(spec, target, options, feature, label_regex)
    if not recordings:
        raise DataError(f"dataset SPEC {spec!r}: no packets selected")
    widths = {r.features.shape[1] for r in recordings}
    if len(widths) > 1:
        raise DataError(f"dataset SPEC {spec!r}: recordings have different subcarrier counts {sorted(widths)}")
    return recordings


def load_specs(specs: list[str], feature: str = "amplitude", label_regex: str | None = None) -> list[Recording]:
    out: list[Recording] = []
    for spec in specs:
        out.extend(load_spec(spec, feature, label_regex))
    return out


# --- loaders -------------------------------------------------------------------------------


def _amplitudes(spec, target, options, feature, label_regex) -> list[Recording]:
    _check_keys(spec, options, {"part"})
    path = Path(target)
    if feature not in ("amplitude", "amplitude-3do"):
        raise UsageError(f"{path}: amplitudes files hold amplitudes; feature {feature!r} cannot be computed from them")
    try:
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (ValueError, OSError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    for key in ("amplitude", "label"):
        if key not in data:
            raise DataError(f"{path}: missing array {key!r} (needs amplitude (N, S) and label (N,))")
    amp = np.asarray(data["amplitude"], dtype=np.float32)
    labels = np.asarray(data["label"]).astype(str)
    if amp.ndim != 2 or len(labels) != len(amp):
        raise DataError(f"{path}: amplitude must be (N, S) and label (N,) (got {amp.shape} and {labels.shape})")
    pos = None
    if all(k in data for k in ("x", "y", "z")):
        pos = np.stack([np.asarray(data[k], dtype=np.float32) for k in ("x", "y", "z")], axis=1)
    groups = np.asarray(data["group"]) if "group" in data else np.zeros(len(amp), dtype=np.int64)
    if len(groups) != len(amp):
        raise DataError(f"{path}: group has {len(groups)} entries for {len(amp)} rows")
    part = options.get("part") or path.stem
    # a new recording wherever the group value changes (groups may repeat non-contiguously)
    # or the time jumps (backwards, or a gap over 1 s)
    breaks = groups[1:] != groups[:-1]
    if "timestamp_s" in data:
        dt = np.diff(np.asarray(data["timestamp_s"], dtype=np.float64))
        if len(dt) != len(amp) - 1:
            raise DataError(f"{path}: timestamp_s has {len(dt) + 1} entries for {len(amp)} rows")
        breaks |= (dt < 0) | (dt > GAP_S)
    cuts = np.r_[0, np.nonzero(breaks)[0] + 1, len(amp)]
    return [
        Recording(amp[a:b], labels[a:b], part, f"{path}#group={groups[a]}", None if pos is None else pos[a:b])
        for a, b in zip(cuts[:-1], cuts[1:], strict=True)
    ]


def _decode_file(path: Path) -> FrameBatch:
    from csi_edge.importers import load_log

    result = load_log(path)
    if len(result.frames) == 0:
        reasons = dict(result.decoder.errors) or dict(result.decoder.ignored)
        raise DataError(f"{path}: no CSI frames decoded ({reasons})")
    return result.frames


def _csi(spec, target, options, feature, label_regex) -> list[Recording]:
    _check_keys(spec, options, {"part"})
    if not label_regex:
        raise UsageError(f"dataset SPEC {spec!r}: csi: needs --label-regex REGEX (its first group is the label)")
    try:
        rx = re.compile(label_regex)
        part_rx = re.compile(options["part"]) if options.get("part") else None
    except re.error as exc:
        raise UsageError(f"--label-regex / part: bad regular expression ({exc})") from None
    if rx.groups < 1:
        raise UsageError(f"--label-regex {label_regex!r} needs one capturing group (the label)")
    files = sorted(glob.glob(target))
    if not files:
        raise DataError(f"dataset SPEC {spec!r}: no file matches {target!r}")
    out = []
    for name in files:
        path = Path(name)
        m = rx.search(path.name)
        if not m:
            raise DataError(f"{path}: file name does not match --label-regex {label_regex!r}")
        part = "all"
        if part_rx is not None:
            pm = part_rx.search(path.name)
            if not pm or not pm.groups():
                raise DataError(f"{path}: file name does not match part={options['part']!r}")
            part = pm.group(1)
        out.append(frames_recording(_decode_file(path), m.group(1), part, str(path), feature))
    return out


def _session(spec, target, options, feature, label_regex) -> list[Recording]:
    """A capture session; each recording run is its own recording (windows never span a restart)."""
    _check_keys(spec, options, {"part"})
    try:
        from csi_edge.session import load_session
    except ImportError:
        raise DataError(f"dataset SPEC {spec!r}: reading capture sessions needs csi_edge.session") from None
    session = load_session(Path(target))
    part = options.get("part") or _session_part(session, Path(target))
    n = len(session.frames)
    cuts = sorted({0, n, *[int(s) for s in getattr(session.decoded, "run_starts", [])]})
    out = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        if b > a:
            pos = None if session.positions is None else session.positions[a:b]
            out.append(frames_recording(session.frames[a:b], session.labels[a:b], part, f"{target}#packets={a}..{b}", feature, pos))
    return out


def _session_part(session, path: Path) -> str:
    manifest = getattr(session, "manifest", None) or {}
    tags = manifest.get("tags", manifest) if isinstance(manifest, dict) else {}
    day = tags.get("day") if isinstance(tags, dict) else None
    return f"d{day}" if day not in (None, "") and str(day).isdigit() else str(day or path.name)


def _threedo(spec, target, options, feature, label_regex) -> list[Recording]:
    _check_keys(spec, options, {"days", "seq", "split"})
    root = Path(target)
    days = _int_list(spec, "days", options["days"]) if options.get("days") else [1, 2, 3]
    seqs = set(options["seq"].split(",")) if options.get("seq") else None
    splits = set(options["split"].split(",")) if options.get("split") else None
    if splits and not splits <= set(PAPER_SPLIT):
        raise UsageError(f"dataset SPEC {spec!r}: split must be among train, val, test")
    from csi_edge.importers import THREE_DO_CLASSES, find_3do, load_3do

    if not root.is_dir():
        raise DataError(f"{root}: no such 3DO folder (expected d1..d3/<sequence>/csiposreg.csv)")
    out = []
    for day, name, path in find_3do(root):
        if day not in days or (seqs is not None and name not in seqs):
            continue
        if splits is not None and not _in_split(day, name, splits):
            continue
        rec = load_3do(path)
        codes = np.asarray(rec.label).astype(int)
        labels = np.array([THREE_DO_CLASSES.get(int(c), str(c)) for c in codes], dtype=object)
        positions = np.column_stack([rec.x_m, rec.y_m, rec.z_m]).astype(np.float32)
        out.append(frames_recording(rec.frames, labels, f"d{day}", str(path.parent), feature, positions))
    return out


def _in_split(day: int, seq: str, splits: set[str]) -> bool:
    """The paper's split: day 1 sequences 1-3 train, 4 val, 5 test; days 2 and 3 test."""
    if day != 1:
        return "test" in splits
    m = re.search(r"(\d+)$", seq)
    number = int(m.group(1)) if m else 0
    return any(number in PAPER_SPLIT[s] for s in splits)


def _sim(spec, target, options, feature, label_regex) -> list[Recording]:
    _check_keys(spec, options, {"days", "seconds", "seed", "sequences", "mixed", "link", "links"})
    days = _int_list(spec, "days", options.get("days", "1,2,3"))
    if "link" in options and "links" in options:
        raise UsageError(f"dataset SPEC {spec!r}: give link (one receiver) or links (several side by side), not both")
    links = _int_list(spec, "links", options.get("links", options.get("link", "0")))
    if len(set(links)) != len(links):
        raise UsageError(f"dataset SPEC {spec!r}: links must differ (got {options['links']})")
    try:
        seconds = float(options.get("seconds", "60"))
        seed = int(options.get("seed", "0"))
        sequences = int(options.get("sequences", "3"))
        mixed = int(options.get("mixed", "0"))
    except ValueError:
        raise UsageError(f"dataset SPEC {spec!r}: seconds must be a number, seed, sequences and mixed integers") from None
    per_link = [[*_sim_recordings(spec, days, seconds, seed, sequences, link), *_sim_mixed(days, seconds, seed, mixed, link)]
                for link in links]  # fmt: skip
    out = []
    for same in zip(*per_link, strict=True):  # the same person, seen by each link
        day, name, _ = same[0]
        recordings = [_sim_recording(rec, day, name, feature) for _, _, rec in same]
        out.append(recordings[0] if len(links) == 1 else side_by_side(recordings, links))
    return out


def _sim_recording(rec, day: int, name: str, feature: str) -> Recording:
    labels = np.asarray(rec.labels)
    if labels.dtype.kind in "iu":  # activity codes -> names
        from csi_edge.tools.sim.recording import ACTIVITIES

        labels = np.asarray(ACTIVITIES, dtype=object)[labels]
    frames = rec.frames if hasattr(rec, "frames") else rec.to_frames()
    return frames_recording(frames, labels, f"d{day}", f"sim day {day} {name}".strip(), feature, rec.positions)


def side_by_side(recordings: list[Recording], links: list[int]) -> Recording:
    """The packets every link received (matched by TX sequence number, increasing within each
    recording), each link's features side by side, link after link: what a joint model reads.
    Labels and positions are the first link's (the same person)."""
    seqs = [r.seq for r in recordings]
    if any(s is None for s in seqs):
        raise DataError("links side by side need each packet's sequence number")
    common = seqs[0]
    for seq in seqs[1:]:
        common = np.intersect1d(common, seq)
    rows = [np.searchsorted(seq, common) for seq in seqs]
    first = recordings[0]
    return Recording(np.concatenate([r.features[i] for r, i in zip(recordings, rows, strict=True)], axis=1),
                     first.labels[rows[0]], first.part, f"{first.source} links {','.join(map(str, links))}",
                     None if first.positions is None else first.positions[rows[0]], first.layouts, first.bandwidth,
                     links=len(recordings), seq=common)  # fmt: skip


def _sim_mixed(days: list[int], seconds: float, seed: int, count: int, link: int = 0):
    """(day, name, SimRecording): `count` mixed runs per day of 4 x `seconds` (all four
    activities with transitions between them, as the daemon sees them live)."""
    from csi_edge.tools.sim.simulator import simulate

    for day in days:
        for k in range(count):
            yield day, f"mixed{k}", simulate(4 * seconds, day=day, activity="mixed", seed=seed * 10_000 + 9_000 + k, link=link)


def _sim_recordings(spec: str, days: list[int], seconds: float, seed: int, sequences: int, link: int = 0):
    """(day, sequence name, SimRecording): the simulator's benchmark, or one mixed run per day."""
    try:
        from csi_edge.tools import sim
    except ImportError:
        raise DataError(f"dataset SPEC {spec!r}: the simulator (csi_edge.tools.sim) is not available") from None
    bad = [d for d in days if d not in (1, 2, 3)]
    if bad:
        raise UsageError(f"dataset SPEC {spec!r}: days must be among 1, 2, 3 (got {bad[0]})")
    from csi_edge.tools.sim.room import RX_POSITIONS

    if not 0 <= link < len(RX_POSITIONS):
        raise UsageError(f"dataset SPEC {spec!r}: link must be 0..{len(RX_POSITIONS) - 1} (got {link})")
    if hasattr(sim, "benchmark_days"):
        extra = {"link": link} if link else {}  # a receiver position (simulate's `link`)
        for item in sim.benchmark_days(days=days, seconds=seconds, seed=seed, sequences=sequences, progress=False, **extra):
            yield item.day, f"{item.activity}{item.index}", item
        return
    from csi_edge.tools.sim.simulator import simulate

    for day in days:
        yield day, "mixed", simulate(seconds * 4 * sequences, day=day, activity="mixed", seed=seed, link=link)
