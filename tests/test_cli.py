"""The CLI as a user runs it: `python -m pipelines render ...` in a subprocess."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "pipelines", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd or ROOT, timeout=300)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, ):
    from skimage import data

    d = tmp_path_factory.mktemp("cli")
    rgb = data.astronaut()[::2, ::2]  # 256 x 256
    Image.fromarray(rgb).save(d / "photo.png")
    z = np.full((256, 256), 4.0, np.float32)
    z[40:256, 60:200] = 1.5
    np.save(d / "depth.npy", z)
    poses = [np.eye(4), np.eye(4)]
    poses[1][0, 3] = 0.1
    (d / "path.json").write_text(json.dumps({"fov_deg": 60.0, "width": 256, "height": 256,
                                             "poses": [list(p.ravel()) for p in poses]}))
    return d, rgb


def test_render_camera_path_to_frames_and_mp4(inputs, tmp_path):
    d, rgb = inputs
    r = run("render", d / "photo.png", "--depth", d / "depth.npy", "--camera-path", d / "path.json",
            "--frames-dir", tmp_path / "frames", "-o", tmp_path / "take.mp4")
    assert r.returncode == 0, r.stderr
    frames = sorted((tmp_path / "frames").iterdir())
    assert [f.name for f in frames] == ["frame_0000.png", "frame_0001.png"]
    assert np.array_equal(np.asarray(Image.open(frames[0])), rgb)  # identity: the photo, exactly
    assert not np.array_equal(np.asarray(Image.open(frames[1])), rgb)
    import av

    with av.open(str(tmp_path / "take.mp4")) as c:
        s = c.streams.video[0]
        assert (s.codec_context.name, s.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert (s.width, s.height) == (256, 256) and len(list(c.decode(s))) == 2
    recipe = json.loads((tmp_path / "take.mp4.json").read_text())
    assert recipe["engine"] == "parallax" and len(recipe["camera_path"]["poses"]) == 2


def test_render_preset_with_size_duration_fps_is_reproducible(inputs, tmp_path):
    d, _ = inputs
    args = ["render", d / "photo.png", "--depth", d / "depth.npy", "--preset", "orbit", "--strength", "0.8",
            "--seed", "7", "--duration", "0.5", "--fps", "12", "--size", "160x90"]
    assert run(*args, "--frames-dir", tmp_path / "a").returncode == 0
    assert run(*args, "--frames-dir", tmp_path / "b").returncode == 0
    a, b = sorted((tmp_path / "a").iterdir()), sorted((tmp_path / "b").iterdir())
    assert len(a) == 6 and Image.open(a[0]).size == (160, 90)
    assert all(x.read_bytes() == y.read_bytes() for x, y in zip(a, b))  # byte-identical


@pytest.mark.parametrize("extra,match", [
    (["--preset", "warp-9"], "unknown preset 'warp-9'"),
    (["--preset", "orbit", "--strength", "1.5"], "strength=1.5"),
    (["--preset", "orbit", "--duration", "0"], "duration=0"),
    (["--preset", "orbit", "--size", "big"], "--size must look like"),
])
def test_bad_options_exit_2_with_one_clear_line(inputs, tmp_path, extra, match):
    d, _ = inputs
    r = run("render", d / "photo.png", "--depth", d / "depth.npy", *extra, "-o", tmp_path / "x.mp4")
    assert r.returncode == 2 and match in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.mp4").exists()


def test_bad_files_exit_2(inputs, tmp_path):
    d, _ = inputs
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    r = run("render", tmp_path / "bad.jpg", "--depth", d / "depth.npy", "--preset", "orbit", "-o", tmp_path / "x.mp4")
    assert r.returncode == 2 and "cannot read photo" in r.stderr
    np.save(tmp_path / "nan.npy", np.full((4, 4), np.nan, np.float32))
    r = run("render", d / "photo.png", "--depth", tmp_path / "nan.npy", "--preset", "orbit", "-o", tmp_path / "x.mp4")
    assert r.returncode == 2 and "NaN" in r.stderr


def test_presets_command_lists_presets():
    r = run("presets")
    assert r.returncode == 0 and "dolly-zoom" in r.stdout and "ken-burns" in r.stdout


def test_render_prompt_picks_the_move(inputs, tmp_path):
    d, _ = inputs
    r = run("render", d / "photo.png", "--depth", d / "depth.npy", "--prompt", "dramatic pull back",
            "--duration", "0.2", "--fps", "10", "-o", tmp_path / "t.mp4")
    assert r.returncode == 0, r.stderr
    assert "Dolly out" in r.stderr
    recipe = json.loads((tmp_path / "t.mp4.json").read_text())
    assert recipe["settings"]["preset"] == "dolly-out" and recipe["settings"]["strength"] > 0.5


def test_help_points_only_to_files_that_exist():
    """Every document or data file the --help texts name is in the repository (no stale DESIGN.md)."""
    import re

    from pipelines.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    text = parser.format_help() + "".join(p.format_help() for p in commands.values())
    text = re.sub(r"-\n\s*", "-", text)  # argparse wraps lines after hyphens
    refs = set(re.findall(r"(?:docs|presets|assets)/[\w./-]*\w|[\w./-]+\.md\b", text))
    assert "docs/camera-contract.md" in refs  # --camera-path points to the contract
    assert [r for r in sorted(refs) if not (ROOT / r).exists()] == []
    assert "DESIGN.md" not in text


def test_camera_path_without_poses_names_the_format_and_the_contract(tmp_path):
    bad = tmp_path / "path.json"
    bad.write_text('{"fov_deg": 60.0, "width": 8, "height": 8}')
    from pipelines.core.errors import InputError
    from pipelines.render import camera

    with pytest.raises(InputError, match=r"lacks poses.*\[\[16 floats\], \.\.\.\].*docs/camera-contract\.md"):
        camera.load_path(bad)
    assert (ROOT / "docs" / "camera-contract.md").is_file()


def test_usage_names_the_command_the_user_typed(monkeypatch):
    from pipelines.cli import build_parser

    monkeypatch.setattr(sys, "argv", ["/venv/bin/photo-studio", "--help"])
    assert build_parser().format_usage().startswith("usage: photo-studio ")
    monkeypatch.setattr(sys, "argv", ["/repo/pipelines/__main__.py", "--help"])
    assert build_parser().format_usage().startswith("usage: python -m pipelines ")
