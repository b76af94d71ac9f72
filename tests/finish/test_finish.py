"""Finishing: outputs probed with PyAV (streams, codecs, pixel format, durations, sizes), caption pixels
in place and in time, seamless loops, sound fitting, and one test per typed error."""
from __future__ import annotations

import argparse
import wave
from pathlib import Path

import numpy as np
import pytest
from studio_stubs import decode, probe

from pipelines.finish import captions
from pipelines.finish import compose as finish
from pipelines.finish import reframe
from pipelines.finish import sound
from pipelines.core.errors import InputError
from pipelines.core.schema import FinishSettings

FPS = 24
W, H = 320, 180


def moving_take(n: int = 24, w: int = W, h: int = H, closed: bool = False, step: float = 0.08) -> np.ndarray:
    """A smooth texture drifting sideways; with ``closed`` it drifts one full period, so the frame
    after the last is the first (like a closed camera path)."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    out = np.empty((n, h, w, 3), np.uint8)
    for i in range(n):
        ph = 2 * np.pi * i / n if closed else step * i
        r = 128 + 90 * np.sin(2 * np.pi * xs / w + ph)
        g = 128 + 90 * np.sin(2 * np.pi * ys / h - ph)
        b = 128 + 60 * np.cos(2 * np.pi * (xs + ys) / (w + h) + ph)
        out[i] = np.stack([r, g, b], -1).clip(0, 255).astype(np.uint8)
    return out


def decode_audio(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as c:
        chunks = [f.to_ndarray() for f in c.decode(audio=0)]
    return np.concatenate(chunks, axis=1)


def write_wav(path: Path, samples: np.ndarray, rate: int = 22050) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(1)
        wf.setsampwidth(2)
        wf.setframerate(rate)
        wf.writeframes(pcm.tobytes())
    return path


# ------------------------------------------------------------------------------------ formats
def test_mp4_with_caption_and_bed_plays_on_phones(tmp_path):
    frames = moving_take(48)
    out = finish.finish(frames, FinishSettings(caption="Hello", audio="sea"), tmp_path / "a.mp4", fps=FPS)
    info = probe(out)
    v, a = info["streams"]["video"], info["streams"]["audio"]
    assert (v["codec"], v["pix_fmt"], v["width"], v["height"]) == ("h264", "yuv420p", W, H)
    assert (a["codec"], a["rate"], a["channels"]) == ("aac", 48000, 2)
    assert len(decode(out)) == 48
    # AAC adds encoder padding; the sound must still match the video within one frame.
    assert abs(decode_audio(out).shape[1] / 48000 - 48 / FPS) <= 1 / FPS


def test_webm_is_vp9_opus_yuv420p_and_format_follows_extension(tmp_path):
    out = finish.finish(moving_take(24), FinishSettings(audio="rain"), tmp_path / "a.webm", fps=FPS)
    info = probe(out)
    assert info["format"].startswith("matroska")
    assert info["streams"]["video"]["codec"] == "vp9" and info["streams"]["video"]["pix_fmt"] == "yuv420p"
    assert info["streams"]["audio"]["codec"] == "opus"
    assert abs(len(decode(out)) - 24) <= 1


def test_gif_loops_forever_under_its_cap(tmp_path):
    out = finish.finish(moving_take(24), FinishSettings(format="gif", gif_width=160), tmp_path / "a", fps=FPS)
    assert out.suffix == ".gif"
    data = out.read_bytes()
    assert data[:6] == b"GIF89a" and b"NETSCAPE2.0" in data  # the looping extension
    info = probe(out)["streams"]["video"]
    assert (info["codec"], info["width"], info["height"]) == ("gif", 160, 90)
    # 1 s at 24 fps -> 20 GIF frames (GIF delays are in 1/100 s).
    assert len(decode(out)) == 20


def test_gif_over_its_cap_shrinks_with_a_notice(tmp_path):
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, (24, H, W, 3), dtype=np.uint8)  # incompressible
    notes: list[str] = []
    out = finish.finish(noisy, FinishSettings(gif_width=320, gif_max_mb=0.4), tmp_path / "n.gif", fps=FPS,
                        notices=notes)
    assert out.stat().st_size <= 0.4e6
    assert probe(out)["streams"]["video"]["width"] < 320
    assert any("shrunk" in n for n in notes)


# ------------------------------------------------------------------------------------ aspect
@pytest.mark.parametrize("aspect,ratio", [("9:16", 9 / 16), ("1:1", 1.0), ("4:5", 0.8), ("16:9", 16 / 9)])
def test_subject_crop_has_the_aspect_and_stays_in_frame(aspect, ratio):
    plan = reframe.plan_reframe((1920, 1080), aspect, "subject")
    w, h = plan.out_size
    assert w % 2 == 0 and h % 2 == 0
    assert abs(w / h - ratio) < 2 / min(w, h)
    x0, y0, x1, y1 = plan.box
    assert 0 <= x0 and x1 <= 1920 and 0 <= y0 and y1 <= 1080 and (x1 - x0, y1 - y0) == (w, h)


def test_subject_crop_follows_the_near_subject():
    depth = np.zeros((90, 160), np.float32)
    depth[30:60, 120:140] = 1.0  # a near object right of centre, around x = 130/160 of the width
    plan = reframe.plan_reframe((320, 180), "9:16", "subject", depth)
    x0, _, x1, _ = plan.box
    assert (x1 - x0) == 100
    assert x0 <= 260 <= x1 and abs((x0 + x1) / 2 - 260) <= 1


def test_blur_fill_keeps_the_whole_frame_in_the_middle(tmp_path):
    frames = moving_take(12)
    out = finish.finish(frames, FinishSettings(aspect="9:16", reframe="blur"), tmp_path / "b.mp4", fps=FPS)
    v = probe(out)["streams"]["video"]
    assert (v["width"], v["height"]) == (180, 320)  # the short side stays the short side
    got = decode(out)[0].astype(int)
    # The whole frame, scaled to 180 wide (180x102 rounds to 180x101), sits in the vertical middle.
    import cv2

    expect = cv2.resize(frames[0], (180, 101), interpolation=cv2.INTER_AREA).astype(int)
    y0 = (320 - 101) // 2
    assert np.abs(got[y0 + 4 : y0 + 97, 4:176] - expect[4:97, 4:176]).mean() < 6


# ------------------------------------------------------------------------------------ captions
def test_caption_pixels_in_region_and_time_window(tmp_path):
    grey = np.full((48, H, W, 3), 90, np.uint8)
    s = FinishSettings(caption="HELLO", caption_position="bottom", text_fade=0.0, text_start=0.5, text_end=1.5,
                       caption_size=0.12)
    out = finish.finish(grey, s, tmp_path / "c.mp4", fps=FPS)
    frames = decode(out).astype(int)
    diff = np.abs(frames - 90).max(axis=-1)  # per pixel, distance from the plain grey
    bottom, top = slice(H // 2, H), slice(0, H // 2)
    on = frames.shape[0] // 2  # t = 1.0 s
    assert (diff[on, bottom] > 60).sum() > 200  # white fill and black outline are there
    assert (diff[on, top] > 30).sum() == 0  # nothing drawn in the top half
    for k in (int(0.2 * FPS), int(1.8 * FPS)):  # outside the window: the plain grey
        assert (diff[k] > 30).sum() == 0


def test_caption_fades_in(tmp_path):
    grey = np.full((24, H, W, 3), 90, np.uint8)
    s = FinishSettings(caption="HELLO", text_fade=0.5, caption_size=0.12)
    frames = decode(finish.finish(grey, s, tmp_path / "f.mp4", fps=FPS)).astype(int)
    ink = [(np.abs(f - 90).max(axis=-1) > 60).sum() for f in frames[:13]]
    assert ink[0] == 0 and ink[6] > 0 and ink[12] >= ink[6]


def test_builtin_font_has_accents_and_lacks_cjk():
    font = captions.builtin_font()
    assert captions.missing_glyphs(font, "Café Ωмега naïve") == []
    assert captions.missing_glyphs(font, "a漢字b") == ["漢", "字"]


def test_builtin_font_is_the_shipped_plex_sans_under_its_licence():
    from PIL import ImageFont

    from pipelines.core import paths

    font = captions.builtin_font()
    assert font == str(paths.ASSETS / "fonts" / "IBMPlexSans-Bold.woff2")
    assert ImageFont.truetype(font, 20).getname() == ("IBM Plex Sans", "Bold")
    licence = (paths.ASSETS / "fonts" / "OFL.txt").read_text()
    assert "IBM Corp." in licence and "SIL OPEN FONT LICENSE Version 1.1" in licence


def test_cjk_without_a_font_that_has_it_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(captions, "SYSTEM_FALLBACKS", ())
    with pytest.raises(InputError, match="--font"):
        finish.finish(moving_take(6), FinishSettings(caption="東京の夜"), tmp_path / "x.mp4", fps=FPS)
    assert not (tmp_path / "x.mp4").exists()


@pytest.mark.skipif(not Path(captions.SYSTEM_FALLBACKS[1]).is_file(), reason="no CJK font on this machine")
def test_cjk_renders_with_a_cjk_font():
    font = captions.pick_font("東京の夜", captions.SYSTEM_FALLBACKS[1])
    ov = captions.render_text("東京の夜", (W, H), size=0.15, position="centre", colour="white",
                              stroke_colour="black", stroke=0.0, shadow=0.0, font=font)
    # Four distinct glyphs, not four copies of the same box.
    a = ov.alpha[..., 0] > 0.5
    cols = np.array_split(a[:, a.any(0)], 4, axis=1)
    assert len({c.tobytes() for c in cols}) == 4


# ------------------------------------------------------------------------------------ loops
def _consecutive_diffs(frames: np.ndarray) -> tuple[float, list[float]]:
    f = frames.astype(np.float32)
    pairs = [np.abs(f[i + 1] - f[i]).mean() for i in range(len(f) - 1)]
    return float(np.abs(f[0] - f[-1]).mean()), pairs


@pytest.mark.parametrize("closed", [True, False])
def test_seamless_loop_has_no_jump(tmp_path, closed):
    frames = moving_take(36, closed=closed)
    s = FinishSettings(loop="seamless", caption="loop", audio="wind")
    out = finish.finish(frames, s, tmp_path / "l.mp4", fps=FPS, loop_closed=closed)
    got = decode(out)
    assert len(got) == (36 if closed else 36 - 12)
    wrap, pairs = _consecutive_diffs(got)
    assert wrap <= max(pairs) * 1.05
    # No colour drift: the mean colour of the last frame is as close to the first as neighbours are.
    drift = np.abs(got[-1].mean((0, 1)) - got[0].mean((0, 1))).max()
    assert drift <= max(np.abs(got[i + 1].mean((0, 1)) - got[i].mean((0, 1))).max() for i in range(len(got) - 1)) + 0.5


def test_take_mp4_of_a_closed_loop_has_no_seam_flicker(tmp_path, astronaut):
    """A loop moving 0.6 px per frame: plain x264 makes the wrap from the last frame to the first the
    largest jump in the video; the loop's zones bring it under the largest step between neighbours."""
    import cv2

    from pipelines.render.video import read_video, write_video

    img = cv2.resize(astronaut, (240, 240), interpolation=cv2.INTER_AREA).astype(np.float32)
    n = 36
    frames = []
    for k in range(n):
        shift = np.float32([[1, 0, 0.6 * np.cos(2 * np.pi * k / n)], [0, 1, 0.6 * np.sin(2 * np.pi * k / n)]])
        frames.append(np.clip(cv2.warpAffine(img, shift, (240, 240), borderMode=cv2.BORDER_REFLECT), 0, 255)
                      .astype(np.uint8))

    def seam(loop_frames):
        got = read_video(write_video(frames, tmp_path / f"{loop_frames}.mp4", 12, loop_frames=loop_frames))[0]
        blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 1.5) for f in got.astype(np.float32)])
        return _consecutive_diffs(blurred)

    wrap, pairs = seam(n)
    plain_wrap, plain_pairs = seam(None)
    assert plain_wrap > max(plain_pairs)  # the flicker this guards against
    assert wrap <= max(pairs) and wrap < 0.6 * plain_wrap


def test_finish_take_reads_the_loop_and_frame_rate_beside_the_take(tmp_path):
    """A closed take's recipe says it loops: the seamless loop keeps every frame (no crossfade). Without
    a readable recipe the same file is an open take: the loop crossfades its last half second away."""
    import json

    from pipelines.render.video import write_video

    take = write_video(moving_take(36, closed=True), tmp_path / "take.mp4", FPS)
    recipe = tmp_path / "take.mp4.json"
    recipe.write_text(json.dumps({"settings": {"fps": FPS}, "camera_path": {"loop": True}}))
    notes: list[str] = []
    out = finish.finish_take(take, FinishSettings(loop="seamless"), tmp_path / "closed.mp4", notices=notes)
    assert len(decode(out)) == 36 and not any("recipe" in n for n in notes)
    recipe.write_text("[not, a recipe")
    out = finish.finish_take(take, FinishSettings(loop="seamless"), tmp_path / "open.mp4", notices=notes)
    assert len(decode(out)) == 36 - 12
    assert "take.mp4.json is not a take recipe; take.mp4 was finished as a plain video" in notes


def test_boomerang_plays_back_without_repeating_the_turn(tmp_path):
    frames = moving_take(12, step=0.3)  # steps well above the codec's noise (about 1.5 levels)
    out = finish.finish(frames, FinishSettings(loop="boomerang"), tmp_path / "b.mp4", fps=FPS)
    got = decode(out).astype(int)
    assert len(got) == 2 * 12 - 2
    assert np.abs(got[12 + 2] - frames[12 - 4]).mean() < 3  # out frame 14 is source frame 8
    wrap, pairs = _consecutive_diffs(got)
    assert wrap <= max(pairs) * 1.05


def test_take_file_is_read_and_kept(tmp_path):
    take = finish.finish(moving_take(24), FinishSettings(), tmp_path / "take.mp4", fps=FPS)
    before = take.read_bytes()
    with pytest.warns(UserWarning, match="no depth map"):  # notices become warnings without a list
        out = finish.finish(take, FinishSettings(loop="boomerang", aspect="1:1"), tmp_path / "fin.mp4")
    assert probe(out)["streams"]["video"]["width"] == 180 and len(decode(out)) == 46
    assert take.read_bytes() == before


# ------------------------------------------------------------------------------------ sound
def test_beds_are_seeded_periodic_and_at_minus_6_dbfs():
    a = sound.synth_bed("wind", 2.0, seed=1)
    assert a.shape == (96000, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(a, sound.synth_bed("wind", 2.0, seed=1))
    assert not np.array_equal(a, sound.synth_bed("wind", 2.0, seed=2))
    assert abs(np.abs(a).max() - 0.5) < 1e-6
    for name in ("wind", "rain", "sea", "pad"):
        x = sound.synth_bed(name, 1.0, seed=0)
        steps = np.abs(np.diff(x, axis=0)).max(axis=1)
        assert np.abs(x[0] - x[-1]).max() <= np.quantile(steps, 0.9999) + 1e-3  # loops without a click


def test_own_file_is_looped_to_length_with_fades(tmp_path):
    t = np.arange(22050) / 22050
    wav = write_wav(tmp_path / "tone.wav", 0.5 * np.sin(2 * np.pi * 440 * t))  # 1 s
    x = sound.sound_for(str(wav), 2.5, volume=1.0, fade_in=0.2, fade_out=0.2)
    assert x.shape == (120000, 2)
    rms = [float(np.sqrt((x[i : i + 4800] ** 2).mean())) for i in range(0, 120000, 4800)]
    assert rms[0] < 0.2 and min(rms[4:20]) > 0.3 and rms[-1] < 0.2  # faded ends, no gap at the seams


def test_own_file_reaches_the_video(tmp_path):
    t = np.arange(22050) / 22050
    wav = write_wav(tmp_path / "tone.wav", 0.5 * np.sin(2 * np.pi * 440 * t))
    out = finish.finish(moving_take(48), FinishSettings(audio=str(wav), audio_fade_in=0, audio_fade_out=0),
                        tmp_path / "s.mp4", fps=FPS)
    a = decode_audio(out)
    assert abs(a.shape[1] / 48000 - 2.0) <= 1 / FPS
    assert np.sqrt((a[:, 48000:90000] ** 2).mean()) > 0.25  # the looped second half is not silent


def test_long_file_is_trimmed_with_a_notice(tmp_path, monkeypatch):
    monkeypatch.setattr(sound, "LONG_FILE_S", 0.5)
    wav = write_wav(tmp_path / "long.wav", 0.3 * np.sin(np.arange(44100) * 0.1))
    notes: list[str] = []
    x = sound.load_audio(wav, 0.25, notes)
    assert x.shape == (12000, 2) and any("first 0.2" in n or "first 0.3" in n for n in notes)


# ------------------------------------------------------------------------------------ CLI
def test_cli_options_build_settings():
    p = argparse.ArgumentParser()
    finish.add_cli_options(p)
    s = finish.settings_from_args(p.parse_args(["--caption", "Hi", "--aspect", "9:16", "--volume", "0.5",
                                                "--audio", "pad", "--loop", "boomerang"]))
    assert (s.caption, s.aspect, s.volume, s.audio, s.loop) == ("Hi", "9:16", 0.5, "pad", "boomerang")
    assert finish.settings_from_args(p.parse_args([])) is None
    assert finish.settings_from_args(p.parse_args([]), out_path="x.gif") == FinishSettings()
    assert finish.settings_from_args(p.parse_args(["--audio", "none"])).audio is None


# ------------------------------------------------------------------------------------ errors
def test_error_corrupt_audio(tmp_path):
    bad = tmp_path / "broken.mp3"
    bad.write_bytes(b"ID3" + np.random.default_rng(0).bytes(5000))
    with pytest.raises(InputError, match="broken.mp3"):
        sound.load_audio(bad, 1.0)


def test_error_not_audio(tmp_path):
    take = finish.finish(moving_take(6), FinishSettings(), tmp_path / "video.mp4", fps=FPS)
    with pytest.raises(InputError, match="no audio stream"):
        sound.load_audio(take, 1.0)


def test_error_silent_audio(tmp_path):
    wav = write_wav(tmp_path / "quiet.wav", np.zeros(22050))
    with pytest.raises(InputError, match="silent"):
        sound.load_audio(wav, 1.0)


def test_error_missing_audio_leaves_no_output(tmp_path):
    with pytest.raises(InputError, match="not found"):
        finish.finish(moving_take(6), FinishSettings(audio="nope.wav"), tmp_path / "o.mp4", fps=FPS)
    assert list(tmp_path.iterdir()) == []


def test_error_unknown_bed_name_is_read_as_file(tmp_path):
    with pytest.raises(InputError, match="wind, rain"):
        sound.sound_for("thunder", 1.0)


def test_error_empty_caption():
    from pipelines.core.schema import validate

    with pytest.raises(InputError, match="caption"):
        validate(FinishSettings, caption="   ")


def test_error_5000_character_caption_is_one_short_line():
    p = argparse.ArgumentParser()
    finish.add_cli_options(p)
    with pytest.raises(InputError, match="5000 characters") as exc:
        finish.settings_from_args(p.parse_args(["--caption", "x" * 5000]))
    assert len(str(exc.value)) < 200


def test_error_caption_that_cannot_fit(tmp_path):
    s = FinishSettings(caption="word " * 99, caption_size=0.2)
    with pytest.raises(InputError, match="does not fit"):
        finish.finish(moving_take(6), s, tmp_path / "o.mp4", fps=FPS)


def test_error_unknown_format(tmp_path):
    with pytest.raises(InputError, match=r"\.avi"):
        finish.finish(moving_take(6), FinishSettings(), tmp_path / "o.avi", fps=FPS)


def test_error_format_disagrees_with_extension(tmp_path):
    with pytest.raises(InputError, match="disagrees"):
        finish.finish(moving_take(6), FinishSettings(format="webm"), tmp_path / "o.mp4", fps=FPS)


def test_error_output_is_the_take(tmp_path):
    take = finish.finish(moving_take(6), FinishSettings(), tmp_path / "take.mp4", fps=FPS)
    before = take.read_bytes()
    with pytest.raises(InputError, match="take itself"):
        finish.finish(take, FinishSettings(caption="x"), take)
    assert take.read_bytes() == before


def test_error_text_starts_after_the_end(tmp_path):
    with pytest.raises(InputError, match="text starts"):
        finish.finish(moving_take(6), FinishSettings(caption="x", text_start=5), tmp_path / "o.mp4", fps=FPS)


def test_error_frames_need_fps(tmp_path):
    with pytest.raises(InputError, match="fps"):
        finish.finish(moving_take(6), FinishSettings(), tmp_path / "o.mp4")


# ------------------------------------------------------------------------------------ render CLI
def _cli(*args):
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run([sys.executable, "-m", "pipelines", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=root, timeout=300)


@pytest.fixture(scope="module")
def photo_and_depth(tmp_path_factory):
    from PIL import Image
    from skimage import data

    d = tmp_path_factory.mktemp("finish-cli")
    Image.fromarray(data.astronaut()[::4, ::4]).save(d / "photo.png")  # 128 x 128
    z = np.full((128, 128), 4.0, np.float32)
    z[20:128, 30:100] = 1.5
    np.save(d / "depth.npy", z)
    return d


def test_render_cli_finishes_to_gif_and_keeps_the_take(photo_and_depth, tmp_path):
    d = photo_and_depth
    r = _cli("render", d / "photo.png", "--depth", d / "depth.npy", "--preset", "orbit", "--duration", "0.5",
             "--fps", "20", "--caption", "Hi", "--aspect", "9:16", "-o", tmp_path / "post.gif")
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()) == tmp_path / "post.gif"
    v = probe(tmp_path / "post.gif")["streams"]["video"]
    assert v["codec"] == "gif" and abs(v["width"] / v["height"] - 9 / 16) < 0.05
    assert probe(tmp_path / "post.take.mp4")["streams"]["video"]["width"] == 128  # the take is kept


def test_render_cli_refuses_bad_audio_before_rendering(photo_and_depth, tmp_path):
    d = photo_and_depth
    (tmp_path / "song.mp3").write_text("not audio at all")
    r = _cli("render", d / "photo.png", "--depth", d / "depth.npy", "--preset", "orbit", "--duration", "0.5",
             "--audio", tmp_path / "song.mp3", "-o", tmp_path / "post.mp4")
    assert r.returncode == 2 and "song.mp3" in r.stderr
    assert not (tmp_path / "post.take.mp4").exists() and not (tmp_path / "post.mp4").exists()


@pytest.mark.parametrize("ext,args", [("mp3", ["-c:a", "libmp3lame"]), ("m4a", ["-c:a", "aac"]),
                                      ("ogg", ["-c:a", "libvorbis"])])
def test_own_file_formats_decode(tmp_path, ext, args):
    import subprocess

    import imageio_ffmpeg

    f = tmp_path / f"tone.{ext}"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=0.6", *args, str(f)], check=True)
    x = sound.load_audio(f, 1.5)
    assert x.shape == (72000, 2)
    assert np.sqrt((x[40000:70000] ** 2).mean()) > 0.05  # looped past the file's 0.6 s


def test_caption_xy_position_centres_the_block():
    ov = captions.render_text("Hi", (W, H), size=0.1, position="0.25,0.5", colour="white", stroke_colour="black",
                              stroke=0.0, shadow=0.0, font=captions.builtin_font())
    x0, y0, x1, y1 = ov.box
    assert abs((x0 + x1) / 2 - 0.25 * W) <= 1 and abs((y0 + y1) / 2 - 0.5 * H) <= 1


def test_odd_sizes_become_even_for_yuv420p(tmp_path):
    out = finish.finish(moving_take(6, w=321, h=181), FinishSettings(), tmp_path / "o.mp4", fps=FPS)
    v = probe(out)["streams"]["video"]
    assert (v["width"], v["height"], v["pix_fmt"]) == (320, 180, "yuv420p")
