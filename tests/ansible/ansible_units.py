"""Run a service the way its rendered systemd unit says: ExecStart, User, Environment.

This machine has no systemd, so the tests read the unit files the roles rendered and
start the exact command line as the unit's user, with the unit's environment.
"""

from __future__ import annotations

import os
import pwd
import shlex
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Unit:
    path: Path
    exec_start: list[str]
    user: str = "root"
    group: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    environment_files: list[Path] = field(default_factory=list)
    working_directory: str | None = None


def parse_unit(path: Path) -> Unit:
    """The [Service] settings a test needs, parsed like systemd does for these simple units."""
    settings: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]":
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    if "ExecStart" not in settings:
        raise AssertionError(f"{path} has no ExecStart")
    environment = {}
    for value in settings.get("Environment", []):
        for item in shlex.split(value):
            name, _, val = item.partition("=")
            environment[name] = val
    return Unit(
        path=path,
        exec_start=shlex.split(settings["ExecStart"][0]),
        user=settings.get("User", ["root"])[0],
        group=settings.get("Group", [None])[0],
        environment=environment,
        environment_files=[Path(v.lstrip("-")) for v in settings.get("EnvironmentFile", [])],
        working_directory=settings.get("WorkingDirectory", [None])[0],
    )


def read_environment_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an EnvironmentFile (no quoting is used by the templates)."""
    env = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    return env


@dataclass
class Running:
    unit: Unit
    proc: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def start(unit: Unit, log_dir: Path, ports: tuple[tuple[str, int], ...] = ()) -> Running:
    """Start the unit's ExecStart as its User with its Environment (a new session, for stopping).

    ``ports`` must be free before the start, so a probe never answers for another process.
    """
    busy = [f"{host}:{port}" for host, port in ports if port_open(host, port)]
    if busy:
        raise AssertionError(
            f"{unit.path.name}: {', '.join(busy)} already in use; stop what listens there"
        )
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    user = pwd.getpwnam(unit.user)
    env["HOME"] = user.pw_dir
    env.update(unit.environment)
    for env_file in unit.environment_files:
        env.update(read_environment_file(env_file))
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{unit.path.stem}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            unit.exec_start,
            env=env,
            cwd=unit.working_directory,
            user=unit.user,
            group=unit.group or user.pw_gid,
            extra_groups=[],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Running(unit, proc, log)


def stop(running: Running, timeout: float = 60) -> None:
    """SIGTERM the process group (systemd's KillMode=control-group), then SIGKILL."""
    if running.proc.poll() is not None:
        return
    try:
        os.killpg(running.proc.pid, signal.SIGTERM)
        running.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(running.proc.pid, signal.SIGKILL)
        running.proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def wait_port(running: Running, host: str, port: int, timeout: float = 240) -> None:
    """Wait until host:port accepts TCP; fail with the service's output if it dies or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.proc.poll() is not None:
            raise AssertionError(
                f"{running.unit.path.name} exited with {running.proc.returncode}:\n{running.output()}"
            )
        try:
            with socket.create_connection((host, port), timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise AssertionError(
        f"{running.unit.path.name} did not open {host}:{port} in {timeout:.0f}s:\n{running.output()}"
    )
