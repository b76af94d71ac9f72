"""The studio in the browser: photo and words in, several takes side by side (Gradio Blocks).

UI only: pure handlers that call ``pipelines.studio``, then ``build_demo()`` (layout and wiring), then
``launch``. Importing this module loads no model and starts no server. ``python app.py`` serves on
127.0.0.1:7860, or where ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` say (as on a Hugging Face Space).
"""
from __future__ import annotations

import base64
import functools
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Optional

import pipelines  # noqa: F401  (sets OMP_WAIT_POLICY before anything imports torch)
from pipelines import studio as studio_api
from pipelines.errors import InputError, StudioError
from pipelines.schema import FinishSettings, GenerativeSettings, RenderSettings, bound

#: The preset dropdown's first choice: take the camera move from the prompt.
FROM_PROMPT = "from the prompt"
#: Output sizes offered (longest side, px); the schema's width/height bounds are checked in the studio.
LONG_SIDES = (480, 640, 960, 1280, 1920)
#: Renders running at once (the rest wait in the queue); the machine has few cores.
CONCURRENCY = int(os.environ.get("STUDIO_CONCURRENCY", "2"))
#: scikit-image sample photos offered as one-click examples: (loader name, file name, label).
EXAMPLES = (("astronaut", "astronaut.jpg", "Astronaut"), ("coffee", "coffee.jpg", "Coffee"),
            ("chelsea", "chelsea.jpg", "Chelsea the cat"), ("rocket", "rocket.jpg", "Rocket"))
#: The finishing panel's sound choice that means "the audio file I uploaded".
MY_AUDIO = "my audio file"
#: The finishing panel's sound choices: none, the built-in beds, or the user's own file.
SOUND_CHOICES = ("none", "wind", "rain", "sea", "pad", MY_AUDIO)
#: Audio files the finishing panel accepts (ffmpeg reads them all).
AUDIO_TYPES = [".wav", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".flac"]
EXAMPLE_PROMPTS = ("slow push in toward her face", "orbit around the cup, gentle", "dramatic pull back",
                   "crane up along the rocket")


# ----------------------------------------------------------------------------------------------------------
# Handlers (pure: values in, values out; every error the user can fix becomes gr.Error)

def _error(exc: Exception):
    import gradio as gr

    return gr.Error(str(exc), title="Cannot render")


def _photo_source(payload: Any) -> Any:
    """The upload as the studio reads it. The generate event skips Gradio's own image preprocessing
    (which opens the file with Pillow and fails on broken files with an unhelpful message), so the raw
    file reference arrives here: a dict with ``path`` (upload) or a ``data:`` URL (paste), or a path."""
    if payload is None:
        return None
    if isinstance(payload, dict):
        if payload.get("path"):
            return payload["path"]
        url = payload.get("url") or ""
        if url.startswith("data:") and "," in url:
            return base64.b64decode(url.split(",", 1)[1])
        return None
    return payload


def _int(value: Any, name: str) -> int:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a whole number, got {value!r}") from None
    if not f.is_integer():
        raise InputError(f"{name} must be a whole number, got {value!r}")
    return int(f)


def _num(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None


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
        w, h = studio_api.output_size(size, aspect, _int(long_side, "output size"))
        frames = max(1, round(_num(duration, "duration") * _int(fps, "fps")))
        n = _int(num_takes, "number of takes")
        secs = studio.estimate(w, h, frames, n)
        first = f"; the first plays after about {max(1, round(studio.estimate(w, h, frames, 1)))} s" if n > 1 else ""
        model = _model_estimate(studio, engine, frames, w, h, n)
    except Exception:  # an estimate is a hint; bad values get their message from Generate
        return ""
    return f"Estimated time: about {max(1, round(secs))} s for {n} take(s) of {frames} frames at {w}x{h}{first} " \
           f"(less when the depth of this photo is already computed){model}."


def _model_estimate(studio: studio_api.Studio, engine: str, frames: int, w: int, h: int, n: int) -> str:
    """The generative model's share of the estimate, from its model card's published run."""
    if not engine or engine == studio_api.PARALLAX or not studio.engine_status(engine).ok:
        return ""
    from pipelines import generative

    secs = generative.estimate_seconds(engine, frames, h, w)
    if secs is None:
        return f", plus {engine}'s run (its model card gives no speed)"
    gpu = (generative.get_preset(engine).reference_run or {}).get("gpu", "the model card's GPU")
    return f", plus about {max(1, round(n * secs / 60))} min for {engine} on a GPU like {gpu}"


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
             cancel: Optional[threading.Event] = None):
    """One click: N takes, yielded as each take is ready (the first plays while the others render). Each
    yield holds the four take slots, the depth picture, the plan, the status, the takes' recipes (JSON)
    and the takes' paths (for the session's state: what Keep may keep)."""
    import gradio as gr

    if progress is None:
        progress = gr.Progress()
    try:
        n = _int(num_takes, "number of takes")
        results = studio.iter_generate(
            _photo_source(photo), prompt=prompt or "",
            preset=None if (not preset or preset == FROM_PROMPT) else preset,
            strength=_num(strength, "strength"), seed=None if random_seed else _int(seed, "seed"),
            num_takes=n, vary=vary or "seed", duration=_num(duration, "duration"), fps=_int(fps, "fps"),
            aspect=aspect or "photo", long_side=_int(long_side, "output size"),
            engine=engine or studio_api.PARALLAX, negative_prompt=negative_prompt or "",
            progress=_throttled(progress), cancel=cancel)
        for result in results:
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
    recipes = [{"label": t.label, "engine": t.recipe.get("engine", studio_api.PARALLAX),
                "settings": t.settings.model_dump(), "plan": result.plan.label,
                "source_photo_sha256": t.recipe.get("source_photo_sha256"), "video": t.recipe.get("video")}
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
        raise gr.Error(f"{take!r} is not one of your kept takes; choose one of: {', '.join(labels)}",
                       title="Cannot finish")
    path = kept[labels.index(take)] if take else kept[-1]  # no choice: the take kept last
    if sound == MY_AUDIO and not audio_file:
        raise gr.Error("upload an audio file (wav, mp3, m4a, ogg), or choose a built-in sound", title="No audio file")
    audio = audio_file if sound == MY_AUDIO else (None if sound in (None, "", "none") else sound)
    try:
        result = studio.finish(path, caption=(caption or "").strip() or None, title=(title or "").strip() or None,
                               caption_position=caption_position or "bottom", audio=audio,
                               volume=_num(volume, "volume"), aspect=aspect or "original",
                               reframe=reframe or "subject", format=fmt or "mp4", loop=loop or "none",
                               progress=_throttled(progress))
    except StudioError as exc:
        raise gr.Error(f"{exc}. Your kept takes are unchanged.", title="Cannot finish") from None
    path = result.path
    size = path.stat().st_size  # in KB and MB of 1024, as the download box counts them
    status = [f"Finished {path.name} ({size / 2**20:.1f} MB)." if size >= 2**20 else
              f"Finished {path.name} ({size / 2**10:.1f} KB)."]
    status += [f"Note: {note}" for note in result.notices]
    is_gif = path.suffix == ".gif"
    return (None if is_gif else str(path)), (str(path) if is_gif else None), str(path), "\n\n".join(status)


# ----------------------------------------------------------------------------------------------------------
# Layout and wiring

def _example_photos() -> list[str]:
    """The scikit-image sample photos as JPEG files (written once per machine, never committed)."""
    from PIL import Image
    from skimage import data

    folder = Path(tempfile.gettempdir()) / "photo-studio-examples"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for loader, name, _ in EXAMPLES:
        path = folder / name
        if not path.is_file():
            tmp = path.with_suffix(".part")
            Image.fromarray(getattr(data, loader)()).convert("RGB").save(tmp, "JPEG", quality=92)
            os.replace(tmp, path)
        paths.append(str(path))
    return paths


def _slider(name: str, model=RenderSettings, **kwargs):
    """A slider whose range and help come from the field ``name`` of the schema ``model``."""
    import gradio as gr

    f = model.model_fields[name]
    lo, hi = bound(model, name, "ge"), bound(model, name, "le")
    return gr.Slider(lo, hi, value=kwargs.pop("value", f.default), info=f.description, **kwargs)


def _choices(name: str, model=FinishSettings) -> list[str]:
    """The allowed values of a Literal field of the schema (e.g. FinishSettings.aspect)."""
    import typing

    ann = model.model_fields[name].annotation
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    if len(args) == 1 and typing.get_origin(args[0]) is typing.Literal:  # Optional[Literal[...]]
        args = list(typing.get_args(args[0]))
    return list(args)


def _finish_panel(studio: studio_api.Studio, kept_state):
    """The Finish accordion: a kept take in, caption, sound, aspect, format and loop, a file out.
    Returns (accordion, take choice, finish button, inputs, outputs) for the wiring."""
    import gradio as gr

    text_limit = {name: bound(FinishSettings, name, "max_length") for name in ("caption", "title")}
    with gr.Accordion("Finish: caption, sound, aspect, format, loop", open=False, elem_id="finish") as panel:
        gr.Markdown("Keep a take above, then finish it for posting. The kept take itself is never changed.")
        with gr.Row():
            # Custom values pass, so a wrong name gets the handler's message (which lists the kept takes).
            take = gr.Dropdown([], label="Take to finish", elem_id="finish-take", allow_custom_value=True,
                               info="empty: the take kept last")
            aspect = gr.Radio(_choices("aspect"), value="original", label="Aspect", elem_id="finish-aspect")
        with gr.Row():
            caption = gr.Textbox(label="Caption", max_length=text_limit["caption"], elem_id="finish-caption",
                                 placeholder="Golden hour")
            title = gr.Textbox(label="Title", max_length=text_limit["title"], elem_id="finish-title")
            position = gr.Radio(["top", "centre", "bottom"], value="bottom", label="Caption position")
        with gr.Row():
            sound = gr.Dropdown(list(SOUND_CHOICES), value="none", label="Sound", elem_id="finish-sound",
                                info="a built-in bed (made from a seed, no downloads) or your own file")
            audio_file = gr.File(label="Your audio file", file_types=AUDIO_TYPES, type="filepath",
                                 elem_id="finish-audio")
            volume = _slider("volume", FinishSettings, step=0.05, label="Volume")
        with gr.Row():
            reframe = gr.Radio(_choices("reframe"), value="subject", label="Reframe",
                               info=FinishSettings.model_fields["reframe"].description)
            fmt = gr.Radio(_choices("format"), value="mp4", label="Format", elem_id="finish-format")
            loop = gr.Radio(_choices("loop"), value="none", label="Loop", elem_id="finish-loop",
                            info=FinishSettings.model_fields["loop"].description)
        button = gr.Button("Finish", variant="primary", elem_id="finish-button")
        status = gr.Markdown(elem_id="finish-status")
        with gr.Row():
            video = gr.Video(label="Finished", interactive=False, loop=True, height=480, elem_id="finished",
                             buttons=["download"])
            gif = gr.Image(label="Finished GIF", interactive=False, type="filepath", elem_id="finished-gif",
                           visible=False)
            download = gr.File(label="Download", interactive=False, elem_id="finished-file")
    audio_file.upload(lambda: MY_AUDIO, None, sound, queue=False, api_visibility="private")
    inputs = [take, kept_state, caption, title, position, sound, audio_file, volume, aspect, reframe, fmt, loop]
    return panel, take, button, inputs, [video, gif, download, status]


def preview_slots(download: Optional[str]) -> list:
    """Show the preview that fits the finished file (the video player, or the image for a GIF)."""
    import gradio as gr

    is_gif = bool(download) and str(download).lower().endswith(".gif")
    return [gr.Video(visible=not is_gif), gr.Image(visible=is_gif)]


def build_demo(studio: Optional[studio_api.Studio] = None):
    """The Gradio Blocks app. ``studio`` is injected by tests; by default a fresh Studio."""
    import gradio as gr

    studio = studio or studio_api.Studio()
    names = studio_api.Studio.preset_names() or ()
    seed_hi = bound(RenderSettings, "seed", "le")

    with gr.Blocks(title="Photo-to-video studio", delete_cache=(900, 3600)) as demo:
        gr.Markdown("# Photo-to-video studio\nOne photo and a few words in, several short camera moves out.")
        with gr.Row():
            with gr.Column(scale=1):
                photo = gr.Image(label="Photo", type="filepath", sources=["upload", "clipboard", "webcam"],
                                 height=320, elem_id="photo")
                prompt = gr.Textbox(label="Describe the motion", placeholder="slow push in toward the mountain",
                                    lines=1, elem_id="prompt")
                plan_md = gr.Markdown(describe_plan(studio, "", FROM_PROMPT,
                                                    RenderSettings.model_fields["strength"].default), elem_id="plan")
            with gr.Column(scale=1):
                depth_img = gr.Image(label="Depth (white = near)", interactive=False, height=320, format="png",
                                     elem_id="depth")
                gr.Examples(examples=[[p, t] for p, t in zip(_example_photos(), EXAMPLE_PROMPTS)],
                            inputs=[photo, prompt], example_labels=[e[2] for e in EXAMPLES],
                            cache_examples=False, label="Examples (scikit-image sample photos)")
        with gr.Accordion("Settings", open=True):
            with gr.Row():
                preset = gr.Dropdown([FROM_PROMPT, *names], value=FROM_PROMPT, label="Camera move",
                                     allow_custom_value=not names)
                strength = _slider("strength", step=0.05, label="Motion strength")
                with gr.Column(min_width=160):
                    seed = gr.Number(value=0, precision=0, minimum=0, maximum=seed_hi, label="Seed")
                    random_seed = gr.Checkbox(value=False, label="Random seed")
            with gr.Row():
                num_takes = gr.Slider(1, studio_api.MAX_TAKES, value=2, step=1, label="Takes", elem_id="takes")
                vary = gr.Radio(list(studio_api.VARY), value="seed", label="Takes differ by")
                duration = _slider("duration", step=0.1, label="Duration (s)", elem_id="duration")
                fps = _slider("fps", step=1, label="Frames per second", elem_id="fps")
            with gr.Row():
                aspect = gr.Radio(list(studio_api.ASPECTS), value="16:9", label="Aspect")
                long_side = gr.Dropdown(list(LONG_SIDES), value=960, label="Size (longest side, px)")
            with gr.Row():
                engine = gr.Dropdown(studio_api.engines(), value=studio_api.PARALLAX, label="Engine",
                                     elem_id="engine", scale=1)
                with gr.Column(scale=2):
                    engine_md = gr.Markdown(engine_note(studio, studio_api.PARALLAX), elem_id="engine-note")
                    negative_prompt = gr.Textbox(label="Negative prompt (what the model should avoid)", lines=1,
                                                 max_length=bound(GenerativeSettings, "negative_prompt", "max_length"),
                                                 visible=False, elem_id="negative-prompt")
        estimate_md = gr.Markdown(elem_id="estimate")
        with gr.Row():
            go = gr.Button("Generate", variant="primary", elem_id="generate", scale=4)
            stop = gr.Button("Stop", variant="secondary", elem_id="stop", scale=1, min_width=100)
        status_md = gr.Markdown(elem_id="status")
        take_paths = gr.State([])  # this session's latest takes (server paths): what Keep may keep
        kept_paths = gr.State([])  # this session's kept takes
        columns, videos, keeps = [], [], []
        with gr.Row(equal_height=True):
            for i in range(studio_api.MAX_TAKES):
                with gr.Column(min_width=200, visible=i == 0) as column:
                    videos.append(gr.Video(label=f"Take {i + 1}", interactive=False, autoplay=False, loop=True,
                                           elem_id=f"take-{i + 1}", buttons=["download"]))
                    keeps.append(gr.Button(f"Keep take {i + 1}", size="sm", elem_id=f"keep-{i + 1}"))
                columns.append(column)
        kept = gr.File(label="Kept takes", file_count="multiple", interactive=False, height=140, elem_id="kept")
        with gr.Accordion("Recipes (seed, move, strength of each take)", open=False):
            recipes = gr.JSON(label="Recipes", show_label=False)
        panel, finish_take, finish_button, finish_inputs, finish_outputs = _finish_panel(studio, kept_paths)

        # Wiring
        settings = [num_takes, duration, fps, aspect, long_side, engine]
        gr.on([demo.load, photo.change] + [c.change for c in settings], functools.partial(estimate_text, studio),
              [photo, *settings], estimate_md, api_name="estimate", preprocess=False, queue=False,
              show_progress="hidden", trigger_mode="always_last")  # the latest values win, never a stale reply
        gr.on([prompt.change, preset.change, strength.change], functools.partial(describe_plan, studio),
              [prompt, preset, strength], plan_md,
              api_name="plan", queue=False, show_progress="hidden", trigger_mode="always_last")

        engine.change(lambda e: (engine_note(studio, e), gr.Textbox(visible=e != studio_api.PARALLAX)), engine,
                      [engine_md, negative_prompt], api_name="engine_status", queue=False, show_progress="hidden")

        # Stop: each session's running click has an Event the Stop button sets (the model stops at its
        # next step, and no further take starts; what is made so far is delivered).
        running: dict[str, threading.Event] = {}

        def with_request(fn):
            # Gradio passes gr.Request to a parameter typed as such; this module's annotations are strings.
            fn.__annotations__["request"] = gr.Request
            return fn

        @with_request
        def run(photo, prompt, preset, strength, seed, random_seed, num_takes, vary, duration, fps, aspect,
                long_side, engine=None, negative_prompt=None, request: gr.Request = None, progress=gr.Progress()):
            cancel = threading.Event()
            key = getattr(request, "session_hash", None) or str(id(cancel))
            running[key] = cancel
            try:
                yield from generate(studio, photo, prompt, preset, strength, seed, random_seed, num_takes, vary,
                                    duration, fps, aspect, long_side, engine, negative_prompt, progress=progress,
                                    cancel=cancel)
            finally:
                if running.get(key) is cancel:
                    del running[key]

        @with_request
        def stop_run(request: gr.Request):
            cancel = running.get(getattr(request, "session_hash", None) or "")
            if cancel is None:
                return gr.Markdown()
            cancel.set()
            return "Stopping: the takes made so far are delivered."

        go.click(run, [photo, prompt, preset, strength, seed, random_seed, num_takes, vary, duration, fps, aspect,
                       long_side, engine, negative_prompt],
                 [*videos, depth_img, plan_md, status_md, recipes, take_paths], api_name="generate",
                 preprocess=False, concurrency_limit=CONCURRENCY, concurrency_id="render",
                 show_progress_on=status_md)  # not over the takes: the first one plays while the rest render
        # Each take's column appears, labelled, as the take arrives.
        recipes.change(take_slots, recipes, [*columns, *videos], api_visibility="private", queue=False,
                       show_progress="hidden")
        stop.click(stop_run, None, status_md, api_name="stop", queue=False, show_progress="hidden")
        for i, keep in enumerate(keeps):
            keep.click(functools.partial(keep_take, studio, i), [take_paths, kept_paths],
                       [kept_paths, kept, finish_take, panel], api_name=f"keep_take_{i + 1}", queue=False)

        def run_finish(take=None, kept=None, caption=None, title=None, caption_position="bottom", sound="none",
                       audio_file=None, volume=1.0, aspect="original", reframe="subject", format="mp4", loop="none",
                       progress=gr.Progress()):
            return finish_kept(studio, take, kept, caption, title, caption_position, sound, audio_file, volume,
                               aspect, reframe, format, loop, progress=progress)

        finish_button.click(run_finish, finish_inputs, finish_outputs, api_name="finish",
                            concurrency_limit=CONCURRENCY, concurrency_id="render"
                            ).then(preview_slots, finish_outputs[2], finish_outputs[:2], api_visibility="private",
                                   queue=False, show_progress="hidden")
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=32)
    return demo


def launch_kwargs() -> dict:
    """What ``python app.py`` passes to ``launch``: host and port stay None so Gradio reads
    GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (default 127.0.0.1:7860)."""
    # No allowed_paths: returned files are copied into Gradio's own cache, and listing the temp folder
    # there would serve every file in it to anyone.
    return dict(show_error=True, ssr_mode=False, mcp_server=False, footer_links=["api", "settings"])


if __name__ == "__main__":
    import threading

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    studio = studio_api.Studio()
    demo = build_demo(studio)
    # Load the depth stack while the server starts, not during the first user's click.
    threading.Thread(target=studio.warm_up, name="warm-up", daemon=True).start()
    demo.launch(**launch_kwargs())
