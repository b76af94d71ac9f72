"""The parallax frame loop as it was before it was made faster (as in commit 311aab1), kept verbatim so the
tests can check that the faster loop renders the same bytes. Only the loop lives here; the scene, the
camera matrices, the grid and the extra channels are the module's own."""
import math

import cv2
import numpy as np

from pipelines.render import parallax
from pipelines.render.parallax import SOLVER_STEPS, Frame, _extra_channels, _frame_matrices


def _solve_layer(layer, grid, A_inv, b, w_src, h_src):
    p = np.stack([grid.xs, grid.ys, np.ones_like(grid.xs)], -1)
    u = p @ A_inv.T  # (ny, nx, 3)
    v = A_inv @ b
    field_ = layer.disparity
    fh, fw = field_.shape
    sx, sy = fw / w_src, fh / h_src
    wd = np.full(grid.xs.shape, float(np.median(field_)), np.float64)
    for _ in range(SOLVER_STEPS):
        g = wd * u[..., 2] / (1.0 - wd * v[2])
        q = u + g[..., None] * v
        qz = np.where(np.abs(q[..., 2]) > 1e-12, q[..., 2], 1e-12)
        qx, qy = q[..., 0] / qz, q[..., 1] / qz
        mx = ((qx + 0.5) * sx - 0.5).astype(np.float32)
        my = ((qy + 0.5) * sy - 0.5).astype(np.float32)
        wd = cv2.remap(field_, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float64)
    g = wd * u[..., 2] / (1.0 - wd * v[2])
    q = u + g[..., None] * v
    qz = q[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        qx, qy = q[..., 0] / qz, q[..., 1] / qz
    valid = (qz > 1e-9) & np.isfinite(qx) & np.isfinite(qy) & (np.abs(1.0 - wd * v[2]) > 1e-9)
    return qx, qy, wd, valid


def _layer_roi(layer, grid, qx, qy, valid, w, h, w_src, h_src):
    inside = valid & (qx > -1) & (qx < w_src) & (qy > -1) & (qy < h_src)
    if not inside.any():
        return None
    a = layer.rgba[..., 3]
    fh, fw = layer.disparity.shape
    small = cv2.resize(cv2.dilate(a, np.ones((3, 3), np.uint8)), (fw, fh), interpolation=cv2.INTER_AREA)
    small = cv2.dilate(small, np.ones((3, 3), np.uint8))
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


def render_frame(scene, path, grid, i, want_holes, want_depth, moving=None):
    resample = moving(i) if moving is not None else None  # living photos: see Moving
    w_src, h_src = scene.size
    w, h = path.width, path.height
    A, b = _frame_matrices(scene, path, i)
    A_inv = np.linalg.inv(A)
    out = None
    holes = np.zeros((h, w), np.uint8) if want_holes else None
    zbuf = np.zeros((h, w), np.float32) if want_depth else None
    for k, layer in enumerate(scene.layers):
        qx, qy, wd, valid = _solve_layer(layer, grid, A_inv, b, w_src, h_src)
        qx = np.where(valid, qx, -1e4)
        qy = np.where(valid, qy, -1e4)
        nodes = np.stack([qx, qy], -1).astype(np.float32)
        if k > 0:
            roi = _layer_roi(layer, grid, qx, qy, valid, w, h, w_src, h_src)
            if roi is None:
                continue
        else:
            roi = (0, 0, w, h)
        x0, y0, x1, y1 = roi
        border = cv2.BORDER_REPLICATE if k == 0 else cv2.BORDER_CONSTANT
        src = layer.rgba if k > 0 else layer.rgba[..., :3]
        warped = resample(k, src, nodes, grid, roi, border) if resample is not None else None
        if warped is None or want_holes or want_depth:
            maps = grid.upsample(nodes, w, h)[y0:y1, x0:x1]
            m1, m2 = cv2.convertMaps(np.ascontiguousarray(maps), None, cv2.CV_16SC2)
        if warped is None:
            warped = cv2.remap(src, m1, m2, cv2.INTER_LINEAR, borderMode=border, borderValue=0)
        if k == 0:
            out = warped.copy()
            alpha = None
        else:
            alpha = warped[..., 3]
            inv = cv2.merge([255 - alpha] * 3)
            region = out[y0:y1, x0:x1]
            out[y0:y1, x0:x1] = cv2.add(warped[..., :3], cv2.multiply(region, inv, scale=1.0 / 255.0))
        if want_holes or want_depth:
            _extra_channels(layer, k, m1, m2, alpha, roi, holes, zbuf, grid, nodes, wd, valid, A, b, w, h)
    return Frame(image=out, holes=holes, depth=zbuf)


def iter_frames(scene, path, *, holes=False, depth=False, moving=None):
    grid = parallax._Grid.for_size(path.width, path.height)
    for i in range(path.num_frames):
        yield render_frame(scene, path, grid, i, holes, depth, moving)
