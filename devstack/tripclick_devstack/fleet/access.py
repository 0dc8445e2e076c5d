"""How an operator reaches the fleet from their own machine: SSH tunnels through the jump host
and the environment's secrets from its vault.

Only the jump host (the Airflow host, on the public subnet) is reachable from outside; every
other address is private. A service is reached by forwarding a local port through the jump
host to the service's private address, as the `ui_addresses` output prints for Superset and
the Spark master; a database that answers on its own loopback only (gold) is forwarded through
an SSH session to its host. Prometheus (9090) and Alertmanager (9093) answer on the jump host's
own loopback: ``tunnel("127.0.0.1", 9090)`` forwards to them from the jump host.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import yaml

from tripclick_devstack.fleet.engine import FleetError
from tripclick_devstack.fleet.fleet import SSH_USER, Fleet


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Access:
    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.ips = fleet.host_ips()
        self.jump = next(h for h in fleet.topology.hosts if h.role == "airflow")

    def address(self, role: str) -> str:
        """The first host of a role's address (what the outputs call its private_ip)."""
        return self.ips[self.host_of(role).key][0]

    def host_of(self, role: str):
        host = next((h for h in self.fleet.topology.hosts if h.role == role), None)
        if host is None:
            raise FleetError(f"the {self.fleet.env} fleet has no {role} host")
        return host

    @contextlib.contextmanager
    def tunnel(self, target: str, port: int, through: str | None = None) -> Iterator[int]:
        """A local port forwarded to ``target:port``: from the jump host, or from the host of
        role ``through`` (reached through the jump host) for a service on its loopback."""
        local = free_port()
        jump = f"{SSH_USER}@{self.ips[self.jump.key][0]}"
        args = ["ssh", "-F", str(self.fleet.paths.ssh_config), "-N", "-o", "BatchMode=yes"]
        args += ["-o", "ExitOnForwardFailure=yes", "-L", f"127.0.0.1:{local}:{target}:{port}"]
        if through is None:
            args.append(jump)
        else:
            args += ["-J", jump, f"{SSH_USER}@{self.ips[self.host_of(through).key][0]}"]
        proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            deadline = time.monotonic() + 30
            while not _accepts(local):
                if proc.poll() is not None:
                    said = (proc.stderr.read() or b"").decode(errors="replace").strip()
                    raise FleetError(f"the SSH tunnel to {target}:{port} failed: {said}")
                if time.monotonic() > deadline:
                    raise FleetError(f"the SSH tunnel to {target}:{port} did not open in 30 s")
                time.sleep(0.2)
            yield local
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def vault_secrets(ansible_vault: Path, vault_file: Path, password_file: Path) -> dict[str, str]:
    """The environment's secrets, as `ansible-vault view` decrypts them."""
    if not vault_file.is_file():
        raise FleetError(f"no vault at {vault_file}; run make fleet-converge first")
    result = subprocess.run(
        [str(ansible_vault), "view", "--vault-password-file", str(password_file), str(vault_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise FleetError(f"ansible-vault could not open {vault_file}: {result.stderr.strip()}")
    return yaml.safe_load(result.stdout)


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0
