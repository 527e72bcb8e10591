import pytest

from tests.support.cgroups import test_cgroup, why_no_memcg
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
