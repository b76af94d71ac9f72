"""Building a parallax scene: a photo and its depth become layers, far to near, built once per photo and
size and rendered along any number of camera paths (:mod:`pipelines.render.parallax`).

``build_scene`` splits the photo where depth jumps at an occlusion edge (``cut``: not into arbitrary slices,
not at a ring or a lump of estimated depth, without speckles). Layer k covers its own pixels and everything
nearer (alpha), with colour *filled* where nearer layers hid it: texture mirrored from the layer's own
background across the edge over a smooth continuation of its colour, within the band the camera can
reveal (``fill``), so a moving camera reveals textured background instead of stretched foreground or a
smear. The fill is paid once per scene. Along each nearer layer's outline, the photo's anti-aliased
pixels get a partial alpha over the background unmixed from them (``matte``), so that no ghost of the
outline stays behind when the layer moves, and frame 0 is still the photo exactly. Each layer
also gets a smooth disparity field, fitted to its pixels whose depth lies in the layer's range (but not to
a soft depth edge's ramp, ``cut.soft_edges``), extended past its silhouette, held at low resolution.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Optional

import cv2
import numpy as np

from pipelines.core.errors import InputError
from pipelines.core.photo import Photo
from pipelines.depth import DepthMap
from pipelines.render import cut, fill, matte

#: Pixels a nearer layer reaches past its depth edge (the cure for foreground halos).
EDGE_GROW = 2
#: Most layers a scene gets (cost grows with each).
MAX_LAYERS = 4
#: Longest side of the low-resolution disparity fields.
FIELD_SIDE = 480
#: How far (a factor of disparity) past its layer's depth range a pixel's depth still shapes the layer's
#: surface (see build_scene).
FIELD_SLACK = 1.25
#: Gap, as a share of the long side, between a nearer layer and the background the fill copies from (2 px
#: at 640). The outline's colour stays off the layer behind (cut.grow_edges, matte), so a wider gap only
#: made the first pixels a move reveals beside an edge copy texture from further away (0.01 cost revealed
#: PSNR: built scenes with lumpy depth 14.2 / 14.7 dB, 15.3 / 15.9 with 0.003).
SOURCE_GAP = 0.003
#: Width, as a share of the photo's long side, of the band behind each edge that gets a textured fill.
#: Scenes are built before the camera path is known (the studio builds one per photo and size and reuses
#: it for every take), so the band covers the largest shift between a near (5th percentile) and a far
#: (90th percentile) surface that any preset makes at strength 1 over the middle of the frame: up to
#: 0.25 on close-ups (orbit, dolly-zoom; 0.14-0.16 for circle) on the bench photos. The fill's cost hardly
#: depends on it (one distance transform per layer and pass); beyond it the fill is a smooth blend.
REVEAL_SHARE = 0.25

Progress = Optional[Callable[[float, str], None]]


@dataclass(frozen=True)
class Layer:
    """One depth layer of a scene.

    rgba: (H, W, 4) uint8, colour premultiplied by alpha; alpha 255 on this layer's pixels and on every
        nearer layer's pixels (where the colour is filled), 0 on farther pixels; partial on the
        anti-aliased pixels of its outline over a farther layer (:mod:`pipelines.render.matte`), where
        that layer holds the background seen through the mix.
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
    steps = cut.sharp_steps(log_disp) if thresholds else None  # read by the cut and by the grown ring below
    labels = cut.layer_labels(rgb, log_disp, thresholds, sharp=steps)  # 0 = farthest
    # Soft depth edges (ramps): their pixels go to the side their depth is closer to, and no surface is
    # fitted to them (each layer's runs on from its body), so an object's outline moves with it.
    ramps = cut.soft_edges(labels, log_disp, steps) if thresholds else None
    if ramps is not None:
        labels = cut.settle_ramps(labels, log_disp, ramps)
    # Estimated depth edges lag colour edges by a pixel or two, leaving a foreground outline on the
    # background layer. Nearer layers take the pixels within EDGE_GROW of their edge whose colour is more
    # theirs than the background's (colour unchanged, so frame 0 stays exact; a blind grow carried a ring of
    # background along, a halo); the surfaces below are still fitted to each layer's own depth.
    grown = labels
    known_ring = None
    if EDGE_GROW and thresholds:
        size = 2 * EDGE_GROW + 1
        grown = cut.grow_edges(rgb, labels, EDGE_GROW)
        if depth.estimator is None:
            # Where given depth (a file, an array: depth that knows its edges) steps sharply, the ring a
            # nearer layer grew over is the background's own colour, not the foreground's outline: the
            # layers behind keep it as it is (the fill would replace real colour that shows through the
            # nearer layer's soft edge). An estimate's steps can be sharp too (a cut-out, an edge snapped
            # to colour) yet sit a pixel or two inside the outline: there the ring holds the outline's
            # own fringe, which kept behind would stay as a doubled contour; it is filled.
            sharp = cv2.dilate(steps.astype(np.uint8), np.ones((size + 2, size + 2), np.uint8)) > 0
            known_ring = (grown != labels) & sharp

    # The outline's anti-aliased pixels: a partial alpha on the nearer layer, the decontaminated background
    # on the layer behind (and nothing on any layer between), composited back to the photo exactly.
    final, soft = grown, None
    if thresholds:
        m = matte.matte(rgb, grown)
        if known_ring is not None:
            # Given depth that steps sharply knows its edges: a pixel there is the side its depth says.
            keep = ~sharp[m.ys, m.xs]
            m = m.take(keep)
        if m.ys.size:
            final = grown.copy()
            final[m.ys, m.xs] = np.where(m.alpha > 0, m.near, m.behind)
            # What the layer behind shows there: the photo where the pixel is all background (alpha 0), the
            # background unmixed from it where it is a mix.
            back, front = rgb[m.ys, m.xs], np.zeros((m.ys.size, 3), np.uint8)
            part = m.alpha > 0
            back[part], front[part] = matte.unmix(back[part], m.alpha[part], m.fg[part], m.bg[part],
                                                  m.bg_spread[part], m.mix[part])
            soft = (m, back, front)

    fw, fh = _field_size(w, h)
    layers = []
    n = len(thresholds) + 1
    for k in range(n):
        if progress:
            progress(k / n, f"scene: layer {k + 1}/{n}")
        own = labels == k
        if not own.any():
            continue
        # The fill's holes are the layers' hard cut (the matte changes no fill: a mirrored texture moves
        # with any change of its hole's outline).
        nearer = grown > k
        if known_ring is not None:
            nearer &= ~(known_ring & (labels <= k))
        cover = final >= k  # its own pixels, the edge it grew over, and everything nearer
        colour = rgb
        if nearer.any():
            # Texture from what is at or behind this layer, skipping a band next to the nearer layers: those
            # pixels often carry the foreground's colour (anti-aliasing, depth edges a few pixels off), and a
            # mirrored copy would print that colour into the background.
            behind = ~nearer
            r = max(2, round(SOURCE_GAP * max(w, h)))
            band = cv2.dilate(nearer.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)).astype(bool)
            source = behind & ~band if (behind & ~band).any() else behind
            colour, _ = fill.reflect_fill(rgb, nearer, source, reveal_px, groups=labels)
        rgba = np.dstack([colour, np.full((h, w), 255, np.uint8)])
        rgba[~cover] = 0
        if soft is not None:
            # The matte's pixels on the layer behind show the photo's background, not a fill.
            _soften(rgba, k, *soft)
            m = soft[0]
            base = m.behind == k
            nearer[m.ys[base], m.xs[base]] = False
        # The layer's surface: its own disparity, extended smoothly past its silhouette on every side.
        # Pixels the cut gave to this layer against their depth (a hole in an object that was not backed
        # by a colour edge, a rocket's flank the estimate left at the sky's depth) are not fitted: the
        # surface runs smoothly over them from the rest, so they move with their object instead of
        # tearing it apart (a pit from the object's depth down to the sky's, a few pixels wide, is a
        # warp no surface can follow).
        lo = math.exp(thresholds[k - 1]) / FIELD_SLACK if k > 0 else 0.0
        hi = math.exp(thresholds[k]) * FIELD_SLACK if k < n - 1 else np.inf
        fitted = own & (disp >= lo) & (disp <= hi)
        if ramps is not None and (fitted & ~ramps).any():
            fitted &= ~ramps
        mean, cov = _masked_downsample(disp, fitted if fitted.any() else own, (fw, fh))
        field_ = _push_pull(mean.astype(np.float32), cov > 0.05).astype(np.float32)
        layers.append(Layer(rgba=rgba, filled=nearer, disparity=field_))
    if not layers[0].rgba[..., 3].all():  # the farthest layer must be opaque
        raise InputError("internal: farthest layer is not opaque")
    return Scene(layers=tuple(layers), size=(w, h), thresholds=tuple(thresholds))


def _soften(rgba: np.ndarray, k: int, m: matte.Matte, back: np.ndarray, front: np.ndarray) -> None:
    """Layer k's share of the soft outline pixels (in place): the nearer layer's premultiplied colour and
    partial alpha, the background on the layer behind, and nothing on a layer between."""
    mine, base, between = m.near == k, m.behind == k, (m.behind < k) & (m.near > k)
    rgba[m.ys[mine], m.xs[mine]] = np.column_stack([front[mine], m.alpha[mine]])
    rgba[m.ys[between], m.xs[between]] = 0
    rgba[m.ys[base], m.xs[base], :3] = back[base]


def _field_size(w: int, h: int) -> tuple[int, int]:
    s = max(1.0, max(w, h) / FIELD_SIDE)
    return max(2, round(w / s)), max(2, round(h / s))
