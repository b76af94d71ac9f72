"""Fitting a photo and its depth to an output size: the output's width and height from an aspect and a
long side, the centred crop box, and the crop-and-resample itself (photo with Lanczos, depth with its own
resampler), so the renderer always sees a photo and depth of exactly the output size."""
from __future__ import annotations

from typing import Optional

import numpy as np

from pipelines.core import photo as photo_io
from pipelines.depth import DepthMap
from pipelines.core.schema import ASPECT_RATIOS, StudioRequest, validate

#: Aspect choices, width:height (the schema's); "original" keeps the photo's own aspect.
ASPECTS: dict[str, Optional[tuple[int, int]]] = ASPECT_RATIOS


def output_size(photo_size: tuple[int, int], aspect: str, long_side: int) -> tuple[int, int]:
    """(width, height) of the output: ``aspect`` ("original", "16:9", ...; see
    :data:`pipelines.core.schema.Aspect`) with the longer side ``long_side`` pixels, both even (H.264
    yuv420p needs even sizes). Both are checked against :class:`StudioRequest`."""
    request = validate(StudioRequest, aspect=aspect, long_side=long_side)
    aw, ah = ASPECT_RATIOS[request.aspect] or photo_size
    scale = float(request.long_side) / max(aw, ah)
    w, h = aw * scale, ah * scale

    def even(x: float) -> int:
        return max(2, int(round(x / 2.0)) * 2)

    return even(w), even(h)


def crop_box(size: tuple[int, int], target: tuple[int, int]) -> tuple[float, float, float, float]:
    """Centred crop of an image of ``size`` (w, h) to the aspect of ``target`` (w, h), as fractions
    (x0, y0, x1, y1) of the image, so the same box applies to maps of other resolutions."""
    w, h = size
    tw, th = target
    if w * th > tw * h:  # image is wider than the target: trim the sides
        frac = (tw * h) / (th * w)
        return (0.5 - frac / 2, 0.0, 0.5 + frac / 2, 1.0)
    frac = (th * w) / (tw * h)
    return (0.0, 0.5 - frac / 2, 1.0, 0.5 + frac / 2)


def pixel_box(size: tuple[int, int], target: tuple[int, int]) -> tuple[int, int, int, int]:
    """The pixels (x0, y0, x1, y1) of an image of ``size`` that :func:`fit` keeps for ``target``."""
    box = crop_box(size, target)
    w, h = size
    x0, x1 = int(round(box[0] * w)), max(int(round(box[0] * w)) + 1, int(round(box[2] * w)))
    y0, y1 = int(round(box[1] * h)), max(int(round(box[1] * h)) + 1, int(round(box[3] * h)))
    return x0, y0, x1, y1


def _crop(arr: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    h, w = arr.shape[:2]
    x0, x1 = int(round(box[0] * w)), max(int(round(box[0] * w)) + 1, int(round(box[2] * w)))
    y0, y1 = int(round(box[1] * h)), max(int(round(box[1] * h)) + 1, int(round(box[3] * h)))
    return arr[y0:y1, x0:x1]


def fit(photo: photo_io.Photo, depth: DepthMap, size: tuple[int, int]) -> tuple[photo_io.Photo, DepthMap]:
    """Crop ``photo`` and its ``depth`` (any resolution, same aspect) to the aspect of ``size`` (w, h),
    centred, and resample both to exactly ``size``."""
    from PIL import Image

    box = crop_box(photo.size, size)
    pixels = _crop(photo.pixels, box)
    if (pixels.shape[1], pixels.shape[0]) != size:
        img = Image.fromarray(np.ascontiguousarray(pixels))
        pixels = np.asarray(img.resize(size, Image.Resampling.LANCZOS))
    z = np.ascontiguousarray(_crop(depth.z, box))
    fitted = DepthMap(z).resized(size)
    return photo_io.Photo(np.ascontiguousarray(pixels)), DepthMap(fitted.z, estimator=depth.estimator)
