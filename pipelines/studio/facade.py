"""The studio: one photo and a motion prompt in, several takes out. The Python API behind ``app.py``.

A :class:`Studio` prepares each photo once (validated pixels and depth, kept in a small in-memory LRU keyed
by the photo's pixel hash) and fits it to each output size once (crop to the aspect, resample, build the
3-D scene), so every take and every later click on the same photo skips that work. Each request writes into
its own fresh folder under ``output_root``; folders older than ``max_output_age_s`` are removed when a new
one is made.

The caches hold pure functions of the photo's pixels (nothing a user typed), so sharing them between users
leaks nothing and changes no result; everything per request (settings, seeds, output folder) is passed in.

Typical use::

    studio = Studio()
    result = studio.generate("photo.jpg", prompt="slow push in toward the mountain", num_takes=3)
    for take in result.takes:
        print(take.label, take.video)
"""
from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import numpy as np

from pipelines.core import photo as photo_io
from pipelines.studio import prompt as prompts
from pipelines.depth import DepthMap
from pipelines.core.errors import InputError
from pipelines.render.framing import crop_box, fit, output_size
from pipelines.core.schema import FinishSettings, GenerativeSettings, RenderSettings, validate
from pipelines.studio.takes import (SECONDS_PER_MPIX_FRAME, TAKE_OVERHEAD_SECONDS, estimate_seconds, random_seed,
                             take_label, take_settings)

#: ``progress(fraction in [0, 1], message)``; the app passes ``gr.Progress``.
Progress = Callable[[float, str], None]

#: Longest side of the photo the studio keeps (larger ones are downscaled with a notice).
MAX_PHOTO_SIDE = 4096
#: Longest side of the image depth is estimated on: depth is smooth, and estimators work at ~0.5 MP anyway.
DEPTH_SIDE = 1024
#: The default engine: the CPU parallax renderer. The others are the generative backends
#: (presets/models/generative.json), which redraw the parallax take on a GPU.
PARALLAX = "parallax"


@dataclass(frozen=True)
class Prepared:
    """A photo made ready once: pixels and depth.

    photo: validated RGB photo, longest side <= MAX_PHOTO_SIDE.
    depth: z-depth of the photo at DEPTH_SIDE resolution or less (same aspect as ``photo``).
    key: sha256 of the photo's pixels (cache key, recorded in every recipe).
    notices: what was changed on the way in (downscaled, flattened, depth fallback, ...).
    """

    photo: photo_io.Photo
    depth: DepthMap
    key: str
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Fitted:
    """A prepared photo cropped and resampled to one output size, with its scene.

    photo: (height, width, 3) uint8 pixels exactly the output size.
    depth: z-depth of the same size.
    scene: the renderer's scene for (photo, depth), or None when the renderer builds its own.
    """

    photo: photo_io.Photo
    depth: DepthMap
    scene: Any = None

    def __post_init__(self):
        if self.photo.size != self.depth.size:
            raise ValueError(f"photo {self.photo.size} and depth {self.depth.size} sizes differ")


@dataclass(frozen=True)
class TakeResult:
    """One rendered take: the video and what made it.

    video: MP4 path (H.264, yuv420p) inside the request's output folder.
    label: "Take 2 - seed 8 - Dolly in - strength 0.30" for users.
    settings: the settings that ran (seed and strength included), enough to re-render it.
    recipe: JSON-ready dict written next to the video: the renderer's recipe (engine that ran, fitted photo
        hash, camera path, versions) plus the source photo's hash, the crop box, the prompt and the plan.
    notices: what this take could not do as asked (e.g. the generative engine was unavailable).
    """

    video: Path
    label: str
    settings: RenderSettings
    recipe: dict
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class FinishResult:
    """A kept take finished for posting: the file (MP4, WebM or GIF), what was adapted on the way
    (audio trimmed, GIF shrunk, ...) and the settings that ran."""

    path: Path
    notices: tuple[str, ...]
    settings: FinishSettings


@dataclass(frozen=True)
class StudioResult:
    """Everything one click produced (from :meth:`Studio.iter_generate`: so far)."""

    takes: tuple[TakeResult, ...]
    plan: prompts.MotionPlan
    prepared: Optional[Prepared]  # None (and out_dir too) only in iter_generate's first, take-less result
    out_dir: Optional[Path]
    notices: tuple[str, ...] = ()
    seconds: float = 0.0
    depth_preview: Optional[np.ndarray] = field(default=None, repr=False)  # (H, W) uint8, white = near
    planned: int = 0  # takes this click makes; more than len(takes) while the others still render

    @property
    def complete(self) -> bool:
        """True when every planned take is in ``takes`` (the last result of a click)."""
        return len(self.takes) >= self.planned


class _LRU:
    """A small thread-safe LRU mapping; values must be immutable (they are shared between requests)."""

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key, value) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


# ----------------------------------------------------------------------------------------------------------
# The seams to the other stages: one function each, so swapping an implementation is a one-line change.

def estimate_depth(photo: photo_io.Photo) -> DepthMap:
    """Depth of ``photo`` from the depth stage (learned model when available, classical fallback)."""
    from pipelines import depth

    return depth.estimate(photo, estimator="auto")


def build_scene(photo: photo_io.Photo, depth: DepthMap):
    """The renderer's scene for a fitted photo (built once per photo and size)."""
    from pipelines.render import parallax

    return parallax.build_scene(photo, depth)


def render_video(fitted: Fitted, settings: RenderSettings, video: Path, progress: Optional[Progress]
                 ) -> tuple[Path, dict]:
    """Render one take of ``fitted`` to the MP4 file ``video``; returns its path and the renderer's recipe."""
    from pipelines.render import take as render

    take = render.render_take(fitted.photo, fitted.depth, settings, video=video, scene=fitted.scene,
                              progress=progress)
    return Path(take.video), dict(take.recipe)


def render_generative_video(fitted: Fitted, settings: RenderSettings, gen: GenerativeSettings, video: Path,
                            progress: Optional[Progress], pipe: Any = None,
                            cancel: Optional[threading.Event] = None) -> tuple[Path, dict, tuple[str, ...]]:
    """Render one take through the generative engine ``gen.engine`` (the parallax take when it cannot run
    here); returns its path, recipe and notices. ``pipe`` injects the pipeline (None: loaded once per
    process); setting ``cancel`` stops the model (GenerationCancelled)."""
    from pipelines.generative.redraw import render_generative_take

    take = render_generative_take(fitted.photo, fitted.depth, settings, gen, video=video, scene=fitted.scene,
                                  pipe=pipe, progress=progress, cancel=cancel)
    return Path(take.video), dict(take.recipe), take.notices


def engines() -> list[tuple[str, str]]:
    """(label, name) of every engine, parallax first: what the studio's engine selector offers."""
    from pipelines.generative import engine as generative

    return [("Parallax (CPU, seconds)", PARALLAX)] + [
        (f"{generative.get_preset(name).label} - GPU", name) for name in generative.list_backends()]


# ----------------------------------------------------------------------------------------------------------

class Studio:
    """Photo in, takes out. Thread-safe: one instance serves every user of the app.

    output_root: parent of the per-request output folders (default: a folder in the system temp dir).
    max_output_age_s: output folders older than this are deleted when a new request starts.
    cache_size: how many prepared photos (and, separately, fitted sizes) stay in memory.
    depth_fn / scene_fn / render_fn / generative_fn: the stage seams (default: the functions above); tests
        inject stubs.
    pipeline_fn: ``pipeline_fn(engine) -> diffusers pipeline`` for the generative engines; None (default)
        checks whether the engine can run here and loads its weights once per process when it can.
    """

    def __init__(self, output_root: str | Path | None = None, max_output_age_s: float = 3600.0,
                 cache_size: int = 4, depth_fn: Callable[[photo_io.Photo], DepthMap] = estimate_depth,
                 scene_fn: Optional[Callable] = build_scene, render_fn: Callable = render_video,
                 generative_fn: Callable = render_generative_video, pipeline_fn: Optional[Callable[[str], Any]] = None):
        self.output_root = Path(output_root) if output_root else Path(tempfile.gettempdir()) / "photo-studio-takes"
        self.max_output_age_s = float(max_output_age_s)
        self._prepared = _LRU(cache_size)
        self._fitted = _LRU(2 * cache_size)
        self._depth_fn, self._scene_fn, self._render_fn = depth_fn, scene_fn, render_fn
        self._generative_fn, self._pipeline_fn = generative_fn, pipeline_fn
        self._rate_lock = threading.Lock()
        self.seconds_per_mpix_frame = SECONDS_PER_MPIX_FRAME

    # -- 1. the photo, once ------------------------------------------------------------------------------
    def load(self, src: photo_io.PhotoLike | None) -> photo_io.Photo:
        """Validate any photo source (path, bytes, PIL image, array) into a Photo."""
        if src is None or (isinstance(src, str) and not src.strip()):
            raise InputError("no photo given; upload a photo (JPEG, PNG or WebP) or pick an example")
        return photo_io.load_image(src, max_side=MAX_PHOTO_SIDE)

    def prepare(self, src: photo_io.PhotoLike | photo_io.Photo, progress: Optional[Progress] = None) -> Prepared:
        """The photo with its depth, computed once per distinct photo and then served from memory."""
        photo = src if isinstance(src, photo_io.Photo) else self.load(src)
        key = photo.sha256
        hit = self._prepared.get(key)
        if hit is not None:
            # Notices of this upload (e.g. "downscaled") still apply even when depth came from the cache.
            return Prepared(hit.photo, hit.depth, key, tuple(dict.fromkeys(photo.notices + hit.notices)))
        if progress:
            progress(0.02, "Estimating depth")
        small = photo
        if max(photo.size) > DEPTH_SIDE:
            s = DEPTH_SIDE / max(photo.size)
            w, h = max(2, round(photo.size[0] * s)), max(2, round(photo.size[1] * s))
            from PIL import Image

            small = photo_io.Photo(np.asarray(Image.fromarray(photo.pixels).resize((w, h), Image.Resampling.BOX)))
        depth = self._depth_fn(small)
        if not isinstance(depth, DepthMap):
            raise TypeError(f"depth_fn returned {type(depth).__name__}, not DepthMap")
        prepared = Prepared(photo, depth, key, tuple(dict.fromkeys(photo.notices + depth.notices)))
        self._prepared.put(key, prepared)
        return prepared

    def fitted(self, prepared: Prepared, size: tuple[int, int], progress: Optional[Progress] = None) -> Fitted:
        """The prepared photo at one output size with its scene; cached per (photo, size)."""
        key = (prepared.key, size)
        hit = self._fitted.get(key)
        if hit is not None:
            return hit
        if progress:
            progress(0.08, "Building the 3-D scene")
        photo, depth = fit(prepared.photo, prepared.depth, size)
        scene = self._scene_fn(photo, depth) if self._scene_fn else None
        result = Fitted(photo, depth, scene)
        self._fitted.put(key, result)
        return result

    def warm_up(self) -> float:
        """Run the depth stage once on a small synthetic photo, so the first user does not wait for the
        depth stack to import and load (several seconds). Returns the seconds it took."""
        t0 = time.perf_counter()
        ramp = np.linspace(0, 255, 64, dtype=np.float32)
        pixels = np.dstack([np.add.outer(ramp, ramp) / 2, np.tile(ramp, (64, 1)), np.tile(ramp[:, None], (1, 64))])
        self._depth_fn(photo_io.Photo(np.ascontiguousarray(pixels.astype(np.uint8))))
        return time.perf_counter() - t0

    def is_prepared(self, photo: photo_io.Photo) -> bool:
        return self._prepared.get(photo.sha256) is not None

    # -- 2. output folders -------------------------------------------------------------------------------
    def new_output_dir(self) -> Path:
        """A fresh folder for one request; removes request folders older than ``max_output_age_s``."""
        self.output_root.mkdir(parents=True, exist_ok=True)
        self.cleanup()
        path = self.output_root / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:12]}"
        path.mkdir()
        return path

    def cleanup(self, max_age_s: float | None = None) -> int:
        """Delete request folders older than ``max_age_s`` (default ``max_output_age_s``); returns how many."""
        max_age = self.max_output_age_s if max_age_s is None else max_age_s
        now, removed = time.time(), 0
        if not self.output_root.is_dir():
            return 0
        for child in self.output_root.iterdir():
            try:
                if child.is_dir() and now - child.stat().st_mtime > max_age:
                    shutil.rmtree(child, ignore_errors=True)
                    removed += 1
            except FileNotFoundError:  # another request cleaned it first
                continue
        return removed

    # -- 3. estimate and render --------------------------------------------------------------------------
    def estimate(self, width: int, height: int, num_frames: int, num_takes: int, depth_cached: bool = False) -> float:
        with self._rate_lock:
            rate = self.seconds_per_mpix_frame
        return estimate_seconds(width, height, num_frames, num_takes, depth_cached, rate)

    def _learn_rate(self, seconds: float, settings: RenderSettings) -> None:
        mpix_frames = settings.num_frames * settings.width * settings.height / 1e6
        if mpix_frames < 5.0:  # small takes are all overhead; they say nothing about the per-pixel rate
            return
        rate = max(0.0, seconds - TAKE_OVERHEAD_SECONDS) / mpix_frames
        with self._rate_lock:
            self.seconds_per_mpix_frame = 0.5 * self.seconds_per_mpix_frame + 0.5 * rate

    def plan(self, prompt: str = "", preset: Optional[str] = None,
             strength: float = prompts.DEFAULT_STRENGTH) -> prompts.MotionPlan:
        """The motion plan of a prompt; a hand-picked ``preset`` replaces the move, the words still set
        the strength."""
        names = self.preset_names()
        plan = prompts.parse_prompt(prompt, base_strength=strength, presets=names)
        if not preset:
            return plan
        if names is not None and preset not in names:
            raise InputError(f"preset {preset!r} is unknown; choose one of {', '.join(names)}")
        why = f"Preset {preset} chosen by hand; " + plan.explanation[0].lower() + plan.explanation[1:]
        return prompts.MotionPlan(preset, plan.strength, prompts.plan_label(preset, plan.strength), why,
                                  plan.words, False)

    def generate(self, *args: Any, **kwargs: Any) -> StudioResult:
        """Render the takes and return them all at once: the last result of :meth:`iter_generate`
        (same arguments)."""
        for result in self.iter_generate(*args, **kwargs):
            pass
        return result

    def iter_generate(self, photo: photo_io.PhotoLike | photo_io.Photo | None, prompt: str = "",
                      preset: Optional[str] = None, strength: float = prompts.DEFAULT_STRENGTH,
                      seed: Optional[int] = None, num_takes: int = 1, vary: str = "seed",
                      duration: Optional[float] = None, fps: Optional[int] = None, aspect: str = "photo",
                      long_side: int = 960, engine: str = PARALLAX, negative_prompt: str = "",
                      num_inference_steps: Optional[int] = None, progress: Optional[Progress] = None,
                      cancel: Optional[threading.Event] = None) -> Iterator[StudioResult]:
        """Render ``num_takes`` takes of ``photo`` moving as ``prompt`` describes, yielding a StudioResult
        once the settings are checked (no takes yet) and again as each take is ready (its ``takes`` grow to
        ``planned``), so the first take can be watched while the others render. Bad values raise before
        anything is yielded or rendered.

        preset: a camera preset name, or None to take the move from the prompt (the prompt's strength
            words still apply to ``strength``).
        seed: None draws a random seed (it is recorded in each take).
        aspect / long_side: output aspect ("photo", "16:9", "9:16", "1:1", "4:5") and longest side in px.
        duration / fps: None uses the schema defaults.
        engine: "parallax" (default), or a generative backend (see :func:`engines`) that redraws each
            parallax take, steered by ``prompt`` and ``negative_prompt``; where it cannot run, the parallax
            take is delivered and a notice says why.
        progress: ``progress(fraction, message)``; the first message is the time estimate.
        cancel: setting it stops the work: the generative model stops (that take is delivered as its
            parallax draft) and no further take starts; the takes made so far are returned
            (GenerationCancelled when it was set before the first take).
        """
        t0 = time.perf_counter()
        say = progress or (lambda frac, msg: None)

        # 1. Validate everything before any heavy work, so bad values fail fast and clearly
        photo_obj = photo if isinstance(photo, photo_io.Photo) else self.load(photo)
        plan = self.plan(prompt, preset, strength)
        size = output_size(photo_obj.size, aspect, long_side)
        timing = {k: v for k, v in (("duration", duration), ("fps", fps)) if v is not None}
        seed = random_seed() if seed is None else seed
        settings = take_settings(plan, num_takes, seed, vary, width=size[0], height=size[1], **timing)
        gen = self._generative_settings(engine, prompt, negative_prompt, num_inference_steps)
        secs = self.estimate(size[0], size[1], settings[0].num_frames, num_takes, self.is_prepared(photo_obj))
        say(0.0, f"About {secs:.0f} s for {num_takes} take(s) of {settings[0].duration:g} s at {size[0]}x{size[1]}")

        takes: list[TakeResult] = []
        prepared = out_dir = preview = None

        def result(planned: int, *more: str) -> StudioResult:
            notices = list(prepared.notices if prepared else ()) + [n for t in takes for n in t.notices] + list(more)
            return StudioResult(tuple(takes), plan, prepared, out_dir, tuple(dict.fromkeys(notices)),
                                time.perf_counter() - t0, preview, planned)

        yield result(len(settings))  # the settings hold: the caller can clear old takes and show the plan
        # 2. Depth, once per photo
        prepared = self.prepare(photo_obj, progress=say)
        preview = depth_preview(prepared.depth)
        # 3. Crop and resample to the output size and build the scene, once per photo and size
        fitted = self.fitted(prepared, size, progress=say)
        # 4. Render the takes into this request's own folder
        out_dir = self.new_output_dir()

        for i, s in enumerate(settings):
            if cancel is not None and cancel.is_set():
                break
            takes.append(self._render_one(fitted, prepared, plan, prompt, s, gen, i, len(settings), out_dir, say,
                                          cancel))
            if i + 1 < len(settings):
                yield result(len(settings))
        if not takes:
            from pipelines.generative.engine import GenerationCancelled

            raise GenerationCancelled("stopped before the first take was made; nothing was rendered")
        say(1.0, "Done")
        if len(takes) < len(settings):
            yield result(len(takes), f"cancelled: {len(takes)} of {len(settings)} take(s) made")
        else:
            yield result(len(takes))

    def _generative_settings(self, engine: str, prompt: str, negative_prompt: str,
                             num_inference_steps: Optional[int]) -> Optional[GenerativeSettings]:
        """None for the parallax engine; else the validated settings of a known generative backend."""
        if engine in (None, "", PARALLAX):
            return None
        from pipelines.generative import engine as generative

        generative.get_preset(engine)  # InputError naming the engines that exist
        return validate(GenerativeSettings, engine=engine, prompt=prompt or "", negative_prompt=negative_prompt or "",
                        num_inference_steps=num_inference_steps)

    def engine_status(self, engine: str):
        """Whether ``engine`` can run here (a ``generative.Availability``: ok, reason, fix); fast: no
        download, no model load."""
        from pipelines.generative import engine as generative

        if engine in (None, "", PARALLAX):
            return generative.Availability(True, "the parallax engine runs on this machine's CPU")
        generative.get_preset(engine)
        if self._pipeline_fn is not None:
            return generative.Availability(True, f"{engine} is ready (pipeline supplied to the studio)")
        return generative.availability(engine)

    def _render_one(self, fitted: Fitted, prepared: Prepared, plan: prompts.MotionPlan, prompt: str,
                    s: RenderSettings, gen: Optional[GenerativeSettings], i: int, n: int, out_dir: Path,
                    say: Progress, cancel: Optional[threading.Event]) -> TakeResult:
        lo, hi = 0.1 + 0.9 * i / n, 0.1 + 0.9 * (i + 1) / n

        def take_progress(frac: float, msg: str = "") -> None:
            frac = min(1.0, max(0.0, float(frac)))
            # Frames stream into the encoder; after the last one only the encoder's tail is left.
            say(lo + (hi - lo) * frac, f"Take {i + 1}/{n}: {'encoding' if frac >= 1.0 else msg or 'rendering'}")

        take_progress(0.0, "rendering")
        # A telling file name: kept takes are downloaded side by side.
        engine_part = f"-{gen.engine}" if gen else ""
        name = f"take{i + 1}-{s.preset}-seed{s.seed}-strength{s.strength:.2f}{engine_part}.mp4"
        t_take = time.perf_counter()
        notices: tuple[str, ...] = ()
        if gen is None:
            video, recipe = self._render_fn(fitted, s, out_dir / name, take_progress)
            self._learn_rate(time.perf_counter() - t_take, s)
        else:
            video, recipe, notices = self._render_generative(fitted, s, gen, out_dir / name, take_progress, cancel)
        # The renderer saw the fitted photo; the source photo and the crop make the take reproducible.
        box = crop_box(prepared.photo.size, (s.width, s.height))
        recipe = dict(recipe, source_photo_sha256=prepared.key, crop_box=list(box),
                      prompt=prompt, plan=plan.label, settings=s.model_dump(), video=Path(video).name)
        Path(str(video) + ".json").write_text(json.dumps(recipe, indent=1))
        label = take_label(i, s)
        if gen is not None:
            ran = recipe.get("engine", PARALLAX)
            label += f" - {ran}" if ran == gen.engine else f" - parallax ({gen.engine} did not run)"
        fresh = tuple(x for x in notices if x not in prepared.notices)
        return TakeResult(Path(video), label, s, recipe, fresh)

    def _render_generative(self, fitted: Fitted, s: RenderSettings, gen: GenerativeSettings, video: Path,
                           progress: Progress, cancel: Optional[threading.Event]):
        """One generative take; when the user cancels, the take is the parallax draft, with a notice."""
        from pipelines.generative.engine import GenerationCancelled

        pipe = self._pipeline_fn(gen.engine) if self._pipeline_fn is not None else None
        try:
            return self._generative_fn(fitted, s, gen, video, progress, pipe=pipe, cancel=cancel)
        except GenerationCancelled:
            path, recipe = self._render_fn(fitted, s, video, progress)
            recipe = dict(recipe, engine=PARALLAX, generative={**gen.model_dump(), "cancelled": True})
            return path, recipe, (f"{gen.engine} was cancelled; {path.name} is the parallax take",)

    # -- 4. finishing a kept take -----------------------------------------------------------------------
    def own_take(self, video: str | os.PathLike) -> Path:
        """``video`` as a take this studio rendered (a file in one of its request folders), else InputError:
        the studio finishes only its own takes, never an arbitrary file on the server."""
        root = self.output_root.resolve()
        path = Path(video).resolve() if video else root
        if path.parent.parent != root or path.suffix != ".mp4":
            raise InputError(f"{Path(str(video)).name!r} is not a take of this studio; keep a take first")
        if not path.is_file():
            raise InputError(f"take {path.name!r} is gone (takes are kept {self.max_output_age_s / 3600:g} h); "
                             "generate it again")
        return path

    def keep(self, video: str | os.PathLike) -> Path:
        """Mark a take as kept: its folder counts as new again, so clean-up does not remove it while the
        user finishes it. Returns the take's path."""
        path = self.own_take(video)
        os.utime(path.parent)
        return path

    def finish(self, video: str | os.PathLike, settings: Optional[FinishSettings] = None,
               progress: Optional[Progress] = None, **values: Any) -> FinishResult:
        """Finish a take of this studio for posting: caption, title, sound, aspect, format and loop from
        ``settings`` (or the FinishSettings fields in ``values``). The take is left as it is; the finished
        file goes to a fresh request folder, named after the take."""
        settings = settings if settings is not None else validate(FinishSettings, **values)
        take = self.keep(video)
        from pipelines.finish import compose as finishing

        finishing.preflight(settings)  # fonts and audio, before a folder is made
        ext = settings.format or "mp4"
        name = f"{take.stem}-{settings.aspect.replace(':', 'x')}-{settings.loop}.{ext}"
        notices: list[str] = []
        path = finishing.finish_take(take, settings, self.new_output_dir() / name, progress=progress,
                                     notices=notices)
        return FinishResult(path, tuple(dict.fromkeys(notices)), settings)

    @staticmethod
    def preset_names() -> Optional[tuple[str, ...]]:
        """The camera presets that exist, or None before the camera stage is installed."""
        try:
            from pipelines.render import camera
        except ImportError:
            return None
        return tuple(camera.list_presets())


def depth_preview(depth: DepthMap) -> np.ndarray:
    """(H, W) uint8 picture of the depth: white = near."""
    rel = depth.relative
    if not math.isfinite(float(rel.max())):
        raise ValueError("depth has no finite values")
    return np.round(rel * 255.0).astype(np.uint8)
