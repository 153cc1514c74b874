"""Run model-written Python in a separate, resource-limited process — never in ours.

Layers, each independent of the others (what applied is reported in ``isolation``):

* a fresh interpreter (``python -I -S``: no site-packages, no environment, no user site)
  with an **empty environment** and an empty temporary working directory;
* ``resource`` limits: CPU seconds (SIGXCPU kills a busy loop), address space, file size 0
  (no file writes), no core dumps, no new processes; plus a wall-clock timeout;
* as root: a **new network namespace** (``unshare(CLONE_NEWNET)``: not even loopback is
  up) and a drop to user ``nobody`` (root could read any file and raise its own limits);
* inside the child, before the model's code is compiled, a ``sys.addaudithook`` hook —
  which Python code cannot remove — refuses ``open`` outside the standard library, sockets,
  subprocesses, ``os.system``/``exec``/``fork`` and ``ctypes``.

The audit hook alone would not be a sandbox (CPython is not designed as one); the kernel
layers are what hold when it is bypassed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["SandboxLimits", "SandboxResult", "SandboxedFunction", "run_sandboxed"]

_RESULT_MARK = "@@ALIGNLAB-SANDBOX-RESULT@@"
_CLONE_NEWNET = 0x40000000
_NOBODY = 65534

# The child's bootstrap. It reads {"code", "function", "records"} from stdin, installs the
# audit hook, runs the code and prints one JSON result line after a marker.
_RUNNER = r"""
import io, json, os, sys, sysconfig
_raw = sys.stdin.buffer.read().decode("utf-8")
_job = json.loads(_raw)
for _m in ("math", "re", "statistics", "datetime", "collections", "functools", "itertools", "decimal",
           "fractions", "random", "string", "typing", "dataclasses", "enum"):
    try:
        __import__(_m)
    except Exception:
        pass
_STDLIB = os.path.realpath(sysconfig.get_paths()["stdlib"]) + os.sep
_BLOCKED = ("socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
            "os.kill", "ctypes.", "os.remove", "os.rename", "os.rmdir", "os.mkdir", "shutil.", "os.chmod",
            "os.chown", "os.link", "os.symlink", "os.truncate", "os.putenv", "os.unsetenv", "webbrowser.",
            "resource.", "urllib.Request", "http.client.connect", "ftplib.", "smtplib.", "sys._getframe")
_NO_IMPORT = {"ctypes", "_ctypes", "socket", "_socket", "subprocess", "_posixsubprocess", "ssl", "_ssl",
              "multiprocessing", "_multiprocessing", "select", "mmap", "pty", "fcntl", "urllib.request",
              "http.client", "asyncio"}
def _hook(event, args):
    if event == "open":
        path, mode = args[0], args[1] if len(args) > 1 else "r"
        writing = isinstance(mode, str) and any(c in mode for c in "wax+")
        # realpath: "<stdlib>/../../etc/passwd" and symlinks must not pass the prefix check.
        if isinstance(path, int) or writing or not os.path.realpath(os.fsdecode(path)).startswith(_STDLIB):
            raise PermissionError(f"sandbox: open({path!r}) blocked")
    elif event == "import" and args[0] in _NO_IMPORT:
        raise PermissionError(f"sandbox: import {args[0]} blocked")
    elif event.startswith(_BLOCKED):
        raise PermissionError(f"sandbox: {event} blocked")
_out = sys.stdout
sys.stdout = io.StringIO()
if _job.get("audit_hook", True):
    sys.addaudithook(_hook)
def _emit(obj):
    _out.write("\n" + "@@ALIGNLAB-SANDBOX-RESULT@@" + json.dumps(obj, ensure_ascii=True, default=str) + "\n")
    _out.flush()
_ns = {"__name__": "sandboxed", "__builtins__": __builtins__}
try:
    exec(compile(_job["code"], "<model-code>", "exec"), _ns)
    _fn = _ns[_job["function"]] if _job.get("function") else None
except BaseException as _e:
    _emit({"fatal": f"{type(_e).__name__}: {_e}"})
    raise SystemExit(3)
_results = []
if _fn is not None:
    for _rec in _job.get("records", []):
        try:
            _v = float(_fn(_rec))
            _results.append({"value": _v} if _v == _v else {"error": "returned NaN"})
        except BaseException as _e:
            _results.append({"error": f"{type(_e).__name__}: {_e}"})
_emit({"results": _results, "printed": sys.stdout.getvalue()[:2000]})
"""


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one sandboxed run.

    Attributes:
        cpu_seconds: CPU time before SIGXCPU kills the child.
        memory_bytes: Address-space limit.
        wall_seconds: Wall-clock timeout (catches sleeping or blocked code).
        network_namespace: Put the child in an empty network namespace when possible (root).
        drop_privileges: Run as ``nobody`` when started as root (with the system ``python3``
            when ``nobody`` cannot run ours).
        audit_hook: Install the in-process audit hook (turn off only to test the kernel layers).
    """

    cpu_seconds: int = 5
    memory_bytes: int = 512 * 2**20
    wall_seconds: float = 15.0
    network_namespace: bool = True
    drop_privileges: bool = True
    audit_hook: bool = True


@dataclass(frozen=True)
class SandboxResult:
    """What came back from the child.

    Attributes:
        ok: The code ran to the end and returned a result.
        killed: Why the child was stopped (``timeout``, ``cpu limit``, ``memory limit``,
            ``signal N``, ``exit N``), or ``None``.
        results: Per-record ``{"value": float}`` or ``{"error": str}``.
        fatal: An exception raised while defining the code (module level).
        isolation: The layers that were applied.
        stderr: The child's stderr (truncated).
    """

    ok: bool
    killed: str | None
    results: list[dict[str, Any]]
    fatal: str | None
    isolation: tuple[str, ...]
    stderr: str

    @property
    def failure(self) -> str | None:
        """One line saying why the run failed, or ``None``."""
        if self.ok:
            return None
        return self.fatal or f"killed by the sandbox ({self.killed})"


@functools.cache
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name, use_errno=True) if name else None


@functools.cache
def _can_unshare_net() -> bool:
    # Probe in a throwaway child: unshare() in our own process would cut *us* off.
    if os.geteuid() != 0 or _libc() is None:
        return False
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os._exit(0 if _libc().unshare(_CLONE_NEWNET) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _runs_as_nobody(interpreter: str) -> bool:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.setgroups([])
            os.setgid(_NOBODY)
            os.setuid(_NOBODY)
            os.execv(interpreter, [interpreter, "-I", "-S", "-c", "pass"])
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


@functools.cache
def _nobody_interpreter() -> str | None:
    """A Python that user ``nobody`` can run (the sandbox needs only the standard library).

    Our own interpreter may live where ``nobody`` cannot reach it (a pyenv under /root); the
    system ``python3`` then serves, since the child runs with ``-I -S`` anyway.
    """
    if os.geteuid() != 0:
        return None
    candidates = [sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"]
    for interpreter in dict.fromkeys(c for c in candidates if c and os.path.isfile(c)):
        if _runs_as_nobody(interpreter):
            return interpreter
    return None


def _preexec(limits: SandboxLimits, net: bool, drop: bool) -> Callable[[], None]:
    def setup() -> None:  # runs in the child between fork and exec
        if net and _libc().unshare(_CLONE_NEWNET) != 0:
            os._exit(70)
        if drop:
            os.setgroups([])
            os.setgid(_NOBODY)
            os.setuid(_NOBODY)
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
        os.setsid()

    return setup


_SIGNALS = {
    signal.SIGXCPU: "cpu limit",
    signal.SIGKILL: "killed (SIGKILL)",
    signal.SIGXFSZ: "file write blocked",
    signal.SIGSEGV: "segfault",
}


def _killed(returncode: int) -> str | None:
    if returncode == 0:
        return None
    if returncode < 0:
        return _SIGNALS.get(signal.Signals(-returncode), f"signal {-returncode}")
    return "network namespace unavailable" if returncode == 70 else f"exit {returncode}"


def run_sandboxed(
    code: str,
    *,
    function: str | None = None,
    records: Sequence[Mapping[str, Any]] = (),
    limits: SandboxLimits | None = None,
) -> SandboxResult:
    """Define ``code`` in a sandboxed child and call ``function(record)`` on each record.

    Args:
        code: Untrusted Python source (for example a model's answer).
        function: Name of the function to call; ``None`` only runs the code.
        records: JSON-serialisable inputs, one call each.
        limits: Resource limits.

    Returns:
        A :class:`SandboxResult`; exceptions in the code are reported in it, never raised.
    """
    limits = limits or SandboxLimits()
    net = limits.network_namespace and _can_unshare_net()
    nobody_python = _nobody_interpreter() if limits.drop_privileges else None
    drop = nobody_python is not None
    interpreter = nobody_python or sys.executable
    isolation = ["subprocess", "empty-env", "python -I -S", "rlimits(cpu,as,fsize=0,nproc=0)", "timeout"]
    isolation += ["net-namespace"] if net else []
    isolation += [f"uid nobody ({interpreter})"] if drop else []
    isolation += ["audit-hook"] if limits.audit_hook else []
    workdir = Path(tempfile.mkdtemp(prefix="alignlab-sandbox-"))
    try:
        runner = workdir / "runner.py"
        runner.write_text(_RUNNER, encoding="utf-8")
        workdir.chmod(0o755)
        runner.chmod(0o644)
        job = json.dumps(
            {"code": code, "function": function, "records": list(records), "audit_hook": limits.audit_hook}, default=str
        )
        try:
            proc = subprocess.run(
                [interpreter, "-I", "-S", str(runner)],
                input=job.encode("utf-8"),
                capture_output=True,
                env={},
                cwd=workdir,
                timeout=limits.wall_seconds,
                preexec_fn=_preexec(limits, net, drop),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            stderr = (exc.stderr or b"").decode("utf-8", "replace")[-2000:]
            return SandboxResult(False, "timeout", [], None, tuple(isolation), stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return _parse(proc, tuple(isolation))


def _parse(proc: subprocess.CompletedProcess[bytes], isolation: tuple[str, ...]) -> SandboxResult:
    stdout = proc.stdout.decode("utf-8", "replace")
    stderr = proc.stderr.decode("utf-8", "replace")[-2000:]
    payload: dict[str, Any] = {}
    if _RESULT_MARK in stdout:
        try:
            payload = json.loads(stdout.rsplit(_RESULT_MARK, 1)[1].strip().splitlines()[0])
        except (json.JSONDecodeError, IndexError):
            payload = {}
    killed = _killed(proc.returncode)
    if killed is None and "MemoryError" in stderr:
        killed = "memory limit"
    fatal = payload.get("fatal")
    if isinstance(fatal, str) and fatal.startswith("MemoryError"):
        killed = "memory limit"
    ok = proc.returncode == 0 and "results" in payload
    return SandboxResult(
        ok, None if ok else (killed or "no result"), payload.get("results", []), fatal, isolation, stderr
    )


@dataclass(frozen=True)
class SandboxedFunction:
    """A model-written scoring function, callable on records only through the sandbox.

    It implements the batch-scoring protocol of :func:`alignlab.evals.fairness.counterfactual_fairness`:
    all records are scored in one child process.
    """

    code: str
    function: str
    limits: SandboxLimits = SandboxLimits()

    def score_batch(self, records: Sequence[Mapping[str, Any]]) -> list[tuple[float | None, str | None]]:
        """``(value, error)`` per record; a killed child gives every record the kill reason."""
        result = run_sandboxed(self.code, function=self.function, records=records, limits=self.limits)
        if not result.ok:
            return [(None, result.failure)] * len(records)
        return [(r.get("value"), r.get("error")) for r in result.results]
