"""The studio: one photo and a motion prompt in, several takes out. The Python API behind ``app.py``.

A :class:`Studio` prepares each photo once and fits it to each output size once (:mod:`.photos`), renders each
take through the one take pipeline (:mod:`pipelines.render.take`, reached through :class:`.stages.Stages`) into
a fresh request folder (:mod:`.outputs`), and finishes kept takes. Everything per request (settings, seeds,
output folder) is passed in; one instance serves every user of the app.

Typical use::

    studio = Studio()
    result = studio.generate("photo.jpg", prompt="slow push in toward the mountain", num_takes=3)
    for take in result.takes:
        print(take.label, take.video)
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import numpy as np

from pipelines.core import photo as photo_io
from pipelines.core.errors import GenerationCancelled, InputError
from pipelines.core.recipe import DepthSource, Recipe, Source
from pipelines.core.schema import FinishSettings, GenerativeSettings, RenderSettings, StudioRequest, short, validate
from pipelines.render.framing import crop_box, output_size, pixel_box
from pipelines.render.take import depth_sha256
from pipelines.studio import prompt as prompts
from pipelines.studio.outputs import OutputFolders
from pipelines.studio.live import Segment, Segments, run_beside, run_overlapped
from pipelines.studio.photos import Fitted, PhotoCache, Prepared, depth_preview
from pipelines.studio.quality import QualityEncodes, render_again
from pipelines.studio.stages import PARALLAX, Stages
from pipelines.studio.takes import RenderRate, estimate_seconds, random_seed, take_label, take_settings

#: ``progress(fraction in [0, 1], message)``; the app passes ``gr.Progress``.
Progress = Callable[[float, str], None]

#: Longest side of the photo the studio keeps (larger ones are downscaled with a notice).
MAX_PHOTO_SIDE = 4096


@dataclass(frozen=True)
class TakeResult:
    """One rendered take: the video and what made it.

    video: MP4 path (H.264, yuv420p) inside the request's output folder.
    label: "Take 2 - seed 8 - Dolly in - strength 0.30" for users.
    settings: the settings that ran (seed and strength included), enough to re-render it.
    recipe: the Recipe written next to the video (source photo hash, depth source, crop, prompt and plan,
        settings, engine that ran, versions): ``python -m pipelines replay`` renders it again.
    notices: what this take could not do as asked (e.g. the generative engine was unavailable).
    """

    video: Path
    label: str
    settings: RenderSettings
    recipe: Recipe
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
    live: Optional[Segment] = None  # iter_generate(stream=True): the first take's newest segment while it renders

    @property
    def complete(self) -> bool:
        """True when every planned take is in ``takes`` (the last result of a click)."""
        return len(self.takes) >= self.planned


class Studio:
    """Photo in, takes out. Thread-safe: one instance serves every user of the app.

    output_root: parent of the per-request output folders (default: a folder in the system temp dir).
    max_output_age_s: output folders older than this are deleted when a new request starts.
    cache_size: how many prepared photos (and, separately, fitted sizes) stay in memory.
    stages: the depth stage, the scene builder, the take pipeline and the generative pipelines
        (default: the real ones); tests pass stand-ins.
    """

    def __init__(self, output_root: str | Path | None = None, max_output_age_s: float = 3600.0,
                 cache_size: int = 4, stages: Stages = Stages()):
        root = Path(output_root) if output_root else Path(tempfile.gettempdir()) / "photo-studio-takes"
        self.outputs = OutputFolders(root, max_output_age_s)
        self.stages = stages
        self.photos = PhotoCache(stages.depth, stages.scene, cache_size)
        self.rate = RenderRate()
        self._rendering = 0  # clicks rendering now: background quality encodes wait for them
        self._count = threading.Lock()
        self.quality = QualityEncodes(render_again(self.photos, stages.take), lambda: self._rendering > 0)

    # -- 1. the photo, once ------------------------------------------------------------------------------
    def load(self, src: photo_io.PhotoLike | None) -> photo_io.Photo:
        """Validate any photo source (path, bytes, PIL image, array) into a Photo."""
        if src is None or (isinstance(src, str) and not src.strip()):
            raise InputError("no photo given; upload a photo (JPEG, PNG or WebP) or pick an example")
        return photo_io.load_image(src, max_side=MAX_PHOTO_SIDE)

    def prepare(self, src: photo_io.PhotoLike | photo_io.Photo, progress: Optional[Progress] = None) -> Prepared:
        """The photo with its depth, computed once per distinct photo and then served from memory."""
        return self.photos.prepare(src if isinstance(src, photo_io.Photo) else self.load(src), progress)

    def warm_up(self) -> float:
        """Run the depth stage once on a small synthetic photo, so the first user does not wait for the
        depth stack to import and load (several seconds). Returns the seconds it took."""
        t0 = time.perf_counter()
        ramp = np.linspace(0, 255, 64, dtype=np.float32)
        pixels = np.dstack([np.add.outer(ramp, ramp) / 2, np.tile(ramp, (64, 1)), np.tile(ramp[:, None], (1, 64))])
        self.stages.depth(photo_io.Photo(np.ascontiguousarray(pixels.astype(np.uint8))))
        return time.perf_counter() - t0

    # -- 2. estimate and plan ----------------------------------------------------------------------------
    def estimate(self, width: int, height: int, num_frames: int, num_takes: int, depth_cached: bool = False) -> float:
        """Seconds one click will take (depth unless cached, then each take), from the measured render rate."""
        return estimate_seconds(width, height, num_frames, num_takes, depth_cached, self.rate.seconds_per_mpix_frame)

    def plan(self, prompt: str = "", preset: Optional[str] = None,
             strength: float = prompts.DEFAULT_STRENGTH) -> prompts.MotionPlan:
        """The motion plan of a prompt; a hand-picked ``preset`` replaces the move, the words still set
        the strength."""
        names = self.preset_names()
        plan = prompts.parse_prompt(prompt, base_strength=strength, presets=names)
        if not preset:
            return plan
        if names is not None and preset not in names:
            raise InputError(f"preset {short(preset)} is unknown; choose one of {', '.join(names)}")
        why = f"Preset {preset} chosen by hand; " + plan.explanation[0].lower() + plan.explanation[1:]
        return prompts.MotionPlan(preset, plan.strength, prompts.plan_label(preset, plan.strength), why,
                                  plan.words, False, plan.actions)

    def generate(self, *args: Any, **kwargs: Any) -> StudioResult:
        """Render the takes and return them all at once: the last result of :meth:`iter_generate`
        (same arguments)."""
        for result in self.iter_generate(*args, **kwargs):
            pass
        return result

    def iter_generate(self, photo: photo_io.PhotoLike | photo_io.Photo | None, prompt: str = "",
                      preset: Optional[str] = None, strength: float = prompts.DEFAULT_STRENGTH,
                      seed: Optional[int] = None, num_takes: int = 1, vary: str = "seed",
                      duration: Optional[float] = None, fps: Optional[int] = None, aspect: str = "original",
                      long_side: int = 960, engine: str = PARALLAX, negative_prompt: str = "",
                      num_inference_steps: Optional[int] = None, progress: Optional[Progress] = None,
                      cancel: Optional[threading.Event] = None, motion: Any = None,
                      stream: bool = False) -> Iterator[StudioResult]:
        """Render ``num_takes`` takes of ``photo`` moving as ``prompt`` describes, yielding a StudioResult
        once the settings are checked (no takes yet) and again as each take is ready (its ``takes`` grow to
        ``planned``), so the first take can be watched while the others render. Bad values raise an
        InputError naming the field (the ranges and choices of :class:`StudioRequest`) before anything is
        yielded or rendered.

        preset: a camera preset name, or None to take the move from the prompt (the prompt's strength
            words still apply to ``strength``).
        seed: None draws a random seed (it is recorded in each take).
        aspect / long_side: output aspect ("original", "16:9", "9:16", "1:1", "4:5"; "photo" is accepted
            for "original") and longest side in px.
        duration / fps: None uses the schema defaults.
        engine: "parallax" (default), or a generative backend (see :func:`engines`) that redraws each
            parallax take, steered by ``prompt`` and ``negative_prompt``; where it cannot run, the parallax
            take is delivered and a notice says why.
        progress: ``progress(fraction, message)``; the first message is the time estimate.
        cancel: setting it stops the work: the generative model stops (that take is delivered as its
            parallax draft) and no further take starts; the takes made so far are returned
            (GenerationCancelled when it was set before the first take).
        motion: regions of the photo that move (a living photo): a ``pipelines.living.Motion`` of the
            photo's size, or brush groups (dicts with ``mask``, ``type``, ``direction_deg``, ``speed``; see
            ``living.motion_from_regions``). None: the actions in the prompt ("clouds drift") move the
            regions found for them; the notices say what moves and what must be painted.
        stream: also yield a result for each segment of the first take as its encoder closes it (``live``, a
            short MPEG-TS file, there until the click's last result), so it can be watched while it renders.
            That take is then a preview encode (its recipe says so): :meth:`keep` and :meth:`finish` encode it
            again at quality from the same frames, and once the click is done a background thread starts on that.
        """
        t0 = time.perf_counter()
        say = progress or (lambda frac, msg: None)

        # 1. Validate everything before any heavy work, so bad values fail fast and clearly
        photo_obj = photo if isinstance(photo, photo_io.Photo) else self.load(photo)
        req = validate(StudioRequest, prompt=prompt, preset=preset, strength=strength, seed=seed,
                       num_takes=num_takes, vary=vary, duration=duration, fps=fps, aspect=aspect,
                       long_side=long_side, engine=PARALLAX if engine in (None, "") else engine,
                       negative_prompt=negative_prompt, num_inference_steps=num_inference_steps)
        num_takes, prompt = req.num_takes, req.prompt
        plan = self.plan(prompt, req.preset, req.strength)
        size = output_size(photo_obj.size, req.aspect, req.long_side)
        timing = {k: v for k, v in (("duration", req.duration), ("fps", req.fps)) if v is not None}
        seed = random_seed() if req.seed is None else req.seed
        settings = take_settings(plan, num_takes, seed, req.vary, width=size[0], height=size[1], **timing)
        gen = self._generative_settings(req.engine, prompt, req.negative_prompt, req.num_inference_steps)
        motion = self._motion(motion, photo_obj, gen)
        secs = self.estimate(size[0], size[1], settings[0].num_frames, num_takes, self.photos.is_prepared(photo_obj))
        say(0.0, f"About {secs:.0f} s for {num_takes} take(s) of {settings[0].duration:g} s at {size[0]}x{size[1]}")

        takes: list[TakeResult] = []
        prepared = out_dir = preview = None
        moving: tuple[str, ...] = ()  # what moves in a living photo, for the notices

        def result(planned: int, *more: str) -> StudioResult:
            notices = list(prepared.notices if prepared else ()) + [f"moving: {m}" for m in moving] \
                + [n for t in takes for n in t.notices] + list(more)
            return StudioResult(tuple(takes), plan, prepared, out_dir, tuple(dict.fromkeys(notices)),
                                time.perf_counter() - t0, preview, planned)

        yield result(len(settings))  # the settings hold: the caller can clear old takes and show the plan
        with self._counted():  # background quality encodes wait while a click renders
            # 2. Depth, once per photo
            prepared = self.prepare(photo_obj, progress=say)
            preview = depth_preview(prepared.depth)
            # 3. Crop and resample to the output size and build the scene, once per photo and size
            fitted = self.photos.fitted(prepared, size, progress=say)
            # 3b. The regions that move (painted, or found from the words), cut and resampled like the photo
            motion, moving = self._fitted_motion(motion, plan, gen, prepared, size)
            # 4. Render the takes into this request's own folder; the source makes each of them replay
            out_dir = self.outputs.new()
            source = Source(photo_sha256=prepared.key, crop_box=crop_box(prepared.photo.size, size),
                            depth=DepthSource(kind="estimated", estimator=prepared.depth.estimator,
                                              long_side=prepared.depth_side, sha256=depth_sha256(fitted.depth)),
                            prompt=prompt, plan=plan.label, base_strength=req.strength)
            live_dir = out_dir / ".live" if stream and gen is None else None
            stop = threading.Event()  # the caller went away: no further take starts

            def work(emit) -> None:
                t_work = time.perf_counter()
                jobs = [functools.partial(self._render_one, fitted, prepared, source, s, gen, i, len(settings), out_dir,
                                          say, cancel, motion, segments=live_dir if i == 0 else None)
                        for i, s in enumerate(settings)]
                ran = run_overlapped(jobs, emit, lambda: stop.is_set() or (cancel is not None and cancel.is_set()))
                if gen is None and ran:  # the takes overlap, so they are timed together
                    self.rate.learn(time.perf_counter() - t_work, settings[0], takes=ran)

            # The takes render in a worker thread, so that the first one's segments can be handed out meanwhile
            segments = Segments(live_dir) if live_dir is not None else None
            try:
                for kind, take in run_beside(work):
                    for seg in segments.new() if segments is not None and not takes else ():
                        yield dataclasses.replace(result(len(settings)), live=seg)
                    if kind == "item":
                        takes.append(take)
                        if len(takes) < len(settings):
                            yield result(len(settings))
            finally:
                stop.set()
                if live_dir is not None:  # handed out already; the take's own video stays
                    shutil.rmtree(live_dir, ignore_errors=True)
        if not takes:
            raise GenerationCancelled("stopped before the first take was made; nothing was rendered")
        say(1.0, "Done")
        self.quality.later([t.video for t in takes if t.recipe.encode == "preview"])
        if len(takes) < len(settings):
            yield result(len(takes), f"cancelled: {len(takes)} of {len(settings)} take(s) made")
        else:
            yield result(len(takes))

    @staticmethod
    def _fitted_motion(motion, plan: prompts.MotionPlan, gen: Optional[GenerativeSettings], prepared: Prepared,
                       size: tuple[int, int]):
        """The living photo's motion (painted, or found from the plan's actions) cut and resampled to the output
        like the photo, and what moves in words; (None, ()) when nothing moves."""
        moving: tuple[str, ...] = ()
        if motion is None and plan.actions and gen is None:
            from pipelines.living.regions import motion_from_words

            motion, moving = motion_from_words(prepared.photo.pixels, plan.actions)
        if motion is None:
            return None, moving
        moving = moving or tuple(motion.describe().splitlines())
        return motion.fitted(pixel_box(prepared.photo.size, size), size), moving

    @staticmethod
    def _motion(motion: Any, photo: photo_io.Photo, gen: Optional[GenerativeSettings]):
        """The request's motion as a ``living.Motion`` of the photo's size (None: none), checked up front."""
        if motion is None or (isinstance(motion, (list, tuple)) and not motion):
            return None
        if gen is not None:
            raise InputError(f"painted motion animates regions with the parallax engine; choose it instead of "
                             f"{gen.engine}, or clear the brush")
        from pipelines import living

        if isinstance(motion, living.Motion):
            if motion.size != photo.size:
                raise InputError(f"motion masks are {motion.size[0]}x{motion.size[1]} but the photo is "
                                 f"{photo.size[0]}x{photo.size[1]}; paint them on this photo")
            return motion
        return living.motion_from_regions(list(motion), photo.size)

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
        if self.stages.pipeline is not None:
            return generative.Availability(True, f"{engine} is ready (pipeline supplied to the studio)")
        return generative.availability(engine)

    def _render_one(self, fitted: Fitted, prepared: Prepared, source: Source, s: RenderSettings,
                    gen: Optional[GenerativeSettings], i: int, n: int, out_dir: Path, say: Progress,
                    cancel: Optional[threading.Event], motion: Any = None, segments: Optional[Path] = None,
                    rendered: Optional[threading.Event] = None) -> TakeResult:
        """Render take ``i`` of ``n``; ``rendered`` is set once its frames are all rendered (a parallax take:
        only the encoder's tail and the files beside the video are left)."""
        lo, hi = 0.1 + 0.9 * i / n, 0.1 + 0.9 * (i + 1) / n

        def take_progress(frac: float, msg: str = "") -> None:
            frac = min(1.0, max(0.0, float(frac)))
            if frac >= 1.0 and rendered is not None and gen is None:
                rendered.set()
            # Frames stream into the encoder; after the last one only the encoder's tail is left.
            say(lo + (hi - lo) * frac, f"Take {i + 1}/{n}: {'encoding' if frac >= 1.0 else msg or 'rendering'}")

        take_progress(0.0, "rendering")
        # A telling file name: kept takes are downloaded side by side.
        engine_part = f"-{gen.engine}" if gen else ""
        name = f"take{i + 1}-{s.preset}-seed{s.seed}-strength{s.strength:.2f}{engine_part}.mp4"
        redraw = None
        if gen is not None:
            from pipelines.generative.redraw import Redraw

            redraw = Redraw(gen, self.stages.pipeline(gen.engine) if self.stages.pipeline is not None else None)
        # A streamed take is a preview encode (keeping it encodes it again at quality, from the same frames)
        take = self.stages.take(fitted.photo, fitted.depth, s, video=out_dir / name, scene=fitted.scene,
                                redraw=redraw, source=source, motion=motion, progress=take_progress, cancel=cancel,
                                segments=segments)
        label = take_label(i, s)
        if gen is not None:
            ran = take.recipe.engine
            label += f" - {ran}" if ran == gen.engine else f" - parallax ({gen.engine} did not run)"
        fresh = tuple(x for x in take.notices if x not in prepared.notices)
        return TakeResult(Path(take.video), label, s, take.recipe, fresh)

    # -- 4. finishing a kept take -----------------------------------------------------------------------
    @contextlib.contextmanager
    def _counted(self):
        with self._count:
            self._rendering += 1
        try:
            yield
        finally:
            with self._count:
                self._rendering -= 1

    def keep(self, video: str | os.PathLike) -> Path:
        """Mark a take of this studio as kept (clean-up leaves its folder alone) and return its quality encode
        (a file beside it, made now unless the background encode has made it; the take itself when it is one,
        or when its photo has left memory and it stays the preview). InputError for any file that is not one of
        this studio's takes."""
        path = self.outputs.keep(video)
        return self.quality.ensure(path) or path

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
        path = finishing.finish_take(take, settings, self.outputs.new() / name, progress=progress,
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


