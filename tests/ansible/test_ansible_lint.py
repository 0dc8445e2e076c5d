"""site.yml, the roles and the secret playbooks pass ansible-lint's production profile and a syntax check."""

from __future__ import annotations

import subprocess

from ansible_tools import ANSIBLE_DIR, LOCAL_INVENTORY, ansible_env, tool


def test_ansible_lint_production_profile_has_no_violation():
    done = subprocess.run(
        [
            tool("ansible-lint"),
            "--profile",
            "production",
            "--nocolor",
            "site.yml",
            "vault-init.yml",
            "ssm-init.yml",
        ],
        cwd=ANSIBLE_DIR,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "Passed" in output and "0 failure(s), 0 warning(s)" in output, output[-3000:]


def test_site_playbook_passes_the_syntax_check():
    done = subprocess.run(
        [tool("ansible-playbook"), "-i", str(LOCAL_INVENTORY), "--syntax-check", "site.yml"],
        cwd=ANSIBLE_DIR,
        env=ansible_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "playbook: site.yml" in done.stdout
