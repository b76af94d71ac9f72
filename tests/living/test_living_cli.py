"""Living photos through the CLI, as a user runs it: render --motion MOTION.json, and bad motion files."""
import json

import numpy as np
import pytest
from PIL import Image

from test_cli import run


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    from skimage import data

    d = tmp_path_factory.mktemp("living_cli")
    rgb = data.astronaut()[::4, ::4]  # 128 x 128
    Image.fromarray(rgb).save(d / "photo.png")
    np.save(d / "depth.npy", np.full((128, 128), 3.0, np.float32))
    mask = np.zeros((128, 128), np.uint8)
    mask[:, 80:] = 255
    Image.fromarray(mask).save(d / "right.png")
    Image.fromarray(mask[::2, ::2]).save(d / "small.png")  # same aspect, half size
    Image.fromarray(np.zeros((40, 80), np.uint8)).save(d / "wide.png")
    return d, rgb, mask


def _motion(d, name, **region):
    body = {"regions": [{"mask": "right.png", "type": "sway", "direction_deg": 90, "speed": 0.8, **region}]}
    (d / name).write_text(json.dumps(body))
    return d / name


def test_render_motion_still_camera_is_a_cinemagraph(scene, tmp_path):
    d, rgb, mask = scene
    r = run("render", d / "photo.png", "--depth", d / "depth.npy", "--motion", _motion(d, "m.json", mask="small.png"),
            "--strength", "0", "--duration", "1", "--fps", "8", "--frames-dir", tmp_path / "f", "-o", tmp_path / "t.mp4")
    assert r.returncode == 0, r.stderr
    assert "mask resized from 64x64" in r.stderr and "sways up and down" in r.stderr
    frames = [np.asarray(Image.open(p)) for p in sorted((tmp_path / "f").iterdir())]
    assert len(frames) == 8
    for f in frames:
        assert np.array_equal(f[:, :78], rgb[:, :78])  # black (after resizing): exactly still
    assert max(np.abs(f[:, 84:].astype(int) - rgb[:, 84:]).max() for f in frames) > 10
    recipe = json.loads((tmp_path / "t.mp4.json").read_text())
    assert recipe["loop"] is True
    assert recipe["motion"]["regions"][0]["type"] == "sway"
    assert (tmp_path / recipe["motion"]["regions"][0]["mask"]).is_file()
    # The take replays: the same frames again, the motion read from the recipe and its masks.
    r = run("replay", tmp_path / "t.mp4.json", "--frames-dir", tmp_path / "again")
    assert r.returncode == 0, r.stderr
    again = [np.asarray(Image.open(p)) for p in sorted((tmp_path / "again").iterdir())]
    assert all(np.array_equal(a, b) for a, b in zip(again, frames)) and len(again) == 8


@pytest.mark.parametrize("region, words", [
    ({"mask": "wide.png"}, "regions.0.mask"),
    ({"type": "spin"}, "regions.0.type"),
    ({"speed": -0.1}, "regions.0.speed"),
    ({"mask": "nope.png"}, "not found"),
])
def test_bad_motion_exits_2_naming_the_field(scene, tmp_path, region, words):
    d, _, _ = scene
    r = run("render", d / "photo.png", "--depth", d / "depth.npy", "--motion", _motion(d, "bad.json", **region),
            "--frames-dir", tmp_path / "f")
    assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr
