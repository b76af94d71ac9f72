"""The studio's layout and wiring (Gradio Blocks): ``build_demo(studio) -> gr.Blocks``. The handlers it wires
are in :mod:`pipelines.ui.handlers`; importing this module loads no model and starts no server."""
from __future__ import annotations

import functools
import os
from typing import Optional

from pipelines import studio as studio_api
from pipelines.core import paths
from pipelines.core.schema import RenderSettings, StudioRequest, bound
from pipelines.ui.controls import choices, default, examples, slider
from pipelines.ui.finish_panel import finish_panel, preview_slots
from pipelines.ui.live import live_player
from pipelines.ui.motion_panel import editor_for_photo, motion_overlay, motion_panel
from pipelines.ui.handlers import (FROM_PROMPT, Runs, describe_plan, engine_note, estimate_text, keep_take,
                                   recipe_controls, take_slots)

#: Output sizes offered (longest side, px): the schema's examples; its bounds are checked in the studio.
LONG_SIDES = tuple(examples("long_side"))
#: Renders running at once (the rest wait in the queue); the machine has few cores.
CONCURRENCY = int(os.environ.get("STUDIO_CONCURRENCY", "2"))
#: Sample photos offered as one-click examples: (file under assets/examples/, label). Their licences:
#: assets/README.md.
EXAMPLES = (("astronaut.jpg", "Astronaut"), ("coffee.jpg", "Coffee"), ("chelsea.jpg", "Chelsea the cat"),
            ("rocket.jpg", "Rocket"))
#: The prompt each example fills in, in the order of EXAMPLES.
EXAMPLE_PROMPTS = ("slow push in toward her face", "orbit around the cup, gentle", "dramatic pull back",
                   "crane up along the rocket")


def _example_photos() -> list[str]:
    """The example photos shipped in ``assets/examples/`` (scikit-image samples), as file paths."""
    return [str(paths.ASSETS / "examples" / name) for name, _ in EXAMPLES]


def _photo_and_words(studio: studio_api.Studio) -> dict:
    """The photo, the prompt with its plan, the depth picture and the examples."""
    import gradio as gr

    with gr.Row():
        with gr.Column(scale=1):
            photo = gr.Image(label="Photo", type="filepath", sources=["upload", "clipboard", "webcam"],
                             height=320, elem_id="photo")
            prompt = gr.Textbox(label="Describe the motion", placeholder="slow push in toward the mountain",
                                lines=1, elem_id="prompt", max_length=bound(StudioRequest, "prompt", "max_length"))
            plan_md = gr.Markdown(describe_plan(studio, "", FROM_PROMPT,
                                                RenderSettings.model_fields["strength"].default), elem_id="plan")
        with gr.Column(scale=1):
            depth_img = gr.Image(label="Depth (white = near)", interactive=False, height=320, format="png",
                                 elem_id="depth")
            gr.Examples(examples=[[p, t] for p, t in zip(_example_photos(), EXAMPLE_PROMPTS)],
                        inputs=[photo, prompt], example_labels=[label for _, label in EXAMPLES],
                        cache_examples=False, label="Examples (scikit-image sample photos)")
    return dict(photo=photo, prompt=prompt, plan_md=plan_md, depth_img=depth_img)


def _settings(studio: studio_api.Studio) -> dict:
    """The Settings accordion: move, strength, seed, takes, length, frame rate, aspect, size and engine."""
    import gradio as gr

    names = studio_api.Studio.preset_names() or ()
    with gr.Accordion("Settings", open=True):
        with gr.Row():
            preset = gr.Dropdown([FROM_PROMPT, *names], value=FROM_PROMPT, label="Camera move",
                                 allow_custom_value=not names)
            strength = slider("strength", step=0.05, label="Motion strength")
            with gr.Column(min_width=160):
                seed = gr.Number(value=0, precision=0, minimum=0, maximum=bound(RenderSettings, "seed", "le"),
                                 label="Seed")
                random_seed = gr.Checkbox(value=False, label="Random seed")
        with gr.Row():
            num_takes = slider("num_takes", StudioRequest, value=2, step=1, label="Takes", elem_id="takes")
            vary = gr.Radio(choices("vary", StudioRequest), value=default("vary", StudioRequest),
                            label="Takes differ by", elem_id="vary")
            duration = slider("duration", step=0.1, label="Duration (s)", elem_id="duration")
            fps = slider("fps", step=1, label="Frames per second", elem_id="fps")
        with gr.Row():
            aspect = gr.Radio(choices("aspect", StudioRequest), value="16:9", label="Aspect", elem_id="aspect")
            long_side = gr.Dropdown(list(LONG_SIDES), value=default("long_side", StudioRequest),
                                    label="Size (longest side, px)", elem_id="long-side",
                                    allow_custom_value=True)  # a loaded recipe may use another size
        with gr.Row():
            engine = gr.Dropdown(studio_api.engines(), value=studio_api.PARALLAX, label="Engine",
                                 elem_id="engine", scale=1)
            with gr.Column(scale=2):
                engine_md = gr.Markdown(engine_note(studio, studio_api.PARALLAX), elem_id="engine-note")
                negative_prompt = gr.Textbox(label="Negative prompt (what the model should avoid)", lines=1,
                                             max_length=bound(StudioRequest, "negative_prompt", "max_length"),
                                             visible=False, elem_id="negative-prompt")
    return dict(preset=preset, strength=strength, seed=seed, random_seed=random_seed, num_takes=num_takes,
                vary=vary, duration=duration, fps=fps, aspect=aspect, long_side=long_side, engine=engine,
                engine_md=engine_md, negative_prompt=negative_prompt)


def _brush() -> dict:
    """The living-photo brush: one layer per motion group, its controls and the overlay preview."""
    brush, controls, overlay, note = motion_panel()
    return dict(brush=brush, brush_controls=controls, brush_overlay=overlay, brush_md=note)


def _takes() -> dict:
    """Generate and Stop, the status, one column per take (video + Keep), the kept takes and the recipes."""
    import gradio as gr

    estimate_md = gr.Markdown(elem_id="estimate")
    with gr.Row():
        go = gr.Button("Generate", variant="primary", elem_id="generate", scale=4)
        stop = gr.Button("Stop", variant="secondary", elem_id="stop", scale=1, min_width=100)
    status_md = gr.Markdown(elem_id="status")
    columns, videos, keeps = [], [], []
    with gr.Row(equal_height=True):
        for i in range(studio_api.MAX_TAKES):
            with gr.Column(min_width=200, visible=i == 0) as column:
                if i == 0:
                    live = live_player()  # take 1 while it renders
                videos.append(gr.Video(label=f"Take {i + 1}", interactive=False, autoplay=False, loop=True,
                                       elem_id=f"take-{i + 1}", buttons=[]))  # downloads: Keep (quality)
                keeps.append(gr.Button(f"Keep take {i + 1}", size="sm", elem_id=f"keep-{i + 1}"))
            columns.append(column)
    kept = gr.File(label="Kept takes", file_count="multiple", interactive=False, height=140, elem_id="kept")
    with gr.Accordion("Recipes (seed, move, strength of each take)", open=False):
        recipes = gr.JSON(label="Recipes", show_label=False)
        recipe_file = gr.File(label="Load a recipe (the .json beside a take's video, with its .motion-*.png masks "
                                    "if regions moved) to render that take again",
                              file_types=[".json", ".png"], file_count="multiple", type="filepath",
                              elem_id="recipe-file")
    api_go = gr.Button(visible=False, elem_id="generate-api")  # /generate for API clients: a result per take
    return dict(estimate_md=estimate_md, go=go, api_go=api_go, live=live, stop=stop, status_md=status_md,
                columns=columns, videos=videos,
                keeps=keeps, kept=kept, recipes=recipes, recipe_file=recipe_file,
                recipe_motion=gr.State(None),  # a loaded recipe's motion groups, painted when its photo comes
                take_paths=gr.State([]),  # this session's latest takes (server paths): what Keep may keep
                kept_paths=gr.State([]))  # this session's kept takes


#: The Generate inputs, in the order of handlers.generate's parameters (and of the /generate API); the
#: brush and its four groups' controls (type, direction, speed) follow them.
GENERATE_INPUTS = ("photo", "prompt", "preset", "strength", "seed", "random_seed", "num_takes", "vary", "duration",
                   "fps", "aspect", "long_side", "engine", "negative_prompt")


def build_demo(studio: Optional[studio_api.Studio] = None):
    """The Gradio Blocks app. ``studio`` is injected by tests; by default a fresh Studio."""
    import gradio as gr

    studio = studio or studio_api.Studio()
    with gr.Blocks(title="Photo-to-video studio", delete_cache=(900, 3600)) as demo:
        gr.Markdown("# Photo-to-video studio\nOne photo and a few words in, several short camera moves out.")
        ui = {**_photo_and_words(studio), **_settings(studio), **_brush(), **_takes()}
        panel, finish_take, finish_button, finish_inputs, finish_outputs = finish_panel(studio, ui["kept_paths"])
        runs = Runs(studio)
        _wire_generate(studio, demo, ui, runs)
        for i, keep in enumerate(ui["keeps"]):
            keep.click(functools.partial(keep_take, studio, i), [ui["take_paths"], ui["kept_paths"]],
                       [ui["kept_paths"], ui["kept"], finish_take, panel], api_name=f"keep_take_{i + 1}", queue=False)
        # No preprocessing: every value reaches the handler and the schema, which name a bad one (Gradio's
        # own range and choice checks do not say which control was wrong).
        finish_button.click(runs.finish, finish_inputs, finish_outputs, api_name="finish", preprocess=False,
                            concurrency_limit=CONCURRENCY, concurrency_id="render"
                            ).then(preview_slots, finish_outputs[2], finish_outputs[:2], api_visibility="private",
                                   queue=False, show_progress="hidden")
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=32)
    return demo


def _wire_generate(studio: studio_api.Studio, demo, ui: dict, runs: Runs) -> None:
    """The estimate, the plan, the engine note, Generate, Stop, the take slots and loading a recipe."""
    import gradio as gr

    settings = [ui[k] for k in ("num_takes", "duration", "fps", "aspect", "long_side", "engine")]
    gr.on([demo.load, ui["photo"].change] + [c.change for c in settings], functools.partial(estimate_text, studio),
          [ui["photo"], *settings], ui["estimate_md"], api_name="estimate", preprocess=False, queue=False,
          show_progress="hidden", trigger_mode="always_last")  # the latest values win, never a stale reply
    words = [ui["prompt"], ui["preset"], ui["strength"]]
    gr.on([c.change for c in words], functools.partial(describe_plan, studio), words, ui["plan_md"],
          api_name="plan", queue=False, show_progress="hidden", trigger_mode="always_last",
          preprocess=False)  # the handler names a bad value (Gradio's own range check does not)
    ui["engine"].change(lambda e: (engine_note(studio, e), gr.Textbox(visible=e != studio_api.PARALLAX)),
                        ui["engine"], [ui["engine_md"], ui["negative_prompt"]], api_name="engine_status",
                        queue=False, show_progress="hidden",
                        preprocess=False)  # an unknown engine gets the note that names it, not a choice error
    ui["photo"].change(editor_for_photo, [ui["photo"], ui["recipe_motion"]], ui["brush"], api_visibility="private",
                       queue=False, show_progress="hidden")
    brush = [ui["brush"], *ui["brush_controls"]]
    # The editor reports a painted layer on input/apply (after the layer's upload), not on every stroke.
    gr.on([ui["brush"].change, ui["brush"].input, ui["brush"].apply, ui["prompt"].change]
          + [c.change for c in ui["brush_controls"]],
          motion_overlay, [ui["brush"], ui["prompt"], *ui["brush_controls"]], [ui["brush_overlay"], ui["brush_md"]],
          api_name="motion_preview", queue=False, show_progress="hidden", trigger_mode="always_last")
    outputs = [*ui["videos"], ui["depth_img"], ui["plan_md"], ui["status_md"], ui["recipes"], ui["take_paths"]]
    # The page's Generate also streams take 1 into the live player while it renders; API clients get the same
    # click without the stream (one result per take).
    ui["go"].click(runs.generate_live, [ui[k] for k in GENERATE_INPUTS] + brush, outputs + [ui["live"]],
                   api_visibility="private", preprocess=False, concurrency_limit=CONCURRENCY,
                   concurrency_id="render",
                   show_progress_on=ui["status_md"])  # not over the takes: the first plays while the rest render
    ui["api_go"].click(runs.generate, [ui[k] for k in GENERATE_INPUTS] + brush, outputs, api_name="generate",
                       preprocess=False, concurrency_limit=CONCURRENCY, concurrency_id="render")
    # Each take's column appears, labelled, as the take arrives.
    ui["recipes"].change(take_slots, ui["recipes"], [*ui["columns"], *ui["videos"]], api_visibility="private",
                         queue=False, show_progress="hidden")
    ui["stop"].click(runs.stop, None, ui["status_md"], api_name="stop", queue=False, show_progress="hidden")
    ui["recipe_file"].upload(functools.partial(recipe_controls, studio), [ui["recipe_file"], ui["photo"]],
                             [ui[k] for k in GENERATE_INPUTS[1:]] + [ui["status_md"], ui["brush"],
                                                                     *ui["brush_controls"], ui["recipe_motion"]],
                             api_name="load_recipe", queue=False)


def launch_kwargs() -> dict:
    """What ``python app.py`` passes to ``launch``: host and port stay None so Gradio reads
    GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (default 127.0.0.1:7860)."""
    # No allowed_paths: returned files are copied into Gradio's own cache, and listing the temp folder
    # there would serve every file in it to anyone.
    return dict(show_error=True, ssr_mode=False, mcp_server=False, footer_links=["api", "settings"])
