"""What every local-stack service has in common: pid file, log file, start/stop/health."""

from __future__ import annotations

from pathlib import Path

from tripclick.config import Settings
from tripclick_devstack.stack import process


class Service:
    """A server process of the local stack. Subclasses set ``name`` and ``port``."""

    name: str = ""
    port: int = 0

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started_in: float | None = None

    @property
    def pid_file(self) -> Path:
        return self.settings.run_dir / "pids" / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.settings.log_dir / f"{self.name}.log"

    def pid(self) -> int | None:
        return process.read_pid(self.pid_file)

    def healthy(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def ensure_started(self) -> str:
        """Start the service unless it already runs healthy; return what was done."""
        if self.pid() is not None:
            try:
                if self.healthy():
                    return "already running"
            except Exception:  # noqa: BLE001 - unhealthy: restart below
                pass
            self.stop()
        process.require_free(self.name, self.port)
        self.start()
        return f"started in {self.started_in:.1f}s"

    def stop(self) -> bool:
        return process.stop_pid(self.pid_file)

    def is_healthy(self) -> bool:
        try:
            return self.healthy()
        except Exception:  # noqa: BLE001 - a failing probe is an unhealthy service
            return False
