"""Where the presets and assets are found: inside the package when installed, beside it in a checkout."""
import json
from pathlib import Path

from pipelines.core import paths

ROOT = Path(__file__).resolve().parents[2]


def test_installed_layout_wins_over_the_checkout(tmp_path):
    package = tmp_path / "site" / "pipelines"
    (package / "_data" / "presets").mkdir(parents=True)
    (tmp_path / "site" / "presets").mkdir()  # a stray folder beside site-packages must not be used
    assert paths.data_dir("presets", package) == package / "_data" / "presets"


def test_checkout_layout_is_beside_the_package(tmp_path):
    package = tmp_path / "repo" / "pipelines"
    package.mkdir(parents=True)
    assert paths.data_dir("assets", package) == tmp_path / "repo" / "assets"


def test_this_checkout_resolves_to_its_own_preset_and_asset_files():
    assert paths.PACKAGE == ROOT / "pipelines"
    assert (paths.PRESETS, paths.ASSETS) == (ROOT / "presets", ROOT / "assets")
    orbit = json.loads((paths.PRESETS / "camera" / "orbit.json").read_text())
    assert orbit["name"] == "orbit"
    models = json.loads((paths.PRESETS / "models" / "depth.json").read_text())
    assert models["depth-anything-v2-small"]["licence"] == "Apache-2.0"  # the registry the depth stage reads
    assert (paths.ASSETS / "fonts" / "IBMPlexSans-Bold.woff2").read_bytes()[:4] == b"wOF2"
    assert (paths.ASSETS / "examples" / "astronaut.jpg").read_bytes()[:3] == b"\xff\xd8\xff"  # JPEG
