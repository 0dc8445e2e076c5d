"""What the monitoring tests share: free ports on 127.0.0.1, polling until a condition
holds, the real alert rules, a check that Debian's binaries are installed, and starting
servers of a module's own that are all stopped at its end."""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Callable, Iterator

import pytest
import yaml

from tripclick.errors import UserError
from tripclick_devstack.stack.monitoring import RULES_DIR
from tripclick_devstack.stack.service import Service

HOST = "127.0.0.1"


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """Returns a port on 127.0.0.1 that nothing listens on now."""

    def pick() -> int:
        with socket.socket() as sock:
            sock.bind((HOST, 0))
            return sock.getsockname()[1]

    return pick


@pytest.fixture(scope="session")
def wait_for() -> Callable:
    """``wait_for(what, check, timeout)``: poll ``check`` until it returns something true
    and return that; fail naming ``what`` after ``timeout`` seconds."""

    def wait(what: str, check: Callable, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = check()
            if result:
                return result
            time.sleep(0.5)
        pytest.fail(f"{what}: not within {timeout:.0f}s")

    return wait


@pytest.fixture(scope="session")
def alert_rule() -> Callable[[str], dict]:
    """``alert_rule(name)``: the rule of that alert in monitoring/rules, as written."""

    def find(name: str) -> dict:
        for path in sorted(RULES_DIR.glob("*.yml")):
            for group in yaml.safe_load(path.read_text())["groups"]:
                for rule in group["rules"]:
                    if rule.get("alert") == name:
                        return rule
        raise AssertionError(f"no rule {name} in {RULES_DIR}")

    return find


@pytest.fixture(scope="session")
def require_binaries() -> Callable[..., None]:
    """``require_binaries((binary, make target), ...)``: fail naming the target that
    installs a missing one."""

    def check(*binaries: tuple[str, str]) -> None:
        for binary, target in binaries:
            if shutil.which(binary) is None:
                pytest.fail(f"{binary} is not installed: run make {target} (make test runs it)")

    return check


@pytest.fixture(scope="module")
def start_services() -> Iterator[Callable[..., list[Service]]]:
    """``start_services(svc, ...)``: start each in order and return them; every one started
    is stopped, last first, at the end of the module (also when a later one fails)."""
    started: list[Service] = []

    def start(*services: Service) -> list[Service]:
        for svc in services:
            try:
                svc.start()
            except UserError as err:
                svc.stop()  # a process that never became healthy
                pytest.fail(f"{svc.name} did not start: {err}")
            started.append(svc)
        return list(services)

    try:
        yield start
    finally:
        for svc in reversed(started):
            svc.stop()
