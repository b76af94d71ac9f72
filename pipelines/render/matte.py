"""Soft layer edges: a colour matte along each nearer layer's outline.

Every pixel of a scene gets one layer label (:mod:`pipelines.render.cut`), but an anti-aliased outline pixel
is a mix of the two sides. Kept whole on the layer behind, a mix leaves a faint dotted ghost of the outline
when the subject moves away; carried whole with the subject, it takes some background colour along; and the
moving edge is a staircase of whole pixels. So:

1. ``matte`` reads each outline pixel's alpha from its colour: where it lies on the line from the local
   colour behind to the layer's own, past what either side's texture explains.
2. ``unmix`` splits a mixed pixel into the nearer layer's premultiplied colour and the background behind it
   (decontaminated: the mix's share of the subject's colour taken out), so that the renderer's composite
   of the one over the other gives the photo's pixel back exactly, and frame 0 stays the photo.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Optional

import cv2
import numpy as np

from pipelines.core.errors import InputError
from pipelines.render.cut import GROW_CONTRAST

#: Reach (px) of the soft edge on either side of a layer's outline (matte).
MATTE_REACH = 2
#: A pixel within this many standard deviations of a side's local texture (RGB distance: the most it can
#: vary along any line) from that side's colour is that side's, not a mix: texture next to a hard edge is
#: not read as a partial alpha.
MATTE_SPREAD = 2.0
#: Least share of the step between the two sides left to mixes once both sides' texture allowances are
#: taken off it: where texture fills the rest (both sides busy), a pixel keeps its label.
MATTE_SPAN = 0.25
#: Least colour step (a share of the step between the two sides) across a pixel's neighbours for it
#: to be read as a mix: an edge runs through it.
MATTE_STEP = 0.6
#: Levels of slack past the local texture: how far a mix may lie off the line between the two sides'
#: colours (matte), and a decontaminated background past the texture behind (unmix).
MATTE_SLACK = 4.0


@dataclass(frozen=True)
class Matte:
    """Outline pixels (ys, xs) whose alpha on the nearer layer differs from their label's 0/255: partial,
    or 0 on a pixel of the nearer layer's that is all background.

    near, behind: (N,) uint8 the two layers the pixel lies between (the pixel's label is one of them).
    alpha: (N,) uint8 the pixel's alpha on ``near`` (0: it is the layer behind's, 255: the nearer's).
    mix: (N,) float32 the pixel's share of the nearer side's colour as its colour says (the projection,
        0..1, before the texture allowance stretches it into ``alpha``).
    fg, bg: (N, 3) float32 the nearer side's and the side behind's local colour (what the mix is made of).
    bg_spread: (N,) float32 the standard deviation of the texture behind (RGB distance, levels).
    """

    ys: np.ndarray
    xs: np.ndarray
    near: np.ndarray
    behind: np.ndarray
    alpha: np.ndarray
    mix: np.ndarray
    fg: np.ndarray
    bg: np.ndarray
    bg_spread: np.ndarray

    def take(self, keep: np.ndarray) -> "Matte":
        """The pixels where ``keep`` (N,) bool is True."""
        return Matte(*(getattr(self, f.name)[keep] for f in fields(self)))


def _no_matte() -> Matte:
    e = np.zeros(0, np.intp)
    no = np.zeros(0, np.uint8)
    f1, f3 = np.zeros(0, np.float32), np.zeros((0, 3), np.float32)
    return Matte(e, e, no, no, no, f1, f3, f3, f1)


def matte(rgb: np.ndarray, labels: np.ndarray, reach: int = MATTE_REACH, radius: int = 5) -> Matte:
    """Alpha from colour along each nearer layer's outline (within ``reach`` px on either side): the
    projection of the pixel's colour on the line from the local colour behind (0) to the layer's own (1),
    means over ``radius`` px of each side's pixels that lie ``reach`` px or more from the outline. A pixel
    within MATTE_SPREAD standard deviations of either side's texture is that side's, the rest is spread
    between. A pixel keeps its label where the sides look alike (GROW_CONTRAST), where a side has no pixels
    near enough, where a third layer is within reach, where its colour lies off the line between the two
    (a fleck of texture, not a mix) or where no colour step crosses it (MATTE_STEP: not on the edge). Only
    pixels whose alpha changes are returned."""
    top = int(labels.max())
    if top == 0 or reach <= 0:
        return _no_matte()
    square = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    hi, lo = cv2.dilate(labels, square), cv2.erode(labels, square)
    band = hi > lo
    for j in range(1, top):  # between two layers only
        present = cv2.dilate((labels == j).astype(np.uint8), square) > 0
        band &= ~(present & (lo < j) & (hi > j))
    ys, xs = np.nonzero(band)
    if not ys.size:
        return _no_matte()
    g, near, behind = labels[ys, xs], hi[ys, xs], lo[ys, xs]
    h, w = labels.shape
    zone = hi > lo  # within reach of an outline
    n = ys.size
    sums = np.zeros((2, n, 3), np.float32)  # the near side's, then the one behind's
    squares = np.zeros((2, n), np.float32)
    count = np.zeros((2, n), np.float32)
    # Each side's colour: a grid of samples every other pixel over the window, the side's pixels away
    # from any outline (read at the outline pixels only: a fraction of the image).
    for dy in range(-radius, radius + 1, 2):
        for dx in range(-radius, radius + 1, 2):
            sy, sx = ys + dy, xs + dx
            inside = (sy >= 0) & (sy < h) & (sx >= 0) & (sx < w)
            sy, sx = np.clip(sy, 0, h - 1), np.clip(sx, 0, w - 1)
            free = inside & ~zone[sy, sx]
            lab = labels[sy, sx]
            c = rgb[sy, sx].astype(np.float32)
            c2 = (c * c).sum(-1)
            for i, side in enumerate((near, behind)):
                wt = (free & (lab == side)).astype(np.float32)
                sums[i] += c * wt[:, None]
                squares[i] += c2 * wt
                count[i] += wt
    cnt = np.maximum(count, 1e-6)
    mean = sums / cnt[..., None]
    spread = np.sqrt(np.maximum(squares / cnt - (mean * mean).sum(-1), 0.0))
    fg, bg = mean
    col = rgb[ys, xs].astype(np.float32)
    d = fg - bg
    d2 = (d * d).sum(-1)
    length = np.sqrt(np.maximum(d2, 1e-6))
    t = ((col - bg) * d).sum(-1) / np.maximum(d2, 1e-6)
    # Texture allowance on either side (in units of the step between the sides).
    t_bg, t_fg = MATTE_SPREAD * spread[1] / length, MATTE_SPREAD * spread[0] / length
    span = 1.0 - t_bg - t_fg
    a = np.clip((t - t_bg) / np.maximum(span, 1e-6), 0.0, 1.0)
    # A mix lies on the line between the two colours, within the texture's spread: off it, the pixel is
    # texture of its own (a fleck, a highlight), not a mix.
    tc = np.clip(t, 0.0, 1.0)
    off = np.sqrt((((col - bg) - tc[:, None] * d) ** 2).sum(-1))
    near_line = off <= MATTE_SPREAD * (tc * spread[0] + (1 - tc) * spread[1]) + MATTE_SLACK
    # ... and on the edge itself: a colour step crosses it, one neighbour nearer each side than it is
    # (a fleck of texture next to the outline has both neighbours on one side, or none far).
    t_lo, t_hi = np.full(n, np.inf, np.float32), np.full(n, -np.inf, np.float32)
    for dy, dx in ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)):
        nb = rgb[np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1)].astype(np.float32)
        tn = ((nb - bg) * d).sum(-1) / np.maximum(d2, 1e-6)
        t_lo, t_hi = np.minimum(t_lo, tn), np.maximum(t_hi, tn)
    on_edge = (t_lo <= t) & (t <= t_hi) & (t_hi - t_lo >= MATTE_STEP)
    ok = (d2 >= GROW_CONTRAST ** 2) & (count.min(0) >= 3) & (span > MATTE_SPAN) & near_line & on_edge
    a = np.where(ok, a, (g == near).astype(np.float32))
    alpha = np.rint(a * 255).astype(np.uint8)
    # A pixel behind whose colour is all the nearer layer's is the grow's to take (cut.grow_edges), whole:
    # the matte never hides a pixel of the layer behind that the fill has not filled.
    changed = np.where(g == near, alpha < 255, (alpha > 0) & (alpha < 255))
    return Matte(ys, xs, near, behind, alpha, tc.astype(np.float32), fg, bg, spread[1]).take(changed)


def unmix(colour: np.ndarray, alpha: np.ndarray, fg: np.ndarray, bg: np.ndarray, bg_spread: np.ndarray,
          mix: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
    """Split mixed pixels ``colour`` (N, 3) uint8 with alpha (N,) uint8 in 1..254 into (background,
    premultiplied foreground), both (N, 3) uint8, so that the renderer's composite of the one over the
    other, ``front + round(back * (255 - alpha) / 255)``, gives ``colour`` back exactly. The background is
    the decontaminated colour (colour - m fg) / (1 - m), m the pixel's share of ``fg`` (``mix``, (N,) in
    0..1; default alpha / 255), held within the local texture behind
    (``bg`` +- ``bg_spread`` + MATTE_SLACK levels per channel: dividing by 1 - alpha magnifies every
    error of the two-colour model, a bright or dark fleck where the subject leaves), then moved by the
    least that keeps the foreground a valid premultiplied colour (0..alpha)."""
    c = colour.astype(np.int64)
    a = alpha.astype(np.int64)[:, None]
    s = 255 - a
    af = (a / 255.0) if mix is None else mix[:, None].astype(np.float64)
    room = (bg_spread + MATTE_SLACK)[:, None]
    back = np.clip((c - af * fg) / np.maximum(1.0 - af, 1e-6), np.maximum(bg - room, 0),
                   np.minimum(bg + room, 255))
    # What the composite keeps of the background, held where the foreground stays within 0..alpha.
    kept = np.clip(np.rint(back * s / 255.0).astype(np.int64), np.maximum(0, c - a), np.minimum(c, s))
    # The backgrounds the composite's product, cv2.multiply(b, 255 - alpha, scale=1/255), rounds to ``kept``
    # (no ties: 255 is odd) are b*s within 127 of 255*kept; the one nearest the decontaminated colour.
    lo = -((127 - 255 * kept) // s)  # ceil((255 kept - 127) / s)
    hi = (255 * kept + 127) // s
    b = np.clip(np.rint(back).astype(np.int64), lo, np.minimum(hi, 255))
    got = (b * s + 127) // 255
    if not np.array_equal(got, kept):
        raise InputError("internal: unmix found no background that composites exactly")
    return b.astype(np.uint8), (c - got).astype(np.uint8)
