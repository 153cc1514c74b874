"""A throwaway PostgreSQL server for tests.

Import the fixtures into a package's ``conftest.py``::

    from tests.pg import postgres_db_url, postgres_url  # noqa: F401

``postgres_url`` (session scope) starts a private server from Debian's binaries in
``/usr/lib/postgresql/*/bin`` (or uses ``ALIGNLAB_TEST_POSTGRES_URL``);
``postgres_db_url`` gives each test a fresh, empty database on it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest
from sqlalchemy import create_engine, make_url, text

__all__ = ["postgres_db_url", "postgres_url"]

ENV_URL = "ALIGNLAB_TEST_POSTGRES_URL"
SERVER_USER = "postgres"
SKIP_REASON = (
    "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin); "
    "install Debian's postgresql to run these tests"
)


def _find_bindir() -> Path | None:
    candidates = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")]
    candidates = [p for p in candidates if (p / "pg_ctl").exists()]
    if not candidates:
        return None
    return max(candidates, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else -1)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _as_server_user(args: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", SERVER_USER, "--", *args]
    return args


def _run(args: list[str]) -> None:
    result = subprocess.run(_as_server_user(args), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")


def _start_server(bindir: Path, base: Path) -> str:
    data, sock, log = base / "data", base / "sock", base / "server.log"
    sock.mkdir()
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVER_USER)
        for path in (base, sock):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", SERVER_USER]
    _run([*initdb, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
    port = _free_port()
    options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1"
    _run(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(log),
            "-w",
            "start",
        ]
    )
    return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{port}/postgres"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a PostgreSQL server that lives for the test session."""
    existing = os.environ.get(ENV_URL)
    if existing:
        yield existing
        return
    bindir = _find_bindir()
    if bindir is None:
        pytest.skip(SKIP_REASON)
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            pytest.skip(f"running as root and there is no {SERVER_USER!r} user to run PostgreSQL")
    base = Path(tempfile.mkdtemp(prefix="alignlab-pg-"))
    try:
        url = _start_server(bindir, base)
        yield url
    finally:
        if (base / "data" / "postmaster.pid").exists():
            _run(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(base / "data"),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ]
            )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_db_url(postgres_url: str) -> Iterator[str]:
    """URL of a fresh, empty database on the test server, dropped after the test."""
    name = f"alignlab_test_{uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield (make_url(postgres_url).set(database=name).render_as_string(hide_password=False))
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
