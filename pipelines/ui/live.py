"""The live player: the first take of a click plays in the page while it renders.

The take's encoder writes short MPEG-TS segments as it goes (:class:`pipelines.studio.live.Segment`); the
generate event yields each one's path into a ``gr.Video(streaming=True)``, which the browser plays as an HLS
stream (hls.js). The segments are already H.264 with continuous timestamps, so they go out as they are:
Gradio's own chunk handling (an ffprobe and an ffmpeg remux per chunk, and ffmpeg and ffprobe on PATH) is
replaced on this one component by reading the file. When the take is whole, the live player hides and the
take's own player (which loops) takes its place.
"""
from __future__ import annotations

import types
from pathlib import Path
from typing import Any

from pipelines import studio as studio_api

#: The generate event's outputs before the live player: MAX_TAKES take videos, the depth picture, the plan,
#: the status, the recipes and the take paths (:func:`pipelines.ui.handlers._outputs`).
N_OUTPUTS = studio_api.MAX_TAKES + 5


def _seconds(path: Path) -> float:
    """A segment's length, from the list its encoder keeps beside it (name,start,end per line)."""
    for line in (path.parent / "segments.csv").read_text().splitlines():
        name, start, end = line.split(",")
        if name == path.name:
            return max(float(end) - float(start), 1e-3)
    raise ValueError(f"segment {path.name} is not in its folder's segments.csv")


async def _stream_output(self, value: Any, output_id: str, first_chunk: bool):
    """One segment for the HLS playlist, as the encoder wrote it (no re-muxing)."""
    out = {"path": output_id, "is_stream": True, "orig_name": "take-1-live.mp4", "meta": {"_type": "gradio.FileData"}}
    if value is None:
        return None, out
    path = Path(str(value))
    if path.suffix != ".ts":
        raise ValueError(f"the live player plays the take's .ts segments, got {path.name}")
    return {"data": path.read_bytes(), "duration": _seconds(path), "extension": ".ts"}, out


async def _flush_stream_output(self, output_id: str):
    return None  # nothing held back: every segment went out whole


def _end_stream_output(self, output_id: str) -> None:
    return None


async def _combine_stream(self, stream: list[bytes], desired_output_format: str | None = None, only_file=False):
    """The whole stream as one MPEG-TS file (the segments concatenate as they are)."""
    import tempfile

    from gradio.data_classes import FileData

    with tempfile.NamedTemporaryFile(delete=False, suffix=".ts", dir=self.GRADIO_CACHE) as f:
        f.write(b"".join(stream))
    return FileData(path=f.name, orig_name="take-1-live.ts")


def live_player():
    """The live player (hidden until a click starts streaming)."""
    import gradio as gr

    player = gr.Video(label="Take 1 (rendering)", streaming=True, autoplay=True, interactive=False, visible=False,
                      elem_id="take-1-live", buttons=[])
    for name, fn in (("stream_output", _stream_output), ("flush_stream_output", _flush_stream_output),
                     ("end_stream_output", _end_stream_output), ("combine_stream", _combine_stream)):
        setattr(player, name, types.MethodType(fn, player))
    return player


def live_outputs(outputs: tuple, result: studio_api.StudioResult, swap: bool) -> tuple:
    """The generate event's outputs with the live player's value after them: a segment of take 1 while it
    renders (everything else unchanged); at the start of a click the live player shows in place of take 1's
    player (``swap``: the take streams), and once take 1 is whole it hides again."""
    import gradio as gr

    if result.live is not None:
        skip = [gr.skip()] * N_OUTPUTS
        if result.live.index == 0 and result.depth_preview is not None:
            skip[studio_api.MAX_TAKES] = result.depth_preview  # the depth picture with the first motion
        return (*skip, str(result.live.path))
    if not swap:
        return (*outputs, gr.Video(visible=False))
    first = outputs[0]
    if not result.takes:
        return (gr.Video(value=None, visible=False), *outputs[1:], gr.Video(visible=True))
    return (gr.Video(value=first, visible=True), *outputs[1:], gr.Video(visible=False))
