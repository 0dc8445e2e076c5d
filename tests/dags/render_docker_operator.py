"""Build the producer's DockerOperator the way a task does and print what it would use.

Run by ``test_docker_runtime.py`` with the Airflow environment's Python:
``render_docker_operator.py CONNECTION_JSON OUT.json``. No Docker engine is contacted:
the operator and its hook are built, not executed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "dags"))


def main(conn_json: str, out: str) -> None:
    import datetime as dt

    from airflow.sdk import Connection

    from tripclick_dags import aws_runner, commands
    from tripclick_dags.plan import make_plan
    from tripclick_dags.settings import SettingError, env_lookup, load

    settings = load(env_lookup)
    plan = make_plan(settings, "2026-03-02", dt.datetime.now(dt.UTC))
    stage = commands.produce(settings, plan, "web-0", settings.docker_input_dir)
    conn = Connection.from_json(conn_json, conn_id="tripclick_web_0")
    result: dict = {}
    try:
        op = aws_runner.docker_operator(settings, conn, stage, "produce_web_0")
    except SettingError as err:
        result["error"] = str(err)
    else:
        tls = op.hook._DockerHook__tls  # what docker.APIClient would be given
        result = {
            "docker_url": op.docker_url,
            "image": op.image,
            "command": op.command,
            "tls_verify": op.tls_verify,
            "tls_ca_cert": op.tls_ca_cert,
            "tls_client_cert": op.tls_client_cert,
            "tls_client_key": op.tls_client_key,
            "tls_hostname": op.tls_hostname,
            "hook_tls": type(tls).__name__,
            "hook_tls_cert": list(tls.cert) if tls else None,
            "hook_tls_verify": tls.verify if tls else None,
            "hook_tls_ca_cert": tls.ca_cert if tls else None,
            "environment": op.environment,
            "mounts": [dict(m) for m in op.mounts],
        }
    Path(out).write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
