"""The generative engine on a Hugging Face ZeroGPU Space, where a GPU is attached only while one decorated
function runs, and each visitor has a few minutes of GPU time a day.

Off a ZeroGPU Space nothing here changes anything: :func:`GPU` hands back the function it decorates, and
neither ``spaces`` nor torch is imported. On a ZeroGPU Space (``SPACES_ZERO_GPU`` is true):

- importing this module imports ``spaces``, which must happen before anything initialises CUDA, so
  ``app.py`` imports it first;
- exactly one function is decorated: :func:`pipelines.generative.denoise.run`, the denoising loop. Its
  duration is :func:`run_seconds`: the engine's speed from presets/models/generative.json scaled to the
  take's frames, size and steps, with a margin and an allowance for attaching the GPU;
- a take that would need more than :func:`max_seconds` is refused before the GPU is asked for
  (:func:`check_duration`; the studio then delivers the parallax take with the reason);
- :func:`load_at_startup` loads, before the server starts, every engine whose weights are on disk and
  moves it to "cuda" there, outside the decorated function: ZeroGPU packs those weights once and moves
  them onto each GPU it attaches.

Quotas (hub docs, spaces-zerogpu.md, "Usage tiers"): 2 min a day unauthenticated, 3.5 min with a free
account, 25 min with PRO. Only the seconds actually used are charged, but a request whose duration is
more than what the visitor has left is refused by ZeroGPU, so asking for much more than a take needs
locks visitors out early.
"""
from __future__ import annotations

import math
import os
from typing import Any, Callable, Optional, TypeVar

from pipelines.core.errors import ModelUnavailableError

F = TypeVar("F", bound=Callable[..., Any])

#: Environment variable ZeroGPU Spaces set (read the way the ``spaces`` package reads it).
ZERO_GPU_ENV = "SPACES_ZERO_GPU"
#: Environment variable that overrides :data:`DEFAULT_MAX_SECONDS` (a Space variable, e.g. for PRO visitors).
MAX_SECONDS_ENV = "STUDIO_ZEROGPU_MAX_SECONDS"
#: Longest GPU time one take may ask for: a free account's whole daily quota (3.5 min). Longer takes are
#: refused up front instead of failing at ZeroGPU's door or using up a visitor's day.
DEFAULT_MAX_SECONDS = 210
#: Seconds for ZeroGPU to attach a GPU, start its worker and move the packed weights onto the GPU, before
#: the first step. A cautious allowance, not a measurement (bench/gpu_check.py cannot see ZeroGPU's side).
ATTACH_SECONDS = 15.0
#: The engines' speeds come from other GPUs (model cards), so a take asks for this much more than them.
MARGIN = 1.25


class GPUTimeError(ModelUnavailableError):
    """A take would need more ZeroGPU time than one request may use; nothing ran."""


def active() -> bool:
    """True on a ZeroGPU Space: ``SPACES_ZERO_GPU`` is "1", "t" or "true" (any case), as ``spaces`` reads it."""
    return os.environ.get(ZERO_GPU_ENV, "").lower() in ("1", "t", "true")


if active():
    # Before torch: `spaces` refuses to work once CUDA is initialised, and patches torch for packing.
    import spaces  # noqa: F401


def GPU(duration: Callable[..., float] | float) -> Callable[[F], F]:
    """``@spaces.GPU(duration=duration)`` on a ZeroGPU Space; elsewhere a decorator that returns the
    function itself. ``duration`` is seconds, or a callable that receives the decorated function's
    arguments and returns seconds."""
    if not active():
        return lambda fn: fn
    import spaces

    return spaces.GPU(duration=duration)


def max_seconds() -> int:
    """Most GPU seconds one take may ask for: ``STUDIO_ZEROGPU_MAX_SECONDS`` or :data:`DEFAULT_MAX_SECONDS`."""
    raw = os.environ.get(MAX_SECONDS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_SECONDS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        from pipelines.core.errors import InputError

        raise InputError(f"{MAX_SECONDS_ENV} must be a whole number of seconds >= 1, got {raw!r}; unset it "
                         f"for the default {DEFAULT_MAX_SECONDS} s")
    return value


def gpu_seconds(backend: str, num_frames: int, height: int, width: int, num_inference_steps: int) -> float:
    """GPU seconds one take of ``backend`` needs at the model's own frame count and size (``num_frames``,
    ``height``, ``width`` are rounded to what the model accepts first): the engine's speed scaled by
    frames x pixels x steps, times :data:`MARGIN`, plus :data:`ATTACH_SECONDS`. An engine without a speed
    figure asks for :func:`max_seconds`."""
    from pipelines.generative import engine

    secs = engine.estimate_seconds(backend, num_frames, height, width, num_inference_steps)
    if secs is None:
        return float(max_seconds())
    return ATTACH_SECONDS + MARGIN * secs


def run_seconds(pipe, backend: str, kwargs: dict, seed: int, steps: int, shape: tuple[int, int, int]) -> int:
    """The duration of :func:`pipelines.generative.denoise.run` (same arguments, as ZeroGPU calls it):
    whole seconds, never more than :func:`max_seconds`."""
    n, h, w = shape
    return min(max_seconds(), math.ceil(gpu_seconds(backend, n, h, w, steps)))


def check_duration(backend: str, num_frames: int, height: int, width: int, num_inference_steps: int) -> None:
    """On ZeroGPU, raise GPUTimeError (a ModelUnavailableError, so the parallax take is delivered) when the
    take would need more than :func:`max_seconds`; elsewhere do nothing."""
    if not active():
        return
    secs = gpu_seconds(backend, num_frames, height, width, num_inference_steps)
    limit = max_seconds()
    if secs > limit:
        raise GPUTimeError(
            f"{backend} would need about {secs:.0f} s of ZeroGPU time for {num_frames} frames at {width}x{height} "
            f"with {num_inference_steps} steps, more than the {limit} s one take may use on this Space "
            f"(a free account has {DEFAULT_MAX_SECONDS} s a day); nothing ran and no quota was used. "
            "Choose a shorter take, a smaller output size or fewer steps")


def load_at_startup(backends: Optional[list[str]] = None) -> dict[str, str]:
    """On ZeroGPU, load every engine (or those in ``backends``) whose weights are on disk, on "cuda", before
    the server starts; returns {engine: "loaded" or why not}. Elsewhere returns {} and loads nothing (engines
    load on their first take there). Call it before ``launch()``: ZeroGPU packs the weights at launch."""
    if not active():
        return {}
    from pipelines.generative import denoise  # noqa: F401  (the GPU function is registered before launch)
    from pipelines.generative import engine

    report = {}
    for name in backends or engine.list_backends():
        avail = engine.availability(name, "cuda", startup=True)
        if not avail.ok:
            report[name] = avail.reason
            continue
        try:
            engine.load_pipeline(name, device="cuda")
        except ModelUnavailableError as exc:
            report[name] = str(exc)
        else:
            report[name] = "loaded"
    return report
