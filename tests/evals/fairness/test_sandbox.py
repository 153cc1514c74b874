"""The sandbox limits: loops are killed, the network is unreachable, files cannot be read or written."""

from __future__ import annotations

import os
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alignlab.evals.fairness import SandboxLimits, run_sandboxed
from alignlab.evals.fairness.sandbox import _can_unshare_net, _nobody_interpreter


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen()
    srv.settimeout(0.2)
    yield srv
    srv.close()


def _connect_code(port: int) -> str:
    return (
        f"def f(r):\n    import socket\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n    return 1\n"
    )


def test_runs_function_per_record_and_reports_errors() -> None:
    result = run_sandboxed("def f(r):\n    return r['x'] * 2\n", function="f", records=[{"x": 2}, {}])
    assert result.ok and result.results == [{"value": 4.0}, {"error": "KeyError: 'x'"}]
    assert {"subprocess", "empty-env", "timeout"} <= set(result.isolation)


def test_busy_loop_is_killed_by_cpu_limit() -> None:
    start = time.monotonic()
    result = run_sandboxed("while True:\n    pass\n", limits=SandboxLimits(cpu_seconds=1, wall_seconds=20))
    assert not result.ok and result.killed == "cpu limit"
    assert time.monotonic() - start < 10


def test_sleeping_code_is_killed_by_timeout() -> None:
    result = run_sandboxed("import time\ntime.sleep(60)\n", limits=SandboxLimits(wall_seconds=1.5))
    assert not result.ok and result.killed == "timeout"
    assert result.failure == "killed by the sandbox (timeout)"


def test_memory_limit() -> None:
    result = run_sandboxed("x = bytearray(3 * 1024**3)\n", limits=SandboxLimits(memory_bytes=256 * 2**20))
    assert not result.ok and result.killed == "memory limit"


def test_network_call_fails(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    result = run_sandboxed(_connect_code(port), function="f", records=[{}])
    assert result.ok and "error" in result.results[0] and "blocked" in result.results[0]["error"]
    with pytest.raises(TimeoutError):
        listener.accept()


@pytest.mark.skipif(not _can_unshare_net(), reason="needs root for a network namespace")
def test_network_namespace_alone_blocks_loopback(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    result = run_sandboxed(_connect_code(port), function="f", records=[{}], limits=SandboxLimits(audit_hook=False))
    assert "net-namespace" in result.isolation
    assert "unreachable" in result.results[0]["error"].lower()
    with pytest.raises(TimeoutError):
        listener.accept()


def test_file_read_and_write_blocked(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    code = (
        f"def read(r):\n    return len(open({str(secret)!r}).read())\n"
        "def write(r):\n    open('x.txt', 'w').write('x')\n"
    )
    read = run_sandboxed(code, function="read", records=[{}])
    assert "blocked" in read.results[0]["error"]
    write = run_sandboxed(code, function="write", records=[{}])
    assert "blocked" in write.results[0]["error"]
    traversal = (
        "import sysconfig\ndef f(r):\n"
        "    return len(open(sysconfig.get_paths()['stdlib'] + '/..' * 12 + '/etc/hostname').read())\n"
    )
    assert "blocked" in run_sandboxed(traversal, function="f", records=[{}]).results[0]["error"]


def test_file_write_blocked_by_rlimit_without_hook() -> None:
    # A world-writable directory reachable by `nobody`, so only the file-size limit stops the write.
    with tempfile.TemporaryDirectory(dir="/tmp") as shared:
        os.chmod(shared, 0o777)
        _check_write_blocked(Path(shared) / "out.txt")


def _check_write_blocked(target: Path) -> None:
    code = f"def f(r):\n    fh = open({str(target)!r}, 'w')\n    fh.write('x' * 10)\n    fh.flush()\n    return 1\n"
    result = run_sandboxed(code, function="f", records=[{}], limits=SandboxLimits(audit_hook=False))
    assert "File too large" in result.results[0]["error"]
    assert not target.exists() or target.stat().st_size == 0


def test_limits_cannot_be_raised() -> None:
    code = "import resource\ndef f(r):\n    resource.setrlimit(resource.RLIMIT_CPU, (100, 100))\n    return 1\n"
    result = run_sandboxed(code, function="f", records=[{}])
    assert "blocked" in result.results[0]["error"]


@pytest.mark.skipif(_nobody_interpreter() is None, reason="needs root and a python that nobody can run")
def test_root_only_file_unreadable_without_hook(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    secret.chmod(0o600)
    code = f"def f(r):\n    return len(open({str(secret)!r}).read())\n"
    result = run_sandboxed(code, function="f", records=[{}], limits=SandboxLimits(audit_hook=False))
    assert any(layer.startswith("uid nobody") for layer in result.isolation)
    assert "PermissionError" in result.results[0]["error"]


def test_environment_is_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIGNLAB_TEST_SECRET", "hunter2")
    code = "import os\ndef f(r):\n    return len([k for k in os.environ if k != 'LC_CTYPE'])\n"
    result = run_sandboxed(code, function="f", records=[{}])
    # Python itself may set LC_CTYPE (PEP 538 locale coercion); nothing else is inherited.
    assert result.results == [{"value": 0.0}]


def test_syntax_error_reported() -> None:
    result = run_sandboxed("def f(:\n", function="f", records=[{}])
    assert not result.ok and result.fatal is not None and "SyntaxError" in result.fatal
