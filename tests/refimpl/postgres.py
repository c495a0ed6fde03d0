"""A throw-away PostgreSQL server for the tests of shared studies.

`start_postgres` runs Debian's ``postgresql`` package: ``initdb`` makes a cluster in a temporary
folder and ``pg_ctl`` starts it on a free loopback port, both as the ``postgres`` user when the
tests run as root (PostgreSQL refuses to run as root). Nothing listens outside 127.0.0.1, the
Unix socket stays in the temporary folder, and `PostgresServer.stop` removes everything.
Durability is switched off (``fsync=off``): the data lives only as long as the test module.

Where no server can start, `start_postgres` raises `ServerUnavailable` with the reason; the
tests skip with it, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PostgresServer", "ServerUnavailable", "start_postgres"]


class ServerUnavailable(RuntimeError):
    """No PostgreSQL server could be started here; the message says why."""


@dataclass
class PostgresServer:
    """A running server: ``url`` for SQLAlchemy and Optuna, ``stop()`` to remove it."""

    url: str
    root: Path
    bin_dir: Path

    def stop(self) -> None:
        """Stop the server at once and delete its folder."""
        _run(
            self.bin_dir / "pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop"
        )
        shutil.rmtree(self.root, ignore_errors=True)


def _bin_dir() -> Path:
    """The newest ``/usr/lib/postgresql/VERSION/bin`` that has ``initdb`` and ``pg_ctl``."""
    found = [
        path
        for path in Path("/usr/lib/postgresql").glob("*/bin")
        if (path / "initdb").exists() and (path / "pg_ctl").exists()
    ]
    if not found:
        raise ServerUnavailable(
            "no initdb/pg_ctl under /usr/lib/postgresql (apt-get install postgresql)"
        )
    return max(found, key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)


def _as_server_user(command: list[str]) -> list[str]:
    """Run ``command`` as ``postgres`` when we are root, else as ourselves."""
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser") is None:
        raise ServerUnavailable("running as root, but runuser is missing to switch to postgres")
    return ["runuser", "-u", "postgres", "--", *command]


def _run(program: Path, *args: str, timeout: float = 60) -> None:
    command = _as_server_user([str(program), *args])
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        raise ServerUnavailable(f"{program.name} failed ({done.returncode}): {lines[-1]}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_owned_folder() -> Path:
    """A fresh temporary folder the server user can write (tests' own tmp dirs are 0700 root)."""
    root = Path(tempfile.mkdtemp(prefix="refimpl-postgres-"))
    if os.geteuid() == 0:
        try:
            shutil.chown(root, user="postgres", group="postgres")
        except (LookupError, PermissionError) as error:
            shutil.rmtree(root, ignore_errors=True)
            raise ServerUnavailable(f"cannot hand a folder to the postgres user: {error}") from None
    return root


def start_postgres() -> PostgresServer:
    """Initialize and start a server; its superuser ``postgres`` logs in without a password.

    Raises
    ------
    ServerUnavailable
        The package is missing, the ``postgres`` user is missing, or ``initdb``/``pg_ctl``
        failed (the last line of its output is in the message).
    """
    bin_dir = _bin_dir()
    root = _server_owned_folder()
    data, port = root / "data", _free_port()
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off"
    )
    try:
        _run(bin_dir / "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync")
        _run(bin_dir / "pg_ctl", "-D", str(data), "-l", str(root / "log"), "-o", options, "-w",
             "-t", "60", "start")  # fmt: skip
    except (ServerUnavailable, subprocess.TimeoutExpired, OSError) as error:
        shutil.rmtree(root, ignore_errors=True)
        raise ServerUnavailable(str(error)) from None
    return PostgresServer(f"postgresql://postgres@127.0.0.1:{port}/postgres", root, bin_dir)
