"""The sandbox's child: runs inside the sandbox with ``python -I -S`` (standard library only).

Protocol (one JSON object per line):

* stdin, first line: ``{"code", "function", "audit_hook"}``;
* then one request per line: ``{"nonce", "record"}``, or ``{"end": true}``;
* the result fd (argv[1]): ``{"ready": true}`` once the code is defined (or ``{"fatal": ...}``),
  then one answer per request, ``{"nonce", "value" | "error"}``.

The parent sends a request only after it has read the previous answer, and accepts an answer
only with the nonce of the request it just sent: a result written before the request
(``print(marker); os._exit(0)`` at module level) cannot carry the right nonce. What the code
prints goes to stdout, which is never parsed.

Before the code is compiled this bootstrap lowers the resource limits it can no longer raise
(no new processes, no file writes) and installs an audit hook. The hook is a second line only;
the kernel sandbox around this process is what holds if the code switches it off.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import sysconfig
from collections.abc import Callable
from typing import Any

_PRELOAD = (
    "math", "re", "statistics", "datetime", "collections", "functools", "itertools", "decimal", "fractions",
    "random", "string", "typing", "dataclasses", "enum",
)  # fmt: skip


def _make_hook() -> Callable[[str, tuple[Any, ...]], None]:
    # Everything the hook reads is bound here, in a closure of immutable values: rebinding a module
    # global (sys.modules["__main__"]._BLOCKED = ()) no longer turns it off.
    stdlib = os.path.realpath(sysconfig.get_paths()["stdlib"]) + os.sep
    realpath, fsdecode, startswith = os.path.realpath, os.fsdecode, str.startswith
    blocked = (
        "socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.kill",
        "ctypes.", "os.remove", "os.rename", "os.rmdir", "os.mkdir", "shutil.", "os.chmod", "os.chown",
        "os.link", "os.symlink", "os.truncate", "os.putenv", "os.unsetenv", "webbrowser.", "resource.",
        "urllib.Request", "http.client.connect", "ftplib.", "smtplib.", "sys._getframe", "sys._current_frames",
        "gc.get_", "function.__new__", "code.__new__", "sys.setprofile", "sys.settrace", "cpython.",
        "marshal.", "builtins.input",
    )  # fmt: skip
    no_import = frozenset(
        {"ctypes", "_ctypes", "socket", "_socket", "subprocess", "_posixsubprocess", "ssl", "_ssl",
         "multiprocessing", "_multiprocessing", "select", "mmap", "pty", "fcntl", "urllib.request",
         "http.client", "asyncio", "gc"}
    )  # fmt: skip

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode = args[0], args[1] if len(args) > 1 else "r"
            writing = isinstance(mode, str) and any(c in mode for c in "wax+")
            # realpath: "<stdlib>/../../etc/passwd" and symlinks must not pass the prefix check.
            if isinstance(path, int) or writing or not startswith(realpath(fsdecode(path)), stdlib):
                raise PermissionError(f"sandbox: open({path!r}) blocked")
        elif event == "import" and args[0] in no_import:
            raise PermissionError(f"sandbox: import {args[0]} blocked")
        elif startswith(event, blocked):
            raise PermissionError(f"sandbox: {event} blocked")

    return hook


def _lower_limits() -> None:
    # Hard limits too: without CAP_SYS_RESOURCE the code cannot raise them again.
    for limit in (resource.RLIMIT_NPROC, resource.RLIMIT_FSIZE, resource.RLIMIT_CORE):
        resource.setrlimit(limit, (0, 0))


def _answer(fn: Callable[[Any], Any], record: Any) -> dict[str, Any]:
    try:
        value = float(fn(record))
    except BaseException as exc:  # the model's exception is the answer
        return {"error": f"{type(exc).__name__}: {exc}"[:500]}
    return {"value": value} if value == value else {"error": "returned NaN"}


def main() -> int:
    """Run the job; the exit status is 0 only after the ``end`` request."""
    out = os.fdopen(int(sys.argv[1]), "w", encoding="utf-8")
    requests = sys.stdin.buffer

    def send(obj: dict[str, Any]) -> None:
        out.write(json.dumps(obj, ensure_ascii=True, default=str) + "\n")
        out.flush()

    job = json.loads(requests.readline())
    for name in _PRELOAD:
        __import__(name)
    _lower_limits()
    if job.get("audit_hook", True):
        sys.addaudithook(_make_hook())
    namespace: dict[str, Any] = {"__name__": "sandboxed", "__builtins__": __builtins__}
    try:
        exec(compile(job["code"], "<model-code>", "exec"), namespace)  # inside the sandbox
        fn = namespace[job["function"]] if job.get("function") else None
    except BaseException as exc:  # reported to the parent
        send({"fatal": f"{type(exc).__name__}: {exc}"[:500]})
        return 3
    send({"ready": True})
    while line := requests.readline():
        request = json.loads(line)
        if request.get("end"):
            return 0
        answer = _answer(fn, request["record"]) if fn is not None else {"error": "no function"}
        send({"nonce": request["nonce"], **answer})
    return 4


if __name__ == "__main__":
    sys.exit(main())
