"""The studio's event handlers: pure functions, values in, values out. Every error the user can fix becomes
a ``gr.Error`` with the message and the fix; nothing here builds layout (that is :mod:`pipelines.ui.blocks`).
"""
from __future__ import annotations

import base64
import math
import threading
from pathlib import Path
from typing import Any, Optional

from pipelines import studio as studio_api
from pipelines.core.errors import InputError, StudioError
from pipelines.core.schema import FinishSettings, StudioRequest, short, validate
from pipelines.finish.sound import SOUND_BEDS

#: The preset dropdown's first choice: take the camera move from the prompt.
FROM_PROMPT = "from the prompt"

MY_AUDIO = "my audio file"
#: The finishing panel's sound choices: none, the built-in beds (but "silence", which "none" covers for
#: the page), or the user's own file.
SOUND_CHOICES = ("none", *(bed for bed in SOUND_BEDS if bed != "silence"), MY_AUDIO)


def _error(exc: Exception):
    import gradio as gr

    return gr.Error(str(exc), title="Cannot render")


def _photo_source(payload: Any) -> Any:
    """The upload as the studio reads it. The generate and finish events skip Gradio's own preprocessing
    (which opens an image with Pillow and fails on broken files with an unhelpful message, and refuses
    values outside a control's range without naming the control), so the raw file reference arrives here:
    a dict with ``path`` (upload) or a ``data:`` URL (paste), or a path."""
    if payload is None:
        return None
    if isinstance(payload, dict):
        if payload.get("path"):
            return payload["path"]
        url = payload.get("url") or ""
        if isinstance(url, str) and url.startswith("data:") and "," in url:
            try:
                return base64.b64decode(url.split(",", 1)[1], validate=True)
            except ValueError:
                raise InputError("photo: the pasted image is not valid base64 data; paste or upload it again") from None
        return None
    return payload


def _text(value: Any) -> Any:
    """A text box's value: stripped, None when blank; anything else goes on to the schema, which names it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value.strip() if isinstance(value, str) else value


def _given(**values: Any) -> dict[str, Any]:
    """The values the page or an API call set: blanks are left to the schema's defaults."""
    return {k: v for k, v in values.items() if v is not None and not (isinstance(v, str) and not v.strip())}


def _num(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {short(value)}") from None


def _throttled(progress, step: float = 0.02):
    """Forward ``(fraction, message)`` to ``gr.Progress`` only when the stage changes or the bar moves by
    ``step``: the renderer reports every frame, and each update is a message to the browser."""
    last = {"frac": -1.0, "stage": None}

    def report(frac: float, msg: str) -> None:
        stage = msg.split(":")[0] if msg.startswith("Take ") else msg
        if stage != last["stage"] or frac - last["frac"] >= step or frac >= 1.0:
            last.update(frac=frac, stage=stage)
            progress(frac, desc=msg)

    return report


def describe_plan(studio: studio_api.Studio, prompt: str, preset: str, strength: float) -> str:
    """The motion plan the words make, as Markdown ("**Dolly in - gentle**: ..."), before any render."""
    try:
        plan = studio.plan(prompt or "", None if preset in (None, "", FROM_PROMPT) else preset,
                           _num(strength, "strength"))
    except StudioError as exc:
        return f"**Plan:** {exc}"
    return f"**{plan.label}**: {plan.explanation}"


def estimate_text(studio: studio_api.Studio, photo: Any, num_takes: float, duration: float, fps: float,
                  aspect: str, long_side: Any, engine: str = studio_api.PARALLAX) -> str:
    """Time estimate shown before rendering starts."""
    try:
        size = (4, 3)
        src = _photo_source(photo)
        if isinstance(src, str):
            from PIL import Image

            with Image.open(src) as img:  # reads the header only
                size = img.size
        # The studio's own checks (StudioRequest): no estimate for values Generate would refuse.
        req = validate(StudioRequest, num_takes=num_takes, duration=duration, fps=fps, aspect=aspect,
                       long_side=long_side)
        w, h = studio_api.output_size(size, req.aspect, req.long_side)
        frames = max(1, round(req.duration * req.fps))
        n = req.num_takes
        secs = studio.estimate(w, h, frames, n)
        # The first take streams into the page while it renders (within a second or two of the click).
        first = (f"; the first moves on screen as it renders and is whole after about "
                 f"{max(1, round(studio.estimate(w, h, frames, 1)))} s") if n > 1 else ""
        model = _model_estimate(studio, engine, frames, w, h, n)
    except Exception:  # an estimate is a hint; bad values get their message from Generate
        return ""
    return f"Estimated time: about {max(1, round(secs))} s for {n} take(s) of {frames} frames at {w}x{h}{first} " \
           f"(less when the depth of this photo is already computed){model}."


def _model_estimate(studio: studio_api.Studio, engine: str, frames: int, w: int, h: int, n: int) -> str:
    """The generative model's share of the estimate, from its model card's published run."""
    if not engine or engine == studio_api.PARALLAX or not studio.engine_status(engine).ok:
        return ""
    from pipelines.generative import engine as generative
    from pipelines.generative import zerogpu

    if zerogpu.active():
        return _zerogpu_estimate(engine, frames, w, h, n)
    secs = generative.estimate_seconds(engine, frames, h, w)
    if secs is None:
        return f", plus {engine}'s run (its model card gives no speed)"
    gpu = (generative.get_preset(engine).reference_run or {}).get("gpu", "the model card's GPU")
    return f", plus about {max(1, round(n * secs / 60))} min for {engine} on a GPU like {gpu}"


def _zerogpu_estimate(engine: str, frames: int, w: int, h: int, n: int) -> str:
    """On ZeroGPU: the GPU seconds each take asks for, against the per-take limit."""
    from pipelines.generative import engine as generative
    from pipelines.generative import zerogpu

    preset = generative.get_preset(engine)
    mf, (mh, mw) = generative.plan_frames(preset, frames), generative.plan_size(preset, h, w)
    secs = math.ceil(zerogpu.gpu_seconds(engine, mf, mh, mw, preset.num_inference_steps))
    limit = zerogpu.max_seconds()
    if secs > limit:
        return (f"; {engine} would need about {secs} s of ZeroGPU time per take, over this Space's {limit} s "
                "limit, so you would get the parallax takes: choose a shorter take or a smaller size")
    return f", plus up to {secs} s of ZeroGPU time per take for {engine} ({n * secs} s of your daily quota at most)"


def engine_note(studio: studio_api.Studio, engine: str) -> str:
    """What the chosen engine will do here, as Markdown: ready, or why not and what would fix it."""
    if not engine or engine == studio_api.PARALLAX:
        return "Parallax engine: a 3-D camera move through the photo, on this machine's CPU, in seconds."
    try:
        status = studio.engine_status(engine)
    except StudioError as exc:
        return f"**Engine:** {exc}"
    if status.ok:
        return (f"**{engine}: ready.** {status.reason}. Each take is the parallax take redrawn by the model, "
                "steered by your words; expect minutes per take.")
    return (f"**{engine} cannot run here:** {status.reason}. To use it: {status.fix}. "
            "Generate still works: you get the parallax takes, with this reason beside them.")


def generate(studio: studio_api.Studio, photo: Any, prompt: str, preset: str, strength: float, seed: Any,
             random_seed: bool, num_takes: Any, vary: str, duration: Any, fps: Any, aspect: str, long_side: Any,
             engine: str = studio_api.PARALLAX, negative_prompt: str = "", progress=None,
             cancel: Optional[threading.Event] = None, motion: Optional[list] = None, stream: bool = False):
    """One click: N takes, yielded as each take is ready (the first plays while the others render). Each
    yield holds the four take slots, the depth picture, the plan, the status, the takes' recipes (JSON)
    and the takes' paths (for the session's state: what Keep may keep). ``motion``: the brush's groups
    (:func:`pipelines.ui.motion_panel.brush_regions`), or None to let the words decide what moves.
    ``stream``: one more output, the live player (:mod:`pipelines.ui.live`), which plays the first take
    while it renders."""
    import gradio as gr

    if progress is None:
        progress = gr.Progress()
    try:
        if not random_seed and seed in (None, ""):
            raise InputError("seed is empty; type a seed or tick Random seed")
        # Values go to the studio as they came: its schema (StudioRequest) checks and names each one.
        results = studio.iter_generate(
            _photo_source(photo), progress=_throttled(progress), cancel=cancel, motion=motion, stream=stream,
            preset=None if preset in (None, "", FROM_PROMPT) else preset, seed=None if random_seed else seed,
            **_given(prompt=prompt, strength=strength, num_takes=num_takes, vary=vary, duration=duration, fps=fps,
                     aspect=aspect, long_side=long_side, engine=engine, negative_prompt=negative_prompt))
        swap = engine in (None, "", studio_api.PARALLAX)
        for result in results:
            if stream:
                from pipelines.ui.live import live_outputs

                yield live_outputs(_outputs(result) if result.live is None else (), result, swap)
            else:
                yield _outputs(result)
    except StudioError as exc:
        raise _error(exc) from None
    except MemoryError:
        raise gr.Error("not enough memory for this photo and size; choose a smaller output size") from None


def _outputs(result: studio_api.StudioResult) -> tuple:
    """The generate event's outputs for a (possibly partial) result."""
    import gradio as gr

    # Plain paths (not component updates) so API clients get a path per take; labels and visibility
    # follow in a UI-only step (take_slots) from the recipes.
    n = len(result.takes)
    paths = [str(t.video) for t in result.takes] + [None] * (studio_api.MAX_TAKES - n)
    if result.complete:
        first = result.takes[0].settings
        status = [f"{n} take(s) of {first.duration:g} s at {first.width}x{first.height}, "
                  f"{first.fps} fps in {result.seconds:.1f} s."]
    elif n == 0:
        status = [f"Rendering {result.planned} take(s)..."]
    else:
        status = [f"{n} of {result.planned} takes ready after {result.seconds:.1f} s; the others are rendering."]
    status += [f"Note: {note}" for note in result.notices]
    # The full recipe (with every camera pose) is in the JSON file beside each video; the page gets the gist.
    recipes = [{"label": t.label, "engine": t.recipe.engine,
                "settings": t.settings.model_dump(), "plan": result.plan.label,
                "source_photo_sha256": t.recipe.source.photo_sha256, "video": t.recipe.video,
                **({"motion": t.recipe.motion.model_dump(exclude_none=True)} if t.recipe.motion else {})}
               for t in result.takes]
    recipes += [{"label": f"Take {i + 1} - rendering", "pending": True} for i in range(n, result.planned)]
    depth = result.depth_preview if result.depth_preview is not None else gr.Image()  # kept until depth is in
    return (*paths, depth, f"**{result.plan.label}**: {result.plan.explanation}", "\n\n".join(status), recipes,
            [str(t.video) for t in result.takes])


def take_slots(recipes: Optional[list]) -> list:
    """Show one take column (video + keep button) per take, made or still rendering, the video labelled
    with what made it; hide the other columns. Returns MAX_TAKES column updates, then MAX_TAKES video
    updates."""
    import gradio as gr

    recipes = list(recipes or [])
    n = studio_api.MAX_TAKES
    return ([gr.Column(visible=i < len(recipes)) for i in range(n)]
            + [gr.Video(label=recipes[i]["label"]) if i < len(recipes) else gr.Video() for i in range(n)])


def keep_take(studio: studio_api.Studio, index: int, takes: Optional[list], kept: Optional[list]):
    """Keep take ``index`` (0-based) of this session's latest click. Returns the kept paths (session
    state), the kept files (downloads), and the finishing panel's take choice and accordion, opened."""
    import gradio as gr

    takes = list(takes or [])
    if index >= len(takes):
        raise gr.Error(f"there is no take {index + 1}; generate first", title="Nothing to keep")
    try:
        path = str(studio.keep(takes[index]))
    except StudioError as exc:
        raise gr.Error(str(exc), title="Cannot keep this take") from None
    kept = list(kept or [])
    if path not in kept:
        kept.append(path)
    labels = kept_labels(kept)
    return kept, kept, gr.Dropdown(choices=labels, value=labels[kept.index(path)]), gr.Accordion(open=True)


def kept_labels(kept: list[str]) -> list[str]:
    """How the kept takes are named in the finishing panel: their file names ("take1-orbit-seed7-....mp4"),
    with " (2)", " (3)" after a name already kept from an earlier click with the same settings."""
    labels, seen = [], {}
    for path in kept:
        name = Path(path).name
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return labels


def finish_kept(studio: studio_api.Studio, take: Optional[str], kept: Optional[list], caption: str, title: str,
                caption_position: str, sound: str, audio_file: Optional[str], volume: Any, aspect: str,
                reframe: str, fmt: str, loop: str, progress=None):
    """Finish one of this session's kept takes (``take``: its label in the panel, or empty for the take
    kept last). Returns the preview video (MP4/WebM), the preview image (GIF), the finished file to
    download, and a status line."""
    import gradio as gr

    if progress is None:
        progress = gr.Progress()
    kept = list(kept or [])
    if not kept:
        raise gr.Error("keep a take first (the Keep button under it), then finish it", title="Nothing to finish")
    labels = kept_labels(kept)
    if take and take not in labels:
        raise gr.Error(f"take {short(take)} is not one of your kept takes; choose one of: {', '.join(labels)}",
                       title="Cannot finish")
    path = kept[labels.index(take)] if take else kept[-1]  # no choice: the take kept last
    sound = "none" if sound in (None, "") else sound
    if sound not in ("none", *SOUND_BEDS, MY_AUDIO):
        raise gr.Error(f"sound={short(sound)}: choose one of {', '.join(SOUND_CHOICES)}", title="Cannot finish")
    audio_file = _photo_source(audio_file)  # the raw upload (the finish event skips preprocessing)
    if sound == MY_AUDIO and not audio_file:
        raise gr.Error("upload an audio file (wav, mp3, m4a, ogg), or choose a built-in sound", title="No audio file")
    audio = audio_file if sound == MY_AUDIO else (None if sound == "none" else sound)
    try:
        # Values go to the studio as they came: its schema (FinishSettings) checks and names each one.
        result = studio.finish(path, caption=_text(caption), title=_text(title), audio=audio,
                               progress=_throttled(progress),
                               **_given(caption_position=caption_position, volume=volume, aspect=aspect,
                                        reframe=reframe, format="mp4" if fmt in (None, "") else fmt, loop=loop))
    except StudioError as exc:
        raise gr.Error(f"{exc}. Your kept takes are unchanged.", title="Cannot finish") from None
    path = result.path
    size = path.stat().st_size  # in KB and MB of 1024, as the download box counts them
    status = [f"Finished {path.name} ({size / 2**20:.1f} MB)." if size >= 2**20 else
              f"Finished {path.name} ({size / 2**10:.1f} KB)."]
    status += [f"Note: {note}" for note in result.notices]
    is_gif = path.suffix == ".gif"
    return (None if is_gif else str(path)), (str(path) if is_gif else None), str(path), "\n\n".join(status)


def recipe_controls(studio: studio_api.Studio, files: Any, photo: Any = None) -> tuple:
    """The Generate controls filled from a take's recipe (an uploaded ``<video>.json``, with its motion masks
    ``<video>.motion-<k>.png`` if it has any), so that Generate renders that take again: prompt, camera move,
    strength, seed, one take, length, frame rate, aspect, size, engine and negative prompt, then a status line
    saying what was loaded and which photo it needs; then the brush with the take's motion groups painted
    (when the photo is loaded; else they are kept for when it is), each group's type, direction and speed,
    and what is kept. Masks not uploaded are looked for among this studio's takes."""
    import gradio as gr

    from pipelines.core import recipe as recipes
    from pipelines.ui.motion_panel import (editor_for_photo, editor_with_groups, group_controls, photo_sha256,
                                           recipe_groups)

    files = [f for f in (files if isinstance(files, (list, tuple)) else [files]) if f]
    files = [f.get("path") if isinstance(f, dict) else str(f) for f in files]
    path = next((f for f in files if str(f).lower().endswith(".json")), None)
    if not path:
        raise gr.Error("upload a recipe: the .json file beside a take's video (and its .motion-*.png masks, "
                       "if it moved regions)", title="No recipe")
    try:
        rec = recipes.load(path)
        s, src = rec.settings, rec.source
        words, strength = src.prompt, src.base_strength
        # The words scale the strength; when they would not give this take's strength back (a strength
        # sweep, or a recipe from the command line), the take's own strength is set and the words cleared.
        if strength is None or studio.plan(words, s.preset, strength).strength != s.strength:
            words, strength = "", s.strength
        size = (s.width, s.height) if s.width and s.height else None  # None: the photo's own size (the CLI, the API)
        aspect = "original" if size is None else next(
            (name for name, ratio in studio_api.ASPECTS.items()
             if ratio is not None and studio_api.output_size(size, name, max(size)) == size), "original")
        groups, missing = recipe_groups(rec, files, [Path(path).parent, studio.outputs.root])
    except StudioError as exc:
        raise gr.Error(str(exc), title="Cannot load this recipe") from None
    gen = rec.generative
    dims = f"{s.width}x{s.height}" if size else "the photo's own size"
    status = (f"Loaded the recipe of {rec.video or 'a take'}: seed {s.seed}, {s.preset}, strength {s.strength:.2f}, "
              f"{dims}, {s.duration:g} s at {s.fps} fps, engine {rec.engine}. Upload its photo "
              f"(pixels sha256 {src.photo_sha256[:12]}...) and Generate to render the same take again.")
    pending = {"photo_sha256": src.photo_sha256, "crop_box": src.crop_box, "groups": groups}
    if groups:
        status += " Its motion groups are back in the brush: " + ", ".join(
            f"{g['name']} {g['type']}" for g in groups) + "."
    if missing:
        status += (f" Not found: {', '.join(missing)}; upload them with the recipe, or paint those groups again "
                   "(the take will not replay exactly without them).")
    match = bool(photo) and bool(groups) and photo_sha256(photo) == src.photo_sha256  # one decode of the photo
    brush = (editor_with_groups(photo, groups, src.crop_box) if match else editor_for_photo(photo)) if photo else None
    if photo and groups and not match:
        status += " The photo loaded now is not this take's: upload its photo to paint its groups."
    side = max(size) if size else (gr.update() if not photo else max(studio.load(photo).size))
    return (words, s.preset, strength, s.seed, False, 1, "seed", s.duration, s.fps, aspect, side,
            gen.engine if gen else studio_api.PARALLAX, gen.negative_prompt if gen else "", status, brush,
            *group_controls(groups), pending)


def _finish_default(name: str):
    return FinishSettings.model_fields[name].default


class Runs:
    """Each session's running click, so that its Stop can end it: the generative model stops at its next
    step, no further take starts, and the takes made so far are delivered. ``generate`` and ``stop`` are
    the event handlers (built here, because Gradio reads their signatures: ``gr.Request`` and
    ``gr.Progress`` must be real objects, and this module imports gradio only when the app is built)."""

    def __init__(self, studio: studio_api.Studio):
        import gradio as gr

        running: dict[str, threading.Event] = {}

        def handler(stream: bool):
            def run(photo, prompt, preset, strength, seed, random_seed, num_takes, vary, duration, fps, aspect,
                    long_side, engine=None, negative_prompt=None, brush=None, type_1=None, direction_1=None,
                    speed_1=None, type_2=None, direction_2=None, speed_2=None, type_3=None, direction_3=None,
                    speed_3=None, type_4=None, direction_4=None, speed_4=None, request=None,
                    progress=gr.Progress()):
                from pipelines.ui.motion_panel import brush_regions

                groups = (type_1, direction_1, speed_1, type_2, direction_2, speed_2, type_3, direction_3, speed_3,
                          type_4, direction_4, speed_4)
                try:
                    motion = brush_regions(brush, *groups) or None
                except StudioError as exc:
                    raise _error(exc) from None
                cancel = threading.Event()
                key = getattr(request, "session_hash", None) or str(id(cancel))
                running[key] = cancel
                try:
                    yield from generate(studio, photo, prompt, preset, strength, seed, random_seed, num_takes, vary,
                                        duration, fps, aspect, long_side, engine, negative_prompt, progress=progress,
                                        cancel=cancel, motion=motion, stream=stream)
                finally:
                    if running.get(key) is cancel:
                        del running[key]

            # Gradio passes gr.Request to a parameter annotated with it (this module's annotations are strings).
            run.__annotations__["request"] = gr.Request
            return run

        def stop(request=None):
            cancel = running.get(getattr(request, "session_hash", None) or "")
            if cancel is None:
                return gr.Markdown()
            cancel.set()
            return "Stopping: the takes made so far are delivered."

        def finish(take=None, kept=None, caption=None, title=None, caption_position=_finish_default("caption_position"),
                   sound="none", audio_file=None, volume=_finish_default("volume"), aspect=_finish_default("aspect"),
                   reframe=_finish_default("reframe"), format="mp4", loop=_finish_default("loop"),
                   progress=gr.Progress()):
            return finish_kept(studio, take, kept, caption, title, caption_position, sound, audio_file, volume,
                               aspect, reframe, format, loop, progress=progress)

        stop.__annotations__["request"] = gr.Request
        # generate: the API's (a result per take); generate_live: the page's, which also streams take 1
        self.generate, self.generate_live, self.stop, self.finish = handler(False), handler(True), stop, finish
