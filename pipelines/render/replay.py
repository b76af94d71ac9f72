"""Replay: a take rendered again from its recipe (``<video>.json``), through the same take pipeline.

    take = replay("take1.mp4.json", video="again.mp4")            # the photo from the recipe's path
    take = replay("take1.mp4.json", photo="photo.jpg", video="again.mp4")

With the same project version and inputs, the decoded frames equal the original's. The photo must be the
one the recipe names (its pixel hash is checked); depth is estimated again with the estimator that ran,
at the size it ran at, or read from the file that was given.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from pipelines.core import photo as photo_io
from pipelines.core import recipe as recipes
from pipelines.core.errors import InputError
from pipelines.core.recipe import PARALLAX, Recipe
from pipelines.depth import DepthMap
from pipelines.render.take import Progress, Take, depth_sha256, render_take


def _photo(recipe: Recipe, given: Optional[str | os.PathLike], base: Path) -> photo_io.Photo:
    name = given or recipe.source.photo
    if not name:
        raise InputError("the recipe does not say where its photo is; give it with --photo PHOTO")
    path = Path(name)
    if not path.is_absolute() and given is None:
        path = base / path
    if not path.is_file():
        raise InputError(f"the recipe's photo {str(path)!r} is missing; give it with --photo PHOTO")
    photo = photo_io.load_image(path)
    if photo.sha256 != recipe.source.photo_sha256:
        raise InputError(f"{path.name} is not the photo this take was made from (its pixels differ: sha256 "
                         f"{photo.sha256[:12]}..., the recipe says {recipe.source.photo_sha256[:12]}...); "
                         "give the original photo with --photo")
    return photo


def _depth(recipe: Recipe, photo: photo_io.Photo, base: Path) -> DepthMap:
    from pipelines import depth as depth_stage

    src = recipe.source.depth
    if src.kind == "file":
        if not src.file:
            raise InputError("the take's depth was handed in as an array, not a file; replay it from Python "
                             "with render_take(photo, depth, recipe.settings, ...)")
        path = Path(src.file) if Path(src.file).is_absolute() else base / src.file
        return depth_stage.load_depth(path, size=photo.size)
    if not src.estimator:
        raise InputError("the recipe does not name the depth estimator that ran; it cannot be replayed")
    small = photo_io.downscaled(photo, src.long_side) if src.long_side else photo
    return depth_stage.estimate(small, estimator=src.estimator)


def replay(recipe: Recipe | str | os.PathLike, *, photo: Optional[str | os.PathLike] = None,
           video: str | os.PathLike | None = None, frames_dir: str | os.PathLike | None = None,
           progress: Progress = None) -> Take:
    """Render the take of ``recipe`` (a Recipe or its file) again to ``video`` and/or ``frames_dir``."""
    base = Path(recipe).resolve().parent if not isinstance(recipe, Recipe) else Path.cwd()
    rec = recipe if isinstance(recipe, Recipe) else recipes.load(recipe)

    # 1. The photo (checked against the recipe's hash) and its depth, as they were made
    pixels = _photo(rec, photo, base)
    depth = _depth(rec, pixels, base)

    # 2. Cropped and resampled to the output size, as the studio did
    s = rec.settings
    if rec.source.crop_box is not None:
        from pipelines.render.framing import fit

        pixels, depth = fit(pixels, depth, (s.width, s.height))
    notices: tuple[str, ...] = ()
    if rec.source.depth.sha256 and depth_sha256(depth) != rec.source.depth.sha256:
        notices = ("the depth differs from the original take's (another estimator version or depth file); "
                   "the frames will differ",)

    # 3. The same camera path, engine and moving regions
    cam = None
    if rec.camera_path is not None:
        from pipelines.render.camera import path_from_json

        cam = path_from_json(rec.camera_path)
    redraw = None
    if rec.engine != PARALLAX and rec.generative is not None:
        from pipelines.generative.redraw import Redraw

        redraw = Redraw(rec.generative)

    # 4. Render through the take pipeline (beside the finished file as NAME.take.mp4 when it was finished)
    take_video = video
    if rec.finish is not None and video is not None:
        take_video = Path(video).with_name(Path(video).stem + ".take.mp4")
    motion = None
    if rec.motion is not None:
        from pipelines.living import load_motion

        motion = load_motion(rec.motion, pixels.size, base_dir=base)  # masks beside the take, checked by hash
    take = render_take(pixels, depth, s, video=take_video, frames_dir=frames_dir, camera_path=cam, redraw=redraw,
                       source=rec.source, motion=motion, progress=progress)
    notices += take.notices

    # 5. The same finishing
    if take_video != video:
        from pipelines.finish.compose import finish_take

        said: list[str] = []
        final = finish_take(take.video, rec.finish, video, notices=said)
        return Take(final, take.frames_dir, take.path, take.settings, recipes.load(str(final) + ".json"),
                    notices + tuple(said))
    return Take(take.video, take.frames_dir, take.path, take.settings, take.recipe, notices)
