"""ssm-init.yml against moto: every secret once as a SecureString, kept on a second run, and
read back by group_vars/all/secrets.yml with tripclick_secrets_backend=ssm.

No secret reaches a command line or a log: the playbook runs with no_log, and Ansible hands the
secrets it resolves back as SHA-256 digests only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import string
import subprocess
from pathlib import Path

import pytest
import yaml
from ansible_tools import ANSIBLE_DIR, REPO, ansible_env, recap, run, tool

# The secrets.yml lines: `name: "{{ vault_name if ... else lookup(..., tripclick_ssm_prefix ~ '/path', ...) }}"`.
SECRET_LINE = re.compile(
    r"^(?P<name>\w+): \"\{\{ (?P<vault>vault_\w+) if tripclick_secrets_backend == 'vault' "
    r"else lookup\('amazon\.aws\.ssm_parameter', tripclick_ssm_prefix ~ '(?P<path>/[\w/]+)'",
    re.MULTILINE,
)
ALNUM = set(string.ascii_letters + string.digits)
# Lengths of the generated secrets (vault-init.yml's rules); the Fernet key is checked apart.
LENGTHS = {
    "airflow/api_secret_key": 48,
    "airflow/admin_password": 24,
    "airflow/jwt_secret": 48,
    "superset/secret_key": 48,
    "superset/admin_password": 24,
    "postgresql/loader_password": 32,
    "postgresql/reader_password": 32,
    "kafka/keystore_password": 32,
}
# A parameter that exists before ssm-init runs (written by someone else): it must be kept.
PRESET = "kafka/keystore_password"


def secrets_map() -> dict[str, tuple[str, str]]:
    """secrets.yml: variable -> (its vault variable, its parameter under the prefix)."""
    text = (ANSIBLE_DIR / "group_vars" / "all" / "secrets.yml").read_text()
    found = {m["name"]: (m["vault"], m["path"].lstrip("/")) for m in SECRET_LINE.finditer(text)}
    assert len(found) == len(re.findall(r"^\w+: \"\{\{ vault_", text, re.MULTILINE)), (
        "a secret in secrets.yml does not follow the vault-or-SSM pattern this test reads"
    )
    return found


def playbook_vars(name: str) -> dict:
    return yaml.safe_load((ANSIBLE_DIR / name).read_text())[0]["vars"]


def ssm_client(aws_endpoint):
    import boto3

    return boto3.client(
        "ssm",
        endpoint_url=aws_endpoint["url"],
        region_name="ap-northeast-2",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def parameters(client, prefix: str) -> dict[str, dict]:
    """Every parameter under prefix, decrypted, by its path below the prefix."""
    found: dict[str, dict] = {}
    for page in client.get_paginator("get_parameters_by_path").paginate(
        Path=prefix, Recursive=True, WithDecryption=True
    ):
        for p in page["Parameters"]:
            found[p["Name"][len(prefix) + 1 :]] = p
    return found


@pytest.fixture()
def inventory(tmp_path: Path) -> tuple[Path, str]:
    """An inventory like the one `make apply` writes, with a prefix of its own."""
    prefix = f"/tripclick/ssm-test-{secrets.token_hex(4)}"
    inv = tmp_path / "inventory.yml"
    inv.write_text(
        yaml.safe_dump(
            {
                "all": {
                    "vars": {
                        "tripclick_environment": "ssmtest",
                        "aws_region": "ap-northeast-2",
                        "ssm_parameter_prefix": prefix,
                    },
                    "hosts": {
                        "ssm-test-airflow": {"ansible_connection": "local"},
                        "ssm-test-gold": {"ansible_connection": "local"},
                    },
                }
            }
        )
    )
    return inv, prefix


def test_ssm_init_writes_the_secrets_vault_init_generates():
    """Same secrets, same generation rules as vault-init.yml, at the paths secrets.yml reads."""
    mapping = secrets_map()
    vault_rules = playbook_vars("vault-init.yml")["vault_init_secrets"]
    ssm_rules = playbook_vars("ssm-init.yml")["ssm_init_secrets"]
    assert sorted(ssm_rules) == sorted(path for _, path in mapping.values())
    assert sorted(vault_rules) == sorted(vault for vault, _ in mapping.values())
    for vault, path in mapping.values():
        assert (
            ssm_rules[path].replace("ssm_init_chars", "vault_init_chars") == vault_rules[vault]
        ), path


def test_ssm_init_creates_each_secret_once_and_ansible_reads_them(
    aws_endpoint, inventory, tmp_path
):
    inv, prefix = inventory
    client = ssm_client(aws_endpoint)
    preset = secrets.token_urlsafe(24)
    client.put_parameter(Name=f"{prefix}/{PRESET}", Value=preset, Type="SecureString")
    env = {**ansible_env(), **aws_endpoint["env"]}
    argv = [tool("ansible-playbook"), "-i", str(inv), "ssm-init.yml"]

    first = run(argv, env, tmp_path / "logs" / "ssm-init-1.log", timeout=600)
    assert recap(first)["changed"] == 1, first[-3000:]
    written = parameters(client, prefix)
    mapping = secrets_map()
    assert sorted(written) == sorted(path for _, path in mapping.values())
    for path, p in written.items():
        assert p["Type"] == "SecureString", path
        assert p["Version"] == 1, path
    fernet = written["airflow/fernet_key"]["Value"]
    assert len(fernet) == 44 and fernet.endswith("="), (
        "the Fernet key is not 44 characters ending in '='"
    )
    assert len(base64.urlsafe_b64decode(fernet)) == 32, (
        "the Fernet key is not 32 bytes of URL-safe base64"
    )
    assert written[PRESET]["Value"] == preset, "ssm-init overwrote a parameter that existed"
    for path, length in LENGTHS.items():
        if path == PRESET:
            continue
        value = written[path]["Value"]
        assert len(value) == length and set(value) <= ALNUM, (
            f"{path}: not {length} letters and digits"
        )
    values = {path: p["Value"] for path, p in written.items()}
    assert len(set(values.values())) == len(values), "two secrets share a value"
    for value in values.values():
        assert value not in first, "a secret was printed"

    second = run(argv, env, tmp_path / "logs" / "ssm-init-2.log", timeout=600)
    assert recap(second)["changed"] == 0, second[-3000:]
    again = parameters(client, prefix)
    assert {path: p["Value"] for path, p in again.items()} == values
    assert {p["Version"] for p in again.values()} == {1}

    # What the roles get: the group_vars of ansible/ with the SSM backend, as digests only.
    json_env = {
        **env,
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
    }
    json_env.pop("ANSIBLE_CALLBACKS_ENABLED")  # the profile callback would print beside the JSON
    digests = ", ".join(f"'{name}': {name} | hash('sha256')" for name in sorted(mapping))
    done = subprocess.run(
        [
            tool("ansible"),
            "-i",
            str(inv),
            "--playbook-dir",
            str(ANSIBLE_DIR),
            "ssm-test-airflow",
            "-m",
            "ansible.builtin.debug",
            "-a",
            f"msg={{{{ {{ {digests} }} }}}}",
            "-e",
            "tripclick_secrets_backend=ssm",
        ],
        cwd=ANSIBLE_DIR,
        env=json_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    result = json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"]["ssm-test-airflow"]["msg"]
    assert result == {
        name: hashlib.sha256(values[path].encode()).hexdigest()
        for name, (_, path) in mapping.items()
    }


def test_ssm_init_without_credentials_says_so_in_one_line(aws_endpoint, inventory, tmp_path):
    inv, _ = inventory
    env = {**ansible_env(), **aws_endpoint["env"]}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(name)
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    done = subprocess.run(
        [tool("ansible-playbook"), "-i", str(inv), "ssm-init.yml"],
        cwd=ANSIBLE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert "no usable AWS credentials on the control node" in output, output[-3000:]
    assert "Traceback" not in output, output[-3000:]


def test_make_ssm_init_without_inventory_says_so_in_one_line():
    done = subprocess.run(
        [
            "make",
            "-s",
            "--no-print-directory",
            "ansible-ssm-init",
            "INVENTORY=inventory/terraform/nowhere.yml",
        ],
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    assert done.stderr.splitlines()[0] == (
        "error: no inventory inventory/terraform/nowhere.yml: name a file such as "
        "inventory/terraform/dev.yml (make apply ENV=dev writes it)"
    ), done.stderr
