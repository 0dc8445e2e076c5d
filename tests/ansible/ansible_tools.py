"""The Ansible control tools as the tests run them, and one converge of site.yml on this machine.

The converge uses inventory/local (every role group on localhost, ports 25000+, installs
under a test folder) and an ansible-vault file of fresh secrets, exactly as a user would.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tripclick_devstack.fleet import converge as playbook_log

REPO = Path(__file__).resolve().parents[2]
ANSIBLE_DIR = REPO / "ansible"
ANSIBLE_BIN = REPO / ".local" / "venvs" / "ansible" / "bin"
LOCAL_INVENTORY = REPO / "inventory" / "local"
# The roles that can install on a Debian 12 machine without systemd (web servers need Docker).
CONVERGE_TAGS = "java,kafka,spark,postgresql,airflow,superset"


def tool(name: str) -> str:
    path = ANSIBLE_BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing; run: make .local/venvs/ansible/.synced (or make test)")
    return str(path)


def ansible_env(root: Path | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ANSIBLE_DIR / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
        "PATH": f"{ANSIBLE_BIN}:{os.environ.get('PATH', '')}",
    }
    if root is not None:
        env["TRIPCLICK_ANSIBLE_ROOT"] = str(root)
        env["ANSIBLE_VAULT_PASSWORD_FILE"] = str(root.parent / "vault-pass")
    return env


def run(argv: list[str], env: dict[str, str], log: Path, timeout: float = 1800) -> str:
    """Run an Ansible tool from ansible/; its output streams to log and is returned."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as out:
        done = subprocess.run(
            argv,
            cwd=ANSIBLE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
    output = log.read_text()
    if done.returncode != 0:
        raise AssertionError(
            f"{' '.join(argv[:2])} failed (exit {done.returncode}), log {log}:\n{output[-6000:]}"
        )
    return output


@dataclass
class Converge:
    root: Path
    first: dict[str, int]
    secrets: dict[str, str]
    host_vars: dict

    def path(self, relative: str) -> Path:
        return self.root / relative


def traversable(path: Path) -> bool:
    """Whether any user may walk down to path (o+x on it and every parent)."""
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents] if p.exists())


def recap(output: str) -> dict[str, int]:
    """The control node's recap counts, read as the fleet's converge report reads them."""
    counts = playbook_log.recap(output).get("localhost")
    assert counts, f"no PLAY RECAP for localhost in:\n{output[-3000:]}"
    return {key: counts[key] for key in ("ok", "changed", "failed")}


def converge() -> Converge:
    """site.yml converged once on this machine under a fresh test folder."""
    home = Path(os.environ.get("TRIPCLICK_HOME", REPO / ".local")).resolve()
    base = home / "ansible-converge"
    if not traversable(home):
        # Service users (kafka, spark, ...) must reach their folders; a checkout under a
        # private home cannot give them that, so the converge goes to /var/tmp instead.
        digest = hashlib.sha1(str(home).encode()).hexdigest()[:10]
        base = Path("/var/tmp") / f"tripclick-ansible-converge-{digest}"
    root = base / "root"
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True, mode=0o755)
    base.chmod(0o755)
    (base / "vault-pass").write_text(os.urandom(24).hex() + "\n")
    (base / "vault-pass").chmod(0o600)
    env = ansible_env(root)
    vault = base / "vault.yml"
    run(
        [tool("ansible-playbook"), "vault-init.yml", "-e", f"tripclick_vault_file={vault}"],
        env,
        base / "logs" / "vault-init.log",
    )
    assert vault.read_text().startswith("$ANSIBLE_VAULT;"), "the vault file is not encrypted"
    # The tests log in with the generated secrets; they are read, never written out in clear.
    view = subprocess.run(
        [tool("ansible-vault"), "view", str(vault)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert view.returncode == 0, view.stderr[-2000:]
    secrets = yaml.safe_load(view.stdout)
    converge = [
        tool("ansible-playbook"),
        "-i",
        str(LOCAL_INVENTORY),
        "site.yml",
        "-e",
        f"@{vault}",
        "--tags",
        CONVERGE_TAGS,
    ]
    first = run(converge, env, base / "logs" / "converge.log")
    host_vars = yaml.safe_load((LOCAL_INVENTORY / "host_vars" / "localhost.yml").read_text())
    return Converge(root, recap(first), secrets, host_vars)
