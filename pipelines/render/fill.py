"""Textured fill of what a layer hides: colour for the background a moving camera reveals behind an edge.

A revealed strip lies right behind a foreground silhouette, and the texture most likely to continue
there is the layer's own background just outside that silhouette. So the fill is exemplar-based, with
the exemplar chosen by geometry instead of by a patch search: every hidden pixel within ``reach`` of the
silhouette copies the known pixel mirrored across the nearest point of the layer's visible background
(p -> 2n - p). Mirroring keeps texture at full resolution (grain, wood, fur), and a line that meets the
edge (a horizon, a table edge, a wall line) runs on across the fill at the same height instead of
stopping in a blur. Deeper pixels, whose mirror image falls on something that is not this layer's
background, are filled in further passes from the pixels already filled; what is left beyond ``reach``
(never seen along the camera path) gets a cheap smooth blend.

What is mirrored is the background's *texture* (its colour minus a local mean over the source pixels,
``DETAIL_SIGMA``), laid over a smooth continuation of that mean into the hole. A mirrored copy of the colour
itself turns every gradient around at the edge: under a sky that darkens upwards, the strip below a
rocket's nose copied the darker sky above it, and where the copies from the two sides of a post met they
left a step (10-15 levels on the rocket photo). The smooth base runs a gradient on instead, and textures
copied from two sides meet without a step, since each is zero-mean.

Why not a PatchMatch search (PyPatchMatch): on this project's 2-core machines it costs 3-4 s per layer
at 1.6 MP (notes, section G), well past the 1 s a scene build may grow by; the mirrored copy costs a
distance transform and a gather per layer and pass, and copies the background's own grain. It has no
randomness: the same inputs give the same fill, byte for byte.

Which background continues behind an edge is decided per surface (``groups``: the depth layer of each
source pixel). A layer's hidden region can border several surfaces at once: behind the astronaut's
shoulder, layer 1 meets both the far wall (layer 0) and the black stand of a model rocket (layer 1). Mixed
together, the stand's dark colour was averaged into the wall's smooth base and its outline mirrored into
the wall, as blocky, streaky dark wedges with hard seams between copies. Each hidden pixel takes the
surface of its nearest source pixel, and its base and its texture come from that surface's pixels only:
the wall runs on as wall, the stand as stand, and where they meet the line between them runs on.

Only pixels of ``source`` are ever copied or averaged, so foreground texture and colour never land in the
background.
"""
from __future__ import annotations

from typing import Optional

import cv2
import numpy as np

#: Passes of mirrored copying before what remains falls back to a smooth blend.
PASSES = 3
#: Scale of the reduced image the smooth base (and the blend outside the reach) is computed on.
BLEND_SCALE = 4
#: Gaussian sigma (pixels) of the local mean that splits the background into a smooth base, continued
#: into the hole, and its texture, mirrored. Smaller follows a gradient more closely but mixes a
#: structured background's colours (a flag's stripes) into the base; 16 px keeps the stripes and a line's
#: profile and still runs on a sky's gradient across a 40-px post (tests/render/test_fill.py).
DETAIL_SIGMA = 16.0


def reflect_fill(rgb: np.ndarray, hidden: np.ndarray, source: np.ndarray, reach: int,
                 groups: Optional[np.ndarray] = None) -> tuple[np.ndarray, np.ndarray]:
    """Colour for the ``hidden`` pixels of ``rgb``: texture copied, mirrored, from ``source`` pixels over a
    smooth continuation of their colour.

    rgb: (H, W, 3) uint8. hidden, source: (H, W) bool, disjoint; source must not be empty.
    reach: pixels from the edge of ``hidden`` that get texture (the camera path's largest parallax shift).
    groups: optional (H, W) integer surface of each pixel (read on ``source`` only; a scene passes its
        depth layers). Each hidden pixel is filled from the surface of its nearest source pixel alone;
        None: one surface.
    Returns (colour (H, W, 3) uint8 equal to ``rgb`` outside ``hidden``, textured (H, W) bool: the hidden
    pixels that received copied texture; the rest of ``hidden`` holds a smooth blend).
    """
    h, w = hidden.shape
    if rgb.shape != (h, w, 3) or rgb.dtype != np.uint8 or source.shape != (h, w):
        raise ValueError(f"reflect_fill wants rgb (H, W, 3) uint8 and (H, W) masks, got {rgb.shape} {rgb.dtype}, "
                         f"{hidden.shape}, {source.shape}")
    if not source.any():
        raise ValueError("reflect_fill needs at least one source pixel")
    if groups is not None:
        if groups.shape != (h, w) or groups.dtype.kind not in "iu":
            raise ValueError(f"reflect_fill wants groups as an (H, W) integer map, got {groups.shape} {groups.dtype}")
        # Surfaces are numbered 0..n-1 among the source pixels; one surface is the plain fill.
        counts = np.bincount(groups[source].ravel())
        present = np.flatnonzero(counts)
        if present.size < 2:
            groups = None
        else:
            lut = np.full(max(counts.size, int(groups.max()) + 1), -1, np.int32)
            lut[present] = np.arange(present.size, dtype=np.int32)
            groups = lut[groups]
    # Which source pixel each filled pixel copies (flat index; -1 = none yet).
    index = np.where(source.ravel(), np.arange(h * w, dtype=np.int32), -1).reshape(h, w)
    known = source.copy()
    # The surface each pixel belongs to: its own on the source, its nearest source pixel's once a pass has
    # reached it (-1 = not yet).
    surface = None if groups is None else np.where(source, groups, -1).astype(np.int32)
    # The band worth texturing: hidden pixels within reach of anything that is not hidden.
    dist_in = cv2.distanceTransform(hidden.astype(np.uint8), cv2.DIST_L2, 3)
    todo = hidden & (dist_in <= reach + 1)
    textured = np.zeros((h, w), bool)
    for _ in range(PASSES):
        if not todo.any():
            break
        done = _mirror_pass(index, known, todo, reach, surface)
        textured |= done
        known |= done
        todo &= ~done
    # Colour: the smooth base, plus on the textured pixels the texture at their source pixel (its colour
    # minus the base there).
    colour, surfaces = _smooth_base(rgb, source, groups)
    at = np.flatnonzero(textured)
    if at.size:
        src = index.ravel()[at]
        texture = np.take(rgb.reshape(-1, 3), src, axis=0).astype(np.float32)
        if surfaces is None:
            texture -= np.take(colour.reshape(-1, 3), src, axis=0)
            colour.reshape(-1, 3)[at] += texture
        else:
            # Both ends on the surface the pixel copies from: where two surfaces share a reduced cell, the
            # blended base there would add one surface's colour to the other's texture.
            full = _upsample(surfaces, w, h)
            g = surface.ravel()[at].astype(np.int64) * (h * w)
            texture -= np.take(full, g + src, axis=0)
            colour.reshape(-1, 3)[at] = np.take(full, g + at, axis=0) + texture
    np.clip(colour, 0, 255, out=colour)
    out = rgb.copy()
    np.copyto(out, cv2.convertScaleAbs(colour), where=hidden[..., None])  # rounded (no abs: clipped above)
    return out, textured


def _mirror_pass(index: np.ndarray, known: np.ndarray, todo: np.ndarray, reach: int,
                 surface: Optional[np.ndarray] = None) -> np.ndarray:
    """Give the ``todo`` pixels whose mirror image across their nearest ``known`` pixel is known that
    image's source index; ``index`` in place. Returns the mask of pixels given one.

    surface: None, or each pixel's surface (-1 = unknown), in place: a todo pixel without one takes its
    nearest known pixel's (on the first pass, its nearest source pixel's), and takes a mirror image only
    from the same surface."""
    h, w = known.shape
    # Work on the bounding box of what is to do, grown by the reach: the distance transform is the cost.
    ys, xs = np.nonzero(todo)
    m = 2 * reach + 4
    y0, y1 = max(0, ys.min() - m), min(h, ys.max() + m + 1)
    x0, x1 = max(0, xs.min() - m), min(w, xs.max() + m + 1)
    kn = known[y0:y1, x0:x1]
    if not kn.any():
        return np.zeros((h, w), bool)
    td = todo[y0:y1, x0:x1]
    bh, bw = kn.shape
    _, labels = cv2.distanceTransformWithLabels((~kn).astype(np.uint8), cv2.DIST_L2, 5,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    seeds = np.flatnonzero(kn.ravel())  # label i (1-based) is the i-th known pixel in raster order
    ty, tx = np.nonzero(td)
    near = seeds[labels[ty, tx] - 1]
    ny, nx = near // bw, near % bw
    sy, sx = 2 * ny - ty, 2 * nx - tx
    ok = (sy >= 0) & (sy < bh) & (sx >= 0) & (sx < bw)
    ok[ok] = kn[sy[ok], sx[ok]]
    if surface is not None:
        sf = surface[y0:y1, x0:x1]
        mine = sf[ty, tx]
        new = mine < 0
        mine[new] = sf[ny[new], nx[new]]
        sf[ty, tx] = mine
        ok[ok] = sf[sy[ok], sx[ok]] == mine[ok]
    region = index[y0:y1, x0:x1]
    region[ty[ok], tx[ok]] = region[sy[ok], sx[ok]]
    done = np.zeros((h, w), bool)
    done[y0 + ty[ok], x0 + tx[ok]] = True
    return done


def _smooth_base(rgb: np.ndarray, source: np.ndarray,
                 groups: Optional[np.ndarray] = None) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """(H, W, 3) float32: the local mean of the ``source`` pixels (a Gaussian of ``DETAIL_SIGMA`` over
    them only), continued by a pull-push blend of the whole source where that mean has too few pixels.
    Computed at 1/BLEND_SCALE size and upsampled: it is smooth at that scale anyway, and at full size the
    wide Gaussian cost 0.5-0.9 s per layer at 1080p.

    groups: None, or (H, W) int32 surfaces 0..n-1 (read on ``source``): each surface's mean is taken over
    its own pixels only, and each pixel gets the mean of the surface that covers most of its cell, or
    outside the source, of its nearest source cell.
    Returns (the mean, and with ``groups`` each surface's own mean at the reduced size (n, h', w', 3)
    for :func:`_upsample`; else None)."""
    h, w = source.shape
    size = (max(2, w // BLEND_SCALE), max(2, h // BLEND_SCALE))
    if groups is None:
        return cv2.resize(_small_base(rgb, source, size), (w, h), interpolation=cv2.INTER_LINEAR), None
    n = int(groups[source].max()) + 1
    bases, cover = [], []
    for g in range(n):
        mine = source & (groups == g)
        bases.append(_small_base(rgb, mine, size))
        cover.append(cv2.resize(mine.astype(np.float32), size, interpolation=cv2.INTER_AREA))
    cover = np.stack(cover)
    owner = cover.argmax(0)
    seen = cover.max(0) > 0
    if not seen.all():
        # Cells without a source pixel belong to the surface of their nearest cell with one.
        _, lab = cv2.distanceTransformWithLabels((~seen).astype(np.uint8), cv2.DIST_L2, 5,
                                                 labelType=cv2.DIST_LABEL_PIXEL)
        owner = owner.ravel()[np.flatnonzero(seen.ravel())][lab - 1]
    bases = np.stack(bases)
    small = np.take_along_axis(bases, owner[None, ..., None], 0)[0]
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), bases


def _upsample(bases: np.ndarray, w: int, h: int) -> np.ndarray:
    """(n * h * w, 3) float32: each surface's reduced mean upsampled to (w, h) as the single-surface base
    is, surface after surface (surface g's pixel i at row g * h * w + i)."""
    full = np.empty((len(bases), h, w, 3), np.float32)
    for g, small in enumerate(bases):
        cv2.resize(small, (w, h), dst=full[g], interpolation=cv2.INTER_LINEAR)
    return full.reshape(-1, 3)


def _small_base(rgb: np.ndarray, source: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(size[1], size[0], 3) float32: :func:`_smooth_base` for one surface, at the reduced ``size``."""
    from pipelines.render.scene import _push_pull

    w = source.shape[1]
    k = source.astype(np.uint8)
    vw = cv2.resize(cv2.bitwise_and(rgb, rgb, mask=k), size, interpolation=cv2.INTER_AREA).astype(np.float32)
    ww = cv2.resize(k.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    sigma = DETAIL_SIGMA * size[0] / w
    num = cv2.GaussianBlur(vw, (0, 0), sigma)
    den = cv2.GaussianBlur(ww, (0, 0), sigma)
    small = num / np.maximum(den, 1e-6)[..., None]
    # Where the source's own mean is thin (in the hole, or among pixels that are not sources), the blend
    # of the whole source takes over.
    trust = np.clip(4.0 * den, 0.0, 1.0)[..., None]
    if trust.min() < 1.0:
        trusted = ww > 0.25 if (ww > 0.25).any() else ww > 0
        far = _push_pull(vw / np.maximum(ww, 1e-6)[..., None], trusted).astype(np.float32)
        small = small * trust + far * (1.0 - trust)
    return small
