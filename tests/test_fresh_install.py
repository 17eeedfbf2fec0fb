"""Plugins as users get them: wheels built from the source tree, installed into a fresh virtual environment.

The environment shares only third-party packages (torch and the rest) with
the test's own, through a folder of links on its path, so nothing of ganzoo's
editable source installs can leak in: the core, ganzoo-gan and ganzoo-pacgan
come from their wheels alone.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PACGAN_VERSION = tomllib.loads((ROOT / "plugins" / "pacgan" / "pyproject.toml").read_text())["project"]["version"]
pytestmark = pytest.mark.slow


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def shared_packages(folder: Path) -> Path:
    """Links to every third-party package of this environment, none of ganzoo's own or its editable hooks."""
    folder.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        name = entry.name.lower()
        if name.startswith(("ganzoo", "__editable__")) or name.endswith(".pth"):
            continue
        (folder / entry.name).symlink_to(entry)
    return folder


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """A virtual environment holding the wheels of the core, ganzoo-gan and ganzoo-pacgan."""
    base = tmp_path_factory.mktemp("fresh")
    wheels = base / "wheels"
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(wheels),
         str(ROOT), str(ROOT / "plugins" / "gan"), str(ROOT / "plugins" / "pacgan")])
    environment = base / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(environment)])
    python = environment / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
         *map(str, sorted(wheels.glob("*.whl")))])
    site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "shared-third-party.pth").write_text(str(shared_packages(base / "shared")) + "\n")
    return environment


def ganzoo(environment: Path, *args: str, cwd: Path) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GANZOO_", "PYTHON"))}
    return run([str(environment / "bin" / "ganzoo"), *args], cwd=cwd, env=env).stdout


def test_the_pacgan_wheel_is_found_in_a_fresh_environment(fresh, tmp_path):
    where = run([str(fresh / "bin" / "python"), "-c", "import ganzoo, ganzoo_pacgan; "
                 "print(ganzoo.__file__); print(ganzoo_pacgan.__file__)"], cwd=tmp_path).stdout.split()
    assert all(path.startswith(str(fresh)) for path in where)  # installed files, not the source tree
    listed = ganzoo(fresh, "plugins", cwd=tmp_path)
    assert f"ganzoo-pacgan {PACGAN_VERSION}  (plugin 'pacgan', ok)\n    gans: pacgan" in listed
    assert "FAILED" not in listed and "ganzoo-fgan" not in listed  # only what was installed


def test_pacgan_trains_and_is_benchmarked_from_its_wheel(fresh, tmp_path):
    config = tmp_path / "pacgan.toml"
    config.write_text('gan = "pacgan"\ndataset = "ring8"\nsteps = 30\ndevice = "cpu"\nout_dir = "run"\n')
    trained = ganzoo(fresh, "train", str(config), "--quiet", cwd=tmp_path)
    assert "done at step 30" in trained and "step 30: modes" in trained
    provenance = json.loads((tmp_path / "run" / "provenance.json").read_text())
    assert provenance["gan"] == {"name": "pacgan", "distribution": "ganzoo-pacgan", "version": PACGAN_VERSION}
    table = ganzoo(fresh, "bench", "toy", "--gans", "pacgan", "--steps", "20", "--out", "bench", "--device", "cpu",
                   cwd=tmp_path)
    assert "pacgan  nonsaturating  ring8" in table and "pacgan  nonsaturating  grid25" in table
    checked = ganzoo(fresh, "plugin", "check", "ganzoo-pacgan", cwd=tmp_path)
    assert checked.rstrip().splitlines()[-1].endswith(" 0 failed, 0 skipped")
