"""A real sshd on 127.0.0.1 for `--remote` tests: keys, configs and known_hosts in a temp dir.

It runs as root in the foreground (`-D -e`), lets in one client key, puts
this worktree's .venv/bin first on the session PATH (so the "remote" host
runs the oomtui under test), and is stopped by its pid.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import free_port, running, wait_until

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
ALIAS = "oomtui-test-remote"


def available() -> str | None:
    """Why the tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "sshd needs root to change to the logged-in user"
    if not os.path.exists(SSHD) or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        return "openssh-server and openssh-client are not installed (scripts/test.sh installs them as root with apt)"
    return None


@dataclass(frozen=True)
class Sshd:
    alias: str
    client_config: Path
    port: int
    pid: int  # the sshd: the remote side of a session runs among its descendants

    @property
    def ssh_options(self) -> list[str]:
        return [f"-F{self.client_config}"]


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


@contextlib.contextmanager
def sshd(tmp: Path) -> Iterator[Sshd]:
    tmp.mkdir(parents=True, exist_ok=True)
    host_pub = _keygen(tmp / "host_key")
    client_pub = _keygen(tmp / "client_key")
    (tmp / "authorized_keys").write_text(client_pub + "\n")
    port = free_port()
    (tmp / "known_hosts").write_text(f"[127.0.0.1]:{port} {' '.join(host_pub.split()[:2])}\n")
    path = f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
    (tmp / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {tmp / 'host_key'}\nPidFile {tmp / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {tmp / 'authorized_keys'}\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\n"
        f"SetEnv PATH={path}\nLogLevel VERBOSE\n"
    )
    config = tmp / "ssh_config"
    config.write_text(
        f"Host {ALIAS}\n  HostName 127.0.0.1\n  Port {port}\n  User root\n  IdentityFile {tmp / 'client_key'}\n"
        f"  IdentitiesOnly yes\n  UserKnownHostsFile {tmp / 'known_hosts'}\n  GlobalKnownHostsFile /dev/null\n"
        "  StrictHostKeyChecking yes\n  ConnectTimeout 10\n"
    )
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    log = tmp / "sshd.log"
    with running([SSHD, "-D", "-e", "-f", str(tmp / "sshd_config")], log) as server:
        wait_until(lambda: subprocess.run(["ssh", "-F", str(config), "-o", "BatchMode=yes", ALIAS, "true"],
                                          capture_output=True, timeout=10).returncode == 0, 15, "sshd", log)
        yield Sshd(ALIAS, config, port, server.pid)
