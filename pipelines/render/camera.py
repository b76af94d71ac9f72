"""The camera contract (docs/camera-contract.md): pinhole, OpenCV axes (x right, y down, z forward), camera-to-world
4x4 poses, intrinsics from a horizontal field of view, pixel centres at integers.

Preset moves are pure functions of normalised time t in [0, 1] that return the whole trajectory; their
size is normalised from the scene's depth so "strength 1" means the same visible motion on any photo.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from typing import Any, Callable

import numpy as np

from pipelines.core import paths, schema
from pipelines.depth import DepthMap
from pipelines.core.errors import InputError

PRESET_DIR = paths.PRESETS / "camera"

#: Fraction of the frame width the nearest subject moves at strength 1 (the middle of 6-8 %).
FULL_STRENGTH_MOTION = 0.07


def intrinsics(fov_deg: float, width: int, height: int) -> np.ndarray:
    """3x3 K: fx = fy = (W/2) / tan(fov/2), cx = (W-1)/2, cy = (H-1)/2 (pixel centres at integers)."""
    if not (0.0 < fov_deg < 180.0):
        raise InputError(f"fov_deg must be in (0, 180), got {fov_deg}")
    f = (width / 2.0) / math.tan(math.radians(fov_deg) / 2.0)
    return np.array([[f, 0.0, (width - 1) / 2.0], [0.0, f, (height - 1) / 2.0], [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class CameraPath:
    """A camera trajectory, one entry per output frame.

    poses: (T, 4, 4) float64 camera-to-world matrices (rotation orthonormal, last row 0 0 0 1); the
        source photo's camera is the identity.
    fov_deg: (T,) float64 horizontal field of view per frame (a changing value is a zoom).
    width, height: output frame size in pixels.
    loop: the path is closed: the frame after the last would be the first.
    source_fov_deg: horizontal field of view of the photo (the identity camera); defaults to fov_deg[0].
        It differs from fov_deg[0] when frame 0 is a crop of the photo (another aspect ratio).
    """

    poses: np.ndarray
    fov_deg: np.ndarray
    width: int
    height: int
    loop: bool = False
    source_fov_deg: float | None = None

    def __post_init__(self):
        poses = np.asarray(self.poses, dtype=np.float64)
        if poses.ndim != 3 or poses.shape[1:] != (4, 4) or len(poses) < 1:
            raise InputError(f"poses must be a non-empty list of 4x4 matrices, got shape {poses.shape}")
        fov = np.asarray(self.fov_deg, dtype=np.float64).reshape(-1)
        if fov.size == 1:
            fov = np.repeat(fov, len(poses))
        if fov.shape != (len(poses),):
            raise InputError(f"fov_deg must be one value or one per pose ({len(poses)}), got {fov.size}")
        if not (np.isfinite(poses).all() and np.isfinite(fov).all()):
            raise InputError("camera path has NaN or infinite values; every pose and fov must be finite")
        if ((fov <= 0) | (fov >= 180)).any():
            raise InputError(f"fov_deg must be in (0, 180) degrees, got {fov.min():g}..{fov.max():g}")
        rot = poses[:, :3, :3]
        err = np.abs(rot @ rot.transpose(0, 2, 1) - np.eye(3)).max()
        if err > 1e-4 or (np.linalg.det(rot) < 0).any():
            raise InputError(f"pose rotations must be orthonormal with det +1 (error {err:.2g}); "
                             "poses are camera-to-world 4x4 matrices, row-major")
        if np.abs(poses[:, 3] - [0, 0, 0, 1]).max() > 1e-6:
            raise InputError("each pose's last row must be [0, 0, 0, 1] (row-major 4x4)")
        for name, v in (("width", self.width), ("height", self.height)):
            if not isinstance(v, (int, np.integer)) or not 2 <= int(v) <= 8192:
                raise InputError(f"{name} must be an integer in 2..8192, got {v!r}")
        src = float(fov[0]) if self.source_fov_deg is None else float(self.source_fov_deg)
        if not (math.isfinite(src) and 0 < src < 180):
            raise InputError(f"source_fov_deg must be in (0, 180) degrees, got {self.source_fov_deg!r}")
        object.__setattr__(self, "source_fov_deg", src)
        object.__setattr__(self, "poses", poses)
        object.__setattr__(self, "fov_deg", fov)
        object.__setattr__(self, "width", int(self.width))
        object.__setattr__(self, "height", int(self.height))

    @property
    def num_frames(self) -> int:
        return len(self.poses)

    def K(self, i: int) -> np.ndarray:
        """Intrinsics of frame i."""
        return intrinsics(float(self.fov_deg[i]), self.width, self.height)

    def to_json(self) -> dict:
        fov = self.fov_deg
        out = {"fov_deg": float(fov[0]), "width": self.width, "height": self.height,
               "poses": [[float(x) for x in p.reshape(-1)] for p in self.poses]}
        if np.ptp(fov) > 0:
            out["fov_deg"] = [float(x) for x in fov]
        if self.loop:
            out["loop"] = True
        if abs(self.source_fov_deg - float(fov[0])) > 1e-12:
            out["source_fov_deg"] = self.source_fov_deg
        return out


def load_path(path: str | os.PathLike) -> CameraPath:
    """Read a camera path JSON file (docs/camera-contract.md): ``{"fov_deg", "width", "height", "poses": [[16]]}``."""
    from pipelines.core.jsonfile import read_json

    return path_from_json(read_json(path, "camera path file"), f"camera path {str(path)!r}")


def path_from_json(data: Any, where: str = "camera path") -> CameraPath:
    """A CameraPath from the camera contract's JSON object (as :meth:`CameraPath.to_json` writes it)."""
    if not isinstance(data, dict):
        raise InputError(f"{where} must be a JSON object with fov_deg, width, height, poses")
    missing = [k for k in ("fov_deg", "width", "height", "poses") if k not in data]
    if missing:
        raise InputError(f"{where} lacks {', '.join(missing)}; a camera path is "
                         '{"fov_deg": 60.0, "width": W, "height": H, "poses": [[16 floats], ...]} '
                         "(docs/camera-contract.md)")
    try:
        poses = np.asarray(data["poses"], dtype=np.float64)
        fov = np.asarray(data["fov_deg"], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where} has non-numeric poses or fov_deg: {exc}") from exc
    if poses.size == 0:
        raise InputError(f"{where} has zero poses; give at least one frame")
    if poses.ndim != 2 or poses.shape[1] != 16:
        raise InputError(f"{where}: each pose must be 16 numbers (a row-major 4x4), got shape {poses.shape}")
    return CameraPath(poses.reshape(-1, 4, 4), fov, data["width"], data["height"], bool(data.get("loop", False)),
                      data.get("source_fov_deg"))


def save_path(cam: CameraPath, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.write_text(json.dumps(cam.to_json()))
    return path


# ----------------------------------------------------------------------------------------------------
# Presets


@lru_cache(maxsize=1)
def _presets() -> dict[str, schema.CameraPreset]:
    out = {}
    for f in sorted(PRESET_DIR.glob("*.json")):
        p = schema.validate(schema.CameraPreset, **json.loads(f.read_text()))
        if p.name != f.stem:
            raise InputError(f"preset file {f.name} names itself {p.name!r}; the names must match")
        out[p.name] = p
    return out


def list_presets() -> list[str]:
    """Names of the camera presets under presets/camera/."""
    return list(_presets())


def get_preset(name: str) -> schema.CameraPreset:
    presets = _presets()
    if not isinstance(name, str) or name not in presets:
        raise InputError(f"unknown preset {schema.short(name)}; choose one of: {', '.join(presets)}")
    return presets[name]


def _ease(kind: str, t: np.ndarray) -> np.ndarray:
    if kind == "linear":
        return t
    if kind == "smooth":
        return t * t * (3 - 2 * t)
    if kind == "ease-in":
        return t * t
    if kind == "ease-out":
        return 1 - (1 - t) ** 2
    if kind == "sine":
        return 0.5 - 0.5 * np.cos(np.pi * t)
    raise InputError(f"unknown easing {kind!r}")


def _rot_y(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(a), np.ones_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def _rot_x(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(a), np.ones_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def _look_at(centres: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Rotations (T,3,3) whose z axis points from each centre to ``target``; y stays as down as possible."""
    fwd = target[None] - centres
    fwd /= np.linalg.norm(fwd, axis=1, keepdims=True)
    right = np.cross(np.array([0.0, 1.0, 0.0])[None], fwd)
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    down = np.cross(fwd, right)
    return np.stack([right, down, fwd], axis=-1)


@dataclass(frozen=True)
class _Variant:
    """What the seed picks within a preset."""

    easing: str
    direction: np.ndarray  # unit 3-vector for translations
    pitch_ratio: float  # vertical share of an orbit
    phase: float  # circle start angle, radians
    spin: float  # circle direction, +1 or -1


def _variant(preset: schema.CameraPreset, seed: int) -> _Variant:
    rng = np.random.default_rng([seed, 0x5EED])
    easing = preset.easing or str(rng.choice(["smooth", "sine", "ease-out", "ease-in", "linear"],
                                             p=[0.35, 0.25, 0.2, 0.1, 0.1]))
    jit = math.radians(preset.jitter_deg)
    d = np.asarray(preset.translate, dtype=np.float64)
    if np.linalg.norm(d) > 0:
        d = d / np.linalg.norm(d)
        # Wobble the direction by up to jitter_deg about two axes perpendicular to it.
        a = np.array([1.0, 0, 0]) if abs(d[0]) < 0.9 else np.array([0, 1.0, 0])
        u = np.cross(d, a)
        u /= np.linalg.norm(u)
        v = np.cross(d, u)
        du, dv = rng.uniform(-jit, jit, 2)
        d = d + math.tan(du) * u + math.tan(dv) * v
        d /= np.linalg.norm(d)
    else:
        rng.uniform(-jit, jit, 2)  # keep the stream aligned across presets
    return _Variant(easing=easing, direction=d, pitch_ratio=float(rng.uniform(-1, 1) * math.tan(jit)),
                    phase=float(rng.uniform(0, 2 * math.pi)), spin=float(rng.choice([-1.0, 1.0])))


@dataclass(frozen=True)
class SceneStats:
    """What a preset needs to know of a scene: subject depth and a sparse set of 3-D points."""

    z_subject: float  # z-depth of the nearest subject (a low percentile of z)
    points: np.ndarray  # (N, 3) source-camera points of the whole scene, for measuring visible motion
    near: np.ndarray  # (N,) bool, the nearest third of ``points``
    border: np.ndarray  # (M, 3) points on the photo's border, for keeping the frame covered


def scene_stats(depth: DepthMap, fov_deg: float) -> SceneStats:
    import cv2

    w, h = depth.size
    small_w, small_h = max(2, min(64, w)), max(2, min(64, round(64 * h / w)))
    z = cv2.resize(depth.z, (small_w, small_h), interpolation=cv2.INTER_AREA).astype(np.float64)
    K = intrinsics(fov_deg, w, h)
    ys, xs = np.mgrid[0:small_h, 0:small_w].astype(np.float64)
    xs = (xs + 0.5) * w / small_w - 0.5
    ys = (ys + 0.5) * h / small_h - 0.5
    rays = np.stack([(xs - K[0, 2]) / K[0, 0], (ys - K[1, 2]) / K[1, 1], np.ones_like(xs)], -1)
    pts = (rays * z[..., None]).reshape(-1, 3)
    zf = z.reshape(-1)
    near = zf <= np.quantile(zf, 0.33)
    # Border points sit on the photo's outer edge (pixel centres +- 0.5), at the depth found there.
    u = np.linspace(-0.5, w - 0.5, 65)
    v = np.linspace(-0.5, h - 0.5, 65)
    bx = np.concatenate([u, u, np.full_like(v, -0.5), np.full_like(v, w - 0.5)])
    by = np.concatenate([np.full_like(u, -0.5), np.full_like(u, h - 0.5), v, v])
    bz = depth.z[np.clip(np.rint(by), 0, h - 1).astype(int), np.clip(np.rint(bx), 0, w - 1).astype(int)]
    border = np.stack([(bx - K[0, 2]) / K[0, 0] * bz, (by - K[1, 2]) / K[1, 1] * bz, bz], -1)
    return SceneStats(float(np.quantile(depth.z, 0.1)), pts, near, border.astype(np.float64))


def _project(points: np.ndarray, poses: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(N,3) world points into each camera: (T, N, 2) pixels (NaN behind the camera)."""
    R, C = poses[:, :3, :3], poses[:, :3, 3]
    # R^T (X - C), one (T, N) plane per axis: the products summed in the same order as a matrix product
    # written out (einsum's), so the same bits, at half the cost of einsum's general loop.
    d0, d1, d2 = (points[None, :, j] - C[:, j, None] for j in range(3))
    x, y, z = (d0 * R[:, 0, i, None] + d1 * R[:, 1, i, None] + d2 * R[:, 2, i, None] for i in range(3))
    z = np.where(z > 1e-9, z, np.nan)
    return np.stack([x / z * K[:, 0, 0, None] + K[:, 0, 2, None], y / z * K[:, 1, 1, None] + K[:, 1, 2, None]], -1)


def _trajectory(preset: schema.CameraPreset, var: _Variant, stats: SceneStats, amount: float,
                t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Poses (T,4,4) and focal multipliers (T,) of a preset at ``amount`` (1 = the preset's nominal size)."""
    zs = stats.z_subject
    e = t if preset.loop else _ease(var.easing, t)
    n = len(t)
    C = np.zeros((n, 3))
    R = np.repeat(np.eye(3)[None], n, axis=0)
    focal = np.ones(n)
    if np.linalg.norm(preset.translate) > 0:
        C += np.outer(e * amount * np.linalg.norm(preset.translate) * zs, var.direction)
    if preset.orbit_deg:
        yaw = np.radians(preset.orbit_deg) * amount * e
        pitch = yaw * var.pitch_ratio
        R_orb = _rot_y(-yaw) @ _rot_x(pitch)
        pivot = np.array([0.0, 0.0, zs])
        C += pivot - R_orb @ pivot
        R = R_orb
    if any(preset.circle):
        a = 2 * np.pi * t * var.spin + var.phase
        rx, ry = preset.circle
        C += np.stack([rx * (np.cos(a) - math.cos(var.phase)), ry * (np.sin(a) - math.sin(var.phase)),
                       np.zeros(n)], -1) * amount * zs
        R = _look_at(C, np.array([0.0, 0.0, 2.0 * zs]))
    if preset.dolly_zoom:
        focal *= (zs - C[:, 2]) / zs  # the subject keeps its size while the camera moves along z
    if preset.zoom != 1.0:
        focal *= (1.0 + (preset.zoom - 1.0) * amount) ** e
    if preset.flat and any(preset.pan):
        # A flat move pans by turning the camera: a pure rotation shows no parallax.
        px, py = preset.pan
        R = _rot_y(var.spin * np.arctan(px * amount * e)) @ _rot_x(-np.arctan(py * amount * e))
    poses = np.repeat(np.eye(4)[None], n, axis=0)
    poses[:, :3, :3] = R
    poses[:, :3, 3] = C
    return poses, focal


def _coverage_zoom(poses: np.ndarray, K: np.ndarray, border: np.ndarray, w: int, h: int) -> np.ndarray:
    """Per-frame focal multiplier (>= 1) that keeps the photo's border outside the output frame."""
    uv = _project(border, poses, K)  # (T, M, 2)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    dx, dy = uv[..., 0] - cx, uv[..., 1] - cy
    # A border point must stay beyond the frame edge on its own side, measured from the centre.
    with np.errstate(invalid="ignore", divide="ignore"):
        need_x = np.where(np.abs(dx) > 1e-6, (cx + 0.5) / np.abs(dx), np.inf)
        need_y = np.where(np.abs(dy) > 1e-6, (cy + 0.5) / np.abs(dy), np.inf)
    need = np.where(np.abs(dx) / (cx + 0.5) >= np.abs(dy) / (cy + 0.5), need_x, need_y)
    need = np.nan_to_num(need, nan=1.0, posinf=1.0)
    return np.clip(need.max(axis=1), 1.0, 2.0)


#: Halvings of the strength search: the amount is found to 2**-40 of its bracket.
BISECTION_STEPS = 40


def bisect(f: Callable[[float], float], target: float, lo: float, hi: float, steps: int) -> float:
    """The answer of ``steps`` halvings of [lo, hi] toward where nondecreasing ``f`` reaches ``target``
    (the midpoint of the last interval; f(lo) < target assumed), in about a third of the calls to ``f``.

    Every halving point is a dyadic point lo + k * (hi - lo) / 2**steps, exact in floating point, and for a
    nondecreasing ``f`` plain bisection ends in the one cell [c, c + d] of that grid with f(c) < target <=
    f(c + d). Regula falsi (Illinois) narrows a bracket to one cell width in a handful of calls; that cell or
    its right neighbour is the one, so the answer (and every frame rendered from it) is bit for bit plain
    bisection's. Falls back to plain bisection when ``f`` does not reach ``target`` by ``hi``."""
    d = (hi - lo) / 2 ** steps
    f_hi = f(hi)
    if not f_hi >= target:
        a, b = lo, hi
        for _ in range(steps):
            mid = (a + b) / 2
            a, b = (mid, b) if f(mid) < target else (a, mid)
        return (a + b) / 2
    a, b, fa, fb, side = lo, hi, f(lo) - target, f_hi - target, 0
    for _ in range(4 * steps):
        if b - a <= d:
            break
        x = (a * fb - b * fa) / (fb - fa) if fb != fa else (a + b) / 2
        if not a < x < b:
            x = (a + b) / 2
        fx = f(x) - target
        if fx < 0:
            a, fa = x, fx
            if side == -1:
                fb /= 2  # Illinois: the end that keeps its place counts for less, so both ends move
            side = -1
        else:
            b, fb = x, fx
            if side == 1:
                fa /= 2
            side = 1
    k = math.floor((a - lo) / d)
    c = lo + k * d
    if c + d < b and f(c + d) < target:
        c += d
    return (c + (c + d)) / 2


def preset_path(preset: str | schema.CameraPreset, depth: DepthMap,
                settings: schema.RenderSettings) -> CameraPath:
    """The camera path of a preset for this scene, at the settings' strength, seed, duration, fps and size.

    Strength is normalised: at the move's peak the nearest third of the scene (90th percentile), or the
    scene as a whole (median) when that moves more, shifts by ``strength * 7 %`` of the frame width,
    whatever the photo's depth range.
    """
    p = get_preset(preset) if isinstance(preset, str) else preset
    w_src, h_src = depth.size
    # Without an explicit size the photo's is used, rounded down to even numbers (video needs yuv420p).
    w = settings.width or (w_src if settings.height is None else round(settings.height * w_src / h_src))
    h = settings.height or (h_src if settings.width is None else round(settings.width * h_src / w_src))
    if settings.width is None:
        w -= w % 2
    if settings.height is None:
        h -= h % 2
    # The output frustum fits inside the photo's ("cover"): same centre, the narrower of the two fovs.
    tan_src = math.tan(math.radians(settings.fov_deg) / 2)
    tan_out = min(tan_src, tan_src * (h_src / w_src) * (w / h))
    fov0 = math.degrees(2 * math.atan(tan_out))
    K0 = intrinsics(fov0, w, h)
    stats = scene_stats(depth, settings.fov_deg)
    n = settings.num_frames
    t = np.arange(n) / n if p.loop else (np.arange(n) / max(n - 1, 1))
    var = _variant(p, settings.seed)

    def motion(amount: float, tt: np.ndarray) -> float:
        poses, focal = _trajectory(p, var, stats, amount, tt)
        Ks = np.repeat(K0[None], len(tt), axis=0)
        Ks[:, 0, 0] *= focal
        Ks[:, 1, 1] *= focal
        uv = _project(stats.points, poses, Ks)
        disp = np.nan_to_num(np.linalg.norm(uv - uv[:1], axis=-1), nan=w)
        # The nearest subject (a truck, a dolly) or, when it is the pivot (an orbit), the scene around it.
        near = np.quantile(disp[:, stats.near], 0.9, axis=1)
        whole = np.quantile(disp, 0.5, axis=1)
        return float(np.maximum(near, whole).max()) / w

    target = FULL_STRENGTH_MOTION * settings.strength
    probe_t = np.linspace(0, 1, 17)[:-1] if p.loop else np.linspace(0, 1, 17)
    amount = 0.0
    if target > 0 and motion(1.0, probe_t) > 0:
        lo, hi = 0.0, 1.0
        while motion(hi, probe_t) < target and hi < 64:
            lo, hi = hi, hi * 2
        amount = bisect(lambda a: motion(a, probe_t), target, lo, hi, BISECTION_STEPS)
    poses, focal = _trajectory(p, var, stats, amount, t)
    Ks = np.repeat(K0[None], n, axis=0)
    Ks[:, 0, 0] *= focal
    Ks[:, 1, 1] *= focal
    focal = focal * _coverage_zoom(poses, Ks, stats.border, w, h)
    fov = np.degrees(2 * np.arctan(tan_out / focal))
    return CameraPath(poses, fov, w, h, loop=p.loop, source_fov_deg=settings.fov_deg)
