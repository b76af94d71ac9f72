"""Finishing a kept take for posting: captions, sound, social aspect ratios, loops, MP4/WebM/GIF.

moviepy assembles and writes the video: the frames come from a ``VideoClip`` whose frame function
reframes, loops and draws the text with numpy (text is rendered once; a per-frame moviepy composite
of a 1080p take is several times slower than real time on two cores), and the sound is an
``AudioArrayClip``. GIFs go straight to ffmpeg's two-pass palette filter, which gives a far better
palette (and file size) than moviepy's per-frame GIF writer.

Python: ``finish(take.video, FinishSettings(caption="Hello", audio="sea", aspect="9:16"), "out.mp4")``.
CLI: ``python -m pipelines render PHOTO ... --caption TEXT --audio FILE|BED --aspect 9:16 -o out.webm``.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Callable, Optional, Union

import numpy as np

from pipelines.finish import captions
from pipelines.finish import reframe
from pipelines.core import schema
from pipelines.finish import sound
from pipelines.core.errors import InputError
from pipelines.core.schema import FinishSettings
from pipelines.finish.sound import SOUND_BEDS  # noqa: F401  (re-exported: finish.SOUND_BEDS)
from pipelines.render.video import loop_seam_params

FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".webm": "webm", ".gif": "gif"}
#: Frames of a non-closed take crossfaded into its start to make a seamless loop, in seconds.
LOOP_CROSSFADE_S = 0.5
#: Frames kept in memory (boomerang, loop crossfade) may not exceed this.
MAX_KEPT_BYTES = 3 * 1024**3
#: GIF frame delays are in 1/100 s, so only these rates play back exactly.
GIF_RATES = (10, 20, 25, 50)
#: x264/VP9 settings: visually clean at real-time speed on two cores.
MP4_PARAMS = ["-crf", "20", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]
WEBM_PARAMS = ["-crf", "32", "-b:v", "0", "-pix_fmt", "yuv420p", "-deadline", "realtime", "-cpu-used", "8",
               "-row-mt", "1"]
#: Longest text accepted (the schema's), checked on the command line with a message in its own words.
MAX_TEXT_CHARS = {name: schema.bound(FinishSettings, name, "max_length") for name in ("caption", "title")}

Progress = Callable[[float, str], None]
VideoSource = Union[str, os.PathLike, np.ndarray]


# --------------------------------------------------------------------------------------------- CLI
def add_cli_options(parser: argparse.ArgumentParser) -> None:
    """Add the finishing options (--caption, --title, --audio FILE|BED, --aspect, --format, --loop, ...)
    to ``parser``, read from :class:`FinishSettings`."""
    group = parser.add_argument_group("finishing (captions, sound, aspect, format, loop)")
    schema.add_options(group, FinishSettings)


def settings_from_args(args: argparse.Namespace, out_path: Optional[str | os.PathLike] = None) -> Optional[FinishSettings]:
    """The :class:`FinishSettings` the user asked for on the command line, or None when no finishing
    option was given and ``out_path`` (the ``-o`` file, if known) is not a GIF. The text's fonts and
    the audio file are checked here, so a bad one fails before anything is rendered."""
    values = schema.picked(args, FinishSettings)
    for name, limit in MAX_TEXT_CHARS.items():
        text = values.get(name)
        if text is not None and len(text) > limit:
            raise InputError(f"--{name} is {len(text)} characters; the limit is {limit}. Shorten it")
    # render writes MP4 and WebM itself; a GIF needs the finishing stage even with no other option.
    needs_format = out_path is not None and Path(out_path).suffix.lower() == ".gif"
    if not values and not needs_format:
        return None
    if values.get("audio", "").lower() == "none":
        values["audio"] = None
    settings = schema.validate(FinishSettings, **values)
    preflight(settings, out_path)
    return settings


def preflight(settings: FinishSettings, out_path: Optional[str | os.PathLike] = None) -> None:
    """Cheap checks of what :func:`finish` would otherwise find only after a render: the output's
    format, a font for every character of the text, and a readable, non-silent audio file."""
    if out_path is not None:
        _resolve_format(settings, Path(out_path))
    for text in (settings.title, settings.caption):
        if text is not None:
            captions.pick_font(text, settings.font)
    if settings.audio is not None and settings.audio.strip().lower() not in SOUND_BEDS + ("none",):
        sound.load_audio(settings.audio, 0.5)


# ------------------------------------------------------------------------------------------ sources
class _Source:
    """A take's frames by index, after reframing. A file is decoded forward once (PyAV); frames the
    timeline needs again later are kept; going backwards otherwise restarts the decoder."""

    def __init__(self, video: VideoSource, fps: Optional[float]):
        self._array = None
        self._path = None
        if isinstance(video, np.ndarray):
            if video.dtype != np.uint8 or video.ndim != 4 or video.shape[-1] != 3 or video.shape[0] < 1:
                raise InputError(f"frames must be a (T, H, W, 3) uint8 array, got {video.dtype} {video.shape}")
            if fps is None:
                raise InputError("fps is required when finishing an array of frames")
            self._array = video
            self.length, self.height, self.width = video.shape[:3]
            self.fps = float(fps)
        else:
            self._path = Path(video)
            self._probe(fps)
        if min(self.width, self.height) < 2:
            raise InputError(f"take is {self.width}x{self.height}; it needs at least 2x2 pixels")
        self.transform = lambda f: f
        self.keep: set[int] = set()
        self._kept: dict[int, np.ndarray] = {}
        self._decoder = None
        self._pos = -1
        self._last: Optional[np.ndarray] = None

    def _probe(self, fps):
        import av

        if not self._path.is_file():
            raise InputError(f"take {str(self._path)!r} not found; render it first or pass the frames")
        try:
            with av.open(str(self._path)) as c:
                if not c.streams.video:
                    raise InputError(f"{self._path.name!r} has no video stream; pass a take's MP4")
                s = c.streams.video[0]
                self.width, self.height = s.codec_context.width, s.codec_context.height
                self.fps = float(fps or s.average_rate or 30)
                self.length = s.frames or round((c.duration or 0) / 1e6 * self.fps)
                if not self.length:  # no count in the header: count by decoding
                    self.length = sum(1 for _ in c.decode(s))
        except av.error.FFmpegError as exc:
            raise InputError(f"{self._path.name!r} is not a readable video ({exc}); pass a take's MP4") from None
        if self.length < 1:
            raise InputError(f"{self._path.name!r} has no frames")

    def _decode_next(self) -> Optional[np.ndarray]:
        import av

        if self._decoder is None:
            self._container = av.open(str(self._path))
            self._decoder = self._container.decode(video=0)
            self._pos = -1
        try:
            frame = next(self._decoder)
        except StopIteration:
            return None
        self._pos += 1
        return frame.to_ndarray(format="rgb24")

    def get(self, i: int) -> np.ndarray:
        i = min(max(i, 0), self.length - 1)
        if i in self._kept:
            return self._kept[i]
        if self._array is not None:
            frame = self.transform(self._array[i])
        else:
            if i == self._pos and self._last is not None:
                return self._last
            if i < self._pos:
                self.close()
            frame = self._last
            while self._pos < i:
                raw = self._decode_next()
                if raw is None:  # the header promised more frames than the file holds
                    break
                frame = self.transform(raw)
                if self._pos in self.keep:
                    self._kept[self._pos] = frame
            self._last = frame
        return frame

    def close(self):
        if self._decoder is not None:
            self._container.close()
            self._decoder = None
            self._pos = -1


def _timeline(n: int, loop: str, loop_closed: bool, fps: float) -> list[tuple[int, int, float]]:
    """Output frame k -> (source frame a, source frame b, weight of b). Closed paths and "none" play
    as they are; a seamless loop of an open take crossfades its last frames into its first; a
    boomerang plays forward then back without repeating the turning frames."""
    if loop == "boomerang":
        return [(i, i, 0.0) for i in range(n)] + [(i, i, 0.0) for i in range(n - 2, 0, -1)]
    if loop == "seamless" and not loop_closed:
        k = min(round(LOOP_CROSSFADE_S * fps), n // 3)
        if k < 2:
            raise InputError(f"a {n}-frame take is too short for a seamless loop; use a longer take or --loop boomerang")
        # Start at frame k; the last k frames fade into frames 0..k-1, which lead into frame k again.
        body = [(i, i, 0.0) for i in range(k, n - k)]
        return body + [(n - k + j, j, (j + 1) / (k + 1)) for j in range(k)]
    return [(i, i, 0.0) for i in range(n)]


# ------------------------------------------------------------------------------------------- finish
def finish(video_or_frames: VideoSource, settings: FinishSettings, out_path: str | os.PathLike, *,
           fps: Optional[float] = None, depth: Optional[np.ndarray] = None, loop_closed: bool = False,
           progress: Optional[Progress] = None, notices: Optional[list[str]] = None) -> Path:
    """Finish a take into ``out_path`` and return that path.

    video_or_frames: a take's video file, or (T, H, W, 3) uint8 RGB frames (then ``fps`` is required;
    for a file it overrides the file's rate). depth: optional (H, W) relative depth (1 = near) of
    frame 0, used to centre a "subject" reframe. loop_closed: the take's camera path is closed (the
    frame after the last is the first), so a seamless loop needs no crossfade. progress: called as
    ``progress(fraction, description)``. notices: what was adapted (audio trimmed, no depth, ...) is
    appended here; without a list they are issued as warnings.

    Everything is checked before encoding starts; the take itself is never modified, and the output
    appears only when complete (written beside it, then renamed).
    """
    own_notices: list[str] = []
    out = Path(out_path)
    fmt = _resolve_format(settings, out)
    if out.suffix.lower() not in FORMATS:
        out = out.with_suffix(out.suffix + "." + fmt)
    src = _Source(video_or_frames, fps)
    if src._path is not None and out.exists() and out.resolve() == src._path.resolve():
        raise InputError(f"output {str(out)!r} is the take itself; choose another file name so the take is kept")

    # 1. Plan the frame: reframe and timeline
    plan = reframe.plan_reframe((src.width, src.height), settings.aspect, settings.reframe, depth, own_notices)
    src.transform = plan
    timeline = _timeline(src.length, settings.loop, loop_closed, src.fps)
    src.keep = _frames_revisited(timeline) if src._path is not None else set()
    ow, oh = plan.out_size
    if len(src.keep) * ow * oh * 3 > MAX_KEPT_BYTES:
        raise InputError(f"{settings.loop} of {src.length} {ow}x{oh} frames needs "
                         f"{len(src.keep) * ow * oh * 3 / 1e9:.1f} GB of memory; shorten the take or lower its size")
    duration = len(timeline) / src.fps

    # 2. Render the text once
    overlays = _text_overlays(settings, plan.out_size, duration)

    # 3. Make the sound
    audio = None
    if fmt == "gif":
        if settings.audio is not None and settings.audio.strip().lower() != "none":
            own_notices.append("GIF has no sound; the audio was left out")
    else:
        audio = sound.sound_for(settings.audio, duration, seed=settings.audio_seed, volume=settings.volume,
                                fade_in=settings.audio_fade_in, fade_out=settings.audio_fade_out, notices=own_notices)

    # 4. Compose frames and write
    compose = _composer(src, timeline, overlays, progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.stem}.partial{out.suffix}")
    try:
        if fmt == "gif":
            _write_gif(compose, len(timeline), src.fps, settings, partial, own_notices)
        else:
            _write_video(compose, len(timeline), src.fps, audio, fmt, partial, looping=settings.loop != "none")
        os.replace(partial, out)
    finally:
        src.close()
        partial.unlink(missing_ok=True)
    if progress is not None:
        progress(1.0, "finished")
    _deliver(own_notices, notices)
    return out


def _deliver(messages: list[str], notices: Optional[list[str]]) -> None:
    """Append ``messages`` to the caller's ``notices`` list, or issue them as warnings when it is None."""
    for msg in messages:
        if notices is not None:
            notices.append(msg)
        else:
            warnings.warn(msg, UserWarning, stacklevel=3)


def finish_take(video: str | os.PathLike, settings: FinishSettings, out_path: str | os.PathLike, *,
                progress: Optional[Progress] = None, notices: Optional[list[str]] = None) -> Path:
    """Finish a take written by ``render_take`` (or the studio) into ``out_path``: like :func:`finish`,
    with the frame rate, whether the camera path is closed, and the depth for a "subject" reframe read
    from the files beside the take (``<video>.json``, ``<video>.depth.png``). A take without them is
    finished as a plain video (centred reframe, crossfaded loop). The finished file gets its recipe too
    (``<out>.json``: the take's, with these finishing settings), which replays to the same file."""
    from pipelines.core import recipe as recipes

    video = Path(video)
    fps, loop_closed, depth, own, recipe = None, False, None, [], None
    recipe_file = Path(str(video) + ".json")
    if recipe_file.is_file():
        try:
            recipe = recipes.load(recipe_file)
            fps, loop_closed = recipe.settings.fps, recipe.loop
        except InputError:
            own.append(f"{recipe_file.name} is not a take recipe; {video.name} was finished as a plain video")
    depth_file = Path(str(video) + ".depth.png")
    if depth_file.is_file():
        from pipelines.depth import load_depth

        depth = load_depth(depth_file).relative
    out = finish(video, settings, out_path, fps=fps, depth=depth, loop_closed=loop_closed, progress=progress,
                 notices=own)
    if recipe is not None:  # the finished file's recipe: the take's, with the finishing that made it
        recipe.model_copy(update={"finish": settings, "video": out.name}).write(str(out) + ".json")
    _deliver(own, notices)
    return out


def _resolve_format(settings: FinishSettings, out: Path) -> str:
    by_ext = FORMATS.get(out.suffix.lower())
    if out.suffix and by_ext is None:
        raise InputError(f"unknown output format {out.suffix!r}; use .mp4, .webm or .gif")
    if settings.format and by_ext and settings.format != by_ext:
        raise InputError(f"--format {settings.format} disagrees with the file name {out.name!r}; "
                         f"name it .{settings.format} or drop --format")
    return settings.format or by_ext or "mp4"


def _frames_revisited(timeline) -> set[int]:
    """Source frames the timeline asks for after a later frame was read: they are kept in memory as
    the decoder passes them, so a file is decoded only once."""
    seen_max, keep = -1, set()
    for a, b, w in timeline:
        for i in ((a, b) if w > 0 else (a,)):
            if i < seen_max:
                keep.add(i)
            seen_max = max(seen_max, i)
    return keep


def _text_overlays(settings: FinishSettings, size: tuple[int, int], duration: float):
    """[(Overlay, start, end, fade)] for the title and the caption."""
    items = []
    end = duration if settings.text_end is None else min(settings.text_end, duration)
    if settings.text_start >= duration:
        raise InputError(f"text starts at {settings.text_start} s but the finished video is {duration:.2f} s; "
                         "lower --text-start")
    if end <= settings.text_start:
        raise InputError(f"text ends ({end} s) before it starts ({settings.text_start} s); fix --text-end")
    # Text on for the whole of a looping video must not blink at the loop point.
    whole = settings.text_start == 0 and end >= duration
    fade = 0.0 if (whole and settings.loop != "none") else settings.text_fade
    for what, text, pos, sz in (("title", settings.title, settings.title_position, settings.title_size),
                                ("caption", settings.caption, settings.caption_position, settings.caption_size)):
        if text is None:
            continue
        font = captions.pick_font(text, settings.font)
        ov = captions.render_text(text, size, size=sz, position=pos, colour=settings.text_colour,
                                  stroke_colour=settings.stroke_colour, stroke=settings.stroke,
                                  shadow=settings.shadow, font=font, what=what)
        items.append((ov, settings.text_start, end, fade))
    return items


def _composer(src: _Source, timeline, overlays, progress: Optional[Progress]):
    """compose(k) -> finished output frame k, (H, W, 3) uint8."""
    import cv2

    n = len(timeline)
    step = max(1, n // 50)

    def compose(k: int) -> np.ndarray:
        a, b, w = timeline[min(max(k, 0), n - 1)]
        frame = src.get(a)
        if w > 0:
            frame = cv2.addWeighted(frame, 1.0 - w, src.get(b), w, 0.0)
        t = k / src.fps
        live = [(ov, captions.fade_opacity(t, s, e, f)) for ov, s, e, f in overlays]
        if any(op > 0 for _, op in live):
            frame = frame.copy() if w == 0 else frame
            for ov, op in live:
                captions.blend(frame, ov, op)
        if progress is not None and k % step == 0:
            progress(k / n, "finishing")
        return frame

    return compose


# ---------------------------------------------------------------------------------------- encoders
def _write_video(compose, n: int, fps: float, audio: Optional[np.ndarray], fmt: str, path: Path,
                 looping: bool = False) -> None:
    """MP4 (H.264 yuv420p + AAC) or WebM (VP9 yuv420p + Opus) through moviepy."""
    from moviepy import AudioArrayClip, VideoClip

    # moviepy counts frames as int(duration * fps); the epsilon keeps float error from dropping one.
    clip = VideoClip(frame_function=lambda t: compose(round(t * fps)), duration=n / fps + 1e-6).with_fps(fps)
    if audio is not None:
        clip = clip.with_audio(AudioArrayClip(audio, fps=sound.RATE))
    with tempfile.TemporaryDirectory(prefix="finish-") as tmp:
        common = dict(fps=fps, threads=2, logger=None, audio_fps=sound.RATE, audio_bitrate="160k",
                      temp_audiofile_path=tmp)
        if fmt == "mp4":
            params = list(MP4_PARAMS)
            if looping:
                params += loop_seam_params(n)
            clip.write_videofile(str(path), codec="libx264", audio_codec="aac", preset="veryfast",
                                 ffmpeg_params=params, **common)
        else:
            # moviepy does not know "libopus" by name; naming the temporary file .ogg lets it pass
            # through ffmpeg (Opus in Ogg), and the WebM muxer then copies the Opus stream.
            clip.write_videofile(str(path), codec="libvpx-vp9", audio_codec="libopus",
                                 temp_audiofile=str(Path(tmp) / "sound.ogg"), ffmpeg_params=WEBM_PARAMS, **common)


def _write_gif(compose, n: int, fps: float, settings: FinishSettings, path: Path, notices: list[str]) -> None:
    """An infinitely looping GIF with one optimised palette for the whole clip (so colours do not
    flicker or drift between frames), shrunk until it fits ``settings.gif_max_mb``."""
    import cv2
    import imageio_ffmpeg

    duration = n / fps
    rate = max([r for r in GIF_RATES if r <= max(fps, 10)])
    rate = min(rate, 20)  # 20 frames/s looks smooth; more mostly costs size
    count = max(1, round(duration * rate))
    first = compose(0)
    width = min(settings.gif_width, first.shape[1])
    frames = []
    for j in range(count):
        # Sampling k = j * n / count keeps a closed loop closed at the GIF's own rate.
        f = first if j == 0 else compose(int(j * n / count))
        h = max(2, round(f.shape[0] * width / f.shape[1]))
        frames.append(cv2.resize(f, (width, h), interpolation=cv2.INTER_AREA))
    cap = settings.gif_max_mb * 1e6
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    for attempt in range(6):
        h, w = frames[0].shape[:2]
        cmd = [ffmpeg, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
               "-r", str(rate), "-i", "-", "-filter_complex",
               "[0:v]split[a][b];[a]palettegen=stats_mode=full[p];[b][p]paletteuse=dither=bayer:bayer_scale=3",
               "-loop", "0", "-f", "gif", str(path)]
        proc = subprocess.run(cmd, input=np.stack(frames).tobytes(), capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError(f"ffmpeg GIF encoder failed: {proc.stderr.decode(errors='replace')[-500:]}")
        size = path.stat().st_size
        if size <= cap:
            if attempt:
                notices.append(f"GIF shrunk to {w}x{h} at {rate} frames/s to stay under {settings.gif_max_mb} MB")
            return
        if rate > 10 and attempt % 2 == 1:
            keep = rate // 10
            rate, frames = 10, frames[::keep]
        else:
            scale = max(0.5, min(0.85, (cap / size) ** 0.5))
            nw = max(32, round(w * scale))
            frames = [cv2.resize(f, (nw, max(2, round(h * nw / w))), interpolation=cv2.INTER_AREA) for f in frames]
    raise InputError(f"the GIF is still {size / 1e6:.1f} MB at {w}x{h}, over the {settings.gif_max_mb} MB cap; "
                     "raise --gif-max-mb, shorten the take, or export mp4")

