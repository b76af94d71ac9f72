"""Encoding: frames reach ffmpeg as yuv420p converted here (BT.601 limited range, 2x2 chroma means), the
x264 options go in one -x264-params, and a video decodes back to the frames it was given."""
import subprocess

import cv2
import numpy as np
import pytest

from pipelines.core.errors import InputError
from pipelines.render import video
from pipelines.render.video import read_video, rgb_to_yuv420p, write_video


def _exact_yuv420p(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BT.601 limited range in float: Y per pixel, Cb and Cr of each 2x2 block's mean colour."""
    f = rgb.astype(np.float64)
    y = 16 + f @ np.array([65.481, 128.553, 24.966]) / 255
    h, w = rgb.shape[:2]
    mean = f.reshape(h // 2, 2, w // 2, 2, 3).mean((1, 3))
    cb = 128 + mean @ np.array([-37.797, -74.203, 112.0]) / 255
    cr = 128 + mean @ np.array([112.0, -93.786, -18.214]) / 255
    return y, cb, cr


def _planes(i420: np.ndarray, w: int, h: int):
    flat = i420.reshape(-1).astype(np.float64)
    q = (h // 2) * (w // 2)
    return (flat[:h * w].reshape(h, w), flat[h * w:h * w + q].reshape(h // 2, w // 2),
            flat[h * w + q:].reshape(h // 2, w // 2))


def test_yuv420p_is_bt601_limited_range_with_chroma_from_2x2_means():
    rgb = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    out = rgb_to_yuv420p(rgb)
    assert out.shape == (72, 64) and out.dtype == np.uint8
    for got, want in zip(_planes(out, 64, 48), _exact_yuv420p(rgb)):
        assert np.abs(got - want).max() <= 1.0
    white, black = rgb_to_yuv420p(np.full((2, 2, 3), 255, np.uint8)), rgb_to_yuv420p(np.zeros((2, 2, 3), np.uint8))
    assert white.reshape(-1).tolist() == [235] * 4 + [128, 128] and black.reshape(-1).tolist() == [16] * 4 + [128, 128]


def test_yuv420p_matches_ffmpegs_own_conversion():
    """Luma as ffmpeg converts it (within a level); on a saturated red/blue/green edge the chroma keeps
    the colours at least as well as ffmpeg's (OpenCV's I420 conversion alone, one pixel of four, does not)."""
    import imageio_ffmpeg

    h, w = 64, 96
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[:, : w // 2 + 1] = (255, 0, 0)
    rgb[:, w // 2 + 1:] = (0, 0, 255)
    rgb[21:44, 31:60] = (0, 255, 0)  # odd edges: they cut through 2x2 blocks
    ffmpeg = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "rawvideo",
                             "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-i", "-", "-pix_fmt", "yuv420p", "-f",
                             "rawvideo", "-"], input=rgb.tobytes(), capture_output=True, check=True).stdout
    ffmpeg = np.frombuffer(ffmpeg, np.uint8).reshape(h * 3 // 2, w)
    ours = rgb_to_yuv420p(rgb)
    assert np.abs(_planes(ours, w, h)[0] - _planes(ffmpeg, w, h)[0]).max() <= 1

    def chroma_error(i420):  # chroma upsampled as a player does (bilinear), against the full-size chroma
        f = rgb.astype(np.float64)
        want = np.stack([128 + f @ np.array([-37.797, -74.203, 112.0]) / 255,
                         128 + f @ np.array([112.0, -93.786, -18.214]) / 255], -1)
        _, cb, cr = _planes(i420, w, h)
        got = cv2.resize(np.dstack([cb, cr]), (w, h), interpolation=cv2.INTER_LINEAR)
        return np.abs(got - want).mean()

    assert chroma_error(ours) <= chroma_error(ffmpeg)
    assert chroma_error(ours) < chroma_error(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420))


def test_mp4_decodes_back_to_the_frames_it_was_given(tmp_path, astronaut):
    frames = [np.ascontiguousarray(np.roll(astronaut[:256, :320], 3 * k, axis=1)) for k in range(6)]
    got, fps = read_video(write_video(frames, tmp_path / "t.mp4", 12))
    assert got.shape == (6, 256, 320, 3) and fps == 12
    for a, b in zip(got, frames):
        assert 10 * np.log10(255 ** 2 / np.mean((a.astype(np.float64) - b) ** 2)) > 34


def test_webm_decodes_back_too(tmp_path, astronaut):
    frame = np.ascontiguousarray(astronaut[:128, :192])
    got, _ = read_video(write_video([frame] * 3, tmp_path / "t.webm", 12))
    assert got.shape == (3, 128, 192, 3) and np.abs(got[0].astype(int) - frame).mean() < 3


def test_x264_options_and_the_loop_seam_zones_go_in_one_option():
    params = video._output_params(".mp4", 48)
    assert params.count("-x264-params") == 1
    options = params[params.index("-x264-params") + 1].split(":")
    assert options[:len(video.X264_PARAMS)] == list(video.X264_PARAMS)
    assert options[-1] == video.seam_zones(48) and options[-1].startswith("zones=0,0,b=6")
    assert video._output_params(".mp4", None).count("-x264-params") == 1
    assert "-x264-params" not in video._output_params(".webm", 48)


@pytest.mark.parametrize("frame, match", [
    (np.zeros((8, 8, 4), np.uint8), r"\(H, W, 3\) uint8 RGB, got \(8, 8, 4\)"),
    (np.zeros((8, 8, 3), np.float32), r"\(H, W, 3\) uint8 RGB, got \(8, 8, 3\) float32"),
    (np.zeros((8, 7, 3), np.uint8), "7x8 must be even"),
])
def test_frames_that_cannot_be_encoded_are_refused(tmp_path, frame, match):
    with pytest.raises(InputError, match=match):
        write_video([frame], tmp_path / "bad.mp4", 12)
    assert not list(tmp_path.iterdir())


def test_a_frame_of_another_size_midway_is_refused_and_nothing_is_left(tmp_path):
    frames = [np.zeros((8, 8, 3), np.uint8), np.zeros((10, 8, 3), np.uint8)]
    with pytest.raises(InputError, match="frame size changed from 8x8 to 8x10"):
        write_video(frames, tmp_path / "bad.mp4", 12)
    assert not list(tmp_path.iterdir())


def test_the_encoder_is_named_so_imageio_ffmpeg_does_not_probe_for_one(tmp_path, monkeypatch):
    import imageio_ffmpeg._io

    def probe():
        raise AssertionError("probed ffmpeg for an H.264 encoder (two ffmpeg runs before the first frame)")

    monkeypatch.setattr(imageio_ffmpeg._io, "get_first_available_h264_encoder", probe)
    for ext in (".mp4", ".webm"):
        assert write_video([np.zeros((16, 16, 3), np.uint8)] * 2, tmp_path / f"t{ext}", 12).is_file()
