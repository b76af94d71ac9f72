"""The preview encode: a video cut into segments while it encodes (to watch it while it renders) is the same video
as the MP4 written beside them, as close to the frames as the quality encode; the recipe records which encode
a file has; unknown encodes are clear errors."""
import numpy as np
import pytest
from studio_stubs import decode

from pipelines.core import recipe as recipes
from pipelines.core.errors import InputError
from pipelines.core.photo import Photo
from pipelines.core.schema import RenderSettings
from pipelines.depth import DepthMap
from pipelines.render.take import render_take
from pipelines.render.video import SEGMENT_SECONDS, write_video
from pipelines.studio.live import Segments


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    if mse == 0:
        return float("inf")
    return 10 * np.log10(255.0 ** 2 / mse)


@pytest.fixture(scope="module")
def frames(coffee):
    crop = coffee[100:244, 200:456]  # 256 x 144
    return np.stack([np.roll(crop, 2 * k, axis=1) for k in range(24)])


@pytest.fixture(scope="module")
def small(coffee):
    photo = Photo(np.ascontiguousarray(coffee[::4, ::4][:100, :150]))
    depth = DepthMap.from_relative(np.repeat(np.linspace(0, 1, 100, dtype=np.float32)[:, None], 150, axis=1))
    return photo, depth


def test_a_streamed_preview_and_the_quality_encode_are_both_close_to_the_frames(frames, tmp_path):
    preview = write_video(frames, tmp_path / "preview.mp4", 12, encode="preview", segments=tmp_path / "live")
    quality = write_video(frames, tmp_path / "quality.mp4", 12, encode="quality")
    assert preview.read_bytes() != quality.read_bytes()
    got_p, got_q = decode(preview), decode(quality)
    assert got_p.shape == got_q.shape == frames.shape
    # RGB PSNR is bounded by yuv420p's halved chroma (about 36-37 dB on this photo)
    assert psnr(got_q, frames) > 34
    assert psnr(got_p, frames) > psnr(got_q, frames) - 1.0  # no worse to look at


def test_segments_are_the_video_cut_at_keyframes(frames, tmp_path):
    fps = 12
    video = write_video(frames, tmp_path / "take.mp4", fps, encode="preview", segments=tmp_path / "live")
    segs = Segments(tmp_path / "live").new()
    per = round(SEGMENT_SECONDS * fps)
    assert len(segs) == len(frames) // per == 4
    assert [s.index for s in segs] == [0, 1, 2, 3]
    assert sum(s.seconds for s in segs) == pytest.approx(len(frames) / fps, abs=1e-3)
    assert Segments(tmp_path / "live").new()[0].path == segs[0].path and not _new_again(segs, tmp_path)
    # One encode fed both: the segments, played one after the other, are the MP4's frames exactly.
    whole = tmp_path / "all.ts"
    whole.write_bytes(b"".join(s.path.read_bytes() for s in segs))
    assert np.array_equal(decode(whole), decode(video))
    for s in segs:  # each starts on a keyframe: it plays after the ones before it, as soon as it closes
        assert decode(s.path).shape[0] == per


def _new_again(segs, tmp_path) -> list:
    watcher = Segments(tmp_path / "live")
    watcher.new()
    return watcher.new()  # each segment is handed out once


def test_unknown_encodes_and_segments_of_a_webm_are_refused(frames, tmp_path):
    with pytest.raises(InputError, match=r"encode must be one of quality, preview, got 'fast'"):
        write_video(frames, tmp_path / "x.mp4", 12, encode="fast")
    with pytest.raises(InputError, match="segments are written beside a preview .mp4, not a preview .webm"):
        write_video(frames, tmp_path / "x.webm", 12, encode="preview", segments=tmp_path / "live")
    with pytest.raises(InputError, match="segments are written beside a preview .mp4, not a quality .mp4"):
        write_video(frames, tmp_path / "x.mp4", 12, segments=tmp_path / "live")


def test_the_recipe_records_the_encode(small, tmp_path):
    photo, depth = small
    s = RenderSettings(preset="orbit", duration=1.0, fps=8)
    quality = render_take(photo, depth, s, video=tmp_path / "q.mp4")
    assert quality.recipe.encode == "quality" and recipes.load(tmp_path / "q.mp4.json").encode == "quality"
    streamed = render_take(photo, depth, s, video=tmp_path / "s.mp4", segments=tmp_path / "seg")
    assert streamed.recipe.encode == "preview" and recipes.load(tmp_path / "s.mp4.json").encode == "preview"
    assert len(Segments(tmp_path / "seg").new()) == 2
    # The same frames whichever the encode: the two lossy copies agree to within their coding error
    assert psnr(decode(streamed.video), decode(quality.video)) > 32
    assert render_take(photo, depth, s, frames_dir=tmp_path / "png").recipe.encode is None  # no video
