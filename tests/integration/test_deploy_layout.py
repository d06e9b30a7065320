"""deploy/ (issue 25): the systemd units pass ``systemd-analyze verify`` with the commands
they run present in an installation laid out as docs/operations.md says (this checkout
stands in for /opt/pace-flow), and the container image definition copies what exists and
starts gunicorn with deploy/gunicorn.conf.py. gunicorn itself is started with that file by
tests/integration/test_operations_walkthrough.py. (No container engine runs on the test
machine; docs/operations.md gives the build command.)"""
from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.required import missing

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ("pace-web.service", "pace-worker.service")
INSTALLED = "/opt/pace-flow"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string((DEPLOY / "systemd" / name).read_text())
    return parser


@pytest.mark.parametrize("name", UNITS)
def test_each_unit_verifies_and_runs_what_is_installed(name, tmp_path):
    verify = shutil.which("systemd-analyze")
    if verify is None:
        missing("systemd-analyze (apt-get install systemd)")
    unit = tmp_path / name
    unit.write_text((DEPLOY / "systemd" / name).read_text().replace(INSTALLED, str(ROOT)))
    result = subprocess.run([verify, "verify", str(unit)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    service = _unit(name)["Service"]
    command = service["ExecStart"].split()
    assert command[0].startswith(f"{INSTALLED}/.venv/bin/")
    assert (ROOT / ".venv" / "bin" / Path(command[0]).name).exists()
    assert service["WorkingDirectory"] == INSTALLED
    assert service["Environment"] == "PACE_CONFIG=/etc/pace-flow/pace.toml"
    assert service["User"] == "pace" and service["ReadWritePaths"] == f"{INSTALLED}/instance"
    assert service["RestartPreventExitStatus"] == "2"  # a settings file that cannot be used


def test_the_units_run_gunicorn_with_the_shipped_config_and_the_worker():
    assert _unit("pace-web.service")["Service"]["ExecStart"] == \
        f"{INSTALLED}/.venv/bin/gunicorn -c deploy/gunicorn.conf.py"
    assert _unit("pace-worker.service")["Service"]["ExecStart"].startswith(
        f"{INSTALLED}/.venv/bin/pace worker")


def test_the_container_image_copies_what_exists_and_runs_gunicorn():
    text = (DEPLOY / "Containerfile").read_text()
    copies = re.findall(r"^COPY (?!--from)(.+) (\S+)$", text, re.M)
    assert copies
    for sources, _target in copies:
        for source in sources.split():
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    for folder in ("engine", "workflows", "web", "bpmn", "migrations", "deploy"):
        assert any(folder in sources.split() for sources, _ in copies), folder
    assert 'CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py"]' in text
    assert "pip install --no-cache-dir -e '.[deploy]'" in text
    assert "USER pace" in text and "PACE_CONFIG=/etc/pace-flow/pace.toml" in text
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][^,;]*", d) for d in extras["deploy"])
    assert any(d.startswith("gunicorn==") for d in extras["deploy"])
