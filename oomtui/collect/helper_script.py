"""What the collector's helper process runs (see helper.py): stdlib only, so it starts fast.

Run as `python -I -S helper_script.py PROC_ROOT` with pids on stdin; it
writes length-prefixed `marshal` frames of (pid, [bytes or errno per file
of FILES]) to stdout. Importing anything more than os, sys and marshal
would add tens of milliseconds to a helper that has a few hundred to live.
"""

import marshal
import os
import sys

FILES = ("stat", "status", "oom_score_adj", "oom_score", "cmdline")
GONE_ERRNOS = (2, 3)  # ENOENT, ESRCH: the process exited while it was read
BATCH = 64  # processes per frame: how often the collector sees progress
_CHUNK = 1 << 16


def read_process(base: str) -> list[bytes | int]:
    """The files of one /proc/PID directory (`base` ends in "/")."""
    out: list[bytes | int] = []
    for i, name in enumerate(FILES):
        try:
            fd = os.open(base + name, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            out.append(e.errno)
            if i == 0 and e.errno in GONE_ERRNOS:
                break
            continue
        try:
            out.append(_read_fd(fd))
        except OSError as e:
            out.append(e.errno)
        finally:
            os.close(fd)
    return out


def _read_fd(fd: int) -> bytes:
    chunks = [os.read(fd, _CHUNK)]
    while len(chunks[-1]) == _CHUNK:
        chunks.append(os.read(fd, _CHUNK))
    return b"".join(chunks)


def serve(proc: str, pids: list[bytes], out: int) -> None:
    for start in range(0, len(pids), BATCH):
        batch = [(int(pid), read_process(f"{proc}/{pid.decode()}/")) for pid in pids[start:start + BATCH]]
        data = marshal.dumps(batch)
        os.write(out, len(data).to_bytes(4, "little") + data)


def _main() -> None:
    try:
        with open("/proc/self/oom_score_adj", "w") as f:
            f.write("1000")
    except OSError:
        pass
    serve(sys.argv[1], sys.stdin.buffer.read().split(), sys.stdout.fileno())


if __name__ == "__main__":
    _main()
