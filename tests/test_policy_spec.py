"""What every policy shares: how `--option` values resolve, and the JSON a decision becomes.

The JSON is what `preview --json` prints and snapshots carry for scripts to
read, so its keys and the absence of empty ones are part of the contract.
"""

from __future__ import annotations

import pytest

from oomtui.model import Snapshot
from oomtui.policies.base import (
    Candidate,
    Decision,
    OptionError,
    OptionSpec,
    PolicySpec,
    parse_bool,
    parse_percent,
)
from tests.support.handmade import proc, snapshot


def echo(snapshot: Snapshot, domain: str, options) -> Decision:
    """A policy that says which options it was given."""
    return Decision(policy="echo", domain=domain, triggered=None, reason=repr(sorted(options.items())))


def level(raw: str) -> int:
    """ValueError for a word, TypeError for a blank: parsers built on other libraries raise either."""
    if not raw.strip():
        raise TypeError("a level is needed")
    return int(raw)


SPEC = PolicySpec(name="echo", title="Echo", summary="", decide=echo, options=(
    OptionSpec("verbose", parse_bool, False, ""),
    OptionSpec("level", level, 3, ""),
))


@pytest.mark.parametrize("raw", ["1", "true", " Yes ", "ON"])
def test_true_spellings(raw):
    assert parse_bool(raw) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", " off"])
def test_false_spellings(raw):
    assert parse_bool(raw) is False


@pytest.mark.parametrize(("raw", "value"), [("0", 0.0), ("100", 100.0), (" 12.5% ", 12.5), ("100%", 100.0)])
def test_percentages(raw, value):
    assert parse_percent(raw) == value


def test_options_resolve_over_their_defaults():
    assert SPEC.resolve_options({}) == {"verbose": False, "level": 3}
    assert SPEC.resolve_options({"verbose": "yes", "level": " 7"}) == {"verbose": True, "level": 7}
    d = SPEC.run(snapshot([], [proc(10, "/", 5)]), "/", {"level": "9"})
    assert d.reason == "[('level', 9), ('verbose', False)]" and d.domain == "/"
    assert SPEC.run(snapshot([], []), "/").reason == "[('level', 3), ('verbose', False)]"


@pytest.mark.parametrize(("given", "message"), [
    ({"verbose": "maybe"}, "echo.verbose='maybe': expected true or false"),
    ({"level": "three"}, "echo.level='three': invalid literal for int() with base 10: 'three'"),
    ({"level": " "}, "echo.level=' ': a level is needed"),
    ({"colour": "red"}, "policy echo has no option 'colour' (options: level, verbose)"),
])
def test_a_bad_option_is_one_line_naming_it(given, message):
    with pytest.raises(OptionError) as e:
        SPEC.resolve_options(given)
    assert str(e.value) == message


def test_a_policy_without_options_says_none():
    bare = PolicySpec(name="bare", title="Bare", summary="", decide=echo)
    with pytest.raises(OptionError) as e:
        bare.resolve_options({"x": "1"})
    assert str(e.value) == "policy bare has no option 'x' (options: none)"


@pytest.mark.parametrize("raw", ["101", "-0.5", "100.5%"])
def test_percentages_outside_0_to_100_are_refused(raw):
    with pytest.raises(ValueError, match=r"^expected a percentage from 0 to 100$"):
        parse_percent(raw)


def test_a_process_victim_as_json():
    d = Decision(
        policy="kernel", domain="/d", triggered=None, reason="r", victim_pid=10, victim_pid_cgroup="/d/a",
        killed_pids=(10, 11), freed_bytes=4096, uncertain="u",
        ranking=(Candidate(cgroup="/d/a", score=7.5, why="w", pid=10, parts={"rss": 2}),
                 Candidate(cgroup="/d/b", score=0.0, why="")),
    )
    assert d.to_json() == {
        "policy": "kernel", "domain": "/d", "triggered": None, "victim": {"pid": 10, "cgroup": "/d/a"},
        "victim_cgroup": None, "killed_pids": [10, 11], "freed_bytes": 4096,
        "ranking": [{"pid": 10, "cgroup": "/d/a", "score": 7.5, "why": "w", "parts": {"rss": 2}},
                    {"cgroup": "/d/b", "score": 0.0, "why": ""}],
        "reason": "r", "uncertain": "u",
    }
    assert list(d.to_json()["ranking"][0]) == ["pid", "cgroup", "score", "why", "parts"]
    assert not d.kills_nothing


def test_a_cgroup_victim_and_no_victim_as_json():
    d = Decision(policy="oomd-swap", domain="/", triggered=True, reason="r", victim_cgroup="/a", killed_pids=(3,))
    j = d.to_json()
    assert j["victim"] is None and j["victim_cgroup"] == "/a" and j["triggered"] is True and not d.kills_nothing
    nothing = Decision(policy="earlyoom", domain="/", triggered=False, reason="fine")
    assert nothing.kills_nothing and nothing.to_json() == {
        "policy": "earlyoom", "domain": "/", "triggered": False, "victim": None, "victim_cgroup": None,
        "killed_pids": [], "freed_bytes": None, "ranking": [], "reason": "fine", "uncertain": None,
    }
    assert not Decision(policy="k", domain="/", triggered=None, reason="", victim_pid=5).kills_nothing
