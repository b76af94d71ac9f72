"""Replay: a take's recipe renders the same decoded frames again, from the CLI, the studio and Python; a
recipe whose photo is missing or different, or of an unknown format, gets a clear error."""
import json
import shutil

import numpy as np
import pytest
from PIL import Image
from studio_stubs import decode

from pipelines import cli
from pipelines import studio as st
from pipelines.core import recipe as recipes
from pipelines.core.errors import InputError
from pipelines.core.photo import load_image
from pipelines.depth import DepthMap
from pipelines.render.replay import replay
from pipelines.render.take import render_take
from pipelines.core.schema import RenderSettings


@pytest.fixture(scope="module")
def photo_file(tmp_path_factory, coffee):
    path = tmp_path_factory.mktemp("photo") / "coffee.png"
    Image.fromarray(coffee[::3, ::3]).save(path)  # 200 x 134
    return path


def _cli(*args, capsys) -> tuple[int, str]:
    rc = cli.main([str(a) for a in args])
    err = capsys.readouterr().err
    return rc, err


def test_cli_take_with_estimated_depth_replays_frame_for_frame(photo_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PHOTO_STUDIO_DEPTH_CACHE", str(tmp_path / "cache"))
    take = tmp_path / "take.mp4"
    rc, _ = _cli("render", photo_file, "--estimator", "classical", "--preset", "orbit", "--strength", "0.8",
                 "--seed", "4", "--duration", "0.5", "--fps", "12", "-o", take, capsys=capsys)
    assert rc == 0
    rec = recipes.load(str(take) + ".json")
    assert rec.format == recipes.FORMAT and rec.source.depth.kind == "estimated"
    assert rec.source.depth.estimator == "classical" and rec.source.photo.endswith("coffee.png")
    assert rec.settings.seed == 4 and rec.settings.preset == "orbit"
    again = tmp_path / "again.mp4"
    rc, err = _cli("replay", str(take) + ".json", "-o", again, capsys=capsys)
    assert rc == 0, err
    first, second = decode(take), decode(again)
    assert first.shape[0] == 6 and np.array_equal(first, second)


def test_depth_file_and_camera_path_replay(photo_file, tmp_path, capsys):
    z = np.full((134, 200), 5.0, np.float32)
    z[30:110, 50:150] = 1.5
    np.save(tmp_path / "depth.npy", z)
    poses = [np.eye(4) for _ in range(3)]
    for k, p in enumerate(poses):
        p[0, 3] = 0.05 * k
    (tmp_path / "path.json").write_text(json.dumps({"fov_deg": 55.0, "width": 200, "height": 134,
                                                   "poses": [list(p.ravel()) for p in poses]}))
    take = tmp_path / "take.mp4"
    assert _cli("render", photo_file, "--depth", tmp_path / "depth.npy", "--camera-path", tmp_path / "path.json",
                "-o", take, capsys=capsys)[0] == 0
    rec = recipes.load(str(take) + ".json")
    assert rec.source.depth.kind == "file" and rec.camera_path is not None
    # The take moves with its depth file: relative paths still resolve.
    moved = tmp_path / "moved"
    moved.mkdir()
    for name in ("take.mp4", "take.mp4.json", "depth.npy"):
        shutil.copy(tmp_path / name, moved / name)
    again = replay(moved / "take.mp4.json", photo=photo_file, video=tmp_path / "again.mp4")
    assert np.array_equal(decode(take), decode(again.video))


def test_studio_take_replays_with_its_crop_and_depth_size(astronaut, tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTO_STUDIO_DEPTH_CACHE", str(tmp_path / "cache"))
    big = np.ascontiguousarray(np.kron(astronaut, np.ones((3, 3, 1), np.uint8)))  # 1536 px: depth runs smaller

    def classical(photo):
        from pipelines import depth

        return depth.estimate(photo, estimator="classical")

    studio = st.Studio(output_root=tmp_path / "takes", stages=st.Stages(depth=classical))
    result = studio.generate(big, prompt="orbit, dramatic", seed=2, duration=0.4, fps=10, aspect="16:9",
                             long_side=160)
    take = result.takes[0]
    assert take.recipe.source.crop_box is not None and take.recipe.source.depth.long_side == 1024
    Image.fromarray(big).save(tmp_path / "photo.png")
    again = replay(str(take.video) + ".json", photo=tmp_path / "photo.png", video=tmp_path / "again.mp4")
    assert not again.notices
    assert np.array_equal(decode(take.video), decode(again.video))


def test_missing_or_different_photo_and_unknown_format_are_clear_errors(photo_file, tmp_path, astronaut):
    photo = load_image(photo_file)
    depth = DepthMap(np.full(photo.pixels.shape[:2], 3.0, np.float32))
    take = render_take(photo, depth, RenderSettings(duration=0.2, fps=10), video=tmp_path / "t.mp4")
    path = str(take.video) + ".json"
    with pytest.raises(InputError, match="handed in as an array"):
        replay(path, photo=photo_file, video=tmp_path / "x.mp4")
    Image.fromarray(astronaut).save(tmp_path / "other.png")
    with pytest.raises(InputError, match="not the photo this take was made from"):
        replay(path, photo=tmp_path / "other.png", video=tmp_path / "x.mp4")
    with pytest.raises(InputError, match="missing; give it with --photo"):
        replay(path, photo=tmp_path / "nowhere.png", video=tmp_path / "x.mp4")
    data = json.loads(open(path).read())
    data["format"] = 99
    with pytest.raises(InputError, match="format 99.*update the studio"):
        recipes.parse(data, "t.mp4.json")
    with pytest.raises(InputError, match="recipe file not found"):
        recipes.load(tmp_path / "none.json")


def test_format_1_recipe_is_migrated():
    old = {"engine": "parallax", "photo_sha256": "ab", "depth_sha256": "cd", "source_photo_sha256": "ef",
           "crop_box": [0.1, 0.0, 0.9, 1.0], "prompt": "slow push in", "plan": "Dolly in - gentle",
           "settings": {"preset": "dolly-in", "strength": 0.3, "seed": 1, "duration": 1.0, "fps": 8,
                        "width": 96, "height": 54, "fov_deg": 60.0},
           "camera_path": {"loop": False}, "versions": {"studio": "0.1.0"}, "video": "take1.mp4"}
    rec = recipes.parse(old)
    assert rec.format == recipes.FORMAT and rec.source.photo_sha256 == "ef" and rec.settings.seed == 1
    assert rec.source.crop_box == (0.1, 0.0, 0.9, 1.0) and rec.studio_version == "0.1.0"


def test_cli_replay_errors_are_one_line(tmp_path, capsys):
    rc, err = _cli("replay", tmp_path / "none.json", "-o", tmp_path / "x.mp4", capsys=capsys)
    assert rc == 2 and err.count("\n") == 1 and "recipe file not found" in err
    (tmp_path / "bad.json").write_text("{not json")
    rc, err = _cli("replay", tmp_path / "bad.json", "-o", tmp_path / "x.mp4", capsys=capsys)
    assert rc == 2 and "is not valid JSON" in err


def test_finished_take_replays_with_its_finishing(photo_file, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PHOTO_STUDIO_DEPTH_CACHE", str(tmp_path / "cache"))
    post = tmp_path / "post.mp4"
    rc, err = _cli("render", photo_file, "--estimator", "classical", "--preset", "dolly-in", "--duration", "0.5",
                   "--fps", "10", "--caption", "Morning", "--aspect", "1:1", "-o", post, capsys=capsys)
    assert rc == 0, err
    rec = recipes.load(str(post) + ".json")
    assert rec.finish is not None and rec.finish.caption == "Morning" and rec.video == "post.mp4"
    again = replay(str(post) + ".json", video=tmp_path / "again.mp4")
    first, second = decode(post), decode(again.video)
    assert first.shape[1] == first.shape[2] and np.array_equal(first, second)
