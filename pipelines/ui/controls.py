"""Gradio controls read from the schema: a slider's range and help, a radio's choices. Nothing here re-types
a limit or a vocabulary; :mod:`pipelines.core.schema` is the single source."""
from __future__ import annotations

from pipelines.core.schema import FinishSettings, RenderSettings, bound


def slider(name: str, model=RenderSettings, **kwargs):
    """A slider whose range and help come from the field ``name`` of the schema ``model``."""
    import gradio as gr

    f = model.model_fields[name]
    lo, hi = bound(model, name, "ge"), bound(model, name, "le")
    return gr.Slider(lo, hi, value=kwargs.pop("value", f.default), info=f.description, **kwargs)


def choices(name: str, model=FinishSettings) -> list[str]:
    """The allowed values of a Literal field of the schema (e.g. FinishSettings.aspect)."""
    import typing

    ann = model.model_fields[name].annotation
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    if len(args) == 1 and typing.get_origin(args[0]) is typing.Literal:  # Optional[Literal[...]]
        args = list(typing.get_args(args[0]))
    return list(args)
