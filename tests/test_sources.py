"""open_path tells a snapshot, a recording and a kernel log apart by content, with one-line errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from oomtui import snapshot
from oomtui.errors import UserError
from oomtui.model import Host, Process, Snapshot
from oomtui.record import Recorder
from oomtui.snapshot import SnapshotError
from oomtui.sources import open_path

FIXTURES = Path(__file__).parent / "fixtures" / "oomlogs"


def small() -> Snapshot:
    host = Host("h", "6.18", 4096, 1 << 30, None, 0, None, "v2")
    return Snapshot(host=host, cgroups=(), processes=(Process(pid=42, comm="x", cgroup="/", rss_anon=4096),),
                    taken_at=1_800_000_000.0)


@pytest.mark.parametrize("name", ["s.json", "s.json.gz", "saved-without-suffix"])
def test_snapshot_files_by_content(tmp_path, name):
    path = tmp_path / name
    snapshot.save(small(), path)
    opened = open_path(path)
    assert opened.kind == "snapshot"
    assert opened.snapshot.process(42).comm == "x"
    assert opened.recording is None


def test_gzipped_snapshot_under_any_name(tmp_path):
    path = tmp_path / "snap.bin"
    path.write_bytes(gzip.compress(snapshot.dumps(small())))
    assert open_path(path).kind == "snapshot"


def test_kernel_logs_plain_and_gzipped(tmp_path):
    text = (FIXTURES / "v612_global_16k_rsyslog.txt").read_text()
    plain = tmp_path / "kern.log"
    plain.write_text(text)
    rotated = tmp_path / "kern.log.2.gz"
    rotated.write_bytes(gzip.compress(text.encode()))
    for path in (plain, rotated):
        opened = open_path(path)
        assert opened.kind == "kernel-log"
        assert opened.snapshot.source == "kernel-log"
        assert opened.snapshot.oom_event.killed_pid == 1999  # the last report
        assert any("no task table" in w for w in opened.warnings)


def test_recording_directory_shows_its_latest_sample(tmp_path):
    times = iter([1_800_000_001.0, 1_800_000_002.0])

    def collect() -> Snapshot:
        return small().replace(taken_at=next(times))

    rec = Recorder(tmp_path / "rec", collect=collect, kmsg_path="/nonexistent", psi_path="/nonexistent",
                   note=lambda m: None)
    rec._prepare()
    rec.take_sample("interval")
    rec.take_sample("interval")
    rec.store_event((FIXTURES / "v61_global_dmesg.txt").read_text(), 1_800_000_001.5)
    opened = open_path(tmp_path / "rec")
    assert opened.kind == "recording"
    assert opened.snapshot.taken_at == 1_800_000_002.0
    assert opened.recording is not None and len(opened.recording.events) == 1
    assert opened.warnings == ("1 OOM event(s) recorded",)


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (b"just some text\nno oom here\n", UserError, "neither a snapshot, a recording nor a kernel log"),
        (b"\x7fELF\x00\x01\x02", UserError, "binary data"),
        (b'{"format": "something-else"}', SnapshotError, "not an oomtui snapshot"),
        (b'{"format": "oomtui-snapshot", ', SnapshotError, "not valid JSON"),
        (gzip.compress(b"not json at all"), UserError, "neither a snapshot"),
    ],
)
def test_bad_input_is_one_line(tmp_path, content, error, message):
    path = tmp_path / "input"
    path.write_bytes(content)
    with pytest.raises(error, match=message) as info:
        open_path(path)
    assert "\n" not in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file_and_plain_directory(tmp_path):
    with pytest.raises(UserError, match="No such file"):
        open_path(tmp_path / "missing")
    with pytest.raises(UserError, match="not an oomtui recording"):
        open_path(tmp_path)
