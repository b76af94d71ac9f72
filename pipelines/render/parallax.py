"""The parallax engine: a photo and its depth become a layered 3-D scene, rendered along a camera path.

How it works (and why it is fast on a CPU):
1. ``build_scene`` (:mod:`pipelines.render.scene`) splits the photo where depth jumps at an occlusion edge (``cut``: not into arbitrary
   slices, not at a ring or a lump of estimated depth, without speckles), far to near. Layer k covers its
   own pixels and everything nearer (alpha), with colour *filled* where nearer layers hid it: texture
   mirrored from the layer's own background across the edge, within the band the camera can reveal
   (``fill``), so a moving camera reveals textured background instead of stretched foreground or a smear.
   The fill is paid once per scene. Each layer also gets a smooth disparity field, fitted to its pixels
   whose depth lies in the layer's range, extended past its silhouette, held at low resolution.
2. ``render`` inverts each layer's warp on a coarse grid of output pixels (the layer's surface is smooth,
   so a few secant steps along each output ray find the source pixel it hits), upsamples that map, resamples
   the premultiplied layer with ``cv2.remap`` and composites near over far. Frame 0 with the identity
   pose resamples at integer positions, so it gives back the photo exactly.

Conventions: the camera contract, docs/camera-contract.md (pinhole, OpenCV axes, camera-to-world poses,
pixel centres at integers, z-depth).
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

import cv2
import numpy as np

from pipelines.render.camera import CameraPath, intrinsics
from pipelines.render.scene import EDGE_GROW, Layer, Scene, build_scene  # noqa: F401  (re-exported for callers)

#: Longest side of the coarse warp grid.
GRID_SIDE = 240
#: Steps that find where each output ray meets a layer's surface (one lookup of its disparity field each).
SOLVER_STEPS = 4
#: More steps for the rays whose last step still moved their surface point by over ``SOLVER_TOLERANCE``
#: pixels of the photo (a few in a hundred on close-ups at strength 1, near a steep slope or a fold).
SOLVER_EXTRA_STEPS = 6
SOLVER_TOLERANCE = 0.25
#: Bounds of each secant step, as a multiple of the plain fixed-point step (see :func:`_solve_layer`).
RELAX_MIN, RELAX_MAX = 0.05, 4.0

Progress = Optional[Callable[[float, str], None]]
#: Living photos (``pipelines.living.warp.MovingLayers``): frame index -> a resampler, or None where frame i
#: moves nothing. ``resampler(k, src, nodes, grid, roi, border)`` returns layer k's warped pixels over ``roi``
#: with its regions moved in the same resample (``cv2.remap`` of ``src`` at the upsampled ``nodes`` wherever
#: nothing moves), or None to draw the layer as usual.
Moving = Optional[Callable[[int], Optional[Callable[..., Optional[np.ndarray]]]]]


@dataclass(frozen=True)
class Frame:
    """One rendered frame: image (H, W, 3) uint8; holes (H, W) uint8, 255 where the colour is invented
    (revealed by the camera, not seen in the photo) or None; depth (H, W) float32 z-depth or None."""

    image: np.ndarray
    holes: Optional[np.ndarray] = None
    depth: Optional[np.ndarray] = None


@dataclass(frozen=True)
class Frames:
    """A rendered camera move: images (T, H, W, 3) uint8; holes (T, H, W) uint8 (255 = invented);
    depth (T, H, W) float32 z-depth seen by each output pixel (None unless asked for)."""

    images: np.ndarray
    holes: Optional[np.ndarray] = None
    depth: Optional[np.ndarray] = None


# ----------------------------------------------------------------------------------------------------
# Rendering


@dataclass(frozen=True)
class _Grid:
    """Coarse output grid: node (i, j) sits at output pixel (x0 + j*step, y0 + i*step); it reaches one
    node past each border so that upsampling by ``step`` and cropping covers every pixel exactly."""

    step: int
    nx: int
    ny: int
    xs: np.ndarray  # (ny, nx) output x of each node
    ys: np.ndarray

    @classmethod
    def for_size(cls, w: int, h: int) -> "_Grid":
        step = max(2, int(math.ceil(max(w, h) / GRID_SIDE)))
        nx, ny = int(math.ceil(w / step)) + 2, int(math.ceil(h / step)) + 2
        x0 = y0 = -step / 2.0 - 0.5
        ys, xs = np.mgrid[0:ny, 0:nx].astype(np.float64)
        return cls(step, nx, ny, x0 + xs * step, y0 + ys * step)

    def upsample(self, nodes: np.ndarray, w: int, h: int) -> np.ndarray:
        """(ny, nx, C) node values to (h, w, C) pixel values, bilinear (exact for linear fields)."""
        s = self.step
        up = cv2.resize(nodes, (self.nx * s, self.ny * s), interpolation=cv2.INTER_LINEAR)
        return up[s:s + h, s:s + w]


@dataclass(frozen=True)
class _LayerConstants:
    """What rendering reads of a layer that no frame changes (a living photo moves its regions inside the
    resample, not in the scene): the median disparity the solver starts from, the field's least and
    greatest disparity (every ray meets the surface between them), and where the layer has alpha,
    dilated, at the disparity field's resolution (None for the opaque farthest layer). Computed once per
    camera move."""

    median_disparity: float
    reach: Optional[np.ndarray]
    low: float
    high: float


def _layer_constants(scene: Scene) -> tuple[_LayerConstants, ...]:
    out = []
    for k, layer in enumerate(scene.layers):
        reach = None
        if k > 0:
            fh, fw = layer.disparity.shape
            reach = cv2.resize(cv2.dilate(layer.rgba[..., 3], np.ones((3, 3), np.uint8)), (fw, fh),
                               interpolation=cv2.INTER_AREA)
            reach = cv2.dilate(reach, np.ones((3, 3), np.uint8))
        out.append(_LayerConstants(float(np.median(layer.disparity)), reach, float(layer.disparity.min()),
                                   float(layer.disparity.max())))
    return tuple(out)


def _rays(grid: _Grid, A_inv: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """u = A^-1 p for every grid node p, as three (ny, nx) planes, and v = A^-1 b (see :func:`_solve_layer`);
    the same for every layer of a frame."""
    p = np.stack([grid.xs, grid.ys, np.ones_like(grid.xs)], -1)
    u = p @ A_inv.T  # (ny, nx, 3)
    u0, u1, u2 = (np.ascontiguousarray(u[..., c]) for c in range(3))
    return u0, u1, u2, A_inv @ b


def _solve_layer(layer: Layer, rays, constants: _LayerConstants, w_src: int, h_src: int):
    """Source pixel hit by each grid node's ray on the layer's surface.

    Projection (DESIGN's contract): p ~ A q - w b with A = K_o R^T K_s^-1, b = K_o R^T C and w the
    source disparity at q. For a fixed w this inverts in closed form (Sherman-Morrison):
    q ~ u + v * w * u_z / (1 - w * v_z), u = A^-1 p, v = A^-1 b (``rays``). The ray meets the surface
    where w = D(w), D(w) the field's disparity at q(w): a root of D(w) - w, sought from the layer's median
    disparity. Returns (qx, qy, w, valid) on the grid (float64; valid bool).

    Why secant steps and not the plain fixed-point step w <- D(w): that step shrinks the error by the
    factor D'(w) (the slope of the surface's disparity along the ray), and only while |D'| < 1. Where
    the move stretches the photo more than twofold across a steep slope (a cup's rim before the saucer,
    a cat's ear, orbits on close-ups), D' nears or passes -1 and the iterates swing from side to side of
    the root: a few steps stop on either side, node by node, which drew a doubled, rippled contour. Each
    step after the first instead takes the slope from the last two iterates (w += (D(w) - w) / (1 - D')),
    which lands on the root of a straight stretch of the surface in one step. The step is bounded
    (``RELAX_MIN``..``RELAX_MAX`` times the plain step; the plain step where the slope says the ray
    runs along a fold, D' > 1), and w stays within the field's own range. The few rays still moving
    after ``SOLVER_STEPS`` take up to ``SOLVER_EXTRA_STEPS`` more, on their own.
    """
    u0, u1, u2, (v0, v1, v2) = rays
    lookup = _field_lookup(layer.disparity, rays, w_src, h_src)
    low, high = constants.low, constants.high
    w_prev = np.full(u0.shape, constants.median_disparity, np.float32)
    d_prev = lookup(w_prev)
    tolerance = _tolerance(rays, low, high)
    # The first step is the plain one: there is no slope yet.
    w_prev, d_prev, wd, moved = _secant(lookup, w_prev, d_prev, d_prev, SOLVER_STEPS - 1, low, high, tolerance)
    slow = np.flatnonzero(moved > tolerance) if SOLVER_EXTRA_STEPS else ()
    if len(slow):
        part = lambda a: a.reshape(-1)[slow][None]  # noqa: E731  (a row: cv2.remap wants 2-D maps)
        wd.reshape(-1)[slow] = _secant(_field_lookup(layer.disparity, rays, w_src, h_src, slow), part(w_prev),
                                       part(d_prev), part(wd), SOLVER_EXTRA_STEPS, low, high, tolerance)[2][0]
    wd = wd.astype(np.float64)
    den = 1.0 - wd * v2
    g = wd * u2 / den
    qz = u2 + g * v2
    with np.errstate(divide="ignore", invalid="ignore"):
        qx, qy = (u0 + g * v0) / qz, (u1 + g * v1) / qz
    valid = (qz > 1e-9) & np.isfinite(qx) & np.isfinite(qy) & (np.abs(den) > 1e-9)
    return qx, qy, wd, valid


def _field_lookup(field_: np.ndarray, rays, w_src: int, h_src: int, nodes: Optional[np.ndarray] = None):
    """w -> the field's disparity where each ray meets disparity w (``D(w)`` of :func:`_solve_layer`), for
    every grid node or for the flat indices ``nodes`` (w then a (1, n) row). In float32 (a thousandth of a
    pixel is plenty, and it costs what the plain steps cost in float64), the field's pixel scale folded in."""
    u0, u1, u2, (v0, v1, v2) = rays
    fh, fw = field_.shape
    sx, sy = fw / w_src, fh / h_src
    f32 = np.float32
    if nodes is not None:
        u0, u1, u2 = (u.reshape(-1)[nodes][None] for u in (u0, u1, u2))
    a0, a1, a2 = (u0 * sx).astype(f32), (u1 * sy).astype(f32), u2.astype(f32)
    b0, b1, b2 = f32(v0 * sx), f32(v1 * sy), f32(v2)
    c0, c1 = f32(0.5 * sx - 0.5), f32(0.5 * sy - 0.5)

    def lookup(wd: np.ndarray) -> np.ndarray:
        g = wd * a2 / (f32(1.0) - wd * b2)
        qz = a2 + g * b2
        qz = np.where(np.abs(qz) > 1e-12, qz, f32(1e-12))
        mx, my = (a0 + g * b0) / qz + c0, (a1 + g * b1) / qz + c1
        return cv2.remap(field_, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    return lookup


def _secant(lookup, w_prev, d_prev, wd, steps: int, low: float, high: float, tolerance: float):
    """Up to ``steps`` secant steps of :func:`_solve_layer` from the last two iterates (w_prev with its
    lookup d_prev, and wd), fewer once no step moves w by over ``tolerance``; returns the last two iterates
    again, and how far the last step moved w."""
    moved = None
    for _ in range(steps):
        if moved is not None and moved.max() <= tolerance:
            break
        d = lookup(wd)
        with np.errstate(divide="ignore", invalid="ignore"):
            # 1 / (1 - D'), D' = (d - d_prev) / (wd - w_prev): NaN once converged, negative along a fold.
            relax = (wd - w_prev) / ((wd - w_prev) - (d - d_prev))
        relax = np.where(relax > 0, relax, np.float32(1.0))
        w_new = np.clip(wd + np.clip(relax, RELAX_MIN, RELAX_MAX) * (d - wd), low, high)
        moved = np.abs(w_new - wd)
        w_prev, d_prev, wd = wd, d, w_new
    return w_prev, d_prev, wd, np.zeros_like(wd) if moved is None else moved


def _tolerance(rays, low: float, high: float) -> float:
    """The change of disparity that moves a ray's surface point by about ``SOLVER_TOLERANCE`` photo pixels:
    the layer's range of disparity over the longest path its rays sweep across it (at the grid's corners;
    the sweep varies smoothly over the frame)."""
    u0, u1, u2 = (np.array([u[0, 0], u[0, -1], u[-1, 0], u[-1, -1]]) for u in rays[:3])
    v0, v1, v2 = rays[3]
    ends = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for wd in (low, high):
            g = wd * u2 / (1.0 - wd * v2)
            qz = u2 + g * v2
            ends.append(((u0 + g * v0) / qz, (u1 + g * v1) / qz))
        sweep = float(np.nanmax(np.hypot(ends[1][0] - ends[0][0], ends[1][1] - ends[0][1])))
    if sweep == 0:
        return math.inf  # no parallax: any w is the answer
    return SOLVER_TOLERANCE * (high - low) / sweep if math.isfinite(sweep) else 0.0


def _frame_matrices(scene: Scene, path: CameraPath, i: int):
    w_src, h_src = scene.size
    Ks = intrinsics(path.source_fov_deg, w_src, h_src)
    Ko = path.K(i)
    R, C = path.poses[i, :3, :3], path.poses[i, :3, 3]
    A = Ko @ R.T @ np.linalg.inv(Ks)
    b = Ko @ R.T @ C
    return A, b


def _render_frame(scene: Scene, path: CameraPath, grid: _Grid, i: int, want_holes: bool,
                  want_depth: bool, moving: Moving, constants: tuple[_LayerConstants, ...]) -> Frame:
    resample = moving(i) if moving is not None else None  # living photos: see Moving
    w_src, h_src = scene.size
    w, h = path.width, path.height
    A, b = _frame_matrices(scene, path, i)
    rays = _rays(grid, np.linalg.inv(A), b)
    out = None
    holes = np.zeros((h, w), np.uint8) if want_holes else None
    zbuf = np.zeros((h, w), np.float32) if want_depth else None
    for k, layer in enumerate(scene.layers):
        qx, qy, wd, valid = _solve_layer(layer, rays, constants[k], w_src, h_src)
        qx = np.where(valid, qx, -1e4)
        qy = np.where(valid, qy, -1e4)
        nodes = np.stack([qx, qy], -1).astype(np.float32)
        if k > 0:
            roi = _layer_roi(constants[k].reach, grid, qx, qy, valid, w, h, w_src, h_src)
            if roi is None:
                continue
        else:
            roi = (0, 0, w, h)
        x0, y0, x1, y1 = roi
        border = cv2.BORDER_REPLICATE if k == 0 else cv2.BORDER_CONSTANT
        warped = resample(k, layer.rgba, nodes, grid, roi, border) if resample is not None else None
        if warped is None or want_holes or want_depth:
            # OpenCV reads the cropped map (rows apart, pixels packed) in place.
            m1, m2 = cv2.convertMaps(grid.upsample(nodes, w, h)[y0:y1, x0:x1], None, cv2.CV_16SC2)
        if warped is None:
            # All four channels: OpenCV copies an array whose pixels are not packed (a 3-channel view of
            # RGBA) before warping it, which costs more than warping the fourth channel.
            warped = cv2.remap(layer.rgba, m1, m2, cv2.INTER_LINEAR, borderMode=border, borderValue=0)
        if k == 0:
            # A resampler's 3-channel result is copied: later layers are composited into ``out`` in place.
            out = cv2.cvtColor(warped, cv2.COLOR_RGBA2RGB) if warped.shape[2] == 4 else warped.copy()
            alpha = None
        else:
            alpha = cv2.extractChannel(warped, 3)
            inv = cv2.cvtColor(cv2.bitwise_not(alpha), cv2.COLOR_GRAY2RGB)
            region = out[y0:y1, x0:x1]
            cv2.add(cv2.cvtColor(warped, cv2.COLOR_RGBA2RGB), cv2.multiply(region, inv, scale=1.0 / 255.0),
                    dst=region)
        if want_holes or want_depth:
            _extra_channels(layer, k, m1, m2, alpha, roi, holes, zbuf, grid, nodes, wd, valid, A, b, w, h)
    return Frame(image=out, holes=holes, depth=zbuf)


def _extra_channels(layer, k, m1, m2, alpha, roi, holes, zbuf, grid, nodes, wd, valid, A, b, w, h):
    """Hole masks and output depth for one layer, composited like the colour (only when asked for)."""
    x0, y0, x1, y1 = roi
    cover = np.full((y1 - y0, x1 - x0), 255, np.uint8) if alpha is None else alpha
    top = cover >= 128
    if holes is not None:
        filled = cv2.remap(layer.filled.astype(np.uint8) * 255, m1, m2, cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        region = holes[y0:y1, x0:x1]
        region[top] = filled[top]
    if zbuf is not None:
        # z in the output camera of the surface point hit by each node's ray.
        qh = np.stack([nodes[..., 0], nodes[..., 1], np.ones(nodes.shape[:2], np.float32)], -1).astype(np.float64)
        zc = ((qh @ A.T)[..., 2] - wd * b[2]) / np.maximum(wd, 1e-12)
        zc = np.where(valid, zc, 0).astype(np.float32)
        z_up = grid.upsample(zc[..., None], w, h)
        z_up = z_up.reshape(h, w)[y0:y1, x0:x1]
        region = zbuf[y0:y1, x0:x1]
        region[top] = z_up[top]


def _layer_roi(reach: np.ndarray, grid: _Grid, qx, qy, valid, w, h, w_src, h_src):
    """Output rectangle (x0, y0, x1, y1) where a (non-opaque) layer can be visible, or None; ``reach`` is
    the layer's :attr:`_LayerConstants.reach`."""
    inside = valid & (qx > -1) & (qx < w_src) & (qy > -1) & (qy < h_src)
    if not inside.any():
        return None
    fh, fw = reach.shape
    mx = ((qx + 0.5) * fw / w_src - 0.5).astype(np.float32)
    my = ((qy + 0.5) * fh / h_src - 0.5).astype(np.float32)
    seen = cv2.remap(reach, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0) > 0
    seen &= inside
    if not seen.any():
        return None
    rows, cols = np.nonzero(seen)
    s = grid.step
    x0 = int(max(0, math.floor(grid.xs[0, cols.min()] - s)))
    x1 = int(min(w, math.ceil(grid.xs[0, cols.max()] + s) + 1))
    y0 = int(max(0, math.floor(grid.ys[rows.min(), 0] - s)))
    y1 = int(min(h, math.ceil(grid.ys[rows.max(), 0] + s) + 1))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def iter_frames(scene: Scene, path: CameraPath, *, holes: bool = False, depth: bool = False,
                workers: int = 2, moving: Moving = None) -> Iterator[Frame]:
    """Render ``path`` frame by frame, in order. OpenCV releases the GIL, so ``workers`` threads render
    frames side by side; memory stays bounded to a few frames in flight. ``moving``: regions of the photo
    that move in each frame (a living photo, see :data:`Moving`; called from the worker threads)."""
    grid = _Grid.for_size(path.width, path.height)
    constants = _layer_constants(scene)
    n = path.num_frames
    if workers <= 1 or n == 1:
        for i in range(n):
            yield _render_frame(scene, path, grid, i, holes, depth, moving, constants)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        ahead = workers * 2
        futures = [pool.submit(_render_frame, scene, path, grid, i, holes, depth, moving, constants)
                   for i in range(min(ahead, n))]
        for i in range(n):
            frame = futures[i].result()
            if i + ahead < n:
                futures.append(pool.submit(_render_frame, scene, path, grid, i + ahead, holes, depth,
                                           moving, constants))
            futures[i] = None
            yield frame


def render(scene: Scene, path: CameraPath, *, holes: bool = False, depth: bool = False,
           progress: Progress = None) -> Frames:
    """Render every frame of ``path`` into memory (T, H, W, 3) uint8; see :func:`iter_frames` to stream."""
    n = path.num_frames
    images = np.empty((n, path.height, path.width, 3), np.uint8)
    hole_arr = np.empty((n, path.height, path.width), np.uint8) if holes else None
    depth_arr = np.empty((n, path.height, path.width), np.float32) if depth else None
    for i, frame in enumerate(iter_frames(scene, path, holes=holes, depth=depth)):
        images[i] = frame.image
        if holes:
            hole_arr[i] = frame.holes
        if depth:
            depth_arr[i] = frame.depth
        if progress:
            progress((i + 1) / n, f"frame {i + 1}/{n}")
    return Frames(images=images, holes=hole_arr, depth=depth_arr)
