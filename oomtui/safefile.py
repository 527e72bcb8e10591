"""Writing files as root without being turned against the host.

oomtui runs as root, and a directory another user controls lets that user
swap any name in it for a symlink between our check and our write (root
would then append to /etc/shadow, or delete a home directory's dot-files).
So every write goes through a directory fd reached component by component
with O_NOFOLLOW, each directory checked on its fd: owned by root or by us,
and writable by nobody else unless sticky (/tmp). A symlink on the way is
followed only where such a directory holds it and root or we own it; the
directory written into, and the file itself, are never symlinks. Files are
opened relative to that fd with O_NOFOLLOW and replaced by renaming a
temporary name made with O_EXCL, which `remove_own_temporaries` alone may
delete.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

TMP_SUFFIX = ".oomtui-tmp"
_OWN_TMP = re.compile(r"^\..+\.[0-9a-f]{8}" + re.escape(TMP_SUFFIX) + "$")
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_MAX_LINKS = 40  # symlinks followed in one path, as the kernel's own limit


class UnsafePathError(OSError):
    """A write refused because another user could redirect it; `strerror` is the sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EPERM, message)

    def __str__(self) -> str:
        return str(self.strerror)


def _why_untrusted(st: os.stat_result, euid: int) -> str | None:
    if st.st_uid not in (0, euid):
        return f"owned by another user (uid {st.st_uid})"
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        return "writable by other users"
    return None


def _check_dir(fd: int, shown: str) -> None:
    why = _why_untrusted(os.fstat(fd), os.geteuid())
    if why is not None:
        raise UnsafePathError(f"{shown} is {why}; refusing to write there")


def _check_own(fd: int, shown: str) -> None:
    uid = os.fstat(fd).st_uid
    if uid != os.geteuid():
        raise UnsafePathError(f"{shown} is owned by another user (uid {uid}); refusing to write there")


def open_dir(path: str | os.PathLike[str], *, create: bool = False, own: bool = False) -> int:
    """An fd for the directory `path`, checked safe to write in; `create` makes what is missing (0700).

    `own`: the directory itself must belong to us (a recording directory),
    not merely to root or us (a parent such as /var/log), and is never a
    symlink itself.
    """
    text = os.path.abspath(os.fspath(path))
    parts = [p for p in text.split("/") if p]
    fd = os.open("/", _DIR_FLAGS)
    walked = ""
    links = 0
    try:
        _check_dir(fd, "/")
        while parts:
            name = parts.pop(0)
            if name == ".":
                continue
            last = not parts
            shown = (walked.rsplit("/", 1)[0] or "/") if name == ".." else f"{walked}/{name}"
            try:
                nxt = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o700, dir_fd=fd)
                nxt = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as e:
                if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                target = _link_target(fd, name, shown, last and own)
                links += 1
                if links > _MAX_LINKS:
                    raise UnsafePathError(f"{text}: too many symbolic links") from None
                parts = [p for p in target.split("/") if p] + parts
                if target.startswith("/"):
                    os.close(fd)
                    fd = os.open("/", _DIR_FLAGS)
                    walked = ""
                continue
            os.close(fd)
            fd = nxt
            walked = shown if shown != "/" else ""
            _check_dir(fd, shown)
        if own:
            _check_own(fd, text)
        return fd
    except BaseException:
        os.close(fd)
        raise


def _link_target(dir_fd: int, name: str, shown: str, refuse: bool) -> str:
    """Where a symlink met on the way points, if it may be followed; else why not."""
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if not stat.S_ISLNK(st.st_mode):
        raise NotADirectoryError(errno.ENOTDIR, f"{shown} is not a directory")
    if refuse:
        raise UnsafePathError(f"{shown} is a symbolic link; refusing to write through it")
    if st.st_uid not in (0, os.geteuid()):
        raise UnsafePathError(f"{shown} is a symbolic link owned by another user (uid {st.st_uid}); "
                              "refusing to follow it")
    return os.readlink(name, dir_fd=dir_fd)


def open_subdir(dir_fd: int, name: str, *, shown: str) -> int:
    """An fd for our own subdirectory `name` of a checked directory, made (0700) if missing."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o700, dir_fd=dir_fd)
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            _link_target(dir_fd, name, shown, refuse=True)
        raise
    try:
        _check_dir(fd, shown)
        _check_own(fd, shown)
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def opened_dir(path: str | os.PathLike[str], *, create: bool = False, own: bool = False) -> Iterator[int]:
    fd = open_dir(path, create=create, own=own)
    try:
        yield fd
    finally:
        os.close(fd)


def _refuse_non_file(dir_fd: int, name: str, shown: str) -> None:
    """A symlink or a non-regular file where a file is to be written is refused, not replaced."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise UnsafePathError(f"{shown} is a symbolic link; refusing to write through it or replace it")
    if not stat.S_ISREG(st.st_mode):
        raise UnsafePathError(f"{shown} exists and is not a regular file; refusing to replace it")


def write_all(fd: int, data: bytes) -> None:
    """Write every byte (a short write is retried; a full disk raises ENOSPC)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def write_atomic_at(dir_fd: int, name: str, data: bytes, *, mode: int = 0o600, shown: str | None = None) -> None:
    """Write `name` in the directory whole or not at all: a temporary name, fsync, rename, fsync the directory."""
    shown = shown or name
    _refuse_non_file(dir_fd, name, shown)
    tmp = f".{name}.{secrets.token_hex(4)}{TMP_SUFFIX}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dir_fd)
    try:
        try:
            write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    os.fsync(dir_fd)


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o600) -> None:
    """`write_atomic_at` for a path, through a checked fd of its directory."""
    p = Path(path)
    with opened_dir(p.parent) as d:
        write_atomic_at(d, p.name, data, mode=mode, shown=str(p))


def open_append_at(dir_fd: int, name: str, *, shown: str | None = None, mode: int = 0o600) -> int:
    """An O_APPEND fd for our own regular file `name` (created if missing), never through a symlink."""
    shown = shown or name
    try:
        fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     mode, dir_fd=dir_fd)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise UnsafePathError(f"{shown} is a symbolic link; refusing to write through it") from None
        raise
    st = os.fstat(fd)
    why = ("not a regular file" if not stat.S_ISREG(st.st_mode) else
           f"owned by another user (uid {st.st_uid})" if st.st_uid != os.geteuid() else
           "a hard link to another file too" if st.st_nlink != 1 else None)
    if why is not None:
        os.close(fd)
        raise UnsafePathError(f"{shown} is {why}; refusing to write to it")
    os.set_blocking(fd, True)
    return fd


def open_append(path: str | os.PathLike[str], *, create_dirs: bool = False) -> int:
    """`open_append_at` for a path, its directory made (0700) where missing if `create_dirs`."""
    p = Path(path)
    with opened_dir(p.parent, create=create_dirs) as d:
        return open_append_at(d, p.name, shown=str(p))


def remove_own_temporaries(dir_fd: int) -> int:
    """Delete the temporary files a killed oomtui left here (our names, our regular files); how many."""
    removed = 0
    for name in os.listdir(dir_fd):
        if not _OWN_TMP.match(name):
            continue
        with contextlib.suppress(OSError):
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid():
                os.unlink(name, dir_fd=dir_fd)
                removed += 1
    return removed
