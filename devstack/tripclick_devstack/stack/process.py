"""Start, watch and stop the local stack's server processes.

Each service keeps a pid file and a log file under the state dir, so ``up`` is
idempotent (a healthy service is left alone) and ``down`` finds what to stop even
from another shell.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tripclick.errors import UserError


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True if something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


def read_pid(pid_file: Path) -> int | None:
    """The pid in ``pid_file`` if that process is alive, else None."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    # A zombie child of ours still "exists"; treat it as gone.
    with contextlib.suppress(FileNotFoundError):
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return None
    return pid


def require_free(name: str, port: int) -> None:
    if port_open(port):
        raise UserError(
            f"{name}: port {port} on 127.0.0.1 is already in use by another process; "
            "stop it or set TRIPCLICK_PORT_OFFSET to move the stack's ports"
        )


def spawn(
    name: str,
    argv: list[str],
    log_file: Path,
    pid_file: Path,
    env: dict[str, str] | None = None,
    user: str | None = None,
) -> subprocess.Popen:
    """Start ``argv`` detached in its own session, output appended to ``log_file``."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    kwargs: dict = {}
    if user:
        kwargs.update(user=user, group=user, extra_groups=[])
    try:
        with open(log_file, "ab") as log:
            proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})},
                start_new_session=True,
                **kwargs,
            )
    except FileNotFoundError:
        raise UserError(f"{name}: cannot run {argv[0]!r}: not installed; run make setup") from None
    pid_file.write_text(f"{proc.pid}\n")
    return proc


def wait_healthy(
    name: str,
    check: Callable[[], bool],
    log_file: Path,
    proc: subprocess.Popen | None = None,
    timeout: float = 60.0,
) -> float:
    """Poll ``check`` until it passes; return seconds waited.

    Fails with one line naming the log file if the process dies or time runs out.
    """
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc is not None and proc.poll() is not None:
            raise UserError(
                f"{name} exited with code {proc.returncode} while starting; see {log_file}"
            )
        try:
            if check():
                return time.monotonic() - start
        except Exception:  # noqa: BLE001 - any failure of a probe means "not yet"
            pass
        time.sleep(0.25)
    raise UserError(f"{name} did not become healthy within {timeout:.0f}s; see {log_file}")


def stop_pid(pid_file: Path, timeout: float = 30.0) -> bool:
    """SIGTERM the process group in ``pid_file``, SIGKILL it after ``timeout``.

    Returns True if something was running.
    """
    pid = read_pid(pid_file)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and read_pid(pid_file) is not None:
        time.sleep(0.2)
    if read_pid(pid_file) is not None:
        _signal_group(pid, signal.SIGKILL)
        while read_pid(pid_file) is not None and time.monotonic() < deadline + 10:
            time.sleep(0.2)
    pid_file.unlink(missing_ok=True)
    return True


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)
