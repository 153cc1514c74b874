"""Helpers for the service benchmarks: start the fake upstream and ``alignlab serve`` as processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = (
    "import uvicorn, sys; from tests.web.fake_upstream import fake_upstream_app; "
    "uvicorn.run(fake_upstream_app(), host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')"
)
SERVE = "import sys; from alignlab.cli.main import main; sys.argv[0] = 'alignlab'; main()"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join([str(ROOT / "src"), str(ROOT), *sys.path])
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", **extra}


def _wait(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def process(args: list[str], probe: str, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``python -c`` ``args`` until the block ends; waits for ``probe`` to answer."""
    proc = subprocess.Popen([sys.executable, "-c", *args], env=_env(**env), stdout=subprocess.DEVNULL)
    try:
        _wait(probe, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass(frozen=True)
class Running:
    """A started server: its base URL and process id."""

    url: str
    pid: int


@contextmanager
def upstream() -> Iterator[Running]:
    """The fake OpenAI-compatible upstream; its URL is the /v1 base URL."""
    port = free_port()
    with process([UPSTREAM, str(port)], f"http://127.0.0.1:{port}/v1/models") as proc:
        yield Running(f"http://127.0.0.1:{port}/v1", proc.pid)


@contextmanager
def service(db_url: str, *extra: str) -> Iterator[Running]:
    """``alignlab serve`` on ``db_url``."""
    port = free_port()
    with process(
        [SERVE, "serve", "--port", str(port), *extra], f"http://127.0.0.1:{port}/healthz", ALIGNLAB_DATABASE_URL=db_url
    ) as proc:
        yield Running(f"http://127.0.0.1:{port}", proc.pid)
