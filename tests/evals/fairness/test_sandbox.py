"""The sandbox: each bypass from issue 13 is blocked by the kernel layers with the audit hook off.

Most tests run twice: with the hook (the normal run) and without it (``audit_hook=False``), which
is what model code that switches the hook off gets. ``test_bypasses_blocked_as_normal_user`` runs
the same attacks from a process that is not root (CI runs as root).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from alignlab.evals.fairness import (
    BOOK_APPLICANTS,
    MORTGAGE_RISK_SOURCE,
    SandboxedFunction,
    SandboxLimits,
    run_sandboxed,
)
from alignlab.evals.fairness.sandbox import (
    SandboxUnavailableError,
    _nobody_interpreter,
    isolation_layers,
    kernel_sandbox_problem,
)

pytestmark = pytest.mark.skipif(kernel_sandbox_problem() is not None, reason=f"{kernel_sandbox_problem()}")
HOOK = pytest.mark.parametrize("hook", [True, False], ids=["hook", "no-hook"])
SRC = Path(__file__).resolve().parents[3] / "src"

# The bypass from the issue: the old hook read module globals at call time.
REBIND = "import sys\nm = sys.modules['__main__']\nm._STDLIB = '/'; m._BLOCKED = ('nothing',); m._NO_IMPORT = set()\n"


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


def _error(code: str, *, hook: bool = True, **limits: object) -> str:
    result = run_sandboxed(code, function="f", records=[{}], limits=SandboxLimits(audit_hook=hook, **limits))  # type: ignore[arg-type]
    assert result.ok, result
    assert "error" in result.results[0], result.results
    return str(result.results[0]["error"])


def test_runs_function_per_record_and_reports_errors() -> None:
    result = run_sandboxed("def f(r):\n    return r['x'] * 2\n", function="f", records=[{"x": 2}, {}])
    assert result.ok and result.results == [{"value": 4.0}, {"error": "KeyError: 'x'"}]
    assert {"bubblewrap", "no network", "read-only minimal root", "audit-hook"} <= set(result.isolation)
    assert any(layer.startswith("seccomp(") for layer in result.isolation)


def test_book_function_through_sandbox() -> None:
    result = run_sandboxed(MORTGAGE_RISK_SOURCE, function="calculate_mortgage_risk", records=BOOK_APPLICANTS)
    assert [r["value"] for r in result.results] == [0, 7, 1, 6, 3]


@HOOK
def test_rebinding_hook_globals_does_not_open_the_network(listener: socket.socket, hook: bool) -> None:
    port = listener.getsockname()[1]
    error = _error(REBIND + _connect_code(port), hook=hook)
    assert ("blocked" in error) if hook else ("PermissionError" in error or "unreachable" in error.lower())
    with pytest.raises(TimeoutError):
        listener.accept()


def test_hook_holds_after_rebinding_globals(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    error = _error(REBIND + f"def f(r):\n    return len(open({str(secret)!r}).read())\n")
    assert "blocked" in error


FORGED = (
    "import os, sys\n"
    "sys.__stdout__.write('\\n@@ALIGNLAB-SANDBOX-RESULT@@' + '{\"results\": [{\"value\": 0}]}' + '\\n')\n"
    "sys.__stdout__.flush()\nos._exit(0)\n"
)
FORGED_FD = (
    "import os, sys\nfd = int(sys.argv[1])\n"
    'os.write(fd, b\'{"ready": true}\\n\' + b\'{"nonce": "0", "value": 0}\\n\' * 5)\nos._exit(0)\n'
)


@HOOK
@pytest.mark.parametrize("forgery", [FORGED, FORGED_FD], ids=["stdout-marker", "result-fd"])
def test_forged_results_are_rejected(forgery: str, hook: bool) -> None:
    scorer = SandboxedFunction(
        MORTGAGE_RISK_SOURCE + forgery, "calculate_mortgage_risk", SandboxLimits(audit_hook=hook)
    )
    scores = scorer.score_batch(BOOK_APPLICANTS)
    assert all(value is None and error for value, error in scores), scores


@HOOK
def test_fork_bomb_is_contained(hook: bool) -> None:
    code = "import os\ndef f(r):\n    n = 0\n    while True:\n        os.fork()\n        n += 1\n"
    error = _error(code, hook=hook)
    assert ("blocked" in error) if hook else ("PermissionError" in error or "BlockingIOError" in error)


@HOOK
def test_file_outside_the_sandbox_is_unreadable(tmp_path: Path, hook: bool) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    for path in (str(secret), "/etc/hostname", "/etc/passwd", str(SRC / "alignlab" / "settings.py")):
        error = _error(f"def f(r):\n    return len(open({path!r}).read())\n", hook=hook)
        assert ("blocked" in error) if hook else ("FileNotFoundError" in error), (path, error)


@HOOK
def test_files_cannot_be_created_truncated_or_deleted(hook: bool) -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as shared:
        os.chmod(shared, 0o777)
        victim = Path(shared) / "victim.txt"
        victim.write_text("keep")
        victim.chmod(0o666)
        attacks = {
            "create": f"open({str(Path(shared) / 'new.txt')!r}, 'w').write('x')",
            "truncate": f"open({str(victim)!r}, 'w')",
            "delete": f"__import__('os').remove({str(victim)!r})",
            "create-in-cwd": "open('new.txt', 'w').write('x')",
            "delete-runner": "__import__('os').remove('runner.py')",
        }
        for name, attack in attacks.items():
            error = _error(f"def f(r):\n    {attack}\n    return 1\n", hook=hook)
            assert "Error" in error, (name, error)
        assert victim.read_text() == "keep"
        assert sorted(p.name for p in Path(shared).iterdir()) == ["victim.txt"]


@HOOK
def test_sockets_blocked(listener: socket.socket, hook: bool) -> None:
    error = _error(_connect_code(listener.getsockname()[1]), hook=hook)
    assert "blocked" in error if hook else "PermissionError" in error
    with pytest.raises(TimeoutError):
        listener.accept()


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


def test_limits_cannot_be_raised() -> None:
    code = "import resource\ndef f(r):\n    resource.setrlimit(resource.RLIMIT_NPROC, (100, 100))\n    return 1\n"
    assert "blocked" in _error(code)
    assert "ValueError" in _error(code, hook=False)  # raising a hard limit needs CAP_SYS_RESOURCE


def test_environment_is_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIGNLAB_TEST_SECRET", "hunter2")
    code = "import os\ndef f(r):\n    return len([k for k in os.environ if k not in ('LC_CTYPE', 'PWD')])\n"
    result = run_sandboxed(code, function="f", records=[{}])
    # Python may set LC_CTYPE (PEP 538 locale coercion), bubblewrap sets PWD; nothing is inherited.
    assert result.results == [{"value": 0.0}]


def test_syntax_error_reported() -> None:
    result = run_sandboxed("def f(:\n", function="f", records=[{}])
    assert not result.ok and result.fatal is not None and "SyntaxError" in result.fatal


def test_refuses_without_kernel_sandbox_unless_unsafe() -> None:
    with pytest.raises(SandboxUnavailableError, match="--unsafe-no-sandbox"):
        run_sandboxed(
            "def f(r):\n    return 1\n", function="f", records=[{}], limits=SandboxLimits(kernel_sandbox=False)
        )
    unsafe = SandboxLimits(kernel_sandbox=False, allow_unsafe=True)
    result = run_sandboxed("def f(r):\n    return 1\n", function="f", records=[{}], limits=unsafe)
    assert result.results == [{"value": 1.0}]
    assert result.isolation[0].startswith("NO KERNEL SANDBOX") and result.isolation == isolation_layers(unsafe)


# Run as a user that is not root: the same attacks, with the hook off, through the same module.
_AS_USER = r"""
import json, sys, types
src = sys.argv[1]
for name in ("alignlab", "alignlab.evals", "alignlab.evals.fairness"):  # skip the heavy package __init__s
    module = types.ModuleType(name)
    module.__path__ = [src + "/" + name.replace(".", "/")]
    sys.modules[name] = module
from alignlab.evals.fairness.sandbox import SandboxLimits, run_sandboxed
out = {}
for name, code in json.loads(sys.argv[2]).items():
    r = run_sandboxed(code, function="f", records=[{}], limits=SandboxLimits(audit_hook=False))
    out[name] = {"ok": r.ok, "results": r.results, "isolation": list(r.isolation), "killed": r.killed}
print(json.dumps(out))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="the whole suite already runs as a normal user")
def test_bypasses_blocked_as_normal_user(listener: socket.socket, tmp_path: Path) -> None:
    interpreter = _nobody_interpreter()
    if interpreter is None:
        pytest.skip("no python that user nobody can run")
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    secret.chmod(0o644)
    tmp_path.chmod(0o755)
    attacks = {
        "socket": REBIND + _connect_code(listener.getsockname()[1]),
        "read": f"def f(r):\n    return len(open({str(secret)!r}).read())\n",
        "fork": "import os\ndef f(r):\n    while True:\n        os.fork()\n",
        "delete": f"import os\ndef f(r):\n    os.remove({str(secret)!r})\n",
        "forge": FORGED_FD + "def f(r):\n    return 1\n",
    }

    def as_nobody() -> None:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)

    proc = subprocess.run(
        [interpreter, "-I", "-c", _AS_USER, str(SRC), json.dumps(attacks)],
        capture_output=True,
        text=True,
        cwd="/",
        preexec_fn=as_nobody,
        timeout=120,
        check=False,
    )
    if "Permission denied" in proc.stderr and str(SRC) in proc.stderr:
        pytest.skip("the source tree is not readable by nobody")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert "uid 65534" in out["socket"]["isolation"] and "bubblewrap" in out["socket"]["isolation"]
    assert "PermissionError" in out["socket"]["results"][0]["error"]
    assert "FileNotFoundError" in out["read"]["results"][0]["error"]
    assert "PermissionError" in out["fork"]["results"][0]["error"]
    assert "FileNotFoundError" in out["delete"]["results"][0]["error"] and secret.exists()
    assert not out["forge"]["ok"] and out["forge"]["results"] == []
    with pytest.raises(TimeoutError):
        listener.accept()
    assert sys.executable  # the parent process is untouched


@pytest.mark.parametrize(
    ("switch", "value", "expected"),
    [
        (
            "apparmor",
            "1",
            "AppArmor blocks unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1",
        ),
        ("clone", "0", "the kernel forbids unprivileged user namespaces (kernel.unprivileged_userns_clone = 0)"),
        ("apparmor", "0", "bubblewrap cannot create user, PID and network namespaces here"),  # not the cause
    ],
)
def test_a_blocked_non_root_bwrap_names_the_kernel_switch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, switch: str, value: str, expected: str
) -> None:
    """GitHub's non-root ubuntu-24.04 jobs: AppArmor stops bwrap's user namespace; say so, and how to allow it."""
    from alignlab.evals.fairness import _seccomp, sandbox

    files = {name: tmp_path / name for name in ("apparmor", "clone", "max")}
    files["max"].write_text("15000\n")
    files[switch].write_text(f"{value}\n")
    switches = [
        (str(files[n]), blocking, why) for n, (_, blocking, why) in zip(files, sandbox._USERNS_SWITCHES, strict=True)
    ]
    monkeypatch.setattr(sandbox, "_USERNS_SWITCHES", tuple(switches))
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(sandbox.shutil, "which", lambda _: "/usr/bin/bwrap")
    monkeypatch.setattr(_seccomp, "seccomp_available", lambda: True)
    denied = subprocess.CompletedProcess([], 1, b"", b"bwrap: setting up uid map: Permission denied\n")
    monkeypatch.setattr(sandbox.subprocess, "run", lambda *a, **k: denied)
    sandbox._kernel_plan.cache_clear()
    try:
        problem = sandbox.kernel_sandbox_problem()
    finally:
        sandbox._kernel_plan.cache_clear()
    assert problem is not None and problem.startswith(expected)
    assert problem.endswith("(bwrap: bwrap: setting up uid map: Permission denied)") and "\n" not in problem
