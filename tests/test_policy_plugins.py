"""Third-party policies under the entry-point group `oomtui.policies`, as the README promises.

A distribution is written into a temporary directory on sys.path, with the
entry points a plug-in author would declare: a PolicySpec, a callable
returning a list, a callable returning one spec, and the broken kinds (an
import error, an exception, something that is not a PolicySpec, a name a
built-in policy has). The registry is read once per process, so each test
reads it afresh and leaves it as the other tests know it.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from oomtui.policies import registry
from oomtui.policies.base import Decision
from tests.support.handmade import proc, snapshot

PLUGIN = '''
from oomtui.policies.base import Decision, PolicySpec


def decide(snapshot, domain, options):
    return Decision(policy="plug-one", domain=domain, triggered=None, reason="a plug-in's choice")


def spec(name, acts_when="on exhaustion"):
    return PolicySpec(name=name, title=name.title(), summary="from a plug-in", decide=decide, acts_when=acts_when)


ONE = spec("plug-one", acts_when="when the plug-in says so")
TAKEN = spec("kernel")
NOT_A_SPEC = ["not a spec"]


def several():
    return [spec("plug-two"), spec("plug-three")]


def single():
    return spec("plug-four")


def broken():
    raise RuntimeError("the plug-in could not read its config")
'''

ENTRY_POINTS = """
[oomtui.policies]
one = oomtui_test_plugin:ONE
several = oomtui_test_plugin:several
single = oomtui_test_plugin:single
taken = oomtui_test_plugin:TAKEN
junk = oomtui_test_plugin:NOT_A_SPEC
broken = oomtui_test_plugin:broken
missing = oomtui_test_plugin_gone:ANYTHING
"""


def fresh_registry() -> None:
    registry._load.cache_clear()  # the registry is built once per process: read the entry points again


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    (tmp_path / "oomtui_test_plugin.py").write_text(textwrap.dedent(PLUGIN))
    dist = tmp_path / "oomtui_test_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: oomtui-test-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(ENTRY_POINTS)
    monkeypatch.syspath_prepend(str(tmp_path))
    fresh_registry()
    try:
        yield
    finally:
        monkeypatch.undo()
        sys.modules.pop("oomtui_test_plugin", None)
        fresh_registry()


def test_plugins_appear_after_the_builtin_policies_in_their_order(plugins: None) -> None:
    names = list(registry.policies())
    assert names[: len(registry.ORDER)] == list(registry.ORDER)
    assert sorted(names[len(registry.ORDER):]) == ["plug-four", "plug-one", "plug-three", "plug-two"]
    assert registry.get("kernel").title == "Linux kernel OOM killer"  # the built-in keeps its name


def test_a_plugin_policy_runs_like_a_builtin_one(plugins: None) -> None:
    snap = snapshot([], [proc(10, "/", 5)])
    d = registry.get("plug-one").run(snap, "/")
    assert d.reason == "a plug-in's choice" and d.kills_nothing
    assert registry.acts_now(d) == "when the plug-in says so"


def test_broken_plugins_are_one_line_problems_not_a_crash(plugins: None) -> None:
    assert sorted(registry.plugin_problems()) == sorted([
        "plug-in 'broken' not loaded: the plug-in could not read its config",
        "plug-in 'junk' not loaded: 'not a spec' is not a PolicySpec",
        "plug-in 'missing' not loaded: No module named 'oomtui_test_plugin_gone'",
        "plug-in policy 'kernel' ignored: the name is taken",
    ])


def test_without_plugins_the_registry_is_the_builtin_policies_alone() -> None:
    fresh_registry()
    try:
        assert list(registry.policies()) == list(registry.ORDER)
        assert registry.plugin_problems() == ()
    finally:
        fresh_registry()


def test_an_unknown_policy_names_the_known_ones() -> None:
    with pytest.raises(KeyError) as e:
        registry.get("oom-reaper")
    assert str(e.value) == repr(f"unknown policy 'oom-reaper' (known: {', '.join(registry.ORDER)})")
    lost = Decision(policy="uninstalled-plugin", domain="/", triggered=None, reason="")
    assert registry.acts_now(lost) == "—"
    assert registry.acts_now(Decision(policy="kernel", domain="/", triggered=None, reason="")) == "on exhaustion"
    assert registry.acts_now(Decision(policy="earlyoom", domain="/", triggered=True, reason="")) == "yes"
    assert registry.acts_now(Decision(policy="earlyoom", domain="/", triggered=False, reason="")) == "no"
