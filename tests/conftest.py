import pytest

from tests.support.cgroups import test_cgroup, why_no_memcg


@pytest.fixture
def memcg():
    """A real memory cgroup under our own, removed afterwards; skips where impossible."""
    reason = why_no_memcg()
    if reason:
        pytest.skip(reason)
    with test_cgroup() as cg:
        yield cg
