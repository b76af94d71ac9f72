"""The one schema of user-facing knobs. CLI options, Gradio slider ranges and preset validation read it.

Each field carries its range (``ge``/``le``) and a one-line description; nothing here is re-typed elsewhere.
"""
from __future__ import annotations

import argparse
import typing
from typing import Annotated, Any, Literal, Optional, Union
import math

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipelines.core.errors import InputError

# ------------------------------------------------------------------------------ limits and vocabularies
#: Smallest and largest output side, pixels (width, height and the studio's long side alike).
MIN_SIDE, MAX_SIDE = 16, 3840
#: Longest prompt (and negative prompt), characters.
PROMPT_CHARS = 2000
#: Names of presets and engines: kebab-case, and short enough to quote in a message.
NAME_PATTERN, NAME_CHARS = r"^[a-z0-9][a-z0-9-]*$", 64
#: The CPU engine; every other engine name is a generative backend (presets/models/generative.json).
PARALLAX = "parallax"

Easing = Literal["linear", "smooth", "ease-in", "ease-out", "sine"]
#: How the takes of one click differ: a seed series, or a strength sweep around the plan.
Vary = Literal["seed", "strength"]
#: Built-in sound beds (made from a seed, no downloads).
SoundBed = Literal["wind", "rain", "sea", "pad", "silence"]
#: Named places for text; "x,y" frame fractions are allowed too.
TEXT_POSITIONS = ("top", "centre", "bottom")
_POSITION_PATTERN = r"^(top|centre|center|bottom|0?\.\d+,0?\.\d+|[01],[01])$"

#: Frame shapes, width:height; "original" keeps the shape of what comes in (the photo, or the take).
ASPECT_RATIOS: dict[str, Optional[tuple[int, int]]] = {"original": None, "16:9": (16, 9), "9:16": (9, 16),
                                                       "1:1": (1, 1), "4:5": (4, 5)}
#: Older spellings still accepted (the studio called "original" "photo").
ASPECT_ALIASES = {"photo": "original"}


def _aspect_alias(value: Any) -> Any:
    return ASPECT_ALIASES.get(value, value) if isinstance(value, str) else value


#: A frame shape, one of ASPECT_RATIOS (aliases accepted on the way in).
Aspect = Annotated[Literal["original", "16:9", "9:16", "1:1", "4:5"], BeforeValidator(_aspect_alias)]
#: Every model (here and in pipelines.core.recipe) rejects unknown fields, NaN and infinity, and is immutable.
MODEL_CONFIG = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class RenderSettings(BaseModel):
    """How one take is rendered: the motion, its amount and randomness, and the video's timing and size."""

    model_config = MODEL_CONFIG

    preset: str = Field("dolly-in", description="camera move preset (see `python -m pipelines presets`)")
    strength: float = Field(0.5, ge=0.0, le=1.0,
                            description="motion strength: 1 moves the nearest subject ~7% of the frame width, 0 is still")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="varies direction, phase and easing within the preset")
    duration: float = Field(4.0, ge=0.1, le=60.0, description="video length in seconds")
    fps: int = Field(30, ge=1, le=60, description="frames per second")
    width: Optional[int] = Field(None, ge=MIN_SIDE, le=MAX_SIDE, description="output width in pixels (default: the photo's)")
    height: Optional[int] = Field(None, ge=MIN_SIDE, le=MAX_SIDE,
                                  description="output height in pixels (default: the photo's)")
    fov_deg: float = Field(60.0, gt=1.0, lt=170.0, description="horizontal field of view of the photo, degrees")

    @property
    def num_frames(self) -> int:
        return max(1, round(self.duration * self.fps))


class CameraPreset(BaseModel):
    """A camera move as data (presets/camera/*.json). Components add up; all are relative to the scene:
    translations in units of the nearest subject's depth, angles in degrees."""

    model_config = MODEL_CONFIG

    name: str = Field(pattern=NAME_PATTERN, max_length=NAME_CHARS, description="preset name, kebab-case")
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
    """The ``which`` bound ("ge", "gt", "le", "lt" or "max_length") of field ``name`` of ``model``, e.g.
    ``bound(RenderSettings, "seed", "le") == 2**31 - 1``; KeyError when the field has none."""
    for m in model.model_fields[name].metadata:
        if getattr(m, which, None) is not None:
            return getattr(m, which)
    raise KeyError(f"{model.__name__}.{name} has no {which} bound")


def choices(model: type[BaseModel], name: str) -> list:
    """The allowed values of a Literal field (``Optional[Literal[...]]`` too), e.g.
    ``choices(FinishSettings, "aspect") == ["original", "16:9", "9:16", "1:1", "4:5"]``; [] for other fields."""
    args = [a for a in typing.get_args(model.model_fields[name].annotation) if a is not type(None)]
    if typing.get_origin(model.model_fields[name].annotation) is Literal:
        return args
    if len(args) == 1 and typing.get_origin(args[0]) is Literal:
        return list(typing.get_args(args[0]))
    return []


def examples(model: type[BaseModel], name: str) -> list:
    """The values a field suggests (its ``examples``), e.g. the studio's output sizes."""
    return list(model.model_fields[name].examples or [])


def short(value: Any, limit: int = 60) -> str:
    """repr of a value for an error message, cut short: a 5,000-character caption is named, not echoed."""
    try:
        text = repr(value)
    except Exception:  # a value whose repr fails is still named by its type
        text = f"<{type(value).__name__}>"
    if len(text) <= limit:
        return text
    if isinstance(value, str):
        return f"{text[:limit - 4]}...' ({len(value)} characters)"
    return text[:limit - 3] + "..."


_short = short


def validate(model: type[BaseModel], **values: Any) -> BaseModel:
    """Build ``model`` from user values; pydantic's errors become one :class:`InputError` on one line that
    names each bad field, its value and the allowed range."""
    try:
        return model(**values)
    except ValidationError as exc:
        parts = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["loc"]:  # a field's own check
                loc = ".".join(str(x) for x in err["loc"])
                parts.append(f"{loc}={short(err.get('input'))}: {msg}")
            else:  # a check across fields names them itself
                parts.append(msg)
        raise InputError(" ".join(("invalid settings: " + "; ".join(parts)).split())) from None


def _range_text(f) -> str:
    rng = []
    for m in f.metadata:
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            if getattr(m, attr, None) is not None:
                rng.append(f"{sym}{getattr(m, attr)}")
    return " ".join(rng)


def add_options(parser: argparse.ArgumentParser, model: type[BaseModel], skip: tuple[str, ...] = (),
                only: Optional[tuple[str, ...]] = None) -> None:
    """Add one ``--option`` per schema field (or per field in ``only``), with its help text, range and
    choices; defaults stay None so only options the user typed are passed on (the schema supplies the rest).
    Values are checked by the schema, not argparse, so a bad one gets the schema's message naming it."""
    for name, f in model.model_fields.items():
        if name in skip or (only is not None and name not in only):
            continue
        ann = f.annotation
        inner = [a for a in typing.get_args(ann) if a is not type(None)] if typing.get_origin(ann) else [ann]
        typ = inner[0] if len(inner) == 1 and inner[0] in (int, float) else str
        extra = [_range_text(f)] if _range_text(f) else []
        if choices(model, name):
            extra.append("one of " + ", ".join(map(str, choices(model, name))))
        extra.append(f"default {f.default}")
        desc = (f.description or "").replace("%", "%%")
        parser.add_argument("--" + name.replace("_", "-"), dest=name, type=typ, default=None,
                            help=f"{desc} [{'; '.join(extra)}]")


def picked(args: argparse.Namespace, model: type[BaseModel]) -> dict[str, Any]:
    """The schema fields the user set on the command line."""
    return {k: v for k, v in vars(args).items() if k in model.model_fields and v is not None}


def _like(model: type[BaseModel], name: str, default: Any = ..., description: Optional[str] = None, **more: Any):
    """A field with the range of ``model.name`` (so a limit is written once), and its default and
    description unless given."""
    f = model.model_fields[name]
    limits = {k: getattr(m, k) for m in f.metadata for k in ("ge", "gt", "le", "lt", "max_length")
              if getattr(m, k, None) is not None}
    return Field(f.default if default is ... else default, description=description or f.description,
                 **limits, **more)


class GenerativeSettings(BaseModel):
    """Knobs of the generative engine (diffusers names). None means the model preset's default; the
    motion strength, seed, frame count and size come from :class:`RenderSettings`."""

    model_config = MODEL_CONFIG

    engine: str = Field("wan-vace", pattern=NAME_PATTERN, max_length=NAME_CHARS,
                        description="generative backend (see presets/models/generative.json)")
    prompt: str = Field("", max_length=PROMPT_CHARS,
                        description="the motion in words (picks the move when no --preset), and what the generative model draws")
    negative_prompt: str = Field("", max_length=PROMPT_CHARS, description="what the model should avoid")
    num_inference_steps: Optional[int] = Field(None, ge=1, le=150,
                                               description="denoising steps (default: the model preset's)")
    guidance_scale: Optional[float] = Field(None, ge=1.0, le=20.0,
                                            description="prompt adherence (default: the model preset's)")
    conditioning_scale: float = Field(1.0, ge=0.0, le=2.0,
                                      description="how strictly the depth of the camera move is followed")


class GenerativeModelPreset(BaseModel):
    """A generative backend as data (presets/models/generative.json): where its weights live, its licence,
    the memory it needs and the frame counts and sizes it accepts."""

    model_config = MODEL_CONFIG

    name: str = Field(pattern=NAME_PATTERN, max_length=NAME_CHARS, description="backend name, kebab-case")
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
    settings: dict[str, Union[float, int, str, bool]] = Field(
        default_factory=dict, description="pipeline settings the backend reads (e.g. flow_shift), from the docs")
    citations: dict[str, str] = Field(default_factory=dict,
                                      description="where each default and figure comes from, by field name")
    source: str = Field(description="where the figures come from")


class DepthSettings(BaseModel):
    """Edits applied to a depth map after estimation or import (relative depth: 1 = near, 0 = far)."""

    model_config = MODEL_CONFIG

    push: float = Field(0.0, ge=-1.0, le=1.0,
                        description="move the masked region (or everything) nearer (+) or farther (-), relative depth")
    contrast: float = Field(1.0, gt=0.0, le=10.0, description="depth contrast: 2 doubles the relief, 0.5 halves it")
    near: float = Field(1.0, ge=0.0, le=1.0, description="relative depth of the nearest point after editing")
    far: float = Field(0.0, ge=0.0, le=1.0, description="relative depth of the farthest point after editing (< near)")
    fatten: int = Field(0, ge=0, le=64, description="grow the near side of depth edges by this many pixels (cures halos)")

    @model_validator(mode="after")
    def _far_below_near(self):
        if self.far >= self.near:
            raise ValueError(f"far ({self.far:g}) must be less than near ({self.near:g}); "
                             "lower far or raise near")
        return self


class FinishSettings(BaseModel):
    """How a kept take is finished for posting: text overlays, sound, aspect, container and looping.

    Times are in seconds of the finished video (after a boomerang doubles it); sizes of text are
    fractions of the finished frame's height, so they look the same at any resolution.
    """

    model_config = MODEL_CONFIG

    caption: Optional[str] = Field(None, max_length=500, description="caption text (None: no caption)")
    title: Optional[str] = Field(None, max_length=200, description="title text, drawn larger (None: no title)")
    caption_position: str = Field("bottom", pattern=_POSITION_PATTERN,
                                  description="top, centre, bottom, or x,y of the text's centre in frame fractions")
    title_position: str = Field("top", pattern=_POSITION_PATTERN,
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
    font: Optional[str] = Field(None, max_length=4096, description="font file (.ttf/.otf/.ttc/.woff2) for the text (None: built-in)")
    audio: Optional[str] = Field(None, max_length=4096, description=(
        f"sound: an audio file, a built-in bed ({', '.join(typing.get_args(SoundBed))}) or none"))
    audio_seed: int = Field(0, ge=0, le=2**31 - 1, description="varies the built-in sound bed")
    volume: float = Field(1.0, ge=0.0, le=4.0, description="sound volume (1: as is; beds peak at -6 dBFS)")
    audio_fade_in: float = Field(0.5, ge=0.0, le=30.0, description="sound fade-in, seconds")
    audio_fade_out: float = Field(1.0, ge=0.0, le=30.0, description="sound fade-out, seconds")
    aspect: Aspect = Field("original", description=f"frame shape: {', '.join(ASPECT_RATIOS)}")
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


def _none_is_empty(value: Any) -> Any:
    return "" if value is None else value


class StudioRequest(BaseModel):
    """What one click of the studio asks for: the words, the move, how many takes and how they differ, the
    output's shape and the engine. ``Studio.generate`` validates its arguments with it and the app reads its
    controls' ranges and choices from it; ranges shared with :class:`RenderSettings` and
    :class:`GenerativeSettings` are read from those."""

    model_config = MODEL_CONFIG

    prompt: Annotated[str, BeforeValidator(_none_is_empty)] = _like(
        GenerativeSettings, "prompt", description="the motion in words (picks the move unless a preset is given)")
    preset: Optional[str] = Field(None, max_length=NAME_CHARS,
                                  description="camera move preset; None takes the move from the prompt")
    strength: float = _like(RenderSettings, "strength",
                            description="motion strength before the prompt's words scale it (0 still, 1 strong)")
    seed: Optional[int] = _like(RenderSettings, "seed", None,
                                "seed of the first take; None draws one (it is recorded in each take)")
    num_takes: int = Field(1, ge=1, le=4, description="takes per click")
    vary: Vary = Field("seed", description="how the takes differ: seeds seed, seed+1, ...; or strengths around the plan")
    duration: Optional[float] = _like(RenderSettings, "duration", None, "video length in seconds (None: the default)")
    fps: Optional[int] = _like(RenderSettings, "fps", None, "frames per second (None: the default)")
    aspect: Aspect = Field("original", description=f"frame shape of the takes: {', '.join(ASPECT_RATIOS)}")
    long_side: int = Field(960, ge=MIN_SIDE, le=MAX_SIDE, examples=[480, 640, 960, 1280, 1920],
                           description="longest side of the takes, pixels")
    engine: str = Field(PARALLAX, pattern=NAME_PATTERN, max_length=NAME_CHARS,
                        description=f"{PARALLAX} (CPU, seconds), or a generative engine such as wan-vace, "
                                    "animatediff-depth, svd (GPU and weights; falls back to parallax with the reason)")
    negative_prompt: Annotated[str, BeforeValidator(_none_is_empty)] = _like(GenerativeSettings, "negative_prompt")
    num_inference_steps: Optional[int] = _like(GenerativeSettings, "num_inference_steps")


def aspect_ratio(aspect: Any) -> Optional[tuple[int, int]]:
    """(width, height) ratio of ``aspect`` (an :data:`Aspect`, aliases accepted), None for "original";
    InputError naming the choices otherwise."""
    aspect = validate(StudioRequest, aspect=aspect).aspect
    return ASPECT_RATIOS[aspect]


def as_model(model: type[BaseModel], value: Any, what: str = "settings") -> BaseModel:
    """``value`` as a ``model``: the model itself, or a mapping of its fields (validated, so a bad field is
    named); anything else is an InputError."""
    if isinstance(value, model):
        return value
    if isinstance(value, typing.Mapping):
        if not all(isinstance(k, str) for k in value):
            raise InputError(f"{what} keys must be field names of {model.__name__}, got {short(list(value))}")
        return validate(model, **value)
    raise InputError(f"{what} must be a {model.__name__} or a dict of its fields, got {type(value).__name__}")


# ---------------------------------------------------------------------------------------------------
# Living photos: regions of the photo that move (MOTION.json; pipelines.living loads the masks)

MotionType = Literal["flow", "sway", "ripple", "rise"]
MOTION_TYPES: tuple[str, ...] = typing.get_args(MotionType)
#: Most motion regions (brush groups) one take animates.
MAX_REGIONS = 4
#: Most strokes per region, and points per stroke (a hand-drawn arrow needs a few dozen).
MAX_STROKES = 16
MAX_STROKE_POINTS = 256
#: Relative difference of aspect ratios above which a mask is refused rather than resized.
ASPECT_TOLERANCE = 0.02
#: Direction each type moves in when none is given (degrees, image axes).
DEFAULT_DIRECTION = {"flow": 0.0, "sway": 0.0, "ripple": 0.0, "rise": 270.0}


class MotionRegionSpec(BaseModel):
    """One region that moves: its mask and how it moves."""

    model_config = MODEL_CONFIG

    mask: str = Field(min_length=1, description="greyscale PNG: white moves, grey partly, black stays still")
    type: MotionType = Field(description="flow, sway, ripple or rise")
    direction_deg: Optional[float] = Field(None, ge=-360.0, le=360.0,
                                           description="direction in degrees: 0 right, 90 down, 180 left, 270 up")
    speed: float = Field(0.5, ge=0.0, le=1.0,
                         description="0..1; 1 moves the texture 10% of the frame width per second (sway: amplitude)")
    strokes: list[list[tuple[float, float]]] = Field(
        default_factory=list, max_length=MAX_STROKES,
        description="polylines [[x, y], ...] in photo pixels that bend the motion along them")
    mask_sha256: Optional[str] = Field(None, description="sha256 of the mask's 8-bit pixels (recorded in recipes)")

    @field_validator("strokes")
    @classmethod
    def _strokes(cls, v):
        for s in v:
            if not 2 <= len(s) <= MAX_STROKE_POINTS:
                raise ValueError(f"each stroke needs 2..{MAX_STROKE_POINTS} points, got {len(s)}")
            if not all(math.isfinite(x) and math.isfinite(y) for x, y in s):
                raise ValueError("stroke points must be finite numbers")
        return v


class MotionSpec(BaseModel):
    """The regions of a living photo (MOTION.json)."""

    model_config = MODEL_CONFIG

    regions: list[MotionRegionSpec] = Field(min_length=1, max_length=MAX_REGIONS,
                                            description=f"1..{MAX_REGIONS} regions that move")
