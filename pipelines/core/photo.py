"""Loading photos: any format Pillow reads, normalised to 8-bit sRGB-ish RGB in the right orientation."""
from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from pipelines.core.errors import InputError
from pipelines.core.schema import short

#: Longest side a photo keeps; larger photos are downscaled with a notice (memory stays bounded).
MAX_SIDE = 4096
#: Pillow refuses images above this many pixels outright (decompression-bomb guard).
MAX_PIXELS = 40_000 * 40_000

PhotoLike = Union[str, os.PathLike, bytes, Image.Image, np.ndarray]


@dataclass(frozen=True)
class Photo:
    """A validated photo.

    pixels: (H, W, 3) uint8 RGB, row 0 at the top, EXIF orientation already applied.
    notices: what was changed on the way in (downscaled, alpha flattened, ...), for the user to see.
    """

    pixels: np.ndarray
    notices: tuple[str, ...] = field(default=())

    def __post_init__(self):
        p = self.pixels
        if not (isinstance(p, np.ndarray) and p.dtype == np.uint8 and p.ndim == 3 and p.shape[2] == 3):
            raise InputError(f"photo pixels must be an (H, W, 3) uint8 array, got {getattr(p, 'shape', p)!r}")
        if min(p.shape[:2]) < 2:
            raise InputError(f"photo is {p.shape[1]}x{p.shape[0]} pixels; use a photo at least 2x2")

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.pixels.shape[1], self.pixels.shape[0]

    @property
    def sha256(self) -> str:
        """Hash of the decoded pixels (not the file), the key for caches and recipes."""
        h = hashlib.sha256()
        h.update(np.asarray(self.pixels.shape, np.int64).tobytes())
        h.update(np.ascontiguousarray(self.pixels).tobytes())
        return h.hexdigest()


def _open(src: PhotoLike) -> Image.Image:
    if isinstance(src, Image.Image):
        return src
    if isinstance(src, bytes):
        src = io.BytesIO(src)
    elif isinstance(src, (str, os.PathLike)):
        path = Path(src)
        try:
            found, empty = path.is_file(), path.is_file() and path.stat().st_size == 0
        except OSError:  # e.g. a name too long for the file system
            found = empty = False
        if not found:
            raise InputError(f"photo file not found: {short(str(path))}; check the path")
        if empty:
            raise InputError(f"photo file {short(str(path))} is empty; export the photo again")
    else:
        raise InputError(f"photo must be a file path, bytes, a PIL image or an array, got {type(src).__name__}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(src)
            img.load()
        return img
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InputError(
            f"cannot read photo {short(str(src))}: {exc}; use a JPEG, PNG or WebP image file"
        ) from exc


def _to_rgb8(img: Image.Image, notices: list[str]) -> np.ndarray:
    """Any Pillow mode to (H, W, 3) uint8 RGB. Alpha is flattened over white (the look of a transparent
    cut-out on most sites); 16-bit and float data are scaled, not clipped."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img).astype(np.float64)
        hi = 65535.0 if mode.startswith("I;16") or a.max() > 255 else 255.0
        if mode == "F":
            hi = max(float(a.max()), 1.0) if a.max() > 1 else 1.0
        a = np.clip(a / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(a[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        if np.asarray(rgba)[:, :, 3].min() < 255:
            notices.append("transparent areas were flattened over white")
        return np.asarray(Image.alpha_composite(bg, rgba).convert("RGB"))
    return np.asarray(img.convert("RGB"))


def load_image(src: PhotoLike, max_side: int = MAX_SIDE) -> Photo:
    """Load a photo from a path, bytes, PIL image or array into a validated :class:`Photo`.

    Applies EXIF rotation; converts greyscale, palette, CMYK, 16-bit and alpha images to 8-bit RGB;
    downscales so the longest side is at most ``max_side`` pixels (with a notice).
    """
    notices: list[str] = []
    if isinstance(src, np.ndarray):
        arr = src
        if arr.ndim == 2:
            arr = np.repeat(arr[:, :, None], 3, axis=2)
        if arr.ndim != 3 or arr.shape[2] not in (3, 4):
            raise InputError(f"photo array must be (H, W), (H, W, 3) or (H, W, 4), got {arr.shape}")
        if arr.dtype != np.uint8:
            if arr.dtype == np.uint16:
                arr = (arr.astype(np.uint32) * 255 + 32767) // 65535
            elif np.issubdtype(arr.dtype, np.floating):
                arr = np.clip(np.nan_to_num(arr) * 255 + 0.5, 0, 255)
            arr = arr.astype(np.uint8)
        img = Image.fromarray(np.ascontiguousarray(arr))
    else:
        img = _open(src)
    if img.width * img.height > MAX_PIXELS:
        raise InputError(f"photo is {img.width}x{img.height} pixels; use one under {MAX_PIXELS // 10**6} megapixels")
    orig_w, orig_h = img.size
    if max(img.size) > max_side and img.format == "JPEG":
        img.draft("RGB", (max_side, max_side))  # decode at reduced size: fast and light on memory
    img = ImageOps.exif_transpose(img) or img
    rgb = _to_rgb8(img, notices)
    h, w = rgb.shape[:2]
    if max(w, h) > max_side:
        s = max_side / max(w, h)
        nw, nh = max(2, round(w * s)), max(2, round(h * s))
        rgb = np.asarray(Image.fromarray(rgb).resize((nw, nh), Image.Resampling.LANCZOS))
        ow, oh = (orig_h, orig_w) if (w > h) != (orig_w > orig_h) else (orig_w, orig_h)
        notices.append(f"photo was downscaled from {ow}x{oh} to {nw}x{nh} (longest side {max_side})")
    return Photo(np.ascontiguousarray(rgb), tuple(notices))


def downscaled(photo: Photo, long_side: int) -> Photo:
    """``photo`` with its longer side at most ``long_side`` px (box filter: an average, no ringing); the
    photo itself when it is small enough."""
    w, h = photo.size
    if max(w, h) <= long_side:
        return photo
    s = long_side / max(w, h)
    img = Image.fromarray(photo.pixels).resize((max(2, round(w * s)), max(2, round(h * s))), Image.Resampling.BOX)
    return Photo(np.asarray(img))
