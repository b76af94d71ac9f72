"""Gradio controls read from the schema: a slider's range and help, a radio's choices. Nothing here re-types
a limit or a vocabulary; :mod:`pipelines.core.schema` is the single source."""
from __future__ import annotations

from pipelines.core import schema
from pipelines.core.schema import FinishSettings, RenderSettings, bound


def slider(name: str, model=RenderSettings, **kwargs):
    """A slider whose range and help come from the field ``name`` of the schema ``model``."""
    import gradio as gr

    f = model.model_fields[name]
    lo, hi = bound(model, name, "ge"), bound(model, name, "le")
    return gr.Slider(lo, hi, value=kwargs.pop("value", f.default), info=f.description, **kwargs)


def choices(name: str, model=FinishSettings) -> list[str]:
    """The allowed values of a Literal field of the schema (e.g. FinishSettings.aspect)."""
    return schema.choices(model, name)


def examples(name: str, model=schema.StudioRequest) -> list:
    """The values a field suggests (e.g. StudioRequest.long_side: the offered output sizes)."""
    return schema.examples(model, name)


def default(name: str, model=FinishSettings):
    """The schema's default of a field (what a blank control means)."""
    return model.model_fields[name].default
