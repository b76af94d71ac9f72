"""Where a flowing living photo's loop seam falls between the photo's pixels: the frames' time offset.

Frame i shows time i + phase (:mod:`pipelines.living.animate`, note 5), so the seam joins the frame 1 - phase
of a step ahead of the photo (the last) to the one phase of a step behind it (the first). Every other step
joins two frames somewhere between the pixels too, at an offset that drifts along the take; the seam's is
pinned. With phase 1/2 the two seam frames sit symmetrically about every pixel, an extreme of that drift:
both as sharp or as soft as frames get, or, on a smooth texture rounded to 8 bits (a sky's banding, where a
bilinear sample moves with its nearest pixel), on opposite pixels for a step of 1..1.5 px (the rounding's
rare double step, at every seam). So the seam is measured on the photo itself before the take: the
region's own texture, shifted as the seam's two frames and as ordinary steps shift it, and the phase
nearest 1/2 whose seam is no larger than the median ordinary step is kept (else the smallest seam).
"""
from __future__ import annotations

import cv2
import numpy as np

#: Candidate offsets, nearest 1/2 first (the first that gives an ordinary seam is kept).
PHASES = (0.5, 0.375, 0.625, 0.25, 0.75)
#: The texture the seam is measured on: up to TILES tiles of TILE x TILE photo pixels spread over the flow,
#: and the ordinary steps it is compared with.
TILE = 48
TILES = 24
ORDINARY_STEPS = 16


def seam_phase(pixels: np.ndarray, flow: np.ndarray, box: tuple[int, int, int, int],
               cell: tuple[float, float]) -> float:
    """The frames' time offset for ``flow`` ((h, w, 2) photo pixels per frame on a coarse grid over ``box``
    (x0, y0, x1, y1), ``cell`` (sx, sy) photo pixels per cell) over ``pixels`` (H, W, 3) uint8: measured on
    tiles of the photo spread over the flow, each pixel shifted by the flow where it is (k steps: k times
    its step, as the first steps of the integration go)."""
    x0, y0 = box[:2]
    sx, sy = cell
    cy, cx = np.nonzero(np.hypot(flow[..., 0], flow[..., 1]) > 0)
    if cy.size == 0:
        return PHASES[0]
    pick = np.unique(np.linspace(0, cy.size - 1, min(TILES, cy.size)).round().astype(int))
    h, w = pixels.shape[:2]
    off = np.arange(TILE, dtype=np.float32) - TILE // 2
    cols, rows = [], []
    for j in pick:
        px = np.clip(round(x0 + (cx[j] + 0.5) * sx - 0.5), TILE // 2, max(TILE // 2, w - TILE // 2))
        py = np.clip(round(y0 + (cy[j] + 0.5) * sy - 0.5), TILE // 2, max(TILE // 2, h - TILE // 2))
        gx, gy = np.meshgrid(px + off, py + off)
        cols.append(gx)
        rows.append(gy)
    xs, ys = np.hstack(cols).astype(np.float32), np.hstack(rows).astype(np.float32)
    step = cv2.remap(flow, (xs - x0 + 0.5) / sx - 0.5, (ys - y0 + 0.5) / sy - 0.5, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def shifted(k: float) -> np.ndarray:
        # The texture k steps on: each pixel samples k steps upstream, as a frame's resample does.
        k = np.float32(k)
        m1, m2 = cv2.convertMaps(xs - k * step[..., 0], ys - k * step[..., 1], cv2.CV_16SC2)
        return cv2.remap(pixels, m1, m2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT).astype(np.int16)

    def mad(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.abs(a - b).mean())

    # Ordinary steps start at every offset between the pixels once: over one pixel of travel (a few steps,
    # so the texture stays within the region as it does in the take).
    speed = np.hypot(step[..., 0], step[..., 1])
    travel = 1.0 / max(float(np.median(speed[speed > 0])) if (speed > 0).any() else 1.0, 0.25)
    starts = 0.5 + travel * np.arange(ORDINARY_STEPS) / ORDINARY_STEPS
    ordinary = float(np.median([mad(shifted(k), shifted(k + 1.0)) for k in starts]))
    seams = [mad(shifted(-(1.0 - p)), shifted(p)) for p in PHASES]
    for p, seam in zip(PHASES, seams):
        if seam <= ordinary:
            return p
    return PHASES[int(np.argmin(seams))]
