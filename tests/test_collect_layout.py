"""Finding the cgroup mounts from mountinfo: v2, v1, hybrid, none, escapes, bind mounts."""

from pathlib import Path

import pytest

from oomtui.collect.layout import CgroupLayout, detect_layout, layout_from_mounts, parse_mountinfo, unescape
from tests.support.fakehost import FakeHost


@pytest.mark.parametrize("mode", ["v2", "v1", "hybrid", "none"])
def test_detects_each_fake_layout(tmp_path, mode):
    host = FakeHost(tmp_path, mode)
    layout = detect_layout(host.proc)
    assert layout.mode == mode
    assert layout.memory_root == host.memory_root
    expected_v2 = {"v2": host.memory_root, "hybrid": tmp_path / "cgroup" / "unified"}.get(mode)
    assert layout.v2_root == expected_v2
    expected_freezer = tmp_path / "cgroup" / "freezer" if mode in ("v1", "hybrid") else None
    assert layout.freezer_root == expected_freezer


def test_mount_point_escapes_are_undone():
    assert unescape(r"/sys/fs/cgroup/my\040dir\011x\134y") == "/sys/fs/cgroup/my dir\tx\\y"
    line = r"35 31 0:32 / /mnt/a\040b rw,relatime shared:9 - cgroup cgroup rw,memory"
    (mount,) = parse_mountinfo(line)
    assert mount.mount_point == "/mnt/a b"
    assert mount.fstype == "cgroup"
    assert "memory" in mount.super_options


def test_optional_fields_and_junk_lines():
    text = "\n".join([
        "garbage",
        "41 31 0:38 / /sys/fs/cgroup/unified rw,nosuid shared:5 master:1 - cgroup2 cgroup2 rw,nsdelegate",
        "",
    ])
    mounts = parse_mountinfo(text)
    assert [m.mount_point for m in mounts] == ["/sys/fs/cgroup/unified"]


def test_whole_hierarchy_preferred_over_bind_mount():
    text = "\n".join([
        "50 1 0:32 /docker/abc /container/memory rw - cgroup cgroup rw,memory",
        "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory",
    ])
    layout = layout_from_mounts(parse_mountinfo(text))
    assert layout == CgroupLayout("v1", Path("/sys/fs/cgroup/memory"), None, None)


def test_v2_without_memory_controller_is_none(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpu io\n")
    layout = layout_from_mounts(parse_mountinfo(f"41 1 0:38 / {tmp_path} rw - cgroup2 cgroup2 rw"))
    assert layout.mode == "none"
    assert layout.memory_root is None
    assert layout.v2_root == tmp_path


def test_unreadable_mountinfo_is_none(tmp_path):
    assert detect_layout(tmp_path / "nowhere") == CgroupLayout("none", None, None, None)


def test_this_machine_matches_its_own_cgroup_file():
    """The live layout agrees with what /proc/self/cgroup says about our memory cgroup."""
    layout = detect_layout()
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    has_v1_memory = any("memory" in line.split(":")[1].split(",") for line in lines)
    if has_v1_memory:
        assert layout.mode in ("v1", "hybrid")
        assert (layout.memory_root / "memory.usage_in_bytes").exists()
    elif layout.mode == "v2":
        assert "memory" in (layout.memory_root / "cgroup.controllers").read_text().split()
