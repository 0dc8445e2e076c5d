"""The machine a benchmark ran on, for its result file: rates mean little without it."""

from __future__ import annotations

import os
import platform
import subprocess


def _cpu_model() -> str:
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return ""


def _java() -> str | None:
    said = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    return said.splitlines()[0] if said else None


def describe(*, java: bool = False, **versions: str) -> dict:
    """Cores, CPU model, the load when the run starts, Python's version, Java's when the
    benchmark runs on the JVM, and ``versions`` of the libraries it measures."""
    out = {
        "cpus": os.cpu_count(),
        "cpu": _cpu_model(),
        "load_avg_1m_at_start": os.getloadavg()[0],
        "python": platform.python_version(),
    }
    if java:
        out["java"] = _java()
    return {**out, **versions}
