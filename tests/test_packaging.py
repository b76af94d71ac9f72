"""The package as `pip install .` builds it: a wheel with every module, the presets and the assets inside
the package, the photo-studio command, and data found from the wheel when run outside the checkout."""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import pipelines

ROOT = Path(__file__).resolve().parent.parent
#: What the wheel is built from (as pip copies it); nothing else of the checkout may be needed.
SOURCES = ("pyproject.toml", "README.md", "requirements.txt", "pipelines", "presets", "assets")


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the sources by setuptools' PEP 517 backend, without network."""
    tmp = tmp_path_factory.mktemp("wheel")
    src, dist = tmp / "src", tmp / "dist"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, src / name)
    dist.mkdir()
    r = subprocess.run([sys.executable, "-c", "import sys, setuptools.build_meta as b; print(b.build_wheel(sys.argv[1]))",
                        str(dist)], cwd=src, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return dist / r.stdout.strip().splitlines()[-1]


def test_wheel_holds_every_module_preset_and_asset(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"pipelines/{f}" for f in _files(ROOT / "pipelines") if f.endswith(".py")}
    expected |= {f"pipelines/_data/presets/{f}" for f in _files(ROOT / "presets")}
    expected |= {f"pipelines/_data/assets/{f}" for f in _files(ROOT / "assets")}
    # A subpackage missing from pyproject.toml's [tool.setuptools] packages list shows here.
    assert sorted(expected - names) == []
    assert not [n for n in names if n.startswith(("presets/", "assets/", "tests/", "bench/"))]


def test_wheel_metadata_version_script_and_requirements(wheel):
    z = zipfile.ZipFile(wheel)
    info = next(n.split("/")[0] for n in z.namelist() if n.endswith(".dist-info/METADATA"))
    meta = z.read(f"{info}/METADATA").decode()
    assert f"\nVersion: {pipelines.__version__}\n" in meta
    required = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    required = [r for r in required if r]
    runtime = [line[len("Requires-Dist: "):] for line in meta.splitlines()
               if line.startswith("Requires-Dist: ") and "extra ==" not in line]
    assert runtime == required
    assert 'Requires-Dist: ray[data]; extra == "batch"' in meta
    scripts = z.read(f"{info}/entry_points.txt").decode()
    assert "[console_scripts]\nphoto-studio = pipelines.cli:main" in scripts


def test_installed_wheel_finds_its_own_data_outside_the_checkout(wheel, tmp_path):
    site, work = tmp_path / "site", tmp_path / "work"
    zipfile.ZipFile(wheel).extractall(site)  # what pip puts in site-packages
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    probe = ("import json, pipelines; from pipelines.core import paths; from pipelines.ui import blocks; "
             "from pipelines.finish import captions; print(json.dumps({'package': pipelines.__file__, "
             "'presets': str(paths.PRESETS), 'assets': str(paths.ASSETS), 'font': captions.builtin_font(), "
             "'examples': blocks._example_photos()}))")
    r = subprocess.run([sys.executable, "-c", probe], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout)
    data = site / "pipelines" / "_data"
    assert Path(got["package"]).parent == site / "pipelines"
    assert (got["presets"], got["assets"]) == (str(data / "presets"), str(data / "assets"))
    assert got["font"] == str(data / "assets" / "fonts" / "IBMPlexSans-Bold.woff2")
    assert [Path(p).parent for p in got["examples"]] == [data / "assets" / "examples"] * 4
    assert all(Path(p).is_file() for p in got["examples"] + [got["font"]])

    r = subprocess.run([sys.executable, "-m", "pipelines", "presets"], cwd=work, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert [line.split()[0] for line in r.stdout.splitlines()] == sorted(
        p.stem for p in (ROOT / "presets" / "camera").glob("*.json"))

