"""The static parts of a living photo's motion field: a region's mask feathered inwards (so motion fades to
nothing where moving meets still) and its direction per cell, bent by the user's strokes."""
from __future__ import annotations

import math

import cv2
import numpy as np

from pipelines.living.spec import Region

#: Feather (inward) of a region's edge, fraction of the photo's longer side, and its floor in pixels.
FEATHER = 0.015
FEATHER_MIN_PX = 4.0
#: Spread of a stroke's direction (normalised Gaussian sigma), fraction of the longer side.
STROKE_SIGMA = 0.05


def feathered(mask: np.ndarray, feather_px: float) -> np.ndarray:
    """The mask's grey level times a smoothstep of the distance to its black pixels (inward feather):
    0 on and outside the mask's edge, full inside ``feather_px``. (H, W) float32 in [0, 1]."""
    support = (mask > 0).astype(np.uint8)
    if feather_px <= 0:
        return mask.astype(np.float32)
    dist = cv2.distanceTransform(support, cv2.DIST_L2, 5)
    t = np.clip(dist / feather_px, 0.0, 1.0)
    return (mask * (t * t * (3.0 - 2.0 * t))).astype(np.float32)


def direction_field(region: Region, shape: tuple[int, int], scale: float) -> np.ndarray:
    """Unit direction per coarse cell, (h, w, 2) float32: the region's direction, bent towards each
    stroke's tangent within ~STROKE_SIGMA of it. ``scale``: photo pixels per coarse cell."""
    h, w = shape
    a = math.radians(region.direction_deg)
    base = np.array([math.cos(a), math.sin(a)], np.float32)
    if not region.strokes:
        return np.broadcast_to(base, (h, w, 2)).astype(np.float32)
    acc = np.zeros((h, w, 2), np.float32)
    weight = np.zeros((h, w), np.float32)
    for stroke in region.strokes:
        pts = np.asarray(stroke, np.float32) / scale
        for p, q in zip(pts[:-1], pts[1:]):
            d = q - p
            n = float(np.hypot(*d))
            if n < 1e-6:
                continue
            # Splat the segment's tangent along its length; the Gaussian blur below spreads it.
            steps = max(2, int(math.ceil(n)))
            for s in np.linspace(0.0, 1.0, steps):
                x, y = p + s * d
                xi, yi = int(round(float(x))), int(round(float(y)))
                if 0 <= xi < w and 0 <= yi < h:
                    acc[yi, xi] += d / n
                    weight[yi, xi] += 1.0
    sigma = max(1.0, STROKE_SIGMA * max(region.mask.shape) / scale)
    acc = cv2.GaussianBlur(acc, (0, 0), sigma)
    weight = cv2.GaussianBlur(weight, (0, 0), sigma)
    peak = float(weight.max()) or 1.0
    # Far from every stroke the base direction holds; near one, the stroke's tangent wins.
    eps = 0.05 * peak
    field = (acc + eps * base) / (weight + eps)[..., None]
    norm = np.maximum(np.linalg.norm(field, axis=-1, keepdims=True), 1e-6)
    return (field / norm).astype(np.float32)
