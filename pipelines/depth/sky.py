"""The classical depth estimator's sky and ground cues (:mod:`pipelines.depth.classical`): the sky is the
farthest thing in the picture, and below the horizon lower in the frame is nearer. Maps are (h, w) at the
estimator's working size; the sky mask is bool, the ground prior float32 in [0, 1] (1 = near)."""
from __future__ import annotations

import numpy as np

#: The sky is looked for above this share of the height (below it, smooth blue is water or haze at the
#: ground's depth; letting the sky run lower pulls structures standing on the ground into two depths).
SKY_LOWEST = 0.75


def _sky_like(lab: np.ndarray) -> np.ndarray:
    """Pixels that look like sky: smooth, and blue at any brightness (dusk included) or bright neutral
    (overcast, haze)."""
    import cv2

    L = lab[:, :, 0]
    mean = cv2.blur(L, (7, 7))
    std = np.sqrt(np.maximum(cv2.blur(L * L, (7, 7)) - mean * mean, 0.0))
    b = lab[:, :, 2]
    sky_colour = (b < -4.0) | ((mean > 55.0) & (b < 8.0) & (np.abs(lab[:, :, 1]) < 8.0))
    return (std < 3.0) & sky_colour


def _sky_mask(lab: np.ndarray) -> np.ndarray:
    """Bright, smooth region connected to the top edge and living in the upper part of the frame."""
    import cv2

    h, w = lab.shape[:2]
    cand = _sky_like(lab)
    cand[int(SKY_LOWEST * h):] = False
    cand = cv2.morphologyEx(cand.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cand, connectivity=4)
    sky = np.zeros((h, w), bool)
    for i in range(1, n):
        x, y, cw, ch, area = stats[i]
        if y == 0 and area > 0.01 * h * w and cw > 0.15 * w:
            sky |= labels == i
    if sky.sum() < 0.02 * h * w:
        return np.zeros((h, w), bool)
    return sky


def _ground_prior(sky: np.ndarray) -> np.ndarray:
    """Disparity rising from the horizon (far, 0) to the bottom row (near, 1)."""
    h, w = sky.shape
    rows = np.arange(h, dtype=np.float32)
    horizon = _horizon_row(sky)
    g = np.clip((rows - horizon) / max(h - 1 - horizon, 1.0), 0.0, 1.0)
    return np.repeat(g[:, None], w, axis=1).astype(np.float32)


def _horizon_row(sky: np.ndarray) -> float:
    """Row where most columns' sky ends (0 without sky)."""
    if not sky.any():
        return 0.0
    h = sky.shape[0]
    cols = sky.any(axis=0)
    lowest = h - 1 - np.argmax(sky[::-1], axis=0)
    return float(np.median(lowest[cols]))


#: How far (pixels at the working size) the sky grows past the smoothness test toward an outline, and how
#: close (Lab distance) to the sky's own colour nearby a pixel must be to join it.
SKY_GROW = 4
SKY_GROW_DE = 6.0


def _grow_sky(sky: np.ndarray, lab: np.ndarray, keep_out: np.ndarray) -> np.ndarray:
    """The sky carried up to the outlines standing in it. The smoothness test of :func:`_sky_mask` leaves a
    band a few pixels wide around everything in the sky (its window straddles the outline); at the ground's
    depth, that band becomes a ring of in-between depth around a subject (a halo that slides at its own
    speed once the scene is cut into layers). A pixel next to the sky joins it when its colour is within
    SKY_GROW_DE of the sky's colour around it, for SKY_GROW steps; ``keep_out`` (a subject) never joins."""
    import cv2

    if not sky.any():
        return sky
    sm = cv2.GaussianBlur(lab, (0, 0), 0.7)
    out = sky.copy()
    kernel = np.ones((3, 3), np.uint8)
    for _ in range(SKY_GROW):
        m = out.astype(np.float32)
        den = cv2.GaussianBlur(m, (0, 0), 3.0)
        mean = cv2.GaussianBlur(sm * m[..., None], (0, 0), 3.0) / np.maximum(den, 1e-6)[..., None]
        ring = (cv2.dilate(out.astype(np.uint8), kernel) > 0) & ~out
        close = np.linalg.norm(sm - mean, axis=2) < SKY_GROW_DE
        grow = ring & close & (den > 1e-3) & ~keep_out
        if not grow.any():
            break
        out |= grow
    return out


def _sky_under_subject(sky: np.ndarray, subject: np.ndarray, lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sky, subject) with the subject's sky handed back: the pixels of the cut-out that look like sky and
    join the sky through pixels that do. The sky is looked for only above SKY_LOWEST of the height, and
    GrabCut's cut-out of a subject standing on the ground runs on up into the sky just below that line (a
    block of dusk sky beside the rocket, with a flat top), which then moved with the subject as a box."""
    import cv2

    if not sky.any():
        return sky, subject
    may = (sky | (subject & _sky_like(lab))).astype(np.uint8)
    n, labels = cv2.connectedComponents(may, connectivity=4)
    touching = np.zeros(n, bool)
    touching[labels[sky]] = True
    touching[0] = False
    joined = touching[labels] & subject
    if not joined.any():
        return sky, subject
    # The smoothness test leaves the sky-coloured pixels next to the subject's own outline out of the block:
    # they go back too (as the sky is grown up to outlines), or they would stay on the subject as a halo.
    reach = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * SKY_GROW + 1, 2 * SKY_GROW + 1))
    near = (cv2.dilate(joined.astype(np.uint8), reach) > 0) & subject
    sky = _grow_sky(sky | joined, lab, keep_out=~near)
    return sky, subject & ~sky
