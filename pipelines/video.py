"""Encoding and decoding frames. MP4 is H.264 yuv420p (plays on phones, browsers and social sites);
WebM is VP9 yuv420p. Encoding runs in an ffmpeg subprocess, so it uses the second core while frames
are still being rendered."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import numpy as np

from pipelines.errors import InputError

CODECS = {".mp4": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-movflags", "+faststart"],
          ".webm": ["-c:v", "libvpx-vp9", "-crf", "32", "-b:v", "0", "-deadline", "realtime", "-cpu-used", "8"]}


def write_video(frames: Iterable[np.ndarray], path: str | os.PathLike, fps: float) -> Path:
    """Encode (H, W, 3) uint8 frames to ``path`` (.mp4 or .webm) at ``fps``; returns the path.

    Width and height must be even (yuv420p subsamples chroma 2x2)."""
    import imageio_ffmpeg

    path = Path(path)
    ext = path.suffix.lower()
    if ext not in CODECS:
        raise InputError(f"unknown video type {ext!r} for {str(path)!r}; use .mp4 or .webm")
    if not (0 < fps <= 240):
        raise InputError(f"fps must be in 1..240, got {fps}")
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise InputError("no frames to encode; render at least one frame")
    h, w = first.shape[:2]
    if w % 2 or h % 2:
        raise InputError(f"video size {w}x{h} must be even for {ext} (yuv420p); use e.g. {w - w % 2}x{h - h % 2}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial{ext}")
    writer = imageio_ffmpeg.write_frames(
        str(tmp), (w, h), fps=fps, codec=None, pix_fmt_in="rgb24", pix_fmt_out="yuv420p", quality=None,
        macro_block_size=1, output_params=CODECS[ext] + ["-threads", "2"], ffmpeg_log_level="error")
    writer.send(None)
    try:
        writer.send(np.ascontiguousarray(first))
        for frame in it:
            if frame.shape[:2] != (h, w):
                raise InputError(f"frame size changed from {w}x{h} to {frame.shape[1]}x{frame.shape[0]}")
            writer.send(np.ascontiguousarray(frame))
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    writer.close()
    os.replace(tmp, path)  # a half-written file never carries the final name
    return path


def read_video(path: str | os.PathLike) -> tuple[np.ndarray, float]:
    """Decode a video into (T, H, W, 3) uint8 frames and its frame rate."""
    import av

    path = Path(path)
    if not path.is_file():
        raise InputError(f"video not found: {str(path)!r}")
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    except av.error.FFmpegError as exc:
        raise InputError(f"cannot decode video {str(path)!r}: {exc}") from exc
    if not frames:
        raise InputError(f"video {str(path)!r} has no frames")
    return np.stack(frames), fps
