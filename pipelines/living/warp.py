"""A living photo seen by a moving camera: the regions move inside the renderer's own resample.

For every layer the renderer finds, on a coarse grid of output pixels, the photo pixel each output ray hits
(``nodes``, photo coordinates), upsamples that map and resamples the layer there (:mod:`pipelines.render.parallax`).
A living photo's frame samples the photo at y + offset (:class:`~pipelines.living.animate.FrameFields`), so the
two compose: each node moves by the offset found at its photo pixel, and the layer is resampled once, at the
composed positions. No texture is built and no layer copied per frame; a flowing region costs one more
resample (the second term of the symmetric blend) over the output rectangle it covers, sway and ripple none.

Exactness: the offsets are multiplied by a gate that is 0 at every node within ``margin`` photo pixels of a
still pixel (outside the masks, or black in them) and rises smoothly further in. ``margin`` is the nodes'
spacing in the photo (plus the bilinear footprint), so an output pixel whose source is still has four
neighbouring nodes with no offset: its composed position is its static one, bit for bit, and it equals the
camera-only take. Inside, each layer's texture (and a near layer's silhouette) moves within the regions,
so occlusion stays right.
"""
from __future__ import annotations

import math
from typing import Optional

import cv2
import numpy as np

from pipelines.living.animate import FrameFields, LivingPhoto
from pipelines.living.blend import blend_keep_contrast


def upsample_rect(grid, nodes: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
    """``grid.upsample(nodes, ...)`` cropped to ``rect`` (x0, y0, x1, y1, output pixels), computed from the
    nodes around the rectangle only: the same bilinear weights, up to float rounding (none at all when the
    step is a power of two: then OpenCV's weights are exact binary fractions, tests/living checks it)."""
    s = grid.step
    x0, y0, x1, y1 = rect

    def span(a, b, count):
        # Output pixel x sits at node coordinate (x + s + 1/2) / s - 1/2 of the full upsample.
        lo = max(0, int(math.floor((a + s + 0.5) / s - 0.5)) - 1)
        hi = min(count, int(math.floor((b - 1 + s + 0.5) / s - 0.5)) + 3)
        return lo, hi

    j0, j1 = span(x0, x1, grid.nx)
    i0, i1 = span(y0, y1, grid.ny)
    block = np.ascontiguousarray(nodes[i0:i1, j0:j1])
    up = cv2.resize(block, ((j1 - j0) * s, (i1 - i0) * s), interpolation=cv2.INTER_LINEAR)
    return up[y0 + s - i0 * s:y1 + s - i0 * s, x0 + s - j0 * s:x1 + s - j0 * s]


class MovingLayers:
    """The renderer's per-frame hook for a living photo along a camera path (``parallax.iter_frames(...,
    moving=MovingLayers(living, scene))``): ``self(i)`` gives frame i's resampler, or None when nothing moves."""

    def __init__(self, living: LivingPhoto, scene):
        self.living = living
        self.box = living.box
        self._blurred: dict[int, np.ndarray] = {}
        if self.box is None:
            return
        # The farthest layer's colour, contiguous: OpenCV resamples a strided RGB view of the RGBA array at
        # half speed.
        self._colour0 = np.ascontiguousarray(scene.layers[0].rgba[..., :3])
        x0, y0, x1, y1 = self.box
        # Distance (photo pixels) to the nearest still pixel, over the box with a still border around it.
        support = np.zeros((y1 - y0 + 2, x1 - x0 + 2), np.uint8)
        support[1:-1, 1:-1] = living.support[y0:y1, x0:x1]
        self._dist = cv2.distanceTransform(support, cv2.DIST_L2, 5)
        # Where each nearer layer is present (alpha > 0, a few pixels grown), over the box at a quarter of its
        # size: its second term and blend are computed there only (it is transparent elsewhere).
        self._present: dict[int, np.ndarray] = {}
        small = (max(2, (x1 - x0) // 4), max(2, (y1 - y0) // 4))
        for k, layer in enumerate(scene.layers[1:], start=1):
            alpha = layer.rgba[y0:y1, x0:x1, 3]
            self._present[k] = cv2.resize(cv2.dilate(alpha, np.ones((9, 9), np.uint8)), small,
                                          interpolation=cv2.INTER_AREA)
        if living.dissolve_map is not None:
            # What a rising region dissolves towards, per layer (built once; the threads only read it).
            for k, layer in enumerate(scene.layers):
                src = layer.rgba if k > 0 else self._colour0
                self._blurred[k] = cv2.GaussianBlur(src, (0, 0), living.blur_sigma)

    def __call__(self, i: int) -> Optional["_FrameResample"]:
        if self.box is None:
            return None
        fields = self.living.fields(i % self.living.num_frames)
        if fields.back is None:
            return None
        return _FrameResample(self, fields)


class _FrameResample:
    """One frame's resampler: ``self(k, src, nodes, grid, roi, border)`` is layer k's warped pixels over
    ``roi`` with the regions moved (what ``cv2.remap`` of ``src`` at the upsampled ``nodes`` gives, where
    nothing moves), or None when no node of this layer sees a moving pixel."""

    def __init__(self, owner: MovingLayers, fields: FrameFields):
        self.owner = owner
        self.fields = fields

    def _gate(self, nodes: np.ndarray):
        """Per node: 0 within ``margin`` of a still pixel, rising smoothly to 1 over the next ``margin``;
        with the block of nodes (row and column slices) where it is not 0. None when it is 0 everywhere."""
        x0, y0 = self.owner.box[:2]
        mx = np.ascontiguousarray(nodes[..., 0]) - (x0 - 1)
        my = np.ascontiguousarray(nodes[..., 1]) - (y0 - 1)
        dist = cv2.remap(self.owner._dist, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        near = dist > 0
        if not near.any():
            return None
        rows, cols = np.nonzero(near)
        block = (slice(max(0, rows.min() - 1), rows.max() + 2), slice(max(0, cols.min() - 1), cols.max() + 2))
        # The nodes' spacing in the photo around the regions (it varies with zoom and perspective).
        sub = nodes[block]
        spacing2 = 0.0
        for axis in (0, 1):
            d2 = np.square(np.diff(sub, axis=axis)).sum(axis=-1)
            d2 = d2[d2 < 1e6]  # invalid nodes sit at -1e4 (and NaN compares false)
            if d2.size:
                spacing2 = max(spacing2, float(d2.max()))
        margin = math.sqrt(spacing2) * math.sqrt(2.0) + 2.0
        t = dist[block] - np.float32(margin)
        t *= np.float32(1.0 / margin)
        np.clip(t, 0.0, 1.0, out=t)
        gate = t * t * (3.0 - 2.0 * t)
        if not (gate > 0).any():
            return None
        return gate, block

    def _where(self, shape: tuple[int, ...], nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where the nodes' photo positions fall on an image of ``shape`` over the box (OpenCV maps)."""
        x0, y0, x1, y1 = self.owner.box
        sx, sy = (x1 - x0) / shape[1], (y1 - y0) / shape[0]
        u = ((nodes[..., 0] - x0 + 0.5) / sx - 0.5).astype(np.float32)
        v = ((nodes[..., 1] - y0 + 0.5) / sy - 0.5).astype(np.float32)
        return u, v

    def _sample(self, image: np.ndarray, where) -> np.ndarray:
        """``image`` (over the box, any size) sampled at ``where`` (:meth:`_where`; 0 outside the box)."""
        return cv2.remap(image, where[0], where[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

    def _offsets(self, field: np.ndarray, where, gate: np.ndarray) -> np.ndarray:
        """``field`` ((h, w[, 2]) on the coarse grid) sampled at ``where``, times the gate."""
        off = self._sample(field, where)
        return off * (gate if off.ndim == 2 else gate[..., None])

    def __call__(self, k: int, src: np.ndarray, nodes: np.ndarray, grid, roi, border) -> Optional[np.ndarray]:
        found = self._gate(nodes)
        if found is None:
            return None
        gate, block = found
        f = self.fields
        if k == 0:
            src = self.owner._colour0
        sub = nodes[block]
        on_fields = self._where(f.back.shape, sub)  # every field lives on the same coarse grid
        back = self._offsets(f.back, on_fields, gate)
        moved = nodes.copy()
        moved[block] += back
        # 1. The layer at the composed positions: the camera's resample and the regions' first term, at once.
        # The renderer's own upsample, cropped: where the nodes are its own, the maps are too, bit for bit
        # (the map's fixed point turns a float's last bit into a 1/32 px step, a grey level on a sharp edge).
        # With a power-of-two step OpenCV's weights are exact binary fractions, the same from any block that
        # starts on a node, so a nearer layer's maps are built over its roi alone.
        if grid.step & (grid.step - 1) == 0:
            maps = upsample_rect(grid, moved, roi)
        else:
            maps = grid.upsample(moved, roi[2], roi[3])[roi[1]:, roi[0]:]
        m1, m2 = cv2.convertMaps(maps, None, cv2.CV_16SC2)  # OpenCV reads the cropped map in place
        warped = cv2.remap(src, m1, m2, cv2.INTER_LINEAR, borderMode=border, borderValue=0)
        if f.ahead is None and not f.dissolve:
            return warped
        # 2. Where the second term differs from the first: nodes whose two copies sample different places (a
        #    flow; a sway or ripple alone moves both alike) or that dissolve, and where the layer is there (the
        #    output rectangle of those nodes, in the layer's roi).
        ahead_off = self._offsets(f.ahead, on_fields, gate) if f.ahead is not None else None
        dissolving = None
        if f.dissolve:
            dissolving = self._offsets(self.owner.living.dissolve_map, on_fields, gate)
        active = np.zeros(gate.shape, bool)
        if ahead_off is not None:
            active |= (ahead_off != back).any(axis=-1)
        if dissolving is not None:
            active |= dissolving > 0
        busy = active
        if k in self.owner._present:
            present = self.owner._present[k]
            busy = busy & (self._sample(present, self._where(present.shape, sub)) > 0)
        if not busy.any():
            return warped
        rows, cols = np.nonzero(busy)
        rect = _node_rect(grid, (slice(block[0].start + rows.min(), block[0].start + rows.max() + 1),
                                 slice(block[1].start + cols.min(), block[1].start + cols.max() + 1)), roi)
        if rect is None:
            return warped
        rx0, ry0, rx1, ry1 = rect
        local = (slice(ry0 - roi[1], ry1 - roi[1]), slice(rx0 - roi[0], rx1 - roi[0]))
        # Output pixels whose four nodes include an active one: elsewhere both copies sample the same place.
        marks = np.zeros(nodes.shape[:2], np.uint8)
        marks[block] = active.view(np.uint8) * np.uint8(255)
        keep = (upsample_rect(grid, marks, rect) > 0).view(np.uint8)
        out = warped[local]
        mix = out
        if ahead_off is not None:
            ahead_nodes = nodes.copy()
            ahead_nodes[block] += ahead_off
            a1, a2 = cv2.convertMaps(upsample_rect(grid, ahead_nodes, rect), None, cv2.CV_16SC2)
            ahead = cv2.remap(src, a1, a2, cv2.INTER_LINEAR, borderMode=border, borderValue=0)
            mix = blend_keep_contrast(out, ahead, f.weight)
        if dissolving is not None:
            weights = np.zeros(nodes.shape[:2], np.float32)
            weights[block] = dissolving
            wgt = np.ascontiguousarray(upsample_rect(grid, weights * f.dissolve, rect))
            blurred = cv2.remap(self.owner._blurred[k], m1[local], m2[local], cv2.INTER_LINEAR, borderMode=border,
                                borderValue=0)
            mix = cv2.blendLinear(mix, blurred, 1.0 - wgt, wgt)
        cv2.copyTo(mix, keep, out)  # in place: the view into warped
        return warped


def _node_rect(grid, block, roi) -> Optional[tuple[int, int, int, int]]:
    """Output pixels (x0, y0, x1, y1) that the nodes of ``block`` reach (one node step around them), within
    ``roi``; None when that is empty."""
    s = grid.step
    rows, cols = block
    xa = int(math.floor(grid.xs[0, cols.start])) - s
    xb = int(math.ceil(grid.xs[0, cols.stop - 1])) + s + 1
    ya = int(math.floor(grid.ys[rows.start, 0])) - s
    yb = int(math.ceil(grid.ys[rows.stop - 1, 0])) + s + 1
    x0, y0, x1, y1 = max(xa, roi[0]), max(ya, roi[1]), min(xb, roi[2]), min(yb, roi[3])
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1
