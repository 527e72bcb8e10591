"""Open whatever the user points at: a snapshot file, a recording directory, or a kernel log.

`oomtui --snapshot PATH` and `preview --snapshot PATH` accept all three,
told apart by content, not by name: a directory with samples/ is a
recording, bytes that are (gzipped) JSON are a snapshot, and any other
text that holds an OOM report is a kernel log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from oomtui import oomlog, snapshot
from oomtui.errors import UserError
from oomtui.model import Snapshot
from oomtui.record import Recording
from oomtui.snapshot import SnapshotError

Kind = Literal["snapshot", "kernel-log", "recording"]


@dataclass(frozen=True)
class Opened:
    kind: Kind
    snapshot: Snapshot  # the one to show first
    recording: Recording | None = None
    warnings: tuple[str, ...] = field(default=())


def _looks_like_json(raw: bytes) -> bool:
    return raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _open_recording(path: Path) -> Opened:
    rec = Recording(path)
    reports = [i for i, e in enumerate(rec.events) if e.killer == "kernel"]  # a userspace kill has no report
    if not rec.samples and not reports:
        raise UserError(f"{path}: the recording has no samples yet")
    warnings: list[str] = []
    if rec.events:
        warnings.append(f"{len(rec.events)} OOM event(s) recorded")
    if rec.samples:
        first = rec.load_sample(len(rec.samples) - 1)
    else:
        first = rec.load_event(reports[-1])
        warnings.append("no samples kept; showing the last OOM report")
    return Opened("recording", first, rec, tuple(warnings))


def open_path(path: str | Path) -> Opened:
    """Open a snapshot (.json/.json.gz), a recording directory or a kernel log; one-line errors."""
    p = Path(path)
    if str(path) != "-" and p.is_dir():
        if not Recording.is_recording(p):
            raise UserError(f"{path}: a directory, but not an oomtui recording (no samples/)")
        return _open_recording(p)
    try:
        raw = snapshot.read_bounded(path, oomlog.MAX_LOG_BYTES)
    except OSError as e:
        raise UserError(f"{path}: {e.strerror or e}") from None
    box = [raw]  # handed on, not kept: its reader frees the bytes as soon as it has what it needs
    del raw
    if _looks_like_json(box[0]):
        return Opened("snapshot", _snapshot(box, str(path)))
    if oomlog.is_binary(box[0][:4096]):
        raise UserError(f"{path}: neither a snapshot, a recording nor a kernel log (binary data)")
    lines = oomlog.log_lines(box, str(path))
    try:
        result = oomlog.parse_report(lines)
    except UserError:
        raise UserError(f"{path}: neither a snapshot, a recording nor a kernel log with an OOM report") from None
    return Opened("kernel-log", result.snapshot, None, tuple(result.warnings))


def _snapshot(box: list[bytes], name: str) -> Snapshot:
    """A snapshot from the bytes in `box`, held to the snapshot file's own size limit (logs may be larger)."""
    if len(box[0]) > snapshot.MAX_BYTES:
        raise SnapshotError(f"{name}: larger than {snapshot.MAX_BYTES >> 20} MiB; refusing to load")
    return snapshot.loads(box.pop(), name)
