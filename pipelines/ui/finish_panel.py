"""The Finish accordion: a kept take in; caption, sound, aspect, format and loop; a file out."""
from __future__ import annotations

from typing import Optional

from pipelines import studio as studio_api
from pipelines.core.schema import TEXT_POSITIONS, FinishSettings, bound
from pipelines.ui.controls import choices, default, slider
from pipelines.ui.handlers import MY_AUDIO, SOUND_CHOICES

AUDIO_TYPES = [".wav", ".mp3", ".m4a", ".aac", ".ogg", ".opus", ".flac"]


def finish_panel(studio: studio_api.Studio, kept_state):
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
            aspect = gr.Radio(choices("aspect"), value=default("aspect"), label="Aspect", elem_id="finish-aspect")
        with gr.Row():
            caption = gr.Textbox(label="Caption", max_length=text_limit["caption"], elem_id="finish-caption",
                                 placeholder="Golden hour")
            title = gr.Textbox(label="Title", max_length=text_limit["title"], elem_id="finish-title")
            position = gr.Radio(list(TEXT_POSITIONS), value=default("caption_position"), label="Caption position")
        with gr.Row():
            sound = gr.Dropdown(list(SOUND_CHOICES), value="none", label="Sound", elem_id="finish-sound",
                                info="a built-in bed (made from a seed, no downloads) or your own file")
            audio_file = gr.File(label="Your audio file", file_types=AUDIO_TYPES, type="filepath",
                                 elem_id="finish-audio")
            volume = slider("volume", FinishSettings, step=0.05, label="Volume")
        with gr.Row():
            reframe = gr.Radio(choices("reframe"), value=default("reframe"), label="Reframe",
                               info=FinishSettings.model_fields["reframe"].description)
            fmt = gr.Radio(choices("format"), value="mp4", label="Format", elem_id="finish-format")
            loop = gr.Radio(choices("loop"), value=default("loop"), label="Loop", elem_id="finish-loop",
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
