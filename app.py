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
from pathlib import Path
from typing import Any, Optional

import pipelines  # noqa: F401  (sets OMP_WAIT_POLICY before anything imports torch)
from pipelines import studio as studio_api
from pipelines.errors import InputError, StudioError
from pipelines.schema import RenderSettings

#: The preset dropdown's first choice: take the camera move from the prompt.
FROM_PROMPT = "from the prompt"
#: Output sizes offered (longest side, px); the schema's width/height bounds are checked in the studio.
LONG_SIDES = (480, 640, 960, 1280, 1920)
#: Renders running at once (the rest wait in the queue); the machine has few cores.
CONCURRENCY = int(os.environ.get("STUDIO_CONCURRENCY", "2"))
#: scikit-image sample photos offered as one-click examples: (loader name, file name, label).
EXAMPLES = (("astronaut", "astronaut.jpg", "Astronaut"), ("coffee", "coffee.jpg", "Coffee"),
            ("chelsea", "chelsea.jpg", "Chelsea the cat"), ("rocket", "rocket.jpg", "Rocket"))
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
                  aspect: str, long_side: Any) -> str:
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
    except Exception:  # an estimate is a hint; bad values get their message from Generate
        return ""
    return f"Estimated time: about {max(1, round(secs))} s for {n} take(s) of {frames} frames at {w}x{h} " \
           f"(less when the depth of this photo is already computed)."


def generate(studio: studio_api.Studio, photo: Any, prompt: str, preset: str, strength: float, seed: Any,
             random_seed: bool, num_takes: Any, vary: str, duration: Any, fps: Any, aspect: str, long_side: Any,
             progress=None):
    """One click: N takes. Returns the four take slots, the depth picture, the plan, the status and the
    takes' recipes (JSON)."""
    import gradio as gr

    if progress is None:
        progress = gr.Progress()
    try:
        n = _int(num_takes, "number of takes")
        result = studio.generate(
            _photo_source(photo), prompt=prompt or "",
            preset=None if (not preset or preset == FROM_PROMPT) else preset,
            strength=_num(strength, "strength"), seed=None if random_seed else _int(seed, "seed"),
            num_takes=n, vary=vary or "seed", duration=_num(duration, "duration"), fps=_int(fps, "fps"),
            aspect=aspect or "photo", long_side=_int(long_side, "output size"),
            progress=_throttled(progress))
    except StudioError as exc:
        raise _error(exc) from None
    except MemoryError:
        raise gr.Error("not enough memory for this photo and size; choose a smaller output size") from None

    # Plain paths (not component updates) so API clients get a path per take; labels and visibility
    # follow in a UI-only step (take_slots) from the recipes.
    paths = [str(t.video) for t in result.takes] + [None] * (studio_api.MAX_TAKES - len(result.takes))
    first = result.takes[0].settings
    status = [f"{len(result.takes)} take(s) of {first.duration:g} s at {first.width}x{first.height}, "
              f"{first.fps} fps in {result.seconds:.1f} s."]
    status += [f"Note: {note}" for note in result.notices]
    # The full recipe (with every camera pose) is in the JSON file beside each video; the page gets the gist.
    recipes = [{"label": t.label, "settings": t.settings.model_dump(), "plan": result.plan.label,
                "source_photo_sha256": t.recipe.get("source_photo_sha256"), "video": t.recipe.get("video")}
               for t in result.takes]
    return (*paths, result.depth_preview, f"**{result.plan.label}**: {result.plan.explanation}",
            "\n\n".join(status), recipes)


def take_slots(recipes: Optional[list]) -> list:
    """Show one take column (video + keep button) per take, the video labelled with what made it; hide
    the other columns. Returns MAX_TAKES column updates, then MAX_TAKES video updates."""
    import gradio as gr

    recipes = list(recipes or [])
    n = studio_api.MAX_TAKES
    return ([gr.Column(visible=i < len(recipes)) for i in range(n)]
            + [gr.Video(label=recipes[i]["label"]) if i < len(recipes) else gr.Video() for i in range(n)])


def keep_take(video: Optional[str], kept: Optional[list]) -> list:
    """Add a take to the kept list (per browser session)."""
    import gradio as gr

    if not video:
        raise gr.Error("this take slot is empty; generate first")
    kept = list(kept or [])
    return kept if video in kept else kept + [video]


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


def _slider(name: str, **kwargs):
    """A slider whose range and help come from the schema field ``name``."""
    import gradio as gr

    f = RenderSettings.model_fields[name]
    lo = studio_api._bound(f, "ge")
    hi = studio_api._bound(f, "le")
    return gr.Slider(lo, hi, value=kwargs.pop("value", f.default), info=f.description, **kwargs)


def build_demo(studio: Optional[studio_api.Studio] = None):
    """The Gradio Blocks app. ``studio`` is injected by tests; by default a fresh Studio."""
    import gradio as gr

    studio = studio or studio_api.Studio()
    names = studio_api.Studio.preset_names() or ()
    seed_hi = studio_api._bound(RenderSettings.model_fields["seed"], "le")

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
        estimate_md = gr.Markdown(elem_id="estimate")
        go = gr.Button("Generate", variant="primary", elem_id="generate")
        status_md = gr.Markdown(elem_id="status")
        columns, videos, keeps = [], [], []
        with gr.Row(equal_height=True):
            for i in range(studio_api.MAX_TAKES):
                with gr.Column(min_width=200, visible=i == 0) as column:
                    videos.append(gr.Video(label=f"Take {i + 1}", interactive=False, autoplay=False, loop=True,
                                           elem_id=f"take-{i + 1}", buttons=["download"]))
                    keeps.append(gr.Button(f"Keep take {i + 1}", size="sm", elem_id=f"keep-{i + 1}"))
                columns.append(column)
        kept = gr.File(label="Kept takes", file_count="multiple", interactive=False, height=140, elem_id="kept")
        recipes = gr.JSON(label="Recipes (seed, move, strength of each take)", open=False)
        with gr.Accordion("Finish", open=False, visible=False, elem_id="finish"):
            gr.Markdown("Captions, sound and aspect export will live here.")  # filled by the finishing stage

        # Wiring
        settings = [num_takes, duration, fps, aspect, long_side]
        gr.on([demo.load, photo.change] + [c.change for c in settings], functools.partial(estimate_text, studio),
              [photo, *settings], estimate_md, api_name="estimate", preprocess=False, queue=False,
              show_progress="hidden")
        gr.on([prompt.change, preset.change, strength.change], functools.partial(describe_plan, studio),
              [prompt, preset, strength], plan_md,
              api_name="plan", queue=False, show_progress="hidden")

        def run(photo, prompt, preset, strength, seed, random_seed, num_takes, vary, duration, fps, aspect,
                long_side, progress=gr.Progress()):
            return generate(studio, photo, prompt, preset, strength, seed, random_seed, num_takes, vary,
                            duration, fps, aspect, long_side, progress=progress)

        go.click(run, [photo, prompt, preset, strength, seed, random_seed, num_takes, vary, duration, fps, aspect,
                       long_side], [*videos, depth_img, plan_md, status_md, recipes], api_name="generate",
                 preprocess=False, concurrency_limit=CONCURRENCY, concurrency_id="render"
                 ).then(take_slots, recipes, [*columns, *videos], api_visibility="private", queue=False,
                        show_progress="hidden")
        for i, (video, keep) in enumerate(zip(videos, keeps)):
            keep.click(keep_take, [video, kept], kept, api_name=f"keep_take_{i + 1}", queue=False)
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
