"""A depth estimator from image cues alone: no weights, no network, about a second for a 1080p photo.

It cannot know the scene the way a trained model does; it encodes the priors a photographer's picture
usually obeys, in the order they are applied:

1. **Sky** (smooth, bright, connected to the top edge) is the farthest thing in the picture.
2. **Ground plane**: lower in the frame is nearer (the horizon is far).
3. **Focus**: where the photo has both sharp and blurred parts, blurred is far (shallow depth of field).
   Blur is measured at edges as the gradient ratio under re-blurring (Zhuo & Sim 2011), which does not
   depend on how busy the texture is, then spread to the whole image by normalised convolution.
4. **Subject**: a salient region (colour far from the border's colours, near the centre, in focus)
   is cut out with GrabCut, grown by the in-focus parts that touch it (a face the colour of the wall
   behind it), and placed in front of what surrounds it, slightly rounded. Its outline is the
   occlusion edge of the map. Wide bands (ground against the sky) are not subjects. What of the cut-out
   looks like sky and joins the sky is sky (the sky test stops looking at SKY_LOWEST of the height, and
   a cut-out standing on the ground ran on up into the sky below that line). Parts standing in
   the sky that touch the subject (a nose cone in shadow, a gantry along a rocket) join it, so they
   keep its depth instead of floating off at the sky's; so do the parts right against a narrow
   subject (a gantry along a rocket's flank), and a thin structure standing on the horizon with the
   subject below its foot (a lattice tower on the launch pad, whose bars the working size averages into
   the sky: they are found as fine structure at a larger size), joined whole from its top to its foot.
   Around a cut-out subject the sky is first grown up to the outlines standing in it (its smoothness test
   leaves a band a few pixels wide around them).
5. **Edges**: the map, computed at a reduced size, is brought to the photo's size with a colour-guided
   filter (He et al. 2013, fast variant), so depth edges snap to the photo's colour edges. With a cut-out
   subject the filter decides which region (sky, rest, subject) each pixel belongs to, and the pixel takes
   that region's depth: filtering the depth itself left a ramp of in-between depth up to 20 px wide
   around a thin subject, which a layer cut turns into a ring sliding at its own speed. The outline's last
   pixel or two, which the working size leaves at the backdrop's depth (a collar's rim, a lit strut along a
   rocket), then join the subject at full size (:mod:`pipelines.depth.outline`); the general edge snap
   (:mod:`pipelines.depth.refine`) runs on everything else, not on that outline (its median rounded such a
   fringe back onto the backdrop).

Everything works on (H, W) float32 maps, 1 = near, 0 = far. The sky and ground cues are in
:mod:`pipelines.depth.sky`, the subject's cut-out, growth and placement in :mod:`pipelines.depth.subject`.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np

from pipelines.depth.outline import claim_fringe, working_sampler
from pipelines.depth.refine import snap_edges
from pipelines.depth.sky import _ground_prior, _grow_sky, _sky_mask, _sky_under_subject
from pipelines.depth.subject import (_attach_standing, _grow_in_focus, _is_closeup, _place_subject,
                                     _subject_mask, fine_structure)

#: Long side, in pixels, of the image the cues are computed on (speed; the guided filter restores edges).
WORK_SIDE = 320
#: Long side of the image the focus cue is measured on: blur shrinks with the image, so measure it larger.
FOCUS_SIDE = 720
#: Version of this algorithm; part of the depth cache key.
VERSION = "classical-10"


def estimate_relative(pixels: np.ndarray, progress: Optional[Callable[[float, str], None]] = None) -> np.ndarray:
    """Relative depth of an (H, W, 3) uint8 RGB photo: (H, W) float32 in [0, 1], 1 = near, 0 = far."""
    import cv2

    def step(frac: float, what: str) -> None:
        if progress is not None:
            progress(frac, what)

    # GrabCut and k-means draw from OpenCV's global RNG: seed it so a photo always gets the same depth.
    cv2.setRNGSeed(0)
    h, w = pixels.shape[:2]
    small = _resize_long(pixels, WORK_SIDE, cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    if min(sh, sw) < 16:
        # Too small for regions or blur to mean anything: the ground-plane prior alone.
        rel = np.repeat(np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None], w, axis=1)
        return rel
    rgb = small.astype(np.float32) / 255.0
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab)

    step(0.1, "sky")
    sky = _sky_mask(lab)
    step(0.2, "ground plane")
    ground = _ground_prior(sky)
    step(0.3, "focus")
    focus, focus_weight = _focus_map(pixels, (sw, sh))
    step(0.5, "subject")
    seeds = _saliency(lab, sky)
    if focus_weight > 0:
        seeds = np.maximum(seeds, focus_weight * focus)
    subject = _subject_mask(small, seeds, sky)
    if subject is not None and focus_weight > 0.2:
        subject = _grow_in_focus(small, subject, focus, sky)
    if subject is not None:
        sky, subject = _sky_under_subject(sky, subject, lab)
        if not subject.any():
            subject = None

    step(0.7, "compose")
    # Background: the ground plane, tilted toward what is in focus; compressed when a subject stands in
    # front of it (a portrait's backdrop is a wall far behind, not a floor running up to the lens).
    base = (1.0 - 0.6 * focus_weight) * ground + 0.6 * focus_weight * focus
    if subject is not None:
        base = 0.5 * base
    smooth = base.copy()
    closeup = subject is not None and _is_closeup(subject, lab)
    if subject is not None and not closeup:
        # The sky up to the outlines standing in it (no band of ground depth left around the subject).
        sky = _grow_sky(sky, lab, keep_out=subject)
        subject = _attach_standing(subject, sky, fine=lambda: fine_structure(pixels, (sw, sh)))
    base[sky] = 0.0
    rel = base
    if subject is not None:
        rel = _place_subject(base, subject, closeup=closeup)

    step(0.85, "edges")
    r = max(2, round(max(sh, sw) / 80))
    if subject is not None and not closeup:
        # A cut-out subject: each pixel takes the depth of one region (sky, rest, subject), so no ring of
        # in-between depth is left around the outline.
        out = _upsample_regions(pixels, rgb, rel, _regions(sky, subject), r=r)
        # The outline's last pixel or two, which the working size gives to the background, join the subject.
        out = claim_fringe(pixels, out, rgb, subject, _extend(rel, subject), _extend(rel, ~subject))
    else:
        # Only the steps (sky line, a close-up's rim) go through the edge-aware filter; the smooth slopes
        # are upsampled plainly, or the filter would print the photo's texture into them.
        rel = cv2.GaussianBlur(rel, (0, 0), 0.7)
        guide_full = pixels.astype(np.float32) / 255.0
        out = _guided_upsample(guide_full, rgb, rel - smooth, r=r, eps=1e-3)
        out += cv2.resize(smooth, (w, h), interpolation=cv2.INTER_LINEAR)
    out = np.clip(out, 0.0, 1.0)
    lo, hi = float(out.min()), float(out.max())
    if hi - lo > 1e-6:
        out = (out - lo) / (hi - lo)
    if not (subject is not None and not closeup):
        # Steps the guided filter left soft (the sky line, a close-up's rim) are snapped to the colour
        # edges as every estimator's are; a cut-out's outline was decided at full size above.
        out = snap_edges(out.astype(np.float32), pixels)
    step(1.0, "done")
    return out.astype(np.float32)


# -- cues ---------------------------------------------------------------------------------------------

def _resize_long(img: np.ndarray, side: int, interp: int) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    s = side / max(h, w)
    if s >= 1.0:
        return img
    return cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=interp)


def _focus_map(pixels: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, float]:
    """Dense sharpness in [0, 1] (1 = in focus) at ``size``, and how much to trust it (0..1).

    Trust is high only where the photo holds both sharp and clearly blurred edges."""
    import cv2

    img = _resize_long(pixels, FOCUS_SIDE, cv2.INTER_AREA)
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
    s0 = 1.0

    def grad(x):
        gx = cv2.Sobel(x, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(x, cv2.CV_32F, 0, 1, ksize=3)
        return np.sqrt(gx * gx + gy * gy)

    g1 = grad(gray)
    g2 = grad(cv2.GaussianBlur(gray, (0, 0), s0))
    edges = cv2.Canny((gray * 255).astype(np.uint8), 40, 100) > 0
    edges &= g2 > 0.05
    n_edges = int(edges.sum())
    out = np.full((size[1], size[0]), 0.5, np.float32)
    if n_edges < 50:
        return out, 0.0
    ratio = np.clip(g1[edges] / g2[edges], 1.0 + 1e-3, 50.0)
    sigma = s0 / np.sqrt(ratio * ratio - 1.0)  # blur of the edge, pixels at FOCUS_SIDE
    sigma = np.clip(sigma, 0.0, 8.0)
    sharp = np.clip((3.0 - sigma) / 2.5, 0.0, 1.0)  # sigma <= 0.5: sharp; >= 3: blurred
    sparse = np.zeros(gray.shape, np.float32)
    weight = np.zeros(gray.shape, np.float32)
    sparse[edges] = sharp
    weight[edges] = 1.0
    k = max(gray.shape) / 20.0
    num = cv2.GaussianBlur(sparse, (0, 0), k)
    den = cv2.GaussianBlur(weight, (0, 0), k)
    dense = num / np.maximum(den, 1e-6)
    # Where no edge is near (flat regions), lean to "blurred": flat areas in a photo with depth of
    # field are usually the out-of-focus background.
    conf = np.clip(den / (np.percentile(den, 90) + 1e-6), 0.0, 1.0)
    dense = conf * dense + (1.0 - conf) * np.minimum(dense, 0.3)
    lo, hi = np.percentile(sharp, 10), np.percentile(sharp, 90)
    # Both ends must be present: some edges sharp, some clearly blurred.
    trust = float(np.clip((hi - lo - 0.3) / 0.4, 0.0, 1.0))
    dense = cv2.resize(dense, size, interpolation=cv2.INTER_AREA)
    return dense.astype(np.float32), trust


def _saliency(lab: np.ndarray, sky: np.ndarray) -> np.ndarray:
    """How unlike the border (background) colours each pixel is, times a centre prior; [0, 1]."""
    import cv2

    h, w = lab.shape[:2]
    sm = cv2.GaussianBlur(lab, (0, 0), 2.0)
    bw = max(2, round(0.05 * min(h, w)))
    # The bottom edge is left out: subjects (people, objects on a table) often stand on it.
    border = np.concatenate([
        sm[:bw].reshape(-1, 3),
        sm[: int(0.7 * h), :bw].reshape(-1, 3),
        sm[: int(0.7 * h), -bw:].reshape(-1, 3),
    ])
    k = min(8, len(border))
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    _, _, centres = cv2.kmeans(border.astype(np.float32), k, None, crit, 2, cv2.KMEANS_PP_CENTERS)
    flat = sm.reshape(-1, 3)
    d = np.full(flat.shape[0], np.inf, np.float32)
    for c in centres:
        d = np.minimum(d, np.linalg.norm(flat - c, axis=1))
    d = d.reshape(h, w)
    d = d / (np.percentile(d, 99) + 1e-6)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    centre = np.exp(-(((xx - 0.5 * w) / (0.35 * w)) ** 2 + ((yy - 0.55 * h) / (0.4 * h)) ** 2) / 2)
    sal = np.clip(d, 0.0, 1.0) * (0.3 + 0.7 * centre)
    sal[sky] = 0.0
    return sal.astype(np.float32)


# -- edge-aware filtering -----------------------------------------------------------------------------

def _box(x: np.ndarray, r: int) -> np.ndarray:
    import cv2

    return cv2.boxFilter(x, -1, (2 * r + 1, 2 * r + 1), normalize=True, borderType=cv2.BORDER_REFLECT)


def guided_coefficients(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """Colour guided filter (He, Sun & Tang 2013): per-pixel linear model ``q = a . I + b``.

    guide: (h, w, 3) float32 in [0, 1]; src: (h, w) float32, or (h, w, k) for k sources filtered at once.
    Returns a (h, w, 3) and b (h, w), box-averaged; (h, w, 3, k) and (h, w, k) for k sources.
    """
    I = guide.astype(np.float32)
    p = src.astype(np.float32)
    single = p.ndim == 2
    if single:
        p = p[..., None]
    mI = _box(I, r)
    mp = _box(p, r).reshape(p.shape)
    mIp = np.stack([_box(I * p[:, :, k:k + 1], r) for k in range(p.shape[2])], axis=-1)
    cov_Ip = mIp - mI[..., None] * mp[:, :, None, :]
    # Per-pixel 3x3 covariance of the guide, regularised by eps.
    var = np.empty(I.shape[:2] + (3, 3), np.float32)
    for i in range(3):
        for j in range(i, 3):
            v = _box(I[:, :, i] * I[:, :, j], r) - mI[:, :, i] * mI[:, :, j]
            var[:, :, i, j] = var[:, :, j, i] = v
    var += eps * np.eye(3, dtype=np.float32)
    a = np.linalg.solve(var, cov_Ip)
    b = mp - np.einsum("hwck,hwc->hwk", a, mI)
    a = np.stack([_box(np.ascontiguousarray(a[..., k]), r) for k in range(a.shape[-1])], axis=-1)
    b = _box(b, r).reshape(b.shape)
    return (a[..., 0], b[..., 0]) if single else (a, b)


def _guided_upsample(guide_full: np.ndarray, guide_small: np.ndarray, src_small: np.ndarray,
                     r: int, eps: float) -> np.ndarray:
    """Fast guided filter: fit the linear model at low resolution, apply it with the full-size guide."""
    import cv2

    a, b = guided_coefficients(guide_small, src_small, r, eps)
    H, W = guide_full.shape[:2]
    if (H, W) != a.shape[:2]:
        a = cv2.resize(a, (W, H), interpolation=cv2.INTER_LINEAR)
        b = cv2.resize(b, (W, H), interpolation=cv2.INTER_LINEAR)
    return (np.einsum("hwc,hwc->hw", a, guide_full) + b).astype(np.float32)


# -- upsampling by regions --------------------------------------------------------------------------------

#: How sharply a pixel near an outline goes to one region: the weights are a softmax of the regions'
#: guided-filter coverage times this (coverages 0.1 apart give weights about 10:1 at 12).
REGION_SHARPNESS = 12.0
#: Coverage within this of 0 or 1 at the working size counts as decided (see _upsample_regions).
REGION_SURE = 0.02


def _regions(sky: np.ndarray, subject: Optional[np.ndarray]) -> np.ndarray:
    """(h, w) uint8 region index at the working size: 0 the sky, 1 the rest, 2 the subject (a cut-out; a
    close-up is one smooth surface and stays in the rest)."""
    out = np.ones(sky.shape, np.uint8)
    out[sky] = 0
    if subject is not None:
        out[subject] = 2
    return out


def _extend(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``values`` (h, w) float32 kept on ``mask`` and carried smoothly past it (normalised convolution near
    it, the nearest pixel's value further off), so a region's depth is defined beyond its outline."""
    import cv2

    m = mask.astype(np.float32)
    num = cv2.GaussianBlur(values * m, (0, 0), 2.0)
    den = cv2.GaussianBlur(m, (0, 0), 2.0)
    near = den > 1e-3
    out = np.where(mask, values, num / np.maximum(den, 1e-3)).astype(np.float32)
    if not near.all():
        _, labels = cv2.distanceTransformWithLabels((~near).astype(np.uint8), cv2.DIST_L2, 3,
                                                    labelType=cv2.DIST_LABEL_PIXEL)
        seeds = out[near]  # label i (1-based) is the i-th reached pixel in raster order
        far = ~near
        out[far] = seeds[labels[far] - 1]
    return out


def _upsample_regions(pixels: np.ndarray, rgb: np.ndarray, rel: np.ndarray, regions: np.ndarray,
                      r: int) -> np.ndarray:
    """``rel`` (h, w) at the working size, brought to the size of ``pixels`` (H, W, 3) uint8 by regions.

    Each region's depth (smooth inside it, carried past its outline) is upsampled plainly; which region a
    full-size pixel takes comes from a colour-guided filter of the region masks (He et al. 2013, fast
    variant: depth edges snap to the photo's colour edges), made decisive by a softmax. A guided filter of
    the depth itself leaves a ring of in-between depth around a subject wherever the photo's colours do not
    explain the step (a thin rocket against an even sky: a ramp 20 px wide), and a layer cut turns that
    ring into a sliver that slides at its own speed; here a pixel is one region's or the other's, with at
    most a pixel or two of blend."""
    import cv2

    H, W = pixels.shape[:2]
    h, w = regions.shape
    rel = rel.astype(np.float32)
    out = cv2.resize(rel, (W, H), interpolation=cv2.INTER_LINEAR)
    present = [i for i in range(3) if (regions == i).any()]
    if len(present) == 1:
        return out
    # The masks sum to one and the filter is linear: the first region's coverage is one minus the others'.
    masks = np.dstack([cv2.GaussianBlur((regions == i).astype(np.float32), (0, 0), 0.7) for i in present[1:]])
    a, b = guided_coefficients(rgb, masks, r, eps=1e-3)
    # Where one region covers a working pixel all but fully (within REGION_SURE), the softmax gives that
    # region's depth, which the plain upsample has: only the pixels near an outline are decided at full
    # size (a fifth to a third of them on a portrait).
    cover = np.einsum("hwck,hwc->hwk", a, rgb) + b
    cover = np.dstack([1.0 - cover.sum(axis=2), cover])
    undecided = ((cover > REGION_SURE) & (cover < 1.0 - REGION_SURE)).any(axis=2)
    band = cv2.dilate(undecided.astype(np.uint8), np.ones((3, 3), np.uint8))
    idx = np.flatnonzero(cv2.resize(band, (W, H), interpolation=cv2.INTER_NEAREST))
    if idx.size == 0:
        return out
    ys, xs = np.divmod(idx, W)
    # Bilinear samples of the working-size maps at those pixels, as cv2.resize takes them.
    sample = working_sampler(xs, ys, (h, w), (H, W))
    g = [np.ascontiguousarray(c).astype(np.float32) * np.float32(1.0 / 255.0)
         for c in pixels.reshape(-1, 3)[idx].T]
    covers = []
    for j in range(len(present) - 1):
        a0, a1, a2, b0 = sample(np.dstack([a[:, :, :, j], b[:, :, j]])).T
        covers.append(a0 * g[0] + a1 * g[1] + a2 * g[2] + b0)
    covers.insert(0, 1.0 - sum(covers))
    values = sample(np.dstack([_extend(rel, regions == i) for i in present])).T
    num = np.zeros(idx.size, np.float32)
    den = np.zeros(idx.size, np.float32)
    for cover, value in zip(covers, values):
        weight = np.exp(REGION_SHARPNESS * (np.clip(cover, 0.0, 1.0) - 1.0))
        num += weight * value
        den += weight
    out.ravel()[idx] = num / den
    return out
