"""Run model-written Python in a separate, isolated process — never in ours.

The sandbox is **bubblewrap** (``bwrap``), a kernel-level tool, with these layers (the ones
that applied are listed in :attr:`SandboxResult.isolation` and printed by the CLI):

* new user, PID, network, IPC and UTS namespaces: no network at all (not even loopback),
  no other process visible, no nested user namespaces;
* a **read-only minimal root**: only ``/usr`` (and the interpreter's prefix) and the runner,
  no ``/tmp``, ``/home``, ``/etc`` or work directory of ours; nothing can be created or deleted;
* a **seccomp** filter (see :mod:`alignlab.evals.fairness._seccomp`): no new processes, no
  sockets, no ptrace, mounts, namespaces, BPF, io_uring, keyrings;
* a **uid drop**: started as root, the sandbox runs as ``nobody`` (before ``bwrap`` starts);
* ``--die-with-parent``, an empty environment, rlimits (CPU, address space, file size 0,
  no new processes, no core dumps) and a wall-clock timeout;
* inside, an audit hook — a second line only: CPython is not a sandbox, and the layers above
  are what hold when model code switches the hook off.

Results come over a request/response channel the harness drives: each record goes out with a
fresh nonce only after the previous answer came back, and only an answer carrying that nonce
counts. What the code prints is never parsed, so a printed result line followed by
``os._exit(0)`` is a failed run, not a result.

Without a working bubblewrap, :func:`run_sandboxed` refuses to run model code
(:class:`SandboxUnavailableError`) unless the caller opts in with ``allow_unsafe`` (the CLI's
``--unsafe-no-sandbox``): then only the subprocess, rlimits, the audit hook and, as root, a
network namespace and the uid drop apply.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
import os
import resource
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alignlab.errors import AlignlabError
from alignlab.evals.fairness import _seccomp

__all__ = [
    "SandboxLimits",
    "SandboxResult",
    "SandboxUnavailableError",
    "SandboxedFunction",
    "kernel_sandbox_problem",
    "run_sandboxed",
]

_CLONE_NEWNET = 0x40000000
_NOBODY = 65534
_CHILD_SOURCE = Path(__file__).with_name("_sandbox_child.py")
_MAX_ANSWER = 1 << 20


class SandboxUnavailableError(AlignlabError):
    """No kernel sandbox here, and the caller did not accept running model code without one."""


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits and isolation choices for one sandboxed run.

    Attributes:
        cpu_seconds: CPU time before SIGXCPU kills the child.
        memory_bytes: Address-space limit.
        wall_seconds: Wall-clock timeout (catches sleeping or blocked code).
        audit_hook: Install the in-process audit hook (turn off only to test the other layers).
        allow_unsafe: Without a kernel sandbox, run anyway with only the weaker layers
            (``--unsafe-no-sandbox``); otherwise :class:`SandboxUnavailableError` is raised.
        kernel_sandbox: Use bubblewrap when it works (turn off only to test the fallback).
    """

    cpu_seconds: int = 5
    memory_bytes: int = 512 * 2**20
    wall_seconds: float = 15.0
    audit_hook: bool = True
    allow_unsafe: bool = False
    kernel_sandbox: bool = True


@dataclass(frozen=True)
class SandboxResult:
    """What came back from the child.

    Attributes:
        ok: The code ran, answered every record's request and exited cleanly.
        killed: Why the run failed (``timeout``, ``cpu limit``, ``memory limit``,
            ``signal N``, ``exit N``, a protocol violation), or ``None``.
        results: Per-record ``{"value": float}`` or ``{"error": str}`` (only answered records).
        fatal: An exception raised while defining the code (module level).
        isolation: The layers that were applied.
        stderr: The child's output, stdout and stderr together (truncated); never parsed.
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


# --- probes ---------------------------------------------------------------------------------


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


def _drop_to_nobody() -> None:
    os.setgroups([])
    os.setgid(_NOBODY)
    os.setuid(_NOBODY)


def _runs_as_nobody(argv: Sequence[str]) -> bool:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            fd = os.open(os.devnull, os.O_RDWR)
            for std in (0, 1, 2):
                os.dup2(fd, std)
            _drop_to_nobody()
            os.execv(argv[0], list(argv))
        finally:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def _interpreters() -> list[str]:
    candidates = [os.path.realpath(sys.executable), "/usr/bin/python3", "/usr/local/bin/python3"]
    return list(dict.fromkeys(c for c in candidates if os.path.isfile(c)))


@functools.cache
def _nobody_interpreter() -> str | None:
    """A Python that user ``nobody`` can run (the sandbox needs only the standard library).

    Our own interpreter may live where ``nobody`` cannot reach it (a pyenv under /root); the
    system ``python3`` then serves, since the child runs with ``-I -S`` anyway.
    """
    if os.geteuid() != 0:
        return None
    for interpreter in _interpreters():
        if _runs_as_nobody([interpreter, "-I", "-S", "-c", "pass"]):
            return interpreter
    return None


def _prefix(interpreter: str) -> str:
    return str(Path(interpreter).parent.parent)  # <prefix>/bin/python3


def _root_binds(interpreter: str) -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/lib", "/lib64", "/lib32", "/sbin"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    prefix = _prefix(interpreter)
    if not prefix.startswith("/usr"):
        args += ["--ro-bind", prefix, prefix]
    return args


_NAMESPACES = ["--unshare-user", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
_BWRAP_FLAGS = [*_NAMESPACES, "--unshare-cgroup-try", "--disable-userns", "--die-with-parent", "--new-session"]


@dataclass(frozen=True)
class _KernelPlan:
    bwrap: str
    interpreter: str
    drop: bool


# Kernel switches that stop an unprivileged process from creating a user namespace, and what to do.
# AppArmor's is on by default on Ubuntu 23.10+ and GitHub's ubuntu-24.04 runners (non-root jobs).
_USERNS_SWITCHES = (
    ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1",
     "AppArmor blocks unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1, the default "
     "on Ubuntu 24.04 and GitHub's ubuntu-24.04 runners); run as root, or allow them with "
     "`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`"),
    ("/proc/sys/kernel/unprivileged_userns_clone", "0",
     "the kernel forbids unprivileged user namespaces (kernel.unprivileged_userns_clone = 0); run as root, or "
     "allow them with `sudo sysctl -w kernel.unprivileged_userns_clone=1`"),
    ("/proc/sys/user/max_user_namespaces", "0",
     "user namespaces are disabled (user.max_user_namespaces = 0); run as root, or raise it with "
     "`sudo sysctl -w user.max_user_namespaces=15000`"),
)  # fmt: skip


def _userns_blocker() -> str | None:
    """Which kernel switch keeps a non-root bubblewrap from creating its namespaces, if one does."""
    for path, blocking, why in _USERNS_SWITCHES:
        try:
            value = Path(path).read_text(encoding="ascii").strip()
        except OSError:
            continue
        if value == blocking:
            return why
    return None


def _probe_failure(completed: subprocess.CompletedProcess[bytes]) -> str:
    detail = (completed.stderr.decode("utf-8", "replace").strip().splitlines() or [""])[0][:200]
    why = _userns_blocker() or "bubblewrap cannot create user, PID and network namespaces here"
    return f"{why} (bwrap: {detail})" if detail else why


@functools.cache
def _kernel_plan() -> _KernelPlan | str:
    """How to start bubblewrap here, or why it cannot be used (probed once, with a real run)."""
    bwrap = shutil.which("bwrap") or next((p for p in ("/usr/bin/bwrap",) if os.path.isfile(p)), None)
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed"
    if not _seccomp.seccomp_available():
        return "libseccomp is not installed"
    root = os.geteuid() == 0
    interpreter = _nobody_interpreter() if root else _interpreters()[0]
    if interpreter is None:
        return "no Python interpreter that user nobody can run"
    argv = [bwrap, *_BWRAP_FLAGS, *_root_binds(interpreter), "--", interpreter, "-I", "-S", "-c", "pass"]
    if root:
        if not _runs_as_nobody(argv):
            return "bubblewrap cannot create user, PID and network namespaces here"
        return _KernelPlan(bwrap, interpreter, root)
    probe = subprocess.run(argv, capture_output=True, check=False)
    if probe.returncode != 0:
        return _probe_failure(probe)
    return _KernelPlan(bwrap, interpreter, root)


def kernel_sandbox_problem() -> str | None:
    """Why no kernel sandbox (bubblewrap) can run model code here, or ``None`` when one can."""
    plan = _kernel_plan()
    return plan if isinstance(plan, str) else None


# --- launching ------------------------------------------------------------------------------


@dataclass
class _Launch:
    argv: list[str]
    cwd: str
    preexec: Callable[[], None]
    isolation: list[str]
    pass_fds: list[int] = field(default_factory=list)


def _limits_label(limits: SandboxLimits) -> str:
    return f"rlimits(cpu={limits.cpu_seconds}s, as={limits.memory_bytes >> 20}MiB, fsize=0, nproc=0, core=0)"


def _preexec(limits: SandboxLimits, *, net: bool, drop: bool, nproc: bool) -> Callable[[], None]:
    def setup() -> None:  # runs in the child between fork and exec
        os.setsid()
        if net and _libc().unshare(_CLONE_NEWNET) != 0:
            os._exit(70)
        if drop:
            _drop_to_nobody()
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if nproc:  # bubblewrap itself must fork; the runner lowers it inside the sandbox instead
            resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))

    return setup


def _kernel_launch(plan: _KernelPlan, limits: SandboxLimits, workdir: Path, result_fd: int) -> _Launch:
    bpf_fd, rules = _seccomp.compile_filter()
    argv = [plan.bwrap, *_BWRAP_FLAGS, "--clearenv", *_root_binds(plan.interpreter)]
    argv += ["--ro-bind", str(workdir), "/sandbox", "--dev", "/dev", "--chdir", "/sandbox", "--seccomp", str(bpf_fd)]
    argv += ["--", plan.interpreter, "-I", "-S", "/sandbox/runner.py", str(result_fd)]
    uid = _NOBODY if plan.drop else os.geteuid()
    isolation = [
        "bubblewrap",
        "namespaces(user, pid, net, ipc, uts)",
        "no network",
        "read-only minimal root",
        f"seccomp({rules} rules)",
        f"uid {uid}" + (" (dropped from root)" if plan.drop else ""),
        "die-with-parent",
        "empty env",
        _limits_label(limits),
        "timeout",
    ]
    return _Launch(argv, str(workdir), _preexec(limits, net=False, drop=plan.drop, nproc=False), isolation, [bpf_fd])


def _unsafe_launch(limits: SandboxLimits, workdir: Path, result_fd: int) -> _Launch:
    net = _can_unshare_net()
    interpreter = _nobody_interpreter()
    drop = interpreter is not None
    argv = [interpreter or sys.executable, "-I", "-S", str(workdir / "runner.py"), str(result_fd)]
    isolation = ["NO KERNEL SANDBOX (--unsafe-no-sandbox)", "subprocess", "empty env", _limits_label(limits)]
    isolation += ["timeout", *(["net-namespace"] if net else []), *([f"uid {_NOBODY}"] if drop else [])]
    return _Launch(argv, str(workdir), _preexec(limits, net=net, drop=drop, nproc=True), isolation)


@contextmanager
def _workdir() -> Iterator[Path]:
    workdir = Path(tempfile.mkdtemp(prefix="alignlab-sandbox-"))
    try:
        shutil.copyfile(_CHILD_SOURCE, workdir / "runner.py")
        workdir.chmod(0o755)
        (workdir / "runner.py").chmod(0o644)
        yield workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _launch(limits: SandboxLimits, workdir: Path, result_fd: int) -> _Launch:
    plan = _kernel_plan() if limits.kernel_sandbox else "the kernel sandbox was turned off"
    if isinstance(plan, _KernelPlan):
        return _kernel_launch(plan, limits, workdir, result_fd)
    if not limits.allow_unsafe:
        fix = "install bubblewrap (apt-get install bubblewrap) or pass" if "not installed" in plan else "or pass"
        raise SandboxUnavailableError(
            f"no kernel sandbox to run model code in: {plan}; {fix} --unsafe-no-sandbox to run it with only "
            "rlimits and an audit hook"
        )
    return _unsafe_launch(limits, workdir, result_fd)


def isolation_layers(limits: SandboxLimits | None = None) -> tuple[str, ...]:
    """The layers a run with ``limits`` gets here (what :func:`run_sandboxed` would report).

    Raises:
        SandboxUnavailableError: No kernel sandbox and ``allow_unsafe`` is off.
    """
    limits = limits or SandboxLimits()
    with _workdir() as workdir:
        launch = _launch(limits, workdir, 3)
        for fd in launch.pass_fds:
            os.close(fd)
    return tuple(launch.isolation + (["audit-hook"] if limits.audit_hook else []))


# --- the conversation -----------------------------------------------------------------------


class _ProtocolError(Exception):
    """The child broke the protocol (a forged, late or malformed answer)."""


class _Answers:
    """Newline-delimited JSON from the result pipe, read against a deadline."""

    def __init__(self, fd: int, deadline: float) -> None:
        self.fd, self.deadline, self.buffer = fd, deadline, b""

    def next(self) -> dict[str, Any] | None:
        """The next message; ``None`` at end of file. Raises TimeoutError past the deadline."""
        while b"\n" not in self.buffer:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
                raise TimeoutError
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.buffer += chunk
            if len(self.buffer) > _MAX_ANSWER:
                raise _ProtocolError("an answer longer than 1 MiB")
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _ProtocolError("a malformed answer") from exc
        if not isinstance(message, dict):
            raise _ProtocolError("a malformed answer")
        return message


@dataclass
class _Outcome:
    results: list[dict[str, Any]] = field(default_factory=list)
    fatal: str | None = None
    problem: str | None = None
    finished: bool = False


def _send(proc: subprocess.Popen[bytes], obj: Mapping[str, Any]) -> None:
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(obj, default=str).encode("utf-8") + b"\n")
    proc.stdin.flush()


def _converse(
    proc: subprocess.Popen[bytes], answers: _Answers, job: Mapping[str, Any], records: Sequence[Any]
) -> _Outcome:
    outcome = _Outcome()
    _send(proc, job)
    first = answers.next()
    if first is None or "fatal" in first:
        outcome.fatal = None if first is None else str(first["fatal"])
        return outcome
    if first != {"ready": True}:
        raise _ProtocolError("an answer before the code was defined")
    for record in records:
        nonce = secrets.token_hex(16)
        _send(proc, {"nonce": nonce, "record": record})
        answer = answers.next()
        if answer is None:
            return outcome
        if answer.get("nonce") != nonce:
            raise _ProtocolError("an answer that does not carry the harness's request nonce (forged)")
        value = answer.get("value")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            outcome.results.append({"value": float(value)})
        else:
            outcome.results.append({"error": str(answer.get("error", "no value"))[:500]})
    _send(proc, {"end": True})
    outcome.finished = True
    return outcome


def _drain(stream: Any, sink: list[bytes]) -> threading.Thread:
    def run() -> None:
        kept = 0
        for chunk in iter(lambda: stream.read1(65536), b""):
            sink.append(chunk)
            kept += len(chunk)
            while kept > 8192 and len(sink) > 1:
                kept -= len(sink.pop(0))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


_SIGNALS = {
    signal.SIGXCPU: "cpu limit",
    signal.SIGKILL: "killed (SIGKILL)",
    signal.SIGXFSZ: "file write blocked",
    signal.SIGSEGV: "segfault",
    signal.SIGSYS: "seccomp",
}


def _killed(returncode: int, *, kernel: bool) -> str | None:
    if returncode == 0:
        return None
    signum = -returncode if returncode < 0 else returncode - 128 if kernel and returncode > 128 else 0
    if signum:
        try:
            return _SIGNALS.get(signal.Signals(signum), f"signal {signum}")
        except ValueError:
            return f"signal {signum}"
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
        limits: Resource limits and isolation choices.

    Returns:
        A :class:`SandboxResult`; exceptions in the code are reported in it, never raised.

    Raises:
        SandboxUnavailableError: No kernel sandbox here and ``limits.allow_unsafe`` is off.
    """
    limits = limits or SandboxLimits()
    job = {"code": code, "function": function, "audit_hook": limits.audit_hook}
    result_r, result_w = os.pipe()
    open_fds = {result_r, result_w}  # each closed exactly once: a closed number may be reused at once
    try:
        with _workdir() as workdir:
            launch = _launch(limits, workdir, result_w)
            isolation = tuple(launch.isolation + (["audit-hook"] if limits.audit_hook else []))
            return _run(launch, isolation, job, list(records), limits, open_fds, (result_r, result_w))
    finally:
        for fd in open_fds:
            os.close(fd)


def _run(
    launch: _Launch,
    isolation: tuple[str, ...],
    job: Mapping[str, Any],
    records: list[Any],
    limits: SandboxLimits,
    open_fds: set[int],
    pipe: tuple[int, int],
) -> SandboxResult:
    try:
        proc = subprocess.Popen(  # argv built here, no shell
            launch.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={},
            cwd=launch.cwd,
            pass_fds=[pipe[1], *launch.pass_fds],
            preexec_fn=launch.preexec,  # the limits and uid drop must precede exec
        )
    finally:
        for fd in launch.pass_fds:
            os.close(fd)
    os.close(pipe[1])  # only the child holds the write end now: EOF when it exits
    open_fds.discard(pipe[1])
    output: list[bytes] = []
    drainer = _drain(proc.stdout, output)
    deadline = time.monotonic() + limits.wall_seconds
    outcome, killed = _Outcome(), None
    try:
        outcome = _converse(proc, _Answers(pipe[0], deadline), job, records)
        proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    except (TimeoutError, subprocess.TimeoutExpired):
        killed = "timeout"
    except _ProtocolError as exc:
        killed = f"protocol violation: {exc}"
    except BrokenPipeError:
        pass
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        drainer.join(timeout=2)
        for stream in (proc.stdin, proc.stdout):
            with suppress(OSError):
                if stream is not None and not (stream is proc.stdout and drainer.is_alive()):
                    stream.close()
    return _result(proc.returncode, outcome, killed, isolation, b"".join(output).decode("utf-8", "replace"))


def _result(
    returncode: int, outcome: _Outcome, killed: str | None, isolation: tuple[str, ...], output: str
) -> SandboxResult:
    kernel = "bubblewrap" in isolation
    killed = killed or _killed(returncode, kernel=kernel)
    if (outcome.fatal and outcome.fatal.startswith("MemoryError")) or (killed is None and "MemoryError" in output):
        killed = "memory limit"
    ok = killed is None and outcome.finished and outcome.fatal is None
    if not ok and killed is None:
        killed = "no result" if not outcome.finished else "exit 0 before the harness ended the run"
    return SandboxResult(ok, None if ok else killed, outcome.results, outcome.fatal, isolation, output[-4000:])


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
        """``(value, error)`` per record; a failed run gives every record the failure reason."""
        result = run_sandboxed(self.code, function=self.function, records=records, limits=self.limits)
        if not result.ok:
            return [(None, result.failure)] * len(records)
        return [(r.get("value"), r.get("error")) for r in result.results]
