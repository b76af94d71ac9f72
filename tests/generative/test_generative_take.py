"""Photo to finished MP4 through the generative engine, with a tiny Wan VACE injected; and the honest
fallback to the parallax take when the engine cannot run here."""
import json

import numpy as np
import pytest

from pipelines.generative import engine as generative
import tiny_models as gt
from pipelines.depth import DepthMap
from pipelines.generative.redraw import render_generative_take
from pipelines.core.photo import load_image
from pipelines.core.schema import GenerativeSettings, RenderSettings
from pipelines.render.video import read_video

SIZE = 32


@pytest.fixture(scope="module")
def photo_and_depth(astronaut):
    import cv2

    photo = load_image(cv2.resize(astronaut, (SIZE, SIZE), interpolation=cv2.INTER_AREA))
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    z = (2.0 + 2.0 * yy / (SIZE - 1)).astype(np.float32)  # a floor: near at the bottom, far at the top
    return photo, DepthMap(z)


def _settings():
    return RenderSettings(preset="dolly-in", strength=0.5, seed=3, duration=1.0, fps=9)


def test_photo_to_mp4_through_wan_vace(photo_and_depth, tmp_path):
    photo, depth = photo_and_depth
    gen = GenerativeSettings(engine="wan-vace", prompt="she waves", num_inference_steps=2)
    events = []
    take = render_generative_take(photo, depth, _settings(), gen, video=tmp_path / "take.mp4",
                                  pipe=gt.tiny_pipeline("wan-vace"), progress=lambda f, m: events.append((f, m)))
    frames, fps = read_video(take.video)
    assert frames.shape == (9, SIZE, SIZE, 3) and fps == pytest.approx(9)
    recipe = json.loads((tmp_path / "take.mp4.json").read_text())
    assert recipe["engine"] == "wan-vace"
    assert recipe["generative"]["prompt"] == "she waves" and recipe["generative_ran"]["seed"] == 3
    assert any("step 2/2" in m for _, m in events) and events[-1][0] == 1.0


def test_unavailable_engine_delivers_the_parallax_take_with_the_reason(photo_and_depth, tmp_path, monkeypatch):
    monkeypatch.setattr(generative, "default_device", lambda: "cpu")
    photo, depth = photo_and_depth
    take = render_generative_take(photo, depth, _settings(), GenerativeSettings(engine="wan-vace"),
                                  video=tmp_path / "take.mp4")
    assert take.recipe.engine == "parallax" and take.recipe.generative_ran["requested_engine"] == "wan-vace"
    assert any("GPU" in n and "parallax take was delivered" in n for n in take.notices)
    frames, _ = read_video(take.video)
    assert frames.shape == (9, SIZE, SIZE, 3)


def test_redraw_without_depth_is_input_error(photo_and_depth):
    from pipelines.core.errors import InputError
    from pipelines.generative.redraw import redraw
    from pipelines.render.parallax import Frames

    frames = Frames(images=np.zeros((9, SIZE, SIZE, 3), np.uint8))
    with pytest.raises(InputError, match="holes=True, depth=True"):
        redraw(frames, photo_and_depth[0].pixels, GenerativeSettings(), seed=0, strength=0.5)


def test_cli_engine_option_falls_back_with_notice_and_rejects_unknown(astronaut, tmp_path, monkeypatch, capsys):
    from PIL import Image

    from pipelines import cli

    monkeypatch.setattr(generative, "default_device", lambda: "cpu")
    Image.fromarray(astronaut[::16, ::16]).save(tmp_path / "p.png")
    Image.fromarray(np.tile(np.linspace(0, 255, 32, dtype=np.uint8)[:, None], (1, 32))).save(tmp_path / "d.png")
    common = [str(tmp_path / "p.png"), "--depth", str(tmp_path / "d.png"), "--preset", "dolly-in",
              "--duration", "0.5", "--fps", "8"]
    assert cli.main(["render", *common, "--engine", "wan-vace", "--prompt", "hair moves",
                     "-o", str(tmp_path / "t.mp4")]) == 0
    recipe = json.loads((tmp_path / "t.mp4.json").read_text())
    assert recipe["engine"] == "parallax" and recipe["generative"]["prompt"] == "hair moves"
    assert "parallax take was delivered" in capsys.readouterr().err
    assert cli.main(["render", *common, "--engine", "sora", "-o", str(tmp_path / "u.mp4")]) == 2
    assert "'sora' is unknown" in capsys.readouterr().err
