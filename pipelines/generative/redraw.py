"""A take through the generative engine, start to finish: the parallax take is rendered first (the
model's draft, and what the user gets when the model cannot run), then redrawn by the model.

    take = render_generative_take(photo, depth, RenderSettings(...), GenerativeSettings(engine="wan-vace",
                                  prompt="waves roll in"), video="take.mp4")
    take.notices   # e.g. "wan-vace needs a CUDA or Apple MPS GPU ...; the parallax take was delivered"
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Optional

import numpy as np

from pipelines.generative import engine as generative
from pipelines.core.errors import InputError, ModelUnavailableError
from pipelines.core.schema import GenerativeSettings

Progress = generative.Progress


def redraw(frames, photo: np.ndarray, gen: GenerativeSettings, *, seed: int, strength: float, pipe=None,
           device: Optional[str] = None, progress: Progress = None,
           cancel: Optional[threading.Event] = None) -> generative.GenerationResult:
    """Redraw a parallax take (``frames``: parallax.Frames rendered with holes=True, depth=True) with
    ``gen.engine``. When the engine cannot run here (no GPU, no weights, too little memory, out of memory
    during the run) the parallax frames come back unchanged with the reason and the fix as a notice;
    GenerationCancelled still propagates. ``pipe`` injects a pipeline and skips the availability check."""
    if frames.depth is None or frames.holes is None:
        raise InputError("the generative engine needs the take's depth and holes: render with "
                         "parallax.render(scene, path, holes=True, depth=True)")
    fallback = dict(engine="parallax", requested_engine=gen.engine, seed=int(seed), strength=float(strength))
    if pipe is None:
        avail = generative.availability(gen.engine, device)
        if not avail.ok:
            note = f"{avail.reason}; the parallax take was delivered ({avail.fix})"
            return generative.GenerationResult(frames=frames.images, notices=(note,), settings=fallback)
    try:
        return generative.generate(gen.engine, photo=photo, draft=frames.images, depth=frames.depth,
                                   holes=frames.holes, prompt=gen.prompt, negative_prompt=gen.negative_prompt,
                                   seed=seed, strength=strength, num_inference_steps=gen.num_inference_steps,
                                   guidance_scale=gen.guidance_scale, conditioning_scale=gen.conditioning_scale,
                                   pipe=pipe, device=device, progress=progress, cancel=cancel)
    except ModelUnavailableError as exc:
        return generative.GenerationResult(frames=frames.images, settings=fallback,
                                           notices=(f"{exc}; the parallax take was delivered",))


def render_generative_take(photo, depth, settings, gen: GenerativeSettings, *,
                           video: str | os.PathLike, camera_path=None, scene=None, pipe=None,
                           device: Optional[str] = None, progress: Progress = None,
                           cancel: Optional[threading.Event] = None):
    """Like :func:`pipelines.render.take.render_take`, through the generative engine: returns a render.Take whose
    recipe records the engine and the generative settings that actually ran (``engine`` is "parallax"
    when the model could not run; the notices say why)."""
    from pipelines.render import camera
    from pipelines.render import parallax
    from pipelines.render.take import Take, recipe_for, write_sidecars
    from pipelines.render.video import write_video

    report = progress or (lambda f, msg: None)

    # 1. Build the layered scene (once per photo; reused when given)
    if scene is None:
        report(0.0, "scene")
        scene = parallax.build_scene(photo, depth)

    # 2. Plan the camera move
    path = camera_path or camera.preset_path(settings.preset, depth, settings)

    # 3. Render the parallax take with the depth and holes the model needs
    frames = parallax.render(scene, path, holes=True, depth=True,
                             progress=lambda f, msg: report(0.1 * f, f"draft: {msg}"))

    # 4. Redraw it with the generative model (or keep it, with the reason)
    result = redraw(frames, photo.pixels, gen, seed=settings.seed, strength=settings.strength, pipe=pipe,
                    device=device, progress=lambda f, msg: report(0.1 + 0.85 * f, msg), cancel=cancel)

    # 5. Encode, and write the recipe beside the video
    recipe = recipe_for(photo, depth, settings, path, engine=result.settings["engine"])
    recipe["generative"] = {**gen.model_dump(), **result.settings}
    out = write_video(iter(result.frames), video, settings.fps,
                      loop_frames=len(result.frames) if path.loop else None)
    write_sidecars(out, recipe, depth)
    report(1.0, "done")
    return Take(video=Path(out), frames_dir=None, path=path, settings=settings, recipe=recipe,
                notices=tuple(photo.notices) + tuple(depth.notices) + result.notices)
