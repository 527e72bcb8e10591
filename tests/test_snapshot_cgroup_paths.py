"""A snapshot's cgroup paths are checked whole: "/a//b" names no cgroup and is refused in one line.

A hostile or hand-edited file is the loader's threat model: a path with an
empty component would make two spellings of one cgroup, or a process whose
cgroup is in no tree.
"""

from __future__ import annotations

import json

import pytest

from oomtui.cli import main
from oomtui.snapshot import dumps
from tests.support.handmade import cgroup, proc, snapshot


def _file(tmp_path, edit) -> str:
    d = json.loads(dumps(snapshot([cgroup("/app", 100)], [proc(1, "/", 4), proc(4242, "/app", 90)])))
    edit(d)
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(d))
    return str(path)


def _set_cgroup(d: dict) -> None:
    d["cgroups"][-1]["path"] = "/a//b"
    d["processes"][-1]["cgroup"] = "/a//b"


def _set_process(d: dict) -> None:
    d["processes"][-1]["cgroup"] = "/app//x"


@pytest.mark.parametrize(("edit", "field", "shown"), [
    (_set_cgroup, "cgroups[1].path", "/a//b"),
    (_set_process, "processes[1].cgroup", "/app//x"),
])
def test_a_path_with_an_empty_component_is_refused_in_one_line(tmp_path, capsys, edit, field, shown):
    path = _file(tmp_path, edit)
    assert main(["snapshot", "show", path]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f'oomtui: {path}: {field}: expected a cgroup path like "/" or "/a/b", got "{shown}"\n'


def test_the_same_file_with_whole_paths_loads(tmp_path, capsys):
    assert main(["snapshot", "show", _file(tmp_path, lambda d: None)]) == 0
    assert "/app" in capsys.readouterr().out
