"""The fleet's base image: Debian bookworm as an EC2 host would boot it, from Debian's packages.

No image registry is reachable, so the root file system is made with ``mmdebstrap`` and
loaded with ``docker import``. It carries systemd (PID 1), sshd, Python for Ansible, sudo and
iptables, the default user ``ubuntu`` (the inventory's SSH user) with passwordless sudo, and
the control node's CA bundle, so that pip, uv and Maven on the hosts trust the same TLS the
control node does (on AWS the bundle is the distribution's own and the step changes nothing).
The image is tagged with a hash of its recipe and the bundle: a changed recipe builds a new
one, an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tripclick_devstack.fleet import engine

IMAGE_REPO = "tripclick-fleet-base"
SUITE = "bookworm"
MIRRORS = (
    "deb http://deb.debian.org/debian bookworm main",
    "deb http://deb.debian.org/debian bookworm-updates main",
    "deb http://deb.debian.org/debian-security bookworm-security main",
)
# What an EC2 host has before Ansible touches it, and what Ansible itself needs there
# (python3-apt for the apt module, acl for become_user to unprivileged users).
PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "sudo",
    "python3",
    "python3-apt",
    "acl",
    "iptables",
    "iproute2",
    "procps",
    "ca-certificates",
    "curl",
    "gnupg",
    "tzdata",
    "locales",
    "netbase",
    "kmod",
    "less",
    "xz-utils",
    "unzip",
)
# Keep the package lists, as a cloud image does: apt's cache_valid_time judges their age.
OPTIONS = ("--variant=minbase", "--skip=cleanup/apt/lists")
SSH_USER = "ubuntu"
SG_SCRIPT = "/etc/tripclick-fleet/security-group.sh"

# Run on the finished root (mmdebstrap's customize hook; "$1" is the root folder).
CUSTOMIZE = f"""
set -eu
root="$1"
chroot "$root" useradd --create-home --shell /bin/bash --groups sudo {SSH_USER}
printf '%s ALL=(ALL) NOPASSWD:ALL\\n' {SSH_USER} > "$root/etc/sudoers.d/90-{SSH_USER}"
chmod 0440 "$root/etc/sudoers.d/90-{SSH_USER}"
install -d -o 1000 -g 1000 -m 0700 "$root/home/{SSH_USER}/.ssh"
# Each host gets its own host key from the fleet (mounted), none is baked in.
rm -f "$root"/etc/ssh/ssh_host_*
# systemd makes a machine ID per container at boot.
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
# Consoles and hardware units have nothing to do in a container.
for unit in getty@tty1.service console-getty.service systemd-udevd.service \\
    systemd-udev-trigger.service systemd-modules-load.service sys-kernel-config.mount \\
    sys-kernel-debug.mount systemd-remount-fs.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
sed -i 's/^# *\\(en_US.UTF-8\\)/\\1/' "$root/etc/locale.gen"
chroot "$root" locale-gen >/dev/null
cat > "$root/etc/systemd/system/tripclick-fleet-sg.service" <<'UNIT'
[Unit]
Description=The instance's security group (ingress rules from terraform/modules/security)
DefaultDependencies=no
Before=network-pre.target ssh.service
Wants=network-pre.target
ConditionPathExists={SG_SCRIPT}

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh {SG_SCRIPT}

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/tripclick-fleet-sg.service \\
  "$root/etc/systemd/system/multi-user.target.wants/tripclick-fleet-sg.service"
install -d "$root/usr/local/share/ca-certificates/tripclick-fleet"
cp "$TRIPCLICK_FLEET_CA_DIR"/*.crt "$root/usr/local/share/ca-certificates/tripclick-fleet/"
chroot "$root" update-ca-certificates >/dev/null 2>&1
# The package lists stay, as on a cloud image: apt's cache_valid_time then sees their age.
chroot "$root" apt-get clean
"""

# The stop signal systemd wants (SIGRTMIN+3) is given at docker run: this dockerd's import
# does not take STOPSIGNAL.
CHANGES = (
    'CMD ["/sbin/init"]',
    "ENV container=docker",
)


def ca_bundle() -> Path:
    """The CA bundle this machine trusts: SSL_CERT_FILE's, else Debian's."""
    path = Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")
    if not path.is_file():
        raise FileNotFoundError(f"no CA bundle at {path}: set SSL_CERT_FILE to the bundle to trust")
    return path


def split_bundle(bundle: Path, folder: Path) -> int:
    """One .crt per certificate: update-ca-certificates and Java's truststore take the first of a file."""
    certs = re.findall(
        r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", bundle.read_text(), re.S
    )
    for i, cert in enumerate(certs):
        (folder / f"host-{i:03d}.crt").write_text(cert + "\n")
    return len(certs)


def recipe_hash() -> str:
    recipe = {
        "suite": SUITE,
        "options": OPTIONS,
        "mirrors": MIRRORS,
        "packages": PACKAGES,
        "customize": CUSTOMIZE,
        "changes": CHANGES,
        "ca": hashlib.sha256(ca_bundle().read_bytes()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def tag() -> str:
    return f"{IMAGE_REPO}:{recipe_hash()}"


def exists(image: str) -> bool:
    return engine.docker("image", "inspect", image, check=False, capture=True).returncode == 0


def build(local: Path, log=print) -> str:
    """The base image's tag, built first if its recipe changed. Logs the build time."""
    image = tag()
    if exists(image):
        return image
    if shutil.which("mmdebstrap") is None:
        raise RuntimeError(
            "mmdebstrap is missing: run make fleet-engine (or apt-get install -y mmdebstrap)"
        )
    log(f"building {image} from Debian {SUITE} packages (mmdebstrap)")
    started = time.monotonic()
    work = local / "fleet" / "image"
    work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        ca_dir = Path(tmp) / "ca"
        ca_dir.mkdir()
        split_bundle(ca_bundle(), ca_dir)
        tarball = Path(tmp) / "rootfs.tar"
        env = dict(os.environ, TRIPCLICK_FLEET_CA_DIR=str(ca_dir))
        subprocess.run(
            [
                "mmdebstrap",
                "--quiet",
                *OPTIONS,
                "--include=" + ",".join(PACKAGES),
                "--customize-hook=" + CUSTOMIZE.strip(),
                SUITE,
                str(tarball),
                *MIRRORS,
            ],
            check=True,
            env=env,
        )
        args = ["import"]
        for change in CHANGES:
            args += ["--change", change]
        engine.docker(*args, str(tarball), image)
    elapsed = time.monotonic() - started
    (work / "build-seconds.json").write_text(
        json.dumps({"image": image, "seconds": round(elapsed, 1)})
    )
    log(f"built {image} in {elapsed:.0f} s")
    return image
