"""Depth edits: push a region nearer or farther, change the relief, fatten edges (relative depth:
1 = near, 0 = far), and the preview picture."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from pipelines.core.errors import InputError
from pipelines.depth.maps import DepthMap

def adjust(depth: DepthMap, *, mask: np.ndarray | None = None, push: float = 0.0, contrast: float = 1.0,
           near: float = 1.0, far: float = 0.0) -> DepthMap:
    """Edit a depth map in relative terms (1 = near, 0 = far), in this order:

    contrast: scales depth differences about the middle (2 = twice as much relief, 0.5 = flatter).
    push, mask: adds ``push`` (-1..1, positive = nearer) to the relative depth inside ``mask``
        ((H, W) bool or float weights in [0, 1]; None = the whole image).
    near, far: the relative depths the nearest and farthest points end at (0 <= far < near <= 1);
        a narrower range gives a shallower scene, i.e. less parallax. The z-depths keep this range;
        a saved PNG is re-normalised (white = nearest).
    """
    for label, v, lo, hi in (("push", push, -1.0, 1.0), ("contrast", contrast, 0.0, 10.0),
                             ("near", near, 0.0, 1.0), ("far", far, 0.0, 1.0)):
        if not (np.isfinite(v) and lo <= v <= hi):
            raise InputError(f"{label} must be within {lo:g}..{hi:g}, got {v!r}")
    if contrast == 0.0:
        raise InputError("contrast must be > 0 (0 would flatten the scene to a card); try 0.5 for flatter")
    if not far < near:
        raise InputError(f"far ({far:g}) must be less than near ({near:g})")
    rel = depth.relative
    rel = np.clip(0.5 + (rel - 0.5) * contrast, 0.0, 1.0)
    if push:
        weight = np.ones_like(rel) if mask is None else _check_mask(mask, depth.size)
        rel = np.clip(rel + push * weight, 0.0, 1.0)
    lo, hi = float(rel.min()), float(rel.max())
    if hi - lo > 1e-9:
        rel = (rel - lo) / (hi - lo)
    rel = far + rel * (near - far)
    return replace(DepthMap.from_relative(rel, notices=depth.notices), estimator=depth.estimator)


def _check_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    mask = np.asarray(mask)
    w, h = size
    if mask.shape != (h, w):
        raise InputError(f"mask is {mask.shape[1] if mask.ndim > 1 else '?'}x{mask.shape[0]}, the depth is {w}x{h}; "
                         "use a mask the size of the photo")
    m = mask.astype(np.float32)
    if mask.dtype == np.uint8:
        m /= 255.0
    if not np.isfinite(m).all():
        raise InputError("mask has NaN/inf values; use 0..1 weights or a 0/255 image")
    return np.clip(m, 0.0, 1.0)


def load_mask(path: str | os.PathLike, size: tuple[int, int]) -> np.ndarray:
    """A greyscale image (white = selected) as (H, W) float32 weights in [0, 1], resized to ``size`` (w, h)."""
    import cv2
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"mask file not found: {str(path)!r}; check the path")
    try:
        with Image.open(path) as img:
            arr = np.asarray(img.convert("L"), np.float32) / 255.0
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"cannot read mask {str(path)!r}: {exc}; use a greyscale PNG (white = selected)") from exc
    if arr.shape[::-1] != tuple(size):
        arr = cv2.resize(arr, tuple(size), interpolation=cv2.INTER_LINEAR)
    return arr


def fatten_edges(depth: DepthMap, radius: int = 3, threshold: float = 0.1) -> DepthMap:
    """Grow the near side of depth edges by ``radius`` pixels (grey dilation of disparity near edges).

    A depth map's edges rarely sit exactly on the photo's: the few pixels of foreground colour that
    fall on the background side get stretched into a halo when the camera moves. Dilating the near side
    pulls them onto the foreground. Only pixels within ``radius`` of a depth edge change, an edge being
    a jump of more than ``threshold`` in relative depth between neighbouring pixels; slopes stay as they are.
    """
    import cv2

    if not (isinstance(radius, (int, np.integer)) and 0 <= radius <= 256):
        raise InputError(f"edge fattening radius must be an integer 0..256 pixels, got {radius!r}")
    rel = depth.relative
    square = np.ones((3, 3), np.uint8)
    edges = (cv2.dilate(rel, square) - cv2.erode(rel, square)) > threshold
    if radius == 0 or not edges.any():
        return depth
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    zone = cv2.dilate(edges.astype(np.uint8), kernel) > 0
    grown = cv2.dilate(rel, kernel)
    rel = np.where(zone, np.maximum(grown, rel), rel)
    return replace(DepthMap.from_relative(rel, near=float(depth.z.min()), far=float(depth.z.max()), notices=depth.notices),
                   estimator=depth.estimator)


def preview(depth: DepthMap) -> np.ndarray:
    """A coloured view of relative depth: (H, W, 3) uint8 RGB, bright yellow = near, dark purple = far."""
    import cv2

    grey = np.round(depth.relative * 255.0).astype(np.uint8)
    return np.ascontiguousarray(cv2.applyColorMap(grey, cv2.COLORMAP_INFERNO)[:, :, ::-1])


def apply_settings(depth: DepthMap, settings, mask: np.ndarray | None = None) -> DepthMap:
    """Apply a :class:`pipelines.core.schema.DepthSettings` (edits, then edge fattening)."""
    if (settings.push, settings.contrast, settings.near, settings.far) != (0.0, 1.0, 1.0, 0.0):
        depth = adjust(depth, mask=mask, push=settings.push, contrast=settings.contrast,
                       near=settings.near, far=settings.far)
    return fatten_edges(depth, settings.fatten)
