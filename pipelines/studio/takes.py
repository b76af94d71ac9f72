"""The takes of one click: their settings (a seed series or a strength sweep around the plan), their labels,
and the time estimate shown before rendering. Pure functions; the studio calls them."""
from __future__ import annotations

import secrets
import threading
from typing import Any, Optional

import numpy as np

from pipelines.studio import prompt as prompts
from pipelines.core.schema import RenderSettings, StudioRequest, bound, choices, validate

#: How the takes of one click differ, and how many one click makes (the schema's).
VARY = tuple(choices(StudioRequest, "vary"))
MAX_TAKES = bound(StudioRequest, "num_takes", "le")
#: Strength spread of a strength sweep around the planned strength (takes span plan +- this).
SWEEP_HALF_WIDTH = 0.25

# Time model for the estimate shown before rendering: seconds per megapixel-frame (render + encode) and
# for depth. Starting values from bench/bench_studio.py on the 2-core build machine; a Studio refines the
# render figure from the takes it has timed.
SECONDS_PER_MPIX_FRAME = 0.05
DEPTH_SECONDS = 1.5
TAKE_OVERHEAD_SECONDS = 0.3


def take_settings(plan: prompts.MotionPlan, num_takes: int, seed: Optional[int], vary: str, **timing: Any
                  ) -> list[RenderSettings]:
    """The settings of each take: ``vary="seed"`` gives seeds seed, seed+1, ...; ``vary="strength"`` keeps
    the seed and spreads strength evenly over plan.strength +- SWEEP_HALF_WIDTH (clipped to 0..1); a seed of
    None draws one. ``num_takes``, ``vary`` and ``seed`` are checked against :class:`StudioRequest`.
    ``timing`` holds the other RenderSettings fields (duration, fps, width, height, fov_deg)."""
    request = validate(StudioRequest, num_takes=num_takes, vary=vary, seed=seed)
    num_takes, vary = request.num_takes, request.vary
    seed = random_seed() if request.seed is None else request.seed
    seed_hi = bound(RenderSettings, "seed", "le")
    if vary == "strength" and num_takes > 1:
        lo = max(0.0, plan.strength - SWEEP_HALF_WIDTH)
        hi = min(1.0, plan.strength + SWEEP_HALF_WIDTH)
        strengths = [round(float(s), 3) for s in np.linspace(lo, hi, num_takes)]
        seeds = [seed] * num_takes
    else:
        strengths = [plan.strength] * num_takes
        # past the top the series wraps to 0
        seeds = [seed + i if seed + i <= seed_hi else seed + i - seed_hi - 1 for i in range(num_takes)]
    return [validate(RenderSettings, preset=plan.preset, strength=s, seed=sd, **timing)
            for s, sd in zip(strengths, seeds)]


def random_seed() -> int:
    """A fresh seed in the schema's range (recorded in the take, so the take stays reproducible)."""
    return secrets.randbelow(int(bound(RenderSettings, "seed", "le")) + 1)


def take_label(index: int, settings: RenderSettings) -> str:
    return (f"Take {index + 1} - seed {settings.seed} - {prompts.preset_label(settings.preset)}"
            f" - strength {settings.strength:.2f}")


def estimate_seconds(width: int, height: int, num_frames: int, num_takes: int, depth_cached: bool = False,
                     seconds_per_mpix_frame: float = SECONDS_PER_MPIX_FRAME) -> float:
    """Rough wall time of one click: depth (unless cached) plus each take's render and encode."""
    render = num_takes * (num_frames * width * height / 1e6 * seconds_per_mpix_frame + TAKE_OVERHEAD_SECONDS)
    return render + (0.0 if depth_cached else DEPTH_SECONDS)


class RenderRate:
    """The render rate the estimate uses, seconds per megapixel-frame: starts at SECONDS_PER_MPIX_FRAME and
    follows the takes this process has timed (a running average; thread-safe)."""

    def __init__(self, seconds_per_mpix_frame: float = SECONDS_PER_MPIX_FRAME):
        self._rate = float(seconds_per_mpix_frame)
        self._lock = threading.Lock()

    @property
    def seconds_per_mpix_frame(self) -> float:
        with self._lock:
            return self._rate

    def learn(self, seconds: float, settings: RenderSettings, takes: int = 1) -> None:
        """Fold in ``takes`` parallax takes like ``settings`` that took ``seconds`` in all to render and encode
        (a click's takes overlap, so they are timed together)."""
        mpix_frames = takes * settings.num_frames * settings.width * settings.height / 1e6
        if mpix_frames < 5.0 * takes:  # small takes are all overhead; they say nothing about the per-pixel rate
            return
        rate = max(0.0, seconds - takes * TAKE_OVERHEAD_SECONDS) / mpix_frames
        with self._lock:
            self._rate = 0.5 * self._rate + 0.5 * rate
