"""The producer's command line and its image."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UV = REPO / ".local" / "tools" / "bin" / "uv"


def cli(*args: str, module: str = "tripclick.cli") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=120
    )


def test_help_is_there_for_a_newcomer():
    top = cli("--help")
    assert top.returncode == 0 and "produce" in top.stdout and "generate" in top.stdout
    # The image's CLI is the producers' only; the local platform's fronts every area.
    assert "run-day" not in top.stdout and " up " not in top.stdout
    full = cli("--help", module="tripclick_devstack.cli")
    for command in ("up", "generate", "produce", "silver", "gold", "run-day", "dashboards"):
        assert re.search(rf"^\s+{command}\b", full.stdout, re.M), command
    produce = cli("produce", "--help").stdout
    for flag in ("--mode", "--input", "--source", "--date", "--speed", "--window-start",
                 "--window-minutes", "--reject-file", "examples:", "Exit code"):  # fmt: skip
        assert flag in produce
    assert "examples:" in cli("generate", "--help").stdout


def test_generate_writes_the_files_it_reports(tmp_path):
    out = cli("generate", "--date", "2016-01-01", "--records", "500", "--servers", "3",
              "--malformed-rate", "0.02", "--out", str(tmp_path))  # fmt: skip
    assert out.returncode == 0, out.stderr
    files = sorted(tmp_path.glob("*.jsonl"))
    assert [f.name for f in files] == [f"2016-01-01_part-00{i}.jsonl" for i in range(3)]
    assert sum(len(f.read_bytes().splitlines()) for f in files) == 500
    assert "500 lines" in out.stdout and "10 malformed" in out.stdout


def test_generate_mistakes_give_one_line(tmp_path):
    out = cli("generate", "--date", "2016-02-30", "--records", "5", "--out", str(tmp_path))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "tripclick generate: error: --date '2016-02-30' is not a date; use YYYY-MM-DD"
    ]


@pytest.mark.parametrize("day", ["20160101", "2016-W01-5"])
def test_a_date_in_another_iso_form_is_refused_by_every_command(tmp_path, day):
    # Python 3.11 reads both as 2016-01-01; passed on raw they would name other partitions.
    sample = tmp_path / "in.jsonl"
    sample.write_text("{}\n")
    runs = {
        "generate": cli("generate", "--date", day, "--records", "5", "--out", str(tmp_path)),
        "produce": cli("produce", "--mode", "batch", "--input", str(sample), "--date", day),
        "silver": cli("silver", "--date", day, "--available-now", module="tripclick_devstack.cli"),
        "run-day": cli(
            "run-day", "--input", str(sample), "--date", day, module="tripclick_devstack.cli"
        ),
    }
    for name, out in runs.items():
        assert out.returncode == 2, (name, out.stderr)
        # One error line (argparse puts its usage above it), never a traceback.
        error = out.stderr.strip().splitlines()[-1]
        assert "Traceback" not in out.stderr, (name, out.stderr)
        assert error.startswith(f"tripclick {name}: error: "), (name, error)
        assert f"{day!r} is not a date; use YYYY-MM-DD" in error, (name, error)


def test_producer_image_needs_only_its_own_packages():
    # What the producer image installs (payloads/requirements-producer.txt) must be enough.
    code = (
        "import sys; from tripclick import cli; cli.build_parser(); "
        "import tripclick.producer, tripclick.generator; "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    allowed = {"tripclick", "confluent_kafka", "xxhash", "rich", "msgspec", "__main__"}
    # msgspec uses typing_extensions when it is installed and typing when not.
    allowed.add("typing_extensions")
    extra = {m for m in out.stdout.split() if not m.startswith("_")} - allowed
    assert extra == set()


def test_producer_image_pins_match_the_lock_file():
    lock = tomllib.loads((REPO / "uv.lock").read_text())
    locked = {p["name"]: p["version"] for p in lock["package"]}
    pins = dict(
        line.split("==")
        for line in (REPO / "payloads/requirements-producer.txt").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert set(pins) == {"confluent-kafka", "xxhash", "rich", "msgspec"}
    assert {name: locked[name] for name in pins} == pins


def test_dockerfile_copies_what_exists_and_runs_the_producer_cli():
    text = (REPO / "payloads/Dockerfile").read_text()
    for src in re.findall(r"^COPY (\S+) ", text, re.M):
        assert (REPO / src).exists(), src
    assert 'ENTRYPOINT ["python", "-m", "tripclick.cli"]' in text
    assert re.search(r"^USER (?!root)\w+", text, re.M)
    copied = re.findall(r"^COPY (\S+) ", text, re.M)
    assert copied == ["payloads/requirements-producer.txt", "payloads/tripclick"]


def test_producer_wheel_carries_the_payload_package_only(tmp_path):
    # What Ansible installs on the web servers: payloads/pyproject.toml's wheel.
    assert UV.exists(), f"uv is missing at {UV}; run make setup"
    shutil.copytree(
        REPO / "payloads", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__")
    )
    subprocess.run(
        [UV, "build", "--wheel", "--quiet", "--out-dir", tmp_path / "dist", tmp_path / "src"],
        check=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    assert wheel.name == "tripclick_payloads-0.1.0-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"tripclick", "tripclick_payloads-0.1.0.dist-info"}
    modules = {n for n in names if n.endswith(".py")}
    assert "tripclick/producer.py" in modules and "tripclick/cli.py" in modules
    entry = zipfile.ZipFile(wheel).read("tripclick_payloads-0.1.0.dist-info/entry_points.txt")
    assert b"tripclick = tripclick.cli:main" in entry
