"""Another user on the same host, for tests of what root must not be turned into.

`attacker_dir` makes a directory owned by `nobody`; `as_nobody` runs a
function in a forked child that has dropped to `nobody`, so what it plants
(symlinks, files) is made with exactly an unprivileged user's rights.
"""

from __future__ import annotations

import os
import pwd
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest


def nobody() -> tuple[int, int]:
    if os.geteuid() != 0:
        pytest.skip("needs root to act as another user")
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody on this machine")
    return entry.pw_uid, entry.pw_gid


def attacker_dir(path: Path) -> Path:
    """A directory owned by nobody (its parents stay root's)."""
    uid, gid = nobody()
    path.mkdir(mode=0o755)
    os.chown(path, uid, gid)
    return path


def as_nobody(where: Path, action: Callable[[int], None]) -> None:
    """Run `action(dir_fd)` as nobody, with an fd of `where` opened first (the test's parents are 0700)."""
    uid, gid = nobody()
    fd = os.open(where, os.O_RDONLY | os.O_DIRECTORY)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            action(fd)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(fd)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the attacker's action failed"
