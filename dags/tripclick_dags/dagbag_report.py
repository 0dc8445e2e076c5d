"""Parse the DAG folder the way Airflow does and print what a reviewer checks, as JSON.

Run with the Airflow environment's Python: ``python dags/tripclick_dags/dagbag_report.py
[OUT.json]`` (Airflow logs to stdout, so a file keeps the JSON apart).
Anything that would be work at import time — a Variable or Connection lookup, a
process, a network connection — is recorded while the files are parsed and listed
under ``import_time_calls``. The day's plan with default settings is included, so the
schedule's times can be checked without running anything.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
from pathlib import Path

DAGS_DIR = Path(__file__).resolve().parents[1]


def _guard(calls: list[str]) -> None:
    """Record (and refuse) the calls a DAG file must not make while it is parsed."""
    from airflow.sdk import BaseHook, Variable

    def refuse(name: str):
        def call(*args, **kwargs):
            calls.append(f"{name}{args[:2]!r}")
            raise RuntimeError(f"{name} called at import time")

        return call

    Variable.get = staticmethod(refuse("Variable.get"))  # type: ignore[method-assign]
    BaseHook.get_connection = staticmethod(refuse("BaseHook.get_connection"))  # type: ignore[method-assign]
    subprocess.Popen.__init__ = refuse("subprocess.Popen")  # type: ignore[method-assign]
    socket.socket.connect = refuse("socket.connect")  # type: ignore[method-assign]


def _task_facts(task) -> dict:
    facts = {
        "operator": type(task).__name__,
        "retries": task.retries,
        "retry_exponential_backoff": task.retry_exponential_backoff,
        "execution_timeout_s": task.execution_timeout.total_seconds()
        if task.execution_timeout
        else None,
        "on_failure_callback": bool(task.on_failure_callback),
        "upstream": sorted(task.upstream_task_ids),
        "downstream": sorted(task.downstream_task_ids),
    }
    if hasattr(task, "target_time"):
        facts["target_time"] = str(task.target_time)
        facts["defers"] = type(task).execute is not type(task).__mro__[1].execute
    return facts


def report() -> dict:
    from airflow.dag_processing.dagbag import BundleDagBag

    calls: list[str] = []
    _guard(calls)

    bag = BundleDagBag(dag_folder=str(DAGS_DIR), bundle_path=DAGS_DIR, bundle_name="dags-folder")
    dags = {}
    for dag_id, dag in sorted(bag.dags.items()):
        dags[dag_id] = {
            "tags": sorted(dag.tags),
            "catchup": dag.catchup,
            "start_date": dag.start_date.isoformat() if dag.start_date else None,
            "start_date_aware": bool(dag.start_date and dag.start_date.utcoffset() is not None),
            "timezone": getattr(dag.timezone, "name", str(dag.timezone)),
            "timetable": repr(dag.timetable),
            "doc_md": bool(dag.doc_md),
            "tasks": {t.task_id: _task_facts(t) for t in dag.tasks},
        }
    sys.path.insert(0, str(DAGS_DIR))
    from tripclick_dags.plan import make_plan
    from tripclick_dags.settings import load

    plan = make_plan(load(lambda name: None), "2016-01-01", dt.datetime.now(dt.UTC))
    return {
        "import_errors": {str(k): v for k, v in bag.import_errors.items()},
        "import_time_calls": calls,
        "dags": dags,
        "default_plan": plan.to_xcom(),
    }


if __name__ == "__main__":
    text = json.dumps(report(), indent=2, default=str)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text + "\n")
    else:
        print(text)
