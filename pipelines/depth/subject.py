"""The classical depth estimator's subject (:mod:`pipelines.depth.classical`): a salient region cut out with
GrabCut, grown by the in-focus parts that touch it, joined by thin parts standing in the sky that touch it,
and placed in front of what surrounds it, slightly rounded; or, for a close-up, one rounded surface with a
soft rim and no cut-out outline. Masks are (h, w) bool at the estimator's working size."""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from pipelines.depth.sky import _horizon_row

#: Share of the frame a subject must cover to be a close-up (one rounded surface, no cut-out outline).
CLOSEUP_SHARE = 0.45
#: A smaller subject (down to this share) is a close-up too when its outline is not a clear colour edge:
#: GrabCut then drew it through the subject (a cat's face cut out of its own fur, as a re-encoded JPEG of
#: the same photo gets), and a cut-out would put a ring inside it.
CLOSEUP_WEAK_SHARE = 0.2
#: The outline is clear when at least OUTLINE_CLEAR of it separates colours OUTLINE_DE (Lab) apart
#: (measured: 0.73-0.97 on astronaut, coffee, a face crop; 0.30-0.31 on chelsea as PNG or JPEG).
OUTLINE_CLEAR = 0.6
OUTLINE_DE = 20.0
#: A part standing in the sky that touches the subject joins it when no larger than this share of it.
ATTACH_SHARE = 0.5
#: Widest a subject's part above the horizon may be (share of the frame's width; the median over its rows)
#: to count as standing in the sky.
STAND_NARROW = 0.15
#: Reach (pixels at the working size) within which what stands in the sky next to the subject joins it.
ATTACH_HUG = 3
#: Sky pixels whose colour departs by this much (Lab, mean at the working size of the departure from a
#: 3 px blur at full detail) hold fine structure: the bars of a lattice tower, which the working size
#: averages into the sky (measured on rocket: sky 0-1, the towers' lattice 4-9).
FINE_DE = 4.0
#: Long side of the image fine structure is measured on (the bars are a pixel or two wide there).
FINE_SIDE = 720
#: Width of a close-up's soft rim, as a share of the long side.
CLOSEUP_RIM = 0.08


def _subject_mask(small: np.ndarray, seeds: np.ndarray, sky: np.ndarray) -> Optional[np.ndarray]:
    """GrabCut seeded from the saliency map; None when no convincing subject stands out."""
    import cv2

    h, w = seeds.shape
    if float(seeds.max()) < 0.25:
        return None
    hi = np.percentile(seeds, 97)
    mid = np.percentile(seeds, 75)
    mask = np.full((h, w), cv2.GC_PR_BGD, np.uint8)
    # A subject is usually framed in the middle: the central ellipse starts as "probably subject" and
    # GrabCut's colour models decide (this lets a face the colour of the wall join the body below it).
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ellipse = ((xx - 0.5 * w) / (0.3 * w)) ** 2 + ((yy - 0.6 * h) / (0.45 * h)) ** 2 < 1.0
    mask[ellipse] = cv2.GC_PR_FGD
    mask[seeds >= max(mid, 0.2)] = cv2.GC_PR_FGD
    mask[(seeds >= max(hi, 0.4))] = cv2.GC_FGD
    bw = max(1, round(0.02 * min(h, w)))
    side = slice(0, int(0.6 * h))
    for strip in (mask[:bw], mask[side, :bw], mask[side, -bw:]):
        strip[strip != cv2.GC_FGD] = cv2.GC_BGD
    mask[sky] = cv2.GC_BGD
    if not (mask == cv2.GC_FGD).any() or not np.isin(mask, (cv2.GC_BGD, cv2.GC_PR_BGD)).any():
        return None
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(np.ascontiguousarray(small), mask, None, bgd, fgd, 4, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return None  # degenerate colour models (e.g. a flat image): no subject
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if n <= 1:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = []
    for i in 1 + np.flatnonzero(areas >= 0.25 * areas.max()):
        rows = (labels == i).sum(axis=1)
        rows = rows[rows > 0]
        # A band filling the frame's width row after row is ground or a wall seen against the sky,
        # not a subject standing in front of something.
        if (rows / w).mean() < 0.85:
            keep.append(i)
    fg = np.isin(labels, keep)
    frac = fg.mean()
    if not 0.02 <= frac <= 0.7:
        return None
    # A subject must stand out: its seed score well above the rest's.
    if seeds[fg].mean() < 1.8 * seeds[~fg].mean() + 0.05:
        return None
    return _fill_holes(fg)


def _fill_holes(fg: np.ndarray) -> np.ndarray:
    """Background regions enclosed by the subject (not touching the frame) are part of it."""
    import cv2

    h, w = fg.shape
    filled = fg.astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats((1 - filled).astype(np.uint8), connectivity=4)
    for i in range(1, n):
        x, y, cw, ch, _ = stats[i]
        if x > 0 and y > 0 and x + cw < w and y + ch < h:
            filled[labels == i] = 1
    return filled.astype(bool)


def _grow_in_focus(small: np.ndarray, subject: np.ndarray, focus: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """Add in-focus regions touching the subject (a face the colour of the wall above a bright body),
    and what lies between its parts in a column (a dark collar between face and suit); then let GrabCut
    trace the grown outline on the photo's colours."""
    import cv2

    h, w = subject.shape
    sharp = ((focus > 0.6) & ~sky).astype(np.uint8)
    n, labels = cv2.connectedComponents(sharp, connectivity=8)
    near = cv2.dilate(subject.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    grow = np.zeros_like(subject)
    for i in range(1, n):
        part = labels == i
        if (part & near).any() and (part & ~subject).sum() < subject.sum():
            grow |= part & ~subject
    if grow.sum() < 0.002 * h * w:
        return subject
    union = subject | grow
    between = np.maximum.accumulate(union, axis=0) & np.maximum.accumulate(union[::-1], axis=0)[::-1]
    mask = np.full((h, w), cv2.GC_BGD, np.uint8)
    band = cv2.dilate(between.astype(np.uint8), np.ones((15, 15), np.uint8)) > 0
    mask[band] = cv2.GC_PR_BGD
    mask[between] = cv2.GC_PR_FGD
    mask[cv2.erode(subject.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0] = cv2.GC_FGD
    mask[cv2.erode(grow.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0] = cv2.GC_FGD
    mask[sky] = cv2.GC_BGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    try:
        cv2.grabCut(np.ascontiguousarray(small), mask, None, bgd, fgd, 3, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return subject
    grown = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD) | subject).astype(np.uint8)
    # Close the seams where the parts meet.
    k = max(5, round(0.04 * max(h, w))) | 1
    grown = cv2.morphologyEx(grown, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    return _fill_holes(grown.astype(bool))


def fine_structure(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(h, w) float32 at ``size`` (w, h): how far (Lab) the photo's colours depart from their 3 px blur,
    measured at FINE_SIDE and averaged down. The bars of a lattice tower against the sky score 4-9; the
    sky 0-1 (its grain averages out)."""
    import cv2

    h, w = pixels.shape[:2]
    s = FINE_SIDE / max(h, w)
    img = pixels if s >= 1.0 else cv2.resize(pixels, (max(1, round(w * s)), max(1, round(h * s))),
                                             interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(img.astype(np.float32) * np.float32(1.0 / 255.0), cv2.COLOR_RGB2Lab)
    d = np.linalg.norm(lab - cv2.GaussianBlur(lab, (0, 0), 3.0), axis=2)
    return cv2.resize(d, size, interpolation=cv2.INTER_AREA).astype(np.float32)


def _attach_standing(subject: np.ndarray, sky: np.ndarray,
                     fine: Optional[Callable[[], np.ndarray]] = None) -> np.ndarray:
    """Parts standing in the sky that touch the subject belong to it (a rocket's nose cone in shadow, the
    gantry along its flank): left out, they would stay at the sky's depth and float off the subject. A
    part is a connected piece of what is neither sky nor subject above the horizon, no larger than
    ATTACH_SHARE of the subject (larger, it is something else standing there: a second tower).

    ``fine`` (called only when needed) gives :func:`fine_structure` at the working size; with it, a part
    standing on the horizon with the subject below its foot joins too (:func:`_attach_on_foot`)."""
    import cv2

    if not sky.any():
        return subject
    h, w = subject.shape
    horizon = int(_horizon_row(sky))
    widths = subject[:horizon].sum(axis=1)
    widths = widths[widths > 0]
    # Only a narrow thing standing in the sky (a rocket, a tower, a mast); around a head in front of a
    # bright backdrop what is neither is the backdrop's own rim, and stays behind. Narrow over most of its
    # height: a launch pad just above the horizon does not make a rocket wide.
    if widths.size == 0 or float(np.median(widths)) > STAND_NARROW * w:
        return subject
    standing = ~sky & ~subject
    standing[horizon:] = False
    # What stands in the sky right against the subject is part of it (the gantry along a rocket's flank, a
    # nose cone's shadowed tip), whatever it is connected to further away: the sky is grown up to the
    # outlines first (sky._grow_sky), so this is structure, not a band of backdrop.
    hug = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * ATTACH_HUG + 1, 2 * ATTACH_HUG + 1))
    subject = subject | (standing & (cv2.dilate(subject.astype(np.uint8), hug) > 0))
    standing &= ~subject
    _, labels, stats, _ = cv2.connectedComponentsWithStats(standing.astype(np.uint8), connectivity=8)
    touch = cv2.dilate(subject.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    hit = np.unique(labels[touch & standing])
    limit = ATTACH_SHARE * subject.sum()
    join = [i for i in hit if i > 0 and stats[i, cv2.CC_STAT_AREA] <= limit]
    out = subject | np.isin(labels, join)
    return out if fine is None else _attach_on_foot(out, sky, fine(), horizon, limit)


def _attach_on_foot(subject: np.ndarray, sky: np.ndarray, fine: np.ndarray, horizon: int,
                    limit: float) -> np.ndarray:
    """``subject`` joined by the parts standing on the horizon with the subject below their foot (a lattice
    tower on a launch pad: its lattice in the sky, its foot in GrabCut's subject or in the ground band
    between), each with its foot (:func:`_foot`, down to the bottom of the frame). Left out, such a tower
    broke at the horizon: its foot moved with the subject or the ground, its lattice with the sky.

    A part is a connected piece of what is neither sky nor subject above the horizon, the sky pixels that
    hold fine structure included (``fine`` >= FINE_DE: the lattice's bars, which the working size averages
    into the sky), no larger than ``limit`` pixels and not touching the subject (that is the subject's own
    outline, which :func:`_attach_standing` has decided)."""
    import cv2

    if horizon < 1:
        return subject
    structure = ~sky | (fine >= FINE_DE)
    standing = structure & ~subject
    standing[horizon:] = False
    _, labels, stats, _ = cv2.connectedComponentsWithStats(standing.astype(np.uint8), connectivity=8)
    foot_row = horizon - 1
    touch = cv2.dilate(subject.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    outline = set(np.unique(labels[touch & standing]).tolist())
    out = subject.copy()
    for i in np.unique(labels[foot_row][standing[foot_row]]):
        if i == 0 or i in outline or stats[i, cv2.CC_STAT_AREA] > limit:
            continue
        part = labels == i
        foot = _foot(part, foot_row)
        if (foot & subject).any():
            out |= part | (foot & structure)
    return out


def _foot(part: np.ndarray, foot_row: int) -> np.ndarray:
    """The columns ``part`` spans, carried from below ``foot_row`` to the bottom of the frame along lines
    fitted to its left and right sides over its lower half (a tower's legs spread as they go down)."""
    h, w = part.shape
    rows = np.flatnonzero(part.any(axis=1))
    top, bottom = int(rows[0]), int(rows[-1])
    rows = rows[rows >= (top + bottom) / 2]
    left = np.array([np.flatnonzero(part[y])[0] for y in rows], np.float32)
    right = np.array([np.flatnonzero(part[y])[-1] for y in rows], np.float32)
    out = np.zeros((h, w), bool)
    ys = np.arange(foot_row + 1, h)
    if len(rows) >= 2:
        lo = np.polyval(np.polyfit(rows, left, 1), ys)
        hi = np.polyval(np.polyfit(rows, right, 1), ys)
    else:
        lo, hi = np.full(ys.shape, left[0]), np.full(ys.shape, right[0])
    # Never narrower than the part at its foot row, never spreading faster than a leg at 45 degrees.
    lo = np.maximum(np.minimum(lo, left[-1]), left[-1] - (ys - foot_row))
    hi = np.minimum(np.maximum(hi, right[-1]), right[-1] + (ys - foot_row))
    xx = np.arange(w)[None, :]
    out[ys] = (xx >= np.round(lo)[:, None]) & (xx <= np.round(hi)[:, None])
    return out


def _is_closeup(subject: np.ndarray, lab: np.ndarray) -> bool:
    """A subject filling the frame, or a large one whose outline is not a clear colour edge. Either way
    its outline is where GrabCut is least sure (the subject's colours meet the backdrop's along a long
    border, or the cut runs through the subject itself), so a cut-out would put a ring inside it. The
    outline test makes the decision robust: GrabCut's area for the same photo moves by 0.1-0.15 with a
    JPEG re-encode (chelsea 0.47 -> 0.32, astronaut 0.44 -> 0.55), its outline's clarity hardly at all."""
    share = float(subject.mean())
    if share >= CLOSEUP_SHARE:
        return True
    return share >= CLOSEUP_WEAK_SHARE and _outline_clarity(subject, lab) < OUTLINE_CLEAR


def _outline_clarity(subject: np.ndarray, lab: np.ndarray) -> float:
    """Share of the subject's outline (the frame's edge left out) where the mean colours just inside and
    just outside (Gaussian windows of 3 px at the working size) are OUTLINE_DE or more apart in Lab."""
    import cv2

    m = subject.astype(np.float32)

    def side(weight):
        num = cv2.GaussianBlur(lab * weight[..., None], (0, 0), 3.0)
        return num / np.maximum(cv2.GaussianBlur(weight, (0, 0), 3.0), 1e-6)[..., None]

    inner, outer = side(m), side(1.0 - m)
    u8 = subject.astype(np.uint8)
    outline = (u8 > 0) & (cv2.erode(u8, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE) == 0)
    outline[[0, -1], :] = False
    outline[:, [0, -1]] = False
    if not outline.any():
        return 1.0
    return float((np.linalg.norm(inner - outer, axis=-1)[outline] >= OUTLINE_DE).mean())


def _place_subject(base: np.ndarray, subject: np.ndarray, closeup: bool = False) -> np.ndarray:
    """Put the subject in front of its surroundings and round it a little (centre nearer than rim)."""
    import cv2

    h, w = base.shape
    m = subject.astype(np.uint8)
    r = max(3, round(0.04 * max(h, w)))
    ring = (cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0) & ~subject
    around = float(np.percentile(base[ring], 90)) if ring.any() else float(base.max())
    front = min(max(around + 0.25, 0.7), 0.85)
    if closeup:
        return _place_closeup(base, subject, front)
    dist = cv2.distanceTransform(m, cv2.DIST_L2, 5)
    bulge = dist / (dist.max() + 1e-6)
    rel = base.copy()
    rel[subject] = front + 0.15 * np.sqrt(bulge[subject])
    return rel


def _place_closeup(base: np.ndarray, subject: np.ndarray, front: float) -> np.ndarray:
    """A subject that fills the frame (a face, a cat's head, a cup seen close) as one smooth, rounded
    surface: a dome over the subject's convex hull (which closes the bays GrabCut leaves where the
    subject's colours meet the backdrop's), blended into the backdrop over a wide soft rim. No step and no
    ring inside it; the depth refinement sharpens the rim only where the photo has a colour edge."""
    import cv2

    h, w = base.shape
    pts = cv2.findNonZero(subject.astype(np.uint8))
    hull = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(pts), 1)
    sigma = CLOSEUP_RIM * max(h, w)
    soft = cv2.GaussianBlur(hull.astype(np.float32), (0, 0), sigma)
    dist = cv2.distanceTransform(hull, cv2.DIST_L2, 5)
    dome = cv2.GaussianBlur(np.sqrt(dist / (dist.max() + 1e-6)), (0, 0), sigma)
    return (base * (1.0 - soft) + (front + 0.15 * dome) * soft).astype(np.float32)
