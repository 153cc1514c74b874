"""A seccomp filter for the sandbox, compiled to BPF by libseccomp (through ctypes).

The filter allows by default and denies what model-written scoring code never needs and a
sandbox escape usually does: new processes (``fork``, ``vfork``, ``clone`` without
``CLONE_THREAD``), sockets, ``ptrace`` and cross-process memory access, namespaces and mounts,
kernel keyrings, BPF, ``perf_event_open``, ``userfaultfd``, io_uring, modules and kexec.
bubblewrap loads the program (``--seccomp FD``) right before it executes the interpreter.
Other architectures' system calls (x32, i386) are killed by libseccomp's default.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import os
import tempfile
from typing import Any

__all__ = ["DENIED_SYSCALLS", "compile_filter", "seccomp_available"]

DENIED_SYSCALLS = (
    "fork", "vfork", "socket", "socketpair", "ptrace", "process_vm_readv", "process_vm_writev",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "keyctl", "add_key", "request_key",
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot", "swapon",
    "swapoff", "syslog", "acct", "quotactl", "name_to_handle_at", "open_by_handle_at", "mknod", "mknodat",
    "personality", "open_tree", "move_mount", "fsopen", "fsmount", "fspick", "mount_setattr",
)  # fmt: skip

_SCMP_ACT_ALLOW = 0x7FFF0000
_SCMP_CMP_MASKED_EQ = 7
_CLONE_THREAD = 0x00010000


def _errno_action(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)  # SCMP_ACT_ERRNO(code)


class _ArgCmp(ctypes.Structure):
    _fields_ = [  # ctypes' declared layout, as libseccomp's struct scmp_arg_cmp
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


@functools.cache
def _lib() -> Any:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(_ArgCmp),
    ]
    lib.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return lib


def seccomp_available() -> bool:
    """Whether libseccomp can be loaded to build the filter."""
    return _lib() is not None


def _add(lib: Any, ctx: int, action: int, name: str, cmp: _ArgCmp | None = None) -> bool:
    nr = lib.seccomp_syscall_resolve_name(name.encode())
    if nr < 0:  # not a system call on this architecture
        return False
    args = (ctypes.pointer(cmp), 1) if cmp is not None else (None, 0)
    rc = lib.seccomp_rule_add_array(ctx, action, nr, args[1], args[0])
    if rc < 0:
        raise OSError(-rc, f"seccomp_rule_add({name}) failed")
    return True


def compile_filter() -> tuple[int, int]:
    """Compile the filter and return ``(fd, rules)``: a readable fd at the start of the BPF program.

    The caller passes the fd to ``bwrap --seccomp`` and closes it afterwards.

    Raises:
        OSError: libseccomp is missing or refused a rule.
    """
    lib = _lib()
    if lib is None:
        raise OSError(errno.ENOENT, "libseccomp is not installed")
    ctx = lib.seccomp_init(_SCMP_ACT_ALLOW)
    if not ctx:
        raise OSError(errno.ENOMEM, "seccomp_init failed")
    try:
        deny = _errno_action(errno.EPERM)
        rules = sum(_add(lib, ctx, deny, name) for name in DENIED_SYSCALLS)
        # A new thread is fine; a new process (clone without CLONE_THREAD) is not.
        rules += _add(lib, ctx, deny, "clone", _ArgCmp(0, _SCMP_CMP_MASKED_EQ, _CLONE_THREAD, 0))
        # clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc fall back to clone.
        rules += _add(lib, ctx, _errno_action(errno.ENOSYS), "clone3")
        with tempfile.TemporaryFile() as fh:
            rc = lib.seccomp_export_bpf(ctx, fh.fileno())
            if rc < 0:
                raise OSError(-rc, "seccomp_export_bpf failed")
            fh.flush()
            fd = os.dup(fh.fileno())
        os.lseek(fd, 0, os.SEEK_SET)
        return fd, rules
    finally:
        lib.seccomp_release(ctx)
