"""A cut-out subject's outline at full size: the fringe the working size misses joins the subject.

The classical estimator decides its regions (sky, rest, subject) at 320 px and brings them to the photo's
size with a colour-guided filter (:func:`pipelines.depth.classical._upsample_regions`). One working pixel
is several photo pixels, so the outline's own last pixel or two (a collar's bright rim, the lit strut along
a rocket's flank, a strand of hair) often comes out at the depth behind. There it stays still while the
subject moves: the outline is split in two, and the strut floats in the sky. So, at full size, a pixel
within a working pixel of the subject whose colour clearly matches the subject's colour near it, and not
the background's, joins the subject (taking its depth), growing outward one pixel at a time so only what
touches the subject joins.
"""
from __future__ import annotations

import numpy as np

#: A pixel joins when its colour is this much closer (a factor of distance) to the subject's local colour
#: than to the background's, and the two local colours differ by at least FRINGE_CONTRAST (RGB in [0, 1]).
FRINGE_MARGIN = 0.6
FRINGE_CONTRAST = 0.1
#: Brightness gradient (levels per pixel) of the colour edge an outline snaps out to.
FRINGE_EDGE = 10.0
#: How far (working pixels) past the working size's outline a pixel may join the subject.
FRINGE_REACH = 1.0
#: Width (working pixels) of the local colour means; the background's is taken this far from the subject.
FRINGE_SIGMA = 2.0


def working_sampler(xs: np.ndarray, ys: np.ndarray, working: tuple[int, int], full: tuple[int, int]):
    """``sample(stack) -> (n, c) float32``: maps at the ``working`` size (h, w) (a (h, w) or (h, w, c <= 4)
    stack) sampled bilinearly at the ``full``-size (H, W) pixels (``xs``, ``ys``), pixel centres as cv2.resize
    takes them. (OpenCV's remap takes maps under 32767 rows: the pixels go in rows of 1024.)"""
    import cv2

    (h, w), (H, W) = working, full
    n, cols = xs.size, 1024
    rows = -(-n // cols)

    def grid(v):
        return np.pad(v.astype(np.float32), (0, rows * cols - n)).reshape(rows, cols)

    mx, my = grid((xs + 0.5) * (w / W) - 0.5), grid((ys + 0.5) * (h / H) - 0.5)

    def sample(stack: np.ndarray) -> np.ndarray:
        got = cv2.remap(np.ascontiguousarray(stack, dtype=np.float32), mx, my, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE)
        return got.reshape(rows * cols, -1)[:n]

    return sample


def claim_fringe(pixels: np.ndarray, out: np.ndarray, rgb: np.ndarray, subject: np.ndarray,
                 subject_rel: np.ndarray, other_rel: np.ndarray) -> np.ndarray:
    """``out`` (H, W) float32 full-size relative depth with the subject's fringe joined to it.

    pixels: (H, W, 3) uint8 photo. rgb: (h, w, 3) float32 in [0, 1], the photo at the working size;
    subject: (h, w) bool there. subject_rel, other_rel: (h, w) float32, the subject's depth and the rest's,
    each defined everywhere (carried past its outline). Returns a new array; ``out`` is not changed.
    """
    import cv2

    H, W = out.shape
    h, w = subject.shape
    if not subject.any() or subject.all():
        return out
    reach = max(2, int(np.ceil(FRINGE_REACH * max(H, W) / max(h, w))))  # in working pixels, at least 2 px
    s_val = cv2.resize(subject_rel, (W, H), interpolation=cv2.INTER_LINEAR)
    o_val = cv2.resize(other_rel, (W, H), interpolation=cv2.INTER_LINEAR)
    inside = np.abs(out - s_val) < np.abs(out - o_val)
    box = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
    cand = (cv2.dilate(inside.astype(np.uint8), box) > 0) & ~inside
    ys, xs = np.nonzero(cand)
    if ys.size == 0:
        return out
    # Local colour means at the working size: the subject's, and the background's away from the outline
    # (its pixels next to the subject carry the fringe this looks for).
    subj = subject.astype(np.float32)
    away = (cv2.erode((~subject).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0).astype(np.float32)

    def mean(mask):
        num = cv2.GaussianBlur(rgb * mask[..., None], (0, 0), FRINGE_SIGMA)
        den = cv2.GaussianBlur(mask, (0, 0), FRINGE_SIGMA)
        return num / np.maximum(den, 1e-4)[..., None], den

    m_s, n_s = mean(subj)
    m_o, n_o = mean(away)
    sample = working_sampler(xs, ys, (h, w), (H, W))
    got = np.hstack([sample(np.dstack([m, n])) for m, n in ((m_s, n_s), (m_o, n_o))])
    c = pixels[ys, xs].astype(np.float32) / 255.0
    d_s = np.linalg.norm(c - got[:, :3], axis=1)
    d_o = np.linalg.norm(c - got[:, 4:7], axis=1)
    contrast = np.linalg.norm(got[:, :3] - got[:, 4:7], axis=1)
    # Both means need pixels of their own nearby (a tenth of the window's weight).
    ok = (d_s < FRINGE_MARGIN * d_o) & (contrast > FRINGE_CONTRAST) & (got[:, 3] > 0.1) & (got[:, 7] > 0.1)
    match = np.zeros((H, W), bool)
    match[ys[ok], xs[ok]] = True
    background = np.zeros((H, W), bool)  # clearly the background's colour
    background[ys, xs] = d_o < FRINGE_MARGIN * d_s
    # Grow from the subject one pixel at a time through matching pixels: only what touches it joins.
    cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
    joined = inside.astype(np.uint8)
    m8 = match.astype(np.uint8)
    for _ in range(reach):
        grown = cv2.dilate(joined, cross) & (m8 | joined)
        if np.array_equal(grown, joined):
            break
        joined = grown
    add = (joined > 0) & ~inside
    # The outline's own colour edge: where a strong edge runs just outside the subject, the pixels up to
    # its far side are the subject's, unless clearly the background's colour (a collar's rim the colour
    # of the wall behind it, whose dark outline and highlight the working size left at the wall's depth).
    y0, y1 = max(0, ys.min() - 1), min(H, ys.max() + 2)
    x0, x1 = max(0, xs.min() - 1), min(W, xs.max() + 2)
    gray = cv2.cvtColor(pixels[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).astype(np.float32)
    grad = cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)) / 8.0
    dist = cv2.distanceTransform((~inside[y0:y1, x0:x1]).astype(np.uint8), cv2.DIST_L2, 3)
    band = cand[y0:y1, x0:x1] & (dist <= reach)
    strong = band & (grad > FRINGE_EDGE)
    far_edge = cv2.dilate(np.where(strong, dist, 0.0).astype(np.float32), box)
    add[y0:y1, x0:x1] |= band & (dist <= far_edge) & ~background[y0:y1, x0:x1]
    if not add.any():
        return out
    res = out.copy()
    res[add] = s_val[add]
    return res
