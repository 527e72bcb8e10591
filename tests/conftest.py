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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A quick mutation run (`QUICK=1 bash scripts/mutation.sh`) leaves out the slow tests it lists.

    Only for a mutant's run (mutmut names it in MUTANT_UNDER_TEST): a mutant that lives through the
    quick tests is tried again with every test before it is reported, so nothing is hidden.
    """
    listing = os.environ.get("OOMTUI_MUTATION_SLOW_TESTS")
    if not listing or "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    with open(listing) as f:
        slow = {line.strip() for line in f if line.strip()}
    kept = [item for item in items if item.nodeid not in slow]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item.nodeid in slow])
        items[:] = kept
