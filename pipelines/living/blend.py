"""Blending two advected copies of a texture without the wash-out of a plain cross-fade."""
from __future__ import annotations

import math

import cv2
import numpy as np

#: Side of the window (photo pixels) of the local mean a flow's blend keeps its contrast around, and the
#: stride of the pixels that measure the contrast.
CONTRAST_WINDOW = 8
CONTRAST_STRIDE = 4


def blend_keep_contrast(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """(1 - t) a + t b with its contrast restored: a plain cross-fade of two shifted copies of a texture
    loses up to half its variance mid-way (the take would look washed out half-way and sharpen towards the
    loop point, a visible pulse). The blend's deviation from its local mean (CONTRAST_WINDOW) is scaled so
    its standard deviation is the weighted one of a and b (a variance-preserving blend, after Heitz and
    Neyret 2018); the gain (1..sqrt 2) is measured per frame on every CONTRAST_STRIDE-th pixel, so copies
    that are still alike (a slow flow) are not over-sharpened. All in uint8 OpenCV ops; at t = 0 it is a."""
    if t <= 0.0:
        return a
    mix = cv2.addWeighted(a, 1.0 - t, b, t, 0.0)
    # A box as wide as the tent of a resize down by CONTRAST_WINDOW and back (running sums: its cost does
    # not grow with the window).
    side = 2 * CONTRAST_WINDOW - 1
    mean = cv2.boxFilter(mix, -1, (side, side), borderType=cv2.BORDER_REFLECT)
    k = CONTRAST_STRIDE
    m = mean[::k, ::k].astype(np.float32)

    def spread(x):
        return float(np.sqrt(np.mean((x[::k, ::k].astype(np.float32) - m) ** 2)))

    have = spread(mix)
    want = (1.0 - t) * spread(a) + t * spread(b)
    gain = min(math.sqrt(2.0), max(1.0, want / have)) if have > 1e-3 else 1.0
    if gain < 1.005:
        return mix
    return cv2.addWeighted(mix, gain, mean, 1.0 - gain, 0.0)
