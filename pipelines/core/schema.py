"""The one schema of user-facing knobs. CLI options, Gradio slider ranges and preset validation read it.

Each field carries its range (``ge``/``le``) and a one-line description; nothing here is re-typed elsewhere.
"""
from __future__ import annotations

import argparse
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipelines.core.errors import InputError

Easing = Literal["linear", "smooth", "ease-in", "ease-out", "sine"]


class RenderSettings(BaseModel):
    """How one take is rendered: the motion, its amount and randomness, and the video's timing and size."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: str = Field("dolly-in", description="camera move preset (see `python -m pipelines presets`)")
    strength: float = Field(0.5, ge=0.0, le=1.0,
                            description="motion strength: 1 moves the nearest subject ~7% of the frame width, 0 is still")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="varies direction, phase and easing within the preset")
    duration: float = Field(4.0, ge=0.1, le=60.0, description="video length in seconds")
    fps: int = Field(30, ge=1, le=60, description="frames per second")
    width: Optional[int] = Field(None, ge=16, le=3840, description="output width in pixels (default: the photo's)")
    height: Optional[int] = Field(None, ge=16, le=3840, description="output height in pixels (default: the photo's)")
    fov_deg: float = Field(60.0, gt=1.0, lt=170.0, description="horizontal field of view of the photo, degrees")

    @property
    def num_frames(self) -> int:
        return max(1, round(self.duration * self.fps))


class CameraPreset(BaseModel):
    """A camera move as data (presets/camera/*.json). Components add up; all are relative to the scene:
    translations in units of the nearest subject's depth, angles in degrees."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="preset name, kebab-case")
    label: str = Field(description="name shown to users")
    description: str = Field("", description="one line for users")
    translate: tuple[float, float, float] = Field((0.0, 0.0, 0.0), description="camera move x right, y down, z forward")
    orbit_deg: float = Field(0.0, ge=-90, le=90, description="yaw around the subject (positive: camera moves right)")
    circle: tuple[float, float] = Field((0.0, 0.0), description="closed-loop radii in x and y (a full circle per take)")
    zoom: float = Field(1.0, gt=0.1, le=10.0, description="focal length at the end of the move relative to the start")
    dolly_zoom: bool = Field(False, description="keep the subject's size while dollying (vertigo effect)")
    flat: bool = Field(False, description="ignore depth: a 2-D Ken Burns move")
    pan: tuple[float, float] = Field((0.0, 0.0), description="2-D pan for flat moves, in frame fractions (x, y)")
    loop: bool = Field(False, description="path is closed: the frame after the last is the first")
    jitter_deg: float = Field(12.0, ge=0, le=45, description="seeded wobble of the direction, degrees")
    easing: Optional[Easing] = Field(None, description="fixed easing curve; None lets the seed choose")

    @field_validator("translate", "circle", "pan")
    @classmethod
    def _finite(cls, v):
        import math

        if not all(math.isfinite(x) for x in v):
            raise ValueError("values must be finite")
        return v


def bound(model: type[BaseModel], name: str, which: str) -> Any:
    """The ``which`` bound ("ge", "gt", "le" or "lt") of field ``name`` of ``model``, e.g.
    ``bound(RenderSettings, "seed", "le") == 2**31 - 1``; KeyError when the field has none."""
    for m in model.model_fields[name].metadata:
        if getattr(m, which, None) is not None:
            return getattr(m, which)
    raise KeyError(f"{model.__name__}.{name} has no {which} bound")


def _short(value: Any, limit: int = 60) -> str:
    """repr of a value for an error message, cut short: a 5,000-character caption is named, not echoed."""
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, str):
        return f"{text[:limit - 4]}...' ({len(value)} characters)"
    return text[:limit - 3] + "..."


def validate(model: type[BaseModel], **values: Any) -> BaseModel:
    """Build ``model`` from user values; pydantic's errors become one :class:`InputError` that names
    each bad field, its value and the allowed range."""
    try:
        return model(**values)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"]) or model.__name__
            parts.append(f"{loc}={_short(err.get('input'))}: {err['msg']}")
        raise InputError("invalid settings: " + "; ".join(parts)) from None


def add_options(parser: argparse.ArgumentParser, model: type[BaseModel], skip: tuple[str, ...] = ()) -> None:
    """Add one ``--option`` per schema field, with its help text and range; defaults stay None so only
    options the user typed are passed on (the schema supplies the rest)."""
    for name, f in model.model_fields.items():
        if name in skip:
            continue
        flag = "--" + name.replace("_", "-")
        rng = []
        for m in f.metadata:
            for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
                if getattr(m, attr, None) is not None:
                    rng.append(f"{sym}{getattr(m, attr)}")
        ann = f.annotation
        typ = {int: int, float: float}.get(ann, None)
        if typ is None and ann in (Optional[int],):
            typ = int
        desc = (f.description or "").replace("%", "%%")
        help_ = f"{desc} [{' '.join(rng)}; default {f.default}]" if rng else f"{f.description} [default {f.default}]"
        parser.add_argument(flag, dest=name, type=typ or str, default=None, help=help_)


def picked(args: argparse.Namespace, model: type[BaseModel]) -> dict[str, Any]:
    """The schema fields the user set on the command line."""
    return {k: v for k, v in vars(args).items() if k in model.model_fields and v is not None}


class GenerativeSettings(BaseModel):
    """Knobs of the generative engine (diffusers names). None means the model preset's default; the
    motion strength, seed, frame count and size come from :class:`RenderSettings`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    engine: str = Field("wan-vace", pattern=r"^[a-z0-9][a-z0-9-]*$",
                        description="generative backend (see presets/models/generative.json)")
    prompt: str = Field("", max_length=2000,
                        description="the motion in words (picks the move when no --preset), and what the generative model draws")
    negative_prompt: str = Field("", max_length=2000, description="what the model should avoid")
    num_inference_steps: Optional[int] = Field(None, ge=1, le=150,
                                               description="denoising steps (default: the model preset's)")
    guidance_scale: Optional[float] = Field(None, ge=1.0, le=20.0,
                                            description="prompt adherence (default: the model preset's)")
    conditioning_scale: float = Field(1.0, ge=0.0, le=2.0,
                                      description="how strictly the depth of the camera move is followed")


class GenerativeModelPreset(BaseModel):
    """A generative backend as data (presets/models/generative.json): where its weights live, its licence,
    the memory it needs and the frame counts and sizes it accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="backend name, kebab-case")
    label: str = Field(description="name shown to users")
    pipeline: str = Field(description="diffusers pipeline class")
    repo: str = Field(description="Hugging Face hub id (or local folder) of the pipeline")
    components: dict[str, str] = Field(default_factory=dict, description="extra hub ids by component name")
    licence: str = Field(description="licence of the weights, as the model cards state it")
    licence_url: str = Field(description="where the licence is stated")
    camera_control: bool = Field(description="follows the depth maps of the camera move")
    uses_prompt: bool = Field(description="steered by the text prompt")
    frames_step: int = Field(ge=1, le=16, description="frame counts must be frames_step * k + frames_offset")
    frames_offset: int = Field(ge=0, le=16, description="see frames_step")
    max_frames: int = Field(ge=1, le=1024, description="most frames one pass generates")
    size_multiple: int = Field(ge=1, le=256, description="width and height must be multiples of this")
    max_area: int = Field(ge=64 * 64, description="most pixels per frame (the model's training size)")
    num_inference_steps: int = Field(ge=1, le=150, description="default denoising steps")
    guidance_scale: float = Field(ge=1.0, le=20.0, description="default guidance scale")
    dtype: dict[Literal["cuda", "mps", "cpu"], Literal["float32", "float16", "bfloat16"]] = Field(
        description="torch dtype per device type")
    memory_gb: float = Field(gt=0, description="GPU memory needed with model CPU offload, GiB")
    memory_gb_full: float = Field(gt=0, description="GPU memory needed with every component resident, GiB")
    reference_seconds: Optional[float] = Field(None, gt=0, description="a published run time, seconds")
    reference_run: Optional[dict[str, Any]] = Field(None, description="frames, width, height, steps, gpu of that run")
    source: str = Field(description="where the figures come from")


class DepthSettings(BaseModel):
    """Edits applied to a depth map after estimation or import (relative depth: 1 = near, 0 = far)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    push: float = Field(0.0, ge=-1.0, le=1.0,
                        description="move the masked region (or everything) nearer (+) or farther (-), relative depth")
    contrast: float = Field(1.0, gt=0.0, le=10.0, description="depth contrast: 2 doubles the relief, 0.5 halves it")
    near: float = Field(1.0, ge=0.0, le=1.0, description="relative depth of the nearest point after editing")
    far: float = Field(0.0, ge=0.0, le=1.0, description="relative depth of the farthest point after editing (< near)")
    fatten: int = Field(0, ge=0, le=64, description="grow the near side of depth edges by this many pixels (cures halos)")

    @field_validator("far")
    @classmethod
    def _below_near(cls, v, info):
        near = info.data.get("near", 1.0)
        if v >= near:
            raise ValueError(f"far must be less than near ({near})")


Aspect = Literal["original", "16:9", "9:16", "1:1", "4:5"]


class FinishSettings(BaseModel):
    """How a kept take is finished for posting: text overlays, sound, aspect, container and looping.

    Times are in seconds of the finished video (after a boomerang doubles it); sizes of text are
    fractions of the finished frame's height, so they look the same at any resolution.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    caption: Optional[str] = Field(None, max_length=500, description="caption text (None: no caption)")
    title: Optional[str] = Field(None, max_length=200, description="title text, drawn larger (None: no title)")
    caption_position: str = Field("bottom", pattern=r"^(top|centre|center|bottom|0?\.\d+,0?\.\d+|[01],[01])$",
                                  description="top, centre, bottom, or x,y of the text's centre in frame fractions")
    title_position: str = Field("top", pattern=r"^(top|centre|center|bottom|0?\.\d+,0?\.\d+|[01],[01])$",
                                description="top, centre, bottom, or x,y of the title's centre in frame fractions")
    caption_size: float = Field(0.055, ge=0.02, le=0.25, description="caption font size, fraction of frame height")
    title_size: float = Field(0.09, ge=0.02, le=0.3, description="title font size, fraction of frame height")
    text_colour: str = Field("#ffffff", description="text fill colour (#rrggbb or a CSS name)")
    stroke_colour: str = Field("#000000", description="text outline and shadow colour")
    stroke: float = Field(0.08, ge=0.0, le=0.3, description="outline width, fraction of the font size (0: none)")
    shadow: float = Field(0.6, ge=0.0, le=1.0, description="opacity of the soft drop shadow (0: none)")
    text_fade: float = Field(0.5, ge=0.0, le=5.0, description="text fade-in and fade-out, seconds")
    text_start: float = Field(0.0, ge=0.0, le=600.0, description="when the text appears, seconds")
    text_end: Optional[float] = Field(None, gt=0.0, le=600.0, description="when the text is gone, seconds (None: the end)")
    font: Optional[str] = Field(None, description="font file (.ttf/.otf/.ttc/.woff2) for the text (None: built-in)")
    audio: Optional[str] = Field(None, description="sound: an audio file, a built-in bed (wind, rain, sea, pad, silence) or none")
    audio_seed: int = Field(0, ge=0, le=2**31 - 1, description="varies the built-in sound bed")
    volume: float = Field(1.0, ge=0.0, le=4.0, description="sound volume (1: as is; beds peak at -6 dBFS)")
    audio_fade_in: float = Field(0.5, ge=0.0, le=30.0, description="sound fade-in, seconds")
    audio_fade_out: float = Field(1.0, ge=0.0, le=30.0, description="sound fade-out, seconds")
    aspect: Aspect = Field("original", description="frame shape: original, 16:9, 9:16, 1:1 or 4:5")
    reframe: Literal["subject", "blur"] = Field(
        "subject", description="subject: crop around the nearest subject; blur: fit whole, pad with a blurred fill")
    format: Optional[Literal["mp4", "webm", "gif"]] = Field(None, description="container (None: from the file extension)")
    loop: Literal["none", "seamless", "boomerang"] = Field(
        "none", description="seamless: last frame flows into the first; boomerang: play forward then back")
    gif_width: int = Field(480, ge=64, le=1920, description="GIF width in pixels (GIFs are large)")
    gif_max_mb: float = Field(8.0, ge=0.1, le=100.0, description="GIF size cap in MB; width and frame rate shrink to fit")

    @field_validator("caption", "title")
    @classmethod
    def _not_blank(cls, v):
        if v is not None and not v.strip():
            raise ValueError("text is empty or only spaces; leave it out for no text")
        return v

    @field_validator("text_colour", "stroke_colour")
    @classmethod
    def _colour(cls, v):
        from PIL import ImageColor

        try:
            ImageColor.getrgb(v)
        except ValueError:
            raise ValueError("not a colour; use #rrggbb or a CSS name such as white") from None
        return v
