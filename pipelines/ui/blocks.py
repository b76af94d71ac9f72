"""The studio's layout and wiring (Gradio Blocks): ``build_demo(studio) -> gr.Blocks``. The handlers it wires
are in :mod:`pipelines.ui.handlers`; importing this module loads no model and starts no server."""
from __future__ import annotations

import functools
import os
import tempfile
import threading
from pathlib import Path
from typing import Optional

from pipelines import studio as studio_api
from pipelines.core.schema import GenerativeSettings, RenderSettings, bound
from pipelines.ui.controls import slider
from pipelines.ui.finish_panel import finish_panel, preview_slots
from pipelines.ui.handlers import (FROM_PROMPT, describe_plan, engine_note, estimate_text, finish_kept, generate,
                                   keep_take, take_slots)

#: Output sizes offered (longest side, px); the schema's width/height bounds are checked in the studio.
LONG_SIDES = (480, 640, 960, 1280, 1920)
#: Renders running at once (the rest wait in the queue); the machine has few cores.
CONCURRENCY = int(os.environ.get("STUDIO_CONCURRENCY", "2"))
#: scikit-image sample photos offered as one-click examples: (loader name, file name, label).
EXAMPLES = (("astronaut", "astronaut.jpg", "Astronaut"), ("coffee", "coffee.jpg", "Coffee"),
            ("chelsea", "chelsea.jpg", "Chelsea the cat"), ("rocket", "rocket.jpg", "Rocket"))
#: The finishing panel's sound choice that means "the audio file I uploaded".
EXAMPLE_PROMPTS = ("slow push in toward her face", "orbit around the cup, gentle", "dramatic pull back",
                   "crane up along the rocket")


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
                strength = slider("strength", step=0.05, label="Motion strength")
                with gr.Column(min_width=160):
                    seed = gr.Number(value=0, precision=0, minimum=0, maximum=seed_hi, label="Seed")
                    random_seed = gr.Checkbox(value=False, label="Random seed")
            with gr.Row():
                num_takes = gr.Slider(1, studio_api.MAX_TAKES, value=2, step=1, label="Takes", elem_id="takes")
                vary = gr.Radio(list(studio_api.VARY), value="seed", label="Takes differ by")
                duration = slider("duration", step=0.1, label="Duration (s)", elem_id="duration")
                fps = slider("fps", step=1, label="Frames per second", elem_id="fps")
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
        panel, finish_take, finish_button, finish_inputs, finish_outputs = finish_panel(studio, kept_paths)

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
