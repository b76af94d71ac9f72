"""What moves in a living photo: up to four regions, each a soft mask with a motion type, direction and speed.

The file contract (``python -m pipelines render PHOTO --motion MOTION.json``)::

    {"regions": [{"mask": "water.png", "type": "flow", "direction_deg": 180, "speed": 0.5,
                  "strokes": [[[120, 300], [200, 310], [260, 360]]]}]}

- ``mask``: a greyscale PNG (path relative to the JSON file): white moves, grey moves partly, black stays
  exactly still. A mask of another size but the photo's aspect ratio is resized, with a notice.
- ``type``: flow (continuous advection: water, clouds), sway (back and forth with a phase that varies over
  the region: grass, leaves), ripple (a small shimmer: a lake's surface, heat haze), rise (upward flow
  that dissolves: steam, smoke).
- ``direction_deg``: image axes, 0 = to the right, 90 = down, 180 = left, 270 = up. Default per type:
  rise goes up, the others go right.
- ``speed``: 0..1; 1 moves the texture 10 % of the frame width per second. For sway it is the amplitude
  (its peak speed), for ripple the shimmer's strength.
- ``strokes``: optional polylines in photo pixels [[x, y], ...]; near a stroke the motion follows it.

:class:`~pipelines.core.schema.MotionSpec` validates the JSON (the limits live in the one schema, once; a take's
recipe records the same model); :class:`Motion` is the loaded form the renderer uses: masks as float arrays
of the photo's size.
"""
from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pipelines.core.errors import InputError
from pipelines.core.jsonfile import read_json

from pipelines.core.schema import (ASPECT_TOLERANCE, DEFAULT_DIRECTION, MAX_REGIONS, MOTION_TYPES, MotionRegionSpec,
                                   MotionSpec)


@dataclass(frozen=True)
class Region:
    """One moving region, loaded.

    mask: (H, W) float32 in [0, 1] at the photo's size; 0 = still (those pixels never change), 1 = moves
        fully, between = moves partly.
    type: one of MOTION_TYPES. direction_deg: image axes (0 right, 90 down). speed: 0..1 (see the module).
    strokes: polylines of (x, y) photo pixels that bend the motion.
    name: what the user called it ("water", "group 1", the mask's file name), for plans and recipes.
    """

    mask: np.ndarray
    type: str
    direction_deg: float
    speed: float
    strokes: tuple[tuple[tuple[float, float], ...], ...] = ()
    name: str = ""

    def __post_init__(self):
        m = self.mask
        if not (isinstance(m, np.ndarray) and m.ndim == 2 and m.dtype == np.float32):
            raise InputError(f"region mask must be an (H, W) float32 array, got {getattr(m, 'shape', m)!r}")
        if self.type not in MOTION_TYPES:
            raise InputError(f"region type {self.type!r} is unknown; use one of {', '.join(MOTION_TYPES)}")
        if not 0.0 <= self.speed <= 1.0:
            raise InputError(f"region speed must be in 0..1, got {self.speed}")

    @property
    def size(self) -> tuple[int, int]:
        return self.mask.shape[1], self.mask.shape[0]

    def resized(self, box: tuple[int, int, int, int], size: tuple[int, int]) -> "Region":
        """The region cropped to ``box`` (x0, y0, x1, y1 in its own pixels) and resampled to ``size``
        (w, h): what a take of a cropped, resized photo animates. Strokes follow."""
        import cv2

        x0, y0, x1, y1 = box
        w, h = size
        crop = self.mask[y0:y1, x0:x1]
        mask = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA if w < crop.shape[1] else cv2.INTER_LINEAR)
        sx, sy = w / max(x1 - x0, 1), h / max(y1 - y0, 1)
        strokes = tuple(tuple(((x - x0) * sx, (y - y0) * sy) for x, y in s) for s in self.strokes)
        # 8-bit levels, like every loaded mask: the recipe records what ran, and a replay moves identically.
        mask = (np.rint(np.clip(mask, 0.0, 1.0) * 255.0) / 255.0).astype(np.float32)
        return Region(mask, self.type, self.direction_deg, self.speed, strokes, self.name)


@dataclass(frozen=True)
class Motion:
    """The regions that move in one take (at most MAX_REGIONS), all of one size (the photo's)."""

    regions: tuple[Region, ...]
    notices: tuple[str, ...] = field(default=())

    def __post_init__(self):
        if not 1 <= len(self.regions) <= MAX_REGIONS:
            raise InputError(f"motion needs 1..{MAX_REGIONS} regions, got {len(self.regions)}")
        sizes = {r.size for r in self.regions}
        if len(sizes) > 1:
            raise InputError(f"motion regions differ in size: {sorted(sizes)}; give every mask the photo's size")

    @property
    def size(self) -> tuple[int, int]:
        return self.regions[0].size

    def fitted(self, box: tuple[int, int, int, int], size: tuple[int, int]) -> "Motion":
        """Every region cropped to ``box`` and resampled to ``size`` (see :meth:`Region.resized`)."""
        return Motion(tuple(r.resized(box, size) for r in self.regions), self.notices)

    def describe(self) -> str:
        """One line per region for users: "water: flow to the left (180°), speed 0.50, 23 % of the photo"."""
        return "\n".join(describe_region(r) for r in self.regions)


def direction_words(deg: float) -> str:
    """"to the right", "down", "to the left", "up", or "at 135°" for a diagonal."""
    d = deg % 360.0
    for centre, words in ((0, "to the right"), (90, "down"), (180, "to the left"), (270, "up"), (360, "to the right")):
        if abs(d - centre) <= 10:
            return words
    return f"at {d:.0f}°"


def describe_region(r: Region) -> str:
    cover = float((r.mask > 0).mean()) * 100
    how = {"flow": f"flows {direction_words(r.direction_deg)}", "rise": f"rises ({direction_words(r.direction_deg)})",
           "sway": f"sways {'sideways' if abs(math.sin(math.radians(r.direction_deg))) < 0.5 else 'up and down'}",
           "ripple": "shimmers"}[r.type]
    return f"{r.name or r.type}: {how}, speed {r.speed:.2f}, {cover:.0f} % of the photo"


# ---------------------------------------------------------------------------------------------- loading

def mask_from_array(values: Any, size: tuple[int, int], where: str, notices: list[str]) -> np.ndarray:
    """A mask (H, W) float32 in [0, 1] at ``size`` (w, h) from a greyscale/RGB(A) array (uint8, or float
    in 0..1). A mask of the photo's aspect ratio but another size is resized with a notice; another
    aspect ratio or an all-black mask is an :class:`InputError` naming ``where``."""
    import cv2

    a = np.asarray(values)
    if a.ndim == 3:
        a = a[..., :3].max(axis=2) if a.shape[2] >= 3 else a[..., 0]
    if a.ndim != 2 or min(a.shape) < 2:
        raise InputError(f"{where}: a mask must be a greyscale image, got shape {a.shape}")
    if a.dtype == np.uint8:
        m = a.astype(np.float32) / 255.0
    elif a.dtype == np.uint16:
        m = a.astype(np.float32) / 65535.0
    elif a.dtype == bool:
        m = a.astype(np.float32)
    else:
        m = np.nan_to_num(a.astype(np.float32), nan=0.0)
        if m.max() > 1.0:
            m = m / 255.0
    m = np.clip(m, 0.0, 1.0)
    w, h = size
    mh, mw = m.shape
    if (mw, mh) != (w, h):
        if abs((mw / mh) / (w / h) - 1.0) > ASPECT_TOLERANCE:
            raise InputError(f"{where}: the mask is {mw}x{mh} but the photo is {w}x{h} (another aspect ratio); "
                             "paint the mask on the photo itself, or crop it to the photo's shape")
        m = cv2.resize(m, (w, h), interpolation=cv2.INTER_AREA if mw > w else cv2.INTER_LINEAR)
        notices.append(f"{where}: mask resized from {mw}x{mh} to the photo's {w}x{h}")
    # Masks are 8-bit levels (what a take's recipe records beside it), so a replayed take moves identically.
    m = (np.rint(np.clip(m, 0.0, 1.0) * 255.0) / 255.0).astype(np.float32)
    if float(m.max()) <= 0.0:
        raise InputError(f"{where}: the mask is all black, so nothing would move; paint white where it should move")
    return m


def read_mask(path: str | os.PathLike, size: tuple[int, int], where: str, notices: list[str]) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{where}: mask file {str(p)!r} not found; give a greyscale PNG path relative to the motion file")
    try:
        with Image.open(p) as img:
            img.load()
            if img.mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(img).astype(np.float32) / (65535.0 if img.mode != "I" or np.asarray(img).max() > 255 else 255.0)
            else:
                arr = np.asarray(img.convert("L"))
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"{where}: cannot read mask {str(p)!r} ({exc}); save it as a greyscale PNG") from None
    return mask_from_array(arr, size, where, notices)


def parse_spec(data: Any, where: str = "motion") -> MotionSpec:
    """Validate a MOTION.json body; every problem becomes one InputError naming the field
    (``regions.0.speed``) and the allowed values."""
    from pipelines.core.schema import validate

    if not isinstance(data, dict):
        raise InputError(f'{where} must be a JSON object {{"regions": [...]}}, got {type(data).__name__}')
    regions = data.get("regions")
    if isinstance(regions, list) and len(regions) > MAX_REGIONS:
        raise InputError(f"{where}.regions: {len(regions)} regions given; at most {MAX_REGIONS} can move "
                         "(merge masks that move alike)")
    try:
        return validate(MotionSpec, **data)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None


def load_motion(src: str | os.PathLike | dict | MotionSpec, size: tuple[int, int],
                base_dir: str | os.PathLike | None = None) -> Motion:
    """Load MOTION.json (a path, or its parsed body or MotionSpec with ``base_dir`` for the masks) for a
    photo of ``size`` (w, h). Masks are read and checked here, so a bad file fails before any rendering; a
    mask whose recorded sha256 differs (a recipe's) is an error."""
    where = "motion"
    if isinstance(src, MotionSpec):
        src = src.model_dump(exclude_none=True)
    if isinstance(src, (str, os.PathLike)):
        p = Path(src)
        where = p.name
        data = read_json(p, "motion file", "give a MOTION.json path")
        base = Path(base_dir) if base_dir is not None else p.parent
    else:
        data, base = src, Path(base_dir or ".")
    spec = parse_spec(data, where)
    notices: list[str] = []
    regions = []
    for i, r in enumerate(spec.regions):
        mask_path = Path(r.mask) if Path(r.mask).is_absolute() else base / r.mask
        mask = read_mask(mask_path, size, f"{where}: regions.{i}.mask", notices)
        if r.mask_sha256 is not None:
            px = np.rint(mask * 255.0).astype(np.uint8)
            if hashlib.sha256(px.tobytes()).hexdigest() != r.mask_sha256:
                raise InputError(f"{where}: regions.{i}.mask {r.mask!r} is not the mask this take was made with "
                                 "(its pixels differ from the recorded sha256); restore the original mask file")
        direction = DEFAULT_DIRECTION[r.type] if r.direction_deg is None else float(r.direction_deg)
        strokes = tuple(tuple((float(x), float(y)) for x, y in s) for s in r.strokes)
        regions.append(Region(mask, r.type, direction, float(r.speed), strokes, name=Path(r.mask).stem))
    return Motion(tuple(regions), tuple(notices))


def motion_from_regions(regions: list[dict], size: tuple[int, int]) -> Motion:
    """A :class:`Motion` from in-memory regions (the studio's brush): each dict has ``mask`` (an array),
    ``type``, and optional ``direction_deg``, ``speed``, ``strokes``, ``name``. Validated like the file."""
    if len(regions) > MAX_REGIONS:
        raise InputError(f"motion: {len(regions)} regions given; at most {MAX_REGIONS} can move")
    notices: list[str] = []
    out = []
    for i, r in enumerate(regions):
        name = r.get("name") or f"group {i + 1}"
        body = {k: v for k, v in r.items() if k not in ("mask", "name")}
        spec = parse_spec({"regions": [{"mask": name, **body}]}, f"{name}")
        rs = spec.regions[0]
        mask = mask_from_array(r["mask"], size, f"{name}: mask", notices)
        direction = DEFAULT_DIRECTION[rs.type] if rs.direction_deg is None else float(rs.direction_deg)
        strokes = tuple(tuple((float(x), float(y)) for x, y in s) for s in rs.strokes)
        out.append(Region(mask, rs.type, direction, float(rs.speed), strokes, name=name))
    return Motion(tuple(out), tuple(notices))


def save_motion(motion: Motion, folder: str | os.PathLike, stem: str) -> MotionSpec:
    """Write each region's mask as ``<stem>.motion-<k>.png`` (8-bit) in ``folder`` and return the
    MotionSpec that loads them again (mask names relative to ``folder``), with each mask's sha256.
    A take's recipe records it, so the take replays with the same motion."""
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    regions = []
    for k, r in enumerate(motion.regions):
        name = f"{stem}.motion-{k}.png"
        px = np.rint(r.mask * 255.0).astype(np.uint8)
        Image.fromarray(px).save(folder / name)
        regions.append(MotionRegionSpec(mask=name, type=r.type, direction_deg=r.direction_deg, speed=r.speed,
                                        strokes=[list(s) for s in r.strokes],
                                        mask_sha256=hashlib.sha256(px.tobytes()).hexdigest()))
    return MotionSpec(regions=regions)
