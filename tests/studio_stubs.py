"""Test stand-ins for the depth and render stages: fast, deterministic, and sensitive to seed and strength,
so tests of the studio and the app check the plumbing with known answers."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pipelines.depth import DepthMap


class CountingDepth:
    """Depth that is near at the bottom and far at the top; counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, photo):
        self.calls += 1
        w, h = photo.size
        rel = np.repeat(np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None], w, axis=1)
        return DepthMap.from_relative(rel)


def stub_frames(photo_pixels: np.ndarray, settings) -> np.ndarray:
    """(T, H, W, 3) uint8: the photo sliding sideways by a seed- and strength-dependent amount per frame."""
    step = settings.strength * (1 + settings.seed % 7)
    return np.stack([np.roll(photo_pixels, int(round(k * step)), axis=1) for k in range(settings.num_frames)])


def write_mp4(frames: np.ndarray, path: Path, fps: int) -> Path:
    import imageio_ffmpeg

    h, w = frames.shape[1:3]
    gen = imageio_ffmpeg.write_frames(str(path), (w, h), fps=fps, codec="libx264", pix_fmt_out="yuv420p",
                                      macro_block_size=2, quality=None, output_params=["-crf", "18"],
                                      ffmpeg_log_level="error")
    gen.send(None)
    for f in frames:
        gen.send(np.ascontiguousarray(f))
    gen.close()
    return path


def stub_take(photo, depth, settings, *, video, source=None, progress=None, **_):
    """A stand-in for the take pipeline: the photo sliding sideways (stub_frames), its recipe written once."""
    from pipelines.core.recipe import Recipe
    from pipelines.render.camera import CameraPath
    from pipelines.render.take import Take, given_source

    progress(0.5, "rendering")
    path = write_mp4(stub_frames(photo.pixels, settings), Path(video), settings.fps)
    progress(1.0, "encoding")
    recipe = Recipe(studio_version="test", source=source or given_source(photo, depth), settings=settings,
                    video=path.name)
    recipe.write(str(path) + ".json")
    cam = CameraPath(np.repeat(np.eye(4)[None], settings.num_frames, axis=0), 60.0, photo.size[0], photo.size[1])
    return Take(path, None, cam, settings, recipe)


def decode(path) -> np.ndarray:
    """(T, H, W, 3) uint8 frames of a video file."""
    import av

    with av.open(str(path)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def probe(path) -> dict:
    """A media file's container and streams: ``{"format", "size": (w, h) of the video, "streams": {kind: {...}}}``,
    a video stream with codec, pix_fmt, width, height, duration (s), an audio one with codec, rate, channels,
    duration. WebM keeps no per-stream duration; the container's stands in."""
    import av

    info: dict = {"format": None, "size": None, "streams": {}}
    with av.open(str(path)) as c:
        info["format"] = c.format.name
        whole = (c.duration or 0) / 1e6
        for s in c.streams:
            cc = s.codec_context
            d = {"codec": cc.name, "duration": float(s.duration * s.time_base) if s.duration is not None else whole}
            if s.type == "video":
                d.update(width=cc.width, height=cc.height, pix_fmt=cc.pix_fmt)
                info["size"] = (cc.width, cc.height)
            else:
                d.update(rate=cc.sample_rate, channels=cc.channels)
            info["streams"][s.type] = d
    return info


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_studio(output_root: Path, depth_fn, **stages):
    """Start the app on a free 127.0.0.1 port around a Studio writing to ``output_root`` (other Studio
    stages in ``stages``, e.g. pipeline=...); yield its URL."""
    from pipelines.ui.blocks import build_demo, launch_kwargs
    from pipelines import studio as st

    demo = build_demo(st.Studio(output_root=output_root, stages=st.Stages(depth=depth_fn, **stages)))
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **launch_kwargs())
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
