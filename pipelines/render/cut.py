"""Where a scene is cut into layers: at depth jumps, and only at the ones that are real occlusion edges.

A layer cut is a crack waiting to open: when the camera moves, the two sides slide apart and the fill
behind shows through. That is right at an occlusion edge and a tear anywhere else (a ring in an estimated
depth map inside a face, a lump on a table, a few pixels of an outline left on the wrong side). So:

1. ``split_thresholds`` picks log-disparity values that separate the most depth jumps (a smooth surface,
   a slope or a floor, is never cut).
2. ``layer_labels`` labels every pixel by those thresholds, then looks at each connected piece the cut
   makes (estimated depth has had its edges snapped to the photo's colour edges already:
   :mod:`pipelines.depth.refine`). A piece whose outline is mostly *unbacked* joins the layer around it. A stretch of outline is
   backed when the depth steps sharply there (within two pixels: depth that knows its edges) or when
   the photo has a colour edge there that stands out from the texture around it (estimated depth, soft
   or a few pixels off, that follows a real outline). Pieces too small to be an object (speckles along
   an edge) join the layer around them too; thin but long things (a pole, a spoon handle) are large
   enough to stay.
3. ``grow_edges`` lets each nearer layer take the pixel or two past its edge that carry its colour (the
   outline an estimated depth edge left behind), and not the background's (a halo that would travel with
   it).
4. ``matte`` gives the outline's anti-aliased pixels, a mix of both sides, a partial alpha on the nearer
   layer, read from their colour; ``unmix`` splits each such pixel into the nearer layer's premultiplied
   colour and the layer behind's background, so that composited they give the photo's pixel exactly. The
   mix then leaves with its subject instead of staying behind as a ghost of the outline, and the moving
   edge is soft instead of a staircase of whole pixels.

Inside a piece that was not cut, the layer's smooth disparity field still follows the depth, so a soft
or lumpy depth gives a smooth, slightly wrong warp instead of a crack.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np

from pipelines.core.errors import InputError

#: Relative depth jump (z_far / z_near - 1) that splits two layers.
JUMP_RATIO = 0.12
#: Smallest disparity difference that splits, as a share of the scene's near (99th percentile)
#: disparity: at strength 1 the near subject moves ~7 % of the width, so 0.04 of its disparity is a
#: shift of ~0.3 % of the width (2 px at 640) between the two sides.
MIN_DISPARITY_JUMP = 0.04
#: Share of the image under which the pixels between two thresholds are only the ramp of one soft edge.
RAMP_SHARE = 0.02
#: Mean thickness (px) under which a ring along a nearer layer's edge is a sliver of a soft edge.
SLIVER = 4.0
#: Share of a piece's outline that must be backed (sharp depth step or colour edge) for it to stay cut.
BACKED_SHARE = 0.3
#: Smallest piece, as a share of the image, that may stay on its own layer.
MIN_PIECE = 0.0005
#: Blur (share of the long side) before colour edges are measured.
EDGE_SCALE = 0.003
#: A colour edge must be this many times stronger than the texture's mean gradient around it.
EDGE_CONTRAST = 2.0
#: Smallest colour edge (Sobel magnitude of the blurred photo, 0..1 colour units): a step of ~40 levels.
EDGE_MIN = 0.3
#: Share of the way from the colour behind to a nearer layer's own colour from which an outline pixel
#: joins the nearer layer as it grows past its depth edge (grow_edges).
GROW_SHARE = 0.25
#: Colour difference (levels, RGB distance) between the two sides under which the grow takes every pixel.
GROW_CONTRAST = 12.0
#: Reach (px) of the soft edge on either side of a layer's outline (matte).
MATTE_REACH = 2
#: A pixel within this many standard deviations of a side's local texture (RGB distance: the most it can
#: vary along any line) from that side's colour is that side's, not a mix: texture next to a hard edge is
#: not read as a partial alpha.
MATTE_SPREAD = 2.0
#: Least colour step (a share of the step between the two sides) across a pixel's neighbours for it
#: to be read as a mix: an edge runs through it.
MATTE_STEP = 0.5
#: Levels of slack past the local texture: how far a mix may lie off the line between the two sides'
#: colours (matte), and a decontaminated background past the texture behind (unmix).
MATTE_SLACK = 4.0


def split_thresholds(log_disp: np.ndarray, max_layers: int) -> list[float]:
    """Log-disparity values where the scene's depth jumps (by more than JUMP_RATIO across ~3 px, and by
    enough disparity to make a visible shift), at most ``max_layers - 1``. Each jump is a pair (far side, near side); a threshold between the two
    separates it. Thresholds are placed greedily where they separate the most remaining jumps, so one
    occlusion edge gives one split and a smooth surface (a slope, a floor) is never cut."""
    h, w = log_disp.shape
    r = 3
    jump = math.log1p(JUMP_RATIO)
    lo, hi = [], []
    for a, b in ((log_disp[:, :-r], log_disp[:, r:]), (log_disp[:-r, :], log_disp[r:, :])):
        m = np.abs(a - b) > jump
        lo.append(np.minimum(a, b)[m])
        hi.append(np.maximum(a, b)[m])
    lo, hi = np.concatenate(lo), np.concatenate(hi)
    # A jump far away (a faint glow in the sky of an estimated map) is a large ratio but a sub-pixel
    # parallax: the shift between the two sides is proportional to their difference in disparity.
    ref = math.exp(float(np.percentile(log_disp, 99)))
    big = np.exp(hi) - np.exp(lo) > MIN_DISPARITY_JUMP * ref
    lo, hi = lo[big], hi[big]
    min_count = max(12, 0.05 * (h + w) * r)
    candidates = np.linspace(float(log_disp.min()), float(log_disp.max()), 257)[1:-1]
    out: list[float] = []
    while len(out) < max_layers - 1 and lo.size >= min_count:
        count = np.searchsorted(np.sort(lo), candidates) - np.searchsorted(np.sort(hi), candidates)
        best = count.max()
        if best < min_count:
            break
        # Later splits must be real edges too, not the mixed pixels left along an edge already split.
        min_count = max(min_count, 0.2 * best) if not out else min_count
        # The middle of the best run of candidates: halfway between the far and near sides of the jump.
        i0 = int(count.argmax())
        i1 = i0
        while i1 + 1 < count.size and count[i1 + 1] == best:
            i1 += 1
        t = float((candidates[i0] + candidates[i1]) / 2)
        out.append(t)
        keep = ~((lo < t) & (hi > t))
        lo, hi = lo[keep], hi[keep]
    return _merge_ramp_thresholds(sorted(out), log_disp)


def _merge_ramp_thresholds(ts: list[float], log_disp: np.ndarray) -> list[float]:
    """One soft edge, one cut: a soft depth edge is a ramp that several thresholds can cross, with only
    the ramp's own pixels between them (a ring of slivers). Thresholds with fewer than RAMP_SHARE of the
    image between them become one, at their mean."""
    if len(ts) < 2:
        return ts
    values = np.sort(log_disp.ravel())
    between = np.diff(np.searchsorted(values, ts)) / values.size
    groups = [[ts[0]]]
    for t, share in zip(ts[1:], between):
        if share < RAMP_SHARE:
            groups[-1].append(t)
        else:
            groups.append([t])
    return [float(np.mean(g)) for g in groups]


def sharp_steps(log_disp: np.ndarray) -> np.ndarray:
    """(H, W) bool: where the depth jumps by JUMP_RATIO across two pixels, and that is most of the jump
    across eight: a step, as in a rendered or measured map, not the soft ramp of an estimate."""
    out = np.zeros(log_disp.shape, bool)
    for dx, dy in ((1, 0), (0, 1)):
        near = np.abs(_shift(log_disp, dx, dy) - _shift(log_disp, -dx, -dy))
        wide = np.abs(_shift(log_disp, 4 * dx, 4 * dy) - _shift(log_disp, -4 * dx, -4 * dy))
        out |= (near > math.log1p(JUMP_RATIO)) & (near > 0.8 * wide)
    return out


def _shift(a: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """``a`` read at (x + dx, y + dy), edges replicated."""
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(a, m, (a.shape[1], a.shape[0]), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)


def edge_support(rgb: np.ndarray, log_disp: np.ndarray, sharp: Optional[np.ndarray] = None) -> np.ndarray:
    """(H, W) bool: where a layer cut would be backed, by a sharp depth step or a standout colour edge.
    ``sharp``: :func:`sharp_steps` of ``log_disp``, when the caller has it already."""
    sharp = sharp_steps(log_disp) if sharp is None else sharp
    # Colour edge: the strongest channel gradient, against the mean gradient of the texture around it.
    # Measured on a blurred photo, so fine grain (fur, wood, noise) fades and outlines stay.
    img = cv2.GaussianBlur(rgb, (0, 0), max(1.5, EDGE_SCALE * max(rgb.shape[:2]))).astype(np.float32) / 255.0
    g = np.zeros(rgb.shape[:2], np.float32)
    for c in range(3):
        cx = cv2.Sobel(img[..., c], cv2.CV_32F, 1, 0, ksize=3)
        cy = cv2.Sobel(img[..., c], cv2.CV_32F, 0, 1, ksize=3)
        g = np.maximum(g, cv2.magnitude(cx, cy))
    r = max(7, round(max(rgb.shape[:2]) / 60))
    texture = cv2.blur(g, (2 * r + 1, 2 * r + 1))
    peak = cv2.dilate(g, np.ones((3, 3), np.uint8))
    colour = (peak > EDGE_CONTRAST * texture) & (peak > EDGE_MIN)
    # A cut within a pixel of an edge follows it (estimated depth edges are snapped to colour edges).
    return cv2.dilate((sharp | colour).astype(np.uint8), np.ones((3, 3), np.uint8)) > 0


def layer_labels(rgb: np.ndarray, log_disp: np.ndarray, thresholds: list[float],
                 sharp: Optional[np.ndarray] = None) -> np.ndarray:
    """(H, W) uint8 layer index per pixel (0 = farthest) for ``thresholds``, with unbacked and tiny
    pieces merged into the layer around them (see the module docstring). ``sharp``: as for
    :func:`edge_support`."""
    labels = np.digitize(log_disp, thresholds).astype(np.uint8)
    if not thresholds:
        return labels
    backed = edge_support(rgb, log_disp, sharp)
    h, w = labels.shape
    min_area = max(16, MIN_PIECE * h * w)
    for k in range(1, len(thresholds) + 1):
        # Pieces of the near side that do not hold up become far, then holes in the near side become near.
        for piece in _weak_pieces(labels >= k, backed, min_area, keep_largest=False):
            labels[piece & (labels == k)] = k - 1
        for piece in _weak_pieces(labels < k, backed, min_area, keep_largest=True):
            labels[piece] = k
    return _absorb_slivers(labels, len(thresholds))


def _absorb_slivers(labels: np.ndarray, top: int) -> np.ndarray:
    """Give the nearer layer the slivers along its edge: a soft depth edge crosses every threshold on
    its way up, leaving a ring a pixel or two wide on each layer in between, which would slide at its
    own speed (a ragged double outline). A sliver is a piece about SLIVER px thick lying against a
    nearer layer; a pole or a wire stands against farther layers only, so it stays."""
    kernel = np.ones((3, 3), np.uint8)
    for k in range(top - 1, -1, -1):
        own = (labels == k).astype(np.uint8)
        n, cc, stats, _ = cv2.connectedComponentsWithStats(own, connectivity=8)
        if n <= 1:
            continue
        outline = (own > 0) & (cv2.erode(own, kernel, borderType=cv2.BORDER_REPLICATE) == 0)
        nearest = cv2.dilate(labels, np.ones((5, 5), np.uint8))
        touches = outline & (nearest > k)
        length = np.bincount(cc[outline], minlength=n).astype(np.float64)
        against = np.bincount(cc[touches], minlength=n).astype(np.float64)
        thick = stats[:, cv2.CC_STAT_AREA] / np.maximum(length / 2, 1)
        slivers = [i for i in range(1, n) if thick[i] < SLIVER and against[i] >= 0.4 * length[i]]
        if slivers:
            lut = np.zeros(n, bool)
            lut[slivers] = True
            piece = lut[cc]
            # The whole sliver goes to the nearest layer it lies against.
            to = np.zeros(n, np.uint8)
            np.maximum.at(to, cc[piece], nearest[piece])
            labels[piece] = to[cc[piece]]
    return labels


def _weak_pieces(side: np.ndarray, backed: np.ndarray, min_area: float, keep_largest: bool):
    """Connected pieces of ``side`` that are tiny or mostly outlined by unbacked cuts (except the largest
    one when ``keep_largest``: the far side's main body is the background itself)."""
    n, cc, stats, _ = cv2.connectedComponentsWithStats(side.astype(np.uint8), connectivity=8)
    if n <= 1:
        return
    # Outline pixels: in the piece, next to the other side (the image border is not an outline).
    inner = cv2.erode(side.astype(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    outline = side & (inner == 0)
    ids = cc[outline]
    total = np.bincount(ids, minlength=n).astype(np.float64)
    good = np.bincount(ids, weights=backed[outline].astype(np.float64), minlength=n)
    share = np.where(total > 0, good / np.maximum(total, 1), 1.0)
    areas = stats[:, cv2.CC_STAT_AREA]
    largest = 1 + int(np.argmax(areas[1:])) if keep_largest else -1
    weak = [i for i in range(1, n) if i != largest and (areas[i] < min_area or share[i] < BACKED_SHARE)]
    if weak:
        lut = np.zeros(n, bool)
        lut[weak] = True
        yield lut[cc]


def grow_edges(rgb: np.ndarray, labels: np.ndarray, steps: int, radius: int = 5) -> np.ndarray:
    """Labels with each nearer layer grown up to ``steps`` pixels past its edge, one pixel at a time, over
    the pixels whose colour lies at least GROW_SHARE of the way from the colour behind toward the layer's
    own (means over ``radius`` px on either side). Estimated depth edges lag colour edges by a pixel or
    two, leaving the foreground's outline on the layer behind: growing takes it along. Where the edge
    already sits on the colour edge, a blind grow would carry a ring of the background instead (a light
    halo around a suit moving over a dark flag); here the background's pixels stay behind."""
    top = int(labels.max())
    if steps <= 0 or top == 0:
        return labels
    h, w = labels.shape
    reachable = np.ones((2 * steps + 1, 2 * steps + 1), np.uint8)
    beyond = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * steps + 3, 2 * steps + 3))
    ksize = (2 * radius + 1, 2 * radius + 1)
    claims = np.zeros((h, w), np.uint8)  # bit k: the pixel may join layer k
    for k in range(1, top + 1):
        near = (labels >= k).astype(np.uint8)
        todo = (cv2.dilate(near, reachable) > 0) & (near == 0)
        if not todo.any():
            continue
        # Work on the box around the pixels to decide, with the reach of the means.
        ys, xs = np.nonzero(todo)
        pad = radius + steps + 2
        y0, y1 = max(0, ys.min() - pad), min(h, ys.max() + pad + 1)
        x0, x1 = max(0, xs.min() - pad), min(w, xs.max() + pad + 1)
        img = rgb[y0:y1, x0:x1].astype(np.float32)
        # The colour behind is taken past the grow's reach, so the outline being decided is on neither side.
        sides = [labels[y0:y1, x0:x1] == k, cv2.dilate(near[y0:y1, x0:x1], beyond) == 0]
        own, behind = [_local_mean(img, m, ksize)[ys - y0, xs - x0] for m in sides]
        c = img[ys - y0, xs - x0]
        # How far each pixel's colour lies from the colour behind toward the layer's own (0 behind, 1 own):
        # an anti-aliased outline, even a faint one, goes with its layer, or it stays behind as a ghost of
        # the outline; where the two sides look alike the grow is as blind as it can safely be.
        fb = own - behind
        fb2 = (fb * fb).sum(-1)
        alpha = ((c - behind) * fb).sum(-1) / np.maximum(fb2, 1e-6)
        ok = (alpha >= GROW_SHARE) | (fb2 < GROW_CONTRAST ** 2)
        claims[ys[ok], xs[ok]] |= np.uint8(1 << k)
    grown = labels
    square = np.ones((3, 3), np.uint8)
    for _ in range(steps):
        d = cv2.dilate(grown, square)
        take = (d > grown) & ((claims >> d) & 1).astype(bool)
        if not take.any():
            break
        grown = np.where(take, d, grown)
    return grown


def _local_mean(img: np.ndarray, mask: np.ndarray, ksize: tuple[int, int]) -> np.ndarray:
    """Mean of ``img`` (H, W, 3) float32 over the ``mask`` pixels in a ``ksize`` box around each pixel."""
    m = mask.astype(np.float32)
    s = cv2.boxFilter(img * m[..., None], -1, ksize, normalize=False)
    n = cv2.boxFilter(m, -1, ksize, normalize=False)
    return s / np.maximum(n, 1e-6)[..., None]


@dataclass(frozen=True)
class Matte:
    """Outline pixels (ys, xs) whose alpha on the nearer layer differs from their label's 0/255.

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


def _no_matte() -> Matte:
    e = np.zeros(0, np.intp)
    no = np.zeros(0, np.uint8)
    return Matte(e, e, no, no, no, np.zeros(0, np.float32), np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32),
                 np.zeros(0, np.float32))


def matte(rgb: np.ndarray, labels: np.ndarray, reach: int = MATTE_REACH, radius: int = 5) -> Matte:
    """Alpha from colour along each nearer layer's outline (within ``reach`` px on either side): the
    projection of the pixel's colour on the line from the local colour behind (0) to the layer's own (1),
    means over ``radius`` px of each side's pixels that lie ``reach`` px or more from the outline. A pixel
    within MATTE_SPREAD standard deviations of either side's texture is that side's, the rest is spread
    between; where the sides look alike (GROW_CONTRAST), where a side has no pixels near enough, or where a
    third layer is within reach, the pixel keeps its label. Only pixels whose alpha changes are returned."""
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
    ok = (d2 >= GROW_CONTRAST ** 2) & (count.min(0) >= 3) & (span > 0.25) & near_line & on_edge
    a = np.where(ok, a, (g == near).astype(np.float32))
    alpha = np.rint(a * 255).astype(np.uint8)
    changed = alpha != np.where(g == near, 255, 0)
    mix = tc.astype(np.float32)
    return Matte(ys[changed], xs[changed], near[changed], behind[changed], alpha[changed], mix[changed], fg[changed],
                 bg[changed], spread[1][changed])


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
    back = np.clip((c - af * fg) / (1.0 - af), np.maximum(bg - room, 0), np.minimum(bg + room, 255))
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
