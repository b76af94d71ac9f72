"""The studio's seams to the other stages, as one typed object. The defaults are the real stages; tests pass
stand-ins (``Studio(stages=Stages(depth=my_depth))``)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from pipelines.core.photo import Photo
from pipelines.depth import DepthMap
from pipelines.render.take import Take, render_take

from pipelines.core.schema import PARALLAX  # noqa: F401  (re-exported)

# PARALLAX (the schema's) is the default engine: the CPU parallax renderer. The others are the generative
# backends (presets/models/generative.json), which redraw the parallax take on a GPU.


def estimate_depth(photo: Photo) -> DepthMap:
    """Depth of ``photo`` from the depth stage (learned model when available, classical fallback)."""
    from pipelines import depth

    return depth.estimate(photo, estimator="auto")


def build_scene(photo: Photo, depth: DepthMap):
    """The renderer's scene for a fitted photo (built once per photo and size)."""
    from pipelines.render import parallax

    return parallax.build_scene(photo, depth)


@dataclass(frozen=True)
class Stages:
    """What the studio calls to do the work.

    depth: photo -> DepthMap (called once per distinct photo, on the photo downscaled to DEPTH_SIDE).
    scene: (fitted photo, depth) -> the renderer's scene, built once per photo and output size and shared by
        every take; None lets each take build its own.
    take: the take pipeline, with :func:`pipelines.render.take.render_take`'s signature.
    pipeline: engine name -> a loaded diffusers pipeline for the generative engines; None checks whether the
        engine can run here and loads its weights once per process when it can.
    """

    depth: Callable[[Photo], DepthMap] = estimate_depth
    scene: Optional[Callable[[Photo, DepthMap], Any]] = build_scene
    take: Callable[..., Take] = render_take
    pipeline: Optional[Callable[[str], Any]] = None


def engines() -> list[tuple[str, str]]:
    """(label, name) of every engine, parallax first: what the studio's engine selector offers."""
    from pipelines.generative import engine as generative

    return [("Parallax (CPU, seconds)", PARALLAX)] + [
        (f"{generative.get_preset(name).label} - GPU", name) for name in generative.list_backends()]
