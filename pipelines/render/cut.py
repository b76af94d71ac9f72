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
3. ``soft_edges`` finds the cuts that run through a ramp (a soft or blurred depth edge, not a sharp
   step), and ``settle_ramps`` gives a ring of the ramp's pixels that a layer in between holds to the side
   its depth is nearer; the scene fits no layer's surface to the ramp's pixels (they run on from the
   body), so an outline moves with its object rather than lagging behind it, stretched.
4. ``grow_edges`` lets each nearer layer take the pixel or two past its edge that carry its colour (the
   outline an estimated depth edge left behind), and not the background's (a halo that would travel with
   it).
4. Then :mod:`pipelines.render.matte` softens the outline: its anti-aliased pixels get a partial alpha.

Inside a piece that was not cut, the layer's smooth disparity field still follows the depth, so a soft
or lumpy depth gives a smooth, slightly wrong warp instead of a crack.
"""
from __future__ import annotations

import math
from typing import Optional

import cv2
import numpy as np

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
#: A soft depth edge (a ramp, as blurred or upsampled estimates have): a cut between layers, not at a sharp
#: step, across which disparity changes by more than RAMP_RATIO within RAMP_REACH (share of the long side,
#: at least 1 px) of it, along a stretch of at least RAMP_LENGTH of the long side (a few scattered pixels
#: along a cut-out outline are not a ramp).
RAMP_REACH = 0.0045
RAMP_RATIO = 1.3
RAMP_LENGTH = 0.2


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


def soft_edges(labels: np.ndarray, log_disp: np.ndarray, sharp: np.ndarray) -> Optional[np.ndarray]:
    """(H, W) bool: the pixels within the reach of a soft depth edge between layers (RAMP_*), or None
    where there is none. ``labels`` from :func:`layer_labels`, ``sharp`` from :func:`sharp_steps`.

    A cut through a ramp leaves the ramp's pixels on both layers at depths between the two surfaces: the
    nearer layer's outline at a depth behind its body (it lags, stretched, as the camera moves) and the
    farther layer's pixels by the cut at a depth in front of it. Within the reach, depth is neither side's."""
    h, w = labels.shape
    k3 = np.ones((3, 3), np.uint8)
    box = _ramp_box(h, w)
    edge = (cv2.dilate(labels, k3) != cv2.erode(labels, k3)) & ~(cv2.dilate(sharp.astype(np.uint8), k3) > 0)
    edge &= cv2.dilate(log_disp, box) - cv2.erode(log_disp, box) > math.log(RAMP_RATIO)
    if not edge.any():
        return None
    n, cc, stats, _ = cv2.connectedComponentsWithStats(edge.astype(np.uint8), connectivity=8)
    long_enough = stats[:, cv2.CC_STAT_AREA] >= RAMP_LENGTH * max(h, w)
    long_enough[0] = False
    if not long_enough[1:].any():
        return None
    return cv2.dilate(long_enough[cc].astype(np.uint8), box) > 0


def settle_ramps(labels: np.ndarray, log_disp: np.ndarray, ramps: np.ndarray) -> np.ndarray:
    """``labels`` with the pixels of a ramp (``ramps``, from :func:`soft_edges`) that a layer in between
    holds (a ring squeezed between a farther and a nearer layer, which would slide at its own speed)
    given to the nearer or the farther side, whichever their depth is closer to (the ramp's midpoint)."""
    box = _ramp_box(*labels.shape)
    top, bottom = cv2.dilate(labels, box), cv2.erode(labels, box)
    between = ramps & (bottom < labels) & (labels < top)
    if not between.any():
        return labels
    mid = 0.5 * (cv2.dilate(log_disp, box) + cv2.erode(log_disp, box))
    return np.where(between, np.where(log_disp > mid, top, bottom), labels).astype(np.uint8)


def _ramp_box(h: int, w: int) -> np.ndarray:
    """The square that reaches RAMP_REACH of the long side of an (h, w) image around a pixel."""
    reach = max(1, round(RAMP_REACH * max(h, w)))
    return np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
