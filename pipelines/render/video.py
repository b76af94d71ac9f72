"""Encoding and decoding frames. MP4 is H.264 yuv420p (plays on phones, browsers and social sites);
WebM is VP9 yuv420p. Encoding runs in an ffmpeg subprocess, so it uses the second core while frames
are still being rendered. Frames reach ffmpeg already in yuv420p (:func:`rgb_to_yuv420p`): the same
colours ffmpeg's own conversion gives, at a fifth of its cost, and half the bytes through the pipe."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import numpy as np

from pipelines.core.errors import InputError

CODECS = {".mp4": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-movflags", "+faststart"],
          ".webm": ["-c:v", "libvpx-vp9", "-crf", "32", "-b:v", "0", "-deadline", "realtime", "-cpu-used", "8"]}
#: x264 options on top of the preset: superfast's motion search (diamond, one sub-pixel refinement, no 8x8
#: inter partitions) with veryfast's macroblock-tree lookahead, which is what keeps the file small (superfast
#: without it writes 2-3x the bytes). On parallax takes (smooth sub-pixel motion, where wider searches find
#: little) x264 spends about 40 % less CPU per 1080p frame for 4-7 % more bytes and 0.1 dB less PSNR
#: against the lossless frames at the same CRF; ``bench/bench_speed.py`` prints the CPU and the size.
X264_PARAMS = ("me=dia", "subme=1", "partitions=i8x8,i4x4")

#: BT.601 limited range ("tv"), the matrix and range ffmpeg's rgb24 -> yuv420p conversion uses for an
#: untagged video: rows Y, Cb, Cr; columns R, G, B, offset (levels of 255).
_BT601 = np.array([[65.481, 128.553, 24.966, 16 * 255.0],
                   [-37.797, -74.203, 112.0, 128 * 255.0],
                   [112.0, -93.786, -18.214, 128 * 255.0]]) / 255.0

#: The MP4 encodes. "quality": CODECS as they are (the CLI's takes; a studio take once kept or finished).
#: "preview": a take streamed while it renders (``segments=``): the same settings plus a keyframe every segment
#: and no B-frames (2-3 times the bytes); kept, it is encoded again at quality from the same frames. A faster
#: preset does not pay at 960x540: superfast saves about 1 ms of x264 CPU per frame (of 6-8 ms, against 20-50
#: ms for the renderer) for 3-5 times the bytes, ultrafast 3 ms for 9 times the bytes and no deblocking
#: (``bench/bench_studio.py --encodes`` prints CPU, PSNR, SSIM and size).
ENCODES = ("quality", "preview")
#: Length of a streamed segment (s): the first shows after this much video is encoded.
SEGMENT_SECONDS = 0.5


#: Bitrate factors of the first and last frames of a looping MP4, from the ends inwards.
SEAM_BITRATE_RAMP = (6.0, 4.0, 3.0, 2.0, 1.5, 1.2)


def loop_seam_params(num_frames: int) -> list[str]:
    """x264 options for a video that plays on repeat. The first frame is coded on its own and the last at
    the end of a long prediction chain, so their coding errors differ more than neighbours' do and the
    seam shows as a flicker. More bits at both ends, ramping down over six frames (x264 zones; a ramp, so
    the step where the boost ends stays small) halve the seam's jump: on loops moving a fraction of a
    pixel per frame it drops to about one frame's worth of the natural motion, for about twice the size
    of a 36-frame clip and less extra for longer ones (``bench/bench_loop_seam.py`` prints both). Empty
    for clips too short to need it."""
    zones = seam_zones(num_frames)
    return ["-x264-params", zones] if zones else []


def seam_zones(num_frames: int) -> str:
    """The x264 ``zones=`` option of :func:`loop_seam_params` ("" when none is needed)."""
    levels = SEAM_BITRATE_RAMP[:num_frames // 8]
    if not levels:
        return ""
    zones = {}
    for i, factor in enumerate(levels):
        zones[i] = zones[num_frames - 1 - i] = factor
    return "zones=" + "/".join(f"{i},{i},b={zones[i]:g}" for i in sorted(zones))


def rgb_to_yuv420p(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB (H and W even) to planar yuv420p (I420: Y, then Cb, then Cr), (H * 3 / 2, W)
    uint8, BT.601 limited range like ffmpeg's own conversion. Each chroma sample is the mean of its 2x2
    block, centred like ffmpeg's (OpenCV's I420 conversion alone samples one pixel of the four, which
    aliases at sharp colour edges); luma and chroma are within one level of the exact values."""
    import cv2

    h, w = frame.shape[:2]
    out = cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420)  # its luma plane is kept; its chroma is replaced
    half = cv2.resize(frame, (w // 2, h // 2), interpolation=cv2.INTER_AREA)  # exact 2x2 means
    ycc = cv2.transform(half, _BT601)  # the 3 -> 3 channel form runs in fixed point, rounded and clipped
    chroma = out.reshape(-1)[h * w:]
    q = (h // 2) * (w // 2)
    cv2.mixChannels([ycc], [chroma[:q].reshape(h // 2, w // 2), chroma[q:].reshape(h // 2, w // 2)], [1, 0, 2, 1])
    return out


def _output_params(ext: str, loop_frames: int | None) -> list[str]:
    params = CODECS[ext] + ["-threads", "2"]
    if ext == ".mp4":  # one -x264-params option: ffmpeg keeps only the last one given
        options = list(X264_PARAMS) + ([seam_zones(loop_frames)] if loop_frames else [])
        params += ["-x264-params", ":".join(o for o in options if o)]
    return params


def write_video(frames: Iterable[np.ndarray], path: str | os.PathLike, fps: float,
                loop_frames: int | None = None, encode: str = "quality", segments: str | os.PathLike | None = None
                ) -> Path:
    """Encode (H, W, 3) uint8 frames to ``path`` (.mp4 or .webm) at ``fps``; returns the path.

    Width and height must be even (yuv420p subsamples chroma 2x2). ``loop_frames``: the frames form a
    closed loop of this many frames (a closed camera path), so an MP4 is coded for a seamless seam.
    ``encode``: "quality", or "preview" (:data:`ENCODES`), which takes ``segments``: a folder that also
    receives the video as MPEG-TS segments of :data:`SEGMENT_SECONDS` while it encodes (one encode feeds
    both), listed in ``segments.csv`` (name,start,end) as each one closes, so the video can be watched while
    it renders (:func:`stream_outputs`)."""
    import imageio_ffmpeg

    path = Path(path)
    ext = path.suffix.lower()
    if ext not in CODECS:
        raise InputError(f"unknown video type {ext!r} for {str(path)!r}; use .mp4 or .webm")
    if encode not in ENCODES:
        raise InputError(f"encode must be one of {', '.join(ENCODES)}, got {encode!r}")
    if segments is not None and (ext != ".mp4" or encode != "preview"):
        raise InputError(f"segments are written beside a preview .mp4, not a {encode} {ext}")
    if not (0 < fps <= 240):
        raise InputError(f"fps must be in 1..240, got {fps}")
    it = iter(frames)
    first = next(it, None)
    if first is None:
        raise InputError("no frames to encode; render at least one frame")
    if first.ndim != 3 or first.shape[2] != 3 or first.dtype != np.uint8:
        raise InputError(f"frames must be (H, W, 3) uint8 RGB, got {first.shape} {first.dtype}")
    h, w = first.shape[:2]
    if w % 2 or h % 2:
        raise InputError(f"video size {w}x{h} must be even for {ext} (yuv420p); use e.g. {w - w % 2}x{h - h % 2}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.partial{ext}")
    params, target = _output_params(ext, loop_frames), str(tmp)
    if segments is not None:
        params, target = stream_outputs(params, tmp, Path(segments), fps)
    codec = CODECS[ext][CODECS[ext].index("-c:v") + 1]  # named, so imageio-ffmpeg does not probe (~0.2 s)
    writer = imageio_ffmpeg.write_frames(
        target, (w, h), fps=fps, codec=codec, pix_fmt_in="yuv420p", pix_fmt_out="yuv420p", quality=None,
        macro_block_size=1, output_params=params, ffmpeg_log_level="error")
    writer.send(None)
    try:
        writer.send(rgb_to_yuv420p(np.ascontiguousarray(first)))
        for frame in it:
            if frame.shape != first.shape or frame.dtype != np.uint8:
                raise InputError(f"frame size changed from {w}x{h} to {frame.shape[1]}x{frame.shape[0]}"
                                 if frame.shape[:2] != (h, w) else
                                 f"frames must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
            writer.send(rgb_to_yuv420p(np.ascontiguousarray(frame)))
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    writer.close()
    os.replace(tmp, path)  # a half-written file never carries the final name
    return path


def stream_outputs(params: list[str], video: Path, folder: Path, fps: float) -> tuple[list[str], str]:
    """ffmpeg output options and target that write ``video`` (MP4) and, from the same encode, MPEG-TS segments
    of :data:`SEGMENT_SECONDS` into ``folder`` (``seg00000.ts``, ... listed in ``segments.csv`` as each
    closes). A keyframe starts every segment, so each plays on its own after the ones before it."""
    folder.mkdir(parents=True, exist_ok=True)
    gop = max(1, round(SEGMENT_SECONDS * fps))
    params = [p for p in params if p not in ("-movflags", "+faststart")]  # a muxer option: goes to the mp4 below
    # No B-frames: the first frame is not held back (its segment closes sooner) and timestamps start at 0
    params += ["-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-bf", "0", "-map", "0:v", "-f", "tee"]
    mp4 = f"[f=mp4:movflags=+faststart]{video}"
    # Cut at each keyframe: half a frame short of the GOP, since B-frame delay shifts the timestamps a little
    ts = (f"[f=segment:segment_time={(gop - 0.5) / fps:.6f}:segment_format=mpegts:segment_list_type=csv:"
          f"segment_list={folder / 'segments.csv'}]{folder / 'seg%05d.ts'}")
    return params, f"{mp4}|{ts}"


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
