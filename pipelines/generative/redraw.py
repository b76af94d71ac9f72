"""The generative engine as the take pipeline's redraw stage: the parallax take is rendered first (the
model's draft, and what the user gets when the model cannot run), then redrawn by the model.

    take = render_take(photo, depth, RenderSettings(...), video="take.mp4",
                       redraw=Redraw(GenerativeSettings(engine="wan-vace", prompt="waves roll in")))
    take.notices   # e.g. "wan-vace needs a CUDA or Apple MPS GPU ...; the parallax take was delivered"
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Optional

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


@dataclass(frozen=True)
class Redraw:
    """The generative engine as the take pipeline's redraw stage (:class:`pipelines.render.take.Redraw`):
    ``gen`` says which model and how; ``pipe`` injects a loaded pipeline (None: checked, then loaded once
    per process); ``device`` overrides the device choice."""

    gen: GenerativeSettings
    pipe: Any = None
    device: Optional[str] = None

    def __call__(self, frames, photo, settings, *, progress: Progress = None,
                 cancel: Optional[threading.Event] = None) -> generative.GenerationResult:
        return redraw(frames, photo.pixels, self.gen, seed=settings.seed, strength=settings.strength, pipe=self.pipe,
                      device=self.device, progress=progress, cancel=cancel)


def render_generative_take(photo, depth, settings, gen: GenerativeSettings, *, video: str | os.PathLike,
                           pipe=None, device: Optional[str] = None, **kwargs):
    """:func:`pipelines.render.take.render_take` with the generative engine ``gen`` as its redraw stage."""
    from pipelines.render.take import render_take

    return render_take(photo, depth, settings, video=video, redraw=Redraw(gen, pipe, device), **kwargs)
