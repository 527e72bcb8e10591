import os

import pytest

from tests.support.cgroups import TestCgroup, test_cgroup, why_no_memcg
from tests.support.hog import Hog


@pytest.fixture
def memcg():
    """A real memory cgroup under our own, removed afterwards; skips where impossible."""
    reason = why_no_memcg()
    if reason:
        pytest.skip(reason)
    with test_cgroup() as cg:
        yield cg


@pytest.fixture
def hogs():
    """Processes a test starts (append them); each is killed and reaped afterwards."""
    started: list[Hog] = []
    yield started
    for h in started:
        h.kill()


@pytest.fixture
def oom_box(memcg: TestCgroup) -> TestCgroup:
    """A 64 MiB child of `memcg` (memory+swap limited alike) whose OOM kills /dev/kmsg reports."""
    if not os.access("/dev/kmsg", os.R_OK):
        pytest.skip("/dev/kmsg is not readable")
    child = memcg.child("box")
    child.set_limit(64 << 20)
    if (child.dir / "memory.memsw.limit_in_bytes").exists():
        child.write("memory.memsw.limit_in_bytes", 64 << 20)
    return child
