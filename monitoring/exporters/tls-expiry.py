#!/usr/bin/env python3
"""Write the notAfter of PEM certificate files for the node exporter's textfile collector.

    tls-expiry.py --textfile-dir DIR CERT.pem [CERT.pem ...]

Writes ``DIR/tripclick_tls_certificates.prom`` with one
``tripclick_tls_certificate_not_after_seconds{path="<file>"}`` gauge per file: the
earliest notAfter of the certificates in it, in Unix seconds (a CA bundle is as good as
its first certificate to expire). CertificateExpiresSoon (monitoring/rules) reads it, so
certificates no TLS probe sees (client certificates, CAs) are covered too. Run it from
cron or a timer after each certificate change; the node exporter reads the file at each
scrape.

The file is written whole to a temporary name in DIR and renamed over the old one, so a
scrape never reads half of it. A missing or unreadable file, or one with no certificate,
is a mistake in the list: one line on stderr, exit status 2, and the old file stays.
Needs the ``cryptography`` package (Debian: python3-cryptography).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import tempfile
from pathlib import Path

from cryptography import x509

METRIC = "tripclick_tls_certificate_not_after_seconds"
OUTPUT = "tripclick_tls_certificates.prom"


class Mistake(Exception):
    """Something wrong in the arguments, said in one line."""


def not_after(path: Path) -> int:
    """The earliest notAfter of the PEM certificates in ``path``, in Unix seconds."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise Mistake(f"{path}: cannot read it ({err.strerror}); check the path") from None
    # One block at a time: Debian 12's cryptography (38) has no load_pem_x509_certificates.
    blocks = re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", data, re.S)
    try:
        certs = [x509.load_pem_x509_certificate(block) for block in blocks]
    except ValueError:
        certs = []
    if not certs:
        raise Mistake(f"{path}: holds no PEM certificate; give certificate files only")
    return min(_expiry(c) for c in certs)


def _expiry(cert: x509.Certificate) -> int:
    # not_valid_after_utc since cryptography 42; before it, a naive datetime in UTC.
    when = getattr(cert, "not_valid_after_utc", None)
    if when is None:
        when = cert.not_valid_after.replace(tzinfo=dt.UTC)
    return int(when.timestamp())


def _label(value: str) -> str:
    # The exposition format's label escapes.
    return value.replace("\\", r"\\").replace('"', r"\"").replace("\n", r"\n")


def render(expiries: dict[str, int]) -> str:
    lines = [
        f"# HELP {METRIC} The earliest notAfter of the certificates in a PEM file, Unix seconds.",
        f"# TYPE {METRIC} gauge",
    ]
    lines += [f'{METRIC}{{path="{_label(p)}"}} {t}' for p, t in sorted(expiries.items())]
    return "\n".join(lines) + "\n"


def write_atomically(directory: Path, text: str) -> Path:
    """Write ``text`` to ``directory/OUTPUT`` through a temporary file and a rename."""
    target = directory / OUTPUT
    # The collector reads only *.prom, so the temporary name is never read half-written.
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{OUTPUT}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--textfile-dir",
        required=True,
        type=Path,
        help="the node exporter's --collector.textfile.directory",
    )
    parser.add_argument("certificates", nargs="+", type=Path, help="PEM certificate files")
    args = parser.parse_args(argv)
    try:
        if not args.textfile_dir.is_dir():
            raise Mistake(
                f"{args.textfile_dir}: no such directory; give the node exporter's "
                "textfile directory (--collector.textfile.directory)"
            )
        expiries = {str(p.resolve()): not_after(p) for p in args.certificates}
    except Mistake as err:
        print(f"tls-expiry: {err}", file=sys.stderr)
        return 2
    target = write_atomically(args.textfile_dir, render(expiries))
    print(f"tls-expiry: {len(expiries)} certificate file(s) written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
