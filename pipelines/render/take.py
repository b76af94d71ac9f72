"""One take, start to finish: the entry point the CLI and the studio call, read top to bottom."""
from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np

from pipelines import __version__
from pipelines.render import camera
from pipelines.render import parallax
from pipelines.render.camera import CameraPath
from pipelines.depth import DepthMap
from pipelines.core.errors import InputError
from pipelines.core.photo import Photo
from pipelines.core.schema import RenderSettings

Progress = Optional[Callable[[float, str], None]]


@dataclass(frozen=True)
class Take:
    """A rendered take: its video and/or frame folder, the camera path that ran, and the recipe (photo
    hash, depth, settings, path, versions) that renders the same frames again."""

    video: Optional[Path]
    frames_dir: Optional[Path]
    path: CameraPath
    settings: RenderSettings
    recipe: dict
    notices: tuple[str, ...] = field(default=())


def recipe_for(photo: Photo, depth: DepthMap, settings: RenderSettings, path: CameraPath,
               engine: str = "parallax") -> dict:
    import cv2

    return {
        "engine": engine,
        "photo_sha256": photo.sha256,
        "depth_sha256": hashlib.sha256(np.ascontiguousarray(depth.z).tobytes()).hexdigest(),
        "settings": settings.model_dump(),
        "camera_path": path.to_json(),
        "versions": {"studio": __version__, "numpy": np.__version__, "opencv": cv2.__version__,
                     "python": platform.python_version()},
    }


def write_sidecars(video: str | os.PathLike, recipe: dict, depth: DepthMap) -> None:
    """Write what finishing needs beside a take's video: ``<video>.json`` (the recipe: settings, camera
    path, whether it loops) and ``<video>.depth.png`` (frame 0's relative depth, 16-bit, white = near,
    which a "subject" reframe centres on)."""
    from pipelines.depth import save_depth_png

    Path(str(video) + ".json").write_text(json.dumps(recipe, indent=1))
    save_depth_png(depth, str(video) + ".depth.png")


def _write_pngs(frames: Iterator[np.ndarray], folder: Path) -> Iterator[np.ndarray]:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"frame_{i:04d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_PNG_COMPRESSION, 1])
        yield frame


def render_take(photo: Photo, depth: DepthMap, settings: RenderSettings, *,
                video: str | os.PathLike | None = None, frames_dir: str | os.PathLike | None = None,
                camera_path: CameraPath | None = None, scene: parallax.Scene | None = None,
                progress: Progress = None) -> Take:
    """Render one take of ``photo`` to ``video`` (.mp4/.webm) and/or PNG frames in ``frames_dir``.

    ``camera_path`` overrides the preset; ``scene`` reuses a scene already built for this photo (every
    take of a photo shares one). Writes the recipe and frame 0's depth beside the video
    (:func:`write_sidecars`)."""
    if video is None and frames_dir is None:
        raise InputError("nothing to write: give a video file (-o take.mp4) and/or a frames folder")
    report = progress or (lambda f, msg: None)

    # 1. Build the layered scene (once per photo; reused when given)
    if scene is None:
        report(0.0, "scene")
        scene = parallax.build_scene(photo, depth)

    # 2. Plan the camera move
    path = camera_path or camera.preset_path(settings.preset, depth, settings)

    # 3. Render the camera move, streaming frames to the encoder and/or PNG files
    n = path.num_frames
    frames = (f.image for f in parallax.iter_frames(scene, path))

    def counted(it):
        for i, frame in enumerate(it):
            report(0.05 + 0.95 * (i + 1) / n, f"frame {i + 1}/{n}")
            yield frame

    frames = counted(frames)
    if frames_dir is not None:
        frames = _write_pngs(frames, Path(frames_dir))
    recipe = recipe_for(photo, depth, settings, path)
    if video is not None:
        from pipelines.render.video import write_video

        video = write_video(frames, video, settings.fps, loop_frames=n if path.loop else None)
        write_sidecars(video, recipe, depth)
    else:
        for _ in frames:
            pass
    return Take(video=Path(video) if video else None, frames_dir=Path(frames_dir) if frames_dir else None,
                path=path, settings=settings, recipe=recipe, notices=photo.notices + depth.notices)
