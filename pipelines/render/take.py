"""One take, start to finish: the one pipeline the CLI, the studio, batch and the Python API call.

    take = render_take(photo, depth, RenderSettings(preset="orbit", strength=0.6, seed=3), video="take.mp4",
                       source=Source(...))          # optional: where the photo and depth came from
    take.recipe                                      # the Recipe written beside the video (take.mp4.json)

Read top to bottom, like a diffusers ``__call__``: build the scene, plan the camera path, render the frames,
redraw them (the generative engine, optional), encode, and write the recipe once.
"""
from __future__ import annotations

import hashlib
import os
import platform
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Optional, Protocol

import numpy as np

from pipelines import __version__
from pipelines.core.errors import GenerationCancelled, InputError
from pipelines.core.photo import Photo
from pipelines.core.recipe import PARALLAX, DepthSource, Recipe, Source
from pipelines.core.schema import GenerativeSettings, RenderSettings, as_model
from pipelines.depth import DepthMap
from pipelines.render import camera, parallax
from pipelines.render.camera import CameraPath

if TYPE_CHECKING:
    from pipelines.generative.engine import GenerationResult
    from pipelines.living import Motion

Progress = Optional[Callable[[float, str], None]]


class Redraw(Protocol):
    """A stage that redraws a rendered parallax take (the generative engine).

    ``gen`` is what was asked for (recorded in the recipe). Called with the take's frames (rendered with
    holes and depth), the photo and the settings; returns the frames that go to the video, the notices
    for the user and what actually ran (``settings["engine"]`` is "parallax" when the model could not run).
    Raises GenerationCancelled when ``cancel`` is set; the take is then the parallax draft."""

    gen: GenerativeSettings

    def __call__(self, frames: parallax.Frames, photo: Photo, settings: RenderSettings, *,
                 progress: Progress = None, cancel: Optional[threading.Event] = None) -> "GenerationResult": ...


@dataclass(frozen=True)
class Take:
    """A rendered take: its video and/or frame folder, the camera path that ran, and the recipe (photo
    hash, depth source, settings, path, engine, versions) that renders the same frames again."""

    video: Optional[Path]
    frames_dir: Optional[Path]
    path: CameraPath
    settings: RenderSettings
    recipe: Recipe
    notices: tuple[str, ...] = field(default=())


def depth_sha256(depth: DepthMap) -> str:
    return hashlib.sha256(np.ascontiguousarray(depth.z).tobytes()).hexdigest()


def given_source(photo: Photo, depth: DepthMap) -> Source:
    """The Source of a photo and depth handed straight to the Python API (nothing to estimate again)."""
    kind = "estimated" if depth.estimator else "file"
    return Source(photo_sha256=photo.sha256, depth=DepthSource(kind=kind, estimator=depth.estimator,
                                                               sha256=depth_sha256(depth)))


def _relative(path: str | os.PathLike, to: str | os.PathLike) -> str:
    """``path`` relative to the folder of ``to`` (a recipe finds its files wherever the set is moved)."""
    try:
        return os.path.relpath(Path(path).resolve(), Path(to).resolve().parent)
    except ValueError:  # another drive (Windows)
        return str(Path(path).resolve())


def files_source(photo: Photo, depth: DepthMap, photo_file: str | os.PathLike, out: str | os.PathLike,
                 prompt: str = "", depth_file: str | os.PathLike | None = None) -> Source:
    """The Source of a take made from files (the CLI, batch): the photo, and the depth file or the estimator
    that ran, named relative to ``out`` (the take's video or frames folder)."""
    if depth_file is not None:
        src = DepthSource(kind="file", file=_relative(depth_file, out), sha256=depth_sha256(depth))
    else:
        src = DepthSource(kind="estimated", estimator=depth.estimator, sha256=depth_sha256(depth))
    return Source(photo_sha256=photo.sha256, photo=_relative(photo_file, out), depth=src, prompt=prompt)


def versions() -> dict[str, str]:
    import cv2

    return {"studio": __version__, "numpy": np.__version__, "opencv": cv2.__version__,
            "python": platform.python_version()}


def _write_pngs(frames: Iterator[np.ndarray], folder: Path) -> Iterator[np.ndarray]:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"frame_{i:04d}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_PNG_COMPRESSION, 1])
        yield frame


def _counted(frames: Iterator[np.ndarray], n: int, lo: float, hi: float, report) -> Iterator[np.ndarray]:
    for i, frame in enumerate(frames):
        report(lo + (hi - lo) * (i + 1) / n, f"frame {i + 1}/{n}")
        yield frame


def _redraw(redraw: Redraw, scene, path: CameraPath, photo: Photo, settings: RenderSettings, report,
            cancel: Optional[threading.Event]) -> tuple[np.ndarray, str, dict, tuple[str, ...]]:
    """Render the draft with the depth and holes the model needs, then redraw it. Returns the frames, the
    engine that ran, what it ran with and the notices; a cancelled model leaves the draft."""
    draft = parallax.render(scene, path, holes=True, depth=True,
                            progress=lambda f, msg: report(0.1 * f, f"draft: {msg}"))
    try:
        result = redraw(draft, photo, settings, progress=lambda f, msg: report(0.1 + 0.85 * f, msg), cancel=cancel)
    except GenerationCancelled:
        return draft.images, PARALLAX, {"cancelled": True}, (
            f"{redraw.gen.engine} was cancelled; this take is the parallax draft",)
    ran = dict(result.settings)
    return result.frames, str(ran.pop("engine", redraw.gen.engine)), ran, tuple(result.notices)


def _frames(scene, path: CameraPath, photo: Photo, settings: RenderSettings, motion: "Motion | None",
            redraw: Redraw | None, report, cancel: Optional[threading.Event]):
    """The take's frames (an iterator, streamed to the encoder), the path that ran (a still camera over moving
    regions loops), the engine that ran, what it ran with, and notices."""
    n = path.num_frames
    if motion is not None:
        from pipelines import living

        path = living.frames.closed(path)
        animated = living.animate(photo.pixels, motion, n, settings.fps, settings.seed)
        return (_counted(living.frames.iter_images(scene, path, animated), n, 0.05, 1.0, report), path, PARALLAX,
                None, motion.notices)
    if redraw is None:
        images = (f.image for f in parallax.iter_frames(scene, path))
        return _counted(images, n, 0.05, 1.0, report), path, PARALLAX, None, ()
    images, engine, ran, notices = _redraw(redraw, scene, path, photo, settings, report, cancel)
    return iter(images), path, engine, ran, notices


def render_take(photo: Photo, depth: DepthMap, settings: RenderSettings | dict, *,
                video: str | os.PathLike | None = None, frames_dir: str | os.PathLike | None = None,
                camera_path: CameraPath | None = None, scene: parallax.Scene | None = None,
                redraw: Redraw | None = None, source: Source | None = None, motion: "Motion | None" = None,
                progress: Progress = None, cancel: Optional[threading.Event] = None,
                segments: str | os.PathLike | None = None) -> Take:
    """Render one take of ``photo`` to ``video`` (.mp4/.webm) and/or PNG frames in ``frames_dir``.

    camera_path: an explicit path (the camera contract) instead of the preset's.
    scene: a scene already built for this photo and depth (every take of a photo shares one).
    redraw: the generative engine's stage (None: the parallax take as rendered).
    source: where the photo and depth came from, for the recipe (None: they were handed in directly).
    motion: regions of the photo that move (a living photo: :class:`pipelines.living.Motion` of the photo's
        size); they move in the photo's own layer, so they combine with any camera move. A still camera
        makes the take a closed loop (a cinemagraph).
    cancel: stops a redraw at its next step (the take is then the parallax draft).
    segments: a folder that also receives the video as short MPEG-TS segments while it encodes, to watch it
        while it renders; the video is then the preview encode (:data:`pipelines.render.video.ENCODES`), and
        the recipe says so.

    Writes ``<video>.json`` (the :class:`Recipe`) and ``<video>.depth.png`` (frame 0's depth, 16-bit,
    white = near, which finishing's subject crop centres on) beside the video, and the motion's masks
    (``<video>.motion-<k>.png``, named in the recipe).
    """
    if video is None and frames_dir is None:
        raise InputError("nothing to write: give a video file (-o take.mp4) and/or a frames folder")
    if redraw is not None and video is None:
        raise InputError(f"the {redraw.gen.engine} engine writes a video: give -o take.mp4")
    settings = as_model(RenderSettings, settings)  # a dict of fields is checked like the CLI's options
    if redraw is not None and motion is not None:
        raise InputError(f"region motion runs on the parallax engine; drop the motion or the {redraw.gen.engine} "
                         "engine")
    report = progress or (lambda f, msg: None)

    # 1. Build the layered scene (once per photo; reused when given)
    if scene is None:
        report(0.0, "scene")
        scene = parallax.build_scene(photo, depth)

    # 2. Plan the camera move
    path = camera_path or camera.preset_path(settings.preset, depth, settings)

    # 3. Render the camera move (streamed to the encoder), with the photo's regions moving for a living
    #    photo, 4. redrawn by the generative engine if asked
    frames, path, engine, ran, notices = _frames(scene, path, photo, settings, motion, redraw, report, cancel)
    if frames_dir is not None:
        frames = _write_pngs(frames, Path(frames_dir))

    # 5. Encode
    encode = "preview" if segments is not None else "quality"
    if video is not None:
        from pipelines.render.video import write_video

        video = write_video(frames, video, settings.fps, loop_frames=path.num_frames if path.loop else None,
                            encode=encode, segments=segments)
    else:
        for _ in frames:
            pass

    # 6. Write the recipe, once, the depth finishing reads, and the masks that moved
    moved = None
    if motion is not None and video is not None:  # the recipe (and its masks) go beside a video
        from pipelines.living import save_motion

        moved = save_motion(motion, Path(video).parent, Path(video).name)
    recipe = Recipe(studio_version=__version__, source=source or given_source(photo, depth), settings=settings,
                    camera_path=path.to_json() if camera_path is not None else None, loop=path.loop,
                    engine=engine, generative=redraw.gen if redraw is not None else None, generative_ran=ran,
                    motion=moved, video=Path(video).name if video is not None else None,
                    encode=encode if video is not None else None, versions=versions())
    if video is not None:
        from pipelines.depth import save_depth_png

        recipe.write(str(video) + ".json")
        save_depth_png(depth, str(video) + ".depth.png")
    report(1.0, "done")
    return Take(video=Path(video) if video is not None else None,
                frames_dir=Path(frames_dir) if frames_dir is not None else None, path=path, settings=settings,
                recipe=recipe, notices=tuple(dict.fromkeys(photo.notices + depth.notices + notices)))
