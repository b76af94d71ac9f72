"""The generative engine: a diffusers video model, steered by the prompt, that redraws the parallax take.

The parallax take is its draft and its fallback: the depth maps rendered along the same camera path are the
model's control video, the photo its first frame. Which model runs is a preset (presets/models/
generative.json: hub ids, licence, memory need, accepted frame counts and sizes).

    avail = generative.availability("wan-vace")             # fast, never downloads
    if avail.ok:
        result = generative.generate("wan-vace", photo=..., draft=frames.images, depth=frames.depth,
                                     holes=frames.holes, prompt="her hair moves in the wind", seed=7,
                                     strength=0.5, num_inference_steps=30, progress=report, cancel=event)

One pipeline per backend and device is loaded per process and reused by every request (loading takes
minutes); a lock lets one request at a time run it. Nothing here imports torch until it is needed. The model
itself runs in :func:`pipelines.generative.denoise.run`, the one function a ZeroGPU Space attaches a GPU to
(:mod:`pipelines.generative.zerogpu`).
"""
from __future__ import annotations

import functools
import json
import math
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from pipelines.core import paths, schema
from pipelines.core.errors import GenerationCancelled, InputError, ModelUnavailableError  # noqa: F401 (GenerationCancelled: part of this API)
from pipelines.core.schema import GenerativeModelPreset
from pipelines.generative import zerogpu
from pipelines.generative.backends import CallOptions, backend_for, torch_dtype
from pipelines.generative.inputs import (check_inputs, depth_to_control, frame_indices,  # noqa: F401 (API)
                                        model_inputs, resize, to_uint8)

Progress = Optional[Callable[[float, str], None]]

PRESETS_FILE = paths.PRESETS / "models" / "generative.json"


@dataclass(frozen=True)
class Availability:
    """Whether a backend can run here; if not, why (``reason``) and what would fix it (``fix``)."""

    ok: bool
    reason: str
    fix: str = ""


@dataclass(frozen=True)
class GenerationResult:
    """A generated take: frames (T, H, W, 3) uint8 RGB at the draft's frame count and size, the notices
    for the user (rounding, ignored inputs) and what actually ran (backend, seed, steps, model frames and
    size), so the take can be reproduced."""

    frames: np.ndarray
    notices: tuple[str, ...] = ()
    settings: dict = field(default_factory=dict)

    def __post_init__(self):
        f = self.frames
        if f.ndim != 4 or f.shape[-1] != 3 or f.dtype != np.uint8:
            raise ValueError(f"frames must be (T, H, W, 3) uint8, got {f.dtype} {f.shape}")


# ----------------------------------------------------------------------------------------------------
# Presets


@functools.lru_cache(maxsize=1)
def _presets() -> dict[str, GenerativeModelPreset]:
    raw = json.loads(PRESETS_FILE.read_text())
    return {name: schema.validate(GenerativeModelPreset, name=name, **spec) for name, spec in raw.items()}


def list_backends() -> list[str]:
    """Names of the generative backends, e.g. ["wan-vace", "animatediff-depth", "svd"]."""
    return list(_presets())


BACKENDS: tuple[str, ...] = tuple(list_backends())


def get_preset(backend: str) -> GenerativeModelPreset:
    presets = _presets()
    if not isinstance(backend, str) or backend not in presets:
        raise InputError(f"generative engine {schema.short(backend)} is unknown; choose one of: {', '.join(presets)}")
    return presets[backend]


def _sources(preset: GenerativeModelPreset, sources: Optional[dict[str, str]]) -> dict[str, str]:
    """Hub ids of every component, with ``sources`` (e.g. {"repo": "/models/wan"}) overriding them."""
    out = {"repo": preset.repo, **preset.components}
    for key, value in (sources or {}).items():
        if key not in out:
            raise InputError(f"sources key {key!r} is not a component of {preset.name}; use {sorted(out)}")
        out[key] = str(value)
    return out


# ----------------------------------------------------------------------------------------------------
# Availability: fast and honest, never a download


def default_device() -> str:
    """"cuda" if a CUDA GPU is usable, else "mps" on Apple silicon, else "cpu"."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def _in_local_cache(source: str) -> bool:
    """True if the model's config is on disk: a local folder, or the Hugging Face cache (no network)."""
    names = ("model_index.json", "config.json")
    if os.path.isdir(source) or _looks_like_path(source):
        return any(os.path.isfile(os.path.join(source, n)) for n in names)
    from huggingface_hub import try_to_load_from_cache

    return any(isinstance(try_to_load_from_cache(source, n), str) for n in names)


def _looks_like_path(source: str) -> bool:
    """Hub ids are "name" or "owner/name"; anything else (absolute, relative, ~) is a local folder."""
    return source.startswith((os.sep, ".", "~")) or source.count("/") > 1


def _memory_gib(device: str) -> Optional[float]:
    """Memory the model can use on ``device``, GiB: the GPU's total, or system RAM for mps/cpu."""
    if device.startswith("cuda"):
        import torch

        index = torch.device(device).index or 0
        return torch.cuda.get_device_properties(index).total_memory / 2**30
    try:
        import psutil
    except ImportError:
        return None
    return psutil.virtual_memory().total / 2**30


def availability(backend: str, device: Optional[str] = None, sources: Optional[dict[str, str]] = None,
                 startup: bool = False) -> Availability:
    """Can ``backend`` run here? Checks, in order: a GPU (CPU counts only when asked for explicitly), the
    weights in the local cache, enough memory and, on a ZeroGPU Space, that it was loaded at start-up
    (``startup=True`` skips that last check: it is what start-up loading asks). Fast: no download, no
    model load."""
    preset = get_preset(backend)
    dev = device or default_device()
    if dev == "cpu" and device is None:
        return Availability(False, f"{backend} needs a CUDA or Apple MPS GPU; none was found",
                            "run the studio on a machine with a GPU (e.g. a GPU Hugging Face Space); "
                            "the parallax engine works without one")
    missing = [s for s in _sources(preset, sources).values() if not _in_local_cache(s)]
    if missing:
        cmds = "; ".join(f"huggingface-cli download {m}" for m in missing)
        return Availability(False, f"{backend}: weights not in the local Hugging Face cache: {', '.join(missing)}",
                            f"download them once ({cmds}) or point HF_HOME at a cache that has them")
    mem = _memory_gib(dev)
    if mem is not None and mem < preset.memory_gb:
        return Availability(False, f"{backend} needs about {preset.memory_gb:g} GiB on {dev} even with CPU "
                                   f"offload; this one has {mem:.1f} GiB",
                            "use a GPU with more memory, or the parallax engine")
    if zerogpu.active() and not startup:
        key = pipeline_key(backend, dev, None, sources)
        if key not in _PIPELINES:
            return Availability(False, f"{backend} was not loaded when this ZeroGPU Space started",
                                "restart the Space (engines whose weights are present load at start-up; "
                                "its log says why one did not)")
        return Availability(True, f"{backend} is ready on ZeroGPU (up to {zerogpu.max_seconds()} s of GPU "
                                  "time per take)")
    note = " (CPU: expect hours)" if dev == "cpu" else ""
    return Availability(True, f"{backend} is ready on {dev}{note}")


# ----------------------------------------------------------------------------------------------------
# Loading: one pipeline per (backend, device, dtype, sources) per process

_PIPELINES: dict[tuple, Any] = {}
_LOAD_LOCK = threading.Lock()
_RUN_LOCKS: dict[int, threading.Lock] = {}


def _apply_memory_savers(pipe, device: str, preset: GenerativeModelPreset) -> list[str]:
    """Place ``pipe`` on ``device``: CPU offload on a GPU too small to hold every component, VAE slicing and
    tiling wherever the VAE supports them (they cut decode memory at a small speed cost)."""
    notices = []
    vae = getattr(pipe, "vae", None)
    for method in ("enable_slicing", "enable_tiling"):
        if vae is not None and hasattr(vae, method):
            try:
                getattr(vae, method)()
            except NotImplementedError:  # some VAEs declare the method but do not support it
                pass
    mem = _memory_gib(device) if device.startswith("cuda") else None
    # ZeroGPU wants every component moved to "cuda" at start-up; it offloads between requests by itself.
    if mem is not None and mem < preset.memory_gb_full and not zerogpu.active():
        pipe.enable_model_cpu_offload(device=device)
        notices.append(f"{preset.name}: model CPU offload on ({mem:.0f} GiB GPU < {preset.memory_gb_full:g} GiB)")
    else:
        pipe.to(device)
    return notices


def load_pipeline(backend: str, device: Optional[str] = None, dtype=None,
                  sources: Optional[dict[str, str]] = None):
    """The diffusers pipeline of ``backend`` on ``device`` (default: :func:`default_device`), loaded with
    ``from_pretrained`` from the preset's hub ids (``sources`` overrides them, e.g. with local folders) the
    first time and reused afterwards. ``dtype`` defaults to the preset's dtype for the device.
    Raises ModelUnavailableError when the weights cannot be loaded."""
    preset = get_preset(backend)
    dev = device or default_device()
    dtype = dtype or torch_dtype(preset, dev)
    srcs = _sources(preset, sources)
    key = pipeline_key(backend, dev, dtype, sources)
    with _LOAD_LOCK:
        if key in _PIPELINES:
            return _PIPELINES[key]
        try:
            pipe = backend_for(preset).load(preset, srcs, dtype)
        except (OSError, ValueError) as exc:  # missing files, offline hub, bad hub id, incompatible weights
            avail = availability(backend, dev, sources)
            fix = avail.fix or "check the hub ids in presets/models/generative.json"
            raise ModelUnavailableError(f"{backend}: could not load the weights ({exc}); {fix}") from exc
        _apply_memory_savers(pipe, dev, preset)
        pipe.set_progress_bar_config(disable=True)
        _PIPELINES[key] = pipe
        return pipe


def pipeline_key(backend: str, device: Optional[str] = None, dtype=None,
                 sources: Optional[dict[str, str]] = None) -> tuple:
    """The cache key of a loaded pipeline: plain data, so it can name the pipeline across ZeroGPU's process
    boundary, where the pipeline itself cannot travel."""
    preset = get_preset(backend)
    dev = device or default_device()
    dtype = dtype or torch_dtype(preset, dev)
    return (backend, dev, str(dtype), tuple(sorted(_sources(preset, sources).items())))


def cached_pipeline(key: tuple):
    """The pipeline loaded under ``key`` (see :func:`pipeline_key`) in this process. Takes no lock: on ZeroGPU
    this runs in a worker forked from the server, and a lock another request held at the fork would stay
    held there forever (a dict lookup is atomic anyway)."""
    pipe = _PIPELINES.get(key)
    if pipe is None:
        raise ModelUnavailableError(f"{key[0]} is not loaded in this process (key {key}); load it with "
                                    "load_pipeline first (on ZeroGPU: at start-up)")
    return pipe


def unload_all() -> None:
    """Drop every cached pipeline (frees GPU memory; the next request loads again)."""
    with _LOAD_LOCK:
        _PIPELINES.clear()


def run_lock(pipe) -> threading.Lock:
    """The lock that lets one request at a time run ``pipe`` (``setdefault`` is atomic; no lock around it,
    for the same reason as :func:`cached_pipeline`)."""
    return _RUN_LOCKS.setdefault(id(pipe), threading.Lock())


# ----------------------------------------------------------------------------------------------------
# Planning: what the model accepts


def plan_frames(preset: GenerativeModelPreset, num_frames: int) -> int:
    """The frame count closest to ``num_frames`` that the model accepts (step * k + offset, at most
    max_frames, at least one step)."""
    step, off = preset.frames_step, preset.frames_offset
    k = max(1 if step > 1 else 0, round((min(num_frames, preset.max_frames) - off) / step))
    n = k * step + off
    while n > preset.max_frames:
        n -= step
    return max(n, 1)


def plan_size(preset: GenerativeModelPreset, height: int, width: int) -> tuple[int, int]:
    """(height, width) with the draft's aspect ratio, multiples of size_multiple, at most max_area pixels."""
    m = preset.size_multiple
    scale = min(1.0, math.sqrt(preset.max_area / (height * width)))
    h = max(m, math.floor(height * scale / m + 0.5) * m)
    w = max(m, math.floor(width * scale / m + 0.5) * m)
    while h * w > preset.max_area and max(h, w) > m:
        if h >= w:
            h -= m
        else:
            w -= m
    return h, w


def estimate_seconds(backend: str, num_frames: int, height: int, width: int,
                     num_inference_steps: Optional[int] = None) -> Optional[float]:
    """Rough run time on a GPU like the preset's published run (None when the model card gives no
    figure): scaled linearly with pixels x frames x steps. Attention grows faster than that, so treat
    it as a lower bound for larger videos."""
    preset = get_preset(backend)
    ref = preset.reference_run
    if preset.reference_seconds is None or not ref:
        return None
    n = plan_frames(preset, num_frames)
    h, w = plan_size(preset, height, width)
    steps = num_inference_steps or preset.num_inference_steps
    work = n * h * w * steps / (ref["frames"] * ref["height"] * ref["width"] * ref["steps"])
    return preset.reference_seconds * work


# ----------------------------------------------------------------------------------------------------
# The run


def generate(backend: str, *, photo: np.ndarray, draft: np.ndarray, depth: np.ndarray, holes: np.ndarray,
             prompt: str, negative_prompt: str = "", seed: int = 0, strength: float = 0.5,
             num_inference_steps: Optional[int] = None, guidance_scale: Optional[float] = None,
             conditioning_scale: float = 1.0, pipe=None, device: Optional[str] = None,
             sources: Optional[dict[str, str]] = None, progress: Progress = None,
             cancel: Optional[threading.Event] = None) -> GenerationResult:
    """Redraw a parallax take with ``backend``.

    photo (H0, W0, 3) uint8; draft (T, H, W, 3) uint8 parallax frames; depth (T, H, W) float32 z-depth of
    each frame (world units, not ray length); holes (T, H, W) uint8, 255 = revealed by the camera.
    ``strength`` in [0, 1] is the studio's motion strength (denoising strength for video-to-video models).
    The model runs at the nearest frame count and size it accepts (a notice says so); the result is
    scaled back to the draft's T x H x W. ``pipe`` injects a pipeline (tests, or one the caller loaded);
    otherwise the per-process one (from ``sources``, default the preset's hub ids) is loaded.
    ``progress(fraction, message)`` is called after each step; setting ``cancel`` stops the run at the
    next step or the one after with GenerationCancelled. Out of memory raises ModelUnavailableError and
    leaves the process able to serve the next request; on a ZeroGPU Space, so does a take that would need
    more GPU time than one request may use (GPUTimeError, before anything runs).
    """
    # 1. Check the inputs and the settings
    preset = get_preset(backend)
    t, height, width = check_inputs(photo, draft, depth, holes)
    if not 0.0 <= strength <= 1.0:
        raise InputError(f"strength must be 0..1, got {strength}")
    if not 0 <= seed <= 2**31 - 1:
        raise InputError(f"seed must be 0..{2**31 - 1}, got {seed}")
    steps = num_inference_steps or preset.num_inference_steps
    if not 1 <= steps <= 150:
        raise InputError(f"num_inference_steps must be 1..150, got {steps}")
    opts = CallOptions(prompt=prompt or "", negative_prompt=negative_prompt or "", strength=float(strength),
                       num_inference_steps=int(steps), guidance_scale=float(guidance_scale or preset.guidance_scale),
                       conditioning_scale=float(conditioning_scale))
    report = progress or (lambda fraction, message: None)

    # 2. Round the frame count and size to what the model accepts
    n = plan_frames(preset, t)
    h, w = plan_size(preset, height, width)
    notices = []
    if n != t:
        notices.append(f"{backend} generates {n} frames (it takes {preset.frames_step}k+{preset.frames_offset}, "
                       f"at most {preset.max_frames}); they were retimed to the take's {t}")
    if (h, w) != (height, width):
        notices.append(f"{backend} works at {w}x{h} (multiples of {preset.size_multiple}, at most "
                       f"{preset.max_area} pixels); the result was scaled to {width}x{height}")

    # 3. Prepare the model's inputs: first frame, draft, depth control, holes
    inputs, more = model_inputs(photo, draft, depth, holes, n, h, w)
    notices += more
    backend_impl = backend_for(preset)
    kwargs, more = backend_impl.call_kwargs(inputs, opts, preset)
    notices += more
    steps_run = backend_impl.steps_run(kwargs, opts)

    # 4. On ZeroGPU, refuse a take longer than one request may use, before asking for a GPU
    zerogpu.check_duration(backend, n, h, w, steps_run)

    # 5. Load (or reuse) the pipeline
    if cancel is not None and cancel.is_set():
        raise GenerationCancelled(f"{backend}: cancelled before it started")
    report(0.0, f"{backend}: loading the model")
    if pipe is None:
        load_pipeline(backend, device=device, sources=sources)
        pipe = pipeline_key(backend, device, None, sources)  # plain data: it crosses ZeroGPU's process boundary

    # 6. Denoise, reporting progress and honouring cancel
    frames = _run(pipe, backend, kwargs, seed, steps_run, report, cancel, (n, h, w))

    # 7. Back to the take's frame count and size
    frames = resize(frames, height, width)
    frames = frames[frame_indices(frames.shape[0], t)]
    report(1.0, f"{backend}: done")
    settings = dict(engine=backend, seed=int(seed), strength=opts.strength, num_inference_steps=int(steps),
                    guidance_scale=opts.guidance_scale, conditioning_scale=opts.conditioning_scale,
                    prompt=opts.prompt, negative_prompt=opts.negative_prompt, model_frames=n, model_size=[w, h],
                    repo=preset.repo, components=dict(preset.components))
    return GenerationResult(frames=frames, notices=tuple(notices), settings=settings)


def _run(pipe, backend: str, kwargs: dict, seed: int, steps: int,
         report: Callable[[float, str], None], cancel: Optional[threading.Event],
         shape: tuple[int, int, int]) -> np.ndarray:
    """Drive :func:`pipelines.generative.denoise.run` (on ZeroGPU: in the GPU worker) and turn its events
    into progress, cancellation and the studio's errors."""
    from pipelines.generative import denoise

    events = denoise.run(pipe, backend, kwargs, int(seed), int(steps), shape)
    frames = None
    try:
        for event in events:
            kind = event[0]
            if kind == "step":
                i, total = event[1], event[2]
                report(min(1.0, i / total), f"{backend}: step {i}/{total}")
            if cancel is not None and cancel.is_set():
                raise GenerationCancelled(f"{backend}: cancelled")
            if kind == "oom":
                n, h, w = shape
                raise ModelUnavailableError(f"{backend} ran out of GPU memory at {n} frames of {w}x{h} ({event[1]}); "
                                            "try fewer frames or a smaller size, or close other GPU jobs; the "
                                            "parallax take is unaffected")
            if kind == "frames":
                frames = event[1]  # the generator ends after it: let it, so the GPU call ends normally
    finally:
        events.close()  # early (cancel, error): stops the model at its next step (ZeroGPU's stop signal)
    if frames is None:
        raise GenerationCancelled(f"{backend}: stopped before its last step")
    return frames
