"""The parallax engine: a photo and its depth become a layered 3-D scene, rendered along a camera path.

How it works (and why it is fast on a CPU):
1. ``build_scene`` splits the photo where depth jumps at an occlusion edge (``cut``: not into arbitrary
   slices, not at a ring or a lump of estimated depth, without speckles), far to near. Layer k covers its
   own pixels and everything nearer (alpha), with colour *filled* where nearer layers hid it: texture
   mirrored from the layer's own background across the edge, within the band the camera can reveal
   (``fill``), so a moving camera reveals textured background instead of stretched foreground or a smear.
   The fill is paid once per scene. Each layer also gets a smooth disparity field, fitted to its pixels
   whose depth lies in the layer's range, extended past its silhouette, held at low resolution.
2. ``render`` inverts each layer's warp on a coarse grid of output pixels (the layer's surface is smooth,
   so a few fixed-point steps find the source pixel every output ray hits), upsamples that map, resamples
   the premultiplied layer with ``cv2.remap`` and composites near over far. Frame 0 with the identity
   pose resamples at integer positions, so it gives back the photo exactly.

Conventions: the camera contract, docs/camera-contract.md (pinhole, OpenCV axes, camera-to-world poses,
pixel centres at integers, z-depth).
"""
from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

import cv2
import numpy as np

from pipelines.render import cut, fill
from pipelines.render.camera import CameraPath, intrinsics
from pipelines.render.cut import JUMP_RATIO  # noqa: F401  (re-exported: the split's one knob)
from pipelines.depth import DepthMap
from pipelines.core.errors import InputError
from pipelines.core.photo import Photo

#: Pixels a nearer layer reaches past its depth edge (the cure for foreground halos).
EDGE_GROW = 2
#: Most layers a scene gets (cost grows with each).
MAX_LAYERS = 4
#: Longest side of the low-resolution disparity fields and of the coarse warp grid.
FIELD_SIDE = 480
GRID_SIDE = 240
#: How far (a factor of disparity) past its layer's depth range a pixel's depth still shapes the layer's
#: surface (see build_scene).
FIELD_SLACK = 1.25
#: Fixed-point steps that find where each output ray meets a layer's surface.
SOLVER_STEPS = 4
#: Gap, as a share of the long side, between a nearer layer and the background the fill copies from.
SOURCE_GAP = 0.01
#: Width, as a share of the photo's long side, of the band behind each edge that gets a textured fill.
#: Scenes are built before the camera path is known (the studio builds one per photo and size and reuses
#: it for every take), so the band covers the largest shift between a near (5th percentile) and a far
#: (90th percentile) surface that any preset makes at strength 1 over the middle of the frame: up to
#: 0.25 on close-ups (orbit, dolly-zoom; 0.14-0.16 for circle) on the bench photos. The fill's cost hardly
#: depends on it (one distance transform per layer and pass); beyond it the fill is a smooth blend.
REVEAL_SHARE = 0.25

Progress = Optional[Callable[[float, str], None]]
#: Living photos (``pipelines.living.warp.MovingLayers``): frame index -> a resampler, or None where frame i
#: moves nothing. ``resampler(k, src, nodes, grid, roi, border)`` returns layer k's warped pixels over ``roi``
#: with its regions moved in the same resample (``cv2.remap`` of ``src`` at the upsampled ``nodes`` wherever
#: nothing moves), or None to draw the layer as usual.
Moving = Optional[Callable[[int], Optional[Callable[..., Optional[np.ndarray]]]]]


@dataclass(frozen=True)
class Layer:
    """One depth layer of a scene.

    rgba: (H, W, 4) uint8, colour premultiplied by alpha; alpha 255 on this layer's pixels and on every
        nearer layer's pixels (where the colour is filled), 0 on farther pixels.
    filled: (H, W) bool, True where the colour was invented (hidden behind nearer layers in the photo).
    disparity: (h, w) float32 low-resolution 1/z field (world units), smooth and defined everywhere.
    """

    rgba: np.ndarray
    filled: np.ndarray
    disparity: np.ndarray


@dataclass(frozen=True)
class Scene:
    """A photo as layers ordered far to near; built once, rendered along any number of paths.

    size: (width, height) of the photo. thresholds: log-disparity values where layers split.
    """

    layers: tuple[Layer, ...]
    size: tuple[int, int]
    thresholds: tuple[float, ...] = field(default=())

    def __post_init__(self):
        if not self.layers:
            raise InputError("a scene needs at least one layer")
        w, h = self.size
        for layer in self.layers:
            if layer.rgba.shape != (h, w, 4) or layer.rgba.dtype != np.uint8:
                raise InputError(f"layer rgba must be ({h}, {w}, 4) uint8, got {layer.rgba.shape} {layer.rgba.dtype}")


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
# 1. Building the scene


def _push_pull(values: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Fill unknown pixels of ``values`` (H, W[, C]) float32 from the known ones by a pull-push pyramid:
    known pixels keep their exact values; holes take a smooth blend of what surrounds them."""
    squeeze = values.ndim == 2
    v = values[..., None] if squeeze else values
    w = known.astype(np.float32)
    levels = [(v * w[..., None], w)]
    while min(levels[-1][1].shape) > 2:
        vw, ww = levels[-1]
        size = (max(1, vw.shape[1] // 2), max(1, vw.shape[0] // 2))
        vw2 = cv2.resize(vw, size, interpolation=cv2.INTER_AREA)
        ww2 = cv2.resize(ww, size, interpolation=cv2.INTER_AREA)
        levels.append((vw2.reshape(size[1], size[0], -1), ww2))
    vw, ww = levels[-1]
    est = vw / np.maximum(ww, 1e-8)[..., None]
    if ww.max() <= 0:
        raise InputError("nothing to fill from: the layer has no known pixels")
    est[ww <= 0] = (vw.reshape(-1, vw.shape[-1]).sum(0) / max(ww.sum(), 1e-8))
    for vw, ww in reversed(levels[:-1]):
        up = cv2.resize(est, (vw.shape[1], vw.shape[0]), interpolation=cv2.INTER_LINEAR)
        up = up.reshape(vw.shape)
        a = np.clip(ww * 4.0, 0.0, 1.0)[..., None]  # a cell a quarter known trusts its own data
        est = vw / np.maximum(ww, 1e-8)[..., None] * a + up * (1.0 - a)
    est = np.where(known[..., None], v, est)
    return est[..., 0] if squeeze else est


def _masked_downsample(values: np.ndarray, mask: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Area-average ``values`` over ``mask`` into ``size`` (w, h); returns (mean, coverage)."""
    m = mask.astype(np.float32)
    vw = cv2.resize(values * m, size, interpolation=cv2.INTER_AREA)
    ww = cv2.resize(m, size, interpolation=cv2.INTER_AREA)
    return vw / np.maximum(ww, 1e-8), ww


def build_scene(photo: Photo, depth: DepthMap, *, max_layers: int = MAX_LAYERS, reveal_px: Optional[int] = None,
                progress: Progress = None) -> Scene:
    """Split ``photo`` into depth layers (far to near) with hidden colour filled in.

    reveal_px: width of the band behind each edge that gets a textured fill (the largest parallax shift
        between layers along the camera paths to come); default ``REVEAL_SHARE`` of the long side, which
        covers every preset at strength 1. Farther behind an edge the fill is a smooth blend.
    The depth map is resampled to the photo's size if needed (the notice stays on ``depth``).
    """
    rgb = photo.pixels
    h, w = rgb.shape[:2]
    if depth.size != (w, h):
        depth = depth.resized((w, h))
    if not 1 <= max_layers <= 8:
        raise InputError(f"max_layers must be 1..8, got {max_layers}")
    if reveal_px is None:
        reveal_px = math.ceil(REVEAL_SHARE * max(w, h))
    if not 0 <= reveal_px <= 4 * max(w, h):
        raise InputError(f"reveal_px must be 0..{4 * max(w, h)} (pixels of the photo), got {reveal_px}")
    disp = (1.0 / depth.z).astype(np.float32)
    log_disp = np.log(disp)

    # Layers split where depth jumps; the split is found on a reduced map (cheap, and blur-tolerant).
    s = max(1, round(max(w, h) / 640))
    small = cv2.resize(log_disp, (max(2, w // s), max(2, h // s)), interpolation=cv2.INTER_AREA)
    thresholds = cut.split_thresholds(small, max_layers)
    # Cut only where the jump is an occlusion edge; unbacked and speckled pieces join their surroundings.
    labels = cut.layer_labels(rgb, log_disp, thresholds)  # 0 = farthest
    # Estimated depth edges lag colour edges by a pixel or two, leaving a foreground outline on the
    # background layer. Nearer layers take the pixels within EDGE_GROW of their edge (colour unchanged, so
    # frame 0 stays exact); the surfaces below are still fitted to each layer's own depth.
    grown = labels
    known_ring = None
    if EDGE_GROW and thresholds:
        size = 2 * EDGE_GROW + 1
        grown = cv2.dilate(labels, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
        # Where the depth steps sharply (depth that knows its edges) the ring a nearer layer grew over is
        # the background's own colour, not the foreground's outline: the layers behind keep it as it is
        # (the fill would replace real colour that shows through the nearer layer's soft edge).
        sharp = cv2.dilate(cut.sharp_steps(log_disp).astype(np.uint8), np.ones((size + 2, size + 2), np.uint8)) > 0
        known_ring = (grown != labels) & sharp

    fw, fh = _field_size(w, h)
    layers = []
    n = len(thresholds) + 1
    for k in range(n):
        if progress:
            progress(k / n, f"scene: layer {k + 1}/{n}")
        own = labels == k
        if not own.any():
            continue
        nearer = grown > k
        if known_ring is not None:
            nearer &= ~(known_ring & (labels <= k))
        cover = grown >= k  # its own pixels, the edge it grew over, and everything nearer
        colour = rgb
        if nearer.any():
            # Texture from what is at or behind this layer, skipping a band next to the nearer layers: those
            # pixels often carry the foreground's colour (anti-aliasing, depth edges a few pixels off), and a
            # mirrored copy would print that colour into the background.
            behind = ~nearer
            r = max(2, round(SOURCE_GAP * max(w, h)))
            band = cv2.dilate(nearer.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)).astype(bool)
            source = behind & ~band if (behind & ~band).any() else behind
            colour, _ = fill.reflect_fill(rgb, nearer, source, reveal_px)
        rgba = np.dstack([colour, np.full((h, w), 255, np.uint8)])
        rgba[~cover] = 0
        # The layer's surface: its own disparity, extended smoothly past its silhouette on every side.
        # Pixels the cut gave to this layer against their depth (a hole in an object that was not backed
        # by a colour edge, a rocket's flank the estimate left at the sky's depth) are not fitted: the
        # surface runs smoothly over them from the rest, so they move with their object instead of
        # tearing it apart (a pit from the object's depth down to the sky's, a few pixels wide, is a
        # warp no surface can follow).
        lo = math.exp(thresholds[k - 1]) / FIELD_SLACK if k > 0 else 0.0
        hi = math.exp(thresholds[k]) * FIELD_SLACK if k < n - 1 else np.inf
        fitted = own & (disp >= lo) & (disp <= hi)
        mean, cov = _masked_downsample(disp, fitted if fitted.any() else own, (fw, fh))
        field_ = _push_pull(mean.astype(np.float32), cov > 0.05).astype(np.float32)
        layers.append(Layer(rgba=rgba, filled=nearer, disparity=field_))
    if not layers[0].rgba[..., 3].all():  # the farthest layer must be opaque
        raise InputError("internal: farthest layer is not opaque")
    return Scene(layers=tuple(layers), size=(w, h), thresholds=tuple(thresholds))


def _field_size(w: int, h: int) -> tuple[int, int]:
    s = max(1.0, max(w, h) / FIELD_SIDE)
    return max(2, round(w / s)), max(2, round(h / s))


# ----------------------------------------------------------------------------------------------------
# 2. Rendering


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
    resample, not in the scene): the median disparity the solver starts from, and where the layer has
    alpha, dilated, at the disparity field's resolution (None for the opaque farthest layer). Computed
    once per camera move."""

    median_disparity: float
    reach: Optional[np.ndarray]


def _layer_constants(scene: Scene) -> tuple[_LayerConstants, ...]:
    out = []
    for k, layer in enumerate(scene.layers):
        reach = None
        if k > 0:
            fh, fw = layer.disparity.shape
            reach = cv2.resize(cv2.dilate(layer.rgba[..., 3], np.ones((3, 3), np.uint8)), (fw, fh),
                               interpolation=cv2.INTER_AREA)
            reach = cv2.dilate(reach, np.ones((3, 3), np.uint8))
        out.append(_LayerConstants(float(np.median(layer.disparity)), reach))
    return tuple(out)


def _rays(grid: _Grid, A_inv: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """u = A^-1 p for every grid node p, as three (ny, nx) planes, and v = A^-1 b (see :func:`_solve_layer`);
    the same for every layer of a frame."""
    p = np.stack([grid.xs, grid.ys, np.ones_like(grid.xs)], -1)
    u = p @ A_inv.T  # (ny, nx, 3)
    u0, u1, u2 = (np.ascontiguousarray(u[..., c]) for c in range(3))
    return u0, u1, u2, A_inv @ b


def _solve_layer(layer: Layer, rays, median_disparity: float, w_src: int, h_src: int):
    """Source pixel hit by each grid node's ray on the layer's surface, by fixed-point iteration.

    Projection (DESIGN's contract): p ~ A q - w b with A = K_o R^T K_s^-1, b = K_o R^T C and w the
    source disparity at q. For a fixed w this inverts in closed form (Sherman-Morrison):
    q ~ u + v * w * u_z / (1 - w * v_z), u = A^-1 p, v = A^-1 b (``rays``). Iterate w <- disparity(q),
    from the layer's median disparity. Returns (qx, qy, w, valid) on the grid (float64; valid bool).
    Each component is computed on its own plane, in the same order of operations as the whole vectors
    were before, so the results are the same to the bit.
    """
    u0, u1, u2, (v0, v1, v2) = rays
    field_ = layer.disparity
    fh, fw = field_.shape
    sx, sy = fw / w_src, fh / h_src
    wd = np.full(u0.shape, median_disparity, np.float64)
    for _ in range(SOLVER_STEPS):
        g = wd * u2 / (1.0 - wd * v2)
        q2 = u2 + g * v2
        qz = np.where(np.abs(q2) > 1e-12, q2, 1e-12)
        qx = (u0 + g * v0) / qz
        qy = (u1 + g * v1) / qz
        mx = ((qx + 0.5) * sx - 0.5).astype(np.float32)
        my = ((qy + 0.5) * sy - 0.5).astype(np.float32)
        wd = cv2.remap(field_, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float64)
    den = 1.0 - wd * v2
    g = wd * u2 / den
    qz = u2 + g * v2
    with np.errstate(divide="ignore", invalid="ignore"):
        qx, qy = (u0 + g * v0) / qz, (u1 + g * v1) / qz
    valid = (qz > 1e-9) & np.isfinite(qx) & np.isfinite(qy) & (np.abs(den) > 1e-9)
    return qx, qy, wd, valid


def _frame_matrices(scene: Scene, path: CameraPath, i: int):
    w_src, h_src = scene.size
    Ks = intrinsics(path.source_fov_deg, w_src, h_src)
    Ko = path.K(i)
    R, C = path.poses[i, :3, :3], path.poses[i, :3, 3]
    A = Ko @ R.T @ np.linalg.inv(Ks)
    b = Ko @ R.T @ C
    return A, b


def _render_frame(scene: Scene, path: CameraPath, grid: _Grid, i: int, want_holes: bool,
                  want_depth: bool, moving: Moving = None,
                  constants: Optional[tuple[_LayerConstants, ...]] = None) -> Frame:
    resample = moving(i) if moving is not None else None  # living photos: see Moving
    constants = constants or _layer_constants(scene)
    w_src, h_src = scene.size
    w, h = path.width, path.height
    A, b = _frame_matrices(scene, path, i)
    rays = _rays(grid, np.linalg.inv(A), b)
    out = None
    holes = np.zeros((h, w), np.uint8) if want_holes else None
    zbuf = np.zeros((h, w), np.float32) if want_depth else None
    for k, layer in enumerate(scene.layers):
        qx, qy, wd, valid = _solve_layer(layer, rays, constants[k].median_disparity, w_src, h_src)
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
        src = layer.rgba if k > 0 else layer.rgba[..., :3]  # what a living photo's resampler takes
        warped = resample(k, src, nodes, grid, roi, border) if resample is not None else None
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
    small = reach
    fh, fw = reach.shape
    mx = ((qx + 0.5) * fw / w_src - 0.5).astype(np.float32)
    my = ((qy + 0.5) * fh / h_src - 0.5).astype(np.float32)
    seen = cv2.remap(small, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0) > 0
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
