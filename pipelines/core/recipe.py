"""The recipe of a take: everything that made it, written once beside the video as ``<video>.json``, so
``python -m pipelines replay TAKE.json`` renders the same frames again.

A recipe is a pydantic model (validated when read, typed when used): the format and project versions, the
source photo's pixel hash, where the depth came from (the estimator that ran and at what size, or the file
given), the move (preset, strength and seed in ``settings``, or the explicit camera path), size, fps and
duration, the engine and its settings, and the finishing applied. Readers use its fields, never ``.get``
chains on a dict.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, Field, ValidationError

from pipelines.core.errors import InputError
from pipelines.core.schema import (MODEL_CONFIG, PARALLAX, FinishSettings, GenerativeSettings, MotionSpec,
                                   RenderSettings,
                                   bound)

#: The recipe format this code writes. Bump it when a field changes meaning; add a step to MIGRATIONS.
FORMAT = 2
# PARALLAX (the schema's) names the CPU renderer's engine; the generative engines are named in
# presets/models/generative.json.


class DepthSource(BaseModel):
    """Where a take's depth came from, enough to get the same depth again.

    kind: "estimated" (``estimator`` ran on the photo, downscaled to ``long_side`` px when set) or "file"
        (``file``, as given; a relative path is relative to the recipe).
    sha256: hash of the z-depth the renderer used (float32 bytes), to tell when replayed depth differs.
    """

    model_config = MODEL_CONFIG

    kind: Literal["estimated", "file"]
    estimator: Optional[str] = Field(None, description="estimator that ran (after any fallback)")
    long_side: Optional[int] = Field(None, ge=2, description="longest side of the photo depth was estimated on")
    file: Optional[str] = Field(None, description="depth file given (.npy z-depth or PNG, white = near)")
    sha256: Optional[str] = Field(None, description="sha256 of the depth the renderer used")


class Source(BaseModel):
    """What a take was made from, before any rendering: the photo, its depth, the crop the studio cut and the
    words. Callers of the take pipeline fill it; the pipeline adds what ran."""

    model_config = MODEL_CONFIG

    photo_sha256: str = Field(description="sha256 of the source photo's RGB pixels (pipelines.core.photo.Photo.sha256)")
    photo: Optional[str] = Field(None, description="the photo's file name or path as given")
    depth: DepthSource
    crop_box: Optional[tuple[float, float, float, float]] = Field(
        None, description="(x0, y0, x1, y1) fractions of the source photo cropped to the output's aspect and "
                          "resampled to its size (pipelines.render.framing.fit); None: the photo as it is")
    prompt: str = Field("", description="the motion in words")
    plan: Optional[str] = Field(None, description="the plan the words made, e.g. 'Dolly in - gentle'")
    base_strength: Optional[float] = Field(None, ge=bound(RenderSettings, "strength", "ge"),
                                           le=bound(RenderSettings, "strength", "le"),
                                           description="the strength asked for before the words changed it")


class Recipe(BaseModel):
    """Everything that made one take (the JSON beside its video)."""

    model_config = MODEL_CONFIG

    format: int = Field(FORMAT, description="recipe format version")
    studio_version: str = Field(description="pipelines.__version__ that wrote it")
    source: Source
    settings: RenderSettings
    camera_path: Optional[dict[str, Any]] = Field(
        None, description="the explicit camera path given (camera-contract JSON); None: the preset's path")
    loop: bool = Field(False, description="the path is closed (the frame after the last is the first)")
    engine: str = Field(PARALLAX, description="the engine that ran")
    generative: Optional[GenerativeSettings] = Field(None, description="the generative engine asked for")
    generative_ran: Optional[dict[str, Any]] = Field(None, description="what the model actually ran with")
    motion: Optional[MotionSpec] = Field(
        None, description="regions that moved (a living photo): masks beside the video, named relative to it")
    finish: Optional[FinishSettings] = Field(None, description="finishing applied to the take (None: none)")
    video: Optional[str] = Field(None, description="the video's file name")
    encode: Optional[Literal["quality", "preview"]] = Field(
        None, description="the video's x264 setting: quality, or preview (faster; the same frames); None: no video, "
        "or a recipe from before encodes were recorded (quality)")
    versions: dict[str, str] = Field(default_factory=dict, description="library versions that rendered it")

    def write(self, path: str | os.PathLike) -> Path:
        """Write the recipe as JSON (atomically: a reader never sees half a file)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(self.model_dump_json(indent=1))
        os.replace(tmp, path)
        return path


def _from_format_1(data: dict) -> dict:
    """Format 1 (the dict recipes before the Recipe model): flat keys, no format number."""
    depth = DepthSource(kind="estimated", sha256=data.get("depth_sha256"))
    box = data.get("crop_box")
    photo = data.get("source_photo_sha256") or data.get("photo_sha256") or ""  # "": unknown, replay refuses it
    source = dict(photo_sha256=photo, depth=depth.model_dump(), crop_box=tuple(box) if box else None,
                  prompt=data.get("prompt", ""), plan=data.get("plan"))
    gen = data.get("generative") or None
    known = set(GenerativeSettings.model_fields)
    return dict(format=FORMAT, studio_version=(data.get("versions") or {}).get("studio", "0"), source=source,
                settings=data["settings"], loop=bool((data.get("camera_path") or {}).get("loop", False)),
                engine=data.get("engine", PARALLAX),
                generative={k: v for k, v in gen.items() if k in known} if gen else None,
                generative_ran={k: v for k, v in gen.items() if k not in known} if gen else None,
                video=data.get("video"), versions=data.get("versions") or {})


#: format -> function that turns a recipe of that format into the next one.
MIGRATIONS = {1: _from_format_1}


def parse(data: Any, where: str = "recipe") -> Recipe:
    """A Recipe from parsed JSON, migrating older formats; InputError naming the problem otherwise."""
    if not isinstance(data, dict):
        raise InputError(f"{where} is not a recipe (a JSON object); got {type(data).__name__}")
    fmt = data.get("format", 1)
    if not isinstance(fmt, int) or fmt > FORMAT:
        raise InputError(f"{where} has recipe format {fmt!r}; this studio reads formats 1..{FORMAT}: "
                         "update the studio to replay it")
    while fmt < FORMAT:
        if fmt not in MIGRATIONS:
            raise InputError(f"{where} has recipe format {fmt}, which cannot be migrated to {FORMAT}")
        try:
            data = MIGRATIONS[fmt](data)
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{where} (format {fmt}) is missing {exc}; it cannot be migrated") from None
        fmt = data["format"]
    try:
        return Recipe.model_validate(data)
    except ValidationError as exc:
        parts = [f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()[:4]]
        raise InputError(f"{where} is not a valid recipe: " + "; ".join(parts)) from None


def load(path: str | os.PathLike) -> Recipe:
    """Read a recipe file (``<video>.json``)."""
    from pipelines.core.jsonfile import read_json

    data = read_json(path, "recipe file", "it is the .json file beside a take's video")
    return parse(data, Path(path).name)
