"""The ``local`` runtime: a stage is a ``tripclick`` process on this machine."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
from pathlib import Path

from tripclick_dags.commands import StageCommand
from tripclick_dags.settings import SettingError, Settings

log = logging.getLogger(__name__)


class StageFailed(RuntimeError):
    """A stage command exited non-zero."""


def run(settings: Settings, stage: StageCommand) -> None:
    """Run the stage, stream its output into the task log, fail on a non-zero exit.

    The process gets its own process group so a task timeout or a kill of the task
    also ends the stage (and a Spark JVM it started) instead of leaving it behind.
    """
    cli = Path(settings.cli)
    if not os.access(cli, os.X_OK):
        raise SettingError(
            f"the tripclick command {cli} is missing; run make setup or set tripclick_cli"
        )
    argv = [str(cli), *stage.argv]
    log.info("running: %s", " ".join(argv))
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            log.info("%s", line.rstrip())
        code = proc.wait()
    finally:
        if proc.poll() is None:
            _stop(proc)
    if code != 0:
        raise StageFailed(f"{' '.join(['tripclick', *stage.argv])} exited with code {code}")


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass
