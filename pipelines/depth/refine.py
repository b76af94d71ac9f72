"""Edge-aware refinement of estimated depth: move depth edges onto the photo's colour edges.

Every estimator's depth is soft or a few pixels off at occlusion edges (a network's output is upsampled
from 518 px or less; the classical estimator works at 320 px). A layer cut that follows such an edge
leaves an outline of background on the foreground layer, or of foreground on the background (the hair
left on the wall, the rim of a cup on the saucer). So, an edge-aware snap: within SNAP_RADIUS of every
depth step, each pixel takes the depth of the side whose colour it clearly matches (SNAP_MARGIN), each
side's colour (and depth) being the local mean of its pixels beyond the radius, the choices passed
through a small median so a textured object's flecks do not turn into specks of the other side's depth,
and a run of such pixels that goes further from the depth edge than the snap's reach left alone (no
outline within reach: the colour runs on beyond it, as a stripe of the wall below a card may have the
card's colour).
Where the two sides have about the same colour (no outline to follow), or a pixel is about as close to
both, the depth is left as it was; smooth depth (no step) is never touched, so
the photo's texture is not printed into it (the trouble with a plain guided filter here).

Depth imported from a file is taken as it is; only estimators' output goes through this.
"""
from __future__ import annotations

import numpy as np

#: Reach of the snap onto colour edges (share of the long side, at least SNAP_MIN px), the smallest
#: disparity step it moves (relative to the nearer side) and how far apart (RGB levels) the two sides'
#: colours must be for colour to decide.
SNAP_RADIUS = 0.012
SNAP_MIN = 4
SNAP_STEP = 0.12
SNAP_CONTRAST = 30.0
#: A pixel moves to a side only if its colour is this much closer to that side's than to the other's.
SNAP_MARGIN = 0.6
#: Half-width of the median over each pixel's side decision, as a share of the snap's reach.
SNAP_SMOOTH = 0.5
#: Version of the refinement; part of the depth cache key of every estimator.
VERSION = "snap-4"


def snap_edges(rel: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """``rel`` (H, W) float32 relative depth in [0, 1] (1 = near), with its steps moved onto the colour
    edges of ``pixels`` (H, W, 3) uint8 RGB; same shape, range and convention."""
    h, w = rel.shape
    if pixels.shape[:2] != (h, w):
        raise ValueError(f"depth {w}x{h} and photo {pixels.shape[1]}x{pixels.shape[0]} must have one size")
    if min(h, w) < 8:
        return rel.astype(np.float32)
    return snap_steps(rel.astype(np.float32), pixels)


def snap_steps(rel: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """The snap of the module docstring: depth steps of ``rel`` (H, W) float32 in [0, 1], 1 = near, moved
    onto the colour edges of ``pixels`` (H, W, 3) uint8 within SNAP_RADIUS. Same shape and range."""
    import cv2

    h, w = rel.shape
    r = max(SNAP_MIN, round(SNAP_RADIUS * max(h, w)))
    # Disparity as DepthMap.from_relative makes it (near 1, far 1/20), so a step is judged by its parallax.
    d = 0.05 + 0.95 * rel
    box = np.ones((2 * r + 1, 2 * r + 1), np.uint8)
    hi, lo = cv2.dilate(d, box), cv2.erode(d, box)
    band = hi - lo > SNAP_STEP * hi
    if not band.any():
        return rel
    near = d > 0.5 * (hi + lo)
    img = cv2.GaussianBlur(pixels, (0, 0), 1.0).astype(np.float32)
    # Each side's local mean colour and depth, from its pixels beyond the radius, on a reduced grid.
    q = max(1, r // 4)
    size = (max(1, w // q), max(1, h // q))
    win = (6 * r // q + 1, 6 * r // q + 1)
    small = np.dstack([cv2.resize(img, size, interpolation=cv2.INTER_AREA),
                       cv2.resize(rel, size, interpolation=cv2.INTER_AREA)])

    def side(core):
        c = cv2.resize(core.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        return cv2.boxFilter(small * c[..., None], -1, win, normalize=False), cv2.boxFilter(c, -1, win, normalize=False)

    n_sum, n_cnt = side(cv2.erode(near.astype(np.uint8), box) > 0)
    f_sum, f_cnt = side(cv2.erode((~near).astype(np.uint8), box) > 0)
    ys, xs = np.nonzero(band)
    sy, sx = np.minimum(ys // q, size[1] - 1), np.minimum(xs // q, size[0] - 1)
    ok = (n_cnt[sy, sx] > 1e-3) & (f_cnt[sy, sx] > 1e-3)
    ys, xs, sy, sx = ys[ok], xs[ok], sy[ok], sx[ok]
    m_near = n_sum[sy, sx] / n_cnt[sy, sx, None]
    m_far = f_sum[sy, sx] / f_cnt[sy, sx, None]
    sure = np.linalg.norm(m_near[:, :3] - m_far[:, :3], axis=1) > SNAP_CONTRAST
    px = img[ys, xs]
    # Which side each pixel's colour is closer to, then a median over a small window: one pixel of a
    # textured surface is often closer to the other side's mean (a dark fleck on a light card), and a
    # per-pixel decision prints that texture into the depth as specks, each a fragment the warp tears
    # off. A median removes specks and keeps a straight outline where it is.
    side_map = near.astype(np.uint8) * 255
    d_near = np.linalg.norm(px - m_near[:, :3], axis=1)
    d_far = np.linalg.norm(px - m_far[:, :3], axis=1)
    # A pixel about as close to both sides (a grey backdrop printed on a card in front of a white wall)
    # stays where the depth put it: only a clear colour match moves it.
    side_map[ys, xs] = np.where(d_near < SNAP_MARGIN * d_far, 255, np.where(d_far < SNAP_MARGIN * d_near, 0, side_map[ys, xs]))
    k = 2 * max(1, round(SNAP_SMOOTH * r)) + 1
    to_near = cv2.medianBlur(side_map, min(k, 255))[ys, xs] > 127
    # Only pixels on the wrong side move, and they take that side's local depth.
    move = sure & (to_near != near[ys, xs])
    move &= _within_reach(move, ys, xs, near, r)
    out = rel.copy()
    target = np.where(to_near, m_near[:, 3], m_far[:, 3])
    out[ys[move], xs[move]] = target[move]
    return out


def _within_reach(move: np.ndarray, ys: np.ndarray, xs: np.ndarray, near: np.ndarray, r: int) -> np.ndarray:
    """Of the pixels about to change side (``move``, at ``ys``, ``xs``), those whose connected run stays
    within ``r`` px (the snap's reach) of the depth edge, ``near``'s outline. A run that goes further found
    no outline within reach: the colour it matched runs on beyond (a stripe of the wall below a card in
    the card's colour, a slope that lumpy depth made look like a step), and moving it would print that
    colour into the depth as a slab of the other side's."""
    import cv2

    if not move.any():
        return move
    inside = near.astype(np.uint8)
    # Distance to the other side: for near pixels to the nearest far one, and the other way round.
    dist = np.where(near, cv2.distanceTransform(inside, cv2.DIST_L2, 3),
                    cv2.distanceTransform(1 - inside, cv2.DIST_L2, 3))
    runs = np.zeros(near.shape, np.uint8)
    runs[ys[move], xs[move]] = 1
    _, cc = cv2.connectedComponents(runs, connectivity=8)
    ids = cc[ys, xs]
    reach = np.zeros(int(cc.max()) + 1, np.float32)
    np.maximum.at(reach, ids[move], dist[ys[move], xs[move]])
    return move & (reach[ids] < r + 1)
