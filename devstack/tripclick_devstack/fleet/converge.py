"""What a run of site.yml said, read from its log: the recap per host, and each failure with
the host and the task it happened on.

`make fleet-converge` ends with these lines, so a failed converge says where in one line
per failure instead of leaving the reader to scroll back through thousands; the tests read
the recap to prove a second converge changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RECAP = re.compile(
    r"^(?P<host>\S+)\s*:\s*ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+"
    r"unreachable=(?P<unreachable>\d+)\s+failed=(?P<failed>\d+)",
    re.MULTILINE,
)
TASK = re.compile(r"^TASK \[(?P<task>.+?)\] \*+$")
FATAL = re.compile(r"^fatal: \[(?P<host>[^\]]+)\]: (?P<kind>FAILED|UNREACHABLE)!")
# The first line of Ansible's own explanation, printed just before the fatal line.
ERROR = re.compile(r"^\[ERROR\]: (?:Task failed: )?(?P<message>.+)$")


@dataclass(frozen=True)
class Failure:
    host: str
    task: str
    kind: str  # FAILED or UNREACHABLE
    message: str

    def __str__(self) -> str:
        what = "unreachable" if self.kind == "UNREACHABLE" else "failed"
        return f"{self.host}: {what} at task [{self.task}]: {self.message}"


def recap(log: str) -> dict[str, dict[str, int]]:
    """The PLAY RECAP counts of every host (ok, changed, unreachable, failed)."""
    tail = log[log.rfind("PLAY RECAP") :] if "PLAY RECAP" in log else ""
    return {
        m["host"]: {k: int(m[k]) for k in ("ok", "changed", "unreachable", "failed")}
        for m in RECAP.finditer(tail)
    }


def failures(log: str) -> list[Failure]:
    """Every failed or unreachable host, with the task it was on, in the order they happened."""
    found = []
    task = "?"
    message = ""
    for line in log.splitlines():
        if m := TASK.match(line):
            task, message = m["task"], ""
        elif m := ERROR.match(line):
            message = m["message"].strip()
        elif m := FATAL.match(line):
            found.append(Failure(m["host"], task, m["kind"], message or "see the log"))
    return found


def report(log: str) -> list[str]:
    """The lines `make fleet-converge` ends with."""
    counts = recap(log)
    lines = [str(f) for f in failures(log)]
    if not counts:
        lines.append("no PLAY RECAP: the playbook stopped before any host ran (see the log)")
    else:
        changed = sum(c["changed"] for c in counts.values())
        bad = [h for h, c in counts.items() if c["failed"] or c["unreachable"]]
        lines.append(
            f"{len(counts)} hosts, {changed} changes, "
            + (f"failed on {', '.join(bad)}" if bad else "no failure")
        )
    return lines
