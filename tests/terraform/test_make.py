"""The front door: make bootstrap runs the state bootstrap, plan/apply/destroy refuse bad input."""

from __future__ import annotations

import os
import subprocess

from tfcode import REPO


def make(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "-s", "--no-print-directory", *args],
        cwd=REPO,
        env=env or os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_make_bootstrap_writes_the_backend_settings(aws_endpoint, tmp_path) -> None:
    backend = tmp_path / "backend.hcl"
    # Another region than test_bootstrap's, so each test sees its own bucket created.
    env = aws_endpoint["env"] | {"AWS_REGION": "eu-west-1"}
    run = make("bootstrap", f"TF_BACKEND={backend}", env=env)
    assert run.returncode == 0, run.stderr
    assert (
        "state bucket tripclick-tfstate-123456789012-eu-west-1 (eu-west-1): created" in run.stdout
    )
    assert 'bucket = "tripclick-tfstate-123456789012-eu-west-1"' in backend.read_text()
    assert 'region = "eu-west-1"' in backend.read_text()


def test_unknown_environment_is_one_clear_line() -> None:
    for target in ("plan", "apply", "destroy", "inventory"):
        run = make(target, "ENV=staging")
        assert run.returncode != 0
        assert (
            run.stderr.splitlines()[0]
            == "error: unknown environment ENV=staging: pick one of dev prod"
        )


def test_missing_backend_points_at_bootstrap(tmp_path) -> None:
    env = os.environ.copy()
    # Whether or not Terraform is installed here, the answer names the one thing to do next.
    run = make("plan", "ENV=dev", f"TF_BACKEND={tmp_path / 'none.hcl'}", env=env)
    assert run.returncode != 0
    first = run.stderr.splitlines()[0]
    assert first in {
        f"error: no state backend configured in {tmp_path / 'none.hcl'}: run make bootstrap first",
        "error: Terraform >= 1.10 is not installed: install it from https://developer.hashicorp.com/terraform/install and retry",
    }
