"""Edge-aware refinement of estimated depth: move depth edges onto the photo's colour edges.

Every estimator's depth is soft or a few pixels off at occlusion edges (a network's output is upsampled
from 518 px or less; the classical estimator works at 320 px). A layer cut that follows such an edge
leaves an outline of background on the foreground layer, or of foreground on the background. A colour
guided filter (He, Sun & Tang 2013; the fast variant: the linear model is fitted at reduced size and
applied with the full-size photo) makes the depth a local linear function of the photo's colours, so a
depth step that sits near a colour edge snaps onto it and sharpens; where the photo has texture but the
depth is smooth, the depth stays smooth (its covariance with the texture is about zero).
"""
from __future__ import annotations

import numpy as np

#: Long side, in pixels, of the image the filter's linear model is fitted on.
FIT_SIDE = 640
#: Window radius of the fit at FIT_SIDE (pixels) and its regulariser (colour variance, 0..1 units).
RADIUS = 4
EPS = 2e-3
#: Version of the refinement; part of the depth cache key of every estimator.
VERSION = "snap-1"


def snap_edges(rel: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """``rel`` (H, W) float32 relative depth in [0, 1] (1 = near), with its edges moved onto the colour
    edges of ``pixels`` (H, W, 3) uint8 RGB; same shape, range and convention."""
    import cv2

    from pipelines.depth.classical import guided_coefficients

    h, w = rel.shape
    if pixels.shape[:2] != (h, w):
        raise ValueError(f"depth {w}x{h} and photo {pixels.shape[1]}x{pixels.shape[0]} must have one size")
    if min(h, w) < 8:
        return rel.astype(np.float32)
    s = min(1.0, FIT_SIDE / max(h, w))
    size = (max(2, round(w * s)), max(2, round(h * s)))
    guide = pixels.astype(np.float32) / 255.0
    guide_small = cv2.resize(guide, size, interpolation=cv2.INTER_AREA) if s < 1 else guide
    rel_small = cv2.resize(rel.astype(np.float32), size, interpolation=cv2.INTER_AREA) if s < 1 else rel
    a, b = guided_coefficients(guide_small, rel_small, RADIUS, EPS)
    if s < 1:
        a = cv2.resize(a, (w, h), interpolation=cv2.INTER_LINEAR)
        b = cv2.resize(b, (w, h), interpolation=cv2.INTER_LINEAR)
    out = (a * guide).sum(axis=2) + b
    return np.clip(out, 0.0, 1.0).astype(np.float32)
