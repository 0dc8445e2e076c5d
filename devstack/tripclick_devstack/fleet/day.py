"""`make fleet-day`: one day of the platform on the fleet, driven through Airflow's REST API.

What an operator does from their own machine: open a tunnel through the jump host to the
Airflow API, log in as the administrator (the vault's password), trigger
`tripclick_daily_pipeline` for a date (compressed like `make demo`, or as a backfill), follow
its task instances until the run ends, then print the stage table and the reconciliation
report the gold stage wrote to the lake.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from tripclick_devstack.fleet.engine import FleetError

DAG_ID = "tripclick_daily_pipeline"
# The daily DAG's tasks in the order they run (the stage table's order).
TASK_ORDER = (
    "plan_day",
    "wait_for_stream_start",
    "produce_web_0",
    "produce_web_1",
    "silver_stream",
    "wait_for_bronze_start",
    "bronze",
    "check_bronze",
    "wait_for_gold_start",
    "silver_catch_up",
    "gold_load",
    "report",
)
ENDED = {"success", "failed"}


class AirflowAPI:
    """The few calls of Airflow 3's REST API (/api/v2) a run needs, with a JWT from /auth/token."""

    def __init__(self, base_url: str, user: str, password: str, timeout: float = 30) -> None:
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        token = self._call("POST", "/auth/token", {"username": user, "password": password})
        self.token = token["access_token"]

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        request.add_header("Accept", "application/json")
        if getattr(self, "token", None):
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read().decode()
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")[:300]
            raise FleetError(f"Airflow API {method} {path}: HTTP {err.code} {detail}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            raise FleetError(f"Airflow API {method} {path}: {err}") from None
        return json.loads(text)

    def get(self, path: str) -> Any:
        return self._call("GET", path)

    def dag(self, dag_id: str = DAG_ID) -> dict[str, Any]:
        return self.get(f"/api/v2/dags/{dag_id}")

    def unpause(self, dag_id: str = DAG_ID) -> dict[str, Any]:
        return self._call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, conf: dict[str, Any], dag_id: str = DAG_ID) -> dict[str, Any]:
        """A manual run of the DAG now, with ``conf`` as its params."""
        return self._call(
            "POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf}
        )

    def run(self, run_id: str, dag_id: str = DAG_ID) -> dict[str, Any]:
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}")

    def set_run_state(self, run_id: str, state: str, dag_id: str = DAG_ID) -> dict[str, Any]:
        return self._call(
            "PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}", {"state": state}
        )

    def runs(self, dag_id: str = DAG_ID, state: str | None = None) -> list[dict[str, Any]]:
        query = f"?state={state}" if state else ""
        return self.get(f"/api/v2/dags/{dag_id}/dagRuns{query}")["dag_runs"]

    def task_instances(self, run_id: str, dag_id: str = DAG_ID) -> list[dict[str, Any]]:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances"
        return self.get(path)["task_instances"]

    def set_task_state(
        self, run_id: str, task_id: str, state: str, dag_id: str = DAG_ID
    ) -> dict[str, Any]:
        """Mark a task instance (``failed`` ends a running one: its process is killed)."""
        path = f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances/{task_id}"
        return self._call("PATCH", path, {"new_state": state})

    def xcom(self, run_id: str, task_id: str, dag_id: str = DAG_ID) -> Any:
        path = (
            f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances/{task_id}"
            "/xcomEntries/return_value"
        )
        return self.get(path)["value"]

    def log(self, run_id: str, task_id: str, try_number: int, dag_id: str = DAG_ID) -> list[str]:
        """A try's log as its events' text (the JSON form: {"content": [{"event": ...}, ...]})."""
        path = (
            f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances/{task_id}"
            f"/logs/{try_number}?full_content=true"
        )
        content = self.get(path).get("content") or []
        if isinstance(content, str):
            return content.splitlines()
        return [str(m.get("event", m)) if isinstance(m, dict) else str(m) for m in content]


def _quote(run_id: str) -> str:
    return urllib.parse.quote(run_id, safe="")


@dataclass
class TaskRow:
    task_id: str
    state: str
    tries: int
    seconds: float | None


def conf_for(date: str, mode: str, time_scale: float) -> dict[str, Any]:
    conf: dict[str, Any] = {"date": date, "mode": mode}
    if mode == "daily":
        conf["time_scale"] = time_scale
    return conf


def follow(
    api: AirflowAPI,
    run_id: str,
    timeout: float,
    poll: float = 3.0,
    say=print,
) -> tuple[str, list[TaskRow]]:
    """Wait for the run to end, printing each task's state as it changes."""
    seen: dict[str, tuple[str, int]] = {}
    started = time.monotonic()
    while True:
        tis = api.task_instances(run_id)
        for ti in sorted(tis, key=lambda t: _order(t["task_id"])):
            now = (ti.get("state") or "none", int(ti.get("try_number") or 0))
            if seen.get(ti["task_id"]) != now:
                seen[ti["task_id"]] = now
                attempt = f" (try {now[1]})" if now[1] > 1 else ""
                clock = dt.datetime.now().strftime("%H:%M:%S")
                say(f"{clock}  {ti['task_id']:<22} {now[0]}{attempt}")
        state = api.run(run_id)["state"]
        if state in ENDED:
            return state, rows(api.task_instances(run_id))
        if time.monotonic() - started > timeout:
            raise FleetError(
                f"run {run_id} still {state} after {timeout:.0f} s; follow it in Airflow's UI"
            )
        time.sleep(poll)


def rows(tis: list[dict[str, Any]]) -> list[TaskRow]:
    out = []
    for ti in sorted(tis, key=lambda t: _order(t["task_id"])):
        seconds = ti.get("duration")
        out.append(
            TaskRow(
                ti["task_id"],
                ti.get("state") or "none",
                int(ti.get("try_number") or 0),
                None if seconds is None else float(seconds),
            )
        )
    return out


def _order(task_id: str) -> int:
    return TASK_ORDER.index(task_id) if task_id in TASK_ORDER else len(TASK_ORDER)


def stage_table(task_rows: list[TaskRow], wall_seconds: float) -> str:
    lines = [f"{'task':<22} {'state':<10} {'tries':>5} {'seconds':>8}"]
    for r in task_rows:
        seconds = "" if r.seconds is None else f"{r.seconds:.1f}"
        lines.append(f"{r.task_id:<22} {r.state:<10} {r.tries:>5} {seconds:>8}")
    lines.append(f"{'run (wall)':<22} {'':<10} {'':>5} {wall_seconds:>8.1f}")
    return "\n".join(lines)


def failure_detail(api: AirflowAPI, run_id: str, task_rows: list[TaskRow], lines: int = 15) -> str:
    """The last lines of the first failed task's log (what went wrong, without opening the UI)."""
    failed = next((r for r in task_rows if r.state == "failed"), None)
    if failed is None:
        return ""
    events = api.log(run_id, failed.task_id, max(failed.tries, 1))
    # A job's own one-line error ("silver: error: ...") says more than the plan Spark dumps.
    said = [e for e in events if ": error: " in e or "Error:" in e.split("\n")[0]]
    tail = "\n  ".join((said or events)[-lines:])
    return f"{failed.task_id} failed; the end of its log:\n  {tail}"


def read_report(fleet, uri: str) -> dict[str, Any]:
    """The reconciliation report (s3a://bucket/key) from the fleet's lake."""
    import boto3

    parsed = urllib.parse.urlparse(uri)
    s3 = boto3.client(
        "s3",
        endpoint_url=fleet.s3_endpoint,
        region_name=fleet.region,
        # The S3 stand-in signs with any key; on AWS this is the operator's own profile.
        aws_access_key_id="operator",
        aws_secret_access_key="operator",
    )
    body = s3.get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"].read()
    return json.loads(body)


def stop_scheduled_runs(api: AirflowAPI, say=print) -> list[str]:
    """Mark the DAG's queued or running scheduled runs failed; their run ids.

    The fleet's schedule is real: its 15:00 run fires whenever the clock passes 15:00 in the
    schedule's zone, and the DAG runs one day at a time. A test of the fleet stops such a run
    before it triggers its own, so the wall clock never decides what the test runs."""
    stopped = []
    for state in ("running", "queued"):
        for dag_run in api.runs(state=state):
            if dag_run.get("run_type") == "scheduled":
                api.set_run_state(dag_run["dag_run_id"], "failed")
                say(f"marked scheduled run {dag_run['dag_run_id']} ({state}) failed")
                stopped.append(dag_run["dag_run_id"])
    return stopped


def trigger(
    api: AirflowAPI,
    date: str,
    mode: str,
    time_scale: float,
    say=print,
    stop_scheduled: bool = False,
) -> str:
    """Start the day's run (refused while another run of the DAG is going, unless it is a
    scheduled run and ``stop_scheduled`` says to stop it); its run id."""
    dag = api.dag()
    if dag.get("is_paused"):
        raise FleetError(f"{DAG_ID} is paused on the fleet; converge again (site.yml unpauses it)")
    if stop_scheduled:
        stop_scheduled_runs(api, say=say)
    busy = api.runs(state="running") + api.runs(state="queued")
    if busy:
        raise FleetError(
            f"{DAG_ID} already has run {busy[0]['dag_run_id']} ({busy[0]['state']}); wait for it"
            " or mark it failed in Airflow's UI (the DAG runs one day at a time)"
        )
    conf = conf_for(date, mode, time_scale)
    run_id = api.trigger(conf)["dag_run_id"]
    say(f"triggered {DAG_ID} run {run_id} with {json.dumps(conf)}")
    return run_id


def conclude(
    fleet, api: AirflowAPI, run_id: str, date: str, started: float, timeout: float, say=print
) -> dict[str, Any]:
    """Follow the run to its end; print the stage table, then the reconciliation (or what
    failed). ``started`` is the monotonic time it was triggered (the wall time's start)."""
    from tripclick_devstack.run_day import reconciliation_line

    state, task_rows = follow(api, run_id, timeout, say=say)
    wall = time.monotonic() - started
    say("")
    say(stage_table(task_rows, wall))
    result: dict[str, Any] = {
        "run_id": run_id,
        "state": state,
        "seconds": round(wall, 1),
        "tasks": [r.__dict__ for r in task_rows],
    }
    if state != "success":
        say("")
        say(failure_detail(api, run_id, task_rows))
        return result
    where = api.xcom(run_id, "report")
    report = read_report(fleet, where["reconciliation"])
    result["reconciliation"] = report
    say("")
    say(reconciliation_line(report))
    for layer in ("bronze", "silver", "reconciliation"):
        say(f"  {layer:<15} {where[layer]}")
    say(f"  gold            make fleet-gold-dump DATE={date}")
    return result


def run(
    fleet,
    api: AirflowAPI,
    date: str,
    mode: str,
    time_scale: float,
    timeout: float,
    say=print,
    stop_scheduled: bool = False,
) -> dict[str, Any]:
    """Trigger the day, follow it, and return what the stage table and the report say."""
    started = time.monotonic()
    run_id = trigger(api, date, mode, time_scale, say=say, stop_scheduled=stop_scheduled)
    return conclude(fleet, api, run_id, date, started, timeout, say=say)
